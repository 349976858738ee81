//! The database as named key spaces ("trees") of ordered byte keys: what every store is
//! written against, so no store knows the engine that keeps it.
//!
//! A tree offers what the stores need and an engine shared by several servers can give as
//! well as sled does: reads, writes, ordered scans, compare-and-swap, atomic batches, and
//! transactions over a few trees. Writes are visible at once and durable once the
//! database is flushed ([`crate::Storage::durable`]); a server tells nobody of a write
//! before then.
//!
//! Two engines keep them: sled, embedded, for a server of its own, and PostgreSQL
//! ([`postgres`]), which several servers share.
//!
//! Architecture Invariant: the engines' types stay in this module and in `storage.rs`,
//! which opens them. A store holds [`Tree`]s and gets [`Value`]s, and its errors are
//! `anyhow`'s.

pub mod postgres;
mod postgres_tls;

use std::ops::{Bound, Deref, RangeBounds};
use std::sync::Arc;

use anyhow::Context as _;

/// A stored value: cheap to clone, read as bytes.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Value(sled::IVec);

impl Deref for Value {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Value {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl std::borrow::Borrow<[u8]> for Value {
    fn borrow(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl PartialEq<[u8]> for Value {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_ref() == other
    }
}

impl PartialEq<&[u8]> for Value {
    fn eq(&self, other: &&[u8]) -> bool {
        self.as_ref() == *other
    }
}

impl From<&[u8]> for Value {
    fn from(bytes: &[u8]) -> Value {
        Value(bytes.into())
    }
}

impl From<Vec<u8>> for Value {
    fn from(bytes: Vec<u8>) -> Value {
        Value(bytes.into())
    }
}

/// What a read of the whole database meets, in order: each tree, then its entries.
pub enum Read<'a> {
    Tree(&'a [u8]),
    Entry(&'a [u8], &'a [u8]),
}

/// A key and its value, as a scan gives them.
pub type Entry = (Value, Value);

/// One named key space.
#[derive(Clone)]
pub struct Tree {
    name: Arc<str>,
    engine: Engine,
}

#[derive(Clone)]
enum Engine {
    Sled(sled::Tree),
    Postgres(postgres::Database),
}

/// A compare-and-swap found another value than the one it expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// What the key holds instead.
    pub current: Option<Value>,
}

impl Tree {
    pub(crate) fn new(name: &str, tree: sled::Tree) -> Tree {
        Tree { name: name.into(), engine: Engine::Sled(tree) }
    }

    pub(crate) fn in_postgres(name: &str, database: postgres::Database) -> Tree {
        Tree { name: name.into(), engine: Engine::Postgres(database) }
    }

    /// The tree's name (one of [`crate::storage::trees`], or a backup's).
    pub fn name(&self) -> &str {
        &self.name
    }

    fn failed(&self, what: &str) -> String {
        format!("cannot {what} the {:?} tree", self.name)
    }

    pub fn get(&self, key: impl AsRef<[u8]>) -> anyhow::Result<Option<Value>> {
        let value = match &self.engine {
            Engine::Sled(tree) => tree.get(key).map_err(anyhow::Error::from),
            Engine::Postgres(database) => database.get(&self.name, key.as_ref()).map(|value| value.map(sled::IVec::from)),
        };
        Ok(value.with_context(|| self.failed("read"))?.map(Value))
    }

    pub fn contains_key(&self, key: impl AsRef<[u8]>) -> anyhow::Result<bool> {
        match &self.engine {
            Engine::Sled(tree) => tree.contains_key(key).with_context(|| self.failed("read")),
            Engine::Postgres(database) => {
                let key = key.as_ref().to_vec();
                database.any(&self.name, &Bound::Included(key.clone()), &Bound::Included(key))
            }
        }
    }

