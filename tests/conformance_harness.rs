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
//! The validator harness (`agentlog conformance [validate]`) as a user runs it: the built
//! binary, from a directory that holds no cases (they are embedded), against the reference,
//! the reference as an external command, and ports that are wrong in known ways. Every
//! expected verdict is derived from the case files, never hard-coded.

use std::collections::BTreeMap;
use std::path::Path;

use agentlog_conformance::cases::{self, Kind};
use agentlog_conformance::validator::{self, LogCase};
use assert_cmd::Command;
use predicates::prelude::*;

/// `PASS`, `FAIL` or `UNSUPPORTED` by case id.
type Verdicts = BTreeMap<String, String>;

/// The harness, run from `cwd`.
fn conformance(cwd: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_agentlog"));
    command.current_dir(cwd).arg("conformance");
    command
}

fn cases() -> Vec<LogCase> {
    validator::load_embedded().expect("embedded cases")
}

/// The manifest's `validate/*` ids.
fn manifest_ids() -> Vec<String> {
    cases::manifest()
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == Kind::Validate)
        .map(|e| e.id)
        .collect()
}

/// A port reporting every log clean, with as many lines as it has newlines (`wc -l`).
const NO_FINDINGS: &str =
    r#"printf '{"files":[{"path":"x","lines":%d,"findings":[]}]}' "$(wc -l < {log})""#;

/// What [`NO_FINDINGS`] must get: a case passes when it expects no finding and counts as
/// many lines as its log has newlines; every other case fails.
fn expected_for_no_findings() -> Verdicts {
    cases()
        .into_iter()
        .map(|c| {
            let newlines = c.log.iter().filter(|b| **b == b'\n').count() as u64;
            let pass = c.findings.is_empty() && c.lines == newlines;
            (c.id, if pass { "PASS" } else { "FAIL" }.to_owned())
        })
        .collect()
}

/// The verdicts of the text output, checking every line is a verdict or the summary.
fn text_verdicts(stdout: &[u8]) -> (Verdicts, String) {
    let text = String::from_utf8(stdout.to_vec()).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let summary = lines.pop().expect("a summary line").to_owned();
    let verdicts = lines
        .iter()
        .map(|line| {
            let (status, rest) = line.split_once(' ').expect("`STATUS id`");
            let id = rest.split(':').next().unwrap();
            assert!(["PASS", "FAIL", "UNSUPPORTED"].contains(&status), "{line}");
            (id.to_owned(), status.to_owned())
        })
        .collect();
    (verdicts, summary)
}

fn json_verdicts(stdout: &[u8]) -> (Verdicts, serde_json::Value) {
    let document: serde_json::Value = serde_json::from_slice(stdout).expect("JSON output");
    let verdicts = document["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let id = c["id"].as_str().unwrap().to_owned();
            (id, c["status"].as_str().unwrap().to_uppercase())
        })
        .collect();
    (verdicts, document)
}

/// The verdicts of the JUnit output, read back with quick-junit's parser; the suite's
/// counts must agree with its test cases.
fn junit_verdicts(stdout: &[u8]) -> Verdicts {
    let text = String::from_utf8(stdout.to_vec()).unwrap();
    let report = quick_junit::Report::deserialize_from_str(&text).unwrap();
    let suite = &report.test_suites[0];
    let verdicts: Verdicts = suite
        .test_cases
        .iter()
        .map(|case| {
            let status = match case.status {
                quick_junit::TestCaseStatus::Success { .. } => "PASS",
                quick_junit::TestCaseStatus::NonSuccess { .. } => "FAIL",
                quick_junit::TestCaseStatus::Skipped { .. } => "UNSUPPORTED",
            };
            (case.name.to_string(), status.to_owned())
        })
        .collect();
    let count = |s: &str| verdicts.values().filter(|v| *v == s).count();
    assert_eq!(suite.tests, verdicts.len());
    assert_eq!(suite.failures, count("FAIL"));
    assert_eq!(suite.skipped, count("UNSUPPORTED"));
    verdicts
}

