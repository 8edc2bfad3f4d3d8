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
//! `agentlog ledger` and `agentlog schema --profile ledger` from the outside: records written
//! by the binary are valid and land in their day's file even when many processes write
//! across midnight; errors have the documented exit codes, say what and where, and never
//! quote the arguments; retention runs, reports and is idempotent.

use std::collections::HashMap;
use std::path::Path;

use agentlog_core::ledger::{Day, ToolCall, layout};
use agentlog_core::schema::Profile;
use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn agentlog() -> Command {
    Command::cargo_bin("agentlog").expect("binary built")
}

fn log(dir: &Path) -> Command {
    let mut cmd = agentlog();
    cmd.args(["ledger", "log", "--dir"]).arg(dir);
    cmd
}

#[test]
fn log_appends_a_valid_record_and_prints_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = log(dir.path())
        .args([
            "--agent",
            "dev_agent",
            "--tool",
            "file_editor",
            "--status",
            "success",
        ])
        .args([
            "--args-json",
            r#"{"path": "src/app.py", "content": "print(1)"}"#,
        ])
        .args(["--elapsed-ms", "150", "--artifact", "src/app.py"])
        .args(["--session-id", "abc-123", "--now", "2026-11-23T16:52:00Z"])
        .assert()
        .success();
    let printed = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let file = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    assert_eq!(printed, file);
    assert!(!file.contains("print(1)"), "arguments stored: {file}");
    let line: Value = serde_json::from_str(&file).unwrap();
    assert!(Profile::Ledger.envelope().unwrap().is_valid(&line));
    assert_eq!(line["ts"], 1_795_452_720);
    assert_eq!(
        line["args_hash"],
        "sha256:4968df6d53da9614717f3eab3f6d17afc5cd35e8f825eca19244e40491ee3ae0"
    );
}

#[test]
fn log_reproduces_the_public_implementations_hash_with_the_python_form() {
    let dir = tempfile::tempdir().unwrap();
    // The arguments come from stdin, out of the process list.
    log(dir.path())
        .args([
            "--agent",
            "dev_agent",
            "--tool",
            "exec_shell",
            "--status",
            "denied",
        ])
        .args([
            "--args-json",
            "-",
            "--hash-form",
            "python",
            "--risk-flag",
            "path_denied",
        ])
        .write_stdin(r#"{"cmd": "rm -rf /"}"#)
        .assert()
        .success()
        .stdout(predicate::str::contains(
            // Line 2 of testdata/real-logs/myca-ledger-writer-events.jsonl.
            "sha256:2bf46634ca4cd7c95d71febf7bcc5298f327c025fafcadcf182180ccf2c9844c",
        ));
}

#[test]
fn log_pseudonymizes_the_session_with_a_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, "0123456789abcdef0123456789abcdef\n").unwrap();
    log(&dir.path().join("ledger"))
        .args([
            "--agent",
            "a",
            "--tool",
            "t",
            "--status",
            "success",
            "--args-json",
            "{}",
        ])
        .args(["--session-id", "alice@example.com", "--pseudonym-key-file"])
        .arg(&key)
        .assert()
        .success()
        .stdout(predicate::str::contains("\"session_id\":\"hmac-sha256:"))
        .stdout(predicate::str::contains("alice").not());
}

#[test]
fn usage_errors_exit_2_without_quoting_the_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let base = ["--agent", "a", "--tool", "t", "--status", "success"];
    // Not JSON: the position is told, the text never.
    log(dir.path())
        .args(base)
        .args(["--args-json", r#"{"token": sk-live-T3stV4lue0123"#])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--args-json is not JSON"))
        .stderr(predicate::str::contains("sk-live").not());
    // A rule of the schema: refused before anything is written.
    log(dir.path())
        .args(base)
        .args(["--args-json", "{}", "--error-class", "Boom"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`error_class` must be null"));
    for (flag, value, expected) in [
        (
            "--status",
            "ok",
            "[possible values: success, error, denied, timeout]",
        ),
        ("--risk-flag", "denial:network", "path_denied"),
        ("--args-hash", "sha256:abc", "64 lowercase hex digits"),
        ("--now", "yesterday", "RFC 3339"),
    ] {
        let mut cmd = log(dir.path());
        cmd.args(["--agent", "a", "--tool", "t"]);
        if flag != "--status" {
            cmd.args(["--status", "success"]);
        }
        if flag != "--args-hash" {
            cmd.args(["--args-json", "{}"]);
        }
        cmd.args([flag, value])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(expected));
    }
    // Neither or both of --args-json / --args-hash.
    log(dir.path()).args(base).assert().code(2);
    assert!(!dir.path().join("events.jsonl").exists());
}

#[test]
fn failures_exit_1_and_name_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "").unwrap();
    log(&file)
        .args([
            "--agent",
            "a",
            "--tool",
            "t",
            "--status",
            "success",
            "--args-json",
            "{}",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not-a-dir"));
    agentlog()
        .args(["ledger", "retain"])
        .arg(dir.path().join("missing"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("open the ledger directory"))
        .stderr(predicate::str::contains("missing"));
}

/// Every record in `dir`'s `.jsonl` files with its file; panics on a broken line.
fn records(dir: &Path) -> Vec<(String, ToolCall)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".jsonl") {
            for line in std::fs::read_to_string(dir.join(&name)).unwrap().lines() {
                let record: ToolCall = serde_json::from_str(line).expect(line);
                out.push((name.clone(), record));
            }
        }
    }
    out
}

