//! The one line reader of agentlog: bytes in, pieces of whole lines out.
//!
//! A [`LineReader`] reads its input in blocks of [`BLOCK`] bytes and yields [`Piece`]s:
//!
//! - [`Piece::Lines`]: whole lines, about `chunk_size` bytes of them, every one ending in
//!   `\n` except, in the input's last piece, a *torn* last line (the input ended without a
//!   newline; [`Piece::Lines::torn`]). [`split`] cuts a piece into its lines.
//! - [`Piece::TooLong`]: one line longer than `max_line_len` was skipped. It is never
//!   buffered: as soon as the incomplete line passes the limit the reader drops what it has
//!   of it and skips to the next newline. A line that is over the limit but complete within
//!   the bytes read at once can still arrive inside a [`Piece::Lines`]; a consumer that
//!   enforces the limit checks each line's length too (the validator's `line.too_long`,
//!   the analyzer's `too_long` count).
//! - [`Piece::ReadError`]: reading failed. The complete lines read before come first as a
//!   piece of their own; the incomplete line is dropped; nothing follows. An over-long line
//!   that runs on for more than [`SKIP_FACTOR`] times `max_line_len` bytes (and at least
//!   [`MIN_SKIP_BOUND`]) without a newline
//!   is a read error too (an `InvalidData` one): an endless input (`/dev/zero`, a
//!   decompression bomb of one line) stops there instead of being skipped forever.
//!
//! Memory is bounded by `chunk_size + max_line_len + BLOCK` whatever the input, so consumers
//! can hand pieces to worker threads through bounded channels and put the results back in
//! order (`agentlog validate`'s pipeline, `agentlog analyze`'s batches). Each piece is one
//! unit of line numbering: a `Lines` piece holds as many lines as [`split`] yields, a
//! `TooLong` piece one line.
//!
//! ```
//! use std::io::Read;
//! use agentlog_validate::lines::{LineReader, Piece, split};
//!
//! // Two reads: the second line's first 20 bytes pass the limit of 10 before its end is read.
//! let input = (&b"a\nbb\nxxxxxxxxxxxxxxxxxxxx"[..]).chain(&b"xxxxx\nc"[..]);
//! let mut pieces = LineReader::new(input, 1 << 20, 10);
//! let Some(Piece::Lines { buf, torn: false }) = pieces.next() else { panic!() };
//! assert_eq!(split(&buf).collect::<Vec<_>>(), [&b"a"[..], b"bb"]);
//! assert!(matches!(pieces.next(), Some(Piece::TooLong)));
//! let Some(Piece::Lines { buf, torn: true }) = pieces.next() else { panic!() };
//! assert_eq!(buf, b"c");
//! assert!(pieces.next().is_none());
//! assert_eq!(pieces.bytes_read(), 32);
//! ```

use std::io::{self, ErrorKind, Read};

/// Bytes asked of the input per read.
pub const BLOCK: usize = 256 << 10;

/// An over-long line skipped for more than this many times the line limit (and at least
/// [`MIN_SKIP_BOUND`] bytes) without reaching a newline ends the input
/// ([`Piece::ReadError`]).
pub const SKIP_FACTOR: u64 = 4;

/// The least an over-long line is skipped for before it ends the input, whatever the line
/// limit: a small limit makes long lines findings, not the end of the file.
pub const MIN_SKIP_BOUND: u64 = 64 << 20;

/// What a [`LineReader`] yields: see the [module documentation](self).
#[derive(Debug)]
pub enum Piece {
    /// Whole lines, each ending in `\n` except a torn last one.
    Lines {
        /// The lines' bytes, newlines included.
        buf: Vec<u8>,
        /// The last line has no newline: the input ended in the middle of it.
        torn: bool,
    },
    /// One line longer than the limit, skipped without being buffered.
    TooLong,
    /// Reading stopped with this error; it is the last piece.
    ReadError(io::Error),
}

/// The lines of a [`Piece::Lines`] buffer, without their newlines; a torn last line is
/// yielded too. An empty buffer yields nothing.
pub fn split(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0usize;
    let mut newlines = memchr::memchr_iter(b'\n', buf);
    std::iter::from_fn(move || match newlines.next() {
        Some(nl) => {
            let line = buf.get(start..nl).unwrap_or_default();
            start = nl + 1;
            Some(line)
        }
        None if start < buf.len() => {
            let line = buf.get(start..).unwrap_or_default();
            start = buf.len();
            Some(line)
        }
        None => None,
    })
}

