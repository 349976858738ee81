//! Who is signed in on this phone: the session the server issued, kept in the local store
//! so the app opens signed in with no network, and provided to every component.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::replica::Replica;
use crate::store;

/// What the phone keeps after signing in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The bearer token for the API and the sync socket.
    pub token: String,
    /// Milliseconds since the epoch; after it the server asks for a new sign-in, but the
    /// phone keeps working offline with what it has.
    pub expires_at: i64,
    pub user: SessionUser,
    pub sites: Vec<SessionSite>,
    /// The Automerge actor (hex) this phone writes under for this user: fresh at every
    /// sign-in, so two people on one phone never share one (the server would refuse).
    #[serde(default = "new_actor")]
    pub actor: String,
}

/// A fresh random actor id, hex.
pub fn new_actor() -> String {
    automerge::ActorId::random().to_hex_string()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub username: String,
    pub display_name: String,
}

impl From<&shared::api::UserView> for SessionUser {
    fn from(user: &shared::api::UserView) -> SessionUser {
        SessionUser { username: user.username.to_string(), display_name: user.display_name.clone() }
    }
}

/// A site the user works at, as `/api/me` lists it.
pub type SessionSite = shared::api::MySite;

impl Session {
    /// The site `wanted` if the user works there, else their first site.
    pub fn site_or_first(&self, wanted: &str) -> Option<&SessionSite> {
        self.sites.iter().find(|known| known.id == wanted).or(self.sites.first())
    }
}

/// The session as components see it.
#[derive(Clone, Copy)]
pub struct CurrentSession {
    /// `None` when nobody is signed in.
    pub session: RwSignal<Option<Session>>,
    /// Whether the stored session has been read (until then, nobody is sent to sign in).
    pub ready: RwSignal<bool>,
}

/// Reads the stored session and provides it.
pub fn provide_session() {
    let current = CurrentSession { session: RwSignal::new(None), ready: RwSignal::new(false) };
    provide_context(current);
    spawn_local(async move {
        match stored_session().await {
            Ok(session) => current.session.set(session),
            Err(error) => leptos::logging::warn!("cannot read the stored session: {error}"),
        }
        current.ready.set(true);
    });
    // The label's public page (the server's, without the app) sends a phone someone is
    // signed in on to the app's own label page: it looks for this mark.
    Effect::new(move || {
        use gloo_storage::Storage as _;
        if !current.ready.get() {
            return;
        }
        if current.session.with(Option::is_some) {
            let _ = gloo_storage::LocalStorage::set(SIGNED_IN, true);
        } else {
            gloo_storage::LocalStorage::delete(SIGNED_IN);
        }
    });
}

/// The local storage key marking a phone someone is signed in on.
const SIGNED_IN: &str = "houqin.signed-in";

async fn stored_session() -> Result<Option<Session>, AppError> {
    let store = store::local().await?;
    let Some(json) = store.session().await? else { return Ok(None) };
    // A session in a shape this build does not know is no session: sign in again.
    Ok(serde_json::from_str(&json).ok())
}

pub fn use_session() -> CurrentSession {
    use_context().expect("provide_session() runs in App")
}

/// Keeps the session on the phone, then makes it current.
pub async fn sign_in(current: CurrentSession, session: Session) -> Result<(), AppError> {
    keep(current, session).await?;
    // From now on the phone holds work that may exist nowhere else.
    if let Err(error) = store::ask_persistent().await {
        leptos::logging::warn!("cannot ask for persistent storage: {error}");
    }
    Ok(())
}

async fn keep(current: CurrentSession, session: Session) -> Result<(), AppError> {
    let store = store::local().await?;
    let json = serde_json::to_string(&session)?;
    store.save_session(&json).await?;
    current.session.set(Some(session));
    Ok(())
}

/// Asks the server where the signed-in person works now — a site created, a role given
/// or taken since signing in — and keeps the answer if it changed. Offline, or with a
/// token the server no longer takes, the phone keeps what it has.
pub async fn refresh(current: CurrentSession) {
    let Some(session) = current.session.get_untracked() else { return };
    let Ok((user, sites)) = crate::server::fetch_me(&session.token).await else { return };
    if user == session.user && sites == session.sites {
        return;
    }
    if let Err(error) = keep(current, Session { user, sites, ..session }).await {
        leptos::logging::warn!("cannot keep the refreshed session: {error}");
    }
}

/// Signs out: stops syncing, tells the server the token is done with, and deletes
/// everything this phone keeps, so the next person to sign in here sees only what their
/// own roles allow. The caller warns first when changes are still on this phone only.
/// Offline the token cannot be signed out on the server: it lapses when it expires.
pub async fn sign_out(current: CurrentSession, replica: Replica) -> Result<(), AppError> {
    replica.stop();
    if let Some(session) = current.session.get_untracked() {
        crate::inbox::forget_seen(&session.user.username);
        // Not waited for: a phone with no connection signs out all the same.
        spawn_local(async move {
            // This phone stops taking the person's notices (whoever signs in next is
            // someone else), before the token that may say so is done with.
            if crate::push::is_on().await
                && let Err(error) = crate::push::turn_off(&session.token).await
            {
                leptos::logging::warn!("cannot turn this phone's notifications off: {error}");
            }
            if let Err(error) = crate::server::sign_out(&session.token).await {
                leptos::logging::warn!("the server did not hear of the sign-out: {error}");
            }
        });
    }
    store::wipe_local().await?;
    crate::server::forget_people();
    crate::server::forget_kept();
    current.session.set(None);
    Ok(())
}
