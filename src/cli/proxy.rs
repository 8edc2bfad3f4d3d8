//! `agentlog proxy`: the MITM HTTPS proxy that injects secrets and writes the event log.

use crate::cli::output::{self, errln};
use agentlog_validate::gate::Style;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use agentlog_core::config::{ConfigError, LoggingConfig, RunId};
use agentlog_core::emitter::Emitter;
use agentlog_core::secrets::{HostPattern, Secret, check_value_len};
use agentlog_core::sink::{JsonlWriter, Reopened, SinkError};
use agentlog_intercept::{
    Budget, CertAuthority, ConnectTo, HostGate, Injector, LogErrorPolicy, PriceTable, Profile,
    Proxy, ProxyConfig, Restored, Route, Routes, RunningProxy, Timeouts, ignore_write_signals,
    install_default_provider, parse_connect_to, raise_fd_limit, restore_from_log,
};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use super::{EXIT_ERROR, EXIT_OK, fail, otlp_live};

/// Run the interceptor: point an agent's HTTPS_PROXY at it and trust `<ca-dir>/ca.pem`.
///
/// SIGTERM or SIGINT (Ctrl-C) stops it: no new connection is accepted, exchanges in flight
/// get `--shutdown-grace` to finish, the rest are cut (their `llm_response` is tagged
/// `cut_short`), and the log is synced and closed. SIGHUP reopens the event log (after
/// logrotate renamed it; every event lands in the old file or the new one). The log is locked:
/// a second proxy on the same log refuses to start. Durations are written `30s`, `500ms`,
/// `2m`.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Event log file (JSON Lines). Without it, `--agent-system` enables logging to the
    /// default path `<data dir>/agentlog/logs/<run id>/events.jsonl`.
    #[arg(long, value_name = "PATH")]
    pub event_log: Option<PathBuf>,
    /// Run id stamped on events (default: `vm-` + 8 random hex digits).
    #[arg(long, value_name = "ID")]
    pub run_id: Option<String>,
    /// Agent system stamped on events (default `agentlog-proxy` when --event-log is given).
    #[arg(long, value_name = "NAME")]
    pub agent_system: Option<String>,
    /// A secret: `NAME=VALUE@host1,host2`, or `NAME@hosts` to read VALUE from the
    /// environment variable NAME. Repeatable. `@*` (or no `@` at all) allows every host; an
    /// empty list after `@` is refused. Host globs: `*.example.com` (any subdomain), `example.*` (one label).
    /// The hosts follow the LAST `@`: a VALUE with `@` needs them (`K=a@b@*`). A VALUE
    /// shorter than 8 bytes is refused.
    #[arg(long, value_name = "SPEC")]
    pub secret: Vec<String>,
    /// Fix the placeholder of a secret: `NAME=SANDBOX_SECRET_...` (default: random; fix it
    /// to keep an agent's environment valid across restarts).
    #[arg(long, value_name = "NAME=PLACEHOLDER")]
    pub placeholder: Vec<String>,
    /// Directory of the interception CA (`ca.pem`, `ca-key.pem`); created on first use.
    #[arg(long, value_name = "DIR")]
    pub ca_dir: PathBuf,
    /// Extra LLM host glob (besides the built-in list). Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub llm_host: Vec<String>,
    /// Extra PEM file of CA certificates trusted for upstreams. Repeatable.
    #[arg(long, value_name = "PEM")]
    pub upstream_ca: Vec<PathBuf>,
    /// Dial ADDR:PORT whenever HOST:PORT is requested. Repeatable.
    #[arg(long, value_name = "HOST:PORT=ADDR:PORT")]
    pub connect_to: Vec<String>,
    /// When an event cannot be written: `block` refuses the request (503) so that no
    /// exchange goes unlogged; `continue` forwards it anyway. Both report each failure.
    #[arg(long, value_name = "POLICY", default_value = "block", value_parser = parse_policy)]
    pub on_log_error: LogErrorPolicy,
    /// Also inject secrets into cleartext `http://` requests (by default a placeholder in a
    /// cleartext request is refused, since the value would cross the network unencrypted).
    #[arg(long)]
    pub allow_cleartext_injection: bool,
    /// How long exchanges in flight may take to finish after SIGTERM/SIGINT.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = duration)]
    pub shutdown_grace: Duration,
    /// Also send every event the log accepts to an OpenTelemetry collector (OTLP/HTTP base
    /// URL; headers and protocol from OTEL_EXPORTER_OTLP_HEADERS and _PROTOCOL). The log
    /// stays the source of truth: the export never blocks or slows an exchange, drops (and
    /// counts) what a slow collector cannot take, and flushes within --shutdown-grace.
    #[arg(long, value_name = "URL")]
    pub otlp_endpoint: Option<String>,
    /// Seal the event log as it is written (as `agentlog seal` does): a checkpoint every
    /// --seal-every, and a last one at shutdown once the log is closed. With SIGHUP
    /// rotation, rotate `LOG.seal` with its log.
    #[arg(long)]
    pub seal: bool,
    /// Sign the checkpoints with this secret key (`agentlog keygen`); implies --seal.
    #[arg(long, value_name = "FILE")]
    pub seal_key: Option<PathBuf>,
    /// How often the event log is sealed while the proxy runs.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration)]
    pub seal_every: Duration,
    /// Upstream: TCP connect plus TLS handshake.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration)]
    pub connect_timeout: Duration,
    /// Upstream: from sending a request to its response head.
    #[arg(long, value_name = "DURATION", default_value = "300s", value_parser = duration)]
    pub response_timeout: Duration,
    /// Upstream: longest pause between two response body chunks.
    #[arg(long, value_name = "DURATION", default_value = "300s", value_parser = duration)]
    pub idle_timeout: Duration,
    /// Client: the TLS handshake inside a CONNECT tunnel.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = duration)]
    pub handshake_timeout: Duration,
    /// Client: receiving a whole request head.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = duration)]
    pub header_timeout: Duration,
    /// Client: a connection silent this long with no request in flight is closed.
    #[arg(long, value_name = "DURATION", default_value = "90s", value_parser = duration)]
    pub client_idle_timeout: Duration,
    /// Client connections served at once (default: half the open-file limit, at most
    /// 16384); further clients wait in the listen backlog.
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Event types written: `v0` (the seed: llm_request, llm_response, key_injection) or
    /// `v1` (what the reference sandbox writes: http_request and http_response for every
    /// request, request_transform, response_transform, gate_decision, route_decision).
    #[arg(long, default_value_t = Profile::V0, value_parser = profile_parser())]
    pub profile: Profile,
    /// Allow requests only to hosts matching GLOB (repeatable; none given: every host).
    /// Other hosts get 403 and a `gate_decision` blocked, and are never contacted. Needs
    /// `--profile v1`.
    #[arg(long, value_name = "GLOB")]
    pub allow_host: Vec<String>,
    /// Send requests for HOST to ADDR:PORT instead (plain HTTP, or `https://ADDR:PORT`),
    /// e.g. a local inference server; written as `route_decision`. Secrets are injected for
    /// ADDR, not HOST. Repeatable, first match wins. Needs `--profile v1`.
    #[arg(long, value_name = "HOST=ADDR:PORT")]
    pub route: Vec<String>,
    #[command(flatten)]
    pub spend: SpendArgs,
}

