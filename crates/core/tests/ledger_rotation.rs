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
//! Daily rotation under concurrency: several processes, each with two `Ledger`s shared by two
//! threads, write one directory while their (injected, deliberately disagreeing) clocks
//! cross two midnights. Afterwards every event is in the directory exactly once, in the file
//! of its own UTC day, and every line is a whole, valid record.
//!
//! The writer processes are this test binary run again with `AGENTLOG_LEDGER_CHILD` set
//! (only the `child_writer` test then does anything); they all start when the parent closes
//! their stdin, so they write at the same time.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use agentlog_core::ledger::{
    Args, ArgsHash, Day, Ledger, LedgerConfig, ResultStatus, ToolCall, ToolCallInput, layout,
};
use time::OffsetDateTime;

const CHILD_ENV: &str = "AGENTLOG_LEDGER_CHILD";
const PROCESSES: usize = 4;
const LEDGERS_PER_PROCESS: usize = 2;
const THREADS_PER_LEDGER: usize = 2;
const EVENTS_PER_THREAD: usize = 250;
/// 2026-11-24T00:00:00Z.
const MIDNIGHT: i64 = 1_795_478_400;
/// Seconds the clock advances per event of a process: 1,000 events span ~1.7 days.
const STEP: i64 = 150;

/// The clock of process `p`: starts 12 hours before midnight, hours apart from the other
/// processes', and advances by `STEP` at every read (shared by the process's threads).
fn clock(p: usize) -> impl Fn() -> OffsetDateTime + Send + Sync + 'static {
    let skew = (p as i64) * 3_600 - 5_400;
    let reads = Arc::new(AtomicI64::new(0));
    move || {
        let k = reads.fetch_add(1, Ordering::Relaxed);
        OffsetDateTime::from_unix_timestamp(MIDNIGHT - 43_200 + skew + k * STEP).expect("in range")
    }
}

fn id(p: usize, l: usize, t: usize, k: usize) -> String {
    format!("p{p}-l{l}-t{t}-{k}")
}

/// One writer process: its ledgers and threads.
fn write_as_process(dir: &Path, p: usize) {
    let clock = Arc::new(clock(p));
    std::thread::scope(|scope| {
        for l in 0..LEDGERS_PER_PROCESS {
            let clock = Arc::clone(&clock);
            let ledger = Arc::new(
                Ledger::open(
                    dir,
                    LedgerConfig::default().with_session_id(format!("p{p}")),
                )
                .expect("open")
                .with_clock(move || clock()),
            );
            for t in 0..THREADS_PER_LEDGER {
                let ledger = Arc::clone(&ledger);
                scope.spawn(move || {
                    for k in 0..EVENTS_PER_THREAD {
                        let hash = ArgsHash::from_digest([k as u8; 32]);
                        let call = ToolCallInput::new(
                            "agent",
                            "tool",
                            Args::Hash(hash),
                            ResultStatus::Success,
                        )
                        .artifact(id(p, l, t, k));
                        ledger.log_tool_call(call).expect("write");
                    }
                });
            }
        }
    });
}

#[test]
fn child_writer() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return; // Only a writer process when the parent test runs this binary.
    };
    let (dir, p) = spec.rsplit_once(':').expect("DIR:P");
    // Start together: block until the parent closes stdin.
    let _ = std::io::stdin().read(&mut [0u8; 1]);
    write_as_process(Path::new(dir), p.parse().expect("process number"));
}

/// Every record in the directory with the file it is in; panics on a line that is not a
/// whole, valid record.
fn read_all(dir: &Path) -> Vec<(String, ToolCall)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !name.ends_with(".jsonl") {
            continue;
        }
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        assert!(text.ends_with('\n'), "{name} ends with a partial line");
        for (i, line) in text.lines().enumerate() {
            let record: ToolCall = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{name}:{}: {e}: {line}", i + 1));
            record.check().unwrap();
            out.push((name.clone(), record));
        }
    }
    out
}

/// Checks the directory after the writers: each expected id once, each record in its day's
/// file, `events.jsonl` holding one day, the latest.
fn assert_exactly_once_in_its_day(dir: &Path, expected: &[String]) {
    let records = read_all(dir);
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut days_per_file: BTreeMap<&str, Vec<Day>> = BTreeMap::new();
    for (file, record) in &records {
        let day = Day::of_ts(record.ts).unwrap();
        *seen.entry(record.artifacts[0].as_str()).or_default() += 1;
        days_per_file.entry(file).or_default().push(day);
        if let Some(file_day) = layout::parse_day_file(file) {
            assert_eq!(file_day, day, "{file} holds a record of {day}");
        }
    }
    for id in expected {
        assert_eq!(seen.get(id.as_str()), Some(&1), "{id}");
    }
    assert_eq!(records.len(), expected.len());
    let current = &days_per_file[layout::CURRENT];
    assert!(
        current.windows(2).all(|w| w[0] == w[1]),
        "events.jsonl mixes days"
    );
    let latest = days_per_file.values().flatten().max().unwrap();
    assert_eq!(&current[0], latest, "events.jsonl is not the latest day");
    assert!(days_per_file.len() >= 3, "{:?}", days_per_file.keys());
}

