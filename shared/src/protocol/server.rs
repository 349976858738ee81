//! The server role of the sync protocol, sans IO: connections come and go, frames come in,
//! and the server answers with [`Effect`]s for its host to carry out — send a frame, close
//! a connection, load a document, decide on access, persist changes.
//!
//! Order of work for a frame carrying changes: decode, apply to a copy of the document,
//! ask the host whether they may be kept (it decides knowing the document's site, the
//! actors of the new changes and what they write), keep the copy, ask the host to persist
//! the new changes, and only once the host reports them durable, generate the sync
//! messages that reveal the new heads — to this peer and to every other peer of the
//! document. A crash can lose only what no peer has been told about.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use automerge::sync::{self, SyncDoc as _};
use automerge::{AutoCommit, Change, ChangeHash};

use super::bounds;
use super::document_id::DocumentId;
use super::message::{self, Message, PROTOCOL_VERSION, PeerId, PeerMetadata, Refusal};
use crate::directory::SiteId;
use crate::document::read_site;

/// The host's name for a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionId(pub u64);

/// Names an [`AccessRequest`] until the host answers it ([`Server::handle_decision`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ticket(u64);

/// Names an [`Effect::Persist`]. A document's tokens rise, so making one durable answers
/// for every earlier one ([`Server::handle_persisted`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PersistToken(u64);

/// The host's name for a change it makes itself ([`Server::change`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChangeId(pub u64);

/// What the host must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    Send {
        connection: ConnectionId,
        frame: Vec<u8>,
    },
    /// Close after sending what was queued before this effect.
    Close {
        connection: ConnectionId,
        reason: String,
    },
    /// Load the document from storage and call [`Server::handle_loaded`].
    Load {
        document: DocumentId,
    },
    /// Decide and call [`Server::handle_decision`] with the same ticket.
    Authorize(AccessRequest),
    /// Make `chunk` (an incremental save of new changes) durable, then call
    /// [`Server::handle_persisted`] with the token. Tokens of a document rise.
    Persist {
        document: DocumentId,
        chunk: Vec<u8>,
        token: PersistToken,
    },
    /// The host's own change ([`Server::change`]) is durable and sent to the document's
    /// peers (`Ok`), or could not be made: its changes do not read, or the stored document
    /// does not load.
    Changed {
        id: ChangeId,
        result: Result<(), String>,
    },
}

/// A question for the host: may this connection sync this document, and (if it brings
/// changes) are these actors theirs?
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessRequest {
    pub ticket: Ticket,
    pub connection: ConnectionId,
    pub document: DocumentId,
    /// The document's site as stored, or as the incoming changes create it; `None` when no
    /// valid site can be read (nothing anyone may see).
    pub site: Option<SiteId>,
    /// The site the document names once the incoming changes are applied. It differs from
    /// `site` only when a peer tries to move an existing document to another site, which
    /// a host refuses: a site is fixed when the document is created.
    pub incoming_site: Option<SiteId>,
    /// Actors (hex) of incoming changes not yet approved for this connection.
    pub new_actors: Vec<String>,
    /// The message brings changes: the host checks what they write
    /// ([`Server::check_write`]) before allowing them.
    pub writes: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Answered exactly as an unknown document would be: `doc-unavailable`, or, to a
    /// peer that offers its own copy without changes yet, the reply of an empty document
    /// (which invites the changes; a document that does not exist yet is created so).
    Deny,
    /// The peer may read the document but not make these changes: answered like `Deny`,
    /// saying why, and nothing of the message is kept.
    Refuse(Refusal),
}

/// Limits and identity of a server.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub peer_id: PeerId,
    pub storage_id: Option<String>,
    /// Frames over this size are refused with an `error` and the connection closed.
    pub max_frame: usize,
    /// Documents one connection may have waiting (for a load or an access decision) at
    /// once; more is refused the same way, so one client cannot fill the server's memory.
    pub max_documents_in_flight: usize,
}

enum Kind {
    Request,
    Sync,
}

struct Incoming {
    kind: Kind,
    data: Vec<u8>,
}

/// One connection's sync of one document.
struct PeerSync {
    state: sync::State,
    /// Reading was allowed; incoming changes from actors outside `actors` still ask.
    allowed: bool,
    actors: BTreeSet<String>,
    queue: VecDeque<Incoming>,
    awaiting: Option<Ticket>,
    /// The first queued message applied to a copy while its decision is awaited, so an
    /// allowed message is not applied twice.
    applied: Option<Applied>,
    /// The heads we last put in a message to this peer: its acknowledgement.
    told: Vec<ChangeHash>,
    /// Our heads when the peer last heard from us that it has caught up with them.
    confirmed: Vec<ChangeHash>,
}

/// A copy of a document with a peer's message applied, and the sync state after it.
struct Applied {
    /// The message applied: the copy stands for this message only.
    message: Vec<u8>,
    /// The document's heads the copy was made from; it is stale once they move.
    base: Vec<ChangeHash>,
    doc: AutoCommit,
    state: sync::State,
    /// The host allowed these changes on this base.
    allowed: bool,
}

impl PeerSync {
    fn new() -> PeerSync {
        PeerSync {
            state: sync::State::new(),
            allowed: false,
            actors: BTreeSet::new(),
            queue: VecDeque::new(),
            awaiting: None,
            applied: None,
            told: Vec::new(),
            confirmed: Vec::new(),
        }
    }
}

struct Connection {
    peer: Option<PeerId>,
    syncs: BTreeMap<DocumentId, PeerSync>,
}

enum Document {
    Loading,
    Ready {
        /// Boxed: a loaded document is large next to the `Loading` marker.
        doc: Box<AutoCommit>,
        /// The latest persist not yet reported durable; while set, nothing reveals heads.
        unpersisted: Option<PersistToken>,
        /// How many passes of [`Server::evict_idle`] in a row found nothing had come for
        /// it: a document its peers are done with leaves memory after
        /// [`QUIET_PASSES`], though they stay connected.
        quiet: u8,
    },
}

const EPHEMERAL_MEMORY: usize = 256;

/// Passes of [`Server::evict_idle`] without anything coming for a document that
/// connections still sync before it leaves memory (the server's host calls it every 5 s:
/// a minute). Not one pass: a document leaving memory is stored compacted, which a phone
/// answering a round item by item would otherwise pay for every few answers.
pub const QUIET_PASSES: u8 = 12;

/// How working on one queued message ended.
enum Step {
    /// Taken: on to the next message.
    Next,
    /// Waiting for the host (a decision, or the document to load).
    Wait,
    /// The connection failed and is gone.
    Failed,
}

/// A request waiting for the host's decision: whose, for which document, and the actors
/// its changes would bind to the connection's person once allowed.
struct Pending {
    connection: ConnectionId,
    document: DocumentId,
    new_actors: Vec<String>,
}

/// The server's protocol state for every connection and loaded document.
pub struct Server {
    config: ServerConfig,
    connections: BTreeMap<ConnectionId, Connection>,
    documents: BTreeMap<DocumentId, Document>,
    effects: VecDeque<Effect>,
    next_ticket: u64,
    next_token: u64,
    /// Requests waiting for the host's decision.
    tickets: BTreeMap<Ticket, Pending>,
    /// Connections whose messages were worked on since the host last asked.
    worked: BTreeSet<ConnectionId>,
    /// The host's own changes to documents still loading.
    changes_to_apply: BTreeMap<DocumentId, Vec<(ChangeId, Vec<Change>)>>,
    /// The host's own changes applied and on their way to disk, with the persist that
    /// makes each durable.
    changes_to_confirm: BTreeMap<DocumentId, Vec<(ChangeId, PersistToken)>>,
    /// Per document, the connections syncing it (those with a [`PeerSync`] for it): what
    /// revealing a document's new heads visits, rather than every connection.
    followers: BTreeMap<DocumentId, BTreeSet<ConnectionId>>,
    /// Per followed document, the ephemeral messages already forwarded: (sender,
    /// session, count). Kept apart from the document, which may be out of memory.
    ephemeral_seen: BTreeMap<DocumentId, VecDeque<(String, String, u64)>>,
}

