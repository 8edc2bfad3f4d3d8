//! Spend restored from the run's own event log at start-up, so that a restart does not
//! reset the budget.
//!
//! Every `llm_response` and `http_response` in the file counts: its `cost_usd` (what was
//! charged for it, see the budget's table) and its `input_tokens + output_tokens`. So does
//! every request that holds a reservation (`llm_request` / `http_request` with
//! `reserved_usd`) and has no response with its `exchange_id` in the file: the proxy stopped
//! (killed, crashed, the machine lost power) after forwarding it, so the provider may bill it,
//! and it is charged its reservation. A line
//! that is not a JSON object (a torn last line left by a crash, a corrupt one) is skipped
//! and reported by number, never fatal; a missing file is a run with no spend yet. A line
//! longer than [`MAX_LINE`] (no event the proxy writes comes near it) is skipped the same way
//! without being held in memory, so a corrupt log cannot exhaust memory at start-up.
//!
//! A log that was rotated (`logrotate` renames it and sends SIGHUP, and the proxy reopens its
//! path) keeps its spend in the rotated files: they are read too ([`rotated_siblings`]:
//! `events.jsonl.1`, `events.jsonl.2.gz`, `events.jsonl-20261206.zst`, ...), plain, gzip or
//! zstd (another compression is an error, never a spend forgotten), and a request in one file
//! is paired with its response in another. Otherwise a
//! rotation followed by a restart would start the budget again from nothing.

use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Longest line read as an event (the validator's default line limit).
const MAX_LINE: usize = 1 << 20;

/// What the log says was spent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Restored {
    /// Sum of `cost_usd` of the response events.
    pub spent: f64,
    /// Sum of their token counts.
    pub tokens: u64,
    /// Response events read.
    pub responses: u64,
    /// Requests that held a reservation and have no response in the log, each charged its
    /// reservation (included in `spent`).
    pub unanswered: u64,
    /// What they were charged, in USD.
    pub unanswered_usd: f64,
    /// The lines skipped because they are not JSON objects.
    pub skipped_lines: Vec<SkippedLine>,
    /// The rotated files read besides the log itself.
    pub rotated_files: Vec<PathBuf>,
}

/// A line of a log file that restore could not read as an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedLine {
    /// The file (the log or one of its rotated files).
    pub file: PathBuf,
    /// The 1-based line number.
    pub line: u64,
}

/// Reads `path` and its rotated files ([`rotated_siblings`]); `Ok` with nothing spent when
/// none exists.
pub fn restore_from_log(path: &Path) -> io::Result<Restored> {
    let rotated = rotated_siblings(path)?;
    let mut restored = Restored::default();
    // Reservations of requests not answered yet, by exchange id, over every file.
    let mut open = Exchanges::default();
    for file in rotated.iter().map(PathBuf::as_path).chain([path]) {
        let reader = match std::fs::File::open(file) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let reader: Box<dyn Read> = match file.extension().and_then(|e| e.to_str()) {
            Some("gz") => Box::new(flate2::read::MultiGzDecoder::new(reader)),
            Some("zst") => Box::new(zstd::stream::read::Decoder::new(reader)?),
            Some(other) if UNREADABLE_COMPRESSIONS.contains(&other) => {
                return Err(io::Error::other(format!(
                    "rotated file {} is compressed with .{other}, which the budget cannot read; decompress it (or use gzip or zstd) so its spend counts",
                    file.display()
                )));
            }
            _ => Box::new(reader),
        };
        restored.read(file, BufReader::new(reader), MAX_LINE, &mut open)?;
    }
    restored.charge_unanswered(open);
    restored.rotated_files = rotated;
    Ok(restored)
}

/// The rotated files of the log at `path`, in name order: files beside it named after it,
/// then `.` or `-`, then a rotation suffix (digits, dates and their `.`/`-`/`_`
/// separators), maybe `.gz`: `events.jsonl.1`, `events.jsonl.2.gz`,
/// `events.jsonl-20261206`, `events.jsonl.2026-12-06.gz`.
pub fn rotated_siblings(path: &Path) -> io::Result<Vec<PathBuf>> {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(Vec::new());
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry?;
        let file_name = entry.file_name();
        let Some(candidate) = file_name.to_str() else {
            continue;
        };
        if is_rotation_of(candidate, name) && entry.file_type()?.is_file() {
            found.push(dir.join(candidate));
        }
    }
    found.sort();
    Ok(found)
}

/// Compressions a rotated file may be named with that restore cannot read: start-up fails
/// rather than forget their spend.
const UNREADABLE_COMPRESSIONS: [&str; 6] = ["bz2", "xz", "lz4", "lzma", "zip", "Z"];

fn is_rotation_of(candidate: &str, name: &str) -> bool {
    let Some(rest) = candidate.strip_prefix(name) else {
        return false;
    };
    let Some(suffix) = rest.strip_prefix(['.', '-']) else {
        return false;
    };
    let suffix = match suffix.rsplit_once('.') {
        Some((rest, ext))
            if ext == "gz" || ext == "zst" || UNREADABLE_COMPRESSIONS.contains(&ext) =>
        {
            rest
        }
        _ => suffix,
    };
    suffix.starts_with(|c: char| c.is_ascii_digit())
        && suffix
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '_'))
}

