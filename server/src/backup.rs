//! Backups: `houqin-server backup --to FILE` (while the server runs or not), `houqin-server
//! restore --from FILE` (into an empty data directory), and `GET /api/admin/backup`.
//!
//! A backup is every sled tree, key by key, in one file:
//!
//! ```text
//! HOUQIN-BACKUP 1\n
//! 'T' name-length:u64 name                      a tree; its entries follow
//! 'K' key-length:u64 key value-length:u64 value  an entry of the tree above
//! 'E' entry-count:u64 sha256                    the end: SHA-256 of every byte before it
//! ```
//!
//! (lengths big-endian). A restore reads the file twice: once to check it whole, then to
//! write it, so a damaged file writes nothing.
//!
//! sled lets one process open a database, so a running server makes the backup itself: it
//! listens on `control.sock` in its data directory (mode 0600), and `houqin-server backup`
//! asks there first; with no server answering it opens the database itself. The copy is
//! consistent because nothing removes keys while it is read (see [`crate::storage`]):
//! everything acknowledged before the backup began is flushed and in the trees, and the
//! trees only grow until the copy is done.

use std::fs::{self, File};
use std::io::{self, BufRead as _, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use sha2::{Digest, Sha256};
use tokio::net::UnixListener;
use tokio::task::{JoinHandle, JoinSet};

use shared::api::{BackupStatus, LastBackup};

use crate::auth::Session;
use crate::kv;
use crate::storage::trees;
use crate::{AppError, AppState, Storage};

/// The first line of every backup; the number is the format's version.
const MAGIC: &[u8] = b"HOUQIN-BACKUP 1\n";
const TREE: u8 = b'T';
const ENTRY: u8 = b'K';
const END: u8 = b'E';
/// No tree name or key of ours comes near this; a longer one in a file means damage.
const MAX_KEY: u64 = 1 << 20;

/// The control socket's name in the data directory.
pub const CONTROL_SOCKET: &str = "control.sock";
/// The one request the control socket answers, and how it answers a request it cannot.
const BACKUP_REQUEST: &str = "backup";
const ERROR_PREFIX: &[u8] = b"ERROR ";
/// A backup stalled this long by its reader gives up, so compaction is not held off for ever.
const STALLED_READER: Duration = Duration::from_secs(60);
/// How long the command line waits for the server's next bytes.
const STALLED_SERVER: Duration = Duration::from_secs(300);

/// The `meta` key of the last backup's record.
const LAST_BACKUP: &str = "last_backup";

/// What a backup holds, counted as it is written or read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// The file's size.
    pub bytes: u64,
    /// Distinct document ids in the `documents` tree.
    pub documents: u64,
    /// Entries of the `blobs` tree.
    pub blobs: u64,
    /// Entries of all trees.
    pub entries: u64,
}

pub fn router() -> Router<AppState> {
    Router::new().route("/api/admin/backup", get(last_backup))
}

async fn last_backup(State(state): State<AppState>, session: Session) -> Result<Json<BackupStatus>, AppError> {
    session.require_admin()?;
    Ok(Json(BackupStatus { last_backup: read_last_backup(&state.storage)? }))
}

/// The record of the last backup, if there was one.
pub fn read_last_backup(storage: &Storage) -> anyhow::Result<Option<LastBackup>> {
    let Some(stored) = storage.tree(trees::META)?.get(LAST_BACKUP).context("cannot read the last backup's record")? else {
        return Ok(None);
    };
    Ok(Some(serde_json::from_slice(&stored).context("the last backup's record is unreadable")?))
}

/// Records a finished backup in `meta` and flushes it. Blocking.
fn record_last_backup(storage: &Storage, summary: &Summary) -> anyhow::Result<()> {
    let record = LastBackup {
        at: crate::auth::now().as_millis(),
        bytes: summary.bytes,
        documents: summary.documents,
        blobs: summary.blobs,
        by: "command line".to_owned(),
    };
    storage.tree(trees::META)?.insert(LAST_BACKUP, serde_json::to_vec(&record)?).context("cannot record the backup")?;
    storage.durable()()?;
    Ok(())
}

