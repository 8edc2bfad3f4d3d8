//! The conformance harness for validators: runs the language-neutral cases of
//! `conformance/logs/` against the reference validator or against any other implementation.
//!
//! A case is `NAME.jsonl` (the log) plus `NAME.json` (options and the expected verdict, see
//! `conformance/README.md`). An implementation conforms when, for every case, it reports the
//! expected number of lines and exactly the expected set of `(line, rule, severity)`; messages
//! and pointers are free text. Another implementation is driven through a command template
//! and must print agentlog's JSON report format (`agentlog validate --format json`) on stdout;
//! only `files[].lines` and `files[].findings[].{line,rule,severity}` are read.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_json::Value;

use crate::secrets::{Secret, SecretValue};
use crate::{FileReport, Options, Severity, Validator};

/// One expected or reported finding: `(line, rule, severity)`.
pub type Verdict = (u64, String, String);

/// The options a case runs with.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct CaseOptions {
    /// `"v0"`, `"v1"`, `"ledger"` or `"auto"`; absent: `auto`, as `agentlog validate`
    /// defaults to (the flag is then not passed to a command either).
    pub profile: Option<String>,
    /// `"warn"` makes unknown event types warnings; absent or `"error"`: errors.
    pub unknown_types: Option<String>,
    /// Inputs without events are accepted.
    pub allow_empty: bool,
    /// Secrets (name -> value) whose values must not appear.
    pub secrets: std::collections::BTreeMap<String, String>,
    /// `false` turns the built-in credential detector off (default on).
    pub builtin_detectors: Option<bool>,
}

impl CaseOptions {
    /// The reference validator's options for this case.
    pub fn to_validate_options(&self) -> Options {
        let mut options = Options::default();
        if let Some(profile) = self.profile.as_deref().and_then(|p| p.parse().ok()) {
            options.profile = profile;
        }
        if self.unknown_types.as_deref() == Some("warn") {
            options.unknown_types = Severity::Warning;
        }
        options.allow_empty = self.allow_empty;
        options.builtin_detectors = self.builtin_detectors.unwrap_or(true);
        options.secrets = self
            .secrets
            .iter()
            .map(|(name, value)| Secret::new(name.clone(), SecretValue::new(value.clone()), vec![]))
            .collect();
        options
    }

    /// The same options as `agentlog validate` flags (the `{flags}` of a command template).
    pub fn to_cli_flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        if let Some(profile) = &self.profile {
            flags.extend(["--profile".to_owned(), profile.clone()]);
        }
        if let Some(severity) = &self.unknown_types {
            flags.extend(["--unknown-types".to_owned(), severity.clone()]);
        }
        if self.allow_empty {
            flags.push("--allow-empty".into());
        }
        if self.builtin_detectors == Some(false) {
            flags.push("--no-builtin-detectors".into());
        }
        for (name, value) in &self.secrets {
            flags.extend(["--secret".to_owned(), format!("{name}={value}")]);
        }
        flags
    }
}

/// One conformance case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogCase {
    /// File stem, e.g. `line_torn`.
    pub name: String,
    /// The `.jsonl` input.
    pub log: PathBuf,
    /// The `.json` verdict file.
    pub verdict_file: PathBuf,
    /// What the case pins.
    pub description: String,
    /// Options to run with.
    pub options: CaseOptions,
    /// Lines the implementation must report.
    pub lines: u64,
    /// Expected findings, as a set.
    pub findings: BTreeSet<Verdict>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerdictFile {
    description: String,
    #[serde(default)]
    options: CaseOptions,
    lines: u64,
    findings: Vec<FindingRow>,
}

#[derive(Deserialize)]
struct FindingRow {
    line: u64,
    rule: String,
    severity: String,
}

/// Why the harness could not run.
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
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// No case found.
    #[error("no conformance case (*.jsonl with a .json verdict) in {0}")]
    NoCases(PathBuf),
    /// The reference validator could not be built.
    #[error("reference validator: {0}")]
    Validator(String),
}

