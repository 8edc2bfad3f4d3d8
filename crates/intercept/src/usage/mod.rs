//! Model and token-usage extraction from LLM responses, fed incrementally from the relayed
//! stream with bounded memory.
//!
//! Understood shapes (JSON bodies and `text/event-stream` bodies alike):
//!
//! | API | model | input tokens | output tokens |
//! |---|---|---|---|
//! | OpenAI chat completions (OpenRouter too) | `model` | `usage.prompt_tokens` | `usage.completion_tokens` |
//! | OpenAI responses | `model` / `response.model` | `usage.input_tokens` | `usage.output_tokens` |
//! | Anthropic messages | `model` / `message.model` | `usage.input_tokens` + `cache_creation_input_tokens` + `cache_read_input_tokens` | `usage.output_tokens` |
//!
//! and the parts:
//!
//! | part | OpenAI chat completions | OpenAI responses | Anthropic messages |
//! |---|---|---|---|
//! | cached input | `prompt_tokens_details.cached_tokens` | `input_tokens_details.cached_tokens` | `cache_read_input_tokens` |
//! | cache creation | | | `cache_creation_input_tokens` |
//! | reasoning | `completion_tokens_details.reasoning_tokens` | `output_tokens_details.reasoning_tokens` | `output_tokens_details.thinking_tokens` |
//! | provider cost | `usage.cost` (OpenRouter) | | |
//!
//! A count the body does not carry stays unknown (`None`), never zero; counts saturate
//! instead of overflowing.
//!
//! # A lying usage block
//!
//! A count that is present (not absent, not `null`) must be an integer from 0 to
//! [`MAX_PLAUSIBLE_TOKENS`] (10^9; an integral float such as `12.0` is read as `12`). Anything
//! else (a negative number, a fraction, `1e308`, `18446744073709551615`, a string, a boolean)
//! cannot be a real count: the response's usage becomes unknown for good, every count and the
//! provider's cost are dropped, and later events cannot restore them ([`Usage::implausible`]),
//! so the budget charges the exchange its reservation. 10^9 is a hundred times the largest
//! context window of any model, so no honest response reaches it, and it bounds what counts
//! can make a computed cost: at most 3 * 10^9 input and 10^9 output tokens at the table's
//! prices. A provider cost (`usage.cost`) that is not a finite number from 0 to
//! [`MAX_PLAUSIBLE_COST_USD`] is ignored: the cost is then computed from the counts. Only a
//! usage block that counts (below) is checked: one in an ignored event changes nothing.
//!
//! A JSON body larger than [`MAX_JSON_BODY`] or an SSE event larger than [`MAX_SSE_EVENT`] is
//! not parsed (the bytes are still relayed).
//!
//! # Streams: usage as the SDKs accumulate it
//!
//! A stream's usage is what the provider's official SDK reports at the stream's end; the
//! rules were read from anthropic-sdk-python 0.121.0 (`lib/streaming/_messages.py`
//! `accumulate_event`, `_streaming.py`) and openai-python 3.3.1
//! (`lib/streaming/chat/_completions.py`, `lib/streaming/responses/_responses.py`,
//! `_streaming.py`). An event's kind is its data's `type`; data without one takes its
//! `event:` name when that is Anthropic's (`message_start`, `message_delta`,
//! `message_stop`), as the Anthropic SDK fills it in; any other data without a `type` is a
//! chat completion chunk, read by its data alone as the OpenAI SDK reads it.
//!
//! | API | usage from | merged how | ignored |
//! |---|---|---|---|
//! | OpenAI chat completions | each chunk's `usage` object (the final chunk with `stream_options.include_usage`) | the last object replaces earlier ones whole | a chunk whose `usage` is absent or `null` (the SDK would blank its snapshot; the API never sends one after the usage chunk) |
//! | OpenAI responses | `response.usage` of `response.completed`, `response.incomplete`, `response.failed` | replaces | usage of any other `response.*` event |
//! | Anthropic messages | `message.usage` of the first `message_start`; then each `message_delta`'s `usage` | each count the delta has overrides (`output_tokens` is cumulative; input and cache counts when present); input tokens are summed from the merged counts | `message_delta` before `message_start`, a second `message_start`, `ping`, `content_block_*`, `error`, unknown types |
//!
//! Nothing after a stream's last event counts (see "Stream completeness"): the OpenAI SDK
//! stops at `[DONE]`, and the Anthropic SDK's message is final at `message_stop`. The model
//! is the last non-empty `model` of a chunk, of `message_start`'s message or of a
//! `response.*` event's response. The one departure from Anthropic's SDK: it keeps `message_start`'s
//! `output_tokens_details`, here a `message_delta`'s (the API's cumulative figure) overrides.
//!
//! # Server-sent events
//!
//! Bodies are parsed as the WHATWG HTML standard's "server-sent events" section says: lines
//! end with CRLF, LF or CR alone (a CR ending one chunk and an LF starting the next are one
//! line end); one UTF-8 BOM at the stream's start is skipped; a line starting with `:` is a
//! comment; `name: value` loses one space after the colon, and a line without a colon is a
//! field name with an empty value; `data` values are joined with LF; `event` names the
//! event; other fields (`id`, `retry`, unknown ones) change nothing here; a blank line
//! dispatches the event, and one without data is not dispatched (but its `message_stop` name
//! still ends the stream). Invalid UTF-8 in data reads as U+FFFD, as the standard decodes a
//! stream. One departure: a last event cut off before its blank line still counts at the
//! body's end, since the provider billed it.
//!
//! # Compressed bodies
//!
//! [`UsageParser::for_response`] decodes a `Content-Encoding` of `gzip` (or `x-gzip`),
//! `deflate` (zlib-wrapped as the standard says, or raw deflate as some servers send it),
//! `br` or `zstd` on the fly, with bounded memory. A zstd frame may ask for a window of at
//! most 8 MiB (RFC 9659's limit for the `zstd` coding; a larger one stops decoding), and
//! several frames follow one another, skippable ones skipped. zstd is decoded by libzstd
//! (the `zstd` crate's bindings) one block per call, each block handed to the parser before
//! the next block's header is read, since libzstd reports nothing of a call that fails. The
//! pure-Rust `ruzstd` was not used: it decodes a frame only by pulling from a reader, and its
//! `FrameDecoder` keeps the last window of decoded bytes until the frame ends, so a stream
//! kept in one flushed frame would reach the parser only at its end, and a cut one not at
//! all. Other codings (`compress`) and stacks of two codings (`gzip, br`) are not
//! decoded: the constructor returns `None`, and the response simply has no usage. Decoding
//! stops for good after [`MAX_DECODED_BODY`] decoded bytes, so a decompression bomb costs
//! bounded time, and at the first corrupt byte: what was decoded before it still counts
//! (events a streaming client also saw), nothing after it does.
//!
//! # Stream completeness
//!
//! [`UsageParser::saw_terminal_event`] tells whether the body carried its API's last event,
//! so that a client closing the connection right after it (the synchronous OpenAI SDK does)
//! is not mistaken for a cut-off response:
//!
//! | API | terminal event |
//! |---|---|
//! | OpenAI chat completions | data starting with `[DONE]` |
//! | Anthropic messages | `event: message_stop`, or data whose `type` is `message_stop` |
//! | OpenAI responses | data whose `type` is `response.completed`, `response.failed` or `response.incomplete` |
//! | any JSON body | the document is complete and parses |
//!
//! An SSE event counts once it is dispatched, that is once the blank line ending it was fed.

