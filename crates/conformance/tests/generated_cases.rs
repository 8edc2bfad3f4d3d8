// A test crate: a failed unwrap or index fails the test, cases are long tables.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::too_many_lines,
    unreachable_pub,
    missing_docs
)]
//! The generated validator cases: negative cases made from the schemas, by construction, in
//! the manner of the JSON-Schema-Test-Suite, plus the line-level and secret rules made the
//! same way.
//!
//! For every constraint of every schema (the v0 and v1 envelopes and data schemas, the
//! ledger record) the generator writes one case, `logs/schema_{PROFILE}_{SCHEMA}_{KEYWORD}_{FIELD}`:
//! a valid line (the schema's first example) and then one line per way of breaking exactly
//! that constraint (each wrong JSON type of a `type`, ...), each expecting its rule, line and
//! pointer. The expectation is derived here from the constraint alone ([`Family::rule`]), and
//! the reference validator is run on every case: a disagreement fails with the case id.
//! `gen_line_*` and `gen_secret_*` cases cover what no schema says (trailing garbage, a
//! whitespace-only line, a supplied secret in every field it can sit in, in every encoding the
//! scanner finds, and in another case, which is not a finding).
//!
//! The committed files must equal what the generator writes; to rewrite them:
//! `AGENTLOG_REGENERATE=1 cargo test -p agentlog-conformance --test generated_cases`, then
//! `UPDATE_MANIFEST=1 cargo test -p agentlog-conformance` and
//! `AGENTLOG_SYNC_TREES=1 cargo test --test mirrored_trees`. A separate walk of the schemas'
//! JSON ([`every_schema_constraint_has_a_case`]) fails on a constraint without a case, and on
//! a keyword the generator does not know.

use std::collections::BTreeMap;
use std::path::PathBuf;

use agentlog_validate::Validator;
use base64::Engine as _;
use serde_json::{Value, json};

/// The one secret value of the `gen_secret_*` cases (a test value).
const SECRET_NAME: &str = "API_TOKEN";
const SECRET_VALUE: &str = "s3cr3t-Gen~V4lue?>0042";

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn schema_dir() -> PathBuf {
    crate_dir().join("../core/schema")
}

fn logs_dir() -> PathBuf {
    crate_dir().join("conformance/logs")
}

fn load(relative: &str) -> Value {
    let path = schema_dir().join(relative);
    serde_json::from_slice(&std::fs::read(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One finding a generated line must give.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Expect {
    line: u64,
    rule: String,
    pointer: Option<String>,
}

/// One generated case: its lines and what each must give.
#[derive(Clone, Debug)]
struct Case {
    name: String,
    description: String,
    options: Value,
    lines: Vec<String>,
    expect: Vec<Expect>,
}

impl Case {
    fn new(name: String, description: String, options: Value) -> Self {
        Case {
            name,
            description,
            options,
            lines: Vec::new(),
            expect: Vec::new(),
        }
    }

    /// Adds a line giving exactly `expect` (rule, pointer) findings.
    fn line(&mut self, text: String, expect: &[(&str, Option<String>)]) {
        self.lines.push(text);
        let line = self.lines.len() as u64;
        for (rule, pointer) in expect {
            self.expect.push(Expect {
                line,
                rule: (*rule).to_owned(),
                pointer: pointer.clone(),
            });
        }
    }

    fn log(&self) -> String {
        self.lines.iter().map(|l| format!("{l}\n")).collect()
    }

    fn verdict(&self) -> String {
        let mut expect = self.expect.clone();
        expect.sort();
        let findings: Vec<Value> = expect
            .iter()
            .map(|e| json!({"line": e.line, "rule": e.rule, "severity": "error", "pointer": e.pointer}))
            .collect();
        let verdict = json!({
            "description": self.description,
            "options": self.options,
            "lines": self.lines.len(),
            "findings": findings,
        });
        format!("{}\n", serde_json::to_string_pretty(&verdict).unwrap())
    }
}

/// Which rules a schema's constraints map to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Envelope,
    Data,
    Ledger,
}

impl Family {
    /// The rules a value breaking `keyword` on `field` gives: the keyword's own, and for a
    /// wrong type on a data field with an `enum` (a value of another type is outside the
    /// enum too, and the data rules report every keyword a value breaks) `data.invalid`
    /// as well. The ledger reports one finding per field.
    fn rules(self, keyword: &str, field: &str, has_enum: bool) -> Vec<&'static str> {
        let own = self.rule(keyword, field);
        if self == Family::Data && keyword == "type" && has_enum {
            vec![own, "data.invalid"]
        } else {
            vec![own]
        }
    }

    /// The rule a violation of `keyword` on `field` gives, derived from the constraint alone.
    fn rule(self, keyword: &str, field: &str) -> &'static str {
        match (self, keyword) {
            (Family::Envelope, "required") => "envelope.missing",
            (Family::Envelope, "type") => "envelope.type",
            (Family::Envelope, "format") => "ts.format",
            (Family::Envelope, "minLength") => "envelope.empty",
            (Family::Envelope, "additionalProperties") => "envelope.unknown_field",
            (Family::Data, "required" | "dependentRequired") => "data.required",
            (Family::Data, "type") => "data.type",
            (Family::Data, _) => "data.invalid",
            (Family::Ledger, "required" | "dependentRequired") => "ledger.required",
            (Family::Ledger, "type") => "ledger.type",
            (Family::Ledger, "additionalProperties") => "ledger.undeclared_field",
            (Family::Ledger, "pattern") if field == "args_hash" => "ledger.args_hash",
            (Family::Ledger, "enum") if field == "risk_flags" => "ledger.risk_flag",
            (Family::Ledger, _) => "ledger.invalid",
            (family, keyword) => panic!("no rule for {keyword} in {family:?}"),
        }
    }
}

