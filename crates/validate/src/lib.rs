//! # agentlog-validate
//!
//! Streaming conformance validation of `events.jsonl` logs (`agentlog validate`).
//!
//! The model follows the data: a **reader** turns bytes into chunks of whole lines (it notices
//! over-long lines and skips them without buffering them, and marks a torn last line),
//! **checkers** run on worker threads and turn each chunk into findings (line format, JSON,
//! envelope and data schemas, timestamps, event types, supplied secrets, well-known credential
//! formats), and a **merger** on the calling thread puts chunk results back in line order,
//! adds the checks that span chunks (timestamps going backwards, several run ids, a request
//! and its response paired by `data.exchange_id`) and stops early when the error budget is
//! spent. Under [`ProfileChoice::Auto`] (the default) the reader
//! first tells a tool-call ledger from an event log by the input's first JSON-object line,
//! and for an event log the merger chooses v0 or v1 from the first line of a v0-only or
//! v1-only type; every report says which profile each file was checked under
//! ([`FileReport::profile`]). A ledger is checked against its `tool_call` record schema with
//! the `ledger.*` rules ([`Profile::Ledger`]); the secret scan is the same for every profile.
//! **Reporters** in [`report`] only format a [`Report`]. A **run** ([`run`]) is what
//! `agentlog validate` does with the paths it is given: files, directories, `.gz` files and
//! standard input expanded into inputs and read in order into one [`Report`]
//! ([`Validator::validate_paths`]).
//!
//! Memory is bounded whatever the input size: chunks travel through bounded channels, and a
//! line is never longer than [`Options::max_line_len`] in memory.
//!
//! ```
//! use agentlog_validate::{Options, Validator, Rule};
//!
//! let log = "{\"ts\":\"2026-02-24T23:02:34.123851Z\",\"run_id\":\"vm-503ad4d1\",\
//!     \"agent_system\":\"openclaw\",\"event_type\":\"budget_action\",\"summary\":\"s\",\
//!     \"data\":{\"action\":\"warn\"}}\nnot json\n";
//! let validator = Validator::new(Options::default()).unwrap();
//! let report = validator.validate_reader("events.jsonl", log.as_bytes());
//! assert_eq!((report.lines, report.events), (2, 1));
//! assert_eq!(report.findings[0].line, 2);
//! assert_eq!(report.findings[0].rule, Rule::JsonSyntax);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod check;
mod dupkeys;
mod exchange;
mod explain;
mod fast;
pub mod gate;
pub mod lines;
mod pipeline;
mod profile;
pub mod report;
mod rules;
pub mod run;
pub mod secrets;
pub mod walk;

use agentlog_core::{event, schema};

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

pub use agentlog_core::schema::Profile;
pub use explain::{SchemaProblem, explain_schema_error};
pub use profile::{CheckedProfile, ChosenBy, ProfileChoice, UnknownProfileName};
pub use rules::{RULES, Rule, RuleInfo, Severity, markdown_table};
pub use run::{NoProgress, Progress, RunError};

use crate::secrets::Secret;
use crate::secrets::detect::Detector;
use crate::secrets::redact::Redactor;
use crate::secrets::scan::{ScanError, SecretScanner};

/// What a report shows instead of a file name that carries a secret.
pub const WITHHELD_PATH: &str = "(file name withheld: it contains a secret)";

/// Default cap on the length of one line: 16 MiB.
pub const DEFAULT_MAX_LINE_LEN: usize = 16 << 20;

/// Default of [`Options::max_findings_per_file`].
pub const DEFAULT_MAX_FINDINGS_PER_FILE: usize = 10_000;

/// One problem found in a log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// 1-based line number; 0 for findings about the whole input (`input.empty`).
    pub line: u64,
    /// Stable rule id.
    pub rule: Rule,
    /// `error` or `warning`.
    pub severity: Severity,
    /// JSON pointer into the line's object, when one applies (`""` is the whole line).
    pub pointer: Option<String>,
    /// Human message. Never contains a secret value.
    pub message: String,
}

