//! A next release of the app, made from the built one for the benchmark to serve in its
//! place: the app's wasm, its glue and the script that starts them under new names (as a
//! change to the code gives them), and the files naming them rewritten — so a phone
//! downloads what a real release makes it download, no more and no less.

use std::fs;
use std::io::Write as _;
use std::path::Path;

use anyhow::Context;

/// Copies `dist` to `next` as the next release.
pub fn next(dist: &Path, next: &Path) -> anyhow::Result<()> {
    copy_dir(dist, next)?;
    let assets = next.join("assets");
    let mut renamed = Vec::new();
    for entry in fs::read_dir(&assets)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let changes = ["houqin-", "boot-"].iter().any(|prefix| name.starts_with(prefix));
        if changes && !name.ends_with(".br") && !name.ends_with(".gz") {
            // The content hash turned round: a name no release had.
            let (stem, rest) = name.split_once('-').context("a hashed name")?;
            let (hash, tail) = rest.split_at(rest.find(['_', '.']).context("a hashed name")?);
            renamed.push((name.clone(), format!("{stem}-{}{tail}", hash.chars().rev().collect::<String>())));
        }
    }
    anyhow::ensure!(renamed.len() == 3, "expected the wasm, its glue and boot.js in {}, found {renamed:?}", assets.display());
    for (old, new) in &renamed {
        for suffix in ["", ".br", ".gz"] {
            let from = assets.join(format!("{old}{suffix}"));
            if from.exists() {
                fs::rename(&from, assets.join(format!("{new}{suffix}")))?;
            }
        }
    }
    // The files that name others: the shell, the service worker (whose release name
    // changes with them) and the start script.
    let boot = &renamed.iter().find(|(old, _)| old.starts_with("boot-")).context("boot.js")?.1;
    for file in [next.join("index.html"), next.join("sw.js"), assets.join(boot)] {
        let mut text = fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
        for (old, new) in &renamed {
            text = text.replace(old.as_str(), new);
        }
        text = text.replacen("const VERSION = \"", "const VERSION = \"next-", 1);
        fs::write(&file, &text)?;
        let _ = fs::remove_file(file.with_extension(format!("{}.gz", extension(&file))));
        let mut compressed = brotli::CompressorWriter::new(Vec::new(), 4096, 11, 22);
        compressed.write_all(text.as_bytes())?;
        fs::write(file.with_extension(format!("{}.br", extension(&file))), compressed.into_inner())?;
    }
    Ok(())
}

fn extension(file: &Path) -> String {
    file.extension().map(|extension| extension.to_string_lossy().into_owned()).unwrap_or_default()
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
