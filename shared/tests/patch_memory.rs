//! Documents that receive changes stay the size of a freshly loaded copy: Automerge keeps
//! a record of applied operations in every `AutoCommit` (patches nobody asked for) until
//! `shared::protocol::forget_patches` drops it. Measured with a counting allocator, so
//! this binary holds this one test.

#![allow(unsafe_code, reason = "a counting allocator: each call passed on to the system's")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use automerge::sync::{self, SyncDoc as _};
use automerge::transaction::Transactable as _;
use automerge::{ActorId, AutoCommit, ObjType, ROOT};
use shared::protocol::forget_patches;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: the caller upholds `alloc`'s contract, which is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        LIVE.fetch_add(size as isize - layout.size() as isize, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(pointer, layout, size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes still allocated by what `make` returns, measured while it is alive.
fn size_of_kept<T>(make: impl FnOnce() -> T) -> (T, isize) {
    let before = LIVE.load(Ordering::Relaxed);
    let kept = make();
    (kept, LIVE.load(Ordering::Relaxed) - before)
}

/// A round of 60 answered items, one change per answer.
fn answered_round() -> AutoCommit {
    let mut doc = AutoCommit::new().with_actor(ActorId::from([7; 16]));
    let answers = doc.put_object(ROOT, "answers", ObjType::Map).unwrap();
    doc.commit();
    for item in 0..60 {
        let answer = doc.put_object(&answers, format!("item-{item}"), ObjType::Map).unwrap();
        doc.put(&answer, "value", "pass").unwrap();
        doc.put(&answer, "by", "inspector").unwrap();
        doc.put(&answer, "at", 1_790_000_000_000_i64 + item).unwrap();
        doc.commit();
    }
    doc
}

#[test]
fn documents_that_receive_changes_keep_no_record_of_them() {
    let mut source = answered_round();
    let saved = source.save();
    let first_change = source.get_changes(&[]).first().unwrap().raw_bytes().to_vec();
    let (fresh, fresh_size) = size_of_kept(|| AutoCommit::load(&saved).unwrap());

    // Changes loaded onto a copy that already has the first of them.
    let (loaded, loaded_size) = size_of_kept(|| {
        let mut doc = AutoCommit::new();
        doc.load_incremental(&first_change).unwrap();
        doc.load_incremental(&saved).unwrap();
        forget_patches(&mut doc);
        doc
    });

    // Changes received through sync messages, as the client and server roles receive them.
    let (synced, synced_size) = size_of_kept(|| {
        let mut doc = AutoCommit::new();
        doc.load_incremental(&first_change).unwrap();
        let (mut theirs, mut ours) = (sync::State::new(), sync::State::new());
        for _ in 0..10 {
            let Some(message) = source.sync().generate_sync_message(&mut theirs) else { break };
            doc.sync().receive_sync_message(&mut ours, message).unwrap();
            forget_patches(&mut doc);
            if let Some(reply) = doc.sync().generate_sync_message(&mut ours) {
                source.sync().receive_sync_message(&mut theirs, reply).unwrap();
            }
        }
        (doc, ours)
    });

    let (mut loaded, mut synced_doc) = (loaded, synced.0);
    assert_eq!(loaded.get_heads(), source.get_heads());
    assert_eq!(synced_doc.get_heads(), source.get_heads());
    // A copy built change by change is somewhat larger than one loaded whole (about 1.4×
    // here, sync states included); with the record of its 240 operations kept, it was
    // 2.9× (80.6 KB against 28.2 KB).
    let limit = fresh_size + fresh_size / 2;
    assert!(loaded_size <= limit, "loaded incrementally: {loaded_size} bytes, fresh load: {fresh_size}");
    assert!(synced_size <= limit, "synced: {synced_size} bytes, fresh load: {fresh_size}");
    drop(fresh);
}
