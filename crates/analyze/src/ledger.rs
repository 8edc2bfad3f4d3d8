//! Figures of tool-call ledgers: the seed's Critic questions.
//!
//! - **Recurring failures**: tool calls whose `result_status` is `error` or `timeout`, grouped
//!   by `tool` and `error_class` (`null` kept apart as no class), with first and last time seen
//!   and, in the timeline, one `failure` series per group.
//! - **Permission gaps**: `denied` calls grouped by `agent` and `tool`, with every risk flag
//!   those calls carried (the seed's flags and the public implementation's `denial:<reason>`).
//! - **Security anomalies**: risk flags of tool calls and of risk-event records, counted per
//!   flag and per bucket of the timeline; spikes are found on those buckets (see
//!   [`crate::findings`] for the rule).
//! - **Slowest tools**: `elapsed_ms` of the calls that ran (every status but `denied`: a denied
//!   call never started), p50 and p95 by nearest rank ([`crate::percentile`]).
//!
//! Telemetry records are counted only.

use std::collections::BTreeMap;

use hashbrown::{HashMap, HashSet};

use serde::Serialize;

use crate::names::{NameId, Names, OVERFLOW};
use crate::order::Ordered;
use crate::percentile::{Histogram, Percentiles};
use crate::record::{Kind, Raw, Str};
use crate::time_text;
use crate::timeline::{Timeline, TimelineReport};

/// The seed's seven risk flags.
pub const SEED_RISK_FLAGS: [&str; 7] = [
    "injection_attempt",
    "secret_attempt",
    "path_denied",
    "network_denied",
    "sandbox_violation",
    "timeout",
    "high_risk_approved",
];

/// The seed's four `result_status` values, in report order.
pub const STATUSES: [&str; 4] = ["success", "error", "denied", "timeout"];

/// The name of the row (or map key) that adds up the risk flags past
/// [`Options::max_rows`](crate::Options::max_rows).
pub const OTHER: &str = "(other)";

/// What `error_class: null` (or absent) is shown as.
pub const NO_CLASS: &str = "(none)";

/// Ledger figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LedgerReport {
    /// Tool-call records.
    pub tool_calls: u64,
    /// Risk-event records (no `tool`, with `risk_flags`).
    pub risk_events: u64,
    /// Risk-event records per `event_type`.
    pub risk_events_by_type: BTreeMap<String, u64>,
    /// Telemetry records (counted only).
    pub telemetry_records: u64,
    /// Earliest `ts`, RFC 3339 UTC.
    pub first_ts: Option<String>,
    /// Latest `ts`, RFC 3339 UTC.
    pub last_ts: Option<String>,
    /// Records without a readable `ts` (left out of the timeline).
    pub untimed_records: u64,
    /// Tool calls per `result_status` (the four seed values always present).
    pub by_status: BTreeMap<String, u64>,
    /// Failures by tool and error class, most frequent first.
    pub failures: Vec<FailureRow>,
    /// Denials by agent and tool, most frequent first.
    pub denials: Vec<DenialRow>,
    /// Risk flags, most frequent first: at most [`Options::max_rows`](crate::Options::max_rows), and then one
    /// [`OTHER`] row that adds up the rest.
    pub risk_flags: Vec<FlagRow>,
    /// Buckets where a risk flag spiked against its trailing baseline (rule in
    /// [`crate::findings`]), in time order.
    pub spikes: Vec<Spike>,
    /// Per tool: calls by status and elapsed percentiles, slowest p95 first.
    pub tools: Vec<ToolRow>,
    /// Counts over time: groups `status` (calls per result_status), `failure`
    /// (`tool/error_class`), `flag` (risk flags), `denial` (`agent/tool`).
    pub timeline: TimelineReport,
}

/// One group of failed tool calls.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FailureRow {
    /// The tool.
    pub tool: String,
    /// The error class, `(none)` for `null`.
    pub error_class: String,
    /// Failed calls (`error` + `timeout`).
    pub count: u64,
    /// Of which `result_status: error`.
    pub errors: u64,
    /// Of which `result_status: timeout`.
    pub timeouts: u64,
    /// Timeline buckets with at least one such failure.
    pub buckets: u64,
    /// First seen, RFC 3339 UTC.
    pub first_ts: Option<String>,
    /// Last seen, RFC 3339 UTC.
    pub last_ts: Option<String>,
}

