//! The automerge-repo v1 wire protocol: one CBOR map per WebSocket binary frame.
//!
//! Decoding accepts what real peers send — non-shortest CBOR lengths, `undefined` for an
//! absent storage id, keys in any order, keys we do not know (skipped) — and refuses the
//! rest with a typed error: truncated input, wrong types, unknown message types, missing
//! fields, frames over the size limit. Encoding writes shortest-form CBOR.

use minicbor::data::Type;
use minicbor::{Decoder, Encoder};

use super::document_id::DocumentId;

/// The one protocol version there is.
pub const PROTOCOL_VERSION: &str = "1";

/// A peer's id for the life of its connection (a browser tab, a server process).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeerId(pub String);

/// What a peer says about its storage in `join` and `peer`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerMetadata {
    /// Identifies persistent storage (an IndexedDB) across connections.
    pub storage_id: Option<String>,
    pub is_ephemeral: bool,
}

/// The heads a storage id has of a document, gossiped in `remote-heads-changed`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteHeads {
    pub storage_id: String,
    /// Base64 change hashes, as the protocol writes them.
    pub heads: Vec<String>,
    pub timestamp: u64,
}

/// Why the server refused a peer's changes: a stable code (`shared::document::policy`)
/// and the English explanation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: String,
    pub reason: String,
}

/// One protocol message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Join {
        sender: PeerId,
        supported_versions: Vec<String>,
        metadata: Option<PeerMetadata>,
    },
    Peer {
        sender: PeerId,
        target: PeerId,
        selected_version: String,
        metadata: Option<PeerMetadata>,
    },
    Leave {
        sender: PeerId,
    },
    /// Like `Sync`, but asks for `DocUnavailable` if the target does not have the document.
    Request {
        sender: PeerId,
        target: PeerId,
        document: DocumentId,
        data: Vec<u8>,
    },
    Sync {
        sender: PeerId,
        target: PeerId,
        document: DocumentId,
        data: Vec<u8>,
    },
    /// `refusal` is Houqin's addition (keys `reasonCode` and `reason`, which other peers
    /// ignore): changes of a document the peer may read were refused, and why.
    DocUnavailable {
        sender: PeerId,
        target: PeerId,
        document: DocumentId,
        refusal: Option<Refusal>,
    },
    Ephemeral {
        sender: PeerId,
        target: PeerId,
        document: DocumentId,
        session: String,
        count: u64,
        data: Vec<u8>,
    },
    Error {
        message: String,
    },
    RemoteSubscriptionChange {
        sender: PeerId,
        target: PeerId,
        add: Vec<String>,
        remove: Vec<String>,
    },
    RemoteHeadsChanged {
        sender: PeerId,
        target: PeerId,
        document: DocumentId,
        new_heads: Vec<RemoteHeads>,
    },
}

impl Message {
    /// The `type` string on the wire.
    pub const fn type_name(&self) -> &'static str {
        match self {
            Message::Join { .. } => "join",
            Message::Peer { .. } => "peer",
            Message::Leave { .. } => "leave",
            Message::Request { .. } => "request",
            Message::Sync { .. } => "sync",
            Message::DocUnavailable { .. } => "doc-unavailable",
            Message::Ephemeral { .. } => "ephemeral",
            Message::Error { .. } => "error",
            Message::RemoteSubscriptionChange { .. } => "remote-subscription-change",
            Message::RemoteHeadsChanged { .. } => "remote-heads-changed",
        }
    }

    /// The document the message is about, if any.
    pub fn document(&self) -> Option<DocumentId> {
        match self {
            Message::Request { document, .. }
            | Message::Sync { document, .. }
            | Message::DocUnavailable { document, .. }
            | Message::Ephemeral { document, .. }
            | Message::RemoteHeadsChanged { document, .. } => Some(*document),
            _ => None,
        }
    }
}

