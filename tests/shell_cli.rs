// A test crate: a failed unwrap or index fails the test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub,
    missing_docs
)]
//! `agentlog completions` and `agentlog man` from the outside.

use std::io::Write as _;

use assert_cmd::Command;

/// Every subcommand of the CLI, as a user types it.
const SUBCOMMANDS: [&str; 10] = [
    "schema",
    "emit",
    "validate",
    "proxy",
    "conformance",
    "demo",
    "ledger",
    "analyze",
    "completions",
    "man",
];

const SHELLS: [&str; 5] = ["bash", "zsh", "fish", "powershell", "elvish"];

fn agentlog() -> Command {
    Command::cargo_bin("agentlog").expect("binary built")
}

fn stdout_of(args: &[&str]) -> String {
    let out = agentlog().args(args).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).expect("UTF-8")
}

#[test]
fn each_shell_script_names_every_subcommand() {
    for shell in SHELLS {
        let script = stdout_of(&["completions", shell]);
        assert!(!script.trim().is_empty(), "{shell}: empty script");
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell}: no `{sub}` in the script");
        }
    }
}

#[test]
fn bash_script_parses() {
    let script = stdout_of(&["completions", "bash"]);
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(script.as_bytes()).unwrap();
    let status = std::process::Command::new("bash")
        .arg("-n")
        .arg(file.path())
        .status()
        .expect("bash runs");
    assert!(status.success(), "bash -n refused the script");
}

#[test]
fn man_page_is_roff_with_every_subcommand() {
    let page = stdout_of(&["man"]);
    // roff's own preamble (`.ie`/`.el`, the apostrophe string) may come before the header.
    let first = page
        .lines()
        .find(|line| !line.starts_with(".ie ") && !line.starts_with(".el "))
        .unwrap_or_default();
    assert!(first.starts_with(".TH "), "first line: {first}");
    for sub in SUBCOMMANDS {
        assert!(page.contains(sub), "no `{sub}` in the page");
    }
}

#[test]
fn unknown_shell_exits_2_and_lists_the_shells() {
    let out = agentlog().args(["completions", "tcsh"]).assert().code(2);
    let output = out.get_output();
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for shell in SHELLS {
        assert!(stderr.contains(shell), "no `{shell}` in: {stderr}");
    }
}
