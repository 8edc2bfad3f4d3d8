//! `text/event-stream` bodies, parsed as the WHATWG HTML standard's "server-sent events"
//! section says (see the module documentation), with bounded memory, whatever the chunking.

use super::stream::StreamUsage;
use super::{MAX_SSE_EVENT, Usage};

/// The UTF-8 byte order mark, skipped once at the start of a stream.
const BOM: &[u8] = b"\xEF\xBB\xBF";
/// The longest `event:` name kept; a longer one is kept as no name (none that means
/// something here is that long).
const MAX_EVENT_NAME: usize = 64;

/// A `text/event-stream` body, parsed event by event.
#[derive(Debug, Default)]
pub(super) struct SseBody {
    /// The stream's first bytes are behind: a BOM is no longer looked for.
    past_start: bool,
    /// Bytes of a leading BOM matched so far, while it may still be one.
    bom_matched: usize,
    /// The last byte fed was a CR: an LF right after it ends no other line.
    after_cr: bool,
    /// The incomplete current line.
    line: Vec<u8>,
    /// The current line outgrew [`MAX_SSE_EVENT`]; its bytes are dropped up to its end.
    line_overflow: bool,
    /// The data buffer: each `data:` line's value followed by an LF.
    data: Vec<u8>,
    /// The event type buffer: the last `event:` line's value.
    event: Vec<u8>,
    /// The current event outgrew the cap and is being skipped.
    skipping: bool,
    /// What the dispatched events said.
    stream: StreamUsage,
}

impl SseBody {
    pub(super) fn feed(&mut self, chunk: &[u8]) {
        let rest = self.skip_bom(chunk);
        self.split_lines(rest);
    }

    pub(super) fn saw_terminal_event(&self) -> bool {
        self.stream.ended()
    }

    /// Takes a leading BOM off the stream, even one split across chunks; returns what remains
    /// of `chunk` to parse.
    fn skip_bom<'c>(&mut self, chunk: &'c [u8]) -> &'c [u8] {
        let mut rest = chunk;
        while !self.past_start {
            let Some((&byte, tail)) = rest.split_first() else {
                break;
            };
            if BOM.get(self.bom_matched) == Some(&byte) {
                self.bom_matched += 1;
                self.past_start = self.bom_matched == BOM.len();
                rest = tail;
            } else {
                // Not a BOM after all: the bytes taken for one start the first line.
                self.end_start();
            }
        }
        rest
    }

    /// The stream's start is behind: bytes taken for a BOM that was not one are content.
    fn end_start(&mut self) {
        self.past_start = true;
        let taken = BOM.get(..self.bom_matched).unwrap_or_default();
        self.split_lines(taken);
    }

    /// Splits bytes into lines ended by CRLF, LF or CR, a CRLF split across two chunks
    /// included.
    fn split_lines(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        if self.after_cr && !rest.is_empty() {
            self.after_cr = false;
            rest = rest.strip_prefix(b"\n").unwrap_or(rest);
        }
        while let Some(at) = memchr::memchr2(b'\r', b'\n', rest) {
            let (line, end) = rest.split_at(at);
            self.push_line_part(line);
            self.end_line();
            rest = match end {
                [b'\r', b'\n', more @ ..] => more,
                [b'\r'] => {
                    self.after_cr = true;
                    &[]
                }
                [_, more @ ..] => more,
                [] => &[],
            };
        }
        self.push_line_part(rest);
    }

    fn push_line_part(&mut self, part: &[u8]) {
        if self.line_overflow {
            return;
        }
        if self.line.len() + part.len() > MAX_SSE_EVENT {
            self.line_overflow = true;
            self.line = Vec::new();
        } else {
            self.line.extend_from_slice(part);
        }
    }

    fn end_line(&mut self) {
        if std::mem::take(&mut self.line_overflow) {
            // An oversized line: drop the event it belongs to.
            self.skipping = true;
            self.data = Vec::new();
            return;
        }
        let mut line = std::mem::take(&mut self.line);
        if line.is_empty() {
            self.dispatch();
        } else {
            self.field(&line);
        }
        // Keep the allocation for the next line.
        line.clear();
        self.line = line;
    }

    /// One non-empty line of the current event: a comment (`:` first), `name: value`, or a
    /// field name alone (its value is empty).
    fn field(&mut self, line: &[u8]) {
        if self.skipping {
            return;
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(0) => return,
            Some(colon) => {
                let (name, value) = line.split_at(colon);
                (name, value.get(1..).unwrap_or_default())
            }
            None => (line, &[][..]),
        };
        let value = value.strip_prefix(b" ").unwrap_or(value);
        match name {
            b"data" => {
                if self.data.len() + value.len() + 1 > MAX_SSE_EVENT {
                    self.skipping = true;
                    self.data = Vec::new();
                    return;
                }
                self.data.extend_from_slice(value);
                self.data.push(b'\n');
            }
            b"event" => {
                self.event.clear();
                if value.len() <= MAX_EVENT_NAME {
                    self.event.extend_from_slice(value);
                }
            }
            // `id`, `retry` and unknown fields change nothing usage depends on.
            _ => {}
        }
    }

    /// A blank line: the event ends. Without data it is not dispatched (the standard), though
    /// its name alone may end an Anthropic stream.
    fn dispatch(&mut self) {
        if !self.skipping {
            let data = self.data.strip_suffix(b"\n");
            self.stream.event(&self.event, data);
        }
        self.data.clear();
        self.event.clear();
        self.skipping = false;
    }

    /// Ends the body. A last event cut off before its blank line still counts, unlike in the
    /// standard: the provider billed it.
    pub(super) fn finish(mut self) -> Usage {
        if !self.past_start {
            self.end_start();
        }
        if !self.line.is_empty() || self.line_overflow {
            self.end_line();
        }
        self.dispatch();
        self.stream.usage()
    }
}
