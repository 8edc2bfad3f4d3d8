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
//! Proxy overhead benchmark (not a timed test): the same TLS fixture reached directly, through
//! `agentlog proxy` (in-process, events written to a file), through it with the budget gate
//! on, when `ROTEL` names a rotel binary through it exporting every event live to that
//! collector (started here on loopback), and, when `MITM_PORT` is set, through `mitmdump` (no
//! addon). Prints a markdown table.
//!
//! Single runs on a shared machine vary about 3x, so the configurations are **interleaved**:
//! `ROUNDS` rounds (default 5), each measuring every configuration once, in an order rotated
//! per round, so a slow spell hits them all alike. Per round and configuration:
//!
//! - latency: `N` (default 1000) sequential keep-alive `POST /v1/chat/completions`, p50/p99;
//! - throughput: 32 concurrent clients for `SECS` (default 3) seconds, requests/s.
//!
//! The table gives each configuration's median over the rounds with its spread (min-max),
//! and its ratio to direct (and the gate's to the proxy without it) as the median of the
//! per-round ratios, so the machine's drift between rounds cancels out.
//!
//! The proxy runs as an operator's would: one secret configured (not allowed for the
//! benchmark host, so every request body is scanned for its placeholder), three events per
//! exchange written to a file.
//!
//! Run with `benches/proxy_compare.sh` (starts mitmdump); `cargo bench -p agentlog-intercept --bench proxy_latency`
//! alone measures direct vs agentlog. The fixture (wiremock + TLS front) runs in this process.

use std::time::{Duration, Instant};

use std::sync::Arc;

use agentlog_export::{Client, Endpoint, ExportingSink, LiveExport, Mapper, Protocol, Retry};
use agentlog_intercept::Budget;
use agentlog_mock_upstream::TlsFixture;
use agentlog_testkit::{ProxyOptions, start_proxy};
use agentlog_validate::secrets::{Secret, SecretValue};

// The allocator the `agentlog` binary ships with, so the proxy is measured as users run it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BODY: &str = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;

struct Row {
    p50: f64,
    p99: f64,
    rps: f64,
}

async fn measure(client: reqwest::Client, url: &str, n: usize, secs: u64) -> Row {
    // Warm up (connection, TLS, leaf minting).
    for _ in 0..50 {
        send(&client, url).await;
    }
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        send(&client, url).await;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p).round() as usize];
    let (p50, p99) = (pct(0.50), pct(0.99));

    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (client, url) = (client.clone(), url.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut done = 0u64;
            while Instant::now() < deadline {
                send(&client, &url).await;
                done += 1;
            }
            done
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap_or(0);
    }
    let rps = total as f64 / started.elapsed().as_secs_f64();
    Row { p50, p99, rps }
}

async fn send(client: &reqwest::Client, url: &str) {
    let resp = client
        .post(url)
        .header("content-type", "application/json")
        .body(BODY)
        .send()
        .await
        .expect("request failed");
    assert!(resp.status().is_success(), "status {}", resp.status());
    resp.bytes().await.expect("body failed");
}

fn base() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .http1_only()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
}

/// One configuration: a name and the client that reaches the fixture its way.
struct Config {
    name: String,
    client: reqwest::Client,
}

/// The median of `values` (the mean of the two middle ones for an even count).
fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let mid = v.len() / 2;
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[mid],
        _ => (v[mid - 1] + v[mid]) / 2.0,
    }
}

fn spread(values: &[f64]) -> (f64, f64) {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (min, max)
}

/// `rows[round][config]` for every round, each round in a rotated order.
async fn rounds(
    configs: &[Config],
    url: &str,
    n: usize,
    secs: u64,
    rounds: usize,
) -> Vec<Vec<Row>> {
    let mut all = Vec::new();
    for round in 0..rounds {
        let mut rows: Vec<Option<Row>> = (0..configs.len()).map(|_| None).collect();
        for k in 0..configs.len() {
            let i = (round + k) % configs.len();
            let c = &configs[i];
            rows[i] = Some(measure(c.client.clone(), url, n, secs).await);
        }
        eprintln!("round {} of {rounds} done", round + 1);
        all.push(rows.into_iter().map(|r| r.expect("measured")).collect());
    }
    all
}

