//! Parsers of decoded response bodies: a JSON document, or a stream of server-sent events.

use serde_json::Value;

use super::{MAX_JSON_BODY, MAX_SSE_EVENT, TERMINAL_TYPES, Usage};

/// The parser for one kind of (decoded) body.
#[derive(Debug)]
pub(super) enum BodyParser {
    Json(JsonBody),
    Sse(SseBody),
}

impl BodyParser {
    pub(super) fn for_content_type(content_type: &str) -> Option<Self> {
        let ct = content_type.to_ascii_lowercase();
        if ct.starts_with("text/event-stream") {
            Some(BodyParser::Sse(SseBody::default()))
        } else if ct.starts_with("application/json") || ct.contains("+json") {
            Some(BodyParser::Json(JsonBody::default()))
        } else {
            None
        }
    }

    /// A parser that wants nothing: it stands in for one taken out of a decoder.
    pub(super) fn spent() -> Self {
        BodyParser::Json(JsonBody {
            overflow: true,
            ..JsonBody::default()
        })
    }

    pub(super) fn feed(&mut self, chunk: &[u8]) {
        match self {
            BodyParser::Json(json) => json.feed(chunk),
            BodyParser::Sse(sse) => sse.feed(chunk),
        }
    }

    /// Whether more bytes could still change the result (a decoder stops when not).
    pub(super) fn wants_more(&self) -> bool {
        match self {
            BodyParser::Json(json) => !json.overflow && !json.trailing,
            BodyParser::Sse(_) => true,
        }
    }

    pub(super) fn saw_terminal_event(&self) -> bool {
        match self {
            BodyParser::Json(json) => json.parsed.is_some() && !json.trailing,
            BodyParser::Sse(sse) => sse.terminal,
        }
    }

    pub(super) fn finish(self) -> Usage {
        match self {
            BodyParser::Json(json) => json.finish(),
            BodyParser::Sse(sse) => sse.finish(),
        }
    }
}

/// A JSON body: buffered up to [`MAX_JSON_BODY`] and parsed as soon as its top-level object
/// or array closes, which is when the body is known to be complete.
#[derive(Debug, Default)]
pub(super) struct JsonBody {
    /// The document so far; emptied once it closed.
    buf: Vec<u8>,
    /// The body outgrew the cap.
    overflow: bool,
    /// Where the scan for the document's end stands.
    scan: JsonScan,
    /// What the closed document said, when it parsed.
    parsed: Option<Usage>,
    /// Something other than whitespace followed the document: the body is not JSON.
    trailing: bool,
}

impl JsonBody {
    fn feed(&mut self, chunk: &[u8]) {
        if self.overflow || self.trailing {
            return;
        }
        if self.scan.closed {
            self.check_trailing(chunk);
            return;
        }
        let (part, rest) = match self.scan.advance(chunk) {
            Some(end) => chunk.split_at(end + 1),
            None => (chunk, &[][..]),
        };
        if self.buf.len() + part.len() > MAX_JSON_BODY {
            self.overflow = true;
            self.buf = Vec::new();
            return;
        }
        self.buf.extend_from_slice(part);
        if self.scan.closed {
            self.parsed = serde_json::from_slice::<Value>(&self.buf).ok().map(|v| {
                let mut usage = Usage::default();
                usage.absorb(&v);
                usage
            });
            self.buf = Vec::new();
            self.check_trailing(rest);
        }
    }

    fn check_trailing(&mut self, bytes: &[u8]) {
        if !bytes.iter().all(u8::is_ascii_whitespace) {
            self.trailing = true;
            self.parsed = None;
        }
    }

    fn finish(self) -> Usage {
        if self.overflow || self.trailing {
            return Usage::default();
        }
        if let Some(usage) = self.parsed {
            return usage;
        }
        // A body that never closed: a bare scalar, or a truncated document that will not
        // parse either.
        let mut usage = Usage::default();
        if let Ok(v) = serde_json::from_slice::<Value>(&self.buf) {
            usage.absorb(&v);
        }
        usage
    }
}

