//! Photos and signatures, by content: `PUT /blobs/{sha256}` and `GET /blobs/{sha256}`.
//!
//! Trees: `blobs` (SHA-256 → the bytes) and `blob_refs` (`[SHA-256][document id]` → the
//! document's site and the type it names), `blob_refs_by_document` (`[document id][SHA-256]`,
//! the same references the other way round, so those a document no longer makes are
//! dropped), `blob_sites` (`[SHA-256][site]` → when someone
//! of that site first uploaded it, ms big-endian; empty for uploads before times were
//! kept), `blob_usage` (site → bytes its people have stored, big-endian). A blob is never inside a document; documents hold
//! `{sha256, size, mime}` and the sync hub records those references as changes are
//! stored. Anyone signed in with a role may upload a JPEG, PNG or WebP picture (judged by
//! its bytes; the hash is checked, so an upload can only ever be the file it claims to
//! be). A blob is readable by those with a role at a site where a document refers to it
//! *and* someone who uploaded it works: knowing a hash is not enough to make another
//! site's photo readable by pointing a document at it. (A blob stored before uploaders'
//! sites were recorded has none, and is readable where documents refer to it.) To
//! everyone else it does not exist, and an upload is answered alike whether the file was
//! there or not.
//!
//! Each site has a quota ([`BlobStore::quota`], `--blob-quota-mib`): a file new to a site
//! counts against it, and an upload that would take a site of the uploader's past it is
//! refused (507 `quota_exceeded`). Files no document refers to a week after they were
//! uploaded are removed ([`BlobStore::collect`], hourly), and given back to the quota.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::kv;
use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shared::directory::SiteId;
use shared::document::BlobRef;
use shared::protocol::DocumentId;

use crate::auth::Session;
use crate::storage::trees;
use crate::{AppError, AppState, Storage};

/// The largest file accepted: a phone shrinks photos to 1600 px (a few hundred KB), so
/// this leaves room for an unshrunk one without letting anyone fill the disk in one go.
pub const MAX_BLOB: usize = 10 << 20;

/// What one site's people may store, unless the server is told otherwise.
pub const DEFAULT_QUOTA: u64 = 4 << 30;
/// How long an uploaded file may wait for a document that refers to it: a phone uploads
/// its photos and syncs the round in the same minute it is online.
pub const UNREFERENCED_GRACE: Duration = Duration::from_secs(7 * 24 * 3600);

/// The blob trees.
#[derive(Clone)]
pub struct BlobStore {
    blobs: kv::Tree,
    refs: kv::Tree,
    refs_by_document: kv::Tree,
    sites: kv::Tree,
    usage: kv::Tree,
    /// The references recorded here last, by document: a change that refers to the same
    /// files (most do) records nothing.
    recorded: Arc<Mutex<HashMap<DocumentId, Recorded>>>,
    /// Bytes each site's people may store.
    pub quota: u64,
}

/// A document's site and the files (SHA-256, type) it refers to, in order.
type Recorded = (SiteId, Vec<([u8; 32], String)>);

/// How many documents' recorded references are remembered before they are forgotten
/// (and recorded again at their next change): a few megabytes.
const RECORDED_KEPT: usize = 50_000;

/// Why a file was not stored.
#[derive(Debug, thiserror::Error)]
pub enum PutError {
    #[error("site {site} has stored {used} of its {quota} bytes of files")]
    Quota { site: SiteId, used: u64, quota: u64 },
    #[error(transparent)]
    Storage(#[from] anyhow::Error),
}

/// What the index keeps about one reference.
#[derive(Serialize, Deserialize)]
struct Reference {
    site: SiteId,
    mime: String,
}

impl BlobStore {
    pub fn open(storage: &Storage) -> anyhow::Result<BlobStore> {
        Ok(BlobStore {
            blobs: storage.tree(trees::BLOBS)?,
            refs: storage.tree(trees::BLOB_REFS)?,
            refs_by_document: storage.tree(trees::BLOB_REFS_BY_DOCUMENT)?,
            sites: storage.tree(trees::BLOB_SITES)?,
            usage: storage.tree(trees::BLOB_USAGE)?,
            recorded: Arc::default(),
            quota: DEFAULT_QUOTA,
        })
    }