/// The table: medians with spreads, and per-round ratios' medians against `base` (direct)
/// and, for each of `against_plain` ((with, plain) indexes and what it adds), against the
/// proxy without it.
fn print_table(names: &[String], all: &[Vec<Row>], against_plain: &[(usize, usize, &str)]) {
    let column =
        |i: usize, f: &dyn Fn(&Row) -> f64| -> Vec<f64> { all.iter().map(|r| f(&r[i])).collect() };
    println!(
        "\n| path | p50 ms (median, min-max) | p99 ms (median, min-max) | added p50 ms | added p99 ms | req/s (median, min-max) | req/s vs direct |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (i, name) in names.iter().enumerate() {
        let (p50, p99, rps) = (
            column(i, &|r| r.p50),
            column(i, &|r| r.p99),
            column(i, &|r| r.rps),
        );
        let added50: Vec<f64> = all.iter().map(|r| r[i].p50 - r[0].p50).collect();
        let added99: Vec<f64> = all.iter().map(|r| r[i].p99 - r[0].p99).collect();
        let ratio: Vec<f64> = all.iter().map(|r| r[i].rps / r[0].rps).collect();
        let ((a, b), (c, d), (e, f)) = (spread(&p50), spread(&p99), spread(&rps));
        println!(
            "| {name} | {:.3} ({a:.3}-{b:.3}) | {:.3} ({c:.3}-{d:.3}) | {:+.3} | {:+.3} | {:.0} ({e:.0}-{f:.0}) | {:.2} |",
            median(&p50),
            median(&p99),
            median(&added50),
            median(&added99),
            median(&rps),
            median(&ratio),
        );
    }
    for &(with, plain, what) in against_plain {
        let ratio: Vec<f64> = all.iter().map(|r| r[with].rps / r[plain].rps).collect();
        let added50: Vec<f64> = all.iter().map(|r| r[with].p50 - r[plain].p50).collect();
        let added99: Vec<f64> = all.iter().map(|r| r[with].p99 - r[plain].p99).collect();
        let (lo, hi) = spread(&ratio);
        println!(
            "\n{what} vs the proxy without it, medians of per-round figures: req/s ratio {:.3} (rounds {lo:.3}-{hi:.3}), added p50 {:+.3} ms, added p99 {:+.3} ms",
            median(&ratio),
            median(&added50),
            median(&added99)
        );
    }
}

fn client_via(proxy_url: &str, ca_pem: &[u8]) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(ca_pem).expect("ca");
    base()
        .proxy(reqwest::Proxy::all(proxy_url).expect("proxy url"))
        .tls_certs_only([ca])
        .build()
        .expect("client")
}

fn main() {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let n = env("N", 1000) as usize;
    let secs = env("SECS", 3);
    let round_count = env("ROUNDS", 5) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let fixture = TlsFixture::start().await.expect("fixture");
        let dir = tempfile::tempdir().expect("tempdir");
        // One secret, not allowed for the benchmark's host: every request body is scanned for
        // its placeholder and a `key_injection` `skipped` is written with each exchange.
        let options = ProxyOptions::default()
            .with_llm_hosts(vec!["localhost".into()])
            .with_secrets(vec!["BENCH_KEY=sk-bench-not-a-real-key@api.example.com".into()])
            .with_event_log(Some(dir.path().join("events.jsonl")));
        let proxy = start_proxy(&fixture, options.clone()).await.expect("proxy");
        // The same proxy with the budget gate on: every request reserves its worst case and
        // settles its priced cost (a limit no run reaches).
        let budget = Arc::new(Budget::new(1e9, 0.8, (0.0, 0)));
        let gated_options = options
            .clone()
            .with_event_log(Some(dir.path().join("gated.jsonl")))
            .with_budget(Some(budget));
        let gated = start_proxy(&fixture, gated_options).await.expect("proxy");
        let url = format!("https://localhost:{}/v1/chat/completions", fixture.addr().port());
        let fixture_ca = reqwest::Certificate::from_pem(fixture.ca_pem().as_bytes()).expect("ca");
        let direct = base().no_proxy().tls_certs_only([fixture_ca]).build().expect("client");
        let mut configs = vec![
            Config { name: "direct".into(), client: direct },
            Config {
                name: "agentlog proxy".into(),
                client: client_via(&proxy.url(), proxy.ca().cert_pem().as_bytes()),
            },
            Config {
                name: "agentlog proxy + budget gate".into(),
                client: client_via(&gated.url(), gated.ca().cert_pem().as_bytes()),
            },
        ];
        // The same proxy with its log sealed every second as it is written, as `agentlog
        // proxy --seal --seal-every 1s` does (signed: the key's work is in the figure).
        let key_dir = tempfile::tempdir().expect("tempdir");
        let key_paths = agentlog_seal::generate_key_pair(key_dir.path()).expect("keygen");
        let key = agentlog_seal::SecretKey::read(&key_paths.secret).expect("key");
        let sealed_log = dir.path().join("sealed.jsonl");
        let sealed_proxy = start_proxy(
            &fixture,
            options.clone().with_event_log(Some(sealed_log.clone())),
        )
        .await
        .expect("proxy");
        let sealer = agentlog_seal::Sealer::start(
            sealed_log.clone(),
            Some(key),
            Duration::from_secs(1),
            Box::new(append_checkpoints),
        )
        .expect("sealer");
        configs.push(Config {
            name: "agentlog proxy + seal every 1 s".into(),
            client: client_via(&sealed_proxy.url(), sealed_proxy.ca().cert_pem().as_bytes()),
        });
        // The same proxy exporting every event live to a local collector (rotel, dropping
        // what it receives), as `agentlog proxy --otlp-endpoint` does.
        let collector = std::env::var("ROTEL").ok().map(|rotel| Collector::start(&rotel));
        let mut against_plain = vec![(2, 1, "budget gate"), (3, 1, "seal every 1 s")];
        let mut exporting = None;
        if let Some(collector) = &collector {
            let export = collector.live_export();
            let exporting_options = options
                .clone()
                .with_event_log(Some(dir.path().join("exported.jsonl")))
                .with_sink(Arc::new(ExportingSink::new(Arc::new(Discard), export.clone())));
            let proxy = start_proxy(&fixture, exporting_options).await.expect("proxy");
            against_plain.push((configs.len(), 1, "OTLP export"));
            configs.push(Config {
                name: "agentlog proxy + OTLP export".into(),
                client: client_via(&proxy.url(), proxy.ca().cert_pem().as_bytes()),
            });
            exporting = Some((proxy, export));
        }
        if let (Ok(port), Ok(ca_path)) = (std::env::var("MITM_PORT"), std::env::var("MITM_CA")) {
            let pem = std::fs::read(&ca_path).expect("read mitmproxy CA");
            configs.push(Config {
                name: "mitmdump 11.0.2".into(),
                client: client_via(&format!("http://127.0.0.1:{port}"), &pem),
            });
        }
        let all = rounds(&configs, &url, n, secs, round_count).await;
        let names: Vec<String> = configs.iter().map(|c| c.name.clone()).collect();
        print_table(&names, &all, &against_plain);
        println!("\n{round_count} interleaved rounds; per round and path {n} sequential keep-alive requests for latency and {secs} s with 32 concurrent clients for throughput.");
        if let Some((proxy, export)) = exporting {
            let _ = proxy.shutdown().await;
            let summary = export.finish(Duration::from_secs(30));
            println!(
                "OTLP export: {} log records and {} spans delivered, {} dropped (queue full), {} not delivered",
                summary.delivered_records, summary.delivered_spans, summary.dropped, summary.failed
            );
        }
        let _ = proxy.shutdown().await;
        let _ = gated.shutdown().await;
        let _ = sealed_proxy.shutdown().await;
        sealer.finish();
        let verdict = agentlog_seal::verify(&sealed_log, None, false).expect("verify");
        assert!(verdict.passed(), "the sealed log verifies: {:?}", verdict.findings);
        println!(
            "seal: {} line(s) of the sealed proxy's log verified",
            verdict.sealed_lines
        );
    });
}

