//! `GET /sync`: the automerge-repo sync endpoint over WebSocket.
//!
//! One task, the hub, owns `shared`'s server role and carries out its effects: frames go
//! to connection tasks over channels (each bounded by the bytes its peer leaves unread,
//! [`MAX_QUEUED_OUT`]: a peer too slow to read is closed, never waited for), documents
//! load from sled on the blocking pool, new changes are appended to sled at once and made
//! durable by the group-commit flusher before the role hears they are — and only then
//! reveals them. Documents are stored compacted (one snapshot for many chunks) on the
//! blocking pool too, when they grow past [`COMPACT_AFTER`] chunks and when they leave
//! memory. Loads, flushes and compactions run in a `JoinSet` the hub owns, so nothing
//! outlives it. What the hub knows of a connection (its outlet, person, token, turns) is
//! one `Peer` in one map, so it comes and goes with the connection; each person's share of
//! the hub's time is charged in `share.rs`.
//!
//! Access: the socket is opened only for a valid session (a single-use `?ticket=` from
//! `POST /api/sync-ticket`, as the app does; or `?token=` or a bearer header;
//! 401 otherwise, before any upgrade). The role asks before it shares or accepts anything;
//! the hub answers from the connection's user: a role at the document's site, a site that
//! stays put, and new Automerge actors bound to this user (the first user to send an actor
//! owns it). Everything refused looks to the peer like a document that does not exist.
//! Only a server started with `--bench-anonymous-sync` (loopback only) takes connections
//! without a session, and allows those everything, as anonymous automerge-repo servers do.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use automerge::AutoCommit;
use axum::Router;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use shared::directory::Username;
use shared::document::policy::{self, Writer};
use shared::document::work_order::WorkOrder;
use shared::document::{DocumentType, blob_refs, read_header, read_site};
use shared::protocol::DocumentId;
use shared::protocol::message::PeerId;
use shared::protocol::message::Refusal;
use shared::protocol::server::{AccessRequest, ChangeId, ConnectionId, Decision, Effect, PersistToken, Server, ServerConfig};
use tokio::sync::{Mutex, Notify, OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};

use crate::auth::{LinkSession, Session, SignedIn, TokenId, now};
use crate::blobs::BlobStore;
use crate::directory::{Binding, Directory, UserRecord};
use crate::documents::{COMPACT_AFTER, ChunkKey, DocumentStore};
use crate::flusher::Flusher;
use crate::projections::{Projections, is_projected};
use crate::share::{Budget, Shares};
use crate::space::DiskSpace;
use crate::storage::{Heard, News};
use crate::token_bucket::{Rate, TokenBucket};
use crate::{AppError, AppState, Storage};

/// The largest frame a peer may send: a photo never travels inside a document, so this
/// bounds a sync message of ordinary edits with room to spare.
pub const MAX_FRAME: usize = 16 << 20;
/// The read and write buffers of a sync socket.
const SOCKET_BUFFER: usize = 8 << 10;
/// Documents one connection may have waiting for a load or decision at once.
pub const MAX_DOCUMENTS_IN_FLIGHT: usize = 4096;
/// Frames a connection may send in a burst, and per second after it: a phone syncing
/// thousands of documents stays well inside; a client stuck in a loop does not.
pub const FRAME_RATE: Rate = Rate { burst: 5000.0, per_second: 1000.0 };
/// Frames of one person the hub may hold unfinished, over all their connections: each
/// holds a turn until the hub has read it and the documents it brought no longer wait for
/// a load or a decision. With every turn taken their sockets stop reading, and TCP slows
/// that person, not everyone behind them in the hub: opening more sockets gains nothing.
pub const FRAMES_IN_HUB: usize = 4;
/// Bytes waiting to be written to one socket: a peer that reads slower than it asks is
/// cut rather than held in memory.
pub const MAX_QUEUED_OUT: usize = 64 << 20;
/// How often the server pings each socket: keeps proxies from closing quiet connections
/// and lets browsers (which cannot ping) be kept alive.
pub const PING_EVERY: Duration = Duration::from_secs(20);
/// Pings a socket may leave unanswered, with nothing else heard from it, before it is
/// closed: its phone is gone (the server's own pings keep the connection from looking idle).
const UNANSWERED_PINGS: u32 = 3;
/// How often a connection's "last synced" time is written while it keeps sending.
const NOTE_SYNC_EVERY: Duration = Duration::from_secs(60);
/// How often documents nobody is syncing are dropped from memory: they load again from
/// sled in well under a millisecond, while a busy minute of phones pushing thousands of
/// documents would otherwise keep all of them.
const EVICT_EVERY: Duration = Duration::from_secs(5);
/// How long [`SyncHub::edit`] waits for its change to be durable before it says it is not
/// (yet).
const EDIT_WAIT: Duration = Duration::from_secs(30);
/// How often changes that could not be stored (the disk nearly full) are tried again.
const RETRY_STORING_EVERY: Duration = Duration::from_secs(2);

enum Command {
    /// `user` is `None` for an anonymous benchmark peer; otherwise with the token that
    /// opened the connection.
    Connected {
        connection: ConnectionId,
        user: Option<(UserRecord, TokenId)>,
        outbound: Outlet,
    },
    /// A frame, with the turn it holds until the hub has done with it.
    Frame {
        connection: ConnectionId,
        frame: Vec<u8>,
        turn: OwnedSemaphorePermit,
    },
    Disconnected {
        connection: ConnectionId,
    },
    /// Closes every connection of this user, saying why: disabled or tokens revoked (sign
    /// in again), or roles changed (reconnect, and the new roles apply).
    Revoke {
        user: Username,
        reason: &'static str,
    },
    /// Closes the connections opened with this token, which was signed out.
    SignedOut {
        token: TokenId,
    },
    /// The server's own change to a document ([`SyncHub::edit`]), answered once durable.
    Change {
        document: DocumentId,
        changes: Vec<automerge::Change>,
        done: oneshot::Sender<Result<(), String>>,
    },
    /// Another server sharing the database stored changes to these documents.
    StoredElsewhere(Vec<DocumentId>),
    /// Listening to the other servers (again): what they stored meanwhile went unheard.
    Listening,
}

enum Outbound {
    Frame(Vec<u8>),
    Close(String),
}

/// Where the hub sends a connection's frames, and how many bytes wait there unwritten.
struct Outlet {
    sender: mpsc::UnboundedSender<Outbound>,
    queued: Arc<AtomicUsize>,
}

impl Outlet {
    /// Queues `frame`, unless the peer has left more than [`MAX_QUEUED_OUT`] unread.
    #[must_use]
    fn send(&self, frame: Vec<u8>) -> bool {
        let queued = self.queued.fetch_add(frame.len(), Ordering::Relaxed) + frame.len();
        queued <= MAX_QUEUED_OUT && self.sender.send(Outbound::Frame(frame)).is_ok()
    }

    fn close(&self, reason: &str) {
        let _ = self.sender.send(Outbound::Close(reason.to_owned()));
    }
}

