//! The phone's replica: every document it holds, kept in IndexedDB and synced with the
//! server over `/sync` whenever a connection exists.
//!
//! `shared`'s client role decides what to send; this module gives it a browser WebSocket,
//! a clock and a one-second tick (timeouts and reconnects with backoff), listens to the
//! browser's `online`/`offline` events, writes every change to the store — a local edit
//! before it counts as saved, a change from the server as it arrives — and publishes a
//! [`SyncView`] for the interface. Components reach all of it through the [`Replica`]
//! handle in context.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::Arc;

use automerge::{ActorId, AutoCommit, ChangeHash};
use js_sys::{ArrayBuffer, Uint8Array};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::document::catalog::SiteCatalog;
use shared::protocol::DocumentId;
use shared::protocol::client::{Client, ClientConfig, ClientEvent, SyncStatus, Transmit};
use shared::protocol::message::PeerId;
use shared::time::{Span, Timestamp};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, MessageEvent, WebSocket};

use crate::error::AppError;
use crate::session::Session;
use crate::store::{self, Store};

/// How often the replica checks its timers (reconnect backoff).
const TICK_MS: u32 = 1000;
/// Records a document may gather in the store before they are compacted into one snapshot.
const COMPACT_AFTER: u32 = 64;
/// Documents a site's index lists as changed within this long are fetched to the phone.
const RECENT: Span = Span::days(30);

/// One document's state as the interface shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentState {
    /// The server has every change this phone has.
    Synced,
    /// This many changes are on this phone only.
    LocalOnly(usize),
    /// Not confirmed yet (never connected since it changed, or just connected).
    Unknown,
    /// The server will not take this phone's copy: no role at its site (`None`), or
    /// changes the person may not make, by the write policy's code.
    Refused(Option<RefusalCode>),
    /// Asked for, and the server has nothing it will share.
    Unavailable,
}

/// Why the server refused changes: one variant for each of `shared::document::policy::CODES`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefusalCode {
    Role,
    Name,
    Fixed,
    Written,
    Unreadable,
    TooLarge,
}

impl RefusalCode {
    /// The variant for a code the server sent, by name rather than by its place in `CODES`,
    /// so a code added there is unknown here (and shown as a plain refusal) until it has a
    /// variant, and a test says so.
    fn parse(code: &str) -> Option<RefusalCode> {
        Some(match code {
            "role" => RefusalCode::Role,
            "name" => RefusalCode::Name,
            "fixed" => RefusalCode::Fixed,
            "written" => RefusalCode::Written,
            "unreadable" => RefusalCode::Unreadable,
            "too_large" => RefusalCode::TooLarge,
            _ => return None,
        })
    }
}

/// What the interface shows about sync.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncView {
    pub online: bool,
    /// When the phone last lost (or first failed to get) its connection.
    pub offline_since: Option<Timestamp>,
    pub documents: BTreeMap<DocumentId, DocumentState>,
    /// Rises whenever any document's content changes, so views re-read it.
    pub revision: u64,
    /// The document this phone last saved a change of its own to, with the revision it
    /// made: what "saved" confirms.
    pub last_saved: Option<(DocumentId, u64)>,
    /// Photos kept on this phone that the server has not confirmed yet.
    pub photos_waiting: usize,
}

impl SyncView {
    /// Whether some document's state is not known yet (just asked for, or just
    /// reconnected): the phone is still catching up.
    pub fn catching_up(&self) -> bool {
        self.documents.values().any(|state| *state == DocumentState::Unknown)
    }

    /// How many documents the phone is still catching up on: the progress of a first
    /// sync or of one after long offline.
    pub fn catching_up_on(&self) -> usize {
        self.documents.values().filter(|state| **state == DocumentState::Unknown).count()
    }

    /// Notes a change of this phone's own to `id`, kept.
    fn saved(&mut self, id: DocumentId) {
        self.revision += 1;
        self.last_saved = Some((id, self.revision));
    }

    /// Changes on this phone only, over all documents.
    pub fn local_only(&self) -> usize {
        self.documents.values().map(|state| if let DocumentState::LocalOnly(count) = state { *count } else { 0 }).sum()
    }
}