/// Denials of one tool to one agent.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DenialRow {
    /// The agent.
    pub agent: String,
    /// The tool.
    pub tool: String,
    /// Denied calls.
    pub count: u64,
    /// Distinct sessions among them.
    pub sessions: u64,
    /// Risk flags on those calls, with counts: the [`Options::max_rows`](crate::Options::max_rows)
    /// most frequent, and the rest added up under [`OTHER`].
    pub flags: BTreeMap<String, u64>,
}

/// Flags named in a denial's text (the table cell, the finding), the most frequent first.
pub const DENIAL_FLAGS_SHOWN: usize = 5;

impl DenialRow {
    /// The flags as text: the [`DENIAL_FLAGS_SHOWN`] most frequent as `flag xN`, then how many
    /// more there are; `no flags` when there are none.
    pub fn flags_text(&self) -> String {
        if self.flags.is_empty() {
            return "no flags".to_owned();
        }
        // The `(other)` entry of flags past `max_rows` is named last, with its count.
        let mut flags: Vec<(&String, &u64)> = (self.flags.iter())
            .filter(|(flag, _)| flag.as_str() != OTHER)
            .collect();
        let named = flags.len();
        let order = |a: &(&String, &u64), b: &(&String, &u64)| b.1.cmp(a.1).then(a.0.cmp(b.0));
        if named > DENIAL_FLAGS_SHOWN {
            flags.select_nth_unstable_by(DENIAL_FLAGS_SHOWN, order);
            flags.truncate(DENIAL_FLAGS_SHOWN);
        }
        flags.sort_by(order);
        let mut text: Vec<String> = flags.iter().map(|(k, n)| format!("{k} x{n}")).collect();
        if named > DENIAL_FLAGS_SHOWN {
            text.push(format!("{} more", named - DENIAL_FLAGS_SHOWN));
        }
        if let Some(n) = self.flags.get(OTHER) {
            text.push(format!("{OTHER} x{n}"));
        }
        text.join(", ")
    }
}

/// One risk flag.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlagRow {
    /// The flag as written.
    pub flag: String,
    /// Records carrying it.
    pub count: u64,
    /// Of which tool calls.
    pub in_tool_calls: u64,
    /// Of which risk-event records.
    pub in_risk_events: u64,
    /// Whether it is one of the seed's seven flags.
    pub seed_flag: bool,
    /// Distinct agents that raised it.
    pub agents: u64,
}

/// A bucket where a risk flag spiked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Spike {
    /// The flag.
    pub flag: String,
    /// Start of the bucket, Unix seconds.
    pub bucket_ts: i64,
    /// Start of the bucket, RFC 3339 UTC.
    pub bucket_start: String,
    /// Records with the flag in the bucket.
    pub count: u64,
    /// Mean count of the flag over the buckets of the trailing window.
    pub baseline: f64,
    /// Buckets in the trailing window (at most [`SPIKE_WINDOW`]).
    pub window: i64,
}

/// Buckets of history the spike baseline averages over, at most.
pub const SPIKE_WINDOW: i64 = 6;
/// Buckets of history a bucket needs before it can be a spike.
pub const SPIKE_MIN_HISTORY: i64 = 3;
/// A spike has at least this many records with the flag...
pub const SPIKE_MIN_COUNT: u64 = 3;
/// ...and more than this many times the baseline.
pub const SPIKE_FACTOR: f64 = 3.0;

/// One tool.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ToolRow {
    /// The tool.
    pub tool: String,
    /// Calls.
    pub calls: u64,
    /// Calls per `result_status`.
    pub by_status: BTreeMap<String, u64>,
    /// Percentiles of `elapsed_ms` over the calls that ran (not `denied`); `None` when none
    /// ran or none carried `elapsed_ms`.
    pub elapsed: Option<Percentiles>,
}

#[derive(Debug, Default)]
struct ToolAgg {
    calls: u64,
    by_status: HashMap<NameId, u64>,
    elapsed: Histogram,
}

#[derive(Debug, Default)]
struct FailAgg {
    errors: u64,
    timeouts: u64,
    first: Option<i64>,
    last: Option<i64>,
}

/// Denials of one tool to one agent.
#[derive(Debug)]
struct DenyAgg {
    agent: NameId,
    tool: NameId,
    count: u64,
}

