//! Judging one seal case: the verifier's exit code and findings against the case's verdict.
//!
//! The exit code must be the verdict's (0 passed, 1 failed). The findings compare as a
//! **set** of `(rule, file, line, seal_line)`: order and duplicates do not matter, messages
//! are free text, but every expected finding (notes included) must be there with its lines,
//! and no other. `file` is compared for a ledger case only.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use super::case::SealCase;
use super::run::CaseError;

/// One finding: its rule, the file it is on (a ledger case: relative to the directory, with
/// `/`), the log's line and the seal file's line it names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Finding {
    /// `seal.line_changed`, ...
    pub rule: String,
    /// The file, for a ledger case.
    pub file: Option<String>,
    /// The log's line (1-based).
    pub line: Option<u64>,
    /// The seal file's line (1-based).
    pub seal_line: Option<u64>,
}

impl Finding {
    /// Reads a finding of a verdict or of a verifier's output: `rule` a string, `line` and
    /// `seal_line` a number, `null` or absent, and with `with_file` `file` a string. `None`
    /// when it is not in that shape.
    pub fn from_json(value: &Value, with_file: bool) -> Option<Finding> {
        let number = |member: &str| match value.get(member) {
            None | Some(Value::Null) => Some(None),
            Some(n) => n.as_u64().map(Some),
        };
        Some(Finding {
            rule: value.get("rule")?.as_str()?.to_owned(),
            file: if with_file {
                Some(value.get("file")?.as_str()?.to_owned())
            } else {
                None
            },
            line: number("line")?,
            seal_line: number("seal_line")?,
        })
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rule)?;
        if let Some(file) = &self.file {
            write!(f, " on {file}")?;
        }
        if let Some(line) = self.line {
            write!(f, " at line {line}")?;
        }
        if let Some(seal_line) = self.seal_line {
            write!(f, " at seal line {seal_line}")?;
        }
        Ok(())
    }
}

/// What a verifier gave for one case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observed {
    /// Its exit code (`None`: killed by a signal).
    pub exit: Option<i32>,
    /// Its findings.
    pub findings: BTreeSet<Finding>,
}

pub use crate::report::Status;

/// The verdict on one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The case's id.
    pub id: String,
    /// Declared unsupported (not run).
    pub unsupported: bool,
    /// The exit code expected and the one given, when they differ.
    pub exit_mismatch: Option<(i32, Option<i32>)>,
    /// Expected findings the verifier did not report.
    pub missing: Vec<Finding>,
    /// Findings it reported that the case does not expect.
    pub unexpected: Vec<Finding>,
    /// Why the case could not be run or its output read.
    pub error: Option<String>,
}

impl Outcome {
    /// A case declared unsupported.
    pub fn unsupported(case: &SealCase) -> Self {
        Outcome {
            unsupported: true,
            ..Outcome::blank(case)
        }
    }

    fn blank(case: &SealCase) -> Self {
        Outcome {
            id: case.id.clone(),
            unsupported: false,
            exit_mismatch: None,
            missing: Vec::new(),
            unexpected: Vec::new(),
            error: None,
        }
    }

    /// Pass, fail or unsupported.
    pub fn status(&self) -> Status {
        if self.unsupported {
            Status::Unsupported
        } else if self.exit_mismatch.is_some()
            || self.error.is_some()
            || !self.missing.is_empty()
            || !self.unexpected.is_empty()
        {
            Status::Fail
        } else {
            Status::Pass
        }
    }

    /// The differences of a failed case, `; `-separated (empty for another).
    pub fn differences(&self) -> String {
        let mut parts = Vec::new();
        if let Some(error) = &self.error {
            parts.push(error.clone());
        }
        if let Some((expected, given)) = self.exit_mismatch {
            let given =
                given.map_or_else(|| "none (killed by a signal)".to_owned(), |c| c.to_string());
            let meaning = if expected == 0 { "verified" } else { "failed" };
            parts.push(format!("exit {given}, expected {expected} ({meaning})"));
        }
        parts.extend(self.missing.iter().map(|f| format!("missing {f}")));
        parts.extend(self.unexpected.iter().map(|f| format!("unexpected {f}")));
        parts.join("; ")
    }
}

impl fmt::Display for Outcome {
    /// `PASS id`, `UNSUPPORTED id`, or `FAIL id: differences`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::report::fmt_line(self, f)
    }
}

/// Judges what a verifier gave for `case` (or why it could not be run).
pub fn judge(case: &SealCase, observed: Result<Observed, CaseError>) -> Outcome {
    let mut outcome = Outcome::blank(case);
    let observed = match observed {
        Ok(observed) => observed,
        Err(e) => {
            outcome.error = Some(e.to_string());
            return outcome;
        }
    };
    let expected = i32::from(!case.passed);
    if observed.exit != Some(expected) {
        outcome.exit_mismatch = Some((expected, observed.exit));
    }
    outcome.missing = case
        .findings
        .difference(&observed.findings)
        .cloned()
        .collect();
    outcome.unexpected = observed
        .findings
        .difference(&case.findings)
        .cloned()
        .collect();
    outcome
}
