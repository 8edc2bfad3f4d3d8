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
//! Correlation in the log itself: every event the proxy writes for a request carries that
//! request's `data.exchange_id`, in v0 and v1, over a session that goes through every writer
//! (injections, leaks refused in a header and in a body, the v1 gate and route, the budget's
//! warning and refusal, request, response and usage events). The requests are sent one after
//! another, so the events of one exchange are consecutive: the log cut where the id changes
//! must give, request by request, exactly the events that request is expected to write, and
//! no id may come back after another.

use std::sync::Arc;

use agentlog_core::event::Event;
use agentlog_intercept::{Budget, Profile};
use agentlog_mock_upstream::TlsFixture;
use agentlog_testkit::{TestProxy, start_proxy};

mod common;

use common::{BODY, CHAT, PH_ANTHROPIC, PH_OPENAI, secrets, worst};

/// Room for 1.5 worst cases, the warning at half of it: a priced chat (about a quarter of a
/// worst case) stays under the line, a cut stream (charged its reservation) crosses it, and
/// the next chat cannot be reserved.
fn budget() -> Arc<Budget> {
    Arc::new(Budget::new(1.5 * worst(), 0.5, (0.0, 0)))
}

/// Sends a chat completion to OpenAI with `authorization` and one extra header, and reads
/// its body to the end (a cut stream's error included); returns the status.
async fn chat(proxy: &TestProxy, authorization: &str, extra: (&str, &str)) -> u16 {
    let response = proxy
        .client()
        .unwrap()
        .post(CHAT)
        .header("authorization", format!("Bearer {authorization}"))
        .header("content-type", "application/json")
        .header(extra.0, extra.1)
        .body(BODY)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let _ = response.bytes().await;
    status
}

/// A request to `url` with `method` and `body`; returns the status.
async fn send(proxy: &TestProxy, method: reqwest::Method, url: &str, body: &str) -> u16 {
    let response = proxy
        .client()
        .unwrap()
        .request(method, url)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let _ = response.bytes().await;
    status
}

/// Every event's exchange id: each one must have one.
fn ids(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let data = e.data.as_ref().unwrap_or_else(|| panic!("no data: {e:?}"));
            let id = data.exchange_id();
            id.unwrap_or_else(|| panic!("no exchange_id on {}: {e:?}", e.event_type))
                .to_owned()
        })
        .collect()
}

