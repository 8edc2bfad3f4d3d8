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
//! The v1 payload types (what the reference's Go writer emits) and Go's number text in the
//! events: generated events check, round-trip byte for byte, and agree with the derived
//! serde format; builders derive the reference's summaries for any plugin; the typed
//! parsing refuses data of the wrong shape.

use agentlog_core::Record;
use agentlog_core::event::go_json::GoFormatter;
use agentlog_core::event::{
    BudgetAction, Event, EventData, EventError, EventType, GateDecision, HttpRequest, HttpResponse,
    LlmRequest, LlmResponse, Payload, RequestTransform, ResponseTransform, RouteDecision,
    Timestamp,
};
use proptest::prelude::*;
use serde::Serialize;

fn text() -> impl Strategy<Value = String> {
    // Printable text including what Go escapes specially (<, >, &, U+2028) and non-ASCII.
    prop_oneof![
        "[a-zA-Z0-9_.:/ -]{1,24}",
        "[<>&\u{2028}\u{2029}\u{2026}é\"\\\\a-z\u{0}-\u{1f}]{1,12}",
        "\\PC{1,16}",
    ]
}

fn opt_text() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), text()]
}

fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        any::<f64>().prop_filter("finite", |x| x.is_finite()),
        any::<i32>().prop_map(f64::from),
        (1e-9f64..1e-5),
        (1e15f64..1e23),
    ]
}

/// A payload of every v1 type (and `budget_action`, for its floats), as typed data.
fn payload() -> impl Strategy<Value = EventData> {
    let request = (
        text(),
        text(),
        opt_text(),
        opt_text(),
        any::<bool>(),
        opt_text(),
        (opt_text(), proptest::option::of(0.0f64..1e6)),
    )
        .prop_map(
            |(method, host, path, model, routed, routed_to, (exchange_id, reserved_usd))| {
                HttpRequest {
                    method,
                    host,
                    path,
                    model,
                    routed,
                    routed_to,
                    exchange_id,
                    reserved_usd,
                }
                .into()
            },
        );
    let response = (
        (text(), text(), opt_text()),
        (any::<u64>(), any::<u64>(), any::<u64>()),
        opt_text(),
    )
        .prop_map(
            |((method, host, path), (status_code, duration_ms, body_bytes), model)| {
                HttpResponse {
                    method,
                    host,
                    path,
                    status_code,
                    duration_ms,
                    body_bytes,
                    model,
                    ..Default::default()
                }
                .into()
            },
        );
    let gate = (text(), any::<bool>(), opt_text(), opt_text()).prop_map(
        |(host, allowed, reason, pattern)| {
            GateDecision {
                host,
                allowed,
                reason,
                pattern,
                ..Default::default()
            }
            .into()
        },
    );
    let route =
        (text(), text(), opt_text(), opt_text()).prop_map(|(host, action, routed_to, reason)| {
            RouteDecision {
                host,
                action,
                routed_to,
                reason,
                ..Default::default()
            }
            .into()
        });
    let request_transform = (text(), text(), opt_text()).prop_map(|(host, action, reason)| {
        RequestTransform {
            host,
            action,
            reason,
            ..Default::default()
        }
        .into()
    });
    let response_transform = (text(), text(), opt_text()).prop_map(|(host, action, reason)| {
        ResponseTransform {
            host,
            action,
            reason,
            ..Default::default()
        }
        .into()
    });
    let budget = (text(), any::<u64>(), finite(), finite()).prop_map(
        |(action, tokens_used, cost_usd, remaining)| {
            BudgetAction {
                action,
                tokens_used,
                cost_usd,
                remaining,
                ..Default::default()
            }
            .into()
        },
    );
    prop_oneof![
        request,
        response,
        gate,
        route,
        request_transform,
        response_transform,
        budget
    ]
}

/// An event around `data`, built as a producer would: the default plugin and summary, or
/// another plugin, tags, and an exchange id or none (every type carries one).
fn event() -> impl Strategy<Value = Event> {
    (
        payload(),
        proptest::option::of(text()),
        proptest::collection::vec(text(), 0..3),
        (text(), text()),
        proptest::option::of(opt_text()),
    )
        .prop_map(|(data, plugin, tags, (run_id, agent_system), exchange)| {
            let event_type = data.event_type().expect("typed");
            let mut record = Record {
                summary: data.summary().expect("typed"),
                plugin: data.default_plugin().to_owned(),
                event_type,
                tags,
                data: Some(data),
            };
            if let Some(plugin) = plugin {
                record = record.plugin(plugin);
            }
            if let Some(id) = exchange {
                record = record.exchange(id);
            }
            record.into_event(Timestamp::now(), run_id, agent_system)
        })
}

