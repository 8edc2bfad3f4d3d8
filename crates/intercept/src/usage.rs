//! Model and token-usage extraction from LLM responses, fed incrementally from the relayed
//! stream with bounded memory.
//!
//! Understood shapes (JSON bodies and `text/event-stream` bodies alike):
//!
//! | API | model | input tokens | output tokens |
//! |---|---|---|---|
//! | OpenAI chat completions | `model` | `usage.prompt_tokens` | `usage.completion_tokens` |
//! | OpenAI responses | `model` / `response.model` | `usage.input_tokens` | `usage.output_tokens` |
//! | Anthropic messages | `model` / `message.model` | `usage.input_tokens` + `cache_creation_input_tokens` + `cache_read_input_tokens` | `usage.output_tokens` |
//!
//! In a stream, later events override earlier ones (Anthropic's `message_delta` carries the
//! final cumulative `output_tokens`; OpenAI sends usage in the last chunk when the request
//! asked for `stream_options.include_usage`). A JSON body larger than [`MAX_JSON_BODY`] or an
//! SSE event larger than [`MAX_SSE_EVENT`] is not parsed (the bytes are still relayed).

use serde_json::Value;

/// Largest JSON response body parsed for usage.
pub const MAX_JSON_BODY: usize = 8 << 20;
/// Largest single SSE event parsed for usage.
pub const MAX_SSE_EVENT: usize = 1 << 20;

/// What was learned from a response body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Model the response names; empty when unknown.
    pub model: String,
    /// Input tokens, when reported.
    pub input_tokens: Option<u64>,
    /// Output tokens, when reported.
    pub output_tokens: Option<u64>,
}

impl Usage {
    /// Takes what `v` (one JSON document or one SSE event's data) says.
    pub fn absorb(&mut self, v: &Value) {
        for scope in [Some(v), v.get("response"), v.get("message")]
            .into_iter()
            .flatten()
        {
            if let Some(model) = scope.get("model").and_then(Value::as_str)
                && !model.is_empty()
            {
                self.model = model.to_owned();
            }
            let Some(usage) = scope.get("usage").filter(|u| u.is_object()) else {
                continue;
            };
            let n = |k: &str| usage.get(k).and_then(Value::as_u64);
            if let Some(v) = n("prompt_tokens") {
                self.input_tokens = Some(v);
            }
            if let Some(v) = n("completion_tokens") {
                self.output_tokens = Some(v);
            }
            if let Some(v) = n("input_tokens") {
                let cached = n("cache_creation_input_tokens").unwrap_or(0)
                    + n("cache_read_input_tokens").unwrap_or(0);
                self.input_tokens = Some(v + cached);
            }
            if let Some(v) = n("output_tokens") {
                self.output_tokens = Some(v);
            }
        }
    }
}

/// Incremental parser over a response body.
#[derive(Debug)]
pub enum UsageParser {
    /// A JSON body: buffered up to [`MAX_JSON_BODY`], parsed at the end.
    Json {
        /// Bytes so far.
        buf: Vec<u8>,
        /// The body outgrew the cap.
        overflow: bool,
    },
    /// An SSE body: parsed event by event.
    Sse {
        /// The incomplete current line.
        line: Vec<u8>,
        /// `data:` lines of the current event, joined with `\n`.
        data: Vec<u8>,
        /// The current line or event outgrew the cap and is being skipped.
        skipping: bool,
        /// What was learned so far.
        usage: Usage,
    },
}

impl UsageParser {
    /// A parser for a response with this `Content-Type`; `None` when it is neither JSON nor
    /// SSE.
    pub fn for_content_type(content_type: &str) -> Option<Self> {
        let ct = content_type.to_ascii_lowercase();
        if ct.starts_with("text/event-stream") {
            Some(UsageParser::Sse {
                line: Vec::new(),
                data: Vec::new(),
                skipping: false,
                usage: Usage::default(),
            })
        } else if ct.starts_with("application/json") || ct.contains("+json") {
            Some(UsageParser::Json {
                buf: Vec::new(),
                overflow: false,
            })
        } else {
            None
        }
    }

