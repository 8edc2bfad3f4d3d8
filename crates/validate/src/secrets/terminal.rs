//! A text as a terminal draws it on one line: the model of what a reader of a terminal sees.
//!
//! A value can be written in pieces that a terminal puts back together: a backspace, a tab
//! or a carriage return moves the cursor and what follows overwrites; a CSI moves the
//! cursor, saves and restores it, repeats a character, inserts or deletes cells, switches
//! insert mode; a control string (OSC, DCS, APC, PM, SOS) is drawn as nothing. The bytes are
//! read by `vte`'s parser, the DEC ANSI parser state machine terminals implement (a C0
//! control inside a CSI is executed, CAN and SUB cancel a sequence, an ESC ends a string),
//! and [`Terminal`] follows the controls ECMA-48, DEC and xterm define for one line. A move
//! to another row is taken as a move on the same line (a value put together on two rows is
//! not followed).

use super::redact::{has_hidden_chars, invisible};

/// Columns between the tab stops a terminal starts with.
const TAB: usize = 8;

/// What fills the second cell of a wide character (dropped from the line drawn).
const WIDE_TAIL: char = '\u{0}';

/// One line of a terminal: its cells, the cursor, a saved cursor, the last character drawn.
#[derive(Default)]
struct Terminal {
    line: Vec<char>,
    cursor: usize,
    saved: usize,
    last: Option<char>,
    /// Insert mode (IRM): a character drawn pushes the cells after it right.
    insert: bool,
    /// Tab stops set (HTS) beside the default ones, and whether the default ones were
    /// cleared (TBC 3), or single ones (TBC 0).
    stops_set: std::collections::BTreeSet<usize>,
    stops_cleared: std::collections::BTreeSet<usize>,
    all_cleared: bool,
    /// Where a right-to-left override (U+202E) started, until its U+202C.
    reversed_from: Option<usize>,
    /// No cursor or count goes further than this (twice the text's length and a tab): the
    /// line stays about as long as the text.
    limit: usize,
}

impl Terminal {
    /// Draws `c` at the cursor, over what is there (or, in insert mode, before it), in as
    /// many cells as a terminal gives it: two for a wide character (CJK, fullwidth, most
    /// emoji; the second holds [`WIDE_TAIL`]), none for a combining mark.
    fn put(&mut self, c: char) {
        match unicode_width::UnicodeWidthChar::width(c) {
            Some(0) => return,
            Some(2) => {
                self.put_cell(c);
                self.put_cell(WIDE_TAIL);
                return;
            }
            _ => {}
        }
        self.put_cell(c);
    }

    /// Draws `c` in the cell at the cursor.
    fn put_cell(&mut self, c: char) {
        self.fill();
        if self.insert {
            self.line.insert(self.cursor.min(self.line.len()), c);
            self.line.truncate(self.limit.max(1));
        } else if let Some(slot) = self.line.get_mut(self.cursor) {
            *slot = c;
        } else {
            self.line.push(c);
        }
        self.cursor = (self.cursor + 1).min(self.limit);
        self.last = Some(c);
    }

    /// Blanks up to the cursor, where it moved past the end.
    fn fill(&mut self) {
        self.cursor = self.cursor.min(self.limit);
        while self.line.len() < self.cursor {
            self.line.push(' ');
        }
    }

    fn back(&mut self, n: usize) {
        self.cursor = self.cursor.saturating_sub(n);
    }

    fn forward(&mut self, n: usize) {
        self.cursor = self.cursor.saturating_add(n).min(self.limit);
    }

    fn column(&mut self, n: usize) {
        self.cursor = n.saturating_sub(1).min(self.limit);
    }

    /// Whether `column` is a tab stop.
    fn stop(&self, column: usize) -> bool {
        self.stops_set.contains(&column)
            || !self.all_cleared
                && column.is_multiple_of(TAB)
                && !self.stops_cleared.contains(&column)
    }

