//! Reports from people without an account (扫码报修): a label's public page, the report it
//! sends, and the tracking link the reporter follows the repair by.
//!
//! - `GET /l/{code}`: the label's public page — what is wrong, a photo the page shrinks,
//!   how urgent in plain words, a name and phone number if they like. Server-rendered and
//!   small, for a cheap phone in WeChat's browser. A phone signed in to the app (the app
//!   leaves `houqin.signed-in` in local storage) is sent on to the app's own label page,
//!   `/l/{code}?app`, which is the app shell.
//! - `POST /api/public/reports`: the report, as [`PublicReport`]. The server makes the
//!   work order itself ([`crate::sync::SyncHub::edit`]) under an Automerge actor of the
//!   order's own bound to [`PUBLIC_REPORTER`], lists it in the site's catalog, and answers
//!   with the tracking link; dispatchers' phones get it by sync like any report, and the
//!   notices follow from it being stored.
//! - `GET /t/{token}`: the tracking page — the order's progress in plain words; once
//!   repaired, a rating (1–5 and a comment) or "not fixed", sent to
//!   `POST /api/public/track/{token}` and recorded as the reporter's verification or
//!   reopening.
//! - Abuse: a site takes public reports only once an administrator opens it
//!   (`GET`/`PUT /api/admin/sites/{site}/public`, per place kind); reports are paced per
//!   address, per label and all together (429); text and photo are bounded; a hidden field no person
//!   fills refuses robots; a place with an open order reported in the last
//!   [`DUPLICATE_WINDOW`] is offered that order to follow (409 `already_reported`) unless
//!   the reporter says theirs is another fault; a manager may mark a public report spam
//!   (`POST /api/documents/{id}/spam`), which cancels and hides it and counts against its address —
//!   [`STRIKES_TO_REFUSE`] in 30 days and the address is refused.
//! - Nothing else shows: the pages name the place or asset only, the tracking page one
//!   order's steps without the people; an unknown label and a closed site's label look
//!   different only in saying so, and a token for nothing is a plain 404.

pub mod contractor;
mod page;
pub mod store;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use automerge::ActorId;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64ct::{Base64, Base64UrlUnpadded, Encoding as _};
use password_hash::rand_core::{OsRng, RngCore as _};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use shared::directory::{Role, SiteId, Username};
use shared::document::catalog::{IndexEntry, PlaceKind, SiteCatalog};
use shared::document::work_order::{Category, EventKind, NewWorkOrder, Rating, Status, WorkOrder};
use shared::document::{BlobRef, DocumentType, Edit, EntryId};
use shared::language::Language;
use shared::protocol::DocumentId;
use shared::public::{Feedback, MAX_FEEDBACK_CHARS, MAX_PHOTO_BYTES, PUBLIC_REPORTER, PublicReport, PublicReporting, Reported, Stage};
use shared::time::{Span, Timestamp};

use self::store::{PublicOrder, PublicStore, Track};
use crate::auth::{Session, counted_address, now};
use crate::blobs::{PutError, picture_type};
use crate::reach::ClientIp;
use crate::token_bucket::{Paced, Paces, Rate};
use crate::{AppError, AppState};

/// A report's body at most: the photo in base64 and the words, with room to spare.
const MAX_BODY: usize = MAX_PHOTO_BYTES * 4 / 3 + (64 << 10);
/// How long a label's page takes to know of a label added to the catalog.
const LABELS_FRESH: Duration = Duration::from_secs(30);
/// An open order at the same place reported this recently is offered rather than a new one.
pub const DUPLICATE_WINDOW: Span = Span::HOUR.times(2);
/// Reports from one address marked spam in 30 days before it is refused.
pub const STRIKES_TO_REFUSE: usize = 3;
/// Reports from one address (an office or a dormitory may share one): ten at once, then
/// one every two minutes.
const PER_ADDRESS: Rate = Rate { burst: 10.0, per_second: 1.0 / 120.0 };
/// Reports from one label: five at once, then one every five minutes.
const PER_LABEL: Rate = Rate { burst: 5.0, per_second: 1.0 / 300.0 };
/// Reports from everyone together: thirty at once (a building's water cut off), then one
/// every ten seconds, so many addresses together cannot keep the hub or a catalog busy.
const FROM_EVERYONE: Rate = Rate { burst: 30.0, per_second: 1.0 / 10.0 };

