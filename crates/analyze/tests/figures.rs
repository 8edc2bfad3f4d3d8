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
//! Figures on the two generated logs of `testdata/analyze/` (written by its `gen.py`) equal
//! the ones computed by hand from the generator's plan; each assertion can fail on its own.

use std::path::{Path, PathBuf};

use agentlog_analyze::{Analyzer, Concern, ObservationKind, Options, Report, analyze_paths};

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/analyze")
        .join(name)
}

fn analyze(name: &str) -> Report {
    analyze_paths(
        &[testdata(name)],
        Options::default().with_bucket_seconds(Some(3600)),
    )
    .expect("analyzes")
}

#[test]
fn ledger_counts_and_skipped_lines() {
    let report = analyze("ledger.jsonl");
    let file = &report.files[0];
    assert_eq!(file.family, Some(agentlog_analyze::Family::Ledger));
    assert_eq!((file.lines, file.records), (50, 48));
    assert_eq!(file.skipped["not_json"].lines, vec![6]);
    assert_eq!(file.skipped["blank"].lines, vec![10]);
    let l = report.ledger.as_ref().expect("ledger figures");
    assert_eq!(
        (l.tool_calls, l.risk_events, l.telemetry_records),
        (30, 17, 1)
    );
    let status: Vec<(&str, u64)> = l.by_status.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        status,
        [("denied", 4), ("error", 4), ("success", 21), ("timeout", 1)]
    );
    assert_eq!(l.first_ts.as_deref(), Some("2027-01-15T08:00:10Z"));
    assert_eq!(l.last_ts.as_deref(), Some("2027-01-15T17:00:00Z"));
    assert!(report.sandbox.is_none());
}

#[test]
fn ledger_recurring_failures_over_time() {
    let report = analyze("ledger.jsonl");
    let l = report.ledger.as_ref().expect("ledger figures");
    let f = &l.failures[0];
    // Four ConnectionErrors of web_fetch at hours 0, 1, 1 and 5: three hour buckets.
    assert_eq!(
        (f.tool.as_str(), f.error_class.as_str()),
        ("web_fetch", "ConnectionError")
    );
    assert_eq!((f.count, f.errors, f.timeouts, f.buckets), (4, 4, 0, 3));
    assert_eq!(f.first_ts.as_deref(), Some("2027-01-15T08:00:10Z"));
    assert_eq!(f.last_ts.as_deref(), Some("2027-01-15T13:00:10Z"));
    let t = &l.failures[1];
    assert_eq!(
        (t.error_class.as_str(), t.count, t.timeouts),
        ("TimeoutError", 1, 1)
    );
    assert_eq!(l.failures.len(), 2);
}

#[test]
fn ledger_permission_gaps_with_flags() {
    let report = analyze("ledger.jsonl");
    let l = report.ledger.as_ref().expect("ledger figures");
    let d = &l.denials[0];
    assert_eq!(
        (d.agent.as_str(), d.tool.as_str(), d.count, d.sessions),
        ("dev_agent", "exec_shell", 3, 2)
    );
    let flags: Vec<(&str, u64)> = d.flags.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        flags,
        [
            ("denial:network", 1),
            ("network_denied", 1),
            ("path_denied", 2)
        ]
    );
    assert_eq!(
        (l.denials[1].agent.as_str(), l.denials[1].count),
        ("ops_agent", 1)
    );
}

#[test]
fn ledger_risk_flags_and_spikes() {
    let report = analyze("ledger.jsonl");
    let l = report.ledger.as_ref().expect("ledger figures");
    let inj = &l.risk_flags[0];
    assert_eq!(
        (
            inj.flag.as_str(),
            inj.count,
            inj.in_risk_events,
            inj.seed_flag
        ),
        ("injection_attempt", 17, 17, true)
    );
    let denial = l
        .risk_flags
        .iter()
        .find(|f| f.flag == "denial:network")
        .expect("flag");
    assert!(!denial.seed_flag);
    // injection_attempt per hour: 0:1 1:3 2:1 6:4 7:3 8:5. Hour 1 has one bucket of history
    // (< 3); hour 6: 4 > 3 x 5/6; hour 7: 3 <= 3 x 8/6; hour 8: 5 > 3 x 8/6.
    let spikes: Vec<(&str, &str, u64, f64, i64)> = l
        .spikes
        .iter()
        .map(|s| {
            (
                s.flag.as_str(),
                s.bucket_start.as_str(),
                s.count,
                s.baseline,
                s.window,
            )
        })
        .collect();
    assert_eq!(
        spikes,
        [
            ("injection_attempt", "2027-01-15T14:00:00Z", 4, 0.833, 6),
            ("injection_attempt", "2027-01-15T16:00:00Z", 5, 1.333, 6),
        ]
    );
}