/// A JSON value of each type, and the types a schema's `type` accepts.
const JSON_TYPES: [&str; 7] = [
    "null", "boolean", "integer", "number", "string", "array", "object",
];

fn value_of_type(kind: &str) -> Value {
    match kind {
        "null" => Value::Null,
        "boolean" => json!(true),
        "integer" => json!(1),
        "number" => json!(200.5),
        "string" => json!("gen"),
        "array" => json!([]),
        "object" => json!({}),
        other => panic!("unknown JSON type {other}"),
    }
}

fn accepted_types(schema_type: &Value) -> Vec<&str> {
    let mut accepted: Vec<&str> = match schema_type {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().map(|t| t.as_str().unwrap()).collect(),
        other => panic!("type {other}"),
    };
    if accepted.contains(&"number") {
        accepted.push("integer");
    }
    accepted
}

/// Where a schema's object sits in a line: the JSON pointer's segments.
fn pointer(at: &[String]) -> String {
    at.iter()
        .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
        .collect()
}

fn slot<'a>(line: &'a mut Value, at: &[String]) -> &'a mut Value {
    at.iter().fold(line, |v, key| match v {
        Value::Array(items) => &mut items[key.parse::<usize>().unwrap()],
        Value::Object(map) => map.get_mut(key).unwrap(),
        other => panic!("{other} at {key}"),
    })
}

/// `base` with the value at `at` replaced (`Some`) or removed (`None`).
fn with(base: &Value, at: &[String], value: Option<Value>) -> Value {
    let mut line = base.clone();
    let (last, parent) = at.split_last().unwrap();
    let parent = slot(&mut line, parent);
    match (parent, value) {
        (Value::Object(map), Some(v)) => {
            map.insert(last.clone(), v);
        }
        (Value::Object(map), None) => {
            map.shift_remove(last);
        }
        (Value::Array(items), Some(v)) => items[last.parse::<usize>().unwrap()] = v,
        (other, _) => panic!("cannot edit {other}"),
    }
    line
}

fn text(line: &Value) -> String {
    serde_json::to_string(line).unwrap()
}

/// What one schema's cases are made with.
struct Schema<'a> {
    /// `schema_v0_llm_response`: the cases' name prefix.
    prefix: String,
    /// `schema/v0/llm_response.json`, for descriptions.
    file: String,
    family: Family,
    options: &'a Value,
    /// A valid line.
    base: Value,
}

