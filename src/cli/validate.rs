//! `agentlog validate`: a thin shell over [`agentlog_validate`].

use crate::cli::output::{self, errln};
use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use agentlog_validate::report::{self, Format};
use agentlog_validate::run::check_stdin_once;
use agentlog_validate::{Profile, Progress, Report, Severity, Validator};

use super::secret_args::SecretArgs;
use super::{EXIT_FINDINGS, EXIT_OK, fail};

/// How to treat event types the profile does not define.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum UnknownTypes {
    /// `event_type.unknown` is an error (fails the run).
    #[default]
    Error,
    /// `event_type.unknown` is a warning (a type neither profile defines, or under a given
    /// `--profile v0|v1` a type of the other family).
    Warn,
}

/// The profiles `--profile` takes (every profile, and `auto`), with what `--help` says of
/// each.
const PROFILES: [(agentlog_validate::ProfileChoice, &str); 4] = {
    use agentlog_validate::ProfileChoice::{Auto, Given};
    [
        (
            Auto,
            "Per file: a ledger when its first JSON object is a ledger record, else from its \
             event types: the family of the first v0-only (llm_request, llm_response) or \
             v1-only type; v0 when there is none. Mixing both, or an event log and ledger \
             records, is profile.mixed",
        ),
        (
            Given(Profile::V0),
            "v0: llm_request, llm_response, budget_action, key_injection",
        ),
        (
            Given(Profile::V1),
            "v1, what the reference's Go writer emits: http_request, http_response, \
             gate_decision, route_decision, request_transform, response_transform, \
             key_injection, budget_action",
        ),
        (
            Given(Profile::Ledger),
            "The tool-call ledger: every line one tool_call record (ledger.* rules). Under \
             auto, a file whose first JSON object has tool, result_status or args_hash (or the \
             public implementation's context_hash, payload_hash, chain_hash) and no \
             run_id/agent_system is a ledger",
        ),
    ]
};

/// Check events.jsonl logs and tool-call ledgers: every line a conformant event or record, no
/// secret value anywhere.
///
/// PATH is a file, `-` for stdin (once), a directory (searched recursively for *.jsonl and
/// *.jsonl.gz, following links; FIFOs, sockets and devices met there are skipped with an
/// `input.skipped` warning) or a .gz file. Each file is checked once however many paths lead
/// to it. Exit codes: 0 no error-level findings, 1 error-level findings,
/// 2 usage or I/O error. An input with no events, or a directory without logs, is an error
/// unless --allow-empty.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// Files, directories or `-` (stdin).
    #[arg(value_name = "PATH|-", required = true)]
    pub paths: Vec<PathBuf>,
    /// Secrets whose values must not appear, and the built-in detector.
    #[command(flatten)]
    pub secrets: SecretArgs,
    /// Output format.
    #[arg(long, default_value_t = Format::Text, value_parser = format_parser())]
    pub format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Stop after N error-level findings (N >= 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_errors: Option<u64>,
    /// List at most N findings per input; the rest are counted in the summary only (keeps
    /// memory bounded on inputs with millions of findings).
    #[arg(long, value_name = "N", default_value_t = agentlog_validate::DEFAULT_MAX_FINDINGS_PER_FILE)]
    pub max_findings_per_file: usize,
    /// Stop at the first error-level finding (same as --max-errors 1).
    #[arg(long)]
    pub fail_fast: bool,
    /// Text format: print only the summary line.
    #[arg(long, short)]
    pub quiet: bool,
    /// Profile (event log v0/v1, or the tool-call ledger); every report says which one each
    /// file was checked under.
    #[arg(long, default_value_t = agentlog_validate::ProfileChoice::Auto,
        value_parser = super::profile_arg::parser(&PROFILES, agentlog_validate::ProfileChoice::name))]
    pub profile: agentlog_validate::ProfileChoice,
    /// Unknown event types are errors (default) or warnings (`warn`).
    #[arg(long, value_enum, default_value_t = UnknownTypes::Error)]
    pub unknown_types: UnknownTypes,
    /// Accept inputs with no events and directories with no log files.
    #[arg(long)]
    pub allow_empty: bool,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0, hide = true)]
    pub threads: usize,
}

