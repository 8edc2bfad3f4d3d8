//! No secret value in any output: every string a report copies from a log passes through the
//! validator's [`Redactor`] before an output sees it. This module is not a redactor of its
//! own: it applies that one to the analysis's aggregates ([`Withhold`]), and decides nothing
//! the redactor does not.
//!
//! The analysis reads names out of logs (tools, agents, error classes, risk flags, hosts,
//! models, secret names, plugins, reasons, file names) and prints them. A log may carry a
//! credential in any of those fields, by mistake or on purpose, so [`Analyzer::finish`]
//! hands the aggregates' reports to [`Withhold::withhold`] before the findings are drawn from them
//! and before text, JSON or HTML can format them. The redactor is the validator's own
//! ([`agentlog_validate::Options::redactor`]): the same scanner of supplied secrets, in every
//! encoding it knows, and the same built-in detector of well-known credential formats, so
//! `agentlog analyze` withholds exactly what `agentlog validate` withholds.
//!
//! A name that carries a secret is replaced as a whole by [`WITHHELD`](agentlog_validate::secrets::redact::WITHHELD) (`[redacted]`); a file
//! label by the validator's [`WITHHELD_PATH`]. A name with control characters is shown
//! escaped by the output gate's rule (`\u{000A}`), in every format alike. Numbers are judged
//! where they are written: the JSON document (and the page built from it) through
//! [`Redactor::redact_json`], the text report by the output gate, line by line. Counts keyed by names stay exact: keys that
//! become the same are added up; table rows keep one row per original name (so a table may
//! show several `[redacted]` rows), and timeline series that become the same are added up.
//! Redaction runs once per distinct name when the report is built, not once per line. Then
//! the tables are ordered again by what they show ([`crate::order`]), so a `[redacted]` row
//! does not sit where its value would sort. Numbers (and a `ts`) that carry a secret never
//! reach a figure: they are dropped as their line is read (`record`). A name that reads like
//! one of the report's own markers (`(other)`, `[redacted]`) is shown with its first
//! character escaped (`\u{005B}redacted]`), so a log cannot forge them (see
//! `record::unmarked`).
//!
//! [`Analyzer::finish`]: crate::Analyzer::finish

use std::borrow::Cow;
use std::collections::BTreeMap;

use agentlog_validate::WITHHELD_PATH;
use agentlog_validate::secrets::redact::{Redactor, WITHHELD};

use crate::FileSummary;
use crate::ledger::{DenialRow, FailureRow, FlagRow, LedgerReport, Spike, ToolRow};
use crate::sandbox::{
    GateRow, HostErrorRow, InjectionRow, LatencyRow, LeakRow, ModelHostRow, SandboxReport,
    TransformRow,
};
use crate::timeline::{Series, TimelineReport};

/// Text of a report that may have come from a log, withheld where it carries a secret.
pub(crate) trait Withhold {
    /// Replaces every part of `self` that carries a secret `redactor` finds.
    fn withhold(&mut self, redactor: &Redactor);
}

/// The text a name is shown as, when it is not shown as it is: [`WITHHELD`](agentlog_validate::secrets::redact::WITHHELD) for a name that
/// carries a secret, the gate's escaping ([`printable`](agentlog_validate::gate::printable)) for one with control characters
/// (a newline that would forge a report line, a backspace that would re-assemble a value on
/// a terminal). Decided once here, so every format shows the same text.
fn replacement(name: &str, redactor: &Redactor) -> Option<String> {
    // Judged in every form a format writes it in: a name that becomes a value only once
    // escaped (`a"b` as `a\"b`) is withheld too.
    match redactor.shown(name) {
        Cow::Owned(shown) => Some(shown),
        Cow::Borrowed(_) => None,
    }
}

impl Withhold for String {
    fn withhold(&mut self, redactor: &Redactor) {
        if let Some(shown) = replacement(self, redactor) {
            *self = shown;
        }
    }
}

impl<T: Withhold> Withhold for Option<T> {
    fn withhold(&mut self, redactor: &Redactor) {
        if let Some(inner) = self {
            inner.withhold(redactor);
        }
    }
}

impl<T: Withhold> Withhold for Vec<T> {
    fn withhold(&mut self, redactor: &Redactor) {
        for item in self {
            item.withhold(redactor);
        }
    }
}

/// Counts by name: withheld names are added up under [`WITHHELD`](agentlog_validate::secrets::redact::WITHHELD).
impl Withhold for BTreeMap<String, u64> {
    fn withhold(&mut self, redactor: &Redactor) {
        if !self.keys().any(|k| replacement(k, redactor).is_some()) {
            return;
        }
        for (mut key, n) in std::mem::take(self) {
            key.withhold(redactor);
            *self.entry(key).or_default() += n;
        }
    }
}

