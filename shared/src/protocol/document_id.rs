//! Document ids as automerge-repo writes them: 16 bytes (a UUIDv4) in base58check, and
//! `automerge:<id>` URLs.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The identity of one Automerge document across every peer.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DocumentId([u8; 16]);

/// A string that is not a document id or URL.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid document id {value:?}: {reason}; expected base58check of 16 bytes, optionally as automerge:<id>")]
pub struct InvalidDocumentId {
    pub value: String,
    reason: &'static str,
}

const URL_PREFIX: &str = "automerge:";

impl DocumentId {
    /// A new random id from 16 random bytes the caller drew, marked as a version 4 UUID.
    pub fn from_random(mut bytes: [u8; 16]) -> DocumentId {
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        DocumentId(bytes)
    }

    pub const fn from_bytes(bytes: [u8; 16]) -> DocumentId {
        DocumentId(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses a bare id (`4NMNnkMhL8jXrdJ9jamS58PAVdXu`) or a URL (`automerge:4NMN…`).
    pub fn parse(text: &str) -> Result<DocumentId, InvalidDocumentId> {
        let error = |reason| InvalidDocumentId { value: text.chars().take(80).collect(), reason };
        let encoded = text.strip_prefix(URL_PREFIX).unwrap_or(text);
        // A URL may carry a heads suffix (`automerge:<id>#<heads>`): the id is before it.
        let encoded = encoded.split('#').next().unwrap_or_default();
        if encoded.is_empty() || encoded.len() > 40 {
            return Err(error("wrong length"));
        }
        let bytes = bs58::decode(encoded).with_check(None).into_vec().map_err(|failure| {
            error(match failure {
                bs58::decode::Error::InvalidChecksum { .. } => "bad checksum",
                bs58::decode::Error::InvalidCharacter { .. } => "not base58",
                _ => "not base58check",
            })
        })?;
        let bytes: [u8; 16] = bytes.try_into().map_err(|_| error("not 16 bytes"))?;
        Ok(DocumentId(bytes))
    }

    /// The `automerge:<id>` URL.
    pub fn url(&self) -> String {
        format!("{URL_PREFIX}{self}")
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).with_check().into_string())
    }
}

impl fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentId({self})")
    }
}

impl std::str::FromStr for DocumentId {
    type Err = InvalidDocumentId;
    fn from_str(text: &str) -> Result<DocumentId, InvalidDocumentId> {
        DocumentId::parse(text)
    }
}

impl Serialize for DocumentId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DocumentId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<DocumentId, D::Error> {
        let text = String::deserialize(deserializer)?;
        DocumentId::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_as_text_and_urls() {
        let id = DocumentId::from_random([0xab; 16]);
        assert_eq!(id.as_bytes()[6] >> 4, 4, "version 4");
        assert_eq!(id.as_bytes()[8] >> 6, 0b10, "RFC 4122 variant");
        let text = id.to_string();
        assert_eq!(DocumentId::parse(&text), Ok(id));
        assert_eq!(DocumentId::parse(&id.url()), Ok(id));
        assert_eq!(DocumentId::parse(&format!("{}#2DUY", id.url())), Ok(id));
        assert_eq!(id.url(), format!("automerge:{text}"));
    }

    #[test]
    fn malformed_ids_say_why() {
        let id = DocumentId::from_random([7; 16]).to_string();
        let mut tampered = id.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'2' { b'3' } else { b'2' };
        let tampered = String::from_utf8(tampered).unwrap();
        let short = bs58::encode([1, 2, 3]).with_check().into_string();
        let cases = [
            ("", "wrong length"),
            ("automerge:", "wrong length"),
            ("0OIl", "not base58"),
            (tampered.as_str(), "bad checksum"),
            (short.as_str(), "not 16 bytes"),
        ];
        for (input, reason) in cases {
            let error = DocumentId::parse(input).unwrap_err();
            assert!(error.to_string().contains(reason), "{input:?}: {error}");
        }
    }
}
