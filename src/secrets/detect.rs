//! The built-in detector of well-known credential formats.
//!
//! An Aho-Corasick search for the fixed prefixes (`sk-`, `AKIA`, `ghp_`, `eyJ`, ...) finds
//! candidates; a hand-written check of the characters after each prefix (alphabet, length,
//! word boundary before it) decides. No regex engine, one pass per text. The sandbox's
//! placeholder form `SANDBOX_SECRET_<hex>` is never reported, and an allowlist of literal
//! substrings silences known test tokens.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// A well-known credential format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// OpenAI API key, `sk-...` or `sk-proj-...`.
    OpenAi,
    /// Anthropic API key, `sk-ant-...`.
    Anthropic,
    /// AWS access key id, `AKIA`/`ASIA` + 16.
    Aws,
    /// GitHub token, `ghp_` + 36 or `github_pat_...`.
    GitHub,
    /// Slack token, `xoxb-`, `xoxp-`, ...
    Slack,
    /// Google API key, `AIza` + 35.
    Google,
    /// Stripe live secret key, `sk_live_...`.
    Stripe,
    /// PEM private key header.
    PemPrivateKey,
    /// JSON Web Token (three base64url segments, header and payload `eyJ...`).
    Jwt,
}

impl Kind {
    /// A human label for messages.
    pub fn label(self) -> &'static str {
        match self {
            Kind::OpenAi => "OpenAI API key (sk-...)",
            Kind::Anthropic => "Anthropic API key (sk-ant-...)",
            Kind::Aws => "AWS access key id (AKIA/ASIA...)",
            Kind::GitHub => "GitHub token (ghp_/github_pat_...)",
            Kind::Slack => "Slack token (xox?-...)",
            Kind::Google => "Google API key (AIza...)",
            Kind::Stripe => "Stripe live secret key (sk_live_...)",
            Kind::PemPrivateKey => "PEM private key",
            Kind::Jwt => "JSON Web Token",
        }
    }
}

const PREFIXES: &[&str] = &[
    "sk-",
    "sk-proj-",
    "sk-ant-",
    "AKIA",
    "ASIA",
    "ghp_",
    "github_pat_",
    "xox",
    "AIza",
    "sk_live_",
    "-----BEGIN ",
    "eyJ",
];

/// The placeholder the sandbox gives agents instead of a value; never a finding.
pub const PLACEHOLDER_PREFIX: &str = "SANDBOX_SECRET_";

/// The built-in detector.
#[derive(Clone, Debug)]
pub struct Detector {
    automaton: Option<AhoCorasick>,
    allow: Vec<String>,
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Length of the run of bytes in `text` from `from` that satisfy `ok`.
fn run(text: &[u8], from: usize, ok: impl Fn(u8) -> bool) -> usize {
    text.get(from..)
        .map_or(0, |rest| rest.iter().take_while(|&&b| ok(b)).count())
}

impl Detector {
    /// A detector that ignores any match containing one of the `allow` substrings.
    pub fn new(allow: Vec<String>) -> Self {
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(PREFIXES)
            .ok();
        Detector { automaton, allow }
    }

    /// Appends the kinds found in `text` to `out` (deduplicated).
    pub fn find(&self, text: &[u8], out: &mut Vec<Kind>) {
        let Some(ac) = &self.automaton else { return };
        for m in ac.find_iter(text) {
            let (start, end) = (m.start(), m.end());
            let prefix = PREFIXES.get(m.pattern().as_usize()).copied().unwrap_or("");
            let boundary = start == 0 || text.get(start - 1).is_none_or(|&b| !is_word(b));
            let found = match prefix {
                "-----BEGIN " => pem(text, end).map(|e| (Kind::PemPrivateKey, e)),
                _ if !boundary => None,
                "sk-" | "sk-proj-" => tail(text, end, 20, is_word).map(|e| (Kind::OpenAi, e)),
                "sk-ant-" => tail(text, end, 20, is_word).map(|e| (Kind::Anthropic, e)),
                "AKIA" | "ASIA" => {
                    let n = run(text, end, |b| b.is_ascii_uppercase() || b.is_ascii_digit());
                    let after = text.get(end + 16).copied();
                    (n == 16 && after.is_none_or(|b| !b.is_ascii_alphanumeric()))
                        .then_some((Kind::Aws, end + 16))
                }
                "ghp_" => {
                    let n = run(text, end, |b| b.is_ascii_alphanumeric());
                    (n == 36).then_some((Kind::GitHub, end + n))
                }
                "github_pat_" => tail(text, end, 22, |b| b.is_ascii_alphanumeric() || b == b'_')
                    .map(|e| (Kind::GitHub, e)),
                "xox" => {
                    let ok = matches!(text.get(end), Some(b'a' | b'b' | b'p' | b'r' | b's' | b'o'))
                        && text.get(end + 1) == Some(&b'-');
                    if ok {
                        tail(text, end + 2, 10, |b| {
                            b.is_ascii_alphanumeric() || b == b'-'
                        })
                        .map(|e| (Kind::Slack, e))
                    } else {
                        None
                    }
                }
                "AIza" => {
                    let n = run(text, end, is_word);
                    (n == 35).then_some((Kind::Google, end + n))
                }
                "sk_live_" => {
                    tail(text, end, 16, |b| b.is_ascii_alphanumeric()).map(|e| (Kind::Stripe, e))
                }
                "eyJ" => jwt(text, start).map(|e| (Kind::Jwt, e)),
                _ => None,
            };
            let Some((kind, token_end)) = found else {
                continue;
            };
            let token = text.get(start..token_end).unwrap_or_default();
            if self.allowed(token) || out.contains(&kind) {
                continue;
            }
            out.push(kind);
        }
    }

