//! The Houqin server: serves the PWA, keeps the organisation's data in sled, and syncs
//! Automerge documents with phones over WebSocket (`/sync`, automerge-repo's protocol).
//!
//! `main.rs` only parses the command line and calls [`run`]; tests build the same
//! [`app`] on port 0 and talk to it over real sockets.

pub mod admin;
pub mod auth;
pub mod backup;
pub mod blobs;
pub mod check;
pub mod config;
pub mod connections;
pub mod demo;
pub mod directory;
pub mod documents;
mod error;
mod flusher;
mod history;
pub mod kv;
mod labels;
pub mod memory;
pub mod notify;
pub mod os;
mod people;
pub mod projections;
pub mod provision;
pub mod public;
pub mod reach;
mod review;
pub mod setup;
pub mod share;
pub mod space;
pub mod storage;
pub mod sync;
pub mod tls;
pub mod token_bucket;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::get;
use tokio::net::{TcpListener, TcpSocket};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use config::Config;
pub use error::AppError;
pub use storage::Storage;

/// Everything a request handler may need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The sled database.
    pub storage: Storage,
    /// The built PWA: a directory, or the copy built into the binary.
    pub app_files: web::AppFiles,
    /// The sync endpoint's hub.
    pub sync: sync::SyncHub,
    /// Sites, users and actor bindings.
    pub directory: directory::Directory,
    /// Documents as stored (the hub holds the live copies).
    pub documents: documents::DocumentStore,
    pub blobs: blobs::BlobStore,
    pub tokens: Arc<auth::Tokens>,
    pub throttle: Arc<auth::LoginThrottle>,
    /// Turns to check a password (see [`auth::hashing_permits`]).
    pub hashing: Arc<tokio::sync::Semaphore>,
    /// Single-use tickets that open the sync socket without the token in its URL.
    pub tickets: Arc<auth::SyncTickets>,
    /// How phones reach the server (HTTPS, public URL, trusted proxies).
    pub reach: Arc<reach::Reach>,
    /// Summaries of every work order, inspection and stocktake, for dashboards.
    pub projections: projections::Projections,
    /// The notices derived from stored changes (the projection worker's own outbox).
    pub outbox: notify::Outbox,
    /// `--smtp-url`: the mail server notices go out through, if any.
    pub mail: Option<notify::mail::Mailer>,
    /// `--utc-offset-minutes`: the sites' local calendar.
    pub utc_offset_minutes: i32,
    /// Reports from people without an account: tracking links, paces, labels.
    pub public: Arc<public::Public>,
    /// `--bench-anonymous-sync`: sync without a session (loopback only).
    pub anonymous_sync: bool,
    /// Bounds on open connections and how long one may idle (`connections`).
    pub connection_limits: connections::Limits,
}

