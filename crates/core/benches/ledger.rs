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
//! Tool-call ledger throughput: `Ledger::log_tool_call` end to end (clock, JCS canonical
//! form and SHA-256 of typical arguments, record check, serialization, directory lock, day
//! check and one `write(2)`), against its parts: hashing alone, and a bare `write(2)` of the
//! same line (one syscall per record, no lock).
//!
//! `cargo bench -p agentlog-core --features ledger --bench ledger`.

use std::fs::OpenOptions;
use std::io::Write;
use std::time::{Duration, Instant};

use agentlog_core::ledger::{
    Args, ArgsHash, HashForm, Ledger, LedgerConfig, ResultStatus, RiskFlag, ToolCallInput,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};

/// Arguments of a typical file edit (~230 bytes of JSON).
fn typical_args() -> Value {
    json!({
        "path": "src/agents/dev_agent/tools.py",
        "mode": "replace",
        "start_line": 120,
        "end_line": 134,
        "content": "def run(self, cmd: str) -> int:\n    return subprocess.call(cmd, shell=False)\n",
        "options": {"backup": true, "encoding": "utf-8", "tabs": false}
    })
}

fn call(args: &Value) -> ToolCallInput<'_> {
    ToolCallInput::new(
        "dev_agent",
        "file_editor",
        Args::Json(args),
        ResultStatus::Success,
    )
    .elapsed_ms(150)
    .risk_flag(RiskFlag::HighRiskApproved)
    .artifact("src/agents/dev_agent/tools.py")
}

fn bench(c: &mut Criterion) {
    let args = typical_args();
    let mut group = c.benchmark_group("ledger");
    group.throughput(Throughput::Elements(1));

    for form in HashForm::ALL {
        group.bench_function(format!("hash_{form}"), |b| {
            b.iter(|| ArgsHash::of(std::hint::black_box(&args), form))
        });
    }

    group.bench_function("log_tool_call", |b| {
        b.iter_custom(|iters| {
            // A fresh directory per sample, so the file never grows past one sample.
            let dir = tempfile::tempdir().expect("tempdir");
            let ledger = Ledger::open(dir.path(), LedgerConfig::default()).expect("open");
            let start = Instant::now();
            for _ in 0..iters {
                ledger
                    .log_tool_call(call(std::hint::black_box(&args)))
                    .expect("write");
            }
            start.elapsed()
        })
    });

    group.bench_function("bare_write_of_the_line", |b| {
        let dir = tempfile::tempdir().expect("tempdir");
        let ledger = Ledger::open(dir.path(), LedgerConfig::default()).expect("open");
        let mut line = Vec::new();
        ledger
            .build(call(&args))
            .write_line(&mut line)
            .expect("serializes");
        b.iter_custom(|iters| {
            let dir = tempfile::tempdir().expect("tempdir");
            let file = OpenOptions::new()
                .append(true)
                .create(true)
                .open(dir.path().join("events.jsonl"))
                .expect("open");
            let start = Instant::now();
            for _ in 0..iters {
                (&file)
                    .write_all(std::hint::black_box(&line))
                    .expect("write");
            }
            start.elapsed()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
