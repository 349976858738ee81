//! The sled database and its trees.
//!
//! Architecture Invariant: every write that a client will be told about is made durable
//! ([`Storage::durable`]: sled's flush, then the fsyncs it leaves undone) before the
//! telling. `Db::flush_async` is unreliable in sled 0.34, so flushes run the blocking
//! `flush` on tokio's blocking pool.
//!
//! Architecture Invariant: keys are removed only under a [`RemovalPermit`]. A backup reads
//! the trees key by key while the server keeps writing; additions are harmless to it, but
//! a removal that replaces keys it has passed with a key it has not yet reached (what a
//! compaction does) would lose data from the copy. A backup holds the gate exclusively.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError};
use std::time::{Duration, SystemTime};

use anyhow::Context;

use crate::kv::{Read, Tree, postgres};
use crate::space::{DEFAULT_RESERVE, DiskSpace};
use shared::directory::Username;
use shared::protocol::DocumentId;

/// The names of the database's trees (sled's name for a key space), written here only:
/// every store, the backup, the check and the salvage name a tree by these. Sled itself
/// is seen only inside the server; the stores' public methods take and give bytes and
/// types of their own.
pub mod trees {
    /// Small records of the server's own: the token key, the VAPID key, the flush count, the last backup.
    pub const META: &str = "meta";
    /// Document chunks and snapshots ([`crate::documents`]).
    pub const DOCUMENTS: &str = "documents";
    /// The site each document was first stored at, which it keeps ([`crate::documents`]).
    pub const DOCUMENT_SITES: &str = "document_sites";
    /// The keys of large document chunks, each to its length ([`crate::documents`]).
    pub const LARGE_CHUNKS: &str = "large_chunks";
    /// Sites, people, bound actors and last syncs ([`crate::directory`]).
    pub const SITES: &str = "sites";
    pub const USERS: &str = "users";
    pub const ACTORS: &str = "actors";
    pub const SYNCS: &str = "syncs";
    /// Sign-in attempts counted by address and name, when servers share the database
    /// ([`crate::auth`]; a server of its own counts in memory).
    pub const LOGIN_THROTTLE: &str = "login_throttle";
    /// Tokens signed out before they expire ([`crate::auth`]).
    pub const REVOKED_TOKENS: &str = "revoked_tokens";
    /// Photos and signatures, their references, uploaders and each site's usage
    /// ([`crate::blobs`]).
    pub const BLOBS: &str = "blobs";
    pub const BLOB_REFS: &str = "blob_refs";
    pub const BLOB_REFS_BY_DOCUMENT: &str = "blob_refs_by_document";
    pub const BLOB_SITES: &str = "blob_sites";
    pub const BLOB_USAGE: &str = "blob_usage";
    /// The dashboards' summaries and the documents waiting for theirs ([`crate::projections`]).
    pub const PROJECTIONS: &str = "projections";
    pub const PROJECTION_DIRTY: &str = "projection_dirty";
    /// The notices derived from stored changes ([`crate::notify`]).
    pub const OUTBOX: &str = "outbox";
    /// Where each site's notices go ([`crate::notify`]).
    pub const NOTIFY_CHANNELS: &str = "notify_channels";
    /// What each person wants told and how ([`crate::notify`]), and their phones' push
    /// subscriptions ([`crate::notify::push`]).
    pub const NOTIFY_PEOPLE: &str = "notify_people";
    pub const PUSH_SUBSCRIPTIONS: &str = "push_subscriptions";
    /// Reports from the public: tracking links, the orders they made, and addresses whose
    /// reports were spam ([`crate::public`]).
    pub const PUBLIC_TRACKS: &str = "public_tracks";
    pub const PUBLIC_ORDERS: &str = "public_orders";
    pub const PUBLIC_STRIKES: &str = "public_strikes";
    /// Links contractors work orders by ([`crate::public`]).
    pub const CONTRACTOR_LINKS: &str = "contractor_links";
    /// Sled's own tree, which Houqin leaves empty (a backup leaves it out when it is).
    pub const SLED_DEFAULT: &str = "__sled__default";
}

