//! Running a case: with the reference validator in process, or with another implementation
//! through a command template.
//!
//! The command contract (what a port implements): the template is run once per case under
//! `sh -c` with `{log}` replaced by the path of the case's log, `{options}` by the path of a
//! JSON file holding the case's `options` object, and `{flags}` by the same options as
//! `agentlog validate` flags; every substitution is shell-quoted. The command prints
//! agentlog's JSON report (`agentlog validate --format json`) on stdout; of it only
//! `files[].lines` and `files[].findings[].{line,rule,severity}` are read. Its exit code is
//! ignored (a conforming validator exits 1 on findings). A case gets [`CASE_TIMEOUT`] (then
//! the command's process group is killed and the case fails) and a report of at most
//! [`MAX_REPORT`] bytes: a hanging or runaway port fails its case, it never stalls the run.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process_group};

use agentlog_validate::Validator;
use serde_json::Value;

use super::case::LogCase;
use super::judge::{Observed, Outcome, Verdict, judge};
use crate::select::Unsupported;

/// The implementation under test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// agentlog-validate, in process.
    Reference,
    /// Another implementation, through a command template (see the module documentation).
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
    cases
        .iter()
        .map(|case| {
            if unsupported.matches(&case.id) {
                return Outcome::unsupported(case);
            }
            let observed = match subject {
                Subject::Reference => run_reference(case),
                Subject::Command(template) => run_command(case, template, scratch),
            };
            judge(case, observed)
        })
        .collect()
}

/// Runs a case with the reference validator, in process.
pub fn run_reference(case: &LogCase) -> Result<Observed, String> {
    let validator =
        Validator::new(case.options.to_validate_options()).map_err(|e| e.to_string())?;
    let label = format!("{}.jsonl", case.name);
    let report = validator.validate_reader(&label, case.log.as_slice());
    Ok(Observed::from_report(&report))
}

/// Reads agentlog's JSON report format into what the harness compares (the lines and
/// findings of every file, summed).
pub fn parse_json_report(stdout: &[u8]) -> Result<Observed, String> {
    let report: Value =
        serde_json::from_slice(stdout).map_err(|e| format!("stdout is not a JSON report: {e}"))?;
    let files = report
        .get("files")
        .and_then(Value::as_array)
        .ok_or("report has no `files` array")?;
    let mut observed = Observed::default();
    for file in files {
        let lines = file["lines"]
            .as_u64()
            .ok_or("a file has no `lines` count")?;
        observed.lines = observed
            .lines
            .checked_add(lines)
            .ok_or("the files' `lines` counts add up past 2^64")?;
        let findings = file["findings"]
            .as_array()
            .ok_or("a file has no `findings`")?;
        for finding in findings {
            observed.findings.push(finding_row(finding)?);
        }
    }
    Ok(observed)
}

fn finding_row(finding: &Value) -> Result<Verdict, String> {
    let line = finding["line"].as_u64();
    let rule = finding["rule"].as_str();
    let severity = finding["severity"].as_str();
    match (line, rule, severity) {
        (Some(line), Some(rule), Some(severity)) => {
            Ok((line, rule.to_owned(), severity.to_owned()))
        }
        // The finding itself is not echoed: a port's message may quote a secret.
        _ => Err("a finding without a numeric `line` and string `rule` and `severity`".into()),
    }
}

/// Quotes `text` for `sh`.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The log's path for a command: its own file, or a copy in `scratch` for an embedded case.
fn log_path(case: &LogCase, scratch: &Path) -> Result<PathBuf, String> {
    if let Some(path) = &case.log_path {
        return Ok(path.clone());
    }
    let path = scratch.join(format!("{}.jsonl", case.name));
    std::fs::write(&path, &case.log).map_err(|e| format!("write {}: {e}", path.display()))?;
    Ok(path)
}

