// A test crate: a failed unwrap or index fails the test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::too_many_lines,
    unreachable_pub,
    missing_docs
)]
//! A sealed ledger from the outside: `agentlog ledger log --seal` seals each day file when it
//! rotates, chained to the day before; `agentlog ledger retain --seal` records what it
//! archives; `agentlog verify DIR` checks the whole chain, names each file and line that
//! broke it, accepts the days retention archived, and quotes nothing of a seal.

use std::path::Path;
use std::process::{Command as Process, Stdio};

use agentlog_seal::{Checkpoint, SealFile};
use assert_cmd::Command;

fn agentlog() -> Command {
    Command::cargo_bin("agentlog").expect("binary built")
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = agentlog().current_dir(dir).args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// `ledger log` of one call into `L`, before its `--now` and seal flags.
const LOG: [&str; 12] = [
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
];

/// Sealing with `seal.key`.
const KEYED: [&str; 3] = ["--seal", "--seal-key", "seal.key"];

/// `ledger log` of one call into `L` at `now`, then `seal` (its seal flags, if any).
fn log_args<'a>(now: &'a str, seal: &[&'a str]) -> Vec<&'a str> {
    [&LOG[..], &["--now", now], seal].concat()
}

/// `ledger retain L` at `now`, recording what it archives with `seal.key`.
fn retain_args(now: &str) -> Vec<&str> {
    [&["ledger", "retain", "L", "--now", now][..], &KEYED].concat()
}

/// Logs one call at `now` into `dir/L`, sealing with `seal.key`.
fn log_at(dir: &Path, now: &str) {
    let args = log_args(now, &KEYED);
    let (code, _, err) = run(dir, &args);
    assert_eq!(code, 0, "{err}");
}

/// A directory with a key pair (`seal.key`, `seal.pub`).
fn keyed_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(run(dir.path(), &["keygen", "."]).0, 0);
    dir
}

/// A key pair and a ledger of three sealed days (two records on the 1st), the 4th current.
fn sealed_ledger() -> tempfile::TempDir {
    let dir = keyed_dir();
    let d = dir.path();
    for now in [
        "2026-12-01T10:00:00Z",
        "2026-12-01T11:00:00Z",
        "2026-12-02T10:00:00Z",
        "2026-12-03T10:00:00Z",
        "2026-12-04T09:00:00Z",
    ] {
        log_at(d, now);
    }
    dir
}

fn verify(d: &Path) -> (i32, String, String) {
    run(d, &["verify", "--pubkey", "seal.pub", "L"])
}

#[test]
fn days_sealed_at_rotation_verify_as_one_chain() {
    let dir = sealed_ledger();
    let d = dir.path();
    for day in ["20261201", "20261202", "20261203"] {
        assert!(
            d.join(format!("L/events_{day}.jsonl.seal")).exists(),
            "{day}"
        );
    }
    assert!(!d.join("L/events.jsonl.seal").exists());
    let second = SealFile::read(&d.join("L/events_20261202.jsonl.seal"))
        .unwrap()
        .unwrap();
    let link = second.checkpoints[0].link.clone().unwrap();
    assert_eq!(link.file, "events_20261201.jsonl");
    let (code, out, err) = verify(d);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(
            "L/events_20261201.jsonl: ok: 2 line(s) sealed by 1 checkpoint(s), signatures verified"
        ),
        "{out}"
    );
    assert!(
        out.contains("L/events.jsonl: note: seal.current_unsealed"),
        "{out}"
    );
    assert!(
        out.contains("L: ok: ledger of 3 day file(s) and 0 archive part(s)"),
        "{out}"
    );
    // JSON: the directory's verdict with its files.
    let (code, out, _) = run(d, &["verify", "--format", "json", "L"]);
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["passed"], true);
    assert_eq!(doc["ledgers"][0]["days"], 3);
    assert_eq!(doc["ledgers"][0]["files"].as_array().unwrap().len(), 3);
}

#[test]
fn a_removed_day_is_named_with_or_without_its_seal() {
    let dir = sealed_ledger();
    let d = dir.path();
    std::fs::remove_file(d.join("L/events_20261202.jsonl")).unwrap();
    let (code, out, _) = verify(d);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("L/events_20261202.jsonl: error: seal.file_missing"),
        "{out}"
    );
    assert!(out.contains("L: FAILED"), "{out}");
    std::fs::remove_file(d.join("L/events_20261202.jsonl.seal")).unwrap();
    let (code, out, _) = verify(d);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("L/events_20261203.jsonl.seal:1: error: seal.linked_file_missing: the previous day file named here, events_20261202.jsonl,"),
        "{out}"
    );
}

