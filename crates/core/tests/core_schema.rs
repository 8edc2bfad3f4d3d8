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
//! The schemas against themselves and against the library:
//! - every schema of every profile is valid 2020-12 and every `examples` entry validates;
//! - every event the library can build validates and round-trips through serde;
//! - broken envelopes are rejected, by the split schemas and the bundle alike.

use agentlog_core::event::go_json::GoFormatter;
use agentlog_core::event::{
    BudgetAction, Event, EventType, InjectionAction, KeyInjection, LlmRequest, LlmResponse,
    Timestamp,
};
use agentlog_core::schema;
use proptest::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};
use time::{OffsetDateTime, UtcOffset};

fn bundle_validator() -> jsonschema::Validator {
    schema::compile("bundle", &schema::bundle()).expect("bundle compiles")
}

/// Every published file, v0 then v1.
fn all_files() -> impl Iterator<Item = &'static schema::SchemaFile> {
    schema::Profile::ALL.iter().flat_map(|p| p.files())
}

#[test]
fn every_schema_is_valid_2020_12() {
    for file in all_files() {
        let json = file.json();
        assert_eq!(
            json["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        if let Err(e) = jsonschema::meta::validate(&json) {
            panic!("{} is not a valid schema: {e}", file.name);
        }
        schema::compile(file.name, &json).expect("compiles offline");
    }
    for profile in schema::Profile::ALL {
        jsonschema::meta::validate(&profile.bundle()).expect("bundle is a valid schema");
    }
}

/// Every property has a description; the ids share one base URI.
#[test]
fn every_property_is_documented() {
    for file in all_files() {
        let json = file.json();
        assert!(json["title"].is_string(), "{} has no title", file.name);
        assert!(
            json["description"].is_string(),
            "{} has no description",
            file.name
        );
        assert!(json["examples"].is_array(), "{} has no examples", file.name);
        assert!(file.id().starts_with(file.profile.base_uri()));
        for (name, prop) in json["properties"].as_object().expect("properties") {
            assert!(
                prop["description"].is_string(),
                "{}: property {name} has no description",
                file.name
            );
        }
    }
}

#[test]
fn every_example_validates() {
    let mut checked = 0;
    for file in all_files() {
        let json = file.json();
        let whole = schema::compile(file.name, &json).expect("compiles");
        for example in json["examples"].as_array().expect("examples") {
            assert!(whole.is_valid(example), "{} example {example}", file.name);
            checked += 1;
        }
        for (name, prop) in json["properties"].as_object().expect("properties") {
            let Some(examples) = prop["examples"].as_array() else {
                continue;
            };
            let validator = schema::compile(name, prop).expect("property compiles");
            for example in examples {
                assert!(
                    validator.is_valid(example),
                    "{}.{name} example {example}",
                    file.name
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 80, "only {checked} examples found");
}

#[test]
fn envelope_selects_data_schema_by_type() {
    let envelope = schema::envelope().unwrap();
    let base =
        json!({"ts": "2026-02-24T23:02:34Z", "run_id": "r", "agent_system": "a", "summary": "s"});
    let with = |event_type: &str, data: Value| {
        let mut v = base.clone();
        v["event_type"] = json!(event_type);
        v["data"] = data;
        v
    };
    // routed is required for llm_request only; an unknown type's data is free-form.
    let no_routed = json!({"method": "POST", "host": "h", "path": "/"});
    assert!(!envelope.is_valid(&with("llm_request", no_routed.clone())));
    assert!(envelope.is_valid(&with("gate_decision", no_routed)));
    assert!(!envelope.is_valid(&with(
        "key_injection",
        json!({"secret_name": "K", "host": "h", "action": "leaked"})
    )));
    assert!(envelope.is_valid(&with(
        "key_injection",
        json!({"secret_name": "K", "host": "h", "action": "skipped"})
    )));
    assert!(!envelope.is_valid(&with("llm_response", json!({"method": "POST", "host": "h", "path": "/", "status_code": -1, "duration_ms": 1, "body_bytes": 1}))));
    // `ts` is a date-time with offset: format assertion is on.
    let mut no_offset = with("budget_action", json!({"action": "warn"}));
    assert!(envelope.is_valid(&no_offset));
    no_offset["ts"] = json!("2026-02-24T23:02:34");
    assert!(!envelope.is_valid(&no_offset));
}

// ---- generators -----------------------------------------------------------------------

fn text() -> impl Strategy<Value = String> {
    // Printable text including what Go escapes specially (<, >, &, U+2028) and non-ASCII.
    prop_oneof![
        "[a-zA-Z0-9_.:/ -]{1,24}",
        "[<>&\u{2028}\u{2029}\u{2026}é\"\\\\a-z\u{0}-\u{1f}]{1,12}",
        "\\PC{1,16}",
    ]
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    // Years 0001..=9999, nanosecond precision, whole-minute offsets.
    (
        -62_135_596_800i64..253_402_300_799i64,
        0u32..1_000_000_000,
        -(23 * 60 + 59)..=(23 * 60 + 59i32),
    )
        .prop_filter_map("representable", |(secs, nanos, offset_min)| {
            let offset =
                UtcOffset::from_hms((offset_min / 60) as i8, (offset_min % 60) as i8, 0).ok()?;
            let at = OffsetDateTime::from_unix_timestamp(secs)
                .ok()?
                .replace_nanosecond(nanos)
                .ok()?
                .checked_to_offset(offset)?;
            Timestamp::new(at).ok()
        })
}

fn opt_text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), text()]
}

fn payload_event() -> impl Strategy<Value = (Timestamp, String, String, u8, Event)> {
    let request = (
        text(),
        text(),
        text(),
        opt_text(),
        any::<bool>(),
        opt_text(),
        (opt_text(), proptest::option::of(0.0f64..1e6)),
    )
        .prop_map(
            |(method, host, path, model, routed, routed_to, (exchange_id, reserved_usd))| {
                Event::new(
                    Timestamp::now(),
                    "x",
                    "x",
                    LlmRequest {
                        method,
                        host,
                        path,
                        model,
                        routed,
                        routed_to,
                        exchange_id,
                        reserved_usd,
                    },
                )
            },
        );
    let response = (
        (text(), text(), text()),
        (any::<u64>(), any::<u64>(), any::<u64>()),
        opt_text(),
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<u64>()),
        (
            proptest::option::of(any::<u64>()),
            proptest::option::of(any::<u64>()),
            proptest::option::of(any::<u64>()),
        ),
        (
            proptest::option::of((
                0.0f64..1e6,
                proptest::sample::select(vec!["provider", "price_table"]),
            )),
            proptest::sample::select(vec!["", "unknown", "partial"]),
            opt_text(),
            proptest::sample::select(vec!["", "standard", "priority", "flex", "batch"]),
        ),
    )
        .prop_map(
            |(
                (method, host, path),
                (status_code, duration_ms, body_bytes),
                model,
                input_tokens,
                output_tokens,
                (cached_input_tokens, cache_creation_input_tokens, reasoning_tokens),
                (cost, usage, exchange_id, service_tier),
            )| {
                Event::new(
                    Timestamp::now(),
                    "x",
                    "x",
                    LlmResponse {
                        method,
                        host,
                        path,
                        status_code,
                        duration_ms,
                        body_bytes,
                        model,
                        input_tokens,
                        output_tokens,
                        cached_input_tokens,
                        cache_creation_input_tokens,
                        reasoning_tokens,
                        cost_usd: cost.map(|(usd, _)| usd),
                        cost_source: cost.map(|(_, source)| source.into()).unwrap_or_default(),
                        service_tier: service_tier.into(),
                        usage: usage.into(),
                        exchange_id,
                    },
                )
            },
        );
    let budget = (
        text(),
        any::<u64>(),
        0.0f64..1e12,
        -1e12f64..1e12,
        opt_text(),
    )
        .prop_map(|(action, tokens_used, cost_usd, remaining, exchange_id)| {
            Event::new(
                Timestamp::now(),
                "x",
                "x",
                BudgetAction {
                    action,
                    tokens_used,
                    cost_usd,
                    remaining,
                    exchange_id,
                },
            )
        });
    let injection = (
        text(),
        text(),
        prop_oneof![
            Just(InjectionAction::Injected),
            Just(InjectionAction::Skipped),
            Just(InjectionAction::LeakBlocked)
        ],
        opt_text(),
    )
        .prop_map(|(secret_name, host, action, exchange_id)| {
            Event::new(
                Timestamp::now(),
                "x",
                "x",
                KeyInjection {
                    secret_name,
                    host,
                    action,
                    exchange_id,
                },
            )
        });
    let other = (
        "[a-z_]{1,16}",
        text(),
        proptest::option::of(proptest::collection::btree_map("[a-z]{1,8}", text(), 0..4)),
    )
        .prop_filter("not a type with typed data", |(t, _, _)| {
            !EventType::from_name(t).is_known()
        })
        .prop_map(|(t, summary, data)| {
            let data = data.map(|m| m.into_iter().map(|(k, v)| (k, Value::String(v))).collect());
            Event::untyped(
                Timestamp::now(),
                "x",
                "x",
                EventType::from_name(&t),
                summary,
                data,
            )
        });
    (
        timestamp(),
        text(),
        text(),
        any::<u8>(),
        prop_oneof![request, response, budget, injection, other],
    )
}

