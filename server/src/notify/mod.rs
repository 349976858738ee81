//! The notifier's outbox: every notice the stored documents give (`shared::notice`), kept
//! once by its id until it has been delivered.
//!
//! Notices are derived as changes are stored: the projection worker, which already visits
//! every changed document after its change is durable and before it clears the
//! document's mark, hands each one here. A notice goes in only if its id is not there yet
//! (a compare-and-swap), so the same change synced by two phones, or a document projected
//! again after a crash before its mark was cleared, adds nothing: a notice is neither lost
//! nor doubled. A rebuild of the projections derives nothing, and an event older than
//! `NOTICE_WINDOW` by the server's clock is not told (a restored backup or a phone back
//! after months would otherwise announce the past).
//!
//! Each notice is delivered through the channels its site had when it was derived (a
//! generic JSON webhook signed with HMAC-SHA256, and the WeCom, DingTalk and Feishu group
//! robots) and the recipient's own, as their settings had them then ([`NoticeSettings`]:
//! Web Push to their phones, [`push`]; mail, [`mail`]; in their language, not of kinds they
//! turned off or orders they muted, and after their quiet hours unless urgent), by a task
//! that retries with backoff and records every attempt's outcome on the entry, which stays
//! as the delivery log. A receiver may see a notice twice only if the
//! server stops between its answer and the record of it; the `x-houqin-notice` header (the
//! notice's id) lets it tell. The same task looks every `OVERDUE_EVERY` for what time
//! brings (`derive_timed`): open orders past their due time (their escalation's notices),
//! urgent orders left undispatched, stock items at their reorder point and scheduled
//! rounds missed (both from the site's catalog, which is read whole for it).
//!
//! Trees: `outbox` (`n/` + notice id → [`OutboxEntry`] as JSON; `p/` + notice id → a
//! marker while a delivery is left to do), `notify_channels` (site → [`SiteChannels`]) and
//! `notify_people` (username → [`NoticeSettings`]).

pub mod mail;
pub mod push;
pub mod settings;

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use automerge::AutoCommit;
use base64ct::{Base64, Encoding as _};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use shared::api::SiteChannels;
use shared::directory::{Role, SiteId, Username};
use shared::document::EntryId;
use shared::document::catalog::SiteCatalog;
use shared::document::conflicts::{collection_has_conflicts, conflicts};
use shared::document::inspection::Inspection;
use shared::document::stocktake::Stocktake;
use shared::document::work_order::{Priority, Status, WorkOrder};
use shared::document::{DocumentType, read_header};
use shared::notice::{self, Channel, Delivery, Escalation, Failure, Notice, NoticeSettings, OutboxEntry};
use shared::projection::{Projection, Summary};
use shared::protocol::DocumentId;
use shared::schedule::RoundFact;
use shared::time::{Span, Timestamp};
use tokio::sync::Notify;

use crate::directory::{Directory, SiteRecord};
use crate::documents::DocumentStore;
use crate::projections::Projections;
use crate::storage::trees;
use crate::{Storage, kv};

/// Events older than this when their change reaches the server are not told.
pub const NOTICE_WINDOW: Span = Span::days(7);
/// How long a notice done with (delivered or given up) stays in the delivery log. Longer
/// than `NOTICE_WINDOW`, so a notice pruned can never be derived again.
pub const NOTICE_RETENTION: Span = Span::days(30);
const _: () = assert!(NOTICE_RETENTION.as_millis() > NOTICE_WINDOW.as_millis());
/// How often the outbox is pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(60 * 60);
/// How often the delivery task looks for what is due.
const DELIVERY_TICK: Duration = Duration::from_secs(1);
/// How often open orders past their due time are looked at.
const OVERDUE_EVERY: Duration = Duration::from_secs(60);
/// How long a receiver has to answer.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How many deliveries are attempted at once.
const SENDS_AT_ONCE: usize = 32;

/// The outbox; cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    tree: kv::Tree,
    channels: kv::Tree,
    people: kv::Tree,
    push: push::Push,
    directory: Directory,
    documents: DocumentStore,
    wake: Arc<Notify>,
    /// Set when the server shuts down: the task ends after the database work in hand,
    /// leaving a send under way (it is retried at the next start).
    stop: Arc<tokio::sync::watch::Sender<bool>>,
    /// When servers share the database, the one delivering holds this (`None`: this
    /// server is the only one).
    lease: Option<Arc<Lease>>,
}

/// Of the servers sharing a database, one delivers notices and looks for overdue orders
/// at a time — else a notice would go out once per server. The lease (`meta`'s
/// `outbox_lease`: its holder and until when) is renewed at every tick; once it lapses
/// (its holder stopped or lost the database), another server takes it.
struct Lease {
    meta: kv::Tree,
    holder: [u8; 8],
    /// Until when this server last took or renewed the lease (ms): while more than half of
    /// it is left, the store is not asked again.
    held_until: std::sync::atomic::AtomicI64,
}

const LEASE_KEY: &str = "outbox_lease";
/// How long a lease lasts unless renewed: a few ticks.
const LEASE_MILLIS: i64 = 10_000;

impl Lease {
    /// Whether this server holds the lease now, taking or renewing it. Blocking.
    fn hold(&self, now: Timestamp) -> anyhow::Result<bool> {
        use std::sync::atomic::Ordering;
        let now = now.as_millis();
        if now + LEASE_MILLIS / 2 < self.held_until.load(Ordering::Relaxed) {
            return Ok(true);
        }
        self.held_until.store(0, Ordering::Relaxed);
        let current = self.meta.get(LEASE_KEY)?;
        let free = match current.as_deref().and_then(|value| <[u8; 16]>::try_from(value).ok()) {
            Some(held) => held[..8] == self.holder || i64::from_be_bytes(held[8..].try_into().expect("8 bytes")) < now,
            None => true,
        };
        if !free {
            return Ok(false);
        }
        let mut renewed = [0u8; 16];
        renewed[..8].copy_from_slice(&self.holder);
        renewed[8..].copy_from_slice(&(now + LEASE_MILLIS).to_be_bytes());
        let held = self.meta.compare_and_swap(LEASE_KEY, current.as_deref(), Some(renewed))?.is_ok();
        if held {
            self.held_until.store(now + LEASE_MILLIS, Ordering::Relaxed);
        }
        Ok(held)
    }
}

