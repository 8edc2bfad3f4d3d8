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
//! An adversarial agent against the budget gate: one attack per way the gate was once passed
//! (issue 20), each against an upstream that bills like a provider.
//!
//! The upstream here does not answer with fixed usage. It reads what it received as a
//! provider would (the body decompressed, the model from the body, every output limit, `n`
//! and `best_of`) and bills the most that request can cost: every output token the request
//! allows, in every completion it asks for, and one input token per byte of the body. It
//! answers with that usage, and keeps the bill. An agent wins if the provider's bills add up
//! past the limit; it also wins if a request reached the provider and the log has no record
//! of it. So each test asserts the promise itself, not a path: the bills stay within the
//! limit, and every exchange the provider saw is in the log.
//!
//! What needs the real binary (signals, a file-size limit, a second proxy on one log) is in
//! `tests/proxy_ops.rs` at the workspace root; what needs a client that gives up, a crash or
//! a failed write is in `budget.rs` beside this file.

use std::io::Read as _;
use std::sync::{Arc, Mutex};

use agentlog_intercept::{Budget, PriceTable, Tokens};
use agentlog_mock_upstream::TlsFixture;
use agentlog_testkit::start_proxy;
use serde_json::{Value, json};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

mod common;

use common::{PH_OPENAI, secrets};

const CHAT: &str = "https://api.openai.com/v1/chat/completions";

/// What one request can cost at most, as the provider bills it.
fn worst_bill(prices: &PriceTable, body: &Value, body_bytes: usize) -> (String, Tokens, f64) {
    let model = body["model"].as_str().unwrap_or("").to_owned();
    let count = |k: &str| body[k].as_f64().filter(|n| n.is_finite() && *n >= 1.0);
    let limits = ["max_tokens", "max_completion_tokens", "max_output_tokens"];
    let price = prices.lookup(&model).map(|m| m.price);
    let model_max = price.and_then(|p| p.max_output_tokens).unwrap_or(100_000);
    let limit = limits.iter().filter_map(|k| count(k)).fold(0.0, f64::max);
    let per_completion = if limit > 0.0 { limit as u64 } else { model_max };
    let completions = [count("n"), count("best_of")].into_iter().flatten();
    let prompts = match body["prompt"].as_array() {
        Some(list) if list.iter().any(|p| p.is_string() || p.is_array()) => list.len() as u64,
        _ => 1,
    };
    let completions = completions.fold(1.0, f64::max).ceil() as u64 * prompts.max(1);
    let tokens = Tokens {
        input: body_bytes as u64,
        cached_read: 0,
        cache_creation: 0,
        cache_creation_1h: 0,
        output: per_completion.saturating_mul(completions),
    };
    // A model the table does not know may cost as much as the dearest entry it has.
    let usd = match price {
        Some(p) => tokens.input as f64 * p.input + tokens.output as f64 * p.output,
        None => prices.highest_cost(&tokens),
    };
    (model, tokens, usd)
}

/// An upstream that bills every request its worst case and answers with that usage.
#[derive(Clone, Default)]
struct BillingProvider {
    bills: Arc<Mutex<Vec<f64>>>,
}

impl BillingProvider {
    fn total(&self) -> f64 {
        self.bills.lock().unwrap().iter().sum()
    }

    fn count(&self) -> usize {
        self.bills.lock().unwrap().len()
    }
}

/// The body as the provider reads it: decompressed per `Content-Encoding`.
fn received_body(request: &Request) -> Vec<u8> {
    // Every `Content-Encoding` line, as a provider that reads them all: the last real coding.
    let encoding = (request.headers.get_all("content-encoding").iter())
        .filter_map(|v| v.to_str().ok())
        .rfind(|v| *v != "identity")
        .unwrap_or("");
    let mut out = Vec::new();
    let decoded = match encoding {
        "gzip" => flate2::read::MultiGzDecoder::new(request.body.as_slice()).read_to_end(&mut out),
        "zstd" => zstd::stream::read::Decoder::new(request.body.as_slice())
            .and_then(|mut d| d.read_to_end(&mut out)),
        _ => return request.body.clone(),
    };
    decoded.map(|_| out).unwrap_or_default()
}

