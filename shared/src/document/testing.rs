//! Shorthands for the document modules' tests.

use super::{Edit, EntryId};
use crate::directory::Username;
use crate::time::Timestamp;

/// An edit by `user` at `at` milliseconds.
pub(crate) fn edit(user: &str, at: i64) -> Edit {
    Edit::new(Username::parse(user).unwrap(), Timestamp::from_millis(at))
}

/// An entry id from a literal.
pub(crate) fn id(text: &str) -> EntryId {
    EntryId::parse(text).unwrap()
}
