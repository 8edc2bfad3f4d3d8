//! `agentlog conformance`: run the validator conformance cases against the reference
//! validator or against a port.

use std::path::PathBuf;

use agentlog_validate::conformance::{self, LogCase, Observed};

use crate::cli::{EXIT_FINDINGS, EXIT_OK, fail};

/// Run the validator conformance cases (conformance/logs/) against the reference validator
/// or, with --cmd, against another implementation.
///
/// Each case is a log plus its expected verdict: the number of lines and the exact set of
/// (line, rule, severity). With --cmd, the command runs once per case under `sh -c` with
/// `{log}` (the log path), `{options}` (a JSON file with the case's options) and `{flags}`
/// (the options as `agentlog validate` flags) substituted, and must print agentlog's JSON
/// report on stdout. Exit 0 when every case passes, 1 when one fails, 2 on usage errors.
///
/// Example, a Python port: agentlog conformance --cmd 'python -m mylog.validate --options
/// {options} {log}'
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory of cases (`NAME.jsonl` + `NAME.json`).
    #[arg(long, value_name = "DIR", default_value = "conformance/logs")]
    cases: PathBuf,
    /// Command template of the implementation under test (default: the reference, in process).
    #[arg(long, value_name = "TEMPLATE")]
    cmd: Option<String>,
    /// Only print failures and the summary.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(args: Args) -> u8 {
    let cases = match conformance::load_log_cases(&args.cases) {
        Ok(cases) => cases,
        Err(e) => return fail(e),
    };
    let scratch = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => return fail(format_args!("create scratch dir: {e}")),
    };
    let run_one = |case: &LogCase| -> Result<Observed, String> {
        match &args.cmd {
            Some(template) => conformance::run_command(case, template, scratch.path()),
            None => conformance::run_reference(case),
        }
    };
    let mut failed = 0;
    for case in &cases {
        let outcome = conformance::judge(case, run_one(case));
        if !outcome.passed() {
            failed += 1;
        }
        if !outcome.passed() || !args.quiet {
            println!("{outcome}");
        }
    }
    let subject = args.cmd.as_deref().unwrap_or("reference validator");
    println!(
        "{} of {} cases passed ({subject})",
        cases.len() - failed,
        cases.len()
    );
    if failed == 0 { EXIT_OK } else { EXIT_FINDINGS }
}