fn summary(passed: usize, total: usize, unsupported: usize, subject: &str) -> String {
    format!("{passed} of {total} cases passed ({unsupported} unsupported) ({subject})")
}

#[test]
fn the_reference_passes_every_manifest_case_from_any_directory() {
    let ids = manifest_ids();
    assert!(!ids.is_empty());
    let elsewhere = tempfile::tempdir().unwrap();
    let output = conformance(elsewhere.path()).assert().success();
    let (verdicts, line) = text_verdicts(&output.get_output().stdout);
    assert_eq!(verdicts.keys().cloned().collect::<Vec<_>>(), ids);
    assert!(verdicts.values().all(|s| s == "PASS"), "{verdicts:#?}");
    assert_eq!(
        line,
        summary(ids.len(), ids.len(), 0, "reference validator")
    );
    // `validate` is the same as no subcommand.
    conformance(elsewhere.path())
        .args(["validate", "--quiet"])
        .assert()
        .success()
        .stdout(format!("{line}\n"));
}

#[test]
fn the_reference_binary_passes_as_a_port() {
    let ids = manifest_ids();
    let template = format!(
        "'{}' validate --format json {{flags}} {{log}}",
        env!("CARGO_BIN_EXE_agentlog")
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let output = conformance(elsewhere.path())
        .args(["validate", "--cmd", &template])
        .assert()
        .success();
    let (verdicts, line) = text_verdicts(&output.get_output().stdout);
    assert_eq!(verdicts.keys().cloned().collect::<Vec<_>>(), ids);
    assert!(verdicts.values().all(|s| s == "PASS"), "{verdicts:#?}");
    assert_eq!(line, summary(ids.len(), ids.len(), 0, &template));
}

#[test]
fn a_port_that_reports_nothing_fails_exactly_the_cases_expecting_something() {
    let expected = expected_for_no_findings();
    let failing = expected.values().filter(|s| *s == "FAIL").count();
    assert!(failing > 0 && failing < expected.len(), "{expected:#?}");
    let elsewhere = tempfile::tempdir().unwrap();
    let output = conformance(elsewhere.path())
        .args(["--cmd", NO_FINDINGS])
        .assert()
        .code(1);
    let (verdicts, line) = text_verdicts(&output.get_output().stdout);
    assert_eq!(verdicts, expected);
    let total = expected.len();
    assert_eq!(line, summary(total - failing, total, 0, NO_FINDINGS));
    let stdout = String::from_utf8_lossy(&output.get_output().stdout).into_owned();
    assert!(stdout.contains("FAIL validate/line_torn: "), "{stdout}");
    assert!(stdout.contains("missing ["), "{stdout}");
}

/// The reference with a wrong flag forced: `--max-findings-per-file 0` keeps the line counts
/// but drops every per-line finding (`input.empty`, line 0, is about the whole input and not
/// capped). Exactly the cases expecting a finding on a line fail.
#[test]
fn the_reference_with_a_wrong_flag_fails_exactly_the_cases_with_line_findings() {
    let expected: Verdicts = cases()
        .into_iter()
        .map(|c| {
            let fails = c.findings.iter().any(|(line, _, _)| *line > 0);
            (c.id, if fails { "FAIL" } else { "PASS" }.to_owned())
        })
        .collect();
    let template = format!(
        "'{}' validate --format json --max-findings-per-file 0 {{flags}} {{log}}",
        env!("CARGO_BIN_EXE_agentlog")
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let output = conformance(elsewhere.path())
        .args(["--format", "json", "--cmd", &template])
        .assert()
        .code(1);
    let (verdicts, document) = json_verdicts(&output.get_output().stdout);
    assert_eq!(verdicts, expected);
    let failed = expected.values().filter(|s| *s == "FAIL").count();
    assert_eq!(document["summary"]["failed"], failed);
}

#[test]
fn unsupported_cases_are_reported_and_never_passed() {
    let expected = expected_for_no_findings();
    let elsewhere = tempfile::tempdir().unwrap();
    // Declare exactly the failing cases unsupported, half by flag, half from a file: no case
    // fails any more, and the unsupported ones are not counted as passed.
    let failing: Vec<&String> = expected
        .iter()
        .filter(|(_, s)| *s == "FAIL")
        .map(|(id, _)| id)
        .collect();
    let (by_flag, by_file) = failing.split_at(failing.len() / 2);
    let list = elsewhere.path().join("unsupported.txt");
    let mut text = String::from("# what this port does not do\n\n");
    for id in by_file {
        text.push_str(&format!("  {id}  \n"));
    }
    std::fs::write(&list, text).unwrap();
    // The port refuses what it declares (exit 2, a message on stderr): the harness runs the
    // first case of each declared glob to check.
    let names = elsewhere.path().join("refused.txt");
    let refused: String = failing
        .iter()
        .map(|id| format!("{}\n", id.trim_start_matches("validate/")))
        .collect();
    std::fs::write(&names, refused).unwrap();
    let refusing = format!(
        "grep -qxF \"$(basename {{log}} .jsonl)\" '{}' && {{ echo unsupported >&2; exit 2; }}; {NO_FINDINGS}",
        names.display()
    );
    let mut command = conformance(elsewhere.path());
    command
        .args(["--cmd", &refusing, "--unsupported-from"])
        .arg(&list);
    for id in by_flag {
        command.args(["--unsupported", id]);
    }
    let output = command.assert().success();
    let (verdicts, line) = text_verdicts(&output.get_output().stdout);
    let want: Verdicts = expected
        .iter()
        .map(|(id, s)| {
            let s = if s == "FAIL" { "UNSUPPORTED" } else { "PASS" };
            (id.clone(), s.to_owned())
        })
        .collect();
    assert_eq!(verdicts, want);
    let total = expected.len();
    let passed = total - failing.len();
    assert_eq!(line, summary(passed, total, failing.len(), &refusing));

    // The same port without its refusal fails the first case of each glob.
    let mut command = conformance(elsewhere.path());
    command.args(["--cmd", NO_FINDINGS, "--unsupported", "validate/v1_*"]);
    let output = command.assert().code(1);
    let (verdicts, _) = text_verdicts(&output.get_output().stdout);
    let not_refused: Vec<&String> = verdicts
        .iter()
        .filter(|(id, s)| id.starts_with("validate/v1_") && *s == "FAIL")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        not_refused,
        ["validate/v1_agent_system_unknown"],
        "{verdicts:?}"
    );
}

#[test]
fn a_glob_declares_a_family_unsupported() {
    let v1: Vec<String> = cases()
        .into_iter()
        .map(|c| c.id)
        .filter(|id| id.starts_with("validate/v1_"))
        .collect();
    assert!(!v1.is_empty());
    let elsewhere = tempfile::tempdir().unwrap();
    let output = conformance(elsewhere.path())
        .args(["--unsupported", "validate/v1_*", "--format", "json"])
        .assert()
        .success();
    let (verdicts, document) = json_verdicts(&output.get_output().stdout);
    let unsupported: Vec<&String> = verdicts
        .iter()
        .filter(|(_, s)| *s == "UNSUPPORTED")
        .map(|(id, _)| id)
        .collect();
    assert_eq!(unsupported, v1.iter().collect::<Vec<_>>());
    let total = verdicts.len();
    assert_eq!(
        document["summary_line"],
        summary(total - v1.len(), total, v1.len(), "reference validator")
    );
}

#[test]
fn text_json_and_junit_agree() {
    let elsewhere = tempfile::tempdir().unwrap();
    let run = |format: &str| {
        let output = conformance(elsewhere.path())
            .args(["--format", format, "--cmd", NO_FINDINGS])
            .args(["--unsupported", "validate/ledger_*"])
            .assert()
            .code(1);
        output.get_output().stdout.clone()
    };
    let (text, _) = text_verdicts(&run("text"));
    let (json, document) = json_verdicts(&run("json"));
    let junit_out = run("junit");
    let junit = junit_verdicts(&junit_out);
    assert_eq!(json, text);
    assert_eq!(junit, text);
    assert!(text.values().any(|s| s == "UNSUPPORTED"));
    let count = |s: &str| text.values().filter(|v| *v == s).count();
    assert_eq!(document["summary"]["passed"], count("PASS"));
}

#[test]
fn exported_and_vendored_directories_run_the_same_cases() {
    let elsewhere = tempfile::tempdir().unwrap();
    let dir = elsewhere.path().join("vendored");
    Command::new(env!("CARGO_BIN_EXE_agentlog"))
        .args(["conformance", "export"])
        .arg(&dir)
        .assert()
        .success();
    let ids = manifest_ids();
    for cases_dir in [dir.clone(), dir.join("logs")] {
        let output = conformance(elsewhere.path())
            .arg("--cases")
            .arg(&cases_dir)
            .assert()
            .success();
        let (verdicts, _) = text_verdicts(&output.get_output().stdout);
        assert_eq!(verdicts.keys().cloned().collect::<Vec<_>>(), ids);
        assert!(verdicts.values().all(|s| s == "PASS"));
    }
}

#[test]
fn the_options_reach_a_port_as_flags_and_as_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases");
    std::fs::create_dir(&cases).unwrap();
    for (name, options) in [("given", r#"{"profile": "v1"}"#), ("default", "{}")] {
        std::fs::write(cases.join(format!("{name}.jsonl")), "x\n").unwrap();
        let verdict =
            format!(r#"{{"description": "d", "options": {options}, "lines": 1, "findings": []}}"#);
        std::fs::write(cases.join(format!("{name}.json")), verdict).unwrap();
    }
    let seen = dir.path().join("seen");
    let template = format!(
        r#"{{ cat {{options}}; echo; echo {{flags}}; }} >> '{}'; echo '{{"files":[{{"lines":1,"findings":[]}}]}}'"#,
        seen.display()
    );
    conformance(dir.path())
        .arg("--cases")
        .arg(&cases)
        .args(["--cmd", &template])
        .assert()
        .success()
        .stdout(predicate::str::contains("PASS validate/given"));
    let seen = std::fs::read_to_string(seen).unwrap();
    // Cases run in id order: `default` (no profile: none passed, the CLI's auto applies),
    // then `given`.
    assert_eq!(seen, "{}\n\n{\"profile\":\"v1\"}\n--profile v1\n", "{seen}");

    // An unknown profile is a broken case (exit 2), not a silent default.
    std::fs::write(
        cases.join("given.json"),
        r#"{"description": "d", "options": {"profile": "v2"}, "lines": 1, "findings": []}"#,
    )
    .unwrap();
    conformance(dir.path())
        .arg("--cases")
        .arg(&cases)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("options.profile \"v2\""));
}

#[test]
fn broken_ports_and_bad_arguments() {
    let elsewhere = tempfile::tempdir().unwrap();
    // A command that prints no JSON fails every case, saying why: not a crash.
    let output = conformance(elsewhere.path())
        .args(["--cmd", "echo nonsense"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("stdout is not a JSON report"));
    let (verdicts, _) = text_verdicts(&output.get_output().stdout);
    assert!(verdicts.values().all(|s| s == "FAIL"));
    conformance(elsewhere.path())
        .args(["--cases", "/nonexistent-dir"])
        .assert()
        .code(2);
    conformance(elsewhere.path())
        .args(["--unsupported-from", "/nonexistent/unsupported.txt"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/nonexistent/unsupported.txt"));
    conformance(elsewhere.path())
        .args(["--format", "yaml"])
        .assert()
        .code(2);
    // A typo in a placeholder is refused before any case runs.
    conformance(elsewhere.path())
        .args(["--cmd", "cat {flag} {log}"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("unknown placeholder {flag}"));
}

/// `agentlog conformance list | head -1`: the reader goes away early; the command must end
/// with its exit code, not a panic on the broken pipe.
#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    use std::process::Stdio;
    let commands: [&[&str]; 5] = [
        &["conformance", "list"],
        &["conformance", "list", "--json"],
        &["conformance", "validate"],
        &["schema", "--bundle"],
        &["schema", "--list"],
    ];
    for args in commands {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_agentlog"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the read end at once, before the command (still starting) writes a byte:
        // its first write fails with a broken pipe.
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
    }
}
