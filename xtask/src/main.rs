//! `cargo xtask`: the project's build and test automation, in Rust so it needs nothing
//! beyond cargo.
//!
//! - `dist [--names]`: build the PWA into `dist/` (wasm, JS glue, CSS, manifest, service worker,
//!   precompressed copies).
//! - `serve [SERVER ARGS…]`: `dist`, then run `houqin-server --demo`.
//! - `release`: `dist`, then a release `houqin-server` with the PWA built in: the one file
//!   a site deploys.
//! - `test`: install what the tests need if missing, then run every test.
//! - `bench [ARGS…]`: every benchmark in one go (release builds): the load generator
//!   (simulated phones through push, fetch, reconnect-all and a trickle), one client
//!   pushing 1,000 inspections, and a server holding 100,000 documents — against Houqin's
//!   server, the npm automerge-repo reference server and samod in the same run — then the
//!   app's download and its budgets in throttled Chromium. ARGS go to the sync part
//!   (`tests/examples/bench`); `--skip-app` leaves the app out.
//! - `bench-sync [--documents N]`: only the one-client push and fetch, side by side.
//! - `bench-app [--runs N] [--throttle RATE] [--profile DIR]`: the app's budgets in headless
//!   Chromium with the CPU slowed 4×: first and later visits, a 100-item inspection, a
//!   5,000-place catalog (its first 200 places, then all); `--profile` builds with function names and writes Chromium's CPU
//!   profile of each timed route to DIR.
//! - `wasm-test-runner`: cargo's runner for wasm32 tests (wasm-bindgen-test), set by `test`.

mod dist;
mod install;
mod test;
#[cfg(test)]
mod tidy;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  dist [--names]       build the PWA into dist/ (--names: keep function names, to profile)
  serve [ARGS…]        build the PWA and run houqin-server --demo [ARGS…]
  release              build the PWA and a release houqin-server with it built in
  test                 install test prerequisites if missing and run every test
  bench [ARGS…]        every benchmark: load generator, push, capacity, app
  bench-sync [ARGS…]   one client's push and fetch against the JS reference server and samod
  bench-app [ARGS…]    the app's budgets in throttled headless Chromium
  wasm-test-runner     cargo's runner for wasm32 tests (used by `test`)";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let mut args = std::env::args_os().skip(1);
    let command = args.next().map(|arg| arg.to_string_lossy().into_owned());
    let rest: Vec<OsString> = args.collect();
    match command.as_deref() {
        Some("dist") => {
            let names = match rest.first().map(|arg| arg.to_string_lossy()) {
                Some(flag) if flag == "--names" && rest.len() == 1 => dist::Names::Keep,
                _ => {
                    no_arguments(&rest)?;
                    dist::Names::Strip
                }
            };
            dist::dist(names).map(drop)
        }
        Some("serve") => serve(&rest),
        Some("release") => {
            no_arguments(&rest)?;
            release()
        }
        Some("test") => {
            no_arguments(&rest)?;
            test::test()
        }
        Some("bench") => bench(&rest),
        Some("bench-sync") => bench_sync(&[OsString::from("--only"), OsString::from("push")].into_iter().chain(rest).collect::<Vec<_>>()),
        Some("bench-app") => bench_app(&rest),
        Some("wasm-test-runner") => {
            let program = std::iter::once(OsString::from("wasm-bindgen-test-runner"));
            wasm_bindgen_cli::wasm_bindgen_test_runner::run_cli_with_args(program.chain(rest))
        }
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command {other:?}\n\n{USAGE}"),
        None => bail!("no command given\n\n{USAGE}"),
    }
}

fn no_arguments(rest: &[OsString]) -> anyhow::Result<()> {
    match rest.first() {
        Some(extra) => bail!("unexpected argument {extra:?}\n\n{USAGE}"),
        None => Ok(()),
    }
}

fn serve(server_args: &[OsString]) -> anyhow::Result<()> {
    dist::dist(dist::Names::Strip)?;
    let root = workspace_root();
    let mut server = cargo();
    server
        .current_dir(&root)
        .args(["run", "--quiet", "--package", "server", "--bin", "houqin-server", "--", "--demo"])
        .arg("--dist")
        .arg(root.join("dist"))
        .args(server_args);
    run_command(&mut server)
}

