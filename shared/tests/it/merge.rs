//! Property tests of merge semantics: random edits on three replicas, merged in random
//! orders, must converge to one state with nobody's work lost.

use std::collections::BTreeMap;

use automerge::{ActorId, AutoCommit};
use proptest::prelude::*;
use shared::directory::{SiteId, Username};
use shared::document::stocktake::{Mode, NewStocktake, Stocktake};
use shared::document::work_order::{Category, EventKind, NewWorkOrder, Priority, Rating, WorkOrder, fold};
use shared::document::{Edit, EntryId};
use shared::quantity::Quantity;
use shared::time::Timestamp;

const USERS: [&str; 3] = ["tech", "manager", "inspector"];

fn edit(replica: usize, at: i64) -> Edit {
    Edit::new(Username::parse(USERS[replica]).unwrap(), Timestamp::from_millis(at))
}

fn actor(replica: usize) -> ActorId {
    ActorId::from(vec![replica as u8 + 1; 16])
}

/// Three replicas of one document: the first is the original, the others forks of it with
/// their own actors, as three phones that each synced it once.
fn replicas(mut original: AutoCommit) -> Vec<AutoCommit> {
    let second = original.fork().with_actor(actor(1));
    let third = original.fork().with_actor(actor(2));
    vec![original, second, third]
}

/// Merges every replica into every other, in the given order of pairs, then all to all.
fn sync_everyone(docs: &mut [AutoCommit]) {
    for _ in 0..2 {
        for into in 0..docs.len() {
            for from in 0..docs.len() {
                if into != from {
                    let mut source = docs[from].clone();
                    docs[into].merge(&mut source).unwrap();
                }
            }
        }
    }
}

fn merge_pair(docs: &mut [AutoCommit], into: usize, from: usize) {
    if into != from {
        let mut source = docs[from].clone();
        docs[into].merge(&mut source).unwrap();
    }
}

#[derive(Clone, Debug)]
enum OrderAction {
    Event(u8),
    Comment,
    Part(i64),
    Priority(u8),
    Description(usize, String),
    Merge(usize),
}

fn order_action() -> impl Strategy<Value = OrderAction> {
    prop_oneof![
        4 => (0u8..9).prop_map(OrderAction::Event),
        2 => Just(OrderAction::Comment),
        1 => (1i64..5000).prop_map(OrderAction::Part),
        1 => (0u8..4).prop_map(OrderAction::Priority),
        2 => (0usize..40, "[a-z ]{1,6}").prop_map(|(position, text)| OrderAction::Description(position, text)),
        2 => (0usize..3).prop_map(OrderAction::Merge),
    ]
}

fn event_kind(choice: u8) -> EventKind {
    let user = Username::parse("tech").unwrap();
    match choice {
        0 => EventKind::Assigned { assignee: user },
        1 => EventKind::Acknowledged,
        2 => EventKind::Started,
        3 => EventKind::Paused { reason: "waiting for parts".into() },
        4 => EventKind::Completed { notes: "replaced the capacitor".into() },
        5 => EventKind::Verified { rating: Rating::new(4).unwrap(), comment: "cold again".into() },
        6 => EventKind::Reopened { reason: "noisy".into() },
        7 => EventKind::Cancelled { reason: "duplicate".into() },
        _ => EventKind::Reported,
    }
}

