//! The order of a report's rows: by what the report shows, never by what it withheld.
//!
//! A table sorted by name puts a `[redacted]` row where its original name sorts. Next to
//! names an attacker chose (`a`, `b`, ... then `Za`, `Zb`, ...), that place tells the value
//! one character per report. So the rows are ordered once more after redaction
//! ([`Settle::settle`]), by each table's own order ([`Ordered::order`]) over the shown fields,
//! and rows that this order cannot tell apart go by their whole shown text: two rows that
//! differ only in what was withheld show the same text, and their order shows nothing. A row
//! with a withheld number (a latency or a cost equal to a supplied secret) is not ordered by
//! its numbers at all: such rows come last, by their shown text, so the place of a number
//! does not tell its size.
//!
//! Which rows a report keeps when it cuts a table (the flags past `--max-rows`, the timeline's
//! series past its cap) is decided before redaction, by counts and then by first use, never
//! by a name's text (see `ledger::most_frequent` and `timeline::group_rows`).

use std::cmp::Ordering;

use agentlog_validate::secrets::redact::Redactor;
use serde::Serialize;

use crate::ledger::{DenialRow, FailureRow, FlagRow, LedgerReport, OTHER, Spike, ToolRow};
use crate::sandbox::{
    GateRow, HostErrorRow, InjectionRow, LatencyRow, LeakRow, ModelHostRow, SandboxReport,
    TransformRow,
};

/// A table row with the order its table lists rows in.
pub(crate) trait Ordered {
    /// How `self` sorts before or after `other` in its table.
    fn order(&self, other: &Self) -> Ordering;
}

/// A report (or part) whose tables are ordered by what they show.
pub(crate) trait Settle {
    /// Orders every table by what it shows once `redactor` has withheld what it withholds.
    fn settle(&mut self, redactor: &Redactor);
}

impl<T: Settle> Settle for Option<T> {
    fn settle(&mut self, redactor: &Redactor) {
        if let Some(inner) = self {
            inner.settle(redactor);
        }
    }
}

impl Settle for LedgerReport {
    fn settle(&mut self, redactor: &Redactor) {
        settle(&mut self.failures, redactor);
        settle(&mut self.denials, redactor);
        settle(&mut self.risk_flags, redactor);
        settle(&mut self.spikes, redactor);
        settle(&mut self.tools, redactor);
    }
}

impl Settle for SandboxReport {
    fn settle(&mut self, redactor: &Redactor) {
        settle(&mut self.by_model_host, redactor);
        settle(&mut self.injections, redactor);
        settle(&mut self.transforms, redactor);
        settle(&mut self.leaks_blocked, redactor);
        settle(&mut self.gates, redactor);
        settle(&mut self.errors, redactor);
        settle(&mut self.latency_by_host, redactor);
        settle(&mut self.latency_by_model, redactor);
    }
}

/// Sorts `rows` by [`Ordered::order`], then by their shown text; rows with a number
/// `redactor` withholds last, by their shown text only.
fn settle<T: Ordered + Serialize>(rows: &mut Vec<T>, redactor: &Redactor) {
    let mut keyed: Vec<(bool, String, T)> = std::mem::take(rows)
        .into_iter()
        .map(|row| {
            let mut shown = serde_json::to_value(&row).unwrap_or_default();
            let withheld = redactor.redact_json(&mut shown) > 0;
            (withheld, shown.to_string(), row)
        })
        .collect();
    keyed.sort_by(|(a_withheld, a_text, a), (b_withheld, b_text, b)| {
        a_withheld
            .cmp(b_withheld)
            .then_with(|| match a_withheld {
                false => a.order(b),
                true => Ordering::Equal,
            })
            .then_with(|| a_text.cmp(b_text))
    });
    rows.extend(keyed.into_iter().map(|(_, _, row)| row));
}

/// Largest first.
fn desc<T: Ord>(a: T, b: T) -> Ordering {
    b.cmp(&a)
}

impl Ordered for FailureRow {
    fn order(&self, other: &Self) -> Ordering {
        desc(self.count, other.count)
            .then_with(|| (&self.tool, &self.error_class).cmp(&(&other.tool, &other.error_class)))
    }
}

