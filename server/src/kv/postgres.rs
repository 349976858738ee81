//! The key spaces in PostgreSQL: one table of `(tree, key, value)` rows, ordered by key
//! bytes as sled orders them, shared by every server that connects.
//!
//! The stores call [`super::Tree`] synchronously, from the hub, from request handlers and
//! from the blocking pool alike. So each call here is a query whose future is awaited on
//! the calling thread (`futures_executor::block_on`: the client's futures only talk to
//! their connection over channels), while the connections themselves run on a runtime of
//! their own, on a thread of their own. A call blocks its thread for a round trip, as a
//! sled read that misses its cache blocks it for a disk read.
//!
//! Writes commit at once without waiting for the disk (`synchronous_commit = off`), so
//! they are visible to every server at once and cost no fsync each; [`Database::durable`]
//! commits one write waiting for the disk, which makes every commit before it durable (the
//! write-ahead log is one sequence). That is sled's contract: visible at once, durable
//! once flushed; nothing is acknowledged before the flush.
//!
//! A round trip costs both sides more than the work it carries (BENCHMARKS.md, "Several
//! nodes"), so the sync hub's writes for each change — its chunk, its projection mark, its
//! announcement to the other servers — are deferred ([`Database::defer`]) and committed by
//! the flush that makes them durable, all in one statement: a group commit as one
//! transaction. Deferred writes are seen by nobody before they are durable.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use anyhow::Context as _;
use tokio_postgres::{Client, Statement};

use super::postgres_tls::{self, Settings};

/// The schema, one step a version, applied in order at start under an advisory lock (so
/// servers starting at once apply each step once). Steps are never changed once released:
/// a new one is added.
const MIGRATIONS: &[(i32, &str)] = &[(
    1,
    "CREATE TABLE houqin_trees (name text COLLATE \"C\" PRIMARY KEY);
     CREATE TABLE houqin_kv (
         tree  text COLLATE \"C\" NOT NULL,
         key   bytea NOT NULL,
         value bytea NOT NULL,
         PRIMARY KEY (tree, key)
     );",
)];

/// The advisory lock migrations run under (any number; this one spells "houqin").
const MIGRATION_LOCK: i64 = 0x686f_7571_696e;

/// How long connecting to the database may take, unless its URL says otherwise.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// How often a write that found itself deadlocked (or in a serialization failure) runs.
const WRITE_TRIES: usize = 3;

/// The most connections one server opens.
const CONNECTIONS: usize = 16;

/// `select` over the entries of `tree` between the bounds: the statement and its parameters.
fn between<'a>(select: &str, tree: &'a &'a str, low: &'a Bound<Vec<u8>>, high: &'a Bound<Vec<u8>>) -> (String, Vec<Param<'a>>) {
    let mut sql = format!("{select} WHERE tree = $1");
    let mut params: Vec<Param<'a>> = vec![tree];
    for (bound, inclusive, exclusive) in [(low, ">=", ">"), (high, "<=", "<")] {
        let (operator, key) = match bound {
            Bound::Included(key) => (inclusive, key),
            Bound::Excluded(key) => (exclusive, key),
            Bound::Unbounded => continue,
        };
        params.push(key);
        sql.push_str(&format!(" AND key {operator} ${}", params.len()));
    }
    (sql, params)
}

/// A query's parameter.
type Param<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);

/// Rows a scan reads first: most scans are a document's few chunks, or read one entry.
const FIRST_PAGE: i64 = 16;
/// The most rows a scan reads at a time (each page twice the one before).
const PAGE: i64 = 1024;

/// A pool of connections to one database; cloning shares it.
#[derive(Clone)]
pub struct Database {
    pool: Arc<Pool>,
}

struct Pool {
    /// The database URL read, with how connections are encrypted.
    settings: Arc<Settings>,
    /// Runs the connections' tasks.
    runtime: tokio::runtime::Handle,
    idle: Mutex<Idle>,
    returned: Condvar,
    /// Writes and notices waiting for the next flush.
    deferred: Mutex<Deferred>,
    /// Held while deferred writes are committed, so that a flush waits for a commit of
    /// writes deferred before it that another thread took first ([`Database::durable`]).
    committing: Mutex<()>,
}

/// A value as stored.
type Value = Vec<u8>;

/// A write: tree, key, value (`None`: removed).
type Write<'a> = (&'a Arc<str>, &'a [u8], Option<&'a [u8]>);

/// Writes and notices waiting for the next flush, in the order they were made.
#[derive(Default)]
struct Deferred {
    /// Tree, key, value (`None`: removed).
    writes: Vec<(Arc<str>, Vec<u8>, Option<Value>)>,
    /// Node, kind, item ([`Database::tell`]).
    notices: Vec<(String, String, String)>,
}