    /// Bytes the people of `site` have stored.
    pub fn usage(&self, site: &SiteId) -> anyhow::Result<u64> {
        let stored = self.usage.get(site.as_str()).context("cannot read a site's file usage")?;
        Ok(stored.and_then(|bytes| bytes.as_ref().try_into().ok()).map_or(0, u64::from_be_bytes))
    }

    fn add_usage(&self, site: &str, bytes: i64) -> anyhow::Result<()> {
        self.usage
            .update_and_fetch(site, |stored| {
                let used = stored.and_then(|stored| stored.try_into().ok()).map_or(0, u64::from_be_bytes);
                Some(used.saturating_add_signed(bytes).to_be_bytes().to_vec())
            })
            .context("cannot count a site's files")?;
        Ok(())
    }

    /// Stores the bytes under their hash unless they are there, and records the uploader's
    /// sites at `now` (ms), each charged the size the first time; says whether the bytes
    /// were new. Refused, storing nothing, if a site would pass its quota. Not flushed.
    pub fn put(&self, sha256: &[u8; 32], bytes: &[u8], uploader_sites: &[SiteId], now: i64) -> Result<bool, PutError> {
        let size = bytes.len() as u64;
        let key = |site: &SiteId| [sha256.as_slice(), site.as_str().as_bytes()].concat();
        let mut charged = Vec::new();
        for site in uploader_sites {
            if self.sites.contains_key(key(site)).context("cannot read a blob's sites")? {
                continue;
            }
            let used = self.usage(site)?;
            if used.saturating_add(size) > self.quota {
                return Err(PutError::Quota { site: site.clone(), used, quota: self.quota });
            }
            charged.push(site);
        }
        // The bytes and the sites that uploaded them are written at once: an upload is
        // never recorded without its bytes (that is damage, looked for at start), nor
        // bytes without who uploaded them (readable wherever documents refer to them).
        let stamp = now.to_be_bytes();
        let (swapped, recorded) = kv::transaction([&self.blobs, &self.sites], |[blobs, sites]| {
            let swapped = blobs.get(sha256)?.is_none();
            if swapped {
                blobs.insert(sha256.as_slice(), bytes)?;
            }
            let mut recorded = Vec::new();
            for site in &charged {
                // Of two uploads at once, the one that records the site pays for it.
                if sites.get(key(site))?.is_none() {
                    sites.insert(key(site), stamp)?;
                    recorded.push(*site);
                }
            }
            Ok((swapped, recorded))
        })
        .context("cannot store a blob")?;
        for site in recorded {
            self.add_usage(site.as_str(), size as i64)?;
        }
        Ok(swapped)
    }

    /// Removes files no document refers to whose every upload is older than `grace` at
    /// `now` (ms), giving their size back to the sites charged; returns how many. Files
    /// kept before upload times were recorded are left alone.
    pub fn collect(&self, now: i64, grace: Duration) -> anyhow::Result<usize> {
        let mut removed = 0;
        for entry in &self.blobs {
            let (sha256, bytes) = entry.context("cannot read the blobs")?;
            if self.refs.scan_prefix(&sha256).next().is_some() {
                continue;
            }
            let uploads: Vec<(kv::Value, kv::Value)> =
                self.sites.scan_prefix(&sha256).collect::<Result<_, _>>().context("cannot read a blob's sites")?;
            let uploaded_at = |value: &kv::Value| value.as_ref().try_into().ok().map(i64::from_be_bytes);
            let expired = !uploads.is_empty()
                && uploads.iter().all(|(_, value)| uploaded_at(value).is_some_and(|at| now.saturating_sub(at) > grace.as_millis() as i64));
            if !expired {
                continue;
            }
            // Referred to since the scan began: kept.
            if self.refs.scan_prefix(&sha256).next().is_some() {
                continue;
            }
            // At once, as they were stored ([`BlobStore::put`]).
            kv::transaction([&self.blobs, &self.sites], |[blobs, sites]| {
                blobs.remove(&sha256)?;
                for (key, _) in &uploads {
                    sites.remove(key)?;
                }
                Ok(())
            })
            .context("cannot remove a blob")?;
            for (key, _) in uploads {
                let site = String::from_utf8_lossy(&key[sha256.len()..]).into_owned();
                self.add_usage(&site, -(bytes.len() as i64))?;
            }
            removed += 1;
        }
        Ok(removed)
    }

