//! The output gate: every byte a command prints or writes for a person or a program passes
//! here last.
//!
//! Each output path already decides what it shows value by value ([`Redactor`]: a file label,
//! a pointer, a name, a number is withheld as a whole when it carries a secret). The gate is
//! the choke point behind all of them, so that a path that forgets, or a transformation applied
//! after the decision (a URI that turns `\` into `/`, a property escaping that percent-encodes),
//! cannot print a value:
//!
//! 1. Output is cut into lines. Every control character but the line break and the tab, every
//!    bidirectional control, line or paragraph separator, zero-width character and
//!    noncharacter is escaped, the same
//!    way in every output ([`escape`]): `\u{XXXX}` in text and markup, `\uXXXX` in JSON (where
//!    such characters can only stand inside strings, so the document stays valid). A terminal
//!    never sees a backspace that re-assembles a value, and a value never starts a line of its
//!    own.
//! 2. Each line, as written and as escaped, is judged by [`Redactor::leaks`]: the very search
//!    the validator runs on a log line (every supplied secret in every encoding the scanner
//!    decodes, the built-in detector over the same decoded views). A line whose decoding a
//!    cap cut short (a value percent-encoded more layers deep than the scanner decodes) is
//!    judged as one that would show a value: what the scan cannot rule out is not shown.
//! 3. A line that would show a value is never written. In a text output it is replaced by
//!    [`WITHHELD_LINE`] and counted ([`Gate::withheld`]), so the rest of the report stays
//!    readable; in a document (JSON, SARIF, JUnit, HTML), where a missing line would break the
//!    document, the write fails with [`OutputWithheld`] and the command reports an error.
//!
//! The per-value decisions make the third step rare: a value withheld upstream never reaches
//! the gate whole. The gate is what makes the promise hold for the paths nobody thought of.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::secrets::redact::Redactor;

/// What replaces a line of a text output that would show a secret value.
pub const WITHHELD_LINE: &str =
    "[agentlog: a line of output withheld: it would show a secret value]";

/// What replaces a line of workflow commands that would show a secret value.
pub const WITHHELD_COMMAND: &str =
    "::warning title=agentlog::a line of output withheld: it would show a secret value";

/// Lines longer than this are judged in pieces of this size (a report never writes such
/// lines; a hostile input could make one).
const MAX_LINE: usize = 16 << 20;

/// How an output escapes what must not reach it raw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Text for people and line-oriented CI logs: `\u{XXXX}`; a line that would show a value
    /// is replaced by [`WITHHELD_LINE`].
    Text,
    /// GitHub workflow commands: escaped like text; a line that would show a value is replaced
    /// by [`WITHHELD_COMMAND`], so every line stays a workflow command.
    Workflow,
    /// JSON documents (JSON, SARIF): `\uXXXX`, valid inside a JSON string; a line that would
    /// show a value fails the write.
    Json,
    /// XML and HTML documents: `\u{XXXX}` as text; a line that would show a value fails the
    /// write.
    Markup,
}

/// Whether `c` must not reach an output as is: a control character (C0, DEL, C1), a line or
/// paragraph separator, a bidirectional control or mark, a character drawn as nothing
/// (zero-width spaces and joiners, word joiner, byte-order mark, soft hyphen), or a
/// noncharacter.
pub fn unsafe_char(c: char) -> bool {
    let code = u32::from(c);
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        || invisible(c)
        || (0xFDD0..=0xFDEF).contains(&code)
        || code & 0xFFFE == 0xFFFE
}

/// Whether `c` is drawn as nothing (or as blank) where it stands: zero-width spaces and
/// joiners, bidi marks, word joiners and invisible operators, the byte-order mark, the soft
/// hyphen, variation selectors, tags, fillers and other format characters a reader never
/// sees. A value split by them reads whole.
pub fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{34F}'
            | '\u{600}'..='\u{605}'
            | '\u{61C}'
            | '\u{6DD}'
            | '\u{70F}'
            | '\u{890}'..='\u{891}'
            | '\u{8E2}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2060}'..='\u{206F}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1345F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// `text` with every [`unsafe_char`] but the line break and the tab (the column separator of
/// this CLI's own lists) escaped in `style`; borrowed when there is none. A value taken from
/// input never brings a tab of its own: [`printable`] escapes it first.
pub fn escape(text: &str, style: Style) -> Cow<'_, str> {
    escape_but(text, style, &['\n', '\t'])
}

/// `text` with every [`unsafe_char`] escaped, the line break included: one line of text
/// whatever `text` holds.
pub fn printable(text: &str) -> Cow<'_, str> {
    escape_but(text, Style::Text, &[])
}