#[test]
fn threads_and_processes_across_midnight_write_each_event_once_in_its_day() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut children: Vec<_> = (0..PROCESSES)
        .map(|p| {
            Command::new(&exe)
                .args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
                .env(CHILD_ENV, format!("{}:{p}", dir.path().display()))
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .expect("spawn writer process")
        })
        .collect();
    // Release them all at once.
    for child in &mut children {
        drop(child.stdin.take());
    }
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a writer process failed");
    }
    let expected: Vec<String> = (0..PROCESSES)
        .flat_map(|p| {
            (0..LEDGERS_PER_PROCESS).flat_map(move |l| {
                (0..THREADS_PER_LEDGER)
                    .flat_map(move |t| (0..EVENTS_PER_THREAD).map(move |k| id(p, l, t, k)))
            })
        })
        .collect();
    assert_exactly_once_in_its_day(dir.path(), &expected);
}

#[test]
fn a_late_record_goes_to_its_own_day_and_a_new_day_rotates() {
    let dir = tempfile::tempdir().unwrap();
    let at = |ts: i64| move || OffsetDateTime::from_unix_timestamp(ts).unwrap();
    let log = |ts: i64, tag: &str| {
        Ledger::open(dir.path(), LedgerConfig::default())
            .unwrap()
            .with_clock(at(ts))
            .log_tool_call(
                ToolCallInput::new(
                    "a",
                    "t",
                    Args::Hash(ArgsHash::from_digest([0; 32])),
                    ResultStatus::Success,
                )
                .artifact(tag),
            )
            .unwrap()
    };
    log(MIDNIGHT - 1, "before");
    log(MIDNIGHT, "after"); // rotates
    log(MIDNIGHT - 2, "late"); // to yesterday's file
    log(MIDNIGHT - 3 * 86_400, "very late"); // a day with no file yet
    let names = |file: &str| -> Vec<String> {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        text.lines()
            .map(|l| serde_json::from_str::<ToolCall>(l).unwrap().artifacts[0].clone())
            .collect()
    };
    assert_eq!(names("events_20261123.jsonl"), ["before", "late"]);
    assert_eq!(names("events.jsonl"), ["after"]);
    assert_eq!(names("events_20261121.jsonl"), ["very late"]);
}

#[test]
fn the_current_files_day_survives_a_torn_first_line_and_refuses_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), LedgerConfig::default())
        .unwrap()
        .with_clock(move || OffsetDateTime::from_unix_timestamp(MIDNIGHT).unwrap());
    let call = || {
        ToolCallInput::new(
            "a",
            "t",
            Args::Hash(ArgsHash::from_digest([0; 32])),
            ResultStatus::Success,
        )
    };
    // A crash in the middle of the first line: cut off, the file is new again.
    let current = dir.path().join("events.jsonl");
    std::fs::write(&current, "{\"ts\":17").unwrap();
    ledger.log_tool_call(call()).unwrap();
    assert_eq!(
        std::fs::read_to_string(&current).unwrap().lines().count(),
        1
    );
    // A first line that is not a record: the day is unknown, and the error says where.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("events.jsonl"), "not a record\n").unwrap();
    let ledger = Ledger::open(&other, LedgerConfig::default()).unwrap();
    let err = ledger.log_tool_call(call()).unwrap_err().to_string();
    assert!(
        err.contains("events.jsonl") && err.contains("cannot tell which day"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(other.join("events.jsonl")).unwrap(),
        "not a record\n"
    );
}

#[test]
fn write_errors_are_returned() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(dir.path(), LedgerConfig::default()).unwrap();
    // events.jsonl is a directory: nothing can be appended, and the caller hears of it.
    std::fs::create_dir(dir.path().join("events.jsonl")).unwrap();
    let err = ledger
        .log_tool_call(ToolCallInput::new(
            "a",
            "t",
            Args::Hash(ArgsHash::from_digest([0; 32])),
            ResultStatus::Success,
        ))
        .unwrap_err();
    assert!(err.to_string().contains("events.jsonl"), "{err}");
    // A record that breaks a rule is refused before anything is written.
    let err = ledger
        .log_tool_call(ToolCallInput::new(
            "",
            "t",
            Args::Hash(ArgsHash::from_digest([0; 32])),
            ResultStatus::Success,
        ))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "tool call record refused: `agent` is empty"
    );
}
