//! What the server tells people as changes reach it: an order assigned to them, a repair
//! they reported done and waiting for their check, an urgent hazard at a site they manage.
//! A notice is derived from an event in a document, once per person it concerns, and named
//! by the document, the event and the person (`Notice::id`): deriving again from the same
//! document — the same change synced by two phones, or projected again after a restart —
//! gives the same ids, so an outbox keyed by them holds each notice once.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::directory::{Role, SiteId, Username};
use crate::document::catalog::{CatalogView, derived_id};
use crate::document::inspection::InspectionView;
use crate::document::stocktake::{Phase, StocktakeView};
use crate::document::work_order::{EventKind, Priority, Status, WorkOrderView};
use crate::document::{DocumentType, EntryId};
use crate::language::Language;
use crate::protocol::DocumentId;
use crate::schedule::{RoundFact, occurrences};
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
    /// An open order is past its due time: told to its technician, then (see
    /// [`Escalation`]) the site's managers, then its administrators.
    Overdue,
    /// An urgent order still not dispatched `Escalation::undispatched` after it was
    /// reported: told to the site's managers and administrators.
    Undispatched,
    /// A stocktake closed and waiting for approval: told to the site's managers.
    ToApprove,
    /// Answers two people gave differently on a round, or events two phones logged that do
    /// not fit on an order, waiting for a decision: told to the site's managers (and the
    /// round's starter).
    Conflict,
    /// A stock item at or below its reorder point: told to the site's store keepers.
    LowStock,
    /// A scheduled round not done by the end of its period: told to the site's managers.
    MissedRound,
    /// A contractor's contract ends within [`CONTRACT_NOTICE`]: told to the site's
    /// managers and administrators, once per contract end.
    ContractEnding,
    /// A meter used more than its limit in its last whole period
    /// ([`crate::meter::over_limit`]): told to the site's managers, once per period.
    MeterOverLimit,
}

/// How long before a contract's last day its renewal is brought up.
pub const CONTRACT_NOTICE: Span = Span::days(30);

impl NoticeKind {
    /// Every kind, in the order Settings offers them.
    pub const ALL: [NoticeKind; 11] = [
        NoticeKind::Assigned,
        NoticeKind::ToVerify,
        NoticeKind::UrgentHazard,
        NoticeKind::Overdue,
        NoticeKind::Undispatched,
        NoticeKind::ToApprove,
        NoticeKind::Conflict,
        NoticeKind::LowStock,
        NoticeKind::MissedRound,
        NoticeKind::ContractEnding,
        NoticeKind::MeterOverLimit,
    ];

    /// Whether someone with `role` at a site is told of this kind there: what Settings
    /// offers them to turn off.
    pub const fn reaches(self, role: Role) -> bool {
        match self {
            // Anyone may report a fault, and so check its repair.
            NoticeKind::ToVerify => true,
            NoticeKind::Assigned => matches!(role, Role::Technician),
            NoticeKind::Overdue => matches!(role, Role::Technician | Role::Manager | Role::Admin),
            NoticeKind::Undispatched | NoticeKind::ContractEnding => matches!(role, Role::Manager | Role::Admin),
            NoticeKind::Conflict => matches!(role, Role::Inspector | Role::DormStaff | Role::Manager),
            NoticeKind::LowStock => matches!(role, Role::Storekeeper),
            NoticeKind::UrgentHazard | NoticeKind::ToApprove | NoticeKind::MissedRound | NoticeKind::MeterOverLimit => {
                matches!(role, Role::Manager)
            }
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Assigned => "assigned",
            NoticeKind::ToVerify => "to_verify",
            NoticeKind::UrgentHazard => "urgent_hazard",
            NoticeKind::Overdue => "overdue",
            NoticeKind::Undispatched => "undispatched",
            NoticeKind::ToApprove => "to_approve",
            NoticeKind::Conflict => "conflict",
            NoticeKind::LowStock => "low_stock",
            NoticeKind::MissedRound => "missed_round",
            NoticeKind::ContractEnding => "contract_ending",
            NoticeKind::MeterOverLimit => "meter_over_limit",
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
    /// An urgent hazard, or about an order of urgent priority: told in quiet hours too.
    #[serde(default)]
    pub urgent: bool,
    /// Where the app opens what it is about; none for a work order (`/orders/{document}`).
    #[serde(default)]
    pub path: Option<String>,
}

impl Notice {
    /// A notice of `kind` about the work order `id`, from its `event`, to `recipient`.
    fn of_order(id: DocumentId, order: &WorkOrderView, kind: NoticeKind, event: &EntryId, recipient: &Username, at: Timestamp) -> Notice {
        Notice {
            kind,
            document: id,
            event: event.clone(),
            recipient: recipient.clone(),
            site: order.header.site.clone(),
            title: order.title.clone(),
            location: order.location.clone(),
            at,
            urgent: kind == NoticeKind::UrgentHazard || order.priority == Priority::Urgent,
            path: None,
        }
    }

    /// The type of the document the notice is about.
    pub fn document_type(&self) -> DocumentType {
        match self.kind {
            NoticeKind::ToApprove => DocumentType::Stocktake,
            NoticeKind::LowStock | NoticeKind::MissedRound | NoticeKind::ContractEnding | NoticeKind::MeterOverLimit => {
                DocumentType::SiteCatalog
            }
            NoticeKind::Conflict if self.path.as_deref().is_some_and(|path| path.starts_with("/rounds/")) => DocumentType::Inspection,
            _ => DocumentType::WorkOrder,
        }
    }

    /// The app's path of what the notice is about.
    pub fn path(&self) -> String {
        self.path.clone().unwrap_or_else(|| format!("/orders/{}", self.document))
    }

    /// `document/event/recipient`: the same for every derivation of this notice.
    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.document, self.event, self.recipient)
    }

    /// The notice as a line in a department's group chat (in Chinese, which its groups
    /// read): what happened, to whom, where, and the link that opens the order.
    /// `recipient` and `place` are the names people know them by.
    pub fn chat_text(&self, recipient: &str, place: &str, link: &str) -> String {
        let title = self.named(Language::Chinese, place);
        match self.kind {
            NoticeKind::Assigned => format!("【派工】{title}已派给 {recipient}。{link}"),
            NoticeKind::ToVerify => format!("【待验收】{title}已修好，请 {recipient} 验收。{link}"),
            NoticeKind::UrgentHazard => format!("【紧急隐患】{title}，请 {recipient} 尽快派工。{link}"),
            NoticeKind::Overdue => format!("【逾期】{title}已过要求完成时间，请 {recipient} 跟进。{link}"),
            NoticeKind::Undispatched => format!("【紧急未派工】{title}仍未派工，请 {recipient} 立即处理。{link}"),
            NoticeKind::ToApprove => format!("【盘点待审批】{title}已盘点完毕，请 {recipient} 审批。{link}"),
            NoticeKind::Conflict => format!("【待裁定】{title}有两人记录不一致，请 {recipient} 裁定。{link}"),
            NoticeKind::LowStock => format!("【库存不足】{title}已到补货点，请 {recipient} 补货。{link}"),
            NoticeKind::MissedRound => format!("【漏检】{title}本期未完成巡检，请 {recipient} 跟进。{link}"),
            NoticeKind::ContractEnding => format!("【合同到期】{title}，请 {recipient} 续签或另选单位。{link}"),
            NoticeKind::MeterOverLimit => format!("【用量超限】{title}，请 {recipient} 查明原因。{link}"),
        }
    }
}

