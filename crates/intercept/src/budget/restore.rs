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

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

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
    /// 1-based numbers of the lines skipped because they are not JSON objects.
    pub skipped_lines: Vec<u64>,
}

/// Reads `path`; `Ok` with nothing spent when it does not exist.
pub fn restore_from_log(path: &Path) -> io::Result<Restored> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Restored::default()),
        Err(e) => return Err(e),
    };
    restore_lines(BufReader::new(file), MAX_LINE)
}

/// Reads events from `reader`, skipping lines longer than `max_line` bytes unread.
fn restore_lines(mut reader: impl BufRead, max_line: usize) -> io::Result<Restored> {
    let mut restored = Restored::default();
    // Reservations of requests not answered yet, by exchange id.
    let mut open: HashMap<String, f64> = HashMap::new();
    let limit = u64::try_from(max_line)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        if reader.by_ref().take(limit).read_until(b'\n', &mut line)? == 0 {
            restored.charge_unanswered(open);
            return Ok(restored);
        }
        number += 1;
        if line.len() > max_line && line.last() != Some(&b'\n') {
            skip_past_newline(&mut reader)?;
            restored.skipped_lines.push(number);
            continue;
        }
        match serde_json::from_slice::<Value>(&line) {
            Ok(event) if event.is_object() => restored.count(&event, &mut open),
            _ if line.iter().all(u8::is_ascii_whitespace) => {}
            _ => restored.skipped_lines.push(number),
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
    fn count(&mut self, event: &Value, open: &mut HashMap<String, f64>) {
        let data = &event["data"];
        let exchange = data["exchange_id"].as_str().filter(|id| !id.is_empty());
        match event["event_type"].as_str() {
            Some("llm_request" | "http_request") => {
                let reserved = data["reserved_usd"]
                    .as_f64()
                    .filter(|r| r.is_finite() && *r > 0.0);
                if let (Some(id), Some(reserved)) = (exchange, reserved) {
                    open.insert(id.to_owned(), reserved);
                }
                return;
            }
            Some("llm_response" | "http_response") => {}
            _ => return,
        }
        if let Some(id) = exchange {
            open.remove(id);
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
    fn charge_unanswered(&mut self, open: HashMap<String, f64>) {
        for reserved in open.into_values() {
            self.unanswered += 1;
            self.unanswered_usd += reserved;
            self.spent += reserved;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(r.skipped_lines, [3, 6]);
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
        assert_eq!(r.skipped_lines, [1, 3]);
    }
}
