//! Points in time as devices record them. `shared` never reads a clock: every function that
//! needs "now" takes a [`Timestamp`] from its caller.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch (UTC), as read by the device that made the change.
/// Phones' clocks drift; times order events and measure durations, they do not decide merges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_millis(milliseconds: i64) -> Timestamp {
        Timestamp(milliseconds)
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Whole seconds since the epoch, rounded down: Automerge records change times in seconds.
    pub const fn as_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// The time `milliseconds` later (earlier if negative).
    pub const fn plus_millis(self, milliseconds: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(milliseconds))
    }

    /// Milliseconds from `earlier` to `self`, negative if `earlier` is later (clock skew).
    pub const fn millis_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}
