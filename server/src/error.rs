//! The one error type of HTTP handlers and how each kind becomes a response.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// What can go wrong while answering a request. The body is always
/// `{"error": "<message>"}`; a 5xx message says nothing about the server's insides.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 404: nothing lives at this path.
    #[error("not found")]
    NotFound,
    /// 503: the PWA has not been built into the directory the server serves.
    #[error("the app is not built yet; run `cargo xtask dist` and reload")]
    AppNotBuilt,
    /// 500: anything unexpected. Logged by the tracing layer, never shown to the client.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::AppNotBuilt => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (status, Json(serde_json::json!({ "error": self.to_string() }))).into_response();
        if let AppError::Internal(error) = self {
            // Kept on the response for the logging middleware; never serialised.
            response.extensions_mut().insert(std::sync::Arc::new(error));
        }
        response
    }
}

/// Middleware: logs the cause of every internal error, which the response body hides.
pub async fn log_internal_errors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let method = request.method().clone();
    let uri = request.uri().clone();
    let response = next.run(request).await;
    if let Some(error) = response.extensions().get::<std::sync::Arc<anyhow::Error>>() {
        tracing::error!(%method, %uri, error = format!("{error:#}"), "internal error");
    }
    response
}
