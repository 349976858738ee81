//! `cargo xtask dist`: the PWA as the server serves it.
//!
//! Layout of `dist/`:
//! - `index.html`, `sw.js`, `manifest.webmanifest`, icons: fixed names, revalidated on
//!   every load by the server's cache headers.
//! - `assets/`: the wasm, its JS glue and the CSS, each named with a hash of its content,
//!   so they can be cached forever and an old shell never loads a new wasm; and the QR
//!   decoder's wasm and glue (`qr-…`), which the app imports only when it first scans
//!   without the browser's `BarcodeDetector`.
//! - a `.br` and a `.gz` next to every compressible file.
//!
//! The build goes into `dist.new/` and replaces `dist/` only when complete.

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

use crate::{cargo, run_command, workspace_root};

/// The cargo profile of the shipped wasm (see the workspace Cargo.toml).
const WASM_PROFILE: &str = "wasm-release";
/// Extensions worth compressing; images like PNG are compressed already.
const COMPRESSIBLE: &[&str] = &["html", "js", "css", "wasm", "svg", "webmanifest", "json"];

/// Sizes of one built file, for the summary and BENCHMARKS.md.
pub struct FileSize {
    pub path: String,
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
}

/// Whether the shipped wasm keeps its function names (its `name` section).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// Stripped, as shipped.
    Strip,
    /// Kept, so that a browser's profiler shows Rust function names; about 10% more to
    /// download, so never shipped.
    Keep,
}

/// Builds the app and writes `dist/`; returns the sizes of what a browser downloads.
pub fn dist(names: Names) -> anyhow::Result<Vec<FileSize>> {
    let root = workspace_root();
    crate::install::wasm_target()?;
    let started = Instant::now();
    run_command(cargo().current_dir(&root).args([
        "build",
        "--package",
        "app",
        "--package",
        "qr",
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        WASM_PROFILE,
    ]))?;
    let compiled = started.elapsed();

    let staging = root.join("dist.new");
    if staging.exists() {
        fs::remove_dir_all(&staging).with_context(|| format!("cannot clear {}", staging.display()))?;
    }
    let assets = staging.join("assets");
    fs::create_dir_all(&assets)?;

    let packaging = Instant::now();
    let built = crate::target_dir().join("wasm32-unknown-unknown").join(WASM_PROFILE);
    let (script, wasm) = generate_glue(&built.join("app.wasm"), "houqin", &assets, names)?;
    let (qr_script, qr_wasm) = generate_glue(&built.join("qr.wasm"), "qr", &assets, names)?;
    let style = write_style(&root.join("style"), &assets)?;

    let static_dir = root.join("app").join("static");
    // The script that starts the app is a file, named by its content like the rest: the
    // Content-Security-Policy allows no inline script.
    let boot = render(
        &read(&static_dir.join("boot.js"))?,
        &[
            ("script", &format!("/assets/{script}")),
            ("wasm", &format!("/assets/{wasm}")),
            ("qr_script", &format!("/assets/{qr_script}")),
            ("qr_wasm", &format!("/assets/{qr_wasm}")),
        ],
    )?;
    let boot_name = format!("boot-{}.js", short_hash(boot.as_bytes()));
    fs::write(assets.join(&boot_name), &boot)?;
    let shell = render(
        &read(&static_dir.join("index.html"))?,
        &[
            ("boot", &format!("/assets/{boot_name}")),
            ("script", &format!("/assets/{script}")),
            ("wasm", &format!("/assets/{wasm}")),
            ("style", &format!("/assets/{style}")),
        ],
    )?;
    fs::write(staging.join("index.html"), &shell)?;

    let mut copied = Vec::new();
    for entry in fs::read_dir(&static_dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !["index.html", "sw.js", "boot.js"].contains(&name.as_str()) && entry.file_type()?.is_file() {
            fs::copy(entry.path(), staging.join(&name))?;
            copied.push(name);
        }
    }
    copied.sort();

    let mut precache = vec!["/".to_owned()];
    precache.extend(files_under(&assets)?.into_iter().map(|path| format!("/assets/{path}")));
    precache.extend(copied.iter().map(|name| format!("/{name}")));
    // The release: every cached file's name and the content of those without a hash in
    // their name, so any change reaches phones as a new service worker.
    let mut release = precache.join("\n").into_bytes();
    release.extend_from_slice(shell.as_bytes());
    for name in &copied {
        release.extend(fs::read(staging.join(name))?);
    }
    let version = short_hash(&release);
    let routes: Vec<&str> = shared::routes::AppRoute::ALL.iter().map(|route| route.pattern()).collect();
    let worker = render(
        &read(&static_dir.join("sw.js"))?,
        &[
            ("version", &format!("{version:?}")),
            ("precache", &serde_json::to_string(&precache)?),
            ("app_routes", &serde_json::to_string(&routes)?),
        ],
    )?;
    fs::write(staging.join("sw.js"), worker)?;

    let sizes = compress_all(&staging)?;
    let dist = root.join("dist");
    if dist.exists() {
        fs::remove_dir_all(&dist).with_context(|| format!("cannot replace {}", dist.display()))?;
    }
    fs::rename(&staging, &dist)?;

    println!("dist: app compiled in {:.1} s, packaged in {:.1} s", compiled.as_secs_f64(), packaging.elapsed().as_secs_f64());
    print!("{}", size_table(&sizes));
    println!("dist: written to {}", dist.display());
    Ok(sizes)
}

