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

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::decode::{Coverage, decoded_views_checked, hex_byte, hex4, json_unescape};
use super::detect::{Detector, Kind};
use super::escapes;
use super::scan::{SecretHit, SecretScanner};

/// What stands in for withheld text.
pub const WITHHELD: &str = "[redacted]";

/// Withholds text that carries a secret (supplied or a well-known format) in any encoding.
/// Its `Debug` shows the scanner (names and counts) and whether the detector is on, never
/// a text it judged.
#[derive(Clone)]
pub struct Redactor {
    scanner: SecretScanner,
    /// The line check's detector (prefixes start a word).
    detector: Option<Detector>,
    /// The same detector without the word-boundary rule, for judging output.
    shown: Option<Detector>,
    /// Decisions on short texts already judged: a report repeats the same messages, keys
    /// and pointers thousands of times, and each judgement decodes and scans.
    memo: Arc<Mutex<HashMap<Box<[u8]>, bool>>>,
    /// No text shorter than this carries a secret: the shortest fixed form of a supplied
    /// secret, or of a match of the detector. Every view judged (decoded, unescaped, as
    /// displayed, reversed) is no longer than its text, so shorter texts (most numbers,
    /// methods, short names) are cleared without a search.
    shortest: usize,
    /// The shortest runs decoded: shorter for a short supplied value.
    runs: Runs,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("scanner", &self.scanner)
            .field("detector", &self.detector.is_some())
            .finish_non_exhaustive()
    }
}

/// Texts up to this many bytes have their decision remembered.
const MEMO_TEXT: usize = 512;
/// Decisions remembered at most (the memory is forgotten when it is full).
const MEMO_ENTRIES: usize = 8192;

impl Redactor {
    /// A redactor for the secrets of `scanner` and, when given, the formats of `detector`.
    pub fn new(scanner: SecretScanner, detector: Option<Detector>) -> Self {
        let shown = detector.clone().map(Detector::anywhere);
        let shortest = scanner
            .shortest_form()
            .unwrap_or(usize::MAX)
            .min(if detector.is_some() {
                super::detect::SHORTEST_MATCH
            } else {
                usize::MAX
            });
        let runs = Runs::for_bytes(scanner.shortest_form().map_or(usize::MAX, |len| len + 1));
        Redactor {
            scanner,
            detector,
            shown,
            memo: Arc::default(),
            shortest,
            runs,
        }
    }

    /// A redactor that withholds nothing (no secrets, no detector).
    pub fn none() -> Self {
        Redactor {
            scanner: SecretScanner::empty(),
            detector: None,
            shown: None,
            memo: Arc::default(),
            shortest: usize::MAX,
            runs: Runs::default(),
        }
    }

    /// The scanner of supplied secrets.
    pub fn scanner(&self) -> &SecretScanner {
        &self.scanner
    }

    /// No text shorter than this carries a secret as written (every view the redactor judges
    /// is no longer than its text); a caller that also judges longer forms of a text (its
    /// escaped forms) may only use it for texts those forms leave as they are.
    pub fn shortest(&self) -> usize {
        self.shortest
    }

    /// The built-in detector, when on.
    pub fn detector(&self) -> Option<&Detector> {
        self.detector.as_ref()
    }

    /// Appends to `hits` every supplied secret `text` carries, in any encoding the scanner
    /// decodes, and to `kinds` every well-known credential format, found in `text` or in one
    /// of its decoded views. This is the line check itself; the gate asks the same question.
    /// Returns whether a decoding cap cut the search short.
    pub fn sweep(&self, text: &[u8], hits: &mut Vec<SecretHit>, kinds: &mut Vec<Kind>) -> Coverage {
        let coverage = self.scanner.find_checked(text, hits);
        match &self.detector {
            Some(detector) => coverage.and(detect(detector, text, kinds)),
            None => coverage,
        }
    }
}

/// The detector's half of [`Redactor::sweep`]: `text` and its decoded views (each also as a
/// terminal shows it, see [`displayed`]).
fn detect(detector: &Detector, text: &[u8], kinds: &mut Vec<Kind>) -> Coverage {
    detector.find(text, kinds);
    // The detector reads the decoded views too (a key written `sk\u002dproj...`), but only
    // when an escape there stands for a byte a credential is made of, or for a character
    // that may split one: the `\u003e` of every Go log line or a `%20` cannot hide a prefix
    // or a body.
    if !escapes_credential_byte(text) {
        return Coverage::Complete;
    }
    let (views, coverage) = decoded_views_checked(text);
    for (_, view) in views {
        detector.find(&view, kinds);
        if let Some(shown) = std::str::from_utf8(&view).ok().and_then(displayed) {
            detector.find(shown.as_bytes(), kinds);
        }
    }
    // Escapes that decode to control characters only (`A\u0000K\u0000I...`, UTF-16 written
    // as JSON) make no view of their own: what they split is read as a terminal shows it.
    if let Some(shown) = json_unescape(text)
        .as_deref()
        .and_then(|view| std::str::from_utf8(view).ok())
        .and_then(displayed)
    {
        detector.find(shown.as_bytes(), kinds);
    }
    coverage
}

impl Redactor {
    /// Whether `text` carries a supplied secret in any encoding the scanner knows, or a
    /// well-known credential format, in the text or in a decoded view of it: what
    /// [`sweep`](Self::sweep) finds, judged more strictly for output (a known prefix counts
    /// wherever it stands, not only at the start of a word).
    pub fn leaks(&self, text: &str) -> bool {
        self.leaks_remembered(text.as_bytes())
    }

    /// [`leaks_bytes`](Self::leaks_bytes), remembered for short texts.
    fn leaks_remembered(&self, text: &[u8]) -> bool {
        if text.len() > MEMO_TEXT {
            return self.leaks_bytes(text);
        }
        if let Ok(memo) = self.memo.lock()
            && let Some(&known) = memo.get(text)
        {
            return known;
        }
        let leaks = self.leaks_bytes(text);
        if let Ok(mut memo) = self.memo.lock() {
            if memo.len() >= MEMO_ENTRIES {
                memo.clear();
            }
            memo.insert(text.into(), leaks);
        }
        leaks
    }

    /// Whether any form a report prints `text` in ([`crate::report::renderings`]: as is,
    /// escaped, as a SARIF URI, a GitHub property, XML, a JSON string) shows a value: a text
    /// that becomes one only once escaped is withheld before any format escapes it.
    ///
    /// A value shown whole (a path, a name) is also judged with its visible separators taken
    /// out ([`joined_views`]): `AKIAZQ7V/K2PX9MW4NR8T.jsonl`, a key split over two directories, is
    /// the key to whoever reads it.
    pub fn shows_value(&self, text: &str) -> bool {
        let forms = crate::report::renderings(text);
        // Most texts render the same in most formats: judge each distinct form once.
        forms
            .iter()
            .enumerate()
            .filter(|(i, form)| !forms.iter().take(*i).any(|earlier| earlier == *form))
            .any(|(_, form)| self.leaks(form))
            || joined_readings(text)
                .iter()
                .any(|joined| self.leaks(joined))
    }

