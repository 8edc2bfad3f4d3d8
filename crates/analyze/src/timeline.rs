//! Counts over time in fixed-width buckets.
//!
//! A `Timeline` holds named series (`status:error`, `flag:injection_attempt`, ...) of
//! counts per bucket. Bucket `t` covers `[t, t + width)` in Unix seconds, aligned on
//! multiples of the width (UTC). The width is either given (`--bucket`) or **automatic**: it
//! starts at one second and, whenever the span from the first to the last bucket would need
//! more than [`AUTO_MAX_BUCKETS`] buckets, moves up the ladder 1 s, 10 s, 1 min, 5 min,
//! 15 min, 1 h, 6 h, 1 day, 7 days, 28 days, 364 days and merges what it has. The result does not depend
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
//!
//! Beside the counts of the report, a timeline keeps the same counts for the HTML page in
//! buckets chosen by how many are *non-empty* (at most [`PAGE_MAX_BUCKETS`]), not by the span:
//! two runs months apart keep their seconds. The report's [`TimelineReport::segments`] cut them
//! at long gaps into at most [`MAX_SEGMENTS`] stretches, each in buckets fit for its own span,
//! which the page draws side by side instead of one axis with a sliver at each edge. The page's
//! widths move up the same ladder (times the `--bucket` width when one is given), so merging
//! never splits a bucket there either. They are left out of the JSON report. These counts are
//! stored like the report's (sparse, at most one per pair seen), so they at most double the
//! memory of the counts.

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

/// Most non-empty buckets the page's counts keep: past it, their width moves up the ladder.
pub const PAGE_MAX_BUCKETS: usize = 4000;

/// Most [`Segment`]s of a report: the longest gaps cut, the shorter ones stay.
pub const MAX_SEGMENTS: usize = 8;

/// Most buckets a [`Segment`] spans: its width is the smallest of [`SEGMENT_WIDTHS`] (or of
/// the page's ladder) that fits and is a multiple of the page's width.
pub const SEGMENT_BUCKETS: i64 = 60;

/// Widths a [`Segment`] is drawn in, in seconds: 1, 2, 5, 10, 15, 30 s; 1, 2, 5, 10, 15,
/// 30 min; 1, 2, 3, 6, 12 h; 1, 2, 7, 14, 28, 364 days.
pub const SEGMENT_WIDTHS: [i64; 23] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
    172_800, 604_800, 1_209_600, 2_419_200, 31_449_600,
];

/// A gap between two non-empty buckets cuts the page's timeline when it is at least this
/// long (one hour), at least the whole span divided by [`GAP_SHARE`], and at least
/// [`GAP_BUCKETS`] buckets of the page's width.
pub const MIN_GAP_SECONDS: i64 = 3600;

/// See [`MIN_GAP_SECONDS`]: a gap shorter than a twentieth of the span stays on the axis.
pub const GAP_SHARE: i64 = 20;

/// See [`MIN_GAP_SECONDS`].
pub const GAP_BUCKETS: i64 = 8;

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
    /// The same counts cut at long gaps, each stretch in buckets fit for its own span: what
    /// the HTML page draws (a panel per stretch). Not part of the JSON report.
    #[serde(skip)]
    pub segments: Vec<Segment>,
}

/// A stretch of a timeline without a long gap (see [`MIN_GAP_SECONDS`]), in the smallest
/// buckets that keep it within [`SEGMENT_BUCKETS`].
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Segment {
    /// Bucket width in seconds.
    pub bucket_seconds: i64,
    /// Start of each non-empty bucket, Unix seconds, ascending.
    pub t: Vec<i64>,
    /// The report's series (the same groups and keys, sorted alike), one value per entry of
    /// [`Segment::t`].
    pub series: Vec<Series>,
}

/// A series of a [`Timeline`]: its group, and its key among the group's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

/// Counts per (series, bucket start) in buckets of one width.
#[derive(Debug)]
struct Counts {
    width: i64,
    /// Starts of the buckets that hold anything, ascending.
    starts: BTreeSet<i64>,
    /// The start last added to `starts`: records in time order mostly fall in it, and need
    /// no lookup in `starts`.
    last: Option<i64>,
    /// The count of each (series, bucket start) pair seen.
    cells: HashMap<(SeriesId, i64), u64>,
}

impl Counts {
    fn new(width: i64) -> Self {
        Counts {
            width,
            starts: BTreeSet::new(),
            last: None,
            cells: HashMap::new(),
        }
    }

    fn bucket_of(&self, ts: i64) -> i64 {
        ts.div_euclid(self.width) * self.width
    }

