//! The load generator: simulated phones on `shared`'s client role, each with its own
//! WebSocket, driven through the phases a department's day puts a sync server through.
//!
//! A simulated phone is a [`Client`] behind a mutex and a task that moves frames between
//! it and its socket: no storage, no rendering, so a few hundred of them cost the
//! generator little and the server is what is measured. The generator speaks only the
//! automerge-repo protocol, so the same workload runs against Houqin's server and against
//! any other automerge-repo server; the caller supplies each phone's sync URL (with a
//! token for Houqin) and measures the server process itself.
//!
//! Phones come in pairs: field phone `p` owns five documents (two inspections of 30
//! answered items, two work orders with their events, a stocktake of 20 counts); its
//! partner — a manager's or a colleague's phone — follows them. The phases:
//! 1. **push**: every field phone connects at once and pushes its documents;
//! 2. **fetch**: every partner, fresh, connects and fetches its field phone's documents;
//! 3. **reconnect**: the field phones go offline and each edits all five documents, while
//!    the partners edit two of the same documents online; then every field phone
//!    reconnects at once, until every copy of every document is the same everywhere;
//! 4. **trickle**: at a steady rate, a field phone edits one of its documents; each
//!    change's trip to the partner is timed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use automerge::{ActorId, AutoCommit, ChangeHash};
use futures_util::{SinkExt, StreamExt};
use shared::directory::{SiteId, Username};
use shared::document::inspection::{AnswerValue, Inspection, NewInspection};
use shared::document::stocktake::{Mode, NewStocktake, Stocktake};
use shared::document::template::{Checklist, ChecklistItem, ItemKind, Label, Section};
use shared::document::work_order::{Category, EventKind, NewWorkOrder, Priority, WorkOrder};
use shared::document::{DocumentType, Edit, EntryId, read_header};
use shared::protocol::DocumentId;
use shared::protocol::client::{Client, ClientConfig, ClientEvent, SyncStatus, Transmit};
use shared::protocol::message::PeerId;
use shared::quantity::Quantity;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

use crate::native_client::now;

/// Documents each field phone owns.
pub const DOCUMENTS_PER_PHONE: usize = 5;
/// How often the generator looks whether a phase is done.
const POLL: Duration = Duration::from_millis(2);

/// What to run.
#[derive(Clone, Debug)]
pub struct Workload {
    /// Field phones; as many partners follow them.
    pub phones: usize,
    /// Changes per second across all field phones in the trickle phase.
    pub trickle_rate: f64,
    pub trickle_for: Duration,
    /// How long any phase may take before the run fails.
    pub patience: Duration,
}

impl Default for Workload {
    fn default() -> Workload {
        Workload { phones: 200, trickle_rate: 40.0, trickle_for: Duration::from_secs(10), patience: Duration::from_secs(300) }
    }
}

/// Where each phone syncs: `field[p]` and `partners[p]` (one URL each; with Houqin each
/// carries the token of the person using that phone).
pub struct Endpoints {
    pub field: Vec<String>,
    pub partners: Vec<String>,
}

/// One phase's figures, as the generator sees them; the caller adds the server's CPU.
#[derive(Clone, Debug, Default)]
pub struct PhaseFigures {
    pub wall: Duration,
    /// From the phase's start until every phone it connects had its socket open.
    pub connected: Duration,
    pub documents: usize,
    pub changes: usize,
    /// Frame bytes both ways, all phones.
    pub wire_bytes: u64,
    /// Change-to-other-phone times (trickle only), sorted.
    pub latencies: Vec<Duration>,
}

impl PhaseFigures {
    pub fn docs_per_second(&self) -> f64 {
        self.documents as f64 / self.wall.as_secs_f64().max(f64::EPSILON)
    }

    pub fn changes_per_second(&self) -> f64 {
        self.changes as f64 / self.wall.as_secs_f64().max(f64::EPSILON)
    }

    pub fn wire_bytes_per_change(&self) -> f64 {
        self.wire_bytes as f64 / self.changes.max(1) as f64
    }

