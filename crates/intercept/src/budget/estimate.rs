//! The worst case of a request, reserved before it is forwarded.
//!
//! The worst case is every output token the request allows, in every completion it asks for,
//! plus its body's bytes as uncached input tokens, at the dearest prices it can be served at:
//!
//! - **Output limit**: the largest of the limit fields present (`max_tokens`,
//!   `max_output_tokens`, `max_completion_tokens`, and Anthropic's `thinking.budget_tokens`,
//!   whose thinking is billed as output and which may exceed `max_tokens` with interleaved
//!   thinking), the largest because a provider may honour any of them; with none, the model's
//!   `max_output_tokens` in the price table, else [`DEFAULT_MAX_OUTPUT_TOKENS`].
//! - **Completions**: `n` (chat completions, legacy completions) and `best_of` (legacy
//!   completions, which bills every candidate it generates) multiply the output; the larger
//!   of the two counts, at least 1.
//! - **Service tier**: `service_tier: "priority"` is priced at the entry's priority prices
//!   ([`ServiceTier::Priority`]). Any other tier is reserved at the standard prices, which
//!   `flex` never exceeds; the response's own tier decides what is charged.
//! - **Batches** ([`RequestFacts::of_request`]): Anthropic's Message Batches
//!   (`POST .../messages/batches`) carries its requests inline, so it is reserved at the sum
//!   of each request's worst case at the batch prices ([`ServiceTier::Batch`]); it answers
//!   with a batch object and no usage, so that sum is what it is charged. OpenAI's Batch API
//!   (`POST .../batches`) names a file uploaded earlier: its cost has no bound the proxy can
//!   see, so its worst case is infinite and a budget refuses it.
//! - **Compressed bodies** ([`RequestFacts::of_encoded`]): a body sent with
//!   `Content-Encoding` `gzip`, `deflate`, `br` or `zstd` is decoded (at most the proxy's
//!   request body limit) and priced as the decoded body. One that does not decode, decodes
//!   to more than the limit, or uses another coding has no bound the proxy can see: it is
//!   unbounded, and a budget refuses it (429).
//!
//! - **Gemini** (`.../models/{model}:generateContent`): the model the path names is the model,
//!   whatever the body says (the provider routes by the path); `generationConfig`'s
//!   `maxOutputTokens` is an output limit and its `candidateCount` multiplies the output.
//! - **Prompts**: a legacy completion's `prompt` given as a list of prompts (strings, or
//!   token lists) is one completion per prompt, each multiplied by `n`.
//! - **Stored conversations**: a Responses API request that continues one
//!   (`previous_response_id`, `conversation`, a stored `prompt` by id, an `input` item of type
//!   `item_reference`) is billed the stored content as input, which the body does not show:
//!   its input is reserved at [`MAX_CONTEXT_TOKENS`].
//! - **Unbounded** ([`RequestFacts::unbounded`]): a body that looks like JSON but does not
//!   parse (nesting past the parser's depth, an unpaired surrogate, `NaN`) may still be read by
//!   the provider, with an `n` the proxy never saw; a body whose encoding the proxy cannot
//!   undo (two stacked codings, a corrupt stream) likewise; and any batch endpoint but
//!   Anthropic's inline one (Gemini's `:batchGenerateContent`, a path that percent-escapes
//!   `batches`), every endpoint that starts work a body only names ([`STORED_WORK`]:
//!   fine-tuning, evals, threads and assistants, vector stores, videos, containers, tuned
//!   models, context caches, any job), and, by construction, every endpoint that is not one
//!   of the [`PRICED_ENDPOINTS`] the gate knows how to bound. Their worst case is infinite: a
//!   budget refuses them.
//!
//! Paths are judged percent-decoded, in lower case and with dot segments resolved, as a
//! provider (or a proxy in front of it) may route them. A body's byte-order mark is read past.
//!
//! A count field is read when it is a non-negative number, or a string holding one (Google's
//! JSON reads `"8"` as 8); a fraction counts as the next integer, since a provider that
//! accepts it cannot bill less; anything else (a negative number, `null`) is ignored, as a
//! provider rejects it. Counts are capped at
//! [`MAX_COUNT`] and multiplied with saturation, so no request body can overflow the
//! arithmetic; the cost is finite (at most `f64::MAX`, which no limit admits).

use serde_json::Value;

use super::super::prices::{PriceTable, ServiceTier, Tokens};
use super::super::usage::{Whole, decode_whole};

/// Output tokens assumed when a request sets no output limit.
pub const DEFAULT_MAX_OUTPUT_TOKENS: u64 = 4096;

