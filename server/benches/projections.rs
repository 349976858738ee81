//! How the dashboards scale: a site's measures over 50,000 documents' projections, and
//! rebuilding every projection from storage. One-shot timings (a rebuild takes tens of
//! seconds; repeating it for statistics would take an hour), printed as a table.
//!
//! `cargo bench -p server --bench projections` (`-- N` for another number of documents).

use std::time::Instant;

use automerge::ActorId;
use server::Storage;
use server::documents::DocumentStore;
use server::projections::Projections;
use shared::directory::{SiteId, Username};
use shared::document::inspection::{AnswerValue, Inspection, NewInspection};
use shared::document::work_order::{Category, EventKind, NewWorkOrder, Priority, Rating, WorkOrder};
use shared::document::{Edit, EntryId, seeds};
use shared::kpi::{Period, compute};
use shared::projection::summaries;
use shared::protocol::DocumentId;
use shared::time::{Span, Timestamp};

/// Where the benchmark's made-up history begins.
const EPOCH: Timestamp = Timestamp::from_millis(1_700_000_000_000);

fn edit(user: &str, at: Timestamp) -> Edit {
    Edit::new(Username::parse(user).unwrap(), at)
}

/// Document `index`: two thirds work orders in various states, one third submitted
/// electrical rounds, spread over a year.
fn document(index: usize, hq: &SiteId) -> automerge::AutoCommit {
    let at = EPOCH.plus(Span::days(index as i64 % 365)).plus_millis(index as i64 * 1_000);
    let actor = ActorId::from((index as u128).to_be_bytes());
    if index % 3 == 2 {
        let checklist = seeds::electrical();
        let new = NewInspection {
            site: hq.clone(),
            template: "automerge:template".into(),
            checklist: checklist.clone(),
            location: format!("room-{}", index % 40),
            rooms: Vec::new(),
            assignees: Vec::new(),
        };
        let mut round = Inspection::start(actor, &new, &edit("inspector", at)).unwrap();
        for (number, item) in checklist.items.iter().enumerate() {
            let value = if number % 7 == index % 7 { AnswerValue::NotApplicable } else { AnswerValue::Pass };
            let _ = round.answer(None, &item.id, &value, &edit("inspector", at.plus(Span::MINUTE)));
        }
        let _ = round.submit(&edit("inspector", at.plus(Span::minutes(2))));
        return round.into_doc();
    }
    let new = NewWorkOrder {
        site: hq.clone(),
        title: format!("报修 {index}"),
        description: "空调不制冷".into(),
        location: format!("room-{}", index % 40),
        asset: Some(format!("asset-{}", index % 200)),
        category: Category::Hvac,
        priority: Priority::ALL[index % Priority::ALL.len()],
        due_at: Some(at.plus(Span::DAY)),
        source: None,
    };
    let mut order = WorkOrder::report(actor, &new, &EntryId::parse("reported").unwrap(), &edit("inspector", at)).unwrap();
    let steps = [
        EventKind::Assigned { assignee: Username::parse("tech").unwrap() },
        EventKind::Acknowledged,
        EventKind::Started,
        EventKind::Completed { notes: "清洗滤网".into() },
        EventKind::Verified { rating: Rating::new(4).unwrap(), comment: String::new() },
    ];
    for (number, step) in steps.iter().take(index % 6).enumerate() {
        order.record(
            &EntryId::parse(&format!("e{number}")).unwrap(),
            step,
            &edit("tech", at.plus(Span::minutes(10 * (number as i64 + 1)))),
        );
    }
    order.into_doc()
}

fn main() {
    let count: usize = std::env::args().skip(1).find_map(|arg| arg.parse().ok()).unwrap_or(50_000);
    let data = tempfile::tempdir().unwrap();
    let storage = Storage::open(data.path()).unwrap();
    let store = DocumentStore::open(&storage).unwrap();
    let hq = SiteId::parse("hq").unwrap();
    let started = Instant::now();
    for index in 0..count {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&(index as u64).to_be_bytes());
        store.append(&DocumentId::from_bytes(bytes), &document(index, &hq).save()).unwrap();
    }
    tokio::runtime::Runtime::new().unwrap().block_on(storage.flush()).unwrap();
    let stored = started.elapsed();

    let projections = Projections::open(&storage).unwrap();
    let started = Instant::now();
    let rebuilt = projections.rebuild().unwrap();
    let rebuild = started.elapsed();
    assert_eq!(rebuilt.projected, count, "{rebuilt:?}");

    let period = Period { from: EPOCH.plus(Span::days(30)), to: EPOCH.plus(Span::days(120)) };
    let now = EPOCH.plus(Span::days(400));
    let mut read_times = Vec::new();
    let mut compute_times = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        let site = projections.site(&hq).unwrap();
        let read = started.elapsed();
        let started = Instant::now();
        let (orders, inspections, stocktakes) = summaries(&site);
        let kpis = compute(period, now, &orders, &inspections, &stocktakes);
        compute_times.push(started.elapsed());
        read_times.push(read);
        assert_eq!(site.len(), count);
        assert!(kpis.reported > 0 && kpis.inspections > 0);
    }
    read_times.sort();
    compute_times.sort();
    let ms = |duration: std::time::Duration| duration.as_secs_f64() * 1000.0;
    println!(
        "| documents | stored in | rebuild from storage | read a site's projections (median of 10) | compute the measures (median of 10) |"
    );
    println!("|---:|---:|---:|---:|---:|");
    println!(
        "| {count} | {:.1} s | {:.1} s ({:.0} documents/s) | {:.0} ms | {:.1} ms |",
        stored.as_secs_f64(),
        rebuild.as_secs_f64(),
        count as f64 / rebuild.as_secs_f64(),
        ms(read_times[5]),
        ms(compute_times[5]),
    );
}
