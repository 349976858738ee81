//! The real `houqin-server` binary: flags, demo seeding, and a clean shutdown on SIGTERM
//! that leaves the database flushed and reusable.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use server::directory::Directory;
use shared::directory::Username;

use crate::support::http_client;

/// The binary built next to this test binary (`cargo build -p server` puts it there).
pub(crate) fn server_binary() -> PathBuf {
    let test_binary = std::env::current_exe().unwrap();
    let profile_dir = test_binary.parent().and_then(|deps| deps.parent()).unwrap();
    let binary = profile_dir.join("houqin-server");
    assert!(binary.is_file(), "{} is missing: run `cargo build -p server` (or `cargo xtask test`)", binary.display());
    binary
}

/// A running server process and the lines it printed before it started listening.
pub(crate) struct ServerProcess {
    child: Child,
    pub(crate) banner: Vec<String>,
    pub(crate) url: String,
    /// Kept open so that the server never writes into a closed pipe.
    _stdout: std::io::Lines<BufReader<ChildStdout>>,
}

impl ServerProcess {
    /// Starts the binary on the database in `data/db`.
    pub(crate) fn start(data: &std::path::Path, extra: &[&str]) -> ServerProcess {
        let no_dist = data.join("no-dist");
        let mut args = vec!["--dist", no_dist.to_str().unwrap()];
        args.extend_from_slice(extra);
        ServerProcess::start_binary(&server_binary(), data, &args)
    }

    /// Starts the binary like [`ServerProcess::start`], with `env` set in its environment.
    pub(crate) fn start_with_env(data: &std::path::Path, extra: &[&str], env: &[(&str, &str)]) -> ServerProcess {
        let no_dist = data.join("no-dist");
        let mut args = vec!["--dist", no_dist.to_str().unwrap()];
        args.extend_from_slice(extra);
        ServerProcess::start_binary_with_env(&server_binary(), data, &args, env)
    }

    /// Starts `binary` on the database in `data/db`, with no `--dist` unless `extra` has one.
    pub(crate) fn start_binary(binary: &std::path::Path, data: &std::path::Path, extra: &[&str]) -> ServerProcess {
        ServerProcess::start_binary_with_env(binary, data, extra, &[])
    }

    fn start_binary_with_env(binary: &std::path::Path, data: &std::path::Path, extra: &[&str], env: &[(&str, &str)]) -> ServerProcess {
        let mut child = Command::new(binary)
            .envs(env.iter().copied())
            .args(["--addr", "127.0.0.1:0"])
            .arg("--data")
            .arg(data.join("db"))
            .args(extra)
            .env("HOUQIN_LOG", "error")
            // Nothing the server finds by a relative path (`./dist`) comes from the tests' own.
            .current_dir(data)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().expect("the server printed nothing").unwrap();
        let url = first.strip_prefix("Houqin is running at ").unwrap_or_else(|| panic!("unexpected first line {first:?}")).to_owned();
        let mut banner = vec![first];
        if extra.contains(&"--http-redirect") {
            banner.extend(lines.next().map(Result::unwrap));
        }
        if extra.contains(&"--demo") {
            // The demo banner: a heading and one line per login.
            banner.extend(lines.by_ref().take(7).map(Result::unwrap));
        }
        ServerProcess { child, banner, url, _stdout: lines }
    }