/// One risk flag's counts. Its distinct agents are its first agent and those in
/// [`LedgerAgg::more_flag_agents`]: one set of pairs for every flag, not a set per flag.
#[derive(Debug, Clone, Copy)]
struct FlagAgg {
    in_tool_calls: u64,
    in_risk_events: u64,
    first_agent: NameId,
}

/// The timeline group whose keys are the risk flags: its series ids are the flags' ids.
const FLAG: &str = "flag";

/// Ledger figures being gathered. Every name is stored once ([`Names`]; the risk flags as
/// the keys of the timeline's `flag` group) and the figures are keyed by the names' ids, so
/// memory grows by a few dozen bytes per distinct name, whatever the lines repeat.
#[derive(Debug)]
pub(crate) struct LedgerAgg {
    tool_calls: u64,
    risk_events: u64,
    telemetry: u64,
    first: Option<i64>,
    last: Option<i64>,
    untimed: u64,
    /// Tools, statuses, error classes, agents, sessions and event types.
    names: Names,
    risk_types: HashMap<NameId, u64>,
    tools: HashMap<NameId, ToolAgg>,
    /// By tool and error class.
    failures: HashMap<(NameId, NameId), FailAgg>,
    /// Index into `denials` by agent and tool.
    denial_index: HashMap<(NameId, NameId), u32>,
    denials: Vec<DenyAgg>,
    /// (denial, session) pairs.
    denial_sessions: HashSet<(u32, NameId)>,
    /// Flags on denied calls, by (denial, flag).
    denial_flags: HashMap<(u32, NameId), u64>,
    /// By flag id (the key of the flag's timeline series).
    flags: Vec<FlagAgg>,
    /// (flag, agent) pairs for agents after a flag's first.
    more_flag_agents: HashSet<(NameId, NameId)>,
    pub(crate) timeline: Timeline,
}

/// `map[key]`, inserting a default under an owned copy of `key` only when it is new.
pub(crate) fn slot<'m, V: Default>(map: &'m mut HashMap<String, V>, key: &str) -> &'m mut V {
    map.entry_ref(key).or_default()
}

fn opt<'s>(s: &'s Option<Str<'_>>, missing: &'static str) -> &'s str {
    s.as_ref().map_or(missing, Str::as_str)
}

impl LedgerAgg {
    pub(crate) fn new(bucket: Option<u64>) -> Self {
        LedgerAgg {
            tool_calls: 0,
            risk_events: 0,
            telemetry: 0,
            first: None,
            last: None,
            untimed: 0,
            names: Names::default(),
            risk_types: HashMap::new(),
            tools: HashMap::new(),
            failures: HashMap::new(),
            denial_index: HashMap::new(),
            denials: Vec::new(),
            denial_sessions: HashSet::new(),
            denial_flags: HashMap::new(),
            flags: Vec::new(),
            more_flag_agents: HashSet::new(),
            timeline: Timeline::new(bucket),
        }
    }

    /// Adds one ledger record of kind `kind`.
    pub(crate) fn add(&mut self, raw: &Raw<'_>, kind: Kind) {
        let ts = raw.unix_seconds();
        match ts {
            Some(t) => {
                self.first = Some(self.first.map_or(t, |f| f.min(t)));
                self.last = Some(self.last.map_or(t, |l| l.max(t)));
            }
            None => self.untimed += 1,
        }
        let agent = self.names.id(opt(&raw.agent, "(none)"));
        match kind {
            Kind::ToolCall => {
                let flags = self.flag_ids(raw, agent);
                self.tool_call(raw, ts, agent, &flags);
            }
            Kind::RiskEvent => {
                let flags = self.flag_ids(raw, agent);
                self.risk_events += 1;
                let kind = self.names.id(opt(&raw.event_type, "(none)"));
                *self.risk_types.entry(kind).or_default() += 1;
                self.flags_of(&flags, ts, false);
            }
            Kind::Telemetry => self.telemetry += 1,
            Kind::Sandbox | Kind::Unrecognised => {}
        }
    }

    /// The ids of the record's risk flags, each made on first use; a flag seen with another
    /// agent than its first is noted with that agent.
    fn flag_ids(&mut self, raw: &Raw<'_>, agent: NameId) -> Vec<NameId> {
        raw.risk_flags
            .iter()
            .flatten()
            .map(|flag| self.flag_id(flag.as_str(), agent))
            .collect()
    }

