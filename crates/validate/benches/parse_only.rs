// A benchmark: a failed unwrap stops the run with its message; criterion's generated
// entry points carry no docs.
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
//! Baseline for `benches/validate_compare.sh`: parse every line of a file into a
//! `serde_json::Value`, nothing else (one core). Usage:
//! `cargo bench -p agentlog-validate --bench parse_only -- FILE`.

use std::io::BufRead;

fn main() {
    let Some(path) = std::env::args().skip(1).find(|a| !a.starts_with("--")) else {
        eprintln!("usage: parse_only FILE");
        return;
    };
    let Ok(file) = std::fs::File::open(&path) else {
        eprintln!("cannot open {path}");
        return;
    };
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut line = Vec::new();
    let (mut lines, mut ok) = (0u64, 0u64);
    while reader
        .read_until(b'\n', &mut line)
        .map(|n| n > 0)
        .unwrap_or(false)
    {
        lines += 1;
        if serde_json::from_slice::<serde_json::Value>(&line).is_ok() {
            ok += 1;
        }
        line.clear();
    }
    println!("{lines} lines, {ok} parsed");
}
