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
//! `agentlog schema` and `agentlog emit` from the outside.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn agentlog() -> Command {
    Command::cargo_bin("agentlog").expect("binary built")
}

#[test]
fn schema_prints_each_published_file() {
    for file in &agentlog_core::schema::V0 {
        let out = agentlog().args(["schema", file.name]).assert().success();
        assert_eq!(String::from_utf8_lossy(&out.get_output().stdout), file.text);
    }
    agentlog()
        .args(["schema", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown schema `nope`"));
}

#[test]
fn schema_bundle_is_self_contained() {
    let out = agentlog().args(["schema", "--bundle"]).assert().success();
    let bundle: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(bundle, agentlog_core::schema::bundle());
    // Compiles with no registry at all: nothing outside the document is referenced.
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .offline()
        .build(&bundle)
        .expect("bundle needs no other document");
    let line = r#"{"ts":"2026-02-24T23:02:34Z","run_id":"r","agent_system":"a","event_type":"llm_request","summary":"s","data":{"method":"GET","host":"h","path":"/"}}"#;
    assert!(
        !validator.is_valid(&serde_json::from_str(line).unwrap()),
        "routed is required"
    );
}

#[test]
fn schema_profile_v1_prints_the_v1_files() {
    use agentlog_core::schema::Profile;
    for file in Profile::V1.files() {
        let out = agentlog()
            .args(["schema", "--profile", "v1", file.name])
            .assert()
            .success();
        assert_eq!(String::from_utf8_lossy(&out.get_output().stdout), file.text);
    }
    // No NAME: the profile's envelope.
    let out = agentlog()
        .args(["schema", "--profile", "v1"])
        .assert()
        .success();
    let envelope: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(
        envelope["$id"],
        "https://agentlog.dev/schema/v1/envelope.json"
    );
    // A type of the other profile is not there.
    agentlog()
        .args(["schema", "--profile", "v1", "llm_request"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown schema `llm_request` in profile v1",
        ));
    agentlog()
        .args(["schema", "gate_decision"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("in profile v0"));
    agentlog()
        .args(["schema", "--profile", "v2"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "[possible values: v0, v1, ledger]",
        ));
}

#[test]
fn schema_list_gives_the_ids_of_the_profile() {
    use agentlog_core::schema::Profile;
    for (args, profile) in [
        (&["schema", "--list"][..], Profile::V0),
        (&["schema", "--list", "--profile", "v0"][..], Profile::V0),
        (&["schema", "--list", "--profile", "v1"][..], Profile::V1),
    ] {
        let out = agentlog().args(args).assert().success();
        let expected: String = profile
            .files()
            .iter()
            .map(|f| format!("{}\t{}\n", f.name, f.id()))
            .collect();
        assert_eq!(String::from_utf8_lossy(&out.get_output().stdout), expected);
    }
    let out = agentlog()
        .args(["schema", "--profile", "v1", "--list"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(text.contains("gate_decision\thttps://agentlog.dev/schema/v1/gate_decision.json\n"));
    assert!(!text.contains("/v0/"));
}

#[test]
fn schema_profile_v1_bundle_is_self_contained() {
    let out = agentlog()
        .args(["schema", "--profile", "v1", "--bundle"])
        .assert()
        .success();
    let bundle: Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(bundle, agentlog_core::schema::Profile::V1.bundle());
    assert_eq!(bundle["$id"], "https://agentlog.dev/schema/v1/bundle.json");
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .offline()
        .build(&bundle)
        .expect("bundle needs no other document");
    // Every line the reference's Go writer wrote passes; its data is checked.
    let fixture = include_str!("../testdata/real-logs/matchlock-go-writer-events.jsonl");
    for line in fixture.lines() {
        assert!(
            validator.is_valid(&serde_json::from_str(line).unwrap()),
            "{line}"
        );
    }
    let bad = r#"{"ts":"2026-11-23T16:48:24Z","run_id":"vm-1","agent_system":"","event_type":"gate_decision","summary":"s","data":{"host":42,"allowed":"yes"}}"#;
    assert!(!validator.is_valid(&serde_json::from_str(bad).unwrap()));
}

#[test]
fn schema_help_lists_the_profiles() {
    let out = agentlog().args(["schema", "--help"]).assert().success();
    let help = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    for text in [
        "--profile <PROFILE>",
        "v0:",
        "v1:",
        "gate_decision",
        "[default: v0]",
    ] {
        assert!(help.contains(text), "no {text:?} in\n{help}");
    }
}

#[test]
fn emit_appends_a_valid_event() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    for _ in 0..2 {
        agentlog()
            .args(["emit", "--event-log"])
            .arg(&log)
            .args([
                "--run-id",
                "vm-1",
                "--agent-system",
                "aider",
                "--event-type",
                "key_injection",
                "--plugin",
                "secret_injector",
                "--tag",
                "tls",
                "--data",
                r#"{"secret_name":"OPENAI_API_KEY","host":"api.openai.com","action":"injected"}"#,
            ])
            .assert()
            .success();
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 2);
    let event: agentlog_core::Event = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(
        event.summary,
        r#"secret "OPENAI_API_KEY" injected for api.openai.com"#
    );
    assert_eq!(event.tags, ["tls"]);
    assert!(
        agentlog_core::schema::envelope()
            .unwrap()
            .is_valid(&serde_json::to_value(&event).unwrap())
    );
}

#[test]
fn emit_uses_the_default_path_for_the_run() {
    let home = tempfile::tempdir().unwrap();
    agentlog()
        .env("XDG_DATA_HOME", home.path())
        .args([
            "emit",
            "--run-id",
            "vm-9",
            "--agent-system",
            "a",
            "--event-type",
            "gate_decision",
            "--summary",
            "gate allowed h",
        ])
        .assert()
        .success();
    let log = home.path().join("agentlog/logs/vm-9/events.jsonl");
    assert!(
        std::fs::read_to_string(log)
            .unwrap()
            .contains("\"gate_decision\"")
    );
}

#[test]
fn emit_refuses_bad_input_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "--run-id",
                "../escape",
                "--agent-system",
                "a",
                "--event-type",
                "x",
                "--summary",
                "s",
            ],
            "run id must not contain",
        ),
        (
            &[
                "--run-id",
                "r",
                "--agent-system",
                "a",
                "--event-type",
                "llm_request",
                "--data",
                r#"{"method":"POST","host":"h","path":"/"}"#,
            ],
            "/data/routed: required field `routed` is missing",
        ),
        (
            &[
                "--run-id",
                "r",
                "--agent-system",
                "a",
                "--event-type",
                "llm_request",
                "--data",
                "[1]",
            ],
            "must be a JSON object",
        ),
        (
            &[
                "--run-id",
                "r",
                "--agent-system",
                "a",
                "--event-type",
                "llm_request",
                "--data",
                "{",
            ],
            "not JSON",
        ),
        (
            &["--run-id", "r", "--agent-system", "a", "--event-type", "x"],
            "--summary is required",
        ),
        (
            &[
                "--run-id",
                "r",
                "--agent-system",
                "",
                "--event-type",
                "x",
                "--summary",
                "s",
            ],
            "agent_system must not be empty",
        ),
        (
            &[
                "--run-id",
                "r",
                "--agent-system",
                "a",
                "--event-type",
                "key_injection",
                "--data",
                r#"{"secret_name":"K","host":"h","action":"stolen"}"#,
            ],
            r#"/data/action: value is not one of "injected", "skipped" or "leak_blocked""#,
        ),
    ];
    for (args, message) in cases {
        agentlog()
            .args(["emit", "--event-log"])
            .arg(&log)
            .args(*args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(*message));
    }
    assert!(!log.exists() || std::fs::read_to_string(&log).unwrap().is_empty());
}

#[test]
fn help_lists_every_subcommand() {
    let out = agentlog().arg("--help").assert().success();
    let help = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    for sub in ["schema", "emit", "validate", "proxy", "demo"] {
        assert!(help.contains(sub), "--help does not mention {sub}");
    }
    agentlog().arg("--bogus").assert().code(2);
}