impl Server {
    pub fn new(config: ServerConfig) -> Server {
        Server {
            config,
            connections: BTreeMap::new(),
            documents: BTreeMap::new(),
            effects: VecDeque::new(),
            next_ticket: 1,
            next_token: 1,
            tickets: BTreeMap::new(),
            worked: BTreeSet::new(),
            changes_to_apply: BTreeMap::new(),
            changes_to_confirm: BTreeMap::new(),
            followers: BTreeMap::new(),
            ephemeral_seen: BTreeMap::new(),
        }
    }

    /// `connection`'s sync of `document`, begun if it was not.
    fn follow(&mut self, connection: ConnectionId, document: DocumentId) -> Option<&mut PeerSync> {
        let state = self.connections.get_mut(&connection)?;
        self.followers.entry(document).or_default().insert(connection);
        Some(state.syncs.entry(document).or_insert_with(PeerSync::new))
    }

    /// Ends `connection`'s sync of `document`; gives what it was.
    fn unfollow(&mut self, connection: ConnectionId, document: DocumentId) -> Option<PeerSync> {
        if let Some(followers) = self.followers.get_mut(&document) {
            followers.remove(&connection);
            if followers.is_empty() {
                self.followers.remove(&document);
                self.ephemeral_seen.remove(&document);
            }
        }
        self.connections.get_mut(&connection)?.syncs.remove(&document)
    }

    /// Ends every sync of `connection`.
    fn unfollow_all(&mut self, connection: ConnectionId) {
        let documents: Vec<DocumentId> =
            self.connections.get(&connection).map(|state| state.syncs.keys().copied().collect()).unwrap_or_default();
        for document in documents {
            self.unfollow(connection, document);
        }
    }

    /// The connections syncing `document`.
    fn followers_of(&self, document: &DocumentId) -> Vec<ConnectionId> {
        self.followers.get(document).map(|followers| followers.iter().copied().collect()).unwrap_or_default()
    }

    /// The connections whose messages were worked on (decoded, applied, answered) since
    /// the last call: the host charges the time its call took to them. Call after each
    /// `handle_*` call whose time the host measures.
    #[must_use]
    pub fn take_worked(&mut self) -> BTreeSet<ConnectionId> {
        std::mem::take(&mut self.worked)
    }

    /// The next thing the host must do, if any. Call until `None` after every `handle_*`
    /// call: effects are the only way the server's decisions leave it (a change is never
    /// acknowledged until the host carries out its `Persist` and calls
    /// [`Server::handle_persisted`]).
    #[must_use = "an effect not carried out is a frame never sent or a change never stored"]
    pub fn poll_effect(&mut self) -> Option<Effect> {
        self.effects.pop_front()
    }

    /// The document as the server holds it, if loaded.
    pub fn document(&self, document: &DocumentId) -> Option<&AutoCommit> {
        match self.documents.get(document) {
            Some(Document::Ready { doc, .. }) => Some(doc),
            _ => None,
        }
    }

    pub fn handle_connected(&mut self, connection: ConnectionId) {
        self.connections.insert(connection, Connection { peer: None, syncs: BTreeMap::new() });
    }

    pub fn handle_disconnected(&mut self, connection: ConnectionId) {
        self.unfollow_all(connection);
        self.connections.remove(&connection);
        self.tickets.retain(|_, pending| pending.connection != connection);
    }

    /// A frame arrived on `connection`.
    pub fn handle_frame(&mut self, connection: ConnectionId, frame: &[u8]) {
        if !self.connections.contains_key(&connection) {
            return;
        }
        let message = match message::decode(frame, self.config.max_frame) {
            Ok(message) => message,
            Err(error) => return self.fail(connection, &error.to_string()),
        };
        let joined = self.connections[&connection].peer.is_some();
        match message {
            Message::Join { sender, supported_versions, .. } => {
                if !supported_versions.iter().any(|version| version == PROTOCOL_VERSION) {
                    return self.fail(connection, "unsupported protocol version: this server speaks version 1");
                }
                // A new join starts every document's sync from scratch.
                self.unfollow_all(connection);
                let state = self.connections.get_mut(&connection).expect("checked above");
                state.peer = Some(sender.clone());
                let reply = Message::Peer {
                    sender: self.config.peer_id.clone(),
                    target: sender,
                    selected_version: PROTOCOL_VERSION.to_owned(),
                    metadata: Some(PeerMetadata { storage_id: self.config.storage_id.clone(), is_ephemeral: false }),
                };
                self.send(connection, &reply);
            }
            _ if !joined => self.fail(connection, "the first message must be join"),
            Message::Request { document, data, .. } => self.receive(connection, document, Incoming { kind: Kind::Request, data }),
            Message::Sync { document, data, .. } => self.receive(connection, document, Incoming { kind: Kind::Sync, data }),
            Message::Ephemeral { sender, document, session, count, data, .. } => {
                self.forward_ephemeral(connection, document, sender, session, count, data);
            }
            Message::Leave { .. } => self.effects.push_back(Effect::Close { connection, reason: "the peer left".to_owned() }),
            Message::Error { message } => {
                self.effects.push_back(Effect::Close { connection, reason: format!("the peer reported: {message}") });
            }
            Message::Peer { .. } => self.fail(connection, "peer is the server's message"),
            // Advisory messages with nothing for a server without remote-heads gossip to do.
            Message::DocUnavailable { .. } | Message::RemoteSubscriptionChange { .. } | Message::RemoteHeadsChanged { .. } => {}
        }
    }

    /// The host loaded `document` from storage, or found nothing (`None`).
    pub fn handle_loaded(&mut self, document: DocumentId, stored: Option<AutoCommit>) {
        let missing = stored.is_none();
        let doc = Box::new(stored.unwrap_or_default());
        self.documents.insert(document, Document::Ready { doc, unpersisted: None, quiet: 0 });
        for (id, changes) in self.changes_to_apply.remove(&document).unwrap_or_default() {
            self.apply_change(id, document, changes);
        }
        let waiting: Vec<ConnectionId> = self
            .connections
            .iter()
            .filter(|(_, state)| state.syncs.get(&document).is_some_and(|sync| !sync.queue.is_empty()))
            .map(|(connection, _)| *connection)
            .collect();
        for connection in waiting {
            self.process(connection, document);
        }
        // Asked for and not there: nothing is kept of it (requests for made-up ids would
        // otherwise hold an empty document each until the next eviction).
        let still_empty = match self.documents.get_mut(&document) {
            Some(Document::Ready { doc, unpersisted: None, .. }) => doc.get_heads().is_empty(),
            _ => false,
        };
        if missing && still_empty && !self.connections.values().any(|state| state.syncs.contains_key(&document)) {
            self.documents.remove(&document);
        }
    }

    /// The host could not load `document` (no stored chunk of it reads): every peer waiting
    /// for it is told it is unavailable rather than left waiting, and nothing of it is kept
    /// (the next request loads it again).
    pub fn handle_unloadable(&mut self, document: DocumentId) {
        if matches!(self.documents.get(&document), Some(Document::Loading)) {
            self.documents.remove(&document);
        }
        for (id, _) in self.changes_to_apply.remove(&document).unwrap_or_default() {
            self.effects.push_back(Effect::Changed { id, result: Err("the stored document does not load".to_owned()) });
        }
        for connection in self.followers_of(&document) {
            self.unfollow(connection, document);
            self.unavailable(connection, document);
        }
    }

