//! The published JSON Schemas (draft 2020-12), embedded in the binary.
//!
//! `schema/v0/*.json` is the single source of truth: the files are compiled in with
//! `include_str!`, registered under their `$id`s, and every cross-file `$ref` resolves from
//! them; nothing is ever fetched. [`bundle`] produces one self-contained document for
//! validators that cannot resolve cross-file references.
//!
//! The texts, names, `$id`s and the bundle need nothing but serde_json. Compiling them
//! (`compile`, `envelope`, `data_validator`, `SchemaError`) needs jsonschema and is behind
//! this crate's `compile` feature, which `agentlog-validate` turns on: a producer that only
//! writes events does not build a schema compiler.

#[cfg(feature = "compile")]
use std::sync::OnceLock;

#[cfg(feature = "compile")]
use jsonschema::{Draft, Registry, Validator};
use serde_json::{Map, Value};

use crate::event::EventType;

/// Base URI of the v0 schemas; each file's `$id` is this plus its file name.
pub const BASE_URI: &str = "https://agentlog.dev/schema/v0/";

/// `$id` of the bundled schema printed by `agentlog schema --bundle`.
pub const BUNDLE_ID: &str = "https://agentlog.dev/schema/v0/bundle.json";

/// One embedded schema file.
#[derive(Clone, Copy, Debug)]
pub struct SchemaFile {
    /// Short name: `envelope` or an event type.
    pub name: &'static str,
    /// File name under `schema/v0/`.
    pub file: &'static str,
    /// The JSON text as published.
    pub text: &'static str,
}

impl SchemaFile {
    /// The `$id` of this file.
    pub fn id(&self) -> String {
        format!("{BASE_URI}{}", self.file)
    }

    /// The parsed schema.
    pub fn json(&self) -> Value {
        // The files are checked by this crate's tests; a parse failure is a build defect.
        serde_json::from_str(self.text).unwrap_or(Value::Null)
    }
}

macro_rules! schema_file {
    ($name:literal) => {
        SchemaFile {
            name: $name,
            file: concat!($name, ".json"),
            text: include_str!(concat!("../../../../schema/v0/", $name, ".json")),
        }
    };
}

/// Every v0 schema file: the envelope first, then one per event type's `data`.
pub const V0: [SchemaFile; 5] = [
    schema_file!("envelope"),
    schema_file!("llm_request"),
    schema_file!("llm_response"),
    schema_file!("budget_action"),
    schema_file!("key_injection"),
];

/// The schema file with this short name (`envelope`, `llm_request`, ...) or file name.
pub fn find(name: &str) -> Option<&'static SchemaFile> {
    V0.iter().find(|s| s.name == name || s.file == name)
}

/// The schema of `data` for a v0 event type.
pub fn for_event_type(event_type: &EventType) -> Option<&'static SchemaFile> {
    event_type
        .is_v0()
        .then(|| find(event_type.as_str()))
        .flatten()
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
            for file in &V0 {
                builder = builder
                    .add(file.id(), file.json())
                    .map_err(|e| SchemaError {
                        name: file.name.into(),
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
/// Compiles `schema` against the embedded registry: draft 2020-12, formats asserted, no
/// network (an unresolvable `$ref` is an error).
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
    static CACHE: OnceLock<Vec<Result<Validator, SchemaError>>> = OnceLock::new();
    let all = CACHE.get_or_init(|| V0.iter().map(|f| compile(f.name, &f.json())).collect());
    let index = V0.iter().position(|f| f.name == file.name).unwrap_or(0);
    match all.get(index) {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => Err(e.clone()),
        None => Err(SchemaError {
            name: file.name.into(),
            message: "not embedded".into(),
        }),
    }
}

#[cfg(feature = "compile")]
/// The compiled envelope validator (which checks `data` too, by `event_type`).
pub fn envelope() -> Result<&'static Validator, SchemaError> {
    compiled(&V0[0])
}

#[cfg(feature = "compile")]
/// The compiled validator of `data` for a v0 event type.
pub fn data_validator(event_type: &EventType) -> Option<Result<&'static Validator, SchemaError>> {
    for_event_type(event_type).map(compiled)
}

/// One self-contained schema equivalent to the envelope: every data schema is inlined under
/// `$defs/<name>` without its own `$id`/`$schema`, and every cross-file `$ref` is rewritten to
/// `#/$defs/<name>`, so validators that cannot resolve other documents (ajv without
/// `addSchema`, fastjsonschema) can use it.
pub fn bundle() -> Value {
    let mut root = V0[0].json();
    let mut defs = Map::new();
    for file in &V0[1..] {
        let mut schema = file.json();
        if let Value::Object(map) = &mut schema {
            map.remove("$id");
            map.remove("$schema");
        }
        rewrite_refs(&mut schema);
        defs.insert(file.name.to_owned(), schema);
    }
    rewrite_refs(&mut root);
    if let Value::Object(map) = &mut root {
        map.insert("$id".into(), Value::String(BUNDLE_ID.into()));
        map.insert(
            "title".into(),
            Value::String("agentlog v0 event (bundled, self-contained)".into()),
        );
        map.insert("$defs".into(), Value::Object(defs));
    }
    root
}

fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "$ref" {
                    if let Value::String(target) = child {
                        let file = target.strip_prefix(BASE_URI).unwrap_or(target);
                        if let Some(schema) = find(file) {
                            *target = format!("#/$defs/{}", schema.name);
                        }
                    }
                } else {
                    rewrite_refs(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_parses_and_has_its_id() {
        for file in &V0 {
            let json: Value = serde_json::from_str(file.text).expect(file.name);
            assert_eq!(json["$id"], Value::String(file.id()), "{}", file.name);
        }
    }

    #[test]
    fn bundle_has_no_external_refs() {
        let text = bundle().to_string();
        assert!(!text.contains("\"$ref\":\"llm_"), "{text}");
        assert!(text.contains("#/$defs/key_injection"));
    }
}