mod body;
mod decode;
mod sse;
mod stream;
mod zstd_stream;

use serde_json::Value;

use super::prices::ServiceTier;
use body::BodyParser;
use decode::{Coding, Decoding};
pub(crate) use decode::{Whole, decode_whole};

/// Largest JSON response body parsed for usage.
pub(crate) const MAX_JSON_BODY: usize = 8 << 20;
/// Largest single SSE event parsed for usage.
pub(crate) const MAX_SSE_EVENT: usize = 1 << 20;
/// Most bytes decoded from a compressed body; decoding stops there.
pub(crate) const MAX_DECODED_BODY: u64 = 64 << 20;
/// Most compressed bytes fed to a gzip decoder whose header is still unfinished: the header's
/// optional file name and comment have no length limit and are kept in memory.
const MAX_GZIP_HEADER: u64 = 64 << 10;
/// Compressed input is fed to a decoder in pieces of at most this size, so that the gzip
/// header limit is checked often enough to bound what the header can hold.
const DECODE_PIECE: usize = 16 << 10;
/// Output buffer of the brotli decoder.
const BROTLI_BUFFER: usize = 16 << 10;
/// The largest zstd window decoded, as a power of two: 8 MiB, the limit RFC 9659 sets for the
/// `zstd` content coding (a frame asking for more is refused rather than allocated).
const ZSTD_WINDOW_LOG_MAX: u32 = 23;
/// The most tokens one count of a usage block may say; above it, the block is a lie (see the
/// module documentation).
pub(crate) const MAX_PLAUSIBLE_TOKENS: u64 = 1_000_000_000;
/// The largest provider-reported cost of one exchange, in US dollars, that is believed: 10^9
/// tokens at $1,000 per million.
pub(crate) const MAX_PLAUSIBLE_COST_USD: f64 = 1_000_000.0;
/// What was learned from a response body. Counts are `None` when the body did not report
/// them: absent is not zero.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Usage {
    /// Model the response names; empty when unknown.
    pub model: String,
    /// All input tokens, cached ones included (OpenAI's `prompt_tokens` meaning; Anthropic's
    /// separate cache counts are added in).
    pub input_tokens: Option<u64>,
    /// Output tokens, reasoning tokens included.
    pub output_tokens: Option<u64>,
    /// Input tokens read from the prompt cache (a part of `input_tokens`).
    pub cached_input_tokens: Option<u64>,
    /// Input tokens written to the prompt cache (a part of `input_tokens`; Anthropic).
    pub cache_creation_input_tokens: Option<u64>,
    /// Reasoning tokens (a part of `output_tokens`).
    pub reasoning_tokens: Option<u64>,
    /// Cache writes with a one-hour lifetime (a part of `cache_creation_input_tokens`;
    /// Anthropic's `cache_creation.ephemeral_1h_input_tokens`).
    pub cache_creation_1h_input_tokens: Option<u64>,
    /// The service tier the response states it was served at (OpenAI's `service_tier`,
    /// Anthropic's `usage.service_tier`); `None` when it states none.
    pub service_tier: Option<ServiceTier>,
    /// Where the provider says it ran the request (Anthropic's `usage.inference_geo`, such as
    /// `us`), which may carry a regional surcharge ([`ModelPrice::surcharge`]).
    ///
    /// [`ModelPrice::surcharge`]: crate::ModelPrice::surcharge
    pub inference_geo: Option<String>,
    /// The cost the provider reported (OpenRouter's `usage.cost`, in US dollars).
    pub provider_cost_usd: Option<f64>,
    /// A usage block held a count that cannot be true (see the module documentation): every
    /// count and the provider cost are `None`, and stay so.
    pub implausible: bool,
}