/// The open database; cloning shares it.
#[derive(Clone)]
pub struct Storage {
    engine: Engine,
    removals: RemovalGate,
    space: DiskSpace,
    /// What was found damaged in a database served as it is (`--allow-damaged`).
    damage: Arc<Mutex<Vec<String>>>,
    /// This server's name among those sharing a database: random, new at each open.
    node: [u8; 8],
}

/// What keeps the trees.
#[derive(Clone)]
enum Engine {
    /// sled, in the data directory: one server's own.
    Sled { db: sled::Db, value_files: Arc<ValueFiles>, generations: Arc<Generations> },
    /// PostgreSQL, which several servers may share.
    Postgres(postgres::Database),
}

/// The most sled keeps of the database in memory (its default is 1 GiB, which a server
/// holding 100,000 documents fills: every page written stays cached).
const CACHE_BYTES: u64 = 64 << 20;

/// Whether the database in `path` keeps its pages compressed (zstd). A new one does: the
/// documents then take about half the disk. One created without compression keeps it
/// that way (sled refuses to change it); restoring a backup into a new directory is the
/// way to a compressed one.
fn compresses(path: &Path) -> bool {
    // sled's `conf` file records the setting as a line of text.
    match std::fs::read(path.join("conf")) {
        Ok(conf) => !conf.windows(COMPRESSION_OFF.len()).any(|line| line == COMPRESSION_OFF),
        Err(_) => true,
    }
}

const COMPRESSION_OFF: &[u8] = b"use_compression: false";

impl Storage {
    /// Opens (or creates) the database in `path`.
    pub fn open(path: &Path) -> anyhow::Result<Storage> {
        Storage::open_checked(path, true)
    }

    /// Opens the database in `path` even if it has gone back behind its flush count, to
    /// copy out what it still holds (`salvage`) or serve it as it is (`--allow-damaged`);
    /// the going back is noted in [`Storage::damage`].
    pub fn open_damaged(path: &Path) -> anyhow::Result<Storage> {
        Storage::open_checked(path, false)
    }

    fn open_checked(path: &Path, refuse_going_back: bool) -> anyhow::Result<Storage> {
        private_directory(path)?;
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(CACHE_BYTES)
            .use_compression(compresses(path))
            .open()
            .map_err(|error| opening_failed(path, error))?;
        // sled writes its `conf` when it makes a database and never fsyncs it, nor the
        // directory naming its files: after a power cut it could be left empty.
        sync_made(path).with_context(|| format!("cannot make the database in {} durable", path.display()))?;
        let value_files = Arc::new(ValueFiles::new(path));
        let (generations, went_back) = Generations::open(&db, path, refuse_going_back)?;
        Ok(Storage {
            engine: Engine::Sled { db, value_files, generations: Arc::new(generations) },
            removals: RemovalGate::default(),
            space: DiskSpace::new(path, DEFAULT_RESERVE),
            damage: Arc::new(Mutex::new(went_back.into_iter().collect())),
            node: random_node(),
        })
    }

    /// Connects to the PostgreSQL database at `url` (`postgres://…`) and brings its
    /// schema up to date; `data` holds what stays on this machine (its TLS files), and
    /// its free space is watched as a sled database's is.
    pub fn open_postgres(url: &str, data: &Path) -> anyhow::Result<Storage> {
        private_directory(data)?;
        let database = postgres::Database::open(url).with_context(|| format!("cannot open the database at {}", shown_url(url)))?;
        Ok(Storage {
            engine: Engine::Postgres(database),
            removals: RemovalGate::default(),
            space: DiskSpace::new(data, DEFAULT_RESERVE),
            damage: Arc::default(),
            node: random_node(),
        })
    }

    /// Opens the database `config` names: PostgreSQL when it gives a database URL, else
    /// sled in its data directory.
    pub fn open_configured(database_url: Option<&str>, data: &Path, allow_damaged: bool) -> anyhow::Result<Storage> {
        match database_url {
            Some(url) => Storage::open_postgres(url, data),
            None if allow_damaged => Storage::open_damaged(data),
            None => Storage::open(data),
        }
    }

