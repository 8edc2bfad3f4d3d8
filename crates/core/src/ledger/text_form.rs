//! The walk both canonical texts share: a JSON value written depth first, members of an
//! object in a sorted order. What differs between RFC 8785 (JCS) and Python's
//! `json.dumps(sort_keys=True)` is a [`TextForm`]: the separators, how keys sort, and how
//! numbers and strings are written.

use std::cmp::Ordering;

use serde_json::{Number, Value};

/// One way of writing JSON text.
pub(super) trait TextForm {
    /// Between two array items or object members (`,` or `, `).
    const ITEM_SEPARATOR: &'static str;
    /// Between a key and its value (`:` or `: `).
    const KEY_SEPARATOR: &'static str;
    /// The order of an object's keys.
    fn key_order(a: &str, b: &str) -> Ordering;
    /// Appends a number.
    fn number(n: &Number, out: &mut String);
    /// Appends a string, quoted and escaped.
    fn string(s: &str, out: &mut String);
}

/// Appends `value` to `out` in form `F`.
pub(super) fn write<F: TextForm>(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => F::number(n, out),
        Value::String(s) => F::string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(F::ITEM_SEPARATOR);
                }
                write::<F>(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|(a, _), (b, _)| F::key_order(a, b));
            out.push('{');
            for (i, (key, value)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(F::ITEM_SEPARATOR);
                }
                F::string(key, out);
                out.push_str(F::KEY_SEPARATOR);
                write::<F>(value, out);
            }
            out.push('}');
        }
    }
}
