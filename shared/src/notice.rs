//! What the server tells people as changes reach it: an order assigned to them, a repair
//! they reported done and waiting for their check, an urgent hazard at a site they manage.
//! A notice is derived from an event in a document, once per person it concerns, and named
//! by the document, the event and the person (`Notice::id`): deriving again from the same
//! document — the same change synced by two phones, or projected again after a restart —
//! gives the same ids, so an outbox keyed by them holds each notice once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::directory::{SiteId, Username};
use crate::document::EntryId;
use crate::document::work_order::{EventKind, Priority, WorkOrderView};
use crate::protocol::DocumentId;
use crate::time::{Span, Timestamp};

/// What a notice says happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A work order was assigned to the recipient.
    Assigned,
    /// A repair of a fault the recipient reported was completed and waits for their check.
    ToVerify,
    /// An urgent hazard was raised on a round at a site the recipient manages.
    UrgentHazard,
}

impl NoticeKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Assigned => "assigned",
            NoticeKind::ToVerify => "to_verify",
            NoticeKind::UrgentHazard => "urgent_hazard",
        }
    }
}

/// One thing to tell one person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub kind: NoticeKind,
    pub document: DocumentId,
    /// The document's event the notice comes from.
    pub event: EntryId,
    pub recipient: Username,
    pub site: SiteId,
    pub title: String,
    /// The place's id in the site's catalog.
    pub location: String,
    /// When the event happened, by the clock of the phone that recorded it.
    pub at: Timestamp,
}

impl Notice {
    /// `document/event/recipient`: the same for every derivation of this notice.
    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.document, self.event, self.recipient)
    }

    /// The notice as a line in a department's group chat (in Chinese, which its groups
    /// read): what happened, to whom, where, and the link that opens the order.
    /// `recipient` and `place` are the names people know them by.
    pub fn chat_text(&self, recipient: &str, place: &str, link: &str) -> String {
        let title = &self.title;
        let at = if place.is_empty() { String::new() } else { format!("（{place}）") };
        match self.kind {
            NoticeKind::Assigned => format!("【派工】{title}{at}已派给 {recipient}。{link}"),
            NoticeKind::ToVerify => format!("【待验收】{title}{at}已修好，请 {recipient} 验收。{link}"),
            NoticeKind::UrgentHazard => format!("【紧急隐患】{title}{at}，请 {recipient} 尽快派工。{link}"),
        }
    }
}

/// The wait before a failed delivery's second attempt; each later one waits twice as long,
/// up to `BACKOFF_MAX`.
pub const BACKOFF_FIRST: Span = Span::from_millis(2_000);
pub const BACKOFF_MAX: Span = Span::HOUR;
/// Attempts before a delivery is given up (and shown as failed in the log).
pub const MAX_ATTEMPTS: u32 = 12;

/// A way a notice is delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The organisation's own JSON webhook, signed.
    Webhook,
    /// A 企业微信 (WeCom) group robot.
    #[serde(rename = "wecom")]
    WeCom,
    /// A 钉钉 (DingTalk) group robot.
    #[serde(rename = "dingtalk")]
    DingTalk,
    /// A 飞书 (Feishu / Lark) group robot.
    Feishu,
}

impl Channel {
    /// Its name in the API and the delivery log.
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Webhook => "webhook",
            Channel::WeCom => "wecom",
            Channel::DingTalk => "dingtalk",
            Channel::Feishu => "feishu",
        }
    }
}

/// One channel's delivery of a notice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub attempts: u32,
    /// When the next attempt is due (while neither delivered nor given up).
    pub next_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
    /// What went wrong with the last attempt that failed.
    pub last_error: Option<String>,
    /// Given up after `MAX_ATTEMPTS`.
    pub given_up: bool,
}

impl Delivery {
    pub fn due(at: Timestamp) -> Delivery {
        Delivery { attempts: 0, next_at: at, delivered_at: None, last_error: None, given_up: false }
    }

