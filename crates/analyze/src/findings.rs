//! Findings: what the figures say, each with a one-line proposal.
//!
//! Each finding is an [`Observation`] of an [`ObservationKind`], weighed by its [`Concern`]
//! (serialized as `severity`): named so beside the validator's `Finding` and `Severity`,
//! which judge a log's conformance line by line. The report lists them under `findings`.
//!
//! Findings are derived from the reports alone (never from raw lines), by these rules; every
//! threshold is a constant of this module or of [`crate::ledger`].
//!
//! Ledgers:
//! - `recurring_failure` (warning): a tool and error class that failed at least
//!   [`RECURRING_MIN`] times.
//! - `permission_gap` (warning): an agent denied the same tool at least [`DENIAL_MIN`] times:
//!   either it lacks a permission its work needs, or it keeps trying what it must not do.
//! - `security_flag` (high): any record carrying `injection_attempt`, `secret_attempt` or
//!   `sandbox_violation` ([`SECURITY_FLAGS`]).
//! - `risk_spike` (high): a timeline bucket where a risk flag spiked. **Spike rule**: a bucket
//!   is a spike of flag F when F's count in it is at least [`SPIKE_MIN_COUNT`] and more than
//!   [`SPIKE_FACTOR`] times its trailing baseline, the mean count of F over the (up to)
//!   [`SPIKE_WINDOW`] buckets just before it, empty buckets counting 0. A bucket needs
//!   [`SPIKE_MIN_HISTORY`] buckets of history since the ledger's first bucket, so the start of
//!   a ledger is never a spike. Buckets are the timeline's (`--bucket`, or automatic).
//! - `slow_tool` (info): a tool whose p95 `elapsed_ms` is at least [`SLOW_TOOL_P95_MS`].
//!
//! Sandbox logs:
//! - `leak_blocked` (high): a secret whose placeholder was about to be sent to a host it is
//!   not allowed for.
//! - `gate_blocked` (warning): a host a gate plugin blocked.
//! - `error_rate` (warning): a host whose responses with `status_code >= 400` are at least
//!   [`ERROR_RATE_MIN`] of its responses.
//! - `usage_unknown` (warning): a host with responses whose usage is unknown (tokens and cost
//!   are then undercounted).
//! - `slow_host` (info): a host whose p95 `duration_ms` is at least [`SLOW_HOST_P95_MS`].
//! - `cost_concentration` (info): one model and host that account for at least
//!   [`COST_SHARE_MIN`] of a cost spread over several.
//!
//! Findings are sorted by severity (`high` first) and kind; within a kind they keep the order
//! of the report's rows (most frequent, slowest or costliest first).

use serde::Serialize;

use crate::ledger::{LedgerReport, NO_CLASS};
pub use crate::ledger::{SPIKE_FACTOR, SPIKE_MIN_COUNT, SPIKE_MIN_HISTORY, SPIKE_WINDOW};
use crate::plural::plural;
use crate::record::Family;
use crate::sandbox::SandboxReport;

/// Failures of one tool and class before they are a finding.
pub const RECURRING_MIN: u64 = 3;
/// Denials of one tool to one agent before they are a finding.
pub const DENIAL_MIN: u64 = 2;
/// Risk flags that are a finding whenever they occur.
pub const SECURITY_FLAGS: [&str; 3] = ["injection_attempt", "secret_attempt", "sandbox_violation"];
/// p95 `elapsed_ms` of a slow tool.
pub const SLOW_TOOL_P95_MS: u64 = 5_000;
/// Share of error responses that makes a host's error rate a finding.
pub const ERROR_RATE_MIN: f64 = 0.05;
/// p95 `duration_ms` of a slow host.
pub const SLOW_HOST_P95_MS: u64 = 10_000;
/// Share of the whole cost that makes one model and host a finding.
pub const COST_SHARE_MIN: f64 = 0.5;

/// How much a finding matters (its `severity` in a report).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Concern {
    /// A security matter: look now.
    High,
    /// Something is failing or blocked.
    Warning,
    /// Worth knowing.
    Info,
}

