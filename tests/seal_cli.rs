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
fn keygen_creates_a_missing_directory_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run(dir.path(), &["keygen", "keys/new"]);
    assert_eq!(code, 0, "{err}");
    let keys = dir.path().join("keys/new");
    assert!(keys.join("seal.key").is_file() && keys.join("seal.pub").is_file());
    let mode = std::fs::metadata(&keys).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "{mode:o}");
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

/// What the first attack on the landed build found, each now held: a key split in a seal
/// file, and files that are not regular.
#[test]
fn the_first_attack_s_findings_are_held() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("l.jsonl"), LOG).unwrap();
    assert_eq!(run(d, &["keygen", "."]).0, 0);

    // A key split by a newline in a member's name: no half of it in any output.
    std::fs::write(
        d.join("l.jsonl.seal"),
        "{\"agentlog_seal\":1,\"AKIAZQ7VK2\\nPX9MW4NR8T\":3}\n",
    )
    .unwrap();
    for args in [
        &["verify", "l.jsonl"][..],
        &["verify", "--format", "json", "l.jsonl"],
        &["seal", "l.jsonl"],
    ] {
        let (code, out, err) = run(d, args);
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        for half in ["AKIAZQ7VK2", "PX9MW4NR8T"] {
            assert!(
                !out.contains(half) && !err.contains(half),
                "{args:?}: {out}{err}"
            );
        }
    }
    let (_, out, _) = run(d, &["verify", "--format", "json", "l.jsonl"]);
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["files"][0]["findings"][0]["rule"], "seal.malformed");

    // Not regular files: refused at once, never read forever or waited on.
    std::fs::remove_file(d.join("l.jsonl.seal")).unwrap();
    symlink("/dev/zero", d.join("l.jsonl.seal")).unwrap();
    symlink("/dev/zero", d.join("zero.jsonl")).unwrap();
    nix_mkfifo(&d.join("fifo.pub"));
    for args in [
        &["verify", "l.jsonl"][..],
        &["seal", "l.jsonl"],
        &["verify", "zero.jsonl"],
        &["seal", "zero.jsonl"],
        &["verify", "--pubkey", "fifo.pub", "l.jsonl"],
        &["seal", "--key", "/dev/zero", "l.jsonl"],
    ] {
        let out = agentlog()
            .current_dir(d)
            .args(args)
            .timeout(std::time::Duration::from_secs(20))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?} did not end with a usage/I-O error"
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("regular file"),
            "{args:?}"
        );
    }
}

