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
use std::io::{self, BufWriter, IsTerminal as _, Write};
use std::path::{Path, PathBuf};
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
pub(crate) fn install(redactor: Redactor) {
    let gate = gate().with_redactor(redactor);
    match slot().write() {
        Ok(mut slot) => *slot = gate,
        Err(poisoned) => *poisoned.into_inner() = gate,
    }
}

/// Installs a gate for `secrets` and the built-in detector (the proxy's and the demo's own
/// secrets). A value too short to watch for without matching everywhere cannot be gated;
/// such secrets are left out and their names returned, for the caller to warn about.
pub(crate) fn install_secrets(secrets: &[Secret]) -> Vec<String> {
    let (watched, short): (Vec<&Secret>, Vec<&Secret>) = secrets
        .iter()
        .partition(|s| s.expose().len() >= MIN_SECRET_LEN);
    let watched: Vec<Secret> = watched.into_iter().cloned().collect();
    match installed().lock() {
        Ok(mut installed) => installed.clone_from(&watched),
        Err(poisoned) => poisoned.into_inner().clone_from(&watched),
    }
    // Values of the minimum length always build; a failure leaves the detector-only gate.
    if let Ok(scanner) = SecretScanner::new(&watched) {
        install(Redactor::new(scanner, Some(Detector::new(Vec::new()))));
    }
    short.iter().map(|s| s.name().to_owned()).collect()
}

/// The secrets [`install_secrets`] installed, so [`add_secrets`] can add to them.
fn installed() -> &'static std::sync::Mutex<Vec<Secret>> {
    static INSTALLED: OnceLock<std::sync::Mutex<Vec<Secret>>> = OnceLock::new();
    INSTALLED.get_or_init(|| std::sync::Mutex::new(Vec::new()))
}