/// `--format`: the names [`Format`] parses with `FromStr`, listed with their descriptions in
/// `--help` as a `clap::ValueEnum` would.
fn format_parser() -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser as _};
    PossibleValuesParser::new(
        Format::ALL.map(|format| PossibleValue::new(format.name()).help(format.description())),
    )
    .try_map(|name| name.parse::<Format>())
}

/// Progress bars on stderr, behind the gate: one per file of 8 MiB or more, when stderr is a
/// terminal.
#[derive(Default)]
struct Bars {
    /// The bar of the file being read.
    current: RefCell<Option<indicatif::ProgressBar>>,
}

impl Bars {
    fn bar(len: Option<u64>, label: &str) -> Option<indicatif::ProgressBar> {
        if !output::stderr_is_terminal() {
            return None;
        }
        let bar = match len {
            Some(n) if n >= 8 << 20 => indicatif::ProgressBar::new(n),
            _ => return None,
        };
        let style = indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_draw_target(output::progress_target());
        bar.set_message(label.to_owned());
        Some(bar)
    }
}

impl Progress for Bars {
    fn start(
        &self,
        label: &str,
        len: Option<u64>,
        file: Box<dyn Read + Send>,
    ) -> Box<dyn Read + Send> {
        let Some(bar) = Bars::bar(len, label) else {
            return file;
        };
        let reader = Box::new(bar.wrap_read(file));
        self.current.replace(Some(bar));
        reader
    }

    fn finish(&self, _label: &str) {
        if let Some(bar) = self.current.take() {
            bar.finish_and_clear();
        }
    }
}

/// Runs the subcommand.
pub(super) fn run(args: Args) -> u8 {
    if let Err(e) = check_stdin_once(&args.paths) {
        return fail(e);
    }
    let options = match args.secrets.options() {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    if let Some(out) = &args.output
        && let Err(e) = output::refuse_input_as_output(out, &args.paths)
    {
        return fail(e);
    }
    let options = options
        .with_profile(args.profile)
        .with_unknown_types(match args.unknown_types {
            UnknownTypes::Error => Severity::Error,
            UnknownTypes::Warn => Severity::Warning,
        })
        .with_max_errors(if args.fail_fast {
            Some(1)
        } else {
            args.max_errors
        })
        .with_allow_empty(args.allow_empty)
        .with_max_findings_per_file(args.max_findings_per_file)
        .with_threads(args.threads);
    let validator = match Validator::new(options) {
        Ok(v) => v,
        Err(e) => return fail(e),
    };
    output::install(validator.redactor().clone());
    // From here on every message about an input is the library's, through the redactor: a
    // path may carry a secret.
    let report = match validator.validate_paths(&args.paths, &Bars::default()) {
        Ok(report) => report,
        Err(e) => return fail(e),
    };
    let style = args.format.gate_style();
    let written = match &args.output {
        Some(path) => output::write_file(path, style, |f| write_report(&report, &args, f)),
        None => {
            let mut out = output::stdout(style);
            write_report(&report, &args, &mut out).and_then(|()| out.flush())
        }
    };
    if let Err(e) = written
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        return fail(format!("cannot write the report: {e}"));
    }
    if args.output.is_some() && args.format != Format::Text && !args.quiet {
        errln!("{}", report::summary_line(&report));
    }
    if report.has_errors() {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

fn write_report(report: &Report, args: &Args, out: &mut dyn Write) -> io::Result<()> {
    if args.quiet && args.format == Format::Text {
        report::write_summary(report, out)
    } else {
        report::write(report, args.format, out)
    }
}