impl Schema<'_> {
    fn case(&self, keyword: &str, field: &[String], what: &str) -> Case {
        let mut name = format!("{}_{}", self.prefix, keyword.to_lowercase());
        for part in field {
            name.push('_');
            name.push_str(if part == "0" { "items" } else { part });
        }
        Case::new(
            name,
            format!(
                "generated from {}: {what}; the last line is valid, every other line breaks only that constraint",
                self.file
            ),
            self.options.clone(),
        )
    }

    /// Ends `case` with the valid line and adds it to `out`. The valid line comes last: a
    /// broken `ts` before it then never makes it run backwards.
    fn push(&self, mut case: Case, out: &mut Vec<Case>) {
        case.line(text(&self.base), &[]);
        out.push(case);
    }

    /// One case per constraint of the object schema `object`, found at `at` in the line.
    fn object(&self, object: &Value, at: &[String], out: &mut Vec<Case>) {
        let field_name = |name: &str| name.to_owned();
        for required in object["required"].as_array().into_iter().flatten() {
            let required = required.as_str().unwrap();
            let path = [at, &[field_name(required)]].concat();
            let mut case = self.case(
                "required",
                &path[at.len()..],
                &format!("`{required}` is required"),
            );
            let rule = self.family.rule("required", required);
            case.line(
                text(&with(&self.base, &path, None)),
                &[(rule, Some(pointer(&path)))],
            );
            self.push(case, out);
        }
        if object["additionalProperties"] == json!(false) {
            let path = [at, &["gen_undeclared".to_owned()]].concat();
            let mut case = self.case(
                "additionalProperties",
                &[],
                "no field beyond the declared ones",
            );
            let rule = self.family.rule("additionalProperties", "");
            case.line(
                text(&with(&self.base, &path, Some(json!("x")))),
                &[(rule, Some(pointer(&path)))],
            );
            self.push(case, out);
        }
        for (field, dependents) in object["dependentRequired"]
            .as_object()
            .into_iter()
            .flatten()
        {
            for dependent in dependents.as_array().unwrap() {
                let dependent = dependent.as_str().unwrap();
                let field_path = [at, std::slice::from_ref(field)].concat();
                let path = [at, &[dependent.to_owned()]].concat();
                let mut case = self.case(
                    "dependentRequired",
                    &[field.clone(), dependent.to_owned()],
                    &format!("`{field}` requires `{dependent}`"),
                );
                let present = valid_value(&object["properties"][field]);
                let line = with(&with(&self.base, &field_path, Some(present)), &path, None);
                let rule = self.family.rule("dependentRequired", dependent);
                case.line(text(&line), &[(rule, Some(pointer(&path)))]);
                self.push(case, out);
            }
        }
        for (field, property) in object["properties"].as_object().into_iter().flatten() {
            let path = [at, std::slice::from_ref(field)].concat();
            let companions: Vec<(String, Value)> = object["dependentRequired"][field]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| {
                    let d = d.as_str().unwrap().to_owned();
                    let value = valid_value(&object["properties"][&d]);
                    (d, value)
                })
                .collect();
            self.property(property, &path, at.len(), &companions, out);
        }
        if let Some(condition) = object.get("if") {
            self.conditional(condition, &object["then"], at, out);
        }
    }

    /// One case per constraint of a property's schema at `path` (`depth`: where the field
    /// name starts in `path`).
    fn property(
        &self,
        property: &Value,
        path: &[String],
        depth: usize,
        companions: &[(String, Value)],
        out: &mut Vec<Case>,
    ) {
        let field = &path[depth..];
        let name = field[0].as_str();
        let here = Some(pointer(path));
        // The fields this one requires (`dependentRequired`) get valid values, so only the
        // constraint under test is broken.
        let mut base = self.base.clone();
        for (companion, value) in companions {
            let companion_path =
                [&path[..path.len() - 1], std::slice::from_ref(companion)].concat();
            if slot(&mut base.clone(), &path[..path.len() - 1])
                .get(companion)
                .is_none()
            {
                base = with(&base, &companion_path, Some(value.clone()));
            }
        }
        let has_enum = property.get("enum").is_some();
        let mut breaking = |keyword: &str, what: String, values: Vec<Value>| {
            let mut case = self.case(keyword, field, &what);
            let expect: Vec<(&str, Option<String>)> = self
                .family
                .rules(keyword, name, has_enum)
                .into_iter()
                .map(|rule| (rule, here.clone()))
                .collect();
            for value in values {
                case.line(text(&with(&base, path, Some(value))), &expect);
            }
            self.push(case, out);
        };
        if let Some(schema_type) = property.get("type") {
            let accepted = accepted_types(schema_type);
            let wrong: Vec<Value> = JSON_TYPES
                .iter()
                .filter(|t| !accepted.contains(t))
                .map(|t| value_of_type(t))
                .collect();
            breaking(
                "type",
                format!("`{}` is of type {schema_type}", field.join("/")),
                wrong,
            );
        }
        if let Some(min) = property["minLength"].as_u64() {
            let short = "x".repeat(usize::try_from(min).unwrap() - 1);
            breaking(
                "minLength",
                format!("`{}` has at least {min} character(s)", field.join("/")),
                vec![json!(short)],
            );
        }
        if let Some(min) = property.get("minimum") {
            let below = if property["type"] == "integer" {
                json!(min.as_i64().unwrap() - 1)
            } else {
                json!(min.as_f64().unwrap() - 0.5)
            };
            breaking(
                "minimum",
                format!("`{}` is at least {min}", field.join("/")),
                vec![below],
            );
        }
        if let Some(max) = property.get("maximum") {
            breaking(
                "maximum",
                format!("`{}` is at most {max}", field.join("/")),
                vec![json!(max.as_u64().unwrap() + 1)],
            );
        }
        if let Some(allowed) = property.get("enum") {
            breaking(
                "enum",
                format!("`{}` is one of {allowed}", field.join("/")),
                vec![json!("gen_not_allowed")],
            );
        }
        if let Some(pattern) = property.get("pattern") {
            breaking(
                "pattern",
                format!("`{}` matches {pattern}", field.join("/")),
                vec![json!("sha256:0"), json!("gen")],
            );
        }
        if property.get("format").is_some() {
            let values = [
                "2026-02-24T23:03:15",
                "2026-02-24T23:03:15.5",
                "2026-02-24 23:03:15Z",
                "2026-02-30T23:03:15Z",
                "2026-02-24T24:03:15Z",
                "2026-02-24T23:03:15+0100",
                "1771974195",
            ];
            breaking(
                "format",
                format!(
                    "`{}` is an RFC 3339 date-time with an offset",
                    field.join("/")
                ),
                values.iter().map(|v| json!(v)).collect(),
            );
        }
        if property["uniqueItems"] == json!(true) {
            let item = valid_value(&property["items"]);
            breaking(
                "uniqueItems",
                format!("`{}` holds each item once", field.join("/")),
                vec![json!([item.clone(), item])],
            );
        }
        if let Some(items) = property.get("items") {
            let with_item = with(&base, path, Some(json!([valid_value(items)])));
            let items_schema = Schema {
                base: with_item,
                prefix: self.prefix.clone(),
                file: self.file.clone(),
                family: self.family,
                options: self.options,
            };
            let item_path = [path, &["0".to_owned()]].concat();
            items_schema.property(items, &item_path, depth, &[], out);
        }
    }

    /// The ledger's `if`/`then`: a line meeting the condition, with a value the property
    /// itself accepts (a string) where `then` asks for another type.
    fn conditional(&self, condition: &Value, then: &Value, at: &[String], out: &mut Vec<Case>) {
        let mut line = self.base.clone();
        let mut when = Vec::new();
        for (field, cond) in condition["properties"].as_object().unwrap() {
            line = with(
                &line,
                &[at, std::slice::from_ref(field)].concat(),
                Some(cond["const"].clone()),
            );
            when.push(format!("{field} {}", cond["const"]));
        }
        for (field, rule_schema) in then["properties"].as_object().unwrap() {
            let path = [at, std::slice::from_ref(field)].concat();
            let mut case = self.case(
                "then",
                std::slice::from_ref(field),
                &format!(
                    "when {}, `{field}` is of type {}",
                    when.join(", "),
                    rule_schema["type"]
                ),
            );
            let rule = self.family.rule("then", field);
            let value = Some(json!("TimeoutError"));
            case.line(
                text(&with(&line, &path, value)),
                &[(rule, Some(pointer(&path)))],
            );
            self.push(case, out);
        }
    }
}