/// Adds `secrets` to those [`install_secrets`] installed (an export's credentials to the
/// proxy's or the demo's own secrets).
pub(crate) fn add_secrets(secrets: &[Secret]) {
    let mut all = match installed().lock() {
        Ok(installed) => installed.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    all.extend_from_slice(secrets);
    install_secrets(&all);
}

/// Before the command line is understood (clap refusing it), the gate learns what secrets it
/// can read from the raw arguments: every `--secret NAME=VALUE`, `--secret-env NAME` and
/// `--secrets-file FILE` that parses. A refused argument may be one of those values typed in
/// the wrong place.
pub(crate) fn install_from_args(args: &[String]) {
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
pub(crate) fn gate() -> Gate {
    match slot().read() {
        Ok(gate) => gate.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

/// How many lines of output were withheld in this process.
pub(crate) fn withheld() -> u64 {
    gate().withheld()
}

/// One value taken from input, as every output shows it: `[redacted]` when it carries a
/// secret (as written, decoded, or as a terminal shows it), else escaped to one line.
pub(crate) fn shown(text: &str) -> String {
    gate().redactor().shown(text).into_owned()
}

/// A path as every output shows it: a value ([`shown`]), withheld when it carries a key, even
/// one split over its directories.
pub(crate) fn path(path: &Path) -> String {
    shown(&path.display().to_string())
}

/// `message` (a library's error, which names paths as they are) with each of `paths` shown
/// as a value ([`shown`]): a path that carries a key, even split over its directories, is
/// withheld there, as everywhere else a path is printed.
pub(crate) fn paths_shown(message: &str, paths: &[&Path]) -> String {
    let mut texts: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    // The longest first: `events.jsonl.seal` before `events.jsonl`.
    texts.sort_by_key(|t| std::cmp::Reverse(t.len()));
    let mut out = message.to_owned();
    for text in texts.iter().filter(|t| !t.is_empty()) {
        let shown = shown(text);
        if shown != *text {
            out = out.replace(text.as_str(), &shown);
        }
    }
    out
}

/// Standard output behind the gate, escaping in `style`.
pub(crate) fn stdout(style: Style) -> GatedWriter<io::StdoutLock<'static>> {
    gate().writer(io::stdout().lock(), style)
}

/// Standard error behind the gate (text).
pub(crate) fn stderr() -> GatedWriter<io::Stderr> {
    gate().writer(io::stderr(), Style::Text)
}

/// Writes the file at `path` with `write`, behind the gate, escaping in `style`: all of it or
/// nothing. The text goes to a new file beside `path`, which takes its place only once
/// `write` and the gate have passed all of it; a document the gate refused part of (or a
/// failed write) leaves whatever was at `path` before, never a truncated document. A symlink
/// is followed (the file it points to is replaced, the link stays), an existing file keeps
/// its permissions, and a path that is not a regular file (`/dev/null`, a FIFO, a terminal)
/// is written in place: it cannot be replaced, and must not be.
pub(crate) fn write_file(
    path: &Path,
    style: Style,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    write_file_behind(&gate(), path, style, write)
}

fn write_file_behind(
    gate: &Gate,
    path: &Path,
    style: Style,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let target = match std::fs::canonicalize(path) {
        Ok(target) => target,
        // A dangling symlink: the file it names is created.
        Err(_) if path.is_symlink() => match std::fs::read_link(path) {
            Ok(link) => path.parent().unwrap_or(Path::new("")).join(link),
            Err(e) => return Err(e),
        },
        Err(_) => path.to_path_buf(),
    };
    let existing = std::fs::metadata(&target).ok();
    if existing.as_ref().is_some_and(|m| !m.is_file()) {
        let file = std::fs::OpenOptions::new().write(true).open(&target)?;
        let mut out = gate.writer(BufWriter::new(file), style);
        write(&mut out)?;
        return out.into_inner()?.flush();
    }
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let file = tempfile::Builder::new()
        .prefix(".agentlog-")
        .suffix(".partial")
        // As a new file gets it (the umask applies), or as the file it replaces has it.
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)?;
    if let Some(meta) = &existing {
        file.as_file().set_permissions(meta.permissions())?;
    }
    let mut out = gate.writer(BufWriter::new(file), style);
    write(&mut out)?;
    let file = out.into_inner()?.into_inner().map_err(|e| e.into_error())?;
    file.as_file().sync_all()?;
    file.persist(&target).map(drop).map_err(|e| e.error)
}

/// Refuses an output file that is one of the logs `inputs` lead to (a file given, or one a
/// directory walk reads): the report would replace the log it reports on. Named by the
/// argument's position only.
pub(crate) fn refuse_input_as_output(output: &Path, inputs: &[PathBuf]) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(out) = std::fs::metadata(output) else {
        return Ok(());
    };
    let same = |path: &Path| {
        std::fs::metadata(path)
            .is_ok_and(|m| m.is_file() && (m.dev(), m.ino()) == (out.dev(), out.ino()))
    };
    for (i, input) in inputs.iter().enumerate() {
        // A walk that fails is reported by the command itself.
        let walked =
            agentlog_validate::walk::expand(std::slice::from_ref(input)).unwrap_or_default();
        let reads = walked.iter().any(|w| match w {
            agentlog_validate::walk::Input::File(path) => same(path),
            _ => false,
        });
        if reads {
            return Err(format!(
                "the output file is a log input #{} leads to: the report would replace the log it reports on; write it elsewhere",
                i + 1
            ));
        }
    }
    Ok(())
}

/// Whether standard error is a terminal (progress bars are drawn only there).
pub(crate) fn stderr_is_terminal() -> bool {
    io::stderr().is_terminal()
}

/// What stderr shows of a message that shows a secret with its separators taken out.
const WITHHELD_MESSAGE: &str =
    "(message withheld: it names the value of a secret, cut by separators)";

/// Writes formatted text and a line break to stderr through the gate; a failed write to
/// stderr has nowhere to be reported. A message is one line: a line break inside it (from a
/// path or a value it names) is escaped, so the gate judges the message whole, never a
/// value split over two lines, and no message forges a line of its own.
pub(crate) fn err_line(args: fmt::Arguments<'_>) {
    let mut message = args.to_string();
    // A message quotes paths and values as they were given (a library's error naming a
    // missing file): judged whole also with its separators taken out, like any value shown
    // whole, so a key split over a path's directories or by a space is not printed.
    let gate = gate();
    let redactor = gate.redactor();
    if redactor.leaks_joined(&message) {
        // Its level stays: `agentlog: error: ` before the notice.
        let level = message
            .strip_prefix("agentlog: ")
            .and_then(|rest| rest.split_once(": "))
            .map(|(level, _)| level)
            .filter(|level| matches!(*level, "error" | "warning"));
        message = match level {
            Some(level) => format!("agentlog: {level}: {WITHHELD_MESSAGE}"),
            None => format!("agentlog: {WITHHELD_MESSAGE}"),
        };
    }
    let mut err = stderr();
    let _ = writeln!(err, "{}", agentlog_validate::gate::printable(&message))
        .and_then(|()| err.flush());
}

/// Writes formatted text and a line break to stdout through the gate.
pub(crate) fn out_line(args: fmt::Arguments<'_>) -> io::Result<()> {
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
pub(crate) fn tracing_writer() -> GatedWriter<io::Stderr> {
    stderr()
}

/// A progress bar's drawing target: stderr behind the gate, so a file label on a bar is
/// judged like every other output.
pub(crate) fn progress_target() -> indicatif::ProgressDrawTarget {
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

/// A sample of what agentlog writes of its own, whatever the input: the gate's markers, the
/// prefixes of its messages, and a small report in every format of `validate` and `analyze`
/// (headings, keys, rule texts, SARIF and JUnit skeletons, the HTML page and its script).
/// A secret whose value is in here could not be kept out of the output.
pub(crate) fn own_texts() -> String {
    use agentlog_validate::gate::{WITHHELD_COMMAND, WITHHELD_LINE};
    use agentlog_validate::report::{self, Format};
    let mut own = [
        WITHHELD_LINE,
        WITHHELD_COMMAND,
        agentlog_validate::secrets::redact::WITHHELD,
        agentlog_validate::WITHHELD_PATH,
        "agentlog: error: \nagentlog: warning: line(s) of output withheld: they would have shown a secret value\n",
    ]
    .join("\n");
    let sample = concat!(
        "{\"ts\":\"2026-01-01T00:00:00Z\",\"run_id\":\"r\",\"agent_system\":\"a\",",
        "\"event_type\":\"llm_request\",\"summary\":\"s\",\"data\":{\"cost_usd\":1}}\n",
        "not json\n",
        "{\"ts\":1800000000,\"session_id\":\"s\",\"agent\":\"a\",\"tool\":\"t\",",
        "\"args_hash\":\"sha256:00\",\"result_status\":\"denied\",\"elapsed_ms\":1,",
        "\"error_class\":\"e\",\"risk_flags\":[\"f\"],\"artifacts\":[]}\n",
    );
    if let Ok(validator) = agentlog_validate::Validator::new(agentlog_validate::Options::default())
    {
        let file = validator.validate_reader("events.jsonl", sample.as_bytes());
        let validated = agentlog_validate::Report { files: vec![file] };
        for format in [
            Format::Text,
            Format::Json,
            Format::Sarif,
            Format::Junit,
            Format::Github,
        ] {
            let mut out = Vec::new();
            let _ = report::write(&validated, format, &mut out);
            own.push_str(&String::from_utf8_lossy(&out));
        }
    }
    let mut analyzer = agentlog_analyze::Analyzer::new(agentlog_analyze::Options::default());
    let _ = analyzer.read("events.jsonl", sample.as_bytes());
    let analyzed = analyzer.finish();
    let mut out = Vec::new();
    let _ = agentlog_analyze::text::write(&analyzed, &mut out, 10);
    let _ = agentlog_analyze::html::write(&analyzed, &Redactor::none(), &mut out);
    if let Ok(json) = agentlog_analyze::to_json(&analyzed, &Redactor::none()) {
        out.extend(
            serde_json::to_string_pretty(&json)
                .unwrap_or_default()
                .into_bytes(),
        );
    }
    own.push_str(&String::from_utf8_lossy(&out));
    own
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentlog_core::secrets::SecretValue;

    const VALUE: &str = "Zq7vPw3nLk9xTb2m";

    fn gate_for(value: &str) -> Gate {
        let secret = Secret::new("S", SecretValue::new(value.to_owned()), vec![]);
        let scanner = SecretScanner::new(&[secret]).expect("scanner");
        Gate::new(Redactor::new(scanner, None))
    }

    #[test]
    fn a_document_the_gate_refuses_leaves_the_file_as_it_was() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("report.json");
        std::fs::write(&path, "before").expect("write");
        let gate = gate_for(VALUE);
        let result = write_file_behind(&gate, &path, Style::Json, |out| {
            writeln!(out, "{{")?;
            writeln!(out, "  \"a\": \"{VALUE}\"")?;
            writeln!(out, "}}")
        });
        assert!(result.is_err());
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "before");
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("list").collect();
        assert_eq!(left.len(), 1, "no partial file is left behind");
        // A document it passes replaces the file whole.
        write_file_behind(&gate, &path, Style::Json, |out| writeln!(out, "{{}}")).expect("passes");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "{}\n");
    }

    #[test]
    fn special_files_are_written_in_place_and_links_are_followed() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("dir");
        let gate = gate_for(VALUE);
        // A symlink stays a link; the file it points to gets the report, keeping its mode.
        let real = dir.path().join("real.json");
        std::fs::write(&real, "old").expect("write");
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        write_file_behind(&gate, &link, Style::Json, |out| writeln!(out, "{{}}")).expect("ok");
        assert!(link.is_symlink());
        assert_eq!(std::fs::read_to_string(&real).expect("read"), "{}\n");
        let mode = std::fs::metadata(&real).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
        // A new file is not left private to its owner (0600) by the temporary file.
        let new = dir.path().join("new.json");
        write_file_behind(&gate, &new, Style::Json, |out| writeln!(out, "{{}}")).expect("ok");
        let mode = std::fs::metadata(&new).expect("meta").permissions().mode();
        assert_ne!(mode & 0o044, 0, "{mode:o}");
        // A character device is written, never replaced.
        let null = Path::new("/dev/null");
        write_file_behind(&gate, null, Style::Json, |out| writeln!(out, "{{}}")).expect("ok");
        use std::os::unix::fs::FileTypeExt as _;
        assert!(
            std::fs::metadata(null)
                .expect("meta")
                .file_type()
                .is_char_device()
        );
        // A FIFO is written in place: a reader gets the report.
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).expect("read fifo"))
        };
        write_file_behind(&gate, &fifo, Style::Json, |out| writeln!(out, "{{}}")).expect("ok");
        assert_eq!(reader.join().expect("reader"), "{}\n");
        assert!(
            std::fs::metadata(&fifo)
                .expect("meta")
                .file_type()
                .is_fifo()
        );
    }

    #[test]
    fn an_input_is_never_the_output() {
        let dir = tempfile::tempdir().expect("dir");
        let log = dir.path().join("events.jsonl");
        std::fs::write(&log, "{}\n").expect("write");
        let link = dir.path().join("link.jsonl");
        std::os::unix::fs::symlink(&log, &link).expect("symlink");
        let inputs = [dir.path().join("other.jsonl"), log.clone()];
        let refused = refuse_input_as_output(&link, &inputs).expect_err("same file");
        assert!(refused.contains("input #2"), "{refused}");
        assert!(refuse_input_as_output(&dir.path().join("new.json"), &inputs).is_ok());
        // A log a directory walk reads is an input too.
        let walked = refuse_input_as_output(&log, &[dir.path().to_path_buf()]);
        assert!(walked.expect_err("in the walk").contains("input #1"));
        let report = dir.path().join("report.json");
        std::fs::write(&report, "{}").expect("write");
        assert!(refuse_input_as_output(&report, &[dir.path().to_path_buf()]).is_ok());
    }
}
