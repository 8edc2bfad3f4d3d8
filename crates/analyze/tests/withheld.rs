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
//! A report shows nothing of what it withheld: not its text, not where it would have sorted,
//! not whether it made a table's cut. Two ledgers that differ only in the value of a supplied
//! secret give the same report, byte for byte, whatever names an attacker put around it.

use agentlog_analyze::{Analyzer, Options};
use agentlog_validate::secrets::redact::Redactor;
use agentlog_validate::secrets::scan::SecretScanner;
use agentlog_validate::secrets::{Secret, SecretValue};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Where a record puts a name: which field carries it.
#[derive(Clone, Copy, Debug)]
enum Slot {
    Tool,
    Agent,
    Flag,
    ErrorClass,
}

/// One record: the slot, the name in it (`None`: the secret; `Some(i)`: probe `i`), and
/// whether the call was denied (else it failed).
type Plan = Vec<(Slot, Option<usize>, bool)>;

fn record(n: usize, slot: Slot, name: &str, denied: bool) -> String {
    let (mut tool, mut agent, mut flag, mut class) = ("exec", "dev", "net", "timeout");
    match slot {
        Slot::Tool => tool = name,
        Slot::Agent => agent = name,
        Slot::Flag => flag = name,
        Slot::ErrorClass => class = name,
    }
    let status = if denied { "denied" } else { "error" };
    serde_json::json!({
        "ts": 1_800_000_000 + n, "session_id": format!("s{}", n % 3), "agent": agent,
        "tool": tool, "args_hash": "sha256:00", "result_status": status,
        "elapsed_ms": 5, "error_class": class, "risk_flags": [flag], "artifacts": [],
    })
    .to_string()
        + "\n"
}

fn report(secret: &str, probes: &[String], plan: &Plan, max_rows: usize) -> String {
    let mut ledger = String::new();
    for (n, (slot, name, denied)) in plan.iter().enumerate() {
        let name = match name {
            None => secret,
            Some(i) => probes[i % probes.len()].as_str(),
        };
        ledger.push_str(&record(n, *slot, name, *denied));
    }
    let value = SecretValue::new(secret.to_owned());
    let scanner = SecretScanner::new(&[Secret::new("OP", value, vec![])]).expect("scanner");
    let redactor = Redactor::new(scanner, None);
    let options = Options::default()
        .with_redactor(redactor.clone())
        .with_max_rows(max_rows)
        .with_threads(1);
    let mut analyzer = Analyzer::new(options);
    analyzer.read("ledger", ledger.as_bytes()).expect("reads");
    let report = analyzer.finish();
    let json = agentlog_analyze::to_json(&report, &redactor).expect("json");
    let mut text = Vec::new();
    agentlog_analyze::text::write(&report, &mut text, 5).expect("text");
    format!("{json}\n{}", String::from_utf8_lossy(&text))
}

