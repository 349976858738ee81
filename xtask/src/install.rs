//! Installs what the tests need when it is missing: the wasm target, Debian's Chromium
//! and ChromeDriver, Debian's PostgreSQL, and the JavaScript peer's npm packages from the
//! committed lockfile. Each step checks first, so a prepared machine pays nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::run_command;

/// Where the browser tests find Chromium and ChromeDriver (overridable for other systems).
pub struct Browser {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

impl Browser {
    pub fn from_env() -> Browser {
        let path = |variable: &str, default: &str| std::env::var_os(variable).map(PathBuf::from).unwrap_or_else(|| default.into());
        Browser { chromium: path("HOUQIN_CHROMIUM", "/usr/bin/chromium"), chromedriver: path("CHROMEDRIVER", "/usr/bin/chromedriver") }
    }
}

pub fn wasm_target() -> anyhow::Result<()> {
    let installed = Command::new("rustup").args(["target", "list", "--installed"]).output().context("cannot run rustup")?;
    if String::from_utf8_lossy(&installed.stdout).lines().any(|line| line.trim() == "wasm32-unknown-unknown") {
        return Ok(());
    }
    println!("install: adding the wasm32-unknown-unknown target");
    run_command(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// rustfmt and clippy, for the gates `cargo xtask test` runs first.
pub fn lint_tools() -> anyhow::Result<()> {
    let installed = Command::new("rustup").args(["component", "list", "--installed"]).output().context("cannot run rustup")?;
    let installed = String::from_utf8_lossy(&installed.stdout);
    for component in ["rustfmt", "clippy"] {
        if !installed.lines().any(|line| line.starts_with(&format!("{component}-"))) {
            println!("install: adding the {component} component");
            run_command(Command::new("rustup").args(["component", "add", component]))?;
        }
    }
    Ok(())
}

pub fn browser(browser: &Browser) -> anyhow::Result<()> {
    if browser.chromium.exists() && browser.chromedriver.exists() {
        return Ok(());
    }
    println!("install: Chromium and ChromeDriver from Debian's packages");
    let install = ["apt-get", "install", "--yes", "--no-install-recommends", "chromium", "chromium-driver"];
    if run_command(&mut privileged(&install)).is_err() {
        // A fresh machine may have no package lists yet.
        run_command(&mut privileged(&["apt-get", "update"]))?;
        run_command(&mut privileged(&install))?;
    }
    if !browser.chromium.exists() || !browser.chromedriver.exists() {
        bail!(
            "Chromium or ChromeDriver still missing at {} and {}; set HOUQIN_CHROMIUM and CHROMEDRIVER",
            browser.chromium.display(),
            browser.chromedriver.display()
        );
    }
    Ok(())
}

/// The directory of PostgreSQL's server programs (`initdb`, `pg_ctl`, `postgres`), for the
/// tests that start a cluster of their own; Debian's `postgresql` package is installed if
/// none is found. The test runner passes it on as `HOUQIN_PG_BINDIR`.
pub fn postgres() -> anyhow::Result<PathBuf> {
    if let Some(bindir) = postgres_bindir()? {
        return Ok(bindir);
    }
    println!("install: PostgreSQL from Debian's packages");
    let install = ["apt-get", "install", "--yes", "--no-install-recommends", "postgresql"];
    if run_command(&mut privileged(&install)).is_err() {
        // A fresh machine may have no package lists yet.
        run_command(&mut privileged(&["apt-get", "update"]))?;
        run_command(&mut privileged(&install))?;
    }
    postgres_bindir()?.context("PostgreSQL's initdb, pg_ctl and postgres still missing; set HOUQIN_PG_BINDIR to their directory")
}

/// Where PostgreSQL's server programs are: `$HOUQIN_PG_BINDIR`, else the newest version
/// Debian installs side by side under `/usr/lib/postgresql`, else what `pg_config` says.
/// The tests' `tests::postgres` looks the same way when run without xtask.
fn postgres_bindir() -> anyhow::Result<Option<PathBuf>> {
    if let Some(bindir) = std::env::var_os("HOUQIN_PG_BINDIR").map(PathBuf::from) {
        // A directory named on purpose is not replaced by another one found elsewhere.
        if !has_postgres(&bindir) {
            bail!("HOUQIN_PG_BINDIR is {} but it lacks initdb, pg_ctl or postgres", bindir.display());
        }
        return Ok(Some(bindir));
    }
    let mut versions: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            // Versions compare as numbers: 9.6 is older than 10.
            let version = entry.file_name().to_str()?.split('.').map(str::parse).collect::<Result<Vec<u32>, _>>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bindir)| has_postgres(bindir))
        .collect();
    versions.sort();
    if let Some((_, newest)) = versions.pop() {
        return Ok(Some(newest));
    }
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
        .filter(|bindir| has_postgres(bindir));
    Ok(from_pg_config)
}

fn has_postgres(bindir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"].iter().all(|program| bindir.join(program).is_file())
}

/// Installs the packages pinned by `dir/package-lock.json` unless `node_modules` already
/// matches it. Not `npm ci`: npm 11 leaves the optional platform packages of cbor-x out of
/// the lockfile it writes and then `npm ci` refuses that same lockfile. `npm install
/// --no-save` installs the locked versions and never rewrites the lockfile.
pub fn npm_packages(dir: &Path) -> anyhow::Result<()> {
    let lockfile = dir.join("package-lock.json");
    let installed = dir.join("node_modules").join(".package-lock.json");
    let up_to_date = match (lockfile.metadata(), installed.metadata()) {
        (Ok(lock), Ok(installed)) => installed.modified()? >= lock.modified()?,
        _ => false,
    };
    if up_to_date {
        return Ok(());
    }
    println!("install: npm packages in {}", dir.display());
    run_command(Command::new("npm").current_dir(dir).args(["install", "--no-save", "--no-audit", "--no-fund"]))
}

/// Whether we run as root (PostgreSQL's programs then run as its `postgres` user: they
/// refuse root).
pub fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|output| output.stdout.starts_with(b"0\n"))
}

/// A command run as root: directly when we are root, else through sudo.
fn privileged(args: &[&str]) -> Command {
    let mut command = if is_root() {
        Command::new(args[0])
    } else {
        let mut sudo = Command::new("sudo");
        sudo.arg(args[0]);
        sudo
    };
    command.args(&args[1..]).env("DEBIAN_FRONTEND", "noninteractive");
    command
}
