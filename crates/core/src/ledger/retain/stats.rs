//! [`DayStats`]: the aggregates of one day that replace its records in the ledger directory
//! (`stats_YYYYMMDD.json`) once the day is more than 7 days old.
//!
//! The aggregates of a day are always computed from all of its archived records at once,
//! never added to: a stats file names the archive parts it was computed from (`sources`),
//! and retention recomputes it whenever that set changes. So a rerun after a crash, or a day
//! that received late records, never counts a record twice.

use std::collections::BTreeMap;
use std::io::{self, BufRead};

use serde::{Deserialize, Serialize};

use crate::ledger::clock::Day;
use crate::ledger::record::ToolCall;

/// Aggregates of one day's tool calls.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DayStats {
    /// The UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// The archive parts the figures were computed from, relative to the ledger directory.
    pub sources: Vec<String>,
    /// How many records the day holds.
    pub records: u64,
    /// Lines that are not tool call records (not JSON, another record kind, a broken rule):
    /// counted, never silently skipped.
    pub invalid_lines: u64,
    /// Records per agent.
    pub by_agent: BTreeMap<String, u64>,
    /// Records per tool.
    pub by_tool: BTreeMap<String, u64>,
    /// Records per result status.
    pub by_result_status: BTreeMap<String, u64>,
    /// Records per error class (records without one are not counted here).
    pub by_error_class: BTreeMap<String, u64>,
    /// Records carrying each risk flag.
    pub by_risk_flag: BTreeMap<String, u64>,
    /// Distribution of `elapsed_ms`.
    pub elapsed_ms: Elapsed,
}

/// Percentiles of `elapsed_ms` by the nearest-rank method (the value at rank
/// `ceil(p/100 * n)` of the sorted values); all `None` for a day without records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Elapsed {
    /// Median.
    pub p50: Option<u64>,
    /// 95th percentile.
    pub p95: Option<u64>,
    /// Largest value.
    pub max: Option<u64>,
}

/// Accumulates [`DayStats`] line by line.
#[derive(Debug)]
pub(super) struct StatsBuilder {
    stats: DayStats,
    elapsed: Vec<u64>,
}

impl StatsBuilder {
    pub(super) fn new(day: Day, sources: Vec<String>) -> Self {
        StatsBuilder {
            stats: DayStats {
                day: day.to_string(),
                sources,
                ..DayStats::default()
            },
            elapsed: Vec::new(),
        }
    }

    /// Counts every line `reader` yields.
    pub(super) fn read(&mut self, reader: impl BufRead) -> io::Result<()> {
        for line in reader.split(b'\n') {
            self.line(&line?);
        }
        Ok(())
    }

    fn line(&mut self, line: &[u8]) {
        let record = serde_json::from_slice::<ToolCall>(line)
            .ok()
            .filter(|r| r.check().is_ok());
        let Some(r) = record else {
            self.stats.invalid_lines += 1;
            return;
        };
        let s = &mut self.stats;
        s.records += 1;
        *s.by_agent.entry(r.agent).or_default() += 1;
        *s.by_tool.entry(r.tool).or_default() += 1;
        *s.by_result_status
            .entry(r.result_status.as_str().to_owned())
            .or_default() += 1;
        if let Some(class) = r.error_class {
            *s.by_error_class.entry(class).or_default() += 1;
        }
        for flag in r.risk_flags {
            *s.by_risk_flag.entry(flag.as_str().to_owned()).or_default() += 1;
        }
        self.elapsed.push(r.elapsed_ms);
    }

    pub(super) fn finish(mut self) -> DayStats {
        self.elapsed.sort_unstable();
        self.stats.elapsed_ms = Elapsed {
            p50: nearest_rank(&self.elapsed, 50),
            p95: nearest_rank(&self.elapsed, 95),
            max: self.elapsed.last().copied(),
        };
        self.stats
    }
}

/// The `p`th percentile of sorted `values` by nearest rank.
fn nearest_rank(values: &[u64], p: u64) -> Option<u64> {
    let n = values.len() as u64;
    let rank = (p * n).div_ceil(100).max(1);
    values.get(usize::try_from(rank - 1).ok()?).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=20).collect();
        assert_eq!(nearest_rank(&v, 50), Some(10));
        assert_eq!(nearest_rank(&v, 95), Some(19));
        assert_eq!(nearest_rank(&[7], 95), Some(7));
        assert_eq!(nearest_rank(&[1, 2, 3, 4], 50), Some(2));
        assert_eq!(nearest_rank(&[], 50), None);
    }

    #[test]
    fn counts_records_and_invalid_lines() {
        let day = Day::parse_compact("20261123").unwrap();
        let mut b = StatsBuilder::new(day, vec!["archive/events_20261123.jsonl.gz".into()]);
        let text = concat!(
            r#"{"ts":1795452720,"session_id":"s","agent":"dev","tool":"exec","args_hash":"sha256:2bf46634ca4cd7c95d71febf7bcc5298f327c025fafcadcf182180ccf2c9844c","result_status":"denied","elapsed_ms":0,"error_class":null,"risk_flags":["path_denied"],"artifacts":[]}"#,
            "\n",
            r#"{"ts":1795452720,"session_id":"s","agent":"dev","tool":"fetch","args_hash":"sha256:2bf46634ca4cd7c95d71febf7bcc5298f327c025fafcadcf182180ccf2c9844c","result_status":"timeout","elapsed_ms":30000,"error_class":"TimeoutError","risk_flags":["timeout"],"artifacts":[]}"#,
            "\n",
            "not json\n",
            r#"{"ts":1795452720,"ts_iso":"x"}"#,
            "\n",
        );
        b.read(text.as_bytes()).unwrap();
        let s = b.finish();
        assert_eq!((s.records, s.invalid_lines), (2, 2));
        assert_eq!(s.by_agent["dev"], 2);
        assert_eq!(s.by_error_class.len(), 1);
        assert_eq!(s.by_risk_flag["timeout"], 1);
        assert_eq!(
            s.elapsed_ms,
            Elapsed {
                p50: Some(0),
                p95: Some(30000),
                max: Some(30000)
            }
        );
        assert_eq!(s.day, "2026-11-23");
    }
}
