//! Decoded views: the texts the secret scanner searches besides the text itself.
//!
//! The scanner's automaton knows the fixed encodings of a secret (raw, hex, base64, UTF-16);
//! every other way a log may carry a value is an escaping layered over some text. Each
//! decoder here undoes one such layer over a whole text and yields a *view*; the scanner
//! searches the view with the same automaton, so a form the automaton knows is found under
//! any layer (base64 written with `\/` inside a JSON string, hex behind `\x` prefixes).
//!
//! - A decoder runs only when its trigger bytes occur (`\`, `%`, `&`, a line break, a
//!   separated hex run), so a text with none of them costs a few `memchr` calls and no
//!   allocation.
//! - A decoder that finds nothing to decode yields no view, and allocates nothing.
//! - Views are decoded again, breadth first (outer layers first), up to [`MAX_DEPTH`] layers
//!   (JSON inside JSON inside JSON, percent inside JSON, ...). Identical views are searched
//!   once.
//! - Every decoder shrinks or keeps the length of its input, and the bytes of all views of
//!   one text are capped at [`BUDGET_FACTOR`] times its length (and at [`MAX_VIEWS`] views),
//!   so hostile input (`%25%25...`, `\\\\...`, `&#&#...`) costs linear time and memory.
//!   When the cap is reached, the deeper views are not searched.
//!
//! The decoders, each lenient (what does not decode is kept as it is):
//!
//! - JSON string escapes over the whole text (`\"`, `\\`, `\/`, `\n`, `\u0041`, surrogate
//!   pairs). A lone surrogate becomes U+FFFD, an invalid escape stays literal, and an
//!   unterminated string is simply decoded to the end: no quotes are needed at all.
//! - Percent-encoding: every `%XX` (either case), whatever subset of characters an encoder
//!   chose to encode. With `+` as a space too, when some secret contains a space.
//! - HTML character references: `&#115;`, `&#x73;`, `&#X73;` (the `;` optional) and the
//!   named references of ASCII punctuation (`&amp;`, `&sol;`, `&equals;`, ...).
//! - Hex escapes: every `\xHH`.
//! - Separated hex: runs of at least 8 byte pairs with one separator, `:`, ` ` or `-`
//!   (`73:33:63:...`), decoded to bytes.
//! - Line-wrapped base64: line breaks (`\r\n`, `\n`, `\r`, and their JSON-escaped forms)
//!   after at least 16 base64 characters and before another one are removed. Only base64
//!   forms are searched in this view, so a raw value broken over two lines is not "found".
//!
//! [`decoded_views`] returns the views of a text, so other searches (the built-in
//! credential-format detector) can look at JSON-unescaped and percent-decoded text too.

use std::ops::ControlFlow;

use memchr::{memchr, memchr2, memchr3};

use super::scan::Encoding;

/// Most decoding layers stacked on one view.
pub const MAX_DEPTH: usize = 4;
/// The bytes of all views of a text are capped at this many times its length.
pub const BUDGET_FACTOR: usize = 8;
/// Most views of one text.
pub const MAX_VIEWS: usize = 32;
/// Fewest byte pairs in a separated hex run worth decoding (the shortest secret).
const HEX_RUN_MIN: usize = 8;
/// Fewest base64 characters before a line break for it to count as a wrap.
const MIME_LINE_MIN: usize = 16;

/// One decoding layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decoder {
    /// JSON string escapes.
    Json,
    /// `%XX`.
    Percent,
    /// `%XX` and `+` for a space.
    FormPlus,
    /// HTML character references.
    Html,
    /// `\xHH`.
    HexEscapes,
    /// `73:33:63...`.
    HexSeparated,
    /// Line breaks inside base64.
    Mime,
}

impl Decoder {
    /// Every decoder, in the order views are made.
    const ALL: [Decoder; 7] = [
        Decoder::Json,
        Decoder::Percent,
        Decoder::FormPlus,
        Decoder::Html,
        Decoder::HexEscapes,
        Decoder::HexSeparated,
        Decoder::Mime,
    ];