/// The result of validating one input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileReport {
    /// The input's label (its path, or `-` for stdin).
    pub path: String,
    /// Lines read (a torn last line counts).
    pub lines: u64,
    /// Lines that were JSON objects.
    pub events: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Findings in line order.
    pub findings: Vec<Finding>,
    /// Events per `event_type` (for a ledger: records per kind, `tool_call` or what else the
    /// line is, e.g. `risk_event`).
    pub by_event_type: BTreeMap<String, u64>,
    /// Whether validation stopped early (`--max-errors`, `--fail-fast`).
    pub truncated: bool,
    /// The profile this input was checked under and how it was chosen; `None` in a report
    /// of an input that was not read (a skipped entry, a directory without logs).
    pub profile: Option<CheckedProfile>,
    /// Findings counted but not kept because `findings` reached
    /// [`Options::max_findings_per_file`], per rule and severity: memory stays bounded on any
    /// input, while every count (errors, warnings, by rule) stays exact.
    pub omitted: BTreeMap<(Rule, Severity), u64>,
}

impl FileReport {
    /// Number of error-level findings.
    pub fn errors(&self) -> u64 {
        self.count(Severity::Error)
    }

    /// Number of warnings.
    pub fn warnings(&self) -> u64 {
        self.count(Severity::Warning)
    }

    /// Findings counted but not kept (see [`FileReport::omitted`]).
    pub fn omitted_count(&self) -> u64 {
        self.omitted.values().sum()
    }

    fn count(&self, severity: Severity) -> u64 {
        let kept = self
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .count() as u64;
        let omitted: u64 = self
            .omitted
            .iter()
            .filter(|((_, s), _)| *s == severity)
            .map(|(_, n)| n)
            .sum();
        kept + omitted
    }
}

/// The result of a whole run: one [`FileReport`] per input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Per-input results, in the order the inputs were given.
    pub files: Vec<FileReport>,
}

/// Totals over a [`Report`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Inputs checked.
    pub files: u64,
    /// Lines checked.
    pub lines: u64,
    /// Events (JSON-object lines) checked.
    pub events: u64,
    /// Error-level findings.
    pub errors: u64,
    /// Warnings.
    pub warnings: u64,
    /// Findings per rule id.
    pub by_rule: BTreeMap<&'static str, u64>,
    /// Events per event type.
    pub by_event_type: BTreeMap<String, u64>,
    /// Inputs per profile they were checked under (`v0`, `v1`, `ledger`).
    pub by_profile: BTreeMap<&'static str, u64>,
}

impl Report {
    /// Totals.
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            files: self.files.len() as u64,
            ..Summary::default()
        };
        for f in &self.files {
            s.lines += f.lines;
            s.events += f.events;
            s.errors += f.errors();
            s.warnings += f.warnings();
            for finding in &f.findings {
                *s.by_rule.entry(finding.rule.id()).or_default() += 1;
            }
            for ((rule, _), n) in &f.omitted {
                *s.by_rule.entry(rule.id()).or_default() += n;
            }
            for (t, n) in &f.by_event_type {
                *s.by_event_type.entry(t.clone()).or_default() += n;
            }
            if let Some(checked) = f.profile {
                *s.by_profile.entry(checked.profile.name()).or_default() += 1;
            }
        }
        s
    }

    /// Whether any error-level finding was made (exit code 1).
    pub fn has_errors(&self) -> bool {
        self.files.iter().any(|f| f.errors() > 0)
    }
}

/// What to check and how. Fields are public to read and to set; build one with
/// `Options::default()` and the `with_*` methods (the struct grows, so it is
/// `#[non_exhaustive]`).
///
/// ```
/// use agentlog_validate::Options;
/// let options = Options::default().with_threads(1).with_allow_empty(true);
/// assert_eq!((options.threads, options.allow_empty), (1, true));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// The profile: one given (v0, v1, the ledger), or `Auto` (the default), which chooses
    /// per file (see [`ProfileChoice`]).
    pub profile: ProfileChoice,
    /// Severity of `event_type.unknown` (default error; `Warning` accepts types the profile
    /// does not define with a warning, e.g. v1 types under `V0`).
    pub unknown_types: Severity,
    /// Secrets whose values must not appear (values of at least 8 bytes).
    pub secrets: Vec<Secret>,
    /// Run the built-in detector of well-known credential formats (default on).
    pub builtin_detectors: bool,
    /// Literal substrings that silence a built-in detector match containing them.
    pub allow: Vec<String>,
    /// Longest line checked; longer lines get `line.too_long` and are skipped.
    pub max_line_len: usize,
    /// Stop after this many error-level findings over all inputs of this validator.
    pub max_errors: Option<u64>,
    /// An input without events is fine (no `input.empty`).
    pub allow_empty: bool,
    /// Findings kept per input; further ones are only counted (bounded memory on inputs with
    /// millions of findings).
    pub max_findings_per_file: usize,
    /// Worker threads; 0 picks the number of cores.
    pub threads: usize,
    /// Bytes of whole lines per work unit.
    pub chunk_size: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            profile: ProfileChoice::Auto,
            unknown_types: Severity::Error,
            secrets: Vec::new(),
            builtin_detectors: true,
            allow: Vec::new(),
            max_line_len: DEFAULT_MAX_LINE_LEN,
            max_errors: None,
            allow_empty: false,
            max_findings_per_file: DEFAULT_MAX_FINDINGS_PER_FILE,
            threads: 0,
            chunk_size: 1 << 20,
        }
    }
}

