//! The files of a ledger directory, by name. One place knows the names; the writer, the
//! retention and (later) the validator and the analyzer read them from here.
//!
//! ```text
//! DIR/
//!   events.jsonl                  the current UTC day (the day of its first record)
//!   events_YYYYMMDD.jsonl         an earlier day, in full (rotated at the first write of a new day)
//!   stats_YYYYMMDD.json           aggregates of a day 8-30 days old (retention)
//!   .lock                         the lock every writer and retention take (flock)
//!   archive/events_YYYYMMDD.jsonl.gz     a day's records, compressed (retention);
//!   archive/events_YYYYMMDD-N.jsonl.gz   N >= 1: records of that day archived by a later run
//!   archive/.staging/             records on their way into archive/ (retention, transient)
//!   *.tmp                         a file being written; never read, removed by retention
//! ```

use super::clock::Day;

/// The current day's file.
pub const CURRENT: &str = "events.jsonl";

/// The lock file.
pub const LOCK: &str = ".lock";

/// The archive directory.
pub const ARCHIVE: &str = "archive";

/// Where retention stages a day file before compressing it, inside [`ARCHIVE`].
pub const STAGING: &str = ".staging";

/// The suffix of a file being written.
pub const TMP_SUFFIX: &str = ".tmp";

/// `events_YYYYMMDD.jsonl`: a rotated day file.
pub fn day_file(day: Day) -> String {
    format!("events_{}.jsonl", day.compact())
}

/// The day of a rotated day file's name.
pub fn parse_day_file(name: &str) -> Option<Day> {
    Day::parse_compact(name.strip_prefix("events_")?.strip_suffix(".jsonl")?)
}

/// `stats_YYYYMMDD.json`: a day's aggregates.
pub fn stats_file(day: Day) -> String {
    format!("stats_{}.json", day.compact())
}

/// The day of a stats file's name.
pub fn parse_stats_file(name: &str) -> Option<Day> {
    Day::parse_compact(name.strip_prefix("stats_")?.strip_suffix(".json")?)
}

/// The stem of archive part `part` of `day`: `events_YYYYMMDD` for part 0,
/// `events_YYYYMMDD-N` after. The staged file is the stem + `.jsonl`, the part the stem +
/// `.jsonl.gz`.
pub fn part_stem(day: Day, part: u32) -> String {
    match part {
        0 => format!("events_{}", day.compact()),
        n => format!("events_{}-{n}", day.compact()),
    }
}

/// The day and part number of an archive part's or a staged file's stem.
pub fn parse_part_stem(stem: &str) -> Option<(Day, u32)> {
    let rest = stem.strip_prefix("events_")?;
    let (day, part) = match rest.split_once('-') {
        None => (rest, 0),
        Some((day, n)) => {
            let part: u32 = n.parse().ok().filter(|&p| p > 0)?;
            // No sign, no leading zero: exactly one spelling per number.
            if n.starts_with(['0', '+']) {
                return None;
            }
            (day, part)
        }
    };
    Some((Day::parse_compact(day)?, part))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        let day = Day::parse_compact("20261123").unwrap();
        assert_eq!(day_file(day), "events_20261123.jsonl");
        assert_eq!(parse_day_file("events_20261123.jsonl"), Some(day));
        assert_eq!(parse_day_file("events_2026-11-23.jsonl"), None);
        assert_eq!(parse_day_file("events.jsonl"), None);
        assert_eq!(parse_stats_file(&stats_file(day)), Some(day));
        for part in [0, 1, 17] {
            assert_eq!(parse_part_stem(&part_stem(day, part)), Some((day, part)));
        }
        for bad in [
            "events_20261123-0",
            "events_20261123-01",
            "events_20261123-+1",
            "events_20261123-",
        ] {
            assert_eq!(parse_part_stem(bad), None, "{bad}");
        }
    }
}
