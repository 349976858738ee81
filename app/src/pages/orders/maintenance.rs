//! Preventive maintenance: on the phones of a site's managers and technicians, every plan's
//! current occurrence becomes a work order, offline too. The order's id and first change
//! are derived from the plan and the occurrence (`WorkOrder::preventive`), so two phones
//! generating it make the same document and sync keeps one. An occurrence starting on a
//! day the site is closed (its catalog's closures) is not made.

use std::cell::RefCell;
use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::directory::Role;
use shared::directory::SiteId;
use shared::document::DocumentType;
use shared::document::catalog::IndexEntry;
use shared::document::work_order::WorkOrder;
use shared::protocol::DocumentId;
use shared::schedule::{is_closed, plan_index, plan_occurrence};

use crate::edits::{catalog_of, edit_now, index_in_catalog, local_offset_minutes, now, read_catalog};
use crate::replica::use_replica;
use crate::session::use_session;

thread_local! {
    /// Occurrences being created right now, so a second pass does not start them again.
    static UNDER_WAY: RefCell<BTreeSet<DocumentId>> = const { RefCell::new(BTreeSet::new()) };
}

/// Generates the due preventive orders whenever the catalogs change; renders nothing.
#[component]
pub fn PreventiveMaintenance() -> impl IntoView {
    let current = use_session();
    let replica = use_replica();
    Effect::new(move || {
        let _ = replica.revision.get();
        let Some(session) = current.session.get() else { return };
        let now = now();
        for site in session.sites.iter().filter(|site| site.role.manages() || site.role == Role::Technician) {
            let Some(catalog) = catalog_of(&session, &site.id).and_then(|id| read_catalog(replica, &id)) else { continue };
            let Ok(site_id) = SiteId::parse(&site.id) else { continue };
            for plan in &catalog.maintenance {
                let Some(index) = plan_index(plan.every, plan.start, now) else { continue };
                // An occurrence starting while the site is closed is skipped, not made late.
                if is_closed(&catalog.closures, plan_occurrence(plan.every, plan.start, index), local_offset_minutes()) {
                    continue;
                }
                let id = WorkOrder::preventive_id(&site_id, &plan.id, index);
                let fresh = replica.read(&id, |_| ()).is_none() && UNDER_WAY.with_borrow_mut(|under_way| under_way.insert(id));
                if !fresh {
                    continue;
                }
                let (starts, due) = (plan_occurrence(plan.every, plan.start, index), plan_occurrence(plan.every, plan.start, index + 1));
                let location = catalog
                    .assets
                    .iter()
                    .find(|asset| asset.id == plan.asset)
                    .and_then(|asset| asset.place.as_ref())
                    .map(ToString::to_string)
                    .unwrap_or_default();
                let Ok((_, order)) = WorkOrder::preventive(&site_id, plan, &location, index, starts, due) else {
                    UNDER_WAY.with_borrow_mut(|under_way| under_way.remove(&id));
                    continue;
                };
                let (session, site_key, title) = (session.clone(), site.id.clone(), plan.title.clone());
                spawn_local(async move {
                    let outcome = async {
                        replica.create(id, order.into_doc()).await?;
                        let edit = edit_now(&session.user.username)?;
                        let entry = IndexEntry {
                            document: id.url(),
                            document_type: DocumentType::WorkOrder,
                            title,
                            status: "reported".to_owned(),
                            location,
                            updated_at: starts,
                        };
                        index_in_catalog(replica, &session, &site_key, entry, &edit).await
                    }
                    .await;
                    if let Err(message) = outcome {
                        leptos::logging::warn!("cannot generate a preventive order: {message}");
                    }
                    UNDER_WAY.with_borrow_mut(|under_way| under_way.remove(&id));
                });
            }
        }
    });
}
