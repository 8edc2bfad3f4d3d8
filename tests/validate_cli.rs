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
//! `agentlog validate` end to end: exit codes, inputs, the five output formats, SARIF schema
//! validity, and no secret value in any output.

use std::io::Write;

use assert_cmd::Command;
use predicates::prelude::*;

const GOOD: &str = include_str!("../conformance/logs/valid_v0_all_types.jsonl");
const SECRET: &str = "Zq7-leaky-VALUE-91x";

fn cmd() -> Command {
    Command::cargo_bin("agentlog").unwrap()
}

fn leaky_log() -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("user:{SECRET}"));
    format!(
        "{GOOD}{{\"ts\":\"2026-02-24T23:03:15Z\",\"run_id\":\"vm-503ad4d1\",\"agent_system\":\"a\",\"event_type\":\"llm_request\",\"summary\":\"s\",\"data\":{{\"method\":\"POST\",\"host\":\"h\",\"path\":\"/\",\"routed\":false,\"authorization\":\"Basic {b64}\",\"{SECRET}\":1,\"raw\":\"{SECRET}\",\"other\":\"sk-proj-abcdefghijklmnopqrstuvwxyz0123\"}}}}\n"
    )
}

#[test]
fn clean_log_exits_0_with_summary() {
    cmd()
        .args(["validate", "-"])
        .write_stdin(GOOD)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "ok: 1 file(s), 5 line(s), 5 event(s) checked; 0 error(s), 0 warning(s)",
        ));
}

#[test]
fn findings_exit_1() {
    cmd()
        .args(["validate", "-"])
        .write_stdin("not json\n")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("-:1: error[json.syntax]"));
}

#[test]
fn missing_path_and_usage_exit_2() {
    cmd()
        .args(["validate", "/definitely/not/here.jsonl"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("agentlog: error:"));
    cmd().args(["validate"]).assert().code(2);
    cmd()
        .args(["validate", "--format", "xml", "-"])
        .assert()
        .code(2);
}

#[test]
fn short_secret_exits_2_naming_its_position_only() {
    // `abcdefgh=xy`: a value whose `=` was taken for the separator; its "name" is most of it.
    for spec in ["TINY=abc@h", "abcdefgh=xy"] {
        cmd()
            .args([
                "validate",
                "--secret",
                "OK_ONE=long-enough-value",
                "--secret",
                spec,
                "-",
            ])
            .write_stdin(GOOD)
            .assert()
            .code(2)
            .stderr(
                predicate::str::contains("--secret #2: the value is shorter than 8 bytes")
                    .and(predicate::str::contains("TINY").not())
                    .and(predicate::str::contains("abc").not()),
            );
    }
}

#[test]
fn empty_inputs_fail_unless_allowed() {
    cmd()
        .args(["validate", "-"])
        .write_stdin("")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("input.empty"));
    cmd()
        .args(["validate", "--allow-empty", "-"])
        .write_stdin("")
        .assert()
        .code(0);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
    cmd()
        .arg("validate")
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("no *.jsonl"));
    cmd()
        .args(["validate", "--allow-empty"])
        .arg(dir.path())
        .assert()
        .code(0);
}

#[test]
fn directories_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("run/logs");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(sub.join("events.jsonl"), GOOD).unwrap();
    let gz = std::fs::File::create(sub.join("old.jsonl.gz")).unwrap();
    let mut enc = flate2::write::GzEncoder::new(gz, flate2::Compression::fast());
    enc.write_all(GOOD.as_bytes()).unwrap();
    enc.finish().unwrap();
    std::fs::write(sub.join("ignored.json"), "garbage").unwrap();
    cmd()
        .arg("validate")
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "2 file(s), 10 line(s), 10 event(s)",
        ));
}

#[test]
fn unknown_types_flag_relaxes_real_log() {
    let real = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/validate/real-matchlock-pr77.jsonl"
    );
    cmd()
        .args(["validate", "--profile", "v0", real])
        .assert()
        .code(1);
    cmd()
        .args([
            "validate",
            "--profile",
            "v0",
            "--unknown-types",
            "warn",
            "--quiet",
            real,
        ])
        .assert()
        .code(0)
        .stdout("ok: 1 file(s), 13 line(s), 13 event(s) checked; 0 error(s), 13 warning(s)\n");
}

