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
//! README.md and docs/ are held to the same data as the code where they can be: these tests
//! fail when the rule table or the schema list drifts from the library, or when README loses
//! the commands a new user types. (`tests/docs.rs` runs the commands the pages show.)

const README: &str = include_str!("../README.md");
const VALIDATE_PAGE: &str = include_str!("../docs/validate.md");
const FORMAT_PAGE: &str = include_str!("../docs/format.md");

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
    // CI packages every library crate on its own (verified: no `--no-verify`).
    let ci = include_str!("../.ci/run");
    let package = ci
        .lines()
        .find(|l| l.contains("cargo package") && !l.trim_start().starts_with('#'))
        .expect(".ci/run must run cargo package");
    assert!(!package.contains("--no-verify"), "{package}");
    for name in [
        "core",
        "validate",
        "analyze",
        "intercept",
        "mock-upstream",
        "conformance",
        "export",
    ] {
        assert!(
            package.contains(&format!("-p agentlog-{name}")),
            "{package} leaves out agentlog-{name}"
        );
    }
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
