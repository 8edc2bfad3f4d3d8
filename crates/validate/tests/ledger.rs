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
//! The tool-call ledger as a validator profile: auto-detection, the `ledger.*` rules with
//! their pointers, the public implementation's real output, and the secret scan.

use agentlog_validate::secrets::{Secret, SecretValue};
use agentlog_validate::{
    CheckedProfile, ChosenBy, FileReport, Options, Profile, ProfileChoice, Rule, Validator,
};
use serde_json::{Value, json};

const MYCA: &str = include_str!("../../../testdata/real-logs/myca-ledger-writer-events.jsonl");

fn validate(options: Options, log: &str) -> FileReport {
    Validator::new(options)
        .expect("validator")
        .validate_reader("events.jsonl", log.as_bytes())
}

fn triples(report: &FileReport) -> Vec<(u64, &'static str, String)> {
    report
        .findings
        .iter()
        .map(|f| (f.line, f.rule.id(), f.pointer.clone().unwrap_or_default()))
        .collect()
}

/// The seed's first example record.
fn record() -> Value {
    json!({
        "ts": 1708200000,
        "session_id": "abc-123",
        "agent": "dev_agent",
        "tool": "file_editor",
        "args_hash": "sha256:49b30f16e72ea41f0b63031d77d27480689c7d00cfccc58f18512b7819e200bb",
        "result_status": "success",
        "elapsed_ms": 150,
        "error_class": null,
        "risk_flags": [],
        "artifacts": ["path/to/file.py"]
    })
}

fn lines(records: &[Value]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

#[test]
fn the_public_implementations_real_output_gets_one_finding_per_deviation() {
    let expected: Vec<(u64, &str, String)> = vec![
        (1, "ledger.undeclared_field", "/ts_iso".into()),
        (2, "ledger.undeclared_field", "/ts_iso".into()),
        (3, "ledger.undeclared_field", "/ts_iso".into()),
        (4, "ledger.undeclared_field", "/ts_iso".into()),
        (5, "ledger.risk_flag", "/risk_flags/1".into()),
        (5, "ledger.undeclared_field", "/ts_iso".into()),
        (6, "ledger.undeclared_field", "/ts_iso".into()),
        (7, "ledger.record_kind", String::new()),
    ];
    for options in [
        Options::default(),
        Options::default().with_profile(Profile::Ledger),
        Options::default().with_threads(2).with_chunk_size(1),
    ] {
        let given = options.profile == Profile::Ledger;
        let report = validate(options, MYCA);
        assert_eq!((report.lines, report.events), (7, 7));
        assert_eq!(triples(&report), expected, "{:#?}", report.findings);
        let chosen_by = if given {
            ChosenBy::Option
        } else {
            ChosenBy::LedgerRecord { line: 1 }
        };
        let checked = CheckedProfile {
            profile: Profile::Ledger,
            chosen_by,
        };
        assert_eq!(report.profile, Some(checked));
        let kinds: Vec<_> = report.by_event_type.iter().collect();
        assert_eq!(
            kinds,
            [
                (&"risk_event".to_owned(), &1),
                (&"tool_call".to_owned(), &6)
            ]
        );
    }
    // The messages explain each deviation.
    let report = validate(Options::default(), MYCA);
    let message = |line: u64, rule: Rule| {
        let f = report
            .findings
            .iter()
            .find(|f| f.line == line && f.rule == rule);
        f.map(|f| f.message.clone()).unwrap_or_default()
    };
    assert!(message(1, Rule::LedgerUndeclaredField).contains("the record's time is ts"));
    assert!(
        message(5, Rule::LedgerRiskFlag).contains("denial:network"),
        "{}",
        message(5, Rule::LedgerRiskFlag)
    );
    assert!(message(5, Rule::LedgerRiskFlag).contains("result_status `denied`"));
    assert!(message(7, Rule::LedgerRecordKind).contains("risk-event record"));
    assert!(message(7, Rule::LedgerRecordKind).contains("injection_attempt"));
}

#[test]
fn the_seeds_examples_are_valid_under_auto_and_ledger() {
    let schema = agentlog_core::schema::Profile::Ledger
        .envelope_file()
        .json();
    let examples = schema["examples"].as_array().cloned().unwrap_or_default();
    assert_eq!(examples.len(), 3);
    let log = lines(&examples);
    for profile in [ProfileChoice::Auto, Profile::Ledger.into()] {
        let report = validate(Options::default().with_profile(profile), &log);
        assert_eq!(report.findings, [], "{profile}");
        assert_eq!(report.profile.map(|c| c.profile), Some(Profile::Ledger));
    }
    // The same records under an event-log profile are not events.
    let report = validate(Options::default().with_profile(Profile::V0), &log);
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule == Rule::EnvelopeMissing)
    );
}