/// A value `schema` accepts: its first example, else one made from its keywords.
fn valid_value(schema: &Value) -> Value {
    if let Some(example) = schema["examples"].get(0) {
        return example.clone();
    }
    if let Some(first) = schema["enum"].get(0) {
        return first.clone();
    }
    let kind = match &schema["type"] {
        Value::Array(ts) => ts[0].as_str().unwrap().to_owned(),
        t => t.as_str().unwrap_or("string").to_owned(),
    };
    match kind.as_str() {
        "string" => json!("gen"),
        "integer" | "number" => json!(schema["minimum"].as_i64().unwrap_or(0).max(1)),
        other => value_of_type(other),
    }
}

/// The envelope's valid line for `event_type` with `data`: the envelope's first example
/// with an optional `plugin` and `tags` present, so their constraints can be broken too.
fn envelope_line(envelope: &Value, event_type: &str, data: &Value) -> Value {
    let mut line = envelope["examples"][0].clone();
    let map = line.as_object_mut().unwrap();
    map.insert("event_type".into(), json!(event_type));
    map.entry("plugin").or_insert(json!("gen_plugin"));
    map.entry("tags").or_insert(json!(["tls"]));
    // No exchange id: a request would wait for its response (a pairing warning).
    let mut data = data.clone();
    data.as_object_mut().unwrap().shift_remove("exchange_id");
    map.insert("data".into(), data);
    line
}