/// What a finding is about (see the module docs for each rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ObservationKind {
    /// A tool keeps failing with the same error class.
    RecurringFailure,
    /// An agent keeps being denied a tool.
    PermissionGap,
    /// A security risk flag occurred.
    SecurityFlag,
    /// A risk flag spiked against its trailing baseline.
    RiskSpike,
    /// A tool is slow at p95.
    SlowTool,
    /// A secret leak was blocked.
    LeakBlocked,
    /// A gate blocked a host.
    GateBlocked,
    /// A host's responses fail often.
    ErrorRate,
    /// A host's responses do not report usage.
    UsageUnknown,
    /// A host is slow at p95.
    SlowHost,
    /// One model and host carry most of the cost.
    CostConcentration,
}

/// One finding: what the figures say about a subject, and what to do about it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Observation {
    /// The log family it comes from.
    pub family: Family,
    /// What it is about.
    pub kind: ObservationKind,
    /// How much it matters.
    pub severity: Concern,
    /// What it is about, in a few words (`web_fetch / ConnectionError`, a host, a flag).
    pub subject: String,
    /// What the data says, one line.
    pub summary: String,
    /// What to do about it, one line.
    pub proposal: String,
}

fn finding(
    family: Family,
    kind: ObservationKind,
    severity: Concern,
    subject: String,
    summary: String,
    proposal: String,
) -> Observation {
    Observation {
        family,
        kind,
        severity,
        subject,
        summary,
        proposal,
    }
}

/// The proposal for a recurring failure, from its error class and status.
fn failure_proposal(tool: &str, class: &str, timeouts: u64, count: u64) -> String {
    let c = class.to_ascii_lowercase();
    if timeouts * 2 >= count || c.contains("timeout") {
        format!(
            "Give {tool} a larger time budget or smaller units of work, and make the agent stop retrying it blindly."
        )
    } else if c.contains("connection") || c.contains("network") || c.contains("dns") {
        format!(
            "Retry {tool} with backoff on transient connection errors, and check that its endpoint is reachable from the sandbox."
        )
    } else if c.contains("permission") || c.contains("auth") || c.contains("forbidden") {
        format!(
            "Check the credentials and permissions {tool} runs with; the agent cannot fix {class} itself."
        )
    } else if c.contains("notfound") || c.contains("not_found") || c.contains("filenotfound") {
        format!(
            "Have the agent check that targets exist before calling {tool} (list first, then act)."
        )
    } else if ["value", "type", "validation", "schema", "argument", "parse"]
        .iter()
        .any(|w| c.contains(w))
    {
        format!(
            "Validate arguments before calling {tool} and document its argument format in the agent's tool description."
        )
    } else {
        let class = if class == NO_CLASS {
            "unclassified"
        } else {
            class
        };
        format!(
            "Look into the {class} failures of {tool}: fix the cause, or teach the agent when not to call it."
        )
    }
}

/// Findings of a ledger report.
pub fn ledger_findings(report: &LedgerReport) -> Vec<Observation> {
    let f = Family::Ledger;
    let mut out = Vec::new();
    for row in report.failures.iter().filter(|r| r.count >= RECURRING_MIN) {
        let span = match (&row.first_ts, &row.last_ts) {
            (Some(a), Some(b)) if a != b => format!(" from {a} to {b}"),
            (Some(a), _) => format!(" at {a}"),
            _ => String::new(),
        };
        let class = if row.error_class == NO_CLASS {
            "no error class"
        } else {
            &row.error_class
        };
        out.push(finding(
            f,
            ObservationKind::RecurringFailure,
            Concern::Warning,
            format!("{} / {}", row.tool, row.error_class),
            format!(
                "{} failed {} with {class} ({}, {}) in {}{span}",
                row.tool,
                plural(row.count, "time", "times"),
                plural(row.errors, "error", "errors"),
                plural(row.timeouts, "timeout", "timeouts"),
                plural(row.buckets, "time bucket", "time buckets")
            ),
            failure_proposal(&row.tool, &row.error_class, row.timeouts, row.count),
        ));
    }
    for row in report.denials.iter().filter(|r| r.count >= DENIAL_MIN) {
        let flags = row.flags_text();
        out.push(finding(
            f,
            ObservationKind::PermissionGap,
            Concern::Warning,
            format!("{} / {}", row.agent, row.tool),
            format!(
                "{} was denied {} {} in {} ({flags})",
                row.agent,
                row.tool,
                plural(row.count, "time", "times"),
                plural(row.sessions, "session", "sessions")
            ),
            format!(
                "If {} needs {} for its task, grant the narrowest permission that covers it; otherwise tell it in its instructions not to call {}.",
                row.agent, row.tool, row.tool
            ),
        ));
    }
    security_findings(report, &mut out);
    for row in &report.tools {
        if let Some(p) = row
            .elapsed
            .as_ref()
            .filter(|p| p.p95_ms >= SLOW_TOOL_P95_MS)
        {
            out.push(finding(
                f,
                ObservationKind::SlowTool,
                Concern::Info,
                row.tool.clone(),
                format!(
                    "{} takes {} ms at p50 and {} ms at p95 over {} (max {} ms)",
                    row.tool,
                    p.p50_ms,
                    p.p95_ms,
                    plural(p.count, "call", "calls"),
                    p.max_ms
                ),
                format!(
                    "Find where {}'s time goes (its own work or what it waits on); cache or batch repeated work, run long calls in the background, and set a time limit the agent knows about.",
                    row.tool
                ),
            ));
        }
    }
    sort(&mut out);
    out
}

