//! `agentlog conformance seal`: the seal harness (agentlog-conformance's `seal`).

use std::path::PathBuf;

use agentlog_conformance::HarnessFormat;
use agentlog_conformance::seal::{self, Subject};
use agentlog_conformance::select::Unsupported;

use crate::cli::fail;
use crate::cli::output::{self, errln};

/// Run the seal cases against the reference verify or, with --cmd, a port's verify.
///
/// Each `seal/*` case is a sealed log (some tampered with) and each `seal_ledger/*` case a
/// sealed ledger directory, with the verdict their generator stated. With --cmd, the
/// command runs once per case under `sh -c` with {path} (the log, whose seal is PATH.seal,
/// or the ledger directory) and {flags} (the case's `agentlog verify` flags: --pubkey FILE,
/// --anchor DIGEST, --allow-tail, each when the case has it) substituted, shell-quoted. It
/// must exit 0 (verified) or 1 (failed), as the case expects, and print one JSON object on
/// stdout whose `findings` are exactly the case's: each `rule`, `line` and `seal_line`
/// (numbers or null), and in a ledger case `file` (relative to the directory, or a path
/// under {path}). The contract is in docs/conformance.md.
///
/// Exit codes: 0 no case failed, 1 a case failed, 2 usage or I/O error.
///
/// Example, the reference CLI as a port: agentlog conformance seal --cmd 'agentlog verify
/// --format json {flags} {path}'
#[derive(Debug, clap::Args)]
#[command(long_about)]
pub(super) struct Args {
    /// Command template of the verifier under test (default: the reference, in process).
    #[arg(long, value_name = "TEMPLATE")]
    cmd: Option<String>,
    /// Declare the cases whose id matches GLOB unsupported (`*` matches any run of
    /// characters, e.g. `seal_ledger/*`): reported UNSUPPORTED, never run, never a pass.
    /// Repeatable.
    #[arg(long, value_name = "GLOB")]
    unsupported: Vec<String>,
    /// Read more unsupported globs from FILE: one per line, `#` comments and blank lines
    /// ignored.
    #[arg(long, value_name = "FILE")]
    unsupported_from: Vec<PathBuf>,
    /// Only run the cases whose id matches GLOB. Repeatable.
    #[arg(long, value_name = "GLOB")]
    only: Vec<String>,
    /// Output format.
    #[arg(long, default_value_t = HarnessFormat::Text, value_parser = super::format_parser(super::case_format_help))]
    format: HarnessFormat,
    /// Only print failures and the summary (text format).
    #[arg(long, short)]
    quiet: bool,
}

pub(super) fn run(args: Args) -> u8 {
    let mut cases = match seal::load_embedded() {
        Ok(cases) => cases,
        Err(e) => return fail(e),
    };
    if !args.only.is_empty() {
        let only = Unsupported::from_globs(args.only.iter().map(String::as_str));
        cases.retain(|case| only.matches(&case.id));
        if cases.is_empty() {
            return fail("no seal case matches --only");
        }
    }
    let skip = match Unsupported::from_flags(&args.unsupported, &args.unsupported_from) {
        Ok(list) => list,
        Err(e) => return fail(e),
    };
    let ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    // A glob for another harness (`validate/...`) is expected to match nothing here.
    for glob in skip.unused(&ids) {
        if glob.starts_with("seal") {
            errln!("agentlog: warning: unsupported glob {glob:?} matches no seal case");
        }
    }
    let subject = match args.cmd {
        Some(template) => match seal::check_template(&template) {
            Ok(()) => Subject::Command(template),
            Err(e) => return fail(e),
        },
        None => Subject::Reference,
    };
    let scratch = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => return fail(format_args!("create scratch dir: {e}")),
    };
    let (root, outputs) = (scratch.path().join("cases"), scratch.path().join("outputs"));
    let written = seal::write_files(&root).and_then(|_| std::fs::create_dir(&outputs));
    if let Err(e) = written {
        return fail(format_args!("write the cases to {}: {e}", root.display()));
    }
    let mut outcomes = seal::run_all(&cases, &subject, &skip, &root, &outputs);
    for outcome in &mut outcomes {
        outcome.error = outcome.error.as_deref().map(output::shown);
    }
    super::write_report(args.format, &outcomes, subject.label(), args.quiet)
}
