//! Event timestamps, written byte-for-byte as Go's `time.RFC3339Nano` writes them.
//!
//! The reference sandbox stamps events with `time.Now().UTC()` and encodes them with
//! `encoding/json`, which uses RFC 3339 with nanoseconds and drops trailing zeros of the
//! fraction (`2026-02-24T23:03:10.78752Z`); a whole second has no fraction at all. Parsing
//! accepts any RFC 3339 date-time with an offset, so logs from other writers round-trip.
// `write_to` fills a fixed `[u8; MAX_LEN]` with at most MAX_LEN bytes of digits and
// punctuation (the longest RFC3339Nano form); no index comes from the input.
#![allow(clippy::indexing_slicing)]

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The longest text [`Timestamp`] writes: `-YYYY` years are not RFC 3339, so a 4-digit year,
/// nanoseconds and a `+hh:mm` offset: `2006-01-02T15:04:05.999999999+07:00`.
pub(crate) const MAX_LEN: usize = 35;

/// A point in time with the offset it was written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

/// Why a timestamp was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// The text is not an RFC 3339 date-time with an offset.
    #[error("not an RFC 3339 date-time with offset (expected e.g. 2026-02-24T23:02:34.123851Z)")]
    NotRfc3339,
    /// The year cannot be written in the four digits RFC 3339 allows.
    #[error("year {0} is outside 0000..=9999")]
    YearOutOfRange(i32),
}

impl Timestamp {
    /// The current time in UTC, as the reference emitter stamps it.
    pub fn now() -> Self {
        Timestamp(OffsetDateTime::now_utc())
    }

    /// Wraps a date-time; fails when its year cannot be written in RFC 3339.
    pub fn new(at: OffsetDateTime) -> Result<Self, TimestampError> {
        if (0..=9999).contains(&at.year()) {
            Ok(Timestamp(at))
        } else {
            Err(TimestampError::YearOutOfRange(at.year()))
        }
    }

    /// Parses an RFC 3339 date-time with an offset (`Z`, `+hh:mm` or `-hh:mm`).
    ///
    /// ```
    /// use agentlog_core::event::Timestamp;
    /// let ts = Timestamp::parse("2026-02-24T23:03:10.787520Z").unwrap();
    /// assert_eq!(ts.to_string(), "2026-02-24T23:03:10.78752Z");
    /// assert!(Timestamp::parse("2026-02-24 23:03:10").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        // RFC 3339 section 5.6 allows `T` or `t` between date and time; `time`'s parser is
        // laxer than that (it takes any byte there), so check the separator first.
        if !matches!(text.as_bytes().get(10), Some(b'T' | b't')) {
            return Err(TimestampError::NotRfc3339);
        }
        let at = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| TimestampError::NotRfc3339)?;
        Timestamp::new(at)
    }

    /// The wrapped date-time.
    pub fn as_offset_date_time(&self) -> OffsetDateTime {
        self.0
    }

    /// Writes the Go `RFC3339Nano` form into `out` and returns the used prefix.
    pub(crate) fn write_to<'b>(&self, out: &'b mut [u8; MAX_LEN]) -> &'b str {
        let t = self.0;
        let mut n = 0;
        let mut put = |bytes: &[u8]| {
            out[n..n + bytes.len()].copy_from_slice(bytes);
            n += bytes.len();
        };
        let year = t.year().clamp(0, 9999) as u32;
        put(&digits4(year));
        put(b"-");
        put(&digits2(u8::from(t.month()) as u32));
        put(b"-");
        put(&digits2(t.day() as u32));
        put(b"T");
        put(&digits2(t.hour() as u32));
        put(b":");
        put(&digits2(t.minute() as u32));
        put(b":");
        put(&digits2(t.second() as u32));
        let mut nanos = t.nanosecond();
        if nanos != 0 {
            let mut width = 9;
            while nanos.is_multiple_of(10) {
                nanos /= 10;
                width -= 1;
            }
            let mut frac = [b'0'; 10];
            frac[0] = b'.';
            let mut i = width;
            while nanos > 0 {
                frac[i] = b'0' + (nanos % 10) as u8;
                nanos /= 10;
                i -= 1;
            }
            put(&frac[..=width]);
        }
        let offset = t.offset();
        if offset.is_utc() {
            put(b"Z");
        } else {
            let (h, m, _) = offset.as_hms();
            put(if offset.is_negative() { b"-" } else { b"+" });
            put(&digits2(h.unsigned_abs() as u32));
            put(b":");
            put(&digits2(m.unsigned_abs() as u32));
        }
        // Only ASCII digits and punctuation were written.
        std::str::from_utf8(&out[..n]).unwrap_or_default()
    }
}

fn digits2(v: u32) -> [u8; 2] {
    [b'0' + (v / 10 % 10) as u8, b'0' + (v % 10) as u8]
}

fn digits4(v: u32) -> [u8; 4] {
    [
        b'0' + (v / 1000 % 10) as u8,
        b'0' + (v / 100 % 10) as u8,
        b'0' + (v / 10 % 10) as u8,
        b'0' + (v % 10) as u8,
    ]
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; MAX_LEN];
        f.write_str(self.write_to(&mut buf))
    }
}

impl From<Timestamp> for OffsetDateTime {
    fn from(ts: Timestamp) -> Self {
        ts.0
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; MAX_LEN];
        serializer.serialize_str(self.write_to(&mut buf))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_rfc3339nano_forms() {
        for (input, written) in [
            ("2026-02-24T23:02:34.123851Z", "2026-02-24T23:02:34.123851Z"),
            (
                "2026-02-24T23:03:10.787520000Z",
                "2026-02-24T23:03:10.78752Z",
            ),
            ("2026-02-24T23:03:10.000000000Z", "2026-02-24T23:03:10Z"),
            (
                "2026-02-24T23:03:10.000000001Z",
                "2026-02-24T23:03:10.000000001Z",
            ),
            ("2026-02-24T23:03:10.5+02:00", "2026-02-24T23:03:10.5+02:00"),
            ("2026-02-24T23:03:10-05:30", "2026-02-24T23:03:10-05:30"),
            ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
        ] {
            assert_eq!(
                Timestamp::parse(input).unwrap().to_string(),
                written,
                "{input}"
            );
        }
    }

    #[test]
    fn refuses_non_rfc3339() {
        for bad in [
            "",
            "2026-02-24",
            "2026-02-24T23:03:10",
            "2026-02-24 23:03:10Z",
            "2026-13-24T23:03:10Z",
            "1708200000",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
