//! # agentlog-analyze
//!
//! Answers questions about AI-agent logs from their data (`agentlog analyze`): what keeps
//! failing, what agents are denied, which risk flags occur and when they spike, which tools and
//! hosts are slow, what was spent on which model, which secrets were injected or nearly leaked.
//!
//! The model follows the data in one pass:
//!
//! 1. **Inputs** are opened through the validator's public reader: paths expand with
//!    [`agentlog_validate::walk::expand`] (files, directories of `*.jsonl` / `*.jsonl.gz`,
//!    `-` for stdin) and bytes come from [`agentlog_validate::input_reader`] (gzip on the
//!    fly). Lines come from the validator's line reader ([`agentlog_validate::lines`], the
//!    one `agentlog validate` uses) in pieces of whole lines, capped at
//!    [`Options::max_line_len`] (longer lines are skipped without being buffered), and the
//!    pieces are handed as batches to worker threads ([`Options::threads`]).
//! 2. **Records**: each line is parsed once into borrowed fields and classified as a sandbox
//!    event or a ledger record (tool call, risk event, telemetry); see [`record`] for the rule.
//!    Each record is analysed with its family; a file's family is that of its first record
//!    ([`FileSummary::records_by_family`] shows a mixed file). Lines that are blank, not JSON,
//!    too long, malformed (a known field of the wrong type) or unrecognised are counted per
//!    file with their line numbers ([`FileSummary::skipped`]): never an error.
//! 3. **Aggregates** per family ([`ledger`], [`sandbox`]) keep counts, exact latency
//!    histograms ([`percentile`]) and counts over time ([`timeline`]); memory grows with the
//!    number of distinct names and durations, not with the number of lines.
//! 4. **Reports** ([`LedgerReport`], [`SandboxReport`]) are computed from the aggregates, and
//!    **findings** ([`findings`]) from the reports, each with a one-line proposal.
//! 5. **Redaction**: every name a report copies from a log (tools, agents, error classes,
//!    flags, hosts, models, secret names, file names, ...) passes through the validator's
//!    redactor ([`Options::redactor`]) before the findings are drawn and before any output:
//!    a name that carries a supplied secret or a well-known credential format is shown as
//!    `[redacted]` (see `withhold.rs`).
//! 6. **Outputs** only format a [`Report`]: [`text`], JSON (the [`Report`] serialized with
//!    serde; field names are stable and documented on the types), and [`html`], one
//!    self-contained page with the charting library inlined.
//!
//! ```
//! use agentlog_analyze::{Analyzer, Options};
//!
//! let ledger = "{\"ts\":1700000000,\"session_id\":\"s\",\"agent\":\"dev\",\"tool\":\"web_fetch\",\
//!     \"args_hash\":\"sha256:00\",\"result_status\":\"error\",\"elapsed_ms\":120,\
//!     \"error_class\":\"ConnectionError\",\"risk_flags\":[],\"artifacts\":[]}\nnot json\n";
//! let mut analyzer = Analyzer::new(Options::default());
//! analyzer.read("ledger.jsonl", ledger.as_bytes()).unwrap();
//! let report = analyzer.finish();
//! let figures = report.ledger.as_ref().unwrap();
//! assert_eq!(figures.failures[0].tool, "web_fetch");
//! assert_eq!(report.files[0].skipped["not_json"].lines, vec![2]);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod findings;
pub mod html;
pub mod ledger;
mod names;
mod order;
pub mod percentile;
mod plural;
mod read;
pub mod record;
pub mod sandbox;
pub mod text;
pub mod timeline;
mod withhold;

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use findings::{Concern, Observation, ObservationKind};
pub use ledger::LedgerReport;
pub use percentile::{Percentiles, nearest_rank_percentile};
pub use record::Family;
pub use sandbox::SandboxReport;

use agentlog_validate::secrets::detect::Detector;
use agentlog_validate::secrets::redact::Redactor;
use agentlog_validate::secrets::scan::SecretScanner;
use agentlog_validate::walk::{self, Input};

use crate::order::Settle;
use crate::withhold::Withhold;

/// The value of [`Report::format`]: the JSON output's name and version. A new version is
/// made only when a field is renamed or removed or changes meaning; fields may be added.
pub const FORMAT: &str = "agentlog-analyze/1";

/// Line numbers kept per kind of skipped line and file; the count stays exact.
pub const LINE_NUMBERS_KEPT: usize = 100;

