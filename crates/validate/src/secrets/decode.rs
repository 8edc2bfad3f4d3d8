//! Decoded views: the texts the secret scanner searches besides the text itself.
//!
//! The scanner's prefix table knows the fixed encodings of a secret (raw, hex, base64,
//! UTF-16); every other way a log may carry a value is an escaping layered over some text.
//! Each decoder here undoes one such layer over a whole text and yields a *view*; the scanner
//! searches the view with the same table, so a form the table knows is found under any
//! layer (base64 written with `\/` inside a JSON string, hex behind `\x` prefixes).
//!
//! - A decoder runs only when its trigger bytes occur (`\`, `%`, `&`, a line break, a
//!   separated hex run), so a text with none of them costs a few `memchr` calls and no
//!   allocation.
//! - Before a view is built, a first pass collects the bytes the decoding would produce. A
//!   view is built only if one of them matters: it occurs in some searched form (for the
//!   scanner: in a fixed form of some secret), or it can start another layer. So the `\"`
//!   and `\n` of every JSON log line cost one pass and no allocation, unless a secret holds
//!   a quote or a line break.
//! - Views are decoded again, breadth first (outer layers first), up to `MAX_DEPTH` (4) layers
//!   (JSON inside JSON inside JSON, percent inside JSON, ...). Layers that commute are
//!   tried in one order only (JSON, then percent, then HTML, then hex, then line wraps); a
//!   layer comes after a later one only when that one produced its trigger (`%5C` makes a
//!   `\`, `&amp;` an `&`). Identical views are searched once.
//! - Every decoder shrinks or keeps the length of its input, so a view is never longer than
//!   the text. Each decoder has a budget of its own: the views it makes of one text total at
//!   most `DECODER_BUDGET_FACTOR` (8) times the text's length and number at most
//!   `VIEWS_PER_DECODER` (16). So the views of a text total at most `BUDGET_FACTOR`
//!   (7 × 8 = 56) times its length in `MAX_VIEWS` (112) views, and hostile input
//!   (`%25%25...`, `\\\\...`, `&#&#...`) costs linear time and memory. Budgets are not
//!   shared, so views one decoder makes (the `%2F` of a URL, the `&amp;` of a query, a MAC
//!   address, a wrapped base64 blob) never spend another decoder's: views are made breadth
//!   first, and a decoder's view of the text and of each of the (at most 7) one-layer views
//!   always fits its 8 × budget. So every documented layer, alone or under one other layer
//!   (hex escapes inside a JSON string), is decoded whatever else the line holds; only
//!   three- and four-layer views can be left out.
//! - A cap that leaves a view out is never silent: the walk returns [`Coverage::Cut`] with
//!   the cap ([`Cap::Budget`], [`Cap::Views`], or [`Cap::Depth`] when a view `MAX_DEPTH`
//!   layers deep could still be decoded) and the layer it stopped. The validator reports
//!   it as `secret.scan_incomplete`.
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
//! `decoded_views_checked` returns the views of a text, so other searches (the built-in
//! credential-format detector) can look at JSON-unescaped and percent-decoded text too.
//!
//! The caps and the walk are the crate's own; what leaves the crate is [`Coverage`] and
//! [`Cap`], how a search says that a cap left a view out.

use std::ops::ControlFlow;
use std::sync::LazyLock;

use memchr::{memchr, memchr2, memchr3};

use super::scan::Encoding;

/// Most decoding layers stacked on one view.
pub(crate) const MAX_DEPTH: usize = 4;
/// The bytes of the views one decoder makes of a text are capped at this many times its
/// length: enough for its view of the text and of each of the (at most 7) one-layer views.
pub(crate) const DECODER_BUDGET_FACTOR: usize = 8;
/// Most views one decoder makes of a text.
pub(crate) const VIEWS_PER_DECODER: usize = 16;
/// Number of decoders, each with its own budget.
const DECODERS: usize = 7;
/// The bytes of all views of a text are capped at this many times its length (the sum of
/// the decoders' budgets). The tests hold every search to it.
#[cfg(test)]
pub(crate) const BUDGET_FACTOR: usize = DECODERS * DECODER_BUDGET_FACTOR;
/// Most views of one text (the sum of the decoders' caps). The tests hold every search to
/// it.
#[cfg(test)]
pub(crate) const MAX_VIEWS: usize = DECODERS * VIEWS_PER_DECODER;
/// Fewest byte pairs in a separated hex run worth decoding (the shortest secret).
const HEX_RUN_MIN: usize = 8;
/// Fewest base64 characters before a line break for it to count as a wrap.
const MIME_LINE_MIN: usize = 16;