/// Prices and the budget gate, shared by `proxy` and `demo`.
#[derive(Debug, Clone, clap::Args)]
pub(super) struct SpendArgs {
    /// Refuse (429, `budget_action` blocked) any LLM request that could take this run's spend
    /// past LIMIT US dollars: each request's worst case is reserved before it is forwarded and
    /// its real cost settled when it ends. Spend already in the event log counts (a restart
    /// does not reset the budget).
    #[arg(long, value_name = "LIMIT", value_parser = non_negative)]
    pub budget_usd: Option<f64>,
    /// Write `budget_action` warn when spend reaches this fraction of --budget-usd.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.8, value_parser = fraction)]
    pub budget_warn_at: f64,
    /// A price table in LiteLLM's `model_prices_and_context_window.json` format; its entries
    /// override the built-in table (current OpenAI and Anthropic models).
    #[arg(long, value_name = "FILE")]
    pub prices: Option<PathBuf>,
}

fn non_negative(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err("expected a non-negative number of US dollars, e.g. 5 or 0.25".to_owned()),
    }
}

fn fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err("expected a fraction from 0 to 1, e.g. 0.8".to_owned()),
    }
}

impl SpendArgs {
    /// The price table: the built-in one, overridden by `--prices`.
    pub(super) fn price_table(&self) -> Result<PriceTable, u8> {
        let builtin = PriceTable::builtin();
        match &self.prices {
            None => Ok(builtin),
            Some(path) => match PriceTable::load(path) {
                Ok(table) => Ok(builtin.with_overrides(table)),
                Err(e) => Err(fail(format_args!("--prices: {e}"))),
            },
        }
    }

