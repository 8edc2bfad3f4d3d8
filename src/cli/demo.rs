//! `agentlog demo`: a scripted agent session through the proxy against the mock LLM.
//!
//! Starts the mock LLM upstream and its TLS fixture (`agentlog-mock-upstream`) and the proxy
//! in-process (loopback only, no real keys), sends a plain request, a JSON chat completion, an
//! SSE stream, an Anthropic request and a leaking request (blocked), writes `events.jsonl`
//! under `--out`, validates it and prints a summary.
//!
//! The proxy is `agentlog-intercept`'s, configured here as `agentlog proxy` would be with
//! `--upstream-ca` and `--connect-to` pointing at the fixture; the CA it intercepts with is
//! generated in memory and dropped at the end.

use crate::cli::output::{self, errln, outln};
use agentlog_validate::gate::Style;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use agentlog_analyze::{Analyzer, Options as AnalyzeOptions};
use agentlog_intercept::{
    Budget, CertAuthority, HostGate, Injector, PriceTable, Profile, Proxy, ProxyConfig, Routes,
    RunningProxy, install_default_provider,
};

use agentlog_core::emitter::Emitter;
use agentlog_core::secrets::Secret;
use agentlog_core::sink::{JsonlWriter, Sink};
use agentlog_mock_upstream::{TlsFixture, mocks};
use agentlog_validate::report::Format;
use agentlog_validate::{self as validate, Options, Report, Validator};
use serde_json::{Value, json};

use super::proxy::{SpendArgs, profile_parser};
use super::{EXIT_FINDINGS, EXIT_OK, fail, otlp_live};

const DEMO_OPENAI_KEY: &str = "sk-demo-openai-not-a-real-key-4f1d";
const DEMO_ANTHROPIC_KEY: &str = "sk-ant-demo-not-a-real-key-93c2";
/// `run_id` of the demo's events.
const DEMO_RUN_ID: &str = "vm-demo0001";
/// `agent_system` of the demo's events: the name the demo's log has always carried.
const DEMO_AGENT_SYSTEM: &str = "testkit";
/// Hosts the v1 demo's allowlist lets through.
const DEMO_ALLOWED_HOSTS: [&str; 2] = ["api.openai.com", "api.anthropic.com"];

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
pub(super) struct Args {
    /// Directory for events.jsonl (default: a new temporary directory, kept).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Event profile of the proxy: `v0` (the seed) or `v1` (the reference sandbox).
    #[arg(long, default_value_t = Profile::V0, value_parser = profile_parser())]
    pub profile: Profile,
    #[command(flatten)]
    pub spend: SpendArgs,
    /// Also send every event to an OpenTelemetry collector (OTLP/HTTP base URL), as
    /// `agentlog proxy --otlp-endpoint` does.
    #[arg(long, value_name = "URL")]
    pub otlp_endpoint: Option<String>,
}

