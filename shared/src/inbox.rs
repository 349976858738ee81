//! What waits for a person: the work orders, rounds and stocktakes that need them now, each
//! with why and since when. The phone derives its inbox from the documents it holds, so it
//! works offline; an item is new to the person until they have seen it at that point (an
//! order assigned to them again, or reopened, is new again).

use std::collections::BTreeSet;

use crate::directory::{Role, SiteId, Username};
use crate::document::food_samples::FoodSamplesView;
use crate::document::inspection::InspectionView;
use crate::document::stocktake::{Phase, StocktakeView};
use crate::document::work_order::{EventKind, Status, WorkOrderView};
use crate::protocol::DocumentId;
use crate::time::Timestamp;

/// Why a document waits for the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// An open work order assigned to them.
    Assigned,
    /// An open work order past its due time: theirs, or at a site they manage.
    Overdue,
    /// A repair of a fault they reported, done and waiting for them to check it.
    ToVerify,
    /// A hazard raised on a round at a site they manage, not yet repaired.
    Hazard,
    /// A fault reported (or reopened) at a site they manage, waiting to be dispatched.
    ToDispatch,
    /// Events two phones logged that do not fit, on an order at a site they manage,
    /// waiting for their decision.
    Flagged,
    /// Answers two people gave differently, on a round they started or at a site they
    /// manage, waiting for a decision.
    Conflict,
    /// A stocktake being counted at a site where they keep the store.
    ToCount,
    /// A stocktake closed and waiting for approval at a site they manage.
    ToApprove,
    /// A meal's food samples kept their 48 hours, at a site where they keep samples: to
    /// discard.
    SamplesToDiscard,
}

impl Reason {
    pub const ALL: [Reason; 10] = [
        Reason::Assigned,
        Reason::Overdue,
        Reason::ToVerify,
        Reason::Hazard,
        Reason::ToDispatch,
        Reason::Flagged,
        Reason::Conflict,
        Reason::ToCount,
        Reason::ToApprove,
        Reason::SamplesToDiscard,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::Assigned => "assigned",
            Reason::Overdue => "overdue",
            Reason::ToVerify => "to_verify",
            Reason::Hazard => "hazard",
            Reason::ToDispatch => "to_dispatch",
            Reason::Flagged => "flagged",
            Reason::Conflict => "conflict",
            Reason::ToCount => "to_count",
            Reason::ToApprove => "to_approve",
            Reason::SamplesToDiscard => "samples_to_discard",
        }
    }
}

/// One thing waiting for the person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    pub document: DocumentId,
    pub site: SiteId,
    pub reason: Reason,
    /// Since when it waits: the assignment, the due time passed, the completion, the
    /// report or reopening, the latest flagged event or differing answer, the start of the
    /// count or its closing.
    pub since: Timestamp,
}

impl Waiting {
    /// Names the item at this point, for what the person has seen: the same document
    /// waiting for the same reason since a later time is a new item.
    pub fn key(&self) -> String {
        format!("{} {} {}", self.document, self.reason.as_str(), self.since.as_millis())
    }
}

/// The person things wait for: who they are and their role at each of their sites.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub username: Username,
    pub sites: Vec<(SiteId, Role)>,
}

impl Person {
    fn role_at(&self, site: &SiteId) -> Option<Role> {
        self.sites.iter().find(|(known, _)| known == site).map(|(_, role)| *role)
    }

    fn manages(&self, site: &SiteId) -> bool {
        self.role_at(site).is_some_and(Role::manages)
    }

