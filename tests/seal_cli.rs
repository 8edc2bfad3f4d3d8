// A test crate: a failed unwrap or index fails the test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub,
    missing_docs
)]
//! `agentlog keygen`, `seal` and `verify` as a user runs them: exit codes, the line each
//! finding names, JSON output, refusals, and nothing secret in any output.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn agentlog() -> Command {
    Command::cargo_bin("agentlog").expect("binary built")
}

const LOG: &str = "{\"ts\":\"2026-12-06T23:00:00Z\",\"event_type\":\"a\"}\n{\"ts\":\"2026-12-06T23:00:01Z\",\"event_type\":\"b\"}\n{\"ts\":\"2026-12-06T23:00:02Z\",\"event_type\":\"c\"}\n";

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = agentlog().current_dir(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_signed_seal_verifies_and_each_tampering_fails_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("events.jsonl"), LOG).unwrap();
    assert_eq!(run(d, &["keygen", "."]).0, 0);
    let (code, _, err) = run(d, &["seal", "--key", "seal.key", "events.jsonl"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("sealed lines 1-3 (1 checkpoint(s), signed)"),
        "{err}"
    );
    let (code, out, _) = run(d, &["verify", "--pubkey", "seal.pub", "events.jsonl"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("events.jsonl: ok: 3 line(s) sealed by 1 checkpoint(s), signatures verified")
    );

    // A line edited: exit 1, the line named, in text and in JSON.
    std::fs::write(d.join("events.jsonl"), LOG.replace("\"b\"", "\"B\"")).unwrap();
    let (code, out, _) = run(d, &["verify", "--pubkey", "seal.pub", "events.jsonl"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("events.jsonl:2: error: seal.line_changed"),
        "{out}"
    );
    let (code, out, _) = run(d, &["verify", "--format", "json", "events.jsonl"]);
    assert_eq!(code, 1);
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["passed"], false);
    assert_eq!(json["files"][0]["findings"][0]["rule"], "seal.line_changed");
    assert_eq!(json["files"][0]["findings"][0]["line"], 2);
    // A log cut short is never sealed over: its last checkpoint no longer ends a line.
    std::fs::write(d.join("events.jsonl"), &LOG[..LOG.len() - 5]).unwrap();
    let (code, _, err) = run(d, &["seal", "events.jsonl"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("events.jsonl.seal:1"), "{err}");
}

#[test]
fn an_unsealed_tail_fails_unless_allowed_and_sealing_again_covers_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("l.jsonl"), LOG).unwrap();
    assert_eq!(run(d, &["seal", "l.jsonl"]).0, 0);
    let mut more = LOG.to_owned();
    more.push_str("{\"event_type\":\"d\"}\n{\"event_type\":\"e");
    std::fs::write(d.join("l.jsonl"), &more).unwrap();
    let (code, out, _) = run(d, &["verify", "l.jsonl"]);
    assert_eq!(code, 1);
    assert!(out.contains("l.jsonl:4: error: seal.unsealed_tail: 1 line(s) from line 4 are not sealed, and 16 byte(s) of a line not ended"), "{out}");
    let (code, out, _) = run(d, &["verify", "--allow-tail", "l.jsonl"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("note: seal.unsealed_tail"), "{out}");
    let (code, _, err) = run(d, &["seal", "l.jsonl"]);
    assert_eq!(code, 0);
    assert!(err.contains("sealed lines 4-4"), "{err}");
    assert!(
        err.contains("16 byte(s) of a line not ended yet are left"),
        "{err}"
    );
}

#[test]
fn usage_and_io_errors_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("l.jsonl"), LOG).unwrap();
    assert_eq!(run(d, &["keygen", "."]).0, 0);
    let (code, _, err) = run(d, &["keygen", "."]);
    assert_eq!(code, 2);
    assert!(err.contains("already there; not replaced"), "{err}");
    let (code, _, err) = run(d, &["seal", "--key", "seal.pub", "l.jsonl"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("holds a public key where a secret key belongs"),
        "{err}"
    );
    let (code, _, err) = run(d, &["verify", "--pubkey", "seal.key", "l.jsonl"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("holds a secret key where a public key belongs"),
        "{err}"
    );
    // The secret key's digits are in no output.
    let seed = std::fs::read_to_string(d.join("seal.key")).unwrap();
    let digits = seed.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(!err.contains(&digits));
    let (code, _, err) = run(d, &["verify", "missing.jsonl"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(d, &["verify", "."]);
    assert_eq!(code, 2);
    assert!(err.contains("a directory"), "{err}");
    // No seal: a failure of the log, not a usage error.
    let (code, out, _) = run(d, &["verify", "l.jsonl"]);
    assert_eq!(code, 1);
    assert!(out.contains("seal.missing"), "{out}");
}

#[test]
fn a_file_name_that_is_a_key_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let name = "AKIAZQ7VK2PX9MW4NR8T.jsonl";
    std::fs::write(d.join(name), LOG).unwrap();
    let (code, _, err) = run(d, &["seal", name]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("AKIAZQ7VK2PX9MW4NR8T"), "{err}");
    for format in ["text", "json"] {
        let (code, out, err) = run(d, &["verify", "--format", format, name]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(!out.contains("AKIAZQ7VK2PX9MW4NR8T"), "{out}");
        assert!(!err.contains("AKIAZQ7VK2PX9MW4NR8T"), "{err}");
    }
}