    /// The `q`-quantile (0–1) of the latencies, nearest rank.
    pub fn latency(&self, q: f64) -> Option<Duration> {
        let last = self.latencies.len().checked_sub(1)?;
        Some(self.latencies[((last as f64) * q).round() as usize])
    }
}

/// Called between phases with the phase's name, so the caller can read the server's
/// counters (CPU, memory) at its edges.
pub trait Observer {
    fn phase_starts(&mut self, phase: Phase);
    fn phase_ends(&mut self, phase: Phase, figures: &PhaseFigures);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    Push,
    Fetch,
    Reconnect,
    Trickle,
}

impl Phase {
    pub const ALL: [Phase; 4] = [Phase::Push, Phase::Fetch, Phase::Reconnect, Phase::Trickle];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Push => "initial push",
            Phase::Fetch => "fetch by fresh phones",
            Phase::Reconnect => "offline edits, reconnect all",
            Phase::Trickle => "trickle of edits",
        }
    }
}

/// Runs the four phases, in order, against the server behind `endpoints`.
pub async fn run(workload: &Workload, endpoints: &Endpoints, observer: &mut dyn Observer) -> anyhow::Result<Vec<(Phase, PhaseFigures)>> {
    anyhow::ensure!(
        endpoints.field.len() == workload.phones && endpoints.partners.len() == workload.phones,
        "one field and one partner URL per phone"
    );
    let arrivals = Arc::new(Mutex::new(Arrivals::default()));
    let field: Vec<Phone> = (0..workload.phones).map(|p| Phone::start(p, "field", arrivals.clone())).collect();
    let partners: Vec<Phone> = (0..workload.phones).map(|p| Phone::start(workload.phones + p, "partner", arrivals.clone())).collect();
    let mut owned: Vec<Vec<DocumentId>> = Vec::new();
    let mut changes_made = 0;
    for (p, phone) in field.iter().enumerate() {
        let documents = phone_documents(p, &phone.actor);
        let mut client = phone.client.lock().expect("a phone's lock");
        let mut ids = Vec::new();
        for (id, mut doc) in documents {
            changes_made += doc.get_changes(&[]).len();
            client.add_document(id, doc);
            ids.push(id);
        }
        owned.push(ids);
    }
    let all_phones = || field.iter().chain(&partners);
    let wire = || all_phones().map(|phone| phone.stats.bytes()).sum::<u64>();
    let mut results = Vec::new();

    // 1. Push.
    observer.phase_starts(Phase::Push);
    let (started, bytes) = (Instant::now(), wire());
    connect_all(&field, &endpoints.field).await?;
    let connected = started.elapsed();
    wait_until("every field phone's documents are on the server", workload.patience, &field, || {
        field.iter().zip(&owned).all(|(phone, ids)| phone.all_synced(ids))
    })
    .await?;
    let figures = PhaseFigures {
        wall: started.elapsed(),
        connected,
        documents: owned.iter().map(Vec::len).sum(),
        changes: changes_made,
        wire_bytes: wire() - bytes,
        latencies: Vec::new(),
    };
    observer.phase_ends(Phase::Push, &figures);
    results.push((Phase::Push, figures));

    // 2. Fresh partners fetch their field phone's documents.
    let expected: Vec<Vec<Vec<ChangeHash>>> =
        field.iter().zip(&owned).map(|(phone, ids)| ids.iter().map(|id| phone.heads(id)).collect()).collect();
    for (partner, ids) in partners.iter().zip(&owned) {
        let mut client = partner.client.lock().expect("a phone's lock");
        for id in ids {
            client.request_document(*id);
        }
    }
    observer.phase_starts(Phase::Fetch);
    let (started, bytes) = (Instant::now(), wire());
    connect_all(&partners, &endpoints.partners).await?;
    let connected = started.elapsed();
    wait_until("every partner has its field phone's documents", workload.patience, &partners, || {
        partners
            .iter()
            .zip(&owned)
            .zip(&expected)
            .all(|((partner, ids), heads)| ids.iter().zip(heads).all(|(id, heads)| partner.heads(id) == *heads))
    })
    .await?;
    let fetched: usize =
        partners.iter().zip(&owned).map(|(partner, ids)| ids.iter().map(|id| partner.change_count(id)).sum::<usize>()).sum();
    let figures = PhaseFigures {
        wall: started.elapsed(),
        connected,
        documents: owned.iter().map(Vec::len).sum(),
        changes: fetched,
        wire_bytes: wire() - bytes,
        latencies: Vec::new(),
    };
    observer.phase_ends(Phase::Fetch, &figures);
    results.push((Phase::Fetch, figures));

    // 3. Field phones offline edit everything; partners edit two documents each online.
    for phone in &field {
        phone.disconnect().await;
    }
    let mut changes = 0;
    for (p, (phone, ids)) in field.iter().zip(&owned).enumerate() {
        for id in ids {
            phone.edit(id, |doc| offline_edit(doc, p, "field"), None)?;
            changes += 1;
        }
    }
    for (p, (partner, ids)) in partners.iter().zip(&owned).enumerate() {
        for id in ids.iter().step_by(2).take(2) {
            partner.edit(id, |doc| offline_edit(doc, p, "partner"), None)?;
            changes += 1;
        }
    }
    wait_until("the partners' edits are on the server", workload.patience, &partners, || {
        partners.iter().zip(&owned).all(|(partner, ids)| partner.all_synced(ids))
    })
    .await?;
    observer.phase_starts(Phase::Reconnect);
    let (started, bytes) = (Instant::now(), wire());
    connect_all(&field, &endpoints.field).await?;
    let connected = started.elapsed();
    wait_until("every copy of every document is the same", workload.patience, &field, || {
        field.iter().zip(&partners).zip(&owned).all(|((phone, partner), ids)| {
            phone.all_synced(ids) && partner.all_synced(ids) && ids.iter().all(|id| phone.heads(id) == partner.heads(id))
        })
    })
    .await?;
    let figures = PhaseFigures {
        wall: started.elapsed(),
        connected,
        documents: owned.iter().map(Vec::len).sum(),
        changes,
        wire_bytes: wire() - bytes,
        latencies: Vec::new(),
    };
    observer.phase_ends(Phase::Reconnect, &figures);
    results.push((Phase::Reconnect, figures));

    // 4. Trickle: changes spread evenly over the period, each timed to its partner.
    let total = (workload.trickle_rate * workload.trickle_for.as_secs_f64()).round().max(1.0) as usize;
    let every = Duration::from_secs_f64(1.0 / workload.trickle_rate.max(f64::EPSILON));
    observer.phase_starts(Phase::Trickle);
    let (started, bytes) = (Instant::now(), wire());
    let mut tick = tokio::time::interval(every);
    for k in 0..total {
        tick.tick().await;
        let p = k % workload.phones;
        let n = (k / workload.phones) % DOCUMENTS_PER_PHONE;
        let id = owned[p][n];
        field[p].edit(&id, |doc| trickle_edit(doc, k, p), Some((&arrivals, partners[p].index)))?;
        check_failures(&field)?;
    }
    let deadline = Instant::now() + workload.patience;
    while arrivals.lock().expect("the arrivals lock").pending() > 0 {
        check_failures(&partners)?;
        if Instant::now() > deadline {
            bail!("{} trickled changes never reached their partner", arrivals.lock().expect("the arrivals lock").pending());
        }
        tokio::time::sleep(POLL).await;
    }
    let mut latencies = std::mem::take(&mut arrivals.lock().expect("the arrivals lock").latencies);
    latencies.sort();
    let figures = PhaseFigures {
        wall: started.elapsed(),
        connected: Duration::ZERO,
        documents: 0,
        changes: total,
        wire_bytes: wire() - bytes,
        latencies,
    };
    observer.phase_ends(Phase::Trickle, &figures);
    results.push((Phase::Trickle, figures));

    for phone in all_phones() {
        phone.disconnect().await;
    }
    Ok(results)
}