#[test]
fn one_unreadable_log_a_cut_seal_and_a_dangling_key_link_are_handled() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("l.jsonl"), LOG).unwrap();

    // One unreadable log does not hide another's verdict.
    assert_eq!(run(d, &["seal", "l.jsonl"]).0, 0);
    std::fs::write(d.join("l.jsonl"), LOG.replace("\"a\"", "\"A\"")).unwrap();
    let (code, out, err) = run(d, &["verify", "l.jsonl", "missing.jsonl"]);
    assert_eq!(code, 2, "{err}");
    assert!(out.contains("l.jsonl:1: error: seal.line_changed"), "{out}");
    assert!(err.contains("missing.jsonl"), "{err}");

    // A seal whose last newline is gone is cut short: refused, never extended onto one line.
    std::fs::write(d.join("l.jsonl"), LOG).unwrap();
    let seal = std::fs::read_to_string(d.join("l.jsonl.seal")).unwrap();
    std::fs::write(d.join("l.jsonl.seal"), seal.trim_end()).unwrap();
    let (code, out, _) = run(d, &["verify", "l.jsonl"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("l.jsonl.seal:1: error: seal.malformed"),
        "{out}"
    );
    std::fs::write(d.join("l.jsonl"), format!("{LOG}{{}}\n")).unwrap();
    let (code, _, err) = run(d, &["seal", "l.jsonl"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        std::fs::read_to_string(d.join("l.jsonl.seal")).unwrap(),
        seal.trim_end()
    );

    // keygen writes nothing through a dangling symlink, and no half pair.
    let keys = d.join("keys");
    std::fs::create_dir(&keys).unwrap();
    symlink(d.join("nowhere"), keys.join("seal.pub")).unwrap();
    let (code, _, err) = run(d, &["keygen", "keys"]);
    assert_eq!(code, 2, "{err}");
    assert!(!keys.join("seal.key").exists() && !d.join("nowhere").exists());
}

#[test]
fn an_anchor_shows_a_seal_rolled_back_with_every_signature_intact() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(run(d, &["keygen", "."]).0, 0);
    let first: String = LOG.lines().take(2).map(|l| format!("{l}\n")).collect();
    std::fs::write(d.join("l.jsonl"), &first).unwrap();
    assert_eq!(run(d, &["seal", "--key", "seal.key", "l.jsonl"]).0, 0);
    let after_first = std::fs::read_to_string(d.join("l.jsonl.seal")).unwrap();
    std::fs::write(d.join("l.jsonl"), LOG).unwrap();
    let (code, _, err) = run(d, &["seal", "--key", "seal.key", "l.jsonl"]);
    assert_eq!(code, 0);
    let anchor = err.rsplit("last digest ").next().unwrap().trim().to_owned();
    assert_eq!(anchor.len(), 64, "{err}");
    let ok = [
        "verify", "--pubkey", "seal.pub", "--anchor", &anchor, "l.jsonl",
    ];
    assert_eq!(run(d, &ok).0, 0);
    // Rolled back: the last checkpoint and the line it covered removed.
    std::fs::write(d.join("l.jsonl.seal"), &after_first).unwrap();
    std::fs::write(d.join("l.jsonl"), &first).unwrap();
    assert_eq!(run(d, &["verify", "--pubkey", "seal.pub", "l.jsonl"]).0, 0);
    let (code, out, _) = run(d, &ok);
    assert_eq!(code, 1);
    assert!(out.contains("seal.anchor_missing"), "{out}");
    let (code, _, err) = run(d, &["verify", "--anchor", &anchor, "l.jsonl", "l.jsonl"]);
    assert_eq!(code, 2, "{err}");
}

fn nix_mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

/// What the second attack found, each now held: a deleted log reported as passed in JSON, and
/// a key split by a newline in a path printed by an error message.
#[test]
fn the_second_attack_s_findings_are_held() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("l.jsonl"), LOG).unwrap();
    assert_eq!(run(d, &["seal", "l.jsonl"]).0, 0);
    std::fs::remove_file(d.join("l.jsonl")).unwrap();
    let (code, out, _) = run(d, &["verify", "--format", "json", "l.jsonl"]);
    assert_eq!(code, 2);
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["passed"], false, "{out}");
    assert_eq!(json["files"][0]["passed"], false, "{out}");
    assert!(json["files"][0]["error"].is_string(), "{out}");

    // Error messages are one line each, judged whole: no half of a split key, no forged line.
    // (A file where keygen's directory would go makes it fail: it creates one that is missing.)
    std::fs::write(d.join("AKIAZQ7VK2\nPX9MW4NR8T"), "").unwrap();
    for args in [
        &["verify", "missing/AKIAZQ7VK2\nPX9MW4NR8T"][..],
        &["seal", "missing/AKIAZQ7VK2\nPX9MW4NR8T"],
        &["verify", "--pubkey", "AKIAZQ7VK2\nPX9MW4NR8T", "x"],
        &["keygen", "AKIAZQ7VK2\nPX9MW4NR8T"],
        &["verify", "nope\nbase.jsonl: ok: forged"],
    ] {
        let (code, out, err) = run(d, args);
        assert_eq!(code, 2, "{args:?}: {err}");
        for half in ["AKIAZQ7VK2", "PX9MW4NR8T"] {
            assert!(
                !out.contains(half) && !err.contains(half),
                "{args:?}: {err}"
            );
        }
        assert!(
            !err.lines().any(|l| l.starts_with("base.jsonl: ok")),
            "{err}"
        );
    }
}

