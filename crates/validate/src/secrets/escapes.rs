//! The escape syntaxes a reader undoes in their head, as one table, and the two readings of
//! a text the redactor derives from it.
//!
//! An escape is an introducer (`\`, `%` or `&`) and a body that stands for one character or
//! one byte: `\u200b`, `\u{200B}`, `\U0000200B`, `\x{200B}`, `\N{ZERO WIDTH SPACE}`, `\xe2`,
//! octal `\342`, a CSS `\200B `, `%E2`, `%u200B`, `&#8203;`, `&#x200b;`, `&ZeroWidthSpace;`.
//! [`readings`] lists every syntax that matches where a byte of a text starts one; both
//! readings of a whole text are built from it and nothing else, so a syntax added to the
//! table is read by both:
//!
//! - [`unescaped`]: every escape replaced by what it stands for (the first reading of each,
//!   one level: `\\u200b` reads `\u200b`, and reading that again reads the character), the
//!   bytes joined as UTF-8 (`%E2%80%8B` and `\xe2\x80\x8b` are one character);
//! - [`hidden_dropped`]: only the escapes that may stand for a control or invisible
//!   character taken out (any reading of one counts, behind any number of backslashes), the
//!   rest left as written: a value split by them reads whole.

use super::decode::hex_byte;

/// What one escape stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decoded {
    /// A character (`\u200b`, `&#8203;`, `\N{ZERO WIDTH SPACE}`).
    Char(char),
    /// A byte, joined with its neighbours as UTF-8 (`\xe2`, `%E2`, octal `\342`).
    Byte(u8),
    /// Nothing a reader sees (a lone surrogate half).
    Nothing,
}

/// One reading of an escape: what it stands for and the bytes it spans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Reading {
    decoded: Decoded,
    len: usize,
}

impl Reading {
    fn byte(b: u8, len: usize) -> Self {
        Reading {
            decoded: Decoded::Byte(b),
            len,
        }
    }

    fn code(code: u32, len: usize) -> Self {
        Reading {
            decoded: char::from_u32(code).map_or(Decoded::Nothing, Decoded::Char),
            len,
        }
    }
}

/// Every reading of an escape that starts at `rest[0]`, the one a plain unescape takes
/// first; empty when no syntax matches.
fn readings(rest: &[u8]) -> Vec<Reading> {
    let mut found = Vec::new();
    match rest.first() {
        Some(b'\\') => backslash(rest.get(1..).unwrap_or_default(), &mut found),
        Some(b'%') => percent(rest.get(1..).unwrap_or_default(), &mut found),
        Some(b'&') => reference(rest.get(1..).unwrap_or_default(), &mut found),
        _ => {}
    }
    found
}

/// The escapes of code after a backslash (`body`): C, JSON, Rust, Python, Perl, PHP, Java,
/// YAML, CSS.
fn backslash(body: &[u8], found: &mut Vec<Reading>) {
    let after = |n: usize| body.get(n..).unwrap_or_default();
    // Java writes `\uu200b`: any number of `u`s.
    let us = body.iter().take_while(|&&b| b == b'u').count();
    let reading = match body.first() {
        Some(&kind @ (b'x' | b'u' | b'o')) if body.get(1) == Some(&b'{') => {
            let braced = braced(kind, after(2));
            // `\x{e2}` or `\o{342}` is a byte to C++ and a character to Perl: both.
            if let Some((code, n)) = braced
                && let Ok(byte) = u8::try_from(code)
                && byte >= 0x80
            {
                found.push(Reading::byte(byte, 4 + n));
            }
            braced.map(|(c, n)| Reading::code(c, 4 + n))
        }
        Some(b'u') => fixed_hex(after(us), 4).map(|c| Reading::code(c, 1 + us + 4)),
        Some(b'U') => fixed_hex(after(1), 8).map(|c| Reading::code(c, 10)),
        Some(b'N') if body.get(1) == Some(&b'{') => {
            named(after(2)).map(|(c, n)| Reading::code(c, 4 + n))
        }
        // Perl's control escapes: `\c@` is NUL, `\c?` DEL, `\cA` (or `\ca`) 0x01.
        Some(b'c') => body
            .get(1)
            .map(u8::to_ascii_uppercase)
            .filter(|b| (b'?'..=b'_').contains(b))
            .map(|b| Reading::byte(b ^ 0x40, 3)),
        _ => None,
    };
    found.extend(reading);
    if body.first() == Some(&b'x') {
        // Two hex digits, or one (C reads as many as follow; a reader may stop at one).
        found.extend(hex_byte(body, 1).map(|b| Reading::byte(b, 4)));
        found.extend(fixed_hex(after(1), 1).map(|c| Reading::code(c, 3)));
    }
    found.extend(octal(body).map(|(byte, digits)| Reading::byte(byte, 1 + digits)));
    // A reader may stop an octal escape early (`\01` before a digit): the shorter ones too.
    for digits in (1..octal(body).map_or(0, |(_, digits)| digits)).rev() {
        found.extend(
            octal(body.get(..digits).unwrap_or_default()).map(|(b, n)| Reading::byte(b, 1 + n)),
        );
    }
    found.extend(
        body.first()
            .and_then(|&c| single(c))
            .map(|c| Reading::code(c, 2)),
    );
    found.extend(css(body).map(|(code, len)| Reading::code(code, 1 + len)));
}