fn security_findings(report: &LedgerReport, out: &mut Vec<Observation>) {
    for row in &report.risk_flags {
        if SECURITY_FLAGS.contains(&row.flag.as_str()) {
            let proposal = match row.flag.as_str() {
                "injection_attempt" => {
                    "Find the content that carried the injection (web page, file, tool output) and keep such content out of the instruction channel: quote it, or filter it before the agent reads it."
                }
                "secret_attempt" => {
                    "Check what the agent was asked to do when it reached for secrets; keep secrets out of its reach (injected at the edge, never in its environment)."
                }
                _ => {
                    "Treat the sandbox violation as an incident: review the session's calls and tighten the sandbox policy that let the attempt get this far."
                }
            };
            out.push(finding(
                Family::Ledger,
                ObservationKind::SecurityFlag,
                Concern::High,
                row.flag.clone(),
                format!(
                    "{} raised {} by {} ({} in tool calls, {} in risk events)",
                    row.flag,
                    plural(row.count, "time", "times"),
                    plural(row.agents, "agent", "agents"),
                    row.in_tool_calls,
                    row.in_risk_events
                ),
                proposal.to_owned(),
            ));
        }
    }
    for spike in &report.spikes {
        out.push(finding(
            Family::Ledger,
            ObservationKind::RiskSpike,
            Concern::High,
            format!("{} at {}", spike.flag, spike.bucket_start),
            format!(
                "{} occurred {} in the bucket starting {} against a trailing baseline of {} per bucket over {}",
                spike.flag,
                plural(spike.count, "time", "times"),
                spike.bucket_start,
                spike.baseline,
                plural(spike.window, "bucket", "buckets")
            ),
            format!(
                "Review the sessions active around {} for what changed (a new input source, a new agent version) and alert on {} at this rate.",
                spike.bucket_start, spike.flag
            ),
        ));
    }
}

/// Findings of a sandbox report.
pub fn sandbox_findings(report: &SandboxReport) -> Vec<Observation> {
    let f = Family::Sandbox;
    let mut out = Vec::new();
    for row in &report.leaks_blocked {
        out.push(finding(
            f,
            ObservationKind::LeakBlocked,
            Concern::High,
            format!("{} -> {}", row.secret_name, row.host),
            format!(
                "the placeholder of {} was sent towards {} {} and the sandbox blocked it",
                row.secret_name,
                row.host,
                plural(row.count, "time", "times")
            ),
            format!(
                "Find which step sends {}'s placeholder to {} (a prompt injection, a wrong base URL) and fix it; keep the block.",
                row.secret_name, row.host
            ),
        ));
    }
    for row in report.gates.iter().filter(|r| r.blocked > 0) {
        let reasons = row.reasons.keys().cloned().collect::<Vec<_>>().join("; ");
        out.push(finding(
            f,
            ObservationKind::GateBlocked,
            Concern::Warning,
            format!("{} by {}", row.host, row.plugin),
            format!(
                "{} blocked {} {} (allowed {}): {reasons}",
                row.plugin,
                row.host,
                plural(row.blocked, "time", "times"),
                row.allowed
            ),
            format!(
                "If the agent needs {}, add it to {}'s allow-list; otherwise find the step that calls it and remove it.",
                row.host, row.plugin
            ),
        ));
    }
    host_findings(report, &mut out);
    sort(&mut out);
    out
}

