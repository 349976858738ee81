//! The sled database and its trees.
//!
//! Architecture Invariant: every write that a client will be told about is flushed before
//! the telling. `Db::flush_async` is unreliable in sled 0.34, so flushes run the blocking
//! `flush` on tokio's blocking pool.

use std::path::Path;

use anyhow::Context;

/// The open database; cloning shares it.
#[derive(Clone)]
pub struct Storage {
    db: sled::Db,
}

impl Storage {
    /// Opens (or creates) the database in `path`.
    pub fn open(path: &Path) -> anyhow::Result<Storage> {
        let db = sled::Config::new()
            .path(path)
            .open()
            .with_context(|| format!("cannot open the database in {}; is another server using it?", path.display()))?;
        Ok(Storage { db })
    }

    /// The database itself, for the group-commit flusher.
    pub(crate) fn db(&self) -> sled::Db {
        self.db.clone()
    }

    /// A named tree (sled's name for a key space).
    pub fn tree(&self, name: &str) -> anyhow::Result<sled::Tree> {
        self.db.open_tree(name).with_context(|| format!("cannot open the {name:?} tree"))
    }

    /// Makes every write so far durable.
    pub async fn flush(&self) -> anyhow::Result<()> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .context("the flush task panicked")?
            .context("cannot flush the database")?;
        Ok(())
    }
}