    /// The decoded text, or `None` when there is nothing to decode.
    fn apply(self, text: &[u8]) -> Option<Vec<u8>> {
        match self {
            Decoder::Json => json_unescape(text),
            Decoder::Percent => percent_decode(text, false),
            Decoder::FormPlus => percent_decode(text, true),
            Decoder::Html => html_decode(text),
            Decoder::HexEscapes => hex_escapes_decode(text),
            Decoder::HexSeparated => hex_separated_decode(text),
            Decoder::Mime => unwrap_base64(text),
        }
    }

    /// The encoding reported for a hit found as `inner` in this decoder's view. JSON escaping
    /// is how a JSON log carries any text, so it is named only when the value itself was
    /// escaped; every other layer is named as the outer form a reader would look for.
    fn wrap(self, inner: Encoding) -> Encoding {
        match self {
            Decoder::Json => match inner {
                Encoding::Raw => Encoding::JsonEscaped,
                Encoding::JsonEscaped | Encoding::JsonNested => Encoding::JsonNested,
                other => other,
            },
            Decoder::Percent | Decoder::FormPlus => Encoding::Percent,
            Decoder::Html => Encoding::Html,
            Decoder::HexEscapes => Encoding::HexEscaped,
            Decoder::HexSeparated => Encoding::HexSeparated,
            Decoder::Mime => Encoding::MimeBase64,
        }
    }

    /// Whether the decoder's trigger bytes occur in a text with `triggers`.
    fn triggered(self, t: Triggers) -> bool {
        match self {
            Decoder::Json | Decoder::HexEscapes => t.backslash,
            Decoder::Percent => t.percent,
            Decoder::FormPlus => t.plus,
            Decoder::Html => t.amp,
            Decoder::HexSeparated => true, // the decoder's own scan is the check
            Decoder::Mime => t.backslash || t.line_break,
        }
    }
}

/// The decoding layers of a view, outermost first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Chain {
    steps: [Decoder; MAX_DEPTH],
    len: usize,
}

impl Chain {
    const ROOT: Chain = Chain {
        steps: [Decoder::Json; MAX_DEPTH],
        len: 0,
    };

    fn then(&self, d: Decoder) -> Option<Chain> {
        let mut next = *self;
        *next.steps.get_mut(self.len)? = d;
        next.len += 1;
        Some(next)
    }

    /// The layers, outermost first.
    pub(crate) fn steps(&self) -> &[Decoder] {
        self.steps.get(..self.len).unwrap_or(&[])
    }

    /// The encoding to report for a hit found as `inner` in this view.
    pub(crate) fn report(&self, inner: Encoding) -> Encoding {
        self.steps().iter().rev().fold(inner, |e, d| d.wrap(e))
    }

    /// Whether only base64 forms count in this view (line breaks were removed).
    pub(crate) fn base64_only(&self) -> bool {
        self.steps().contains(&Decoder::Mime)
    }

    fn leaf(&self) -> bool {
        self.len >= MAX_DEPTH || self.base64_only()
    }
}

/// What the walk may decode.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Options {
    /// Also decode `+` as a space (some secret contains a space).
    pub form_plus: bool,
}

#[derive(Clone, Copy, Debug, Default)]
struct Triggers {
    backslash: bool,
    percent: bool,
    amp: bool,
    plus: bool,
    line_break: bool,
}

impl Triggers {
    fn of(text: &[u8], opts: Options) -> Triggers {
        Triggers {
            backslash: memchr(b'\\', text).is_some(),
            percent: memchr(b'%', text).is_some(),
            amp: memchr(b'&', text).is_some(),
            plus: opts.form_plus && memchr(b'+', text).is_some(),
            line_break: memchr2(b'\n', b'\r', text).is_some(),
        }
    }
}

/// Whether any decoder could apply to `text`: the scanner's fast path. No allocation.
pub(crate) fn has_trigger(text: &[u8], opts: Options) -> bool {
    memchr3(b'%', b'\\', b'&', text).is_some()
        || memchr2(b'\n', b'\r', text).is_some()
        || (opts.form_plus && memchr(b'+', text).is_some())
        || next_hex_run(text, 0).is_some()
}

