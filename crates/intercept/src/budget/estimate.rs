//! The worst case of a request, reserved before it is forwarded.

use serde_json::Value;

use super::super::prices::{PriceTable, Tokens};

/// Output tokens assumed when a request sets no output limit.
pub const DEFAULT_MAX_OUTPUT_TOKENS: u64 = 4096;

/// What the budget needs from a request body, read once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestFacts {
    /// `model`; empty when absent.
    pub model: String,
    /// `max_tokens`, `max_output_tokens` or `max_completion_tokens`, when set.
    pub max_output_tokens: Option<u64>,
    /// Bytes of the body: an upper bound of its input tokens.
    pub body_bytes: u64,
}

impl RequestFacts {
    /// Reads a JSON request body; a body that is not JSON gives an empty model.
    pub fn of_body(body: &[u8]) -> Self {
        let parsed = serde_json::from_slice::<Value>(body).ok();
        let field = |k: &str| parsed.as_ref().and_then(|v| v.get(k));
        RequestFacts {
            model: field("model")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            max_output_tokens: ["max_tokens", "max_output_tokens", "max_completion_tokens"]
                .into_iter()
                .find_map(|k| field(k).and_then(Value::as_u64)),
            body_bytes: u64::try_from(body.len()).unwrap_or(u64::MAX),
        }
    }
}

/// The most the request can cost: its output limit (or the model's `max_output_tokens` in
/// the table, or [`DEFAULT_MAX_OUTPUT_TOKENS`]) as output tokens plus its body's bytes as
/// uncached input tokens, at the model's prices (long-context tiers included). A model the
/// table does not price costs what the dearest entry would, so an unknown model cannot slip
/// past the limit.
pub fn worst_case(facts: &RequestFacts, prices: &PriceTable) -> f64 {
    let found = prices.lookup(&facts.model);
    let output = facts
        .max_output_tokens
        .or_else(|| found.as_ref().and_then(|f| f.price.max_output_tokens))
        .unwrap_or(DEFAULT_MAX_OUTPUT_TOKENS);
    let tokens = Tokens {
        input: facts.body_bytes,
        cached_read: 0,
        cache_creation: 0,
        output,
    };
    match found {
        Some(found) => found.price.cost_usd(&tokens),
        None => prices.highest_cost(&tokens),
    }
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
    fn facts_of_a_body() {
        let facts = RequestFacts::of_body(br#"{"model":"m1","max_output_tokens":64,"input":"x"}"#);
        assert_eq!(facts.model, "m1");
        assert_eq!(facts.max_output_tokens, Some(64));
        assert_eq!(facts.body_bytes, 49);
        let none = RequestFacts::of_body(b"not json");
        assert_eq!((none.model.as_str(), none.max_output_tokens), ("", None));
    }
}