fn notice_key(id: &str) -> Vec<u8> {
    [b"n/".as_slice(), id.as_bytes()].concat()
}

fn pending_key(id: &str) -> Vec<u8> {
    [b"p/".as_slice(), id.as_bytes()].concat()
}

fn overdue_key(document: &DocumentId, event: &EntryId) -> Vec<u8> {
    format!("o/{document}/{event}").into_bytes()
}

impl Outbox {
    pub fn open(storage: &Storage) -> anyhow::Result<Outbox> {
        Ok(Outbox {
            tree: storage.tree(trees::OUTBOX)?,
            channels: storage.tree(trees::NOTIFY_CHANNELS)?,
            people: storage.tree(trees::NOTIFY_PEOPLE)?,
            push: push::Push::open(storage)?,
            directory: Directory::open(storage)?,
            documents: DocumentStore::open(storage)?,
            wake: Arc::new(Notify::new()),
            stop: Arc::new(tokio::sync::watch::Sender::new(false)),
            lease: match storage.is_shared() {
                true => Some(Arc::new(Lease { meta: storage.tree(trees::META)?, holder: storage.node(), held_until: Default::default() })),
                false => None,
            },
        })
    }

    /// A site's channels (none until its administrators set some).
    pub fn site_channels(&self, site: &SiteId) -> anyhow::Result<SiteChannels> {
        match self.channels.get(site.as_str()).context("cannot read a site's channels")? {
            Some(stored) => serde_json::from_slice(&stored).context("a site's channels are unreadable"),
            None => Ok(SiteChannels::default()),
        }
    }

    /// Sets a site's channels: notices derived from now on go through them.
    pub fn set_site_channels(&self, site: &SiteId, channels: &SiteChannels) -> anyhow::Result<()> {
        self.channels.insert(site.as_str(), serde_json::to_vec(channels)?).context("cannot store a site's channels")?;
        Ok(())
    }

    /// What `user` wants told and how (the defaults until they choose). Blocking.
    pub fn settings(&self, user: &Username) -> anyhow::Result<NoticeSettings> {
        match self.people.get(user.as_str()).context("cannot read a person's notice settings")? {
            Some(stored) => serde_json::from_slice(&stored).context("a person's notice settings are unreadable"),
            None => Ok(NoticeSettings::default()),
        }
    }

    /// Changes `user`'s settings with `change`, in one step with any other change of
    /// them; returns them as changed. Blocking.
    pub fn change_settings(&self, user: &Username, change: impl Fn(&mut NoticeSettings)) -> anyhow::Result<NoticeSettings> {
        let mut changed = NoticeSettings::default();
        self.people
            .fetch_and_update(user.as_str(), |stored| {
                changed = stored.and_then(|stored| serde_json::from_slice(stored).ok()).unwrap_or_default();
                change(&mut changed);
                Some(serde_json::to_vec(&changed).expect("settings are plain values"))
            })
            .context("cannot store a person's notice settings")?;
        Ok(changed)
    }

    /// The phones people have turned notifications on for, and the server's VAPID key.
    pub fn push(&self) -> &push::Push {
        &self.push
    }

    /// Adds the notices `doc` gives that are not in the outbox yet, each due at once
    /// through its site's channels; returns how many were added. A document that does not
    /// read gives none (its projection says so); only failing to write the outbox is an
    /// error. Blocking.
    pub fn derive(&self, document: &DocumentId, doc: &AutoCommit, now: Timestamp) -> anyhow::Result<usize> {
        let Ok(header) = read_header(doc) else { return Ok(0) };
        let managers = || self.staff(&header.site).0;
        let notices = match header.document_type {
            DocumentType::WorkOrder => {
                let Ok(order) = WorkOrder::read_doc(doc) else { return Ok(0) };
                notice::work_order(*document, &order, managers)
            }
            DocumentType::Stocktake => {
                let Ok(stocktake) = Stocktake::read_doc(doc) else { return Ok(0) };
                notice::stocktake(*document, &stocktake, managers)
            }
            DocumentType::Inspection => {
                // One pass over the answers' keys says whether any were given differently
                // (the cost every round's change pays); only then is the round read.
                if !collection_has_conflicts(doc, "answers") {
                    return Ok(0);
                }
                let latest = conflicts(doc)
                    .ok()
                    .and_then(|found| found.iter().flat_map(|conflict| conflict.values.iter().map(|value| value.at)).max());
                let Some(conflicted_at) = latest else { return Ok(0) };
                let Ok(round) = Inspection::read_doc(doc) else { return Ok(0) };
                notice::round_conflict(*document, &round, &round.checklist.name.zh, Some(conflicted_at), managers)
            }
            _ => Vec::new(),
        };
        self.add(&header.site, notices, now)
    }