/// One decoded view.
#[derive(Debug)]
pub(crate) struct View {
    pub(crate) chain: Chain,
    pub(crate) bytes: Vec<u8>,
    hash: u64,
}

/// Makes the views of `text` breadth first and hands each to `visit`, which may stop the
/// walk. Returns the views made. Bounded by [`MAX_DEPTH`], [`MAX_VIEWS`] and
/// [`BUDGET_FACTOR`] times the length of `text` in bytes (counting each view's allocation).
pub(crate) fn walk(
    text: &[u8],
    opts: Options,
    visit: &mut dyn FnMut(&Chain, &[u8]) -> ControlFlow<()>,
) -> Vec<View> {
    let mut views: Vec<View> = Vec::new();
    if !has_trigger(text, opts) {
        return views;
    }
    let budget = text.len().saturating_mul(BUDGET_FACTOR);
    let mut used = 0usize;
    let mut full = expand(text, &Chain::ROOT, opts, &mut views, &mut used, budget);
    let mut next = 0;
    while let Some(view) = views.get(next) {
        if visit(&view.chain, &view.bytes).is_break() {
            break;
        }
        if !full && !view.chain.leaf() {
            let (chain, bytes) = (view.chain, std::mem::take(&mut views[next].bytes));
            full = expand(&bytes, &chain, opts, &mut views, &mut used, budget);
            views[next].bytes = bytes;
        }
        next += 1;
    }
    views
}

/// Appends the views one layer below `text`; returns whether a cap was reached.
fn expand(
    text: &[u8],
    chain: &Chain,
    opts: Options,
    views: &mut Vec<View>,
    used: &mut usize,
    budget: usize,
) -> bool {
    let triggers = Triggers::of(text, opts);
    for d in Decoder::ALL {
        if (d == Decoder::FormPlus && !opts.form_plus) || !d.triggered(triggers) {
            continue;
        }
        // A view is never longer than what it decodes, and is allocated at that size.
        if views.len() >= MAX_VIEWS || used.saturating_add(text.len()) > budget {
            return true;
        }
        let Some(child) = chain.then(d) else {
            return false;
        };
        let Some(bytes) = d.apply(text) else { continue };
        *used += bytes.capacity().max(bytes.len());
        let hash = fingerprint(&bytes);
        if views.iter().any(|v| v.hash == hash && v.bytes == bytes) {
            continue;
        }
        views.push(View {
            chain: child,
            bytes,
            hash,
        });
    }
    false
}

/// A cheap 64-bit hash, to search identical views once.
fn fingerprint(bytes: &[u8]) -> u64 {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let mut h = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    for &b in chunks.remainder() {
        h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
    }
    h
}

/// The decoded views of `text`, outer layers first, each with the encoding a secret found
/// raw in it would be reported as (`json-escaped`, `percent-encoded`, `html-entities`, ...).
/// Empty when `text` has nothing to decode. Bounded like the scanner's own search: at most
/// [`MAX_VIEWS`] views totalling at most [`BUDGET_FACTOR`] times the length of `text`.
///
/// ```
/// use agentlog::secrets::decode::decoded_views;
/// use agentlog::secrets::scan::Encoding;
/// let views = decoded_views(br#"{"url":"https:\/\/x.test\/?q=a%2Fb"}"#);
/// assert_eq!(views[0], (Encoding::JsonEscaped, br#"{"url":"https://x.test/?q=a%2Fb"}"#.to_vec()));
/// assert!(views.iter().any(|(e, v)| *e == Encoding::Percent && v.ends_with(br#"?q=a/b"}"#)));
/// ```
pub fn decoded_views(text: &[u8]) -> Vec<(Encoding, Vec<u8>)> {
    walk(text, Options::default(), &mut |_, _| {
        ControlFlow::Continue(())
    })
    .into_iter()
    .map(|v| (v.chain.report(Encoding::Raw), v.bytes))
    .collect()
}

