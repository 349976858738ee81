//! End to end in a real browser: the server serves the built PWA, headless Chromium runs
//! the wasm, and the tests read what the app rendered, with the server and without it.

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{TestServer, built_dist, wait_for};

const PATIENCE: Duration = Duration::from_secs(30);

/// Headless Chromium driven through its own ChromeDriver on a free port, with a fresh
/// profile, as a phone that has never opened Houqin.
struct Browser {
    client: fantoccini::Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Browser {
        let chromium = std::env::var_os("HOUQIN_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| "/usr/bin/chromium".into());
        let chromedriver = std::env::var_os("CHROMEDRIVER").map(PathBuf::from).unwrap_or_else(|| "/usr/bin/chromedriver".into());
        // Its own process group, so that the browsers it starts go with it (see Drop).
        let mut driver = Command::new(&chromedriver)
            .arg("--port=0")
            .process_group(0)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}; `cargo xtask test` installs it", chromedriver.display()));
        let stdout = BufReader::new(driver.stdout.take().unwrap());
        let port = stdout
            .lines()
            .map_while(Result::ok)
            .find_map(|line| line.split("started successfully on port ").nth(1).map(|rest| rest.trim_end_matches('.').to_owned()))
            .expect("ChromeDriver did not say which port it listens on");

        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--lang=en-US",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
                "prefs": { "intl.accept_languages": "en-US" },
            }
        });
        let client = fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities.as_object().unwrap().clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("cannot open a ChromeDriver session");
        Browser { client, driver, _profile: profile }
    }

    /// The text of the first element matching `selector`, if there is one.
    async fn text(&self, selector: &str) -> Option<String> {
        let script = "const element = document.querySelector(arguments[0]); return element ? element.textContent : null;";
        match self.client.execute(script, vec![json!(selector)]).await.unwrap() {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    /// Waits until the element matching `selector` has the text `expected`; on timeout,
    /// says what the page showed instead.
    async fn wait_for_text(&self, selector: &str, expected: &str) {
        let give_up = tokio::time::Instant::now() + PATIENCE;
        loop {
            let seen = self.text(selector).await;
            if seen.as_deref() == Some(expected) {
                return;
            }
            if tokio::time::Instant::now() > give_up {
                let page = self.evaluate("return location.href + '\\n' + document.body.innerText").await;
                panic!("gave up waiting for {selector} to read {expected:?}: it reads {seen:?}; the page shows {page}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits until the service worker controls the page: from then on the app opens offline.
    async fn wait_for_service_worker(&self) {
        wait_for("the service worker to control the page", PATIENCE, || async {
            (self.evaluate("return navigator.serviceWorker.controller !== null").await == json!(true)).then_some(())
        })
        .await;
    }

    async fn evaluate(&self, script: &str) -> Value {
        self.client.execute(script, Vec::new()).await.unwrap()
    }

    async fn close(self) {
        self.client.clone().close().await.unwrap();
    }
}

impl Drop for Browser {
    /// Ends ChromeDriver and every browser it started, also when a test fails midway.
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.wait();
    }
}

#[tokio::test]
async fn the_app_renders_switches_language_and_reopens_offline() {
    let server = TestServer::start(&built_dist()).await;
    let browser = Browser::start().await;

    browser.client.goto(&server.url("/")).await.unwrap();
    // Rendered by the wasm after asking the server: static HTML has no such element. Nobody
    // has signed in on this phone, so the start page sends it to sign in.
    let online = format!("Connected to the server · Server version {}", shared::VERSION);
    browser.wait_for_text("[data-status=online]", &online).await;
    browser.wait_for_text("h1", "Sign in").await;

    // An app page loaded directly gets the shell from the server and is drawn by the router.
    browser.client.goto(&server.url("/settings")).await.unwrap();
    browser.wait_for_text("h1", "Settings").await;
    browser.client.find(fantoccini::Locator::Css("input[value='zh-CN']")).await.unwrap().click().await.unwrap();
    browser.wait_for_text("h1", "设置").await;
    assert_eq!(browser.evaluate("return document.documentElement.lang").await, json!("zh-CN"));

    // The choice is kept on the phone.
    browser.client.refresh().await.unwrap();
    browser.wait_for_text("h1", "设置").await;

    // The service worker has cached the shell and wasm: the app reopens with no network.
    browser.wait_for_service_worker().await;
    // The server goes away, as it does in a basement: the app still opens, from the cache.
    let address = server.url("/");
    server.stop().await.unwrap();
    browser.client.goto(&address).await.unwrap();
    browser.wait_for_text("[data-status=offline]", "未连接服务器：离线工作，联网后自动同步").await;
    assert_eq!(browser.text("h1").await.as_deref(), Some("登录"));
    browser.client.goto(&format!("{address}settings")).await.unwrap();
    browser.wait_for_text("h1", "设置").await;

    browser.close().await;
}

/// Fills the sign-in form and submits it.
async fn sign_in(browser: &Browser, username: &str, password: &str) {
    use fantoccini::Locator::Css;
    for (field, value) in [("username", username), ("password", password)] {
        let input = browser.client.find(Css(&format!("input[name={field}]"))).await.unwrap();
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }
    browser.client.find(Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
}

#[tokio::test]
async fn signing_in_once_keeps_the_phone_signed_in_offline() {
    let server = TestServer::start(&built_dist()).await;
    let browser = Browser::start().await;
    browser.client.goto(&server.url("/")).await.unwrap();
    browser.wait_for_text("h1", "Sign in").await;

    sign_in(&browser, "inspector", "wrong").await;
    browser.wait_for_text("[data-error=sign-in]", "Wrong user name or password").await;
    sign_in(&browser, "inspector", "demo").await;
    browser.wait_for_text("[data-user=inspector]", "李安全员").await;
    assert_eq!(browser.evaluate("return location.pathname").await, json!("/"));
    assert_eq!(browser.text("[data-site=hq] .site-name").await.as_deref(), Some("总部"));
    assert_eq!(browser.text("[data-site=hq] .muted").await.as_deref(), Some("Inspector"));
    assert_eq!(browser.text("[data-site=plant2]").await, None, "only the sites where the inspector has a role");

    // The session is on the phone: a reload, and then no server at all, keep it.
    browser.client.refresh().await.unwrap();
    browser.wait_for_text("[data-user=inspector]", "李安全员").await;
    browser.wait_for_service_worker().await;
    let address = server.url("/");
    server.stop().await.unwrap();
    browser.client.goto(&address).await.unwrap();
    browser.wait_for_text("[data-user=inspector]", "李安全员").await;
    browser.wait_for_text("[data-status=offline]", "Server not reachable: working offline, will sync when connected").await;

    // Signing out forgets it.
    browser.client.find(fantoccini::Locator::Css("[data-action=sign-out]")).await.unwrap().click().await.unwrap();
    browser.wait_for_text("h1", "Sign in").await;
    browser.client.refresh().await.unwrap();
    browser.wait_for_text("h1", "Sign in").await;
    browser.close().await;
}