#[test]
fn ledger_slowest_tools_nearest_rank() {
    let report = analyze("ledger.jsonl");
    let l = report.ledger.as_ref().expect("ledger figures");
    let tool = |name: &str| l.tools.iter().find(|t| t.tool == name).expect("tool");
    // web_fetch ran 5 times: 5, 7, 9, 11, 30000 ms. p50 = rank 3, p95 = rank 5.
    let w = tool("web_fetch").elapsed.clone().expect("timed");
    assert_eq!(
        (w.count, w.p50_ms, w.p95_ms, w.max_ms),
        (5, 9, 30000, 30000)
    );
    // file_editor: 10, 20, ..., 200 ms. p50 = rank 10 = 100, p95 = rank 19 = 190.
    let f = tool("file_editor").elapsed.clone().expect("timed");
    assert_eq!(
        (f.count, f.p50_ms, f.p95_ms, f.max_ms, f.mean_ms),
        (20, 100, 190, 200, 105.0)
    );
    // Denied calls never ran: no elapsed figures.
    assert!(tool("exec_shell").elapsed.is_none());
    assert_eq!(l.tools[0].tool, "web_fetch", "slowest p95 first");
}

#[test]
fn ledger_findings_and_proposals() {
    let report = analyze("ledger.jsonl");
    let kinds: Vec<(Concern, ObservationKind, &str)> = report
        .findings
        .iter()
        .map(|f| (f.severity, f.kind, f.subject.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (
                Concern::High,
                ObservationKind::SecurityFlag,
                "injection_attempt"
            ),
            (
                Concern::High,
                ObservationKind::RiskSpike,
                "injection_attempt at 2027-01-15T14:00:00Z"
            ),
            (
                Concern::High,
                ObservationKind::RiskSpike,
                "injection_attempt at 2027-01-15T16:00:00Z"
            ),
            (
                Concern::Warning,
                ObservationKind::RecurringFailure,
                "web_fetch / ConnectionError"
            ),
            (
                Concern::Warning,
                ObservationKind::PermissionGap,
                "dev_agent / exec_shell"
            ),
            (Concern::Info, ObservationKind::SlowTool, "web_fetch"),
        ]
    );
    for f in &report.findings {
        assert!(
            !f.proposal.is_empty() && !f.proposal.contains('\n'),
            "{f:?}"
        );
    }
}

#[test]
fn sandbox_requests_tokens_cost() {
    let report = analyze("sandbox.jsonl");
    assert_eq!(report.files[0].skipped["not_json"].lines, vec![4]);
    let s = report.sandbox.as_ref().expect("sandbox figures");
    assert_eq!(s.events, 25);
    let t = &s.totals;
    assert_eq!((t.requests, t.responses), (6, 6));
    assert_eq!(
        (t.input_tokens, t.output_tokens, t.cached_input_tokens),
        (131, 63, 2)
    );
    // 0.5 + 0.25 + 0.125 + 0.0012, summed in nano-dollars.
    assert_eq!(t.cost_usd, 0.8762);
    assert_eq!(t.priced_responses, 4);
    let row = |model: &str, host: &str| {
        s.by_model_host
            .iter()
            .find(|r| r.model == model && r.host == host)
            .expect("row")
    };
    let o = row("gpt-4o-mini", "api.openai.com");
    assert_eq!(
        (
            o.requests,
            o.responses,
            o.input_tokens,
            o.output_tokens,
            o.cost_usd
        ),
        (3, 3, 30, 12, 0.75)
    );
    assert_eq!(
        (
            o.cost_by_source["provider"],
            o.cost_by_source["price_table"],
            o.usage_unknown
        ),
        (1, 1, 1)
    );
    let a = row("claude-x", "api.anthropic.com");
    assert_eq!(
        (a.requests, a.responses, a.cost_usd, a.usage_partial),
        (2, 2, 0.125, 1)
    );
    // v1 requests name no model.
    assert_eq!(row("(none)", "openrouter.ai").requests, 1);
    assert_eq!(row("gpt-oss:20b", "openrouter.ai").cost_usd, 0.0012);
}

