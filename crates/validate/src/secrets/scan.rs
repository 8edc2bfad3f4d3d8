//! Finding supplied secret values in text, in every encoding a log might carry them in.
//!
//! A secret can reach a log in two kinds of disguise:
//!
//! - a *fixed form* computed from the value alone: the value itself, its hex, its base64;
//! - an *escaping* layered over some text that contains a fixed form: JSON string escapes,
//!   percent-encoding of any subset of characters, HTML character references, `\x` escapes,
//!   separated hex, line-wrapped base64. How much an encoder escaped is its choice, so these
//!   cannot be precomputed.
//!
//! One Aho-Corasick automaton holds the first 8 bytes of every fixed form of every secret
//! (each match is then checked against the whole form), so a text is searched once whatever
//! the number of secrets, and 10,000 secrets load in about a second: the automaton's
//! construction grows with the bytes it holds. Escapings are undone by the decoders of
//! [`super::decode`], each run only when its trigger bytes (`\`, `%`, `&`, a line break, a
//! separated hex run) occur; each decoded *view* is searched with the same automaton, so
//! fixed forms are found under any escaping, and views are decoded again, to a bounded
//! depth and a bounded number of bytes (see [`super::decode`] for the rules and bounds).
//!
//! The search is gated: every window of 8 bytes of every fixed form (4 bytes for forms
//! shorter than 11) is in a hash set, and the text is probed at every 4th offset, which
//! lands such a window inside any occurrence. Only a text that passes runs the automaton,
//! so a clean line costs a few table lookups per 4 bytes however many secrets there are,
//! plus two `memchr` passes and a sparse probe for the triggers, and allocates nothing.
//! The automaton ignores ASCII case, and each match is verified: exactly for case-sensitive
//! forms, in any case for hex.
//!
//! The fixed forms:
//!
//! | encoding | example (value `s3cr3t/v4lue+x?`) |
//! |---|---|
//! | `raw` | `s3cr3t/v4lue+x?` |
//! | `hex`, `HEX`, `hex-mixed-case` | `7333637233742f...`, `7333637233742F...`, `7333637233742F76346c...` |
//! | `base64`, `base64url` | `czNjcjN0L3Y0bHVlK3g/`, `czNjcjN0L3Y0bHVlK3g_`, also inside a larger blob at any byte offset: `Basic dTpzM2NyM3Qv...` |
//! | `utf-16le`, `utf-16be` | the bytes `s`, 0, `3`, 0, ... (e.g. written `s\u00003\u0000...` in JSON) |
//! | `utf-16le-hex`, `utf-16be-hex` | `7300330063007200...`, `0073003300630072...` |
//! | `utf-16le-base64`, `utf-16be-base64` | `cwAzAGMAcgAzAHQALwB2ADQA...`, `AHMAMwBjAHIAMwB0AC8AdgA0...` (either alphabet, any offset) |
//!
//! The escapings. A secret found in the text itself is not looked for again in its views;
//! one found only in a view is reported once, by the outer escaping (the one a reader would
//! look for). JSON escaping is named only when the value itself was escaped (base64 written
//! with `\/` is `base64`), since every string of a JSON log is JSON-escaped text:
//!
//! | encoding | example |
//! |---|---|
//! | `json-escaped` | `s3cr3t\/v4lue\u002bx?`, also in a torn line or next to a lone `\ud800` |
//! | `json-nested` | `s3cr3t\\\/v4lue\\u002bx?` (a JSON string inside a JSON string, 4 layers deep at most) |
//! | `percent-encoded` | `s3cr3t%2Fv4lue%2Bx%3F`, `s3cr3t/v4lue%2bx%3F` (any subset, any case), `+` for a space |
//! | `percent-encoded` | base64 with `%2B`, `%2F`, `%3D`: `czNjcjN0L3Y0bHVlK3g%2F` |
//! | `base64-wrapped` | base64 broken every N (≥ 16) characters by `\r\n`, `\n` or their JSON escapes |
//! | `hex-separated` | `73:33:63:72:...`, `73 33 63 72 ...`, `73-33-63-72-...` (any case) |
//! | `hex-escaped` | `\x73\x33\x63\x72...` (in a JSON line `\\x73\\x33...`) |
//! | `html-entities` | `&#115;&#x33;&#X63;r3t&sol;v4lue&plus;x&quest;` |
//!
//! The scanner never stores a value where it could be printed (its `Debug` shows names and
//! counts) and never reports one: hits name the secret and the encoding.

use std::fmt;
use std::ops::ControlFlow;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

use super::Secret;
use super::decode::{self, ByteSet, Chain, Coverage, Options};

/// Shortest secret value accepted: shorter values would match all over a log.
pub const MIN_SECRET_LEN: usize = 8;

/// How a secret was written where it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Encoding {
    /// The value as is.
    Raw,
    /// Inside a JSON string, written with escapes (`\/`, `\u0041`, ...).
    JsonEscaped,
    /// Standard base64 (possibly inside a larger encoded blob).
    Base64,
    /// URL-safe base64 (possibly inside a larger encoded blob).
    Base64Url,
    /// Percent-encoded, any subset of the characters (also base64 text with `%2B`, ...).
    Percent,
    /// Lower-case hex.
    HexLower,
    /// Upper-case hex.
    HexUpper,
    /// Hex with both lower- and upper-case digits.
    HexMixed,
    /// JSON escapes inside JSON escapes (`\\/`, `\\u0026`): a JSON string embedded in one.
    JsonNested,
    /// Base64 broken into lines (MIME, PEM), raw or JSON-escaped line breaks.
    MimeBase64,
    /// Hex byte pairs joined by `:`, space or `-`.
    HexSeparated,
    /// `\xHH` escapes.
    HexEscaped,
    /// HTML character references (`&#115;`, `&#x73;`, `&sol;`).
    Html,
    /// UTF-16LE bytes of the value.
    Utf16Le,
    /// UTF-16BE bytes of the value.
    Utf16Be,
    /// Hex of the UTF-16LE bytes of the value.
    Utf16LeHex,
    /// Hex of the UTF-16BE bytes of the value.
    Utf16BeHex,
    /// Base64 or base64url of the UTF-16LE bytes of the value.
    Utf16LeBase64,
    /// Base64 or base64url of the UTF-16BE bytes of the value.
    Utf16BeBase64,
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
            Encoding::HexMixed => "hex-mixed-case",
            Encoding::JsonNested => "json-nested",
            Encoding::MimeBase64 => "base64-wrapped",
            Encoding::HexSeparated => "hex-separated",
            Encoding::HexEscaped => "hex-escaped",
            Encoding::Html => "html-entities",
            Encoding::Utf16Le => "utf-16le",
            Encoding::Utf16Be => "utf-16be",
            Encoding::Utf16LeHex => "utf-16le-hex",
            Encoding::Utf16BeHex => "utf-16be-hex",
            Encoding::Utf16LeBase64 => "utf-16le-base64",
            Encoding::Utf16BeBase64 => "utf-16be-base64",
        }
    }

    /// Whether this is a base64 form (the only forms searched in unwrapped base64).
    fn is_base64(self) -> bool {
        matches!(
            self,
            Encoding::Base64
                | Encoding::Base64Url
                | Encoding::Utf16LeBase64
                | Encoding::Utf16BeBase64
        )
    }
}