    pub fn is_done(&self) -> bool {
        self.delivered_at.is_some() || self.given_up
    }

    /// Records an attempt at `at`: delivered, or failed with `error` and due again after
    /// the backoff (or given up).
    pub fn record(&mut self, at: Timestamp, outcome: Result<(), String>) {
        self.attempts += 1;
        match outcome {
            Ok(()) => self.delivered_at = Some(at),
            Err(error) => {
                self.last_error = Some(error);
                self.given_up = self.attempts >= MAX_ATTEMPTS;
                let wait = BACKOFF_FIRST.as_millis().saturating_mul(1 << (self.attempts - 1).min(20)).min(BACKOFF_MAX.as_millis());
                self.next_at = at.plus_millis(wait);
            }
        }
    }
}

/// A notice in the outbox and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub notice: Notice,
    /// When the server derived it.
    pub derived_at: Timestamp,
    /// Its delivery through each channel its site had then.
    #[serde(default)]
    pub deliveries: BTreeMap<Channel, Delivery>,
}

/// The notices a work order's events give. `managers` gives the people who manage its
/// site (asked only for an urgent hazard). Nobody is told of what they did themselves, and
/// a duplicate (merged into its original) tells nobody anything new.
pub fn work_order(id: DocumentId, order: &WorkOrderView, managers: impl Fn() -> Vec<Username>) -> Vec<Notice> {
    if order.duplicate_of.is_some() {
        return Vec::new();
    }
    let notice = |kind: NoticeKind, event: &EntryId, recipient: &Username, at: Timestamp| Notice {
        kind,
        document: id,
        event: event.clone(),
        recipient: recipient.clone(),
        site: order.header.site.clone(),
        title: order.title.clone(),
        location: order.location.clone(),
        at,
    };
    let mut notices = Vec::new();
    for event in &order.events {
        match &event.kind {
            EventKind::Assigned { assignee } if *assignee != event.user => {
                notices.push(notice(NoticeKind::Assigned, &event.id, assignee, event.at));
            }
            EventKind::Completed { .. } if order.header.created_by != event.user => {
                notices.push(notice(NoticeKind::ToVerify, &event.id, &order.header.created_by, event.at));
            }
            EventKind::Reported if order.source.is_some() && order.priority == Priority::Urgent => {
                notices.extend(
                    managers()
                        .iter()
                        .filter(|manager| **manager != event.user)
                        .map(|manager| notice(NoticeKind::UrgentHazard, &event.id, manager, event.at)),
                );
            }
            _ => {}
        }
    }
    notices
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;

    use super::*;
    use crate::document::testing::{edit, id};
    use crate::document::work_order::{Category, NewWorkOrder, Source, WorkOrder};

    fn order(reporter: &str, urgent_hazard: bool) -> WorkOrder {
        let new = NewWorkOrder {
            site: SiteId::parse("hq").unwrap(),
            title: "配电箱冒烟".into(),
            description: String::new(),
            location: "hq-b1".into(),
            asset: None,
            category: Category::Electrical,
            priority: if urgent_hazard { Priority::Urgent } else { Priority::Normal },
            due_at: None,
            source: urgent_hazard.then(|| Source { inspection: "automerge:round".into(), item: "i1".into() }),
        };
        WorkOrder::report(ActorId::from([1; 16]), &new, &id("e0"), &edit(reporter, 0)).unwrap()
    }

    fn user(name: &str) -> Username {
        Username::parse(name).unwrap()
    }

    fn told(notices: &[Notice]) -> Vec<(NoticeKind, &str, String)> {
        notices.iter().map(|notice| (notice.kind, notice.recipient.as_str(), notice.id())).collect()
    }

    #[test]
    fn an_assignment_tells_the_technician_and_a_completion_the_reporter_once_each() {
        let document = DocumentId::from_random([4; 16]);
        let mut order = order("teacher", false);
        order.record(&id("e1"), &EventKind::Assigned { assignee: user("tech") }, &edit("manager", 10));
        order.record(&id("e2"), &EventKind::Started, &edit("tech", 20));
        order.record(&id("e3"), &EventKind::Completed { notes: "换了空开".into() }, &edit("tech", 30));
        let view = order.read().unwrap();
        let notices = work_order(document, &view, || vec![user("manager")]);
        assert_eq!(
            told(&notices),
            [
                (NoticeKind::Assigned, "tech", format!("{document}/e1/tech")),
                (NoticeKind::ToVerify, "teacher", format!("{document}/e3/teacher"))
            ]
        );
        assert_eq!(work_order(document, &view, || vec![user("manager")]), notices, "derived again, the same notices");
    }

    #[test]
    fn a_failed_delivery_waits_twice_as_long_each_time_and_is_given_up_after_the_last_attempt() {
        let start = Timestamp::from_millis(0);
        let mut delivery = Delivery::due(start);
        let mut waits = Vec::new();
        let mut at = start;
        while !delivery.is_done() {
            delivery.record(at, Err("the webhook answered 500".into()));
            waits.push(delivery.next_at.millis_since(at));
            at = delivery.next_at;
        }
        assert_eq!(delivery.attempts, MAX_ATTEMPTS);
        assert!(delivery.given_up && delivery.delivered_at.is_none());
        assert_eq!(&waits[..4], [2_000, 4_000, 8_000, 16_000]);
        assert!(waits.iter().all(|wait| *wait <= BACKOFF_MAX.as_millis()));
        assert_eq!(waits.last(), Some(&BACKOFF_MAX.as_millis()));
        let mut delivered = Delivery::due(start);
        delivered.record(start, Err("refused".into()));
        delivered.record(start.plus_millis(2_000), Ok(()));
        assert_eq!((delivered.attempts, delivered.delivered_at, delivered.is_done()), (2, Some(start.plus_millis(2_000)), true));
    }

    #[test]
    fn a_notice_reads_in_a_group_chat_with_the_persons_name_the_place_and_the_link() {
        let mut order = order("teacher", false);
        order.record(&id("e1"), &EventKind::Assigned { assignee: user("tech") }, &edit("manager", 10));
        let notice = work_order(DocumentId::from_random([8; 16]), &order.read().unwrap(), Vec::new).remove(0);
        assert_eq!(
            notice.chat_text("张师傅", "地下配电房", "https://hq/orders/x"),
            "【派工】配电箱冒烟（地下配电房）已派给 张师傅。https://hq/orders/x"
        );
        assert_eq!(notice.chat_text("张师傅", "", "/orders/x"), "【派工】配电箱冒烟已派给 张师傅。/orders/x");
    }

    #[test]
    fn nobody_is_told_of_what_they_did_themselves() {
        let mut order = order("tech", false);
        order.record(&id("e1"), &EventKind::Assigned { assignee: user("tech") }, &edit("tech", 10));
        order.record(&id("e2"), &EventKind::Completed { notes: String::new() }, &edit("tech", 20));
        assert!(work_order(DocumentId::from_random([5; 16]), &order.read().unwrap(), Vec::new).is_empty());
    }

    #[test]
    fn an_urgent_hazard_tells_the_sites_managers_but_not_the_one_who_raised_it() {
        let order = order("manager", true);
        let notices = work_order(DocumentId::from_random([6; 16]), &order.read().unwrap(), || vec![user("manager"), user("deputy")]);
        assert_eq!(
            notices.iter().map(|notice| (notice.kind, notice.recipient.as_str())).collect::<Vec<_>>(),
            [(NoticeKind::UrgentHazard, "deputy")]
        );
        let normal = self::order("inspector", false);
        assert!(
            work_order(DocumentId::from_random([6; 16]), &normal.read().unwrap(), || vec![user("manager")]).is_empty(),
            "a plain report is the dispatch queue's"
        );
    }
}
