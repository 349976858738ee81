//! Meters across phones: readings from a round and taken directly make one series, and a
//! run of readings out of limits seen on two phones offline raises one work order.

use automerge::{ActorId, AutoCommit};
use shared::directory::{SiteId, Username};
use shared::document::catalog::{Asset, CatalogView, Meter, MeterKind, RoundItem, SiteCatalog, round_reading_id};
use shared::document::inspection::{AnswerValue, Inspection, NewInspection};
use shared::document::work_order::{EventKind, PLANNER, Priority, WorkOrder};
use shared::document::{Edit, EntryId, seeds};
use shared::meter::{alarms, round_readings, series};
use shared::quantity::Quantity;
use shared::time::{Span, Timestamp};

const START: i64 = 1_790_000_000_000;

fn edit(user: &str, minutes: i64) -> Edit {
    Edit::new(Username::parse(user).unwrap(), Timestamp::from_millis(START).plus(Span::minutes(minutes)))
}

fn id(text: &str) -> EntryId {
    EntryId::parse(text).unwrap()
}

fn site() -> SiteId {
    SiteId::parse("hq").unwrap()
}

/// The extinguisher at `hq-b1`, its pressure read on fire-safety rounds: 1–2 MPa, three
/// readings out of limits raise an order.
fn catalog() -> SiteCatalog {
    let mut catalog = SiteCatalog::create(ActorId::from([1; 16]), &site(), "总部", &edit("admin", 0));
    let asset = Asset {
        id: id("ext-b1"),
        name: "B1 灭火器".into(),
        asset_type: "extinguisher".into(),
        tag: "EXT-B1".into(),
        place: Some(id("hq-b1")),
        installed_at: None,
    };
    catalog.put_asset(&asset, &edit("admin", 0)).unwrap();
    let meter = Meter {
        id: id("ext-b1-pressure"),
        name: "B1 灭火器压力".into(),
        asset: id("ext-b1"),
        kind: MeterKind::Reading,
        unit: "MPa".into(),
        tag: "M-EXT-B1".into(),
        low: Some(Quantity::units(1)),
        high: Some(Quantity::units(2)),
        alarm_after: Some(3),
        usage_limit: None,
        round_item: Some(RoundItem { template: "automerge:fire".into(), item: id("extinguisher-pressure") }),
    };
    catalog.put_meter(&meter, &edit("admin", 0)).unwrap();
    catalog
}

/// A fire-safety round at `location` whose extinguisher reads `pressure` thousandths of a MPa.
fn round(location: &str, pressure: i64, minutes: i64) -> Inspection {
    let new = NewInspection {
        site: site(),
        template: "automerge:fire".into(),
        checklist: seeds::fire_safety(),
        location: location.into(),
        rooms: Vec::new(),
        assignees: vec![Username::parse("inspector").unwrap()],
    };
    let mut round = Inspection::start(ActorId::from([2; 16]), &new, &edit("inspector", minutes)).unwrap();
    round.answer(None, &id("extinguisher-pressure"), &AnswerValue::Number(pressure), &edit("inspector", minutes + 5)).unwrap();
    round
}

/// Records what a round read of the catalog's meters, as the phone submitting it does.
fn record_round(catalog: &mut SiteCatalog, url: &str, round: &Inspection) -> usize {
    let readings = round_readings(&catalog.read().unwrap(), url, &round.read().unwrap());
    for reading in &readings {
        let at = Edit::new(Username::parse("inspector").unwrap(), reading.at);
        catalog.record_reading(&reading.id, &reading.meter, reading.value, Some(url), &at).unwrap();
    }
    readings.len()
}

fn view(doc: &AutoCommit) -> CatalogView {
    SiteCatalog::read_doc(doc).unwrap()
}