fn error_proposal(host: &str, by_status: &std::collections::BTreeMap<String, u64>) -> String {
    let top = by_status
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map_or("", |(s, _)| s.as_str());
    match top {
        "429" => format!(
            "Rate-limited by {host}: add client-side backoff and a request budget, or spread load over keys or models."
        ),
        "401" | "403" => format!(
            "Check the secret injected for {host}: it is refused (expired, wrong host pattern, wrong header)."
        ),
        s if s.starts_with('5') => format!(
            "{host} fails on its side: retry idempotent requests with backoff, or route to a fallback upstream."
        ),
        _ => format!(
            "Look at the requests the agent sends to {host}: they are refused as malformed or unknown."
        ),
    }
}

fn host_findings(report: &SandboxReport, out: &mut Vec<Observation>) {
    let f = Family::Sandbox;
    for row in &report.errors {
        if row.errors > 0 && row.error_rate >= ERROR_RATE_MIN {
            let statuses = row
                .by_status
                .iter()
                .map(|(s, n)| format!("{s} x{n}"))
                .collect::<Vec<_>>()
                .join(", ");
            out.push(finding(
                f,
                ObservationKind::ErrorRate,
                Concern::Warning,
                row.host.clone(),
                format!(
                    "{} of {} responses from {} had status >= 400 ({:.1}%: {statuses})",
                    row.errors,
                    row.responses,
                    row.host,
                    row.error_rate * 100.0
                ),
                error_proposal(&row.host, &row.by_status),
            ));
        }
        if row.usage_unknown > 0 {
            out.push(finding(
                f,
                ObservationKind::UsageUnknown,
                Concern::Warning,
                row.host.clone(),
                format!(
                    "{} of {} responses from {} reported no usage ({:.1}%): their tokens and cost are not counted",
                    row.usage_unknown, row.responses, row.host, row.usage_unknown_rate * 100.0
                ),
                format!(
                    "Ask {} for usage in every response (OpenAI streaming: stream_options.include_usage) so budgets see the real cost.",
                    row.host
                ),
            ));
        }
    }
    for row in report
        .latency_by_host
        .iter()
        .filter(|r| r.latency.p95_ms >= SLOW_HOST_P95_MS)
    {
        out.push(finding(
            f,
            ObservationKind::SlowHost,
            Concern::Info,
            row.name.clone(),
            format!(
                "responses from {} take {} ms at p50 and {} ms at p95 over {} responses",
                row.name, row.latency.p50_ms, row.latency.p95_ms, row.latency.count
            ),
            format!(
                "Stream responses from {}, cap max_tokens, or route routine calls to a faster model.",
                row.name
            ),
        ));
    }
    cost_finding(report, out);
}

fn cost_finding(report: &SandboxReport, out: &mut Vec<Observation>) {
    let total = report.totals.cost_usd;
    let priced = report
        .by_model_host
        .iter()
        .filter(|r| r.cost_usd > 0.0)
        .count();
    let Some(top) = report.by_model_host.first() else {
        return;
    };
    if total > 0.0 && priced > 1 && top.cost_usd / total >= COST_SHARE_MIN {
        out.push(finding(
            Family::Sandbox,
            ObservationKind::CostConcentration,
            Concern::Info,
            format!("{} at {}", top.model, top.host),
            format!(
                "{} at {} cost ${} of ${} ({:.0}%) over {} responses",
                top.model, top.host, top.cost_usd, total, top.cost_usd / total * 100.0, top.responses
            ),
            format!(
                "Try a cheaper model for routine calls now sent to {}, and use prompt caching for repeated context.",
                top.model
            ),
        ));
    }
}

/// Most severe first; within a kind, the order of the report's rows (most frequent first).
pub(crate) fn sort(findings: &mut [Observation]) {
    findings.sort_by_key(|f| (f.severity, f.kind));
}