/// The largest value a count field of a request is read as (2^53: still exact as an `f64`).
/// No model has an output limit anywhere near it, so capping loses nothing real.
pub(super) const MAX_COUNT: u64 = 1 << 53;

/// The fields that limit a request's output tokens (per completion).
const OUTPUT_LIMITS: [&str; 3] = ["max_tokens", "max_output_tokens", "max_completion_tokens"];

/// Input tokens reserved for a request that continues a stored conversation: the largest
/// context window of the models that store them (OpenAI's, about a million tokens).
pub(super) const MAX_CONTEXT_TOKENS: u64 = 1 << 20;

/// What the budget needs from a request body, read once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct RequestFacts {
    /// `model`; empty when absent.
    pub model: String,
    /// The largest of `max_tokens`, `max_output_tokens`, `max_completion_tokens` and
    /// `thinking.budget_tokens`, when any is set.
    pub max_output_tokens: Option<u64>,
    /// Completions asked for: the larger of `n` and `best_of`, at least 1.
    pub completions: u64,
    /// The tier it is reserved at: [`ServiceTier::Priority`] when `service_tier` asks for
    /// `priority`, [`ServiceTier::Batch`] for a request inside a batch, else standard.
    pub tier: ServiceTier,
    /// Bytes of the (decoded) body: an upper bound of its input tokens.
    pub body_bytes: u64,
    /// What a batch endpoint asks for.
    pub batch: Batch,
    /// Whether the request's cost has no bound the proxy can see (see the module
    /// documentation): its worst case is infinite.
    pub unbounded: bool,
}

/// A request to a batch endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum Batch {
    /// Not a batch.
    #[default]
    None,
    /// Anthropic's Message Batches: the facts of each request inside it.
    Requests(Vec<RequestFacts>),
}

impl RequestFacts {
    /// Reads a JSON request body; a body that is not JSON gives an empty model, and one that
    /// looks like JSON but does not parse is [`unbounded`](Self::unbounded).
    pub(crate) fn of_body(body: &[u8]) -> Self {
        // A byte-order mark is read past, as lenient JSON readers do.
        let json = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        let parsed = serde_json::from_slice::<Value>(json).ok();
        RequestFacts {
            unbounded: parsed.is_none() && looks_like_json(json),
            ..Self::of_value(parsed.as_ref(), len_u64(body.len()))
        }
    }

    /// Reads a request body sent with `content_encoding` (`None` when it had none) to
    /// `path`, decoding it within `cap` bytes (see the module documentation).
    pub(crate) fn of_encoded(
        path: &str,
        content_encoding: Option<&str>,
        body: &[u8],
        cap: usize,
    ) -> Self {
        match decode_whole(content_encoding.unwrap_or(""), body, cap) {
            Whole::Identity => Self::of_request(path, body),
            Whole::Decoded(decoded) => Self::of_request(path, &decoded),
            Whole::Unreadable => RequestFacts {
                body_bytes: len_u64(body.len().max(cap)),
                unbounded: true,
                ..Self::of_value(None, 0)
            }
            .with_path(path),
        }
    }

    /// Reads a (decoded) request body sent to `path`: a batch endpoint's body as its
    /// requests (see the module documentation); any other as [`RequestFacts::of_body`],
    /// then [`RequestFacts::with_path`].
    pub(crate) fn of_request(path: &str, body: &[u8]) -> Self {
        let decoded = routed_path(path);
        let path = decoded.trim_end_matches('/');
        if ambiguous(path) || !priced_endpoint(path) || stored_work(path) {
            return RequestFacts {
                unbounded: true,
                ..Self::of_body(body).with_path(path)
            };
        }
        // The one batch endpoint priced (OpenAI's `/batches` is not, so it stopped above).
        if !path.ends_with("/messages/batches") {
            return Self::of_body(body).with_path(path);
        }
        let parsed = serde_json::from_slice::<Value>(body).ok();
        let requests = parsed
            .as_ref()
            .and_then(|v| v.get("requests"))
            .and_then(Value::as_array);
        let batch = requests.map_or(Batch::None, |requests| {
            Batch::Requests(requests.iter().map(batched).collect())
        });
        RequestFacts {
            unbounded: parsed.is_none(),
            batch,
            ..Self::of_value(parsed.as_ref(), len_u64(body.len()))
        }
    }