    /// Adds those of `notices` (all of `site`) that are within `NOTICE_WINDOW` and not in
    /// the outbox yet, each due at once through the site's channels. Blocking.
    fn add(&self, site: &SiteId, notices: Vec<Notice>, now: Timestamp) -> anyhow::Result<usize> {
        let mut new = Vec::new();
        for notice in notices.into_iter().filter(|notice| notice.at >= now.minus(NOTICE_WINDOW)) {
            // Most of what time brings was told before: nothing more to work out for it.
            if !self.tree.contains_key(notice_key(&notice.id())).context("cannot read the outbox")? {
                new.push(notice);
            }
        }
        if new.is_empty() {
            return Ok(0);
        }
        let channels = self.site_channels(site)?.channels();
        let mut added = 0;
        for notice in new {
            let id = notice.id();
            let mut deliveries = channels.iter().map(|channel| (*channel, Delivery::due(now))).collect::<BTreeMap<_, _>>();
            let settings = self.settings(&notice.recipient)?;
            if let Some(at) = settings.when(&notice, now) {
                if self.push.has_any(&notice.recipient)? {
                    deliveries.insert(Channel::Push, Delivery::due(at));
                }
                if settings.email.is_some() {
                    deliveries.insert(Channel::Email, Delivery::due(at));
                }
            }
            let pending = !deliveries.is_empty();
            let entry = serde_json::to_vec(&OutboxEntry { notice, derived_at: now, deliveries })?;
            let inserted = kv::transaction([&self.tree], |[tree]| {
                if tree.get(notice_key(&id))?.is_some() {
                    return Ok(false);
                }
                tree.insert(notice_key(&id), entry.as_slice())?;
                if pending {
                    tree.insert(pending_key(&id), [])?;
                }
                Ok(true)
            })
            .context("cannot add to the outbox")?;
            if inserted {
                added += 1;
            }
        }
        if added > 0 {
            self.wake.notify_one();
        }
        Ok(added)
    }

    /// The site's people by what they do there: (managers, administrators), among those
    /// who may sign in. Administrators are told as such, after its managers.
    fn staff(&self, site: &SiteId) -> (Vec<Username>, Vec<Username>) {
        (self.people_with(site, Role::Manager), self.people_with(site, Role::Admin))
    }

    /// The people who may sign in and have `role` at `site`.
    fn people_with(&self, site: &SiteId, role: Role) -> Vec<Username> {
        let users = self.directory.users().unwrap_or_else(|error| {
            tracing::warn!(%site, error = format!("{error:#}"), "cannot read the site's people");
            Vec::new()
        });
        users.into_iter().filter(|user| !user.disabled && user.role_at(site) == Some(role)).map(|user| user.username).collect()
    }

    /// Everything time brings, looked at every `OVERDUE_EVERY`: overdue orders, urgent ones
    /// left undispatched, stock that fell to its reorder point and rounds missed. Each
    /// site's projections are read once for all of them. Blocking.
    pub fn derive_timed(&self, projections: &Projections, now: Timestamp, utc_offset_minutes: i32) -> anyhow::Result<usize> {
        self.at_every_site(projections, |site, summaries| {
            Ok(self.overdue_at(&site.id, summaries, now)?
                + self.undispatched_at(&site.id, summaries, now)?
                + self.catalog_at(site, summaries, now, utc_offset_minutes)?)
        })
    }

    /// [`Outbox::overdue_at`] at every site. Blocking.
    pub fn derive_overdue(&self, projections: &Projections, now: Timestamp) -> anyhow::Result<usize> {
        self.at_every_site(projections, |site, summaries| self.overdue_at(&site.id, summaries, now))
    }

    /// [`Outbox::undispatched_at`] at every site. Blocking.
    pub fn derive_undispatched(&self, projections: &Projections, now: Timestamp) -> anyhow::Result<usize> {
        self.at_every_site(projections, |site, summaries| self.undispatched_at(&site.id, summaries, now))
    }

    /// [`Outbox::catalog_at`] at every site. Blocking.
    pub fn derive_from_catalogs(&self, projections: &Projections, now: Timestamp, utc_offset_minutes: i32) -> anyhow::Result<usize> {
        self.at_every_site(projections, |site, summaries| self.catalog_at(site, summaries, now, utc_offset_minutes))
    }

    /// The notices `derive` adds at each site from its projections, read once, in all.
    fn at_every_site(
        &self,
        projections: &Projections,
        derive: impl Fn(&SiteRecord, &[Projection]) -> anyhow::Result<usize>,
    ) -> anyhow::Result<usize> {
        let mut added = 0;
        for site in self.directory.sites()? {
            added += derive(&site, &projections.site(&site.id)?)?;
        }
        Ok(added)
    }

    /// Adds the notices of a site's open orders past their due time that have reached a
    /// level of its escalation not told yet (`shared::notice::overdue`), from its
    /// projections `summaries`; an order is opened only when a level is new, and each level
    /// told is marked (`o/` + document + `/` + event) so it is not looked at again.
    fn overdue_at(&self, site: &SiteId, summaries: &[Projection], now: Timestamp) -> anyhow::Result<usize> {
        let escalation = self.site_channels(site)?.escalation.unwrap_or(Escalation::DEFAULT);
        let mut added = 0;
        for projection in summaries {
            let Summary::WorkOrder(summary) = &projection.summary else { continue };
            let Some(due) = summary.due_at.filter(|due| *due < now && summary.status.is_open()) else { continue };
            let Ok(document) = DocumentId::parse(&projection.document) else { continue };
            let markers: Vec<Vec<u8>> = escalation
                .reached(due, now)
                .into_iter()
                .filter(|(_, at)| *at >= now.minus(NOTICE_WINDOW))
                .map(|(level, _)| overdue_key(&document, &notice::overdue_event(due, level)))
                .collect();
            if markers.iter().all(|marker| self.tree.contains_key(marker).unwrap_or(false)) {
                continue;
            }
            let Some(doc) = self.documents.load(&document)? else { continue };
            let Ok(order) = WorkOrder::read_doc(&doc) else { continue };
            let notices = notice::overdue(document, &order, now, escalation, || self.staff(site));
            added += self.add(site, notices, now)?;
            for marker in markers {
                self.tree.insert(marker, []).context("cannot mark an overdue level as told")?;
            }
        }
        Ok(added)
    }