/// Every field of the schema, given a value of the wrong JSON type, is `ledger.type` at its
/// pointer; removed, `ledger.required`.
#[test]
fn each_field_wrong_in_type_or_missing_has_its_rule_and_pointer() {
    let schema = agentlog_core::schema::Profile::Ledger
        .envelope_file()
        .json();
    let properties = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert_eq!(properties.len(), 10);
    for (name, property) in &properties {
        let wrong = match property["type"].as_str() {
            Some("string") | None => json!(12),
            Some("integer") => json!("12"),
            Some("array") => json!({}),
            Some(other) => panic!("type {other}"),
        };
        let mut bad = record();
        bad[name] = wrong;
        let mut missing = record();
        missing.as_object_mut().map(|m| m.remove(name));
        let report = validate(Options::default(), &lines(&[bad, missing]));
        assert_eq!(
            triples(&report),
            [
                (1, "ledger.type", format!("/{name}")),
                (2, "ledger.required", format!("/{name}"))
            ],
            "{name}"
        );
    }
}

#[test]
fn values_the_schema_refuses_have_their_rules() {
    let with = |key: &str, value: Value| {
        let mut r = record();
        r[key] = value;
        r
    };
    let log = lines(&[
        with("args_hash", json!("sha256:ABC")),
        with("risk_flags", json!(["timeout", "denial:path"])),
        with("args", json!({"path": "/etc/passwd"})),
        with("result_status", json!("ok")),
        with("error_class", json!("ValueError")),
        json!({"event_type": "telemetry_provenance", "device_id": "d", "chain_hash": "c"}),
        json!({}),
    ]);
    let report = validate(Options::default().with_profile(Profile::Ledger), &log);
    assert_eq!(
        triples(&report),
        [
            (1, "ledger.args_hash", "/args_hash".into()),
            (2, "ledger.risk_flag", "/risk_flags/1".into()),
            (3, "ledger.undeclared_field", "/args".into()),
            (4, "ledger.invalid", "/result_status".into()),
            (5, "ledger.invalid", "/error_class".into()),
            (6, "ledger.record_kind", String::new()),
            (7, "ledger.record_kind", String::new()),
        ]
    );
    assert!(report.findings[5].message.contains("telemetry_provenance"));
}

#[test]
fn auto_decides_the_family_at_the_first_json_object() {
    let ledger = lines(&[record()]);
    let event = "{\"ts\":\"2026-02-24T23:02:34Z\",\"run_id\":\"vm-1\",\"agent_system\":\"a\",\
                 \"event_type\":\"budget_action\",\"summary\":\"s\",\"data\":{\"action\":\"warn\"}}\n";
    // Non-object lines first: they do not decide, and their findings are the same.
    let log = format!("not json\n[1]\n\n{ledger}");
    for chunk_size in [1, 5, 1 << 20] {
        let options = Options::default().with_chunk_size(chunk_size);
        let report = validate(options, &log);
        assert_eq!(
            report.profile.map(|c| c.chosen_by),
            Some(ChosenBy::LedgerRecord { line: 4 }),
            "{chunk_size}"
        );
        let rules: Vec<_> = report.findings.iter().map(|f| (f.line, f.rule)).collect();
        assert_eq!(
            rules,
            [
                (1, Rule::JsonSyntax),
                (2, Rule::JsonNotObject),
                (3, Rule::LineBlank)
            ]
        );
    }
    // An event log stays one: a ledger record later in it is one `profile.mixed`.
    let report = validate(Options::default(), &format!("{event}{ledger}"));
    assert_eq!(report.profile.map(|c| c.profile), Some(Profile::V0));
    assert_eq!(triples(&report), [(2, "profile.mixed", String::new())]);
    // A risk-event record first still makes a ledger.
    let risk = "{\"ts\": 1, \"event_type\": \"injection_attempt\", \"description\": \"d\", \
                \"context_hash\": \"sha256:00\"}\n";
    let report = validate(Options::default(), &format!("{risk}{ledger}"));
    assert_eq!(report.profile.map(|c| c.profile), Some(Profile::Ledger));
    assert_eq!(triples(&report), [(1, "ledger.record_kind", String::new())]);
}