/// Writes a backup of the whole database to `out`. Blocking; removals wait until it is
/// done (compaction goes on without them).
pub fn write_backup(storage: &Storage, out: impl Write) -> anyhow::Result<Summary> {
    let mut out = HashingWriter { inner: BufWriter::with_capacity(1 << 16, out), hasher: Sha256::new(), bytes: 0 };
    let mut count = Counter::default();
    out.write_all(MAGIC)?;
    storage
        .read_everything(&mut |read| {
            match read {
                kv::Read::Tree(name) => {
                    out.write_all(&[TREE])?;
                    write_field(&mut out, name)?;
                    count.tree(name);
                }
                kv::Read::Entry(key, value) => {
                    out.write_all(&[ENTRY])?;
                    write_field(&mut out, key)?;
                    out.write_all(&(value.len() as u64).to_be_bytes())?;
                    out.write_all(value)?;
                    count.entry(key);
                }
            }
            Ok(())
        })
        .context("cannot read the database")?;
    out.write_all(&[END])?;
    out.write_all(&count.summary.entries.to_be_bytes())?;
    let digest = out.hasher.finalize();
    out.inner.write_all(&digest)?;
    out.inner.flush()?;
    Ok(Summary { bytes: out.bytes + digest.len() as u64, ..count.summary })
}

fn write_field(out: &mut impl Write, bytes: &[u8]) -> anyhow::Result<()> {
    if bytes.len() as u64 > MAX_KEY {
        bail!("a key of {} bytes is longer than a backup can hold ({MAX_KEY})", bytes.len());
    }
    out.write_all(&(bytes.len() as u64).to_be_bytes())?;
    out.write_all(bytes)?;
    Ok(())
}

/// Counts documents and blobs by the trees they are in.
#[derive(Default)]
struct Counter {
    tree: Vec<u8>,
    last_document: Option<Vec<u8>>,
    summary: Summary,
}

impl Counter {
    fn tree(&mut self, name: &[u8]) {
        self.tree = name.to_vec();
        self.last_document = None;
    }

    fn entry(&mut self, key: &[u8]) {
        self.summary.entries += 1;
        // Keys are `[document id: 16][kind][sha256]`, sorted: each document is one run.
        if self.tree == trees::DOCUMENTS.as_bytes() {
            let document = &key[..key.len().min(16)];
            if self.last_document.as_deref() != Some(document) {
                self.summary.documents += 1;
                self.last_document = Some(document.to_vec());
            }
        } else if self.tree == trees::BLOBS.as_bytes() {
            self.summary.blobs += 1;
        }
    }
}

struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buffer)?;
        self.hasher.update(&buffer[..written]);
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.hasher.update(&buffer[..read]);
        self.bytes += read as u64;
        Ok(read)
    }
}

/// What [`read_backup`] hands each entry to: `(tree, key, value)`.
type EachEntry<'a> = &'a mut dyn FnMut(&[u8], Vec<u8>, Vec<u8>) -> anyhow::Result<()>;

