//! One interceptor scenario as a typed value.
//!
//! A scenario file (`conformance/scenarios/NAME.json`, format in that directory's README)
//! says how the proxy is configured (secrets and their placeholders, LLM hosts, profile,
//! allowlist, routes, budget), which requests a client sends through it, and what must
//! follow. [`Scenario::parse`] turns the JSON into this struct; an unknown key or a value of
//! the wrong type is an error naming the scenario and the key, never a panic, so a typo in a
//! scenario cannot silently switch a check off.

use std::collections::BTreeMap;

use agentlog_core::schema::Profile;
use agentlog_validate::secrets::scan::ScanError;
use serde::Deserialize;
use serde_json::Value;

use crate::cases::{self, CasesError, Kind};

/// The names a scenario's `profile` takes: the event-log profiles'.
const EVENT_LOG_NAMES: [&str; 2] = [Profile::EVENT_LOGS[0].name(), Profile::EVENT_LOGS[1].name()];

/// A scenario's `profile`: the event profile the proxy is started with (`--profile`) and the
/// schema its events must validate under, so an event-log profile; any other name is an
/// unknown variant, as for any enumerated key.
fn event_log_profile<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Profile>, D::Error> {
    let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    Profile::EVENT_LOGS
        .into_iter()
        .find(|p| p.name() == name)
        .map(Some)
        .ok_or_else(|| serde::de::Error::unknown_variant(&name, &EVENT_LOG_NAMES))
}

/// Why a scenario could not be loaded: an error naming the scenario and what is wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file is not JSON, or not a scenario: an unknown key, a value of the wrong type.
    #[error("{id}: {source}")]
    Json {
        /// The scenario's id, `proxy/NAME`.
        id: String,
        /// What the parser says, naming the key.
        source: serde_json::Error,
    },
    /// An entry of `secrets` is not `NAME=VALUE@HOSTS`.
    #[error("{id}: {source}")]
    Secret {
        /// The scenario's id.
        id: String,
        /// What is wrong with the entry (never its value).
        source: SecretSpecError,
    },
    /// A secret's value is one the validator's scanner refuses to look for (too short).
    #[error("{id}: {source}")]
    Unsearchable {
        /// The scenario's id.
        id: String,
        /// The scanner's reason, naming the secret (never its value).
        source: ScanError,
    },
    /// The requests, the events and the upstreams do not add up: an `expect_upstream` entry
    /// naming a request the scenario does not send, or `events` counts that are missing or
    /// do not sum to `expect_events`.
    #[error("{id}: {reason}")]
    Inconsistent {
        /// The scenario's id.
        id: String,
        /// What does not add up.
        reason: String,
    },
    /// `budget_usd` is negative or not finite.
    #[error("{id}: budget_usd must be a non-negative number")]
    Budget {
        /// The scenario's id.
        id: String,
    },
    /// The embedded manifest could not be built.
    #[error(transparent)]
    Manifest(#[from] CasesError),
    /// A manifest entry lists no file.
    #[error("{id}: no file")]
    NoFile {
        /// The scenario's id.
        id: String,
    },
    /// A manifest entry's file is not embedded.
    #[error("{id}: conformance/{path} missing")]
    Missing {
        /// The scenario's id.
        id: String,
        /// The file, relative to `conformance/`.
        path: String,
    },
}

/// Why a secret is not `NAME=VALUE@HOSTS`. No message repeats the value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretSpecError {
    /// No `=`.
    #[error("a secret must be NAME=VALUE@HOSTS")]
    NoEquals,
    /// The name or the value is empty.
    #[error("secret {name:?}: empty name or value")]
    Empty {
        /// The name as written (possibly empty).
        name: String,
    },
}

/// A secret the proxy is started with: `NAME=VALUE@HOSTS`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretSpec {
    /// The secret's name (`OPENAI_API_KEY`).
    pub name: String,
    /// The real value the proxy injects. Never printed by the harness.
    pub value: String,
    /// The host globs after `@` (`None`: every host).
    pub hosts: Option<String>,
}

impl std::fmt::Debug for SecretSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretSpec")
            .field("name", &self.name)
            .field("hosts", &self.hosts)
            .finish_non_exhaustive()
    }
}