/// `(secret, host, [(action, count)])`.
type InjectionRow<'a> = (&'a str, &'a str, Vec<(&'a str, u64)>);

#[test]
fn sandbox_injections_leaks_gates() {
    let report = analyze("sandbox.jsonl");
    let s = report.sandbox.as_ref().expect("sandbox figures");
    let inj: Vec<InjectionRow<'_>> = s
        .injections
        .iter()
        .map(|r| {
            let actions = r.by_action.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            (r.secret_name.as_str(), r.host.as_str(), actions)
        })
        .collect();
    assert_eq!(
        inj,
        [
            (
                "ANTHROPIC_API_KEY",
                "api.anthropic.com",
                vec![("injected", 2), ("skipped", 1)]
            ),
            ("OPENAI_API_KEY", "api.openai.com", vec![("injected", 3)]),
            ("OPENAI_API_KEY", "evil.example", vec![("leak_blocked", 2)]),
        ]
    );
    assert_eq!((s.transforms[0].events, s.transforms[0].secrets), (1, 2));
    assert_eq!(
        (s.leaks_blocked[0].host.as_str(), s.leaks_blocked[0].count),
        ("evil.example", 2)
    );
    let g = &s.gates[0];
    assert_eq!(
        (g.host.as_str(), g.blocked, g.allowed),
        ("evil.example", 2, 0)
    );
    assert_eq!(g.reasons["host not in allowlist"], 2);
    assert_eq!(
        (
            s.totals.injected,
            s.totals.leaks_blocked,
            s.totals.gates_blocked
        ),
        (5, 2, 2)
    );
    assert_eq!(s.budget_actions["warn"], 1);
}

#[test]
fn sandbox_error_rates_and_latency() {
    let report = analyze("sandbox.jsonl");
    let s = report.sandbox.as_ref().expect("sandbox figures");
    let e: Vec<(&str, u64, u64, f64, u64)> = s
        .errors
        .iter()
        .map(|r| {
            (
                r.host.as_str(),
                r.responses,
                r.errors,
                r.error_rate,
                r.usage_unknown,
            )
        })
        .collect();
    assert_eq!(
        e,
        [
            ("api.anthropic.com", 2, 1, 0.5, 0),
            ("api.openai.com", 3, 1, 0.3333, 1),
            ("openrouter.ai", 1, 0, 0.0, 0),
        ]
    );
    // All durations: 50, 100, 200, 300, 1000, 20000: p50 = rank 3, p95 = rank 6.
    let all = s.latency.clone().expect("latency");
    assert_eq!(
        (all.count, all.p50_ms, all.p95_ms, all.max_ms),
        (6, 200, 20000, 20000)
    );
    let host = |h: &str| {
        s.latency_by_host
            .iter()
            .find(|r| r.name == h)
            .expect("host")
            .latency
            .clone()
    };
    assert_eq!(
        (host("api.openai.com").p50_ms, host("api.openai.com").p95_ms),
        (100, 300)
    );
    assert_eq!(
        (
            host("api.anthropic.com").p50_ms,
            host("api.anthropic.com").p95_ms
        ),
        (1000, 20000)
    );
    let kinds: Vec<ObservationKind> = report.findings.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [
            ObservationKind::LeakBlocked,
            ObservationKind::GateBlocked,
            ObservationKind::ErrorRate,
            ObservationKind::ErrorRate,
            ObservationKind::UsageUnknown,
            ObservationKind::SlowHost,
            ObservationKind::CostConcentration,
        ]
    );
}

#[test]
fn timeline_series_add_up_to_the_totals() {
    let report = analyze("sandbox.jsonl");
    let s = report.sandbox.as_ref().expect("sandbox figures");
    let sum = |group: &str, key: &str| -> u64 {
        s.timeline
            .series
            .iter()
            .filter(|x| x.group == group && x.key == key)
            .flat_map(|x| &x.values)
            .sum()
    };
    assert_eq!(s.timeline.bucket_seconds, 3600);
    assert_eq!(
        s.timeline.t,
        vec![1_800_000_000, 1_800_003_600, 1_800_007_200, 1_800_010_800]
    );
    assert_eq!((sum("tokens", "input"), sum("tokens", "output")), (131, 63));
    assert_eq!(sum("cost", "nano_usd"), 876_200_000);
    assert_eq!((sum("blocked", "leaks"), sum("blocked", "gates")), (2, 2));
}

