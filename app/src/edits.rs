//! What every screen that changes documents needs: the time, fresh entry ids, an `Edit`
//! for the signed-in user, and listing a new document in its site's index.

use std::sync::Arc;

use shared::directory::Username;
use shared::document::catalog::{CatalogView, IndexEntry, SiteCatalog};
use shared::document::{Edit, EntryId};
use shared::protocol::DocumentId;
use shared::time::Timestamp;

use crate::error::AppError;
use crate::replica::{Reading, Replica};
use crate::session::Session;

/// Now, by the phone's clock.
pub fn now() -> Timestamp {
    Timestamp::from_millis(js_sys::Date::now() as i64)
}

/// Minutes east of UTC on this phone: its calendar.
pub fn local_offset_minutes() -> i32 {
    -(js_sys::Date::new_0().get_timezone_offset() as i32)
}

/// An id for an entry inside a document, unique enough across phones: the time and 48
/// random bits.
pub fn entry_id(prefix: &str) -> EntryId {
    let random = random_u64() >> 16;
    EntryId::parse(&format!("{prefix}-{}-{random:x}", js_sys::Date::now() as u64)).expect("letters, digits and dashes")
}

/// Random bits from the browser's cryptographic generator, for ids and jitter.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // Every browser that runs the app has `crypto.getRandomValues`; without it there is
    // nothing to fall back to that would keep ids apart.
    getrandom::fill(&mut bytes).expect("the browser gives random values");
    bytes
}

/// A random number from [`random_bytes`].
pub fn random_u64() -> u64 {
    u64::from_le_bytes(random_bytes())
}

/// An edit by `username`, now.
pub fn edit_now(username: &str) -> Result<Edit, AppError> {
    Ok(Edit::new(Username::parse(username)?, now()))
}

/// The catalog document of one of the user's sites.
pub fn catalog_of(session: &Session, site: &str) -> Option<DocumentId> {
    session.sites.iter().find(|known| known.id == site).and_then(|known| DocumentId::parse(known.catalog.as_deref()?).ok())
}

/// A catalog as this phone has it, read again only when the document has changed. A
/// catalog holds a site's every place, asset, template and index entry, most screens read
/// it, and it changes far less often than the documents around it: reading 5,000 places
/// anew each time a round opened cost a slow phone a quarter of a second.
pub fn read_catalog(replica: Replica, id: &DocumentId) -> Option<Arc<CatalogView>> {
    replica.read_kept(id)
}

impl Reading for CatalogView {
    fn read(doc: &automerge::AutoCommit) -> Option<CatalogView> {
        SiteCatalog::read_doc(doc).ok()
    }
}

/// Lists (or updates) a document in its site's index, so other phones learn of it. Does
/// nothing if the catalog is not on this phone yet; the document syncs either way.
pub async fn index_in_catalog(replica: Replica, session: &Session, site: &str, entry: IndexEntry, edit: &Edit) -> Result<(), AppError> {
    let Some(catalog) = catalog_of(session, site).filter(|catalog| replica.read(catalog, |_| ()).is_some()) else { return Ok(()) };
    replica.edit(&catalog, |doc| Ok(SiteCatalog::edit_in(doc, |catalog| catalog.index_document(&entry, edit))??)).await
}