/// Runs the demo.
pub(super) fn run(args: Args) -> u8 {
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
    let export = match &args.otlp_endpoint {
        Some(url) => match otlp_live::start(url) {
            Ok(live) => Some(live),
            Err(e) => return fail(e),
        },
        None => None,
    };
    let plan = Plan {
        log: log.clone(),
        profile: args.profile,
        prices,
        budget: budget.clone(),
        export: export.clone(),
    };
    if let Err(e) = session(&plan).await {
        return fail(e);
    }
    if let Some(live) = export {
        outln!("{}", live.describe());
        let _ =
            tokio::task::spawn_blocking(move || live.finish("agentlog demo", EXPORT_GRACE)).await;
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

/// What the demo's proxy is given besides the fixture.
struct Plan {
    /// The event log it writes (`events.jsonl`).
    log: PathBuf,
    profile: Profile,
    prices: Arc<PriceTable>,
    budget: Option<Arc<Budget>>,
    /// The live OTLP export behind the log (`--otlp-endpoint`).
    export: Option<otlp_live::Live>,
}

/// How long the demo waits for its export to be delivered.
const EXPORT_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// The proxy as the demo runs it: in-process on loopback, trusting the fixture's CA and
/// sending the API hosts to the fixture, writing [`Plan::log`]. v1 adds the allowlist
/// ([`DEMO_ALLOWED_HOSTS`]) and `routes`.
struct DemoProxy {
    running: RunningProxy,
    /// The CA it intercepts with, which the demo's client trusts.
    ca: Arc<CertAuthority>,
    writer: Arc<JsonlWriter>,
    /// `(secret name, placeholder)`.
    placeholders: Vec<(String, String)>,
}

impl DemoProxy {
    async fn start(fixture: &TlsFixture, plan: &Plan, routes: &[String]) -> Result<Self, String> {
        install_default_provider();
        let secrets = demo_secrets()
            .iter()
            .map(|spec| Secret::parse(spec, |_| None))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("secret: {e}"))?;
        let injector = Injector::new(secrets, &[]).map_err(|e| format!("secret: {e}"))?;
        let placeholders = injector
            .placeholders()
            .map(|(n, p)| (n.to_owned(), p.to_owned()))
            .collect();
        let writer = JsonlWriter::open(&plan.log).map_err(|e| format!("event log: {e}"))?;
        let writer = Arc::new(writer);
        let sinks: Vec<Arc<dyn Sink>> = match &plan.export {
            Some(live) => vec![live.sink(writer.clone())],
            None => vec![writer.clone()],
        };
        let emitter = Emitter::new(DEMO_RUN_ID, DEMO_AGENT_SYSTEM, sinks)
            .map_err(|e| format!("event log: {e}"))?;
        let ca = Arc::new(CertAuthority::generate().map_err(|e| e.to_string())?);
        let mut config = ProxyConfig::new(emitter, ca.clone());
        config.injector = injector;
        // What the proxy copies from an upstream into its log is judged as every output is.
        let redactor = super::output::gate().redactor().clone();
        config.judge = Some(agentlog_intercept::TextJudge::new(move |text| {
            redactor.leaks(text)
        }));
        config.upstream_roots = vec![fixture.ca_der().clone()];
        config.connect_to = fixture.connect_to();
        if plan.profile == Profile::V1 {
            config.profile = Profile::V1;
            config.gate = HostGate::from_globs(&DEMO_ALLOWED_HOSTS);
            config.routes = Routes::parse(routes).map_err(|e| e.to_string())?;
        }
        config.prices = plan.prices.clone();
        config.budget = plan.budget.clone();
        let running = Proxy::new(config)
            .map_err(|e| e.to_string())?
            .bind(([127, 0, 0, 1], 0).into())
            .await
            .map_err(|e| e.to_string())?;
        Ok(DemoProxy {
            running,
            ca,
            writer,
            placeholders,
        })
    }

    /// The proxy URL for `HTTPS_PROXY`.
    fn url(&self) -> String {
        format!("http://{}", self.running.local_addr())
    }

    /// The placeholder the agent holds for secret `name` (empty when there is none).
    fn placeholder(&self, name: &str) -> String {
        self.placeholders
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.clone())
            .unwrap_or_default()
    }

    /// The demo's agent: an HTTPS client that goes through the proxy and trusts only its CA.
    fn client(&self) -> Result<reqwest::Client, String> {
        let client = || -> Result<reqwest::Client, reqwest::Error> {
            let ca = reqwest::Certificate::from_pem(self.ca.cert_pem().as_bytes())?;
            reqwest::Client::builder()
                .proxy(reqwest::Proxy::all(self.url())?)
                .tls_certs_only([ca])
                .timeout(std::time::Duration::from_secs(30))
                .build()
        };
        client().map_err(|e| format!("client: {e}"))
    }

    /// Stops the proxy (exchanges in flight get the default grace) and closes the event log
    /// (fsync).
    async fn shutdown(self) -> Result<(), String> {
        self.running.shutdown().await;
        self.writer.close().map_err(|e| format!("event log: {e}"))
    }
}

async fn session(plan: &Plan) -> Result<(), String> {
    let profile = plan.profile;
    let fixture = TlsFixture::start().await.map_err(|e| e.to_string())?;
    let local = mocks::plain_upstream().await;
    // v1: Anthropic requests go to the local mock "inference server".
    let routes = [format!("api.anthropic.com={}", local.address())];
    let proxy = DemoProxy::start(&fixture, plan, &routes).await?;
    let client = proxy.client()?;
    let (openai, anthropic) = (
        proxy.placeholder("OPENAI_API_KEY"),
        proxy.placeholder("ANTHROPIC_API_KEY"),
    );
    outln!("proxy {} with placeholders:", proxy.url());
    outln!("  OPENAI_API_KEY={openai}\n  ANTHROPIC_API_KEY={anthropic}");
    if profile == Profile::V1 {
        outln!("  allowed hosts: {}", DEMO_ALLOWED_HOSTS.join(", "));
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
    proxy.shutdown().await
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
        Err(e) => return fail(format!("read {}: {e}", crate::cli::output::path(log))),
    };
    outln!("\nevent log: {}", output::path(log));
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
        errln!("agentlog: warning: {}: {e}", crate::cli::output::path(log));
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