    fn tabs_forward(&mut self, n: usize) {
        for _ in 0..n.min(self.limit) {
            let next = (self.cursor + 1..self.limit).find(|&c| self.stop(c));
            self.cursor = next.unwrap_or(self.limit);
        }
    }

    fn tabs_back(&mut self, n: usize) {
        for _ in 0..n.min(self.limit) {
            self.cursor = (0..self.cursor).rev().find(|&c| self.stop(c)).unwrap_or(0);
        }
    }

    /// Clears the tab stop at the cursor (TBC 0) or every one (TBC 3).
    fn clear_stops(&mut self, how: usize) {
        if how == 3 {
            self.stops_set.clear();
            self.all_cleared = true;
        } else {
            self.stops_set.remove(&self.cursor);
            self.stops_cleared.insert(self.cursor);
        }
    }

    /// Inserts `n` blank cells at the cursor (ICH, DECIC).
    fn insert_cells(&mut self, n: usize) {
        self.fill();
        let at = self.cursor.min(self.line.len());
        self.line.splice(at..at, std::iter::repeat_n(' ', n));
        self.line.truncate(self.limit);
    }

    /// Deletes `n` cells at the cursor (DCH, DECDC).
    fn delete_cells(&mut self, n: usize) {
        let at = self.cursor.min(self.line.len());
        let end = at.saturating_add(n).min(self.line.len());
        self.line.drain(at..end);
    }

    /// Erases `n` cells from the cursor (ECH).
    fn erase_cells(&mut self, n: usize) {
        let end = self.cursor.saturating_add(n).min(self.line.len());
        if let Some(cells) = self.line.get_mut(self.cursor..end) {
            cells.fill(' ');
        }
    }

    /// Erases to the end of the line (0), from its start to the cursor (1), or all of it.
    fn erase(&mut self, how: usize) {
        let len = self.line.len();
        let cursor = self.cursor.min(len);
        let cells = match how {
            0 => self.line.get_mut(cursor..),
            1 => self.line.get_mut(..(cursor + 1).min(len)),
            _ => Some(self.line.as_mut_slice()),
        };
        if let Some(cells) = cells {
            cells.fill(' ');
        }
    }
}

impl vte::Perform for Terminal {
    fn print(&mut self, c: char) {
        match c {
            '\u{202E}' => self.reversed_from = Some(self.cursor),
            '\u{202C}' => {
                if let Some(from) = self.reversed_from.take() {
                    let to = self.cursor.min(self.line.len());
                    if let Some(run) = self.line.get_mut(from..to) {
                        run.reverse();
                    }
                }
            }
            c if crate::gate::unsafe_char(c) || invisible(c) => {}
            c => self.put(c),
        }
    }

    fn execute(&mut self, byte: u8) {
        match byte {
            0x08 => self.back(1),
            0x09 => self.tabs_forward(1),
            0x0D => self.cursor = 0,
            // A line feed keeps the lines apart.
            0x0A => self.put('\n'),
            _ => {}
        }
    }

    fn csi_dispatch(
        &mut self,
        params: &vte::Params,
        intermediates: &[u8],
        _ignore: bool,
        action: char,
    ) {
        let values: Vec<usize> = params
            .iter()
            .map(|p| usize::from(p.first().copied().unwrap_or(0)))
            .collect();
        let first = values.first().copied().unwrap_or(0);
        // A count of 0 counts as 1, and none goes past the text's length.
        let n = first.clamp(1, self.limit.max(1));
        match (intermediates, action) {
            ([], 'D' | 'j') => self.back(n),
            ([], 'C' | 'a') => self.forward(n),
            ([], 'G' | '`') => self.column(n),
            // A cursor position (row;column): the row is taken as this line.
            ([], 'H' | 'f') => self.column(values.get(1).copied().unwrap_or(1).max(1)),
            ([], 'I') => self.tabs_forward(n),
            ([], 'g') => self.clear_stops(first),
            // To the first column of a row below or above (CNL, CPL): this line.
            ([], 'E' | 'F') => self.cursor = 0,
            ([], 'Z') => self.tabs_back(n),
            ([], 's') => self.saved = self.cursor,
            ([], 'u') => self.cursor = self.saved,
            ([], 'b') => {
                if let Some(c) = self.last {
                    (0..n).for_each(|_| self.put(c));
                }
            }
            ([], '@') | ([b'\''], '}') => self.insert_cells(n),
            ([], 'P') | ([b'\''], '~') => self.delete_cells(n),
            ([], 'X') => self.erase_cells(n),
            ([], 'K' | 'J') => self.erase(first),
            ([], 'h' | 'l') if values.contains(&4) => self.insert = action == 'h',
            _ => {}
        }
    }

