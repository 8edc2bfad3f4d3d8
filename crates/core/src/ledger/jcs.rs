//! RFC 8785, the JSON Canonicalization Scheme (JCS): the one text of a JSON value that every
//! conforming implementation, in any language, produces from it.
//!
//! - Objects: members sorted by key, compared as arrays of UTF-16 code units (not as UTF-8
//!   bytes or code points: the two orders differ for keys with characters above U+FFFF next to
//!   ones in U+E000..U+FFFF); no whitespace anywhere.
//! - Strings: as ECMAScript's `JSON.stringify` writes them: `"` and `\` escaped, the control
//!   characters U+0000..U+001F as `\b \t \n \f \r` or `\u00xx` (lowercase hex), every other
//!   character as itself in UTF-8 (no `\u` escapes for non-ASCII, U+2028 or DEL).
//! - Numbers: IEEE 754 doubles written as ECMAScript's `Number.prototype.toString` does
//!   (shortest round-trip digits; `1e+21`, `1e-7`, `0.000001`; `-0` as `0`), formatted by the
//!   `ryu-js` crate. An integer beyond ±2^53 is first rounded to the nearest double, as every
//!   JCS implementation that reads JSON into doubles does (I-JSON, RFC 7493): such integers
//!   hash as their rounded value.
//! - `true`, `false`, `null` as themselves.

use std::cmp::Ordering;

use serde_json::{Number, Value};

use super::text_form::{self, TextForm};

/// Appends the JCS canonical form of `value` to `out`.
///
/// ```
/// use serde_json::json;
/// let mut out = String::new();
/// agentlog_core::ledger::jcs::canonicalize(&json!({"b": [1.0, 1e21, "é"], "a": null}), &mut out);
/// assert_eq!(out, r#"{"a":null,"b":[1,1e+21,"é"]}"#);
/// ```
pub fn canonicalize(value: &Value, out: &mut String) {
    text_form::write::<Jcs>(value, out);
}

/// The JCS canonical form of `value` as a new string.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    canonicalize(value, &mut out);
    out
}

/// RFC 8785's form.
struct Jcs;

impl TextForm for Jcs {
    const ITEM_SEPARATOR: &'static str = ",";
    const KEY_SEPARATOR: &'static str = ":";

    fn key_order(a: &str, b: &str) -> Ordering {
        a.encode_utf16().cmp(b.encode_utf16())
    }

    fn number(n: &Number, out: &mut String) {
        number(n, out);
    }

    fn string(s: &str, out: &mut String) {
        string(s, out);
    }
}

fn number(n: &Number, out: &mut String) {
    // serde_json holds no NaN or infinity; `as_f64` is `Some` for every number it parses
    // (without its arbitrary_precision feature), integers beyond 2^53 rounded to the nearest
    // double as the comment at the top says.
    let double = n.as_f64().unwrap_or(0.0);
    out.push_str(ryu_js::Buffer::new().format(double));
}

fn string(s: &str, out: &mut String) {
    out.push('"');
    // Runs of characters written as themselves are copied whole. The bytes that need an
    // escape are ASCII, so their position is always a character boundary.
    let mut rest = s;
    while let Some((run, tail)) = rest
        .bytes()
        .position(|b| b < b' ' || b == b'"' || b == b'\\')
        .and_then(|i| rest.split_at_checked(i))
    {
        out.push_str(run);
        let mut chars = tail.chars();
        if let Some(c) = chars.next() {
            escape(c, out);
        }
        rest = chars.as_str();
    }
    out.push_str(rest);
    out.push('"');
}

/// The escape of `"`, `\` or a control character, as `JSON.stringify` writes it.
fn escape(c: char, out: &mut String) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\u{8}' => out.push_str("\\b"),
        '\t' => out.push_str("\\t"),
        '\n' => out.push_str("\\n"),
        '\u{c}' => out.push_str("\\f"),
        '\r' => out.push_str("\\r"),
        c => push_u_escape(c as u16, out),
    }
}

/// The lowercase hex digit of the low four bits.
pub(super) fn hex_digit(nibble: u16) -> char {
    char::from_digit(u32::from(nibble & 0xf), 16).unwrap_or('0')
}

/// `\u` and four lowercase hex digits.
pub(super) fn push_u_escape(unit: u16, out: &mut String) {
    out.push_str("\\u");
    for shift in [12, 8, 4, 0] {
        out.push(hex_digit(unit >> shift));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_sort_by_utf16_code_units() {
        // U+1F600 is D83D DE00 in UTF-16, which sorts before U+FB01 (FB01); by code point
        // (or UTF-8 bytes) it would come after.
        let value = json!({"\u{fb01}": 1, "\u{1f600}": 2, "a": 3});
        assert_eq!(
            to_string(&value),
            "{\"a\":3,\"\u{1f600}\":2,\"\u{fb01}\":1}"
        );
    }

    #[test]
    fn rfc_8785_number_examples() {
        // RFC 8785 §3.2.2.3 and appendix B.
        for (input, expected) in [
            ("333333333.33333329", "333333333.3333333"),
            ("1E30", "1e+30"),
            ("4.50", "4.5"),
            ("2e-3", "0.002"),
            ("0.000000000000000000000000001", "1e-27"),
            ("-0", "0"),
            ("-0.0", "0"),
            ("1e21", "1e+21"),
            ("1e20", "100000000000000000000"),
            ("0.000001", "0.000001"),
            ("0.0000001", "1e-7"),
            ("9007199254740993", "9007199254740992"),
        ] {
            let value: Value = serde_json::from_str(input).unwrap();
            assert_eq!(to_string(&value), expected, "{input}");
        }
    }

    #[test]
    fn strings_escape_only_what_json_stringify_escapes() {
        let value = json!("\"\\/\u{8}\t\n\u{c}\r\u{1}\u{1f}\u{7f}\u{2028}é");
        assert_eq!(
            to_string(&value),
            "\"\\\"\\\\/\\b\\t\\n\\f\\r\\u0001\\u001f\u{7f}\u{2028}é\""
        );
    }
}