/// What the third attack found in paths: a key split over directories, by a space or another
/// visible separator, or written as byte values joined by `_`, is never printed.
#[test]
fn a_key_split_over_a_path_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bytes: Vec<String> = "AKIAZQ7VK2PX9MW4NR8T"
        .bytes()
        .map(|b| b.to_string())
        .collect();
    let listed = format!("{}.jsonl", bytes.join("_"));
    std::fs::create_dir(d.join("AKIAZQ7V")).unwrap();
    // A file where keygen's directory would go: it fails (it creates a missing one).
    std::fs::write(d.join("AKIAZQ7V/K2PX9MW4NR8T"), "").unwrap();
    // In errors too: a log, a key or a directory that is not there.
    for args in [
        &["verify", "AKIAZQ7V/K2PX9MW4NR8T-gone.jsonl"][..],
        &["seal", "AKIAZQ7V/K2PX9MW4NR8T-gone.jsonl"],
        &["verify", "--pubkey", "AKIAZQ7V/K2PX9MW4NR8T.pub", "x.jsonl"],
        &["seal", "--key", "AKIAZQ7V/K2PX9MW4NR8T.key", "x.jsonl"],
        &["keygen", "AKIAZQ7V/K2PX9MW4NR8T"],
        // Every command that reads paths, the key split by a space in a missing one.
        &["validate", "gone/AKIAZQ7V K2PX9MW4NR8T.jsonl"],
        &["analyze", "gone/AKIAZQ7V K2PX9MW4NR8T.jsonl"],
        &["seal", "gone/AKIAZQ7V K2PX9MW4NR8T.jsonl"],
    ] {
        let (code, out, err) = run(d, args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            !out.contains("K2PX9MW4NR8T") && !err.contains("K2PX9MW4NR8T"),
            "{args:?}: {err}"
        );
    }
    for name in [
        "AKIAZQ7V/K2PX9MW4NR8T.jsonl",
        "AKIAZQ7V K2PX9MW4NR8T.jsonl",
        "AKIAZQ7V+K2PX9MW4NR8T.jsonl",
        listed.as_str(),
    ] {
        std::fs::write(d.join(name), LOG).unwrap();
        for args in [
            &["seal", name][..],
            &["verify", name],
            &["verify", "--format", "json", name],
        ] {
            let (_, out, err) = run(d, args);
            for shown in [&out, &err] {
                assert!(
                    !shown.contains("K2PX9MW4NR8T") && !shown.contains(&bytes[4..].join("_")),
                    "{args:?}: {shown}"
                );
            }
        }
    }
}