/// Loads every case of `dir`, sorted by name.
pub fn load_log_cases(dir: &Path) -> Result<Vec<LogCase>, HarnessError> {
    let read = |path: &Path, source| HarnessError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut logs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| read(dir, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    logs.sort();
    let mut cases = Vec::with_capacity(logs.len());
    for log in logs {
        let verdict_file = log.with_extension("json");
        let text = std::fs::read(&verdict_file).map_err(|e| read(&verdict_file, e))?;
        let bad = |message: String| HarnessError::BadCase {
            path: verdict_file.clone(),
            message,
        };
        let verdict: VerdictFile = serde_json::from_slice(&text).map_err(|e| bad(e.to_string()))?;
        if let Some(profile) = &verdict.options.profile
            && profile.parse::<crate::Profile>().is_err()
        {
            return Err(bad(format!(
                "options.profile {profile:?}: known: v0, v1, auto"
            )));
        }
        cases.push(LogCase {
            name: log
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            description: verdict.description,
            options: verdict.options,
            lines: verdict.lines,
            findings: verdict
                .findings
                .into_iter()
                .map(|f| (f.line, f.rule, f.severity))
                .collect(),
            log,
            verdict_file,
        });
    }
    if cases.is_empty() {
        return Err(HarnessError::NoCases(dir.to_path_buf()));
    }
    Ok(cases)
}

/// What an implementation reported for one case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Observed {
    /// Lines it checked.
    pub lines: u64,
    /// Its findings, as a set.
    pub findings: BTreeSet<Verdict>,
}

/// The outcome of one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Case name.
    pub name: String,
    /// Expected but not reported.
    pub missing: Vec<Verdict>,
    /// Reported but not expected.
    pub unexpected: Vec<Verdict>,
    /// `(expected, reported)` line counts when they differ.
    pub lines_mismatch: Option<(u64, u64)>,
    /// The implementation could not be run or its output not read.
    pub error: Option<String>,
}

impl Observed {
    /// What the reference validator reported in `report`.
    pub fn from_report(report: &FileReport) -> Self {
        Observed {
            lines: report.lines,
            findings: report
                .findings
                .iter()
                .map(|f| (f.line, f.rule.id().to_owned(), f.severity.to_string()))
                .collect(),
        }
    }
}

