//! Attributes: OTLP key-values built from names and JSON values.

use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue, any_value::Value};
use serde_json::Value as Json;

/// A string value.
pub(crate) fn string(value: impl Into<String>) -> AnyValue {
    AnyValue {
        value: Some(Value::StringValue(value.into())),
    }
}

/// `key` = `value`.
pub(crate) fn kv(key: &str, value: AnyValue) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(value),
        ..KeyValue::default()
    }
}

/// `key` = the string `value`.
pub(crate) fn kv_str(key: &str, value: &str) -> KeyValue {
    kv(key, string(value))
}

/// `key` = the integer `value`.
pub(crate) fn kv_int(key: &str, value: i64) -> KeyValue {
    kv(
        key,
        AnyValue {
            value: Some(Value::IntValue(value)),
        },
    )
}

/// The OTLP value of a JSON scalar or array of scalars: strings, integers (64-bit signed;
/// larger ones as doubles), doubles and booleans keep their type; `null` is no value; an
/// object, or an array holding one, becomes its JSON text.
pub(crate) fn of_json(value: &Json) -> Option<AnyValue> {
    let value = match value {
        Json::Null => return None,
        Json::Bool(b) => Value::BoolValue(*b),
        // An integer past i64 goes as its digits (what was judged), not as a double a
        // viewer would print with other digits.
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::IntValue(i),
            None if n.is_u64() => Value::StringValue(n.to_string()),
            None => Value::DoubleValue(n.as_f64()?),
        },
        Json::String(s) => Value::StringValue(s.clone()),
        Json::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            Value::ArrayValue(ArrayValue {
                values: items.iter().filter_map(of_json).collect(),
            })
        }
        other => Value::StringValue(other.to_string()),
    };
    Some(AnyValue { value: Some(value) })
}

/// The JSON text of an array of scalars, as a viewer shows it (`[90,113,"a"]`).
pub(crate) fn array_text(array: &ArrayValue) -> String {
    let items: Vec<Json> = array
        .values
        .iter()
        .map(|item| match &item.value {
            Some(Value::StringValue(s)) => Json::from(s.as_str()),
            Some(Value::IntValue(i)) => Json::from(*i),
            // A whole double as its digits: a viewer may print `65.0` as `65`.
            Some(Value::DoubleValue(d)) if d.fract() == 0.0 && d.abs() < 9.0e15 => {
                Json::from(*d as i64)
            }
            Some(Value::DoubleValue(d)) => Json::from(*d),
            Some(Value::BoolValue(b)) => Json::from(*b),
            _ => Json::Null,
        })
        .collect();
    Json::Array(items).to_string()
}

/// [`flatten`] of an object no longer needed: its strings move into the attributes.
pub(crate) fn flatten_owned(
    prefix: &str,
    object: serde_json::Map<String, Json>,
    out: &mut Vec<KeyValue>,
) {
    for (key, value) in object {
        let value = match value {
            Json::String(s) => Some(AnyValue {
                value: Some(Value::StringValue(s)),
            }),
            other => of_json(&other),
        };
        if let Some(value) = value {
            out.push(prefixed(prefix, &key, value));
        }
    }
}

/// `prefix` + `key` = `value`.
fn prefixed(prefix: &str, key: &str, value: AnyValue) -> KeyValue {
    let mut name = String::with_capacity(prefix.len() + key.len());
    name.push_str(prefix);
    name.push_str(key);
    KeyValue {
        key: name,
        value: Some(value),
        ..KeyValue::default()
    }
}

/// The strings of a JSON value run together, in order, with the object keys before their
/// values when `keys`.
pub(crate) fn joined_strings(value: &Json, keys: bool) -> String {
    fn walk(value: &Json, keys: bool, out: &mut String) {
        match value {
            Json::String(s) => out.push_str(s),
            Json::Array(items) => items.iter().for_each(|item| walk(item, keys, out)),
            Json::Object(map) => map.iter().for_each(|(key, item)| {
                if keys {
                    out.push_str(key);
                }
                walk(item, keys, out);
            }),
            _ => {}
        }
    }
    let mut out = String::new();
    walk(value, keys, &mut out);
    out
}

/// `prefix` + each field of `object` with its value, in the object's order.
pub(crate) fn flatten(
    prefix: &str,
    object: &serde_json::Map<String, Json>,
    out: &mut Vec<KeyValue>,
) {
    for (key, value) in object {
        if let Some(value) = of_json(value) {
            out.push(prefixed(prefix, key, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_values_keep_their_types() {
        let value = |j: Json| of_json(&j).and_then(|a| a.value);
        assert_eq!(value(Json::from(5)), Some(Value::IntValue(5)));
        assert_eq!(value(Json::from(0.5)), Some(Value::DoubleValue(0.5)));
        assert_eq!(value(Json::from(true)), Some(Value::BoolValue(true)));
        assert_eq!(value(Json::Null), None);
        assert_eq!(
            value(serde_json::json!({"a": 1})),
            Some(Value::StringValue(r#"{"a":1}"#.into()))
        );
        assert_eq!(
            value(Json::from(u64::MAX)),
            Some(Value::StringValue(u64::MAX.to_string()))
        );
    }
}
