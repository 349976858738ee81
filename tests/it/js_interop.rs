//! Interop with the JavaScript Automerge that automerge-repo clients use (npm, pinned in
//! `tests/js/package-lock.json`): documents written by either side load on the other, and
//! concurrent edits from both merge without loss.

use std::path::PathBuf;
use std::process::Command;

use automerge::transaction::Transactable as _;
use automerge::{AutoCommit, ObjType, ROOT, ReadDoc as _};

use crate::support::workspace_root;

fn js_dir() -> PathBuf {
    let dir = workspace_root().join("tests").join("js");
    assert!(
        dir.join("node_modules").join("@automerge").join("automerge").is_dir(),
        "npm packages missing: run `npm install --no-save` in {} (`cargo xtask test` does)",
        dir.display()
    );
    dir
}

fn string_at(doc: &AutoCommit, object: &automerge::ObjId, key: &str) -> Option<String> {
    let (value, _) = doc.get(object, key).unwrap()?;
    value.into_scalar().ok().and_then(|scalar| scalar.into_string().ok())
}

#[test]
fn documents_round_trip_through_javascript_automerge_and_merge() {
    let mut ours = AutoCommit::new();
    ours.put(ROOT, "type", "inspection").unwrap();
    let answers = ours.put_object(ROOT, "answers", ObjType::Map).unwrap();
    ours.put(&answers, "from-rust", "fail").unwrap();
    let notes = ours.put_object(ROOT, "notes", ObjType::Text).unwrap();
    ours.splice_text(&notes, 0, 0, "extinguisher pressure low").unwrap();

    let scratch = tempfile::tempdir().unwrap();
    let input = scratch.path().join("from-rust.automerge");
    let output = scratch.path().join("from-js.automerge");
    std::fs::write(&input, ours.save()).unwrap();

    // While JavaScript edits its copy, Rust edits its own: a concurrent change.
    let run = Command::new("node").current_dir(js_dir()).arg("document_roundtrip.mjs").arg(&input).arg(&output).output().unwrap();
    assert!(run.status.success(), "node failed: {}", String::from_utf8_lossy(&run.stderr));
    ours.put(&answers, "second-rust", "n/a").unwrap();
    ours.splice_text(&notes, ours.length(&notes), 0, " (2.1 bar)").unwrap();

    let seen: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(
        seen,
        serde_json::json!({
            "type": "inspection",
            "answers": { "from-rust": "fail" },
            "notes": "extinguisher pressure low",
        })
    );

    let mut theirs = AutoCommit::load(&std::fs::read(&output).unwrap()).unwrap();
    ours.merge(&mut theirs).unwrap();
    assert_eq!(string_at(&ours, &answers, "from-rust").as_deref(), Some("fail"));
    assert_eq!(string_at(&ours, &answers, "from-js").as_deref(), Some("pass"));
    assert_eq!(string_at(&ours, &answers, "second-rust").as_deref(), Some("n/a"));
    assert_eq!(ours.text(&notes).unwrap(), "JS: extinguisher pressure low (2.1 bar)");
}