    /// Feeds the next chunk of the body.
    pub fn feed(&mut self, chunk: &[u8]) {
        match self {
            UsageParser::Json { buf, overflow } => {
                if !*overflow {
                    if buf.len() + chunk.len() > MAX_JSON_BODY {
                        *overflow = true;
                        *buf = Vec::new();
                    } else {
                        buf.extend_from_slice(chunk);
                    }
                }
            }
            UsageParser::Sse {
                line,
                data,
                skipping,
                usage,
            } => {
                let mut rest = chunk;
                while !rest.is_empty() {
                    match memchr::memchr(b'\n', rest) {
                        Some(i) => {
                            if line.len() + i <= MAX_SSE_EVENT {
                                line.extend_from_slice(&rest[..i]);
                                sse_line(line, data, skipping, usage);
                            } else {
                                // An oversized line: drop the event it belongs to.
                                *skipping = true;
                                data.clear();
                            }
                            line.clear();
                            rest = &rest[i + 1..];
                        }
                        None => {
                            if line.len() + rest.len() <= MAX_SSE_EVENT {
                                line.extend_from_slice(rest);
                            } else {
                                *skipping = true;
                                line.clear();
                                data.clear();
                            }
                            rest = &[];
                        }
                    }
                }
            }
        }
    }

    /// Ends the body and returns what was learned.
    pub fn finish(self) -> Usage {
        match self {
            UsageParser::Json { buf, overflow } => {
                let mut usage = Usage::default();
                if !overflow && let Ok(v) = serde_json::from_slice::<Value>(&buf) {
                    usage.absorb(&v);
                }
                usage
            }
            UsageParser::Sse {
                mut line,
                mut data,
                mut skipping,
                mut usage,
            } => {
                if !line.is_empty() {
                    sse_line(&mut line, &mut data, &mut skipping, &mut usage);
                }
                let mut empty = Vec::new();
                sse_line(&mut empty, &mut data, &mut skipping, &mut usage);
                usage
            }
        }
    }
}

fn sse_line(line: &mut Vec<u8>, data: &mut Vec<u8>, skipping: &mut bool, usage: &mut Usage) {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    if line.is_empty() {
        // End of event: dispatch.
        if !*skipping
            && !data.is_empty()
            && data.as_slice() != b"[DONE]"
            && let Ok(v) = serde_json::from_slice::<Value>(data)
        {
            usage.absorb(&v);
        }
        data.clear();
        *skipping = false;
        return;
    }
    if *skipping {
        return;
    }
    if let Some(rest) = line.strip_prefix(b"data:") {
        let rest = rest.strip_prefix(b" ").unwrap_or(rest);
        if data.len() + rest.len() + 1 > MAX_SSE_EVENT {
            *skipping = true;
            data.clear();
            return;
        }
        if !data.is_empty() {
            data.push(b'\n');
        }
        data.extend_from_slice(rest);
    }
}

/// The `model` of a JSON request body, empty when absent or not JSON.
pub fn request_model(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("model").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sse(chunks: &[&str]) -> Usage {
        let mut p = UsageParser::for_content_type("text/event-stream; charset=utf-8").unwrap();
        for c in chunks {
            p.feed(c.as_bytes());
        }
        p.finish()
    }

    #[test]
    fn openai_chat_json() {
        let mut p = UsageParser::for_content_type("application/json").unwrap();
        p.feed(br#"{"model":"gpt-4o-mini","usage":{"prompt_tokens":12,"#);
        p.feed(br#""completion_tokens":5}}"#);
        let u = p.finish();
        assert_eq!(
            (u.model.as_str(), u.input_tokens, u.output_tokens),
            ("gpt-4o-mini", Some(12), Some(5))
        );
    }

    #[test]
    fn anthropic_stream_split_anywhere() {
        let body = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-x\",\"usage\":{\"input_tokens\":25,\"cache_read_input_tokens\":5,\"output_tokens\":1}}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":15}}\n\n";
        for split in 0..body.len() {
            let u = sse(&[&body[..split], &body[split..]]);
            assert_eq!(
                (u.model.as_str(), u.input_tokens, u.output_tokens),
                ("claude-x", Some(30), Some(15)),
                "split {split}"
            );
        }
    }

    #[test]
    fn openai_responses_stream() {
        let u = sse(&[
            "data: {\"type\":\"response.completed\",\"response\":{\"model\":\"gpt-5\",\"usage\":{\"input_tokens\":3,\"output_tokens\":4}}}\r\n\r\ndata: [DONE]\n\n",
        ]);
        assert_eq!(
            (u.model.as_str(), u.input_tokens, u.output_tokens),
            ("gpt-5", Some(3), Some(4))
        );
    }
}

// TEMPORARY (replaced by the ca-usage branch).
impl UsageParser {
    /// Temporary.
    pub fn for_response(content_type: &str, content_encoding: Option<&str>) -> Option<Self> {
        if content_encoding.is_some_and(|e| !e.eq_ignore_ascii_case("identity")) {
            return None;
        }
        Self::for_content_type(content_type)
    }
    /// Temporary.
    pub fn saw_terminal_event(&self) -> bool {
        false
    }
}
