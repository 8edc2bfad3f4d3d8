//! `agentlog ledger`: the tool-call ledger from the shell. `log` appends one record through
//! the library's `Ledger` (so shell scripts and programs in any language share a directory
//! with Rust writers), `retain` applies the retention policy. Both are thin: parsing here,
//! everything else in `agentlog_core::ledger`.

use crate::cli::output::{self, errln};
use std::io::Read;
use std::path::PathBuf;

use agentlog_core::ledger::{
    Args as CallArgs, ArgsHash, Clock, Day, FixedClock, HashForm, Ledger, LedgerConfig,
    LedgerError, PseudonymKey, ResultStatus, RetainOptions, RiskFlag, SystemClock, ToolCallInput,
    retain,
};
use serde_json::Value;
use serde_json::error::Category;

use super::ledger_seal::SealArgs;
use super::{EXIT_ERROR, EXIT_OK, print_stdout, print_stdout_as};
use agentlog_validate::gate::Style;

/// Exit code when the ledger could not be written or retained.
const EXIT_FAILURE: u8 = 1;

/// Tool-call ledger: append records to a ledger directory, apply its retention.
///
/// A ledger directory holds `events.jsonl` (the current UTC day), `events_YYYYMMDD.jsonl`
/// (earlier days, rotated at the first write of a new day), `stats_YYYYMMDD.json` and
/// `archive/` (retention). Any number of `agentlog ledger log` processes and library writers
/// may share one directory.
///
/// Exit codes: 0 success, 1 the ledger could not be written or retained, 2 usage error.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    // No doc comments here: clap then takes each command's help from its arguments' struct.
    Log(Box<LogArgs>),
    Retain(RetainArgs),
}

/// Append one tool-call record to the ledger in DIR (arguments are hashed, never stored).
///
/// The record is stamped with the current time (or --now), its arguments are hashed
/// (SHA-256 over RFC 8785 canonical JSON by default) and it is checked against
/// schema/ledger/v1/tool_call.schema.json before it is written to the file of its UTC day.
/// The record written is printed on stdout.
///
/// Exit codes: 0 written, 1 the ledger could not be written, 2 usage error.
#[derive(Debug, clap::Args)]
struct LogArgs {
    /// Ledger directory (created if missing).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// Agent that made the call.
    #[arg(long, value_name = "A")]
    agent: String,
    /// Tool that was called.
    #[arg(long, value_name = "T")]
    tool: String,
    /// The call's arguments as JSON, hashed and never stored; `-` reads them from stdin
    /// (keeps them out of the process list).
    #[arg(
        long,
        value_name = "JSON",
        required_unless_present = "args_hash",
        conflicts_with = "args_hash"
    )]
    args_json: Option<String>,
    /// The arguments' hash, computed elsewhere: `sha256:` + 64 lowercase hex digits.
    #[arg(long, value_name = "H", value_parser = parse_args_hash)]
    args_hash: Option<ArgsHash>,
    /// How the call ended.
    #[arg(long, value_name = "S", value_parser = status_parser())]
    status: ResultStatus,
    /// How long the call took, in milliseconds.
    #[arg(long, value_name = "N", default_value_t = 0)]
    elapsed_ms: u64,
    /// Kind of error, for a call that did not succeed (e.g. TimeoutError).
    #[arg(long, value_name = "C")]
    error_class: Option<String>,
    /// A risk flag (repeatable).
    #[arg(long = "risk-flag", value_name = "F", value_parser = risk_flag_parser())]
    risk_flags: Vec<RiskFlag>,
    /// A file or resource the call affected (repeatable).
    #[arg(long = "artifact", value_name = "P")]
    artifacts: Vec<String>,
    /// Session id [default: a new one per invocation].
    #[arg(
        long,
        value_name = "ID",
        env = "AGENTLOG_SESSION_ID",
        hide_env_values = true
    )]
    session_id: Option<String>,
    /// Time of the record instead of the clock: RFC 3339 (2026-11-23T23:59:59Z) or Unix
    /// seconds.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    now: Option<FixedClock>,
    /// Canonical form of --args-json that is hashed: jcs (RFC 8785) or python (the public
    /// MYCA implementation's json.dumps(args, sort_keys=True)).
    #[arg(long, value_name = "FORM", default_value_t = HashForm::Jcs, value_parser = hash_form_parser())]
    hash_form: HashForm,
    /// File holding the key (at least 16 bytes) for HMAC-SHA256 pseudonyms of the session id.
    #[arg(
        long,
        value_name = "FILE",
        env = "AGENTLOG_LEDGER_KEY_FILE",
        hide_env_values = true
    )]
    pseudonym_key_file: Option<PathBuf>,
    #[command(flatten)]
    seal: SealArgs,
}