#[test]
fn an_edited_line_of_an_earlier_day_is_named_by_file_and_line() {
    let dir = sealed_ledger();
    let d = dir.path();
    let path = d.join("L/events_20261201.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let edited =
        text.replacen("\"success\"", "\"denied\"", 2)
            .replacen("\"denied\"", "\"success\"", 1);
    assert_ne!(text, edited);
    std::fs::write(&path, edited).unwrap();
    let (code, out, _) = verify(d);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("L/events_20261201.jsonl:2: error: seal.line_changed"),
        "{out}"
    );
    assert!(!out.contains("denied"), "a line quoted: {out}");
}

#[test]
fn days_retention_archived_are_recorded_gaps_and_checked_in_the_archive() {
    let dir = sealed_ledger();
    let d = dir.path();
    let args = retain_args("2026-12-11T12:00:00Z");
    let (code, out, err) = run(d, &args);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("retention recorded (archive/events_20261201.jsonl.gz)"),
        "{err}"
    );
    assert!(!d.join("L/events_20261201.jsonl").exists());
    assert!(d.join("L/stats_20261201.json").exists());
    let (code, out, err) = verify(d);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("L/archive/events_20261201.jsonl.gz: ok: 2 line(s) sealed by 2 checkpoint(s)"),
        "{out}"
    );
    assert!(
        out.contains("L: ok: ledger of 1 day file(s) and 3 archive part(s)"),
        "{out}"
    );
    // Run again: nothing to do, nothing recorded twice.
    let (code, _, err) = run(d, &args);
    assert_eq!(code, 0);
    assert!(!err.contains("retention recorded"), "{err}");
    // A late record of an archived day (it starts `events.jsonl` again): rotated by the
    // next retention, it is sealed as a new segment of the day's seal, and archived as the
    // next part, recorded too.
    log_at(d, "2026-12-01T12:00:00Z");
    let (code, out, _) = verify(d);
    assert_eq!(code, 0, "{out}");
    let (code, _, err) = run(d, &args);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("retention recorded (archive/events_20261201-1.jsonl.gz)"),
        "{err}"
    );
    let (code, out, _) = verify(d);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(
            "L/archive/events_20261201-1.jsonl.gz: ok: 1 line(s) sealed by 2 checkpoint(s)"
        ),
        "{out}"
    );
    assert!(
        out.contains("L: ok: ledger of 1 day file(s) and 4 archive part(s)"),
        "{out}"
    );
    // The archive part removed: the records are gone, and that is not a recorded gap.
    std::fs::remove_file(d.join("L/archive/events_20261202.jsonl.gz")).unwrap();
    let (code, out, _) = verify(d);
    assert_eq!(code, 1);
    assert!(
        out.contains("L/events_20261202.jsonl.seal:2: error: seal.archive_missing"),
        "{out}"
    );
}

/// A retention record appended to `seal` by someone without the key: a well-formed
/// checkpoint with the right digest, unsigned (or signed by `key` when given).
fn forge_record(seal: &Path, key: Option<&agentlog_seal::SecretKey>) {
    let file = SealFile::read(seal).unwrap().unwrap();
    let last = file.checkpoints.last().unwrap();
    let mut record: Checkpoint = last.clone();
    record.prev = last.digest;
    record.line_hashes = Vec::new();
    record.link = None;
    record.signature = None;
    record.retained = Some("archive/events_20261202.jsonl.gz".to_owned());
    record.digest = record.expected_digest();
    if let Some(key) = key {
        record.signature = Some((key.sign(&record.digest), key.public().to_bytes()));
    }
    let mut text = std::fs::read_to_string(seal).unwrap();
    text.push_str(&record.to_line());
    text.push('\n');
    std::fs::write(seal, text).unwrap();
}

#[test]
fn a_forged_retention_record_fails() {
    let dir = sealed_ledger();
    let d = dir.path();
    let seal = d.join("L/events_20261202.jsonl.seal");
    let original = std::fs::read(&seal).unwrap();
    std::fs::remove_file(d.join("L/events_20261202.jsonl")).unwrap();
    // Unsigned: the key's verifier refuses it; without a key, the part it names is missing.
    forge_record(&seal, None);
    let (code, out, _) = verify(d);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("seal.unsigned"), "{out}");
    let (code, out, _) = run(d, &["verify", "L"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("seal.archive_missing"), "{out}");
    // Signed by another key.
    std::fs::write(&seal, &original).unwrap();
    std::fs::create_dir(d.join("other")).unwrap();
    assert_eq!(run(d, &["keygen", "other"]).0, 0);
    let other = agentlog_seal::SecretKey::read(&d.join("other/seal.key")).unwrap();
    forge_record(&seal, Some(&other));
    let (code, out, _) = verify(d);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("L/events_20261202.jsonl.seal:2: error: seal.other_key"),
        "{out}"
    );
}

