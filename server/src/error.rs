//! The one error type of HTTP handlers and how each kind becomes a response.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// What can go wrong while answering a request. The body is always
/// `{"error": "<message>", "code": "<code>"}`: the message in English for people reading
/// logs and scripts, the code stable (see [`AppError::code`]) for apps, which show their
/// own words for it in the reader's language. A 5xx message says nothing about the
/// server's insides.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request is malformed; the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid session. Deliberately says nothing of what was wrong with the token.
    #[error("sign in first: the session is missing, expired or revoked")]
    Unauthorized,
    /// 401 at sign-in: never says whether the user name or the password was wrong.
    #[error("wrong user name or password")]
    WrongLogin,
    /// 403: signed in, but this needs a role the user does not have.
    #[error("{0}")]
    Forbidden(&'static str),
    /// 404: nothing lives at this path (or nothing the user may see).
    #[error("not found")]
    NotFound,
    /// 409: what is to be created exists already.
    #[error("{0}")]
    Conflict(String),
    /// 400: a new password is shorter than the minimum.
    #[error("a password needs at least {minimum} characters")]
    PasswordTooShort { minimum: usize },
    /// 413: the body is over the limit.
    #[error("too large: at most {limit} bytes")]
    TooLarge { limit: usize },
    /// 415: a file that is not a JPEG, PNG or WebP picture (judged by its bytes).
    #[error("only JPEG, PNG and WebP pictures are kept")]
    UnsupportedFile,
    /// 507: the files of a site of the uploader fill its quota.
    #[error("the files of site {site} fill its quota; ask an administrator")]
    QuotaExceeded { site: shared::directory::SiteId },
    /// 507: the server's disk is nearly full; nothing more is stored until space is freed.
    #[error("the server's disk is nearly full; ask an administrator to free space")]
    DiskFull,
    /// 429: too many failed attempts; retry after the wait.
    #[error("too many failed attempts; try again in {} seconds", whole_seconds(*retry_after))]
    TooManyRequests { retry_after: std::time::Duration },
    /// 503: too much is being done at once (passwords being checked); retry after the wait.
    #[error("the server is busy; try again in {} seconds", whole_seconds(*retry_after))]
    Busy { retry_after: std::time::Duration },
    /// 503: the PWA has not been built into the directory the server serves.
    #[error("the app is not built yet; run `cargo xtask dist` and reload")]
    AppNotBuilt,
    /// 500: anything unexpected. Logged by the tracing layer, never shown to the client.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// The stable code of the body's `code`: one per kind of refusal, never renamed.
    pub const fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::Unauthorized => "unauthorized",
            AppError::WrongLogin => "wrong_login",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict(_) => "exists",
            AppError::PasswordTooShort { .. } => "password_too_short",
            AppError::TooLarge { .. } => "too_large",
            AppError::UnsupportedFile => "unsupported_file",
            AppError::QuotaExceeded { .. } => "quota_exceeded",
            AppError::DiskFull => "disk_full",
            AppError::TooManyRequests { .. } => "too_many_attempts",
            AppError::Busy { .. } => "busy",
            AppError::AppNotBuilt => "app_not_built",
            AppError::Internal(_) => "internal",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) | AppError::PasswordTooShort { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized | AppError::WrongLogin => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedFile => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::QuotaExceeded { .. } | AppError::DiskFull => StatusCode::INSUFFICIENT_STORAGE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::AppNotBuilt | AppError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (status, Json(shared::api::ErrorBody { code: self.code().to_owned(), error: self.to_string() })).into_response();
        match &self {
            AppError::Unauthorized | AppError::WrongLogin => {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            AppError::TooManyRequests { retry_after } | AppError::Busy { retry_after } => {
                let seconds = whole_seconds(*retry_after);
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            _ => {}
        }
        if let AppError::Internal(error) = self {
            // Kept on the response for the logging middleware; never serialised.
            response.extensions_mut().insert(std::sync::Arc::new(error));
        }
        response
    }
}

/// A wait in whole seconds, rounded up: "try again in 0 seconds" would be a lie.
fn whole_seconds(wait: std::time::Duration) -> u64 {
    wait.as_millis().div_ceil(1000).max(1) as u64
}

/// Middleware: logs the cause of every internal error, which the response body hides.
pub async fn log_internal_errors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let method = request.method().clone();
    // The path only: a query may carry a token (`/sync?token=…`), which logs must not keep.
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if let Some(error) = response.extensions().get::<std::sync::Arc<anyhow::Error>>() {
        tracing::error!(%method, %path, error = format!("{error:#}"), "internal error");
    }
    response
}