    /// Stores `value` under `key`; gives the value it replaced.
    pub fn insert(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> anyhow::Result<Option<Value>> {
        let old = match &self.engine {
            Engine::Sled(tree) => tree.insert(key.as_ref(), value.as_ref()).map_err(anyhow::Error::from),
            Engine::Postgres(database) => database.insert(&self.name, key.as_ref(), value.as_ref()).map(|old| old.map(sled::IVec::from)),
        };
        Ok(old.with_context(|| self.failed("write"))?.map(Value))
    }

    /// Removes `key`; gives the value it held.
    pub fn remove(&self, key: impl AsRef<[u8]>) -> anyhow::Result<Option<Value>> {
        let old = match &self.engine {
            Engine::Sled(tree) => tree.remove(key).map_err(anyhow::Error::from),
            Engine::Postgres(database) => database.remove(&self.name, key.as_ref()).map(|old| old.map(sled::IVec::from)),
        };
        Ok(old.with_context(|| self.failed("write"))?.map(Value))
    }

    /// Sets `key` to `new` (`None`: removes it) if it holds `old` (`None`: nothing);
    /// otherwise says what it holds.
    pub fn compare_and_swap(
        &self,
        key: impl AsRef<[u8]>,
        old: Option<impl AsRef<[u8]>>,
        new: Option<impl AsRef<[u8]>>,
    ) -> anyhow::Result<Result<(), Changed>> {
        let (old, new) = (old.as_ref().map(AsRef::as_ref), new.as_ref().map(AsRef::as_ref));
        match &self.engine {
            Engine::Sled(tree) => match tree.compare_and_swap(key, old, new.map(sled::IVec::from)).with_context(|| self.failed("write"))? {
                Ok(()) => Ok(Ok(())),
                Err(error) => Ok(Err(Changed { current: error.current.map(Value) })),
            },
            Engine::Postgres(database) => {
                let swapped = database.compare_and_swap(&self.name, key.as_ref(), old, new).with_context(|| self.failed("write"))?;
                Ok(swapped.map_err(|current| Changed { current: current.map(|current| Value(current.into())) }))
            }
        }
    }

    /// Removes each key that holds the value given with it (a compare-and-swap each, at
    /// once: in PostgreSQL one statement); the others are left as they are.
    pub fn remove_each_unchanged(&self, entries: &[(Vec<u8>, Vec<u8>)]) -> anyhow::Result<()> {
        match &self.engine {
            Engine::Sled(tree) => {
                for (key, value) in entries {
                    let _ = tree.compare_and_swap(key, Some(value.as_slice()), None::<&[u8]>).with_context(|| self.failed("write"))?;
                }
                Ok(())
            }
            Engine::Postgres(database) => database.remove_each_unchanged(&self.name, entries).with_context(|| self.failed("write")),
        }
    }

    /// Replaces the value of `key` by what `change` makes of it, by compare-and-swap,
    /// again on a race (as sled's own update does); gives the values before and after.
    fn update<V: AsRef<[u8]>>(
        &self,
        key: &[u8],
        mut change: impl FnMut(Option<&[u8]>) -> Option<V>,
    ) -> anyhow::Result<(Option<Value>, Option<Value>)> {
        let mut current = self.get(key)?;
        loop {
            let new = change(current.as_deref());
            let new = new.as_ref().map(AsRef::as_ref);
            match self.compare_and_swap(key, current.as_deref(), new)? {
                Ok(()) => return Ok((current, new.map(Value::from))),
                Err(Changed { current: now }) => current = now,
            }
        }
    }

    /// Replaces the value of `key` by what `change` makes of it (`None`: removes it),
    /// atomically: `change` may run more than once. Gives the value before.
    pub fn fetch_and_update<V: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        change: impl FnMut(Option<&[u8]>) -> Option<V>,
    ) -> anyhow::Result<Option<Value>> {
        Ok(self.update(key.as_ref(), change)?.0)
    }

    /// [`Tree::fetch_and_update`], giving the value after.
    pub fn update_and_fetch<V: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        change: impl FnMut(Option<&[u8]>) -> Option<V>,
    ) -> anyhow::Result<Option<Value>> {
        Ok(self.update(key.as_ref(), change)?.1)
    }