/// What the hub's own tasks report back.
enum Done {
    /// A document as stored, with the keys of the chunks it was loaded from.
    Loaded {
        document: DocumentId,
        result: anyhow::Result<Option<(Box<AutoCommit>, Vec<ChunkKey>)>>,
    },
    Persisted {
        document: DocumentId,
        token: PersistToken,
        result: Result<(), String>,
    },
    /// A new document's first changes stored as one snapshot (its key) and flushed (`Err`
    /// before it was stored: then its chunk is stored the usual way).
    Snapshotted {
        document: DocumentId,
        chunk: Vec<u8>,
        token: PersistToken,
        result: Result<(ChunkKey, Result<(), String>), String>,
    },
    /// The chunks of a document in memory that it does not know of (another server
    /// stored them).
    Fetched {
        document: DocumentId,
        result: anyhow::Result<Vec<(ChunkKey, Vec<u8>)>>,
    },
    /// Documents stored compacted: each with the keys its snapshot covered and the
    /// snapshot's key (`None` if it was left as it was), or why it could not be.
    Compacted {
        documents: Vec<(DocumentId, Vec<ChunkKey>, anyhow::Result<Option<ChunkKey>>)>,
    },
}

/// A handle to the hub; cheap to clone.
#[derive(Clone)]
pub struct SyncHub {
    /// Bounded in effect: each connection has at most [`FRAMES_IN_HUB`] frames in it.
    commands: mpsc::UnboundedSender<Command>,
    /// Shutting down goes before anything queued.
    stop: Arc<Notify>,
    next_connection: Arc<AtomicU64>,
    /// How often each socket is pinged ([`PING_EVERY`]; shorter in tests).
    pub ping_every: Duration,
    /// Each connected person's turns in the hub, shared by their connections.
    turns: Arc<std::sync::Mutex<HashMap<Username, Weak<Semaphore>>>>,
    /// The hub's task and the flusher's, awaited in that order on shutdown.
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    /// Tells the other servers sharing the database what happened here; finished last.
    announcer: Announcer,
    announcer_task: Arc<Mutex<Option<JoinHandle<()>>>>,
    /// How much of the hub's time one person may take ([`crate::share`]).
    budget: Arc<std::sync::Mutex<Budget>>,
}

impl SyncHub {
    /// Starts the hub (and its flusher) on the current tokio runtime.
    pub fn start(storage: &Storage, peer_id: &str, projections: Projections) -> anyhow::Result<SyncHub> {
        let store = Stores {
            documents: DocumentStore::open(storage)?,
            directory: Directory::open(storage)?,
            blobs: BlobStore::open(storage)?,
            projections,
            space: storage.space().clone(),
        };
        let (flusher, flusher_task) = Flusher::start(storage);
        let (commands, incoming) = mpsc::unbounded_channel();
        let (announcer, announcer_task) = Announcer::start(storage);
        storage.listen({
            let commands = commands.clone();
            move |heard| {
                let command = match heard {
                    Heard::Listening => Command::Listening,
                    Heard::News(News::Stored(documents)) => Command::StoredElsewhere(documents),
                    Heard::News(News::Revoked(user)) => Command::Revoke { user, reason: SIGNED_OUT },
                    Heard::News(News::RolesChanged(user)) => Command::Revoke { user, reason: ROLES_CHANGED },
                    Heard::News(News::SignedOut(token)) => Command::SignedOut { token: TokenId::from_bytes(token) },
                };
                commands.send(command).is_ok()
            }
        });
        let config = ServerConfig {
            peer_id: PeerId(peer_id.to_owned()),
            storage_id: Some(peer_id.to_owned()),
            max_frame: MAX_FRAME,
            max_documents_in_flight: MAX_DOCUMENTS_IN_FLIGHT,
        };
        let stop = Arc::new(Notify::new());
        let budget = Arc::new(std::sync::Mutex::new(Budget::default()));
        let hub_task = tokio::spawn(run(incoming, stop.clone(), Server::new(config), store, flusher, budget.clone()));
        Ok(SyncHub {
            budget,
            commands,
            stop,
            next_connection: Arc::new(AtomicU64::new(1)),
            ping_every: PING_EVERY,
            turns: Arc::default(),
            tasks: Arc::new(Mutex::new(vec![hub_task, flusher_task])),
            announcer,
            announcer_task: Arc::new(Mutex::new(Some(announcer_task))),
        })
    }

    /// The turns of `user`'s connections (an anonymous benchmark peer's are its own).
    fn turns_of(&self, user: Option<&Username>) -> Arc<Semaphore> {
        let Some(user) = user else { return Arc::new(Semaphore::new(FRAMES_IN_HUB)) };
        let mut turns = self.turns.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(shared) = turns.get(user).and_then(Weak::upgrade) {
            return shared;
        }
        // Those of people no longer connected go as someone new comes.
        turns.retain(|_, held| held.strong_count() > 0);
        let new = Arc::new(Semaphore::new(FRAMES_IN_HUB));
        turns.insert(user.clone(), Arc::downgrade(&new));
        new
    }

    /// Sets how much of the hub's time one person may take (tests make it small).
    pub fn set_budget(&self, budget: Budget) {
        *self.budget.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = budget;
    }

    /// Closes the sync connections of `user` at once, here and on the other servers
    /// sharing the database; new ones are refused by their token.
    pub fn revoke(&self, user: &Username) {
        let _ = self.commands.send(Command::Revoke { user: user.clone(), reason: SIGNED_OUT });
        self.announcer.tell(News::Revoked(user.clone()));
    }

    /// Closes the sync connections opened with `token`, just signed out, here and on the
    /// other servers.
    pub fn signed_out(&self, token: TokenId) {
        let _ = self.commands.send(Command::SignedOut { token });
        self.announcer.tell(News::SignedOut(token.to_bytes()));
    }

    /// Closes the sync connections of `user`, whose roles changed, here and on the other
    /// servers: a connection knows the roles it opened with, so the phone reconnects under
    /// the new ones.
    pub fn roles_changed(&self, user: &Username) {
        let _ = self.commands.send(Command::Revoke { user: user.clone(), reason: ROLES_CHANGED });
        self.announcer.tell(News::RolesChanged(user.clone()));
    }