    fn esc_dispatch(&mut self, intermediates: &[u8], _ignore: bool, byte: u8) {
        match (intermediates, byte) {
            ([], b'7') => self.saved = self.cursor,
            ([], b'8') => self.cursor = self.saved,
            // DECBI and DECFI: back and forward one column.
            ([], b'6') => self.back(1),
            ([], b'9') => self.forward(1),
            ([], b'H') => {
                self.stops_set.insert(self.cursor);
            }
            ([], b'c') => {
                self.line.clear();
                self.cursor = 0;
                self.insert = false;
            }
            _ => {}
        }
    }
}

/// The 7-bit form of an 8-bit control a text may hold as a character (U+009B is `ESC [`):
/// `vte` reads UTF-8, where these are characters to print.
fn seven_bit(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{90}' => "\u{1b}P",
        '\u{98}' => "\u{1b}X",
        '\u{9B}' => "\u{1b}[",
        '\u{9C}' => "\u{1b}\\",
        '\u{9D}' => "\u{1b}]",
        '\u{9E}' => "\u{1b}^",
        '\u{9F}' => "\u{1b}_",
        _ => return None,
    })
}

/// `text` as a terminal draws it on one line, when that differs from `text`: escape
/// sequences and controls followed (the controls of one line this module lists), a run
/// after a right-to-left override (U+202E, up to U+202C or the end) shown reversed, other
/// bidirectional controls, control and invisible characters dropped. `None` when `text` has
/// none of them.
pub fn displayed(text: &str) -> Option<String> {
    if !has_hidden_chars(text) {
        return None;
    }
    let mut terminal = Terminal {
        // Room for the moves a text can make; a line never grows past it.
        limit: text.len().saturating_mul(2).saturating_add(TAB),
        ..Terminal::default()
    };
    let mut parser = vte::Parser::new();
    let mut buf = [0u8; 4];
    for c in text.chars() {
        let bytes = match seven_bit(c) {
            Some(seven) => seven.as_bytes(),
            None => c.encode_utf8(&mut buf).as_bytes(),
        };
        parser.advance(&mut terminal, bytes);
    }
    if let Some(from) = terminal.reversed_from
        && let Some(run) = terminal.line.get_mut(from..)
    {
        run.reverse();
    }
    Some(
        terminal
            .line
            .into_iter()
            .filter(|&c| c != WIDE_TAIL)
            .collect(),
    )
}