/// Reads a whole backup from `input` (named `name` in messages) and checks its form and
/// checksum. With `each`, every entry is handed to it as `(tree, key, value)` as it is
/// read — before the checksum is checked, so check first with `None`.
fn read_backup(name: &Path, input: impl Read, mut each: Option<EachEntry<'_>>) -> anyhow::Result<Summary> {
    let name = name.display();
    let truncated = || anyhow::anyhow!("{name} ends early: the backup is truncated or damaged");
    let damaged = |what: String| anyhow::anyhow!("{name} is damaged: {what}");
    let mut input = HashingReader { inner: BufReader::with_capacity(1 << 16, input), hasher: Sha256::new(), bytes: 0 };
    let mut magic = vec![0; MAGIC.len()];
    let got = read_up_to(&mut input, &mut magic).with_context(|| format!("cannot read {name}"))?;
    let family = &MAGIC[..MAGIC.len() - 2];
    if got == MAGIC.len() && magic != MAGIC && magic.starts_with(family) && magic.ends_with(b"\n") {
        bail!(
            "{name} is a backup in format {:?}, which this version of houqin-server cannot read (it reads format 1)",
            String::from_utf8_lossy(&magic[family.len()..]).trim_end()
        );
    }
    if got < MAGIC.len() || magic != MAGIC {
        bail!("{name} is not a Houqin backup: it does not begin with {:?}", String::from_utf8_lossy(MAGIC).trim_end());
    }
    let mut count = Counter::default();
    let mut in_tree = false;
    // Maps a short read to "truncated" and keeps other IO errors as they are.
    let short = |error: io::Error| {
        if error.kind() == io::ErrorKind::UnexpectedEof {
            truncated()
        } else {
            anyhow::Error::new(error).context(format!("cannot read {name}"))
        }
    };
    loop {
        let at = input.bytes;
        let mut kind = [0u8; 1];
        input.read_exact(&mut kind).map_err(short)?;
        match kind[0] {
            TREE => {
                let tree = read_field(&mut input, MAX_KEY)
                    .map_err(short)?
                    .ok_or_else(|| damaged(format!("a tree name at byte {at} is too long")))?;
                count.tree(&tree);
                in_tree = true;
            }
            ENTRY if in_tree => {
                let key =
                    read_field(&mut input, MAX_KEY).map_err(short)?.ok_or_else(|| damaged(format!("a key at byte {at} is too long")))?;
                let length = read_u64(&mut input).map_err(short)?;
                match each.as_mut() {
                    Some(each) => {
                        let value = read_field_of(&mut input, length).map_err(short)?;
                        count.entry(&key);
                        each(&count.tree, key, value)?;
                    }
                    None => {
                        let copied = io::copy(&mut (&mut input).take(length), &mut io::sink()).map_err(short)?;
                        if copied < length {
                            return Err(truncated());
                        }
                        count.entry(&key);
                    }
                }
            }
            END => {
                let entries = read_u64(&mut input).map_err(short)?;
                let digest = input.hasher.clone().finalize();
                let mut stored = [0u8; 32];
                input.inner.read_exact(&mut stored).map_err(short)?;
                if stored.as_slice() != digest.as_slice() {
                    bail!("{name} is damaged: its checksum does not match its contents");
                }
                if entries != count.summary.entries {
                    return Err(damaged(format!("it says it holds {entries} entries but holds {}", count.summary.entries)));
                }
                let mut rest = [0u8; 1];
                if input.inner.read(&mut rest).with_context(|| format!("cannot read {name}"))? != 0 {
                    return Err(damaged("there is more after its end".to_owned()));
                }
                return Ok(Summary { bytes: input.bytes + 32, ..count.summary });
            }
            other => return Err(damaged(format!("unexpected byte {other:#04x} at byte {at}"))),
        }
    }
}