    /// The file's bytes, if it is stored. Blocking.
    pub fn get(&self, sha256: &[u8; 32]) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self.blobs.get(sha256).context("cannot read a blob")?.map(|bytes| bytes.to_vec()))
    }

    /// Records that `document`, at `site`, refers to each of `blobs` and to no other file
    /// (references it made before and no longer does are dropped; those recorded before
    /// references were kept both ways stay). Not flushed: the sync hub's flush of the
    /// document's changes covers it. A reference is added the other way round first and
    /// dropped from it last, so an interrupted update leaves a file kept, never lost.
    pub fn record_refs(&self, document: &DocumentId, site: &SiteId, blobs: &[BlobRef]) -> anyhow::Result<()> {
        let mut recording: Vec<([u8; 32], String)> =
            blobs.iter().filter_map(|blob| Some((parse_sha256(&blob.sha256)?, blob.mime.clone()))).collect();
        recording.sort();
        recording.dedup();
        let recording = (site.clone(), recording);
        if self.recorded.lock().unwrap_or_else(PoisonError::into_inner).get(document) == Some(&recording) {
            return Ok(());
        }
        self.write_refs(document, &recording)?;
        let mut recorded = self.recorded.lock().unwrap_or_else(PoisonError::into_inner);
        if recorded.len() >= RECORDED_KEPT {
            recorded.clear();
        }
        recorded.insert(*document, recording);
        Ok(())
    }

    fn write_refs(&self, document: &DocumentId, (site, refs): &Recorded) -> anyhow::Result<()> {
        let id = document.as_bytes();
        for entry in self.refs_by_document.scan_prefix(id) {
            let (key, _) = entry.context("cannot read a document's files")?;
            let Ok(sha256) = <[u8; 32]>::try_from(&key[id.len()..]) else { continue };
            if !refs.iter().any(|(wanted, _)| *wanted == sha256) {
                self.refs.remove([sha256.as_slice(), id].concat()).context("cannot drop a blob reference")?;
                self.refs_by_document.remove(&key).context("cannot drop a blob reference")?;
            }
        }
        for (sha256, mime) in refs {
            self.refs_by_document.insert([id, sha256.as_slice()].concat(), []).context("cannot index a blob reference")?;
            let value = serde_json::to_vec(&Reference { site: site.clone(), mime: mime.clone() })?;
            self.refs.insert([sha256.as_slice(), id].concat(), value).context("cannot index a blob reference")?;
        }
        Ok(())
    }

    /// Whether `session` can see a document referring to the blob, at a site where
    /// someone who uploaded it works.
    fn readable_by(&self, sha256: &[u8; 32], session: &Session) -> anyhow::Result<bool> {
        let recorded = self.sites.scan_prefix(sha256).next().is_some();
        for entry in self.refs.scan_prefix(sha256) {
            let (_, value) = entry.context("cannot read the blob index")?;
            let reference: Reference = serde_json::from_slice(&value).context("a blob reference is unreadable")?;
            if session.role_at(&reference.site).is_none() {
                continue;
            }
            let uploaded_there = [sha256.as_slice(), reference.site.as_str().as_bytes()].concat();
            if !recorded || self.sites.contains_key(uploaded_there).context("cannot read a blob's sites")? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Reads every stored file whole: how many there are, and a line for each whose bytes
    /// no longer hash to its name or that does not read (`houqin-server check`). Blocking.
    pub fn check_files(&self) -> (usize, Vec<String>) {
        let (mut files, mut problems) = (0, Vec::new());
        for entry in &self.blobs {
            files += 1;
            match entry {
                Ok((key, bytes)) => {
                    let hash: [u8; 32] = Sha256::digest(&bytes).into();
                    if hash.as_slice() != key.as_ref() {
                        problems.push(format!("file {}: its bytes no longer hash to its name", hex::encode(&key)));
                    }
                }
                Err(error) => problems.push(format!("files: {error}")),
            }
        }
        (files, problems)
    }

    /// The files whose upload is recorded but whose bytes are gone (sled drops a value
    /// whose own file was deleted), each once. A lookup per upload, nothing read whole:
    /// quick enough for every start. Blocking.
    pub fn uploads_without_bytes(&self) -> anyhow::Result<Vec<[u8; 32]>> {
        let (mut gone, mut previous) = (Vec::new(), None);
        for key in self.sites.iter().keys() {
            let key = key.context("cannot read the photos' uploads")?;
            let Some(sha256) = key.get(..32).and_then(|sha256| <[u8; 32]>::try_from(sha256).ok()) else { continue };
            // Keys are `[sha256][site]`, sorted: a file's uploads are one run.
            if previous == Some(sha256) {
                continue;
            }
            previous = Some(sha256);
            if !self.blobs.contains_key(sha256).context("cannot read the photos")? {
                gone.push(sha256);
            }
        }
        Ok(gone)
    }

    /// Forgets the uploads of files whose bytes are gone (a salvaged copy, once what it
    /// lacks is listed), so a server starts on it without calling it damaged. Blocking.
    pub fn forget_uploads_without_bytes(&self) -> anyhow::Result<()> {
        for key in self.sites.iter().keys() {
            let key = key.context("cannot read the uploads")?;
            if key.get(..32).is_some_and(|sha256| !self.blobs.contains_key(sha256).unwrap_or(true)) {
                self.sites.remove(&key).context("cannot forget an upload")?;
            }
        }
        Ok(())
    }
}

/// How often files no document refers to are looked for.
pub const COLLECT_EVERY: Duration = Duration::from_secs(3600);

/// Collects unreferenced files every `period`, the first time a period after start.
pub async fn collect_every(blobs: BlobStore, period: Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        ticks.tick().await;
        let store = blobs.clone();
        let now = crate::auth::now().as_millis();
        match tokio::task::spawn_blocking(move || store.collect(now, UNREFERENCED_GRACE)).await {
            Ok(Ok(0)) => {}
            Ok(Ok(removed)) => tracing::info!(removed, "removed files no document refers to"),
            Ok(Err(error)) => tracing::error!(error = format!("{error:#}"), "cannot collect unreferenced files"),
            Err(error) => tracing::error!(%error, "the file collection task failed"),
        }
    }
}