/// The public side's state: its records, its paces and the labels it knows.
pub struct Public {
    pub store: PublicStore,
    paces: Paces<PaceKey>,
    /// Read again by one request at a time once stale; the others wait for it.
    labels: tokio::sync::Mutex<Option<Arc<Labels>>>,
    /// Orders made from reports in the last [`DUPLICATE_WINDOW`]: the dashboards'
    /// summaries, which duplicates are otherwise found in, follow a moment behind.
    recent: Mutex<Vec<Recent>>,
}

/// An order made from a public report, for finding duplicates.
struct Recent {
    at: Timestamp,
    site: SiteId,
    place: EntryId,
    asset: Option<EntryId>,
    document: DocumentId,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum PaceKey {
    Address(IpAddr),
    /// Ratings and "not fixed" from an address.
    Answers(IpAddr),
    Label(String),
    Everyone,
}

impl Paced for PaceKey {
    fn rate(&self) -> Rate {
        match self {
            PaceKey::Address(_) | PaceKey::Answers(_) => PER_ADDRESS,
            PaceKey::Label(_) => PER_LABEL,
            PaceKey::Everyone => FROM_EVERYONE,
        }
    }
}

/// A label the public may scan: a place's code or an asset's tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub code: String,
    pub site: SiteId,
    pub catalog: DocumentId,
    pub place: EntryId,
    /// The place's name after the buildings and floors it is in.
    pub place_path: Vec<String>,
    pub kind: PlaceKind,
    /// The asset (id, name, type) for an asset's tag.
    pub asset: Option<(EntryId, String, String)>,
}

impl Label {
    /// What the pages call it: the asset and where it is, or the place.
    pub fn shown(&self) -> String {
        let place = self.place_path.join(" › ");
        match &self.asset {
            Some((_, name, _)) => format!("{name} · {place}"),
            None => place,
        }
    }
}

/// Every site's labels by code (lowercase), as of `built`.
struct Labels {
    built: Instant,
    by_code: HashMap<String, Label>,
}

fn code_key(code: &str) -> String {
    code.trim().to_ascii_lowercase()
}

impl Public {
    pub fn open(storage: &crate::Storage) -> anyhow::Result<Public> {
        Ok(Public {
            store: PublicStore::open(storage)?,
            paces: Paces::new(10_000),
            labels: tokio::sync::Mutex::new(None),
            recent: Mutex::default(),
        })
    }

    /// The label with `code` at any site, from catalogs read at most [`LABELS_FRESH`] ago.
    async fn label(&self, state: &AppState, code: &str) -> anyhow::Result<Option<Label>> {
        let mut kept = self.labels.lock().await;
        let labels = match kept.clone().filter(|labels| labels.built.elapsed() < LABELS_FRESH) {
            Some(labels) => labels,
            None => {
                let (directory, documents) = (state.directory.clone(), state.documents.clone());
                let labels = Arc::new(tokio::task::spawn_blocking(move || read_labels(&directory, &documents)).await??);
                *kept = Some(labels.clone());
                labels
            }
        };
        Ok(labels.by_code.get(&code_key(code)).cloned())
    }
}

