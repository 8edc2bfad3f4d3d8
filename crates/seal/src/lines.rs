//! The two hashes of every line, computed as the bytes stream by: the chain
//! (`h_i = SHA-256(h_{i-1} || line_i)`) and each line's short hash (the first 8 bytes of
//! `SHA-256(line_i)`). A line is never held whole, so a line of any length costs no memory.

use std::io::Read;

use sha2::{Digest as _, Sha256};

/// One complete line, hashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Line {
    /// Its number, from 1.
    pub(crate) number: u64,
    /// The offset just past its `\n`.
    pub(crate) end: u64,
    /// The chain after it.
    pub(crate) chain: [u8; 32],
    /// Its short hash.
    pub(crate) short: [u8; 8],
}

/// Where hashing starts: after `lines` complete lines ending at byte `offset`, with the
/// chain at `chain` (zeros, 0, 0 from the start of a log).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Start {
    pub(crate) lines: u64,
    pub(crate) offset: u64,
    pub(crate) chain: [u8; 32],
}

/// How a scan ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct End {
    /// The last complete line's number and the offset past it.
    pub(crate) lines: u64,
    pub(crate) offset: u64,
    /// Bytes after the last `\n` (a line still being written, or cut).
    pub(crate) partial: u64,
    /// The callback stopped the scan early.
    pub(crate) stopped: bool,
}

/// Reads `reader` (positioned at `start.offset`) to its end, calling `on_line` with each
/// complete line; `on_line` returns `false` to stop.
pub(crate) fn scan(
    mut reader: impl Read,
    start: Start,
    mut on_line: impl FnMut(Line) -> bool,
) -> std::io::Result<End> {
    let mut chain_hash = Sha256::new_with_prefix(start.chain);
    let mut line_hash = Sha256::new();
    let (mut lines, mut offset, mut partial) = (start.lines, start.offset, 0u64);
    let mut buf = vec![0u8; 1 << 18];
    loop {
        let read = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut rest = buf.get(..read).unwrap_or_default();
        while let Some(at) = memchr::memchr(b'\n', rest) {
            let (piece, after) = rest.split_at(at);
            chain_hash.update(piece);
            line_hash.update(piece);
            let chain: [u8; 32] = chain_hash.finalize_reset().into();
            let full: [u8; 32] = line_hash.finalize_reset().into();
            chain_hash.update(chain);
            lines += 1;
            offset += partial + piece.len() as u64 + 1;
            partial = 0;
            let line = Line {
                number: lines,
                end: offset,
                chain,
                short: full.first_chunk::<8>().copied().unwrap_or_default(),
            };
            if !on_line(line) {
                return Ok(End {
                    lines,
                    offset,
                    partial: 0,
                    stopped: true,
                });
            }
            rest = after.get(1..).unwrap_or_default();
        }
        chain_hash.update(rest);
        line_hash.update(rest);
        partial += rest.len() as u64;
    }
    Ok(End {
        lines,
        offset,
        partial,
        stopped: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain_of(lines: &[&[u8]]) -> [u8; 32] {
        lines.iter().fold([0u8; 32], |h, line| {
            let mut hasher = Sha256::new();
            hasher.update(h);
            hasher.update(line);
            hasher.finalize().into()
        })
    }

    /// A reader that gives one byte at a time: lines cross every read.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((&b, rest)), Some(slot)) => {
                    *slot = b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn the_chain_is_the_documented_one_however_the_bytes_arrive() {
        let text = b"{\"a\":1}\n\n\r\nlast";
        let mut seen = Vec::new();
        let end = scan(Trickle(text), Start::default(), |line| {
            seen.push(line);
            true
        })
        .unwrap();
        let expected = [&b"{\"a\":1}"[..], b"", b"\r"];
        assert_eq!(seen.len(), 3);
        for (i, line) in seen.iter().enumerate() {
            assert_eq!(line.number, i as u64 + 1);
            assert_eq!(line.chain, chain_of(&expected[..=i]));
            let full: [u8; 32] = Sha256::digest(expected[i]).into();
            assert_eq!(line.short[..], full[..8]);
        }
        assert_eq!(seen.last().map(|l| l.end), Some(11));
        assert_eq!(
            end,
            End {
                lines: 3,
                offset: 11,
                partial: 4,
                stopped: false
            }
        );
        // Resumed after the first line, the chain goes on as if read whole.
        let first = seen[0];
        let start = Start {
            lines: 1,
            offset: first.end,
            chain: first.chain,
        };
        let mut resumed = Vec::new();
        scan(&text[8..], start, |line| {
            resumed.push(line);
            true
        })
        .unwrap();
        assert_eq!(resumed, seen[1..]);
    }
}