impl SecretSpec {
    /// Parses `NAME=VALUE@HOSTS` (`@HOSTS` optional). The error never repeats the value.
    pub fn parse(spec: &str) -> Result<SecretSpec, SecretSpecError> {
        let (name, rest) = spec.split_once('=').ok_or(SecretSpecError::NoEquals)?;
        let (value, hosts) = match rest.rsplit_once('@') {
            Some((value, hosts)) => (value, Some(hosts.to_owned())),
            None => (rest, None),
        };
        if name.is_empty() || value.is_empty() {
            return Err(SecretSpecError::Empty {
                name: name.to_owned(),
            });
        }
        Ok(SecretSpec {
            name: name.to_owned(),
            value: value.to_owned(),
            hosts,
        })
    }

    /// The spec as `--secret` takes it.
    pub(crate) fn spec(&self) -> String {
        match &self.hosts {
            Some(hosts) => format!("{}={}@{hosts}", self.name, self.value),
            None => format!("{}={}", self.name, self.value),
        }
    }
}

/// One request the client sends through the proxy.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// HTTP method.
    pub method: String,
    /// `https://` (sent through `CONNECT`) or `http://` (absolute-form); `${NAME}` expands.
    pub url: String,
    /// Request headers; `${NAME}` expands in values.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A JSON body, sent with `content-type: application/json`; `${NAME}` expands.
    #[serde(default)]
    pub body: Option<Value>,
    /// The status the client must get.
    pub expect_status: u16,
    /// The exact response body, when given.
    #[serde(default)]
    pub expect_body: Option<String>,
    /// How many of the scenario's `expect_events` this exchange writes (they follow those of
    /// the requests before it). Required when the scenario sends more than one request; a
    /// lone request writes them all.
    #[serde(default)]
    pub events: Option<usize>,
}

/// A request an upstream must have received: request `request` of the scenario, forwarded
/// with its body unchanged and its headers as the client sent them, but for `headers`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedRequest {
    /// The index of the scenario's request this is (0 for the first).
    pub request: usize,
    /// The path, exactly.
    #[serde(default)]
    pub path: Option<String>,
    /// The query string, exactly.
    #[serde(default)]
    pub query: Option<String>,
    /// Headers whose value differs from the client's (an injected key; `${NAME}` expands);
    /// every other header the client sent must arrive as sent.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// The scenario file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    description: String,
    #[serde(default)]
    secrets: Vec<String>,
    #[serde(default)]
    placeholders: BTreeMap<String, String>,
    #[serde(default)]
    llm_hosts: Vec<String>,
    #[serde(default, deserialize_with = "event_log_profile")]
    profile: Option<Profile>,
    #[serde(default)]
    allow_hosts: Vec<String>,
    #[serde(default)]
    routes: Vec<String>,
    #[serde(default)]
    budget_usd: Option<f64>,
    requests: Vec<RequestSpec>,
    #[serde(default)]
    expect_upstream: Vec<ExpectedRequest>,
    #[serde(default)]
    expect_route_target: Vec<ExpectedRequest>,
    expect_events: Vec<Value>,
}

/// One interceptor scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// `proxy/NAME`.
    pub id: String,
    /// One line on what it pins.
    pub description: String,
    /// Secrets the proxy is started with.
    pub secrets: Vec<SecretSpec>,
    /// The placeholder handed to the port for each secret, by name (every secret has one:
    /// the scenario's, or one derived from the name).
    pub placeholders: BTreeMap<String, String>,
    /// Extra LLM host globs (`--llm-host`).
    pub llm_hosts: Vec<String>,
    /// `--profile`, when the scenario sets it.
    pub profile: Option<Profile>,
    /// `--allow-host` globs.
    pub allow_hosts: Vec<String>,
    /// `--route` specs (`${ROUTE_TARGET}` not yet expanded).
    pub routes: Vec<String>,
    /// `--budget-usd`.
    pub budget_usd: Option<f64>,
    /// The requests, in order.
    pub requests: Vec<RequestSpec>,
    /// What the TLS upstream must receive, in order (empty: nothing).
    pub expect_upstream: Vec<ExpectedRequest>,
    /// What the route target must receive, in order (empty: nothing).
    pub expect_route_target: Vec<ExpectedRequest>,
    /// The events, in order: every key given must be equal, `data` a subset, numbers
    /// compared by value; `ts`, `run_id`, `agent_system`, `data.duration_ms` and
    /// `data.exchange_id` are never compared.
    pub expect_events: Vec<Value>,
    /// The file as parsed, for `{scenario}`.
    pub json: Value,
}