/// Whether `text` holds a control a terminal obeys beyond drawing text in order: a C0
/// control other than a tab and a line feed (a backspace, a carriage return, ESC), a C1
/// control, an escape sequence other than a colour code (SGR, `ESC [ ... m`), or a
/// bidirectional embedding, override or isolate. A text without one is drawn left to right,
/// as written; one with one can be put together in ways no model of terminals follows (each
/// terminal has its own), so an output stored raw for terminals to draw withholds it.
pub fn drives_a_terminal(text: &str) -> bool {
    // Printable ASCII, tabs and line feeds (most of any log) are told by a byte test.
    if text
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) || b == b'\t' || b == b'\n')
    {
        return false;
    }
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\t' | '\n' => {}
            '\u{1b}' => {
                // A colour code draws nothing and moves nothing: `ESC [` digits `;` `:` `m`.
                if chars.next() != Some('[') {
                    return true;
                }
                loop {
                    match chars.next() {
                        Some('0'..='9' | ';' | ':') => {}
                        Some('m') => break,
                        _ => return true,
                    }
                }
            }
            '\u{0}'..='\u{1f}'
            | '\u{80}'..='\u{9f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}' => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::displayed;

    #[test]
    fn a_line_is_drawn_as_a_terminal_draws_it() {
        for (text, shown) in [
            ("ab\u{8}c", "ac"),
            ("xxxx\rab", "abxx"),
            ("ab\u{1b}[1Dc", "ac"),
            ("ab\u{1b}]0;title\u{7}cd", "abcd"),
            ("abcd\u{1b}[1`X", "Xbcd"),
            ("ab\u{1b}7zz\u{1b}8cd", "abcd"),
            ("ab\u{1b}[szz\u{1b}[ucd", "abcd"),
            ("a\u{1b}[2bc", "aaac"),
            ("acd\u{1b}[2D\u{1b}[@b", "abcd"),
            ("abXcd\u{1b}[3D\u{1b}[P", "abcd"),
            ("zzcd\u{1b}[1;1Hab", "abcd"),
            ("ab\u{9b}1Dc", "ac"),
            ("ab\u{1b}[999999999C", "ab"),
            // A tab, then back to the start; tabs forward and back.
            ("\tcd\rab", "ab      cd"),
            ("\u{1b}[Icd\u{1b}[1Gab", "ab      cd"),
            ("zzzzzzzzcd\u{1b}[9Zab", "abzzzzzzcd"),
            // A C0 control inside a CSI is executed; an ESC ends a control string.
            ("abX\u{1b}[\u{8}mcd", "abcd"),
            ("ab\u{1b}]0;zz\u{1b}(Bcd", "abcd"),
            ("ab\u{1b}]0;zz\u{18}cd", "abcd"),
            // Insert mode, DECBI, DECDC.
            ("cd\r\u{1b}[4hab", "abcd"),
            ("abX\u{1b}6cd", "abcd"),
            ("abXcd\u{1b}[3G\u{1b}[1'~", "abcd"),
            // Wide characters take two cells, combining marks none; tab stops set and
            // cleared; CPL.
            ("ab漢\u{8}\u{8}cd", "abcd"),
            ("abQ\u{301}\u{8}cd", "abcd"),
            ("abc\u{1b}H\r\tdef", "abcdef"),
            (
                "\u{1b}[9G\u{1b}[g\rQQQ\tgh\rabcdefghijklmnop",
                "abcdefghijklmnopgh",
            ),
            ("zzcd\u{1b}[Fab", "abcd"),
        ] {
            assert_eq!(
                displayed(text).as_deref().map(str::trim_end),
                Some(shown),
                "{text:?}"
            );
        }
        assert_eq!(displayed("plain"), None);
    }

    #[test]
    fn a_text_that_drives_a_terminal_is_told_from_one_drawn_in_order() {
        use super::drives_a_terminal;
        for text in [
            "ab\u{8}c",
            "ab\rc",
            "ab\u{1b}[1Dc",
            "ab\u{1b}]0;t\u{7}",
            "ab\u{1b}c",
            "ab\u{9b}1D",
            "ab\u{202e}cd",
            "ab\u{1b}[31",
        ] {
            assert!(drives_a_terminal(text), "{text:?}");
        }
        for text in [
            "plain",
            "a\tb\nc",
            "ab\u{1b}[1;31mcd\u{1b}[0m",
            "ünïcödé 漢",
            "a\u{7f}b",
        ] {
            assert!(!drives_a_terminal(text), "{text:?}");
        }
    }
}
