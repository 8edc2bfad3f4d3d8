//! Finding supplied secret values in text, in every encoding a log might carry them in.
//!
//! One Aho-Corasick automaton holds every encoded form of every secret, so a line is scanned
//! once whatever the number of secrets. The forms are:
//!
//! - raw bytes;
//! - percent-encoding (RFC 3986 unreserved characters kept, or every byte encoded; upper- and
//!   lower-case hex digits; `+` for a space as in forms);
//! - hex, lower and upper case;
//! - base64 and base64url at each of the three byte alignments. A secret inside a larger
//!   encoded blob (`Basic base64("user:" + secret)`) starts at an arbitrary byte offset, so the
//!   secret is encoded behind 0, 1 and 2 filler bytes and the output characters that depend on
//!   the filler or on whatever follows the secret are cut off. What remains appears verbatim
//!   in every base64 text containing the secret at that alignment, padded or not.
//!
//! JSON string escapes (`\/`, `\u0041`) are handled by the caller decoding the JSON strings of
//! a line that contains a backslash ([`escaped_strings`]) and scanning the decoded text too.
//! The scanner never stores or reports a value: hits name the secret and the encoding.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

use super::Secret;

/// Shortest secret value accepted: shorter values would match all over a log.
pub const MIN_SECRET_LEN: usize = 8;

/// How a secret was written where it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Encoding {
    /// The value as is.
    Raw,
    /// Inside a JSON string, written with escapes (`\/`, `\u0041`, ...).
    JsonEscaped,
    /// Standard base64 (possibly inside a larger encoded blob).
    Base64,
    /// URL-safe base64 (possibly inside a larger encoded blob).
    Base64Url,
    /// Percent-encoded.
    Percent,
    /// Lower-case hex.
    HexLower,
    /// Upper-case hex.
    HexUpper,
}

impl Encoding {
    /// A short name for messages: `raw`, `json-escaped`, `base64`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Raw => "raw",
            Encoding::JsonEscaped => "json-escaped",
            Encoding::Base64 => "base64",
            Encoding::Base64Url => "base64url",
            Encoding::Percent => "percent-encoded",
            Encoding::HexLower => "hex",
            Encoding::HexUpper => "HEX",
        }
    }
}

/// Why a scanner could not be built. Messages name secrets, never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// A value is too short to be scanned for without matching everywhere.
    #[error(
        "secret {0}: value is shorter than {MIN_SECRET_LEN} bytes and would match all over a log; refusing it"
    )]
    TooShort(String),
    /// The automaton could not be built.
    #[error("cannot build the secret matcher: {0}")]
    Build(String),
}

/// One hit: which secret, written how.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SecretHit {
    /// Index of the secret in the list the scanner was built from.
    pub secret: usize,
    /// The encoding the secret was found in.
    pub encoding: Encoding,
}

/// A multi-secret, multi-encoding matcher.
#[derive(Clone, Debug)]
pub struct SecretScanner {
    names: Vec<String>,
    automaton: Option<AhoCorasick>,
    /// For each pattern of the automaton: secret index and encoding.
    patterns: Vec<SecretHit>,
}

impl SecretScanner {
    /// Builds the matcher for `secrets`; refuses values shorter than [`MIN_SECRET_LEN`] bytes.
    pub fn new(secrets: &[Secret]) -> Result<Self, ScanError> {
        let mut texts: Vec<Vec<u8>> = Vec::new();
        let mut patterns = Vec::new();
        for (index, secret) in secrets.iter().enumerate() {
            let value = secret.expose().as_bytes();
            if value.len() < MIN_SECRET_LEN {
                return Err(ScanError::TooShort(secret.name().to_owned()));
            }
            for (encoding, form) in encoded_forms(value) {
                if form.is_empty() || texts.contains(&form) {
                    continue;
                }
                texts.push(form);
                patterns.push(SecretHit {
                    secret: index,
                    encoding,
                });
            }
        }
        let automaton = if texts.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .build(&texts)
                    .map_err(|e| ScanError::Build(e.to_string()))?,
            )
        };
        Ok(SecretScanner {
            names: secrets.iter().map(|s| s.name().to_owned()).collect(),
            automaton,
            patterns,
        })
    }

    /// A scanner for no secrets: finds nothing.
    pub fn empty() -> Self {
        SecretScanner {
            names: Vec::new(),
            automaton: None,
            patterns: Vec::new(),
        }
    }

    /// Whether no secret was supplied.
    pub fn is_empty(&self) -> bool {
        self.automaton.is_none()
    }

    /// The name of secret `index`.
    pub fn name(&self, index: usize) -> &str {
        self.names.get(index).map_or("?", String::as_str)
    }

    /// Number of automaton patterns (all encodings of all secrets).
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Appends every distinct hit in `text` to `out` (in order of appearance, deduplicated).
    pub fn find(&self, text: &[u8], out: &mut Vec<SecretHit>) {
        let Some(ac) = &self.automaton else { return };
        for m in ac.find_overlapping_iter(text) {
            if let Some(hit) = self.patterns.get(m.pattern().as_usize())
                && !out.contains(hit)
            {
                out.push(*hit);
            }
        }
    }

    /// Whether any secret occurs in `text`, in any encoding.
    pub fn is_match(&self, text: &[u8]) -> bool {
        self.automaton.as_ref().is_some_and(|ac| ac.is_match(text))
    }
}

