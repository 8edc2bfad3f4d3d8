//! Prices per token and the USD cost of one LLM exchange.
//!
//! # The table
//!
//! A [`PriceTable`] maps model names to [`ModelPrice`]s. Its file format is LiteLLM's
//! `model_prices_and_context_window.json`: one JSON object whose keys are model names (bare like
//! `gpt-4o-mini` and `gpt-4o-mini-2024-07-18`, or provider-prefixed like `azure/gpt-4o-mini`)
//! and whose values are objects. Of each entry these fields are read, all in USD per token:
//!
//! | field | meaning |
//! |---|---|
//! | `input_cost_per_token` | input tokens that are neither read from nor written to a cache |
//! | `output_cost_per_token` | output tokens, reasoning tokens included |
//! | `cache_read_input_token_cost` | input tokens read from the prompt cache (optional) |
//! | `cache_creation_input_token_cost` | input tokens written to the prompt cache (optional) |
//! | `cache_creation_input_token_cost_above_1hr` | input tokens written to the cache with a one-hour lifetime (optional; else the cache-creation price) |
//! | `<any of the five>_above_<N>k_tokens` | the long-context tier: used instead when the request has more than N thousand input tokens (optional) |
//! | `<any of the above>_priority`, `_flex`, `_batches` | the price at the priority or flex service tier, or on the batch API (optional; see [`ServiceTier`]) |
//! | `max_output_tokens` | the model's output limit, read when it is a non-negative integer |
//!
//! Every other field (`mode`, `litellm_provider`, other tiers such as `_ultrafast`,
//! `cache_creation_input_token_cost_above_12hr`, image and audio prices, ...) is ignored. An entry without `input_cost_per_token` or
//! `output_cost_per_token` (image models, rerankers, LiteLLM's `sample_spec` documentation
//! entry) is skipped. A field that is read but holds anything other than a non-negative number
//! (or `null`, which counts as absent) is an error naming the file, the entry and the field
//! ([`PriceError`]); so is invalid JSON (with its line and column) and an entry that is not an
//! object. Parsing never panics.
//!
//! [`PriceTable::builtin`] is a small table embedded in the binary (the current OpenAI and
//! Anthropic text models, copied from LiteLLM, see [`PriceTable::BUILTIN_SOURCE`]);
//! [`PriceTable::load`] reads a file (`--prices FILE`, for instance LiteLLM's whole file);
//! [`PriceTable::with_overrides`] lets the loaded file win over the built-in table, key by key.
//!
//! # Matching a model name
//!
//! [`PriceTable::lookup`] takes the model name as a provider returns it, surrounding white
//! space removed, and tries these names in order, stopping at the first key present in the
//! table:
//!
//! 1. **exact**: the name itself, then the name with each leading `provider/` segment removed
//!    in turn (`openrouter/openai/gpt-4o`, then `openai/gpt-4o`, then `gpt-4o`), so a
//!    provider-specific key such as LiteLLM's `azure/gpt-4o` wins over the bare one;
//! 2. **date suffix**: each of those names without one trailing date, and only these three
//!    shapes of it: `-YYYY-MM-DD`, `-YYYYMMDD` and `@YYYYMMDD`, with a month of 01-12 and a
//!    day of 01-31 (`gpt-4o-mini-2024-07-18` -> `gpt-4o-mini` when the dated key is absent; a
//!    dated key that is present wins in step 1, which matters when its price differs, as
//!    `gpt-4o-2024-05-13`'s does);
//! 3. if the name has upper-case ASCII letters, steps 1-2 again with it lower-cased
//!    (`GPT-4o` -> `gpt-4o`).
//!
//! Nothing else is cut: a name is never shortened at a `-`, so `o3-deep-research`,
//! `gpt-4o-audio-preview` or `gpt-4o-mini-realtime` do not match `o3`, `gpt-4o` or
//! `gpt-4o-mini` (variants are often dearer than their base model, and a cheaper relative's
//! price would let a request past the budget it exceeds). The key that matched is returned
//! ([`PriceMatch::key`], [`Cost::model_key`]) so a caller can show which price was used. An
//! unknown model gives `None`, never a guessed price; the budget gate then reserves what the
//! dearest entry would cost ([`PriceTable::highest_cost`]).
//!
//! # Cost
//!
//! [`Tokens`] counts tokens the way OpenAI's `prompt_tokens` does: `input` is every input
//! token, cached or not, and `cached_read` and `cache_creation` are the parts of it read from
//! and written to the cache ([`Tokens::from_anthropic`] converts Anthropic's separate counts).
//! [`PriceTable::cost`] charges
//!
//! ```text
//! (input - cached_read - cache_creation) * input price
//!   + cached_read * cache read price        (the input price when the entry has none)
//!   + cache_creation * cache creation price (the input price when the entry has none)
//!   + output * output price
//! ```
//!
//! with the prices of the highest long-context tier whose threshold `input` exceeds (a tier's
//! missing field falls back to the tier below, then to the base price), as LiteLLM does. The
//! subtraction saturates: counts that do not add up never panic and never give a negative
//! cost, and the result is always finite (at most `f64::MAX`).
//!
//! `cache_creation_1h` of the `cache_creation` tokens (Anthropic's one-hour cache writes) are
//! charged at the one-hour write price instead of the cache-creation price.
//!
//! # Service tiers and batches
//!
//! [`ModelPrice::cost_usd_in`] prices at a [`ServiceTier`] (`priority`, `flex`, or the batch
//! API) as LiteLLM 1.109.1's `generic_cost_per_token` does: each base price is the tier's
//! field (`input_cost_per_token_flex`) when the entry has it, else the standard one; above a
//! long-context threshold, the tier's threshold field
//! (`input_cost_per_token_above_272k_tokens_flex`), else the standard threshold field, else
//! the price so far. Two departures, both towards the dearer price: at
//! [`ServiceTier::Priority`] each price is at least the standard one, so a priority price
//! the table lacks never makes a request cheaper; and a batch price the entry lacks is the
//! standard price (LiteLLM halves the standard one). The budget gate reserves priority
//! requests at priority prices and charges a response at the tier it states (see the
//! `budget` module). Not modelled: US-only inference (`inference_geo`) and per-request fees
//! such as web search.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::{Map, Value};

