//! Unit tests of the judge: each kind of difference is found, and reported without secrets.

use serde_json::json;

use super::*;
use crate::proxy::scenario::SecretSpec;

const SECRET: &str = "sk-conf-unit-999999";

fn redactor() -> Redactor {
    let spec = SecretSpec::parse(&format!("KEY={SECRET}@api.openai.com")).unwrap();
    crate::secrets::redactor([(spec.name.as_str(), spec.value.as_str())]).unwrap()
}

/// A v0 `llm_response` as our proxy writes it.
fn event(status: u64) -> Value {
    json!({"ts": "2026-01-01T00:00:00.000Z", "run_id": "vm-1", "agent_system": "x",
        "event_type": "llm_response", "summary": "POST api.openai.com/v1/chat/completions",
        "data": {"method": "POST", "host": "api.openai.com", "path": "/v1/chat/completions",
            "status_code": status, "body_bytes": 2, "duration_ms": 12}})
}

fn log(events: &[Value]) -> Option<Vec<u8>> {
    Some(
        events
            .iter()
            .map(|e| format!("{e}\n"))
            .collect::<String>()
            .into_bytes(),
    )
}

/// A scenario expecting one 200 response, one upstream request and the event of [`event`].
fn expected() -> Expected {
    Expected {
        responses: vec![(200, None)],
        upstream: vec![Forward {
            request: 0,
            path: Some("/v1/chat/completions".into()),
            query: None,
            headers: vec![
                ("authorization".to_owned(), format!("Bearer {SECRET}")),
                ("accept".to_owned(), "*/*".to_owned()),
            ],
            body: "{}".into(),
        }],
        events_after: vec![1],
        route_target: vec![],
        events: vec![json!({"event_type": "llm_response", "data": {"status_code": 200.0}})],
        profile: Profile::V0,
    }
}

fn observed() -> Observed {
    Observed {
        responses: vec![Ok(Response {
            status: 200,
            body: "{}".into(),
        })],
        upstream: vec![Received {
            path: "/v1/chat/completions".into(),
            query: None,
            headers: vec![
                ("host".into(), "api.openai.com".into()),
                ("authorization".into(), format!("Bearer {SECRET}")),
                ("accept".into(), "*/*".into()),
            ],
            body: b"{}".to_vec(),
        }],
        route_target: vec![],
        logged: vec![Some(1)],
        log: log(&[event(200)]),
        output: Vec::new(),
    }
}

#[test]
fn agreeing_run_has_no_difference() {
    // Also: `ts`, `run_id`, `agent_system`, `duration_ms` differ freely; 200 equals 200.0.
    let mut exp = expected();
    exp.events[0]["ts"] = json!("other");
    exp.events[0]["data"]["duration_ms"] = json!(1);
    assert_eq!(judge(&exp, &observed(), &redactor()), Vec::<String>::new());
}

#[test]
fn a_missing_event_is_a_difference() {
    let mut obs = observed();
    obs.log = Some(Vec::new());
    let diffs = judge(&expected(), &obs, &redactor());
    assert_eq!(
        diffs,
        ["events: 0 written (expected 1): [] (expected [llm_response])"]
    );
    obs.log = None;
    let diffs = judge(&expected(), &obs, &redactor());
    assert_eq!(diffs, ["events: no event log written, 1 expected"]);
}

#[test]
fn a_wrong_data_field_is_a_difference() {
    let mut obs = observed();
    obs.log = log(&[event(500)]);
    let diffs = judge(&expected(), &obs, &redactor());
    assert_eq!(
        diffs,
        ["event 0 (llm_response): data.status_code: 500 (expected 200.0)"]
    );
}

#[test]
fn an_extra_upstream_request_is_a_difference() {
    let mut obs = observed();
    obs.upstream.push(Received {
        path: "/v1/models".into(),
        ..Received::default()
    });
    let diffs = judge(&expected(), &obs, &redactor());
    assert_eq!(
        diffs,
        ["upstream: received 2 request(s) (expected 1): [/v1/chat/completions, /v1/models]"]
    );
}