#[test]
fn fail_fast_stops_at_first_error() {
    let out = cmd()
        .args(["validate", "--fail-fast", "-"])
        .write_stdin("x\ny\nz\n")
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.matches("json.syntax").count(), 1, "{text}");
}

fn run_format(format: &str, extra: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets.env");
    std::fs::write(&secrets, format!("# comment\nAPI_TOKEN={SECRET}\n")).unwrap();
    let out = cmd()
        .args(["validate", "--format", format, "--secrets-file"])
        .arg(&secrets)
        .args(extra)
        .arg("-")
        .write_stdin(leaky_log())
        .output()
        .unwrap();
    let mut all = String::from_utf8_lossy(&out.stdout).into_owned();
    all.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), all)
}

#[test]
fn no_secret_value_in_any_format() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("user:{SECRET}"));
    for format in ["text", "json", "sarif", "junit", "github"] {
        let (code, out) = run_format(format, &[]);
        assert_eq!(code, 1, "{format}: {out}");
        assert!(
            out.contains("API_TOKEN"),
            "{format} does not name the secret: {out}"
        );
        assert!(
            out.contains("secret.value") && out.contains("secret.pattern"),
            "{format}"
        );
        for leaked in [
            SECRET,
            b64.as_str(),
            "abcdefghijklmnopqrstuvwxyz0123",
            "leaky",
        ] {
            assert!(!out.contains(leaked), "{format} leaks {leaked}: {out}");
        }
    }
    // The secret given through the environment and on the command line works the same way.
    let out = cmd()
        .env("MY_TOKEN", SECRET)
        .args([
            "validate",
            "--secret-env",
            "MY_TOKEN",
            "--no-builtin-detectors",
            "-",
        ])
        .write_stdin(leaky_log())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("MY_TOKEN") && !text.contains(SECRET) && !text.contains("secret.pattern")
    );
    let out = cmd()
        .args([
            "validate",
            "--secret",
            &format!("CLI_TOKEN={SECRET}@api.example.com"),
            "-",
        ])
        .write_stdin(leaky_log())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("CLI_TOKEN") && !text.contains(SECRET),
        "{text}"
    );
}

#[test]
fn json_format_has_the_documented_shape() {
    let (_, out) = run_format("json", &[]);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let file = &doc["files"][0];
    assert_eq!(file["path"], "-");
    assert_eq!(file["lines"], 6);
    assert_eq!(file["events"], 6);
    let f = &file["findings"][0];
    for key in ["line", "rule", "severity", "pointer", "message"] {
        assert!(f.get(key).is_some(), "{key} missing in {f}");
    }
    let s = &doc["summary"];
    for key in [
        "files",
        "lines",
        "errors",
        "warnings",
        "by_rule",
        "by_event_type",
    ] {
        assert!(s.get(key).is_some(), "{key} missing in {s}");
    }
    assert!(s["by_rule"]["secret.value"].as_u64().unwrap() >= 1);
    assert_eq!(s["by_event_type"]["llm_request"], 2);
}

#[test]
fn sarif_is_valid_sarif_2_1_0() {
    // The official schema's `run.language` pattern has a stray `]` that the Rust regex engine
    // refuses when the schema itself is checked; the pattern is irrelevant to our output
    // (we write no `language`), so it is replaced by its evident intent before compiling.
    let text = include_str!("../testdata/validate/sarif-2.1.0-rtm.5.json").replace(
        r"^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$",
        r"^[a-zA-Z]{2}(-[a-zA-Z]{2})?$",
    );
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&schema)
        .unwrap();
    let (_, out) = run_format("sarif", &[]);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(doc["version"], "2.1.0");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "secret.value"));
    assert_eq!(
        doc["runs"][0]["artifacts"][0]["properties"]["profile"],
        "v0"
    );
    // An invalid document is refused, so the check above can fail.
    assert!(!validator.is_valid(&serde_json::json!({"version": "2.1.0"})));
}

#[test]
fn github_and_junit_shapes() {
    let (_, out) = run_format("github", &[]);
    assert!(
        out.contains("::error file=-,line=6,title=secret.value::"),
        "{out}"
    );
    let (_, out) = run_format("junit", &[]);
    assert!(
        out.starts_with("<?xml") && out.contains("<failure"),
        "{out}"
    );
}

