//! `GET /api/documents/{id}/history`: who changed a document, when and how.
//!
//! "Who" is the user the change's Automerge actor is bound to: the person whose session
//! first sent it. The name an app writes into the change message is shown beside it,
//! as a claim; a change that never came through this server has no user.

use anyhow::Context;
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use shared::api::HistoryEntry;
use shared::document::history::history;
use shared::document::read_site;
use shared::protocol::DocumentId;

use crate::auth::Session;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/documents/{id}/history", get(document_history))
}

async fn document_history(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Json<Vec<HistoryEntry>>, AppError> {
    let document = DocumentId::parse(&id).map_err(|error| AppError::BadRequest(error.to_string()))?;
    let store = state.documents.clone();
    let doc = tokio::task::spawn_blocking(move || store.load(&document)).await.context("the load task failed")??;
    // Missing and not theirs to see answer alike.
    let mut doc = doc.ok_or(AppError::NotFound)?;
    let visible = read_site(&doc).is_some_and(|site| session.role_at(&site).is_some());
    if !visible {
        return Err(AppError::NotFound);
    }
    // A preventive order's planner actor belongs to no one, whoever may have used it elsewhere.
    let planner = shared::document::work_order::WorkOrder::planner_actor(&document, &doc).map(|actor| actor.to_hex_string());
    let mut entries = Vec::new();
    for change in history(&mut doc) {
        let user = if planner.as_ref() == Some(&change.actor) { None } else { state.directory.actor_owner(&change.actor)? };
        entries.push(HistoryEntry {
            hash: change.hash,
            actor: change.actor,
            user,
            named: change.user,
            at: change.at,
            summary: change.summary,
            operations: change.operations,
        });
    }
    Ok(Json(entries))
}