impl Notice {
    /// What the notice is about in words: its title and the place, or either alone.
    fn named(&self, language: Language, place: &str) -> String {
        match (self.title.as_str(), place) {
            (title, "") => title.to_owned(),
            ("", place) => place.to_owned(),
            (title, place) if language == Language::Chinese => format!("{title}（{place}）"),
            (title, place) => format!("{title} ({place})"),
        }
    }
}

/// A notice as a person reads it on their phone or in their mail, in their language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// What happened, in a few words: a push notification's title, a mail's subject.
    pub heading: String,
    /// The order and its place.
    pub body: String,
}

impl Notice {
    /// The notice for its recipient, in `language`; `place` is the place's name.
    pub fn message(&self, language: Language, place: &str) -> Message {
        let title = self.named(language, place);
        let (heading, body) = match language {
            Language::Chinese => match self.kind {
                NoticeKind::Assigned => ("派给你的工单", title.clone()),
                NoticeKind::ToVerify => ("待你验收", format!("{title}已修好，请验收。")),
                NoticeKind::UrgentHazard => ("紧急隐患待派工", title.clone()),
                NoticeKind::Overdue => ("工单逾期", format!("{title}已过要求完成时间。")),
                NoticeKind::Undispatched => ("紧急工单仍未派工", title.clone()),
                NoticeKind::ToApprove => ("盘点待你审批", title.clone()),
                NoticeKind::Conflict => ("记录不一致，待你裁定", title.clone()),
                NoticeKind::LowStock => ("库存到补货点", title.clone()),
                NoticeKind::MissedRound => ("巡检漏检", format!("{title}上一期未完成。")),
                NoticeKind::ContractEnding => ("外包合同即将到期", title.clone()),
                NoticeKind::MeterOverLimit => ("仪表用量超出上限", title.clone()),
            },
            Language::English => match self.kind {
                NoticeKind::Assigned => ("Assigned to you", title.clone()),
                NoticeKind::ToVerify => ("Waiting for your check", format!("{title} was repaired: please check it.")),
                NoticeKind::UrgentHazard => ("Urgent hazard to dispatch", title.clone()),
                NoticeKind::Overdue => ("Order overdue", format!("{title} is past its due time.")),
                NoticeKind::Undispatched => ("Urgent order not dispatched", title.clone()),
                NoticeKind::ToApprove => ("Stocktake to approve", title.clone()),
                NoticeKind::Conflict => ("Records differ: your decision", title.clone()),
                NoticeKind::LowStock => ("Stock at its reorder point", title.clone()),
                NoticeKind::MissedRound => ("Round missed", format!("{title} was not done last period.")),
                NoticeKind::ContractEnding => ("Contract ending", title.clone()),
                NoticeKind::MeterOverLimit => ("A meter used more than its limit", title.clone()),
            },
        };
        Message { heading: heading.to_owned(), body }
    }
}

/// The wait before a failed delivery's second attempt; each later one waits twice as long,
/// up to `BACKOFF_MAX`.
pub const BACKOFF_FIRST: Span = Span::from_millis(2_000);
pub const BACKOFF_MAX: Span = Span::HOUR;
/// Attempts before a delivery is given up (and shown as failed in the log).
pub const MAX_ATTEMPTS: u32 = 12;

/// A way a notice is delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
    /// Web Push to the phones where the recipient turned notifications on.
    Push,
    /// A mail to the recipient's address.
    Email,
}

impl Channel {
    /// Its name in the API and the delivery log.
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Webhook => "webhook",
            Channel::WeCom => "wecom",
            Channel::DingTalk => "dingtalk",
            Channel::Feishu => "feishu",
            Channel::Push => "push",
            Channel::Email => "email",
        }
    }

    /// Whether it reaches one person (theirs to choose) rather than a site's group.
    pub const fn is_personal(self) -> bool {
        matches!(self, Channel::Push | Channel::Email)
    }
}

/// What a person wants to be told and how, as they set it in the app's Settings
/// (`GET`/`PUT /api/me/notices`). The site's group channels are the site's: these choices
/// are about the person's own channels, Web Push and mail.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeSettings {
    /// The language their notices are written in.
    #[serde(default)]
    pub language: Language,
    /// Where their mail goes; none, no mail.
    #[serde(default)]
    pub email: Option<String>,
    /// The kinds of notice they do not want.
    #[serde(default)]
    pub off: BTreeSet<NoticeKind>,
    /// Hours in which only urgent notices come through; the rest wait for the end.
    #[serde(default)]
    pub quiet: Option<QuietHours>,
    /// Orders they muted: nothing of these reaches them.
    #[serde(default)]
    pub muted: BTreeSet<DocumentId>,
}

impl NoticeSettings {
    /// When `notice`, derived at `now`, is to go out to this person through their own
    /// channels: at once, at the end of their quiet hours (urgent ones at once), or never
    /// (a kind they turned off, an order they muted).
    pub fn when(&self, notice: &Notice, now: Timestamp) -> Option<Timestamp> {
        if self.off.contains(&notice.kind) || self.muted.contains(&notice.document) {
            return None;
        }
        let quiet_until = self.quiet.filter(|_| !notice.urgent).and_then(|quiet| quiet.until(now));
        Some(quiet_until.unwrap_or(now))
    }
}

/// Quiet hours, from one time of day to another (past midnight if `to` is before `from`),
/// by the person's clock: minutes since their midnight, and their clock's offset from UTC
/// in minutes (China's +480).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    pub from: u16,
    pub to: u16,
    pub utc_offset: i16,
}

impl QuietHours {
    const DAY: i64 = 24 * 60;

    /// Whether the hours are well formed: times within a day, an offset within ±14 hours.
    pub fn is_valid(&self) -> bool {
        i64::from(self.from) < Self::DAY && i64::from(self.to) < Self::DAY && self.utc_offset.unsigned_abs() <= 14 * 60
    }