    /// Adds the notices of a site's urgent orders waiting for dispatch longer than its
    /// `Escalation::undispatched` (`shared::notice::undispatched`), each once: the order
    /// is opened only when its wait is new to the outbox (marked like overdue levels).
    fn undispatched_at(&self, site: &SiteId, summaries: &[Projection], now: Timestamp) -> anyhow::Result<usize> {
        let escalation = self.site_channels(site)?.escalation.unwrap_or(Escalation::DEFAULT);
        let mut added = 0;
        for projection in summaries {
            let Summary::WorkOrder(summary) = &projection.summary else { continue };
            let waiting = summary.priority == Priority::Urgent && matches!(summary.status, Status::Reported | Status::Reopened);
            if !waiting || summary.reported_at.plus(escalation.undispatched) >= now {
                continue;
            }
            let Ok(document) = DocumentId::parse(&projection.document) else { continue };
            // A report's wait is named by the report's time, known without opening the
            // order; a reopening's by the reopening's.
            let reported = notice::undispatched_event(summary.reported_at);
            if summary.status == Status::Reported
                && self.tree.contains_key(overdue_key(&document, &reported)).context("cannot read the outbox")?
            {
                continue;
            }
            let Some(doc) = self.documents.load(&document)? else { continue };
            let Ok(order) = WorkOrder::read_doc(&doc) else { continue };
            let notices = notice::undispatched(document, &order, now, escalation, || self.staff(site));
            let Some(event) = notices.first().map(|notice| notice.event.clone()) else { continue };
            let marker = overdue_key(&document, &event);
            if self.tree.contains_key(&marker).context("cannot read the outbox")? {
                continue;
            }
            added += self.add(site, notices, now)?;
            self.tree.insert(marker, []).context("cannot mark an undispatched order as told")?;
        }
        Ok(added)
    }

    /// Adds the notices a site's catalog gives as time passes: stock items at or below
    /// their reorder point (`shared::notice::low_stock`; the ledger is in the catalog),
    /// contractors' contracts ending (`shared::notice::contracts_ending`), meters over
    /// their use limit (`shared::notice::meters_over_limit`) and
    /// scheduled rounds whose last period ended undone (`shared::notice::missed_rounds`,
    /// from the rounds in `summaries`, in the calendar `utc_offset_minutes` east of UTC).
    /// The catalog is read whole.
    fn catalog_at(&self, site: &SiteRecord, summaries: &[Projection], now: Timestamp, utc_offset_minutes: i32) -> anyhow::Result<usize> {
        let Some(catalog_id) = site.catalog else { return Ok(0) };
        let Some(doc) = self.documents.load(&catalog_id)? else { return Ok(0) };
        let Ok(catalog) = SiteCatalog::read_doc(&doc) else { return Ok(0) };
        let mut notices = notice::low_stock(catalog_id, &catalog, || self.people_with(&site.id, Role::Storekeeper));
        notices.extend(notice::contracts_ending(catalog_id, &catalog, now, utc_offset_minutes, || {
            let (mut managers, admins) = self.staff(&site.id);
            managers.extend(admins);
            managers
        }));
        notices.extend(notice::meters_over_limit(catalog_id, &catalog, now, utc_offset_minutes, || self.staff(&site.id).0));
        if !catalog.schedules.is_empty() {
            let rounds: Vec<RoundFact> = summaries
                .iter()
                .filter_map(|projection| match &projection.summary {
                    Summary::Inspection(round) => Some(RoundFact {
                        template: round.template.clone(),
                        place: round.location.clone(),
                        started_at: projection.created_at,
                        submitted_at: round.submitted_at,
                    }),
                    _ => None,
                })
                .collect();
            notices.extend(notice::missed_rounds(catalog_id, &catalog, &rounds, now, utc_offset_minutes, || self.staff(&site.id).0));
        }
        self.add(&site.id, notices, now)
    }

    fn entry(&self, id: &str) -> anyhow::Result<Option<OutboxEntry>> {
        self.tree
            .get(notice_key(id))
            .context("cannot read the outbox")?
            .map(|value| serde_json::from_slice(&value).context("an outbox entry is unreadable"))
            .transpose()
    }

    /// Removes the notices done with whose event and derivation are both older than
    /// `NOTICE_RETENTION`, and the marks of overdue levels and undispatched waits as old;
    /// returns how many notices went. Blocking.
    pub fn prune(&self, now: Timestamp) -> anyhow::Result<usize> {
        let before = now.minus(NOTICE_RETENTION);
        let mut pruned = 0;
        for item in self.tree.scan_prefix(b"n/") {
            let (key, value) = item.context("cannot read the outbox")?;
            let Ok(entry) = serde_json::from_slice::<OutboxEntry>(&value) else { continue };
            let id = &key[2..];
            let pending = self.tree.contains_key([b"p/".as_slice(), id].concat()).context("cannot read the outbox")?;
            if !pending && entry.derived_at < before && entry.notice.at < before {
                self.tree.remove(&key).context("cannot prune the outbox")?;
                pruned += 1;
            }
        }
        for key in self.tree.scan_prefix(b"o/").keys() {
            let key = key.context("cannot read the outbox")?;
            // `o/<document>/<kind>-<milliseconds>[-<level>]`
            let event = String::from_utf8_lossy(&key).rsplit('/').next().unwrap_or_default().to_owned();
            let millis = event.split('-').nth(1).and_then(|millis| millis.parse::<i64>().ok());
            if millis.is_some_and(|millis| Timestamp::from_millis(millis) < before) {
                self.tree.remove(&key).context("cannot prune the outbox")?;
            }
        }
        Ok(pruned)
    }

    /// Every notice in the outbox with its deliveries: the delivery log.
    pub fn entries(&self) -> anyhow::Result<Vec<OutboxEntry>> {
        self.tree
            .scan_prefix(b"n/")
            .values()
            .map(|value| serde_json::from_slice(&value.context("cannot read the outbox")?).context("an outbox entry is unreadable"))
            .collect()
    }

