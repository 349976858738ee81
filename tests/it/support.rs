//! What every test module needs: an in-process server on port 0, paths, and waiting for a
//! condition with a deadline instead of sleeping.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server running inside the test process on a free loopback port, with its own
/// temporary database holding the demo sites and users. Stop it with [`TestServer::stop`]
/// to check the clean shutdown.
pub struct TestServer {
    pub address: SocketAddr,
    /// `http://127.0.0.1:port`, or for HTTPS `https://<name>:port` (which a client must
    /// resolve to loopback).
    base: String,
    /// The server's state, for issuing tokens and looking into storage.
    pub state: server::AppState,
    data: Option<tempfile::TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl TestServer {
    pub async fn start(dist: &Path) -> TestServer {
        TestServer::start_in(tempfile::tempdir().unwrap(), dist).await
    }

    /// Starts on an existing data directory (a restart).
    pub async fn start_in(data: tempfile::TempDir, dist: &Path) -> TestServer {
        TestServer::start_at(data, dist, "127.0.0.1:0".parse().unwrap()).await
    }

    /// Starts on an existing data directory at a given address: a restart that pages
    /// already open (whose origin is the old address) reach again.
    pub async fn start_at(data: tempfile::TempDir, dist: &Path, address: SocketAddr) -> TestServer {
        TestServer::start_serving(data, dist, address, None, server::reach::Reach::default()).await
    }

    /// Starts behind a reverse proxy at `proxies` (`--trusted-proxy`).
    pub async fn start_behind(dist: &Path, proxies: Vec<std::net::IpAddr>) -> TestServer {
        let reach = server::reach::Reach { trusted_proxies: proxies, ..Default::default() };
        TestServer::start_serving(tempfile::tempdir().unwrap(), dist, "127.0.0.1:0".parse().unwrap(), None, reach).await
    }

    /// Starts serving HTTPS as `name` with the certificate `tls init` made in `data`'s
    /// `tls/` directory (a restart at `address` keeps phones' origin).
    pub async fn start_https(data: tempfile::TempDir, dist: &Path, address: SocketAddr, name: &str) -> TestServer {
        TestServer::start_serving(data, dist, address, Some(name), server::reach::Reach::default()).await
    }

    /// Like [`TestServer::start_https`] on a new address, with the state as `configure` leaves it.
    pub async fn start_https_configured(
        data: tempfile::TempDir,
        dist: &Path,
        name: &str,
        configure: impl FnOnce(&mut server::AppState),
    ) -> TestServer {
        TestServer::start_with(data, dist, "127.0.0.1:0".parse().unwrap(), Some(name), server::reach::Reach::default(), configure).await
    }

    /// As `cargo xtask bench` runs the server (`--bench-anonymous-sync`): `/sync` without a
    /// session, allowed everything, as anonymous automerge-repo servers are.
    pub async fn start_anonymous(dist: &Path) -> TestServer {
        TestServer::start_configured(dist, |state| state.anonymous_sync = true).await
    }

    /// Starts with the state as `configure` leaves it.
    pub async fn start_configured(dist: &Path, configure: impl FnOnce(&mut server::AppState)) -> TestServer {
        TestServer::start_with(
            tempfile::tempdir().unwrap(),
            dist,
            "127.0.0.1:0".parse().unwrap(),
            None,
            server::reach::Reach::default(),
            configure,
        )
        .await
    }

    async fn start_serving(
        data: tempfile::TempDir,
        dist: &Path,
        address: SocketAddr,
        https_name: Option<&str>,
        reach: server::reach::Reach,
    ) -> TestServer {
        TestServer::start_with(data, dist, address, https_name, reach, |_| {}).await
    }

    /// Starts on the PostgreSQL database at `url` (`--database-url`), seeded with the demo
    /// sites and users if it holds nothing yet.
    pub async fn start_on_postgres(url: &str, dist: &Path) -> TestServer {
        let data = tempfile::tempdir().unwrap();
        let (url, local) = (url.to_owned(), data.path().to_owned());
        let storage = tokio::task::spawn_blocking(move || server::Storage::open_postgres(&url, &local)).await.unwrap().unwrap();
        TestServer::start_on(storage, data, dist, "127.0.0.1:0".parse().unwrap(), None, server::reach::Reach::default(), |_| {}).await
    }

    async fn start_with(
        data: tempfile::TempDir,
        dist: &Path,
        address: SocketAddr,
        https_name: Option<&str>,
        reach: server::reach::Reach,
        configure: impl FnOnce(&mut server::AppState),
    ) -> TestServer {
        let storage = server::Storage::open(data.path()).unwrap();
        TestServer::start_on(storage, data, dist, address, https_name, reach, configure).await
    }

    async fn start_on(
        storage: server::Storage,
        data: tempfile::TempDir,
        dist: &Path,
        address: SocketAddr,
        https_name: Option<&str>,
        reach: server::reach::Reach,
        configure: impl FnOnce(&mut server::AppState),
    ) -> TestServer {
        server::demo::seed(&storage).await.unwrap();
        let mut state = server::AppState::new(storage, dist.to_path_buf()).unwrap();
        state.reach = std::sync::Arc::new(reach);
        configure(&mut state);
        let listener = server::listen(address).unwrap();
        let address = listener.local_addr().unwrap();
        let (shutdown, signal) = oneshot::channel::<()>();
        let stopped = async {
            let _ = signal.await;
        };
        let (task, base) = match https_name {
            None => (tokio::spawn(server::serve(listener, state.clone(), stopped)), format!("http://{address}")),
            Some(name) => {
                let files = server::tls::TlsFiles::in_data(data.path()).expect("run tls init in the data directory first");
                let certificates = server::tls::Certificates::load(files).unwrap();
                state.reach =
                    std::sync::Arc::new(server::reach::Reach { https: true, https_port: Some(address.port()), ..Default::default() });
                (
                    tokio::spawn(server::serve_tls(listener, certificates.server_config().unwrap(), state.clone(), stopped)),
                    format!("https://{name}:{}", address.port()),
                )
            }
        };
        TestServer { address, base, state, data: Some(data), shutdown: Some(shutdown), task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A valid token for a demo user, issued directly (no password hashing).
    pub fn token(&self, username: &str) -> String {
        let username = shared::directory::Username::parse(username).unwrap();
        let user = self.state.directory.user(&username).unwrap().expect("a demo user");
        self.state.tokens.issue(&user, server::auth::now()).0
    }

    /// The sync endpoint's URL for a demo user.
    pub fn sync_url(&self, username: &str) -> String {
        format!("ws://{}/sync?token={}", self.address, self.token(username))
    }

    /// Shuts down gracefully; returns the data directory for a restart.
    pub async fn stop(mut self) -> anyhow::Result<tempfile::TempDir> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        (&mut self.task).await??;
        Ok(self.data.take().expect("stopped once"))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The PWA built by `cargo xtask dist`.
pub fn built_dist() -> PathBuf {
    let dist = workspace_root().join("dist");
    assert!(dist.join("index.html").is_file(), "no built app in {}: run `cargo xtask dist` (or `cargo xtask test`)", dist.display());
    dist
}

/// Polls `condition` until it yields a value or `deadline` passes; panics naming `what`.
pub async fn wait_for<T, F, Fut>(what: &str, deadline: Duration, mut condition: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let give_up = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(value) = condition().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < give_up, "gave up after {deadline:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// An HTTP client that never decompresses, so tests see exactly what the server sent.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// `GET path`, with a bearer token if given.
pub async fn get(server: &TestServer, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = http_client().get(server.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// The catalog document of a demo site.
pub fn catalog_of(server: &TestServer, site: &str) -> shared::protocol::DocumentId {
    let site = shared::directory::SiteId::parse(site).unwrap();
    server.state.directory.site(&site).unwrap().unwrap().catalog.expect("demo sites have catalogs")
}

/// Signs in over HTTP as a browser would and returns the token.
pub async fn login(base_url: &str, username: &str, password: &str) -> String {
    let response = http_client()
        .post(format!("{}/api/login", base_url.trim_end_matches('/')))
        .json(&serde_json::json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "signing in as {username}");
    let body: serde_json::Value = response.json().await.unwrap();
    body["token"].as_str().expect("a token").to_owned()
}
