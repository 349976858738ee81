//! Free disk space, watched so that a full disk is an error and not a hang.
//!
//! sled does not survive running out of space: a write that meets ENOSPC spins inside
//! sled on the thread that made it, and flushes stay stuck after space returns. So the
//! server never lets it get there: before it stores anything (a sync change, a photo) it
//! asks [`DiskSpace::check`], which refuses while the file system holding the data has
//! less than the reserve free (`--min-free-mib`, 256 MiB). Refused work is not
//! acknowledged — a phone keeps its changes, an upload is answered 507 — reads and sign-in
//! go on, the condition is logged once when it begins and once when it ends, `/healthz`
//! and administrators see it, and the sync hub stores what waited as soon as space is back.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Free space kept back unless the server is told otherwise: room for sled's segments,
/// a snapshot and a compaction.
pub const DEFAULT_RESERVE: u64 = 256 << 20;

/// The data directory's file system, and the reserve kept free on it. Cloning shares it.
#[derive(Clone)]
pub struct DiskSpace {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    reserve: AtomicU64,
    /// Whether the last check found too little: the change is what gets logged.
    low: AtomicBool,
}

/// Too little space to store anything more.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("only {free} bytes free on the data's disk, under the {reserve} kept free")]
pub struct LowSpace {
    pub free: u64,
    pub reserve: u64,
}

impl DiskSpace {
    pub fn new(path: &Path, reserve: u64) -> DiskSpace {
        DiskSpace { inner: Arc::new(Inner { path: path.to_owned(), reserve: AtomicU64::new(reserve), low: AtomicBool::new(false) }) }
    }

    /// Sets the free space kept back, in bytes.
    pub fn set_reserve(&self, bytes: u64) {
        self.inner.reserve.store(bytes, Ordering::Relaxed);
    }

    /// Bytes free for this process on the data's file system, if the system says.
    pub fn free(&self) -> Option<u64> {
        crate::os::available_bytes(&self.inner.path)
    }

    /// Whether there is room to store more, logging when that changes. A file system that
    /// cannot be asked counts as having room (writes then fail, or not, on their own).
    pub fn check(&self) -> Result<(), LowSpace> {
        let reserve = self.inner.reserve.load(Ordering::Relaxed);
        let verdict = match self.free() {
            Some(free) if free < reserve => Err(LowSpace { free, reserve }),
            _ => Ok(()),
        };
        let was_low = self.inner.low.swap(verdict.is_err(), Ordering::Relaxed);
        match (&verdict, was_low) {
            (Err(low), false) => {
                tracing::error!(path = %self.inner.path.display(), %low, "the disk is nearly full: changes and uploads are refused until space is freed");
            }
            (Ok(()), true) => tracing::warn!(path = %self.inner.path.display(), "disk space is back: storing changes again"),
            _ => {}
        }
        verdict
    }

    /// Whether the last check found the disk nearly full (for health and administrators).
    pub fn is_low(&self) -> bool {
        self.inner.low.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reserve_above_what_is_free_refuses_and_one_below_takes() {
        let dir = tempfile::tempdir().unwrap();
        let space = DiskSpace::new(dir.path(), 0);
        let free = space.free().expect("statvfs answers for a temporary directory");
        assert!(free > 0);
        assert_eq!(space.check(), Ok(()));
        space.set_reserve(free.saturating_mul(2).max(1 << 40));
        assert!(matches!(space.check(), Err(LowSpace { .. })));
        assert!(space.is_low());
        space.set_reserve(0);
        assert_eq!(space.check(), Ok(()));
        assert!(!space.is_low());
    }
}
