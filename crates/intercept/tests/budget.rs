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
//! The budget gate under load and across a restart, through the TLS fixture, and what each
//! way an exchange can end is charged.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use agentlog_core::event::CheckedEvent;
use agentlog_core::sink::{Sink, SinkError};
use agentlog_intercept::{Budget, Timeouts, restore_from_log};
use agentlog_mock_upstream::TlsFixture;
use agentlog_testkit::{ProxyOptions, start_proxy};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;

use common::{BODY, CHAT, PH_OPENAI, secrets, worst};

/// A chat completion to OpenAI with the OpenAI placeholder, as an agent sends one.
fn chat(client: &reqwest::Client, body: impl Into<reqwest::Body>) -> reqwest::RequestBuilder {
    client
        .post(CHAT)
        .header("authorization", format!("Bearer {PH_OPENAI}"))
        .header("content-type", "application/json")
        .body(body)
}

fn data(events: &[agentlog_core::event::Event], event_type: &str) -> Vec<Value> {
    events
        .iter()
        .filter(|e| e.event_type.as_str() == event_type)
        .map(|e| serde_json::to_value(e.data.as_ref().unwrap()).unwrap())
        .collect()
}

/// 32 requests at once against room for five worst cases: recorded spend stays within the
/// limit (the documented bound is zero for text requests with known prices), every refusal
/// is a 429 with its `budget_action` `blocked`, and no refused request reached the upstream.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_never_take_spend_past_the_limit() {
    let limit = 5.5 * worst();
    let budget = Arc::new(Budget::new(limit, 0.8, (0.0, 0)));
    let fixture = TlsFixture::start().await.unwrap();
    let proxy = start_proxy(&fixture, secrets().with_budget(Some(budget.clone())))
        .await
        .unwrap();
    let client = proxy.client().unwrap();
    let requests = (0..32).map(|_| {
        let client = client.clone();
        async move {
            let resp = chat(&client, BODY).send().await.unwrap();
            let status = resp.status().as_u16();
            let body = resp.text().await.unwrap();
            (status, body)
        }
    });
    let answers = futures_util::future::join_all(requests).await;
    let ok = answers.iter().filter(|(s, _)| *s == 200).count();
    let refused: Vec<&String> = answers
        .iter()
        .filter(|(s, _)| *s == 429)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(ok + refused.len(), 32, "{answers:?}");
    assert!(ok >= 5, "room for five worst cases: {ok} passed");
    assert!(!refused.is_empty(), "the budget refused nothing");
    for body in &refused {
        let v: Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"]["code"], "budget_exceeded", "{body}");
    }
    let events = proxy.shutdown().await.unwrap();
    let spent: f64 = data(&events, "llm_response")
        .iter()
        .map(|d| d["cost_usd"].as_f64().unwrap())
        .sum();
    assert!(spent <= limit, "spent {spent} > limit {limit}");
    assert!((budget.now().spent - spent).abs() < 1e-12);
    let blocked = data(&events, "budget_action");
    assert_eq!(
        blocked.iter().filter(|d| d["action"] == "blocked").count(),
        refused.len()
    );
    let upstream = fixture.mock().received_requests().await.unwrap();
    assert_eq!(upstream.len(), ok, "a refused request reached the upstream");
    assert_eq!(data(&events, "llm_request").len(), ok);
}

