//! Time for the ledger: a [`Clock`] to stamp records (injectable, so tests and the CLI's
//! `--now` can place writes on either side of midnight) and the UTC [`Day`] that names the
//! day files.

use std::fmt;
use std::str::FromStr;

use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime};

use super::record::MAX_TS;

/// Where the ledger gets the current time from.
pub trait Clock: Send + Sync {
    /// The current time. Called once per record, before the record is written.
    fn now(&self) -> OffsetDateTime;
}

/// The system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that always reads the same time (the CLI's `--now`).
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub OffsetDateTime);

/// A time that is neither RFC 3339 nor whole Unix seconds in range. The message does not
/// repeat the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expected an RFC 3339 time (2026-11-23T23:59:59Z) or whole Unix seconds (1795478399)")]
pub struct TimeParseError;

impl FromStr for FixedClock {
    type Err = TimeParseError;

    /// RFC 3339 (`2026-11-23T23:59:59Z`, any offset) or whole Unix seconds (`1795478399`):
    /// the forms the CLI's `--now` takes.
    ///
    /// ```
    /// use agentlog_core::ledger::{Clock, FixedClock};
    /// let a: FixedClock = "2026-11-23T23:59:59Z".parse()?;
    /// let b: FixedClock = "1795478399".parse()?;
    /// assert_eq!(a.now(), b.now());
    /// assert!("yesterday".parse::<FixedClock>().is_err());
    /// # Ok::<(), agentlog_core::ledger::clock::TimeParseError>(())
    /// ```
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Ok(seconds) = text.parse::<i64>() {
            return OffsetDateTime::from_unix_timestamp(seconds)
                .map(FixedClock)
                .map_err(|_| TimeParseError);
        }
        OffsetDateTime::parse(text, &Rfc3339)
            .map(FixedClock)
            .map_err(|_| TimeParseError)
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

impl<F: Fn() -> OffsetDateTime + Send + Sync> Clock for F {
    fn now(&self) -> OffsetDateTime {
        self()
    }
}

/// A UTC calendar day: what a day file (`events_YYYYMMDD.jsonl`) holds.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Day(Date);

impl Day {
    /// The UTC day of `ts` (Unix seconds); `None` outside 0..=[`MAX_TS`].
    pub fn of_ts(ts: i64) -> Option<Day> {
        if !(0..=MAX_TS).contains(&ts) {
            return None;
        }
        OffsetDateTime::from_unix_timestamp(ts)
            .ok()
            .map(|t| Day(t.date()))
    }

    /// The UTC day of an instant.
    pub fn of(at: OffsetDateTime) -> Day {
        Day(at.to_offset(time::UtcOffset::UTC).date())
    }

    /// The calendar date.
    pub fn date(self) -> Date {
        self.0
    }

    /// `YYYYMMDD`, as in the day file names; `None` outside years 0000..=9999.
    pub fn parse_compact(text: &str) -> Option<Day> {
        if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let year = text.get(0..4)?.parse().ok()?;
        let month: u8 = text.get(4..6)?.parse().ok()?;
        let day = text.get(6..8)?.parse().ok()?;
        let month = Month::try_from(month).ok()?;
        Date::from_calendar_date(year, month, day).ok().map(Day)
    }

    /// Whole days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Day) -> i64 {
        (later.0 - self.0).whole_days()
    }

    /// `YYYYMMDD`.
    pub fn compact(self) -> String {
        format!(
            "{:04}{:02}{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

impl fmt::Display for Day {
    /// `YYYY-MM-DD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

impl fmt::Debug for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Day({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_of_timestamps_and_names() {
        let day = Day::of_ts(1_795_452_720).unwrap();
        assert_eq!(day.compact(), "20261123");
        assert_eq!(day.to_string(), "2026-11-23");
        assert_eq!(Day::parse_compact("20261123"), Some(day));
        // The last second of a day, and the first of the next.
        let midnight = 1_795_478_400; // 2026-11-24T00:00:00Z
        assert_eq!(Day::of_ts(midnight - 1), Some(day));
        assert_eq!(Day::of_ts(midnight).unwrap().compact(), "20261124");
        assert_eq!(Day::of_ts(MAX_TS).unwrap().compact(), "99991231");
        assert_eq!(Day::of_ts(-1), None);
        assert_eq!(Day::of_ts(MAX_TS + 1), None);
        for bad in [
            "2026112",
            "202611230",
            "20261323",
            "20260230",
            "2026-11-",
            "+2026112",
        ] {
            assert_eq!(Day::parse_compact(bad), None, "{bad}");
        }
        assert_eq!(
            day.days_until(Day::of_ts(midnight + 86_400 * 7).unwrap()),
            8
        );
    }
}