impl Deferred {
    fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.notices.is_empty()
    }
}

struct Idle {
    connections: Vec<Connection>,
    open: usize,
}

/// A connection and the statements prepared on it. Every statement is prepared once per
/// connection and then only bound and run: parsing and planning a statement each time
/// cost PostgreSQL more than running it (BENCHMARKS.md, "Several nodes").
struct Connection {
    client: Client,
    /// By their text: a fixed set of forms (the constants below, and scans' bounds).
    prepared: RefCell<HashMap<String, Statement>>,
}

impl Connection {
    fn statement(&mut self, sql: &str) -> Result<Statement, tokio_postgres::Error> {
        prepared(&self.client, self.prepared.get_mut(), sql)
    }
}

/// `sql` prepared on `client`'s connection, once.
fn prepared(
    client: &impl tokio_postgres::GenericClient,
    cache: &mut HashMap<String, Statement>,
    sql: &str,
) -> Result<Statement, tokio_postgres::Error> {
    if let Some(statement) = cache.get(sql) {
        return Ok(statement.clone());
    }
    let statement = wait(client.prepare(sql))?;
    cache.insert(sql.to_owned(), statement.clone());
    Ok(statement)
}

/// A connection taken from the pool, given back when dropped (unless it broke).
struct Lease<'pool> {
    pool: &'pool Pool,
    connection: Option<Connection>,
}

impl std::ops::Deref for Lease<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.connection.as_ref().expect("held until dropped")
    }
}

impl std::ops::DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.connection.as_mut().expect("held until dropped")
    }
}