#[test]
fn a_secret_value_in_the_log_or_output_is_a_difference_that_never_shows_it() {
    let mut obs = observed();
    let mut leaky = event(200);
    leaky["data"]["note"] = json!(SECRET);
    obs.log = log(&[leaky]);
    obs.output = format!("debug: {SECRET}").into_bytes();
    obs.upstream[0].headers[1].1 = "Bearer wrong".into();
    let diffs = judge(&expected(), &obs, &redactor());
    assert!(diffs.contains(&"secrets: the event log contains the value of secret KEY".to_owned()));
    assert!(
        diffs.contains(&"secrets: the port's output contains the value of secret KEY".to_owned())
    );
    // The header difference names the expected value through its secret's name.
    assert!(
        diffs
            .iter()
            .any(|d| d.contains("(expected \"Bearer <secret KEY>\")")),
        "{diffs:?}"
    );
    assert!(!diffs.iter().any(|d| d.contains(SECRET)), "{diffs:?}");
}

#[test]
fn garbage_log_and_failed_requests_are_differences_not_panics() {
    let mut obs = observed();
    obs.log = Some("not json\n[1]\n\u{0}\u{ffff}{\n".into());
    obs.responses = vec![Err(RequestError::Send("connection refused".into()))];
    let diffs = judge(&expected(), &obs, &redactor());
    assert!(
        diffs.contains(&"request 0: failed: connection refused".to_owned()),
        "{diffs:?}"
    );
    assert!(
        diffs.iter().any(|d| d.starts_with("log line 1: not JSON")),
        "{diffs:?}"
    );
    assert!(
        diffs.contains(&"log line 2: not a JSON object".to_owned()),
        "{diffs:?}"
    );
    assert!(
        diffs.iter().any(|d| d.starts_with("events: 0 written")),
        "{diffs:?}"
    );
}

#[test]
fn an_event_invalid_under_the_schema_is_a_difference() {
    let mut obs = observed();
    let mut bad = event(200);
    bad.as_object_mut().unwrap().remove("ts");
    obs.log = log(&[bad]);
    let diffs = judge(&expected(), &obs, &redactor());
    assert_eq!(diffs.len(), 1, "{diffs:?}");
    assert!(
        diffs[0].starts_with("event 0 (llm_response): invalid under schema v0"),
        "{diffs:?}"
    );
}

#[test]
fn wrong_status_body_and_envelope_key_are_differences() {
    let mut exp = expected();
    exp.responses = vec![(403, Some("Blocked by policy".into()))];
    exp.events[0]["summary"] = json!("other");
    let diffs = judge(&exp, &observed(), &redactor());
    assert_eq!(
        diffs,
        [
            "request 0: status 200 (expected 403)",
            "request 0: body \"{}\" (expected \"Blocked by policy\")",
            "event 0 (llm_response): summary: \"POST api.openai.com/v1/chat/completions\" (expected \"other\")",
        ]
    );
}

/// A long value with the secret near where a difference is cut: no part of the secret may
/// survive the cut (redaction runs first, on the whole text).
#[test]
fn a_secret_across_the_cut_never_shows_in_part() {
    let part = &SECRET[..SECRET.len() - 3];
    let mut exp = expected();
    exp.events[0]["summary"] = json!("short");
    for pad in (MAX_SHOWN - 80)..(MAX_SHOWN + 20) {
        let mut obs = observed();
        let mut leaky = event(200);
        leaky["summary"] = json!(format!("{}{SECRET}", "x".repeat(pad)));
        obs.log = log(&[leaky]);
        let diffs = judge(&exp, &obs, &redactor());
        assert!(diffs.iter().any(|d| d.contains("xxxxxxxx")), "{diffs:?}");
        for diff in diffs {
            assert!(diff.chars().count() <= MAX_SHOWN + 3, "{diff}");
            assert!(!diff.contains(part), "pad {pad}: {diff}");
        }
    }
}

/// Observed events with `data.exchange_id` set to each of `ids` in turn.
fn with_ids(ids: &[&str]) -> Vec<Value> {
    ids.iter()
        .map(|id| {
            let mut e = event(200);
            e["data"]["exchange_id"] = json!(id);
            e
        })
        .collect()
}