/// The data schemas an envelope selects by `event_type`: `(type, schema file)`.
fn data_schemas(envelope: &Value) -> Vec<(String, String)> {
    envelope["allOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|branch| {
            let event_type = branch["if"]["properties"]["event_type"]["const"]
                .as_str()
                .unwrap();
            let file = branch["then"]["properties"]["data"]["$ref"]
                .as_str()
                .unwrap();
            (event_type.to_owned(), file.to_owned())
        })
        .collect()
}

fn schema_cases(out: &mut Vec<Case>) {
    for profile in ["v0", "v1"] {
        let options = json!({"profile": profile});
        let envelope = load(&format!("{profile}/envelope.json"));
        let schemas = data_schemas(&envelope);
        let (first_type, first_file) = &schemas[0];
        let first_data = load(&format!("{profile}/{first_file}"))["examples"][0].clone();
        Schema {
            prefix: format!("schema_{profile}_envelope"),
            file: format!("schema/{profile}/envelope.json"),
            family: Family::Envelope,
            options: &options,
            base: envelope_line(&envelope, first_type, &first_data),
        }
        .object(&envelope, &[], out);
        for (event_type, file) in &schemas {
            let data = load(&format!("{profile}/{file}"));
            Schema {
                prefix: format!("schema_{profile}_{event_type}"),
                file: format!("schema/{profile}/{file}"),
                family: Family::Data,
                options: &options,
                base: envelope_line(&envelope, event_type, &data["examples"][0]),
            }
            .object(&data, &["data".to_owned()], out);
        }
    }
    let ledger = load("ledger/v1/tool_call.schema.json");
    let options = json!({"profile": "ledger"});
    Schema {
        prefix: "schema_ledger_tool_call".into(),
        file: "schema/ledger/v1/tool_call.schema.json".into(),
        family: Family::Ledger,
        options: &options,
        base: ledger["examples"][0].clone(),
    }
    .object(&ledger, &[], out);
}

/// A valid v0 line whose `summary` is `summary`.
fn v0_line(summary: &str) -> Value {
    let envelope = load("v0/envelope.json");
    let mut line = envelope["examples"][1].clone();
    line["summary"] = json!(summary);
    line
}

fn line_cases(out: &mut Vec<Case>) {
    let options = json!({"profile": "v0"});
    let valid = text(&v0_line("a valid line"));
    let mut garbage = Case::new(
        "gen_line_trailing_garbage".into(),
        "a line is exactly one JSON object: anything after it (a word, a second object, a comma) is json.syntax, with no pointer".into(),
        options.clone(),
    );
    garbage.line(valid.clone(), &[]);
    for tail in [" x", "{}", &valid, ",", " ]"] {
        garbage.line(format!("{valid}{tail}"), &[("json.syntax", None)]);
    }
    out.push(garbage);
    let mut blank = Case::new(
        "gen_line_whitespace_only".into(),
        "a line of spaces or tabs is blank: line.blank, not skipped and not json.syntax".into(),
        options,
    );
    blank.line(valid.clone(), &[]);
    for spaces in [" ", "   ", "\t", " \t "] {
        blank.line(spaces.to_owned(), &[("line.blank", None)]);
    }
    blank.line(valid, &[]);
    out.push(blank);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn utf16(value: &str, big_endian: bool) -> Vec<u8> {
    value
        .encode_utf16()
        .flat_map(|u| {
            if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            }
        })
        .collect()
}

