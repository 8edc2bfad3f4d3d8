//! Running a case: with the reference validator in process, or with another implementation
//! through a command template, under the command contract of the [parent module](super).
//!
//! A case that cannot be run, or whose report cannot be read, is not a harness error: it
//! fails, and its [`CaseError`] is the difference shown. The only text in one that a port
//! wrote, the first line of its stderr, has been through the case's redactor
//! ([`crate::secrets`]).

use std::fs::File;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process_group};

use agentlog_validate::Validator;
use serde_json::Value;

use super::case::LogCase;
use super::judge::{ExitCode, Observed, Outcome, Status, Verdict, judge};
use crate::select::{Unsupported, glob_match};

/// Why a case could not be run, or its report not read: the case fails with this message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaseError {
    /// The reference validator refused the case's options.
    #[error(transparent)]
    Options(#[from] agentlog_validate::ValidatorError),
    /// The case's options could not be written as JSON.
    #[error(transparent)]
    EncodeOptions(serde_json::Error),
    /// A file of the scratch directory (the options, an embedded case's log) could not be
    /// written.
    #[error("write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// A file for the command's stdout or stderr could not be created.
    #[error("create {path}: {source}")]
    Create {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// `sh -c` could not be started.
    #[error("run `sh -c`: {0}")]
    Spawn(#[source] io::Error),
    /// Waiting for `sh -c` failed.
    #[error("wait for `sh -c`: {0}")]
    Wait(#[source] io::Error),
    /// The command ran past its time limit; its process group was killed.
    #[error("the command did not finish within {}s (killed)", .0.as_secs_f64())]
    Timeout(Duration),
    /// The command printed more than this many bytes on stdout.
    #[error("the command printed more than {0} bytes")]
    TooLong(u64),
    /// The command's stdout could not be read.
    #[error("read {path}: {source}")]
    Read {
        /// The file holding it.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The command's stdout is not agentlog's JSON report.
    #[error("{source} (exit {exit}; stderr: {stderr})")]
    BadReport {
        /// What is wrong with it.
        source: ReportError,
        /// The command's exit code, or how it ended without one.
        exit: String,
        /// Its first line of stderr, secrets redacted, control characters shown as `?`, cut
        /// to 300 characters.
        stderr: String,
    },
}

/// What is wrong with the JSON report a command printed. No variant quotes the report: a
/// port's message may quote a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// Not JSON at all.
    #[error("stdout is not a JSON report: {0}")]
    NotJson(#[source] serde_json::Error),
    /// No `files` array.
    #[error("report has no `files` array")]
    NoFiles,
    /// A file without its `lines` count.
    #[error("a file has no `lines` count")]
    NoLines,
    /// The `lines` counts overflow a `u64` when summed.
    #[error("the files' `lines` counts add up past 2^64")]
    LinesOverflow,
    /// A file without its `findings` array.
    #[error("a file has no `findings`")]
    NoFindings,
    /// A finding without its `line`, `rule` or `severity`.
    #[error("a finding without a numeric `line` and string `rule` and `severity`")]
    BadFinding,
}

/// A command template that names a placeholder the validator harness does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A `{name}` that is not one of [`PLACEHOLDERS`] (a typo, most likely).
    #[error("unknown placeholder {token} in --cmd; known: {}", PLACEHOLDERS.join(", "))]
    UnknownPlaceholder {
        /// The placeholder as written, braces included.
        token: String,
    },
}

/// The implementation under test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// agentlog-validate, in process.
    Reference,
    /// Another implementation, through a command template (the command contract of
    /// [`crate::validator`]).
    Command(String),
}

impl Subject {
    /// How a summary names it: `reference validator`, or the template.
    pub fn label(&self) -> &str {
        match self {
            Subject::Reference => "reference validator",
            Subject::Command(template) => template,
        }
    }
}

/// Runs every case against `subject` in order, skipping (as unsupported) those whose id
/// `unsupported` matches. `scratch` is a directory for option files and embedded logs.
pub fn run_all(
    cases: &[LogCase],
    subject: &Subject,
    unsupported: &Unsupported,
    scratch: &Path,
) -> Vec<Outcome> {
    run(cases, subject, unsupported, scratch, false)
}

/// [`run_all`], stopping after the first failed case when `fail_fast` is set (the
/// outcomes end with that failure; the cases after it are not in the list).
///
/// For a command, one case per declared glob (the first whose id it matches) is run
/// anyway: a port that declares a family unsupported must refuse its input, exit 2 with a
/// message on stderr, rather than check it as something else. The case stays unsupported
/// when it is refused, and fails when it is not.
pub fn run(
    cases: &[LogCase],
    subject: &Subject,
    unsupported: &Unsupported,
    scratch: &Path,
    fail_fast: bool,
) -> Vec<Outcome> {
    let mut refusal_checked = vec![false; unsupported.globs().len()];
    let mut outcomes = Vec::with_capacity(cases.len());
    for case in cases {
        let outcome = if unsupported.matches(&case.id) {
            let mut first_of_glob = false;
            for (glob, checked) in unsupported.globs().iter().zip(&mut refusal_checked) {
                if !*checked && glob_match(glob, &case.id) {
                    *checked = true;
                    first_of_glob = true;
                }
            }
            match subject {
                Subject::Command(template) if first_of_glob => {
                    check_refusal(case, template, scratch)
                }
                _ => Outcome::unsupported(case),
            }
        } else {
            let observed = match subject {
                Subject::Reference => run_reference(case),
                Subject::Command(template) => run_command(case, template, scratch),
            };
            judge(case, observed)
        };
        let failed = outcome.status() == Status::Fail;
        outcomes.push(outcome);
        if failed && fail_fast {
            break;
        }
    }
    outcomes
}

/// The exit code of a refusal: the command contract's "usage error or unsupported input".
pub const REFUSAL_EXIT: i32 = 2;

/// Runs a case declared unsupported and requires a refusal: exit [`REFUSAL_EXIT`] with a
/// message on stderr, and no secret value printed.
fn check_refusal(case: &LogCase, template: &str, scratch: &Path) -> Outcome {
    let ran = command_line(case, template, scratch).and_then(|command| {
        let stdout = scratch.join(format!("{}.stdout", case.name));
        let stderr = scratch.join(format!("{}.stderr", case.name));
        let status = run_with_timeout(&command, &stdout, &stderr, CASE_TIMEOUT)?;
        let out = read_report(&stdout, MAX_REPORT)?;
        let err = read_report(&stderr, MAX_REPORT)?;
        Ok((status, out, err))
    });
    let (status, stdout, stderr) = match ran {
        Ok(ran) => ran,
        Err(error) => return Outcome::not_refused(case, error.to_string()),
    };
    let leaked = leaks(case, &stdout, &stderr);
    let says_why = !String::from_utf8_lossy(&stderr).trim().is_empty();
    if status.code() == Some(REFUSAL_EXIT) && says_why && leaked.is_empty() {
        return Outcome::unsupported(case);
    }
    let exit = status
        .code()
        .map_or_else(|| status.to_string(), |c| c.to_string());
    let mut why = format!(
        "declared unsupported but not refused: exit {exit}{}, expected {REFUSAL_EXIT} with a message on stderr",
        if says_why { "" } else { ", nothing on stderr" }
    );
    if !leaked.is_empty() {
        why.push_str(&format!(
            "; printed the value of a secret [{}]",
            leaked.join(", ")
        ));
    }
    Outcome::not_refused(case, why)
}

/// `STREAM: NAME` for each of the case's secrets whose value (in any encoding the
/// validator's scanner finds) the command printed on stdout or stderr, sorted.
fn leaks(case: &LogCase, stdout: &[u8], stderr: &[u8]) -> Vec<String> {
    let secrets = case.options.secrets.iter();
    let Ok(redactor) =
        crate::secrets::redactor(secrets.map(|(name, value)| (name.as_str(), value.as_str())))
    else {
        // A value shorter than the scanner accepts cannot be searched for; the reference
        // refuses such a case too, so it never passes.
        return Vec::new();
    };
    let mut out = Vec::new();
    for (stream, bytes) in [("stdout", stdout), ("stderr", stderr)] {
        // The bytes as written: a lossy reading would break a UTF-16 form of a value.
        for name in crate::secrets::leaked(&redactor, bytes) {
            out.push(format!("{stream}: {name}"));
        }
    }
    out
}

/// Runs a case with the reference validator, in process.
fn run_reference(case: &LogCase) -> Result<Observed, CaseError> {
    let validator = Validator::new(case.options.to_validate_options())?;
    let label = format!("{}.jsonl", case.name);
    let report = validator.validate_reader(&label, case.log.as_slice());
    Ok(Observed::from_report(&report))
}

/// Reads agentlog's JSON report format into what the harness compares (the lines and
/// findings of every file, summed).
fn parse_json_report(stdout: &[u8]) -> Result<Observed, ReportError> {
    let report: Value = serde_json::from_slice(stdout).map_err(ReportError::NotJson)?;
    let files = report
        .get("files")
        .and_then(Value::as_array)
        .ok_or(ReportError::NoFiles)?;
    let mut observed = Observed::default();
    for file in files {
        let lines = file["lines"].as_u64().ok_or(ReportError::NoLines)?;
        observed.lines = observed
            .lines
            .checked_add(lines)
            .ok_or(ReportError::LinesOverflow)?;
        let findings = file["findings"].as_array().ok_or(ReportError::NoFindings)?;
        for finding in findings {
            observed.findings.push(finding_row(finding)?);
            observed
                .pointers
                .push(finding["pointer"].as_str().map(str::to_owned));
        }
    }
    Ok(observed)
}

fn finding_row(finding: &Value) -> Result<Verdict, ReportError> {
    let line = finding["line"].as_u64();
    let rule = finding["rule"].as_str();
    let severity = finding["severity"].as_str();
    match (line, rule, severity) {
        (Some(line), Some(rule), Some(severity)) => {
            Ok((line, rule.to_owned(), severity.to_owned()))
        }
        // The finding itself is not echoed: a port's message may quote a secret.
        _ => Err(ReportError::BadFinding),
    }
}

/// Quotes `text` for `sh`.
pub(crate) fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The log's path for a command: its own file, or a copy in `scratch` for an embedded case.
fn log_path(case: &LogCase, scratch: &Path) -> Result<PathBuf, CaseError> {
    if let Some(path) = &case.log_path {
        return Ok(path.clone());
    }
    let path = scratch.join(format!("{}.jsonl", case.name));
    write(&path, &case.log)?;
    Ok(path)
}

/// Writes `bytes` to `path`, a file of the scratch directory.
fn write(path: &Path, bytes: &[u8]) -> Result<(), CaseError> {
    std::fs::write(path, bytes).map_err(|source| CaseError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// The command line for one case: `template` with `{log}`, `{options}` and `{flags}`
/// substituted (shell-quoted); writes the options file (and the log of an embedded case)
/// into `scratch`.
fn command_line(case: &LogCase, template: &str, scratch: &Path) -> Result<String, CaseError> {
    let options_path = scratch.join(format!("{}.options.json", case.name));
    let options = serde_json::to_vec(&case.options.to_json()).map_err(CaseError::EncodeOptions)?;
    write(&options_path, &options)?;
    let log = log_path(case, scratch)?;
    let flags: Vec<String> = case
        .options
        .to_cli_flags()
        .iter()
        .map(|f| shell_quote(f))
        .collect();
    Ok(substitute(
        template,
        &[
            ("{log}", shell_quote(&log.to_string_lossy())),
            ("{options}", shell_quote(&options_path.to_string_lossy())),
            ("{flags}", flags.join(" ")),
        ],
    ))
}

/// The placeholders a validator template may use.
pub const PLACEHOLDERS: [&str; 3] = ["{log}", "{options}", "{flags}"];

/// Checks a template before anything runs: `Err` names the first `{name}` (lowercase letters
/// and `_`) that is not one of [`PLACEHOLDERS`], a typo that would otherwise reach the port
/// as literal text. Other braces (a shell's `${HOME}`) are left alone.
pub fn check_template(template: &str) -> Result<(), TemplateError> {
    match unknown_placeholder(template, &PLACEHOLDERS) {
        Some(token) => Err(TemplateError::UnknownPlaceholder { token }),
        None => Ok(()),
    }
}

/// The first `{name}` (lowercase letters and `_`, not after a `$`) of `template` that is not
/// one of `known`, braces included.
pub(crate) fn unknown_placeholder(template: &str, known: &[&str]) -> Option<String> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let slot = &rest[open..];
        let name_len = slot[1..]
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(slot.len() - 1);
        let token = &slot[..(name_len + 2).min(slot.len())];
        let is_slot = name_len > 0 && token.ends_with('}') && !rest[..open].ends_with('$');
        if is_slot && !known.contains(&token) {
            return Some(token.to_owned());
        }
        rest = &slot[1..];
    }
    None
}

/// `template` with each `{name}` of `values` replaced, in one pass: a value is never
/// scanned again, so a path holding `{options}` cannot bring a second substitution (and
/// its unquoted text) into the command line.
pub(crate) fn substitute(template: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let slot = &rest[open..];
        match values.iter().find(|(name, _)| slot.starts_with(name)) {
            Some((name, value)) => {
                out.push_str(value);
                rest = &slot[name.len()..];
            }
            None => {
                out.push('{');
                rest = &slot[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Longest a port may take on one case.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(60);

/// Largest report read from a port's stdout, in bytes.
pub const MAX_REPORT: u64 = 64 << 20;

/// Runs a case with another implementation through `template` (see the parent module's
/// documentation) and reads its report.
fn run_command(case: &LogCase, template: &str, scratch: &Path) -> Result<Observed, CaseError> {
    let command = command_line(case, template, scratch)?;
    let stdout_path = scratch.join(format!("{}.stdout", case.name));
    let stderr_path = scratch.join(format!("{}.stderr", case.name));
    let status = run_with_timeout(&command, &stdout_path, &stderr_path, CASE_TIMEOUT)?;
    let stdout = read_report(&stdout_path, MAX_REPORT)?;
    let observed = parse_json_report(&stdout).map_err(|source| {
        let stderr = crate::capped::read(&stderr_path, 64 << 10)
            .map(|(bytes, _)| bytes)
            .unwrap_or_default();
        let stderr = String::from_utf8_lossy(&stderr);
        CaseError::BadReport {
            source,
            exit: status
                .code()
                .map_or_else(|| status.to_string(), |c| c.to_string()),
            // Judged whole (a value split across lines is withheld), then cut to a line.
            stderr: printable(redact(case, &stderr).lines().next().unwrap_or(""), 300),
        }
    })?;
    let stderr = read_report(&stderr_path, MAX_REPORT)?;
    Ok(Observed {
        exit: Some(ExitCode(status.code())),
        leaked: leaks(case, &stdout, &stderr),
        ..observed
    })
}

/// Runs `command` under `sh -c` in its own process group, output to the two files; kills
/// the group when it runs past `timeout`.
pub(crate) fn run_with_timeout(
    command: &str,
    stdout: &Path,
    stderr: &Path,
    timeout: Duration,
) -> Result<ExitStatus, CaseError> {
    let create = |path: &Path| {
        File::create(path).map_err(|source| CaseError::Create {
            path: path.to_path_buf(),
            source,
        })
    };
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(create(stdout)?)
        .stderr(create(stderr)?)
        .process_group(0)
        .spawn()
        .map_err(CaseError::Spawn)?;
    let group = Pid::from_child(&child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    match rx.recv_timeout(timeout) {
        Ok(status) => {
            // Whatever the shell left running in its group goes too.
            let _ = kill_process_group(group, Signal::KILL);
            status.map_err(CaseError::Wait)
        }
        Err(_) => {
            let _ = kill_process_group(group, Signal::KILL);
            Err(CaseError::Timeout(timeout))
        }
    }
}

/// The report a command printed to `path`: at most `max` bytes; more is an error.
pub(crate) fn read_report(path: &Path, max: u64) -> Result<Vec<u8>, CaseError> {
    match crate::capped::read(path, max) {
        Ok((_, true)) => Err(CaseError::TooLong(max)),
        Ok((bytes, false)) => Ok(bytes),
        Err(source) => Err(CaseError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// `text` cut to `max` characters, with control characters (a terminal's escape codes)
/// shown as `?`.
pub(crate) fn printable(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// `text` with the case's secret values shown as `<secret NAME>` ([`crate::secrets`]); not
/// shown at all when the case's secrets cannot be searched for.
fn redact(case: &LogCase, text: &str) -> String {
    let secrets = case.options.secrets.iter();
    match crate::secrets::redactor(secrets.map(|(name, value)| (name.as_str(), value.as_str()))) {
        Ok(redactor) => crate::secrets::redact(&redactor, text),
        Err(_) => "(not shown: the case's secrets cannot be searched for)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_is_shown_cut_and_without_escape_codes() {
        assert_eq!(printable("a\u{1b}[2Jb", 10), "a?[2Jb");
        assert_eq!(printable(&"x".repeat(500), 300).len(), 300);
    }

    #[test]
    fn a_hanging_command_is_killed_at_its_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let (out, err) = (dir.path().join("out"), dir.path().join("err"));
        let started = std::time::Instant::now();
        let result = run_with_timeout("sleep 30", &out, &err, Duration::from_millis(200));
        assert!(
            result
                .unwrap_err()
                .to_string()
                .contains("did not finish within 0.2s")
        );
        assert!(started.elapsed() < Duration::from_secs(10));
        let status = run_with_timeout("echo ok", &out, &err, Duration::from_secs(10)).unwrap();
        assert!(status.success());
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "ok\n");
    }

    #[test]
    fn a_runaway_report_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        std::fs::write(&path, vec![b'x'; 11]).unwrap();
        assert!(
            read_report(&path, 10)
                .unwrap_err()
                .to_string()
                .contains("more than 10 bytes")
        );
        assert_eq!(read_report(&path, 11).unwrap().len(), 11);
    }

    #[test]
    fn a_typo_in_a_placeholder_is_refused() {
        assert!(check_template("port --format json {flags} {log} ${HOME} {").is_ok());
        assert!(check_template("port {options} {log}").is_ok());
        let error = check_template("port {flag} {log}").unwrap_err().to_string();
        assert!(error.contains("unknown placeholder {flag}"), "{error}");
    }

    #[test]
    fn a_value_is_never_substituted_again() {
        let values = [
            ("{log}", "'/tmp/$(touch x){options}.jsonl'".to_owned()),
            ("{options}", "'/tmp/o.json'".to_owned()),
        ];
        assert_eq!(
            substitute("cat {log} {options} ${HOME} {other}", &values),
            "cat '/tmp/$(touch x){options}.jsonl' '/tmp/o.json' ${HOME} {other}"
        );
    }

    #[test]
    fn line_counts_that_overflow_are_an_error() {
        let report = br#"{"files":[{"lines":18446744073709551615,"findings":[]},{"lines":1,"findings":[]}]}"#;
        assert!(
            parse_json_report(report)
                .unwrap_err()
                .to_string()
                .contains("2^64")
        );
    }

    #[test]
    fn reports_keep_duplicate_findings() {
        let report = br#"{"files":[{"lines":2,"findings":[
            {"line":1,"rule":"secret.value","severity":"error","message":"m"},
            {"line":1,"rule":"secret.value","severity":"error"}]}]}"#;
        let observed = parse_json_report(report).unwrap();
        assert_eq!(observed.lines, 2);
        assert_eq!(observed.findings.len(), 2, "{observed:?}");
    }

    #[test]
    fn malformed_reports_are_errors_not_panics() {
        for bad in [
            &b"nonsense"[..],
            br#"{"files":{}}"#,
            br#"{"files":[{"findings":[]}]}"#,
            br#"{"files":[{"lines":1}]}"#,
            br#"{"files":[{"lines":1,"findings":[{"line":"1","rule":"r","severity":"error"}]}]}"#,
        ] {
            assert!(
                parse_json_report(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn a_port_quoting_a_secret_on_stderr_is_redacted() {
        let mut case = super::super::case::load_embedded()
            .unwrap()
            .into_iter()
            .find(|c| !c.options.secrets.is_empty())
            .expect("a case with secrets");
        case.options
            .secrets
            .insert("T".into(), "hunter2-value".into());
        let scratch = tempfile::tempdir().unwrap();
        let error = run_command(
            &case,
            "echo hunter2-value >&2; echo nonsense",
            scratch.path(),
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("stdout is not a JSON report"), "{error}");
        assert!(
            error.contains("<secret T>") && !error.contains("hunter2"),
            "{error}"
        );
    }

    #[test]
    fn shell_quoting_survives_quotes() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
