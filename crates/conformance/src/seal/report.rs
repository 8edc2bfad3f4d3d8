//! Writing a run's outcomes: a text table, JSON, or JUnit XML, as the validator harness
//! writes its own.
//!
//! All three carry the same verdicts: one entry per case with its id and status (`pass`,
//! `fail`, `unsupported`), the differences of a failed case, and the summary `N of M cases
//! passed (K unsupported) (SUBJECT)`.

use std::io::{self, Write};

use serde_json::json;

use super::judge::{Outcome, Status};
use crate::{HarnessFormat, junit};

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
    pub fn of(outcomes: &[Outcome]) -> Self {
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
pub fn write(
    format: HarnessFormat,
    outcomes: &[Outcome],
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

fn write_json(outcomes: &[Outcome], subject: &str, out: &mut dyn Write) -> io::Result<()> {
    let cases: Vec<_> = outcomes
        .iter()
        .map(|o| {
            json!({
                "id": o.id,
                "status": o.status(),
                "exit": o.exit_mismatch.map(|(expected, given)| {
                    json!({"expected": expected, "given": given})
                }),
                "missing": o.missing,
                "unexpected": o.unexpected,
                "error": o.error,
            })
        })
        .collect();
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

fn write_junit(outcomes: &[Outcome], subject: &str, out: &mut dyn Write) -> io::Result<()> {
    let differences: Vec<Vec<String>> = outcomes.iter().map(|o| vec![o.differences()]).collect();
    let cases = outcomes
        .iter()
        .zip(&differences)
        .map(|(outcome, differences)| junit::Case {
            id: &outcome.id,
            result: match outcome.status() {
                Status::Pass => junit::CaseResult::Pass,
                Status::Unsupported => junit::CaseResult::Unsupported,
                Status::Fail => junit::CaseResult::Fail(differences),
            },
            time: None,
        });
    out.write_all(
        junit::render(
            "agentlog conformance seal",
            "agentlog.conformance.seal",
            subject,
            cases,
        )
        .as_bytes(),
    )
}