    /// `text` as every output shows a value taken from input: [`WITHHELD`] when it shows a
    /// secret ([`shows_value`](Self::shows_value)), else escaped to one line
    /// ([`crate::gate::printable`]); borrowed when it is shown as it is.
    pub fn shown<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.shows_value(text) {
            Cow::Owned(WITHHELD.to_owned())
        } else {
            crate::gate::printable(text)
        }
    }

    /// [`leaks`](Self::leaks) for bytes that need not be UTF-8. Text with control or
    /// invisible characters is also judged as a terminal would show it ([`displayed`]): a
    /// value split by backspaces, a carriage return, colour codes, zero-width characters or
    /// a right-to-left override is a value to whoever reads it.
    pub fn leaks_bytes(&self, text: &[u8]) -> bool {
        if text.len() < self.shortest {
            return false;
        }
        self.leaks_judged(text)
    }

    /// Whether `text` as written carries a value: the supplied secrets in every encoding the
    /// scanner knows and well-known keys, in the text only: none of the views of
    /// [`leaks_bytes`](Self::leaks_bytes) (decoded, terminal, reversed, compatibility). For
    /// a text derived from one already judged in full, such as a [`joined_views`] view.
    pub fn leaks_as_is(&self, text: &str) -> bool {
        text.len() >= self.shortest && self.leaks_undecoded(text.as_bytes())
    }

    /// Whether `text` shows a value as it is or in a [`joined_views`] view (its visible
    /// separators taken out), each judged as it is ([`leaks_as_is`](Self::leaks_as_is)): for
    /// text made of parts each judged in full already (a key and its value, a table row's
    /// cells, a message naming paths).
    pub fn leaks_joined(&self, text: &str) -> bool {
        self.leaks_as_is(text)
            || joined_readings(text)
                .iter()
                .any(|view| self.leaks_as_is(view))
    }

    /// Whether `text` itself, not decoded, carries a value: a supplied secret in any
    /// encoding the scanner knows, or a well-known key.
    fn leaks_undecoded(&self, text: &[u8]) -> bool {
        // A cut decoding is a finding of the line check (`secret.scan_incomplete`); for
        // output it is a value not ruled out, and not shown.
        if self.scanner.may_match(text) {
            return true;
        }
        let mut kinds = Vec::new();
        self.shown.as_ref().is_some_and(|detector| {
            !detect(detector, text, &mut kinds).is_complete() || !kinds.is_empty()
        })
    }

    /// Whether `escaped`, an escaped form of `text` (its JSON string, or the `\uXXXX` an
    /// ASCII-only encoder writes), shows a value; `text` itself was judged in full with
    /// [`leaks_bytes`](Self::leaks_bytes) and showed none. When `escaped` is printable ASCII
    /// and unescapes to `text`, only its own views are searched: as written and decoded (an
    /// escape's digits run on into a hex or base64 run beside it), with its escaped controls
    /// dropped (the text's raw ones are escapes in it), and backwards; its other views are
    /// the text's, or empty. Any other escaped form is judged in full.
    pub fn leaks_escaped(&self, text: &str, escaped: &str) -> bool {
        // The JSON escapes are the only ones an escaped form adds: every other escape in it
        // is the text's, read in the text's own views.
        let own_views_only = escaped.bytes().all(|b| (b' '..=b'~').contains(&b))
            && json_unescape(escaped.as_bytes())
                .as_deref()
                .unwrap_or(escaped.as_bytes())
                == text.as_bytes();
        if !own_views_only {
            return self.leaks_bytes(escaped.as_bytes());
        }
        escaped.len() >= self.shortest
            && (self.leaks_as_written(escaped.as_bytes())
                || self.leaks_in_decoded_controls(escaped)
                || self.leaks_backwards(escaped))
    }

    /// [`leaks_bytes`](Self::leaks_bytes) without the length test: every view searched.
    fn leaks_judged(&self, text: &[u8]) -> bool {
        let Ok(text) = std::str::from_utf8(text) else {
            return self.leaks_as_written(text);
        };
        // As a terminal shows it, and as a viewer that ignores control characters does, also
        // where the control character is itself written as an escape (`%01`, `&#1;`).
        let shown = |t: &str| {
            self.leaks_as_written(t.as_bytes())
                || displayed(t).is_some_and(|shown| self.leaks_as_written(shown.as_bytes()))
                || stripped(t).is_some_and(|shown| self.leaks_as_written(shown.as_bytes()))
                || self.leaks_in_decoded_controls(t)
        };
        // In compatibility form (fullwidth letters read as ASCII) and with tag characters
        // read, too: whatever escapes wrote them.
        let judged = |t: &str| {
            shown(t)
                || compatibility_folded(t).is_some_and(|folded| shown(&folded))
                || tags_read(t).is_some_and(|read| shown(&read))
        };
        // Escapes a reader undoes in their head: this gate's own `\u{000D}`, the
        // `b"\0\x1b\t"` of a byte string quoted by a library's error message, octal and
        // `\U0000XXXX` escapes. Written backwards, a value is still one to whoever reads it.
        judged(text)
            || escapes::unescaped(text).iter().any(|plain| {
                judged(plain) || escapes::unescaped(plain).iter().any(|again| judged(again))
            })
            || self.leaks_backwards(text)
    }

    /// Whether `text` written backwards shows a value, as written or as a terminal or a
    /// viewer shows it. Its runs are not decoded: hex or base64 read backwards is not the
    /// encoding of anything (the encodings of a supplied value written backwards are forms
    /// of the scanner's).
    fn leaks_backwards(&self, text: &str) -> bool {
        let backwards = reversed(text);
        self.leaks_undecoded(backwards.as_bytes())
            || displayed(&backwards).is_some_and(|shown| self.leaks_undecoded(shown.as_bytes()))
            || stripped(&backwards).is_some_and(|shown| self.leaks_undecoded(shown.as_bytes()))
    }

    /// Whether `text` carries a value once the control characters written in it as escapes
    /// (`%01`, `&#1;`, `&#x1b;`, `\\u0001`, `\\x01`) are dropped: a value split by them.
    fn leaks_in_decoded_controls(&self, text: &str) -> bool {
        escapes::hidden_dropped(text)
            .iter()
            .any(|shown| self.leaks_as_written(shown.as_bytes()))
    }

    fn leaks_as_written(&self, text: &[u8]) -> bool {
        if self.leaks_undecoded(text) {
            return true;
        }
        // A value written as hex, base64, base32 or a byte list is one to whoever decodes
        // it: its runs are decoded and judged like the text, and what they hold decoded
        // once more (a key base64'd twice, hex of its base64, also behind bytes that are not
        // text glued before the outer run).
        let mut kinds = Vec::new();
        binary_views(text, self.runs)
            .iter()
            .any(|view| self.decoded_leaks(view, DECODE_DEPTH - 1, &mut kinds))
    }

    /// Whether a decoded view shows a value in any reading a reader makes of it: as UTF-8
    /// and as UTF-16 or UTF-32 ([`wide_texts`]), each [`unfolded`] (escapes read, hidden
    /// characters dropped, in any order); with `depth` left, the runs each reading holds are
    /// decoded and judged the same way. The views compose from these steps, so a value
    /// widened, escaped and split by hidden characters inside an encoding is read whole.
    ///
    /// A view that is mostly not text (a hash decoded: most of a log's views) has no
    /// escapes a writer put there: it is read as written and without its hidden characters,
    /// and only as written are its runs decoded again.
    fn decoded_leaks(&self, view: &[u8], depth: usize, kinds: &mut Vec<Kind>) -> bool {
        if self.view_matches(view, kinds) {
            return true;
        }
        let text_like = mostly_text(view);
        // Each reading, and whether it is text (whose runs are decoded again).
        let mut readings: Vec<(String, bool)> = if text_like {
            let readings = unfolded(String::from_utf8_lossy(view).into_owned());
            // The first is the bytes as UTF-8: their runs are read just below.
            readings
                .into_iter()
                .enumerate()
                .map(|(i, r)| (r, i > 0))
                .collect()
        } else {
            stripped_view(view)
                .into_iter()
                .map(|r| (r, false))
                .collect()
        };
        // A wide text is text however binary its bytes look.
        readings.extend(
            wide_texts(view)
                .into_iter()
                .flat_map(unfolded)
                .map(|r| (r, true)),
        );
        // The runs of the view are those of its bytes (a run is ASCII), whether read as
        // UTF-8 or not; those of its other readings are read when it is text.
        let decoded_again = |text: &[u8], kinds: &mut Vec<Kind>| {
            depth > 0
                && binary_views(text, self.runs)
                    .iter()
                    .any(|inner| self.decoded_leaks(inner, depth - 1, kinds))
        };
        if decoded_again(view, kinds) {
            return true;
        }
        readings.iter().any(|(reading, text)| {
            self.view_matches(reading.as_bytes(), kinds)
                || *text && decoded_again(reading.as_bytes(), kinds)
        })
    }

    /// Whether `view` holds a supplied secret as written, or a well-known key.
    fn view_matches(&self, view: &[u8], kinds: &mut Vec<Kind>) -> bool {
        if self.scanner.is_match(view) {
            return true;
        }
        if let Some(detector) = &self.shown {
            detector.find(view, kinds);
        }
        !kinds.is_empty()
    }

    /// Whether `digits`, the decimal text of a number a mapping computed (a time in
    /// nanoseconds), carries a secret. Without supplied secrets a short run of digits never
    /// does: every detector format starts with letters, and digits shorter than a base64 or
    /// hex run have no decoded view.
    pub fn leaks_digits(&self, digits: &str) -> bool {
        let plain = digits.len() < MIN_BASE64_RUN && digits.bytes().all(|b| b.is_ascii_digit());
        if plain && self.scanner.is_empty() {
            return false;
        }
        self.leaks(digits)
    }

    /// Whether the decimal text of a number carries a secret (a card number, a PIN).
    pub fn leaks_number(&self, number: &serde_json::Number) -> bool {
        self.leaks_written_number(&number.to_string())
    }

    /// Whether a number as written in a log (`1.79547810199999999999e9`, with more digits
    /// than a float keeps) carries a secret: as written, and in exponent form also as the
    /// digits it stands for (`9.876543210987654e16` reads as `98765432109876540`).
    pub fn leaks_written_number(&self, text: &str) -> bool {
        written_number_leaks(text, &mut |form| self.leaks(form))
    }

    /// Withholds, in place, every string, number and object key of `value` that carries a
    /// secret: each becomes the string [`WITHHELD`] (keys that become the same get a ` #N`
    /// suffix, so no entry is lost). Returns how many were withheld. The document stays
    /// well-formed JSON whatever it held.
    pub fn redact_json(&self, value: &mut Value) -> usize {
        self.redact_json_with(value, &mut |text| self.leaks(text))
    }

    /// [`Redactor::redact_json`] with the decision on each text taken from `leaks`, for a
    /// caller that remembers its decisions on texts that repeat: each string and key, and
    /// each form of each number ([`leaks_number`](Self::leaks_number)'s).
    pub fn redact_json_with(
        &self,
        value: &mut Value,
        leaks: &mut dyn FnMut(&str) -> bool,
    ) -> usize {
        match value {
            Value::String(s) if leaks(s) => {
                WITHHELD.clone_into(s);
                1
            }
            Value::Number(n)
                if written_number_leaks(NumberText::of(n).as_str(), leaks)
                    || whole_float_digits(n).is_some_and(|digits| leaks(&digits)) =>
            {
                *value = Value::String(WITHHELD.to_owned());
                1
            }
            Value::Array(items) => items
                .iter_mut()
                .map(|v| self.redact_json_with(v, leaks))
                .sum(),
            Value::Object(map) => {
                let mut withheld = 0;
                if map.keys().any(|k| leaks(k)) {
                    let entries = std::mem::take(map);
                    for (key, item) in entries {
                        let key = if leaks(&key) {
                            withheld += 1;
                            unused_key(map, WITHHELD)
                        } else {
                            key
                        };
                        map.insert(key, item);
                    }
                }
                withheld
                    + map
                        .values_mut()
                        .map(|v| self.redact_json_with(v, leaks))
                        .sum::<usize>()
            }
            _ => 0,
        }
    }

    /// `text` with every supplied secret written in it (the value, or a fixed form of it: see
    /// [`SecretScanner::occurrences`]) replaced by `label(name)` of that secret, for a
    /// harness that shows which secret stood where (`<secret NAME>`); borrowed when there is
    /// none. The search is the scanner's: a secret only an escaping hides is left to
    /// [`leaks`](Self::leaks) and the output gate.
    pub fn replace_secrets<'a>(
        &self,
        text: &'a str,
        label: impl Fn(&str) -> String,
    ) -> Cow<'a, str> {
        let found = self.scanner.occurrences(text.as_bytes());
        if found.is_empty() {
            return Cow::Borrowed(text);
        }
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(text.len());
        let mut at = 0;
        for (span, secret) in found {
            out.extend_from_slice(bytes.get(at..span.start).unwrap_or_default());
            out.extend_from_slice(label(self.scanner.name(secret)).as_bytes());
            at = span.end;
        }
        out.extend_from_slice(bytes.get(at..).unwrap_or_default());
        // A form that is not UTF-8 itself (UTF-16 of a non-ASCII value) may have been cut
        // out of the middle of a character: what is left of it is shown as U+FFFD.
        Cow::Owned(String::from_utf8_lossy(&out).into_owned())
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

/// Characters drawn as nothing: the gate's list ([`crate::gate::invisible`]).
pub(super) fn invisible(c: char) -> bool {
    crate::gate::invisible(c)
}

