//! `agentlog demo`: a scripted agent session through the proxy against the mock LLM.
//!
//! Starts the wiremock upstream, the TLS fixture and the proxy in-process (loopback only, no
//! real keys), sends a plain request, a JSON chat completion, an SSE stream, an Anthropic
//! request and a leaking request (blocked), writes `events.jsonl` under `--out`, validates
//! it and prints a summary.

use std::path::PathBuf;

use agentlog_core::secrets::Secret;
use agentlog_testkit::{ProxyOptions, TlsFixture, start_proxy};
use agentlog_validate::report::Format;
use agentlog_validate::{self as validate, Options, Report, Validator};
use serde_json::{Value, json};

use super::{EXIT_FINDINGS, EXIT_OK, fail};

const DEMO_OPENAI_KEY: &str = "sk-demo-openai-not-a-real-key-4f1d";
const DEMO_ANTHROPIC_KEY: &str = "sk-ant-demo-not-a-real-key-93c2";

/// The demo's secrets in the sandbox's `NAME=VALUE@hosts` syntax: given to the proxy, and to
/// the validator so that it checks no value reached the log.
fn demo_secrets() -> [String; 2] {
    [
        format!("OPENAI_API_KEY={DEMO_OPENAI_KEY}@api.openai.com"),
        format!("ANTHROPIC_API_KEY={DEMO_ANTHROPIC_KEY}@api.anthropic.com"),
    ]
}

/// Run a scripted session through the proxy against a mock LLM and validate the log.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory for events.jsonl (default: a new temporary directory, kept).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Runs the demo.
pub fn run(args: Args) -> u8 {
    super::block_on(demo(args))
}

async fn demo(args: Args) -> u8 {
    let dir = match args.out {
        Some(dir) => dir,
        None => match tempfile::Builder::new().prefix("agentlog-demo-").tempdir() {
            Ok(t) => t.keep(),
            Err(e) => return fail(format!("create temp dir: {e}")),
        },
    };
    let log = dir.join("events.jsonl");
    let _ = std::fs::remove_file(&log);
    match session(&log).await {
        Ok(()) => {}
        Err(e) => return fail(e),
    }
    report(&log)
}

/// One scripted request: label, method, URL, one header, optional JSON body.
type Step = (
    &'static str,
    &'static str,
    &'static str,
    (&'static str, String),
    Option<Value>,
);

async fn session(log: &std::path::Path) -> Result<(), String> {
    let fixture = TlsFixture::start().await.map_err(|e| e.to_string())?;
    let options = ProxyOptions::default()
        .with_secrets(demo_secrets().to_vec())
        .with_event_log(Some(log.to_path_buf()))
        .with_run_id(Some("vm-demo0001".into()));
    let proxy = start_proxy(&fixture, options)
        .await
        .map_err(|e| e.to_string())?;
    let client = proxy.client().map_err(|e| e.to_string())?;
    let openai = proxy
        .placeholder("OPENAI_API_KEY")
        .unwrap_or_default()
        .to_owned();
    let anthropic = proxy
        .placeholder("ANTHROPIC_API_KEY")
        .unwrap_or_default()
        .to_owned();
    println!("proxy {} with placeholders:", proxy.url());
    println!("  OPENAI_API_KEY={openai}\n  ANTHROPIC_API_KEY={anthropic}");

    let steps: [Step; 5] = [
        (
            "list models",
            "GET",
            "https://api.openai.com/v1/models",
            ("authorization", format!("Bearer {openai}")),
            None,
        ),
        (
            "chat completion",
            "POST",
            "https://api.openai.com/v1/chat/completions",
            ("authorization", format!("Bearer {openai}")),
            Some(
                json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}]}),
            ),
        ),
        (
            "streamed chat completion",
            "POST",
            "https://api.openai.com/v1/chat/completions",
            ("authorization", format!("Bearer {openai}")),
            Some(
                json!({"model": "gpt-4o-mini", "stream": true, "stream_options": {"include_usage": true}, "messages": []}),
            ),
        ),
        (
            "anthropic message",
            "POST",
            "https://api.anthropic.com/v1/messages",
            ("x-api-key", anthropic.clone()),
            Some(
                json!({"model": "claude-sonnet-4", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}),
            ),
        ),
        (
            "leak attempt (anthropic key to openai)",
            "POST",
            "https://api.openai.com/v1/chat/completions",
            ("x-api-key", anthropic.clone()),
            Some(json!({"model": "gpt-4o-mini", "messages": []})),
        ),
    ];
    for (label, method, url, (hname, hvalue), body) in steps {
        let mut req = if method == "GET" {
            client.get(url)
        } else {
            client.post(url)
        };
        req = req.header(hname, hvalue);
        if let Some(body) = body {
            req = req
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let resp = req.send().await.map_err(|e| format!("{label}: {e}"))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| format!("{label}: {e}"))?;
        println!("  {label:<40} -> {status} ({} bytes)", bytes.len());
    }
    let expected = 4 * 4 + 1;
    proxy
        .wait_events(expected)
        .await
        .map_err(|e| e.to_string())?;
    proxy.shutdown().await.map(drop).map_err(|e| e.to_string())
}

/// Validates the log with [`agentlog_validate`], the demo's secrets supplied so the
/// validator's own secret scan checks that no secret value was written, and prints the
/// event counts, any findings and the validator's summary line.
fn report(log: &std::path::Path) -> u8 {
    let secrets = match demo_secrets()
        .iter()
        .map(|spec| Secret::parse(spec, |_| None))
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(s) => s,
        Err(e) => return fail(e.to_string()),
    };
    let validator = match Validator::new(Options::default().with_secrets(secrets)) {
        Ok(v) => v,
        Err(e) => return fail(e.to_string()),
    };
    let file = match validator.validate_path(log) {
        Ok(f) => f,
        Err(e) => return fail(format!("read {}: {e}", log.display())),
    };
    println!("\nevent log: {}", log.display());
    for (ty, n) in &file.by_event_type {
        println!("  {ty:<14} {n}");
    }
    let report = Report { files: vec![file] };
    let mut out = std::io::stdout().lock();
    if let Err(e) = validate::report::write(&report, Format::Text, &mut out) {
        return fail(format!("write report: {e}"));
    }
    if report.has_errors() {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