/// Cuts a [`Read`] into [`Piece`]s of whole lines; an [`Iterator`] that ends after the
/// input's last piece (or its read error).
pub struct LineReader<R> {
    reader: R,
    chunk_size: usize,
    max_line: usize,
    block: Vec<u8>,
    /// Whole lines read so far, then the beginning of an incomplete one.
    chunk: Vec<u8>,
    /// Where the incomplete line starts in `chunk`.
    line_start: usize,
    /// Skipping the rest of an over-long line.
    skipping: bool,
    /// Bytes of the over-long line read so far.
    skipped: u64,
    /// A piece to yield before reading on.
    queued: Option<Piece>,
    /// The input ended or failed.
    done: bool,
    bytes: u64,
    /// Bytes of the input the pieces yielded so far stand for (a skipped line's once its
    /// end is read).
    yielded: u64,
    /// Where the last `Lines` piece yielded starts in the input.
    piece_start: u64,
}

impl<R: Read> LineReader<R> {
    /// A reader of `reader` yielding pieces of about `chunk_size` bytes (at least 1) and
    /// skipping lines longer than `max_line_len` bytes (newline not counted).
    pub fn new(reader: R, chunk_size: usize, max_line_len: usize) -> Self {
        let chunk_size = chunk_size.max(1);
        LineReader {
            reader,
            chunk_size,
            max_line: max_line_len,
            block: vec![0u8; BLOCK],
            chunk: Vec::with_capacity(chunk_size + BLOCK),
            line_start: 0,
            skipping: false,
            skipped: 0,
            queued: None,
            done: false,
            bytes: 0,
            yielded: 0,
            piece_start: 0,
        }
    }

    /// The byte offset in the input of the first byte of the last [`Piece::Lines`] yielded,
    /// so a consumer can name each line's place (`piece_start` plus the lengths, newlines
    /// included, of the lines before it in the piece). Skipped over-long lines are counted.
    pub fn piece_start(&self) -> u64 {
        self.piece_start
    }

    /// Bytes read from the input so far (skipped ones included).
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// Takes the whole lines of `chunk` out as a piece (`None` when there are none) and
    /// keeps the incomplete line.
    fn take_whole(&mut self) -> Option<Piece> {
        if self.line_start == 0 {
            return None;
        }
        let mut rest = Vec::with_capacity(self.chunk_size + BLOCK);
        rest.extend_from_slice(self.chunk.get(self.line_start..).unwrap_or_default());
        self.chunk.truncate(self.line_start);
        let buf = std::mem::replace(&mut self.chunk, rest);
        self.line_start = 0;
        Some(Piece::Lines { buf, torn: false })
    }

    /// Adds one block's bytes; returns a piece when one is complete.
    fn add(&mut self, mut data: &[u8]) -> Option<Piece> {
        if self.skipping {
            let Some(i) = memchr::memchr(b'\n', data) else {
                self.skipped = self.skipped.saturating_add(data.len() as u64);
                return self.runs_on();
            };
            data = data.get(i + 1..).unwrap_or_default();
            self.skipping = false;
            self.yielded = self.yielded.saturating_add(self.skipped + i as u64 + 1);
        }
        let before = self.chunk.len();
        self.chunk.extend_from_slice(data);
        if let Some(i) = memchr::memrchr(b'\n', data) {
            self.line_start = before + i + 1;
        }
        if self.chunk.len() - self.line_start > self.max_line {
            // Drop the over-long line's beginning; yield the lines before it, then TooLong.
            self.skipped = (self.chunk.len() - self.line_start) as u64;
            self.chunk.truncate(self.line_start);
            self.skipping = true;
            return match self.take_whole() {
                Some(lines) => {
                    self.queued = Some(Piece::TooLong);
                    Some(lines)
                }
                None => Some(Piece::TooLong),
            };
        }
        if self.line_start >= self.chunk_size {
            return self.take_whole();
        }
        None
    }