/// Spend before a restart equals spend restored from the log after it, and a torn last line
/// is skipped and reported, not fatal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spend_survives_a_restart_and_a_torn_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    let fixture = TlsFixture::start().await.unwrap();
    let budget = Arc::new(Budget::new(1.0, 0.8, (0.0, 0)));
    let options: ProxyOptions = secrets()
        .with_event_log(Some(log.clone()))
        .with_budget(Some(budget.clone()));
    let proxy = start_proxy(&fixture, options).await.unwrap();
    let client = proxy.client().unwrap();
    for stream in [false, true, false] {
        let body = if stream {
            r#"{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true}}"#
        } else {
            BODY
        };
        let resp = chat(&client, body).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        resp.bytes().await.unwrap();
    }
    proxy.shutdown().await.unwrap();
    let before = budget.now();
    assert!(before.spent > 0.0);
    let restored = restore_from_log(&log).unwrap();
    assert!(
        (restored.spent - before.spent).abs() < 1e-15,
        "{restored:?} vs {before:?}"
    );
    assert_eq!(restored.tokens, before.tokens);
    let mut text = std::fs::read_to_string(&log).unwrap();
    let lines = text.lines().count() as u64;
    text.push_str(r#"{"event_type":"llm_response","data":{"cost_usd":5"#);
    std::fs::write(&log, text).unwrap();
    let torn = restore_from_log(&log).unwrap();
    assert_eq!(torn.spent, restored.spent);
    let skipped: Vec<u64> = torn.skipped_lines.iter().map(|s| s.line).collect();
    assert_eq!(skipped, [lines + 1]);
}

/// A stream cut off before any usage (an OpenAI stream's usage comes in its last chunk) is
/// `usage` `unknown`, never zero, and charged its reservation (the provider bills what it
/// generated, which the proxy cannot see); an error status with no usage is charged nothing;
/// crossing the warning line writes one `budget_action` `warn`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_streams_are_charged_their_reservation_and_the_warning_comes_once() {
    // The warning line (0.45 of 2.2 worst cases) is crossed by the first, charged in full.
    let budget = Arc::new(Budget::new(2.2 * worst(), 0.45, (0.0, 0)));
    let fixture = TlsFixture::start().await.unwrap();
    let proxy = start_proxy(&fixture, secrets().with_budget(Some(budget.clone())))
        .await
        .unwrap();
    let client = proxy.client().unwrap();
    let send = |extra: (&'static str, &'static str)| {
        client
            .post(CHAT)
            .header("authorization", format!("Bearer {PH_OPENAI}"))
            .header("content-type", "application/json")
            .header(extra.0, extra.1)
            .body(BODY)
            .send()
    };
    let truncated = send(("x-testkit-stream", "truncated")).await.unwrap();
    assert_eq!(truncated.status(), 200);
    assert!(truncated.bytes().await.is_err(), "the stream was cut");
    let failed = send(("x-testkit-status", "500")).await.unwrap();
    assert_eq!(failed.status(), 500);
    failed.bytes().await.unwrap();
    let ok = send(("x-testkit-none", "1")).await.unwrap();
    assert_eq!(ok.status(), 200);
    ok.bytes().await.unwrap();
    let events = proxy.shutdown().await.unwrap();
    let responses = data(&events, "llm_response");
    assert_eq!(responses[0]["usage"], "unknown", "{:?}", responses[0]);
    assert!(responses[0].get("output_tokens").is_none());
    assert_eq!(responses[0]["cost_source"], "reservation");
    assert!((responses[0]["cost_usd"].as_f64().unwrap() - worst()).abs() < 1e-15);
    assert_eq!(responses[1]["usage"], "unknown");
    assert!(responses[1].get("cost_usd").is_none(), "{:?}", responses[1]);
    assert_eq!(responses[2]["cost_source"], "price_table");
    let warnings: Vec<Value> = data(&events, "budget_action");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["action"], "warn");
    assert!((warnings[0]["cost_usd"].as_f64().unwrap() - worst()).abs() < 1e-15);
    let spent = worst() + responses[2]["cost_usd"].as_f64().unwrap();
    assert!((budget.now().spent - spent).abs() < 1e-12);
}

