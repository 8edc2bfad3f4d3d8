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
//! `agentlog conformance proxy`: the interceptor harness passes our own proxy (`--self`) and
//! fails, naming the scenarios, a port that does not conform. Every scenario count and set
//! is derived from the embedded manifest and the scenario files, so adding a scenario needs
//! no edit here.

use std::collections::BTreeSet;
use std::process::Output;
use std::sync::{Mutex, PoisonError};

use agentlog_conformance::cases::{self, Kind};
use serde_json::Value;

/// One harness run at a time: each hands its port a loopback port it found free, and two
/// runs in parallel could hand out the same one (the loser then fails on the other run's
/// certificate, a failure of the test setup, not of the port).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn agentlog(args: &[&str]) -> Output {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    std::process::Command::new(env!("CARGO_BIN_EXE_agentlog"))
        .args(["conformance", "proxy"])
        .args(args)
        .output()
        .expect("run agentlog")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every scenario: its id and its file as JSON.
fn scenarios() -> Vec<(String, Value)> {
    cases::manifest()
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == Kind::Proxy)
        .map(|e| {
            let bytes = cases::file(&e.files[0]).unwrap();
            (e.id, serde_json::from_slice(bytes).unwrap())
        })
        .collect()
}

fn ids(filter: impl Fn(&str, &Value) -> bool) -> BTreeSet<String> {
    scenarios()
        .into_iter()
        .filter(|(id, s)| filter(id, s))
        .map(|(id, _)| id)
        .collect()
}

/// The ids on the text lines starting with `verdict ` (`FAIL` lines end the id at `:`).
fn lines(text: &str, verdict: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix(&format!("{verdict} ")))
        .map(|rest| rest.split(':').next().unwrap_or(rest).to_owned())
        .collect()
}

/// Every secret value of every scenario (the harness must never print one).
fn secret_values() -> Vec<String> {
    let mut values = Vec::new();
    for (_, s) in scenarios() {
        for spec in s["secrets"].as_array().into_iter().flatten() {
            let (_, rest) = spec.as_str().unwrap().split_once('=').unwrap();
            values.push(rest.rsplit_once('@').map_or(rest, |(v, _)| v).to_owned());
        }
    }
    assert!(!values.is_empty());
    values
}

fn assert_no_secret(text: &str) {
    for value in secret_values() {
        assert!(
            !text.contains(&value),
            "a secret value was printed:\n{text}"
        );
    }
}

/// Our own proxy with the `--self` template minus `{secrets}`: it injects nothing.
fn no_secrets_template() -> String {
    format!(
        "'{}' proxy --listen {{listen}} --event-log {{log}} --ca-dir {{ca_dir}} --upstream-ca {{upstream_ca}} {{connect_to_flags}} {{scenario_flags}} --quiet",
        env!("CARGO_BIN_EXE_agentlog")
    )
}

/// `template` behind a shell guard that refuses v1 as a port without it must: exit 2 and a
/// message when the scenario's flags ask for `--profile v1`.
fn refusing_v1(template: &str) -> String {
    format!(
        "case \" {{scenario_flags}} \" in *\" --profile v1 \"*) echo 'this port does not support --profile v1' >&2; exit 2;; esac; {template}"
    )
}

fn self_template() -> String {
    format!(
        "'{}' {}",
        env!("CARGO_BIN_EXE_agentlog"),
        agentlog_conformance::proxy::SELF_ARGS
    )
}

#[test]
fn self_passes_every_scenario() {
    let all = ids(|_, _| true);
    assert!(all.len() >= 10, "scenarios missing: {all:?}");
    let out = agentlog(&["--self"]);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(lines(&text, "PASS"), all, "{text}");
    let n = all.len();
    assert!(
        text.ends_with(&format!(
            "{n} of {n} scenarios passed (0 unsupported) (agentlog proxy, --self)\n"
        )),
        "{text}"
    );
}