/// Reads every site's catalog for its places' codes and assets' tags (the first site in
/// order keeps a code two sites share).
fn read_labels(directory: &crate::directory::Directory, documents: &crate::documents::DocumentStore) -> anyhow::Result<Labels> {
    let mut by_code = HashMap::new();
    for site in directory.sites()? {
        let Some(catalog_id) = site.catalog else { continue };
        let Some(doc) = documents.load(&catalog_id)? else { continue };
        let Ok(catalog) = SiteCatalog::read_doc(&doc) else { continue };
        for place in catalog.places.iter().filter(|place| !place.code.trim().is_empty()) {
            by_code.entry(code_key(&place.code)).or_insert_with(|| Label {
                code: place.code.clone(),
                site: site.id.clone(),
                catalog: catalog_id,
                place: place.id.clone(),
                place_path: catalog.place_path(place.id.as_str()),
                kind: place.kind,
                asset: None,
            });
        }
        for asset in catalog.assets.iter().filter(|asset| !asset.tag.trim().is_empty()) {
            let Some(place) = asset.place.as_ref().and_then(|place| catalog.place(place.as_str())) else { continue };
            by_code.entry(code_key(&asset.tag)).or_insert_with(|| Label {
                code: asset.tag.clone(),
                site: site.id.clone(),
                catalog: catalog_id,
                place: place.id.clone(),
                place_path: catalog.place_path(place.id.as_str()),
                kind: place.kind,
                asset: Some((asset.id.clone(), asset.name.clone(), asset.asset_type.clone())),
            });
        }
    }
    Ok(Labels { built: Instant::now(), by_code })
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/l/{code}", get(label_page))
        .route("/t/{token}", get(tracking_page))
        .route("/api/public/reports", post(report).layer(DefaultBodyLimit::max(MAX_BODY)))
        .route("/api/public/track/{token}", post(feedback))
        .route("/api/admin/sites/{site}/public", get(site_settings).put(set_site_settings))
        .route("/api/documents/{id}/spam", post(mark_spam))
        .route("/api/documents/{id}/contractor-link", post(contractor::make_link))
        .route("/c/{token}", get(contractor::page))
        .route("/api/contractor/{token}", post(contractor::step))
}

/// What went wrong with a public request, as a code the page words in its reader's
/// language (the English words are for logs and other clients).
#[derive(Debug, thiserror::Error)]
enum PublicError {
    #[error("{1}")]
    Invalid(&'static str, String),
    #[error("no label has this code")]
    UnknownLabel,
    #[error("this site does not take reports from the public here")]
    Closed,
    #[error("too many reports; try again in {} seconds", .0.as_secs().max(1))]
    TooMany(Duration),
    #[error("refused")]
    Refused,
    #[error("this place has an open report already")]
    AlreadyReported { track: String },
    #[error("no such tracking link")]
    UnknownTrack,
    #[error("the repair is not done: there is nothing to rate yet")]
    NotDone,
    /// A contractor's step the order no longer takes: `not_yours` (given to someone else,
    /// cancelled or closed) or `not_open` (started already).
    #[error("the order does not take this step from this contractor now")]
    Contractor(&'static str),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<anyhow::Error> for PublicError {
    fn from(error: anyhow::Error) -> PublicError {
        PublicError::App(AppError::Internal(error))
    }
}

impl IntoResponse for PublicError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            PublicError::Invalid(code, _) => (StatusCode::BAD_REQUEST, *code),
            PublicError::UnknownLabel | PublicError::UnknownTrack => (StatusCode::NOT_FOUND, "not_found"),
            PublicError::Closed => (StatusCode::FORBIDDEN, "closed"),
            PublicError::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_reports"),
            PublicError::Refused => (StatusCode::FORBIDDEN, "refused"),
            PublicError::AlreadyReported { .. } => (StatusCode::CONFLICT, "already_reported"),
            PublicError::NotDone => (StatusCode::CONFLICT, "not_done"),
            PublicError::Contractor(code) => (StatusCode::CONFLICT, *code),
            PublicError::App(_) => {
                let PublicError::App(error) = self else { unreachable!("matched above") };
                return error.into_response();
            }
        };
        let mut body = serde_json::json!({ "code": code, "error": self.to_string() });
        if let PublicError::AlreadyReported { track } = &self {
            body["track"] = serde_json::Value::String(track.clone());
        }
        let mut response = (status, Json(body)).into_response();
        if let PublicError::TooMany(wait) = self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
        }
        response
    }
}

/// The reader's language: `?lang=`, else the one they reported in (`known`), else their
/// browser's first choice; Chinese unless it is English.
fn language(lang: Option<&str>, known: Option<Language>, headers: &HeaderMap) -> Language {
    if let (None, Some(known)) = (lang, known) {
        return known;
    }
    let wanted = lang.map(str::to_owned).or_else(|| {
        headers.get(header::ACCEPT_LANGUAGE).and_then(|value| value.to_str().ok()).map(|value| value.trim_start().to_ascii_lowercase())
    });
    if wanted.is_some_and(|wanted| wanted.starts_with("en")) { Language::English } else { Language::Chinese }
}