/// Percent escapes after the `%` (`body`): `%HH`, and `%uXXXX` (JavaScript's `escape`).
fn percent(body: &[u8], found: &mut Vec<Reading>) {
    if body.first() == Some(&b'u') {
        found.extend(fixed_hex(body.get(1..).unwrap_or_default(), 4).map(|c| Reading::code(c, 6)));
    }
    found.extend(hex_byte(body, 0).map(|b| Reading::byte(b, 3)));
}

/// An HTML character reference after the `&` (`body`): `&#8203;`, `&#x200B;`, or a named
/// one. Without its `;` (browsers allow that) a numeric one may end at any of its digits.
fn reference(body: &[u8], found: &mut Vec<Reading>) {
    if let Some(numeric) = body.strip_prefix(b"#") {
        let (radix, digits, prefix) = match numeric {
            [b'x' | b'X', digits @ ..] => (16, digits, 3),
            digits => (10, digits, 2),
        };
        // Leading zeros change nothing, however many.
        let zeros = digits
            .iter()
            .take_while(|&&b| b == b'0')
            .count()
            .saturating_sub(1);
        let (prefix, digits) = (prefix + zeros, digits.get(zeros..).unwrap_or_default());
        let count = digits
            .iter()
            .take(8)
            .take_while(|b| b.is_ascii_digit() || radix == 16 && b.is_ascii_hexdigit())
            .count();
        let semicolon = digits.get(count) == Some(&b';');
        let shortest = if semicolon { count } else { 1 };
        for n in (shortest..=count).rev() {
            let code = std::str::from_utf8(digits.get(..n).unwrap_or_default())
                .ok()
                .and_then(|d| u32::from_str_radix(d, radix).ok());
            if let Some(code) = code {
                found.push(Reading::code(code, prefix + n + usize::from(semicolon)));
            }
        }
        return;
    }
    found.extend(named_reference(body));
    // HTML reads a few legacy names without their `;` (`&shyid` is a soft hyphen and `id`).
    for (legacy, c) in LEGACY_ENTITIES {
        if body.starts_with(legacy.as_bytes()) {
            found.push(Reading::code(u32::from(*c), 1 + legacy.len()));
        }
    }
}

/// The named references HTML reads without a `;`, of those in [`ENTITIES`].
const LEGACY_ENTITIES: &[(&str, char)] = &[
    ("shy", '\u{AD}'),
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("nbsp", '\u{A0}'),
    ("middot", '\u{B7}'),
    ("copy", '\u{A9}'),
    ("reg", '\u{AE}'),
    ("deg", '\u{B0}'),
    ("para", '\u{B6}'),
    ("sect", '\u{A7}'),
    ("not", '\u{AC}'),
    ("micro", '\u{B5}'),
    ("times", '\u{D7}'),
    ("divide", '\u{F7}'),
    ("plusmn", '\u{B1}'),
    ("laquo", '\u{AB}'),
    ("raquo", '\u{BB}'),
    ("cent", '\u{A2}'),
    ("pound", '\u{A3}'),
    ("yen", '\u{A5}'),
    ("curren", '\u{A4}'),
    ("brvbar", '\u{A6}'),
    ("uml", '\u{A8}'),
    ("macr", '\u{AF}'),
    ("acute", '\u{B4}'),
    ("cedil", '\u{B8}'),
    ("iexcl", '\u{A1}'),
    ("iquest", '\u{BF}'),
];

