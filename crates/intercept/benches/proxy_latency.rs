#![allow(clippy::disallowed_macros, clippy::disallowed_methods)] // a test, benchmark or example prints for its runner, not through the CLI's output gate.
//! Proxy overhead benchmark (not a timed test): the same TLS fixture reached directly, through
//! `agentlog proxy` (in-process, events written to a file) and, when `MITM_PORT` is set,
//! through `mitmdump` (no addon). Prints a markdown table.
//!
//! - latency: `N` (default 2000) sequential keep-alive `POST /v1/chat/completions`, p50/p99;
//! - throughput: 32 concurrent clients for `SECS` (default 5) seconds, requests/s.
//!
//! The proxy runs as an operator's would: one secret configured (not allowed for the
//! benchmark host, so every request body is scanned for its placeholder), three events per
//! exchange written to a file.
//!
//! Run with `benches/proxy_compare.sh` (starts mitmdump); `cargo bench -p agentlog-intercept --bench proxy_latency`
//! alone measures direct vs agentlog. The fixture (wiremock + TLS front) runs in this process.

use std::time::{Duration, Instant};

use std::sync::Arc;

use agentlog_intercept::Budget;
use agentlog_testkit::{ProxyOptions, TlsFixture, start_proxy};

const BODY: &str = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;

struct Row {
    name: String,
    p50: f64,
    p99: f64,
    rps: f64,
}

async fn measure(name: &str, client: reqwest::Client, url: &str, n: usize, secs: u64) -> Row {
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
    Row {
        name: name.to_owned(),
        p50,
        p99,
        rps,
    }
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

fn main() {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let n = env("N", 2000) as usize;
    let secs = env("SECS", 5);
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
            .with_event_log(Some(dir.path().join("gated.jsonl")))
            .with_budget(Some(budget));
        let gated = start_proxy(&fixture, gated_options).await.expect("proxy");
        let url = format!("https://localhost:{}/v1/chat/completions", fixture.addr().port());
        let fixture_ca = reqwest::Certificate::from_pem(fixture.ca_pem().as_bytes()).expect("ca");
        let mut rows = Vec::new();

        let direct = base().no_proxy().tls_certs_only([fixture_ca]).build().expect("client");
        rows.push(measure("direct", direct, &url, n, secs).await);

        let proxy_ca = reqwest::Certificate::from_pem(proxy.ca().cert_pem().as_bytes()).expect("ca");
        let via = base()
            .proxy(reqwest::Proxy::all(proxy.url()).expect("proxy url"))
            .tls_certs_only([proxy_ca])
            .build()
            .expect("client");
        rows.push(measure("agentlog proxy", via, &url, n, secs).await);

        let gated_ca = reqwest::Certificate::from_pem(gated.ca().cert_pem().as_bytes()).expect("ca");
        let via = base()
            .proxy(reqwest::Proxy::all(gated.url()).expect("proxy url"))
            .tls_certs_only([gated_ca])
            .build()
            .expect("client");
        rows.push(measure("agentlog proxy + budget gate", via, &url, n, secs).await);

        if let (Ok(port), Ok(ca_path)) = (std::env::var("MITM_PORT"), std::env::var("MITM_CA")) {
            let pem = std::fs::read(&ca_path).expect("read mitmproxy CA");
            let ca = reqwest::Certificate::from_pem(&pem).expect("mitm ca");
            let via = base()
                .proxy(reqwest::Proxy::all(format!("http://127.0.0.1:{port}")).expect("url"))
                .tls_certs_only([ca])
                .build()
                .expect("client");
            rows.push(measure("mitmdump 11.0.2", via, &url, n, secs).await);
        }

        let d50 = rows[0].p50;
        println!("\n| path | p50 ms | p99 ms | added p50 ms | req/s (32 clients) |");
        println!("|---|---:|---:|---:|---:|");
        for r in &rows {
            println!(
                "| {} | {:.3} | {:.3} | {:+.3} | {:.0} |",
                r.name,
                r.p50,
                r.p99,
                r.p50 - d50,
                r.rps
            );
        }
        println!("\n{n} sequential keep-alive requests for latency; {secs} s with 32 concurrent clients for throughput.");
        let _ = proxy.shutdown().await;
        let _ = gated.shutdown().await;
    });
}