impl Lease<'_> {
    /// Runs the statement `sql` (prepared once) with `params`.
    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<tokio_postgres::Row>, tokio_postgres::Error> {
        let statement = self.statement(sql)?;
        wait(self.client.query(&statement, params))
    }

    fn query_opt(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Option<tokio_postgres::Row>, tokio_postgres::Error> {
        let statement = self.statement(sql)?;
        wait(self.client.query_opt(&statement, params))
    }

    fn query_one(&mut self, sql: &str, params: &[Param<'_>]) -> Result<tokio_postgres::Row, tokio_postgres::Error> {
        let statement = self.statement(sql)?;
        wait(self.client.query_one(&statement, params))
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let Some(connection) = self.connection.take() else { return };
        let mut idle = self.pool.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if connection.client.is_closed() {
            idle.open -= 1;
        } else {
            idle.connections.push(connection);
        }
        self.pool.returned.notify_one();
    }
}

/// Waits for `future` on this thread.
fn wait<T>(future: impl Future<Output = T>) -> T {
    futures_executor::block_on(future)
}

impl Database {
    /// Connects to the database at `url` (`postgres://…`) and brings its schema up to date.
    pub fn open(url: &str) -> anyhow::Result<Database> {
        let mut settings = postgres_tls::read(url)?;
        if settings.config.get_connect_timeout().is_none() {
            // A database host that went away should not hold a request (or `/healthz`)
            // for the minutes a TCP connection takes to give up.
            settings.config.connect_timeout(CONNECT_TIMEOUT);
        }
        let (started, runtime) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("postgres".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
                match runtime {
                    Ok(runtime) => {
                        let _ = started.send(Ok(runtime.handle().clone()));
                        // The connections' tasks run until the process ends.
                        runtime.block_on(std::future::pending::<()>());
                    }
                    Err(error) => {
                        let _ = started.send(Err(error));
                    }
                }
            })
            .context("cannot start the PostgreSQL connections' thread")?;
        let runtime = runtime.recv().context("the PostgreSQL connections' thread ended")?.context("cannot start a runtime")?;
        let database = Database {
            pool: Arc::new(Pool {
                settings: Arc::new(settings),
                runtime,
                idle: Mutex::new(Idle { connections: Vec::new(), open: 0 }),
                returned: Condvar::new(),
                deferred: Mutex::default(),
                committing: Mutex::default(),
            }),
        };
        database.migrate()?;
        Ok(database)
    }

    fn lease(&self) -> anyhow::Result<Lease<'_>> {
        let pool = &*self.pool;
        let mut idle = pool.idle.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(connection) = idle.connections.pop() {
                // One the database closed while it was idle (a restart) is dropped here,
                // rather than failing the caller's query.
                if connection.client.is_closed() {
                    idle.open -= 1;
                    continue;
                }
                return Ok(Lease { pool, connection: Some(connection) });
            }
            if idle.open < CONNECTIONS {
                idle.open += 1;
                drop(idle);
                return match self.connect() {
                    Ok(client) => Ok(Lease { pool, connection: Some(Connection { client, prepared: RefCell::default() }) }),
                    Err(error) => {
                        pool.idle.lock().unwrap_or_else(PoisonError::into_inner).open -= 1;
                        Err(error)
                    }
                };
            }
            idle = pool.returned.wait(idle).unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn connect(&self) -> anyhow::Result<Client> {
        let settings = self.pool.settings.clone();
        let (connected, client) = std::sync::mpsc::channel();
        self.pool.runtime.spawn(async move {
            match settings.config.connect(settings.tls.clone()).await {
                Ok((client, connection)) => {
                    let _ = connected.send(Ok(client));
                    if let Err(error) = connection.await {
                        tracing::warn!(%error, "a PostgreSQL connection ended");
                    }
                }
                Err(error) => {
                    let _ = connected.send(Err(error));
                }
            }
        });
        let client = client.recv().context("the PostgreSQL connections' thread ended")?.context("cannot connect to PostgreSQL")?;
        wait(client.batch_execute("SET synchronous_commit = off")).context("cannot set up a PostgreSQL connection")?;
        Ok(client)
    }

    fn migrate(&self) -> anyhow::Result<()> {
        let mut lease = self.lease()?;
        let client = &mut lease.client;
        wait(client.batch_execute(
            "CREATE TABLE IF NOT EXISTS houqin_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
        ))
        .context("cannot make the schema's version table")?;
        let transaction = wait(client.transaction()).context("cannot begin a migration")?;
        wait(transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])).context("cannot lock the schema")?;
        let applied: Option<i32> =
            wait(transaction.query_one("SELECT max(version) FROM houqin_schema", &[])).context("cannot read the schema's version")?.get(0);
        let applied = applied.unwrap_or(0);
        for (version, step) in MIGRATIONS.iter().filter(|(version, _)| *version > applied) {
            wait(transaction.batch_execute(step)).with_context(|| format!("cannot bring the schema to version {version}"))?;
            wait(transaction.execute("INSERT INTO houqin_schema (version) VALUES ($1)", &[version]))?;
        }
        let newest = MIGRATIONS.last().map_or(0, |(version, _)| *version);
        anyhow::ensure!(
            applied <= newest,
            "the database's schema is at version {applied}, newer than this server knows ({newest}): run the newer server"
        );
        wait(transaction.commit()).context("cannot commit a migration")?;
        Ok(())
    }

    /// Makes every write so far durable: commits the deferred writes and notices with
    /// `meta/key` set to `value`, in one statement whose commit waits for the disk — which
    /// makes every commit before it durable too.
    pub fn durable(&self, key: &[u8], value: &[u8]) -> anyhow::Result<()> {
        self.commit_deferred(Some((key, value))).context("cannot make the database durable")
    }

    /// Writes `value` under `key` (`None`: removes it) with the next flush: until then no
    /// reader sees it, here or on another server, and then every reader does. In order
    /// with the other deferred writes; see [`super::Tree::insert_deferred`].
    pub fn defer(&self, tree: &Arc<str>, key: &[u8], value: Option<&[u8]>) {
        let mut deferred = self.pool.deferred.lock().unwrap_or_else(PoisonError::into_inner);
        deferred.writes.push((tree.clone(), key.to_vec(), value.map(<[u8]>::to_vec)));
    }

    /// Tells `items` of a `kind` as `node` ([`Database::tell`]) as the next flush
    /// commits: with, never before, the writes deferred so far.
    pub fn tell_when_durable(&self, node: &str, kind: &str, items: &[String]) {
        let mut deferred = self.pool.deferred.lock().unwrap_or_else(PoisonError::into_inner);
        deferred.notices.extend(items.iter().map(|item| (node.to_owned(), kind.to_owned(), item.clone())));
    }

    /// Commits the deferred writes now, without waiting for the disk; the deferred notices
    /// wait on for the flush (nobody hears of a write before it is durable).
    pub fn apply_deferred(&self) -> anyhow::Result<()> {
        self.commit_deferred(None)
    }

    /// Commits what was deferred (and, for a flush, `meta` written and the notices sent)
    /// in one statement; what it could not commit is deferred again, before anything
    /// deferred meanwhile.
    fn commit_deferred(&self, flush: Option<(&[u8], &[u8])>) -> anyhow::Result<()> {
        let _committing = self.pool.committing.lock().unwrap_or_else(PoisonError::into_inner);
        let taken = {
            let mut deferred = self.pool.deferred.lock().unwrap_or_else(PoisonError::into_inner);
            match flush {
                Some(_) => std::mem::take(&mut *deferred),
                None => Deferred { writes: std::mem::take(&mut deferred.writes), notices: Vec::new() },
            }
        };
        if taken.is_empty() && flush.is_none() {
            return Ok(());
        }
        let meta: Arc<str> = crate::storage::trees::META.into();
        let mut writes: Vec<Write<'_>> = taken.writes.iter().map(|(tree, key, value)| (tree, key.as_slice(), value.as_deref())).collect();
        writes.extend(flush.map(|(key, value)| (&meta, key, Some(value))));
        // Each item once, however many changes to it the flush carries.
        let mut told: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
        for (node, kind, item) in &taken.notices {
            told.entry((node, kind)).or_default().insert(item);
        }
        let payloads: Vec<String> = told.into_iter().flat_map(|((node, kind), items)| payloads(node, kind, items)).collect();
        let written = self.write(writes.into_iter(), flush.is_some(), &payloads);
        if written.is_err() {
            let mut deferred = self.pool.deferred.lock().unwrap_or_else(PoisonError::into_inner);
            let since = std::mem::replace(&mut *deferred, taken);
            deferred.writes.extend(since.writes);
            deferred.notices.extend(since.notices);
        }
        written
    }

    /// Applies `writes` (of several to one key, the last counts) and sends `payloads` in
    /// one statement, so one round trip and one commit; `durable`: a commit that waits
    /// for the disk.
    fn write<'a>(&self, writes: impl Iterator<Item = Write<'a>>, durable: bool, payloads: &[String]) -> anyhow::Result<()> {
        // In key order: two statements writing the same rows lock them in one order, so two
        // servers' batches wait for each other rather than deadlock.
        let last: BTreeMap<(&str, &[u8]), Option<&[u8]>> = writes.map(|(tree, key, value)| ((&**tree, key), value)).collect();
        let (mut removed_trees, mut removed_keys) = (Vec::new(), Vec::new());
        let (mut trees, mut keys, mut values) = (Vec::new(), Vec::new(), Vec::new());
        for ((tree, key), value) in last {
            match value {
                Some(value) => {
                    trees.push(tree);
                    keys.push(key);
                    values.push(value);
                }
                None => {
                    removed_trees.push(tree);
                    removed_keys.push(key);
                }
            }
        }
        let synchronous = if durable { "on" } else { "off" };
        let mut tries = 0;
        loop {
            tries += 1;
            let params: [Param<'_>; 8] = [&removed_trees, &removed_keys, &trees, &keys, &values, &synchronous, &CHANNEL, &payloads];
            match self.lease()?.query(WRITE, &params) {
                Ok(_) => return Ok(()),
                // Writes that are one statement can run again as they are.
                Err(error) if conflicted(&error) && tries < WRITE_TRIES => continue,
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// Names `name` a tree (listed by [`Database::tree_names`] even while empty).
    pub fn open_tree(&self, name: &str) -> anyhow::Result<()> {
        self.lease()?
            .query("INSERT INTO houqin_trees (name) VALUES ($1) ON CONFLICT DO NOTHING", &[&name])
            .with_context(|| format!("cannot make the {name:?} tree"))?;
        Ok(())
    }

    pub fn tree_names(&self) -> anyhow::Result<Vec<String>> {
        let rows = self.lease()?.query("SELECT name FROM houqin_trees ORDER BY name", &[]).context("cannot list the trees")?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    pub fn get(&self, tree: &str, key: &[u8]) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self.lease()?.query_opt(GET, &[&tree, &key])?.map(|row| row.get(0)))
    }

    pub fn insert(&self, tree: &str, key: &[u8], value: &[u8]) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self.lease()?.query_one(INSERT_RETURNING_OLD, &[&tree, &key, &value])?.get(0))
    }

    pub fn remove(&self, tree: &str, key: &[u8]) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self.lease()?.query_opt(REMOVE, &[&tree, &key])?.map(|row| row.get(0)))
    }

    /// Sets `key` to `new` if it holds `old`; otherwise gives what it holds.
    pub fn compare_and_swap(
        &self,
        tree: &str,
        key: &[u8],
        old: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> anyhow::Result<Result<(), Option<Vec<u8>>>> {
        let mut lease = self.lease()?;
        let swapped = match (old, new) {
            (None, Some(new)) => lease.query_opt(INSERT_NEW, &[&tree, &key, &new])?.is_some(),
            (Some(old), Some(new)) => lease.query_opt(REPLACE_IF, &[&tree, &key, &old, &new])?.is_some(),
            (Some(old), None) => lease.query_opt(REMOVE_IF, &[&tree, &key, &old])?.is_some(),
            (None, None) => lease.query_opt(GET, &[&tree, &key])?.is_none(),
        };
        if swapped {
            return Ok(Ok(()));
        }
        let current = lease.query_opt(GET, &[&tree, &key])?.map(|row| row.get(0));
        Ok(Err(current))
    }

    /// Applies every write at once (`None` removes the key; of several writes to one key
    /// the last counts): one statement, so one round trip and one commit.
    pub fn apply(&self, tree: &Arc<str>, writes: &[(Vec<u8>, Option<Vec<u8>>)]) -> anyhow::Result<()> {
        self.write(writes.iter().map(|(key, value)| (tree, key.as_slice(), value.as_deref())), false, &[])
    }

    /// Removes each key that holds the value given with it, in one statement.
    pub fn remove_each_unchanged(&self, tree: &str, entries: &[(Vec<u8>, Vec<u8>)]) -> anyhow::Result<()> {
        let (keys, values): (Vec<&[u8]>, Vec<&[u8]>) = entries.iter().map(|(key, value)| (key.as_slice(), value.as_slice())).unzip();
        self.lease()?.query(REMOVE_EACH_UNCHANGED, &[&tree, &keys, &values])?;
        Ok(())
    }

    pub fn count(&self, tree: &str) -> anyhow::Result<usize> {
        let count: i64 = self.lease()?.query_one("SELECT count(*) FROM houqin_kv WHERE tree = $1", &[&tree])?.get(0);
        Ok(count as usize)
    }

    /// Up to `limit` entries between the bounds, from the low end or (`backwards`) the high.
    fn page(
        &self,
        tree: &str,
        low: &Bound<Vec<u8>>,
        high: &Bound<Vec<u8>>,
        backwards: bool,
        limit: i64,
    ) -> anyhow::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let (mut sql, mut params) = between("SELECT key, value FROM houqin_kv", &tree, low, high);
        sql.push_str(if backwards { " ORDER BY key DESC" } else { " ORDER BY key" });
        params.push(&limit);
        sql.push_str(&format!(" LIMIT ${}", params.len()));
        let rows = self.lease()?.query(&sql, &params).with_context(|| format!("cannot read the {tree:?} tree"))?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }

    /// Whether any key lies between the bounds, and the bytes of their values: the
    /// database adds them up, nothing is sent.
    pub fn measure(&self, tree: &str, low: &Bound<Vec<u8>>, high: &Bound<Vec<u8>>) -> anyhow::Result<(bool, u64)> {
        let (sql, params) = between("SELECT count(*), coalesce(sum(octet_length(value)), 0)::bigint FROM houqin_kv", &tree, low, high);
        let row = self.lease()?.query_one(&sql, &params).with_context(|| format!("cannot read the {tree:?} tree"))?;
        let (count, bytes): (i64, i64) = (row.get(0), row.get(1));
        Ok((count > 0, bytes as u64))
    }

    /// The keys between the bounds, in order, without their values.
    pub fn keys(&self, tree: &str, low: &Bound<Vec<u8>>, high: &Bound<Vec<u8>>) -> anyhow::Result<Vec<Vec<u8>>> {
        let (mut sql, params) = between("SELECT key FROM houqin_kv", &tree, low, high);
        sql.push_str(" ORDER BY key");
        let rows = self.lease()?.query(&sql, &params).with_context(|| format!("cannot read the {tree:?} tree"))?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    /// Whether any key lies between the bounds (reads one key at most).
    pub fn any(&self, tree: &str, low: &Bound<Vec<u8>>, high: &Bound<Vec<u8>>) -> anyhow::Result<bool> {
        let (mut sql, params) = between("SELECT 1 FROM houqin_kv", &tree, low, high);
        sql.push_str(" LIMIT 1");
        Ok(self.lease()?.query_opt(&sql, &params).with_context(|| format!("cannot read the {tree:?} tree"))?.is_some())
    }

    /// The entries between the bounds, read a page at a time from either end.
    pub fn scan(&self, tree: &str, low: Bound<Vec<u8>>, high: Bound<Vec<u8>>) -> Scan {
        Scan {
            database: self.clone(),
            tree: tree.to_owned(),
            low,
            high,
            front: VecDeque::new(),
            back: VecDeque::new(),
            ended: false,
            page: FIRST_PAGE,
        }
    }

    /// Runs `work` in one serializable transaction, again from the start when PostgreSQL
    /// finds it ran alongside another that conflicts.
    pub fn transaction<T, R>(&self, work: impl Fn(&Transaction<'_>) -> Result<T, R>, retry: impl Fn(R) -> Outcome) -> anyhow::Result<T> {
        let mut lease = self.lease()?;
        let Connection { client, prepared } = &mut *lease;
        loop {
            let transaction = wait(client.build_transaction().isolation_level(tokio_postgres::IsolationLevel::Serializable).start())?;
            let held = Transaction { transaction, prepared };
            match work(&held) {
                Ok(value) => match wait(held.transaction.commit()) {
                    Ok(()) => return Ok(value),
                    Err(error) if conflicted(&error) => continue,
                    Err(error) => return Err(error).context("cannot commit a transaction"),
                },
                Err(stopped) => {
                    let _ = wait(held.transaction.rollback());
                    match retry(stopped) {
                        Outcome::Again => continue,
                        Outcome::Failed(error) => return Err(error),
                    }
                }
            }
        }
    }
}

impl Database {
    /// Reads every tree (by name) and its entries (by key) as they were at one moment,
    /// while others go on writing: one read-only transaction on one snapshot.
    pub fn read_everything(&self, visit: &mut dyn FnMut(super::Read<'_>) -> anyhow::Result<()>) -> anyhow::Result<()> {
        let mut lease = self.lease()?;
        let transaction =
            wait(lease.client.build_transaction().isolation_level(tokio_postgres::IsolationLevel::RepeatableRead).read_only(true).start())?;
        let names: Vec<String> =
            wait(transaction.query("SELECT name FROM houqin_trees ORDER BY name", &[]))?.iter().map(|row| row.get(0)).collect();
        for name in names {
            visit(super::Read::Tree(name.as_bytes()))?;
            let mut after: Option<Vec<u8>> = None;
            loop {
                let rows = match &after {
                    None => wait(transaction.query("SELECT key, value FROM houqin_kv WHERE tree = $1 ORDER BY key LIMIT 1000", &[&name]))?,
                    Some(after) => {
                        wait(transaction.query(
                            "SELECT key, value FROM houqin_kv WHERE tree = $1 AND key > $2 ORDER BY key LIMIT 1000",
                            &[&name, after],
                        ))?
                    }
                };
                for row in &rows {
                    visit(super::Read::Entry(row.get(0), row.get(1)))?;
                }
                match rows.last() {
                    Some(last) if rows.len() == 1000 => after = Some(last.get(0)),
                    _ => break,
                }
            }
        }
        wait(transaction.commit())?;
        Ok(())
    }

    /// Whether the database answers a query now.
    pub fn answers(&self) -> bool {
        self.lease().is_ok_and(|lease| wait(lease.client.simple_query("SELECT 1")).is_ok())
    }

    /// Whether no tree holds anything.
    pub fn is_empty(&self) -> anyhow::Result<bool> {
        Ok(self.lease()?.query_opt("SELECT 1 FROM houqin_kv LIMIT 1", &[])?.is_none())
    }
}

/// The channel servers sharing a database tell each other of stored changes on.
const CHANNEL: &str = "houqin_stored";

/// The most a notification carries (PostgreSQL's limit is 8,000 bytes).
const PAYLOAD: usize = 7_000;

/// What a server hears from the others on the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// Listening (again): whatever was said before was not heard.
    Listening,
    /// Server `node` said `items` of a `kind` ([`Database::tell`]).
    Said { node: String, kind: String, items: Vec<String> },
}

/// How long a lost listening connection waits before connecting again.
const LISTEN_AGAIN_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

impl Database {
    /// Tells every server listening `items` (words without spaces or commas) of a `kind`
    /// (one word), as said by `node`: `v1 <node> <kind> <item>,<item>…`, in as many
    /// notifications as they need.
    pub fn tell(&self, node: &str, kind: &str, items: &[String]) -> anyhow::Result<()> {
        let payloads = payloads(node, kind, items);
        if payloads.is_empty() {
            return Ok(());
        }
        self.lease()?
            .query("SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload", &[&CHANNEL, &payloads])
            .context("cannot tell the other servers")?;
        Ok(())
    }

    /// Listens to the other servers on a connection of its own, for as long as `heard`
    /// takes what it hears (returns `true`): connects again after a loss, and says
    /// [`Heard::Listening`] each time it listens, since what was said meanwhile is lost.
    pub fn listen(&self, heard: impl Fn(Heard) -> bool + Send + Sync + 'static) {
        let settings = self.pool.settings.clone();
        self.pool.runtime.spawn(async move {
            loop {
                match listen_once(&settings, &heard).await {
                    Ok(Stop::Done) => return,
                    Ok(Stop::Lost) => tracing::warn!("the connection listening to the other servers was lost; connecting again"),
                    Err(error) => tracing::warn!(error = format!("{error:#}"), "cannot listen to the other servers; trying again"),
                }
                tokio::time::sleep(LISTEN_AGAIN_AFTER).await;
            }
        });
    }
}

/// `items` of a `kind` said by `node`, in as few notifications as they fit:
/// `v1 <node> <kind> <item>,<item>…`.
fn payloads(node: &str, kind: &str, items: impl IntoIterator<Item = impl AsRef<str>>) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut payload = String::new();
    for item in items {
        let item = item.as_ref();
        if payload.len() + item.len() + 1 > PAYLOAD {
            payloads.push(std::mem::take(&mut payload));
        }
        if payload.is_empty() {
            payload = format!("v1 {node} {kind} ");
        } else {
            payload.push(',');
        }
        payload.push_str(item);
    }
    if !payload.is_empty() {
        payloads.push(payload);
    }
    payloads
}