    /// The deliveries due at `now`: (notice, channel). Blocking.
    fn due(&self, now: Timestamp) -> anyhow::Result<Vec<(OutboxEntry, Channel)>> {
        let mut due = Vec::new();
        for key in self.tree.scan_prefix(b"p/").keys() {
            let key = key.context("cannot read the outbox")?;
            let id = String::from_utf8_lossy(&key[2..]).into_owned();
            let Some(entry) = self.entry(&id)? else { continue };
            for (channel, delivery) in &entry.deliveries {
                if !delivery.is_done() && delivery.next_at <= now {
                    due.push((entry.clone(), *channel));
                }
            }
        }
        Ok(due)
    }

    /// Records an attempt to deliver notice `id` through `channel`; once every channel is
    /// done with it, nothing is left to do for it. Blocking.
    fn record(&self, id: &str, channel: Channel, at: Timestamp, outcome: Result<(), Failure>) -> anyhow::Result<()> {
        kv::transaction([&self.tree], |[tree]| {
            let Some(stored) = tree.get(notice_key(id))? else { return Ok(()) };
            let Ok(mut entry) = serde_json::from_slice::<OutboxEntry>(&stored) else { return Ok(()) };
            if let Some(delivery) = entry.deliveries.get_mut(&channel) {
                delivery.record(at, outcome.clone());
            }
            let done = entry.deliveries.values().all(Delivery::is_done);
            let Ok(bytes) = serde_json::to_vec(&entry) else { return Ok(()) };
            tree.insert(notice_key(id), bytes)?;
            if done {
                tree.remove(pending_key(id))?;
            }
            Ok(())
        })
        .context("cannot record a delivery")
    }