/// `event` through the derived `Serialize`, with Go's number text and escapes.
fn via_serde(event: &Event) -> String {
    let mut out = Vec::new();
    event
        .serialize(&mut serde_json::Serializer::with_formatter(
            &mut out,
            GoFormatter,
        ))
        .unwrap();
    String::from_utf8(out)
        .unwrap()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn v1_events_check_and_round_trip(event in event()) {
        prop_assert_eq!(event.check(), Ok(()));
        let line = event.to_json().unwrap();
        prop_assert_eq!(&line, &via_serde(&event));
        let back: Event = serde_json::from_str(&line).unwrap();
        prop_assert_eq!(&back, &event);
        prop_assert_eq!(back.to_json().unwrap(), line);
    }

    /// A derived summary follows the plugin; a summary set by hand stays.
    #[test]
    fn summaries_follow_the_plugin(data in payload(), plugin in opt_text(), own in text()) {
        let record = Record {
            event_type: data.event_type().unwrap(),
            summary: data.summary().unwrap(),
            plugin: data.default_plugin().to_owned(),
            tags: Vec::new(),
            data: Some(data.clone()),
        };
        let derived = record.clone().plugin(plugin.clone());
        prop_assert_eq!(Some(derived.summary), data.summary_by(&plugin));
        prop_assert_eq!(derived.plugin, plugin.clone());
        let kept = record.summary(own.clone()).plugin(plugin);
        if own != data.summary().unwrap() {
            prop_assert_eq!(kept.summary, own);
        }
    }
}

#[test]
fn names_map_both_ways() {
    for t in EventType::V0.iter().chain(&EventType::V1) {
        assert_eq!(&EventType::from_name(t.as_str()), t);
        assert!(t.is_known());
        assert_eq!(t.is_v0(), EventType::V0.contains(t), "{t}");
        assert_eq!(t.is_v1(), EventType::V1.contains(t), "{t}");
    }
    assert!(EventType::KeyInjection.is_v0() && EventType::KeyInjection.is_v1());
    assert!(EventType::BudgetAction.is_v0() && EventType::BudgetAction.is_v1());
    assert!(!EventType::HttpRequest.is_v0());
    let other = EventType::from_name("tool_call");
    assert!(!other.is_known() && !other.is_v0() && !other.is_v1());
}

/// `Record::new` takes the plugin the reference writes each type with, and the summary it
/// writes; `Payload::summary_by` gives it for another plugin.
#[test]
fn default_plugins_and_summaries() {
    let gate = GateDecision {
        host: "evil.example".into(),
        allowed: false,
        reason: "host not in allowlist".into(),
        ..Default::default()
    };
    assert_eq!(<GateDecision as Payload>::PLUGIN, "host_filter");
    assert_eq!(
        Payload::summary(&gate),
        "gate blocked evil.example by host_filter: host not in allowlist"
    );
    let route = RouteDecision {
        host: "api.openai.com".into(),
        action: RouteDecision::PASSTHROUGH.into(),
        routed_to: String::new(),
        reason: "no route entry for host api.openai.com".into(),
        ..Default::default()
    };
    let record = Record::new(route);
    assert_eq!(record.plugin, "local_model_router");
    assert_eq!(
        record.summary,
        "route passthrough api.openai.com by local_model_router"
    );
    let transform = RequestTransform {
        host: "192.168.86.246".into(),
        action: "no_op".into(),
        reason: "request transform is handled in Route()".into(),
        ..Default::default()
    };
    let record = Record::new(transform).plugin("local_model_router");
    assert_eq!(
        record.summary,
        "local_model_router: no_op for 192.168.86.246"
    );
    let record = Record::new(ResponseTransform {
        host: "openrouter.ai".into(),
        action: "logged_usage".into(),
        ..Default::default()
    });
    assert_eq!(
        (record.plugin.as_str(), record.summary.as_str()),
        (
            "usage_logger",
            "usage_logger: logged_usage for openrouter.ai"
        )
    );
    // The http_* types have no plugin and a summary that names none.
    let record = Record::new(HttpRequest {
        method: "GET".into(),
        host: "example.com".into(),
        path: "/".into(),
        ..Default::default()
    })
    .plugin("anything");
    assert_eq!(record.summary, "GET example.com/");
    assert_eq!(<HttpResponse as Payload>::PLUGIN, "");
}

#[test]
fn conversions_between_v0_and_v1_shapes() {
    let request = LlmRequest {
        method: "POST".into(),
        host: "h".into(),
        path: "/p".into(),
        model: "m".into(),
        routed: true,
        routed_to: "127.0.0.1:1".into(),
        exchange_id: "x-1".into(),
        reserved_usd: Some(0.5),
    };
    assert_eq!(
        LlmRequest::from(HttpRequest::from(request.clone())),
        request
    );
    let response = LlmResponse {
        method: "POST".into(),
        host: "h".into(),
        path: "/p".into(),
        status_code: 200,
        duration_ms: 3,
        body_bytes: 4,
        model: "m".into(),
        input_tokens: Some(1),
        output_tokens: Some(2),
        cached_input_tokens: Some(1),
        reasoning_tokens: Some(1),
        cost_usd: Some(0.5),
        cost_source: "provider".into(),
        usage: "partial".into(),
        exchange_id: "x-1".into(),
        ..Default::default()
    };
    let http = HttpResponse::from(response.clone());
    assert_eq!((http.cost_usd, http.usage.as_str()), (Some(0.5), "partial"));
    assert_eq!(http.summary(), response.summary());
    assert_eq!(http.input_tokens, Some(1));
    assert_eq!(LlmResponse::from(http), response);
}