    /// The host decided on an [`AccessRequest`].
    pub fn handle_decision(&mut self, ticket: Ticket, decision: Decision) {
        let Some(Pending { connection, document, new_actors: actors }) = self.tickets.remove(&ticket) else { return };
        let Some(sync) = self.connections.get_mut(&connection).and_then(|state| state.syncs.get_mut(&document)) else { return };
        sync.awaiting = None;
        match decision {
            Decision::Allow => {
                sync.allowed = true;
                sync.actors.extend(actors);
                if let Some(applied) = &mut sync.applied {
                    applied.allowed = true;
                }
                self.process(connection, document);
            }
            Decision::Deny => {
                let denied = self.unfollow(connection, document);
                self.answer_as_if_missing(connection, document, denied.and_then(|mut sync| sync.queue.pop_front()));
            }
            Decision::Refuse(refusal) => {
                self.unfollow(connection, document);
                self.unavailable_because(connection, document, Some(refusal));
            }
        }
    }

    /// Hands the host what an awaited decision's changes would do — the document's id, the
    /// document as kept, its heads, and the copy with the changes applied — to judge them
    /// before answering [`Server::handle_decision`]. `None` if the ticket is not waiting on
    /// changes.
    pub fn check_write<R>(
        &mut self,
        ticket: Ticket,
        judge: impl FnOnce(&DocumentId, &AutoCommit, &[ChangeHash], &mut AutoCommit) -> R,
    ) -> Option<R> {
        let Pending { connection, document, .. } = self.tickets.get(&ticket)?;
        let Some(Document::Ready { doc, .. }) = self.documents.get(document) else { return None };
        let applied = self.connections.get_mut(connection)?.syncs.get_mut(document)?.applied.as_mut()?;
        Some(judge(document, doc, &applied.base, &mut applied.doc))
    }

    /// The host made the persist with `token` (and every earlier one) durable.
    pub fn handle_persisted(&mut self, document: DocumentId, token: PersistToken) {
        if let Some(Document::Ready { unpersisted, .. }) = self.documents.get_mut(&document)
            && unpersisted.is_some_and(|latest| token >= latest)
        {
            *unpersisted = None;
            self.reveal(document);
        }
        if let Some(waiting) = self.changes_to_confirm.get_mut(&document) {
            let (durable, still): (Vec<_>, Vec<_>) = waiting.drain(..).partition(|(_, needs)| *needs <= token);
            *waiting = still;
            if waiting.is_empty() {
                self.changes_to_confirm.remove(&document);
            }
            self.effects.extend(durable.into_iter().map(|(id, _)| Effect::Changed { id, result: Ok(()) }));
        }
    }

    /// A change the host makes itself — a server-side edit, under an Automerge actor of
    /// its own: `changes` are the host's edited copy's changes since the heads it started
    /// from. Applied once the document is loaded (a
    /// document nobody has is created by them), then persisted and revealed to every peer
    /// of the document like a peer's; [`Effect::Changed`] with `id` says when they are
    /// durable. The host checks them: nothing here asks it to decide.
    pub fn change(&mut self, id: ChangeId, document: DocumentId, changes: Vec<Change>) {
        self.stir(&document);
        match self.documents.get(&document) {
            Some(Document::Ready { .. }) => self.apply_change(id, document, changes),
            Some(Document::Loading) => self.changes_to_apply.entry(document).or_default().push((id, changes)),
            None => {
                self.documents.insert(document, Document::Loading);
                self.effects.push_back(Effect::Load { document });
                self.changes_to_apply.entry(document).or_default().push((id, changes));
            }
        }
    }

    fn apply_change(&mut self, id: ChangeId, document: DocumentId, changes: Vec<Change>) {
        let Some(Document::Ready { doc, unpersisted, .. }) = self.documents.get_mut(&document) else { return };
        let before = doc.get_heads();
        // Changes made on a copy the document does not descend from would wait inside it
        // for what they build on, forever.
        let hashes: BTreeSet<ChangeHash> = changes.iter().map(Change::hash).collect();
        let builds_on_unknown =
            changes.iter().flat_map(Change::deps).any(|dep| !hashes.contains(dep) && doc.get_change_meta_by_hash(dep).is_none());
        if let Err(error) = if builds_on_unknown {
            Err("they build on changes the document lacks".to_owned())
        } else {
            doc.apply_changes(changes).map_err(|error| error.to_string())
        } {
            self.effects.push_back(Effect::Changed { id, result: Err(format!("the changes cannot be applied: {error}")) });
            return;
        }
        // Changes it already had are durable with what is stored, or with the persist
        // still on its way.
        let token = if doc.get_heads() == before {
            *unpersisted
        } else {
            let token = PersistToken(self.next_token);
            self.next_token += 1;
            *unpersisted = Some(token);
            self.effects.push_back(Effect::Persist { document, chunk: doc.save_after(&before), token });
            Some(token)
        };
        match token {
            Some(token) => self.changes_to_confirm.entry(document).or_default().push((id, token)),
            None => self.effects.push_back(Effect::Changed { id, result: Ok(()) }),
        }
    }

    /// Whether `document` is being loaded (asked for, not yet handed back).
    pub fn is_loading(&self, document: &DocumentId) -> bool {
        matches!(self.documents.get(document), Some(Document::Loading))
    }

    /// The documents in memory (loaded or loading).
    pub fn documents_in_memory(&self) -> Vec<DocumentId> {
        self.documents.keys().copied().collect()
    }

    /// Changes to `document` that another server sharing the storage stored and made
    /// durable (`chunks`, as stored): applied to the copy in memory, if there is one, and
    /// revealed to its peers — not persisted again. Says whether the copy now holds every
    /// change of the chunks (`false` when some wait inside it for changes it lacks, or it
    /// is not in memory): only then does it cover them, for a compaction.
    pub fn handle_stored_elsewhere(&mut self, document: DocumentId, chunks: &[Vec<u8>]) -> bool {
        let Some(Document::Ready { doc, .. }) = self.documents.get_mut(&document) else { return false };
        let before = doc.get_heads();
        let mut whole = true;
        for chunk in chunks {
            whole &= doc.load_incremental(chunk).is_ok();
        }
        whole &= doc.get_missing_deps(&[]).is_empty();
        super::forget_patches(doc);
        if doc.get_heads() != before {
            self.reveal(document);
        }
        whole
    }

    /// Drops loaded documents nothing waits on — those no connection is syncing, and those
    /// whose peers sent nothing for them in the last [`QUIET_PASSES`] calls — and hands
    /// them to the host (which may store them compacted). A document a connection still syncs loads again
    /// when a message comes for it: a phone that pushed thousands of documents does not
    /// keep them all in memory for as long as it stays connected.
    pub fn evict_idle(&mut self) -> Vec<(DocumentId, Box<AutoCommit>)> {
        let Server { documents, followers, connections, .. } = self;
        let idle: Vec<DocumentId> = documents
            .iter_mut()
            .filter_map(|(document, state)| {
                let Document::Ready { unpersisted: None, quiet, .. } = state else { return None };
                let Some(followers) = followers.get(document) else { return Some(*document) };
                let waited_on = followers.iter().any(|connection| {
                    connections
                        .get(connection)
                        .and_then(|state| state.syncs.get(document))
                        .is_some_and(|sync| !sync.queue.is_empty() || sync.awaiting.is_some())
                });
                *quiet = if waited_on { 0 } else { quiet.saturating_add(1) };
                (*quiet > QUIET_PASSES).then_some(*document)
            })
            .collect();
        idle.into_iter()
            .filter_map(|document| match self.documents.remove(&document) {
                Some(Document::Ready { doc, .. }) => Some((document, doc)),
                _ => None,
            })
            .collect()
    }

    /// Something came for the document: its quiet passes start again.
    fn stir(&mut self, document: &DocumentId) {
        if let Some(Document::Ready { quiet, .. }) = self.documents.get_mut(document) {
            *quiet = 0;
        }
    }

