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
//!
//! # Compressed bodies
//!
//! [`UsageParser::for_response`] decodes a `Content-Encoding` of `gzip` (or `x-gzip`),
//! `deflate` (zlib-wrapped as the standard says, or raw deflate as some servers send it) or
//! `br` on the fly, with bounded memory. Other codings (`zstd`, `compress`) and stacks of two
//! codings (`gzip, br`) are not decoded: the constructor returns `None`, and the response
//! simply has no usage. Decoding stops for good after [`MAX_DECODED_BODY`] decoded bytes, so a
//! decompression bomb costs bounded time, and at the first corrupt byte: what was decoded
//! before it still counts (events a streaming client also saw), nothing after it does.
//!
//! # Stream completeness
//!
//! [`UsageParser::saw_terminal_event`] tells whether the body carried its API's last event,
//! so that a client closing the connection right after it (the synchronous OpenAI SDK does)
//! is not mistaken for a cut-off response:
//!
//! | API | terminal event |
//! |---|---|
//! | OpenAI chat completions | `data: [DONE]` |
//! | Anthropic messages | `event: message_stop`, or data whose `type` is `message_stop` |
//! | OpenAI responses | data whose `type` is `response.completed`, `response.failed` or `response.incomplete` |
//! | any JSON body | the document is complete and parses |
//!
//! An SSE event counts once it is dispatched, that is once the blank line ending it was fed.

use std::io::{self, Write};

use serde_json::Value;

/// Largest JSON response body parsed for usage.
pub const MAX_JSON_BODY: usize = 8 << 20;
/// Largest single SSE event parsed for usage.
pub const MAX_SSE_EVENT: usize = 1 << 20;
/// Most bytes decoded from a compressed body; decoding stops there.
pub const MAX_DECODED_BODY: u64 = 64 << 20;
/// Most compressed bytes fed to a gzip decoder whose header is still unfinished: the header's
/// optional file name and comment have no length limit and are kept in memory.
const MAX_GZIP_HEADER: u64 = 64 << 10;
/// Compressed input is fed to a decoder in pieces of at most this size, so that the gzip
/// header limit is checked often enough to bound what the header can hold.
const DECODE_PIECE: usize = 16 << 10;
/// Output buffer of the brotli decoder.
const BROTLI_BUFFER: usize = 16 << 10;
/// `type`s of SSE data that end a stream.
const TERMINAL_TYPES: &[&str] = &[
    "message_stop",
    "response.completed",
    "response.failed",
    "response.incomplete",
];

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
                self.input_tokens = Some(v.saturating_add(cached));
            }
            if let Some(v) = n("output_tokens") {
                self.output_tokens = Some(v);
            }
        }
    }
}

/// Incremental parser over a response body, decoding it first when it is compressed.
#[derive(Debug)]
pub struct UsageParser {
    stage: Stage,
}

#[derive(Debug)]
enum Stage {
    /// An identity-encoded body, fed straight to its parser.
    Plain(BodyParser),
    /// A compressed body: its decoder writes into the parser.
    Decoding(Box<Decoding>),
}

impl UsageParser {
    /// A parser for a response with this `Content-Type` and `Content-Encoding` (absent means
    /// identity); `None` when the body is neither JSON nor SSE, or when its coding is not one
    /// this module decodes (see the module documentation).
    pub fn for_response(content_type: &str, content_encoding: Option<&str>) -> Option<Self> {
        let body = BodyParser::for_content_type(content_type)?;
        let stage = match Coding::parse(content_encoding.unwrap_or(""))? {
            None => Stage::Plain(body),
            Some(coding) => Stage::Decoding(Box::new(Decoding::new(coding, body))),
        };
        Some(UsageParser { stage })
    }

    /// Feeds the next chunk of the body, as received (still compressed, if it is).
    pub fn feed(&mut self, chunk: &[u8]) {
        match &mut self.stage {
            Stage::Plain(body) => body.feed(chunk),
            Stage::Decoding(decoding) => decoding.feed(chunk),
        }
    }

