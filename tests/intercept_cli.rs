//! The `agentlog demo` command end to end (mock upstream, fixture and proxy in-process).

use assert_cmd::Command;

#[test]
fn demo_writes_a_valid_log_and_summarizes_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("agentlog")
        .unwrap()
        .args(["demo", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("valid: 17 lines"), "{stdout}");
    let log = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 17);
    assert!(log.contains("\"action\":\"leak_blocked\""));
    assert!(!log.contains("sk-demo-openai"));
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