#[test]
fn output_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    cmd()
        .args(["validate", "--format", "json", "--output"])
        .arg(&path)
        .arg("-")
        .write_stdin(GOOD)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("0 error(s)"));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(doc["summary"]["errors"], 0);
}

#[test]
fn max_errors_0_is_a_usage_error() {
    cmd()
        .args(["validate", "--max-errors", "0", "-"])
        .write_stdin("not json\n")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--max-errors"));
    cmd()
        .args(["validate", "--max-errors", "1", "-"])
        .write_stdin("not json\n")
        .assert()
        .code(1);
}

#[test]
fn stdin_twice_is_a_usage_error() {
    cmd()
        .args(["validate", "-", "-"])
        .write_stdin(GOOD)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("only once"));
}

#[test]
fn bad_secret_spec_never_echoes_the_value() {
    const VALUE: &str = "sk-THEVALUE123";
    for spec in [
        format!("{VALUE}@host"),
        "THEVALUE123@host".to_owned(),
        format!("X Y={VALUE}@host"),
    ] {
        let out = cmd()
            .args([
                "validate",
                "--secret",
                "OK=fine-value-1@h",
                "--secret",
                &spec,
                "-",
            ])
            .write_stdin(GOOD)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{spec}: {stderr}");
        assert!(stderr.contains("--secret #2"), "{spec}: {stderr}");
        assert!(!stderr.contains("THEVALUE123"), "{spec}: {stderr}");
        // The proxy refuses it while checking arguments, before anything is bound.
        let ca = tempfile::tempdir().unwrap();
        let out = cmd()
            .args([
                "proxy",
                "--listen",
                "127.0.0.1:0",
                "--secret",
                &spec,
                "--ca-dir",
            ])
            .arg(ca.path())
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "proxy {spec}: {stderr}");
        assert!(stderr.contains("--secret #1"), "proxy {spec}: {stderr}");
        assert!(!stderr.contains("THEVALUE123"), "proxy {spec}: {stderr}");
        assert!(out.stdout.is_empty(), "proxy {spec} started");
    }
    let out = cmd()
        .args(["validate", "--secret-env", "sk_THEVALUE123", "-"])
        .write_stdin(GOOD)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("THEVALUE123"), "{stderr}");
}

#[test]
fn bom_json_and_commented_dotenv_secrets_files() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("secrets.json");
    std::fs::write(
        &json,
        format!("\u{feff}{{\n  \"API_TOKEN\": \"{SECRET}\",\n  \"OTHER\": \"other-value-1\"\n}}\n"),
    )
    .unwrap();
    let dotenv = dir.path().join("secrets.env");
    std::fs::write(
        &dotenv,
        format!(
            "\u{feff}export API_TOKEN = {SECRET} # rotated 2026-05\r\nOTHER='other-value-1' # y\r\n"
        ),
    )
    .unwrap();
    for file in [&json, &dotenv] {
        let out = cmd()
            .args(["validate", "--no-builtin-detectors", "--secrets-file"])
            .arg(file)
            .arg("-")
            .write_stdin(leaky_log())
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(1), "{all}");
        assert!(
            all.contains("secret.value") && all.contains("API_TOKEN"),
            "{all}"
        );
        assert!(
            !all.contains(SECRET) && !all.contains("other-value"),
            "{all}"
        );
    }
    // A broken file names the file and line, not the text.
    std::fs::write(&dotenv, format!("A=fine-value-1\n{SECRET}\n")).unwrap();
    cmd()
        .args(["validate", "--secrets-file"])
        .arg(&dotenv)
        .arg("-")
        .write_stdin(GOOD)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("secrets.env line 2")
                .and(predicate::str::contains(SECRET).not()),
        );
    // A broken file whose path carries another argument's secret is named by position; the
    // secrets of later arguments are known to the gate too.
    let named = dir.path().join(format!("x_{SECRET}.env"));
    std::fs::write(&named, "garbage line\n").unwrap();
    for order in [["--secret", "first"], ["first", "--secret"]] {
        let mut command = cmd();
        command.arg("validate");
        for word in order {
            match word {
                "first" => command.arg("--secrets-file").arg(&named),
                _ => command.arg("--secret").arg(format!("S={SECRET}")),
            };
        }
        command.arg("-").write_stdin(GOOD).assert().code(2).stderr(
            predicate::str::contains("secrets file #1 (file name withheld")
                .and(predicate::str::contains("line 1: expected NAME=VALUE"))
                .and(predicate::str::contains(SECRET).not()),
        );
    }
}