    /// The process id, for signals.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process outright, as a power cut or the OOM killer would.
    pub(crate) fn kill_hard(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Sends SIGTERM and waits (with a deadline) for the exit status.
    pub(crate) fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the server did not exit within 30 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn version_and_help_name_the_flags() {
    let output = Command::new(server_binary()).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in ["--addr", "[env: HOUQIN_ADDR=]", "--data", "[env: HOUQIN_DATA=]", "--demo", "--dist"] {
        assert!(help.contains(flag), "--help does not mention {flag}:\n{help}");
    }
    let output = Command::new(server_binary()).arg("--addr").arg("not-an-address").output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid value 'not-an-address' for '--addr <ADDR>'"));
}

#[tokio::test]
async fn demo_mode_seeds_once_prints_logins_and_shuts_down_cleanly() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data.path(), &["--demo"]);
    assert_eq!(server.banner[1], "Demo logins (password \"demo\" for all):");
    let logins = server.banner[2..].join("\n");
    for expected in ["admin", "manager", "inspector@hq", "dorm_staff@plant2", "technician@hq, technician@plant2", "storekeeper@hq"] {
        assert!(logins.contains(expected), "demo logins lack {expected:?}:\n{logins}");
    }
    let health = http_client().get(format!("{}healthz", server.url)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(server.terminate().success(), "SIGTERM should end the server with status 0");

    let inspector = {
        // sled allows one opener at a time: this block's handles close before the restart.
        let storage = server::Storage::open(&data.path().join("db")).unwrap();
        let directory = Directory::open(&storage).unwrap();
        let inspector = directory.user(&Username::parse("inspector").unwrap()).unwrap().expect("demo users were stored");
        assert!(inspector.password_hash.starts_with("$argon2id$"), "passwords are stored hashed");
        let sites = directory.sites().unwrap();
        let site_names: Vec<&str> = sites.iter().map(|site| site.name.as_str()).collect();
        assert_eq!(site_names, ["总部", "二厂"]);
        let store = server::documents::DocumentStore::open(&storage).unwrap();
        for site in &sites {
            let catalog = site.catalog.expect("each demo site has a catalog");
            let doc = store.load(&catalog).unwrap().expect("the catalog is stored");
            let view = shared::document::catalog::SiteCatalog::from_doc(doc).unwrap().read().unwrap();
            assert_eq!(view.templates.len(), 4, "the standard checklists are listed in {}'s catalog", site.id);
        }
        inspector
    };

    // A second start with --demo keeps what is there instead of seeding again.
    let again = ServerProcess::start(data.path(), &["--demo"]);
    assert!(again.terminate().success());
    let storage = server::Storage::open(&data.path().join("db")).unwrap();
    let unchanged = Directory::open(&storage).unwrap().user(&Username::parse("inspector").unwrap()).unwrap().unwrap();
    assert_eq!(unchanged.password_hash, inspector.password_hash, "demo seeding must not touch a non-empty database");
}

#[tokio::test]
async fn without_demo_the_database_stays_empty() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data.path(), &[]);
    assert_eq!(server.banner.len(), 1);
    // `systemctl reload` on a plain HTTP server (behind a proxy): nothing to read, no exit.
    assert!(Command::new("kill").args(["-HUP", &server.pid().to_string()]).status().unwrap().success());
    let health = http_client().get(format!("{}healthz", server.url)).send().await.unwrap();
    assert_eq!(health.status(), 200, "SIGHUP does not stop a server serving plain HTTP");
    assert!(server.terminate().success());
    let storage = server::Storage::open(&data.path().join("db")).unwrap();
    assert!(Directory::open(&storage).unwrap().is_empty());
}

/// The durability promise: whatever a phone was told the server has survives the server
/// being killed (SIGKILL) the moment the phone heard it.
#[tokio::test]
async fn acknowledged_documents_survive_sigkill() {
    use shared::protocol::DocumentId;
    use shared::protocol::client::{Client, ClientConfig, SyncStatus};
    use shared::protocol::message::PeerId;
    use tests::native_client::{now, sync_until};

    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data.path(), &["--demo"]);
    let token = crate::support::login(&server.url, "inspector", "demo").await;
    let sync_url = format!("{}sync?token={token}", server.url.replacen("http://", "ws://", 1));
    let mut phone = Client::new(ClientConfig::new(PeerId("phone".into())), now());
    let documents: Vec<DocumentId> = (0..300u32)
        .map(|index| {
            let mut bytes = [0x77u8; 16];
            bytes[..4].copy_from_slice(&index.to_be_bytes());
            let document = DocumentId::from_random(bytes);
            let mut doc = crate::sync::order_by("inspector", "hq", "step");
            for step in 0..3i64 {
                crate::sync::comment(&mut doc, "inspector", &format!("answer-{step}"), "pass");
            }
            phone.add_document(document, doc);
            document
        })
        .collect();
    let all_synced = |client: &Client| documents.iter().all(|document| client.status(document) == Some(SyncStatus::Synced));
    sync_until(&mut phone, &sync_url, Duration::from_secs(60), all_synced).await.unwrap();
    server.kill_hard();

    let restarted = ServerProcess::start(data.path(), &[]);
    // The token signed before the crash is still good: the key is in the database too.
    let sync_url = format!("{}sync?token={token}", restarted.url.replacen("http://", "ws://", 1));
    let mut fresh = Client::new(ClientConfig::new(PeerId("fresh".into())), now());
    for document in &documents {
        fresh.request_document(*document);
    }
    let all_answered = |client: &Client| {
        documents.iter().all(|document| client.status(document) == Some(SyncStatus::Synced) || client.is_unavailable(document))
    };
    sync_until(&mut fresh, &sync_url, Duration::from_secs(60), all_answered).await.unwrap();
    for document in &documents {
        let mut acknowledged = phone.document(document).unwrap().clone();
        let mut recovered = fresh.document(document).unwrap().clone();
        assert_eq!(recovered.get_heads(), acknowledged.get_heads(), "document {document} lost acknowledged changes");
    }
    assert!(restarted.terminate().success());
}

