//! `agentlog proxy`: the MITM HTTPS proxy that injects secrets and writes the event log.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use agentlog_core::config::{LoggingConfig, RunId};
use agentlog_core::emitter::Emitter;
use agentlog_core::secrets::{HostPattern, Secret};
use agentlog_intercept::{
    CertAuthority, ConnectTo, Injector, Proxy, ProxyConfig, install_default_provider,
    parse_connect_to,
};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use super::{EXIT_OK, fail};

/// Run the interceptor: point an agent's HTTPS_PROXY at it and trust `<ca-dir>/ca.pem`.
#[derive(Debug, clap::Args)]
pub struct Args {
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
    /// environment variable NAME. Repeatable. Host globs: `*`, `*.example.com`, `example.*`.
    #[arg(long, value_name = "SPEC")]
    pub secret: Vec<String>,
    /// Fix the placeholder of a secret: `NAME=SANDBOX_SECRET_...` (default: random).
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
}

fn random_run_id() -> String {
    let bytes: [u8; 4] = rand::random();
    format!(
        "vm-{:02x}{:02x}{:02x}{:02x}",
        bytes[0], bytes[1], bytes[2], bytes[3]
    )
}

/// Runs the proxy until Ctrl-C.
pub fn run(args: Args) -> u8 {
    super::block_on(serve(args))
}

async fn serve(args: Args) -> u8 {
    install_default_provider();
    let env = |name: &str| std::env::var(name).ok();
    let mut secrets = Vec::new();
    for (i, spec) in args.secret.iter().enumerate() {
        match Secret::parse(spec, env) {
            Ok(s) => secrets.push(s),
            // The position, never the text: a spec that fails to parse may be a value.
            Err(e) => return fail(format_args!("--secret #{}: {e}", i + 1)),
        }
    }
    let mut placeholders = Vec::new();
    for spec in &args.placeholder {
        let Some((name, value)) = spec.split_once('=') else {
            return fail("--placeholder must be NAME=PLACEHOLDER");
        };
        placeholders.push((name.to_owned(), value.to_owned()));
    }
    let injector = match Injector::new(secrets, &placeholders) {
        Ok(i) => i,
        Err(e) => return fail(e),
    };
    let mut connect_to = ConnectTo::new();
    for spec in &args.connect_to {
        match parse_connect_to(spec) {
            Ok((from, to)) => {
                connect_to.insert(from, to);
            }
            Err(e) => return fail(e),
        }
    }
    let mut upstream_roots: Vec<CertificateDer<'static>> = Vec::new();
    for path in &args.upstream_ca {
        let certs: Result<Vec<_>, _> = match CertificateDer::pem_file_iter(path) {
            Ok(iter) => iter.collect(),
            Err(e) => return fail(format!("--upstream-ca {}: {e}", path.display())),
        };
        match certs {
            Ok(c) if !c.is_empty() => upstream_roots.extend(c),
            _ => {
                return fail(format!(
                    "--upstream-ca {}: no PEM certificate",
                    path.display()
                ));
            }
        }
    }
    let run_id = match RunId::new(args.run_id.clone().unwrap_or_else(random_run_id)) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let agent_system = args
        .agent_system
        .clone()
        .or_else(|| args.event_log.as_ref().map(|_| "agentlog-proxy".to_owned()));
    let logging =
        match LoggingConfig::from_flags(args.event_log.clone(), run_id.clone(), agent_system) {
            Ok(l) => l,
            Err(e) => return fail(e),
        };
    let (emitter, log_path) = match logging.emitter() {
        Ok(Some((emitter, writer))) => (emitter, Some(writer.path().to_path_buf())),
        Ok(None) => match Emitter::new(run_id.as_str(), "agentlog-proxy", Vec::new()) {
            Ok(e) => (e, None),
            Err(e) => return fail(e),
        },
        Err(e) => return fail(e),
    };
    let ca = match CertAuthority::load_or_create(&args.ca_dir) {
        Ok(ca) => Arc::new(ca),
        Err(e) => return fail(e),
    };
    let mut config = ProxyConfig::new(emitter.clone(), ca.clone());
    config.injector = injector;
    config.llm_hosts = args.llm_host.iter().map(HostPattern::new).collect();
    config.upstream_roots = upstream_roots;
    config.connect_to = connect_to;
    let placeholders: Vec<(String, String)> = config
        .injector
        .placeholders()
        .map(|(n, p)| (n.to_owned(), p.to_owned()))
        .collect();
    let proxy = match Proxy::new(config) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let running = match proxy.bind(args.listen).await {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    println!("agentlog proxy listening on {}", running.local_addr());
    if let Some(path) = ca.cert_path() {
        println!("CA certificate: {}", path.display());
    }
    match &log_path {
        Some(path) => println!("event log: {} (run {run_id})", path.display()),
        None => println!("event log: disabled (give --event-log or --agent-system)"),
    }
    for (name, placeholder) in &placeholders {
        println!("{name}={placeholder}");
    }
    if let Err(e) = tokio::signal::ctrl_c().await {
        return fail(format!("wait for Ctrl-C: {e}"));
    }
    running.shutdown().await;
    if let Err(e) = emitter.close() {
        return fail(e);
    }
    eprintln!("agentlog proxy stopped; event log closed");
    EXIT_OK
}
