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
//! One table holds the first 8 bytes of every fixed form of every secret, ASCII case
//! folded, and the text is looked up at every offset (each match is then checked against
//! the whole form, see `secrets/prefix.rs`), so a text is searched once whatever the number
//! of secrets. The forms are built into one arena and kept once by hash, so loading grows
//! linearly with the number of secrets: 10,000 secrets load in about 80 ms. Escapings are
//! undone by the decoders of [`super::decode`], each run only when its trigger bytes (`\`,
//! `%`, `&`, a line break, a separated hex run) occur; each decoded *view* is searched with
//! the same table, so fixed forms are found under any escaping, and views are decoded
//! again, to a bounded depth and a bounded number of bytes (see [`super::decode`] for the
//! rules and bounds).
//!
//! The search is gated: the windows of 8 bytes at offsets 0 to 3 of every fixed form (4
//! bytes for forms shorter than 11) are in a hash set, and the text is probed at every 4th
//! offset, which lands such a window inside any occurrence. Only a text that passes runs
//! the lookup, so a clean line costs a few table lookups per 4 bytes however many secrets
//! there are, plus two `memchr` passes and a sparse probe for the triggers, and allocates
//! nothing. The lookup ignores ASCII case, and each match is verified: exactly for
//! case-sensitive forms, in any case for hex.
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
use std::ops::{ControlFlow, Range};

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;

use super::Secret;
use super::decode::{self, ByteSet, Chain, Coverage, Options};
use super::prefix::{Distinct, HASH_MUL, Prefixes, hash_bytes, load4, load8};

/// Shortest secret value accepted: shorter values would match all over a log. The one rule
/// of `agentlog-core`, which the proxy applies too.
pub use agentlog_core::secrets::MIN_SECRET_LEN;

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
    /// ROT13 of the value (letters turned 13 places).
    Rot13,
    /// Base32 of the value (RFC 4648, any case).
    Base32,
    /// Ascii85 of the value (Adobe's alphabet, no `z` shorthand).
    Ascii85,
    /// Each byte of the value as three octal digits.
    Octal,
    /// Hex of the value written backwards (any case).
    ReversedHex,
    /// Base64 of the value written backwards.
    ReversedBase64,
    /// The value without its ASCII punctuation and white space (`s3cr3tValue0042x` for
    /// `s3cr3t-Value-0042x`): what a reader sees of it written with other separators.
    Unpunctuated,
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
            Encoding::Rot13 => "rot13",
            Encoding::Base32 => "base32",
            Encoding::Ascii85 => "ascii85",
            Encoding::Octal => "octal",
            Encoding::ReversedHex => "reversed-hex",
            Encoding::ReversedBase64 => "reversed-base64",
            Encoding::Unpunctuated => "unpunctuated",
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
    /// The matcher could not be built (no longer happens: its tables are built in memory).
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

/// How a match of a form is verified and named.
#[derive(Clone, Copy, Debug)]
enum Form {
    /// Case matters: the matched bytes must equal the pattern.
    Exact(Encoding),
    /// Hex of the value (any case): named by the case of the matched digits.
    Hex,
    /// Any case, always named so: hex of another form, base32.
    AnyCase(Encoding),
}

/// One fixed form of one secret: its bytes are `arena[start..end]` of the scanner's tables.
#[derive(Clone, Copy)]
struct Pattern {
    secret: usize,
    form: Form,
    start: usize,
    end: usize,
}

