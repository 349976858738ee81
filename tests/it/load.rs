//! The load generator (`tests::load`, behind `cargo xtask bench`) against an in-process
//! server with a handful of phones: every phase finishes, every trickled change is timed
//! at its partner, and the server ends up with both sides' offline edits merged.

use std::time::Duration;

use shared::document::inspection::Inspection;
use shared::document::work_order::WorkOrder;
use tests::load::{self, Endpoints, Observer, Phase, PhaseFigures, Workload};

use crate::support::TestServer;

#[derive(Default)]
struct Record {
    seen: Vec<String>,
}

impl Observer for Record {
    fn phase_starts(&mut self, phase: Phase) {
        self.seen.push(format!("start {phase:?}"));
    }

    fn phase_ends(&mut self, phase: Phase, _figures: &PhaseFigures) {
        self.seen.push(format!("end {phase:?}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_generator_runs_every_phase_and_loses_no_edit() {
    let dist = tempfile::tempdir().unwrap();
    // Its phones write in many people's names, as benchmark peers without sessions do.
    let server = TestServer::start_anonymous(dist.path()).await;
    let phones = 4;
    let workload = Workload { phones, trickle_rate: 20.0, trickle_for: Duration::from_secs(1), patience: Duration::from_secs(120) };
    let anonymous = server.url("/sync").replacen("http://", "ws://", 1);
    let endpoints = Endpoints { field: vec![anonymous.clone(); phones], partners: vec![anonymous; phones] };
    let mut record = Record::default();
    let results = load::run(&workload, &endpoints, &mut record).await.unwrap();

    let expected: Vec<String> = Phase::ALL.iter().flat_map(|phase| [format!("start {phase:?}"), format!("end {phase:?}")]).collect();
    assert_eq!(record.seen, expected);
    let figures = |phase: Phase| &results.iter().find(|(of, _)| *of == phase).unwrap().1;
    let documents = phones * load::DOCUMENTS_PER_PHONE;
    assert_eq!(figures(Phase::Push).documents, documents);
    // Two inspections of 31 changes, two orders of 5, a stocktake of 21, per phone.
    assert_eq!(figures(Phase::Push).changes, phones * (2 * 31 + 2 * 5 + 21));
    assert_eq!(figures(Phase::Fetch).changes, figures(Phase::Push).changes);
    // Every field phone edits its five documents offline, every partner two of them.
    assert_eq!(figures(Phase::Reconnect).changes, phones * 7);
    let trickle = figures(Phase::Trickle);
    assert_eq!(trickle.changes, 20);
    assert_eq!(trickle.latencies.len(), 20, "every trickled change is timed at its partner");
    assert!(trickle.latencies.windows(2).all(|pair| pair[0] <= pair[1]), "latencies are sorted");
    for phase in Phase::ALL {
        assert!(figures(phase).wire_bytes > 0, "{phase:?} moved no bytes");
    }

    // What the server keeps of phone 0's first inspection and first work order: the
    // field phone's offline note and the partner's, both.
    let round = server.state.documents.load(&load::document_id(0, 0)).unwrap().unwrap();
    let notes: Vec<String> =
        Inspection::from_doc(round).unwrap().read().unwrap().notes.into_iter().map(|note| note.id.to_string()).collect();
    assert!(notes.contains(&"field-offline".to_owned()) && notes.contains(&"partner-offline".to_owned()), "{notes:?}");
    let order = server.state.documents.load(&load::document_id(0, 2)).unwrap().unwrap();
    let comments: Vec<String> =
        WorkOrder::from_doc(order).unwrap().read().unwrap().comments.into_iter().map(|comment| comment.id.to_string()).collect();
    assert!(comments.contains(&"field-offline".to_owned()) && comments.contains(&"partner-offline".to_owned()), "{comments:?}");
    server.stop().await.unwrap();
}