/// The built-in table, in LiteLLM's format.
const BUILTIN_JSON: &str = include_str!("prices/builtin.json");

/// The per-token price fields, without a tier suffix or a long-context threshold.
const INPUT: &str = "input_cost_per_token";
const OUTPUT: &str = "output_cost_per_token";
const CACHE_READ: &str = "cache_read_input_token_cost";
const CACHE_CREATION: &str = "cache_creation_input_token_cost";
/// One-hour cache writes (Anthropic's `ephemeral_1h_input_tokens`).
const CACHE_CREATION_1H: &str = "cache_creation_input_token_cost_above_1hr";

/// LiteLLM's documentation entry, which describes the fields instead of pricing a model.
const SAMPLE_SPEC: &str = "sample_spec";

/// How much of an offending value an error message shows.
const MAX_SHOWN_VALUE: usize = 60;

/// A price table that cannot be read or parsed.
///
/// Each message starts with the file (or the name given to [`PriceTable::from_json`]) and,
/// when one entry is at fault, names the entry and the field.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PriceError {
    /// The file could not be read.
    #[error("{origin}: cannot read the price table: {source}")]
    Read {
        /// The file.
        origin: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The text is not JSON.
    #[error("{origin}: invalid JSON at line {line}, column {column}: {message}")]
    Json {
        /// The file.
        origin: String,
        /// The line of the error, from 1.
        line: usize,
        /// The column of the error, from 1.
        column: usize,
        /// What the JSON parser found.
        message: String,
    },
    /// The JSON is not an object keyed by model name.
    #[error("{origin}: a price table must be a JSON object keyed by model name, got {got}")]
    NotAnObject {
        /// The file.
        origin: String,
        /// The start of the value found instead.
        got: String,
    },
    /// An entry is not an object.
    #[error("{origin}: entry {key:?} must be a JSON object, got {got}")]
    EntryNotAnObject {
        /// The file.
        origin: String,
        /// The entry's key (a model name).
        key: String,
        /// The start of the value found instead.
        got: String,
    },
    /// A price field holds something other than a non-negative number.
    #[error("{origin}: entry {key:?}: {field} must be a non-negative number, got {got}")]
    BadPrice {
        /// The file.
        origin: String,
        /// The entry's key (a model name).
        key: String,
        /// The field, such as `input_cost_per_token`.
        field: String,
        /// The start of the value found instead, as JSON.
        got: String,
    },
}