    /// What is known to be damaged in the database being served (empty when it is whole).
    pub fn damage(&self) -> Vec<String> {
        self.damage.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Notes damage found in the database, served as it is.
    pub fn note_damage(&self, found: impl IntoIterator<Item = String>) {
        self.damage.lock().unwrap_or_else(PoisonError::into_inner).extend(found);
    }

    /// The names of every tree the database holds (the backup's, the check's).
    pub fn tree_names(&self) -> anyhow::Result<Vec<Vec<u8>>> {
        match &self.engine {
            Engine::Sled { db, .. } => Ok(db.tree_names().into_iter().map(|name| name.to_vec()).collect()),
            Engine::Postgres(database) => Ok(database.tree_names()?.into_iter().map(String::into_bytes).collect()),
        }
    }

    /// Reads every tree and its entries, in order of names and keys, as the database was
    /// at one moment: with sled, every write so far made durable and removals held off
    /// meanwhile (additions are harmless to the read: only what a removal replaces could
    /// be missed); with PostgreSQL, one snapshot. sled's own default tree is left out
    /// while empty. Blocking.
    pub fn read_everything(&self, visit: &mut dyn FnMut(Read<'_>) -> anyhow::Result<()>) -> anyhow::Result<()> {
        match &self.engine {
            Engine::Sled { db, .. } => {
                let _reading = self.removals.exclusive_read();
                self.durable()().context("cannot flush the database before reading it")?;
                let mut names = db.tree_names();
                names.sort();
                for name in names {
                    let tree = self.named_tree(&name)?;
                    if name == trees::SLED_DEFAULT.as_bytes() && tree.is_empty() {
                        continue;
                    }
                    visit(Read::Tree(&name))?;
                    for entry in &tree {
                        let (key, value) = entry?;
                        visit(Read::Entry(&key, &value))?;
                    }
                }
                Ok(())
            }
            Engine::Postgres(database) => database.read_everything(visit),
        }
    }

    /// Whether the database holds nothing at all (what a restore may go into).
    pub fn holds_nothing(&self) -> anyhow::Result<bool> {
        match &self.engine {
            Engine::Sled { .. } => {
                for name in self.tree_names()? {
                    if !self.named_tree(&name)?.is_empty() {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Engine::Postgres(database) => database.is_empty(),
        }
    }

    /// Whether the database answers now (sled, in this process, always does). Blocking.
    pub fn reaches_database(&self) -> bool {
        match &self.engine {
            Engine::Sled { .. } => true,
            Engine::Postgres(database) => database.answers(),
        }
    }

    /// Tells the other servers sharing the database `news` (nobody to tell with sled,
    /// which no other server shares). Blocking.
    pub fn tell(&self, news: &News) -> anyhow::Result<()> {
        let Engine::Postgres(database) = &self.engine else { return Ok(()) };
        let (kind, items) = news.said();
        database.tell(&hex::encode(self.node), kind, &items)
    }

    /// Tells the other servers `news` as the next flush commits: with the writes deferred
    /// so far ([`crate::kv::Tree::insert_deferred`]), never before them.
    pub fn tell_when_durable(&self, news: &News) {
        let Engine::Postgres(database) = &self.engine else { return };
        let (kind, items) = news.said();
        database.tell_when_durable(&hex::encode(self.node), kind, &items);
    }

    /// Hears from the other servers sharing the database, for as long as `heard` takes
    /// it: what they tell (not what this server tells), and [`Heard::Listening`] each time
    /// listening starts again (what was said meanwhile was missed). Does nothing with sled.
    pub fn listen(&self, heard: impl Fn(Heard) -> bool + Send + Sync + 'static) {
        let Engine::Postgres(database) = &self.engine else { return };
        let node = hex::encode(self.node);
        database.listen(move |said| match said {
            postgres::Heard::Listening => heard(Heard::Listening),
            postgres::Heard::Said { node: from, .. } if from == node => true,
            postgres::Heard::Said { kind, items, .. } => match read_news(&kind, &items) {
                Some(news) => heard(Heard::News(news)),
                None => {
                    tracing::warn!(kind, "news from another server that does not read; ignored");
                    true
                }
            },
        });
    }

    /// This server's name among those sharing its database (random, new at each open):
    /// what tells its own notices, leases and marks from another server's.
    pub fn node(&self) -> [u8; 8] {
        self.node
    }

    /// Whether the trees are kept in PostgreSQL (shared by several servers) rather than
    /// in sled (this server's own).
    pub fn is_shared(&self) -> bool {
        matches!(self.engine, Engine::Postgres(_))
    }

    /// The free space on the database's disk, asked before anything is stored.
    pub fn space(&self) -> &DiskSpace {
        &self.space
    }

    /// The gate that removals pass and backups close.
    pub fn removal_gate(&self) -> RemovalGate {
        self.removals.clone()
    }

    /// One of the [`trees`], for the store that keeps it.
    pub(crate) fn tree(&self, name: &'static str) -> anyhow::Result<Tree> {
        self.named_tree(name.as_bytes())
    }

    /// The tree named `name` (made if there is none), for what copies every tree.
    pub fn named_tree(&self, name: &[u8]) -> anyhow::Result<Tree> {
        let shown = String::from_utf8_lossy(name);
        match &self.engine {
            Engine::Sled { db, .. } => {
                let tree = db.open_tree(name).with_context(|| format!("cannot open the {shown:?} tree"))?;
                Ok(Tree::new(&shown, tree))
            }
            Engine::Postgres(database) => {
                database.open_tree(&shown)?;
                Ok(Tree::in_postgres(&shown, database.clone()))
            }
        }
    }

    /// Writes `value` under `key` in one of the [`trees`] as it is, past every store's
    /// rules: for tests that damage a database on purpose to see it found. Not flushed.
    pub fn write_raw(&self, tree: &'static str, key: &[u8], value: &[u8]) -> anyhow::Result<()> {
        self.tree(tree)?.insert(key, value).with_context(|| format!("cannot write the {tree:?} tree"))?;
        Ok(())
    }

    /// Makes every write so far durable.
    pub async fn flush(&self) -> anyhow::Result<()> {
        let flush = self.durable();
        tokio::task::spawn_blocking(flush).await.context("the flush task panicked")??;
        Ok(())
    }

    /// What makes every write so far durable, to run on a blocking thread: sled's flush,
    /// then the files it wrote large values to ([`ValueFiles`]).
    pub(crate) fn durable(&self) -> impl FnOnce() -> anyhow::Result<()> + Send + 'static {
        let engine = self.engine.clone();
        move || match engine {
            Engine::Sled { db, value_files, generations } => {
                let generation = generations.next()?;
                db.flush().context("cannot flush the database")?;
                value_files.sync_new().context("cannot make the database durable")?;
                generations.mark(generation)
            }
            Engine::Postgres(database) => {
                let now = SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis() as u64;
                database.durable(b"flushed_at", &now.to_be_bytes())
            }
        }
    }
}

/// A count of flushes kept in the database (`meta`/`generation`, written before each flush)
/// and, once it is durable, in a file beside it (`houqin.generation`, at most once a
/// second). sled takes a log it cannot read past for the end of it, and opens what came
/// before: bytes flipped early in its files opened an empty database without a word. A
/// database whose count is behind the file's has lost writes it had made durable, and is
/// refused as damaged.
struct Generations {
    meta: sled::Tree,
    marker: PathBuf,
    state: Mutex<(u64, Option<std::time::Instant>)>,
}

const GENERATION_KEY: &[u8] = b"generation";
/// How often the generation file is written: a loss older than this is noticed.
const MARK_EVERY: Duration = Duration::from_secs(1);

impl Generations {
    /// The database's count, and a line saying it went back if it did (and that is not
    /// refused).
    fn open(db: &sled::Db, path: &Path, refuse_going_back: bool) -> anyhow::Result<(Generations, Option<String>)> {
        let meta = db.open_tree(trees::META).context("cannot open the meta tree")?;
        let stored = meta.get(GENERATION_KEY).context("cannot read the database's generation")?;
        let stored = stored.and_then(|bytes| bytes.as_ref().try_into().ok()).map_or(0, u64::from_be_bytes);
        let marker = path.join("houqin.generation");
        let marked = match std::fs::read(&marker) {
            Ok(bytes) => bytes.as_slice().try_into().ok().map(u64::from_be_bytes).unwrap_or(0),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => 0,
            Err(error) => return Err(error).with_context(|| format!("cannot read {}", marker.display())),
        };
        let went_back = (stored < marked)
            .then(|| format!("the database has lost writes it had made durable (it is at flush {stored}, they reached {marked})"));
        if went_back.is_some() && refuse_going_back {
            anyhow::bail!(
                "the database in {} is damaged: it has lost writes it had made durable (it is at flush {stored}, they reached {marked}); \
                 restore the last backup into a new directory (`houqin-server --data NEW restore --from FILE`) and start the server on it, \
                 or copy out what it still holds (`houqin-server --data {} salvage --to NEW`)",
                path.display(),
                path.display()
            );
        }
        // Counted on from the file's count: a database served as it is, or salvaged, is
        // not refused again for the same loss once it has flushed.
        Ok((Generations { meta, marker, state: Mutex::new((stored.max(marked), None)) }, went_back))
    }

    /// Counts a flush about to happen, in the database.
    fn next(&self) -> anyhow::Result<u64> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.0 += 1;
        self.meta.insert(GENERATION_KEY, &state.0.to_be_bytes()).context("cannot count a flush")?;
        Ok(state.0)
    }

    /// Notes that flush `generation` is durable, unless noted less than a second ago.
    fn mark(&self, generation: u64) -> anyhow::Result<()> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.1.is_some_and(|last| last.elapsed() < MARK_EVERY) {
            return Ok(());
        }
        let temporary = self.marker.with_extension("new");
        let mut file = std::fs::File::create(&temporary).with_context(|| format!("cannot write {}", temporary.display()))?;
        std::io::Write::write_all(&mut file, &generation.to_be_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, &self.marker)?;
        if let Some(dir) = self.marker.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        state.1 = Some(std::time::Instant::now());
        Ok(())
    }
}

/// What a server hears from the others sharing its database ([`Storage::listen`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// Listening (again): news told before was not heard.
    Listening,
    News(News),
}

/// What servers sharing a database tell each other ([`Storage::tell`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum News {
    /// Changes to these documents are stored, durably.
    Stored(Vec<DocumentId>),
    /// The person was disabled or signed out everywhere: their connections close.
    Revoked(Username),
    /// The person's roles changed: their connections close, to open again under the new.
    RolesChanged(Username),
    /// The token with this SHA-256 was signed out: its connections close.
    SignedOut([u8; 32]),
}