async fn connect_all(phones: &[Phone], urls: &[String]) -> anyhow::Result<()> {
    let connecting: Vec<_> = phones.iter().zip(urls).map(|(phone, url)| phone.connect(url)).collect();
    for connected in futures_util::future::join_all(connecting).await {
        connected?;
    }
    Ok(())
}

async fn wait_until(what: &str, patience: Duration, phones: &[Phone], mut done: impl FnMut() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + patience;
    while !done() {
        check_failures(phones)?;
        if Instant::now() > deadline {
            bail!("gave up after {} s waiting until {what}", patience.as_secs());
        }
        tokio::time::sleep(POLL).await;
    }
    Ok(())
}

fn check_failures(phones: &[Phone]) -> anyhow::Result<()> {
    for phone in phones {
        if let Some(error) = phone.stats.failure.lock().expect("a phone's failure lock").clone() {
            bail!("{} phone {}: {error}", phone.role, phone.index);
        }
    }
    Ok(())
}

/// Changes expected at phones, and the times they took to get there.
#[derive(Default)]
struct Arrivals {
    waiting: HashMap<(usize, DocumentId), Vec<(ChangeHash, Instant)>>,
    latencies: Vec<Duration>,
}

impl Arrivals {
    fn expect(&mut self, phone: usize, document: DocumentId, change: ChangeHash, made: Instant) {
        self.waiting.entry((phone, document)).or_default().push((change, made));
    }