/// Token counts of one exchange, as [`PriceTable::cost`] prices them.
///
/// `input` counts *all* input tokens, as OpenAI's `prompt_tokens` does; `cached_read` and
/// `cache_creation` are the parts of `input` that were read from and written to the prompt
/// cache, and `cache_creation_1h` the part of `cache_creation` written with a one-hour
/// lifetime (Anthropic's `cache_creation.ephemeral_1h_input_tokens`). Anthropic reports the
/// input counts separately: [`Tokens::from_anthropic`] adds them up. `output` includes
/// reasoning tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tokens {
    /// All input tokens, the cached-read and cache-creation ones included.
    pub input: u64,
    /// Input tokens read from the prompt cache (a part of `input`).
    pub cached_read: u64,
    /// Input tokens written to the prompt cache (a part of `input`).
    pub cache_creation: u64,
    /// Cache writes with a one-hour lifetime (a part of `cache_creation`; the rest are
    /// five-minute writes). Counts above `cache_creation` are priced as `cache_creation`.
    pub cache_creation_1h: u64,
    /// Output tokens, reasoning tokens included.
    pub output: u64,
}

impl Tokens {
    /// Converts Anthropic's `usage` counts, where `input_tokens` excludes the cache read and
    /// cache creation tokens, into [`Tokens`] (sums saturate; no one-hour writes).
    pub fn from_anthropic(
        input_tokens: u64,
        cache_read_input_tokens: u64,
        cache_creation_input_tokens: u64,
        output_tokens: u64,
    ) -> Self {
        Tokens {
            input: input_tokens
                .saturating_add(cache_read_input_tokens)
                .saturating_add(cache_creation_input_tokens),
            cached_read: cache_read_input_tokens,
            cache_creation: cache_creation_input_tokens,
            cache_creation_1h: 0,
            output: output_tokens,
        }
    }
}

/// The USD cost of one exchange.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Cost {
    /// The cost in USD: finite and not negative.
    pub usd: f64,
    /// The table key whose prices were used ([`PriceTable::lookup`] tells how it is chosen).
    pub model_key: String,
}

/// The prices of one model, in USD per token.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPrice {
    /// `input_cost_per_token`: uncached input tokens.
    pub input: f64,
    /// `output_cost_per_token`: output tokens, reasoning tokens included.
    pub output: f64,
    /// `cache_read_input_token_cost`, when the entry has one.
    pub cache_read: Option<f64>,
    /// `cache_creation_input_token_cost`, when the entry has one.
    pub cache_creation: Option<f64>,
    /// `max_output_tokens`, when the entry has it as a non-negative integer.
    pub max_output_tokens: Option<u64>,
    /// Every price field read, by [`ServiceTier`] (in [`ServiceTier::ALL`]'s order); applied
    /// by [`ModelPrice::cost_usd_in`].
    schedules: [Schedule; 4],
    /// `provider_specific_entry`'s numeric multipliers by where the request ran (Anthropic's
    /// `us: 1.1`), applied to every token type ([`ModelPrice::surcharge`]).
    surcharges: Vec<(String, f64)>,
}

impl ModelPrice {
    /// The multiplier for a request the provider ran at `geo` (its usage's
    /// `inference_geo`): the entry's `provider_specific_entry` value for it, else 1 (also for
    /// `global`, `not_available` and no geo), as LiteLLM prices it.
    pub fn surcharge(&self, geo: Option<&str>) -> f64 {
        let Some(geo) = geo.map(str::to_ascii_lowercase) else {
            return 1.0;
        };
        (self.surcharges.iter())
            .find(|(name, _)| *name == geo)
            .map_or(1.0, |(_, m)| *m)
    }

    /// The largest multiplier a request can be charged at (at least 1): what a reservation
    /// assumes, since the request does not decide where the provider runs it.
    pub fn max_surcharge(&self) -> f64 {
        self.surcharges.iter().map(|(_, m)| *m).fold(1.0, f64::max)
    }
}

/// The service tier (or the batch API) a request is priced at: LiteLLM's `*_priority`,
/// `*_flex` and `*_batches` price fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ServiceTier {
    /// The standard prices (OpenAI's `default`, `auto` and `scale`, Anthropic's `standard`).
    #[default]
    Standard,
    /// The `*_priority` prices (OpenAI's and Anthropic's `priority`), never below the
    /// standard ones.
    Priority,
    /// The `*_flex` prices (OpenAI's `flex`).
    Flex,
    /// The `*_batches` prices (OpenAI's Batch API, Anthropic's Message Batches, whose usage
    /// says `service_tier: "batch"`).
    Batch,
}

impl ServiceTier {
    /// Every tier, in the order [`ModelPrice`] keeps their prices.
    pub const ALL: [ServiceTier; 4] = [
        ServiceTier::Standard,
        ServiceTier::Priority,
        ServiceTier::Flex,
        ServiceTier::Batch,
    ];