/// Checks the session's events against `expected`, the event types each request writes,
/// in order (requests that write nothing left out): cut at every change of id, the log gives
/// exactly these runs, and the runs' ids are distinct. Every request event is answered by a
/// response event of its id, which comes after it.
fn assert_one_id_per_exchange(events: &[Event], expected: &[&[&str]]) {
    let ids = ids(events);
    let mut runs: Vec<(String, Vec<String>)> = Vec::new();
    for (event, id) in events.iter().zip(&ids) {
        match runs.last_mut() {
            Some((last, types)) if last == id => types.push(event.event_type.to_string()),
            _ => runs.push((id.clone(), vec![event.event_type.to_string()])),
        }
    }
    let got: Vec<Vec<String>> = runs.iter().map(|(_, types)| types.clone()).collect();
    assert_eq!(got, expected, "events per exchange id");
    for (i, (id, _)) in runs.iter().enumerate() {
        assert!(
            runs[i + 1..].iter().all(|(other, _)| other != id),
            "exchange id {id} comes back after another"
        );
    }
    let start = ids[0].split_once('-').unwrap().0;
    assert!(ids.iter().all(|id| id.starts_with(&format!("{start}-"))));
    for (i, event) in events.iter().enumerate() {
        let kind = event.event_type.to_string();
        if kind.ends_with("_request") {
            let answered = events[i + 1..]
                .iter()
                .zip(&ids[i + 1..])
                .any(|(e, id)| e.event_type.to_string().ends_with("_response") && *id == ids[i]);
            assert!(answered, "request {i} ({}) has no response", ids[i]);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_of_an_exchange_carries_its_id_v0() {
    let fixture = TlsFixture::start().await.unwrap();
    let proxy = start_proxy(&fixture, secrets().with_budget(Some(budget())))
        .await
        .unwrap();
    assert_eq!(chat(&proxy, PH_OPENAI, ("x-testkit-none", "1")).await, 200);
    assert_eq!(
        chat(&proxy, PH_OPENAI, ("x-testkit-stream", "truncated")).await,
        200
    );
    assert_eq!(chat(&proxy, PH_OPENAI, ("x-testkit-none", "1")).await, 429);
    // A placeholder in a header bound for a host its secret is not allowed for.
    assert_eq!(
        chat(&proxy, PH_ANTHROPIC, ("x-testkit-none", "1")).await,
        403
    );
    // One in the body of a request to a host that is not an LLM host (scanned, not read).
    let body = format!("token={PH_OPENAI}");
    let status = send(
        &proxy,
        reqwest::Method::POST,
        "https://localhost/upload",
        &body,
    )
    .await;
    assert_eq!(status, 403);
    let events = proxy.shutdown().await.unwrap();
    let injected: &[&str] = &[
        "key_injection",
        "key_injection",
        "llm_request",
        "llm_response",
    ];
    let warned: &[&str] = &[
        "key_injection",
        "key_injection",
        "llm_request",
        "llm_response",
        "budget_action",
    ];
    let expected: &[&[&str]] = &[
        injected,
        warned,
        &["budget_action"],
        &["key_injection"],
        &["key_injection"],
    ];
    assert_one_id_per_exchange(&events, expected);
    let actions: Vec<String> = events
        .iter()
        .filter(|e| e.event_type.as_str() == "budget_action")
        .map(|e| serde_json::to_value(e.data.as_ref().unwrap()).unwrap()["action"].to_string())
        .collect();
    assert_eq!(actions, [r#""warn""#, r#""blocked""#]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_of_an_exchange_carries_its_id_v1() {
    let fixture = TlsFixture::start().await.unwrap();
    let local = agentlog_mock_upstream::mocks::plain_upstream().await;
    let options = secrets()
        .with_profile(Profile::V1)
        .with_allow_hosts(vec!["api.openai.com".into(), "api.anthropic.com".into()])
        .with_routes(vec![format!("api.anthropic.com={}", local.address())])
        .with_budget(Some(budget()));
    let proxy = start_proxy(&fixture, options).await.unwrap();
    assert_eq!(chat(&proxy, PH_OPENAI, ("x-testkit-none", "1")).await, 200);
    // Routed to the local upstream; a GET is not billable, so the budget lets it through.
    let models = "https://api.anthropic.com/v1/models";
    send(&proxy, reqwest::Method::GET, models, "").await;
    // Not in the allowlist: only the gate's decision.
    assert_eq!(
        send(&proxy, reqwest::Method::GET, "https://localhost/", "").await,
        403
    );
    assert_eq!(
        chat(&proxy, PH_OPENAI, ("x-testkit-stream", "truncated")).await,
        200
    );
    assert_eq!(chat(&proxy, PH_OPENAI, ("x-testkit-none", "1")).await, 429);
    assert_eq!(
        chat(&proxy, PH_ANTHROPIC, ("x-testkit-none", "1")).await,
        403
    );
    let events = proxy.shutdown().await.unwrap();
    let decided: [&str; 2] = ["gate_decision", "route_decision"];
    let priced: &[&str] = &[
        decided[0],
        decided[1],
        "request_transform",
        "http_request",
        "response_transform",
        "http_response",
    ];
    let routed: &[&str] = &[
        decided[0],
        decided[1],
        "request_transform",
        "http_request",
        "http_response",
    ];
    let warned: &[&str] = &[
        decided[0],
        decided[1],
        "request_transform",
        "http_request",
        "http_response",
        "budget_action",
    ];
    let refused: &[&str] = &[decided[0], decided[1], "gate_decision", "budget_action"];
    let leaked: &[&str] = &[decided[0], decided[1], "request_transform"];
    let expected: &[&[&str]] = &[priced, routed, &["gate_decision"], warned, refused, leaked];
    assert_one_id_per_exchange(&events, expected);
}
