//! Parsers of decoded response bodies: a JSON document, or a stream of server-sent events
//! (`sse.rs`).

use serde_json::Value;

use super::sse::SseBody;
use super::{MAX_JSON_BODY, Usage};

/// The parser for one kind of (decoded) body.
#[derive(Debug)]
pub(super) enum BodyParser {
    /// Both boxed: the states are large, and a parser moves between stages.
    Json(Box<JsonBody>),
    Sse(Box<SseBody>),
}

impl BodyParser {
    pub(super) fn for_content_type(content_type: &str) -> Option<Self> {
        let ct = content_type.to_ascii_lowercase();
        if ct.starts_with("text/event-stream") {
            Some(BodyParser::Sse(Box::default()))
        } else if ct.starts_with("application/json") || ct.contains("+json") {
            Some(BodyParser::Json(Box::default()))
        } else {
            None
        }
    }

    /// A parser that wants nothing: it stands in for one taken out of a decoder.
    pub(super) fn spent() -> Self {
        BodyParser::Json(Box::new(JsonBody {
            overflow: true,
            ..JsonBody::default()
        }))
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
            BodyParser::Sse(sse) => sse.saw_terminal_event(),
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