    /// `standard`, `priority`, `flex` or `batch`: what a response event's `service_tier`
    /// says.
    pub fn name(self) -> &'static str {
        match self {
            ServiceTier::Standard => "standard",
            ServiceTier::Priority => "priority",
            ServiceTier::Flex => "flex",
            ServiceTier::Batch => "batch",
        }
    }

    /// The tier a provider states it served a request at (OpenAI's `service_tier`, Anthropic's
    /// `usage.service_tier`): `priority`, `flex` and `batch` (ASCII case ignored) are those
    /// tiers; anything else (`default`, `standard`, `auto`, `scale`, a value this crate does
    /// not know) is [`ServiceTier::Standard`].
    pub fn from_stated(stated: &str) -> Self {
        match stated.trim().to_ascii_lowercase().as_str() {
            "priority" => ServiceTier::Priority,
            "flex" => ServiceTier::Flex,
            "batch" => ServiceTier::Batch,
            _ => ServiceTier::Standard,
        }
    }

    /// The suffix of this tier's price fields (none for the standard ones).
    fn suffix(self) -> &'static str {
        match self {
            ServiceTier::Standard => "",
            ServiceTier::Priority => "_priority",
            ServiceTier::Flex => "_flex",
            ServiceTier::Batch => "_batches",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The kinds of per-token price, in the order [`FieldPrices`] holds them.
const BASES: [&str; 5] = [INPUT, OUTPUT, CACHE_READ, CACHE_CREATION, CACHE_CREATION_1H];

/// One price of each kind, `None` where the entry has no such field.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct FieldPrices([Option<f64>; 5]);

impl FieldPrices {
    /// Each price of `self`, else of `fallback`.
    fn or(self, fallback: FieldPrices) -> FieldPrices {
        let mut out = self;
        for (slot, other) in out.0.iter_mut().zip(fallback.0) {
            *slot = slot.or(other);
        }
        out
    }
}

/// The prices of one tier: the base fields, and the long-context fields by threshold.
#[derive(Debug, Clone, Default, PartialEq)]
struct Schedule {
    base: FieldPrices,
    above: BTreeMap<u64, FieldPrices>,
}

impl Schedule {
    fn is_empty(&self) -> bool {
        self.base == FieldPrices::default() && self.above.is_empty()
    }
}

/// The prices per token that apply to one request, fallbacks resolved.
#[derive(Debug, Clone, Copy)]
struct Rates {
    input: f64,
    output: f64,
    cache_read: f64,
    cache_creation: f64,
    cache_creation_1h: f64,
}

impl Rates {
    /// Each rate the larger of the two.
    fn max(self, other: Rates) -> Rates {
        Rates {
            input: self.input.max(other.input),
            output: self.output.max(other.output),
            cache_read: self.cache_read.max(other.cache_read),
            cache_creation: self.cache_creation.max(other.cache_creation),
            cache_creation_1h: self.cache_creation_1h.max(other.cache_creation_1h),
        }
    }
}

impl ModelPrice {
    /// The cost in USD of `tokens` at these prices (the formula is in [`PriceTable::cost`]).
    /// Always finite and not negative.
    pub fn cost_usd(&self, tokens: &Tokens) -> f64 {
        self.cost_usd_in(tokens, ServiceTier::Standard)
    }

    /// The cost in USD of `tokens` at the prices of `tier` (see the module documentation:
    /// each price is the tier's field when the entry has it, else the standard one; for
    /// [`ServiceTier::Priority`] never below the standard one). Always finite and not
    /// negative.
    pub fn cost_usd_in(&self, tokens: &Tokens, tier: ServiceTier) -> f64 {
        let mut rates = self.rates(tokens.input, tier);
        if tier == ServiceTier::Priority {
            rates = rates.max(self.rates(tokens.input, ServiceTier::Standard));
        }
        let uncached = tokens
            .input
            .saturating_sub(tokens.cached_read)
            .saturating_sub(tokens.cache_creation);
        let one_hour = tokens.cache_creation_1h.min(tokens.cache_creation);
        let five_minutes = tokens.cache_creation - one_hour;
        let usd = uncached as f64 * rates.input
            + tokens.cached_read as f64 * rates.cache_read
            + five_minutes as f64 * rates.cache_creation
            + one_hour as f64 * rates.cache_creation_1h
            + tokens.output as f64 * rates.output;
        // Prices are finite and non-negative, so `usd` is never NaN or negative; only huge
        // prices times huge counts can overflow to infinity.
        if usd.is_finite() { usd } else { f64::MAX }
    }

    /// Whether the entry has any price field of `tier` (always true of the standard tier).
    pub fn has_tier(&self, tier: ServiceTier) -> bool {
        tier == ServiceTier::Standard || !self.schedule(tier).is_empty()
    }

    fn schedule(&self, tier: ServiceTier) -> &Schedule {
        // `index` is below 4 by construction; the standard schedule is the harmless fallback.
        self.schedules
            .get(tier.index())
            .unwrap_or(&self.schedules[0])
    }

    /// The prices of `tier` for a request with `input_tokens` input tokens, as LiteLLM
    /// resolves them: each base price from the tier's field, else the standard one; then, for
    /// every threshold `input_tokens` exceeds (the standard ones and the tier's, ascending),
    /// the tier's long-context field, else the standard long-context field, else the price so
    /// far. A missing cache price is the input price; a missing one-hour write price is the
    /// cache-creation price.
    fn rates(&self, input_tokens: u64, tier: ServiceTier) -> Rates {
        let standard = &self.schedules[0];
        let own = self.schedule(tier);
        let mut prices = own.base.or(standard.base);
        let thresholds: std::collections::BTreeSet<u64> = standard
            .above
            .keys()
            .chain(own.above.keys())
            .copied()
            .filter(|&t| input_tokens > t)
            .collect();
        for threshold in thresholds {
            let at = |s: &Schedule| s.above.get(&threshold).copied().unwrap_or_default();
            prices = at(own).or(at(standard)).or(prices);
        }
        let [input, output, cache_read, cache_creation, cache_creation_1h] = prices.0;
        let input = input.unwrap_or(self.input);
        let cache_creation = cache_creation.unwrap_or(input);
        Rates {
            input,
            output: output.unwrap_or(self.output),
            cache_read: cache_read.unwrap_or(input),
            cache_creation,
            cache_creation_1h: cache_creation_1h.unwrap_or(cache_creation),
        }
    }
}

/// A model name matched to a table entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriceMatch<'a> {
    /// The table key that matched.
    pub key: &'a str,
    /// Its prices.
    pub price: &'a ModelPrice,
}

