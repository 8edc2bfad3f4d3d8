//! The line loop of one input: lines from the standard library's `BufRead::read_until`
//! (agentlog-validate exposes how inputs are opened, not its chunked line reader), each one
//! classified and handed to its family's aggregate, or counted as skipped with its number.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read};

use crate::record::{self, Bad, Kind};
use crate::{Analyzer, FileSummary, LINE_NUMBERS_KEPT, LineList};

/// Reads one input into `analyzer`'s aggregates and returns its summary.
pub(crate) fn read(analyzer: &mut Analyzer, label: &str, reader: impl Read) -> io::Result<FileSummary> {
    let max = analyzer.options.max_line_len;
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let mut reader = BufReader::with_capacity(256 << 10, reader);
    let mut file = FileSummary {
        path: label.to_owned(),
        ..FileSummary::default()
    };
    let mut line = Vec::with_capacity(4096);
    loop {
        line.clear();
        let n = (&mut reader).take(limit).read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        file.bytes += n as u64;
        file.lines += 1;
        if line.last() == Some(&b'\n') {
            line.pop();
        } else if line.len() > max {
            // Over the cap: drop the rest of the line unread into memory.
            file.bytes += skip_line(&mut reader)?;
            skip(&mut file.skipped, "too_long", file.lines);
            continue;
        }
        one_line(analyzer, &mut file, &line);
    }
    Ok(file)
}

/// Skips to just past the next newline; returns the bytes skipped.
fn skip_line(reader: &mut impl BufRead) -> io::Result<u64> {
    let mut skipped = 0u64;
    loop {
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(skipped);
        }
        let (used, done) = match memchr::memchr(b'\n', buf) {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        reader.consume(used);
        skipped += used as u64;
        if done {
            return Ok(skipped);
        }
    }
}

fn skip(skipped: &mut BTreeMap<&'static str, LineList>, kind: &'static str, line: u64) {
    let list = skipped.entry(kind).or_default();
    list.count += 1;
    if list.lines.len() < LINE_NUMBERS_KEPT {
        list.lines.push(line);
    }
}

fn one_line(analyzer: &mut Analyzer, file: &mut FileSummary, line: &[u8]) {
    if line.iter().all(u8::is_ascii_whitespace) {
        return skip(&mut file.skipped, "blank", file.lines);
    }
    let raw = match record::parse(line) {
        Ok(raw) => raw,
        Err(Bad::NotJson) => return skip(&mut file.skipped, "not_json", file.lines),
        Err(Bad::Malformed) => return skip(&mut file.skipped, "malformed", file.lines),
    };
    let kind = raw.kind();
    let Some(family) = kind.family() else {
        return skip(&mut file.skipped, "unrecognised", file.lines);
    };
    if *file.family.get_or_insert(family) != family {
        return skip(&mut file.skipped, "other_family", file.lines);
    }
    file.records += 1;
    match kind {
        Kind::Sandbox => analyzer.sandbox.add(&raw),
        _ => analyzer.ledger.add(&raw, kind),
    }
}
