//! Go's `encoding/json` string escaping on top of serde_json's output.
//!
//! Go's encoder escapes `<`, `>` and `&` (as `\u003c`, `\u003e`, `\u0026`) and the line
//! separators U+2028/U+2029, on top of what JSON requires; serde_json does not. Writing the
//! same escapes keeps our lines byte-identical to the reference's (the real log has
//! `-\u003e` in its summaries). Everything else (control characters, quotes, backslashes)
//! serde_json already escapes the way Go 1.22+ does.
//!
//! The escapes are applied to the finished JSON text rather than inside a serde formatter:
//! those bytes can only occur inside strings in JSON text (no structural token contains
//! them), so one vectorized scan of the whole line finds them, and the common line without
//! any is left untouched. A per-string formatter hook cost more than the serialization.

/// Rewrites `buf[from..]`, JSON text written by serde_json, with Go's extra escapes.
pub fn escape_like_go(buf: &mut Vec<u8>, from: usize) {
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