/// Why a scanner could not be built. Messages name secrets, never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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

/// How an automaton match of a pattern is verified and named.
#[derive(Clone, Copy, Debug)]
enum Form {
    /// Case matters: the matched bytes must equal the pattern.
    Exact(Encoding),
    /// Hex of the value (any case): named by the case of the matched digits.
    Hex,
    /// Hex of another form (any case), always named so.
    HexOf(Encoding),
}

#[derive(Clone)]
struct Pattern {
    secret: usize,
    form: Form,
    bytes: Box<[u8]>,
}

impl Pattern {
    /// The encoding of a match of this pattern on `found`, or `None` if it is not one (the
    /// automaton ignores case).
    fn verify(&self, found: &[u8]) -> Option<Encoding> {
        match self.form {
            Form::Exact(e) => (*found == *self.bytes).then_some(e),
            Form::HexOf(e) => Some(e),
            Form::Hex => {
                let lower = found.iter().any(|b| (b'a'..=b'f').contains(b));
                let upper = found.iter().any(|b| (b'A'..=b'F').contains(b));
                Some(match (lower, upper) {
                    (true, true) => Encoding::HexMixed,
                    (false, true) => Encoding::HexUpper,
                    _ => Encoding::HexLower,
                })
            }
        }
    }
}

/// A multi-secret, multi-encoding matcher.
#[derive(Clone)]
pub struct SecretScanner {
    names: Vec<String>,
    /// The distinct [`PREFIX`]-byte prefixes of the forms (ASCII case folded).
    automaton: Option<AhoCorasick>,
    /// Every fixed form: secret, form and bytes.
    patterns: Vec<Pattern>,
    /// For each automaton pattern (a prefix), the forms that start with it.
    by_prefix: Vec<Vec<usize>>,
    gate: Gate,
    options: Options,
}

impl fmt::Debug for SecretScanner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretScanner")
            .field("names", &self.names)
            .field("patterns", &self.patterns.len())
            .finish_non_exhaustive()
    }
}

