//! With the `embedded-app` feature (`cargo xtask release`), lists the built PWA's files so
//! the binary carries them: `HOUQIN_EMBED_DIST`, or the workspace's `dist/`. Without it,
//! the list is empty and the server serves a directory.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=HOUQIN_EMBED_DIST");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded_app.rs");
    let mut list = String::from("&[\n");
    if std::env::var_os("CARGO_FEATURE_EMBEDDED_APP").is_some() {
        let dist = match std::env::var_os("HOUQIN_EMBED_DIST") {
            Some(dir) => PathBuf::from(dir),
            None => Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("dist"),
        };
        println!("cargo::rerun-if-changed={}", dist.display());
        let dist = dist
            .canonicalize()
            .unwrap_or_else(|error| panic!("embedded-app: cannot open {}: {error}; run `cargo xtask dist` first", dist.display()));
        assert!(dist.join("index.html").is_file(), "embedded-app: {} holds no built app; run `cargo xtask dist` first", dist.display());
        let mut files = Vec::new();
        collect(&dist, &mut files);
        files.sort();
        for file in files {
            let name = file.strip_prefix(&dist).expect("under dist").to_str().expect("file names of the app are UTF-8").replace('\\', "/");
            list.push_str(&format!("    ({name:?}, include_bytes!({:?})),\n", file.to_str().expect("a UTF-8 path")));
        }
    }
    list.push(']');
    std::fs::write(&out, list).expect("cannot write the list of embedded files");
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|error| panic!("cannot read {}: {error}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}
