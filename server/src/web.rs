//! Serves the built PWA from the dist directory.
//!
//! - App pages (`shared::routes`) get the app shell, `index.html`; every other unknown
//!   path gets 404, so a mistyped API path is not mistaken for a page.
//! - Files under `/assets/` carry a content hash in their name and are cached for a year;
//!   everything else (the shell, the service worker, the manifest, icons) must be
//!   revalidated, so a phone never keeps a stale service worker.
//! - Precompressed `.br` and `.gz` siblings written by `cargo xtask dist` are served when
//!   the browser accepts them.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
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

async fn serve_file(State(state): State<AppState>, request: Request) -> Result<Response, AppError> {
    let path = request.uri().path().to_owned();
    let is_page = shared::routes::is_app_route(&path);
    let response = if is_page {
        let shell = ServeFile::new(state.dist.join("index.html")).precompressed_br().precompressed_gzip();
        shell.oneshot(request).await
    } else {
        let files = ServeDir::new(state.dist.as_path())
            .append_index_html_on_directories(false)
            .precompressed_br()
            .precompressed_gzip();
        files.oneshot(request).await
    };
    let response = match response {
        Ok(response) => response,
        Err(never) => match never {},
    };
    match response.status() {
        StatusCode::NOT_FOUND if is_page => return Err(AppError::AppNotBuilt),
        StatusCode::NOT_FOUND => return Err(AppError::NotFound),
        _ => {}
    }
    let mut response = response.map(Body::new).into_response();
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

/// `text/*` without a charset gets `; charset=utf-8`: every text file of the app is UTF-8
/// and full of Chinese, which a browser must not guess at.
fn utf8_text_type(content_type: &[u8]) -> Option<HeaderValue> {
    let content_type = std::str::from_utf8(content_type).ok()?;
    if !content_type.starts_with("text/") || content_type.contains("charset") {
        return None;
    }
    HeaderValue::from_str(&format!("{content_type}; charset=utf-8")).ok()
}
