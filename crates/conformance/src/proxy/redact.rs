//! Keeping the scenario's secret values out of everything the harness prints.
//!
//! The harness hands a port real secret values (`--secret NAME=VALUE@HOSTS`) and then shows
//! command lines, events, stderr tails and differences. Every such text goes through
//! [`Redactor::redact`], which replaces each value by `<secret NAME>`; and
//! [`Redactor::leaked`] names the secrets whose value a text contains, which is how the judge
//! finds a value in a port's log or output without ever printing it.

use super::scenario::SecretSpec;

/// The secret values of one scenario, by name.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<(String, String)>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.secrets.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Redactor").field("names", &names).finish()
    }
}

impl Redactor {
    /// A redactor for `secrets`.
    pub fn new(secrets: &[SecretSpec]) -> Redactor {
        let mut secrets: Vec<(String, String)> = secrets
            .iter()
            .map(|s| (s.name.clone(), s.value.clone()))
            .collect();
        // Longest first, so a value containing another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.1.len()));
        Redactor { secrets }
    }

    /// `text` with every secret value replaced by `<secret NAME>`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (name, value) in &self.secrets {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), &format!("<secret {name}>"));
            }
        }
        out
    }

    /// The names of the secrets whose value appears in `text`.
    pub fn leaked(&self, text: &str) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .secrets
            .iter()
            .filter(|(_, value)| text.contains(value.as_str()))
            .map(|(name, _)| name.as_str())
            .collect();
        names.sort_unstable();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_values_by_names() {
        let r = Redactor::new(&[SecretSpec::parse("A=sk-aaa@h").unwrap()]);
        assert_eq!(r.redact("x sk-aaa y"), "x <secret A> y");
        assert_eq!(r.leaked("..sk-aaa.."), ["A"]);
        assert!(r.leaked("nothing").is_empty());
        assert!(!format!("{r:?}").contains("sk-aaa"));
    }
}
