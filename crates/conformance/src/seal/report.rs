//! Writing a run's outcomes: a text table, JSON, or JUnit XML, in the shared shape of
//! [`crate::report`] (the validator harness writes its own the same way).
//!
//! All three carry the same verdicts: one entry per case with its id and status (`pass`,
//! `fail`, `unsupported`), the differences of a failed case, and the summary `N of M cases
//! passed (K unsupported) (SUBJECT)`.

use serde_json::{Value, json};

use super::judge::{Outcome, Status};
use crate::report::CaseOutcome;
pub use crate::report::{Summary, write};

impl CaseOutcome for Outcome {
    const SUITE: &'static str = "seal";

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
        json!({
            "id": self.id,
            "status": self.status(),
            "exit": self.exit_mismatch.map(|(expected, given)| {
                json!({"expected": expected, "given": given})
            }),
            "missing": self.missing,
            "unexpected": self.unexpected,
            "error": self.error,
        })
    }
}