impl Restored {
    /// Reads events from `reader` (the file `file`), skipping lines longer than `max_line`
    /// bytes unread.
    fn read(
        &mut self,
        file: &Path,
        mut reader: impl BufRead,
        max_line: usize,
        open: &mut Exchanges,
    ) -> io::Result<()> {
        let limit = u64::try_from(max_line)
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let mut line = Vec::new();
        let mut number = 0u64;
        let skip = |line| SkippedLine {
            file: file.to_path_buf(),
            line,
        };
        loop {
            line.clear();
            if reader.by_ref().take(limit).read_until(b'\n', &mut line)? == 0 {
                return Ok(());
            }
            number += 1;
            if line.len() > max_line && line.last() != Some(&b'\n') {
                skip_past_newline(&mut reader)?;
                self.skipped_lines.push(skip(number));
                continue;
            }
            match serde_json::from_slice::<Value>(&line) {
                Ok(event) if event.is_object() => self.count(&event, open),
                _ if line.iter().all(u8::is_ascii_whitespace) => {}
                _ => self.skipped_lines.push(skip(number)),
            }
        }
    }
}

/// Reads events from one reader alone (the tests' way in).
#[cfg(test)]
fn restore_lines(reader: impl BufRead, max_line: usize) -> io::Result<Restored> {
    let mut restored = Restored::default();
    let mut open = Exchanges::default();
    restored.read(Path::new("log"), reader, max_line, &mut open)?;
    restored.charge_unanswered(open);
    Ok(restored)
}

/// Requests that hold a reservation and their responses, paired by exchange id in whatever
/// order the files are read (a request may be in an older rotated file than its response).
#[derive(Debug, Default)]
struct Exchanges {
    /// Reservations of requests whose response was not read (yet).
    open: HashMap<String, f64>,
    /// Responses read before their request.
    early: HashSet<String>,
}

impl Exchanges {
    fn requested(&mut self, id: &str, reserved: f64) {
        if !self.early.remove(id) {
            self.open.insert(id.to_owned(), reserved);
        }
    }

    fn answered(&mut self, id: &str) {
        if self.open.remove(id).is_none() {
            self.early.insert(id.to_owned());
        }
    }
}

/// Consumes the rest of an over-long line, up to and including its newline.
fn skip_past_newline(reader: &mut impl BufRead) -> io::Result<()> {
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        match buf.iter().position(|b| *b == b'\n') {
            Some(i) => {
                reader.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = buf.len();
                reader.consume(n);
            }
        }
    }
}

impl Restored {
    fn count(&mut self, event: &Value, open: &mut Exchanges) {
        let data = &event["data"];
        let exchange = data["exchange_id"].as_str().filter(|id| !id.is_empty());
        match event["event_type"].as_str() {
            Some("llm_request" | "http_request") => {
                let reserved = data["reserved_usd"]
                    .as_f64()
                    .filter(|r| r.is_finite() && *r > 0.0);
                if let (Some(id), Some(reserved)) = (exchange, reserved) {
                    open.requested(id, reserved);
                }
                return;
            }
            Some("llm_response" | "http_response") => {}
            _ => return,
        }
        if let Some(id) = exchange {
            open.answered(id);
        }
        self.responses += 1;
        if let Some(cost) = data["cost_usd"]
            .as_f64()
            .filter(|c| c.is_finite() && *c > 0.0)
        {
            self.spent += cost;
        }
        let tokens = |k: &str| data[k].as_u64().unwrap_or(0);
        self.tokens = self
            .tokens
            .saturating_add(tokens("input_tokens"))
            .saturating_add(tokens("output_tokens"));
    }

