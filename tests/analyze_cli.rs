// A test crate: a failed unwrap or index fails the test, cases are long tables, and helpers
// are `pub` for the test files that share them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::too_many_lines,
    unreachable_pub,
    missing_docs
)]
#![allow(clippy::disallowed_macros, clippy::disallowed_methods)] // a test, benchmark or example prints for its runner, not through the CLI's output gate.
//! `agentlog analyze` from the outside: exit codes, both families, the real logs, gzip and
//! stdin inputs, and the HTML page rendered in headless Chromium.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

fn root(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn agentlog() -> Command {
    Command::cargo_bin("agentlog").expect("binary built")
}

/// Runs `agentlog analyze ARGS --format json`, expects exit 0, returns the report.
fn json(args: &[&str]) -> Value {
    let out = agentlog()
        .arg("analyze")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

const LEDGER: &str = "testdata/analyze/ledger.jsonl";
const SANDBOX: &str = "testdata/analyze/sandbox.jsonl";

#[test]
fn both_families_in_one_run() {
    let ledger = root(LEDGER);
    let sandbox = root(SANDBOX);
    let report = json(&[
        "--bucket",
        "1h",
        ledger.to_str().unwrap_or_default(),
        sandbox.to_str().unwrap_or_default(),
    ]);
    assert_eq!(report["format"], "agentlog-analyze/1");
    assert_eq!(report["files"][0]["family"], "ledger");
    assert_eq!(report["files"][1]["family"], "sandbox");
    assert_eq!(
        report["files"][0]["skipped"]["not_json"]["lines"],
        serde_json::json!([6])
    );
    assert_eq!(report["ledger"]["tool_calls"], 30);
    assert_eq!(report["ledger"]["tools"][0]["elapsed"]["p95_ms"], 30000);
    assert_eq!(report["sandbox"]["totals"]["cost_usd"], 0.8762);
    assert_eq!(report["sandbox"]["latency"]["p50_ms"], 200);
    assert_eq!(report["findings"].as_array().map(Vec::len), Some(13));
    for finding in report["findings"].as_array().into_iter().flatten() {
        for field in [
            "family", "kind", "severity", "subject", "summary", "proposal",
        ] {
            assert!(finding[field].is_string(), "{field} in {finding}");
        }
    }
}

#[test]
fn text_report_names_each_question() {
    let out = agentlog()
        .args(["analyze", "--bucket", "1h"])
        .arg(root(LEDGER))
        .arg(root(SANDBOX))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "not json: 1 (line 6)",
        "Recurring failures",
        "Permission gaps",
        "Risk-flag spikes",
        "Slowest tools",
        "Requests, tokens and cost by model and host",
        "Injections by secret name",
        "Leaks blocked",
        "Gates blocked",
        "Error rates by host",
        "Latency",
        "proposal: ",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn counts_of_one_are_singular_and_the_slow_tool_proposal_fits_any_tool() {
    let out = agentlog()
        .arg("analyze")
        .arg(root("testdata/real-logs/myca-ledger-writer-events.jsonl"))
        .assert()
        .code(0);
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    for needle in [
        "agentlog analyze: 1 input, 7 lines",
        "6 tool calls, 1 risk event, 0 telemetry records",
        "injection_attempt raised 1 time by 1 agent (",
        "dev_agent was denied exec_shell 2 times in 2 sessions",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    for wrong in [
        "1 inputs",
        "1 times",
        "1 agents",
        "1 risk events,",
        "fetches",
    ] {
        assert!(!text.contains(wrong), "{wrong:?} in:\n{text}");
    }
    assert!(
        text.contains("proposal: Find where web_fetch's time goes"),
        "{text}"
    );
}

#[test]
fn the_real_logs_analyze_without_error() {
    let cases = [
        (
            "testdata/real-logs/myca-ledger-writer-events.jsonl",
            "ledger",
        ),
        (
            "testdata/real-logs/matchlock-go-writer-events.jsonl",
            "sandbox",
        ),
        (
            "testdata/real-logs/matchlock-pr77-examples-events.jsonl",
            "sandbox",
        ),
    ];
    for (path, family) in cases {
        let report = json(&[root(path).to_str().unwrap_or_default()]);
        let file = &report["files"][0];
        assert_eq!(file["family"], family, "{path}");
        assert_eq!(
            file["records"], file["lines"],
            "{path}: every line is a record"
        );
        for format in ["text", "json"] {
            agentlog()
                .args(["analyze", "--format", format])
                .arg(root(path))
                .assert()
                .code(0);
        }
    }
    // The real ledger: its risk event and `denial:` flag are read, its two denials of
    // exec_shell make a permission gap.
    let report = json(&[root(cases[0].0).to_str().unwrap_or_default()]);
    assert_eq!(report["ledger"]["risk_events"], 1);
    assert_eq!(report["ledger"]["denials"][0]["count"], 2);
    assert_eq!(report["ledger"]["denials"][0]["flags"]["denial:network"], 1);
    // The reference's log: a blocked leak and a blocked gate.
    let report = json(&[root(cases[1].0).to_str().unwrap_or_default()]);
    assert_eq!(report["sandbox"]["totals"]["leaks_blocked"], 1);
    assert_eq!(report["sandbox"]["totals"]["gates_blocked"], 1);
    // The whole directory at once.
    let report = json(&[root("testdata/real-logs").to_str().unwrap_or_default()]);
    assert_eq!(report["files"].as_array().map(Vec::len), Some(3));
}

#[test]
fn gzip_directories_and_stdin_give_the_same_figures() {
    let plain = json(&["--bucket", "1h", root(LEDGER).to_str().unwrap_or_default()]);
    let dir = tempfile::tempdir().expect("tempdir");
    let gz = dir.path().join("archive").join("events_20270115.jsonl.gz");
    std::fs::create_dir_all(gz.parent().expect("parent")).expect("mkdir");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).expect("create"),
        flate2::Compression::default(),
    );
    enc.write_all(&std::fs::read(root(LEDGER)).expect("read"))
        .expect("gzip");
    enc.finish().expect("gzip");
    let from_dir = json(&["--bucket", "1h", dir.path().to_str().unwrap_or_default()]);
    assert_eq!(from_dir["ledger"], plain["ledger"]);
    let out = agentlog()
        .args(["analyze", "--bucket", "1h", "--format", "json", "-"])
        .write_stdin(std::fs::read(root(LEDGER)).expect("read"))
        .output()
        .expect("runs");
    let from_stdin: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(from_stdin["ledger"], plain["ledger"]);
    assert_eq!(from_stdin["files"][0]["path"], "-");
}

#[test]
fn usage_and_io_errors_exit_2() {
    let cases: &[&[&str]] = &[
        &["analyze", "/nonexistent/events.jsonl"],
        &["analyze", "--bucket", "0s", LEDGER],
        &["analyze", "--bucket", "soon", LEDGER],
        &["analyze", "--format", "yaml", LEDGER],
        &["analyze", "-", "-"],
        &["analyze"],
        &["analyze", "--html", "/nonexistent/dir/page.html", LEDGER],
    ];
    for args in cases {
        let out = agentlog()
            .current_dir(root("."))
            .args(*args)
            .output()
            .expect("runs");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
    let help = agentlog()
        .args(["analyze", "--help"])
        .output()
        .expect("runs");
    assert_eq!(help.status.code(), Some(0));
    let help = String::from_utf8_lossy(&help.stdout);
    for needle in [
        "--format",
        "--html",
        "--bucket",
        "nearest-rank",
        "Exit codes",
    ] {
        assert!(help.contains(needle), "{needle} in --help:\n{help}");
    }
}

/// Chromium's path, or `None` when it is not installed.
fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// The DOM of `page` after its scripts ran, from headless Chromium kept off the network.
/// `--dump-dom` prints it once the page has loaded (its scripts draw synchronously); reading
/// Chromium's output to its end is what waits, and a watchdog ends Chromium after 90 s.
fn dump_dom(chromium: &Path, page: &Path) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let mut child = StdCommand::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1200,3000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().expect("stdout");
    let child = Arc::new(Mutex::new(child));
    let (finished, watch) = mpsc::channel::<()>();
    let watchdog = {
        let child = Arc::clone(&child);
        std::thread::spawn(move || {
            let late =
                watch.recv_timeout(Duration::from_secs(90)) == Err(RecvTimeoutError::Timeout);
            if late {
                let _ = child.lock().map(|mut c| c.kill());
            }
            late
        })
    };
    let mut dom = String::new();
    let _ = std::io::Read::read_to_string(&mut stdout, &mut dom);
    let _ = finished.send(());
    assert!(
        !watchdog.join().expect("watchdog"),
        "chromium did not finish in 90 s"
    );
    let _ = child.lock().map(|mut c| c.wait());
    dom
}

/// The value of attribute `name` in the tag text `tag`.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let rest = tag.get(start..)?;
    rest.get(..rest.find('"')?)
}

/// Every opening tag of `dom` that has attribute `marker`.
fn tags_with<'a>(dom: &'a str, marker: &str) -> Vec<&'a str> {
    dom.match_indices(marker)
        .filter_map(|(i, _)| {
            let open = dom.get(..i)?.rfind('<')?;
            let close = i + dom.get(i..)?.find('>')?;
            dom.get(open..=close)
        })
        .collect()
}