    /// Starts delivering: every `DELIVERY_TICK`, and at once when notices are added, each
    /// due delivery is attempted; every `OVERDUE_EVERY` the orders past their due time are
    /// looked at (`derive_overdue`).
    pub fn start(&self, projections: Projections, senders: Deliverer) -> tokio::task::JoinHandle<()> {
        let outbox = self.clone();
        let client = reqwest::Client::builder().timeout(SEND_TIMEOUT).build().expect("an HTTP client with the system's roots");
        let mut stop = self.stop.subscribe();
        // Deliveries run side by side, so a receiver slow to answer (up to `SEND_TIMEOUT`)
        // holds up only its own notices.
        let sends = Arc::new(tokio::sync::Semaphore::new(SENDS_AT_ONCE));
        let in_flight: Arc<Mutex<HashSet<(String, Channel)>>> = Arc::default();
        let mut tasks = tokio::task::JoinSet::new();
        tokio::spawn(async move {
            let mut overdue_looked_at: Option<std::time::Instant> = None;
            let mut pruned_at: Option<std::time::Instant> = None;
            loop {
                tokio::select! {
                    _ = tokio::time::timeout(DELIVERY_TICK, outbox.wake.notified()) => {}
                    _ = stop.wait_for(|stopping| *stopping) => break,
                }
                if let Some(lease) = outbox.lease.clone() {
                    match tokio::task::spawn_blocking(move || lease.hold(crate::auth::now())).await {
                        Ok(Ok(true)) => {}
                        // Another server delivers.
                        Ok(Ok(false)) => continue,
                        Ok(Err(error)) => {
                            tracing::warn!(error = format!("{error:#}"), "cannot take the lease on delivering notices");
                            continue;
                        }
                        Err(_) => continue,
                    }
                }
                if overdue_looked_at.is_none_or(|at| at.elapsed() >= OVERDUE_EVERY) {
                    overdue_looked_at = Some(std::time::Instant::now());
                    let (looking, projections, offset) = (outbox.clone(), projections.clone(), senders.utc_offset_minutes);
                    let derived = tokio::task::spawn_blocking(move || looking.derive_timed(&projections, crate::auth::now(), offset)).await;
                    if let Ok(Err(error)) = derived {
                        tracing::error!(error = format!("{error:#}"), "cannot look for overdue orders and low stock");
                    }
                }
                if pruned_at.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                    pruned_at = Some(std::time::Instant::now());
                    let pruning = outbox.clone();
                    if let Ok(Err(error)) = tokio::task::spawn_blocking(move || pruning.prune(crate::auth::now())).await {
                        tracing::error!(error = format!("{error:#}"), "cannot prune the outbox");
                    }
                }
                let looking = outbox.clone();
                let due = match tokio::task::spawn_blocking(move || looking.due(crate::auth::now())).await {
                    Ok(Ok(due)) => due,
                    Ok(Err(error)) => {
                        tracing::error!(error = format!("{error:#}"), "cannot read the outbox");
                        continue;
                    }
                    Err(_) => continue,
                };
                while tasks.try_join_next().is_some() {}
                for (entry, channel) in due {
                    let key = (entry.notice.id(), channel);
                    if in_flight.lock().unwrap_or_else(PoisonError::into_inner).contains(&key) {
                        continue;
                    }
                    // The rest wait for the next tick.
                    let Ok(permit) = sends.clone().try_acquire_owned() else { break };
                    in_flight.lock().unwrap_or_else(PoisonError::into_inner).insert(key.clone());
                    let (outbox, client, senders, in_flight, mut stop) =
                        (outbox.clone(), client.clone(), senders.clone(), in_flight.clone(), stop.clone());
                    tasks.spawn(async move {
                        let _permit = permit;
                        let outcome = tokio::select! {
                            outcome = outbox.send(&client, &entry, channel, &senders) => Some(outcome),
                            _ = stop.wait_for(|stopping| *stopping) => None,
                        };
                        if let Some(outcome) = outcome {
                            outbox.finish(&entry, channel, outcome).await;
                        }
                        in_flight.lock().unwrap_or_else(PoisonError::into_inner).remove(&key);
                    });
                }
            }
            // Sends under way end at once when stopping; a record under way is finished.
            while tasks.join_next().await.is_some() {}
        })
    }

    /// Records the outcome of an attempt (a send that was cut short by the server
    /// stopping is not recorded: it is tried again at the next start).
    async fn finish(&self, entry: &OutboxEntry, channel: Channel, outcome: Result<(), Failure>) {
        if let Err(failure) = &outcome {
            tracing::warn!(notice = entry.notice.id(), channel = channel.as_str(), error = failure.error(), "a notice was not delivered");
        }
        let (recording, id) = (self.clone(), entry.notice.id());
        let recorded = tokio::task::spawn_blocking(move || recording.record(&id, channel, crate::auth::now(), outcome)).await;
        if let Ok(Err(error)) = recorded {
            tracing::error!(error = format!("{error:#}"), "cannot record a delivery");
        }
    }

    /// The names people know a notice's recipient and place by: their display name and
    /// the place's name in the site's catalog (else the ids). Blocking.
    fn names(&self, notice: &Notice) -> (String, String) {
        let recipient =
            self.directory.user(&notice.recipient).ok().flatten().map_or_else(|| notice.recipient.to_string(), |user| user.display_name);
        let place = self
            .directory
            .site(&notice.site)
            .ok()
            .flatten()
            .and_then(|site| site.catalog)
            .and_then(|catalog| self.documents.load(&catalog).ok().flatten())
            .and_then(|doc| SiteCatalog::read_doc(&doc).ok())
            .and_then(|catalog| catalog.place(&notice.location).map(|place| place.name.clone()))
            .unwrap_or_else(|| notice.location.clone());
        (recipient, place)
    }

    /// Ends the task `start` began: await its handle to know the outbox is left alone.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// One attempt to deliver a notice through one of its channels: its site's as the site
    /// has it now (its address may have been corrected since), or the recipient's own.
    async fn send(&self, client: &reqwest::Client, entry: &OutboxEntry, channel: Channel, senders: &Deliverer) -> Result<(), Failure> {
        let looking = self.clone();
        let notice = entry.notice.clone();
        let (channels, settings, (recipient, place)) = tokio::task::spawn_blocking(move || {
            (looking.site_channels(&notice.site), looking.settings(&notice.recipient), looking.names(&notice))
        })
        .await
        .map_err(|error| Failure::Again(error.to_string()))?;
        let again = |error: anyhow::Error| Failure::Again(format!("{error:#}"));
        let (channels, settings) = (channels.map_err(again)?, settings.map_err(again)?);
        let notice = &entry.notice;
        let link = link(notice, senders.public_url.as_deref());
        match channel {
            Channel::Push => return self.push_to_phones(client, notice, &settings, &place, &link, senders).await,
            Channel::Email => {
                let mailer =
                    senders.mail.as_ref().ok_or_else(|| Failure::Final("the server has no mail server set (--smtp-url)".into()))?;
                let address = settings.email.as_deref().ok_or_else(|| Failure::Final("the person has no mail address any more".into()))?;
                return mailer
                    .send(address, notice, settings.language, &place, &link)
                    .await
                    .map_err(|failed| if failed.permanent { Failure::Final(failed.error) } else { Failure::Again(failed.error) });
            }
            _ => {}
        }
        let name = channel.as_str();
        let gone = || Failure::Final(format!("the site has no {name} channel any more"));
        let text = notice.chat_text(&recipient, &place, &link);
        let request = match channel {
            Channel::Webhook => {
                let webhook = channels.webhook.ok_or_else(gone)?;
                let body = webhook_body(notice, &link);
                let signature = sign(webhook.secret.as_bytes(), &body);
                client
                    .post(&webhook.url)
                    .header("content-type", "application/json")
                    .header("x-houqin-signature", format!("sha256={}", hex::encode(signature)))
                    .body(body)
            }
            Channel::WeCom => {
                let robot = channels.wecom.ok_or_else(gone)?;
                client.post(&robot.url).json(&serde_json::json!({ "msgtype": "text", "text": { "content": text } }))
            }
            Channel::DingTalk => {
                let robot = channels.dingtalk.ok_or_else(gone)?;
                let mut url = reqwest::Url::parse(&robot.url).map_err(|error| Failure::Final(error.to_string()))?;
                if let Some(secret) = &robot.secret {
                    // DingTalk's signature: the time in milliseconds and the secret, signed with the secret.
                    let timestamp = crate::auth::now().as_millis().to_string();
                    let signature = sign(secret.as_bytes(), format!("{timestamp}\n{secret}").as_bytes());
                    url.query_pairs_mut().append_pair("timestamp", &timestamp).append_pair("sign", &Base64::encode_string(&signature));
                }
                client.post(url).json(&serde_json::json!({ "msgtype": "text", "text": { "content": text } }))
            }
            Channel::Feishu => {
                let robot = channels.feishu.ok_or_else(gone)?;
                let mut body = serde_json::json!({ "msg_type": "text", "content": { "text": text } });
                if let Some(secret) = &robot.secret {
                    // Feishu's signature: nothing, signed with the time in seconds and the secret.
                    let timestamp = (crate::auth::now().as_millis() / 1000).to_string();
                    let signature = sign(format!("{timestamp}\n{secret}").as_bytes(), b"");
                    body["timestamp"] = timestamp.into();
                    body["sign"] = Base64::encode_string(&signature).into();
                }
                client.post(&robot.url).json(&body)
            }
            Channel::Push | Channel::Email => unreachable!("a person's channels are sent above"),
        };
        let response = request.header("x-houqin-notice", notice.id()).send().await.map_err(|error| Failure::Again(error.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(Failure::Again(format!("the {name} answered {status}")));
        }
        if channel == Channel::Webhook {
            return Ok(());
        }
        // The chat tools answer 200 with their own code: 0 when the message went out.
        let answer: serde_json::Value = response.json().await.map_err(|error| Failure::Again(format!("an unreadable answer: {error}")))?;
        let code =
            answer.get("errcode").or_else(|| answer.get("code")).or_else(|| answer.get("StatusCode")).and_then(serde_json::Value::as_i64);
        match code {
            Some(0) => Ok(()),
            _ => Err(Failure::Again(format!("the {name} robot refused it: {answer}"))),
        }
    }

    /// Pushes a notice to every phone its recipient turned notifications on for: delivered
    /// once one push service took it (a phone another one missed shows it when synced).
    async fn push_to_phones(
        &self,
        client: &reqwest::Client,
        notice: &Notice,
        settings: &NoticeSettings,
        place: &str,
        link: &str,
        senders: &Deliverer,
    ) -> Result<(), Failure> {
        let (push, recipient) = (self.push.clone(), notice.recipient.clone());
        let phones = tokio::task::spawn_blocking(move || push.of(&recipient))
            .await
            .map_err(|error| Failure::Again(error.to_string()))?
            .map_err(|error| Failure::Again(format!("{error:#}")))?;
        let message = notice.message(settings.language, place);
        let payload = serde_json::json!({
            "title": message.heading,
            "body": message.body,
            "url": link,
            "tag": notice.document.to_string(),
            "notice": notice.id(),
        });
        let payload = serde_json::to_vec(&payload).expect("JSON of plain values");
        let subject = senders.public_url.clone().unwrap_or_else(|| "mailto:houqin@localhost".to_owned());
        // The phones side by side: one whose push service is slow delays the rest by nothing.
        let mut sends = tokio::task::JoinSet::new();
        for phone in phones {
            let (push, client, recipient, payload, subject) =
                (self.push.clone(), client.clone(), notice.recipient.clone(), payload.clone(), subject.clone());
            let urgent = notice.urgent;
            sends.spawn(async move { push.send(&client, &recipient, &phone, &payload, urgent, &subject).await });
        }
        let mut errors = Vec::new();
        let mut delivered = false;
        while let Some(sent) = sends.join_next().await {
            match sent.map_err(|error| error.to_string()).and_then(|sent| sent) {
                Ok(true) => delivered = true,
                Ok(false) => {}
                Err(error) => errors.push(error),
            }
        }
        match (delivered, errors.is_empty()) {
            (true, _) => Ok(()),
            (false, true) => Err(Failure::Final("no phone of the person takes notifications any more".into())),
            (false, false) => Err(Failure::Again(errors.join("; "))),
        }
    }
}

