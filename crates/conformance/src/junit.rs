//! JUnit XML for both harnesses, written by `quick-junit` (cargo-nextest's own model and
//! serializer, which escapes text and drops characters XML cannot carry).
//!
//! One `<testsuite>` per run, one `<testcase>` per case: a pass is empty, a failure carries
//! its differences (the first as the message, all of them as the text), and a case the port
//! declared unsupported is `<skipped message="declared unsupported"/>`, so a CI dashboard
//! never counts it as passed.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

/// How one case ended, as JUnit shows it.
#[derive(Clone, Debug)]
pub(crate) enum CaseResult<'a> {
    Pass,
    Unsupported,
    /// The differences found (at least one).
    Fail(&'a [String]),
}

/// One `<testcase>`.
#[derive(Clone, Debug)]
pub(crate) struct Case<'a> {
    pub(crate) id: &'a str,
    pub(crate) result: CaseResult<'a>,
    pub(crate) time: Option<Duration>,
}

/// The report of a run of `suite` (e.g. `agentlog conformance proxy`) against `subject`.
pub(crate) fn render<'a>(
    suite: &str,
    classname: &str,
    subject: &str,
    cases: impl IntoIterator<Item = Case<'a>>,
) -> String {
    let name = format!("{suite} ({subject})");
    let mut test_suite = TestSuite::new(name.as_str());
    test_suite.add_property(Property::new("subject", subject));
    let mut total = Duration::ZERO;
    for case in cases {
        let status = match case.result {
            CaseResult::Pass => TestCaseStatus::success(),
            CaseResult::Unsupported => {
                let mut status = TestCaseStatus::skipped();
                status.set_message("declared unsupported");
                status
            }
            CaseResult::Fail(differences) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status
                    .set_message(differences.first().map_or("failed", String::as_str))
                    .set_type("conformance")
                    .set_description(differences.join("\n"));
                status
            }
        };
        let mut test_case = TestCase::new(case.id, status);
        test_case.set_classname(classname);
        if let Some(time) = case.time {
            test_case.set_time(time);
            total += time;
        }
        test_suite.add_test_case(test_case);
    }
    test_suite.set_time(total);
    let mut report = Report::new(name.as_str());
    report.add_test_suite(test_suite);
    // Serializing to memory fails only on an I/O error of the writer, which a String has
    // not; say so in the output rather than panic.
    report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- JUnit serialization failed: {e} -->\n"))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn counts_escapes_and_round_trips() {
        let differences = vec!["bad \"report\" <&>".to_owned(), "second\u{1}".to_owned()];
        let xml = render(
            "agentlog conformance validate",
            "agentlog.conformance.validate",
            "port <x>",
            [
                Case {
                    id: "validate/a",
                    result: CaseResult::Pass,
                    time: None,
                },
                Case {
                    id: "validate/b",
                    result: CaseResult::Fail(&differences),
                    time: Some(Duration::from_millis(5)),
                },
                Case {
                    id: "validate/c",
                    result: CaseResult::Unsupported,
                    time: None,
                },
            ],
        );
        assert!(
            xml.contains("bad &quot;report&quot; &lt;&amp;&gt;"),
            "{xml}"
        );
        assert!(
            xml.contains(r#"<skipped message="declared unsupported"/>"#),
            "{xml}"
        );
        assert!(!xml.contains('\u{1}'), "{xml}");
        assert_eq!(
            verdicts(&xml),
            [
                ("validate/a".to_owned(), "pass"),
                ("validate/b".to_owned(), "fail"),
                ("validate/c".to_owned(), "unsupported"),
            ]
        );
    }

    /// The verdict of each test case, with the suite's counts checked against them.
    pub(crate) fn verdicts(xml: &str) -> Vec<(String, &'static str)> {
        let report = Report::deserialize_from_str(xml).unwrap();
        let suite = &report.test_suites[0];
        let verdicts: Vec<_> = suite
            .test_cases
            .iter()
            .map(|case| {
                let verdict = match case.status {
                    TestCaseStatus::Success { .. } => "pass",
                    TestCaseStatus::NonSuccess { .. } => "fail",
                    TestCaseStatus::Skipped { .. } => "unsupported",
                };
                (case.name.to_string(), verdict)
            })
            .collect();
        let count = |v: &str| verdicts.iter().filter(|(_, x)| *x == v).count();
        assert_eq!(suite.tests, verdicts.len());
        assert_eq!(suite.failures, count("fail"));
        assert_eq!(suite.skipped, count("unsupported"));
        verdicts
    }
}