impl Form {
    /// The encoding of a match of a form `bytes` on `found`, or `None` if it is not one
    /// (the prefix lookup ignores case).
    fn verify(self, bytes: &[u8], found: &[u8]) -> Option<Encoding> {
        match self {
            Form::Exact(e) => (*found == *bytes).then_some(e),
            Form::AnyCase(e) => Some(e),
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

/// The fixed forms of the secrets: all bytes in one arena, so N secrets load in time
/// linear in N. [`SecretScanner::new`] keeps the first of each distinct form (see [`Firsts`]).
#[derive(Default)]
struct Forms {
    arena: Vec<u8>,
    patterns: Vec<Pattern>,
}

impl Forms {
    fn bytes(&self, pattern: &Pattern) -> &[u8] {
        self.arena
            .get(pattern.start..pattern.end)
            .unwrap_or_default()
    }

    /// The fixed forms of every secret, in order, repeats included; refuses values shorter
    /// than [`MIN_SECRET_LEN`].
    fn of(secrets: &[Secret]) -> Result<Forms, ScanError> {
        let bytes: usize = secrets.iter().map(|s| s.expose().len()).sum();
        let mut forms = Forms {
            arena: Vec::with_capacity(bytes.saturating_mul(FORM_BYTES_PER_BYTE)),
            patterns: Vec::with_capacity(secrets.len().saturating_mul(FORMS_PER_SECRET)),
        };
        let mut scratch = Scratch::default();
        for (index, secret) in secrets.iter().enumerate() {
            let value = secret.expose();
            if value.len() < MIN_SECRET_LEN {
                return Err(ScanError::TooShort(secret.name().to_owned()));
            }
            each_fixed_form(value, &mut scratch, &mut |form, bytes| {
                if !bytes.is_empty() {
                    let start = forms.arena.len();
                    forms.arena.extend_from_slice(bytes);
                    forms.patterns.push(Pattern {
                        secret: index,
                        form,
                        start,
                        end: forms.arena.len(),
                    });
                }
            });
        }
        Ok(forms)
    }

    /// The bytes a search can match: every byte of every form, in either ASCII case (the
    /// lookup ignores case, so a decoded byte of either case can complete a match).
    fn alphabet(&self) -> ByteSet {
        let mut seen = [false; 256];
        for &b in &self.arena {
            if let Some(s) = seen.get_mut(usize::from(b)) {
                *s = true;
            }
        }
        let present = |b: u8| seen.get(usize::from(b)).copied().unwrap_or(false);
        ByteSet::from_fn(|b| present(b) || (b.is_ascii_alphabetic() && present(b ^ 0x20)))
    }
}

/// What the scanner searches with, shared by its clones.
struct Tables {
    forms: Forms,
    /// The distinct [`PREFIX`](super::prefix::PREFIX)-byte prefixes of the forms (ASCII
    /// case folded), numbered.
    prefixes: Prefixes,
    /// The forms of prefix `g` are `members[starts[g]..starts[g + 1]]`, in ascending order.
    starts: Vec<usize>,
    members: Vec<usize>,
    gate: Gate,
}

/// Forms from which the gate (and the alphabet) are built on a second thread, beside the
/// prefix table: 10,000 secrets make about 150,000.
const PARALLEL_FORMS: usize = 20_000;

impl Tables {
    /// The tables of `forms` (the first of each distinct form kept), and the alphabet of
    /// [`Options`]. A repeated form adds nothing to the gate or the alphabet.
    fn new(mut forms: Forms) -> (Tables, ByteSet) {
        let side = || {
            let gate = Gate::new(forms.patterns.iter().map(|p| forms.bytes(p)));
            (gate, forms.alphabet())
        };
        let ((gate, alphabet), grouped) = if forms.patterns.len() < PARALLEL_FORMS {
            (side(), group(&forms))
        } else {
            std::thread::scope(|scope| {
                let thread = std::thread::Builder::new().spawn_scoped(scope, side);
                let groups = group(&forms);
                // A thread that could not start (or failed): built here instead.
                let side = thread.ok().and_then(|t| t.join().ok()).unwrap_or_else(side);
                (side, groups)
            })
        };
        forms.patterns = grouped.patterns;
        let tables = Tables {
            forms,
            prefixes: grouped.prefixes,
            starts: grouped.starts,
            members: grouped.members,
            gate,
        };
        (tables, alphabet)
    }

    /// The forms that start with prefix `group`.
    fn group(&self, group: usize) -> impl Iterator<Item = &Pattern> {
        let from = self.starts.get(group).copied().unwrap_or(0);
        let to = self.starts.get(group + 1).copied().unwrap_or(from);
        self.members
            .get(from..to)
            .unwrap_or_default()
            .iter()
            .filter_map(|&i| self.forms.patterns.get(i))
    }
}

/// The distinct forms, the first of each, and their prefixes.
struct Grouped {
    prefixes: Prefixes,
    patterns: Vec<Pattern>,
    /// The forms of prefix `g` are `members[starts[g]..starts[g + 1]]`, in ascending order.
    starts: Vec<usize>,
    members: Vec<usize>,
}

/// The first of each distinct form of `forms` and the table of their prefixes.
fn group(forms: &Forms) -> Grouped {
    let count = forms.patterns.len();
    let mut prefixes = Prefixes::with_capacity(count);
    let mut firsts = Firsts::default();
    let mut patterns = Vec::with_capacity(count);
    let mut group_of = Vec::with_capacity(count);
    for pattern in &forms.patterns {
        let bytes = forms.bytes(pattern);
        let group = prefixes.insert(bytes);
        if firsts.is_new(group, bytes, forms, &patterns) {
            group_of.push(group);
            patterns.push(*pattern);
        }
    }
    prefixes.finish();
    let mut starts = vec![0; prefixes.len() + 1];
    for &group in &group_of {
        if let Some(n) = starts.get_mut(group + 1) {
            *n += 1;
        }
    }
    let mut total = 0;
    for n in &mut starts {
        total += *n;
        *n = total;
    }
    let mut next = starts.clone();
    let mut members = vec![0; group_of.len()];
    for (index, group) in group_of.into_iter().enumerate() {
        if let Some(at) = next.get_mut(group) {
            if let Some(m) = members.get_mut(*at) {
                *m = index;
            }
            *at += 1;
        }
    }
    Grouped {
        prefixes,
        patterns,
        starts,
        members,
    }
}

/// Keeps the first of each distinct form in one pass. Equal forms have the same prefix, so
/// only a form whose prefix is already held can repeat an earlier one: the forms of such
/// prefixes, and only those, go into a hash set (random values rarely share a prefix, and
/// values that do, like `sk-proj-...`, cost one hash lookup each, never a comparison with
/// every form of the prefix).
struct Firsts {
    /// For each prefix, the index of its first form, or [`IN_SET`] once that is in `set`.
    first: Vec<usize>,
    set: Distinct,
}

const IN_SET: usize = usize::MAX;

impl Default for Firsts {
    fn default() -> Self {
        Firsts {
            first: Vec::new(),
            set: Distinct::with_capacity(0),
        }
    }
}

impl Firsts {
    /// Whether form `bytes`, of prefix number `group`, is none of the forms `kept`.
    fn is_new(&mut self, group: usize, bytes: &[u8], forms: &Forms, kept: &[Pattern]) -> bool {
        let Some(first) = self
            .first
            .get_mut(group)
            .map(|f| std::mem::replace(f, IN_SET))
        else {
            // A new prefix (numbered next): a new form.
            self.first.push(kept.len());
            return true;
        };
        if let Some(p) = kept.get(first) {
            self.set
                .insert(hash_bytes(forms.bytes(p)), first, |_| false);
        }
        let same = |i: usize| kept.get(i).map(|p| forms.bytes(p)) == Some(bytes);
        self.set.insert(hash_bytes(bytes), kept.len(), same)
    }
}

/// A multi-secret, multi-encoding matcher. Cloning is cheap: clones share the tables.
#[derive(Clone)]
pub struct SecretScanner {
    names: Arc<[String]>,
    /// `None` when no secret was supplied.
    tables: Option<Arc<Tables>>,
    options: Options,
}

impl fmt::Debug for SecretScanner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretScanner")
            .field("names", &self.names)
            .field("patterns", &self.pattern_count())
            .finish_non_exhaustive()
    }
}

impl SecretScanner {
    /// Builds the matcher for `secrets`; refuses values shorter than [`MIN_SECRET_LEN`] bytes.
    pub fn new(secrets: &[Secret]) -> Result<Self, ScanError> {
        let forms = Forms::of(secrets)?;
        let (tables, alphabet) = if forms.patterns.is_empty() {
            (None, ByteSet::default())
        } else {
            let (tables, alphabet) = Tables::new(forms);
            (Some(Arc::new(tables)), alphabet)
        };
        let options = Options {
            form_plus: secrets.iter().any(|s| s.expose().contains(' ')),
            alphabet,
        };
        Ok(SecretScanner {
            names: secrets.iter().map(|s| s.name().to_owned()).collect(),
            tables,
            options,
        })
    }