    fn allowed(&self, token: &[u8]) -> bool {
        let contains =
            |needle: &[u8]| !needle.is_empty() && token.windows(needle.len()).any(|w| w == needle);
        contains(PLACEHOLDER_PREFIX.as_bytes()) || self.allow.iter().any(|a| contains(a.as_bytes()))
    }
}

/// End of a token of at least `min` bytes satisfying `ok` starting at `from`.
fn tail(text: &[u8], from: usize, min: usize, ok: impl Fn(u8) -> bool) -> Option<usize> {
    let n = run(text, from, ok);
    (n >= min).then_some(from + n)
}

/// `-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----`: end of the header.
fn pem(text: &[u8], from: usize) -> Option<usize> {
    const TAIL: &[u8] = b"PRIVATE KEY-----";
    let n = run(text, from, |b| b.is_ascii_uppercase() || b == b' ').min(40);
    (0..=n).find_map(|i| {
        let at = from + i;
        (text.get(at..at + TAIL.len()) == Some(TAIL)).then_some(at + TAIL.len())
    })
}

/// `eyJ...` `.` `eyJ...` `.` signature, each segment base64url of a plausible length.
fn jwt(text: &[u8], start: usize) -> Option<usize> {
    let a = run(text, start, is_b64url);
    if a < 10 || text.get(start + a) != Some(&b'.') {
        return None;
    }
    let p = start + a + 1;
    if text.get(p..p + 3) != Some(b"eyJ".as_slice()) {
        return None;
    }
    let b = run(text, p, is_b64url);
    if b < 10 || text.get(p + b) != Some(&b'.') {
        return None;
    }
    let s = p + b + 1;
    let c = run(text, s, is_b64url);
    (c >= 16).then_some(s + c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Kind> {
        let mut out = vec![];
        Detector::new(vec!["sk-allowed".into()]).find(text.as_bytes(), &mut out);
        out
    }

    #[test]
    fn detects_each_format() {
        let cases = [
            ("key sk-abcdefghijklmnopqrstuvwx1234", Kind::OpenAi),
            ("\"sk-proj-abcdefghijklmnopqrstuvwx1234\"", Kind::OpenAi),
            (
                "x-api-key: sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
                Kind::Anthropic,
            ),
            ("AKIAIOSFODNN7EXAMPLE", Kind::Aws),
            ("id=ASIAABCDEFGHIJKLMNOP&x", Kind::Aws),
            (
                "token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
                Kind::GitHub,
            ),
            (
                "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
                Kind::GitHub,
            ),
            ("xoxb-123456789012-abcdefghijkl", Kind::Slack),
            ("AIzaSyA-abcdefghijklmnopqrstuvwxyz01234", Kind::Google),
            ("sk_live_abcdefghijklmnop1234", Kind::Stripe),
            (
                "-----BEGIN RSA PRIVATE KEY-----\\nMIIE",
                Kind::PemPrivateKey,
            ),
            ("-----BEGIN PRIVATE KEY-----", Kind::PemPrivateKey),
            (
                "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                Kind::Jwt,
            ),
        ];
        for (text, kind) in cases {
            assert_eq!(kinds(text), vec![kind], "{text}");
        }
    }

    #[test]
    fn ignores_lookalikes_placeholders_and_allowlist() {
        for text in [
            "task-abcdefghijklmnopqrstuvwxyz",
            "sk-short",
            "AKIA123",
            "AKIAIOSFODNN7EXAMPLEX",
            "SANDBOX_SECRET_0123456789abcdef0123456789abcdef",
            "sk-SANDBOX_SECRET_0123456789abcdef0123456789abcdef",
            "sk-allowed-abcdefghijklmnopqrstuvwxyz",
            "-----BEGIN CERTIFICATE-----",
            "eyJhbGciOiJIUzI1NiJ9 only a header",
            "xoxz-123456789012",
        ] {
            assert!(kinds(text).is_empty(), "{text}: {:?}", kinds(text));
        }
    }
}
