//! The person's inbox: what waits for them among the documents this phone holds
//! (`shared::inbox` decides), worked out offline, and how much of it is new to them. The
//! count of new items shows on the to-do tab and on the installed app's icon; an item is
//! seen once the to-do page has listed it or its document was opened.

use std::collections::BTreeSet;

use gloo_storage::Storage as _;
use leptos::prelude::*;
use shared::directory::Username;
use shared::inbox::{Person, Waiting, unseen};
use shared::protocol::DocumentId;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::edits::now;
use crate::replica::{Replica, use_replica};
use crate::session::use_session;

/// The inbox as components reach it.
#[derive(Clone, Copy)]
pub struct Inbox {
    /// Everything waiting for the person now, oldest first.
    pub waiting: Memo<Vec<Waiting>>,
    /// The keys of items the person has seen (`Waiting::key`), as kept on the phone.
    seen: Memo<BTreeSet<String>>,
    /// Rises whenever the seen keys are written, so `seen` reads them again.
    seen_written: RwSignal<u64>,
    username: Memo<Option<String>>,
    /// How many waiting items are new.
    pub unseen: Memo<usize>,
    /// The documents whose items were new while the to-do page is open: marked there as
    /// new until it opens again.
    pub fresh: RwSignal<BTreeSet<DocumentId>>,
    /// Whether the page is in front of the person (not a hidden tab or an app in the
    /// background): only then is what it lists seen.
    pub visible: RwSignal<bool>,
    replica: Replica,
}

pub fn use_inbox() -> Inbox {
    use_context().expect("provide_inbox() runs in App")
}

/// Where the seen keys of `username` are kept.
fn storage_key(username: &str) -> String {
    format!("houqin-seen:{username}")
}

/// Forgets what a person has seen on this phone (at sign-out).
pub fn forget_seen(username: &str) {
    gloo_storage::LocalStorage::delete(storage_key(username));
}

/// The document a seen key names.
fn document_of(key: &str) -> Option<DocumentId> {
    DocumentId::parse(key.split(' ').next()?).ok()
}

pub fn provide_inbox() {
    let current = use_session();
    let replica = use_replica();
    let person = Memo::new(move |_| {
        current.session.with(|session| {
            let session = session.as_ref()?;
            Some(Person {
                username: Username::parse(&session.user.username).ok()?,
                sites: session.sites.iter().map(|site| (site.id.clone(), site.role)).collect(),
            })
        })
    });
    let username = Memo::new(move |_| person.with(|person| person.as_ref().map(|person| person.username.to_string())));
    let waiting = Memo::new(move |_| {
        let _ = replica.revision.get();
        let Some(person) = person.get() else { return Vec::new() };
        let at = now();
        let mut waiting: Vec<Waiting> = replica
            .document_ids()
            .into_iter()
            .flat_map(|id| {
                if let Some(order) = crate::pages::orders::read_order(replica, &id) {
                    person.order(id, &order, at)
                } else if let Some(stocktake) = crate::pages::stock::read_stocktake(replica, &id) {
                    person.stocktake(id, &stocktake)
                } else if let Some(meal) = crate::pages::samples::read_meal(replica, &id) {
                    person.food_samples(id, &meal, at)
                } else {
                    crate::pages::rounds::waiting_in_round(replica, &person, id)
                }
            })
            .collect();
        waiting.sort_by_key(|item| item.since);
        waiting
    });
    let seen_written = RwSignal::new(0);
    let seen = Memo::new(move |_| {
        seen_written.track();
        username
            .get()
            .and_then(|username| gloo_storage::LocalStorage::get::<BTreeSet<String>>(storage_key(&username)).ok())
            .unwrap_or_default()
    });
    let unseen = Memo::new(move |_| seen.with(|seen| waiting.with(|waiting| unseen(waiting, seen))));
    // The installed app's icon shows the count where the browser can (the Badging API).
    Effect::new(move || show_on_icon(unseen.get()));
    let visible = RwSignal::new(!document().hidden());
    // The page lives as long as the app: the listener may too.
    let listener = Closure::<dyn FnMut()>::new(move || visible.set(!document().hidden()));
    let _ = document().add_event_listener_with_callback("visibilitychange", listener.as_ref().unchecked_ref());
    listener.forget();
    provide_context(Inbox { waiting, seen, seen_written, username, unseen, fresh: RwSignal::new(BTreeSet::new()), visible, replica });
}

