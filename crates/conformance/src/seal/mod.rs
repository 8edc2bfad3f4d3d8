//! The seal harness: runs the `seal/` and `seal_ledger/` cases against the reference
//! verifier or against any other implementation of `agentlog verify` (docs/seal.md), and
//! says which cases it passes.
//!
//! The model: a **case** ([`SealCase`]) is a sealed log (`seal/NAME.jsonl` and its seal),
//! or a sealed ledger directory (`seal_ledger/NAME/`), perhaps tampered with, plus the
//! verdict stated by its generator: passed or not, and every finding with its rule, the log's
//! line and the seal's line it names (and for a ledger, the file). The cases are the
//! embedded ones ([`load_embedded`]), written out to a scratch directory ([`write_files`])
//! for the verifier to read. A **subject** ([`Subject`]) is the reference (agentlog-seal, in
//! process) or a port driven through a command template. Cases a port declares
//! **unsupported** ([`crate::select`]) are not run. Every other case is **judged**
//! ([`judge`]): it passes when the exit code is the verdict's and the findings are exactly
//! the expected ones. The **report** ([`report`]) writes the outcomes as text, JSON or
//! JUnit.
//!
//! # The command contract
//!
//! What a port implements, the command line of `agentlog verify`: the template is run once
//! per case under `sh -c` with `{path}` replaced by the log's path (`seal/` cases, its seal
//! is `PATH.seal`) or the ledger directory's (`seal_ledger/` cases), and `{flags}` by the
//! case's expectations as `agentlog verify` flags, each only when the case has it:
//! `--pubkey FILE` (every checkpoint must be signed by that key), `--anchor DIGEST` (a
//! checkpoint with that digest must be in the seal) and `--allow-tail` (lines after the last
//! checkpoint are a note) ([`PLACEHOLDERS`]; [`check_template`] refuses any other). Every
//! substitution is shell-quoted.
//!
//! The command must:
//!
//! - **exit** 0 when the log or directory verified, 1 when it failed (any other exit code
//!   fails the case: no case is a usage or I/O error);
//! - print on **stdout** one JSON object with a `findings` array: every finding, notes
//!   included, each an object with `rule` (`seal.line_changed`, ...), `line` (the log's
//!   1-based line it names, or `null`) and `seal_line` (the seal file's, or `null`); in a
//!   ledger case also `file`, the file it is on, relative to the directory (`/`-separated,
//!   e.g. `archive/events_20261201.jsonl.gz`) or a path under the `{path}` given. Other
//!   members (`passed`, `message`, ...) are ignored.
//!
//! `agentlog verify --format json {flags} {path}` is such a command (its top-level
//! `findings`). Findings compare as a set, so order and duplicates do not matter. A case gets
//! [`CASE_TIMEOUT`] (then the command's process group is killed and the case fails) and an
//! output of at most [`MAX_OUTPUT`] bytes.
//!
//! ```
//! use agentlog_conformance::select::Unsupported;
//! use agentlog_conformance::seal::{Status, Subject, load_embedded, run_all, write_files};
//!
//! let cases = load_embedded().unwrap();
//! let root = tempfile::tempdir().unwrap();
//! write_files(root.path()).unwrap();
//! let skip = Unsupported::from_globs(["seal_ledger/*"]);
//! let outcomes = run_all(&cases, &Subject::Reference, &skip, root.path(), root.path());
//! assert!(outcomes.iter().all(|o| o.status() != Status::Fail));
//! assert!(outcomes.iter().any(|o| o.status() == Status::Unsupported));
//! ```

mod case;
mod judge;
pub mod report;
mod run;

pub use case::{SealCase, Target, load_embedded, write_files};
pub use judge::{Finding, Observed, Outcome, Status, judge};
pub use run::{
    CASE_TIMEOUT, CaseError, MAX_OUTPUT, PLACEHOLDERS, Subject, TemplateError, check_template,
    run_all,
};