/// Appends a sealing's checkpoints to the seal file, as `agentlog proxy --seal` does.
fn append_checkpoints(result: Result<agentlog_seal::Sealed, agentlog_seal::SealError>) {
    result
        .expect("seal")
        .append()
        .expect("append the checkpoints");
}

/// A sink that keeps nothing: the exporting proxy's file is its event log; this one only
/// carries the events on to the export.
struct Discard;

impl agentlog_core::sink::Sink for Discard {
    fn write(
        &self,
        _event: agentlog_core::event::CheckedEvent<'_>,
    ) -> Result<(), agentlog_core::sink::SinkError> {
        Ok(())
    }

    fn close(&self) -> Result<(), agentlog_core::sink::SinkError> {
        Ok(())
    }
}

/// rotel on loopback, receiving OTLP/HTTP and dropping it; killed when dropped.
struct Collector {
    child: std::process::Child,
    port: u16,
}

impl Collector {
    fn start(rotel: &str) -> Collector {
        let free = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .expect("a free port")
        };
        let (port, grpc) = (free(), free());
        let child = std::process::Command::new(rotel)
            .args(["start", "--exporter", "blackhole", "--otlp-http-endpoint"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--otlp-grpc-endpoint")
            .arg(format!("127.0.0.1:{grpc}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start rotel");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "rotel did not listen on {port} within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Collector { child, port }
    }

    /// A live export to it, as `agentlog proxy --otlp-endpoint` starts one.
    fn live_export(&self) -> Arc<LiveExport> {
        let endpoint = Endpoint::new(
            &format!("http://127.0.0.1:{}", self.port),
            Protocol::Protobuf,
        )
        .expect("endpoint");
        let client = Client::new(endpoint, Retry::default()).expect("client");
        // Judged as the proxy's gate judges: the benchmark's secret and the detector.
        let secret = Secret::new(
            "BENCH_KEY",
            SecretValue::new("sk-bench-not-a-real-key"),
            vec![],
        );
        let redactor = agentlog_validate::Options::default()
            .with_secrets(vec![secret])
            .redactor()
            .expect("redactor");
        LiveExport::start(client, Mapper::new(redactor), Vec::new()).expect("export")
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
