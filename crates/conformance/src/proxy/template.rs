//! The command template a port is launched with.
//!
//! A template is a shell command line with `{placeholder}` slots, for example
//! `python3 -m myproxy --listen {listen} --log {log} {secrets}`. [`Template::parse`] checks
//! that every `{name}` made of lowercase letters and `_` is one of [`PLACEHOLDERS`] (a typo
//! is a usage error before anything runs); any other brace, such as a shell's `${HOME}`, is
//! left alone. [`Template::expand`] replaces each slot by its value as POSIX-shell-quoted
//! words: a one-word placeholder becomes one word whatever its value holds, a several-word
//! one (`{secrets}`, `{scenario_flags}`, `{connect_to_flags}`) several words, none when
//! empty.

use std::collections::BTreeMap;

/// Every placeholder a template may use, with what it expands to (for `--help` and errors).
pub const PLACEHOLDERS: [(&str, &str); 14] = [
    (
        "listen",
        "127.0.0.1:PORT the port must listen on as an HTTP proxy",
    ),
    (
        "log",
        "path of the JSON Lines event log to write (does not exist yet)",
    ),
    (
        "ca_cert",
        "PEM CA certificate to mint leaf certificates with",
    ),
    ("ca_key", "PKCS#8 PEM private key of that CA"),
    (
        "ca_dir",
        "directory holding the same CA as ca.pem and ca-key.pem",
    ),
    (
        "leaf_cert",
        "a ready leaf certificate (PEM) signed by that CA, covering every scenario host",
    ),
    ("leaf_key", "the leaf's PKCS#8 PEM private key"),
    (
        "upstream_ca",
        "PEM of the CA that signs the mock upstream's certificate",
    ),
    (
        "connect_to",
        "HOST:PORT=ADDR:PORT,... where to dial instead of HOST:PORT",
    ),
    (
        "connect_to_flags",
        "the same as words: --connect-to HOST:PORT=ADDR:PORT per entry",
    ),
    (
        "secrets",
        "words: --secret NAME=VALUE@HOSTS --placeholder NAME=PLACEHOLDER per secret",
    ),
    (
        "scenario_flags",
        "words: --profile, --llm-host, --allow-host, --route, --budget-usd as set",
    ),
    (
        "scenario",
        "path of the scenario JSON (${ROUTE_TARGET} expanded)",
    ),
    (
        "scenario_id",
        "the scenario's id, e.g. proxy/inject_and_skip",
    ),
];

/// A command template that names a placeholder the interceptor harness does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A `{name}` that is not one of [`PLACEHOLDERS`] (a typo, most likely).
    #[error(
        "unknown placeholder {{{name}}} in the command template; known: {}",
        known()
    )]
    UnknownPlaceholder {
        /// The name, without its braces.
        name: String,
    },
}

/// One piece of a parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Slot(&'static str),
}

/// A parsed command template: a shell command line with `{placeholder}` slots, each one of
/// [`PLACEHOLDERS`], for example `python3 -m myproxy --listen {listen} --log {log}
/// {secrets}`. The harness replaces each slot by its values as POSIX-shell-quoted words (a
/// one-word placeholder stays one word whatever its value holds) and runs the line with
/// `sh -c`.
///
/// ```
/// use agentlog_conformance::proxy::Template;
///
/// let template = Template::parse("python3 -m myproxy --listen {listen} ${HOME}").unwrap();
/// assert_eq!(template.as_str(), "python3 -m myproxy --listen {listen} ${HOME}");
/// let typo = Template::parse("myproxy --listen {lisen}").unwrap_err();
/// assert!(typo.to_string().starts_with("unknown placeholder {lisen}"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    text: String,
    pieces: Vec<Piece>,
}

/// The values of one run: each placeholder's words.
pub(crate) type Values = BTreeMap<&'static str, Vec<String>>;

impl Template {
    /// Parses `text`; an unknown `{name}` is an error listing the known ones.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            literal.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let name_len = after
                .bytes()
                .take_while(|b| b.is_ascii_lowercase() || *b == b'_')
                .count();
            if name_len > 0 && after[name_len..].starts_with('}') {
                let name = &after[..name_len];
                let known = PLACEHOLDERS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .ok_or_else(|| TemplateError::UnknownPlaceholder {
                        name: name.to_owned(),
                    })?;
                pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                pieces.push(Piece::Slot(known.0));
                rest = &after[name_len + 1..];
            } else {
                literal.push('{');
                rest = after;
            }
        }
        literal.push_str(rest);
        pieces.push(Piece::Literal(literal));
        pieces.retain(|p| *p != Piece::Literal(String::new()));
        Ok(Template {
            text: text.to_owned(),
            pieces,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The command line: every slot replaced by its quoted words (a slot without a value
    /// expands to nothing).
    pub(crate) fn expand(&self, values: &Values) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Slot(name) => {
                    let words = values.get(name).map(Vec::as_slice).unwrap_or_default();
                    let quoted: Vec<String> = words.iter().map(|w| quote(w)).collect();
                    out.push_str(&quoted.join(" "));
                }
            }
        }
        out
    }
}

/// Every placeholder, in braces, space-separated: `{listen} {log} ...`.
fn known() -> String {
    let known: Vec<String> = PLACEHOLDERS
        .iter()
        .map(|(n, _)| format!("{{{n}}}"))
        .collect();
    known.join(" ")
}

/// `word` as one POSIX shell word: as it is when it holds only safe characters, else in
/// single quotes (a `'` inside written `'\''`).
pub(crate) fn quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&'static str, &[&str])]) -> Values {
        pairs
            .iter()
            .map(|(k, v)| (*k, v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn expands_quoted_words() {
        let t = Template::parse("prog --listen {listen} {secrets} --x ${HOME} {}").unwrap();
        let v = values(&[
            ("listen", &["127.0.0.1:5"]),
            ("secrets", &["--secret", "A=it's a@h"]),
        ]);
        assert_eq!(
            t.expand(&v),
            r"prog --listen 127.0.0.1:5 --secret 'A=it'\''s a@h' --x ${HOME} {}"
        );
    }

    #[test]
    fn empty_multiword_slot_expands_to_nothing_and_empty_word_to_quotes() {
        let t = Template::parse("p {secrets} {log}").unwrap();
        assert_eq!(t.expand(&values(&[("log", &[""])])), "p  ''");
    }

    #[test]
    fn unknown_placeholder_is_an_error() {
        let err = Template::parse("p {lisen}").unwrap_err().to_string();
        assert!(err.contains("{lisen}") && err.contains("{listen}"), "{err}");
    }

    #[test]
    fn quoting_round_trips_through_sh() {
        let word = "a b'c\"$d`e\\";
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {}", quote(word)))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), word);
    }
}
