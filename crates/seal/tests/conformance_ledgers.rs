// A test crate: a failed unwrap or index fails the test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::too_many_lines,
    missing_docs
)]
//! The sealed-ledger cases of the conformance kit (`conformance/seal_ledger/`), generated:
//! each case is a ledger directory (`NAME/`: day files sealed as the ledger seals them at
//! rotation, seals, `archive/` parts with the retention records that name them, maybe the
//! current `events.jsonl`), perhaps tampered with, and `NAME.json`, the verdict expected of
//! `verify NAME/`, stated here from what the case does (never read back from
//! `verify_ledger`). The test checks that the files in the conformance crate are what this
//! generator writes (`UPDATE_SEAL_CASES=1` rewrites them; then
//! `AGENTLOG_SYNC_TREES=1 cargo test --test mirrored_trees` and `UPDATE_MANIFEST=1 cargo
//! test -p agentlog-conformance`), and that the reference gives every expected verdict.
//!
//! A verdict: `description`, `passed`, `findings` (each `rule`, `file` relative to the
//! ledger directory, `line`, `seal_line`; notes included, in the order of `file` then
//! `rule`), and when set `pubkey` (`key.pub`).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use agentlog_seal::{Expect, PublicKey, SealFile, SecretKey, record_retention, seal_day_file};
use serde_json::{Value, json};

/// The cases' key: the seal cases' fixed seed (signatures are deterministic).
const TEST_SEED: &str = "a5c3f1e0d2b4968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f";

fn now() -> time::OffsetDateTime {
    time::macros::datetime!(2026-12-06 23:00:00 UTC)
}

fn record(day: u32, n: u32, status: &str) -> String {
    // Noon of 2026-12-DD, plus n seconds.
    let ts = 1_796_040_000 + i64::from(day - 1) * 86_400 + i64::from(n);
    format!(
        r#"{{"ts":{ts},"session_id":"abc-123","agent":"dev_agent","tool":"exec_shell","args_hash":"sha256:{}","result_status":"{status}","elapsed_ms":{n},"error_class":null,"risk_flags":[],"artifacts":[]}}"#,
        "2bf4".repeat(16)
    ) + "\n"
}

/// A ledger directory being built.
struct Ledger {
    dir: PathBuf,
    key: SecretKey,
}

impl Ledger {
    fn day_file(&self, day: u32) -> PathBuf {
        self.dir.join(format!("events_202612{day:02}.jsonl"))
    }

    /// Day `day` written with `records` records, then rotated: sealed as the ledger does.
    fn rotate(&self, day: u32, records: u32) {
        let text: String = (0..records).map(|n| record(day, n, "success")).collect();
        std::fs::write(self.day_file(day), text).unwrap();
        seal_day_file(&self.day_file(day), Some(&self.key), now())
            .unwrap()
            .append()
            .unwrap();
    }

    /// Day `day` archived into the part named with `suffix`, as retention does: the record,
    /// the compressed part, the day file removed.
    fn archive(&self, day: u32, suffix: &str) {
        let log = self.day_file(day);
        let part = format!("archive/events_202612{day:02}{suffix}.jsonl.gz");
        record_retention(&log, &part, Some(&self.key), now())
            .unwrap()
            .append()
            .unwrap();
        std::fs::create_dir_all(self.dir.join("archive")).unwrap();
        write_gz(&self.dir.join(&part), &std::fs::read(&log).unwrap());
        std::fs::remove_file(&log).unwrap();
    }

    fn current(&self, day: u32) {
        std::fs::write(self.dir.join("events.jsonl"), record(day, 0, "success")).unwrap();
    }
}