fn escape_but<'a>(text: &'a str, style: Style, keep: &[char]) -> Cow<'a, str> {
    let must = |c: char| unsafe_char(c) && !keep.contains(&c);
    if !text.chars().any(must) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !must(c) {
            out.push(c);
        } else if style == Style::Json {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04X}");
            }
        } else {
            let _ = write!(out, "\\u{{{:04X}}}", u32::from(c));
        }
    }
    Cow::Owned(out)
}

/// A document line would have shown a secret value, so the output stopped there.
#[derive(Debug, thiserror::Error)]
#[error("output withheld: a line of it would show a secret value")]
pub struct OutputWithheld;

/// The decision every output shares: one [`Redactor`] and the count of lines withheld.
/// Cloning is cheap; clones share the count.
#[derive(Clone, Debug)]
pub struct Gate {
    redactor: Arc<Redactor>,
    withheld: Arc<AtomicU64>,
}

impl Gate {
    /// A gate that judges with `redactor`.
    pub fn new(redactor: Redactor) -> Self {
        Gate {
            redactor: Arc::new(redactor),
            withheld: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A gate that judges with `redactor` and counts on with this one's count.
    pub fn with_redactor(&self, redactor: Redactor) -> Self {
        Gate {
            redactor: Arc::new(redactor),
            withheld: Arc::clone(&self.withheld),
        }
    }

    /// The redactor behind the gate: the per-value decision.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// How many lines this gate (and its clones) withheld so far.
    pub fn withheld(&self) -> u64 {
        self.withheld.load(Ordering::Relaxed)
    }

    /// `inner` behind this gate, escaping in `style`.
    pub fn writer<W: Write>(&self, inner: W, style: Style) -> GatedWriter<W> {
        GatedWriter {
            inner,
            gate: self.clone(),
            style,
            pending: Vec::new(),
        }
    }

    /// `text` as the gate would let it through in a text output: escaped, and each line
    /// that would show a value replaced by [`WITHHELD_LINE`] (and counted).
    pub fn text(&self, text: &str) -> String {
        let mut out = Vec::with_capacity(text.len());
        let mut writer = self.writer(&mut out, Style::Text);
        // Writing to a vector cannot fail, and the text style never refuses a line.
        let _ = writer
            .write_all(text.as_bytes())
            .and_then(|()| writer.flush());
        drop(writer);
        String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into())
    }

    /// The line as it may be written (escaped), or `None` when it would show a value.
    fn judge<'a>(&self, line: &'a str, style: Style) -> Option<Cow<'a, str>> {
        let escaped = escape(line, style);
        let leaks = self.redactor.leaks(&escaped)
            || (matches!(escaped, Cow::Owned(_)) && self.redactor.leaks(line));
        if leaks { None } else { Some(escaped) }
    }
}

/// A writer behind the [`Gate`]: lines are escaped and judged before `inner` sees a byte.
///
/// Bytes are held until their line ends (or [`flush`](Write::flush) is called), so a value
/// written in several pieces is judged whole. Call `flush` before dropping the writer:
/// nothing is written on drop.
#[derive(Debug)]
pub struct GatedWriter<W: Write> {
    inner: W,
    gate: Gate,
    style: Style,
    pending: Vec<u8>,
}