/// Every encoding of the secret value the reference's scanner finds, as the text written in
/// a JSON line's string (so JSON escapes are written as escapes): `(name, text)`.
fn secret_encodings() -> Vec<(&'static str, String)> {
    let value = SECRET_VALUE;
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let json_escaped: String = value
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let utf16_json = |big_endian: bool| -> String {
        value
            .chars()
            .map(|c| {
                if big_endian {
                    format!("\\u0000{c}")
                } else {
                    format!("{c}\\u0000")
                }
            })
            .collect()
    };
    let wrapped = b64.encode(format!("user:{value}:{value}"));
    let wrapped = wrapped
        .as_bytes()
        .chunks(16)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\\n");
    vec![
        ("raw", value.to_owned()),
        ("hex", hex(value.as_bytes())),
        ("hex_upper", hex(value.as_bytes()).to_uppercase()),
        (
            "hex_separated",
            value
                .bytes()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
        ),
        (
            "hex_escaped",
            value.bytes().map(|b| format!("\\\\x{b:02x}")).collect(),
        ),
        ("base64", b64.encode(value)),
        ("base64_offset_1", b64.encode(format!("u:{value}"))),
        ("base64_offset_2", b64.encode(format!("us:{value}"))),
        ("base64url", b64url.encode(value)),
        ("base64_wrapped", wrapped),
        (
            "percent_encoded",
            value.bytes().map(|b| format!("%{b:02X}")).collect(),
        ),
        ("json_escaped", json_escaped.clone()),
        ("json_nested", json_escaped.replace('\\', "\\\\")),
        (
            "html_entities",
            value.chars().map(|c| format!("&#{};", c as u32)).collect(),
        ),
        ("utf16le", utf16_json(false)),
        ("utf16be", utf16_json(true)),
        ("utf16le_hex", hex(&utf16(value, false))),
        ("utf16be_base64", b64.encode(utf16(value, true))),
    ]
}

fn secret_options() -> Value {
    json!({"profile": "v0", "secrets": {SECRET_NAME: SECRET_VALUE}})
}

/// A valid line with `encoded` written raw into its summary's JSON text.
fn line_with_summary_text(encoded: &str) -> String {
    text(&v0_line("token: @@HERE@@ end")).replace("@@HERE@@", encoded)
}