/// A named character reference after the `&` (`&ZeroWidthSpace;`). A name not in
/// [`ENTITIES`] stands for no character a credential is made of (HTML names more than two
/// thousand: separators such as `&middot;`, `&ndash;`, and hidden ones): it is read as
/// nothing.
fn named_reference(body: &[u8]) -> Option<Reading> {
    let end = body.iter().take(40).position(|&b| b == b';')?;
    let name = body.get(..end)?;
    if name.is_empty() || !name.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let code = ENTITIES
        .iter()
        .find(|(entity, _)| entity.as_bytes() == name)
        .map_or(u32::MAX, |&(_, c)| u32::from(c));
    Some(Reading::code(code, end + 2))
}

/// Named character references a log may hold: the invisible ones, and those of the
/// characters markup escapes.
const ENTITIES: &[(&str, char)] = &[
    ("shy", '\u{AD}'),
    ("ZeroWidthSpace", '\u{200B}'),
    ("NegativeVeryThinSpace", '\u{200B}'),
    ("NegativeThinSpace", '\u{200B}'),
    ("NegativeMediumSpace", '\u{200B}'),
    ("NegativeThickSpace", '\u{200B}'),
    ("zwnj", '\u{200C}'),
    ("zwj", '\u{200D}'),
    ("lrm", '\u{200E}'),
    ("rlm", '\u{200F}'),
    ("NoBreak", '\u{2060}'),
    ("ApplyFunction", '\u{2061}'),
    ("af", '\u{2061}'),
    ("InvisibleTimes", '\u{2062}'),
    ("it", '\u{2062}'),
    ("InvisibleComma", '\u{2063}'),
    ("ic", '\u{2063}'),
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("sol", '/'),
    ("bsol", '\\'),
    ("percnt", '%'),
    ("lowbar", '_'),
    ("hyphen", '-'),
    ("dash", '-'),
    ("Tab", '\t'),
    ("NewLine", '\n'),
];

