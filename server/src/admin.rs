//! Setting up sites and people: the admin API (`/api/admin/…`) and the same operations for
//! the command line (`houqin-server site add`, `user add`, `user disable`), which works on a
//! stopped server's data directory.
//!
//! An administrator of any site may create sites, and administers the sites they create;
//! people get roles only at sites where the one creating them is an administrator (from
//! the command line, anywhere).

use anyhow::Context;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use shared::directory::{Role, SiteId, Username};

use shared::api::{
    ChannelsView, NewPassword, NewRole, NewSite, NewUser, PersonView, RobotSettings, RobotView, RoleChange, SiteChannels, UserView,
    WebhookSettings, WebhookView,
};
use shared::notice::{Channel, Escalation, OutboxEntry};
use shared::time::Span;

use crate::auth::{Session, now};
use crate::directory::{Directory, SiteRecord, UserRecord, hash_password};
use crate::documents::DocumentStore;
use crate::provision::{Starter, create_site_documents};
use crate::{AppError, AppState};

/// The shortest password a new user may be given.
pub const MIN_PASSWORD: usize = 8;

/// Who the command line acts as: documents it creates name this, and no actor is theirs.
pub const SETUP_USER: &str = "setup";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/sites", post(add_site))
        .route("/api/admin/users", get(list_users).post(add_user))
        .route("/api/admin/users/{username}/disable", post(disable_user))
        .route("/api/admin/users/{username}/enable", post(enable_user))
        .route("/api/admin/users/{username}/password", post(reset_password))
        .route("/api/admin/users/{username}/roles", axum::routing::put(set_roles))
        .route("/api/admin/sites/{site}/channels", get(site_channels).put(set_site_channels))
        .route("/api/admin/deliveries", get(deliveries))
}

/// Creates a site with its catalog and the standard checklists. Blocking.
pub fn create_site(directory: &Directory, store: &DocumentStore, request: &NewSite, by: &Username) -> Result<SiteRecord, AppError> {
    let id = SiteId::parse(&request.id).map_err(|error| AppError::BadRequest(error.to_string()))?;
    let name = request.name.trim();
    if name.is_empty() {
        return Err(AppError::BadRequest("a site needs a name".to_owned()));
    }
    let mut site = SiteRecord { id, name: name.to_owned(), catalog: None, public: Default::default() };
    if !directory.create_site(&site)? {
        return Err(AppError::Conflict(format!("a site {:?} exists already", site.id.as_str())));
    }
    create_site_documents(directory, store, &mut site, by, now(), &Starter::STANDARD)?;
    Ok(site)
}

/// Creates a user; `may_assign` says at which sites the creator may hand out roles.
/// Blocking (hashes the password).
pub fn create_user(directory: &Directory, request: &NewUser, may_assign: impl Fn(&SiteId) -> bool) -> Result<UserRecord, AppError> {
    let bad = |message: String| AppError::BadRequest(message);
    let username = Username::parse(&request.username).map_err(|error| bad(error.to_string()))?;
    if username.as_str() == SETUP_USER {
        return Err(bad(format!("{SETUP_USER:?} names the server's own setup; choose another user name")));
    }
    // Names the documents use for who is not a person: changes made in them are no one's.
    for reserved in [shared::public::PUBLIC_REPORTER, shared::document::work_order::PLANNER, shared::document::work_order::CONTRACTOR] {
        if username.as_str() == reserved {
            return Err(bad(format!("{reserved:?} names changes no person makes; choose another user name")));
        }
    }
    let display_name = request.display_name.trim();
    if display_name.is_empty() {
        return Err(bad("a user needs a display name".to_owned()));
    }
    if request.password.chars().count() < MIN_PASSWORD {
        return Err(AppError::PasswordTooShort { minimum: MIN_PASSWORD });
    }
    let mut roles = Vec::new();
    for NewRole { site, role } in &request.roles {
        let site = SiteId::parse(site).map_err(|error| bad(error.to_string()))?;
        let role = Role::parse(role).map_err(|error| bad(error.to_string()))?;
        if directory.site(&site)?.is_none() {
            return Err(bad(format!("there is no site {:?}", site.as_str())));
        }
        if !may_assign(&site) {
            return Err(AppError::Forbidden("roles can be given only at sites you administer"));
        }
        if roles.iter().any(|(at, _)| at == &site) {
            return Err(bad(format!("two roles at site {:?}: a person has one role per site", site.as_str())));
        }
        roles.push((site, role));
    }
    let user = UserRecord {
        username,
        display_name: display_name.to_owned(),
        password_hash: hash_password(&request.password)?,
        roles,
        disabled: false,
        token_generation: 0,
    };
    if !directory.create_user(&user)? {
        return Err(AppError::Conflict(format!("a user {:?} exists already", user.username.as_str())));
    }
    Ok(user)
}

