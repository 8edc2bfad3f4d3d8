//! Counts over time in fixed-width buckets.
//!
//! A `Timeline` holds named series (`status:error`, `flag:injection_attempt`, ...) of
//! counts per bucket. Bucket `t` covers `[t, t + width)` in Unix seconds, aligned on
//! multiples of the width (UTC). The width is either given (`--bucket`) or **automatic**: it
//! starts at one second and, whenever the span from the first to the last bucket would need
//! more than [`AUTO_MAX_BUCKETS`] buckets, moves up the ladder 1 s, 10 s, 1 min, 5 min,
//! 15 min, 1 h, 6 h, 1 day, 7 days, 30 days and merges what it has. The result does not depend
//! on the order of the records, nor on how the input was split between threads (widths nest:
//! each one is a multiple of the one before, so merging buckets never splits one). The report
//! keeps, per group of series named after data (a tool, a host), the [`MAX_SERIES_PER_GROUP`]
//! series with the largest totals and adds the rest up into the group's `(other)` series.

use std::collections::BTreeMap;

use hashbrown::HashMap;

use serde::Serialize;

/// Most buckets an automatic width allows between the first and the last bucket.
pub const AUTO_MAX_BUCKETS: i64 = 500;

/// Most series per group in a report (`failure`, `flag`, `requests`, ...); the rest are added
/// up under `(other)`.
pub const MAX_SERIES_PER_GROUP: usize = 64;

/// Widths an automatic timeline moves through, in seconds: 1 s, 10 s, 1 min, 5 min, 15 min,
/// 1 h, 6 h, 1 day, 7 days, 28 days, 364 days; each a multiple of the one before.
const LADDER: [i64; 11] = [
    1, 10, 60, 300, 900, 3600, 21_600, 86_400, 604_800, 2_419_200, 31_449_600,
];

/// One series of a [`TimelineReport`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Series {
    /// What is counted: `status`, `failure`, `flag`, `requests`, `tokens`, ...
    pub group: String,
    /// Which one: a status, `tool/error_class`, a flag, a host, `input`, ...
    pub key: String,
    /// One value per entry of [`TimelineReport::t`].
    pub values: Vec<u64>,
}

/// Counts over time: the buckets that hold anything, and one value per bucket per series.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TimelineReport {
    /// Bucket width in seconds.
    pub bucket_seconds: i64,
    /// Start of each non-empty bucket, Unix seconds, ascending (empty buckets are left out:
    /// a missing bucket counts zero in every series).
    pub t: Vec<i64>,
    /// The series, sorted by group and key.
    pub series: Vec<Series>,
}

/// A timeline being filled.
#[derive(Debug)]
pub(crate) struct Timeline {
    width: i64,
    fixed: bool,
    ids: HashMap<String, HashMap<String, usize>>,
    names: Vec<(String, String)>,
    buckets: BTreeMap<i64, Vec<u64>>,
}

impl Timeline {
    /// A timeline with a fixed width in seconds, or an automatic one (`None`).
    pub(crate) fn new(width: Option<u64>) -> Self {
        let fixed = width.is_some();
        let width = width
            .map(|w| i64::try_from(w.max(1)).unwrap_or(i64::MAX))
            .unwrap_or(1);
        Timeline {
            width,
            fixed,
            ids: HashMap::new(),
            names: Vec::new(),
            buckets: BTreeMap::new(),
        }
    }

    /// The id of series `group:key`, made on first use.
    pub(crate) fn series(&mut self, group: &str, key: &str) -> usize {
        if let Some(id) = self.lookup(group, key) {
            return id;
        }
        let id = self.names.len();
        self.names.push((group.to_owned(), key.to_owned()));
        self.ids
            .entry(group.to_owned())
            .or_default()
            .insert(key.to_owned(), id);
        id
    }

    fn lookup(&self, group: &str, key: &str) -> Option<usize> {
        self.ids.get(group)?.get(key).copied()
    }

    /// The start of the bucket holding `ts`.
    pub(crate) fn bucket_of(&self, ts: i64) -> i64 {
        ts.div_euclid(self.width) * self.width
    }

    /// Adds `n` to series `id` at time `ts` (Unix seconds).
    pub(crate) fn add(&mut self, ts: i64, id: usize, n: u64) {
        let start = self.bucket_of(ts);
        let values = self.buckets.entry(start).or_default();
        if values.len() <= id {
            values.resize(id + 1, 0);
        }
        if let Some(v) = values.get_mut(id) {
            *v += n;
        }
        if !self.fixed {
            self.fit();
        }
    }

    /// Moves an automatic width up the ladder until the span fits.
    fn fit(&mut self) {
        while self.span() > AUTO_MAX_BUCKETS {
            let Some(next) = LADDER.iter().copied().find(|w| *w > self.width) else {
                return;
            };
            self.rebucket(next);
        }
    }

    fn span(&self) -> i64 {
        match (self.buckets.keys().next(), self.buckets.keys().next_back()) {
            (Some(first), Some(last)) => (last - first) / self.width + 1,
            _ => 0,
        }
    }

