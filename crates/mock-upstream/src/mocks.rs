//! Mock LLM responses (OpenAI chat completions and responses API, Anthropic messages; JSON
//! and SSE; error statuses) mounted on a wiremock [`MockServer`].
//!
//! Routing: `POST /v1/chat/completions`, `POST /v1/responses`, `POST /v1/messages`; a JSON
//! body with `"stream": true` gets the SSE form. A request header `x-testkit-status: 429` or
//! `500` gets that error status instead. `GET /v1/models` lists one model. A request header
//! `x-testkit-encoding: gzip` gets the chat completion JSON gzip-compressed
//! (`Content-Encoding: gzip`), as an upstream answers an SDK that sent `Accept-Encoding: gzip`.

use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Model every mock answers with.
pub const OPENAI_MODEL: &str = "gpt-4o-mini-2024-07-18";
/// Model the Anthropic mocks answer with.
pub const ANTHROPIC_MODEL: &str = "claude-sonnet-4-5-20250929";

/// An OpenAI chat completion (`usage`: 12 prompt, 5 completion tokens).
pub fn openai_chat_json() -> serde_json::Value {
    json!({
        "id": "chatcmpl-test", "object": "chat.completion", "created": 1_700_000_000,
        "model": OPENAI_MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}
    })
}

/// An OpenAI chat completion stream with a final usage chunk (9 prompt, 3 completion).
pub fn openai_chat_sse() -> String {
    let mut out = String::new();
    for word in ["Hel", "lo", "!"] {
        let chunk = json!({"id": "chatcmpl-test", "object": "chat.completion.chunk", "model": OPENAI_MODEL,
            "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": null}]});
        out.push_str(&format!("data: {chunk}\n\n"));
    }
    let last = json!({"id": "chatcmpl-test", "object": "chat.completion.chunk", "model": OPENAI_MODEL,
        "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}});
    out.push_str(&format!("data: {last}\n\ndata: [DONE]\n\n"));
    out
}

/// An OpenAI responses-API response (7 input, 11 output tokens).
pub fn openai_responses_json() -> serde_json::Value {
    json!({
        "id": "resp_test", "object": "response", "status": "completed", "model": OPENAI_MODEL,
        "output": [{"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hi"}]}],
        "usage": {"input_tokens": 7, "output_tokens": 11, "total_tokens": 18}
    })
}

/// An Anthropic message (21 input, 8 output tokens).
pub fn anthropic_messages_json() -> serde_json::Value {
    json!({
        "id": "msg_test", "type": "message", "role": "assistant", "model": ANTHROPIC_MODEL,
        "content": [{"type": "text", "text": "Hello!"}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 21, "output_tokens": 8}
    })
}

/// An Anthropic message stream (25 input, 15 output tokens).
pub fn anthropic_messages_sse() -> String {
    let events = [
        (
            "message_start",
            json!({"type": "message_start", "message": {"id": "msg_test", "type": "message", "role": "assistant", "model": ANTHROPIC_MODEL, "content": [], "usage": {"input_tokens": 25, "output_tokens": 1}}}),
        ),
        (
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        (
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello!"}}),
        ),
        (
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        ),
        (
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 15}}),
        ),
        ("message_stop", json!({"type": "message_stop"})),
    ];
    events
        .iter()
        .map(|(name, data)| format!("event: {name}\ndata: {data}\n\n"))
        .collect()
}

fn sse(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("cache-control", "no-cache")
        .set_body_raw(body, "text/event-stream")
}

/// `bytes` gzip-compressed.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

/// Mounts every default mock on `server`.
pub async fn mount_defaults(server: &MockServer) {
    let compressed = gzip(openai_chat_json().to_string().as_bytes());
    Mock::given(header("x-testkit-encoding", "gzip"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "gzip")
                .set_body_raw(compressed, "application/json"),
        )
        .with_priority(1)
        .mount(server)
        .await;
    for status in [429u16, 500, 503] {
        Mock::given(header("x-testkit-status", status.to_string().as_str()))
            .respond_with(ResponseTemplate::new(status).set_body_json(
                json!({"error": {"message": "mock error", "type": "mock_error", "code": status}}),
            ))
            .with_priority(1)
            .mount(server)
            .await;
    }
    let routes: [(&str, ResponseTemplate, ResponseTemplate); 2] = [
        (
            "/v1/chat/completions",
            sse(openai_chat_sse()),
            ResponseTemplate::new(200).set_body_json(openai_chat_json()),
        ),
        (
            "/v1/messages",
            sse(anthropic_messages_sse()),
            ResponseTemplate::new(200).set_body_json(anthropic_messages_json()),
        ),
    ];
    for (route, streaming, plain) in routes {
        Mock::given(method("POST"))
            .and(path(route))
            .and(body_partial_json(json!({"stream": true})))
            .respond_with(streaming)
            .with_priority(2)
            .mount(server)
            .await;
        Mock::given(method("POST"))
            .and(path(route))
            .respond_with(plain)
            .with_priority(3)
            .mount(server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/v1/responses"))
        .respond_with(ResponseTemplate::new(200).set_body_json(openai_responses_json()))
        .with_priority(3)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"object": "list", "data": [{"id": OPENAI_MODEL, "object": "model"}]}),
        ))
        .with_priority(3)
        .mount(server)
        .await;
}

/// A plain-HTTP mock upstream on loopback with the default mocks: a stand-in for a local
/// inference server that `--route` sends requests to.
pub async fn plain_upstream() -> MockServer {
    let server = MockServer::start().await;
    mount_defaults(&server).await;
    server
}