/// `n` hex digits at the start of `digits`, as a number.
fn fixed_hex(digits: &[u8], n: usize) -> Option<u32> {
    let digits = digits.get(..n)?;
    if !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

/// The digits of a braced escape (`\x{200B}`, `\u{20_0B}`, `\o{20013}`: hex, or octal for
/// `o`; Rust's `_` between them; any number of leading zeros) closed by `}`, as a number,
/// and how many bytes the digits and the brace span.
fn braced(kind: u8, digits: &[u8]) -> Option<(u32, usize)> {
    let radix = if kind == b'o' { 8 } else { 16 };
    let end = digits.iter().take(32).position(|&b| b == b'}')?;
    let inner = digits.get(..end)?;
    let valid = |b: &u8| *b == b'_' || char::from(*b).is_digit(radix);
    if inner.is_empty() || !inner.iter().all(valid) {
        return None;
    }
    let code = inner
        .iter()
        .filter(|&&b| b != b'_')
        .try_fold(0u32, |value, &b| {
            let digit = char::from(b).to_digit(radix)?;
            value.checked_mul(radix)?.checked_add(digit)
        })
        // Too large for a character: it stands for nothing a reader sees.
        .unwrap_or(u32::MAX);
    Some((code, end))
}

/// An octal escape's byte (`0`, `12`, `342`: up to three digits, at most `377`) and its
/// digits' count.
fn octal(body: &[u8]) -> Option<(u8, usize)> {
    let count = body
        .iter()
        .take(3)
        .take_while(|b| (b'0'..=b'7').contains(b))
        .count();
    let value = body
        .get(..count)?
        .iter()
        .fold(0u32, |value, b| value * 8 + u32::from(b - b'0'));
    Some((u8::try_from(value).ok()?, count)).filter(|_| count > 0)
}

/// A CSS escape (one to six hex digits, and one white space after them that it swallows):
/// the character's code and the bytes the digits and the space span.
fn css(body: &[u8]) -> Option<(u32, usize)> {
    let count = body
        .iter()
        .take(6)
        .take_while(|b| b.is_ascii_hexdigit())
        .count();
    if count == 0 {
        return None;
    }
    let code = u32::from_str_radix(std::str::from_utf8(body.get(..count)?).ok()?, 16).ok()?;
    let space = usize::from(matches!(body.get(count), Some(b' ' | b'\t' | b'\n')));
    Some((code, count + space))
}

/// The character a one-letter escape stands for (`\t`, `\e`, `\\`, `\"`, YAML's `\N`, `\L`,
/// `\P` and `\_`, ...).
fn single(c: u8) -> Option<u32> {
    Some(match c {
        b't' => 0x09,
        b'n' => 0x0A,
        b'r' => 0x0D,
        b'a' => 0x07,
        b'b' => 0x08,
        b'f' => 0x0C,
        b'v' => 0x0B,
        b'e' => 0x1B,
        b'N' => 0x85,
        b'L' => 0x2028,
        b'P' => 0x2029,
        b'_' => 0xA0,
        b'\\' | b'"' | b'\'' | b'/' | b'?' | b'`' | b' ' => u32::from(c),
        _ => return None,
    })
}

/// The character `\N{NAME}` names (Python, Perl, PHP; Perl's `\N{U+200B}` too) and the bytes
/// the name and the brace span, for the names of the characters that hide (a zero-width
/// space, a bidi control) and of the characters credentials are made of.
fn named(body: &[u8]) -> Option<(u32, usize)> {
    let end = body.iter().take(64).position(|&b| b == b'}')?;
    let name = std::str::from_utf8(body.get(..end)?).ok()?;
    if let Some(hex) = name.strip_prefix("U+").or_else(|| name.strip_prefix("u+")) {
        return Some((u32::from_str_radix(hex, 16).ok()?, end));
    }
    let looks_like_a_name = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b' ' | b'-' | b'_');
    if name.is_empty() || !name.bytes().all(looks_like_a_name) {
        return None;
    }
    let name = name.to_ascii_uppercase().replace('_', " ");
    // A name not in the tables stands for no character a credential is made of: read as
    // nothing, it may be one that hides (there are hundreds).
    let code = NAMES
        .iter()
        .find(|(known, _)| *known == name)
        .map(|&(_, c)| u32::from(c))
        .or_else(|| ascii_named(&name))
        .unwrap_or(u32::MAX);
    Some((code, end))
}

/// The names (and short aliases) of the characters that hide.
const NAMES: &[(&str, char)] = &[
    ("NULL", '\0'),
    ("NUL", '\0'),
    ("BACKSPACE", '\u{8}'),
    ("ESCAPE", '\u{1B}'),
    ("ESC", '\u{1B}'),
    ("DELETE", '\u{7F}'),
    ("DEL", '\u{7F}'),
    ("CARRIAGE RETURN", '\r'),
    ("SOFT HYPHEN", '\u{AD}'),
    ("SHY", '\u{AD}'),
    ("COMBINING GRAPHEME JOINER", '\u{34F}'),
    ("ZERO WIDTH SPACE", '\u{200B}'),
    ("ZWSP", '\u{200B}'),
    ("ZERO WIDTH NON-JOINER", '\u{200C}'),
    ("ZWNJ", '\u{200C}'),
    ("ZERO WIDTH JOINER", '\u{200D}'),
    ("ZWJ", '\u{200D}'),
    ("LEFT-TO-RIGHT MARK", '\u{200E}'),
    ("LRM", '\u{200E}'),
    ("RIGHT-TO-LEFT MARK", '\u{200F}'),
    ("RLM", '\u{200F}'),
    ("LEFT-TO-RIGHT EMBEDDING", '\u{202A}'),
    ("RIGHT-TO-LEFT EMBEDDING", '\u{202B}'),
    ("POP DIRECTIONAL FORMATTING", '\u{202C}'),
    ("LEFT-TO-RIGHT OVERRIDE", '\u{202D}'),
    ("RIGHT-TO-LEFT OVERRIDE", '\u{202E}'),
    ("RLO", '\u{202E}'),
    ("WORD JOINER", '\u{2060}'),
    ("WJ", '\u{2060}'),
    ("FUNCTION APPLICATION", '\u{2061}'),
    ("INVISIBLE TIMES", '\u{2062}'),
    ("INVISIBLE SEPARATOR", '\u{2063}'),
    ("INVISIBLE PLUS", '\u{2064}'),
    ("LEFT-TO-RIGHT ISOLATE", '\u{2066}'),
    ("RIGHT-TO-LEFT ISOLATE", '\u{2067}'),
    ("FIRST STRONG ISOLATE", '\u{2068}'),
    ("POP DIRECTIONAL ISOLATE", '\u{2069}'),
    ("ZERO WIDTH NO-BREAK SPACE", '\u{FEFF}'),
    ("BYTE ORDER MARK", '\u{FEFF}'),
    ("BOM", '\u{FEFF}'),
    ("ZWNBSP", '\u{FEFF}'),
    ("HYPHEN-MINUS", '-'),
    ("LOW LINE", '_'),
    ("SOLIDUS", '/'),
    ("PLUS SIGN", '+'),
    ("EQUALS SIGN", '='),
    ("FULL STOP", '.'),
    ("SPACE", ' '),
    ("CHARACTER TABULATION", '\t'),
    ("LINE FEED", '\n'),
];

