//! Work given to a contractor (one of the site's vendors) instead of a technician: the link
//! the contractor works it by, without an account.
//!
//! - `POST /api/documents/{id}/contractor-link`: a manager or administrator of the order's
//!   site, once the order is given to a contractor and still open, gets a link
//!   (`{"path": "/c/<token>"}`) to send them. Each call makes a new link; all stay good
//!   while the order is that contractor's.
//! - `GET /c/{token}`: what the work is and where, and "started" and "done" (with what was
//!   done) — server-rendered and small, for a phone in WeChat's browser.
//! - `POST /api/contractor/{token}`: `{"step": "started" | "completed", "notes"}`, recorded
//!   on the order under an Automerge actor of the link's own bound to
//!   [`CONTRACTOR`], so the history names the contractor. A link whose order was given to
//!   someone else, cancelled or closed says so (409 `not_yours`, `not_open`) and changes
//!   nothing; steps are paced per address like a reporter's answers.
//!
//! Like tracking links, a link's token is stored only as its SHA-256.

use std::time::Instant;

use anyhow::Context as _;
use automerge::ActorId;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use shared::api::ContractorLink;
use shared::directory::{Role, SiteId, Username};
use shared::document::catalog::SiteCatalog;
use shared::document::work_order::{CONTRACTOR, EventKind, Status, WorkOrder, WorkOrderView};
use shared::document::{Edit, EntryId};
use shared::protocol::DocumentId;
use shared::public::MAX_FEEDBACK_CHARS;

use super::{PaceKey, PageQuery, PublicError, entry, language, new_token, page};
use crate::auth::{Session, counted_address, now};
use crate::reach::ClientIp;
use crate::{AppError, AppState};

/// A contractor's link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contracted {
    pub document: DocumentId,
    pub site: SiteId,
    /// The vendor the order was given to when the link was made: the link works while the
    /// order is theirs.
    pub vendor: EntryId,
    /// The Automerge actor (hex) the contractor's steps are recorded under.
    pub actor: String,
    /// Where the work is: the place's name after its buildings, and the asset's.
    pub place: String,
}

fn contractor() -> Username {
    Username::parse(CONTRACTOR).expect("the contractor's name is a valid user name")
}

/// The order `document` as stored, if it reads.
async fn order_of(state: &AppState, document: DocumentId) -> anyhow::Result<Option<WorkOrderView>> {
    let documents = state.documents.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let Some(doc) = documents.load(&document)? else { return Ok(None) };
        Ok(WorkOrder::read_doc(&doc).ok())
    })
    .await
    .context("the document store task failed")?
}

pub(super) async fn make_link(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Json<ContractorLink>, AppError> {
    let document = DocumentId::parse(&id).map_err(|_| AppError::NotFound)?;
    let order = order_of(&state, document).await?.ok_or(AppError::NotFound)?;
    let site = order.header.site.clone();
    if !session.role_at(&site).is_some_and(Role::manages) {
        return Err(AppError::NotFound);
    }
    let order_state = order.state();
    let Some(vendor) = order_state.vendor.clone().filter(|_| order_state.status.is_open()) else {
        return Err(AppError::Conflict("the order is not given to a contractor, or is closed".to_owned()));
    };
    let (directory, documents) = (state.directory.clone(), state.documents.clone());
    let (catalog_site, location, asset) = (site.clone(), order.location.clone(), order.asset.clone());
    let place = tokio::task::spawn_blocking(move || -> anyhow::Result<String> {
        let Some(catalog) = directory.site(&catalog_site)?.and_then(|record| record.catalog) else { return Ok(String::new()) };
        let Some(doc) = documents.load(&catalog)? else { return Ok(String::new()) };
        let Ok(catalog) = SiteCatalog::read_doc(&doc) else { return Ok(String::new()) };
        let path = catalog.place_path(&location).join(" › ");
        let asset = asset.and_then(|asset| catalog.assets.iter().find(|known| known.id.as_str() == asset).map(|known| known.name.clone()));
        Ok(asset.map_or(path.clone(), |asset| format!("{asset} · {path}")))
    })
    .await
    .context("the catalog task failed")??;
    let actor = ActorId::from(super::random::<16>());
    state.directory.bind_actor(&actor.to_hex_string(), &contractor())?;
    let token = new_token();
    let link = Contracted { document, site, vendor, actor: actor.to_hex_string(), place };
    state.public.store.add_contracted(&token, &link)?;
    tracing::info!(document = %document, user = %session.user.username, "contractor link made");
    Ok(Json(ContractorLink { path: format!("/c/{token}") }))
}

/// Where the order stands for the contractor whose link this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Standing {
    /// Theirs, not started (or paused, or reopened): they may start or finish it.
    ToStart,
    /// Theirs, under way: they may finish it.
    Working,
    /// They finished it: the department checks it.
    Done,
    /// Given to someone else, cancelled, or checked and closed.
    NotTheirs,
}