#[derive(Deserialize)]
struct PageQuery {
    app: Option<String>,
    lang: Option<String>,
}

async fn label_page(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, AppError> {
    if query.app.is_some() {
        return crate::web::serve_file(State(state), request).await;
    }
    let language = language(query.lang.as_deref(), None, &headers);
    let label = state.public.label(&state, &code).await?;
    let open = match &label {
        Some(label) => state.directory.site(&label.site)?.is_some_and(|site| site.public.allows(label.kind)),
        None => false,
    };
    let (status, html) = match &label {
        Some(label) if open => (StatusCode::OK, page::report_form(language, label)),
        Some(label) => (StatusCode::FORBIDDEN, page::closed(language, &label.shown(), &label.code)),
        None => (StatusCode::NOT_FOUND, page::not_found(language, &code)),
    };
    Ok(page::respond(status, html))
}

async fn tracking_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(track) = state.public.store.track(&token)? else {
        let language = language(query.lang.as_deref(), None, &headers);
        return Ok(page::respond(StatusCode::NOT_FOUND, page::unknown_track(language)));
    };
    let language = language(query.lang.as_deref(), track.language, &headers);
    let documents = state.documents.clone();
    let document = track.document;
    let view = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let Some(doc) = documents.load(&document)? else { return Ok(None) };
        Ok(WorkOrder::read_doc(&doc).ok())
    })
    .await
    .context("the document store task failed")??;
    let Some(view) = view else {
        return Ok(page::respond(StatusCode::NOT_FOUND, page::unknown_track(language)));
    };
    let html = page::tracking(language, &track, &view, now(), state.utc_offset_minutes);
    Ok(page::respond(StatusCode::OK, html))
}