impl Options {
    /// Sets [`Options::profile`].
    #[must_use]
    pub fn with_profile(mut self, profile: impl Into<ProfileChoice>) -> Self {
        self.profile = profile.into();
        self
    }

    /// Sets [`Options::unknown_types`].
    #[must_use]
    pub fn with_unknown_types(mut self, unknown_types: Severity) -> Self {
        self.unknown_types = unknown_types;
        self
    }

    /// Sets [`Options::secrets`].
    #[must_use]
    pub fn with_secrets(mut self, secrets: Vec<Secret>) -> Self {
        self.secrets = secrets;
        self
    }

    /// Sets [`Options::builtin_detectors`].
    #[must_use]
    pub fn with_builtin_detectors(mut self, builtin_detectors: bool) -> Self {
        self.builtin_detectors = builtin_detectors;
        self
    }

    /// Sets [`Options::allow`].
    #[must_use]
    pub fn with_allow(mut self, allow: Vec<String>) -> Self {
        self.allow = allow;
        self
    }

    /// Sets [`Options::max_line_len`].
    #[must_use]
    pub fn with_max_line_len(mut self, max_line_len: usize) -> Self {
        self.max_line_len = max_line_len;
        self
    }

    /// Sets [`Options::max_errors`].
    #[must_use]
    pub fn with_max_errors(mut self, max_errors: Option<u64>) -> Self {
        self.max_errors = max_errors;
        self
    }

    /// Sets [`Options::allow_empty`].
    #[must_use]
    pub fn with_allow_empty(mut self, allow_empty: bool) -> Self {
        self.allow_empty = allow_empty;
        self
    }

    /// Sets [`Options::max_findings_per_file`].
    #[must_use]
    pub fn with_max_findings_per_file(mut self, max_findings_per_file: usize) -> Self {
        self.max_findings_per_file = max_findings_per_file;
        self
    }

    /// Sets [`Options::threads`].
    #[must_use]
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// The [`Redactor`] of these options' secrets ([`Options::secrets`]) and, when
    /// [`Options::builtin_detectors`] is on, of the built-in detector with
    /// [`Options::allow`]: the one a [`Validator`] built from them passes every finding
    /// through. Other readers of logs (`agentlog analyze`) build theirs here, so they withhold
    /// exactly what the validator withholds.
    pub fn redactor(&self) -> Result<Redactor, ScanError> {
        let scanner = SecretScanner::new(&self.secrets)?;
        let detector = self
            .builtin_detectors
            .then(|| Detector::new(self.allow.clone()));
        Ok(Redactor::new(scanner, detector))
    }

    /// Sets [`Options::chunk_size`].
    #[must_use]
    pub fn with_chunk_size(mut self, chunk_size: usize) -> Self {
        self.chunk_size = chunk_size;
        self
    }
}