impl Scenario {
    /// Parses the scenario `id` from its JSON bytes.
    pub fn parse(id: &str, bytes: &[u8]) -> Result<Scenario, ScenarioError> {
        let json_error = |source| ScenarioError::Json {
            id: id.to_owned(),
            source,
        };
        let json: Value = serde_json::from_slice(bytes).map_err(json_error)?;
        let raw = Raw::deserialize(&json).map_err(json_error)?;
        consistent(&raw).map_err(|reason| ScenarioError::Inconsistent {
            id: id.to_owned(),
            reason,
        })?;
        let secrets = raw
            .secrets
            .iter()
            .map(|s| SecretSpec::parse(s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| ScenarioError::Secret {
                id: id.to_owned(),
                source,
            })?;
        // The harness finds these values with the validator's scanner, which refuses a value
        // too short to look for.
        crate::secrets::redactor(secrets.iter().map(|s| (s.name.as_str(), s.value.as_str())))
            .map_err(|source| ScenarioError::Unsearchable {
                id: id.to_owned(),
                source,
            })?;
        let mut placeholders = raw.placeholders;
        for secret in &secrets {
            placeholders
                .entry(secret.name.clone())
                .or_insert_with(|| derived_placeholder(&secret.name));
        }
        if let Some(limit) = raw.budget_usd
            && !(limit.is_finite() && limit >= 0.0)
        {
            return Err(ScenarioError::Budget { id: id.to_owned() });
        }
        Ok(Scenario {
            id: id.to_owned(),
            description: raw.description,
            secrets,
            placeholders,
            llm_hosts: raw.llm_hosts,
            profile: raw.profile,
            allow_hosts: raw.allow_hosts,
            routes: raw.routes,
            budget_usd: raw.budget_usd,
            requests: raw.requests,
            expect_upstream: raw.expect_upstream,
            expect_route_target: raw.expect_route_target,
            expect_events: raw.expect_events,
            json,
        })
    }

    /// How many events the log must hold when the response to each request has ended: the
    /// running total of the requests' `events`.
    pub fn events_after(&self) -> Vec<usize> {
        let lone = self.expect_events.len();
        let mut total = 0;
        self.requests
            .iter()
            .map(|r| {
                total += r.events.unwrap_or(lone);
                total
            })
            .collect()
    }

    /// The profile the events are validated under (v0 unless the scenario says v1).
    pub fn schema_profile(&self) -> Profile {
        self.profile.unwrap_or_default()
    }
}

/// `Err` with the reason when the upstream entries name a request not sent, or the requests'
/// `events` do not share out `expect_events` (every request gives one when there are several).
fn consistent(raw: &Raw) -> Result<(), String> {
    let sent = raw.requests.len();
    for (label, list) in [
        ("expect_upstream", &raw.expect_upstream),
        ("expect_route_target", &raw.expect_route_target),
    ] {
        if let Some(bad) = list.iter().find(|e| e.request >= sent) {
            return Err(format!(
                "{label}: request {} is not sent ({sent} request(s))",
                bad.request
            ));
        }
    }
    let counts: Vec<Option<usize>> = raw.requests.iter().map(|r| r.events).collect();
    let total = match counts.as_slice() {
        [None] | [] => return Ok(()),
        _ if counts.contains(&None) => {
            return Err("every request needs \"events\" when there are several".into());
        }
        _ => counts.iter().flatten().sum::<usize>(),
    };
    if total == raw.expect_events.len() {
        Ok(())
    } else {
        Err(format!(
            "the requests' \"events\" add up to {total}, expect_events lists {}",
            raw.expect_events.len()
        ))
    }
}

/// A fixed placeholder for a secret the scenario gives none: `SANDBOX_SECRET_` and 32
/// lowercase hex digits derived from the name (FNV-1a), the same on every run.
fn derived_placeholder(name: &str) -> String {
    let mut hash: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for byte in name.bytes() {
        hash ^= u128::from(byte);
        hash = hash.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013b);
    }
    format!("SANDBOX_SECRET_{hash:032x}")
}

