//! The client role of the sync protocol, sans IO: the phone, the native test client and
//! the load generator all drive this with their own sockets and clocks.
//!
//! The host reports what happened — connected, a frame, a local change, disconnected, time
//! passing — and takes out frames to send ([`Client::poll_transmit`]), events
//! ([`Client::poll_event`]) and when to wake it next ([`Client::next_wakeup`]). Every new
//! connection starts every document's sync state afresh, so a server that forgot us (or a
//! different server) is never waited on.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use automerge::sync::{self, SyncDoc as _};
use automerge::{AutoCommit, ChangeHash};

use super::document_id::DocumentId;
use super::message::{self, Message, PROTOCOL_VERSION, PeerId, PeerMetadata, Refusal};
use crate::time::Timestamp;

/// How a client behaves on the network.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub peer_id: PeerId,
    /// The id of this device's storage (its IndexedDB), if it keeps one.
    pub storage_id: Option<String>,
    /// First reconnect delay, doubled on every failed attempt up to `backoff_max_ms`.
    pub backoff_min_ms: i64,
    pub backoff_max_ms: i64,
    /// How often to ask the host for a transport ping while connected.
    pub keepalive_ms: i64,
    pub max_frame: usize,
    /// Documents whose sync is started but not yet answered, at most; the rest wait their
    /// turn, so a phone with thousands of documents never floods the server.
    pub max_documents_in_flight: usize,
}

impl ClientConfig {
    pub fn new(peer_id: PeerId) -> ClientConfig {
        ClientConfig {
            peer_id,
            storage_id: None,
            backoff_min_ms: 500,
            backoff_max_ms: 30_000,
            keepalive_ms: 20_000,
            max_frame: 64 << 20,
            max_documents_in_flight: 256,
        }
    }
}

/// Whether the server has everything this device has of a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncStatus {
    /// The server's heads include every local change.
    Synced,
    /// This many changes are on this device only.
    LocalOnly(usize),
    /// The server has not told us its heads yet (never connected, or just connected).
    Unknown,
}

/// Something the host should know about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientEvent {
    /// Time to open a connection (first start, or a reconnect after backoff).
    ConnectWanted,
    /// The handshake finished: the server is `server`.
    Connected {
        server: PeerId,
    },
    /// Changes from the server were applied to this document.
    DocumentChanged(DocumentId),
    SyncStatusChanged(DocumentId, SyncStatus),
    /// The server has no such document, or will not share it.
    Unavailable(DocumentId),
    /// The server will not take this device's copy of the document: the user has no role
    /// at its site, or its changes are not theirs. They stay on the device.
    Refused(DocumentId),
    /// The server said something went wrong; the connection is done.
    ServerError(String),
}

/// What the host should put on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transmit {
    Frame(Vec<u8>),
    /// A transport-level ping, for hosts that can send one (browsers cannot; the server pings).
    Ping,
    /// Close the connection: the protocol cannot go on.
    Close,
}

enum Link {
    /// Not connected; when to try again.
    Offline {
        retry_at: Option<Timestamp>,
        attempts: u32,
    },
    /// The host is opening a connection.
    Opening,
    /// `join` sent, waiting for `peer`.
    Joining,
    Online {
        server: PeerId,
        next_ping: Timestamp,
    },
}

struct Tracked {
    doc: AutoCommit,
    state: sync::State,
    status: SyncStatus,
    unavailable: bool,
    /// The server answered "unavailable" for a document this device holds.
    refused: bool,
    /// Why, when the server said (changes the person's role may not make).
    refusal: Option<Refusal>,
}

/// A device's side of sync.
pub struct Client {
    config: ClientConfig,
    /// Connections made so far: each joins under a fresh peer id (see `handle_connected`).
    connections: u64,
    link: Link,
    documents: BTreeMap<DocumentId, Tracked>,
    /// On this connection: documents whose sync has started, those of them not yet
    /// answered, and those waiting to start.
    started: BTreeSet<DocumentId>,
    in_flight: BTreeSet<DocumentId>,
    waiting: VecDeque<DocumentId>,
    /// Documents that start before the others on every connection.
    first: BTreeSet<DocumentId>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<ClientEvent>,
}

