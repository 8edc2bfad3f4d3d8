//! The published JSON Schemas (draft 2020-12), embedded in the binary.
//!
//! Three profiles are published side by side, each a directory of files under one base URI:
//!
//! | profile | files | event types |
//! |---|---|---|
//! | [`Profile::V0`] | `schema/v0/*.json` ([`V0`]) | `llm_request`, `llm_response`, `budget_action`, `key_injection` (the seed specification) |
//! | [`Profile::V1`] | `schema/v1/*.json` ([`V1`]) | `http_request`, `http_response`, `gate_decision`, `route_decision`, `request_transform`, `response_transform`, `budget_action`, `key_injection` (deprecated): what the reference sandbox's Go writer really writes |
//! | [`Profile::Ledger`] | `schema/ledger/v1/tool_call.schema.json` ([`LEDGER`]) | none: one record per line, the tool-call ledger's `tool_call` (see `ledger`, behind this crate's `ledger` feature) |
//!
//! The two event-log profiles have an envelope whose `data` schema is chosen by `event_type`.
//! The ledger has no envelope and no event types: its one file, the `tool_call` record, is the
//! schema every line is checked against, and it takes the envelope's place
//! ([`Profile::envelope_file`]), with no data files.
//!
//! [`Profile`] is the one type naming these sets in the workspace: the validator checks a
//! log against one (or chooses one per file, `agentlog_validate::ProfileChoice`), the
//! interceptor writes the events of an event-log profile ([`Profile::EVENT_LOGS`]), and the
//! conformance harness validates a scenario's events under one.
//!
//! The files are the single source of truth: they are compiled in with `include_str!`,
//! registered under their `$id`s, and every cross-file `$ref` resolves from them; nothing is
//! ever fetched. They live inside this crate (`crates/core/schema/`), so a packaged
//! `agentlog-core` carries them; the repository's top-level `schema/`, where users, docs and
//! ports look, is a byte-for-byte copy held by the repository's `tests/mirrored_trees.rs` (edit
//! the crate's copy, then `AGENTLOG_SYNC_TREES=1 cargo test --test mirrored_trees`). [`Profile::bundle`] produces one self-contained document per profile for
//! validators that cannot resolve cross-file references.
//!
//! The free functions ([`find`], [`for_event_type`], [`bundle`], `envelope`,
//! `data_validator`) are the v0 profile's, as they were before v1 existed; the methods of
//! [`Profile`] do the same for either profile. A v1 event type is looked up by its name
//! ([`EventType::as_str`]), whichever variant of [`EventType`] holds it.
//!
//! The texts, names, `$id`s and the bundles need nothing but serde_json. Compiling them
//! (`compile`, `envelope`, `data_validator`, `SchemaError`) needs jsonschema and is behind
//! this crate's `compile` feature, which `agentlog-validate` turns on: a producer that only
//! writes events does not build a schema compiler.

use std::fmt;
use std::str::FromStr;
#[cfg(feature = "compile")]
use std::sync::OnceLock;

#[cfg(feature = "compile")]
use jsonschema::{Draft, Registry, Validator};
use serde_json::{Map, Value};

use crate::event::EventType;

/// Base URI of the v0 schemas; each file's `$id` is this plus its file name.
pub const BASE_URI: &str = "https://agentlog.dev/schema/v0/";

/// `$id` of the bundled v0 schema printed by `agentlog schema --bundle`.
pub const BUNDLE_ID: &str = "https://agentlog.dev/schema/v0/bundle.json";

/// Base URI of the v1 schemas; each file's `$id` is this plus its file name.
pub const BASE_URI_V1: &str = "https://agentlog.dev/schema/v1/";

/// `$id` of the bundled v1 schema printed by `agentlog schema --profile v1 --bundle`.
pub const BUNDLE_ID_V1: &str = "https://agentlog.dev/schema/v1/bundle.json";

