//! Plain HTTP calls to the Houqin server.

use gloo_net::http::Request;
use serde::Deserialize;
use shared::api::{
    BackupStatus, ErrorBody, Health, LoginResponse, MeResponse, NewPassword, NewRole, NewSite, NewUser, RoleChange, TicketResponse,
};
pub use shared::api::{
    DocumentList, HistoryEntry, LastBackup, ListedDocument, Person, PersonView, ShownConflict, ShownValue, SiteRole, SiteSummary,
};

use shared::directory::Username;

use crate::error::AppError;
use crate::session::{Session, SessionSite, SessionUser};

/// Asks the server whether it is up. Any failure (offline, server down, a proxy's error
/// page) reads as "not reachable" with a reason for the curious.
pub async fn fetch_health() -> Result<Health, AppError> {
    let response = Request::get("/healthz").send().await?;
    if !response.ok() {
        return Err(AppError::Answered { status: response.status(), what: "the health check".to_owned() });
    }
    Ok(response.json::<Health>().await?)
}

/// Why signing in did not work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignInError {
    /// The server said no; it does not say which part was wrong.
    WrongLogin,
    /// Too many failures: wait this many seconds.
    TooMany { seconds: u64 },
    /// No answer: signing in needs the network once.
    Offline,
    /// Anything else, with the server's message.
    Failed(String),
}

/// Signs in and fetches the user's sites: everything the phone needs to work offline.
pub async fn sign_in(username: &str, password: &str) -> Result<Session, SignInError> {
    let body = shared::api::LoginRequest { username: username.to_owned(), password: password.to_owned() };
    let request = Request::post("/api/login").json(&body).map_err(|error| SignInError::Failed(error.to_string()))?;
    let response = request.send().await.map_err(|_| SignInError::Offline)?;
    match response.status() {
        200 => {}
        401 => return Err(SignInError::WrongLogin),
        429 => {
            let seconds = response.headers().get("retry-after").and_then(|value| value.parse().ok()).unwrap_or(30);
            return Err(SignInError::TooMany { seconds });
        }
        status => return Err(SignInError::Failed(error_message(response, status).await)),
    }
    let login: LoginResponse = response.json().await.map_err(|error| SignInError::Failed(error.to_string()))?;
    let me = Request::get("/api/me")
        .header("authorization", &format!("Bearer {}", login.token))
        .send()
        .await
        .map_err(|_| SignInError::Offline)?;
    if !me.ok() {
        let status = me.status();
        return Err(SignInError::Failed(error_message(me, status).await));
    }
    let me: MeResponse = me.json().await.map_err(|error| SignInError::Failed(error.to_string()))?;
    Ok(Session {
        token: login.token,
        expires_at: login.expires_at.as_millis(),
        user: SessionUser::from(&me.user),
        sites: me.sites,
        actor: crate::session::new_actor(),
    })
}

/// A refusal in the reader's language: the app's own words for the server's code, the
/// server's (English) message only for a code this app does not know.
async fn error_message(response: gloo_net::http::Response, status: u16) -> String {
    refusal(response, status).await.message
}

/// A request the server refused: its stable code (empty if it gave none) and what to show,
/// in the reader's language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub code: String,
    pub message: String,
}

async fn refusal(response: gloo_net::http::Response, status: u16) -> Refused {
    let texts = crate::i18n::texts_in(crate::i18n::current_language());
    match response.json::<ErrorBody>().await {
        Ok(answer) => Refused { message: texts.api_error(&answer.code).map(str::to_owned).unwrap_or(answer.error), code: answer.code },
        Err(_) => Refused { code: String::new(), message: texts.server_answered.replace("{}", &status.to_string()) },
    }
}

/// Who changed a document, when and how: `GET /api/documents/{id}/history`. Needs the
/// network: the phone knows only what its changes claim, the server knows who sent them.
pub async fn fetch_history(token: &str, document: &shared::protocol::DocumentId) -> Result<Vec<HistoryEntry>, AppError> {
    call(Request::get(&format!("/api/documents/{document}/history")).header("authorization", &bearer(token)).build()).await
}

/// A person's name as the site lists them, else their user name.
pub fn display_name(people: &[Person], user: &str) -> String {
    if user == shared::document::work_order::PLANNER {
        // Preventive orders are made under the plan's name, in the reader's language.
        let language = leptos::prelude::use_context::<crate::i18n::CurrentLanguage>()
            .map(|crate::i18n::CurrentLanguage(language)| leptos::prelude::GetUntracked::get_untracked(&language));
        return crate::i18n::texts_in(language.unwrap_or(crate::i18n::Language::Chinese)).maintenance_plan.to_owned();
    }
    if user == shared::public::PUBLIC_REPORTER {
        // Someone without an account, who reported from a label's public page.
        return crate::i18n::texts_in(crate::i18n::current_language()).public_reporter.to_owned();
    }
    if user == shared::document::work_order::CONTRACTOR {
        // The contractor an order was given to, through their link.
        return crate::i18n::texts_in(crate::i18n::current_language()).contractor.to_owned();
    }
    people.iter().find(|person| person.username == user).map(|person| person.display_name.clone()).unwrap_or_else(|| user.to_owned())
}