    /// The id of flag `text`, with its counts made on first use (`agent` its first agent).
    /// Flag ids are the keys of the timeline's `flag` series and index `flags`: they are made
    /// here only, in order, so the two stay in step.
    fn flag_id(&mut self, text: &str, agent: NameId) -> NameId {
        let flag = self.timeline.series(FLAG, text).key();
        if flag as usize >= self.flags.len() {
            // The next id (or, past the last id, the one every later name shares).
            self.flags.push(FlagAgg {
                in_tool_calls: 0,
                in_risk_events: 0,
                first_agent: agent,
            });
        } else if self
            .flags
            .get(flag as usize)
            .is_some_and(|f| f.first_agent != agent)
        {
            self.more_flag_agents.insert((flag, agent));
        }
        flag
    }

    fn tool_call(&mut self, raw: &Raw<'_>, ts: Option<i64>, agent: NameId, flags: &[NameId]) {
        self.tool_calls += 1;
        let status_text = opt(&raw.result_status, "(none)");
        let tool = self.names.id(opt(&raw.tool, "(none)"));
        let status = self.names.id(status_text);
        let agg = self.tools.entry(tool).or_default();
        agg.calls += 1;
        *agg.by_status.entry(status).or_default() += 1;
        if status_text != "denied"
            && let Some(ms) = raw.elapsed_ms
        {
            agg.elapsed.add(ms);
        }
        if let Some(t) = ts {
            let id = self.timeline.series("status", status_text);
            self.timeline.add(t, id, 1);
        }
        match status_text {
            "error" | "timeout" => self.failure(raw, tool, status_text == "timeout", ts),
            "denied" => {
                let session = raw.session_id.as_ref().map(|s| self.names.id(s.as_str()));
                self.denial(agent, tool, session, flags, ts);
            }
            _ => {}
        }
        self.flags_of(flags, ts, true);
    }

    fn failure(&mut self, raw: &Raw<'_>, tool: NameId, timeout: bool, ts: Option<i64>) {
        let class_text = opt(&raw.error_class, NO_CLASS);
        let class = self.names.id(class_text);
        let agg = self.failures.entry((tool, class)).or_default();
        if timeout {
            agg.timeouts += 1;
        } else {
            agg.errors += 1;
        }
        if let Some(t) = ts {
            agg.first = Some(agg.first.map_or(t, |f| f.min(t)));
            agg.last = Some(agg.last.map_or(t, |l| l.max(t)));
            let key = format!("{}/{class_text}", self.names.get(tool));
            let id = self.timeline.series("failure", &key);
            self.timeline.add(t, id, 1);
        }
    }

    /// Index of the denials of `tool` to `agent`, made on first use.
    fn denial_of(&mut self, agent: NameId, tool: NameId) -> u32 {
        let next = u32::try_from(self.denials.len()).unwrap_or(u32::MAX);
        let index = *self.denial_index.entry((agent, tool)).or_insert(next);
        if index == next && self.denials.len() < u32::MAX as usize {
            self.denials.push(DenyAgg {
                agent,
                tool,
                count: 0,
            });
        }
        index
    }

    fn denial(
        &mut self,
        agent: NameId,
        tool: NameId,
        session: Option<NameId>,
        flags: &[NameId],
        ts: Option<i64>,
    ) {
        let index = self.denial_of(agent, tool);
        if let Some(agg) = self.denials.get_mut(index as usize) {
            agg.count += 1;
        }
        if let Some(session) = session {
            self.denial_sessions.insert((index, session));
        }
        for &flag in flags {
            *self.denial_flags.entry((index, flag)).or_default() += 1;
        }
        if let Some(t) = ts {
            let key = format!("{}/{}", self.names.get(agent), self.names.get(tool));
            let id = self.timeline.series("denial", &key);
            self.timeline.add(t, id, 1);
        }
    }

    fn flags_of(&mut self, flags: &[NameId], ts: Option<i64>, tool_call: bool) {
        for &flag in flags {
            if let Some(agg) = self.flags.get_mut(flag as usize) {
                if tool_call {
                    agg.in_tool_calls += 1;
                } else {
                    agg.in_risk_events += 1;
                }
            }
            if let Some(t) = ts {
                let id = self.timeline.series_of(FLAG, flag);
                self.timeline.add(t, id, 1);
            }
        }
    }
}

