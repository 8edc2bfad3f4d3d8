//! The public MYCA implementation's canonical form: Python's
//! `json.dumps(args, sort_keys=True, default=str)`, reproduced byte for byte so that its
//! `args_hash` values can be recomputed (and checked) outside Python.
//!
//! What `json.dumps` writes with those arguments (and its defaults `ensure_ascii=True`,
//! `separators=(", ", ": ")`):
//! - Objects: `{"a": 1, "b": 2}`, keys sorted by code point (Python's `str` order); `{}` when
//!   empty. Arrays: `[1, 2]`, `[]` when empty.
//! - Strings: `"` `\` and `\b \f \n \r \t` escaped as such; every other character outside
//!   printable ASCII (U+0020..U+007E) as `\uxxxx` in lowercase hex, characters above U+FFFF
//!   as a UTF-16 surrogate pair (so `é` is hashed as `\u00e9`).
//! - Integers as their decimal digits. Floats as Python's `float.__repr__`: shortest
//!   round-trip digits, positional when the decimal exponent is in -4..16 with `.0` added to a
//!   whole number (`100.0`, `0.0001`), scientific otherwise with a sign and at least two
//!   exponent digits (`1e-05`, `1e+16`, `1.5e+300`); `-0.0` keeps its sign.
//!
//! A JSON number is an integer for Python when its text has no fraction and no exponent
//! (`1`), a float otherwise (`1.0`, `1e2`): serde_json makes the same distinction. Two
//! limits, both documented with the test vectors: an integer literal outside the 64-bit
//! range is read by serde_json as a float (Python keeps it exact), so its Python form
//! differs; and `default=str` only matters for Python objects that are not JSON, which JSON
//! input never holds.

use std::cmp::Ordering;

use serde_json::{Number, Value};

use super::jcs::push_u_escape;
use super::text_form::{self, TextForm};

/// Appends `json.dumps(value, sort_keys=True)`'s text of `value` to `out`.
///
/// ```
/// use serde_json::json;
/// let mut out = String::new();
/// agentlog_core::ledger::pyjson::dumps(&json!({"b": [1.0, 1e16, "é"], "a": null}), &mut out);
/// assert_eq!(out, r#"{"a": null, "b": [1.0, 1e+16, "\u00e9"]}"#);
/// ```
pub fn dumps(value: &Value, out: &mut String) {
    text_form::write::<Python>(value, out);
}

/// `json.dumps(value, sort_keys=True)`'s text of `value` as a new string.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    dumps(value, &mut out);
    out
}

/// `json.dumps(sort_keys=True)`'s form.
struct Python;

impl TextForm for Python {
    const ITEM_SEPARATOR: &'static str = ", ";
    const KEY_SEPARATOR: &'static str = ": ";

    /// UTF-8 byte order is code point order, which is Python's order of `str`.
    fn key_order(a: &str, b: &str) -> Ordering {
        a.cmp(b)
    }

    fn number(n: &Number, out: &mut String) {
        number(n, out);
    }

    fn string(s: &str, out: &mut String) {
        string(s, out);
    }
}

fn number(n: &Number, out: &mut String) {
    if let Some(i) = n.as_i64() {
        out.push_str(itoa::Buffer::new().format(i));
    } else if let Some(u) = n.as_u64() {
        out.push_str(itoa::Buffer::new().format(u));
    } else {
        float_repr(n.as_f64().unwrap_or(0.0), out);
    }
}

/// Python's `repr(float)` of a finite double.
pub(super) fn float_repr(x: f64, out: &mut String) {
    // `{:e}` writes the shortest round-trip digits as `d[.ddd]e[-]x`: the same digits
    // Python's repr uses; only the layout differs.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if x.is_sign_negative() {
        out.push('-');
    }
    // Python's `decpt`: the value is 0.DIGITS x 10^decpt.
    let decpt = exponent + 1;
    if (-3..=16).contains(&decpt) {
        positional(&digits, decpt, out);
    } else {
        scientific(&digits, exponent, out);
    }
}

fn positional(digits: &str, decpt: i32, out: &mut String) {
    let len = digits.len() as i32;
    if decpt <= 0 {
        out.push_str("0.");
        (0..-decpt).for_each(|_| out.push('0'));
        out.push_str(digits);
    } else if decpt >= len {
        out.push_str(digits);
        (0..decpt - len).for_each(|_| out.push('0'));
        out.push_str(".0");
    } else {
        let (int, frac) = digits.split_at(decpt as usize);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    }
}

fn scientific(digits: &str, exponent: i32, out: &mut String) {
    let (first, rest) = digits.split_at(digits.len().min(1));
    out.push_str(first);
    if !rest.is_empty() {
        out.push('.');
        out.push_str(rest);
    }
    out.push('e');
    out.push(if exponent < 0 { '-' } else { '+' });
    let magnitude = exponent.unsigned_abs();
    if magnitude < 10 {
        out.push('0');
    }
    out.push_str(itoa::Buffer::new().format(magnitude));
}

fn string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    push_u_escape(*unit, out);
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repr(x: f64) -> String {
        let mut out = String::new();
        float_repr(x, &mut out);
        out
    }

    #[test]
    fn floats_are_written_as_python_repr() {
        // Each pair checked against CPython 3.11's repr().
        for (x, expected) in [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (100.0, "100.0"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (0.000123, "0.000123"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (1.5e300, "1.5e+300"),
            (-2.5e-300, "-2.5e-300"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (2.71, "2.71"),
            (-12.75, "-12.75"),
        ] {
            assert_eq!(repr(x), expected, "{x:e}");
        }
    }

    #[test]
    fn strings_are_ascii_with_lowercase_escapes() {
        let value = Value::String("é\u{1f600}\u{7f}\u{1}\"\\/\u{2028}".into());
        assert_eq!(
            to_string(&value),
            r#""\u00e9\ud83d\ude00\u007f\u0001\"\\/\u2028""#
        );
    }
}