    /// The budget, its spend restored from `log` (the run's own event log and its rotated
    /// files).
    pub(super) fn budget(&self, log: Option<&std::path::Path>) -> Result<Option<Arc<Budget>>, u8> {
        let Some(limit) = self.budget_usd else {
            return Ok(None);
        };
        let restored = match log {
            Some(path) => restore_from_log(path).map_err(|e| {
                fail(format_args!(
                    "read {} for the budget: {e}",
                    crate::cli::output::path(path)
                ))
            })?,
            None => Restored::default(),
        };
        if let Some(path) = log {
            for skipped in &restored.skipped_lines {
                errln!(
                    "agentlog: warning: {}:{}: not a JSON event; not counted in the budget",
                    crate::cli::output::path(&skipped.file),
                    skipped.line
                );
            }
            if !restored.rotated_files.is_empty() {
                errln!(
                    "agentlog: {}: spend restored from the log and {} rotated file(s) of it",
                    crate::cli::output::path(path),
                    restored.rotated_files.len()
                );
            }
            if restored.unanswered > 0 {
                errln!(
                    "agentlog: {}: {} request(s) have no response in the log (the proxy stopped \
                     mid-exchange); charged their reservations, ${}",
                    crate::cli::output::path(path),
                    restored.unanswered,
                    restored.unanswered_usd
                );
            }
        }
        Ok(Some(Arc::new(Budget::new(
            limit,
            self.budget_warn_at,
            (restored.spent, restored.tokens),
        ))))
    }
}

/// The profiles `--profile` of the proxy (and of the demo) takes, the event-log profiles
/// ([`Profile::EVENT_LOGS`]), with what `--help` says of each.
pub(super) const EVENT_PROFILES: [(Profile, &str); 2] = [
    (Profile::V0, "The seed's v0 event types"),
    (Profile::V1, "The reference sandbox's v1 event types"),
];

/// `--profile` of the proxy (and of the demo): one of [`EVENT_PROFILES`].
pub(super) fn profile_parser() -> impl clap::builder::TypedValueParser<Value = Profile> {
    super::profile_arg::parser(&EVENT_PROFILES, Profile::name)
}

fn parse_policy(s: &str) -> Result<LogErrorPolicy, String> {
    match s {
        "block" => Ok(LogErrorPolicy::Block),
        "continue" => Ok(LogErrorPolicy::Continue),
        _ => Err("expected `block` or `continue`".to_owned()),
    }
}

fn duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (write e.g. 30s, 500ms, 2m)"))
}

fn random_run_id() -> String {
    let bytes: [u8; 4] = rand::random();
    format!(
        "vm-{:02x}{:02x}{:02x}{:02x}",
        bytes[0], bytes[1], bytes[2], bytes[3]
    )
}

/// Runs the proxy until SIGTERM or SIGINT.
pub(super) fn run(args: Args) -> u8 {
    super::block_on(serve(args))
}

/// The event log: the emitter the proxy writes with and, when logging, the file and its
/// writer (which SIGHUP reopens).
struct Log {
    emitter: Emitter,
    path: Option<PathBuf>,
    writer: Option<Arc<JsonlWriter>>,
    run_id: RunId,
    /// The live OTLP export behind the log (`--otlp-endpoint`).
    export: Option<otlp_live::Live>,
}