impl LedgerAgg {
    /// The figures; at most `max_rows` risk flags, in the flags table and in each denial's
    /// flags (the rest added up under [`OTHER`]).
    pub(crate) fn report(&self, max_rows: usize) -> LedgerReport {
        let mut by_status: BTreeMap<String, u64> =
            STATUSES.iter().map(|s| ((*s).to_owned(), 0)).collect();
        for tool in self.tools.values() {
            for (status, n) in &tool.by_status {
                *by_status.entry(self.name(*status)).or_default() += n;
            }
        }
        let types = self.risk_types.iter();
        LedgerReport {
            tool_calls: self.tool_calls,
            risk_events: self.risk_events,
            risk_events_by_type: types.map(|(k, n)| (self.name(*k), *n)).collect(),
            telemetry_records: self.telemetry,
            first_ts: self.first.map(time_text),
            last_ts: self.last.map(time_text),
            untimed_records: self.untimed,
            by_status,
            failures: self.failure_rows(),
            denials: self.denial_rows(max_rows),
            risk_flags: self.flag_rows(max_rows),
            spikes: self.spikes(),
            tools: self.tool_rows(),
            timeline: self.timeline.report(),
        }
    }

    fn name(&self, id: NameId) -> String {
        self.names.get(id).to_owned()
    }

    fn flag_text(&self, flag: NameId) -> &str {
        self.timeline.key(FLAG, flag)
    }

    fn failure_rows(&self) -> Vec<FailureRow> {
        // Buckets per failure series, in one pass over the timeline's counts.
        let mut active: HashMap<&str, u64> = HashMap::new();
        for (key, ..) in self.timeline.cells("failure") {
            *active.entry(key).or_default() += 1;
        }
        let mut rows: Vec<FailureRow> = self
            .failures
            .iter()
            .map(|(&(tool, class), agg)| {
                let key = format!("{}/{}", self.names.get(tool), self.names.get(class));
                FailureRow {
                    tool: self.name(tool),
                    error_class: self.name(class),
                    count: agg.errors + agg.timeouts,
                    errors: agg.errors,
                    timeouts: agg.timeouts,
                    buckets: active.get(key.as_str()).copied().unwrap_or(0),
                    first_ts: agg.first.map(time_text),
                    last_ts: agg.last.map(time_text),
                }
            })
            .collect();
        rows.sort_by(Ordered::order);
        rows
    }

    /// `flags` (flag id and count) sorted by count, largest first, then by first use, and
    /// cut to `max` (`None` for the rest when there are more: their count added up). Ties
    /// never go by a flag's text: a flag withheld in the report must not decide by its value
    /// which flags are kept (the report orders the kept rows by what it shows).
    fn most_frequent(
        mut flags: Vec<(NameId, u64)>,
        max: usize,
    ) -> (Vec<(NameId, u64)>, Option<u64>) {
        let order = |a: &(NameId, u64), b: &(NameId, u64)| b.1.cmp(&a.1).then(a.0.cmp(&b.0));
        let mut rest = None;
        if flags.len() > max {
            flags.select_nth_unstable_by(max.saturating_sub(1), order);
            let cut = flags.split_off(max);
            rest = Some(cut.iter().fold(0u64, |sum, f| sum.saturating_add(f.1)));
        }
        flags.sort_by(order);
        (flags, rest)
    }

    fn denial_rows(&self, max_rows: usize) -> Vec<DenialRow> {
        let mut sessions = vec![0u64; self.denials.len()];
        for &(denial, _) in &self.denial_sessions {
            if let Some(n) = sessions.get_mut(denial as usize) {
                *n += 1;
            }
        }
        let mut flags: Vec<Vec<(NameId, u64)>> = vec![Vec::new(); self.denials.len()];
        for (&(denial, flag), &n) in &self.denial_flags {
            if let Some(list) = flags.get_mut(denial as usize) {
                list.push((flag, n));
            }
        }
        let mut rows: Vec<DenialRow> = self
            .denials
            .iter()
            .zip(sessions)
            .zip(flags)
            .map(|((agg, sessions), flags)| {
                let (kept, rest) = Self::most_frequent(flags, max_rows);
                let mut flags: BTreeMap<String, u64> = (kept.iter())
                    .map(|&(flag, n)| (self.flag_text(flag).to_owned(), n))
                    .collect();
                if let Some(rest) = rest {
                    *flags.entry(OTHER.to_owned()).or_default() += rest;
                }
                DenialRow {
                    agent: self.name(agg.agent),
                    tool: self.name(agg.tool),
                    count: agg.count,
                    sessions,
                    flags,
                }
            })
            .collect();
        rows.sort_by(Ordered::order);
        rows
    }

