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
//! The report stays bounded on a ledger of many distinct flags and a fine bucket, and its
//! counts stay exact: flags past `max_rows` are added up in one `(other)` row, and a timeline
//! counted in one-second buckets is reported in wider ones.

use agentlog_analyze::ledger::OTHER;
use agentlog_analyze::timeline::MAX_REPORT_BUCKETS;
use agentlog_analyze::{Analyzer, Options, Report};

const RECORDS: u64 = 6_000;

/// A ledger of `RECORDS` denied calls `n`, one a second, each with one flag
/// `flag_<n mod 2500>`: 2,500 distinct flags. Agent `dev` makes calls 0-2499 and 5000-5999,
/// `ops` the others, so each flag is raised by both.
fn ledger() -> Vec<u8> {
    let mut out = String::new();
    for n in 0..RECORDS {
        let agent = if (n / 2500) % 2 == 0 { "dev" } else { "ops" };
        out.push_str(&format!(
            "{{\"ts\":{},\"session_id\":\"s{}\",\"agent\":\"{agent}\",\"tool\":\"exec\",\
             \"args_hash\":\"sha256:00\",\"result_status\":\"denied\",\"elapsed_ms\":0,\
             \"error_class\":null,\"risk_flags\":[\"flag_{}\"],\"artifacts\":[]}}\n",
            1_800_000_000 + n,
            n / 100,
            n % 2500
        ));
    }
    out.into_bytes()
}

fn run(options: Options) -> Report {
    let mut analyzer = Analyzer::new(options);
    analyzer.read("ledger", ledger().as_slice()).expect("reads");
    analyzer.finish()
}

#[test]
fn flags_past_max_rows_are_added_up_in_one_other_row() {
    let report = run(Options::default().with_max_rows(100).with_threads(1));
    let l = report.ledger.as_ref().expect("ledger figures");
    assert_eq!(l.risk_flags.len(), 101);
    let other = l.risk_flags.last().expect("a row");
    assert_eq!(other.flag, OTHER);
    let total: u64 = l.risk_flags.iter().map(|f| f.count).sum();
    assert_eq!(total, RECORDS);
    // flag_0 .. flag_999 occur three times (n, n + 2500, n + 5000), the rest twice.
    assert!(l.risk_flags[..100].iter().all(|f| f.count == 3));
    assert_eq!(other.count, RECORDS - 300);
    assert_eq!(other.agents, 2);
    assert_eq!(l.risk_flags[0].flag, "flag_0");
    assert_eq!(l.risk_flags[1].flag, "flag_1");
    // One denial row per agent, over all 2,500 flags each: dev's 3,500 calls (flags 0-999
    // twice), ops's 2,500 (each flag once).
    let rows: Vec<(&str, u64, u64, Option<&u64>, usize)> = (l.denials.iter())
        .map(|d| {
            let sum = d.flags.values().sum();
            (
                d.agent.as_str(),
                d.count,
                sum,
                d.flags.get(OTHER),
                d.flags.len(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("dev", 3500, 3500, Some(&3300), 101),
            ("ops", 2500, 2500, Some(&2400), 101)
        ]
    );
    let sessions: Vec<u64> = l.denials.iter().map(|d| d.sessions).collect();
    assert_eq!(sessions, [35, 25]);

    let all = run(Options::default().with_max_rows(usize::MAX).with_threads(1));
    let all = all.ledger.as_ref().expect("ledger figures");
    assert_eq!(all.risk_flags.len(), 2500);
    assert!(
        all.risk_flags
            .iter()
            .all(|f| f.agents == 2 && f.flag != OTHER)
    );
}

#[test]
fn the_report_is_the_same_on_one_thread_and_on_four() {
    // Batches of a quarter MiB: this ledger is several, so four workers share it.
    let big: Vec<u8> = ledger().repeat(3);
    let go = |threads: usize| {
        let mut analyzer = Analyzer::new(
            Options::default()
                .with_max_rows(50)
                .with_threads(threads)
                .with_bucket_seconds(Some(1)),
        );
        analyzer.read("big", big.as_slice()).expect("reads");
        analyzer.finish()
    };
    assert_eq!(go(1), go(4));
}

#[test]
fn a_fine_bucket_is_reported_in_wider_ones_with_the_same_counts() {
    let report = run(Options::default().with_bucket_seconds(Some(1)));
    let l = report.ledger.as_ref().expect("ledger figures");
    let timeline = &l.timeline;
    assert_eq!(timeline.counted_bucket_seconds, 1);
    // 6,000 one-second buckets: 2 s would still need 3,000, so 5 s.
    assert_eq!(timeline.bucket_seconds, 5);
    assert!(timeline.t.len() as i64 <= MAX_REPORT_BUCKETS);
    assert!(timeline.t.iter().all(|t| t % 5 == 0));
    let status: u64 = (timeline.series.iter())
        .filter(|s| s.group == "status")
        .flat_map(|s| &s.values)
        .sum();
    assert_eq!(status, RECORDS);
    let flags: u64 = (timeline.series.iter())
        .filter(|s| s.group == "flag")
        .flat_map(|s| &s.values)
        .sum();
    assert_eq!(flags, RECORDS);
}