fn secret_cases(out: &mut Vec<Case>) {
    for (encoding, encoded) in secret_encodings() {
        let mut case = Case::new(
            format!("gen_secret_encoding_{encoding}"),
            format!("a supplied secret written {encoding} in a field: secret.value, once per line"),
            secret_options(),
        );
        case.line(text(&v0_line("clean")), &[]);
        let summary = Some("/summary".to_owned());
        case.line(
            line_with_summary_text(&encoded),
            &[("secret.value", summary)],
        );
        out.push(case);
    }
    let found = format!("found {SECRET_VALUE} here");
    let fields: [(&str, &[&str], Value); 7] = [
        ("summary", &["summary"], json!(found)),
        ("run_id", &["run_id"], json!(found)),
        ("agent_system", &["agent_system"], json!(found)),
        ("plugin", &["plugin"], json!(found)),
        ("tags", &["tags", "0"], json!(found)),
        ("data_value", &["data", "host"], json!(found)),
        ("data_key", &["data", SECRET_VALUE], json!("x")),
    ];
    for (field, path, value) in fields {
        let mut case = Case::new(
            format!("gen_secret_in_{field}"),
            format!(
                "a supplied secret in `{}` (only there): secret.value, whichever field holds it",
                path.join("/")
            ),
            secret_options(),
        );
        let mut line = v0_line("clean");
        line["plugin"] = json!("secret_injector");
        let path: Vec<String> = path.iter().map(|p| (*p).to_owned()).collect();
        // The pointer names the value holding the secret; a key is held by its object.
        let holder = if field == "data_key" {
            &path[..1]
        } else {
            &path[..]
        };
        let expect = [("secret.value", Some(pointer(holder)))];
        case.line(text(&with(&line, &path, Some(value))), &expect);
        out.push(case);
    }
    let mut case = Case::new(
        "gen_secret_case_sensitive".into(),
        "a supplied secret is matched case-sensitively: the value in another case (upper, lower, swapped) is not a finding".into(),
        secret_options(),
    );
    let swapped: String = SECRET_VALUE
        .chars()
        .map(|c| {
            if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect();
    for variant in [
        SECRET_VALUE.to_uppercase(),
        SECRET_VALUE.to_lowercase(),
        swapped,
    ] {
        case.line(text(&v0_line(&format!("token {variant} end"))), &[]);
    }
    out.push(case);
}

/// Every generated case, sorted by name.
fn generate() -> Vec<Case> {
    let mut out = Vec::new();
    schema_cases(&mut out);
    line_cases(&mut out);
    secret_cases(&mut out);
    out.sort_by(|a, b| a.name.cmp(&b.name));
    for pair in out.windows(2) {
        assert_ne!(
            pair[0].name, pair[1].name,
            "two generated cases share a name"
        );
    }
    out
}

fn is_generated(name: &str) -> bool {
    name.starts_with("schema_") || name.starts_with("gen_")
}

/// What the reference validator reports for `case`, as `(line, rule, severity, pointer)`.
fn reference_findings(case: &Case) -> Vec<(u64, String, String, Option<String>)> {
    let options: agentlog_conformance::validator::CaseOptions =
        serde_json::from_value(case.options.clone()).unwrap();
    let validator = Validator::new(options.to_validate_options()).unwrap();
    let report = validator.validate_reader("log.jsonl", case.log().as_bytes());
    assert_eq!(
        report.lines,
        case.lines.len() as u64,
        "{}: line count",
        case.name
    );
    let mut findings: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.line,
                f.rule.id().to_owned(),
                f.severity.to_string(),
                f.pointer.clone(),
            )
        })
        .collect();
    findings.sort();
    findings
}

#[test]
fn generated_cases_agree_with_the_reference_and_are_committed() {
    let cases = generate();
    let mut disagreements = Vec::new();
    for case in &cases {
        let mut expected: Vec<_> = case
            .expect
            .iter()
            .map(|e| {
                (
                    e.line,
                    e.rule.clone(),
                    "error".to_owned(),
                    e.pointer.clone(),
                )
            })
            .collect();
        expected.sort();
        let reported = reference_findings(case);
        if reported != expected {
            disagreements.push(format!(
                "validate/{}: the generator expects {expected:?}, the reference reports {reported:?}",
                case.name
            ));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} case(s) disagree:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );

    let dir = logs_dir();
    let mut want: BTreeMap<String, String> = BTreeMap::new();
    for case in &cases {
        want.insert(format!("{}.jsonl", case.name), case.log());
        want.insert(format!("{}.json", case.name), case.verdict());
    }
    let have: BTreeMap<String, String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| is_generated(name))
        .map(|name| {
            let text = std::fs::read_to_string(dir.join(&name)).unwrap();
            (name, text)
        })
        .collect();
    if std::env::var_os("AGENTLOG_REGENERATE").is_some() {
        for stale in have.keys().filter(|name| !want.contains_key(*name)) {
            std::fs::remove_file(dir.join(stale)).unwrap();
        }
        for (name, text) in want
            .iter()
            .filter(|(name, text)| have.get(*name) != Some(text))
        {
            std::fs::write(dir.join(name), text).unwrap();
        }
        return;
    }
    let differing: Vec<&String> = want
        .keys()
        .chain(have.keys())
        .filter(|name| want.get(*name) != have.get(*name))
        .collect();
    assert!(
        differing.is_empty(),
        "generated cases differ from the committed files (AGENTLOG_REGENERATE=1 rewrites them): {differing:?}"
    );
}

/// Every schema file, as `(name prefix of its cases, path relative to the schema root)`.
fn schema_files() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let root = schema_dir();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let relative = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let profile = relative.split('/').next().unwrap().to_owned();
                let stem = path.file_name().unwrap().to_string_lossy();
                let stem = stem.trim_end_matches(".json").trim_end_matches(".schema");
                out.push((format!("schema_{profile}_{stem}"), relative));
            }
        }
    }
    out.sort();
    out
}