    /// The facts of a parsed body (`None` when it is not JSON) of `body_bytes` bytes.
    fn of_value(parsed: Option<&Value>, body_bytes: u64) -> Self {
        let field = |k: &str| parsed.and_then(|v| v.get(k));
        let thinking_budget = field("thinking").and_then(|t| count(t.get("budget_tokens")));
        let generation = ["generationConfig", "generation_config"]
            .into_iter()
            .find_map(&field);
        let generation_field = |camel: &str, snake: &str| {
            generation.and_then(|g| count(g.get(camel)).max(count(g.get(snake))))
        };
        let max_output_tokens = OUTPUT_LIMITS
            .into_iter()
            .filter_map(|k| count(field(k)))
            .chain(thinking_budget)
            .chain(generation_field("maxOutputTokens", "max_output_tokens"))
            .max();
        let per_prompt = [
            count(field("n")),
            count(field("best_of")),
            generation_field("candidateCount", "candidate_count"),
        ]
        .into_iter()
        .flatten()
        .fold(1, u64::max);
        let completions = per_prompt.saturating_mul(prompts(field("prompt")));
        let stored = field("previous_response_id").is_some_and(|v| !v.is_null())
            || field("conversation").is_some_and(|v| !v.is_null())
            || field("prompt").is_some_and(|p| p.get("id").is_some())
            || parsed.is_some_and(refers_to_stored);
        let body_bytes = if stored {
            body_bytes.max(MAX_CONTEXT_TOKENS)
        } else {
            body_bytes
        };
        RequestFacts {
            model: field("model")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            max_output_tokens,
            completions,
            tier: if field("service_tier").and_then(Value::as_str) == Some("priority") {
                ServiceTier::Priority
            } else {
                ServiceTier::Standard
            },
            body_bytes,
            batch: Batch::None,
            unbounded: false,
        }
    }
}

/// Whether a body names stored content that is billed as input though the body does not
/// hold it, anywhere in it: a Responses `item_reference`, an uploaded file by id
/// (`file_id`, OpenAI's `input_file` and `file` parts), Anthropic's `source.type: "file"`,
/// Gemini's `fileData.fileUri`.
fn refers_to_stored(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.iter().any(refers_to_stored),
        Value::Object(item) => {
            let kind = item.get("type").and_then(Value::as_str);
            matches!(kind, Some("item_reference" | "file"))
                || ["file_id", "fileUri", "file_uri"]
                    .iter()
                    .any(|k| item.contains_key(*k))
                || item.values().any(refers_to_stored)
        }
        _ => false,
    }
}

/// How many prompts a legacy completion's `prompt` holds: a list of strings or of token
/// lists is one prompt each; anything else (a string, one token list) is one.
fn prompts(prompt: Option<&Value>) -> u64 {
    match prompt.and_then(Value::as_array) {
        Some(list) if list.iter().any(|p| p.is_string() || p.is_array()) => {
            len_u64(list.len()).clamp(1, MAX_COUNT)
        }
        _ => 1,
    }
}

/// Endpoints that start work the body only names (a file, a stored thread or assistant, a
/// tuning or eval job, a vector store, a context cache, a video): their cost has no bound the
/// proxy can see.
const STORED_WORK: [&str; 12] = [
    "/fine_tuning/",
    "/fine-tuning/",
    "/evals",
    "/vector_stores",
    "/threads",
    "/assistants",
    "/videos",
    "/containers",
    "/tunedmodels",
    "/cachedcontents",
    "/ragcorpora",
    ":import",
];

/// The endpoints whose cost the gate can bound from the request (routed paths end with one):
/// generation and embeddings in the OpenAI, Anthropic, Gemini, Bedrock and Ollama shapes,
/// token counting, and Anthropic's inline batches. Under a budget every other billable
/// request to an LLM host is refused: an endpoint the gate does not know is one it cannot
/// price, whatever it is (a job, an upload that feeds one, a stored-state API).
const PRICED_ENDPOINTS: [&str; 18] = [
    "/chat/completions",
    "/completions",
    "/responses",
    "/responses/input_tokens",
    "/messages",
    "/messages/count_tokens",
    "/messages/batches",
    "/embeddings",
    ":generatecontent",
    ":streamgeneratecontent",
    ":counttokens",
    ":embedcontent",
    "/invoke",
    "/invoke-with-response-stream",
    "/converse",
    "/converse-stream",
    "/api/chat",
    "/api/generate",
];

/// Whether a routed path holds what a provider, or a proxy in front of it, may read as
/// something other than a path separator or a name (a decoded `?` or `#`, a NUL, a
/// backslash, a `;` parameter, a segment ending in a space or a dot): such a path may route
/// elsewhere than it ends, so the gate does not price it.
fn ambiguous(path: &str) -> bool {
    path.contains(['?', '#', '\0', '\\', ';'])
        || path
            .split('/')
            .any(|segment| segment.ends_with([' ', '.']) || segment.starts_with(' '))
}

/// Whether `path` (routed) is one of the [`PRICED_ENDPOINTS`].
fn priced_endpoint(path: &str) -> bool {
    PRICED_ENDPOINTS.iter().any(|end| path.ends_with(end))
}