/// Why a frame could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("frame of {size} bytes is over the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },
    #[error("malformed CBOR at byte {position}: {reason}")]
    Cbor { position: usize, reason: String },
    #[error("a message must be a CBOR map, found {found}")]
    NotAMap { found: String },
    #[error("message has no \"type\"")]
    MissingType,
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    #[error("{message_type} message lacks {field:?}")]
    MissingField { message_type: &'static str, field: &'static str },
    #[error("field {field:?} should be {expected}, found {found}")]
    WrongType { field: String, expected: &'static str, found: String },
    #[error("field \"documentId\": {0}")]
    DocumentId(#[from] super::document_id::InvalidDocumentId),
    #[error("{0} trailing bytes after the message")]
    TrailingBytes(usize),
}

fn cbor_error(decoder: &Decoder<'_>, error: minicbor::decode::Error) -> DecodeError {
    DecodeError::Cbor { position: decoder.position(), reason: error.to_string() }
}

/// A decoded value of a message field; nested values stay as raw positions to decode later.
enum Value<'b> {
    Text(&'b str),
    Bytes(&'b [u8]),
    Bool(bool),
    Unsigned(u64),
    Absent,
    Texts(Vec<&'b str>),
    Heads(Vec<RemoteHeads>),
    Metadata(PeerMetadata),
}

fn describe(value: &Value<'_>) -> String {
    match value {
        Value::Text(_) => "a string".into(),
        Value::Bytes(_) => "bytes".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Unsigned(_) => "an integer".into(),
        Value::Absent => "null or undefined".into(),
        Value::Texts(_) => "an array of strings".into(),
        Value::Heads(_) => "a map of heads".into(),
        Value::Metadata(_) => "peer metadata".into(),
    }
}

fn type_name(kind: Type) -> String {
    format!("{kind:?}").to_lowercase()
}

/// Reads a string, whatever the width of its length header.
fn text<'b>(decoder: &mut Decoder<'b>, field: &str) -> Result<&'b str, DecodeError> {
    match decoder.datatype().map_err(|error| cbor_error(decoder, error))? {
        Type::String => decoder.str().map_err(|error| cbor_error(decoder, error)),
        other => Err(DecodeError::WrongType { field: field.to_owned(), expected: "a string", found: type_name(other) }),
    }
}

fn skip(decoder: &mut Decoder<'_>) -> Result<(), DecodeError> {
    decoder.skip().map_err(|error| cbor_error(decoder, error))
}

/// Reads a value of a known field; nested structures are decoded by their own shape.
fn value<'b>(decoder: &mut Decoder<'b>, key: &str) -> Result<Value<'b>, DecodeError> {
    let kind = decoder.datatype().map_err(|error| cbor_error(decoder, error))?;
    let wrong = |expected| DecodeError::WrongType { field: key.to_owned(), expected, found: type_name(kind) };
    let value = match kind {
        Type::String => Value::Text(decoder.str().map_err(|error| cbor_error(decoder, error))?),
        Type::Bytes => Value::Bytes(decoder.bytes().map_err(|error| cbor_error(decoder, error))?),
        Type::Bool => Value::Bool(decoder.bool().map_err(|error| cbor_error(decoder, error))?),
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => Value::Unsigned(decoder.u64().map_err(|error| cbor_error(decoder, error))?),
        Type::Null | Type::Undefined => {
            skip(decoder)?;
            Value::Absent
        }
        Type::Array | Type::ArrayIndef => {
            let mut items = Vec::new();
            let length = decoder.array().map_err(|error| cbor_error(decoder, error))?;
            let mut index = 0u64;
            loop {
                match length {
                    Some(length) if index == length => break,
                    None if decoder.datatype().map_err(|error| cbor_error(decoder, error))? == Type::Break => {
                        skip(decoder)?;
                        break;
                    }
                    _ => {}
                }
                items.push(text(decoder, key)?);
                index += 1;
            }
            Value::Texts(items)
        }
        Type::Map | Type::MapIndef if key == "metadata" || key == "peerMetadata" => Value::Metadata(metadata(decoder)?),
        Type::Map | Type::MapIndef if key == "newHeads" => Value::Heads(heads(decoder)?),
        Type::Map | Type::MapIndef => return Err(wrong("not a map")),
        _ => return Err(wrong("a string, bytes, boolean, integer or array")),
    };
    Ok(value)
}