/// SIGTERM while phones are connected: the server closes their sockets, finishes its
/// writes and exits cleanly instead of waiting for them to leave.
#[tokio::test]
async fn sigterm_with_phones_connected_still_shuts_down() {
    use futures_util::{SinkExt, StreamExt};
    use shared::protocol::message::{Message, PeerId, encode};
    use tokio_tungstenite::tungstenite::Message as Frame;

    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data.path(), &["--demo"]);
    let token = crate::support::login(&server.url, "tech", "demo").await;
    let sync_url = format!("{}sync?token={token}", server.url.replacen("http://", "ws://", 1));
    let (mut socket, _) = tokio_tungstenite::connect_async(&sync_url).await.unwrap();
    let join = Message::Join { sender: PeerId("lingering".into()), supported_versions: vec!["1".into()], metadata: None };
    socket.send(Frame::Binary(encode(&join).into())).await.unwrap();
    assert!(matches!(socket.next().await, Some(Ok(Frame::Binary(_)))), "the handshake answer");

    let status = tokio::task::spawn_blocking(move || server.terminate()).await.unwrap();
    assert!(status.success(), "SIGTERM should end the server with status 0 even with a socket open");
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(frame)) = socket.next().await {
            if frame.is_close() {
                break;
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the socket was not closed");
}

/// Setting up from the command line on a stopped server: a site, a user with a role
/// there (password from the environment), bad input refused with a message, and a
/// disabled user who then cannot sign in.
#[tokio::test]
async fn sites_and_users_are_set_up_from_the_command_line() {
    let data = tempfile::tempdir().unwrap();
    let setup = |args: &[&str], password: Option<&str>| {
        let mut command = Command::new(server_binary());
        command.args(args).arg("--data").arg(data.path().join("db")).env("HOUQIN_LOG", "error").stdin(Stdio::null());
        match password {
            Some(password) => command.env("HOUQIN_PASSWORD", password),
            None => command.env_remove("HOUQIN_PASSWORD"),
        };
        command.output().unwrap()
    };
    let created = setup(&["site", "add", "plant3", "三厂"], None);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    assert!(String::from_utf8_lossy(&created.stdout).starts_with("created site plant3 (三厂), catalog automerge:"));
    let twice = setup(&["site", "add", "plant3", "三厂"], None);
    assert!(!twice.status.success());
    assert!(String::from_utf8_lossy(&twice.stderr).contains("a site \"plant3\" exists already"));
    let unknown_role = setup(&["user", "add", "zhou", "--name", "周", "--role", "plant3:boss"], Some("long enough"));
    assert!(String::from_utf8_lossy(&unknown_role.stderr).contains("invalid role \"boss\""));
    let added = setup(&["user", "add", "zhou", "--name", "周", "--role", "plant3:manager"], Some("long enough"));
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let listed = setup(&["user", "list"], None);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("manager@plant3"));

    let server = ServerProcess::start(data.path(), &[]);
    let token = crate::support::login(&server.url, "zhou", "long enough").await;
    let me: serde_json::Value =
        http_client().get(format!("{}api/me", server.url)).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["sites"][0]["id"], "plant3");
    assert_eq!(me["sites"][0]["role"], "manager");
    assert!(server.terminate().success());

    let disabled = setup(&["user", "disable", "zhou"], None);
    assert!(disabled.status.success());
    let server = ServerProcess::start(data.path(), &[]);
    let response = http_client().get(format!("{}api/me", server.url)).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 401, "the disabled user's token is refused");
    assert!(server.terminate().success());
}

#[tokio::test]
async fn anonymous_sync_is_for_benchmarks_on_loopback_only() {
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(server_binary())
        .args(["--addr", "0.0.0.0:0", "--bench-anonymous-sync", "--data"])
        .arg(data.path().join("db"))
        .env("HOUQIN_LOG", "error")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--bench-anonymous-sync lets anyone sync without signing in: it listens on loopback only, not on 0.0.0.0:0"),
        "{stderr}"
    );

    // Without the flag, syncing needs a session; with it, anyone's documents are taken.
    let (id, doc) = tests::load::phone_documents(0, &automerge::ActorId::random()).remove(2);
    let server = ServerProcess::start(data.path(), &[]);
    let sync_url = format!("{}sync", server.url.replacen("http://", "ws://", 1));
    let refused = tokio_tungstenite::connect_async(&sync_url).await.unwrap_err();
    assert!(refused.to_string().contains("401"), "{refused}");
    assert!(server.terminate().success());
    let server = ServerProcess::start(data.path(), &["--bench-anonymous-sync"]);
    let sync_url = format!("{}sync", server.url.replacen("http://", "ws://", 1));
    let mut phone = shared::protocol::client::Client::new(
        shared::protocol::client::ClientConfig::new(shared::protocol::message::PeerId("bench-phone".into())),
        tests::native_client::now(),
    );
    phone.add_document(id, doc);
    tests::native_client::sync_until(&mut phone, &sync_url, Duration::from_secs(60), |phone| {
        phone.status(&id) == Some(shared::protocol::client::SyncStatus::Synced)
    })
    .await
    .unwrap();
    assert!(server.terminate().success());
    let storage = server::Storage::open(&data.path().join("db")).unwrap();
    assert!(
        server::documents::DocumentStore::open(&storage).unwrap().load(&id).unwrap().is_some(),
        "the anonymous phone's work order is stored"
    );
}