    /// Changes `document` as the server itself, under `actor` (an Automerge actor the
    /// caller has bound to whoever the change is made for): `make` edits a copy of the
    /// document as stored — an empty one if there is none yet, which `make` may replace
    /// with the document it creates — and what it commits reaches the hub, is stored
    /// durably and is sent to everyone syncing the document, like a phone's change.
    /// Returns `make`'s answer once the change is durable. A copy a moment behind the
    /// hub's (a phone's change on its way) merges as any offline phone's does.
    pub async fn edit<T: Send + 'static>(
        &self,
        documents: &DocumentStore,
        document: DocumentId,
        actor: automerge::ActorId,
        make: impl FnOnce(&mut AutoCommit) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let documents = documents.clone();
        let (answer, changes) = tokio::task::spawn_blocking(move || -> anyhow::Result<(T, Vec<automerge::Change>)> {
            let mut doc = documents.load(&document)?.unwrap_or_default().with_actor(actor);
            let before = doc.get_heads();
            let answer = make(&mut doc)?;
            doc.commit();
            let before: Vec<_> = before.into_iter().filter(|head| doc.get_change_meta_by_hash(head).is_some()).collect();
            Ok((answer, doc.get_changes(&before)))
        })
        .await??;
        if changes.is_empty() {
            return Ok(answer);
        }
        let (done, durable) = oneshot::channel();
        self.commands.send(Command::Change { document, changes, done }).map_err(|_| anyhow::anyhow!("the sync hub has stopped"))?;
        match tokio::time::timeout(EDIT_WAIT, durable).await {
            Ok(Ok(Ok(()))) => Ok(answer),
            Ok(Ok(Err(error))) => Err(anyhow::anyhow!("the change to {document} was not kept: {error}")),
            Ok(Err(_)) => Err(anyhow::anyhow!("the sync hub stopped before the change to {document} was kept")),
            // Waiting for disk space, most likely: the hub keeps it and stores it once it can.
            Err(_) => Err(anyhow::anyhow!("the change to {document} was not stored within {EDIT_WAIT:?}; it is kept until it can be")),
        }
    }

    /// Closes every sync connection, finishes writes in progress and stops the hub.
    pub async fn shutdown(&self) {
        self.stop.notify_one();
        let tasks = std::mem::take(&mut *self.tasks.lock().await);
        for task in tasks {
            let _ = task.await;
        }
        // After the hub: what it stored last is told too.
        self.announcer.finish();
        if let Some(task) = self.announcer_task.lock().await.take() {
            let _ = task.await;
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/sync", get(upgrade))
}

#[derive(serde::Deserialize)]
struct TicketQuery {
    ticket: Option<String>,
}

/// The session is checked before the upgrade: without one, the answer is a plain 401
/// (unless the server runs for a benchmark with anonymous sync).
async fn upgrade(
    State(state): State<AppState>,
    Query(ticket): Query<TicketQuery>,
    session: Result<LinkSession, AppError>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    // A ticket, when given, is the only credential looked at (and is used up).
    let session = match ticket.ticket {
        Some(ticket) => Session::from_ticket(&state, &ticket),
        None => session.map(|LinkSession(session)| session),
    };
    let user = match session {
        Ok(session) => Some((session.user, session.signed_in)),
        Err(_) if state.anonymous_sync => None,
        Err(error) => return error.into_response(),
    };
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let hub = state.sync.clone();
    upgrade
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        // The default 128 KiB read buffer was most of what an idle socket cost (140 KB):
        // it grows while a large message arrives and is given back after.
        .read_buffer_size(SOCKET_BUFFER)
        .write_buffer_size(SOCKET_BUFFER)
        .on_upgrade(move |socket| serve_socket(socket, hub, user))
}

async fn serve_socket(mut socket: WebSocket, hub: SyncHub, user: Option<(UserRecord, SignedIn)>) {
    let connection = ConnectionId(hub.next_connection.fetch_add(1, Ordering::Relaxed));
    let (sender, mut to_send) = mpsc::unbounded_channel();
    let queued = Arc::new(AtomicUsize::new(0));
    let outbound = Outlet { sender, queued: queued.clone() };
    let turns = hub.turns_of(user.as_ref().map(|(user, _)| &user.username));
    // The connection lasts as long as the token that opened it.
    let lasts = user
        .as_ref()
        .map(|(_, signed_in)| Duration::from_millis(signed_in.expires_at.as_millis().saturating_sub(now().as_millis()).max(0) as u64));
    let expired = tokio::time::sleep(lasts.unwrap_or(Duration::MAX));
    tokio::pin!(expired);
    let user = user.map(|(user, signed_in)| (user, signed_in.token));
    if hub.commands.send(Command::Connected { connection, user, outbound }).is_err() {
        return;
    }
    let mut ping = tokio::time::interval(hub.ping_every);
    ping.tick().await;
    let mut heard = tokio::time::Instant::now();
    let mut frames = TokenBucket::full(tokio::time::Instant::now().into_std());
    // Why the server closes the connection, if it does.
    let closing: Option<CloseFrame> = loop {
        tokio::select! {
            incoming = socket.recv() => match incoming.inspect(|_| heard = tokio::time::Instant::now()) {
                Some(Ok(WsMessage::Binary(_) | WsMessage::Text(_))) if frames.take(1.0, FRAME_RATE, tokio::time::Instant::now().into_std()).is_err() => {
                    tracing::warn!(connection = connection.0, "closing a sync connection that sends too fast");
                    let error = shared::protocol::Message::Error { message: "too many messages; slow down and reconnect".to_owned() };
                    let _ = socket.send(WsMessage::Binary(shared::protocol::encode(&error).into())).await;
                    break Some(CloseFrame { code: 1008, reason: "rate limit".into() });
                }
                // Waiting for a turn stops reading: the peer's sends back up, not the hub.
                Some(Ok(WsMessage::Binary(frame))) => {
                    let Ok(turn) = turns.clone().acquire_owned().await else { break None };
                    // Time spent waiting for the hub is not the peer's silence.
                    heard = tokio::time::Instant::now();
                    let _ = hub.commands.send(Command::Frame { connection, frame: frame.to_vec(), turn });
                }
                // Not a protocol frame: the role answers it with an error and a close.
                Some(Ok(WsMessage::Text(text))) => {
                    let Ok(turn) = turns.clone().acquire_owned().await else { break None };
                    let _ = hub.commands.send(Command::Frame { connection, frame: text.as_bytes().to_vec(), turn });
                }
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => {}
                Some(Ok(WsMessage::Close(_)) | Err(_)) | None => break None,
            },
            outgoing = to_send.recv() => match outgoing {
                Some(Outbound::Frame(frame)) => {
                    let length = frame.len();
                    if socket.send(WsMessage::Binary(frame.into())).await.is_err() {
                        break None;
                    }
                    queued.fetch_sub(length, Ordering::Relaxed);
                }
                Some(Outbound::Close(reason)) => {
                    break Some(CloseFrame { code: 1008, reason: close_reason(&reason).to_owned().into() });
                }
                None => break None,
            },
            _ = ping.tick() => {
                if heard.elapsed() > hub.ping_every * UNANSWERED_PINGS {
                    tracing::info!(connection = connection.0, "closing a sync connection that answers no pings");
                    break Some(CloseFrame { code: 1001, reason: "no answer to pings".into() });
                }
                if socket.send(WsMessage::Ping(Vec::new().into())).await.is_err() {
                    break None;
                }
            }
            () = &mut expired, if lasts.is_some() => {
                break Some(CloseFrame { code: 1008, reason: "the sign-in expired: sign in again".into() });
            }
        }
    };
    let _ = hub.commands.send(Command::Disconnected { connection });
    if let Some(close) = closing {
        close_handshake(socket, close).await;
    }
}

/// How long a closing socket waits for its peer's close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Sends `close` and reads (dropping) what the peer still sends until its close frame
/// answers, all in at most [`CLOSE_WAIT`] (a peer that reads nothing cannot hold the send
/// either). A socket dropped with unread bytes waiting is reset by the kernel, and a peer
/// still sending would then lose the close frame and its reason to the reset before
/// reading them.
async fn close_handshake(mut socket: WebSocket, close: CloseFrame) {
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        if socket.send(WsMessage::Close(Some(close))).await.is_err() {
            return;
        }
        while let Some(Ok(message)) = socket.recv().await {
            if matches!(message, WsMessage::Close(_)) {
                break;
            }
        }
    })
    .await;
}