/// The gate fails closed: a request to an LLM host that the budget cannot price from its body
/// (a model only in the URL path that the table lacks, no model, a body that is not JSON, a
/// compressed body, a WebSocket upgrade) is reserved at the dearest entry's worst case, so a
/// small limit refuses each of them before it leaves, while a priced request that fits passes.
/// Before, each of these was forwarded with no reservation and never charged: "unpriced
/// means free".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_the_gate_cannot_price_are_reserved_at_the_dearest_worst_case() {
    let limit = 0.01;
    let budget = Arc::new(Budget::new(limit, 0.8, (0.0, 0)));
    let fixture = TlsFixture::start().await.unwrap();
    let proxy = start_proxy(&fixture, secrets().with_budget(Some(budget.clone())))
        .await
        .unwrap();
    let client = proxy.client().unwrap();
    let gemini =
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-9-ultra:generateContent";
    // A gzip body cut before its end: it cannot be decoded, so its model is unknown.
    let mut gzip_body = agentlog_mock_upstream::mocks::gzip(BODY.as_bytes());
    gzip_body.truncate(gzip_body.len() / 2);
    let unpriced: [(&str, &str, Vec<u8>, Option<&str>); 4] = [
        (
            gemini,
            "application/json",
            br#"{"contents":[]}"#.to_vec(),
            None,
        ),
        (
            CHAT,
            "application/json",
            br#"{"messages":[]}"#.to_vec(),
            None,
        ),
        (
            CHAT,
            "application/json",
            b"{\"model\":\"gpt-4o-mini\",\"x\":\"\xed\xa0\x80\"}".to_vec(),
            None,
        ),
        (CHAT, "application/json", gzip_body, Some("gzip")),
    ];
    for (url, content_type, body, encoding) in unpriced {
        // The OpenAI placeholder goes to OpenAI only (elsewhere it is a leak, refused 403).
        let mut request = client
            .post(url)
            .header("content-type", content_type)
            .body(body);
        if url == CHAT {
            request = request.header("authorization", format!("Bearer {PH_OPENAI}"));
        }
        if let Some(encoding) = encoding {
            request = request.header("content-encoding", encoding);
        }
        let resp = request.send().await.unwrap();
        assert_eq!(resp.status(), 429, "{url} {encoding:?} was admitted");
    }
    // A Realtime session: an HTTP/1.1 upgrade (h2 has none), sent by hand.
    let mut tcp = tokio::net::TcpStream::connect(proxy.addr()).await.unwrap();
    tcp.write_all(
        b"GET http://api.openai.com/v1/realtime?model=gpt-realtime HTTP/1.1\r\nHost: api.openai.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .unwrap();
    let mut head = [0u8; 12];
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tcp.read_exact(&mut head),
    )
    .await
    .expect("the proxy answers the upgrade within 10 s")
    .unwrap();
    assert_eq!(&head, b"HTTP/1.1 429", "a WebSocket upgrade was admitted");
    drop(tcp);
    assert!(fixture.mock().received_requests().await.unwrap().is_empty());
    let priced = chat(&client, BODY).send().await.unwrap();
    assert_eq!(priced.status(), 200);
    priced.bytes().await.unwrap();
    let events = proxy.shutdown().await.unwrap();
    let blocked = data(&events, "budget_action");
    assert_eq!(
        blocked.iter().filter(|d| d["action"] == "blocked").count(),
        5
    );
    assert!(budget.now().spent <= limit);
}