    /// Whether the body carried its API's last event (for a JSON body: whether the whole
    /// document arrived and parsed), judging by what was fed so far.
    #[allow(
        dead_code,
        reason = "the proxy is about to use this to judge a client's early close"
    )]
    pub fn saw_terminal_event(&self) -> bool {
        match &self.stage {
            Stage::Plain(body) => body.saw_terminal_event(),
            Stage::Decoding(decoding) => decoding.body().saw_terminal_event(),
        }
    }

    /// Ends the body and returns what was learned.
    pub fn finish(self) -> Usage {
        match self.stage {
            Stage::Plain(body) => body.finish(),
            Stage::Decoding(decoding) => decoding.into_body().finish(),
        }
    }
}

/// The parser for one kind of (decoded) body.
#[derive(Debug)]
enum BodyParser {
    Json(JsonBody),
    Sse(SseBody),
}

impl BodyParser {
    fn for_content_type(content_type: &str) -> Option<Self> {
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
    fn spent() -> Self {
        BodyParser::Json(JsonBody {
            overflow: true,
            ..JsonBody::default()
        })
    }

    fn feed(&mut self, chunk: &[u8]) {
        match self {
            BodyParser::Json(json) => json.feed(chunk),
            BodyParser::Sse(sse) => sse.feed(chunk),
        }
    }

    /// Whether more bytes could still change the result (a decoder stops when not).
    fn wants_more(&self) -> bool {
        match self {
            BodyParser::Json(json) => !json.overflow && !json.trailing,
            BodyParser::Sse(_) => true,
        }
    }

    fn saw_terminal_event(&self) -> bool {
        match self {
            BodyParser::Json(json) => json.parsed.is_some() && !json.trailing,
            BodyParser::Sse(sse) => sse.terminal,
        }
    }

    fn finish(self) -> Usage {
        match self {
            BodyParser::Json(json) => json.finish(),
            BodyParser::Sse(sse) => sse.finish(),
        }
    }
}

/// A JSON body: buffered up to [`MAX_JSON_BODY`] and parsed as soon as its top-level object
/// or array closes, which is when the body is known to be complete.
#[derive(Debug, Default)]
struct JsonBody {
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
struct SseBody {
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

/// A `Content-Encoding` this module decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Coding {
    Gzip,
    Deflate,
    Brotli,
}

impl Coding {
    /// The one coding a `Content-Encoding` value applies: `Some(None)` for none (empty, or
    /// only `identity` entries), `None` for an unknown coding or for two stacked ones.
    fn parse(header: &str) -> Option<Option<Coding>> {
        let mut found = None;
        for token in header.split(',').map(str::trim) {
            let coding = match token.to_ascii_lowercase().as_str() {
                "" | "identity" => continue,
                "gzip" | "x-gzip" => Coding::Gzip,
                "deflate" => Coding::Deflate,
                "br" => Coding::Brotli,
                _ => return None,
            };
            if found.replace(coding).is_some() {
                return None;
            }
        }
        Some(found)
    }
}

/// Where a decoder writes: the body parser, behind the decoded-size cap. Refusing a write is
/// how decoding is stopped from the inside, since the decoders stop at their writer's error.
#[derive(Debug)]
struct Sink {
    body: BodyParser,
    decoded: u64,
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let total = self.decoded.saturating_add(buf.len() as u64);
        if total > MAX_DECODED_BODY || !self.body.wants_more() {
            return Err(io::Error::other("no more decoded bytes wanted"));
        }
        self.decoded = total;
        self.body.feed(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A streaming decoder writing into a [`Sink`].
enum Decoder {
    /// A `deflate` body before its first two bytes tell a zlib header from raw deflate.
    Sniffing {
        head: Vec<u8>,
        sink: Sink,
    },
    Gzip(flate2::write::MultiGzDecoder<Sink>),
    Zlib(flate2::write::ZlibDecoder<Sink>),
    Deflate(flate2::write::DeflateDecoder<Sink>),
    /// Boxed: the brotli state is ten times the size of the others.
    Brotli(Box<brotli_decompressor::DecompressorWriter<Sink>>),
}

impl Decoder {
    fn new(coding: Coding, sink: Sink) -> Self {
        match coding {
            Coding::Gzip => Decoder::Gzip(flate2::write::MultiGzDecoder::new(sink)),
            Coding::Brotli => {
                let mut writer = brotli_decompressor::DecompressorWriter::new(sink, BROTLI_BUFFER);
                // Large-window brotli (not part of HTTP's `br`) could make the decoder
                // allocate a window of up to 1 GiB; the standard window is at most 16 MiB.
                writer.set_parameter(
                    brotli_decompressor::BrotliDecoderParameter::BROTLI_DECODER_PARAM_LARGE_WINDOW,
                    0,
                );
                Decoder::Brotli(Box::new(writer))
            }
            Coding::Deflate => Decoder::Sniffing {
                head: Vec::with_capacity(2),
                sink,
            },
        }
    }

    /// The decoder for a `deflate` body starting with `head`: zlib when `head` is a valid
    /// zlib header (deflate method, window at most 32 KiB, check bits), raw deflate otherwise.
    fn for_deflate(head: &[u8], sink: Sink) -> Self {
        let zlib = match head {
            [cmf, flg, ..] => {
                cmf & 0x0f == 8
                    && cmf >> 4 <= 7
                    && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
            }
            _ => false,
        };
        if zlib {
            Decoder::Zlib(flate2::write::ZlibDecoder::new(sink))
        } else {
            Decoder::Deflate(flate2::write::DeflateDecoder::new(sink))
        }
    }

    fn sink(&self) -> &Sink {
        match self {
            Decoder::Sniffing { sink, .. } => sink,
            Decoder::Gzip(d) => d.get_ref(),
            Decoder::Zlib(d) => d.get_ref(),
            Decoder::Deflate(d) => d.get_ref(),
            Decoder::Brotli(d) => d.get_ref(),
        }
    }

    fn sink_mut(&mut self) -> &mut Sink {
        match self {
            Decoder::Sniffing { sink, .. } => sink,
            Decoder::Gzip(d) => d.get_mut(),
            Decoder::Zlib(d) => d.get_mut(),
            Decoder::Deflate(d) => d.get_mut(),
            Decoder::Brotli(d) => d.get_mut(),
        }
    }

    /// The decoder as a writer; `None` while still sniffing.
    fn writer(&mut self) -> Option<&mut dyn Write> {
        match self {
            Decoder::Sniffing { .. } => None,
            Decoder::Gzip(d) => Some(d),
            Decoder::Zlib(d) => Some(d),
            Decoder::Deflate(d) => Some(d),
            Decoder::Brotli(d) => Some(&mut **d),
        }
    }

    /// Whether a gzip header is still being read.
    fn in_gzip_header(&self) -> bool {
        matches!(self, Decoder::Gzip(d) if d.header().is_none())
    }

    /// Decodes what the decoder still holds at the end of the body.
    fn finish(&mut self) -> io::Result<()> {
        match self {
            Decoder::Sniffing { .. } => Ok(()),
            Decoder::Gzip(d) => d.try_finish(),
            Decoder::Zlib(d) => d.try_finish(),
            Decoder::Deflate(d) => d.try_finish(),
            Decoder::Brotli(d) => d.close(),
        }
    }
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Decoder::Sniffing { .. } => "Sniffing",
            Decoder::Gzip(_) => "Gzip",
            Decoder::Zlib(_) => "Zlib",
            Decoder::Deflate(_) => "Deflate",
            Decoder::Brotli(_) => "Brotli",
        };
        f.debug_tuple(name).field(self.sink()).finish()
    }
}

/// A compressed body on its way to the parser.
#[derive(Debug)]
struct Decoding {
    decoder: Decoder,
    /// Compressed bytes fed while a gzip header was unfinished.
    gzip_header_bytes: u64,
    /// Decoding failed or hit a limit: the rest of the body is ignored.
    stopped: bool,
}

impl Decoding {
    fn new(coding: Coding, body: BodyParser) -> Self {
        Decoding {
            decoder: Decoder::new(coding, Sink { body, decoded: 0 }),
            gzip_header_bytes: 0,
            stopped: false,
        }
    }