/// The case names a schema node's constraints need, walked from the JSON alone: a
/// keyword this walk does not know fails, so a constraint added to a schema cannot go
/// without a case.
fn needed_cases(node: &Value, prefix: &str, field: &[String], at: &str, out: &mut Vec<String>) {
    let name = |keyword: &str, parts: &[String]| {
        let mut name = format!("{prefix}_{}", keyword.to_lowercase());
        for part in parts {
            name.push('_');
            name.push_str(part);
        }
        name
    };
    for (keyword, value) in node.as_object().unwrap() {
        match keyword.as_str() {
            "$schema" | "$id" | "title" | "description" | "examples" | "deprecated" => {}
            "properties" => {
                for (property, schema) in value.as_object().unwrap() {
                    let path = [field, std::slice::from_ref(property)].concat();
                    needed_cases(
                        schema,
                        prefix,
                        &path,
                        &format!("{at}/properties/{property}"),
                        out,
                    );
                }
            }
            "items" => {
                let path = [field, &["items".to_owned()]].concat();
                needed_cases(value, prefix, &path, &format!("{at}/items"), out);
            }
            "required" => {
                for required in value.as_array().unwrap() {
                    let path = [field, &[required.as_str().unwrap().to_owned()]].concat();
                    out.push(name("required", &path));
                }
            }
            // A line that is not an object at all: the hand-written `json_not_object`.
            "type" if field.is_empty() => out.push("json_not_object".into()),
            "type" | "minLength" | "minimum" | "maximum" | "enum" | "pattern" | "format"
            | "uniqueItems" => out.push(name(keyword, field)),
            "additionalProperties" if value == &json!(true) => {}
            "additionalProperties" => out.push(name(keyword, field)),
            "dependentRequired" => {
                for (present, dependents) in value.as_object().unwrap() {
                    for dependent in dependents.as_array().unwrap() {
                        let parts = [present.clone(), dependent.as_str().unwrap().to_owned()];
                        out.push(name(keyword, &[field, &parts].concat()));
                    }
                }
            }
            // The envelope selecting a data schema by event_type: the data schema's own
            // cases cover it, as long as the branch is only that.
            "allOf" => {
                for branch in value.as_array().unwrap() {
                    let selects = branch["then"]["properties"]["data"]["$ref"].is_string()
                        && branch["if"]["properties"]["event_type"]["const"].is_string();
                    assert!(
                        selects,
                        "{prefix} {at}/allOf: a branch that is not a data selector"
                    );
                }
            }
            "if" => {
                for property in node["then"]["properties"].as_object().unwrap().keys() {
                    out.push(name(
                        "then",
                        &[field, std::slice::from_ref(property)].concat(),
                    ));
                }
            }
            "then" => assert!(node.get("if").is_some(), "{prefix} {at}: then without if"),
            other => panic!("{prefix} {at}: the generator knows no keyword {other:?}"),
        }
    }
}

#[test]
fn every_schema_constraint_has_a_case() {
    let have: std::collections::BTreeSet<String> = std::fs::read_dir(logs_dir())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".jsonl").map(str::to_owned)
        })
        .collect();
    let mut missing = Vec::new();
    let mut constraints = 0;
    for (prefix, file) in schema_files() {
        let mut needed = Vec::new();
        needed_cases(&load(&file), &prefix, &[], "", &mut needed);
        constraints += needed.len();
        missing.extend(
            needed
                .into_iter()
                .filter(|n| !have.contains(n))
                .map(|n| format!("{file}: {n}")),
        );
    }
    assert!(
        constraints > 250,
        "the walk found only {constraints} constraints"
    );
    assert!(
        missing.is_empty(),
        "schema constraints without a case:\n{}",
        missing.join("\n")
    );
}

/// A case file that does not parse fails the kit's own test naming the file (and with it
/// the case id), as a generated case that disagrees with the reference names its id.
#[test]
fn a_broken_case_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("broken_case.jsonl"), "{}\n").unwrap();
    std::fs::write(dir.path().join("broken_case.json"), "{\"lines\": 1,").unwrap();
    let error = agentlog_conformance::validator::load_dir(dir.path())
        .unwrap_err()
        .to_string();
    assert!(error.contains("broken_case.json"), "{error}");
}
