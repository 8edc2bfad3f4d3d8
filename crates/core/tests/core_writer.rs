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
//! JsonlWriter and Emitter behaviour: concurrency (threads and processes), error paths,
//! file modes, close semantics, sink fan-out.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use agentlog_core::emitter::{EmitError, Emitter, Record};
use agentlog_core::event::{Event, EventType, LlmRequest};
use agentlog_core::sink::{JsonlWriter, MemorySink, Sink, SinkError};

fn record(writer: usize, seq: usize, padding: usize) -> Record {
    Record::new(LlmRequest {
        method: "POST".into(),
        host: "api.openai.com".into(),
        path: format!("/v1/{}", "x".repeat(padding)),
        ..Default::default()
    })
    .summary(format!("w{writer} #{seq}"))
    .tag("tls")
}

/// Checks every line is a whole event and each writer's events are all there, in order.
fn check_log(path: &Path, writers: usize, per_writer: usize) {
    let text = std::fs::read_to_string(path).expect("log readable");
    assert!(text.ends_with('\n'), "last line is torn");
    let mut next: HashMap<String, usize> = HashMap::new();
    let mut lines = 0;
    for (i, line) in text.lines().enumerate() {
        let event: Event = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("line {} is not an intact event: {e}", i + 1));
        let (writer, seq) = event.summary.split_once(" #").expect("summary shape");
        let seq: usize = seq.parse().expect("seq");
        let expected = next.entry(writer.to_owned()).or_default();
        assert_eq!(
            seq,
            *expected,
            "{writer}'s events out of order at line {}",
            i + 1
        );
        *expected += 1;
        lines += 1;
    }
    assert_eq!(lines, writers * per_writer);
    assert_eq!(next.len(), writers);
    assert!(next.values().all(|&n| n == per_writer));
}

#[test]
fn sixteen_threads_thousand_events_each() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let writer = Arc::new(JsonlWriter::open(&path).unwrap());
    let emitter =
        Emitter::new("vm-threads", "test", vec![writer.clone() as Arc<dyn Sink>]).unwrap();
    std::thread::scope(|scope| {
        for w in 0..16 {
            let emitter = emitter.clone();
            scope.spawn(move || {
                for seq in 0..1000 {
                    // Every 100th event is larger than a pipe buffer (64 KiB), to show that
                    // appends stay whole beyond PIPE_BUF on a regular file.
                    let padding = if seq % 100 == 0 { 70_000 } else { 0 };
                    emitter.emit(record(w, seq, padding)).expect("emit");
                }
            });
        }
    });
    emitter.close().unwrap();
    check_log(&path, 16, 1000);
}

const CHILD_LOG: &str = "AGENTLOG_TEST_CHILD_LOG";
const CHILD_ID: &str = "AGENTLOG_TEST_CHILD_ID";
const CHILD_EVENTS: usize = 2000;

/// Not a test on its own: the body of the writer processes of
/// `two_processes_append_to_one_file` (run with `--ignored` and the environment set).
#[test]
#[ignore = "run as a child process by two_processes_append_to_one_file"]
fn child_process_writer() {
    let path = std::env::var(CHILD_LOG).expect("run by two_processes_append_to_one_file");
    let id: usize = std::env::var(CHILD_ID).unwrap().parse().unwrap();
    let writer = Arc::new(JsonlWriter::open(&path).unwrap());
    let emitter = Emitter::new("vm-procs", "test", vec![writer as Arc<dyn Sink>]).unwrap();
    for seq in 0..CHILD_EVENTS {
        emitter.emit(record(id, seq, seq % 7 * 300)).unwrap();
    }
    emitter.close().unwrap();
}

#[test]
fn two_processes_append_to_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..2)
        .map(|id| {
            Command::new(&exe)
                .args([
                    "--ignored",
                    "--exact",
                    "child_process_writer",
                    "--test-threads=1",
                ])
                .env(CHILD_LOG, &path)
                .env(CHILD_ID, id.to_string())
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("spawn child")
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success(), "child writer failed");
    }
    check_log(&path, 2, CHILD_EVENTS);
}

fn sample_event() -> Event {
    Emitter::new("r", "a", vec![])
        .unwrap()
        .stamp(record(0, 0, 0), agentlog_core::event::Timestamp::now())
}

#[test]
fn full_disk_is_an_error_not_a_panic() {
    if !Path::new("/dev/full").exists() {
        eprintln!("skipped: /dev/full is not available here");
        return;
    }
    let writer = JsonlWriter::open("/dev/full").expect("/dev/full opens");
    match writer.write(sample_event().checked().unwrap()) {
        Err(SinkError::Write { source, .. }) => {
            assert_eq!(source.kind(), std::io::ErrorKind::StorageFull)
        }
        other => panic!("expected a write error, got {other:?}"),
    }
}

#[test]
fn unwritable_file_is_an_error_not_a_panic() {
    // /proc/version opens for writing even as root, and every write fails.
    if !Path::new("/proc/version").exists() {
        eprintln!("skipped: /proc/version is not available here");
        return;
    }
    match JsonlWriter::open("/proc/version") {
        Ok(writer) => {
            let err = writer
                .write(sample_event().checked().unwrap())
                .expect_err("write must fail");
            assert!(matches!(err, SinkError::Write { .. }), "{err:?}");
            assert!(err.to_string().contains("/proc/version"));
        }
        Err(err) => assert!(matches!(err, SinkError::Create { .. }), "{err:?}"),
    }
}

