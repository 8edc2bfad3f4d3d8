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
//! The proxy's edges as operators meet them: idle and half-open clients, clients that hang up
//! after the last SSE event, placeholders in bodies and over cleartext, compressed responses,
//! trailing-dot hosts, refusals over h2, local answers, WebSocket upgrades and shutdown.
//! Everything runs on loopback; waits are on events with deadlines that fail loudly.

use std::sync::Arc;
use std::time::Duration;

use agentlog_core::event::{Event, EventData, InjectionAction};
use agentlog_intercept::Timeouts;
use agentlog_mock_upstream::TlsFixture;
use agentlog_testkit::{TestProxy, start_proxy};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;

use common::{ANTHROPIC_KEY, OPENAI_KEY, PH_ANTHROPIC, PH_OPENAI, secrets};

/// `POST https://api.openai.com/v1/chat/completions` carrying the OpenAI placeholder.
fn chat(proxy: &TestProxy, url: &str) -> reqwest::RequestBuilder {
    proxy
        .client()
        .unwrap()
        .post(url)
        .header("authorization", format!("Bearer {PH_OPENAI}"))
}

const CHAT: &str = "https://api.openai.com/v1/chat/completions";

fn types(events: &[Event]) -> Vec<String> {
    events.iter().map(|e| e.event_type.to_string()).collect()
}

fn tags(event: &Event) -> Vec<&str> {
    event.tags.iter().map(String::as_str).collect()
}

fn response_of(events: &[Event]) -> &Event {
    events
        .iter()
        .find(|e| e.event_type.as_str() == "llm_response")
        .expect("an llm_response event")
}

fn data(event: &Event) -> Value {
    serde_json::to_value(event.data.as_ref().expect("data")).unwrap()
}

/// Fails loudly when `fut` takes longer than `secs`.
async fn within<T>(secs: u64, what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), fut)
        .await
        .unwrap_or_else(|_| panic!("{what}: not done within {secs}s"))
}