/// The people of the site a page shows (`site`), as [`site_people`] finds them, for
/// their names; refetched when the site or the session changes.
pub fn use_site_people(site: impl Fn() -> Option<String> + Send + Sync + 'static) -> leptos::prelude::Memo<Vec<Person>> {
    use leptos::prelude::*;
    let current = crate::session::use_session();
    let site = Memo::new(move |_| site().unwrap_or_default());
    let people = LocalResource::new(move || {
        let token = current.session.get().map(|session| session.token).unwrap_or_default();
        let site = site.get();
        async move { if site.is_empty() { Vec::new() } else { site_people(&token, &site).await } }
    });
    // The person signed in is always known by name, even on a phone that never fetched
    // the site's people (offline since signing in).
    Memo::new(move |_| {
        let mut found = people.get().unwrap_or_default();
        let me = current.session.with(|session| {
            let session = session.as_ref()?;
            let role = site.with(|site| session.sites.iter().find(|known| known.id.as_str() == site).map(|known| known.role))?;
            Some(Person { username: Username::parse(&session.user.username).ok()?, display_name: session.user.display_name.clone(), role })
        });
        if let Some(me) = me
            && !found.iter().any(|person| person.username == me.username)
        {
            found.push(me);
        }
        found
    })
}

/// The people of the site a page shows, provided by the page to the parts inside it that
/// name people (a round's item rows, say).
#[derive(Clone, Copy)]
pub struct SitePeople(pub leptos::prelude::Memo<Vec<Person>>);

impl SitePeople {
    /// `user` by name, from the page's people if there are any.
    pub fn name_in_context(user: &str) -> String {
        use leptos::prelude::*;
        match use_context::<SitePeople>() {
            Some(SitePeople(people)) => people.with_untracked(|people| display_name(people, user)),
            None => user.to_owned(),
        }
    }
}

const PEOPLE_PREFIX: &str = "houqin.people.";

fn people_key(site: &str) -> String {
    format!("{PEOPLE_PREFIX}{site}")
}

/// Forgets the kept lists of people (at sign-out: the next person on this phone may work
/// elsewhere).
pub fn forget_people() {
    let Some(storage) = web_sys::window().and_then(|window| window.local_storage().ok().flatten()) else { return };
    let keys: Vec<String> = (0..storage.length().unwrap_or(0))
        .filter_map(|index| storage.key(index).ok().flatten())
        .filter(|key| key.starts_with(PEOPLE_PREFIX))
        .collect();
    for key in keys {
        let _ = storage.remove_item(&key);
    }
}

/// The people of a site as last kept on this phone (no request).
pub fn kept_people(site: &str) -> Vec<Person> {
    use gloo_storage::Storage as _;
    gloo_storage::LocalStorage::get(people_key(site)).unwrap_or_default()
}

/// The people of a site: from the server when it answers (and then kept on the phone),
/// else as last kept, so dispatching works offline.
pub async fn site_people(token: &str, site: &str) -> Vec<Person> {
    use gloo_storage::Storage as _;
    let fetched = async {
        let response =
            Request::get(&format!("/api/sites/{site}/people")).header("authorization", &format!("Bearer {token}")).send().await.ok()?;
        if !response.ok() {
            return None;
        }
        response.json::<Vec<Person>>().await.ok()
    }
    .await;
    match fetched {
        Some(people) => {
            let _ = gloo_storage::LocalStorage::set(people_key(site), &people);
            people
        }
        None => gloo_storage::LocalStorage::get(people_key(site)).unwrap_or_default(),
    }
}

