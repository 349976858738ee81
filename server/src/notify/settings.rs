//! A person's own notices: `GET`/`PUT /api/me/notices` (what they want told, in which
//! language, by mail to which address, quiet hours), `POST`/`DELETE /api/me/push` (this
//! phone's push subscription) and `PUT`/`DELETE /api/me/muted/{document}` (an order
//! muted). Everyone signed in may set their own, and only their own.

use anyhow::Context;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use shared::api::NoticeSettingsView;
use shared::notice::NoticeSettings;
use shared::protocol::DocumentId;

use super::push::Subscription;
use super::{Outbox, mail};
use crate::auth::{Session, now};
use crate::{AppError, AppState};

/// How many orders one person may mute at a time.
pub const MAX_MUTED: usize = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/me/notices", get(settings).put(set_settings))
        .route("/api/me/push", post(subscribe).delete(unsubscribe))
        .route("/api/me/muted/{document}", put(mute).delete(unmute))
}

/// Runs `work` on the outbox off the async threads.
async fn blocking<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&Outbox) -> anyhow::Result<T> + Send + 'static,
) -> Result<T, AppError> {
    let outbox = state.outbox.clone();
    Ok(tokio::task::spawn_blocking(move || work(&outbox)).await.context("the notices task failed")??)
}

async fn view(state: &AppState, session: &Session, settings: NoticeSettings) -> Result<Json<NoticeSettingsView>, AppError> {
    let user = session.user.username.clone();
    let phones = blocking(state, move |outbox| outbox.push().of(&user)).await?.len();
    Ok(Json(NoticeSettingsView { settings, push_key: state.outbox.push().public_key(), phones, mail: state.mail.is_some() }))
}

async fn settings(State(state): State<AppState>, session: Session) -> Result<Json<NoticeSettingsView>, AppError> {
    let user = session.user.username.clone();
    let settings = blocking(&state, move |outbox| outbox.settings(&user)).await?;
    view(&state, &session, settings).await
}

/// Sets what the person wants told and how; the orders they muted stay as they are (they
/// change one by one, from each order's page).
async fn set_settings(
    State(state): State<AppState>,
    session: Session,
    request: Result<Json<NoticeSettings>, JsonRejection>,
) -> Result<Json<NoticeSettingsView>, AppError> {
    let Json(request) =
        request.map_err(|rejection| AppError::BadRequest(format!("expected notice settings: {}", rejection.body_text())))?;
    let email = request.email.as_deref().map(str::trim).filter(|email| !email.is_empty()).map(str::to_owned);
    if let Some(email) = &email {
        if state.mail.is_none() {
            return Err(AppError::BadRequest("this server sends no mail: it has no mail server set".to_owned()));
        }
        if !mail::is_address(email) {
            return Err(AppError::BadRequest(format!("{email:?} is not a mail address")));
        }
    }
    if request.quiet.is_some_and(|quiet| !quiet.is_valid()) {
        return Err(AppError::BadRequest(
            "quiet hours run between times of day (0 to 1439 minutes) at an offset within 14 hours".to_owned(),
        ));
    }
    let user = session.user.username.clone();
    let settings = blocking(&state, move |outbox| {
        outbox.change_settings(&user, |settings| {
            *settings = NoticeSettings { email: email.clone(), muted: std::mem::take(&mut settings.muted), ..request.clone() };
        })
    })
    .await?;
    state.storage.flush().await?;
    view(&state, &session, settings).await
}

/// Turns notifications on for the phone of this subscription.
async fn subscribe(
    State(state): State<AppState>,
    session: Session,
    request: Result<Json<Subscription>, JsonRejection>,
) -> Result<Json<NoticeSettingsView>, AppError> {
    let Json(request) = request.map_err(|rejection| {
        AppError::BadRequest(format!(
            "expected a push subscription {{\"endpoint\", \"keys\": {{\"p256dh\", \"auth\"}}}}: {}",
            rejection.body_text()
        ))
    })?;
    let subscription = request.checked().map_err(|error| AppError::BadRequest(error.to_string()))?;
    let user = session.user.username.clone();
    let settings = blocking(&state, move |outbox| {
        outbox.push().subscribe(&user, subscription, now())?;
        outbox.settings(&user)
    })
    .await?;
    state.storage.flush().await?;
    tracing::info!(user = %session.user.username, "turned notifications on for a phone");
    view(&state, &session, settings).await
}

#[derive(Deserialize)]
struct Endpoint {
    endpoint: String,
}

/// Turns notifications off for the phone at this endpoint.
async fn unsubscribe(
    State(state): State<AppState>,
    session: Session,
    request: Result<Json<Endpoint>, JsonRejection>,
) -> Result<Json<NoticeSettingsView>, AppError> {
    let Json(Endpoint { endpoint }) =
        request.map_err(|rejection| AppError::BadRequest(format!("expected {{\"endpoint\"}}: {}", rejection.body_text())))?;
    let user = session.user.username.clone();
    let settings = blocking(&state, move |outbox| {
        outbox.push().unsubscribe(&user, &endpoint)?;
        outbox.settings(&user)
    })
    .await?;
    state.storage.flush().await?;
    view(&state, &session, settings).await
}

fn document(id: &str) -> Result<DocumentId, AppError> {
    DocumentId::parse(id).map_err(|_| AppError::BadRequest(format!("{id:?} is not a document id")))
}

/// Mutes an order: nothing of it reaches the person through their own channels.
async fn mute(State(state): State<AppState>, session: Session, id: Path<String>) -> Result<Json<NoticeSettingsView>, AppError> {
    let document = document(&id)?;
    let user = session.user.username.clone();
    let settings = blocking(&state, move |outbox| {
        outbox.change_settings(&user, |settings| {
            if settings.muted.len() < MAX_MUTED {
                settings.muted.insert(document);
            }
        })
    })
    .await?;
    if !settings.muted.contains(&document) {
        return Err(AppError::BadRequest(format!("at most {MAX_MUTED} orders can be muted at a time")));
    }
    state.storage.flush().await?;
    view(&state, &session, settings).await
}

async fn unmute(State(state): State<AppState>, session: Session, id: Path<String>) -> Result<Json<NoticeSettingsView>, AppError> {
    let document = document(&id)?;
    let user = session.user.username.clone();
    let settings = blocking(&state, move |outbox| {
        outbox.change_settings(&user, |settings| {
            settings.muted.remove(&document);
        })
    })
    .await?;
    state.storage.flush().await?;
    view(&state, &session, settings).await
}
