//! The HTML report: one self-contained page.
//!
//! Tables are written here from the report's JSON form: every figure is an element with
//! `data-figure`, the JSON pointer of the value in the `--format json` output, and
//! `data-value`, that value's JSON text; its visible text is the same number (a test checks
//! page against JSON). Charts over time are drawn in the browser by uPlot (MIT, vendored in
//! `assets/` with its licence and inlined into the page) from the timelines' segments
//! ([`crate::timeline::Segment`]: the counts cut at long gaps, each stretch in buckets fit for
//! its span) embedded as a JSON script element, after the same redaction as the JSON output.
//! Each stretch gets a panel of its own; a group whose series are parts of a whole (statuses,
//! hosts) is stacked, any other gets a row of panels per series, so no series hides another.
//! A Content-Security-Policy of `default-src 'none'` (inline script and style only) makes sure
//! the page fetches nothing when viewed.
//!
//! Everything taken from the logs (tool names, hosts, reasons) is HTML-escaped, and the
//! embedded JSON has `<`, `>` and `&` escaped, so a log cannot close the script element.

use std::fmt::Write as _;
use std::io::{self, Write};

use agentlog_validate::secrets::redact::Redactor;
use serde_json::Value;

use crate::Report;
use crate::timeline::TimelineReport;

/// uPlot, the vendored charting library (minified), version 1.6.32.
const UPLOT_JS: &str = include_str!("../assets/uPlot.iife.min.js");
/// uPlot's stylesheet.
const UPLOT_CSS: &str = include_str!("../assets/uPlot.min.css");
/// The page's own drawing code.
const CHARTS_JS: &str = include_str!("../assets/charts.js");