/// The phone's replica as components and their tasks reach it: provided once by `App`
/// ([`provide_replica`]) and copied into whatever reads or edits documents. Between
/// sign-in and sign-out it holds the signed-in person's [`Running`] replica; without one,
/// reads find nothing and edits answer [`AppError::SignedOut`].
#[derive(Clone, Copy)]
pub struct Replica {
    pub view: RwSignal<SyncView>,
    /// Changes only when some document's content does: views showing documents depend on
    /// this, not on the whole view, so a sync acknowledgement never redraws a form being
    /// filled in.
    pub revision: Memo<u64>,
    running: StoredValue<Option<Rc<RefCell<Running>>>, LocalStorage>,
    /// Rises with every start and stop: a start that finishes loading after a later start
    /// or stop does not install its replica.
    turn: StoredValue<u64>,
}

pub fn use_replica() -> Replica {
    use_context().expect("provide_replica() runs in App")
}

pub fn provide_replica() {
    let view = RwSignal::new(SyncView::default());
    let revision = Memo::new(move |_| view.with(|view| view.revision));
    provide_context(Replica { view, revision, running: StoredValue::new_local(None), turn: StoredValue::new(0) });
}

/// What a document reads as, kept between changes by [`Replica::read_kept`]: each type has
/// its one way of being read from a document, so a kept reading is the same whoever asked
/// for it.
pub trait Reading: Sized + Send + Sync + 'static {
    /// The reading of `doc`, or `None` if it does not read as this.
    fn read(doc: &AutoCommit) -> Option<Self>;
}

impl Replica {
    fn running(self) -> Option<Rc<RefCell<Running>>> {
        self.running.try_with_value(Clone::clone).flatten()
    }

    /// Starts syncing for `session`: loads what the phone holds, asks for the user's sites'
    /// catalogs first, and connects. Replaces a replica already running.
    pub async fn start(self, session: &Session) -> Result<(), AppError> {
        // The replica replaced (the person's roles changed, say) stops at once, so no edit
        // goes to it while the new one loads; the views keep what they show until the new
        // one has loaded the same documents, rather than drawing every screen empty in
        // between.
        let replaced = self.running.try_update_value(Option::take).flatten();
        if let Some(replaced) = &replaced {
            replaced.borrow_mut().halt();
        }
        let turn = self.next_turn();
        let loaded = Running::load(session, self.view).await;
        if self.turn.try_get_value() != Some(turn) {
            // Signed out, or started again, while this one loaded: the later one decides.
            if let Ok(running) = loaded {
                running.borrow_mut().halt();
            }
            return Ok(());
        }
        match loaded {
            Ok(running) => {
                self.running.set_value(Some(running.clone()));
                // Everything loaded from the store is new to the views.
                self.view.update(|view| view.revision += 1);
                pump(&running);
                Ok(())
            }
            Err(error) => {
                if replaced.is_some() {
                    // Nothing syncs: the views no longer show what the replaced replica held.
                    self.view.update(|view| *view = SyncView { revision: view.revision + 1, ..SyncView::default() });
                }
                Err(error)
            }
        }
    }

    /// Stops syncing (sign-out): closes the socket, drops the timers and the kept readings.
    pub fn stop(self) {
        self.next_turn();
        if let Some(running) = self.running.try_update_value(Option::take).flatten() {
            running.borrow_mut().halt();
            self.view.update(|view| *view = SyncView { revision: view.revision + 1, ..SyncView::default() });
        }
    }

    fn next_turn(self) -> u64 {
        self.turn
            .try_update_value(|turn| {
                *turn += 1;
                *turn
            })
            .unwrap_or_default()
    }

    /// Reads a document the phone holds.
    pub fn read<T>(self, id: &DocumentId, read: impl FnOnce(&AutoCommit) -> T) -> Option<T> {
        let running = self.running()?;
        let this = running.borrow();
        this.client.document(id).map(read)
    }

    /// Reads a document the phone holds as a `T`, once per change of the document: the
    /// reading is kept with the document's heads and shared by every screen that asks again
    /// before the document changes. Screens redraw on every sync revision and reading a
    /// round or a catalog of thousands of places again each time is what made them slow; a
    /// document that does not read as `T` is remembered as such.
    pub fn read_kept<T: Reading>(self, id: &DocumentId) -> Option<Arc<T>> {
        let running = self.running()?;
        let mut this = running.borrow_mut();
        let this = &mut *this;
        let doc = this.client.document_mut(id)?;
        let heads = doc.get_heads();
        let key = (*id, TypeId::of::<T>());
        let reading = match this.readings.get(&key) {
            Some((read_at, reading)) if *read_at == heads => reading.clone(),
            _ => {
                let reading = T::read(doc).map(|value| Arc::new(value) as Arc<dyn Any + Send + Sync>);
                this.readings.insert(key, (heads, reading.clone()));
                reading
            }
        };
        reading.map(|reading| reading.downcast::<T>().unwrap_or_else(|_| unreachable!("readings are kept under their own type")))
    }