    /// How many of `connection`'s documents wait for a load or a decision: work the host
    /// still has to do for what the peer sent.
    pub fn waiting(&self, connection: ConnectionId) -> usize {
        self.connections
            .get(&connection)
            .map_or(0, |state| state.syncs.values().filter(|sync| !sync.queue.is_empty() || sync.awaiting.is_some()).count())
    }

    fn receive(&mut self, connection: ConnectionId, document: DocumentId, incoming: Incoming) {
        let waiting = self.waiting(connection);
        let state = self.connections.get_mut(&connection).expect("joined connections exist");
        let already_waiting = state.syncs.get(&document).is_some_and(|sync| !sync.queue.is_empty() || sync.awaiting.is_some());
        if waiting >= self.config.max_documents_in_flight && !already_waiting {
            let limit = self.config.max_documents_in_flight;
            return self.fail(connection, &format!("more than {limit} documents waiting at once; send fewer at a time"));
        }
        self.follow(connection, document).expect("joined connections exist").queue.push_back(incoming);
        self.stir(&document);
        match self.documents.get(&document) {
            None => {
                self.documents.insert(document, Document::Loading);
                self.effects.push_back(Effect::Load { document });
            }
            Some(Document::Loading) => {}
            Some(Document::Ready { .. }) => self.process(connection, document),
        }
    }

    /// Works through the connection's queued messages for the document until one needs a
    /// decision from the host, then reveals what was kept to the document's peers.
    fn process(&mut self, connection: ConnectionId, document: DocumentId) {
        self.worked.insert(connection);
        loop {
            let Some(Document::Ready { doc, .. }) = self.documents.get_mut(&document) else { return };
            let Some(sync) = self.connections.get(&connection).and_then(|state| state.syncs.get(&document)) else { return };
            if sync.awaiting.is_some() {
                return;
            }
            let Some(incoming) = sync.queue.front() else { break };
            let message = match bounds::decode(&incoming.data) {
                Ok(message) => message,
                Err(error) => return self.fail(connection, &format!("malformed sync message: {error}")),
            };
            let exists = !doc.get_heads().is_empty();
            let unwritten = !exists && matches!(incoming.kind, Kind::Request) && message.changes.is_empty();
            let heads_only = message.changes.is_empty() && sync.allowed;
            let step = if unwritten {
                self.answer_unwritten(connection, document)
            } else if heads_only {
                self.take_heads(connection, document, message)
            } else {
                self.take_changes(connection, document, message)
            };
            match step {
                Step::Next => {}
                Step::Wait | Step::Failed => return,
            }
        }
        self.reveal(document);
    }

    /// Asked for a document nobody has written: the same answer as a forbidden one.
    fn answer_unwritten(&mut self, connection: ConnectionId, document: DocumentId) -> Step {
        let state = self.connections.get_mut(&connection).expect("processed");
        let sync = state.syncs.get_mut(&document).expect("processed");
        sync.queue.pop_front();
        if sync.queue.is_empty() {
            self.unfollow(connection, document);
        }
        self.unavailable(connection, document);
        Step::Next
    }

    /// Heads and wishes only: nothing to decide or persist, so no copy to make. No changes,
    /// so the document is not touched; on failure the connection, and the sync state with
    /// it, goes.
    fn take_heads(&mut self, connection: ConnectionId, document: DocumentId, message: sync::Message) -> Step {
        let Some(Document::Ready { doc, .. }) = self.documents.get_mut(&document) else { return Step::Wait };
        let sync = self.connections.get_mut(&connection).and_then(|state| state.syncs.get_mut(&document)).expect("processed");
        let applied = bounds::guarded(|| doc.sync().receive_sync_message(&mut sync.state, message).map_err(|error| error.to_string()));
        super::forget_patches(doc);
        if let Err(error) = applied.and_then(|applied| applied) {
            self.fail(connection, &format!("cannot apply sync message: {error}"));
            return Step::Failed;
        }
        // A copy made for this message before reading was allowed is stale now.
        sync.applied = None;
        sync.queue.pop_front();
        Step::Next
    }

    /// Changes: applied to a copy first, so access is decided before anything is kept (or
    /// the copy made before the decision is taken, if the document has not moved). Asks
    /// the host when the peer is not yet allowed, brings actors not yet its own, or writes;
    /// once decided, keeps the copy and asks for the new changes to be persisted.
    fn take_changes(&mut self, connection: ConnectionId, document: DocumentId, message: sync::Message) -> Step {
        let Some(Document::Ready { doc, unpersisted, .. }) = self.documents.get_mut(&document) else { return Step::Wait };
        let sync = self.connections.get_mut(&connection).and_then(|state| state.syncs.get_mut(&document)).expect("processed");
        let incoming = sync.queue.front().expect("processed");
        let exists = !doc.get_heads().is_empty();
        let old_heads = doc.get_heads();
        let (mut scratch, state, decided) = match sync.applied.take() {
            Some(applied) if applied.base == old_heads && applied.message == incoming.data => (applied.doc, applied.state, applied.allowed),
            _ => {
                let mut scratch = AutoCommit::clone(doc);
                let mut state = sync.state.clone();
                let applied =
                    bounds::guarded(|| scratch.sync().receive_sync_message(&mut state, message).map_err(|error| error.to_string()));
                super::forget_patches(&mut scratch);
                if let Err(error) = applied.and_then(|applied| applied) {
                    self.fail(connection, &format!("cannot apply sync message: {error}"));
                    return Step::Failed;
                }
                (scratch, state, false)
            }
        };
        // Metadata only: decoding the changes themselves cost a seventh of a push.
        let (any_new, new_actors) = {
            let new_changes = scratch.get_changes_meta(&old_heads);
            let actors: BTreeSet<String> =
                new_changes.iter().map(|change| change.actor.to_hex_string()).filter(|actor| !sync.actors.contains(actor)).collect();
            (!new_changes.is_empty(), actors)
        };
        if !decided && (!sync.allowed || !new_actors.is_empty() || any_new) {
            let ticket = Ticket(self.next_ticket);
            self.next_ticket += 1;
            sync.awaiting = Some(ticket);
            let incoming_site = read_site(&scratch);
            let site = if exists { read_site(doc) } else { incoming_site.clone() };
            let new_actors: Vec<String> = new_actors.into_iter().collect();
            sync.applied = Some(Applied { message: incoming.data.clone(), base: old_heads, doc: scratch, state, allowed: false });
            self.tickets.insert(ticket, Pending { connection, document, new_actors: new_actors.clone() });
            self.effects.push_back(Effect::Authorize(AccessRequest {
                ticket,
                connection,
                document,
                site,
                incoming_site,
                new_actors,
                writes: any_new,
            }));
            return Step::Wait;
        }
        sync.queue.pop_front();
        sync.state = state;
        if any_new {
            let chunk = scratch.save_after(&old_heads);
            let token = PersistToken(self.next_token);
            self.next_token += 1;
            *unpersisted = Some(token);
            self.effects.push_back(Effect::Persist { document, chunk, token });
        }
        **doc = scratch;
        Step::Next
    }

