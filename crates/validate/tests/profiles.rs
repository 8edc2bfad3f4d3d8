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
//! Profiles: every v1 data field checked with the right rule and pointer, how `auto` chooses
//! a file's profile, the `profile.mixed` finding, and results that do not depend on how the
//! input was cut into chunks while the profile was still undecided.

use agentlog_validate::{
    CheckedProfile, ChosenBy, FileReport, Options, Profile, ProfileChoice, Rule, Severity,
    Validator,
};
use serde_json::{Value, json};

fn validate(options: Options, log: &str) -> FileReport {
    let chunk_size = options.chunk_size;
    let validator = Validator::new(options.with_builtin_detectors(false)).expect("validator");
    validator.validate_reader("log.jsonl", Trickle(log.as_bytes(), chunk_size))
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

fn line(event_type: &str, agent_system: &str, data: &Value) -> String {
    let mut event = json!({
        "ts": "2026-11-23T16:48:24.133534185Z",
        "run_id": "vm-503ad4d1",
        "agent_system": agent_system,
        "event_type": event_type,
        "summary": "s",
    });
    event["data"] = data.clone();
    format!("{event}\n")
}

/// A valid `data` of every v1 type, each optional field present, as the Go writer fills them.
fn v1_examples() -> Vec<(&'static str, Value)> {
    vec![
        (
            "http_request",
            json!({"method": "POST", "host": "openrouter.ai", "path": "/v1/chat/completions",
                   "model": "gpt-4o", "routed": true, "routed_to": "192.168.86.246:11434"}),
        ),
        (
            "http_response",
            json!({"method": "POST", "host": "openrouter.ai", "path": "/v1/chat/completions",
                   "status_code": 200, "duration_ms": 1234, "body_bytes": 8192, "model": "gpt-4o",
                   "input_tokens": 100, "output_tokens": 50, "cached_input_tokens": 0,
                   "cache_creation_input_tokens": 0, "reasoning_tokens": 0,
                   "cost_usd": 0.00075, "cost_source": "provider", "usage": "partial"}),
        ),
        (
            "gate_decision",
            json!({"host": "evil.example", "allowed": false, "reason": "host not in allowlist",
                   "pattern": "*.openai.com"}),
        ),
        (
            "route_decision",
            json!({"host": "openrouter.ai", "action": "redirected",
                   "routed_to": "192.168.86.246:11434", "reason": "matched model"}),
        ),
        (
            "request_transform",
            json!({"host": "api.openai.com", "action": "injected", "reason": "1 secret(s) injected"}),
        ),
        (
            "response_transform",
            json!({"host": "openrouter.ai", "action": "logged_usage", "reason": "recorded $0.0012"}),
        ),
        (
            "key_injection",
            json!({"secret_name": "API_KEY", "host": "api.example.com", "action": "injected"}),
        ),
        (
            "budget_action",
            json!({"action": "warn", "tokens_used": 10, "cost_usd": 0.5, "remaining": 4.5}),
        ),
    ]
}

/// A value of the wrong JSON type for a field whose schema says `type`.
fn wrong_type(schema_type: &str) -> Value {
    match schema_type {
        "string" => json!(42),
        "boolean" => json!("yes"),
        "integer" => json!(1.5),
        _ => json!("1"),
    }
}

/// The only findings of `report` as `(rule, pointer)`.
fn findings(report: &FileReport) -> Vec<(Rule, String)> {
    report
        .findings
        .iter()
        .map(|f| (f.rule, f.pointer.clone().unwrap_or_default()))
        .collect()
}

#[test]
fn every_v1_data_field_is_checked_with_the_right_rule_and_pointer() {
    let examples = v1_examples();
    // The table covers every type the v1 profile defines.
    let names: Vec<&str> = examples.iter().map(|(t, _)| *t).collect();
    assert_eq!(names.len(), Profile::V1.event_types().count(), "{names:?}");
    let mut checked = 0;
    for (event_type, data) in &examples {
        let schema = Profile::V1.find(event_type).expect("schema").json();
        for profile in [ProfileChoice::Auto, Profile::V1.into()] {
            let options = Options::default().with_profile(profile);
            let valid = validate(options.clone(), &line(event_type, "a", data));
            assert_eq!(findings(&valid), vec![], "{event_type} example is valid");
            for (field, property) in schema["properties"].as_object().expect("properties") {
                let pointer = format!("/data/{field}");
                let mut bad = data.clone();
                bad[field] = wrong_type(property["type"].as_str().expect("type"));
                let report = validate(options.clone(), &line(event_type, "a", &bad));
                let mut want = vec![(Rule::DataType, pointer.clone())];
                if property.get("enum").is_some() {
                    // A value outside an enum is also refused by the enum.
                    want.push((Rule::DataInvalid, pointer.clone()));
                }
                assert_eq!(findings(&report), want, "{event_type}: {field} {bad}");
                checked += 1;
            }
            for field in schema["required"].as_array().expect("required") {
                let field = field.as_str().expect("name");
                let mut missing = data.clone();
                missing.as_object_mut().expect("object").remove(field);
                let report = validate(options.clone(), &line(event_type, "a", &missing));
                let want = vec![(Rule::DataRequired, format!("/data/{field}"))];
                assert_eq!(findings(&report), want, "{event_type}: without {field}");
                checked += 1;
            }
        }
    }
    assert!(checked > 60, "{checked}");
}

#[test]
fn v1_data_values_the_schema_refuses_are_data_invalid() {
    let cases = [
        ("http_request", "method", json!("")),
        ("http_response", "status_code", json!(-1)),
        ("gate_decision", "reason", json!("")),
        ("route_decision", "action", json!("sideways")),
        ("request_transform", "host", json!("")),
        ("response_transform", "action", json!("")),
        ("key_injection", "action", json!("stolen")),
        ("budget_action", "cost_usd", json!(-0.5)),
    ];
    let examples = v1_examples();
    for (event_type, field, value) in cases {
        let (_, data) = examples.iter().find(|(t, _)| *t == event_type).unwrap();
        let mut bad = data.clone();
        bad[field] = value;
        let report = validate(Options::default(), &line(event_type, "a", &bad));
        let want = vec![(Rule::DataInvalid, format!("/data/{field}"))];
        assert_eq!(findings(&report), want, "{event_type}: {bad}");
    }
}

fn v0_request() -> String {
    line(
        "llm_request",
        "a",
        &json!({"method": "POST", "host": "h", "path": "/p", "routed": false}),
    )
}

fn v1_request() -> String {
    line(
        "http_request",
        "a",
        &json!({"method": "POST", "host": "h", "path": "", "routed": false}),
    )
}

fn shared(agent_system: &str) -> String {
    line("budget_action", agent_system, &json!({"action": "warn"}))
}

fn chosen(line: u64, event_type: &'static str, profile: Profile) -> Option<CheckedProfile> {
    Some(CheckedProfile {
        profile,
        chosen_by: ChosenBy::EventType { line, event_type },
    })
}

#[test]
fn auto_chooses_per_file_from_the_first_family_type() {
    let v1 = format!("{}{}{}", shared("a"), v1_request(), shared("a"));
    let report = validate(Options::default(), &v1);
    assert_eq!(report.profile, chosen(2, "http_request", Profile::V1));
    assert_eq!(report.findings, vec![]);

    let v0 = format!("{}{}", v0_request(), shared("a"));
    let report = validate(Options::default(), &v0);
    assert_eq!(report.profile, chosen(1, "llm_request", Profile::V0));
    assert_eq!(report.findings, vec![]);

    let default = Some(CheckedProfile {
        profile: Profile::V0,
        chosen_by: ChosenBy::Default,
    });
    let only_shared = format!("{}{}", shared("a"), shared("a"));
    assert_eq!(validate(Options::default(), &only_shared).profile, default);
    let empty = Options::default().with_allow_empty(true);
    assert_eq!(validate(empty, "").profile, default);

    let given = validate(Options::default().with_profile(Profile::V0), &v1);
    assert_eq!(
        given.profile,
        Some(CheckedProfile {
            profile: Profile::V0,
            chosen_by: ChosenBy::Option,
        })
    );
    assert_eq!(
        given.errors(),
        1,
        "http_request is unknown under a given v0"
    );
}

#[test]
fn lines_before_the_decision_are_judged_under_the_chosen_profile() {
    // agent_system "" on line 1, before the deciding line: a v1 warning or a v0 error.
    for (decider, rule, severity) in [
        (v1_request(), Rule::AgentSystemUnknown, Severity::Warning),
        (v0_request(), Rule::EnvelopeEmpty, Severity::Error),
    ] {
        let log = format!("{}{decider}{}", shared(""), shared(""));
        let report = validate(Options::default(), &log);
        let got: Vec<_> = report
            .findings
            .iter()
            .map(|f| (f.line, f.rule, f.severity, f.pointer.as_deref()))
            .collect();
        let at = Some("/agent_system");
        assert_eq!(got, vec![(1, rule, severity, at), (3, rule, severity, at)]);
    }
}

#[test]
fn a_file_mixing_both_families_is_profile_mixed_on_each_line_of_the_other() {
    let log = format!(
        "{}{}{}{}{}",
        shared("a"),
        v1_request(),
        v0_request(),
        v1_request(),
        v0_request()
    );
    let report = validate(Options::default(), &log);
    let mixed: Vec<_> = report
        .findings
        .iter()
        .map(|f| (f.line, f.rule, f.severity, f.pointer.as_deref()))
        .collect();
    let at = Some("/event_type");
    assert_eq!(
        mixed,
        vec![
            (3, Rule::ProfileMixed, Severity::Error, at),
            (5, Rule::ProfileMixed, Severity::Error, at),
        ]
    );
    let message = &report.findings[0].message;
    for part in ["llm_request", "v0-only", "v1", "line 2", "http_request"] {
        assert!(message.contains(part), "{message}");
    }
    // `--unknown-types warn` is for types neither profile defines; mixing stays an error.
    let relaxed = Options::default().with_unknown_types(Severity::Warning);
    assert_eq!(validate(relaxed, &log).errors(), 2);
    // A given profile has no family to mix: the other family's types are unknown to it.
    let v1 = validate(Options::default().with_profile(Profile::V1), &log);
    assert!(v1.findings.iter().all(|f| f.rule == Rule::EventTypeUnknown));
    assert_eq!(v1.errors(), 2);
}

/// A log whose profile is decided late (line 40), with held findings, several findings on
/// one line, a mixed line and other errors around the decision.
fn late_decision_log(decider: &str, other: &str) -> String {
    let mut log = String::new();
    for i in 0..40 {
        match i % 4 {
            0 => log.push_str(&shared("")),
            1 => log.push_str("not json\n"),
            2 => log.push_str(&line("tool_call", "", &json!({}))),
            _ => log.push_str(&shared("a")),
        }
    }
    log.push_str(decider);
    log.push_str(&shared(""));
    log.push_str(other);
    log.push_str(&line("llm_response", "", &json!({"method": 1})));
    log.push_str(&line("gate_decision", "", &json!({"host": 1})));
    log
}

#[test]
fn results_do_not_depend_on_chunking_or_threads_while_undecided() {
    let deciders = [
        (v1_request(), v0_request(), "http_request", Profile::V1),
        (v0_request(), v1_request(), "llm_request", Profile::V0),
    ];
    for (decider, other, event_type, profile) in deciders {
        let log = late_decision_log(&decider, &other);
        let full = validate(Options::default(), &log);
        assert_eq!(full.profile, chosen(41, event_type, profile));
        assert!(full.findings.windows(2).all(|w| w[0].line <= w[1].line));
        for keep in [10_000, 5, 3, 1, 0] {
            same_for_every_chunking(&log, keep, &full);
        }
        for max_errors in [1, 5, 30] {
            within_the_error_budget(&log, max_errors, &full);
        }
    }
    let full = validate(
        Options::default(),
        &late_decision_log(&v1_request(), &v0_request()),
    );
    // 20 held agent_system "" lines released as v1 warnings, plus lines 42, 44 and 45.
    let warnings = full
        .findings
        .iter()
        .filter(|f| f.rule == Rule::AgentSystemUnknown)
        .count();
    assert_eq!(warnings, 23, "{:#?}", full.findings);
}

/// Chunk sizes from one line per chunk to the whole input in one, with 1 to 3 workers.
const CHUNKINGS: [(usize, usize); 15] = [
    (1, 1),
    (1, 2),
    (1, 3),
    (13, 1),
    (13, 2),
    (13, 3),
    (100, 1),
    (100, 2),
    (100, 3),
    (300, 1),
    (300, 2),
    (300, 3),
    (1 << 20, 1),
    (1 << 20, 2),
    (1 << 20, 3),
];

/// With `keep` findings kept per file, every chunking keeps the first `keep` findings of
/// `full` (the unlimited report) and counts the rest exactly.
fn same_for_every_chunking(log: &str, keep: usize, full: &FileReport) {
    for (chunk_size, threads) in CHUNKINGS {
        let options = Options::default()
            .with_max_findings_per_file(keep)
            .with_threads(threads)
            .with_chunk_size(chunk_size);
        let got = validate(options, log);
        let at = format!("keep {keep} chunk {chunk_size} threads {threads}");
        let first: Vec<_> = full.findings.iter().take(keep).cloned().collect();
        assert_eq!(got.findings, first, "{at}");
        assert_eq!(got.profile, full.profile, "{at}");
        let counts = |r: &FileReport| (r.errors(), r.warnings(), r.lines, r.events);
        assert_eq!(counts(&got), counts(full), "{at}");
    }
}

/// With an error budget, every chunking stops with exactly `max_errors` errors, each one of
/// `full`'s findings: an empty agent_system held before the deciding line is counted once
/// the profile is known, so which errors fill the budget may depend on the chunking, never
/// whether the run fails.
fn within_the_error_budget(log: &str, max_errors: u64, full: &FileReport) {
    for (chunk_size, threads) in CHUNKINGS {
        let options = Options::default()
            .with_max_errors(Some(max_errors))
            .with_threads(threads)
            .with_chunk_size(chunk_size);
        let got = validate(options, log);
        let at = format!("max {max_errors} chunk {chunk_size} threads {threads}");
        assert_eq!(got.errors(), max_errors, "{at}");
        assert!(got.truncated, "{at}");
        for f in &got.findings {
            assert!(full.findings.contains(f), "{at}: {f:?}");
        }
    }
}
