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
//! No secret value in any output of the analysis: names copied from a log that carry a
//! credential (the validator's built-in detector) or a supplied secret are withheld in the
//! text, JSON and HTML outputs, while ordinary names and every count stay.

use agentlog_analyze::{Analyzer, Options, Report};
use agentlog_validate::secrets::redact::Redactor;
use agentlog_validate::secrets::{Secret, SecretValue};

/// An OpenAI-shaped key the built-in detector knows.
const KEY: &str = "sk-proj-Q7fL2mZx9RkT4vWb8NcY1hJd6GsPq3Ue5AoXi0Kr";
/// A value only known because it is supplied.
const SUPPLIED: &str = "Zq9xXyWs3cr3Tk77";

fn ledger_line(agent: &str, tool: &str, status: &str, class: &str, flag: &str) -> String {
    format!(
        "{{\"ts\":1800000010,\"session_id\":\"s1\",\"agent\":\"{agent}\",\"tool\":\"{tool}\",\
         \"args_hash\":\"sha256:{}\",\"result_status\":\"{status}\",\"elapsed_ms\":5,\
         \"error_class\":\"{class}\",\"risk_flags\":[\"{flag}\"],\"artifacts\":[]}}\n",
        "0".repeat(64)
    )
}

fn sandbox_line(event_type: &str, data: &str) -> String {
    format!(
        "{{\"ts\":\"2027-01-15T08:00:00.5Z\",\"run_id\":\"vm-1\",\"agent_system\":\"a\",\
         \"event_type\":\"{event_type}\",\"summary\":\"s\",\"data\":{data}}}\n"
    )
}

/// A ledger and a sandbox log with the key and the supplied value in every kind of name,
/// next to ordinary names.
fn logs() -> (String, String) {
    let mut ledger = String::new();
    ledger += &ledger_line(
        "dev_agent",
        "web_fetch",
        "error",
        "ConnectionError",
        "path_denied",
    );
    ledger += &ledger_line("dev_agent", KEY, "error", &format!("Bad {KEY}"), KEY);
    ledger += &ledger_line(SUPPLIED, "exec_shell", "denied", SUPPLIED, "secret_attempt");
    ledger += &ledger_line(
        "ops_agent",
        &format!("t-{SUPPLIED}"),
        "timeout",
        "TimeoutError",
        "x",
    );
    ledger += &ledger_line("dev_agent", "deploy", "denied", "PermissionError", "x");
    let mut sandbox = String::new();
    let response = |host: &str, model: &str| {
        format!(
            "{{\"method\":\"POST\",\"host\":\"{host}\",\"path\":\"/v1\",\"status_code\":500,\
             \"duration_ms\":100,\"body_bytes\":10,\"model\":\"{model}\",\"input_tokens\":10,\
             \"output_tokens\":5,\"cost_usd\":0.5,\"cost_source\":\"{host}\"}}"
        )
    };
    for (host, model) in [
        ("api.openai.com", "gpt-4o-mini"),
        (KEY, SUPPLIED),
        (SUPPLIED, KEY),
    ] {
        let request = format!(
            "{{\"method\":\"POST\",\"host\":\"{host}\",\"path\":\"/v1\",\
             \"model\":\"{model}\",\"routed\":false}}"
        );
        sandbox += &sandbox_line("llm_request", &request);
        sandbox += &sandbox_line("llm_response", &response(host, model));
    }
    let injection = |name: &str, host: &str| {
        format!("{{\"secret_name\":\"{name}\",\"host\":\"{host}\",\"action\":\"leak_blocked\"}}")
    };
    sandbox += &sandbox_line(
        "key_injection",
        &injection("OPENAI_API_KEY", "api.openai.com"),
    );
    sandbox += &sandbox_line("key_injection", &injection(KEY, SUPPLIED));
    (ledger, sandbox)
}

fn analyze(options: Options) -> Report {
    let (ledger, sandbox) = logs();
    let mut analyzer = Analyzer::new(options);
    analyzer.read("ledger.jsonl", ledger.as_bytes()).unwrap();
    analyzer.read("sandbox.jsonl", sandbox.as_bytes()).unwrap();
    // A file label carrying the supplied value.
    analyzer
        .read(&format!("logs/{SUPPLIED}.jsonl"), sandbox.as_bytes())
        .unwrap();
    analyzer.finish()
}

