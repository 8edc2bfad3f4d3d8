// A test crate: a failed unwrap or index fails the test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::too_many_lines,
    missing_docs
)]
//! The seal cases of the conformance kit (`conformance/seal/`), generated: each case is a log,
//! its seal file, and the verdict expected of it, stated here from what the case does to the
//! log or its seal (never read back from `verify`). The test checks that the files in the
//! conformance crate are what this generator writes (`UPDATE_SEAL_CASES=1` rewrites them;
//! then `AGENTLOG_SYNC_TREES=1 cargo test --test mirrored_trees` and `UPDATE_MANIFEST=1 cargo
//! test -p agentlog-conformance`), and that the reference verify gives every expected verdict.
//!
//! A case's verdict file: `description`, `allow_tail`, `passed`, `findings` (each `rule`,
//! `line`, `seal_line`), and when set `pubkey` (the key file, `key.pub`, or
//! `small_order.pub`, a weak key verify must refuse) and `anchor` (a checkpoint digest the
//! verifier requires).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use agentlog_seal::{Expect, PublicKey, SecretKey, seal, verify_expecting};
use serde_json::{Value, json};

/// The cases' key: a fixed seed, so the signed cases are the same bytes on every run
/// (Ed25519 signatures are deterministic). It signs nothing but these test cases.
const TEST_SEED: &str = "a5c3f1e0d2b4968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f";
const OTHER_SEED: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00ff0e1d2c3b4a5968778695a4b3c2d1e";

fn now() -> time::OffsetDateTime {
    time::macros::datetime!(2026-12-06 23:00:00 UTC)
}

fn key_files(dir: &Path, seed: &str) -> (SecretKey, PathBuf) {
    let secret = dir.join(format!("{seed}.key"));
    std::fs::write(
        &secret,
        format!("agentlog-seal-secret-key ed25519 {seed}\n"),
    )
    .unwrap();
    // A secret key file is read only when private.
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let key = SecretKey::read(&secret).unwrap();
    let public = dir.join(format!("{seed}.pub"));
    let hex: String = key
        .public()
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    std::fs::write(&public, format!("agentlog-seal-public-key ed25519 {hex}\n")).unwrap();
    (key, public)
}

const LINES: [&str; 5] = [
    r#"{"ts":"2026-12-06T22:59:00Z","run_id":"vm-1","agent_system":"aider","event_type":"key_injection","summary":"injected OPENAI_API_KEY","data":{"secret_name":"OPENAI_API_KEY","host":"api.openai.com","action":"injected"}}"#,
    r#"{"ts":"2026-12-06T22:59:01Z","run_id":"vm-1","agent_system":"aider","event_type":"llm_request","summary":"POST api.openai.com/v1/chat/completions","data":{"method":"POST","host":"api.openai.com","path":"/v1/chat/completions","model":"gpt-4o"}}"#,
    r#"{"ts":1794355201,"session_id":"abc-123","agent":"dev_agent","tool":"exec_shell","args_hash":"sha256:2bf4","result_status":"denied","elapsed_ms":0,"error_class":null,"risk_flags":["path_denied"],"artifacts":[]}"#,
    r#"{"ts":"2026-12-06T22:59:02Z","run_id":"vm-1","agent_system":"aider","event_type":"budget_action","summary":"blocked: budget spent","data":{"action":"blocked"}}"#,
    r#"{"ts":"2026-12-06T22:59:03Z","run_id":"vm-1","agent_system":"aider","event_type":"llm_response","summary":"200","data":{"status_code":200}}"#,
];