async fn serve(args: Args) -> u8 {
    install_default_provider();
    // Before the log is opened: a write past a file-size limit must fail (and be refused
    // with 503), not kill the proxy.
    if let Err(e) = ignore_write_signals() {
        return fail(format!("ignore SIGXFSZ and SIGPIPE: {e}"));
    }
    // Before the log is opened too: from here on SIGHUP reopens it and never kills.
    let mut signals = match StopSignals::listen() {
        Ok(signals) => signals,
        Err(e) => return fail(format!("listen for signals: {e}")),
    };
    let limits = raise_fd_limit();
    // Before configure creates the CA and the event log: a refused key leaves neither.
    let seal = match seal_options(&args) {
        Ok(seal) => seal,
        Err(code) => return code,
    };
    let (config, log, ca) = match configure(&args, limits) {
        Ok(parts) => parts,
        Err(code) => return code,
    };
    let sealing = match start_sealer(&args, seal, &log) {
        Ok(sealing) => sealing,
        Err(code) => return code,
    };
    let mut scopes = policy_lines(&args, config.budget.as_deref());
    scopes.extend(scope_lines(&config.injector));
    let running = match Proxy::new(config) {
        Ok(p) => match p.bind(args.listen).await {
            Ok(r) => r,
            Err(e) => return fail(e),
        },
        Err(e) => return fail(e),
    };
    print_startup(&running, &ca, &log, &scopes);
    loop {
        match signals.wait().await {
            Ok(Signalled::Stop(name)) => {
                let code = stop(running, &log, name, args.shutdown_grace).await;
                return finish_sealing(sealing, code).await;
            }
            Ok(Signalled::Reopen) => reopen(&log).await,
            Err(e) => return fail(format!("wait for a signal: {e}")),
        }
    }
}

/// Everything the proxy needs from the command line; an error was printed when `Err`.
fn configure(
    args: &Args,
    limits: Option<(u64, u64)>,
) -> Result<(ProxyConfig, Log, Arc<CertAuthority>), u8> {
    // Every check of the command line comes before anything is created: a refused start-up
    // leaves no event log and no CA behind.
    let injector = injector(args)?;
    let connect_to = connect_to(args)?;
    let upstream_roots = upstream_roots(args)?;
    let (gate, routes) = policy(args)?;
    let prices = Arc::new(args.spend.price_table()?);
    let log = open_log(args)?;
    let budget = args.spend.budget(log.path.as_deref())?;
    let ca = match CertAuthority::load_or_create(&args.ca_dir) {
        Ok(ca) => Arc::new(ca),
        Err(e) => return Err(fail(e)),
    };
    let mut config = ProxyConfig::new(log.emitter.clone(), ca.clone());
    config.injector = injector;
    // What the proxy copies from an upstream into its log is judged as every output is.
    let redactor = super::output::gate().redactor().clone();
    config.judge = Some(agentlog_intercept::TextJudge::new(move |text| {
        redactor.leaks(text)
    }));
    config.llm_hosts = args.llm_host.iter().map(HostPattern::new).collect();
    config.upstream_roots = upstream_roots;
    config.connect_to = connect_to;
    config.on_log_error = args.on_log_error;
    config.allow_cleartext_injection = args.allow_cleartext_injection;
    config.profile = args.profile;
    config.gate = gate;
    config.routes = routes;
    config.prices = prices;
    config.budget = budget;
    config.timeouts = Timeouts::default()
        .with_connect(args.connect_timeout)
        .with_response_head(args.response_timeout)
        .with_body_idle(args.idle_timeout)
        .with_client_handshake(args.handshake_timeout)
        .with_client_header(args.header_timeout)
        .with_client_idle(args.client_idle_timeout);
    config.max_connections = args.max_connections.unwrap_or_else(|| {
        let files = limits.map_or(1024, |(_, after)| after);
        usize::try_from(files / 2)
            .unwrap_or(usize::MAX)
            .clamp(64, 16384)
    });
    if let Some((before, after)) = limits {
        tracing::info!(
            before,
            after,
            max_connections = config.max_connections,
            "open-file limit"
        );
    }
    Ok((config, log, ca))
}