/// Base URI of the tool-call ledger's schemas (version 1 of the ledger record).
pub const BASE_URI_LEDGER: &str = "https://agentlog.dev/schema/ledger/v1/";

/// `$id` of the ledger profile's bundle (`agentlog schema --profile ledger --bundle`): the
/// `tool_call` record schema under another `$id`, since it references no other file.
pub const BUNDLE_ID_LEDGER: &str = "https://agentlog.dev/schema/ledger/v1/bundle.json";

/// A published set of schemas: an envelope plus one `data` schema per event type it defines
/// (for the ledger, its one record schema). Two are event-log profiles
/// ([`EVENT_LOGS`](Self::EVENT_LOGS), what a sandbox writes); the ledger is another log
/// family.
///
/// ```
/// use agentlog_core::schema::Profile;
/// let v1: Profile = "v1".parse()?;
/// assert_eq!(v1.envelope_file().id(), "https://agentlog.dev/schema/v1/envelope.json");
/// assert!(v1.defines("gate_decision"));
/// assert!(!v1.defines("llm_request")); // a v0 type the reference never writes
/// assert!(Profile::V0.defines("llm_request"));
/// # Ok::<(), agentlog_core::schema::UnknownProfile>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Profile {
    /// The seed specification: `llm_request`, `llm_response`, `budget_action`,
    /// `key_injection`.
    #[default]
    V0,
    /// What the reference sandbox writes: `http_request`, `http_response`, `gate_decision`,
    /// `route_decision`, `request_transform`, `response_transform`, `budget_action` and the
    /// deprecated `key_injection`.
    V1,
    /// The tool-call ledger: one closed `tool_call` record per line
    /// (`schema/ledger/v1/tool_call.schema.json`), no envelope, no event types.
    Ledger,
}

/// A profile name other than `v0`, `v1` or `ledger`. The message does not repeat the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown schema profile; known: v0, v1, ledger")]
pub struct UnknownProfile;

impl Profile {
    /// Every profile, oldest first.
    pub const ALL: [Profile; 3] = [Profile::V0, Profile::V1, Profile::Ledger];

    /// The event-log profiles, the ones with an envelope and event types: what a sandbox (and
    /// agentlog's interceptor) writes.
    pub const EVENT_LOGS: [Profile; 2] = [Profile::V0, Profile::V1];

