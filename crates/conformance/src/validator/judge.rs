//! Judging one case: what an implementation reported against what the case expects.
//!
//! Findings compare as a **multiset** of `(line, rule, severity)`: order does not matter,
//! messages and pointers are free text, but a finding the case lists twice must be reported
//! twice, and one reported twice where the case lists it once is an unexpected extra. The
//! line count must be equal.

use std::collections::BTreeMap;
use std::fmt;

use agentlog_validate::FileReport;

use super::case::LogCase;
use super::run::CaseError;

/// One expected or reported finding: `(line, rule, severity)`.
pub type Verdict = (u64, String, String);

/// What an implementation reported for one case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observed {
    /// Lines it checked.
    pub lines: u64,
    /// Its findings, duplicates kept, in any order.
    pub findings: Vec<Verdict>,
}

impl Observed {
    /// What the reference validator reported in `report`.
    pub fn from_report(report: &FileReport) -> Self {
        Observed {
            lines: report.lines,
            findings: report
                .findings
                .iter()
                .map(|f| (f.line, f.rule.id().to_owned(), f.severity.to_string()))
                .collect(),
        }
    }
}

pub use crate::report::Status;

/// The outcome of one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Case id, `validate/NAME`.
    pub id: String,
    /// Declared unsupported (not run).
    pub unsupported: bool,
    /// Expected but not reported (as many times as it is missing).
    pub missing: Vec<Verdict>,
    /// Reported but not expected (as many times as it is extra).
    pub unexpected: Vec<Verdict>,
    /// `(expected, reported)` line counts when they differ.
    pub lines_mismatch: Option<(u64, u64)>,
    /// The implementation could not be run or its output not read: the [`CaseError`]'s
    /// message.
    pub error: Option<String>,
}

impl Outcome {
    /// A case declared unsupported.
    pub fn unsupported(case: &LogCase) -> Self {
        Outcome {
            unsupported: true,
            ..Outcome::empty(case)
        }
    }

    fn empty(case: &LogCase) -> Self {
        Outcome {
            id: case.id.clone(),
            unsupported: false,
            missing: Vec::new(),
            unexpected: Vec::new(),
            lines_mismatch: None,
            error: None,
        }
    }

    /// How the case ended.
    pub fn status(&self) -> Status {
        if self.unsupported {
            Status::Unsupported
        } else if self.missing.is_empty()
            && self.unexpected.is_empty()
            && self.lines_mismatch.is_none()
            && self.error.is_none()
        {
            Status::Pass
        } else {
            Status::Fail
        }
    }