fn public_user() -> Username {
    Username::parse(PUBLIC_REPORTER).expect("the public reporter's name is a valid user name")
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// A new entry id, `{prefix}-{random}`.
fn entry(prefix: &str) -> EntryId {
    EntryId::parse(&format!("{prefix}-{}", hex::encode(random::<8>()))).expect("a valid entry id")
}

/// A new tracking link's token: 128 bits, URL-safe.
fn new_token() -> String {
    Base64UrlUnpadded::encode_string(&random::<16>())
}

/// The open work order at the label's place (and asset) reported in the last
/// [`DUPLICATE_WINDOW`], if there is one.
async fn open_order_at(state: &AppState, label: &Label, now: Timestamp) -> anyhow::Result<Option<DocumentId>> {
    let asset_id = label.asset.as_ref().map(|(id, ..)| id.clone());
    let recent: Vec<DocumentId> = {
        let mut recent = state.public.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        recent.retain(|order| now.since(order.at) < DUPLICATE_WINDOW);
        recent
            .iter()
            .filter(|order| order.site == label.site && order.place == label.place && order.asset == asset_id)
            .map(|order| order.document)
            .collect()
    };
    for document in recent {
        let documents = state.documents.clone();
        let open = tokio::task::spawn_blocking(move || -> anyhow::Result<bool> {
            let Some(doc) = documents.load(&document)? else { return Ok(false) };
            Ok(WorkOrder::read_doc(&doc).is_ok_and(|view| view.state().status.is_open()))
        })
        .await
        .context("the document store task failed")??;
        if open {
            return Ok(Some(document));
        }
    }
    let projections = state.projections.clone();
    let site = label.site.clone();
    let summaries = tokio::task::spawn_blocking(move || projections.site(&site)).await.context("the projections task failed")??;
    let asset = label.asset.as_ref().map(|(id, ..)| id.as_str().to_owned());
    let found = summaries.into_iter().find_map(|projection| match projection.summary {
        shared::projection::Summary::WorkOrder(order)
            if order.location == label.place.as_str()
                && order.status.is_open()
                && order.asset == asset
                && now.since(order.reported_at) < DUPLICATE_WINDOW =>
        {
            DocumentId::parse(&projection.document).ok()
        }
        _ => None,
    });
    Ok(found)
}

async fn report(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    body: Result<Json<PublicReport>, JsonRejection>,
) -> Result<(StatusCode, Json<Reported>), PublicError> {
    let Json(report) = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => PublicError::App(AppError::TooLarge { limit: MAX_BODY }),
        _ => PublicError::Invalid("bad_request", rejection.body_text()),
    })?;
    let address = counted_address(client);
    if !report.website.is_empty() {
        tracing::warn!(%address, "refused a public report: its hidden field was filled in");
        return Err(PublicError::Refused);
    }
    report.check().map_err(|problem| PublicError::Invalid(problem.code(), problem.message().to_owned()))?;
    let public = &state.public;
    let at = now();
    if public.store.strikes_of(&address.to_string(), at.as_millis())?.len() >= STRIKES_TO_REFUSE {
        tracing::warn!(%address, "refused a public report: the address sent spam");
        return Err(PublicError::Refused);
    }
    let label = public.label(&state, &report.code).await?.ok_or(PublicError::UnknownLabel)?;
    let site = state.directory.site(&label.site)?.ok_or(PublicError::UnknownLabel)?;
    if !site.public.allows(label.kind) {
        return Err(PublicError::Closed);
    }
    let keys = [PaceKey::Address(address), PaceKey::Label(code_key(&label.code)), PaceKey::Everyone];
    public.paces.attempt(&keys, Instant::now()).map_err(PublicError::TooMany)?;
    let photo = match &report.photo {
        Some(encoded) => Some(decode_photo(encoded)?),
        None => None,
    };
    if !report.anyway
        && let Some(open) = open_order_at(&state, &label, at).await?
    {
        // The same fault, most likely: they follow the order already there.
        let token = new_token();
        public.store.add_track(
            &token,
            &Track { document: open, site: label.site.clone(), place: label.shown(), language: report.language, may_answer: false },
        )?;
        state.storage.flush().await?;
        return Err(PublicError::AlreadyReported { track: format!("/t/{token}") });
    }
    let photo = match photo {
        Some(bytes) => Some(keep_photo(&state, &label.site, bytes).await?),
        None => None,
    };
    let document = DocumentId::from_random(random());
    let actor = ActorId::from(random::<16>());
    state.directory.bind_actor(&actor.to_hex_string(), &public_user())?;
    let edit = Edit::new(public_user(), at);
    let category = label.asset.as_ref().and_then(|(_, _, asset_type)| Category::for_asset_type(asset_type)).unwrap_or(Category::Other);
    let priority = report.urgency.priority();
    let new = NewWorkOrder {
        site: label.site.clone(),
        title: report.title(),
        description: report.text.trim().to_owned(),
        location: label.place.as_str().to_owned(),
        asset: label.asset.as_ref().map(|(id, ..)| id.as_str().to_owned()),
        category,
        priority,
        due_at: Some(at.plus_millis(priority.default_due_millis())),
        source: None,
    };
    let details = reporter_details(&report, &label.code);
    let (made_by, made_edit) = (actor.clone(), edit.clone());
    state
        .sync
        .edit(&state.documents, document, actor.clone(), move |doc| {
            let mut order = WorkOrder::report(made_by, &new, &entry("reported"), &made_edit)?;
            order.add_comment(&entry("reporter"), &details, photo.as_ref(), &made_edit)?;
            *doc = order.into_doc();
            Ok(())
        })
        .await?;
    let listed = IndexEntry {
        document: document.url(),
        document_type: DocumentType::WorkOrder,
        title: report.title(),
        status: Status::Reported.as_str().to_owned(),
        location: label.place.as_str().to_owned(),
        updated_at: at,
    };
    state
        .sync
        .edit(&state.documents, label.catalog, actor.clone(), move |doc| {
            Ok(SiteCatalog::edit_in(doc, |catalog| catalog.index_document(&listed, &edit))??)
        })
        .await?;
    let token = new_token();
    public.store.add_order(
        &document,
        &PublicOrder {
            site: label.site.clone(),
            actor: actor.to_hex_string(),
            address: address.to_string(),
            code: label.code.clone(),
            at: at.as_millis(),
            spam: false,
        },
    )?;
    public.store.add_track(
        &token,
        &Track { document, site: label.site.clone(), place: label.shown(), language: report.language, may_answer: true },
    )?;
    {
        let mut recent = public.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Pruned here too: reports sent "anyway" never look for duplicates.
        recent.retain(|order| at.since(order.at) < DUPLICATE_WINDOW);
        recent.push(Recent {
            at,
            site: label.site.clone(),
            place: label.place.clone(),
            asset: label.asset.as_ref().map(|(id, ..)| id.clone()),
            document,
        });
    }
    state.storage.flush().await?;
    tracing::info!(%document, site = %label.site, code = %label.code, %address, "a public report made a work order");
    Ok((StatusCode::CREATED, Json(Reported { track: format!("/t/{token}") })))
}

