//! `houqin-server check`: reads everything in the database — every key of every tree,
//! every document, every file, the directory — and says what does not read, and what
//! the database says it holds but does not (sled drops a value whose file is gone). Run on a
//! stopped server's `--data` (sled allows one process at a time). Nothing is changed.

use anyhow::Context;
use automerge::AutoCommit;
use sha2::{Digest, Sha256};

use shared::document::catalog::SiteCatalog;
use shared::protocol::DocumentId;

use crate::Storage;
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
    let db = storage.db();
    for name in db.tree_names() {
        let shown = String::from_utf8_lossy(&name).into_owned();
        let tree = db.open_tree(&name).with_context(|| format!("cannot open the tree {shown:?}"))?;
        report.trees += 1;
        for entry in tree.iter() {
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
    for entry in storage.tree("blobs")?.iter() {
        report.files += 1;
        match entry {
            Ok((key, bytes)) => {
                let hash: [u8; 32] = Sha256::digest(&bytes).into();
                if hash.as_slice() != key.as_ref() {
                    let named: String = key.iter().map(|byte| format!("{byte:02x}")).collect();
                    report.problems.push(format!("file {named}: its bytes no longer hash to its name"));
                }
            }
            Err(error) => report.problems.push(format!("files: {error}")),
        }
    }
    // sled drops a value whose own file is gone without a word: what other trees say was
    // stored is looked for.
    let blobs = storage.tree("blobs")?;
    let mut missing = std::collections::BTreeSet::new();
    for tree in ["blob_sites", "blob_refs"] {
        for key in storage.tree(tree)?.iter().keys().flatten() {
            if let Some(sha256) = key.get(..32)
                && !blobs.contains_key(sha256).unwrap_or(false)
            {
                missing.insert(sha256.to_vec());
            }
        }
    }
    for sha256 in missing {
        let named: String = sha256.iter().map(|byte| format!("{byte:02x}")).collect();
        report.problems.push(format!("file {named}: uploaded or referred to, but its bytes are gone"));
    }
    let directory = Directory::open(storage)?;
    if let Err(error) = directory.users() {
        report.problems.push(format!("people: {error:#}"));
    }
    match directory.sites() {
        Ok(sites) => {
            for site in sites {
                let Some(catalog) = site.catalog else { continue };
                let listed = match documents.load(&catalog) {
                    Ok(Some(doc)) => SiteCatalog::from_doc(doc).and_then(|catalog| catalog.read()).map(|view| view.index).unwrap_or_default(),
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
                        report.problems.push(format!("document {}: listed at site {} ({}), but not stored", entry.document, site.id, entry.title));
                    }
                }
            }
        }
        Err(error) => report.problems.push(format!("sites: {error:#}")),
    }
    Ok(report)
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
    for name in source.db().tree_names() {
        let shown = String::from_utf8_lossy(&name).into_owned();
        let tree = source.db().open_tree(&name).with_context(|| format!("cannot open the tree {shown:?}"))?;
        let into = copy.db().open_tree(&name).with_context(|| format!("cannot make the tree {shown:?}"))?;
        let mut copied = 0u64;
        for entry in tree.iter() {
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
    copy.durable()()?;
    let check = check(&copy)?;
    Ok(Salvaged { keys, cut_short, check })
}
