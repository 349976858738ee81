//! What the server keeps of each work order, inspection and stocktake so that dashboards
//! and lists over tens of thousands of documents answer without opening any: the facts a
//! list shows (title, status, place, times) and the summary the measures in [`crate::kpi`]
//! take. A projection is a function of the document alone, so rebuilding every projection
//! from storage gives what keeping them up to date change by change gave.

use automerge::AutoCommit;
use serde::{Deserialize, Serialize};

use crate::document::food_samples::FoodSamples;
use crate::document::inspection::Inspection;
use crate::document::stocktake::Stocktake;
use crate::document::work_order::WorkOrder;
use crate::document::{DocumentError, DocumentType, read_header};
use crate::kpi::{FoodSamplesSummary, InspectionSummary, StocktakeSummary, WorkOrderSummary};
use crate::protocol::DocumentId;
use crate::time::Timestamp;

/// The summary of one document, by type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Summary {
    WorkOrder(WorkOrderSummary),
    Inspection(InspectionSummary),
    Stocktake(StocktakeSummary),
    FoodSamples(FoodSamplesSummary),
}

impl Summary {
    pub const fn document_type(&self) -> DocumentType {
        match self {
            Summary::WorkOrder(_) => DocumentType::WorkOrder,
            Summary::Inspection(_) => DocumentType::Inspection,
            Summary::Stocktake(_) => DocumentType::Stocktake,
            Summary::FoodSamples(_) => DocumentType::FoodSamples,
        }
    }
}

/// One document as lists and dashboards see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Projection {
    /// The document's id (its `automerge:` URL without the prefix); the summary's `id`
    /// and the hazards' work orders are written the same way.
    pub document: String,
    pub site: String,
    pub title: String,
    /// The type's own status words: `reported` … `verified`; `in_progress` or
    /// `submitted`; `counting`, `closed` or `approved`.
    pub status: String,
    pub location: String,
    pub created_by: String,
    pub created_at: Timestamp,
    /// The latest change's time, by the device that made it (whole seconds; a device whose
    /// clock runs behind may make it earlier than a change before it).
    pub updated_at: Timestamp,
    pub summary: Summary,
}

impl Projection {
    pub fn document_type(&self) -> DocumentType {
        self.summary.document_type()
    }

    /// Whether `query` (lowercase) is found in the title, the place or the status.
    pub fn matches(&self, query: &str) -> bool {
        query.is_empty()
            || [&self.title, &self.location, &self.status, &self.created_by].iter().any(|text| text.to_lowercase().contains(query))
    }
}

/// The projection of a document, or `None` for the types not projected (catalogs and
/// templates: they are the lists' vocabulary, not their entries).
pub fn project(document: &str, doc: &mut AutoCommit) -> Result<Option<Projection>, DocumentError> {
    let header = read_header(doc)?;
    // The latest of the heads' times (Automerge keeps them in seconds): every other change
    // came before one of them.
    let heads = doc.get_heads();
    let latest = heads.iter().filter_map(|head| doc.get_change_meta_by_hash(head).map(|meta| meta.timestamp)).max();
    let updated_at = latest.map_or(header.created_at, |seconds| Timestamp::from_millis(seconds * 1000));
    let (title, status, location, summary) = match header.document_type {
        DocumentType::WorkOrder => {
            let view = WorkOrder::read_doc(doc)?;
            let summary = WorkOrderSummary::from_view(document, &view);
            (view.title.clone(), summary.status.as_str().to_owned(), view.location.clone(), Summary::WorkOrder(summary))
        }
        DocumentType::Inspection => {
            let view = Inspection::read_doc(doc)?;
            let mut summary = InspectionSummary::from_view(document, &view);
            // Hazards name their orders by URL; summaries go by bare id.
            for order in &mut summary.hazard_work_orders {
                if let Ok(id) = DocumentId::parse(order) {
                    *order = id.to_string();
                }
            }
            let status = if view.discarded.is_some() {
                "discarded"
            } else if view.submitted.is_some() {
                "submitted"
            } else {
                "in_progress"
            };
            (view.checklist.name.zh.clone(), status.to_owned(), view.location.clone(), Summary::Inspection(summary))
        }
        DocumentType::Stocktake => {
            let view = Stocktake::read_doc(doc)?;
            let status = format!("{:?}", view.phase).to_lowercase();
            (view.location.clone(), status, view.location.clone(), Summary::Stocktake(StocktakeSummary::from_view(document, &view)))
        }
        DocumentType::FoodSamples => {
            let view = FoodSamples::read_doc(doc)?;
            // Open while any sample is still in the fridge.
            let status = if view.kept().next().is_some() { "keeping" } else { "discarded" };
            (view.title(), status.to_owned(), view.canteen.clone(), Summary::FoodSamples(FoodSamplesSummary::from_view(document, &view)))
        }
        DocumentType::SiteCatalog | DocumentType::ChecklistTemplate => return Ok(None),
    };
    Ok(Some(Projection {
        document: document.to_owned(),
        site: header.site.to_string(),
        title,
        status,
        location,
        created_by: header.created_by.to_string(),
        created_at: header.created_at,
        updated_at,
        summary,
    }))
}

/// The summaries of a site's projections, split by type, as [`crate::kpi::compute`] takes them.
pub fn summaries<'a>(
    projections: impl IntoIterator<Item = &'a Projection>,
) -> (Vec<WorkOrderSummary>, Vec<InspectionSummary>, Vec<StocktakeSummary>) {
    let (mut orders, mut inspections, mut stocktakes) = (Vec::new(), Vec::new(), Vec::new());
    for projection in projections {
        match &projection.summary {
            Summary::WorkOrder(summary) => orders.push(summary.clone()),
            Summary::Inspection(summary) => inspections.push(summary.clone()),
            Summary::Stocktake(summary) => stocktakes.push(summary.clone()),
            // Food samples are not among the department's measures.
            Summary::FoodSamples(_) => {}
        }
    }
    (orders, inspections, stocktakes)
}
