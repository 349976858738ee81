//! What managers read: a site's measures for a period, its documents as a list (filtered
//! and paged), a document's conflicting values, and CSV exports. Everything is read from
//! the projections, except conflicts (from the document itself).
//!
//! Access is the sync endpoint's: anyone with a role at the site reads it; a site where
//! the reader has no role, and a document of one, answer 404 like a missing one.
//!
//! - `GET /api/sites/{site}/summary?from=&to=` — the measures of `shared::kpi`, and for
//!   those who keep the store or manage, the costs of `shared::cost` (from the site's
//!   catalog: its ledger and rates); for everyone, the energy its meters used
//!   (`shared::meter::Energy`, from the catalog's readings).
//! - `GET /api/sites/{site}/documents?type=&status=&q=&from=&to=&page=&per_page=&overdue=`
//! - `GET /api/documents/{id}/conflicts`
//! - `GET /api/sites/{site}/export.csv?type=` — UTF-8 with a byte-order mark; food samples
//!   a row per dish sampled.
//!
//! Times in queries are milliseconds since the epoch or dates (`YYYY-MM-DD`, midnight UTC);
//! `to` is exclusive. Without them a period is the last 30 days.

use std::collections::HashMap;

use anyhow::Context;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use shared::api::{DocumentList, ListedDocument, ShownConflict, ShownValue, SiteSummary};
use shared::cost::{CostReport, OrderCost, Rates, Valuation};
use shared::directory::{Role, SiteId, Username};
use shared::document::catalog::{CatalogView, SiteCatalog};
use shared::document::conflicts::{ConflictValue, conflicts};
use shared::document::food_samples;
use shared::document::{DocumentType, read_site};
use shared::kpi::{Period, WorkOrderSummary, compute};
use shared::meter::Energy;
use shared::projection::{Projection, Summary, summaries};
use shared::protocol::DocumentId;
use shared::time::{Span, Timestamp};

use crate::auth::{LinkSession, Session, now};
use crate::{AppError, AppState};

/// The period a dashboard shows when none is asked for.
const DEFAULT_DAYS: i64 = 30;
/// The most documents one page lists.
pub const MAX_PER_PAGE: usize = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/sites/{site}/summary", get(summary))
        .route("/api/sites/{site}/documents", get(documents))
        .route("/api/sites/{site}/export.csv", get(export))
        .route("/api/documents/{id}/conflicts", get(document_conflicts))
}

/// The site, if the reader has a role there; 404 otherwise, as for a site that is not.
fn readable_site(session: &Session, site: &str) -> Result<SiteId, AppError> {
    let site = SiteId::parse(site).map_err(|_| AppError::NotFound)?;
    if session.role_at(&site).is_none() {
        return Err(AppError::NotFound);
    }
    Ok(site)
}

fn parse_time(name: &str, value: &str) -> Result<Timestamp, AppError> {
    if let Ok(millis) = value.parse::<i64>() {
        return Ok(Timestamp::from_millis(millis));
    }
    Timestamp::parse_date(value)
        .ok_or_else(|| AppError::BadRequest(format!("{name}={value:?}: expected milliseconds since 1970 or a date YYYY-MM-DD")))
}

fn period(from: Option<&str>, to: Option<&str>, now: Timestamp) -> Result<Period, AppError> {
    let to = to.map(|to| parse_time("to", to)).transpose()?.unwrap_or(now);
    let from = from.map(|from| parse_time("from", from)).transpose()?.unwrap_or(to.minus(Span::days(DEFAULT_DAYS)));
    if from >= to {
        return Err(AppError::BadRequest("from must come before to".to_owned()));
    }
    Ok(Period { from, to })
}

fn document_type(value: &str) -> Result<DocumentType, AppError> {
    match DocumentType::parse(value) {
        Ok(kind) if crate::projections::Projections::projects(kind) => Ok(kind),
        _ => Err(AppError::BadRequest(format!("type={value:?}: expected work_order, inspection, stocktake or food_samples"))),
    }
}

/// Reads a site's projections on the blocking pool.
async fn site_projections(state: &AppState, site: SiteId) -> Result<Vec<Projection>, AppError> {
    let projections = state.projections.clone();
    Ok(tokio::task::spawn_blocking(move || projections.site(&site)).await.context("the projection task failed")??)
}

