//! `GET /sync`: the automerge-repo sync endpoint over WebSocket.
//!
//! One task, the hub, owns `shared`'s server role and carries out its effects: frames go
//! to connection tasks over channels, documents load from sled on the blocking pool, new
//! changes are appended to sled at once and made durable by the group-commit flusher
//! before the role hears they are — and only then reveals them. Loads and flushes run in
//! a `JoinSet` the hub owns, so nothing outlives it.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use automerge::AutoCommit;
use axum::Router;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use shared::protocol::DocumentId;
use shared::protocol::message::PeerId;
use shared::protocol::server::{ConnectionId, Decision, Effect, Server, ServerConfig};
use tokio::sync::{Mutex, mpsc};
use tokio::task::{JoinHandle, JoinSet};

use crate::{AppState, Storage};
use crate::documents::{COMPACT_AFTER, DocumentStore};
use crate::flusher::Flusher;

/// The largest frame a peer may send: a photo never travels inside a document, so this
/// bounds a sync message of ordinary edits with room to spare.
pub const MAX_FRAME: usize = 16 << 20;
/// Documents one connection may have waiting for a load or decision at once.
pub const MAX_DOCUMENTS_IN_FLIGHT: usize = 4096;
/// Frames a connection may send in a burst, and per second after it: a phone syncing
/// thousands of documents stays well inside; a client stuck in a loop does not.
pub const FRAME_BURST: f64 = 5000.0;
pub const FRAMES_PER_SECOND: f64 = 1000.0;
/// How often the server pings each socket: keeps proxies from closing quiet connections
/// and lets browsers (which cannot ping) be kept alive.
const PING_EVERY: Duration = Duration::from_secs(20);
/// How often documents nobody is syncing are dropped from memory.
const EVICT_EVERY: Duration = Duration::from_secs(30);

enum Command {
    Connected { connection: ConnectionId, outbound: mpsc::UnboundedSender<Outbound> },
    Frame { connection: ConnectionId, frame: Vec<u8> },
    Disconnected { connection: ConnectionId },
    Shutdown,
}

enum Outbound {
    Frame(Vec<u8>),
    Close(String),
}

/// What the hub's own tasks report back.
enum Done {
    Loaded { document: DocumentId, result: anyhow::Result<Option<Box<AutoCommit>>> },
    Persisted { document: DocumentId, token: u64, result: Result<(), String> },
}

