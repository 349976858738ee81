//! Shorthands for the document modules' tests.

use super::inspection::NewInspection;
use super::{Edit, EntryId, seeds};
use crate::directory::{SiteId, Username};
use crate::time::Timestamp;

/// An edit by `user` at `at` milliseconds.
pub(crate) fn edit(user: &str, at: i64) -> Edit {
    Edit::new(Username::parse(user).unwrap(), Timestamp::from_millis(at))
}

/// An entry id from a literal.
pub(crate) fn id(text: &str) -> EntryId {
    EntryId::parse(text).unwrap()
}

/// A fire-safety round at `hq-b1` of the site `hq`, for `assignees`.
pub(crate) fn fire_round_at_hq(assignees: &[&str]) -> NewInspection {
    NewInspection {
        site: SiteId::parse("hq").unwrap(),
        template: "automerge:fire".into(),
        checklist: seeds::fire_safety(),
        location: "hq-b1".into(),
        rooms: Vec::new(),
        assignees: assignees.iter().map(|user| Username::parse(user).unwrap()).collect(),
    }
}

/// The catalog of a site `hq` with nothing in it yet.
pub(crate) fn empty_catalog() -> super::catalog::CatalogView {
    let site = SiteId::parse("hq").unwrap();
    let catalog = super::catalog::SiteCatalog::create(automerge::ActorId::from(&[7u8; 16][..]), &site, "HQ", &edit("admin", 0));
    catalog.read().unwrap()
}