impl Usage {
    /// Whether the body reported any token count, and none that cannot be true.
    pub(crate) fn is_known(&self) -> bool {
        !self.implausible && (self.input_tokens.is_some() || self.output_tokens.is_some())
    }

    /// Takes what `v`, a whole JSON body, says (usage at the top, under `response` or under
    /// `message`). Stream events go through the SDK rules of `stream.rs` instead.
    pub(crate) fn absorb(&mut self, v: &Value) {
        for scope in [Some(v), v.get("response"), v.get("message")]
            .into_iter()
            .flatten()
        {
            if let Some(model) = scope.get("model").and_then(Value::as_str)
                && !model.is_empty()
            {
                self.model = model.to_owned();
            }
            self.service_tier = stated_tier(scope).or(self.service_tier);
            if let Some(usage) = scope.get("usage").filter(|u| u.is_object()) {
                self.service_tier = stated_tier(usage).or(self.service_tier);
                self.inference_geo = stated_geo(usage).or(self.inference_geo.take());
                self.absorb_usage(usage);
            }
        }
    }

    /// One `usage` object of a JSON body, whichever API wrote it; a later report overrides an
    /// earlier one field by field. A count that cannot be true makes the usage
    /// [`Usage::implausible`].
    fn absorb_usage(&mut self, usage: &Value) {
        if self.implausible {
            return;
        }
        match ReadCounts::of(usage) {
            Some(counts) => self.take(&counts, provider_cost(usage)),
            None => {
                *self = Usage {
                    model: std::mem::take(&mut self.model),
                    implausible: true,
                    ..Usage::default()
                };
            }
        }
    }

