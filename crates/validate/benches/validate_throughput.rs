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
//! Throughput of the validator library alone on one file (default options: `--profile auto`,
//! built-in detectors, one worker per core; no CLI, no reporter):
//! `cargo bench -p agentlog-validate --bench validate_throughput -- /absolute/FILE` (cargo runs
//! benches in the crate's directory). Prints MiB/s; the side-by-side comparison with
//! `agentlog analyze` is `benches/analyze_compare.sh`.

use std::path::Path;
use std::time::Instant;

use agentlog_validate::{Options, Validator};

fn main() {
    let Some(path) = std::env::args().skip(1).find(|a| !a.starts_with("--")) else {
        eprintln!("usage: validate_throughput FILE");
        return;
    };
    let start = Instant::now();
    let validator = match Validator::new(Options::default()) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{e}");
            return;
        }
    };
    let report = match validator.validate_path(Path::new(&path)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{path}: {e}");
            return;
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let mib = report.bytes as f64 / 1048576.0;
    println!(
        "{} lines, {mib:.1} MiB in {seconds:.2} s: {:.1} MiB/s, {} errors, {} warnings",
        report.lines,
        mib / seconds,
        report.errors(),
        report.warnings()
    );
}