enum Stop {
    /// Whoever listened stopped taking what is heard.
    Done,
    /// The connection ended.
    Lost,
}

async fn listen_once(settings: &Settings, heard: &(impl Fn(Heard) -> bool + Sync)) -> anyhow::Result<Stop> {
    let (client, mut connection) = settings.config.connect(settings.tls.clone()).await.context("cannot connect to PostgreSQL")?;
    // The connection is driven while LISTEN runs, and after it for what arrives.
    let listen = format!("LISTEN {CHANNEL}");
    let listening = client.batch_execute(&listen);
    tokio::pin!(listening);
    loop {
        tokio::select! {
            done = &mut listening => {
                done.context("cannot listen to the other servers")?;
                break;
            }
            message = std::future::poll_fn(|context| connection.poll_message(context)) => match message {
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error).context("the listening connection failed"),
                None => return Ok(Stop::Lost),
            }
        }
    }
    if !heard(Heard::Listening) {
        return Ok(Stop::Done);
    }
    loop {
        match std::future::poll_fn(|context| connection.poll_message(context)).await {
            Some(Ok(tokio_postgres::AsyncMessage::Notification(notification))) => {
                let Some(said) = read_payload(notification.payload()) else {
                    tracing::warn!(payload = notification.payload(), "a notification from another server that does not read; ignored");
                    continue;
                };
                if !heard(said) {
                    return Ok(Stop::Done);
                }
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => {
                tracing::warn!(%error, "the listening connection failed");
                return Ok(Stop::Lost);
            }
            None => return Ok(Stop::Lost),
        }
    }
}