    /// What of a work order waits for them. A duplicate, merged into its original, waits
    /// for nobody.
    pub fn order(&self, id: DocumentId, order: &WorkOrderView, now: Timestamp) -> Vec<Waiting> {
        if order.duplicate_of.is_some() {
            return Vec::new();
        }
        let site = &order.header.site;
        let state = order.state();
        let manages = self.manages(site);
        let mine = state.assignee.as_ref() == Some(&self.username);
        let last_event =
            |wanted: &dyn Fn(&EventKind) -> bool| order.events.iter().filter(|event| wanted(&event.kind)).map(|event| event.at).max();
        let mut waiting = Vec::new();
        let mut wait = |reason: Reason, since: Timestamp| waiting.push(Waiting { document: id, site: site.clone(), reason, since });
        if mine && state.status.is_open() {
            let assigned = last_event(&|kind| matches!(kind, EventKind::Assigned { assignee } if *assignee == self.username));
            wait(Reason::Assigned, assigned.unwrap_or(state.reported_at));
        }
        if let Some(due) = order.due_at.filter(|_| order.is_overdue(now) && (mine || manages)) {
            wait(Reason::Overdue, due);
        }
        if state.status == Status::Completed && order.header.created_by == self.username {
            wait(Reason::ToVerify, state.completed_at.unwrap_or(state.reported_at));
        }
        if manages {
            let reported_or_reopened = || {
                last_event(&|kind| matches!(kind, EventKind::Reopened { .. }))
                    .filter(|_| state.status == Status::Reopened)
                    .unwrap_or(state.reported_at)
            };
            if order.source.is_some() && state.status.is_open() {
                wait(Reason::Hazard, reported_or_reopened());
            } else if matches!(state.status, Status::Reported | Status::Reopened) {
                wait(Reason::ToDispatch, reported_or_reopened());
            }
            let flagged =
                state.open_flags().filter_map(|flag| order.events.iter().find(|event| event.id == flag.event).map(|event| event.at)).max();
            if let Some(flagged) = flagged {
                wait(Reason::Flagged, flagged);
            }
        }
        waiting
    }

    /// What of a round waits for them: answers given differently (the latest at
    /// `conflicted_at`), on a round they started or at a site they manage, unless it was
    /// discarded.
    pub fn round(&self, id: DocumentId, round: &InspectionView, conflicted_at: Option<Timestamp>) -> Vec<Waiting> {
        let theirs = round.header.created_by == self.username || self.manages(&round.header.site);
        match conflicted_at {
            Some(since) if theirs && round.discarded.is_none() => {
                vec![Waiting { document: id, site: round.header.site.clone(), reason: Reason::Conflict, since }]
            }
            _ => Vec::new(),
        }
    }

    /// What of a stocktake waits for them: counting, where they keep the store; approval,
    /// where they manage.
    pub fn stocktake(&self, id: DocumentId, stocktake: &StocktakeView) -> Vec<Waiting> {
        let site = &stocktake.header.site;
        let (reason, since) = match (stocktake.phase, self.role_at(site)) {
            (Phase::Counting, Some(Role::Storekeeper)) => (Reason::ToCount, stocktake.header.created_at),
            (Phase::Closed, Some(role)) if role.manages() => {
                (Reason::ToApprove, stocktake.closed_at.unwrap_or(stocktake.header.created_at))
            }
            _ => return Vec::new(),
        };
        vec![Waiting { document: id, site: site.clone(), reason, since }]
    }
}

impl Person {
    /// A meal's samples waiting to be discarded, at a site where the person keeps samples:
    /// since the first of them reached its discard time.
    pub fn food_samples(&self, id: DocumentId, meal: &FoodSamplesView, now: Timestamp) -> Vec<Waiting> {
        let site = &meal.header.site;
        if !self.role_at(site).is_some_and(|role| matches!(role, Role::Inspector | Role::Manager | Role::Admin)) {
            return Vec::new();
        }
        let since = meal.kept().map(crate::document::food_samples::Sample::discard_at).filter(|at| *at <= now).min();
        since.map(|since| Waiting { document: id, site: site.clone(), reason: Reason::SamplesToDiscard, since }).into_iter().collect()
    }
}