/// A set of byte values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ByteSet([u64; 4]);

impl ByteSet {
    /// The bytes for which `f` holds.
    pub(crate) fn from_fn(f: impl Fn(u8) -> bool) -> ByteSet {
        let mut set = ByteSet::default();
        for b in 0..=255u8 {
            if f(b) {
                set.insert(b);
            }
        }
        set
    }

    pub(crate) fn insert(&mut self, b: u8) {
        if let Some(w) = self.0.get_mut(usize::from(b >> 6)) {
            *w |= 1 << (b & 63);
        }
    }

    fn union(self, other: ByteSet) -> ByteSet {
        let mut out = self;
        for (w, o) in out.0.iter_mut().zip(other.0) {
            *w |= o;
        }
        out
    }

    fn intersects(self, other: ByteSet) -> bool {
        self.0.iter().zip(other.0).any(|(a, b)| a & b != 0)
    }
}

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

/// Receives each decoded sequence: where it starts, its length, what it decodes to.
type Sink<'a> = dyn FnMut(usize, usize, &[u8]) + 'a;

impl Decoder {
    /// Every decoder, in the order views are made.
    const ALL: [Decoder; DECODERS] = [
        Decoder::Json,
        Decoder::Percent,
        Decoder::FormPlus,
        Decoder::Html,
        Decoder::HexEscapes,
        Decoder::HexSeparated,
        Decoder::Mime,
    ];

    /// Position in the canonical order of layers (percent and form encoding share one).
    fn rank(self) -> u8 {
        match self {
            Decoder::Json => 0,
            Decoder::Percent | Decoder::FormPlus => 1,
            Decoder::Html => 2,
            Decoder::HexEscapes => 3,
            Decoder::HexSeparated => 4,
            Decoder::Mime => 5,
        }
    }

    fn index(self) -> usize {
        Decoder::ALL.iter().position(|&d| d == self).unwrap_or(0)
    }

    /// The layer's name in messages.
    fn name(self) -> &'static str {
        match self {
            Decoder::Json => "JSON escapes",
            Decoder::Percent => "percent-encoding",
            Decoder::FormPlus => "form encoding",
            Decoder::Html => "HTML references",
            Decoder::HexEscapes => "hex escapes",
            Decoder::HexSeparated => "separated hex",
            Decoder::Mime => "line-wrapped base64",
        }
    }

    /// Hands every decodable sequence of `text` to `sink`, left to right.
    fn run(self, text: &[u8], sink: &mut Sink<'_>) {
        match self {
            Decoder::Json => json_run(text, sink),
            Decoder::Percent => percent_run(text, false, sink),
            Decoder::FormPlus => percent_run(text, true, sink),
            Decoder::Html => html_run(text, sink),
            Decoder::HexEscapes => hex_escapes_run(text, sink),
            Decoder::HexSeparated => hex_separated_run(text, sink),
            Decoder::Mime => mime_run(text, sink),
        }
    }

    /// The decoded text, or `None` when there is nothing to decode.
    pub(crate) fn apply(self, text: &[u8]) -> Option<Vec<u8>> {
        let mut out = Out::new(text);
        self.run(text, &mut |at, len, bytes| out.replace(at, len, bytes));
        out.finish()
    }

    /// The bytes the decoding would produce (for a removal, the byte it joins on), or
    /// `None` when there is nothing to decode. Allocates nothing.
    fn produced(self, text: &[u8]) -> Option<ByteSet> {
        let mut set = ByteSet::default();
        let mut any = false;
        self.run(text, &mut |at, len, bytes| {
            any = true;
            if bytes.is_empty() {
                if let Some(&b) = text.get(at + len) {
                    set.insert(b);
                }
            } else {
                bytes.iter().for_each(|&b| set.insert(b));
            }
        });
        any.then_some(set)
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
            Decoder::HexSeparated => t.hex_run,
            Decoder::Mime => t.backslash || t.line_break,
        }
    }
}