    /// The ids of every document the phone holds.
    pub fn document_ids(self) -> Vec<DocumentId> {
        self.running().map(|running| running.borrow().client.documents().map(|(id, _)| *id).collect()).unwrap_or_default()
    }

    /// The actor a new document is made under on this phone.
    pub fn device_actor(self) -> Option<ActorId> {
        self.running().map(|running| running.borrow().actor.clone())
    }

    /// Asks the server for a document this phone does not hold yet (one opened from a
    /// manager's list, say); it arrives like any other and the views redraw.
    pub fn want(self, id: DocumentId) {
        let Some(running) = self.running() else { return };
        {
            let mut this = running.borrow_mut();
            if this.client.document(&id).is_some() {
                return;
            }
            this.client.request_document(id);
        }
        pump(&running);
    }

    /// Adds a document made on this phone; resolves once it is stored.
    pub async fn create(self, id: DocumentId, mut doc: AutoCommit) -> Result<(), AppError> {
        let running = self.running().ok_or(AppError::SignedOut)?;
        let store = running.borrow().store.clone();
        store.append(&id, &doc.save()).await?;
        {
            let mut this = running.borrow_mut();
            this.persisted.insert(id, doc.get_heads());
            this.client.add_document(id, doc);
            this.client.handle_local_change(&id);
            this.view.update(|view| view.saved(id));
        }
        pump(&running);
        Ok(())
    }

    /// Edits a document under this phone's actor for the signed-in user; resolves once the
    /// change is stored (then, and only then, it is offered to the server).
    pub async fn edit<T>(self, id: &DocumentId, change: impl FnOnce(&mut AutoCommit) -> Result<T, AppError>) -> Result<T, AppError> {
        let running = self.running().ok_or(AppError::SignedOut)?;
        let (store, chunk, result) = {
            let mut this = running.borrow_mut();
            let this = &mut *this;
            let doc = this.client.document_mut(id).ok_or(AppError::NotOnThisPhone)?;
            doc.set_actor(this.actor.clone());
            let result = change(doc)?;
            let since = this.persisted.get(id).cloned().unwrap_or_default();
            let chunk = doc.save_after(&since);
            this.persisted.insert(*id, doc.get_heads());
            (this.store.clone(), chunk, result)
        };
        keep(&store, id, &chunk).await?;
        {
            let mut this = running.borrow_mut();
            this.client.handle_local_change(id);
            this.view.update(|view| view.saved(*id));
        }
        pump(&running);
        Ok(result)
    }

    /// Uploads the photos the server has not confirmed, if the phone is online now;
    /// otherwise the next connection does.
    pub fn upload_files(self) {
        if let Some(running) = self.running() {
            upload_files(&running);
        }
    }
}

/// A reading of a document and the heads it was read at; `None` where the document did
/// not read as the type asked for.
type Kept = (Vec<ChangeHash>, Option<Arc<dyn Any + Send + Sync>>);

/// The replica of one signed-in person while it syncs.
struct Running {
    client: Client,
    store: Store,
    token: String,
    actor: ActorId,
    socket: Option<WebSocket>,
    /// The socket's handlers, kept alive while it is open.
    handlers: Vec<Closure<dyn FnMut(JsValue)>>,
    /// Heads written to the store, per document: what is new is saved after them.
    persisted: BTreeMap<DocumentId, Vec<ChangeHash>>,
    /// The user's sites' catalogs, whose indexes say what else to fetch.
    catalogs: Vec<DocumentId>,
    /// The last reading of each document, per type read (see [`Replica::read_kept`]).
    readings: HashMap<(DocumentId, TypeId), Kept>,
    view: RwSignal<SyncView>,
    timers: Timers,
    /// Stopped or replaced: a socket still being opened for it is not opened.
    halted: bool,
}