/// The code of an ASCII letter or digit by its Unicode name (`LATIN CAPITAL LETTER A`,
/// `DIGIT SEVEN`).
fn ascii_named(name: &str) -> Option<u32> {
    const DIGITS: [&str; 10] = [
        "ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE",
    ];
    if let Some(digit) = name.strip_prefix("DIGIT ") {
        let value = DIGITS.iter().position(|d| *d == digit)?;
        return u32::try_from(value).ok().map(|v| u32::from(b'0') + v);
    }
    let (letter, upper) = if let Some(l) = name.strip_prefix("LATIN CAPITAL LETTER ") {
        (l, true)
    } else {
        (name.strip_prefix("LATIN SMALL LETTER ")?, false)
    };
    match letter.as_bytes() {
        [c @ b'A'..=b'Z'] => Some(u32::from(if upper { *c } else { c.to_ascii_lowercase() })),
        _ => None,
    }
}

/// `text` with every escape in it replaced by what it stands for, one level; empty when it
/// has none. Where two syntaxes read the same escape differently (octal `\\200` and CSS
/// `\\200B`), there are two texts: each escape by its first reading, and by its longest.
pub(crate) fn unescaped(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    if memchr::memchr3(b'\\', b'%', b'&', bytes).is_none() {
        return Vec::new();
    }
    let (first, ambiguous) = read_with(bytes, |readings| readings.first().copied());
    let mut texts: Vec<String> = first.into_iter().collect();
    if ambiguous {
        let longest = |readings: &[Reading]| {
            readings
                .iter()
                .filter(|r| r.decoded != Decoded::Nothing)
                .rev()
                .max_by_key(|r| r.len)
                .copied()
        };
        texts.extend(read_with(bytes, longest).0);
    }
    texts
}

/// `bytes` with each escape replaced by the reading `choose` takes of it (`None` when no
/// escape was read), and whether any escape had readings of different lengths.
fn read_with(
    bytes: &[u8],
    choose: impl Fn(&[Reading]) -> Option<Reading>,
) -> (Option<String>, bool) {
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut at = 0;
    let mut changed = false;
    let mut ambiguous = false;
    while let Some(&b) = bytes.get(at) {
        let found = if matches!(b, b'\\' | b'%' | b'&') {
            readings(bytes.get(at..).unwrap_or_default())
        } else {
            Vec::new()
        };
        ambiguous |= found
            .windows(2)
            .any(|pair| matches!(pair, [a, b] if a.len != b.len));
        match choose(&found) {
            Some(reading) => {
                match reading.decoded {
                    Decoded::Char(c) => {
                        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes())
                    }
                    Decoded::Byte(byte) => out.push(byte),
                    Decoded::Nothing => {}
                }
                at += reading.len;
                changed = true;
            }
            None => {
                out.push(b);
                at += 1;
            }
        }
    }
    (changed.then(|| bytes_read(&out)), ambiguous)
}