    fn body(&self) -> &BodyParser {
        &self.decoder.sink().body
    }

    fn feed(&mut self, chunk: &[u8]) {
        let chunk = self.sniff(chunk);
        for piece in chunk.chunks(DECODE_PIECE) {
            if self.stopped {
                return;
            }
            self.stopped = !self.write_piece(piece);
        }
        // The decoders keep their last output until the next write: hand it to the parser
        // now, so that `saw_terminal_event` sees everything fed so far.
        if !self.stopped
            && let Some(writer) = self.decoder.writer()
        {
            self.stopped = writer.flush().is_err();
        }
    }

    /// While sniffing a `deflate` body, takes its first two bytes and then starts the right
    /// decoder on them; returns what remains of `chunk` to decode.
    fn sniff<'c>(&mut self, chunk: &'c [u8]) -> &'c [u8] {
        let Decoder::Sniffing { head, .. } = &mut self.decoder else {
            return chunk;
        };
        let take = chunk.len().min(2 - head.len().min(2));
        head.extend_from_slice(&chunk[..take]);
        if head.len() < 2 {
            return &[];
        }
        let placeholder = Decoder::Sniffing {
            head: Vec::new(),
            sink: Sink {
                body: BodyParser::spent(),
                decoded: 0,
            },
        };
        if let Decoder::Sniffing { head, sink } = std::mem::replace(&mut self.decoder, placeholder)
        {
            self.decoder = Decoder::for_deflate(&head, sink);
            self.stopped = !self.write_piece(&head);
        }
        &chunk[take..]
    }

