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
//! | `<any of the four>_above_<N>k_tokens` | the long-context tier: used instead when the request has more than N thousand input tokens (optional) |
//! | `max_output_tokens` | the model's output limit, read when it is a non-negative integer |
//! | `input_cost_per_token_priority`, `output_cost_per_token_priority`, `cache_read_input_token_cost_priority` | the priority service tier (optional; see [`ServiceTier`]) |
//!
//! Every other field (`mode`, `litellm_provider`, `_batches`/`_flex` prices, image and
//! audio prices, ...) is ignored. An entry without `input_cost_per_token` or
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
//! [`ModelPrice::cost_usd_in`] with [`ServiceTier::Priority`] prices a priority request: each
//! price is the larger of the entry's `*_priority` price (when it has one) and the standard
//! one above, so a priority price the table lacks never makes a request cheaper, and a
//! long-context tier dearer than the priority price still counts. The budget gate reserves
//! this for a request that asks for `service_tier: "priority"`; charging the response still
//! uses standard prices. Not modelled: batch and flex service tiers, 1-hour cache writes
//! (priced as 5-minute ones), and per-request fees such as web search.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::{Map, Value};

/// The built-in table, in LiteLLM's format.
const BUILTIN_JSON: &str = include_str!("prices/builtin.json");

/// The four per-token price fields, in the order [`ModelPrice`] holds them.
const INPUT: &str = "input_cost_per_token";
const OUTPUT: &str = "output_cost_per_token";
const CACHE_READ: &str = "cache_read_input_token_cost";
const CACHE_CREATION: &str = "cache_creation_input_token_cost";
/// LiteLLM's priority service tier prices.
const INPUT_PRIORITY: &str = "input_cost_per_token_priority";
const OUTPUT_PRIORITY: &str = "output_cost_per_token_priority";
const CACHE_READ_PRIORITY: &str = "cache_read_input_token_cost_priority";

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
/// cache. Anthropic reports the three separately: [`Tokens::from_anthropic`] adds them up.
/// `output` includes reasoning tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tokens {
    /// All input tokens, the cached-read and cache-creation ones included.
    pub input: u64,
    /// Input tokens read from the prompt cache (a part of `input`).
    pub cached_read: u64,
    /// Input tokens written to the prompt cache (a part of `input`).
    pub cache_creation: u64,
    /// Output tokens, reasoning tokens included.
    pub output: u64,
}

impl Tokens {
    /// Converts Anthropic's `usage` counts, where `input_tokens` excludes the cache read and
    /// cache creation tokens, into [`Tokens`] (sums saturate).
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
    /// Long-context tiers (`*_above_<N>k_tokens` fields), by ascending threshold; applied by
    /// [`ModelPrice::cost_usd`].
    tiers: Vec<Tier>,
    /// The `*_priority` prices, when the entry has any.
    priority: Option<PriorityPrice>,
}

/// The service tier a request is priced at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ServiceTier {
    /// The standard prices (and long-context tiers).
    #[default]
    Standard,
    /// OpenAI's `service_tier: "priority"`: the `*_priority` prices where the entry has them,
    /// never below the standard ones.
    Priority,
}

/// An entry's `*_priority` prices; `None` keeps the standard price.
#[derive(Debug, Clone, Copy, PartialEq)]
struct PriorityPrice {
    input: Option<f64>,
    output: Option<f64>,
    cache_read: Option<f64>,
}

/// The prices that apply when a request has more than `above_input_tokens` input tokens;
/// a field that is `None` keeps the price of the tier below (or the base price).
#[derive(Debug, Clone, PartialEq)]
struct Tier {
    above_input_tokens: u64,
    input: Option<f64>,
    output: Option<f64>,
    cache_read: Option<f64>,
    cache_creation: Option<f64>,
}

/// The prices per token that apply to one request, fallbacks resolved.
#[derive(Debug, Clone, Copy)]
struct Rates {
    input: f64,
    output: f64,
    cache_read: f64,
    cache_creation: f64,
}

impl ModelPrice {
    /// The cost in USD of `tokens` at these prices (the formula is in [`PriceTable::cost`]).
    /// Always finite and not negative.
    pub fn cost_usd(&self, tokens: &Tokens) -> f64 {
        self.cost_usd_in(tokens, ServiceTier::Standard)
    }

    /// The cost in USD of `tokens` at the prices of `tier` (for [`ServiceTier::Priority`],
    /// each price is the larger of the entry's priority price and the standard one). Always
    /// finite and not negative.
    pub fn cost_usd_in(&self, tokens: &Tokens, tier: ServiceTier) -> f64 {
        let mut rates = self.rates(tokens.input);
        if let (ServiceTier::Priority, Some(priority)) = (tier, &self.priority) {
            // `max` because a long-context standard price can exceed the base priority one.
            let dearer = |standard: f64, p: Option<f64>| p.map_or(standard, |p| p.max(standard));
            rates.input = dearer(rates.input, priority.input);
            rates.output = dearer(rates.output, priority.output);
            rates.cache_read = dearer(rates.cache_read, priority.cache_read);
            rates.cache_creation = dearer(rates.cache_creation, priority.input);
        }
        let uncached = tokens
            .input
            .saturating_sub(tokens.cached_read)
            .saturating_sub(tokens.cache_creation);
        let usd = uncached as f64 * rates.input
            + tokens.cached_read as f64 * rates.cache_read
            + tokens.cache_creation as f64 * rates.cache_creation
            + tokens.output as f64 * rates.output;
        // Prices are finite and non-negative, so `usd` is never NaN or negative; only huge
        // prices times huge counts can overflow to infinity.
        if usd.is_finite() { usd } else { f64::MAX }
    }

