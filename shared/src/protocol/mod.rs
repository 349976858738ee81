//! The automerge-repo sync protocol: document ids, the wire messages, and the sans-IO
//! peer core with its client and server roles.

pub mod bounds;
pub mod client;
pub mod document_id;
pub mod message;
pub mod server;

pub use document_id::DocumentId;
pub use message::{DecodeError, Message, PeerId, PeerMetadata, decode, encode};

use automerge::AutoCommit;

/// Drops the record of what changed that Automerge (0.12) keeps in an `AutoCommit`
/// after applying changes from elsewhere — a sync message, an incremental load — even
/// though nothing here asks for patches: about 230 bytes per applied operation, kept as
/// long as the document stays in memory (a 30-item inspection doubled in size). Call it
/// after every such application.
pub fn forget_patches(doc: &mut AutoCommit) {
    doc.reset_diff_cursor();
}
