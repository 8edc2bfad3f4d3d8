//! The fast path: typed, borrowed deserialization of lines that are certainly conformant.
//!
//! It deserializes the envelope into borrowed typed structs and checks what the schema asks
//! (non-empty strings, closed envelope, typed `data` of the v0 types, no repeated key). It only
//! ever *accepts*: whatever it accepts the schema accepts too. Anything it does not accept goes
//! to the precise path in [`super::check`], which also explains why.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use super::dupkeys;
use crate::event::{EventType, Timestamp};

fn some<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FastEnvelope<'a> {
    #[serde(borrow)]
    ts: Cow<'a, str>,
    #[serde(borrow)]
    run_id: Cow<'a, str>,
    #[serde(borrow)]
    agent_system: Cow<'a, str>,
    #[serde(borrow)]
    event_type: Cow<'a, str>,
    #[serde(borrow)]
    summary: Cow<'a, str>,
    #[serde(default, borrow, deserialize_with = "some")]
    plugin: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "some")]
    tags: Option<Vec<Cow<'a, str>>>,
    #[serde(default, borrow, deserialize_with = "some")]
    data: Option<&'a RawValue>,
}

/// A string the schema requires to be non-empty; an empty one fails the fast path.
struct NonEmpty;

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <Cow<'de, str>>::deserialize(d)?;
        if s.is_empty() {
            Err(serde::de::Error::custom("empty"))
        } else {
            Ok(NonEmpty)
        }
    }
}

/// A non-negative number (`minimum: 0`).
struct NonNegative;

impl<'de> Deserialize<'de> for NonNegative {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if f64::deserialize(d)? >= 0.0 {
            Ok(NonNegative)
        } else {
            Err(serde::de::Error::custom("negative"))
        }
    }
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct FastLlmRequest {
    method: NonEmpty,
    host: NonEmpty,
    path: NonEmpty,
    #[serde(default, deserialize_with = "some")]
    model: Option<NonEmpty>,
    routed: bool,
    #[serde(default, deserialize_with = "some")]
    routed_to: Option<NonEmpty>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct FastLlmResponse {
    method: NonEmpty,
    host: NonEmpty,
    path: NonEmpty,
    status_code: u64,
    duration_ms: u64,
    body_bytes: u64,
    #[serde(default, deserialize_with = "some")]
    model: Option<NonEmpty>,
    #[serde(default, deserialize_with = "some")]
    input_tokens: Option<u64>,
    #[serde(default, deserialize_with = "some")]
    output_tokens: Option<u64>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct FastBudgetAction {
    action: NonEmpty,
    #[serde(default, deserialize_with = "some")]
    tokens_used: Option<u64>,
    #[serde(default, deserialize_with = "some")]
    cost_usd: Option<NonNegative>,
    #[serde(default, deserialize_with = "some")]
    remaining: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum FastAction {
    Injected,
    Skipped,
    LeakBlocked,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct FastKeyInjection {
    secret_name: NonEmpty,
    host: NonEmpty,
    action: FastAction,
}

/// Facts about one event for the cross-line checks.
pub(crate) struct Facts {
    pub ts: Option<Timestamp>,
    pub run_id: Option<String>,
    pub event_type: Option<String>,
}

/// The fast path: `Some(facts)` when the line is certainly conformant to the envelope and
/// data schemas (event type known or not), `None` when the precise path must decide.
pub(crate) fn fast(text: &str) -> Option<Facts> {
    let env: FastEnvelope<'_> = serde_json::from_str(text).ok()?;
    let strings = [
        &env.run_id,
        &env.agent_system,
        &env.event_type,
        &env.summary,
    ];
    if strings.iter().any(|s| s.is_empty())
        || env.plugin.as_ref().is_some_and(|p| p.is_empty())
        || env
            .tags
            .as_ref()
            .is_some_and(|t| t.iter().any(|s| s.is_empty()))
    {
        return None;
    }
    let ts = Timestamp::parse(&env.ts).ok()?;
    if let Some(data) = env.data {
        let raw = data.get();
        let ok = raw.starts_with('{')
            && match EventType::from_name(&env.event_type) {
                EventType::LlmRequest => serde_json::from_str::<FastLlmRequest>(raw).is_ok(),
                EventType::LlmResponse => serde_json::from_str::<FastLlmResponse>(raw).is_ok(),
                EventType::BudgetAction => serde_json::from_str::<FastBudgetAction>(raw).is_ok(),
                EventType::KeyInjection => serde_json::from_str::<FastKeyInjection>(raw).is_ok(),
                EventType::Other(_) => true,
                // A type added to agentlog-core after this path was written: not certain.
                _ => false,
            }
            // Typed structs catch repeated known fields only; data is open, so check it all.
            && !dupkeys::has_duplicates(raw);
        if !ok {
            return None;
        }
    }
    Some(Facts {
        ts: Some(ts),
        run_id: Some(env.run_id.into_owned()),
        event_type: Some(env.event_type.into_owned()),
    })
}
