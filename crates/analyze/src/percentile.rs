//! Exact latency percentiles over integer milliseconds.
//!
//! Every sample is counted in a histogram of exact values (value -> count), so memory grows
//! with the number of *distinct* durations, not with the number of records, and the result is
//! exact. Percentiles use the **nearest-rank** definition: the p-th percentile of n samples is
//! the sample of rank `ceil(p * n / 100)` (1-based) in ascending order, so it is always a value
//! that occurred. For n = 20, p50 is the 10th smallest and p95 the 19th smallest sample.

use hashbrown::HashMap;

use serde::Serialize;

/// Percentiles of one set of durations, in milliseconds (nearest rank, see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Percentiles {
    /// Samples counted.
    pub count: u64,
    /// Median: the sample of rank `ceil(n / 2)`.
    pub p50_ms: u64,
    /// The sample of rank `ceil(95 n / 100)`.
    pub p95_ms: u64,
    /// The largest sample.
    pub max_ms: u64,
    /// Arithmetic mean, rounded to 0.1 ms.
    pub mean_ms: f64,
}

/// Exact histogram of integer samples.
#[derive(Clone, Debug, Default)]
pub(crate) struct Histogram {
    counts: HashMap<u64, u64>,
    n: u64,
    sum: u128,
}

impl Histogram {
    /// Counts one sample.
    pub(crate) fn add(&mut self, value: u64) {
        *self.counts.entry(value).or_default() += 1;
        self.n += 1;
        self.sum += u128::from(value);
    }

    /// Adds every sample of `other`.
    pub(crate) fn merge(&mut self, other: &Histogram) {
        for (value, count) in &other.counts {
            *self.counts.entry(*value).or_default() += count;
        }
        self.n += other.n;
        self.sum += other.sum;
    }

    /// The percentiles, or `None` when there is no sample.
    pub(crate) fn percentiles(&self) -> Option<Percentiles> {
        if self.n == 0 {
            return None;
        }
        let mut sorted: Vec<(u64, u64)> = self.counts.iter().map(|(v, c)| (*v, *c)).collect();
        sorted.sort_unstable();
        let max_ms = sorted.last().map_or(0, |(v, _)| *v);
        let mean = self.sum as f64 / self.n as f64;
        Some(Percentiles {
            count: self.n,
            p50_ms: nearest_rank(&sorted, self.n, 50),
            p95_ms: nearest_rank(&sorted, self.n, 95),
            max_ms,
            mean_ms: (mean * 10.0).round() / 10.0,
        })
    }
}

/// The sample of rank `ceil(p * n / 100)` in `sorted` (value, count) pairs holding `n`
/// samples in all.
fn nearest_rank(sorted: &[(u64, u64)], n: u64, p: u64) -> u64 {
    let rank = (p * n).div_ceil(100).max(1);
    let mut seen = 0u64;
    for (value, count) in sorted {
        seen += count;
        if seen >= rank {
            return *value;
        }
    }
    sorted.last().map_or(0, |(v, _)| *v)
}

/// The nearest-rank p-th percentile of `samples` (any order); `None` when empty. The same
/// definition the reports use, for callers and tests that compute figures by hand.
///
/// ```
/// let samples: Vec<u64> = (1..=20).collect();
/// assert_eq!(agentlog_analyze::nearest_rank_percentile(&samples, 50), Some(10));
/// assert_eq!(agentlog_analyze::nearest_rank_percentile(&samples, 95), Some(19));
/// assert_eq!(agentlog_analyze::nearest_rank_percentile(&[7], 95), Some(7));
/// ```
pub fn nearest_rank_percentile(samples: &[u64], p: u64) -> Option<u64> {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = (p * sorted.len() as u64).div_ceil(100).max(1);
    sorted.get(usize::try_from(rank - 1).ok()?).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_matches_the_sorted_definition() {
        let samples = [5u64, 1, 9, 9, 3, 120, 7, 7, 7, 2, 40];
        let mut h = Histogram::default();
        samples.iter().for_each(|s| h.add(*s));
        let p = h.percentiles().expect("samples");
        assert_eq!(p.p50_ms, nearest_rank_percentile(&samples, 50).unwrap_or(0));
        assert_eq!(p.p95_ms, nearest_rank_percentile(&samples, 95).unwrap_or(0));
        assert_eq!((p.count, p.p50_ms, p.p95_ms, p.max_ms), (11, 7, 120, 120));
        assert!(Histogram::default().percentiles().is_none());
    }
}