/// `ENABLES[e][p]`: the bytes which, produced by layer `p`, can make a sequence layer `e`
/// decodes (so `e` is tried after `p` even though it comes first in the canonical order).
static ENABLES: LazyLock<[[ByteSet; DECODERS]; DECODERS]> = LazyLock::new(|| {
    let hex = |b: u8| b.is_ascii_hexdigit();
    let b64 = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_');
    let mut table = [[ByteSet::default(); DECODERS]; DECODERS];
    for e in Decoder::ALL {
        for p in Decoder::ALL {
            let set = match e {
                Decoder::Json => ByteSet::from_fn(|b| b == b'\\'),
                Decoder::Percent => ByteSet::from_fn(|b| b == b'%' || hex(b)),
                Decoder::FormPlus => ByteSet::from_fn(|b| matches!(b, b'%' | b'+') || hex(b)),
                Decoder::Html => ByteSet::from_fn(|b| {
                    matches!(b, b'&' | b'#' | b';') || b.is_ascii_alphanumeric()
                }),
                Decoder::HexEscapes => ByteSet::from_fn(|b| b == b'\\' || b == b'x' || hex(b)),
                Decoder::HexSeparated => {
                    ByteSet::from_fn(|b| matches!(b, b':' | b' ' | b'-') || hex(b))
                }
                // Raw line breaks decoded from `\n` were already unwrapped in the JSON text.
                Decoder::Mime if p == Decoder::Json => ByteSet::from_fn(|b| b == b'\\' || b64(b)),
                Decoder::Mime => ByteSet::from_fn(|b| {
                    matches!(b, b'\\' | b'\n' | b'\r' | b' ' | b'\t') || b64(b)
                }),
            };
            if let Some(slot) = table.get_mut(e.index()).and_then(|r| r.get_mut(p.index())) {
                *slot = set;
            }
        }
    }
    table
});

/// The bytes which, produced by `p`, can make a sequence for `e`.
fn enables(e: Decoder, p: Decoder) -> ByteSet {
    ENABLES
        .get(e.index())
        .and_then(|r| r.get(p.index()))
        .copied()
        .unwrap_or_default()
}

/// The bytes which, produced by `p`, can make a sequence for some layer.
static ENABLES_ANY: LazyLock<[ByteSet; DECODERS]> = LazyLock::new(|| {
    Decoder::ALL.map(|p| {
        Decoder::ALL
            .iter()
            .fold(ByteSet::default(), |acc, &e| acc.union(enables(e, p)))
    })
});

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

    fn last(&self) -> Option<Decoder> {
        self.steps().last().copied()
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

/// What the walk decodes and which views it searches.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Options {
    /// Also decode `+` as a space (some secret contains a space).
    pub form_plus: bool,
    /// The bytes a search can match: a view whose decoding produced none of them (and
    /// nothing that starts another layer) holds nothing its parent does not.
    pub alphabet: ByteSet,
}

