//! The one redactor every piece of text leaving the validator passes through.
//!
//! Findings are built in several places (line checks, the merger's cross-line checks, the
//! CLI's own errors), and each of them may want to quote something it read: a key, a run id, a
//! file name. Rather than trusting each place to quote carefully, every message, pointer, file
//! label and summary key goes through [`Redactor`] before a reporter sees it. The redactor
//! knows every encoded form of every supplied secret (it asks the same [`SecretScanner`] the
//! line check uses, decoders included) and the built-in [`Detector`]'s formats, so text that
//! carries a secret in any form the validator can find is withheld as a whole.

use std::borrow::Cow;

use super::detect::Detector;
use super::scan::SecretScanner;

/// What stands in for withheld text.
pub const WITHHELD: &str = "[redacted]";

/// Withholds text that carries a secret (supplied or a well-known format) in any encoding.
#[derive(Clone, Debug)]
pub struct Redactor {
    scanner: SecretScanner,
    detector: Option<Detector>,
}

impl Redactor {
    /// A redactor for the secrets of `scanner` and, when given, the formats of `detector`.
    pub fn new(scanner: SecretScanner, detector: Option<Detector>) -> Self {
        Redactor { scanner, detector }
    }

    /// A redactor that withholds nothing (no secrets, no detector).
    pub fn none() -> Self {
        Redactor {
            scanner: SecretScanner::empty(),
            detector: None,
        }
    }

    /// The scanner of supplied secrets.
    pub fn scanner(&self) -> &SecretScanner {
        &self.scanner
    }

    /// The built-in detector, when on.
    pub fn detector(&self) -> Option<&Detector> {
        self.detector.as_ref()
    }

    /// Whether `text` carries a supplied secret in any encoding the scanner knows, or a
    /// well-known credential format.
    pub fn leaks(&self, text: &str) -> bool {
        if self.scanner.is_match(text.as_bytes()) {
            return true;
        }
        let Some(detector) = &self.detector else {
            return false;
        };
        let mut kinds = Vec::new();
        detector.find(text.as_bytes(), &mut kinds);
        !kinds.is_empty()
    }

    /// `text` itself when it carries no secret, else [`WITHHELD`].
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.leaks(text) {
            Cow::Borrowed(WITHHELD)
        } else {
            Cow::Borrowed(text)
        }
    }

    /// `text` for quoting inside a message: short plain text (letters, digits, `_-.:`) that
    /// carries no secret is shown in backquotes, anything else as `(not shown)`.
    pub fn quote(&self, text: &str) -> String {
        if plain(text) && !self.leaks(text) {
            format!("`{text}`")
        } else {
            "(not shown)".to_owned()
        }
    }

    /// A JSON pointer cut back to the parent of its first token that carries a secret (tokens
    /// are unescaped, `~1` to `/` and `~0` to `~`, before they are checked). The whole
    /// pointer is checked too, so a secret split across tokens is caught.
    pub fn pointer(&self, pointer: &str) -> String {
        let mut kept = String::new();
        for token in pointer.split('/').skip(1) {
            let unescaped = token.replace("~1", "/").replace("~0", "~");
            if self.leaks(&unescaped) || self.leaks(token) {
                return kept;
            }
            kept.push('/');
            kept.push_str(token);
        }
        let unescaped = pointer.replace("~1", "/").replace("~0", "~");
        if self.leaks(&unescaped) || self.leaks(pointer) {
            return String::new();
        }
        kept
    }
}

/// Short text of plain characters only: safe to quote as far as shape goes.
pub fn plain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}
