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
//! The v1 profile's schemas against what the reference sandbox really writes:
//! - every line of the two matchlock fixtures (written by the reference's Go writer) validates
//!   against the v1 envelope, split and bundled, and the examples in the files are those lines;
//! - for each v1 type, a wrong field type and a missing required field fail, at the field;
//! - the decisions v1 makes (`agent_system` and `path` may be empty, v0's llm_* types are not
//!   v1 types, `key_injection` is deprecated) are pinned;
//! - the bundle and the split files agree on generated lines, valid and broken.
//!
//! The lines are built as JSON here, not with the library's event types: v1's profile is a
//! property of the schemas, whichever Rust types a producer writes it with.

use agentlog_core::schema::{self, Profile};
use jsonschema::Validator;
use jsonschema::error::ValidationErrorKind;
use proptest::prelude::*;
use serde_json::{Value, json};

const GO_WRITER: &str =
    include_str!("../../../testdata/real-logs/matchlock-go-writer-events.jsonl");
const PR77: &str = include_str!("../../../testdata/real-logs/matchlock-pr77-examples-events.jsonl");

const V1: Profile = Profile::V1;

fn split() -> &'static Validator {
    V1.envelope().expect("v1 envelope compiles")
}

fn bundled() -> &'static Validator {
    static BUNDLE: std::sync::OnceLock<Validator> = std::sync::OnceLock::new();
    BUNDLE.get_or_init(|| schema::compile("v1 bundle", &V1.bundle()).expect("v1 bundle compiles"))
}

/// Every line of both fixtures, parsed, with its file and line number.
fn fixture_lines() -> Vec<(&'static str, usize, Value)> {
    [("go-writer", GO_WRITER), ("pr77", PR77)]
        .into_iter()
        .flat_map(|(name, text)| {
            text.lines().enumerate().map(move |(i, line)| {
                let value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("{name}:{}: not JSON: {e}", i + 1));
                (name, i + 1, value)
            })
        })
        .collect()
}