impl Outcome {
    /// Whether the implementation conforms on this case.
    pub fn passed(&self) -> bool {
        self.missing.is_empty()
            && self.unexpected.is_empty()
            && self.lines_mismatch.is_none()
            && self.error.is_none()
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.passed() {
            return write!(f, "PASS {}", self.name);
        }
        write!(f, "FAIL {}", self.name)?;
        if let Some(error) = &self.error {
            write!(f, ": {error}")?;
        }
        if let Some((want, got)) = self.lines_mismatch {
            write!(f, "; lines: expected {want}, reported {got}")?;
        }
        let list = |v: &[Verdict]| {
            v.iter()
                .map(|(line, rule, severity)| format!("{line}:{rule}:{severity}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !self.missing.is_empty() {
            write!(f, "; missing [{}]", list(&self.missing))?;
        }
        if !self.unexpected.is_empty() {
            write!(f, "; unexpected [{}]", list(&self.unexpected))?;
        }
        Ok(())
    }
}

/// Compares what an implementation reported with what the case expects.
pub fn judge(case: &LogCase, observed: Result<Observed, String>) -> Outcome {
    let mut outcome = Outcome {
        name: case.name.clone(),
        missing: Vec::new(),
        unexpected: Vec::new(),
        lines_mismatch: None,
        error: None,
    };
    match observed {
        Err(error) => outcome.error = Some(error),
        Ok(observed) => {
            outcome.missing = case
                .findings
                .difference(&observed.findings)
                .cloned()
                .collect();
            outcome.unexpected = observed
                .findings
                .difference(&case.findings)
                .cloned()
                .collect();
            if observed.lines != case.lines {
                outcome.lines_mismatch = Some((case.lines, observed.lines));
            }
        }
    }
    outcome
}

/// Runs a case with the reference validator, in process.
pub fn run_reference(case: &LogCase) -> Result<Observed, String> {
    let validator =
        Validator::new(case.options.to_validate_options()).map_err(|e| e.to_string())?;
    let report = validator
        .validate_path(&case.log)
        .map_err(|e| format!("read {}: {e}", case.log.display()))?;
    Ok(Observed::from_report(&report))
}

/// Reads agentlog's JSON report format (one input) into what the harness compares.
pub fn parse_json_report(stdout: &[u8]) -> Result<Observed, String> {
    let report: Value =
        serde_json::from_slice(stdout).map_err(|e| format!("stdout is not a JSON report: {e}"))?;
    let files = report["files"]
        .as_array()
        .ok_or("report has no `files` array")?;
    let mut observed = Observed::default();
    for file in files {
        observed.lines += file["lines"]
            .as_u64()
            .ok_or("a file has no `lines` count")?;
        for finding in file["findings"]
            .as_array()
            .ok_or("a file has no `findings`")?
        {
            let row = (|| {
                Some((
                    finding["line"].as_u64()?,
                    finding["rule"].as_str()?.to_owned(),
                    finding["severity"].as_str()?.to_owned(),
                ))
            })()
            .ok_or_else(|| format!("finding without line/rule/severity: {finding}"))?;
            observed.findings.insert(row);
        }
    }
    Ok(observed)
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Runs a case with another implementation: `template` is a `sh -c` command line in which
/// `{log}` becomes the case's log path, `{options}` the path of a JSON file holding the
/// case's `options` object, and `{flags}` the options as `agentlog validate` flags (all
/// shell-quoted). The command must print a JSON report on stdout; its exit code is ignored
/// (findings make a conforming validator exit 1).
pub fn run_command(case: &LogCase, template: &str, scratch: &Path) -> Result<Observed, String> {
    let options_path = scratch.join(format!("{}.options.json", case.name));
    let options = serde_json::to_vec(&options_json(&case.options)).map_err(|e| e.to_string())?;
    std::fs::write(&options_path, options)
        .map_err(|e| format!("write {}: {e}", options_path.display()))?;
    let flags: Vec<String> = case
        .options
        .to_cli_flags()
        .iter()
        .map(|f| shell_quote(f))
        .collect();
    let command = template
        .replace("{log}", &shell_quote(&case.log.to_string_lossy()))
        .replace("{options}", &shell_quote(&options_path.to_string_lossy()))
        .replace("{flags}", &flags.join(" "));
    let output = Command::new("sh")
        .arg("-c")
        .arg(&command)
        .output()
        .map_err(|e| format!("run `sh -c`: {e}"))?;
    parse_json_report(&output.stdout).map_err(|e| {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().next().unwrap_or("");
        format!("{e} (exit {:?}; stderr: {first})", output.status.code())
    })
}

fn options_json(options: &CaseOptions) -> Value {
    let mut map = serde_json::Map::new();
    if let Some(p) = &options.profile {
        map.insert("profile".into(), Value::String(p.clone()));
    }
    if let Some(u) = &options.unknown_types {
        map.insert("unknown_types".into(), Value::String(u.clone()));
    }
    if options.allow_empty {
        map.insert("allow_empty".into(), Value::Bool(true));
    }
    if let Some(b) = options.builtin_detectors {
        map.insert("builtin_detectors".into(), Value::Bool(b));
    }
    if !options.secrets.is_empty() {
        let secrets = options
            .secrets
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        map.insert("secrets".into(), Value::Object(secrets));
    }
    Value::Object(map)
}
