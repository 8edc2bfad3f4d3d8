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
//! Library tests of `agentlog_validate` (its conformance cases run in
//! `crates/conformance/tests/reference.rs`): snapshots of real and crafted
//! logs, chunking determinism, limits, and property tests of the no-secret-values rule.

use agentlog_validate::secrets::{Secret, SecretValue};
use agentlog_validate::{FileReport, Options, Profile, Rule, Severity, Validator};
use base64::Engine as _;
use proptest::prelude::*;
use serde_json::Value;

fn validate(options: Options, bytes: &[u8]) -> FileReport {
    let chunk_size = options.chunk_size;
    Validator::new(options)
        .expect("validator")
        .validate_reader("log.jsonl", Trickle(bytes, chunk_size))
}

/// A reader that hands out at most `.1` bytes per read, so that small chunk sizes really cut
/// the input into small chunks (a slice reader hands out everything at once, and the reader
/// thread only cuts what one read gave it).
struct Trickle<'a>(&'a [u8], usize);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.1.max(1)).min(self.0.len());
        let (head, tail) = self.0.split_at(n);
        buf[..n].copy_from_slice(head);
        self.0 = tail;
        Ok(n)
    }
}

fn text_report(report: &FileReport) -> String {
    let mut out = Vec::new();
    let full = agentlog_validate::Report {
        files: vec![report.clone()],
    };
    agentlog_validate::report::write(&full, Default::default(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn real_log_snapshot() {
    let log = include_bytes!("../../../testdata/validate/real-matchlock-pr77.jsonl");
    let auto = validate(Options::default(), log);
    assert_eq!((auto.lines, auto.events), (13, 13));
    assert_eq!(
        (auto.errors(), auto.warnings()),
        (0, 0),
        "{:#?}",
        auto.findings
    );
    let v0 = Options::default().with_profile(Profile::V0);
    let strict = validate(v0.clone(), log);
    assert_eq!(strict.errors(), 13, "v1 types are errors under v0");
    let relaxed = validate(v0.with_unknown_types(Severity::Warning), log);
    assert_eq!(relaxed.errors(), 0);
    insta::assert_snapshot!("real_log_auto", text_report(&auto));
    insta::assert_snapshot!("real_log_strict", text_report(&strict));
    insta::assert_snapshot!("real_log_unknown_types_warn", text_report(&relaxed));
}

#[test]
fn crafted_bad_log_snapshot() {
    let log = include_bytes!("../../../testdata/validate/crafted-bad.jsonl");
    let options = Options::default().with_secrets(vec![Secret::new(
        "API_TOKEN",
        SecretValue::new("s3cr3tValue123"),
        vec![],
    )]);
    let report = validate(options, log);
    let text = text_report(&report);
    assert!(!text.contains("s3cr3tValue123") && !text.contains("dXNlcjpzM2NyM3RWYWx1ZTEyMw"));
    assert!(!text.contains("abcdefghijklmnopqrstuvwxyz"));
    insta::assert_snapshot!("crafted_bad", text);
}

#[test]
fn chunking_does_not_change_results() {
    let log = include_bytes!("../../../testdata/validate/crafted-bad.jsonl");
    let reference = validate(Options::default().with_threads(1), log);
    for chunk_size in [1, 13, 100, 300] {
        for threads in [1, 2, 3] {
            let got = validate(
                Options::default()
                    .with_threads(threads)
                    .with_chunk_size(chunk_size),
                log,
            );
            assert_eq!(got.findings, reference.findings, "{chunk_size} {threads}");
            assert_eq!((got.lines, got.events), (reference.lines, reference.events));
        }
    }
}

#[test]
fn over_long_lines_are_skipped() {
    let good = include_str!("../../../conformance/logs/valid_v0_all_types.jsonl");
    let mut log = String::new();
    log.push_str(good);
    log.push_str(&format!("{{\"x\":\"{}\"}}\n", "a".repeat(5000)));
    log.push_str(good);
    for chunk_size in [64, 1 << 20] {
        let report = validate(
            Options::default()
                .with_max_line_len(1000)
                .with_chunk_size(chunk_size),
            log.as_bytes(),
        );
        let rules: Vec<_> = report.findings.iter().map(|f| (f.line, f.rule)).collect();
        assert_eq!(rules, vec![(6, Rule::LineTooLong)], "{chunk_size}");
        assert_eq!(report.lines, 11);
        assert_eq!(report.events, 10);
    }
}

/// A v0 event of `event_type` (a request or a response) with `exchange_id` (none when empty).
fn exchange_line(event_type: &str, exchange_id: &str) -> String {
    let mut data = serde_json::json!({"method": "POST", "host": "api.openai.com",
        "path": "/v1/chat/completions", "routed": false, "status_code": 200,
        "duration_ms": 5, "body_bytes": 10});
    if !exchange_id.is_empty() {
        data["exchange_id"] = exchange_id.into();
    }
    let event = serde_json::json!({"ts": "2026-11-23T16:48:24Z", "run_id": "vm-1",
        "agent_system": "a", "event_type": event_type, "summary": "s", "data": data});
    format!("{event}\n")
}

/// Requests and responses are paired by `exchange_id` across chunks and workers: 300
/// exchanges answered out of order at a distance, every 7th request never answered, every
/// 11th response before its request, and one response to no request.
#[test]
fn exchanges_pair_however_the_file_is_cut() {
    let mut log = String::new();
    let mut expected = Vec::new();
    let mut line = 0u64;
    let mut push = |log: &mut String, t: &str, id: &str| {
        log.push_str(&exchange_line(t, id));
        line += 1;
        line
    };
    // Answered normally: not every 7th (never answered) nor every 11th (answered first).
    let normal = |n: u32| !n.is_multiple_of(7) && !n.is_multiple_of(11);
    for n in 0..305u32 {
        let id = format!("x-{n}");
        if n >= 300 {
            // Only the last answers.
        } else if n.is_multiple_of(11) && !n.is_multiple_of(7) {
            let at = push(&mut log, "llm_response", &id);
            expected.push((at, Rule::ExchangeOrphanResponse));
            push(&mut log, "llm_request", &id);
        } else {
            let at = push(&mut log, "llm_request", &id);
            if n.is_multiple_of(7) {
                expected.push((at, Rule::ExchangeUnanswered));
            }
            push(&mut log, "llm_request", "");
        }
        // The response to the exchange five before this one.
        if n >= 5 && normal(n - 5) {
            push(&mut log, "llm_response", &format!("x-{}", n - 5));
        }
    }
    let at = push(&mut log, "llm_response", "nobody");
    expected.push((at, Rule::ExchangeOrphanResponse));
    expected.sort();
    for chunk_size in [97, 1000, 1 << 20] {
        for threads in [1, 2] {
            let options = Options::default()
                .with_threads(threads)
                .with_chunk_size(chunk_size)
                .with_max_findings_per_file(1000);
            let report = validate(options, log.as_bytes());
            let got: Vec<_> = report.findings.iter().map(|f| (f.line, f.rule)).collect();
            assert_eq!(got, expected, "{chunk_size} {threads}");
            assert!(
                report
                    .findings
                    .iter()
                    .all(|f| f.severity == Severity::Warning)
            );
            assert_eq!(report.lines, line);
        }
    }
}

/// A run the error budget stopped did not read the file's end: what is still unpaired there
/// is not reported.
#[test]
fn a_run_stopped_early_reports_no_unanswered_request() {
    let log = format!("{}x\nx\n", exchange_line("llm_request", "x-1"));
    let all = validate(Options::default(), log.as_bytes());
    let rules: Vec<_> = all.findings.iter().map(|f| (f.line, f.rule)).collect();
    assert_eq!(
        rules,
        [
            (1, Rule::ExchangeUnanswered),
            (2, Rule::JsonSyntax),
            (3, Rule::JsonSyntax)
        ]
    );
    assert!(all.findings[0].message.contains("the log ends at line 3"));
    let stopped = validate(Options::default().with_max_errors(Some(1)), log.as_bytes());
    assert!(stopped.truncated);
    let rules: Vec<_> = stopped.findings.iter().map(|f| f.rule).collect();
    assert_eq!(rules, [Rule::JsonSyntax]);
}

#[test]
fn max_errors_truncates() {
    let log = "x\n".repeat(100);
    let report = validate(
        Options::default()
            .with_max_errors(Some(3))
            .with_chunk_size(8),
        log.as_bytes(),
    );
    assert_eq!(report.errors(), 3);
    assert!(report.truncated);
    let lines: Vec<u64> = report.findings.iter().map(|f| f.line).collect();
    assert_eq!(lines, vec![1, 2, 3]);
}

#[test]
fn short_secret_is_refused_by_name() {
    let options = Options::default().with_secrets(vec![Secret::new(
        "TINY",
        SecretValue::new("1234567"),
        vec![],
    )]);
    let err = Validator::new(options).err().expect("refused").to_string();
    assert!(err.contains("TINY") && !err.contains("1234567"), "{err}");
}

// ---------- property tests ----------

const EVENT_ALPHABET: &str = "[a-z ]{0,30}";

/// Random event lines built only from lower-case letters and spaces (plus the JSON and
/// envelope punctuation), so they can never contain a secret drawn from upper-case letters
/// and digits in any encoding of length >= 8.
fn event_line(summary: &str, field: &str, value: &str) -> String {
    serde_json::json!({
        "ts": "2026-02-24T23:03:15Z",
        "run_id": "vm-abc",
        "agent_system": "agent",
        "event_type": "llm_request",
        "summary": summary,
        "data": { "method": "post", "host": "api", "path": "/v", "routed": false, field: value }
    })
    .to_string()
}

fn encodings(secret: &str, offset: usize, pad: bool, pick: u8) -> String {
    let mut blob = vec![b'u'; offset];
    blob.extend_from_slice(secret.as_bytes());
    blob.extend_from_slice(b"!tail");
    let b64 = |url: bool| {
        use base64::engine::general_purpose::*;
        match (url, pad) {
            (false, true) => STANDARD.encode(&blob),
            (false, false) => STANDARD_NO_PAD.encode(&blob),
            (true, true) => URL_SAFE.encode(&blob),
            (true, false) => URL_SAFE_NO_PAD.encode(&blob),
        }
    };
    match pick % 7 {
        0 => secret.to_owned(),
        1 => secret
            .chars()
            .map(|c| format!("\\u{:04x}", c as u32))
            .collect(),
        2 => format!("Basic {}", b64(false)),
        3 => b64(true),
        4 => secret.bytes().map(|b| format!("%{b:02X}")).collect(),
        5 => secret.bytes().map(|b| format!("{b:02x}")).collect(),
        _ => secret.bytes().map(|b| format!("{b:02X}")).collect(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn embedded_secret_is_always_flagged(
        secret in "[A-Z0-9+/=?&]{8,24}",
        summary in EVENT_ALPHABET,
        offset in 0usize..7,
        pad in any::<bool>(),
        pick in 0u8..7,
        in_key in any::<bool>(),
    ) {
        let encoded = encodings(&secret, offset, pad, pick);
        let mut line = if in_key {
            event_line(&summary, "__KEY__", "v")
        } else {
            event_line(&summary, "authorization", "__VALUE__")
        };
        // \u escapes must stay escapes: put the encoded text in the JSON source as is.
        let placeholder = if in_key { "__KEY__" } else { "__VALUE__" };
        let raw_json = if pick % 7 == 1 { encoded.clone() } else {
            serde_json::to_string(&encoded).unwrap().trim_matches('"').to_owned()
        };
        line = line.replace(placeholder, &raw_json);
        line.push('\n');
        let options = Options::default().with_secrets(vec![Secret::new("PROP_SECRET", SecretValue::new(secret.clone()), vec![])]).with_builtin_detectors(false);
        let report = validate(options, line.as_bytes());
        let hits: Vec<_> = report.findings.iter().filter(|f| f.rule == Rule::SecretValue).collect();
        prop_assert_eq!(hits.len(), 1, "{} {:?}", line, report.findings);
        let expected_pointer = if in_key { "/data" } else { "/data/authorization" };
        prop_assert_eq!(hits[0].pointer.as_deref(), Some(expected_pointer));
        for f in &report.findings {
            prop_assert!(!f.message.contains(&secret) && !f.message.contains(&encoded));
            prop_assert!(!f.pointer.as_deref().unwrap_or("").contains(&secret));
        }
    }

    #[test]
    fn lines_without_the_secret_are_not_flagged(
        secret in "[A-Z0-9]{8,24}",
        summary in "[a-z][a-z ]{0,30}",
        value in EVENT_ALPHABET,
    ) {
        let line = format!("{}\n", event_line(&summary, "note", &value));
        let options = Options::default().with_secrets(vec![Secret::new("PROP_SECRET", SecretValue::new(secret), vec![])]);
        let report = validate(options, line.as_bytes());
        prop_assert!(report.findings.is_empty(), "{:?}", report.findings);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), chunk in 1usize..64) {
        let options = Options::default().with_secrets(vec![Secret::new("S", SecretValue::new("abcdefgh"), vec![])]).with_chunk_size(chunk).with_max_line_len(200);
        let report = validate(options, &bytes);
        let newlines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        prop_assert!(report.lines == newlines || report.lines == newlines + 1);
    }

    #[test]
    fn arbitrary_json_like_lines_never_panic(lines in proptest::collection::vec("[{}\\[\\]\":,a-z0-9\\\\ ]{0,80}", 0..20)) {
        let log = lines.join("\n");
        let _ = validate(Options::default(), log.as_bytes());
    }
}

/// Past the per-file limit findings are counted, not kept: memory stays bounded while every
/// count stays exact, and the report says how many were left out.
#[test]
fn findings_past_the_limit_are_counted_not_kept() {
    let mut log = Vec::new();
    for _ in 0..50 {
        log.extend_from_slice(b"not json\n");
    }
    let options = Options::default()
        .with_max_findings_per_file(10)
        .with_allow_empty(true);
    let report = validate(options, &log);
    assert_eq!(report.findings.len(), 10);
    assert_eq!(report.errors(), 50);
    assert_eq!(report.omitted_count(), 40);
    assert_eq!(report.findings.last().map(|f| f.line), Some(10));
    let whole = agentlog_validate::Report {
        files: vec![report],
    };
    assert_eq!(whole.summary().by_rule.get("json.syntax"), Some(&50));
    let mut text = Vec::new();
    agentlog_validate::report::write(&whole, agentlog_validate::report::Format::Text, &mut text)
        .unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("40 more finding(s) counted but not listed"),
        "{text}"
    );
    let mut json = Vec::new();
    agentlog_validate::report::write(&whole, agentlog_validate::report::Format::Json, &mut json)
        .unwrap();
    let json: Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(json["files"][0]["findings_omitted"], 40);
    assert_eq!(json["summary"]["errors"], 50);
}

/// Keys and file names come from the input: no output format may let them forge a finding line,
/// drive the terminal, or break the document's syntax.
#[test]
fn outputs_neutralize_hostile_keys_and_file_names() {
    use agentlog_validate::report::{self, Format};
    let line = "{\"ts\":\"2026-02-24T23:03:15Z\",\"run_id\":\"vm-abc\",\"agent_system\":\"a\",\
        \"event_type\":\"llm_request\",\"summary\":\"s\",\
        \"x\\n/tmp/log.jsonl:9: error[forged]\\u001b[2J\\u202e\\uffff\":1}\n";
    let validator = Validator::new(Options::default()).expect("validator");
    let file = validator.validate_reader(
        "dir\n/x.jsonl:1: ok\u{1b}]0;t\u{7}\u{fffe}",
        line.as_bytes(),
    );
    assert!(file.errors() > 0, "{:?}", file.findings);
    let report = agentlog_validate::Report { files: vec![file] };
    for format in [
        Format::Text,
        Format::Github,
        Format::Junit,
        Format::Json,
        Format::Sarif,
    ] {
        let mut out = Vec::new();
        report::write(&report, format, &mut out).expect("write");
        let out = String::from_utf8(out).expect("utf-8");
        let forbidden = |c: char| {
            (c.is_control() && c != '\n' && c != '\t')
                || matches!(c, '\u{202e}' | '\u{fffe}' | '\u{ffff}')
        };
        // JSON and SARIF carry the exact text, escaped in JSON syntax (consumers get the key).
        let line_oriented = !matches!(format, Format::Json | Format::Sarif);
        assert!(
            !line_oriented || !out.chars().any(forbidden),
            "{format:?}: raw control character in {out:?}"
        );
        assert!(
            !out.contains("error[forged]")
                || !out.lines().any(|l| l.starts_with("/tmp/log.jsonl:9")),
            "{format:?}: a key forged a finding line: {out}"
        );
        match format {
            Format::Json | Format::Sarif => {
                serde_json::from_str::<Value>(&out).expect("valid JSON");
            }
            Format::Text | Format::Github => {
                // Every line is a finding of the one file, or the summary.
                for l in out.lines() {
                    assert!(
                        l.starts_with("dir\\u{000A}")
                            || l.starts_with("::")
                            || l.starts_with("FAILED:")
                            || l.starts_with("ok:"),
                        "{format:?}: unexpected line {l:?}"
                    );
                }
            }
            _ => {}
        }
    }
}
