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
//! End-to-end tests of the interceptor: a real reqwest HTTPS client through `agentlog proxy`
//! (in-process) to the TLS fixture and the wiremock mock LLM upstream. Loopback only.

use std::time::Duration;

use agentlog_core::event::Event;
use agentlog_intercept::Timeouts;
use agentlog_mock_upstream::TlsFixture;
use agentlog_testkit::{ProxyOptions, TestkitError, start_proxy};
use serde_json::{Value, json};

mod common;

use common::{ANTHROPIC_KEY, JsonBody, OPENAI_KEY, secrets};

/// Events as JSON with the volatile fields (ts, durations) replaced; exchange ids (made from
/// the proxy's start time) become `[exchange N]`, numbered in order of first appearance, so a
/// snapshot still shows which response answers which request.
fn normalized(events: &[Event]) -> Value {
    let mut out = Vec::new();
    let mut exchanges: Vec<String> = Vec::new();
    for e in events {
        let mut v: Value = serde_json::from_str(&e.to_json().unwrap()).unwrap();
        v["ts"] = json!("[ts]");
        if let Some(d) = v.get_mut("data").and_then(|d| d.get_mut("duration_ms")) {
            *d = json!("[ms]");
        }
        if let Some(id) = v.get_mut("data").and_then(|d| d.get_mut("exchange_id")) {
            let text = id.as_str().unwrap().to_owned();
            let n = match exchanges.iter().position(|x| *x == text) {
                Some(i) => i + 1,
                None => {
                    exchanges.push(text);
                    exchanges.len()
                }
            };
            *id = json!(format!("[exchange {n}]"));
        }
        if let Some(Value::String(s)) = v.get_mut("summary")
            && let Some(i) = s.rfind(" (")
        {
            s.truncate(i);
            s.push_str(" ([ms])");
        }
        out.push(v);
    }
    Value::Array(out)
}

fn snapshot(name: &str, events: &[Event]) {
    insta::with_settings!({snapshot_path => "../../../testdata/intercept", prepend_module_to_snapshot => false}, {
        insta::assert_json_snapshot!(name, normalized(events));
    });
}