/// Every `proxy/*` scenario of the embedded manifest, sorted by id.
pub fn all() -> Result<Vec<Scenario>, ScenarioError> {
    let manifest = cases::manifest()?;
    let mut scenarios = Vec::new();
    for entry in manifest.iter().filter(|e| e.kind == Kind::Proxy) {
        let path = entry.files.first().ok_or_else(|| ScenarioError::NoFile {
            id: entry.id.clone(),
        })?;
        let bytes = cases::file(path).ok_or_else(|| ScenarioError::Missing {
            id: entry.id.clone(),
            path: path.clone(),
        })?;
        scenarios.push(Scenario::parse(&entry.id, bytes)?);
    }
    Ok(scenarios)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_scenario_parses() {
        let scenarios = all().unwrap();
        assert!(!scenarios.is_empty());
        assert!(scenarios.iter().all(|s| s.id.starts_with("proxy/")));
    }

    #[test]
    fn a_typo_is_an_error_naming_the_key() {
        let err = Scenario::parse(
            "proxy/x",
            br#"{"description":"d","requests":[],"expect_event":[]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("expect_event"), "{err}");
    }

    /// A scenario's profile is an event-log profile: the proxy writes events.
    #[test]
    fn the_profile_is_an_event_log_profile() {
        let parse = |profile: &str| {
            let text = format!(
                r#"{{"description":"d","profile":"{profile}","requests":[],"expect_events":[]}}"#
            );
            Scenario::parse("proxy/x", text.as_bytes())
        };
        assert_eq!(parse("v1").unwrap().schema_profile(), Profile::V1);
        for other in ["ledger", "v2"] {
            let err = parse(other).unwrap_err().to_string();
            assert!(
                err.contains(&format!("unknown variant `{other}`, expected `v0` or `v1`")),
                "{err}"
            );
        }
    }

    /// Upstream entries name a request sent; `events` shares out `expect_events`.
    #[test]
    fn requests_events_and_upstreams_must_add_up() {
        let parse = |events: &[Option<usize>], upstream: &str| {
            let requests: Vec<String> = events
                .iter()
                .map(|n| {
                    let n = n.map(|n| format!(r#","events":{n}"#)).unwrap_or_default();
                    format!(r#"{{"method":"GET","url":"https://h/","expect_status":200{n}}}"#)
                })
                .collect();
            let text = format!(
                r#"{{"description":"d","requests":[{}],"expect_upstream":[{upstream}],"expect_events":[{{}},{{}}]}}"#,
                requests.join(",")
            );
            Scenario::parse("proxy/x", text.as_bytes()).map(|s| s.events_after())
        };
        assert_eq!(parse(&[None], "").unwrap(), [2]);
        assert_eq!(
            parse(&[Some(0), Some(2)], r#"{"request":1}"#).unwrap(),
            [0, 2]
        );
        let errors = [
            (
                parse(&[Some(1), Some(2)], ""),
                "add up to 3, expect_events lists 2",
            ),
            (parse(&[None, None], ""), "every request needs \"events\""),
            (
                parse(&[Some(1), Some(1)], r#"{"request":2}"#),
                "expect_upstream: request 2 is not sent",
            ),
            (parse(&[None], "{}"), "missing field `request`"),
        ];
        for (result, message) in errors {
            let err = result.unwrap_err().to_string();
            assert!(
                err.starts_with("proxy/x: ") && err.contains(message),
                "{err}"
            );
        }
    }

    #[test]
    fn a_secret_error_does_not_repeat_the_value() {
        let err = SecretSpec::parse("sk-very-secret").unwrap_err().to_string();
        assert!(!err.contains("sk-very-secret"), "{err}");
        let spec = SecretSpec::parse("K=v@a=b@h.com").unwrap();
        assert_eq!(
            (spec.value.as_str(), spec.hosts.as_deref()),
            ("v@a=b", Some("h.com"))
        );
        assert!(!format!("{spec:?}").contains("v@a"));
    }

    #[test]
    fn derived_placeholders_are_well_formed() {
        let p = derived_placeholder("OPENAI_API_KEY");
        assert_eq!(p.len(), "SANDBOX_SECRET_".len() + 32);
        assert!(
            p["SANDBOX_SECRET_".len()..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }
}