/// Options of an analysis.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Options {
    /// Width of the timeline's buckets in seconds; `None` chooses one from the span of the
    /// data ([`timeline`]).
    pub bucket_seconds: Option<u64>,
    /// Longest line read; longer lines are skipped as `too_long`.
    pub max_line_len: usize,
    /// Worker threads for inputs larger than one batch (1 MiB); 0 picks the number of cores.
    pub threads: usize,
    /// What withholds names that carry a secret from the report. Default: the
    /// validator's built-in detector of well-known credential formats, no supplied secrets;
    /// build one with the secrets to withhold with [`agentlog_validate::Options::redactor`].
    pub redactor: Redactor,
    /// Risk flags kept in the report's flags table and in each denial's flags (the most
    /// frequent); the rest are added up in one `(other)` row, so counts stay exact and a
    /// ledger of a million distinct flags gives a report of a thousand rows. Default
    /// [`DEFAULT_MAX_ROWS`]; `usize::MAX` keeps them all.
    pub max_rows: usize,
}

/// The default of [`Options::max_rows`].
pub const DEFAULT_MAX_ROWS: usize = 1000;

impl Default for Options {
    fn default() -> Self {
        Options {
            bucket_seconds: None,
            max_line_len: agentlog_validate::DEFAULT_MAX_LINE_LEN,
            threads: 0,
            redactor: Redactor::new(SecretScanner::empty(), Some(Detector::new(Vec::new()))),
            max_rows: DEFAULT_MAX_ROWS,
        }
    }
}

impl Options {
    /// Sets [`Options::bucket_seconds`].
    #[must_use]
    pub fn with_bucket_seconds(mut self, bucket_seconds: Option<u64>) -> Self {
        self.bucket_seconds = bucket_seconds;
        self
    }

    /// Sets [`Options::max_line_len`].
    #[must_use]
    pub fn with_max_line_len(mut self, max_line_len: usize) -> Self {
        self.max_line_len = max_line_len;
        self
    }

    /// Sets [`Options::threads`].
    #[must_use]
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Sets [`Options::max_rows`].
    #[must_use]
    pub fn with_max_rows(mut self, max_rows: usize) -> Self {
        self.max_rows = max_rows;
        self
    }

    /// Sets [`Options::redactor`].
    #[must_use]
    pub fn with_redactor(mut self, redactor: Redactor) -> Self {
        self.redactor = redactor;
        self
    }
}

/// Lines of one kind that were not analysed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LineList {
    /// How many.
    pub count: u64,
    /// Their 1-based line numbers, the first [`LINE_NUMBERS_KEPT`].
    pub lines: Vec<u64>,
}

/// One input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FileSummary {
    /// The input's label: its path, or `-` for stdin.
    pub path: String,
    /// The family of its first classified record; `None` when it had none.
    pub family: Option<Family>,
    /// Bytes read (after decompression).
    pub bytes: u64,
    /// Lines read.
    pub lines: u64,
    /// Records analysed.
    pub records: u64,
    /// Records analysed per family (both appear in a mixed file).
    pub records_by_family: BTreeMap<Family, u64>,
    /// Lines not analysed, by kind: `blank`, `not_json`, `too_long`, `malformed` (JSON, but a
    /// known field has the wrong type, or not an object), `unrecognised` (an object of neither
    /// family). Kinds with no line are left out.
    pub skipped: BTreeMap<&'static str, LineList>,
    /// Records (still counted) with a number that carries a secret (a supplied PIN as an
    /// `elapsed_ms`, a token count or a numeric `ts`): that number is left out of every
    /// figure, so no mean, sum, percentile or time bucket is computed from it.
    pub secret_numbers: LineList,
    /// Why the input was not read (a FIFO or device met in a directory walk, a directory
    /// without logs).
    pub note: Option<String>,
}

/// The result of an analysis.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// [`FORMAT`].
    pub format: &'static str,
    /// The inputs, in the order read.
    pub files: Vec<FileSummary>,
    /// Figures of the ledger records of every input; `None` when there were none.
    pub ledger: Option<LedgerReport>,
    /// Figures of the sandbox events of every input; `None` when there were none.
    pub sandbox: Option<SandboxReport>,
    /// Findings of both families, most severe first.
    pub findings: Vec<Observation>,
}

/// Why an analysis could not be done.
#[derive(Debug)]
#[non_exhaustive]
pub enum AnalyzeError {
    /// A path given does not exist or cannot be listed.
    Walk(walk::WalkError),
    /// An input could not be opened or read.
    Read {
        /// The input's label.
        label: String,
        /// What went wrong.
        source: io::Error,
    },
}