/// Runs [`Withhold::withhold`] on the listed fields of a struct; for a table's row, then
/// judges its names side by side (`side by side`, and the keys of a map whose keys are
/// columns): each was judged alone, and a row shows them next to each other.
macro_rules! withhold_fields {
    ($type:ty: $($field:ident),+) => {
        impl Withhold for $type {
            fn withhold(&mut self, redactor: &Redactor) {
                $(self.$field.withhold(redactor);)+
            }
        }
    };
    ($type:ty: $($field:ident),+; side by side $($text:ident),+ $(; keys $map:ident)?) => {
        impl Withhold for $type {
            fn withhold(&mut self, redactor: &Redactor) {
                $(self.$field.withhold(redactor);)+
                let shows = {
                    let parts: Vec<&str> = [$(self.$text.as_str()),+]
                        .into_iter()
                        $(.chain(self.$map.keys().map(String::as_str)))?
                        .collect();
                    row_shows(redactor, &parts)
                };
                if shows {
                    $(self.$text = WITHHELD.to_owned();)+
                    $(
                        let total: u64 = std::mem::take(&mut self.$map).into_values().sum();
                        self.$map.insert(WITHHELD.to_owned(), total);
                    )?
                }
            }
        }
    };
}

/// Whether the names of a row, read side by side as a table shows them (`AKIAZQ7V
/// K2PX9MW4NR8T  injected`), show a secret: run together, and without their separators.
fn row_shows(redactor: &Redactor, parts: &[&str]) -> bool {
    redactor.leaks_joined(&parts.concat())
}

// Every field of text that can come from a log. Times are formatted by the analysis from
// `ts` values, and a `ts` that carries a secret was dropped when its line was read
// (`record::Raw::withhold_secret_numbers`), so no time stands for a secret.
withhold_fields!(LedgerReport: risk_events_by_type, by_status, failures, denials, risk_flags, spikes, tools, timeline);
withhold_fields!(FailureRow: tool, error_class; side by side tool, error_class);
withhold_fields!(DenialRow: agent, tool, flags; side by side agent, tool);
withhold_fields!(FlagRow: flag);
withhold_fields!(Spike: flag);
withhold_fields!(ToolRow: tool, by_status);
withhold_fields!(SandboxReport: by_event_type, by_model_host, injections, transforms, leaks_blocked, gates, budget_actions, errors, latency_by_host, latency_by_model, timeline);
withhold_fields!(ModelHostRow: model, host, cost_by_source; side by side model, host);
withhold_fields!(InjectionRow: secret_name, host, by_action; side by side secret_name, host; keys by_action);
withhold_fields!(TransformRow: plugin, host, action; side by side plugin, host, action);
withhold_fields!(LeakRow: secret_name, host; side by side secret_name, host);
withhold_fields!(GateRow: plugin, host, reasons; side by side plugin, host);
withhold_fields!(HostErrorRow: host, by_status);
withhold_fields!(LatencyRow: name);
withhold_fields!(Series: group, key);

/// Series whose names become the same are added up, and the series stay sorted by group
/// and key; the page's segments alike.
impl Withhold for TimelineReport {
    fn withhold(&mut self, redactor: &Redactor) {
        let page = self.segments.iter().flat_map(|segment| &segment.series);
        if !self.series.iter().chain(page).any(|s| {
            replacement(&s.group, redactor).is_some() || replacement(&s.key, redactor).is_some()
        }) {
            return;
        }
        withhold_series(&mut self.series, redactor);
        for segment in &mut self.segments {
            withhold_series(&mut segment.series, redactor);
        }
    }
}

/// Withholds the names of `series`, adds up those that became the same, sorts them by group and
/// key.
fn withhold_series(series: &mut Vec<Series>, redactor: &Redactor) {
    let mut merged: Vec<Series> = Vec::with_capacity(series.len());
    for mut one in std::mem::take(series) {
        one.withhold(redactor);
        let same = merged
            .iter_mut()
            .find(|m| m.group == one.group && m.key == one.key);
        match same {
            Some(m) => {
                for (into, n) in m.values.iter_mut().zip(&one.values) {
                    *into = into.saturating_add(*n);
                }
            }
            None => merged.push(one),
        }
    }
    merged.sort_by(|a, b| (&a.group, &a.key).cmp(&(&b.group, &b.key)));
    *series = merged;
}

/// A file label that carries a secret is withheld as the validator withholds it.
impl Withhold for FileSummary {
    fn withhold(&mut self, redactor: &Redactor) {
        if redactor.shows_value(&self.path) {
            WITHHELD_PATH.clone_into(&mut self.path);
        } else {
            self.path.withhold(redactor);
        }
        self.note.withhold(redactor);
    }
}
