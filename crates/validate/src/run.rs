//! A validate run: the paths a user gives, read into one [`Report`] (`agentlog validate` is
//! this, plus option parsing and printing).
//!
//! The model: the **paths** (files, directories, `-` for standard input, given at most once)
//! are expanded into **inputs** by [`walk::expand_gated`] (inputs whose labels carry a secret
//! last); each input becomes one [`FileReport`], in order. A file is validated through
//! [`input_reader`] (a `.gz` file is decompressed on the fly), standard input as it comes; a
//! directory that holds no log is an `input.empty` error unless [`Options::allow_empty`](crate::Options::allow_empty); an
//! entry a directory walk does not read is an `input.skipped` warning. Once the error budget
//! ([`Options::max_errors`](crate::Options::max_errors)) is spent, later inputs are not read. A caller that shows
//! progress watches each file's bytes through [`Progress`]; [`NoProgress`] watches nothing.
//!
//! A path may carry a secret: every label in the report and every error passes the
//! validator's [`Redactor`](crate::secrets::redact::Redactor), and a [`Progress`] is only
//! given labels as the report shows them.
//!
//! ```
//! use agentlog_validate::{NoProgress, Options, Rule, Validator};
//!
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("events.jsonl"), "{}\n").unwrap();
//! std::fs::create_dir(dir.path().join("empty")).unwrap();
//! let paths = [dir.path().join("events.jsonl"), dir.path().join("empty")];
//!
//! let validator = Validator::new(Options::default()).unwrap();
//! let report = validator.validate_paths(&paths, &NoProgress).unwrap();
//! assert_eq!(report.files.len(), 2);
//! assert_eq!(report.files[0].lines, 1);
//! assert_eq!(report.files[1].findings[0].rule, Rule::InputEmpty);
//!
//! let lenient = Validator::new(Options::default().with_allow_empty(true)).unwrap();
//! let report = lenient.validate_paths(&paths[1..], &NoProgress).unwrap();
//! assert!(report.files[0].findings.is_empty());
//! ```

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::walk::{self, Input};
use crate::{FileReport, Report, Validator, WITHHELD_PATH, input_reader, no_match_finding};

/// Watches the files a run reads, e.g. to draw a progress bar. Called on the thread that
/// runs [`Validator::validate_paths`], one file at a time: [`Progress::start`], then
/// [`Progress::finish`].
pub trait Progress {
    /// The file `label` (as the report shows it) is about to be read; `len` is its size in
    /// bytes when known. Returns what to read it through: `file` itself, or `file` wrapped to
    /// watch the bytes read.
    fn start(
        &self,
        label: &str,
        len: Option<u64>,
        file: Box<dyn Read + Send>,
    ) -> Box<dyn Read + Send>;

    /// The file last started has been read, or could not be.
    fn finish(&self, label: &str);
}

/// A [`Progress`] that watches nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(
        &self,
        _label: &str,
        _len: Option<u64>,
        file: Box<dyn Read + Send>,
    ) -> Box<dyn Read + Send> {
        file
    }

    fn finish(&self, _label: &str) {}
}

/// Why a run stopped without a report. Its message never shows a secret: a path that
/// carries one is withheld.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// `-` (standard input) was given more than once: it can be read only once.
    #[error("`-` (standard input) may be given only once")]
    StdinTwice,
    /// A path given cannot be used: it does not exist, or it is a directory that cannot be
    /// listed.
    #[error("{message}")]
    Path {
        /// `LABEL: ERROR`, or [`crate::secrets::redact::WITHHELD`] when it carries a secret.
        message: String,
        /// The operating system's error.
        source: io::Error,
    },
    /// An input could not be opened or read.
    #[error("{message}")]
    Read {
        /// `LABEL: ERROR`, or [`crate::secrets::redact::WITHHELD`] when it carries a secret.
        message: String,
        /// The operating system's error.
        source: io::Error,
    },
}

/// The check [`Validator::validate_paths`] makes first: `-` is given at most once. Call it
/// before building a validator to refuse such paths before anything else.
pub fn check_stdin_once(paths: &[PathBuf]) -> Result<(), RunError> {
    if paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(RunError::StdinTwice);
    }
    Ok(())
}

