//! The text report: inputs, then each family's tables, then the findings with their
//! proposals. Tables show at most `top` rows each (the JSON output has every row, up to
//! `--max-rows` risk flags).

use std::io::{self, Write};

use crate::ledger::LedgerReport;
use crate::percentile::Percentiles;
use crate::plural::plural;
use crate::sandbox::SandboxReport;
use crate::{FileSummary, Report};

/// A table: a title, column headers (a leading `>` right-aligns the column) and rows.
struct Table {
    title: String,
    headers: &'static [&'static str],
    /// The first rows (at most `top`).
    rows: Vec<Vec<String>>,
    /// How many rows the table has in all.
    total: usize,
}

impl Table {
    fn write(&self, out: &mut dyn Write, top: usize) -> io::Result<()> {
        writeln!(out, "  {}", self.title)?;
        if self.rows.is_empty() {
            return writeln!(out, "    (none)");
        }
        let mut widths: Vec<usize> = self
            .headers
            .iter()
            .map(|h| h.trim_start_matches('>').len())
            .collect();
        for row in self.rows.iter().take(top) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: Vec<&str>| -> String {
            let parts: Vec<String> = cells
                .iter()
                .zip(self.headers.iter().zip(&widths))
                .map(|(cell, (h, w))| pad(cell, *w, h.starts_with('>')))
                .collect();
            format!("    {}", parts.join("  ").trim_end())
        };
        writeln!(
            out,
            "{}",
            line(
                self.headers
                    .iter()
                    .map(|h| h.trim_start_matches('>'))
                    .collect()
            )
        )?;
        for row in self.rows.iter().take(top) {
            writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
        }
        if self.total > top {
            writeln!(
                out,
                "    ... {} more (--top N shows more)",
                self.total - top
            )?;
        }
        Ok(())
    }
}

fn lines_text(lines: &[u64], count: u64) -> String {
    let shown: Vec<String> = lines.iter().take(10).map(u64::to_string).collect();
    let more = if count as usize > shown.len() {
        ", ..."
    } else {
        ""
    };
    format!(
        "{} (line{} {}{more})",
        count,
        if count == 1 { "" } else { "s" },
        shown.join(", ")
    )
}

fn file_line(f: &FileSummary) -> String {
    if let Some(note) = &f.note {
        return format!("  {}: not read: {note}", f.path);
    }
    let family = f
        .family
        .map_or("no records of either family", |fam| fam.name());
    let mut text = format!(
        "  {}: {family}, {}, {}",
        f.path,
        plural(f.lines, "line", "lines"),
        plural(f.records, "record", "records")
    );
    for (kind, list) in &f.skipped {
        text.push_str(&format!(
            "; {}: {}",
            kind.replace('_', " "),
            lines_text(&list.lines, list.count)
        ));
    }
    let secret = &f.secret_numbers;
    if secret.count > 0 {
        text.push_str(&format!(
            "; a number that carries a secret, left out of the figures: {}",
            lines_text(&secret.lines, secret.count)
        ));
    }
    text
}

fn pct(p: &Option<Percentiles>) -> [String; 3] {
    match p {
        Some(p) => [
            p.p50_ms.to_string(),
            p.p95_ms.to_string(),
            p.max_ms.to_string(),
        ],
        None => ["-".into(), "-".into(), "-".into()],
    }
}