impl Respond for BillingProvider {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body = received_body(request);
        // A body a strict parser refuses (an unpaired surrogate) is still read by a lenient
        // provider: what the agent asked for counts.
        let text = String::from_utf8_lossy(&body).replace("\\ud800", "");
        let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let (model, tokens, usd) = worst_bill(&PriceTable::builtin(), &parsed, body.len());
        self.bills.lock().unwrap().push(usd);
        ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-billed", "object": "chat.completion", "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                         "finish_reason": "length"}],
            "usage": {"prompt_tokens": tokens.input, "completion_tokens": tokens.output,
                      "total_tokens": tokens.input + tokens.output},
        }))
    }
}

/// One request an agent sends: its body and its `Content-Encoding` lines.
struct Attempt {
    body: Vec<u8>,
    encoding: Option<&'static str>,
}

impl Attempt {
    /// The `Content-Encoding` lines to send: `identity, gzip` is two lines.
    fn encodings(&self) -> impl Iterator<Item = &str> {
        self.encoding.into_iter().flat_map(|e| e.split(", "))
    }
}

impl Attempt {
    fn json(body: Value) -> Self {
        Attempt {
            body: body.to_string().into_bytes(),
            encoding: None,
        }
    }
}

/// Sends every attempt `rounds` times (each round all at once) through a proxy with `limit`
/// USD to spend, then checks the promise: the provider's bills stay within the limit, and
/// every exchange it saw has its request and response in the log. Returns how many the
/// provider billed.
async fn attack(limit: f64, attempts: &[Attempt], rounds: usize) -> usize {
    let provider = BillingProvider::default();
    let fixture = TlsFixture::start().await.unwrap();
    Mock::given(wiremock::matchers::any())
        .respond_with(provider.clone())
        .with_priority(1)
        .mount(fixture.mock())
        .await;
    let budget = Arc::new(Budget::new(limit, 0.8, (0.0, 0)));
    let proxy = start_proxy(&fixture, secrets().with_budget(Some(budget)))
        .await
        .unwrap();
    let client = proxy.client().unwrap();
    for _ in 0..rounds {
        let sends = attempts.iter().map(|attempt| {
            let mut request = (client.post(CHAT))
                .header("authorization", format!("Bearer {PH_OPENAI}"))
                .header("content-type", "application/json")
                .body(attempt.body.clone());
            for encoding in attempt.encodings() {
                request = request.header("content-encoding", encoding);
            }
            async move {
                let resp = request.send().await.unwrap();
                let status = resp.status().as_u16();
                resp.bytes().await.unwrap();
                status
            }
        });
        let statuses = futures_util::future::join_all(sends).await;
        assert!(
            statuses.iter().all(|s| matches!(s, 200 | 429)),
            "{statuses:?}"
        );
    }
    let events = proxy.shutdown().await.unwrap();
    let billed = provider.count();
    assert!(
        provider.total() <= limit * (1.0 + 1e-9),
        "the provider billed ${} against a limit of ${limit} ({billed} requests)",
        provider.total()
    );
    let count = |t: &str| events.iter().filter(|e| e.event_type.as_str() == t).count();
    assert_eq!(
        count("llm_request"),
        billed,
        "a billed request is not in the log"
    );
    assert_eq!(
        count("llm_response"),
        billed,
        "a billed response is not in the log"
    );
    billed
}

/// A gzip body.
fn gzip(body: &Value) -> Attempt {
    Attempt {
        body: agentlog_mock_upstream::mocks::gzip(body.to_string().as_bytes()),
        encoding: Some("gzip"),
    }
}