impl std::fmt::Display for AnalyzeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnalyzeError::Walk(e) => write!(f, "{e}"),
            AnalyzeError::Read { label, source } => write!(f, "{label}: {source}"),
        }
    }
}

impl std::error::Error for AnalyzeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AnalyzeError::Walk(e) => Some(e),
            AnalyzeError::Read { source, .. } => Some(source),
        }
    }
}

/// An analysis being fed inputs.
pub struct Analyzer {
    options: Options,
    aggs: read::Aggs,
    files: Vec<FileSummary>,
}

impl Analyzer {
    /// An analysis with nothing read yet.
    pub fn new(options: Options) -> Self {
        Analyzer {
            aggs: read::Aggs::new(&options),
            options,
            files: Vec::new(),
        }
    }

    /// Reads one input of JSON lines labelled `label`. Lines that cannot be analysed are
    /// counted, never an error; only a read error is.
    pub fn read(&mut self, label: &str, reader: impl Read) -> io::Result<()> {
        let mut summary = read::read(&mut self.aggs, &self.options, reader)?;
        summary.path = label.to_owned();
        self.files.push(summary);
        Ok(())
    }

    /// Reads the file at `path` (`*.gz` decompressed, through
    /// [`agentlog_validate::input_reader`]).
    pub fn read_path(&mut self, path: &Path) -> io::Result<()> {
        let file = std::fs::File::open(path)?;
        let reader = agentlog_validate::input_reader(path, file)?;
        self.read(&walk::label(path), reader)
    }

    /// Notes an input that was not read, with the reason.
    pub fn note(&mut self, label: &str, note: String) {
        self.files.push(FileSummary {
            path: label.to_owned(),
            note: Some(note),
            ..FileSummary::default()
        });
    }

    /// The report of everything read.
    pub fn finish(self) -> Report {
        let has = |family| {
            self.files
                .iter()
                .any(|f| f.records_by_family.contains_key(&family))
        };
        let redactor = &self.options.redactor;
        let max_rows = self.options.max_rows;
        let mut ledger = has(Family::Ledger).then(|| self.aggs.ledger.report(max_rows));
        let mut sandbox = has(Family::Sandbox).then(|| self.aggs.sandbox.report());
        // Before the findings, which quote the reports' names, and before any output.
        ledger.withhold(redactor);
        sandbox.withhold(redactor);
        // Then in the order of what they show, not of what was withheld.
        ledger.settle(redactor);
        sandbox.settle(redactor);
        let mut files = self.files;
        files.withhold(redactor);
        let mut findings: Vec<Observation> =
            ledger.iter().flat_map(findings::ledger_findings).collect();
        findings.extend(sandbox.iter().flat_map(findings::sandbox_findings));
        findings::sort(&mut findings);
        Report {
            format: FORMAT,
            files,
            ledger,
            sandbox,
            findings,
        }
    }
}

/// The report as the JSON document `--format json` prints, with every string, number and key
/// that carries a secret withheld ([`Redactor::redact_json`]): names were withheld when the
/// report was built; this catches the numbers (a supplied secret may be all digits) and any
/// text the analysis composed from them.
pub fn to_json(report: &Report, redactor: &Redactor) -> io::Result<serde_json::Value> {
    let mut value = serde_json::to_value(report).map_err(io::Error::other)?;
    redactor.redact_json(&mut value);
    Ok(value)
}

/// Analyses every input `paths` lead to (as `agentlog validate` expands them).
pub fn analyze_paths(paths: &[PathBuf], options: Options) -> Result<Report, AnalyzeError> {
    let redactor = &options.redactor;
    let withheld = |label: &str| redactor.shows_value(label);
    let inputs = walk::expand_gated(paths, &withheld).map_err(AnalyzeError::Walk)?;
    let mut analyzer = Analyzer::new(options);
    for input in inputs {
        let label = input.label();
        let result = match input {
            Input::Stdin => analyzer.read("-", io::stdin().lock()),
            Input::File(path) => analyzer.read_path(&path),
            Input::EmptyDir(_) => {
                analyzer.note(
                    &label,
                    "directory holds no *.jsonl or *.jsonl.gz file".into(),
                );
                Ok(())
            }
            Input::Skipped { reason, .. } => {
                analyzer.note(&label, reason.to_string());
                Ok(())
            }
        };
        result.map_err(|source| AnalyzeError::Read { label, source })?;
    }
    Ok(analyzer.finish())
}

/// Unix seconds as RFC 3339 UTC (`2026-11-23T16:52:00Z`); the number itself when out of
/// range.
pub(crate) fn time_text(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}