    /// Decodes one piece; false when decoding must stop.
    fn write_piece(&mut self, mut piece: &[u8]) -> bool {
        let len = piece.len() as u64;
        let in_header = self.decoder.in_gzip_header();
        let Some(writer) = self.decoder.writer() else {
            return false;
        };
        while !piece.is_empty() {
            match writer.write(piece) {
                // Ok(0): the stream has ended and the rest is not part of it.
                Ok(0) | Err(_) => return false,
                Ok(n) => piece = &piece[n.min(piece.len())..],
            }
        }
        if in_header && self.decoder.in_gzip_header() {
            self.gzip_header_bytes += len;
            return self.gzip_header_bytes <= MAX_GZIP_HEADER;
        }
        true
    }

    /// The parser, with everything the decoder still held fed to it.
    fn into_body(mut self: Box<Self>) -> BodyParser {
        if !self.stopped {
            // A truncated or corrupt end is reported here; what was decoded still counts.
            let _ = self.decoder.finish();
        }
        // The decoder writes into its sink once more when dropped: the spent parser that
        // replaces the real one refuses it.
        std::mem::replace(&mut self.decoder.sink_mut().body, BodyParser::spent())
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

    const CHAT_JSON: &str =
        r#"{"id":"c1","model":"gpt-4o-mini","usage":{"prompt_tokens":12,"completion_tokens":5}}"#;
    const ANTHROPIC_SSE: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-x\",\"usage\":{\"input_tokens\":25,\"cache_read_input_tokens\":5,\"output_tokens\":1}}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":15}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    const SSE: &str = "text/event-stream; charset=utf-8";
    const JSON: &str = "application/json";

    fn triple(u: &Usage) -> (&str, Option<u64>, Option<u64>) {
        (u.model.as_str(), u.input_tokens, u.output_tokens)
    }