/// The errors of the split envelope, as `instance path: message`.
fn errors(value: &Value) -> Vec<String> {
    split()
        .iter_errors(value)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn every_fixture_line_validates_against_v1() {
    let lines = fixture_lines();
    assert!(lines.len() >= 30, "only {} lines", lines.len());
    let mut types = std::collections::BTreeSet::new();
    for (file, line, value) in &lines {
        let errors = errors(value);
        assert!(errors.is_empty(), "{file}:{line}: {errors:?}");
        assert!(bundled().is_valid(value), "{file}:{line}: bundle refuses");
        let event_type = value["event_type"].as_str().expect("event_type");
        // v1 is the reference's real set: the fixtures hold no v0-only type (llm_request,
        // llm_response), and every type in them is a v1 type whose data is checked.
        assert!(V1.defines(event_type), "{file}:{line}: {event_type}");
        types.insert(event_type.to_owned());
    }
    // The six types the reference writes today, and the deprecated one, are all exercised.
    for t in [
        "http_request",
        "http_response",
        "gate_decision",
        "route_decision",
        "request_transform",
        "response_transform",
        "key_injection",
    ] {
        assert!(types.contains(t), "no {t} line in the fixtures");
    }
}

#[test]
fn v0_refuses_what_the_reference_writes() {
    // The reason v1 exists: under v0 these lines are unknown types (their data unchecked) and
    // the v0 envelope accepts them only because it lets unknown types through.
    let v0 = schema::envelope().unwrap();
    let gate = json!({"ts": "2026-11-23T16:48:24Z", "run_id": "vm-1", "agent_system": "a",
        "event_type": "gate_decision", "summary": "s", "data": {"host": 42, "allowed": "yes"}});
    assert!(v0.is_valid(&gate), "v0 does not check gate_decision data");
    assert!(!split().is_valid(&gate), "v1 checks it");
}

#[test]
fn examples_are_the_reference_output() {
    let lines = fixture_lines();
    let envelope = V1.envelope_file().json();
    for example in envelope["examples"].as_array().expect("envelope examples") {
        assert!(
            lines.iter().any(|(_, _, line)| line == example),
            "envelope example is no fixture line: {example}"
        );
    }
    for file in V1.data_files() {
        let of_type: Vec<&Value> = lines
            .iter()
            .filter(|(_, _, line)| line["event_type"] == file.name)
            .map(|(_, _, line)| &line["data"])
            .collect();
        if of_type.is_empty() {
            // budget_action: the reference never emitted one; its examples are v0's.
            assert_eq!(file.name, "budget_action");
            continue;
        }
        for example in file.json()["examples"].as_array().expect("examples") {
            assert!(
                of_type.contains(&example),
                "{} example is no fixture line's data: {example}",
                file.name
            );
        }
    }
}

/// One v1 type: a valid `data`, the fields its schema requires, and wrong values per field.
struct Case {
    event_type: &'static str,
    data: Value,
    required: &'static [&'static str],
    wrong: &'static [(&'static str, &'static str)],
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            event_type: "http_request",
            data: json!({"method": "POST", "host": "openrouter.ai", "path": "/v1/chat/completions", "routed": true, "routed_to": "192.168.86.246:11434"}),
            required: &["method", "host", "path", "routed"],
            wrong: &[
                ("method", "1"),
                ("method", r#""""#),
                ("host", "null"),
                ("host", r#""""#),
                ("path", "false"),
                ("model", "[]"),
                ("model", r#""""#),
                ("routed", r#""true""#),
                ("routed", "0"),
                ("routed_to", "11434"),
                ("routed_to", r#""""#),
                ("exchange_id", "7"),
                ("exchange_id", r#""""#),
                ("reserved_usd", r#""0.5""#),
                ("reserved_usd", "-1"),
            ],
        },
        Case {
            event_type: "http_response",
            data: json!({"method": "POST", "host": "api.anthropic.com", "path": "/v1/messages", "status_code": 200, "duration_ms": 1234, "body_bytes": 8192, "cost_usd": 0.0012, "cost_source": "provider"}),
            required: &[
                "method",
                "host",
                "path",
                "status_code",
                "duration_ms",
                "body_bytes",
            ],
            wrong: &[
                ("method", "{}"),
                ("host", r#""""#),
                ("path", "1"),
                ("status_code", r#""200""#),
                ("status_code", "200.5"),
                ("status_code", "-1"),
                ("duration_ms", r#""1234ms""#),
                ("duration_ms", "-1"),
                ("body_bytes", "1.5"),
                ("body_bytes", "-8192"),
                ("model", "7"),
                ("model", r#""""#),
                ("input_tokens", "-1"),
                ("output_tokens", r#""5""#),
                ("cached_input_tokens", "1.5"),
                ("cache_creation_input_tokens", "null"),
                ("reasoning_tokens", "-2"),
                ("cost_usd", r#""0.01""#),
                ("cost_usd", "-0.01"),
                ("cost_source", r#""guess""#),
                ("usage", r#""zero""#),
                ("exchange_id", "[]"),
                ("exchange_id", r#""""#),
                ("service_tier", r#""fast""#),
                ("service_tier", r#""""#),
            ],
        },
        Case {
            event_type: "gate_decision",
            data: json!({"host": "evil.example", "allowed": false, "reason": "host not in allowlist"}),
            required: &["host", "allowed"],
            wrong: &[
                ("host", "42"),
                ("host", r#""""#),
                ("allowed", r#""yes""#),
                ("allowed", "null"),
                ("reason", "false"),
                ("reason", r#""""#),
                ("pattern", "[]"),
                ("pattern", r#""""#),
                ("exchange_id", "7"),
                ("exchange_id", r#""""#),
            ],
        },
        Case {
            event_type: "route_decision",
            data: json!({"host": "openrouter.ai", "action": "redirected", "routed_to": "192.168.86.246:11434", "reason": "matched"}),
            required: &["host", "action"],
            wrong: &[
                ("host", "1"),
                ("action", "true"),
                ("action", r#""blocked""#),
                ("action", r#""""#),
                ("routed_to", "11434"),
                ("routed_to", r#""""#),
                ("reason", "{}"),
                ("exchange_id", "null"),
                ("exchange_id", r#""""#),
            ],
        },
        Case {
            event_type: "request_transform",
            data: json!({"host": "api.openai.com", "action": "injected", "reason": "1 secret(s) injected for api.openai.com"}),
            required: &["host", "action"],
            wrong: &[
                ("host", "[]"),
                ("action", "1"),
                ("action", r#""""#),
                ("reason", "2"),
                ("reason", r#""""#),
                ("exchange_id", "{}"),
                ("exchange_id", r#""""#),
            ],
        },
        Case {
            event_type: "response_transform",
            data: json!({"host": "openrouter.ai", "action": "logged_usage", "reason": "recorded $0.0012 cost"}),
            required: &["host", "action"],
            wrong: &[
                ("host", r#""""#),
                ("action", "null"),
                ("reason", "0.0012"),
                ("exchange_id", "false"),
                ("exchange_id", r#""""#),
            ],
        },
        Case {
            event_type: "budget_action",
            data: json!({"action": "warn", "tokens_used": 12000, "cost_usd": 0.42, "remaining": -1.5}),
            required: &["action"],
            wrong: &[
                ("action", "1"),
                ("action", r#""""#),
                ("tokens_used", "1.5"),
                ("tokens_used", "-1"),
                ("tokens_used", r#""12000""#),
                ("cost_usd", r#""0.42""#),
                ("cost_usd", "-0.01"),
                ("remaining", "null"),
                ("exchange_id", "1"),
                ("exchange_id", r#""""#),
            ],
        },
        Case {
            event_type: "key_injection",
            data: json!({"secret_name": "OPENAI_API_KEY", "host": "api.openai.com", "action": "injected"}),
            required: &["secret_name", "host", "action"],
            wrong: &[
                ("secret_name", "1"),
                ("secret_name", r#""""#),
                ("host", "true"),
                ("action", r#""leaked""#),
                ("action", "[]"),
                ("exchange_id", "[]"),
                ("exchange_id", r#""""#),
            ],
        },
    ]
}

fn line(event_type: &str, data: Value) -> Value {
    json!({"ts": "2026-11-23T16:48:24.133534185Z", "run_id": "vm-503ad4d1",
        "agent_system": "openclaw", "event_type": event_type, "summary": "s", "data": data})
}

#[test]
fn cases_cover_every_v1_type_and_its_required_fields() {
    let cases = cases();
    let names: Vec<&str> = cases.iter().map(|c| c.event_type).collect();
    assert_eq!(names, V1.event_types().collect::<Vec<_>>());
    for case in &cases {
        let file = V1.find(case.event_type).unwrap();
        assert_eq!(
            file.json()["required"],
            json!(case.required),
            "{}",
            case.event_type
        );
        // Every declared property gets at least one wrong value.
        for prop in file.json()["properties"].as_object().unwrap().keys() {
            assert!(
                case.wrong.iter().any(|(f, _)| f == prop),
                "{}: no wrong value for {prop}",
                case.event_type
            );
        }
    }
}

#[test]
fn each_v1_type_checks_its_data() {
    for case in cases() {
        let t = case.event_type;
        let valid = line(t, case.data.clone());
        assert_eq!(errors(&valid), Vec::<String>::new(), "{t}");
        assert!(bundled().is_valid(&valid), "{t}");
        let data_validator = V1
            .data_validator(&t.parse().unwrap())
            .expect("a data schema")
            .expect("compiles");
        assert!(data_validator.is_valid(&case.data), "{t}");

        for field in case.required {
            let mut broken = valid.clone();
            broken["data"].as_object_mut().unwrap().remove(*field);
            let found: Vec<_> = split().iter_errors(&broken).collect();
            assert!(
                found.iter().any(|e| e.instance_path().as_str() == "/data"
                    && matches!(e.kind(), ValidationErrorKind::Required { property } if property == field)),
                "{t} without {field}: {:?}",
                found.iter().map(ToString::to_string).collect::<Vec<_>>()
            );
            assert!(!bundled().is_valid(&broken), "{t} without {field}: bundle");
            assert!(
                !data_validator.is_valid(&broken["data"]),
                "{t} without {field}"
            );
        }

        for (field, wrong) in case.wrong {
            let mut broken = valid.clone();
            broken["data"][*field] = serde_json::from_str(wrong).unwrap();
            let pointer = format!("/data/{field}");
            let found = errors(&broken);
            assert!(
                !found.is_empty() && found.iter().all(|e| e.starts_with(&pointer)),
                "{t}.{field} = {wrong}: {found:?}"
            );
            assert!(
                !bundled().is_valid(&broken),
                "{t}.{field} = {wrong}: bundle"
            );
        }
    }
}

#[test]
fn v1_decisions() {
    let base = line(
        "http_request",
        json!({"method": "GET", "host": "example.com", "path": "", "routed": false}),
    );
    // An absolute-form request line gives `"path":""` in the reference: valid in v1 (for
    // http_response too), never in v0's llm_* types.
    assert_eq!(errors(&base), Vec::<String>::new());
    let response = line(
        "http_response",
        json!({"method": "GET", "host": "example.com", "path": "", "status_code": 200, "duration_ms": 0, "body_bytes": 0}),
    );
    assert_eq!(errors(&response), Vec::<String>::new());
    let mut v0_line = base.clone();
    v0_line["event_type"] = json!("llm_request");
    assert!(!schema::envelope().unwrap().is_valid(&v0_line));

    // `agent_system: ""` (started without --agent-system) passes the v1 schema (the validator
    // reports it by a rule of its own); v0 refuses it. Absent is refused by both.
    let mut unknown_agent = base.clone();
    unknown_agent["agent_system"] = json!("");
    assert_eq!(errors(&unknown_agent), Vec::<String>::new());
    assert!(bundled().is_valid(&unknown_agent));
    let mut as_v0 = unknown_agent.clone();
    as_v0["event_type"] = json!("key_injection");
    as_v0["data"] = json!({"secret_name": "K", "host": "h", "action": "injected"});
    assert!(split().is_valid(&as_v0));
    assert!(!schema::envelope().unwrap().is_valid(&as_v0));
    unknown_agent
        .as_object_mut()
        .unwrap()
        .remove("agent_system");
    assert!(!split().is_valid(&unknown_agent));
    for field in ["run_id", "summary", "event_type", "plugin"] {
        let mut empty = base.clone();
        empty[field] = json!("");
        assert!(!split().is_valid(&empty), "{field} empty");
    }

    // v0's llm_request/llm_response are not v1 types: they pass the v1 envelope as any
    // unknown type does (data unchecked), and `agentlog validate` reports the type.
    assert!(!V1.defines("llm_request") && !V1.defines("llm_response"));
    let llm = line("llm_request", json!({"anything": 1}));
    assert!(split().is_valid(&llm));
    let other = line("tool_call", json!({"host": 1}));
    assert!(split().is_valid(&other));

    // The envelope stays closed, as in v0.
    let mut extra = base.clone();
    extra["agent"] = json!("openclaw");
    assert!(!split().is_valid(&extra));

    // key_injection is deprecated in favour of request_transform, and says so.
    let key_injection = V1.find("key_injection").unwrap().json();
    assert_eq!(key_injection["deprecated"], json!(true));
    assert!(
        key_injection["description"]
            .as_str()
            .unwrap()
            .contains("`request_transform` replaces it")
    );
    for file in V1.files() {
        let deprecated = file.json().get("deprecated").is_some();
        assert_eq!(deprecated, file.name == "key_injection", "{}", file.name);
    }
}

// ---- generated lines: split == bundle ----------------------------------------------------

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9_.:/ -]{1,24}",
        "[<>&\u{2028}\u{2029}\u{2026}é\"\\\\a-z\u{0}-\u{1f}]{1,12}",
        "\\PC{1,16}",
    ]
}

fn opt_text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), text()]
}

/// Puts `key: value` into `map` unless the value is what Go's `omitempty` leaves out.
fn put(map: &mut serde_json::Map<String, Value>, key: &str, value: Value) {
    let empty = matches!(&value, Value::String(s) if s.is_empty())
        || value == json!(0)
        || value == json!(0.0);
    if !empty {
        map.insert(key.into(), value);
    }
}

/// A v1 event type and a valid `data` for it, as the reference writes them (omitempty).
fn v1_data() -> impl Strategy<Value = (String, Value)> {
    let http_request = (
        (text(), text(), opt_text()),
        opt_text(),
        any::<bool>(),
        opt_text(),
    )
        .prop_map(|((method, host, path), model, routed, routed_to)| {
            let mut m = serde_json::Map::new();
            m.insert("method".into(), json!(method));
            m.insert("host".into(), json!(host));
            m.insert("path".into(), json!(path));
            put(&mut m, "model", json!(model));
            m.insert("routed".into(), json!(routed));
            put(&mut m, "routed_to", json!(routed_to));
            ("http_request".to_owned(), Value::Object(m))
        });
    let http_response = (
        (text(), text(), opt_text()),
        (0u16..1000, any::<i64>(), any::<i64>()),
        opt_text(),
    )
        .prop_map(|((method, host, path), (status, duration, bytes), model)| {
            let mut m = serde_json::Map::new();
            m.insert("method".into(), json!(method));
            m.insert("host".into(), json!(host));
            m.insert("path".into(), json!(path));
            m.insert("status_code".into(), json!(status));
            m.insert("duration_ms".into(), json!(duration.unsigned_abs()));
            m.insert("body_bytes".into(), json!(bytes.unsigned_abs()));
            put(&mut m, "model", json!(model));
            ("http_response".to_owned(), Value::Object(m))
        });
    let gate = (text(), any::<bool>(), opt_text(), opt_text()).prop_map(
        |(host, allowed, reason, pattern)| {
            let mut m = serde_json::Map::new();
            m.insert("host".into(), json!(host));
            m.insert("allowed".into(), json!(allowed));
            put(&mut m, "reason", json!(reason));
            put(&mut m, "pattern", json!(pattern));
            ("gate_decision".to_owned(), Value::Object(m))
        },
    );
    let route = (
        text(),
        prop_oneof![Just("passthrough"), Just("redirected")],
        opt_text(),
        opt_text(),
    )
        .prop_map(|(host, action, routed_to, reason)| {
            let mut m = serde_json::Map::new();
            m.insert("host".into(), json!(host));
            m.insert("action".into(), json!(action));
            put(&mut m, "routed_to", json!(routed_to));
            put(&mut m, "reason", json!(reason));
            ("route_decision".to_owned(), Value::Object(m))
        });
    let transform = (
        prop_oneof![Just("request_transform"), Just("response_transform")],
        text(),
        text(),
        opt_text(),
    )
        .prop_map(|(t, host, action, reason)| {
            let mut m = serde_json::Map::new();
            m.insert("host".into(), json!(host));
            m.insert("action".into(), json!(action));
            put(&mut m, "reason", json!(reason));
            (t.to_owned(), Value::Object(m))
        });
    let budget = (text(), any::<u32>(), 0.0f64..1e12, -1e12f64..1e12).prop_map(
        |(action, tokens, cost, remaining)| {
            let mut m = serde_json::Map::new();
            m.insert("action".into(), json!(action));
            put(&mut m, "tokens_used", json!(tokens));
            put(&mut m, "cost_usd", json!(cost));
            put(&mut m, "remaining", json!(remaining));
            ("budget_action".to_owned(), Value::Object(m))
        },
    );
    let injection = (
        text(),
        text(),
        prop_oneof![Just("injected"), Just("skipped"), Just("leak_blocked")],
    )
        .prop_map(|(secret_name, host, action)| {
            (
                "key_injection".to_owned(),
                json!({"secret_name": secret_name, "host": host, "action": action}),
            )
        });
    // Types v1 does not define, v0's among them: their data is free-form.
    let other = (
        prop_oneof![
            Just("llm_request".to_owned()),
            Just("llm_response".to_owned()),
            "[a-z_]{1,16}"
        ],
        proptest::collection::btree_map("[a-z]{1,8}", text(), 0..4),
    )
        .prop_filter("not a v1 type", |(t, _)| !V1.defines(t))
        .prop_map(|(t, data)| (t, json!(data)));
    prop_oneof![
        http_request,
        http_response,
        gate,
        route,
        transform,
        budget,
        injection,
        other
    ]
}

fn ts() -> impl Strategy<Value = String> {
    // RFC3339Nano as Go writes it, with and without a fraction; and with an offset.
    (
        1970u32..2100,
        1u32..13,
        1u32..29,
        0u32..24,
        0u32..60,
        0u32..60,
        proptest::option::of(1u32..1_000_000_000),
        prop_oneof![Just("Z".to_owned()), Just("+05:30".to_owned())],
    )
        .prop_map(|(y, mo, d, h, mi, s, frac, zone)| {
            let frac = frac
                .map(|n| format!(".{n:09}").trim_end_matches('0').to_owned())
                .unwrap_or_default();
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{zone}")
        })
}

/// A valid v1 line: envelope fields as the Go writer writes them (plugin and tags omitted
/// when empty, `agent_system` possibly empty) around a generated `data`.
fn v1_line() -> impl Strategy<Value = Value> {
    (
        ts(),
        text(),
        opt_text(),
        text(),
        opt_text(),
        proptest::collection::vec(text(), 0..3),
        v1_data(),
    )
        .prop_map(
            |(ts, run_id, agent_system, summary, plugin, tags, (event_type, data))| {
                let mut m = serde_json::Map::new();
                m.insert("ts".into(), json!(ts));
                m.insert("run_id".into(), json!(run_id));
                m.insert("agent_system".into(), json!(agent_system));
                m.insert("event_type".into(), json!(event_type));
                m.insert("summary".into(), json!(summary));
                put(&mut m, "plugin", json!(plugin));
                if !tags.is_empty() {
                    m.insert("tags".into(), json!(tags));
                }
                m.insert("data".into(), data);
                Value::Object(m)
            },
        )
}

/// A way to break a line.
#[derive(Clone, Debug)]
enum Breakage {
    Remove(&'static str),
    WrongType(&'static str, Value),
    Empty(&'static str),
    UnknownField,
    RemoveDataField(usize),
    WrongDataType(usize, Value),
}

const ENVELOPE_FIELDS: [&str; 8] = [
    "ts",
    "run_id",
    "agent_system",
    "event_type",
    "summary",
    "plugin",
    "tags",
    "data",
];

fn breakage() -> impl Strategy<Value = Breakage> {
    let required = prop_oneof![
        Just("ts"),
        Just("run_id"),
        Just("agent_system"),
        Just("event_type"),
        Just("summary")
    ];
    let wrong = prop_oneof![
        Just(json!(1)),
        Just(json!(null)),
        Just(json!(true)),
        Just(json!([1])),
        Just(json!(1.5)),
        Just(json!(-3)),
        Just(json!({})),
        Just(json!("2026-02-24T23:02:34")),
    ];
    prop_oneof![
        required.clone().prop_map(Breakage::Remove),
        (
            proptest::sample::select(&ENVELOPE_FIELDS[..]),
            wrong.clone()
        )
            .prop_map(|(f, v)| Breakage::WrongType(f, v)),
        required.prop_map(Breakage::Empty),
        Just(Breakage::UnknownField),
        (0usize..8).prop_map(Breakage::RemoveDataField),
        (0usize..8, wrong).prop_map(|(i, v)| Breakage::WrongDataType(i, v)),
    ]
}

/// The JSON type names a schema property accepts.
fn accepts(prop: &Value, value: &Value) -> bool {
    match (prop["type"].as_str(), value) {
        (Some("string"), Value::String(_)) => true,
        (Some("boolean"), Value::Bool(_)) => true,
        (Some("integer"), Value::Number(n)) => n.as_u64().is_some(),
        (Some("number"), Value::Number(n)) => {
            prop.get("minimum").is_none() || n.as_f64() >= Some(0.0)
        }
        _ => false,
    }
}

/// Applies a breakage; returns whether the result must be invalid.
fn apply(value: &mut Value, breakage: &Breakage) -> bool {
    let data_schema = value["event_type"]
        .as_str()
        .and_then(|t| V1.find(t).filter(|_| V1.defines(t)))
        .map(|f| f.json());
    let Value::Object(map) = value else {
        return false;
    };
    match breakage {
        Breakage::Remove(field) => map.remove(*field).is_some(),
        Breakage::Empty(field) => {
            map.insert((*field).into(), json!(""));
            // v1 accepts an empty agent_system (the reference writes it).
            *field != "agent_system"
        }
        Breakage::UnknownField => {
            map.insert("unknown_field".into(), json!("x"));
            true
        }
        Breakage::WrongType(field, v) => {
            let must_fail = match (*field, v) {
                ("ts", Value::String(_)) => true, // not a date-time with an offset
                (_, Value::String(_)) => false,
                ("data", Value::Object(_)) => data_schema.is_some(), // required fields gone
                _ => true,
            };
            map.insert((*field).into(), v.clone());
            must_fail
        }
        Breakage::RemoveDataField(index) => {
            let Some(schema) = data_schema else {
                return false;
            };
            let required = schema["required"].as_array().cloned().unwrap_or_default();
            match (
                required
                    .get(index % required.len().max(1))
                    .and_then(Value::as_str),
                map.get_mut("data"),
            ) {
                (Some(field), Some(Value::Object(data))) => data.remove(field).is_some(),
                _ => false,
            }
        }
        Breakage::WrongDataType(index, v) => {
            let Some(schema) = data_schema else {
                return false;
            };
            let props = schema["properties"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            let Some((field, prop)) = props.iter().nth(index % props.len().max(1)) else {
                return false;
            };
            let Some(Value::Object(data)) = map.get_mut("data") else {
                return false;
            };
            data.insert(field.clone(), v.clone());
            // A date-like string is a fine string; otherwise the value is of another type.
            !accepts(prop, v)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn generated_lines_validate(line in v1_line()) {
        if let Some(error) = split().iter_errors(&line).next() {
            prop_assert!(false, "{} at {}: {}", line, error.instance_path(), error);
        }
        prop_assert!(bundled().is_valid(&line));
    }

    #[test]
    fn broken_lines_are_rejected_by_split_and_bundle(line in v1_line(), breakage in breakage()) {
        let mut value = line;
        let must_fail = apply(&mut value, &breakage);
        let split = split().is_valid(&value);
        let bundled = bundled().is_valid(&value);
        prop_assert_eq!(split, bundled, "split and bundle disagree on {}", value);
        if must_fail {
            prop_assert!(!split, "{:?} accepted: {}", breakage, value);
        }
    }
}