    /// Stores `value` under `key` with the next flush ([`crate::storage::Storage::durable`])
    /// rather than now: in PostgreSQL no reader sees it until then, and it costs the flush
    /// no round trip of its own; sled, whose writes cost none, stores it at once. Deferred
    /// writes keep their order among themselves, not with the others: a key is written
    /// deferred only, or by a write that calls [`Tree::apply_deferred`] first.
    pub fn insert_deferred(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> anyhow::Result<()> {
        match &self.engine {
            Engine::Sled(tree) => tree.insert(key.as_ref(), value.as_ref()).map(drop).with_context(|| self.failed("write")),
            Engine::Postgres(database) => {
                database.defer(&self.name, key.as_ref(), Some(value.as_ref()));
                Ok(())
            }
        }
    }

    /// Commits every deferred write now (of every tree), not waiting for the disk: what
    /// removes keys that may have been written deferred calls it first.
    pub fn apply_deferred(&self) -> anyhow::Result<()> {
        match &self.engine {
            Engine::Sled(_) => Ok(()),
            Engine::Postgres(database) => database.apply_deferred().context("cannot apply the deferred writes"),
        }
    }

    /// Whether [`Tree::insert_deferred`] waits for the next flush (PostgreSQL) rather than
    /// writing at once (sled).
    pub fn defers(&self) -> bool {
        matches!(self.engine, Engine::Postgres(_))
    }

    /// Applies every write of `batch` at once.
    pub fn apply_batch(&self, batch: Batch) -> anyhow::Result<()> {
        match &self.engine {
            Engine::Sled(tree) => {
                let mut writes = sled::Batch::default();
                for (key, value) in batch.0 {
                    match value {
                        Some(value) => writes.insert(key, value),
                        None => writes.remove(key),
                    }
                }
                tree.apply_batch(writes).with_context(|| self.failed("write"))
            }
            Engine::Postgres(database) => database.apply(&self.name, &batch.0).with_context(|| self.failed("write")),
        }
    }

    /// Every entry, in key order.
    pub fn iter(&self) -> Iter {
        self.range::<&[u8]>(..)
    }

    /// The entries whose keys start with `prefix`, in key order.
    pub fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> Iter {
        let prefix = prefix.as_ref();
        match &self.engine {
            Engine::Sled(tree) => Iter { name: self.name.clone(), entries: Entries::Sled(tree.scan_prefix(prefix)) },
            Engine::Postgres(database) => {
                let scan = database.scan(&self.name, Bound::Included(prefix.to_vec()), past_prefix(prefix));
                Iter { name: self.name.clone(), entries: Entries::Postgres(scan) }
            }
        }
    }

    /// The keys starting with `prefix`, in order, without their values.
    pub fn keys_with_prefix(&self, prefix: impl AsRef<[u8]>) -> anyhow::Result<Vec<Value>> {
        let prefix = prefix.as_ref();
        match &self.engine {
            Engine::Sled(_) => self.scan_prefix(prefix).keys().collect(),
            Engine::Postgres(database) => Ok(database
                .keys(&self.name, &Bound::Included(prefix.to_vec()), &past_prefix(prefix))?
                .into_iter()
                .map(Value::from)
                .collect()),
        }
    }

    /// Whether any key starts with `prefix`.
    pub fn contains_prefix(&self, prefix: impl AsRef<[u8]>) -> anyhow::Result<bool> {
        let prefix = prefix.as_ref();
        match &self.engine {
            Engine::Sled(tree) => Ok(tree.scan_prefix(prefix).next().transpose().with_context(|| self.failed("read"))?.is_some()),
            Engine::Postgres(database) => database.any(&self.name, &Bound::Included(prefix.to_vec()), &past_prefix(prefix)),
        }
    }

    /// The bytes of the values of the keys starting with `prefix` (PostgreSQL adds them up
    /// itself).
    pub fn prefix_bytes(&self, prefix: impl AsRef<[u8]>) -> anyhow::Result<u64> {
        let prefix = prefix.as_ref();
        match &self.engine {
            Engine::Sled(tree) => {
                let mut bytes = 0;
                for value in tree.scan_prefix(prefix).values() {
                    bytes += value.with_context(|| self.failed("read"))?.len() as u64;
                }
                Ok(bytes)
            }
            Engine::Postgres(database) => Ok(database.measure(&self.name, &Bound::Included(prefix.to_vec()), &past_prefix(prefix))?.1),
        }
    }

    /// The entries whose keys fall in `range`, in key order.
    pub fn range<K: AsRef<[u8]>>(&self, range: impl RangeBounds<K>) -> Iter {
        let bound = |bound: Bound<&K>| match bound {
            Bound::Included(key) => Bound::Included(key.as_ref().to_vec()),
            Bound::Excluded(key) => Bound::Excluded(key.as_ref().to_vec()),
            Bound::Unbounded => Bound::Unbounded,
        };
        let (low, high) = (bound(range.start_bound()), bound(range.end_bound()));
        let entries = match &self.engine {
            Engine::Sled(tree) => Entries::Sled(tree.range::<Vec<u8>, _>((low, high))),
            Engine::Postgres(database) => Entries::Postgres(database.scan(&self.name, low, high)),
        };
        Iter { name: self.name.clone(), entries }
    }

    /// The entry of the smallest key.
    pub fn first(&self) -> anyhow::Result<Option<Entry>> {
        self.iter().next().transpose()
    }

    /// The entry of the largest key.
    pub fn last(&self) -> anyhow::Result<Option<Entry>> {
        self.iter().next_back().transpose()
    }

    /// How many keys the tree holds (a scan: for checks and tests).
    pub fn len(&self) -> usize {
        match &self.engine {
            Engine::Sled(tree) => tree.len(),
            Engine::Postgres(database) => database.count(&self.name).unwrap_or(0),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.first().is_ok_and(|first| first.is_none())
    }
}

/// The first key past every key starting with `prefix`: the prefix with its last byte below
/// 0xff raised by one, shorter by the 0xff bytes after it (none past a prefix of 0xff only).
fn past_prefix(prefix: &[u8]) -> Bound<Vec<u8>> {
    match prefix.iter().rposition(|byte| *byte != 0xff) {
        Some(at) => {
            let mut high = prefix[..=at].to_vec();
            high[at] += 1;
            Bound::Excluded(high)
        }
        None => Bound::Unbounded,
    }
}

/// Entries of a tree in key order (or backwards).
pub struct Iter {
    name: Arc<str>,
    entries: Entries,
}

enum Entries {
    Sled(sled::Iter),
    Postgres(postgres::Scan),
}

impl Iter {
    fn entry(name: &str, entry: sled::Result<(sled::IVec, sled::IVec)>) -> anyhow::Result<Entry> {
        let (key, value) = entry.with_context(|| format!("cannot read the {name:?} tree"))?;
        Ok((Value(key), Value(value)))
    }

    fn owned(entry: anyhow::Result<(Vec<u8>, Vec<u8>)>) -> anyhow::Result<Entry> {
        let (key, value) = entry?;
        Ok((Value(key.into()), Value(value.into())))
    }

    pub fn keys(self) -> impl DoubleEndedIterator<Item = anyhow::Result<Value>> {
        self.map(|entry| entry.map(|(key, _)| key))
    }

    pub fn values(self) -> impl DoubleEndedIterator<Item = anyhow::Result<Value>> {
        self.map(|entry| entry.map(|(_, value)| value))
    }
}

impl Iterator for Iter {
    type Item = anyhow::Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.entries {
            Entries::Sled(iter) => iter.next().map(|entry| Iter::entry(&self.name, entry)),
            Entries::Postgres(scan) => scan.next_front().map(Iter::owned),
        }
    }
}

impl DoubleEndedIterator for Iter {
    fn next_back(&mut self) -> Option<Self::Item> {
        match &mut self.entries {
            Entries::Sled(iter) => iter.next_back().map(|entry| Iter::entry(&self.name, entry)),
            Entries::Postgres(scan) => scan.next_back().map(Iter::owned),
        }
    }
}

impl IntoIterator for &Tree {
    type Item = anyhow::Result<Entry>;
    type IntoIter = Iter;