impl News {
    /// Its kind and items as told ([`read_news`] reads them back).
    fn said(&self) -> (&'static str, Vec<String>) {
        match self {
            News::Stored(documents) => ("stored", documents.iter().map(|document| hex::encode(document.as_bytes())).collect()),
            News::Revoked(user) => ("revoked", vec![user.to_string()]),
            News::RolesChanged(user) => ("roles-changed", vec![user.to_string()]),
            News::SignedOut(token) => ("signed-out", vec![hex::encode(token)]),
        }
    }
}

fn read_news(kind: &str, items: &[String]) -> Option<News> {
    let user = || Username::parse(items.first()?).ok();
    match kind {
        "stored" => Some(News::Stored(
            items.iter().filter_map(|document| Some(DocumentId::from_bytes(hex::decode(document).ok()?.try_into().ok()?))).collect(),
        )),
        "revoked" => Some(News::Revoked(user()?)),
        "roles-changed" => Some(News::RolesChanged(user()?)),
        "signed-out" => Some(News::SignedOut(hex::decode(items.first()?).ok()?.try_into().ok()?)),
        _ => None,
    }
}

/// A name for this server among those sharing a database: random, new at each open.
fn random_node() -> [u8; 8] {
    use password_hash::rand_core::{OsRng, RngCore as _};
    let mut bytes = [0u8; 8];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// `url` without its password, to be shown.
fn shown_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}{user}@{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// Fsyncs sled's `conf` and the database's directory, once at open.
fn sync_made(path: &Path) -> std::io::Result<()> {
    match std::fs::File::open(path.join("conf")) {
        Ok(conf) => conf.sync_all()?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    std::fs::File::open(path)?.sync_all()
}

/// Why the database in `path` did not open, in words that say what to do.
fn opening_failed(path: &Path, error: sled::Error) -> anyhow::Error {
    let shown = path.display();
    match &error {
        sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
            anyhow::anyhow!("cannot open the database in {shown}: another server (or command) is using it")
        }
        sled::Error::Corruption { .. } | sled::Error::ReportableBug(_) => anyhow::anyhow!(
            "the database in {shown} is damaged ({error}): restore the last backup into a new directory \
             (`houqin-server --data NEW restore --from FILE`) and start the server on it"
        ),
        _ => anyhow::anyhow!("cannot open the database in {shown}: {error}"),
    }
}

/// What sled's flush leaves undone, done after it, before anyone is told a write is kept.
/// sled 0.34's flush ends in `sync_file_range` on its log (the data reaches the disk, but
/// not the file's metadata nor past the disk's write cache: a real `fsync` follows up to
/// half a second later), and it writes a value over a quarter of its segment (128 KiB: a
/// photo, a large document's snapshot) to a file of its own in `blobs/` that it never
/// fsyncs. So after each flush the files written since the last are fsynced, then the
/// directory, then the log. The directory is read only when it changed (a file made or
/// removed) or the last sweep found a file still being written.
pub(crate) struct ValueFiles {
    dir: PathBuf,
    log: PathBuf,
    swept: Mutex<Swept>,
}

struct Swept {
    /// The directory's modification time at the last sweep.
    dir_modified: Option<SystemTime>,
    /// Files modified from this time on are synced by the next sweep.
    since: SystemTime,
    /// The last sweep met a file modified just before it: sweep again.
    busy: bool,
    /// sled's log, kept open to be fsynced.
    log: Option<std::fs::File>,
}

/// How far back of a sweep's start a file's modification counts as new (clocks are coarse).
const SWEEP_SLACK: Duration = Duration::from_secs(2);

impl ValueFiles {
    fn new(database: &Path) -> ValueFiles {
        ValueFiles {
            dir: database.join("blobs"),
            log: database.join("db"),
            swept: Mutex::new(Swept { dir_modified: None, since: SystemTime::UNIX_EPOCH, busy: false, log: None }),
        }
    }

    fn sync_new(&self) -> std::io::Result<()> {
        let mut swept = self.swept.lock().unwrap_or_else(PoisonError::into_inner);
        self.sync_value_files(&mut swept)?;
        if swept.log.is_none() {
            swept.log = Some(std::fs::File::open(&self.log)?);
        }
        swept.log.as_ref().expect("opened above").sync_all()
    }

    fn sync_value_files(&self, swept: &mut Swept) -> std::io::Result<()> {
        let dir_modified = match std::fs::metadata(&self.dir) {
            Ok(metadata) => metadata.modified()?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(error),
        };
        if swept.dir_modified == Some(dir_modified) && !swept.busy {
            return Ok(());
        }
        let started = SystemTime::now();
        let recent = started.checked_sub(SWEEP_SLACK).unwrap_or(SystemTime::UNIX_EPOCH);
        let mut busy = false;
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let metadata = match entry.metadata() {
                Ok(metadata) => metadata,
                // Removed since it was listed (sled collects old values).
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => return Err(error),
            };
            let modified = metadata.modified()?;
            if !metadata.is_file() || modified + SWEEP_SLACK < swept.since {
                continue;
            }
            match std::fs::File::open(entry.path()) {
                Ok(file) => file.sync_all()?,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => return Err(error),
            }
            busy |= modified >= recent;
        }
        std::fs::File::open(&self.dir)?.sync_all()?;
        swept.dir_modified = Some(dir_modified);
        swept.since = started;
        swept.busy = busy;
        Ok(())
    }
}

