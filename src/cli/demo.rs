//! `agentlog demo`: a scripted agent session through the proxy against the mock LLM.
//!
//! Starts the wiremock upstream, the TLS fixture and the proxy in-process (loopback only, no
//! real keys), sends a plain request, a JSON chat completion, an SSE stream, an Anthropic
//! request and a leaking request (blocked), writes `events.jsonl` under `--out`, validates
//! it and prints a summary.

use crate::cli::output::{self, errln, outln};
use agentlog_validate::gate::Style;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use agentlog_analyze::{Analyzer, Options as AnalyzeOptions};
use agentlog_intercept::Budget;

use agentlog_core::secrets::Secret;
use agentlog_intercept::Profile;
use agentlog_testkit::{ProxyOptions, TlsFixture, start_proxy};
use agentlog_validate::report::Format;
use agentlog_validate::{self as validate, Options, Report, Validator};
use serde_json::{Value, json};

use super::proxy::{SpendArgs, profile_parser};
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
///
/// With `--profile v1` the proxy writes what the reference sandbox writes, and the session
/// also shows its host gate (only the two API hosts are allowed: a request to `localhost`
/// is refused) and a route (Anthropic requests go to a local mock "inference server").
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory for events.jsonl (default: a new temporary directory, kept).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Event profile of the proxy: `v0` (the seed) or `v1` (the reference sandbox).
    #[arg(long, default_value_t = Profile::V0, value_parser = profile_parser())]
    pub profile: Profile,
    #[command(flatten)]
    pub spend: SpendArgs,
}

/// Runs the demo.
pub fn run(args: Args) -> u8 {
    // The demo's own secrets are what its output must never show.
    let secrets: Vec<Secret> = demo_secrets()
        .iter()
        .filter_map(|spec| Secret::parse(spec, |_| None).ok())
        .collect();
    output::install_secrets(&secrets);
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
    let (prices, budget) = match (args.spend.price_table(), args.spend.budget(None)) {
        (Ok(prices), Ok(budget)) => (Arc::new(prices), budget),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    let options = proxy_options(&log, args.profile)
        .with_prices(prices)
        .with_budget(budget.clone());
    if let Err(e) = session(options, args.profile).await {
        return fail(e);
    }
    let code = report(&log);
    print_spend(&log, budget.as_deref());
    code
}

/// One scripted request: label, method, URL, one header, optional JSON body.
struct Step {
    label: &'static str,
    method: &'static str,
    url: &'static str,
    header: (&'static str, String),
    body: Option<Value>,
}

/// The proxy as the demo runs it; v1 adds the allowlist (and the route, once the local
/// server is up).
fn proxy_options(log: &std::path::Path, profile: Profile) -> ProxyOptions {
    let options = ProxyOptions::default()
        .with_secrets(demo_secrets().to_vec())
        .with_event_log(Some(log.to_path_buf()))
        .with_run_id(Some("vm-demo0001".into()))
        .with_profile(profile);
    if profile == Profile::V1 {
        options.with_allow_hosts(vec!["api.openai.com".into(), "api.anthropic.com".into()])
    } else {
        options
    }
}

async fn session(options: ProxyOptions, profile: Profile) -> Result<(), String> {
    let fixture = TlsFixture::start().await.map_err(|e| e.to_string())?;
    let local = agentlog_testkit::mocks::plain_upstream().await;
    let options = if profile == Profile::V1 {
        options.with_routes(vec![format!("api.anthropic.com={}", local.address())])
    } else {
        options
    };
    let proxy = start_proxy(&fixture, options)
        .await
        .map_err(|e| e.to_string())?;
    let client = proxy.client().map_err(|e| e.to_string())?;
    let placeholder = |name| proxy.placeholder(name).unwrap_or_default().to_owned();
    let (openai, anthropic) = (
        placeholder("OPENAI_API_KEY"),
        placeholder("ANTHROPIC_API_KEY"),
    );
    outln!("proxy {} with placeholders:", proxy.url());
    outln!("  OPENAI_API_KEY={openai}\n  ANTHROPIC_API_KEY={anthropic}");
    if profile == Profile::V1 {
        outln!("  allowed hosts: api.openai.com, api.anthropic.com");
        outln!(
            "  route: api.anthropic.com -> http://{} (a local mock model server)",
            local.address()
        );
    }
    for step in steps(&openai, &anthropic, profile) {
        let label = step.label;
        let (status, bytes) = send(&client, step)
            .await
            .map_err(|e| format!("{label}: {e}"))?;
        outln!("  {label:<40} -> {status} ({bytes} bytes)");
    }
    // Every response was read to its end, so every event is written: the shutdown below
    // only closes what is open.
    proxy.shutdown().await.map(drop).map_err(|e| e.to_string())
}

/// The scripted session: the same five requests in both profiles, and in v1 one more to a
/// host outside the allowlist.
fn steps(openai: &str, anthropic: &str, profile: Profile) -> Vec<Step> {
    let bearer = format!("Bearer {openai}");
    let mut steps = vec![
        Step {
            label: "list models",
            method: "GET",
            url: "https://api.openai.com/v1/models",
            header: ("authorization", bearer.clone()),
            body: None,
        },
        Step {
            label: "chat completion",
            method: "POST",
            url: "https://api.openai.com/v1/chat/completions",
            header: ("authorization", bearer.clone()),
            body: Some(
                json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}]}),
            ),
        },
        Step {
            label: "streamed chat completion",
            method: "POST",
            url: "https://api.openai.com/v1/chat/completions",
            header: ("authorization", bearer),
            body: Some(
                json!({"model": "gpt-4o-mini", "stream": true, "stream_options": {"include_usage": true}, "messages": []}),
            ),
        },
        Step {
            label: if profile == Profile::V1 {
                "anthropic message (routed to local)"
            } else {
                "anthropic message"
            },
            method: "POST",
            url: "https://api.anthropic.com/v1/messages",
            header: ("x-api-key", anthropic.to_owned()),
            body: Some(
                json!({"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}),
            ),
        },
        Step {
            label: "leak attempt (anthropic key to openai)",
            method: "POST",
            url: "https://api.openai.com/v1/chat/completions",
            header: ("x-api-key", anthropic.to_owned()),
            body: Some(json!({"model": "gpt-4o-mini", "messages": []})),
        },
    ];
    if profile == Profile::V1 {
        steps.push(Step {
            label: "host outside the allowlist",
            method: "GET",
            url: "https://localhost/",
            header: ("accept", "*/*".to_owned()),
            body: None,
        });
    }
    steps
}

