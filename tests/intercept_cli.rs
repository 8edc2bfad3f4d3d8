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
//! The `agentlog demo` command end to end (mock upstream, fixture and proxy in-process).

use assert_cmd::Command;

/// Runs `agentlog demo ARGS --out DIR`; the successful run's stdout.
fn demo(args: &[&str], dir: &std::path::Path) -> String {
    let out = Command::cargo_bin("agentlog")
        .unwrap()
        .arg("demo")
        .args(args)
        .arg("--out")
        .arg(dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn demo_writes_a_valid_log_and_summarizes_it() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = demo(&[], dir.path());
    // The verdict is the validator library's (schemas, and the demo's secrets supplied to
    // its secret-value scan): its summary line, with no finding printed before it.
    assert!(
        stdout.contains(
            "\nok: 1 file(s), 17 line(s), 17 event(s) checked; 0 error(s), 0 warning(s)\n"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("error["), "{stdout}");
    assert!(stdout.contains("key_injection      9"), "{stdout}");
    let log = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 17);
    assert!(log.contains("\"action\":\"leak_blocked\""));
    assert!(!log.contains("sk-demo-openai"));
    assert!(!log.contains("sk-ant-demo"));
}

#[test]
fn demo_profile_v1_gates_routes_and_validates_under_v1() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = demo(&["--profile", "v1"], dir.path());
    assert!(
        stdout.contains("host outside the allowlist               -> 403 Forbidden"),
        "{stdout}"
    );
    assert!(
        stdout.contains("anthropic message (routed to local)      -> 200 OK"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "\nok: 1 file(s), 27 line(s), 27 event(s) checked; 0 error(s), 0 warning(s)\n"
        ),
        "{stdout}"
    );
    for line in [
        "gate_decision      6",
        "route_decision     5",
        "request_transform  5",
        "http_request       4",
        "response_transform 3",
        "http_response      4",
    ] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    let log = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    assert!(!log.contains("key_injection") && !log.contains("llm_request"));
    assert!(log.contains("\"action\":\"redirected\""));
    assert!(!log.contains("sk-demo-openai") && !log.contains("sk-ant-demo"));
}

#[test]
fn demo_with_a_tiny_budget_refuses_llm_requests_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = demo(&["--budget-usd", "0.000001"], dir.path());
    assert_eq!(
        stdout.matches("-> 429 Too Many Requests").count(),
        3,
        "{stdout}"
    );
    assert!(stdout.contains("budget_action      3"), "{stdout}");
    assert!(stdout.contains("3 request(s) refused"), "{stdout}");
    assert!(stdout.contains("0 error(s), 0 warning(s)"), "{stdout}");
    let log = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    assert_eq!(log.matches("\"action\":\"blocked\"").count(), 3);
}

#[test]
fn demo_prints_tokens_and_spend_per_model() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = demo(&[], dir.path());
    // 12 + 9 input and 5 + 3 output tokens of gpt-4o-mini at $0.15 and $0.60 per million:
    // 21 * 0.15e-6 + 8 * 0.6e-6 = $0.00000795.
    assert!(
        stdout.contains(
            "gpt-4o-mini-2024-07-18        2 response(s)     21 in      8 out  $0.000008"
        ),
        "{stdout}"
    );
    // 21 input and 8 output tokens of claude-sonnet-4-5 at $3 and $15 per million.
    assert!(
        stdout.contains(
            "claude-sonnet-4-5-20250929    1 response(s)     21 in      8 out  $0.000183"
        ),
        "{stdout}"
    );
}

#[test]
fn a_bad_price_table_names_the_file_and_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let prices = dir.path().join("prices.json");
    std::fs::write(&prices, r#"{"ok": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}, "gpt-x": {"input_cost_per_token": "abc", "output_cost_per_token": 1e-6}}"#).unwrap();
    let out = Command::cargo_bin("agentlog")
        .unwrap()
        .args(["proxy", "--ca-dir"])
        .arg(dir.path().join("ca"))
        .arg("--prices")
        .arg(&prices)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("prices.json"), "{stderr}");
    assert!(
        stderr.contains("entry \"gpt-x\": input_cost_per_token must be a non-negative number"),
        "{stderr}"
    );
}

#[test]
fn proxy_rejects_a_bad_secret_without_echoing_it() {
    let out = Command::cargo_bin("agentlog")
        .unwrap()
        .args([
            "proxy",
            "--ca-dir",
            "/nonexistent-unused",
            "--secret",
            "bad name=sk-hidden-value@h",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("sk-hidden-value"), "{stderr}");
}
