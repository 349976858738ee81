//! The automerge-repo sync protocol: document ids, the wire messages, and the sans-IO
//! peer core with its client and server roles.

pub mod client;
pub mod document_id;
pub mod message;
pub mod server;

pub use document_id::DocumentId;
pub use message::{DecodeError, Message, PeerId, PeerMetadata, decode, encode};