    /// The end of the quiet hours `now` is in; `None` when it is in none.
    pub fn until(&self, now: Timestamp) -> Option<Timestamp> {
        let (from, to) = (i64::from(self.from), i64::from(self.to));
        let minute_of_day = (now.as_millis().div_euclid(60_000) + i64::from(self.utc_offset)).rem_euclid(Self::DAY);
        let quiet = if from <= to { (from..to).contains(&minute_of_day) } else { minute_of_day >= from || minute_of_day < to };
        if !quiet {
            return None;
        }
        let minutes_left = (to - minute_of_day).rem_euclid(Self::DAY);
        let start_of_minute = Timestamp::from_millis(now.as_millis().div_euclid(60_000) * 60_000);
        Some(start_of_minute.plus(Span::minutes(minutes_left)))
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

    /// Records an attempt at `at`: delivered, or failed and due again after the backoff
    /// (or given up: after the last attempt, or at once when another would fail too).
    pub fn record(&mut self, at: Timestamp, outcome: Result<(), Failure>) {
        self.attempts += 1;
        match outcome {
            Ok(()) => self.delivered_at = Some(at),
            Err(failure) => {
                let (error, last) = match failure {
                    Failure::Again(error) => (error, false),
                    Failure::Final(error) => (error, true),
                };
                self.last_error = Some(error);
                self.given_up = last || self.attempts >= MAX_ATTEMPTS;
                let wait = BACKOFF_FIRST.as_millis().saturating_mul(1 << (self.attempts - 1).min(20)).min(BACKOFF_MAX.as_millis());
                self.next_at = at.plus_millis(wait);
            }
        }
    }
}

/// Why an attempt to deliver failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Worth another try later: the receiver was away, busy, or answered an error.
    Again(String),
    /// Another try would fail the same way: the address was refused, the channel is gone.
    Final(String),
}