/// Whether `text` has a control, bidirectional or invisible character: one a terminal or a
/// viewer does not show as written. Printable ASCII (most of every log) has none, and is
/// told by a byte test rather than a lookup per character.
pub(super) fn has_hidden_chars(text: &str) -> bool {
    !text.bytes().all(|b| (0x20..0x7F).contains(&b)) && text.chars().any(hidden)
}

/// Whether a reader sees nothing where `c` stands. ASCII and the replacement character (most
/// of a decoded view of binary bytes, read as UTF-8) are told without the tables.
fn hidden(c: char) -> bool {
    if c.is_ascii() {
        !(' '..='~').contains(&c)
    } else {
        c != '\u{FFFD}' && (crate::gate::unsafe_char(c) || invisible(c))
    }
}

/// `text` in Unicode's compatibility form (NFKC), when that differs: fullwidth `ＡＫＩＡ`,
/// mathematical `𝐀𝐊𝐈𝐀`, circled and superscript letters read as `AKIA`. ASCII is its
/// own form.
fn compatibility_folded(text: &str) -> Option<String> {
    if text.is_ascii() {
        return None;
    }
    match icu_normalizer::ComposingNormalizerBorrowed::new_nfkc().normalize(text) {
        std::borrow::Cow::Owned(folded) if folded != text => Some(folded),
        _ => None,
    }
}

/// `text` with its Unicode tag characters (U+E0020 to U+E007E, drawn as nothing) read as the
/// ASCII characters they stand for, when it has any: a value spelled in tags is one to
/// whoever subtracts 0xE0000.
fn tags_read(text: &str) -> Option<String> {
    // Every tag character's UTF-8 starts with 0xF3 0xA0.
    memchr::memmem::find(text.as_bytes(), &[0xF3, 0xA0])?;
    let tag = |c: char| ('\u{E0020}'..='\u{E007E}').contains(&c);
    if !text.chars().any(tag) {
        return None;
    }
    let read = text
        .chars()
        .map(|c| {
            if tag(c) {
                char::from_u32(u32::from(c) - 0xE0000).unwrap_or(c)
            } else {
                c
            }
        })
        .collect();
    Some(read)
}

/// `text` backwards, character by character (byte by byte when it is ASCII, the common
/// case: no per-character decoding).
fn reversed(text: &str) -> String {
    if text.is_ascii() {
        let mut bytes = text.as_bytes().to_vec();
        bytes.reverse();
        // Reversed ASCII is ASCII: the conversion cannot fail, and checks in one pass.
        return String::from_utf8(bytes).unwrap_or_default();
    }
    text.chars().rev().collect()
}

pub use super::terminal::{displayed, drives_a_terminal};

/// Whether at least three quarters of `view`'s bytes are text: printable ASCII, white space,
/// or characters beyond ASCII in valid UTF-8. Binary glued before a text (`AAAA` before
/// base64) leaves it text.
fn mostly_text(view: &[u8]) -> bool {
    // Counted until the budget is spent: a view of binary bytes is told in a few of them.
    let budget = view.len() / 4;
    let mut binary = 0;
    for chunk in view.utf8_chunks() {
        let controls = chunk
            .valid()
            .bytes()
            .filter(|&b| b == 0x7F || b < b' ' && !matches!(b, b'\t' | b'\n' | b'\r'))
            .count();
        binary += controls + chunk.invalid().len();
        if binary > budget {
            return false;
        }
    }
    true
}

/// Levels of encoding decoded: a value encoded twice (base64 of its hex) is read.
const DECODE_DEPTH: usize = 2;
/// Levels of escapes read inside a decoded view: an escape escaped again (`\\u200b`) is read.
const UNESCAPE_DEPTH: usize = 2;

/// `text` and every text a reader makes of it by reading its escapes ([`escapes::unescaped`])
/// or dropping those of hidden characters ([`escapes::hidden_dropped`]), up to
/// [`UNESCAPE_DEPTH`] levels in any order, each also with its raw hidden characters dropped
/// ([`stripped`]) and in compatibility form ([`compatibility_folded`]). A text without
/// escapes or hidden characters is its only reading.
fn unfolded(text: String) -> Vec<String> {
    let mut readings = vec![text];
    let mut level = 0..1;
    for _ in 0..UNESCAPE_DEPTH {
        let start = readings.len();
        let derived: Vec<String> = readings
            .get(level)
            .unwrap_or_default()
            .iter()
            .flat_map(|reading| {
                let mut next = escapes::unescaped(reading);
                next.extend(escapes::hidden_dropped(reading));
                next
            })
            .collect();
        for reading in derived {
            if !readings.contains(&reading) {
                readings.push(reading);
            }
        }
        level = start..readings.len();
    }
    let shown: Vec<String> = readings.iter().filter_map(|r| stripped(r)).collect();
    readings.extend(shown);
    // Fullwidth or other compatibility forms read as ASCII (none for ASCII, most readings).
    let folded: Vec<String> = readings
        .iter()
        .filter_map(|r| compatibility_folded(r))
        .collect();
    readings.extend(folded);
    readings
}

/// Shortest hex run decoded (20 bytes: the shortest key the detector knows, `AKIA` + 16).
const MIN_HEX_RUN: usize = 40;
/// Shortest base64 run decoded.
const MIN_BASE64_RUN: usize = 24;
/// The shortest base32 run decoded: 20 bytes (an AWS key id) take 32 characters.
const MIN_BASE32_RUN: usize = 32;

/// `view` read as UTF-16 (both byte orders, from its first byte and its second) when at
/// least a fifth of its bytes are NUL, and as UTF-32 too (from each of its first four bytes)
/// when half are: how the wide
/// encodings of ASCII text look, also with a character beyond ASCII between each letter.
fn wide_texts(view: &[u8]) -> Vec<String> {
    let zeros = view.iter().filter(|&&b| b == 0).count();
    let mut texts = Vec::new();
    // The letters of one block beyond Latin (fullwidth `ＡＫＩＡ`: FF21 FF2B ...) share their
    // high byte, where ASCII's is NUL.
    let one_block = |from: usize| {
        let first = view.get(from).copied();
        view.iter().skip(from).step_by(2).all(|&b| Some(b) == first)
    };
    // The letters of a few blocks (mathematical bold: surrogates D835 DC00...) have few
    // high bytes; every UTF-32 unit's top byte is NUL.
    let few_values = |from: usize| {
        let mut seen = [false; 256];
        let mut distinct = 0;
        for &b in view.iter().skip(from).step_by(2) {
            if let Some(slot) = seen.get_mut(usize::from(b))
                && !*slot
            {
                *slot = true;
                distinct += 1;
            }
        }
        distinct <= 3
    };
    let block = view.len() >= 8 && (one_block(0) || one_block(1) || few_values(0) || few_values(1));
    let utf32 = view.len() >= 8 && (0..4).any(|k| view.iter().skip(k).step_by(4).all(|&b| b == 0));
    if view.len() < 4 || zeros * 5 < view.len() && !block && !utf32 {
        return texts;
    }
    // From each byte a unit may start at: bytes glued before the wide text (the tail of a
    // path's `logs/` decoded with a base64 run it joins) shift it.
    for big in [false, true] {
        for skip in 0..2 {
            let units = view
                .get(skip..)
                .unwrap_or_default()
                .chunks_exact(2)
                .map(|pair| {
                    let pair = [
                        pair.first().copied().unwrap_or(0),
                        pair.get(1).copied().unwrap_or(0),
                    ];
                    if big {
                        u16::from_be_bytes(pair)
                    } else {
                        u16::from_le_bytes(pair)
                    }
                });
            texts.push(
                char::decode_utf16(units)
                    .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                    .collect(),
            );
        }
        if zeros * 2 < view.len() && !utf32 {
            continue;
        }
        for skip in 0..4 {
            let quads = view.get(skip..).unwrap_or_default().chunks_exact(4);
            texts.push(
                quads
                    .filter_map(|quad| <[u8; 4]>::try_from(quad).ok())
                    .map(|quad| {
                        if big {
                            u32::from_be_bytes(quad)
                        } else {
                            u32::from_le_bytes(quad)
                        }
                    })
                    .map(|code| char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER))
                    .collect(),
            );
        }
    }
    texts
}

/// The shortest runs of each encoding [`binary_views`] decodes: those of the shortest key the
/// detector knows, or shorter when a supplied value with one hidden character between its
/// letters is shorter (a DEL in the hex of an 18-byte value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Runs {
    hex: usize,
    base64: usize,
    base32: usize,
}

impl Default for Runs {
    fn default() -> Self {
        Runs {
            hex: MIN_HEX_RUN,
            base64: MIN_BASE64_RUN,
            base32: MIN_BASE32_RUN,
        }
    }
}

impl Runs {
    /// The runs that hold `bytes` decoded bytes unpadded, or the default ones when those are
    /// shorter.
    fn for_bytes(bytes: usize) -> Self {
        let default = Runs::default();
        let bits = bytes.saturating_mul(8);
        Runs {
            hex: bytes.saturating_mul(2).clamp(1, default.hex),
            base64: bits.div_ceil(6).clamp(1, default.base64),
            base32: bits.div_ceil(5).clamp(1, default.base32),
        }
    }

    /// The shortest text that can hold a decoded view: one of these runs, or a byte list.
    fn shortest_text(self) -> usize {
        (MIN_BYTE_LIST * 2 - 1)
            .min(self.hex)
            .min(self.base64)
            .min(self.base32)
    }
}

/// The hex runs (pairs may be joined by `:`) and base64 runs (either alphabet, at each of
/// the four character offsets) of `text`, decoded.
fn binary_views(text: &[u8], shortest: Runs) -> Vec<Vec<u8>> {
    // The shortest text that holds a view: a list of MIN_BYTE_LIST one-digit numbers with
    // one separator each; hex and base64 runs are longer still.
    if text.len() < shortest.shortest_text() || !may_hold_views(text, shortest) {
        return Vec::new();
    }
    decoded_views(text, shortest)
}