    fn sse(chunks: &[&str]) -> Usage {
        let mut p = UsageParser::for_response(SSE, None).unwrap();
        for c in chunks {
            p.feed(c.as_bytes());
        }
        p.finish()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn zlib(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn raw_deflate(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn brotli(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut w = ::brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
            w.write_all(bytes).unwrap();
        }
        out
    }

    /// Feeds `body` in pieces of `size` bytes to a fresh parser.
    fn parse(content_type: &str, encoding: Option<&str>, body: &[u8], size: usize) -> UsageParser {
        let mut p = UsageParser::for_response(content_type, encoding).unwrap();
        for piece in body.chunks(size) {
            p.feed(piece);
        }
        p
    }

    #[test]
    fn openai_chat_json() {
        let mut p = UsageParser::for_response(JSON, None).unwrap();
        p.feed(br#"{"model":"gpt-4o-mini","usage":{"prompt_tokens":12,"#);
        assert!(!p.saw_terminal_event());
        p.feed(br#""completion_tokens":5}}"#);
        assert!(p.saw_terminal_event());
        assert_eq!(triple(&p.finish()), ("gpt-4o-mini", Some(12), Some(5)));
    }

    #[test]
    fn anthropic_stream_split_anywhere() {
        for split in 0..ANTHROPIC_SSE.len() {
            let u = sse(&[&ANTHROPIC_SSE[..split], &ANTHROPIC_SSE[split..]]);
            assert_eq!(
                triple(&u),
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
        assert_eq!(triple(&u), ("gpt-5", Some(3), Some(4)));
    }

    #[test]
    fn which_responses_get_a_parser() {
        let cases = [
            (JSON, None, true),
            (JSON, Some("identity"), true),
            (SSE, Some(" GZip "), true),
            (JSON, Some("x-gzip"), true),
            (JSON, Some("deflate"), true),
            ("application/problem+json", Some("br"), true),
            (JSON, Some("gzip, identity"), true),
            (JSON, Some("zstd"), false),
            (JSON, Some("compress"), false),
            (JSON, Some("gzip, br"), false),
            (JSON, Some("br, br"), false),
            ("text/html", Some("gzip"), false),
            ("text/html", None, false),
        ];
        for (ct, encoding, expected) in cases {
            let got = UsageParser::for_response(ct, encoding).is_some();
            assert_eq!(got, expected, "{ct} / {encoding:?}");
        }
    }

    #[test]
    fn compressed_json_bodies_give_usage() {
        let plain = CHAT_JSON.as_bytes();
        let bodies = [
            ("gzip", gzip(plain)),
            ("x-gzip", gzip(plain)),
            ("deflate", zlib(plain)),
            ("deflate", raw_deflate(plain)),
            ("br", brotli(plain)),
        ];
        for (encoding, body) in &bodies {
            for size in [1, 2, 3, 7, 4096] {
                let p = parse(JSON, Some(encoding), body, size);
                assert!(p.saw_terminal_event(), "{encoding} in {size}-byte pieces");
                let u = p.finish();
                assert_eq!(triple(&u), ("gpt-4o-mini", Some(12), Some(5)), "{encoding}");
            }
        }
    }

    #[test]
    fn two_gzip_members_decode_as_one_body() {
        let (a, b) = CHAT_JSON.split_at(20);
        let mut body = gzip(a.as_bytes());
        body.extend(gzip(b.as_bytes()));
        let u = parse(JSON, Some("gzip"), &body, 5).finish();
        assert_eq!(triple(&u), ("gpt-4o-mini", Some(12), Some(5)));
    }

    #[test]
    fn gzip_sse_split_at_every_byte() {
        let body = gzip(ANTHROPIC_SSE.as_bytes());
        for split in 0..=body.len() {
            let mut p = UsageParser::for_response(SSE, Some("gzip")).unwrap();
            p.feed(&body[..split]);
            p.feed(&body[split..]);
            assert!(p.saw_terminal_event(), "split {split}");
            assert_eq!(
                triple(&p.finish()),
                ("claude-x", Some(30), Some(15)),
                "split {split}"
            );
        }
        let p = parse(SSE, Some("gzip"), &body, 1);
        assert!(p.saw_terminal_event(), "byte by byte");
        assert_eq!(triple(&p.finish()), ("claude-x", Some(30), Some(15)));
    }

    #[test]
    fn terminal_event_table() {
        let cases: &[(&str, &str, bool)] = &[
            (SSE, "data: {\"choices\":[]}\n\ndata: [DONE]\n\n", true),
            (SSE, "data: [DONE]\r\n\r\n", true),
            (SSE, "data: {\"choices\":[]}\n\n", false),
            (SSE, "data: [DONE]\n", false),
            (SSE, "data: \"[DONE]\"\n\n", false),
            (SSE, ": [DONE]\n\n", false),
            (
                SSE,
                "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
                true,
            ),
            (SSE, "event:message_stop\n\n", true),
            (SSE, "data: {\"type\":\"message_stop\"}\n\n", true),
            (
                SSE,
                "event: message_delta\ndata: {\"type\":\"message_delta\"}\n\n",
                false,
            ),
            (
                SSE,
                "event: message_stop\ndata: {\"type\":\"message_stop\"}\n",
                false,
            ),
            (
                SSE,
                "data: {\"type\":\"response.completed\",\"response\":{}}\n\n",
                true,
            ),
            (SSE, "data: {\"type\":\"response.failed\"}\n\n", true),
            (SSE, "data: {\"type\":\"response.incomplete\"}\n\n", true),
            (
                SSE,
                "data: {\"type\":\"response.output_text.delta\"}\n\n",
                false,
            ),
            (SSE, "data: {\"type\":\"response.completed\"\n\n", false),
            (JSON, CHAT_JSON, true),
            (JSON, "{\"a\":[1,{\"b\":2}]}\n", true),
            (JSON, "{\"a\":\"}\\\"{\"}", true),
            (JSON, "{\"a\":\"}\\\"{\"", false),
            (JSON, "{\"a\":1", false),
            (JSON, "{\"a\":1} x", false),
            (JSON, "{\"a\":1}{}", false),
            (JSON, "{\"a\":}", false),
            (JSON, "}", false),
            (JSON, "", false),
        ];
        for &(ct, body, expected) in cases {
            for split in 0..=body.len() {
                let mut p = UsageParser::for_response(ct, None).unwrap();
                p.feed(&body.as_bytes()[..split]);
                p.feed(&body.as_bytes()[split..]);
                assert_eq!(p.saw_terminal_event(), expected, "{body:?} split {split}");
            }
            let p = parse(ct, None, body.as_bytes(), 1);
            assert_eq!(p.saw_terminal_event(), expected, "{body:?} byte by byte");
            let p = parse(ct, Some("gzip"), &gzip(body.as_bytes()), 1);
            assert_eq!(
                p.saw_terminal_event(),
                expected,
                "{body:?} gzip byte by byte"
            );
        }
    }

    #[test]
    fn terminal_once_the_last_event_is_complete() {
        let body = ANTHROPIC_SSE.as_bytes();
        let mut p = UsageParser::for_response(SSE, None).unwrap();
        for (i, byte) in body.iter().enumerate() {
            assert!(!p.saw_terminal_event(), "before byte {i}");
            p.feed(std::slice::from_ref(byte));
        }
        assert!(p.saw_terminal_event());
    }

    #[test]
    fn trailing_garbage_spoils_a_json_body() {
        let body = format!("{CHAT_JSON}\n  trailing");
        let u = parse(JSON, None, body.as_bytes(), 3).finish();
        assert_eq!(u, Usage::default());
        let with_space = format!("{CHAT_JSON}\r\n ");
        let u = parse(JSON, None, with_space.as_bytes(), 3).finish();
        assert_eq!(triple(&u), ("gpt-4o-mini", Some(12), Some(5)));
    }

    #[test]
    fn oversized_event_is_skipped_whole() {
        let big = "A".repeat(MAX_SSE_EVENT + 10);
        let body = format!(
            "data: {big}\ndata: {{\"model\":\"wrong\"}}\n\ndata: {{\"model\":\"right\"}}\n\n"
        );
        let u = parse(SSE, None, body.as_bytes(), 64 << 10).finish();
        assert_eq!(u.model, "right");
    }

    #[test]
    fn corrupt_streams_yield_no_usage() {
        let json = CHAT_JSON.as_bytes();
        let gz = gzip(json);
        let mut garbage_after_header = gz[..10].to_vec();
        garbage_after_header.extend_from_slice(b"\xff\xfe this is not deflate data at all");
        let cases = [
            ("gzip", garbage_after_header),
            ("gzip", gz[..gz.len() / 2].to_vec()),
            ("gzip", json.to_vec()),
            ("deflate", b"\x78\x9c garbage that is not deflate".to_vec()),
            ("br", b"definitely not brotli data, no".to_vec()),
            ("br", brotli(json)[..8].to_vec()),
        ];
        for (encoding, body) in &cases {
            let p = parse(JSON, Some(encoding), body, 4);
            assert!(!p.saw_terminal_event(), "{encoding} {body:?}");
            assert_eq!(p.finish(), Usage::default(), "{encoding} {body:?}");
        }
    }

    #[test]
    fn flipped_bytes_never_panic() {
        let plain = ANTHROPIC_SSE.as_bytes();
        let bodies = [
            ("gzip", gzip(plain)),
            ("deflate", zlib(plain)),
            ("deflate", raw_deflate(plain)),
            ("br", brotli(plain)),
        ];
        for (encoding, body) in &bodies {
            for i in 0..body.len() {
                for flip in [0x01, 0x80, 0xff] {
                    let mut corrupt = body.clone();
                    corrupt[i] ^= flip;
                    let p = parse(SSE, Some(encoding), &corrupt, 5);
                    let _ = p.saw_terminal_event();
                    let _ = p.finish();
                }
            }
        }
    }

    /// A gzip stream of `mib` MiB of zeros, about a thousandth of that in size.
    fn gzip_bomb(mib: usize) -> Vec<u8> {
        let zeros = vec![0u8; 1 << 20];
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for _ in 0..mib {
            e.write_all(&zeros).unwrap();
        }
        e.finish().unwrap()
    }

    fn decoded_bytes(p: &UsageParser) -> (u64, bool) {
        match &p.stage {
            Stage::Decoding(d) => (d.decoder.sink().decoded, d.stopped),
            Stage::Plain(_) => (0, false),
        }
    }

    #[test]
    fn decompression_bomb_stops_early() {
        let bomb = gzip_bomb(200);
        assert!(bomb.len() < 1 << 20, "the bomb is small: {}", bomb.len());
        // A JSON body stops being decoded once it outgrew what the parser keeps.
        let p = parse(JSON, Some("gzip"), &bomb, 16 << 10);
        let (decoded, stopped) = decoded_bytes(&p);
        assert!(stopped);
        assert!(decoded <= MAX_JSON_BODY as u64 + (1 << 20), "{decoded}");
        assert_eq!(p.finish(), Usage::default());
        // An SSE body is decoded up to the cap, and not a byte further.
        let p = parse(SSE, Some("gzip"), &bomb, 16 << 10);
        let (decoded, stopped) = decoded_bytes(&p);
        assert!(stopped);
        assert!(decoded <= MAX_DECODED_BODY, "{decoded}");
        assert!(decoded > MAX_DECODED_BODY - (1 << 20), "{decoded}");
        assert_eq!(p.finish(), Usage::default());
    }

    #[test]
    fn endless_gzip_header_is_cut_off() {
        // FLG.FNAME set, then a file name that never ends.
        let mut body = vec![0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3];
        body.resize(1 << 20, b'a');
        let p = parse(JSON, Some("gzip"), &body, 4096);
        let (_, stopped) = decoded_bytes(&p);
        assert!(stopped);
        match &p.stage {
            Stage::Decoding(d) => assert!(d.gzip_header_bytes <= MAX_GZIP_HEADER + 4096),
            Stage::Plain(_) => panic!("not decoding"),
        }
    }

    #[test]
    fn request_model_reads_the_model() {
        assert_eq!(request_model(br#"{"model":"m1","messages":[]}"#), "m1");
        assert_eq!(request_model(b"not json"), "");
    }
}
