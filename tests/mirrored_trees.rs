// A test crate: a failed unwrap or index fails the test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub,
    missing_docs
)]
//! The repository's top-level trees that a crate also carries, byte for byte: `schema/` is a
//! copy of `crates/core/schema/` and `conformance/` of `crates/conformance/conformance/`.
//!
//! The crate's copy is the source: it is what the crate embeds (`include_str!`, the build
//! script), and it is what a packaged crate carries (a crate cannot reach outside its own
//! directory). The top-level trees are where users, docs and ports look, so they are kept
//! identical: these tests fail on any file added, removed or changed on one side only, and
//! `AGENTLOG_SYNC_TREES=1 cargo test --test mirrored_trees` rewrites the top-level copies from
//! the crates'.
//!
//! The license texts go the other way: the repository's `LICENSE-MIT` and `LICENSE-APACHE` are
//! the source, and a crate's copies (which its package carries) must equal them.

use std::collections::BTreeMap;
use std::path::Path;

/// Every file under `dir`, by its path relative to `dir` (with `/`), with its bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy();
            // `.staging` aside: a ledger case's `archive/.staging/` (conformance/seal_ledger/).
            if (name.starts_with('.') && name != ".staging") || name == "__pycache__" {
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

/// Fails unless the top-level `mirror` holds exactly the files of `source` (both relative to
/// the repository root); with `AGENTLOG_SYNC_TREES` set, first rewrites what differs.
fn assert_mirrored(source: &str, mirror: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let want = tree(&root.join(source));
    assert!(!want.is_empty(), "{source} is empty");
    let mirror_dir = root.join(mirror);
    let read_mirror = || {
        if mirror_dir.is_dir() {
            tree(&mirror_dir)
        } else {
            BTreeMap::new()
        }
    };
    if std::env::var_os("AGENTLOG_SYNC_TREES").is_some() {
        // Only what differs is touched: a file's other attributes (its mode) stay.
        let have = read_mirror();
        for relative in have.keys().filter(|r| !want.contains_key(*r)) {
            std::fs::remove_file(mirror_dir.join(relative)).unwrap();
        }
        for (relative, bytes) in want.iter().filter(|(r, b)| have.get(*r) != Some(*b)) {
            let path = mirror_dir.join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
    }
    let have = read_mirror();
    let mut differences = Vec::new();
    for (relative, bytes) in &want {
        match have.get(relative) {
            None => differences.push(format!("missing from {mirror}/: {relative}")),
            Some(b) if b != bytes => differences.push(format!("differs: {relative}")),
            Some(_) => {}
        }
    }
    for relative in have.keys().filter(|r| !want.contains_key(*r)) {
        differences.push(format!("only in {mirror}/: {relative}"));
    }
    assert!(
        differences.is_empty(),
        "{mirror}/ is not {source}/ (the source; edit it there):\n  {}\n\
         run AGENTLOG_SYNC_TREES=1 cargo test --test mirrored_trees",
        differences.join("\n  ")
    );
}

#[test]
fn repository_schema_is_the_core_crates_copy() {
    assert_mirrored("crates/core/schema", "schema");
}

#[test]
fn repository_conformance_is_the_conformance_crates_copy() {
    assert_mirrored("crates/conformance/conformance", "conformance");
}

/// The license texts a crate carries into its package are the repository's, byte for byte,
/// and a crate whose manifest lists what it packages (`include`) lists them.
#[test]
fn crate_license_texts_are_the_repositorys() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut carried = Vec::new();
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        let crate_name = dir.file_name().unwrap().to_string_lossy().into_owned();
        for license in ["LICENSE-MIT", "LICENSE-APACHE"] {
            let Ok(copy) = std::fs::read(dir.join(license)) else {
                continue;
            };
            assert!(
                copy == std::fs::read(root.join(license)).unwrap(),
                "crates/{crate_name}/{license} differs from {license}: copy it again"
            );
            let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
            if let Some(include) = manifest.lines().find(|l| l.starts_with("include = ")) {
                assert!(
                    include.contains(&format!("\"{license}\"")),
                    "crates/{crate_name}/Cargo.toml does not include {license}: {include}"
                );
            }
            carried.push(format!("{crate_name}/{license}"));
        }
    }
    for crate_name in [
        "core",
        "analyze",
        "intercept",
        "mock-upstream",
        "conformance",
        "export",
        "validate",
        "seal",
    ] {
        for license in ["LICENSE-MIT", "LICENSE-APACHE"] {
            let want = format!("{crate_name}/{license}");
            assert!(carried.contains(&want), "crates/{want} is missing");
        }
    }
}
