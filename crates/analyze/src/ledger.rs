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

use hashbrown::HashMap;

use serde::Serialize;

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
    /// Risk flags, most frequent first.
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
    /// Risk flags on those calls, with counts.
    pub flags: BTreeMap<String, u64>,
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
    by_status: HashMap<String, u64>,
    elapsed: Histogram,
}

#[derive(Debug, Default)]
struct FailAgg {
    errors: u64,
    timeouts: u64,
    first: Option<i64>,
    last: Option<i64>,
}

#[derive(Debug, Default)]
struct DenyAgg {
    count: u64,
    sessions: HashMap<String, ()>,
    flags: HashMap<String, u64>,
}

#[derive(Debug, Default)]
struct FlagAgg {
    in_tool_calls: u64,
    in_risk_events: u64,
    agents: HashMap<String, ()>,
}

/// Ledger figures being gathered.
#[derive(Debug)]
pub(crate) struct LedgerAgg {
    tool_calls: u64,
    risk_events: u64,
    risk_types: HashMap<String, u64>,
    telemetry: u64,
    first: Option<i64>,
    last: Option<i64>,
    untimed: u64,
    tools: HashMap<String, ToolAgg>,
    failures: HashMap<String, HashMap<String, FailAgg>>,
    denials: HashMap<String, HashMap<String, DenyAgg>>,
    flags: HashMap<String, FlagAgg>,
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
            risk_types: HashMap::new(),
            telemetry: 0,
            first: None,
            last: None,
            untimed: 0,
            tools: HashMap::new(),
            failures: HashMap::new(),
            denials: HashMap::new(),
            flags: HashMap::new(),
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
        match kind {
            Kind::ToolCall => self.tool_call(raw, ts),
            Kind::RiskEvent => {
                self.risk_events += 1;
                *slot(&mut self.risk_types, opt(&raw.event_type, "(none)")) += 1;
                self.flags_of(raw, ts, false);
            }
            Kind::Telemetry => self.telemetry += 1,
            Kind::Sandbox | Kind::Unrecognised => {}
        }
    }

    fn tool_call(&mut self, raw: &Raw<'_>, ts: Option<i64>) {
        self.tool_calls += 1;
        let tool = opt(&raw.tool, "(none)");
        let status = opt(&raw.result_status, "(none)");
        let agg = slot(&mut self.tools, tool);
        agg.calls += 1;
        *slot(&mut agg.by_status, status) += 1;
        if status != "denied"
            && let Some(ms) = raw.elapsed_ms
        {
            agg.elapsed.add(ms);
        }
        if let Some(t) = ts {
            let id = self.timeline.series("status", status);
            self.timeline.add(t, id, 1);
        }
        match status {
            "error" | "timeout" => self.failure(raw, tool, status, ts),
            "denied" => self.denial(raw, tool, ts),
            _ => {}
        }
        self.flags_of(raw, ts, true);
    }

    fn failure(&mut self, raw: &Raw<'_>, tool: &str, status: &str, ts: Option<i64>) {
        let class = opt(&raw.error_class, NO_CLASS);
        let agg = slot(slot(&mut self.failures, tool), class);
        if status == "timeout" {
            agg.timeouts += 1;
        } else {
            agg.errors += 1;
        }
        if let Some(t) = ts {
            agg.first = Some(agg.first.map_or(t, |f| f.min(t)));
            agg.last = Some(agg.last.map_or(t, |l| l.max(t)));
            let id = self.timeline.series("failure", &format!("{tool}/{class}"));
            self.timeline.add(t, id, 1);
        }
    }

    fn denial(&mut self, raw: &Raw<'_>, tool: &str, ts: Option<i64>) {
        let agent = opt(&raw.agent, "(none)");
        let agg = slot(slot(&mut self.denials, agent), tool);
        agg.count += 1;
        if let Some(session) = &raw.session_id {
            slot(&mut agg.sessions, session.as_str());
        }
        for flag in raw.risk_flags.iter().flatten() {
            *slot(&mut agg.flags, flag.as_str()) += 1;
        }
        if let Some(t) = ts {
            let id = self.timeline.series("denial", &format!("{agent}/{tool}"));
            self.timeline.add(t, id, 1);
        }
    }

    fn flags_of(&mut self, raw: &Raw<'_>, ts: Option<i64>, tool_call: bool) {
        let agent = opt(&raw.agent, "(none)");
        for flag in raw.risk_flags.iter().flatten() {
            let agg = slot(&mut self.flags, flag.as_str());
            if tool_call {
                agg.in_tool_calls += 1;
            } else {
                agg.in_risk_events += 1;
            }
            slot(&mut agg.agents, agent);
            if let Some(t) = ts {
                let id = self.timeline.series("flag", flag.as_str());
                self.timeline.add(t, id, 1);
            }
        }
    }

    /// The figures.
    pub(crate) fn report(&self) -> LedgerReport {
        let mut by_status: BTreeMap<String, u64> =
            STATUSES.iter().map(|s| ((*s).to_owned(), 0)).collect();
        for tool in self.tools.values() {
            for (status, n) in &tool.by_status {
                *by_status.entry(status.clone()).or_default() += n;
            }
        }
        LedgerReport {
            tool_calls: self.tool_calls,
            risk_events: self.risk_events,
            risk_events_by_type: self.risk_types.clone().into_iter().collect(),
            telemetry_records: self.telemetry,
            first_ts: self.first.map(time_text),
            last_ts: self.last.map(time_text),
            untimed_records: self.untimed,
            by_status,
            failures: self.failure_rows(),
            denials: self.denial_rows(),
            risk_flags: self.flag_rows(),
            spikes: self.spikes(),
            tools: self.tool_rows(),
            timeline: self.timeline.report(),
        }
    }

    fn failure_rows(&self) -> Vec<FailureRow> {
        // Buckets per failure series, in one pass over the timeline's counts.
        let active: HashMap<&str, u64> = self
            .timeline
            .active("failure")
            .into_iter()
            .map(|(key, buckets)| (key, buckets.len() as u64))
            .collect();
        let active = &active;
        let mut rows: Vec<FailureRow> = self
            .failures
            .iter()
            .flat_map(|(tool, classes)| {
                classes.iter().map(move |(class, agg)| FailureRow {
                    tool: tool.clone(),
                    error_class: class.clone(),
                    count: agg.errors + agg.timeouts,
                    errors: agg.errors,
                    timeouts: agg.timeouts,
                    buckets: active
                        .get(format!("{tool}/{class}").as_str())
                        .copied()
                        .unwrap_or(0),
                    first_ts: agg.first.map(time_text),
                    last_ts: agg.last.map(time_text),
                })
            })
            .collect();
        rows.sort_by(|a, b| {
            (b.count, &a.tool, &a.error_class).cmp(&(a.count, &b.tool, &b.error_class))
        });
        rows
    }

    fn denial_rows(&self) -> Vec<DenialRow> {
        let mut rows: Vec<DenialRow> = self
            .denials
            .iter()
            .flat_map(|(agent, tools)| {
                tools.iter().map(move |(tool, agg)| DenialRow {
                    agent: agent.clone(),
                    tool: tool.clone(),
                    count: agg.count,
                    sessions: agg.sessions.len() as u64,
                    flags: agg.flags.clone().into_iter().collect(),
                })
            })
            .collect();
        rows.sort_by(|a, b| (b.count, &a.agent, &a.tool).cmp(&(a.count, &b.agent, &b.tool)));
        rows
    }

    fn flag_rows(&self) -> Vec<FlagRow> {
        let mut rows: Vec<FlagRow> = self
            .flags
            .iter()
            .map(|(flag, agg)| FlagRow {
                flag: flag.clone(),
                count: agg.in_tool_calls + agg.in_risk_events,
                in_tool_calls: agg.in_tool_calls,
                in_risk_events: agg.in_risk_events,
                seed_flag: SEED_RISK_FLAGS.contains(&flag.as_str()),
                agents: agg.agents.len() as u64,
            })
            .collect();
        rows.sort_by(|a, b| (b.count, &a.flag).cmp(&(a.count, &b.flag)));
        rows
    }

    /// Spikes of every flag (the rule is in [`crate::findings`]).
    fn spikes(&self) -> Vec<Spike> {
        let (Some(first), width) = (self.timeline.first(), self.timeline.width()) else {
            return Vec::new();
        };
        let mut spikes = Vec::new();
        for (flag, active) in self.timeline.active("flag") {
            for (start, count) in active {
                let window = ((start - first) / width).min(SPIKE_WINDOW);
                if window < SPIKE_MIN_HISTORY || count < SPIKE_MIN_COUNT {
                    continue;
                }
                let history: u64 = (1..=window)
                    .map(|k| self.timeline.count("flag", flag, start - k * width))
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
        }
        spikes.sort_by(|a, b| (a.bucket_ts, &a.flag).cmp(&(b.bucket_ts, &b.flag)));
        spikes
    }

    fn tool_rows(&self) -> Vec<ToolRow> {
        let mut rows: Vec<ToolRow> = self
            .tools
            .iter()
            .map(|(tool, agg)| ToolRow {
                tool: tool.clone(),
                calls: agg.calls,
                by_status: agg.by_status.clone().into_iter().collect(),
                elapsed: agg.elapsed.percentiles(),
            })
            .collect();
        let key = |r: &ToolRow| r.elapsed.as_ref().map_or((0, 0), |p| (p.p95_ms, p.p50_ms));
        rows.sort_by(|a, b| (key(b), &a.tool).cmp(&(key(a), &b.tool)));
        rows
    }

    /// Adds everything `other` gathered.
    pub(crate) fn merge(&mut self, other: &LedgerAgg) {
        self.tool_calls += other.tool_calls;
        self.risk_events += other.risk_events;
        self.telemetry += other.telemetry;
        self.untimed += other.untimed;
        for (k, v) in &other.risk_types {
            *slot(&mut self.risk_types, k) += v;
        }
        self.first = min_opt(self.first, other.first);
        self.last = max_opt(self.last, other.last);
        for (tool, agg) in &other.tools {
            let mine = slot(&mut self.tools, tool);
            mine.calls += agg.calls;
            for (s, n) in &agg.by_status {
                *slot(&mut mine.by_status, s) += n;
            }
            mine.elapsed.merge(&agg.elapsed);
        }
        for (tool, classes) in &other.failures {
            for (class, agg) in classes {
                let mine = slot(slot(&mut self.failures, tool), class);
                mine.errors += agg.errors;
                mine.timeouts += agg.timeouts;
                mine.first = min_opt(mine.first, agg.first);
                mine.last = max_opt(mine.last, agg.last);
            }
        }
        self.merge_denials_and_flags(other);
        self.timeline.merge(&other.timeline);
    }

    fn merge_denials_and_flags(&mut self, other: &LedgerAgg) {
        for (agent, tools) in &other.denials {
            for (tool, agg) in tools {
                let mine = slot(slot(&mut self.denials, agent), tool);
                mine.count += agg.count;
                mine.sessions
                    .extend(agg.sessions.keys().map(|k| (k.clone(), ())));
                for (f, n) in &agg.flags {
                    *slot(&mut mine.flags, f) += n;
                }
            }
        }
        for (flag, agg) in &other.flags {
            let mine = slot(&mut self.flags, flag);
            mine.in_tool_calls += agg.in_tool_calls;
            mine.in_risk_events += agg.in_risk_events;
            mine.agents
                .extend(agg.agents.keys().map(|k| (k.clone(), ())));
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