#[test]
fn a_proxy_that_injects_nothing_fails_exactly_the_scenarios_with_secrets() {
    // Without `{secrets}` the proxy knows no secret: every scenario that configures one
    // expects an injection, a leak refusal or a `skipped`/`injected` event it cannot get;
    // every scenario without secrets is unaffected and still passes.
    let has_secrets = |s: &Value| s["secrets"].as_array().is_some_and(|a| !a.is_empty());
    let with_secrets = ids(|_, s| has_secrets(s));
    let without = ids(|_, s| !has_secrets(s));
    assert!(!with_secrets.is_empty() && !without.is_empty());
    let out = agentlog(&["--cmd", &no_secrets_template()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_eq!(lines(&text, "FAIL"), with_secrets, "{text}");
    assert_eq!(lines(&text, "PASS"), without, "{text}");
    // The expected upstream header names the secret instead of showing its value.
    assert!(
        text.contains("(expected \"Bearer <secret OPENAI_API_KEY>\")"),
        "{text}"
    );
    assert_no_secret(&text);
}

#[test]
fn a_port_that_never_listens_fails_with_a_startup_message() {
    let out = agentlog(&[
        "--cmd",
        "sleep 30",
        "--only",
        "proxy/inject_and_skip",
        "--startup-timeout",
        "0.5",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.starts_with(
            "FAIL proxy/inject_and_skip: startup: the port did not listen on 127.0.0.1:"
        ),
        "{text}"
    );
    assert!(text.contains("within 0.5s"), "{text}");
    assert!(
        text.ends_with("0 of 1 scenarios passed (0 unsupported) (sleep 30)\n"),
        "{text}"
    );
}

#[test]
fn a_port_that_exits_shows_its_stderr_with_secrets_redacted() {
    // The "port" prints its arguments, secrets included, and exits.
    let out = agentlog(&[
        "--cmd",
        "echo broken {secrets} >&2; exit 4",
        "--only",
        "proxy/inject_and_skip",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "FAIL proxy/inject_and_skip: startup: the port exited (exit status 4) before listening"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "output: broken --secret OPENAI_API_KEY=<secret OPENAI_API_KEY>@api.openai.com"
        ),
        "{text}"
    );
    assert_no_secret(&text);
    assert_no_secret(&String::from_utf8_lossy(&out.stderr));
}

#[test]
fn unsupported_scenarios_are_reported_never_passed() {
    let v1 = ids(|id, _| id.starts_with("proxy/v1_"));
    let rest = ids(|id, _| !id.starts_with("proxy/v1_"));
    assert!(!v1.is_empty());
    let out = agentlog(&[
        "--cmd",
        &refusing_v1(&self_template()),
        "--unsupported",
        "proxy/v1_*",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert_eq!(lines(&text, "UNSUPPORTED"), v1, "{text}");
    assert_eq!(lines(&text, "PASS"), rest, "{text}");
    let summary = format!(
        "{} of {} scenarios passed ({} unsupported)",
        rest.len(),
        rest.len() + v1.len(),
        v1.len()
    );
    assert!(text.contains(&summary), "{text}");
}

/// Unsupported means refused: a port that declares scenarios unsupported but starts on them
/// anyway (here our own proxy, which supports them), or exits otherwise than with status 2
/// and a message, fails each of them, naming why.
#[test]
fn a_declared_unsupported_scenario_the_port_does_not_refuse_fails() {
    let v1 = ids(|id, _| id.starts_with("proxy/v1_"));
    let out = agentlog(&[
        "--self",
        "--unsupported",
        "proxy/v1_*",
        "--only",
        "proxy/v1_*",
    ]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_eq!(lines(&text, "FAIL"), v1, "{text}");
    assert!(
        text.lines().all(|l| !l.starts_with("FAIL")
            || l.contains(
                ": declared unsupported, but the port started (it listens on 127.0.0.1:"
            )),
        "{text}"
    );
    for (command, why) in [
        ("exit 2", "the port exited 2 but wrote no message on stderr"),
        (
            "echo no v1 >&2; exit 1",
            "the port exited (exit status 1) before listening on 127.0.0.1:",
        ),
        (
            "echo {secrets} >&2; exit 2",
            "secrets: the port's output contains the value of secret OPENAI_API_KEY",
        ),
    ] {
        let out = agentlog(&[
            "--cmd",
            command,
            "--unsupported",
            "proxy/inject_and_skip",
            "--only",
            "proxy/inject_and_skip",
        ]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(
            text.starts_with("FAIL proxy/inject_and_skip: ") && text.contains(why),
            "{text}"
        );
        assert_no_secret(&text);
    }
}

/// Verdicts by id from the JUnit XML (`pass`, `fail` or `unsupported`), read back with
/// quick-junit's parser; the suite's counts must agree with its test cases.
fn junit_verdicts(xml: &str) -> Vec<(String, String)> {
    let report = quick_junit::Report::deserialize_from_str(xml).unwrap();
    let suite = &report.test_suites[0];
    let verdicts: Vec<(String, String)> = suite
        .test_cases
        .iter()
        .map(|case| {
            let verdict = match &case.status {
                quick_junit::TestCaseStatus::Success { .. } => "pass",
                quick_junit::TestCaseStatus::NonSuccess { .. } => "fail",
                quick_junit::TestCaseStatus::Skipped { message, .. } => {
                    assert_eq!(
                        message.as_ref().map(|m| m.as_str()),
                        Some("declared unsupported")
                    );
                    "unsupported"
                }
            };
            (case.name.to_string(), verdict.to_owned())
        })
        .collect();
    let count = |v: &str| verdicts.iter().filter(|(_, x)| x == v).count();
    assert_eq!(suite.tests, verdicts.len());
    assert_eq!(suite.failures, count("fail"));
    assert_eq!(suite.skipped, count("unsupported"));
    verdicts
}

#[test]
fn json_and_junit_agree_with_the_text() {
    // A failing port with some scenarios declared unsupported: all three verdicts appear.
    let template = refusing_v1(&no_secrets_template());
    let args = |format: &'static str| -> Vec<String> {
        [
            "--cmd",
            &template,
            "--unsupported",
            "proxy/v1_*",
            "--format",
            format,
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let run = |format| {
        let args = args(format);
        let out = agentlog(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
        stdout(&out)
    };
    let text = run("text");
    let mut from_text: Vec<(String, String)> = Vec::new();
    for (verdict, label) in [
        ("PASS", "pass"),
        ("FAIL", "fail"),
        ("UNSUPPORTED", "unsupported"),
    ] {
        from_text.extend(
            lines(&text, verdict)
                .into_iter()
                .map(|id| (id, label.to_owned())),
        );
    }
    from_text.sort();
    assert!(
        from_text.iter().any(|(_, v)| v == "unsupported")
            && from_text.iter().any(|(_, v)| v == "fail")
    );

    let json: Value = serde_json::from_str(&run("json")).expect("--format json is JSON");
    let mut from_json: Vec<(String, String)> = json["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_owned(),
                s["verdict"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    from_json.sort();
    assert_eq!(from_json, from_text);
    let count = |v: &str| from_text.iter().filter(|(_, x)| x == v).count();
    assert_eq!(json["passed"], count("pass"));
    assert_eq!(json["failed"], count("fail"));
    assert_eq!(json["unsupported"], count("unsupported"));
    assert!(json["scenarios"].as_array().unwrap().iter().all(|s| {
        (s["verdict"] == "fail") == s["differences"].as_array().is_some_and(|d| !d.is_empty())
    }));

    let xml = run("junit");
    let mut from_junit = junit_verdicts(&xml);
    from_junit.sort();
    assert_eq!(from_junit, from_text);
    assert_no_secret(&text);
    assert_no_secret(&json.to_string());
    assert_no_secret(&xml);
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &[][..],
        &["--self", "--cmd", "x"],
        &["--cmd", "prog {lisen}"],
        &["--self", "--only", "proxy/no_such_scenario"],
        &["--self", "--unsupported-from", "/nonexistent/list"],
    ] {
        let out = agentlog(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