/// Disables a user (or enables them again). Disabling revokes every token they hold;
/// enabling does not bring old tokens back.
pub fn set_disabled(directory: &Directory, username: &str, disabled: bool) -> Result<UserRecord, AppError> {
    let username = Username::parse(username).map_err(|_| AppError::NotFound)?;
    let updated = directory.update_user(&username, |user| {
        if disabled && !user.disabled {
            user.token_generation += 1;
        }
        user.disabled = disabled;
    })?;
    updated.ok_or(AppError::NotFound)
}

async fn add_site(
    State(state): State<AppState>,
    session: Session,
    request: Result<Json<NewSite>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    session.require_admin()?;
    let Json(request) =
        request.map_err(|rejection| AppError::BadRequest(format!("expected {{\"id\", \"name\"}}: {}", rejection.body_text())))?;
    let (directory, store) = (state.directory.clone(), state.documents.clone());
    let by = session.user.username.clone();
    let site = tokio::task::spawn_blocking(move || -> Result<SiteRecord, AppError> {
        let site = create_site(&directory, &store, &request, &by)?;
        // Whoever creates a site runs it, so they can give people roles there.
        directory.update_user(&by, |user| user.roles.push((site.id.clone(), Role::Admin)))?;
        Ok(site)
    })
    .await
    .context("the site task failed")??;
    state.storage.flush().await?;
    tracing::info!(site = %site.id, by = %session.user.username, "created a site");
    let body = serde_json::json!({ "id": site.id, "name": site.name, "catalog": site.catalog.map(|id| id.url()) });
    Ok((StatusCode::CREATED, Json(body)))
}

async fn add_user(
    State(state): State<AppState>,
    session: Session,
    request: Result<Json<NewUser>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<UserView>), AppError> {
    session.require_admin()?;
    let Json(request) = request.map_err(|rejection| {
        AppError::BadRequest(format!(
            "expected {{\"username\", \"display_name\", \"password\", \"roles\": [{{\"site\", \"role\"}}]}}: {}",
            rejection.body_text()
        ))
    })?;
    let directory = state.directory.clone();
    let creator = session.user.clone();
    let user = tokio::task::spawn_blocking(move || create_user(&directory, &request, |site| creator.role_at(site) == Some(Role::Admin)))
        .await
        .context("the user task failed")??;
    state.storage.flush().await?;
    tracing::info!(user = %user.username, by = %session.user.username, "created a user");
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}

/// The people an administrator manages: those with a role at a site they run, and those
/// with no role anywhere yet.
async fn list_users(State(state): State<AppState>, session: Session) -> Result<Json<Vec<PersonView>>, AppError> {
    session.require_admin()?;
    let directory = state.directory.clone();
    let people = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<PersonView>> {
        let mut people = Vec::new();
        let mut devices = directory.actors_by_user()?;
        for user in directory.users()? {
            let reachable = user.roles.is_empty() || user.roles.iter().any(|(site, _)| session.role_at(site) == Some(Role::Admin));
            if reachable {
                let last_sync = directory.last_sync(&user.username)?;
                let devices = devices.remove(user.username.as_str()).unwrap_or_default();
                people.push(PersonView { user: UserView::from(&user), last_sync, devices });
            }
        }
        Ok(people)
    })
    .await
    .context("the listing task failed")??;
    Ok(Json(people))
}