#[test]
fn a_meters_series_holds_its_rounds_readings_and_those_entered_directly() {
    let mut catalog = catalog();
    // A round at the extinguisher's place reads it; one elsewhere does not.
    assert_eq!(record_round(&mut catalog, "automerge:round-one", &round("hq-b1", 1_500, 10)), 1);
    assert_eq!(record_round(&mut catalog, "automerge:round-two", &round("hq-b2", 900, 20)), 0, "another place's extinguisher");
    // Submitting again, or on a second phone, records nothing more.
    assert_eq!(record_round(&mut catalog, "automerge:round-one", &round("hq-b1", 1_500, 10)), 0);
    catalog.record_reading(&id("direct-1"), &id("ext-b1-pressure"), Quantity::from_thousandths(1_200), None, &edit("tech", 30)).unwrap();
    let view = catalog.read().unwrap();
    let series = series(&id("ext-b1-pressure"), &view.readings);
    let points: Vec<(i64, Option<&str>, &str)> =
        series.iter().map(|reading| (reading.value.thousandths(), reading.round.as_deref(), reading.user.as_str())).collect();
    assert_eq!(points, vec![(1_500, Some("automerge:round-one"), "inspector"), (1_200, None, "tech")]);
    assert_eq!(series[0].at, edit("inspector", 15).at, "taken when the round's answer was given");
}

#[test]
fn three_readings_out_of_limits_raise_one_order_on_two_phones_offline() {
    let mut catalog = catalog();
    record_round(&mut catalog, "automerge:round-one", &round("hq-b1", 800, 10));
    catalog.record_reading(&id("direct-1"), &id("ext-b1-pressure"), Quantity::from_thousandths(700), None, &edit("tech", 30)).unwrap();
    let mut synced = catalog.into_doc();
    // Two phones hold the two readings out of limits; each takes the third offline.
    let mut first = SiteCatalog::from_doc(synced.fork().with_actor(ActorId::from([3; 16]))).unwrap();
    let mut second = SiteCatalog::from_doc(synced.fork().with_actor(ActorId::from([4; 16]))).unwrap();
    first.record_reading(&id("first-3"), &id("ext-b1-pressure"), Quantity::from_thousandths(600), None, &edit("tech", 60)).unwrap();
    second
        .record_reading(&id("second-3"), &id("ext-b1-pressure"), Quantity::from_thousandths(2_600), None, &edit("inspector", 61))
        .unwrap();
    let raise = |phone: &SiteCatalog| {
        let view = phone.read().unwrap();
        let meter = &view.meters[0];
        let found = alarms(meter, &series(&meter.id, &view.readings));
        assert_eq!(found.len(), 1, "the run reached three on this phone");
        WorkOrder::alarm(&site(), meter, found[0].first, "hq-b1").unwrap()
    };
    let (first_id, mut first_order) = raise(&first);
    let (second_id, mut second_order) = raise(&second);
    assert_eq!(first_id, second_id, "one order's id on both phones");
    first_order.doc_mut().merge(second_order.doc_mut()).unwrap();
    let order = first_order.read().unwrap();
    assert_eq!(order.events.len(), 1, "one order, reported once");
    assert!(matches!(order.events[0].kind, EventKind::Reported));
    assert_eq!((order.header.created_by.as_str(), order.priority, order.location.as_str()), (PLANNER, Priority::High, "hq-b1"));
    assert_eq!(order.title, "B1 灭火器压力: 0.8 MPa (1–2 MPa)");
    let alarm = order.alarm.expect("the order names the run");
    let round_reading = round_reading_id("automerge:round-one", &id("ext-b1-pressure"));
    assert_eq!((&alarm.meter, &alarm.first_reading, alarm.count), (&id("ext-b1-pressure"), &round_reading, 3));
    assert!(WorkOrder::planner_actor(&first_id, first_order.doc()).is_some(), "made under the actor its id derives");

    // Once the phones sync, the run holds four readings and still raises the one order.
    first.doc_mut().merge(second.doc_mut()).unwrap();
    let merged = view(first.doc());
    let meter = &merged.meters[0];
    let runs = alarms(meter, &series(&meter.id, &merged.readings));
    assert_eq!(runs.len(), 1);
    assert_eq!(WorkOrder::alarm_id(&site(), &meter.id, &runs[0].first.id), first_id);
}
