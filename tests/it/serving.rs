//! How the server serves the PWA's files: the shell for app pages, 404 for everything
//! else, content types, precompressed variants and cache headers.

use std::io::{Read as _, Write as _};
use std::time::Duration;

use expect_test::{Expect, expect};

use crate::support::{TestServer, http_client};

const SHELL: &str = "<!doctype html><title>shell</title>";
const WASM: &[u8] = b"\0asm\x01\0\0\0 pretend wasm";

/// A small dist directory shaped like the one `cargo xtask dist` writes.
fn fixture_dist() -> tempfile::TempDir {
    let dist = tempfile::tempdir().unwrap();
    let write = |path: &str, bytes: &[u8]| {
        let path = dist.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    };
    write("index.html", SHELL.as_bytes());
    write("index.html.gz", &gzip(SHELL.as_bytes()));
    write("sw.js", b"self.addEventListener('fetch', () => {});");
    write("manifest.webmanifest", b"{\"name\":\"Houqin\"}");
    write("icon.svg", b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
    write("assets/houqin-0123456789abcdef_bg.wasm", WASM);
    write("assets/houqin-0123456789abcdef_bg.wasm.br", &brotli(WASM));
    write("assets/houqin-0123456789abcdef_bg.wasm.gz", &gzip(WASM));
    write("assets/style-0123456789abcdef.css", b"body{}");
    dist
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut output = Vec::new();
    brotli::BrotliCompress(&mut &bytes[..], &mut output, &Default::default()).unwrap();
    output
}

/// Fetches `path` with `Accept-Encoding: encoding` and summarises the response in one line.
async fn fetch(server: &TestServer, path: &str, encoding: &str) -> (String, Vec<u8>) {
    let response = http_client().get(server.url(path)).header("accept-encoding", encoding).send().await.unwrap();
    let header = |name: &str| response.headers().get(name).map(|value| value.to_str().unwrap().to_owned()).unwrap_or_else(|| "-".into());
    let summary = format!(
        "{} type={} encoding={} vary={} cache={}",
        response.status().as_u16(),
        header("content-type"),
        header("content-encoding"),
        header("vary"),
        header("cache-control")
    );
    (summary, response.bytes().await.unwrap().to_vec())
}

async fn check(server: &TestServer, path: &str, encoding: &str, expected: Expect) {
    let (summary, _) = fetch(server, path, encoding).await;
    expected.assert_eq(&summary);
}

#[tokio::test]
async fn app_pages_get_the_shell_and_unknown_paths_get_404() {
    let dist = fixture_dist();
    let server = TestServer::start(dist.path()).await;
    check(&server, "/", "identity", expect!["200 type=text/html; charset=utf-8 encoding=- vary=accept-encoding cache=no-cache"]).await;
    check(&server, "/settings", "identity", expect!["200 type=text/html; charset=utf-8 encoding=- vary=accept-encoding cache=no-cache"])
        .await;
    check(&server, "/settings", "gzip", expect!["200 type=text/html; charset=utf-8 encoding=gzip vary=accept-encoding cache=no-cache"])
        .await;
    check(&server, "/settings/", "identity", expect!["404 type=application/json encoding=- vary=- cache=-"]).await;
    check(&server, "/no-such-page", "identity", expect!["404 type=application/json encoding=- vary=- cache=-"]).await;
    check(&server, "/api/unknown", "identity", expect!["404 type=application/json encoding=- vary=- cache=-"]).await;
    check(&server, "/assets/", "identity", expect!["404 type=application/json encoding=- vary=- cache=-"]).await;

    let (_, shell) = fetch(&server, "/settings", "identity").await;
    assert_eq!(shell, SHELL.as_bytes());
    let (_, not_found) = fetch(&server, "/no-such-page", "identity").await;
    assert_eq!(String::from_utf8(not_found).unwrap(), r#"{"code":"not_found","error":"not found"}"#);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_precompressed() {
    let dist = fixture_dist();
    let server = TestServer::start(dist.path()).await;
    let wasm = "/assets/houqin-0123456789abcdef_bg.wasm";
    check(
        &server,
        wasm,
        "br, gzip",
        expect!["200 type=application/wasm encoding=br vary=accept-encoding cache=public, max-age=31536000, immutable"],
    )
    .await;
    check(
        &server,
        wasm,
        "gzip",
        expect!["200 type=application/wasm encoding=gzip vary=accept-encoding cache=public, max-age=31536000, immutable"],
    )
    .await;
    check(
        &server,
        wasm,
        "identity",
        expect!["200 type=application/wasm encoding=- vary=accept-encoding cache=public, max-age=31536000, immutable"],
    )
    .await;
    check(
        &server,
        "/assets/style-0123456789abcdef.css",
        "identity",
        expect!["200 type=text/css; charset=utf-8 encoding=- vary=accept-encoding cache=public, max-age=31536000, immutable"],
    )
    .await;

    let (_, brotli_body) = fetch(&server, wasm, "br").await;
    let mut decoded = Vec::new();
    brotli::Decompressor::new(&brotli_body[..], 4096).read_to_end(&mut decoded).unwrap();
    assert_eq!(decoded, WASM);
    let (_, plain) = fetch(&server, wasm, "identity").await;
    assert_eq!(plain, WASM);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_service_worker_and_manifest_are_always_revalidated() {
    let dist = fixture_dist();
    let server = TestServer::start(dist.path()).await;
    check(&server, "/sw.js", "identity", expect!["200 type=text/javascript; charset=utf-8 encoding=- vary=accept-encoding cache=no-cache"])
        .await;
    check(
        &server,
        "/manifest.webmanifest",
        "identity",
        expect!["200 type=application/manifest+json encoding=- vary=accept-encoding cache=no-cache"],
    )
    .await;
    check(&server, "/icon.svg", "identity", expect!["200 type=image/svg+xml encoding=- vary=accept-encoding cache=no-cache"]).await;

    // Revalidating an unchanged service worker costs a 304, not a download.
    let first = http_client().get(server.url("/sw.js")).send().await.unwrap();
    let last_modified = first.headers()["last-modified"].clone();
    let again = http_client().get(server.url("/sw.js")).header("if-modified-since", last_modified).send().await.unwrap();
    assert_eq!(again.status(), 304);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn health_answers_even_without_a_built_app() {
    let missing = tempfile::tempdir().unwrap();
    let server = TestServer::start(&missing.path().join("dist")).await;
    let health: serde_json::Value = http_client().get(server.url("/healthz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        health,
        serde_json::json!({ "status": "ok", "version": shared::VERSION, "disk_full": false, "damaged": false, "database_unreachable": false })
    );

    let (summary, body) = fetch(&server, "/", "identity").await;
    assert_eq!(summary, "503 type=application/json encoding=- vary=- cache=-");
    assert_eq!(
        String::from_utf8(body).unwrap(),
        r#"{"code":"app_not_built","error":"the app is not built yet; run `cargo xtask dist` and reload"}"#
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn every_response_says_what_may_run_and_that_no_one_may_frame_it() {
    let dist = fixture_dist();
    let server = TestServer::start(dist.path()).await;
    let header = |response: &reqwest::Response, name: &str| response.headers().get(name).map(|value| value.to_str().unwrap().to_owned());
    for path in ["/", "/assets/style-0123456789abcdef.css", "/api/me", "/nothing-here.txt", "/setup"] {
        let response = http_client().get(server.url(path)).send().await.unwrap();
        assert_eq!(header(&response, "x-frame-options").as_deref(), Some("DENY"), "{path}");
        assert_eq!(header(&response, "x-content-type-options").as_deref(), Some("nosniff"), "{path}");
        assert_eq!(header(&response, "referrer-policy").as_deref(), Some("no-referrer"), "{path}");
        let policy = header(&response, "content-security-policy").unwrap_or_default();
        assert!(policy.contains("frame-ancestors 'none'"), "{path}: {policy}");
        if path == "/setup" {
            // A page of its own, with its style inline and nothing else allowed.
            assert!(policy.starts_with("default-src 'none'"), "{policy}");
        } else {
            // Scripts only from this server (wasm compiled), none inline, nowhere else.
            let script = policy.split(';').map(str::trim).find(|directive| directive.starts_with("script-src")).unwrap();
            assert_eq!(script, "script-src 'self' 'wasm-unsafe-eval'");
            assert!(!policy.contains("unsafe-inline") && !policy.contains('*'), "{policy}");
        }
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn connections_are_bounded_and_closed_when_idle() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;

    let dist = fixture_dist();
    // Loopback has no bound of its own (a proxy in front, the load generator), so the bound
    // in all is the one met here; the one per address is the unit test's.
    let limits = server::connections::Limits {
        per_address: 4,
        total: 8,
        idle: Duration::from_secs(1),
        headers: Duration::from_secs(20),
        body: server::connections::BODY,
        max_resident: u64::MAX,
    };
    let server = TestServer::start_configured(dist.path(), |state| state.connection_limits = limits).await;
    // Connections that say nothing: the ninth is closed unread.
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(TcpStream::connect(server.address).await.unwrap());
    }
    let mut ninth = TcpStream::connect(server.address).await.unwrap();
    let _ = ninth.write_all(b"GET /healthz HTTP/1.1\r\nhost: houqin\r\n\r\n").await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), ninth.read_to_end(&mut answer)).await.expect("closed, not left waiting");
    assert!(read.is_err() || answer.is_empty(), "over the bound, yet answered: {}", String::from_utf8_lossy(&answer));
    // The idle ones are closed once their time is up, and the address is served again.
    for mut connection in idle {
        let mut rest = Vec::new();
        let closed =
            tokio::time::timeout(Duration::from_secs(10), connection.read_to_end(&mut rest)).await.expect("an idle connection is closed");
        assert!(closed.is_err() || rest.is_empty());
    }
    let health = http_client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    server.stop().await.unwrap();
}

/// Opens a connection, sends `start`, then `piece` every 300 ms (never idle for the idle
/// rule) until the server closes it or answers with an error — which ends it too — or 50
/// pieces have gone; returns how many went and whether it was cut off.
async fn trickle(server: &TestServer, start: &[u8], piece: &[u8]) -> (usize, bool) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let mut slow = tokio::net::TcpStream::connect(server.address).await.unwrap();
    slow.write_all(start).await.unwrap();
    for sent in 0..50 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if slow.write_all(piece).await.is_err() {
            return (sent, true);
        }
        let mut answer = [0; 64];
        if let Ok(read) = tokio::time::timeout(Duration::from_millis(1), slow.read(&mut answer)).await {
            let read = read.unwrap_or(0);
            assert!(read == 0 || answer.starts_with(b"HTTP/1.1 4"), "{}", String::from_utf8_lossy(&answer[..read]));
            return (sent + 1, true);
        }
    }
    (50, false)
}

#[tokio::test]
async fn request_headers_and_bodies_that_trickle_in_are_cut_off() {
    let dist = fixture_dist();
    let limits = server::connections::Limits {
        per_address: 4,
        total: 8,
        idle: Duration::from_secs(1),
        headers: Duration::from_secs(2),
        body: Duration::from_secs(2),
        max_resident: u64::MAX,
    };
    let server = TestServer::start_configured(dist.path(), |state| state.connection_limits = limits).await;
    // A header line at a time, never done.
    let (lines, cut_off) = trickle(&server, b"GET /healthz HTTP/1.1\r\nhost: houqin\r\n", b"x-slow: 1\r\n").await;
    assert!(cut_off, "headers still taken after {lines} lines over 15 s");
    assert!(lines >= 3, "cut off before the headers' time was up: {lines} lines");
    // Headers whole, then a body a byte at a time.
    let start = b"POST /api/login HTTP/1.1\r\nhost: houqin\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n";
    let (bytes, cut_off) = trickle(&server, start, b" ").await;
    assert!(cut_off, "a body still taken after {bytes} bytes over 15 s");
    // Others are served as before.
    assert_eq!(http_client().get(server.url("/healthz")).send().await.unwrap().status(), 200);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn connections_still_in_their_tls_handshake_count_toward_the_bounds() {
    use tokio::io::AsyncReadExt as _;
    use tokio::net::TcpStream;

    let dist = fixture_dist();
    let data = tempfile::tempdir().unwrap();
    server::tls::init(data.path(), &["houqin.lan".to_owned()], &[]).unwrap();
    let limits = server::connections::Limits {
        per_address: 4,
        total: 2,
        idle: Duration::from_secs(60),
        headers: server::connections::HEADERS,
        body: server::connections::BODY,
        max_resident: u64::MAX,
    };
    let server = TestServer::start_https_configured(data, dist.path(), "houqin.lan", |state| state.connection_limits = limits).await;
    // Two connections that never start their handshake hold both places...
    let _stalled = [TcpStream::connect(server.address).await.unwrap(), TcpStream::connect(server.address).await.unwrap()];
    // ...so a third is closed at once, not after the handshake's own time limit.
    let mut third = TcpStream::connect(server.address).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(server::connections::HANDSHAKE / 2, third.read_to_end(&mut answer))
        .await
        .expect("closed, not left in a handshake");
    assert!(read.is_err() || answer.is_empty());
    server.stop().await.unwrap();
}