    /// Charges every request still open its reservation.
    fn charge_unanswered(&mut self, open: Exchanges) {
        for reserved in open.open.into_values() {
            self.unanswered += 1;
            self.unanswered_usd += reserved;
            self.spent += reserved;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(r: &Restored) -> Vec<u64> {
        r.skipped_lines.iter().map(|s| s.line).collect()
    }

    #[test]
    fn rotated_files_keep_their_spend_and_pair_across_files() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let response = |id: &str, cost: f64| {
            format!(
                r#"{{"event_type":"llm_response","data":{{"exchange_id":"{id}","cost_usd":{cost}}}}}"#
            )
        };
        let request = |id: &str, reserved: f64| {
            format!(
                r#"{{"event_type":"llm_request","data":{{"exchange_id":"{id}","reserved_usd":{reserved}}}}}"#
            )
        };
        // Rotated while `b` was in flight: its response is in the next file.
        std::fs::write(
            dir.path().join("events.jsonl.2"),
            format!("{}\n{}\n", response("a", 1.0), request("b", 4.0)),
        )
        .unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        writeln!(gz, "{}\nnot json", response("b", 2.0)).unwrap();
        std::fs::write(dir.path().join("events.jsonl.1.gz"), gz.finish().unwrap()).unwrap();
        let zst = zstd::encode_all((response("c", 8.0) + "\n").as_bytes(), 3).unwrap();
        std::fs::write(dir.path().join("events.jsonl-20261206.zst"), zst).unwrap();
        // Not rotations of this log.
        for other in [
            "events.jsonl.bak",
            "events.jsonl2",
            "other.jsonl.1",
            "events.jsonl.x1",
        ] {
            std::fs::write(dir.path().join(other), response("z", 100.0) + "\n").unwrap();
        }
        std::fs::write(&path, request("d", 16.0) + "\n").unwrap();
        let r = restore_from_log(&path).unwrap();
        assert_eq!(r.spent, 1.0 + 2.0 + 8.0 + 16.0);
        assert_eq!((r.responses, r.unanswered), (3, 1));
        assert_eq!(r.rotated_files.len(), 3);
        let skipped: Vec<(String, u64)> = (r.skipped_lines.iter())
            .map(|s| {
                (
                    s.file.file_name().unwrap().to_string_lossy().into_owned(),
                    s.line,
                )
            })
            .collect();
        assert_eq!(skipped, [("events.jsonl.1.gz".to_owned(), 2)]);
        // With the log itself gone (rotated, not yet reopened), the rotated files still count.
        std::fs::remove_file(&path).unwrap();
        assert_eq!(restore_from_log(&path).unwrap().spent, 1.0 + 2.0 + 8.0);
        // A compression restore cannot read stops start-up.
        std::fs::write(dir.path().join("events.jsonl.3.bz2"), "BZh").unwrap();
        let err = restore_from_log(&path).unwrap_err().to_string();
        assert!(
            err.contains("events.jsonl.3.bz2") && err.contains(".bz2"),
            "{err}"
        );
    }

    #[test]
    fn adds_up_responses_and_skips_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        assert_eq!(restore_from_log(&path).unwrap(), Restored::default());
        let lines = [
            r#"{"event_type":"llm_request","data":{"cost_usd":9}}"#,
            r#"{"event_type":"llm_response","data":{"input_tokens":10,"output_tokens":5,"cost_usd":0.25,"cost_source":"price_table"}}"#,
            "not json",
            r#"{"event_type":"http_response","data":{"cost_usd":0.5,"cost_source":"reservation"}}"#,
            r#"{"event_type":"llm_response","data":{"usage":"unknown"}}"#,
            r#"{"event_type":"llm_response","data":{"cost_usd":1"#,
        ];
        std::fs::write(&path, lines.join("\n")).unwrap();
        let r = restore_from_log(&path).unwrap();
        assert_eq!(r.spent, 0.75);
        assert_eq!(r.tokens, 15);
        assert_eq!(r.responses, 3);
        assert_eq!(lines_of(&r), [3, 6]);
    }

    #[test]
    fn a_request_without_its_response_is_charged_its_reservation() {
        let lines = [
            // Answered: its response's cost counts, not its reservation.
            r#"{"event_type":"llm_request","data":{"exchange_id":"a-1","reserved_usd":2}}"#,
            // In flight when the proxy was killed.
            r#"{"event_type":"http_request","data":{"exchange_id":"a-2","reserved_usd":0.5}}"#,
            r#"{"event_type":"llm_response","data":{"exchange_id":"a-1","cost_usd":0.25,"cost_source":"price_table"}}"#,
            // No reservation (no budget then), or no id (an older log): nothing to charge.
            r#"{"event_type":"llm_request","data":{"exchange_id":"a-3"}}"#,
            r#"{"event_type":"llm_request","data":{"reserved_usd":9}}"#,
            // A lying reservation is not a charge.
            r#"{"event_type":"llm_request","data":{"exchange_id":"a-4","reserved_usd":-3}}"#,
            r#"{"event_type":"llm_request","data":{"exchange_id":"b-1","reserved_usd":0.125}}"#,
        ];
        let r = restore_lines(BufReader::new(lines.join("\n").as_bytes()), MAX_LINE).unwrap();
        assert_eq!(r.responses, 1);
        assert_eq!(r.unanswered, 2);
        assert_eq!(r.unanswered_usd, 0.625);
        assert_eq!(r.spent, 0.875);
    }

    #[test]
    fn an_over_long_line_is_skipped_and_the_next_still_counts() {
        let long = format!(
            r#"{{"event_type":"llm_response","data":{{"cost_usd":5,"pad":"{}"}}}}"#,
            "x".repeat(300)
        );
        let text = format!(
            "{long}\n{}\n{long}",
            r#"{"event_type":"llm_response","data":{"cost_usd":0.25,"cost_source":"price_table"}}"#
        );
        // The reader is small on purpose: the long line spans several of its buffers.
        let reader = BufReader::with_capacity(16, text.as_bytes());
        let r = restore_lines(reader, 120).unwrap();
        assert_eq!(r.spent, 0.25);
        assert_eq!(r.responses, 1);
        assert_eq!(lines_of(&r), [1, 3]);
    }
}