    /// The counts of one plausible usage object (or of several merged), and its provider
    /// cost: each count present overrides what was there.
    fn take(&mut self, counts: &ReadCounts, cost: Option<f64>) {
        let n = |k: &str| counts.get(k);
        let set = |field: &mut Option<u64>, v: Option<u64>| {
            if v.is_some() {
                *field = v;
            }
        };
        // OpenAI chat completions (and OpenRouter, which adds `cost`).
        set(&mut self.input_tokens, n("prompt_tokens"));
        set(&mut self.output_tokens, n("completion_tokens"));
        set(
            &mut self.cached_input_tokens,
            n("prompt_tokens_details.cached_tokens"),
        );
        set(
            &mut self.reasoning_tokens,
            n("completion_tokens_details.reasoning_tokens"),
        );
        // OpenAI responses.
        set(
            &mut self.cached_input_tokens,
            n("input_tokens_details.cached_tokens"),
        );
        set(
            &mut self.reasoning_tokens,
            n("output_tokens_details.reasoning_tokens"),
        );
        // Anthropic messages (and OpenAI responses): `input_tokens` excludes the cache there.
        let read = n("cache_read_input_tokens");
        let creation = cache_creation(counts);
        set(
            &mut self.cache_creation_1h_input_tokens,
            n("cache_creation.ephemeral_1h_input_tokens"),
        );
        set(&mut self.cached_input_tokens, read);
        set(&mut self.cache_creation_input_tokens, creation);
        if let Some(v) = n("input_tokens") {
            let cache = read.unwrap_or(0).saturating_add(creation.unwrap_or(0));
            self.input_tokens = Some(v.saturating_add(cache));
        }
        set(&mut self.output_tokens, n("output_tokens"));
        // Anthropic's breakdown of `output_tokens`: the part spent thinking.
        set(
            &mut self.reasoning_tokens,
            n("output_tokens_details.thinking_tokens"),
        );
        if cost.is_some() {
            self.provider_cost_usd = cost;
        }
    }
}

/// Anthropic's cache writes: `cache_creation_input_tokens`, or the sum of its breakdown by
/// lifetime (`cache_creation.ephemeral_5m_input_tokens` and `ephemeral_1h_input_tokens`)
/// when that is larger, so that no write is priced as plain input.
fn cache_creation(counts: &ReadCounts) -> Option<u64> {
    let total = counts.get("cache_creation_input_tokens");
    let five = counts.get("cache_creation.ephemeral_5m_input_tokens");
    let hour = counts.get("cache_creation.ephemeral_1h_input_tokens");
    if five.is_none() && hour.is_none() {
        return total;
    }
    let parts = five.unwrap_or(0).saturating_add(hour.unwrap_or(0));
    Some(total.map_or(parts, |total| total.max(parts)))
}

/// The service tier `scope` states in its `service_tier` string, if it has one.
pub(crate) fn stated_tier(scope: &Value) -> Option<ServiceTier> {
    scope
        .get("service_tier")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(ServiceTier::from_stated)
}

/// The `inference_geo` a usage object states, if it states one.
pub(crate) fn stated_geo(usage: &Value) -> Option<String> {
    usage
        .get("inference_geo")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_owned)
}

/// The provider cost a usage object reports (`usage.cost`), when it is a finite number from 0
/// to [`MAX_PLAUSIBLE_COST_USD`].
fn provider_cost(usage: &Value) -> Option<f64> {
    usage
        .get("cost")
        .and_then(Value::as_f64)
        .filter(|c| c.is_finite() && (0.0..=MAX_PLAUSIBLE_COST_USD).contains(c))
}