/// `cargo build` of `houqin-server` with the PWA in `dist/` built into it, with `extra`
/// arguments (`--release`).
fn build_with_app(root: &Path, extra: &[&str]) -> Command {
    let mut build = cargo();
    build
        .current_dir(root)
        .args(["build", "--package", "server", "--bin", "houqin-server", "--features", "embedded-app"])
        .args(extra)
        .env("HOUQIN_EMBED_DIST", root.join("dist"));
    build
}

/// The release binary with the app built in, copied where other release builds (the
/// benchmarks') do not replace it.
fn release() -> anyhow::Result<()> {
    dist::dist(dist::Names::Strip)?;
    let root = workspace_root();
    run_command(&mut build_with_app(&root, &["--release"]))?;
    let built = target_dir().join("release").join("houqin-server");
    let out = target_dir().join("release-app");
    std::fs::create_dir_all(&out)?;
    let binary = out.join("houqin-server");
    std::fs::copy(&built, &binary).with_context(|| format!("cannot copy {}", built.display()))?;
    let size = std::fs::metadata(&binary)?.len();
    println!("release: {} ({:.1} MB, the app built in); deploying is copying this one file", binary.display(), size as f64 / 1_000_000.0);
    Ok(())
}

/// Every benchmark: the sync part (with `args`), then the app's unless `--skip-app`.
fn bench(args: &[OsString]) -> anyhow::Result<()> {
    let skip_app = args.iter().any(|arg| arg == "--skip-app");
    let sync_args: Vec<OsString> = args.iter().filter(|arg| *arg != "--skip-app").cloned().collect();
    bench_sync(&sync_args)?;
    if !skip_app {
        bench_app(&[])?;
    }
    Ok(())
}

/// The sync benchmarks (`tests/examples/bench`) in release builds, against the three servers.
fn bench_sync(args: &[OsString]) -> anyhow::Result<()> {
    let root = workspace_root();
    install::npm_packages(&root.join("tests").join("js"))?;
    let postgres = install::postgres()?;
    run_command(cargo().current_dir(&root).args(["build", "--release", "--package", "server", "--bin", "houqin-server"]))?;
    run_command(cargo().current_dir(&root).args([
        "build",
        "--release",
        "--package",
        "tests",
        "--example",
        "samod_server",
        "--example",
        "bench",
    ]))?;
    let release = target_dir().join("release");
    let mut bench = Command::new(release.join("examples").join("bench"));
    bench
        .arg("--houqin")
        .arg(release.join("houqin-server"))
        .arg("--samod")
        .arg(release.join("examples").join("samod_server"))
        .arg("--js")
        .arg(root.join("tests").join("js"))
        .env("HOUQIN_PG_BINDIR", &postgres)
        .args(args);
    run_command(&mut bench)
}

fn bench_app(args: &[OsString]) -> anyhow::Result<()> {
    let root = workspace_root();
    install::browser(&install::Browser::from_env())?;
    // A profile is read by function names; sizes are then those of a build with names.
    let profiling = args.iter().any(|arg| arg == "--profile");
    dist::dist(if profiling { dist::Names::Keep } else { dist::Names::Strip })?;
    run_command(cargo().current_dir(&root).args(["build", "--release", "--package", "tests", "--example", "app_bench"]))?;
    let mut bench = Command::new(target_dir().join("release").join("examples").join("app_bench"));
    bench.arg("--dist").arg(root.join("dist")).args(args);
    run_command(&mut bench)
}

/// The workspace's root directory.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

/// Every file under `dir`, sorted, leaving out build output and npm packages.
fn files_in(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).with_context(|| format!("cannot list {}", current.display()))? {
            let path = entry?.path();
            let skipped = path.file_name().is_some_and(|name| name == "node_modules" || name == "target");
            if path.is_dir() {
                if !skipped {
                    pending.push(path);
                }
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Where cargo puts build output.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"))
}

/// The cargo that runs us, so toolchain overrides carry through.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Runs a command to completion, failing with the command line if it fails.
fn run_command(command: &mut Command) -> anyhow::Result<()> {
    let status = command.status().with_context(|| format!("cannot start {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed: {status}");
    }
    Ok(())
}