/// The tick and the browser event listeners; dropping them stops them.
#[derive(Default)]
struct Timers {
    _tick: Option<Interval>,
    _listeners: Vec<Listener>,
}

/// `setInterval` for as long as it lives.
struct Interval {
    id: i32,
    _callback: Closure<dyn FnMut()>,
}

impl Interval {
    fn new(every_ms: u32, callback: impl FnMut() + 'static) -> Interval {
        let callback = Closure::<dyn FnMut()>::new(callback);
        let id = window()
            .set_interval_with_callback_and_timeout_and_arguments_0(callback.as_ref().unchecked_ref(), every_ms as i32)
            .expect("setInterval works in a window");
        Interval { id, _callback: callback }
    }
}

impl Drop for Interval {
    fn drop(&mut self) {
        window().clear_interval_with_handle(self.id);
    }
}

/// A listener on `window` for as long as it lives.
struct Listener {
    event: &'static str,
    callback: Closure<dyn FnMut()>,
}

impl Listener {
    fn new(event: &'static str, callback: impl FnMut() + 'static) -> Listener {
        let callback = Closure::<dyn FnMut()>::new(callback);
        let _ = window().add_event_listener_with_callback(event, callback.as_ref().unchecked_ref());
        Listener { event, callback }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = window().remove_event_listener_with_callback(self.event, self.callback.as_ref().unchecked_ref());
    }
}

impl Drop for Running {
    /// A replica replaced or stopped leaves no socket calling handlers that are gone.
    fn drop(&mut self) {
        if let Some(socket) = self.socket.take() {
            detach(&socket);
        }
    }
}

fn now() -> Timestamp {
    Timestamp::from_millis(js_sys::Date::now() as i64)
}

impl Running {
    /// Loads what the phone holds for `session`, asks for the user's sites' catalogs (and
    /// what their indexes list) first, and starts the tick and the browser's network
    /// listeners; the first pump connects.
    async fn load(session: &Session, view: RwSignal<SyncView>) -> Result<Rc<RefCell<Running>>, AppError> {
        let store = store::local().await?;
        let actor = ActorId::from(hex::decode(&session.actor).ok().filter(|actor| !actor.is_empty()).ok_or(AppError::SignedOut)?);
        let mut client = Client::new(ClientConfig::new(PeerId(format!("phone-{}", session.user.username))), now());
        let mut persisted = BTreeMap::new();
        for id in store.documents().await? {
            match store.load(&id).await {
                Ok(Some(mut doc)) => {
                    persisted.insert(id, doc.get_heads());
                    let server_heads = store.server_heads(&id).await.unwrap_or_default();
                    client.add_stored_document(id, doc, server_heads);
                }
                Ok(None) => {}
                // One damaged document does not keep the others from syncing.
                Err(error) => leptos::logging::error!("{error}"),
            }
        }
        let catalogs: Vec<DocumentId> = session.sites.iter().filter_map(|site| DocumentId::parse(site.catalog.as_deref()?).ok()).collect();
        for catalog in &catalogs {
            client.sync_first(*catalog);
            client.request_document(*catalog);
            request_indexed(&mut client, catalog);
        }
        let running = Rc::new(RefCell::new(Running {
            client,
            store,
            token: session.token.clone(),
            actor,
            socket: None,
            handlers: Vec::new(),
            persisted,
            catalogs,
            readings: HashMap::new(),
            view,
            timers: Timers::default(),
            halted: false,
        }));
        let ticking = Rc::downgrade(&running);
        let tick = Interval::new(TICK_MS, move || {
            if let Some(running) = ticking.upgrade() {
                running.borrow_mut().client.handle_timeout(now());
                pump(&running);
            }
        });
        let reconnecting = Rc::downgrade(&running);
        let online = Listener::new("online", move || {
            if let Some(running) = reconnecting.upgrade() {
                {
                    let mut this = running.borrow_mut();
                    this.client.handle_network_available(now());
                    this.client.handle_timeout(now());
                }
                pump(&running);
            }
        });
        let dropping = Rc::downgrade(&running);
        let offline = Listener::new("offline", move || {
            // The socket would notice only after a timeout; the phone knows now.
            if let Some(running) = dropping.upgrade()
                && let Some(socket) = running.borrow().socket.as_ref()
            {
                let _ = socket.close();
            }
        });
        running.borrow_mut().timers = Timers { _tick: Some(tick), _listeners: vec![online, offline] };
        Ok(running)
    }