/// What the delivery task works with, besides the HTTP client.
#[derive(Clone, Debug, Default)]
pub struct Deliverer {
    /// `--utc-offset-minutes`: the sites' local calendar, in which a scheduled round's
    /// period ends.
    pub utc_offset_minutes: i32,
    /// `--public-url`: makes the links in notices whole, and names the server to push services.
    pub public_url: Option<String>,
    /// `--smtp-url`: the mail server, if the site has one.
    pub mail: Option<mail::Mailer>,
}

/// Where a notice's document opens: whole with `--public-url`, else a path.
fn link(notice: &Notice, public_url: Option<&str>) -> String {
    let path = notice.path();
    public_url.map_or(path.clone(), |base| format!("{base}{path}"))
}

/// The JSON a webhook receives for a notice.
fn webhook_body(notice: &Notice, link: &str) -> Vec<u8> {
    let body = serde_json::json!({
        "id": notice.id(),
        "type": notice.kind.as_str(),
        "document": notice.document.to_string(),
        "document_type": notice.document_type().as_str(),
        "site": notice.site,
        "recipient": notice.recipient,
        "title": notice.title,
        "location": notice.location,
        "at": notice.at,
        "link": link,
    });
    serde_json::to_vec(&body).expect("JSON of plain values")
}

/// The HMAC-SHA256 of `message` under `key`.
fn sign(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;
    use shared::document::work_order::{Category, EventKind, NewWorkOrder, Priority};
    use shared::document::{Edit, EntryId};

    use super::*;

    const HOUR: i64 = 60 * 60 * 1000;

    /// Of servers sharing a database, one holds the lease on delivering at a time and
    /// renews it; once it stops renewing, another takes it after it lapses.
    #[test]
    fn one_server_at_a_time_holds_the_lease_on_delivering() {
        let data = tempfile::tempdir().unwrap();
        let storage = Storage::open(data.path()).unwrap();
        let lease = |holder: u8| Lease { meta: storage.tree(trees::META).unwrap(), holder: [holder; 8], held_until: Default::default() };
        let (first, second) = (lease(1), lease(2));
        let at = |millis: i64| Timestamp::from_millis(1_800_000_000_000 + millis);
        assert!(first.hold(at(0)).unwrap());
        assert!(!second.hold(at(1)).unwrap(), "held by the first");
        let stored = || first.meta.get(LEASE_KEY).unwrap().unwrap().to_vec();
        let taken = stored();
        assert!(first.hold(at(LEASE_MILLIS / 4)).unwrap());
        assert_eq!(stored(), taken, "with most of the lease left, the store is not asked");
        assert!(first.hold(at(LEASE_MILLIS - 1)).unwrap(), "renewed");
        assert_ne!(stored(), taken, "past half of it, the lease is renewed");
        assert!(!second.hold(at(LEASE_MILLIS + 1)).unwrap(), "the renewal holds it longer");
        assert!(second.hold(at(2 * LEASE_MILLIS)).unwrap(), "lapsed: the second takes it");
        assert!(!first.hold(at(2 * LEASE_MILLIS + 1)).unwrap());
    }

    fn edit(user: &str, at: i64) -> Edit {
        Edit::new(Username::parse(user).unwrap(), Timestamp::from_millis(at))
    }

    /// An order reported at `at` and assigned to the technician an hour later.
    fn assigned_order(at: i64) -> AutoCommit {
        let new = NewWorkOrder {
            site: SiteId::parse("hq").unwrap(),
            title: "走廊灯不亮".into(),
            description: String::new(),
            location: "hq-b1".into(),
            asset: None,
            category: Category::Electrical,
            priority: Priority::Normal,
            due_at: None,
            source: None,
        };
        let mut order = WorkOrder::report(ActorId::from([1; 16]), &new, &EntryId::parse("e0").unwrap(), &edit("teacher", at)).unwrap();
        let assignee = Username::parse("tech").unwrap();
        order.record(&EntryId::parse("e1").unwrap(), &EventKind::Assigned { assignee }, &edit("manager", at + HOUR));
        order.into_doc()
    }

    #[test]
    fn a_notice_goes_in_once_however_often_its_document_is_derived_and_old_events_are_not_told() {
        let data = tempfile::tempdir().unwrap();
        let storage = Storage::open(data.path()).unwrap();
        let outbox = Outbox::open(&storage).unwrap();
        let now = Timestamp::from_millis(100 * 24 * HOUR);
        let document = DocumentId::from_random([2; 16]);
        let doc = assigned_order(now.as_millis() - 2 * HOUR);
        assert_eq!(outbox.derive(&document, &doc, now).unwrap(), 1);
        let first = outbox.entries().unwrap();
        assert_eq!(outbox.derive(&document, &doc, now.plus_millis(HOUR)).unwrap(), 0, "derived again, nothing new");
        assert_eq!(outbox.entries().unwrap(), first, "the entry as it was first derived");
        assert_eq!(first[0].notice.id(), format!("{document}/e1/tech"));

        let old = DocumentId::from_random([3; 16]);
        assert_eq!(outbox.derive(&old, &assigned_order(now.as_millis() - 10 * 24 * HOUR), now).unwrap(), 0, "past the window");
        assert_eq!(outbox.derive(&old, &AutoCommit::new(), now).unwrap(), 0, "a document that does not read gives nothing");
    }

    /// Two phones answered one item of a round differently: its starter is asked to
    /// decide (the unit's directory has no managers), once; a round answered on one phone
    /// tells nobody.
    #[test]
    fn answers_given_differently_on_a_round_are_told_to_its_starter_once() {
        use shared::document::inspection::{AnswerValue, Inspection, NewInspection};
        let data = tempfile::tempdir().unwrap();
        let storage = Storage::open(data.path()).unwrap();
        let outbox = Outbox::open(&storage).unwrap();
        let now = Timestamp::from_millis(100 * 24 * HOUR);
        let new = NewInspection {
            site: SiteId::parse("hq").unwrap(),
            template: "automerge:fire".into(),
            checklist: shared::document::seeds::fire_safety(),
            location: "hq-b1".into(),
            rooms: Vec::new(),
            assignees: Vec::new(),
        };
        let start = Inspection::start(ActorId::from([1; 16]), &new, &edit("inspector", now.as_millis() - HOUR)).unwrap();
        let item = EntryId::parse("exits-clear").unwrap();
        let mut first = Inspection::from_doc(start.doc().clone().with_actor(ActorId::from([2; 16]))).unwrap();
        first.answer(None, &item, &AnswerValue::Pass, &edit("inspector", now.as_millis() - 30 * 60_000)).unwrap();
        let round = DocumentId::from_random([6; 16]);
        assert_eq!(outbox.derive(&round, first.doc(), now).unwrap(), 0, "one phone's answers differ from nothing");
        let mut second = Inspection::from_doc(start.doc().clone().with_actor(ActorId::from([3; 16]))).unwrap();
        second.answer(None, &item, &AnswerValue::Fail, &edit("deputy", now.as_millis() - 20 * 60_000)).unwrap();
        let mut merged = first.into_doc();
        merged.merge(second.doc_mut()).unwrap();
        assert_eq!(outbox.derive(&round, &merged, now).unwrap(), 1);
        assert_eq!(outbox.derive(&round, &merged, now.plus_millis(HOUR)).unwrap(), 0, "told once");
        let entry = outbox.entries().unwrap().remove(0);
        assert_eq!((entry.notice.kind, entry.notice.recipient.as_str()), (notice::NoticeKind::Conflict, "inspector"));
        assert_eq!(entry.notice.path(), format!("/rounds/{round}"));
    }

    #[test]
    fn notices_done_with_leave_the_log_after_the_retention_and_are_not_derived_again_and_pending_ones_stay() {
        let data = tempfile::tempdir().unwrap();
        let storage = Storage::open(data.path()).unwrap();
        let outbox = Outbox::open(&storage).unwrap();
        let now = Timestamp::from_millis(100 * 24 * HOUR);
        let (done, pending) = (DocumentId::from_random([4; 16]), DocumentId::from_random([5; 16]));
        outbox.derive(&done, &assigned_order(now.as_millis() - HOUR), now).unwrap();
        outbox.tree.insert(overdue_key(&done, &notice::overdue_event(now, 0)), []).unwrap();
        // A site with a webhook: the second notice waits for its delivery.
        let webhook = shared::api::WebhookSettings { url: "http://127.0.0.1:9/hook".into(), secret: "a-secret-of-the-site".into() };
        outbox
            .set_site_channels(&SiteId::parse("hq").unwrap(), &SiteChannels { webhook: Some(webhook), ..SiteChannels::default() })
            .unwrap();
        outbox.derive(&pending, &assigned_order(now.as_millis() - HOUR), now).unwrap();
        assert_eq!(outbox.prune(now.plus(Span::days(29))).unwrap(), 0, "within the retention");
        let later = now.plus(Span::days(31));
        assert_eq!(outbox.prune(later).unwrap(), 1);
        let left: Vec<DocumentId> = outbox.entries().unwrap().into_iter().map(|entry| entry.notice.document).collect();
        assert_eq!(left, [pending], "a notice still to deliver stays");
        assert!(outbox.tree.scan_prefix(b"o/").next().is_none(), "the old overdue mark went too");
        assert_eq!(outbox.derive(&done, &assigned_order(now.as_millis() - HOUR), later).unwrap(), 0, "not derived again");
    }
}