#[test]
fn a_seal_holding_a_secret_is_refused_without_quoting_it() {
    let dir = sealed_ledger();
    let d = dir.path();
    let seal = d.join("L/events_20261203.jsonl.seal");
    let text = std::fs::read_to_string(&seal).unwrap();
    let secret = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
    std::fs::write(&seal, text.replace("events_20261202.jsonl", secret)).unwrap();
    let (code, out, err) = verify(d);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("L/events_20261203.jsonl.seal:1: error: seal.malformed: not a checkpoint: `prev_file` is not a ledger file name"),
        "{out}"
    );
    assert!(
        !out.contains("AbCdEf") && !err.contains("AbCdEf"),
        "{out}{err}"
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("empty")).unwrap();
    let (code, _, err) = run(d, &["verify", "empty"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("empty: a directory, but not a ledger directory"),
        "{err}"
    );
    // --seal-key without --seal is a usage error; a missing key names its file.
    let base = LOG;
    let (code, _, _) = run(d, &[&base[..], &["--seal-key", "k"]].concat());
    assert_eq!(code, 2);
    let (code, _, err) = run(
        d,
        &[&base[..], &["--seal", "--seal-key", "nokey.key"]].concat(),
    );
    assert_eq!(code, 2);
    assert!(err.contains("nokey.key"), "{err}");
    // --anchor names one log's checkpoint, not a directory's.
    let ledger = sealed_ledger();
    let anchor = "0".repeat(64);
    let (code, _, err) = run(ledger.path(), &["verify", "--anchor", &anchor, "L"]);
    assert_eq!(code, 2);
    assert!(err.contains("not of a ledger directory"), "{err}");
}

