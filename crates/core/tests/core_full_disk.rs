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
//! JsonlWriter on a full disk: a write that runs out of space part-way through a line leaves
//! no partial line behind, and writing resumes by itself once space returns.
//!
//! Runs on a tiny tmpfs mounted for the test, so it needs root (CAP_SYS_ADMIN); without it
//! the test fails with a message saying so rather than passing without having checked
//! anything.

use std::path::{Path, PathBuf};
use std::process::Command;

use agentlog_core::event::{Event, LlmRequest, Timestamp};
use agentlog_core::sink::{JsonlWriter, Sink, SinkError};

/// A tmpfs mounted on a fresh temporary directory, unmounted on drop (also when the test
/// panics).
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().expect("create a mount point");
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match output {
            Ok(out) if out.status.success() => Tmpfs { dir },
            Ok(out) => panic!(
                "this test mounts a {size} tmpfs to fill it and needs root: `mount` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            Err(e) => panic!("this test mounts a tmpfs and needs the `mount` command: {e}"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(self.dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            // Something still holds a file open (a panic mid-test): detach it instead, so the
            // temporary directory can still be removed.
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
        }
    }
}

/// An event whose line is about `len` bytes: more than a 4 KiB page, so the write that meets
/// the full disk has always filled the rest of a page first (a short write).
fn event(seq: usize, len: usize) -> Event {
    Event::new(
        Timestamp::now(),
        "vm-full",
        "test",
        LlmRequest {
            method: "POST".into(),
            host: "api.openai.com".into(),
            path: format!("/v1/{seq}/{}", "x".repeat(len)),
            ..Default::default()
        },
    )
}

/// Every line of the log, which must end with '\n' and hold whole events only.
fn intact_events(path: &PathBuf) -> Vec<Event> {
    let text = std::fs::read_to_string(path).expect("log readable");
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "the log ends with a partial line ({} bytes)",
        text.len()
    );
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("line {} is not a whole event: {e}", i + 1))
        })
        .collect()
}

#[test]
fn full_disk_leaves_no_partial_line_and_writing_resumes() {
    let fs = Tmpfs::mount("64k");
    let filler = fs.path().join("filler");
    std::fs::write(&filler, vec![0u8; 16 * 1024]).expect("write the filler file");
    let path = fs.path().join("events.jsonl");
    // Declared after `fs`, so it is dropped (and the file closed) before the unmount.
    let writer = JsonlWriter::open(&path).expect("open the log");

    let mut written = 0;
    let (error, line_start) = loop {
        assert!(written < 1000, "a 64k tmpfs never filled up");
        let line_start = std::fs::metadata(&path).unwrap().len();
        match writer.write(event(written, 5000).checked().unwrap()) {
            Ok(()) => written += 1,
            Err(e) => break (e, line_start),
        }
    };
    match &error {
        SinkError::Write { source, .. } => {
            assert_eq!(source.kind(), std::io::ErrorKind::StorageFull, "{error}")
        }
        other => panic!("expected a write error for the full disk, got {other:?}"),
    }
    assert!(written > 0, "not even one line fitted");
    // The premise of the test: the failed line started inside a page, so its write filled
    // the rest of that page (a short write) before the disk was full.
    assert_ne!(line_start % 4096, 0, "the failed write was not partial");
    assert_eq!(intact_events(&path).len(), written);

    // Still full: the write is tried again, fails again, and still leaves nothing behind.
    assert!(
        writer
            .write(event(written, 5000).checked().unwrap())
            .is_err()
    );
    assert_eq!(intact_events(&path).len(), written);

    std::fs::remove_file(&filler).expect("free space");
    writer
        .write(event(written, 5000).checked().unwrap())
        .expect("writing resumes once space returns");
    writer.close().expect("close");
    let events = intact_events(&path);
    assert_eq!(events.len(), written + 1);
    assert_eq!(events.last(), Some(&event_at(written, &events)));
}

/// The event written with `seq`, with the timestamp the log recorded for it.
fn event_at(seq: usize, events: &[Event]) -> Event {
    let mut expected = event(seq, 5000);
    expected.ts = events[seq].ts;
    expected
}