fn write_gz(path: &Path, bytes: &[u8]) {
    let out = std::fs::File::create(path).unwrap();
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(out, flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap();
}

fn finding(rule: &str, file: &str, line: Option<u64>, seal_line: Option<u64>) -> Value {
    json!({ "rule": rule, "file": file, "line": line, "seal_line": seal_line })
}

struct Case {
    name: &'static str,
    description: &'static str,
    /// Builds the ledger (and tampers with it).
    build: fn(&Ledger),
    with_pubkey: bool,
    passed: bool,
    findings: Vec<Value>,
}

/// Three days sealed at rotation, the fourth current.
fn three_days(ledger: &Ledger) {
    ledger.rotate(1, 2);
    ledger.rotate(2, 1);
    ledger.rotate(3, 1);
    ledger.current(4);
}

fn current_note() -> Value {
    finding("seal.current_unsealed", "events.jsonl", None, None)
}

fn cases() -> Vec<Case> {
    let case = |name, description, build, passed, findings: Vec<Value>| Case {
        name,
        description,
        build,
        with_pubkey: true,
        passed,
        findings,
    };
    vec![
        case(
            "intact",
            "three days sealed as they rotated, each seal linked to the day before, the current day not sealed yet (a note)",
            three_days,
            true,
            vec![current_note()],
        ),
        case(
            "archived",
            "the first day archived by retention: its seal ends with a retention record, its part is checked against it",
            |l| {
                three_days(l);
                l.archive(1, "");
            },
            true,
            vec![current_note()],
        ),
        case(
            "late_after_archive",
            "late records of an archived day: a second segment of its seal, archived as the next part",
            |l| {
                three_days(l);
                l.archive(1, "");
                std::fs::write(l.day_file(1), record(1, 9, "denied")).unwrap();
                seal_day_file(&l.day_file(1), Some(&l.key), now())
                    .unwrap()
                    .append()
                    .unwrap();
                l.archive(1, "-1");
            },
            true,
            vec![current_note()],
        ),
        case(
            "day_file_removed",
            "the middle day's file removed, its seal left: no retention record says why",
            |l| {
                three_days(l);
                std::fs::remove_file(l.day_file(2)).unwrap();
            },
            false,
            vec![
                current_note(),
                finding("seal.file_missing", "events_20261202.jsonl", None, None),
            ],
        ),
        case(
            "day_and_seal_removed",
            "the middle day's file removed with its seal: the next day's seal links to it",
            |l| {
                three_days(l);
                std::fs::remove_file(l.day_file(2)).unwrap();
                std::fs::remove_file(agentlog_seal::seal_path(&l.day_file(2))).unwrap();
            },
            false,
            vec![
                current_note(),
                finding(
                    "seal.linked_file_missing",
                    "events_20261203.jsonl.seal",
                    None,
                    Some(1),
                ),
            ],
        ),
        case(
            "earlier_day_edited",
            "line 2 of the first day changed (a success turned into a denial)",
            |l| {
                three_days(l);
                let text = std::fs::read_to_string(l.day_file(1)).unwrap();
                let mut lines: Vec<&str> = text.lines().collect();
                let edited = lines[1].replace("success", "denied");
                lines[1] = &edited;
                std::fs::write(l.day_file(1), lines.join("\n") + "\n").unwrap();
            },
            false,
            vec![
                current_note(),
                finding("seal.line_changed", "events_20261201.jsonl", Some(2), None),
            ],
        ),
        case(
            "archive_edited",
            "the archived first day's part rewritten with line 1 changed",
            |l| {
                three_days(l);
                let text = std::fs::read_to_string(l.day_file(1)).unwrap();
                l.archive(1, "");
                let part = l.dir.join("archive/events_20261201.jsonl.gz");
                write_gz(&part, text.replacen("success", "denied", 1).as_bytes());
            },
            false,
            vec![
                current_note(),
                finding(
                    "seal.line_changed",
                    "archive/events_20261201.jsonl.gz",
                    Some(1),
                    None,
                ),
            ],
        ),
        case(
            "archive_removed",
            "the archived first day's part removed: a retention record names it",
            |l| {
                three_days(l);
                l.archive(1, "");
                std::fs::remove_file(l.dir.join("archive/events_20261201.jsonl.gz")).unwrap();
            },
            false,
            vec![
                current_note(),
                finding(
                    "seal.archive_missing",
                    "events_20261201.jsonl.seal",
                    None,
                    Some(2),
                ),
            ],
        ),
        case(
            "forged_retention_record",
            "the middle day's file removed and an unsigned retention record (with its digest right) appended to its seal",
            |l| {
                three_days(l);
                let seal = agentlog_seal::seal_path(&l.day_file(2));
                let file = SealFile::read(&seal).unwrap().unwrap();
                let mut forged = file.checkpoints.last().unwrap().clone();
                forged.prev = forged.digest;
                forged.line_hashes.clear();
                forged.link = None;
                forged.signature = None;
                forged.retained = Some("archive/events_20261202.jsonl.gz".to_owned());
                forged.digest = forged.expected_digest();
                let mut text = std::fs::read_to_string(&seal).unwrap();
                text.push_str(&forged.to_line());
                text.push('\n');
                std::fs::write(&seal, text).unwrap();
                std::fs::remove_file(l.day_file(2)).unwrap();
            },
            false,
            vec![
                current_note(),
                finding("seal.unsigned", "events_20261202.jsonl.seal", None, Some(2)),
            ],
        ),
        case(
            "seal_replaced",
            "the first day's seal made again later (another digest): the second day's link no longer names a checkpoint of it",
            |l| {
                three_days(l);
                let seal = agentlog_seal::seal_path(&l.day_file(1));
                std::fs::remove_file(&seal).unwrap();
                agentlog_seal::seal(&l.day_file(1), Some(&l.key), now() + time::Duration::DAY)
                    .unwrap()
                    .append()
                    .unwrap();
            },
            false,
            vec![
                current_note(),
                finding(
                    "seal.link_broken",
                    "events_20261202.jsonl.seal",
                    None,
                    Some(1),
                ),
            ],
        ),
        case(
            "archive_part_added",
            "a made-up archive part of a day the ledger has no seal of, added beside the archived first day's part: no retention record names it",
            |l| {
                three_days(l);
                l.archive(1, "");
                let part = l.dir.join("archive/events_20261120.jsonl.gz");
                write_gz(&part, record(1, 5, "success").as_bytes());
            },
            false,
            vec![
                current_note(),
                finding(
                    "seal.archive_unrecorded",
                    "archive/events_20261120.jsonl.gz",
                    None,
                    None,
                ),
            ],
        ),
        case(
            "archive_part_copied",
            "the archived first day's part copied, line 1 changed, under the name of a later part of that day: no retention record names it",
            |l| {
                three_days(l);
                let text = std::fs::read_to_string(l.day_file(1)).unwrap();
                l.archive(1, "");
                let copy = l.dir.join("archive/events_20261201-1.jsonl.gz");
                write_gz(&copy, text.replacen("success", "denied", 1).as_bytes());
            },
            false,
            vec![
                current_note(),
                finding(
                    "seal.archive_unrecorded",
                    "archive/events_20261201-1.jsonl.gz",
                    None,
                    None,
                ),
            ],
        ),
        case(
            "other_file_added",
            "other.jsonl added: not a ledger file, yet analyze of the directory would read its records",
            |l| {
                three_days(l);
                std::fs::write(l.dir.join("other.jsonl"), record(2, 7, "denied")).unwrap();
            },
            false,
            vec![
                current_note(),
                finding("seal.file_unknown", "other.jsonl", None, None),
            ],
        ),
        case(
            "impossible_day_added",
            "events_20261232.jsonl added: the name of a day file, of no real date, so no day of the ledger",
            |l| {
                three_days(l);
                let name = l.dir.join("events_20261232.jsonl");
                std::fs::write(name, record(3, 7, "denied")).unwrap();
            },
            false,
            vec![
                current_note(),
                finding("seal.file_unknown", "events_20261232.jsonl", None, None),
            ],
        ),
        case(
            "subdirectory_added",
            "a subdirectory other than archive/ added, holding a day file: analyze would read it",
            |l| {
                three_days(l);
                std::fs::create_dir(l.dir.join("old")).unwrap();
                let name = l.dir.join("old/events_20261130.jsonl");
                std::fs::write(name, record(1, 7, "denied")).unwrap();
            },
            false,
            vec![
                current_note(),
                finding("seal.file_unknown", "old", None, None),
            ],
        ),
        case(
            "day_copied_to_current",
            "the last day file and its seal copied to events.jsonl and events.jsonl.seal: that seal links to the day before, as only a rotated day's seal does",
            |l| {
                three_days(l);
                std::fs::copy(l.day_file(3), l.dir.join("events.jsonl")).unwrap();
                std::fs::copy(
                    agentlog_seal::seal_path(&l.day_file(3)),
                    l.dir.join("events.jsonl.seal"),
                )
                .unwrap();
            },
            false,
            vec![finding(
                "seal.current_linked",
                "events.jsonl.seal",
                None,
                Some(1),
            )],
        ),
        case(
            "seal_is_a_directory",
            "the middle day's seal replaced by a directory (holding a file, as git stores no empty directory): a ledger member that is not a file",
            |l| {
                three_days(l);
                let seal = agentlog_seal::seal_path(&l.day_file(2));
                std::fs::remove_file(&seal).unwrap();
                std::fs::create_dir(&seal).unwrap();
                std::fs::write(seal.join("x"), "not a seal\n").unwrap();
            },
            false,
            vec![
                current_note(),
                finding(
                    "seal.file_unreadable",
                    "events_20261202.jsonl.seal",
                    None,
                    None,
                ),
            ],
        ),
        case(
            "staged_part_forged",
            "a file under the staged name of the archived first day's part (a retention run stopped after moving the day file), line 1 changed: checked against that part's segment",
            |l| {
                three_days(l);
                let text = std::fs::read_to_string(l.day_file(1)).unwrap();
                l.archive(1, "");
                let staging = l.dir.join("archive/.staging");
                std::fs::create_dir_all(&staging).unwrap();
                let forged = text.replacen("success", "denied", 1);
                std::fs::write(staging.join("events_20261201.jsonl"), forged).unwrap();
            },
            false,
            vec![
                current_note(),
                finding(
                    "seal.line_changed",
                    "archive/.staging/events_20261201.jsonl",
                    Some(1),
                    None,
                ),
            ],
        ),
        case(
            "tmp_directory_in_archive",
            "directories named like retention's temporary files, archive/x.tmp/ and archive/.staging/x.tmp/, holding records: analyze would read them, and retention writes no directory",
            |l| {
                three_days(l);
                l.archive(1, "");
                for sub in ["archive/x.tmp", "archive/.staging/x.tmp"] {
                    let sub = l.dir.join(sub);
                    std::fs::create_dir_all(&sub).unwrap();
                    write_gz(&sub.join("e.jsonl.gz"), record(1, 7, "denied").as_bytes());
                }
            },
            false,
            vec![
                current_note(),
                finding(
                    "seal.archive_unrecorded",
                    "archive/.staging/x.tmp",
                    None,
                    None,
                ),
                finding("seal.archive_unrecorded", "archive/x.tmp", None, None),
            ],
        ),
        case(
            "staged_name_directory",
            "a directory under the staged name of the archived first day's part, holding records: no staged file, and analyze would read them",
            |l| {
                three_days(l);
                l.archive(1, "");
                let sub = l.dir.join("archive/.staging/events_20261201.jsonl");
                std::fs::create_dir_all(&sub).unwrap();
                std::fs::write(sub.join("e.jsonl"), record(1, 7, "denied")).unwrap();
            },
            false,
            vec![
                current_note(),
                finding(
                    "seal.archive_unrecorded",
                    "archive/.staging/events_20261201.jsonl",
                    None,
                    None,
                ),
            ],
        ),
        case(
            "current_removed",
            "events.jsonl sealed (agentlog seal), then removed: its seal is left without it",
            |l| {
                three_days(l);
                let current = l.dir.join("events.jsonl");
                agentlog_seal::seal(&current, Some(&l.key), now())
                    .unwrap()
                    .append()
                    .unwrap();
                std::fs::remove_file(current).unwrap();
            },
            false,
            vec![finding("seal.file_missing", "events.jsonl", None, None)],
        ),
        case(
            "current_seal_garbage",
            "no events.jsonl, and an events.jsonl.seal that is no seal: read all the same",
            |l| {
                l.rotate(1, 2);
                l.rotate(2, 1);
                l.rotate(3, 1);
                std::fs::write(l.dir.join("events.jsonl.seal"), "not a seal\n").unwrap();
            },
            false,
            vec![
                finding("seal.file_missing", "events.jsonl", None, None),
                finding("seal.malformed", "events.jsonl.seal", None, Some(1)),
            ],
        ),
    ]
}

/// Every file under `dir`, relative, with `/`.
fn tree(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            tree(root, &path, out);
        } else {
            let relative = path.strip_prefix(root).unwrap();
            let parts: Vec<_> = relative.iter().map(|c| c.to_string_lossy()).collect();
            out.push(parts.join("/"));
        }
    }
}