/// `v1 <node> <kind> <item>,<item>…`
fn read_payload(payload: &str) -> Option<Heard> {
    let mut parts = payload.splitn(4, ' ');
    (parts.next()? == "v1").then_some(())?;
    let node = parts.next()?.to_owned();
    let kind = parts.next()?.to_owned();
    let items = parts.next()?.split(',').map(str::to_owned).collect();
    Some(Heard::Said { node, kind, items })
}

/// What a transaction that stopped does next.
pub enum Outcome {
    Again,
    Failed(anyhow::Error),
}

/// Whether `error` is PostgreSQL's "run it again": a serialization failure or a deadlock.
pub fn conflicted(error: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    error.code().is_some_and(|code| *code == SqlState::T_R_SERIALIZATION_FAILURE || *code == SqlState::T_R_DEADLOCK_DETECTED)
}

/// An open transaction's reads and writes.
pub struct Transaction<'client> {
    transaction: tokio_postgres::Transaction<'client>,
    /// The connection's prepared statements.
    prepared: &'client RefCell<HashMap<String, Statement>>,
}

impl Transaction<'_> {
    fn statement(&self, sql: &str) -> Result<Statement, tokio_postgres::Error> {
        prepared(&self.transaction, &mut self.prepared.borrow_mut(), sql)
    }

    pub fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>, tokio_postgres::Error> {
        let row = wait(self.transaction.query_opt(&self.statement(GET)?, &[&tree, &key]))?;
        Ok(row.map(|row| row.get(0)))
    }

    pub fn insert(&self, tree: &str, key: &[u8], value: &[u8]) -> Result<Option<Vec<u8>>, tokio_postgres::Error> {
        Ok(wait(self.transaction.query_one(&self.statement(INSERT_RETURNING_OLD)?, &[&tree, &key, &value]))?.get(0))
    }

    pub fn remove(&self, tree: &str, key: &[u8]) -> Result<Option<Vec<u8>>, tokio_postgres::Error> {
        let row = wait(self.transaction.query_opt(&self.statement(REMOVE)?, &[&tree, &key]))?;
        Ok(row.map(|row| row.get(0)))
    }
}