/// Model prices keyed by model name, in LiteLLM's format: a JSON object of entries with
/// `input_cost_per_token`, `output_cost_per_token`, `cache_read_input_token_cost`,
/// `cache_creation_input_token_cost`, `cache_creation_input_token_cost_above_1hr`,
/// `*_above_<N>k_tokens` tiers and `*_priority`/`*_flex`/`*_batches` prices, in USD per
/// token; entries without an input or output price are skipped, other fields ignored.
///
/// ```
/// use agentlog_intercept::{PriceTable, ServiceTier, Tokens};
///
/// let table = PriceTable::builtin();
/// let tokens = Tokens { input: 1_000, cached_read: 400, output: 200, ..Tokens::default() };
/// let cost = table.cost("openai/gpt-4o-mini-2024-07-18", &tokens).expect("a known model");
/// assert_eq!(cost.model_key, "gpt-4o-mini-2024-07-18");
/// // 600 * 0.15/M + 400 * 0.075/M + 200 * 0.6/M
/// assert!((cost.usd - 0.00024).abs() < 1e-12);
/// // gpt-5 on the flex tier: 600 * 0.625/M + 400 * 0.0625/M + 200 * 5/M
/// let flex = table.cost_in("gpt-5", &tokens, ServiceTier::Flex).expect("a known model");
/// assert!((flex.usd - 0.001400).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriceTable {
    entries: HashMap<String, ModelPrice>,
}

impl PriceTable {
    /// Where the built-in table's values come from, and when they were copied.
    ///
    /// The table is `src/prices/builtin.json` in this crate, LiteLLM's format with only the
    /// fields this module reads; `src/prices/update_builtin.py` regenerates it.
    pub const BUILTIN_SOURCE: &str = "LiteLLM 1.109.1 \
         (model_prices_and_context_window_backup.json in the litellm wheel on PyPI, \
         MIT licence), copied 2026-11-24";

    /// The built-in table: current OpenAI (gpt-4o, gpt-4.1, o3, o4-mini, gpt-5 families) and
    /// Anthropic (claude 4.5 and later) text models, copied from LiteLLM; see
    /// [`PriceTable::BUILTIN_SOURCE`] for the version and date. LiteLLM 1.109.1 no longer lists the
    /// Anthropic API's claude 3.5, 3.7, sonnet 4 and opus 4/4.1 names, so neither does this.
    pub fn builtin() -> Self {
        // A test pins that the embedded file parses; an empty table is the no-panic fallback.
        Self::from_json(BUILTIN_JSON, "built-in price table").unwrap_or_default()
    }

