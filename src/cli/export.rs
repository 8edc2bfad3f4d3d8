//! `agentlog export`: a thin shell over [`agentlog_export`].

use std::path::PathBuf;

use agentlog_export::follow::Follower;
use agentlog_export::{Client, Endpoint, Mapper, Protocol, Retry, Summary};

use super::secret_args::SecretArgs;
use super::{EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, fail, otlp_live, output};

/// Send event logs and tool-call ledgers to an OpenTelemetry collector (OTLP over HTTP).
///
/// Every line becomes an OTLP log record (body: the summary; event name: the event type;
/// the envelope and data as `agentlog.*` attributes), every LLM exchange a CLIENT span
/// `chat {model}` with the GenAI attributes, every ledger tool call an `execute_tool {tool}`
/// span in its session's trace. Ids come from the log itself, so exporting a log twice sends
/// the same ids. Values that carry a secret (supplied with the secret flags, or of a
/// well-known credential format) are withheld before anything is sent. The endpoint,
/// protocol and headers come from the flags or from `OTEL_EXPORTER_OTLP_ENDPOINT`,
/// `OTEL_EXPORTER_OTLP_PROTOCOL` and `OTEL_EXPORTER_OTLP_HEADERS`; header values are never
/// printed. Exit codes: 0 every record delivered, 1 some were not (the summary names the
/// lines and why), 2 usage or I/O error.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// Logs to send: files, directories (searched for *.jsonl and *.jsonl.gz), .gz files,
    /// `-` for stdin.
    #[arg(value_name = "PATH|-", required = true)]
    pub paths: Vec<PathBuf>,
    /// The collector's base URL (`/v1/logs` and `/v1/traces` are appended), e.g.
    /// http://127.0.0.1:4318. Default: OTEL_EXPORTER_OTLP_ENDPOINT.
    #[arg(long, value_name = "URL")]
    pub otlp_endpoint: Option<String>,
    /// `http/protobuf` (the default) or `http/json`. Default: OTEL_EXPORTER_OTLP_PROTOCOL.
    #[arg(long, value_name = "PROTOCOL", value_parser = parse_protocol)]
    pub otlp_protocol: Option<Protocol>,
    /// A header sent with every request, KEY=VALUE (after OTEL_EXPORTER_OTLP_HEADERS).
    /// Repeatable.
    #[arg(long, value_name = "KEY=VALUE")]
    pub otlp_header: Vec<String>,
    /// Tries per batch before it is reported as not delivered.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub tries: u32,
    /// Keep going: tail the logs as they grow, across rotation (a file keeps its place when
    /// renamed; a new file at the old name is read from its start), until SIGINT or SIGTERM.
    #[arg(long)]
    pub follow: bool,
    /// With --follow: where to keep how far each file was delivered, so a restart neither
    /// sends twice nor skips (written after each delivered batch).
    #[arg(long, value_name = "FILE", requires = "follow")]
    pub checkpoint: Option<PathBuf>,
    /// With --follow: how often to look for new lines.
    #[arg(long, value_name = "DURATION", default_value = "500ms", value_parser = humantime::parse_duration, requires = "follow")]
    pub poll_interval: std::time::Duration,
    #[command(flatten)]
    pub secrets: SecretArgs,
}

fn parse_protocol(s: &str) -> Result<Protocol, String> {
    s.parse()
        .map_err(|e: agentlog_export::ConfigError| e.to_string())
}

/// Runs the subcommand.
pub(super) fn run(args: Args) -> u8 {
    if args.paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return fail("`-` (standard input) may be given only once");
    }
    let env = |name: &str| std::env::var(name).ok();
    let endpoint = match Endpoint::resolve(
        args.otlp_endpoint.as_deref(),
        args.otlp_protocol,
        &args.otlp_header,
        &env,
    ) {
        Ok(endpoint) => endpoint,
        Err(e) => return fail(e),
    };
    let mut options = match args.secrets.options() {
        Ok(options) => options,
        Err(e) => return fail(e),
    };
    // Header values and URL credentials: the gate withholds them like supplied secrets.
    options
        .secrets
        .extend(otlp_live::credential_secrets(&endpoint));
    let redactor = match options.redactor() {
        Ok(redactor) => redactor,
        Err(e) => return fail(e),
    };
    output::install(redactor.clone());
    let retry = Retry {
        attempts: args.tries,
        ..Retry::default()
    };
    let client = match Client::new(endpoint, retry) {
        Ok(client) => client,
        Err(e) => return fail(e),
    };
    let resource = agentlog_export::resource(&env, &redactor);
    let mut mapper = Mapper::new(redactor);
    if args.follow {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => return fail(format_args!("start the runtime: {e}")),
        };
        return runtime.block_on(follow(&args, &mut mapper, &client, &resource));
    }
    match agentlog_export::export_paths(&args.paths, &mut mapper, &client, &resource) {
        Ok(summary) => report(&summary, &client),
        Err(e) => fail(paths_shown(&args, &e)),
    }
}