impl Options {
    /// For the credential-format detector: letters, digits and the punctuation of tokens,
    /// base64 and PEM armour.
    fn detector() -> Options {
        Options {
            form_plus: false,
            alphabet: ByteSet::from_fn(|b| {
                b.is_ascii_alphanumeric()
                    || matches!(
                        b,
                        b'-' | b'_' | b'.' | b'+' | b'/' | b'=' | b'~' | b':' | b' '
                    )
            }),
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Triggers {
    backslash: bool,
    percent: bool,
    amp: bool,
    plus: bool,
    line_break: bool,
    hex_run: bool,
}

impl Triggers {
    fn any(self) -> bool {
        self.backslash || self.percent || self.amp || self.plus || self.line_break || self.hex_run
    }

    fn of(text: &[u8], opts: Options) -> Triggers {
        Triggers {
            backslash: memchr(b'\\', text).is_some(),
            percent: memchr(b'%', text).is_some(),
            amp: memchr(b'&', text).is_some(),
            plus: opts.form_plus && memchr(b'+', text).is_some(),
            line_break: memchr2(b'\n', b'\r', text).is_some(),
            hex_run: next_hex_run(text, 0).is_some(),
        }
    }
}

/// The triggers of `text` when some decoder could apply to it: the fast path, where a text
/// without `\\`, `%`, `&`, line breaks or hex runs costs two `memchr` passes and a sparse
/// probe for hex runs. No allocation.
fn triggers(text: &[u8], opts: Options) -> Option<Triggers> {
    let some = memchr3(b'%', b'\\', b'&', text).is_some()
        || memchr2(b'\n', b'\r', text).is_some()
        || (opts.form_plus && memchr(b'+', text).is_some());
    if some {
        return Some(Triggers::of(text, opts));
    }
    next_hex_run(text, 0).is_some().then_some(Triggers {
        hex_run: true,
        ..Triggers::default()
    })
}

/// One decoded view.
#[derive(Debug)]
pub(crate) struct View {
    pub(crate) chain: Chain,
    pub(crate) bytes: Vec<u8>,
    /// Whether the decoding produced a byte of the alphabet (else it is only decoded further).
    pub(crate) searched: bool,
    produced: ByteSet,
    hash: u64,
}

/// Why a walk stopped decoding before it had made every view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cap {
    /// A decoder spent its budget, a fixed multiple of the text's length
    /// ([`Cap::reached`] gives the figure).
    Budget,
    /// A decoder made as many views as it may ([`Cap::reached`] gives the figure).
    Views,
    /// A view as many layers deep as views go could still be decoded ([`Cap::reached`]
    /// gives the figure).
    Depth,
}

impl Cap {
    /// What the cap is, for a message: `decode budget`, `view limit`, `depth limit`.
    pub fn as_str(self) -> &'static str {
        match self {
            Cap::Budget => "decode budget",
            Cap::Views => "view limit",
            Cap::Depth => "depth limit",
        }
    }

    /// The cap with its figure, for a message: `the decode budget (8 × the text's length
    /// per decoder) was spent`.
    pub fn reached(self) -> String {
        match self {
            Cap::Budget => format!(
                "the decode budget ({DECODER_BUDGET_FACTOR} × the text's length per decoder) was spent"
            ),
            Cap::Views => format!("the view limit ({VIEWS_PER_DECODER} per decoder) was reached"),
            Cap::Depth => format!("the depth limit ({MAX_DEPTH} layers) was reached"),
        }
    }
}

/// Whether a search saw every decoded view of its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coverage {
    /// Every view was made (or the search stopped because it had found what it wanted).
    Complete,
    /// A cap stopped decoding: some view was not made, so not searched.
    Cut {
        /// The first cap reached.
        cap: Cap,
        /// The layer that could not be decoded (`hex escapes`, `percent`, ...).
        layer: &'static str,
    },
}

impl Coverage {
    /// Whether every view was searched.
    pub fn is_complete(self) -> bool {
        self == Coverage::Complete
    }

    /// The first cut of `self` and `other`.
    #[must_use]
    pub fn and(self, other: Coverage) -> Coverage {
        match self {
            Coverage::Complete => other,
            cut => cut,
        }
    }
}

/// Makes the views of `text` breadth first and hands each view worth searching to `visit`,
/// which may stop the walk. Returns the views made and whether a cap cut the walk short.
/// Bounded by [`MAX_DEPTH`], and per decoder by [`VIEWS_PER_DECODER`] and
/// [`DECODER_BUDGET_FACTOR`] times the length of `text` in bytes (counting each view's
/// allocation).
pub(crate) fn walk(
    text: &[u8],
    opts: Options,
    visit: &mut dyn FnMut(&Chain, &[u8]) -> ControlFlow<()>,
) -> (Vec<View>, Coverage) {
    let mut views: Vec<View> = Vec::new();
    let Some(root) = triggers(text, opts) else {
        return (views, Coverage::Complete);
    };
    let mut walk = Walk {
        opts,
        budget: text.len().saturating_mul(DECODER_BUDGET_FACTOR),
        used: [0; DECODERS],
        made: [0; DECODERS],
        cut: Coverage::Complete,
    };
    walk.expand(text, root, &Chain::ROOT, ByteSet::default(), &mut views);
    let mut next = 0;
    while let Some(view) = views.get(next) {
        if view.searched && visit(&view.chain, &view.bytes).is_break() {
            return (views, Coverage::Complete);
        }
        if !view.chain.base64_only() {
            let (chain, produced) = (view.chain, view.produced);
            let bytes = views
                .get_mut(next)
                .map(|v| std::mem::take(&mut v.bytes))
                .unwrap_or_default();
            let triggers = Triggers::of(&bytes, opts);
            if triggers.any() {
                walk.expand(&bytes, triggers, &chain, produced, &mut views);
            }
            if let Some(v) = views.get_mut(next) {
                v.bytes = bytes;
            }
        }
        next += 1;
    }
    (views, walk.cut)
}