/// Shared by whatever removes keys, exclusive to a backup while it reads; cloning shares it.
/// Nothing is stored under the lock: a thread that panicked holding it leaves no broken
/// state, so poisoning is ignored.
#[derive(Clone, Default)]
pub struct RemovalGate(Arc<RwLock<()>>);

/// Permission to remove keys: no backup reads while it is held.
pub struct RemovalPermit<'gate> {
    _guard: RwLockReadGuard<'gate, ()>,
}

/// Held by a backup while it reads: no key is removed meanwhile.
pub struct ExclusiveRead<'gate> {
    _guard: RwLockWriteGuard<'gate, ()>,
}

impl RemovalGate {
    /// Permission to remove keys now, or `None` while a backup reads (or waits to). Never
    /// waits, so the sync hub never stalls behind a backup.
    pub fn try_permit(&self) -> Option<RemovalPermit<'_>> {
        match self.0.try_read() {
            Ok(guard) => Some(RemovalPermit { _guard: guard }),
            Err(TryLockError::Poisoned(poisoned)) => Some(RemovalPermit { _guard: poisoned.into_inner() }),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// Permission to remove keys, waiting for a backup in progress to finish. Blocking.
    pub fn permit(&self) -> RemovalPermit<'_> {
        RemovalPermit { _guard: self.0.read().unwrap_or_else(PoisonError::into_inner) }
    }