/// A scan of a tree, a page at a time from whichever end is read.
pub struct Scan {
    database: Database,
    tree: String,
    /// What is left to read: between these, minus what the buffers hold.
    low: Bound<Vec<u8>>,
    high: Bound<Vec<u8>>,
    front: VecDeque<(Vec<u8>, Vec<u8>)>,
    back: VecDeque<(Vec<u8>, Vec<u8>)>,
    /// Everything between the bounds is in the buffers.
    ended: bool,
    /// Rows the next page reads.
    page: i64,
}

impl Scan {
    fn fill(&mut self, backwards: bool) -> anyhow::Result<()> {
        let limit = self.page;
        self.page = (self.page * 2).min(PAGE);
        let page = self.database.page(&self.tree, &self.low, &self.high, backwards, limit)?;
        if (page.len() as i64) < limit {
            self.ended = true;
        }
        if let Some((last, _)) = page.last() {
            if backwards {
                self.high = Bound::Excluded(last.clone());
            } else {
                self.low = Bound::Excluded(last.clone());
            }
        }
        if backwards {
            self.back.extend(page);
        } else {
            self.front.extend(page);
        }
        Ok(())
    }

    pub fn next_front(&mut self) -> Option<anyhow::Result<(Vec<u8>, Vec<u8>)>> {
        if self.front.is_empty()
            && !self.ended
            && let Err(error) = self.fill(false)
        {
            self.ended = true;
            return Some(Err(error));
        }
        // Read to the end from the front: what was read from the back comes last.
        self.front.pop_front().or_else(|| self.back.pop_back()).map(Ok)
    }