/// Restore is crash-proof: the request event records its reservation and the exchange id, so
/// a log read while a request is in flight (what a kill -9 at that instant leaves) charges the
/// request its reservation; once its response is written, the response's cost counts instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_at_a_crash_is_charged_its_reservation() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let fixture = TlsFixture::start().await.unwrap();
    // Answers only after 30 s: the request stays in flight until the proxy cuts it.
    Mock::given(method("POST"))
        .and(path("/v1/slow/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(30)))
        .with_priority(1)
        .mount(fixture.mock())
        .await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    let budget = Arc::new(Budget::new(1.0, 0.8, (0.0, 0)));
    let options: ProxyOptions = secrets()
        .with_event_log(Some(log.clone()))
        .with_budget(Some(budget.clone()));
    let proxy = start_proxy(&fixture, options).await.unwrap();
    let client = proxy.client().unwrap();
    let in_flight = tokio::spawn(
        client
            .post("https://api.openai.com/v1/slow/chat/completions")
            .header("content-type", "application/json")
            .body(BODY)
            .send(),
    );
    // Injection events (a `skipped` per secret) come first; then the request.
    let mut events = Vec::new();
    for n in 1..=8 {
        events = proxy.wait_events(n).await.unwrap();
        if events
            .iter()
            .any(|e| e.event_type.as_str() == "llm_request")
        {
            break;
        }
    }
    let request = data(&events, "llm_request").remove(0);
    let id = request["exchange_id"].as_str().unwrap().to_owned();
    assert!((request["reserved_usd"].as_f64().unwrap() - worst()).abs() < 1e-12);
    let crashed = restore_from_log(&log).unwrap();
    assert_eq!((crashed.unanswered, crashed.responses), (1, 0));
    assert!((crashed.spent - worst()).abs() < 1e-12, "{crashed:?}");
    let (_, events) = proxy
        .shutdown_with_grace(std::time::Duration::ZERO)
        .await
        .unwrap();
    let _ = in_flight.await;
    let response = data(&events, "llm_response").remove(0);
    assert_eq!(response["exchange_id"], id.as_str());
    let after = restore_from_log(&log).unwrap();
    assert_eq!((after.unanswered, after.responses), (0, 1));
    assert!(
        (after.spent - budget.now().spent).abs() < 1e-12,
        "{after:?}"
    );
}

/// Fails every `key_injection` write while `failing` is set (a log that cannot be written
/// at that moment); stores nothing.
#[derive(Default)]
struct FailingInjections {
    failing: AtomicBool,
}

impl Sink for FailingInjections {
    fn write(&self, event: CheckedEvent<'_>) -> Result<(), SinkError> {
        if self.failing.load(Ordering::SeqCst) && event.event_type.as_str() == "key_injection" {
            return Err(SinkError::Write {
                path: "failing-sink".into(),
                source: std::io::Error::other("injected failure"),
            });
        }
        Ok(())
    }

    fn close(&self) -> Result<(), SinkError> {
        Ok(())
    }
}

/// A request refused with 503 because its `key_injection` could not be written gives its
/// reservation back: with room for one worst case, the next request still passes (it got
/// 429 until a restart when the reservation was kept).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_key_injection_write_releases_the_reservation() {
    let budget = Arc::new(Budget::new(1.5 * worst(), 0.99, (0.0, 0)));
    let fixture = TlsFixture::start().await.unwrap();
    let sink = Arc::new(FailingInjections::default());
    sink.failing.store(true, Ordering::SeqCst);
    let options = secrets()
        .with_budget(Some(budget.clone()))
        .with_sink(sink.clone());
    let proxy = start_proxy(&fixture, options).await.unwrap();
    let client = proxy.client().unwrap();
    let send = || chat(&client, BODY).send();
    let refused = send().await.unwrap();
    assert_eq!(refused.status(), 503);
    let body: Value = serde_json::from_slice(&refused.bytes().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "event_log_unavailable", "{body}");
    sink.failing.store(false, Ordering::SeqCst);
    let ok = send().await.unwrap();
    assert_eq!(
        ok.status(),
        200,
        "the refused request's reservation was kept"
    );
    ok.bytes().await.unwrap();
    let events = proxy.shutdown().await.unwrap();
    assert_eq!(
        data(&events, "llm_request").len(),
        1,
        "the 503 was not forwarded"
    );
    assert_eq!(fixture.mock().received_requests().await.unwrap().len(), 1);
    let charged = data(&events, "llm_response")[0]["cost_usd"]
        .as_f64()
        .unwrap();
    assert!((budget.now().spent - charged).abs() < 1e-15);
    let _room = budget
        .reserve(1.5 * worst() - charged)
        .expect("nothing is left reserved");
}