/// The command line for one case: `template` with `{log}`, `{options}` and `{flags}`
/// substituted (shell-quoted); writes the options file (and the log of an embedded case)
/// into `scratch`.
pub fn command_line(case: &LogCase, template: &str, scratch: &Path) -> Result<String, String> {
    let options_path = scratch.join(format!("{}.options.json", case.name));
    let options = serde_json::to_vec(&case.options.to_json()).map_err(|e| e.to_string())?;
    std::fs::write(&options_path, options)
        .map_err(|e| format!("write {}: {e}", options_path.display()))?;
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
pub fn check_template(template: &str) -> Result<(), String> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let slot = &rest[open..];
        let name_len = slot[1..]
            .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
            .unwrap_or(slot.len() - 1);
        let token = &slot[..(name_len + 2).min(slot.len())];
        let is_slot = name_len > 0 && token.ends_with('}') && !rest[..open].ends_with('$');
        if is_slot && !PLACEHOLDERS.contains(&token) {
            return Err(format!(
                "unknown placeholder {token} in --cmd; known: {}",
                PLACEHOLDERS.join(", ")
            ));
        }
        rest = &slot[1..];
    }
    Ok(())
}

/// `template` with each `{name}` of `values` replaced, in one pass: a value is never
/// scanned again, so a path holding `{options}` cannot bring a second substitution (and
/// its unquoted text) into the command line.
fn substitute(template: &str, values: &[(&str, String)]) -> String {
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

/// Runs a case with another implementation through `template` (see the module
/// documentation) and reads its report.
pub fn run_command(case: &LogCase, template: &str, scratch: &Path) -> Result<Observed, String> {
    let command = command_line(case, template, scratch)?;
    let stdout_path = scratch.join(format!("{}.stdout", case.name));
    let stderr_path = scratch.join(format!("{}.stderr", case.name));
    let status = run_with_timeout(&command, &stdout_path, &stderr_path, CASE_TIMEOUT)?;
    let stdout = read_report(&stdout_path, MAX_REPORT)?;
    parse_json_report(&stdout).map_err(|e| {
        let stderr = crate::capped::read(&stderr_path, 64 << 10)
            .map(|(bytes, _)| bytes)
            .unwrap_or_default();
        let stderr = String::from_utf8_lossy(&stderr);
        let first = printable(&redact(case, stderr.lines().next().unwrap_or("")), 300);
        let status = status
            .code()
            .map_or_else(|| status.to_string(), |c| c.to_string());
        format!("{e} (exit {status}; stderr: {first})")
    })
}

/// Runs `command` under `sh -c` in its own process group, output to the two files; kills
/// the group when it runs past `timeout`.
fn run_with_timeout(
    command: &str,
    stdout: &Path,
    stderr: &Path,
    timeout: Duration,
) -> Result<ExitStatus, String> {
    let create = |p: &Path| File::create(p).map_err(|e| format!("create {}: {e}", p.display()));
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(create(stdout)?)
        .stderr(create(stderr)?)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("run `sh -c`: {e}"))?;
    let group = Pid::from_child(&child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    match rx.recv_timeout(timeout) {
        Ok(status) => {
            // Whatever the shell left running in its group goes too.
            let _ = kill_process_group(group, Signal::KILL);
            status.map_err(|e| format!("wait for `sh -c`: {e}"))
        }
        Err(_) => {
            let _ = kill_process_group(group, Signal::KILL);
            Err(format!(
                "the command did not finish within {}s (killed)",
                timeout.as_secs_f64()
            ))
        }
    }
}

/// The report a command printed to `path`: at most `max` bytes; more is an error.
fn read_report(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    match crate::capped::read(path, max) {
        Ok((_, true)) => Err(format!("the command printed more than {max} bytes")),
        Ok((bytes, false)) => Ok(bytes),
        Err(e) => Err(format!("read {}: {e}", path.display())),
    }
}

/// `text` cut to `max` characters, with control characters (a terminal's escape codes)
/// shown as `?`.
fn printable(text: &str, max: usize) -> String {
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
        assert!(result.unwrap_err().contains("did not finish within 0.2s"));
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
                .contains("more than 10 bytes")
        );
        assert_eq!(read_report(&path, 11).unwrap().len(), 11);
    }

    #[test]
    fn a_typo_in_a_placeholder_is_refused() {
        assert!(check_template("port --format json {flags} {log} ${HOME} {").is_ok());
        assert!(check_template("port {options} {log}").is_ok());
        let error = check_template("port {flag} {log}").unwrap_err();
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
        assert!(parse_json_report(report).unwrap_err().contains("2^64"));
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
        .unwrap_err();
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