struct Walk {
    opts: Options,
    /// Bytes each decoder may allocate.
    budget: usize,
    /// Bytes allocated per decoder ([`Decoder::index`]).
    used: [usize; DECODERS],
    /// Views made per decoder.
    made: [usize; DECODERS],
    /// The first cap reached.
    cut: Coverage,
}

impl Walk {
    /// Appends the views one layer below `text` (made by `chain`, whose last layer
    /// produced `produced`). At [`MAX_DEPTH`], makes none but notes a cut if one would hold
    /// something.
    fn expand(
        &mut self,
        text: &[u8],
        triggers: Triggers,
        chain: &Chain,
        produced: ByteSet,
        views: &mut Vec<View>,
    ) {
        for d in Decoder::ALL {
            if !self.follows(d, triggers, chain, produced) {
                continue;
            }
            let Some(made) = d.produced(text) else {
                continue;
            };
            let searched = made.intersects(self.opts.alphabet);
            let fertile = ENABLES_ANY
                .get(d.index())
                .is_some_and(|&e| made.intersects(e));
            let Some(child) = chain.then(d) else {
                if searched || fertile {
                    self.note(Cap::Depth, d);
                }
                continue;
            };
            if !searched {
                // A view that only starts another layer is worth making below the depth
                // cap; at the cap, that layer is one the walk cannot reach.
                if fertile && child.leaf() && !child.base64_only() {
                    self.note(Cap::Depth, d);
                }
                if !fertile || child.leaf() {
                    continue;
                }
            }
            if !self.afford(d, text.len()) {
                continue;
            }
            let Some(bytes) = d.apply(text) else { continue };
            let i = d.index();
            if let (Some(used), Some(n)) = (self.used.get_mut(i), self.made.get_mut(i)) {
                *used += bytes.capacity().max(bytes.len());
                *n += 1;
            }
            let hash = fingerprint(&bytes);
            if views.iter().any(|v| v.hash == hash && v.bytes == bytes) {
                continue;
            }
            views.push(View {
                chain: child,
                bytes,
                searched,
                produced: made,
                hash,
            });
        }
    }

    /// Whether layer `d` is tried below `chain`: it is on, its trigger occurs, and it comes
    /// later in the canonical order or the last layer produced its trigger.
    fn follows(&self, d: Decoder, triggers: Triggers, chain: &Chain, produced: ByteSet) -> bool {
        if (d == Decoder::FormPlus && !self.opts.form_plus) || !d.triggered(triggers) {
            return false;
        }
        match chain.last() {
            Some(last) => d.rank() > last.rank() || produced.intersects(enables(d, last)),
            None => true,
        }
    }

    /// Whether decoder `d` may still make a view of `len` bytes (a view is never longer
    /// than what it decodes, and is allocated at that size); notes the cap when not.
    fn afford(&mut self, d: Decoder, len: usize) -> bool {
        let i = d.index();
        let used = self.used.get(i).copied().unwrap_or(usize::MAX);
        let made = self.made.get(i).copied().unwrap_or(usize::MAX);
        if made >= VIEWS_PER_DECODER {
            self.note(Cap::Views, d);
            false
        } else if used.saturating_add(len) > self.budget {
            self.note(Cap::Budget, d);
            false
        } else {
            true
        }
    }