#[derive(Deserialize)]
struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

async fn summary(
    State(state): State<AppState>,
    session: Session,
    Path(site): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<SiteSummary>, AppError> {
    let site = readable_site(&session, &site)?;
    let now = now();
    let period = period(query.from.as_deref(), query.to.as_deref(), now)?;
    let projections = site_projections(&state, site.clone()).await?;
    let (orders, inspections, stocktakes) = summaries(&projections);
    let kpis = compute(period, now, &orders, &inspections, &stocktakes);
    // The catalog is read once for both: its meters' energy for everyone, its ledger and
    // rates for the costs of those who see them.
    let (directory, documents, catalog_site) = (state.directory.clone(), state.documents.clone(), site.clone());
    let catalog = tokio::task::spawn_blocking(move || site_catalog(&directory, &documents, &catalog_site))
        .await
        .context("the catalog task failed")??;
    let energy = catalog.as_ref().map(|catalog| Energy::of(catalog, period)).unwrap_or_default();
    let costs = match catalog.filter(|_| sees_costs(&session, &site)) {
        Some(catalog) => Some(CostBasis::from_catalog(&state, &site, catalog).await?.report(period, &orders)),
        // A site without a catalog yet has spent nothing.
        None => sees_costs(&session, &site).then(CostReport::default),
    };
    Ok(Json(SiteSummary { site, from: period.from, to: period.to, now, kpis, costs, energy }))
}

/// The site's catalog as stored, if it has one that reads. Blocking.
fn site_catalog(
    directory: &crate::directory::Directory,
    documents: &crate::documents::DocumentStore,
    site: &SiteId,
) -> anyhow::Result<Option<CatalogView>> {
    let Some(id) = directory.site(site)?.and_then(|record| record.catalog) else { return Ok(None) };
    Ok(documents.load(&id)?.and_then(|doc| SiteCatalog::read_doc(&doc).ok()))
}

/// What a site's costs are worked out from: its catalog (ledger and rates) and its
/// people's roles there.
struct CostBasis {
    catalog: CatalogView,
    valuation: Valuation,
    roles: HashMap<Username, Role>,
}

impl CostBasis {
    /// The basis for `site`, read on the blocking pool: the catalog whole, the directory's
    /// people. A site without a catalog yet has spent nothing.
    async fn of(state: &AppState, site: &SiteId) -> Result<Option<CostBasis>, AppError> {
        let (directory, documents, catalog_site) = (state.directory.clone(), state.documents.clone(), site.clone());
        let catalog = tokio::task::spawn_blocking(move || site_catalog(&directory, &documents, &catalog_site))
            .await
            .context("the cost task failed")??;
        match catalog {
            Some(catalog) => Ok(Some(CostBasis::from_catalog(state, site, catalog).await?)),
            None => Ok(None),
        }
    }

    /// The basis from a catalog already read, with the directory's people (read on the
    /// blocking pool).
    async fn from_catalog(state: &AppState, site: &SiteId, catalog: CatalogView) -> Result<CostBasis, AppError> {
        let (directory, site) = (state.directory.clone(), site.clone());
        let basis = tokio::task::spawn_blocking(move || -> anyhow::Result<CostBasis> {
            let roles = directory.users()?.into_iter().filter_map(|user| Some((user.username.clone(), user.role_at(&site)?))).collect();
            Ok(CostBasis { valuation: Valuation::of(&catalog.ledger), catalog, roles })
        });
        Ok(basis.await.context("the cost task failed")??)
    }

    fn role_of(&self) -> impl Fn(&Username) -> Option<Role> + '_ {
        |person| self.roles.get(person).copied()
    }

    fn report(&self, period: Period, orders: &[WorkOrderSummary]) -> CostReport {
        CostReport::of(period, orders, &self.catalog, self.role_of())
    }

    fn order(&self, order: &WorkOrderSummary) -> OrderCost {
        let rates = Rates { rates: &self.catalog.rates, role_of: self.role_of() };
        OrderCost::of(&format!("automerge:{}", order.id), &order.cost, &rates, &self.catalog.ledger, &self.valuation)
    }
}