    /// Sends every allowed peer of the document what it lacks — unless changes are still
    /// on their way to disk.
    fn reveal(&mut self, document: DocumentId) {
        let Some(Document::Ready { doc, unpersisted: None, .. }) = self.documents.get_mut(&document) else { return };
        let heads = doc.get_heads();
        let mut frames = Vec::new();
        let Some(followers) = self.followers.get(&document) else { return };
        for connection in followers {
            let Some(state) = self.connections.get_mut(connection) else { continue };
            let (Some(peer), Some(sync)) = (&state.peer, state.syncs.get_mut(&document)) else { continue };
            if !sync.allowed || sync.awaiting.is_some() {
                continue;
            }
            let caught_up = sync.state.their_heads.as_ref() == Some(&heads);
            let mut message = doc.sync().generate_sync_message(&mut sync.state);
            if message.is_none() && (sync.told != heads || caught_up && sync.confirmed != heads) {
                // Automerge stays quiet when the peer sent the very changes that make our
                // heads equal to theirs; but a phone counts its work as safe only when the
                // server's heads say so. Forgetting what we last sent makes it say them.
                // It stays quiet too when a peer says it has received what we sent, which
                // the npm automerge-repo client pays for: until another message for the
                // document arrives, its Automerge keeps about twice the memory for it —
                // fetching 1,000 documents took twice the CPU, most of it collecting
                // garbage (BENCHMARKS.md). The reference server answers with its heads;
                // so do we, once per heads.
                sync.state.last_sent_heads.clear();
                message = doc.sync().generate_sync_message(&mut sync.state);
            }
            if caught_up {
                sync.confirmed.clone_from(&heads);
            }
            if let Some(message) = message {
                sync.told.clone_from(&message.heads);
                let reply = Message::Sync { sender: self.config.peer_id.clone(), target: peer.clone(), document, data: message.encode() };
                frames.push((*connection, message::encode(&reply)));
            }
        }
        for (connection, frame) in frames {
            self.effects.push_back(Effect::Send { connection, frame });
        }
    }

    fn forward_ephemeral(&mut self, from: ConnectionId, document: DocumentId, sender: PeerId, session: String, count: u64, data: Vec<u8>) {
        let allowed = self.connections.get(&from).and_then(|state| state.syncs.get(&document)).is_some_and(|sync| sync.allowed);
        if !allowed {
            return;
        }
        let ephemeral_seen = self.ephemeral_seen.entry(document).or_default();
        let key = (sender.0.clone(), session.clone(), count);
        if ephemeral_seen.contains(&key) {
            return;
        }
        ephemeral_seen.push_back(key);
        if ephemeral_seen.len() > EPHEMERAL_MEMORY {
            ephemeral_seen.pop_front();
        }
        let mut frames = Vec::new();
        for connection in self.followers.get(&document).into_iter().flatten() {
            let Some(state) = self.connections.get(connection) else { continue };
            let Some(peer) = &state.peer else { continue };
            if *connection != from && state.syncs.get(&document).is_some_and(|sync| sync.allowed) {
                let message = Message::Ephemeral {
                    sender: sender.clone(),
                    target: peer.clone(),
                    document,
                    session: session.clone(),
                    count,
                    data: data.clone(),
                };
                frames.push((*connection, message::encode(&message)));
            }
        }
        for (connection, frame) in frames {
            self.effects.push_back(Effect::Send { connection, frame });
        }
    }

    /// What a document this server does not have would answer to `incoming`: to a peer
    /// that holds a copy and sent no changes yet, an empty document's sync reply, so it
    /// sends them; to anything else, `doc-unavailable`.
    fn answer_as_if_missing(&mut self, connection: ConnectionId, document: DocumentId, incoming: Option<Incoming>) {
        let offered =
            incoming.filter(|incoming| matches!(incoming.kind, Kind::Sync)).and_then(|incoming| bounds::decode(&incoming.data).ok());
        let reply = offered.filter(|message| message.changes.is_empty()).and_then(|message| {
            bounds::guarded(|| {
                let mut empty = AutoCommit::new();
                let mut state = sync::State::new();
                empty.sync().receive_sync_message(&mut state, message).ok()?;
                empty.sync().generate_sync_message(&mut state)
            })
            .ok()
            .flatten()
        });
        let Some(peer) = self.connections.get(&connection).and_then(|state| state.peer.clone()) else { return };
        match reply {
            Some(reply) => {
                let message = Message::Sync { sender: self.config.peer_id.clone(), target: peer, document, data: reply.encode() };
                self.send(connection, &message);
            }
            None => self.unavailable(connection, document),
        }
    }

    fn unavailable(&mut self, connection: ConnectionId, document: DocumentId) {
        self.unavailable_because(connection, document, None);
    }

    fn unavailable_because(&mut self, connection: ConnectionId, document: DocumentId, refusal: Option<Refusal>) {
        let Some(peer) = self.connections.get(&connection).and_then(|state| state.peer.clone()) else { return };
        let message = Message::DocUnavailable { sender: self.config.peer_id.clone(), target: peer, document, refusal };
        self.send(connection, &message);
    }

    fn send(&mut self, connection: ConnectionId, message: &Message) {
        self.effects.push_back(Effect::Send { connection, frame: message::encode(message) });
    }

