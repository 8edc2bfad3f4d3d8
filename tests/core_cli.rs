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
            "missing field `routed`",
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
            "`action` is not one of the allowed values (`injected`, `skipped`, `leak_blocked`)",
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
