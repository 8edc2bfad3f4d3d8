//! Text that is safe to print on a terminal or in a CI log, whatever the input held.
//!
//! File names, keys and messages come from untrusted input. Printed raw, a newline forges a
//! finding line, an escape sequence rewrites the terminal, and a bidirectional override makes
//! text read differently from how it is stored. Line-oriented formats (text, GitHub) pass every
//! such string through [`printable`], the output gate's own escaping; the document formats (JSON, SARIF) escape in their own
//! syntax, and JUnit strips what XML 1.0 forbids.

#[cfg(test)]
use std::borrow::Cow;

/// The output gate's escaping of one line ([`crate::gate::printable`]), so every output escapes
/// the same way.
pub(crate) use crate::gate::printable;

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
