// An example: it panics with the error's message, as examples do, to stay short.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::too_many_lines,
    unreachable_pub,
    missing_docs
)]
#![allow(clippy::disallowed_macros, clippy::disallowed_methods)] // a test, benchmark or example prints for its runner, not through the CLI's output gate.
//! Validating an events.jsonl log with the library API, as `agentlog validate` does.
//!
//! Run with `cargo run -p agentlog-validate --example validate [PATH]` from the repository root
//! (defaults to the real log in testdata/).

use agentlog_validate::secrets::{Secret, SecretValue};
use agentlog_validate::{Options, Report, Validator, report};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "testdata/validate/real-matchlock-pr77.jsonl".into());
    // The profile (v0, v1 or the ledger) is chosen per file, as `agentlog validate` does.
    let options = Options::default()
        // Values that must never appear in the log, in any encoding. Names are reported,
        // values never.
        .with_secrets(vec![Secret::new(
            "OPENAI_API_KEY",
            SecretValue::new("sk-example-not-a-real-key-000"),
            vec![],
        )]);
    let validator = Validator::new(options)?;
    let file = validator.validate_path(std::path::Path::new(&path))?;
    for f in &file.findings {
        println!(
            "line {} {} [{}] {:?}: {}",
            f.line, f.severity, f.rule, f.pointer, f.message
        );
    }
    let report = Report { files: vec![file] };
    report::write(&report, report::Format::Text, &mut std::io::stdout())?;
    std::process::exit(i32::from(report.has_errors()));
}
