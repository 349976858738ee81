//! Serving the way a site runs Houqin: `tls init` and a restart serving HTTPS by a LAN name,
//! the plain listener's redirect, CA and setup pages, a certificate renewed by SIGHUP
//! without dropping open connections, the sync socket's single-use tickets, and the app
//! built into the binary.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::header;
use serde_json::Value;
use tokio_tungstenite::tungstenite;

use crate::server_process::{ServerProcess, server_binary};
use crate::support::{TestServer, http_client};

/// The name phones use for the server in these tests; resolved to loopback by each client.
const NAME: &str = "houqin.test";

pub(crate) fn tls_init(data: &Path, args: &[&str]) -> String {
    let output = Command::new(server_binary()).arg("--data").arg(data.join("db")).args(["tls", "init"]).args(args).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "tls init failed: {stdout}{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

/// A client that trusts only `ca` and reaches [`NAME`] at `address`.
fn trusting(ca: &[u8], address: SocketAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .add_root_certificate(reqwest::Certificate::from_pem(ca).unwrap())
        .resolve(NAME, address)
        .tls_info(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The DER of the first certificate in a PEM file.
fn first_certificate(pem: &str) -> Vec<u8> {
    use base64ct::Encoding as _;
    let body: String = pem
        .lines()
        .skip_while(|line| !line.starts_with("-----BEGIN CERTIFICATE"))
        .skip(1)
        .take_while(|line| !line.starts_with("-----END"))
        .collect();
    base64ct::Base64::decode_vec(&body).unwrap()
}

fn peer_certificate(response: &reqwest::Response) -> Vec<u8> {
    response.extensions().get::<reqwest::tls::TlsInfo>().and_then(|info| info.peer_certificate()).expect("a TLS connection").to_vec()
}

fn port_of(url: &str) -> u16 {
    url.trim_end_matches('/').rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn tls_init_then_a_restart_serves_https_by_name_redirects_plain_http_and_renews_on_sighup() {
    let data = tempfile::tempdir().unwrap();
    let printed = tls_init(data.path(), &["--host", NAME, "--ip", "127.0.0.1"]);
    assert!(printed.contains("made a certificate authority"), "{printed}");
    let tls = data.path().join("db").join("tls");
    let ca = std::fs::read(tls.join("ca.pem")).unwrap();

    let server = ServerProcess::start(data.path(), &["--http-redirect", "127.0.0.1:0"]);
    assert!(server.url.starts_with("https://127.0.0.1:"), "{}", server.url);
    let port = port_of(&server.url);
    let client = trusting(&ca, SocketAddr::from(([127, 0, 0, 1], port)));
    let health = client.get(format!("https://{NAME}:{port}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.headers()[header::STRICT_TRANSPORT_SECURITY], "max-age=15552000");
    let first_served = std::fs::read_to_string(tls.join("server.pem")).unwrap();
    assert_eq!(peer_certificate(&health), first_certificate(&first_served));

    // Only a client that trusts the authority gets in.
    let untrusting = reqwest::Client::builder().no_proxy().resolve(NAME, SocketAddr::from(([127, 0, 0, 1], port))).build().unwrap();
    assert!(untrusting.get(format!("https://{NAME}:{port}/healthz")).send().await.is_err());

    let authority = client.get(format!("https://{NAME}:{port}/ca.pem")).send().await.unwrap();
    assert_eq!(authority.status(), 200);
    assert_eq!(authority.headers()[header::CONTENT_TYPE], "application/x-x509-ca-cert");
    assert_eq!(authority.bytes().await.unwrap().as_ref(), ca.as_slice());

    // The plain listener: the CA and the setup page before the phone trusts anything,
    // and everything else sent to HTTPS.
    let plain_address: SocketAddr =
        server.banner[1].strip_prefix("Plain HTTP on ").and_then(|rest| rest.split(' ').next()).unwrap().parse().unwrap();
    let plain =
        reqwest::Client::builder().no_proxy().resolve(NAME, plain_address).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let plain_url = |path: &str| format!("http://{NAME}:{}{path}", plain_address.port());
    let redirected = plain.get(plain_url("/orders/abc?tab=steps")).send().await.unwrap();
    assert_eq!(redirected.status(), 308);
    assert_eq!(redirected.headers()[header::LOCATION], format!("https://{NAME}:{port}/orders/abc?tab=steps").as_str());
    let over_plain = plain.get(plain_url("/ca.pem")).send().await.unwrap();
    assert_eq!(over_plain.status(), 200);
    assert!(over_plain.headers().get(header::STRICT_TRANSPORT_SECURITY).is_none(), "HSTS only over HTTPS");
    assert_eq!(over_plain.bytes().await.unwrap().as_ref(), ca.as_slice());
    let fingerprint = printed.lines().find_map(|line| line.strip_prefix("its SHA-256 fingerprint: ")).unwrap().to_owned();
    let setup =
        plain.get(plain_url("/setup")).header(header::ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9").send().await.unwrap().text().await.unwrap();
    for expected in ["安卓手机", "证书信任设置", fingerprint.as_str(), &format!("https://{NAME}:{port}/"), "<svg"] {
        assert!(setup.contains(expected), "the setup page lacks {expected:?}:\n{setup}");
    }
    let english = plain.get(plain_url("/setup")).header(header::ACCEPT_LANGUAGE, "en-GB").send().await.unwrap().text().await.unwrap();
    assert!(english.contains("Certificate Trust Settings") && english.contains("Android"), "{english}");

    // A renewed certificate (the authority kept) is served to new connections after SIGHUP,
    // while a connection opened before carries on.
    let renewed = tls_init(data.path(), &["--host", NAME, "--host", "houqin2.test"]);
    assert!(renewed.contains("kept the certificate authority"), "{renewed}");
    assert_eq!(std::fs::read(tls.join("ca.pem")).unwrap(), ca);
    let second_served = std::fs::read_to_string(tls.join("server.pem")).unwrap();
    assert_ne!(first_certificate(&second_served), first_certificate(&first_served));
    assert!(Command::new("kill").args(["-HUP", &server.pid().to_string()]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let fresh = trusting(&ca, SocketAddr::from(([127, 0, 0, 1], port)));
        let answer = fresh.get(format!("https://{NAME}:{port}/healthz")).send().await.unwrap();
        if peer_certificate(&answer) == first_certificate(&second_served) {
            break;
        }
        assert!(Instant::now() < deadline, "the renewed certificate was not served within 20 s of SIGHUP");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kept = client.get(format!("https://{NAME}:{port}/healthz")).send().await.unwrap();
    assert_eq!(kept.status(), 200);
    assert_eq!(peer_certificate(&kept), first_certificate(&first_served), "the open connection was not dropped");
    assert!(server.terminate().success());
}

#[test]
fn the_server_refuses_to_redirect_to_https_it_cannot_serve_and_a_key_that_is_not_the_certificates() {
    let data = tempfile::tempdir().unwrap();
    let output = Command::new(server_binary())
        .arg("--data")
        .arg(data.path().join("db"))
        .args(["--addr", "127.0.0.1:0", "--http-redirect", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("tls init"), "{}", String::from_utf8_lossy(&output.stderr));

    tls_init(data.path(), &["--host", NAME]);
    let other = tempfile::tempdir().unwrap();
    tls_init(other.path(), &["--host", NAME]);
    let tls = data.path().join("db").join("tls");
    let output = Command::new(server_binary())
        .args(["--addr", "127.0.0.1:0", "--tls-cert"])
        .arg(tls.join("server.pem"))
        .arg("--tls-key")
        .arg(other.path().join("db").join("tls").join("server.key"))
        .arg("--data")
        .arg(data.path().join("db"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("does not go with the certificate"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// With the organisation's own certificate, phones are not offered the local authority
/// still lying in the data directory.
#[tokio::test]
async fn the_local_authority_is_offered_only_while_it_signs_what_is_served() {
    let data = tempfile::tempdir().unwrap();
    tls_init(data.path(), &["--host", NAME]);
    let own = tempfile::tempdir().unwrap();
    tls_init(own.path(), &["--host", NAME]);
    let own_tls = own.path().join("db").join("tls");
    let (cert, key) = (own_tls.join("server.pem"), own_tls.join("server.key"));
    let server = ServerProcess::start(data.path(), &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()]);
    let port = port_of(&server.url);
    let client = trusting(&std::fs::read(own_tls.join("ca.pem")).unwrap(), SocketAddr::from(([127, 0, 0, 1], port)));
    let authority = client.get(format!("https://{NAME}:{port}/ca.pem")).send().await.unwrap();
    assert_eq!(authority.status(), 404);
    let setup = client.get(format!("https://{NAME}:{port}/setup?lang=en")).send().await.unwrap().text().await.unwrap();
    assert!(setup.contains("nothing to install") && !setup.contains("/ca.pem"), "{setup}");
    assert!(server.terminate().success());
}

async fn refused_status(url: &str) -> u16 {
    match tokio_tungstenite::connect_async(url).await {
        Ok(_) => panic!("{url} opened"),
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(error) => panic!("{url}: {error}"),
    }
}

#[tokio::test]
async fn the_sync_socket_opens_with_a_ticket_once_and_never_with_a_stale_one() {
    let dist = tempfile::tempdir().unwrap();
    let server = TestServer::start(dist.path()).await;
    let token = server.token("inspector");
    let ask = || http_client().post(server.url("/api/sync-ticket")).bearer_auth(&token).send();
    let answer: Value = ask().await.unwrap().json().await.unwrap();
    let ticket = answer["ticket"].as_str().unwrap().to_owned();
    assert!(ticket.len() >= 32 && !ticket.contains(&token), "{answer}");
    let url = format!("ws://{}/sync?ticket={ticket}", server.address);
    let (socket, _) = tokio_tungstenite::connect_async(&url).await.expect("a fresh ticket opens the socket");
    drop(socket);
    assert_eq!(refused_status(&url).await, 401, "a used ticket");
    assert_eq!(refused_status(&format!("ws://{}/sync?ticket=made-up", server.address)).await, 401);
    assert_eq!(
        refused_status(&format!("ws://{}/sync?ticket=made-up&token={token}", server.address)).await,
        401,
        "a ticket given is the credential"
    );
    let without = http_client().post(server.url("/api/sync-ticket")).send().await.unwrap();
    assert_eq!(without.status(), 401, "no ticket without a session");

    let inspector = server.state.directory.user(&shared::directory::Username::parse("inspector").unwrap()).unwrap().unwrap();
    let (_, signed_in) = server.state.tokens.verify(&token, server::auth::now()).unwrap();
    let stale = server.state.tickets.issue(&inspector, signed_in, Instant::now() - server::auth::TICKET_LIFETIME);
    assert_eq!(refused_status(&format!("ws://{}/sync?ticket={stale}", server.address)).await, 401, "an expired ticket");

    // A ticket taken before its user was disabled opens nothing after.
    let pending: Value = ask().await.unwrap().json().await.unwrap();
    let disabled =
        http_client().post(server.url("/api/admin/users/inspector/disable")).bearer_auth(server.token("admin")).send().await.unwrap();
    assert_eq!(disabled.status(), 200);
    assert_eq!(refused_status(&format!("ws://{}/sync?ticket={}", server.address, pending["ticket"].as_str().unwrap())).await, 401);
    server.stop().await.unwrap();
}

/// `cargo xtask test` builds `houqin-server` with the `embedded-app` feature beside the
/// plain one, as `houqin-server-embedded`.
#[tokio::test]
async fn the_binary_with_the_app_built_in_serves_it_with_no_dist_directory() {
    let binary = server_binary().with_file_name("houqin-server-embedded");
    assert!(binary.is_file(), "{} is missing: `cargo xtask test` builds it", binary.display());
    let data = tempfile::tempdir().unwrap();
    assert!(!data.path().join("dist").exists());
    let server = ServerProcess::start_binary(&binary, data.path(), &[]);
    let client = http_client();
    // A label's page as the app opens it (`?app`; without it, the public report page).
    let shell = client.get(format!("{}l/HQ-A-101?app", server.url)).header(header::ACCEPT_ENCODING, "br").send().await.unwrap();
    assert_eq!(shell.status(), 200);
    assert_eq!(shell.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(shell.headers()[header::CONTENT_ENCODING], "br");
    assert_eq!(shell.headers()[header::CACHE_CONTROL], "no-cache");
    let etag = shell.headers()[header::ETAG].clone();
    let plain = client.get(server.url.clone()).send().await.unwrap();
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    let index = plain.text().await.unwrap();
    let wasm =
        index.split('"').find(|part| part.starts_with("/assets/") && part.ends_with(".wasm")).expect("the shell names its wasm").to_owned();
    let module = client.get(format!("{}{}", server.url, &wasm[1..])).header(header::ACCEPT_ENCODING, "gzip, br;q=0").send().await.unwrap();
    assert_eq!(module.status(), 200);
    assert_eq!(module.headers()[header::CONTENT_TYPE], "application/wasm");
    assert_eq!(module.headers()[header::CONTENT_ENCODING], "gzip", "br;q=0 is refused");
    assert_eq!(module.headers()[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
    let revalidated = client
        .get(format!("{}l/HQ-A-101?app", server.url))
        .header(header::ACCEPT_ENCODING, "br")
        .header(header::IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);
    assert_eq!(client.get(format!("{}assets/nothing.js", server.url)).send().await.unwrap().status(), 404);
    assert!(server.terminate().success());
}

/// Failed sign-ins `username` makes "from" `forwarded` (an `X-Forwarded-For`), then whether
/// the right password from `then_from` is let in.
async fn guessed_then_signed_in(server: &TestServer, forwarded: &str, then_from: &str) -> u16 {
    let attempt = |from: &str, password: &str| {
        http_client()
            .post(server.url("/api/login"))
            .header("x-forwarded-for", from)
            .json(&serde_json::json!({ "username": "manager", "password": password }))
            .send()
    };
    for _ in 0..5 {
        assert_eq!(attempt(forwarded, "guess").await.unwrap().status(), 401);
    }
    attempt(then_from, "demo").await.unwrap().status().as_u16()
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_a_trusted_proxy() {
    let dist = tempfile::tempdir().unwrap();
    // Behind the proxy, each phone's failures count against its own address.
    let proxied = TestServer::start_behind(dist.path(), vec!["127.0.0.1".parse().unwrap()]).await;
    assert_eq!(
        guessed_then_signed_in(&proxied, "192.168.1.50", "192.168.1.51").await,
        200,
        "another phone behind the proxy is not held up"
    );
    assert_eq!(guessed_then_signed_in(&proxied, "192.168.1.60", "192.168.1.60").await, 429, "the guessing phone waits");
    proxied.stop().await.unwrap();
    // Without trust, a header naming another address changes nothing.
    let direct = TestServer::start(dist.path()).await;
    assert_eq!(guessed_then_signed_in(&direct, "192.168.1.50", "192.168.1.51").await, 429, "a client cannot choose its address");
    direct.stop().await.unwrap();
}
