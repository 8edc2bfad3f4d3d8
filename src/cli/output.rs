//! The CLI's one way out: stdout, stderr, report files and progress bars, all behind the
//! output gate ([`agentlog_validate::gate`]).
//!
//! A command installs the gate of its secrets ([`install`]) as soon as it knows them; until
//! then (and for commands that take no secrets) the gate knows the built-in detector of
//! well-known credential formats. Nothing in the CLI writes to the process's streams in any
//! other way: `clippy.toml` forbids `println!`, `eprintln!`, `std::io::stdout` and
//! `std::io::stderr` outside this file, so a new output path goes through the gate or does
//! not compile.

#![allow(clippy::disallowed_macros, clippy::disallowed_methods)]

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal as _, Write};
use std::path::Path;
use std::sync::{OnceLock, RwLock};

use agentlog_core::secrets::Secret;
use agentlog_validate::gate::{Gate, GatedWriter, Style};
use agentlog_validate::secrets::detect::Detector;
use agentlog_validate::secrets::redact::Redactor;
use agentlog_validate::secrets::scan::{MIN_SECRET_LEN, SecretScanner};

fn slot() -> &'static RwLock<Gate> {
    static GATE: OnceLock<RwLock<Gate>> = OnceLock::new();
    GATE.get_or_init(|| {
        RwLock::new(Gate::new(Redactor::new(
            SecretScanner::empty(),
            Some(Detector::new(Vec::new())),
        )))
    })
}

/// Makes `redactor` the gate of every output from now on (the count of lines withheld goes
/// on).
pub fn install(redactor: Redactor) {
    let gate = gate().with_redactor(redactor);
    match slot().write() {
        Ok(mut slot) => *slot = gate,
        Err(poisoned) => *poisoned.into_inner() = gate,
    }
}

/// Installs a gate for `secrets` and the built-in detector (the proxy's and the demo's own
/// secrets). A value too short to watch for without matching everywhere cannot be gated;
/// such secrets are left out and their names returned, for the caller to warn about.
pub fn install_secrets(secrets: &[Secret]) -> Vec<String> {
    let (watched, short): (Vec<&Secret>, Vec<&Secret>) = secrets
        .iter()
        .partition(|s| s.expose().len() >= MIN_SECRET_LEN);
    let watched: Vec<Secret> = watched.into_iter().cloned().collect();
    // Values of the minimum length always build; a failure leaves the detector-only gate.
    if let Ok(scanner) = SecretScanner::new(&watched) {
        install(Redactor::new(scanner, Some(Detector::new(Vec::new()))));
    }
    short.iter().map(|s| s.name().to_owned()).collect()
}

/// Before the command line is understood (clap refusing it), the gate learns what secrets it
/// can read from the raw arguments: every `--secret NAME=VALUE`, `--secret-env NAME` and
/// `--secrets-file FILE` that parses. A refused argument may be one of those values typed in
/// the wrong place.
pub fn install_from_args(args: &[String]) {
    let mut secrets = Vec::new();
    let mut words = args.iter().peekable();
    while let Some(word) = words.next() {
        let (flag, inline) = match word.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
            _ => (word.as_str(), None),
        };
        if !matches!(flag, "--secret" | "--secret-env" | "--secrets-file") {
            continue;
        }
        let Some(value) = inline.or_else(|| words.next().cloned()) else {
            continue;
        };
        match flag {
            "--secret" => secrets.extend(Secret::parse(&value, |n| std::env::var(n).ok())),
            "--secret-env" => secrets.extend(std::env::var(&value).ok().map(|v| {
                Secret::new(
                    value.clone(),
                    agentlog_core::secrets::SecretValue::new(v),
                    vec![],
                )
            })),
            _ => secrets.extend(
                agentlog_core::secrets::file::read_secrets_file(Path::new(&value))
                    .into_iter()
                    .flatten(),
            ),
        }
    }
    if !secrets.is_empty() {
        install_secrets(&secrets);
    }
}

/// The gate in force.
pub fn gate() -> Gate {
    match slot().read() {
        Ok(gate) => gate.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

/// How many lines of output were withheld in this process.
pub fn withheld() -> u64 {
    gate().withheld()
}

/// One value taken from input, as every output shows it: `[redacted]` when it carries a
/// secret (as written, decoded, or as a terminal shows it), else escaped to one line.
pub fn shown(text: &str) -> String {
    gate().redactor().shown(text).into_owned()
}

/// Standard output behind the gate, escaping in `style`.
pub fn stdout(style: Style) -> GatedWriter<io::StdoutLock<'static>> {
    gate().writer(io::stdout().lock(), style)
}

/// Standard error behind the gate (text).
pub fn stderr() -> GatedWriter<io::Stderr> {
    gate().writer(io::stderr(), Style::Text)
}

/// A new file at `path` behind the gate, escaping in `style`.
pub fn create(path: &Path, style: Style) -> io::Result<GatedWriter<BufWriter<File>>> {
    Ok(gate().writer(BufWriter::new(File::create(path)?), style))
}

/// Whether standard error is a terminal (progress bars are drawn only there).
pub fn stderr_is_terminal() -> bool {
    io::stderr().is_terminal()
}

/// Writes formatted text and a line break to stderr through the gate; a failed write to
/// stderr has nowhere to be reported.
pub fn err_line(args: fmt::Arguments<'_>) {
    let mut err = stderr();
    let _ = writeln!(err, "{args}").and_then(|()| err.flush());
}

/// Writes formatted text and a line break to stdout through the gate.
pub fn out_line(args: fmt::Arguments<'_>) -> io::Result<()> {
    let mut out = stdout(Style::Text);
    writeln!(out, "{args}")?;
    out.flush()
}

/// `println!` through the gate: a reader that stopped early (`| head`) is not an error.
macro_rules! outln {
    ($($arg:tt)*) => {{
        let _ = $crate::cli::output::out_line(format_args!($($arg)*));
    }};
}

/// `eprintln!` through the gate.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::output::err_line(format_args!($($arg)*))
    };
}

pub(crate) use {errln, outln};

/// The writer `tracing` formats each event into: stderr behind the gate.
pub fn tracing_writer() -> GatedWriter<io::Stderr> {
    stderr()
}

/// A progress bar's drawing target: stderr behind the gate, so a file label on a bar is
/// judged like every other output.
pub fn progress_target() -> indicatif::ProgressDrawTarget {
    indicatif::ProgressDrawTarget::term_like(Box::new(GatedTerm {
        term: console::Term::stderr(),
    }))
}

/// A terminal whose every line of text passes the gate before it is drawn.
#[derive(Debug)]
struct GatedTerm {
    term: console::Term,
}

impl GatedTerm {
    fn gated(text: &str) -> String {
        let shown = gate().text(text);
        shown.trim_end_matches('\n').to_owned()
    }
}

impl indicatif::TermLike for GatedTerm {
    fn width(&self) -> u16 {
        self.term.size().1
    }
    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        self.term.move_cursor_up(n)
    }
    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        self.term.move_cursor_down(n)
    }
    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        self.term.move_cursor_right(n)
    }
    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        self.term.move_cursor_left(n)
    }
    fn write_line(&self, s: &str) -> io::Result<()> {
        self.term.write_line(&Self::gated(s))
    }
    fn write_str(&self, s: &str) -> io::Result<()> {
        self.term.write_str(&Self::gated(s))
    }
    fn clear_line(&self) -> io::Result<()> {
        self.term.clear_line()
    }
    fn flush(&self) -> io::Result<()> {
        self.term.flush()
    }
}