#[test]
fn exchange_ids_are_never_compared_but_one_request_has_one() {
    // Listed in the scenario or not, the value is the port's own.
    let mut exp = expected();
    exp.events = vec![json!({"event_type": "llm_response", "data": {"exchange_id": "a-9"}}); 2];
    exp.responses = vec![(200, None), (200, None)];
    let mut obs = observed();
    obs.responses.push(obs.responses[0].clone());
    obs.log = log(&with_ids(&["x-1", "x-2"]));
    assert_eq!(judge(&exp, &obs, &redactor()), Vec::<String>::new());
    // A port that writes none is not judged on them.
    obs.log = log(&[event(200), event(200)]);
    assert_eq!(judge(&exp, &obs, &redactor()), Vec::<String>::new());
    // Two ids for one request.
    exp.responses.truncate(1);
    obs.responses.truncate(1);
    obs.log = log(&with_ids(&["x-1", "x-2"]));
    assert_eq!(
        judge(&exp, &obs, &redactor()),
        [
            "events: 2 distinct exchange_id values for 1 request(s) (the events of one request share one id)"
        ]
    );
}

#[test]
fn an_exchange_id_that_comes_back_is_a_difference() {
    let mut exp = expected();
    exp.events = vec![json!({"event_type": "llm_response"}); 3];
    exp.responses = vec![(200, None); 3];
    let mut obs = observed();
    obs.responses = vec![
        obs.responses[0].clone(),
        obs.responses[0].clone(),
        obs.responses[0].clone(),
    ];
    obs.log = log(&with_ids(&["x-1", "x-2", "x-1"]));
    assert_eq!(
        judge(&exp, &obs, &redactor()),
        [
            "event 2 (llm_response): exchange_id \"x-1\" comes back after another exchange's events (the events of one request share one id and come together)"
        ]
    );
}

#[test]
fn a_body_changed_on_the_way_is_a_difference_that_never_shows_the_secret() {
    let mut obs = observed();
    obs.upstream[0].body = format!("{{\"k\":\"{SECRET}\"}}").into_bytes();
    let diffs = judge(&expected(), &obs, &redactor());
    assert_eq!(
        diffs,
        [
            r#"upstream request 0 (request 0): body "{\"k\":\"<secret KEY>\"}" (expected the client's, unchanged: "{}")"#
        ]
    );
}

#[test]
fn a_header_added_dropped_or_doubled_is_a_difference() {
    let mut obs = observed();
    let headers = &mut obs.upstream[0].headers;
    headers.retain(|(n, _)| n != "accept");
    headers.push(("x-api-key".into(), SECRET.into()));
    headers.push(("authorization".into(), "Bearer other".into()));
    headers.push(("content-length".into(), "2".into()));
    let diffs = judge(&expected(), &obs, &redactor());
    assert_eq!(
        diffs,
        [
            r#"upstream request 0 (request 0): header authorization: ["Bearer <secret KEY>", "Bearer other"] (expected "Bearer <secret KEY>")"#,
            r#"upstream request 0 (request 0): header accept: missing (expected "*/*")"#,
            r#"upstream request 0 (request 0): header x-api-key: ["<secret KEY>"] added (the client sent no such header)"#,
        ]
    );
}

#[test]
fn events_not_yet_in_the_log_when_the_response_ended_are_a_difference() {
    let mut obs = observed();
    for logged in [Some(0), None] {
        obs.logged = vec![logged];
        assert_eq!(
            judge(&expected(), &obs, &redactor()),
            [
                "request 0: when its response ended the log held 0 event(s) (expected 1): an exchange's events must be written before its response's last byte"
            ]
        );
    }
    // An event never written is reported missing, not late.
    obs.log = log(&[]);
    assert_eq!(
        judge(&expected(), &obs, &redactor()),
        ["events: 0 written (expected 1): [] (expected [llm_response])"]
    );
    // A request that got no response is reported as such, not as late.
    obs.log = observed().log;
    obs.responses = vec![Err(RequestError::Send("reset".into()))];
    assert_eq!(
        judge(&expected(), &obs, &redactor()),
        ["request 0: failed: reset"]
    );
}

#[test]
fn a_secret_in_output_that_is_not_utf8_is_found() {
    let mut obs = observed();
    // UTF-16LE with a character beyond ASCII first: not valid UTF-8 once decoded lossily.
    obs.output = "\u{20ac}"
        .chars()
        .chain(SECRET.chars())
        .flat_map(|c| {
            let mut buf = [0u16; 2];
            c.encode_utf16(&mut buf)
                .iter()
                .flat_map(|u| u.to_le_bytes())
                .collect::<Vec<_>>()
        })
        .collect();
    let diffs = judge(&expected(), &obs, &redactor());
    assert_eq!(
        diffs,
        ["secrets: the port's output contains the value of secret KEY"]
    );
}