    /// While an over-long line is skipped: a read error once it passes [`SKIP_FACTOR`] times
    /// the limit, so an endless line ends the input.
    fn runs_on(&mut self) -> Option<Piece> {
        let bound = (self.max_line.max(1) as u64)
            .saturating_mul(SKIP_FACTOR)
            .max(MIN_SKIP_BOUND);
        if self.skipped <= bound {
            return None;
        }
        let e = io::Error::new(
            ErrorKind::InvalidData,
            format!(
                "a line runs on for more than {bound} bytes ({SKIP_FACTOR} times the line limit, at least {MIN_SKIP_BOUND}) without a newline; reading stopped"
            ),
        );
        self.fail(e)
    }

    /// The end of the input: the rest as a last piece, torn when it does not end a line.
    fn finish(&mut self) -> Option<Piece> {
        self.done = true;
        if self.skipping || self.chunk.is_empty() {
            return None;
        }
        let torn = self.line_start < self.chunk.len();
        Some(Piece::Lines {
            buf: std::mem::take(&mut self.chunk),
            torn,
        })
    }

    /// A read error: the complete lines read so far, then the error.
    fn fail(&mut self, e: io::Error) -> Option<Piece> {
        self.done = true;
        match self.take_whole() {
            Some(lines) => {
                self.queued = Some(Piece::ReadError(e));
                Some(lines)
            }
            None => Some(Piece::ReadError(e)),
        }
    }
}

impl<R: Read> Iterator for LineReader<R> {
    type Item = Piece;

    fn next(&mut self) -> Option<Piece> {
        let piece = self.next_piece();
        if let Some(Piece::Lines { buf, .. }) = &piece {
            self.piece_start = self.yielded;
            self.yielded = self.yielded.saturating_add(buf.len() as u64);
        }
        piece
    }
}

impl<R: Read> LineReader<R> {
    fn next_piece(&mut self) -> Option<Piece> {
        if let Some(piece) = self.queued.take() {
            return Some(piece);
        }
        while !self.done {
            let n = match self.reader.read(&mut self.block) {
                Ok(0) => return self.finish(),
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return self.fail(e),
            };
            self.bytes += n as u64;
            let block = std::mem::take(&mut self.block);
            let piece = self.add(block.get(..n).unwrap_or_default());
            self.block = block;
            if piece.is_some() {
                return piece;
            }
        }
        None
    }
}