pub(super) fn standing(link: &Contracted, order: &WorkOrderView) -> Standing {
    let state = order.state();
    if state.vendor.as_ref() != Some(&link.vendor) {
        return Standing::NotTheirs;
    }
    match state.status {
        Status::Reported | Status::Assigned | Status::Acknowledged | Status::Paused | Status::Reopened => Standing::ToStart,
        Status::InProgress => Standing::Working,
        Status::Completed => Standing::Done,
        Status::Verified | Status::Cancelled => Standing::NotTheirs,
    }
}

pub(super) async fn page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let language = language(query.lang.as_deref(), None, &headers);
    let Some(link) = state.public.store.contracted(&token)? else {
        return Ok(page::respond(StatusCode::NOT_FOUND, page::unknown_track(language)));
    };
    let Some(order) = order_of(&state, link.document).await? else {
        return Ok(page::respond(StatusCode::NOT_FOUND, page::unknown_track(language)));
    };
    let standing = standing(&link, &order);
    let status = if standing == Standing::NotTheirs { StatusCode::GONE } else { StatusCode::OK };
    Ok(page::respond(status, page::contractor(language, &link, &order, standing, now(), state.utc_offset_minutes)))
}

#[derive(Deserialize)]
pub(super) struct StepSent {
    step: String,
    #[serde(default)]
    notes: String,
}

pub(super) async fn step(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Path(token): Path<String>,
    body: Result<Json<StepSent>, JsonRejection>,
) -> Result<StatusCode, PublicError> {
    let Json(sent) = body.map_err(|rejection| PublicError::Invalid("bad_request", rejection.body_text()))?;
    state.public.paces.attempt(&[PaceKey::Answers(counted_address(client))], Instant::now()).map_err(PublicError::TooMany)?;
    let link = state.public.store.contracted(&token)?.ok_or(PublicError::UnknownTrack)?;
    let notes = sent.notes.trim().to_owned();
    if notes.chars().count() > MAX_FEEDBACK_CHARS {
        return Err(PublicError::Invalid("text_too_long", "what was done is too long".to_owned()));
    }
    let kind = match sent.step.as_str() {
        "started" => EventKind::Started,
        "completed" => EventKind::Completed { notes },
        other => return Err(PublicError::Invalid("bad_request", format!("step {other:?}: expected started or completed"))),
    };
    let actor = ActorId::from(hex::decode(&link.actor).context("a contractor link's actor does not read")?);
    let edit = Edit::new(contractor(), now());
    let recorded = state
        .sync
        .edit(&state.documents, link.document, actor, move |doc| {
            let Ok(order) = WorkOrder::read_doc(doc) else { return Ok(Err("not_yours")) };
            let allowed = match (standing(&link, &order), &kind) {
                (Standing::NotTheirs, _) => return Ok(Err("not_yours")),
                (Standing::ToStart, _) | (Standing::Working, EventKind::Completed { .. }) => true,
                _ => false,
            };
            if !allowed {
                return Ok(Err("not_open"));
            }
            WorkOrder::edit_in(doc, |order| order.record(&entry(kind.name()), &kind, &edit))?;
            Ok(Ok(()))
        })
        .await?;
    match recorded {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(code) => Err(PublicError::Contractor(code)),
    }
}

impl Standing {
    /// As the page's script and the tests read it.
    pub(super) const fn as_str(self) -> &'static str {
        match self {
            Standing::ToStart => "to_start",
            Standing::Working => "working",
            Standing::Done => "done",
            Standing::NotTheirs => "not_theirs",
        }
    }
}