fn slot() -> impl Strategy<Value = Slot> {
    prop_oneof![
        Just(Slot::Tool),
        Just(Slot::Agent),
        Just(Slot::Flag),
        Just(Slot::ErrorClass)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_report_is_the_same_whatever_value_it_withheld(
        first in "[A-Z][a-zA-Z0-9]{11}",
        second in "[A-Z][a-zA-Z0-9]{11}",
        probes in prop::collection::vec("[ -~]{1,6}", 1..12),
        plan in prop::collection::vec(
            (slot(), prop::option::weighted(0.3, 0usize..12), any::<bool>()),
            1..40,
        ),
        max_rows in 1usize..4,
    ) {
        prop_assert_eq!(
            report(&first, &probes, &plan, max_rows),
            report(&second, &probes, &plan, max_rows)
        );
    }
}

#[test]
fn a_withheld_tool_does_not_sort_where_its_value_would() {
    let probes: Vec<String> = ["A", "M", "Z", "a", "m", "z"].map(String::from).into();
    let mut plan: Plan = (0..probes.len())
        .map(|i| (Slot::Tool, Some(i), false))
        .collect();
    plan.push((Slot::Tool, None, false));
    let early = report("Bq7vPw3nLk9x", &probes, &plan, 1000);
    let late = report("yq7vPw3nLk9x", &probes, &plan, 1000);
    assert_eq!(early, late);
    assert!(early.contains("[redacted]"), "{early}");
}

fn analyze_json(ledger: &str, secret: &str, max_rows: usize) -> serde_json::Value {
    let value = SecretValue::new(secret.to_owned());
    let scanner = SecretScanner::new(&[Secret::new("OP", value, vec![])]).expect("scanner");
    let redactor = Redactor::new(scanner, None);
    let options = Options::default()
        .with_redactor(redactor.clone())
        .with_max_rows(max_rows);
    let mut analyzer = Analyzer::new(options);
    analyzer.read("ledger", ledger.as_bytes()).expect("reads");
    agentlog_analyze::to_json(&analyzer.finish(), &redactor).expect("json")
}

#[test]
fn a_numeric_secret_in_ts_is_not_shown_as_its_date() {
    // 73910482 seconds is 1972-05-05T10:41:22Z.
    let line = record(0, Slot::Tool, "exec", false).replace("1800000000", "73910482");
    let json = analyze_json(&line, "73910482", 1000);
    let text = json.to_string();
    assert!(!text.contains("1972-05-05"), "{text}");
    // The record counts, untimed: its time is not a time.
    assert_eq!(json["ledger"]["first_ts"], Value::Null, "{text}");
    assert_eq!(json["ledger"]["untimed_records"], 1, "{text}");
    assert_eq!(json["ledger"]["failures"][0]["count"], 1, "{text}");
    // Another PIN: the date is shown.
    let json = analyze_json(&line, "55501234", 1000);
    assert_eq!(json["ledger"]["first_ts"], "1972-05-05T10:41:22Z");
}

#[test]
fn names_that_read_like_the_reports_markers_are_escaped() {
    let mut ledger = String::new();
    for (n, flag) in ["(other)", "(other)", "a", "b", "c"].iter().enumerate() {
        ledger.push_str(&record(n, Slot::Flag, flag, true));
    }
    ledger.push_str(&record(9, Slot::Tool, "[redacted]", true));
    let json = analyze_json(&ledger, "Zq7vPw3nLk9xTb2m", 1);
    let flags: Vec<(&str, u64)> = (json["ledger"]["risk_flags"].as_array().expect("rows"))
        .iter()
        .map(|r| {
            (
                r["flag"].as_str().unwrap_or(""),
                r["count"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    // The log's `(other)` is its most frequent flag; the report's own `(other)` row adds up
    // the rest.
    assert_eq!(flags, [("\\u{0028}other)", 2), ("(other)", 4)]);
    let text = json.to_string();
    assert!(!text.contains("\"[redacted]\""), "{text}");
    assert!(text.contains("\\\\u{005B}redacted]"), "{text}");
}

/// A secret number is left out of every figure: means, sums and time buckets computed from
/// it would give it back (`2 * mean - other`).
#[test]
fn a_secret_number_is_left_out_of_every_figure() {
    let pin = "48213977";
    let mut ledger = String::new();
    for (n, elapsed) in ["10", pin, "30"].iter().enumerate() {
        let line = record(n, Slot::Tool, "exec", false)
            .replace("\"elapsed_ms\":5", &format!("\"elapsed_ms\":{elapsed}"));
        ledger.push_str(&line);
    }
    // A numeric ts equal to the PIN: the record is counted, untimed.
    ledger.push_str(&record(7, Slot::Tool, "exec", false).replace("1800000007", pin));
    let json = analyze_json(&ledger, pin, 1000);
    let text = json.to_string();
    let tool = &json["ledger"]["tools"][0];
    assert_eq!(tool["calls"], 4, "{text}");
    assert_eq!(tool["elapsed"]["max_ms"], 30, "{text}");
    assert_eq!(json["ledger"]["untimed_records"], 1, "{text}");
    assert_eq!(json["files"][0]["secret_numbers"]["count"], 2, "{text}");
    assert_eq!(
        json["files"][0]["secret_numbers"]["lines"],
        json!([2, 4]),
        "{text}"
    );
    // Nothing computed from the PIN: no mean or sum is shown that gives it back.
    let mean = tool["elapsed"]["mean_ms"].as_f64().unwrap_or(0.0);
    assert!((mean - 15.0).abs() < 1e-9, "{text}");
    assert!(!text.contains(pin) && !text.contains("24106993"), "{text}");
}

/// Numbers are judged as written: digits an `f64` cannot hold (`S.999999999` rounds to
/// `S + 1`) do not hide a secret, and a secret inside a string `ts` makes the record untimed.
#[test]
fn numbers_are_judged_as_written_and_string_times_too() {
    let secret = "1795478398";
    let line =
        record(0, Slot::Tool, "exec", false).replace("1800000000", &format!("{secret}.999999999"));
    let json = analyze_json(&line, secret, 1000);
    assert_eq!(json["ledger"]["untimed_records"], 1, "{json}");
    assert!(!json.to_string().contains("1795478399"), "{json}");
    // A sandbox response whose cost is written with more digits than a float keeps.
    let cost = "12345677";
    let response = format!(
        "{{\"ts\":\"2026-11-23T16:00:00Z\",\"run_id\":\"r\",\"agent_system\":\"a\",\"event_type\":\"llm_response\",\"summary\":\"s\",\"data\":{{\"host\":\"h\",\"status_code\":200,\"duration_ms\":5,\"model\":\"m\",\"input_tokens\":1,\"output_tokens\":1,\"cost_usd\":{cost}.99999999999}}}}\n"
    );
    let json = analyze_json(&response, cost, 1000);
    assert_eq!(json["files"][0]["secret_numbers"]["count"], 1, "{json}");
    assert!(!json.to_string().contains("12345678"), "{json}");
    // A secret in a string time: the event counts, untimed.
    let timed = response.replace(&format!("{cost}.99999999999"), "0.5");
    let json = analyze_json(&timed, "T16:00:00Z", 1000);
    assert_eq!(json["sandbox"]["untimed_events"], 1, "{json}");
    assert_eq!(json["sandbox"]["events"], 1, "{json}");
}

/// A number in exponent form with more digits than a float keeps is judged written out.
#[test]
fn exponent_forms_are_judged_written_out() {
    let secret = "1795478101";
    let line =
        record(0, Slot::Tool, "exec", false).replace("1800000000", "1.79547810199999999999e9");
    let json = analyze_json(&line, secret, 1000);
    assert_eq!(json["ledger"]["untimed_records"], 1, "{json}");
    assert!(!json.to_string().contains("1795478102"), "{json}");
}

/// A count a transform's reason starts with (`N secret(s) ...`) is a number too: one that
/// carries a secret is not added up.
#[test]
fn a_secret_count_in_a_reason_is_not_added_up() {
    let transform = |n: &str| {
        format!(
            "{{\"ts\":\"2026-11-23T16:00:00Z\",\"run_id\":\"r\",\"agent_system\":\"a\",\"event_type\":\"request_transform\",\"summary\":\"s\",\"plugin\":\"p\",\"data\":{{\"host\":\"h\",\"action\":\"modify\",\"reason\":\"{n} secret(s) injected\"}}}}\n"
        )
    };
    for secret in ["12345678", "00012345"] {
        let log = transform(secret) + &transform("1");
        let json = analyze_json(&log, secret, 1000);
        let text = json.to_string();
        let shown = secret.trim_start_matches('0');
        assert!(!text.contains(shown), "{secret}: {text}");
        assert_eq!(json["sandbox"]["transforms"][0]["secrets"], 1, "{text}");
    }
}
