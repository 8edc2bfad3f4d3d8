//! Go's `encoding/json` text where it differs from serde_json's: string escapes and numbers.
//!
//! **Strings.** Go's encoder escapes `<`, `>` and `&` (as `\u003c`, `\u003e`, `\u0026`) and
//! the line separators U+2028/U+2029, on top of what JSON requires; serde_json does not.
//! Writing the same escapes keeps our lines byte-identical to the reference's (the real log
//! has `-\u003e` in its summaries). Everything else (control characters, quotes, backslashes)
//! serde_json already escapes the way Go 1.22+ does.
//!
//! The escapes are applied to the finished JSON text rather than inside a serde formatter:
//! those bytes can only occur inside strings in JSON text (no structural token contains
//! them), so one vectorized scan of the whole line finds them, and the common line without
//! any is left untouched. A per-string formatter hook cost more than the serialization.
//!
//! **Numbers.** Go writes a `float64` with the shortest digits that read back as the same
//! number, in plain decimal when `1e-6 <= |x| < 1e21` (`2`, `10000000000000000`,
//! `0.000001`) and in exponent form otherwise (`1e+21`, `1e-7`, `1.5e-7`): `strconv`'s `'f'`
//! or `'e'` format with precision -1, the exponent always signed and without leading zeros
//! (Go's `floatEncoder` rewrites `e-07` as `e-7`). Zero is `0` (`-0` for negative zero). A NaN
//! or an infinity is an error in Go; [`write_float`] refuses them too. serde_json writes
//! `2.0`, `1e16` and `1e-6` for the same numbers, so [`write_float`] assembles Go's forms
//! from Rust's shortest formatting (`{}` is the shortest plain decimal, `{:e}` the shortest
//! exponent form: the same digits Go chooses).
//!
//! ```
//! use agentlog_core::event::go_json::write_float;
//! let mut out = Vec::new();
//! for x in [2.0, 1e16, 0.000001, 1e21, 1.5e-7, -0.0] {
//!     write_float(x, &mut out).unwrap();
//!     out.push(b' ');
//! }
//! assert_eq!(out, b"2 10000000000000000 0.000001 1e+21 1.5e-7 -0 ");
//! assert!(write_float(f64::NAN, &mut out).is_err());
//! ```
// Number and string text is written into fixed 40-byte buffers whose bounds the float
// formatting guarantees (Rust's exponent form of an f64 is under 40 bytes), and the escape
// loop indexes the text by positions it has just found; no index comes from the input.
#![allow(clippy::indexing_slicing)]

use std::fmt::{self, Write as _};
use std::io;
use std::str::FromStr;

/// Error of [`write_float`]: Go's `encoding/json` cannot write a NaN or an infinity (it
/// returns an `UnsupportedValueError`), and neither can JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a NaN or an infinity cannot be written as a JSON number")]
pub struct NonFiniteFloat;