impl Ordered for DenialRow {
    fn order(&self, other: &Self) -> Ordering {
        desc(self.count, other.count)
            .then_with(|| (&self.agent, &self.tool).cmp(&(&other.agent, &other.tool)))
    }
}

/// The `(other)` row that adds up the flags past `--max-rows` comes last.
impl Ordered for FlagRow {
    fn order(&self, other: &Self) -> Ordering {
        (self.flag == OTHER)
            .cmp(&(other.flag == OTHER))
            .then_with(|| desc(self.count, other.count))
            .then_with(|| self.flag.cmp(&other.flag))
    }
}

impl Ordered for Spike {
    fn order(&self, other: &Self) -> Ordering {
        (self.bucket_ts, &self.flag).cmp(&(other.bucket_ts, &other.flag))
    }
}

/// Slowest first.
impl Ordered for ToolRow {
    fn order(&self, other: &Self) -> Ordering {
        let key = |r: &ToolRow| r.elapsed.as_ref().map_or((0, 0), |p| (p.p95_ms, p.p50_ms));
        desc(key(self), key(other)).then_with(|| self.tool.cmp(&other.tool))
    }
}

/// Dearest first, then busiest.
impl Ordered for ModelHostRow {
    fn order(&self, other: &Self) -> Ordering {
        other
            .cost_usd
            .total_cmp(&self.cost_usd)
            .then_with(|| {
                desc(
                    self.requests + self.responses,
                    other.requests + other.responses,
                )
            })
            .then_with(|| (&self.model, &self.host).cmp(&(&other.model, &other.host)))
    }
}

impl Ordered for InjectionRow {
    fn order(&self, other: &Self) -> Ordering {
        (&self.secret_name, &self.host).cmp(&(&other.secret_name, &other.host))
    }
}

impl Ordered for TransformRow {
    fn order(&self, other: &Self) -> Ordering {
        (&self.plugin, &self.host, &self.action).cmp(&(&other.plugin, &other.host, &other.action))
    }
}

impl Ordered for LeakRow {
    fn order(&self, other: &Self) -> Ordering {
        desc(self.count, other.count)
            .then_with(|| (&self.secret_name, &self.host).cmp(&(&other.secret_name, &other.host)))
    }
}

impl Ordered for GateRow {
    fn order(&self, other: &Self) -> Ordering {
        desc(self.blocked, other.blocked)
            .then_with(|| (&self.plugin, &self.host).cmp(&(&other.plugin, &other.host)))
    }
}

/// Highest error rate first.
impl Ordered for HostErrorRow {
    fn order(&self, other: &Self) -> Ordering {
        other
            .error_rate
            .total_cmp(&self.error_rate)
            .then_with(|| desc(self.responses, other.responses))
            .then_with(|| self.host.cmp(&other.host))
    }
}

/// Slowest first.
impl Ordered for LatencyRow {
    fn order(&self, other: &Self) -> Ordering {
        let key = |r: &LatencyRow| (r.latency.p95_ms, r.latency.p50_ms);
        desc(key(self), key(other)).then_with(|| self.name.cmp(&other.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag(name: &str, count: u64) -> FlagRow {
        FlagRow {
            flag: name.to_owned(),
            count,
            in_tool_calls: count,
            in_risk_events: 0,
            seed_flag: false,
            agents: 1,
        }
    }

    #[test]
    fn rows_that_show_the_same_text_are_not_ordered_by_what_was_withheld() {
        let redactor = Redactor::none();
        // Two withheld names with the same figures: whatever order they came in, the
        // result is the same.
        let mut a = vec![flag("b", 1), flag("[redacted]", 2), flag("[redacted]", 1)];
        let mut b = vec![flag("[redacted]", 1), flag("[redacted]", 2), flag("b", 1)];
        settle(&mut a, &redactor);
        settle(&mut b, &redactor);
        assert_eq!(a, b);
        let names: Vec<(&str, u64)> = a.iter().map(|r| (r.flag.as_str(), r.count)).collect();
        assert_eq!(names, [("[redacted]", 2), ("[redacted]", 1), ("b", 1)]);
    }

    #[test]
    fn the_other_row_stays_last() {
        let mut rows = vec![flag(OTHER, 100), flag("a", 1)];
        settle(&mut rows, &Redactor::none());
        assert_eq!(rows.last().map(|r| r.flag.as_str()), Some(OTHER));
    }
}