fn new_order() -> WorkOrder {
    let new = NewWorkOrder {
        site: SiteId::parse("hq").unwrap(),
        title: "空调不制冷 Air conditioner not cooling".into(),
        description: "Room 301 unit blows warm air".into(),
        location: "hq-b1-301".into(),
        asset: Some("ac-301".into()),
        category: Category::Hvac,
        priority: Priority::Normal,
        due_at: None,
        source: None,
    };
    WorkOrder::report(actor(0), &new, &EntryId::parse("r0-report").unwrap(), &edit(0, 1_000)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn work_orders_converge_and_lose_nothing(steps in prop::collection::vec((0usize..3, order_action(), 0i64..100_000), 1..40)) {
        let mut docs = replicas(new_order().into_doc());
        let mut expected_events = vec!["r0-report".to_owned()];
        let mut expected_comments = Vec::new();
        let mut expected_parts = Vec::new();
        for (step, (replica, action, at)) in steps.iter().enumerate() {
            let edit = edit(*replica, 2_000 + at);
            let id = EntryId::parse(&format!("r{replica}-{step}")).unwrap();
            let mut order = WorkOrder::from_doc(docs[*replica].clone()).unwrap();
            match action {
                OrderAction::Event(choice) => {
                    order.record(&id, &event_kind(*choice), &edit);
                    expected_events.push(id.to_string());
                }
                OrderAction::Comment => {
                    order.add_comment(&id, "checked the breaker", None, &edit).unwrap();
                    expected_comments.push(id.to_string());
                }
                OrderAction::Part(thousandths) => {
                    order.add_part(&id, "capacitor-35uf", Quantity::from_thousandths(*thousandths), &edit).unwrap();
                    expected_parts.push(id.to_string());
                }
                OrderAction::Priority(choice) => order.set_priority(Priority::ALL[*choice as usize], &edit),
                OrderAction::Description(position, text) => {
                    let length = order.read().unwrap().description.chars().count();
                    order.edit_description((*position).min(length), 0, text, &edit).unwrap();
                }
                OrderAction::Merge(from) => {
                    let mut source = docs[*from].clone();
                    order.doc_mut().merge(&mut source).unwrap();
                }
            }
            docs[*replica] = order.into_doc();
        }
        sync_everyone(&mut docs);

        let views: Vec<_> = docs.iter().map(|doc| WorkOrder::from_doc(doc.clone()).unwrap().read().unwrap()).collect();
        let heads: Vec<_> = docs.iter_mut().map(|doc| { let mut heads = doc.get_heads(); heads.sort(); heads }).collect();
        prop_assert!(heads.windows(2).all(|pair| pair[0] == pair[1]), "replicas' heads differ");
        prop_assert!(views.windows(2).all(|pair| pair[0] == pair[1]), "replicas read differently");
        let view = &views[0];
        let mut events: Vec<String> = view.events.iter().map(|event| event.id.to_string()).collect();
        events.sort();
        expected_events.sort();
        prop_assert_eq!(events, expected_events);
        let mut comments: Vec<String> = view.comments.iter().map(|comment| comment.id.to_string()).collect();
        comments.sort();
        expected_comments.sort();
        prop_assert_eq!(comments, expected_comments);
        prop_assert_eq!(view.parts.len(), expected_parts.len());
        let states: Vec<_> = views.iter().map(shared::document::work_order::WorkOrderView::state).collect();
        prop_assert!(states.windows(2).all(|pair| pair[0] == pair[1]));
    }

    #[test]
    fn the_fold_ignores_arrival_order(kinds in prop::collection::vec((0u8..9, 0i64..50), 0..30), seed in any::<u64>()) {
        let user = Username::parse("tech").unwrap();
        let events: Vec<_> = kinds.iter().enumerate().map(|(index, (kind, at))| shared::document::work_order::Event {
            id: EntryId::parse(&format!("e{index}")).unwrap(),
            kind: event_kind(*kind),
            user: user.clone(),
            at: Timestamp::from_millis(*at),
        }).collect();
        let mut shuffled = events.clone();
        // A Fisher-Yates shuffle driven by the seed: another arrival order.
        let mut state = seed | 1;
        for index in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(index, (state % (index as u64 + 1)) as usize);
        }
        prop_assert_eq!(fold(Timestamp::from_millis(0), &events), fold(Timestamp::from_millis(0), &shuffled));
    }

    #[test]
    fn stocktake_totals_follow_the_bin_rule_on_every_replica(
        steps in prop::collection::vec((0usize..3, stocktake_action()), 1..40),
        merges in prop::collection::vec((0usize..3, 0usize..3), 0..20),
    ) {
        let items = ["gloves", "masks", "bulbs"];
        let new = NewStocktake {
            site: SiteId::parse("hq").unwrap(),
            location: "store-a".into(),
            mode: Mode::Blind,
            expected: vec![("gloves".into(), Quantity::units(100)), ("masks".into(), Quantity::units(50))],
            assets: Vec::new(),
        };
        let start = Stocktake::start(actor(0), &new, &edit(0, 1_000)).unwrap();
        let mut docs = replicas(start.doc().clone());
        for (step, (replica, action)) in steps.iter().enumerate() {
            let mut stocktake = Stocktake::from_doc(docs[*replica].clone()).unwrap();
            let id = EntryId::parse(&format!("r{replica}-{step}")).unwrap();
            let edit = edit(*replica, 2_000 + step as i64);
            match action {
                StocktakeAction::Count { bin, item, units } => stocktake.count(&id, &format!("shelf-{bin}"), items[*item], Quantity::units(*units), &edit).unwrap(),
                StocktakeAction::Recount { bin, item, units } => stocktake.recount(&id, &format!("shelf-{bin}"), items[*item], Quantity::units(*units), &edit).unwrap(),
                StocktakeAction::Settle { bin, item, units } => stocktake.settle(&id, &format!("shelf-{bin}"), items[*item], Quantity::units(*units), &edit).unwrap(),
                StocktakeAction::Correct { nth, units } => {
                    // Each replica is one counter: it corrects one of its own entries that still counts.
                    let view = stocktake.read().unwrap();
                    let replaced: Vec<&EntryId> = view.entries.iter().filter_map(|entry| entry.replaces.as_ref()).collect();
                    let own: Vec<EntryId> = view.entries.iter().filter(|entry| entry.counter.as_str() == USERS[*replica] && !replaced.contains(&&entry.id)).map(|entry| entry.id.clone()).collect();
                    match own.get(nth % own.len().max(1)) {
                        Some(original) => stocktake.correct(&id, original, Quantity::units(*units), &edit).unwrap(),
                        None => continue,
                    }
                }
            }
            docs[*replica] = stocktake.doc().clone();
            if let Some((into, from)) = merges.get(step) {
                merge_pair(&mut docs, *into, *from);
            }
        }
        sync_everyone(&mut docs);
        let views: Vec<_> = docs.iter().map(|doc| Stocktake::from_doc(doc.clone()).unwrap().read().unwrap()).collect();
        prop_assert!(views.windows(2).all(|pair| pair[0] == pair[1]), "replicas read differently");
        let view = &views[0];
        prop_assert!(views.iter().all(|other| other.totals() == view.totals() && other.bins() == view.bins()), "replicas total differently");

        // The rule, worked out here from the entries alone: per bin and item, the entries of
        // the highest round that are not corrected stand; a counter's entries there add up;
        // counters within half a unit agree on the lowest; a settlement (the latest) decides.
        let corrected: Vec<&EntryId> = view.entries.iter().filter_map(|entry| entry.replaces.as_ref()).collect();
        let standing: Vec<_> = view.entries.iter().filter(|entry| !corrected.contains(&&entry.id)).collect();
        let mut expected_totals: BTreeMap<&str, (Option<Quantity>, usize)> = BTreeMap::new();
        for item in items {
            for bin in 0..4 {
                let bin = format!("shelf-{bin}");
                let here: Vec<_> = standing.iter().filter(|entry| entry.item == item && entry.bin == bin).collect();
                let settlement = view.settlements.iter().filter(|settled| settled.item == item && settled.bin == bin).max_by_key(|settled| (settled.at, settled.id.clone()));
                let quantity = match settlement {
                    Some(settled) => Some(settled.quantity),
                    None if here.is_empty() => continue,
                    None => {
                        let round = here.iter().map(|entry| entry.round).max().unwrap();
                        let mut by_counter: BTreeMap<&str, Quantity> = BTreeMap::new();
                        for entry in here.iter().filter(|entry| entry.round == round) {
                            let sum = by_counter.entry(entry.counter.as_str()).or_default();
                            *sum = sum.saturating_add(entry.quantity);
                        }
                        let low = *by_counter.values().min().unwrap();
                        let high = *by_counter.values().max().unwrap();
                        (high.thousandths() - low.thousandths() <= shared::document::stocktake::RECOUNT_TOLERANCE).then_some(low)
                    }
                };
                let total = expected_totals.entry(item).or_default();
                match quantity {
                    Some(quantity) => total.0 = Some(total.0.unwrap_or_default().saturating_add(quantity)),
                    None => total.1 += 1,
                }
            }
        }
        for total in view.totals() {
            let (counted, disagreed) = expected_totals.get(total.item.as_str()).copied().unwrap_or_default();
            prop_assert_eq!(total.counted, counted, "total of {}", total.item);
            prop_assert_eq!(total.disagreed_bins, disagreed, "bins of {} that disagree", total.item);
        }
        prop_assert_eq!(view.disagreements().len(), expected_totals.values().map(|(_, disagreed)| disagreed).sum::<usize>());
    }
}