/// Closed connections' reasons, logged at WARN once a minute per person at most (with how
/// many were left out meanwhile), so one peer sending bad input in a loop cannot bury the
/// log; the rest go to DEBUG. What the peer sent is cut short and escaped.
#[derive(Default)]
struct Refusals {
    last: HashMap<String, (tokio::time::Instant, u64)>,
}

/// How often one person's refusals reach the log at WARN.
const WARN_REFUSALS_EVERY: Duration = Duration::from_secs(60);

impl Refusals {
    fn note(&mut self, who: &str, connection: ConnectionId, reason: &str) {
        let reason = crate::auth::loggable(reason);
        let now = tokio::time::Instant::now();
        match self.last.get_mut(who) {
            Some((at, left_out)) if now.duration_since(*at) < WARN_REFUSALS_EVERY => {
                *left_out += 1;
                tracing::debug!(connection = connection.0, user = who, %reason, "closing a sync connection");
            }
            _ => {
                let left_out = self.last.insert(who.to_owned(), (now, 0)).map_or(0, |(_, left_out)| left_out);
                tracing::warn!(connection = connection.0, user = who, %reason, left_out, "closing a sync connection");
                // The table forgets people quiet for a minute.
                if self.last.len() > 1024 {
                    self.last.retain(|_, (at, _)| now.duration_since(*at) < WARN_REFUSALS_EVERY);
                }
            }
        }
    }
}

/// A token bucket: `capacity` frames at once, refilled at `per_second`.
/// The most bytes a close frame's reason may take: a control frame carries at most 125
/// bytes, and the close code takes two of them.
const CLOSE_REASON_BYTES: usize = 123;

/// `reason` cut to what a close frame carries, at a character's start: a reason in
/// Chinese takes three bytes a character, so counting characters would overrun the frame.
fn close_reason(reason: &str) -> &str {
    &reason[..reason.floor_char_boundary(CLOSE_REASON_BYTES)]
}

/// The sled trees the hub works with.
struct Stores {
    documents: DocumentStore,
    directory: Directory,
    blobs: BlobStore,
    projections: Projections,
    space: DiskSpace,
}