/// A client that gives up after its request was forwarded (before the response head: an SDK
/// timing out on a slow model) is charged its reservation, over h2 and over HTTP/1.1, and the
/// charge is in the log, so the spend restored after a restart includes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_gives_up_after_forwarding_is_charged_and_restored() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    let budget = Arc::new(Budget::new(10.0 * worst(), 0.99, (0.0, 0)));
    let fixture = TlsFixture::start().await.unwrap();
    let options = secrets()
        .with_event_log(Some(log.clone()))
        .with_budget(Some(budget.clone()));
    let proxy = start_proxy(&fixture, options).await.unwrap();
    let ca = reqwest::Certificate::from_pem(proxy.ca().cert_pem().as_bytes()).unwrap();
    for (round, http1) in [false, true].into_iter().enumerate() {
        let mut builder = reqwest::Client::builder()
            .proxy(reqwest::Proxy::all(proxy.url()).unwrap())
            .tls_certs_only([ca.clone()]);
        if http1 {
            builder = builder.http1_only();
        }
        let client = builder.build().unwrap();
        let request = client
            .post(CHAT)
            .header("authorization", format!("Bearer {PH_OPENAI}"))
            .header("content-type", "application/json")
            .header("x-testkit-stream", "head-held")
            .body(BODY)
            .send();
        let waiting = tokio::spawn(request);
        // The upstream has the whole request: it was forwarded.
        fixture
            .wait_held(round + 1, Duration::from_secs(10))
            .await
            .unwrap();
        waiting.abort();
        assert!(waiting.await.unwrap_err().is_cancelled());
        // Two key_injection, llm_request, llm_response per request.
        let events = proxy.wait_events(4 * (round + 1)).await.unwrap();
        let response = &data(&events, "llm_response")[round];
        assert_eq!(response["status_code"], 0, "http1 {http1}: {response}");
        assert_eq!(response["cost_source"], "reservation", "{response}");
        assert!((response["cost_usd"].as_f64().unwrap() - worst()).abs() < 1e-15);
        let spent = (round + 1) as f64 * worst();
        assert!(
            (budget.now().spent - spent).abs() < 1e-15,
            "http1 {http1}: the abort was refunded: {:?}",
            budget.now()
        );
    }
    fixture.release();
    fixture.release();
    let events = proxy.shutdown().await.unwrap();
    for response in data(&events, "llm_response") {
        assert_eq!(response["usage"], "unknown", "{response}");
    }
    let restored = restore_from_log(&log).unwrap();
    assert!(
        (restored.spent - 2.0 * worst()).abs() < 1e-15,
        "{restored:?}"
    );
    assert!((restored.spent - budget.now().spent).abs() < 1e-15);
}

