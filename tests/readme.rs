// A test crate: a failed unwrap or index fails the test, cases are long tables, and helpers
// are `pub` for the test files that share them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::too_many_lines,
    unreachable_pub,
    missing_docs
)]
#![allow(clippy::disallowed_macros)] // a test prints for its runner, not through the CLI's output gate.
//! README.md and docs/ are held to the same data as the code where they can be: these tests
//! fail when the rule table or the schema list drifts from the library, or when README loses
//! the commands a new user types. (`tests/docs.rs` runs the commands the pages show.)

const README: &str = include_str!("../README.md");
const VALIDATE_PAGE: &str = include_str!("../docs/validate.md");
const FORMAT_PAGE: &str = include_str!("../docs/format.md");
const LIBRARY_PAGE: &str = include_str!("../docs/library.md");

#[test]
fn readme_fits_on_a_few_screens() {
    let lines = README.lines().count();
    assert!(
        lines <= 300,
        "README.md has {lines} lines; the detail belongs in docs/"
    );
}

#[test]
fn validate_page_has_the_rule_table() {
    let table = agentlog_validate::markdown_table();
    assert!(
        VALIDATE_PAGE.contains(&table),
        "docs/validate.md's rule table is out of date; it should contain:\n{table}"
    );
}

#[test]
fn format_page_lists_every_schema_id() {
    let profiles = agentlog_core::schema::Profile::ALL;
    for file in profiles.iter().flat_map(|p| p.files()) {
        assert!(
            FORMAT_PAGE.contains(&file.id()),
            "docs/format.md does not list {}",
            file.id()
        );
    }
}

#[test]
fn readme_gives_the_install_commands() {
    let manifest = include_str!("../Cargo.toml");
    let repository = manifest
        .lines()
        .find_map(|l| l.strip_prefix("repository = "))
        .unwrap()
        .trim_matches('"');
    assert!(README.contains("cargo install --locked --path ."));
    assert!(README.contains(&format!(
        "cargo install --locked --git {repository} agentlog"
    )));
    // Every manual page, not only the top-level one.
    assert!(README.contains("for page in $(agentlog man --list); do agentlog man \"$page\""));
    // CI packages every library crate on its own (verified: no `--no-verify`).
    let ci = include_str!("../.ci/run");
    let package = ci
        .lines()
        .find(|l| l.contains("cargo package") && !l.trim_start().starts_with('#'))
        .expect(".ci/run must run cargo package");
    assert!(!package.contains("--no-verify"), "{package}");
    let crates = published_crates();
    // A floor, so that a crate directory the scan cannot read still fails here.
    for name in [
        "agentlog-core",
        "agentlog-validate",
        "agentlog-analyze",
        "agentlog-intercept",
        "agentlog-mock-upstream",
        "agentlog-conformance",
        "agentlog-export",
        "agentlog-seal",
    ] {
        assert!(crates.iter().any(|c| c == name), "no crate {name} found");
    }
    for name in &crates {
        assert!(
            package.contains(&format!("-p {name}")),
            "{package} leaves out {name}"
        );
    }
}

/// The package name of every crate under `crates/` that may be published (its manifest does
/// not say `publish = false`).
fn published_crates() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crates");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let Ok(manifest) = std::fs::read_to_string(entry.unwrap().path().join("Cargo.toml")) else {
            continue;
        };
        if manifest.lines().any(|l| l.trim() == "publish = false") {
            continue;
        }
        let name = manifest
            .lines()
            .find_map(|l| l.strip_prefix("name = "))
            .unwrap()
            .trim_matches('"');
        names.push(name.to_owned());
    }
    names
}

/// README and docs/library.md give the number of crates `agentlog-core` pulls in without
/// features; `cargo tree` counts them (skipped when cargo cannot resolve offline).
#[test]
fn core_dependency_count_is_the_documented_one() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = std::process::Command::new(cargo)
        .args(["tree", "--offline", "--locked", "-p", "agentlog-core"])
        .args(["-e", "normal", "--prefix", "none"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    if !out.status.success() {
        eprintln!(
            "skipped: cargo tree failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let tree = String::from_utf8(out.stdout).unwrap();
    let mut crates: Vec<&str> = tree
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            Some((words.next()?, words.next()?))
        })
        .filter(|(name, _)| *name != "agentlog-core")
        .map(|(name, _)| name)
        .collect();
    crates.sort_unstable();
    crates.dedup();
    let n = crates.len();
    assert!(n > 6, "cargo tree listed only {crates:?}");
    assert!(
        README.contains(&format!("`agentlog-core`, has {n} dependencies")),
        "README.md: agentlog-core has {n} dependencies: {crates:?}"
    );
    assert!(
        LIBRARY_PAGE.contains(&format!("({n} crates;")),
        "docs/library.md: agentlog-core pulls in {n} crates: {crates:?}"
    );
}

#[test]
fn readme_gives_the_two_commands() {
    assert!(README.contains("cargo run --release -- demo"));
    assert!(README.contains("cargo test"));
    let ci = include_str!("../.ci/run");
    assert!(
        ci.lines().any(|l| l.trim() == "cargo test"),
        ".ci/run must run the README's test command"
    );
}