/// Finds where a JSON document's top-level object, array or string ends, byte by byte.
#[derive(Debug, Default)]
struct JsonScan {
    /// Open objects and arrays.
    depth: u64,
    in_string: bool,
    /// The previous byte was a backslash inside a string.
    escaped: bool,
    /// The first value has begun.
    started: bool,
    /// The top-level value is a bare number or literal, whose end only the body's end marks.
    scalar: bool,
    /// The top-level value has ended.
    closed: bool,
}

impl JsonScan {
    /// Scans `bytes`; returns the index of the byte that ends the top-level value, if it is
    /// in `bytes`.
    fn advance(&mut self, bytes: &[u8]) -> Option<usize> {
        if self.scalar || self.closed {
            return None;
        }
        for (i, &b) in bytes.iter().enumerate() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                    if self.depth == 0 {
                        self.closed = true;
                        return Some(i);
                    }
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                // A closer at depth 0 is invalid JSON: ending there lets the parse say so.
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        self.closed = true;
                        return Some(i);
                    }
                }
                b' ' | b'\t' | b'\n' | b'\r' => continue,
                _ if !self.started => {
                    self.scalar = true;
                    return None;
                }
                _ => {}
            }
            self.started = true;
        }
        None
    }
}

/// A `text/event-stream` body, parsed event by event.
#[derive(Debug, Default)]
pub(super) struct SseBody {
    /// The incomplete current line.
    line: Vec<u8>,
    /// The current line outgrew [`MAX_SSE_EVENT`]; its bytes are dropped up to its end.
    line_overflow: bool,
    /// `data:` lines of the current event, joined with `\n`.
    data: Vec<u8>,
    /// The current event outgrew the cap and is being skipped.
    skipping: bool,
    /// The current event's `event:` field is `message_stop`.
    stop_event: bool,
    /// A terminal event was dispatched.
    terminal: bool,
    /// What was learned so far.
    usage: Usage,
}

impl SseBody {
    fn feed(&mut self, chunk: &[u8]) {
        let mut rest = chunk;
        while let Some(i) = memchr::memchr(b'\n', rest) {
            self.push_line_part(&rest[..i]);
            self.end_line();
            rest = &rest[i + 1..];
        }
        self.push_line_part(rest);
    }

    fn push_line_part(&mut self, part: &[u8]) {
        if self.line_overflow {
            return;
        }
        if self.line.len() + part.len() > MAX_SSE_EVENT {
            self.line_overflow = true;
            self.line = Vec::new();
        } else {
            self.line.extend_from_slice(part);
        }
    }

    fn end_line(&mut self) {
        if std::mem::take(&mut self.line_overflow) {
            // An oversized line: drop the event it belongs to.
            self.skipping = true;
            self.data = Vec::new();
            return;
        }
        let mut line = std::mem::take(&mut self.line);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.is_empty() {
            self.dispatch();
        } else {
            self.field(&line);
        }
        // Keep the allocation for the next line.
        line.clear();
        self.line = line;
    }

    /// One `name: value` line of the current event.
    fn field(&mut self, line: &[u8]) {
        if self.skipping {
            return;
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line, &[][..]),
        };
        let value = value.strip_prefix(b" ").unwrap_or(value);
        match name {
            b"data" => {
                if self.data.len() + value.len() + 1 > MAX_SSE_EVENT {
                    self.skipping = true;
                    self.data = Vec::new();
                    return;
                }
                if !self.data.is_empty() {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
            }
            b"event" => self.stop_event = value == b"message_stop",
            _ => {}
        }
    }

    /// The end of an event: learn from it.
    fn dispatch(&mut self) {
        if !self.skipping {
            let done = self.data.as_slice() == b"[DONE]";
            self.terminal |= self.stop_event || done;
            if !done
                && !self.data.is_empty()
                && let Ok(v) = serde_json::from_slice::<Value>(&self.data)
            {
                self.usage.absorb(&v);
                let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
                self.terminal |= TERMINAL_TYPES.contains(&kind);
            }
        }
        self.data.clear();
        self.skipping = false;
        self.stop_event = false;
    }

    fn finish(mut self) -> Usage {
        // A last event without its blank line still counts.
        if !self.line.is_empty() || self.line_overflow {
            self.end_line();
        }
        self.dispatch();
        self.usage
    }
}
