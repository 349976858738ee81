//! The automerge-repo sync protocol: document ids, the wire messages, and (next) the
//! sans-IO peer core with client and server roles.

pub mod document_id;
pub mod message;

pub use document_id::DocumentId;
pub use message::{DecodeError, Message, PeerId, PeerMetadata, decode, encode};
