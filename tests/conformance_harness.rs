//! The conformance harness itself: it passes the reference (in process and as a command) and
//! fails an implementation that reports something else.

use assert_cmd::Command;
use predicates::prelude::*;

fn agentlog() -> Command {
    Command::cargo_bin("agentlog").expect("binary built")
}

fn cases_dir() -> String {
    format!("{}/conformance/logs", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn reference_passes_every_case_in_process() {
    let cases = agentlog_validate::conformance::load_log_cases(cases_dir().as_ref()).unwrap();
    assert!(cases.len() >= 20);
    for case in &cases {
        let outcome = agentlog_validate::conformance::judge(
            case,
            agentlog_validate::conformance::run_reference(case),
        );
        assert!(outcome.passed(), "{outcome}");
    }
    agentlog()
        .args(["conformance", "--quiet", "--cases", &cases_dir()])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "{0} of {0} cases passed",
            cases.len()
        )));
}

#[test]
fn reference_binary_passes_as_an_external_command() {
    let bin = assert_cmd::cargo::cargo_bin("agentlog");
    let template = format!(
        "'{}' validate --format json {{flags}} {{log}}",
        bin.display()
    );
    agentlog()
        .args([
            "conformance",
            "--quiet",
            "--cases",
            &cases_dir(),
            "--cmd",
            &template,
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("cases passed"));
}

#[test]
fn a_non_conforming_port_fails_with_details() {
    // Reports every log as one clean line: wrong on nearly every case.
    let template = r#"echo '{"files":[{"path":"x","lines":1,"events":1,"findings":[]}]}'"#;
    agentlog()
        .args(["conformance", "--cases", &cases_dir(), "--cmd", template])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAIL line_torn"))
        .stdout(predicate::str::contains("missing ["))
        .stdout(
            predicate::str::contains("PASS")
                .not()
                .or(predicate::str::contains("FAIL")),
        );
    // A command that prints no JSON is a failure that says why, not a crash.
    agentlog()
        .args([
            "conformance",
            "--cases",
            &cases_dir(),
            "--cmd",
            "echo nonsense",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("stdout is not a JSON report"));
    agentlog()
        .args(["conformance", "--cases", "/nonexistent-dir"])
        .assert()
        .code(2);
}

#[test]
fn the_profile_reaches_a_port_as_a_flag_and_an_option() {
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
    agentlog()
        .args(["conformance", "--cases"])
        .arg(&cases)
        .args(["--cmd", &template])
        .assert()
        .success();
    let seen = std::fs::read_to_string(seen).unwrap();
    // Cases run in name order: `default` (no profile: none passed, the CLI's auto applies),
    // then `given`.
    assert_eq!(seen, "{}\n\n{\"profile\":\"v1\"}\n--profile v1\n", "{seen}");

    // An unknown profile is a broken case, not a silent v0.
    std::fs::write(
        cases.join("given.json"),
        r#"{"description": "d", "options": {"profile": "v2"}, "lines": 1, "findings": []}"#,
    )
    .unwrap();
    agentlog()
        .args(["conformance", "--cases"])
        .arg(&cases)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("options.profile \"v2\""));
}