/// 64 lowercase hex digits as 32 bytes.
pub fn parse_sha256(text: &str) -> Option<[u8; 32]> {
    // Lowercase only: a file has one name, so `GET` and `PUT` agree on its key.
    if text.bytes().any(|byte| byte.is_ascii_uppercase()) {
        return None;
    }
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text, &mut bytes).ok()?;
    Some(bytes)
}

/// The picture type the bytes are, by their first bytes: what a phone's camera or canvas
/// makes. Anything else (an SVG, a page, a program) is not kept.
pub fn picture_type(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some(("image/jpeg", "jpg"))
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("image/png", "png"))
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some(("image/webp", "webp"))
    } else {
        None
    }
}

pub fn router() -> Router<AppState> {
    // The limit is checked as the body arrives: an oversized upload is cut off, not buffered.
    Router::new().route("/blobs/{sha256}", put(upload).get(download).layer(DefaultBodyLimit::max(MAX_BLOB)))
}

fn path_hash(text: &str) -> Result<[u8; 32], AppError> {
    parse_sha256(text).ok_or_else(|| AppError::BadRequest(format!("{text:?} is not a SHA-256: expected 64 lowercase hex digits")))
}

async fn upload(
    State(state): State<AppState>,
    session: Session,
    Path(sha256): Path<String>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<StatusCode, AppError> {
    let expected = path_hash(&sha256)?;
    if session.user.roles.is_empty() {
        return Err(AppError::Forbidden("only people with a role at a site may upload files"));
    }
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge { limit: MAX_BLOB },
        _ => AppError::BadRequest(rejection.body_text()),
    })?;
    if body.is_empty() {
        return Err(AppError::BadRequest("the file is empty".to_owned()));
    }
    let actual: [u8; 32] = Sha256::digest(&body).into();
    if actual != expected {
        let actual = hex::encode(actual);
        return Err(AppError::BadRequest(format!(
            "the content's SHA-256 is {actual}, not {sha256}: the upload was damaged or mislabelled"
        )));
    }
    if picture_type(&body).is_none() {
        return Err(AppError::UnsupportedFile);
    }
    if let Err(low) = state.storage.space().check() {
        tracing::warn!(user = %session.user.username, %low, "refused a file: the disk is nearly full");
        return Err(AppError::DiskFull);
    }
    let blobs = state.blobs.clone();
    let sites: Vec<SiteId> = session.user.roles.iter().map(|(site, _)| site.clone()).collect();
    let now = crate::auth::now().as_millis();
    let added =
        match tokio::task::spawn_blocking(move || blobs.put(&expected, &body, &sites, now)).await.context("the blob store task failed")? {
            Ok(added) => added,
            Err(PutError::Quota { site, used, quota }) => {
                tracing::warn!(user = %session.user.username, %site, used, quota, "refused a file: the site's quota is full");
                return Err(AppError::QuotaExceeded { site });
            }
            Err(PutError::Storage(error)) => return Err(error.into()),
        };
    // The phone deletes nothing until it hears this, so the file (and who may read it) must
    // be on disk first. A file that was there already is answered alike.
    state.storage.flush().await?;
    if added {
        tracing::info!(user = %session.user.username, %sha256, "stored a file");
    }
    Ok(StatusCode::CREATED)
}

