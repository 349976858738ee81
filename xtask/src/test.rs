//! `cargo xtask test`: every test of the project, in one command.
//!
//! Order: prerequisites, the gates (formatting, then clippy with warnings as errors, for
//! the native crates and for the app as the browser runs it), the PWA build (the browser tests load it), the native tests of
//! every crate (unit, integration, browser end-to-end, JavaScript interop), then the app's
//! wasm tests in headless Chromium. Native builds share one target directory and profile,
//! so nothing is compiled twice.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::install::{self, Browser};
use crate::{cargo, run_command, workspace_root};

pub fn test() -> anyhow::Result<()> {
    let started = Instant::now();
    let root = workspace_root();
    let browser = Browser::from_env();
    install::wasm_target()?;
    install::browser(&browser)?;
    let postgres = install::postgres()?;
    install::npm_packages(&root.join("tests").join("js"))?;
    install::lint_tools()?;

    gates(&root)?;

    crate::dist::dist(crate::dist::Names::Strip)?;

    // The process-level tests start the real binary; build it next to the test binary, and
    // the kind `release` makes (the app built in) beside it, for its own test.
    let debug = crate::target_dir().join("debug");
    run_command(&mut crate::build_with_app(&root, &[]))?;
    std::fs::copy(debug.join("houqin-server"), debug.join("houqin-server-embedded"))?;
    run_command(cargo().current_dir(&root).args(["build", "--package", "server", "--bin", "houqin-server"]))?;
    stop_leftover_clusters(&postgres);
    run_command(
        cargo()
            .current_dir(&root)
            .arg("test")
            .env("HOUQIN_CHROMIUM", &browser.chromium)
            .env("CHROMEDRIVER", &browser.chromedriver)
            .env("HOUQIN_PG_BINDIR", &postgres),
    )?;

    // wasm-bindgen's runner reads the browser's capabilities from this file.
    let webdriver_json = crate::target_dir().join("webdriver.json");
    std::fs::create_dir_all(crate::target_dir())?;
    std::fs::write(&webdriver_json, serde_json::to_string_pretty(&webdriver_capabilities(&browser))?)?;
    let runner = std::env::current_exe()?;
    run_command(
        cargo()
            .current_dir(&root)
            .args(["test", "--package", "app", "--target", "wasm32-unknown-unknown"])
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", format!("{} wasm-test-runner", runner.display()))
            .env("CHROMEDRIVER", &browser.chromedriver)
            .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", &webdriver_json)
            .env("WASM_BINDGEN_TEST_TIMEOUT", "120"),
    )?;
    println!("test: every test passed in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Formatting and lints: a violation fails the run like a failing test, saying what to run.
fn gates(root: &Path) -> anyhow::Result<()> {
    run_command(cargo().current_dir(root).args(["fmt", "--all", "--check"]))
        .map_err(|error| anyhow::anyhow!("{error}\nrun `cargo fmt --all` to format the code as rustfmt.toml says"))?;
    let deny = ["--", "--deny", "warnings"];
    run_command(cargo().current_dir(root).args(["clippy", "--workspace", "--all-targets"]).args(deny))?;
    run_command(
        cargo().current_dir(root).args(["clippy", "--package", "app", "--target", "wasm32-unknown-unknown", "--all-targets"]).args(deny),
    )?;
    Ok(())
}

/// Stops the PostgreSQL clusters an earlier run left behind and removes their directories.
/// A test's cluster lives in a temporary directory named `houqin-pg-…` (the prefix is
/// `tests::postgres::DIRECTORY_PREFIX`) and is stopped when the test drops it, but a test
/// process killed outright leaves its postmaster running, holding memory and a port.
/// Failures are ignored: a stale pid file whose server is gone makes `pg_ctl` fail, and
/// the directory goes all the same.
fn stop_leftover_clusters(bindir: &Path) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    let as_postgres = install::is_root();
    for entry in entries.filter_map(Result::ok) {
        if !entry.file_name().to_string_lossy().starts_with("houqin-pg-") {
            continue;
        }
        let data = entry.path().join("data");
        if data.join("postmaster.pid").exists() {
            println!("test: stopping the PostgreSQL cluster an earlier run left in {}", data.display());
            let pg_ctl = bindir.join("pg_ctl");
            // pg_ctl refuses to run as root; the cluster's files belong to `postgres` then.
            let mut stop = if as_postgres { Command::new("runuser") } else { Command::new(&pg_ctl) };
            if as_postgres {
                stop.args(["-u", "postgres", "--"]).arg(&pg_ctl);
            }
            let _ = stop.current_dir(entry.path()).arg("-D").arg(&data).args(["-m", "immediate", "stop"]).output();
        }
        let _ = std::fs::remove_dir_all(entry.path());
    }
}

/// Chromium's options for wasm-bindgen's runner, which adds headless and no-sandbox itself.
/// Background networking is off: this machine's closed network refuses it noisily.
fn webdriver_capabilities(browser: &Browser) -> serde_json::Value {
    serde_json::json!({
        "goog:chromeOptions": {
            "binary": browser.chromium,
            "args": [
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        }
    })
}