    pub fn next_back(&mut self) -> Option<anyhow::Result<(Vec<u8>, Vec<u8>)>> {
        if self.back.is_empty()
            && !self.ended
            && let Err(error) = self.fill(true)
        {
            self.ended = true;
            return Some(Err(error));
        }
        self.back.pop_front().or_else(|| self.front.pop_back()).map(Ok)
    }
}

const GET: &str = "SELECT value FROM houqin_kv WHERE tree = $1 AND key = $2";
const REMOVE: &str = "DELETE FROM houqin_kv WHERE tree = $1 AND key = $2 RETURNING value";
/// Writes at once, in one statement and so one transaction: the `$1`/`$2` (tree, key)
/// pairs removed, the `$3`/`$4` pairs set to `$5` (no pair in both: the removal's snapshot
/// would not see the upsert's row), `synchronous_commit` set to `$6` for this transaction
/// alone, and the `$8` payloads sent on channel `$7` as it commits.
const WRITE: &str = "WITH removed AS (DELETE FROM houqin_kv AS kv USING unnest($1::text[], $2::bytea[]) AS gone (tree, key) \
     WHERE kv.tree = gone.tree AND kv.key = gone.key), \
     written AS (INSERT INTO houqin_kv (tree, key, value) SELECT * FROM unnest($3::text[], $4::bytea[], $5::bytea[]) \
     ON CONFLICT (tree, key) DO UPDATE SET value = EXCLUDED.value) \
     SELECT set_config('synchronous_commit', $6::text, true), \
     (SELECT count(pg_notify($7::text, payload)) FROM unnest($8::text[]) AS payload)";