/// Whether `session` sees what things cost at `site`: those who keep the store or manage.
fn sees_costs(session: &Session, site: &SiteId) -> bool {
    session.role_at(site).is_some_and(Role::keeps_store)
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(rename = "type")]
    document_type: Option<String>,
    status: Option<String>,
    q: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
    /// `true`: only work orders open past their due time.
    overdue: Option<String>,
}

/// The documents a list query selects, newest change first.
fn select(mut projections: Vec<Projection>, query: &ListQuery, now: Timestamp) -> Result<Vec<Projection>, AppError> {
    let kind = query.document_type.as_deref().map(document_type).transpose()?;
    let overdue = match query.overdue.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(AppError::BadRequest(format!("overdue={other:?}: expected true or false"))),
    };
    let from = query.from.as_deref().map(|from| parse_time("from", from)).transpose()?;
    let to = query.to.as_deref().map(|to| parse_time("to", to)).transpose()?;
    let words = query.q.as_deref().unwrap_or_default().trim().to_lowercase();
    projections.retain(|projection| {
        kind.is_none_or(|kind| projection.document_type() == kind)
            && query.status.as_deref().is_none_or(|status| projection.status == status)
            && from.is_none_or(|from| projection.updated_at >= from)
            && to.is_none_or(|to| projection.updated_at < to)
            && projection.matches(&words)
            && (!overdue || matches!(&projection.summary, Summary::WorkOrder(order) if order.is_overdue(now)))
            // Spam is hidden, but from a list asked for cancelled orders.
            && (query.status.as_deref() == Some("cancelled") || !matches!(&projection.summary, Summary::WorkOrder(order) if order.spam))
    });
    projections.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then_with(|| a.document.cmp(&b.document)));
    Ok(projections)
}

fn number(name: &str, value: Option<&str>, default: usize, range: std::ops::RangeInclusive<usize>) -> Result<usize, AppError> {
    let Some(value) = value else { return Ok(default) };
    value
        .parse::<usize>()
        .ok()
        .filter(|number| range.contains(number))
        .ok_or_else(|| AppError::BadRequest(format!("{name}={value:?}: expected a whole number from {} to {}", range.start(), range.end())))
}

