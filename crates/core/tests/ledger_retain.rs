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
//! Retention: the policy's final state, idempotence, dry runs, and crash safety.
//!
//! The crash test runs retention on a fixture directory once without interruption and counts
//! its file-system steps; then, for every step, runs it again on a fresh copy of the fixture,
//! stops it right after that step (the library's step hook: the directory is left as a kill
//! would leave it), runs it once more to completion and compares the whole directory with the
//! uninterrupted run's: same files, same records in the archives, same stats. A second crash
//! during the rerun is tested too.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use agentlog_core::ledger::{
    Action, ArgsHash, Day, DayStats, LedgerError, ResultStatus, RetainOptions, RiskFlag, ToolCall,
    layout, retain,
};

/// 2026-11-23: "today" of every run here.
fn today() -> Day {
    Day::parse_compact("20261123").unwrap()
}

/// Noon UTC of the day `age` days before today.
fn noon(age: i64) -> i64 {
    1_795_435_200 - age * 86_400
}

fn day(age: i64) -> Day {
    Day::of_ts(noon(age)).unwrap()
}

/// `n` records of the day `age` days ago, varied in every aggregated field; `tag` tells
/// batches of the same day apart.
fn records(age: i64, n: u64, tag: &str) -> String {
    let mut text = String::new();
    for i in 0..n {
        let status = ResultStatus::ALL[(i % 4) as usize];
        let record = ToolCall {
            ts: noon(age) + i as i64,
            session_id: format!("s-{tag}"),
            agent: format!("agent{}", i % 3),
            tool: format!("tool{}", i % 2),
            args_hash: ArgsHash::from_digest([i as u8; 32]),
            result_status: status,
            elapsed_ms: i * 10,
            error_class: (status != ResultStatus::Success).then(|| format!("E{}", i % 2)),
            risk_flags: RiskFlag::ALL
                .iter()
                .take((i % 3) as usize)
                .copied()
                .collect(),
            artifacts: vec![format!("{tag}-{i}")],
        };
        text.push_str(&serde_json::to_string(&record).unwrap());
        text.push('\n');
    }
    text
}

fn gz(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

/// A ledger directory with a file in every state retention handles.
fn fixture(dir: &Path) {
    let write = |name: String, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    };
    let file = |age| layout::day_file(day(age));
    // The current file still holds a day 9 days old: rotated, then archived.
    write(layout::CURRENT.into(), records(9, 5, "current").as_bytes());
    write(file(0), records(0, 3, "d0").as_bytes()); // full (odd, but kept)
    write(file(3), records(3, 4, "d3").as_bytes());
    write(file(7), records(7, 4, "d7").as_bytes()); // the last full day
    // Day 8: archived, stats written; one line is not a record (counted as invalid).
    let mut d8 = records(8, 6, "d8");
    d8.push_str("{\"ts\": 1, \"ts_iso\": \"x\", \"event_type\": \"injection_attempt\"}\n");
    write(file(8), d8.as_bytes());
    // Day 20: archived before (part 0, with its stats), then late records arrived.
    write(file(20), records(20, 3, "d20-late").as_bytes());
    write(
        format!("archive/{}.jsonl.gz", layout::part_stem(day(20), 0)),
        &gz(&records(20, 7, "d20")),
    );
    write(
        layout::stats_file(day(20)),
        b"{\"day\":\"stale\",\"sources\":[\"archive/events_20261103.jsonl.gz\"]}\n",
    );
    // Day 15: staged by a run that was killed before compressing it.
    write(
        format!("archive/.staging/{}.jsonl", layout::part_stem(day(15), 0)),
        records(15, 5, "d15").as_bytes(),
    );
    // Day 31: past the stats period: archived, no stats.
    write(file(31), records(31, 4, "d31").as_bytes());
    // Day 40: stats left from earlier runs are removed; its archive stays.
    write(
        format!("archive/{}.jsonl.gz", layout::part_stem(day(40), 0)),
        &gz(&records(40, 2, "d40")),
    );
    write(layout::stats_file(day(40)), b"{}\n");
    // Unfinished writes of a killed run.
    write(format!("{}.tmp", layout::stats_file(day(8))), b"{\"partial");
    write(
        format!("archive/{}.jsonl.gz.tmp", layout::part_stem(day(31), 0)),
        b"\x1f\x8b",
    );
}

/// Every file under `dir` (but the lock) with its content; archives decompressed.
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
                continue;
            }
            let name = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if name == layout::LOCK {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let text = if name.ends_with(".gz") {
                let mut s = String::new();
                flate2::read::MultiGzDecoder::new(&bytes[..])
                    .read_to_string(&mut s)
                    .unwrap();
                s
            } else {
                String::from_utf8_lossy(&bytes).into_owned()
            };
            out.insert(name, text);
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn run(dir: &Path) -> Result<agentlog_core::ledger::RetainReport, LedgerError> {
    retain(dir, today(), RetainOptions::default())
}

/// Runs retention on `dir`, stopping it after step `stop`.
fn run_until(dir: &Path, stop: u64) -> Result<(), LedgerError> {
    let mut hook = |step: &agentlog_core::ledger::Step<'_>| step.number < stop;
    match retain(dir, today(), RetainOptions::default().with_hook(&mut hook)) {
        Err(LedgerError::Interrupted { step }) => {
            assert_eq!(step, stop);
            Ok(())
        }
        other => other.map(|_| ()),
    }
}

fn fresh() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    fixture(&dir);
    (tmp, dir)
}

/// The final state of an uninterrupted run, and its number of steps.
fn clean_run() -> (BTreeMap<String, String>, u64) {
    let (_tmp, dir) = fresh();
    let report = run(&dir).unwrap();
    (snapshot(&dir), report.steps)
}

