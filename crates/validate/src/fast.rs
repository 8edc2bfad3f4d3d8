//! The fast path: typed, borrowed deserialization of lines that are certainly conformant.
//!
//! It deserializes the envelope into borrowed typed structs and checks what the schema asks
//! (non-empty strings, closed envelope, typed `data` of the v0 and v1 types, no repeated
//! key). It only ever *accepts*: whatever it accepts the schema accepts too, under either
//! profile (a non-empty `agent_system` passes both envelopes; a type's data schema is its
//! family's alone, or the same in both for the shared types). So the fast path does not need
//! to know the file's profile. Anything it does not accept goes to the precise path in
//! [`super::check`], which also explains why.
//!
//! The response types' structs are built from agentlog-core's one list of response fields
//! (`response_fields!`), so they cannot drift from [`LlmResponse`](crate::event::LlmResponse)
//! and [`HttpResponse`](crate::event::HttpResponse); the tests hold every fast struct's fields
//! and enum values to the data schemas.

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

/// Whether a string is empty, read without keeping (or copying) it.
struct IsEmpty;

impl serde::de::Visitor<'_> for IsEmpty {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<bool, E> {
        Ok(s.is_empty())
    }
}

/// A string the schema requires to be non-empty; an empty one fails the fast path.
struct NonEmpty;

impl<'de> Deserialize<'de> for NonEmpty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.deserialize_str(IsEmpty)? {
            Err(serde::de::Error::custom("empty"))
        } else {
            Ok(NonEmpty)
        }
    }
}

/// Any string, the empty one included.
struct AnyString;

impl<'de> Deserialize<'de> for AnyString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(IsEmpty).map(|_| AnyString)
    }
}

/// An exchange id (`data.exchange_id`, a non-empty string), kept for the pairing check
/// ([`crate::exchange`]); an empty one fails the fast path.
struct Id(String);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let id = String::deserialize(d)?;
        if id.is_empty() {
            Err(serde::de::Error::custom("empty"))
        } else {
            Ok(Id(id))
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
    #[serde(default, deserialize_with = "some")]
    exchange_id: Option<Id>,
    #[serde(default, deserialize_with = "some")]
    reserved_usd: Option<NonNegative>,
}