#[test]
fn processes_writing_across_midnight_put_each_record_once_in_its_day() {
    const WRITERS: usize = 4;
    const EACH: usize = 20;
    let dir = tempfile::tempdir().unwrap();
    let midnight = 1_795_478_400i64; // 2026-11-24T00:00:00Z
    std::thread::scope(|scope| {
        for w in 0..WRITERS {
            let dir = dir.path();
            scope.spawn(move || {
                // Each writer's clock crosses midnight, minutes apart from the others'.
                for k in 0..EACH {
                    let ts = midnight - 600 + (w as i64) * 120 + (k as i64) * 60;
                    log(dir)
                        .args(["--agent", "a", "--tool", "t", "--status", "success"])
                        .args(["--args-json", "{}", "--now", &ts.to_string()])
                        .args(["--artifact", &format!("w{w}-{k}")])
                        .assert()
                        .success();
                }
            });
        }
    });
    let records = records(dir.path());
    assert_eq!(records.len(), WRITERS * EACH);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut current_days = Vec::new();
    for (file, record) in &records {
        *seen.entry(record.artifacts[0].clone()).or_default() += 1;
        let day = Day::of_ts(record.ts).unwrap();
        match layout::parse_day_file(file) {
            Some(file_day) => assert_eq!(file_day, day, "{file}"),
            None => current_days.push(day),
        }
    }
    assert!(seen.values().all(|&n| n == 1), "{seen:?}");
    assert_eq!(
        current_days.len(),
        records.iter().filter(|(f, _)| f == "events.jsonl").count()
    );
    assert!(
        current_days.iter().all(|d| d.compact() == "20261124"),
        "{current_days:?}"
    );
    assert!(dir.path().join("events_20261123.jsonl").exists());
}

#[test]
fn retain_reports_what_it_does_and_a_second_run_does_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for now in [
        "2026-11-01T10:00:00Z",
        "2026-11-01T11:00:00Z",
        "2026-11-20T08:00:00Z",
    ] {
        log(dir.path())
            .args([
                "--agent",
                "a",
                "--tool",
                "t",
                "--status",
                "timeout",
                "--args-json",
                "{}",
            ])
            .args([
                "--error-class",
                "TimeoutError",
                "--elapsed-ms",
                "30000",
                "--now",
                now,
            ])
            .assert()
            .success();
    }
    let retain = |extra: &[&str]| {
        let mut cmd = agentlog();
        cmd.args(["ledger", "retain"])
            .arg(dir.path())
            .args(["--now", "2026-11-23T12:00:00Z"])
            .args(extra);
        cmd
    };
    retain(&["--dry-run"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "archive events_20261101.jsonl -> archive/events_20261101.jsonl.gz\n",
        ))
        .stdout(predicate::str::contains("(dry run, nothing changed)"));
    assert!(dir.path().join("events_20261101.jsonl").exists());
    retain(&[])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "archive events_20261101.jsonl -> archive/events_20261101.jsonl.gz (2 lines)\n\
             write stats_20261101.json (2 records)\n",
        ));
    let stats: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("stats_20261101.json")).unwrap())
            .unwrap();
    assert_eq!(stats["by_error_class"]["TimeoutError"], 2);
    assert_eq!(stats["elapsed_ms"]["p95"], 30000);
    retain(&[])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("retain: 0 action(s)"));
}

#[test]
fn schema_profile_ledger_lists_and_prints_the_record_schema() {
    let file = &Profile::Ledger.files()[0];
    agentlog()
        .args(["schema", "--profile", "ledger", "--list"])
        .assert()
        .success()
        .stdout("tool_call\thttps://agentlog.dev/schema/ledger/v1/tool_call.schema.json\n");
    for args in [
        &["schema", "--profile", "ledger"][..],
        &["schema", "--profile", "ledger", "tool_call"][..],
    ] {
        let out = agentlog().args(args).assert().success();
        assert_eq!(String::from_utf8_lossy(&out.get_output().stdout), file.text);
    }
    agentlog()
        .args(["ledger", "log", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("high_risk_approved"))
        .stdout(predicate::str::contains("Exit codes: 0 written, 1"));
}
