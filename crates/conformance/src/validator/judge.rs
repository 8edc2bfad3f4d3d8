//! Judging one case: what an implementation reported against what the case expects.
//!
//! Findings compare as a **multiset** of `(line, rule, severity)`: order does not matter,
//! messages are free text, but a finding the case lists twice must be reported twice, and one
//! reported twice where the case lists it once is an unexpected extra. The line count must be
//! equal. A pointer is compared where the case gives one. A port run as a command is also
//! held to the rest of its contract: its exit code (1 if and only if an error-level finding
//! is expected) and its silence about the case's secret values on stdout and stderr.

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
    /// The pointer of each finding, in the order of `findings` (`None`: none given).
    pub pointers: Vec<Option<String>>,
    /// Its exit code; `None` for the reference in process, or a command killed by a signal
    /// (which then cannot match any expected code).
    pub exit: Option<ExitCode>,
    /// `STREAM: NAME` for each of the case's secrets whose value it printed (in any encoding
    /// the validator finds), sorted.
    pub leaked: Vec<String>,
}

/// A command's exit code as the judge sees it: the code, or `None` when it ended without one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitCode(pub Option<i32>);

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
            pointers: report.findings.iter().map(|f| f.pointer.clone()).collect(),
            exit: None,
            leaked: Vec::new(),
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
    /// Expected findings reported without the pointer the case gives (as many times as it
    /// is missing), with that pointer.
    pub wrong_pointers: Vec<(Verdict, Option<String>)>,
    /// `(expected, reported)` exit codes of a command when they differ.
    pub exit_mismatch: Option<(i32, ExitCode)>,
    /// `STREAM: NAME` for each secret value the command printed.
    pub leaked: Vec<String>,
    /// The implementation could not be run or its output not read: the [`CaseError`]'s
    /// message. On a case declared unsupported: why its refusal did not count.
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
            wrong_pointers: Vec::new(),
            exit_mismatch: None,
            leaked: Vec::new(),
            error: None,
        }
    }

    /// A case declared unsupported that the command did not refuse: it fails with `why`.
    pub fn not_refused(case: &LogCase, why: String) -> Self {
        Outcome {
            unsupported: true,
            error: Some(why),
            ..Outcome::empty(case)
        }
    }

    /// How the case ended.
    pub fn status(&self) -> Status {
        if self.unsupported && self.error.is_none() {
            Status::Unsupported
        } else if self.missing.is_empty()
            && self.unexpected.is_empty()
            && self.lines_mismatch.is_none()
            && self.wrong_pointers.is_empty()
            && self.exit_mismatch.is_none()
            && self.leaked.is_empty()
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
        if !self.wrong_pointers.is_empty() {
            let rows: Vec<String> = self
                .wrong_pointers
                .iter()
                .map(|((line, rule, severity), pointer)| {
                    let pointer = pointer
                        .as_deref()
                        .map_or("(none)".into(), |p| format!("{p:?}"));
                    format!("{line}:{rule}:{severity} pointer {pointer}")
                })
                .collect();
            parts.push(format!("wrong pointer, expected [{}]", rows.join(", ")));
        }
        if let Some((want, ExitCode(got))) = self.exit_mismatch {
            let got = got.map_or_else(|| "none (killed)".to_owned(), |c| c.to_string());
            parts.push(format!("exit: expected {want}, got {got}"));
        }
        if !self.leaked.is_empty() {
            parts.push(format!(
                "printed the value of a secret [{}]",
                self.leaked.join(", ")
            ));
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

/// The expected `(finding, pointer)` pairs `observed` does not report, with multiplicity.
fn wrong_pointers(case: &LogCase, observed: &Observed) -> Vec<(Verdict, Option<String>)> {
    let reported: Vec<(Verdict, Option<String>)> = observed
        .findings
        .iter()
        .cloned()
        .zip(
            observed
                .pointers
                .iter()
                .cloned()
                .chain(std::iter::repeat(None)),
        )
        .collect();
    let mut have: BTreeMap<&(Verdict, Option<String>), usize> = BTreeMap::new();
    for pair in &reported {
        *have.entry(pair).or_insert(0) += 1;
    }
    let mut out = Vec::new();
    for pair in &case.pointers {
        match have.get_mut(pair) {
            Some(n) if *n > 0 => *n -= 1,
            // A finding not reported at all is already `missing`: only its pointer is news
            // when the finding itself was reported.
            _ if observed.findings.contains(&pair.0) => out.push(pair.clone()),
            _ => {}
        }
    }
    out
}

/// The exit code the command contract asks for: 1 if and only if the case expects an
/// error-level finding.
pub fn expected_exit(case: &LogCase) -> i32 {
    i32::from(
        case.findings
            .iter()
            .any(|(_, _, severity)| severity == "error"),
    )
}

/// Compares what an implementation reported with what the case expects (a multiset
/// comparison: order does not matter, duplicates count, messages are free text; pointers
/// where the case gives them; a command's exit code and its output's secrets). A
/// [`CaseError`] fails the case with its message.
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
            outcome.wrong_pointers = wrong_pointers(case, &observed);
            let want = expected_exit(case);
            if let Some(exit) = observed.exit
                && exit.0 != Some(want)
            {
                outcome.exit_mismatch = Some((want, exit));
            }
            outcome.leaked = observed.leaked;
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
            pointers: Vec::new(),
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
                ..Default::default()
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
                ..Default::default()
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
                ..Default::default()
            }),
        );
        assert_eq!(pass.status(), Status::Pass, "{pass}");
        assert_eq!(pass.to_string(), "PASS validate/t");
        let fail = judge(
            &expected,
            Ok(Observed {
                lines: 3,
                findings: reported,
                ..Default::default()
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

    /// A wrong pointer, a wrong exit code and a printed secret each fail a case whose
    /// findings are right; a pointer the case does not give is not compared.
    #[test]
    fn pointers_exit_codes_and_leaks_are_judged() {
        let mut expected = case(&[v(2, "data.type"), v(2, "line.blank")]);
        expected.pointers = vec![(v(2, "data.type"), Some("/data/routed".into()))];
        let right = Observed {
            lines: 2,
            findings: vec![v(2, "data.type"), v(2, "line.blank")],
            pointers: vec![Some("/data/routed".into()), Some("/whatever".into())],
            exit: Some(ExitCode(Some(1))),
            leaked: Vec::new(),
        };
        assert_eq!(judge(&expected, Ok(right.clone())).status(), Status::Pass);

        let wrong_pointer = Observed {
            pointers: vec![Some("/data".into()), None],
            ..right.clone()
        };
        let outcome = judge(&expected, Ok(wrong_pointer));
        assert_eq!(
            outcome.differences(),
            "wrong pointer, expected [2:data.type:error pointer \"/data/routed\"]"
        );

        let exit_zero = Observed {
            exit: Some(ExitCode(Some(0))),
            ..right.clone()
        };
        let outcome = judge(&expected, Ok(exit_zero));
        assert_eq!(outcome.differences(), "exit: expected 1, got 0");

        let warnings_only = case(&[(1, "ts.backwards".into(), "warning".into())]);
        let exit_one = Observed {
            lines: 2,
            findings: warnings_only.findings.clone(),
            exit: Some(ExitCode(Some(1))),
            ..Observed::default()
        };
        assert_eq!(expected_exit(&warnings_only), 0);
        assert_eq!(
            judge(&warnings_only, Ok(exit_one)).differences(),
            "exit: expected 0, got 1"
        );

        let leaking = Observed {
            leaked: vec!["stderr: API_TOKEN".into()],
            ..right
        };
        assert_eq!(
            judge(&expected, Ok(leaking)).differences(),
            "printed the value of a secret [stderr: API_TOKEN]"
        );
    }

    #[test]
    fn an_unsupported_case_that_was_not_refused_fails() {
        let c = case(&[]);
        let outcome = Outcome::not_refused(&c, "exit 0".into());
        assert_eq!(outcome.status(), Status::Fail);
        assert_eq!(outcome.to_string(), "FAIL validate/t: exit 0");
    }
}