    /// The prices for a request with `input_tokens` input tokens: the base prices, overridden
    /// by every tier whose threshold it exceeds (in ascending order), missing cache prices
    /// resolved to the input price.
    fn rates(&self, input_tokens: u64) -> Rates {
        let (mut input, mut output) = (self.input, self.output);
        let (mut cache_read, mut cache_creation) = (self.cache_read, self.cache_creation);
        for tier in self
            .tiers
            .iter()
            .filter(|t| input_tokens > t.above_input_tokens)
        {
            input = tier.input.unwrap_or(input);
            output = tier.output.unwrap_or(output);
            cache_read = tier.cache_read.or(cache_read);
            cache_creation = tier.cache_creation.or(cache_creation);
        }
        Rates {
            input,
            output,
            cache_read: cache_read.unwrap_or(input),
            cache_creation: cache_creation.unwrap_or(input),
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
/// `cache_creation_input_token_cost` and `*_above_<N>k_tokens` tiers, in USD per token; entries
/// without an input or output price are skipped, other fields ignored.
///
/// ```
/// use agentlog_intercept::{PriceTable, Tokens};
///
/// let table = PriceTable::builtin();
/// let tokens = Tokens { input: 1_000, cached_read: 400, cache_creation: 0, output: 200 };
/// let cost = table.cost("openai/gpt-4o-mini-2024-07-18", &tokens).expect("a known model");
/// assert_eq!(cost.model_key, "gpt-4o-mini-2024-07-18");
/// // 600 * 0.15/M + 400 * 0.075/M + 200 * 0.6/M
/// assert!((cost.usd - 0.00024).abs() < 1e-12);
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
        let found = self.lookup(model)?;
        Some(Cost {
            usd: found.price.cost_usd(tokens),
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
    let input = price_field(fields, INPUT)?;
    let output = price_field(fields, OUTPUT)?;
    let cache_read = price_field(fields, CACHE_READ)?;
    let cache_creation = price_field(fields, CACHE_CREATION)?;
    let tiers = parse_tiers(fields)?;
    let priority = PriorityPrice {
        input: price_field(fields, INPUT_PRIORITY)?,
        output: price_field(fields, OUTPUT_PRIORITY)?,
        cache_read: price_field(fields, CACHE_READ_PRIORITY)?,
    };
    let any_priority =
        priority.input.is_some() || priority.output.is_some() || priority.cache_read.is_some();
    let priority = any_priority.then_some(priority);
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
        tiers,
        priority,
    }))
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

/// The long-context tiers: every `<price field>_above_<N>[k]_tokens` field, by threshold.
fn parse_tiers(fields: &Map<String, Value>) -> Result<Vec<Tier>, BadField> {
    let mut tiers: BTreeMap<u64, Tier> = BTreeMap::new();
    for name in fields.keys() {
        let Some((base, threshold)) = tier_field(name) else {
            continue;
        };
        let Some(price) = price_field(fields, name)? else {
            continue;
        };
        let tier = tiers.entry(threshold).or_insert(Tier {
            above_input_tokens: threshold,
            input: None,
            output: None,
            cache_read: None,
            cache_creation: None,
        });
        let slot = match base {
            INPUT => &mut tier.input,
            OUTPUT => &mut tier.output,
            CACHE_READ => &mut tier.cache_read,
            _ => &mut tier.cache_creation,
        };
        *slot = Some(price);
    }
    Ok(tiers.into_values().collect())
}

/// Splits `input_cost_per_token_above_272k_tokens` into (`input_cost_per_token`, 272000);
/// `None` for any other field, such as `cache_creation_input_token_cost_above_1hr` or
/// `input_cost_per_token_above_272k_tokens_batches`.
fn tier_field(name: &str) -> Option<(&'static str, u64)> {
    let base = [INPUT, OUTPUT, CACHE_READ, CACHE_CREATION]
        .into_iter()
        .find(|base| name.starts_with(base))?;
    let threshold = name
        .strip_prefix(base)?
        .strip_prefix("_above_")?
        .strip_suffix("_tokens")?;
    let (digits, scale) = match threshold.strip_suffix('k') {
        Some(digits) => (digits, 1000),
        None => (threshold, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let count: u64 = digits.parse().ok()?;
    Some((base, count.checked_mul(scale)?))
}

/// The name, then the name after each `/` in turn: `a/b/c`, `b/c`, `c` (empty parts skipped).
fn provider_suffixes(model: &str) -> Vec<&str> {
    let after_slashes = model.match_indices('/').map(|(at, _)| &model[at + 1..]);
    std::iter::once(model)
        .chain(after_slashes)
        .filter(|name| !name.is_empty())
        .collect()
}

/// The name without a trailing date (`-2024-07-18`, `-20250514`, `@20241022`), or `None`.
fn strip_date(name: &str) -> Option<&str> {
    let bytes = name.as_bytes();
    let len = bytes.len();
    let digits = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
    let valid = |month: &[u8], day: &[u8]| {
        let number = |b: &[u8]| u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0');
        (1..=12).contains(&number(month)) && (1..=31).contains(&number(day))
    };
    // `-YYYY-MM-DD`
    if len > 11
        && bytes[len - 11] == b'-'
        && bytes[len - 6] == b'-'
        && bytes[len - 3] == b'-'
        && digits(len - 10..len - 6)
        && digits(len - 5..len - 3)
        && digits(len - 2..len)
        && valid(&bytes[len - 5..len - 3], &bytes[len - 2..len])
    {
        return Some(&name[..len - 11]);
    }
    // `-YYYYMMDD` or `@YYYYMMDD`
    if len > 9
        && matches!(bytes[len - 9], b'-' | b'@')
        && digits(len - 8..len)
        && valid(&bytes[len - 4..len - 2], &bytes[len - 2..len])
    {
        return Some(&name[..len - 9]);
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
