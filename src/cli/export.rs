//! `agentlog export`: a thin shell over [`agentlog_export`].

use std::path::PathBuf;

use agentlog_export::{Client, Endpoint, Mapper, Protocol, Retry, Summary};
use agentlog_validate::secrets::{Secret, SecretValue};

use super::secret_args::SecretArgs;
use super::{EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, fail, output};

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
    options.secrets.extend(header_secrets(&endpoint));
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
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(format_args!("start the runtime: {e}")),
    };
    let resource = agentlog_export::resource(&env, &redactor);
    let mut mapper = Mapper::new(redactor);
    let summary = runtime.block_on(agentlog_export::export_paths(
        &args.paths,
        &mut mapper,
        &client,
        &resource,
    ));
    match summary {
        Ok(summary) => report(&summary, &client),
        Err(e) => fail(e),
    }
}

/// Header values, and the user information and query values of the URLs, as secrets of the
/// gate (those long enough to be watched for).
fn header_secrets(endpoint: &Endpoint) -> Vec<Secret> {
    endpoint
        .credentials()
        .into_iter()
        .filter(|value| value.len() >= agentlog_core::secrets::MIN_SECRET_LEN)
        .enumerate()
        .map(|(i, value)| {
            Secret::new(
                format!("OTLP credential #{}", i + 1),
                SecretValue::new(value),
                vec![],
            )
        })
        .collect()
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