    /// A scanner for no secrets: finds nothing.
    pub fn empty() -> Self {
        SecretScanner {
            names: Arc::new([]),
            tables: None,
            options: Options {
                form_plus: false,
                alphabet: ByteSet::default(),
            },
        }
    }

    /// Whether no secret was supplied.
    pub fn is_empty(&self) -> bool {
        self.tables.is_none()
    }

    /// The name of secret `index`.
    pub fn name(&self, index: usize) -> &str {
        self.names.get(index).map_or("?", String::as_str)
    }

    /// The length of the shortest fixed form, if any secret was supplied: no text shorter
    /// than it holds one, in any view (every decoding shrinks a text or keeps its length).
    pub fn shortest_form(&self) -> Option<usize> {
        let tables = self.tables.as_ref()?;
        let forms = &tables.forms;
        forms.patterns.iter().map(|p| forms.bytes(p).len()).min()
    }

    /// Number of distinct fixed forms of all secrets.
    pub fn pattern_count(&self) -> usize {
        self.tables.as_ref().map_or(0, |t| t.forms.patterns.len())
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
        if self.tables.is_none() {
            return Coverage::Complete;
        }
        let start = out.len();
        let _ = self.search(text, None, &mut |hit, _| {
            if !out.contains(&hit) {
                out.push(hit);
            }
            ControlFlow::Continue(())
        });
        if self.all_found(out.get(start..).unwrap_or(&[])) {
            return Coverage::Complete;
        }
        let (_, coverage) = decode::walk(text, self.options, &mut |chain, view| {
            let _ = self.search(view, Some(chain), &mut |hit, _| {
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
        self.match_checked(text).0
    }

    /// Whether `text` may carry a secret: one occurs in it, or a cap cut the search short
    /// before every view was searched. What output is judged by: a value the scan could
    /// not rule out is not shown.
    pub fn may_match(&self, text: &[u8]) -> bool {
        let (found, coverage) = self.match_checked(text);
        found || !coverage.is_complete()
    }

    fn match_checked(&self, text: &[u8]) -> (bool, Coverage) {
        if self.tables.is_none() {
            return (false, Coverage::Complete);
        }
        let mut first = |_, _| ControlFlow::Break(());
        if self.search(text, None, &mut first).is_break() {
            return (true, Coverage::Complete);
        }
        let mut found = false;
        let (_, coverage) = decode::walk(text, self.options, &mut |chain, view| {
            let flow = self.search(view, Some(chain), &mut first);
            found |= flow.is_break();
            flow
        });
        (found, coverage)
    }

    /// Whether every secret has a hit in `hits`.
    fn all_found(&self, hits: &[SecretHit]) -> bool {
        !hits.is_empty() && (0..self.names.len()).all(|s| hits.iter().any(|h| h.secret == s))
    }

    /// Every place a fixed form of a secret (the value, its hex, its base64, its UTF-16, ...)
    /// is written in `text` itself, not under an escaping: the bytes it covers and the index
    /// of the secret, in text order. An occurrence that starts inside an earlier one is left
    /// out; of two that start together, the longer is kept. For showing which secret stood
    /// where ([`Redactor::replace_secrets`](super::redact::Redactor::replace_secrets)).
    pub fn occurrences(&self, text: &[u8]) -> Vec<(Range<usize>, usize)> {
        let mut found = Vec::new();
        let _ = self.search(text, None, &mut |hit, at| {
            found.push((at, hit.secret));
            ControlFlow::Continue(())
        });
        found.sort_by_key(|(at, _)| (at.start, std::cmp::Reverse(at.end)));
        let mut end = 0;
        found.retain(|(at, _)| {
            let keep = at.start >= end;
            if keep {
                end = at.end;
            }
            keep
        });
        found
    }

    /// Runs the prefix lookup over one text (the input or a view made by `chain`) and hands
    /// every verified hit, with the bytes of `text` it covers, to `each`.
    fn search(
        &self,
        text: &[u8],
        chain: Option<&Chain>,
        each: &mut dyn FnMut(SecretHit, Range<usize>) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let Some(tables) = &self.tables else {
            return ControlFlow::Continue(());
        };
        let mut on_match = |start: usize, group: usize| {
            for pattern in tables.group(group) {
                let bytes = tables.forms.bytes(pattern);
                // A prefix matched, ignoring case: the whole form must match the same way
                // before its own check (case, for the case-sensitive forms).
                let whole = text
                    .get(start..start.saturating_add(bytes.len()))
                    .filter(|f| f.eq_ignore_ascii_case(bytes));
                let Some(encoding) = whole.and_then(|f| pattern.form.verify(bytes, f)) else {
                    continue;
                };
                let encoding = match chain {
                    None => encoding,
                    Some(chain) if chain.base64_only() && !encoding.is_base64() => continue,
                    Some(chain) => chain.report(encoding),
                };
                let hit = SecretHit {
                    secret: pattern.secret,
                    encoding,
                };
                each(hit, start..start + bytes.len())?;
            }
            ControlFlow::Continue(())
        };
        if tables.gate.always || !tables.prefixes.uniform() {
            if !tables.gate.may_match(text) {
                return ControlFlow::Continue(());
            }
            return tables.prefixes.each_match(text, &mut on_match);
        }
        // Every form's occurrence starts at most 3 bytes before a gate hit: only those
        // starts are looked up, in ascending order, as a lookup at every offset would.
        let mut next = 0;
        tables.gate.each_hit(text, &mut |p| {
            let from = p.saturating_sub(3).max(next);
            next = p + 1;
            tables
                .prefixes
                .each_match_at(text, from..next, &mut on_match)
        })
    }
}

/// How many forms [`each_fixed_form`] hands over at most: 6, and 18 base64 forms.
const FORMS_PER_SECRET: usize = 24;
/// About how many bytes of forms a byte of an ASCII value makes (1 raw, 2 hex, 4 UTF-16,
/// 8 UTF-16 hex, 8 base64, 32 UTF-16 base64): the arena's first size.
const FORM_BYTES_PER_BYTE: usize = 56;

/// Buffers reused from one secret's forms to the next.
#[derive(Default)]
struct Scratch {
    le: Vec<u8>,
    be: Vec<u8>,
    form: Vec<u8>,
    input: Vec<u8>,
    encoded: Vec<u8>,
    /// The standard base64 forms at offsets 0, 1 and 2.
    cores: [Vec<u8>; 3],
}

/// Hands `sink` every fixed form of `value` (some may be empty), with how its matches are
/// verified, in a fixed order: among forms shared by several secrets, or by several
/// encodings of one, the first handed is kept. A base64url form equal to the standard one
/// is not handed over.
fn each_fixed_form(value: &str, scratch: &mut Scratch, sink: &mut dyn FnMut(Form, &[u8])) {
    let Scratch {
        le,
        be,
        form,
        input,
        encoded,
        cores,
    } = scratch;
    let raw = value.as_bytes();
    le.clear();
    le.extend(value.encode_utf16().flat_map(u16::to_le_bytes));
    be.clear();
    be.extend(value.encode_utf16().flat_map(u16::to_be_bytes));
    sink(Form::Exact(Encoding::Raw), raw);
    hex_into(raw, form);
    sink(Form::Hex, form);
    sink(Form::Exact(Encoding::Utf16Le), le);
    sink(Form::Exact(Encoding::Utf16Be), be);
    hex_into(le, form);
    sink(Form::AnyCase(Encoding::Utf16LeHex), form);
    hex_into(be, form);
    sink(Form::AnyCase(Encoding::Utf16BeHex), form);
    for (bytes, std, url) in [
        (raw, Encoding::Base64, Encoding::Base64Url),
        (&le[..], Encoding::Utf16LeBase64, Encoding::Utf16LeBase64),
        (&be[..], Encoding::Utf16BeBase64, Encoding::Utf16BeBase64),
    ] {
        for (offset, core) in cores.iter_mut().enumerate() {
            core.clear();
            core.extend_from_slice(base64_core(bytes, offset, input, encoded));
            sink(Form::Exact(std), core);
        }
        // The URL-safe alphabet differs in `+` and `/` only: without them the form is the
        // standard one, already handed over (a duplicate would be dropped).
        for core in cores.iter() {
            if core.iter().any(|&b| b == b'+' || b == b'/') {
                form.clear();
                form.extend(core.iter().map(|&b| match b {
                    b'+' => b'-',
                    b'/' => b'_',
                    other => other,
                }));
                sink(Form::Exact(url), form);
            }
        }
    }
    each_disguised_form(raw, form, sink);
}

/// Hands `sink` the forms a value takes when someone hides it rather than encodes it for
/// transport: ROT13, base32, Ascii85, octal digits, and the hex and base64 of the value
/// written backwards. Each is the value's own encoding, from its first byte; where the last
/// character of an encoding depends on what follows the value, it is cut off. `form` is
/// scratch space.
fn each_disguised_form(raw: &[u8], form: &mut Vec<u8>, sink: &mut dyn FnMut(Form, &[u8])) {
    form.clear();
    form.extend(raw.iter().map(|&b| rot13(b)));
    if form[..] != *raw {
        sink(Form::Exact(Encoding::Rot13), form);
    }
    let base32 = data_encoding::BASE32_NOPAD.encode(raw);
    let cut = usize::from(!raw.len().is_multiple_of(5));
    let end = base32.len().saturating_sub(cut);
    sink(
        Form::AnyCase(Encoding::Base32),
        base32.as_bytes().get(..end).unwrap_or_default(),
    );
    ascii85_into(raw, form);
    sink(Form::Exact(Encoding::Ascii85), form);
    form.clear();
    for &b in raw {
        form.extend([b >> 6, (b >> 3) & 7, b & 7].map(|digit| b'0' + digit));
    }
    sink(Form::Exact(Encoding::Octal), form);
    let backwards: Vec<u8> = raw.iter().rev().copied().collect();
    hex_into(&backwards, form);
    sink(Form::AnyCase(Encoding::ReversedHex), form);
    let base64 = STANDARD_NO_PAD.encode(&backwards);
    let cut = usize::from(!backwards.len().is_multiple_of(3));
    let end = base64.len().saturating_sub(cut);
    sink(
        Form::Exact(Encoding::ReversedBase64),
        base64.as_bytes().get(..end).unwrap_or_default(),
    );
    form.clear();
    form.extend(raw.iter().filter(|b| !is_separator(**b)));
    if form.len() < raw.len() && form.len() >= MIN_SECRET_LEN {
        sink(Form::Exact(Encoding::Unpunctuated), form);
    }
}

/// An ASCII byte a reader takes for a separator: punctuation and white space.
fn is_separator(b: u8) -> bool {
    b.is_ascii_punctuation() || b.is_ascii_whitespace() || b == 0x0b
}

/// A letter turned 13 places; any other byte as it is.
fn rot13(b: u8) -> u8 {
    match b {
        b'a'..=b'z' => (b - b'a' + 13) % 26 + b'a',
        b'A'..=b'Z' => (b - b'A' + 13) % 26 + b'A',
        other => other,
    }
}

/// Ascii85 (Adobe's alphabet, `!` to `u`) of `value`'s whole 4-byte groups, in place of
/// what `out` held: the characters of a last partial group depend on what follows it.
fn ascii85_into(value: &[u8], out: &mut Vec<u8>) {
    out.clear();
    for group in value.chunks_exact(4) {
        let mut word = group.iter().fold(0u32, |w, &b| (w << 8) | u32::from(b));
        let mut digits = [0u8; 5];
        for digit in digits.iter_mut().rev() {
            *digit = b'!' + (word % 85) as u8;
            word /= 85;
        }
        out.extend_from_slice(&digits);
    }
}

/// The base64 characters that depend only on `value` when it starts `offset` bytes into
/// a 3-byte group and unknown bytes follow it. A secret inside a larger encoded blob
/// (`Basic base64("user:" + secret)`) starts at an arbitrary byte offset, so the secret is
/// encoded behind 0, 1 and 2 filler bytes and the output characters that depend on the
/// filler or on whatever follows the secret are cut off. What remains appears verbatim in
/// every base64 text containing the secret at that alignment, padded or not. Standard
/// alphabet; `input` and `encoded` are scratch space.
fn base64_core<'a>(
    value: &[u8],
    offset: usize,
    input: &mut Vec<u8>,
    encoded: &'a mut Vec<u8>,
) -> &'a [u8] {
    input.clear();
    input.resize(offset, 0);
    input.extend_from_slice(value);
    encoded.clear();
    encoded.resize(base64::encoded_len(input.len(), false).unwrap_or(0), 0);
    let written = STANDARD_NO_PAD
        .encode_slice(&input[..], encoded)
        .unwrap_or(0);
    encoded.truncate(written);
    let skip = match offset {
        0 => 0,
        1 => 2,
        _ => 3,
    };
    let cut = if input.len().is_multiple_of(3) { 0 } else { 1 };
    let end = encoded.len().saturating_sub(cut);
    encoded.get(skip..end).unwrap_or_default()
}

/// Lower-case hex of `value`, in place of what `out` held.
fn hex_into(value: &[u8], out: &mut Vec<u8>) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.clear();
    out.reserve(value.len() * 2);
    for nibble in value.iter().flat_map(|&b| [b >> 4, b & 15]) {
        out.extend(DIGITS.get(usize::from(nibble)));
    }
}

/// A necessary condition for a match, checked in a few lookups per 4 bytes.
///
/// The windows of 8 bytes at offsets 0 to 3 of every pattern of at least 11 bytes (of 4
/// bytes for shorter ones) are in a set, ASCII letters folded to lower case (each byte or-ed
/// with `0x20`, which also folds a few punctuation pairs: harmless for a filter). An
/// occurrence of a pattern of length `L >= 11` starting at `s` contains the text offset
/// `p`, the first multiple of 4 at or after `s`, with `p - s <= 3` and `p + 8 <= s + L`; so
/// probing the windows at every 4th offset meets every occurrence (for `L` in 7..=10,
/// 4-byte windows). A bitset in front of the exact set keeps most probes to one memory
/// access.
#[derive(Clone)]
struct Gate {
    /// Bloom-style bitset, indexed by the top bits of the hash.
    bits: Vec<u64>,
    bit_shift: u32,
    /// Open-addressing set of hashed keys (never 0: folded bytes are never 0, and the hash
    /// is a bijection).
    slots: Vec<u64>,
    slot_shift: u32,
    /// Some pattern is shorter than 11 bytes: probe 4-byte windows too.
    short: bool,
    /// Some pattern is too short for the argument above: always pass.
    always: bool,
}

const FOLD: u64 = 0x2020_2020_2020_2020;
const SHORT_MASK: u64 = 0xFFFF_FFFF;
/// Offsets of a pattern whose windows the gate holds: one of them is at a multiple of 4.
const GATE_OFFSETS: std::ops::Range<usize> = 0..4;

impl Gate {
    fn new<'a>(patterns: impl Iterator<Item = &'a [u8]>) -> Gate {
        let mut hashes: Vec<u64> = Vec::with_capacity(patterns.size_hint().0 * GATE_OFFSETS.len());
        let (mut short, mut always) = (false, false);
        for p in patterns {
            let windows = GATE_OFFSETS.filter_map(|at| p.get(at..));
            if p.len() >= 11 {
                hashes.extend(windows.map(|w| (load8(w) | FOLD).wrapping_mul(HASH_MUL)));
            } else if p.len() >= 7 {
                short = true;
                let fold = FOLD & SHORT_MASK;
                hashes.extend(windows.map(|w| (load4(w) | fold).wrapping_mul(HASH_MUL)));
            } else {
                always = true;
            }
        }
        // Sorted, the hashes fill the bitset and the slots front to back.
        hashes.sort_unstable();
        hashes.dedup();
        let bit_count = (hashes.len() * 32)
            .next_power_of_two()
            .clamp(1 << 12, 1 << 23);
        let slot_count = (hashes.len() * 2).next_power_of_two().max(16);
        let mut gate = Gate {
            bits: vec![0; bit_count / 64],
            bit_shift: 64 - bit_count.trailing_zeros(),
            slots: vec![0; slot_count],
            slot_shift: 64 - slot_count.trailing_zeros(),
            short,
            always,
        };
        let mask = slot_count - 1;
        for h in hashes {
            let bit = (h >> gate.bit_shift) as usize;
            if let Some(word) = gate.bits.get_mut(bit / 64) {
                *word |= 1 << (bit % 64);
            }
            let mut slot = (h >> gate.slot_shift) as usize;
            while gate.slots.get(slot).is_some_and(|&s| s != 0) {
                slot = (slot + 1) & mask;
            }
            if let Some(s) = gate.slots.get_mut(slot) {
                *s = h;
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
        self.has_exact(h)
    }

    #[inline(never)]
    fn has_exact(&self, h: u64) -> bool {
        let mask = self.slots.len() - 1;
        let mut slot = (h >> self.slot_shift) as usize;
        while let Some(&s) = self.slots.get(slot) {
            if s == h {
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
        self.always
            || self
                .each_hit(text, &mut |_| ControlFlow::Break(()))
                .is_break()
    }

    /// Hands `each` every offset of `text`, a multiple of 4, whose window is in the set: an
    /// occurrence of a pattern starting at `s` has one at the first multiple of 4 at or
    /// after `s` (unless [`Gate::always`]).
    fn each_hit(
        &self,
        text: &[u8],
        each: &mut dyn FnMut(usize) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let mut p = 0;
        while let Some(window) = text.get(p..p + 8) {
            let key = load8(window) | FOLD;
            if self.has(key) || (self.short && self.has(key & SHORT_MASK)) {
                each(p)?;
            }
            p += 4;
        }
        if self.short {
            while let Some(window) = text.get(p..p + 4) {
                if self.has(load4(window) | (FOLD & SHORT_MASK)) {
                    each(p)?;
                }
                p += 4;
            }
        }
        ControlFlow::Continue(())
    }
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
    use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
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

    #[allow(clippy::too_many_lines)] // one table of cases, read row by row
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
            ("rot13", s, line("f3pe3g/i4yhr+k?"), Encoding::Rot13),
            (
                "base32, lower case, padded",
                s,
                line(&data_encoding::BASE32.encode(b).to_lowercase()),
                Encoding::Base32,
            ),
            ("ascii85", s, line("F#.<H1NY9n1i.;G"), Encoding::Ascii85),
            (
                "octal",
                s,
                line(&b.iter().map(|b| format!("{b:03o}")).collect::<String>()),
                Encoding::Octal,
            ),
            (
                "hex of the value backwards",
                s,
                line(&hexs(
                    &s.bytes().rev().collect::<Vec<u8>>(),
                    &[true],
                    "",
                    "",
                )),
                Encoding::ReversedHex,
            ),
            (
                "without its separators",
                s,
                line("s3cr3tv4luex"),
                Encoding::Unpunctuated,
            ),
            (
                "base64 of the value backwards",
                s,
                line(&STANDARD.encode(s.bytes().rev().collect::<Vec<u8>>())),
                Encoding::ReversedBase64,
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

    /// Every fixed form of `value` (the empty ones left out), in the scanner's order.
    fn fixed_forms(value: &str) -> Vec<(Form, Vec<u8>)> {
        let mut out = Vec::new();
        each_fixed_form(value, &mut Scratch::default(), &mut |form, bytes| {
            if !bytes.is_empty() {
                out.push((form, bytes.to_vec()));
            }
        });
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The forms are those of the reference: every encoding computed on its own, the
        /// URL-safe base64 with its own engine, duplicates (only) left out.
        #[test]
        fn forms_match_the_reference(secret in "[ -~]{8,40}|\\PC{3,12}") {
            prop_assume!(secret.len() >= MIN_SECRET_LEN);
            let mut want = reference_forms(&secret);
            let mut seen = std::collections::HashSet::new();
            want.retain(|f| seen.insert(f.1.clone()));
            let mut got = fixed_forms(&secret);
            let mut seen = std::collections::HashSet::new();
            got.retain(|f| seen.insert(f.1.clone()));
            let show = |v: &[(Form, Vec<u8>)]| -> Vec<(String, Vec<u8>)> {
                v.iter().map(|(f, b)| (format!("{f:?}"), b.clone())).collect()
            };
            prop_assert_eq!(show(&got), show(&want));
        }
    }

    /// The fixed forms as the scanner computed them before the arena: each encoding on
    /// its own, both base64 engines.
    fn reference_forms(value: &str) -> Vec<(Form, Vec<u8>)> {
        let raw = value.as_bytes();
        let le = utf16(value, true);
        let be = utf16(value, false);
        let hex = |b: &[u8]| {
            b.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
                .into_bytes()
        };
        let mut forms = vec![
            (Form::Exact(Encoding::Raw), raw.to_vec()),
            (Form::Hex, hex(raw)),
            (Form::Exact(Encoding::Utf16Le), le.clone()),
            (Form::Exact(Encoding::Utf16Be), be.clone()),
            (Form::AnyCase(Encoding::Utf16LeHex), hex(&le)),
            (Form::AnyCase(Encoding::Utf16BeHex), hex(&be)),
        ];
        for (bytes, std, url) in [
            (raw, Encoding::Base64, Encoding::Base64Url),
            (&le[..], Encoding::Utf16LeBase64, Encoding::Utf16LeBase64),
            (&be[..], Encoding::Utf16BeBase64, Encoding::Utf16BeBase64),
        ] {
            for (encoding, engine) in [(std, &STANDARD_NO_PAD), (url, &URL_SAFE_NO_PAD)] {
                for offset in 0..3 {
                    let mut input = vec![0u8; offset];
                    input.extend_from_slice(bytes);
                    let encoded = engine.encode(&input).into_bytes();
                    let skip = [0, 2, 3][offset];
                    let cut = usize::from(!input.len().is_multiple_of(3));
                    let core = encoded[skip..encoded.len() - cut].to_vec();
                    if !core.is_empty() {
                        forms.push((Form::Exact(encoding), core));
                    }
                }
            }
        }
        forms.extend(reference_disguised_forms(raw));
        forms
    }

    /// The disguised forms, each computed on its own.
    fn reference_disguised_forms(raw: &[u8]) -> Vec<(Form, Vec<u8>)> {
        let mut forms = Vec::new();
        let rot: Vec<u8> = raw
            .iter()
            .map(|&b| match b {
                b'a'..=b'm' | b'A'..=b'M' => b + 13,
                b'n'..=b'z' | b'N'..=b'Z' => b - 13,
                other => other,
            })
            .collect();
        if rot != raw {
            forms.push((Form::Exact(Encoding::Rot13), rot));
        }
        let padded = data_encoding::BASE32.encode(raw);
        let mut base32 = padded.trim_end_matches('=').as_bytes().to_vec();
        if !raw.len().is_multiple_of(5) {
            base32.pop();
        }
        forms.push((Form::AnyCase(Encoding::Base32), base32));
        let ascii85: Vec<u8> = raw
            .chunks_exact(4)
            .flat_map(|g| {
                let word = u32::from_be_bytes([g[0], g[1], g[2], g[3]]);
                (0..5u32).map(move |i| b'!' + (word / 85u32.pow(4 - i) % 85) as u8)
            })
            .collect();
        forms.push((Form::Exact(Encoding::Ascii85), ascii85));
        let octal: String = raw.iter().map(|b| format!("{b:03o}")).collect();
        forms.push((Form::Exact(Encoding::Octal), octal.into_bytes()));
        let backwards: Vec<u8> = raw.iter().rev().copied().collect();
        let hex: String = backwards.iter().map(|b| format!("{b:02x}")).collect();
        forms.push((Form::AnyCase(Encoding::ReversedHex), hex.into_bytes()));
        let mut base64 = STANDARD_NO_PAD.encode(&backwards).into_bytes();
        if !backwards.len().is_multiple_of(3) {
            base64.pop();
        }
        forms.push((Form::Exact(Encoding::ReversedBase64), base64));
        let kept: Vec<u8> = raw
            .iter()
            .copied()
            .filter(|b| !(b.is_ascii_punctuation() || b.is_ascii_whitespace() || *b == 0x0b))
            .collect();
        if kept.len() < raw.len() && kept.len() >= MIN_SECRET_LEN {
            forms.push((Form::Exact(Encoding::Unpunctuated), kept));
        }
        forms
    }

    #[test]
    fn forms_are_kept_once_the_first_secret_s() {
        // Two secrets of the same value, and a third: the copy adds no form.
        let build = |values: &[&str]| -> SecretScanner {
            let list: Vec<Secret> = values
                .iter()
                .enumerate()
                .map(|(i, v)| Secret::new(format!("S{i}"), SecretValue::new(*v), vec![]))
                .collect();
            SecretScanner::new(&list).unwrap()
        };
        let one = build(&["first-value-1234"]);
        let all = build(&["first-value-1234", "first-value-1234", "other-value-99"]);
        let other = build(&["other-value-99"]);
        assert_eq!(
            all.pattern_count(),
            one.pattern_count() + other.pattern_count()
        );
        let tables = all.tables.as_ref().unwrap();
        assert!(tables.forms.patterns.iter().all(|p| p.secret != 1));
        // The forms of one value are distinct and in the order of `fixed_forms`.
        let mut want = fixed_forms("first-value-1234");
        let mut seen = std::collections::HashSet::new();
        want.retain(|f| seen.insert(f.1.clone()));
        let forms = &one.tables.as_ref().unwrap().forms;
        let got: Vec<&[u8]> = forms.patterns.iter().map(|p| forms.bytes(p)).collect();
        let want: Vec<&[u8]> = want.iter().map(|f| &f.1[..]).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn shared_prefixes_are_kept_once_each_form() {
        // 3,000 values sharing their first 12 bytes (every form's prefix is shared by all),
        // each twice: the second copies add nothing.
        let values: Vec<String> = (0..3_000).map(|i| format!("sk-proj-abcd{i:08}")).collect();
        let list: Vec<Secret> = values
            .iter()
            .chain(&values)
            .enumerate()
            .map(|(i, v)| Secret::new(format!("S{i}"), SecretValue::new(v.clone()), vec![]))
            .collect();
        let s = SecretScanner::new(&list).unwrap();
        let once = SecretScanner::new(list.get(..3_000).unwrap()).unwrap();
        let listed = |s: &SecretScanner| -> Vec<(usize, Vec<u8>)> {
            let forms = &s.tables.as_ref().unwrap().forms;
            let all = forms.patterns.iter();
            all.map(|p| (p.secret, forms.bytes(p).to_vec())).collect()
        };
        assert_eq!(listed(&s), listed(&once));
        let mut out = vec![];
        s.find(line(&values[1234]).as_bytes(), &mut out);
        assert_eq!(
            out,
            vec![SecretHit {
                secret: 1234,
                encoding: Encoding::Raw
            }]
        );
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
        let forms = &s.tables.as_ref().unwrap().forms;
        assert!(forms.patterns.iter().all(|p| p.secret < 250));
        let mut bytes: Vec<&[u8]> = forms.patterns.iter().map(|p| forms.bytes(p)).collect();
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