#[test]
fn the_policy_keeps_full_days_stats_and_archives() {
    let (_tmp, dir) = fresh();
    let before = snapshot(&dir);
    run(&dir).unwrap();
    let after = snapshot(&dir);
    let names: Vec<&str> = after.keys().map(String::as_str).collect();
    let f = |age| layout::day_file(day(age));
    let part = |age, n| format!("archive/{}.jsonl.gz", layout::part_stem(day(age), n));
    let stats = |age| layout::stats_file(day(age));
    let mut expected = vec![
        f(0),
        f(3),
        f(7),
        stats(8),
        stats(9),
        stats(15),
        stats(20),
        part(8, 0),
        part(9, 0),
        part(15, 0),
        part(20, 0),
        part(20, 1),
        part(31, 0),
        part(40, 0),
    ];
    expected.sort();
    assert_eq!(names, expected);
    // Full days untouched; archived records are exactly the files they came from.
    for age in [0, 3, 7] {
        assert_eq!(after[&f(age)], before[&f(age)]);
    }
    assert_eq!(after[&part(9, 0)], before[layout::CURRENT]);
    assert_eq!(after[&part(8, 0)], before[&f(8)]);
    assert_eq!(after[&part(20, 1)], before[&f(20)]);
    assert_eq!(after[&part(20, 0)], before[&part(20, 0)]);
    assert_eq!(after[&part(31, 0)], before[&f(31)]);
    // Stats count every record of the day once, over all its parts.
    let read = |age| serde_json::from_str::<DayStats>(&after[&stats(age)]).unwrap();
    let d20 = read(20);
    assert_eq!((d20.records, d20.invalid_lines), (10, 0));
    assert_eq!(d20.sources, [part(20, 0), part(20, 1)]);
    let d8 = read(8);
    assert_eq!((d8.records, d8.invalid_lines), (6, 1));
    assert_eq!(d8.by_result_status["success"], 2);
    assert_eq!(d8.by_agent.values().sum::<u64>(), 6);
    assert_eq!(d8.by_risk_flag["injection_attempt"], 4);
    assert_eq!(d8.elapsed_ms.max, Some(50));
    assert_eq!(d8.elapsed_ms.p50, Some(20));
    assert_eq!(read(15).records, 5);
}

#[test]
fn a_second_run_has_nothing_to_do() {
    let (_tmp, dir) = fresh();
    run(&dir).unwrap();
    let state = snapshot(&dir);
    let again = run(&dir).unwrap();
    assert_eq!(again.actions, []);
    assert_eq!(again.steps, 0);
    assert_eq!(snapshot(&dir), state);
}

#[test]
fn a_dry_run_changes_nothing_and_announces_the_real_runs_actions() {
    let (_tmp, dir) = fresh();
    let before = snapshot(&dir);
    let dry = retain(&dir, today(), RetainOptions::default().with_dry_run(true)).unwrap();
    assert_eq!(snapshot(&dir), before);
    assert!(dry.dry_run && dry.steps == 0);
    let real = run(&dir).unwrap();
    // Same actions; only the dry run does not know the counts.
    let forget_counts = |actions: &[Action]| -> Vec<Action> {
        actions
            .iter()
            .map(|a| match a.clone() {
                Action::Archive { day, from, to, .. } => Action::Archive {
                    day,
                    from,
                    to,
                    lines: None,
                },
                Action::WriteStats { day, path, .. } => Action::WriteStats {
                    day,
                    path,
                    records: None,
                },
                other => other,
            })
            .collect()
    };
    assert_eq!(forget_counts(&dry.actions), forget_counts(&real.actions));
    let text: Vec<String> = real.actions.iter().map(ToString::to_string).collect();
    assert!(
        text.contains(&"rotate events.jsonl (2026-11-14) -> events_20261114.jsonl".to_owned()),
        "{text:#?}"
    );
    assert!(
        text.contains(
            &"archive events_20261103.jsonl -> archive/events_20261103-1.jsonl.gz (3 lines)"
                .to_owned()
        ),
        "{text:#?}"
    );
}

#[test]
fn killed_after_any_step_a_rerun_reaches_the_clean_runs_state() {
    let (clean, steps) = clean_run();
    assert!(steps > 30, "only {steps} steps");
    for stop in 1..=steps {
        let (_tmp, dir) = fresh();
        run_until(&dir, stop).unwrap();
        run(&dir).unwrap_or_else(|e| panic!("rerun after a crash at step {stop}: {e}"));
        assert_eq!(snapshot(&dir), clean, "crash after step {stop}");
    }
}

#[test]
fn killed_twice_a_third_run_reaches_the_clean_runs_state() {
    let (clean, steps) = clean_run();
    // Every fourth first crash point, each with every second crash point of its rerun (all
    // pairs take minutes on a disk that really syncs).
    for first in (1..=steps).step_by(4) {
        let (_tmp, probe) = fresh();
        run_until(&probe, first).unwrap();
        let rerun_steps = run(&probe).unwrap().steps;
        for second in (1..=rerun_steps).step_by(2) {
            let (_tmp, dir) = fresh();
            run_until(&dir, first).unwrap();
            run_until(&dir, second).unwrap();
            run(&dir).unwrap();
            assert_eq!(
                snapshot(&dir),
                clean,
                "crashes after steps {first} and {second}"
            );
        }
    }
}

#[test]
fn errors_name_the_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let err = run(&missing).unwrap_err().to_string();
    assert!(
        err.contains("nope") && err.contains("open the ledger directory"),
        "{err}"
    );
}
