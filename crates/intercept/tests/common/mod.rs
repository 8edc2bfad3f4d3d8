//! What the interceptor's test files share: two fake keys with their scopes and fixed
//! placeholders, and a JSON body helper (reqwest is built without its `json` feature).

// Each test binary compiles this module and uses a part of it.
#![allow(dead_code)]

use agentlog_intercept::PriceTable;
use agentlog_testkit::ProxyOptions;
use serde_json::Value;

/// The fake OpenAI key, allowed for `api.openai.com`.
pub const OPENAI_KEY: &str = "sk-test-REAL-openai-0123456789";
/// The fake Anthropic key, allowed for `api.anthropic.com`.
pub const ANTHROPIC_KEY: &str = "sk-ant-REAL-anthropic-9876543210";
/// The placeholder of [`OPENAI_KEY`].
pub const PH_OPENAI: &str = "SANDBOX_SECRET_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
/// The placeholder of [`ANTHROPIC_KEY`].
pub const PH_ANTHROPIC: &str = "SANDBOX_SECRET_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// Proxy options with both keys and their fixed placeholders.
pub fn secrets() -> ProxyOptions {
    ProxyOptions::default()
        .with_secrets(vec![
            format!("OPENAI_API_KEY={OPENAI_KEY}@api.openai.com"),
            format!("ANTHROPIC_API_KEY={ANTHROPIC_KEY}@api.anthropic.com"),
        ])
        .with_placeholders(vec![
            ("OPENAI_API_KEY".into(), PH_OPENAI.into()),
            ("ANTHROPIC_API_KEY".into(), PH_ANTHROPIC.into()),
        ])
}

/// A JSON request body.
pub trait JsonBody {
    /// Sets `content-type: application/json` and the body.
    fn json_body(self, value: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, value: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(value.to_string())
    }
}

/// An OpenAI chat completion URL.
pub const CHAT: &str = "https://api.openai.com/v1/chat/completions";
/// A small priced chat completion body.
pub const BODY: &str =
    r#"{"model":"gpt-4o-mini","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#;

/// The worst case the budget gate reserves for [`BODY`].
pub fn worst() -> f64 {
    let prices = PriceTable::builtin();
    let (input, output) = (
        prices.input_price("gpt-4o-mini").unwrap(),
        prices.output_price("gpt-4o-mini").unwrap(),
    );
    10.0 * output + BODY.len() as f64 * input
}