#[derive(Clone, Debug)]
enum StocktakeAction {
    Count { bin: usize, item: usize, units: i64 },
    Recount { bin: usize, item: usize, units: i64 },
    Correct { nth: usize, units: i64 },
    Settle { bin: usize, item: usize, units: i64 },
}

fn stocktake_action() -> impl Strategy<Value = StocktakeAction> {
    // Few quantities, so counters often agree and often do not.
    prop_oneof![
        6 => (0usize..4, 0usize..3, 18i64..21).prop_map(|(bin, item, units)| StocktakeAction::Count { bin, item, units }),
        3 => (0usize..4, 0usize..3, 18i64..21).prop_map(|(bin, item, units)| StocktakeAction::Recount { bin, item, units }),
        2 => (0usize..8, 18i64..21).prop_map(|(nth, units)| StocktakeAction::Correct { nth, units }),
        1 => (0usize..4, 0usize..3, 18i64..21).prop_map(|(bin, item, units)| StocktakeAction::Settle { bin, item, units }),
    ]
}

#[derive(Clone, Debug)]
enum RoundAction {
    Answer { room: usize, item: usize, value: u8 },
    Note { room: usize },
    Merge(usize),
}

fn round_action() -> impl Strategy<Value = RoundAction> {
    prop_oneof![
        6 => (0usize..4, 0usize..5, 0u8..3).prop_map(|(room, item, value)| RoundAction::Answer { room, item, value }),
        2 => (0usize..4).prop_map(|room| RoundAction::Note { room }),
        2 => (0usize..3).prop_map(RoundAction::Merge),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn dorm_rounds_converge_and_keep_every_answered_room(steps in prop::collection::vec((0usize..3, round_action()), 1..40)) {
        use shared::document::inspection::{AnswerValue, Inspection, NewInspection};
        let rooms = ["101", "102", "103", "104"];
        let items = ["hygiene", "no-prohibited-appliances", "no-damage", "smoke-detector", "occupants"];
        let new = NewInspection {
            site: SiteId::parse("plant2").unwrap(),
            template: "automerge:dorm".into(),
            checklist: shared::document::seeds::dorm_room(),
            location: "plant2-dorm-a".into(),
            rooms: rooms.iter().map(|room| (*room).to_owned()).collect(),
            assignees: Vec::new(),
        };
        let start = Inspection::start(actor(0), &new, &edit(0, 1_000)).unwrap();
        let mut docs = replicas(start.into_doc());
        let mut answered = std::collections::BTreeSet::new();
        let mut notes = Vec::new();
        for (step, (replica, action)) in steps.iter().enumerate() {
            let mut round = Inspection::from_doc(docs[*replica].clone()).unwrap();
            let edit = edit(*replica, 2_000 + step as i64);
            match action {
                RoundAction::Answer { room, item, value } => {
                    let value = match (*item, value) {
                        (0, 0) => AnswerValue::Choice(EntryId::parse("dirty").unwrap()),
                        (0, _) => AnswerValue::Choice(EntryId::parse("clean").unwrap()),
                        (4, count) => AnswerValue::Number(i64::from(*count) * 1000),
                        (_, 0) => AnswerValue::Fail,
                        (_, 1) => AnswerValue::Pass,
                        _ => AnswerValue::NotApplicable,
                    };
                    round.answer(Some(rooms[*room]), &EntryId::parse(items[*item]).unwrap(), &value, &edit).unwrap();
                    answered.insert((rooms[*room].to_owned(), items[*item].to_owned()));
                }
                RoundAction::Note { room } => {
                    let id = EntryId::parse(&format!("n{replica}-{step}")).unwrap();
                    round.add_note(&id, Some(rooms[*room]), None, "窗户未关", &edit).unwrap();
                    notes.push(id);
                }
                RoundAction::Merge(from) => {
                    let mut source = docs[*from].clone();
                    round.doc_mut().merge(&mut source).unwrap();
                }
            }
            docs[*replica] = round.into_doc();
        }
        sync_everyone(&mut docs);
        let views: Vec<_> = docs.iter().map(|doc| Inspection::from_doc(doc.clone()).unwrap().read().unwrap()).collect();
        prop_assert!(views.windows(2).all(|pair| pair[0] == pair[1]), "replicas read differently");
        let keys: std::collections::BTreeSet<(String, String)> =
            views[0].answers.keys().map(|(room, item)| (room.clone(), item.to_string())).collect();
        prop_assert_eq!(keys, answered, "an answered room/item is missing");
        prop_assert_eq!(views[0].notes.len(), notes.len(), "a note was lost");
        // Concurrent answers to the same room and item stay visible as conflicts.
        let conflicts = shared::document::conflicts::conflicts(&docs[0]).unwrap();
        prop_assert!(conflicts.iter().all(|conflict| conflict.path.first().map(String::as_str) == Some("answers")));
    }
}