/// `error`'s message with every path it names as given (an input, the checkpoint) shown as
/// a value, like every path the command prints.
fn paths_shown(args: &Args, error: &dyn std::fmt::Display) -> String {
    let paths: Vec<&std::path::Path> = args
        .paths
        .iter()
        .chain(args.checkpoint.iter())
        .map(|p| p.as_path())
        .collect();
    output::paths_shown(&error.to_string(), &paths)
}

/// Prints the summary on stderr and returns the exit code.
fn report(summary: &Summary, client: &Client) -> u8 {
    for file in &summary.files {
        let mut line = format!(
            "{}: {} line(s), {} record(s), {} span(s)",
            output::shown(&file.label),
            file.lines,
            file.records,
            file.spans
        );
        for (reason, lines) in &file.skipped {
            let shown: Vec<String> = lines.iter().map(u64::to_string).collect();
            line.push_str(&format!("; skipped {reason}: line {}", shown.join(", ")));
        }
        output::errln!("{line}");
        if let Some(error) = &file.error {
            output::errln!("{}: error: {error}", output::shown(&file.label));
        }
    }
    for failure in &summary.failures {
        output::errln!("agentlog: error: {failure}");
    }
    if summary.withheld > 0 {
        output::errln!(
            "agentlog: warning: {} record(s) withheld: they carried the value of a secret",
            summary.withheld
        );
    }
    output::errln!(
        "{}: {} log record(s) and {} span(s) delivered to {}{}",
        if summary.complete() {
            "ok"
        } else {
            "INCOMPLETE"
        },
        summary.delivered_records,
        summary.delivered_spans,
        output::shown(&client.endpoint().shown()),
        if summary.rejected > 0 {
            format!("; the collector rejected {}", summary.rejected)
        } else {
            String::new()
        }
    );
    if summary.files.iter().any(|f| f.error.is_some()) {
        EXIT_ERROR
    } else if summary.complete() {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    }
}

/// `--follow`: rounds until SIGINT or SIGTERM; a failed round is said once per new reason.
async fn follow(
    args: &Args,
    mapper: &mut Mapper,
    client: &Client,
    resource: &[agentlog_export::KeyValue],
) -> u8 {
    let mut follower = match Follower::new(args.paths.clone(), args.checkpoint.clone()) {
        Ok(follower) => follower,
        Err(e) => return fail(format_args!("checkpoint: {}", paths_shown(args, &e))),
    };
    let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    else {
        return fail("cannot listen for SIGTERM");
    };
    let (mut records, mut spans, mut last_error) = (0u64, 0u64, None::<String>);
    output::errln!("agentlog export: following; SIGINT or SIGTERM stops");
    loop {
        match follower.round(mapper, client, resource).await {
            Ok(round) => {
                records += round.records;
                spans += round.spans;
                if round.error.is_some() && round.error != last_error {
                    output::errln!(
                        "agentlog export: warning: not delivered, will try again: {}",
                        round.error.as_deref().unwrap_or_default()
                    );
                }
                last_error = round.error;
            }
            Err(e) => return fail(format_args!("checkpoint: {}", paths_shown(args, &e))),
        }
        tokio::select! {
            _ = tokio::time::sleep(args.poll_interval) => {}
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
        }
    }
    output::errln!(
        "agentlog export: stopped; {records} log record(s) and {spans} span(s) delivered to {}",
        output::shown(&client.endpoint().shown())
    );
    EXIT_OK
}