/// Runs wasm-bindgen on a compiled module and renames its output to content-hashed names
/// starting with `name`. Returns the file names of the JS glue and the wasm inside `assets`.
fn generate_glue(wasm_input: &Path, name: &str, assets: &Path, names: Names) -> anyhow::Result<(String, String)> {
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    bindgen
        .input_path(wasm_input)
        .out_name(name)
        .web(true)?
        .omit_default_module_path(false)
        .typescript(false)
        .debug(false)
        .keep_debug(false)
        .remove_name_section(names == Names::Strip)
        .remove_producers_section(true);
    bindgen.generate(assets).with_context(|| format!("wasm-bindgen failed on {}", wasm_input.display()))?;

    let wasm_bytes = fs::read(assets.join(format!("{name}_bg.wasm")))?;
    let wasm_name = format!("{name}-{}_bg.wasm", short_hash(&wasm_bytes));
    fs::rename(assets.join(format!("{name}_bg.wasm")), assets.join(&wasm_name))?;

    // The glue names the wasm by its default path only as a fallback; index.html passes the
    // hashed path explicitly, so the glue's text is independent of the wasm's name.
    let script_bytes = fs::read(assets.join(format!("{name}.js")))?;
    let script_name = format!("{name}-{}.js", short_hash(&script_bytes));
    fs::rename(assets.join(format!("{name}.js")), assets.join(&script_name))?;
    Ok((script_name, wasm_name))
}

/// Concatenates `style/*.css` in name order into one content-hashed file.
fn write_style(style_dir: &Path, assets: &Path) -> anyhow::Result<String> {
    let mut sheets: Vec<PathBuf> = fs::read_dir(style_dir)
        .with_context(|| format!("cannot read {}", style_dir.display()))?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()?;
    sheets.retain(|path| path.extension().is_some_and(|extension| extension == "css"));
    sheets.sort();
    if sheets.is_empty() {
        bail!("no .css files in {}", style_dir.display());
    }
    let mut css = String::new();
    for sheet in &sheets {
        css.push_str(&read(sheet)?);
        css.push('\n');
    }
    let name = format!("style-{}.css", short_hash(css.as_bytes()));
    fs::write(assets.join(&name), css)?;
    Ok(name)
}

/// Replaces every `{{key}}` in `template`; a key left over or unused is a bug in the template.
fn render(template: &str, values: &[(&str, &str)]) -> anyhow::Result<String> {
    let mut output = template.to_owned();
    for (key, value) in values {
        let placeholder = format!("{{{{{key}}}}}");
        if !output.contains(&placeholder) {
            bail!("template has no {placeholder}");
        }
        output = output.replace(&placeholder, value);
    }
    if let Some(start) = output.find("{{") {
        let rest: String = output[start..].chars().take(40).collect();
        bail!("template has an unfilled placeholder at {rest:?}");
    }
    Ok(output)
}

/// The first 16 hex digits of the SHA-256 of `bytes`.
fn short_hash(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..8])
}

/// Paths of the files under `dir`, relative to it, sorted.
fn files_under(dir: &Path) -> anyhow::Result<Vec<String>> {
    crate::files_in(dir)?.iter().map(|path| Ok(path.strip_prefix(dir)?.to_string_lossy().replace('\\', "/"))).collect()
}

/// Writes `.br` and `.gz` next to every compressible file and returns all sizes.
fn compress_all(dir: &Path) -> anyhow::Result<Vec<FileSize>> {
    let mut sizes = Vec::new();
    for relative in files_under(dir)? {
        let path = dir.join(&relative);
        let compressible =
            path.extension().and_then(|extension| extension.to_str()).is_some_and(|extension| COMPRESSIBLE.contains(&extension));
        let raw = fs::read(&path)?;
        let (gzip, brotli) = if compressible {
            let gzip = gzip(&raw)?;
            let brotli = brotli(&raw)?;
            fs::write(with_suffix(&path, ".gz"), &gzip)?;
            fs::write(with_suffix(&path, ".br"), &brotli)?;
            (gzip.len() as u64, brotli.len() as u64)
        } else {
            (raw.len() as u64, raw.len() as u64)
        };
        sizes.push(FileSize { path: relative, raw: raw.len() as u64, gzip, brotli });
    }
    Ok(sizes)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn gzip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

fn brotli(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut output = Vec::new();
    let parameters = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 24, ..Default::default() };
    brotli::BrotliCompress(&mut &bytes[..], &mut output, &parameters)?;
    Ok(output)
}

fn read(path: &Path) -> anyhow::Result<String> {
    fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// A Markdown table of the sizes with a total, as BENCHMARKS.md records it.
pub fn size_table(sizes: &[FileSize]) -> String {
    let mut table = String::from("| file | raw | gzip -9 | brotli 11 |\n|---|---:|---:|---:|\n");
    let (mut raw, mut gzip, mut brotli) = (0, 0, 0);
    for size in sizes {
        let _ = writeln!(table, "| {} | {} | {} | {} |", size.path, kilobytes(size.raw), kilobytes(size.gzip), kilobytes(size.brotli));
        raw += size.raw;
        gzip += size.gzip;
        brotli += size.brotli;
    }
    let _ = writeln!(table, "| **total** | {} | {} | {} |", kilobytes(raw), kilobytes(gzip), kilobytes(brotli));
    table
}

fn kilobytes(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_fills_every_placeholder_and_refuses_leftovers() {
        assert_eq!(render("<a href=\"{{x}}\">{{x}}</a>", &[("x", "/y")]).unwrap(), "<a href=\"/y\">/y</a>");
        assert_eq!(render("{{x}} {{y}}", &[("x", "1")]).unwrap_err().to_string(), "template has an unfilled placeholder at \"{{y}}\"");
        assert_eq!(render("none", &[("x", "1")]).unwrap_err().to_string(), "template has no {{x}}");
    }

    #[test]
    fn short_hash_is_sha256_prefix() {
        assert_eq!(short_hash(b""), "e3b0c44298fc1c14");
    }
}
