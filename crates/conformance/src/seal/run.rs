//! Running a seal case: with the reference verifier (agentlog-seal) in process, or with
//! another implementation through a command template, under the command contract of the
//! [parent module](super).
//!
//! A case that cannot be run, or whose output cannot be read, is not a harness error: it
//! fails, and its [`CaseError`] is the difference shown.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use agentlog_seal::{Expect, LedgerVerdict, PublicKey, Verdict};
use serde_json::Value;

use super::case::{SealCase, Target};
use super::judge::{Finding, Observed, Outcome, judge};
use crate::select::Unsupported;
use crate::validator::run::{
    printable, read_report, run_with_timeout, shell_quote, substitute, unknown_placeholder,
};
use agentlog_validate::secrets::detect::Detector;
use agentlog_validate::secrets::redact::Redactor;
use agentlog_validate::secrets::scan::SecretScanner;

/// Why a case could not be run, or its output not read: the case fails with this message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaseError {
    /// The reference verifier could not verify the case (a file it could not read).
    #[error("the reference verifier: {0}")]
    Reference(String),
    /// `sh -c` could not be started or waited for, or its output files not created.
    #[error("{0}")]
    Run(String),
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
    /// The command's stdout is not the JSON verdict of the contract.
    #[error("{what} (exit {exit}; stderr: {stderr})")]
    BadOutput {
        /// What is wrong with it (never quoting it).
        what: &'static str,
        /// The command's exit code, or how it ended without one.
        exit: String,
        /// Its first line of stderr, control characters shown as `?`, cut to 300
        /// characters.
        stderr: String,
    },
}

/// A command template that names a placeholder the seal harness does not have.
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

/// The placeholders a seal template may use.
pub const PLACEHOLDERS: [&str; 2] = ["{path}", "{flags}"];

/// Checks a template before anything runs: `Err` names the first `{name}` that is not one
/// of [`PLACEHOLDERS`]. Other braces (a shell's `${HOME}`) are left alone.
pub fn check_template(template: &str) -> Result<(), TemplateError> {
    match unknown_placeholder(template, &PLACEHOLDERS) {
        Some(token) => Err(TemplateError::UnknownPlaceholder { token }),
        None => Ok(()),
    }
}

/// Longest a verifier may take on one case.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(60);

/// Largest output read from a verifier's stdout, in bytes.
pub const MAX_OUTPUT: u64 = 16 << 20;

/// The verifier under test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// agentlog-seal's verify, in process.
    Reference,
    /// Another implementation, through a command template (the command contract of
    /// [`crate::seal`]).
    Command(String),
}

impl Subject {
    /// How a summary names it: `reference verify`, or the template.
    pub fn label(&self) -> &str {
        match self {
            Subject::Reference => "reference verify",
            Subject::Command(template) => template,
        }
    }
}

/// Runs every case against `subject` in order, skipping (as unsupported) those whose id
/// `unsupported` matches. `root` is where the case files were written
/// ([`super::write_files`]); the outputs of a command go to `scratch`.
pub fn run_all(
    cases: &[SealCase],
    subject: &Subject,
    unsupported: &Unsupported,
    root: &Path,
    scratch: &Path,
) -> Vec<Outcome> {
    cases
        .iter()
        .map(|case| {
            if unsupported.matches(&case.id) {
                return Outcome::unsupported(case);
            }
            let observed = match subject {
                Subject::Reference => run_reference(case, root),
                Subject::Command(template) => run_command(case, template, root, scratch),
            };
            judge(case, observed)
        })
        .collect()
}