/// A TLS connection to `host` through the proxy's `CONNECT`, offering `alpn`.
async fn tunnel(
    proxy: &TestProxy,
    host: &str,
    alpn: &[&[u8]],
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let mut tcp = TcpStream::connect(proxy.addr()).await.unwrap();
    tcp.write_all(format!("CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        assert_eq!(tcp.read(&mut byte).await.unwrap(), 1, "CONNECT answer cut");
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    let mut roots = rustls::RootCertStore::empty();
    roots.add(proxy.ca().cert_der().clone()).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(agentlog_intercept::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let name = rustls_pki_types::ServerName::try_from(host.to_owned()).unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_idle_connections_do_not_stop_a_new_client() {
    // Both ends of 500 connections live in this process: make room as the proxy does.
    agentlog_intercept::raise_fd_limit();
    let fixture = TlsFixture::start().await.unwrap();
    let proxy = start_proxy(&fixture, secrets()).await.unwrap();
    let mut idle = Vec::new();
    for i in 0..500 {
        let mut tcp = TcpStream::connect(proxy.addr()).await.unwrap();
        match i % 3 {
            0 => {}
            1 => tcp
                .write_all(b"POST http://api.openai.com/v1/x HTTP/1.1\r\nHo")
                .await
                .unwrap(),
            _ => tcp
                .write_all(b"CONNECT api.openai.com:443 HTTP/1.1\r\n\r\n")
                .await
                .unwrap(),
        }
        idle.push(tcp);
    }
    let client = proxy.client().unwrap();
    let resp = within(1, "a request next to 500 idle connections", async {
        client
            .get("https://api.openai.com/v1/models")
            .header("authorization", format!("Bearer {PH_OPENAI}"))
            .send()
            .await
            .unwrap()
    })
    .await;
    assert_eq!(resp.status(), 200);
    drop(idle);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_half_open_clients_are_closed() {
    let fixture = TlsFixture::start().await.unwrap();
    let timeouts = Timeouts::default()
        .with_client_idle(Duration::from_millis(300))
        .with_client_header(Duration::from_millis(600))
        .with_client_handshake(Duration::from_millis(300));
    let proxy = start_proxy(&fixture, secrets().with_timeouts(Some(timeouts)))
        .await
        .unwrap();
    let openers: [&[u8]; 3] = [
        b"",
        b"GET http://api.openai.com/ HTTP/1.1\r\nHo",
        b"CONNECT api.openai.com:443 HTTP/1.1\r\n\r\n",
    ];
    for opener in openers {
        let mut tcp = TcpStream::connect(proxy.addr()).await.unwrap();
        tcp.write_all(opener).await.unwrap();
        let mut sink = Vec::new();
        // Closed by the proxy: read_to_end returns (EOF or reset), instead of hanging.
        let _ = within(
            10,
            "the proxy closing an idle client",
            tcp.read_to_end(&mut sink),
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_hanging_up_right_after_done_is_a_complete_response() {
    let fixture = TlsFixture::start().await.unwrap();
    let proxy = start_proxy(&fixture, secrets()).await.unwrap();
    let mut tls = tunnel(&proxy, "api.openai.com", &[b"http/1.1"]).await;
    let body = r#"{"model":"gpt-4o-mini","stream":true}"#;
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nAuthorization: Bearer {PH_OPENAI}\r\nContent-Type: application/json\r\nx-testkit-stream: done-then-hold\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    within(10, "reading up to [DONE]", async {
        while !String::from_utf8_lossy(&seen).contains("data: [DONE]") {
            let mut buf = [0u8; 4096];
            let n = tls.read(&mut buf).await.unwrap();
            assert!(n > 0, "stream ended before [DONE]");
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    // What the sync openai SDK does: close as soon as [DONE] is read; the upstream has not
    // even ended its body yet.
    drop(tls);
    // Two key_injection, llm_request, llm_response.
    let events = proxy.wait_events(4).await.unwrap();
    let response = response_of(&events);
    assert_eq!(tags(response), ["tls"], "{response:?}");
    assert_eq!(data(response)["output_tokens"], 6);
    fixture.release();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn placeholder_in_body_to_a_disallowed_host_is_blocked() {
    let fixture = TlsFixture::start().await.unwrap();
    let proxy = start_proxy(&fixture, secrets()).await.unwrap();
    let resp = proxy
        .client()
        .unwrap()
        .post("https://api.anthropic.com/v1/messages")
        .header("x-api-key", PH_ANTHROPIC)
        .header("content-type", "application/json")
        .body(json!({"model": "claude", "messages": [{"role": "user", "content": format!("my key is {PH_OPENAI}")}]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.text().await.unwrap(), "Blocked by policy");
    assert!(fixture.mock().received_requests().await.unwrap().is_empty());
    let events = proxy.shutdown().await.unwrap();
    assert_eq!(types(&events), ["key_injection"]);
    let leak = data(&events[0]);
    assert_eq!(leak["secret_name"], "OPENAI_API_KEY");
    assert_eq!(leak["action"], "leak_blocked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn placeholder_deep_in_a_streamed_body_is_blocked() {
    let fixture = TlsFixture::start().await.unwrap();
    let options = secrets().with_connect_to(vec![(
        "localhost:443".to_owned(),
        fixture.addr().to_string(),
    )]);
    let proxy = start_proxy(&fixture, options).await.unwrap();
    // A non-LLM host, so the body is relayed as it comes; the placeholder sits past the
    // read-ahead, split across two chunks.
    let mut chunks: Vec<Result<Vec<u8>, std::io::Error>> = Vec::new();
    for _ in 0..40 {
        chunks.push(Ok(vec![b'x'; 4096]));
    }
    chunks.push(Ok(PH_OPENAI.as_bytes()[..10].to_vec()));
    chunks.push(Ok(PH_OPENAI.as_bytes()[10..].to_vec()));
    chunks.push(Ok(vec![b'y'; 4096]));
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let resp = proxy
        .client()
        .unwrap()
        .post("https://localhost/upload")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let received = fixture.mock().received_requests().await.unwrap();
    assert!(
        received.iter().all(|r| r.url.path() != "/upload"),
        "the upstream got a complete request"
    );
    let events = proxy.shutdown().await.unwrap();
    let leaks: Vec<Value> = events
        .iter()
        .map(data)
        .filter(|d| d["action"] == "leak_blocked")
        .collect();
    assert_eq!(leaks.len(), 1, "{events:?}");
    assert_eq!(leaks[0]["secret_name"], "OPENAI_API_KEY");
    assert_eq!(leaks[0]["host"], "localhost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleartext_injection_is_refused_unless_allowed() {
    let fixture = TlsFixture::start().await.unwrap();
    let proxy = start_proxy(&fixture, secrets()).await.unwrap();
    let resp = chat(&proxy, "http://api.openai.com/v1/chat/completions")
        .body(r#"{"model":"gpt-4o-mini"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let text = resp.text().await.unwrap();
    assert!(text.starts_with("Blocked by policy"), "{text}");
    assert!(text.contains("--allow-cleartext-injection"), "{text}");
    assert!(fixture.mock().received_requests().await.unwrap().is_empty());
    let events = proxy.shutdown().await.unwrap();
    assert_eq!(types(&events), ["key_injection"]);
    assert_eq!(data(&events[0])["action"], "leak_blocked");
    assert_eq!(tags(&events[0]), ["http"]);

    let proxy = start_proxy(&fixture, secrets().with_allow_cleartext_injection(true))
        .await
        .unwrap();
    let resp = chat(&proxy, "http://api.openai.com/v1/chat/completions")
        .body(r#"{"model":"gpt-4o-mini"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let received = fixture.mock().received_requests().await.unwrap();
    assert_eq!(
        received[0].headers["authorization"],
        format!("Bearer {OPENAI_KEY}").as_str()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_response_keeps_model_and_tokens() {
    let fixture = TlsFixture::start().await.unwrap();
    let proxy = start_proxy(&fixture, secrets()).await.unwrap();
    let resp = chat(&proxy, CHAT)
        .header("x-testkit-encoding", "gzip")
        .body(r#"{"model":"gpt-4o-mini"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    resp.bytes().await.unwrap();
    let events = proxy.shutdown().await.unwrap();
    let d = data(response_of(&events));
    assert_eq!(d["model"], agentlog_mock_upstream::mocks::OPENAI_MODEL);
    assert_eq!(
        (d["input_tokens"].clone(), d["output_tokens"].clone()),
        (json!(12), json!(5))
    );
}

/// A zstd-compressed stream (`Content-Encoding: zstd`, as an upstream may answer a client
/// that offers it) is decoded for its usage and passed on untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zstd_stream_keeps_model_and_tokens_and_reaches_the_client_unchanged() {
    use wiremock::matchers::header;
    use wiremock::{Mock, ResponseTemplate};
    let fixture = TlsFixture::start().await.unwrap();
    let sse = agentlog_mock_upstream::mocks::openai_chat_sse();
    let compressed = zstd::encode_all(sse.as_bytes(), 3).unwrap();
    Mock::given(header("x-testkit-encoding", "zstd"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "zstd")
                .set_body_raw(compressed.clone(), "text/event-stream"),
        )
        .with_priority(1)
        .mount(fixture.mock())
        .await;
    let proxy = start_proxy(&fixture, secrets()).await.unwrap();
    let resp = chat(&proxy, CHAT)
        .header("x-testkit-encoding", "zstd")
        .body(r#"{"model":"gpt-4o-mini","stream":true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-encoding"], "zstd");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), compressed.as_slice());
    let events = proxy.shutdown().await.unwrap();
    let d = data(response_of(&events));
    assert_eq!(d["model"], agentlog_mock_upstream::mocks::OPENAI_MODEL);
    assert_eq!(
        (d["input_tokens"].clone(), d["output_tokens"].clone()),
        (json!(9), json!(3))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trailing_dot_host_is_the_same_host() {
    let fixture = TlsFixture::start().await.unwrap();
    let proxy = start_proxy(&fixture, secrets()).await.unwrap();
    let resp = chat(&proxy, "https://api.openai.com./v1/chat/completions")
        .body(r#"{"model":"gpt-4o-mini"}"#)
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
    let events = proxy.shutdown().await.unwrap();
    assert!(
        events.iter().all(|e| data(e)["host"] == "api.openai.com"),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusal_over_h2_arrives_before_the_reset() {
    let fixture = TlsFixture::start().await.unwrap();
    let proxy = start_proxy(&fixture, secrets()).await.unwrap();
    let resp = proxy
        .client()
        .unwrap()
        .post("https://api.openai.com/v1/chat/completions")
        .header("authorization", format!("Bearer {PH_ANTHROPIC}"))
        .body(vec![b'a'; 256 << 10])
        .send()
        .await
        .expect("a 403, not a stream reset");
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.text().await.unwrap(), "Blocked by policy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_request_gets_413_with_its_events() {
    let fixture = TlsFixture::start().await.unwrap();
    let proxy = start_proxy(&fixture, secrets().with_max_request_body(1024))
        .await
        .unwrap();
    let resp = chat(&proxy, CHAT)
        .body(vec![b' '; 4096])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let body: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "request_too_large");
    assert!(fixture.mock().received_requests().await.unwrap().is_empty());
    let events = proxy.shutdown().await.unwrap();
    assert_eq!(types(&events), ["llm_request", "llm_response"]);
    assert_eq!(data(&events[1])["status_code"], 413);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_failure_is_explained_in_the_provider_shape() {
    let fixture = TlsFixture::start().await.unwrap();
    // A listener that accepts and closes at once: the upstream fails before answering.
    let closer = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closer_addr = closer.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = closer.accept().await {
            drop(tcp);
        }
    });
    let options = secrets().with_connect_to(vec![(
        "api.anthropic.com:443".to_owned(),
        closer_addr.to_string(),
    )]);
    let proxy = start_proxy(&fixture, options).await.unwrap();
    let resp = proxy
        .client()
        .unwrap()
        .post("https://api.anthropic.com/v1/messages")
        .header("x-api-key", PH_ANTHROPIC)
        .body(r#"{"model":"claude"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    assert_eq!(resp.headers()["x-agentlog-error"], "upstream_failed");
    let body: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "api_error");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("api.anthropic.com"), "{message}");
    assert!(!message.contains(ANTHROPIC_KEY), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_then_cuts_and_logs_every_response() {
    let fixture = TlsFixture::start().await.unwrap();
    let proxy = start_proxy(&fixture, secrets()).await.unwrap();
    let client = proxy.client().unwrap();
    let mut streams = Vec::new();
    for _ in 0..2 {
        let resp = client
            .post("https://api.openai.com/v1/chat/completions")
            .header("authorization", format!("Bearer {PH_OPENAI}"))
            .header("x-testkit-stream", "gated")
            .body(r#"{"model":"gpt-4o-mini","stream":true}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        streams.push(tokio::spawn(async move { resp.bytes().await }));
    }
    // Both streams are in flight (heads received). Shut down with a grace period, let one
    // stream finish inside it, and let the other be cut.
    let shutdown = tokio::spawn(proxy.shutdown_with_grace(Duration::from_millis(1500)));
    fixture.release();
    let mut finished = 0;
    for s in streams {
        if within(20, "a stream ending", s).await.unwrap().is_ok() {
            finished += 1;
        }
    }
    let (report, events) = within(20, "shutdown", shutdown).await.unwrap().unwrap();
    assert_eq!(finished, 1, "one stream completes, one is cut");
    assert!(!report.drained);
    assert_eq!(report.cut_short, 1);
    let responses: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(e.data, Some(EventData::LlmResponse(_))))
        .collect();
    assert_eq!(responses.len(), 2, "{events:?}");
    let cut: Vec<Vec<&str>> = responses.iter().map(|e| tags(e)).collect();
    assert!(cut.contains(&vec!["tls"]), "{cut:?}");
    assert!(
        cut.contains(&vec!["tls", "incomplete", "cut_short"]),
        "{cut:?}"
    );
    assert!(events.iter().all(|e| match &e.data {
        Some(EventData::KeyInjection(k)) => k.action != InjectionAction::LeakBlocked,
        _ => true,
    }));
}

/// A WebSocket-ish upstream on plain HTTP: answers an upgrade with 101 and echoes bytes.
async fn echo_upgrade_server() -> std::net::SocketAddr {
    use http_body_util::Empty;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let service = service_fn(|mut req: http::Request<hyper::body::Incoming>| async move {
                let key_seen = req.headers().contains_key("sec-websocket-key");
                let upgrade = hyper::upgrade::on(&mut req);
                tokio::spawn(async move {
                    if let Ok(upgraded) = upgrade.await {
                        let (mut r, mut w) = tokio::io::split(TokioIo::new(upgraded));
                        let _ = tokio::io::copy(&mut r, &mut w).await;
                    }
                });
                let resp = http::Response::builder()
                    .status(if key_seen { 101 } else { 400 })
                    .header("connection", "upgrade")
                    .header("upgrade", "websocket")
                    .header("sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
                    .body(Empty::<bytes::Bytes>::new())
                    .unwrap();
                Ok::<_, std::convert::Infallible>(resp)
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_upgrade_is_relayed_and_logged() {
    let fixture = TlsFixture::start().await.unwrap();
    let upstream = echo_upgrade_server().await;
    let options = secrets()
        .with_llm_hosts(vec!["ws.test".to_owned()])
        .with_connect_to(vec![("ws.test:80".to_owned(), upstream.to_string())]);
    let proxy = start_proxy(&fixture, options).await.unwrap();
    let mut tcp = TcpStream::connect(proxy.addr()).await.unwrap();
    tcp.write_all(
        b"GET http://ws.test/v1/realtime?model=gpt-realtime HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .unwrap();
    let mut head = Vec::new();
    within(10, "the 101 head", async {
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8; 1];
            assert_eq!(
                tcp.read(&mut byte).await.unwrap(),
                1,
                "closed before the head"
            );
            head.push(byte[0]);
        }
    })
    .await;
    let head = String::from_utf8_lossy(&head).to_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(head.contains("sec-websocket-accept"), "{head}");
    tcp.write_all(b"frames both ways").await.unwrap();
    let mut echo = [0u8; 16];
    within(10, "the echo", tcp.read_exact(&mut echo))
        .await
        .unwrap();
    assert_eq!(&echo, b"frames both ways");
    drop(tcp);
    let events = proxy.wait_events(4).await.unwrap();
    let response = response_of(&events);
    let d = data(response);
    assert_eq!(d["status_code"], 101);
    assert_eq!(d["body_bytes"], 16);
    assert_eq!(d["path"], "/v1/realtime");
    assert_eq!(tags(response), ["http"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_log_blocks_requests_unless_told_to_continue() {
    let fixture = TlsFixture::start().await.unwrap();
    // Every write to /dev/full fails with ENOSPC.
    let full = std::path::PathBuf::from("/dev/full");
    let proxy = start_proxy(&fixture, secrets().with_event_log(Some(full.clone())))
        .await
        .unwrap();
    let resp = chat(&proxy, CHAT).body("{}").send().await.unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "event_log_unavailable");
    assert!(fixture.mock().received_requests().await.unwrap().is_empty());
    assert!(proxy.emitter().write_failures() > 0);

    let options = secrets()
        .with_event_log(Some(full))
        .with_on_log_error(agentlog_intercept::LogErrorPolicy::Continue);
    let proxy = start_proxy(&fixture, options).await.unwrap();
    let resp = chat(&proxy, CHAT).body("{}").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.bytes().await.unwrap();
    assert_eq!(fixture.mock().received_requests().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_body_that_fails_never_reaches_the_upstream_complete() {
    let fixture = TlsFixture::start().await.unwrap();
    let options = secrets().with_connect_to(vec![(
        "localhost:443".to_owned(),
        fixture.addr().to_string(),
    )]);
    let proxy = start_proxy(&fixture, options).await.unwrap();
    // A non-LLM host with a secret not allowed there, so the body is scanned; the client's
    // body fails inside the read-ahead window.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
        Ok(vec![b'x'; 1024]),
        Err(std::io::Error::other("client gave up")),
    ];
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let sent = proxy
        .client()
        .unwrap()
        .post("https://localhost/upload")
        .body(body)
        .send()
        .await;
    assert!(sent.is_err() || sent.unwrap().status() != 200);
    proxy.shutdown().await.unwrap();
    let received = fixture.mock().received_requests().await.unwrap();
    assert!(
        received.iter().all(|r| r.url.path() != "/upload"),
        "the upstream got a request whose body the client never finished"
    );
}

/// v1 writes `http_request`/`http_response` for every request, LLM host or not, with Go's
/// percent-decoded path; v0 writes only its `key_injection` events for a host that is not an
/// LLM host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_logs_every_request_with_the_decoded_path() {
    for (profile, expected) in [
        (
            agentlog_intercept::Profile::V0,
            vec!["key_injection", "key_injection"],
        ),
        (
            agentlog_intercept::Profile::V1,
            vec!["request_transform", "http_request", "http_response"],
        ),
    ] {
        let fixture = TlsFixture::start().await.unwrap();
        let proxy = start_proxy(&fixture, secrets().with_profile(profile))
            .await
            .unwrap();
        // `localhost` is no LLM host; the fixture's certificate covers it.
        let url = format!(
            "https://localhost:{}/v1/models%20all",
            fixture.addr().port()
        );
        let resp = within(10, "request", proxy.client().unwrap().get(url).send())
            .await
            .unwrap();
        assert_eq!(resp.status(), 404, "wiremock has no such path");
        resp.bytes().await.unwrap();
        let events = proxy.shutdown().await.unwrap();
        assert_eq!(types(&events), expected, "{profile:?}");
        if profile == agentlog_intercept::Profile::V1 {
            assert_eq!(data(&events[1])["path"], "/v1/models all");
            assert_eq!(data(&events[1])["routed"], false);
            assert_eq!(data(&events[2])["status_code"], 404);
            assert_eq!(
                data(&events[0])["reason"],
                "2 secret(s) skipped for localhost"
            );
        }
    }
}
