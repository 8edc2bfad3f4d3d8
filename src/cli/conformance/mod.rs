//! `agentlog conformance`: the conformance kit for ports. Without a subcommand it runs the
//! validator cases (`validate`), as it always has.

mod export;
mod proxy;
mod seal;
mod validate;

use std::fmt::Display;
use std::io::Write as _;

use agentlog_conformance::HarnessFormat;
use agentlog_conformance::report::{self, CaseOutcome};

use crate::cli::output;
use crate::cli::{EXIT_FINDINGS, EXIT_OK, fail};

/// Run the conformance cases against the reference or a port, or write them out.
///
/// The cases are embedded in the binary (the repository's `conformance/` directory), so this
/// works from any directory and from an installed binary. Without a subcommand: the validator
/// cases against the reference validator, or against a port with --cmd (see `agentlog
/// conformance validate --help`).
///
/// Exit codes: 0 every case passed (or was declared unsupported), 1 a case failed, 2 usage
/// or I/O error.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, long_about)]
#[group(skip)]
pub(super) struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    validate: validate::Args,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    // Its help, with the port's contract and the exit codes, comes from `validate::Args`.
    Validate(validate::Args),
    // Its help, with the placeholders and exit codes, comes from `proxy::Args`.
    Proxy(proxy::Args),
    // Its help, with the port's contract and the exit codes, comes from `seal::Args`.
    Seal(seal::Args),
    /// Write every case and the manifest to a directory, for a port to vendor.
    Export(export::Args),
    /// List the cases: id, profile and description (the manifest).
    List(export::ListArgs),
}

pub(super) fn run(args: Args) -> u8 {
    match args.command {
        None => validate::run(args.validate),
        Some(Command::Validate(args)) => validate::run(args),
        Some(Command::Proxy(args)) => proxy::run(args),
        Some(Command::Seal(args)) => seal::run(args),
        Some(Command::Export(args)) => export::run(args),
        Some(Command::List(args)) => export::list(args),
    }
}

/// `--format` of a harness: the names [`HarnessFormat`] parses, each listed in `--help` with
/// `help(format)` when that gives a text.
fn format_parser(
    help: fn(HarnessFormat) -> Option<&'static str>,
) -> impl clap::builder::TypedValueParser<Value = HarnessFormat> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser as _};
    PossibleValuesParser::new(HarnessFormat::ALL.map(|format| {
        let value = PossibleValue::new(format.name());
        match help(format) {
            Some(text) => value.help(text),
            None => value,
        }
    }))
    .try_map(|name| name.parse::<HarnessFormat>())
}

/// What `--help` says of each `--format` of a case harness (`validate`, `seal`).
fn case_format_help(format: HarnessFormat) -> Option<&'static str> {
    Some(match format {
        HarnessFormat::Text => "One line per case and the summary",
        HarnessFormat::Json => "One JSON document: subject, summary and cases",
        HarnessFormat::Junit => "JUnit XML: a test case per case, `<skipped>` for unsupported ones",
    })
}

/// Writes a case harness's report on stdout, the subject `label` shown as a value; the exit
/// code says whether a case failed.
fn write_report<O: CaseOutcome + Display>(
    format: HarnessFormat,
    outcomes: &[O],
    label: &str,
    quiet: bool,
) -> u8 {
    let mut stdout = output::stdout(format.gate_style());
    let written = report::write(format, outcomes, &output::shown(label), quiet, &mut stdout)
        .and_then(|()| stdout.flush());
    // A reader that stopped early (`| head`) is not an error; the exit code still says
    // whether a case failed.
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return fail(format_args!("write the report: {e}"));
    }
    if report::Summary::of(outcomes).failed == 0 {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    }
}