#[test]
fn bad_lines_never_stop_the_analysis() {
    let mut input = Vec::new();
    input.extend_from_slice(
        b"{\"tool\":\"t\",\"result_status\":\"success\",\"elapsed_ms\":\"slow\"}\n",
    );
    input.extend_from_slice(b"\xff\xfe not utf-8\n");
    input.extend_from_slice(&[b'x'; 300]);
    input.extend_from_slice(b"\n{\"hello\":1}\n[1,2]\n");
    input.extend_from_slice(
        b"{\"ts\":5,\"agent\":\"a\",\"tool\":\"t\",\"result_status\":\"error\",\"elapsed_ms\":3}",
    );
    let mut analyzer = Analyzer::new(Options::default().with_max_line_len(100));
    analyzer.read("mixed", input.as_slice()).expect("reads");
    let report = analyzer.finish();
    let f = &report.files[0];
    assert_eq!((f.lines, f.records), (6, 1), "{f:?}");
    let kinds: Vec<(&str, Vec<u64>)> = f
        .skipped
        .iter()
        .map(|(k, v)| (*k, v.lines.clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("malformed", vec![1, 5]),
            ("not_json", vec![2]),
            ("too_long", vec![3]),
            ("unrecognised", vec![4]),
        ]
    );
    assert_eq!(report.ledger.expect("ledger").failures[0].count, 1);
}

#[test]
fn threads_do_not_change_the_report() {
    // 400 copies of the generated ledger and sandbox log (about 8 MiB): many batches, so
    // several threads share the work; the report must be the same as on one thread.
    let ledger = std::fs::read(testdata("ledger.jsonl")).expect("read");
    let sandbox = std::fs::read(testdata("sandbox.jsonl")).expect("read");
    let mut big = Vec::new();
    for _ in 0..400 {
        big.extend_from_slice(&ledger);
        big.extend_from_slice(&sandbox);
    }
    let run = |threads: usize, bucket: Option<u64>| {
        let options = Options::default()
            .with_threads(threads)
            .with_bucket_seconds(bucket);
        let mut analyzer = Analyzer::new(options);
        analyzer.read("big", big.as_slice()).expect("reads");
        analyzer.finish()
    };
    for bucket in [None, Some(3600)] {
        let one = run(1, bucket);
        let four = run(4, bucket);
        assert_eq!(one, four, "bucket {bucket:?}");
        let f = &four.files[0];
        assert_eq!(f.lines, 400 * 76);
        // not JSON: line 6 of each ledger copy and line 4 of each sandbox copy.
        let expected: Vec<u64> = (0..50u64).flat_map(|k| [k * 76 + 6, k * 76 + 54]).collect();
        assert_eq!(f.skipped["not_json"].lines, expected);
        assert_eq!(f.skipped["not_json"].count, 800);
        assert_eq!(four.ledger.as_ref().map(|l| l.tool_calls), Some(400 * 30));
        assert_eq!(
            four.sandbox.as_ref().map(|s| s.totals.cost_usd),
            Some(400.0 * 0.8762)
        );
    }
}

