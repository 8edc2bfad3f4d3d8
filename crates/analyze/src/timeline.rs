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

use hashbrown::HashMap;

use crate::names::{NameId, Names, OVERFLOW};

use serde::Serialize;

/// Most buckets an automatic width allows between the first and the last bucket.
pub const AUTO_MAX_BUCKETS: i64 = 500;

/// Most series per group in a report (`failure`, `flag`, `requests`, ...); the rest are added
/// up under `(other)`.
pub const MAX_SERIES_PER_GROUP: usize = 64;

/// Most buckets a report spans: a finer width (`--bucket 1s` over three days) is counted as
/// given, and the report adds its buckets up into wider ones, so the report stays a few
/// megabytes whatever the width.
pub const MAX_REPORT_BUCKETS: i64 = 2000;

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
    /// Bucket width in seconds of this report: the width counted in
    /// ([`TimelineReport::counted_bucket_seconds`]), or, when that would need more than
    /// [`MAX_REPORT_BUCKETS`] buckets, the smallest multiple of it in 1-2-5 steps that does not.
    pub bucket_seconds: i64,
    /// The width the records were counted in (`--bucket`, or the automatic width): the
    /// buckets the spike rule looks at.
    pub counted_bucket_seconds: i64,
    /// Start of each non-empty bucket, Unix seconds, ascending (empty buckets are left out:
    /// a missing bucket counts zero in every series).
    pub t: Vec<i64>,
    /// The series, sorted by group and key.
    pub series: Vec<Series>,
}

/// A series of a [`Timeline`]: its group, and its key among the group's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SeriesId {
    group: u32,
    key: NameId,
}

impl SeriesId {
    /// The key's id among its group's names.
    pub(crate) fn key(self) -> NameId {
        self.key
    }
}

/// The series of one group, by key.
#[derive(Debug)]
struct Group {
    name: Box<str>,
    keys: Names,
}