impl<W: Write> GatedWriter<W> {
    /// Passes what is held ([`flush`](Write::flush)) and gives back the inner writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.flush()?;
        Ok(self.inner)
    }

    /// Judges and writes one line (`newline`: whether it ended with a line break).
    fn pass(&mut self, line: &[u8], newline: bool) -> io::Result<()> {
        let text = String::from_utf8_lossy(line);
        match self.gate.judge(&text, self.style) {
            Some(shown) => self.inner.write_all(shown.as_bytes())?,
            None if matches!(self.style, Style::Text | Style::Workflow) => {
                self.gate.withheld.fetch_add(1, Ordering::Relaxed);
                let marker = match self.style {
                    Style::Workflow => WITHHELD_COMMAND,
                    _ => WITHHELD_LINE,
                };
                self.inner.write_all(marker.as_bytes())?;
            }
            None => {
                self.gate.withheld.fetch_add(1, Ordering::Relaxed);
                return Err(io::Error::other(OutputWithheld));
            }
        }
        if newline {
            self.inner.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Passes every complete line held, and a piece of an over-long one.
    fn drain(&mut self) -> io::Result<()> {
        let mut start = 0;
        let pending = std::mem::take(&mut self.pending);
        let mut result = Ok(());
        while let Some(end) = memchr::memchr(b'\n', pending.get(start..).unwrap_or_default()) {
            let line = pending.get(start..start + end).unwrap_or_default();
            start += end + 1;
            result = self.pass(line, true);
            if result.is_err() {
                break;
            }
        }
        let rest = pending.get(start..).unwrap_or_default();
        if result.is_ok() && rest.len() >= MAX_LINE {
            result = self.pass(rest, false);
        } else if result.is_ok() {
            self.pending = rest.to_vec();
        }
        result
    }
}

impl<W: Write> Write for GatedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if memchr::memchr(b'\n', buf).is_some() || self.pending.len() >= MAX_LINE {
            self.drain()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain()?;
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.pass(&rest, false)?;
        }
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::detect::Detector;
    use crate::secrets::scan::SecretScanner;
    use crate::secrets::{Secret, SecretValue};

    const VALUE: &str = "Zq9-vX3k-T7pW-42mN";

    fn gate() -> Gate {
        let secret = Secret::new("TOKEN", SecretValue::new(VALUE.to_owned()), vec![]);
        let scanner = SecretScanner::new(&[secret]).expect("scanner");
        Gate::new(Redactor::new(scanner, Some(Detector::new(Vec::new()))))
    }

    fn through(gate: &Gate, style: Style, text: &str) -> io::Result<String> {
        let mut out = Vec::new();
        let mut w = gate.writer(&mut out, style);
        w.write_all(text.as_bytes())?;
        w.flush()?;
        drop(w);
        Ok(String::from_utf8(out).expect("utf-8"))
    }

    #[test]
    fn escapes_every_unsafe_character_but_the_line_break_and_tab() {
        let g = gate();
        let shown = through(
            &g,
            Style::Text,
            "a\u{8}b\tc\u{1b}[2J\u{202E}d\u{FFFF}\ne\r\n",
        )
        .unwrap();
        assert_eq!(
            shown,
            "a\\u{0008}b\tc\\u{001B}[2J\\u{202E}d\\u{FFFF}\ne\\u{000D}\n"
        );
        let json = through(&g, Style::Json, "[\"\u{202E}\u{1FFFE}\"]\n").unwrap();
        assert_eq!(json, "[\"\\u202E\\uD83F\\uDFFE\"]\n");
        assert!(serde_json::from_str::<Vec<String>>(&json).is_ok());
    }

    #[test]
    fn a_line_that_would_show_a_value_is_withheld_in_text() {
        let g = gate();
        let encoded: String = VALUE.bytes().map(|b| format!("%{b:02X}")).collect();
        let text = format!("ok line\nname {encoded} here\nlast");
        let shown = through(&g, Style::Text, &text).unwrap();
        assert_eq!(shown, format!("ok line\n{WITHHELD_LINE}\nlast"));
        assert_eq!(g.withheld(), 1);
    }

    #[test]
    fn a_value_written_in_pieces_is_judged_whole() {
        let g = gate();
        let mut out = Vec::new();
        let mut w = g.writer(&mut out, Style::Text);
        let (a, b) = VALUE.split_at(7);
        write!(w, "x {a}").unwrap();
        writeln!(w, "{b} y").unwrap();
        w.flush().unwrap();
        drop(w);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("{WITHHELD_LINE}\n")
        );
    }

    #[test]
    fn a_value_behind_control_characters_is_judged_raw_too() {
        let g = gate();
        // The UTF-16 bytes of the value: escaped they hide it, raw they are a known form.
        let utf16: String = VALUE.chars().flat_map(|c| [c, '\0']).collect();
        assert_eq!(through(&g, Style::Text, &utf16).unwrap(), WITHHELD_LINE);
    }

    #[test]
    fn a_document_line_that_would_show_a_value_fails_the_write() {
        let g = gate();
        let doc = format!("{{\n  \"a\": \"{VALUE}\"\n}}\n");
        let err = through(&g, Style::Json, &doc).unwrap_err();
        assert!(err.get_ref().is_some_and(|e| e.is::<OutputWithheld>()));
        assert!(!err.to_string().contains(VALUE));
    }

    #[test]
    fn built_in_formats_are_withheld_through_decoded_views() {
        let g = gate();
        let key = "sk-proj-Q2x7Lm9pRt4Vw8Yz3Kb6Nd1Fh5Jc0Ga";
        let escaped = key.replace('-', "%2D");
        let shown = through(&g, Style::Text, &format!("tool {escaped}\n")).unwrap();
        assert_eq!(shown, format!("{WITHHELD_LINE}\n"));
        let numeric = Gate::new(Redactor::new(
            SecretScanner::new(&[Secret::new(
                "PIN",
                SecretValue::new("4111111111111111".to_owned()),
                vec![],
            )])
            .expect("scanner"),
            None,
        ));
        assert_eq!(
            numeric.text("max 4111111111111111 ms\n"),
            format!("{WITHHELD_LINE}\n")
        );
        assert_eq!(numeric.text("max 411111111 ms\n"), "max 411111111 ms\n");
    }
}
