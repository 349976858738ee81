//! What goes wrong in the app, by kind. Each page decides what its reader sees; the
//! message of each kind says what failed and, where it helps, what to do.

use shared::directory::InvalidName;
use shared::document::DocumentError;
use wasm_bindgen::{JsCast as _, JsValue};

use crate::server::Refused;
use crate::store::StoreError;

/// An operation of the app that did not happen.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    /// A change or a reading the document model refused (a rule of the document, or a
    /// document that does not read as its type).
    #[error(transparent)]
    Document(#[from] DocumentError),
    /// A document id that is not one (a link from elsewhere, a damaged entry).
    #[error(transparent)]
    DocumentId(#[from] shared::protocol::document_id::InvalidDocumentId),
    /// A name that is not one (a user name, a site id).
    #[error(transparent)]
    Name(#[from] InvalidName),
    /// The phone's own storage.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No answer from the server: offline, or the server is down.
    #[error("no answer from the server: {0}")]
    Network(String),
    /// The server refused; its message is in the reader's language.
    #[error("{}", .0.message)]
    Refused(Refused),
    /// An answer that does not read: a proxy's page, or a server of another release.
    #[error("the server's answer does not read: {0}")]
    Unreadable(String),
    /// Something the browser refused or lacks (a canvas, a file, a download).
    #[error("the browser refused: {0}")]
    Browser(String),
    /// What the reader typed or chose cannot be used; the message is in their language.
    #[error("{0}")]
    Invalid(String),
    /// The server answered with a status the operation does not expect.
    #[error("the server answered {status} for {what}")]
    Answered { status: u16, what: String },
    /// Nobody is signed in on this phone.
    #[error("not signed in")]
    SignedOut,
    /// The document is not on this phone (not synced yet, or not the reader's to see).
    #[error("that document is not on this phone")]
    NotOnThisPhone,
}

impl AppError {
    /// What a browser API threw or rejected with, as a [`AppError::Browser`].
    pub fn browser(thrown: JsValue) -> AppError {
        AppError::Browser(describe(&thrown))
    }
}

impl From<serde_json::Error> for AppError {
    fn from(error: serde_json::Error) -> AppError {
        AppError::Unreadable(error.to_string())
    }
}

impl From<gloo_net::Error> for AppError {
    fn from(error: gloo_net::Error) -> AppError {
        match error {
            gloo_net::Error::SerdeError(error) => AppError::Unreadable(error.to_string()),
            other => AppError::Network(other.to_string()),
        }
    }
}

/// A readable message from whatever a browser API threw or rejected with.
pub fn describe(thrown: &JsValue) -> String {
    if let Some(exception) = thrown.dyn_ref::<web_sys::DomException>() {
        return format!("{}: {}", exception.name(), exception.message());
    }
    if let Some(error) = thrown.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    thrown.as_string().unwrap_or_else(|| format!("{thrown:?}"))
}