/// Writes every case into `dir`; returns the files written (relative names).
fn generate(dir: &Path, keys: &Path) -> Vec<String> {
    let secret = keys.join("test.key");
    std::fs::write(
        &secret,
        format!("agentlog-seal-secret-key ed25519 {TEST_SEED}\n"),
    )
    .unwrap();
    // A secret key file is read only when private.
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let key = SecretKey::read(&secret).unwrap();
    let hex: String = key
        .public()
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    std::fs::write(
        dir.join("key.pub"),
        format!("agentlog-seal-public-key ed25519 {hex}\n"),
    )
    .unwrap();
    for case in cases() {
        let ledger = Ledger {
            dir: dir.join(case.name),
            key: SecretKey::read(&secret).unwrap(),
        };
        std::fs::create_dir_all(&ledger.dir).unwrap();
        (case.build)(&ledger);
        let mut findings = case.findings.clone();
        findings.sort_by_key(|f| (f["file"].to_string(), f["rule"].to_string()));
        let mut verdict = json!({
            "description": case.description,
            "passed": case.passed,
            "findings": findings,
        });
        if case.with_pubkey {
            verdict["pubkey"] = json!("key.pub");
        }
        let mut body = serde_json::to_string_pretty(&verdict).unwrap();
        body.push('\n');
        std::fs::write(dir.join(format!("{}.json", case.name)), body).unwrap();
    }
    let mut written = Vec::new();
    tree(dir, dir, &mut written);
    written.sort();
    written
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../conformance/conformance/seal_ledger")
}