/// How many of `waiting` the person has not seen, by key.
pub fn unseen(waiting: &[Waiting], seen: &BTreeSet<String>) -> usize {
    waiting.iter().filter(|item| !seen.contains(&item.key())).count()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use automerge::ActorId;
    use proptest::prelude::*;

    use super::*;
    use crate::document::EntryId;
    use crate::document::inspection::Inspection;
    use crate::document::stocktake::{Mode, NewStocktake, Stocktake};
    use crate::document::testing::{edit, fire_round_at_hq, id};
    use crate::document::work_order::{Category, NewWorkOrder, Priority, Source, WorkOrder};
    use crate::quantity::Quantity;

    const HOUR: i64 = 60 * 60 * 1000;

    fn person(name: &str, role: Role) -> Person {
        Person { username: Username::parse(name).unwrap(), sites: vec![(SiteId::parse("hq").unwrap(), role)] }
    }

    fn document(n: u8) -> DocumentId {
        DocumentId::from_random([n; 16])
    }

    /// An order reported by `reporter` at 0, due in a day, and what `steps` record after.
    fn order(reporter: &str, hazard: bool, steps: &[(&str, i64, EventKind)]) -> WorkOrderView {
        let new = NewWorkOrder {
            site: SiteId::parse("hq").unwrap(),
            title: "水管漏水".into(),
            description: String::new(),
            location: "hq-b1".into(),
            asset: None,
            category: Category::Plumbing,
            priority: Priority::High,
            due_at: Some(Timestamp::from_millis(24 * HOUR)),
            source: hazard.then(|| Source { inspection: "automerge:round".into(), item: "i1".into() }),
        };
        let mut order = WorkOrder::report(ActorId::from([1; 16]), &new, &id("e0"), &edit(reporter, 0)).unwrap();
        for (index, (user, at, kind)) in steps.iter().enumerate() {
            order.record(&EntryId::parse(&format!("e{}", index + 1)).unwrap(), kind, &edit(user, *at));
        }
        order.read().unwrap()
    }

    fn assigned(to: &str) -> EventKind {
        EventKind::Assigned { assignee: Username::parse(to).unwrap() }
    }

    fn reasons(waiting: &[Waiting]) -> Vec<(Reason, i64)> {
        waiting.iter().map(|item| (item.reason, item.since.as_millis())).collect()
    }

    #[test]
    fn a_reported_fault_waits_for_its_sites_managers_and_then_for_the_technician_it_is_assigned_to() {
        let manager = person("manager", Role::Manager);
        let tech = person("tech", Role::Technician);
        let now = Timestamp::from_millis(HOUR);
        let reported = order("teacher", false, &[]);
        assert_eq!(reasons(&manager.order(document(1), &reported, now)), [(Reason::ToDispatch, 0)]);
        assert!(tech.order(document(1), &reported, now).is_empty(), "an unassigned fault is not the technician's yet");
        let dispatched = order("teacher", false, &[("manager", 10, assigned("tech"))]);
        assert!(manager.order(document(1), &dispatched, now).is_empty());
        assert_eq!(reasons(&tech.order(document(1), &dispatched, now)), [(Reason::Assigned, 10)]);
        let started = order("teacher", false, &[("manager", 10, assigned("tech")), ("tech", 20, EventKind::Started)]);
        assert_eq!(reasons(&tech.order(document(1), &started, now)), [(Reason::Assigned, 10)], "still theirs while they work it");
    }

    #[test]
    fn a_done_repair_waits_for_its_reporter_and_an_overdue_one_for_its_technician_and_managers() {
        let teacher = person("teacher", Role::Technician);
        let done =
            order("teacher", false, &[("manager", 10, assigned("tech")), ("tech", 20, EventKind::Completed { notes: "换了阀门".into() })]);
        assert_eq!(reasons(&teacher.order(document(2), &done, Timestamp::from_millis(30))), [(Reason::ToVerify, 20)]);
        let late = Timestamp::from_millis(25 * HOUR);
        let overdue = order("teacher", false, &[("manager", 10, assigned("tech"))]);
        assert_eq!(
            reasons(&person("tech", Role::Technician).order(document(3), &overdue, late)),
            [(Reason::Assigned, 10), (Reason::Overdue, 24 * HOUR)]
        );
        assert_eq!(reasons(&person("manager", Role::Manager).order(document(3), &overdue, late)), [(Reason::Overdue, 24 * HOUR)]);
        assert!(person("other", Role::Technician).order(document(3), &overdue, late).is_empty(), "not another technician's");
        assert_eq!(reasons(&teacher.order(document(2), &done, late)), [(Reason::ToVerify, 20)], "a done repair is not overdue");
    }

    #[test]
    fn a_hazard_waits_for_managers_until_repaired_and_a_reopened_fault_is_new_again() {
        let manager = person("manager", Role::Manager);
        let now = Timestamp::from_millis(HOUR);
        let hazard = order("inspector", true, &[("manager", 10, assigned("tech"))]);
        assert_eq!(reasons(&manager.order(document(4), &hazard, now)), [(Reason::Hazard, 0)]);
        let repaired =
            order("inspector", true, &[("manager", 10, assigned("tech")), ("tech", 20, EventKind::Completed { notes: String::new() })]);
        assert!(manager.order(document(4), &repaired, now).is_empty());
        let reopened = order(
            "teacher",
            false,
            &[
                ("manager", 10, assigned("tech")),
                ("tech", 20, EventKind::Completed { notes: String::new() }),
                ("teacher", 30, EventKind::Reopened { reason: "还在漏".into() }),
            ],
        );
        let waiting = manager.order(document(5), &reopened, now);
        assert_eq!(reasons(&waiting), [(Reason::ToDispatch, 30)]);
        let before = manager.order(document(5), &order("teacher", false, &[]), now);
        assert_ne!(waiting[0].key(), before[0].key(), "reopened, it is a new item");
    }

    #[test]
    fn a_duplicate_and_another_sites_order_wait_for_nobody() {
        let mut duplicate = order("teacher", false, &[]);
        duplicate.duplicate_of = Some("automerge:original".into());
        let now = Timestamp::from_millis(HOUR);
        assert!(person("manager", Role::Manager).order(document(6), &duplicate, now).is_empty());
        let elsewhere =
            Person { username: Username::parse("manager").unwrap(), sites: vec![(SiteId::parse("north").unwrap(), Role::Manager)] };
        assert!(elsewhere.order(document(7), &order("teacher", false, &[]), now).is_empty());
    }

    #[test]
    fn differing_answers_wait_for_the_rounds_starter_and_its_sites_managers_until_discarded() {
        let new = fire_round_at_hq(&["inspector"]);
        let mut round = Inspection::start(ActorId::from([7; 16]), &new, &edit("inspector", 1_000)).unwrap();
        let view = round.read().unwrap();
        let differing = Some(Timestamp::from_millis(2_000));
        assert_eq!(reasons(&person("inspector", Role::Inspector).round(document(8), &view, differing)), [(Reason::Conflict, 2_000)]);
        assert_eq!(reasons(&person("manager", Role::Manager).round(document(8), &view, differing)), [(Reason::Conflict, 2_000)]);
        assert!(person("dorm", Role::Inspector).round(document(8), &view, differing).is_empty(), "not another inspector's");
        assert!(person("inspector", Role::Inspector).round(document(8), &view, None).is_empty(), "no conflict, nothing waits");
        round.discard(&edit("inspector", 3_000)).unwrap();
        assert!(person("manager", Role::Manager).round(document(8), &round.read().unwrap(), differing).is_empty());
    }

    #[test]
    fn a_stocktake_waits_for_the_stores_keepers_while_counted_and_for_managers_once_closed() {
        let new = NewStocktake {
            site: SiteId::parse("hq").unwrap(),
            location: "总务仓库".into(),
            mode: Mode::Blind,
            expected: vec![("item-1".into(), Quantity::units(4))],
            assets: Vec::new(),
        };
        let mut stocktake = Stocktake::start(ActorId::from([3; 16]), &new, &edit("keeper", 500)).unwrap();
        let keeper = person("keeper", Role::Storekeeper);
        let manager = person("manager", Role::Manager);
        let counting = stocktake.read().unwrap();
        assert_eq!(reasons(&keeper.stocktake(document(9), &counting)), [(Reason::ToCount, 500)]);
        assert!(manager.stocktake(document(9), &counting).is_empty());
        stocktake.record_phase(&id("close"), Phase::Closed, &edit("manager", 900)).unwrap();
        let closed = stocktake.read().unwrap();
        assert!(keeper.stocktake(document(9), &closed).is_empty());
        assert_eq!(reasons(&manager.stocktake(document(9), &closed)), [(Reason::ToApprove, 900)]);
    }

    proptest! {
        /// The unseen count is the number of waiting items whose key was not seen: seeing
        /// every key leaves none, and an item whose `since` moves is unseen again.
        #[test]
        fn the_unseen_count_counts_exactly_the_items_not_seen_at_their_point(
            items in proptest::collection::vec((0u8..6, 0usize..9, 0i64..5), 0..20),
            seen_mask in proptest::collection::vec(any::<bool>(), 20),
        ) {
            let waiting: Vec<Waiting> = items
                .iter()
                .map(|(doc, reason, since)| Waiting {
                    document: document(*doc),
                    site: SiteId::parse("hq").unwrap(),
                    reason: Reason::ALL[*reason],
                    since: Timestamp::from_millis(*since),
                })
                .collect();
            let seen: BTreeSet<String> = waiting.iter().zip(&seen_mask).filter(|(_, seen)| **seen).map(|(item, _)| item.key()).collect();
            let expected = waiting.iter().filter(|item| !seen.contains(&item.key())).count();
            prop_assert_eq!(unseen(&waiting, &seen), expected);
            let all: BTreeSet<String> = waiting.iter().map(Waiting::key).collect();
            prop_assert_eq!(unseen(&waiting, &all), 0);
            let moved: Vec<Waiting> = waiting.iter().map(|item| Waiting { since: item.since.plus_millis(10), ..item.clone() }).collect();
            prop_assert_eq!(unseen(&moved, &all), moved.len());
        }
    }
}