    /// Closes the socket and drops the timers: nothing more happens for this replica.
    fn halt(&mut self) {
        self.halted = true;
        if let Some(socket) = self.socket.take() {
            detach(&socket);
        }
        self.timers = Timers::default();
    }

    /// Sends the frames the client role has queued, and closes the socket when it asks.
    fn send(&mut self) {
        while let Some(transmit) = self.client.poll_transmit() {
            match (transmit, &self.socket) {
                (Transmit::Frame(frame), Some(socket)) => {
                    let _ = socket.send_with_u8_array(&frame);
                }
                (Transmit::Close, Some(socket)) => {
                    let _ = socket.close();
                }
                // Browsers cannot ping; the server pings and the browser answers.
                _ => {}
            }
        }
    }

    /// Takes the client role's events: the changes to store and the server's heads to
    /// remember (done after, since the store is asynchronous), a connection wanted, photos
    /// to upload once connected.
    fn take_events(&mut self) -> FollowUp {
        let mut follow_up = FollowUp::default();
        while let Some(event) = self.client.poll_event() {
            match event {
                ClientEvent::ConnectWanted => follow_up.connect = true,
                ClientEvent::DocumentChanged(id) => {
                    follow_up.changed = true;
                    if self.catalogs.contains(&id) {
                        request_indexed(&mut self.client, &id);
                    }
                    let since = self.persisted.get(&id).cloned().unwrap_or_default();
                    let Some(doc) = self.client.document_mut(&id) else { continue };
                    let heads = doc.get_heads();
                    follow_up.to_store.push((id, doc.save_after(&since)));
                    self.persisted.insert(id, heads);
                    follow_up.note_server_heads(&self.client, id);
                }
                ClientEvent::ServerError(message) => leptos::logging::warn!("the server reported: {message}"),
                // As after a change from the server, its heads may be new: remember them.
                ClientEvent::SyncStatusChanged(id, _) => follow_up.note_server_heads(&self.client, id),
                ClientEvent::Connected { .. } => follow_up.upload = true,
                ClientEvent::Unavailable(_) | ClientEvent::Refused(_) => {}
            }
        }
        follow_up
    }

    /// Each document's sync state as the interface shows it.
    fn document_states(&self) -> BTreeMap<DocumentId, DocumentState> {
        let state = |id: &DocumentId| {
            Some(if self.client.is_refused(id) {
                DocumentState::Refused(self.client.refusal(id).and_then(|refusal| RefusalCode::parse(&refusal.code)))
            } else if self.client.is_unavailable(id) {
                DocumentState::Unavailable
            } else {
                match self.client.status(id)? {
                    SyncStatus::Synced => DocumentState::Synced,
                    SyncStatus::LocalOnly(count) => DocumentState::LocalOnly(count),
                    SyncStatus::Unknown => DocumentState::Unknown,
                }
            })
        };
        self.client.documents().filter_map(|(id, _)| Some((*id, state(id)?))).collect()
    }

    /// Publishes the sync view. Only a real change notifies: every view that reads the
    /// documents re-renders on it, and the tick pumps every second (a field being typed
    /// into must survive).
    fn publish(&self, changed: bool) {
        let online = self.client.is_online();
        let mut next = self.view.get_untracked();
        if online {
            next.offline_since = None;
        }
        next.online = online;
        next.documents = self.document_states();
        if changed {
            next.revision += 1;
        }
        if self.view.with_untracked(|view| *view != next) {
            self.view.set(next);
        }
    }
}

/// What one pump leaves to do once the replica is released: storing is asynchronous, and
/// opening a socket replaces handlers that may be running.
#[derive(Default)]
struct FollowUp {
    /// Some document's content changed.
    changed: bool,
    /// New changes to write to the store, per document.
    to_store: Vec<(DocumentId, Vec<u8>)>,
    /// Heads the server is known to have, to remember across restarts.
    confirmed: Vec<(DocumentId, Vec<ChangeHash>)>,
    upload: bool,
    connect: bool,
}

impl FollowUp {
    fn note_server_heads(&mut self, client: &Client, id: DocumentId) {
        if let Some(heads) = client.server_heads(&id).filter(|heads| !heads.is_empty()) {
            self.confirmed.push((id, heads));
        }
    }

