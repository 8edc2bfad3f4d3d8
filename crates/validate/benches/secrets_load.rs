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
//! Loading supplied secrets: [`SecretScanner::new`] over 1,000 and 10,000 secrets of 24
//! random alphanumeric characters (what `--secrets-file` with that many lines costs before
//! the first line is read). Usage: `cargo bench -p agentlog-validate --bench secrets_load`.

use std::hint::black_box;
use std::time::Duration;

use agentlog_validate::secrets::scan::SecretScanner;
use agentlog_validate::secrets::{Secret, SecretValue};
use criterion::{Criterion, criterion_group, criterion_main};

/// `n` secrets with distinct pseudo-random values (a fixed xorshift seed: deterministic).
fn secrets(n: usize) -> Vec<Secret> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|i| {
            let value: String = (0..24)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let at = usize::try_from(state % ALPHABET.len() as u64).unwrap_or(0);
                    char::from(ALPHABET.get(at).copied().unwrap_or(b'a'))
                })
                .collect();
            Secret::new(format!("S{i:05}"), SecretValue::new(value), vec![])
        })
        .collect()
}

fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("secrets_load");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for n in [1_000, 10_000] {
        let list = secrets(n);
        group.bench_function(format!("{n}"), |b| {
            b.iter(|| SecretScanner::new(black_box(&list)).map(|s| s.pattern_count()))
        });
    }
    group.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
