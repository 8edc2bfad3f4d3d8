//! Writing a run's outcomes: a text table, JSON, or JUnit XML.
//!
//! All three carry the same verdicts: one entry per case with its id and status (`pass`,
//! `fail`, `unsupported`), the differences of a failed case, and the summary `N of M cases
//! passed (K unsupported) (SUBJECT)`. Messages are the harness's own (ids, rule ids, counts,
//! a port's first line of stderr with the case's secrets redacted), never a case's secret
//! values.

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
        HarnessFormat::Text => write_text(outcomes, subject, quiet, out),
        HarnessFormat::Json => write_json(outcomes, subject, out),
        HarnessFormat::Junit => write_junit(outcomes, subject, out),
    }
}

fn write_text(
    outcomes: &[Outcome],
    subject: &str,
    quiet: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    for outcome in outcomes {
        if !quiet || outcome.status() == Status::Fail {
            writeln!(out, "{outcome}")?;
        }
    }
    writeln!(out, "{}", Summary::of(outcomes).line(subject))
}

fn write_json(outcomes: &[Outcome], subject: &str, out: &mut dyn Write) -> io::Result<()> {
    let cases: Vec<_> = outcomes
        .iter()
        .map(|o| {
            let row = |v: &[super::judge::Verdict]| {
                v.iter()
                    .map(|(line, rule, severity)| {
                        json!({"line": line, "rule": rule, "severity": severity})
                    })
                    .collect::<Vec<_>>()
            };
            json!({
                "id": o.id,
                "status": o.status(),
                "missing": row(&o.missing),
                "unexpected": row(&o.unexpected),
                "lines": o.lines_mismatch.map(|(expected, reported)| {
                    json!({"expected": expected, "reported": reported})
                }),
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
            "agentlog conformance validate",
            "agentlog.conformance.validate",
            subject,
            cases,
        )
        .as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(id: &str, unsupported: bool, error: Option<&str>) -> Outcome {
        Outcome {
            id: id.into(),
            unsupported,
            missing: Vec::new(),
            unexpected: Vec::new(),
            lines_mismatch: None,
            error: error.map(str::to_owned),
        }
    }

    fn render(format: HarnessFormat, outcomes: &[Outcome], quiet: bool) -> String {
        let mut out = Vec::new();
        write(format, outcomes, "port <x>", quiet, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn every_format_carries_the_same_verdicts() {
        let outcomes = [
            outcome("validate/a", false, None),
            outcome("validate/b", false, Some("bad \"report\" <&>")),
            outcome("validate/c", true, None),
        ];
        assert_eq!(
            render(HarnessFormat::Text, &outcomes, false),
            "PASS validate/a\nFAIL validate/b: bad \"report\" <&>\nUNSUPPORTED validate/c\n\
             1 of 3 cases passed (1 unsupported) (port <x>)\n"
        );
        assert_eq!(
            render(HarnessFormat::Text, &outcomes, true),
            "FAIL validate/b: bad \"report\" <&>\n1 of 3 cases passed (1 unsupported) (port <x>)\n"
        );
        let json: serde_json::Value =
            serde_json::from_str(&render(HarnessFormat::Json, &outcomes, false)).unwrap();
        let statuses: Vec<_> = json["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["pass", "fail", "unsupported"]);
        assert_eq!(json["summary"]["failed"], 1);
        let junit = render(HarnessFormat::Junit, &outcomes, false);
        let verdicts = crate::junit::tests::verdicts(&junit);
        let verdicts: Vec<_> = verdicts.iter().map(|(_, v)| *v).collect();
        assert_eq!(verdicts, statuses);
        assert!(
            junit.contains("bad &quot;report&quot; &lt;&amp;&gt;"),
            "{junit}"
        );
    }
}