/// A timeline being filled.
#[derive(Debug)]
pub(crate) struct Timeline {
    width: i64,
    fixed: bool,
    /// The groups (`status`, `flag`, ...), each with its keys stored once: there are a
    /// handful of groups, and keys are found by hash within theirs.
    groups: Vec<Group>,
    /// Starts of the buckets that hold anything, ascending.
    starts: BTreeSet<i64>,
    /// The count of each (series, bucket start) pair seen.
    cells: HashMap<(SeriesId, i64), u64>,
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
            starts: BTreeSet::new(),
            cells: HashMap::new(),
        }
    }

    /// The id of series `group:key`, made on first use.
    pub(crate) fn series(&mut self, group: &str, key: &str) -> SeriesId {
        let g = self.group_index(group);
        let key = self.groups.get_mut(g).map_or(OVERFLOW, |g| g.keys.id(key));
        SeriesId {
            group: u32::try_from(g).unwrap_or(u32::MAX),
            key,
        }
    }

    /// The index of `group`, made on first use.
    fn group_index(&mut self, group: &str) -> usize {
        match self.groups.iter().position(|g| *g.name == *group) {
            Some(g) => g,
            None => {
                self.groups.push(Group {
                    name: group.into(),
                    keys: Names::default(),
                });
                self.groups.len() - 1
            }
        }
    }

    /// The series of `group` whose key has id `key` (as [`SeriesId::key`] gave it).
    pub(crate) fn series_of(&mut self, group: &str, key: NameId) -> SeriesId {
        let g = self.group_index(group);
        SeriesId {
            group: u32::try_from(g).unwrap_or(u32::MAX),
            key,
        }
    }

    /// The text of key `key` of `group` (empty when there is none).
    pub(crate) fn key(&self, group: &str, key: NameId) -> &str {
        self.group(group).map_or("", |(_, g)| g.keys.get(key))
    }

    fn group(&self, name: &str) -> Option<(u32, &Group)> {
        let g = self.groups.iter().position(|g| *g.name == *name)?;
        Some((u32::try_from(g).ok()?, self.groups.get(g)?))
    }

    /// Group and key of series `id`.
    fn name(&self, id: SeriesId) -> Option<(&str, &str)> {
        let group = self.groups.get(id.group as usize)?;
        Some((&group.name, group.keys.get(id.key)))
    }

    /// The start of the bucket holding `ts`.
    pub(crate) fn bucket_of(&self, ts: i64) -> i64 {
        ts.div_euclid(self.width) * self.width
    }

    /// Adds `n` to series `id` at time `ts` (Unix seconds).
    pub(crate) fn add(&mut self, ts: i64, id: SeriesId, n: u64) {
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
        for (&(id, start), &n) in &other.cells {
            let Some((group, key)) = other.name(id) else {
                continue;
            };
            let id = self.series(group, key);
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

    /// The count of series `id` in the bucket starting at `start`.
    pub(crate) fn count(&self, id: SeriesId, start: i64) -> u64 {
        self.cells.get(&(id, start)).copied().unwrap_or(0)
    }

    /// Every non-zero count of `group`: the series' key and id, the bucket start and the
    /// count, in no particular order. One pass over the counts, whatever the number of
    /// series.
    pub(crate) fn cells<'t>(
        &'t self,
        group: &str,
    ) -> impl Iterator<Item = (&'t str, SeriesId, i64, u64)> + 't {
        let found = self.group(group);
        self.cells.iter().filter_map(move |(&(id, start), &n)| {
            let (g, group) = found?;
            (id.group == g && n > 0).then(|| (group.keys.get(id.key), id, start, n))
        })
    }

    /// The start of the first bucket, if any.
    pub(crate) fn first(&self) -> Option<i64> {
        self.starts.first().copied()
    }

    /// The report: non-empty buckets and the series, sorted by group and key, at most
    /// [`MAX_SERIES_PER_GROUP`] per group (largest totals; the rest under `(other)`).
    pub(crate) fn report(&self) -> TimelineReport {
        let width = self.report_width();
        let bucket = |start: i64| start.div_euclid(width) * width;
        let mut t: Vec<i64> = self.starts.iter().map(|&s| bucket(s)).collect();
        t.dedup();
        let mut totals: Vec<Vec<u64>> = self.groups.iter().map(|g| vec![0; g.keys.len()]).collect();
        for (&(id, _), &n) in &self.cells {
            let total = totals
                .get_mut(id.group as usize)
                .and_then(|g| g.get_mut(id.key as usize));
            if let Some(total) = total {
                *total = total.saturating_add(n);
            }
        }
        // Per group and key: its row in the report (a kept series, or its group's `(other)`).
        let mut rows: Vec<Series> = Vec::new();
        let row_of: Vec<Vec<usize>> = self
            .groups
            .iter()
            .zip(&totals)
            .map(|(group, totals)| group_rows(group, totals, t.len(), &mut rows))
            .collect();
        for (&(id, start), &n) in &self.cells {
            let row = row_of
                .get(id.group as usize)
                .and_then(|g| g.get(id.key as usize));
            let (Some(&r), Ok(at)) = (row, t.binary_search(&bucket(start))) else {
                continue;
            };
            if let Some(v) = rows.get_mut(r).and_then(|s| s.values.get_mut(at)) {
                *v = v.saturating_add(n);
            }
        }
        rows.sort_by(|a, b| (&a.group, &a.key).cmp(&(&b.group, &b.key)));
        TimelineReport {
            bucket_seconds: width,
            counted_bucket_seconds: self.width,
            t,
            series: rows,
        }
    }

    /// The width of the report's buckets: the counted width times the smallest of 1, 2, 5,
    /// 10, 20, 50, ... that keeps the span within [`MAX_REPORT_BUCKETS`].
    fn report_width(&self) -> i64 {
        let (Some(&first), Some(&last)) = (self.starts.first(), self.starts.last()) else {
            return self.width;
        };
        let span = last.saturating_sub(first);
        let mut decade: i64 = 1;
        loop {
            for step in [1, 2, 5] {
                let width = self.width.saturating_mul(decade.saturating_mul(step));
                // The buckets from first to last number at most span / width + 2.
                if span / width + 2 <= MAX_REPORT_BUCKETS || width == i64::MAX {
                    return width;
                }
            }
            decade = decade.saturating_mul(10);
        }
    }
}

/// Adds the report rows of one group to `rows` (the [`MAX_SERIES_PER_GROUP`] keys with the
/// largest totals, and `(other)` when there are more) and returns each key's row.
fn group_rows(group: &Group, totals: &[u64], buckets: usize, rows: &mut Vec<Series>) -> Vec<usize> {
    let key = |id: &NameId| group.keys.get(*id);
    let total = |id: &NameId| totals.get(*id as usize).copied().unwrap_or(0);
    let mut ids: Vec<NameId> = group.keys.iter().map(|(id, _)| id).collect();
    let capped = ids.len() > MAX_SERIES_PER_GROUP;
    let first = rows.len();
    let mut row_of = vec![first + MAX_SERIES_PER_GROUP; group.keys.len()];
    if capped {
        // Ties go to the name seen first, never to the name's text: a key withheld in the
        // report must not decide by its value which series are kept.
        ids.sort_by(|a, b| total(b).cmp(&total(a)).then(a.cmp(b)));
        ids.truncate(MAX_SERIES_PER_GROUP);
    }
    let series = |key: &str| Series {
        group: group.name.to_string(),
        key: key.to_owned(),
        values: vec![0; buckets],
    };
    for (i, id) in ids.iter().enumerate() {
        if let Some(r) = row_of.get_mut(*id as usize) {
            *r = first + i;
        }
        rows.push(series(key(id)));
    }
    if capped {
        rows.push(series(crate::ledger::OTHER));
    }
    row_of
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
        assert_eq!(t.groups.len(), 1);
        assert_eq!(t.groups.first().map(|g| g.keys.len()), Some(5_000));
        let report = t.report();
        assert_eq!(report.series.len(), MAX_SERIES_PER_GROUP + 1);
        let other = report.series.iter().find(|s| s.key == "(other)");
        let other_total: u64 = other.map_or(0, |s| s.values.iter().sum());
        assert_eq!(other_total, 5_000 - MAX_SERIES_PER_GROUP as u64);
        assert_eq!(t.cells("flag").count(), 5_000);
        assert_eq!(t.cells("status").count(), 0);
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
        let (f7a, f7w) = (a.series("flag", "f7"), whole.series("flag", "f7"));
        assert_eq!(
            a.count(f7a, a.first().unwrap_or(0)),
            whole.count(f7w, whole.first().unwrap_or(0))
        );
    }
}