    fn pending(&self) -> usize {
        self.waiting.values().map(Vec::len).sum()
    }

    /// `phone`'s copy of `document` changed at `at`: times every awaited change it now has.
    fn changed(&mut self, phone: usize, document: DocumentId, doc: &mut AutoCommit, at: Instant) {
        let Some(waiting) = self.waiting.get_mut(&(phone, document)) else { return };
        waiting.retain(|(change, made)| {
            let arrived = doc.get_change_by_hash(change).is_some();
            if arrived {
                self.latencies.push(at.duration_since(*made));
            }
            !arrived
        });
    }
}

#[derive(Default)]
struct PhoneStats {
    sent: AtomicU64,
    received: AtomicU64,
    failure: Mutex<Option<String>>,
}

impl PhoneStats {
    fn bytes(&self) -> u64 {
        self.sent.load(Ordering::Relaxed) + self.received.load(Ordering::Relaxed)
    }

    fn fail(&self, error: String) {
        self.failure.lock().expect("a phone's failure lock").get_or_insert(error);
    }
}

enum Control {
    Connect {
        url: String,
        done: oneshot::Sender<anyhow::Result<()>>,
    },
    Disconnect {
        done: oneshot::Sender<()>,
    },
    /// The client has something new to send.
    Flush,
}