/// The checks a v1 event must pass beyond its types: non-empty required strings (an empty
/// `path` is the reference's absolute-form request), typed data for a v1 type.
#[test]
fn check_refuses_what_the_reference_never_writes() {
    let ts = Timestamp::parse("2026-02-24T23:03:15Z").unwrap();
    let empty_host = Event::new(
        ts,
        "r",
        "a",
        GateDecision {
            allowed: true,
            ..Default::default()
        },
    );
    assert_eq!(empty_host.check(), Err(EventError::EmptyDataField("host")));
    let empty_action = Event::new(
        ts,
        "r",
        "a",
        RouteDecision {
            host: "h".into(),
            ..Default::default()
        },
    );
    assert_eq!(
        empty_action.check(),
        Err(EventError::EmptyDataField("action"))
    );
    let empty_method = Event::new(
        ts,
        "r",
        "a",
        HttpResponse {
            host: "h".into(),
            ..Default::default()
        },
    );
    assert_eq!(
        empty_method.check(),
        Err(EventError::EmptyDataField("method"))
    );
    let empty_path = Event::new(
        ts,
        "r",
        "a",
        HttpRequest {
            method: "GET".into(),
            host: "h".into(),
            ..Default::default()
        },
    );
    assert_eq!(empty_path.check(), Ok(()));
    let untyped = Event::untyped(
        ts,
        "r",
        "a",
        EventType::GateDecision,
        "gate allowed h by host_filter",
        Some(serde_json::Map::new()),
    );
    assert!(matches!(
        untyped.check(),
        Err(EventError::DataTypeMismatch { .. })
    ));
    let mismatched = Record::new(RequestTransform {
        host: "h".into(),
        action: "injected".into(),
        ..Default::default()
    });
    let mismatched = Record {
        event_type: EventType::ResponseTransform,
        ..mismatched
    }
    .into_event(ts, "r", "a");
    assert!(matches!(
        mismatched.check(),
        Err(EventError::DataTypeMismatch { .. })
    ));
    let no_data = Event::untyped(ts, "r", "a", EventType::HttpRequest, "GET h/", None);
    assert_eq!(no_data.check(), Ok(()));
}

/// A v1 line whose data has the wrong shape does not parse as an event: the data is typed.
#[test]
fn wrong_data_shapes_do_not_parse() {
    let envelope = |event_type: &str, data: &str| {
        format!(
            r#"{{"ts":"2026-02-24T23:03:15Z","run_id":"r","agent_system":"a","event_type":"{event_type}","summary":"s","data":{data}}}"#
        )
    };
    for (event_type, data) in [
        ("gate_decision", r#"{"host":42,"allowed":true}"#),
        ("gate_decision", r#"{"host":"h","allowed":"yes"}"#),
        ("gate_decision", r#"{"host":"h"}"#),
        ("http_request", r#"{"method":"GET","host":"h","path":"/"}"#),
        (
            "http_response",
            r#"{"method":"GET","host":"h","path":"/","status_code":-1,"duration_ms":0,"body_bytes":0}"#,
        ),
        ("route_decision", r#"{"host":"h"}"#),
        ("request_transform", r#"{"action":"injected"}"#),
        ("response_transform", r#"{"host":"h","action":null}"#),
        ("response_transform", r#"[]"#),
    ] {
        let line = envelope(event_type, data);
        assert!(
            serde_json::from_str::<Event>(&line).is_err(),
            "parsed: {line}"
        );
    }
    // Unknown fields are accepted (the schemas allow them), and not kept.
    let line = envelope("gate_decision", r#"{"host":"h","allowed":true,"extra":1}"#);
    let event: Event = serde_json::from_str(&line).unwrap();
    assert_eq!(
        event.data,
        Some(EventData::GateDecision(GateDecision {
            host: "h".into(),
            allowed: true,
            ..Default::default()
        }))
    );
}

/// Untyped data of an unknown type is written with Go's number text too, so a Go writer's
/// floats round-trip.
#[test]
fn untyped_data_keeps_gos_numbers() {
    let line = r#"{"ts":"2026-02-24T23:03:15Z","run_id":"r","agent_system":"a","event_type":"usage","summary":"s","data":{"cost_usd":0.000001,"tokens":10000000000000000,"big":1e+21,"tiny":1.5e-7,"n":[2,-0.5,-0,0]}}"#;
    let event: Event = serde_json::from_str(line).unwrap();
    assert!(matches!(event.data, Some(EventData::Other(_))));
    assert_eq!(event.to_json().unwrap(), line);
}

/// The library's v1 types and the v1 schemas are one set: a type added to one must be added to
/// the other.
#[test]
fn v1_types_are_the_v1_schemas() {
    let types: std::collections::BTreeSet<&str> =
        EventType::V1.iter().map(EventType::as_str).collect();
    let schemas: std::collections::BTreeSet<&str> =
        agentlog_core::schema::Profile::V1.event_types().collect();
    assert_eq!(types, schemas);
}