    fn carry_out(self, running: &Rc<RefCell<Running>>) {
        let FollowUp { changed: _, to_store, confirmed, upload, connect } = self;
        if !to_store.is_empty() || !confirmed.is_empty() {
            let store = running.borrow().store.clone();
            spawn_local(async move {
                for (id, chunk) in to_store {
                    if let Err(error) = keep(&store, &id, &chunk).await {
                        leptos::logging::error!("cannot keep changes from the server: {error}");
                    }
                }
                for (id, heads) in confirmed {
                    if let Err(error) = store.save_server_heads(&id, &heads).await {
                        leptos::logging::warn!("cannot remember what the server has: {error}");
                    }
                }
            });
        }
        if upload {
            upload_files(running);
        }
        if connect {
            // After the callback that got here has returned: opening replaces the socket's
            // handlers, and a handler must not be dropped while it runs.
            spawn_local(open_socket(running.clone()));
        }
    }
}

/// Carries out what the client role asks for: frames to send, events to act on, the view
/// to update, and then what is left to do outside the replica.
fn pump(running: &Rc<RefCell<Running>>) {
    let follow_up = {
        let mut this = running.borrow_mut();
        this.send();
        let follow_up = this.take_events();
        this.publish(follow_up.changed);
        follow_up
    };
    follow_up.carry_out(running);
}

/// Stores a chunk of new changes, then compacts the document's records once they are
/// many. The chunk is kept once this returns `Ok`; a failed compaction only leaves the
/// records as they were, so it is logged, not reported.
async fn keep(store: &Store, id: &DocumentId, chunk: &[u8]) -> Result<(), store::StoreError> {
    store.append(id, chunk).await?;
    let compacted = async {
        if store.chunk_count(id).await? > COMPACT_AFTER {
            store.compact(id).await?;
        }
        Ok::<(), store::StoreError>(())
    };
    if let Err(error) = compacted.await {
        leptos::logging::warn!("not compacted: {error}");
    }
    Ok(())
}

/// Counts the photos the server has not confirmed for the sync line, then uploads them if
/// the phone is online.
fn upload_files(running: &Rc<RefCell<Running>>) {
    let (online, token, view) = {
        let this = running.borrow();
        (this.client.is_online(), this.token.clone(), this.view)
    };
    let note_waiting = move |waiting: usize| view.update(|view| view.photos_waiting = waiting);
    spawn_local(async move {
        if let Ok(local) = store::local().await
            && let Ok(pending) = local.pending_uploads().await
        {
            note_waiting(pending.len());
        }
        if online && let Err(error) = crate::photos::upload_pending(&token, note_waiting).await {
            leptos::logging::warn!("photos not uploaded yet: {error}");
        }
    });
}

/// An id for a new document.
pub fn new_document_id() -> DocumentId {
    DocumentId::from_random(crate::edits::random_bytes())
}

/// Opens the sync socket with a single-use ticket, so the session's token never travels in
/// a URL (where server logs and the browser's error lines keep it).
async fn open_socket(running: Rc<RefCell<Running>>) {
    // Stopped (signed out) or replaced while this waited its turn: nothing to open.
    if running.borrow().halted {
        return;
    }
    let token = running.borrow().token.clone();
    let ticket = crate::server::sync_ticket(&token).await;
    if running.borrow().halted {
        return;
    }
    let socket = ticket.ok().and_then(|ticket| {
        let location = window().location();
        let scheme = if location.protocol().as_deref() == Ok("https:") { "wss" } else { "ws" };
        WebSocket::new(&format!("{scheme}://{}/sync?ticket={ticket}", location.host().unwrap_or_default())).ok()
    });
    let Some(socket) = socket else {
        {
            let mut this = running.borrow_mut();
            this.client.handle_disconnected(now(), random());
            mark_offline(this.view);
        }
        return pump(&running);
    };
    let running = &running;
    socket.set_binary_type(BinaryType::Arraybuffer);
    let opened = Rc::downgrade(running);
    let on_open = Closure::<dyn FnMut(JsValue)>::new(move |_| {
        if let Some(running) = opened.upgrade() {
            running.borrow_mut().client.handle_connected(now());
            pump(&running);
        }
    });
    let received = Rc::downgrade(running);
    let on_message = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let Some(running) = received.upgrade() else { return };
        let Some(data) = event.dyn_ref::<MessageEvent>().map(MessageEvent::data) else { return };
        let Ok(buffer) = data.dyn_into::<ArrayBuffer>() else { return };
        let frame = Uint8Array::new(&buffer).to_vec();
        running.borrow_mut().client.handle_frame(now(), &frame);
        pump(&running);
    });
    let closed = Rc::downgrade(running);
    let on_close = Closure::<dyn FnMut(JsValue)>::new(move |_| {
        if let Some(running) = closed.upgrade() {
            {
                let mut this = running.borrow_mut();
                this.socket = None;
                this.client.handle_disconnected(now(), random());
                mark_offline(this.view);
            }
            pump(&running);
        }
    });
    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    let mut this = running.borrow_mut();
    if let Some(old) = this.socket.replace(socket) {
        detach(&old);
    }
    this.handlers = vec![on_open, on_message, on_close];
}