/// Reads until `buffer` is full or the input ends; says how much it read.
fn read_up_to(input: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match input.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

fn read_u64(input: &mut impl Read) -> io::Result<u64> {
    let mut bytes = [0u8; 8];
    input.read_exact(&mut bytes)?;
    Ok(u64::from_be_bytes(bytes))
}

/// A length-prefixed field, or `None` if its length is over `limit`.
fn read_field(input: &mut impl Read, limit: u64) -> io::Result<Option<Vec<u8>>> {
    let length = read_u64(input)?;
    if length > limit {
        return Ok(None);
    }
    read_field_of(input, length).map(Some)
}

/// `length` bytes; memory grows as they arrive, so a damaged length hits the end of the
/// file rather than allocating it.
fn read_field_of(input: &mut impl Read, length: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    input.take(length).read_to_end(&mut bytes)?;
    if (bytes.len() as u64) < length {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(bytes)
}

/// `houqin-server backup --to FILE`: through the running server's control socket, or from
/// the database itself when no server answers there.
pub fn back_up(data: &Path, database_url: Option<&str>, to: &Path) -> anyhow::Result<()> {
    if let Some(url) = database_url {
        // Any process may read PostgreSQL while servers write: one snapshot, no server asked.
        let storage = Storage::open_postgres(url, data)?;
        let summary = write_file_atomically(to, BACKUP_MODE, |file, _| write_backup(&storage, file))?;
        record_last_backup(&storage, &summary)?;
        println!(
            "backed up {} documents and {} files ({} bytes) from the database to {}",
            summary.documents,
            summary.blobs,
            summary.bytes,
            to.display()
        );
        return Ok(());
    }
    let socket = data.join(CONTROL_SOCKET);
    let (summary, how) = match UnixStream::connect(&socket) {
        Ok(stream) => (back_up_through(stream, &socket, to)?, "from the running server"),
        Err(unanswered) => (back_up_stopped(data, to, &socket, unanswered)?, "from the database of a stopped server"),
    };
    println!("backed up {} documents and {} files ({} bytes) {how} to {}", summary.documents, summary.blobs, summary.bytes, to.display());
    Ok(())
}

/// Asks the server on `stream` for a backup and keeps it in `to` once checked whole.
fn back_up_through(stream: UnixStream, socket: &Path, to: &Path) -> anyhow::Result<Summary> {
    let failed = || format!("the server answering on {} did not send a whole backup; see its log", socket.display());
    stream.set_read_timeout(Some(STALLED_SERVER))?;
    (&stream).write_all(format!("{BACKUP_REQUEST}\n").as_bytes()).with_context(failed)?;
    let mut answer = BufReader::with_capacity(1 << 16, &stream);
    if answer.fill_buf().with_context(failed)?.starts_with(ERROR_PREFIX) {
        let mut message = String::new();
        answer.read_line(&mut message).with_context(failed)?;
        bail!("the server refused: {}", message[ERROR_PREFIX.len()..].trim_end());
    }
    write_file_atomically(to, BACKUP_MODE, |file, written| {
        io::copy(&mut answer, file).with_context(failed)?;
        read_backup(written, File::open(written)?, None).with_context(failed)
    })
}

/// Backs up a database no server has open, and records the backup in it.
fn back_up_stopped(data: &Path, to: &Path, socket: &Path, unanswered: io::Error) -> anyhow::Result<Summary> {
    if !is_non_empty_dir(data)? {
        bail!("there is no database in {}: is --data right?", data.display());
    }
    let storage = Storage::open(data).with_context(|| {
        format!(
            "no server answered on {} ({unanswered}), and the database cannot be opened; is the server running with --data {}?",
            socket.display(),
            data.display()
        )
    })?;
    let summary = write_file_atomically(to, BACKUP_MODE, |file, _| write_backup(&storage, file))?;
    record_last_backup(&storage, &summary)?;
    Ok(summary)
}

/// Readable by the server's user alone: a backup holds the token key and password hashes.
const BACKUP_MODE: u32 = 0o600;

/// Writes `path` through `path.tmp`, with permissions `mode`: `write` fills it (it is given
/// the file and its path), then it is synced, renamed, and its directory synced. The
/// temporary file is removed if anything fails.
pub(crate) fn write_file_atomically<T>(
    path: &Path,
    mode: u32,
    write: impl FnOnce(&mut File, &Path) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let Some(file_name) = path.file_name() else { bail!("{} names no file", path.display()) };
    let mut temporary_name = file_name.to_owned();
    temporary_name.push(".tmp");
    let temporary = path.with_file_name(temporary_name);
    let written = (|| {
        let mut file = {
            use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
            let file = fs::OpenOptions::new().write(true).create(true).truncate(true).mode(mode).open(&temporary);
            let file = file.with_context(|| format!("cannot create {}", temporary.display()))?;
            // A temporary file left by a crash keeps its old mode unless it is set again.
            file.set_permissions(fs::Permissions::from_mode(mode)).with_context(|| format!("cannot restrict {}", temporary.display()))?;
            file
        };
        let result = write(&mut file, &temporary)?;
        file.sync_all().with_context(|| format!("cannot sync {}", temporary.display()))?;
        fs::rename(&temporary, path).with_context(|| format!("cannot rename {} to {}", temporary.display(), path.display()))?;
        sync_directory(parent_of(path))?;
        Ok(result)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

fn sync_directory(path: &Path) -> anyhow::Result<()> {
    File::open(path).and_then(|directory| directory.sync_all()).with_context(|| format!("cannot sync the directory {}", path.display()))
}

fn is_non_empty_dir(path: &Path) -> anyhow::Result<bool> {
    match fs::read_dir(path) {
        Ok(mut entries) => Ok(entries.next().is_some()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error).with_context(|| format!("cannot read the directory {}", path.display())),
    }
}

/// `houqin-server restore --from FILE`: checks the backup whole, writes it into a new
/// directory beside `data`, and renames that to `data`, which must be empty or absent. A
/// refused, failed or interrupted restore leaves `data` as it was.
pub fn restore(data: &Path, database_url: Option<&str>, from: &Path) -> anyhow::Result<()> {
    if let Some(url) = database_url {
        return restore_into_postgres(url, data, from);
    }
    if data.exists() && !data.is_dir() {
        bail!("{} is not a directory: restore into a new or empty data directory", data.display());
    }
    if is_non_empty_dir(data)? {
        bail!("{} is not empty: restore into a new or empty data directory (a backup never overwrites a database)", data.display());
    }
    let Some(name) = data.file_name() else { bail!("{} names no directory to restore into", data.display()) };
    let mut staging_name = name.to_owned();
    staging_name.push(".restoring");
    let staging = data.with_file_name(staging_name);
    if staging.exists() {
        bail!("{} exists, perhaps left by an interrupted restore: remove it and try again", staging.display());
    }
    let open = || File::open(from).with_context(|| format!("cannot open the backup {}", from.display()));
    let checked = read_backup(from, open()?, None)?;
    fs::create_dir_all(parent_of(data)).with_context(|| format!("cannot create {}", parent_of(data).display()))?;
    {
        use std::os::unix::fs::DirBuilderExt as _;
        fs::DirBuilder::new().mode(0o700).create(&staging).with_context(|| format!("cannot create {}", staging.display()))?;
    }
    let restored = (|| {
        import(&Storage::open(&staging)?, from, open()?, &checked)?;
        sync_tree(&staging)?;
        // Replaces an empty directory as well as none.
        fs::rename(&staging, data).with_context(|| format!("cannot rename {} to {}", staging.display(), data.display()))?;
        sync_directory(parent_of(data))
    })();
    if let Err(error) = restored {
        if let Err(cleaning) = fs::remove_dir_all(&staging) {
            return Err(
                error.context(format!("and {} could not be removed ({cleaning}); remove it before trying again", staging.display()))
            );
        }
        return Err(error);
    }
    println!("restored {} documents and {} files from {} into {}", checked.documents, checked.blobs, from.display(), data.display());
    Ok(())
}

/// `restore` into PostgreSQL: the backup, checked whole, written into a database that
/// holds nothing (a backup never overwrites a database). A sled server's backup restored
/// so is how a site moves to PostgreSQL. A failed restore leaves what it wrote: clear the
/// database (drop and create it) before trying again.
fn restore_into_postgres(url: &str, data: &Path, from: &Path) -> anyhow::Result<()> {
    let open = || File::open(from).with_context(|| format!("cannot open the backup {}", from.display()));
    let checked = read_backup(from, open()?, None)?;
    let storage = Storage::open_postgres(url, data)?;
    if !storage.holds_nothing()? {
        bail!("the database already holds data: restore into a new, empty database (a backup never overwrites a database)");
    }
    import(&storage, from, open()?, &checked)?;
    println!("restored {} documents and {} files from {} into the database", checked.documents, checked.blobs, from.display());
    Ok(())
}

/// Writes a checked backup into a new database and makes it durable.
fn import(storage: &Storage, from: &Path, input: File, checked: &Summary) -> anyhow::Result<()> {
    let mut current: Option<(Vec<u8>, kv::Tree)> = None;
    let mut insert = |tree: &[u8], key: Vec<u8>, value: Vec<u8>| -> anyhow::Result<()> {
        if current.as_ref().is_none_or(|(name, _)| name != tree) {
            current = Some((tree.to_vec(), storage.named_tree(tree).context("cannot create a tree")?));
        }
        let (_, open) = current.as_ref().expect("opened above");
        open.insert(key, value).context("cannot write the database")?;
        Ok(())
    };
    let written = read_backup(from, input, Some(&mut insert))?;
    if written != *checked {
        bail!("{} changed while it was restored", from.display());
    }
    storage.durable()().context("cannot flush the restored database")?;
    Ok(())
}

/// Syncs every file and directory under `path`, so the restored database's names are
/// durable too.
fn sync_tree(path: &Path) -> anyhow::Result<()> {
    for entry in fs::read_dir(path).with_context(|| format!("cannot read {}", path.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            sync_tree(&entry.path())?;
        } else {
            File::open(entry.path()).and_then(|file| file.sync_all()).with_context(|| format!("cannot sync {}", entry.path().display()))?;
        }
    }
    sync_directory(path)
}

/// The running server's control socket: answers `backup` with a backup. Stop it with
/// [`ControlSocket::stop`], which removes the socket.
pub struct ControlSocket {
    path: PathBuf,
    task: JoinHandle<()>,
}

impl ControlSocket {
    /// Listens on `control.sock` in `data`, replacing one a server that did not shut down
    /// cleanly left (the database is open, so no other server uses this directory).
    pub fn start(data: &Path, storage: Storage) -> anyhow::Result<ControlSocket> {
        let path = data.join(CONTROL_SOCKET);
        // Made private under another name first, so nobody can connect before it is 0600.
        let staging = data.join(format!("{CONTROL_SOCKET}.new"));
        let _ = fs::remove_file(&staging);
        let listener = UnixListener::bind(&staging).with_context(|| format!("cannot listen on {}", staging.display()))?;
        fs::set_permissions(&staging, fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot make {} private", staging.display()))?;
        fs::rename(&staging, &path).with_context(|| format!("cannot rename {} to {}", staging.display(), path.display()))?;
        let task = tokio::spawn(serve_control(listener, storage));
        Ok(ControlSocket { path, task })
    }

    /// Stops answering and removes the socket. A backup being written carries on to its
    /// end on the blocking pool (bounded by its reader's stall limit).
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
        if let Err(error) = fs::remove_file(&self.path) {
            tracing::warn!(path = %self.path.display(), %error, "cannot remove the control socket");
        }
    }
}

async fn serve_control(listener: UnixListener, storage: Storage) {
    let mut answering = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted.and_then(|(stream, _)| stream.into_std()) {
                Ok(stream) => {
                    let storage = storage.clone();
                    answering.spawn_blocking(move || {
                        if let Err(error) = answer(stream, &storage) {
                            tracing::error!(error = format!("{error:#}"), "a backup through the control socket failed");
                        }
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot accept on the control socket");
                    // Out of file descriptors, say: try again shortly rather than spin.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(Err(error)) = answering.join_next() => tracing::error!(%error, "a control socket task failed"),
        }
    }
}

/// Answers one request on the control socket. Blocking.
fn answer(stream: UnixStream, storage: &Storage) -> anyhow::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(STALLED_READER))?;
    let mut request = String::new();
    BufReader::new((&stream).take(256)).read_line(&mut request).context("cannot read the request")?;
    if request.trim_end() != BACKUP_REQUEST {
        let _ = (&stream)
            .write_all(format!("ERROR unknown request {:?}; this server answers {BACKUP_REQUEST:?}\n", request.trim_end()).as_bytes());
        bail!("unknown request {:?} on the control socket", request.trim_end());
    }
    let summary = write_backup(storage, &stream)?;
    // Recorded before the socket closes, so the command line's success implies the record.
    record_last_backup(storage, &summary)?;
    tracing::info!(
        bytes = summary.bytes,
        documents = summary.documents,
        blobs = summary.blobs,
        "wrote a backup through the control socket"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled_database(path: &Path) -> Storage {
        let storage = Storage::open(path).unwrap();
        let documents = storage.tree(trees::DOCUMENTS).unwrap();
        for document in 0..3u8 {
            for chunk in 0..2u8 {
                documents.insert([[document; 16].as_slice(), &[chunk], &[chunk; 32]].concat(), vec![document; 100]).unwrap();
            }
        }
        storage.tree(trees::BLOBS).unwrap().insert([9u8; 32], vec![1u8; 300_000]).unwrap();
        storage.tree(trees::META).unwrap().insert("token_key", [7u8; 32]).unwrap();
        storage
    }

    /// Each tree's name and entries.
    type Contents = Vec<(Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>)>;

    fn contents(storage: &Storage) -> Contents {
        let mut names = storage.tree_names().unwrap();
        names.sort();
        names
            .into_iter()
            .map(|name| {
                let tree = storage.named_tree(&name).unwrap();
                (
                    name.clone(),
                    tree.iter().map(|entry| entry.map(|(key, value)| (key.to_vec(), value.to_vec())).unwrap()).collect::<Vec<_>>(),
                )
            })
            .filter(|(name, entries)| name != trees::SLED_DEFAULT.as_bytes() || !entries.is_empty())
            .collect()
    }

    #[test]
    fn a_backup_restores_every_tree_and_counts_what_it_holds() {
        let original = tempfile::tempdir().unwrap();
        let storage = filled_database(original.path());
        let mut bytes = Vec::new();
        let summary = write_backup(&storage, &mut bytes).unwrap();
        // Eight written by the test, and the flush count the backup's flush stored.
        assert_eq!(summary, Summary { bytes: bytes.len() as u64, documents: 3, blobs: 1, entries: 9 });
        assert!(bytes.starts_with(MAGIC));

        let scratch = tempfile::tempdir().unwrap();
        let file = scratch.path().join("houqin.backup");
        fs::write(&file, &bytes).unwrap();
        let target = scratch.path().join("restored");
        restore(&target, None, &file).unwrap();
        let restored = Storage::open(&target).unwrap();
        assert_eq!(contents(&restored), contents(&storage));
    }

    #[test]
    fn damaged_backups_are_refused_whole() {
        let original = tempfile::tempdir().unwrap();
        let mut bytes = Vec::new();
        write_backup(&filled_database(original.path()), &mut bytes).unwrap();
        let path = Path::new("b");
        let refusal = |bytes: &[u8]| format!("{:#}", read_backup(path, bytes, None).unwrap_err());
        assert_eq!(read_backup(path, bytes.as_slice(), None).unwrap().bytes, bytes.len() as u64);
        for length in [0, 5, MAGIC.len(), MAGIC.len() + 30, bytes.len() / 2, bytes.len() - 33, bytes.len() - 1] {
            let message = refusal(&bytes[..length]);
            assert!(message.contains("truncated") || message.contains("not a Houqin backup"), "{length}: {message}");
        }
        // Every byte, flipped: refused, whatever the byte was (magic, kind, length, data, sum).
        for at in (0..bytes.len()).step_by(97).chain([0, MAGIC.len(), bytes.len() - 40, bytes.len() - 1]) {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x20;
            let message = refusal(&flipped);
            assert!(message.starts_with("b "), "{at}: {message}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(refusal(&longer), "b is damaged: there is more after its end");
        assert_eq!(refusal(b"PK\x03\x04 a zip file"), "b is not a Houqin backup: it does not begin with \"HOUQIN-BACKUP 1\"");
        let mut newer = bytes.clone();
        newer[MAGIC.len() - 2] = b'2';
        assert_eq!(refusal(&newer), "b is a backup in format \"2\", which this version of houqin-server cannot read (it reads format 1)");
    }
}
