//! Golden files for the wire format: a full and a minimal event of each v0 type, and the Go
//! reference's byte-level conventions. Snapshots live in `testdata/golden/`.

use agentlog_core::Record;
use agentlog_core::event::{
    BudgetAction, Event, EventType, InjectionAction, KeyInjection, LlmRequest, LlmResponse,
    Timestamp,
};

fn ts(text: &str) -> Timestamp {
    Timestamp::parse(text).expect("fixture timestamp")
}

fn golden(name: &str, event: &Event) {
    let line = event.to_json().expect("serializes");
    insta::with_settings!({snapshot_path => "../../../testdata/golden", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, line);
    });
    // A golden line must also parse back to the same event.
    let back: Event = serde_json::from_str(&line).expect("parses back");
    assert_eq!(&back, event, "{name} does not round-trip");
}

#[test]
fn llm_request_full_and_minimal() {
    let full = Record::new(LlmRequest {
        method: "POST".into(),
        host: "openrouter.ai".into(),
        path: "/v1/chat/completions".into(),
        model: "google/gemini-2.0-flash-001".into(),
        routed: true,
        routed_to: "192.168.86.246:11434".into(),
    })
    .tag("tls")
    .into_event(ts("2026-02-24T23:03:15.060999Z"), "vm-503ad4d1", "openclaw");
    golden("llm_request_full", &full);
    let minimal = Event::new(
        ts("2026-02-24T23:03:15Z"),
        "vm-503ad4d1",
        "openclaw",
        LlmRequest {
            method: "GET".into(),
            host: "api.openai.com".into(),
            path: "/v1/models".into(),
            ..Default::default()
        },
    );
    golden("llm_request_minimal", &minimal);
}

#[test]
fn llm_response_full_and_minimal() {
    let full = Record::new(LlmResponse {
        method: "POST".into(),
        host: "api.anthropic.com".into(),
        path: "/v1/messages".into(),
        status_code: 200,
        duration_ms: 1432,
        body_bytes: 2817,
        model: "claude-sonnet-4-5".into(),
        input_tokens: Some(42),
        output_tokens: Some(311),
    })
    .tag("tls")
    .into_event(ts("2026-02-24T23:03:16.5Z"), "vm-503ad4d1", "openclaw");
    golden("llm_response_full", &full);
    let minimal = Event::new(
        ts("2026-02-24T23:03:16Z"),
        "vm-503ad4d1",
        "openclaw",
        LlmResponse {
            method: "POST".into(),
            host: "api.openai.com".into(),
            path: "/v1/chat/completions".into(),
            status_code: 502,
            duration_ms: 0,
            body_bytes: 0,
            ..Default::default()
        },
    );
    golden("llm_response_minimal", &minimal);
}

#[test]
fn budget_action_full_and_minimal() {
    let full = Record::new(BudgetAction {
        action: "warn".into(),
        tokens_used: 12000,
        cost_usd: 0.42,
        remaining: 9.58,
    })
    .plugin("budget")
    .into_event(ts("2026-02-24T23:04:00.000001Z"), "vm-503ad4d1", "openclaw");
    golden("budget_action_full", &full);
    let minimal = Event::new(
        ts("2026-02-24T23:04:00Z"),
        "vm-503ad4d1",
        "openclaw",
        BudgetAction {
            action: "block".into(),
            ..Default::default()
        },
    );
    golden("budget_action_minimal", &minimal);
}

#[test]
fn key_injection_full_and_minimal() {
    let full = Record::new(KeyInjection {
        secret_name: "ANTHROPIC_API_KEY".into(),
        host: "api.anthropic.com".into(),
        action: InjectionAction::LeakBlocked,
    })
    .plugin("secret_injector")
    .tag("tls")
    .into_event(ts("2026-02-24T23:03:15.06098Z"), "vm-503ad4d1", "openclaw");
    golden("key_injection_full", &full);
    let minimal = Event::new(
        ts("2026-02-24T23:03:15Z"),
        "r",
        "a",
        KeyInjection {
            secret_name: "K".into(),
            host: "h".into(),
            action: InjectionAction::Skipped,
        },
    );
    golden("key_injection_minimal", &minimal);
}

/// The Go reference's conventions, byte for byte: a `Z` timestamp whose fraction lost its
/// trailing zeros, `routed:false` present, empty plugin/tags/model/routed_to omitted, and
/// `encoding/json`'s HTML-safe escaping (`->` written `-\u003e`).
#[test]
fn go_reference_bytes() {
    let event = Record::new(LlmRequest {
        method: "POST".into(),
        host: "api.anthropic.com".into(),
        path: "/v1/messages".into(),
        ..Default::default()
    })
    .summary("POST api.anthropic.com/v1/messages -> local")
    .into_event(
        ts("2026-02-24T23:03:10.787520000Z"),
        "vm-503ad4d1",
        "openclaw",
    );
    assert_eq!(
        event.to_json().unwrap(),
        r#"{"ts":"2026-02-24T23:03:10.78752Z","run_id":"vm-503ad4d1","agent_system":"openclaw","event_type":"llm_request","summary":"POST api.anthropic.com/v1/messages -\u003e local","data":{"method":"POST","host":"api.anthropic.com","path":"/v1/messages","routed":false}}"#
    );
    golden("go_reference_bytes", &event);
}

/// The real reference log (v1 types) parses and re-serializes to the same bytes.
#[test]
fn real_log_round_trips_as_values() {
    let text = include_str!("../../../testdata/real-logs/matchlock-pr77-examples-events.jsonl");
    for (i, line) in text.lines().enumerate() {
        let event: Event =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", i + 1));
        assert!(matches!(event.event_type, EventType::Other(_)));
        let original: serde_json::Value = serde_json::from_str(line).unwrap();
        let rewritten = serde_json::to_value(&event).unwrap();
        assert_eq!(original, rewritten, "line {}", i + 1);
        assert_eq!(event.to_json().unwrap(), line, "line {}", i + 1);
    }
}