    /// Reads a price table file in LiteLLM's format; errors name `path`.
    pub fn load(path: &Path) -> Result<Self, PriceError> {
        let origin = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_json(&text, &origin),
            Err(source) => Err(PriceError::Read { origin, source }),
        }
    }

    /// Parses a price table in LiteLLM's format; `origin` names it in error messages
    /// (usually the file name).
    pub fn from_json(text: &str, origin: &str) -> Result<Self, PriceError> {
        let value: Value = serde_json::from_str(text).map_err(|e| json_error(origin, &e))?;
        let Value::Object(map) = value else {
            return Err(PriceError::NotAnObject {
                origin: origin.to_owned(),
                got: shown(&value),
            });
        };
        let mut entries = HashMap::with_capacity(map.len());
        for (key, entry) in map {
            if key == SAMPLE_SPEC {
                continue;
            }
            let Value::Object(fields) = &entry else {
                return Err(PriceError::EntryNotAnObject {
                    origin: origin.to_owned(),
                    got: shown(&entry),
                    key,
                });
            };
            let parsed = parse_entry(fields).map_err(|bad| PriceError::BadPrice {
                origin: origin.to_owned(),
                key: key.clone(),
                field: bad.field,
                got: shown(&bad.got),
            })?;
            if let Some(price) = parsed {
                entries.insert(key, price);
            }
        }
        Ok(PriceTable { entries })
    }

    /// This table with the entries of `other` added, an entry of `other` replacing the one
    /// with the same key here: `PriceTable::builtin().with_overrides(loaded)` lets a
    /// `--prices` file win. Matching then runs on the merged keys, so to override a dated
    /// name the built-in table also lists (`gpt-4o-2024-08-06`), give that key too.
    pub fn with_overrides(mut self, other: PriceTable) -> Self {
        self.entries.extend(other.entries);
        self
    }

    /// The number of priced entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table prices no model.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry with exactly this key, without the matching rule.
    pub fn get(&self, key: &str) -> Option<&ModelPrice> {
        self.entries.get(key)
    }

    /// The entry for a model name as a provider returns it. Tried in order, the first key
    /// present in the table wins:
    ///
    /// 1. the name, then the name without each leading `provider/` segment in turn
    ///    (`openrouter/openai/gpt-4o`, `openai/gpt-4o`, `gpt-4o`);
    /// 2. those names without one trailing date (`-2024-07-18`, `-20250514`, `@20241022`);
    /// 3. steps 1-2 with the name lower-cased, if it has upper-case ASCII letters.
    ///
    /// Surrounding white space is ignored. A name is never cut at a `-`: `o3-deep-research`
    /// does not match `o3`. An unknown model gives `None`.
    pub fn lookup(&self, model: &str) -> Option<PriceMatch<'_>> {
        let model = model.trim();
        self.lookup_cased(model).or_else(|| {
            let lower = model.to_ascii_lowercase();
            (lower != model)
                .then(|| self.lookup_cased(&lower))
                .flatten()
        })
    }

    /// The highest cost any entry gives `tokens`: what a model the table does not price could
    /// cost, for a worst case that an unknown model cannot slip past. Zero for an empty table.
    pub fn highest_cost(&self, tokens: &Tokens) -> f64 {
        self.highest_cost_in(tokens, ServiceTier::Standard)
    }

    /// Every entry's prices (in no particular order).
    pub fn prices(&self) -> impl Iterator<Item = &ModelPrice> {
        self.entries.values()
    }

    /// [`PriceTable::highest_cost`] at the prices of `tier`.
    pub fn highest_cost_in(&self, tokens: &Tokens, tier: ServiceTier) -> f64 {
        self.entries
            .values()
            .map(|p| p.cost_usd_in(tokens, tier))
            .fold(0.0, f64::max)
    }

    /// The cost in USD of one exchange with `model` ([`PriceTable::lookup`]), or `None` when
    /// no entry matches:
    ///
    /// ```text
    /// (input - cached_read - cache_creation) * input price
    ///   + cached_read * cache read price        (the input price when the entry has none)
    ///   + cache_creation * cache creation price (the input price when the entry has none)
    ///   + output * output price
    /// ```
    ///
    /// at the prices of the highest long-context tier whose threshold `tokens.input` exceeds.
    /// The subtraction saturates; the result is finite and not negative.
    pub fn cost(&self, model: &str, tokens: &Tokens) -> Option<Cost> {
        self.cost_in(model, tokens, ServiceTier::Standard)
    }

    /// [`PriceTable::cost_in`] for a request the provider ran at `geo`, times the entry's
    /// [`ModelPrice::surcharge`] for it.
    pub fn cost_served(
        &self,
        model: &str,
        tokens: &Tokens,
        tier: ServiceTier,
        geo: Option<&str>,
    ) -> Option<Cost> {
        let found = self.lookup(model)?;
        let usd = found.price.cost_usd_in(tokens, tier) * found.price.surcharge(geo);
        Some(Cost {
            usd: if usd.is_finite() { usd } else { f64::MAX },
            model_key: found.key.to_owned(),
        })
    }

    /// [`PriceTable::cost`] at the prices of `tier` ([`ModelPrice::cost_usd_in`]).
    pub fn cost_in(&self, model: &str, tokens: &Tokens, tier: ServiceTier) -> Option<Cost> {
        let found = self.lookup(model)?;
        Some(Cost {
            usd: found.price.cost_usd_in(tokens, tier),
            model_key: found.key.to_owned(),
        })
    }

    /// The base price of one uncached input token of `model` in USD (no long-context tier).
    /// For a worst-case estimate that accounts for tiers, price an estimate with
    /// [`PriceTable::cost`].
    pub fn input_price(&self, model: &str) -> Option<f64> {
        self.lookup(model).map(|m| m.price.input)
    }

    /// The base price of one output token of `model` in USD (no long-context tier).
    pub fn output_price(&self, model: &str) -> Option<f64> {
        self.lookup(model).map(|m| m.price.output)
    }

    /// Steps 1-2 of the matching rule, on the name as given.
    fn lookup_cased(&self, model: &str) -> Option<PriceMatch<'_>> {
        let names = provider_suffixes(model);
        let exact = names.iter().copied();
        let undated = names.iter().filter_map(|name| strip_date(name));
        exact
            .chain(undated)
            .find_map(|name| self.entries.get_key_value(name))
            .map(|(key, price)| PriceMatch { key, price })
    }
}

