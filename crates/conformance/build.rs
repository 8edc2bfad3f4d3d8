// A build script: a failure stops the build with its message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::too_many_lines,
    unreachable_pub,
    missing_docs
)]
#![allow(clippy::disallowed_macros)] // cargo reads a build script's instructions from its stdout.
//! Embeds every file under this crate's `conformance/` directory (the repository's top-level
//! `conformance/` is a byte-for-byte copy, held by the repository's `tests/mirrored_trees.rs`), so a packaged
//! crate and an installed binary carry their cases (`agentlog conformance` from any directory, `agentlog conformance
//! export DIR`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest_dir.join("conformance");
    let root = root
        .canonicalize()
        .expect("the conformance/ directory of this crate");
    println!("cargo::rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    files.sort();
    let mut out = String::from(
        "/// Every file of `conformance/`: its path there (with `/`) and its bytes.\n",
    );
    out.push_str("pub(crate) static FILES: &[(&str, &[u8])] = &[\n");
    for (relative, absolute) in &files {
        println!("cargo::rerun-if-changed={}", absolute.display());
        writeln!(
            out,
            "    ({relative:?}, include_bytes!({:?})),",
            absolute.display().to_string()
        )
        .expect("write to a String");
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    std::fs::write(out_dir.join("embedded.rs"), out).expect("write embedded.rs");
}

/// Every file under `dir`, skipping caches and hidden entries (but `.staging`).
fn walk(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let entries = std::fs::read_dir(dir).expect("read conformance/");
    for entry in entries {
        let path = entry.expect("read conformance/").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        // `.staging` aside: a ledger case's `archive/.staging/`, where retention stages a day.
        if (name.starts_with('.') && name != ".staging") || name == "__pycache__" {
            continue;
        }
        // Directories (also reached through a walk of directories, not just `dir`) are
        // watched too, so an added file triggers a rebuild.
        if path.is_dir() {
            println!("cargo::rerun-if-changed={}", path.display());
            walk(root, &path, files);
        } else {
            let relative = path.strip_prefix(root).expect("under root");
            let relative: Vec<_> = relative.iter().map(|c| c.to_string_lossy()).collect();
            files.push((relative.join("/"), path));
        }
    }
}
