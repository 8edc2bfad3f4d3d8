// A test crate: a failed unwrap or index fails the test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::too_many_lines,
    unreachable_pub,
    missing_docs
)]
//! The seal harness (`agentlog conformance seal`) as a user runs it: the built binary, from
//! a directory that holds no cases (they are embedded), against the reference in process,
//! the reference CLI as a port, and ports that are wrong in known ways, each rejected with
//! the case that caught it named.

use std::collections::BTreeMap;

use agentlog_conformance::cases::{self, Kind};

/// `agentlog conformance seal ARGS` from an empty directory: exit code, stdout, stderr.
fn harness(args: &[&str]) -> (i32, String, String) {
    let cwd = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_agentlog"))
        .current_dir(cwd.path())
        .args(["conformance", "seal"])
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Every seal and sealed-ledger case id of the manifest.
fn case_ids() -> Vec<String> {
    cases::manifest()
        .unwrap()
        .into_iter()
        .filter(|e| matches!(e.kind, Kind::Seal | Kind::SealLedger))
        .map(|e| e.id)
        .collect()
}

/// The verdict word of each case line (`PASS id`, `FAIL id: ...`), by id, and the text
/// after the id.
fn verdicts(stdout: &str) -> BTreeMap<String, (String, String)> {
    stdout
        .lines()
        .filter_map(|line| {
            let (word, rest) = line.split_once(' ')?;
            if !["PASS", "FAIL", "UNSUPPORTED"].contains(&word) {
                return None;
            }
            let (id, detail) = rest.split_once(": ").unwrap_or((rest, ""));
            Some((id.to_owned(), (word.to_owned(), detail.to_owned())))
        })
        .collect()
}

fn assert_all_pass(exit: i32, stdout: &str, stderr: &str) {
    assert_eq!(exit, 0, "{stdout}\n{stderr}");
    let ids = case_ids();
    assert!(ids.len() >= 51, "{ids:?}");
    let verdicts = verdicts(stdout);
    assert_eq!(verdicts.keys().cloned().collect::<Vec<_>>(), ids);
    assert!(
        verdicts.values().all(|(word, _)| word == "PASS"),
        "{stdout}"
    );
    let total = ids.len();
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with(&format!(
            "{total} of {total} cases passed (0 unsupported) ("
        )),
        "{summary}"
    );
}

#[test]
fn the_reference_passes_every_case() {
    let (exit, stdout, stderr) = harness(&[]);
    assert_all_pass(exit, &stdout, &stderr);
    assert!(stdout.ends_with("(reference verify)\n"), "{stdout}");
}

/// `agentlog verify --format json` meets the contract it documents: run as a port, it
/// passes every case.
#[test]
fn the_reference_cli_passes_as_a_port() {
    let template = format!(
        "'{}' verify --format json {{flags}} {{path}}",
        env!("CARGO_BIN_EXE_agentlog")
    );
    let (exit, stdout, stderr) = harness(&["--cmd", &template]);
    assert_all_pass(exit, &stdout, &stderr);
}

/// A port that verifies everything (exit 0, no findings) passes the intact cases and fails
/// every tampered one, each named with what it missed.
#[test]
fn a_port_that_always_passes_is_rejected() {
    let (exit, stdout, _) = harness(&["--cmd", r#"echo '{"findings": []}'"#]);
    assert_eq!(exit, 1, "{stdout}");
    let verdicts = verdicts(&stdout);
    let (word, detail) = &verdicts["seal/line_changed"];
    assert_eq!(word, "FAIL");
    assert_eq!(
        detail,
        "exit 0, expected 1 (failed); missing seal.line_changed at line 2"
    );
    assert_eq!(verdicts["seal/intact"].0, "PASS");
    let (word, detail) = &verdicts["seal_ledger/archive_edited"];
    assert_eq!(word, "FAIL");
    assert!(
        detail.contains("missing seal.line_changed on archive/events_20261201.jsonl.gz at line 1"),
        "{detail}"
    );
    assert_eq!(verdicts["seal/small_order_key"].0, "FAIL");
}

/// A port with the right exit codes that names the wrong line fails the cases whose line
/// it got wrong, and only those; so does one that prints no JSON.
#[test]
fn a_port_naming_the_wrong_line_is_rejected() {
    let bin = env!("CARGO_BIN_EXE_agentlog");
    let template = format!(
        r#"out=$('{bin}' verify --format json {{flags}} {{path}}); rc=$?; printf '%s\n' "$out" | sed 's/"line": 2,/"line": 3,/'; exit $rc"#
    );
    let (exit, stdout, _) = harness(&["--cmd", &template]);
    assert_eq!(exit, 1, "{stdout}");
    let verdicts = verdicts(&stdout);
    assert_eq!(
        verdicts["seal/line_changed"],
        (
            "FAIL".to_owned(),
            "missing seal.line_changed at line 2; unexpected seal.line_changed at line 3"
                .to_owned()
        )
    );
    assert_eq!(verdicts["seal/intact"].0, "PASS");
    assert_eq!(verdicts["seal/truncated"].0, "PASS", "line 5: untouched");

    let (exit, stdout, _) =
        harness(&["--cmd", "echo not json; exit 1", "--only", "seal/truncated"]);
    assert_eq!(exit, 1);
    assert!(
        stdout.starts_with("FAIL seal/truncated: stdout is not one JSON document (exit 1;"),
        "{stdout}"
    );
}

#[test]
fn formats_filters_and_usage_errors() {
    let (exit, stdout, _) = harness(&[
        "--only",
        "seal_ledger/*",
        "--unsupported",
        "seal_ledger/intact",
        "--format",
        "json",
    ]);
    assert_eq!(exit, 0, "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["summary"]["unsupported"], 1);
    assert_eq!(report["summary"]["failed"], 0);
    let ledgers = case_ids()
        .iter()
        .filter(|id| id.starts_with("seal_ledger/"))
        .count();
    assert_eq!(report["summary"]["total"], ledgers);
    let (exit, stdout, _) = harness(&["--format", "junit", "--only", "seal/intact"]);
    assert_eq!(exit, 0);
    assert!(stdout.contains("agentlog conformance seal"), "{stdout}");
    let (exit, _, stderr) = harness(&["--cmd", "verify {log}"]);
    assert_eq!(exit, 2);
    assert!(stderr.contains("unknown placeholder {log}"), "{stderr}");
    let (exit, _, stderr) = harness(&["--only", "nothing/*"]);
    assert_eq!(exit, 2);
    assert!(stderr.contains("no seal case matches --only"), "{stderr}");
}

/// A port whose findings name a key (as a rule or a file) fails, and the JSON report stays
/// one whole document that shows the key nowhere.
#[test]
fn a_port_naming_a_key_gets_a_whole_report_without_it() {
    let key = "AKIAZQ7VK2PX9MW4NR8T";
    let port = format!(
        r#"echo '{{"findings": [{{"rule": "{key}", "file": "{key}", "line": 1}}]}}'; exit 1"#
    );
    let (exit, stdout, stderr) = harness(&["--cmd", &port, "--format", "json"]);
    assert_eq!(exit, 1, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert!(
        !stdout.contains(key) && !stderr.contains(key),
        "{stdout}{stderr}"
    );
    let first = &report["cases"][0]["unexpected"][0];
    assert_eq!(first["rule"], "[redacted]", "{report}");
}