/// Only a request that provably never left is released: a refused upstream connect gives the
/// reservation back; an upstream that took the request and sent no head in time (504) is
/// charged it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connect_is_released_and_a_timed_out_upstream_is_charged() {
    let fixture = TlsFixture::start().await.unwrap();
    // Bound and never listening: the kernel refuses every connection while it lives.
    let refusing = tokio::net::TcpSocket::new_v4().unwrap();
    refusing.set_reuseaddr(false).unwrap();
    refusing.bind(([127, 0, 0, 1], 0).into()).unwrap();
    let refused_addr = refusing.local_addr().unwrap();
    let budget = Arc::new(Budget::new(1.5 * worst(), 0.99, (0.0, 0)));
    let options = secrets()
        .with_budget(Some(budget.clone()))
        .with_connect_to(vec![(
            "api.openai.com:443".into(),
            refused_addr.to_string(),
        )]);
    let proxy = start_proxy(&fixture, options).await.unwrap();
    let resp = proxy
        .client()
        .unwrap()
        .post(CHAT)
        .header("content-type", "application/json")
        .body(BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    let events = proxy.shutdown().await.unwrap();
    let response = &data(&events, "llm_response")[0];
    assert!(response.get("cost_usd").is_none(), "{response}");
    assert_eq!(budget.now().spent, 0.0);
    let _room = budget
        .reserve(1.5 * worst())
        .expect("nothing left reserved");

    wiremock::Mock::given(wiremock::matchers::path("/v1/slow/chat/completions"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(fixture.mock())
        .await;
    let budget = Arc::new(Budget::new(1.5 * worst(), 0.99, (0.0, 0)));
    let mut timeouts = Timeouts::default();
    timeouts.response_head = Duration::from_millis(300);
    let options = secrets()
        .with_budget(Some(budget.clone()))
        .with_timeouts(Some(timeouts));
    let proxy = start_proxy(&fixture, options).await.unwrap();
    let resp = proxy
        .client()
        .unwrap()
        .post("https://api.openai.com/v1/slow/chat/completions")
        .header("content-type", "application/json")
        .body(BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 504);
    let events = proxy.shutdown().await.unwrap();
    let response = &data(&events, "llm_response")[0];
    assert_eq!(response["cost_source"], "reservation", "{response}");
    assert!((budget.now().spent - worst()).abs() < 1e-15);
}

/// `body` compressed with `coding` (`gzip`, `deflate`, `br`, `zstd`).
fn compress(coding: &str, body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    match coding {
        "gzip" => agentlog_mock_upstream::mocks::gzip(body),
        "deflate" => {
            let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            z.write_all(body).unwrap();
            z.finish().unwrap()
        }
        "br" => {
            let mut out = Vec::new();
            let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
            w.write_all(body).unwrap();
            drop(w);
            out
        }
        _ => zstd::stream::encode_all(body, 3).unwrap(),
    }
}

/// A request body sent compressed is decoded and priced exactly (before, it could not be
/// read and was reserved at the dearest entry's worst case); one that cannot be decoded, or
/// decodes to more than the request body limit, still is, so it is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_request_bodies_are_priced_decoded_within_a_cap() {
    let budget = Arc::new(Budget::new(0.05, 0.8, (0.0, 0)));
    let fixture = TlsFixture::start().await.unwrap();
    let options = secrets()
        .with_budget(Some(budget.clone()))
        .with_max_request_body(64 << 10);
    let proxy = start_proxy(&fixture, options).await.unwrap();
    let client = proxy.client().unwrap();
    for coding in ["gzip", "deflate", "br", "zstd"] {
        let resp = chat(&client, compress(coding, BODY.as_bytes()))
            .header("content-encoding", coding)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{coding}");
        resp.bytes().await.unwrap();
    }
    // 1 MiB of spaces before the body: 1 KiB compressed, sixteen times the 64 KiB cap decoded.
    let bomb = [vec![b' '; 1 << 20], BODY.as_bytes().to_vec()].concat();
    let refused: [(&str, Vec<u8>); 4] = [
        ("gzip", compress("gzip", &bomb)),
        ("gzip", b"\x1f\x8b\x08\x00not gzip at all".to_vec()),
        ("compress", BODY.as_bytes().to_vec()),
        (
            "gzip, br",
            compress("br", &compress("gzip", BODY.as_bytes())),
        ),
    ];
    for (coding, body) in refused {
        let resp = chat(&client, body)
            .header("content-encoding", coding)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 429, "{coding} was admitted");
    }
    let events = proxy.shutdown().await.unwrap();
    let requests = data(&events, "llm_request");
    assert_eq!(requests.len(), 4);
    for request in &requests {
        assert_eq!(request["model"], "gpt-4o-mini");
        let reserved = request["reserved_usd"].as_f64().unwrap();
        assert!(
            (reserved - worst()).abs() < 1e-15,
            "{reserved} != {}",
            worst()
        );
    }
    assert_eq!(fixture.mock().received_requests().await.unwrap().len(), 4);
}

