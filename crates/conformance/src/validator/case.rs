//! One validator case: a log, the options to check it with and the expected verdict, loaded
//! from the embedded set or from a directory of `NAME.jsonl` + `NAME.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use agentlog_validate::secrets::{Secret, SecretValue};
use agentlog_validate::{Options, ProfileChoice, Severity};
use serde::Deserialize;

use super::HarnessError;
use super::judge::Verdict;
use crate::cases;

/// The options a case runs with (its verdict file's `options` object).
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
    /// Secrets (name -> value) whose values must not appear. Test values of the case files,
    /// handed to the implementation under test; the harness never prints them.
    pub secrets: BTreeMap<String, String>,
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

    /// The same options as `agentlog validate` flags (the `{flags}` of a command template),
    /// unquoted.
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

    /// The options as the JSON object of the `{options}` file: only the keys the case sets.
    pub fn to_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        if let Some(p) = &self.profile {
            map.insert("profile".into(), p.clone().into());
        }
        if let Some(u) = &self.unknown_types {
            map.insert("unknown_types".into(), u.clone().into());
        }
        if self.allow_empty {
            map.insert("allow_empty".into(), true.into());
        }
        if let Some(b) = self.builtin_detectors {
            map.insert("builtin_detectors".into(), b.into());
        }
        if !self.secrets.is_empty() {
            let secrets = self
                .secrets
                .iter()
                .map(|(k, v)| (k.clone(), v.clone().into()))
                .collect();
            map.insert("secrets".into(), serde_json::Value::Object(secrets));
        }
        serde_json::Value::Object(map)
    }
}

/// One validator case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogCase {
    /// Stable id, `validate/NAME`.
    pub id: String,
    /// File stem, e.g. `line_torn`.
    pub name: String,
    /// The log's bytes.
    pub log: Vec<u8>,
    /// The log's file when the case was loaded from a directory; `None` for an embedded case
    /// (a command then gets a copy written to its scratch directory).
    pub log_path: Option<PathBuf>,
    /// What the case pins.
    pub description: String,
    /// Options to run with.
    pub options: CaseOptions,
    /// Lines the implementation must report.
    pub lines: u64,
    /// Expected findings, a multiset sorted by line, rule, severity: a finding listed twice
    /// must be reported twice.
    pub findings: Vec<Verdict>,
    /// The pointers the case pins, a multiset sorted like `findings`: one entry per expected
    /// finding whose verdict row gives `"pointer"` (`None`: the finding has no pointer, a
    /// `null` in the file). A finding without the key is not compared on its pointer.
    pub pointers: Vec<(Verdict, Option<String>)>,
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
#[serde(deny_unknown_fields)]
struct FindingRow {
    line: u64,
    rule: String,
    severity: String,
    /// Absent: not compared; `null`: no pointer; a string: that pointer.
    #[serde(default, deserialize_with = "present")]
    pointer: Option<Option<String>>,
}

/// Tells a `"pointer": null` (no pointer, `Some(None)`) from an absent key (`None`, through
/// `#[serde(default)]`).
fn present<'de, D>(deserializer: D) -> Result<Option<Option<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<String>::deserialize(deserializer).map(Some)
}

/// Builds a case from its name, log bytes and verdict file bytes; `verdict_label` names the
/// verdict file in errors.
fn parse_case(
    name: &str,
    log: Vec<u8>,
    log_path: Option<PathBuf>,
    verdict: &[u8],
    verdict_label: &str,
) -> Result<LogCase, HarnessError> {
    let bad = |message: String| HarnessError::BadCase {
        path: verdict_label.to_owned(),
        message,
    };
    let verdict: VerdictFile = serde_json::from_slice(verdict).map_err(|e| bad(e.to_string()))?;
    if let Some(profile) = &verdict.options.profile
        && profile.parse::<ProfileChoice>().is_err()
    {
        let known: Vec<&str> = ProfileChoice::ALL.iter().map(|p| p.name()).collect();
        return Err(bad(format!(
            "options.profile {profile:?}: known: {}",
            known.join(", ")
        )));
    }
    let mut pointers = Vec::new();
    let mut findings: Vec<Verdict> = Vec::with_capacity(verdict.findings.len());
    for row in verdict.findings {
        let finding = (row.line, row.rule, row.severity);
        if let Some(pointer) = row.pointer {
            pointers.push((finding.clone(), pointer));
        }
        findings.push(finding);
    }
    findings.sort();
    pointers.sort();
    Ok(LogCase {
        id: format!("validate/{name}"),
        name: name.to_owned(),
        log,
        log_path,
        description: verdict.description,
        options: verdict.options,
        lines: verdict.lines,
        findings,
        pointers,
    })
}

/// Every validator case embedded in the binary (the repository's `conformance/logs/`),
/// sorted by id.
pub fn load_embedded() -> Result<Vec<LogCase>, HarnessError> {
    let mut out = Vec::new();
    for (path, log) in cases::files() {
        let Some(name) = path
            .strip_prefix("logs/")
            .and_then(|p| p.strip_suffix(".jsonl"))
        else {
            continue;
        };
        let verdict_path = format!("logs/{name}.json");
        let label = format!("conformance/{verdict_path}");
        let verdict = cases::file(&verdict_path).ok_or_else(|| HarnessError::BadCase {
            path: label.clone(),
            message: "missing".into(),
        })?;
        out.push(parse_case(name, log.to_vec(), None, verdict, &label)?);
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Every case of a directory, sorted by id: `DIR/logs/` when it exists (a directory written
/// by `agentlog conformance export`, or a vendored `conformance/`), else `DIR` itself (a
/// directory of `NAME.jsonl` + `NAME.json`).
pub fn load_dir(dir: &Path) -> Result<Vec<LogCase>, HarnessError> {
    let logs_dir = dir.join("logs");
    let dir = if logs_dir.is_dir() { &logs_dir } else { dir };
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
    let mut out = Vec::with_capacity(logs.len());
    for log_path in logs {
        let verdict_path = log_path.with_extension("json");
        let verdict = std::fs::read(&verdict_path).map_err(|e| read(&verdict_path, e))?;
        let log = std::fs::read(&log_path).map_err(|e| read(&log_path, e))?;
        let name = log_path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let label = verdict_path.display().to_string();
        out.push(parse_case(&name, log, Some(log_path), &verdict, &label)?);
    }
    if out.is_empty() {
        return Err(HarnessError::NoCases(dir.to_path_buf()));
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}