/// Unescaped bytes as text: UTF-8 where they are, and a byte that is not (only an escape
/// writes one) as the Latin-1 character it is to Python, JavaScript and a browser (`\xad`,
/// `%AD`: a soft hyphen).
fn bytes_read(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        text.extend(chunk.invalid().iter().map(|&b| char::from(b)));
    }
    text
}

/// `text` without the escapes in it that may stand for a control or invisible character
/// (by any of their readings, behind any number of backslashes; a run of byte escapes that
/// spells one in UTF-8 as a whole); empty when it has none. Where an escape may end at more
/// than one place (`\01` before a digit, `&#8203` without its `;`, octal or CSS `\2551`)
/// there are up to three texts: each escape dropped by its first reading that hides, as
/// short as it hides, and as long.
pub(crate) fn hidden_dropped(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    if memchr::memchr3(b'\\', b'%', b'&', bytes).is_none() {
        return Vec::new();
    }
    let (first, ambiguous) = drop_with(bytes, |lens| lens.first().copied());
    let mut texts: Vec<String> = first.into_iter().collect();
    if ambiguous {
        let shortest = drop_with(bytes, |lens| lens.iter().min().copied()).0;
        let longest = drop_with(bytes, |lens| lens.iter().max().copied()).0;
        for text in shortest.into_iter().chain(longest) {
            if !texts.contains(&text) {
                texts.push(text);
            }
        }
    }
    texts
}

/// `bytes` without the escapes of hidden characters, each as long as `choose` takes it of
/// the lengths it may have (`None` when none was dropped), and whether any escape had more
/// than one.
fn drop_with(bytes: &[u8], choose: impl Fn(&[usize]) -> Option<usize>) -> (Option<String>, bool) {
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    let mut dropped = false;
    let mut ambiguous = false;
    while let Some(&b) = bytes.get(at) {
        let lens = if matches!(b, b'\\' | b'%' | b'&') {
            hidden_escape(bytes.get(at..).unwrap_or_default())
        } else {
            Vec::new()
        };
        ambiguous |= lens.windows(2).any(|pair| matches!(pair, [a, b] if a != b));
        match choose(&lens) {
            Some(len) => {
                at += len;
                dropped = true;
            }
            None => {
                out.push(b);
                at += 1;
            }
        }
    }
    (
        dropped.then(|| String::from_utf8_lossy(&out).into_owned()),
        ambiguous,
    )
}

/// The lengths the escape at the start of `rest` may have where it stands for a hidden
/// character, with the extra backslashes of an escape escaped again (`\\u200b`).
fn hidden_escape(rest: &[u8]) -> Vec<usize> {
    let extra = if rest.first() == Some(&b'\\') {
        rest.iter().take_while(|&&b| b == b'\\').count() - 1
    } else {
        0
    };
    let escape = rest.get(extra..).unwrap_or_default();
    readings(escape)
        .into_iter()
        .filter_map(|reading| {
            let len = match reading.decoded {
                Decoded::Char(c) => hides(c).then_some(reading.len),
                Decoded::Nothing => Some(reading.len),
                Decoded::Byte(b) if b < 0x80 => hides(char::from(b)).then_some(reading.len),
                // A byte above ASCII: a UTF-8 sequence's lead, or a Latin-1 character
                // (`\xad`, `%AD`: a soft hyphen to Python, JavaScript and a browser).
                Decoded::Byte(lead) => hidden_bytes(escape, lead, reading.len)
                    .or_else(|| hides(char::from(lead)).then_some(reading.len)),
            };
            len.map(|len| extra + len)
        })
        .collect()
}

/// The length of the run of byte escapes at the start of `escape` (the first `first_len`
/// bytes of it decoding to `lead`) that spells one hidden character in UTF-8.
fn hidden_bytes(escape: &[u8], lead: u8, first_len: usize) -> Option<usize> {
    let width = match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return None,
    };
    let mut encoded = vec![lead];
    let mut len = first_len;
    while encoded.len() < width {
        let next = readings(escape.get(len..)?)
            .into_iter()
            .find_map(|r| match r.decoded {
                Decoded::Byte(b) if (0x80..0xC0).contains(&b) => Some((b, r.len)),
                _ => None,
            })?;
        encoded.push(next.0);
        len += next.1;
    }
    let c = std::str::from_utf8(&encoded).ok()?.chars().next()?;
    hides(c).then_some(len)
}