/// [`binary_views`] without the quick test for a run long enough.
fn decoded_views(text: &[u8], shortest: Runs) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    const LENIENT: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let mut views = Vec::new();
    for run in runs(text, |b| b.is_ascii_hexdigit() || b == b':') {
        // Counted before anything is copied: most runs (numbers, words) are short.
        if run.iter().filter(|&&b| b != b':').count() >= shortest.hex {
            let digits: Vec<u8> = run.iter().copied().filter(|&b| b != b':').collect();
            // Both alignments: a reader drops a stray leading digit as readily as none.
            for offset in 0..2 {
                let pairs = digits.get(offset..).unwrap_or_default().chunks_exact(2);
                views.push(pairs.filter_map(|p| hex_byte(p, 0)).collect());
            }
        }
    }
    views.extend(byte_lists(text));
    let base64_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_');
    for run in runs(text, base64_byte) {
        if run.len() < shortest.base64 {
            continue;
        }
        let standard: Vec<u8> = run
            .iter()
            .map(|&b| match b {
                b'-' => b'+',
                b'_' => b'/',
                b => b,
            })
            .collect();
        for offset in 0..4 {
            let piece = standard.get(offset..).unwrap_or_default();
            // A last group of 2 or 3 characters holds 1 or 2 bytes; 1 character holds none.
            let whole = piece.len() - usize::from(piece.len() % 4 == 1);
            if let Ok(bytes) = LENIENT.decode(piece.get(..whole).unwrap_or_default()) {
                views.push(bytes);
            }
        }
    }
    views.extend(base32_views(text, shortest));
    views
}

/// Base32 runs (RFC 4648's alphabet, either case) decoded from
/// the run's start: `IFFUSQK2...` is a key to whoever decodes it.
fn base32_views(text: &[u8], shortest: Runs) -> Vec<Vec<u8>> {
    let base32_byte = |b: u8| b.is_ascii_alphabetic() || (b'2'..=b'7').contains(&b);
    let mut views = Vec::new();
    for run in runs(text, base32_byte) {
        if run.len() < shortest.base32 {
            continue;
        }
        // The run, or the longest start of it that decodes: a last group cut short (7, 5, 4
        // or 2 characters, unpadded) holds the value's last bytes.
        let upper = run.to_ascii_uppercase();
        let decoded = (run.len().saturating_sub(7)..=run.len())
            .rev()
            .find_map(|len| data_encoding::BASE32_NOPAD.decode(upper.get(..len)?).ok());
        if let Some(bytes) = decoded {
            views.push(bytes);
        }
    }
    views
}

/// `text` without the separators a reader skips when a value is split for show: white space
/// of any kind, ASCII punctuation, and beyond ASCII whatever is not a letter or a digit
/// (marks, dots, dashes, symbols). Two views: one keeps `_` and `-` (key
/// formats hold them: `ghp_`, `sk-proj-`), one drops every separator; each only when it
/// differs from the text and from the other, and holds something.
pub fn joined_views(text: &str) -> Vec<String> {
    if text.is_ascii() {
        return joined_ascii_views(text);
    }
    joined_char_views(text)
}

/// The readings of `text` besides itself: its escapes undone or those of hidden characters
/// dropped (two levels, in any order), each also with its hidden characters dropped; empty
/// for a text of printable ASCII without an escape. For text made of pieces each judged in
/// full (a record's fields run together), whose joins only these readings change.
pub fn readings(text: &str) -> Vec<String> {
    // Printable ASCII without an escape's first byte (most of any log) reads as written.
    let plain = |b: u8| (b' '..=b'~').contains(&b) && !matches!(b, b'%' | b'&' | b'\\');
    if text.bytes().all(plain) {
        return Vec::new();
    }
    let mut readings = unfolded(text.to_owned());
    readings.remove(0);
    readings
}

/// [`joined_views`] of `text` and of each of its readings with its escapes undone, one or two
/// levels (every syntax of the gate's escape table): a separator written as an escape (`&#32;`, `%20`, `\x20`) is
/// taken out like one written as it is.
pub fn joined_readings(text: &str) -> Vec<String> {
    let mut views = joined_views(text);
    for reading in escapes::unescaped(text) {
        views.extend(joined_views(&reading));
        // Escaped twice (`&amp;#32;`).
        for again in escapes::unescaped(&reading) {
            views.extend(joined_views(&again));
        }
    }
    views
}

/// The last of [`joined_views`]: `text` without any of its separators, `_` and `-`
/// included; `None` when it has none, or nothing but separators.
pub fn without_separators(text: &str) -> Option<String> {
    let view = if text.is_ascii() {
        ascii_kept(text, |b| ascii_class(b) == KEPT)
    } else {
        text.chars().filter(|&c| !every_separator(c)).collect()
    };
    (!view.is_empty() && view.len() < text.len()).then_some(view)
}

/// Beyond ASCII, whatever is not a letter or a digit reads as a separator: white space, marks,
/// dots and dashes of every script (`·`, `‐`, `−`), symbols, invisible characters.
fn spacing(c: char) -> bool {
    c.is_whitespace() || (!c.is_ascii() && !c.is_alphanumeric())
}

/// A separator of the view that keeps nothing but letters and digits.
fn every_separator(c: char) -> bool {
    spacing(c) || c.is_ascii_punctuation()
}

/// The bytes of ASCII `text` that `keep` keeps, in order.
fn ascii_kept(text: &str, keep: impl Fn(u8) -> bool) -> String {
    // Every byte is written and the end moves on only past a kept one: no branch a byte.
    let mut kept = vec![0u8; text.len()];
    let mut end = 0;
    for b in text.bytes() {
        if let Some(slot) = kept.get_mut(end) {
            *slot = b;
        }
        end += usize::from(keep(b));
    }
    kept.truncate(end);
    String::from_utf8(kept).unwrap_or_default()
}

/// How [`joined_views`] reads the ASCII byte `b` ([`JOINED_CLASS`]).
fn ascii_class(b: u8) -> u8 {
    JOINED_CLASS.get(usize::from(b)).copied().unwrap_or(KEPT)
}

/// [`joined_views`], character by character.
fn joined_char_views(text: &str) -> Vec<String> {
    let loose = |c: char| spacing(c) || (c.is_ascii_punctuation() && c != '_' && c != '-');
    let mut views: Vec<String> = Vec::new();
    for separator in [&loose as &dyn Fn(char) -> bool, &every_separator] {
        if !text.chars().any(separator) {
            continue;
        }
        let view: String = text.chars().filter(|&c| !separator(c)).collect();
        if !view.is_empty() && !views.contains(&view) {
            views.push(view);
        }
    }
    views
}

/// How [`joined_views`] reads each ASCII byte: kept in both views, dropped from both (white
/// space and punctuation), or kept only in the view that keeps `_` and `-`.
// The index runs over 0..128, the array's length: a constant, checked when it is built.
#[allow(clippy::indexing_slicing)]
const JOINED_CLASS: [u8; 128] = {
    let mut class = [KEPT; 128];
    let mut b = 0;
    while b < 128 {
        let byte = b as u8;
        if byte.is_ascii_whitespace() || byte == 0x0b || byte.is_ascii_punctuation() {
            class[b] = if byte == b'_' || byte == b'-' {
                LOOSE_ONLY
            } else {
                DROPPED
            };
        }
        b += 1;
    }
    class
};
const KEPT: u8 = 0;
const DROPPED: u8 = 1;
const LOOSE_ONLY: u8 = 2;

/// [`joined_views`] of ASCII text, both views in one pass over the bytes.
fn joined_ascii_views(text: &str) -> Vec<String> {
    if text.bytes().all(|b| ascii_class(b) == KEPT) {
        return Vec::new();
    }
    let loose = ascii_kept(text, |b| ascii_class(b) != DROPPED);
    let every = ascii_kept(text, |b| ascii_class(b) == KEPT);
    let mut views = Vec::with_capacity(2);
    for view in [loose, every] {
        if !view.is_empty() && view.len() < text.len() && !views.contains(&view) {
            views.push(view);
        }
    }
    views
}

/// Whether `text` has a run long enough for [`binary_views`] to decode: a hex run of
/// [`MIN_HEX_RUN`] digits, a base64 run of [`MIN_BASE64_RUN`] characters, or a run of
/// [`MIN_BYTE_LIST`] numbers. One pass, so the many texts with none (times, sentences, paths)
/// cost little; when it says yes, `binary_views` finds the runs itself.
fn may_hold_views(text: &[u8], shortest: Runs) -> bool {
    let (mut hex, mut base64, mut numbers) = (0usize, 0usize, 0usize);
    let mut in_number = false;
    for &b in text {
        // One table lookup per byte: this runs on every text judged.
        let class = RUN_CLASS.get(usize::from(b)).copied().unwrap_or(0);
        hex = if class & HEX != 0 {
            hex + 1
        } else if b == b':' {
            hex
        } else {
            0
        };
        base64 = if class & BASE64 != 0 { base64 + 1 } else { 0 };
        let number_byte = class & NUMBER != 0;
        if number_byte {
            numbers += usize::from(!in_number);
        } else if class & LIST_SEPARATOR == 0 {
            numbers = 0;
        }
        in_number = number_byte;
        if hex >= shortest.hex
            || base64 >= shortest.base64.min(shortest.base32)
            || numbers >= MIN_BYTE_LIST
        {
            return true;
        }
    }
    false
}

/// A hex digit.
const HEX: u8 = 1;
/// A byte of base64 (either alphabet).
const BASE64: u8 = 2;
/// A byte of a number in a byte list (hex digits, `x`, `.`).
const NUMBER: u8 = 4;
/// A byte that joins a byte list's numbers ([`is_list_separator`]).
const LIST_SEPARATOR: u8 = 8;

/// The classes of each byte [`may_hold_views`] counts runs of.
// The index runs over 0..256, the array's length: a constant, checked when it is built.
#[allow(clippy::indexing_slicing)]
const RUN_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let byte = b as u8;
        let mut class = 0;
        if byte.is_ascii_hexdigit() {
            class |= HEX | NUMBER;
        }
        if byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'-' | b'_') {
            class |= BASE64;
        }
        if matches!(byte, b'x' | b'X' | b'.') {
            class |= NUMBER;
        }
        if is_list_separator(byte) {
            class |= LIST_SEPARATOR;
        }
        table[b] = class;
        b += 1;
    }
    table
};

/// The bytes that join the numbers of a byte list ([`byte_lists`]).
const fn is_list_separator(b: u8) -> bool {
    matches!(
        b,
        b',' | b';'
            | b':'
            | b'-'
            | b'_'
            | b'|'
            | b'+'
            | b'/'
            | b' '
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'"'
            | b'\n'
            | b'\r'
            | b'\t'
    )
}

