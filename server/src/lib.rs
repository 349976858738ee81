//! The Houqin server: serves the PWA, keeps the organisation's data in sled, and syncs
//! Automerge documents with phones over WebSocket (`/sync`, automerge-repo's protocol).
//!
//! `main.rs` only parses the command line and calls [`run`]; tests build the same
//! [`app`] on port 0 and talk to it over real sockets.

pub mod admin;
pub mod auth;
pub mod backup;
pub mod blobs;
pub mod config;
pub mod demo;
pub mod directory;
pub mod documents;
mod error;
mod flusher;
mod history;
mod labels;
mod people;
pub mod projections;
pub mod provision;
mod review;
pub mod setup;
pub mod storage;
pub mod sync;
mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::routing::get;
use tokio::net::{TcpListener, TcpSocket};
use tower_http::trace::TraceLayer;

pub use config::Config;
pub use error::AppError;
pub use storage::Storage;

/// Everything a request handler may need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The sled database.
    pub storage: Storage,
    /// Where the built PWA (`cargo xtask dist`) lives.
    pub dist: Arc<PathBuf>,
    /// The sync endpoint's hub.
    pub sync: sync::SyncHub,
    /// Sites, users and actor bindings.
    pub directory: directory::Directory,
    /// Documents as stored (the hub holds the live copies).
    pub documents: documents::DocumentStore,
    pub blobs: blobs::BlobStore,
    pub tokens: Arc<auth::Tokens>,
    pub throttle: Arc<auth::LoginThrottle>,
    /// Summaries of every work order, inspection and stocktake, for dashboards.
    pub projections: projections::Projections,
    /// `--bench-anonymous-sync`: sync without a session (loopback only).
    pub anonymous_sync: bool,
}

impl AppState {
    /// Opens the parts of the server that run tasks; call inside the tokio runtime.
    pub fn new(storage: Storage, dist: PathBuf) -> anyhow::Result<AppState> {
        let projections = projections::Projections::open(&storage)?;
        projections.start();
        let sync = sync::SyncHub::start(&storage, "houqin-server", projections.clone())?;
        Ok(AppState {
            projections,
            directory: directory::Directory::open(&storage)?,
            documents: documents::DocumentStore::open(&storage)?,
            blobs: blobs::BlobStore::open(&storage)?,
            tokens: Arc::new(auth::Tokens::open(&storage)?),
            throttle: Arc::new(auth::LoginThrottle::new()),
            storage,
            dist: Arc::new(dist),
            sync,
            anonymous_sync: false,
        })
    }
}

/// The whole HTTP surface of the server.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health))
        .merge(auth::router())
        .merge(admin::router())
        .merge(backup::router())
        .merge(history::router())
        .merge(labels::router())
        .merge(people::router())
        .merge(review::router())
        .merge(blobs::router())
        .merge(sync::router())
        .merge(web::router())
        .layer(axum::middleware::from_fn(error::log_internal_errors))
        // Spans name the path, never the query: `/sync?token=…` carries a credential.
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::extract::Request| {
            tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
        }))
        .with_state(state)
}

async fn health() -> axum::Json<shared::health::Health> {
    axum::Json(shared::health::Health::ok())
}

/// Serves `state` on `listener` until `shutdown` resolves, then lets open requests finish
/// and flushes sled, so nothing acknowledged before the signal is lost.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let storage = state.storage.clone();
    let sync = state.sync.clone();
    let projections = state.projections.clone();
    // The peer's address is kept for throttling failed sign-ins.
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service).with_graceful_shutdown(shutdown).await.context("serving HTTP")?;
    // Upgraded sockets outlive axum's shutdown: the hub closes them and finishes writes.
    sync.shutdown().await;
    projections.stop().await;
    storage.flush().await.context("flushing the database on shutdown")?;
    tracing::info!("database flushed; shut down cleanly");
    Ok(())
}

/// Opens the database, seeds demo data if asked, and serves until SIGTERM or ctrl-c, with
/// the control socket for backups beside the database.
pub async fn run(config: Config) -> anyhow::Result<()> {
    if config.bench_anonymous_sync && !config.addr.ip().is_loopback() {
        anyhow::bail!("--bench-anonymous-sync lets anyone sync without signing in: it listens on loopback only, not on {}", config.addr);
    }
    let shutdown = shutdown_signal()?;
    let storage = Storage::open(&config.data)?;
    let demo_logins = if config.demo { demo::seed(&storage).await? } else { Vec::new() };
    if !config.dist.join("index.html").is_file() {
        tracing::warn!(dist = %config.dist.display(), "the app is not built here; run `cargo xtask dist`");
    }
    let listener = listen(config.addr).with_context(|| format!("cannot listen on {}; is another server running there?", config.addr))?;
    let address = listener.local_addr()?;
    // Without it the server still serves; only backups then need it stopped.
    let control = backup::ControlSocket::start(&config.data, storage.clone())
        .inspect_err(|error| tracing::warn!(error = format!("{error:#}"), "no control socket: `houqin-server backup` needs the server stopped"))
        .ok();
    println!("Houqin is running at http://{address}/");
    if config.demo {
        demo::print_logins(&demo_logins);
    }
    let served = match AppState::new(storage, config.dist) {
        Ok(mut state) => {
            if config.bench_anonymous_sync {
                tracing::warn!("benchmark mode: /sync takes anyone's documents without signing in");
                state.anonymous_sync = true;
            }
            serve(listener, state, shutdown).await
        }
        Err(error) => Err(error),
    };
    if let Some(control) = control {
        control.stop().await;
    }
    served
}

/// Listens on `address` with a long queue of connections waiting to be accepted: when a
/// building's network comes back, all its phones reconnect at once, and connections the
/// kernel drops from a full queue (tokio's default holds 128) are retried only a second
/// later.
pub fn listen(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if address.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(ACCEPT_QUEUE)
}

/// Connections the kernel may hold for the server to accept (capped by `somaxconn`).
const ACCEPT_QUEUE: u32 = 4096;

/// Registers for SIGTERM and SIGINT (ctrl-c) now, so a signal that arrives the moment the
/// server starts is not lost to the default action, and returns the future that resolves
/// on the first of them.
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
        tracing::info!("shutting down: finishing open requests");
    })
}
