//! Houqin's documents over Automerge: the parts every type shares (header, edits, errors,
//! typed reads) and one module per document type.
//!
//! Shapes are chosen for concurrency first. Collections are maps keyed by stable ids, never
//! list positions, so two people adding entries never touch the same key; long free text is
//! Automerge `Text`; short values (a title, a priority) are scalars whose concurrent edits
//! are kept side by side as conflicts (see [`conflicts`]).
//!
//! Every edit takes an [`Edit`]: who makes it and the device's time. Nothing here reads a
//! clock or draws randomness; ids of new entries are passed in.

pub mod conflicts;
pub mod history;
pub mod inspection;
pub mod seeds;
pub mod stocktake;
pub mod template;
pub mod work_order;

use std::fmt;

use automerge::transaction::{CommitOptions, Transactable as _};
use automerge::{ActorId, AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use serde::{Deserialize, Serialize};

use crate::directory::{SiteId, Username};
use crate::time::Timestamp;

/// What kind of document this is; stored as `type` at the root of every document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentType {
    SiteCatalog,
    ChecklistTemplate,
    Inspection,
    WorkOrder,
    Stocktake,
}

impl DocumentType {
    pub const ALL: [DocumentType; 5] = [
        DocumentType::SiteCatalog,
        DocumentType::ChecklistTemplate,
        DocumentType::Inspection,
        DocumentType::WorkOrder,
        DocumentType::Stocktake,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            DocumentType::SiteCatalog => "site_catalog",
            DocumentType::ChecklistTemplate => "checklist_template",
            DocumentType::Inspection => "inspection",
            DocumentType::WorkOrder => "work_order",
            DocumentType::Stocktake => "stocktake",
        }
    }

    pub fn parse(tag: &str) -> Result<DocumentType, DocumentError> {
        DocumentType::ALL
            .into_iter()
            .find(|kind| kind.as_str() == tag)
            .ok_or_else(|| DocumentError::UnknownType { found: tag.to_owned() })
    }

    /// The schema version this build writes and reads.
    pub const fn current_schema(self) -> u64 {
        1
    }
}

impl fmt::Display for DocumentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The fields at the root of every document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub document_type: DocumentType,
    pub schema: u64,
    pub site: SiteId,
    pub created_by: Username,
    pub created_at: Timestamp,
}

/// Who makes an edit and when, by the device's clock. Recorded in the document where the
/// domain needs it (events, entries) and as the Automerge change's time and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub user: Username,
    pub at: Timestamp,
}

impl Edit {
    pub fn new(user: Username, at: Timestamp) -> Edit {
        Edit { user, at }
    }
}

/// An id of an entry inside a document (an event, a count entry, an item), made by the
/// device that adds the entry: random, or derived from something unique.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EntryId(String);