#[test]
fn directory_with_symlink_loops_and_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("a/b")).unwrap();
    std::fs::write(root.join("a/b/events.jsonl"), GOOD).unwrap();
    std::os::unix::fs::symlink("..", root.join("a/b/up")).unwrap();
    std::os::unix::fs::symlink("../..", root.join("a/b/upup")).unwrap();
    std::os::unix::fs::symlink("a/b/events.jsonl", root.join("link.jsonl")).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(root.join("pipe.jsonl"))
        .status()
        .unwrap();
    assert!(status.success());
    for format in ["text", "json", "sarif", "junit", "github"] {
        let out = cmd()
            .args(["validate", "--format", format])
            .arg(root)
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{format}: {text}");
        assert!(text.contains("input.skipped"), "{format}: {text}");
        assert!(text.contains("pipe.jsonl"), "{format}: {text}");
        if format == "text" {
            // The log is checked once, however many links lead to it.
            assert!(text.contains(", 5 event(s) checked"), "{text}");
        }
    }
    // Named on the command line, a FIFO is read (process substitution relies on that).
    let fifo = root.join("pipe.jsonl");
    let writer = std::thread::spawn(move || std::fs::write(fifo, GOOD).unwrap());
    cmd()
        .args(["validate", "--quiet"])
        .arg(root.join("pipe.jsonl"))
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("5 event(s) checked"));
    writer.join().unwrap();
}

#[test]
fn non_utf8_file_names_are_validated() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"bad\xff.jsonl");
    std::fs::write(dir.path().join(name), "not json\n").unwrap();
    cmd()
        .arg("validate")
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "bad\u{fffd}.jsonl:1: error[json.syntax]",
        ));
}

#[test]
fn path_errors_go_through_the_redactor() {
    let path = format!("/nonexistent/{SECRET}.jsonl");
    cmd()
        .args(["validate", "--secret", &format!("TOK={SECRET}"), &path])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("agentlog: error:")
                .and(predicate::str::contains(SECRET).not()),
        );
}

#[test]
fn reference_logs_validate_clean_under_profile_v1() {
    for log in [
        "testdata/real-logs/matchlock-go-writer-events.jsonl",
        "testdata/real-logs/matchlock-pr77-examples-events.jsonl",
    ] {
        cmd()
            .args(["validate", "--profile", "v1", log])
            .assert()
            .code(0)
            .stdout(predicate::str::contains("0 error(s), 0 warning(s)"));
    }
}

#[test]
fn profile_v1_checks_v1_data_and_warns_on_an_empty_agent_system() {
    let line = r#"{"ts":"2026-02-24T23:03:10Z","run_id":"vm-1","agent_system":"","event_type":"gate_decision","summary":"gate blocked x","plugin":"host_filter","data":{"host":42,"allowed":"yes"}}"#;
    cmd()
        .args(["validate", "--profile", "v1", "-"])
        .write_stdin(format!("{line}\n"))
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("-:1: error[data.type] /data/host")
                .and(predicate::str::contains(
                    "-:1: error[data.type] /data/allowed",
                ))
                .and(predicate::str::contains(
                    "-:1: warning[envelope.agent_system_unknown] /agent_system",
                )),
        );
    // v0 does not know gate_decision, and requires a non-empty agent_system.
    cmd()
        .args(["validate", "--profile", "v0", "-"])
        .write_stdin(format!("{line}\n"))
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("error[event_type.unknown] /event_type")
                .and(predicate::str::contains(
                    "error[envelope.empty] /agent_system",
                ))
                .and(predicate::str::contains("data.type").not()),
        );
    // v1 does not know v0's llm_request.
    let v0_line = r#"{"ts":"2026-02-24T23:03:10Z","run_id":"vm-1","agent_system":"a","event_type":"llm_request","summary":"POST h/p","data":{"method":"POST","host":"h","path":"/p","routed":false}}"#;
    cmd()
        .args(["validate", "--profile", "v1", "-"])
        .write_stdin(format!("{v0_line}\n"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "event_type `llm_request` is not defined by profile v1",
        ));
}