async fn run(
    mut commands: mpsc::UnboundedReceiver<Command>,
    stop: Arc<Notify>,
    mut server: Server,
    stores: Stores,
    flusher: Flusher,
    budget: Arc<std::sync::Mutex<Budget>>,
) {
    let mut peers = Peers::default();
    // Documents another server stored changes to while they were loading here: looked at
    // again once loaded, as the load may have read the store before those changes.
    let mut refetch: HashSet<DocumentId> = HashSet::new();
    let mut compactions = Compactions::default();
    let mut work: JoinSet<Done> = JoinSet::new();
    let mut evict = tokio::time::interval(EVICT_EVERY);
    // Changes not stored yet (the disk nearly full, or a write that failed), in order, and
    // stored changes whose flush failed: both tried again, and their peers told only then.
    let mut unstored: VecDeque<(DocumentId, Vec<u8>, PersistToken)> = VecDeque::new();
    let mut unflushed: Vec<(DocumentId, PersistToken)> = Vec::new();
    // New documents being stored as snapshots off the hub, each with the changes made to
    // it meanwhile, stored in order once it is.
    let mut snapshots: HashMap<DocumentId, Vec<(Vec<u8>, PersistToken)>> = HashMap::new();
    let snapshotting = Arc::new(Semaphore::new(SNAPSHOTS_AT_ONCE));
    let mut retry = tokio::time::interval(RETRY_STORING_EVERY);
    let mut refusals = Refusals::default();
    // The hub's time taken by each person's messages.
    let mut shares = Shares::default();
    let budget = move || *budget.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut stopping = false;
    // The server's own changes on their way to disk, by the id the role knows them by.
    let mut changing: HashMap<ChangeId, oneshot::Sender<Result<(), String>>> = HashMap::new();
    let mut next_change = 0;
    loop {
        // Connections whose messages the hub worked on in this turn of the loop, and since when.
        let mut worked: Option<(std::time::Instant, std::collections::BTreeSet<ConnectionId>)> = None;
        tokio::select! {
            biased;
            () = stop.notified(), if !stopping => {
                stopping = true;
                for peer in peers.0.values_mut() {
                    if let Some(outlet) = peer.outlet.take() {
                        outlet.close("the server is shutting down");
                    }
                }
            }
            command = commands.recv(), if !stopping => match command {
                Some(Command::Connected { connection, user, outbound }) => {
                    if let Some((user, _)) = &user {
                        note_sync(&stores.directory, &user.username);
                    }
                    let refused = user.as_ref().is_some_and(|(user, _)| shares.refused(&user.username, std::time::Instant::now(), budget()));
                    peers.0.insert(connection, Peer { outlet: Some(outbound), user, turns: Vec::new(), noted: tokio::time::Instant::now() });
                    server.handle_connected(connection);
                    if refused {
                        peers.close(vec![connection], TOO_MUCH_WORK, &mut server);
                    }
                }
                Some(Command::Frame { connection, frame, turn }) => {
                    worked = Some((std::time::Instant::now(), [connection].into()));
                    if let Some(peer) = peers.0.get_mut(&connection) {
                        peer.turns.push(turn);
                        let now = tokio::time::Instant::now();
                        if let Some(user) = peer.username()
                            && now.duration_since(peer.noted) >= NOTE_SYNC_EVERY
                        {
                            note_sync(&stores.directory, user);
                            peer.noted = now;
                        }
                    }
                    // A panic left in taking one peer's message costs that peer its
                    // connection, not everyone their sync.
                    if let Err(panic) = shared::protocol::bounds::guarded(|| server.handle_frame(connection, &frame)) {
                        tracing::error!(connection = connection.0, %panic, "a sync message could not be handled; closing its connection");
                        peers.close(vec![connection], "the server could not handle a message", &mut server);
                    }
                }
                Some(Command::Disconnected { connection }) => {
                    if let Some(user) = peers.0.remove(&connection).as_ref().and_then(Peer::username) {
                        note_sync(&stores.directory, user);
                    }
                    server.handle_disconnected(connection);
                }
                Some(Command::Revoke { user, reason }) => {
                    let closed = peers.matching(|peer| peer.username() == Some(&user));
                    peers.close(closed, reason, &mut server);
                }
                Some(Command::SignedOut { token }) => {
                    let closed = peers.matching(|peer| peer.user.as_ref().is_some_and(|(_, of)| *of == token));
                    peers.close(closed, "signed out: sign in again", &mut server);
                }
                Some(Command::Change { document, changes, done }) => {
                    next_change += 1;
                    changing.insert(ChangeId(next_change), done);
                    server.change(ChangeId(next_change), document, changes);
                }
                Some(Command::StoredElsewhere(documents)) => {
                    for document in documents {
                        fetch_stored_elsewhere(&stores, &server, &compactions, &mut refetch, &mut work, document);
                    }
                }
                Some(Command::Listening) => {
                    for document in server.documents_in_memory() {
                        fetch_stored_elsewhere(&stores, &server, &compactions, &mut refetch, &mut work, document);
                    }
                }
                // Every handle is gone: nothing more can come.
                None => stopping = true,
            },
            Some(done) = work.join_next() => match done {
                Ok(Done::Loaded { document, result }) => {
                    worked = Some((std::time::Instant::now(), Default::default()));
                    match result {
                        Ok(Some((doc, keys))) => {
                            compactions.known.insert(document, keys);
                            server.handle_loaded(document, Some(*doc));
                        }
                        Ok(None) => server.handle_loaded(document, None),
                        Err(error) => {
                            tracing::error!(%document, error = format!("{error:#}"), "cannot load a document; its peers are told it is unavailable");
                            server.handle_unloadable(document);
                        }
                    }
                    if refetch.remove(&document) {
                        fetch_stored_elsewhere(&stores, &server, &compactions, &mut refetch, &mut work, document);
                    }
                }
                Ok(Done::Fetched { document, result }) => match result {
                    // Left memory meanwhile: its next load reads them.
                    Ok(_) if server.document(&document).is_none() => {}
                    Ok(chunks) => {
                        let known = compactions.known.entry(document).or_default();
                        let (keys, chunks): (Vec<ChunkKey>, Vec<Vec<u8>>) = chunks.into_iter().filter(|(key, _)| !known.contains(key)).unzip();
                        if !chunks.is_empty() && server.handle_stored_elsewhere(document, &chunks) {
                            known.extend(keys);
                        }
                        // Its files as the copy here now has them: another server that
                        // recorded them from a copy without this change is corrected.
                        if !chunks.is_empty()
                            && let Some(doc) = server.document(&document)
                        {
                            index_blobs(&stores.blobs, &document, doc);
                        }
                    }
                    Err(error) => tracing::warn!(%document, error = format!("{error:#}"), "cannot read what another server stored; the next load will"),
                },
                Ok(Done::Persisted { document, token, result }) => {
                    flushed(&mut server, &stores, &mut unflushed, document, token, result);
                }
                Ok(Done::Snapshotted { document, chunk, token, result }) => {
                    match result {
                        Ok((key, result)) => {
                            compactions.known.entry(document).or_default().push(key);
                            note_stored(&stores, &server, &compactions, document);
                            flushed(&mut server, &stores, &mut unflushed, document, token, result);
                        }
                        Err(error) => {
                            tracing::warn!(%document, %error, "cannot store a new document as a snapshot; storing its changes");
                            persist(&stores, &mut server, &mut compactions, &mut work, &flusher, &mut unstored, document, chunk, token);
                        }
                    }
                    for (chunk, token) in snapshots.remove(&document).unwrap_or_default() {
                        persist(&stores, &mut server, &mut compactions, &mut work, &flusher, &mut unstored, document, chunk, token);
                    }
                }
                Ok(Done::Compacted { documents }) => compactions.finished(documents),
                Err(error) => tracing::error!(%error, "a storage task failed"),
            },
            _ = retry.tick(), if !unstored.is_empty() || !unflushed.is_empty() => {
                if stores.space.check().is_ok() {
                    while let Some((document, chunk, token)) = unstored.pop_front() {
                        if let Err(chunk) = store(&stores, &mut server, &mut compactions, &mut work, &flusher, document, chunk, token) {
                            unstored.push_front((document, chunk, token));
                            break;
                        }
                    }
                    for (document, token) in unflushed.drain(..) {
                        let flusher = flusher.clone();
                        work.spawn(async move { Done::Persisted { document, token, result: flusher.flush().await } });
                    }
                }
            }
            _ = evict.tick() => {
                shares.tidy(std::time::Instant::now(), budget());
                let evicted = server.evict_idle();
                if !evicted.is_empty() {
                    tracing::debug!(count = evicted.len(), "evicted idle documents");
                }
                let trim = !evicted.is_empty();
                let changed = evicted
                    .into_iter()
                    .filter_map(|(document, doc)| {
                        let known = compactions.known.remove(&document).unwrap_or_default();
                        compactions.appended.remove(&document).then_some((document, doc, known))
                    })
                    .collect();
                // A compaction writes the whole document before it frees its chunks.
                if !stores.space.is_low() {
                    compactions.start(&stores.documents, &mut work, changed);
                }
                // What the documents that left held is free: given back to the system, or
                // a server filled with thousands of documents keeps the memory of the
                // busiest moment (BENCHMARKS.md).
                if trim {
                    crate::os::trim_allocator();
                }
            }
        }
        while let Some(effect) = server.poll_effect() {
            match effect {
                Effect::Send { connection, frame } => {
                    if peers.0.get(&connection).and_then(|peer| peer.outlet.as_ref()).is_some_and(|outlet| !outlet.send(frame)) {
                        peers.close(vec![connection], "too slow to receive: reconnect", &mut server);
                    }
                }
                Effect::Close { connection, reason } => {
                    let peer = peers.0.get_mut(&connection);
                    let who = peer.as_ref().and_then(|peer| peer.username()).map_or_else(|| "anonymous".to_owned(), Username::to_string);
                    refusals.note(&who, connection, &reason);
                    if let Some(outlet) = peer.and_then(|peer| peer.outlet.take()) {
                        outlet.close(&reason);
                    }
                }
                Effect::Load { document } => {
                    let store = stores.documents.clone();
                    work.spawn(async move {
                        let result = tokio::task::spawn_blocking(move || {
                            store.load_known(&document).map(|doc| doc.map(|(doc, keys)| (Box::new(doc), keys)))
                        })
                        .await
                        .unwrap_or_else(|error| Err(anyhow::anyhow!("the load task failed: {error}")));
                        Done::Loaded { document, result }
                    });
                }
                Effect::Authorize(request) => {
                    worked.get_or_insert_with(|| (std::time::Instant::now(), Default::default())).1.insert(request.connection);
                    let decision = match peers.0.get(&request.connection) {
                        // A benchmark peer without a session (`--bench-anonymous-sync`).
                        Some(Peer { user: None, .. }) => Decision::Allow,
                        peer => decide(&stores, &mut server, peer.and_then(|peer| peer.user.as_ref()).map(|(user, _)| user), &request),
                    };
                    server.handle_decision(request.ticket, decision);
                }
                Effect::Changed { id, result } => {
                    if let Some(done) = changing.remove(&id) {
                        let _ = done.send(result);
                    }
                }
                Effect::Persist { document, chunk, token } => {
                    if let Some(waiting) = snapshots.get_mut(&document) {
                        // Behind the document's snapshot, in order.
                        waiting.push((chunk, token));
                    } else if let Some(doc) = server.document(&document).filter(|_| {
                        // A copy holding no stored chunk was loaded as absent and nothing
                        // was stored from it since: a new document. (Should another writer
                        // have stored it meanwhile, both are kept.)
                        unstored.is_empty() && stores.space.check().is_ok() && compactions.known.get(&document).is_none_or(Vec::is_empty)
                    }) {
                        // The document as it is now holds these changes (it was empty) and
                        // perhaps later ones, already allowed and on their way to disk
                        // behind it: a snapshot of it covers this persist.
                        let doc = Box::new(doc.clone());
                        snapshots.insert(document, Vec::new());
                        snapshot_new(&stores.documents, &mut work, &flusher, &snapshotting, document, doc, chunk, token);
                    } else {
                        persist(&stores, &mut server, &mut compactions, &mut work, &flusher, &mut unstored, document, chunk, token);
                    }
                }
            }
        }
        if let Some((since, mut connections)) = worked {
            connections.extend(server.take_worked());
            let over = charge(&mut shares, budget(), since.elapsed(), &connections, &peers);
            let closed = peers.matching(|peer| peer.username().is_some_and(|user| over.contains(user)));
            for user in &over {
                tracing::warn!(%user, "closing the sync connections of someone taking more than their share of the server's time");
            }
            peers.close(closed, TOO_MUCH_WORK, &mut server);
        }
        // A connection keeps as many turns as it has documents still waiting. Only those
        // holding turns are counted: counting every connection's documents on every turn
        // of this loop took 29% of the server's CPU with 2,000 connections.
        for (connection, peer) in &mut peers.0 {
            if !peer.turns.is_empty() {
                peer.turns.truncate(server.waiting(*connection));
            }
        }
        if stopping && work.is_empty() {
            return;
        }
    }
}

