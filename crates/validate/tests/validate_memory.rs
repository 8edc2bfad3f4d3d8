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
//! Memory stays bounded on hostile input: the validator's peak RSS, read from the kernel,
//! stays under 64 MiB with 8 workers on inputs that produce a finding per line.
//!
//! This file holds one test on purpose: the peak RSS of the process is the measurement, so no
//! other test may run in this binary at the same time.

use std::io::Read;

use agentlog_validate::{Options, Validator};

/// `pattern` repeated until `total` bytes were produced, without holding them.
struct Repeat {
    pattern: &'static [u8],
    total: u64,
    sent: u64,
}

impl Read for Repeat {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut n = 0;
        while n < buf.len() && self.sent < self.total {
            let at = (self.sent % self.pattern.len() as u64) as usize;
            buf[n] = self.pattern[at];
            n += 1;
            self.sent += 1;
        }
        Ok(n)
    }
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM in /proc/self/status");
    line.split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("VmHWM value")
}

#[test]
fn hostile_inputs_stay_under_64_mib_with_8_workers() {
    let validator = Validator::new(Options::default().with_threads(8)).expect("validator");
    let cases: [(&str, &'static [u8], u64, u64); 2] = [
        // 1 M lines of `{}`: five envelope.missing findings each.
        ("1M {} lines", b"{}\n", 3_000_000, 5_000_000),
        // 100 MB of blank lines: one line.blank finding each.
        ("100 MB blank lines", b"\n", 100_000_000, 100_000_000),
    ];
    for (name, pattern, total, findings) in cases {
        let input = Repeat {
            pattern,
            total,
            sent: 0,
        };
        let report = validator.validate_reader(name, input);
        let counted = report.findings.len() as u64 + report.omitted_count();
        // input.empty is added for the blank file (no events).
        assert!(
            counted == findings || counted == findings + 1,
            "{name}: {counted} findings counted, expected {findings}"
        );
        // The cap holds the listed findings (plus input.empty, added after the lines).
        let keep = agentlog_validate::DEFAULT_MAX_FINDINGS_PER_FILE;
        assert!(
            (keep..=keep + 1).contains(&report.findings.len()),
            "{name}: {} findings listed",
            report.findings.len()
        );
        let peak = peak_rss_kib();
        assert!(
            peak < 64 * 1024,
            "{name}: peak RSS {} MiB is over 64 MiB",
            peak / 1024
        );
        eprintln!("{name}: peak RSS so far {} MiB", peak / 1024);
    }
}