impl EntryId {
    /// 1 to 64 ASCII letters, digits, `-` or `_`.
    pub fn parse(value: &str) -> Result<EntryId, DocumentError> {
        let valid = (1..=64).contains(&value.len()) && value.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
        if valid {
            Ok(EntryId(value.to_owned()))
        } else {
            Err(DocumentError::InvalidValue {
                field: "id".to_owned(),
                value: value.to_owned(),
                hint: "use 1 to 64 ASCII letters, digits, '-' or '_'",
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EntryId {
    type Error = DocumentError;
    fn try_from(value: String) -> Result<EntryId, DocumentError> {
        EntryId::parse(&value)
    }
}

impl From<EntryId> for String {
    fn from(value: EntryId) -> String {
        value.0
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A photo, signature or other file kept outside the document, by its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BlobRef {
    /// 64 lowercase hex digits.
    pub sha256: String,
    pub size: u64,
    pub mime: String,
}

/// The kinds of file a phone may attach.
pub const BLOB_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/webp", "image/svg+xml"];

impl BlobRef {
    pub fn new(sha256: &str, size: u64, mime: &str) -> Result<BlobRef, DocumentError> {
        if sha256.len() != 64 || !sha256.bytes().all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte)) {
            return Err(invalid("sha256", sha256, "64 lowercase hex digits"));
        }
        if !BLOB_TYPES.contains(&mime) {
            return Err(invalid("file type", mime, "image/jpeg, image/png, image/webp or image/svg+xml"));
        }
        Ok(BlobRef { sha256: sha256.to_owned(), size, mime: mime.to_owned() })
    }

    pub(crate) fn write(&self, doc: &mut AutoCommit, map: &ObjId) {
        put(doc, map, "sha256", self.sha256.as_str());
        put(doc, map, "size", self.size);
        put(doc, map, "mime", self.mime.as_str());
    }

    pub(crate) fn read(doc: &impl ReadDoc, map: &ObjId, field: &str) -> Result<BlobRef, DocumentError> {
        let size = required_i64(doc, map, "size", &format!("{field}.size"))?;
        let size = u64::try_from(size).map_err(|_| invalid(&format!("{field}.size"), &size.to_string(), "a size in bytes"))?;
        BlobRef::new(
            &required_str(doc, map, "sha256", &format!("{field}.sha256"))?,
            size,
            &required_str(doc, map, "mime", &format!("{field}.mime"))?,
        )
    }
}

/// Why a document could not be read or an edit was refused. Reading never panics on a
/// document from elsewhere: every surprise is one of these.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("unknown document type {found:?}: expected one of site_catalog, checklist_template, inspection, work_order, stocktake")]
    UnknownType { found: String },
    #[error("expected a {expected} document, found {found}")]
    WrongType { expected: DocumentType, found: DocumentType },
    #[error("{document_type} schema {found} is newer than this app understands ({supported}): update the app")]
    NewerSchema { document_type: DocumentType, found: u64, supported: u64 },
    #[error("field {field:?} is missing")]
    MissingField { field: String },
    #[error("field {field:?} should be {expected}")]
    WrongFieldType { field: String, expected: &'static str },
    #[error("invalid {field} {value:?}: {hint}")]
    InvalidValue { field: String, value: String, hint: &'static str },
    #[error("the document's bytes are not an Automerge document: {reason}")]
    Corrupt { reason: String },
}

impl From<automerge::AutomergeError> for DocumentError {
    fn from(error: automerge::AutomergeError) -> DocumentError {
        DocumentError::Corrupt { reason: error.to_string() }
    }
}

/// The methods every typed document wrapper has: checked wrapping of a document from
/// elsewhere, loading, and access to the Automerge document for sync and storage.
macro_rules! typed_document {
    ($name:ident) => {
        impl $name {
            /// Wraps a document received from elsewhere, checking that it reads as this type.
            pub fn from_doc(doc: automerge::AutoCommit) -> Result<$name, $crate::document::DocumentError> {
                let typed = $name { doc };
                typed.read()?;
                Ok(typed)
            }

            pub fn load(bytes: &[u8]) -> Result<$name, $crate::document::DocumentError> {
                $name::from_doc(automerge::AutoCommit::load(bytes)?)
            }

            pub fn doc(&self) -> &automerge::AutoCommit {
                &self.doc
            }

            pub fn doc_mut(&mut self) -> &mut automerge::AutoCommit {
                &mut self.doc
            }

            pub fn into_doc(self) -> automerge::AutoCommit {
                self.doc
            }
        }
    };
}
pub(crate) use typed_document;

/// Starts a new document with its header on `actor`; the caller adds its fields and
/// commits. (Automerge draws a throwaway random actor first; it is replaced before any
/// operation is made.)
pub(crate) fn create(actor: ActorId, header: &Header) -> AutoCommit {
    let mut doc = AutoCommit::new().with_actor(actor);
    put(&mut doc, &ROOT, "type", header.document_type.as_str());
    put(&mut doc, &ROOT, "schema", header.schema);
    put(&mut doc, &ROOT, "site", header.site.as_str());
    put(&mut doc, &ROOT, "created_by", header.created_by.as_str());
    put(&mut doc, &ROOT, "created_at", header.created_at.as_millis());
    doc
}

/// Commits pending operations as one change stamped with the edit's time and author.
pub(crate) fn commit(doc: &mut AutoCommit, edit: &Edit, summary: &str) {
    let message = format!("{}: {summary}", edit.user);
    doc.commit_with(CommitOptions::default().with_time(edit.at.as_seconds()).with_message(message));
}

/// Reads and checks the header of any document.
pub fn read_header(doc: &impl ReadDoc) -> Result<Header, DocumentError> {
    let tag = required_str(doc, &ROOT, "type", "type")?;
    let document_type = DocumentType::parse(&tag)?;
    let schema = required_u64(doc, &ROOT, "schema", "schema")?;
    if schema > document_type.current_schema() {
        return Err(DocumentError::NewerSchema { document_type, found: schema, supported: document_type.current_schema() });
    }
    let site = required_str(doc, &ROOT, "site", "site")?;
    let site = SiteId::parse(&site).map_err(|_| invalid("site", &site, "a site id"))?;
    let created_by = required_str(doc, &ROOT, "created_by", "created_by")?;
    let created_by = Username::parse(&created_by).map_err(|_| invalid("created_by", &created_by, "a user name"))?;
    let created_at = Timestamp::from_millis(required_i64(doc, &ROOT, "created_at", "created_at")?);
    Ok(Header { document_type, schema, site, created_by, created_at })
}

/// Reads the header and checks that the document is of type `expected`.
pub(crate) fn expect_type(doc: &impl ReadDoc, expected: DocumentType) -> Result<Header, DocumentError> {
    let header = read_header(doc)?;
    if header.document_type != expected {
        return Err(DocumentError::WrongType { expected, found: header.document_type });
    }
    Ok(header)
}

// Writes inside a document we hold are infallible unless the object id is stale, which
// would be a bug in this module, not bad input: hence `expect`.

pub(crate) fn put(doc: &mut AutoCommit, object: &ObjId, key: &str, value: impl Into<ScalarValue>) {
    doc.put(object, key, value).expect("writing into an object of this document");
}

pub(crate) fn put_map(doc: &mut AutoCommit, object: &ObjId, key: &str) -> ObjId {
    doc.put_object(object, key, ObjType::Map).expect("writing into an object of this document")
}

pub(crate) fn put_text(doc: &mut AutoCommit, object: &ObjId, key: &str, text: &str) -> ObjId {
    let text_object = doc.put_object(object, key, ObjType::Text).expect("writing into an object of this document");
    doc.splice_text(&text_object, 0, 0, text).expect("writing into new text");
    text_object
}

/// The map at `key`, creating it if absent. Two replicas creating the same map concurrently
/// produce a conflict in which one map wins, so maps are created with the document.
pub(crate) fn map_at(doc: &impl ReadDoc, object: &ObjId, key: &str, field: &str) -> Result<ObjId, DocumentError> {
    match doc.get(object, key)? {
        Some((Value::Object(ObjType::Map), id)) => Ok(id),
        Some(_) => Err(DocumentError::WrongFieldType { field: field.to_owned(), expected: "a map" }),
        None => Err(DocumentError::MissingField { field: field.to_owned() }),
    }
}

pub(crate) fn optional_str(doc: &impl ReadDoc, object: &ObjId, key: &str, field: &str) -> Result<Option<String>, DocumentError> {
    match doc.get(object, key)? {
        None => Ok(None),
        Some((value, _)) => match value.as_str() {
            Some(text) => Ok(Some(text.to_owned())),
            None => Err(DocumentError::WrongFieldType { field: field.to_owned(), expected: "a string" }),
        },
    }
}

pub(crate) fn required_str(doc: &impl ReadDoc, object: &ObjId, key: &str, field: &str) -> Result<String, DocumentError> {
    optional_str(doc, object, key, field)?.ok_or_else(|| DocumentError::MissingField { field: field.to_owned() })
}

pub(crate) fn optional_i64(doc: &impl ReadDoc, object: &ObjId, key: &str, field: &str) -> Result<Option<i64>, DocumentError> {
    match doc.get(object, key)? {
        None => Ok(None),
        Some((value, _)) => match value.as_i64() {
            Some(number) => Ok(Some(number)),
            None => Err(DocumentError::WrongFieldType { field: field.to_owned(), expected: "an integer" }),
        },
    }
}

pub(crate) fn required_i64(doc: &impl ReadDoc, object: &ObjId, key: &str, field: &str) -> Result<i64, DocumentError> {
    optional_i64(doc, object, key, field)?.ok_or_else(|| DocumentError::MissingField { field: field.to_owned() })
}

pub(crate) fn required_u64(doc: &impl ReadDoc, object: &ObjId, key: &str, field: &str) -> Result<u64, DocumentError> {
    let number = required_i64(doc, object, key, field)?;
    u64::try_from(number).map_err(|_| invalid(field, &number.to_string(), "a non-negative integer"))
}

/// The text at `key`, whether stored as Automerge `Text` or (from other clients) a string.
pub(crate) fn optional_text(doc: &impl ReadDoc, object: &ObjId, key: &str, field: &str) -> Result<Option<String>, DocumentError> {
    match doc.get(object, key)? {
        None => Ok(None),
        Some((Value::Object(ObjType::Text), id)) => Ok(Some(doc.text(&id)?)),
        Some((value, _)) => match value.as_str() {
            Some(text) => Ok(Some(text.to_owned())),
            None => Err(DocumentError::WrongFieldType { field: field.to_owned(), expected: "text" }),
        },
    }
}

pub(crate) fn invalid(field: &str, value: &str, hint: &'static str) -> DocumentError {
    DocumentError::InvalidValue { field: field.to_owned(), value: value.to_owned(), hint }
}

/// Parses a user name read from a document.
pub(crate) fn username_field(value: &str, field: &str) -> Result<Username, DocumentError> {
    Username::parse(value).map_err(|_| invalid(field, value, "a user name"))
}

/// Parses an entry id read from a document.
pub(crate) fn entry_id_field(value: &str, field: &str) -> Result<EntryId, DocumentError> {
    EntryId::parse(value).map_err(|_| invalid(field, value, "an entry id"))
}

/// Reads every entry of a map keyed by entry id, in key order.
pub(crate) fn entries<T>(
    doc: &AutoCommit,
    map: &ObjId,
    name: &str,
    read: impl Fn(&AutoCommit, EntryId, &ObjId, &str) -> Result<T, DocumentError>,
) -> Result<Vec<T>, DocumentError> {
    let mut values = Vec::new();
    for key in doc.keys(map) {
        let field = format!("{name}.{key}");
        let id = entry_id_field(&key, &field)?;
        let entry = match doc.get(map, key.as_str())? {
            Some((Value::Object(ObjType::Map), entry)) => entry,
            _ => return Err(DocumentError::WrongFieldType { field, expected: "a map" }),
        };
        values.push(read(doc, id, &entry, &field)?);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable as _;
    use automerge::{AutoCommit, ROOT};

    use super::*;
    use crate::document::work_order::WorkOrder;

    fn document(fields: &[(&str, ScalarValue)]) -> AutoCommit {
        let mut doc = AutoCommit::new();
        for (key, value) in fields {
            doc.put(ROOT, *key, value.clone()).unwrap();
        }
        doc
    }

    fn header_fields(document_type: &str, schema: i64) -> Vec<(&'static str, ScalarValue)> {
        vec![
            ("type", document_type.into()),
            ("schema", schema.into()),
            ("site", "hq".into()),
            ("created_by", "inspector".into()),
            ("created_at", 1_000i64.into()),
        ]
    }

    fn error_of(doc: AutoCommit) -> String {
        match WorkOrder::from_doc(doc) {
            Ok(_) => "read fine".to_owned(),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn documents_from_elsewhere_get_typed_errors_not_panics() {
        let cases = [
            (document(&[]), "field \"type\" is missing"),
            (document(&header_fields("invoice", 1)), "unknown document type \"invoice\": expected one of site_catalog, checklist_template, inspection, work_order, stocktake"),
            (document(&header_fields("stocktake", 1)), "expected a work_order document, found stocktake"),
            (document(&header_fields("work_order", 9)), "work_order schema 9 is newer than this app understands (1): update the app"),
            (document(&header_fields("work_order", 1)), "field \"events\" is missing"),
            (document(&[("type", 7i64.into())]), "field \"type\" should be a string"),
        ];
        for (doc, expected) in cases {
            assert_eq!(error_of(doc), expected);
        }
        let mut bad_site = header_fields("work_order", 1);
        bad_site[2] = ("site", "Head Office".into());
        assert_eq!(error_of(document(&bad_site)), "invalid site \"Head Office\": a site id");
        assert!(matches!(WorkOrder::load(b"not automerge"), Err(DocumentError::Corrupt { .. })));
    }

    #[test]
    fn entry_ids_are_checked() {
        assert!(EntryId::parse("r1-0f3a_9").is_ok());
        assert_eq!(
            EntryId::parse("has space").unwrap_err().to_string(),
            "invalid id \"has space\": use 1 to 64 ASCII letters, digits, '-' or '_'"
        );
        assert!(EntryId::parse("").is_err());
        assert!(EntryId::parse(&"x".repeat(65)).is_err());
    }
}
