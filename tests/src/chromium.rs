//! Headless Chromium driven through its own ChromeDriver, as a phone that has never opened
//! Houqin: for the browser tests and the app benchmark.

use std::io::{BufRead as _, BufReader};
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

/// How long a browser test waits for what it expects to appear.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A DevTools protocol command through ChromeDriver's CDP endpoint: the command's name and
/// its parameters, for `client.issue_cmd`.
#[derive(Debug)]
pub struct Cdp(pub &'static str, pub Value);

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/goog/cdp/execute", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({ "cmd": self.0, "params": self.1 }).to_string()))
    }
}

/// Headless Chromium driven through its own ChromeDriver on a free port, with a fresh
/// profile, as a phone that has never opened Houqin.
pub struct Browser {
    pub client: fantoccini::Client,
    driver: Child,
    profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start() -> Browser {
        Browser::start_with(&[]).await
    }

    /// Starts with more command-line switches for Chromium (say, to resolve a LAN name to
    /// loopback and pin a test certificate).
    pub async fn start_with(switches: &[String]) -> Browser {
        let chromium = std::env::var_os("HOUQIN_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| "/usr/bin/chromium".into());
        let chromedriver = std::env::var_os("CHROMEDRIVER").map(PathBuf::from).unwrap_or_else(|| "/usr/bin/chromedriver".into());
        // A driver now and then exits before it listens (seen under a loaded machine): it
        // is started again, and what it said is shown if it never listens.
        let mut said = String::new();
        let (driver, port) = (1..=3)
            .find_map(|_| {
                let (driver, port) = start_driver(&chromedriver);
                match port {
                    Ok(port) => Some((driver, port)),
                    Err(output) => {
                        said = output;
                        std::thread::sleep(Duration::from_millis(500));
                        None
                    }
                }
            })
            .unwrap_or_else(|| panic!("ChromeDriver did not say which port it listens on, three times; it said: {said}"));

        let profile = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--lang=en-US",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.extend_from_slice(switches);
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": args,
                "prefs": {
                    "intl.accept_languages": "en-US",
                    "download.default_directory": profile.path().join("downloads"),
                    "download.prompt_for_download": false,
                },
            }
        });
        let client = fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities.as_object().unwrap().clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("cannot open a ChromeDriver session");
        Browser { client, driver, profile }
    }

    /// Where the browser saves what it downloads.
    pub fn downloads(&self) -> PathBuf {
        self.profile.path().join("downloads")
    }

    /// The text of the first element matching `selector`, if there is one.
    pub async fn text(&self, selector: &str) -> Option<String> {
        let script = "const element = document.querySelector(arguments[0]); return element ? element.textContent : null;";
        match self.client.execute(script, vec![json!(selector)]).await.unwrap() {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    /// Waits until the element matching `selector` has the text `expected`; on timeout,
    /// says what the page showed instead.
    pub async fn wait_for_text(&self, selector: &str, expected: &str) {
        self.wait_for_match(selector, expected, |seen| seen == expected).await;
    }

    /// Waits until the element matching `selector` has a text starting with `prefix` (the
    /// rest is a time of day, say).
    pub async fn wait_for_prefix(&self, selector: &str, prefix: &str) {
        self.wait_for_match(selector, &format!("{prefix}…"), |seen| seen.starts_with(prefix)).await;
    }

    pub async fn wait_for_match(&self, selector: &str, expected: &str, matches: impl Fn(&str) -> bool) {
        let give_up = tokio::time::Instant::now() + PATIENCE;
        loop {
            let seen = self.text(selector).await;
            if seen.as_deref().is_some_and(&matches) {
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
    pub async fn wait_for_service_worker(&self) {
        let give_up = tokio::time::Instant::now() + PATIENCE;
        while self.evaluate("return navigator.serviceWorker.controller !== null").await != json!(true) {
            assert!(tokio::time::Instant::now() < give_up, "gave up after {PATIENCE:?} waiting for the service worker to control the page");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn evaluate(&self, script: &str) -> Value {
        self.client.execute(script, Vec::new()).await.unwrap()
    }

    pub async fn close(self) {
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

/// Starts ChromeDriver on a free port in its own process group (so the browsers it starts
/// go with it, see Drop) and reads the port it says it listens on; else what it printed.
fn start_driver(chromedriver: &std::path::Path) -> (Child, Result<String, String>) {
    // Its errors go to a file, read only if it never listens (a pipe nobody reads would
    // stop it once full).
    let errors = tempfile::tempfile().unwrap();
    let mut driver = Command::new(chromedriver)
        .arg("--port=0")
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(errors.try_clone().unwrap()))
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {}: {error}; `cargo xtask test` installs it", chromedriver.display()));
    let stdout = BufReader::new(driver.stdout.take().unwrap());
    let mut printed = String::new();
    let port = stdout.lines().map_while(Result::ok).find_map(|line| {
        printed.push_str(&line);
        printed.push('\n');
        line.split("started successfully on port ").nth(1).map(|rest| rest.trim_end_matches('.').to_owned())
    });
    match port {
        Some(port) => (driver, Ok(port)),
        None => {
            let _ = driver.kill();
            let _ = driver.wait();
            let mut errors = errors;
            let mut said = String::new();
            let _ = std::io::Seek::rewind(&mut errors);
            let _ = std::io::Read::read_to_string(&mut errors, &mut said);
            (driver, Err(format!("{printed}{said}")))
        }
    }
}