impl SecretScanner {
    /// Builds the matcher for `secrets`; refuses values shorter than [`MIN_SECRET_LEN`] bytes.
    pub fn new(secrets: &[Secret]) -> Result<Self, ScanError> {
        let mut patterns: Vec<Pattern> = Vec::new();
        let mut form_plus = false;
        for (index, secret) in secrets.iter().enumerate() {
            let value = secret.expose();
            if value.len() < MIN_SECRET_LEN {
                return Err(ScanError::TooShort(secret.name().to_owned()));
            }
            form_plus |= value.contains(' ');
            for (form, bytes) in fixed_forms(value) {
                if !bytes.is_empty() {
                    patterns.push(Pattern {
                        secret: index,
                        form,
                        bytes: bytes.into_boxed_slice(),
                    });
                }
            }
        }
        // One pattern per byte string, the first secret's: a sort, not a search per
        // pattern, so N secrets load in N log N.
        let keep = first_of_each(&patterns, |p| &p.bytes);
        let mut flags = keep.into_iter();
        patterns.retain(|_| flags.next().unwrap_or(false));
        let (prefixes, by_prefix) = prefix_groups(&patterns);
        let automaton = if patterns.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .ascii_case_insensitive(true)
                    .build(&prefixes)
                    .map_err(|e| ScanError::Build(e.to_string()))?,
            )
        };
        let gate = Gate::new(patterns.iter().map(|p| &*p.bytes));
        // The automaton ignores ASCII case: a decoded byte of either case can complete a match.
        let mut alphabet = ByteSet::default();
        for b in patterns.iter().flat_map(|p| p.bytes.iter()) {
            alphabet.insert(b.to_ascii_lowercase());
            alphabet.insert(b.to_ascii_uppercase());
        }
        let options = Options {
            form_plus,
            alphabet,
        };
        Ok(SecretScanner {
            names: secrets.iter().map(|s| s.name().to_owned()).collect(),
            automaton,
            patterns,
            by_prefix,
            gate,
            options,
        })
    }

    /// A scanner for no secrets: finds nothing.
    pub fn empty() -> Self {
        SecretScanner {
            names: Vec::new(),
            automaton: None,
            patterns: Vec::new(),
            by_prefix: Vec::new(),
            gate: Gate::new(std::iter::empty()),
            options: Options {
                form_plus: false,
                alphabet: ByteSet::default(),
            },
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

    /// Number of automaton patterns (all fixed forms of all secrets).
    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Appends every distinct hit in `text` to `out`: first the fixed forms found in `text`
    /// itself (in order of appearance), then, for secrets not found there, the first hit in
    /// the decoded views, outer layers first. `text` is any bytes: a whole JSONL line, a
    /// decoded string, a JSON pointer token.
    pub fn find(&self, text: &[u8], out: &mut Vec<SecretHit>) {
        let _ = self.find_checked(text, out);
    }

    /// [`find`](Self::find), and whether the search covered every decoded view: a
    /// [`Coverage::Cut`] names the cap (decode budget, view limit, depth limit) that left a
    /// view unsearched, so a secret not found there may still be in `text`. Complete when
    /// every secret was found before a cap was reached.
    pub fn find_checked(&self, text: &[u8], out: &mut Vec<SecretHit>) -> Coverage {
        if self.automaton.is_none() {
            return Coverage::Complete;
        }
        let start = out.len();
        let _ = self.search(text, None, &mut |hit| {
            if !out.contains(&hit) {
                out.push(hit);
            }
            ControlFlow::Continue(())
        });
        if self.all_found(out.get(start..).unwrap_or(&[])) {
            return Coverage::Complete;
        }
        let (_, coverage) = decode::walk(text, self.options, &mut |chain, view| {
            let _ = self.search(view, Some(chain), &mut |hit| {
                let here = out.get(start..).unwrap_or(&[]);
                if !here.iter().any(|h| h.secret == hit.secret) && !out.contains(&hit) {
                    out.push(hit);
                }
                ControlFlow::Continue(())
            });
            if self.all_found(out.get(start..).unwrap_or(&[])) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        coverage
    }

    /// Whether any secret occurs in `text`, in any encoding [`find`](Self::find) knows.
    pub fn is_match(&self, text: &[u8]) -> bool {
        if self.automaton.is_none() {
            return false;
        }
        let mut first = |_| ControlFlow::Break(());
        if self.search(text, None, &mut first).is_break() {
            return true;
        }
        let mut found = false;
        let _ = decode::walk(text, self.options, &mut |chain, view| {
            let flow = self.search(view, Some(chain), &mut first);
            found |= flow.is_break();
            flow
        });
        found
    }

    /// Whether every secret has a hit in `hits`.
    fn all_found(&self, hits: &[SecretHit]) -> bool {
        !hits.is_empty() && (0..self.names.len()).all(|s| hits.iter().any(|h| h.secret == s))
    }

    /// Runs the automaton over one text (the input or a view made by `chain`) and hands
    /// every verified hit to `each`.
    fn search(
        &self,
        text: &[u8],
        chain: Option<&Chain>,
        each: &mut dyn FnMut(SecretHit) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let Some(ac) = &self.automaton else {
            return ControlFlow::Continue(());
        };
        if !self.gate.may_match(text) {
            return ControlFlow::Continue(());
        }
        for m in ac.find_overlapping_iter(text) {
            let forms = self.by_prefix.get(m.pattern().as_usize());
            for pattern in forms
                .into_iter()
                .flatten()
                .filter_map(|&i| self.patterns.get(i))
            {
                // The automaton matched a prefix, ignoring case: the whole form must match
                // the same way before its own check (case, for the case-sensitive forms).
                let whole = text
                    .get(m.start()..m.start() + pattern.bytes.len())
                    .filter(|f| f.eq_ignore_ascii_case(&pattern.bytes));
                let Some(encoding) = whole.and_then(|f| pattern.verify(f)) else {
                    continue;
                };
                let encoding = match chain {
                    None => encoding,
                    Some(chain) if chain.base64_only() && !encoding.is_base64() => continue,
                    Some(chain) => chain.report(encoding),
                };
                each(SecretHit {
                    secret: pattern.secret,
                    encoding,
                })?;
            }
        }
        ControlFlow::Continue(())
    }
}

/// Bytes of each form the automaton holds: a match of a prefix is checked against the whole
/// form. Short prefixes keep the automaton small (its construction, not the search, is what
/// grows with thousands of secrets); random values make shared prefixes rare.
const PREFIX: usize = 8;

/// The distinct case-folded prefixes of `patterns` (the automaton's patterns) and, for each,
/// the indices of the forms that start with it; one sort, N log N.
fn prefix_groups(patterns: &[Pattern]) -> (Vec<Vec<u8>>, Vec<Vec<usize>>) {
    let prefix = |p: &Pattern| -> Vec<u8> {
        let end = p.bytes.len().min(PREFIX);
        p.bytes.get(..end).unwrap_or_default().to_ascii_lowercase()
    };
    let mut order: Vec<(Vec<u8>, usize)> = patterns
        .iter()
        .enumerate()
        .map(|(i, p)| (prefix(p), i))
        .collect();
    order.sort();
    let mut prefixes: Vec<Vec<u8>> = Vec::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (key, index) in order {
        match (prefixes.last(), groups.last_mut()) {
            (Some(last), Some(group)) if *last == key => group.push(index),
            _ => {
                prefixes.push(key);
                groups.push(vec![index]);
            }
        }
    }
    (prefixes, groups)
}

/// For each item, whether it is the first with its key: one stable sort of the positions
/// (N log N comparisons), where a search of the kept items for each new one was quadratic.
fn first_of_each<T, K: Ord + ?Sized>(items: &[T], key: impl Fn(&T) -> &K) -> Vec<bool> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    // Stable: among equal keys, positions stay ascending, so the first is the earliest.
    order.sort_by(|&a, &b| match (items.get(a), items.get(b)) {
        (Some(x), Some(y)) => key(x).cmp(key(y)),
        _ => a.cmp(&b),
    });
    let mut keep = vec![false; items.len()];
    let mut previous: Option<&K> = None;
    for i in order {
        let Some(item) = items.get(i) else { continue };
        let k = key(item);
        if previous != Some(k) {
            if let Some(slot) = keep.get_mut(i) {
                *slot = true;
            }
            previous = Some(k);
        }
    }
    keep
}

/// Every fixed form of `value`, with how its matches are verified.
fn fixed_forms(value: &str) -> Vec<(Form, Vec<u8>)> {
    let raw = value.as_bytes();
    let le: Vec<u8> = value.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = value.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let mut forms = vec![
        (Form::Exact(Encoding::Raw), raw.to_vec()),
        (Form::Hex, hex(raw)),
        (Form::Exact(Encoding::Utf16Le), le.clone()),
        (Form::Exact(Encoding::Utf16Be), be.clone()),
        (Form::HexOf(Encoding::Utf16LeHex), hex(&le)),
        (Form::HexOf(Encoding::Utf16BeHex), hex(&be)),
    ];
    for (bytes, std, url) in [
        (raw, Encoding::Base64, Encoding::Base64Url),
        (&le[..], Encoding::Utf16LeBase64, Encoding::Utf16LeBase64),
        (&be[..], Encoding::Utf16BeBase64, Encoding::Utf16BeBase64),
    ] {
        for (encoding, engine) in [(std, &STANDARD_NO_PAD), (url, &URL_SAFE_NO_PAD)] {
            for offset in 0..3 {
                forms.push((Form::Exact(encoding), base64_core(engine, bytes, offset)));
            }
        }
    }
    forms
}

/// The base64 characters that depend only on `value` when it starts `offset` bytes into
/// a 3-byte group and unknown bytes follow it. A secret inside a larger encoded blob
/// (`Basic base64("user:" + secret)`) starts at an arbitrary byte offset, so the secret is
/// encoded behind 0, 1 and 2 filler bytes and the output characters that depend on the
/// filler or on whatever follows the secret are cut off. What remains appears verbatim in
/// every base64 text containing the secret at that alignment, padded or not.
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

fn hex(value: &[u8]) -> Vec<u8> {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = Vec::with_capacity(value.len() * 2);
    for &b in value {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 15)]);
    }
    out
}

/// A necessary condition for an automaton match, checked in a few lookups per 4 bytes.
///
/// Every window of 8 bytes of every pattern of at least 11 bytes (of 4 bytes for shorter
/// ones) is in a set, ASCII letters folded to lower case (each byte or-ed with `0x20`,
/// which also folds a few punctuation pairs: harmless for a filter). An occurrence of a
/// pattern of length `L >= 11` starting at `s` contains the text offset `p`, the first
/// multiple of 4 at or after `s`, with `p + 8 <= s + L`; so probing the windows at every
/// 4th offset meets every occurrence (for `L` in 8..=10, 4-byte windows, `L >= 7`). A
/// bitset in front of the exact set keeps most probes to one memory access.
#[derive(Clone)]
struct Gate {
    /// Bloom-style bitset, indexed by the top bits of the hash.
    bits: Vec<u64>,
    bit_shift: u32,
    /// Open-addressing set of keys (never 0: folded bytes are never 0).
    slots: Vec<u64>,
    slot_shift: u32,
    /// Some pattern is shorter than 11 bytes: probe 4-byte windows too.
    short: bool,
    /// Some pattern is too short for the argument above: always pass.
    always: bool,
}

const FOLD: u64 = 0x2020_2020_2020_2020;
const HASH_MUL: u64 = 0x9E37_79B9_7F4A_7C15;
const SHORT_MASK: u64 = 0xFFFF_FFFF;

