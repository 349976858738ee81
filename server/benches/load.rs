//! Loading a stored document back into memory (a document that left memory, the
//! projection worker behind a sustained push): a round that arrived change by change is
//! stored as one chunk per change, and `DocumentStore::load` reads them all at once.
//! Compared, in the same run: applying the chunks one by one (as the store did before),
//! all at once, and the compacted snapshot an idle document is stored as.
//!
//! `cargo bench -p server --bench load` (`-- N` for another number of documents).

use std::time::{Duration, Instant};

use automerge::{ActorId, AutoCommit};
use server::Storage;
use server::documents::DocumentStore;
use shared::directory::{SiteId, Username};
use shared::document::inspection::{AnswerValue, Inspection, NewInspection};
use shared::document::{Edit, seeds};
use shared::protocol::DocumentId;
use shared::time::Timestamp;

fn edit(at: i64) -> Edit {
    Edit::new(Username::parse("inspector").unwrap(), Timestamp::from_millis(at))
}

/// A fire-safety round answered item by item: its chunks (the round started, then one
/// per answer) and its compacted snapshot.
fn round(index: usize, hq: &SiteId) -> (Vec<Vec<u8>>, Vec<u8>) {
    let at = 1_700_000_000_000 + index as i64 * 1_000;
    let checklist = seeds::fire_safety();
    let new = NewInspection {
        site: hq.clone(),
        template: "automerge:template".into(),
        checklist: checklist.clone(),
        location: format!("room-{}", index % 40),
        rooms: Vec::new(),
        assignees: Vec::new(),
    };
    let mut doc = Inspection::start(ActorId::from((index as u128).to_be_bytes()), &new, &edit(at)).unwrap().into_doc();
    let mut chunks = vec![doc.save_incremental()];
    for (number, item) in checklist.items.iter().enumerate() {
        let mut round = Inspection::from_doc(doc).unwrap();
        let _ = round.answer(None, &item.id, &AnswerValue::Pass, &edit(at + 60_000 + number as i64));
        doc = round.into_doc();
        chunks.push(doc.save_incremental());
    }
    let snapshot = doc.save();
    (chunks, snapshot)
}

fn timed(mut load: impl FnMut()) -> Duration {
    let started = Instant::now();
    load();
    started.elapsed()
}

fn main() {
    let count: usize = std::env::args().skip(1).find_map(|arg| arg.parse().ok()).unwrap_or(2_000);
    let hq = SiteId::parse("hq").unwrap();
    let rounds: Vec<_> = (0..count).map(|index| round(index, &hq)).collect();
    let data = tempfile::tempdir().unwrap();
    let storage = Storage::open(data.path()).unwrap();
    let store = DocumentStore::open(&storage).unwrap();
    let ids: Vec<DocumentId> = (0..count).map(|index| DocumentId::from_random((index as u128 + 1).to_be_bytes())).collect();
    for (id, (chunks, _)) in ids.iter().zip(&rounds) {
        for chunk in chunks {
            store.append(id, chunk).unwrap();
        }
    }

    let per_document = |total: Duration| format!("{:.0} µs", total.as_secs_f64() * 1e6 / count as f64);
    println!(
        "{count} rounds of {} chunks each ({} bytes; compacted {} bytes)",
        rounds[0].0.len(),
        rounds[0].0.iter().map(Vec::len).sum::<usize>(),
        rounds[0].1.len()
    );
    println!("| loading | per document |");
    println!("|---|---:|");
    let one_by_one = timed(|| {
        for (chunks, _) in &rounds {
            let mut doc = AutoCommit::new();
            for chunk in chunks {
                doc.load_incremental(chunk).unwrap();
            }
        }
    });
    println!("| chunk by chunk, from memory | {} |", per_document(one_by_one));
    let at_once = timed(|| {
        for (chunks, _) in &rounds {
            AutoCommit::load(&chunks.concat()).unwrap();
        }
    });
    println!("| all chunks at once, from memory | {} |", per_document(at_once));
    let stored = timed(|| {
        for id in &ids {
            store.load(id).unwrap().unwrap();
        }
    });
    println!("| `DocumentStore::load` (sled, all at once) | {} |", per_document(stored));
    let snapshot = timed(|| {
        for (_, snapshot) in &rounds {
            AutoCommit::load(snapshot).unwrap();
        }
    });
    println!("| the compacted snapshot, from memory | {} |", per_document(snapshot));
}
