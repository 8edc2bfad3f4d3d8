//! Command-line interface. Each subcommand lives in its own file and only parses arguments,
//! calls the library and maps results to output and exit codes.
//!
//! Exit codes are stable: 0 success; 1 error-level findings (validate, demo), a failed case
//! (conformance), a ledger that could not be written or retained (ledger), records not
//! delivered (export), a log that fails verification (verify) or a seal refused (seal); 2
//! usage or I/O errors.

mod analyze;
mod completions;
mod conformance;
mod demo;
mod diagnostics;
mod emit;
mod export;
mod keygen;
mod ledger;
mod ledger_seal;
mod man;
pub(crate) mod otlp_live;
mod output;
mod profile_arg;
mod proxy;
mod schema;
mod seal;
mod secret_args;
mod validate;
mod verify;

use std::collections::HashSet;
use std::io::Write as _;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// Exit code for success.
pub(crate) const EXIT_OK: u8 = 0;
/// Exit code when a check found error-level problems.
pub(crate) const EXIT_FINDINGS: u8 = 1;
/// Exit code for usage and I/O errors.
pub(crate) const EXIT_ERROR: u8 = 2;

/// agentlog: specification and conformance kit for AI-agent sandbox event logs.
///
/// Exit codes: 0 success; 1 error-level findings (validate, demo), a failed case (conformance),
/// a ledger that could not be written or retained (ledger), records not delivered (export), a
/// log that fails verification (verify) or a seal refused (seal); 2 usage or I/O error.
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
    // Each subcommand's help comes from its `Args` (the first line is its summary here).
    Schema(schema::Args),
    Emit(emit::Args),
    Validate(validate::Args),
    Proxy(Box<proxy::Args>),
    Conformance(conformance::Args),
    Demo(demo::Args),
    Ledger(ledger::Args),
    Analyze(analyze::Args),
    Export(export::Args),
    Seal(seal::Args),
    Verify(verify::Args),
    Keygen(keygen::Args),
    /// Print the completion script of a shell (bash, zsh, fish, powershell, elvish).
    Completions(completions::Args),
    /// Print a manual page (roff): agentlog's, or a command's.
    Man(man::Args),
}

/// Parses the command line and runs the subcommand.
pub(crate) fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version: clap's output as it is.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::from(EXIT_OK);
        }
        Err(e) => {
            let args: Vec<String> = std::env::args_os()
                .skip(1)
                .map(|arg| arg.to_string_lossy().into_owned())
                .collect();
            // Plain text, never colored: the scrub must see each argument as one run of text.
            let message = e.render().to_string();
            output::install_from_args(&args);
            let mut err = output::stderr();
            let _ = write!(err, "{}", scrub_arguments(&message, &args, &known_words()))
                .and_then(|()| err.flush());
            return ExitCode::from(closing(EXIT_ERROR));
        }
    };
    diagnostics::init(cli.verbose, cli.quiet);
    let code = match cli.command {
        Command::Schema(args) => schema::run(args),
        Command::Emit(args) => emit::run(args),
        Command::Export(args) => export::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Proxy(args) => proxy::run(*args),
        Command::Demo(args) => demo::run(args),
        Command::Conformance(args) => conformance::run(args),
        Command::Ledger(args) => ledger::run(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Seal(args) => seal::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Keygen(args) => keygen::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(args),
    };
    ExitCode::from(closing(code))
}

/// The exit code once the output gate has had its say: lines it withheld are reported (the
/// rest of the output stood), never silently dropped.
fn closing(code: u8) -> u8 {
    let withheld = output::withheld();
    if withheld > 0 {
        output::errln!(
            "agentlog: warning: {withheld} line(s) of output withheld: they would have shown a secret value"
        );
    }
    code
}

/// Runs an async subcommand on a multi-threaded tokio runtime.
pub(crate) fn block_on(command: impl std::future::Future<Output = u8>) -> u8 {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(command),
        Err(e) => fail(format_args!("start runtime: {e}")),
    }
}

/// Writes `text` to stdout. A reader that stopped early (`| head`) is not an error: the exit
/// code still tells the outcome. Any other failure (a full disk behind a redirect) is.
pub(crate) fn print_stdout(text: &str) -> Result<(), String> {
    print_stdout_as(text, agentlog_validate::gate::Style::Text)
}