/// What the reference finds in the ledger `dir`, as the verdict files state findings.
fn found(dir: &Path, verdict: &agentlog_seal::LedgerVerdict) -> Vec<Value> {
    let relative = |p: &Path| {
        let parts: Vec<_> = p
            .strip_prefix(dir)
            .unwrap()
            .iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect();
        parts.join("/")
    };
    let mut found: BTreeMap<(String, String), Value> = BTreeMap::new();
    for file in &verdict.verdicts {
        for f in &file.findings {
            let on = file.file_of(f);
            let value = finding(f.rule(), &relative(on), f.line(), f.seal_line());
            found.insert((relative(on), f.rule().to_owned()), value);
        }
    }
    for f in &verdict.findings {
        let (path, seal_line) = f.place();
        let value = finding(f.rule(), &relative(path), None, seal_line);
        found.insert((relative(path), f.rule().to_owned()), value);
    }
    found.into_values().collect()
}

#[test]
fn the_seal_ledger_cases_are_current_and_the_reference_gives_each_verdict() {
    let out = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let written = generate(out.path(), keys.path());
    let target = cases_dir();
    if std::env::var_os("UPDATE_SEAL_CASES").is_some() {
        let _ = std::fs::remove_dir_all(&target);
        for name in &written {
            let to = target.join(name);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(out.path().join(name), to).unwrap();
        }
    }
    let mut checked_in = Vec::new();
    if target.is_dir() {
        tree(&target, &target, &mut checked_in);
    }
    checked_in.sort();
    assert_eq!(
        checked_in, written,
        "conformance/seal_ledger is stale: run UPDATE_SEAL_CASES=1 cargo test -p agentlog-seal --test conformance_ledgers"
    );
    for name in &written {
        let generated = std::fs::read(out.path().join(name)).unwrap();
        let checked = std::fs::read(target.join(name)).unwrap_or_default();
        assert!(
            generated == checked,
            "conformance/seal_ledger/{name} is stale: run UPDATE_SEAL_CASES=1 cargo test -p agentlog-seal --test conformance_ledgers"
        );
    }
    let public = PublicKey::read(&target.join("key.pub")).unwrap();
    for case in cases() {
        let expected: Value = serde_json::from_slice(
            &std::fs::read(target.join(format!("{}.json", case.name))).unwrap(),
        )
        .unwrap();
        let expect = Expect {
            key: expected.get("pubkey").map(|_| &public),
            anchor: None,
            allow_tail: false,
        };
        let dir = target.join(case.name);
        let verdict = agentlog_seal::verify_ledger(&dir, &expect).unwrap();
        assert_eq!(verdict.passed(), expected["passed"], "{}", case.name);
        assert_eq!(
            Value::from(found(&dir, &verdict)),
            expected["findings"],
            "{}",
            case.name
        );
    }
}