/// The count fields of a usage object, by path (`prompt_tokens_details.cached_tokens`).
const COUNT_FIELDS: [&str; 13] = [
    "prompt_tokens",
    "completion_tokens",
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "prompt_tokens_details.cached_tokens",
    "completion_tokens_details.reasoning_tokens",
    "input_tokens_details.cached_tokens",
    "output_tokens_details.reasoning_tokens",
    "output_tokens_details.thinking_tokens",
    "cache_creation.ephemeral_5m_input_tokens",
    "cache_creation.ephemeral_1h_input_tokens",
];

/// The count fields present in one usage object (or in several merged), each checked once.
#[derive(Clone, Debug, Default)]
struct ReadCounts {
    counts: [Option<u64>; COUNT_FIELDS.len()],
}

impl ReadCounts {
    /// The counts of `usage`, or `None` when one of them cannot be true.
    fn of(usage: &Value) -> Option<Self> {
        let mut counts = [None; COUNT_FIELDS.len()];
        for (slot, path) in counts.iter_mut().zip(COUNT_FIELDS) {
            let value = match path.split_once('.') {
                Some((outer, inner)) => usage.get(outer).and_then(|o| o.get(inner)),
                None => usage.get(path),
            };
            *slot = plausible_count(value).ok()?;
        }
        Some(ReadCounts { counts })
    }

    /// Each count present in `later` overrides this one's; the others stay.
    fn merge(&mut self, later: &ReadCounts) {
        for (slot, count) in self.counts.iter_mut().zip(later.counts) {
            if count.is_some() {
                *slot = count;
            }
        }
    }

    /// The count at `path`, one of [`COUNT_FIELDS`].
    fn get(&self, path: &str) -> Option<u64> {
        let at = COUNT_FIELDS.iter().position(|p| *p == path)?;
        self.counts.get(at).copied().flatten()
    }
}

/// A count field: absent or `null` is `Ok(None)`; an integer (or integral float) from 0 to
/// [`MAX_PLAUSIBLE_TOKENS`] is its value; anything else is `Err` (a lie).
fn plausible_count(value: Option<&Value>) -> Result<Option<u64>, ()> {
    let value = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(value) => value,
    };
    if let Some(n) = value.as_u64() {
        return if n <= MAX_PLAUSIBLE_TOKENS {
            Ok(Some(n))
        } else {
            Err(())
        };
    }
    let n = value.as_f64().ok_or(())?;
    // A float is believed only when it is a whole number in range: the cast is then exact.
    if n.fract() == 0.0 && (0.0..=MAX_PLAUSIBLE_TOKENS as f64).contains(&n) {
        Ok(Some(n as u64))
    } else {
        Err(())
    }
}

/// Incremental parser over a response body, decoding it first when it is compressed.
#[derive(Debug)]
pub(crate) struct UsageParser {
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
    pub(crate) fn for_response(content_type: &str, content_encoding: Option<&str>) -> Option<Self> {
        let body = BodyParser::for_content_type(content_type)?;
        let stage = match Coding::parse(content_encoding.unwrap_or(""))? {
            None => Stage::Plain(body),
            Some(coding) => Stage::Decoding(Box::new(Decoding::new(coding, body))),
        };
        Some(UsageParser { stage })
    }

    /// Feeds the next chunk of the body, as received (still compressed, if it is).
    pub(crate) fn feed(&mut self, chunk: &[u8]) {
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
    pub(crate) fn saw_terminal_event(&self) -> bool {
        match &self.stage {
            Stage::Plain(body) => body.saw_terminal_event(),
            Stage::Decoding(decoding) => decoding.body().saw_terminal_event(),
        }
    }

    /// Ends the body and returns what was learned.
    pub(crate) fn finish(self) -> Usage {
        match self.stage {
            Stage::Plain(body) => body.finish(),
            Stage::Decoding(decoding) => decoding.into_body().finish(),
        }
    }
}

#[cfg(test)]
mod sdk_tests;
#[cfg(test)]
mod tests;
