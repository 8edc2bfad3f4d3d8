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
//! The ledger profile's schema (`schema/ledger/v1/tool_call.schema.json`):
//! - the seed's example validates, and each field made wrong in type or value fails, at that
//!   field and by the keyword that should catch it;
//! - what the kit says about the public implementation's real output: each of its lines fails
//!   for the reasons the schema's description gives (`ts_iso`, `denial:<reason>`, risk-event
//!   records), and for no other;
//! - every record the library builds validates, and the library refuses what the schema
//!   refuses (property tests).

use agentlog_core::ledger::{
    Args, ArgsHash, HashForm, Ledger, LedgerConfig, ResultStatus, RiskFlag, ToolCall, ToolCallInput,
};
use agentlog_core::schema::Profile;
use jsonschema::Validator;
use proptest::prelude::*;
use serde_json::{Value, json};

const REAL_LOG: &str = include_str!("../../../testdata/real-logs/myca-ledger-writer-events.jsonl");

fn validator() -> &'static Validator {
    Profile::Ledger.envelope().expect("ledger schema compiles")
}

/// `(instance path, keyword)` of every error.
fn errors(value: &Value) -> Vec<(String, String)> {
    validator()
        .iter_errors(value)
        .map(|e| (e.instance_path().to_string(), e.kind().keyword().to_owned()))
        .collect()
}

/// The seed's example record, with its placeholder hash (`sha256:abc123...`, which the
/// pattern refuses on purpose) replaced by a real one.
fn seed_example() -> Value {
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

#[test]
fn the_seed_example_validates_and_its_placeholder_hash_does_not() {
    assert_eq!(errors(&seed_example()), []);
    let mut placeholder = seed_example();
    placeholder["args_hash"] = json!("sha256:abc123...");
    assert_eq!(
        errors(&placeholder),
        [("/args_hash".to_owned(), "pattern".to_owned())]
    );
    // And it is the record the library reads and checks.
    let record: ToolCall = serde_json::from_value(seed_example()).unwrap();
    assert_eq!(record.check(), Ok(()));
    assert_eq!(serde_json::to_value(&record).unwrap(), seed_example());
}

#[test]
fn each_field_wrong_in_type_or_value_fails_at_that_field() {
    let cases: &[(&str, Value, &str)] = &[
        ("ts", json!("1708200000"), "type"),
        ("ts", json!(1708200000.5), "type"),
        ("ts", json!(-1), "minimum"),
        ("ts", json!(253402300800i64), "maximum"),
        ("session_id", json!(123), "type"),
        ("session_id", json!(""), "minLength"),
        ("agent", json!(null), "type"),
        ("agent", json!(""), "minLength"),
        ("tool", json!(["file_editor"]), "type"),
        ("tool", json!(""), "minLength"),
        ("args_hash", json!(42), "type"),
        ("args_hash", json!("sha256:ABC"), "pattern"),
        (
            "args_hash",
            json!(format!("sha256:{}", "A".repeat(64))),
            "pattern",
        ),
        (
            "args_hash",
            json!(format!("md5:{}", "0".repeat(64))),
            "pattern",
        ),
        ("result_status", json!("failed"), "enum"),
        ("result_status", json!(true), "enum"),
        ("elapsed_ms", json!(-1), "minimum"),
        ("elapsed_ms", json!(1.5), "type"),
        ("elapsed_ms", json!("150"), "type"),
        ("error_class", json!(7), "type"),
        ("error_class", json!(""), "minLength"),
        ("risk_flags", json!("timeout"), "type"),
        ("risk_flags", json!(["denial:network"]), "enum"),
        ("risk_flags", json!(["timeout", "timeout"]), "uniqueItems"),
        ("risk_flags", json!([1]), "type"),
        ("artifacts", json!("path/to/file.py"), "type"),
        ("artifacts", json!([1]), "type"),
        ("artifacts", json!([""]), "minLength"),
    ];
    for (field, value, keyword) in cases {
        let mut record = seed_example();
        record[field] = value.clone();
        let errors = errors(&record);
        assert!(
            errors
                .iter()
                .any(|(path, k)| path.starts_with(&format!("/{field}")) && k == keyword),
            "{field} = {value}: expected {keyword}, got {errors:?}"
        );
        // The library refuses the same line.
        let parsed = serde_json::from_value::<ToolCall>(record);
        assert!(
            parsed.map_or(true, |r| r.check().is_err()),
            "library accepts {field} = {value}"
        );
    }
}

#[test]
fn every_field_is_required_and_no_other_is_allowed() {
    for field in seed_example().as_object().unwrap().keys() {
        let mut record = seed_example();
        record.as_object_mut().unwrap().remove(field);
        assert_eq!(
            errors(&record),
            [(String::new(), "required".to_owned())],
            "without {field}"
        );
    }
    // Arguments cannot slip in under any name.
    let mut record = seed_example();
    record["args"] = json!({"cmd": "cat ~/.ssh/id_rsa"});
    assert_eq!(
        errors(&record),
        [(String::new(), "additionalProperties".to_owned())]
    );
    // A success has no error class.
    let mut record = seed_example();
    record["error_class"] = json!("OSError");
    assert!(!validator().is_valid(&record));
    record["result_status"] = json!("error");
    assert!(validator().is_valid(&record));
}

/// The public implementation's real output, line by line: each deviation the schema's
/// description names is found, and nothing else.
#[test]
fn the_public_implementations_lines_fail_for_the_documented_reasons() {
    let lines: Vec<Value> = REAL_LOG
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 7);
    for (i, line) in lines.iter().enumerate() {
        let errors = errors(line);
        let mut expected = vec![(String::new(), "additionalProperties".to_owned())]; // ts_iso
        if line["risk_flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f.as_str().unwrap().starts_with("denial:"))
        {
            expected.push(("/risk_flags/1".into(), "enum".into()));
        }
        if line.get("event_type").is_some() {
            // A risk-event record: another kind, without the tool-call fields.
            expected = vec![
                (String::new(), "additionalProperties".into()),
                (String::new(), "required".into()),
            ];
        }
        let mut got = errors.clone();
        got.sort();
        got.dedup();
        expected.sort();
        assert_eq!(got, expected, "line {}: {errors:?}", i + 1);
        // Without `ts_iso` a tool-call line of the public implementation is a valid record.
        let mut fixed = line.clone();
        fixed.as_object_mut().unwrap().remove("ts_iso");
        if line.get("event_type").is_none() && got.len() == 1 {
            assert!(validator().is_valid(&fixed), "line {}", i + 1);
        }
    }
}

// ---- property: every record the library builds validates ----------------------------

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_]{1,16}",
        "\\PC{1,12}",
        "[é\u{2028}\"\\\\<>\u{1f600}]{1,6}"
    ]
}

