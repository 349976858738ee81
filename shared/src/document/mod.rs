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

pub mod catalog;
pub mod catalog_csv;
pub mod conflicts;
pub mod food_samples;
pub mod history;
pub mod inspection;
pub mod policy;
pub mod seeds;
pub mod stocktake;
pub mod template;
pub mod work_order;

#[cfg(test)]
pub(crate) mod testing;

use std::collections::BTreeSet;
use std::fmt;

use automerge::transaction::{CommitOptions, Transactable as _};
use automerge::{ActorId, AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value, ValueRef};
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
    /// A canteen meal's food samples (留样).
    FoodSamples,
}

impl DocumentType {
    pub const ALL: [DocumentType; 6] = [
        DocumentType::SiteCatalog,
        DocumentType::ChecklistTemplate,
        DocumentType::Inspection,
        DocumentType::WorkOrder,
        DocumentType::Stocktake,
        DocumentType::FoodSamples,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            DocumentType::SiteCatalog => "site_catalog",
            DocumentType::ChecklistTemplate => "checklist_template",
            DocumentType::Inspection => "inspection",
            DocumentType::WorkOrder => "work_order",
            DocumentType::Stocktake => "stocktake",
            DocumentType::FoodSamples => "food_samples",
        }
    }

    pub fn parse(tag: &str) -> Result<DocumentType, DocumentError> {
        DocumentType::ALL.into_iter().find(|kind| kind.as_str() == tag).ok_or_else(|| DocumentError::UnknownType { found: tag.to_owned() })
    }

    /// The schema version this build writes, and the newest it reads.
    ///
    /// Schemas only grow: a new version adds fields that readers default when absent, so a
    /// document written by any earlier version opens as it is, and edits by a newer app
    /// never rewrite what an older phone wrote (a rewrite made on two phones at once would
    /// itself conflict). Work order history: 1, the first; 2 adds `category`; 3 adds the
    /// category `fire_safety`, which earlier apps cannot read.
    pub const fn current_schema(self) -> u64 {
        match self {
            DocumentType::WorkOrder => 3,
            DocumentType::SiteCatalog
            | DocumentType::ChecklistTemplate
            | DocumentType::Inspection
            | DocumentType::Stocktake
            | DocumentType::FoodSamples => 1,
        }
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
        let valid =
            (1..=64).contains(&value.len()) && value.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
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

    pub(crate) fn read(fields: &Fields<'_>) -> Result<BlobRef, DocumentError> {
        let size = fields.i64("size")?;
        let size = u64::try_from(size).map_err(|_| invalid(&fields.path("size"), &size.to_string(), "a size in bytes"))?;
        BlobRef::new(&fields.str("sha256")?, size, &fields.str("mime")?)
    }
}

/// An entry a forgiving reader left out, and why: shown to administrators to repair or
/// remove. `key` is `None` when the whole section is not a map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnreadableEntry {
    pub section: String,
    pub key: Option<String>,
    pub error: DocumentError,
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
    #[error("not enough {item} on hand: {on_hand}, fewer than the {wanted} asked for")]
    NotEnoughStock { item: String, on_hand: crate::quantity::Quantity, wanted: crate::quantity::Quantity },
    #[error("{what} is read-only")]
    ReadOnly { what: &'static str },
    #[error("the document's bytes are not an Automerge document: {reason}")]
    Corrupt { reason: String },
}

impl From<automerge::AutomergeError> for DocumentError {
    fn from(error: automerge::AutomergeError) -> DocumentError {
        DocumentError::Corrupt { reason: error.to_string() }
    }
}

/// An enum stored in documents as one of a fixed set of strings: `ALL`, `as_str` and a
/// `parse` whose error names the field and the accepted values.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident as $field:literal {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            pub fn parse(value: &str) -> Result<$name, $crate::document::DocumentError> {
                const ACCEPTED: &str = concat!("one of ", $($text, ", "),+);
                $name::ALL.iter().copied().find(|known| known.as_str() == value).ok_or_else(|| {
                    $crate::document::invalid($field, value, ACCEPTED.trim_end_matches(", "))
                })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
                $name::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use text_enum;

