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
    // Read the DOM while Chromium writes it (it is larger than a pipe's buffer).
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut dom = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut dom);
        dom
    });
    let started = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > std::time::Duration::from_secs(90) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish in 90 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    reader.join().expect("reader")
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
