// A test crate: a failed unwrap or index fails the test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub,
    missing_docs
)]
//! The repository's `schema/` is a copy of this crate's `schema/`, byte for byte.
//!
//! The crate's copy is the source: it is what `include_str!` embeds, and it is what a packaged
//! `agentlog-core` carries (a crate cannot reach outside its own directory). The repository's
//! top-level `schema/` is where users, docs and ports look, so it is kept identical: this test
//! fails on any file added, removed or changed on one side only, and
//! `AGENTLOG_SYNC_TREES=1 cargo test -p agentlog-core --test schema_tree` rewrites the
//! repository's copy from the crate's. Outside the repository (a packaged crate) there is no
//! top-level copy, and the test has nothing to compare.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every file under `dir`, by its path relative to `dir` (with `/`), with its bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy();
            if name.starts_with('.') || name == "__pycache__" {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let relative: Vec<_> = path
                    .strip_prefix(root)
                    .unwrap()
                    .iter()
                    .map(|c| c.to_string_lossy().into_owned())
                    .collect();
                out.insert(relative.join("/"), std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn repository_schema_is_the_crates_copy() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = manifest_dir.join("schema");
    let workspace = manifest_dir.join("../..");
    if !workspace.join("Cargo.lock").is_file() || !workspace.join("crates/core").is_dir() {
        return; // a packaged crate: no repository around it
    }
    let mirror: PathBuf = workspace.join("schema");
    let want = tree(&source);
    assert!(!want.is_empty(), "{} is empty", source.display());
    if std::env::var_os("AGENTLOG_SYNC_TREES").is_some() {
        // Only what differs is touched: a file's other attributes (its mode) stay.
        let have = if mirror.is_dir() {
            tree(&mirror)
        } else {
            BTreeMap::new()
        };
        for relative in have.keys().filter(|r| !want.contains_key(*r)) {
            std::fs::remove_file(mirror.join(relative)).unwrap();
        }
        for (relative, bytes) in want.iter().filter(|(r, b)| have.get(*r) != Some(*b)) {
            let path = mirror.join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
    }
    let have = if mirror.is_dir() {
        tree(&mirror)
    } else {
        BTreeMap::new()
    };
    let mut differences = Vec::new();
    for (relative, bytes) in &want {
        match have.get(relative) {
            None => differences.push(format!("missing from schema/: {relative}")),
            Some(b) if b != bytes => differences.push(format!("differs: {relative}")),
            Some(_) => {}
        }
    }
    for relative in have.keys().filter(|r| !want.contains_key(*r)) {
        differences.push(format!("only in schema/: {relative}"));
    }
    assert!(
        differences.is_empty(),
        "schema/ is not crates/core/schema/ (the source; edit it there):\n  {}\n\
         run AGENTLOG_SYNC_TREES=1 cargo test -p agentlog-core --test schema_tree",
        differences.join("\n  ")
    );
}
