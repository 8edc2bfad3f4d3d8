//! Seal and verify throughput on one core: a 64 MiB log of event-like JSON lines, sealed
//! from scratch and verified whole (SHA-256 over every line twice: the chain and the short
//! hash). Target: 500 MB/s or more each. `cargo bench -p agentlog-seal`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn log_of(bytes: usize) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    let mut written = 0;
    let mut n = 0u64;
    let mut out = std::io::BufWriter::new(file.as_file_mut());
    while written < bytes {
        let line = format!(
            r#"{{"ts":"2026-12-06T23:{:02}:{:02}.{:06}Z","run_id":"vm-503ad4d1","agent_system":"openclaw","event_type":"llm_response","summary":"POST api.openai.com/v1/chat/completions -> 200 ({}ms)","data":{{"method":"POST","host":"api.openai.com","status_code":200,"duration_ms":{},"input_tokens":{},"output_tokens":{}}}}}"#,
            n / 60 % 60,
            n % 60,
            n % 1_000_000,
            n % 2000,
            n % 2000,
            n % 5000,
            n % 3000
        );
        writeln!(out, "{line}").expect("write");
        written += line.len() + 1;
        n += 1;
    }
    out.flush().expect("flush");
    drop(out);
    file
}

fn seal_and_verify(c: &mut Criterion) {
    let log = log_of(64 << 20);
    let size = std::fs::metadata(log.path()).expect("size").len();
    let now = time::OffsetDateTime::now_utc();
    let mut group = c.benchmark_group("seal");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(size));
    group.bench_function("seal 64 MiB from scratch", |b| {
        b.iter(|| {
            let sealed = agentlog_seal::seal(log.path(), None, now).expect("seal");
            assert!(!sealed.added.is_empty());
        });
    });
    // Sealed once for verification.
    let sealed = agentlog_seal::seal(log.path(), None, now).expect("seal");
    sealed.append().expect("write the seal");
    group.bench_function("verify 64 MiB", |b| {
        b.iter(|| {
            let verdict = agentlog_seal::verify(log.path(), None, false).expect("verify");
            assert!(verdict.passed(), "{:?}", verdict.findings);
        });
    });
    group.finish();
    let _ = std::fs::remove_file(&sealed.seal);
}

criterion_group!(benches, seal_and_verify);
criterion_main!(benches);