/// Every line validates against the envelope schema and holds no secret value.
fn check_log(text: &str) {
    let validator = agentlog_core::schema::envelope().unwrap();
    for (n, line) in text.lines().enumerate() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("line {n} torn: {e}"));
        assert!(validator.is_valid(&v), "line {n} invalid: {line}");
        for secret in [OPENAI_KEY, ANTHROPIC_KEY] {
            assert!(!line.contains(secret), "line {n} holds a secret value");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injects_real_key_upstream_and_logs_valid_events() {
    let fixture = TlsFixture::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    let mut options = secrets();
    options.event_log = Some(log.clone());
    let proxy = start_proxy(&fixture, options).await.unwrap();
    let placeholder = proxy.placeholder("OPENAI_API_KEY").unwrap().to_owned();
    let client = proxy.client().unwrap();

    let resp = client
        .post("https://api.openai.com/v1/chat/completions?trace=1")
        .header("authorization", format!("Bearer {placeholder}"))
        .json_body(
            &json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(body["usage"]["prompt_tokens"], 12);

    let received = fixture.mock().received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    let auth = received[0]
        .headers
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap();
    assert_eq!(
        auth,
        format!("Bearer {OPENAI_KEY}"),
        "upstream got the real key"
    );
    assert!(!String::from_utf8_lossy(&received[0].body).contains(OPENAI_KEY));

    let events = proxy.wait_events(4).await.unwrap();
    snapshot("openai_chat_json", &events);
    proxy.shutdown().await.unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 4);
    check_log(&text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn placeholder_in_query_is_replaced_for_allowed_host() {
    let fixture = TlsFixture::start().await.unwrap();
    let proxy = start_proxy(&fixture, secrets()).await.unwrap();
    let ph = proxy.placeholder("OPENAI_API_KEY").unwrap().to_owned();
    let resp = proxy
        .client()
        .unwrap()
        .get(format!("https://api.openai.com/v1/models?key={ph}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let received = fixture.mock().received_requests().await.unwrap();
    assert_eq!(
        received[0].url.query(),
        Some(format!("key={OPENAI_KEY}").as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_and_anthropic_report_usage() {
    let fixture = TlsFixture::start().await.unwrap();
    let proxy = start_proxy(&fixture, secrets()).await.unwrap();
    let client = proxy.client().unwrap();
    let ph_a = proxy.placeholder("ANTHROPIC_API_KEY").unwrap().to_owned();

    let sse = client
        .post("https://api.openai.com/v1/chat/completions")
        .json_body(&json!({"model": "gpt-4o-mini", "stream": true, "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(sse.headers()["content-type"], "text/event-stream");
    let sse_len = sse.bytes().await.unwrap().len() as u64;

    let msg = client
        .post("https://api.anthropic.com/v1/messages")
        .header("x-api-key", &ph_a)
        .json_body(&json!({"model": "claude-sonnet-4", "max_tokens": 16, "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(msg.status(), 200);
    msg.bytes().await.unwrap();

    let stream = client
        .post("https://api.anthropic.com/v1/messages")
        .header("x-api-key", &ph_a)
        .json_body(&json!({"model": "claude-sonnet-4", "stream": true, "messages": []}))
        .send()
        .await
        .unwrap();
    stream.bytes().await.unwrap();

    let responses = client
        .post("https://api.openai.com/v1/responses")
        .json_body(&json!({"model": "gpt-5", "input": "hi"}))
        .send()
        .await
        .unwrap();
    responses.bytes().await.unwrap();

    let events = proxy.wait_events(16).await.unwrap();
    let llm: Vec<&Event> = events
        .iter()
        .filter(|e| e.event_type.as_str() == "llm_response")
        .collect();
    assert_eq!(llm.len(), 4);
    let data = |i: usize| serde_json::to_value(llm[i].data.as_ref().unwrap()).unwrap();
    assert_eq!(data(0)["body_bytes"], sse_len);
    assert_eq!(
        (
            data(0)["input_tokens"].clone(),
            data(0)["output_tokens"].clone()
        ),
        (json!(9), json!(3))
    );
    assert_eq!(
        (
            data(1)["input_tokens"].clone(),
            data(1)["output_tokens"].clone()
        ),
        (json!(21), json!(8))
    );
    assert_eq!(
        (
            data(2)["input_tokens"].clone(),
            data(2)["output_tokens"].clone()
        ),
        (json!(25), json!(15))
    );
    assert_eq!(
        (
            data(3)["input_tokens"].clone(),
            data(3)["output_tokens"].clone()
        ),
        (json!(7), json!(11))
    );
    snapshot("streams_and_anthropic", &events);
    let received = fixture.mock().received_requests().await.unwrap();
    let keys: Vec<_> = received
        .iter()
        .filter_map(|r| r.headers.get("x-api-key"))
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        keys,
        vec![ANTHROPIC_KEY.to_owned(), ANTHROPIC_KEY.to_owned()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leak_is_blocked_with_403_and_nothing_sent_upstream() {
    let fixture = TlsFixture::start().await.unwrap();
    let proxy = start_proxy(&fixture, secrets()).await.unwrap();
    let ph_a = proxy.placeholder("ANTHROPIC_API_KEY").unwrap().to_owned();
    let resp = proxy
        .client()
        .unwrap()
        .post("https://api.openai.com/v1/chat/completions")
        .header("authorization", format!("Bearer {ph_a}"))
        .json_body(&json!({"model": "gpt-4o-mini"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.text().await.unwrap(), "Blocked by policy");
    assert!(fixture.mock().received_requests().await.unwrap().is_empty());
    let events = proxy.wait_events(1).await.unwrap();
    snapshot("leak_blocked", &events);
}

/// The kit's wait fails loudly: it names the count it waited for, the deadline and the types
/// of the events that did arrive (never their data).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_events_fails_naming_what_arrived() {
    let fixture = TlsFixture::start().await.unwrap();
    let proxy = start_proxy(&fixture, secrets()).await.unwrap();
    let err = proxy
        .wait_events_within(1, Duration::from_millis(10))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "expected at least 1 events within 10ms, got 0"
    );

    let ph_a = proxy.placeholder("ANTHROPIC_API_KEY").unwrap().to_owned();
    let resp = proxy
        .client()
        .unwrap()
        .post("https://api.openai.com/v1/chat/completions")
        .header("authorization", format!("Bearer {ph_a}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    resp.bytes().await.unwrap();
    assert_eq!(proxy.wait_events(1).await.unwrap().len(), 1);
    let err = proxy
        .wait_events_within(3, Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(
        matches!(err, TestkitError::TooFewEvents { expected: 3, ref arrived, .. } if arrived.len() == 1),
        "{err:?}"
    );
    let message = err.to_string();
    assert_eq!(
        message,
        "expected at least 3 events within 100ms, got 1: key_injection"
    );
    assert!(!message.contains(&ph_a) && !message.contains(ANTHROPIC_KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_chunk_arrives_before_upstream_sends_the_last() {
    let fixture = TlsFixture::start().await.unwrap();
    let proxy = start_proxy(&fixture, ProxyOptions::default())
        .await
        .unwrap();
    let mut resp = proxy
        .client()
        .unwrap()
        .post("https://api.openai.com/v1/chat/completions")
        .header("x-testkit-stream", "gated")
        .json_body(&json!({"model": "gpt-4o-mini", "stream": true}))
        .send()
        .await
        .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), resp.chunk())
        .await
        .expect("first chunk must arrive while upstream holds the last")
        .unwrap()
        .unwrap();
    assert!(first.starts_with(b"data: "));
    let events = proxy.events();
    assert_eq!(events.len(), 1, "only llm_request before the stream ends");
    fixture.release();
    let mut total = first.len();
    while let Some(chunk) = resp.chunk().await.unwrap() {
        total += chunk.len();
    }
    let events = proxy.wait_events(2).await.unwrap();
    let data = serde_json::to_value(events[1].data.as_ref().unwrap()).unwrap();
    assert_eq!(data["body_bytes"], total as u64);
    assert_eq!(data["output_tokens"], 6);
    snapshot("gated_stream", &events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_requests_give_one_hundred_intact_events() {
    let fixture = TlsFixture::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    let options = ProxyOptions::default().with_event_log(Some(log.clone()));
    let proxy = start_proxy(&fixture, options).await.unwrap();
    let client = proxy.client().unwrap();
    let mut tasks = Vec::new();
    for i in 0..50 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let stream = i % 2 == 0;
            let resp = client
                .post("https://api.openai.com/v1/chat/completions")
                .json_body(&json!({"model": format!("m-{i}"), "stream": stream}))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            resp.bytes().await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    proxy.wait_events(100).await.unwrap();
    let events = proxy.shutdown().await.unwrap();
    assert_eq!(events.len(), 100);
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 100);
    check_log(&text);
    let responses = text
        .lines()
        .filter(|l| l.contains("\"llm_response\""))
        .count();
    assert_eq!(responses, 50);
}

/// A loopback address whose connections are refused, for as long as the returned socket
/// lives: the socket is bound (so no one else can take the port) but never listens, so the
/// kernel answers every SYN with a reset. Checked before it is returned.
async fn refusing_port() -> (tokio::net::TcpSocket, std::net::SocketAddr) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    // Without SO_REUSEADDR no other socket can bind the port while this one holds it.
    socket.set_reuseaddr(false).unwrap();
    socket.bind(([127, 0, 0, 1], 0).into()).unwrap();
    let addr = socket.local_addr().unwrap();
    let err = tokio::net::TcpStream::connect(addr)
        .await
        .expect_err("a bound, non-listening port refuses connections");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
    (socket, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_refused_gives_502_and_an_llm_response() {
    let fixture = TlsFixture::start().await.unwrap();
    let (_held, refusing) = refusing_port().await;
    let options = ProxyOptions::default()
        .with_connect_to(vec![("api.openai.com:443".into(), refusing.to_string())]);
    let proxy = start_proxy(&fixture, options).await.unwrap();
    let resp = proxy
        .client()
        .unwrap()
        .post("https://api.openai.com/v1/chat/completions")
        .json_body(&json!({"model": "gpt-4o-mini"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    let events = proxy.wait_events(2).await.unwrap();
    snapshot("connect_refused", &events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_tls_failure_gives_502() {
    let fixture = TlsFixture::start().await.unwrap();
    // The wiremock port speaks plain HTTP: the TLS handshake fails.
    let options = ProxyOptions::default().with_connect_to(vec![(
        "api.openai.com:443".into(),
        fixture.mock().address().to_string(),
    )]);
    let proxy = start_proxy(&fixture, options).await.unwrap();
    let resp = proxy
        .client()
        .unwrap()
        .get("https://api.openai.com/v1/models")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    let events = proxy.wait_events(2).await.unwrap();
    let data = serde_json::to_value(events[1].data.as_ref().unwrap()).unwrap();
    assert_eq!(data["status_code"], 502);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_upstream_gives_504() {
    let fixture = TlsFixture::start().await.unwrap();
    wiremock::Mock::given(wiremock::matchers::path("/v1/slow"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(fixture.mock())
        .await;
    let mut timeouts = Timeouts::default();
    timeouts.response_head = Duration::from_millis(300);
    let options = ProxyOptions::default().with_timeouts(Some(timeouts));
    let proxy = start_proxy(&fixture, options).await.unwrap();
    let resp = proxy
        .client()
        .unwrap()
        .get("https://api.openai.com/v1/slow")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 504);
    let events = proxy.wait_events(2).await.unwrap();
    let data = serde_json::to_value(events[1].data.as_ref().unwrap()).unwrap();
    assert_eq!(data["status_code"], 504);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_stream_is_logged_once_as_incomplete() {
    let fixture = TlsFixture::start().await.unwrap();
    let proxy = start_proxy(&fixture, ProxyOptions::default())
        .await
        .unwrap();
    let resp = proxy
        .client()
        .unwrap()
        .post("https://api.openai.com/v1/chat/completions")
        .header("x-testkit-stream", "truncated")
        .json_body(&json!({"stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.bytes().await.is_err(),
        "client must see the truncation"
    );
    proxy.wait_events(2).await.unwrap();
    // The client has seen the end of the exchange: after shutdown no event may follow.
    let events = proxy.shutdown().await.unwrap();
    assert_eq!(events.len(), 2, "exactly one llm_response");
    snapshot("truncated_stream", &events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_is_proxied_and_tagged_http_when_cleartext_injection_is_allowed() {
    let fixture = TlsFixture::start().await.unwrap();
    let proxy = start_proxy(&fixture, secrets().with_allow_cleartext_injection(true))
        .await
        .unwrap();
    let ph = proxy.placeholder("OPENAI_API_KEY").unwrap().to_owned();
    let resp = proxy
        .client()
        .unwrap()
        .post("http://api.openai.com/v1/chat/completions")
        .header("authorization", format!("Bearer {ph}"))
        .json_body(&json!({"model": "gpt-4o-mini"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.bytes().await.unwrap();
    let received = fixture.mock().received_requests().await.unwrap();
    assert_eq!(
        received[0].headers["authorization"],
        format!("Bearer {OPENAI_KEY}").as_str()
    );
    let events = proxy.wait_events(4).await.unwrap();
    snapshot("plain_http", &events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ip_literal_host_gets_an_ip_san() {
    let fixture = TlsFixture::start().await.unwrap();
    let options = ProxyOptions::default().with_llm_hosts(vec!["127.0.0.1".into()]);
    let proxy = start_proxy(&fixture, options).await.unwrap();
    // reqwest checks the proxy's leaf against the IP literal: only an IP SAN passes.
    let resp = proxy
        .client()
        .unwrap()
        .get(format!(
            "https://127.0.0.1:{}/v1/models",
            fixture.addr().port()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let events = proxy.wait_events(2).await.unwrap();
    assert_eq!(events[0].summary, "GET 127.0.0.1/v1/models");

    // And directly: the leaf verifies for the IP, not for a DNS name.
    use rustls::client::danger::ServerCertVerifier;
    let ca = proxy.ca();
    let leaf = ca.leaf("192.168.86.246").unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.cert_der().clone()).unwrap();
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        std::sync::Arc::new(roots),
        agentlog_intercept::provider(),
    )
    .build()
    .unwrap();
    let now = rustls_pki_types::UnixTime::now();
    let ip = rustls_pki_types::ServerName::try_from("192.168.86.246").unwrap();
    assert!(
        verifier
            .verify_server_cert(&leaf.cert[0], &leaf.cert[1..], &ip, &[], now)
            .is_ok()
    );
    let dns = rustls_pki_types::ServerName::try_from("example.com").unwrap();
    assert!(
        verifier
            .verify_server_cert(&leaf.cert[0], &leaf.cert[1..], &dns, &[], now)
            .is_err()
    );
    let other = ca.leaf("api.openai.com").unwrap();
    assert_ne!(other.cert[0], leaf.cert[0]);
    assert!(
        std::sync::Arc::ptr_eq(&ca.leaf("api.openai.com").unwrap(), &other),
        "cached"
    );
}

#[test]
fn ca_dir_is_created_private_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let first = agentlog_intercept::CertAuthority::load_or_create(&ca_dir).unwrap();
    let second = agentlog_intercept::CertAuthority::load_or_create(&ca_dir).unwrap();
    assert_eq!(first.cert_pem(), second.cert_pem());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&ca_dir.join("ca-key.pem")), 0o600);
        assert_eq!(mode(&ca_dir), 0o700);
    }
    // A leaf minted by the reloaded CA chains to the saved certificate.
    let leaf = second.leaf("api.openai.com").unwrap();
    assert_eq!(&leaf.cert[1], first.cert_der());
}

/// Sends one request per model in `models` through the proxy to an upstream that answers
/// with that model (echoing what it was sent, say); the log's text and its event types.
async fn through_an_echoing_upstream(
    models: &[String],
    judge: Option<agentlog_intercept::TextJudge>,
) -> (String, Vec<String>) {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let fixture = TlsFixture::start().await.unwrap();
    for (i, model) in models.iter().enumerate() {
        Mock::given(method("POST"))
            .and(path(format!("/v1/echo{i}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "model": model,
                "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
            })))
            .with_priority(1)
            .mount(fixture.mock())
            .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    let mut options = secrets().with_profile(agentlog_intercept::Profile::V1);
    if let Some(judge) = judge {
        options = options.with_judge(judge);
    }
    options.event_log = Some(log.clone());
    let proxy = start_proxy(&fixture, options).await.unwrap();
    let placeholder = proxy.placeholder("OPENAI_API_KEY").unwrap().to_owned();
    for i in 0..models.len() {
        let resp = proxy
            .client()
            .unwrap()
            .post(format!("https://api.openai.com/v1/echo{i}"))
            .header("authorization", format!("Bearer {placeholder}"))
            .json_body(&json!({"model": "gpt-4o-mini"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        // Read to its end: the response's events are written once its body is through.
        resp.bytes().await.unwrap();
    }
    // Shutdown waits for every exchange's events: the file then holds them all.
    proxy.shutdown().await.unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    check_log(&text);
    let types = text
        .lines()
        .map(|line| {
            let event: Value = serde_json::from_str(line).unwrap();
            event["event_type"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    (text, types)
}

/// An upstream that echoes the injected key where the proxy copies text from a response (the
/// model name, and the response transform's reason that names it): the event log withholds
/// the value, keeps the event, and stays valid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_echoed_by_the_upstream_is_withheld_from_the_log() {
    let (text, types) = through_an_echoing_upstream(&[format!("echo-{OPENAI_KEY}")], None).await;
    assert!(types.iter().any(|t| t == "http_response"), "{types:?}");
    assert!(
        text.contains("echo-[redacted]"),
        "the echoed model is kept, its value withheld"
    );
}

/// An upstream that echoes the injected key encoded (base64, reversed) as its model: with
/// the command line's judge, the whole field is withheld and the event kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_echoed_encoded_is_withheld_by_the_judge() {
    use base64::Engine as _;
    let encoded = [
        base64::engine::general_purpose::STANDARD.encode(OPENAI_KEY),
        OPENAI_KEY.chars().rev().collect::<String>(),
    ];
    let redactor = agentlog_validate::Options::default()
        .with_secrets(vec![agentlog_validate::secrets::Secret::new(
            "OPENAI_API_KEY",
            agentlog_validate::secrets::SecretValue::new(OPENAI_KEY),
            vec![],
        )])
        .redactor()
        .unwrap();
    let judge = agentlog_intercept::TextJudge::new(move |text| redactor.leaks(text));
    let (text, types) = through_an_echoing_upstream(&encoded, Some(judge)).await;
    for model in &encoded {
        assert!(
            !text.contains(model.as_str()),
            "{model} in the log:\n{text}"
        );
    }
    let responses = types.iter().filter(|t| *t == "http_response").count();
    assert_eq!(responses, 2, "both responses are kept");
    assert!(text.contains("\"model\":\"[redacted]\""), "{text}");
}