/// What a person's connections are told as they close for a revocation or sign-out.
const SIGNED_OUT: &str = "signed out: sign in again";
/// ... and when their roles changed.
const ROLES_CHANGED: &str = "roles changed: reconnect";

/// What a person past their share of the hub's time is told as their connections close.
const TOO_MUCH_WORK: &str = "more sync work than the server takes from one person at a time: try again in a minute";

/// Charges `took` to the people of `connections`, shared equally; returns those it took
/// past their burst. Benchmark peers without a session are not charged.
fn charge(
    shares: &mut Shares,
    budget: Budget,
    took: Duration,
    connections: &std::collections::BTreeSet<ConnectionId>,
    peers: &Peers,
) -> Vec<Username> {
    let people: Vec<&Username> = connections.iter().filter_map(|connection| peers.0.get(connection)?.username()).collect();
    if people.is_empty() {
        return Vec::new();
    }
    let each = took / people.len() as u32;
    let now = std::time::Instant::now();
    // Each is past it once: the charge says so only as it happens.
    people.into_iter().filter(|user| shares.charge(user, each, now, budget)).cloned().collect()
}

/// What the hub keeps of one sync connection.
struct Peer {
    /// Where its frames go; `None` once the server role closed it (the connection task
    /// reports the disconnection after).
    outlet: Option<Outlet>,
    /// The person signed in and the token the connection was opened with; `None` for a
    /// benchmark peer without a session (`--bench-anonymous-sync`), which is allowed
    /// everything.
    user: Option<(UserRecord, TokenId)>,
    /// The turns of its frames whose work is not done.
    turns: Vec<OwnedSemaphorePermit>,
    /// When its sync was last noted for administrators.
    noted: tokio::time::Instant,
}

impl Peer {
    fn username(&self) -> Option<&Username> {
        self.user.as_ref().map(|(user, _)| &user.username)
    }
}

/// Every connection the hub serves: one map, so what is known of a connection comes and
/// goes with it.
#[derive(Default)]
struct Peers(HashMap<ConnectionId, Peer>);

impl Peers {
    /// The connections whose peer `select` picks.
    fn matching(&self, select: impl Fn(&Peer) -> bool) -> Vec<ConnectionId> {
        self.0.iter().filter(|(_, peer)| select(peer)).map(|(connection, _)| *connection).collect()
    }

    /// Closes `connections` for `reason`, which their peers are told, and forgets them.
    fn close(&mut self, connections: Vec<ConnectionId>, reason: &str, server: &mut Server) {
        for connection in connections {
            let peer = self.0.remove(&connection);
            let user = peer.as_ref().and_then(Peer::username);
            tracing::info!(connection = connection.0, user = ?user.map(Username::as_str), reason, "closing a sync connection");
            server.handle_disconnected(connection);
            if let Some(outlet) = peer.and_then(|peer| peer.outlet) {
                outlet.close(reason);
            }
        }
    }
}

/// New documents' snapshots made at once on the blocking pool ([`snapshot_new`]).
const SNAPSHOTS_AT_ONCE: usize = 2;

/// Stores a change as [`store`] does, in order behind those waiting for disk space.
#[allow(clippy::too_many_arguments)]
fn persist(
    stores: &Stores,
    server: &mut Server,
    compactions: &mut Compactions,
    work: &mut JoinSet<Done>,
    flusher: &Flusher,
    unstored: &mut VecDeque<(DocumentId, Vec<u8>, PersistToken)>,
    document: DocumentId,
    chunk: Vec<u8>,
    token: PersistToken,
) {
    if !unstored.is_empty() || stores.space.check().is_err() {
        unstored.push_back((document, chunk, token));
    } else if let Err(chunk) = store(stores, server, compactions, work, flusher, document, chunk, token) {
        unstored.push_back((document, chunk, token));
    }
}

/// Stores a new document's first changes as one snapshot on the blocking pool, then
/// flushes: saving a document whole on the hub held other people's changes behind a
/// flood of large new documents (the fairness test), and storing its changes to compact
/// them later wrote it twice (BENCHMARKS.md). At most [`SNAPSHOTS_AT_ONCE`] are made at
/// a time: a flood of new documents waits for them rather than starting a blocking thread
/// and a loaded document each.
#[allow(clippy::too_many_arguments)]
fn snapshot_new(
    store: &DocumentStore,
    work: &mut JoinSet<Done>,
    flusher: &Flusher,
    snapshotting: &Arc<Semaphore>,
    document: DocumentId,
    mut doc: Box<AutoCommit>,
    chunk: Vec<u8>,
    token: PersistToken,
) {
    let (store, flusher, snapshotting) = (store.clone(), flusher.clone(), snapshotting.clone());
    work.spawn(async move {
        let permit = snapshotting.acquire_owned().await;
        // The chunk is kept to be stored as it is if the snapshot cannot be.
        let stored = tokio::task::spawn_blocking(move || store.stage_new(&document, &mut doc).map_err(|error| format!("{error:#}")))
            .await
            .unwrap_or_else(|error| Err(format!("the storing task failed: {error}")));
        // The flush waits with everyone's (group commit), not holding the next snapshot.
        drop(permit);
        let result = match stored {
            Ok(key) => Ok((key, flusher.flush().await)),
            Err(error) => Err(error),
        };
        Done::Snapshotted { document, chunk, token, result }
    });
}

/// What follows a flush of a document's changes: made durable (and told to the other
/// servers, by the same commit), they are revealed to its peers and projected; otherwise
/// the flush is tried again, nobody told.
fn flushed(
    server: &mut Server,
    stores: &Stores,
    unflushed: &mut Vec<(DocumentId, PersistToken)>,
    document: DocumentId,
    token: PersistToken,
    result: Result<(), String>,
) {
    match result {
        Ok(()) => {
            stores.projections.flushed();
            server.handle_persisted(document, token);
        }
        Err(error) => {
            tracing::error!(%document, %error, "changes not durable; peers are not told they are until they are");
            unflushed.push((document, token));
        }
    }
}

/// What follows a change stored: its photos indexed, and the dashboards told (with the
/// copy here, and the keys of the stored chunks it holds).
fn note_stored(stores: &Stores, server: &Server, compactions: &Compactions, document: DocumentId) {
    if let Some(doc) = server.document(&document) {
        index_blobs(&stores.blobs, &document, doc);
        let holds = compactions.known.get(&document).map_or(&[][..], Vec::as_slice);
        if is_projected(doc)
            && let Err(error) = stores.projections.mark(&document, Some((doc, holds)))
        {
            tracing::error!(%document, error = format!("{error:#}"), "the dashboards will miss this change until a rebuild");
        }
    }
}

