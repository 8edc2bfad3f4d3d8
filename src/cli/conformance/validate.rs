//! `agentlog conformance [validate]`: run the validator cases against the reference
//! validator or against a port.

use crate::cli::output::{self, errln};
use agentlog_core::secrets::{Secret, SecretValue};
use std::path::PathBuf;

use agentlog_conformance::HarnessFormat;
use agentlog_conformance::select::Unsupported;
use agentlog_conformance::validator::{self, Subject};

use crate::cli::fail;

/// Run the validator cases against the reference validator or, with --cmd, a port.
///
/// The cases are embedded in the binary (`agentlog conformance list` names them; `agentlog
/// conformance export DIR` writes them out); --cases runs a directory instead. Each case is a
/// log plus its expected verdict: the number of lines and the multiset of (line, rule,
/// severity) findings. With --cmd, the command runs once per case under `sh -c` with `{log}`
/// (the log's path), `{options}` (a JSON file with the case's options) and `{flags}` (the
/// options as `agentlog validate` flags) substituted, and must print agentlog's JSON report
/// on stdout, and exit 1 if and only if it reports an error-level finding. It must print no
/// value a case supplies as a secret (stdout and stderr are searched in every encoding the
/// validator finds), and a pointer is compared where a case gives one. Cases declared
/// unsupported are not run and never count as passed, but the first case of each declared
/// glob is run to check that the command refuses it (exit 2 and a message on stderr).
///
/// Exit codes: 0 no case failed, 1 a case failed, 2 usage or I/O error.
///
/// Example, a Python port: agentlog conformance --cmd 'python -m mylog.validate --options
/// {options} {log}' --unsupported 'validate/v1_*'
#[derive(Debug, clap::Args)]
#[command(long_about)]
pub(super) struct Args {
    /// Run the cases of this directory instead of the embedded ones: an exported or vendored
    /// `conformance/` (its `logs/`), or a directory of `NAME.jsonl` + `NAME.json`.
    #[arg(long, value_name = "DIR")]
    cases: Option<PathBuf>,
    /// Command template of the implementation under test (default: the reference, in process).
    #[arg(long, value_name = "TEMPLATE")]
    cmd: Option<String>,
    /// Declare the cases whose id matches GLOB unsupported (`*` matches any run of
    /// characters, e.g. `validate/v1_*`); repeatable.
    #[arg(long, value_name = "GLOB")]
    unsupported: Vec<String>,
    /// Read more unsupported globs from FILE: one per line, `#` comments and blank lines
    /// ignored.
    #[arg(long, value_name = "FILE")]
    unsupported_from: Vec<PathBuf>,
    /// Output format.
    #[arg(long, default_value_t = HarnessFormat::Text, value_parser = super::format_parser(super::case_format_help))]
    format: HarnessFormat,
    /// Only print failures and the summary (text format).
    #[arg(long, short)]
    quiet: bool,
    /// Stop at the first failed case (the report ends with it; the summary counts only the
    /// cases run). For a quick no: a mutation test, a bisection.
    #[arg(long)]
    fail_fast: bool,
}

pub(super) fn run(args: Args) -> u8 {
    if let Some(dir) = &args.cases {
        // Before any case file is parsed: an error about one may quote what it holds.
        output::install_secrets(&declared_secrets(dir));
    }
    let cases = match &args.cases {
        Some(dir) => validator::load_dir(dir),
        None => validator::load_embedded(),
    };
    let cases = match cases {
        Ok(cases) => cases,
        Err(e) => return fail(e),
    };
    // A port under test may echo a case's secret in any encoding: the gate watches for all.
    let secrets: Vec<Secret> = cases
        .iter()
        .flat_map(|case| &case.options.secrets)
        .map(|(name, value)| Secret::new(name.clone(), SecretValue::new(value.clone()), vec![]))
        .collect();
    output::install_secrets(&secrets);
    let skip = match Unsupported::from_flags(&args.unsupported, &args.unsupported_from) {
        Ok(list) => list,
        Err(e) => return fail(e),
    };
    let ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    // A glob for the other harness (`proxy/...`) is expected to match nothing here.
    for glob in skip.unused(&ids) {
        if glob.starts_with("validate/") {
            errln!("agentlog: warning: unsupported glob {glob:?} matches no validator case");
        }
    }
    let scratch = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => return fail(format_args!("create scratch dir: {e}")),
    };
    let subject = match args.cmd {
        Some(template) => match validator::check_template(&template) {
            Ok(()) => Subject::Command(template),
            Err(e) => return fail(e),
        },
        None => Subject::Reference,
    };
    let mut outcomes = validator::run(&cases, &subject, &skip, scratch.path(), args.fail_fast);
    // What a port printed (its stderr in `error`, the rules it named) and the case ids (file
    // names of an exported tree) are shown as values: withheld or escaped, in every format.
    for outcome in &mut outcomes {
        outcome.id = output::shown(&outcome.id);
        outcome.error = outcome.error.as_deref().map(output::shown);
        for (_, rule, severity) in outcome.missing.iter_mut().chain(&mut outcome.unexpected) {
            *rule = output::shown(rule);
            *severity = output::shown(severity);
        }
    }
    super::write_report(args.format, &outcomes, subject.label(), args.quiet)
}

/// Every value under a `secrets` object of a JSON file in `dir` (two levels deep), whether
/// or not the file is a valid case: what the gate must watch for while the cases load.
fn declared_secrets(dir: &std::path::Path) -> Vec<Secret> {
    let mut out = Vec::new();
    let mut dirs = vec![(dir.to_path_buf(), 0)];
    while let Some((dir, depth)) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() && depth < 2 {
                dirs.push((path, depth + 1));
            } else if path.extension().is_some_and(|e| e == "json")
                && let Ok(bytes) = std::fs::read(&path)
                && let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes)
            {
                collect_secrets(&value, &mut out);
            }
        }
    }
    out
}

fn collect_secrets(value: &serde_json::Value, out: &mut Vec<Secret>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                if key == "secrets"
                    && let serde_json::Value::Object(secrets) = item
                {
                    out.extend(secrets.iter().map(|(name, v)| {
                        let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                        Secret::new(name.clone(), SecretValue::new(text), vec![])
                    }));
                }
                collect_secrets(item, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_secrets(v, out)),
        _ => {}
    }
}
