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
//!
//! Storage is sparse: one count per (series, bucket) pair actually seen, and each series
//! name once. So memory grows with the distinct keys and the pairs seen, never with buckets
//! times series (10,000 flags, each in its own one-second bucket, are 10,000 counts, not
//! 10^8). Only the report is dense, for the at most [`MAX_SERIES_PER_GROUP`] + 1 series per
//! group it keeps.

use std::collections::BTreeSet;
use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashMap, HashTable};

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
    /// Group names (`status`, `flag`, ...), each once: there are a handful.
    groups: Vec<Box<str>>,
    /// Each series by id: the index of its group and its key.
    names: Vec<(usize, Box<str>)>,
    /// Series ids, found by the hash of group and key (the names are stored once, in
    /// `names`, not again as map keys).
    index: HashTable<usize>,
    hasher: DefaultHashBuilder,
    /// Starts of the buckets that hold anything, ascending.
    starts: BTreeSet<i64>,
    /// The count of each (series, bucket start) pair seen.
    cells: HashMap<(usize, i64), u64>,
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
            groups: Vec::new(),
            names: Vec::new(),
            index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            starts: BTreeSet::new(),
            cells: HashMap::new(),
        }
    }

    /// The id of series `group:key`, made on first use.
    pub(crate) fn series(&mut self, group: &str, key: &str) -> usize {
        if let Some(id) = self.lookup(group, key) {
            return id;
        }
        let g = match self.groups.iter().position(|g| **g == *group) {
            Some(g) => g,
            None => {
                self.groups.push(group.into());
                self.groups.len() - 1
            }
        };
        let id = self.names.len();
        self.names.push((g, key.into()));
        let (names, groups, hasher) = (&self.names, &self.groups, &self.hasher);
        let rehash = |&i: &usize| name_hash(hasher, names, groups, i);
        self.index
            .insert_unique(hasher.hash_one((group, key)), id, rehash);
        id
    }

    fn lookup(&self, group: &str, key: &str) -> Option<usize> {
        let h = self.hasher.hash_one((group, key));
        self.index
            .find(h, |&i| self.name(i) == Some((group, key)))
            .copied()
    }

    /// Group and key of series `id`.
    fn name(&self, id: usize) -> Option<(&str, &str)> {
        let (g, key) = self.names.get(id)?;
        Some((self.groups.get(*g)?, key))
    }

    /// The start of the bucket holding `ts`.
    pub(crate) fn bucket_of(&self, ts: i64) -> i64 {
        ts.div_euclid(self.width) * self.width
    }

    /// Adds `n` to series `id` at time `ts` (Unix seconds).
    pub(crate) fn add(&mut self, ts: i64, id: usize, n: u64) {
        let start = self.bucket_of(ts);
        self.starts.insert(start);
        let v = self.cells.entry((id, start)).or_default();
        *v = v.saturating_add(n);
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
        match (self.starts.first(), self.starts.last()) {
            (Some(first), Some(last)) => (last - first) / self.width + 1,
            _ => 0,
        }
    }

    /// Widens the buckets to `width` (a multiple of the current width), merging counts.
    fn rebucket(&mut self, width: i64) {
        self.width = width;
        let align = |start: i64| start.div_euclid(width) * width;
        self.starts = std::mem::take(&mut self.starts)
            .into_iter()
            .map(align)
            .collect();
        let old = std::mem::take(&mut self.cells);
        self.cells.reserve(old.len());
        for ((id, start), n) in old {
            let v = self.cells.entry((id, align(start))).or_default();
            *v = v.saturating_add(n);
        }
    }

    /// Makes `other`'s width this one's (the larger of the two, when automatic) and adds its
    /// counts.
    pub(crate) fn merge(&mut self, other: &Timeline) {
        if other.width > self.width {
            self.rebucket(other.width);
        }
        for start in &other.starts {
            self.starts.insert(self.bucket_of(*start));
        }
        let mut mine: Vec<Option<usize>> = vec![None; other.names.len()];
        for (&(id, start), &n) in &other.cells {
            let Some((group, key)) = other.name(id) else {
                continue;
            };
            let id = match mine.get(id).copied().flatten() {
                Some(m) => m,
                None => {
                    let m = self.series(group, key);
                    if let Some(slot) = mine.get_mut(id) {
                        *slot = Some(m);
                    }
                    m
                }
            };
            let target = self.bucket_of(start);
            let v = self.cells.entry((id, target)).or_default();
            *v = v.saturating_add(n);
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
        self.cells.get(&(id, start)).copied().unwrap_or(0)
    }

    /// For each series of `group` non-zero somewhere: its key and the starts of the buckets
    /// where it is non-zero, with the counts, ascending. One pass over the counts, whatever
    /// the number of series.
    pub(crate) fn active(&self, group: &str) -> Vec<(&str, Vec<(i64, u64)>)> {
        let Some(g) = self.groups.iter().position(|x| **x == *group) else {
            return Vec::new();
        };
        let mut by_id: HashMap<usize, Vec<(i64, u64)>> = HashMap::new();
        for (&(id, start), &n) in &self.cells {
            if n > 0 && self.names.get(id).is_some_and(|(gi, _)| *gi == g) {
                by_id.entry(id).or_default().push((start, n));
            }
        }
        by_id
            .into_iter()
            .filter_map(|(id, mut list)| {
                list.sort_unstable();
                Some((self.name(id)?.1, list))
            })
            .collect()
    }

    /// The start of the first bucket, if any.
    pub(crate) fn first(&self) -> Option<i64> {
        self.starts.first().copied()
    }

    /// The report: non-empty buckets and the series, sorted by group and key, at most
    /// [`MAX_SERIES_PER_GROUP`] per group (largest totals; the rest under `(other)`).
    pub(crate) fn report(&self) -> TimelineReport {
        let t: Vec<i64> = self.starts.iter().copied().collect();
        let mut totals = vec![0u64; self.names.len()];
        for (&(id, _), &n) in &self.cells {
            if let Some(total) = totals.get_mut(id) {
                *total = total.saturating_add(n);
            }
        }
        // Per series: its row in the report (a kept series, or its group's `(other)`).
        let mut row: Vec<usize> = vec![usize::MAX; self.names.len()];
        let mut rows: Vec<Series> = Vec::new();
        for (g, group) in self.groups.iter().enumerate() {
            let mut ids: Vec<usize> = (0..self.names.len())
                .filter(|&id| self.names.get(id).is_some_and(|(gi, _)| *gi == g))
                .collect();
            let key = |id: usize| self.names.get(id).map_or("", |(_, k)| &**k);
            let total = |id: usize| totals.get(id).copied().unwrap_or(0);
            let capped = ids.len() > MAX_SERIES_PER_GROUP;
            if capped {
                ids.sort_by(|&a, &b| total(b).cmp(&total(a)).then(key(a).cmp(key(b))));
                let other = rows.len() + MAX_SERIES_PER_GROUP;
                for &id in ids.get(MAX_SERIES_PER_GROUP..).unwrap_or(&[]) {
                    if let Some(r) = row.get_mut(id) {
                        *r = other;
                    }
                }
                ids.truncate(MAX_SERIES_PER_GROUP);
            }
            for (i, &id) in ids.iter().enumerate() {
                if let Some(r) = row.get_mut(id) {
                    *r = rows.len() + i;
                }
            }
            let series = |key: &str| Series {
                group: group.to_string(),
                key: key.to_owned(),
                values: vec![0; t.len()],
            };
            rows.extend(ids.iter().map(|&id| series(key(id))));
            if capped {
                rows.push(series("(other)"));
            }
        }
        for (&(id, start), &n) in &self.cells {
            let (Some(&r), Ok(at)) = (row.get(id), t.binary_search(&start)) else {
                continue;
            };
            if let Some(v) = rows.get_mut(r).and_then(|s| s.values.get_mut(at)) {
                *v = v.saturating_add(n);
            }
        }
        rows.sort_by(|a, b| (&a.group, &a.key).cmp(&(&b.group, &b.key)));
        TimelineReport {
            bucket_seconds: self.width,
            t,
            series: rows,
        }
    }
}

