//! The notifier's outbox: every notice the stored documents give (`shared::notice`), kept
//! once by its id until it has been delivered.
//!
//! Notices are derived as changes are stored: the projection worker, which already visits
//! every changed document after its change is durable and before it clears the
//! document's mark, hands each one here. A notice goes in only if its id is not there yet
//! (a compare-and-swap), so the same change synced by two phones, or a document projected
//! again after a crash before its mark was cleared, adds nothing: a notice is neither lost
//! nor doubled. A rebuild of the projections derives nothing, and an event older than
//! `NOTICE_WINDOW` by the server's clock is not told (a restored backup or a phone back
//! after months would otherwise announce the past).
//!
//! Tree: `outbox` (notice id → [`OutboxEntry`] as JSON).

use anyhow::Context;
use automerge::AutoCommit;
use serde::{Deserialize, Serialize};
use shared::directory::{SiteId, Username};
use shared::document::work_order::WorkOrder;
use shared::document::{DocumentType, read_header};
use shared::notice::{self, Notice};
use shared::protocol::DocumentId;
use shared::time::{Span, Timestamp};

use crate::Storage;
use crate::directory::Directory;
use crate::storage::trees;

/// Events older than this when their change reaches the server are not told.
pub const NOTICE_WINDOW: Span = Span::days(7);

/// A notice in the outbox and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub notice: Notice,
    /// When the server derived it.
    pub derived_at: Timestamp,
}

/// The outbox; cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    tree: sled::Tree,
    directory: Directory,
}

impl Outbox {
    pub fn open(storage: &Storage) -> anyhow::Result<Outbox> {
        Ok(Outbox { tree: storage.tree(trees::OUTBOX)?, directory: Directory::open(storage)? })
    }

    /// The people who manage `site` and may sign in.
    fn managers(&self, site: &SiteId) -> anyhow::Result<Vec<Username>> {
        Ok(self
            .directory
            .users()?
            .into_iter()
            .filter(|user| !user.disabled && user.role_at(site).is_some_and(shared::directory::Role::manages))
            .map(|user| user.username)
            .collect())
    }

    /// Adds the notices `doc` gives that are not in the outbox yet; returns how many were
    /// added. A document that does not read gives none (its projection says so); only
    /// failing to write the outbox is an error. Blocking.
    pub fn derive(&self, document: &DocumentId, doc: &AutoCommit, now: Timestamp) -> anyhow::Result<usize> {
        let Ok(header) = read_header(doc) else { return Ok(0) };
        let notices = match header.document_type {
            DocumentType::WorkOrder => {
                let managers = || {
                    self.managers(&header.site).unwrap_or_else(|error| {
                        tracing::warn!(site = %header.site, error = format!("{error:#}"), "cannot read the site's managers");
                        Vec::new()
                    })
                };
                let Ok(order) = WorkOrder::read_doc(doc) else { return Ok(0) };
                notice::work_order(*document, &order, managers)
            }
            _ => Vec::new(),
        };
        let mut added = 0;
        for notice in notices.into_iter().filter(|notice| notice.at >= now.minus(NOTICE_WINDOW)) {
            let id = notice.id();
            let entry = serde_json::to_vec(&OutboxEntry { notice, derived_at: now })?;
            let swapped = self.tree.compare_and_swap(id.as_bytes(), None::<&[u8]>, Some(entry)).context("cannot add to the outbox")?;
            if swapped.is_ok() {
                added += 1;
            }
        }
        Ok(added)
    }

    /// Every notice in the outbox, by id.
    pub fn entries(&self) -> anyhow::Result<Vec<OutboxEntry>> {
        self.tree
            .iter()
            .values()
            .map(|value| serde_json::from_slice(&value.context("cannot read the outbox")?).context("an outbox entry is unreadable"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;
    use shared::document::work_order::{Category, EventKind, NewWorkOrder, Priority};
    use shared::document::{Edit, EntryId};

    use super::*;

    const HOUR: i64 = 60 * 60 * 1000;

    fn edit(user: &str, at: i64) -> Edit {
        Edit::new(Username::parse(user).unwrap(), Timestamp::from_millis(at))
    }

    /// An order reported at `at` and assigned to the technician an hour later.
    fn assigned_order(at: i64) -> AutoCommit {
        let new = NewWorkOrder {
            site: SiteId::parse("hq").unwrap(),
            title: "走廊灯不亮".into(),
            description: String::new(),
            location: "hq-b1".into(),
            asset: None,
            category: Category::Electrical,
            priority: Priority::Normal,
            due_at: None,
            source: None,
        };
        let mut order = WorkOrder::report(ActorId::from([1; 16]), &new, &EntryId::parse("e0").unwrap(), &edit("teacher", at)).unwrap();
        let assignee = Username::parse("tech").unwrap();
        order.record(&EntryId::parse("e1").unwrap(), &EventKind::Assigned { assignee }, &edit("manager", at + HOUR));
        order.into_doc()
    }

    #[test]
    fn a_notice_goes_in_once_however_often_its_document_is_derived_and_old_events_are_not_told() {
        let data = tempfile::tempdir().unwrap();
        let storage = Storage::open(data.path()).unwrap();
        let outbox = Outbox::open(&storage).unwrap();
        let now = Timestamp::from_millis(100 * 24 * HOUR);
        let document = DocumentId::from_random([2; 16]);
        let doc = assigned_order(now.as_millis() - 2 * HOUR);
        assert_eq!(outbox.derive(&document, &doc, now).unwrap(), 1);
        let first = outbox.entries().unwrap();
        assert_eq!(outbox.derive(&document, &doc, now.plus_millis(HOUR)).unwrap(), 0, "derived again, nothing new");
        assert_eq!(outbox.entries().unwrap(), first, "the entry as it was first derived");
        assert_eq!(first[0].notice.id(), format!("{document}/e1/tech"));

        let old = DocumentId::from_random([3; 16]);
        assert_eq!(outbox.derive(&old, &assigned_order(now.as_millis() - 10 * 24 * HOUR), now).unwrap(), 0, "past the window");
        assert_eq!(outbox.derive(&old, &AutoCommit::new(), now).unwrap(), 0, "a document that does not read gives nothing");
    }
}
