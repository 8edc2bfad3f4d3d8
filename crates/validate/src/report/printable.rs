//! Text that is safe to print on a terminal or in a CI log, whatever the input held.
//!
//! File names, keys and messages come from untrusted input. Printed raw, a newline forges a
//! finding line, an escape sequence rewrites the terminal, and a bidirectional override makes
//! text read differently from how it is stored. Line-oriented formats (text, GitHub) pass every
//! such string through [`printable`]; the document formats (JSON, SARIF) escape in their own
//! syntax, and JUnit strips what XML 1.0 forbids.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a line-oriented output as is.
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        || matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

/// `s` with every control character (C0, DEL, C1), line/paragraph separator, bidirectional
/// control and noncharacter written as `\u{XXXX}`; borrowed when there is none.
pub(crate) fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            let _ = write!(out, "\\u{{{:04X}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether XML 1.0 allows `c` in character data.
pub(crate) fn xml_allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        || c >= '\u{10000}'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_could_forge_or_rewrite_output() {
        assert!(matches!(printable("plain/path.jsonl"), Cow::Borrowed(_)));
        assert_eq!(
            printable("a\nb:1: error[x]\u{1b}[2J\u{202E}z\u{85}\u{FFFF}"),
            "a\\u{000A}b:1: error[x]\\u{001B}[2J\\u{202E}z\\u{0085}\\u{FFFF}"
        );
    }

    #[test]
    fn xml_character_ranges() {
        for c in ['\t', 'a', '\u{D7FF}', '\u{E000}', '\u{FFFD}', '\u{10000}'] {
            assert!(xml_allowed(c), "{c:?}");
        }
        for c in ['\u{0}', '\u{1b}', '\u{FFFE}', '\u{FFFF}'] {
            assert!(!xml_allowed(c), "{c:?}");
        }
    }
}
