//! `${NAME}` in a scenario: what the harness handed the port.
//!
//! A scenario never writes a placeholder or the route target's address itself: `${NAME}`
//! stands for the placeholder of secret NAME (in request URLs, headers, bodies and expected
//! events) and `${ROUTE_TARGET}` for the `ADDR:PORT` of the plain-HTTP route target (in
//! `routes` and expected events). The [`Expander`] holds those values for one run.

use serde_json::Value;

/// The `${NAME}` values of one scenario run.
#[derive(Clone, Debug, Default)]
pub(crate) struct Expander {
    vars: Vec<(String, String)>,
}

impl Expander {
    /// An expander with `vars`, `(NAME, value)`.
    pub(crate) fn new(vars: Vec<(String, String)>) -> Expander {
        Expander { vars }
    }

    /// `text` with every `${NAME}` replaced; unknown names stay as they are.
    pub(crate) fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (name, value) in &self.vars {
            out = out.replace(&format!("${{{name}}}"), value);
        }
        out
    }

    /// `value` with every string in it (keys stay) expanded by [`Expander::text`].
    pub(crate) fn value(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.text(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.value(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_inside_strings_only() {
        let e = Expander::new(vec![
            ("K".into(), "P".into()),
            ("ROUTE_TARGET".into(), "127.0.0.1:9".into()),
        ]);
        assert_eq!(e.text("Bearer ${K} ${X}"), "Bearer P ${X}");
        let v = e.value(&serde_json::json!({"${K}": ["${ROUTE_TARGET}", 1]}));
        assert_eq!(v, serde_json::json!({"${K}": ["127.0.0.1:9", 1]}));
    }
}