/// The hash of series `id`'s group and key, as [`Timeline::lookup`] computes it.
fn name_hash(
    hasher: &DefaultHashBuilder,
    names: &[(usize, Box<str>)],
    groups: &[Box<str>],
    id: usize,
) -> u64 {
    let (g, key) = names.get(id).map_or((0, ""), |(g, k)| (*g, &**k));
    let group = groups.get(g).map_or("", |g| &**g);
    hasher.hash_one((group, key))
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

    #[test]
    fn storage_grows_with_pairs_seen_not_buckets_times_series() {
        let mut t = Timeline::new(Some(1));
        for i in 0..5_000i64 {
            let id = t.series("flag", &format!("f{i}"));
            t.add(1_700_000_000 + i, id, 1);
        }
        // Dense storage would hold 5,000 buckets x 5,000 series.
        assert_eq!(t.cells.len(), 5_000);
        assert_eq!(t.starts.len(), 5_000);
        assert_eq!(t.names.len(), 5_000);
        assert_eq!(t.groups.len(), 1);
        let report = t.report();
        assert_eq!(report.series.len(), MAX_SERIES_PER_GROUP + 1);
        let other = report.series.iter().find(|s| s.key == "(other)");
        let other_total: u64 = other.map_or(0, |s| s.values.iter().sum());
        assert_eq!(other_total, 5_000 - MAX_SERIES_PER_GROUP as u64);
        assert_eq!(t.active("flag").len(), 5_000);
    }

    #[test]
    fn merging_halves_gives_the_whole() {
        let fill = |t: &mut Timeline, range: std::ops::Range<i64>| {
            for i in range {
                let id = t.series("status", if i % 3 == 0 { "error" } else { "ok" });
                t.add(1_700_000_000 + i * 37, id, 1);
                let id = t.series("flag", &format!("f{}", i % 90));
                t.add(1_700_000_000 + i * 37, id, 2);
            }
        };
        let mut whole = Timeline::new(None);
        fill(&mut whole, 0..4_000);
        let (mut a, mut b) = (Timeline::new(None), Timeline::new(None));
        fill(&mut a, 0..1_000);
        fill(&mut b, 1_000..4_000);
        a.merge(&b);
        assert_eq!(a.report(), whole.report());
        assert_eq!(
            a.count("flag", "f7", a.first().unwrap_or(0)),
            whole.count("flag", "f7", whole.first().unwrap_or(0))
        );
    }
}