/// Output built lazily: nothing is allocated until the first sequence is decoded.
struct Out<'a> {
    src: &'a [u8],
    buf: Option<Vec<u8>>,
    copied: usize,
}

impl<'a> Out<'a> {
    fn new(src: &'a [u8]) -> Self {
        Out {
            src,
            buf: None,
            copied: 0,
        }
    }

    /// Replaces `src[at..at + len]` by `bytes` (`at` never before earlier replacements).
    fn replace(&mut self, at: usize, len: usize, bytes: &[u8]) {
        let src = self.src;
        let buf = self
            .buf
            .get_or_insert_with(|| Vec::with_capacity(src.len()));
        buf.extend_from_slice(src.get(self.copied..at).unwrap_or(&[]));
        buf.extend_from_slice(bytes);
        self.copied = at + len;
    }

    fn finish(self) -> Option<Vec<u8>> {
        let mut buf = self.buf?;
        buf.extend_from_slice(self.src.get(self.copied..).unwrap_or(&[]));
        Some(buf)
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The byte of the two hex digits at `text[at..at + 2]`.
fn hex_byte(text: &[u8], at: usize) -> Option<u8> {
    let hi = hex_val(*text.get(at)?)?;
    let lo = hex_val(*text.get(at + 1)?)?;
    Some(hi << 4 | lo)
}

fn hex4(text: &[u8], at: usize) -> Option<u32> {
    let mut v = 0u32;
    for i in 0..4 {
        v = v << 4 | u32::from(hex_val(*text.get(at + i)?)?);
    }
    Some(v)
}

fn push_char(c: char, out: &mut [u8; 4]) -> &[u8] {
    c.encode_utf8(out).as_bytes()
}

/// Decodes JSON string escapes anywhere in `text`, leniently: a lone surrogate becomes
/// U+FFFD, an invalid or cut escape stays as it is. `None` when nothing decodes.
pub(crate) fn json_unescape(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Out::new(text);
    let mut i = 0;
    while let Some(off) = text.get(i..).and_then(|rest| memchr(b'\\', rest)) {
        let p = i + off;
        let mut buf = [0u8; 4];
        let decoded = match text.get(p + 1) {
            Some(b'"') => Some((2, '"')),
            Some(b'\\') => Some((2, '\\')),
            Some(b'/') => Some((2, '/')),
            Some(b'b') => Some((2, '\u{8}')),
            Some(b'f') => Some((2, '\u{c}')),
            Some(b'n') => Some((2, '\n')),
            Some(b'r') => Some((2, '\r')),
            Some(b't') => Some((2, '\t')),
            Some(b'u') => hex4(text, p + 2).map(|unit| json_unit(text, p, unit)),
            _ => None,
        };
        match decoded {
            Some((len, c)) => {
                out.replace(p, len, push_char(c, &mut buf));
                i = p + len;
            }
            None => i = p + 1,
        }
    }
    out.finish()
}

/// The character of the `\uXXXX` escape at `p` (code unit `unit`), pairing surrogates.
fn json_unit(text: &[u8], p: usize, unit: u32) -> (usize, char) {
    if (0xD800..0xDC00).contains(&unit)
        && text.get(p + 6..p + 8) == Some(b"\\u")
        && let Some(low) = hex4(text, p + 8)
        && (0xDC00..0xE000).contains(&low)
    {
        let c = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
        return (12, char::from_u32(c).unwrap_or('\u{FFFD}'));
    }
    (6, char::from_u32(unit).unwrap_or('\u{FFFD}'))
}

/// Decodes every `%XX` (and `+` as a space when `plus`). `None` when nothing decodes.
fn percent_decode(text: &[u8], plus: bool) -> Option<Vec<u8>> {
    let mut out = Out::new(text);
    let mut i = 0;
    loop {
        let rest = text.get(i..)?;
        let found = if plus {
            memchr2(b'%', b'+', rest)
        } else {
            memchr(b'%', rest)
        };
        let Some(off) = found else { break };
        let p = i + off;
        if text.get(p) == Some(&b'+') {
            out.replace(p, 1, b" ");
            i = p + 1;
        } else if let Some(b) = hex_byte(text, p + 1) {
            out.replace(p, 3, &[b]);
            i = p + 3;
        } else {
            i = p + 1;
        }
    }
    out.finish()
}

/// Named HTML character references decoded: ASCII punctuation and the few common others.
/// `&hyphen;` and `&dash;` are U+2010 in HTML but stand for `-` in hand-made encoders.
fn html_named(name: &[u8]) -> Option<&'static str> {
    Some(match name {
        b"amp" | b"AMP" => "&",
        b"lt" | b"LT" => "<",
        b"gt" | b"GT" => ">",
        b"quot" | b"QUOT" => "\"",
        b"apos" => "'",
        b"sol" => "/",
        b"bsol" => "\\",
        b"plus" => "+",
        b"equals" => "=",
        b"percnt" => "%",
        b"colon" => ":",
        b"semi" => ";",
        b"comma" => ",",
        b"period" => ".",
        b"excl" => "!",
        b"quest" => "?",
        b"num" => "#",
        b"dollar" => "$",
        b"commat" => "@",
        b"lowbar" | b"UnderBar" => "_",
        b"hyphen" | b"dash" => "-",
        b"ast" | b"midast" => "*",
        b"lpar" => "(",
        b"rpar" => ")",
        b"lsqb" | b"lbrack" => "[",
        b"rsqb" | b"rbrack" => "]",
        b"lcub" | b"lbrace" => "{",
        b"rcub" | b"rbrace" => "}",
        b"verbar" | b"vert" | b"VerticalLine" => "|",
        b"Hat" => "^",
        b"grave" | b"DiacriticalGrave" => "`",
        b"Tab" => "\t",
        b"NewLine" => "\n",
        b"nbsp" => "\u{a0}",
        _ => return None,
    })
}

/// The character reference at `p` (a `&`), decoded into `buf`: (length in `text`, length
/// in `buf`).
fn html_entity(text: &[u8], p: usize, buf: &mut [u8; 4]) -> Option<(usize, usize)> {
    if text.get(p + 1) == Some(&b'#') {
        let hex = matches!(text.get(p + 2), Some(b'x' | b'X'));
        let start = p + if hex { 3 } else { 2 };
        let radix = if hex { 16 } else { 10 };
        let mut end = start;
        let mut value: u32 = 0;
        while let Some(d) = text.get(end).and_then(|&b| char::from(b).to_digit(radix)) {
            value = value.saturating_mul(radix).saturating_add(d);
            end += 1;
        }
        if end == start {
            return None;
        }
        if text.get(end) == Some(&b';') {
            end += 1;
        }
        let c = char::from_u32(value)
            .filter(|&c| c != '\0')
            .unwrap_or('\u{FFFD}');
        let n = c.encode_utf8(buf).len();
        // A reference is never shorter than its UTF-8 text: views never grow.
        return (n <= end - p).then_some((end - p, n));
    }
    let name_len = text
        .get(p + 1..)?
        .iter()
        .take(33)
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let end = p + 1 + name_len;
    if name_len == 0 || text.get(end) != Some(&b';') {
        return None;
    }
    let value = html_named(text.get(p + 1..end)?)?;
    let n = value.len();
    buf.get_mut(..n)?.copy_from_slice(value.as_bytes());
    Some((end + 1 - p, n))
}

/// Decodes HTML character references. `None` when nothing decodes.
fn html_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Out::new(text);
    let mut i = 0;
    while let Some(off) = text.get(i..).and_then(|rest| memchr(b'&', rest)) {
        let p = i + off;
        let mut buf = [0u8; 4];
        match html_entity(text, p, &mut buf) {
            Some((len, n)) => {
                out.replace(p, len, buf.get(..n).unwrap_or(&[]));
                i = p + len;
            }
            None => i = p + 1,
        }
    }
    out.finish()
}