/// Verifies a case with agentlog-seal, in process: exit 0 or 1 as `agentlog verify` would,
/// and its findings placed as the contract places them.
fn run_reference(case: &SealCase, root: &Path) -> Result<Observed, CaseError> {
    let reference = |e: &dyn std::fmt::Display| CaseError::Reference(e.to_string());
    let key = case
        .pubkey_path(root)
        .map(|path| PublicKey::read(&path))
        .transpose()
        .map_err(|e| reference(&e))?;
    let anchor = match &case.anchor {
        Some(hex) => {
            Some(agentlog_seal::digest_from_hex(hex).ok_or_else(|| reference(&"a bad --anchor"))?)
        }
        None => None,
    };
    let expect = Expect {
        key: key.as_ref(),
        anchor,
        allow_tail: case.allow_tail,
    };
    let path = case.path(root);
    let (passed, findings) = match case.target {
        Target::Log => {
            let verdict =
                agentlog_seal::verify_expecting(&path, &expect).map_err(|e| reference(&e))?;
            (verdict.passed(), log_findings(&verdict, None))
        }
        Target::Ledger => {
            let verdict =
                agentlog_seal::verify_ledger(&path, &expect).map_err(|e| reference(&e))?;
            (verdict.passed(), ledger_findings(&verdict, &path))
        }
    };
    Ok(Observed {
        exit: Some(i32::from(!passed)),
        findings,
    })
}

/// A log's findings; within a ledger (`dir`), each on its seal file when it names a seal
/// line, else on its log, relative to the directory.
fn log_findings(verdict: &Verdict, dir: Option<&Path>) -> BTreeSet<Finding> {
    verdict
        .findings
        .iter()
        .map(|f| Finding {
            rule: f.rule().to_owned(),
            file: dir.map(|dir| relative(verdict.file_of(f), dir)),
            line: f.line(),
            seal_line: f.seal_line(),
        })
        .collect()
}

/// A ledger's findings: each file's, then those across files.
fn ledger_findings(verdict: &LedgerVerdict, dir: &Path) -> BTreeSet<Finding> {
    let mut findings: BTreeSet<Finding> = verdict
        .verdicts
        .iter()
        .flat_map(|v| log_findings(v, Some(dir)))
        .collect();
    findings.extend(verdict.findings.iter().map(|f| {
        let (path, seal_line) = f.place();
        Finding {
            rule: f.rule().to_owned(),
            file: Some(relative(path, dir)),
            line: None,
            seal_line,
        }
    }));
    findings
}

