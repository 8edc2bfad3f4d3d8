//! Running a case: with the reference validator in process, or with another implementation
//! through a command template.
//!
//! The command contract (what a port implements): the template is run once per case under
//! `sh -c` with `{log}` replaced by the path of the case's log, `{options}` by the path of a
//! JSON file holding the case's `options` object, and `{flags}` by the same options as
//! `agentlog validate` flags; every substitution is shell-quoted. The command prints
//! agentlog's JSON report (`agentlog validate --format json`) on stdout; of it only
//! `files[].lines` and `files[].findings[].{line,rule,severity}` are read. Its exit code is
//! ignored (a conforming validator exits 1 on findings).

use std::path::{Path, PathBuf};
use std::process::Command;

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
    let files = report["files"]
        .as_array()
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

/// Runs a case with another implementation through `template` (see the module
/// documentation) and reads its report.
pub fn run_command(case: &LogCase, template: &str, scratch: &Path) -> Result<Observed, String> {
    let command = command_line(case, template, scratch)?;
    let output = Command::new("sh")
        .arg("-c")
        .arg(&command)
        .output()
        .map_err(|e| format!("run `sh -c`: {e}"))?;
    parse_json_report(&output.stdout).map_err(|e| {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = redact(case, stderr.lines().next().unwrap_or(""));
        format!("{e} (exit {:?}; stderr: {first})", output.status.code())
    })
}

/// `text` with every secret value of the case replaced by `<secret NAME>`: a port's
/// diagnostics may quote the values it was given, and the harness never prints one.
fn redact(case: &LogCase, text: &str) -> String {
    let mut text = text.to_owned();
    for (name, value) in &case.options.secrets {
        if !value.is_empty() {
            text = text.replace(value.as_str(), &format!("<secret {name}>"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

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