/// The decimal text of a JSON number, written without a heap allocation (a log holds many).
struct NumberText {
    bytes: [u8; 64],
    len: usize,
    /// It did not fit (never for the numbers serde_json holds): `text` has it instead.
    spilled: Option<String>,
}

impl NumberText {
    fn of(n: &serde_json::Number) -> Self {
        use std::fmt::Write as _;
        let mut text = NumberText {
            bytes: [0; 64],
            len: 0,
            spilled: None,
        };
        if write!(text, "{n}").is_err() {
            text.spilled = Some(n.to_string());
        }
        text
    }

    fn as_str(&self) -> &str {
        match &self.spilled {
            Some(text) => text,
            None => std::str::from_utf8(self.bytes.get(..self.len).unwrap_or_default())
                .unwrap_or_default(),
        }
    }
}

impl std::fmt::Write for NumberText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let room = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        room.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The exact digits of a whole number held as a float (`41111111111111112.0`, printed
/// `4.111111111111111e16`, is exactly 41111111111111112, and a reader that prints it whole
/// shows those digits); `None` for other numbers.
fn whole_float_digits(n: &serde_json::Number) -> Option<String> {
    if n.is_i64() || n.is_u64() {
        return None;
    }
    let f = n.as_f64()?;
    (f.fract() == 0.0 && f.abs() < 1e21).then(|| format!("{f:.0}"))
}

/// Whether a number as written carries a secret, `leaks` judging each of its forms: as
/// written, and in exponent form also as the digits it stands for.
fn written_number_leaks(text: &str, leaks: &mut dyn FnMut(&str) -> bool) -> bool {
    leaks(text)
        || expanded(text).is_some_and(|digits| leaks(&digits))
        || positional(text).is_some_and(|decimal| leaks(&decimal))
}

/// The plain digits a number in exponent form stands for, when it is a whole number of at
/// most 64 digits (`1.5e3` -> `1500`, `-2.5E+2` -> `-250`); `None` otherwise.
fn expanded(text: &str) -> Option<String> {
    let decimal = positional(text)?;
    let (whole, fraction) = decimal.split_once('.').unwrap_or((&decimal, ""));
    let digits = whole.trim_start_matches('-').len();
    let integral = fraction.bytes().all(|b| b == b'0');
    (integral && (1..=64).contains(&digits)).then(|| whole.to_owned())
}

/// A number in exponent form written out with its point where the exponent puts it, the
/// fraction kept (`1.79547810199e9` is `1795478101.99`); `None` when it has no exponent or
/// would be longer than 400 digits.
fn positional(text: &str) -> Option<String> {
    let (mantissa, exponent) = text.split_once(['e', 'E'])?;
    let exponent: i64 = exponent.trim_start_matches('+').parse().ok()?;
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{whole}{fraction}");
    let point = i64::try_from(whole.len()).ok()?.checked_add(exponent)?;
    if !(-400..=400).contains(&point) || digits.len() > 400 {
        return None;
    }
    let out = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(usize::try_from(-point).ok()?))
    } else {
        let point = usize::try_from(point).ok()?;
        let mut padded = digits;
        while padded.len() < point {
            padded.push('0');
        }
        let (int, frac) = padded.split_at(point);
        if frac.is_empty() {
            int.to_owned()
        } else {
            format!("{int}.{frac}")
        }
    };
    Some(format!("{sign}{out}"))
}

/// Fewest numbers a byte list is decoded from.
const MIN_BYTE_LIST: usize = 8;
// `binary_views` skips texts shorter than the shortest list: the runs must be no shorter.
const _: () =
    assert!(MIN_HEX_RUN >= MIN_BYTE_LIST * 2 - 1 && MIN_BASE64_RUN >= MIN_BYTE_LIST * 2 - 1);

/// Lists of byte values a reader or a program turns back into bytes: `73,33,63`, `73;33`,
/// `0x73, 0x33`, `{0x73,0x33}`, `[115, 51, 99]` (a Node.js `Buffer` as JSON). Each run of
/// numbers joined by `,` `;` `:` `-` or spaces is read as hex pairs when every number is two
/// hex digits (or `0x` and one or two), and as decimal when every number is at most 255.
fn byte_lists(text: &[u8]) -> Vec<Vec<u8>> {
    // Brackets, braces, quotes and line breaks join a list too (`[[65],[75]]`,
    // `["41","4b"]`, one number a line), and a number may be written whole as a float
    // (`65.0`).
    let separator = |b: &u8| is_list_separator(*b);
    let list_byte =
        |b: u8| b.is_ascii_hexdigit() || matches!(b, b'x' | b'X' | b'.') || separator(&b);
    let mut views = Vec::new();
    for run in runs(text, list_byte) {
        // Counted before anything is collected: most runs are a number or a word.
        if run.split(separator).filter(|n| !n.is_empty()).count() < MIN_BYTE_LIST {
            continue;
        }
        let mut numbers: Vec<&[u8]> = run.split(separator).filter(|n| !n.is_empty()).collect();
        // A typed array written as JSON (`{"0":65,"1":75,...}`): indices, then values.
        let indexed = numbers.len().is_multiple_of(2)
            && numbers
                .iter()
                .step_by(2)
                .enumerate()
                .all(|(i, n)| n == &i.to_string().as_bytes());
        if indexed {
            numbers = numbers.into_iter().skip(1).step_by(2).collect();
        }
        let hex = |n: &&[u8]| {
            let digits = n
                .strip_prefix(b"0x")
                .or_else(|| n.strip_prefix(b"0X"))
                .unwrap_or(n);
            let whole = std::str::from_utf8(digits).ok()?;
            (digits.len() == 2 || (digits.len() == 1 && digits.len() < n.len()))
                .then(|| u8::from_str_radix(whole, 16).ok())
                .flatten()
        };
        let decimal = |n: &&[u8]| {
            let text = std::str::from_utf8(n).ok()?;
            let whole = match text.split_once('.') {
                Some((whole, fraction)) if fraction.bytes().all(|b| b == b'0') => whole,
                Some(_) => return None,
                None => text,
            };
            whole.parse::<u8>().ok()
        };
        views.extend(byte_stretches(&numbers, hex));
        views.extend(byte_stretches(&numbers, decimal));
    }
    views
}

