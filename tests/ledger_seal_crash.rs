// A test crate: a failed unwrap or index fails the test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub,
    missing_docs
)]
//! Sealing through the library's file hook, as the CLI wires it, survives a retention run
//! killed after any of its steps: run again, retention finishes, each archived day's seal
//! holds exactly one retention record for its part, and the directory verifies.

use std::path::Path;

use agentlog_core::ledger::{
    Args, ArgsHash, Day, FileEvent, FileHook, Ledger, LedgerConfig, LedgerError, ResultStatus,
    RetainOptions, ToolCallInput, retain,
};
use agentlog_seal::{Expect, SealFile, Sealed};
use time::OffsetDateTime;

/// 2026-12-01T12:00:00Z.
const NOON: i64 = 1_796_126_400;

fn now() -> OffsetDateTime {
    time::macros::datetime!(2026-12-20 00:00:00 UTC)
}

/// The CLI's hook, made of the library calls: seal what rotates, record what is archived.
fn sealing_hook() -> FileHook {
    FileHook::new(|event: &FileEvent<'_>| {
        let sealed: Result<Sealed, _> = match event {
            FileEvent::Archiving { path, to, .. } => {
                agentlog_seal::record_retention(path, to.to_str().unwrap(), None, now())
            }
            other => agentlog_seal::seal_day_file(other.path(), None, now()),
        };
        let sealed = sealed.map_err(|e| e.to_string())?;
        sealed.append().map_err(|e| e.to_string())
    })
}

/// Five days of records, each rotated and sealed; the fifth current.
fn fixture(dir: &Path) {
    for day in 0..5 {
        let at = OffsetDateTime::from_unix_timestamp(NOON + day * 86_400).unwrap();
        let config = LedgerConfig::default()
            .with_session_id("s")
            .with_file_hook(sealing_hook());
        let ledger = Ledger::open(dir, config).unwrap().with_clock(move || at);
        let hash: ArgsHash = format!("sha256:{}", "0".repeat(64)).parse().unwrap();
        for _ in 0..=day {
            let call = ToolCallInput::new("a", "t", Args::Hash(hash), ResultStatus::Success);
            ledger.log_tool_call(call).unwrap();
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn today() -> Day {
    Day::parse_compact("20261214").unwrap()
}

/// Retention with the sealing hook, stopped after step `stop` (never when `None`); returns
/// the number of steps.
fn run(dir: &Path, stop: Option<u64>) -> Result<u64, LedgerError> {
    let mut hook = |step: &agentlog_core::ledger::Step<'_>| Some(step.number) != stop;
    let options = RetainOptions::default()
        .with_hook(&mut hook)
        .with_file_hook(sealing_hook());
    retain(dir, today(), options).map(|report| report.steps)
}

fn check(dir: &Path) {
    let verdict = agentlog_seal::verify_ledger(dir, &Expect::default()).unwrap();
    assert!(verdict.passed(), "{verdict:#?}");
    assert_eq!((verdict.days, verdict.archived), (0, 5), "{verdict:#?}");
    for day in 1..=5 {
        let seal = dir.join(format!("events_2026120{day}.jsonl.seal"));
        let seal = SealFile::read(&seal).unwrap().unwrap();
        let records = seal
            .checkpoints
            .iter()
            .filter(|c| c.retained.is_some())
            .count();
        assert_eq!(records, 1, "day {day}: {seal:?}");
    }
}

#[test]
fn retention_killed_after_any_step_and_run_again_leaves_a_ledger_that_verifies() {
    let base = tempfile::tempdir().unwrap();
    fixture(base.path());
    let clean = tempfile::tempdir().unwrap();
    copy_dir(base.path(), clean.path());
    let steps = run(clean.path(), None).unwrap();
    check(clean.path());
    assert!(steps > 20, "{steps}");
    for stop in 1..=steps {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(base.path(), dir.path());
        match run(dir.path(), Some(stop)) {
            Err(LedgerError::Interrupted { step }) => assert_eq!(step, stop),
            other => panic!("step {stop}: {other:?}"),
        }
        run(dir.path(), None).unwrap();
        check(dir.path());
    }
}