impl Gate {
    fn new<'a>(patterns: impl Iterator<Item = &'a [u8]>) -> Gate {
        let mut keys: Vec<u64> = Vec::new();
        let (mut short, mut always) = (false, false);
        for p in patterns {
            if p.len() >= 11 {
                keys.extend(p.windows(8).map(|w| load8(w) | FOLD));
            } else if p.len() >= 7 {
                short = true;
                keys.extend(p.windows(4).map(|w| load4(w) | (FOLD & SHORT_MASK)));
            } else {
                always = true;
            }
        }
        keys.sort_unstable();
        keys.dedup();
        let bit_count = (keys.len() * 32)
            .next_power_of_two()
            .clamp(1 << 12, 1 << 23);
        let slot_count = (keys.len() * 4).next_power_of_two().max(16);
        let mut gate = Gate {
            bits: vec![0; bit_count / 64],
            bit_shift: 64 - bit_count.trailing_zeros(),
            slots: vec![0; slot_count],
            slot_shift: 64 - slot_count.trailing_zeros(),
            short,
            always,
        };
        let mask = slot_count - 1;
        for key in keys {
            let h = key.wrapping_mul(HASH_MUL);
            let bit = (h >> gate.bit_shift) as usize;
            if let Some(word) = gate.bits.get_mut(bit / 64) {
                *word |= 1 << (bit % 64);
            }
            let mut slot = (h >> gate.slot_shift) as usize;
            while gate.slots.get(slot).is_some_and(|&s| s != 0) {
                slot = (slot + 1) & mask;
            }
            if let Some(s) = gate.slots.get_mut(slot) {
                *s = key;
            }
        }
        gate
    }

    #[inline]
    fn has(&self, key: u64) -> bool {
        let h = key.wrapping_mul(HASH_MUL);
        let bit = (h >> self.bit_shift) as usize;
        if self
            .bits
            .get(bit / 64)
            .is_none_or(|w| w & (1 << (bit % 64)) == 0)
        {
            return false;
        }
        self.has_exact(h, key)
    }

    #[inline(never)]
    fn has_exact(&self, h: u64, key: u64) -> bool {
        let mask = self.slots.len() - 1;
        let mut slot = (h >> self.slot_shift) as usize;
        while let Some(&s) = self.slots.get(slot) {
            if s == key {
                return true;
            }
            if s == 0 {
                return false;
            }
            slot = (slot + 1) & mask;
        }
        false
    }

    /// Whether some pattern may occur in `text`.
    fn may_match(&self, text: &[u8]) -> bool {
        if self.always {
            return true;
        }
        let mut p = 0;
        while let Some(window) = text.get(p..p + 8) {
            let key = load8(window) | FOLD;
            if self.has(key) || (self.short && self.has(key & SHORT_MASK)) {
                return true;
            }
            p += 4;
        }
        if self.short {
            while let Some(window) = text.get(p..p + 4) {
                if self.has(load4(window) | (FOLD & SHORT_MASK)) {
                    return true;
                }
                p += 4;
            }
        }
        false
    }
}

fn load8(w: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(w.get(..8).unwrap_or(&[0; 8]));
    u64::from_le_bytes(b)
}

fn load4(w: &[u8]) -> u64 {
    let mut b = [0u8; 4];
    b.copy_from_slice(w.get(..4).unwrap_or(&[0; 4]));
    u64::from(u32::from_le_bytes(b))
}

/// The decoded text of every JSON string (object keys included) in `line` that contains a
/// backslash. Lenient, works on any bytes: an unterminated string runs to the end of the
/// input, a lone surrogate becomes U+FFFD, an invalid escape stays as it is, and bytes that
/// are not UTF-8 become U+FFFD. [`SecretScanner::find`] decodes escapes itself; this is for
/// callers that want the strings.
pub fn escaped_strings(line: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    if memchr::memchr(b'\\', line).is_none() {
        return out;
    }
    let mut i = 0;
    while let Some(open) = line.get(i..).and_then(|rest| memchr::memchr(b'"', rest)) {
        let start = i + open + 1;
        let mut j = start;
        let mut has_escape = false;
        let mut end = line.len();
        while let Some(off) = line
            .get(j..)
            .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
        {
            let at = j + off;
            if line.get(at) == Some(&b'\\') {
                has_escape = true;
                j = at + 2;
            } else {
                end = at;
                break;
            }
        }
        let body = line.get(start..end).unwrap_or(&[]);
        if has_escape {
            let decoded = decode::json_unescape(body);
            out.push(String::from_utf8_lossy(decoded.as_deref().unwrap_or(body)).into_owned());
        }
        i = end + 1;
    }
    out
}

#[cfg(test)]
#[allow(clippy::disallowed_macros)] // the ignored throughput test prints its figures
mod tests {
    use super::*;
    use crate::secrets::SecretValue;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    use proptest::prelude::*;

    fn scanner(value: &str) -> SecretScanner {
        SecretScanner::new(&[Secret::new("K", SecretValue::new(value), vec![])]).unwrap()
    }

    fn hits(s: &SecretScanner, text: &str) -> Vec<SecretHit> {
        let mut out = vec![];
        s.find(text.as_bytes(), &mut out);
        out
    }

    // The test's own encoders, written independently of the scanner's.

    /// `s` as a JSON string literal (serde_json's escaping: `"`, `\`, controls).
    fn jstr(s: &str) -> String {
        serde_json::to_string(s).unwrap()
    }

    /// A JSONL line carrying `text` in a string field.
    fn line(text: &str) -> String {
        format!(
            r#"{{"ts":"2026-01-01T00:00:00Z","summary":{},"n":1}}"#,
            jstr(text)
        )
    }

    /// Every UTF-16 unit as `\uXXXX`.
    fn json_u(s: &str) -> String {
        s.encode_utf16().map(|u| format!("\\u{u:04x}")).collect()
    }

    /// Percent-encodes the bytes of `s` whose bit in `mask` is set (and always `%`), digit
    /// case from `upper`.
    fn pct(s: &str, mask: &[bool], upper: &[bool]) -> String {
        let mut out = String::new();
        for (i, b) in s.bytes().enumerate() {
            let bit = |m: &[bool]| m.get(i % m.len().max(1)).copied().unwrap_or(false);
            if b == b'%' || bit(mask) {
                let h = format!("%{b:02x}");
                out.push_str(&if bit(upper) { h.to_uppercase() } else { h });
            } else {
                out.push(char::from(b));
            }
        }
        out
    }

    fn hexs(bytes: &[u8], upper: &[bool], sep: &str, prefix: &str) -> String {
        let mut parts = vec![];
        for (i, b) in bytes.iter().enumerate() {
            let mut h = format!("{b:02x}");
            if upper.get(i % upper.len().max(1)).copied().unwrap_or(false) {
                h = h.to_uppercase();
            }
            parts.push(format!("{prefix}{h}"));
        }
        parts.join(sep)
    }