/// Text, JSON and HTML of `report`.
fn outputs(report: &Report) -> [(&'static str, String); 3] {
    let mut text = Vec::new();
    agentlog_analyze::text::write(report, &mut text, 100).unwrap();
    let mut html = Vec::new();
    agentlog_analyze::html::write(report, &Redactor::none(), &mut html).unwrap();
    [
        ("text", String::from_utf8(text).unwrap()),
        ("json", serde_json::to_string(report).unwrap()),
        ("html", String::from_utf8(html).unwrap()),
    ]
}

fn redacting() -> Options {
    let secret = Secret::new("TOKEN", SecretValue::new(SUPPLIED.to_owned()), vec![]);
    let redactor = agentlog_validate::Options::default()
        .with_secrets(vec![secret])
        .redactor()
        .unwrap();
    Options::default().with_redactor(redactor)
}

#[test]
fn no_output_shows_a_detected_or_supplied_secret() {
    let report = analyze(redacting());
    for (name, out) in outputs(&report) {
        for value in [KEY, SUPPLIED, "Q7fL2mZx9RkT4vWb8NcY1hJd6GsPq3Ue5AoXi0Kr"] {
            assert!(!out.contains(value), "{name} output shows {value}");
        }
        assert!(
            out.contains("[redacted]"),
            "{name} output shows no withheld name"
        );
        for ordinary in [
            "web_fetch",
            "exec_shell",
            "ConnectionError",
            "dev_agent",
            "path_denied",
            "api.openai.com",
            "gpt-4o-mini",
            "OPENAI_API_KEY",
            "sandbox.jsonl",
        ] {
            assert!(out.contains(ordinary), "{name} output lost {ordinary}");
        }
    }
    // Withheld, not dropped: every record is still counted.
    let ledger = report.ledger.as_ref().unwrap();
    assert_eq!(ledger.tool_calls, 5);
    assert_eq!(ledger.tools.iter().map(|t| t.calls).sum::<u64>(), 5);
    let sandbox = report.sandbox.as_ref().unwrap();
    assert_eq!(sandbox.totals.responses, 6);
    assert_eq!(sandbox.totals.leaks_blocked, 4);
    assert_eq!(
        report.files[2].path,
        agentlog_validate::WITHHELD_PATH,
        "a file name with a secret"
    );
}

#[test]
fn names_that_show_a_key_side_by_side_in_a_row_are_withheld() {
    let inject = |name: &str, host: &str, action: &str| {
        sandbox_line(
            "key_injection",
            &format!(r#"{{"secret_name":"{name}","host":"{host}","action":"{action}"}}"#),
        )
    };
    let log = [
        inject("AKIAZQ7V", "K2PX9MW4NR8T", "injected"),
        inject("OPENAI", "AKIAZQ7VK2", "PX9MW4NR8T"),
        inject("OPENAI_API_KEY", "api.openai.com", "injected"),
    ]
    .concat();
    let mut analyzer = Analyzer::new(Options::default());
    analyzer.read("sandbox.jsonl", log.as_bytes()).unwrap();
    let report = analyzer.finish();
    for (name, out) in outputs(&report) {
        assert!(!out.contains("K2PX9MW4NR8T"), "{name}: {out}");
        assert!(!out.contains("PX9MW4NR8T"), "{name}: {out}");
        assert!(
            out.contains("api.openai.com"),
            "{name} lost an ordinary row"
        );
    }
    // Withheld, not dropped: the injections are still counted.
    let counted: u64 = report
        .sandbox
        .as_ref()
        .unwrap()
        .injections
        .iter()
        .flat_map(|row| row.by_action.values())
        .sum();
    assert_eq!(counted, 3);
}

#[test]
fn the_default_withholds_detected_keys_and_only_them() {
    let report = analyze(Options::default());
    let json = serde_json::to_string(&report).unwrap();
    assert!(
        !json.contains(KEY),
        "the built-in detector is on by default"
    );
    // Nothing said the supplied value is a secret: it is an ordinary name here.
    assert!(json.contains(SUPPLIED));
}

#[test]
fn withheld_names_that_become_the_same_are_added_up() {
    let report = analyze(redacting());
    let sandbox = report.sandbox.as_ref().unwrap();
    // Two cost sources carried a secret (the hosts were copied into them), six responses.
    let by_source: u64 = sandbox
        .by_model_host
        .iter()
        .flat_map(|r| r.cost_by_source.values())
        .sum();
    assert_eq!(by_source, 6);
    let series = &sandbox.timeline.series;
    let keys: Vec<_> = series.iter().map(|s| (&s.group, &s.key)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted, "timeline series are unique and sorted");
    let requests: u64 = series
        .iter()
        .filter(|s| s.group == "requests")
        .flat_map(|s| &s.values)
        .sum();
    let withheld: u64 = series
        .iter()
        .filter(|s| s.group == "requests" && s.key == "[redacted]")
        .flat_map(|s| &s.values)
        .sum();
    assert_eq!((requests, withheld), (6, 4));
}