impl Validator {
    /// Validates every input `paths` lead to (see the [module documentation](self)): one
    /// [`FileReport`] per input, in order. Fails when `-` is given twice, when a path given
    /// cannot be used, or when a file cannot be opened; a read error within a file is an
    /// `input.read` finding.
    pub fn validate_paths(
        &self,
        paths: &[PathBuf],
        progress: &dyn Progress,
    ) -> Result<Report, RunError> {
        check_stdin_once(paths)?;
        let withheld = |label: &str| self.redactor().shows_value(label);
        let inputs = walk::expand_gated(paths, &withheld).map_err(|e| RunError::Path {
            message: self.withhold(e.to_string()),
            source: e.source,
        })?;
        let mut report = Report::default();
        for input in inputs {
            if self.budget_spent() {
                break;
            }
            report.files.push(self.validate_input(input, progress)?);
        }
        Ok(report)
    }

    /// One input's report.
    fn validate_input(
        &self,
        input: Input,
        progress: &dyn Progress,
    ) -> Result<FileReport, RunError> {
        let label = input.label();
        Ok(match input {
            Input::Stdin => self.validate_reader("-", io::stdin()),
            Input::File(path) => self
                .validate_file(&path, &label, progress)
                .map_err(|source| RunError::Read {
                    message: self.withhold(format!("{label}: {source}")),
                    source,
                })?,
            Input::EmptyDir(_) => {
                let label = self.withhold(label);
                let findings = if self.options.allow_empty {
                    vec![]
                } else {
                    vec![no_match_finding(&format!("directory {label}"))]
                };
                FileReport {
                    path: label,
                    findings,
                    ..FileReport::default()
                }
            }
            Input::Skipped { reason, .. } => FileReport {
                path: self.withhold(label),
                findings: vec![reason.finding()],
                ..FileReport::default()
            },
        })
    }

    /// Validates the file at `path`, labelled `label`, watched by `progress`.
    fn validate_file(
        &self,
        path: &Path,
        label: &str,
        progress: &dyn Progress,
    ) -> io::Result<FileReport> {
        let file = File::open(path)?;
        let len = file.metadata().ok().map(|m| m.len());
        let shown = if self.redactor().shows_value(label) {
            WITHHELD_PATH
        } else {
            label
        };
        let reader = progress.start(shown, len, Box::new(file));
        let report = input_reader(path, reader).map(|reader| self.validate_reader(label, reader));
        progress.finish(shown);
        report
    }

    /// `text` itself, or [`crate::secrets::redact::WITHHELD`] when it carries a secret.
    fn withhold(&self, text: String) -> String {
        self.redactor().text(&text).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::redact::WITHHELD;
    use crate::secrets::{Secret, SecretValue};
    use crate::{Options, Rule, Severity};
    use std::sync::Mutex;

    const SECRET: &str = "hunter2-hunter2-value";

    fn validator(options: Options) -> Validator {
        let secret = Secret::new("T", SecretValue::new(SECRET), vec![]);
        Validator::new(options.with_secrets(vec![secret])).unwrap()
    }

    const EVENT: &str = "{\"ts\":\"2026-02-24T23:02:34.123851Z\",\"run_id\":\"vm-503ad4d1\",\
        \"agent_system\":\"openclaw\",\"event_type\":\"budget_action\",\"summary\":\"s\",\
        \"data\":{\"action\":\"warn\"}}\n";

    #[test]
    fn a_directory_without_logs_is_an_error_unless_allowed() {
        let dir = tempfile::tempdir().unwrap();
        let paths = [dir.path().to_path_buf()];
        let report = validator(Options::default())
            .validate_paths(&paths, &NoProgress)
            .unwrap();
        let [file] = &report.files[..] else {
            panic!("{report:?}")
        };
        let label = walk::label(dir.path());
        assert_eq!(file.path, label);
        assert_eq!(file.findings.len(), 1);
        assert_eq!(file.findings[0].rule, Rule::InputEmpty);
        assert_eq!(file.findings[0].severity, Severity::Error);
        assert_eq!(
            file.findings[0].message,
            format!("directory {label} holds no *.jsonl or *.jsonl.gz file")
        );
        assert!(report.has_errors());

        let report = validator(Options::default().with_allow_empty(true))
            .validate_paths(&paths, &NoProgress)
            .unwrap();
        assert_eq!(report.files.len(), 1);
        assert!(report.files[0].findings.is_empty());
        assert!(!report.has_errors());
    }

    #[test]
    fn a_path_carrying_a_secret_is_withheld() {
        let dir = tempfile::tempdir().unwrap();
        let named = dir.path().join(format!("{SECRET}.jsonl"));
        std::fs::write(&named, EVENT).unwrap();
        let empty = dir.path().join(format!("{SECRET}-dir"));
        std::fs::create_dir(&empty).unwrap();
        let validator = validator(Options::default());
        let report = validator
            .validate_paths(&[named, empty], &NoProgress)
            .unwrap();
        assert_eq!(report.files[0].path, WITHHELD_PATH);
        assert_eq!(report.files[0].events, 1);
        assert_eq!(report.files[1].path, WITHHELD);
        assert!(!format!("{report:?}").contains("hunter2"), "{report:?}");

        let missing = dir.path().join(format!("{SECRET}-missing.jsonl"));
        let error = validator
            .validate_paths(&[missing], &NoProgress)
            .unwrap_err();
        assert!(matches!(error, RunError::Path { .. }), "{error:?}");
        assert_eq!(error.to_string(), WITHHELD);
    }

    #[test]
    fn a_missing_path_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.jsonl");
        let error = validator(Options::default())
            .validate_paths(std::slice::from_ref(&missing), &NoProgress)
            .unwrap_err();
        let label = walk::label(&missing);
        assert!(
            error.to_string().starts_with(&format!("{label}: ")),
            "{error}"
        );
    }