/// Reads the chunks of `document` another server stored, if the document is in memory
/// here (else the next load reads them; one loading now is looked at again once loaded).
fn fetch_stored_elsewhere(
    stores: &Stores,
    server: &Server,
    compactions: &Compactions,
    refetch: &mut HashSet<DocumentId>,
    work: &mut JoinSet<Done>,
    document: DocumentId,
) {
    if server.document(&document).is_none() {
        if server.is_loading(&document) {
            refetch.insert(document);
        }
        return;
    }
    let known = compactions.known.get(&document).cloned().unwrap_or_default();
    let store = stores.documents.clone();
    work.spawn(async move {
        let result = tokio::task::spawn_blocking(move || store.chunks_besides(&document, &known))
            .await
            .unwrap_or_else(|error| Err(anyhow::anyhow!("the reading task failed: {error}")));
        Done::Fetched { document, result }
    });
}

/// Tells the other servers sharing the database of people revoked, re-roled or signed
/// out here, in order, off the hub (stored changes are told by the flush that makes them
/// durable: [`DocumentStore::stage`]). With sled there is nobody to tell. Cloning shares it.
#[derive(Clone)]
struct Announcer(Option<mpsc::UnboundedSender<Option<News>>>);

impl Announcer {
    fn start(storage: &Storage) -> (Announcer, JoinHandle<()>) {
        if !storage.is_shared() {
            return (Announcer(None), tokio::spawn(async {}));
        }
        let (sender, mut told) = mpsc::unbounded_channel::<Option<News>>();
        let storage = storage.clone();
        let task = tokio::spawn(async move {
            while let Some(Some(news)) = told.recv().await {
                let storage = storage.clone();
                match tokio::task::spawn_blocking(move || storage.tell(&news)).await {
                    Ok(Ok(())) => {}
                    // A revoked person's open connections elsewhere stay until they
                    // reconnect (and are refused).
                    Ok(Err(error)) => tracing::warn!(error = format!("{error:#}"), "cannot tell the other servers"),
                    Err(error) => tracing::warn!(%error, "the telling task failed"),
                }
            }
        });
        (Announcer(Some(sender)), task)
    }

    fn tell(&self, news: News) {
        if let Some(sender) = &self.0 {
            let _ = sender.send(Some(news));
        }
    }

    /// Tells what was given so far, then stops.
    fn finish(&self) {
        if let Some(sender) = &self.0 {
            let _ = sender.send(None);
        }
    }
}

/// Documents whose stored chunks the hub folds into one snapshot, and which chunks each
/// document in memory holds.
#[derive(Default)]
struct Compactions {
    /// The keys of the stored chunks each document in memory was loaded from or has had
    /// stored since: all a compaction of it may remove (see [`crate::documents`]).
    known: HashMap<DocumentId, Vec<ChunkKey>>,
    /// Documents with chunks appended since they were loaded: stored compacted when they
    /// leave memory, so a document pushed in a few messages is kept as one snapshot.
    appended: HashSet<DocumentId>,
    /// Documents being compacted now, each compacted once at a time.
    running: HashSet<DocumentId>,
}

impl Compactions {
    /// Notes a chunk stored from the document in memory; says whether it now has enough
    /// incremental chunks to be compacted.
    fn appended(&mut self, document: DocumentId, key: ChunkKey) -> bool {
        self.appended.insert(document);
        let known = self.known.entry(document).or_default();
        known.push(key);
        known.iter().filter(|key| !key.is_snapshot()).count() > COMPACT_AFTER && !self.running.contains(&document)
    }

    /// Stores each document as one snapshot in place of the chunks it is known to hold,
    /// in one task on the blocking pool while the hub goes on (one task, not one per
    /// document: a thousand concurrent sled writers cost far more memory than they save
    /// time).
    fn start(&mut self, store: &DocumentStore, work: &mut JoinSet<Done>, covering: Vec<(DocumentId, Box<AutoCommit>, Vec<ChunkKey>)>) {
        if covering.is_empty() {
            return;
        }
        self.running.extend(covering.iter().map(|(document, ..)| *document));
        let store = store.clone();
        work.spawn(async move {
            let running: Vec<(DocumentId, Vec<ChunkKey>)> =
                covering.iter().map(|(document, _, covered)| (*document, covered.clone())).collect();
            let result = tokio::task::spawn_blocking(move || {
                covering
                    .into_iter()
                    .map(|(document, mut doc, covered)| {
                        let stored = store.store_compacted(&document, &mut doc, &covered);
                        (document, covered, stored)
                    })
                    .collect()
            })
            .await;
            let documents = result.unwrap_or_else(|error| {
                running
                    .into_iter()
                    .map(|(document, covered)| (document, covered, Err(anyhow::anyhow!("the compaction task failed: {error}"))))
                    .collect()
            });
            Done::Compacted { documents }
        });
    }