/// Whether `path` (routed: decoded, lower case) starts work the proxy cannot price: a
/// [`STORED_WORK`] endpoint, or any job (Vertex AI's `tuningJobs`, `batchPredictionJobs`,
/// `customJobs`, `pipelineJobs`; Bedrock's `model-invocation-job`).
fn stored_work(path: &str) -> bool {
    let path = format!("{path}/");
    STORED_WORK.iter().any(|segment| path.contains(segment))
        || path.split('/').any(|segment| segment.contains("job"))
}

/// Whether `body` may be a JSON document a lenient reader takes: it starts (after
/// whitespace) with `{` or `[`, or it is text in UTF-16 or UTF-32 (a byte-order mark, or a
/// zero byte among its first bytes, as `{` is written there).
fn looks_like_json(body: &[u8]) -> bool {
    let head = body.get(..body.len().min(8)).unwrap_or_default();
    let wide = head.starts_with(b"\xFE\xFF") || head.starts_with(b"\xFF\xFE") || head.contains(&0);
    wide || matches!(
        body.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

/// `path` as a provider (or a proxy in front of it) may route it: percent-decoded (every
/// escape, repeatedly, so `%2562atches` is `batches` too), in lower case, without its query,
/// and with `.`, `..` and empty segments resolved (`/v1/messages/batches/.` is
/// `/v1/messages/batches`).
fn routed_path(path: &str) -> String {
    // The query is cut from the target as sent, before any escape is undone: an escaped
    // `%3F` is part of the path, and stays there (then [`ambiguous`] refuses it).
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let mut current = path.to_ascii_lowercase();
    for _ in 0..4 {
        let decoded = percent_decoded(&current);
        if decoded == current {
            break;
        }
        current = decoded.to_ascii_lowercase();
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in current.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            _ => segments.push(segment),
        }
    }
    format!("/{}", segments.join("/"))
}

fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |at: usize| bytes.get(at).and_then(|c| char::from(*c).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl RequestFacts {
    /// The tier the request asks to be served at: [`ServiceTier::Batch`] for a batch.
    pub(crate) fn requested_tier(&self) -> ServiceTier {
        match self.batch {
            Batch::None => self.tier,
            Batch::Requests(_) => ServiceTier::Batch,
        }
    }
}

/// The facts of one request of an Anthropic batch (`{"custom_id": ..., "params": {...}}`):
/// its `params` as a body of their length as JSON, at the batch prices.
fn batched(request: &Value) -> RequestFacts {
    let params = request.get("params");
    let bytes = params.map_or(0, |p| p.to_string().len());
    RequestFacts {
        tier: ServiceTier::Batch,
        ..RequestFacts::of_value(params, len_u64(bytes))
    }
}

fn len_u64(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

/// A count field as a provider that accepts it would read it: a non-negative number, a
/// fraction rounded up, capped at [`MAX_COUNT`]; `None` for anything else.
fn count(value: Option<&Value>) -> Option<u64> {
    let value = value?;
    if let Some(n) = value.as_u64() {
        return Some(n.min(MAX_COUNT));
    }
    // A number in a string counts too: Google's JSON reads `"8"` as 8 for an integer field.
    let n = value
        .as_f64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse::<f64>().ok()))
        .filter(|n| n.is_finite() && *n >= 0.0)?;
    // Compared as floats first, so the cast below never saturates by surprise.
    Some(if n.ceil() >= MAX_COUNT as f64 {
        MAX_COUNT
    } else {
        n.ceil() as u64
    })
}

/// The most the request can cost (see the module documentation). A model the table does not
/// price, or a request that names none, costs what the dearest entry would, each entry with
/// its own output limit when the request sets none: an unknown model cannot slip past the
/// limit, and neither can a body the proxy cannot read.
pub(crate) fn worst_case(facts: &RequestFacts, prices: &PriceTable) -> f64 {
    if facts.unbounded {
        return f64::INFINITY;
    }
    match &facts.batch {
        Batch::None => {}
        Batch::Requests(requests) => {
            return requests.iter().map(|r| worst_case(r, prices)).sum();
        }
    }
    let tier = facts.tier;
    match prices.lookup(&facts.model) {
        Some(found) => {
            let tokens = facts.tokens(found.price.max_output_tokens);
            found.price.cost_usd_in(&tokens, tier) * found.price.max_surcharge()
        }
        None => prices
            .prices()
            .map(|p| p.cost_usd_in(&facts.tokens(p.max_output_tokens), tier) * p.max_surcharge())
            .fold(0.0, f64::max),
    }
}

impl RequestFacts {
    /// The tokens of the worst case, for a model whose output limit is `model_limit`.
    fn tokens(&self, model_limit: Option<u64>) -> Tokens {
        let per_completion = self
            .max_output_tokens
            .or(model_limit)
            .unwrap_or(DEFAULT_MAX_OUTPUT_TOKENS)
            .min(MAX_COUNT);
        Tokens {
            input: self.body_bytes,
            output: per_completion.saturating_mul(self.completions.clamp(1, MAX_COUNT)),
            ..Tokens::default()
        }
    }

    /// Names the model from the request path: Gemini's and Vertex AI's
    /// `.../models/{model}:generateContent` (and `:streamGenerateContent`, `:countTokens`,
    /// ...), which the provider routes by, whatever the body names. Azure's
    /// `/openai/deployments/{name}/` names a deployment, not a model, so it stays what the
    /// body says (unknown: priced as the dearest entry).
    #[must_use]
    pub(crate) fn with_path(mut self, path: &str) -> Self {
        if let Some(model) = model_in_path(&routed_path(path)) {
            model.clone_into(&mut self.model);
        }
        self
    }
}

/// The `{model}` of a path with a `/models/{model}:{method}` segment.
fn model_in_path(path: &str) -> Option<&str> {
    let (_, rest) = path.rsplit_once("/models/")?;
    let (model, _method) = rest.split_once(':')?;
    (!model.is_empty() && !model.contains('/')).then_some(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_case_prices_the_output_limit_and_the_body() {
        let prices = PriceTable::builtin();
        let body = br#"{"model":"gpt-4o-mini","max_tokens":100}"#;
        let facts = RequestFacts::of_body(body);
        let (input, output) = (0.15e-6, 0.6e-6);
        let expected = 100.0 * output + body.len() as f64 * input;
        assert!((worst_case(&facts, &prices) - expected).abs() < 1e-15);
        let unknown = RequestFacts {
            model: "no-such-model".into(),
            ..facts.clone()
        };
        assert!(worst_case(&unknown, &prices) > 100.0 * worst_case(&facts, &prices));
        let unlimited = RequestFacts {
            max_output_tokens: None,
            ..facts
        };
        let max_out = prices
            .lookup("gpt-4o-mini")
            .unwrap()
            .price
            .max_output_tokens
            .unwrap();
        assert!(max_out > 4096);
        assert!(
            (worst_case(&unlimited, &prices)
                - (max_out as f64 * output + body.len() as f64 * input))
                .abs()
                < 1e-12
        );
    }

    #[test]
    fn the_model_named_in_the_path_counts_whatever_the_body_names() {
        let cases = [
            (
                "/v1beta/models/gemini-2.0-flash:generateContent",
                "gemini-2.0-flash",
            ),
            (
                "/v1/models/gemini-1.5-pro:streamGenerateContent",
                "gemini-1.5-pro",
            ),
            (
                "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-1.5-pro:predict",
                "gemini-1.5-pro",
            ),
            ("/openai/deployments/my-gpt/chat/completions", ""),
            ("/v1/chat/completions", ""),
            ("/v1beta/models/:generateContent", ""),
            ("/v1beta/models/a/b:generateContent", ""),
        ];
        for (path, model) in cases {
            let facts = RequestFacts::of_body(b"{}").with_path(path);
            assert_eq!(facts.model, model, "{path}");
        }
        // The provider routes by the path: a cheaper model in the body does not count.
        let named = RequestFacts::of_body(br#"{"model":"gpt-4o-mini"}"#)
            .with_path("/v1beta/models/gemini-2.0-flash:generateContent");
        assert_eq!(named.model, "gemini-2.0-flash");
        let escaped = RequestFacts::of_body(b"{}")
            .with_path("/v1beta/models/gemini-2.0-flash%3AgenerateContent");
        assert_eq!(escaped.model, "gemini-2.0-flash");
        let named = RequestFacts::of_body(br#"{"model":"m1"}"#).with_path("/v1/chat/completions");
        assert_eq!(named.model, "m1");
    }

    /// Whether the built-in table can bound a request of `body` to `path`.
    fn priced(path: &str, body: &[u8]) -> bool {
        worst_case(
            &RequestFacts::of_request(path, body),
            &PriceTable::builtin(),
        )
        .is_finite()
    }

    const CHAT: &[u8] = br#"{"model":"gpt-4o-mini"}"#;

    #[test]
    fn only_the_endpoints_the_gate_can_price_are_priced() {
        let refused = [
            // Not an endpoint it prices.
            "/v1/files",
            "/v1/images/generations",
            "/v1/audio/speech",
            "/v1/responses/r1/cancel",
            "/v1/uploads",
            // Batches in any spelling, stored work, jobs.
            "/v1beta/models/gemini-2.5-pro:batchGenerateContent",
            "/v1/%62atches",
            "/v1/Batches",
            "/v1/batches/x/..",
            "/v1/fine_tuning/jobs",
            "/v1/evals/e1/runs",
            "/v1/threads/t1/runs",
            "/v1/threads/t1/messages",
            "/v1beta/cachedContents",
            "/v1/projects/p/locations/us/tuningJobs",
            "/v1/projects/p/locations/us/batchPredictionJobs",
            "/model-invocation-job",
            // An escaped query or fragment, a NUL, a backslash, a `;` or a dotted segment
            // may route elsewhere than the path ends.
            "/v1/chat/completions%3F/../../../v1/fine_tuning/jobs",
            "/v1/chat/completions%253F/../../../v1/batches",
            "/v1/batches%23/chat/completions",
            "/v1/batches%00/chat/completions",
            "/v1/batches%5c..%5cchat/completions",
            "/v1/batches;x/chat/completions",
            "/v1/batches%20/chat/completions",
        ];
        for path in refused {
            assert!(!priced(path, CHAT), "{path}");
        }
        let admitted = [
            "/v1/chat/completions",
            "/openai/deployments/d/chat/completions?api-version=2024-10-21",
            "/v1/responses",
            "/v1/messages",
            "/v1beta/models/gemini-2.5-pro:streamGenerateContent",
            "/model/anthropic.claude-3/invoke",
            "/api/chat",
        ];
        for path in admitted {
            assert!(priced(path, CHAT), "{path}");
        }
    }

    #[test]
    fn bodies_the_gate_cannot_read_are_refused() {
        let deep = format!(
            "{{\"model\":\"gpt-4o-mini\",\"n\":99,\"x\":{}1{}}}",
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(!priced("/v1/chat/completions", deep.as_bytes()));
        let deep_batch = format!(
            "{{\"requests\":[{{\"params\":{{\"model\":\"claude-sonnet-4-5\",\"x\":{}1{}}}}}]}}",
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(!priced("/v1/messages/batches", deep_batch.as_bytes()));
        // UTF-16 text is a body the gate does not read.
        let wide: Vec<u8> = r#"{"model":"m","n":128}"#.bytes().flat_map(|b| [0, b]).collect();
        assert!(!priced("/v1/chat/completions", &wide));
        // A body that is plainly not JSON (a form) is priced at the dearest entry.
        assert!(priced("/v1/chat/completions", b"multipart/form-data body"));
        // A byte-order mark is read past.
        let bom =
            RequestFacts::of_body(b"\xEF\xBB\xBF{\"model\":\"m\",\"n\":128,\"max_tokens\":10}");
        assert_eq!((bom.completions, bom.unbounded), (128, false));
    }

    #[test]
    fn what_a_request_asks_for_is_read_as_the_provider_reads_it() {
        // Gemini's own output limit and candidate count, also written as strings.
        for body in [
            &br#"{"model":"gpt-4o-mini","generationConfig":{"maxOutputTokens":1000,"candidateCount":8}}"#[..],
            br#"{"generationConfig":{"candidateCount":"8","maxOutputTokens":"1000"}}"#,
        ] {
            let gemini =
                RequestFacts::of_request("/v1beta/models/gemini-2.5-pro:generateContent", body);
            let read = (gemini.model.as_str(), gemini.max_output_tokens, gemini.completions);
            assert_eq!(read, ("gemini-2.5-pro", Some(1000), 8));
        }
        // A list of prompts is a completion per prompt, each times `n`.
        let prompts = RequestFacts::of_body(br#"{"model":"m","prompt":["a","b","c"],"n":2}"#);
        assert_eq!(prompts.completions, 6);
        let tokens = RequestFacts::of_body(br#"{"model":"m","prompt":[1,2,3]}"#);
        assert_eq!(tokens.completions, 1);
        // Stored conversations, items, prompts and files reserve the context window.
        for body in [
            &br#"{"model":"gpt-4o-mini","previous_response_id":"resp_1"}"#[..],
            br#"{"model":"gpt-4o-mini","input":[{"type":"item_reference","id":"msg_1"}]}"#,
            br#"{"model":"gpt-4o-mini","prompt":{"id":"pmpt_1"}}"#,
            br#"{"model":"gpt-4o-mini","input":[{"role":"user","content":[{"type":"input_file","file_id":"file-1"}]}]}"#,
        ] {
            assert_eq!(RequestFacts::of_body(body).body_bytes, MAX_CONTEXT_TOKENS);
        }
        // Anthropic's inline batch, however its path is spelled.
        let batch = br#"{"requests":[{"params":{"model":"m"}},{"params":{"model":"m"}}]}"#;
        for path in [
            "/v1/messages/%62atches",
            "/v1/messages/batches/.",
            "/v1//messages/x/../batches",
        ] {
            let facts = RequestFacts::of_request(path, batch);
            assert!(
                matches!(&facts.batch, Batch::Requests(r) if r.len() == 2),
                "{path}"
            );
        }
    }

    #[test]
    fn an_unknown_model_costs_the_dearest_entry_at_its_own_output_limit() {
        let prices = table();
        // No limit set: `m` at its 1,000-token limit (1e-2 + body) beats `plain` at the
        // default 4,096 tokens (4.096e-2)? No: 4096 * 1e-5 > 1000 * 1e-5, so `plain` wins.
        let body = "{}";
        let facts = RequestFacts::of_body(body.as_bytes());
        let expected = by_hand(body, DEFAULT_MAX_OUTPUT_TOKENS, 1e-6, 1e-5);
        assert_close(worst_case(&facts, &prices), expected);
        let text = r#"{"m": {"input_cost_per_token": 1e-6, "output_cost_per_token": 1e-5,
                             "max_output_tokens": 100000},
                       "plain": {"input_cost_per_token": 1e-6, "output_cost_per_token": 1e-5}}"#;
        let big = PriceTable::from_json(text, "t.json").unwrap();
        assert_close(worst_case(&facts, &big), by_hand(body, 100_000, 1e-6, 1e-5));
        let not_json = RequestFacts::of_body(b"\xff not json");
        assert!(worst_case(&not_json, &big) >= 100_000.0 * 1e-5);
    }

    #[test]
    fn the_builtin_table_reserves_priority_requests_at_priority_prices() {
        let prices = PriceTable::builtin();
        let body = br#"{"model":"gpt-4o","max_tokens":1000,"service_tier":"priority"}"#;
        let facts = RequestFacts::of_body(body);
        assert_eq!(facts.tier, ServiceTier::Priority);
        // LiteLLM 1.109.1: gpt-4o priority input 4.25e-6, output 1.7e-5 per token.
        let expected = 1000.0 * 1.7e-5 + body.len() as f64 * 4.25e-6;
        assert_close(worst_case(&facts, &prices), expected);
        let standard = RequestFacts {
            tier: ServiceTier::Standard,
            ..facts
        };
        assert!(worst_case(&standard, &prices) < expected);
    }

    #[test]
    fn facts_of_a_body() {
        let facts = RequestFacts::of_body(br#"{"model":"m1","max_output_tokens":64,"input":"x"}"#);
        assert_eq!(facts.model, "m1");
        assert_eq!(facts.max_output_tokens, Some(64));
        assert_eq!(facts.body_bytes, 49);
        let none = RequestFacts::of_body(b"not json");
        assert_eq!((none.model.as_str(), none.max_output_tokens), ("", None));
    }

    /// One model with known prices: input 1e-6, output 1e-5, priority input 2e-6 and output
    /// 3e-5; output limit 1000.
    fn table() -> PriceTable {
        let text = r#"{"m": {"input_cost_per_token": 1e-6, "output_cost_per_token": 1e-5,
                             "input_cost_per_token_priority": 2e-6,
                             "output_cost_per_token_priority": 3e-5,
                             "max_output_tokens": 1000},
                       "plain": {"input_cost_per_token": 1e-6, "output_cost_per_token": 1e-5}}"#;
        PriceTable::from_json(text, "t.json").unwrap()
    }

    /// The standard worst case of `body` for model `m`, computed by hand.
    fn by_hand(body: &str, output: u64, input_price: f64, output_price: f64) -> f64 {
        body.len() as f64 * input_price + output as f64 * output_price
    }

    fn assert_close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() <= expected.abs() * 1e-12,
            "{actual} != {expected}"
        );
    }

    #[test]
    fn n_and_best_of_multiply_the_output_the_larger_counting() {
        let prices = table();
        let cases = [
            (r#"{"model":"m","max_tokens":100,"n":50}"#, 5000),
            (r#"{"model":"m","max_tokens":100,"best_of":7}"#, 700),
            (r#"{"model":"m","max_tokens":100,"n":3,"best_of":8}"#, 800),
            (r#"{"model":"m","max_tokens":100,"n":9,"best_of":2}"#, 900),
            (r#"{"model":"m","max_tokens":100,"n":2.5}"#, 300),
            // Not a count a provider accepts: one completion.
            (r#"{"model":"m","max_tokens":100,"n":0}"#, 100),
            (r#"{"model":"m","max_tokens":100,"n":-4}"#, 100),
            // A number in a string counts (Google's JSON reads it so).
            (r#"{"model":"m","max_tokens":100,"n":"50"}"#, 5000),
            (r#"{"model":"m","max_tokens":100,"n":null}"#, 100),
            // No limit: the model's maximum, times n.
            (r#"{"model":"m","n":4}"#, 4000),
        ];
        for (body, output) in cases {
            let worst = worst_case(&RequestFacts::of_body(body.as_bytes()), &prices);
            assert_close(worst, by_hand(body, output, 1e-6, 1e-5));
        }
    }

    #[test]
    fn the_largest_output_limit_counts() {
        let prices = table();
        let cases = [
            (
                r#"{"model":"m","max_tokens":10,"max_completion_tokens":500}"#,
                500,
            ),
            (
                r#"{"model":"m","max_completion_tokens":500,"max_tokens":10}"#,
                500,
            ),
            (
                r#"{"model":"m","max_output_tokens":70,"max_tokens":60}"#,
                70,
            ),
            (
                r#"{"model":"m","max_tokens":16,"thinking":{"type":"enabled","budget_tokens":900}}"#,
                900,
            ),
            (
                r#"{"model":"m","max_tokens":950,"thinking":{"budget_tokens":900}}"#,
                950,
            ),
            (
                r#"{"model":"m","max_tokens":"9999","max_output_tokens":5}"#,
                9999,
            ),
            (r#"{"model":"m","max_tokens":-1}"#, 1000),
            (r#"{"model":"m","max_tokens":12.2}"#, 13),
        ];
        for (body, output) in cases {
            let facts = RequestFacts::of_body(body.as_bytes());
            assert_close(
                worst_case(&facts, &prices),
                by_hand(body, output, 1e-6, 1e-5),
            );
        }
    }

    #[test]
    fn no_limit_means_the_model_maximum_else_the_default() {
        let prices = table();
        let body = r#"{"model":"plain"}"#;
        let worst = worst_case(&RequestFacts::of_body(body.as_bytes()), &prices);
        assert_close(worst, by_hand(body, DEFAULT_MAX_OUTPUT_TOKENS, 1e-6, 1e-5));
        let body = r#"{"model":"m"}"#;
        let worst = worst_case(&RequestFacts::of_body(body.as_bytes()), &prices);
        assert_close(worst, by_hand(body, 1000, 1e-6, 1e-5));
    }

    #[test]
    fn priority_reserves_at_the_priority_price_when_the_table_has_one() {
        let prices = table();
        let body = r#"{"model":"m","max_tokens":100,"service_tier":"priority"}"#;
        let worst = worst_case(&RequestFacts::of_body(body.as_bytes()), &prices);
        assert_close(worst, by_hand(body, 100, 2e-6, 3e-5));
        for other in ["default", "flex", "auto", "PRIORITY"] {
            let body = format!(r#"{{"model":"m","max_tokens":100,"service_tier":"{other}"}}"#);
            let worst = worst_case(&RequestFacts::of_body(body.as_bytes()), &prices);
            assert_close(worst, by_hand(&body, 100, 1e-6, 1e-5));
        }
        // An entry without priority prices keeps its standard ones.
        let body = r#"{"model":"plain","max_tokens":100,"service_tier":"priority"}"#;
        let worst = worst_case(&RequestFacts::of_body(body.as_bytes()), &prices);
        assert_close(worst, by_hand(body, 100, 1e-6, 1e-5));
        // An unknown model at priority costs the dearest entry's priority price.
        let body = r#"{"model":"zzz","max_tokens":100,"service_tier":"priority"}"#;
        let worst = worst_case(&RequestFacts::of_body(body.as_bytes()), &prices);
        assert_close(worst, by_hand(body, 100, 2e-6, 3e-5));
    }

    #[test]
    fn absurd_counts_saturate_to_a_finite_cost_no_budget_admits() {
        let prices = table();
        let body = br#"{"model":"m","max_tokens":18446744073709551615,"n":1e308,"best_of":18446744073709551615}"#;
        let facts = RequestFacts::of_body(body);
        assert_eq!(facts.max_output_tokens, Some(MAX_COUNT));
        assert_eq!(facts.completions, MAX_COUNT);
        let worst = worst_case(&facts, &prices);
        assert!(worst.is_finite() && worst > 1e9, "{worst}");
        let budget = super::super::Budget::new(1e9, 0.8, (0.0, 0));
        assert!(budget.reserve(worst).is_err());
        let zero = RequestFacts {
            completions: 0,
            ..RequestFacts::of_body(br#"{"model":"m","max_tokens":1}"#)
        };
        assert!(worst_case(&zero, &prices) > 0.0, "0 completions count as 1");
    }
}
