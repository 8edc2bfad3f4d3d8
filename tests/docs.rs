// A test crate: a failed unwrap fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
//! Every command that README.md and the pages of docs/ show in a `console` block is run, and
//! its output is compared with the output they quote (trycmd: `[..]` matches the rest of a
//! line, a line of `...` any number of lines, `? 1` before the output an exit code). A page
//! that shows a command nobody ran, or quotes output the binary no longer prints, fails here.
//!
//! Each page runs in a directory of its own in which the repository's example data
//! (`testdata/`, `examples/`, `conformance/`, `schema/`) are linked under their own names, so
//! the paths read as they do from a checkout, and what a command writes stays in that
//! directory. Blocks tagged `sh`, `text`, `yaml`, ... are not run: they are instructions
//! (`cargo install`), long-running services (`agentlog proxy`), or commands with pipes, and
//! no block of them quotes output.
//!
//! `TRYCMD=overwrite cargo test --test docs` writes what the commands printed back into the
//! pages (trycmd's overwrite mode), for a reviewer to read in the diff;
//! `AGENTLOG_DOCS_PAGE=docs/ledger.md` runs (and overwrites) that page only.

use std::path::{Path, PathBuf};

/// The directories a page's commands may read, linked into its working directory.
const EXAMPLE_DATA: [&str; 4] = ["testdata", "examples", "conformance", "schema"];

fn pages(root: &Path) -> Vec<PathBuf> {
    let mut pages = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// A `cargo` that only knows the README's `cargo run --release -- ARGS`: it runs the binary
/// under test with ARGS, so the README's quoted demo output is checked without a release
/// build inside the test.
fn cargo_shim(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let shim = dir.join("cargo");
    std::fs::write(
        &shim,
        "#!/bin/sh\n\
         if [ \"$1 $2 $3\" != 'run --release --' ]; then\n\
         \techo \"tests/docs.rs: only 'cargo run --release -- ARGS' can be checked, not: cargo $*\" >&2\n\
         \texit 97\n\
         fi\n\
         shift 3\n\
         exec \"$AGENTLOG_DOCS_BIN\" \"$@\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
    shim
}

#[test]
fn every_command_the_docs_show_prints_what_they_quote() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = env!("CARGO_BIN_EXE_agentlog");
    let work = tempfile::tempdir().unwrap();
    let cases = trycmd::TestCases::new();
    cases
        .register_bin("agentlog", Path::new(bin))
        .register_bin("cargo", cargo_shim(work.path()))
        .env("AGENTLOG_DOCS_BIN", bin)
        .env("NO_COLOR", "1");
    let only = std::env::var_os("AGENTLOG_DOCS_PAGE").map(PathBuf::from);
    let mut copies = Vec::new();
    for page in pages(root) {
        let relative = page.strip_prefix(root).unwrap().to_path_buf();
        if only.as_ref().is_some_and(|only| *only != relative) {
            continue;
        }
        let stem = relative.to_string_lossy().replace(['/', '.'], "_");
        let copy = work.path().join(format!("{stem}.md"));
        std::fs::copy(&page, &copy).unwrap();
        let dir = work.path().join(format!("{stem}.in"));
        std::fs::create_dir(&dir).unwrap();
        for data in EXAMPLE_DATA {
            std::os::unix::fs::symlink(root.join(data), dir.join(data)).unwrap();
        }
        cases.case(&copy);
        copies.push((copy, page));
    }
    assert!(!copies.is_empty(), "AGENTLOG_DOCS_PAGE names no page");
    cases.run();
    let overwrite = std::env::var_os("TRYCMD").is_some_and(|mode| mode == "overwrite");
    if overwrite {
        for (copy, page) in copies {
            std::fs::copy(copy, page).unwrap();
        }
    }
}

#[test]
fn every_code_block_says_what_it_is() {
    // trycmd runs a fence with no info string as commands; a page must say `text`, `sh`, ...
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for page in pages(root) {
        let text = std::fs::read_to_string(&page).unwrap();
        let mut open = false;
        for (number, line) in text.lines().enumerate() {
            let Some(info) = line.trim_start().strip_prefix("```") else {
                continue;
            };
            if !open && info.trim().is_empty() {
                panic!(
                    "{}:{}: a code block without a language; tag it (`text`, `sh`, `console`)",
                    page.display(),
                    number + 1
                );
            }
            open = !open;
        }
        assert!(!open, "{}: a code block is not closed", page.display());
    }
}