    fn into_iter(self) -> Iter {
        self.iter()
    }
}

/// Writes to one tree applied at once ([`Tree::apply_batch`]): `None` removes the key.
#[derive(Default)]
pub struct Batch(Vec<(Vec<u8>, Option<Vec<u8>>)>);

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn insert(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        self.0.push((key.as_ref().to_vec(), Some(value.as_ref().to_vec())));
    }

    pub fn remove(&mut self, key: impl AsRef<[u8]>) {
        self.0.push((key.as_ref().to_vec(), None));
    }
}

/// A tree as a transaction sees it ([`transaction`]).
pub enum InTransaction<'t> {
    Sled(&'t sled::transaction::TransactionalTree),
    Postgres(&'t postgres::Transaction<'t>, &'t str),
}

/// A transaction met another writer (and is run again) or failed; returned by what it
/// reads and writes, and passed on with `?`.
#[derive(Debug)]
pub enum Retry {
    Sled(sled::transaction::UnabortableTransactionError),
    Postgres(tokio_postgres::Error),
}

impl InTransaction<'_> {
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Value>, Retry> {
        match self {
            InTransaction::Sled(tree) => Ok(tree.get(key).map_err(Retry::Sled)?.map(Value)),
            InTransaction::Postgres(transaction, tree) => {
                Ok(transaction.get(tree, key.as_ref()).map_err(Retry::Postgres)?.map(|value| Value(value.into())))
            }
        }
    }

    pub fn insert(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<Option<Value>, Retry> {
        match self {
            InTransaction::Sled(tree) => Ok(tree.insert(key.as_ref(), value.as_ref()).map_err(Retry::Sled)?.map(Value)),
            InTransaction::Postgres(transaction, tree) => {
                Ok(transaction.insert(tree, key.as_ref(), value.as_ref()).map_err(Retry::Postgres)?.map(|value| Value(value.into())))
            }
        }
    }

    pub fn remove(&self, key: impl AsRef<[u8]>) -> Result<Option<Value>, Retry> {
        match self {
            InTransaction::Sled(tree) => Ok(tree.remove(key.as_ref()).map_err(Retry::Sled)?.map(Value)),
            InTransaction::Postgres(transaction, tree) => {
                Ok(transaction.remove(tree, key.as_ref()).map_err(Retry::Postgres)?.map(|value| Value(value.into())))
            }
        }
    }
}

/// Runs `work` over `trees` (all of one database) as one transaction: all its writes or
/// none, and what it read unchanged by others until it ends. `work` may run more than once.
pub fn transaction<const N: usize, T>(trees: [&Tree; N], work: impl Fn([InTransaction<'_>; N]) -> Result<T, Retry>) -> anyhow::Result<T> {
    let names: Vec<&str> = trees.iter().map(|tree| tree.name()).collect();
    let failed = || format!("cannot write the {} trees", names.join(", "));
    match trees.first().map(|tree| &tree.engine) {
        Some(Engine::Postgres(database)) => database
            .transaction(
                |transaction| work(std::array::from_fn(|index| InTransaction::Postgres(transaction, trees[index].name()))),
                |stopped| match stopped {
                    Retry::Postgres(error) if postgres::conflicted(&error) => postgres::Outcome::Again,
                    Retry::Postgres(error) => postgres::Outcome::Failed(error.into()),
                    Retry::Sled(error) => postgres::Outcome::Failed(anyhow::anyhow!("{error:?}")),
                },
            )
            .with_context(failed),
        _ => {
            let sled_trees: Vec<sled::Tree> = trees
                .iter()
                .filter_map(|tree| match &tree.engine {
                    Engine::Sled(tree) => Some(tree.clone()),
                    Engine::Postgres(_) => None,
                })
                .collect();
            anyhow::ensure!(sled_trees.len() == N, "the {} trees are not of one database", names.join(", "));
            sled::Transactional::transaction(sled_trees.as_slice(), |views: &Vec<sled::transaction::TransactionalTree>| {
                let views: [InTransaction<'_>; N] = std::array::from_fn(|index| InTransaction::Sled(&views[index]));
                work(views).map_err(|stopped| match stopped {
                    Retry::Sled(error) => sled::transaction::ConflictableTransactionError::from(error),
                    Retry::Postgres(error) => sled::transaction::ConflictableTransactionError::Abort(error.to_string()),
                })
            })
            .map_err(|error: sled::transaction::TransactionError<String>| anyhow::anyhow!("{error:?}"))
            .with_context(failed)
        }
    }
}
#[cfg(test)]
mod tests {
    use super::{Batch, Tree, transaction};

    fn tree(name: &'static str) -> (tempfile::TempDir, Tree) {
        let data = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(data.path()).open().unwrap();
        (data, Tree::new(name, db.open_tree(name).unwrap()))
    }

    /// Scans give keys in byte order, bounded as asked, either way.
    #[test]
    fn scans_are_ordered_and_bounded() {
        let (_data, tree) = tree("t");
        for key in [&b"b2"[..], b"a", b"b1", b"c", b"b"] {
            tree.insert(key, key).unwrap();
        }
        let keys = |iter: super::Iter| iter.keys().map(|key| key.unwrap().to_vec()).collect::<Vec<_>>();
        assert_eq!(keys(tree.iter()), [&b"a"[..], b"b", b"b1", b"b2", b"c"]);
        assert_eq!(keys(tree.scan_prefix(b"b")), [&b"b"[..], b"b1", b"b2"]);
        assert_eq!(keys(tree.range(&b"b1"[..]..)), [&b"b1"[..], b"b2", b"c"]);
        assert_eq!(keys(tree.range(&b"a"[..]..&b"b1"[..])), [&b"a"[..], b"b"]);
        assert_eq!(tree.scan_prefix(b"b").keys().next_back().unwrap().unwrap().to_vec(), b"b2");
        assert_eq!(tree.first().unwrap().unwrap().0.to_vec(), b"a");
        assert_eq!(tree.last().unwrap().unwrap().0.to_vec(), b"c");
        assert_eq!(tree.len(), 5);
        assert!(tree.contains_prefix(b"b1").unwrap() && !tree.contains_prefix(b"d").unwrap());
        assert_eq!(tree.prefix_bytes(b"b").unwrap(), 5, "b, b1 and b2 hold themselves");
    }

    /// A compare-and-swap writes only over what it expected, and says what it found.
    #[test]
    fn compare_and_swap_writes_over_the_expected_value_only() {
        let (_data, tree) = tree("t");
        assert!(tree.compare_and_swap(b"k", None::<&[u8]>, Some(b"one")).unwrap().is_ok());
        let refused = tree.compare_and_swap(b"k", None::<&[u8]>, Some(b"two")).unwrap().unwrap_err();
        assert_eq!(refused.current.as_deref(), Some(&b"one"[..]));
        assert!(tree.compare_and_swap(b"k", Some(b"one"), None::<&[u8]>).unwrap().is_ok());
        assert_eq!(tree.get(b"k").unwrap(), None);
        tree.insert(b"x", b"1").unwrap();
        tree.insert(b"y", b"2").unwrap();
        tree.remove_each_unchanged(&[(b"x".to_vec(), b"1".to_vec()), (b"y".to_vec(), b"changed".to_vec())]).unwrap();
        assert_eq!(tree.get(b"x").unwrap(), None);
        assert_eq!(tree.get(b"y").unwrap().as_deref(), Some(&b"2"[..]), "a key holding another value stays");
        let after = tree.update_and_fetch(b"n", |old| Some(vec![old.map_or(0, |old| old[0]) + 1])).unwrap();
        assert_eq!(after.as_deref(), Some(&[1][..]));
        let before = tree.fetch_and_update(b"n", |old| Some(vec![old.map_or(0, |old| old[0]) + 1])).unwrap();
        assert_eq!(before.as_deref(), Some(&[1][..]));
        assert_eq!(tree.get(b"n").unwrap().as_deref(), Some(&[2][..]));
    }

    /// A batch and a transaction write all they hold; a transaction reads its own writes.
    #[test]
    fn batches_and_transactions_write_everything_at_once() {
        let data = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(data.path()).open().unwrap();
        let (a, b) = (Tree::new("a", db.open_tree("a").unwrap()), Tree::new("b", db.open_tree("b").unwrap()));
        a.insert(b"gone", b"x").unwrap();
        let mut batch = Batch::default();
        batch.insert(b"one", b"1");
        batch.remove(b"gone");
        a.apply_batch(batch).unwrap();
        assert_eq!(a.iter().keys().map(|key| key.unwrap().to_vec()).collect::<Vec<_>>(), [b"one"]);

        let moved = transaction([&a, &b], |[a, b]| {
            let value = a.remove(b"one")?.expect("stored above");
            b.insert(b"one", &value)?;
            Ok(b.get(b"one")?.is_some())
        })
        .unwrap();
        assert!(moved);
        assert!(a.is_empty());
        assert_eq!(b.get(b"one").unwrap().as_deref(), Some(&b"1"[..]));
    }
}
