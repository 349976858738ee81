//! Checks of the repository itself, run by `cargo test`: each failure says what fixes it.

use std::fs;
use std::path::{Path, PathBuf};

use crate::workspace_root;

fn read(relative: &str) -> String {
    let path = workspace_root().join(relative);
    fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// The version of `package` recorded in Cargo.lock (the first, if several).
fn locked_version(lockfile: &str, package: &str) -> Option<String> {
    let needle = format!("name = \"{package}\"\nversion = \"");
    let start = lockfile.find(&needle)? + needle.len();
    Some(lockfile[start..].split('"').next()?.to_owned())
}

#[test]
fn the_glue_generator_matches_the_wasm_bindgen_in_the_lockfile() {
    let lockfile = read("Cargo.lock");
    let runtime = locked_version(&lockfile, "wasm-bindgen").expect("wasm-bindgen is in Cargo.lock");
    for tool in ["wasm-bindgen-cli-support", "wasm-bindgen-cli"] {
        let version = locked_version(&lockfile, tool).unwrap_or_else(|| panic!("{tool} is in Cargo.lock"));
        assert_eq!(
            version, runtime,
            "Cargo.lock has wasm-bindgen {runtime} but {tool} {version}: set all three to \"={runtime}\" \
             in [workspace.dependencies] of Cargo.toml, then run `cargo update -p wasm-bindgen`"
        );
    }
}

#[test]
fn shared_knows_nothing_about_io() {
    let manifest = read("shared/Cargo.toml");
    let forbidden =
        ["tokio", "axum", "leptos", "web-sys", "js-sys", "wasm-bindgen", "gloo", "sled", "getrandom", "rand", "reqwest", "hyper"];
    for line in manifest.lines() {
        let name = line.split(['=', '.', ' ']).next().unwrap_or_default();
        assert!(
            !forbidden.iter().any(|crate_name| name == *crate_name || name.starts_with("gloo")),
            "shared/Cargo.toml depends on {name:?}; shared has no IO (ARCHITECTURE.md): move that code to app or server"
        );
    }
    // The library only: its tests may read the environment and the clock like any test.
    for file in rust_files(&workspace_root().join("shared").join("src")) {
        let source = fs::read_to_string(&file).unwrap();
        for clock_or_io in ["Instant::now", "SystemTime::now", "std::fs", "std::net", "std::thread", "std::env"] {
            assert!(
                !source.contains(clock_or_io),
                "{} uses {clock_or_io}; shared takes time and IO results as arguments (ARCHITECTURE.md)",
                file.display()
            );
        }
    }
}

#[test]
fn every_rust_file_says_what_it_is_for() {
    let root = workspace_root();
    let mut undocumented = Vec::new();
    for member in ["shared", "app", "server", "tests", "xtask"] {
        for file in rust_files(&root.join(member)) {
            if !fs::read_to_string(&file).unwrap().starts_with("//!") {
                undocumented.push(file.strip_prefix(&root).unwrap().display().to_string());
            }
        }
    }
    assert!(undocumented.is_empty(), "start these files with a `//!` line saying what the module is for: {undocumented:?}");
}

#[test]
fn ci_runs_the_readme_test_command() {
    let readme = read("README.md");
    let quick_start = readme.split("## Quick start").nth(1).expect("README.md has a \"## Quick start\" section");
    let quick_start = quick_start.split("\n## ").next().unwrap();
    let commands: Vec<&str> = quick_start
        .split("```")
        .skip(1)
        .step_by(2)
        .flat_map(|block| block.lines().skip(1))
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    assert_eq!(commands, ["cargo xtask serve", "cargo xtask test"], "README.md's Quick start must be exactly the two commands");
    let ci = read(".ci/run");
    assert!(ci.lines().any(|line| line.trim() == "cargo xtask test"), ".ci/run must run the README's test command, `cargo xtask test`");
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = crate::files_in(dir).unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()));
    files.retain(|path| path.extension().is_some_and(|extension| extension == "rs"));
    files
}

#[test]
fn every_page_of_shared_routes_is_routed_by_its_pattern() {
    let routes = read("shared/src/routes.rs");
    let all = routes.split("pub const ALL").nth(1).and_then(|rest| rest.split("];").next()).expect("AppRoute::ALL in shared/src/routes.rs");
    let variants: Vec<&str> = all.split("AppRoute::").skip(1).map(|rest| rest.trim_end_matches([',', ' ', '\n'])).collect();
    assert!(variants.len() > 10, "read {variants:?} from AppRoute::ALL");
    let router = read("app/src/lib.rs");
    for variant in &variants {
        assert!(
            router.contains(&format!("<Route path=path_of(AppRoute::{variant})")),
            "app/src/lib.rs has no <Route path=path_of(AppRoute::{variant}) …/>: give the page a route there"
        );
    }
    assert!(
        !router.contains("path!("),
        "app/src/lib.rs writes a path by hand (path!): add the page to shared::routes::AppRoute and route it with path_of"
    );
}
