//! `agentlog analyze`: a thin shell over [`agentlog_analyze`].

use crate::cli::output;
use agentlog_validate::gate::Style;
use agentlog_validate::secrets::redact::Redactor;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use agentlog_analyze::{Options, Report, analyze_paths};

use super::secret_args::SecretArgs;
use super::{EXIT_OK, fail};

/// Output format of the report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum OutFormat {
    /// Tables and findings for a terminal.
    #[default]
    Text,
    /// The whole report as one JSON document (format `agentlog-analyze/1`; field names in
    /// docs/analyze.md).
    Json,
}

/// Answer questions about agent logs from their data, with a proposal for each finding.
///
/// Reads sandbox event logs (envelopes with a v0 or v1 `event_type`) and tool-call ledgers
/// (records with `tool` and `result_status`; risk-event and telemetry records too); the family
/// is detected per file from its records. For ledgers: recurring failures (tool and error class
/// over time), permission gaps (denials by agent and tool, with their flags), risk flags and
/// their spikes against a trailing baseline, slowest tools (p50/p95). For sandbox logs:
/// requests, tokens and cost by model and host, injections by secret name, leaks and gates
/// blocked, error rates (status >= 400, usage unknown), latency percentiles.
///
/// PATH is a file, `-` for stdin, a directory (searched recursively for *.jsonl and
/// *.jsonl.gz, e.g. a ledger directory with rotated days) or a .gz file. Lines that are not
/// JSON, or not records of either family, are counted and reported with their line numbers.
/// Percentiles are nearest-rank. No output shows a secret value: every name copied from a log
/// (tool, agent, error class, flag, host, model, secret name, file name, ...) that carries a
/// secret supplied with --secret, --secret-env or --secrets-file (in any encoding the
/// validator knows) or a well-known credential format is shown as `[redacted]`, exactly as
/// `agentlog validate` withholds it. Exit codes: 0 success, 2 usage or I/O error.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// Files, directories or `-` (stdin).
    #[arg(value_name = "PATH|-", required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format of the report on stdout (or --output).
    #[arg(long, value_enum, default_value_t = OutFormat::Text)]
    pub format: OutFormat,
    /// Also write a self-contained HTML page with charts over time to FILE (no network
    /// needed to view it).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Width of the time buckets (e.g. 1h, 15m, 1day); default: chosen from the span of the
    /// data (at most 500 buckets). Risk-flag spikes are found on these buckets.
    #[arg(long, value_name = "DURATION", value_parser = parse_bucket)]
    pub bucket: Option<u64>,
    /// Rows per table in the text report.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    /// Risk flags kept in the report (the flags table and each denial's flags, in every
    /// format): the N most frequent, the rest added up in one `(other)` row, so memory and
    /// output stay bounded on a ledger of millions of distinct flags. 0 keeps them all.
    #[arg(long, value_name = "N", default_value_t = agentlog_analyze::DEFAULT_MAX_ROWS)]
    pub max_rows: usize,
    /// Secrets whose values must not appear, and the built-in detector.
    #[command(flatten)]
    pub secrets: SecretArgs,
}

fn parse_bucket(s: &str) -> Result<u64, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (write e.g. 1h, 15m, 1day)"))?;
    match d.as_secs() {
        0 => Err("the bucket must be at least one second".to_owned()),
        n if d.subsec_nanos() != 0 => Err(format!(
            "the bucket must be whole seconds ({n}s and a fraction given)"
        )),
        n => Ok(n),
    }
}

fn write_to(
    path: Option<&Path>,
    style: Style,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    match path {
        Some(path) => output::write_file(path, style, write),
        None => {
            let mut out = output::stdout(style);
            write(&mut out)?;
            out.flush()
        }
    }
}

fn write_report(
    report: &Report,
    redactor: &Redactor,
    args: &Args,
    out: &mut dyn Write,
) -> io::Result<()> {
    match args.format {
        OutFormat::Text => agentlog_analyze::text::write(report, out, args.top),
        OutFormat::Json => {
            let value = agentlog_analyze::to_json(report, redactor)?;
            serde_json::to_writer_pretty(&mut *out, &value).map_err(io::Error::other)?;
            writeln!(out)
        }
    }
}

/// Runs the subcommand.
pub(super) fn run(args: Args) -> u8 {
    if args.paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return fail("`-` (standard input) may be given only once");
    }
    let redactor = match args.secrets.options().map(|o| o.redactor()) {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return fail(e),
        Err(e) => return fail(e),
    };
    output::install(redactor.clone());
    for out in [&args.html, &args.output].into_iter().flatten() {
        if let Err(e) = output::refuse_input_as_output(out, &args.paths) {
            return fail(e);
        }
    }
    // From here on every message about an input goes through the redactor: a path may carry
    // a secret.
    let redact = |message: String| redactor.text(&message).into_owned();
    let options = Options::default()
        .with_bucket_seconds(args.bucket)
        .with_max_rows(match args.max_rows {
            0 => usize::MAX,
            n => n,
        })
        .with_redactor(redactor.clone());
    let report = match analyze_paths(&args.paths, options) {
        Ok(report) => report,
        Err(e) => return fail(redact(e.to_string())),
    };
    if let Some(path) = &args.html
        && let Err(e) = write_to(Some(path), Style::Markup, |out| {
            agentlog_analyze::html::write(&report, &redactor, out)
        })
    {
        return fail(redact(format!("{}: {e}", crate::cli::output::path(path))));
    }
    let style = match args.format {
        OutFormat::Text => Style::Text,
        OutFormat::Json => Style::Json,
    };
    let written = write_to(args.output.as_deref(), style, |out| {
        write_report(&report, &redactor, &args, out)
    });
    if let Err(e) = written
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        return fail(format_args!("cannot write the report: {e}"));
    }
    EXIT_OK
}