    fn flag_row(&self, id: NameId, agents: u64) -> FlagRow {
        let flag = self.flag_text(id);
        let agg = self.flags.get(id as usize);
        let (tool, risk) = agg.map_or((0, 0), |a| (a.in_tool_calls, a.in_risk_events));
        FlagRow {
            flag: flag.to_owned(),
            count: tool + risk,
            in_tool_calls: tool,
            in_risk_events: risk,
            seed_flag: SEED_RISK_FLAGS.contains(&flag),
            agents,
        }
    }

    /// The flags, most frequent first; past `max_rows`, one [`OTHER`] row adds the rest up
    /// (its `agents`: the distinct agents of all of them).
    fn flag_rows(&self, max_rows: usize) -> Vec<FlagRow> {
        let mut agents = vec![1u64; self.flags.len()];
        for &(flag, _) in &self.more_flag_agents {
            if let Some(n) = agents.get_mut(flag as usize) {
                *n += 1;
            }
        }
        let counts = (0..).zip(&self.flags);
        let counts = counts.map(|(id, a)| (id, a.in_tool_calls + a.in_risk_events));
        let (kept, rest) = Self::most_frequent(counts.collect(), max_rows);
        let agents_of = |id: NameId| agents.get(id as usize).copied().unwrap_or(0);
        let mut rows: Vec<FlagRow> = kept
            .iter()
            .map(|&(id, _)| self.flag_row(id, agents_of(id)))
            .collect();
        rows.sort_by(Ordered::order);
        if rest.is_some() {
            rows.push(self.other_flags(&kept));
        }
        rows
    }

    /// The row that adds up every flag not in `kept`.
    fn other_flags(&self, kept: &[(NameId, u64)]) -> FlagRow {
        let kept: HashSet<NameId> = kept.iter().map(|&(id, _)| id).collect();
        let mut row = FlagRow {
            flag: OTHER.to_owned(),
            count: 0,
            in_tool_calls: 0,
            in_risk_events: 0,
            seed_flag: false,
            agents: 0,
        };
        let mut agents: HashSet<NameId> = HashSet::new();
        for (id, agg) in (0..).zip(&self.flags) {
            if !kept.contains(&id) {
                row.in_tool_calls += agg.in_tool_calls;
                row.in_risk_events += agg.in_risk_events;
                agents.insert(agg.first_agent);
            }
        }
        for &(flag, agent) in &self.more_flag_agents {
            if !kept.contains(&flag) {
                agents.insert(agent);
            }
        }
        row.count = row.in_tool_calls + row.in_risk_events;
        row.agents = agents.len() as u64;
        row
    }

    /// Spikes of every flag (the rule is in [`crate::findings`]): only a bucket with at least
    /// [`SPIKE_MIN_COUNT`] records of its flag can be one, so only those look back.
    fn spikes(&self) -> Vec<Spike> {
        let (Some(first), width) = (self.timeline.first(), self.timeline.width()) else {
            return Vec::new();
        };
        let mut spikes = Vec::new();
        for (flag, id, start, count) in self.timeline.cells(FLAG) {
            let window = ((start - first) / width).min(SPIKE_WINDOW);
            if window < SPIKE_MIN_HISTORY || count < SPIKE_MIN_COUNT {
                continue;
            }
            let history: u64 = (1..=window)
                .map(|k| self.timeline.count(id, start - k * width))
                .sum();
            let baseline = history as f64 / window as f64;
            if count as f64 > SPIKE_FACTOR * baseline {
                spikes.push(Spike {
                    flag: flag.to_owned(),
                    bucket_ts: start,
                    bucket_start: time_text(start),
                    count,
                    baseline: (baseline * 1000.0).round() / 1000.0,
                    window,
                });
            }
        }
        spikes.sort_by(Ordered::order);
        spikes
    }