    /// The name: `v0`, `v1` or `ledger` (what `--profile` takes and [`FromStr`] parses).
    pub const fn name(self) -> &'static str {
        match self {
            Profile::V0 => "v0",
            Profile::V1 => "v1",
            Profile::Ledger => "ledger",
        }
    }

    /// Whether this is an event-log profile (one of [`EVENT_LOGS`](Self::EVENT_LOGS)): v0 or
    /// v1, not the ledger.
    pub fn is_event_log(self) -> bool {
        Profile::EVENT_LOGS.contains(&self)
    }

    /// The event-log profile `event_type` belongs to alone, with its wire name: `Some((V0,
    /// ..))` for `llm_request`/`llm_response`, `Some((V1, ..))` for the six v1-only types,
    /// `None` for the types both define and the types neither defines.
    ///
    /// ```
    /// use agentlog_core::event::EventType;
    /// use agentlog_core::schema::Profile;
    /// let gate = EventType::from_name("gate_decision");
    /// assert_eq!(Profile::family_of(&gate), Some((Profile::V1, "gate_decision")));
    /// assert_eq!(Profile::family_of(&EventType::from_name("budget_action")), None);
    /// ```
    pub fn family_of(event_type: &EventType) -> Option<(Profile, &'static str)> {
        let family = match (event_type.is_v0(), event_type.is_v1()) {
            (true, false) => Profile::V0,
            (false, true) => Profile::V1,
            _ => return None,
        };
        let name = family
            .event_types()
            .find(|name| *name == event_type.as_str())?;
        Some((family, name))
    }

    /// One line saying what the profile is, for `--help` and reports.
    pub fn description(self) -> &'static str {
        match self {
            Profile::V0 => {
                "the seed specification: llm_request, llm_response, budget_action, key_injection"
            }
            Profile::V1 => {
                "what the reference sandbox writes: http_request, http_response, gate_decision, \
                 route_decision, request_transform, response_transform, budget_action, \
                 key_injection (deprecated)"
            }
            Profile::Ledger => {
                "the tool-call ledger: one tool_call record per line (no envelope, no event types)"
            }
        }
    }

    /// Base URI of this profile's files: [`BASE_URI`], [`BASE_URI_V1`] or
    /// [`BASE_URI_LEDGER`].
    pub fn base_uri(self) -> &'static str {
        match self {
            Profile::V0 => BASE_URI,
            Profile::V1 => BASE_URI_V1,
            Profile::Ledger => BASE_URI_LEDGER,
        }
    }

    /// `$id` of this profile's bundle: [`BUNDLE_ID`], [`BUNDLE_ID_V1`] or
    /// [`BUNDLE_ID_LEDGER`].
    pub fn bundle_id(self) -> &'static str {
        match self {
            Profile::V0 => BUNDLE_ID,
            Profile::V1 => BUNDLE_ID_V1,
            Profile::Ledger => BUNDLE_ID_LEDGER,
        }
    }

    /// Every file of this profile: the envelope first, then one per event type's `data`
    /// (for [`Ledger`](Self::Ledger), its one record schema).
    pub fn files(self) -> &'static [SchemaFile] {
        match self {
            Profile::V0 => &V0,
            Profile::V1 => &V1,
            Profile::Ledger => &LEDGER,
        }
    }

    /// The schema a whole line is checked against: the envelope, or for
    /// [`Ledger`](Self::Ledger) the `tool_call` record.
    #[allow(clippy::indexing_slicing)] // every profile's constant table opens with its envelope
    pub fn envelope_file(self) -> &'static SchemaFile {
        &self.files()[0]
    }

    /// The `data` schema files, one per event type, in the order the profile lists them.
    pub fn data_files(self) -> &'static [SchemaFile] {
        self.files().get(1..).unwrap_or_default()
    }

    /// The event types this profile defines (the names of its `data` schemas).
    pub fn event_types(self) -> impl Iterator<Item = &'static str> {
        self.data_files().iter().map(|f| f.name)
    }

    /// Whether this profile defines the event type named `event_type`.
    pub fn defines(self, event_type: &str) -> bool {
        self.event_types().any(|name| name == event_type)
    }

    /// [`defines`](Self::defines) for a parsed event type, without comparing names: a
    /// validator asks it of every line.
    pub fn defines_type(self, event_type: &EventType) -> bool {
        match self {
            Profile::V0 => event_type.is_v0(),
            Profile::V1 => event_type.is_v1(),
            Profile::Ledger => false,
        }
    }

    /// The file with this short name (`envelope`, an event type) or file name.
    pub fn find(self, name: &str) -> Option<&'static SchemaFile> {
        self.files()
            .iter()
            .find(|s| s.name == name || s.file == name)
    }

    /// The schema of `data` for an event type this profile defines, matched by name.
    pub fn for_event_type(self, event_type: &EventType) -> Option<&'static SchemaFile> {
        let name = event_type.as_str();
        self.data_files().iter().find(|s| s.name == name)
    }

    #[cfg(feature = "compile")]
    /// The compiled envelope validator of this profile (which checks `data` too, by
    /// `event_type`); for [`Ledger`](Self::Ledger), the `tool_call` record's validator.
    pub fn envelope(self) -> Result<&'static Validator, SchemaError> {
        compiled(self.envelope_file())
    }

    #[cfg(feature = "compile")]
    /// The compiled validator of `data` for an event type this profile defines.
    pub fn data_validator(
        self,
        event_type: &EventType,
    ) -> Option<Result<&'static Validator, SchemaError>> {
        self.for_event_type(event_type).map(compiled)
    }

    /// One self-contained schema equivalent to this profile's envelope: every data schema is
    /// inlined under `$defs/<name>` without its own `$id`/`$schema`, and every cross-file
    /// `$ref` is rewritten to `#/$defs/<name>`, so validators that cannot resolve other
    /// documents (ajv without `addSchema`, fastjsonschema) can use it. Its `$id` is
    /// [`bundle_id`](Self::bundle_id).
    pub fn bundle(self) -> Value {
        let mut root = self.envelope_file().json();
        let mut defs = Map::new();
        for file in self.data_files() {
            let mut schema = file.json();
            if let Value::Object(map) = &mut schema {
                map.remove("$id");
                map.remove("$schema");
            }
            self.rewrite_refs(&mut schema);
            defs.insert(file.name.to_owned(), schema);
        }
        self.rewrite_refs(&mut root);
        if let Value::Object(map) = &mut root {
            map.insert("$id".into(), Value::String(self.bundle_id().into()));
            let kind = match self {
                Profile::Ledger => "record",
                _ => "event",
            };
            map.insert(
                "title".into(),
                Value::String(format!(
                    "agentlog {} {kind} (bundled, self-contained)",
                    self.name()
                )),
            );
            map.insert("$defs".into(), Value::Object(defs));
        }
        root
    }

    fn rewrite_refs(self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    if key == "$ref" {
                        if let Value::String(target) = child {
                            let file = target.strip_prefix(self.base_uri()).unwrap_or(target);
                            if let Some(schema) = self.find(file) {
                                *target = format!("#/$defs/{}", schema.name);
                            }
                        }
                    } else {
                        self.rewrite_refs(child);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.rewrite_refs(item)),
            _ => {}
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = UnknownProfile;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or(UnknownProfile)
    }
}