#[test]
fn huge_numbers_saturate_and_never_panic() {
    let max = u64::MAX;
    let line = format!(
        "{{\"ts\":\"2027-01-15T08:00:00Z\",\"event_type\":\"llm_response\",\"data\":{{\"host\":\"h\",\"status_code\":{max},\"duration_ms\":{max},\"input_tokens\":{max},\"output_tokens\":{max},\"cached_input_tokens\":{max},\"cost_usd\":1.7e10,\"cost_source\":\"provider\"}}}}\n\
         {{\"ts\":\"2027-01-15T08:00:00Z\",\"event_type\":\"request_transform\",\"plugin\":\"secret_injector\",\"data\":{{\"host\":\"h\",\"action\":\"injected\",\"reason\":\"{max} secret(s) injected for h\"}}}}\n\
         {{\"ts\":{max},\"agent\":\"a\",\"tool\":\"t\",\"result_status\":\"success\",\"elapsed_ms\":{max}}}\n\
         {{\"ts\":-9223372036854775808,\"agent\":\"a\",\"tool\":\"t\",\"result_status\":\"success\",\"elapsed_ms\":{max}}}\n\
         {{\"ts\":253402300799,\"agent\":\"a\",\"tool\":\"t\",\"result_status\":\"success\",\"elapsed_ms\":1}}\n\
         {{\"ts\":-62135596800,\"agent\":\"a\",\"tool\":\"t\",\"result_status\":\"success\",\"elapsed_ms\":1,\"risk_flags\":[\"x\",\"x\",\"x\"]}}\n"
    );
    let text = line.repeat(3);
    for threads in [1, 2] {
        let mut analyzer = Analyzer::new(Options::default().with_threads(threads));
        analyzer.read("huge", text.as_bytes()).expect("reads");
        let report = analyzer.finish();
        let s = report.sandbox.expect("sandbox");
        assert_eq!(s.totals.input_tokens, max);
        assert_eq!(s.transforms[0].secrets, max);
        let l = report.ledger.expect("ledger");
        assert_eq!(l.tools[0].elapsed.as_ref().map(|p| p.p95_ms), Some(max));
    }
}

#[test]
fn the_page_escapes_what_logs_say() {
    let evil = "<script>alert(1)</script>";
    let line = format!(
        "{{\"ts\":1800000000,\"agent\":\"a\",\"tool\":\"{evil}\",\"result_status\":\"error\",\"elapsed_ms\":1,\"error_class\":\"</script><b>\",\"risk_flags\":[\"{evil}\"]}}\n"
    );
    let mut analyzer = Analyzer::new(Options::default());
    analyzer
        .read("evil", line.repeat(3).as_bytes())
        .expect("reads");
    let mut page = Vec::new();
    agentlog_analyze::html::write(
        &analyzer.finish(),
        &agentlog_validate::secrets::redact::Redactor::none(),
        &mut page,
    )
    .expect("writes");
    let page = String::from_utf8(page).expect("UTF-8");
    assert!(!page.contains(evil) && !page.contains("</script><b>"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        page.contains("\\u003cscript\\u003ealert(1)"),
        "embedded JSON escapes <"
    );
}

#[test]
fn over_long_lines_keep_every_line_number_across_batches() {
    // About 2 MiB of ledger copies (several 1 MiB batches; the first cut short by the skipped
    // line, so read on this thread, the rest on workers), with a 600 KiB line the line reader
    // skips unbuffered (longer than one read), a 2 KiB line it hands over whole (the
    // analyzer's own length check), and a last line without a newline.
    let ledger = std::fs::read(testdata("ledger.jsonl")).expect("read");
    let (before, after) = (60u64, 100u64);
    let mut big = Vec::new();
    for _ in 0..before {
        big.extend_from_slice(&ledger);
    }
    big.extend_from_slice(&vec![b'x'; 600 << 10]);
    big.push(b'\n');
    big.extend_from_slice(&vec![b'y'; 2 << 10]);
    big.push(b'\n');
    for _ in 0..after {
        big.extend_from_slice(&ledger);
    }
    big.extend_from_slice(b"not json, torn");
    let half = before * 50;
    for threads in [1, 4] {
        let options = Options::default()
            .with_threads(threads)
            .with_max_line_len(1000);
        let mut analyzer = Analyzer::new(options);
        analyzer.read("big", big.as_slice()).expect("reads");
        let report = analyzer.finish();
        let f = &report.files[0];
        assert_eq!(f.lines, (before + after) * 50 + 3, "threads {threads}");
        assert_eq!(f.bytes, big.len() as u64);
        assert_eq!(f.skipped["too_long"].lines, vec![half + 1, half + 2]);
        assert_eq!(f.skipped["not_json"].count, before + after + 1);
        // Line 6 of each copy is not JSON; the last line is the torn one.
        let not_json = &f.skipped["not_json"].lines;
        assert_eq!(not_json.first(), Some(&6));
        let first_after = usize::try_from(before).unwrap();
        assert_eq!(
            not_json.get(first_after),
            Some(&(half + 2 + 6)),
            "after the skipped lines"
        );
        assert_eq!(
            report.ledger.as_ref().map(|l| l.tool_calls),
            Some((before + after) * 30)
        );
    }
}
