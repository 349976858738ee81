//! A document's history: every change with its actor, the person it names, the device time
//! and a summary, in causal order.

use automerge::AutoCommit;

use crate::time::Timestamp;

/// One change of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The change hash, hex.
    pub hash: String,
    /// The Automerge actor (a device's copy of the document), hex.
    pub actor: String,
    /// The person Houqin's app named in the change. The server binds each actor to the
    /// authenticated user who first sent it, which is the authoritative answer to "who".
    pub user: Option<String>,
    /// The device's clock when the change was made, to the second.
    pub at: Timestamp,
    /// What the change did, in a few words.
    pub summary: String,
    pub operations: u64,
}

/// The history of `doc`, oldest first (a topological order: causes before effects).
pub fn history(doc: &mut AutoCommit) -> Vec<HistoryEntry> {
    doc.get_changes(&[])
        .into_iter()
        .map(|change| {
            let (user, summary) = split_message(change.message());
            HistoryEntry {
                hash: change.hash().to_string(),
                actor: change.actor_id().to_hex_string(),
                user,
                at: Timestamp::from_millis(change.timestamp().saturating_mul(1000)),
                summary: summary.unwrap_or_else(|| format!("{} operations", change.len())),
                operations: change.len() as u64,
            }
        })
        .collect()
}

/// Splits Houqin's change message `"user: summary"`; other clients' messages are summaries.
pub(crate) fn split_message(message: Option<&str>) -> (Option<String>, Option<String>) {
    match message {
        None => (None, None),
        Some(message) => match message.split_once(": ") {
            Some((user, summary)) if crate::directory::Username::parse(user).is_ok() => (Some(user.to_owned()), Some(summary.to_owned())),
            _ => (None, Some(message.to_owned())),
        },
    }
}