    /// Adds `n` to series `id` in the bucket holding `ts`.
    fn add(&mut self, ts: i64, id: SeriesId, n: u64) {
        let start = self.bucket_of(ts);
        if self.last != Some(start) {
            self.starts.insert(start);
            self.last = Some(start);
        }
        let v = self.cells.entry((id, start)).or_default();
        *v = v.saturating_add(n);
    }

    /// Buckets from the first to the last, both counted.
    fn span(&self) -> i64 {
        match (self.starts.first(), self.starts.last()) {
            (Some(first), Some(last)) => (last - first) / self.width + 1,
            _ => 0,
        }
    }

    /// Widens the buckets to `width` (a multiple of the current width), merging counts.
    fn rebucket(&mut self, width: i64) {
        self.width = width;
        self.last = None;
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

    /// Adds `other`'s counts, its series ids mapped by `mine`, at the wider of both widths.
    fn merge(&mut self, other: &Counts, mine: &HashMap<SeriesId, SeriesId>) {
        if other.width > self.width {
            self.rebucket(other.width);
        }
        for start in &other.starts {
            self.starts.insert(self.bucket_of(*start));
        }
        for (&(id, start), &n) in &other.cells {
            let Some(&id) = mine.get(&id) else {
                continue;
            };
            let target = self.bucket_of(start);
            let v = self.cells.entry((id, target)).or_default();
            *v = v.saturating_add(n);
        }
    }
}

/// A timeline being filled.
#[derive(Debug)]
pub(crate) struct Timeline {
    fixed: bool,
    /// The groups (`status`, `flag`, ...), each with its keys stored once: there are a
    /// handful of groups, and keys are found by hash within theirs.
    groups: Vec<Group>,
    /// The counts of the report and of the spike rule.
    counted: Counts,
    /// The same counts for the page, in buckets fit for the number of non-empty ones.
    page: Counts,
    /// The first width of the page's ladder: the given width, or one second.
    page_base: i64,
}

impl Timeline {
    /// A timeline with a fixed width in seconds, or an automatic one (`None`).
    pub(crate) fn new(width: Option<u64>) -> Self {
        let fixed = width.is_some();
        let width = width
            .map(|w| i64::try_from(w.max(1)).unwrap_or(i64::MAX))
            .unwrap_or(1);
        Timeline {
            fixed,
            groups: Vec::new(),
            counted: Counts::new(width),
            page: Counts::new(width),
            page_base: width,
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

    /// Adds `n` to series `id` at time `ts` (Unix seconds).
    pub(crate) fn add(&mut self, ts: i64, id: SeriesId, n: u64) {
        self.counted.add(ts, id, n);
        self.page.add(ts, id, n);
        self.fit();
    }

    /// Moves an automatic width up the ladder until the span fits, and the page's width
    /// until its non-empty buckets do.
    fn fit(&mut self) {
        while !self.fixed && self.counted.span() > AUTO_MAX_BUCKETS {
            let Some(next) = LADDER.iter().copied().find(|w| *w > self.counted.width) else {
                break;
            };
            self.counted.rebucket(next);
        }
        while self.page.starts.len() > PAGE_MAX_BUCKETS {
            let Some(next) = ladder(self.page_base).find(|w| *w > self.page.width) else {
                break;
            };
            self.page.rebucket(next);
        }
    }

    /// Makes `other`'s width this one's (the larger of the two, when automatic) and adds its
    /// counts.
    pub(crate) fn merge(&mut self, other: &Timeline) {
        // Other's series as this one's, made in the order of other's ids.
        let mut ids: Vec<SeriesId> = other.counted.cells.keys().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut mine = HashMap::with_capacity(ids.len());
        for id in ids {
            if let Some((group, key)) = other.name(id) {
                mine.insert(id, self.series(group, key));
            }
        }
        self.counted.merge(&other.counted, &mine);
        self.page.merge(&other.page, &mine);
        self.fit();
    }

    /// The width in seconds.
    pub(crate) fn width(&self) -> i64 {
        self.counted.width
    }

    /// The count of series `id` in the bucket starting at `start`.
    pub(crate) fn count(&self, id: SeriesId, start: i64) -> u64 {
        self.counted.cells.get(&(id, start)).copied().unwrap_or(0)
    }

    /// Every non-zero count of `group`: the series' key and id, the bucket start and the
    /// count, in no particular order. One pass over the counts, whatever the number of
    /// series.
    pub(crate) fn cells<'t>(
        &'t self,
        group: &str,
    ) -> impl Iterator<Item = (&'t str, SeriesId, i64, u64)> + 't {
        let found = self.group(group);
        self.counted
            .cells
            .iter()
            .filter_map(move |(&(id, start), &n)| {
                let (g, group) = found?;
                (id.group == g && n > 0).then(|| (group.keys.get(id.key), id, start, n))
            })
    }

    /// The start of the first bucket, if any.
    pub(crate) fn first(&self) -> Option<i64> {
        self.counted.starts.first().copied()
    }

    /// The report: non-empty buckets and the series, sorted by group and key, at most
    /// [`MAX_SERIES_PER_GROUP`] per group (largest totals; the rest under `(other)`), and the
    /// page's [`Segment`]s of the same series.
    pub(crate) fn report(&self) -> TimelineReport {
        let width = self.report_width();
        let mut t: Vec<i64> = self
            .counted
            .starts
            .iter()
            .map(|&s| s.div_euclid(width) * width)
            .collect();
        t.dedup();
        let totals = self.totals();
        // Per group and key: its row in the report (a kept series, or its group's `(other)`).
        let mut rows: Vec<Series> = Vec::new();
        let row_of: Vec<Vec<usize>> = self
            .groups
            .iter()
            .zip(&totals)
            .map(|(group, totals)| group_rows(group, totals, t.len(), &mut rows))
            .collect();
        let mut segments = self.segments(&rows, &row_of);
        for (&(id, start), &n) in &self.counted.cells {
            add_one(&mut rows, &t, width, &row_of, (id, start, n));
        }
        sort_series(&mut rows);
        for segment in &mut segments {
            sort_series(&mut segment.series);
        }
        TimelineReport {
            bucket_seconds: width,
            counted_bucket_seconds: self.counted.width,
            t,
            series: rows,
            segments,
        }
    }

    /// Each series' total, by group and key id.
    fn totals(&self) -> Vec<Vec<u64>> {
        let mut totals: Vec<Vec<u64>> = self.groups.iter().map(|g| vec![0; g.keys.len()]).collect();
        for (&(id, _), &n) in &self.counted.cells {
            let total = totals
                .get_mut(id.group as usize)
                .and_then(|g| g.get_mut(id.key as usize));
            if let Some(total) = total {
                *total = total.saturating_add(n);
            }
        }
        totals
    }

    /// The page's counts cut at long gaps, each stretch in its own width, with the series of
    /// `rows` (their values empty) as `row_of` maps keys to them.
    fn segments(&self, rows: &[Series], row_of: &[Vec<usize>]) -> Vec<Segment> {
        let starts: Vec<i64> = self.page.starts.iter().copied().collect();
        let stretches = cuts(&starts, self.page.width);
        let mut segments: Vec<Segment> = (stretches.iter())
            .map(|&(first, last)| self.segment(&starts, first, last, rows))
            .collect();
        // One pass over the counts: each to the stretch its bucket is in.
        for (&(id, start), &n) in &self.page.cells {
            let at = stretches.partition_point(|(first, _)| *first <= start);
            if let Some(segment) = at.checked_sub(1).and_then(|at| segments.get_mut(at)) {
                let width = segment.bucket_seconds;
                add_one(
                    &mut segment.series,
                    &segment.t,
                    width,
                    row_of,
                    (id, start, n),
                );
            }
        }
        segments
    }

    /// The stretch of the page's non-empty buckets `starts` from `first` to `last`, in the
    /// smallest multiple of the page's width among [`SEGMENT_WIDTHS`] and the page's ladder
    /// that spans it in [`SEGMENT_BUCKETS`], with the series of `rows` at zero.
    fn segment(&self, starts: &[i64], first: i64, last: i64, rows: &[Series]) -> Segment {
        let (page, span) = (self.page.width, last.saturating_sub(first));
        let width = (SEGMENT_WIDTHS.into_iter().chain(ladder(self.page_base)))
            .filter(|w| *w >= page && w % page == 0 && span / w < SEGMENT_BUCKETS)
            .min()
            .unwrap_or(page);
        let from = starts.partition_point(|s| *s < first);
        let to = starts.partition_point(|s| *s <= last);
        let mut t: Vec<i64> = (starts.get(from..to).unwrap_or_default().iter())
            .map(|s| s.div_euclid(width) * width)
            .collect();
        t.dedup();
        let series = (rows.iter())
            .map(|s| Series {
                group: s.group.clone(),
                key: s.key.clone(),
                values: vec![0; t.len()],
            })
            .collect();
        Segment {
            bucket_seconds: width,
            t,
            series,
        }
    }

    /// The width of the report's buckets: the counted width times the smallest of 1, 2, 5,
    /// 10, 20, 50, ... that keeps the span within [`MAX_REPORT_BUCKETS`].
    fn report_width(&self) -> i64 {
        let (Some(&first), Some(&last)) = (self.counted.starts.first(), self.counted.starts.last())
        else {
            return self.counted.width;
        };
        let span = last.saturating_sub(first);
        let mut decade: i64 = 1;
        loop {
            for step in [1, 2, 5] {
                let width = self
                    .counted
                    .width
                    .saturating_mul(decade.saturating_mul(step));
                // The buckets from first to last number at most span / width + 2.
                if span / width + 2 <= MAX_REPORT_BUCKETS || width == i64::MAX {
                    return width;
                }
            }
            decade = decade.saturating_mul(10);
        }
    }
}

/// Adds count `n` of series `id` in the bucket starting at `start` to its row of `rows` (as
/// `row_of` maps its key), in the bucket of `t` (buckets of `width`) that holds it.
fn add_one(
    rows: &mut [Series],
    t: &[i64],
    width: i64,
    row_of: &[Vec<usize>],
    (id, start, n): (SeriesId, i64, u64),
) {
    let row = row_of
        .get(id.group as usize)
        .and_then(|g| g.get(id.key as usize));
    let (Some(&r), Ok(at)) = (row, t.binary_search(&(start.div_euclid(width) * width))) else {
        return;
    };
    if let Some(v) = rows.get_mut(r).and_then(|s| s.values.get_mut(at)) {
        *v = v.saturating_add(n);
    }
}

/// [`LADDER`] times `base`.
fn ladder(base: i64) -> impl Iterator<Item = i64> {
    LADDER.into_iter().map(move |w| w.saturating_mul(base))
}

fn sort_series(series: &mut [Series]) {
    series.sort_by(|a, b| (&a.group, &a.key).cmp(&(&b.group, &b.key)));
}

/// The stretches of the non-empty buckets `starts` (ascending, of `width`) between the gaps
/// that cut: each as its first and last start. A gap cuts when it is at least
/// [`MIN_GAP_SECONDS`], [`GAP_BUCKETS`] buckets and a [`GAP_SHARE`]th of the span; of those,
/// the [`MAX_SEGMENTS`] - 1 longest (the earlier of equal ones).
fn cuts(starts: &[i64], width: i64) -> Vec<(i64, i64)> {
    let (Some(&first), Some(&last)) = (starts.first(), starts.last()) else {
        return Vec::new();
    };
    let span = last.saturating_add(width).saturating_sub(first);
    let long = (span / GAP_SHARE)
        .max(MIN_GAP_SECONDS)
        .max(width.saturating_mul(GAP_BUCKETS));
    let mut gaps: Vec<(i64, usize)> = starts
        .iter()
        .zip(starts.iter().skip(1))
        .enumerate()
        .filter_map(|(i, (a, b))| {
            let gap = b.saturating_sub(a.saturating_add(width));
            (gap >= long).then_some((gap, i + 1))
        })
        .collect();
    gaps.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    gaps.truncate(MAX_SEGMENTS - 1);
    let mut at: Vec<usize> = gaps.into_iter().map(|(_, i)| i).collect();
    at.sort_unstable();
    at.push(starts.len());
    let mut from = 0;
    let mut out = Vec::with_capacity(at.len());
    for to in at {
        if let (Some(&a), Some(&b)) = (starts.get(from), starts.get(to.saturating_sub(1))) {
            out.push((a, b));
        }
        from = to;
    }
    out
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
        assert_eq!(t.counted.cells.len(), 5_000);
        assert_eq!(t.counted.starts.len(), 5_000);
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
    /// Every count of `segments`' series `group:key`.
    fn segment_total(report: &TimelineReport, group: &str, key: &str) -> u64 {
        (report.segments.iter())
            .flat_map(|s| &s.series)
            .filter(|s| s.group == group && s.key == key)
            .flat_map(|s| &s.values)
            .sum()
    }

    #[test]
    fn runs_months_apart_are_segments_in_their_own_buckets() {
        let mut t = Timeline::new(None);
        let (ok, error) = (t.series("status", "ok"), t.series("status", "error"));
        let march = 1_772_323_200; // 2026-03-01T00:00:00Z
        let june = march + 92 * 86_400;
        // Ten minutes in March, one second in June.
        for i in 0..600 {
            t.add(march + i, ok, 1);
        }
        t.add(june, error, 2);
        let report = t.report();
        // The report's own buckets are six hours wide; the segments' are not.
        assert_eq!(report.bucket_seconds, 21_600);
        let widths: Vec<i64> = report.segments.iter().map(|s| s.bucket_seconds).collect();
        assert_eq!(widths, vec![10, 1]);
        let first = report.segments.first().expect("March");
        assert_eq!(first.t.first(), Some(&march));
        assert_eq!(first.t.len(), 60);
        let last = report.segments.last().expect("June");
        assert_eq!(last.t, vec![june]);
        // The same series in each, sorted alike, the counts all there.
        for segment in &report.segments {
            let names: Vec<(&str, &str)> = (segment.series.iter())
                .map(|s| (s.group.as_str(), s.key.as_str()))
                .collect();
            assert_eq!(names, vec![("status", "error"), ("status", "ok")]);
        }
        assert_eq!(segment_total(&report, "status", "ok"), 600);
        assert_eq!(segment_total(&report, "status", "error"), 2);
        // And the JSON report knows nothing of them.
        let json = serde_json::to_value(&report).expect("JSON");
        assert!(json.get("segments").is_none(), "{json}");
    }

    #[test]
    fn short_gaps_stay_and_the_longest_cut_at_most_max_segments() {
        // Events every 10 minutes for a day: one segment.
        let mut t = Timeline::new(None);
        let s = t.series("requests", "h");
        for i in 0..144 {
            t.add(1_800_000_000 + i * 600, s, 1);
        }
        let report = t.report();
        assert_eq!(report.segments.len(), 1);
        assert_eq!(segment_total(&report, "requests", "h"), 144);
        // Twenty one-second runs a week apart: the longest gaps cut, the rest stay.
        let mut t = Timeline::new(None);
        let s = t.series("requests", "h");
        for i in 0..20 {
            t.add(1_800_000_000 + i * 7 * 86_400 + i * 3600, s, 1);
        }
        let report = t.report();
        assert_eq!(report.segments.len(), MAX_SEGMENTS);
        assert_eq!(segment_total(&report, "requests", "h"), 20);
        for segment in &report.segments {
            let span = segment.t.last().unwrap_or(&0) - segment.t.first().unwrap_or(&0);
            assert!(
                span / segment.bucket_seconds <= SEGMENT_BUCKETS,
                "{segment:?}"
            );
        }
    }

    #[test]
    fn page_buckets_widen_past_the_most_non_empty_and_keep_the_given_width() {
        let mut t = Timeline::new(None);
        let s = t.series("flag", "f");
        for i in 0..(PAGE_MAX_BUCKETS as i64 + 1) {
            t.add(1_800_000_000 + i * 2, s, 1);
        }
        assert_eq!(t.page.width, 10);
        assert!(t.page.starts.len() <= PAGE_MAX_BUCKETS);
        // A given width is where the page's ladder starts.
        let mut t = Timeline::new(Some(3600));
        let s = t.series("flag", "f");
        t.add(1_800_000_000, s, 1);
        t.add(1_800_000_000 + 90 * 86_400, s, 1);
        let report = t.report();
        let widths: Vec<i64> = report.segments.iter().map(|s| s.bucket_seconds).collect();
        assert_eq!(widths, vec![3600, 3600]);
    }

    #[test]
    fn segments_do_not_depend_on_how_the_input_was_split() {
        let fill = |t: &mut Timeline, range: std::ops::Range<i64>| {
            for i in range {
                // Bursts of 50 events a day apart, and one a quarter later.
                let ts = 1_800_000_000 + (i / 50) * 86_400 + (i % 50) * 3 + (i / 400) * 7_776_000;
                let id = t.series("host", &format!("h{}", i % 70));
                t.add(ts, id, 1);
            }
        };
        let mut whole = Timeline::new(None);
        fill(&mut whole, 0..500);
        let (mut a, mut b) = (Timeline::new(None), Timeline::new(None));
        fill(&mut b, 250..500);
        fill(&mut a, 0..250);
        a.merge(&b);
        let (merged, whole) = (a.report(), whole.report());
        assert!(merged.segments.len() > 1);
        assert_eq!(merged, whole);
        // The group's `(other)` series is in the segments as in the report.
        let other = segment_total(&whole, "host", "(other)");
        let in_report: u64 = (whole.series.iter())
            .filter(|s| s.key == "(other)")
            .flat_map(|s| &s.values)
            .sum();
        assert_eq!(other, in_report);
        assert!(other > 0);
    }
}