/// [`print_stdout`] for a document in `style` (JSON, XML): the gate escapes in its syntax.
pub(crate) fn print_stdout_as(
    text: &str,
    style: agentlog_validate::gate::Style,
) -> Result<(), String> {
    let mut out = output::stdout(style);
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(format!("write to stdout: {e}"))
        }
        _ => Ok(()),
    }
}

/// [`EXIT_OK`] once a command's output is written ([`print_stdout`]); a failed write is an
/// error.
pub(crate) fn printed(result: Result<(), String>) -> u8 {
    result.map_or_else(fail, |()| EXIT_OK)
}

/// Prints an error in the one format every subcommand uses and returns [`EXIT_ERROR`].
pub(crate) fn fail(message: impl std::fmt::Display) -> u8 {
    output::errln!("agentlog: error: {message}");
    EXIT_ERROR
}

// Scrubbing clap's errors. clap quotes the argument it refuses ("unexpected argument
// 'KEY=sk-...@api.openai.com' found", "invalid value 'sk-...' for '--max-errors <N>'"), and
// that argument may be a secret typed in the wrong place: a spec without `--secret` in front,
// a value that starts with `-` and is taken for a flag, a value where a number belongs. Which
// argument clap quotes is not known from outside, so every argument that could be a secret is
// replaced in the message by `<argument #N>`, N its 1-based position after the program name:
//
// - an argument that contains `=` or `@` (a `NAME=VALUE@hosts` spec, base64 padding) or is
//   at least 16 characters long (API keys are);
// - of an argument `-x=value` or `--flag=value`, also the value when it meets the same test,
//   and of `--flag=value` the `--flag`, unless it is one of this CLI's flags (clap quotes the
//   part before `=` of an unknown flag, which here may be a value that starts with `--`).
//
// Arguments that are this CLI's own words (subcommand and flag names) are never replaced, nor
// are pieces shorter than 4 characters: shorter ones cannot hold a secret worth the name and
// replacing them would make the message unreadable. Short arguments without `=` or `@` (a
// mistyped number, a format name) stay, so the message still says what was wrong.

/// The shortest argument length that counts as a possible secret on its own.
const SECRET_LIKE_LEN: usize = 16;

/// Pieces shorter than this are never replaced.
const MIN_SCRUBBED_LEN: usize = 4;

/// Whether `text`, an argument or part of one, could be a secret (see the rule above).
fn could_be_secret(text: &str) -> bool {
    text.contains(['=', '@']) || text.chars().count() >= SECRET_LIKE_LEN
}