/// A zstd body.
fn zstd(body: &Value) -> Attempt {
    Attempt {
        body: zstd::encode_all(body.to_string().as_bytes(), 3).unwrap(),
        encoding: Some("zstd"),
    }
}

fn chat_body(extra: Value) -> Value {
    let mut body = json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    body
}

/// Room for one 50,000-token answer of gpt-4o-mini, and a little more.
const ONE_BIG_ANSWER: f64 = 0.045;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_and_best_of_multiply_what_is_reserved() {
    let attempts = [
        Attempt::json(chat_body(json!({"max_tokens": 1000, "n": 50}))),
        Attempt::json(chat_body(
            json!({"max_tokens": 1000, "best_of": 50, "n": 2}),
        )),
    ];
    attack(ONE_BIG_ANSWER, &attempts, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_largest_of_several_output_limits_is_reserved() {
    let attempts = [
        Attempt::json(chat_body(
            json!({"max_tokens": 10, "max_completion_tokens": 50000}),
        )),
        Attempt::json(chat_body(
            json!({"max_completion_tokens": 10, "max_tokens": 50000}),
        )),
    ];
    attack(ONE_BIG_ANSWER, &attempts, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_an_output_limit_is_reserved_at_the_models_maximum() {
    let attempts = [Attempt::json(chat_body(json!({})))];
    attack(ONE_BIG_ANSWER, &attempts, 6).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_bodies_are_priced_as_the_provider_reads_them() {
    let big = chat_body(json!({"max_tokens": 1000, "n": 50}));
    let attempts = [gzip(&big), zstd(&big), gzip(&chat_body(json!({})))];
    attack(ONE_BIG_ANSWER, &attempts, 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_the_gate_cannot_parse_is_not_free() {
    let mut unpaired = chat_body(json!({"max_tokens": 1000, "n": 50})).to_string();
    unpaired.insert_str(1, "\"x\":\"\\ud800\",");
    let attempts = [
        Attempt {
            body: unpaired.into_bytes(),
            encoding: None,
        },
        // Not JSON at all, and a body that names no model.
        Attempt {
            body: b"{\"model\":\"gpt-4o-mini\",\"n\":50,".to_vec(),
            encoding: None,
        },
        Attempt::json(json!({"messages": [], "max_tokens": 1000, "n": 50})),
    ];
    attack(ONE_BIG_ANSWER, &attempts, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_the_table_does_not_know_is_not_priced_as_a_cheaper_relative() {
    let attempts = [
        Attempt::json(chat_body(
            json!({"model": "gpt-4o-mini-deep-research", "max_tokens": 2000}),
        )),
        Attempt::json(chat_body(
            json!({"model": "o3-super-9000", "max_tokens": 2000}),
        )),
        Attempt::json(chat_body(
            json!({"model": "openai/gpt-4o-mini-x", "max_tokens": 2000}),
        )),
    ];
    attack(0.5, &attempts, 3).await;
}

/// Honest requests still pass: the gate is not safe merely by refusing everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_fit_are_admitted_until_the_limit() {
    let attempts: Vec<Attempt> = (0..8)
        .map(|_| Attempt::json(chat_body(json!({"max_tokens": 1000}))))
        .collect();
    let billed = attack(0.0041, &attempts, 2).await;
    // Each costs at most 1,000 output and ~90 input tokens of gpt-4o-mini: about $0.0006.
    assert!((5..=7).contains(&billed), "{billed} admitted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_of_prompts_is_a_completion_each() {
    let attempts = [Attempt::json(json!({
        "model": "gpt-4o-mini", "max_tokens": 1000, "n": 5,
        "prompt": vec!["say hi"; 10],
    }))];
    attack(ONE_BIG_ANSWER, &attempts, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_content_encoding_line_counts() {
    let big = chat_body(json!({"max_tokens": 1000, "n": 50}));
    let attempts = [Attempt {
        encoding: Some("identity, gzip"),
        ..gzip(&big)
    }];
    attack(ONE_BIG_ANSWER, &attempts, 3).await;
}