/// A simulated phone: its client role, and the task that carries its frames.
struct Phone {
    index: usize,
    role: &'static str,
    actor: ActorId,
    client: Arc<Mutex<Client>>,
    stats: Arc<PhoneStats>,
    control: mpsc::UnboundedSender<Control>,
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl Phone {
    fn start(index: usize, role: &'static str, arrivals: Arc<Mutex<Arrivals>>) -> Phone {
        let client = Arc::new(Mutex::new(Client::new(ClientConfig::new(PeerId(format!("load-{role}-{index}"))), now())));
        let stats = Arc::new(PhoneStats::default());
        let (control, commands) = mpsc::unbounded_channel();
        tokio::spawn(carry(index, client.clone(), stats.clone(), commands, arrivals));
        let mut actor = [0u8; 16];
        actor[..8].copy_from_slice(&(index as u64).to_be_bytes());
        actor[8..].copy_from_slice(b"loadgen\x01");
        Phone { index, role, actor: ActorId::from(actor), client, stats, control }
    }

    async fn connect(&self, url: &str) -> anyhow::Result<()> {
        let (done, connected) = oneshot::channel();
        self.control.send(Control::Connect { url: url.to_owned(), done }).ok().context("the phone's task ended")?;
        connected.await.context("the phone's task ended")?
    }

    async fn disconnect(&self) {
        let (done, disconnected) = oneshot::channel();
        if self.control.send(Control::Disconnect { done }).is_ok() {
            let _ = disconnected.await;
        }
    }

    /// Edits a document this phone holds, under the phone's actor, and offers the change;
    /// with `watch`, the change is awaited at that phone, timed from now.
    fn edit(
        &self,
        id: &DocumentId,
        change: impl FnOnce(&mut AutoCommit) -> anyhow::Result<()>,
        watch: Option<(&Mutex<Arrivals>, usize)>,
    ) -> anyhow::Result<()> {
        {
            let mut client = self.client.lock().expect("a phone's lock");
            let doc = client.document_mut(id).with_context(|| format!("{} phone {} has no document {id}", self.role, self.index))?;
            doc.set_actor(self.actor.clone());
            change(doc)?;
            let hash = doc.get_heads().first().copied().context("an edit made no change")?;
            // Awaited before it can be sent, so no arrival is missed.
            if let Some((arrivals, at)) = watch {
                arrivals.lock().expect("the arrivals lock").expect(at, *id, hash, Instant::now());
            }
            client.handle_local_change(id);
        }
        let _ = self.control.send(Control::Flush);
        Ok(())
    }

    fn heads(&self, id: &DocumentId) -> Vec<ChangeHash> {
        let mut client = self.client.lock().expect("a phone's lock");
        client.document_mut(id).map(AutoCommit::get_heads).unwrap_or_default()
    }

    fn change_count(&self, id: &DocumentId) -> usize {
        let mut client = self.client.lock().expect("a phone's lock");
        client.document_mut(id).map(|doc| doc.get_changes(&[]).len()).unwrap_or_default()
    }

    fn all_synced(&self, ids: &[DocumentId]) -> bool {
        let client = self.client.lock().expect("a phone's lock");
        client.is_online() && ids.iter().all(|id| client.status(id) == Some(SyncStatus::Synced))
    }
}

/// The phone's task: connects and disconnects when told, sends what the client role has
/// to send, and hands it what arrives.
async fn carry(
    index: usize,
    client: Arc<Mutex<Client>>,
    stats: Arc<PhoneStats>,
    mut commands: mpsc::UnboundedReceiver<Control>,
    arrivals: Arc<Mutex<Arrivals>>,
) {
    let mut socket: Option<Socket> = None;
    loop {
        if let Some(open) = socket.as_mut() {
            let transmits: Vec<Transmit> = std::iter::from_fn(|| client.lock().expect("a phone's lock").poll_transmit()).collect();
            for transmit in transmits {
                let sent = match transmit {
                    Transmit::Frame(frame) => {
                        stats.sent.fetch_add(frame.len() as u64, Ordering::Relaxed);
                        open.send(Message::Binary(frame.into())).await
                    }
                    Transmit::Ping => open.send(Message::Ping(Vec::new().into())).await,
                    Transmit::Close => {
                        stats.fail("the client role closed the connection".to_owned());
                        let _ = open.close(None).await;
                        Ok(())
                    }
                };
                if let Err(error) = sent {
                    stats.fail(format!("cannot send: {error}"));
                }
            }
        }
        let incoming = async {
            match socket.as_mut() {
                Some(open) => open.next().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            command = commands.recv() => match command {
                None => return,
                Some(Control::Connect { url, done }) => match tokio_tungstenite::connect_async(&url).await {
                    Ok((open, _)) => {
                        client.lock().expect("a phone's lock").handle_connected(now());
                        socket = Some(open);
                        let _ = done.send(Ok(()));
                    }
                    Err(error) => {
                        let _ = done.send(Err(anyhow::anyhow!("cannot connect to the server: {error}")));
                    }
                },
                Some(Control::Disconnect { done }) => {
                    if let Some(mut open) = socket.take() {
                        let _ = open.close(None).await;
                    }
                    client.lock().expect("a phone's lock").handle_disconnected(now(), index as u64);
                    let _ = done.send(());
                }
                Some(Control::Flush) => {}
            },
            frame = incoming => match frame {
                Some(Ok(Message::Binary(frame))) => {
                    let at = Instant::now();
                    stats.received.fetch_add(frame.len() as u64, Ordering::Relaxed);
                    let mut client = client.lock().expect("a phone's lock");
                    client.handle_frame(now(), &frame);
                    while let Some(event) = client.poll_event() {
                        match event {
                            ClientEvent::DocumentChanged(id) => {
                                if let Some(doc) = client.document_mut(&id) {
                                    arrivals.lock().expect("the arrivals lock").changed(index, id, doc, at);
                                }
                            }
                            ClientEvent::ServerError(error) => stats.fail(format!("server error: {error}")),
                            ClientEvent::Refused(id) => stats.fail(format!("the server refused document {id}")),
                            ClientEvent::Unavailable(id) => stats.fail(format!("the server does not have document {id}")),
                            _ => {}
                        }
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    stats.fail(format!("the server closed the connection: {frame:?}"));
                    socket = None;
                }
                None => {
                    stats.fail("the connection ended".to_owned());
                    socket = None;
                }
                Some(Err(error)) => {
                    stats.fail(format!("socket error: {error}"));
                    socket = None;
                }
                Some(Ok(_)) => {}
            },
        }
    }
}

fn edit_by(role: &str, p: usize) -> Edit {
    let user = Username::parse(&format!("{role}{}", p % 10)).expect("a valid user name");
    Edit::new(user, now())
}

fn hq() -> SiteId {
    SiteId::parse("hq").expect("a valid site id")
}

/// A round of 30 items in three sections: pass/fail checks, readings, remarks.
pub fn thirty_item_checklist() -> Checklist {
    let id = |value: &str| EntryId::parse(value).expect("a valid entry id");
    let sections: Vec<Section> = ["corridors", "plant", "rooms"]
        .iter()
        .enumerate()
        .map(|(order, name)| Section { id: id(name), order: order as i64, title: Label::new(name, name) })
        .collect();
    let items = (0..30)
        .map(|n| ChecklistItem {
            id: id(&format!("item-{n}")),
            section: sections[n / 10].id.clone(),
            order: n as i64,
            label: Label::new(&format!("检查项 {n}"), &format!("Check {n}")),
            kind: match n % 10 {
                7 => ItemKind::Number { unit: "°C".into(), min: None, max: Some(60_000) },
                9 => ItemKind::Text,
                _ => ItemKind::PassFail,
            },
            required: n % 10 != 9,
            photo_on_fail: false,
            weight: None,
        })
        .collect();
    Checklist { name: Label::new("综合巡检", "General round"), category: "fire_safety".into(), version: 1, sections, items }
}

/// The id of field phone `p`'s document `n`.
pub fn document_id(p: usize, n: usize) -> DocumentId {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&(p as u64).to_be_bytes());
    bytes[8] = n as u8;
    bytes[9..].copy_from_slice(b"houqin\x02");
    DocumentId::from_random(bytes)
}

/// Field phone `p`'s documents as it made them offline: two answered inspections, two work
/// orders taken to "started" with a comment, a stocktake of 20 counts.
pub fn phone_documents(p: usize, actor: &ActorId) -> Vec<(DocumentId, AutoCommit)> {
    let checklist = thirty_item_checklist();
    let inspector = edit_by("inspector", p);
    let mut documents = Vec::new();
    for n in 0..2 {
        let new = NewInspection {
            site: hq(),
            template: "automerge:general".into(),
            checklist: checklist.clone(),
            location: format!("hq-b{}-r{n}", p % 12),
            rooms: Vec::new(),
            assignees: vec![inspector.user.clone()],
        };
        let mut round = Inspection::start(actor.clone(), &new, &inspector).expect("a valid round");
        for item in &checklist.items {
            let value = match item.kind {
                ItemKind::Number { .. } => AnswerValue::Number(24_500),
                ItemKind::Text => AnswerValue::Text("通道畅通，无杂物".into()),
                _ => AnswerValue::Pass,
            };
            round.answer(None, &item.id, &value, &inspector).expect("a valid answer");
        }
        documents.push((document_id(p, n), round.into_doc()));
    }
    for n in 2..4 {
        let new = NewWorkOrder {
            site: hq(),
            title: format!("空调不制冷 {p}-{n}"),
            description: "三楼东侧办公室空调开机后不出冷风".into(),
            location: format!("hq-b{}-r{n}", p % 12),
            asset: Some(format!("ac-{p}")),
            category: Category::Hvac,
            priority: Priority::High,
            due_at: None,
            source: None,
        };
        let mut order =
            WorkOrder::report(actor.clone(), &new, &EntryId::parse("reported").expect("an id"), &inspector).expect("a valid order");
        // The phone's one person takes every step, as the server requires each change to
        // speak for its sender (with Houqin, that person is a manager: see the bench).
        let steps = [EventKind::Assigned { assignee: edit_by("technician", p).user }, EventKind::Acknowledged, EventKind::Started];
        for (step, kind) in steps.iter().enumerate() {
            order.record(&EntryId::parse(&format!("e{step}")).expect("an id"), kind, &inspector);
        }
        order.add_comment(&EntryId::parse("c0").expect("an id"), "已到现场，正在检查压缩机", None, &inspector).expect("a comment");
        documents.push((document_id(p, n), order.into_doc()));
    }
    let expected: Vec<(String, Quantity)> = (0..20).map(|item| (format!("item-{item}"), Quantity::from_thousandths(10_000))).collect();
    let new = NewStocktake {
        site: hq(),
        location: format!("store-{}", p % 3),
        mode: Mode::Blind,
        expected: expected.clone(),
        assets: Vec::new(),
    };
    let mut count = Stocktake::start(actor.clone(), &new, &inspector).expect("a valid stocktake");
    for (n, (item, _)) in expected.iter().enumerate() {
        count
            .count(
                &EntryId::parse(&format!("count-{n}")).expect("an id"),
                "A-01",
                item,
                Quantity::from_thousandths(9_000 + n as i64 * 100),
                &inspector,
            )
            .expect("a count");
    }
    documents.push((document_id(p, 4), count.into_doc()));
    documents
}

/// The edit a phone makes offline to any of its documents: a note on a round, a comment
/// on a work order, a count in a stocktake.
fn offline_edit(doc: &mut AutoCommit, p: usize, role: &str) -> anyhow::Result<()> {
    let edit = edit_by(if role == "field" { "inspector" } else { "manager" }, p);
    remark(doc, &format!("{role}-offline"), &edit)
}

/// The `k`th change of the trickle, made on field phone `p`.
fn trickle_edit(doc: &mut AutoCommit, k: usize, p: usize) -> anyhow::Result<()> {
    remark(doc, &format!("trickle-{k}"), &edit_by("inspector", p))
}

/// Adds entry `id` to a document of any kind the phones hold, by its type.
fn remark(doc: &mut AutoCommit, id: &str, edit: &Edit) -> anyhow::Result<()> {
    let id = EntryId::parse(id)?;
    match read_header(doc)?.document_type {
        DocumentType::Inspection => Inspection::edit_in(doc, |round| round.add_note(&id, None, None, "复查：三楼灭火器已更换", edit))??,
        DocumentType::WorkOrder => WorkOrder::edit_in(doc, |order| order.add_comment(&id, "备件已到，明天上午更换", None, edit))??,
        DocumentType::Stocktake => {
            Stocktake::edit_in(doc, |count| count.count(&id, "A-02", "item-0", Quantity::from_thousandths(1_000), edit))??;
        }
        other => bail!("the load generator does not edit {other:?} documents"),
    }
    Ok(())
}
