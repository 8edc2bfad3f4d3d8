//! Exchange ids: one per request the proxy serves, taken before its first event is written
//! and written on every event of the exchange (`data.exchange_id`: the gate and route
//! decisions, key injections or the request transform, leaks, the budget's events, the
//! request and response events, the usage transform), so that an exchange's events are
//! found together in the log without following timestamps, `agentlog validate` can pair a
//! request with its response, and spend restored at start-up can tell a request that was
//! never answered (the proxy was killed mid-exchange) from one that was.
//!
//! An id is `<start>-<n>`: the proxy's start time in nanoseconds since the Unix epoch, in
//! hex, and a counter from 1. Two runs of the proxy on one log start at different
//! nanoseconds (one gate per log holds at a time), so ids never repeat within a log. A
//! request that writes no event leaves its number unused.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Hands out exchange ids.
#[derive(Debug)]
pub(super) struct ExchangeIds {
    start: String,
    next: AtomicU64,
}

impl ExchangeIds {
    /// Ids of a proxy starting now.
    pub(super) fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        ExchangeIds {
            start: format!("{nanos:x}"),
            next: AtomicU64::new(1),
        }
    }

    /// The next id.
    pub(super) fn next(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n}", self.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_and_share_the_start() {
        let ids = ExchangeIds::new();
        let (a, b) = (ids.next(), ids.next());
        assert_ne!(a, b);
        assert_eq!(
            a.split_once('-').map(|p| p.0),
            b.split_once('-').map(|p| p.0)
        );
        assert!(a.ends_with("-1") && b.ends_with("-2"), "{a} {b}");
    }
}