async fn documents(
    State(state): State<AppState>,
    session: Session,
    Path(site): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Json<DocumentList>, AppError> {
    let site = readable_site(&session, &site)?;
    let page = number("page", query.page.as_deref(), 1, 1..=usize::MAX)?;
    let per_page = number("per_page", query.per_page.as_deref(), 50, 1..=MAX_PER_PAGE)?;
    let selected = select(site_projections(&state, site).await?, &query, now())?;
    let documents = selected
        .iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(|projection| ListedDocument {
            document: projection.document.clone(),
            document_type: projection.document_type(),
            title: projection.title.clone(),
            status: projection.status.clone(),
            location: projection.location.clone(),
            created_by: projection.created_by.clone(),
            created_at: projection.created_at,
            updated_at: projection.updated_at,
        })
        .collect();
    Ok(Json(DocumentList { total: selected.len(), page, per_page, documents }))
}

#[derive(Deserialize)]
struct ExportQuery {
    #[serde(rename = "type")]
    document_type: Option<String>,
}

/// Food samples as the authorities ask for them: a row per dish sampled, with when it was
/// taken and by whom, where it was kept, when it could be discarded and when it was —
/// places and people by name.
fn food_sample_rows(projections: &[Projection], names: &Names, now: Timestamp) -> Vec<Vec<String>> {
    let header = [
        "document",
        "date",
        "meal",
        "canteen",
        "dish",
        "grams",
        "storage",
        "taken_by",
        "taken_at",
        "keep_until",
        "discarded_at",
        "discarded_by",
        "check",
    ];
    let mut rows = vec![header.into_iter().map(str::to_owned).collect::<Vec<_>>()];
    for projection in projections {
        let Summary::FoodSamples(meal) = &projection.summary else { continue };
        for sample in &meal.samples {
            rows.push(vec![
                format!("automerge:{}", projection.document),
                meal.date.clone(),
                meal.meal.clone(),
                names.place(&meal.canteen),
                sample.dish.clone(),
                sample.grams.to_string(),
                names.place(&sample.storage),
                names.person(&sample.taken_by),
                sample.taken_at.iso_utc(),
                sample.taken_at.plus(food_samples::KEEP).iso_utc(),
                sample.discarded_at.map(Timestamp::iso_utc).unwrap_or_default(),
                sample.discarded_by.as_deref().map(|person| names.person(person)).unwrap_or_default(),
                sample.check(now).to_owned(),
            ]);
        }
    }
    rows
}

/// A site's places and people by name, for exports read outside Houqin.
struct Names {
    places: HashMap<String, String>,
    people: HashMap<String, String>,
}

impl Names {
    /// Read on the blocking pool: the site's catalog and the directory's people.
    async fn of(state: &AppState, site: &SiteId) -> Result<Names, AppError> {
        let (directory, documents, site) = (state.directory.clone(), state.documents.clone(), site.clone());
        let names = tokio::task::spawn_blocking(move || -> anyhow::Result<Names> {
            let catalog = site_catalog(&directory, &documents, &site)?;
            let places = catalog.map(|catalog| catalog.places.into_iter().map(|place| (place.id.to_string(), place.name)).collect());
            let people = directory.users()?.into_iter().map(|user| (user.username.to_string(), user.display_name)).collect();
            Ok(Names { places: places.unwrap_or_default(), people })
        });
        Ok(names.await.context("the names task failed")??)
    }

    fn place(&self, id: &str) -> String {
        self.places.get(id).cloned().unwrap_or_else(|| id.to_owned())
    }

    fn person(&self, username: &str) -> String {
        self.people.get(username).cloned().unwrap_or_else(|| username.to_owned())
    }
}

/// The columns of an export: those every list has, then the type's own; for work orders
/// read by those who see costs, what each cost (yuan, two decimals).
fn export_rows(kind: DocumentType, projections: &[Projection], costs: Option<&CostBasis>) -> Vec<Vec<String>> {
    let time = |at: Option<Timestamp>| at.map(Timestamp::iso_utc).unwrap_or_default();
    let mut header: Vec<&str> = vec!["document", "title", "status", "location", "created_by", "created_at", "updated_at"];
    header.extend_from_slice(match kind {
        DocumentType::WorkOrder => {
            &["priority", "asset", "reported_at", "first_response_at", "completed_at", "due_at", "rating", "open_flags"][..]
        }
        DocumentType::Inspection => &["category", "template", "submitted_at", "passed", "failed", "hazards"][..],
        _ => &["started_at", "items", "items_with_variance"][..],
    });
    let costed = kind == DocumentType::WorkOrder && costs.is_some();
    if costed {
        header.extend_from_slice(&["category", "labour_minutes", "labour_cost", "parts_cost", "outside_cost", "total_cost"]);
    }
    let mut rows = vec![header.into_iter().map(str::to_owned).collect::<Vec<_>>()];
    for projection in projections {
        let mut row = vec![
            format!("automerge:{}", projection.document),
            projection.title.clone(),
            projection.status.clone(),
            projection.location.clone(),
            projection.created_by.clone(),
            projection.created_at.iso_utc(),
            projection.updated_at.iso_utc(),
        ];
        match &projection.summary {
            Summary::WorkOrder(order) => row.extend([
                order.priority.as_str().to_owned(),
                order.asset.clone().unwrap_or_default(),
                order.reported_at.iso_utc(),
                time(order.first_response_at),
                time(order.completed_at),
                time(order.due_at),
                order.rating.map(|stars| stars.to_string()).unwrap_or_default(),
                order.open_flags.to_string(),
            ]),
            Summary::Inspection(inspection) => row.extend([
                inspection.category.clone(),
                inspection.template.clone(),
                time(inspection.submitted_at),
                inspection.passed.to_string(),
                inspection.failed.to_string(),
                inspection.hazard_work_orders.len().to_string(),
            ]),
            Summary::Stocktake(stocktake) => {
                // Items counted and off the books (an item nobody counted has no variance yet).
                let varied = stocktake
                    .items
                    .iter()
                    .filter(|(_, counted, expected)| counted.is_some_and(|counted| Some(counted) != *expected))
                    .count();
                row.extend([stocktake.started_at.iso_utc(), stocktake.items.len().to_string(), varied.to_string()]);
            }
            // Exported a row per sample (`food_sample_rows`).
            Summary::FoodSamples(_) => {}
        }
        if let (Summary::WorkOrder(order), Some(basis)) = (&projection.summary, costs.filter(|_| costed)) {
            let cost = basis.order(order);
            row.extend([
                order.category.as_str().to_owned(),
                cost.labour.iter().map(|labour| labour.minutes).sum::<i64>().to_string(),
                cost.labour_total().decimal(),
                cost.parts_total().decimal(),
                cost.outside.decimal(),
                cost.total().decimal(),
            ]);
        }
        rows.push(row);
    }
    rows
}

async fn export(
    State(state): State<AppState>,
    LinkSession(session): LinkSession,
    Path(site): Path<String>,
    Query(query): Query<ExportQuery>,
) -> Result<impl IntoResponse, AppError> {
    let site = readable_site(&session, &site)?;
    let kind = document_type(
        query
            .document_type
            .as_deref()
            .ok_or_else(|| AppError::BadRequest("type is missing: work_order, inspection or stocktake".to_owned()))?,
    )?;
    let list = ListQuery {
        document_type: Some(kind.as_str().to_owned()),
        status: None,
        q: None,
        from: None,
        to: None,
        page: None,
        per_page: None,
        overdue: None,
    };
    let selected = select(site_projections(&state, site.clone()).await?, &list, now())?;
    let basis = if kind == DocumentType::WorkOrder && sees_costs(&session, &site) { CostBasis::of(&state, &site).await? } else { None };
    let rows = if kind == DocumentType::FoodSamples {
        food_sample_rows(&selected, &Names::of(&state, &site).await?, now())
    } else {
        export_rows(kind, &selected, basis.as_ref())
    };
    let body = shared::csv::write(rows.iter().map(|row| row.iter().map(String::as_str).collect()));
    let disposition = format!("attachment; filename=\"{}-{}.csv\"", site.as_str(), kind.as_str());
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)], body))
}