impl AppState {
    /// Opens the parts of the server that run tasks; call inside the tokio runtime.
    pub fn new(storage: Storage, app_files: impl Into<web::AppFiles>) -> anyhow::Result<AppState> {
        let projections = projections::Projections::open(&storage)?;
        projections.start();
        let sync = sync::SyncHub::start(&storage, "houqin-server", projections.clone())?;
        Ok(AppState {
            outbox: projections.outbox().clone(),
            projections,
            mail: None,
            utc_offset_minutes: config::DEFAULT_UTC_OFFSET_MINUTES,
            directory: directory::Directory::open(&storage)?,
            documents: documents::DocumentStore::open(&storage)?,
            blobs: blobs::BlobStore::open(&storage)?,
            tokens: Arc::new(auth::Tokens::open(&storage)?),
            throttle: Arc::new(auth::LoginThrottle::for_storage(&storage)?),
            hashing: Arc::new(tokio::sync::Semaphore::new(auth::hashing_permits())),
            tickets: Arc::new(auth::SyncTickets::default()),
            reach: Arc::new(reach::Reach::default()),
            public: Arc::new(public::Public::open(&storage)?),
            storage,
            app_files: app_files.into(),
            sync,
            anonymous_sync: false,
            connection_limits: connections::Limits::for_this_process(),
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
        .merge(public::router())
        .merge(notify::settings::router())
        .merge(review::router())
        .merge(blobs::router())
        .merge(reach::router())
        .merge(sync::router())
        .merge(web::router())
        .layer(axum::middleware::from_fn(error::log_internal_errors))
        // A body trickled in slower than this is cut off, however steadily it comes.
        .layer(axum::middleware::map_request(connections::body_deadline(state.connection_limits.body)))
        // Responses that set their own policy (the setup page, a photo) keep it.
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        // A label sheet's or export's link carries a token: no page passes its address on.
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        // Spans name the path, never the query: `/sync?token=…` carries a credential.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &axum::extract::Request| tracing::debug_span!("request", method = %request.method(), path = %request.uri().path()))
                // Internal errors are logged with their cause by `log_internal_errors`; a 503
                // under a burst of sign-ins must not write a line each.
                .on_failure(tower_http::trace::DefaultOnFailure::new().level(tracing::Level::DEBUG)),
        )
        .with_state(state)
}

async fn health(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> (axum::http::StatusCode, axum::Json<shared::health::Health>) {
    let mut health = shared::health::Health::ok();
    health.disk_full = state.storage.space().check().is_err();
    health.damaged = !state.storage.damage().is_empty();
    let storage = state.storage.clone();
    let reached = tokio::time::timeout(DATABASE_PATIENCE, tokio::task::spawn_blocking(move || storage.reaches_database())).await;
    health.database_unreachable = !matches!(reached, Ok(Ok(true)));
    let status = if health.database_unreachable { axum::http::StatusCode::SERVICE_UNAVAILABLE } else { axum::http::StatusCode::OK };
    (status, axum::Json(health))
}

/// How long `/healthz` waits for the database to answer before saying it is unreachable.
const DATABASE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// What pages of this server may load and run: the app's own files (its wasm compiled by
/// the browser), photos it fetched as blobs, its socket to this server; nothing inline,
/// nothing from elsewhere, and it is framed by no one.
const CONTENT_SECURITY_POLICY: HeaderValue = HeaderValue::from_static(
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; \
     worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
);

/// How long browsers are told to use only HTTPS for this host, once they have reached it
/// over HTTPS with a certificate they trust.
const HSTS: HeaderValue = HeaderValue::from_static("max-age=15552000");

/// Serves `state` over plain HTTP on `listener` until `shutdown` resolves, then lets open
/// requests finish and flushes sled, so nothing acknowledged before the signal is lost.
pub async fn serve(listener: TcpListener, state: AppState, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    serve_secured(listener, None, state, shutdown).await
}

/// Like [`serve`], over TLS with `config` (its certificate resolver reloads on SIGHUP).
pub async fn serve_tls(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_secured(listener, Some(tokio_rustls::TlsAcceptor::from(config)), state, shutdown).await
}

async fn serve_secured(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let storage = state.storage.clone();
    let sync = state.sync.clone();
    let projections = state.projections.clone();
    let https = state.reach.https;
    let (exempt, limits) = (state.reach.trusted_proxies.clone(), state.connection_limits);
    let blobs_store = state.blobs.clone();
    // Notices go out while the server serves (what is due waits in the outbox meanwhile).
    let outbox = state.outbox.clone();
    let deliverer = notify::Deliverer {
        public_url: state.reach.public_url.clone(),
        mail: state.mail.clone(),
        utc_offset_minutes: state.utc_offset_minutes,
    };
    let deliverer = outbox.start(state.projections.clone(), deliverer);
    let mut router = app(state);
    if https {
        router = router.layer(SetResponseHeaderLayer::if_not_present(header::STRICT_TRANSPORT_SECURITY, HSTS));
    }
    // Connections are bounded per address and in all, closed when idle or slow to send
    // their headers, and each request carries its peer's address for throttling failed
    // sign-ins (`connections`).
    let listener = connections::Guarded::new(listener, exempt, limits);
    let collector = tokio::spawn(blobs::collect_every(blobs_store, blobs::COLLECT_EVERY));
    connections::serve(listener, tls, router, shutdown).await;
    collector.abort();
    // Aborting would leave its database work running on the blocking pool, holding the
    // database open after the server has stopped: it is asked to end, and waited for.
    outbox.stop();
    let _ = deliverer.await;
    // Upgraded sockets outlive axum's shutdown: the hub closes them and finishes writes.
    sync.shutdown().await;
    projections.stop().await;
    storage.flush().await.context("flushing the database on shutdown")?;
    tracing::info!("database flushed; shut down cleanly");
    Ok(())
}

/// Opens the database, seeds demo data if asked, and serves until SIGTERM or ctrl-c, with
/// the control socket for backups beside the database: over HTTPS when there is a
/// certificate (`--tls-cert`, or `<data>/tls/` from `tls init`), and with a plain HTTP
/// listener redirecting to it if asked.
pub async fn run(config: Config) -> anyhow::Result<()> {
    if config.bench_anonymous_sync && !config.addr.ip().is_loopback() {
        anyhow::bail!("--bench-anonymous-sync lets anyone sync without signing in: it listens on loopback only, not on {}", config.addr);
    }
    let tls_files = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(tls::TlsFiles { cert: cert.clone(), key: key.clone() }),
        _ => tls::TlsFiles::in_data(&config.data),
    };
    // Phones are offered the local authority only while it signs what is served.
    let local_authority = tls_files.is_some() && tls_files == tls::TlsFiles::in_data(&config.data);
    if config.http_redirect.is_some() && tls_files.is_none() {
        anyhow::bail!(
            "--http-redirect sends phones to HTTPS, which needs a certificate: run `houqin-server --data {} tls init --host NAME`, or give --tls-cert and --tls-key",
            config.data.display()
        );
    }
    let certificates = tls_files.map(tls::Certificates::load).transpose()?;
    if let Some(files) = os::raise_descriptor_limit() {
        tracing::debug!(files, "open files allowed");
    }
    let shutdown = shutdown_signal()?;
    // Before anything is printed: a SIGHUP right after start must not find the default
    // action (exiting) in place.
    let hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).context("cannot listen for SIGHUP")?;
    let storage = open_checked(&config)?;
    let demo_logins = if config.demo { demo::seed(&storage).await? } else { Vec::new() };
    let app_files = web::AppFiles::choose(config.dist.clone());
    let listener = listen(config.addr).with_context(|| format!("cannot listen on {}; is another server running there?", config.addr))?;
    let address = listener.local_addr()?;
    let redirect = match config.http_redirect {
        Some(plain) => Some(listen(plain).with_context(|| format!("cannot listen on {plain} for --http-redirect"))?),
        None => None,
    };
    let authority = config.data.join(tls::TLS_DIR).join(tls::CA_CERT);
    let reach = reach::Reach {
        https: certificates.is_some(),
        https_port: certificates.as_ref().map(|_| address.port()),
        public_url: config.public_url.clone(),
        trusted_proxies: config.trusted_proxies.clone(),
        authority: (local_authority && authority.is_file()).then_some(authority),
    };
    // Without it the server still serves; only backups then need it stopped.
    let control = backup::ControlSocket::start(&config.data, storage.clone())
        .inspect_err(|error| {
            tracing::warn!(error = format!("{error:#}"), "no control socket: `houqin-server backup` needs the server stopped");
        })
        .ok();
    let scheme = if reach.https { "https" } else { "http" };
    println!("Houqin is running at {scheme}://{address}/");
    if let Some(redirect) = &redirect {
        println!("Plain HTTP on {} redirects to HTTPS; phones set up at http://<this server>/setup", redirect.local_addr()?);
    }
    if config.demo {
        demo::print_logins(&demo_logins);
    }
    let mail = match &config.smtp_url {
        Some(url) => Some(notify::mail::Mailer::new(url, config.mail_from.as_deref().unwrap_or("houqin@localhost"))?),
        None => None,
    };
    let served = match AppState::new(storage, app_files) {
        Ok(mut state) => {
            if config.bench_anonymous_sync {
                tracing::warn!("benchmark mode: /sync takes anyone's documents without signing in");
                state.anonymous_sync = true;
            }
            state.reach = Arc::new(reach);
            state.mail = mail;
            state.utc_offset_minutes = config.utc_offset_minutes;
            state.blobs.quota = config.blob_quota_mib.saturating_mul(1 << 20);
            state.storage.space().set_reserve(config.min_free_mib.saturating_mul(1 << 20));
            if let Some(mib) = config.max_memory_mib {
                state.connection_limits.max_resident = mib.saturating_mul(1 << 20);
            }
            serve_until(shutdown, hangups, state, listener, certificates, redirect).await
        }
        Err(error) => Err(error),
    };
    if let Some(control) = control {
        control.stop().await;
    }
    served
}

/// Opens the database and looks at what a start can afford to ([`check::at_start`]): one
/// found damaged is refused, with what to do, unless `--allow-damaged` says to serve it
/// as it is.
fn open_checked(config: &Config) -> anyhow::Result<Storage> {
    let storage = Storage::open_configured(config.database_url.as_deref(), &config.data, config.allow_damaged)?;
    // sled replays its log since the last start, a decompression context a record: what
    // that took is free again, and given back rather than held for the server's life.
    os::trim_allocator();
    let found = check::at_start(&storage)?;
    if !found.is_empty() && !config.allow_damaged {
        const SHOWN: usize = 10;
        let data = config.data.display();
        let mut listed: String = found.iter().take(SHOWN).map(|problem| format!("\n  {problem}")).collect();
        if found.len() > SHOWN {
            listed.push_str(&format!("\n  … and {} more (`houqin-server --data {data} check` lists them all)", found.len() - SHOWN));
        }
        anyhow::bail!(
            "the database in {data} is damaged:{listed}\n\
             Restore the last backup into a new directory (`houqin-server --data NEW restore --from FILE`) and start the server on it, \
             copy out what it still holds (`houqin-server --data {data} salvage --to NEW`), \
             or serve it as it is with --allow-damaged"
        );
    }
    storage.note_damage(found);
    let damage = storage.damage();
    if !damage.is_empty() {
        tracing::error!(problems = damage.len(), first = %damage[0], "serving a damaged database as it is (--allow-damaged); `houqin-server check` lists what does not read");
    }
    Ok(storage)
}

/// Serves HTTPS (or plain HTTP without certificates) on `listener`, and redirects on
/// `redirect`, until `shutdown`.
async fn serve_until(
    shutdown: impl Future<Output = ()> + Send + 'static,
    mut hangups: tokio::signal::unix::Signal,
    state: AppState,
    listener: TcpListener,
    certificates: Option<Arc<tls::Certificates>>,
    redirect: Option<TcpListener>,
) -> anyhow::Result<()> {
    let (stop, stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let until_stopped = |mut stopping: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopping.wait_for(|stopped| *stopped).await;
    };
    let redirecting = redirect.map(|redirect| {
        let redirect = connections::Guarded::new(redirect, state.reach.trusted_proxies.clone(), state.connection_limits);
        tokio::spawn(connections::serve(redirect, None, reach::redirect_app(state.clone()), until_stopped(stopping.clone())))
    });
    let served = match certificates {
        Some(certificates) => {
            certificates.reload_on(hangups);
            serve_tls(listener, certificates.server_config()?, state, until_stopped(stopping)).await
        }
        None => {
            // `systemctl reload` sends SIGHUP; without certificates there is nothing to read
            // again (and the signal's default action would stop the server).
            tokio::spawn(async move {
                while hangups.recv().await.is_some() {
                    tracing::info!("SIGHUP: no certificate to read again (serving plain HTTP)");
                }
            });
            serve(listener, state, until_stopped(stopping)).await
        }
    };
    if let Some(redirecting) = redirecting {
        redirecting.await.context("the redirecting listener")?;
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