fn text(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Seals `log` in `dir` (appending to its seal file) as `agentlog seal` does.
fn seal_into(log: &Path, key: Option<&SecretKey>) {
    seal(log, key, now()).unwrap().append().unwrap();
}

struct Case {
    name: &'static str,
    description: &'static str,
    /// The log as sealed, in one or more rounds (each round's text is the whole log then).
    rounds: Vec<String>,
    signed: bool,
    /// Sealed with the other key instead.
    other_key: bool,
    /// What happens after sealing: the log's final text, and a change to the seal file.
    log_after: Option<String>,
    seal_after: Option<fn(&str) -> String>,
    /// No seal file at all.
    no_seal: bool,
    with_pubkey: bool,
    /// Verified with the small-order key (`small_order.pub`) instead of `key.pub`.
    small_order_key: bool,
    /// Verified with `--anchor` the digest of this checkpoint (0-based) of the seal as made.
    anchor: Option<usize>,
    allow_tail: bool,
    passed: bool,
    findings: Vec<Value>,
}

fn case(name: &'static str, description: &'static str) -> Case {
    Case {
        name,
        description,
        rounds: vec![text(&LINES)],
        signed: false,
        other_key: false,
        log_after: None,
        seal_after: None,
        no_seal: false,
        with_pubkey: false,
        small_order_key: false,
        anchor: None,
        allow_tail: false,
        passed: false,
        findings: Vec::new(),
    }
}

fn finding(rule: &str, line: Option<u64>, seal_line: Option<u64>) -> Value {
    json!({ "rule": rule, "line": line, "seal_line": seal_line })
}

/// The JSON of a seal line with `member` replaced by `value` and its digest recomputed, as
/// an editor without the key would.
fn reforged(line: &str, member: &str, value: Value) -> String {
    reforged_all(line, &[(member, value)])
}

/// [`reforged`] with several members replaced.
fn reforged_all(line: &str, members: &[(&str, Value)]) -> String {
    let mut checkpoint: BTreeMap<String, Value> = serde_json::from_str(line).unwrap();
    for (member, value) in members {
        checkpoint.insert((*member).to_owned(), value.clone());
    }
    let hex = |m: &str| checkpoint[m].as_str().unwrap().to_owned();
    let digest_text = format!(
        "agentlog-seal/1\nlines={}\nbytes={}\nchain={}\nprev={}\ntime={}\nline_hashes={}\n",
        checkpoint["lines"],
        checkpoint["bytes"],
        hex("chain"),
        hex("prev"),
        hex("time"),
        hex("line_hashes")
    );
    use sha2::Digest as _;
    let digest: String = sha2::Sha256::digest(digest_text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    checkpoint.insert("digest".into(), json!(digest));
    checkpoint.remove("signature");
    checkpoint.remove("key");
    let mut line = serde_json::to_string(&checkpoint).unwrap();
    line.push('\n');
    line
}

/// The encoding of the identity point, a public key of small order (a "weak" key): with it,
/// the signature `R` = identity, `s` = 0 satisfies the cofactorless equation
/// `[s]B = R + [k]A` for every message, so a verifier that does not refuse small-order keys
/// (RFC 8032 alone does not) accepts it. Verify must refuse it.
const SMALL_ORDER_KEY: &str = "0100000000000000000000000000000000000000000000000000000000000000";

/// The seal's one checkpoint with `key` the small-order key and the signature that fits any
/// message under it (its digest unchanged: a signature is not part of it).
fn signed_by_small_order_key(seal: &str) -> String {
    let mut checkpoint: BTreeMap<String, Value> = serde_json::from_str(seal.trim_end()).unwrap();
    checkpoint.insert("key".into(), json!(SMALL_ORDER_KEY));
    checkpoint.insert(
        "signature".into(),
        json!(format!("{SMALL_ORDER_KEY}{}", "00".repeat(32))),
    );
    let mut line = serde_json::to_string(&checkpoint).unwrap();
    line.push('\n');
    line
}

fn cases() -> Vec<Case> {
    let all = text(&LINES);
    let first3 = text(&LINES[..3]);
    let mut swapped = LINES.to_vec();
    swapped.swap(1, 2);
    vec![
        Case {
            passed: true,
            ..case("intact", "an unchanged log and its seal pass")
        },
        Case {
            passed: true,
            signed: true,
            with_pubkey: true,
            ..case(
                "intact_signed",
                "an unchanged log whose checkpoint is signed by the given key passes",
            )
        },
        Case {
            passed: true,
            rounds: vec![first3.clone(), all.clone()],
            ..case(
                "two_checkpoints",
                "a log sealed twice, the second seal extending the first, passes",
            )
        },
        Case {
            log_after: Some(all.replace("\"model\":\"gpt-4o\"", "\"model\":\"gpt-4x\"")),
            findings: vec![finding("seal.line_changed", Some(2), None)],
            ..case("line_changed", "one byte of line 2 changed")
        },
        Case {
            log_after: Some(text(&[LINES[0], LINES[1], LINES[3], LINES[4]])),
            findings: vec![finding("seal.line_deleted", Some(3), None)],
            ..case("line_deleted", "line 3 (a denial) deleted")
        },
        Case {
            log_after: Some(text(&[
                LINES[0],
                LINES[1],
                r#"{"event_type":"forged"}"#,
                LINES[2],
                LINES[3],
                LINES[4],
            ])),
            findings: vec![finding("seal.line_inserted", Some(3), None)],
            ..case("line_inserted", "a line inserted before line 3")
        },
        Case {
            log_after: Some(text(&swapped)),
            findings: vec![finding("seal.line_changed", Some(2), None)],
            ..case(
                "lines_swapped",
                "lines 2 and 3 swapped: line 2 is the first that differs",
            )
        },
        Case {
            log_after: Some(text(&LINES[..4])),
            findings: vec![finding("seal.truncated", Some(5), None)],
            ..case("truncated", "the last line removed")
        },
        Case {
            log_after: Some(all[..all.len() - 10].to_owned()),
            findings: vec![finding("seal.truncated", Some(5), None)],
            ..case("truncated_mid_line", "the log cut inside its last line")
        },
        Case {
            log_after: Some(format!("{all}{{\"event_type\":\"later\"}}\n")),
            findings: vec![finding("seal.unsealed_tail", Some(6), None)],
            ..case(
                "unsealed_tail",
                "a line written after the last checkpoint fails without allow_tail",
            )
        },
        Case {
            log_after: Some(format!("{all}{{\"event_type\":\"later\"}}\n{{\"event")),
            allow_tail: true,
            passed: true,
            findings: vec![finding("seal.unsealed_tail", Some(6), None)],
            ..case(
                "unsealed_tail_allowed",
                "with allow_tail, unsealed lines (and a line not ended) are a note and the log passes",
            )
        },
        Case {
            rounds: vec![all.replace('\n', "\r\n")],
            log_after: Some(all.clone()),
            findings: vec![finding("seal.line_changed", Some(1), None)],
            ..case(
                "crlf_to_lf",
                "a log sealed with CRLF line ends, rewritten with LF: the CR is part of each line",
            )
        },
        Case {
            no_seal: true,
            findings: vec![finding("seal.missing", None, None)],
            ..case("missing_seal", "a log without a seal file fails")
        },
        Case {
            rounds: vec![first3.clone(), all.clone()],
            seal_after: Some(|seal| {
                let lines: Vec<&str> = seal.lines().collect();
                format!(
                    "{}\n{}\n",
                    lines[0],
                    lines[1].replacen("\"lines\":5", "\"lines\":4", 1)
                )
            }),
            findings: vec![finding("seal.checkpoint_edited", None, Some(2))],
            ..case(
                "checkpoint_edited",
                "the second checkpoint's line count edited, its digest left",
            )
        },
        Case {
            rounds: vec![first3.clone(), all.clone()],
            seal_after: Some(|seal| format!("{}\n", seal.lines().nth(1).unwrap())),
            findings: vec![finding("seal.checkpoint_order", None, Some(1))],
            ..case("checkpoint_removed", "the first of two checkpoints removed")
        },
        Case {
            rounds: vec![first3.clone(), all.clone()],
            seal_after: Some(|seal| {
                let lines: Vec<&str> = seal.lines().collect();
                format!("{}\n{}\n", lines[1], lines[0])
            }),
            findings: vec![finding("seal.checkpoint_order", None, Some(1))],
            ..case("checkpoints_swapped", "two checkpoints in the wrong order")
        },
        Case {
            seal_after: Some(|seal| format!("{seal}{{\"agentlog_seal\":1,")),
            findings: vec![finding("seal.malformed", None, Some(2))],
            ..case(
                "malformed_checkpoint",
                "a seal file whose second line is not a checkpoint",
            )
        },
        Case {
            seal_after: Some(|seal| reforged(seal.trim_end(), "line_hashes", json!(""))),
            findings: vec![finding("seal.checkpoint_inconsistent", None, Some(1))],
            ..case(
                "checkpoint_without_line_hashes",
                "a checkpoint re-digested with no line hashes for the lines it covers",
            )
        },
        Case {
            seal_after: Some(|seal| reforged(seal.trim_end(), "chain", json!("00".repeat(32)))),
            findings: vec![finding("seal.chain_mismatch", Some(5), Some(1))],
            ..case(
                "chain_edited",
                "a checkpoint re-digested with another chain value: every line matches its short hash, the chain does not",
            )
        },
        Case {
            signed: true,
            with_pubkey: true,
            seal_after: Some(|seal| {
                let at = seal.find("\"signature\":\"").unwrap() + 13;
                let mut forged = seal.to_owned();
                let flipped = if &forged[at..=at] == "0" { "1" } else { "0" };
                forged.replace_range(at..=at, flipped);
                forged
            }),
            findings: vec![finding("seal.bad_signature", None, Some(1))],
            ..case("bad_signature", "one hex digit of the signature changed")
        },
        Case {
            rounds: vec![all.replace("denied", "success")],
            with_pubkey: true,
            findings: vec![finding("seal.unsigned", None, Some(1))],
            ..case(
                "resealed_unsigned",
                "a denial edited into a success and the seal rewritten without the key: unsigned under the given key",
            )
        },
        Case {
            seal_after: Some(|seal| {
                reforged_all(
                    seal.trim_end(),
                    &[("lines", json!(0)), ("line_hashes", json!(""))],
                )
            }),
            findings: vec![finding("seal.checkpoint_inconsistent", None, Some(1))],
            ..case(
                "zero_lines_some_bytes",
                "a checkpoint re-digested to cover no line but some bytes (a sealer would go on from there)",
            )
        },
        Case {
            seal_after: Some(|seal| seal.replacen("\"lines\":5,", "\"lines\":4,\"lines\":5,", 1)),
            findings: vec![finding("seal.malformed", None, Some(1))],
            ..case(
                "duplicate_member",
                "a checkpoint with `lines` given twice is malformed, whichever value a reader would keep",
            )
        },
        Case {
            seal_after: Some(|seal| {
                reforged(seal.trim_end(), "time", json!("2026-12-06X23:00:00Z"))
            }),
            findings: vec![finding("seal.malformed", None, Some(1))],
            ..case(
                "time_not_rfc3339",
                "a checkpoint re-digested with a time whose date and time are joined by `X`, not RFC 3339's `T`",
            )
        },
        Case {
            seal_after: Some(|seal| seal.trim_end_matches('\n').to_owned()),
            findings: vec![finding("seal.malformed", None, Some(1))],
            ..case(
                "seal_without_final_newline",
                "a seal file whose last checkpoint lost its newline: cut short",
            )
        },
        Case {
            rounds: vec![first3.clone(), all.clone()],
            signed: true,
            with_pubkey: true,
            anchor: Some(1),
            log_after: Some(first3.clone()),
            seal_after: Some(|seal| format!("{}\n", seal.lines().next().unwrap())),
            findings: vec![finding("seal.anchor_missing", None, None)],
            ..case(
                "rolled_back",
                "the last checkpoint removed with the lines it covered: every signature verifies, and only the anchor (the removed checkpoint's digest, recorded elsewhere) shows it",
            )
        },
        Case {
            rounds: vec![first3.clone(), all.clone()],
            anchor: Some(0),
            passed: true,
            ..case(
                "anchored",
                "a seal that holds the anchor's checkpoint passes",
            )
        },
        Case {
            with_pubkey: true,
            small_order_key: true,
            seal_after: Some(signed_by_small_order_key),
            findings: vec![finding("seal.bad_signature", None, Some(1))],
            ..case(
                "small_order_key",
                "a checkpoint \"signed\" by the small-order public key 0100..00 (the identity point) with R the identity and s = 0, which fits any message: refused, as a strict verifier refuses small-order keys",
            )
        },
        Case {
            signed: true,
            other_key: true,
            with_pubkey: true,
            findings: vec![finding("seal.other_key", None, Some(1))],
            ..case(
                "other_key",
                "a seal signed by another key than the one given",
            )
        },
    ]
}

/// Writes every case into `dir`; returns the files written (relative names).
fn generate(dir: &Path, keys: &Path) -> Vec<String> {
    let (test_key, test_pub) = key_files(keys, TEST_SEED);
    let (other_key, _) = key_files(keys, OTHER_SEED);
    std::fs::copy(&test_pub, dir.join("key.pub")).unwrap();
    std::fs::write(
        dir.join("small_order.pub"),
        format!("agentlog-seal-public-key ed25519 {SMALL_ORDER_KEY}\n"),
    )
    .unwrap();
    let mut written = vec!["key.pub".to_owned(), "small_order.pub".to_owned()];
    for case in cases() {
        let log = dir.join(format!("{}.jsonl", case.name));
        let key = match (case.signed, case.other_key) {
            (false, _) => None,
            (true, false) => Some(&test_key),
            (true, true) => Some(&other_key),
        };
        for round in &case.rounds {
            std::fs::write(&log, round).unwrap();
            seal_into(&log, key);
        }
        let seal_path = agentlog_seal::seal_path(&log);
        let anchor = case.anchor.map(|index| {
            let seal = std::fs::read_to_string(&seal_path).unwrap();
            let line: Value = serde_json::from_str(seal.lines().nth(index).unwrap()).unwrap();
            line["digest"].as_str().unwrap().to_owned()
        });
        if let Some(after) = &case.log_after {
            std::fs::write(&log, after).unwrap();
        }
        if let Some(edit) = case.seal_after {
            let seal = std::fs::read_to_string(&seal_path).unwrap();
            std::fs::write(&seal_path, edit(&seal)).unwrap();
        }
        if case.no_seal {
            std::fs::remove_file(&seal_path).unwrap();
        }
        let mut verdict = json!({
            "description": case.description,
            "allow_tail": case.allow_tail,
            "passed": case.passed,
            "findings": case.findings,
        });
        if case.with_pubkey {
            let file = if case.small_order_key {
                "small_order.pub"
            } else {
                "key.pub"
            };
            verdict["pubkey"] = json!(file);
        }
        if let Some(anchor) = anchor {
            verdict["anchor"] = json!(anchor);
        }
        let mut body = serde_json::to_string_pretty(&verdict).unwrap();
        body.push('\n');
        std::fs::write(dir.join(format!("{}.json", case.name)), body).unwrap();
        written.push(format!("{}.jsonl", case.name));
        written.push(format!("{}.json", case.name));
        if !case.no_seal {
            written.push(format!("{}.jsonl.seal", case.name));
        }
    }
    written.sort();
    written
}

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../conformance/conformance/seal")
}

#[test]
fn the_seal_cases_are_current_and_the_reference_gives_each_verdict() {
    let out = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let written = generate(out.path(), keys.path());
    let target = cases_dir();
    if std::env::var_os("UPDATE_SEAL_CASES").is_some() {
        std::fs::create_dir_all(&target).unwrap();
        for name in &written {
            std::fs::copy(out.path().join(name), target.join(name)).unwrap();
        }
    }
    for name in &written {
        let generated = std::fs::read(out.path().join(name)).unwrap();
        let checked_in = std::fs::read(target.join(name)).unwrap_or_default();
        assert!(
            generated == checked_in,
            "conformance/seal/{name} is stale: run UPDATE_SEAL_CASES=1 cargo test -p agentlog-seal --test conformance_cases"
        );
    }
    // The reference verify, on the checked-in cases, gives every expected verdict.
    for case in cases() {
        let log = target.join(format!("{}.jsonl", case.name));
        let expected: Value = serde_json::from_slice(
            &std::fs::read(target.join(format!("{}.json", case.name))).unwrap(),
        )
        .unwrap();
        let public = expected
            .get("pubkey")
            .map(|file| PublicKey::read(&target.join(file.as_str().unwrap())).unwrap());
        let expect = Expect {
            key: public.as_ref(),
            anchor: expected.get("anchor").map(|a| {
                let hex = a.as_str().unwrap();
                std::array::from_fn(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
            }),
            allow_tail: expected["allow_tail"].as_bool().unwrap(),
        };
        let verdict = verify_expecting(&log, &expect).unwrap();
        let found: Vec<Value> = verdict
            .findings
            .iter()
            .map(|f| finding(f.rule(), f.line(), f.seal_line()))
            .collect();
        assert_eq!(verdict.passed(), expected["passed"], "{}", case.name);
        assert_eq!(Value::from(found), expected["findings"], "{}", case.name);
    }
}