/// Why a validator could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ValidatorError {
    /// A supplied secret is unusable (too short). Names the secret, never the value.
    #[error(transparent)]
    Secret(#[from] ScanError),
    /// The embedded schemas do not compile (a build defect).
    #[error(transparent)]
    Schema(#[from] crate::schema::SchemaError),
}

/// A configured validator; cheap to share, validates any number of inputs.
pub struct Validator {
    checker: check::Checker,
    options: Options,
    errors_so_far: AtomicU64,
}

impl Validator {
    /// Builds the validator: compiles the schema and the secret matcher.
    pub fn new(options: Options) -> Result<Self, ValidatorError> {
        let checker = check::Checker {
            unknown_types: options.unknown_types,
            max_line_len: options.max_line_len,
            redactor: options.redactor()?,
            envelopes: [
                crate::schema::Profile::V0.envelope()?,
                crate::schema::Profile::V1.envelope()?,
            ],
            ledger: crate::schema::Profile::Ledger.envelope()?,
            profile: options.profile,
        };
        Ok(Validator {
            checker,
            options,
            errors_so_far: AtomicU64::new(0),
        })
    }

    /// The redactor every finding, label and message passes through: use it for any text
    /// about the inputs that is printed outside a report (CLI errors).
    pub fn redactor(&self) -> &Redactor {
        &self.checker.redactor
    }

    /// The options in force.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Whether the error budget (`max_errors`) is spent; later inputs are then not read.
    pub fn budget_spent(&self) -> bool {
        self.options
            .max_errors
            .is_some_and(|max| self.errors_so_far.load(Ordering::Relaxed) >= max)
    }

    /// Validates one stream of JSON lines. Never fails: read errors become `input.read`
    /// findings. `label` is the path shown in findings.
    pub fn validate_reader(&self, label: &str, reader: impl Read + Send) -> FileReport {
        let budget = self
            .options
            .max_errors
            .map(|max| max.saturating_sub(self.errors_so_far.load(Ordering::Relaxed)));
        let mut report = pipeline::run(&self.checker, &self.options, budget, reader);
        report.path = label.to_owned();
        if report.events == 0 && !self.options.allow_empty && !report.truncated {
            report.findings.push(check_empty(report.lines));
        }
        self.redact_report(&mut report);
        self.errors_so_far
            .fetch_add(report.errors(), Ordering::Relaxed);
        report
    }

    /// Passes everything a reporter prints of `report` through the [`Redactor`]: the label,
    /// every pointer and message, the event-type keys. [`Validator::validate_reader`] does it
    /// already; call it on reports built by hand (an empty directory, a skipped path).
    pub fn redact_report(&self, report: &mut FileReport) {
        let redactor = &self.checker.redactor;
        let shows_value = |text: &str| redactor.shows_value(text);
        if shows_value(&report.path) {
            report.path = WITHHELD_PATH.to_owned();
        }
        for f in &mut report.findings {
            if let Some(p) = &f.pointer {
                let kept = redactor.pointer(p);
                f.pointer = Some(if shows_value(&kept) {
                    String::new()
                } else {
                    kept
                });
            }
            if shows_value(&f.message) {
                f.message = format!(
                    "{} (details withheld: they contain a secret)",
                    f.rule.info().description
                );
            }
        }
        if report.by_event_type.keys().any(|k| shows_value(k)) {
            let counts = std::mem::take(&mut report.by_event_type);
            for (k, n) in counts {
                let k = if shows_value(&k) {
                    "(invalid)".into()
                } else {
                    k
                };
                *report.by_event_type.entry(k).or_default() += n;
            }
        }
    }

    /// Validates a file; `*.gz` files are decompressed on the fly ([`input_reader`]).
    pub fn validate_path(&self, path: &Path) -> io::Result<FileReport> {
        let file = File::open(path)?;
        let label = path.display().to_string();
        Ok(self.validate_reader(&label, input_reader(path, file)?))
    }
}

/// The bytes to validate of the file at `path`, read through `raw`: decompressed on the fly
/// when the name ends in `.gz` (every gzip member, as `zcat` does), else `raw` itself. The one
/// place that decides how a log file is opened; `raw` may wrap the file to watch its bytes
/// (a progress bar).
///
/// Without the `gzip` feature a `.gz` path is an [`io::ErrorKind::Unsupported`] error
/// rather than bytes that would all be findings.
pub fn input_reader<'a>(
    path: &Path,
    raw: impl Read + Send + 'a,
) -> io::Result<Box<dyn Read + Send + 'a>> {
    if path.extension().is_some_and(|e| e == "gz") {
        #[cfg(feature = "gzip")]
        return Ok(Box::new(flate2::read::MultiGzDecoder::new(raw)));
        #[cfg(not(feature = "gzip"))]
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "gzip input: agentlog-validate was built without its `gzip` feature",
        ));
    }
    Ok(Box::new(raw))
}

fn check_empty(lines: u64) -> Finding {
    Finding {
        line: 0,
        rule: Rule::InputEmpty,
        severity: Severity::Error,
        pointer: None,
        message: format!(
            "no events in this input ({lines} lines); is the path right? (--allow-empty accepts it)"
        ),
    }
}

/// The `input.empty` finding for a path (directory) that matched no log file.
pub fn no_match_finding(what: &str) -> Finding {
    Finding {
        line: 0,
        rule: Rule::InputEmpty,
        severity: Severity::Error,
        pointer: None,
        message: format!("{what} holds no *.jsonl or *.jsonl.gz file"),
    }
}
