//! A serde_json formatter that escapes strings as Go's `encoding/json` does by default.
//!
//! Go's encoder escapes `<`, `>` and `&` (as `\u003c`, `\u003e`, `\u0026`) and the line
//! separators U+2028/U+2029, on top of what JSON requires; serde_json does not. Writing the
//! same escapes keeps our lines byte-identical to the reference's (the real log has
//! `-\u003e` in its summaries). Everything else (control characters, quotes, backslashes)
//! serde_json already escapes the way Go 1.22+ does.

use std::io;

use serde_json::ser::Formatter;

/// Compact formatter with Go's HTML-safe string escaping.
#[derive(Clone, Copy, Debug, Default)]
pub struct GoFormatter;

impl Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let bytes = fragment.as_bytes();
        let mut start = 0;
        let mut i = 0;
        while i < bytes.len() {
            let (escape, width): (&[u8], usize) = match bytes[i] {
                b'<' => (b"\\u003c", 1),
                b'>' => (b"\\u003e", 1),
                b'&' => (b"\\u0026", 1),
                0xE2 if bytes.get(i + 1) == Some(&0x80) => match bytes.get(i + 2) {
                    Some(0xA8) => (b"\\u2028", 3),
                    Some(0xA9) => (b"\\u2029", 3),
                    _ => {
                        i += 1;
                        continue;
                    }
                },
                _ => {
                    i += 1;
                    continue;
                }
            };
            writer.write_all(&bytes[start..i])?;
            writer.write_all(escape)?;
            i += width;
            start = i;
        }
        writer.write_all(&bytes[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    fn go(value: &str) -> String {
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
        value.serialize(&mut ser).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_like_encoding_json() {
        assert_eq!(go("a -> b"), r#""a -\u003e b""#);
        assert_eq!(go("<&>"), r#""\u003c\u0026\u003e""#);
        assert_eq!(go("x\u{2028}y\u{2029}"), r#""x\u2028y\u2029""#);
        assert_eq!(go("é\u{2026}\n\"\\"), "\"é\u{2026}\\n\\\"\\\\\"");
    }
}