    fn rebucket(&mut self, width: i64) {
        self.width = width;
        let old = std::mem::take(&mut self.buckets);
        for (start, values) in old {
            let merged = self
                .buckets
                .entry(start.div_euclid(width) * width)
                .or_default();
            add_values(merged, &values);
        }
    }

    /// Makes `other`'s width this one's (the larger of the two, when automatic) and adds its
    /// counts.
    pub(crate) fn merge(&mut self, other: &Timeline) {
        if other.width > self.width {
            self.rebucket(other.width);
        }
        for (start, values) in &other.buckets {
            let mut mapped = Vec::new();
            for (id, v) in values.iter().enumerate() {
                if let Some((group, key)) = other.names.get(id) {
                    let mine = self.series(group, key);
                    if mapped.len() <= mine {
                        mapped.resize(mine + 1, 0);
                    }
                    if let Some(slot) = mapped.get_mut(mine) {
                        *slot += v;
                    }
                }
            }
            let target = self.bucket_of(*start);
            add_values(self.buckets.entry(target).or_default(), &mapped);
        }
        if !self.fixed {
            self.fit();
        }
    }

    /// The width in seconds.
    pub(crate) fn width(&self) -> i64 {
        self.width
    }

    /// The count of series `group:key` in the bucket starting at `start`.
    pub(crate) fn count(&self, group: &str, key: &str, start: i64) -> u64 {
        let Some(id) = self.lookup(group, key) else {
            return 0;
        };
        self.buckets
            .get(&start)
            .and_then(|values| values.get(id))
            .copied()
            .unwrap_or(0)
    }

    /// Starts of the non-empty buckets where series `group:key` is non-zero, ascending.
    pub(crate) fn active(&self, group: &str, key: &str) -> Vec<(i64, u64)> {
        let Some(id) = self.lookup(group, key) else {
            return Vec::new();
        };
        self.buckets
            .iter()
            .filter_map(|(start, values)| values.get(id).filter(|v| **v > 0).map(|v| (*start, *v)))
            .collect()
    }

    /// The start of the first bucket, if any.
    pub(crate) fn first(&self) -> Option<i64> {
        self.buckets.keys().next().copied()
    }

    /// The report: non-empty buckets and the series, sorted by group and key, at most
    /// [`MAX_SERIES_PER_GROUP`] per group (largest totals; the rest under `(other)`).
    pub(crate) fn report(&self) -> TimelineReport {
        let t: Vec<i64> = self.buckets.keys().copied().collect();
        let mut groups: BTreeMap<&str, Vec<Series>> = BTreeMap::new();
        for (id, (group, key)) in self.names.iter().enumerate() {
            let values = self
                .buckets
                .values()
                .map(|v| v.get(id).copied().unwrap_or(0))
                .collect();
            groups.entry(group).or_default().push(Series {
                group: group.clone(),
                key: key.clone(),
                values,
            });
        }
        let mut series = Vec::new();
        for (_, mut list) in groups {
            if list.len() > MAX_SERIES_PER_GROUP {
                let total = |s: &Series| s.values.iter().sum::<u64>();
                list.sort_by(|a, b| total(b).cmp(&total(a)).then(a.key.cmp(&b.key)));
                let rest = list.split_off(MAX_SERIES_PER_GROUP);
                if let Some(first) = rest.first() {
                    let mut other = Series {
                        group: first.group.clone(),
                        key: "(other)".to_owned(),
                        values: vec![0; t.len()],
                    };
                    for s in &rest {
                        add_values(&mut other.values, &s.values);
                    }
                    list.push(other);
                }
            }
            list.sort_by(|a, b| a.key.cmp(&b.key));
            series.extend(list);
        }
        TimelineReport {
            bucket_seconds: self.width,
            t,
            series,
        }
    }
}

fn add_values(into: &mut Vec<u64>, from: &[u64]) {
    if into.len() < from.len() {
        into.resize(from.len(), 0);
    }
    for (slot, v) in into.iter_mut().zip(from) {
        *slot += v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_width_grows_with_the_span_and_keeps_the_counts() {
        let mut t = Timeline::new(None);
        let s = t.series("status", "success");
        for i in 0..10_000 {
            t.add(1_700_000_000 + i * 7, s, 1);
        }
        let report = t.report();
        assert!((report.t.len() as i64) <= AUTO_MAX_BUCKETS);
        assert_eq!(report.bucket_seconds, 300);
        let total: u64 = report.series.iter().flat_map(|s| &s.values).sum();
        assert_eq!(total, 10_000);
    }

    #[test]
    fn fixed_width_and_group_cap() {
        let mut t = Timeline::new(Some(3600));
        for i in 0..(MAX_SERIES_PER_GROUP + 5) {
            let id = t.series("host", &format!("h{i}"));
            t.add(7200 + 5, id, 1);
        }
        let report = t.report();
        assert_eq!(report.t, vec![7200]);
        assert_eq!(report.series.len(), MAX_SERIES_PER_GROUP + 1);
        let other = report
            .series
            .iter()
            .find(|s| s.key == "(other)")
            .map(|s| s.values.clone());
        assert_eq!(other, Some(vec![5]));
    }
}
