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
//! Throughput of the analysis library alone on one file (no CLI, no output formatting):
//! `cargo bench -p agentlog-analyze --bench analyze_throughput -- /absolute/FILE` (cargo runs
//! benches in the crate's directory). Prints MiB/s; the
//! side-by-side comparison with `agentlog validate` is `benches/analyze_compare.sh`.

use std::path::Path;
use std::time::Instant;

use agentlog_analyze::{Analyzer, Options};

fn main() {
    let Some(path) = std::env::args().skip(1).find(|a| !a.starts_with("--")) else {
        eprintln!("usage: analyze_throughput FILE");
        return;
    };
    let start = Instant::now();
    let mut analyzer = Analyzer::new(Options::default());
    if let Err(e) = analyzer.read_path(Path::new(&path)) {
        eprintln!("{path}: {e}");
        return;
    }
    let report = analyzer.finish();
    let seconds = start.elapsed().as_secs_f64();
    let bytes: u64 = report.files.iter().map(|f| f.bytes).sum();
    let lines: u64 = report.files.iter().map(|f| f.lines).sum();
    println!(
        "{lines} lines, {:.1} MiB in {seconds:.2} s: {:.1} MiB/s, {} findings",
        bytes as f64 / 1048576.0,
        bytes as f64 / 1048576.0 / seconds,
        report.findings.len()
    );
}