/// Decodes every `\xHH`. `None` when nothing decodes.
fn hex_escapes_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Out::new(text);
    let mut i = 0;
    while let Some(off) = text.get(i..).and_then(|rest| memchr(b'\\', rest)) {
        let p = i + off;
        if matches!(text.get(p + 1), Some(b'x' | b'X'))
            && let Some(b) = hex_byte(text, p + 2)
        {
            out.replace(p, 4, &[b]);
            i = p + 4;
        } else {
            i = p + 1;
        }
    }
    out.finish()
}

fn is_hex(text: &[u8], at: usize) -> bool {
    text.get(at).is_some_and(u8::is_ascii_hexdigit)
}

/// The next run of at least [`HEX_RUN_MIN`] hex byte pairs joined by one separator (`:`,
/// space or `-`) at or after `from`: (start, end, separator). Linear: each separator is
/// looked at once, and a run is skipped as a whole.
fn next_hex_run(text: &[u8], from: usize) -> Option<(usize, usize, u8)> {
    let mut i = from;
    while let Some(off) = text
        .get(i..)
        .and_then(|rest| memchr3(b':', b' ', b'-', rest))
    {
        let p = i + off;
        let sep = text.get(p).copied().unwrap_or(b':');
        let candidate = p >= 2
            && is_hex(text, p - 2)
            && is_hex(text, p - 1)
            && is_hex(text, p + 1)
            && is_hex(text, p + 2)
            && text.get(p + 3) == Some(&sep);
        if !candidate {
            i = p + 1;
            continue;
        }
        let start = p - 2;
        let mut pairs = 1;
        let mut end = p;
        while text.get(end) == Some(&sep) && is_hex(text, end + 1) && is_hex(text, end + 2) {
            pairs += 1;
            end += 3;
        }
        if pairs >= HEX_RUN_MIN {
            return Some((start, end, sep));
        }
        i = end;
    }
    None
}