/// Sends an authenticated request and reads a JSON answer; a refusal reads as the
/// server's message.
async fn call<T: serde::de::DeserializeOwned>(request: Result<Request, gloo_net::Error>) -> Result<T, AppError> {
    let response = request?.send().await?;
    if !response.ok() {
        let status = response.status();
        return Err(AppError::Refused(refusal(response, status).await));
    }
    Ok(response.json().await?)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A single-use ticket that opens one sync socket (`/sync?ticket=`), valid for seconds.
pub async fn sync_ticket(token: &str) -> Result<String, AppError> {
    let answer: TicketResponse = call(Request::post("/api/sync-ticket").header("authorization", &bearer(token)).build()).await?;
    Ok(answer.ticket)
}

/// Who the token's owner is and where they work now (roles change; sites are added).
pub async fn fetch_me(token: &str) -> Result<(SessionUser, Vec<SessionSite>), AppError> {
    let me: MeResponse = call(Request::get("/api/me").header("authorization", &bearer(token)).build()).await?;
    Ok((SessionUser::from(&me.user), me.sites))
}

/// Tells the server this phone's token is done with (204, no body): it is refused from now
/// on, and sockets it opened close.
pub async fn sign_out(token: &str) -> Result<(), AppError> {
    let response = Request::post("/api/logout").header("authorization", &bearer(token)).send().await?;
    let status = response.status();
    if response.ok() { Ok(()) } else { Err(AppError::Refused(refusal(response, status).await)) }
}

/// Marks a public report spam (204): the server cancels it and counts it against the
/// address it came from.
pub async fn mark_spam(token: &str, document: &shared::protocol::DocumentId) -> Result<(), AppError> {
    let response = Request::post(&format!("/api/documents/{document}/spam")).header("authorization", &bearer(token)).send().await?;
    let status = response.status();
    if response.ok() { Ok(()) } else { Err(AppError::Refused(refusal(response, status).await)) }
}

/// The path of the link the contractor an order is given to works it by
/// (`POST /api/documents/{id}/contractor-link`): the same each time for the same contractor.
pub async fn contractor_link(token: &str, document: shared::protocol::DocumentId) -> Result<String, AppError> {
    let answer: shared::api::ContractorLink =
        call(Request::post(&format!("/api/documents/{document}/contractor-link")).header("authorization", &bearer(token)).build()).await?;
    Ok(answer.path)
}

/// Creates a site (with its catalog and the standard checklists); its creator runs it.
pub async fn create_site(token: &str, id: &str, name: &str) -> Result<(), AppError> {
    let body = NewSite { id: id.to_owned(), name: name.to_owned() };
    call::<serde_json::Value>(Request::post("/api/admin/sites").header("authorization", &bearer(token)).json(&body)).await.map(drop)
}

pub async fn admin_people(token: &str) -> Result<Vec<PersonView>, AppError> {
    call(Request::get("/api/admin/users").header("authorization", &bearer(token)).build()).await
}

/// Makes an account; a refusal keeps its code, so the form can say which field it concerns.
pub async fn create_user(token: &str, username: &str, display_name: &str, password: &str, roles: &[SiteRole]) -> Result<(), AppError> {
    let body = NewUser {
        username: username.to_owned(),
        display_name: display_name.to_owned(),
        password: password.to_owned(),
        roles: roles.iter().map(NewRole::from).collect(),
    };
    call::<serde_json::Value>(Request::post("/api/admin/users").header("authorization", &bearer(token)).json(&body)).await.map(drop)
}

/// Replaces the person's roles at the sites the administrator runs.
pub async fn set_roles(token: &str, username: &str, roles: &[SiteRole]) -> Result<(), AppError> {
    let body = RoleChange { roles: roles.iter().map(NewRole::from).collect() };
    call::<serde_json::Value>(
        Request::put(&format!("/api/admin/users/{username}/roles")).header("authorization", &bearer(token)).json(&body),
    )
    .await
    .map(drop)
}

pub async fn reset_password(token: &str, username: &str, password: &str) -> Result<(), AppError> {
    let body = NewPassword { password: password.to_owned() };
    call::<serde_json::Value>(
        Request::post(&format!("/api/admin/users/{username}/password")).header("authorization", &bearer(token)).json(&body),
    )
    .await
    .map(drop)
}

pub async fn set_disabled(token: &str, username: &str, disabled: bool) -> Result<(), AppError> {
    let action = if disabled { "disable" } else { "enable" };
    call::<serde_json::Value>(
        Request::post(&format!("/api/admin/users/{username}/{action}"))
            .header("authorization", &bearer(token))
            .json(&serde_json::json!({})),
    )
    .await
    .map(drop)
}

/// Where a site's notices go (secrets left out) and its escalation.
pub async fn site_channels(token: &str, site: &str) -> Result<shared::api::ChannelsView, AppError> {
    call(Request::get(&format!("/api/admin/sites/{site}/channels")).header("authorization", &bearer(token)).build()).await
}

/// Whether a site takes reports from people without an account, and from which places.
pub async fn public_reporting(token: &str, site: &str) -> Result<shared::public::PublicReporting, AppError> {
    call(Request::get(&format!("/api/admin/sites/{site}/public")).header("authorization", &bearer(token)).build()).await
}

/// Opens or closes a site to public reports.
pub async fn set_public_reporting(
    token: &str,
    site: &str,
    settings: &shared::public::PublicReporting,
) -> Result<shared::public::PublicReporting, AppError> {
    call(Request::put(&format!("/api/admin/sites/{site}/public")).header("authorization", &bearer(token)).json(settings)).await
}

/// Sets where a site's notices go and its escalation.
pub async fn set_site_channels(
    token: &str,
    site: &str,
    channels: &shared::api::SiteChannels,
) -> Result<shared::api::ChannelsView, AppError> {
    call(Request::put(&format!("/api/admin/sites/{site}/channels")).header("authorization", &bearer(token)).json(channels)).await
}

/// The delivery log of the sites the administrator runs, newest first.
pub async fn deliveries(token: &str) -> Result<Vec<shared::notice::OutboxEntry>, AppError> {
    call(Request::get("/api/admin/deliveries").header("authorization", &bearer(token)).build()).await
}

pub async fn last_backup(token: &str) -> Result<Option<LastBackup>, AppError> {
    let answer: BackupStatus = call(Request::get("/api/admin/backup").header("authorization", &bearer(token)).build()).await?;
    Ok(answer.last_backup)
}

/// A server answer kept on the phone, with when it was fetched, so a screen can show it
/// offline and say how old it is.
#[derive(Clone, Debug, PartialEq, serde::Serialize, Deserialize)]
pub struct Kept<T> {
    pub value: T,
    /// Milliseconds since the epoch.
    pub fetched_at: i64,
    /// Whether this came from the phone's copy because the server did not answer.
    #[serde(skip)]
    pub from_cache: bool,
}

const KEPT_PREFIX: &str = "houqin.kept.";

/// Fetches `path` (a GET of the read API) and keeps the answer on the phone under `key`;
/// without an answer, the copy kept last time (with its age), or the error.
pub async fn fetch_kept<T: serde::de::DeserializeOwned + serde::Serialize + Clone>(
    token: &str,
    path: &str,
    key: &str,
) -> Result<Kept<T>, AppError> {
    use gloo_storage::Storage as _;
    let key = format!("{KEPT_PREFIX}{key}");
    let fetched: Result<T, AppError> = call(Request::get(path).header("authorization", &bearer(token)).build()).await;
    match fetched {
        Ok(value) => {
            let kept = Kept { value, fetched_at: js_sys::Date::now() as i64, from_cache: false };
            let _ = gloo_storage::LocalStorage::set(&key, &kept);
            Ok(kept)
        }
        Err(error) => match gloo_storage::LocalStorage::get::<Kept<T>>(&key) {
            Ok(kept) => Ok(Kept { from_cache: true, ..kept }),
            Err(_) => Err(error),
        },
    }
}

/// Forgets every kept answer (at sign-out).
pub fn forget_kept() {
    let Some(storage) = web_sys::window().and_then(|window| window.local_storage().ok().flatten()) else { return };
    let keys: Vec<String> = (0..storage.length().unwrap_or(0))
        .filter_map(|index| storage.key(index).ok().flatten())
        .filter(|key| key.starts_with(KEPT_PREFIX))
        .collect();
    for key in keys {
        let _ = storage.remove_item(&key);
    }
}

/// The person's notice settings, the server's push key, and how many phones take them.
pub async fn notice_settings(token: &str) -> Result<shared::api::NoticeSettingsView, AppError> {
    call(Request::get("/api/me/notices").header("authorization", &bearer(token)).build()).await
}

/// Sets what the person wants told and how (the orders they muted stay muted).
pub async fn set_notice_settings(
    token: &str,
    settings: &shared::notice::NoticeSettings,
) -> Result<shared::api::NoticeSettingsView, AppError> {
    call(Request::put("/api/me/notices").header("authorization", &bearer(token)).json(settings)).await
}

/// Gives the server this phone's push subscription (`PushSubscription.toJSON()`).
pub async fn subscribe_push(token: &str, subscription: &serde_json::Value) -> Result<shared::api::NoticeSettingsView, AppError> {
    call(Request::post("/api/me/push").header("authorization", &bearer(token)).json(subscription)).await
}

/// Tells the server to forget the phone at `endpoint`.
pub async fn unsubscribe_push(token: &str, endpoint: &str) -> Result<shared::api::NoticeSettingsView, AppError> {
    call(Request::delete("/api/me/push").header("authorization", &bearer(token)).json(&serde_json::json!({ "endpoint": endpoint }))).await
}

/// Mutes an order for the person, or unmutes it.
pub async fn set_muted(
    token: &str,
    document: &shared::protocol::DocumentId,
    muted: bool,
) -> Result<shared::api::NoticeSettingsView, AppError> {
    let path = format!("/api/me/muted/{document}");
    let request = if muted { Request::put(&path) } else { Request::delete(&path) };
    call(request.header("authorization", &bearer(token)).build()).await
}