/// Apply the retention policy to the ledger in DIR: 7 days in full, 8-30 as stats, older
/// archived.
///
/// Today and the last 7 days are kept in full; each day 8-30 days old is replaced by its
/// aggregates (stats_YYYYMMDD.json: counts by agent, tool, result_status, error_class and
/// risk flag; elapsed_ms p50/p95/max) and its records move, compressed, to archive/; older
/// days live only in archive/. Crash-safe: killed at any point and run again, it loses
/// nothing and counts nothing twice; a second run has nothing to do. Writers wait while it
/// runs.
///
/// Exit codes: 0 done, 1 retention failed (the message names the file), 2 usage error.
#[derive(Debug, clap::Args)]
struct RetainArgs {
    /// Ledger directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// The current time instead of the clock: RFC 3339 or Unix seconds (its UTC day is
    /// "today").
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    now: Option<FixedClock>,
    /// Print what would be done, change nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    seal: SealArgs,
}

pub(super) fn run(args: Args) -> u8 {
    match args.command {
        Command::Log(args) => log(*args),
        Command::Retain(args) => retain_dir(args),
    }
}

/// Prints `message` as every subcommand does and returns `code`.
fn error(code: u8, message: impl std::fmt::Display) -> u8 {
    errln!("agentlog: error: {message}");
    code
}

fn log(args: LogArgs) -> u8 {
    let json = match args.args_json.as_deref().map(read_args_json).transpose() {
        Ok(json) => json,
        Err(message) => return error(EXIT_ERROR, message),
    };
    let call_args = match (&json, args.args_hash) {
        (Some(value), _) => CallArgs::Json(value),
        (None, Some(hash)) => CallArgs::Hash(hash),
        (None, None) => return error(EXIT_ERROR, "--args-json or --args-hash is required"),
    };
    let mut config = LedgerConfig::default().with_hash_form(args.hash_form);
    let now = args
        .now
        .map_or_else(|| SystemClock.now(), |clock| clock.now());
    match args.seal.hook(now) {
        Ok(Some(hook)) => config = config.with_file_hook(hook),
        Ok(None) => {}
        Err(message) => return error(EXIT_ERROR, message),
    }
    if let Some(id) = args.session_id {
        config = config.with_session_id(id);
    }
    if let Some(path) = &args.pseudonym_key_file {
        match PseudonymKey::from_file(path) {
            Ok(key) => config = config.with_pseudonym_key(key),
            Err(e) => return error(EXIT_ERROR, e),
        }
    }
    let mut call = ToolCallInput::new(args.agent, args.tool, call_args, args.status)
        .elapsed_ms(args.elapsed_ms);
    if let Some(class) = args.error_class {
        call = call.error_class(class);
    }
    for flag in args.risk_flags {
        call = call.risk_flag(flag);
    }
    for artifact in args.artifacts {
        call = call.artifact(artifact);
    }
    let written = Ledger::open(&args.dir, config).and_then(|ledger| {
        let ledger = match args.now {
            Some(now) => ledger.with_clock(now),
            None => ledger,
        };
        ledger.log_tool_call(call)
    });
    match written {
        // The record as appended, each field that carries a secret shown as `[redacted]`
        // (the ledger keeps what it was given; what is printed passes the gate).
        Ok(record) => match serde_json::to_value(&record).and_then(|mut value| {
            output::gate().redactor().redact_json(&mut value);
            serde_json::to_string(&value)
        }) {
            Ok(line) => match print_stdout_as(&(line + "\n"), Style::Json) {
                Ok(()) => EXIT_OK,
                Err(e) => error(EXIT_FAILURE, e),
            },
            Err(e) => error(EXIT_FAILURE, e),
        },
        Err(e @ LedgerError::Record(_)) => error(EXIT_ERROR, e),
        Err(e @ LedgerError::Hook { .. }) => error(
            EXIT_FAILURE,
            format!("the record was written, but sealing the day file failed: {e}"),
        ),
        Err(e) => error(EXIT_FAILURE, e),
    }
}