/// A field that is read but holds something else than a non-negative number.
struct BadField {
    field: String,
    got: Value,
}

/// One entry's prices; `Ok(None)` when it lacks an input or output price.
fn parse_entry(fields: &Map<String, Value>) -> Result<Option<ModelPrice>, BadField> {
    let mut schedules: [Schedule; 4] = Default::default();
    for name in fields.keys() {
        let Some(field) = PriceField::parse(name) else {
            continue;
        };
        let Some(price) = price_field(fields, name)? else {
            continue;
        };
        let Some(schedule) = schedules.get_mut(field.tier.index()) else {
            continue;
        };
        let prices = match field.above {
            None => &mut schedule.base,
            Some(threshold) => schedule.above.entry(threshold).or_default(),
        };
        if let Some(slot) = prices.0.get_mut(field.base) {
            *slot = Some(price);
        }
    }
    let [input, output, cache_read, cache_creation, _] = schedules[0].base.0;
    let (Some(input), Some(output)) = (input, output) else {
        return Ok(None);
    };
    let max_output_tokens = fields.get("max_output_tokens").and_then(Value::as_u64);
    Ok(Some(ModelPrice {
        input,
        output,
        cache_read,
        cache_creation,
        max_output_tokens,
        schedules,
        surcharges: surcharges(fields)?,
    }))
}

/// `provider_specific_entry`'s numeric values (a string such as Bedrock's
/// `bedrock_invocation_schema` is not a multiplier and is left out); a number that is not a
/// finite non-negative multiplier is an error naming the field.
fn surcharges(fields: &Map<String, Value>) -> Result<Vec<(String, f64)>, BadField> {
    let Some(Value::Object(entry)) = fields.get("provider_specific_entry") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (geo, value) in entry {
        if !value.is_number() {
            continue;
        }
        let multiplier = checked_price(value).ok_or_else(|| BadField {
            field: format!("provider_specific_entry.{geo}"),
            got: value.clone(),
        })?;
        out.push((geo.to_ascii_lowercase(), multiplier));
    }
    Ok(out)
}

/// A price field: absent or `null` is `None`; a non-negative number is its value (`-0` read
/// as `0`); anything else is an error.
fn price_field(fields: &Map<String, Value>, field: &str) -> Result<Option<f64>, BadField> {
    match fields.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => checked_price(value).map(Some).ok_or_else(|| BadField {
            field: field.to_owned(),
            got: value.clone(),
        }),
    }
}