/// Decodes separated hex runs to bytes. `None` when there is none.
fn hex_separated_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Out::new(text);
    let mut from = 0;
    let mut bytes = Vec::new();
    while let Some((start, end, _)) = next_hex_run(text, from) {
        bytes.clear();
        let mut at = start;
        while at < end {
            bytes.push(hex_byte(text, at).unwrap_or(0));
            at += 3;
        }
        out.replace(start, end - start, &bytes);
        from = end;
    }
    out.finish()
}

fn is_base64_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

/// The length of the line break (raw or JSON-escaped) at `p`, if any.
fn line_break_at(text: &[u8], p: usize) -> Option<usize> {
    let rest = text.get(p..)?;
    [&b"\\r\\n"[..], b"\r\n", b"\\n", b"\\r", b"\n", b"\r"]
        .iter()
        .find(|t| rest.starts_with(t))
        .map(|t| t.len())
}

/// Removes line breaks that wrap base64 text: after at least [`MIME_LINE_MIN`] base64
/// characters and before another (after optional indentation). `None` when there is none.
fn unwrap_base64(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Out::new(text);
    let mut i = 0;
    while let Some(off) = text
        .get(i..)
        .and_then(|rest| memchr3(b'\n', b'\r', b'\\', rest))
    {
        let p = i + off;
        let Some(len) = line_break_at(text, p) else {
            i = p + 1;
            continue;
        };
        let mut after = p + len;
        while matches!(text.get(after), Some(b' ' | b'\t')) {
            after += 1;
        }
        let wraps = p >= MIME_LINE_MIN
            && text
                .get(p - MIME_LINE_MIN..p)
                .is_some_and(|line| line.iter().all(|&b| is_base64_char(b)))
            && text.get(after).is_some_and(|&b| is_base64_char(b));
        if wraps {
            out.replace(p, after - p, &[]);
            i = after;
        } else {
            i = p + len;
        }
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: Option<Vec<u8>>) -> Option<String> {
        v.map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    #[test]
    fn json_lenient() {
        let cases: &[(&[u8], Option<&str>)] = &[
            (br#"a\/b\u0041\n\"q\\"#, Some("a/bA\n\"q\\")),
            (br#"x\ud83d\ude00y"#, Some("x\u{1F600}y")),
            (
                br#"lone \ud800 here\u0041"#,
                Some("lone \u{FFFD} here\u{41}"),
            ),
            (br#"low \udc00"#, Some("low \u{FFFD}")),
            (
                br#"bad \q and \u12 and \x41 \/"#,
                Some(r"bad \q and \u12 and \x41 /"),
            ),
            (br#"\\u0041"#, Some(r"\u0041")),
            (b"trailing \\", None),
            (b"plain", None),
        ];
        for (input, want) in cases {
            assert_eq!(
                s(json_unescape(input)).as_deref(),
                *want,
                "{}",
                input.escape_ascii()
            );
        }
    }

    #[test]
    fn percent_html_hex() {
        assert_eq!(
            s(percent_decode(b"a%2fb%2F%zz%4", false)).as_deref(),
            Some("a/b/%zz%4")
        );
        assert_eq!(
            s(percent_decode(b"a+b%20c", true)).as_deref(),
            Some("a b c")
        );
        assert_eq!(percent_decode(b"100% sure", false), None);
        assert_eq!(
            s(html_decode(
                b"&#115;&#x65;&#X63;&amp;&sol;&bogus;&#;&#0;&lt"
            ))
            .as_deref(),
            Some("sec&/&bogus;&#;\u{FFFD}&lt")
        );
        assert_eq!(html_decode(b"a & b &#&#"), None);
        assert_eq!(
            s(hex_escapes_decode(br"\x73\X33 \xZZ \x4")).as_deref(),
            Some(r"s3 \xZZ \x4")
        );
        assert_eq!(
            s(hex_separated_decode(
                b"k=73:33:63:72:33:74:2f:76 and 61-62-63 and 2026-02-24"
            ))
            .as_deref(),
            Some("k=s3cr3t/v and 61-62-63 and 2026-02-24")
        );
        assert_eq!(
            s(hex_separated_decode(b"73 33 63 72 33 74 2F 76 41")).as_deref(),
            Some("s3cr3t/vA")
        );
        assert_eq!(
            hex_separated_decode(b"ts 23:02:34 mac 00:1a:2b:3c:4d:5e"),
            None
        );
    }

    #[test]
    fn mime_unwrap() {
        let line = "QUJDREVGR0hJSktMTU5PUFFS\r\nU1RVVldYWVo=";
        assert_eq!(
            s(unwrap_base64(line.as_bytes())).as_deref(),
            Some("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=")
        );
        let escaped = r"QUJDREVGR0hJSktMTU5PUFFS\r\nU1RVVldYWVo=\nshort\nline";
        assert_eq!(
            s(unwrap_base64(escaped.as_bytes())).as_deref(),
            Some(r"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\nshort\nline")
        );
        assert_eq!(unwrap_base64(b"hello\nworld"), None);
    }

    #[test]
    fn chains_report_the_outer_layer() {
        let chain = |steps: &[Decoder]| {
            steps
                .iter()
                .try_fold(Chain::ROOT, |c, &d| c.then(d))
                .unwrap()
        };
        use Decoder::*;
        assert_eq!(chain(&[Json]).report(Encoding::Raw), Encoding::JsonEscaped);
        assert_eq!(
            chain(&[Json, Json]).report(Encoding::Raw),
            Encoding::JsonNested
        );
        assert_eq!(chain(&[Json]).report(Encoding::Base64), Encoding::Base64);
        assert_eq!(
            chain(&[Json, Percent]).report(Encoding::Raw),
            Encoding::Percent
        );
        assert_eq!(
            chain(&[Percent, Json]).report(Encoding::Raw),
            Encoding::Percent
        );
        assert_eq!(
            chain(&[Json, HexEscapes]).report(Encoding::Raw),
            Encoding::HexEscaped
        );
        assert!(chain(&[Json, Mime]).base64_only());
        assert!(chain(&[Json, Json, Json, Json]).then(Json).is_none());
    }
}
