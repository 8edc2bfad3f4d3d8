//! The names of a ledger directory's files that sealing reads and writes, and their day.
//! The seal crate does not depend on `agentlog-core`; these are the names its
//! `ledger::layout` writes (docs/ledger.md).
//!
//! ```text
//! events.jsonl                          the current day (sealed when it rotates)
//! events_YYYYMMDD.jsonl(.seal)          a rotated day file and its seal
//! archive/events_YYYYMMDD.jsonl.gz      a day's records archived by retention
//! archive/events_YYYYMMDD-N.jsonl.gz    a later part of that day (N >= 1)
//! ```

/// The current day's file.
pub const CURRENT: &str = "events.jsonl";

/// A day as its file names spell it: `YYYYMMDD`, a real date.
pub(crate) fn parse_day(text: &str) -> Option<u32> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i32 = text.get(..4)?.parse().ok()?;
    let month: u8 = text.get(4..6)?.parse().ok()?;
    let day: u8 = text.get(6..)?.parse().ok()?;
    let month = time::Month::try_from(month).ok()?;
    time::Date::from_calendar_date(year, month, day).ok()?;
    text.parse().ok()
}

/// The day (`YYYYMMDD` as a number) of a rotated day file's name, `events_YYYYMMDD.jsonl`.
pub fn day_of_file(name: &str) -> Option<u32> {
    parse_day(name.strip_prefix("events_")?.strip_suffix(".jsonl")?)
}

/// The day of an archive part's path relative to the ledger directory,
/// `archive/events_YYYYMMDD.jsonl.gz` or `archive/events_YYYYMMDD-N.jsonl.gz` (N >= 1, no
/// leading zero).
pub fn day_of_archive_part(path: &str) -> Option<u32> {
    let stem = path
        .strip_prefix("archive/events_")?
        .strip_suffix(".jsonl.gz")?;
    let day = match stem.split_once('-') {
        None => stem,
        Some((day, n)) => {
            let valid = !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
                && !n.starts_with('0')
                && n.len() <= 9;
            if !valid {
                return None;
            }
            day
        }
    };
    parse_day(day)
}

/// The name of the day file of `day`.
pub(crate) fn day_file(day: u32) -> String {
    format!("events_{day:08}.jsonl")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_to_their_day() {
        assert_eq!(day_of_file("events_20261206.jsonl"), Some(20_261_206));
        assert_eq!(day_file(20_261_206), "events_20261206.jsonl");
        for bad in [
            "events_20261306.jsonl",
            "events_2026126.jsonl",
            "events.jsonl",
            "events_20261206.jsonl.seal",
        ] {
            assert_eq!(day_of_file(bad), None, "{bad}");
        }
        assert_eq!(
            day_of_archive_part("archive/events_20261206-2.jsonl.gz"),
            Some(20_261_206)
        );
        assert_eq!(
            day_of_archive_part("archive/events_20261206.jsonl.gz"),
            Some(20_261_206)
        );
        for bad in [
            "archive/events_20261206-0.jsonl.gz",
            "archive/events_20261206-.jsonl.gz",
            "events_20261206.jsonl.gz",
            "archive/../events_20261206.jsonl.gz",
        ] {
            assert_eq!(day_of_archive_part(bad), None, "{bad}");
        }
    }
}