/// A non-negative finite number, `-0` normalised to `0`.
fn checked_price(value: &Value) -> Option<f64> {
    let price = value.as_f64()?;
    (price.is_finite() && price >= 0.0).then_some(price + 0.0)
}

/// The name of a price field this module reads, taken apart:
/// `<base>[_above_<N>[k]_tokens][_priority|_flex|_batches]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PriceField {
    /// The index of the base in [`BASES`].
    base: usize,
    /// The long-context threshold in input tokens, if any.
    above: Option<u64>,
    tier: ServiceTier,
}

impl PriceField {
    /// `input_cost_per_token_above_272k_tokens_flex` is (input, 272000, flex); `None` for a
    /// field that is not read, such as `cache_creation_input_token_cost_above_12hr`,
    /// `input_cost_per_token_ultrafast` or `input_cost_per_audio_token`.
    fn parse(name: &str) -> Option<PriceField> {
        // The one-hour base first: the plain cache-creation base is a prefix of it.
        let (base, rest) = [4, 0, 1, 2, 3].into_iter().find_map(|i| {
            let rest = name.strip_prefix(BASES.get(i)?)?;
            Some((i, rest))
        })?;
        let (tier, rest) = ServiceTier::ALL[1..]
            .iter()
            .find_map(|t| rest.strip_suffix(t.suffix()).map(|r| (*t, r)))
            .unwrap_or((ServiceTier::Standard, rest));
        let above = match rest {
            "" => None,
            _ => Some(threshold(rest)?),
        };
        Some(PriceField { base, above, tier })
    }
}

/// `_above_272k_tokens` is 272000, `_above_128_tokens` 128; `None` for anything else.
fn threshold(text: &str) -> Option<u64> {
    let count = text.strip_prefix("_above_")?.strip_suffix("_tokens")?;
    let (digits, scale) = match count.strip_suffix('k') {
        Some(digits) => (digits, 1000),
        None => (count, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let count: u64 = digits.parse().ok()?;
    count.checked_mul(scale)
}

/// The name, then the name after each `/` in turn: `a/b/c`, `b/c`, `c` (empty parts skipped).
fn provider_suffixes(model: &str) -> Vec<&str> {
    let after_slashes = model
        .match_indices('/')
        .filter_map(|(at, _)| model.get(at + 1..));
    std::iter::once(model)
        .chain(after_slashes)
        .filter(|name| !name.is_empty())
        .collect()
}

/// The name without a trailing date (`-2024-07-18`, `-20250514`, `@20241022`), or `None`.
fn strip_date(name: &str) -> Option<&str> {
    let bytes = name.as_bytes();
    let digits = |d: &[u8]| d.iter().all(u8::is_ascii_digit);
    // Called on ASCII digits only (`digits` is checked first).
    let number = |tens: u8, ones: u8| u32::from(tens - b'0') * 10 + u32::from(ones - b'0');
    let valid = |(m0, m1): (u8, u8), (d0, d1): (u8, u8)| {
        (1..=12).contains(&number(m0, m1)) && (1..=31).contains(&number(d0, d1))
    };
    // `-YYYY-MM-DD`
    if let Some((head, &[b'-', y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1])) =
        bytes.split_last_chunk::<11>()
        && !head.is_empty()
        && digits(&[y0, y1, y2, y3, m0, m1, d0, d1])
        && valid((m0, m1), (d0, d1))
    {
        return name.get(..head.len());
    }
    // `-YYYYMMDD` or `@YYYYMMDD`
    if let Some((head, &[b'-' | b'@', y0, y1, y2, y3, m0, m1, d0, d1])) =
        bytes.split_last_chunk::<9>()
        && !head.is_empty()
        && digits(&[y0, y1, y2, y3, m0, m1, d0, d1])
        && valid((m0, m1), (d0, d1))
    {
        return name.get(..head.len());
    }
    None
}

/// A [`PriceError::Json`] from serde_json's error, its location split out.
fn json_error(origin: &str, error: &serde_json::Error) -> PriceError {
    let (line, column) = (error.line(), error.column());
    let text = error.to_string();
    let location = format!(" at line {line} column {column}");
    let message = text.strip_suffix(&location).unwrap_or(&text).to_owned();
    PriceError::Json {
        origin: origin.to_owned(),
        line,
        column,
        message,
    }
}

/// A value as JSON, cut to [`MAX_SHOWN_VALUE`] characters for an error message.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(MAX_SHOWN_VALUE) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests;