/// The server's peak resident memory, from the kernel.
pub(crate) fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc")
}

/// A client whose connections come from `address`: loopback is all of 127/8, so one
/// machine can play many addresses.
fn client_from(address: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder().local_address(std::net::IpAddr::from(address)).build().unwrap()
}

/// Sends each `(client, user name)` sign-in at once with a wrong password; counts the answers.
async fn wrong_sign_ins(url: &str, attempts: Vec<(reqwest::Client, String)>) -> std::collections::BTreeMap<u16, usize> {
    let attempts: Vec<_> = attempts
        .into_iter()
        .map(|(client, username)| {
            let url = format!("{url}api/login");
            tokio::spawn(async move {
                let body = serde_json::json!({ "username": username, "password": "a guess" });
                client.post(url).json(&body).send().await.unwrap().status().as_u16()
            })
        })
        .collect();
    let mut answers = std::collections::BTreeMap::new();
    for attempt in attempts {
        *answers.entry(attempt.await.unwrap()).or_insert(0) += 1;
    }
    answers
}

/// Each password check holds 19 MiB: a burst of wrong sign-ins waits its turn instead of
/// taking gigabytes (400 at once took 10.2 GB before), and is answered 401, 429 or 503.
/// Sent at once, guesses get the turns they would in line: per account and address, and
/// per account from many addresses.
#[tokio::test]
async fn a_burst_of_wrong_sign_ins_is_checked_a_few_at_a_time() {
    let data = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(data.path(), &["--demo"]);
    let before = peak_rss_kib(server.pid());
    // 400 names from 20 addresses, each within what the throttle lets through: only the
    // cap on checks at once holds them.
    let clients: Vec<reqwest::Client> = (0..20).map(|n| client_from([127, 0, 1, 2 + n])).collect();
    let spread = (0..400).map(|n| (clients[n % clients.len()].clone(), format!("guest{n}"))).collect();
    let answers = wrong_sign_ins(&server.url, spread).await;
    assert!(answers.keys().all(|status| [401, 503].contains(status)), "{answers:?}");
    assert!(answers.get(&401).is_some_and(|checked| *checked >= 2), "some were checked: {answers:?}");
    let peak = peak_rss_kib(server.pid());
    assert!(peak < before + 300 * 1024, "peak memory rose from {before} KiB to {peak} KiB: {answers:?}");

    // One account guessed from one address, 200 at once: five guesses, as in line (about
    // 30 got through before a turn was taken before the check).
    let one = client_from([127, 0, 2, 2]);
    let answers = wrong_sign_ins(&server.url, (0..200).map(|_| (one.clone(), "manager".to_owned())).collect()).await;
    assert!(answers.keys().all(|status| [401, 429, 503].contains(status)), "{answers:?}");
    assert!(answers.get(&401).copied().unwrap_or(0) <= 5, "{answers:?}");
    // One account guessed from 50 addresses, one guess each: the account's own bucket
    // lets ten through (250 got through in 5.6 s before), the rest wait.
    let answers = wrong_sign_ins(&server.url, (0..50).map(|n| (client_from([127, 0, 3, 2 + n]), "store".to_owned())).collect()).await;
    assert!(answers.get(&401).copied().unwrap_or(0) <= 10, "{answers:?}");
    assert!(answers.get(&429).copied().unwrap_or(0) >= 40, "{answers:?}");
    // Names no account can have cost no hash and fill no table: refused at once.
    let long = "x".repeat(1_000_000);
    let refused = http_client()
        .post(format!("{}api/login", server.url))
        .json(&serde_json::json!({ "username": long, "password": "demo" }))
        .send()
        .await
        .unwrap();
    assert!([401, 429].contains(&refused.status().as_u16()));
    assert!(server.terminate().success());
}