impl Client {
    /// A client that wants to connect at once.
    pub fn new(config: ClientConfig, now: Timestamp) -> Client {
        Client {
            config,
            connections: 0,
            link: Link::Offline { retry_at: Some(now), attempts: 0 },
            documents: BTreeMap::new(),
            started: BTreeSet::new(),
            in_flight: BTreeSet::new(),
            waiting: VecDeque::new(),
            first: BTreeSet::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The next frame to send or the connection to close, if any. Call until `None` after
    /// every `handle_*` call and after adding or editing a document: what it returns is
    /// what the call decided, and nothing else sends it.
    #[must_use = "a transmit not carried out is a frame never sent"]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next thing that happened for the host to act on (store a changed document, open
    /// a connection, tell the person). Call until `None` after every `handle_*` call, as
    /// [`Client::poll_transmit`].
    #[must_use = "an event not acted on is a change not stored or a connection not opened"]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// When to call [`Client::handle_timeout`] next; ask again after every `handle_*` call.
    #[must_use]
    pub fn next_wakeup(&self) -> Option<Timestamp> {
        match &self.link {
            Link::Offline { retry_at, .. } => *retry_at,
            Link::Online { next_ping, .. } => Some(*next_ping),
            Link::Opening | Link::Joining => None,
        }
    }

    pub fn is_online(&self) -> bool {
        matches!(self.link, Link::Online { .. })
    }

    /// Starts tracking a document this device has (created here or loaded from storage).
    pub fn add_document(&mut self, id: DocumentId, doc: AutoCommit) {
        self.documents.insert(
            id,
            Tracked { doc, state: sync::State::new(), status: SyncStatus::Unknown, unavailable: false, refused: false, refusal: None },
        );
        if self.is_online() && !self.started.contains(&id) && !self.waiting.contains(&id) {
            self.waiting.push_back(id);
            self.start_waiting();
        }
    }

    /// Syncs this document before the others on every connection (a site's catalog, which
    /// says what else there is).
    pub fn sync_first(&mut self, id: DocumentId) {
        self.first.insert(id);
    }

    /// Starts tracking a document loaded from this device's storage together with the heads
    /// the server was last known to have, so that offline, before any connection, the
    /// status still counts only the changes the server lacks.
    pub fn add_stored_document(&mut self, id: DocumentId, doc: AutoCommit, server_heads: Vec<ChangeHash>) {
        self.add_document(id, doc);
        let tracked = self.documents.get_mut(&id).expect("just added");
        if !server_heads.is_empty() {
            tracked.state.their_heads = Some(server_heads);
        }
        tracked.status = status_of(&mut tracked.doc, &tracked.state, false);
    }

    /// Asks for a document known only by its id (from a catalog's index, a link).
    pub fn request_document(&mut self, id: DocumentId) {
        if !self.documents.contains_key(&id) {
            self.add_document(id, AutoCommit::new());
        }
    }

    pub fn document(&self, id: &DocumentId) -> Option<&AutoCommit> {
        self.documents.get(id).map(|tracked| &tracked.doc)
    }

    /// For local edits; call [`Client::handle_local_change`] after editing.
    pub fn document_mut(&mut self, id: &DocumentId) -> Option<&mut AutoCommit> {
        self.documents.get_mut(id).map(|tracked| &mut tracked.doc)
    }

    pub fn documents(&self) -> impl Iterator<Item = (&DocumentId, &AutoCommit)> {
        self.documents.iter().map(|(id, tracked)| (id, &tracked.doc))
    }

    /// Whether the server said, on this connection, that it has no such document for us.
    pub fn is_unavailable(&self, id: &DocumentId) -> bool {
        self.documents.get(id).is_some_and(|tracked| tracked.unavailable)
    }

    /// Whether the server refused this device's copy on this connection (see
    /// [`ClientEvent::Refused`]).
    pub fn is_refused(&self, id: &DocumentId) -> bool {
        self.documents.get(id).is_some_and(|tracked| tracked.refused)
    }

    /// Why the server refused this device's changes to the document, when it said.
    pub fn refusal(&self, id: &DocumentId) -> Option<&Refusal> {
        self.documents.get(id).and_then(|tracked| tracked.refusal.as_ref())
    }

    /// The heads the server last told us it has, if it has told us.
    pub fn server_heads(&self, id: &DocumentId) -> Option<Vec<ChangeHash>> {
        self.documents.get(id).and_then(|tracked| tracked.state.their_heads.clone())
    }

    pub fn status(&self, id: &DocumentId) -> Option<SyncStatus> {
        self.documents.get(id).map(|tracked| tracked.status)
    }

    /// The host opened a connection: say who we are. Every connection joins under a new
    /// peer id (`<peer id>-<n>`): peer ids are ephemeral by the protocol, and the JavaScript
    /// reference server keeps per-peer sync state across reconnects and then never answers
    /// a peer that comes back under its old id.
    pub fn handle_connected(&mut self, _now: Timestamp) {
        self.link = Link::Joining;
        self.connections += 1;
        let join = Message::Join {
            sender: self.current_peer_id(),
            supported_versions: vec![PROTOCOL_VERSION.to_owned()],
            metadata: Some(PeerMetadata { storage_id: self.config.storage_id.clone(), is_ephemeral: self.config.storage_id.is_none() }),
        };
        self.transmits.push_back(Transmit::Frame(message::encode(&join)));
    }

    /// The connection closed or failed to open; `random` (any value, drawn by the host)
    /// spreads reconnects so that phones coming out of one dead zone do not arrive together.
    pub fn handle_disconnected(&mut self, now: Timestamp, random: u64) {
        let attempts = match self.link {
            Link::Offline { attempts, .. } => attempts + 1,
            Link::Opening | Link::Joining => 1,
            Link::Online { .. } => 0,
        };
        let exponent = attempts.min(16);
        let delay = self.config.backoff_min_ms.saturating_mul(1 << exponent).min(self.config.backoff_max_ms);
        // Full delay range [delay/2, delay): never sooner than half, never in lockstep.
        let half = (delay / 2).max(1);
        let jittered = half + (random % half as u64) as i64;
        self.link = Link::Offline { retry_at: Some(now.plus_millis(jittered)), attempts };
        for (id, tracked) in &mut self.documents {
            let status = status_of(&mut tracked.doc, &tracked.state, false);
            if status != tracked.status {
                tracked.status = status;
                self.events.push_back(ClientEvent::SyncStatusChanged(*id, status));
            }
        }
    }

    /// The network came back (an `online` event): try now instead of waiting out the backoff.
    pub fn handle_network_available(&mut self, now: Timestamp) {
        if let Link::Offline { retry_at, .. } = &mut self.link {
            *retry_at = Some(now);
        }
    }

    pub fn handle_timeout(&mut self, now: Timestamp) {
        match &mut self.link {
            Link::Offline { retry_at: Some(at), .. } if *at <= now => {
                self.link = Link::Opening;
                self.events.push_back(ClientEvent::ConnectWanted);
            }
            Link::Online { next_ping, .. } if *next_ping <= now => {
                *next_ping = now.plus_millis(self.config.keepalive_ms);
                self.transmits.push_back(Transmit::Ping);
            }
            _ => {}
        }
    }

    /// A document was edited here: offer the change to the server.
    pub fn handle_local_change(&mut self, id: &DocumentId) {
        if let Some(tracked) = self.documents.get_mut(id) {
            let status = status_of(&mut tracked.doc, &tracked.state, true);
            if status != tracked.status {
                tracked.status = status;
                self.events.push_back(ClientEvent::SyncStatusChanged(*id, status));
            }
        }
        self.send_sync(*id, false);
    }

    pub fn handle_frame(&mut self, now: Timestamp, frame: &[u8]) {
        let message = match message::decode(frame, self.config.max_frame) {
            Ok(message) => message,
            Err(error) => return self.fail(&format!("cannot decode the server's message: {error}")),
        };
        match message {
            Message::Peer { sender, selected_version, .. } => {
                if selected_version != PROTOCOL_VERSION {
                    return self.fail("the server chose a protocol version this client does not speak");
                }
                self.link = Link::Online { server: sender.clone(), next_ping: now.plus_millis(self.config.keepalive_ms) };
                self.events.push_back(ClientEvent::Connected { server: sender });
                self.started.clear();
                self.in_flight.clear();
                self.waiting.clear();
                for (id, tracked) in &mut self.documents {
                    tracked.state = sync::State::new();
                    tracked.unavailable = false;
                    tracked.refused = false;
                    tracked.refusal = None;
                    self.waiting.push_back(*id);
                }
                // What the phone needs first (its sites' catalogs) goes first.
                let (first, rest): (VecDeque<DocumentId>, VecDeque<DocumentId>) =
                    self.waiting.drain(..).partition(|id| self.first.contains(id));
                self.waiting = first.into_iter().chain(rest).collect();
                self.start_waiting();
            }
            _ if !self.is_online() => self.fail("the server spoke before the handshake finished"),
            Message::Sync { document, data, .. } => self.receive_sync(document, &data),
            Message::DocUnavailable { document, refusal, .. } => {
                if self.in_flight.remove(&document) {
                    self.start_waiting();
                }
                if let Some(tracked) = self.documents.get_mut(&document) {
                    // Only a document we have nothing of is truly unavailable; one we hold is
                    // still offered to the server on the next connection.
                    if tracked.doc.get_heads().is_empty() {
                        if !tracked.unavailable {
                            tracked.unavailable = true;
                            self.events.push_back(ClientEvent::Unavailable(document));
                        }
                    } else if !tracked.refused || tracked.refusal != refusal {
                        tracked.refused = true;
                        tracked.refusal = refusal;
                        self.events.push_back(ClientEvent::Refused(document));
                    }
                }
            }
            Message::Error { message } => {
                self.events.push_back(ClientEvent::ServerError(message));
                self.transmits.push_back(Transmit::Close);
            }
            // Presence and gossip are not part of Houqin's client yet.
            Message::Ephemeral { .. } | Message::RemoteHeadsChanged { .. } | Message::RemoteSubscriptionChange { .. } => {}
            Message::Join { .. } | Message::Request { .. } | Message::Leave { .. } => {}
        }
    }

    fn receive_sync(&mut self, id: DocumentId, data: &[u8]) {
        if self.in_flight.remove(&id) {
            self.start_waiting();
        }
        let Some(tracked) = self.documents.get_mut(&id) else { return };
        let message = match sync::Message::decode(data) {
            Ok(message) => message,
            Err(error) => return self.fail(&format!("malformed sync message from the server: {error}")),
        };
        let before = tracked.doc.get_heads();
        let applied = tracked.doc.sync().receive_sync_message(&mut tracked.state, message);
        super::forget_patches(&mut tracked.doc);
        if let Err(error) = applied {
            return self.fail(&format!("cannot apply the server's changes: {error}"));
        }
        tracked.unavailable = false;
        tracked.refused = false;
        tracked.refusal = None;
        if tracked.doc.get_heads() != before {
            self.events.push_back(ClientEvent::DocumentChanged(id));
        }
        let status = status_of(&mut tracked.doc, &tracked.state, true);
        if status != tracked.status {
            tracked.status = status;
            self.events.push_back(ClientEvent::SyncStatusChanged(id, status));
        }
        self.send_sync(id, false);
    }

    /// Starts waiting documents' sync while fewer than the limit are unanswered: `request`
    /// for a document we have nothing of (the server should say if it has it neither),
    /// else `sync`.
    fn start_waiting(&mut self) {
        while self.is_online() && self.in_flight.len() < self.config.max_documents_in_flight {
            let Some(id) = self.waiting.pop_front() else { return };
            let Some(tracked) = self.documents.get_mut(&id) else { continue };
            let empty = tracked.doc.get_heads().is_empty();
            self.started.insert(id);
            self.in_flight.insert(id);
            self.send_sync(id, empty);
        }
    }

    fn current_peer_id(&self) -> PeerId {
        PeerId(format!("{}-{}", self.config.peer_id.0, self.connections))
    }

    fn send_sync(&mut self, id: DocumentId, as_request: bool) {
        // A document waiting its turn sends everything when it starts.
        if !self.started.contains(&id) {
            return;
        }
        let sender = self.current_peer_id();
        let Link::Online { server, .. } = &self.link else { return };
        let Some(tracked) = self.documents.get_mut(&id) else { return };
        if let Some(message) = tracked.doc.sync().generate_sync_message(&mut tracked.state) {
            let (target, data) = (server.clone(), message.encode());
            let message = if as_request {
                Message::Request { sender, target, document: id, data }
            } else {
                Message::Sync { sender, target, document: id, data }
            };
            self.transmits.push_back(Transmit::Frame(message::encode(&message)));
        }
    }

    fn fail(&mut self, reason: &str) {
        self.events.push_back(ClientEvent::ServerError(reason.to_owned()));
        self.transmits.push_back(Transmit::Close);
    }
}

/// Compares our changes with the heads the server last told us about.
fn status_of(doc: &mut AutoCommit, state: &sync::State, connected: bool) -> SyncStatus {
    let ours = doc.get_heads();
    match &state.their_heads {
        Some(theirs) if connected || !theirs.is_empty() => {
            let known: Vec<ChangeHash> = theirs.iter().copied().filter(|hash| doc.get_change_by_hash(hash).is_some()).collect();
            if known.len() < theirs.len() {
                // They have changes we have not received yet; what we lack says nothing of
                // what they lack, so count ours against what we share.
                return SyncStatus::LocalOnly(doc.get_changes(&known).len());
            }
            match doc.get_changes(&known).len() {
                0 => SyncStatus::Synced,
                pending => SyncStatus::LocalOnly(pending),
            }
        }
        _ if ours.is_empty() => SyncStatus::Unknown,
        _ => SyncStatus::LocalOnly(doc.get_changes(&[]).len()),
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable as _;

    use super::*;

    fn frames(client: &mut Client) -> Vec<Message> {
        std::iter::from_fn(|| client.poll_transmit())
            .filter_map(|transmit| match transmit {
                Transmit::Frame(frame) => Some(message::decode(&frame, 1 << 20).unwrap()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn documents_start_a_few_at_a_time() {
        let mut config = ClientConfig::new(PeerId("phone".into()));
        config.max_documents_in_flight = 2;
        let now = Timestamp::from_millis(0);
        let mut client = Client::new(config, now);
        let ids: Vec<DocumentId> = (1..=5).map(|byte| DocumentId::from_random([byte; 16])).collect();
        for id in &ids {
            let mut doc = AutoCommit::new();
            doc.put(automerge::ROOT, "n", 1).unwrap();
            doc.commit();
            client.add_document(*id, doc);
        }
        client.sync_first(ids[4]);
        client.handle_connected(now);
        assert!(matches!(frames(&mut client).as_slice(), [Message::Join { sender, .. }] if sender.0 == "phone-1"));
        let peer = Message::Peer {
            sender: PeerId("server".into()),
            target: PeerId("phone-1".into()),
            selected_version: "1".into(),
            metadata: None,
        };
        client.handle_frame(now, &message::encode(&peer));
        let started: Vec<DocumentId> = frames(&mut client).iter().filter_map(Message::document).collect();
        assert_eq!(started, [ids[4], ids[0]], "the one asked for first, then in order");

        // An answer (here: the server has no such document) lets the next one start.
        let unavailable =
            Message::DocUnavailable { sender: PeerId("server".into()), target: PeerId("phone-1".into()), document: ids[0], refusal: None };
        client.handle_frame(now, &message::encode(&unavailable));
        let next: Vec<DocumentId> = frames(&mut client).iter().filter_map(Message::document).collect();
        assert_eq!(next, [ids[1]]);
        // Loaded from storage with the server's last known heads: offline, only what the
        // server lacks counts.
        let mut stored = AutoCommit::new();
        stored.put(automerge::ROOT, "n", 1).unwrap();
        stored.commit();
        let server_had = stored.get_heads();
        stored.put(automerge::ROOT, "n", 2).unwrap();
        stored.commit();
        let mut offline = Client::new(ClientConfig::new(PeerId("offline".into())), now);
        offline.add_stored_document(ids[0], stored.fork(), server_had);
        assert_eq!(offline.status(&ids[0]), Some(SyncStatus::LocalOnly(1)));
        offline.add_stored_document(ids[1], stored, Vec::new());
        assert_eq!(offline.status(&ids[1]), Some(SyncStatus::LocalOnly(2)), "never synced: every change is local");

        // This device holds the document: the server refused its copy, it did not lose it.
        assert!(client.is_refused(&ids[0]) && !client.is_unavailable(&ids[0]));
        assert!(std::iter::from_fn(|| client.poll_event()).any(|event| event == ClientEvent::Refused(ids[0])));
        client.handle_disconnected(now, 0);
        client.handle_connected(now);
        let peer = Message::Peer {
            sender: PeerId("server".into()),
            target: PeerId("phone-2".into()),
            selected_version: "1".into(),
            metadata: None,
        };
        client.handle_frame(now, &message::encode(&peer));
        assert!(!client.is_refused(&ids[0]), "asked again on the next connection");
    }
}