/// `--args-json`'s value parsed (`-`: stdin). Errors never quote the text: arguments may
/// hold secrets.
fn read_args_json(text: &str) -> Result<Value, String> {
    let mut stdin_text = String::new();
    let text = if text == "-" {
        std::io::stdin()
            .read_to_string(&mut stdin_text)
            .map_err(|e| format!("read --args-json from stdin: {e}"))?;
        stdin_text.as_str()
    } else {
        text
    };
    serde_json::from_str(text).map_err(|e| {
        let what = match e.classify() {
            Category::Eof => "unexpected end",
            Category::Syntax | Category::Data | Category::Io => "syntax error",
        };
        format!(
            "--args-json is not JSON ({what} at line {}, column {})",
            e.line(),
            e.column()
        )
    })
}

fn retain_dir(args: RetainArgs) -> u8 {
    let now = args
        .now
        .map_or_else(|| SystemClock.now(), |clock| clock.now());
    let today = Day::of(now);
    let mut options = RetainOptions::default().with_dry_run(args.dry_run);
    match args.seal.hook(now) {
        Ok(Some(hook)) => options = options.with_file_hook(hook),
        Ok(None) => {}
        Err(message) => return error(EXIT_ERROR, message),
    }
    match retain(&args.dir, today, options) {
        Ok(report) => {
            let mut text: String = report.actions.iter().map(|a| format!("{a}\n")).collect();
            let n = report.actions.len();
            let done = if report.dry_run {
                "dry run, nothing changed"
            } else {
                "done"
            };
            text.push_str(&format!(
                "retain: {n} action(s) in {} as of {today} ({done})\n",
                output::shown(&args.dir.display().to_string())
            ));
            match print_stdout(&text) {
                Ok(()) => EXIT_OK,
                Err(e) => error(EXIT_FAILURE, e),
            }
        }
        Err(e) => error(EXIT_FAILURE, e),
    }
}

/// `--now`: RFC 3339, or whole Unix seconds.
fn parse_time(text: &str) -> Result<FixedClock, String> {
    text.parse()
        .map_err(|e: agentlog_core::ledger::clock::TimeParseError| e.to_string())
}

fn parse_args_hash(text: &str) -> Result<ArgsHash, String> {
    text.parse()
        .map_err(|e: agentlog_core::ledger::ArgsHashError| e.to_string())
}

fn status_parser() -> impl clap::builder::TypedValueParser<Value = ResultStatus> {
    use clap::builder::{PossibleValuesParser, TypedValueParser as _};
    PossibleValuesParser::new(ResultStatus::ALL.map(ResultStatus::as_str))
        .try_map(|name| name.parse::<ResultStatus>())
}

fn risk_flag_parser() -> impl clap::builder::TypedValueParser<Value = RiskFlag> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser as _};
    PossibleValuesParser::new(
        RiskFlag::ALL.map(|flag| PossibleValue::new(flag.as_str()).help(flag.description())),
    )
    .try_map(|name| name.parse::<RiskFlag>())
}

fn hash_form_parser() -> impl clap::builder::TypedValueParser<Value = HashForm> {
    use clap::builder::{PossibleValuesParser, TypedValueParser as _};
    PossibleValuesParser::new(HashForm::ALL.map(HashForm::name))
        .try_map(|name| name.parse::<HashForm>())
}
