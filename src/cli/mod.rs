//! Command-line interface. Each subcommand lives in its own file and only parses arguments,
//! calls the library and maps results to output and exit codes.
//!
//! Exit codes are stable: 0 success, 1 the check found error-level problems (validate), 2 usage
//! or I/O errors.

mod conformance;
mod demo;
mod diagnostics;
mod emit;
mod proxy;
mod schema;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code when a check found error-level problems.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code for usage and I/O errors.
pub const EXIT_ERROR: u8 = 2;

/// agentlog: specification and conformance kit for AI-agent sandbox event logs.
///
/// Exit codes: 0 success, 1 error-level findings (validate), 2 usage or I/O error.
#[derive(Debug, Parser)]
#[command(name = "agentlog", version, about, long_about, max_term_width = 100)]
struct Cli {
    /// More diagnostics on stderr (-v information, -vv debug); `RUST_LOG` overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the published JSON Schemas (draft 2020-12).
    Schema(schema::Args),
    /// Append one event to an events.jsonl log (for shell scripts and ports' smoke tests).
    Emit(emit::Args),
    /// Check events.jsonl logs against the schema and the no-secret-values rule.
    Validate(validate::Args),
    /// Run the MITM HTTPS proxy that injects secrets and writes the event log.
    Proxy(proxy::Args),
    /// Run the validator conformance cases against the reference or a port.
    Conformance(conformance::Args),
    /// Run a scripted agent session through the proxy against a mock LLM (no network).
    Demo(demo::Args),
}

/// Parses the command line and runs the subcommand.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    diagnostics::init(cli.verbose, cli.quiet);
    let code = match cli.command {
        Command::Schema(args) => schema::run(args),
        Command::Emit(args) => emit::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Proxy(args) => proxy::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Conformance(args) => conformance::run(args),
    };
    ExitCode::from(code)
}

/// Runs an async subcommand on a multi-threaded tokio runtime.
pub fn block_on(command: impl std::future::Future<Output = u8>) -> u8 {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(command),
        Err(e) => fail(format_args!("start runtime: {e}")),
    }
}

/// Prints an error in the one format every subcommand uses and returns [`EXIT_ERROR`].
pub fn fail(message: impl std::fmt::Display) -> u8 {
    eprintln!("agentlog: error: {message}");
    EXIT_ERROR
}
