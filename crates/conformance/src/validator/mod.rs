//! The validator harness: runs the log cases against the reference validator or against any
//! other implementation, and says which cases it passes.
//!
//! The model: a **case** ([`LogCase`]) is a log plus its expected verdict, the number of
//! lines checked and the multiset of `(line, rule, severity)` findings; by default the cases
//! are the ones embedded in the binary ([`load_embedded`]), or a directory a port vendored
//! ([`load_dir`]). A **subject** ([`Subject`]) is what is checked: the reference validator in
//! process, or a port driven through a command template that prints agentlog's JSON report
//! (the contract below). The port may declare cases **unsupported** ([`crate::select`]);
//! those are not run, except one per declared glob, which the port must **refuse** (exit
//! [`REFUSAL_EXIT`] with a message on stderr; a port that runs it as something else fails
//! it). Every other case is **judged** ([`judge`]): it passes when the port reports the
//! expected line count and exactly the expected findings, duplicates counted, messages
//! ignored, pointers compared where the case gives them, exits as the contract says and
//! prints none of the case's secret values; a case the port could not be run on, or whose
//! report could not be read, fails with its [`CaseError`]. The **report** ([`report`]) writes the outcomes
//! as text, JSON or JUnit, with the summary `N of M cases passed (K unsupported) (SUBJECT)`.
//! The harness itself failing (a case directory that cannot be read, a broken verdict file)
//! is a [`HarnessError`].
//!
//! # The command contract
//!
//! What a port implements: the template is run once per case under `sh -c` with `{log}`
//! replaced by the path of the case's log, `{options}` by the path of a JSON file holding the
//! case's `options` object, and `{flags}` by the same options as `agentlog validate` flags
//! ([`PLACEHOLDERS`]; [`check_template`] refuses any other); every substitution is
//! shell-quoted. The command prints agentlog's JSON report (`agentlog validate --format
//! json`) on stdout; of it only `files[].lines` and
//! `files[].findings[].{line,rule,severity,pointer}` are read. It exits 1 if and only if it
//! reports an error-level finding (else 0), and 2, with a message on stderr, on input it
//! does not support. Nothing it prints, on stdout or stderr, may carry a value the case
//! supplies as a secret, in any encoding the reference validator finds. A case
//! gets [`CASE_TIMEOUT`] (then the command's process group is killed and the case fails) and
//! a report of at most [`MAX_REPORT`] bytes: a hanging or runaway port fails its case, it
//! never stalls the run.
//!
//! ```
//! use agentlog_conformance::select::Unsupported;
//! use agentlog_conformance::validator::{Status, Subject, load_embedded, run_all};
//!
//! let cases = load_embedded().unwrap();
//! let scratch = std::env::temp_dir();
//! let skip = Unsupported::from_globs(["validate/v1_*"]);
//! let outcomes = run_all(&cases, &Subject::Reference, &skip, &scratch);
//! assert!(outcomes.iter().all(|o| o.status() != Status::Fail));
//! assert!(outcomes.iter().any(|o| o.status() == Status::Unsupported));
//! ```

mod case;
mod judge;
pub mod report;
pub(crate) mod run;

use std::path::PathBuf;

pub use case::{CaseOptions, LogCase, load_dir, load_embedded};
pub use judge::{ExitCode, Observed, Outcome, Status, Verdict, expected_exit, judge};
pub use run::{
    CASE_TIMEOUT, CaseError, MAX_REPORT, PLACEHOLDERS, REFUSAL_EXIT, ReportError, Subject,
    TemplateError, check_template, run, run_all,
};

/// Why the harness could not run (exit 2), as opposed to a case failing (exit 1).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HarnessError {
    /// The cases directory or a case file could not be read.
    #[error("read {path}: {source}")]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A verdict file is not in the documented shape.
    #[error("{path}: {message}")]
    BadCase {
        /// The verdict file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// No case found.
    #[error("no conformance case (*.jsonl with a .json verdict) in {0}")]
    NoCases(PathBuf),
}