/// `path` relative to `dir`, with `/`.
fn relative(path: &Path, dir: &Path) -> String {
    let path = path.strip_prefix(dir).unwrap_or(path);
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// Runs a case with another implementation through `template` and reads its verdict.
fn run_command(
    case: &SealCase,
    template: &str,
    root: &Path,
    scratch: &Path,
) -> Result<Observed, CaseError> {
    let path = case.path(root);
    let flags: Vec<String> = case.flags(root).iter().map(|f| shell_quote(f)).collect();
    let command = substitute(
        template,
        &[
            ("{path}", shell_quote(&path.to_string_lossy())),
            ("{flags}", flags.join(" ")),
        ],
    );
    let stem = case.id.replace('/', "__");
    let stdout_path = scratch.join(format!("{stem}.stdout"));
    let stderr_path = scratch.join(format!("{stem}.stderr"));
    let status = run_with_timeout(&command, &stdout_path, &stderr_path, CASE_TIMEOUT).map_err(
        |e| match e {
            crate::validator::CaseError::Timeout(limit) => CaseError::Timeout(limit),
            other => CaseError::Run(other.to_string()),
        },
    )?;
    let stdout = read_report(&stdout_path, MAX_OUTPUT).map_err(|e| match e {
        crate::validator::CaseError::TooLong(max) => CaseError::TooLong(max),
        other => CaseError::Run(other.to_string()),
    })?;
    let given = path.to_string_lossy();
    parse_output(&stdout, case.target, &given)
        .map_err(|what| {
            let stderr = crate::capped::read(&stderr_path, 64 << 10)
                .map(|(bytes, _)| bytes)
                .unwrap_or_default();
            CaseError::BadOutput {
                what,
                exit: status
                    .code()
                    .map_or_else(|| status.to_string(), |c| c.to_string()),
                stderr: printable(
                    String::from_utf8_lossy(&stderr)
                        .lines()
                        .next()
                        .unwrap_or(""),
                    300,
                ),
            }
        })
        .map(|findings| Observed {
            exit: status.code(),
            findings,
        })
}

/// `text`, a port's, as a report shows it: withheld when it shows a well-known key (the
/// seal cases hand a port no secret of their own).
fn shown(text: &str) -> String {
    static REDACTOR: std::sync::LazyLock<Redactor> = std::sync::LazyLock::new(|| {
        Redactor::new(SecretScanner::empty(), Some(Detector::new(Vec::new())))
    });
    REDACTOR.shown(text).into_owned()
}

/// The findings of a verifier's stdout: one JSON object with a `findings` array (the
/// contract). A ledger finding's `file` may be relative to the directory or a path under
/// the `given` one.
pub(crate) fn parse_output(
    stdout: &[u8],
    target: Target,
    given: &str,
) -> Result<BTreeSet<Finding>, &'static str> {
    let output: Value =
        serde_json::from_slice(stdout).map_err(|_| "stdout is not one JSON document")?;
    let findings = output
        .get("findings")
        .and_then(Value::as_array)
        .ok_or("stdout has no `findings` array")?;
    let prefix = format!("{}/", given.trim_end_matches('/'));
    findings
        .iter()
        .map(|f| {
            let mut finding = Finding::from_json(f, target == Target::Ledger).ok_or(
                "a finding without a string `rule`, numeric or null `line` and `seal_line` (and a ledger's `file`)",
            )?;
            if let Some(file) = &mut finding.file
                && let Some(rest) = file.strip_prefix(&prefix)
            {
                *file = rest.to_owned();
            }
            // What a port names is shown in the report: a value in it is withheld here, so
            // the report stays whole (the output gate would refuse a document showing one).
            finding.rule = shown(&finding.rule);
            finding.file = finding.file.as_deref().map(shown);
            Ok(finding)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, file: Option<&str>, line: Option<u64>) -> Finding {
        Finding {
            rule: rule.into(),
            file: file.map(str::to_owned),
            line,
            seal_line: None,
        }
    }

    #[test]
    fn a_ledger_file_may_be_relative_or_under_the_path_given() {
        let output = br#"{"passed": false, "findings": [
            {"rule": "seal.line_changed", "file": "/tmp/c/L/archive/a.jsonl.gz", "line": 1},
            {"rule": "seal.current_unsealed", "file": "events.jsonl", "line": null, "seal_line": null},
            {"rule": "seal.current_unsealed", "file": "events.jsonl", "message": "twice"}]}"#;
        let found = parse_output(output, Target::Ledger, "/tmp/c/L").unwrap();
        let expected: BTreeSet<_> = [
            finding("seal.line_changed", Some("archive/a.jsonl.gz"), Some(1)),
            finding("seal.current_unsealed", Some("events.jsonl"), None),
        ]
        .into();
        assert_eq!(found, expected);
        // A log case's `file` is not compared.
        let found = parse_output(output, Target::Log, "/tmp/c/l.jsonl").unwrap();
        assert!(found.iter().all(|f| f.file.is_none()), "{found:?}");
    }

    #[test]
    fn output_not_in_the_contract_s_shape_is_an_error() {
        for (bad, target) in [
            (&b"nonsense"[..], Target::Log),
            (br#"{"passed": true}"#, Target::Log),
            (br#"{"findings": {}}"#, Target::Log),
            (br#"{"findings": [{"line": 1}]}"#, Target::Log),
            (
                br#"{"findings": [{"rule": "r", "line": "1"}]}"#,
                Target::Log,
            ),
            (
                br#"{"findings": [{"rule": "r", "line": 1}]}"#,
                Target::Ledger,
            ),
        ] {
            assert!(
                parse_output(bad, target, "/x").is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn a_typo_in_a_placeholder_is_refused() {
        assert!(check_template("verify --format json {flags} {path} ${HOME}").is_ok());
        let error = check_template("verify {flags} {log}")
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown placeholder {log}"), "{error}");
    }
}