#[test]
fn unusable_path_is_a_create_error() {
    let dir = tempfile::tempdir().unwrap();
    // The log path is an existing directory.
    let err = JsonlWriter::open(dir.path()).expect_err("a directory is not a log file");
    assert!(matches!(err, SinkError::Create { .. }), "{err:?}");
    // A parent is a regular file.
    let file = dir.path().join("file");
    std::fs::write(&file, b"").unwrap();
    let err = JsonlWriter::open(file.join("events.jsonl")).expect_err("parent is a file");
    assert!(err.to_string().starts_with("create event log"), "{err}");
}

#[cfg(unix)]
#[test]
fn creates_file_0600_and_directories_0700() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs/run-1/events.jsonl");
    let writer = JsonlWriter::open(&path).unwrap();
    writer.write(sample_event().checked().unwrap()).unwrap();
    writer.close().unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&dir.path().join("logs/run-1")), 0o700);
    assert_eq!(mode(&dir.path().join("logs")), 0o700);
}

#[test]
fn appends_and_close_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    std::fs::write(&path, "{\"existing\":1}\n").unwrap();
    let writer = JsonlWriter::open(&path).unwrap();
    writer.write(sample_event().checked().unwrap()).unwrap();
    writer.close().unwrap();
    writer.close().expect("second close is a no-op");
    let err = writer
        .write(sample_event().checked().unwrap())
        .expect_err("closed");
    assert!(matches!(err, SinkError::Closed { .. }));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("{\"existing\":1}\n"),
        "existing content kept"
    );
    assert_eq!(text.lines().count(), 2);
}

#[test]
fn failing_sink_does_not_stop_the_others() {
    let first = Arc::new(MemorySink::new());
    let broken = Arc::new(MemorySink::failing("disk on fire"));
    let last = Arc::new(MemorySink::new());
    let emitter = Emitter::new(
        "vm-1",
        "test",
        vec![
            first.clone(),
            broken,
            Arc::new(MemorySink::failing("second failure")),
            last.clone(),
        ],
    )
    .unwrap();
    let err = emitter.emit(record(0, 0, 0)).expect_err("a sink failed");
    assert!(
        err.to_string().contains("disk on fire"),
        "first error is returned: {err}"
    );
    assert_eq!(first.events().len(), 1);
    assert_eq!(last.events().len(), 1);
    assert_eq!(emitter.write_failures(), 2, "one per failed sink write");
    emitter
        .emit(record(0, 1, 0))
        .expect_err("the sinks still fail");
    assert_eq!(emitter.write_failures(), 4);
    let event = emitter.stamp(record(0, 2, 0), agentlog_core::event::Timestamp::now());
    emitter
        .emit_event(&event)
        .expect_err("the sinks still fail");
    assert_eq!(emitter.write_failures(), 6);
    let event = &last.events()[0];
    assert_eq!(
        (event.run_id.as_str(), event.agent_system.as_str()),
        ("vm-1", "test")
    );
}

#[test]
fn invalid_records_reach_no_sink() {
    let capture = Arc::new(MemorySink::new());
    let emitter = Emitter::new("vm-1", "test", vec![capture.clone()]).unwrap();
    let empty_summary = record(0, 0, 0).summary("");
    assert!(matches!(
        emitter.emit(empty_summary),
        Err(EmitError::Invalid(_))
    ));
    let mismatched = Record {
        event_type: EventType::KeyInjection,
        ..record(0, 0, 0)
    };
    assert!(matches!(
        emitter.emit(mismatched),
        Err(EmitError::Invalid(_))
    ));
    let empty_tag = record(0, 0, 0).tag("");
    assert!(matches!(
        emitter.emit(empty_tag),
        Err(EmitError::Invalid(_))
    ));
    assert!(capture.events().is_empty());
    assert_eq!(
        emitter.write_failures(),
        0,
        "invalid events are not write failures"
    );
    assert!(Emitter::new("", "a", vec![]).is_err());
    assert!(Emitter::new("r", "", vec![]).is_err());
}

#[test]
fn emitter_is_cheap_to_share() {
    fn assert_shareable<T: Send + Sync + Clone + 'static>() {}
    assert_shareable::<Emitter>();
    assert_eq!(std::mem::size_of::<Emitter>(), std::mem::size_of::<usize>());
}

#[test]
fn ts_never_goes_backwards_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let writer = Arc::new(JsonlWriter::open(&path).unwrap());
    let emitter = Emitter::new("vm-order", "test", vec![writer as Arc<dyn Sink>]).unwrap();
    std::thread::scope(|scope| {
        for w in 0..8 {
            let emitter = emitter.clone();
            scope.spawn(move || {
                for seq in 0..2000 {
                    emitter.emit(record(w, seq, 0)).expect("emit");
                }
            });
        }
    });
    emitter.close().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let mut previous = None;
    for (i, line) in text.lines().enumerate() {
        let event: Event = serde_json::from_str(line).expect("intact event");
        if let Some(previous) = previous {
            assert!(
                event.ts >= previous,
                "line {}: ts {} is before the previous line's {previous}",
                i + 1,
                event.ts
            );
        }
        previous = Some(event.ts);
    }
    assert_eq!(text.lines().count(), 8 * 2000);
}