/// Appends `value` to `out` exactly as Go's `encoding/json` writes a `float64`: shortest
/// round-trip digits, plain decimal when `1e-6 <= |value| < 1e21` or `value` is zero,
/// exponent form (`1e+21`, `1e-7`) otherwise. Writes nothing and fails for a NaN or an
/// infinity.
pub fn write_float(value: f64, out: &mut Vec<u8>) -> Result<(), NonFiniteFloat> {
    let text = go_f64(value)?;
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

/// Go's text for a `float64`.
fn go_f64(value: f64) -> Result<Text, NonFiniteFloat> {
    if !value.is_finite() {
        return Err(NonFiniteFloat);
    }
    let abs = value.abs();
    Ok(go_text(value, abs != 0.0 && !(1e-6..1e21).contains(&abs)))
}

/// Go's text for a `float32` (`encoding/json` applies the same bounds, in `float32`, and
/// `float32`'s shortest digits).
fn go_f32(value: f32) -> Result<Text, NonFiniteFloat> {
    if !value.is_finite() {
        return Err(NonFiniteFloat);
    }
    let abs = value.abs();
    Ok(go_text(
        value,
        abs != 0.0 && !(1e-6f32..1e21f32).contains(&abs),
    ))
}

/// Go's text for a finite `value`, in exponent form or plain decimal.
///
/// The digits are the shortest that read back as `value` (Rust's `{:e}`). When two such
/// digit strings are equally close to `value`, Rust's shortest formatting takes the upper
/// one while Go rounds the exact value half to even (`strconv`'s Ryū: `2207100000000000.25`
/// is `…0.2` in Go, `…0.3` in Rust). So when the last digit is odd, the correctly rounded
/// digits of the same length (`{:.N$e}`, which rounds half to even) are taken instead if they
/// also read back as `value`: they differ only in that tie.
fn go_text<F>(value: F, exponent: bool) -> Text
where
    F: fmt::LowerExp + FromStr + PartialEq + Copy,
{
    let mut shortest = Text::new();
    // Cannot fail: Rust's exponent form of a float is under 40 bytes.
    let _ = write!(shortest, "{value:e}");
    let mut decimal = Decimal::parse(shortest.as_bytes());
    if decimal.len > 1 && decimal.digits[decimal.len - 1] % 2 == 1 {
        let mut rounded = Text::new();
        let _ = write!(rounded, "{value:.*e}", decimal.len - 1);
        if std::str::from_utf8(rounded.as_bytes())
            .ok()
            .and_then(|s| s.parse::<F>().ok())
            == Some(value)
        {
            decimal = Decimal::parse(rounded.as_bytes());
        }
    }
    decimal.go(exponent)
}

/// A decimal `±d.ddd × 10^exp`, its digits as numbers (not ASCII), without trailing zeros
/// (zero has the single digit 0).
struct Decimal {
    negative: bool,
    digits: [u8; 40],
    len: usize,
    exp: i32,
}

impl Decimal {
    /// Reads Rust's exponent form (`-1.25e-7`, `5e-324`, `0e0`).
    fn parse(text: &[u8]) -> Decimal {
        let mut decimal = Decimal {
            negative: text.first() == Some(&b'-'),
            digits: [0; 40],
            len: 0,
            exp: 0,
        };
        let mut rest = text.strip_prefix(b"-").unwrap_or(text);
        while let Some((&b, tail)) = rest.split_first() {
            rest = tail;
            match b {
                b'0'..=b'9' if decimal.len < decimal.digits.len() => {
                    decimal.digits[decimal.len] = b - b'0';
                    decimal.len += 1;
                }
                b'e' => break,
                _ => {}
            }
        }
        let (negative_exp, exp_digits) = match rest.split_first() {
            Some((b'-', tail)) => (true, tail),
            _ => (false, rest),
        };
        let magnitude = exp_digits
            .iter()
            .fold(0i32, |n, &b| n * 10 + i32::from(b - b'0'));
        decimal.exp = if negative_exp { -magnitude } else { magnitude };
        while decimal.len > 1 && decimal.digits[decimal.len - 1] == 0 {
            decimal.len -= 1;
        }
        decimal
    }

    /// Go's text: `strconv.FormatFloat` with `'e'` (`exponent`) or `'f'` and precision -1,
    /// then `encoding/json`'s `e-07` to `e-7`. The exponent is written signed and without
    /// leading zeros: the same as Go's for every exponent the `'e'` form is used with
    /// (`>= 21` or `<= -7`).
    fn go(&self, exponent: bool) -> Text {
        let mut text = Text::new();
        if self.negative {
            text.push(b'-');
        }
        let digits = &self.digits[..self.len];
        let digit = |d: &u8| b'0' + d;
        if exponent {
            text.push(digit(&digits[0]));
            if digits.len() > 1 {
                text.push(b'.');
                digits[1..].iter().for_each(|d| text.push(digit(d)));
            }
            text.push(b'e');
            text.push(if self.exp < 0 { b'-' } else { b'+' });
            let _ = write!(text, "{}", self.exp.unsigned_abs());
        } else if self.exp < 0 {
            // 0.000ddd
            text.push(b'0');
            text.push(b'.');
            (1..self.exp.unsigned_abs()).for_each(|_| text.push(b'0'));
            digits.iter().for_each(|d| text.push(digit(d)));
        } else {
            // ddd[000][.ddd]
            let int_len = self.exp as usize + 1;
            for i in 0..int_len.max(digits.len()) {
                if i == int_len {
                    text.push(b'.');
                }
                text.push(digits.get(i).map_or(b'0', digit));
            }
        }
        text
    }
}

/// A number's text on the stack: at most 17 significant digits, a sign and either up to
/// `0.00000` or up to 21 integer digits or an exponent (`e-324`), so 40 bytes are ample.
struct Text {
    bytes: [u8; 40],
    len: usize,
}

impl Text {
    fn new() -> Text {
        Text {
            bytes: [0; 40],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    fn push(&mut self, byte: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = byte;
            self.len += 1;
        }
    }
}

impl fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        self.bytes
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// serde_json's compact format with Go's number text ([`write_float`]): what the writer uses
/// for the `data` it serializes through serde (that of an untyped event). Strings are
/// escaped as serde_json does, without Go's extra escapes of `<`, `>`, `&`, U+2028 and
/// U+2029.
///
/// ```
/// use agentlog_core::event::go_json::GoFormatter;
/// let mut out = Vec::new();
/// let mut serializer = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
/// serde::Serialize::serialize(&[2.0, 1e16, 1e-7], &mut serializer).unwrap();
/// assert_eq!(out, b"[2,10000000000000000,1e-7]");
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct GoFormatter;

impl serde_json::ser::Formatter for GoFormatter {
    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        let text = go_f64(value).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        writer.write_all(text.as_bytes())
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        let text = go_f32(value).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        writer.write_all(text.as_bytes())
    }
}

/// Rewrites `buf[from..]`, JSON text written by serde_json, with Go's extra escapes.
pub(crate) fn escape_like_go(buf: &mut Vec<u8>, from: usize) {
    let Some(first) = next_candidate(&buf[from..]).map(|i| from + i) else {
        return;
    };
    let tail = buf.split_off(first);
    let mut start = 0;
    while let Some(found) = next_candidate(&tail[start..]) {
        let i = start + found;
        let (escape, width): (&[u8], usize) = match (tail[i], tail.get(i + 1..i + 3)) {
            (b'<', _) => (b"\\u003c", 1),
            (b'>', _) => (b"\\u003e", 1),
            (b'&', _) => (b"\\u0026", 1),
            (0xE2, Some([0x80, 0xA8])) => (b"\\u2028", 3),
            (0xE2, Some([0x80, 0xA9])) => (b"\\u2029", 3),
            // Another character whose UTF-8 starts with 0xE2: keep its lead byte.
            _ => (&tail[i..=i], 1),
        };
        buf.extend_from_slice(&tail[start..i]);
        buf.extend_from_slice(escape);
        start = i + width;
    }
    buf.extend_from_slice(&tail[start..]);
}

/// Offset of the first byte that may need a Go-only escape: `<`, `>`, `&`, or 0xE2 (the lead
/// byte of U+2028/U+2029).
fn next_candidate(bytes: &[u8]) -> Option<usize> {
    let html = memchr::memchr3(b'<', b'>', b'&', bytes);
    let separator = memchr::memchr(0xE2, bytes);
    match (html, separator) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go(value: &str) -> String {
        let mut out = b"prefix<".to_vec();
        serde_json::to_writer(&mut out, value).unwrap();
        escape_like_go(&mut out, 7);
        String::from_utf8(out).unwrap()
    }

    fn float(x: f64) -> String {
        let mut out = Vec::new();
        write_float(x, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Go's own outputs (`json.Marshal(float64)`), from its documentation and tests.
    #[test]
    fn floats_like_encoding_json() {
        for (x, go) in [
            (0.0, "0"),
            (-0.0, "-0"),
            (2.0, "2"),
            (10.0, "10"),
            (-2.5, "-2.5"),
            (0.42, "0.42"),
            (1e16, "10000000000000000"),
            (1e20, "100000000000000000000"),
            (123456789.5, "123456789.5"),
            (0.000001, "0.000001"),
            (-0.000001, "-0.000001"),
            (0.0000012345, "0.0000012345"),
            (9.999999999999997e-7, "9.999999999999997e-7"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (1e-10, "1e-10"),
            (1e-100, "1e-100"),
            (1e21, "1e+21"),
            (-1e21, "-1e+21"),
            (1.5e300, "1.5e+300"),
            (999999999999999900000.0, "999999999999999900000"),
            (5e-324, "5e-324"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::MIN, "-1.7976931348623157e+308"),
            (0.1 + 0.2, "0.30000000000000004"),
            // A tie between the two shortest: Go takes the even digit, Rust's `{}` the upper.
            (2207100000000000.0 + 0.25, "2207100000000000.2"),
            (1125899906842624.0 + 0.75, "1125899906842624.8"),
        ] {
            assert_eq!(float(x), go, "{x:e}");
        }
        let mut out = b"x".to_vec();
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(write_float(bad, &mut out), Err(NonFiniteFloat));
        }
        assert_eq!(out, b"x", "nothing written for a non-finite number");
    }

    #[test]
    fn formatter_writes_go_numbers() {
        let value =
            serde_json::json!({"a": 2.0, "b": 1e16, "c": 1e-7, "d": [0.000001, 1e21], "e": 3});
        let mut out = Vec::new();
        serde::Serialize::serialize(
            &value,
            &mut serde_json::Serializer::with_formatter(&mut out, GoFormatter),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":2,"b":10000000000000000,"c":1e-7,"d":[0.000001,1e+21],"e":3}"#
        );
        let mut out = Vec::new();
        serde::Serialize::serialize(
            &[1e-7f32, 2.0, 1e21, 0.1],
            &mut serde_json::Serializer::with_formatter(&mut out, GoFormatter),
        )
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "[1e-7,2,1e+21,0.1]");
    }

    #[test]
    fn escapes_like_encoding_json() {
        assert_eq!(go("a -> b"), r#"prefix<"a -\u003e b""#);
        assert_eq!(go("<&>"), r#"prefix<"\u003c\u0026\u003e""#);
        assert_eq!(go("x\u{2028}y\u{2029}"), r#"prefix<"x\u2028y\u2029""#);
        assert_eq!(
            go("é\u{2026}\u{20ac}\n\"\\"),
            "prefix<\"é\u{2026}\u{20ac}\\n\\\"\\\\\""
        );
        assert_eq!(go("plain"), r#"prefix<"plain""#);
    }
}