/// The person named in the path; 404 for a name that is not a user's.
fn person(state: &AppState, username: &str) -> Result<UserRecord, AppError> {
    Username::parse(username).ok().and_then(|name| state.directory.user(&name).transpose()).transpose()?.ok_or(AppError::NotFound)
}

/// The person named in the path, if the administrator runs every site where they work.
fn person_in_reach(state: &AppState, session: &Session, username: &str) -> Result<UserRecord, AppError> {
    let target = person(state, username)?;
    let out_of_reach = target.roles.iter().any(|(site, _)| session.role_at(site) != Some(Role::Admin));
    if out_of_reach {
        return Err(AppError::Forbidden("this person works at a site you do not administer"));
    }
    Ok(target)
}

/// Sets a new password. Every token the person holds is revoked: a reset usually follows
/// a lost phone or a password someone else learnt.
async fn reset_password(
    State(state): State<AppState>,
    session: Session,
    Path(username): Path<String>,
    request: Result<Json<NewPassword>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<UserView>, AppError> {
    session.require_admin()?;
    let Json(request) =
        request.map_err(|rejection| AppError::BadRequest(format!("expected {{\"password\"}}: {}", rejection.body_text())))?;
    let target = person_in_reach(&state, &session, &username)?;
    if request.password.chars().count() < MIN_PASSWORD {
        return Err(AppError::PasswordTooShort { minimum: MIN_PASSWORD });
    }
    let hash = tokio::task::spawn_blocking(move || hash_password(&request.password)).await.context("the hashing task failed")??;
    let user = state
        .directory
        .update_user(&target.username, |user| {
            user.password_hash = hash.clone();
            user.token_generation += 1;
        })?
        .ok_or(AppError::NotFound)?;
    state.storage.flush().await?;
    state.sync.revoke(&user.username);
    tracing::info!(user = %user.username, by = %session.user.username, "reset a password");
    Ok(Json(UserView::from(&user)))
}

/// Replaces a person's roles at the sites the administrator runs; roles elsewhere stay.
/// Their open sync connections close, so they reconnect under the new roles.
async fn set_roles(
    State(state): State<AppState>,
    session: Session,
    Path(username): Path<String>,
    request: Result<Json<RoleChange>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<UserView>, AppError> {
    session.require_admin()?;
    let Json(request) = request.map_err(|rejection| {
        AppError::BadRequest(format!("expected {{\"roles\": [{{\"site\", \"role\"}}]}}: {}", rejection.body_text()))
    })?;
    let bad = |message: String| AppError::BadRequest(message);
    let target = person(&state, &username)?;
    let mut wanted: Vec<(SiteId, Role)> = Vec::new();
    for NewRole { site, role } in &request.roles {
        let site = SiteId::parse(site).map_err(|error| bad(error.to_string()))?;
        let role = Role::parse(role).map_err(|error| bad(error.to_string()))?;
        if session.role_at(&site) != Some(Role::Admin) {
            return Err(AppError::Forbidden("roles can be given only at sites you administer"));
        }
        if wanted.iter().any(|(at, _)| at == &site) {
            return Err(bad(format!("two roles at site {:?}: a person has one role per site", site.as_str())));
        }
        wanted.push((site, role));
    }
    if target.username == session.user.username {
        let keeps_admin = session
            .user
            .roles
            .iter()
            .filter(|(_, role)| *role == Role::Admin)
            .all(|(site, _)| wanted.contains(&(site.clone(), Role::Admin)));
        if !keeps_admin {
            return Err(bad("you cannot take away your own administration of a site".to_owned()));
        }
    }
    let runs = |site: &SiteId| session.role_at(site) == Some(Role::Admin);
    let user = state
        .directory
        .update_user(&target.username, |user| {
            user.roles.retain(|(site, _)| !runs(site));
            user.roles.extend(wanted.iter().cloned());
        })?
        .ok_or(AppError::NotFound)?;
    state.storage.flush().await?;
    state.sync.roles_changed(&user.username);
    tracing::info!(user = %user.username, by = %session.user.username, "changed roles");
    Ok(Json(UserView::from(&user)))
}

async fn disable_user(state: State<AppState>, session: Session, username: Path<String>) -> Result<Json<UserView>, AppError> {
    change_disabled(state, session, username, true).await
}

async fn enable_user(state: State<AppState>, session: Session, username: Path<String>) -> Result<Json<UserView>, AppError> {
    change_disabled(state, session, username, false).await
}

async fn change_disabled(
    State(state): State<AppState>,
    session: Session,
    Path(username): Path<String>,
    disabled: bool,
) -> Result<Json<UserView>, AppError> {
    session.require_admin()?;
    if username == session.user.username.as_str() && disabled {
        return Err(AppError::BadRequest("you cannot disable yourself".to_owned()));
    }
    // An administrator manages people at their own sites only: someone with a role at a
    // site the administrator does not run is out of their reach.
    person_in_reach(&state, &session, &username)?;
    let user = set_disabled(&state.directory, &username, disabled)?;
    state.storage.flush().await?;
    if disabled {
        state.sync.revoke(&user.username);
    }
    tracing::info!(user = %user.username, disabled, by = %session.user.username, "changed whether a user may sign in");
    Ok(Json(UserView::from(&user)))
}

/// `site:role` as the command line spells a role, e.g. `hq:inspector`.
pub fn parse_role_arg(text: &str) -> Result<NewRole, String> {
    let (site, role) = text.split_once(':').ok_or_else(|| format!("{text:?}: expected SITE:ROLE, e.g. hq:inspector"))?;
    Ok(NewRole { site: site.to_owned(), role: role.to_owned() })
}

/// The site named in a path, if the session administers it.
fn administered(session: &Session, site: &str) -> Result<SiteId, AppError> {
    let site = SiteId::parse(site).map_err(|_| AppError::NotFound)?;
    if session.role_at(&site) == Some(Role::Admin) {
        Ok(site)
    } else {
        Err(AppError::Forbidden("only the site's administrators may do this"))
    }
}

fn channels_view(channels: &SiteChannels) -> ChannelsView {
    let robot =
        |robot: &Option<RobotSettings>| robot.as_ref().map(|robot| RobotView { url: robot.url.clone(), signed: robot.secret.is_some() });
    ChannelsView {
        webhook: channels.webhook.as_ref().map(|webhook| WebhookView { url: webhook.url.clone() }),
        wecom: robot(&channels.wecom),
        dingtalk: robot(&channels.dingtalk),
        feishu: robot(&channels.feishu),
        escalation: channels.escalation.unwrap_or(Escalation::DEFAULT),
    }
}

/// Where a site's notices go; secrets are never shown again.
async fn site_channels(State(state): State<AppState>, session: Session, site: Path<String>) -> Result<Json<ChannelsView>, AppError> {
    let site = administered(&session, &site)?;
    let outbox = state.outbox.clone();
    let channels = tokio::task::spawn_blocking(move || outbox.site_channels(&site)).await.context("the channels task failed")??;
    Ok(Json(channels_view(&channels)))
}

/// An `http://` or `https://` address with a host, trimmed; `what` names it in the refusal.
fn web_address(url: &str, what: &str) -> Result<String, AppError> {
    let url = url.trim();
    let host = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).and_then(|rest| rest.split(['/', '?', '#']).next());
    if host.is_some_and(|host| !host.is_empty() && !host.contains(char::is_whitespace)) {
        Ok(url.to_owned())
    } else {
        Err(AppError::BadRequest(format!("{what} needs an http:// or https:// address with a host")))
    }
}

/// A robot as an administrator set it: its address checked, an empty secret as none.
fn robot(settings: Option<RobotSettings>, what: &str) -> Result<Option<RobotSettings>, AppError> {
    settings
        .map(|settings| {
            let secret = settings.secret.map(|secret| secret.trim().to_owned()).filter(|secret| !secret.is_empty());
            Ok(RobotSettings { url: web_address(&settings.url, what)?, secret })
        })
        .transpose()
}

/// Sets where a site's notices go: a webhook needs an `http://` or `https://` address with
/// a host and a secret of at least `MIN_WEBHOOK_SECRET` characters; a robot, an address.
async fn set_site_channels(
    State(state): State<AppState>,
    session: Session,
    site: Path<String>,
    request: Result<Json<SiteChannels>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<ChannelsView>, AppError> {
    let site = administered(&session, &site)?;
    let Json(request) = request.map_err(|rejection| {
        AppError::BadRequest(format!(
            "expected {{\"webhook\": {{\"url\", \"secret\"}}, \"wecom\", \"dingtalk\", \"feishu\": {{\"url\", \"secret\"}}}}: {}",
            rejection.body_text()
        ))
    })?;
    let outbox = state.outbox.clone();
    let stored_site = site.clone();
    let before = tokio::task::spawn_blocking(move || outbox.site_channels(&stored_site)).await.context("the channels task failed")??;
    let mut request = request;
    keep_secrets(&mut request, &before);
    let webhook = match request.webhook {
        Some(webhook) => {
            if webhook.secret.chars().count() < MIN_WEBHOOK_SECRET {
                return Err(AppError::BadRequest(format!("a webhook's secret needs at least {MIN_WEBHOOK_SECRET} characters")));
            }
            Some(WebhookSettings { url: web_address(&webhook.url, "a webhook")?, secret: webhook.secret })
        }
        None => None,
    };
    let channels = SiteChannels {
        webhook,
        wecom: robot(request.wecom, "a WeCom robot")?,
        dingtalk: robot(request.dingtalk, "a DingTalk robot")?,
        feishu: robot(request.feishu, "a Feishu robot")?,
        escalation: request.escalation,
        keep_secrets: Vec::new(),
    };
    if let Some(escalation) = channels.escalation
        && !(Span::ZERO <= escalation.to_managers && escalation.to_managers <= escalation.to_admins)
    {
        return Err(AppError::BadRequest("an escalation reaches the managers (0 ms or later) before the administrators".to_owned()));
    }
    let outbox = state.outbox.clone();
    let stored = channels.clone();
    tokio::task::spawn_blocking(move || outbox.set_site_channels(&site, &stored)).await.context("the channels task failed")??;
    state.storage.flush().await?;
    tracing::info!(by = %session.user.username, channels = ?channels.channels(), "set a site's channels");
    Ok(Json(channels_view(&channels)))
}

/// Puts the secrets stored `before` into the channels of `request` that ask to keep theirs
/// and left them empty.
fn keep_secrets(request: &mut SiteChannels, before: &SiteChannels) {
    for channel in std::mem::take(&mut request.keep_secrets) {
        match channel {
            Channel::Webhook => {
                if let (Some(webhook), Some(stored)) = (&mut request.webhook, &before.webhook)
                    && webhook.secret.is_empty()
                {
                    webhook.secret.clone_from(&stored.secret);
                }
            }
            Channel::WeCom | Channel::DingTalk | Channel::Feishu => {
                let (asked, stored) = match channel {
                    Channel::WeCom => (&mut request.wecom, &before.wecom),
                    Channel::DingTalk => (&mut request.dingtalk, &before.dingtalk),
                    _ => (&mut request.feishu, &before.feishu),
                };
                if let (Some(robot), Some(stored)) = (asked, stored)
                    && robot.secret.as_deref().is_none_or(str::is_empty)
                {
                    robot.secret.clone_from(&stored.secret);
                }
            }
            Channel::Push | Channel::Email => {}
        }
    }
}

/// The shortest secret a webhook may be signed with.
pub const MIN_WEBHOOK_SECRET: usize = 16;

/// The delivery log: the latest notices of the sites the session administers, newest first,
/// with every channel's attempts and outcome.
async fn deliveries(State(state): State<AppState>, session: Session) -> Result<Json<Vec<OutboxEntry>>, AppError> {
    session.require_admin()?;
    let outbox = state.outbox.clone();
    let mut entries = tokio::task::spawn_blocking(move || outbox.entries()).await.context("the outbox task failed")??;
    entries.retain(|entry| session.role_at(&entry.notice.site) == Some(Role::Admin));
    entries.sort_by(|a, b| b.derived_at.cmp(&a.derived_at).then_with(|| a.notice.id().cmp(&b.notice.id())));
    entries.truncate(DELIVERY_LOG_ROWS);
    Ok(Json(entries))
}

/// How many notices the delivery log shows.
pub const DELIVERY_LOG_ROWS: usize = 200;