/// The profile, the host gate and the routes; gate and routes need v1.
/// The host gate and the routes; both need `--profile v1`.
fn policy(args: &Args) -> Result<(HostGate, Routes), u8> {
    if args.profile == Profile::V0 && !(args.allow_host.is_empty() && args.route.is_empty()) {
        return Err(fail(
            "--allow-host and --route need --profile v1 (v0 has no gate_decision or route_decision event)",
        ));
    }
    let routes = Routes::parse(&args.route).map_err(fail)?;
    Ok((HostGate::from_globs(&args.allow_host), routes))
}

fn injector(args: &Args) -> Result<Injector, u8> {
    let env = |name: &str| std::env::var(name).ok();
    let mut secrets = Vec::new();
    for (i, spec) in args.secret.iter().enumerate() {
        // The position, never the text: a spec that fails to parse may be a value.
        let secret =
            Secret::parse(spec, env).map_err(|e| fail(format_args!("--secret #{}: {e}", i + 1)))?;
        // The validator's rule, in its words (agentlog-core's one minimum): a value it would
        // refuse to scan for is not injected either.
        check_value_len(secret.expose())
            .map_err(|e| fail(format_args!("--secret #{}: {e}", i + 1)))?;
        secrets.push(secret);
    }
    // Every value is long enough to be watched for (checked above).
    output::install_secrets(&secrets);
    let mut placeholders = Vec::new();
    for spec in &args.placeholder {
        let Some((name, value)) = spec.split_once('=') else {
            return Err(fail("--placeholder must be NAME=PLACEHOLDER"));
        };
        placeholders.push((name.to_owned(), value.to_owned()));
    }
    Injector::new(secrets, &placeholders).map_err(fail)
}

fn connect_to(args: &Args) -> Result<ConnectTo, u8> {
    let mut map = ConnectTo::new();
    for spec in &args.connect_to {
        let (from, to) = parse_connect_to(spec).map_err(fail)?;
        map.insert(from, to);
    }
    Ok(map)
}

fn upstream_roots(args: &Args) -> Result<Vec<CertificateDer<'static>>, u8> {
    let mut roots = Vec::new();
    for path in &args.upstream_ca {
        let certs: Result<Vec<_>, _> = match CertificateDer::pem_file_iter(path) {
            Ok(iter) => iter.collect(),
            Err(e) => {
                return Err(fail(format!(
                    "--upstream-ca {}: {e}",
                    crate::cli::output::path(path)
                )));
            }
        };
        match certs {
            Ok(c) if !c.is_empty() => roots.extend(c),
            _ => {
                let message = format!(
                    "--upstream-ca {}: no PEM certificate",
                    crate::cli::output::path(path)
                );
                return Err(fail(message));
            }
        }
    }
    Ok(roots)
}

fn open_log(args: &Args) -> Result<Log, u8> {
    let run_id = RunId::new(args.run_id.clone().unwrap_or_else(random_run_id)).map_err(fail)?;
    let agent_system = args
        .agent_system
        .clone()
        .or_else(|| args.event_log.as_ref().map(|_| "agentlog-proxy".to_owned()));
    let logging = LoggingConfig::from_flags(args.event_log.clone(), run_id.clone(), agent_system)
        .map_err(fail)?;
    match logging.emitter_locked() {
        Ok(Some((emitter, writer))) => {
            let path = writer.path().to_path_buf();
            let repaired = writer.repaired_bytes();
            if repaired > 0 {
                errln!(
                    "agentlog: warning: {}: removed a torn last line ({repaired} bytes, left by a crash or a full disk) before appending",
                    crate::cli::output::path(&path)
                );
            }
            let export = match &args.otlp_endpoint {
                Some(url) => Some(otlp_live::start(url).map_err(fail)?),
                None => None,
            };
            let emitter = match &export {
                Some(live) => {
                    let sinks = vec![live.sink(writer.clone())];
                    Emitter::new(emitter.run_id(), emitter.agent_system(), sinks).map_err(fail)?
                }
                None => emitter,
            };
            Ok(Log {
                emitter,
                path: Some(path),
                writer: Some(writer),
                run_id,
                export,
            })
        }
        Ok(None) => match Emitter::new(run_id.as_str(), "agentlog-proxy", Vec::new()) {
            Ok(_) if args.otlp_endpoint.is_some() => Err(fail(
                "--otlp-endpoint exports what the event log accepts: give --event-log or --agent-system",
            )),
            Ok(emitter) => Ok(Log {
                emitter,
                path: None,
                writer: None,
                run_id,
                export: None,
            }),
            Err(e) => Err(fail(e)),
        },
        Err(ConfigError::Sink(SinkError::Locked { path })) => Err(fail(format_args!(
            "event log {} is in use by another agentlog proxy (it holds the log's lock): two proxies on one log would each enforce the whole --budget-usd; stop the other one or give this one another --event-log",
            crate::cli::output::path(&path)
        ))),
        Err(e) => Err(fail(e)),
    }
}

