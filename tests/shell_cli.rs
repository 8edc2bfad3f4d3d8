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

/// Subcommands the CLI has at least: [`subcommands`] must find each of them (a floor, so
/// that a broken parse of `--help` cannot pass with an empty list).
const KNOWN_SUBCOMMANDS: [&str; 14] = [
    "schema",
    "emit",
    "validate",
    "proxy",
    "conformance",
    "demo",
    "ledger",
    "analyze",
    "export",
    "seal",
    "verify",
    "keygen",
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

/// Every subcommand of the CLI as `agentlog --help` lists them (but `help`), checked against
/// [`KNOWN_SUBCOMMANDS`].
fn subcommands() -> Vec<String> {
    let help = stdout_of(&["--help"]);
    let listed: Vec<String> = help
        .lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter(|line| !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect();
    for known in KNOWN_SUBCOMMANDS {
        assert!(
            listed.iter().any(|name| name == known),
            "`{known}` not among the commands of --help: {listed:?}"
        );
    }
    listed
}

/// A roff text with its escaped hyphens (`\-`) as plain ones.
fn unescaped(roff: &str) -> String {
    roff.replace("\\-", "-")
}

/// The first line of a roff page after roff's own preamble (`.ie`/`.el`, the apostrophe
/// string), which may come before the header.
fn first_roff_line(page: &str) -> &str {
    page.lines()
        .find(|line| !line.starts_with(".ie ") && !line.starts_with(".el "))
        .unwrap_or_default()
}

/// The pages a page names (`agentlog\-ledger(1)` gives `agentlog-ledger`).
fn pages_named(page: &str) -> Vec<String> {
    let page = &unescaped(page);
    let mut named = Vec::new();
    for (at, _) in page.match_indices("agentlog-") {
        let rest = &page[at..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or(rest.len());
        if rest[end..].starts_with("(1)") {
            named.push(rest[..end].to_owned());
        }
    }
    named
}

#[test]
fn each_shell_script_names_every_subcommand() {
    let subcommands = subcommands();
    for shell in SHELLS {
        let script = stdout_of(&["completions", shell]);
        assert!(!script.trim().is_empty(), "{shell}: empty script");
        for sub in &subcommands {
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
    let first = first_roff_line(&page);
    assert!(first.starts_with(".TH "), "first line: {first}");
    let page = unescaped(&page);
    for sub in subcommands() {
        assert!(
            page.contains(&format!("agentlog-{sub}(1)")),
            "no `agentlog-{sub}(1)` in the page"
        );
    }
}

/// Every page a page names is printed by `agentlog man`, and `--list` names each one.
#[test]
fn every_page_named_is_printable() {
    let listed = stdout_of(&["man", "--list"]);
    let listed: Vec<&str> = listed.lines().collect();
    assert_eq!(listed.first(), Some(&"agentlog"), "{listed:?}");
    let mut todo = vec!["agentlog".to_owned()];
    let mut seen = Vec::new();
    while let Some(name) = todo.pop() {
        if seen.contains(&name) {
            continue;
        }
        let page = stdout_of(&["man", &name]);
        let first = first_roff_line(&page);
        assert!(first.starts_with(".TH "), "{name}: first line: {first}");
        assert!(
            listed.contains(&name.as_str()),
            "{name} is not in --list: {listed:?}"
        );
        todo.extend(pages_named(&page));
        seen.push(name);
    }
    // agentlog, its commands, and at least ledger's and conformance's own.
    assert!(seen.len() > KNOWN_SUBCOMMANDS.len() + 4, "{seen:?}");
    for name in ["agentlog-export", "agentlog-ledger-log", "agentlog-seal"] {
        assert!(
            seen.iter().any(|s| s == name),
            "{name} not reached: {seen:?}"
        );
    }
}

#[test]
fn a_page_is_asked_for_by_words_or_by_name() {
    let page = stdout_of(&["man", "ledger", "log"]);
    assert!(unescaped(&page).contains("agentlog-ledger-log"));
    assert_eq!(page, stdout_of(&["man", "ledger-log"]));
    assert_eq!(page, stdout_of(&["man", "agentlog-ledger-log"]));
    assert_eq!(stdout_of(&["man"]), stdout_of(&["man", "agentlog"]));
}

#[test]
fn unknown_page_exits_2_and_lists_the_commands() {
    let out = agentlog()
        .args(["man", "ledger", "nosuch"])
        .assert()
        .code(2);
    let output = out.get_output();
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("nosuch"),
        "the argument repeated: {stderr}"
    );
    for sub in subcommands()
        .iter()
        .map(String::as_str)
        .chain(["ledger-log"])
    {
        assert!(stderr.contains(sub), "no `{sub}` in: {stderr}");
    }
}

/// The top-level help's exit-code sentence names, under exit 1, every command whose own help
/// gives an exit 1.
#[test]
fn top_level_exit_codes_name_every_command_with_an_exit_1() {
    let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let top = words(&stdout_of(&["--help"]));
    let codes = top
        .split("Exit codes:")
        .nth(1)
        .expect("exit codes in --help");
    let ones = codes
        .split("; 1 ")
        .nth(1)
        .and_then(|rest| rest.split("; 2 ").next())
        .expect("an exit 1 in --help");
    let mut with_one = Vec::new();
    for sub in subcommands() {
        let help = words(&stdout_of(&["help", &sub]));
        let Some(own) = help.split("Exit codes:").nth(1) else {
            continue;
        };
        let own = own.split(". ").next().unwrap_or_default();
        if own.contains(", 1 ") || own.contains(": 1 ") {
            assert!(
                ones.contains(&format!("({sub}")) || ones.contains(&format!(" {sub})")),
                "`{sub}` has an exit 1 ({own}) the top-level help leaves out: {ones}"
            );
            with_one.push(sub);
        }
    }
    for sub in [
        "validate",
        "conformance",
        "ledger",
        "export",
        "seal",
        "verify",
    ] {
        assert!(with_one.iter().any(|s| s == sub), "{sub}: {with_one:?}");
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
