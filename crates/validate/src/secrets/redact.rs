//! The one decision whether a value may be shown: the redactor behind the output gate.
//!
//! Findings are built in several places (line checks, the merger's cross-line checks, the
//! CLI's own errors), and each of them may want to quote something it read: a key, a run id, a
//! file name, a number. Rather than trusting each place to quote carefully, every message,
//! pointer, file label and summary key goes through [`Redactor`] before a reporter sees it,
//! and every byte a command prints passes it once more in [`crate::gate`].
//!
//! The decision is exactly the line check's: [`Redactor::sweep`] is what
//! `Checker::scan_secrets` runs on every line (the scanner of supplied secrets with its
//! decoders, and the built-in [`Detector`] over the text and over the same decoded views), so
//! a value the validator would report anywhere is withheld everywhere. A number is judged by
//! its decimal text, like any other value.

use std::borrow::Cow;

use serde_json::Value;

use super::decode::{decoded_views, hex_byte, hex4};
use super::detect::{Detector, Kind};
use super::scan::{SecretHit, SecretScanner};

/// What stands in for withheld text.
pub const WITHHELD: &str = "[redacted]";

/// Withholds text that carries a secret (supplied or a well-known format) in any encoding.
#[derive(Clone, Debug)]
pub struct Redactor {
    scanner: SecretScanner,
    detector: Option<Detector>,
}

impl Redactor {
    /// A redactor for the secrets of `scanner` and, when given, the formats of `detector`.
    pub fn new(scanner: SecretScanner, detector: Option<Detector>) -> Self {
        Redactor { scanner, detector }
    }

    /// A redactor that withholds nothing (no secrets, no detector).
    pub fn none() -> Self {
        Redactor {
            scanner: SecretScanner::empty(),
            detector: None,
        }
    }

    /// The scanner of supplied secrets.
    pub fn scanner(&self) -> &SecretScanner {
        &self.scanner
    }

    /// The built-in detector, when on.
    pub fn detector(&self) -> Option<&Detector> {
        self.detector.as_ref()
    }

    /// Appends to `hits` every supplied secret `text` carries, in any encoding the scanner
    /// decodes, and to `kinds` every well-known credential format, found in `text` or in one
    /// of its decoded views. This is the line check itself; the gate asks the same question.
    pub fn sweep(&self, text: &[u8], hits: &mut Vec<SecretHit>, kinds: &mut Vec<Kind>) {
        self.scanner.find(text, hits);
        self.detect(text, kinds);
    }

    /// The detector's half of [`sweep`](Self::sweep).
    fn detect(&self, text: &[u8], kinds: &mut Vec<Kind>) {
        let Some(detector) = &self.detector else {
            return;
        };
        detector.find(text, kinds);
        // The detector reads the decoded views too (a key written `sk\u002dproj...`), but
        // only when an escape there stands for a byte a credential is made of: the
        // `\u003e` of every Go log line or a `%20` cannot hide a prefix or a body.
        if escapes_credential_byte(text) {
            for (_, view) in decoded_views(text) {
                detector.find(&view, kinds);
            }
        }
    }

    /// Whether `text` carries a supplied secret in any encoding the scanner knows, or a
    /// well-known credential format, in the text or in a decoded view of it
    /// ([`sweep`](Self::sweep) finds something).
    pub fn leaks(&self, text: &str) -> bool {
        self.leaks_bytes(text.as_bytes())
    }

    /// [`leaks`](Self::leaks) for bytes that need not be UTF-8.
    pub fn leaks_bytes(&self, text: &[u8]) -> bool {
        if self.scanner.is_match(text) {
            return true;
        }
        let mut kinds = Vec::new();
        self.detect(text, &mut kinds);
        !kinds.is_empty()
    }

    /// Whether the decimal text of a number carries a secret (a card number, a PIN).
    pub fn leaks_number(&self, number: &serde_json::Number) -> bool {
        self.leaks(&number.to_string())
    }

