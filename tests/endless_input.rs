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
//! Endless inputs stop: `/dev/zero` (one line without end) and gzip decompression bombs, for
//! `agentlog validate` and `agentlog analyze`. Each run has a timeout: a hang fails the test.
//! A line without end is skipped up to 4 times the line limit (16 MiB), then reading stops
//! with an error naming the file (and, for validate, the line); a bomb of many bad lines stops
//! at `--max-errors`.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;

fn agentlog() -> Command {
    let mut cmd = Command::cargo_bin("agentlog").expect("binary built");
    cmd.timeout(Duration::from_secs(120));
    cmd
}

/// Writes `count` copies of `chunk`, gzip-compressed, to `path`.
fn bomb(path: &Path, chunk: &[u8], count: usize) {
    let file = std::fs::File::create(path).expect("create");
    let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    for _ in 0..count {
        gz.write_all(chunk).expect("write");
    }
    gz.finish().expect("finish");
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn validate_stops_on_dev_zero() {
    if !Path::new("/dev/zero").exists() {
        return;
    }
    let out = agentlog()
        .args(["validate", "--max-errors", "1", "/dev/zero"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("/dev/zero:1: error[line.too_long]"), "{text}");
    assert!(
        text.contains("stopped early (error limit reached)"),
        "{text}"
    );
    // Without an error limit, the bound on a line without end stops it.
    let out = agentlog()
        .args(["validate", "/dev/zero"])
        .output()
        .expect("runs");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("/dev/zero:2: error[input.read]"), "{text}");
}

#[test]
fn analyze_stops_on_dev_zero() {
    if !Path::new("/dev/zero").exists() {
        return;
    }
    let out = agentlog()
        .args(["analyze", "/dev/zero"])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("/dev/zero: a line runs on for more than"),
        "{err}"
    );
}

#[test]
fn a_gzip_bomb_of_one_line_stops() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bomb.jsonl.gz");
    // 80 MiB of zeros, no newline: past the 64 MiB bound (compressed: a few hundred KiB).
    bomb(&path, &[0u8; 1 << 20], 80);
    let label = path.display().to_string();
    let out = agentlog()
        .args(["validate", &label])
        .output()
        .expect("runs");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("{label}:1: error[line.too_long]")),
        "{text}"
    );
    assert!(
        text.contains(&format!("{label}:2: error[input.read]")),
        "{text}"
    );
    let out = agentlog().args(["analyze", &label]).output().expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("a line runs on for more than"), "{err}");
}

#[test]
fn a_gzip_bomb_of_bad_lines_stops_at_max_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("lines.jsonl.gz");
    // 64 Mi bad lines (128 MiB decompressed).
    bomb(&path, &b"x\n".repeat(1 << 20), 64);
    let label = path.display().to_string();
    let out = agentlog()
        .args(["validate", "--max-errors", "3", &label])
        .output()
        .expect("runs");
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("{label}:3: error[json.syntax]")),
        "{text}"
    );
    assert!(!text.contains(&format!("{label}:4: error")), "{text}");
    assert!(
        text.contains("stopped early (error limit reached)"),
        "{text}"
    );
}
