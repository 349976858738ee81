//! Serves the built PWA: from a directory (`--dist`, or `./dist` as `cargo xtask dist`
//! writes it), or from the copy built into a release binary (`cargo xtask release`).
//!
//! - App pages (`shared::routes`) get the app shell, `index.html`; every other unknown
//!   path gets 404, so a mistyped API path is not mistaken for a page.
//! - Files under `/assets/` carry a content hash in their name and are cached for a year;
//!   everything else (the shell, the service worker, the manifest, icons) must be
//!   revalidated, so a phone never keeps a stale service worker.
//! - Precompressed `.br` and `.gz` siblings written by `cargo xtask dist` are served when
//!   the browser accepts them; built-in files carry an `ETag`, so revalidating costs a 304.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::{AppError, AppState};

/// Cache lifetime of content-hashed files.
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
/// Everything else: the browser may keep a copy but must ask first.
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

pub fn router() -> Router<AppState> {
    Router::new().fallback(serve_file)
}

/// Where the app's files come from.
#[derive(Clone, Debug)]
pub enum AppFiles {
    /// A directory as `cargo xtask dist` writes it.
    Dir(Arc<PathBuf>),
    /// The files built into this binary.
    BuiltIn,
}

impl From<PathBuf> for AppFiles {
    fn from(dir: PathBuf) -> AppFiles {
        AppFiles::Dir(Arc::new(dir))
    }
}

/// The files of the `embedded-app` feature, by path under `dist/` (empty without it).
static BUILT_IN: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/embedded_app.rs"));

impl AppFiles {
    /// `--dist` if given, else the built-in app if this binary has one, else `./dist`.
    pub fn choose(dist: Option<PathBuf>) -> AppFiles {
        if dist.is_none() && !BUILT_IN.is_empty() {
            tracing::info!(files = BUILT_IN.len(), "serving the app built into this binary");
            return AppFiles::BuiltIn;
        }
        let dir = dist.unwrap_or_else(|| PathBuf::from("./dist"));
        if !dir.join("index.html").is_file() {
            tracing::warn!(dist = %dir.display(), "the app is not built here; run `cargo xtask dist`");
        }
        AppFiles::from(dir)
    }
}

pub(crate) async fn serve_file(State(state): State<AppState>, request: Request) -> Result<Response, AppError> {
    let path = request.uri().path().to_owned();
    let is_page = shared::routes::is_app_route(&path);
    let mut response = match &state.app_files {
        AppFiles::Dir(dir) => from_dir(dir, is_page, request).await?,
        AppFiles::BuiltIn => built_in(if is_page { "index.html" } else { path.trim_start_matches('/') }, request.headers())
            .ok_or(if is_page { AppError::AppNotBuilt } else { AppError::NotFound })?,
    };
    let cache_control = if path.starts_with("/assets/") { IMMUTABLE } else { REVALIDATE };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, cache_control);
    // The same URL may be sent as brotli, gzip or plain: caches must key on the encoding.
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Some(text_type) = headers.get(header::CONTENT_TYPE).and_then(|value| utf8_text_type(value.as_bytes())) {
        headers.insert(header::CONTENT_TYPE, text_type);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(response)
}

async fn from_dir(dir: &std::path::Path, is_page: bool, request: Request) -> Result<Response, AppError> {
    let response = if is_page {
        let shell = ServeFile::new(dir.join("index.html")).precompressed_br().precompressed_gzip();
        shell.oneshot(request).await
    } else {
        let files = ServeDir::new(dir).append_index_html_on_directories(false).precompressed_br().precompressed_gzip();
        files.oneshot(request).await
    };
    let response = match response {
        Ok(response) => response,
        Err(never) => match never {},
    };
    match response.status() {
        StatusCode::NOT_FOUND if is_page => Err(AppError::AppNotBuilt),
        StatusCode::NOT_FOUND => Err(AppError::NotFound),
        _ => Ok(response.map(Body::new).into_response()),
    }
}

/// A built-in file, brotli or gzip where the browser takes them and `dist/` had them;
/// 304 when the browser's copy is current.
fn built_in(name: &str, request: &HeaderMap) -> Option<Response> {
    static BY_NAME: OnceLock<HashMap<&'static str, (&'static [u8], HeaderValue)>> = OnceLock::new();
    let files = BY_NAME.get_or_init(|| {
        BUILT_IN
            .iter()
            .map(|(name, bytes)| {
                let digest = Sha256::digest(bytes);
                let tag = hex::encode(&digest[..12]);
                (*name, (*bytes, HeaderValue::from_str(&format!("\"{tag}\"")).expect("hex is a header value")))
            })
            .collect()
    });
    let plain = files.get(name)?;
    let accepted = request.get(header::ACCEPT_ENCODING).and_then(|value| value.to_str().ok()).unwrap_or("");
    let variant = [("br", ".br"), ("gzip", ".gz")]
        .into_iter()
        .filter(|(encoding, _)| accepts(accepted, encoding))
        .find_map(|(encoding, suffix)| files.get(format!("{name}{suffix}").as_str()).map(|file| (Some(encoding), file)));
    let (encoding, (bytes, etag)) = variant.unwrap_or((None, plain));
    let mut response = if request
        .get(header::IF_NONE_MATCH)
        .is_some_and(|tags| tags.as_bytes().split(|byte| *byte == b',').any(|tag| tag.trim_ascii() == etag.as_bytes()))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Body::from(*bytes).into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag.clone());
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(name)));
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    Some(response)
}

/// Whether an `Accept-Encoding` value takes `encoding` (named, without `q=0`).
fn accepts(accepted: &str, encoding: &str) -> bool {
    accepted.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        parts.next().is_some_and(|name| name.eq_ignore_ascii_case(encoding))
            && !parts.any(|parameter| matches!(parameter.replace(' ', "").as_str(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"))
    })
}

/// The media type of an app file by its extension (the app has few kinds).
fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map_or("", |(_, extension)| extension) {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `text/*` without a charset gets `; charset=utf-8`: every text file of the app is UTF-8
/// and full of Chinese, which a browser must not guess at.
fn utf8_text_type(content_type: &[u8]) -> Option<HeaderValue> {
    let content_type = std::str::from_utf8(content_type).ok()?;
    if !content_type.starts_with("text/") || content_type.contains("charset") {
        return None;
    }
    HeaderValue::from_str(&format!("{content_type}; charset=utf-8")).ok()
}