    /// The differences in one line: `lines: expected 3, reported 2; missing [2:json.syntax:error]`,
    /// empty when the case passed or was not run.
    pub fn differences(&self) -> String {
        let mut parts = Vec::new();
        if let Some(error) = &self.error {
            parts.push(error.clone());
        }
        if let Some((want, got)) = self.lines_mismatch {
            parts.push(format!("lines: expected {want}, reported {got}"));
        }
        let list = |v: &[Verdict]| {
            v.iter()
                .map(|(line, rule, severity)| format!("{line}:{rule}:{severity}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !self.missing.is_empty() {
            parts.push(format!("missing [{}]", list(&self.missing)));
        }
        if !self.unexpected.is_empty() {
            parts.push(format!("unexpected [{}]", list(&self.unexpected)));
        }
        parts.join("; ")
    }
}

impl fmt::Display for Outcome {
    /// `PASS id`, `UNSUPPORTED id`, or `FAIL id: differences`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::report::fmt_line(self, f)
    }
}

/// How many times each finding occurs.
fn counts(findings: &[Verdict]) -> BTreeMap<&Verdict, usize> {
    let mut counts = BTreeMap::new();
    for finding in findings {
        *counts.entry(finding).or_insert(0) += 1;
    }
    counts
}

/// The findings of `a` not matched by one of `b`, with multiplicity, sorted.
fn multiset_difference(a: &[Verdict], b: &[Verdict]) -> Vec<Verdict> {
    let have = counts(b);
    let mut out = Vec::new();
    for (finding, n) in counts(a) {
        let extra = n.saturating_sub(have.get(finding).copied().unwrap_or(0));
        out.extend(std::iter::repeat_n(finding.clone(), extra));
    }
    out
}

/// Compares what an implementation reported with what the case expects (a multiset
/// comparison: order does not matter, duplicates count, messages and pointers are free
/// text). A [`CaseError`] fails the case with its message.
pub fn judge(case: &LogCase, observed: Result<Observed, CaseError>) -> Outcome {
    let mut outcome = Outcome::empty(case);
    match observed {
        Err(error) => outcome.error = Some(error.to_string()),
        Ok(observed) => {
            outcome.missing = multiset_difference(&case.findings, &observed.findings);
            outcome.unexpected = multiset_difference(&observed.findings, &case.findings);
            if observed.lines != case.lines {
                outcome.lines_mismatch = Some((case.lines, observed.lines));
            }
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(findings: &[Verdict]) -> LogCase {
        LogCase {
            id: "validate/t".into(),
            name: "t".into(),
            log: Vec::new(),
            log_path: None,
            description: "d".into(),
            options: Default::default(),
            lines: 2,
            findings: findings.to_vec(),
        }
    }

    fn v(line: u64, rule: &str) -> Verdict {
        (line, rule.to_owned(), "error".to_owned())
    }

    /// The README promises a multiset: a duplicate reported once too often, or once too
    /// rarely, fails the case. A set comparison passes both.
    #[test]
    fn duplicates_count() {
        let once = case(&[v(1, "secret.value")]);
        let twice = vec![v(1, "secret.value"), v(1, "secret.value")];
        let outcome = judge(
            &once,
            Ok(Observed {
                lines: 2,
                findings: twice.clone(),
            }),
        );
        assert_eq!(outcome.status(), Status::Fail);
        assert_eq!(outcome.unexpected, vec![v(1, "secret.value")]);
        assert!(outcome.missing.is_empty());

        let expected_twice = case(&twice);
        let outcome = judge(
            &expected_twice,
            Ok(Observed {
                lines: 2,
                findings: vec![v(1, "secret.value")],
            }),
        );
        assert_eq!(outcome.status(), Status::Fail);
        assert_eq!(outcome.missing, vec![v(1, "secret.value")]);
        assert_eq!(
            outcome.to_string(),
            "FAIL validate/t: missing [1:secret.value:error]"
        );
    }

    #[test]
    fn order_does_not_matter_and_lines_must_agree() {
        let expected = case(&[v(1, "a"), v(2, "b"), v(2, "b")]);
        let reported = vec![v(2, "b"), v(1, "a"), v(2, "b")];
        let pass = judge(
            &expected,
            Ok(Observed {
                lines: 2,
                findings: reported.clone(),
            }),
        );
        assert_eq!(pass.status(), Status::Pass, "{pass}");
        assert_eq!(pass.to_string(), "PASS validate/t");
        let fail = judge(
            &expected,
            Ok(Observed {
                lines: 3,
                findings: reported,
            }),
        );
        assert_eq!(fail.status(), Status::Fail);
        assert_eq!(fail.differences(), "lines: expected 2, reported 3");
    }

    #[test]
    fn an_error_fails_and_unsupported_is_not_a_pass() {
        let c = case(&[]);
        let failed = judge(&c, Err(CaseError::TooLong(10)));
        assert_eq!(failed.status(), Status::Fail);
        assert_eq!(
            failed.to_string(),
            "FAIL validate/t: the command printed more than 10 bytes"
        );
        let skipped = Outcome::unsupported(&c);
        assert_eq!(skipped.status(), Status::Unsupported);
        assert_eq!(skipped.to_string(), "UNSUPPORTED validate/t");
    }
}