/// One embedded schema file.
#[derive(Clone, Copy, Debug)]
pub struct SchemaFile {
    /// The profile the file belongs to.
    pub profile: Profile,
    /// Short name: `envelope`, an event type, or `tool_call` (the ledger's record).
    pub name: &'static str,
    /// File name under the profile's directory (`schema/v0/`, `schema/v1/`,
    /// `schema/ledger/v1/`).
    pub file: &'static str,
    /// The JSON text as published.
    pub text: &'static str,
}

impl SchemaFile {
    /// The `$id` of this file: its profile's base URI plus its file name.
    pub fn id(&self) -> String {
        format!("{}{}", self.profile.base_uri(), self.file)
    }

    /// The parsed schema.
    pub fn json(&self) -> Value {
        // The files are checked by this crate's tests; a parse failure is a build defect.
        serde_json::from_str(self.text).unwrap_or(Value::Null)
    }
}

macro_rules! schema_file {
    ($profile:ident, $dir:literal, $name:literal) => {
        SchemaFile {
            profile: Profile::$profile,
            name: $name,
            file: concat!($name, ".json"),
            text: include_str!(concat!("../../schema/", $dir, "/", $name, ".json")),
        }
    };
}

/// Every v0 schema file: the envelope first, then one per event type's `data`.
pub const V0: [SchemaFile; 5] = [
    schema_file!(V0, "v0", "envelope"),
    schema_file!(V0, "v0", "llm_request"),
    schema_file!(V0, "v0", "llm_response"),
    schema_file!(V0, "v0", "budget_action"),
    schema_file!(V0, "v0", "key_injection"),
];

/// Every v1 schema file: the envelope first, then one per event type's `data` (the
/// reference's own types, then the two it keeps from v0).
pub const V1: [SchemaFile; 9] = [
    schema_file!(V1, "v1", "envelope"),
    schema_file!(V1, "v1", "http_request"),
    schema_file!(V1, "v1", "http_response"),
    schema_file!(V1, "v1", "gate_decision"),
    schema_file!(V1, "v1", "route_decision"),
    schema_file!(V1, "v1", "request_transform"),
    schema_file!(V1, "v1", "response_transform"),
    schema_file!(V1, "v1", "budget_action"),
    schema_file!(V1, "v1", "key_injection"),
];