/// Asks for the checklist templates a catalog lists and the documents its index lists as
/// recently changed (the phone keeps what it has; older ones come when opened).
fn request_indexed(client: &mut Client, catalog: &DocumentId) {
    let Some(doc) = client.document(catalog) else { return };
    let Ok(view) = SiteCatalog::read_doc(doc) else { return };
    let since = now().minus(RECENT);
    let recent = view.index.iter().filter(|entry| entry.updated_at >= since).map(|entry| entry.document.as_str());
    // The checklists in use, so rounds can start offline.
    let templates = view.templates.iter().map(|template| template.document.as_str());
    for document in recent.chain(templates) {
        if let Ok(id) = DocumentId::parse(document) {
            client.request_document(id);
        }
    }
}

/// Closes a socket that is no longer the replica's, without its handlers (which are about
/// to be dropped) ever running again.
fn detach(socket: &WebSocket) {
    socket.set_onopen(None);
    socket.set_onmessage(None);
    socket.set_onclose(None);
    let _ = socket.close();
}

/// The connection was lost or could not be made: offline since now, unless already.
fn mark_offline(view: RwSignal<SyncView>) {
    if view.with_untracked(|view| view.offline_since.is_none()) {
        view.update(|view| view.offline_since = Some(now()));
    }
}

fn random() -> u64 {
    crate::edits::random_u64()
}

#[cfg(test)]
mod tests {
    use leptos::prelude::Owner;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::{RefusalCode, provide_replica, use_replica};
    use crate::session::{Session, SessionUser, new_actor};

    /// One turn of the browser's microtasks: a start waiting on IndexedDB is still waiting.
    async fn yield_once() {
        let _ = wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&wasm_bindgen::JsValue::NULL)).await;
    }

    #[wasm_bindgen_test]
    async fn a_replica_stopped_while_it_loads_does_not_start_after_all() {
        let owner = Owner::new();
        owner.set();
        provide_replica();
        let replica = use_replica();
        let session = Session {
            token: "not-a-token".to_owned(),
            expires_at: i64::MAX,
            user: SessionUser { username: "ana".to_owned(), display_name: "Ana".to_owned() },
            sites: Vec::new(),
            actor: new_actor(),
        };
        // Signed out while what the phone holds is being loaded.
        let stopping = async {
            yield_once().await;
            replica.stop();
        };
        let (started, ()) = futures::future::join(replica.start(&session), stopping).await;
        assert!(started.is_ok(), "{started:?}");
        assert!(replica.device_actor().is_none(), "the replica started after the sign-out");
        // Started again, with nothing after it, it runs, and a stop stops it.
        replica.start(&session).await.expect("starts");
        assert!(replica.device_actor().is_some(), "a start did not run");
        replica.stop();
        assert!(replica.device_actor().is_none(), "a stop left the replica running");
    }

    #[wasm_bindgen_test]
    fn every_refusal_code_the_server_sends_has_its_own_variant() {
        let parsed: Vec<Option<RefusalCode>> = shared::document::policy::CODES.iter().map(|code| RefusalCode::parse(code)).collect();
        assert!(parsed.iter().all(Option::is_some), "a code without a variant: {:?} for {:?}", parsed, shared::document::policy::CODES);
        for (index, code) in parsed.iter().enumerate() {
            assert!(!parsed[..index].contains(code), "two codes read as {code:?}");
        }
    }
}