impl Failure {
    pub fn error(&self) -> &str {
        let (Failure::Again(error) | Failure::Final(error)) = self;
        error
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
/// site (asked only for an urgent hazard: one a round raised, or a danger someone without
/// an account reported from a label). Nobody is told of what they did themselves, and a
/// duplicate (merged into its original) tells nobody anything new. An order made by no
/// person — a preventive order's planner, a public report (whose reporter follows it by
/// its tracking link) — has no reporter to verify it.
pub fn work_order(id: DocumentId, order: &WorkOrderView, managers: impl Fn() -> Vec<Username>) -> Vec<Notice> {
    if order.duplicate_of.is_some() {
        return Vec::new();
    }
    let notice =
        |kind: NoticeKind, event: &EntryId, recipient: &Username, at: Timestamp| Notice::of_order(id, order, kind, event, recipient, at);
    let from_public = order.header.created_by.as_str() == crate::public::PUBLIC_REPORTER;
    let made_by_no_person = from_public || order.header.created_by.as_str() == crate::document::work_order::PLANNER;
    let mut notices = Vec::new();
    for event in &order.events {
        match &event.kind {
            EventKind::Assigned { assignee } if *assignee != event.user => {
                notices.push(notice(NoticeKind::Assigned, &event.id, assignee, event.at));
            }
            EventKind::Completed { .. } if order.header.created_by != event.user && !made_by_no_person => {
                notices.push(notice(NoticeKind::ToVerify, &event.id, &order.header.created_by, event.at));
            }
            EventKind::Reported if (order.source.is_some() || from_public) && order.priority == Priority::Urgent => {
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
    // Events two phones logged that do not fit wait for a manager's decision.
    let state = order.state();
    let flagged =
        state.open_flags().filter_map(|flag| order.events.iter().find(|event| event.id == flag.event)).max_by_key(|event| event.at);
    if let Some(latest) = flagged {
        let event = EntryId::parse(&format!("flagged-{}", latest.at.as_millis())).expect("digits and dashes make an entry id");
        notices.extend(managers().iter().map(|manager| notice(NoticeKind::Conflict, &event, manager, latest.at)));
    }
    notices
}

/// When an order past its due time is told to whom, counted from the due time: its
/// technician at once, the site's managers after `to_managers`, its administrators after
/// `to_admins`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    pub to_managers: Span,
    pub to_admins: Span,
    /// How long an urgent order may wait for dispatch before its site's managers and
    /// administrators are told (again).
    #[serde(default = "Escalation::default_undispatched")]
    pub undispatched: Span,
}

impl Escalation {
    /// Managers an hour after the due time, administrators after four; an urgent order
    /// undispatched for 30 minutes.
    pub const DEFAULT: Escalation = Escalation { to_managers: Span::HOUR, to_admins: Span::hours(4), undispatched: Span::minutes(30) };

    fn default_undispatched() -> Span {
        Escalation::DEFAULT.undispatched
    }

    /// The levels an order due at `due` has reached by `now`, each with the time it was
    /// reached: 0 its technician, 1 the site's managers, 2 its administrators.
    pub fn reached(self, due: Timestamp, now: Timestamp) -> Vec<(u8, Timestamp)> {
        [(0, Span::ZERO), (1, self.to_managers), (2, self.to_admins)]
            .into_iter()
            .map(|(level, after)| (level, due.plus(after)))
            .filter(|(_, at)| *at < now)
            .collect()
    }
}

/// The event id of an overdue notice: the due time and the level, so each level is told
/// once per due time and a new due time starts again.
pub fn overdue_event(due: Timestamp, level: u8) -> EntryId {
    EntryId::parse(&format!("overdue-{}-{level}", due.as_millis())).expect("digits and dashes make an entry id")
}

/// The notices an open order past its due time gives by `now` (see [`Escalation`]):
/// `staff` gives the site's managers and administrators (asked only once a level past the
/// technician is reached). An order nobody is assigned to starts at the managers.
pub fn overdue(
    id: DocumentId,
    order: &WorkOrderView,
    now: Timestamp,
    escalation: Escalation,
    staff: impl Fn() -> (Vec<Username>, Vec<Username>),
) -> Vec<Notice> {
    let state = order.state();
    let Some(due) = order.due_at.filter(|_| order.duplicate_of.is_none() && order.is_overdue(now)) else { return Vec::new() };
    let reached = escalation.reached(due, now);
    let (managers, admins) =
        if reached.iter().any(|(level, _)| *level > 0) || state.assignee.is_none() { staff() } else { (Vec::new(), Vec::new()) };
    let mut notices = Vec::new();
    for (level, at) in reached {
        let recipients: Vec<&Username> = match (level, &state.assignee) {
            (0, Some(assignee)) => vec![assignee],
            (0, None) | (1, Some(_)) => managers.iter().collect(),
            (1, None) => Vec::new(),
            _ => admins.iter().filter(|admin| !managers.contains(admin)).collect(),
        };
        let event = overdue_event(due, level);
        notices.extend(recipients.into_iter().map(|recipient| Notice::of_order(id, order, NoticeKind::Overdue, &event, recipient, at)));
    }
    notices
}

/// The event id of an urgent order's wait for dispatch since `since` (its report or
/// reopening).
pub fn undispatched_event(since: Timestamp) -> EntryId {
    EntryId::parse(&format!("undispatched-{}", since.as_millis())).expect("digits and dashes make an entry id")
}

/// The notice of an urgent order not dispatched within `escalation.undispatched` of its
/// report (or reopening), to the site's managers and administrators (`staff`), once per
/// report: the event names the time it began to wait.
pub fn undispatched(
    id: DocumentId,
    order: &WorkOrderView,
    now: Timestamp,
    escalation: Escalation,
    staff: impl Fn() -> (Vec<Username>, Vec<Username>),
) -> Vec<Notice> {
    let state = order.state();
    if order.duplicate_of.is_some() || order.priority != Priority::Urgent || !matches!(state.status, Status::Reported | Status::Reopened) {
        return Vec::new();
    }
    let reopened = order.events.iter().filter(|event| matches!(event.kind, EventKind::Reopened { .. })).map(|event| event.at).max();
    let since = if state.status == Status::Reopened { reopened.unwrap_or(state.reported_at) } else { state.reported_at };
    let at = since.plus(escalation.undispatched);
    if at >= now {
        return Vec::new();
    }
    let (managers, admins) = staff();
    let mut recipients = managers;
    recipients.extend(admins.into_iter().filter(|admin| !recipients.contains(admin)).collect::<Vec<_>>());
    let event = undispatched_event(since);
    recipients.iter().map(|recipient| Notice::of_order(id, order, NoticeKind::Undispatched, &event, recipient, at)).collect()
}

/// The notices a stocktake gives: closed, it waits for the approval of the site's
/// `managers`, told once per closing.
pub fn stocktake(id: DocumentId, view: &StocktakeView, managers: impl Fn() -> Vec<Username>) -> Vec<Notice> {
    let Some(closed_at) = view.closed_at.filter(|_| view.phase == Phase::Closed) else { return Vec::new() };
    let event = EntryId::parse(&format!("closed-{}", closed_at.as_millis())).expect("digits and dashes make an entry id");
    managers()
        .into_iter()
        .map(|recipient| Notice {
            kind: NoticeKind::ToApprove,
            document: id,
            event: event.clone(),
            recipient,
            site: view.header.site.clone(),
            title: String::new(),
            location: view.location.clone(),
            at: closed_at,
            urgent: false,
            path: Some(format!("/stocktakes/{id}")),
        })
        .collect()
}

/// The notices of answers given differently on a round, the latest at `conflicted_at`:
/// to whoever started it and the site's `managers`, once per latest differing answer. A
/// discarded round tells nobody.
pub fn round_conflict(
    id: DocumentId,
    round: &InspectionView,
    title: &str,
    conflicted_at: Option<Timestamp>,
    managers: impl Fn() -> Vec<Username>,
) -> Vec<Notice> {
    let Some(at) = conflicted_at.filter(|_| round.discarded.is_none()) else { return Vec::new() };
    let mut recipients = vec![round.header.created_by.clone()];
    recipients.extend(managers().into_iter().filter(|manager| *manager != round.header.created_by));
    let event = EntryId::parse(&format!("conflict-{}", at.as_millis())).expect("digits and dashes make an entry id");
    recipients
        .into_iter()
        .map(|recipient| Notice {
            kind: NoticeKind::Conflict,
            document: id,
            event: event.clone(),
            recipient,
            site: round.header.site.clone(),
            title: title.to_owned(),
            location: round.location.clone(),
            at,
            urgent: false,
            path: Some(format!("/rounds/{id}")),
        })
        .collect()
}

/// What a catalog's event tells each person it concerns: a [`Notice`] less its recipient.
struct CatalogEvent {
    kind: NoticeKind,
    event: EntryId,
    title: String,
    location: String,
    at: Timestamp,
    path: Option<String>,
}

/// The notices of `event` of the site's catalog, one to each of `recipients`.
fn catalog_notices<'a>(
    catalog_id: DocumentId,
    catalog: &'a CatalogView,
    recipients: &'a [Username],
    event: CatalogEvent,
) -> impl Iterator<Item = Notice> + 'a {
    recipients.iter().map(move |recipient| Notice {
        kind: event.kind,
        document: catalog_id,
        event: event.event.clone(),
        recipient: recipient.clone(),
        site: catalog.header.site.clone(),
        title: event.title.clone(),
        location: event.location.clone(),
        at: event.at,
        urgent: false,
        path: event.path.clone(),
    })
}

/// The notices of a site's stock items at or below their reorder point, to its
/// `keepers`: one per time an item's on-hand fell to its point (the movement that took it
/// there names the event), while it is still there.
pub fn low_stock(catalog_id: DocumentId, catalog: &CatalogView, keepers: impl Fn() -> Vec<Username>) -> Vec<Notice> {
    let mut notices = Vec::new();
    let mut keepers_once = None;
    for item in &catalog.stock_items {
        let Some(point) = item.reorder_point else { continue };
        let history = catalog.stock_history(&item.id);
        if history.on_hand > point {
            continue;
        }
        let mut before = None;
        let mut fell = None;
        for (movement, on_hand) in &history.movements {
            if *on_hand <= point && before.is_none_or(|before| before > point) {
                fell = Some(movement);
            }
            before = Some(*on_hand);
        }
        let Some(movement) = fell else { continue };
        let event = EntryId::parse(&derived_id("low", item.id.as_str(), movement.id.as_str())).expect("derived ids always parse");
        let keepers = keepers_once.get_or_insert_with(&keepers);
        let site = catalog.header.site.clone();
        // The keeper whose issue took it there is told too: the shelf needs refilling.
        notices.extend(catalog_notices(
            catalog_id,
            catalog,
            keepers,
            CatalogEvent {
                kind: NoticeKind::LowStock,
                event,
                title: format!("{}（{} {}）", item.name, history.on_hand, item.unit),
                location: String::new(),
                at: movement.at,
                path: Some(format!("/stock/{site}/{}", item.id)),
            },
        ));
    }
    notices
}

/// The notices of contractors' contracts ending within [`CONTRACT_NOTICE`] of `now` (their
/// last day in the calendar `offset_minutes` east of UTC), to the site's `staff`: once per
/// vendor and contract end, so a renewed contract is brought up again before its new end.
pub fn contracts_ending(
    catalog_id: DocumentId,
    catalog: &CatalogView,
    now: Timestamp,
    offset_minutes: i32,
    staff: impl Fn() -> Vec<Username>,
) -> Vec<Notice> {
    let mut notices = Vec::new();
    let mut staff_once = None;
    for vendor in &catalog.vendors {
        let Some(last_day) = vendor.contract_to else { continue };
        // The contract runs to the end of its last day, in the site's calendar.
        let ends = Timestamp::from_day(last_day + 1).minus(Span::minutes(i64::from(offset_minutes)));
        if now < ends.minus(CONTRACT_NOTICE) || now >= ends {
            continue;
        }
        let date = Timestamp::from_day(last_day).date();
        let event = EntryId::parse(&derived_id("contract", vendor.id.as_str(), &date)).expect("derived ids always parse");
        let staff = staff_once.get_or_insert_with(&staff);
        notices.extend(catalog_notices(
            catalog_id,
            catalog,
            staff,
            CatalogEvent {
                kind: NoticeKind::ContractEnding,
                event,
                title: format!("{} · {date}", vendor.name),
                location: String::new(),
                // Told from when it is first seen in the window, not from the window's start,
                // which may lie before the server's notice window.
                at: now,
                path: Some(format!("/admin/sites/{}", catalog.header.site)),
            },
        ));
    }
    notices
}

/// The notices of meters that used more than their limit in their last whole period (in the
/// calendar `offset_minutes` east of UTC), to the site's `managers`: once per meter and period.
pub fn meters_over_limit(
    catalog_id: DocumentId,
    catalog: &CatalogView,
    now: Timestamp,
    offset_minutes: i32,
    managers: impl Fn() -> Vec<Username>,
) -> Vec<Notice> {
    let mut notices = Vec::new();
    let mut managers_once = None;
    for over in crate::meter::over_limit(catalog, now, offset_minutes) {
        let meter = over.meter;
        let event = EntryId::parse(&derived_id("usage", meter.id.as_str(), &over.period.from.as_millis().to_string()))
            .expect("derived ids always parse");
        let unit = if meter.unit.is_empty() { String::new() } else { format!(" {}", meter.unit) };
        let most = meter.usage_limit.map(|limit| limit.most).unwrap_or_default();
        let managers = managers_once.get_or_insert_with(&managers);
        notices.extend(catalog_notices(
            catalog_id,
            catalog,
            managers,
            CatalogEvent {
                kind: NoticeKind::MeterOverLimit,
                event,
                title: format!("{} {}{unit} > {most}{unit}", meter.name, over.used),
                location: String::new(),
                // Told from when a reading first shows it (the period may have ended long
                // before the next reading came in).
                at: now,
                path: Some(format!("/meters/{}/{}", catalog.header.site, meter.id)),
            },
        ));
    }
    notices
}

/// The notices of scheduled rounds whose last period ended with no round done
/// (`crate::schedule`, in the calendar `offset_minutes` east of UTC), to the site's
/// `managers`: once per schedule and period.
pub fn missed_rounds(
    catalog_id: DocumentId,
    catalog: &CatalogView,
    rounds: &[RoundFact],
    now: Timestamp,
    offset_minutes: i32,
    managers: impl Fn() -> Vec<Username>,
) -> Vec<Notice> {
    let mut notices = Vec::new();
    let mut managers_once = None;
    for occurrence in occurrences(&catalog.schedules, &catalog.closures, rounds, now, offset_minutes) {
        let Some(since) = occurrence.missed_since() else { continue };
        let schedule = &occurrence.schedule;
        let title = catalog
            .templates
            .iter()
            .find(|template| template.document == schedule.template)
            .map_or_else(|| schedule.template.clone(), |template| template.name_zh.clone());
        let event = EntryId::parse(&derived_id("missed", &catalog_id.to_string(), &format!("{}/{}", schedule.id, since.as_millis())))
            .expect("derived ids always parse");
        let managers = managers_once.get_or_insert_with(&managers);
        notices.extend(catalog_notices(
            catalog_id,
            catalog,
            managers,
            CatalogEvent {
                kind: NoticeKind::MissedRound,
                event,
                title: title.clone(),
                location: schedule.place.to_string(),
                at: since,
                path: Some("/rounds".to_owned()),
            },
        ));
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

    /// A danger reported from a label reaches the managers at once; its completion asks no
    /// one to verify (the reporter rates it from the tracking page), nor does a preventive
    /// order's.
    #[test]
    fn a_public_danger_tells_the_managers_and_orders_made_by_no_person_ask_no_one_to_verify() {
        let document = DocumentId::from_random([5; 16]);
        for (reporter, priority, managers_told) in [
            (crate::public::PUBLIC_REPORTER, Priority::Urgent, true),
            (crate::public::PUBLIC_REPORTER, Priority::High, false),
            (crate::document::work_order::PLANNER, Priority::Urgent, false),
        ] {
            let mut order = order(reporter, false);
            order.set_priority(priority, &edit("manager", 5));
            order.record(&id("e1"), &EventKind::Assigned { assignee: user("tech") }, &edit("manager", 10));
            order.record(&id("e2"), &EventKind::Completed { notes: "修好了".into() }, &edit("tech", 30));
            let notices = work_order(document, &order.read().unwrap(), || vec![user("manager")]);
            let mut expected = vec![(NoticeKind::Assigned, "tech", format!("{document}/e1/tech"))];
            if managers_told {
                expected.insert(0, (NoticeKind::UrgentHazard, "manager", format!("{document}/e0/manager")));
            }
            assert_eq!(told(&notices), expected, "{reporter} {priority:?}");
        }
    }

    #[test]
    fn a_failed_delivery_waits_twice_as_long_each_time_and_is_given_up_after_the_last_attempt() {
        let start = Timestamp::from_millis(0);
        let mut delivery = Delivery::due(start);
        let mut waits = Vec::new();
        let mut at = start;
        while !delivery.is_done() {
            delivery.record(at, Err(Failure::Again("the webhook answered 500".into())));
            waits.push(delivery.next_at.millis_since(at));
            at = delivery.next_at;
        }
        assert_eq!(delivery.attempts, MAX_ATTEMPTS);
        assert!(delivery.given_up && delivery.delivered_at.is_none());
        assert_eq!(&waits[..4], [2_000, 4_000, 8_000, 16_000]);
        assert!(waits.iter().all(|wait| *wait <= BACKOFF_MAX.as_millis()));
        assert_eq!(waits.last(), Some(&BACKOFF_MAX.as_millis()));
        let mut delivered = Delivery::due(start);
        delivered.record(start, Err(Failure::Again("refused".into())));
        delivered.record(start.plus_millis(2_000), Ok(()));
        assert_eq!((delivered.attempts, delivered.delivered_at, delivered.is_done()), (2, Some(start.plus_millis(2_000)), true));
        let mut refused = Delivery::due(start);
        refused.record(start, Err(Failure::Final("no such mailbox".into())));
        assert!(refused.given_up && refused.attempts == 1, "a refusal for good is not tried again");
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

    /// Escalation on a virtual clock: the order's due time passes, then an hour, then four.
    #[test]
    fn an_overdue_order_tells_its_technician_then_the_managers_then_the_administrators() {
        const HOUR: i64 = 60 * 60 * 1000;
        let document = DocumentId::from_random([9; 16]);
        let mut order = order("teacher", false);
        order.set_due(Timestamp::from_millis(10 * HOUR), &edit("manager", 5));
        order.record(&id("e1"), &EventKind::Assigned { assignee: user("tech") }, &edit("manager", 10));
        let view = order.read().unwrap();
        let staff = || (vec![user("manager"), user("boss")], vec![user("admin"), user("boss")]);
        let told = |hours_past: i64| -> Vec<(String, String, i64)> {
            overdue(document, &view, Timestamp::from_millis(10 * HOUR + hours_past * HOUR + 1), Escalation::DEFAULT, staff)
                .into_iter()
                .map(|notice| (notice.event.to_string(), notice.recipient.to_string(), notice.at.as_millis()))
                .collect()
        };
        assert!(overdue(document, &view, Timestamp::from_millis(10 * HOUR - 1), Escalation::DEFAULT, staff).is_empty(), "not due yet");
        let due = 10 * HOUR;
        let level = |level: u8| format!("overdue-{due}-{level}");
        assert_eq!(told(0), [(level(0), "tech".to_owned(), due)]);
        let managers = [(level(1), "manager".to_owned(), due + HOUR), (level(1), "boss".to_owned(), due + HOUR)];
        assert_eq!(told(1)[1..], managers);
        assert_eq!(told(4)[3..], [(level(2), "admin".to_owned(), due + 4 * HOUR)], "an administrator who manages too was told already");
        // Done, it is not overdue any more.
        order.record(&id("e2"), &EventKind::Completed { notes: String::new() }, &edit("tech", due + 2 * HOUR));
        let done = order.read().unwrap();
        assert!(overdue(document, &done, Timestamp::from_millis(due + 5 * HOUR), Escalation::DEFAULT, staff).is_empty());
    }

    #[test]
    fn an_overdue_order_nobody_has_goes_to_the_managers_at_once() {
        let mut order = order("teacher", false);
        order.set_due(Timestamp::from_millis(1_000), &edit("manager", 5));
        let view = order.read().unwrap();
        let now = Timestamp::from_millis(1_000 + 2 * 60 * 60 * 1000);
        let notices = overdue(DocumentId::from_random([10; 16]), &view, now, Escalation::DEFAULT, || (vec![user("manager")], Vec::new()));
        assert_eq!(
            notices.iter().map(|notice| (notice.event.as_str(), notice.recipient.as_str())).collect::<Vec<_>>(),
            [("overdue-1000-0", "manager")]
        );
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

    #[test]
    fn a_notice_reads_in_the_recipients_language() {
        let mut order = order("teacher", false);
        order.record(&id("e1"), &EventKind::Assigned { assignee: user("tech") }, &edit("manager", 10));
        let notice = work_order(DocumentId::from_random([8; 16]), &order.read().unwrap(), Vec::new).remove(0);
        let chinese = notice.message(Language::Chinese, "地下配电房");
        assert_eq!((chinese.heading.as_str(), chinese.body.as_str()), ("派给你的工单", "配电箱冒烟（地下配电房）"));
        let english = notice.message(Language::English, "Basement switch room");
        assert_eq!((english.heading.as_str(), english.body.as_str()), ("Assigned to you", "配电箱冒烟 (Basement switch room)"));
    }

    /// 22:00 to 07:00 in China (UTC+8).
    const NIGHTS: QuietHours = QuietHours { from: 22 * 60, to: 7 * 60, utc_offset: 480 };

    /// `hours:minutes` UTC+8 on the first day of the epoch.
    fn china(hours: i64, minutes: i64) -> Timestamp {
        Timestamp::from_millis(((hours - 8) * 60 + minutes) * 60_000 + 24 * 60 * 60_000)
    }

    #[test]
    fn quiet_hours_hold_back_all_but_urgent_notices_and_muted_orders_and_kinds_turned_off_never_come() {
        let mut order = order("teacher", false);
        order.record(&id("e1"), &EventKind::Assigned { assignee: user("tech") }, &edit("manager", 10));
        let notice = work_order(DocumentId::from_random([8; 16]), &order.read().unwrap(), Vec::new).remove(0);
        let mut settings = NoticeSettings { quiet: Some(NIGHTS), ..NoticeSettings::default() };
        assert_eq!(settings.when(&notice, china(12, 0)), Some(china(12, 0)), "midday: at once");
        assert_eq!(settings.when(&notice, china(23, 30)), Some(china(31, 0)), "at night: at seven next morning");
        assert_eq!(settings.when(&notice, china(6, 59)), Some(china(7, 0)));
        assert_eq!(settings.when(&notice, china(7, 0)), Some(china(7, 0)), "the quiet hours end at seven");
        let urgent = Notice { urgent: true, ..notice.clone() };
        assert_eq!(settings.when(&urgent, china(23, 30)), Some(china(23, 30)), "urgent comes through");
        settings.muted.insert(notice.document);
        assert_eq!(settings.when(&urgent, china(12, 0)), None, "a muted order, urgent or not");
        settings.muted.clear();
        settings.off.insert(NoticeKind::Assigned);
        assert_eq!(settings.when(&notice, china(12, 0)), None);
        assert!(NIGHTS.is_valid() && !QuietHours { from: 24 * 60, ..NIGHTS }.is_valid());
    }

    #[test]
    fn an_urgent_order_undispatched_past_the_wait_is_told_to_managers_and_administrators_once_per_report() {
        const MINUTE: i64 = 60 * 1000;
        let mut urgent = order("teacher", false);
        urgent.set_priority(Priority::Urgent, &edit("manager", 1));
        let view = urgent.read().unwrap();
        let staff = || (vec![user("manager")], vec![user("admin"), user("manager")]);
        let document = DocumentId::from_random([11; 16]);
        assert!(undispatched(document, &view, Timestamp::from_millis(29 * MINUTE), Escalation::DEFAULT, staff).is_empty());
        let told = undispatched(document, &view, Timestamp::from_millis(31 * MINUTE), Escalation::DEFAULT, staff);
        assert_eq!(
            told.iter().map(|notice| (notice.kind, notice.recipient.as_str(), notice.event.as_str(), notice.urgent)).collect::<Vec<_>>(),
            [(NoticeKind::Undispatched, "manager", "undispatched-0", true), (NoticeKind::Undispatched, "admin", "undispatched-0", true)]
        );
        assert_eq!(told[0].at, Timestamp::from_millis(30 * MINUTE));
        urgent.record(&id("e1"), &EventKind::Assigned { assignee: user("tech") }, &edit("manager", 40 * MINUTE));
        assert!(
            undispatched(document, &urgent.read().unwrap(), Timestamp::from_millis(50 * MINUTE), Escalation::DEFAULT, staff).is_empty()
        );
        let normal = order("teacher", false).read().unwrap();
        assert!(undispatched(document, &normal, Timestamp::from_millis(60 * MINUTE), Escalation::DEFAULT, staff).is_empty(), "only urgent");
    }

    #[test]
    fn open_flags_on_an_order_wait_for_the_managers_decision() {
        let mut order = order("teacher", false);
        order.record(&id("e1"), &EventKind::Assigned { assignee: user("tech") }, &edit("manager", 10));
        order.record(&id("e2"), &EventKind::Started, &edit("tech", 15));
        order.record(&id("e3"), &EventKind::Completed { notes: String::new() }, &edit("tech", 20));
        // Completed again on another phone that had not heard: it does not fit.
        order.record(&id("e4"), &EventKind::Completed { notes: "也修了".into() }, &edit("tech2", 25));
        let view = order.read().unwrap();
        assert_eq!(view.state().open_flags().count(), 1);
        let notices = work_order(DocumentId::from_random([12; 16]), &view, || vec![user("manager")]);
        let conflicts: Vec<_> = notices
            .iter()
            .filter(|notice| notice.kind == NoticeKind::Conflict)
            .map(|notice| (notice.recipient.as_str(), notice.event.as_str()))
            .collect();
        assert_eq!(conflicts, [("manager", "flagged-25")]);
    }

    #[test]
    fn a_closed_stocktake_waits_for_the_managers_approval_once_per_closing() {
        use crate::document::stocktake::{Mode, NewStocktake, Stocktake};
        let new = NewStocktake {
            site: SiteId::parse("hq").unwrap(),
            location: "总务仓库".into(),
            mode: Mode::Blind,
            expected: Vec::new(),
            assets: Vec::new(),
        };
        let mut stocktake = Stocktake::start(ActorId::from([3; 16]), &new, &edit("keeper", 500)).unwrap();
        let document = DocumentId::from_random([13; 16]);
        assert!(super::stocktake(document, &stocktake.read().unwrap(), || vec![user("manager")]).is_empty(), "still counted");
        stocktake.record_phase(&id("close"), Phase::Closed, &edit("keeper", 900)).unwrap();
        let notices = super::stocktake(document, &stocktake.read().unwrap(), || vec![user("manager")]);
        assert_eq!(
            notices.iter().map(|notice| (notice.recipient.as_str(), notice.event.as_str())).collect::<Vec<_>>(),
            [("manager", "closed-900")]
        );
        assert_eq!(notices[0].path(), format!("/stocktakes/{document}"));
        assert_eq!(notices[0].message(Language::Chinese, "总务仓库").body, "总务仓库");
    }

    #[test]
    fn a_contract_ending_within_thirty_days_is_told_to_managers_and_administrators_once_per_end() {
        use crate::document::catalog::{SiteCatalog, Vendor};
        let mut catalog = SiteCatalog::create(ActorId::from([4; 16]), &SiteId::parse("hq").unwrap(), "总部", &edit("admin", 0));
        let day = |date: &str| Timestamp::parse_date(date).unwrap().day_number();
        let mut lifts = Vendor {
            id: id("lifts"),
            name: "迅达电梯维保".into(),
            trade: "other".into(),
            contact: "刘工".into(),
            phone: "138 0000 0000".into(),
            contract_from: Some(day("2026-04-01")),
            contract_to: Some(day("2027-03-31")),
        };
        catalog.put_vendor(&lifts, &edit("admin", 1)).unwrap();
        let beijing = 8 * 60;
        // The contract runs to the end of 31 March in Beijing: 16:00 UTC that day.
        let ends = Timestamp::parse_date("2027-04-01").unwrap().minus(Span::hours(8));
        let told = |catalog: &SiteCatalog, now: Timestamp| {
            contracts_ending(DocumentId::from_random([9; 16]), &catalog.read().unwrap(), now, beijing, || {
                vec![Username::parse("manager").unwrap(), Username::parse("admin").unwrap()]
            })
        };
        assert_eq!(told(&catalog, ends.minus(Span::days(31))), []);
        let notices = told(&catalog, ends.minus(Span::days(10)));
        let recipients: Vec<&str> = notices.iter().map(|notice| notice.recipient.as_str()).collect();
        assert_eq!(recipients, ["manager", "admin"]);
        assert_eq!(notices[0].kind, NoticeKind::ContractEnding);
        assert_eq!(notices[0].title, "迅达电梯维保 · 2027-03-31");
        assert_eq!(notices[0].message(Language::English, "").heading, "Contract ending");
        // Told again a day later under the same id: the outbox keeps one.
        assert_eq!(told(&catalog, ends.minus(Span::days(9)))[0].id(), notices[0].id());
        assert_eq!(told(&catalog, ends), [], "ended: nothing more to renew");
        // Renewed for a year: its new end is a new event.
        lifts.contract_to = Some(day("2028-03-31"));
        catalog.put_vendor(&lifts, &edit("admin", 2)).unwrap();
        let renewed = told(&catalog, Timestamp::parse_date("2028-03-20").unwrap());
        assert_ne!(renewed[0].id(), notices[0].id());
        // A contract that ends before it starts is refused.
        let backwards = Vendor { contract_to: Some(day("2026-01-01")), ..lifts };
        assert!(catalog.put_vendor(&backwards, &edit("admin", 3)).is_err());
    }

    #[test]
    fn a_meter_over_its_daily_limit_is_told_to_the_managers_once_a_reading_shows_it() {
        use crate::document::catalog::{Meter, MeterKind, Per, SiteCatalog, UsageLimit};
        use crate::quantity::Quantity;
        let mut catalog = SiteCatalog::create(ActorId::from([4; 16]), &SiteId::parse("hq").unwrap(), "总部", &edit("admin", 0));
        let meter = Meter {
            id: id("canteen-power"),
            name: "食堂电表".into(),
            asset: id("switchboard"),
            kind: MeterKind::Electricity,
            unit: "kWh".into(),
            tag: String::new(),
            low: None,
            high: None,
            alarm_after: None,
            usage_limit: Some(UsageLimit { most: Quantity::units(100), per: Per::Day }),
            round_item: None,
        };
        catalog.put_meter(&meter, &edit("admin", 1)).unwrap();
        let beijing = 8 * 60;
        // Midnight in Beijing, 1 March 2027, and hours after it.
        let day = Timestamp::parse_date("2027-03-01").unwrap().minus(Span::hours(8));
        let at = |hours: i64| day.plus(Span::hours(hours));
        let read = |catalog: &mut SiteCatalog, reading: &str, hours: i64, kwh: i64| {
            let edit = crate::document::Edit::new(user("tech"), at(hours));
            catalog.record_reading(&id(reading), &meter.id, Quantity::units(kwh), None, &edit).unwrap();
        };
        let told = |catalog: &SiteCatalog, now: Timestamp| {
            meters_over_limit(DocumentId::from_random([9; 16]), &catalog.read().unwrap(), now, beijing, || vec![user("manager")])
        };
        // 1 March: 60 kWh by noon, 90 more by six the next morning — 5 an hour, so 120 in
        // the day itself.
        read(&mut catalog, "r1", 0, 1_000);
        read(&mut catalog, "r2", 12, 1_060);
        assert_eq!(told(&catalog, at(25)), [], "no reading after the day's end yet: not known");
        read(&mut catalog, "r3", 30, 1_150);
        let notices = told(&catalog, at(31));
        assert_eq!(notices.len(), 1);
        assert_eq!((notices[0].kind, notices[0].recipient.as_str()), (NoticeKind::MeterOverLimit, "manager"));
        assert_eq!(notices[0].title, "食堂电表 120 kWh > 100 kWh");
        assert_eq!(notices[0].path(), "/meters/hq/canteen-power");
        assert_eq!(told(&catalog, at(40))[0].id(), notices[0].id(), "told again the same day: the outbox keeps one");
        // 2 March: 30 kWh to six, then 3 an hour — 84 in all: nothing to tell on the 3rd.
        read(&mut catalog, "r4", 54, 1_222);
        assert_eq!(told(&catalog, at(55)), []);
    }

    #[test]
    fn an_item_falling_to_its_reorder_point_is_told_to_the_store_keepers_once_each_time_it_falls() {
        use crate::document::catalog::{MovementKind, SiteCatalog, StockItem};
        use crate::quantity::Quantity;
        let mut catalog = SiteCatalog::create(ActorId::from([4; 16]), &SiteId::parse("hq").unwrap(), "总部", &edit("admin", 0));
        let gloves = StockItem {
            id: id("gloves"),
            code: "G1".into(),
            name: "手套".into(),
            unit: "副".into(),
            category: "supplies".into(),
            bin: None,
            reorder_point: Some(Quantity::units(5)),
        };
        catalog.put_stock_item(&gloves, &edit("admin", 1)).unwrap();
        let movement = |catalog: &mut SiteCatalog, name: &str, kind: MovementKind, units: i64, at: i64| {
            catalog.record_movement(&id(name), kind, &id("gloves"), Quantity::units(units), "", &edit("store", at)).unwrap();
        };
        movement(&mut catalog, "m1", MovementKind::Receive, 10, 2);
        movement(&mut catalog, "m2", MovementKind::Issue, 4, 3);
        let document = DocumentId::from_random([14; 16]);
        let keepers = || vec![user("keeper"), user("store")];
        let low = |catalog: &SiteCatalog| low_stock(document, &catalog.read().unwrap(), keepers);
        assert!(low(&catalog).is_empty(), "6 left, above the point of 5");
        movement(&mut catalog, "m3", MovementKind::Issue, 1, 4);
        let first = low(&catalog);
        assert_eq!(
            first.iter().map(|notice| (notice.recipient.as_str(), notice.title.as_str())).collect::<Vec<_>>(),
            [("keeper", "手套（5 副）"), ("store", "手套（5 副）")]
        );
        movement(&mut catalog, "m4", MovementKind::Issue, 2, 5);
        assert_eq!(low(&catalog)[0].id(), first[0].id(), "still low since the same fall: the same notice");
        movement(&mut catalog, "m5", MovementKind::Receive, 10, 6);
        assert!(low(&catalog).is_empty(), "restocked");
        movement(&mut catalog, "m6", MovementKind::Issue, 9, 7);
        let second = low(&catalog);
        assert_ne!(second[0].id(), first[0].id(), "a new fall is a new notice");
        assert_eq!(second[0].path(), format!("/stock/hq/gloves"));
    }

    #[test]
    fn a_daily_round_not_done_by_the_end_of_its_day_is_told_to_the_managers_once_per_day() {
        use crate::document::catalog::{Every, Schedule, SiteCatalog};
        const DAY: i64 = 24 * 60 * 60 * 1000;
        let mut catalog = SiteCatalog::create(ActorId::from([4; 16]), &SiteId::parse("hq").unwrap(), "总部", &edit("admin", 0));
        let schedule = Schedule {
            id: id("fire-daily"),
            template: "automerge:fire".into(),
            place: id("canteen"),
            every: Every::Days(1),
            start: Timestamp::from_millis(0),
            pattern: crate::document::catalog::Pattern::default(),
        };
        catalog.put_schedule(&schedule, &edit("admin", 1)).unwrap();
        let view = catalog.read().unwrap();
        let document = DocumentId::from_random([15; 16]);
        let managers = || vec![user("manager")];
        let day = |n: i64| Timestamp::from_millis(n * DAY + DAY / 2);
        assert!(missed_rounds(document, &view, &[], day(0), 0, managers).is_empty(), "the first day is not over");
        let missed = missed_rounds(document, &view, &[], day(1), 0, managers);
        assert_eq!(missed.iter().map(|notice| (notice.recipient.as_str(), notice.at.as_millis())).collect::<Vec<_>>(), [("manager", DAY)]);
        assert_eq!(missed_rounds(document, &view, &[], day(1).plus_millis(1_000), 0, managers), missed, "the same day, the same notice");
        assert_ne!(missed_rounds(document, &view, &[], day(2), 0, managers)[0].id(), missed[0].id(), "another day missed, another notice");
        let walked =
            RoundFact { template: "automerge:fire".into(), place: "canteen".into(), started_at: day(0), submitted_at: Some(day(0)) };
        assert!(missed_rounds(document, &view, &[walked], day(1), 0, managers).is_empty(), "done on the day");
    }

    proptest::proptest! {
        /// The end of quiet hours is the first time after `now` that is not quiet, and every
        /// minute before it is.
        #[test]
        fn quiet_hours_end_at_their_end(from in 0u16..1440, to in 0u16..1440, utc_offset in -840i16..=840, now in 0i64..10_000_000_000_000) {
            let quiet = QuietHours { from, to, utc_offset };
            let now = Timestamp::from_millis(now);
            if let Some(until) = quiet.until(now) {
                proptest::prop_assert!(until > now && until.millis_since(now) <= 24 * 60 * 60_000);
                proptest::prop_assert_eq!(quiet.until(until), None);
                let mut minute = until.plus_millis(-60_000);
                while minute > now {
                    proptest::prop_assert!(quiet.until(minute).is_some());
                    minute = minute.plus_millis(-60_000);
                }
            }
        }
    }
}