const REAL_LOGS: [&str; 2] = [
    "testdata/real-logs/matchlock-go-writer-events.jsonl",
    "testdata/real-logs/matchlock-pr77-examples-events.jsonl",
];

#[test]
fn reference_logs_validate_clean_with_no_flags() {
    let chosen = [
        "auto: line 3 is http_request, a v1-only type",
        "auto: line 1 is gate_decision, a v1-only type",
    ];
    for (log, chosen) in REAL_LOGS.into_iter().zip(chosen) {
        cmd().args(["validate", log]).assert().code(0).stdout(
            predicate::str::contains(format!("{log}: checked under profile v1 ({chosen})"))
                .and(predicate::str::contains("0 error(s), 0 warning(s)"))
                .and(predicate::str::contains("[").not()),
        );
    }
}

#[test]
fn stdin_is_checked_under_the_profile_auto_chooses() {
    let v1 = std::fs::read_to_string(REAL_LOGS[0]).unwrap();
    cmd()
        .args(["validate", "-"])
        .write_stdin(v1.clone())
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "-: checked under profile v1 (auto: line 3 is http_request",
        ));
    cmd()
        .args(["validate", "-"])
        .write_stdin(GOOD)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "-: checked under profile v0 (auto: line 1 is llm_request",
        ));
    // A v0 line appended to the v1 log: a mixed file, reported on that line.
    let mixed = format!("{v1}{}", GOOD.lines().next().unwrap_or_default());
    cmd()
        .args(["validate", "-"])
        .write_stdin(format!("{mixed}\n"))
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains(
                "-:19: error[profile.mixed] /event_type: event_type `llm_request` is a v0-only type",
            )
            .and(predicate::str::contains(
                "decided at line 3 by http_request",
            )),
        );
    // Only shared types: v0, the default, so an empty agent_system is an error.
    let shared = r#"{"ts":"2026-02-24T23:03:10Z","run_id":"vm-1","agent_system":"","event_type":"budget_action","summary":"s","data":{"action":"warn"}}"#;
    cmd()
        .args(["validate", "-"])
        .write_stdin(format!("{shared}\n"))
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("-:1: error[envelope.empty] /agent_system").and(
                predicate::str::contains(
                    "checked under profile v0 (auto: no v0-only or v1-only event type",
                ),
            ),
        );
}

