//! The verdicts of a run and their three renderings.
//!
//! Each scenario gets one [`Verdict`]: it passed, it failed with its differences, or the
//! port declared it unsupported (never run, never counted as a pass). A [`Report`] renders
//! as a text table (one line per scenario, then the summary `N of M scenarios passed (K
//! unsupported) (SUBJECT)`), as JSON, or as JUnit XML (one `<testcase>` per scenario; a
//! failure's differences in `<failure>`, an unsupported scenario as `<skipped
//! message="declared unsupported"/>`).

use std::time::Duration;

use serde_json::json;

use crate::junit;

/// Differences shown per failing scenario on its text line.
const TEXT_DIFFERENCES: usize = 3;

/// The verdict on one scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Everything matched.
    Pass,
    /// The differences, in the order found (already redacted).
    Fail(Vec<String>),
    /// Declared unsupported by the port: not run.
    Unsupported,
}

/// One scenario's verdict.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// `proxy/NAME`.
    pub id: String,
    /// The verdict.
    pub verdict: Verdict,
    /// How long the run took (zero when not run).
    pub duration: Duration,
}

/// Every verdict of a run.
#[derive(Clone, Debug)]
pub struct Report {
    /// What was tested (the command template, or our own proxy).
    pub subject: String,
    /// One outcome per selected scenario, in id order.
    pub outcomes: Vec<Outcome>,
}

impl Outcome {
    /// `PASS ID`, `UNSUPPORTED ID`, or `FAIL ID: ` and the first differences.
    pub fn line(&self) -> String {
        match &self.verdict {
            Verdict::Pass => format!("PASS {}", self.id),
            Verdict::Unsupported => format!("UNSUPPORTED {}", self.id),
            Verdict::Fail(diffs) => {
                let shown: Vec<&str> = diffs
                    .iter()
                    .take(TEXT_DIFFERENCES)
                    .map(String::as_str)
                    .collect();
                let more = diffs.len().saturating_sub(TEXT_DIFFERENCES);
                let more = if more > 0 {
                    format!("; and {more} more")
                } else {
                    String::new()
                };
                format!("FAIL {}: {}{more}", self.id, shown.join("; "))
            }
        }
    }
}

impl Report {
    fn count(&self, f: impl Fn(&Verdict) -> bool) -> usize {
        self.outcomes.iter().filter(|o| f(&o.verdict)).count()
    }

    /// Scenarios passed.
    pub fn passed(&self) -> usize {
        self.count(|v| *v == Verdict::Pass)
    }

    /// Scenarios failed.
    pub fn failed(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Fail(_)))
    }

    /// Scenarios declared unsupported.
    pub fn unsupported(&self) -> usize {
        self.count(|v| *v == Verdict::Unsupported)
    }

    /// `N of M scenarios passed (K unsupported) (SUBJECT)`.
    pub fn summary(&self) -> String {
        format!(
            "{} of {} scenarios passed ({} unsupported) ({})",
            self.passed(),
            self.outcomes.len(),
            self.unsupported(),
            self.subject
        )
    }

    /// One line per scenario ([`Outcome::line`]), then the summary.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for o in &self.outcomes {
            out.push_str(&o.line());
            out.push('\n');
        }
        out.push_str(&self.summary());
        out.push('\n');
        out
    }

    /// `{"subject", "passed", "failed", "unsupported", "total", "scenarios": [{"id",
    /// "verdict": "pass"|"fail"|"unsupported", "differences": [...], "duration_ms"}]}`.
    pub fn json(&self) -> serde_json::Value {
        let scenarios: Vec<_> = self
            .outcomes
            .iter()
            .map(|o| {
                let (verdict, differences) = match &o.verdict {
                    Verdict::Pass => ("pass", &[][..]),
                    Verdict::Fail(d) => ("fail", d.as_slice()),
                    Verdict::Unsupported => ("unsupported", &[][..]),
                };
                json!({"id": o.id, "verdict": verdict, "differences": differences,
                    "duration_ms": o.duration.as_millis() as u64})
            })
            .collect();
        json!({"subject": self.subject, "passed": self.passed(), "failed": self.failed(),
            "unsupported": self.unsupported(), "total": self.outcomes.len(),
            "scenarios": scenarios})
    }

    /// JUnit XML: one `<testsuite name="agentlog conformance proxy">`.
    pub fn junit(&self) -> String {
        let cases = self.outcomes.iter().map(|o| junit::Case {
            id: &o.id,
            result: match &o.verdict {
                Verdict::Pass => junit::CaseResult::Pass,
                Verdict::Unsupported => junit::CaseResult::Unsupported,
                Verdict::Fail(differences) => junit::CaseResult::Fail(differences),
            },
            time: Some(o.duration),
        });
        junit::render("agentlog conformance proxy", "proxy", &self.subject, cases)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let outcome = |id: &str, verdict| Outcome {
            id: id.into(),
            verdict,
            duration: Duration::from_millis(5),
        };
        Report {
            subject: "port".into(),
            outcomes: vec![
                outcome("proxy/a", Verdict::Pass),
                outcome(
                    "proxy/b",
                    Verdict::Fail(vec![
                        "x <y> & \"z\"".into(),
                        "2".into(),
                        "3".into(),
                        "4".into(),
                    ]),
                ),
                outcome("proxy/c", Verdict::Unsupported),
            ],
        }
    }

    #[test]
    fn text_lines_and_summary() {
        assert_eq!(
            report().text(),
            "PASS proxy/a\nFAIL proxy/b: x <y> & \"z\"; 2; 3; and 1 more\nUNSUPPORTED proxy/c\n1 of 3 scenarios passed (1 unsupported) (port)\n"
        );
    }

    #[test]
    fn junit_escapes_and_skips() {
        let xml = report().junit();
        assert!(xml.contains("<failure message=\"x &lt;y&gt; &amp; &quot;z&quot;\""));
        let verdicts = crate::junit::tests::verdicts(&xml);
        let verdicts: Vec<_> = verdicts.iter().map(|(_, v)| *v).collect();
        assert_eq!(verdicts, ["pass", "fail", "unsupported"]);
    }
}
