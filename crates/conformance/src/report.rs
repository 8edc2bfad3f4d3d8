//! What the validator and seal harnesses share in writing a run's outcomes: a case's
//! [`Status`], the [`CaseOutcome`] each harness's outcome is, the [`Summary`] counts, and
//! [`write()`] in a text table, JSON, or JUnit XML.
//!
//! All three formats carry the same verdicts: one entry per case with its id and status
//! (`pass`, `fail`, `unsupported`), the differences of a failed case, and the summary `N of
//! M cases passed (K unsupported) (SUBJECT)`. What each harness writes of a case in JSON is
//! its own ([`CaseOutcome::to_json`]).

use std::fmt;
use std::io::{self, Write};

use serde_json::{Value, json};

use crate::{HarnessFormat, junit};

/// How a case ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The subject gave exactly the expected verdict.
    Pass,
    /// It gave something else, or could not be run or read.
    Fail,
    /// The port declared the case unsupported: it was not run, and it is not a pass.
    Unsupported,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Unsupported => "UNSUPPORTED",
        })
    }
}

/// The outcome of one case of a harness, as [`write()`] and [`Summary`] read it.
pub trait CaseOutcome {
    /// The harness's name in `agentlog conformance NAME` (`validate`, `seal`).
    const SUITE: &'static str;
    /// The case's id.
    fn id(&self) -> &str;
    /// How the case ended.
    fn status(&self) -> Status;
    /// The differences of a failed case in one line (empty for another).
    fn differences(&self) -> String;
    /// The case's entry in the JSON report.
    fn to_json(&self) -> Value;
}

/// `PASS id`, `UNSUPPORTED id`, or `FAIL id: differences`: an outcome's text line.
pub(crate) fn fmt_line(outcome: &impl CaseOutcome, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let status = outcome.status();
    write!(f, "{status} {}", outcome.id())?;
    if status == Status::Fail {
        write!(f, ": {}", outcome.differences())?;
    }
    Ok(())
}

/// Counts of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Every case, run or not.
    pub total: usize,
    /// Passed.
    pub passed: usize,
    /// Failed.
    pub failed: usize,
    /// Declared unsupported (not run).
    pub unsupported: usize,
}

impl Summary {
    /// The counts of `outcomes`.
    pub fn of<O: CaseOutcome>(outcomes: &[O]) -> Self {
        let count = |status| outcomes.iter().filter(|o| o.status() == status).count();
        Summary {
            total: outcomes.len(),
            passed: count(Status::Pass),
            failed: count(Status::Fail),
            unsupported: count(Status::Unsupported),
        }
    }

    /// `N of M cases passed (K unsupported) (SUBJECT)`.
    pub fn line(&self, subject: &str) -> String {
        format!(
            "{} of {} cases passed ({} unsupported) ({subject})",
            self.passed, self.total, self.unsupported
        )
    }
}

/// Writes the outcomes in `format`; `quiet` (text only) leaves out passed and unsupported
/// cases.
pub fn write<O: CaseOutcome + fmt::Display>(
    format: HarnessFormat,
    outcomes: &[O],
    subject: &str,
    quiet: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        HarnessFormat::Text => {
            for outcome in outcomes {
                if !quiet || outcome.status() == Status::Fail {
                    writeln!(out, "{outcome}")?;
                }
            }
            writeln!(out, "{}", Summary::of(outcomes).line(subject))
        }
        HarnessFormat::Json => write_json(outcomes, subject, out),
        HarnessFormat::Junit => write_junit(outcomes, subject, out),
    }
}

fn write_json<O: CaseOutcome>(
    outcomes: &[O],
    subject: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    let cases: Vec<_> = outcomes.iter().map(CaseOutcome::to_json).collect();
    let summary = Summary::of(outcomes);
    let document = json!({
        "subject": subject,
        "summary": summary,
        "summary_line": summary.line(subject),
        "cases": cases,
    });
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

fn write_junit<O: CaseOutcome>(
    outcomes: &[O],
    subject: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    let differences: Vec<Vec<String>> = outcomes.iter().map(|o| vec![o.differences()]).collect();
    let cases = outcomes
        .iter()
        .zip(&differences)
        .map(|(outcome, differences)| junit::Case {
            id: outcome.id(),
            result: match outcome.status() {
                Status::Pass => junit::CaseResult::Pass,
                Status::Unsupported => junit::CaseResult::Unsupported,
                Status::Fail => junit::CaseResult::Fail(differences),
            },
            time: None,
        });
    let suite = format!("agentlog conformance {}", O::SUITE);
    let classname = format!("agentlog.conformance.{}", O::SUITE);
    out.write_all(junit::render(&suite, &classname, subject, cases).as_bytes())
}
