// A test crate: a failed unwrap or index fails the test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]
//! The file hook: told of each day file rotated (by a writer or by retention), late-appended
//! or about to be archived, once, under the directory lock; a failing hook leaves the record
//! written and stops retention before it moves the file.

use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use agentlog_core::ledger::{
    Args, ArgsHash, Day, FileEvent, FileHook, Ledger, LedgerConfig, LedgerError, ResultStatus,
    RetainOptions, ToolCallInput, retain,
};
use time::OffsetDateTime;

/// 2026-11-24T00:00:00Z.
const MIDNIGHT: i64 = 1_795_478_400;

type Seen = Arc<Mutex<Vec<String>>>;

/// A hook writing each event as `kind name [to]` into `seen`.
fn recorder(seen: &Seen) -> FileHook {
    let seen = seen.clone();
    FileHook::new(move |event: &FileEvent<'_>| {
        let name = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
        let line = match event {
            FileEvent::Rotated { path, .. } => format!("rotated {}", name(path)),
            FileEvent::LateAppended { path, .. } => format!("late {}", name(path)),
            FileEvent::Archiving { path, to, .. } => {
                format!("archiving {} {}", name(path), to.display())
            }
            _ => "other".to_owned(),
        };
        seen.lock().unwrap().push(line);
        Ok(())
    })
}

fn log_at(ledger: &Ledger, ts: i64) -> Result<(), LedgerError> {
    let hash: ArgsHash = format!("sha256:{}", "0".repeat(64)).parse().unwrap();
    let at = OffsetDateTime::from_unix_timestamp(ts).unwrap();
    ledger
        .clone_with_clock(at)
        .log_tool_call(ToolCallInput::new(
            "a",
            "t",
            Args::Hash(hash),
            ResultStatus::Success,
        ))
        .map(|_| ())
}

trait AtClock {
    fn clone_with_clock(&self, at: OffsetDateTime) -> Ledger;
}

impl AtClock for Ledger {
    fn clone_with_clock(&self, at: OffsetDateTime) -> Ledger {
        let config = LedgerConfig::default().with_session_id("s");
        Ledger::open(self.dir(), config)
            .unwrap()
            .with_clock(move || at)
    }
}

#[test]
fn rotation_late_records_and_archiving_are_told_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let seen: Seen = Arc::default();
    let hook = recorder(&seen);
    let at = Arc::new(AtomicI64::new(MIDNIGHT - 60));
    let clock = {
        let at = at.clone();
        move || OffsetDateTime::from_unix_timestamp(at.load(Ordering::SeqCst)).unwrap()
    };
    let config = LedgerConfig::default().with_file_hook(hook.clone());
    let ledger = Ledger::open(dir.path(), config).unwrap().with_clock(clock);
    let log = |ts: i64| {
        at.store(ts, Ordering::SeqCst);
        let hash: ArgsHash = format!("sha256:{}", "0".repeat(64)).parse().unwrap();
        ledger
            .log_tool_call(ToolCallInput::new(
                "a",
                "t",
                Args::Hash(hash),
                ResultStatus::Success,
            ))
            .unwrap();
    };
    log(MIDNIGHT - 60);
    log(MIDNIGHT - 30);
    assert!(seen.lock().unwrap().is_empty());
    log(MIDNIGHT + 60);
    log(MIDNIGHT - 10);
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "rotated events_20261123.jsonl",
            "late events_20261123.jsonl"
        ]
    );
    seen.lock().unwrap().clear();
    // Ten days later: retention rotates the 24th and archives both days, each told before it
    // moves.
    let today = Day::parse_compact("20261204").unwrap();
    let options = RetainOptions::default().with_file_hook(hook);
    retain(dir.path(), today, options).unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "rotated events_20261124.jsonl",
            "archiving events_20261123.jsonl archive/events_20261123.jsonl.gz",
            "archiving events_20261124.jsonl archive/events_20261124.jsonl.gz",
        ]
    );
}

#[test]
fn a_failing_hook_keeps_the_record_and_stops_retention_before_the_move() {
    let dir = tempfile::tempdir().unwrap();
    let fail = FileHook::new(|_: &FileEvent<'_>| Err("sealing refused".to_owned()));
    let plain = Ledger::open(dir.path(), LedgerConfig::default()).unwrap();
    log_at(&plain, MIDNIGHT - 60).unwrap();
    let config = LedgerConfig::default().with_file_hook(fail.clone());
    let hooked = Ledger::open(dir.path(), config)
        .unwrap()
        .with_clock(move || OffsetDateTime::from_unix_timestamp(MIDNIGHT + 60).unwrap());
    let hash: ArgsHash = format!("sha256:{}", "0".repeat(64)).parse().unwrap();
    let error = hooked
        .log_tool_call(ToolCallInput::new(
            "a",
            "t",
            Args::Hash(hash),
            ResultStatus::Success,
        ))
        .unwrap_err();
    assert!(
        matches!(&error, LedgerError::Hook { path, .. } if path.ends_with("events_20261123.jsonl")),
        "{error}"
    );
    assert!(error.to_string().contains("sealing refused"));
    let current = std::fs::read_to_string(dir.path().join("events.jsonl")).unwrap();
    assert_eq!(current.lines().count(), 1, "the record is written");
    let today = Day::parse_compact("20261204").unwrap();
    let error = retain(
        dir.path(),
        today,
        RetainOptions::default().with_file_hook(fail),
    )
    .unwrap_err();
    assert!(matches!(error, LedgerError::Hook { .. }), "{error}");
    assert!(dir.path().join("events_20261123.jsonl").exists());
    assert!(!dir.path().join("archive/events_20261123.jsonl.gz").exists());
}

#[test]
fn two_writers_crossing_midnight_tell_each_rotation_once() {
    let dir = tempfile::tempdir().unwrap();
    let seen: Seen = Arc::default();
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let dir = dir.path().to_owned();
            let hook = recorder(&seen);
            std::thread::spawn(move || {
                let reads = AtomicI64::new(0);
                let clock = move || {
                    let k = reads.fetch_add(1, Ordering::Relaxed);
                    OffsetDateTime::from_unix_timestamp(MIDNIGHT - 3_000 + w * 7 + k * 60).unwrap()
                };
                let config = LedgerConfig::default().with_file_hook(hook);
                let ledger = Ledger::open(&dir, config).unwrap().with_clock(clock);
                let hash: ArgsHash = format!("sha256:{}", "0".repeat(64)).parse().unwrap();
                for _ in 0..100 {
                    let call =
                        ToolCallInput::new("a", "t", Args::Hash(hash), ResultStatus::Success);
                    ledger.log_tool_call(call).unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let seen = seen.lock().unwrap();
    let rotated: Vec<_> = seen.iter().filter(|e| e.starts_with("rotated")).collect();
    assert_eq!(rotated, ["rotated events_20261123.jsonl"], "{seen:?}");
}