/// The reporter's name and number, and the label, as the order's first comment: what the
/// technician calls back, in the department's language.
fn reporter_details(report: &PublicReport, code: &str) -> String {
    let (name, phone) = (report.name.trim(), report.phone.trim());
    let who = match (name.is_empty(), phone.is_empty()) {
        (true, true) => "报修人未留姓名和电话".to_owned(),
        (false, true) => format!("报修人：{name}（未留电话）"),
        (true, false) => format!("报修人电话：{phone}"),
        (false, false) => format!("报修人：{name}，电话：{phone}"),
    };
    format!("{who}。扫码 {code} 报修。")
}

/// The photo's bytes, checked to be a picture of at most [`MAX_PHOTO_BYTES`].
fn decode_photo(encoded: &str) -> Result<Vec<u8>, PublicError> {
    let bytes =
        Base64::decode_vec(encoded.trim()).map_err(|_| PublicError::Invalid("photo_invalid", "the photo is not base64".to_owned()))?;
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(PublicError::App(AppError::TooLarge { limit: MAX_PHOTO_BYTES }));
    }
    if picture_type(&bytes).is_none() {
        return Err(PublicError::App(AppError::UnsupportedFile));
    }
    Ok(bytes)
}

/// Stores the photo for the site (within its quota) and names it.
async fn keep_photo(state: &AppState, site: &SiteId, bytes: Vec<u8>) -> Result<BlobRef, PublicError> {
    state.storage.space().check().map_err(|_| PublicError::App(AppError::DiskFull))?;
    let sha256: [u8; 32] = Sha256::digest(&bytes).into();
    let (mime, _) = picture_type(&bytes).expect("checked when decoded");
    let reference = BlobRef::new(&hex::encode(sha256), bytes.len() as u64, mime).map_err(|error| AppError::Internal(error.into()))?;
    let (blobs, sites) = (state.blobs.clone(), vec![site.clone()]);
    let at = now().as_millis();
    match tokio::task::spawn_blocking(move || blobs.put(&sha256, &bytes, &sites, at)).await.context("the blob store task failed")? {
        Ok(_) => Ok(reference),
        Err(PutError::Quota { site, .. }) => Err(PublicError::App(AppError::QuotaExceeded { site })),
        Err(PutError::Storage(error)) => Err(PublicError::App(AppError::Internal(error))),
    }
}