/// Any event the library can build: a payload plus envelope fields, summary, plugin, tags.
fn event() -> impl Strategy<Value = Event> {
    (
        payload_event(),
        opt_text(),
        proptest::collection::vec(text(), 0..3),
        proptest::option::of(text()),
    )
        .prop_map(
            |((ts, run_id, agent_system, _, mut event), plugin, tags, summary)| {
                event.ts = ts;
                event.run_id = run_id;
                event.agent_system = agent_system;
                event.plugin = plugin;
                event.tags = tags;
                if let Some(summary) = summary {
                    event.summary = summary;
                }
                event
            },
        )
}

/// A way to break an envelope.
#[derive(Clone, Debug)]
enum Breakage {
    Remove(&'static str),
    WrongType(&'static str, Value),
    Empty(&'static str),
    UnknownField,
    RemoveDataField(usize),
}

fn breakage() -> impl Strategy<Value = Breakage> {
    let required = prop_oneof![
        Just("ts"),
        Just("run_id"),
        Just("agent_system"),
        Just("event_type"),
        Just("summary")
    ];
    let any_field = prop_oneof![
        Just("ts"),
        Just("run_id"),
        Just("agent_system"),
        Just("event_type"),
        Just("summary"),
        Just("plugin"),
        Just("tags"),
        Just("data")
    ];
    let wrong = prop_oneof![
        Just(json!(1)),
        Just(json!(null)),
        Just(json!(true)),
        Just(json!([1])),
        Just(json!(1.5)),
        Just(json!("2026-02-24T23:02:34")),
    ];
    prop_oneof![
        required.clone().prop_map(Breakage::Remove),
        (any_field, wrong).prop_map(|(f, v)| Breakage::WrongType(f, v)),
        required.prop_map(Breakage::Empty),
        Just(Breakage::UnknownField),
        (0usize..8).prop_map(Breakage::RemoveDataField),
    ]
}

/// Applies a breakage; returns whether the result must be invalid (some breakages are no-ops
/// for some events, e.g. removing a data field of an untyped event).
fn apply(value: &mut Value, event: &Event, breakage: &Breakage) -> bool {
    let Value::Object(map) = value else {
        return false;
    };
    match breakage {
        Breakage::Remove(field) => map.remove(*field).is_some(),
        Breakage::Empty(field) => {
            map.insert((*field).into(), json!(""));
            true
        }
        Breakage::UnknownField => {
            map.insert("unknown_field".into(), json!("x"));
            true
        }
        Breakage::WrongType(field, v) => {
            // A string is right for the string fields, an array of strings would be right
            // for tags; the generated wrong values are never those except the date-like
            // string, which is wrong for `ts` only.
            let wrong_for_field = match (*field, v) {
                ("ts", Value::String(_)) => true,
                (_, Value::String(_)) => false,
                ("data", Value::Null | Value::Bool(_) | Value::Number(_) | Value::Array(_)) => true,
                _ => true,
            };
            map.insert((*field).into(), v.clone());
            wrong_for_field
        }
        Breakage::RemoveDataField(index) => {
            let required: &[&str] = match event.event_type {
                EventType::LlmRequest => &["method", "host", "path", "routed"],
                EventType::LlmResponse => &[
                    "method",
                    "host",
                    "path",
                    "status_code",
                    "duration_ms",
                    "body_bytes",
                ],
                EventType::BudgetAction => &["action"],
                EventType::KeyInjection => &["secret_name", "host", "action"],
                EventType::Other(_) => &[],
                _ => &[],
            };
            match (
                required.get(index % required.len().max(1)),
                map.get_mut("data"),
            ) {
                (Some(field), Some(Value::Object(data))) => data.remove(*field).is_some(),
                _ => false,
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn built_events_validate_and_round_trip(event in event()) {
        prop_assert_eq!(event.check(), Ok(()));
        let line = event.to_json().unwrap();
        let value: Value = serde_json::from_str(&line).unwrap();
        let envelope = schema::envelope().unwrap();
        if let Some(error) = envelope.iter_errors(&value).next() {
            prop_assert!(false, "{} at {}: {}", line, error.instance_path(), error);
        }
        prop_assert!(bundle_validator().is_valid(&value));
        // The writer's hand-written fast path agrees with the derived serde format, with Go's
        // number text and Go's escapes (which can only occur inside strings, so replacing
        // them textually is exact).
        let mut via_serde = Vec::new();
        event
            .serialize(&mut serde_json::Serializer::with_formatter(&mut via_serde, GoFormatter))
            .unwrap();
        let via_serde = String::from_utf8(via_serde)
            .unwrap()
            .replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026")
            .replace('\u{2028}', "\\u2028")
            .replace('\u{2029}', "\\u2029");
        prop_assert_eq!(&line, &via_serde);
        let back: Event = serde_json::from_str(&line).unwrap();
        prop_assert_eq!(&back, &event);
        prop_assert_eq!(back.to_json().unwrap(), line);
    }

    #[test]
    fn broken_envelopes_are_rejected_by_split_and_bundle(event in event(), breakage in breakage()) {
        let mut value = serde_json::to_value(&event).unwrap();
        let must_fail = apply(&mut value, &event, &breakage);
        let split = schema::envelope().unwrap().is_valid(&value);
        let bundled = bundle_validator().is_valid(&value);
        prop_assert_eq!(split, bundled, "split and bundle disagree on {}", value);
        if must_fail {
            prop_assert!(!split, "{:?} accepted: {}", breakage, value);
            // And the library refuses to read it as an event.
            prop_assert!(serde_json::from_value::<Event>(value).is_err() || matches!(breakage, Breakage::Empty(_)));
        }
    }
}