/// The event profile, the allowlist and the routes, as an operator should see them.
fn policy_lines(args: &Args, budget: Option<&Budget>) -> Vec<String> {
    let mut lines = vec![match args.profile {
        Profile::V0 => "event profile: v0 (llm_request, llm_response, key_injection)".to_owned(),
        Profile::V1 => "event profile: v1 (http_request, http_response, request_transform, response_transform, gate_decision, route_decision)".to_owned(),
        other => format!("event profile: {other}"),
    }];
    if !args.allow_host.is_empty() {
        lines.push(format!(
            "allowed hosts: {} (any other host gets 403)",
            args.allow_host.join(", ")
        ));
    }
    lines.push(match &args.spend.prices {
        Some(path) => format!(
            "prices: {} over the built-in table",
            crate::cli::output::path(path)
        ),
        None => "prices: the built-in table (current OpenAI and Anthropic models)".to_owned(),
    });
    if let Some(budget) = budget {
        let now = budget.now();
        lines.push(format!(
            "budget: ${} of ${} spent so far ({} tokens); warning at {}%",
            now.spent,
            budget.limit(),
            now.tokens,
            args.spend.budget_warn_at * 100.0
        ));
    }
    for spec in &args.route {
        if let Ok(route) = spec.parse::<Route>() {
            let scheme = if route.to.https { "https" } else { "http" };
            lines.push(format!(
                "route: {} -> {scheme}://{}",
                route.from.as_str(),
                route.to.authority()
            ));
        }
    }
    lines
}

/// One line per secret: its name, placeholder and the hosts it is injected for. Never the
/// value: the scope is what an operator must see to notice a secret allowed too widely.
fn scope_lines(injector: &Injector) -> Vec<String> {
    let placeholders: Vec<(&str, &str)> = injector.placeholders().collect();
    injector
        .secrets()
        .zip(placeholders)
        .map(|(secret, (name, placeholder))| {
            let hosts: Vec<&str> = secret.hosts().iter().map(HostPattern::as_str).collect();
            let scope = if hosts.is_empty() || hosts.contains(&"*") {
                "EVERY host (*)".to_owned()
            } else {
                hosts.join(", ")
            };
            format!("{name}={placeholder}\n  secret {name} is injected for: {scope}")
        })
        .collect()
}

/// Prints what an operator needs to point an agent at the proxy. Written with `writeln!`
/// and errors ignored: a closed stdout (a supervisor that stopped reading) must not stop the
/// proxy, as `println!` would by panicking.
fn print_startup(running: &RunningProxy, ca: &CertAuthority, log: &Log, scopes: &[String]) {
    use std::io::Write;
    let mut out = output::stdout(Style::Text);
    let _ = writeln!(out, "agentlog proxy listening on {}", running.local_addr());
    if let Some(path) = ca.cert_path() {
        let _ = writeln!(out, "CA certificate: {}", output::path(path));
    }
    let _ = match &log.path {
        Some(path) => writeln!(
            out,
            "event log: {} (run {})",
            output::path(path),
            log.run_id
        ),
        None => writeln!(
            out,
            "event log: disabled (give --event-log or --agent-system)"
        ),
    };
    if let Some(live) = &log.export {
        let _ = writeln!(out, "{}", live.describe());
    }
    for line in scopes {
        let _ = writeln!(out, "{line}");
    }
    let _ = out.flush();
}