    /// Tells the peer what went wrong and closes: one bad connection never affects others.
    fn fail(&mut self, connection: ConnectionId, reason: &str) {
        self.send(connection, &Message::Error { message: reason.to_owned() });
        self.effects.push_back(Effect::Close { connection, reason: reason.to_owned() });
        self.handle_disconnected(connection);
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable as _;

    use super::*;
    use crate::protocol::message::decode;

    const PHONE: ConnectionId = ConnectionId(1);
    const OTHER: ConnectionId = ConnectionId(2);

    fn server() -> Server {
        Server::new(ServerConfig { peer_id: PeerId("server".into()), storage_id: None, max_frame: 4096, max_documents_in_flight: 2 })
    }

    fn join(server: &mut Server, connection: ConnectionId, name: &str) {
        server.handle_connected(connection);
        let join = Message::Join { sender: PeerId(name.into()), supported_versions: vec!["1".into()], metadata: None };
        server.handle_frame(connection, &message::encode(&join));
        assert!(matches!(drain(server).as_slice(), [(Some(connection_sent), "peer")] if *connection_sent == connection));
    }

    /// Every effect, as (connection for sends and closes, a short name).
    fn drain(server: &mut Server) -> Vec<(Option<ConnectionId>, &'static str)> {
        std::iter::from_fn(|| server.poll_effect())
            .map(|effect| match effect {
                Effect::Send { connection, frame } => (Some(connection), decode(&frame, 1 << 20).unwrap().type_name()),
                Effect::Close { connection, .. } => (Some(connection), "close"),
                Effect::Load { .. } => (None, "load"),
                Effect::Authorize(_) => (None, "authorize"),
                Effect::Persist { .. } => (None, "persist"),
                Effect::Changed { .. } => (None, "changed"),
            })
            .collect()
    }

    /// The phone takes the server's sync message `data` into `doc` and sends back what
    /// Automerge answers, if anything; gives the message it took.
    fn phone_answers(
        server: &mut Server,
        document: DocumentId,
        doc: &mut AutoCommit,
        state: &mut sync::State,
        data: &[u8],
    ) -> sync::Message {
        let message = sync::Message::decode(data).unwrap();
        doc.sync().receive_sync_message(state, message.clone()).unwrap();
        if let Some(reply) = doc.sync().generate_sync_message(state) {
            let reply = Message::Sync { sender: PeerId("phone".into()), target: PeerId("server".into()), document, data: reply.encode() };
            server.handle_frame(PHONE, &message::encode(&reply));
        }
        message
    }

    fn sync_frame(document: DocumentId, doc: &mut AutoCommit, state: &mut sync::State, request: bool) -> Vec<u8> {
        let data = doc.sync().generate_sync_message(state).unwrap().encode();
        let (sender, target) = (PeerId("phone".into()), PeerId("server".into()));
        message::encode(&if request {
            Message::Request { sender, target, document, data }
        } else {
            Message::Sync { sender, target, document, data }
        })
    }

    #[test]
    fn bad_peers_get_an_error_and_are_closed_alone() {
        let mut server = server();
        server.handle_connected(PHONE);
        server.handle_frame(PHONE, &[0xff, 0x00]);
        assert_eq!(drain(&mut server), [(Some(PHONE), "error"), (Some(PHONE), "close")]);

        server.handle_connected(PHONE);
        let too_new = Message::Join { sender: PeerId("p".into()), supported_versions: vec!["2".into()], metadata: None };
        server.handle_frame(PHONE, &message::encode(&too_new));
        assert_eq!(drain(&mut server), [(Some(PHONE), "error"), (Some(PHONE), "close")]);

        join(&mut server, OTHER, "other");
        server.handle_connected(PHONE);
        server.handle_frame(PHONE, &message::encode(&Message::Leave { sender: PeerId("p".into()) }));
        assert_eq!(drain(&mut server), [(Some(PHONE), "error"), (Some(PHONE), "close")]);
        server.handle_frame(OTHER, &vec![0xa0; 5000]);
        assert_eq!(drain(&mut server), [(Some(OTHER), "error"), (Some(OTHER), "close")], "over the frame limit");

        // Three documents at once from one connection, with room for two.
        join(&mut server, PHONE, "phone");
        for byte in 1..=3 {
            let document = DocumentId::from_random([byte; 16]);
            server.handle_frame(PHONE, &sync_frame(document, &mut AutoCommit::new(), &mut sync::State::new(), true));
        }
        assert_eq!(drain(&mut server), [(None, "load"), (None, "load"), (Some(PHONE), "error"), (Some(PHONE), "close")]);
    }

    /// A document whose stored chunks do not read leaves no peer waiting (they waited
    /// forever), and frees their turns.
    #[test]
    fn peers_of_a_document_that_cannot_load_are_told_it_is_unavailable() {
        let mut server = server();
        join(&mut server, PHONE, "phone");
        join(&mut server, OTHER, "other");
        let document = DocumentId::from_random([8; 16]);
        server.handle_frame(PHONE, &sync_frame(document, &mut AutoCommit::new(), &mut sync::State::new(), true));
        server.handle_frame(OTHER, &sync_frame(document, &mut AutoCommit::new(), &mut sync::State::new(), false));
        assert_eq!(drain(&mut server), [(None, "load")]);
        assert_eq!((server.waiting(PHONE), server.waiting(OTHER)), (1, 1));
        server.handle_unloadable(document);
        let mut answered = drain(&mut server);
        answered.sort();
        assert_eq!(answered, [(Some(PHONE), "doc-unavailable"), (Some(OTHER), "doc-unavailable")]);
        assert_eq!((server.waiting(PHONE), server.waiting(OTHER)), (0, 0));
        // Asked again, it is loaded again.
        server.handle_frame(PHONE, &sync_frame(document, &mut AutoCommit::new(), &mut sync::State::new(), true));
        assert_eq!(drain(&mut server), [(None, "load")]);
    }

    #[test]
    fn unknown_and_forbidden_documents_look_the_same() {
        let mut server = server();
        join(&mut server, PHONE, "phone");
        let document = DocumentId::from_random([3; 16]);
        let mut empty = AutoCommit::new();
        server.handle_frame(PHONE, &sync_frame(document, &mut empty, &mut sync::State::new(), true));
        assert_eq!(drain(&mut server), [(None, "load")]);
        server.handle_loaded(document, None);
        assert_eq!(drain(&mut server), [(Some(PHONE), "doc-unavailable")]);
        assert!(!server.documents.contains_key(&document), "nothing is kept of a document asked for and not there");

        let mut stored = AutoCommit::new();
        stored.put(automerge::ROOT, "type", "work_order").unwrap();
        stored.commit();
        let secret = DocumentId::from_random([4; 16]);
        server.handle_frame(PHONE, &sync_frame(secret, &mut AutoCommit::new(), &mut sync::State::new(), true));
        assert_eq!(drain(&mut server), [(None, "load")]);
        server.handle_loaded(secret, Some(stored));
        let ticket = match server.poll_effect() {
            Some(Effect::Authorize(request)) => request.ticket,
            other => panic!("expected an access question, got {other:?}"),
        };
        server.handle_decision(ticket, Decision::Deny);
        assert_eq!(drain(&mut server), [(Some(PHONE), "doc-unavailable")]);

        // A phone offering its own copy (no changes in its first message) hears what an
        // empty document says, for a missing document and a forbidden one alike.
        let mut phone_doc = AutoCommit::new();
        phone_doc.put(automerge::ROOT, "site", "hq").unwrap();
        phone_doc.commit();
        let missing = DocumentId::from_random([5; 16]);
        server.handle_frame(PHONE, &sync_frame(missing, &mut phone_doc.fork(), &mut sync::State::new(), false));
        assert_eq!(drain(&mut server), [(None, "load")]);
        server.handle_loaded(missing, None);
        for document in [missing, secret] {
            if document == secret {
                server.handle_frame(PHONE, &sync_frame(secret, &mut phone_doc.fork(), &mut sync::State::new(), false));
            }
            let Some(Effect::Authorize(request)) = server.poll_effect() else { panic!("expected an access question") };
            assert!(request.new_actors.is_empty());
            server.handle_decision(request.ticket, Decision::Deny);
            let answers: Vec<Vec<u8>> = std::iter::from_fn(|| server.poll_effect())
                .map(|effect| match effect {
                    Effect::Send { frame, .. } => frame,
                    other => panic!("unexpected {other:?}"),
                })
                .collect();
            let [answer] = answers.as_slice() else { panic!("one answer expected") };
            let Message::Sync { data, .. } = decode(answer, 1 << 20).unwrap() else { panic!("expected sync") };
            assert!(sync::Message::decode(&data).unwrap().heads.is_empty(), "an empty document's heads");
        }
    }

    #[test]
    fn a_change_moving_a_document_to_another_site_is_shown_to_the_host() {
        let mut server = server();
        join(&mut server, PHONE, "phone");
        let document = DocumentId::from_random([7; 16]);
        let mut stored = AutoCommit::new();
        stored.put(automerge::ROOT, "site", "hq").unwrap();
        stored.commit();
        let mut phone_doc = stored.fork();
        phone_doc.put(automerge::ROOT, "site", "plant2").unwrap();
        phone_doc.commit();
        let mut state = sync::State::new();
        server.handle_frame(PHONE, &sync_frame(document, &mut phone_doc, &mut state, false));
        assert_eq!(drain(&mut server), [(None, "load")]);
        server.handle_loaded(document, Some(stored));
        let mut question = None;
        while question.is_none() {
            match server.poll_effect().expect("the server answers until it asks about the change") {
                Effect::Authorize(request) if request.new_actors.is_empty() => server.handle_decision(request.ticket, Decision::Allow),
                Effect::Authorize(request) => question = Some(request),
                Effect::Send { frame, .. } => {
                    let Ok(Message::Sync { data, .. }) = decode(&frame, 1 << 20) else { continue };
                    phone_doc.sync().receive_sync_message(&mut state, sync::Message::decode(&data).unwrap()).unwrap();
                    server.handle_frame(PHONE, &sync_frame(document, &mut phone_doc, &mut state, false));
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        let request = question.unwrap();
        assert_eq!(request.site.map(|site| site.to_string()).as_deref(), Some("hq"));
        assert_eq!(request.incoming_site.map(|site| site.to_string()).as_deref(), Some("plant2"));
        assert_eq!(request.new_actors, [phone_doc.get_actor().to_hex_string()]);
    }

    #[test]
    fn new_heads_are_revealed_only_after_they_are_durable() {
        let mut server = server();
        join(&mut server, PHONE, "phone");
        join(&mut server, OTHER, "other");
        let document = DocumentId::from_random([5; 16]);
        let mut phone_doc = AutoCommit::new();
        phone_doc.put(automerge::ROOT, "title", "漏水").unwrap();
        phone_doc.commit();
        let mut phone_state = sync::State::new();

        // The other phone asks for the document first and is waiting for it.
        server.handle_frame(OTHER, &sync_frame(document, &mut AutoCommit::new(), &mut sync::State::new(), false));
        assert_eq!(drain(&mut server), [(None, "load")]);
        server.handle_loaded(document, None);
        let allow_other = |server: &mut Server| match server.poll_effect() {
            Some(Effect::Authorize(request)) => server.handle_decision(request.ticket, Decision::Allow),
            other => panic!("expected an access question, got {other:?}"),
        };
        allow_other(&mut server);
        assert_eq!(drain(&mut server), [(Some(OTHER), "sync")]);

        // The phone pushes: heads first, then (after the server's answer) its change.
        server.handle_frame(PHONE, &sync_frame(document, &mut phone_doc, &mut phone_state, false));
        allow_other(&mut server);
        let answer = std::iter::from_fn(|| server.poll_effect()).find_map(|effect| match effect {
            Effect::Send { connection: PHONE, frame } => Some(frame),
            _ => None,
        });
        let Message::Sync { data, .. } = decode(&answer.unwrap(), 1 << 20).unwrap() else { panic!("expected sync") };
        phone_doc.sync().receive_sync_message(&mut phone_state, sync::Message::decode(&data).unwrap()).unwrap();
        server.handle_frame(PHONE, &sync_frame(document, &mut phone_doc, &mut phone_state, false));
        let ticket = match server.poll_effect() {
            Some(Effect::Authorize(request)) => {
                assert_eq!(request.new_actors, [phone_doc.get_actor().to_hex_string()]);
                request.ticket
            }
            other => panic!("expected an access question for the new actor, got {other:?}"),
        };
        server.handle_decision(ticket, Decision::Allow);
        let token = match server.poll_effect() {
            Some(Effect::Persist { token, .. }) => token,
            other => panic!("expected a persist, got {other:?}"),
        };
        assert_eq!(drain(&mut server), [], "nothing may reveal the new heads before they are durable");
        server.handle_persisted(document, token);
        assert_eq!(drain(&mut server), [(Some(PHONE), "sync"), (Some(OTHER), "sync")]);
    }

    #[test]
    fn idle_documents_leave_memory_but_not_while_in_use_or_unsaved() {
        let mut server = server();
        join(&mut server, PHONE, "phone");
        let document = DocumentId::from_random([6; 16]);
        let (mut doc, mut state) = new_from_phone(&mut server, document, "门禁故障");
        let mut token = None;
        for _ in 0..10 {
            while let Some(effect) = server.poll_effect() {
                match effect {
                    Effect::Authorize(request) => server.handle_decision(request.ticket, Decision::Allow),
                    Effect::Persist { token: persisted, .. } => token = Some(persisted),
                    Effect::Send { frame, .. } => {
                        if let Ok(Message::Sync { data, .. }) = decode(&frame, 1 << 20) {
                            phone_answers(&mut server, document, &mut doc, &mut state, &data);
                        }
                    }
                    _ => {}
                }
            }
        }
        let token = token.expect("the phone's change was persisted");
        assert!(server.evict_idle().is_empty(), "in use by a connection");
        assert_eq!(server.followers_of(&document), [PHONE]);
        server.handle_disconnected(PHONE);
        assert!(server.followers.is_empty(), "a closed connection follows nothing");
        assert!(server.evict_idle().is_empty(), "changes not yet durable stay in memory");
        server.handle_persisted(document, token);
        let mut evicted = server.evict_idle();
        assert_eq!(evicted.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [document]);
        assert_eq!(evicted[0].1.get_heads(), doc.get_heads(), "handed back as it was, for the host to compact");
        assert!(server.document(&document).is_none());
    }

    /// Carries out effects until none are left: decisions allowed, persists made durable
    /// at once, and sync messages to the phone answered by it. Gives the documents the
    /// server asked to load.
    /// The phone sends a document new to the server (which loads it as nothing stored).
    fn new_from_phone(server: &mut Server, document: DocumentId, title: &str) -> (AutoCommit, sync::State) {
        let mut doc = AutoCommit::new();
        doc.put(automerge::ROOT, "title", title).unwrap();
        doc.commit();
        let mut state = sync::State::new();
        server.handle_frame(PHONE, &sync_frame(document, &mut doc, &mut state, false));
        server.handle_loaded(document, None);
        (doc, state)
    }

    fn settle(server: &mut Server, document: DocumentId, doc: &mut AutoCommit, state: &mut sync::State) -> Vec<DocumentId> {
        let mut loads = Vec::new();
        for _ in 0..10 {
            while let Some(effect) = server.poll_effect() {
                match effect {
                    Effect::Authorize(request) => server.handle_decision(request.ticket, Decision::Allow),
                    Effect::Persist { document, token, .. } => server.handle_persisted(document, token),
                    Effect::Load { document } => loads.push(document),
                    Effect::Send { connection: PHONE, frame } => {
                        if let Ok(Message::Sync { data, .. }) = decode(&frame, 1 << 20) {
                            phone_answers(server, document, doc, state, &data);
                        }
                    }
                    _ => {}
                }
            }
        }
        loads
    }

    /// A phone that stays connected after sending a document does not keep it in the
    /// server's memory: once passes of eviction have seen nothing come for it, it leaves
    /// (to be stored compacted) though the phone still syncs it; the phone's next change
    /// loads it again and is taken, and ephemeral messages reach its other peers meanwhile.
    #[test]
    fn a_document_its_connected_peers_are_done_with_leaves_memory_and_loads_for_the_next_change() {
        let mut server = server();
        join(&mut server, PHONE, "phone");
        join(&mut server, OTHER, "other");
        let document = DocumentId::from_random([7; 16]);
        let (mut doc, mut state) = new_from_phone(&mut server, document, "水管漏水");
        settle(&mut server, document, &mut doc, &mut state);
        // Another peer asks for it, so it follows it too.
        let (mut other, mut other_state) = (AutoCommit::new(), sync::State::new());
        let request = other.sync().generate_sync_message(&mut other_state).unwrap().encode();
        let request = Message::Request { sender: PeerId("other".into()), target: PeerId("server".into()), document, data: request };
        server.handle_frame(OTHER, &message::encode(&request));
        let mut sent_to_other = false;
        while let Some(effect) = server.poll_effect() {
            match effect {
                Effect::Authorize(request) => server.handle_decision(request.ticket, Decision::Allow),
                Effect::Send { connection, .. } => sent_to_other |= connection == OTHER,
                _ => {}
            }
        }
        assert!(sent_to_other, "the other peer is sent the document");

        for pass in 0..QUIET_PASSES {
            assert!(server.evict_idle().is_empty(), "in memory for {QUIET_PASSES} quiet passes, not after {pass}");
        }
        let mut evicted = server.evict_idle();
        assert_eq!(evicted.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [document], "then out of memory");
        assert_eq!(server.followers_of(&document), [PHONE, OTHER], "still synced by both");
        assert!(server.document(&document).is_none());

        let ephemeral = Message::Ephemeral {
            sender: PeerId("phone".into()),
            target: PeerId("server".into()),
            document,
            session: "s".into(),
            count: 1,
            data: vec![1, 2, 3],
        };
        server.handle_frame(PHONE, &message::encode(&ephemeral));
        assert_eq!(drain(&mut server), [(Some(OTHER), "ephemeral")], "forwarded without loading the document");

        doc.put(automerge::ROOT, "title", "水管漏水（二楼）").unwrap();
        doc.commit();
        server.handle_frame(PHONE, &sync_frame(document, &mut doc, &mut state, false));
        let loads = settle(&mut server, document, &mut doc, &mut state);
        assert_eq!(loads, [document], "the next change loads it");
        server.handle_loaded(document, Some(*evicted.remove(0).1));
        settle(&mut server, document, &mut doc, &mut state);
        assert_eq!(server.document(&document).map(|stored| stored.clone().get_heads()), Some(doc.get_heads()), "the change taken");
        assert_eq!(state.their_heads, Some(doc.get_heads()), "and the phone told the server has it");
    }

    /// Changes another server stored reach the phone syncing the document here, and are
    /// not persisted again; chunks that build on changes the copy lacks are applied but not
    /// counted as held, and the copy holds them once the missing chunk comes too.
    #[test]
    fn changes_stored_by_another_server_reach_the_phones_here_and_are_not_persisted_again() {
        let mut server = server();
        join(&mut server, PHONE, "phone");
        let document = DocumentId::from_random([8; 16]);
        let (mut doc, mut state) = new_from_phone(&mut server, document, "水管漏水");
        settle(&mut server, document, &mut doc, &mut state);

        // Another server's copy gains two changes, stored there as two chunks.
        let mut elsewhere = doc.fork().with_actor(automerge::ActorId::from([9; 16]));
        elsewhere.put(automerge::ROOT, "status", "assigned").unwrap();
        elsewhere.commit();
        let first = elsewhere.save_incremental();
        elsewhere.put(automerge::ROOT, "status", "done").unwrap();
        elsewhere.commit();
        let second = elsewhere.save_incremental();
        assert!(!server.handle_stored_elsewhere(document, std::slice::from_ref(&second)), "the second alone waits for the first");
        assert!(server.handle_stored_elsewhere(document, &[first, second]), "with the first, the copy holds both");
        let mut persisted = 0;
        for _ in 0..10 {
            while let Some(effect) = server.poll_effect() {
                match effect {
                    Effect::Persist { .. } => persisted += 1,
                    Effect::Send { connection: PHONE, frame } => {
                        if let Ok(Message::Sync { data, .. }) = decode(&frame, 1 << 20) {
                            phone_answers(&mut server, document, &mut doc, &mut state, &data);
                        }
                    }
                    _ => {}
                }
            }
        }
        assert_eq!(persisted, 0, "stored already: not persisted again");
        assert_eq!(doc.get_heads(), elsewhere.get_heads(), "the phone here has the other server's changes");
        assert!(
            !server.handle_stored_elsewhere(DocumentId::from_random([1; 16]), &[]),
            "a document not in memory is left to its next load"
        );
    }

    /// A fresh peer fetching a stored document: once it says it has what it was sent, it
    /// hears our heads (without changes) once, as from the reference server — the npm
    /// client holds twice the memory for a received document until a later message.
    #[test]
    fn a_peer_that_caught_up_hears_our_heads_once() {
        let mut server = server();
        join(&mut server, PHONE, "phone");
        let document = DocumentId::from_random([9; 16]);
        let mut stored = AutoCommit::new();
        stored.put(automerge::ROOT, "title", "电梯异响").unwrap();
        stored.commit();
        let mut fetched = AutoCommit::new();
        let mut state = sync::State::new();
        server.handle_frame(PHONE, &sync_frame(document, &mut fetched, &mut state, true));
        assert_eq!(drain(&mut server), [(None, "load")]);
        server.handle_loaded(document, Some(stored.clone()));
        // Every sync message the server sends the phone: received, and the phone's answer
        // (if Automerge gives one) sent back.
        let mut received = Vec::new();
        for _ in 0..5 {
            while let Some(effect) = server.poll_effect() {
                match effect {
                    Effect::Authorize(request) => server.handle_decision(request.ticket, Decision::Allow),
                    Effect::Send { frame, .. } => {
                        let Ok(Message::Sync { data, .. }) = decode(&frame, 1 << 20) else { continue };
                        let message = phone_answers(&mut server, document, &mut fetched, &mut state, &data);
                        received.push((message.heads, message.changes.is_empty()));
                    }
                    _ => {}
                }
            }
        }
        assert_eq!(fetched.get_heads(), stored.get_heads(), "the phone has the document");
        let heads = stored.get_heads();
        assert_eq!(received, [(heads.clone(), false), (heads, true)], "the document, then our heads alone, once");
    }

    /// The host's own change to a document a phone is waiting on: created from nothing,
    /// revealed to the phone only once durable, confirmed to the host then.
    #[test]
    fn the_hosts_own_change_is_revealed_and_confirmed_once_durable() {
        let mut server = server();
        join(&mut server, PHONE, "phone");
        let document = DocumentId::from_random([7; 16]);
        server.handle_frame(PHONE, &sync_frame(document, &mut AutoCommit::new(), &mut sync::State::new(), false));
        assert_eq!(drain(&mut server), [(None, "load")]);
        server.handle_loaded(document, None);
        match server.poll_effect() {
            Some(Effect::Authorize(request)) => server.handle_decision(request.ticket, Decision::Allow),
            other => panic!("expected an access question, got {other:?}"),
        }
        drain(&mut server);

        let mut made = AutoCommit::new();
        made.put(automerge::ROOT, "title", "公众报修").unwrap();
        made.commit();
        server.change(ChangeId(1), document, made.get_changes(&[]));
        let token = match server.poll_effect() {
            Some(Effect::Persist { token, document: persisted, .. }) if persisted == document => token,
            other => panic!("expected a persist, got {other:?}"),
        };
        assert_eq!(drain(&mut server), [], "nothing revealed or confirmed before it is durable");
        server.handle_persisted(document, token);
        assert_eq!(drain(&mut server), [(Some(PHONE), "sync"), (None, "changed")]);
        assert_eq!(server.document(&document).unwrap().clone().get_heads(), made.get_heads());

        // The same changes again: nothing new to store, confirmed at once.
        server.change(ChangeId(2), document, made.get_changes(&[]));
        assert_eq!(server.poll_effect(), Some(Effect::Changed { id: ChangeId(2), result: Ok(()) }));
    }

    /// A change to a document not in memory waits for its load; one that does not read,
    /// or whose document does not load, is reported failed.
    #[test]
    fn the_hosts_change_waits_for_its_document_and_fails_plainly() {
        let mut server = server();
        let document = DocumentId::from_random([8; 16]);
        let mut stored = AutoCommit::new();
        stored.put(automerge::ROOT, "title", "门禁故障").unwrap();
        stored.commit();
        let mut made = stored.fork();
        made.put(automerge::ROOT, "status", "reopened").unwrap();
        made.commit();
        server.change(ChangeId(1), document, made.get_changes(&stored.get_heads()));
        // Made on a copy with a change the server never had.
        let mut elsewhere = made.fork();
        elsewhere.put(automerge::ROOT, "title", "别处").unwrap();
        elsewhere.commit();
        let mut beyond = elsewhere.fork();
        beyond.put(automerge::ROOT, "title", "更远").unwrap();
        beyond.commit();
        server.change(ChangeId(2), document, beyond.get_changes(&elsewhere.get_heads()));
        assert_eq!(drain(&mut server), [(None, "load")], "loaded once for both");
        server.handle_loaded(document, Some(stored.clone()));
        let effects: Vec<Effect> = std::iter::from_fn(|| server.poll_effect()).collect();
        let [Effect::Persist { token, .. }, Effect::Changed { id: ChangeId(2), result: Err(_) }] = effects.as_slice() else {
            panic!("expected the first persisted and the second refused, got {effects:?}")
        };
        server.handle_persisted(document, *token);
        assert_eq!(server.poll_effect(), Some(Effect::Changed { id: ChangeId(1), result: Ok(()) }));
        assert_eq!(server.document(&document).unwrap().clone().get_heads(), made.get_heads());

        let unreadable = DocumentId::from_random([9; 16]);
        server.change(ChangeId(3), unreadable, made.get_changes(&[]));
        assert_eq!(drain(&mut server), [(None, "load")]);
        server.handle_unloadable(unreadable);
        assert!(matches!(server.poll_effect(), Some(Effect::Changed { id: ChangeId(3), result: Err(_) })));
        assert!(server.document(&unreadable).is_none());
    }
}
