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
//! Event throughput: serialize-only, and emit through `JsonlWriter` to a file, against a bare
//! `write(2)` of the same bytes per event (the physical limit with one syscall per event).
//!
//! `cargo bench -p agentlog-core --bench core`. Targets: serialize >= 1,000,000 events/s on
//! one core; the write path within 1.5x of the bare write.

use std::fs::OpenOptions;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use agentlog_core::event::{Event, LlmResponse, Timestamp};
use agentlog_core::sink::{JsonlWriter, Sink};
use agentlog_core::{Emitter, Record};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// A typical `llm_response` event as the interceptor writes it.
fn typical_event() -> Event {
    let emitter = Emitter::new("vm-503ad4d1", "openclaw", vec![]).expect("metadata");
    emitter.stamp(
        Record::new(LlmResponse {
            method: "POST".into(),
            host: "api.openai.com".into(),
            path: "/v1/chat/completions".into(),
            status_code: 200,
            duration_ms: 812,
            body_bytes: 1532,
            model: "gpt-4o-mini-2024-07-18".into(),
            input_tokens: Some(42),
            output_tokens: Some(128),
            ..Default::default()
        })
        .tag("tls"),
        Timestamp::parse("2026-02-24T23:03:15.060999Z").expect("timestamp"),
    )
}

/// Runs `per_event` `iters` times against a fresh file and returns the elapsed time, so the
/// file never grows past one sample.
fn timed_on_file(
    iters: u64,
    mut per_event: impl FnMut(&std::path::Path, u64) -> Duration,
) -> Duration {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("events.jsonl");
    per_event(&path, iters)
}

fn bench(c: &mut Criterion) {
    let event = typical_event();
    let mut line = Vec::new();
    event.write_line(&mut line).expect("serializes");

    let mut group = c.benchmark_group("event");
    group.throughput(Throughput::Elements(1));

    group.bench_function("serialize", |b| {
        let mut buf = Vec::with_capacity(512);
        b.iter(|| {
            buf.clear();
            std::hint::black_box(&event)
                .write_line(&mut buf)
                .expect("serializes");
            std::hint::black_box(&buf);
        })
    });

    group.bench_function("bare_write", |b| {
        b.iter_custom(|iters| {
            timed_on_file(iters, |path, iters| {
                let file = OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(path)
                    .expect("open");
                let start = Instant::now();
                for _ in 0..iters {
                    (&file)
                        .write_all(std::hint::black_box(&line))
                        .expect("write");
                }
                start.elapsed()
            })
        })
    });

    group.bench_function("serialize_then_bare_write", |b| {
        b.iter_custom(|iters| {
            timed_on_file(iters, |path, iters| {
                let file = OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(path)
                    .expect("open");
                let mut buf = Vec::with_capacity(512);
                let start = Instant::now();
                for _ in 0..iters {
                    buf.clear();
                    std::hint::black_box(&event)
                        .write_line(&mut buf)
                        .expect("serializes");
                    (&file).write_all(&buf).expect("write");
                }
                start.elapsed()
            })
        })
    });

    group.bench_function("jsonl_writer", |b| {
        b.iter_custom(|iters| {
            timed_on_file(iters, |path, iters| {
                let writer = JsonlWriter::open(path).expect("open");
                // The writer alone: the event is checked once, outside the timed loop.
                let checked = event.checked().expect("valid event");
                let start = Instant::now();
                for _ in 0..iters {
                    writer.write(std::hint::black_box(checked)).expect("write");
                }
                start.elapsed()
            })
        })
    });

    group.bench_function("emitter_jsonl", |b| {
        b.iter_custom(|iters| {
            timed_on_file(iters, |path, iters| {
                let writer = Arc::new(JsonlWriter::open(path).expect("open"));
                let emitter =
                    Emitter::new("vm-503ad4d1", "openclaw", vec![writer as Arc<dyn Sink>])
                        .expect("emitter");
                let start = Instant::now();
                for _ in 0..iters {
                    emitter
                        .emit_event(std::hint::black_box(&event))
                        .expect("emit");
                }
                start.elapsed()
            })
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
