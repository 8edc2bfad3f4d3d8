//! Writing a run's outcomes: a text table, JSON, or JUnit XML, in the shared shape of
//! [`crate::report`].
//!
//! All three carry the same verdicts: one entry per case with its id and status (`pass`,
//! `fail`, `unsupported`), the differences of a failed case, and the summary `N of M cases
//! passed (K unsupported) (SUBJECT)`. Messages are the harness's own (ids, rule ids, counts,
//! a port's first line of stderr with the case's secrets redacted), never a case's secret
//! values.

use serde_json::{Value, json};

use super::judge::{Outcome, Status, Verdict};
use crate::report::CaseOutcome;
pub use crate::report::{Summary, write};

impl CaseOutcome for Outcome {
    const SUITE: &'static str = "validate";

    fn id(&self) -> &str {
        &self.id
    }

    fn status(&self) -> Status {
        Outcome::status(self)
    }

    fn differences(&self) -> String {
        Outcome::differences(self)
    }

    fn to_json(&self) -> Value {
        let row = |v: &[Verdict]| {
            v.iter()
                .map(|(line, rule, severity)| {
                    json!({"line": line, "rule": rule, "severity": severity})
                })
                .collect::<Vec<_>>()
        };
        json!({
            "id": self.id,
            "status": self.status(),
            "missing": row(&self.missing),
            "unexpected": row(&self.unexpected),
            "lines": self.lines_mismatch.map(|(expected, reported)| {
                json!({"expected": expected, "reported": reported})
            }),
            "wrong_pointers": self.wrong_pointers.iter().map(|((line, rule, severity), pointer)| {
                json!({"line": line, "rule": rule, "severity": severity, "pointer": pointer})
            }).collect::<Vec<_>>(),
            "exit": self.exit_mismatch.map(|(expected, reported)| {
                json!({"expected": expected, "reported": reported.0})
            }),
            "leaked": self.leaked,
            "error": self.error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HarnessFormat;

    fn outcome(id: &str, unsupported: bool, error: Option<&str>) -> Outcome {
        Outcome {
            id: id.into(),
            unsupported,
            missing: Vec::new(),
            unexpected: Vec::new(),
            lines_mismatch: None,
            wrong_pointers: Vec::new(),
            exit_mismatch: None,
            leaked: Vec::new(),
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