    /// Keeps the first cap reached.
    fn note(&mut self, cap: Cap, d: Decoder) {
        if self.cut.is_complete() {
            self.cut = Coverage::Cut {
                cap,
                layer: d.name(),
            };
        }
    }
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
/// raw in it would be reported as (`json-escaped`, `percent-encoded`, `html-entities`, ...),
/// for searches besides the scanner's (the credential-format detector).
///
/// Empty when `text` has nothing to decode. Views whose decoding produced only bytes no
/// credential is made of (quotes, line breaks, brackets: the `\"` and `\n` of a JSON line)
/// are left out, since they hold nothing the text does not. Bounded like the scanner's own
/// search: at most [`MAX_VIEWS`] views totalling at most [`BUDGET_FACTOR`] times the length
/// of `text` ([`decoded_views_checked`] says whether a cap left a view out). The tests' entry
/// point; the crate calls [`decoded_views_checked`].
#[cfg(test)]
pub(crate) fn decoded_views(text: &[u8]) -> Vec<(Encoding, Vec<u8>)> {
    decoded_views_checked(text).0
}

/// The decoded views of `text`, outer layers first, each with the encoding a secret found raw
/// in it would be reported as, and whether a cap left some view out ([`Coverage::Cut`]).
pub(crate) fn decoded_views_checked(text: &[u8]) -> (Vec<(Encoding, Vec<u8>)>, Coverage) {
    let (views, coverage) = walk(text, Options::detector(), &mut |_, _| {
        ControlFlow::Continue(())
    });
    let views = views
        .into_iter()
        .filter(|v| v.searched)
        .map(|v| (v.chain.report(Encoding::Raw), v.bytes))
        .collect();
    (views, coverage)
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
pub(crate) fn hex_byte(text: &[u8], at: usize) -> Option<u8> {
    let hi = hex_val(*text.get(at)?)?;
    let lo = hex_val(*text.get(at + 1)?)?;
    Some(hi << 4 | lo)
}

/// The value of the four hex digits at `text[at..at + 4]`.
pub(crate) fn hex4(text: &[u8], at: usize) -> Option<u32> {
    let mut v = 0u32;
    for i in 0..4 {
        v = v << 4 | u32::from(hex_val(*text.get(at + i)?)?);
    }
    Some(v)
}

/// Decodes JSON string escapes anywhere in `text`, leniently: a lone surrogate becomes
/// U+FFFD, an invalid or cut escape stays as it is. `None` when nothing decodes.
pub(crate) fn json_unescape(text: &[u8]) -> Option<Vec<u8>> {
    Decoder::Json.apply(text)
}

fn json_run(text: &[u8], sink: &mut Sink<'_>) {
    let mut i = 0;
    while let Some(off) = text.get(i..).and_then(|rest| memchr(b'\\', rest)) {
        let p = i + off;
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
                sink(p, len, c.encode_utf8(&mut [0u8; 4]).as_bytes());
                i = p + len;
            }
            None => i = p + 1,
        }
    }
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

/// Every `%XX` (and `+` as a space when `plus`).
fn percent_run(text: &[u8], plus: bool, sink: &mut Sink<'_>) {
    let mut i = 0;
    loop {
        let Some(rest) = text.get(i..) else { return };
        let found = if plus {
            memchr2(b'%', b'+', rest)
        } else {
            memchr(b'%', rest)
        };
        let Some(off) = found else { return };
        let p = i + off;
        if text.get(p) == Some(&b'+') {
            sink(p, 1, b" ");
            i = p + 1;
        } else if let Some(b) = hex_byte(text, p + 1) {
            sink(p, 3, &[b]);
            i = p + 3;
        } else {
            i = p + 1;
        }
    }
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

/// Every HTML character reference.
fn html_run(text: &[u8], sink: &mut Sink<'_>) {
    let mut i = 0;
    while let Some(off) = text.get(i..).and_then(|rest| memchr(b'&', rest)) {
        let p = i + off;
        let mut buf = [0u8; 4];
        match html_entity(text, p, &mut buf) {
            Some((len, n)) => {
                sink(p, len, buf.get(..n).unwrap_or(&[]));
                i = p + len;
            }
            None => i = p + 1,
        }
    }
}

/// Every `\xHH`.
fn hex_escapes_run(text: &[u8], sink: &mut Sink<'_>) {
    let mut i = 0;
    while let Some(off) = text.get(i..).and_then(|rest| memchr(b'\\', rest)) {
        let p = i + off;
        if matches!(text.get(p + 1), Some(b'x' | b'X'))
            && let Some(b) = hex_byte(text, p + 2)
        {
            sink(p, 4, &[b]);
            i = p + 4;
        } else {
            i = p + 1;
        }
    }
}

fn is_hex(text: &[u8], at: usize) -> bool {
    text.get(at).is_some_and(u8::is_ascii_hexdigit)
}

/// Whether `text[s]` joins two hex byte pairs with a separator (`:`, space or `-`).
fn is_joint(text: &[u8], s: usize) -> bool {
    s >= 2
        && matches!(text.get(s), Some(b':' | b' ' | b'-'))
        && is_hex(text, s - 2)
        && is_hex(text, s - 1)
        && is_hex(text, s + 1)
        && is_hex(text, s + 2)
}

/// The next run of at least [`HEX_RUN_MIN`] hex byte pairs joined by one separator (`:`,
/// space or `-`) at or after `from`: (start, end, separator).
///
/// Such a run spans at least `W = 3 * HEX_RUN_MIN - 1` bytes, and any `W` consecutive
/// bytes hold one offset of each residue modulo `W`: so only every `W`-th byte is looked
/// at. A byte inside a run of two pairs or more has a joint (a separator between two
/// pairs) at most 2 bytes away; only from a joint is a run followed, 3 bytes at a time.
fn next_hex_run(text: &[u8], from: usize) -> Option<(usize, usize, u8)> {
    const W: usize = 3 * HEX_RUN_MIN - 1;
    let mut low = from;
    let mut probe = from + W - 1;
    while probe < text.len() {
        let joint =
            (probe.saturating_sub(2)..=probe + 2).find(|&s| s >= low + 2 && is_joint(text, s));
        let Some(joint) = joint else {
            probe += W;
            continue;
        };
        let sep = text.get(joint).copied().unwrap_or(b':');
        let mut start = joint - 2;
        while start >= low + 3
            && text.get(start - 1) == Some(&sep)
            && is_hex(text, start - 3)
            && is_hex(text, start - 2)
        {
            start -= 3;
        }
        let mut end = joint + 3;
        while text.get(end) == Some(&sep) && is_hex(text, end + 1) && is_hex(text, end + 2) {
            end += 3;
        }
        if (end - start + 1) / 3 >= HEX_RUN_MIN {
            return Some((start, end, sep));
        }
        // Another run may share this one's last pair: it starts at `end - 2` or later.
        low = end - 2;
        probe = low + W - 1;
    }
    None
}

/// Every separated hex run, as bytes.
fn hex_separated_run(text: &[u8], sink: &mut Sink<'_>) {
    let mut from = 0;
    let mut bytes = Vec::new();
    while let Some((start, end, _)) = next_hex_run(text, from) {
        bytes.clear();
        let mut at = start;
        while at < end {
            bytes.push(hex_byte(text, at).unwrap_or(0));
            at += 3;
        }
        sink(start, end - start, &bytes);
        from = end;
    }
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

/// Every line break that wraps base64 text, as a removal: after at least
/// [`MIME_LINE_MIN`] base64 characters and before another (after optional indentation).
fn mime_run(text: &[u8], sink: &mut Sink<'_>) {
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
            sink(p, after - p, &[]);
            i = after;
        } else {
            i = p + len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_views_unescape_json_then_percent_and_skip_quotes_only() {
        let views = decoded_views(br#"{"url":"https:\/\/x.test\/?q=a%2Fb"}"#);
        assert_eq!(
            views[0],
            (
                Encoding::JsonEscaped,
                br#"{"url":"https://x.test/?q=a%2Fb"}"#.to_vec()
            )
        );
        assert!(
            views
                .iter()
                .any(|(e, v)| *e == Encoding::Percent && v.ends_with(br#"?q=a/b"}"#))
        );
        assert!(decoded_views(br#"{"msg":"say \"hi\"\n"}"#).is_empty());
    }

    #[test]
    fn decoded_views_checked_names_the_cap() {
        let deep = "%252525252541".repeat(4);
        let (_, coverage) = decoded_views_checked(deep.as_bytes());
        assert_eq!(
            coverage,
            Coverage::Cut {
                cap: Cap::Depth,
                layer: "percent-encoding"
            }
        );
        let (_, coverage) = decoded_views_checked(b"a%2Fb");
        assert!(coverage.is_complete());
    }

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
                s(Decoder::Json.apply(input)).as_deref(),
                *want,
                "{}",
                input.escape_ascii()
            );
        }
    }

    #[test]
    fn percent_html_hex() {
        assert_eq!(
            s(Decoder::Percent.apply(b"a%2fb%2F%zz%4")).as_deref(),
            Some("a/b/%zz%4")
        );
        assert_eq!(
            s(Decoder::FormPlus.apply(b"a+b%20c")).as_deref(),
            Some("a b c")
        );
        assert_eq!(Decoder::Percent.apply(b"100% sure"), None);
        assert_eq!(
            s(Decoder::Html.apply(b"&#115;&#x65;&#X63;&amp;&sol;&bogus;&#;&#0;&lt")).as_deref(),
            Some("sec&/&bogus;&#;\u{FFFD}&lt")
        );
        assert_eq!(Decoder::Html.apply(b"a & b &#&#"), None);
        assert_eq!(
            s(Decoder::HexEscapes.apply(br"\x73\X33 \xZZ \x4")).as_deref(),
            Some(r"s3 \xZZ \x4")
        );
        assert_eq!(
            s(Decoder::HexSeparated
                .apply(b"k=73:33:63:72:33:74:2f:76 and 61-62-63 and 2026-02-24"))
            .as_deref(),
            Some("k=s3cr3t/v and 61-62-63 and 2026-02-24")
        );
        assert_eq!(
            s(Decoder::HexSeparated.apply(b"73 33 63 72 33 74 2F 76 41")).as_deref(),
            Some("s3cr3t/vA")
        );
        assert_eq!(
            Decoder::HexSeparated.apply(b"ts 23:02:34 mac 00:1a:2b:3c:4d:5e"),
            None
        );
    }

    /// Whether `text` holds a run of [`HEX_RUN_MIN`] pairs, looking everywhere.
    fn naive_hex_run(text: &[u8]) -> bool {
        (0..text.len()).any(|start| {
            [b':', b' ', b'-'].iter().any(|&sep| {
                (0..HEX_RUN_MIN).all(|k| {
                    let at = start + 3 * k;
                    is_hex(text, at)
                        && is_hex(text, at + 1)
                        && (k + 1 == HEX_RUN_MIN || text.get(at + 2) == Some(&sep))
                })
            })
        })
    }

    proptest::proptest! {
        #[test]
        fn hex_run_probe_matches_naive_search(
            text in proptest::collection::vec(
                proptest::sample::select(b"0a9F:: --gz\"".to_vec()), 0..120),
            run in proptest::option::of((0usize..60, 8usize..12, 0usize..3)),
        ) {
            let mut text = text;
            if let Some((at, pairs, sep)) = run {
                let sep = [":", " ", "-"][sep];
                let hex = vec!["7f"; pairs].join(sep);
                let at = at.min(text.len());
                text.splice(at..at, hex.into_bytes());
            }
            proptest::prop_assert_eq!(next_hex_run(&text, 0).is_some(), naive_hex_run(&text));
        }
    }

    #[test]
    fn mime_unwrap() {
        let line = "QUJDREVGR0hJSktMTU5PUFFS\r\nU1RVVldYWVo=";
        assert_eq!(
            s(Decoder::Mime.apply(line.as_bytes())).as_deref(),
            Some("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=")
        );
        let escaped = r"QUJDREVGR0hJSktMTU5PUFFS\r\nU1RVVldYWVo=\nshort\nline";
        assert_eq!(
            s(Decoder::Mime.apply(escaped.as_bytes())).as_deref(),
            Some(r"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\nshort\nline")
        );
        assert_eq!(Decoder::Mime.apply(b"hello\nworld"), None);
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