/// The tool-call ledger's one schema file: the `tool_call` record every ledger line is
/// checked against.
pub const LEDGER: [SchemaFile; 1] = [SchemaFile {
    profile: Profile::Ledger,
    name: "tool_call",
    file: "tool_call.schema.json",
    text: include_str!("../../schema/ledger/v1/tool_call.schema.json"),
}];

/// The v0 schema file with this short name (`envelope`, `llm_request`, ...) or file name.
pub fn find(name: &str) -> Option<&'static SchemaFile> {
    Profile::V0.find(name)
}

/// The schema of `data` for a v0 event type.
pub fn for_event_type(event_type: &EventType) -> Option<&'static SchemaFile> {
    Profile::V0.for_event_type(event_type)
}

#[cfg(feature = "compile")]
/// A schema that failed to build: a defect of the embedded files, never of user input.
#[derive(Debug, Clone, thiserror::Error)]
#[error("embedded schema {name} does not compile: {message}")]
pub struct SchemaError {
    /// Which schema.
    pub name: String,
    /// The compiler's message.
    pub message: String,
}

#[cfg(feature = "compile")]
fn registry() -> Result<&'static Registry<'static>, SchemaError> {
    static REGISTRY: OnceLock<Result<Registry<'static>, SchemaError>> = OnceLock::new();
    REGISTRY
        .get_or_init(|| {
            let mut builder = Registry::new();
            for file in Profile::ALL.iter().flat_map(|p| p.files()) {
                builder = builder
                    .add(file.id(), file.json())
                    .map_err(|e| SchemaError {
                        name: file.id(),
                        message: e.to_string(),
                    })?;
            }
            builder.prepare().map_err(|e| SchemaError {
                name: "registry".into(),
                message: e.to_string(),
            })
        })
        .as_ref()
        .map_err(Clone::clone)
}

#[cfg(feature = "compile")]
/// Compiles `schema` against the embedded registry (every file of every profile, by `$id`):
/// draft 2020-12, formats asserted, no network (an unresolvable `$ref` is an error).
pub fn compile(name: &str, schema: &Value) -> Result<Validator, SchemaError> {
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .should_validate_formats(true)
        .with_registry(registry()?)
        .offline()
        .build(schema)
        .map_err(|e| SchemaError {
            name: name.into(),
            message: e.to_string(),
        })
}

#[cfg(feature = "compile")]
fn compiled(file: &'static SchemaFile) -> Result<&'static Validator, SchemaError> {
    type Compiled = OnceLock<Vec<Result<Validator, SchemaError>>>;
    static CACHE: [Compiled; Profile::ALL.len()] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let profile = file.profile;
    // The cache has one slot per profile, in declaration order.
    let all = CACHE.get(profile as usize).map(|slot| {
        slot.get_or_init(|| {
            profile
                .files()
                .iter()
                .map(|f| compile(&f.id(), &f.json()))
                .collect()
        })
    });
    let index = profile.files().iter().position(|f| f.name == file.name);
    match all.zip(index).and_then(|(all, i)| all.get(i)) {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => Err(e.clone()),
        None => Err(SchemaError {
            name: file.id(),
            message: "not embedded".into(),
        }),
    }
}

#[cfg(feature = "compile")]
/// The compiled v0 envelope validator (which checks `data` too, by `event_type`).
pub fn envelope() -> Result<&'static Validator, SchemaError> {
    Profile::V0.envelope()
}

#[cfg(feature = "compile")]
/// The compiled validator of `data` for a v0 event type.
pub fn data_validator(event_type: &EventType) -> Option<Result<&'static Validator, SchemaError>> {
    Profile::V0.data_validator(event_type)
}