/// SIGTERM (what docker and systemd send) and SIGINT (Ctrl-C), which stop the proxy, and
/// SIGHUP, which reopens the event log (what logrotate sends after renaming it), listened for
/// from the moment this is made: made before the "listening on" line, so a supervisor that
/// signals as soon as it reads that line never meets the default action (an exit with no log
/// closed).
struct StopSignals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
}

/// What a signal asks of the proxy.
enum Signalled {
    /// Stop (the signal's name).
    Stop(&'static str),
    /// Reopen the event log.
    Reopen,
}

impl StopSignals {
    fn listen() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(StopSignals {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
                hup: signal(SignalKind::hangup())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(StopSignals {})
        }
    }

    /// Waits for one of the signals.
    async fn wait(&mut self) -> std::io::Result<Signalled> {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => Ok(Signalled::Stop("SIGTERM")),
                _ = self.int.recv() => Ok(Signalled::Stop("SIGINT")),
                _ = self.hup.recv() => Ok(Signalled::Reopen),
            }
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c()
                .await
                .map(|()| Signalled::Stop("Ctrl-C"))
        }
    }
}

/// `--seal`: a sealer of the event log, started before the first exchange, and what its
/// last sealing came to. Each sealing's checkpoints are appended through the output gate; a
/// failure is reported when it first happens and whenever its reason changes (never dropped,
/// never repeated every interval).
struct Sealing {
    sealer: agentlog_seal::Sealer,
    last: Arc<std::sync::Mutex<LastSeal>>,
}

#[derive(Debug, Default)]
struct LastSeal {
    lines: u64,
    digest: Option<[u8; 32]>,
    error: Option<String>,
}

/// What `--seal` and `--seal-key` ask for, checked before anything is created: `None` when
/// the log is not sealed, else the key to sign with, if any (read now, so a key file its
/// group or others may read, or one that is not there, is refused first).
fn seal_options(args: &Args) -> Result<Option<Option<agentlog_seal::SecretKey>>, u8> {
    if !args.seal && args.seal_key.is_none() {
        return Ok(None);
    }
    // No --event-log and no --agent-system: no event log to seal (see `open_log`).
    if args.event_log.is_none() && args.agent_system.is_none() {
        return Err(fail("--seal seals the event log: give --event-log"));
    }
    match args.seal_key.as_deref().map(agentlog_seal::SecretKey::read) {
        Some(Ok(key)) => Ok(Some(Some(key))),
        Some(Err(e)) => Err(fail(e)),
        None => Ok(Some(None)),
    }
}

/// Starts sealing the event log when `seal` (from [`seal_options`]) says so.
fn start_sealer(
    args: &Args,
    seal: Option<Option<agentlog_seal::SecretKey>>,
    log: &Log,
) -> Result<Option<Sealing>, u8> {
    let Some(key) = seal else {
        return Ok(None);
    };
    let Some(path) = log.path.clone() else {
        return Err(fail("--seal seals the event log: give --event-log"));
    };
    let last = Arc::new(std::sync::Mutex::new(LastSeal::default()));
    let state = last.clone();
    let report = move |result: Result<agentlog_seal::Sealed, agentlog_seal::SealError>| {
        let outcome = result.map_err(|e| e.to_string()).and_then(|sealed| {
            super::seal::append(&sealed)
                .map(|()| (sealed.lines, sealed.added.last().map(|c| c.digest)))
        });
        let Ok(mut state) = state.lock() else { return };
        match outcome {
            Ok((lines, digest)) => {
                state.lines = lines;
                state.digest = digest.or(state.digest);
                state.error = None;
            }
            Err(e) => {
                if state.error.as_ref() != Some(&e) {
                    errln!("agentlog proxy: error: sealing the event log: {e}");
                }
                state.error = Some(e);
            }
        }
    };
    match agentlog_seal::Sealer::start(path, key, args.seal_every, Box::new(report)) {
        Ok(sealer) => Ok(Some(Sealing { sealer, last })),
        Err(e) => Err(fail(format!("start sealing the event log: {e}"))),
    }
}