#[cfg(unix)]
#[test]
fn a_seal_file_that_is_a_symlink_is_never_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("events.jsonl"), LOG).unwrap();
    let target = d.join("elsewhere");
    // Dangling, then pointing at a file: refused both times, the target untouched.
    std::os::unix::fs::symlink(&target, d.join("events.jsonl.seal")).unwrap();
    let (code, _, err) = run(d, &["seal", "events.jsonl"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("symlink"), "{err}");
    assert!(!target.exists(), "nothing was created through the symlink");
    // Pointing at a file: read as the seal (not one here), never written.
    std::fs::write(&target, "precious\n").unwrap();
    let (code, _, err) = run(d, &["seal", "events.jsonl"]);
    assert_ne!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
    // An empty file: a seal with no checkpoint yet, still not written through the link.
    std::fs::write(&target, "").unwrap();
    let (code, _, err) = run(d, &["seal", "events.jsonl"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("symlink"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "");
}

#[test]
fn a_key_that_extends_a_chain_it_did_not_sign_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(run(d, &["keygen", "."]).0, 0);
    let log = d.join("events.jsonl");
    std::fs::write(&log, LOG).unwrap();
    let warning = "earlier checkpoint(s) are not signed by this key";
    // Unsigned first, then signed: sealed, with a warning.
    assert_eq!(run(d, &["seal", "events.jsonl"]).0, 0);
    let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    std::io::Write::write_all(&mut file, b"{\"ts\":\"2026-12-06T23:00:03Z\"}\n").unwrap();
    let (code, _, err) = run(d, &["seal", "--key", "seal.key", "events.jsonl"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&format!("1 {warning}")), "{err}");
    let (code, out, _) = run(d, &["verify", "--pubkey", "seal.pub", "events.jsonl"]);
    assert_eq!(code, 1, "{out}");
    // A chain the key signed from the start: no warning.
    let signed = d.join("signed.jsonl");
    std::fs::write(&signed, LOG).unwrap();
    assert_eq!(run(d, &["seal", "--key", "seal.key", "signed.jsonl"]).0, 0);
    std::fs::write(
        &signed,
        format!("{LOG}{{\"ts\":\"2026-12-06T23:00:03Z\"}}\n"),
    )
    .unwrap();
    let (code, _, err) = run(d, &["seal", "--key", "seal.key", "signed.jsonl"]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains(warning), "{err}");
}

/// A secret key file its group or others may read or write is refused by every command that
/// loads one (exit 2, the file and its mode named, and the fix), before anything is sealed
/// or started; `chmod 600` makes it usable. keygen's own file is 0600.
#[test]
fn a_secret_key_others_may_read_is_refused_by_every_command() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("l.jsonl"), LOG).unwrap();
    assert_eq!(run(d, &["keygen", "."]).0, 0);
    let key = d.join("seal.key");
    let mode = |m| std::fs::set_permissions(&key, std::fs::Permissions::from_mode(m)).unwrap();
    let ledger = [
        "ledger",
        "log",
        "--dir",
        "L",
        "--agent",
        "a",
        "--tool",
        "t",
        "--status",
        "success",
        "--args-json",
        "{}",
        "--seal",
        "--seal-key",
        "seal.key",
    ];
    let proxy = proxy_sealing_with("seal.key");
    for (m, shown) in [
        (0o644, "0644"),
        (0o640, "0640"),
        (0o604, "0604"),
        (0o620, "0620"),
    ] {
        mode(m);
        for args in [
            &["seal", "--key", "seal.key", "l.jsonl"][..],
            &ledger,
            &proxy,
        ] {
            let out = agentlog()
                .current_dir(d)
                .args(args)
                .timeout(std::time::Duration::from_secs(30))
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.contains(&format!(
                    "seal.key: a secret key file must be private, but its mode {shown} lets its group or others read or write it; run `chmod 600` on it"
                )),
                "{args:?}: {err}"
            );
        }
    }
    assert!(!d.join("l.jsonl.seal").exists() && !d.join("L").join("events.jsonl").exists());
    mode(0o600);
    let (code, _, err) = run(d, &["seal", "--key", "seal.key", "l.jsonl"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(d, &ledger);
    assert_eq!(code, 0, "{err}");
}

/// `proxy --seal-key` refuses a key file it cannot use (one its group or others may read, one
/// that is not there), and `--seal` a proxy with no event log, before it creates anything: no
/// CA directory, no event log, no seal.
#[test]
fn proxy_refuses_its_seal_key_before_creating_anything() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_eq!(run(d, &["keygen", "."]).0, 0);
    let key = d.join("seal.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let names = || {
        let mut names: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let before = names();
    for key in ["seal.key", "absent.key"] {
        let (code, _, err) = run(d, &proxy_sealing_with(key));
        assert_eq!(code, 2, "{key}: {err}");
        assert!(err.contains(key), "{key}: {err}");
        assert_eq!(names(), before, "{key}: {err}");
    }
    // --seal with no event log to seal: refused before the CA is made too.
    let args = [
        "proxy",
        "--ca-dir",
        "ca",
        "--listen",
        "127.0.0.1:0",
        "--seal",
    ];
    let (code, _, err) = run(d, &args);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("give --event-log"), "{err}");
    assert_eq!(names(), before, "{err}");
}

/// `agentlog proxy` arguments that seal its log `p.jsonl` with the secret key file `key`.
fn proxy_sealing_with(key: &str) -> [&str; 9] {
    [
        "proxy",
        "--ca-dir",
        "ca",
        "--listen",
        "127.0.0.1:0",
        "--event-log",
        "p.jsonl",
        "--seal-key",
        key,
    ]
}
