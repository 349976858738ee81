//! `houqin-server check`: reads everything in the database — every key of every tree,
//! every document, every file, the directory — and says what does not read, and what
//! the database says it holds but does not (sled drops a value whose file is gone). Run on a
//! stopped server's `--data` (sled allows one process at a time). Nothing is changed.

use anyhow::Context;
use automerge::AutoCommit;

use shared::document::catalog::SiteCatalog;
use shared::protocol::DocumentId;

use crate::Storage;
use crate::blobs::BlobStore;
use crate::directory::Directory;
use crate::documents::DocumentStore;

/// What a check read, and what it could not.
#[derive(Debug, Default)]
pub struct Report {
    pub trees: usize,
    pub keys: u64,
    pub documents: usize,
    pub files: usize,
    /// One line per thing that does not read, naming it.
    pub problems: Vec<String>,
}

/// Reads the whole database. Errors only when it cannot be read at all.
pub fn check(storage: &Storage) -> anyhow::Result<Report> {
    let mut report = Report::default();
    for name in storage.tree_names()? {
        let shown = String::from_utf8_lossy(&name).into_owned();
        let tree = storage.named_tree(&name)?;
        report.trees += 1;
        for entry in &tree {
            match entry {
                Ok(_) => report.keys += 1,
                Err(error) => {
                    report.problems.push(format!("tree {shown:?}: stops reading after {} keys: {error}", report.keys));
                    break;
                }
            }
        }
    }
    let documents = DocumentStore::open(storage)?;
    for id in documents.ids()? {
        report.documents += 1;
        match documents.chunks(&id) {
            Ok(chunks) => {
                let whole: Vec<u8> = chunks.iter().flat_map(|chunk| chunk.iter().copied()).collect();
                if AutoCommit::load(&whole).is_err() {
                    let mut doc = AutoCommit::new();
                    let bad = chunks.iter().filter(|chunk| doc.load_incremental(chunk).is_err()).count();
                    report.problems.push(format!(
                        "document {}: its {} stored chunks do not read as one ({bad} not even alone); the server keeps the changes of those that do",
                        id.url(),
                        chunks.len()
                    ));
                }
            }
            Err(error) => report.problems.push(format!("document {}: {error:#}", id.url())),
        }
    }
    let (files, problems) = BlobStore::open(storage)?.check_files();
    report.files = files;
    report.problems.extend(problems);
    report.problems.extend(at_start(storage)?);
    let directory = Directory::open(storage)?;
    if let Err(error) = directory.users() {
        report.problems.push(format!("people: {error:#}"));
    }
    match directory.sites() {
        Ok(sites) => {
            for site in sites {
                let Some(catalog) = site.catalog else { continue };
                let listed = match documents.load(&catalog) {
                    Ok(Some(doc)) => {
                        SiteCatalog::from_doc(doc).and_then(|catalog| catalog.read()).map(|view| view.index).unwrap_or_default()
                    }
                    Ok(None) => {
                        report.problems.push(format!("site {}: its catalog {} is not stored", site.id, catalog.url()));
                        continue;
                    }
                    Err(error) => {
                        report.problems.push(format!("site {}: its catalog does not read: {error:#}", site.id));
                        continue;
                    }
                };
                for entry in listed {
                    let Ok(id) = DocumentId::parse(&entry.document) else { continue };
                    if documents.chunks(&id).is_ok_and(|chunks| chunks.is_empty()) {
                        report
                            .problems
                            .push(format!("document {}: listed at site {} ({}), but not stored", entry.document, site.id, entry.title));
                    }
                }
            }
        }
        Err(error) => report.problems.push(format!("sites: {error:#}")),
    }
    Ok(report)
}

/// What the database says it keeps in files of sled's own and no longer holds: photos
/// uploaded whose bytes are gone, large document chunks named in `large_chunks` that are
/// gone (sled drops a value whose file was removed without a word). Quick enough for
/// every start: a lookup per photo and per large chunk, nothing read whole.
pub fn at_start(storage: &Storage) -> anyhow::Result<Vec<String>> {
    let mut problems: Vec<String> = BlobStore::open(storage)?
        .uploads_without_bytes()?
        .into_iter()
        .map(|sha256| format!("file {}: uploaded, but its bytes are gone", hex::encode(sha256)))
        .collect();
    for (document, length) in DocumentStore::open(storage)?.missing_large()? {
        problems.push(format!(
            "document {}: a stored chunk of {length} bytes is gone; its changes are kept only on the phones that made or fetched them",
            document.url()
        ));
    }
    Ok(problems)
}

/// What a salvage copied, and what the copy lacks.
pub struct Salvaged {
    pub keys: u64,
    /// Trees that stopped reading part way, with how far they got.
    pub cut_short: Vec<String>,
    /// The copy's own check: what it says it holds but does not, and what does not read.
    pub check: Report,
}

/// Copies every key that still reads from the database in `from` (opened even if it went
/// back behind its flush count) into a new one in `to`, which must not exist yet, and
/// checks the copy. The damaged database is not changed.
pub fn salvage(from: &std::path::Path, to: &std::path::Path) -> anyhow::Result<Salvaged> {
    anyhow::ensure!(!to.exists(), "{} exists: salvage into a new directory", to.display());
    let source = Storage::open_damaged(from)?;
    let copy = Storage::open(to)?;
    let (mut keys, mut cut_short) = (0, Vec::new());
    for name in source.tree_names()? {
        let shown = String::from_utf8_lossy(&name).into_owned();
        let tree = source.named_tree(&name)?;
        let into = copy.named_tree(&name)?;
        let mut copied = 0u64;
        for entry in &tree {
            match entry {
                Ok((key, value)) => {
                    into.insert(key, value).context("cannot write the copy")?;
                    copied += 1;
                }
                Err(error) => {
                    cut_short.push(format!("tree {shown:?}: {copied} keys copied, then: {error}"));
                    break;
                }
            }
        }
        keys += copied;
    }
    let check = check(&copy)?;
    // What the copy lacks is listed above; it no longer claims to hold it, so a server
    // starts on it without calling it damaged.
    DocumentStore::open(&copy)?.forget_missing_large()?;
    BlobStore::open(&copy)?.forget_uploads_without_bytes()?;
    copy.durable()()?;
    Ok(Salvaged { keys, cut_short, check })
}