/// Rows shown per table; the JSON output has them all.
pub const MAX_ROWS: usize = 50;

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}\
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}\
h3{font-size:15px;margin:20px 0 6px}table{border-collapse:collapse;margin:4px 0 12px}\
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}\
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f5f5f5}\
.chart{margin:8px 0 20px;min-height:60px;width:100%;max-width:1100px}\
.high{color:#b00;font-weight:bold}.warning{color:#a60}.info{color:#246}\
.proposal{color:#333;margin-left:1.5em}.note{color:#666}\
.panels{display:flex;flex-wrap:wrap;gap:12px}.caption{font-size:12px;color:#555}\
.series-name{font-weight:600;margin:10px 0 2px}";

/// HTML-escapes text.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON text safe inside a `<script>` element.
fn script_json(value: &Value) -> String {
    value
        .to_string()
        .replace('&', "\\u0026")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
}

/// A cell's visible text for a value.
fn show(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k} x{}", show(v)))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Array(items) => items.iter().map(show).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// A figure: the value at `pointer` of `report`, as a table cell carrying the pointer.
fn cell(report: &Value, pointer: &str) -> String {
    let value = report.pointer(pointer).unwrap_or(&Value::Null);
    let class = if value.is_number() {
        " class=\"n\""
    } else {
        ""
    };
    if value.is_number() {
        format!(
            "<td{class} data-figure=\"{}\" data-value=\"{}\">{}</td>",
            esc(pointer),
            esc(&value.to_string()),
            esc(&show(value))
        )
    } else {
        format!("<td{class}>{}</td>", esc(&show(value)))
    }
}

/// A table of the array at `array` of `report`: one row per element, one column per
/// `(header, field pointer inside the element)`.
fn table(out: &mut String, report: &Value, title: &str, array: &str, columns: &[(&str, &str)]) {
    let _ = write!(out, "<h3>{}</h3>", esc(title));
    let rows = report
        .pointer(array)
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if rows == 0 {
        out.push_str("<p class=\"note\">none</p>");
        return;
    }
    out.push_str("<table><tr>");
    for (header, _) in columns {
        let _ = write!(out, "<th>{}</th>", esc(header));
    }
    out.push_str("</tr>");
    for i in 0..rows.min(MAX_ROWS) {
        out.push_str("<tr>");
        for (_, field) in columns {
            out.push_str(&cell(report, &format!("{array}/{i}{field}")));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    if rows > MAX_ROWS {
        let _ = write!(
            out,
            "<p class=\"note\">{} more rows in the JSON output</p>",
            rows - MAX_ROWS
        );
    }
}

/// A list of single figures: `(label, pointer)`.
fn figures(out: &mut String, report: &Value, items: &[(&str, &str)]) {
    out.push_str("<table>");
    for (label, pointer) in items {
        let _ = write!(
            out,
            "<tr><th>{}</th>{}</tr>",
            esc(label),
            cell(report, pointer)
        );
    }
    out.push_str("</table>");
}

/// How a chart draws its series.
#[derive(Clone, Copy)]
enum Layout {
    /// The series are parts of a whole (each record counts in one): stacked bands.
    Stack,
    /// One row of panels per series, each with its own scale (small multiples).
    Rows,
}

/// A chart of one series group: the group, its title, its unit (`count`, or `usd` for
/// values in nano-dollars), its layout.
type ChartSpec = (&'static str, &'static str, &'static str, Layout);

/// A chart of one series group of a family's timeline, drawn by the page's script.
fn chart(out: &mut String, family: &str, (group, title, unit, layout): ChartSpec) {
    let (layout, how) = match layout {
        Layout::Stack => (
            "stack",
            "Stacked: each band is one series, the top edge their sum.",
        ),
        Layout::Rows => ("rows", "One row per series, each on its own scale."),
    };
    let _ = write!(
        out,
        "<h3>{}</h3><p class=\"note\">{how} One panel per stretch of time without a long gap (UTC).</p><div class=\"chart\" id=\"chart-{family}-{group}\" data-family=\"{family}\" data-group=\"{group}\" data-unit=\"{unit}\" data-layout=\"{layout}\"></div>",
        esc(title)
    );
}

/// A table of a report array: title, the array's JSON pointer, and its columns as
/// `(header, pointer inside an element)`.
type TableSpec = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const LEDGER_FIGURES: &[(&str, &str)] = &[
    ("tool calls", "/ledger/tool_calls"),
    ("risk events", "/ledger/risk_events"),
    ("telemetry records", "/ledger/telemetry_records"),
    ("success", "/ledger/by_status/success"),
    ("error", "/ledger/by_status/error"),
    ("denied", "/ledger/by_status/denied"),
    ("timeout", "/ledger/by_status/timeout"),
    ("bucket seconds", "/ledger/timeline/bucket_seconds"),
];

const LEDGER_CHARTS: &[ChartSpec] = &[
    (
        "status",
        "Tool calls by result status",
        "count",
        Layout::Stack,
    ),
    (
        "failure",
        "Failures by tool / error class",
        "count",
        Layout::Stack,
    ),
    // A record may carry several flags: not parts of a whole.
    ("flag", "Risk flags", "count", Layout::Rows),
    ("denial", "Denials by agent / tool", "count", Layout::Stack),
];

const LEDGER_TABLES: &[TableSpec] = &[
    (
        "Recurring failures",
        "/ledger/failures",
        &[
            ("tool", "/tool"),
            ("error class", "/error_class"),
            ("count", "/count"),
            ("errors", "/errors"),
            ("timeouts", "/timeouts"),
            ("buckets", "/buckets"),
            ("first", "/first_ts"),
            ("last", "/last_ts"),
        ],
    ),
    (
        "Permission gaps (denials by agent and tool)",
        "/ledger/denials",
        &[
            ("agent", "/agent"),
            ("tool", "/tool"),
            ("denied", "/count"),
            ("sessions", "/sessions"),
            ("flags", "/flags"),
        ],
    ),
    (
        "Risk flags",
        "/ledger/risk_flags",
        &[
            ("flag", "/flag"),
            ("count", "/count"),
            ("in tool calls", "/in_tool_calls"),
            ("in risk events", "/in_risk_events"),
            ("agents", "/agents"),
            ("seed flag", "/seed_flag"),
        ],
    ),
    (
        "Risk-flag spikes",
        "/ledger/spikes",
        &[
            ("flag", "/flag"),
            ("bucket", "/bucket_start"),
            ("count", "/count"),
            ("baseline", "/baseline"),
            ("window", "/window"),
        ],
    ),
    (
        "Slowest tools (elapsed_ms, nearest rank)",
        "/ledger/tools",
        &[
            ("tool", "/tool"),
            ("calls", "/calls"),
            ("timed", "/elapsed/count"),
            ("p50 ms", "/elapsed/p50_ms"),
            ("p95 ms", "/elapsed/p95_ms"),
            ("max ms", "/elapsed/max_ms"),
        ],
    ),
];

const SANDBOX_FIGURES: &[(&str, &str)] = &[
    ("events", "/sandbox/events"),
    ("requests", "/sandbox/totals/requests"),
    ("responses", "/sandbox/totals/responses"),
    ("input tokens", "/sandbox/totals/input_tokens"),
    ("output tokens", "/sandbox/totals/output_tokens"),
    ("cached input tokens", "/sandbox/totals/cached_input_tokens"),
    ("cost (USD)", "/sandbox/totals/cost_usd"),
    ("responses >= 400", "/sandbox/totals/error_responses"),
    ("usage unknown", "/sandbox/totals/usage_unknown"),
    ("injections", "/sandbox/totals/injected"),
    ("leaks blocked", "/sandbox/totals/leaks_blocked"),
    ("gate blocks", "/sandbox/totals/gates_blocked"),
    ("latency p50 ms", "/sandbox/latency/p50_ms"),
    ("latency p95 ms", "/sandbox/latency/p95_ms"),
];

const SANDBOX_CHARTS: &[ChartSpec] = &[
    ("requests", "Requests by host", "count", Layout::Stack),
    ("tokens", "Tokens", "count", Layout::Rows),
    ("cost", "Cost (US dollars)", "usd", Layout::Rows),
    // Errors and usage unknown are among all responses: not parts of a whole.
    (
        "responses",
        "Responses, errors (>= 400) and usage unknown",
        "count",
        Layout::Rows,
    ),
    ("blocked", "Leaks and gates blocked", "count", Layout::Stack),
];

const LATENCY_COLUMNS: &[(&str, &str)] = &[
    ("responses", "/latency/count"),
    ("p50 ms", "/latency/p50_ms"),
    ("p95 ms", "/latency/p95_ms"),
    ("max ms", "/latency/max_ms"),
];

const SANDBOX_TABLES: &[TableSpec] = &[
    (
        "Requests, tokens and cost by model and host",
        "/sandbox/by_model_host",
        &[
            ("model", "/model"),
            ("host", "/host"),
            ("requests", "/requests"),
            ("responses", "/responses"),
            ("input tokens", "/input_tokens"),
            ("output tokens", "/output_tokens"),
            ("cached", "/cached_input_tokens"),
            ("cost USD", "/cost_usd"),
        ],
    ),
    (
        "Injections by secret name",
        "/sandbox/injections",
        &[
            ("secret", "/secret_name"),
            ("host", "/host"),
            ("injected", "/by_action/injected"),
            ("skipped", "/by_action/skipped"),
            ("leak blocked", "/by_action/leak_blocked"),
        ],
    ),
    (
        "Request transforms",
        "/sandbox/transforms",
        &[
            ("plugin", "/plugin"),
            ("host", "/host"),
            ("action", "/action"),
            ("events", "/events"),
            ("secrets", "/secrets"),
        ],
    ),
    (
        "Leaks blocked",
        "/sandbox/leaks_blocked",
        &[
            ("secret", "/secret_name"),
            ("host", "/host"),
            ("count", "/count"),
        ],
    ),
    (
        "Gate decisions",
        "/sandbox/gates",
        &[
            ("plugin", "/plugin"),
            ("host", "/host"),
            ("blocked", "/blocked"),
            ("allowed", "/allowed"),
            ("reasons", "/reasons"),
        ],
    ),
    (
        "Error rates by host",
        "/sandbox/errors",
        &[
            ("host", "/host"),
            ("responses", "/responses"),
            ("errors", "/errors"),
            ("error rate", "/error_rate"),
            ("usage unknown", "/usage_unknown"),
            ("statuses", "/by_status"),
        ],
    ),
];

/// One family's section: figures, charts, tables.
fn section(
    out: &mut String,
    v: &Value,
    (family, title): (&str, &str),
    items: &[(&str, &str)],
    charts: &[ChartSpec],
    tables: &[TableSpec],
) {
    let _ = write!(out, "<section id=\"{family}\"><h2>{}</h2>", esc(title));
    figures(out, v, items);
    for spec in charts {
        chart(out, family, *spec);
    }
    for (title, array, columns) in tables {
        table(out, v, title, array, columns);
    }
}

fn latency_tables(out: &mut String, v: &Value) {
    for (title, array, name) in [
        (
            "Latency by host (duration_ms, nearest rank)",
            "/sandbox/latency_by_host",
            "host",
        ),
        ("Latency by model", "/sandbox/latency_by_model", "model"),
    ] {
        let mut columns = vec![(name, "/name")];
        columns.extend_from_slice(LATENCY_COLUMNS);
        table(out, v, title, array, &columns);
    }
    out.push_str("</section>");
}

fn inputs_section(out: &mut String, v: &Value) {
    out.push_str("<section id=\"inputs\"><h2>Inputs</h2>");
    table(
        out,
        v,
        "Files",
        "/files",
        &[
            ("path", "/path"),
            ("family", "/family"),
            ("lines", "/lines"),
            ("records", "/records"),
            ("not JSON", "/skipped/not_json/count"),
            ("malformed", "/skipped/malformed/count"),
            ("unrecognised", "/skipped/unrecognised/count"),
            ("not JSON at lines", "/skipped/not_json/lines"),
        ],
    );
    out.push_str("</section>");
}

fn findings_section(out: &mut String, v: &Value) {
    let findings = v["findings"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let _ = write!(
        out,
        "<section id=\"findings\"><h2>Findings ({})</h2><ol>",
        findings.len()
    );
    let text = |f: &Value, field: &str| esc(f[field].as_str().unwrap_or_default());
    for f in findings {
        let _ = write!(
            out,
            "<li class=\"finding\"><span class=\"{severity}\">[{severity}]</span> <code>{}</code> {}: {}<div class=\"proposal\">Proposal: {}</div></li>",
            text(f, "kind"),
            text(f, "subject"),
            text(f, "summary"),
            text(f, "proposal"),
            severity = text(f, "severity"),
        );
    }
    out.push_str("</ol></section>");
}

/// What the charts draw: each family's timeline segments, with every number and string that
/// carries a secret withheld as in [`crate::to_json`] (names were withheld when the report was
/// built).
fn chart_data(report: &Report, redactor: &Redactor) -> io::Result<Value> {
    let segments = |timeline: Option<&TimelineReport>| match timeline {
        Some(t) => serde_json::to_value(&t.segments).map_err(io::Error::other),
        None => Ok(Value::Null),
    };
    let ledger = segments(report.ledger.as_ref().map(|l| &l.timeline))?;
    let sandbox = segments(report.sandbox.as_ref().map(|s| &s.timeline))?;
    let mut value = serde_json::json!({ "ledger": ledger, "sandbox": sandbox });
    redactor.redact_json(&mut value);
    Ok(value)
}

/// Writes the page. Its tables come from the report's JSON form after [`crate::to_json`]
/// withheld what carries a secret (numbers included), so the page shows what `--format json`
/// shows; its charts from the same counts in the timelines' segments, withheld alike.
pub fn write(report: &Report, redactor: &Redactor, out: &mut dyn Write) -> io::Result<()> {
    let v = crate::to_json(report, redactor)?;
    let timelines = chart_data(report, redactor)?;
    let mut page = String::with_capacity(UPLOT_JS.len() + (64 << 10));
    page.push_str("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">");
    page.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>agentlog analyze</title><style>");
    page.push_str(UPLOT_CSS);
    page.push_str(STYLE);
    page.push_str("</style></head><body><h1>agentlog analyze</h1>");
    findings_section(&mut page, &v);
    inputs_section(&mut page, &v);
    if report.ledger.is_some() {
        let family = ("ledger", "Tool-call ledger");
        section(
            &mut page,
            &v,
            family,
            LEDGER_FIGURES,
            LEDGER_CHARTS,
            LEDGER_TABLES,
        );
        page.push_str("</section>");
    }
    if report.sandbox.is_some() {
        let family = ("sandbox", "Sandbox event log");
        section(
            &mut page,
            &v,
            family,
            SANDBOX_FIGURES,
            SANDBOX_CHARTS,
            SANDBOX_TABLES,
        );
        latency_tables(&mut page, &v);
    }
    page.push_str("<p class=\"note\">Charts: uPlot 1.6.32 (MIT licence, Leon Sorokin), inlined. Percentiles: nearest rank.</p>");
    let _ = write!(
        page,
        "<script type=\"application/json\" id=\"agentlog-timelines\">{}</script>",
        script_json(&timelines)
    );
    page.push_str("<script>");
    page.push_str(UPLOT_JS);
    page.push_str("</script><script>");
    page.push_str(CHARTS_JS);
    page.push_str("</script></body></html>\n");
    out.write_all(page.as_bytes())
}