    /// Waits for removals in progress to finish and keeps new ones out until dropped.
    /// Blocking.
    pub fn exclusive_read(&self) -> ExclusiveRead<'_> {
        ExclusiveRead { _guard: self.0.write().unwrap_or_else(PoisonError::into_inner) }
    }
}

/// Makes `path` a directory only its owner may enter, if it is new; an existing one that
/// others may read is left as it is, with a warning: it holds the token key, password
/// hashes and everyone's records.
fn private_directory(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    if !path.exists() {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(path).with_context(|| format!("cannot create {}", path.display()))?;
        return Ok(());
    }
    let mode = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(data = %path.display(), mode = format!("{:o}", mode & 0o777), "the data directory is open to other users; `chmod 700` it");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{News, Storage, compresses, read_news, trees};

    /// News from another server that does not read is no news: an unknown kind, a user
    /// name no account could have, a document or token that is not hex of its length.
    #[test]
    fn news_that_does_not_read_is_ignored() {
        let id = "0123456789abcdef0123456789abcdef".to_owned();
        assert!(matches!(read_news("stored", std::slice::from_ref(&id)), Some(News::Stored(documents)) if documents.len() == 1));
        assert_eq!(read_news("stored", &["zz".into(), "0123".into()]), Some(News::Stored(Vec::new())), "ids that do not read are left out");
        assert!(matches!(read_news("revoked", &["tech".into()]), Some(News::Revoked(_))));
        assert_eq!(read_news("revoked", &["no such name!".into()]), None);
        assert_eq!(read_news("revoked", &[]), None);
        assert_eq!(read_news("signed-out", &["abcd".into()]), None, "a token's hash is 32 bytes");
        assert_eq!(read_news("erase-everything", std::slice::from_ref(&id)), None);
    }

    /// A new database keeps its pages compressed; one made without compression (by an
    /// earlier release) opens as it was, its data intact.
    #[test]
    fn new_databases_are_compressed_and_older_ones_open_as_they_were() {
        let new = tempfile::tempdir().unwrap();
        drop(Storage::open(new.path()).unwrap());
        let conf = std::fs::read(new.path().join("conf")).unwrap();
        assert!(conf.windows(21).any(|line| line == b"use_compression: true"), "{}", String::from_utf8_lossy(&conf));

        let old = tempfile::tempdir().unwrap();
        {
            let db = sled::Config::new().path(old.path()).use_compression(false).open().unwrap();
            db.insert("kept", "value").unwrap();
            db.flush().unwrap();
        }
        assert!(!compresses(old.path()));
        let storage = Storage::open(old.path()).unwrap();
        assert_eq!(storage.named_tree(trees::SLED_DEFAULT.as_bytes()).unwrap().get("kept").unwrap().as_deref(), Some(&b"value"[..]));
    }
}