/// A sandbox event the reference writes.
const EVENT: &str = "{\"ts\":\"2026-02-24T23:02:34Z\",\"run_id\":\"vm-1\",\"agent_system\":\"a\",\
                     \"event_type\":\"http_request\",\"summary\":\"s\",\"data\":{\"method\":\"GET\",\
                     \"host\":\"h\",\"path\":\"/\",\"routed\":false}}\n";

/// The public implementation's risk-event record.
const RISK: &str = "{\"ts\": 1, \"session_id\": \"s\", \"event_type\": \"injection_attempt\", \
                    \"description\": \"d\", \"context_hash\": \"sha256:00\"}\n";

#[test]
fn under_auto_a_line_of_the_other_log_family_is_one_profile_mixed() {
    let ledger = lines(&[record()]);
    // The family is decided at line 2 (line 1 is not an object), whatever the chunking.
    let in_events = format!("not json\n{EVENT}{ledger}{EVENT}{RISK}");
    let in_ledger = format!("not json\n{ledger}{EVENT}{RISK}{{}}\n{ledger}");
    for options in [
        Options::default(),
        Options::default().with_chunk_size(1).with_threads(2),
        Options::default().with_chunk_size(7),
    ] {
        let report = validate(options.clone(), &in_events);
        assert_eq!(report.profile.map(|c| c.profile), Some(Profile::V1));
        let rules: Vec<_> = triples(&report).into_iter().map(|t| (t.0, t.1)).collect();
        assert_eq!(
            rules,
            [
                (1, "json.syntax"),
                (3, "profile.mixed"),
                (5, "profile.mixed")
            ]
        );
        let mixed = &report.findings[1].message;
        assert!(
            mixed.contains("is a sandbox event log (auto: line 2,"),
            "{mixed}"
        );
        assert!(mixed.contains("`tool`"), "{mixed}");
        assert!(report.findings[2].message.contains("`context_hash`"));

        let report = validate(options, &in_ledger);
        assert_eq!(report.profile.map(|c| c.profile), Some(Profile::Ledger));
        // The risk event and an object of neither family stay `ledger.record_kind`.
        assert_eq!(
            triples(&report),
            [
                (1, "json.syntax", String::new()),
                (3, "profile.mixed", String::new()),
                (4, "ledger.record_kind", String::new()),
                (5, "ledger.record_kind", String::new()),
            ]
        );
        let mixed = &report.findings[1].message;
        assert!(
            mixed.contains("is a tool-call ledger (auto: line 2,"),
            "{mixed}"
        );
    }
}

#[test]
fn a_given_profile_keeps_its_own_rules_for_the_other_log_family() {
    let ledger = lines(&[record()]);
    // --profile ledger: an event is one `ledger.record_kind` that says what it is.
    let options = Options::default().with_profile(Profile::Ledger);
    let report = validate(options, &format!("{ledger}{EVENT}"));
    assert_eq!(triples(&report), [(2, "ledger.record_kind", String::new())]);
    assert!(report.findings[0].message.contains("event-log event"));
    // --profile v0/v1: a ledger record gets the envelope findings, no `profile.mixed`.
    for profile in [Profile::V0, Profile::V1] {
        let options = Options::default().with_profile(profile);
        let report = validate(options, &format!("{EVENT}{ledger}"));
        let on_ledger: Vec<_> = report.findings.iter().filter(|f| f.line == 2).collect();
        assert!(on_ledger.iter().any(|f| f.rule == Rule::EnvelopeMissing));
        assert!(on_ledger.iter().all(|f| f.rule != Rule::ProfileMixed));
    }
}

#[test]
fn the_secret_scan_runs_on_ledger_lines() {
    let mut leaky = record();
    leaky["artifacts"] = json!(["/home/u/Zq7-leaky-VALUE-91x.txt"]);
    let mut pattern = record();
    pattern["session_id"] = json!("sk-proj-abcdefghijklmnopqrstuvwxyz0123");
    let options = Options::default().with_secrets(vec![Secret::new(
        "TOKEN",
        SecretValue::new("Zq7-leaky-VALUE-91x"),
        vec![],
    )]);
    let report = validate(options, &lines(&[leaky, pattern]));
    let rules: Vec<_> = report.findings.iter().map(|f| (f.line, f.rule)).collect();
    assert_eq!(
        rules,
        [(1, Rule::SecretValue), (2, Rule::SecretPattern)],
        "{:#?}",
        report.findings
    );
    assert!(
        report
            .findings
            .iter()
            .all(|f| !f.message.contains("Zq7-leaky") && !f.message.contains("abcdefghij"))
    );
}
