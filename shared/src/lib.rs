//! What the phone, the server and the build agree on, with no IO of any kind.
//!
//! Architecture Invariant: nothing here reads a clock, draws OS randomness, touches a
//! file, a socket or the browser. Time and randomness are passed in by the caller, so
//! every function is deterministic and runs the same natively and in wasm.

pub mod api;
pub mod cost;
pub mod csv;
pub mod directory;
pub mod document;
pub mod health;
pub mod inbox;
pub mod kpi;
pub mod language;
pub mod meter;
pub mod money;
pub mod notice;
pub mod projection;
pub mod protocol;
pub mod public;
pub mod quantity;
pub mod routes;
pub mod schedule;
pub mod time;

/// The release of Houqin this crate was built as; app and server report it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