    #[test]
    fn stdin_is_read_at_most_once() {
        let paths = [PathBuf::from("-"), PathBuf::from("-")];
        let error = validator(Options::default())
            .validate_paths(&paths, &NoProgress)
            .unwrap_err();
        assert!(matches!(error, RunError::StdinTwice));
        assert_eq!(
            error.to_string(),
            "`-` (standard input) may be given only once"
        );
        assert!(check_stdin_once(&paths[..1]).is_ok());
    }

    /// Records what it is told.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);

    impl Progress for Recorder {
        fn start(
            &self,
            label: &str,
            len: Option<u64>,
            file: Box<dyn Read + Send>,
        ) -> Box<dyn Read + Send> {
            let mut seen = self.0.lock().unwrap();
            seen.push(format!("start {label} {len:?}"));
            file
        }

        fn finish(&self, label: &str) {
            self.0.lock().unwrap().push(format!("finish {label}"));
        }
    }

    #[test]
    fn progress_sees_each_file_under_its_shown_label() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.jsonl"), EVENT).unwrap();
        std::fs::write(dir.path().join(format!("{SECRET}.jsonl")), EVENT).unwrap();
        let recorder = Recorder::default();
        let report = validator(Options::default())
            .validate_paths(&[dir.path().to_path_buf()], &recorder)
            .unwrap();
        assert_eq!(report.files.len(), 2);
        let a = walk::label(&dir.path().join("a.jsonl"));
        let len = EVENT.len();
        assert_eq!(
            *recorder.0.lock().unwrap(),
            [
                format!("start {a} Some({len})"),
                format!("finish {a}"),
                format!("start {WITHHELD_PATH} Some({len})"),
                format!("finish {WITHHELD_PATH}"),
            ]
        );
    }

    #[test]
    fn a_spent_budget_stops_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
        std::fs::write(&a, "not json\n").unwrap();
        std::fs::write(&b, "not json\n").unwrap();
        let report = validator(Options::default().with_max_errors(Some(1)))
            .validate_paths(&[a, b], &NoProgress)
            .unwrap();
        assert_eq!(report.files.len(), 1, "{report:?}");
    }

    #[cfg(feature = "gzip")]
    #[test]
    fn a_gz_file_is_decompressed() {
        use std::io::Write as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl.gz");
        let mut gz =
            flate2::write::GzEncoder::new(File::create(&path).unwrap(), Default::default());
        gz.write_all(EVENT.as_bytes()).unwrap();
        gz.finish().unwrap();
        let report = validator(Options::default())
            .validate_paths(&[path], &NoProgress)
            .unwrap();
        assert_eq!((report.files[0].events, report.has_errors()), (1, false));
    }
}
