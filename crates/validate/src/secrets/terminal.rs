//! A text as a terminal draws it on one line: the model of what a reader of a terminal sees.
//!
//! A value can be written in pieces that a terminal puts back together: a backspace or a
//! carriage return lets what follows overwrite, a CSI moves the cursor, saves and restores
//! it, repeats a character, inserts or deletes cells; a control string (OSC, DCS, APC, PM,
//! SOS) is drawn as nothing. [`Terminal`] follows the controls ECMA-48 and xterm define for
//! one line, in their 7-bit (`ESC [`) and 8-bit (U+009B) forms; a move to another row is
//! taken as a move on the same line (a value put together on two rows is not followed).

use super::redact::{has_hidden_chars, invisible};

/// One line of a terminal: its cells, the cursor, a saved cursor, the last character drawn.
#[derive(Default)]
struct Terminal {
    line: Vec<char>,
    cursor: usize,
    saved: usize,
    last: Option<char>,
    /// Where a right-to-left override (U+202E) started, until its U+202C.
    reversed_from: Option<usize>,
    /// No cursor or repeat count goes further than this (the text's length): the line stays
    /// as long as the text at most.
    limit: usize,
}

impl Terminal {
    /// Draws `c` at the cursor, over what is there.
    fn put(&mut self, c: char) {
        match self.line.get_mut(self.cursor) {
            Some(slot) => *slot = c,
            None => {
                self.fill();
                self.line.push(c);
            }
        }
        self.cursor += 1;
        self.last = Some(c);
    }

    /// Blanks up to the cursor, where it moved past the end.
    fn fill(&mut self) {
        self.cursor = self.cursor.min(self.limit);
        while self.line.len() < self.cursor {
            self.line.push(' ');
        }
    }

    /// Follows a CSI whose parameters are `params` and final byte `last`.
    fn csi(&mut self, params: &[usize], last: char) {
        let first = params.first().copied().unwrap_or(0);
        let n = first.clamp(1, self.limit.max(1));
        match last {
            'D' | 'j' => self.cursor = self.cursor.saturating_sub(n),
            'C' | 'a' => self.cursor = self.cursor.saturating_add(n).min(self.limit),
            'G' | '`' => self.cursor = (n - 1).min(self.limit),
            // A cursor position (row;column): the row is taken as this line.
            'H' | 'f' => {
                let column = params
                    .get(1)
                    .copied()
                    .unwrap_or(1)
                    .clamp(1, self.limit.max(1));
                self.cursor = column - 1;
            }
            's' => self.saved = self.cursor,
            'u' => self.cursor = self.saved,
            'b' => {
                if let Some(c) = self.last {
                    (0..n).for_each(|_| self.put(c));
                }
            }
            '@' => {
                self.fill();
                let at = self.cursor.min(self.line.len());
                self.line.splice(at..at, std::iter::repeat_n(' ', n));
                self.line.truncate(self.limit);
            }
            'P' => {
                let at = self.cursor.min(self.line.len());
                let end = at.saturating_add(n).min(self.line.len());
                self.line.drain(at..end);
            }
            'X' => {
                let end = self.cursor.saturating_add(n).min(self.line.len());
                if let Some(cells) = self.line.get_mut(self.cursor..end) {
                    cells.fill(' ');
                }
            }
            'K' | 'J' => self.erase(first),
            _ => {}
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

    /// Follows the escape sequence whose introducer `intro` followed an ESC (or, with `c1`,
    /// is itself an 8-bit control), reading the rest of it from `chars`.
    fn escape(
        &mut self,
        intro: char,
        c1: bool,
        chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    ) {
        match (intro, c1) {
            ('[', false) | ('\u{9B}', true) => {
                let mut params = vec![0usize];
                for c in chars.by_ref() {
                    if let Some(digit) = c.to_digit(10) {
                        if let Some(value) = params.last_mut() {
                            *value = value.saturating_mul(10).saturating_add(digit as usize);
                        }
                    } else if c == ';' {
                        params.push(0);
                    } else if ('@'..='~').contains(&c) {
                        self.csi(&params, c);
                        return;
                    }
                }
            }
            (']' | 'P' | '_' | '^' | 'X', false) | (_, true) => {
                // A control string, drawn as nothing up to its BEL or string terminator.
                while let Some(c) = chars.next() {
                    if c == '\u{7}'
                        || c == '\u{9C}'
                        || c == '\u{1B}' && chars.next_if_eq(&'\\').is_some()
                    {
                        return;
                    }
                }
            }
            ('7', false) => self.saved = self.cursor,
            ('8', false) => self.cursor = self.saved,
            ('c', false) => {
                self.line.clear();
                self.cursor = 0;
            }
            _ => {
                // Intermediate bytes (`(`, `#`, ...) and one final character.
                if (' '..='/').contains(&intro) {
                    while chars.next_if(|c| (' '..='/').contains(c)).is_some() {}
                    chars.next();
                }
            }
        }
    }
}

/// `text` as a terminal draws it, when that differs from `text`: escape sequences followed
/// (the cursor moved, saved and restored, characters repeated, cells inserted, deleted and
/// erased, control strings drawn as nothing), a backspace moving back, a carriage return going
/// to the start of the line (what follows overwrites), a run after a right-to-left override
/// (U+202E, up to U+202C or the end) shown reversed, other bidirectional controls, control
/// and invisible characters dropped. `None` when `text` has none of them.
pub fn displayed(text: &str) -> Option<String> {
    if !has_hidden_chars(text) {
        return None;
    }
    let mut terminal = Terminal {
        limit: text.len(),
        ..Terminal::default()
    };
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let sequence = match c {
            '\u{1B}' => chars.next().map(|intro| (intro, false)),
            '\u{90}' | '\u{98}' | '\u{9B}' | '\u{9D}'..='\u{9F}' => Some((c, true)),
            _ => None,
        };
        if let Some((intro, c1)) = sequence {
            terminal.escape(intro, c1, &mut chars);
            continue;
        }
        match c {
            '\u{8}' => terminal.cursor = terminal.cursor.saturating_sub(1),
            '\r' => terminal.cursor = 0,
            '\u{202E}' => terminal.reversed_from = Some(terminal.cursor),
            '\u{202C}' => {
                if let Some(from) = terminal.reversed_from.take() {
                    let to = terminal.cursor.min(terminal.line.len());
                    if let Some(run) = terminal.line.get_mut(from..to) {
                        run.reverse();
                    }
                }
            }
            c if crate::gate::unsafe_char(c) && c != '\n' || invisible(c) => {}
            c => terminal.put(c),
        }
    }
    if let Some(from) = terminal.reversed_from
        && let Some(run) = terminal.line.get_mut(from..)
    {
        run.reverse();
    }
    Some(terminal.line.into_iter().collect())
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
        ] {
            assert_eq!(
                displayed(text).as_deref().map(str::trim_end),
                Some(shown),
                "{text:?}"
            );
        }
        assert_eq!(displayed("plain"), None);
    }
}