/// A handle to the hub; cheap to clone.
#[derive(Clone)]
pub struct SyncHub {
    commands: mpsc::UnboundedSender<Command>,
    next_connection: Arc<AtomicU64>,
    /// The hub's task and the flusher's, awaited in that order on shutdown.
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl SyncHub {
    /// Starts the hub (and its flusher) on the current tokio runtime.
    pub fn start(storage: &Storage, peer_id: &str) -> anyhow::Result<SyncHub> {
        let store = DocumentStore::open(storage)?;
        let (flusher, flusher_task) = Flusher::start(storage.db());
        let (commands, incoming) = mpsc::unbounded_channel();
        let config = ServerConfig {
            peer_id: PeerId(peer_id.to_owned()),
            storage_id: Some(peer_id.to_owned()),
            max_frame: MAX_FRAME,
            max_documents_in_flight: MAX_DOCUMENTS_IN_FLIGHT,
        };
        let hub_task = tokio::spawn(run(incoming, Server::new(config), store, flusher));
        Ok(SyncHub { commands, next_connection: Arc::new(AtomicU64::new(1)), tasks: Arc::new(Mutex::new(vec![hub_task, flusher_task])) })
    }

    /// Closes every sync connection, finishes writes in progress and stops the hub.
    pub async fn shutdown(&self) {
        let _ = self.commands.send(Command::Shutdown);
        let tasks = std::mem::take(&mut *self.tasks.lock().await);
        for task in tasks {
            let _ = task.await;
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/sync", get(upgrade))
}

async fn upgrade(State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    let hub = state.sync.clone();
    upgrade.max_message_size(MAX_FRAME).max_frame_size(MAX_FRAME).on_upgrade(move |socket| serve_socket(socket, hub))
}

async fn serve_socket(mut socket: WebSocket, hub: SyncHub) {
    let connection = ConnectionId(hub.next_connection.fetch_add(1, Ordering::Relaxed));
    let (outbound, mut to_send) = mpsc::unbounded_channel();
    if hub.commands.send(Command::Connected { connection, outbound }).is_err() {
        return;
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut budget = RateLimit::new(FRAME_BURST, FRAMES_PER_SECOND);
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(WsMessage::Binary(_) | WsMessage::Text(_))) if !budget.take(tokio::time::Instant::now()) => {
                    tracing::warn!(connection = connection.0, "closing a sync connection that sends too fast");
                    let error = shared::protocol::Message::Error { message: "too many messages; slow down and reconnect".to_owned() };
                    let _ = socket.send(WsMessage::Binary(shared::protocol::encode(&error).into())).await;
                    let _ = socket.send(WsMessage::Close(Some(CloseFrame { code: 1008, reason: "rate limit".into() }))).await;
                    break;
                }
                Some(Ok(WsMessage::Binary(frame))) => {
                    let _ = hub.commands.send(Command::Frame { connection, frame: frame.to_vec() });
                }
                // Not a protocol frame: the role answers it with an error and a close.
                Some(Ok(WsMessage::Text(text))) => {
                    let _ = hub.commands.send(Command::Frame { connection, frame: text.as_bytes().to_vec() });
                }
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => {}
                Some(Ok(WsMessage::Close(_)) | Err(_)) | None => break,
            },
            outgoing = to_send.recv() => match outgoing {
                Some(Outbound::Frame(frame)) => {
                    if socket.send(WsMessage::Binary(frame.into())).await.is_err() {
                        break;
                    }
                }
                Some(Outbound::Close(reason)) => {
                    let reason: String = reason.chars().take(120).collect();
                    let _ = socket.send(WsMessage::Close(Some(CloseFrame { code: 1008, reason: reason.into() }))).await;
                    break;
                }
                None => break,
            },
            _ = ping.tick() => {
                if socket.send(WsMessage::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = hub.commands.send(Command::Disconnected { connection });
}

/// A token bucket: `capacity` frames at once, refilled at `per_second`.
struct RateLimit {
    tokens: f64,
    capacity: f64,
    per_second: f64,
    last: tokio::time::Instant,
}

impl RateLimit {
    fn new(capacity: f64, per_second: f64) -> RateLimit {
        RateLimit { tokens: capacity, capacity, per_second, last: tokio::time::Instant::now() }
    }

    fn take(&mut self, now: tokio::time::Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

async fn run(mut commands: mpsc::UnboundedReceiver<Command>, mut server: Server, store: DocumentStore, flusher: Flusher) {
    let mut outbound: HashMap<ConnectionId, mpsc::UnboundedSender<Outbound>> = HashMap::new();
    let mut work: JoinSet<Done> = JoinSet::new();
    let mut evict = tokio::time::interval(EVICT_EVERY);
    let mut stopping = false;
    loop {
        tokio::select! {
            command = commands.recv(), if !stopping => match command {
                Some(Command::Connected { connection, outbound: sender }) => {
                    outbound.insert(connection, sender);
                    server.handle_connected(connection);
                }
                Some(Command::Frame { connection, frame }) => server.handle_frame(connection, &frame),
                Some(Command::Disconnected { connection }) => {
                    outbound.remove(&connection);
                    server.handle_disconnected(connection);
                }
                Some(Command::Shutdown) | None => {
                    stopping = true;
                    for (_, sender) in outbound.drain() {
                        let _ = sender.send(Outbound::Close("the server is shutting down".to_owned()));
                    }
                }
            },
            Some(done) = work.join_next() => match done {
                Ok(Done::Loaded { document, result }) => match result {
                    Ok(stored) => server.handle_loaded(document, stored.map(|doc| *doc)),
                    Err(error) => tracing::error!(%document, error = format!("{error:#}"), "cannot load a document; its peers wait"),
                },
                Ok(Done::Persisted { document, token, result }) => match result {
                    Ok(()) => server.handle_persisted(document, token),
                    Err(error) => tracing::error!(%document, %error, "changes not durable; peers are not told they are"),
                },
                Err(error) => tracing::error!(%error, "a storage task failed"),
            },
            _ = evict.tick() => {
                let evicted = server.evict_idle();
                if !evicted.is_empty() {
                    tracing::debug!(count = evicted.len(), "evicted idle documents");
                }
            }
        }
        while let Some(effect) = server.poll_effect() {
            match effect {
                Effect::Send { connection, frame } => {
                    if let Some(sender) = outbound.get(&connection) {
                        let _ = sender.send(Outbound::Frame(frame));
                    }
                }
                Effect::Close { connection, reason } => {
                    tracing::info!(connection = connection.0, %reason, "closing a sync connection");
                    if let Some(sender) = outbound.remove(&connection) {
                        let _ = sender.send(Outbound::Close(reason));
                    }
                }
                Effect::Load { document } => {
                    let store = store.clone();
                    work.spawn(async move {
                        let result = tokio::task::spawn_blocking(move || store.load(&document).map(|doc| doc.map(Box::new)))
                            .await
                            .unwrap_or_else(|error| Err(anyhow::anyhow!("the load task failed: {error}")));
                        Done::Loaded { document, result }
                    });
                }
                // Access control arrives with sign-in; until then every peer may sync.
                Effect::Authorize(request) => server.handle_decision(request.ticket, Decision::Allow),
                Effect::Persist { document, chunk, token } => {
                    // The append is ordered here, before the flush that covers it is asked for.
                    let appended = store.append(&document, &chunk);
                    match appended {
                        Ok(count) if count > COMPACT_AFTER => {
                            if let Some(doc) = server.document(&document)
                                && let Err(error) = store.compact(&document, &mut doc.clone())
                            {
                                tracing::error!(%document, error = format!("{error:#}"), "compaction failed; chunks kept");
                            }
                        }
                        Ok(_) => {}
                        Err(error) => {
                            tracing::error!(%document, error = format!("{error:#}"), "cannot store changes; peers are not told they are kept");
                            continue;
                        }
                    }
                    let flusher = flusher.clone();
                    work.spawn(async move { Done::Persisted { document, token, result: flusher.flush().await } });
                }
            }
        }
        if stopping && work.is_empty() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::RateLimit;

    #[test]
    fn the_rate_limit_allows_a_burst_then_the_steady_rate() {
        let start = tokio::time::Instant::now();
        let mut limit = RateLimit::new(3.0, 2.0);
        limit.last = start;
        assert!((0..3).all(|_| limit.take(start)));
        assert!(!limit.take(start), "the burst is spent");
        assert!(limit.take(start + Duration::from_millis(500)), "one more after half a second at 2 per second");
        assert!(!limit.take(start + Duration::from_millis(500)));
        assert!((0..3).all(|_| limit.take(start + Duration::from_secs(60))), "refills up to the burst only");
        assert!(!limit.take(start + Duration::from_secs(60)));
    }
}