fn two_profiles(format: &str) -> String {
    let out = cmd()
        .args([
            "validate",
            "--format",
            format,
            REAL_LOGS[1],
            "conformance/logs/valid_v0_all_types.jsonl",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_format_names_the_profile_of_each_file() {
    let text = two_profiles("text");
    assert!(
        text.contains(&format!(
            "{}: checked under profile v1 (auto: line 1 is gate_decision",
            REAL_LOGS[1]
        )),
        "{text}"
    );
    assert!(
        text.contains(
            "valid_v0_all_types.jsonl: checked under profile v0 (auto: line 1 is llm_request"
        ),
        "{text}"
    );

    let json: serde_json::Value = serde_json::from_str(&two_profiles("json")).unwrap();
    assert_eq!(json["files"][0]["profile"], "v1");
    assert_eq!(
        json["files"][0]["profile_chosen"],
        serde_json::json!({"by": "auto", "line": 1, "event_type": "gate_decision"})
    );
    assert_eq!(json["files"][1]["profile"], "v0");
    assert_eq!(
        json["summary"]["by_profile"],
        serde_json::json!({"v0": 1, "v1": 1})
    );

    let sarif: serde_json::Value = serde_json::from_str(&two_profiles("sarif")).unwrap();
    let artifacts = &sarif["runs"][0]["artifacts"];
    assert_eq!(artifacts[0]["properties"]["profile"], "v1");
    assert_eq!(artifacts[1]["properties"]["profile"], "v0");
    assert_eq!(
        sarif["runs"][0]["properties"]["profiles"],
        serde_json::json!({"v0": 1, "v1": 1})
    );

    let junit = two_profiles("junit");
    assert_eq!(
        junit
            .matches(r#"<property name="profile" value="v1"/>"#)
            .count(),
        1,
        "{junit}"
    );
    assert_eq!(
        junit
            .matches(r#"<property name="profile" value="v0"/>"#)
            .count(),
        1,
        "{junit}"
    );

    let github = two_profiles("github");
    assert!(
        github.contains("::notice title=agentlog validate::ok: 2 file(s)"),
        "{github}"
    );
    assert!(
        github.contains("; checked under v0: 1 file(s), v1: 1 file(s)"),
        "{github}"
    );

    // A given profile says so.
    cmd()
        .args(["validate", "--profile", "v1", REAL_LOGS[1]])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("checked under profile v1 (given)"));
}

/// A ledger directory as the writer and retention leave it (`events.jsonl`,
/// `events_YYYYMMDD.jsonl`, `archive/events_YYYYMMDD.jsonl.gz`, `stats_*.json`) validates in
/// one command, every file under the ledger profile, the archives decompressed.
#[test]
fn a_rotated_and_retained_ledger_directory_validates_in_one_command() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger");
    let now: i64 = 1795435200; // 2026-11-23T12:00:00Z
    for days_ago in [40, 35, 10, 2, 1, 0] {
        let at = (now - days_ago * 86_400).to_string();
        cmd()
            .args(["ledger", "log", "--dir"])
            .arg(&ledger)
            .args(["--agent", "dev_agent", "--tool", "exec_shell"])
            .args(["--args-json", "{\"cmd\":\"ls\"}", "--status", "denied"])
            .args(["--risk-flag", "path_denied", "--now", &at])
            .assert()
            .code(0);
    }
    cmd()
        .args(["ledger", "retain"])
        .arg(&ledger)
        .args(["--now", &now.to_string()])
        .assert()
        .code(0);
    let archive = ledger.join("archive");
    let gz: Vec<_> = std::fs::read_dir(&archive)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".jsonl.gz"))
        .collect();
    assert_eq!(gz.len(), 3, "{gz:?}");
    assert!(ledger.join("events.jsonl").is_file());
    assert!(ledger.join("events_20261122.jsonl").is_file());
    let json = |assert: assert_cmd::assert::Assert| -> serde_json::Value {
        serde_json::from_slice(&assert.get_output().stdout).unwrap()
    };
    let report = json(
        cmd()
            .args(["validate", "--format", "json"])
            .arg(&ledger)
            .assert()
            .code(0),
    );
    assert_eq!(report["summary"]["files"], 6, "{report:#}");
    assert_eq!(report["summary"]["lines"], 6);
    assert_eq!(
        report["summary"]["by_event_type"],
        serde_json::json!({"tool_call": 6})
    );
    assert_eq!(report["summary"]["errors"], 0);
    assert_eq!(
        report["summary"]["by_profile"],
        serde_json::json!({"ledger": 6})
    );
    for file in report["files"].as_array().unwrap() {
        assert_eq!(file["profile"], "ledger");
        assert_eq!(
            file["profile_chosen"],
            serde_json::json!({"by": "auto", "line": 1, "record": "ledger"})
        );
    }
    // A record the public implementation would write, appended to an archive as a second
    // gzip member: found inside the compressed file. Its ts is the archive day's last second,
    // so it does not go back in time (`ts.backwards`).
    let mut member = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let bad = "{\"ts\": 1794614399, \"ts_iso\": \"x\", \"session_id\": \"s\", \"agent\": \"a\", \
               \"tool\": \"t\", \"args_hash\": \"sha256:00\", \"result_status\": \"denied\", \
               \"elapsed_ms\": 0, \"error_class\": null, \"risk_flags\": [\"denial:path\"], \
               \"artifacts\": []}\n";
    member.write_all(bad.as_bytes()).unwrap();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&gz[0])
        .unwrap();
    file.write_all(&member.finish().unwrap()).unwrap();
    drop(file);
    let report = json(
        cmd()
            .args(["validate", "--format", "json", "--profile", "ledger"])
            .arg(&ledger)
            .assert()
            .code(1),
    );
    let found: Vec<(String, u64, String, String)> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            f["findings"].as_array().unwrap().iter().map(move |x| {
                (
                    f["path"].as_str().unwrap().to_owned(),
                    x["line"].as_u64().unwrap(),
                    x["rule"].as_str().unwrap().to_owned(),
                    x["pointer"].as_str().unwrap().to_owned(),
                )
            })
        })
        .collect();
    let path = gz[0].display().to_string();
    assert_eq!(
        found,
        [
            (
                path.clone(),
                2,
                "ledger.args_hash".into(),
                "/args_hash".into()
            ),
            (
                path.clone(),
                2,
                "ledger.risk_flag".into(),
                "/risk_flags/0".into()
            ),
            (path, 2, "ledger.undeclared_field".into(), "/ts_iso".into()),
        ]
    );
}