/// The longest stretches (at least [`MIN_BYTE_LIST`] long) of consecutive `numbers` that
/// `byte` reads as bytes: a word or an out-of-range value beside a list does not hide it.
fn byte_stretches(numbers: &[&[u8]], byte: impl Fn(&&[u8]) -> Option<u8>) -> Vec<Vec<u8>> {
    let mut stretches = Vec::new();
    let mut current = Vec::new();
    for number in numbers {
        match byte(number) {
            Some(b) => current.push(b),
            None => {
                if current.len() >= MIN_BYTE_LIST {
                    stretches.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    if current.len() >= MIN_BYTE_LIST {
        stretches.push(current);
    }
    stretches
}

/// The maximal runs of `text` whose bytes all pass `keep`.
fn runs(text: &[u8], keep: impl Fn(u8) -> bool) -> impl Iterator<Item = &[u8]> {
    text.split(move |&b| !keep(b)).filter(|run| !run.is_empty())
}

/// `text` without its control, bidirectional and invisible characters (an ESC alone, not
/// the sequence it may start), as a viewer that draws them as nothing shows it; `None` when
/// it has none.
fn stripped(text: &str) -> Option<String> {
    if !has_hidden_chars(text) {
        return None;
    }
    // Unlike a terminal (`displayed`), a viewer that drops control characters keeps what
    // follows an ESC: `k\u{1b}ey` reads `key` there, while a terminal takes `e` for the end
    // of an escape sequence.
    let mut out = String::with_capacity(text.len());
    out.extend(text.chars().filter(|&c| !hidden(c)));
    Some(out)
}

/// [`stripped`] of a decoded view read as UTF-8 (each invalid sequence one U+FFFD, as
/// `String::from_utf8_lossy` reads it), in one pass: ASCII bytes (most of any view) are
/// told by a byte test, and nothing is built unless a character is dropped.
fn stripped_view(view: &[u8]) -> Option<String> {
    // Printable ASCII hides nothing: one byte test clears most views.
    if view.iter().all(|&b| (b' '..=b'~').contains(&b)) {
        return None;
    }
    let mut out: Option<String> = None;
    let mut kept = 0;
    for chunk in view.utf8_chunks() {
        for c in chunk.valid().chars() {
            let drop = if c.is_ascii() {
                c < ' ' || c == '\x7f'
            } else {
                hidden(c)
            };
            match (&mut out, drop) {
                (Some(out), false) => out.push(c),
                (Some(_), true) => {}
                (None, true) => {
                    // The first dropped character: what came before it, as read.
                    let mut start =
                        String::from_utf8_lossy(view.get(..kept).unwrap_or_default()).into_owned();
                    start.reserve(view.len());
                    out = Some(start);
                }
                (None, false) => {}
            }
            if out.is_none() {
                kept += c.len_utf8();
            }
        }
        if !chunk.invalid().is_empty() {
            match &mut out {
                Some(out) => out.push('\u{FFFD}'),
                None => kept += chunk.invalid().len(),
            }
        }
    }
    out
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
/// reference) that decodes to a byte credentials are made of (a letter, a digit, `-` or
/// `_`) or to a control or invisible character.
fn escapes_credential_byte(text: &[u8]) -> bool {
    // A control or invisible character counts too: it may split a key for the terminal.
    let credential = |b: u32| {
        u8::try_from(b).is_ok_and(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            || char::from_u32(b).is_some_and(|c| crate::gate::unsafe_char(c) || invisible(c))
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Pieces a short text that might leak is built from: parts and whole forms of the
    /// secrets, the detector's prefixes, escapes, hidden characters, base64 and hex.
    const PIECES: &[&str] = &[
        "Zq7",
        "vK2p",
        "X9mW",
        "Zq7vK2pX9mW",
        "WnE3",
        "5a71",
        "pQ==",
        "sk-",
        "sk-ant-",
        "xoxb-",
        "xox",
        "AKIA",
        "ghp_",
        "eyJ",
        ".",
        "-",
        "_",
        "%5a",
        "%01",
        "&#1;",
        "\\x5a",
        "\\u005a",
        "\\132",
        "\u{202e}",
        "\u{200b}",
        "\u{1b}[1m",
        "\u{8}",
        "a1B2c3D4",
        "0x5a,",
        "90,",
    ];

    /// `text` as an ASCII-only JSON encoder writes it (`<`, `>`, `&` and non-ASCII as
    /// `\uXXXX`), and as `serde_json` does: the two escaped forms `leaks_escaped` judges.
    fn escaped_forms(text: &str) -> [String; 2] {
        let mut ascii = String::new();
        for c in text.chars() {
            if c.is_ascii() && !matches!(c, '<' | '>' | '&') {
                ascii.push(c);
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    ascii.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
        let json = serde_json::to_string(text).unwrap_or_default();
        let json = json
            .get(1..json.len().saturating_sub(1))
            .unwrap_or_default()
            .to_owned();
        [ascii, json]
    }

    proptest::proptest! {
        /// An escaped form of a text that shows nothing is judged by `leaks_escaped` as by
        /// the full judgement: the views it leaves out are the text's own.
        #[test]
        fn an_escaped_form_is_judged_as_in_full(
            picks in proptest::collection::vec(0..PIECES.len() + ESCAPED_PIECES.len(), 1..10),
        ) {
            use crate::secrets::{Secret, SecretValue};
            let value = "Zq7vK2pX9mW>3e";
            let secret = Secret::new("S".to_owned(), SecretValue::new(value.to_owned()), vec![]);
            let scanner = SecretScanner::new(&[secret]).expect("scanner");
            let redactor = Redactor::new(scanner, Some(Detector::new(Vec::new())));
            let text: String = picks
                .iter()
                .filter_map(|&i| PIECES.get(i).or_else(|| ESCAPED_PIECES.get(i - PIECES.len())))
                .copied()
                .collect();
            // A text that shows a value is withheld before its escaped forms are judged.
            if redactor.leaks_bytes(text.as_bytes()) {
                return Ok(());
            }
            for escaped in escaped_forms(&text) {
                proptest::prop_assert_eq!(
                    redactor.leaks_escaped(&text, &escaped),
                    redactor.leaks_bytes(escaped.as_bytes()),
                    "{:?}", escaped
                );
            }
        }
    }

    /// Pieces that escaping changes: what an escape's digits may run on into.
    const ESCAPED_PIECES: &[&str] = &[
        ">",
        "<",
        "&",
        "\"",
        "\\",
        "yJhbGciOiJIUzI1NiJ9",
        "003e",
        "e3",
        "ZQ7VK2PX9MW4NR8T",
        "é",
        "\u{1}",
        "\u{7f}",
    ];

    #[test]
    fn values_hidden_in_decoded_views_are_found() {
        use crate::secrets::{Secret, SecretValue};
        let secret = Secret::new(
            "TOKEN".to_owned(),
            SecretValue::new("Zq8Hid77x1abcdefgh".to_owned()),
            vec![],
        );
        let supplied = Redactor::new(SecretScanner::new(&[secret]).expect("scanner"), None);
        let detector = Redactor::new(SecretScanner::empty(), Some(Detector::new(Vec::new())));
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let between = |sep: &str| {
            let spaced: Vec<String> = "Zq8Hid77x1abcdefgh".chars().map(String::from).collect();
            hex(spaced.join(sep).as_bytes())
        };
        // A supplied value decoded with a hidden character between its letters, or as UTF-16
        // cut short of its last NUL.
        let utf16: Vec<u8> = "Zq8Hid77x1abcdefgh".bytes().flat_map(|b| [b, 0]).collect();
        let cut = hex(&utf16);
        // One hidden character in the hex of a value shorter than the shortest key; UTF-16
        // and UTF-32 with characters beyond ASCII hidden between the letters.
        let one = hex("Zq8Hid\u{7f}77x1abcdefgh".as_bytes());
        let wide = |value: &str, sep: char, width: usize, big: bool| {
            let mut bytes = Vec::new();
            for c in value.chars().flat_map(|c| [c, sep]) {
                let code = u32::from(c).to_le_bytes();
                let mut unit: Vec<u8> = code.get(..width).unwrap_or_default().to_vec();
                if big {
                    unit.reverse();
                }
                bytes.extend(unit);
            }
            hex(&bytes)
        };
        for text in [
            between("\u{7f}"),
            between("\u{200b}"),
            between("\u{1}"),
            cut[..cut.len() - 2].to_owned(),
            one,
            wide("Zq8Hid77x1abcdefgh", '\u{200b}', 2, false),
            wide("Zq8Hid77x1abcdefgh", '\u{feff}', 4, true),
        ] {
            assert!(supplied.leaks(&text), "{text}");
        }
        assert!(detector.leaks(&wide("AKIAZQ7VK2PX9MW4NR8T", '\u{ad}', 2, true)));
        // A byte glued before UTF-16 with a zero-width space in it.
        let glued = format!("41{}", wide("Zq8Hid77x1abcdefgh", '\u{200b}', 2, false));
        assert!(supplied.leaks(&glued), "{glued}");
        // The shortest value there is (8 bytes) with one hidden character, in base64 and
        // base32: runs as short as 12 and 15 characters.
        let short = Secret::new(
            "SHORT".to_owned(),
            SecretValue::new("Zq8Hid7x".to_owned()),
            vec![],
        );
        let short = Redactor::new(SecretScanner::new(&[short]).expect("scanner"), None);
        for text in ["WnE4SH9pZDd4", "WnE4SABpZDd4", "LJYTQSD7NFSDO6A="] {
            assert!(short.leaks(text), "{text}");
        }
        // A hidden character written as an escape inside the encoded text.
        for escape in [
            "\\u200b",
            "&#8203;",
            "%E2%80%8B",
            "\\x7f",
            "&ZeroWidthSpace;",
            "\\U0000200B",
            "\\u{200B}",
            "\\342\\200\\213",
            "\\xe2\\x80\\x8b",
        ] {
            let text = hex(format!("Zq8H{escape}id77x1abcdefgh").as_bytes());
            assert!(supplied.leaks(&text), "{escape}: {text}");
        }
        let long_key = "AIzac3j27xdcg2lMLzgeonyLGcTJFiz4soCmZ9c";
        for text in [
            // base32 whose last group is cut short holds the key's end.
            data_encoding::BASE32.encode(long_key.as_bytes()),
            data_encoding::BASE32_NOPAD
                .encode(long_key.as_bytes())
                .to_ascii_lowercase(),
            // Encoded twice, behind bytes that are not text once decoded.
            "AAAAUVV0SlFWcFJOMVpMTWxCWU9VMVhORTVTT0ZRPQ==".to_owned(),
            "aaaa5155744a515670524e315a4c4d6c42594f5531584e4535534f46513d".to_owned(),
            // A run of one letter glued after a key, and before it written backwards.
            format!("ghp_ozX9ErMM0eQLtAweitCLORxWis8hgnwKZ2ys{}", "x".repeat(84)),
            format!("{}sy2ZKwngh8siWxROLCtiewAtLQe0MMrE9Xzo_phg", "x".repeat(48)),
        ] {
            assert!(detector.leaks(&text), "{text}");
        }
    }

    #[test]
    fn keys_that_only_an_escaped_form_shows_are_found() {
        use base64::Engine as _;
        let redactor = Redactor::new(SecretScanner::empty(), Some(Detector::new(Vec::new())));
        // The escape's `e` starts the base64 of a Slack token (`eG94...`), and, backwards,
        // its `e300u` completes the body of an `sk-` key.
        let slack = base64::engine::general_purpose::STANDARD.encode("xoxb-7q2K9vX4mW8nR3tZ5pL1");
        let sk_backwards: String = "sk-Zq7vK2pX9mW4nR8tY".chars().rev().collect();
        for tail in [slack.get(1..).unwrap_or_default(), sk_backwards.as_str()] {
            let text = format!(">{tail}");
            assert!(!redactor.leaks_bytes(text.as_bytes()), "{text}");
            let [ascii, _] = escaped_forms(&text);
            assert!(redactor.leaks_bytes(ascii.as_bytes()), "{ascii}");
            assert!(redactor.leaks_escaped(&text, &ascii), "{ascii}");
        }
    }

    proptest::proptest! {
        /// The quick test is sound: a text it passes over has no view to decode.
        #[test]
        fn a_text_the_quick_test_passes_over_has_no_binary_view(
            pieces in proptest::collection::vec(proptest::prop_oneof![
                4 => "[0-9]{1,3}|0x[0-9a-f]{2}|[0-9a-f]{2}|[0-9]{2}\\.0",
                4 => "[,;:\\- \\[\\]{}\"\n\t]",
                1 => "[A-Za-z0-9+/_\\-]{20,28}",
                1 => "[0-9a-f:]{36,46}",
                1 => "[g!Z=]",
                1 => "([0-9]{1,2}[,; \\-]){5,8}[0-9]{1,2}|(0x[0-9a-f]{2}, ){5,8}0x[0-9a-f]{2}",
            ], 0..24),
        ) {
            let text: String = pieces.concat();
            for runs in [Runs::default(), Runs::for_bytes(9)] {
                if !may_hold_views(text.as_bytes(), runs) {
                    proptest::prop_assert!(decoded_views(text.as_bytes(), runs).is_empty(), "{text:?}");
                }
            }
        }

        /// The length rule is sound: a text shorter than the redactor's `shortest` is
        /// cleared by the whole judgement too, whatever views it has.
        #[test]
        fn no_text_shorter_than_the_shortest_form_leaks(
            picks in proptest::collection::vec(0..PIECES.len(), 1..8),
            short_secret in proptest::bool::ANY,
        ) {
            use crate::secrets::{Secret, SecretValue};
            let value = if short_secret { "Zq7vK2pX" } else { "Zq7vK2pX9mW4nR8t" };
            let secret = Secret::new("S".to_owned(), SecretValue::new(value.to_owned()), vec![]);
            let scanner = SecretScanner::new(&[secret]).expect("scanner");
            let redactor = Redactor::new(scanner, Some(Detector::new(Vec::new())));
            let text: String = picks.iter().filter_map(|&i| PIECES.get(i).copied()).collect();
            for cut in 0..=text.len() {
                let Some(piece) = text.get(..cut) else { continue };
                if piece.len() < redactor.shortest {
                    proptest::prop_assert!(
                        !redactor.leaks_judged(piece.as_bytes()),
                        "{piece:?} leaks but is shorter than {}", redactor.shortest
                    );
                }
            }
        }
    }

    #[test]
    fn a_value_split_by_escaped_invisible_characters_or_listed_as_bytes_leaks() {
        use crate::secrets::{Secret, SecretValue};
        let secret = Secret::new("S".to_owned(), SecretValue::new("Zq7vK2pX9mW4nR8t"), vec![]);
        let redactor = Redactor::new(SecretScanner::new(&[secret]).expect("scanner"), None);
        for split in [
            "&#173;",
            "&#xAD;",
            "&#8203;",
            "&ZeroWidthSpace;",
            "&zwj;",
            "%E2%80%8B",
            "%C2%AD",
        ] {
            let text = format!("Zq7vK2pX{split}9mW4nR8t");
            assert!(redactor.leaks(&text), "{text}");
        }
        let bytes: Vec<String> = "Zq7vK2pX9mW4nR8t".bytes().map(|b| b.to_string()).collect();
        let nested = format!("[[{}]]", bytes.join("],["));
        let hex: Vec<String> = "Zq7vK2pX9mW4nR8t"
            .bytes()
            .map(|b| format!("\"{b:02x}\""))
            .collect();
        for list in [nested, format!("[{}]", hex.join(","))] {
            assert!(redactor.leaks(&list), "{list}");
        }
        assert!(!redactor.leaks("Zq7vK2pX&amp;9mW4nR8t"));
    }

    #[test]
    fn the_shortest_detector_match_is_detected_and_one_less_is_not() {
        let detector = Detector::new(Vec::new()).anywhere();
        let token = "xoxb-Zq7vK2pX9m";
        assert_eq!(token.len(), super::super::detect::SHORTEST_MATCH);
        let mut kinds = Vec::new();
        detector.find(token.as_bytes(), &mut kinds);
        assert!(!kinds.is_empty(), "{token} is not detected");
        kinds.clear();
        detector.find(&token.as_bytes()[..token.len() - 1], &mut kinds);
        assert!(kinds.is_empty());
    }

    #[test]
    fn replace_secrets_names_each_value_where_it_stands() {
        use crate::secrets::{Secret, SecretValue};
        let secret = |name: &str, value: &str| {
            Secret::new(name.to_owned(), SecretValue::new(value.to_owned()), vec![])
        };
        let secrets = [
            secret("LONG", "sk-aaaa-bbbb-1234"),
            secret("SHORT", "sk-aaaa-bbbb"),
            secret("OTHER", "hunter2-value"),
        ];
        let redactor = Redactor::new(SecretScanner::new(&secrets).expect("scanner"), None);
        let label = |name: &str| format!("<secret {name}>");
        let text = "a sk-aaaa-bbbb-1234 b sk-aaaa-bbbb c hunter2-value d";
        assert_eq!(
            redactor.replace_secrets(text, label),
            "a <secret LONG> b <secret SHORT> c <secret OTHER> d"
        );
        // A fixed form is named too: the value's hex.
        let hex: String = "hunter2-value"
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(redactor.replace_secrets(&hex, label), "<secret OTHER>");
        assert!(matches!(
            redactor.replace_secrets("clean", label),
            Cow::Borrowed("clean")
        ));
        assert!(!format!("{redactor:?}").contains("hunter2"));
    }

    #[test]
    fn exponent_forms_expand_to_the_digits_they_stand_for() {
        let cases = [
            ("9.876543210987654e16", Some("98765432109876540")),
            ("1.5e3", Some("1500")),
            ("-2.5E+2", Some("-250")),
            ("1e0", Some("1")),
            ("1.25e1", None),
            ("1e-3", None),
            ("1e400", None),
            ("12", None),
        ];
        for (text, digits) in cases {
            assert_eq!(expanded(text).as_deref(), digits, "{text}");
        }
    }

    #[test]
    fn displayed_is_what_a_terminal_shows() {
        assert_eq!(displayed("plain"), None);
        assert_eq!(displayed("ab\u{8}\u{8}cd").as_deref(), Some("cd"));
        assert_eq!(displayed("xxxx\rab").as_deref(), Some("abxx"));
        assert_eq!(displayed("a\u{1b}[0;31mb\u{1b}(c").as_deref(), Some("ab"));
        assert_eq!(displayed("k\u{202E}cba\u{202C}d").as_deref(), Some("kabcd"));
        assert_eq!(displayed("z\u{200B}w\u{2066}y").as_deref(), Some("zwy"));
    }

    #[test]
    fn a_value_shown_whole_is_judged_with_its_visible_separators_taken_out() {
        let redactor = Redactor::new(SecretScanner::empty(), Some(Detector::new(Vec::new())));
        for split in [
            "AKIAZQ7V/K2PX9MW4NR8T.jsonl",
            "AKIAZQ7V K2PX9MW4NR8T",
            "AKIAZQ7V_K2PX9MW4NR8T",
            "AKIAZQ7V\u{3000}K2PX9MW4NR8T",
            "AKIAZQ7V\u{0301}K2PX9MW4NR8T",
            "logs/ghp_aB3dE5fG7hJ9kL1mN3/pQ5rS7tU9vW1xY3zA5x.jsonl",
            "65_75_73_65_90_81_55_86_75_50_80_88_57_77_87_52_78_82_56_84.jsonl",
        ] {
            assert!(redactor.shows_value(split), "{split:?}");
        }
        for plain in [
            "testdata/real-logs/matchlock-go-writer-events.jsonl",
            "ledger/events_2026-12-06.jsonl",
            "/var/log/agentlog/vm-503ad4d1/events.jsonl.seal",
            "POST api.openai.com/v1/chat/completions -> 200 (1224ms)",
        ] {
            assert!(!redactor.shows_value(plain), "{plain:?}");
        }
    }

    proptest::proptest! {

        #[test]
        fn joined_views_of_ascii_are_those_of_its_characters(text in "[ -~\t\n\x0b\x0c\r]{0,40}") {
            proptest::prop_assert_eq!(joined_views(&text), joined_char_views(&text));
            let separator = |c: char| c.is_ascii_punctuation() || c.is_whitespace();
            let expected = text
                .contains(separator)
                .then(|| text.chars().filter(|&c| !separator(c)).collect::<String>())
                .filter(|kept| !kept.is_empty());
            proptest::prop_assert_eq!(without_separators(&text), expected);
        }

        #[test]
        fn without_separators_is_the_joined_view_without_underscores_and_dashes(
            text in "[ -~\u{a0}\u{b7}\u{2010}\u{200b}\u{ff21}é_-]{0,40}"
        ) {
            let expected = joined_views(&text)
                .into_iter()
                .rfind(|view| !view.contains(['_', '-']));
            proptest::prop_assert_eq!(without_separators(&text), expected);
        }
    }

    #[test]
    fn compatibility_forms_and_twice_encoded_keys_are_keys() {
        use base64::Engine as _;
        let redactor = Redactor::new(SecretScanner::empty(), Some(Detector::new(Vec::new())));
        let key = "AKIAZQ7VK2PX9MW4NR8T";
        let fullwidth: String = key
            .chars()
            .map(|c| char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c))
            .collect();
        let bold: String = "AKIA"
            .chars()
            .map(|c| char::from_u32(0x1D400 + u32::from(c) - u32::from('A')).unwrap_or(c))
            .chain("ZQ7VK2PX9MW4NR8T".chars())
            .collect();
        let b64 = base64::engine::general_purpose::STANDARD;
        let twice = b64.encode(b64.encode(key));
        let hex_of_b64: String = b64
            .encode(key)
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect();
        let base32 = data_encoding::BASE32.encode(key.as_bytes());
        assert!(redactor.leaks(&base32), "{base32}");
        assert!(redactor.leaks(&base32.to_lowercase()), "{base32}");
        let tags: String = key
            .chars()
            .map(|c| char::from_u32(u32::from(c) + 0xE0000).unwrap_or(c))
            .collect();
        let dotted = "AKIAZQ7V\u{b7}K2PX9MW4NR8T";
        assert!(redactor.shows_value(dotted), "{dotted:?}");
        for disguised in [fullwidth, bold, twice, hex_of_b64, tags] {
            assert!(redactor.leaks(&disguised), "{disguised:?}");
        }
        for plain in ["ＡＢＣ full width words", "𝐁𝐨𝐥𝐝 text"] {
            assert!(!redactor.leaks(plain), "{plain:?}");
        }
    }

    #[test]
    fn a_key_split_for_the_terminal_is_withheld() {
        let redactor = Redactor::new(SecretScanner::empty(), Some(Detector::new(Vec::new())));
        let key = "sk-proj-Q2x7Lm9pRt4Vw8Yz3Kb6Nd1Fh5Jc0Ga";
        let (head, tail) = key.split_at(12);
        assert!(redactor.leaks(&format!("{head}\u{1b}[0m{tail}")));
        assert!(redactor.leaks(&format!("{head}X\u{8}{tail}")));
        let reversed: String = key.chars().rev().collect();
        assert!(redactor.leaks(&format!("\u{202E}{reversed}\u{202C}")));
        assert!(!redactor.leaks(&format!("{head}\u{1b}[0m")));
        let utf16_json: String = key.chars().map(|c| format!("{c}\\u0000")).collect();
        assert!(redactor.leaks(&utf16_json));
        // As a library quotes bytes, and as this gate escapes a split.
        let quoted: String = key.chars().map(|c| format!("{c}\\0")).collect();
        assert!(redactor.leaks(&format!("debug (b\"{quoted}\")")));
        assert!(redactor.leaks(&format!("{head}\\x1b[0m{tail}")));
        assert!(redactor.leaks(&format!("{head}\\xe2\\x80\\x8b{tail}")));
        assert!(redactor.leaks(&format!("{head}\\u{{000D}}{tail}")));
        // A value split by one control character, as a byte, as Rust's `{:?}` and as JSON
        // quote it: a reader drops the character whatever follows it.
        for split in [
            "\u{1b}", "\\u{1b}", "\\u001b", "\u{1}", "\\u0001", "\n", "\\n", "\r",
        ] {
            assert!(redactor.leaks(&format!("{head}{split}{tail}")), "{split:?}");
        }
        let every: String = key.chars().map(|c| format!("{c}\\u0001")).collect();
        assert!(redactor.leaks(&every));
        assert_eq!(
            escapes::unescaped("a\\u{41}\\x42\\0c")
                .first()
                .map(String::as_str),
            Some("aAB\0c")
        );
        assert!(escapes::unescaped("no escapes").is_empty());
        // A well-known key as hex, separated hex, UTF-16LE hex, and base64 inside a blob.
        use base64::Engine as _;
        let hex: String = key.bytes().map(|b| format!("{b:02x}")).collect();
        let colons: Vec<String> = key.bytes().map(|b| format!("{b:02X}")).collect();
        let utf16: String = key.bytes().map(|b| format!("{b:02x}00")).collect();
        let blob = base64::engine::general_purpose::STANDARD.encode(format!("user:{key}!"));
        let alone = base64::engine::general_purpose::STANDARD.encode(key);
        for text in [hex, colons.join(":"), utf16, format!("Basic {blob}"), alone] {
            assert!(redactor.leaks(&text), "{text}");
        }
        assert!(!redactor.leaks("0123456789abcdef0123456789abcdef0123456789abcdef"));
        // As byte lists a program prints.
        let comma: Vec<String> = key.bytes().map(|b| format!("0x{b:02x}")).collect();
        let decimal: Vec<String> = key.bytes().map(|b| b.to_string()).collect();
        assert!(redactor.leaks(&format!("{{{}}}", comma.join(","))));
        assert!(redactor.leaks(&format!("[{}]", decimal.join(", "))));
        assert!(!redactor.leaks("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"));
    }
}

/// The views compose: a value split by a hidden character written in any escape syntax, then
/// encoded, widened or encoded twice, is read whole.
#[cfg(test)]
mod composed {
    use super::*;
    use base64::Engine as _;

    /// Ways a text is written into a log: as is, and in each encoding the redactor decodes,
    /// alone and composed.
    fn encodings(text: &str) -> Vec<(&'static str, String)> {
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        let b32 = |bytes: &[u8]| data_encoding::BASE32_NOPAD.encode(bytes);
        let utf16le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let utf16be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let utf32le: Vec<u8> = text
            .chars()
            .flat_map(|c| u32::from(c).to_le_bytes())
            .collect();
        let bytes = text.as_bytes();
        let wide16 = |t: &str| -> Vec<u8> { t.encode_utf16().flat_map(u16::to_le_bytes).collect() };
        let wide16be =
            |t: &str| -> Vec<u8> { t.encode_utf16().flat_map(u16::to_be_bytes).collect() };
        let wide32 =
            |t: &str| -> Vec<u8> { t.chars().flat_map(|c| u32::from(c).to_le_bytes()).collect() };
        vec![
            ("plain", text.to_owned()),
            ("hex", hex(bytes)),
            ("base64", b64(bytes)),
            ("base32", b32(bytes)),
            ("utf-16le hex", hex(&utf16le)),
            ("utf-16le base64", b64(&utf16le)),
            ("utf-16be base64", b64(&utf16be)),
            ("utf-32le base64", b64(&utf32le)),
            ("hex of base64", hex(b64(bytes).as_bytes())),
            ("base64 of hex", b64(hex(bytes).as_bytes())),
            ("base64 of utf-16le of base64", b64(&wide16(&b64(bytes)))),
            ("hex of utf-16be of hex", hex(&wide16be(&hex(bytes)))),
            ("base64 of utf-32le of base32", b64(&wide32(&b32(bytes)))),
        ]
    }

    #[test]
    fn a_value_split_by_any_escaped_hidden_character_is_read_through_any_encoding() {
        use crate::secrets::{Secret, SecretValue};
        let value = "Zq8Hid77x1abcdefgh";
        let secret = Secret::new("S".to_owned(), SecretValue::new(value.to_owned()), vec![]);
        let supplied = Redactor::new(SecretScanner::new(&[secret]).expect("scanner"), None);
        let key = "AKIAZQ7VK2PX9MW4NR8T";
        let detector = Redactor::new(SecretScanner::empty(), Some(Detector::new(Vec::new())));
        let mut missed = Vec::new();
        for (redactor, value) in [(&supplied, value), (&detector, key)] {
            for escape in escapes::HIDING {
                let split = format!("{}{escape}{}", &value[..9], &value[9..]);
                for (encoding, written) in encodings(&split) {
                    if !redactor.leaks(&written) {
                        missed.push(format!("{value} split by {escape:?} as {encoding}"));
                    }
                    // As a file's or a directory's name (`log.file.name`, a path on stderr).
                    for path in [
                        format!("logs/{written}.jsonl"),
                        format!("{written}/events.jsonl"),
                    ] {
                        if !written.contains('/') && !redactor.shows_value(&path) {
                            missed.push(format!(
                                "{value} split by {escape:?} as {encoding} in {path}"
                            ));
                        }
                    }
                }
            }
        }
        assert!(
            missed.is_empty(),
            "{} not withheld:\n{}",
            missed.len(),
            missed.join("\n")
        );
    }

    #[test]
    fn a_value_split_by_an_escaped_separator_is_read_whole_where_separators_are_taken_out() {
        use crate::secrets::{Secret, SecretValue};
        let value = "Zq8Hid77x1abcdefgh";
        let secret = Secret::new("S".to_owned(), SecretValue::new(value.to_owned()), vec![]);
        let redactor = Redactor::new(SecretScanner::new(&[secret]).expect("scanner"), None);
        for separator in [
            "&#32;",
            "%20",
            "\\x20",
            "\\N{SPACE}",
            "&#x2F;",
            "%2F",
            "&middot;",
            "&ndash;",
            "&copy",
            "&#0000000032;",
            "&amp;#32;",
        ] {
            let split = format!("{}{separator}{}", &value[..9], &value[9..]);
            assert!(redactor.shows_value(&split), "{split}");
        }
    }

    #[test]
    fn a_value_split_by_what_a_terminal_draws_as_nothing_or_moves_over_is_read_whole() {
        let key = "AKIAZQ7VK2PX9MW4NR8T";
        let redactor = Redactor::new(SecretScanner::empty(), Some(Detector::new(Vec::new())));
        for split in [
            "\u{1b}]0;title\u{7}",
            "\u{1b}]8;;http://x\u{1b}\\",
            "\u{1b}Pq\u{1b}\\",
            "\u{9d}0;t\u{9c}",
            "\u{9b}0m",
            "Q\u{1b}[D",
            "QQ\u{1b}[2D",
            "\\e]0;t\\a",
            "\\033]0;t\\007",
            "\\u001b]0;t\\u0007",
        ] {
            let text = format!("{}{split}{}", &key[..8], &key[8..]);
            assert!(redactor.leaks(&text), "{text:?}");
        }
        assert!(
            !redactor.leaks("AKIAZQ7V\u{1b}]0;t"),
            "a string never ended hides the rest"
        );
        // Pieces the cursor puts back together: to a column, saved and restored, back, a
        // position, inserted and deleted cells.
        for text in [
            "QQQQQQQQK2PX9MW4NR8T\u{1b}[1`AKIAZQ7V",
            "AKIAZQ7V\u{1b}7QQQQQQQQ\u{1b}8K2PX9MW4NR8T",
            "AKIAZQ7V\u{1b}[sQQQQQQQQ\u{1b}[uK2PX9MW4NR8T",
            "AKIAZQ7VQQQ\u{1b}[3jK2PX9MW4NR8T",
            "QQQQQQQQK2PX9MW4NR8T\u{1b}[HAKIAZQ7V",
            "AKIAZQ7VK2PX9MW4NR8T\u{1b}[12D\u{1b}[@Q",
            "AKIAZQ7VQK2PX9MW4NR8T\u{1b}[13D\u{1b}[P",
            "\\e7QQQQQQQQK2PX9MW4NR8T\\e8AKIAZQ7V",
            // Round 8: a tab then back to the start, tabs back, a C0 control inside a CSI, a
            // string ended by an ESC or cancelled, insert mode, DECBI, DECDC.
            "\tK2PX9MW4NR8T\rAKIAZQ7V",
            "QQQQQQQQK2PX9MW4NR8T\u{1b}[9ZAKIAZQ7V",
            "AKIAZQ7VQ\u{1b}[\u{8}mK2PX9MW4NR8T",
            "AKIAZQ7V\u{1b}]0;zz\u{1b}(BK2PX9MW4NR8T",
            "AKIAZQ7V\u{1b}]0;zz\u{18}K2PX9MW4NR8T",
            "K2PX9MW4NR8T\r\u{1b}[4hAKIAZQ7V",
            "AKIAZQ7VQ\u{1b}6K2PX9MW4NR8T",
            "AKIAZQ7VQK2PX9MW4NR8T\u{1b}[9G\u{1b}[1'~",
        ] {
            assert!(redactor.leaks(text), "{text:?}");
        }
        // Fullwidth letters written as escapes, or encoded.
        let fullwidth: String = key
            .chars()
            .map(|c| char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c))
            .collect();
        let entities: String = fullwidth
            .chars()
            .map(|c| format!("&#x{:x};", u32::from(c)))
            .collect();
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&fullwidth);
        let utf16: Vec<u8> = fullwidth
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let utf16_hex: String = utf16.iter().map(|b| format!("{b:02x}")).collect();
        let utf16_b64 = base64::engine::general_purpose::STANDARD.encode(&utf16);
        for text in [entities, b64, utf16_hex, utf16_b64] {
            assert!(redactor.leaks(&text), "{text:?}");
        }
    }
}

#[cfg(test)]
mod mathematical {
    use super::*;

    /// Mathematical bold letters and digits (surrogate pairs in UTF-16, no NUL in their
    /// UTF-16 and few in their UTF-32) are read in compatibility form once decoded.
    #[test]
    fn a_key_in_mathematical_letters_is_read_in_utf16_and_utf32() {
        use base64::Engine as _;
        let key = "AKIAZQ7VK2PX9MW4NR8T";
        let bold: String = key
            .chars()
            .map(|c| match c {
                'A'..='Z' => char::from_u32(0x1D400 + u32::from(c) - 65).unwrap(),
                '0'..='9' => char::from_u32(0x1D7CE + u32::from(c) - 48).unwrap(),
                c => c,
            })
            .collect();
        let utf16: Vec<u8> = bold.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let redactor = Redactor::new(SecretScanner::empty(), Some(Detector::new(Vec::new())));
        let utf32: Vec<u8> = bold
            .chars()
            .flat_map(|c| u32::from(c).to_le_bytes())
            .collect();
        let b64 = base64::engine::general_purpose::STANDARD;
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        for text in [
            bold.clone(),
            b64.encode(&utf16),
            hex(&utf16),
            b64.encode(&utf32),
            hex(&utf32),
        ] {
            assert!(redactor.leaks(&text), "{text}");
        }
    }
}