/// Seals the closed log a last time (`--seal`) and says what the seal covers; `code` is the
/// proxy's exit code, an error when the last sealing failed.
async fn finish_sealing(sealing: Option<Sealing>, code: u8) -> u8 {
    let Some(Sealing { sealer, last }) = sealing else {
        return code;
    };
    let _ = tokio::task::spawn_blocking(move || sealer.finish()).await;
    let Ok(last) = last.lock() else {
        return fail("sealing the event log: its state was lost");
    };
    if last.error.is_some() {
        return EXIT_ERROR;
    }
    let digest = last
        .digest
        .map(|digest| agentlog_seal::to_hex(&digest))
        .unwrap_or_default();
    errln!(
        "agentlog proxy: event log sealed: {} line(s); last digest {digest}",
        last.lines
    );
    code
}

/// SIGHUP: opens the file now at the log's path (logrotate renamed the old one) and writes
/// there from now on. Exchanges in flight go on; each event lands whole in one of the two
/// files. A failure leaves events going to the file open before, and says so.
async fn reopen(log: &Log) {
    let Some(writer) = log.writer.clone() else {
        errln!("agentlog proxy: SIGHUP received; no event log to reopen");
        return;
    };
    let path = crate::cli::output::path(writer.path());
    // File work (open, lock, fsync of the previous file) off the runtime's threads.
    let reopened = tokio::task::spawn_blocking(move || writer.reopen()).await;
    match reopened {
        Ok(Ok(Reopened::Opened {
            repaired_bytes,
            previous_sync,
        })) => {
            if let Err(e) = previous_sync {
                errln!("agentlog proxy: warning: syncing the previous file of {path} failed: {e}");
            }
            if repaired_bytes > 0 {
                errln!(
                    "agentlog: warning: {path}: removed a torn last line ({repaired_bytes} bytes) before appending"
                );
            }
            errln!(
                "agentlog proxy: SIGHUP received; event log {path} reopened (the previous file synced and closed)"
            );
        }
        Ok(Ok(Reopened::Unchanged)) => errln!(
            "agentlog proxy: SIGHUP received; event log {path} was not rotated: still writing it"
        ),
        Ok(Ok(_)) => errln!("agentlog proxy: SIGHUP received; event log {path} reopened"),
        Ok(Err(e)) => errln!(
            "agentlog proxy: SIGHUP received; reopening the event log failed: {e}; events still go to the file open before"
        ),
        Err(e) => errln!(
            "agentlog proxy: SIGHUP received; reopening the event log failed: {e}; events still go to the file open before"
        ),
    }
}

async fn stop(running: RunningProxy, log: &Log, signal: &str, grace: Duration) -> u8 {
    let stopping = std::time::Instant::now();
    errln!(
        "agentlog proxy: {signal} received; no new connections, waiting up to {} for {} in flight",
        humantime::format_duration(grace),
        running.connections()
    );
    let report = running.shutdown_with_grace(grace).await;
    if report.drained {
        errln!("agentlog proxy: every exchange finished");
    } else {
        errln!(
            "agentlog proxy: grace period over; {} exchange(s) cut short (logged with tag cut_short)",
            report.cut_short
        );
    }
    if report.abandoned > 0 {
        errln!(
            "agentlog proxy: {} task(s) did not end after the cut",
            report.abandoned
        );
    }
    let failures = log.emitter.write_failures();
    if let Err(e) = log.emitter.close() {
        return fail(e);
    }
    if let Some(live) = &log.export {
        // Everything is in the log now; what is queued goes out within what is left of the
        // grace period (one grace period in all, exchanges and export together).
        let live = live.clone();
        let left = grace.saturating_sub(stopping.elapsed());
        let _ = tokio::task::spawn_blocking(move || live.finish("agentlog proxy", left)).await;
    }
    match (&log.path, failures) {
        (Some(path), 0) => errln!(
            "agentlog proxy stopped; event log {} synced and closed",
            crate::cli::output::path(path)
        ),
        (Some(path), n) => {
            errln!(
                "agentlog proxy stopped; event log {} closed, but {n} event(s) could not be written",
                crate::cli::output::path(path)
            );
            return EXIT_ERROR;
        }
        (None, _) => errln!("agentlog proxy stopped"),
    }
    EXIT_OK
}