/// Whether a reader sees nothing where `c` stands: a control, bidirectional or invisible
/// character.
fn hides(c: char) -> bool {
    crate::gate::unsafe_char(c) || crate::gate::invisible(c)
}

/// One escape of a hidden character in every syntax of the table, for tests.
#[cfg(test)]
pub(crate) const HIDING: &[&str] = &[
    "\\u200b",
    "\\u200B",
    "\\\\u200b",
    "\\u{200B}",
    "\\U0000200B",
    "\\x{200B}",
    "\\N{ZERO WIDTH SPACE}",
    "\\N{zero_width_space}",
    "\\N{U+200B}",
    "\\xe2\\x80\\x8b",
    "\\342\\200\\213",
    "\\200B ",
    "\\0",
    "\\x7f",
    "\\e",
    "%E2%80%8B",
    "%e2%80%8b",
    "%u200B",
    "%00",
    "%C2%AD",
    "&#8203;",
    "&#8203",
    "&#x200b;",
    "&#X200B;",
    "&ZeroWidthSpace;",
    "&shy;",
    "&#173;",
    "\\N{HANGUL FILLER}",
    "\\N{VARIATION SELECTOR-16}",
    "\\u{0000200B}",
    "\\u{20_0B}",
    "\\o{20013}",
    "\\uu200b",
    "\\xad",
    "\\255",
    "\\x85",
    "\\x7",
    "\\c?",
    "\\N",
    "\\L",
    "%AD",
    "%85",
    "&shy",
    "&#000008203;",
    "&#x00000200b;",
    "\\x{e2}\\x{80}\\x{8b}",
    "\\o{302}\\o{255}",
    "&unknownname;",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_syntax_of_a_hidden_character_is_dropped_and_read() {
        for escape in HIDING {
            let text = format!("ab{escape}cd");
            let dropped = hidden_dropped(&text);
            assert!(
                dropped.iter().any(|d| d == "abcd"),
                "dropped {escape:?}: {dropped:?}"
            );
            // Escaped twice reads once more; one of the readings shows the text.
            let twice = unescaped(&text)
                .into_iter()
                .flat_map(|once| {
                    let again = unescaped(&once);
                    std::iter::once(once).chain(again)
                })
                .map(|plain| plain.chars().filter(|&c| !hides(c)).collect::<String>());
            let readings: Vec<String> = twice.collect();
            // Read whole, a one-digit `\x7` takes the `c` after it, as C does.
            assert!(
                readings.iter().any(|r| r == "abcd") || *escape == "\\x7",
                "unescaped {escape:?} read {readings:?}"
            );
        }
    }

    #[test]
    fn escapes_of_visible_characters_are_read_not_dropped() {
        for (escaped, plain) in [
            ("\\x41", "A"),
            ("%41", "A"),
            ("%u0041", "A"),
            ("&#65;", "A"),
            ("&#x41;", "A"),
            ("\\N{LATIN CAPITAL LETTER A}", "A"),
            ("\\N{DIGIT SEVEN}", "7"),
            ("\\N{HYPHEN-MINUS}", "-"),
            ("&lowbar;", "_"),
            ("\\101", "A"),
        ] {
            let text = format!("x{escaped}y");
            // Dropped whole it would be a hidden character; an octal escape cut short may be.
            let dropped = hidden_dropped(&text);
            assert!(
                !dropped.iter().any(|d| d == "xy"),
                "{escaped:?}: {dropped:?}"
            );
            assert_eq!(
                unescaped(&text).first(),
                Some(&format!("x{plain}y")),
                "{escaped:?}"
            );
        }
    }

    #[test]
    fn text_without_escapes_has_no_reading() {
        for text in ["plain", "100%", "a & b", "C:\\", "50%zz", "&a-b;"] {
            assert!(hidden_dropped(text).is_empty(), "{text:?}");
            assert!(unescaped(text).is_empty(), "{text:?}");
        }
    }

    #[test]
    fn one_level_is_read_at_a_time() {
        assert_eq!(unescaped("a\\\\u200bb"), ["a\\u200bb"]);
        assert_eq!(unescaped("a%255Cx41"), ["a%5Cx41"]);
    }
}