#[test]
fn the_real_ledger_file_explains_each_deviation_in_text() {
    let out = cmd()
        .args([
            "validate",
            "testdata/real-logs/myca-ledger-writer-events.jsonl",
        ])
        .assert()
        .code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        text.contains("profile ledger (auto: line 1, the first JSON object, is a ledger record)"),
        "{text}"
    );
    assert!(text.contains(":5: error[ledger.risk_flag]"), "{text}");
    assert!(text.contains(":7: error[ledger.record_kind]"), "{text}");
    assert_eq!(text.matches("error[").count(), 8, "{text}");
}

/// A secret whose value is one of agentlog's own words could not be kept out of any report:
/// it is refused by name before anything is written.
#[test]
fn a_secret_that_is_agentlogs_own_text_is_refused_by_name() {
    for (value, args) in [
        ("transform", &["validate", "--format", "sarif"][..]),
        ("agentlog", &["validate", "--format", "github"][..]),
        ("        ", &["validate", "--format", "json"][..]),
        ("function", &["analyze", "--format", "json"][..]),
    ] {
        let out = cmd()
            .args(args)
            .arg("--secret")
            .arg(format!("OWN={value}"))
            .arg("--secret")
            .arg(format!("S={SECRET}"))
            .arg("-")
            .write_stdin(GOOD)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{value:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{value:?}: nothing is written");
        assert!(
            stderr.contains("secret OWN: its value is text agentlog writes itself"),
            "{stderr}"
        );
    }
}

/// A file whose name carries a secret is listed last, whatever its name: where it sorts
/// among the names around it is not shown. Two directories that differ only in the secret
/// give the same report.
#[test]
fn a_withheld_file_name_does_not_sort_where_its_value_would() {
    let run = |secret: &str, command: &[&str]| {
        let dir = tempfile::tempdir().unwrap();
        for name in ["A", "M", "Z", "a", "m", "z"] {
            std::fs::write(dir.path().join(format!("{name}.jsonl")), GOOD).unwrap();
        }
        std::fs::write(
            dir.path().join(format!("{secret}.jsonl")),
            format!("{GOOD}not json\n"),
        )
        .unwrap();
        let out = cmd()
            .args(command)
            .arg("--secret")
            .arg(format!("S={secret}"))
            .arg(".")
            .current_dir(dir.path())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for command in [
        &["validate", "--format", "json"][..],
        &["analyze", "--format", "json"][..],
    ] {
        let early = run("Bq7vPw3nLk9xTb2m", command);
        let late = run("yq7vPw3nLk9xTb2m", command);
        assert!(early.contains("file name withheld"), "{early}");
        assert_eq!(early, late, "{command:?}");
    }
}

#[test]
fn a_secret_longer_than_any_credential_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.env");
    std::fs::write(&file, format!("BIG={}\n", "x7".repeat(40_000))).unwrap();
    cmd()
        .args(["validate", "--secrets-file"])
        .arg(&file)
        .arg("-")
        .write_stdin(GOOD)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "secret BIG: the value is longer than 65536 bytes",
        ));
}

/// A file reached by two names (a hard link) is listed under the shown one, wherever the
/// withheld name sorts.
#[test]
fn a_file_reached_by_two_names_is_listed_under_the_shown_one() {
    for secret in ["Bq7vPw3nLk9xTb2m", "yq7vPw3nLk9xTb2m"] {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir(&logs).unwrap();
        std::fs::write(logs.join(format!("{secret}.jsonl")), GOOD).unwrap();
        std::fs::hard_link(logs.join(format!("{secret}.jsonl")), logs.join("k.jsonl")).unwrap();
        let out = cmd()
            .args(["validate", "--format", "json", "--secret"])
            .arg(format!("S={secret}"))
            .arg("logs")
            .current_dir(dir.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("logs/k.jsonl") && !stdout.contains("withheld"),
            "{secret}: {stdout}"
        );
    }
}