#[test]
fn writers_sharing_a_directory_seal_each_rotation_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Processes with clocks on either side of midnight, all at once: whichever comes first,
    // the day that rotates is sealed once and the late records extend its seal.
    let bin = assert_cmd::cargo::cargo_bin("agentlog");
    let children: Vec<_> = (0..8)
        .map(|i| {
            let now = if i % 2 == 0 {
                format!("2026-12-01T23:59:{:02}Z", 50 + i)
            } else {
                format!("2026-12-02T00:00:{i:02}Z")
            };
            Process::new(&bin)
                .current_dir(d)
                .args(LOG)
                .args(["--now", &now, "--seal"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let day = std::fs::read_to_string(d.join("L/events_20261201.jsonl")).unwrap();
    let current = std::fs::read_to_string(d.join("L/events.jsonl")).unwrap();
    assert_eq!(day.lines().count() + current.lines().count(), 8);
    let seal = SealFile::read(&d.join("L/events_20261201.jsonl.seal"))
        .unwrap()
        .unwrap();
    // Every checkpoint adds lines: none was made twice for the same lines.
    assert!(seal.checkpoints.iter().all(|c| !c.line_hashes.is_empty()));
    assert_eq!(
        seal.checkpoints.last().unwrap().lines,
        day.lines().count() as u64
    );
    let (code, out, _) = run(d, &["verify", "L"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_sealing_that_fails_keeps_the_record_and_names_the_file() {
    let dir = keyed_dir();
    let d = dir.path();
    log_at(d, "2026-12-01T10:00:00Z");
    // A symlink where the seal goes: never written through.
    std::os::unix::fs::symlink("elsewhere", d.join("L/events_20261201.jsonl.seal")).unwrap();
    let args = log_args("2026-12-02T10:00:00Z", &KEYED);
    let (code, out, err) = run(d, &args);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains(
            "the record was written, but sealing the day file failed: L/events_20261201.jsonl:"
        ),
        "{err}"
    );
    assert!(err.contains("a symlink"), "{err}");
    assert!(!d.join("elsewhere").exists());
    let current = std::fs::read_to_string(d.join("L/events.jsonl")).unwrap();
    assert_eq!(current.lines().count(), 1);
    // Retention with --seal stops before moving the day it cannot record.
    let retain = retain_args("2026-12-20T00:00:00Z");
    let (code, _, err) = run(d, &retain);
    assert_eq!(code, 1, "{err}");
    assert!(d.join("L/events_20261201.jsonl").exists());
    assert!(!d.join("L/archive/events_20261201.jsonl.gz").exists());
}

#[test]
fn a_day_rotated_without_seal_is_reported_and_sealed_when_retention_archives_it() {
    let dir = keyed_dir();
    let d = dir.path();
    log_at(d, "2026-12-01T10:00:00Z");
    log_at(d, "2026-12-02T10:00:00Z");
    // A writer without --seal rotates the 2nd.
    let plain = log_args("2026-12-03T10:00:00Z", &[]);
    assert_eq!(run(d, &plain).0, 0);
    log_at(d, "2026-12-04T10:00:00Z");
    let (code, out, _) = verify(d);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("L/events_20261202.jsonl: error: seal.file_unsealed"),
        "{out}"
    );
    let retain = retain_args("2026-12-11T00:00:00Z");
    let (code, _, err) = run(d, &retain);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = verify(d);
    assert_eq!(code, 0, "{out}");
}

/// Gzips `text` into `path`.
fn gzip_to(path: &Path, text: &[u8]) {
    use std::io::Write as _;
    let out = std::fs::File::create(path).unwrap();
    let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
    gz.write_all(text).unwrap();
    gz.finish().unwrap();
}

#[test]
fn an_archive_part_no_retention_record_names_fails_without_quoting_it() {
    let dir = sealed_ledger();
    let d = dir.path();
    let retain = retain_args("2026-12-11T12:00:00Z");
    assert_eq!(run(d, &retain).0, 0);
    // A recorded part's records, edited, as a later part of that day; a made-up day.
    let part = d.join("L/archive/events_20261202.jsonl.gz");
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(&part).unwrap()),
        &mut text,
    )
    .unwrap();
    let forged = text.replace("success", "denied");
    gzip_to(
        &d.join("L/archive/events_20261202-1.jsonl.gz"),
        forged.as_bytes(),
    );
    gzip_to(
        &d.join("L/archive/events_20261120.jsonl.gz"),
        forged.as_bytes(),
    );
    let (code, out, err) = verify(d);
    assert_eq!(code, 1, "{out}{err}");
    for part in ["events_20261120.jsonl.gz", "events_20261202-1.jsonl.gz"] {
        assert!(
            out.contains(&format!("L/archive/{part}: error: seal.archive_unrecorded")),
            "{out}"
        );
    }
    assert!(!out.contains("denied"), "a line quoted: {out}");
    let (code, out, _) = run(d, &["verify", "--format", "json", "L"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("\"rule\": \"seal.archive_unrecorded\""),
        "{out}"
    );
}

#[test]
fn a_ledger_member_that_is_not_a_file_is_named_and_hides_no_other_finding() {
    let dir = sealed_ledger();
    let d = dir.path();
    let seal = d.join("L/events_20261202.jsonl.seal");
    std::fs::remove_file(&seal).unwrap();
    std::fs::create_dir(&seal).unwrap();
    let day = d.join("L/events_20261201.jsonl");
    let text = std::fs::read_to_string(&day).unwrap();
    std::fs::write(&day, text.replacen("success", "denied", 1)).unwrap();
    std::fs::remove_file(d.join("L/events_20261203.jsonl")).unwrap();
    std::fs::remove_file(d.join("L/events.jsonl")).unwrap();
    nix_mkfifo(&d.join("L/events.jsonl"));
    let (code, out, err) = verify(d);
    assert_eq!(code, 1, "{out}{err}");
    for expected in [
        "L/events_20261202.jsonl.seal: error: seal.file_unreadable: a ledger file that cannot be read (a directory, not a file)",
        "L/events_20261201.jsonl:1: error: seal.line_changed",
        "L/events_20261203.jsonl: error: seal.file_missing",
        "L/events.jsonl: error: seal.file_unreadable: a ledger file that cannot be read (not a regular file",
        "L: FAILED",
    ] {
        assert!(out.contains(expected), "{expected} not in {out}");
    }
    assert!(err.is_empty(), "{err}");
    let (code, out, _) = run(d, &["verify", "--format", "json", "L"]);
    assert_eq!(code, 1, "{out}");
    for rule in [
        "seal.file_unreadable",
        "seal.line_changed",
        "seal.file_missing",
    ] {
        assert!(out.contains(&format!("\"rule\": \"{rule}\"")), "{out}");
    }
}

/// Makes a FIFO at `path`.
fn nix_mkfifo(path: &Path) {
    let status = Process::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

#[test]
fn a_key_extending_a_ledger_seal_it_did_not_sign_warns() {
    let dir = keyed_dir();
    let d = dir.path();
    let unkeyed = |now: &str| {
        let args = log_args(now, &["--seal"]);
        assert_eq!(run(d, &args).0, 0);
    };
    unkeyed("2026-12-01T10:00:00Z");
    unkeyed("2026-12-02T10:00:00Z");
    // A late record of the 1st, sealed with the key: the seal's first checkpoint is not
    // signed by it.
    let late = log_args("2026-12-01T12:00:00Z", &KEYED);
    let (code, _, err) = run(d, &late);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("agentlog: warning: L/events_20261201.jsonl: 1 earlier checkpoint(s) are not signed by this key"),
        "{err}"
    );
    // Retention recording the day with the key: the same one.
    let retain = retain_args("2026-12-11T12:00:00Z");
    let (code, _, err) = run(d, &retain);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("agentlog: warning: L/events_20261201.jsonl: 1 earlier checkpoint(s) are not signed by this key"),
        "{err}"
    );
}