    fn tool_rows(&self) -> Vec<ToolRow> {
        let mut rows: Vec<ToolRow> = self
            .tools
            .iter()
            .map(|(&tool, agg)| ToolRow {
                tool: self.name(tool),
                calls: agg.calls,
                by_status: (agg.by_status.iter())
                    .map(|(status, n)| (self.name(*status), *n))
                    .collect(),
                elapsed: agg.elapsed.percentiles(),
            })
            .collect();
        rows.sort_by(Ordered::order);
        rows
    }
}

impl LedgerAgg {
    /// Adds everything `other` gathered.
    pub(crate) fn merge(&mut self, other: &LedgerAgg) {
        self.tool_calls += other.tool_calls;
        self.risk_events += other.risk_events;
        self.telemetry += other.telemetry;
        self.untimed += other.untimed;
        self.first = min_opt(self.first, other.first);
        self.last = max_opt(self.last, other.last);
        // Other's name ids as this one's.
        let names: Vec<NameId> = other.names.iter().map(|(_, n)| self.names.id(n)).collect();
        let mine = |id: NameId| names.get(id as usize).copied().unwrap_or(OVERFLOW);
        for (kind, n) in &other.risk_types {
            *self.risk_types.entry(mine(*kind)).or_default() += n;
        }
        for (tool, agg) in &other.tools {
            let into = self.tools.entry(mine(*tool)).or_default();
            into.calls += agg.calls;
            for (status, n) in &agg.by_status {
                *into.by_status.entry(mine(*status)).or_default() += n;
            }
            into.elapsed.merge(&agg.elapsed);
        }
        for (&(tool, class), agg) in &other.failures {
            let into = self.failures.entry((mine(tool), mine(class))).or_default();
            into.errors += agg.errors;
            into.timeouts += agg.timeouts;
            into.first = min_opt(into.first, agg.first);
            into.last = max_opt(into.last, agg.last);
        }
        let flags = self.merge_flags(other, &mine);
        self.merge_denials(other, &mine, &flags);
        // After the flags: their ids are made in `merge_flags`, in step with `flags`.
        self.timeline.merge(&other.timeline);
    }

    /// Adds `other`'s flag counts; returns other's flag ids as this one's.
    fn merge_flags(&mut self, other: &LedgerAgg, mine: &dyn Fn(NameId) -> NameId) -> Vec<NameId> {
        let mut ids = Vec::with_capacity(other.flags.len());
        for (id, agg) in (0..).zip(&other.flags) {
            let flag = self.flag_id(other.flag_text(id), mine(agg.first_agent));
            if let Some(into) = self.flags.get_mut(flag as usize) {
                into.in_tool_calls += agg.in_tool_calls;
                into.in_risk_events += agg.in_risk_events;
            }
            ids.push(flag);
        }
        for &(flag, agent) in &other.more_flag_agents {
            let flag = ids.get(flag as usize).copied().unwrap_or(OVERFLOW);
            let agent = mine(agent);
            if self
                .flags
                .get(flag as usize)
                .is_some_and(|f| f.first_agent != agent)
            {
                self.more_flag_agents.insert((flag, agent));
            }
        }
        ids
    }

    fn merge_denials(
        &mut self,
        other: &LedgerAgg,
        mine: &dyn Fn(NameId) -> NameId,
        flags: &[NameId],
    ) {
        let index: Vec<u32> = (other.denials.iter())
            .map(|d| self.denial_of(mine(d.agent), mine(d.tool)))
            .collect();
        let mine_denial = |d: u32| index.get(d as usize).copied().unwrap_or(u32::MAX);
        for (agg, &into) in other.denials.iter().zip(&index) {
            if let Some(into) = self.denials.get_mut(into as usize) {
                into.count += agg.count;
            }
        }
        for &(denial, session) in &other.denial_sessions {
            self.denial_sessions
                .insert((mine_denial(denial), mine(session)));
        }
        for (&(denial, flag), n) in &other.denial_flags {
            let flag = flags.get(flag as usize).copied().unwrap_or(OVERFLOW);
            *self
                .denial_flags
                .entry((mine_denial(denial), flag))
                .or_default() += n;
        }
    }
}

pub(crate) fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

pub(crate) fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}