/// Writes the text report; tables show at most `top` rows.
pub fn write(report: &Report, out: &mut dyn Write, top: usize) -> io::Result<()> {
    let lines: u64 = report.files.iter().map(|f| f.lines).sum();
    writeln!(
        out,
        "agentlog analyze: {}, {}",
        plural(report.files.len(), "input", "inputs"),
        plural(lines, "line", "lines")
    )?;
    for f in &report.files {
        writeln!(out, "{}", file_line(f))?;
    }
    if let Some(ledger) = &report.ledger {
        write_ledger(ledger, out, top)?;
    }
    if let Some(sandbox) = &report.sandbox {
        write_sandbox(sandbox, out, top)?;
    }
    writeln!(out)?;
    writeln!(out, "Findings ({})", report.findings.len())?;
    if report.findings.is_empty() {
        writeln!(out, "  none")?;
    }
    let mut shown = 0usize;
    for (i, f) in report.findings.iter().enumerate() {
        let same_kind = |g: &&crate::Observation| g.kind == f.kind && g.family == f.family;
        if i == 0 || report.findings.get(i - 1).filter(same_kind).is_none() {
            shown = 0;
        }
        shown += 1;
        if shown == top.saturating_add(1) {
            let more = report.findings.iter().skip(i).take_while(same_kind).count();
            writeln!(
                out,
                "  ... {more} more of this kind (--top, or --format json for all)"
            )?;
        }
        if shown > top {
            continue;
        }
        let severity = serde_json::to_value(f.severity).ok();
        let kind = serde_json::to_value(f.kind).ok();
        let word = |v: &Option<serde_json::Value>| {
            v.as_ref()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        writeln!(
            out,
            "  [{}] {} {}: {}",
            word(&severity),
            word(&kind),
            f.subject,
            f.summary
        )?;
        writeln!(out, "      proposal: {}", f.proposal)?;
    }
    Ok(())
}

fn span(first: &Option<String>, last: &Option<String>) -> String {
    match (first, last) {
        (Some(a), Some(b)) => format!("{a} .. {b}"),
        _ => "no timestamps".to_owned(),
    }
}

fn write_ledger(r: &LedgerReport, out: &mut dyn Write, top: usize) -> io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "Ledger: {}, {}, {}; {}",
        plural(r.tool_calls, "tool call", "tool calls"),
        plural(r.risk_events, "risk event", "risk events"),
        plural(r.telemetry_records, "telemetry record", "telemetry records"),
        span(&r.first_ts, &r.last_ts)
    )?;
    let statuses: Vec<String> = r
        .by_status
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    writeln!(out, "  status: {}", statuses.join(", "))?;
    failures_table(r, top).write(out, top)?;
    denials_table(r, top).write(out, top)?;
    flags_table(r, top).write(out, top)?;
    spikes_table(r, top).write(out, top)?;
    tools_table(r, top).write(out, top)
}

fn write_sandbox(r: &SandboxReport, out: &mut dyn Write, top: usize) -> io::Result<()> {
    let t = &r.totals;
    writeln!(out)?;
    writeln!(
        out,
        "Sandbox log: {}; {}",
        plural(r.events, "event", "events"),
        span(&r.first_ts, &r.last_ts)
    )?;
    writeln!(
        out,
        "  {}, {}, {} ({} cached), {}, ${} over {}",
        plural(t.requests, "request", "requests"),
        plural(t.responses, "response", "responses"),
        plural(t.input_tokens, "input token", "input tokens"),
        t.cached_input_tokens,
        plural(t.output_tokens, "output token", "output tokens"),
        t.cost_usd,
        plural(t.priced_responses, "priced response", "priced responses")
    )?;
    writeln!(
        out,
        "  {} >= 400, {} with usage unknown, {} partial; {}, {}, {}",
        plural(t.error_responses, "response", "responses"),
        t.usage_unknown,
        t.usage_partial,
        plural(t.injected, "injection", "injections"),
        plural(t.leaks_blocked, "leak blocked", "leaks blocked"),
        plural(t.gates_blocked, "gate block", "gate blocks")
    )?;
    model_host_table(r, top).write(out, top)?;
    injections_table(r, top).write(out, top)?;
    transforms_table(r, top).write(out, top)?;
    write_sandbox_blocks(r, out, top)
}

fn write_sandbox_blocks(r: &SandboxReport, out: &mut dyn Write, top: usize) -> io::Result<()> {
    leaks_table(r, top).write(out, top)?;
    gates_table(r, top).write(out, top)?;
    errors_table(r, top).write(out, top)?;
    Table {
        title: "Latency (duration_ms; nearest-rank percentiles)".to_owned(),
        headers: &["of", ">responses", ">p50 ms", ">p95 ms", ">max ms"],
        rows: latency_rows(r, top),
        total: 0,
    }
    .write(out, usize::MAX)
}