#[test]
fn html_page_draws_its_charts_and_matches_the_json() {
    let Some(chromium) = chromium() else {
        eprintln!(
            "SKIPPED html_page_draws_its_charts_and_matches_the_json: chromium is not installed (apt-get install chromium; .ci/run installs it)"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("report.html");
    let (ledger, sandbox) = (root(LEDGER), root(SANDBOX));
    let out = agentlog()
        .args(["analyze", "--bucket", "1h", "--format", "json", "--html"])
        .arg(&page)
        .arg(&ledger)
        .arg(&sandbox)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let html = std::fs::read_to_string(&page).expect("page");
    assert!(
        !html.contains(" src=") && !html.contains("<link"),
        "the page loads nothing"
    );
    assert!(
        html.contains("default-src 'none'"),
        "the page may fetch nothing"
    );

    let dom = dump_dom(&chromium, &page);
    let charts = tags_with(&dom, "class=\"chart\"");
    assert_eq!(charts.len(), 9, "one chart per series group");
    for chart in &charts {
        assert_eq!(attr(chart, "data-drawn"), Some("true"), "{chart}");
        let size = |a| {
            attr(chart, a)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        assert!(
            size("data-canvas-width") > 0 && size("data-canvas-height") > 0,
            "{chart}"
        );
        assert!(size("data-ink") > 1000, "the chart drew lines: {chart}");
    }
    assert!(dom.matches("<canvas").count() >= 9, "a canvas per chart");
    assert!(dom.contains("data-charts-drawn=\"9\""));

    let figures = tags_with(&dom, "data-figure=");
    assert!(figures.len() >= 100, "{} figures", figures.len());
    for tag in figures {
        let pointer = attr(tag, "data-figure").expect("pointer");
        let value: Value =
            serde_json::from_str(attr(tag, "data-value").expect("value")).expect("number");
        assert_eq!(report.pointer(pointer), Some(&value), "{pointer}");
        let shown = dom
            .get(dom.find(tag).expect("tag") + tag.len()..)
            .and_then(|rest| rest.split('<').next())
            .expect("text");
        assert_eq!(
            shown,
            value.to_string(),
            "{pointer} shows what the JSON says"
        );
    }
}

/// Put into a copy of the page ahead of its scripts, it watches what they draw without
/// relying on them: every text drawn on each canvas with its alignment (uPlot centres the
/// labels of the time axis and right-aligns those of the value axis), and, once the page has
/// loaded, for each canvas of a chart the series its uPlot legend names with the number of
/// pixels in each one's own colour (none when another series covers it). It writes them as
/// JSON in a `<pre id="probe">`.
const PROBE: &str = r#"<script>(function () {
  var texts = new Map(), P = CanvasRenderingContext2D.prototype;
  var fillText = P.fillText, clearRect = P.clearRect;
  P.fillText = function (text) {
    var list = texts.get(this.canvas) || [];
    list.push({ text: String(text), align: this.textAlign });
    texts.set(this.canvas, list);
    return fillText.apply(this, arguments);
  };
  P.clearRect = function (x, y, w, h) {
    if (x <= 0 && y <= 0 && w >= this.canvas.width && h >= this.canvas.height) texts.set(this.canvas, []);
    return clearRect.apply(this, arguments);
  };
  function pixels(canvas, rgb) {
    var px = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data, n = 0;
    for (var i = 0; i < px.length; i += 4) {
      if (px[i] === rgb[0] && px[i + 1] === rgb[1] && px[i + 2] === rgb[2] && px[i + 3] === 255) n++;
    }
    return n;
  }
  window.addEventListener("load", function () {
    var out = [];
    document.querySelectorAll("div.chart canvas").forEach(function (canvas) {
      var chart = canvas.closest("div.chart"), root = canvas.closest(".uplot");
      var drawn = texts.get(canvas) || [];
      var only = function (align) {
        return drawn.filter(function (t) { return t.align === align; }).map(function (t) { return t.text; });
      };
      var series = [];
      root.querySelectorAll(".u-legend .u-series").forEach(function (row, i) {
        if (i === 0) return;
        var rgb = getComputedStyle(row.querySelector(".u-marker")).borderTopColor.match(/\d+/g).map(Number);
        series.push({ label: row.querySelector(".u-label").textContent, pixels: pixels(canvas, rgb) });
      });
      out.push({ family: chart.dataset.family, group: chart.dataset.group, x: only("center"),
                 y: only("right"), series: series });
    });
    var pre = document.createElement("pre");
    pre.id = "probe";
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  });
})();</script>"#;

/// Pixels of its own colour a series needs to count as drawn.
const VISIBLE: u64 = 20;

/// `agentlog analyze --html` of `inputs` (automatic buckets): the JSON report, and the DOM of
/// the page with [`PROBE`] in it after Chromium ran its scripts, with what the probe saw.
fn probed_page(chromium: &Path, inputs: &[PathBuf]) -> (Value, String, Vec<Value>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("report.html");
    let out = agentlog()
        .args(["analyze", "--format", "json", "--html"])
        .arg(&page)
        .args(inputs)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let html = std::fs::read_to_string(&page).expect("page");
    let probed = html.replacen("<body>", &format!("<body>{PROBE}"), 1);
    assert_ne!(probed, html, "the page has a <body>");
    std::fs::write(&page, probed).expect("write");
    let dom = dump_dom(chromium, &page);
    let text = dom
        .split("<pre id=\"probe\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .expect("the probe wrote what it saw")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let canvases: Vec<Value> = serde_json::from_str(&text).expect("probe JSON");
    (report, dom, canvases)
}

/// The keys of a family's timeline `group` that count anything, with their totals.
fn nonzero_series(report: &Value, family: &str, group: &str) -> Vec<(String, u64)> {
    let series = report[family]["timeline"]["series"].as_array();
    (series.into_iter().flatten())
        .filter(|s| s["group"] == group)
        .map(|s| {
            let values = s["values"].as_array().into_iter().flatten();
            let total = values.filter_map(Value::as_u64).sum();
            (s["key"].as_str().unwrap_or_default().to_owned(), total)
        })
        .filter(|(_, total)| *total > 0)
        .collect()
}

fn strings(v: &Value) -> Vec<&str> {
    (v.as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect()
}

/// What is wrong with one canvas as the probe saw it.
fn canvas_faults(report: &Value, canvas: &Value) -> Vec<String> {
    let (family, group) = (canvas["family"].as_str(), canvas["group"].as_str());
    let name = format!("{}/{}", family.unwrap_or("?"), group.unwrap_or("?"));
    let (x, y) = (strings(&canvas["x"]), strings(&canvas["y"]));
    let mut faults = Vec::new();
    let has_data = !nonzero_series(report, family.unwrap_or(""), group.unwrap_or("")).is_empty();
    let number = |label: &str| {
        (label.trim_start_matches('$').replace(',', ""))
            .parse::<f64>()
            .ok()
    };
    if has_data && !y.iter().any(|l| number(l).is_some_and(|v| v != 0.0)) {
        faults.push(format!(
            "{name}: value ticks {y:?} are all zero for non-zero data"
        ));
    }
    if group == Some("cost") && y.iter().any(|l| !l.starts_with('$')) {
        faults.push(format!("{name}: value ticks {y:?} not in dollars"));
    }
    if x.iter().any(|l| l.contains('.')) {
        faults.push(format!("{name}: sub-second time ticks {x:?}"));
    }
    if (1..x.len()).any(|i| x.get(i) == x.get(i - 1)) {
        faults.push(format!("{name}: time ticks repeat a label {x:?}"));
    }
    for s in canvas["series"].as_array().into_iter().flatten() {
        let (label, pixels) = (s["label"].as_str().unwrap_or(""), s["pixels"].as_u64());
        if pixels.unwrap_or(0) < VISIBLE {
            faults.push(format!(
                "{name}: series {label} hidden ({pixels:?} pixels of its colour)"
            ));
        }
        if label.contains("nano") {
            faults.push(format!("{name}: legend {label:?} beside dollars"));
        }
    }
    faults
}

/// What is wrong with the charts of a probed page: each canvas, and every series that
/// counts anything drawn visibly in its chart.
fn chart_faults(report: &Value, canvases: &[Value]) -> Vec<String> {
    let mut faults: Vec<String> = canvases
        .iter()
        .flat_map(|c| canvas_faults(report, c))
        .collect();
    for (family, group) in [
        ("ledger", "status"),
        ("ledger", "failure"),
        ("ledger", "flag"),
        ("ledger", "denial"),
        ("sandbox", "requests"),
        ("sandbox", "tokens"),
        ("sandbox", "cost"),
        ("sandbox", "responses"),
        ("sandbox", "blocked"),
    ] {
        for (key, _) in nonzero_series(report, family, group) {
            let label = if group == "cost" {
                "cost"
            } else {
                key.as_str()
            };
            let drawn = canvases.iter().any(|c| {
                c["family"] == family
                    && c["group"] == group
                    && (c["series"].as_array().into_iter().flatten()).any(|s| {
                        s["label"] == label && s["pixels"].as_u64().unwrap_or(0) >= VISIBLE
                    })
            });
            if !drawn {
                faults.push(format!("{family}/{group}: series {key} not drawn visibly"));
            }
        }
    }
    faults
}

#[test]
fn html_charts_show_every_series_on_readable_axes() {
    let Some(chromium) = chromium() else {
        eprintln!(
            "SKIPPED html_charts_show_every_series_on_readable_axes: chromium is not installed (apt-get install chromium; .ci/run installs it)"
        );
        return;
    };
    // Ledgers two months apart and sandbox logs eleven months apart (a cost series in the
    // later one); in the flags, denial:network and network_denied count alike throughout.
    let apart = [
        "testdata/real-logs/myca-ledger-writer-events.jsonl",
        LEDGER,
        "testdata/real-logs/matchlock-pr77-examples-events.jsonl",
        SANDBOX,
    ]
    .map(root);
    let (report, dom, canvases) = probed_page(&chromium, &apart);
    assert!(canvases.len() >= 9, "{} canvases", canvases.len());
    let mut faults = chart_faults(&report, &canvases);
    // Inputs months apart: each run a panel of its own, none spanning the gap.
    for chart in tags_with(&dom, "class=\"chart\"") {
        if attr(chart, "data-drawn") != Some("true") {
            faults.push(format!("not drawn: {chart}"));
        }
    }
    let panels = tags_with(&dom, "class=\"panel\"");
    if panels.len() < 2 * 9 {
        faults.push(format!(
            "{} panels for 9 charts over two runs each",
            panels.len()
        ));
    }
    for panel in panels {
        let at = |a| attr(panel, a).and_then(|v| v.parse::<f64>().ok());
        let span = at("data-x-max").zip(at("data-x-min")).map(|(b, a)| b - a);
        if span.is_none_or(|s| s > 86_400.0) {
            faults.push(format!("a panel spans {span:?} s: {panel}"));
        }
    }
    // One ledger second: time ticks in whole seconds.
    let second = [root("testdata/real-logs/myca-ledger-writer-events.jsonl")];
    let (report, _, canvases) = probed_page(&chromium, &second);
    faults.extend(chart_faults(&report, &canvases));
    // Costs of a fraction of a cent: ticks still read in dollars.
    let dir = tempfile::tempdir().expect("tempdir");
    let cheap = dir.path().join("cheap.jsonl");
    let lines: String = [(0, "0.000183"), (20, "0.0000048"), (40, "0.0003")]
        .iter()
        .map(|(s, cost)| {
            format!(
                "{{\"ts\":\"2027-01-15T08:00:{s:02}Z\",\"run_id\":\"vm-1\",\"agent_system\":\"a\",\"event_type\":\"llm_response\",\"summary\":\"POST api.openai.com/v1/chat/completions -> 200\",\"data\":{{\"host\":\"api.openai.com\",\"status_code\":200,\"duration_ms\":100,\"model\":\"gpt-4o-mini\",\"input_tokens\":10,\"output_tokens\":5,\"cost_usd\":{cost}}}}}\n"
            )
        })
        .collect();
    std::fs::write(&cheap, lines).expect("write");
    let (report, _, canvases) = probed_page(&chromium, &[cheap]);
    assert_eq!(report["sandbox"]["totals"]["cost_usd"], 0.0004878);
    faults.extend(chart_faults(&report, &canvases));
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}