/// The response's `service_tier` decides the price charged, and the response event says
/// which: a flex answer at flex prices, a priority one at priority prices, one that states
/// none at the tier asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tier_the_response_states_is_the_tier_charged() {
    use wiremock::matchers::{body_partial_json, method, path};
    use wiremock::{Mock, ResponseTemplate};
    let fixture = TlsFixture::start().await.unwrap();
    for (asked, stated) in [
        ("flex", Some("flex")),
        ("auto", Some("priority")),
        ("priority", None),
    ] {
        let mut answer = serde_json::json!({
            "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-5-mini-2025-08-07",
            "choices": [], "usage": {"prompt_tokens": 1000, "completion_tokens": 100}
        });
        if let Some(stated) = stated {
            answer["service_tier"] = stated.into();
        }
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .and(body_partial_json(
                serde_json::json!({"service_tier": asked}),
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer))
            .with_priority(1)
            .mount(fixture.mock())
            .await;
    }
    let budget = Arc::new(Budget::new(1.0, 0.8, (0.0, 0)));
    let proxy = start_proxy(&fixture, secrets().with_budget(Some(budget)))
        .await
        .unwrap();
    let client = proxy.client().unwrap();
    for asked in ["flex", "auto", "priority"] {
        let body = format!(r#"{{"model":"gpt-5-mini","max_tokens":100,"service_tier":"{asked}"}}"#);
        let resp = chat(&client, body).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        resp.bytes().await.unwrap();
    }
    let events = proxy.shutdown().await.unwrap();
    let responses = data(&events, "llm_response");
    let charged: Vec<(f64, &str)> = responses
        .iter()
        .map(|d| {
            (
                d["cost_usd"].as_f64().unwrap(),
                d["service_tier"].as_str().unwrap(),
            )
        })
        .collect();
    // LiteLLM 1.109.1, gpt-5-mini per token: flex 1.25e-7 in and 1e-6 out, priority 4.5e-7
    // and 3.6e-6.
    let expected = [
        (1000.0 * 1.25e-7 + 100.0 * 1e-6, "flex"),
        (1000.0 * 4.5e-7 + 100.0 * 3.6e-6, "priority"),
        (1000.0 * 4.5e-7 + 100.0 * 3.6e-6, "priority"),
    ];
    for ((cost, tier), (want, want_tier)) in charged.iter().zip(expected) {
        assert!((cost - want).abs() < 1e-12, "{cost} != {want}");
        assert_eq!(*tier, want_tier);
    }
    assert_eq!(charged.len(), 3);
}

/// Anthropic's Message Batches is reserved and charged at the batch prices of every request
/// inside it; OpenAI's Batch API, whose requests are in a file the proxy does not see, is
/// refused under a budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_are_priced_per_request_or_refused_when_unbounded() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let fixture = TlsFixture::start().await.unwrap();
    Mock::given(method("POST"))
        .and(path("/v1/messages/batches"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"id": "msgbatch_1", "type": "message_batch"})),
        )
        .with_priority(1)
        .mount(fixture.mock())
        .await;
    let budget = Arc::new(Budget::new(1.0, 0.8, (0.0, 0)));
    let proxy = start_proxy(&fixture, secrets().with_budget(Some(budget.clone())))
        .await
        .unwrap();
    let client = proxy.client().unwrap();
    let params = [
        r#"{"model":"claude-haiku-4-5","max_tokens":1000,"messages":[{"role":"user","content":"a"}]}"#,
        r#"{"model":"claude-sonnet-4-5","max_tokens":200,"messages":[{"role":"user","content":"b"}]}"#,
    ];
    let body = format!(
        r#"{{"requests":[{{"custom_id":"1","params":{}}},{{"custom_id":"2","params":{}}}]}}"#,
        params[0], params[1]
    );
    let resp = client
        .post("https://api.anthropic.com/v1/messages/batches")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.bytes().await.unwrap();
    let openai = client
        .post("https://api.openai.com/v1/batches")
        .header("authorization", format!("Bearer {PH_OPENAI}"))
        .header("content-type", "application/json")
        .body(r#"{"input_file_id":"file-1","endpoint":"/v1/chat/completions","completion_window":"24h"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(openai.status(), 429, "an unbounded batch was admitted");
    let events = proxy.shutdown().await.unwrap();
    // LiteLLM 1.109.1 batch prices per token: haiku 5e-7 in, 2.5e-6 out; sonnet 1.5e-6 in,
    // 7.5e-6 out. The input bound is each request's params as JSON.
    let expected = params[0].len() as f64 * 5e-7
        + 1000.0 * 2.5e-6
        + params[1].len() as f64 * 1.5e-6
        + 200.0 * 7.5e-6;
    let request = &data(&events, "llm_request")[0];
    let reserved = request["reserved_usd"].as_f64().unwrap();
    assert!(
        (reserved - expected).abs() < 1e-12,
        "{reserved} != {expected}"
    );
    let response = &data(&events, "llm_response")[0];
    assert_eq!(response["cost_source"], "reservation");
    assert_eq!(response["service_tier"], "batch");
    assert!((budget.now().spent - expected).abs() < 1e-12);
    assert_eq!(fixture.mock().received_requests().await.unwrap().len(), 1);
}