    fn utf16(s: &str, le: bool) -> Vec<u8> {
        s.encode_utf16()
            .flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() })
            .collect()
    }

    /// HTML: `&` always escaped; others by `style` (0 literal, 1 decimal, 2 hex, 3 named
    /// when there is a name, else decimal).
    fn html(s: &str, style: &[u8]) -> String {
        let named = |c: char| match c {
            '&' => Some("amp"),
            '<' => Some("lt"),
            '>' => Some("gt"),
            '"' => Some("quot"),
            '\'' => Some("apos"),
            '/' => Some("sol"),
            '+' => Some("plus"),
            '=' => Some("equals"),
            '%' => Some("percnt"),
            ':' => Some("colon"),
            '.' => Some("period"),
            '_' => Some("lowbar"),
            '-' => Some("hyphen"),
            _ => None,
        };
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            let st = style.get(i % style.len().max(1)).copied().unwrap_or(1) % 4;
            let st = if c == '&' && st == 0 { 3 } else { st };
            match (st, named(c)) {
                (0, _) => out.push(c),
                (2, _) => out.push_str(&format!("&#x{:x};", u32::from(c))),
                (3, Some(n)) => out.push_str(&format!("&{n};")),
                _ => out.push_str(&format!("&#{};", u32::from(c))),
            }
        }
        out
    }

    /// Base64 wrapped every `width` characters with `brk`.
    fn wrap(b64: &str, width: usize, brk: &str) -> String {
        b64.as_bytes()
            .chunks(width)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(brk)
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
    fn debug_shows_no_value() {
        let s = scanner("s3cr3t/v4lue+x?");
        let shown = format!("{s:?}");
        assert!(shown.contains("\"K\""), "names are shown");
        for form in fixed_forms("s3cr3t/v4lue+x?") {
            assert!(
                !shown.contains(&String::from_utf8_lossy(&form.1).into_owned()),
                "Debug shows a fixed form"
            );
        }
    }

    /// One row per form: (row name, secret, text as a log carries it, expected encoding).
    fn form_rows() -> Vec<(&'static str, &'static str, String, Encoding)> {
        let s = "s3cr3t/v4lue+x?";
        let b = s.as_bytes();
        let amp = "tok&en<1>'q\"";
        let spaced = "pass phrase/1";
        let blob = STANDARD.encode(format!("user:{s}:trailer-bytes"));
        let mixed = hexs(b, &[true, false], "", "");
        // The value starts at base64 character 72 (byte 54): it straddles the break at 76.
        let mime = wrap(
            &STANDARD.encode(format!("{};{s};trailer", "h".repeat(53))),
            76,
            "\r\n",
        );
        vec![
            ("raw", s, line(s), Encoding::Raw),
            (
                "hex lower",
                s,
                line(&hexs(b, &[false], "", "")),
                Encoding::HexLower,
            ),
            (
                "hex upper",
                s,
                line(&hexs(b, &[true], "", "")),
                Encoding::HexUpper,
            ),
            ("hex mixed case", s, line(&mixed), Encoding::HexMixed),
            (
                "base64 in blob",
                s,
                line(&format!("Basic {blob}")),
                Encoding::Base64,
            ),
            (
                "base64url",
                "sk-???>>>~~~value",
                line(&URL_SAFE.encode("ab sk-???>>>~~~value")),
                Encoding::Base64Url,
            ),
            (
                "json \\/",
                s,
                r#"{"summary":"key s3cr3t\/v4lue+x? end"}"#.into(),
                Encoding::JsonEscaped,
            ),
            (
                "json \\u all",
                s,
                format!(r#"{{"summary":"{}"}}"#, json_u(s)),
                Encoding::JsonEscaped,
            ),
            (
                "json go-style \\u0026 \\u003c",
                amp,
                r#"{"a":"tok\u0026en\u003c1\u003e\u0027q\""}"#.into(),
                Encoding::JsonEscaped,
            ),
            (
                "json nested \\\\/",
                s,
                r#"{"body":"{\"key\":\"s3cr3t\\\/v4lue+x?\"}"}"#.into(),
                Encoding::JsonNested,
            ),
            (
                "json nested \\\\u0026",
                amp,
                r#"{"body":"{\"key\":\"tok\\u0026en\\u003c1\\u003e'q\\\"\"}"}"#.into(),
                Encoding::JsonNested,
            ),
            (
                "json nested 3 deep",
                s,
                line(&line(&line(&json_u(s)))),
                Encoding::JsonNested,
            ),
            (
                "lone surrogate in the same string",
                s,
                r#"{"a":"\ud800 then s3cr3t\/v4lue+x? \udc00"}"#.into(),
                Encoding::JsonEscaped,
            ),
            (
                "unterminated string",
                s,
                r#"{"ts":"2026","summary":"token s3cr3t\/v4lue+x? and mo"#.into(),
                Encoding::JsonEscaped,
            ),
            (
                "invalid escape in the string",
                s,
                r#"{"a":"\q s3cr3t\u002fv4lue+x?"}"#.into(),
                Encoding::JsonEscaped,
            ),
            (
                "percent, python quote (keeps /)",
                s,
                line("?k=s3cr3t/v4lue%2Bx%3F"),
                Encoding::Percent,
            ),
            (
                "percent, go PathEscape (keeps + /)",
                s,
                line("/p/s3cr3t%2Fv4lue+x%3F"),
                Encoding::Percent,
            ),
            (
                "percent, every byte, mixed-case digits",
                s,
                line(&pct(s, &[true], &[true, false])),
                Encoding::Percent,
            ),
            (
                "percent, form + for space",
                spaced,
                line("q=pass+phrase%2F1"),
                Encoding::Percent,
            ),
            (
                "percent inside json escape",
                amp,
                r#"{"u":"tok%26en%3C1%3E'q\""}"#.into(),
                Encoding::Percent,
            ),
            (
                "base64 in percent-encoding",
                "sk-???>>>~~~value",
                line(
                    &STANDARD
                        .encode("sk-???>>>~~~value")
                        .replace('+', "%2B")
                        .replace('/', "%2F")
                        .replace('=', "%3D"),
                ),
                Encoding::Percent,
            ),
            (
                "mime base64, raw CRLF at 76",
                s,
                mime.clone(),
                Encoding::MimeBase64,
            ),
            (
                "mime base64, in a JSONL line",
                s,
                line(&mime),
                Encoding::MimeBase64,
            ),
            (
                "mime base64, \\n in a nested JSON string",
                s,
                line(&line(&wrap(
                    &STANDARD.encode(format!("{};{s};trailer", "h".repeat(44))),
                    64,
                    "\n",
                ))),
                Encoding::MimeBase64,
            ),
            (
                "hex colon",
                s,
                line(&hexs(b, &[false], ":", "")),
                Encoding::HexSeparated,
            ),
            (
                "hex space",
                s,
                line(&hexs(b, &[true], " ", "")),
                Encoding::HexSeparated,
            ),
            (
                "hex dash, mixed case",
                s,
                line(&hexs(b, &[true, false], "-", "")),
                Encoding::HexSeparated,
            ),
            (
                "hex \\x",
                s,
                hexs(b, &[false], "", "\\x"),
                Encoding::HexEscaped,
            ),
            (
                "hex \\\\x in a JSONL line",
                s,
                line(&hexs(b, &[false], "", "\\x")),
                Encoding::HexEscaped,
            ),
            ("html decimal", s, line(&html(s, &[1])), Encoding::Html),
            ("html hex", s, line(&html(s, &[2, 0])), Encoding::Html),
            (
                "html hex upper X",
                s,
                line(&html(s, &[2]).replace("&#x", "&#X")),
                Encoding::Html,
            ),
            ("html named", amp, line(&html(amp, &[3, 0])), Encoding::Html),
            (
                "html named sol plus",
                s,
                line("s3cr3t&sol;v4lue&plus;x&quest;"),
                Encoding::Html,
            ),
            (
                "utf-16le hex",
                s,
                line(&hexs(&utf16(s, true), &[false], "", "")),
                Encoding::Utf16LeHex,
            ),
            (
                "utf-16be hex upper",
                s,
                line(&hexs(&utf16(s, false), &[true], "", "")),
                Encoding::Utf16BeHex,
            ),
            (
                "utf-16le base64",
                s,
                line(&STANDARD.encode([&b"\xff\xfe"[..], &utf16(s, true)].concat())),
                Encoding::Utf16LeBase64,
            ),
            (
                "utf-16be base64url",
                s,
                line(&URL_SAFE.encode(utf16(s, false))),
                Encoding::Utf16BeBase64,
            ),
            (
                "utf-16le raw, via \\u0000",
                s,
                line(&String::from_utf8(utf16(s, true)).unwrap()),
                Encoding::Utf16Le,
            ),
        ]
    }

    #[test]
    fn finds_every_form() {
        for (name, secret, text, expected) in form_rows() {
            let s = scanner(secret);
            let found = hits(&s, &text);
            let encodings: Vec<&str> = found.iter().map(|h| h.encoding.as_str()).collect();
            assert!(
                found
                    .iter()
                    .any(|h| h.secret == 0 && h.encoding == expected),
                "row {name:?}: expected {}, got {encodings:?}",
                expected.as_str()
            );
            assert!(s.is_match(text.as_bytes()), "row {name:?}: is_match");
        }
    }

    #[test]
    fn reports_one_hit_per_secret_from_views() {
        // Found raw, and JSON-escaped in the same line: the raw hit alone is reported.
        let s = scanner("s3cr3t/v4lue+x?");
        let found = hits(&s, r#"{"a":"s3cr3t/v4lue+x?","b":"s3cr3t\/v4lue+x?"}"#);
        assert_eq!(
            found,
            vec![SecretHit {
                secret: 0,
                encoding: Encoding::Raw
            }]
        );
    }

    #[test]
    fn finds_several_secrets_in_different_layers() {
        let secrets = [
            Secret::new("A", SecretValue::new("alpha-secret-1"), vec![]),
            Secret::new("B", SecretValue::new("bravo/secret+2"), vec![]),
        ];
        let s = SecretScanner::new(&secrets).unwrap();
        let found = hits(&s, r#"{"a":"alpha-secret-1","b":"bravo%2Fsecret%2B2"}"#);
        assert_eq!(
            found,
            vec![
                SecretHit {
                    secret: 0,
                    encoding: Encoding::Raw
                },
                SecretHit {
                    secret: 1,
                    encoding: Encoding::Percent
                }
            ]
        );
    }

    #[test]
    fn negatives() {
        let s = scanner("s3cr3t/v4lue+x?");
        let b = b"s3cr3t/v4lue+x?";
        let rows: Vec<(&str, String)> = vec![
            ("one character changed", line("s3cr3t/v4lue+y?")),
            ("truncated", line("s3cr3t/v4lue+x")),
            ("other case", line("S3CR3T/V4LUE+X?")),
            ("split by a space", line("s3cr3t/v4 lue+x?")),
            ("split by a raw newline", "s3cr3t/v4lue\n+x?".into()),
            ("split by a JSON newline", line("s3cr3t/v4lue\n+x?")),
            ("split by a JSON \\u0000", line("s3cr3t/v4\u{0}lue+x?")),
            ("split by %00", line("s3cr3t/v4%00lue+x?")),
            ("split by an HTML entity", line("s3cr3t/v4&#0;lue+x?")),
            (
                "hex with a wrong nibble",
                line(&hexs(b"s3cr3t/v4lue+x>", &[false], "", "")),
            ),
            (
                "separated hex of another value",
                line(&hexs(b"s3cr3t/v4lue-x?", &[false], ":", "")),
            ),
            (
                "hex with two separators",
                line(&hexs(b, &[false], ": ", "")),
            ),
            (
                "base64 of another value",
                line(&STANDARD.encode("s3cr3t/v4lue+x!")),
            ),
            ("percent of another value", line("s3cr3t%2Fv4lue%2Bx%3E")),
            ("html unknown entity", line("s3cr3t&solidus;v4lue+x?")),
            (
                "raw value broken by a line wrap",
                "s3cr3t/v4lue+x?xxxxxxxxxxxxxxxxxxxx".replace("v4", "v4\r\n"),
            ),
            ("empty", String::new()),
        ];
        for (name, text) in rows {
            let found = hits(&s, &text);
            assert!(found.is_empty(), "row {name:?}: false hit {found:?}");
            assert!(!s.is_match(text.as_bytes()), "row {name:?}: is_match");
        }
        let empty = SecretScanner::empty();
        assert!(hits(&empty, "s3cr3t/v4lue+x?").is_empty() && empty.is_empty());
    }

    #[test]
    fn escaped_strings_are_lenient() {
        let line = br#"{"a\/b":"x\u0041y","plain":"z","t":"q\"r","s":"\ud800!"}"#;
        assert_eq!(
            escaped_strings(line),
            vec!["a/b", "xAy", "q\"r", "\u{FFFD}!"]
        );
        assert!(escaped_strings(br#"{"a":"b"}"#).is_empty());
        assert_eq!(
            escaped_strings(b"\"unterminated \\/x"),
            vec!["unterminated /x"]
        );
        assert_eq!(escaped_strings(b"\"bad \\q\""), vec!["bad \\q"]);
    }

    #[test]
    fn hostile_input_stays_bounded() {
        let s = scanner("s3cr3t/v4lue+x?");
        let mb = 1 << 20;
        let nested = {
            let mut t = String::from("A");
            for _ in 0..12 {
                t = jstr(&t);
            }
            t.repeat(mb / t.len() + 1)
        };
        // (name, input, whether it has something to decode)
        let inputs: Vec<(&str, Vec<u8>, bool)> = vec![
            ("%25", "%25".repeat(mb / 3).into_bytes(), true),
            ("%2525", "%2525".repeat(mb / 5).into_bytes(), true),
            ("backslashes", "\\".repeat(mb).into_bytes(), true),
            ("\\u005c", "\\u005c".repeat(mb / 6).into_bytes(), true),
            ("&#&#", "&#".repeat(mb / 2).into_bytes(), false),
            ("&amp;", "&amp;".repeat(mb / 5).into_bytes(), true),
            (
                "every trigger",
                "%5C%25&amp;\\\\\\x41 4a:4b\\n".repeat(mb / 24).into_bytes(),
                true,
            ),
            ("hex run", "4a:".repeat(mb / 3).into_bytes(), true),
            (
                "wrapped base64",
                "QUJDREVGR0hJSktMTU5PUFFS\\n".repeat(mb / 26).into_bytes(),
                true,
            ),
            ("nested escapes", nested.into_bytes(), true),
        ];
        for (name, input, decodes) in inputs {
            // Every view made, searched or only decoded further.
            let (made, _) = decode::walk(&input, s.options, &mut |_, _| ControlFlow::Continue(()));
            // Each decoder within its own budget.
            for d in made.iter().filter_map(|v| v.chain.steps().last()) {
                let own: usize = made
                    .iter()
                    .filter(|v| v.chain.steps().last() == Some(d))
                    .map(|v| v.bytes.len())
                    .sum();
                assert!(
                    own <= decode::DECODER_BUDGET_FACTOR * input.len(),
                    "{name}: {d:?} made {own} bytes"
                );
            }
            let views: Vec<(Encoding, Vec<u8>)> = made
                .into_iter()
                .map(|v| (v.chain.report(Encoding::Raw), v.bytes))
                .collect();
            let total: usize = views.iter().map(|v| v.1.len()).sum();
            assert_eq!(!views.is_empty(), decodes, "{name}: views made");
            assert!(
                total <= decode::BUDGET_FACTOR * input.len(),
                "{name}: {total} decoded bytes for {}",
                input.len()
            );
            assert!(
                views.len() <= decode::MAX_VIEWS,
                "{name}: {} views",
                views.len()
            );
            assert!(
                views.iter().all(|v| v.1.len() <= input.len()),
                "{name}: a view grew"
            );
            assert!(!s.is_match(&input), "{name}: false hit");
            let detector_views = decode::decoded_views(&input);
            let total: usize = detector_views.iter().map(|v| v.1.len()).sum();
            assert!(
                total <= decode::BUDGET_FACTOR * input.len(),
                "{name}: detector views"
            );
        }
    }

    /// Ordinary neighbours of one line: a URL with `%2F` and `&amp;`, a MAC address written
    /// as separated hex, a base64 blob wrapped in JSON, and a file path with `\\`.
    fn neighbours() -> String {
        let blob = base64::engine::general_purpose::STANDARD.encode([7u8; 90]);
        format!(
            "GET https://x.test/a%2Fb%2Fc?u=1&amp;v=2&amp;w=%3D \
             mac 00:1a:2b:3c:4d:5e:6f:70:81 eui 00-1a-2b-3c-4d-5e-6f-70 \
             blob {blob}\r\n{blob} path C:\\tmp\\x.txt"
        )
    }

    #[test]
    fn dedup_keeps_the_first_and_counts_n_log_n_comparisons() {
        use std::cell::Cell;
        let compared = Cell::new(0usize);
        /// A key that counts its comparisons.
        struct Counted<'a>(u32, &'a Cell<usize>);
        impl PartialEq for Counted<'_> {
            fn eq(&self, other: &Self) -> bool {
                self.1.set(self.1.get() + 1);
                self.0 == other.0
            }
        }
        impl Eq for Counted<'_> {}
        impl PartialOrd for Counted<'_> {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for Counted<'_> {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.1.set(self.1.get() + 1);
                self.0.cmp(&other.0)
            }
        }
        for n in [1_000u32, 16_000, 64_000] {
            // Every key twice: the second half repeats the first.
            let items: Vec<Counted<'_>> = (0..2 * n)
                .map(|i| Counted((i % n).wrapping_mul(2_654_435_761), &compared))
                .collect();
            compared.set(0);
            let keep = first_of_each(&items, |c| c);
            let work = compared.get();
            let len = 2 * n as usize;
            let log = usize::try_from(len.ilog2()).unwrap() + 1;
            assert!(work <= 3 * len * log, "{n}: {work} comparisons");
            assert_eq!(keep.iter().filter(|&&k| k).count(), n as usize);
            assert!(
                keep[..n as usize].iter().all(|&k| k),
                "the first copy is kept"
            );
        }
    }

    #[test]
    fn shared_forms_are_kept_once_under_the_first_secret() {
        let secrets: Vec<Secret> = (0..500)
            .map(|i| {
                let value = format!("value-{:04}-shared", i % 250);
                Secret::new(format!("S{i}"), SecretValue::new(value), vec![])
            })
            .collect();
        let s = SecretScanner::new(&secrets).unwrap();
        let single = scanner("value-0000-shared").pattern_count();
        assert_eq!(s.pattern_count(), 250 * single);
        assert!(s.patterns.iter().all(|p| p.secret < 250));
        let mut bytes: Vec<&[u8]> = s.patterns.iter().map(|p| &*p.bytes).collect();
        bytes.sort_unstable();
        bytes.dedup();
        assert_eq!(bytes.len(), s.pattern_count());
    }

    #[test]
    fn neighbours_do_not_starve_a_documented_form() {
        let value = "s3cr3t-hex-esc4ped";
        let s = scanner(value);
        let escaped = hexs(value.as_bytes(), &[false], "", "\\x");
        for text in [
            line(&escaped),
            line(&format!("{} {escaped}", neighbours())),
            line(&format!("{escaped} {}", neighbours())),
            line(&format!("{} {escaped} {}", neighbours(), neighbours())),
        ] {
            let mut out = vec![];
            let coverage = s.find_checked(text.as_bytes(), &mut out);
            assert_eq!(
                out,
                vec![SecretHit {
                    secret: 0,
                    encoding: Encoding::HexEscaped
                }],
                "{text}"
            );
            assert!(coverage.is_complete(), "{coverage:?}");
        }
    }

    #[test]
    fn every_form_survives_the_neighbours() {
        // Every row of the form table, next to the neighbours on either side.
        for (label, value, text, _) in form_rows() {
            let s = scanner(value);
            for text in [
                format!("{text} {}", line(&neighbours())),
                format!("{} {text}", line(&neighbours())),
            ] {
                assert!(
                    !hits(&s, &text).is_empty(),
                    "{label}: not found next to the neighbours"
                );
            }
        }
    }

    #[test]
    fn a_cap_is_reported_never_silent() {
        let s = scanner("s3cr3t-deep-v4lue");
        // Five percent layers: the fifth is beyond MAX_DEPTH.
        let mut deep = pct("s3cr3t-deep-v4lue", &[true], &[false]);
        for _ in 0..4 {
            deep = pct(&deep, &[false], &[false]);
        }
        let mut out = vec![];
        let coverage = s.find_checked(line(&deep).as_bytes(), &mut out);
        assert!(out.is_empty());
        assert_eq!(
            coverage,
            Coverage::Cut {
                cap: decode::Cap::Depth,
                layer: "percent-encoding"
            }
        );
        // Four layers are searched, and complete.
        let mut four = pct("s3cr3t-deep-v4lue", &[true], &[false]);
        for _ in 0..3 {
            four = pct(&four, &[false], &[false]);
        }
        let mut out = vec![];
        let coverage = s.find_checked(four.as_bytes(), &mut out);
        assert_eq!(out.len(), 1);
        assert!(coverage.is_complete());
        // A found secret ends the walk: nothing was left out that mattered.
        let mut out = vec![];
        let both = format!("s3cr3t-deep-v4lue {deep}");
        assert!(s.find_checked(both.as_bytes(), &mut out).is_complete());
        // A clean line with nothing to decode is complete.
        assert!(s.find_checked(b"plain", &mut vec![]).is_complete());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn finds_secret_under_every_encoder(
            secret in "[ -~]{8,40}",
            mask in prop::collection::vec(any::<bool>(), 1..8),
            upper in prop::collection::vec(any::<bool>(), 1..8),
            style in prop::collection::vec(0u8..4, 1..8),
            pad in 0usize..3,
            sep in 0usize..3,
        ) {
            let s = scanner(&secret);
            let b = secret.as_bytes();
            let filler = &"xyz"[..pad];
            let sep = [":", " ", "-"][sep];
            let blob = |engine: &base64::engine::GeneralPurpose, v: &[u8]| {
                engine.encode([filler.as_bytes(), v, b"..."].concat())
            };
            // The value starts 2 characters before a break (at 76 or at 64).
            let wrapped = |width: usize, brk: &str| {
                let head = "h".repeat(width / 4 * 3 - 3);
                wrap(&STANDARD.encode([head.as_bytes(), b, b"..."].concat()), width, brk)
            };
            let encoded: Vec<(&str, String)> = vec![
                ("raw", line(&secret)),
                ("json \\u", format!(r#"{{"a":"{}"}}"#, json_u(&secret))),
                ("json \\/", line(&secret).replace('/', "\\/")),
                ("json nested", line(&line(&secret))),
                ("json nested \\u", line(&line(&json_u(&secret)))),
                ("json nested 3", line(&line(&line(&secret)))),
                ("json torn", line(&json_u(&secret)).trim_end_matches("\",\"n\":1}").to_string()),
                ("percent subset", line(&pct(&secret, &mask, &upper))),
                ("percent all", line(&pct(&secret, &[true], &upper))),
                ("base64", line(&blob(&STANDARD, b))),
                ("base64url", line(&blob(&URL_SAFE, b))),
                ("base64 in percent", line(&pct(&blob(&STANDARD, b), &[false], &upper))),
                ("mime", line(&wrapped(76, "\r\n"))),
                ("mime raw", wrapped(64, "\n")),
                ("hex case", line(&hexs(b, &upper, "", ""))),
                ("hex separated", line(&hexs(b, &upper, sep, ""))),
                ("hex \\x", line(&hexs(b, &upper, "", "\\x"))),
                ("html", line(&html(&secret, &style))),
                ("utf-16le hex", line(&hexs(&utf16(&secret, true), &upper, "", ""))),
                ("utf-16be hex", line(&hexs(&utf16(&secret, false), &upper, "", ""))),
                ("utf-16le base64", line(&blob(&STANDARD, &utf16(&secret, true)))),
                ("utf-16be base64url", line(&blob(&URL_SAFE, &utf16(&secret, false)))),
            ];
            for (name, text) in encoded {
                let found = hits(&s, &text);
                prop_assert!(
                    found.iter().any(|h| h.secret == 0),
                    "encoder {} not found ({} bytes of text)", name, text.len()
                );
                prop_assert!(s.is_match(text.as_bytes()), "encoder {} is_match", name);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// The gate passes every text holding any fixed form at any offset.
        #[test]
        fn gate_meets_every_occurrence(
            secret in "[ -~]{8,40}",
            form in 0usize..32,
            before in "[ -~]{0,9}",
            after in "[ -~]{0,9}",
        ) {
            let forms = fixed_forms(&secret);
            let (_, bytes) = &forms[form % forms.len()];
            let gate = Gate::new(forms.iter().map(|f| &f.1[..]));
            let text = [before.as_bytes(), bytes, after.as_bytes()].concat();
            prop_assert!(gate.may_match(&text), "form {} at offset {}", form % forms.len(), before.len());
            let mut mixed = text.clone();
            mixed.iter_mut().step_by(3).for_each(|b| b.make_ascii_uppercase());
            prop_assert!(gate.may_match(&mixed), "mixed case, form {}", form % forms.len());
        }
    }

    #[test]
    fn gate_rejects_clean_text() {
        let forms = fixed_forms("bench-secret-value-1-00007919");
        let gate = Gate::new(forms.iter().map(|f| &f.1[..]));
        let clean = br#"{"ts":"2026-02-24T23:02:34.354621Z","event_type":"llm_response","summary":"POST api.openai.com/v1/responses -> 502 (1093ms)"}"#;
        assert!(!gate.may_match(clean));
        assert!(gate.may_match(b"xx bench-secret-value-1-00007919 yy"));
    }

    /// A rough throughput measurement, printed, never asserted:
    /// `cargo test --release --lib secrets::scan::tests::throughput -- --ignored --nocapture`
    /// (with `AGENTLOG_SCAN_FILE=events.jsonl`, over the lines of that file instead).
    #[test]
    #[ignore]
    fn throughput() {
        let secrets: Vec<Secret> = (1..=10)
            .map(|i| {
                let v = format!("bench-secret-value-{i}-{:08}", i * 7919);
                Secret::new(format!("S{i}"), SecretValue::new(v), vec![])
            })
            .collect();
        let s = SecretScanner::new(&secrets).unwrap();
        let plain = r#"{"ts":"2026-02-24T23:02:34.354621Z","run_id":"vm-503ad4d1","agent_system":"openclaw","event_type":"llm_response","summary":"POST api.openai.com/v1/responses -> 502 (1093ms)","tags":["tls"],"data":{"method":"POST","host":"api.openai.com","path":"/v1/responses","status_code":502,"duration_ms":1093,"body_bytes":76748,"model":"claude-sonnet-4-5","input_tokens":3259,"output_tokens":204}}"#;
        let quoted = r#"{"ts":"2026-02-24T23:02:35.837263Z","run_id":"vm-503ad4d1","agent_system":"openclaw","event_type":"key_injection","summary":"secret \"OPENROUTER_API_KEY\" injected for openrouter.ai","plugin":"secret_injector","tags":["tls"],"data":{"secret_name":"OPENROUTER_API_KEY","host":"openrouter.ai","action":"injected"}}"#;
        let url = r#"{"ts":"2026-02-24T23:02:35.837263Z","event_type":"llm_request","summary":"GET https://api.example.com/v1/search?q=hello%20world&lang=en&page=2 \"quoted\"\nnext line","data":{"path":"/v1/search?q=hello%20world&amp;x=1"}}"#;
        if let Ok(path) = std::env::var("AGENTLOG_SCAN_FILE") {
            let data = std::fs::read(&path).unwrap();
            let t = std::time::Instant::now();
            let (mut found, mut out) = (0, Vec::new());
            let mut start = 0;
            for end in memchr::memchr_iter(b'\n', &data).chain([data.len()]) {
                out.clear();
                s.find(data.get(start..end).unwrap_or(&[]), &mut out);
                found += out.len();
                start = end + 1;
            }
            let secs = t.elapsed().as_secs_f64();
            println!(
                "file: {:.0} MB/s over {} MB (hits {found})",
                data.len() as f64 / secs / 1e6,
                data.len() >> 20
            );
            return;
        }
        for (name, l) in [
            ("no trigger", plain),
            ("with \\\"", quoted),
            ("url %/&/\\n", url),
        ] {
            let n = (100 << 20) / (l.len() + 1);
            let t = std::time::Instant::now();
            let mut found = 0;
            let mut out = Vec::new();
            for _ in 0..n {
                out.clear();
                s.find(l.as_bytes(), &mut out);
                found += out.len();
            }
            let secs = t.elapsed().as_secs_f64();
            println!(
                "{name}: {:.0} MB/s over {} MB (hits {found})",
                (n * (l.len() + 1)) as f64 / secs / 1e6,
                (n * (l.len() + 1)) >> 20
            );
        }
    }
}