/// Calls `each(key, decoder)` for every entry of the map at the decoder's position.
fn for_each_entry<'b>(
    decoder: &mut Decoder<'b>,
    context: &str,
    mut each: impl FnMut(&'b str, &mut Decoder<'b>) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    let kind = decoder.datatype().map_err(|error| cbor_error(decoder, error))?;
    if !matches!(kind, Type::Map | Type::MapIndef) {
        return Err(DecodeError::WrongType { field: context.to_owned(), expected: "a map", found: type_name(kind) });
    }
    let length = decoder.map().map_err(|error| cbor_error(decoder, error))?;
    let mut index = 0u64;
    loop {
        match length {
            Some(length) if index == length => return Ok(()),
            None if decoder.datatype().map_err(|error| cbor_error(decoder, error))? == Type::Break => {
                skip(decoder)?;
                return Ok(());
            }
            _ => {}
        }
        let key = text(decoder, context)?;
        each(key, decoder)?;
        index += 1;
    }
}

fn metadata(decoder: &mut Decoder<'_>) -> Result<PeerMetadata, DecodeError> {
    let mut metadata = PeerMetadata::default();
    for_each_entry(decoder, "metadata", |key, decoder| {
        match (key, value(decoder, key)?) {
            ("storageId", Value::Text(storage)) => metadata.storage_id = Some(storage.to_owned()),
            ("storageId", Value::Absent) => metadata.storage_id = None,
            ("isEphemeral", Value::Bool(ephemeral)) => metadata.is_ephemeral = ephemeral,
            ("storageId" | "isEphemeral", other) => {
                return Err(DecodeError::WrongType {
                    field: format!("metadata.{key}"),
                    expected: "a string or boolean",
                    found: describe(&other),
                });
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(metadata)
}

fn heads(decoder: &mut Decoder<'_>) -> Result<Vec<RemoteHeads>, DecodeError> {
    let mut all = Vec::new();
    for_each_entry(decoder, "newHeads", |storage_id, decoder| {
        let mut entry = RemoteHeads { storage_id: storage_id.to_owned(), heads: Vec::new(), timestamp: 0 };
        for_each_entry(decoder, "newHeads", |key, decoder| {
            match (key, value(decoder, key)?) {
                ("heads", Value::Texts(heads)) => entry.heads = heads.into_iter().map(str::to_owned).collect(),
                ("timestamp", Value::Unsigned(timestamp)) => entry.timestamp = timestamp,
                ("heads" | "timestamp", other) => {
                    return Err(DecodeError::WrongType {
                        field: format!("newHeads.{key}"),
                        expected: "heads and a timestamp",
                        found: describe(&other),
                    });
                }
                _ => {}
            }
            Ok(())
        })?;
        all.push(entry);
        Ok(())
    })?;
    Ok(all)
}

/// Decodes one frame, refusing frames over `limit` bytes before reading them.
pub fn decode(frame: &[u8], limit: usize) -> Result<Message, DecodeError> {
    if frame.len() > limit {
        return Err(DecodeError::TooLarge { size: frame.len(), limit });
    }
    let mut decoder = Decoder::new(frame);
    let kind = decoder.datatype().map_err(|error| cbor_error(&decoder, error))?;
    if !matches!(kind, Type::Map | Type::MapIndef) {
        return Err(DecodeError::NotAMap { found: type_name(kind) });
    }
    let mut fields: Vec<(&str, Value<'_>)> = Vec::new();
    for_each_entry(&mut decoder, "message", |key, decoder| {
        const KNOWN: [&str; 18] = [
            "type",
            "senderId",
            "targetId",
            "documentId",
            "data",
            "supportedProtocolVersions",
            "selectedProtocolVersion",
            "metadata",
            "message",
            "count",
            "sessionId",
            "add",
            "remove",
            "newHeads",
            "peerMetadata",
            "storageId",
            "reasonCode",
            "reason",
        ];
        if KNOWN.contains(&key) {
            fields.push((key, value(decoder, key)?));
        } else {
            skip(decoder)?;
        }
        Ok(())
    })?;
    let trailing = frame.len() - decoder.position();
    if trailing > 0 {
        return Err(DecodeError::TrailingBytes(trailing));
    }
    Fields { fields, message_type: "message" }.into_message()
}

struct Fields<'b> {
    fields: Vec<(&'b str, Value<'b>)>,
    message_type: &'static str,
}

impl<'b> Fields<'b> {
    fn take(&mut self, key: &str) -> Option<Value<'b>> {
        let index = self.fields.iter().position(|(name, _)| *name == key)?;
        Some(self.fields.swap_remove(index).1)
    }

    fn missing(&self, field: &'static str) -> DecodeError {
        DecodeError::MissingField { message_type: self.message_type, field }
    }

    fn text(&mut self, key: &'static str) -> Result<String, DecodeError> {
        match self.take(key) {
            Some(Value::Text(text)) => Ok(text.to_owned()),
            None | Some(Value::Absent) => Err(self.missing(key)),
            Some(other) => Err(DecodeError::WrongType { field: key.to_owned(), expected: "a string", found: describe(&other) }),
        }
    }

    fn optional_text(&mut self, key: &'static str) -> Result<Option<String>, DecodeError> {
        match self.take(key) {
            None | Some(Value::Absent) => Ok(None),
            Some(Value::Text(text)) => Ok(Some(text.to_owned())),
            Some(other) => Err(DecodeError::WrongType { field: key.to_owned(), expected: "a string", found: describe(&other) }),
        }
    }

    fn peer(&mut self, key: &'static str) -> Result<PeerId, DecodeError> {
        self.text(key).map(PeerId)
    }

    fn document(&mut self) -> Result<DocumentId, DecodeError> {
        Ok(DocumentId::parse(&self.text("documentId")?)?)
    }

    fn bytes(&mut self, key: &'static str) -> Result<Vec<u8>, DecodeError> {
        match self.take(key) {
            Some(Value::Bytes(bytes)) => Ok(bytes.to_vec()),
            None | Some(Value::Absent) => Err(self.missing(key)),
            Some(other) => Err(DecodeError::WrongType { field: key.to_owned(), expected: "bytes", found: describe(&other) }),
        }
    }

    fn texts(&mut self, key: &'static str) -> Result<Vec<String>, DecodeError> {
        match self.take(key) {
            Some(Value::Texts(texts)) => Ok(texts.into_iter().map(str::to_owned).collect()),
            None | Some(Value::Absent) => Ok(Vec::new()),
            Some(other) => Err(DecodeError::WrongType { field: key.to_owned(), expected: "an array of strings", found: describe(&other) }),
        }
    }

    fn metadata(&mut self) -> Result<Option<PeerMetadata>, DecodeError> {
        match self.take("metadata").or_else(|| self.take("peerMetadata")) {
            Some(Value::Metadata(metadata)) => Ok(Some(metadata)),
            None | Some(Value::Absent) => Ok(None),
            Some(other) => Err(DecodeError::WrongType { field: "metadata".to_owned(), expected: "a map", found: describe(&other) }),
        }
    }

    fn into_message(mut self) -> Result<Message, DecodeError> {
        let message_type = match self.take("type") {
            Some(Value::Text(name)) => name,
            None => return Err(DecodeError::MissingType),
            Some(other) => return Err(DecodeError::WrongType { field: "type".to_owned(), expected: "a string", found: describe(&other) }),
        };
        self.message_type = match message_type {
            "join" => "join",
            "peer" => "peer",
            "leave" => "leave",
            "request" => "request",
            "sync" => "sync",
            "doc-unavailable" => "doc-unavailable",
            "ephemeral" => "ephemeral",
            "error" => "error",
            "remote-subscription-change" => "remote-subscription-change",
            "remote-heads-changed" => "remote-heads-changed",
            other => return Err(DecodeError::UnknownType(other.to_owned())),
        };
        let message = match self.message_type {
            "join" => Message::Join {
                sender: self.peer("senderId")?,
                supported_versions: self.texts("supportedProtocolVersions")?,
                metadata: self.metadata()?,
            },
            "peer" => Message::Peer {
                sender: self.peer("senderId")?,
                target: self.peer("targetId")?,
                selected_version: self.text("selectedProtocolVersion")?,
                metadata: self.metadata()?,
            },
            "leave" => Message::Leave { sender: self.peer("senderId")? },
            "request" => Message::Request {
                sender: self.peer("senderId")?,
                target: self.peer("targetId")?,
                document: self.document()?,
                data: self.bytes("data")?,
            },
            "sync" => Message::Sync {
                sender: self.peer("senderId")?,
                target: self.peer("targetId")?,
                document: self.document()?,
                data: self.bytes("data")?,
            },
            "doc-unavailable" => Message::DocUnavailable {
                sender: self.peer("senderId")?,
                target: self.peer("targetId")?,
                document: self.document()?,
                refusal: match (self.optional_text("reasonCode")?, self.optional_text("reason")?) {
                    (Some(code), reason) => Some(Refusal { code, reason: reason.unwrap_or_default() }),
                    (None, _) => None,
                },
            },
            "ephemeral" => Message::Ephemeral {
                sender: self.peer("senderId")?,
                target: self.peer("targetId")?,
                document: self.document()?,
                session: self.text("sessionId")?,
                count: match self.take("count") {
                    Some(Value::Unsigned(count)) => count,
                    None | Some(Value::Absent) => return Err(self.missing("count")),
                    Some(other) => {
                        return Err(DecodeError::WrongType { field: "count".to_owned(), expected: "an integer", found: describe(&other) });
                    }
                },
                data: self.bytes("data")?,
            },
            "error" => Message::Error { message: self.text("message")? },
            "remote-subscription-change" => Message::RemoteSubscriptionChange {
                sender: self.peer("senderId")?,
                target: self.peer("targetId")?,
                add: self.texts("add")?,
                remove: self.texts("remove")?,
            },
            _ => Message::RemoteHeadsChanged {
                sender: self.peer("senderId")?,
                target: self.peer("targetId")?,
                document: self.document()?,
                new_heads: match self.take("newHeads") {
                    Some(Value::Heads(heads)) => heads,
                    None | Some(Value::Absent) => return Err(self.missing("newHeads")),
                    Some(other) => {
                        return Err(DecodeError::WrongType { field: "newHeads".to_owned(), expected: "a map", found: describe(&other) });
                    }
                },
            },
        };
        Ok(message)
    }
}

/// Encodes a message as one frame.
pub fn encode(message: &Message) -> Vec<u8> {
    let mut encoder = Encoder::new(Vec::new());
    write(&mut encoder, message).expect("writing CBOR into a Vec cannot fail");
    encoder.into_writer()
}

type EncodeResult = Result<(), minicbor::encode::Error<std::convert::Infallible>>;

fn write(e: &mut Encoder<Vec<u8>>, message: &Message) -> EncodeResult {
    let with_metadata = |metadata: &Option<PeerMetadata>| usize::from(metadata.is_some());
    match message {
        Message::Join { sender, supported_versions, metadata } => {
            e.map(3 + with_metadata(metadata) as u64)?;
            e.str("type")?.str("join")?.str("senderId")?.str(&sender.0)?;
            e.str("supportedProtocolVersions")?.array(supported_versions.len() as u64)?;
            for version in supported_versions {
                e.str(version)?;
            }
            write_metadata(e, metadata)
        }
        Message::Peer { sender, target, selected_version, metadata } => {
            e.map(4 + with_metadata(metadata) as u64)?;
            e.str("type")?.str("peer")?.str("senderId")?.str(&sender.0)?.str("targetId")?.str(&target.0)?;
            e.str("selectedProtocolVersion")?.str(selected_version)?;
            write_metadata(e, metadata)
        }
        Message::Leave { sender } => {
            e.map(2)?.str("type")?.str("leave")?.str("senderId")?.str(&sender.0)?;
            Ok(())
        }
        Message::Request { sender, target, document, data } | Message::Sync { sender, target, document, data } => {
            e.map(5)?.str("type")?.str(message.type_name())?;
            e.str("senderId")?.str(&sender.0)?.str("targetId")?.str(&target.0)?;
            e.str("documentId")?.str(&document.to_string())?.str("data")?.bytes(data)?;
            Ok(())
        }
        Message::DocUnavailable { sender, target, document, refusal } => {
            e.map(if refusal.is_some() { 6 } else { 4 })?.str("type")?.str("doc-unavailable")?;
            e.str("senderId")?.str(&sender.0)?.str("targetId")?.str(&target.0)?.str("documentId")?.str(&document.to_string())?;
            if let Some(refusal) = refusal {
                e.str("reasonCode")?.str(&refusal.code)?.str("reason")?.str(&refusal.reason)?;
            }
            Ok(())
        }
        Message::Ephemeral { sender, target, document, session, count, data } => {
            e.map(7)?.str("type")?.str("ephemeral")?;
            e.str("senderId")?.str(&sender.0)?.str("targetId")?.str(&target.0)?.str("documentId")?.str(&document.to_string())?;
            e.str("sessionId")?.str(session)?.str("count")?.u64(*count)?.str("data")?.bytes(data)?;
            Ok(())
        }
        Message::Error { message } => {
            e.map(2)?.str("type")?.str("error")?.str("message")?.str(message)?;
            Ok(())
        }
        Message::RemoteSubscriptionChange { sender, target, add, remove } => {
            e.map(5)?.str("type")?.str("remote-subscription-change")?.str("senderId")?.str(&sender.0)?.str("targetId")?.str(&target.0)?;
            for (key, list) in [("add", add), ("remove", remove)] {
                e.str(key)?.array(list.len() as u64)?;
                for item in list {
                    e.str(item)?;
                }
            }
            Ok(())
        }
        Message::RemoteHeadsChanged { sender, target, document, new_heads } => {
            e.map(5)?.str("type")?.str("remote-heads-changed")?.str("senderId")?.str(&sender.0)?.str("targetId")?.str(&target.0)?;
            e.str("documentId")?.str(&document.to_string())?.str("newHeads")?.map(new_heads.len() as u64)?;
            for entry in new_heads {
                e.str(&entry.storage_id)?.map(2)?.str("heads")?.array(entry.heads.len() as u64)?;
                for head in &entry.heads {
                    e.str(head)?;
                }
                e.str("timestamp")?.u64(entry.timestamp)?;
            }
            Ok(())
        }
    }
}

fn write_metadata(e: &mut Encoder<Vec<u8>>, metadata: &Option<PeerMetadata>) -> EncodeResult {
    if let Some(metadata) = metadata {
        // The spec's cddl says `metadata`; the reference implementation sends and reads
        // `peerMetadata`. We write what it reads and accept both.
        e.str("peerMetadata")?.map(1 + u64::from(metadata.storage_id.is_some()))?;
        if let Some(storage) = &metadata.storage_id {
            e.str("storageId")?.str(storage)?;
        }
        e.str("isEphemeral")?.bool(metadata.is_ephemeral)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 1 << 20;

    fn peer(name: &str) -> PeerId {
        PeerId(name.to_owned())
    }

    fn document() -> DocumentId {
        DocumentId::from_random([0x5a; 16])
    }

    fn every_message() -> Vec<Message> {
        let metadata = Some(PeerMetadata { storage_id: Some("storage-1".into()), is_ephemeral: false });
        vec![
            Message::Join { sender: peer("phone"), supported_versions: vec!["1".into()], metadata: metadata.clone() },
            Message::Join { sender: peer("phone"), supported_versions: vec!["1".into()], metadata: None },
            Message::Peer {
                sender: peer("server"),
                target: peer("phone"),
                selected_version: "1".into(),
                metadata: Some(PeerMetadata { storage_id: None, is_ephemeral: true }),
            },
            Message::Leave { sender: peer("phone") },
            Message::Request { sender: peer("phone"), target: peer("server"), document: document(), data: vec![0x42, 1, 2] },
            Message::Sync { sender: peer("server"), target: peer("phone"), document: document(), data: Vec::new() },
            Message::DocUnavailable { sender: peer("server"), target: peer("phone"), document: document(), refusal: None },
            Message::DocUnavailable {
                sender: peer("server"),
                target: peer("phone"),
                document: document(),
                refusal: Some(Refusal { code: "role".into(), reason: "role inspector may not dispatch an order".into() }),
            },
            Message::Ephemeral {
                sender: peer("phone"),
                target: peer("server"),
                document: document(),
                session: "s1".into(),
                count: 7,
                data: vec![0xa0],
            },
            Message::Error { message: "unsupported protocol version".into() },
            Message::RemoteSubscriptionChange {
                sender: peer("phone"),
                target: peer("server"),
                add: vec!["storage-2".into()],
                remove: Vec::new(),
            },
            Message::RemoteHeadsChanged {
                sender: peer("server"),
                target: peer("phone"),
                document: document(),
                new_heads: vec![RemoteHeads {
                    storage_id: "storage-2".into(),
                    heads: vec!["aGVhZA==".into()],
                    timestamp: 1_790_000_000_000,
                }],
            },
        ]
    }

    #[test]
    fn every_message_round_trips() {
        for message in every_message() {
            assert_eq!(decode(&encode(&message), LIMIT), Ok(message.clone()), "{}", message.type_name());
        }
    }

    /// CBOR as a lenient encoder may write it: every length in a wider header than needed,
    /// `undefined` for the storage id, an unknown key, keys out of order.
    #[test]
    fn non_shortest_lengths_undefined_and_unknown_keys_are_accepted() {
        fn text(out: &mut Vec<u8>, value: &str) {
            // Major type 3 with a two-byte length header, even for short strings.
            out.push(0x79);
            out.extend_from_slice(&(value.len() as u16).to_be_bytes());
            out.extend_from_slice(value.as_bytes());
        }
        let mut frame = vec![0xb8, 5]; // a map of 5 entries, length in a one-byte header
        text(&mut frame, "senderId");
        text(&mut frame, "phone-1");
        text(&mut frame, "somethingNew");
        frame.extend_from_slice(&[0x1a, 0, 0, 0, 1]); // an unknown key with a four-byte integer
        text(&mut frame, "supportedProtocolVersions");
        frame.extend_from_slice(&[0x98, 1]); // an array of one, in a one-byte header
        text(&mut frame, "1");
        text(&mut frame, "metadata");
        frame.push(0xa2);
        text(&mut frame, "storageId");
        frame.push(0xf7); // undefined
        text(&mut frame, "isEphemeral");
        frame.push(0xf4);
        text(&mut frame, "type");
        text(&mut frame, "join");
        assert_eq!(
            decode(&frame, LIMIT),
            Ok(Message::Join {
                sender: peer("phone-1"),
                supported_versions: vec!["1".into()],
                metadata: Some(PeerMetadata { storage_id: None, is_ephemeral: false }),
            })
        );
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        for message in every_message() {
            let frame = encode(&message);
            for length in 0..frame.len() {
                assert!(decode(&frame[..length], LIMIT).is_err(), "{} cut at {length}", message.type_name());
            }
        }
    }

    #[test]
    fn bad_frames_get_typed_errors() {
        let sync = encode(&every_message()[5]);
        let mut trailing = sync.clone();
        trailing.push(0);
        let mut unknown = Encoder::new(Vec::new());
        unknown.map(2).unwrap().str("type").unwrap().str("teleport").unwrap().str("senderId").unwrap().str("x").unwrap();
        let mut numeric_type = Encoder::new(Vec::new());
        numeric_type.map(1).unwrap().str("type").unwrap().u8(3).unwrap();
        let mut text_data = Encoder::new(Vec::new());
        text_data.map(5).unwrap();
        text_data
            .str("type")
            .unwrap()
            .str("sync")
            .unwrap()
            .str("senderId")
            .unwrap()
            .str("a")
            .unwrap()
            .str("targetId")
            .unwrap()
            .str("b")
            .unwrap();
        text_data.str("documentId").unwrap().str(&document().to_string()).unwrap().str("data").unwrap().str("not bytes").unwrap();
        let mut bad_document = Encoder::new(Vec::new());
        bad_document.map(4).unwrap().str("type").unwrap().str("doc-unavailable").unwrap().str("senderId").unwrap().str("a").unwrap();
        bad_document.str("targetId").unwrap().str("b").unwrap().str("documentId").unwrap().str("not-an-id").unwrap();
        let mut no_sender = Encoder::new(Vec::new());
        no_sender.map(1).unwrap().str("type").unwrap().str("leave").unwrap();

        let too_large = format!("frame of {} bytes is over the 10-byte limit", sync.len());
        let cases: Vec<(Vec<u8>, usize, &str)> = vec![
            (sync.clone(), 10, too_large.as_str()),
            (vec![0x83, 1, 2, 3], LIMIT, "a message must be a CBOR map, found array"),
            (vec![0xa0], LIMIT, "message has no \"type\""),
            (unknown.into_writer(), LIMIT, "unknown message type \"teleport\""),
            (numeric_type.into_writer(), LIMIT, "field \"type\" should be a string, found an integer"),
            (text_data.into_writer(), LIMIT, "field \"data\" should be bytes, found a string"),
            (no_sender.into_writer(), LIMIT, "leave message lacks \"senderId\""),
            (trailing, LIMIT, "1 trailing bytes after the message"),
        ];
        for (frame, limit, expected) in cases {
            assert_eq!(decode(&frame, limit).unwrap_err().to_string(), expected);
        }
        let error = decode(&bad_document.into_writer(), LIMIT).unwrap_err();
        assert!(matches!(error, DecodeError::DocumentId(_)), "{error}");
    }
}