impl Inbox {
    /// The to-do page lists everything waiting (called again as documents arrive while it
    /// is open): what is new is marked there, and all of it is seen.
    pub fn list_all(self) {
        let (fresh, keys): (Vec<DocumentId>, Vec<String>) = self.seen.with_untracked(|seen| {
            self.waiting.with_untracked(|waiting| {
                waiting.iter().filter(|item| !seen.contains(&item.key())).map(|item| (item.document, item.key())).unzip()
            })
        });
        if !fresh.is_empty() {
            self.fresh.update(|marked| marked.extend(fresh));
            self.see(keys);
        }
    }

    /// A document was opened: whatever of it waits is seen.
    pub fn open(self, document: DocumentId) {
        let keys: Vec<String> = self.seen.with_untracked(|seen| {
            self.waiting.with_untracked(|waiting| {
                waiting.iter().filter(|item| item.document == document).map(Waiting::key).filter(|key| !seen.contains(key)).collect()
            })
        });
        if !keys.is_empty() {
            self.see(keys);
        }
    }

    /// Adds `keys` to the seen ones and keeps them. Keys of documents this phone holds that
    /// no longer wait at that point are dropped, so the set never outgrows the inbox; those
    /// of documents not (yet) on the phone stay.
    fn see(self, keys: Vec<String>) {
        let Some(username) = self.username.get_untracked() else { return };
        let held: BTreeSet<DocumentId> = self.replica.document_ids().into_iter().collect();
        let waiting: BTreeSet<String> = self.waiting.with_untracked(|waiting| waiting.iter().map(Waiting::key).collect());
        let mut seen: BTreeSet<String> = self
            .seen
            .get_untracked()
            .into_iter()
            .filter(|key| waiting.contains(key) || document_of(key).is_none_or(|document| !held.contains(&document)))
            .collect();
        seen.extend(keys);
        let _ = gloo_storage::LocalStorage::set(storage_key(&username), &seen);
        self.seen_written.update(|written| *written += 1);
    }
}

/// On a document's page: whatever of the document waits for the reader is seen while the
/// page is open and in front of them, what arrives meanwhile included.
pub fn see_while_open(document: impl Fn() -> Option<DocumentId> + Send + Sync + 'static) {
    let inbox = use_inbox();
    Effect::new(move || {
        inbox.waiting.track();
        if inbox.visible.get()
            && let Some(id) = document()
        {
            inbox.open(id);
        }
    });
}

/// "New" on a line of the to-do page whose document had something new for the reader
/// when the page opened.
pub fn new_mark(document: DocumentId) -> impl IntoView {
    let (inbox, texts) = (use_inbox(), crate::i18n::use_texts());
    move || {
        inbox
            .fresh
            .with(|fresh| fresh.contains(&document))
            .then(|| view! { <span class="badge badge-new" data-new="yes">{move || texts.get().new_item}</span> })
    }
}

/// `navigator.setAppBadge(count)` (or `clearAppBadge()` at none), where the browser has it.
fn show_on_icon(count: usize) {
    let navigator = window().navigator();
    let call = |name: &str, argument: Option<JsValue>| {
        let Ok(method) = js_sys::Reflect::get(&navigator, &JsValue::from_str(name)) else { return };
        let Some(method) = method.dyn_ref::<js_sys::Function>() else { return };
        let called = match argument {
            Some(argument) => method.call1(&navigator, &argument),
            None => method.call0(&navigator),
        };
        // A promise that may reject (not installed, say): nothing to do then.
        if let Ok(promise) = called.and_then(JsCast::dyn_into::<js_sys::Promise>) {
            leptos::task::spawn_local(async move {
                let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
            });
        }
    };
    if count == 0 { call("clearAppBadge", None) } else { call("setAppBadge", Some(JsValue::from_f64(count as f64))) }
}