/// Sends one step; its status and the length of the body read to its end.
async fn send(
    client: &reqwest::Client,
    step: Step,
) -> Result<(reqwest::StatusCode, usize), String> {
    let mut req = if step.method == "GET" {
        client.get(step.url)
    } else {
        client.post(step.url)
    };
    req = req.header(step.header.0, step.header.1);
    if let Some(body) = step.body {
        req = req
            .header("content-type", "application/json")
            .body(body.to_string());
    }
    let resp = req.send().await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
    Ok((status, bytes.len()))
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
    // The validator's default, `auto`, tells v0 from v1 by the types in the file.
    let options = Options::default().with_secrets(secrets);
    let validator = match Validator::new(options) {
        Ok(v) => v,
        Err(e) => return fail(e.to_string()),
    };
    let file = match validator.validate_path(log) {
        Ok(f) => f,
        Err(e) => return fail(format!("read {}: {e}", log.display())),
    };
    outln!("\nevent log: {}", log.display());
    for (ty, n) in &file.by_event_type {
        outln!("  {ty:<18} {n}");
    }
    let report = Report { files: vec![file] };
    let mut out = output::stdout(Style::Text);
    if let Err(e) =
        validate::report::write(&report, Format::Text, &mut out).and_then(|()| out.flush())
    {
        return fail(format!("write report: {e}"));
    }
    if report.has_errors() {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

/// Prints tokens and spend per model (added up by `agentlog analyze`'s library from the
/// log's response events), and where the budget stands.
fn print_spend(log: &std::path::Path, budget: Option<&Budget>) {
    let mut analyzer = Analyzer::new(AnalyzeOptions::default());
    if let Err(e) = analyzer.read_path(log) {
        errln!("agentlog: warning: {}: {e}", log.display());
        return;
    }
    let report = analyzer.finish();
    let Some(sandbox) = report.sandbox else {
        return;
    };
    outln!("\nspend by model:");
    let mut rows: Vec<_> = sandbox
        .by_model_host
        .iter()
        .filter(|r| r.responses > 0 && r.model != "(none)")
        .collect();
    rows.sort_by(|a, b| a.model.cmp(&b.model));
    for r in rows {
        outln!(
            "  {:<28} {:>2} response(s) {:>6} in {:>6} out  ${:.6}",
            r.model,
            r.responses,
            r.input_tokens,
            r.output_tokens,
            r.cost_usd
        );
    }
    if let Some(budget) = budget {
        let refused = sandbox.budget_actions.get("blocked").copied().unwrap_or(0);
        let now = budget.now();
        outln!(
            "budget: ${} of ${} spent, {refused} request(s) refused",
            now.spent,
            budget.limit()
        );
    }
}