/// Every searchable form of `value`.
fn encoded_forms(value: &[u8]) -> Vec<(Encoding, Vec<u8>)> {
    let mut forms = vec![(Encoding::Raw, value.to_vec())];
    for (upper, all) in [(true, false), (false, false), (true, true), (false, true)] {
        forms.push((Encoding::Percent, percent(value, upper, all, false)));
    }
    if value.contains(&b' ') {
        forms.push((Encoding::Percent, percent(value, true, false, true)));
    }
    forms.push((Encoding::HexLower, hex(value, false)));
    forms.push((Encoding::HexUpper, hex(value, true)));
    for (encoding, engine) in [
        (Encoding::Base64, &STANDARD_NO_PAD),
        (Encoding::Base64Url, &URL_SAFE_NO_PAD),
    ] {
        for offset in 0..3 {
            forms.push((encoding, base64_core(engine, value, offset)));
        }
    }
    forms
}

/// The base64 characters that depend only on `value` when it starts `offset` bytes into
/// a 3-byte group and unknown bytes follow it.
fn base64_core(engine: &base64::engine::GeneralPurpose, value: &[u8], offset: usize) -> Vec<u8> {
    let mut input = vec![0u8; offset];
    input.extend_from_slice(value);
    let encoded = engine.encode(&input).into_bytes();
    let skip = match offset {
        0 => 0,
        1 => 2,
        _ => 3,
    };
    let cut = if input.len().is_multiple_of(3) { 0 } else { 1 };
    let end = encoded.len().saturating_sub(cut);
    encoded
        .get(skip..end)
        .map(<[u8]>::to_vec)
        .unwrap_or_default()
}

fn hex(value: &[u8], upper: bool) -> Vec<u8> {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut out = Vec::with_capacity(value.len() * 2);
    for &b in value {
        out.push(digits[usize::from(b >> 4)]);
        out.push(digits[usize::from(b & 15)]);
    }
    out
}

fn percent(value: &[u8], upper: bool, all: bool, plus_for_space: bool) -> Vec<u8> {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut out = Vec::with_capacity(value.len() * 3);
    for &b in value {
        let unreserved = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        if plus_for_space && b == b' ' {
            out.push(b'+');
        } else if unreserved && !all {
            out.push(b);
        } else {
            out.extend_from_slice(&[
                b'%',
                digits[usize::from(b >> 4)],
                digits[usize::from(b & 15)],
            ]);
        }
    }
    out
}

/// The decoded text of every JSON string (object keys included) in `line` that contains a
/// backslash escape. Works on any bytes: a string that does not decode is skipped, and a
/// line that is not JSON is scanned as well as its quotes allow.
pub fn escaped_strings(line: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    if memchr::memchr(b'\\', line).is_none() {
        return out;
    }
    let mut i = 0;
    while let Some(open) = line.get(i..).and_then(|rest| memchr::memchr(b'"', rest)) {
        let start = i + open;
        let mut j = start + 1;
        let mut escaped = false;
        let mut has_escape = false;
        let mut end = None;
        while let Some(&b) = line.get(j) {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
                has_escape = true;
            } else if b == b'"' {
                end = Some(j);
                break;
            }
            j += 1;
        }
        let Some(end) = end else { break };
        if has_escape
            && let Some(Ok(text)) = line.get(start..=end).map(serde_json::from_slice::<String>)
        {
            out.push(text);
        }
        i = end + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::SecretValue;

    fn scanner(value: &str) -> SecretScanner {
        SecretScanner::new(&[Secret::new("K", SecretValue::new(value), vec![])]).unwrap()
    }

    #[test]
    fn refuses_short_values_by_name() {
        let err = SecretScanner::new(&[Secret::new("SHORTY", SecretValue::new("abc1234"), vec![])])
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("SHORTY") && !text.contains("abc1234"),
            "{text}"
        );
    }

    #[test]
    fn finds_each_encoding() {
        let secret = "s3cr3t/v4lue+x?";
        let s = scanner(secret);
        let blob = |prefix: &str, engine: &base64::engine::GeneralPurpose| {
            engine.encode(format!("{prefix}{secret}!trailer"))
        };
        let cases = [
            (secret.to_string(), Encoding::Raw),
            (
                hex(secret.as_bytes(), false).escape_ascii().to_string(),
                Encoding::HexLower,
            ),
            (
                hex(secret.as_bytes(), true).escape_ascii().to_string(),
                Encoding::HexUpper,
            ),
            ("s3cr3t%2Fv4lue%2Bx%3F".into(), Encoding::Percent),
            ("s3cr3t%2fv4lue%2bx%3f".into(), Encoding::Percent),
            (
                blob("", &base64::engine::general_purpose::STANDARD),
                Encoding::Base64,
            ),
            (
                blob("u:", &base64::engine::general_purpose::STANDARD),
                Encoding::Base64,
            ),
            (
                blob("us:", &base64::engine::general_purpose::URL_SAFE),
                Encoding::Base64Url,
            ),
        ];
        for (text, encoding) in cases {
            let mut hits = vec![];
            s.find(format!("Basic {text} end").as_bytes(), &mut hits);
            assert!(
                hits.iter().any(|h| h.encoding == encoding),
                "{encoding:?} not found in {text}: {hits:?}"
            );
        }
        let mut hits = vec![];
        s.find(b"nothing to see here s3cr3t/v4lue", &mut hits);
        assert!(hits.is_empty());
    }

    #[test]
    fn decodes_escaped_strings() {
        let line = br#"{"a\/b":"x\u0041y","plain":"z","t":"q\"r"}"#;
        assert_eq!(escaped_strings(line), vec!["a/b", "xAy", "q\"r"]);
        assert!(escaped_strings(br#"{"a":"b"}"#).is_empty());
        assert!(escaped_strings(b"\"unterminated \\").is_empty());
    }
}