    /// Notes compactions done: a document still (or again) in memory holds the snapshot
    /// in place of the chunks it covered.
    fn finished(&mut self, documents: Vec<(DocumentId, Vec<ChunkKey>, anyhow::Result<Option<ChunkKey>>)>) {
        for (document, covered, stored) in documents {
            self.running.remove(&document);
            match stored {
                Ok(Some(snapshot)) => {
                    if let Some(known) = self.known.get_mut(&document) {
                        known.retain(|key| !covered.contains(key));
                        if !known.contains(&snapshot) {
                            known.push(snapshot);
                        }
                    }
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(%document, error = format!("{error:#}"), "cannot compact a document; its chunks stay"),
            }
        }
    }
}

/// Notes, for the administrators' list of people, that `user` is syncing now.
fn note_sync(directory: &Directory, user: &Username) {
    if let Err(error) = directory.note_sync(user, now().as_millis()) {
        tracing::warn!(%user, error = format!("{error:#}"), "cannot note when a user synced");
    }
}

/// May this connection's user sync the document, are the new actors theirs, and may they
/// make these changes ([`shared::document::policy`])?
fn decide(stores: &Stores, server: &mut Server, user: Option<&UserRecord>, request: &AccessRequest) -> Decision {
    let (directory, document) = (&stores.directory, request.document);
    let Some(user) = user else { return Decision::Deny };
    let Some(site) = &request.site else {
        tracing::debug!(%document, user = %user.username, "refused a document that names no valid site");
        return Decision::Deny;
    };
    let Some(role) = user.role_at(site) else {
        tracing::debug!(%document, user = %user.username, %site, "refused a document of a site where the user has no role");
        return Decision::Deny;
    };
    if request.incoming_site.as_ref() != Some(site) {
        tracing::warn!(%document, user = %user.username, from = %site, to = ?request.incoming_site, "refused changes that move a document to another site");
        return Decision::Deny;
    }
    // A preventive order's planner actor is computed from public facts: it is bound to no
    // one (so no one can claim it in advance), and the policy takes it only in the changes
    // that create its order.
    let planner = if request.writes {
        server.check_write(request.ticket, |document, _, _, after| WorkOrder::planner_actor(document, after)).flatten()
    } else {
        None
    };
    let actors: Vec<&String> =
        request.new_actors.iter().filter(|actor| planner.as_ref().is_none_or(|planner| planner.to_hex_string() != **actor)).collect();
    // Check every actor before binding any, so a refused message binds nothing.
    for actor in &actors {
        match directory.actor_owner(actor) {
            Ok(None) => {}
            Ok(Some(owner)) if owner == user.username => {}
            Ok(Some(owner)) => {
                tracing::warn!(%document, user = %user.username, %actor, %owner, "refused changes made under another user's actor");
                return Decision::Deny;
            }
            Err(error) => {
                tracing::error!(%document, %actor, error = format!("{error:#}"), "cannot check an actor; refusing its changes");
                return Decision::Deny;
            }
        }
    }
    if request.writes {
        // A document is loaded whole: past its ceiling it takes no more.
        match stores.documents.stored_bytes(&document) {
            Ok(bytes) if bytes > policy::MAX_DOCUMENT_BYTES => {
                let refusal = policy::Refusal::TooLarge { bytes };
                tracing::warn!(%document, user = %user.username, bytes, "refused changes to a document past its size");
                return Decision::Refuse(Refusal { code: refusal.code().to_owned(), reason: refusal.to_string() });
            }
            Ok(_) => {}
            Err(error) => {
                tracing::error!(%document, error = format!("{error:#}"), "cannot measure a document; refusing its changes");
                return Decision::Deny;
            }
        }
        let writer = Writer { user: &user.username, role };
        let verdict = shared::protocol::bounds::guarded(|| {
            server.check_write(request.ticket, |document, before, since, after| policy::check(document, before, since, after, writer))
        });
        match verdict {
            Err(panic) => {
                tracing::error!(%document, user = %user.username, %panic, "checking changes failed; refusing them");
                return Decision::Deny;
            }
            Ok(verdict) => match verdict {
                Some(Ok(())) => {}
                Some(Err(refusal)) => {
                    tracing::warn!(%document, user = %user.username, %role, code = refusal.code(), reason = %refusal, "refused changes the user may not make");
                    return Decision::Refuse(Refusal { code: refusal.code().to_owned(), reason: refusal.to_string() });
                }
                None => {
                    tracing::error!(%document, "changes to decide on were not found; refusing them");
                    return Decision::Deny;
                }
            },
        }
    }
    // Every check passed: the site, then the actors, are bound.
    if request.writes {
        match stores.documents.bind_site(&document, site) {
            Ok(bound) if bound == *site => {}
            Ok(bound) => {
                tracing::warn!(%document, user = %user.username, %site, %bound, "refused a document whose first change was stored at another site");
                return Decision::Deny;
            }
            Err(error) => {
                tracing::error!(%document, error = format!("{error:#}"), "cannot bind a document to its site; refusing its changes");
                return Decision::Deny;
            }
        }
    }
    for actor in actors {
        match directory.bind_actor(actor, &user.username) {
            Ok(Binding::Theirs) => {}
            Ok(Binding::Taken { by }) => {
                tracing::warn!(%document, user = %user.username, %actor, owner = %by, "refused changes made under another user's actor");
                return Decision::Deny;
            }
            Err(error) => {
                tracing::error!(%document, %actor, error = format!("{error:#}"), "cannot bind an actor; refusing its changes");
                return Decision::Deny;
            }
        }
    }
    Decision::Allow
}

/// Appends a document's new changes and asks for the flush that makes them durable (the
/// role hears of it then); gives the chunk back if it could not be stored, to try again.
#[allow(clippy::too_many_arguments)]
fn store(
    stores: &Stores,
    server: &mut Server,
    compactions: &mut Compactions,
    work: &mut JoinSet<Done>,
    flusher: &Flusher,
    document: DocumentId,
    chunk: Vec<u8>,
    token: PersistToken,
) -> Result<(), Vec<u8>> {
    // The append is ordered here, before the flush that covers it is asked for.
    match stores.documents.stage(&document, &chunk) {
        // Off the hub: saving a large document takes long enough to pause everyone's sync.
        Ok(key) => {
            let compact = compactions.appended(document, key);
            note_stored(stores, server, compactions, document);
            if compact
                && !stores.space.is_low()
                && let Some(doc) = server.document(&document)
            {
                let covered = compactions.known.get(&document).cloned().unwrap_or_default();
                compactions.start(&stores.documents, work, vec![(document, Box::new(doc.clone()), covered)]);
            }
        }
        Err(error) => {
            if let Some(doc) = server.document(&document) {
                index_blobs(&stores.blobs, &document, doc);
            }
            tracing::error!(%document, error = format!("{error:#}"), "cannot store changes; peers are not told they are kept until they are");
            return Err(chunk);
        }
    }
    let flusher = flusher.clone();
    work.spawn(async move { Done::Persisted { document, token, result: flusher.flush().await } });
    Ok(())
}

/// Records the files a document refers to, so those who can see it can fetch them. A
/// catalog refers to none and is large, so it is not walked.
fn index_blobs(blobs: &BlobStore, document: &DocumentId, doc: &AutoCommit) {
    if read_header(doc).is_ok_and(|header| header.document_type == DocumentType::SiteCatalog) {
        return;
    }
    let Some(site) = read_site(doc) else { return };
    let found = blob_refs(doc);
    if let Err(error) = blobs.record_refs(document, &site, &found) {
        tracing::error!(%document, error = format!("{error:#}"), "cannot index a document's files");
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{CLOSE_REASON_BYTES, Refusals, close_reason};
    use shared::protocol::server::ConnectionId;

    /// One person's refusals in a loop reach WARN once a minute, counting those left out.
    #[tokio::test(start_paused = true)]
    async fn a_peer_refused_in_a_loop_is_logged_once_a_minute() {
        let mut refusals = Refusals::default();
        for connection in 0..100 {
            refusals.note("tech", ConnectionId(connection), "malformed sync message: a Bloom filter with 0 bits per entry");
        }
        refusals.note("store", ConnectionId(100), "malformed sync message");
        assert_eq!(refusals.last["tech"].1, 99, "all but the first left out of WARN");
        assert_eq!(refusals.last["store"].1, 0, "someone else is not held back");
        tokio::time::advance(Duration::from_secs(61)).await;
        refusals.note("tech", ConnectionId(101), "again");
        assert_eq!(refusals.last["tech"].1, 0, "a minute on, WARN again (saying 99 were left out)");
    }

    #[test]
    fn close_reasons_are_cut_to_the_frame_limit_in_bytes_at_a_character_boundary() {
        assert_eq!(close_reason("too many messages"), "too many messages", "a short reason is whole");
        let chinese = "您的角色已更改，请重新连接以获取最新的站点和权限信息。".repeat(3);
        assert!(chinese.chars().count() < 120 && chinese.len() > CLOSE_REASON_BYTES, "fewer than 120 characters, yet too long");
        let cut = close_reason(&chinese);
        assert_eq!(cut.len(), 123, "41 whole characters of three bytes");
        assert!(chinese.starts_with(cut));
        let shifted = format!("a{chinese}");
        assert_eq!(close_reason(&shifted).len(), 121, "a character that would straddle the limit is left out whole");
    }
}