    /// Withholds, in place, every string, number and object key of `value` that carries a
    /// secret: each becomes the string [`WITHHELD`] (keys that become the same get a ` #N`
    /// suffix, so no entry is lost). Returns how many were withheld. The document stays
    /// well-formed JSON whatever it held.
    pub fn redact_json(&self, value: &mut Value) -> usize {
        match value {
            Value::String(s) if self.leaks(s) => {
                WITHHELD.clone_into(s);
                1
            }
            Value::Number(n) if self.leaks_number(n) => {
                *value = Value::String(WITHHELD.to_owned());
                1
            }
            Value::Array(items) => items.iter_mut().map(|v| self.redact_json(v)).sum(),
            Value::Object(map) => {
                let mut withheld = 0;
                if map.keys().any(|k| self.leaks(k)) {
                    let entries = std::mem::take(map);
                    for (key, item) in entries {
                        let key = if self.leaks(&key) {
                            withheld += 1;
                            unused_key(map, WITHHELD)
                        } else {
                            key
                        };
                        map.insert(key, item);
                    }
                }
                withheld + map.values_mut().map(|v| self.redact_json(v)).sum::<usize>()
            }
            _ => 0,
        }
    }

    /// `text` itself when it carries no secret, else [`WITHHELD`].
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.leaks(text) {
            Cow::Borrowed(WITHHELD)
        } else {
            Cow::Borrowed(text)
        }
    }

    /// `text` for quoting inside a message: short plain text (letters, digits, `_-.:`) that
    /// carries no secret is shown in backquotes, anything else as `(not shown)`.
    pub fn quote(&self, text: &str) -> String {
        if plain(text) && !self.leaks(text) {
            format!("`{text}`")
        } else {
            "(not shown)".to_owned()
        }
    }

    /// A JSON pointer cut back to the parent of its first token that carries a secret (tokens
    /// are unescaped, `~1` to `/` and `~0` to `~`, before they are checked). The whole
    /// pointer is checked too, so a secret split across tokens is caught.
    pub fn pointer(&self, pointer: &str) -> String {
        let mut kept = String::new();
        for token in pointer.split('/').skip(1) {
            let unescaped = token.replace("~1", "/").replace("~0", "~");
            if self.leaks(&unescaped) || self.leaks(token) {
                return kept;
            }
            kept.push('/');
            kept.push_str(token);
        }
        let unescaped = pointer.replace("~1", "/").replace("~0", "~");
        if self.leaks(&unescaped) || self.leaks(pointer) {
            return String::new();
        }
        kept
    }
}

/// `base`, or `base #2`, `base #3`, ...: the first that `map` does not hold yet.
fn unused_key(map: &serde_json::Map<String, Value>, base: &str) -> String {
    if !map.contains_key(base) {
        return base.to_owned();
    }
    (2..)
        .map(|n| format!("{base} #{n}"))
        .find(|k| !map.contains_key(k))
        .unwrap_or_else(|| base.to_owned())
}

/// Whether `text` holds an escape (`\uXXXX`, `\xHH`, `%XX`, `&#N;`, `&#xH;`, a named
/// reference) that decodes to a byte credentials are made of: a letter, a digit, `-` or `_`.
fn escapes_credential_byte(text: &[u8]) -> bool {
    let credential =
        |b: u32| u8::try_from(b).is_ok_and(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let mut at = 0;
    while let Some(i) = text
        .get(at..)
        .and_then(|t| memchr::memchr3(b'\\', b'%', b'&', t))
    {
        let i = at + i;
        let rest = text.get(i + 1..).unwrap_or_default();
        let decoded = match (text.get(i), rest.first()) {
            (Some(b'\\'), Some(b'u')) => hex4(rest, 1),
            (Some(b'\\'), Some(b'x')) => hex_byte(rest, 1).map(u32::from),
            (Some(b'%'), Some(_)) => hex_byte(rest, 0).map(u32::from),
            // Named and numeric references are rare in logs: any of them counts.
            (Some(b'&'), Some(c)) if c.is_ascii_alphanumeric() || *c == b'#' => return true,
            _ => None,
        };
        if decoded.is_some_and(credential) {
            return true;
        }
        at = i + 1;
    }
    false
}

/// Short text of plain characters only: safe to quote as far as shape goes.
pub fn plain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}