/// Every subcommand name and flag (`--long`, `-s`, their aliases) of the CLI.
fn known_words() -> HashSet<String> {
    fn walk(command: &clap::Command, words: &mut HashSet<String>) {
        words.insert(command.get_name().to_owned());
        words.extend(command.get_all_aliases().map(str::to_owned));
        for arg in command.get_arguments() {
            words.extend(
                arg.get_long_and_visible_aliases()
                    .into_iter()
                    .flatten()
                    .map(|l| format!("--{l}")),
            );
            words.extend(
                arg.get_short_and_visible_aliases()
                    .into_iter()
                    .flatten()
                    .map(|c| format!("-{c}")),
            );
        }
        for sub in command.get_subcommands() {
            walk(sub, words);
        }
    }
    let mut words: HashSet<String> = ["--help", "-h", "--version", "-V", "help"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    walk(&Cli::command(), &mut words);
    words
}

/// `message` with every piece of `args` that could be a secret replaced by
/// `<argument #N>` (see the rule above); `known` holds the CLI's own words.
fn scrub_arguments(message: &str, args: &[String], known: &HashSet<String>) -> String {
    // (text, position, whether it is the whole argument)
    let mut pieces: Vec<(&str, usize, bool)> = Vec::new();
    for (index, arg) in args.iter().enumerate() {
        let position = index + 1;
        if known.contains(arg) {
            continue;
        }
        if could_be_secret(arg) {
            pieces.push((arg, position, true));
        }
        if arg.starts_with('-')
            && let Some((flag, value)) = arg.split_once('=')
        {
            if could_be_secret(value) {
                pieces.push((value, position, false));
            }
            if flag.starts_with("--") && !known.contains(flag) {
                pieces.push((flag, position, false));
            }
        }
    }
    pieces.retain(|(piece, _, _)| piece.len() >= MIN_SCRUBBED_LEN);
    // One pass over the message, the longest piece first at each place: a replacement is
    // never searched again, and an argument is never half-replaced by a shorter one. Of equal
    // texts, a whole argument is named before a part of another.
    pieces.sort_by_key(|(piece, _, whole)| (std::cmp::Reverse(piece.len()), !whole));
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(c) = rest.chars().next() {
        match pieces.iter().find(|(piece, _, _)| rest.starts_with(piece)) {
            Some((piece, position, _)) => {
                out.push_str(&format!("<argument #{position}>"));
                rest = &rest[piece.len()..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn scrub_replaces_what_could_be_a_secret_by_its_position() {
        let known = known_words();
        let cases: &[(&[&str], &str, &str)] = &[
            // A spec without `--secret`.
            (
                &["proxy", "KEY=sk-abc@api.openai.com"],
                "error: unexpected argument 'KEY=sk-abc@api.openai.com' found",
                "error: unexpected argument '<argument #2>' found",
            ),
            // A long value where a number belongs; the flag keeps its name.
            (
                &[
                    "validate",
                    "--max-errors",
                    "sk-proj-T3stV4lue0123",
                    "x.jsonl",
                ],
                "error: invalid value 'sk-proj-T3stV4lue0123' for '--max-errors <N>'",
                "error: invalid value '<argument #3>' for '--max-errors <N>'",
            ),
            // The value part of `--flag=value`.
            (
                &["validate", "--max-errors=KEY=value-1", "x.jsonl"],
                "error: invalid value 'KEY=value-1' for '--max-errors <N>'",
                "error: invalid value '<argument #2>' for '--max-errors <N>'",
            ),
            // A value starting with `--` after `--secret`: clap quotes the part before `=`.
            (
                &["validate", "--secret", "--Zq9/~XyW+s3cr3T=k=x", "x.jsonl"],
                "error: unexpected argument '--Zq9/~XyW+s3cr3T' found\n\n  tip: to pass '--Zq9/~XyW+s3cr3T' as a value, use '-- --Zq9/~XyW+s3cr3T'",
                "error: unexpected argument '<argument #3>' found\n\n  tip: to pass '<argument #3>' as a value, use '-- <argument #3>'",
            ),
            // The whole argument wins over a part of it, and other arguments are untouched.
            (
                &["emit", "--run-id", "r", "--tag=a@bc", "a@bc"],
                "x '--tag=a@bc' y 'a@bc' z 'r'",
                "x '<argument #4>' y '<argument #5>' z 'r'",
            ),
            // Short arguments without `=`/`@`, and the CLI's own words, stay.
            (
                &[
                    "validate",
                    "--format",
                    "yaml",
                    "--max-findings-per-file",
                    "x",
                ],
                "error: invalid value 'yaml' for '--format <FORMAT>' ('--max-findings-per-file')",
                "error: invalid value 'yaml' for '--format <FORMAT>' ('--max-findings-per-file')",
            ),
            // A 16-character argument without `=`/`@`; a piece of 3 characters stays.
            (
                &["schema", "abcdefghijklmnop", "a=b"],
                "'abcdefghijklmnop' 'a=b'",
                "'<argument #2>' 'a=b'",
            ),
            // Non-ASCII text around the pieces.
            (
                &["proxy", "K=välue-ü"],
                "« K=välue-ü »",
                "« <argument #2> »",
            ),
        ];
        for (list, message, expected) in cases {
            assert_eq!(
                scrub_arguments(message, &args(list), &known),
                *expected,
                "{list:?}"
            );
        }
    }

    #[test]
    fn known_words_hold_flags_and_subcommands() {
        let known = known_words();
        for word in [
            "validate",
            "proxy",
            "--secret",
            "--max-errors",
            "-o",
            "--help",
            "-V",
        ] {
            assert!(known.contains(word), "{word}");
        }
        assert!(!known.contains("--Zq9"));
    }
}