/// The methods every typed document wrapper has: checked wrapping of a document from
/// elsewhere, loading, reading, and access to the Automerge document for sync and storage.
/// Each type defines `read_doc`, which reads a borrowed document as `$view`.
macro_rules! typed_document {
    ($name:ident, $view:ty) => {
        impl $name {
            /// Wraps a document received from elsewhere, checking that it reads as this type.
            pub fn from_doc(doc: automerge::AutoCommit) -> Result<$name, $crate::document::DocumentError> {
                let typed = $name { doc };
                typed.read()?;
                Ok(typed)
            }

            /// Reads the document as this type. (To read a document without wrapping it, as
            /// a screen does, `read_doc` needs no copy of it.)
            pub fn read(&self) -> Result<$view, $crate::document::DocumentError> {
                $name::read_doc(&self.doc)
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

            /// Edits `doc` in place as this type. A document that does not read as this
            /// type is left exactly as it was and the reading error returned.
            pub fn edit_in<R>(
                doc: &mut automerge::AutoCommit,
                change: impl FnOnce(&mut $name) -> R,
            ) -> Result<R, $crate::document::DocumentError> {
                let mut typed = $name { doc: std::mem::take(doc) };
                let result = typed.read().map(|_| change(&mut typed));
                *doc = typed.doc;
                result
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
pub fn read_header(doc: &AutoCommit) -> Result<Header, DocumentError> {
    header_of(&Fields::of(doc, &ROOT, ""))
}

fn header_of(root: &Fields<'_>) -> Result<Header, DocumentError> {
    let document_type = DocumentType::parse(&root.str("type")?)?;
    let schema = root.i64("schema")?;
    let schema = u64::try_from(schema).map_err(|_| invalid("schema", &schema.to_string(), "a non-negative integer"))?;
    if schema > document_type.current_schema() {
        return Err(DocumentError::NewerSchema { document_type, found: schema, supported: document_type.current_schema() });
    }
    let site = root.str("site")?;
    let site = SiteId::parse(&site).map_err(|_| invalid("site", &site, "a site id"))?;
    Ok(Header { document_type, schema, site, created_by: root.user("created_by")?, created_at: root.time("created_at")? })
}

/// The site a document belongs to, read on its own: access decisions need nothing more,
/// and a document of a schema newer than this build still names its site. Other
/// automerge-repo clients write strings as text (JavaScript's default); that counts too.
pub fn read_site(doc: &AutoCommit) -> Option<SiteId> {
    let site = match doc.get(&ROOT, "site").ok()?? {
        (Value::Scalar(scalar), _) => scalar.as_str()?.to_owned(),
        (Value::Object(ObjType::Text), text) => doc.text(&text).ok()?,
        _ => return None,
    };
    SiteId::parse(&site).ok()
}

/// Every file (photo, signature) a document refers to, wherever in it the reference sits
/// (but in a round's copy of its checklist, which holds none), in the order found. A map
/// with `sha256`, `size` and `mime` that do not make a valid reference is skipped: it
/// names no file anyone can fetch. The server calls this on every change it stores.
pub fn blob_refs(doc: &AutoCommit) -> Vec<BlobRef> {
    let mut found = Vec::new();
    let mut objects = vec![ROOT];
    while let Some(object) = objects.pop() {
        // Children are pushed in reverse, so that files are found in document order. Only
        // a map with a `sha256` key is read whole: the walk itself copies no values.
        let first_child = objects.len();
        match doc.object_type(&object) {
            Ok(ObjType::Map | ObjType::Table) => {
                let mut names_a_file = false;
                for item in doc.map_range(&object, ..) {
                    names_a_file |= item.key == "sha256";
                    // A round's copy of its checklist, most of the round, holds no files.
                    let checklist = object == ROOT && item.key == "checklist";
                    if matches!(item.value, ValueRef::Object(_)) && !checklist {
                        objects.push(item.id());
                    }
                }
                if names_a_file && let Ok(blob) = BlobRef::read(&Fields::of(doc, &object, "")) {
                    found.push(blob);
                }
            }
            Ok(ObjType::List) => {
                objects.extend(doc.list_range(&object, ..).filter(|item| matches!(item.value, ValueRef::Object(_))).map(|item| item.id()));
            }
            Ok(ObjType::Text) | Err(_) => {}
        }
        objects[first_child..].reverse();
    }
    found
}

/// Reads the header, checks that the document is of type `expected`, and returns the root's
/// fields for the rest of the reading.
pub(crate) fn read_root(doc: &AutoCommit, expected: DocumentType) -> Result<(Header, Fields<'_>), DocumentError> {
    let root = Fields::of(doc, &ROOT, "");
    let header = header_of(&root)?;
    if header.document_type != expected {
        return Err(DocumentError::WrongType { expected, found: header.document_type });
    }
    Ok((header, root))
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

/// The map at `key` of `object`.
pub(crate) fn map_at(doc: &impl ReadDoc, object: &ObjId, key: &str, field: &str) -> Result<ObjId, DocumentError> {
    match doc.get(object, key)? {
        Some((Value::Object(ObjType::Map), id)) => Ok(id),
        Some(_) => Err(DocumentError::WrongFieldType { field: field.to_owned(), expected: "a map" }),
        None => Err(DocumentError::MissingField { field: field.to_owned() }),
    }
}

pub(crate) fn invalid(field: &str, value: &str, hint: &'static str) -> DocumentError {
    DocumentError::InvalidValue { field: field.to_owned(), value: value.to_owned(), hint }
}

/// The fields of one map, read in a single pass (`map_range`), which costs a sixth of a
/// lookup per field on large documents. Every error names the field's full path.
pub(crate) struct Fields<'a> {
    doc: &'a AutoCommit,
    path: String,
    values: Vec<(String, Value<'static>, ObjId)>,
}

impl<'a> Fields<'a> {
    pub(crate) fn of(doc: &'a AutoCommit, object: &ObjId, path: &str) -> Fields<'a> {
        let values = doc.map_range(object, ..).map(|item| (item.key.to_string(), Value::from(item.value.clone()), item.id())).collect();
        Fields { doc, path: path.to_owned(), values }
    }

    /// The path of `key` for messages: `events.e1.kind`.
    pub(crate) fn path(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_owned() } else { format!("{}.{key}", self.path) }
    }

    fn get(&self, key: &str) -> Option<&(String, Value<'static>, ObjId)> {
        self.values.iter().find(|(name, _, _)| name == key)
    }

    fn wrong(&self, key: &str, expected: &'static str) -> DocumentError {
        DocumentError::WrongFieldType { field: self.path(key), expected }
    }

    fn missing(&self, key: &str) -> DocumentError {
        DocumentError::MissingField { field: self.path(key) }
    }

    pub(crate) fn optional_str(&self, key: &str) -> Result<Option<String>, DocumentError> {
        match self.get(key) {
            None => Ok(None),
            Some((_, value, _)) => value.as_str().map(|text| Some(text.to_owned())).ok_or_else(|| self.wrong(key, "a string")),
        }
    }

    pub(crate) fn str(&self, key: &str) -> Result<String, DocumentError> {
        self.optional_str(key)?.ok_or_else(|| self.missing(key))
    }

    pub(crate) fn optional_i64(&self, key: &str) -> Result<Option<i64>, DocumentError> {
        match self.get(key) {
            None => Ok(None),
            Some((_, value, _)) => value.as_i64().map(Some).ok_or_else(|| self.wrong(key, "an integer")),
        }
    }

    pub(crate) fn i64(&self, key: &str) -> Result<i64, DocumentError> {
        self.optional_i64(key)?.ok_or_else(|| self.missing(key))
    }

    /// A flag; absent means false.
    pub(crate) fn bool(&self, key: &str) -> Result<bool, DocumentError> {
        match self.get(key) {
            None => Ok(false),
            Some((_, value, _)) => value.as_bool().ok_or_else(|| self.wrong(key, "true or false")),
        }
    }

    pub(crate) fn time(&self, key: &str) -> Result<Timestamp, DocumentError> {
        self.i64(key).map(Timestamp::from_millis)
    }

    pub(crate) fn optional_time(&self, key: &str) -> Result<Option<Timestamp>, DocumentError> {
        Ok(self.optional_i64(key)?.map(Timestamp::from_millis))
    }

    pub(crate) fn user(&self, key: &str) -> Result<Username, DocumentError> {
        let value = self.str(key)?;
        Username::parse(&value).map_err(|_| invalid(&self.path(key), &value, "a user name"))
    }

    pub(crate) fn id(&self, key: &str) -> Result<EntryId, DocumentError> {
        let value = self.str(key)?;
        EntryId::parse(&value).map_err(|_| invalid(&self.path(key), &value, "an entry id"))
    }

    pub(crate) fn optional_id(&self, key: &str) -> Result<Option<EntryId>, DocumentError> {
        match self.optional_str(key)? {
            None => Ok(None),
            Some(value) => EntryId::parse(&value).map(Some).map_err(|_| invalid(&self.path(key), &value, "an entry id")),
        }
    }

    /// Text stored as Automerge `Text`, or as a string by other clients.
    pub(crate) fn optional_text(&self, key: &str) -> Result<Option<String>, DocumentError> {
        match self.get(key) {
            None => Ok(None),
            Some((_, Value::Object(ObjType::Text), id)) => Ok(Some(self.doc.text(id)?)),
            Some((_, value, _)) => value.as_str().map(|text| Some(text.to_owned())).ok_or_else(|| self.wrong(key, "text")),
        }
    }

    /// The map at `key`, if present.
    pub(crate) fn optional_map(&self, key: &str) -> Result<Option<ObjId>, DocumentError> {
        match self.get(key) {
            None => Ok(None),
            Some((_, Value::Object(ObjType::Map), id)) => Ok(Some(id.clone())),
            Some(_) => Err(self.wrong(key, "a map")),
        }
    }

    pub(crate) fn map(&self, key: &str) -> Result<ObjId, DocumentError> {
        self.optional_map(key)?.ok_or_else(|| self.missing(key))
    }

    /// The fields of the map at `key`.
    pub(crate) fn fields(&self, key: &str) -> Result<Fields<'a>, DocumentError> {
        let map = self.map(key)?;
        Ok(Fields::of(self.doc, &map, &self.path(key)))
    }

    /// Every entry of the map at `key`, keyed by entry id, in key order.
    pub(crate) fn entries<T>(
        &self,
        key: &str,
        read: impl Fn(EntryId, &Fields<'a>) -> Result<T, DocumentError>,
    ) -> Result<Vec<T>, DocumentError> {
        self.entries_only(key, None, read)
    }

    /// Every entry of the map at `key` whose values are maps (those `only` names, or all),
    /// with their keys, in key order.
    pub(crate) fn keyed_only<T>(
        &self,
        key: &str,
        only: Option<&BTreeSet<String>>,
        read: impl Fn(&str, &Fields<'a>) -> Result<T, DocumentError>,
    ) -> Result<Vec<T>, DocumentError> {
        let mut values = Vec::new();
        self.each_entry(&self.map(key)?, &self.path(key), only, |entry, fields| {
            values.push(read(entry, &fields?)?);
            Ok(())
        })?;
        Ok(values)
    }

    /// Calls `visit` with each entry of `map` at `path` (those `only` names, or all, in key
    /// order) and its fields, or why an entry that is not a map has none; stops at the
    /// first error `visit` returns.
    fn each_entry(
        &self,
        map: &ObjId,
        path: &str,
        only: Option<&BTreeSet<String>>,
        mut visit: impl FnMut(&str, Result<Fields<'a>, DocumentError>) -> Result<(), DocumentError>,
    ) -> Result<(), DocumentError> {
        let mut entry = |entry: &str, is_map: bool, id: ObjId| {
            let entry_path = format!("{path}.{entry}");
            let fields = if is_map {
                Ok(Fields::of(self.doc, &id, &entry_path))
            } else {
                Err(DocumentError::WrongFieldType { field: entry_path, expected: "a map" })
            };
            visit(entry, fields)
        };
        match only {
            None => {
                for item in self.doc.map_range(map, ..) {
                    entry(&item.key, matches!(item.value, ValueRef::Object(ObjType::Map)), item.id())?;
                }
            }
            Some(keys) => {
                for key in keys {
                    if let Some((value, id)) = self.doc.get(map, key.as_str())? {
                        entry(key, matches!(value, Value::Object(ObjType::Map)), id)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Like [`Fields::entries`], reading only the entries `only` names (those there), or all.
    pub(crate) fn entries_only<T>(
        &self,
        key: &str,
        only: Option<&BTreeSet<String>>,
        read: impl Fn(EntryId, &Fields<'a>) -> Result<T, DocumentError>,
    ) -> Result<Vec<T>, DocumentError> {
        self.keyed_only(key, only, |entry_key, fields| {
            let id = EntryId::parse(entry_key).map_err(|_| invalid(&self.path(key), entry_key, "an entry id"))?;
            read(id, fields)
        })
    }

    /// Like [`Fields::entries`], but an entry that does not read is left out and reported
    /// in `unreadable`, as is a section that is not a map (read as empty): one bad entry
    /// hides itself, not the document.
    pub(crate) fn entries_forgiving<T>(
        &self,
        key: &str,
        read: impl Fn(EntryId, &Fields<'a>) -> Result<T, DocumentError>,
        unreadable: &mut Vec<UnreadableEntry>,
    ) -> Vec<T> {
        self.keyed_forgiving(
            key,
            |entry_key, fields| {
                let id = EntryId::parse(entry_key).map_err(|_| invalid(&self.path(key), entry_key, "an entry id"))?;
                read(id, fields)
            },
            unreadable,
        )
    }

    /// Like [`Fields::keyed_only`] of all entries, forgiving as [`Fields::entries_forgiving`] is.
    pub(crate) fn keyed_forgiving<T>(
        &self,
        key: &str,
        read: impl Fn(&str, &Fields<'a>) -> Result<T, DocumentError>,
        unreadable: &mut Vec<UnreadableEntry>,
    ) -> Vec<T> {
        let map = match self.map(key) {
            Ok(map) => map,
            Err(error) => {
                unreadable.push(UnreadableEntry { section: key.to_owned(), key: None, error });
                return Vec::new();
            }
        };
        let mut values = Vec::new();
        let visited = self.each_entry(&map, &self.path(key), None, |entry, fields| {
            match fields.and_then(|fields| read(entry, &fields)) {
                Ok(value) => values.push(value),
                Err(error) => unreadable.push(UnreadableEntry { section: key.to_owned(), key: Some(entry.to_owned()), error }),
            }
            Ok(())
        });
        debug_assert!(visited.is_ok(), "a visit that never fails");
        values
    }

    /// Every scalar of the map at `key`, with its key, in key order.
    pub(crate) fn scalars(&self, key: &str) -> Result<Vec<(String, Value<'static>)>, DocumentError> {
        let fields = self.fields(key)?;
        Ok(fields.values.into_iter().map(|(name, value, _)| (name, value)).collect())
    }
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
            (
                document(&header_fields("invoice", 1)),
                "unknown document type \"invoice\": expected one of site_catalog, checklist_template, inspection, work_order, stocktake",
            ),
            (document(&header_fields("stocktake", 1)), "expected a work_order document, found stocktake"),
            (document(&header_fields("work_order", 9)), "work_order schema 9 is newer than this app understands (3): update the app"),
            (document(&header_fields("work_order", 1)), "field \"title\" is missing"),
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
    fn the_site_is_read_even_from_a_newer_schema() {
        assert_eq!(read_site(&document(&header_fields("work_order", 9))), Some(SiteId::parse("hq").unwrap()));
        assert_eq!(read_site(&document(&[("site", "Head Office".into())])), None);
        assert_eq!(read_site(&document(&[])), None);
        let mut as_text = AutoCommit::new();
        put_text(&mut as_text, &ROOT, "site", "plant2");
        assert_eq!(read_site(&as_text), Some(SiteId::parse("plant2").unwrap()), "as JavaScript writes strings");
    }

    #[test]
    fn blob_references_are_found_at_any_depth() {
        let photo = BlobRef::new(&"ab".repeat(32), 48_213, "image/jpeg").unwrap();
        let signature = BlobRef::new(&"cd".repeat(32), 2_100, "image/svg+xml").unwrap();
        let mut doc = document(&header_fields("inspection", 1));
        let answers = put_map(&mut doc, &ROOT, "answers");
        let answer = put_map(&mut doc, &answers, "a1");
        let photos = doc.put_object(&answer, "photos", ObjType::List).unwrap();
        let first = doc.insert_object(&photos, 0, ObjType::Map).unwrap();
        photo.write(&mut doc, &first);
        let broken = doc.insert_object(&photos, 1, ObjType::Map).unwrap();
        put(&mut doc, &broken, "sha256", "not a hash");
        put(&mut doc, &broken, "size", 1i64);
        put(&mut doc, &broken, "mime", "image/jpeg");
        let signed = put_map(&mut doc, &ROOT, "signature");
        signature.write(&mut doc, &signed);
        put_text(&mut doc, &ROOT, "note", "sha256");
        // A round's copy of its checklist is not walked: none of its files are indexed.
        let checklist = put_map(&mut doc, &ROOT, "checklist");
        let item = put_map(&mut doc, &checklist, "i1");
        BlobRef::new(&"ef".repeat(32), 900, "image/png").unwrap().write(&mut doc, &item);
        let mut found = blob_refs(&doc);
        found.sort_by(|a, b| a.sha256.cmp(&b.sha256));
        assert_eq!(found, [photo, signature]);
        assert!(blob_refs(&document(&header_fields("work_order", 1))).is_empty());
    }

    #[test]
    fn editing_in_place_leaves_a_document_of_another_type_untouched() {
        let mut doc = document(&header_fields("stocktake", 1));
        doc.commit();
        let heads = doc.get_heads();
        let refused = WorkOrder::edit_in(&mut doc, |_| unreachable!("not a work order"));
        assert!(matches!(refused, Err(DocumentError::WrongType { .. })));
        assert_eq!(doc.get_heads(), heads);
        assert_eq!(read_site(&doc).map(|site| site.to_string()).as_deref(), Some("hq"), "still there");
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