async fn download(State(state): State<AppState>, session: Session, Path(sha256): Path<String>) -> Result<Response, AppError> {
    let wanted = path_hash(&sha256)?;
    let blobs = state.blobs.clone();
    let found = tokio::task::spawn_blocking(move || -> anyhow::Result<Option<Vec<u8>>> {
        if !blobs.readable_by(&wanted, &session)? {
            return Ok(None);
        }
        blobs.get(&wanted)
    })
    .await
    .context("the blob store task failed")??;
    // Unknown, not yet uploaded, and not theirs to see all look the same.
    let bytes = found.ok_or(AppError::NotFound)?;
    // Served as what the bytes are, never as what a document claims; a file kept before
    // uploads were checked that is no picture is served as bytes to save.
    let (content_type, extension) = picture_type(&bytes).unwrap_or(("application/octet-stream", "bin"));
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{sha256}.{extension}\""))
        .expect("a hash and an extension are a valid header");
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CONTENT_DISPOSITION, disposition),
        // The address is the content: it never changes, but it is not for shared caches.
        (header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=31536000, immutable")),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        // Nothing served here may run, even opened directly.
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox"),
        ),
    ];
    Ok((headers, Bytes::from(bytes)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(seed: u8, size: usize) -> (Vec<u8>, [u8; 32]) {
        let bytes: Vec<u8> =
            [0xff, 0xd8, 0xff, 0xe0].into_iter().chain((0..size - 4).map(|index| (index as u8).wrapping_mul(seed))).collect();
        let hash = Sha256::digest(&bytes).into();
        (bytes, hash)
    }

    #[test]
    fn each_site_pays_once_for_a_file_and_no_more_than_its_quota() {
        let data = tempfile::tempdir().unwrap();
        let mut store = BlobStore::open(&Storage::open(data.path()).unwrap()).unwrap();
        store.quota = 10_000;
        let (hq, plant2) = (SiteId::parse("hq").unwrap(), SiteId::parse("plant2").unwrap());
        let (photo, hash) = jpeg(3, 6_000);
        assert!(store.put(&hash, &photo, std::slice::from_ref(&hq), 1).unwrap());
        assert!(!store.put(&hash, &photo, &[hq.clone(), plant2.clone()], 2).unwrap(), "known bytes");
        assert_eq!((store.usage(&hq).unwrap(), store.usage(&plant2).unwrap()), (6_000, 6_000), "each site once");
        let (second, second_hash) = jpeg(5, 6_000);
        let refused = store.put(&second_hash, &second, std::slice::from_ref(&hq), 3);
        assert!(matches!(refused, Err(PutError::Quota { ref site, used: 6_000, quota: 10_000 }) if *site == hq), "{refused:?}");
        assert!(store.get(&second_hash).unwrap().is_none(), "nothing of a refused file is kept");
        assert_eq!(store.usage(&hq).unwrap(), 6_000);
    }

    #[test]
    fn files_no_document_refers_to_go_after_their_grace_and_give_back_their_space() {
        let data = tempfile::tempdir().unwrap();
        let store = BlobStore::open(&Storage::open(data.path()).unwrap()).unwrap();
        let hq = SiteId::parse("hq").unwrap();
        let day = 24 * 3600 * 1000;
        let (referred, referred_hash) = jpeg(3, 1_000);
        let (orphan, orphan_hash) = jpeg(5, 2_000);
        let (recent, recent_hash) = jpeg(7, 4_000);
        store.put(&referred_hash, &referred, std::slice::from_ref(&hq), 0).unwrap();
        store.put(&orphan_hash, &orphan, std::slice::from_ref(&hq), 0).unwrap();
        store.put(&recent_hash, &recent, std::slice::from_ref(&hq), 6 * day).unwrap();
        let hex = hex::encode(referred_hash);
        let document = DocumentId::from_random([1; 16]);
        store.record_refs(&document, &hq, &[BlobRef::new(&hex, 1_000, "image/jpeg").unwrap()]).unwrap();
        // A file kept before upload times were recorded.
        let (old, old_hash) = jpeg(9, 500);
        store.blobs.insert(old_hash, old).unwrap();
        store.sites.insert([old_hash.as_slice(), b"hq"].concat(), []).unwrap();

        assert_eq!(store.collect(6 * day, UNREFERENCED_GRACE).unwrap(), 0, "within the grace");
        assert_eq!(store.collect(8 * day, UNREFERENCED_GRACE).unwrap(), 1);
        assert!(store.get(&orphan_hash).unwrap().is_none(), "the file no one refers to is gone");
        for kept in [referred_hash, recent_hash, old_hash] {
            assert!(store.get(&kept).unwrap().is_some());
        }
        assert_eq!(store.usage(&hq).unwrap(), 5_000, "its space is given back");

        // A signature taken again: the document refers to the new file only, and the old
        // one goes once its grace is over.
        let (retaken, retaken_hash) = jpeg(11, 1_500);
        store.put(&retaken_hash, &retaken, std::slice::from_ref(&hq), 8 * day).unwrap();
        let retaken_hex = hex::encode(retaken_hash);
        store.record_refs(&document, &hq, &[BlobRef::new(&retaken_hex, 1_500, "image/jpeg").unwrap()]).unwrap();
        assert_eq!(store.collect(9 * day, UNREFERENCED_GRACE).unwrap(), 1);
        assert!(store.get(&referred_hash).unwrap().is_none(), "the file the document dropped is gone");
        assert!(store.get(&retaken_hash).unwrap().is_some());
        assert_eq!(store.usage(&hq).unwrap(), 5_500);
    }

    #[test]
    fn pictures_are_told_by_their_first_bytes() {
        use super::picture_type;
        assert_eq!(picture_type(&[0xff, 0xd8, 0xff, 0xe0, 0, 0x10]).map(|found| found.0), Some("image/jpeg"));
        assert_eq!(picture_type(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").map(|found| found.0), Some("image/png"));
        assert_eq!(picture_type(b"RIFF\x24\0\0\0WEBPVP8 ").map(|found| found.0), Some("image/webp"));
        for other in [
            &b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"[..],
            b"<!doctype html>",
            b"RIFF\x24\0\0\0WAVE",
            b"\xff\xd8",
            b"",
        ] {
            assert_eq!(picture_type(other), None, "{:?}", String::from_utf8_lossy(other));
        }
    }

    #[test]
    fn hashes_are_64_lowercase_hex_digits() {
        let hash = "ab".repeat(32);
        assert_eq!(parse_sha256(&hash), Some([0xab; 32]));
        assert_eq!(parse_sha256(&hash.to_uppercase()), None);
        assert_eq!(parse_sha256(&hash[..62]), None);
        assert_eq!(parse_sha256(&"zz".repeat(32)), None);
    }
}