fn words(value: &ConflictValue) -> String {
    match value {
        ConflictValue::Scalar(scalar) => scalar.to_string().trim_matches('"').to_owned(),
        ConflictValue::Map(fields) => {
            fields.iter().map(|(key, value)| format!("{key}: {}", value.trim_matches('"'))).collect::<Vec<_>>().join("\n")
        }
        ConflictValue::Object(kind) => format!("({kind})"),
    }
}

async fn document_conflicts(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Json<Vec<ShownConflict>>, AppError> {
    let document = DocumentId::parse(&id).map_err(|error| AppError::BadRequest(error.to_string()))?;
    let store = state.documents.clone();
    let doc = tokio::task::spawn_blocking(move || store.load(&document)).await.context("the load task failed")??;
    let doc = doc.ok_or(AppError::NotFound)?;
    if read_site(&doc).is_none_or(|site| session.role_at(&site).is_none()) {
        return Err(AppError::NotFound);
    }
    let found =
        conflicts(&doc).map_err(|error| AppError::Internal(anyhow::Error::new(error).context("cannot read a document's conflicts")))?;
    let mut shown = Vec::new();
    for conflict in found {
        let mut values = Vec::new();
        for value in conflict.values {
            let user = state.directory.actor_owner(&value.actor)?.map(|user| user.to_string());
            values.push(ShownValue { id: value.id, value: words(&value.value), actor: value.actor, user, named: value.user, at: value.at });
        }
        shown.push(ShownConflict { path: conflict.path, values });
    }
    Ok(Json(shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_read_dates_and_milliseconds_and_refuse_nonsense() {
        let now = Timestamp::from_day(100);
        assert_eq!(period(None, None, now).unwrap(), Period { from: Timestamp::from_day(70), to: now });
        let dates = period(Some("1970-01-02"), Some("172800000"), now).unwrap();
        assert_eq!(dates, Period { from: Timestamp::from_day(1), to: Timestamp::from_day(2) });
        assert!(
            matches!(period(Some("yesterday"), None, now), Err(AppError::BadRequest(message)) if message.starts_with("from=\"yesterday\""))
        );
        assert!(matches!(period(Some("1970-01-03"), Some("1970-01-02"), now), Err(AppError::BadRequest(_))));
        assert!(matches!(document_type("site_catalog"), Err(AppError::BadRequest(_))));
        assert!(matches!(number("per_page", Some("0"), 50, 1..=MAX_PER_PAGE), Err(AppError::BadRequest(_))));
    }
}