fn input() -> impl Strategy<Value = (ToolCallInput<'static>, Option<String>)> {
    (
        (text(), text(), any::<[u8; 32]>()),
        (
            0usize..4,
            0u64..=(1u64 << 53) - 1,
            proptest::option::of(text()),
        ),
        proptest::sample::subsequence(RiskFlag::ALL.to_vec(), 0..=7),
        prop::collection::vec(text(), 0..4),
        proptest::option::of(text()),
    )
        .prop_map(
            |((agent, tool, digest), (status, elapsed, class), flags, artifacts, session)| {
                let status = ResultStatus::ALL[status];
                let args = Args::Hash(ArgsHash::from_digest(digest));
                let mut call = ToolCallInput::new(agent, tool, args, status).elapsed_ms(elapsed);
                if let (Some(class), false) = (class, status == ResultStatus::Success) {
                    call = call.error_class(class);
                }
                for flag in flags.iter().chain(&flags) {
                    call = call.risk_flag(*flag);
                }
                for artifact in artifacts {
                    call = call.artifact(artifact);
                }
                (call, session)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_record_the_library_builds_validates(
        (call, session) in input(),
        ts in 0i64..=253_402_300_799,
        pseudonymize in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut config = LedgerConfig::default();
        if let Some(session) = session {
            config = config.with_session_id(session);
        }
        if pseudonymize {
            let key = agentlog_core::ledger::PseudonymKey::new(*b"0123456789abcdef").unwrap();
            config = config.with_pseudonym_key(key);
        }
        let at = time::OffsetDateTime::from_unix_timestamp(ts).unwrap();
        let ledger = Ledger::open(dir.path(), config)
            .unwrap()
            .with_clock(agentlog_core::ledger::FixedClock(at));
        let record = ledger.log_tool_call(call).unwrap();
        let text = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
        let line: Value = serde_json::from_str(text.trim_end()).unwrap();
        prop_assert_eq!(errors(&line), Vec::<(String, String)>::new());
        prop_assert_eq!(&serde_json::from_value::<ToolCall>(line).unwrap(), &record);
        prop_assert_eq!(record.ts, ts);
        prop_assert_eq!(record.session_id.starts_with("hmac-sha256:"), pseudonymize);
    }

    #[test]
    fn hashing_json_arguments_gives_a_valid_hash(args in "\\PC{0,40}", form in 0usize..2) {
        let value = Value::String(args);
        let hash = ArgsHash::of(&value, HashForm::ALL[form]).to_string();
        let mut record = seed_example();
        record["args_hash"] = json!(hash);
        prop_assert!(validator().is_valid(&record));
    }
}