/// The fast path's `data` of a response type, field by field from the one list of response
/// fields ([`agentlog_core::response_fields`]): a field of kind `K` is read as `$family::K`,
/// required fields as they are, optional ones as `Option` (where `null` is refused, as the
/// schema refuses it).
macro_rules! fast_response {
    (
        $name:ident, $family:ident;
        required { $($(#[$rm:meta])* $rf:ident: $rt:ty => $rk:ident,)* }
        optional { $($(#[$om:meta])* $of:ident: $ot:ty => $ok:ident,)* }
    ) => {
        #[derive(Deserialize)]
        #[allow(dead_code)]
        struct $name {
            $($rf: $family::$rk,)*
            $(#[serde(default, deserialize_with = "some")] $of: Option<$family::$ok>,)*
        }
    };
}

/// How the fast path reads each kind of response field, the same in both families but for
/// `Path`.
mod kinds {
    pub(super) type Text = super::NonEmpty;
    pub(super) type Count = u64;
    pub(super) type Usd = super::NonNegative;
    pub(super) type CostSource = super::FastCostSource;
    pub(super) type ServiceTier = super::FastServiceTier;
    pub(super) type Usage = super::FastUsage;
    pub(super) type Id = super::Id;
}

/// The kinds in v0's `llm_response`: the path must not be empty.
mod v0 {
    pub(super) use super::kinds::*;
    pub(super) type Path = super::NonEmpty;
}

/// The kinds in v1's `http_response`: the path may be empty (the reference writes `""` for an
/// absolute-form request line).
mod v1 {
    pub(super) use super::kinds::*;
    pub(super) type Path = super::AnyString;
}

agentlog_core::response_fields!(fast_response! { FastLlmResponse, v0; });
agentlog_core::response_fields!(fast_response! { FastHttpResponse, v1; });

/// `cost_source` of the response types' cost extension.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum FastCostSource {
    Provider,
    PriceTable,
    Reservation,
}

/// `usage` of the response types' cost extension.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum FastUsage {
    Unknown,
    Partial,
}

/// `service_tier` of the response types' cost extension.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum FastServiceTier {
    Standard,
    Priority,
    Flex,
    Batch,
}

/// `cost_usd` and `cost_source` come together (the schemas' `dependentRequired`).
fn cost_pair_ok(cost: Option<&NonNegative>, source: Option<&FastCostSource>) -> bool {
    cost.is_some() == source.is_some()
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
    #[serde(default, deserialize_with = "some")]
    exchange_id: Option<NonEmpty>,
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
    #[serde(default, deserialize_with = "some")]
    exchange_id: Option<NonEmpty>,
}

/// `http_request` (v1): `llm_request`'s shape, but `path` may be empty.
#[derive(Deserialize)]
#[allow(dead_code)]
struct FastHttpRequest {
    method: NonEmpty,
    host: NonEmpty,
    path: AnyString,
    #[serde(default, deserialize_with = "some")]
    model: Option<NonEmpty>,
    routed: bool,
    #[serde(default, deserialize_with = "some")]
    routed_to: Option<NonEmpty>,
    #[serde(default, deserialize_with = "some")]
    exchange_id: Option<Id>,
    #[serde(default, deserialize_with = "some")]
    reserved_usd: Option<NonNegative>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct FastGateDecision {
    host: NonEmpty,
    allowed: bool,
    #[serde(default, deserialize_with = "some")]
    reason: Option<NonEmpty>,
    #[serde(default, deserialize_with = "some")]
    pattern: Option<NonEmpty>,
    #[serde(default, deserialize_with = "some")]
    exchange_id: Option<NonEmpty>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum FastRouteAction {
    Passthrough,
    Redirected,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct FastRouteDecision {
    host: NonEmpty,
    action: FastRouteAction,
    #[serde(default, deserialize_with = "some")]
    routed_to: Option<NonEmpty>,
    #[serde(default, deserialize_with = "some")]
    reason: Option<NonEmpty>,
    #[serde(default, deserialize_with = "some")]
    exchange_id: Option<NonEmpty>,
}

/// `request_transform` and `response_transform` (v1): the same shape.
#[derive(Deserialize)]
#[allow(dead_code)]
struct FastTransform {
    host: NonEmpty,
    action: NonEmpty,
    #[serde(default, deserialize_with = "some")]
    reason: Option<NonEmpty>,
    #[serde(default, deserialize_with = "some")]
    exchange_id: Option<NonEmpty>,
}

/// Whether `raw`, a JSON object, is certainly valid `data` for `event_type`: `None` when it
/// is not certain, else the exchange id of a request or response type (`None` inside when it
/// has none), which the pairing check reads.
fn data_ok(event_type: &EventType, raw: &str) -> Option<Option<String>> {
    use serde_json::from_str as parse;
    let id = |id: Option<Id>| id.map(|Id(id)| id);
    let valid = match event_type {
        EventType::LlmRequest => {
            return parse::<FastLlmRequest>(raw).ok().map(|d| id(d.exchange_id));
        }
        EventType::HttpRequest => {
            return parse::<FastHttpRequest>(raw)
                .ok()
                .map(|d| id(d.exchange_id));
        }
        EventType::LlmResponse => {
            return parse::<FastLlmResponse>(raw)
                .ok()
                .filter(|d| cost_pair_ok(d.cost_usd.as_ref(), d.cost_source.as_ref()))
                .map(|d| id(d.exchange_id));
        }
        EventType::HttpResponse => {
            return parse::<FastHttpResponse>(raw)
                .ok()
                .filter(|d| cost_pair_ok(d.cost_usd.as_ref(), d.cost_source.as_ref()))
                .map(|d| id(d.exchange_id));
        }
        EventType::BudgetAction => parse::<FastBudgetAction>(raw).is_ok(),
        EventType::KeyInjection => parse::<FastKeyInjection>(raw).is_ok(),
        EventType::GateDecision => parse::<FastGateDecision>(raw).is_ok(),
        EventType::RouteDecision => parse::<FastRouteDecision>(raw).is_ok(),
        EventType::RequestTransform | EventType::ResponseTransform => {
            parse::<FastTransform>(raw).is_ok()
        }
        EventType::Other(_) => true,
        // A type added to agentlog-core after this path was written: not certain.
        _ => false,
    };
    valid.then_some(None)
}

/// Facts about one event for the cross-line checks.
pub(crate) struct Facts {
    pub ts: Option<Timestamp>,
    pub run_id: Option<String>,
    pub event_type: Option<String>,
    /// `data.exchange_id` of a request or response type (the pairing check's).
    pub exchange_id: Option<String>,
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
    let mut exchange_id = None;
    if let Some(data) = env.data {
        let raw = data.get();
        if !raw.starts_with('{') {
            return None;
        }
        exchange_id = data_ok(&EventType::from_name(&env.event_type), raw)?;
        // Typed structs catch repeated known fields only; data is open, so check it all.
        if dupkeys::has_duplicates(raw) {
            return None;
        }
    }
    Some(Facts {
        ts: Some(ts),
        run_id: Some(env.run_id.into_owned()),
        event_type: Some(env.event_type.into_owned()),
        exchange_id,
    })
}

#[cfg(test)]
mod tests {
    //! The fast path and the precise path agree: on lines of every v0 and v1 type whose data
    //! fields are each kept, dropped or given a value of another type or out of range, the
    //! fast path accepts exactly the lines the precise path finds nothing in. So it never
    //! accepts a line the schemas refuse, and the lines writers really produce take it.

    use proptest::prelude::*;
    use serde_json::{Map, Value, json};

    use super::*;
    use crate::check::ChunkResult;
    use crate::schema::Profile;
    use crate::{Options, ProfileChoice, Validator};

    /// Every data schema of both profiles, as `(event type, properties)`.
    fn types() -> Vec<(&'static str, Map<String, Value>)> {
        Profile::ALL
            .iter()
            .flat_map(|p| p.data_files())
            .map(|file| {
                let properties = file.json()["properties"].as_object().cloned();
                (file.name, properties.unwrap_or_default())
            })
            .collect()
    }

    /// A valid value for a property: the first of its enum, else one of its type.
    fn valid(property: &Value) -> Value {
        if let Some(first) = property["enum"].get(0) {
            return first.clone();
        }
        match property["type"].as_str() {
            Some("boolean") => json!(false),
            Some("integer") => json!(3),
            Some("number") => json!(0.5),
            _ => json!("x"),
        }
    }

    /// The value of a field after mutation `k` (`None`: the field is left out).
    fn mutate(property: &Value, k: u8) -> Option<Value> {
        Some(match k {
            0 => valid(property),
            1 => return None,
            2 => match property["type"].as_str() {
                Some("string") => json!(42),
                _ => json!("1"),
            },
            3 => json!(""),
            4 => Value::Null,
            5 => json!(-1),
            6 => json!(1.5),
            7 => json!(true),
            _ => json!("y"),
        })
    }

    fn line(event_type: &str, agent_system: &str, data: Map<String, Value>) -> String {
        json!({
            "ts": "2026-11-23T16:48:24.133534185Z",
            "run_id": "vm-503ad4d1",
            "agent_system": agent_system,
            "event_type": event_type,
            "summary": "s",
            "tags": ["tls"],
            "data": data,
        })
        .to_string()
    }

    /// Whether the precise path finds nothing to report in `text`, under `profile`.
    fn precise_clean(validator: &Validator, text: &str) -> bool {
        let mut out = ChunkResult::default();
        // Under `auto`, in a file an earlier line decided is an event log: a line the fast
        // path would accept is never of the other family.
        let family = crate::profile::FamilyOf {
            family: crate::profile::Family::EventLog,
            decided_at: Some(1),
        };
        validator.checker.precise(2, text, family, &mut out);
        let agent_pending = out
            .pending
            .iter()
            .any(|(_, p)| *p == crate::profile::Pending::AgentSystemEmpty);
        out.findings.is_empty() && out.omitted.is_empty() && !agent_pending
    }

    fn agree(validator: &Validator, text: &str) -> Result<(), TestCaseError> {
        let fast = fast(text).is_some();
        let precise = precise_clean(validator, text);
        prop_assert_eq!(fast, precise, "fast {} precise {}: {}", fast, precise, text);
        Ok(())
    }

    fn validator() -> Validator {
        let options = Options::default()
            .with_profile(ProfileChoice::Auto)
            .with_builtin_detectors(false);
        Validator::new(options).expect("validator")
    }

    /// Collects the names a derived `Deserialize` asks for: a struct's fields, an enum's
    /// variants (as written in JSON).
    struct Names(&'static [&'static str]);

    impl<'de> serde::Deserializer<'de> for &mut Names {
        type Error = serde::de::value::Error;

        fn deserialize_any<V: serde::de::Visitor<'de>>(
            self,
            _: V,
        ) -> Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom("names only"))
        }

        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = fields;
            Err(serde::de::Error::custom("names only"))
        }

        fn deserialize_enum<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            variants: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = variants;
            Err(serde::de::Error::custom("names only"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
            identifier ignored_any
        }
    }

    fn names<T: serde::de::DeserializeOwned>() -> Vec<&'static str> {
        let mut names = Names(&[]);
        let _ = T::deserialize(&mut names);
        names.0.to_vec()
    }

    /// The fields the fast path reads in the `data` of `event_type`.
    fn fast_fields(event_type: &str) -> Vec<&'static str> {
        match event_type {
            "llm_request" => names::<FastLlmRequest>(),
            "llm_response" => names::<FastLlmResponse>(),
            "budget_action" => names::<FastBudgetAction>(),
            "key_injection" => names::<FastKeyInjection>(),
            "http_request" => names::<FastHttpRequest>(),
            "http_response" => names::<FastHttpResponse>(),
            "gate_decision" => names::<FastGateDecision>(),
            "route_decision" => names::<FastRouteDecision>(),
            "request_transform" | "response_transform" => names::<FastTransform>(),
            other => panic!("no fast path for {other}"),
        }
    }

    /// The values the fast path takes for an enumerated `field` of `event_type`.
    fn fast_values(event_type: &str, field: &str) -> Vec<&'static str> {
        match (event_type, field) {
            (_, "cost_source") => names::<FastCostSource>(),
            (_, "service_tier") => names::<FastServiceTier>(),
            (_, "usage") => names::<FastUsage>(),
            ("key_injection", "action") => names::<FastAction>(),
            ("route_decision", "action") => names::<FastRouteAction>(),
            other => panic!("no fast enum for {other:?}"),
        }
    }

    /// The fast path reads exactly the properties each data schema defines (the response
    /// types' from the one list in agentlog-core, the others as written here), and takes
    /// exactly the values a schema enumerates.
    #[test]
    fn fast_path_reads_what_the_schemas_define() {
        for (event_type, properties) in types() {
            let defined: Vec<&str> = properties.keys().map(String::as_str).collect();
            assert_eq!(fast_fields(event_type), defined, "{event_type}");
            for (field, property) in &properties {
                if let Some(values) = property["enum"].as_array() {
                    let values: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
                    assert_eq!(
                        fast_values(event_type, field),
                        values,
                        "{event_type}.{field}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_valid_line_takes_the_fast_path() {
        let validator = validator();
        for (event_type, properties) in types() {
            let data = properties.iter().map(|(k, p)| (k.clone(), valid(p)));
            let text = line(event_type, "a", data.collect());
            assert!(fast(&text).is_some(), "{text}");
            assert!(precise_clean(&validator, &text), "{text}");
        }
    }

    #[test]
    fn real_v1_lines_take_the_fast_path() {
        let logs = [
            include_str!("../../../testdata/real-logs/matchlock-go-writer-events.jsonl"),
            include_str!("../../../testdata/real-logs/matchlock-pr77-examples-events.jsonl"),
        ];
        for text in logs.iter().flat_map(|log| log.lines()) {
            assert!(fast(text).is_some(), "{text}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

        #[test]
        fn fast_and_precise_paths_agree(
            pick in 0usize..64,
            mutations in proptest::collection::vec(prop_oneof![6 => Just(0u8), 3 => 1u8..9], 12),
            empty_agent in proptest::bool::weighted(0.1),
        ) {
            let types = types();
            let (event_type, properties) = &types[pick % types.len()];
            let data = properties
                .iter()
                .zip(mutations.iter().chain(std::iter::repeat(&0)))
                .filter_map(|((k, p), m)| mutate(p, *m).map(|v| (k.clone(), v)))
                .collect();
            let agent_system = if empty_agent { "" } else { "openclaw" };
            agree(&validator(), &line(event_type, agent_system, data))?;
        }
    }
}