impl<R> std::fmt::Debug for LineReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineReader")
            .field("chunk_size", &self.chunk_size)
            .field("max_line_len", &self.max_line)
            .field("bytes_read", &self.bytes)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every piece of `input` read in blocks of at most `step` bytes.
    fn pieces(input: &[u8], chunk: usize, max: usize, step: usize) -> Vec<String> {
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(self.1);
                let (head, tail) = self.0.split_at(n);
                buf[..n].copy_from_slice(head);
                self.0 = tail;
                Ok(n)
            }
        }
        LineReader::new(Trickle(input, step), chunk, max)
            .map(|p| match p {
                Piece::Lines { buf, torn } => {
                    format!(
                        "{}{}",
                        String::from_utf8_lossy(&buf),
                        if torn { "|torn" } else { "" }
                    )
                }
                Piece::TooLong => "TOOLONG".into(),
                Piece::ReadError(e) => format!("ERR {e}"),
            })
            .collect()
    }

    #[test]
    fn every_line_knows_its_offset_whatever_the_block_size() {
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(self.1);
                let (head, tail) = self.0.split_at(n);
                buf[..n].copy_from_slice(head);
                self.0 = tail;
                Ok(n)
            }
        }
        let input = b"a\nbb\nxxxxxxxxxxxxxxxxxxxx\nccc\nyyyyyyyyyyy\n\ndd";
        for step in [1, 2, 3, 7, 1 << 20] {
            for chunk in [1, 4, 100] {
                let mut reader = LineReader::new(Trickle(input, step), chunk, 5);
                let mut seen = Vec::new();
                while let Some(piece) = reader.next() {
                    if let Piece::Lines { buf, .. } = piece {
                        let mut offset = reader.piece_start();
                        for line in split(&buf) {
                            let at = usize::try_from(offset).unwrap();
                            assert_eq!(&input[at..at + line.len()], line, "step {step}");
                            seen.push(String::from_utf8_lossy(line).into_owned());
                            offset += line.len() as u64 + 1;
                        }
                    }
                }
                // An over-long line read whole in one block may arrive in a piece (the
                // consumer checks lengths); either way its offset was checked above.
                seen.retain(|line| line.len() <= 5);
                assert_eq!(
                    seen,
                    ["a", "bb", "ccc", "", "dd"],
                    "step {step} chunk {chunk}"
                );
            }
        }
    }

    #[test]
    fn whole_lines_torn_end_and_too_long_whatever_the_block_size() {
        let input = b"a\nbb\nxxxxxxxxxxxxxxxxxxxx\nccc\ndd";
        for step in [1, 2, 3, 7, 1 << 20] {
            let got = pieces(input, 4, 5, step);
            let lines: String = got.iter().filter(|p| *p != "TOOLONG").cloned().collect();
            if step > input.len() {
                // Read at once, the over-long line arrives inside a piece for the consumer's
                // length check.
                assert_eq!(
                    lines,
                    std::str::from_utf8(input).unwrap().to_owned() + "|torn"
                );
            } else {
                // Noticed while incomplete, it is a piece of its own, in place.
                assert_eq!(lines, "a\nbb\nccc\ndd|torn", "step {step}: {got:?}");
                assert_eq!(got.iter().filter(|p| *p == "TOOLONG").count(), 1, "{got:?}");
                let at = got.iter().position(|p| p == "TOOLONG").unwrap();
                assert!(got[..at].concat().ends_with("bb\n"), "{got:?}");
            }
        }
    }

    #[test]
    fn pieces_are_cut_at_the_chunk_size_on_line_ends() {
        let got = pieces(b"aa\nbb\ncc\ndd\n", 5, 100, 1);
        assert_eq!(got, ["aa\nbb\n", "cc\ndd\n"]);
        let got = pieces(b"aa\nbb\ncc\ndd\n", 1 << 20, 100, 1 << 20);
        assert_eq!(got, ["aa\nbb\ncc\ndd\n"]);
    }

    #[test]
    fn an_over_long_last_line_is_one_too_long_and_nothing_else() {
        assert_eq!(pieces(b"ok\nxxxxxxxx", 100, 3, 2), ["ok\n", "TOOLONG"]);
        assert!(pieces(b"", 100, 3, 2).is_empty());
    }

    #[test]
    fn a_read_error_ends_after_the_whole_lines() {
        struct Fails(usize);
        impl Read for Fails {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("disk gone"));
                }
                self.0 -= 1;
                buf[..4].copy_from_slice(b"ab\nc");
                Ok(4)
            }
        }
        let mut reader = LineReader::new(Fails(2), 1 << 20, 100);
        let Some(Piece::Lines { buf, torn: false }) = reader.next() else {
            panic!("whole lines first")
        };
        assert_eq!(buf, b"ab\ncab\n");
        assert!(matches!(reader.next(), Some(Piece::ReadError(_))));
        assert!(reader.next().is_none());
        assert_eq!(reader.bytes_read(), 8);
    }

    #[test]
    fn split_yields_every_line_without_its_newline() {
        let lines: Vec<&[u8]> = split(b"a\n\nb\nc").collect();
        assert_eq!(lines, [&b"a"[..], b"", b"b", b"c"]);
        assert_eq!(split(b"").count(), 0);
        assert_eq!(split(b"\n").collect::<Vec<_>>(), [&b""[..]]);
    }

    #[test]
    fn an_endless_line_ends_the_input() {
        // An endless input of one line: it stops after SKIP_FACTOR times the limit, and at
        // least MIN_SKIP_BOUND.
        let mut reader = LineReader::new(io::repeat(b'0'), 1 << 10, 1 << 12);
        assert!(matches!(reader.next(), Some(Piece::TooLong)));
        let Some(Piece::ReadError(e)) = reader.next() else {
            panic!("no read error");
        };
        assert_eq!(e.kind(), ErrorKind::InvalidData);
        assert!(reader.next().is_none());
        let limit = (SKIP_FACTOR * (1 << 12)).max(MIN_SKIP_BOUND);
        let read = reader.bytes_read();
        assert!(read > limit && read <= limit + 2 * BLOCK as u64, "{read}");
        // A long line that ends before the bound is skipped, and reading goes on: past
        // SKIP_FACTOR times a small limit, below MIN_SKIP_BOUND.
        let input = io::repeat(b'0').take(9 << 12).chain(&b"\n{}\n"[..]);
        let mut reader = LineReader::new(input, 1 << 10, 1 << 12);
        assert!(matches!(reader.next(), Some(Piece::TooLong)));
        assert!(matches!(
            reader.next(),
            Some(Piece::Lines { torn: false, .. })
        ));
    }
}