fn failures_table(r: &LedgerReport, top: usize) -> Table {
    Table {
        title: "Recurring failures (tool / error class over time)".to_owned(),
        headers: &[
            "tool",
            "error class",
            ">count",
            ">errors",
            ">timeouts",
            ">buckets",
            "first",
            "last",
        ],
        total: r.failures.len(),
        rows: r
            .failures
            .iter()
            .take(top)
            .map(|f| {
                vec![
                    f.tool.clone(),
                    f.error_class.clone(),
                    f.count.to_string(),
                    f.errors.to_string(),
                    f.timeouts.to_string(),
                    f.buckets.to_string(),
                    f.first_ts.clone().unwrap_or_default(),
                    f.last_ts.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    }
}

fn denials_table(r: &LedgerReport, top: usize) -> Table {
    Table {
        title: "Permission gaps (denials by agent and tool)".to_owned(),
        headers: &["agent", "tool", ">denied", ">sessions", "flags"],
        total: r.denials.len(),
        rows: r
            .denials
            .iter()
            .take(top)
            .map(|d| {
                vec![
                    d.agent.clone(),
                    d.tool.clone(),
                    d.count.to_string(),
                    d.sessions.to_string(),
                    d.flags_text(),
                ]
            })
            .collect(),
    }
}

fn flags_table(r: &LedgerReport, top: usize) -> Table {
    Table {
        title: "Risk flags".to_owned(),
        headers: &[
            "flag",
            ">count",
            ">tool calls",
            ">risk events",
            ">agents",
            "seed flag",
        ],
        total: r.risk_flags.len(),
        rows: r
            .risk_flags
            .iter()
            .take(top)
            .map(|f| {
                vec![
                    f.flag.clone(),
                    f.count.to_string(),
                    f.in_tool_calls.to_string(),
                    f.in_risk_events.to_string(),
                    f.agents.to_string(),
                    if f.seed_flag { "yes" } else { "no" }.to_owned(),
                ]
            })
            .collect(),
    }
}

fn spikes_table(r: &LedgerReport, top: usize) -> Table {
    Table {
        title: format!(
            "Risk-flag spikes (bucket {} s; trailing baseline of up to {} buckets)",
            r.timeline.counted_bucket_seconds,
            crate::ledger::SPIKE_WINDOW
        ),
        headers: &["flag", "bucket", ">count", ">baseline"],
        total: r.spikes.len(),
        rows: r
            .spikes
            .iter()
            .take(top)
            .map(|s| {
                vec![
                    s.flag.clone(),
                    s.bucket_start.clone(),
                    s.count.to_string(),
                    s.baseline.to_string(),
                ]
            })
            .collect(),
    }
}

fn tools_table(r: &LedgerReport, top: usize) -> Table {
    Table {
        title: "Slowest tools (elapsed_ms of calls that ran; nearest-rank percentiles)".to_owned(),
        headers: &["tool", ">calls", ">p50 ms", ">p95 ms", ">max ms"],
        total: r.tools.len(),
        rows: r
            .tools
            .iter()
            .take(top)
            .map(|t| {
                let [p50, p95, max] = pct(&t.elapsed);
                vec![t.tool.clone(), t.calls.to_string(), p50, p95, max]
            })
            .collect(),
    }
}

fn model_host_table(r: &SandboxReport, top: usize) -> Table {
    Table {
        title: "Requests, tokens and cost by model and host".to_owned(),
        headers: &[
            "model",
            "host",
            ">requests",
            ">responses",
            ">input",
            ">output",
            ">cached",
            ">cost usd",
        ],
        total: r.by_model_host.len(),
        rows: r
            .by_model_host
            .iter()
            .take(top)
            .map(|m| {
                vec![
                    m.model.clone(),
                    m.host.clone(),
                    m.requests.to_string(),
                    m.responses.to_string(),
                    m.input_tokens.to_string(),
                    m.output_tokens.to_string(),
                    m.cached_input_tokens.to_string(),
                    m.cost_usd.to_string(),
                ]
            })
            .collect(),
    }
}

fn injections_table(r: &SandboxReport, top: usize) -> Table {
    Table {
        title: "Injections by secret name (key_injection)".to_owned(),
        headers: &["secret", "host", "actions"],
        total: r.injections.len(),
        rows: r
            .injections
            .iter()
            .take(top)
            .map(|i| {
                vec![
                    i.secret_name.clone(),
                    i.host.clone(),
                    i.by_action
                        .iter()
                        .map(|(k, n)| format!("{k} {n}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                ]
            })
            .collect(),
    }
}

fn transforms_table(r: &SandboxReport, top: usize) -> Table {
    Table {
        title: "Request transforms (request_transform; secrets counted, not named)".to_owned(),
        headers: &["plugin", "host", "action", ">events", ">secrets"],
        total: r.transforms.len(),
        rows: r
            .transforms
            .iter()
            .take(top)
            .map(|x| {
                vec![
                    x.plugin.clone(),
                    x.host.clone(),
                    x.action.clone(),
                    x.events.to_string(),
                    x.secrets.to_string(),
                ]
            })
            .collect(),
    }
}

fn leaks_table(r: &SandboxReport, top: usize) -> Table {
    Table {
        title: "Leaks blocked".to_owned(),
        headers: &["secret", "host", ">count"],
        total: r.leaks_blocked.len(),
        rows: r
            .leaks_blocked
            .iter()
            .take(top)
            .map(|l| vec![l.secret_name.clone(), l.host.clone(), l.count.to_string()])
            .collect(),
    }
}

fn gates_table(r: &SandboxReport, top: usize) -> Table {
    Table {
        title: "Gates blocked".to_owned(),
        headers: &["plugin", "host", ">blocked", ">allowed", "reasons"],
        total: r.gates.iter().filter(|g| g.blocked > 0).count(),
        rows: r
            .gates
            .iter()
            .filter(|g| g.blocked > 0)
            .take(top)
            .map(|g| {
                vec![
                    g.plugin.clone(),
                    g.host.clone(),
                    g.blocked.to_string(),
                    g.allowed.to_string(),
                    g.reasons.keys().cloned().collect::<Vec<_>>().join("; "),
                ]
            })
            .collect(),
    }
}

fn errors_table(r: &SandboxReport, top: usize) -> Table {
    Table {
        title: "Error rates by host (status >= 400; usage unknown)".to_owned(),
        headers: &[
            "host",
            ">responses",
            ">errors",
            ">error rate",
            ">usage unknown",
            "statuses",
        ],
        total: r.errors.len(),
        rows: r
            .errors
            .iter()
            .take(top)
            .map(|e| {
                vec![
                    e.host.clone(),
                    e.responses.to_string(),
                    e.errors.to_string(),
                    format!("{:.2}%", e.error_rate * 100.0),
                    e.usage_unknown.to_string(),
                    e.by_status
                        .iter()
                        .map(|(s, n)| format!("{s} x{n}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                ]
            })
            .collect(),
    }
}

fn latency_rows(r: &SandboxReport, top: usize) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    if let Some(all) = &r.latency {
        let [p50, p95, max] = pct(&Some(all.clone()));
        rows.push(vec![
            "all responses".to_owned(),
            all.count.to_string(),
            p50,
            p95,
            max,
        ]);
    }
    for l in r.latency_by_host.iter().take(top) {
        let [p50, p95, max] = pct(&Some(l.latency.clone()));
        rows.push(vec![
            format!("host {}", l.name),
            l.latency.count.to_string(),
            p50,
            p95,
            max,
        ]);
    }
    for l in r.latency_by_model.iter().take(top) {
        let [p50, p95, max] = pct(&Some(l.latency.clone()));
        rows.push(vec![
            format!("model {}", l.name),
            l.latency.count.to_string(),
            p50,
            p95,
            max,
        ]);
    }
    rows
}

/// `cell` padded with spaces to `width` characters, on the left when `right` (aligned right).
/// By hand: `format!("{cell:>w$}")` panics for a width over 65,535, and a cell holding a
/// list of names from the input can be wider.
fn pad(cell: &str, width: usize, right: bool) -> String {
    let fill = " ".repeat(width.saturating_sub(cell.chars().count()));
    if right {
        fill + cell
    } else {
        format!("{cell}{fill}")
    }
}