async fn feedback(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Path(token): Path<String>,
    body: Result<Json<Feedback>, JsonRejection>,
) -> Result<StatusCode, PublicError> {
    let Json(feedback) = body.map_err(|rejection| PublicError::Invalid("bad_request", rejection.body_text()))?;
    let address = counted_address(client);
    state.public.paces.attempt(&[PaceKey::Answers(address)], Instant::now()).map_err(PublicError::TooMany)?;
    let track = state.public.store.track(&token)?.filter(|track| track.may_answer).ok_or(PublicError::UnknownTrack)?;
    let order = state.public.store.order(&track.document)?.ok_or(PublicError::UnknownTrack)?;
    let comment = feedback.comment.trim().to_owned();
    if comment.chars().count() > MAX_FEEDBACK_CHARS {
        return Err(PublicError::Invalid("text_too_long", "the comment is too long".to_owned()));
    }
    let kind = if feedback.not_fixed {
        EventKind::Reopened { reason: if comment.is_empty() { "报修人反映没有修好".to_owned() } else { comment } }
    } else {
        let stars = feedback.rating.ok_or(PublicError::Invalid("rating_invalid", "a rating from 1 to 5, or not_fixed".to_owned()))?;
        let rating =
            Rating::new(i64::from(stars)).map_err(|_| PublicError::Invalid("rating_invalid", "a rating from 1 to 5".to_owned()))?;
        EventKind::Verified { rating, comment }
    };
    let actor = ActorId::from(hex::decode(&order.actor).context("a public report's actor does not read")?);
    let edit = Edit::new(public_user(), now());
    state
        .sync
        .edit(&state.documents, track.document, actor, move |doc| {
            let done = WorkOrder::read_doc(doc).is_ok_and(|view| Stage::of(view.state().status) == Stage::Done);
            if !done {
                return Ok(false);
            }
            WorkOrder::edit_in(doc, |order| order.record(&entry(kind.name()), &kind, &edit))?;
            Ok(true)
        })
        .await?
        .then_some(StatusCode::NO_CONTENT)
        .ok_or(PublicError::NotDone)
}

async fn site_settings(
    State(state): State<AppState>,
    session: Session,
    Path(site): Path<String>,
) -> Result<Json<PublicReporting>, AppError> {
    let site = administered(&state, &session, &site)?;
    Ok(Json(site.public))
}

async fn set_site_settings(
    State(state): State<AppState>,
    session: Session,
    Path(site): Path<String>,
    body: Result<Json<PublicReporting>, JsonRejection>,
) -> Result<Json<PublicReporting>, AppError> {
    let mut site = administered(&state, &session, &site)?;
    let Json(mut settings) = body.map_err(|rejection| AppError::BadRequest(rejection.body_text()))?;
    settings.kinds.sort();
    settings.kinds.dedup();
    site.public = settings.clone();
    state.directory.put_site(&site)?;
    tracing::info!(site = %site.id, user = %session.user.username, open = settings.open, "public reporting changed");
    Ok(Json(settings))
}

/// The site, if the reader administers it; 404 otherwise, as for a site that is not.
fn administered(state: &AppState, session: &Session, site: &str) -> Result<crate::directory::SiteRecord, AppError> {
    let site = SiteId::parse(site).map_err(|_| AppError::NotFound)?;
    if session.role_at(&site) != Some(Role::Admin) {
        return Err(AppError::NotFound);
    }
    state.directory.site(&site)?.ok_or(AppError::NotFound)
}

/// A manager marks a public report spam: it is cancelled (if still open) under their name
/// and counted against the address it came from.
async fn mark_spam(State(state): State<AppState>, session: Session, Path(id): Path<String>) -> Result<StatusCode, AppError> {
    let document = DocumentId::parse(&id).map_err(|_| AppError::NotFound)?;
    let order = state.public.store.order(&document)?.ok_or(AppError::NotFound)?;
    match session.role_at(&order.site) {
        Some(Role::Manager | Role::Admin) => {}
        Some(_) => return Err(AppError::Forbidden("only a manager may mark a report spam")),
        None => return Err(AppError::NotFound),
    }
    let actor = ActorId::from(random::<16>());
    state.directory.bind_actor(&actor.to_hex_string(), &session.user.username)?;
    let edit = Edit::new(session.user.username.clone(), now());
    state
        .sync
        .edit(&state.documents, document, actor, move |doc| {
            let open = WorkOrder::read_doc(doc).is_ok_and(|view| view.state().status.is_open());
            if open {
                let kind = EventKind::Cancelled { reason: shared::public::SPAM.to_owned() };
                WorkOrder::edit_in(doc, |order| order.record(&entry("cancelled"), &kind, &edit))?;
            }
            Ok(())
        })
        .await?;
    if state.public.store.mark_spam(&document, now().as_millis())? {
        tracing::info!(%document, user = %session.user.username, address = %order.address, "a public report was marked spam");
    }
    state.storage.flush().await?;
    Ok(StatusCode::NO_CONTENT)
}