/// An upsert that gives the value it replaced, as the statement's snapshot held it (every
/// part of a statement sees one snapshot: `old` reads the row before the upsert changes
/// it). A writer committing between that snapshot and the upsert's lock is not seen; no
/// store decides anything on the value returned.
const INSERT_RETURNING_OLD: &str = "WITH old AS (SELECT value FROM houqin_kv WHERE tree = $1 AND key = $2), \
     upsert AS (INSERT INTO houqin_kv (tree, key, value) VALUES ($1, $2, $3) \
     ON CONFLICT (tree, key) DO UPDATE SET value = EXCLUDED.value) \
     SELECT (SELECT value FROM old)";
const INSERT_NEW: &str = "INSERT INTO houqin_kv (tree, key, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1";
const REPLACE_IF: &str = "UPDATE houqin_kv SET value = $4 WHERE tree = $1 AND key = $2 AND value = $3 RETURNING 1";
const REMOVE_EACH_UNCHANGED: &str = "DELETE FROM houqin_kv AS kv USING unnest($2::bytea[], $3::bytea[]) AS gone (key, value) \
     WHERE kv.tree = $1::text AND kv.key = gone.key AND kv.value = gone.value";
const REMOVE_IF: &str = "DELETE FROM houqin_kv WHERE tree = $1 AND key = $2 AND value = $3 RETURNING 1";

#[cfg(test)]
mod tests {
    use super::{Heard, read_payload};

    /// A notification reads as `v1 <node> <kind> <items>`, or not at all.
    #[test]
    fn notifications_read_only_in_their_form() {
        assert_eq!(
            read_payload("v1 a1b2 stored x,y"),
            Some(Heard::Said { node: "a1b2".into(), kind: "stored".into(), items: vec!["x".into(), "y".into()] })
        );
        for garbled in ["", "v1", "v1 a1b2", "v1 a1b2 stored", "v2 a1b2 stored x", "stored x"] {
            assert_eq!(read_payload(garbled), None, "{garbled:?}");
        }
    }
}