/// One self-contained schema equivalent to the v0 envelope (see [`Profile::bundle`]).
pub fn bundle() -> Value {
    Profile::V0.bundle()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_parses_and_has_its_id() {
        for profile in Profile::ALL {
            for file in profile.files() {
                let json: Value = serde_json::from_str(file.text).expect(file.name);
                assert_eq!(json["$id"], Value::String(file.id()), "{}", file.name);
                assert!(file.id().starts_with(profile.base_uri()));
                assert_eq!(file.profile, profile);
            }
            let top = if profile == Profile::Ledger {
                "tool_call"
            } else {
                "envelope"
            };
            assert_eq!(profile.envelope_file().name, top);
        }
        assert!(Profile::Ledger.data_files().is_empty());
    }

    #[test]
    fn bundle_has_no_external_refs() {
        let text = bundle().to_string();
        assert!(!text.contains("\"$ref\":\"llm_"), "{text}");
        assert!(text.contains("#/$defs/key_injection"));
        let v1 = Profile::V1.bundle();
        assert_eq!(v1["$id"], BUNDLE_ID_V1);
        for name in Profile::V1.event_types() {
            assert!(v1["$defs"][name].is_object(), "{name} not inlined");
        }
        fn refs(value: &Value, out: &mut Vec<String>) {
            match value {
                Value::Object(map) => map.iter().for_each(|(k, v)| match (k.as_str(), v) {
                    ("$ref", Value::String(target)) => out.push(target.clone()),
                    _ => refs(v, out),
                }),
                Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        for profile in Profile::ALL {
            let mut found = Vec::new();
            refs(&profile.bundle(), &mut found);
            assert_eq!(found.len(), profile.data_files().len(), "{found:?}");
            assert!(found.iter().all(|r| r.starts_with("#/$defs/")), "{found:?}");
        }
    }

    #[test]
    fn profiles_are_named_and_parsed() {
        for profile in Profile::ALL {
            assert_eq!(profile.name().parse::<Profile>(), Ok(profile));
            assert_eq!(profile.to_string(), profile.name());
        }
        assert_eq!("v2".parse::<Profile>(), Err(UnknownProfile));
        assert_eq!("ledger".parse::<Profile>(), Ok(Profile::Ledger));
        assert_eq!("V1".parse::<Profile>(), Err(UnknownProfile));
        assert_eq!(Profile::default(), Profile::V0);
    }

    #[test]
    fn event_types_are_found_by_name_in_their_profile_only() {
        let v1 = Profile::V1;
        let gate = EventType::from_name("gate_decision");
        assert_eq!(
            v1.for_event_type(&gate).map(|f| f.name),
            Some("gate_decision")
        );
        assert!(for_event_type(&gate).is_none());
        assert!(v1.for_event_type(&EventType::LlmRequest).is_none());
        assert_eq!(
            v1.for_event_type(&EventType::KeyInjection).map(|f| f.id()),
            Some(format!("{BASE_URI_V1}key_injection.json"))
        );
        // The envelope is a file, not an event type.
        let envelope = EventType::from_name("envelope");
        for profile in [Profile::V0, Profile::V1] {
            assert!(profile.for_event_type(&envelope).is_none());
            assert!(!profile.defines("envelope"));
            assert!(profile.find("envelope").is_some());
        }
        // The ledger has no envelope and no event types: its record is found by name only.
        let ledger = Profile::Ledger;
        assert!(ledger.find("envelope").is_none());
        assert_eq!(ledger.event_types().count(), 0);
        assert!(!ledger.defines("tool_call"));
        assert_eq!(
            ledger.find("tool_call").map(|f| f.id()),
            ledger.find("tool_call.schema.json").map(|f| f.id())
        );
        assert_eq!(
            v1.event_types().collect::<Vec<_>>(),
            [
                "http_request",
                "http_response",
                "gate_decision",
                "route_decision",
                "request_transform",
                "response_transform",
                "budget_action",
                "key_injection"
            ]
        );
        assert_eq!(
            Profile::V0.event_types().collect::<Vec<_>>(),
            EventType::V0
                .iter()
                .map(EventType::as_str)
                .collect::<Vec<_>>()
        );
    }
}
