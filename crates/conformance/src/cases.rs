//! Every conformance case as data, embedded at build time.
//!
//! This crate's `conformance/` directory (`crates/conformance/conformance/`) is the source: `logs/NAME.jsonl` with its
//! verdict `logs/NAME.json` (validator cases), `scenarios/NAME.json` (interceptor
//! scenarios), `ledger/hash_vectors.json` (the ledger's hash vectors), and their READMEs.
//! The build script embeds each file; [`manifest`] lists the cases, derived from the files
//! themselves, so adding a case file adds a case (and a test) with nothing else to edit.
//! `conformance/manifest.json` is the same manifest written out for ports that vendor the
//! directory; a test keeps it equal to [`manifest`].
//!
//! The files live inside this crate so that a packaged `agentlog-conformance` carries them.
//! The repository's top-level `conformance/`, where ports and docs look, is a byte-for-byte
//! copy held by the repository's `tests/mirrored_trees.rs`: edit the crate's copy, then
//! `AGENTLOG_SYNC_TREES=1 cargo test --test mirrored_trees`.
//!
//! Ids are stable: `validate/NAME`, `proxy/NAME`, `seal/NAME`, `seal_ledger/NAME`, `ledger/hash_vectors`. A case keeps its
//! id for as long as its file keeps its name.

use std::io;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// What a case checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A log and the validator's expected verdict (`logs/`).
    Validate,
    /// An interceptor scenario (`scenarios/`).
    Proxy,
    /// Test vectors of the ledger's argument hashes (`ledger/`).
    HashVectors,
    /// A sealed log, maybe tampered with, and the verdict `verify` must give (`seal/`).
    Seal,
    /// A sealed ledger directory, maybe tampered with, and the verdict `verify DIR` must
    /// give (`seal_ledger/`).
    SealLedger,
}

/// One entry of the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Stable id: `validate/NAME`, `proxy/NAME`, `seal/NAME`, `seal_ledger/NAME` or
    /// `ledger/hash_vectors`.
    pub id: String,
    /// What the case checks.
    pub kind: Kind,
    /// `v0`, `v1`, `ledger` or `auto` (the validator's default); `any` for a seal case.
    pub profile: String,
    /// One line on what the case pins.
    pub description: String,
    /// Its files, relative to the `conformance/` directory.
    pub files: Vec<String>,
}

/// Why the embedded set is inconsistent (a build-time mistake, reported, never a panic).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CasesError {
    /// A case file is not the JSON its kind needs.
    #[error("conformance/{path}: {message}")]
    Invalid {
        /// The file, relative to `conformance/`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Writing the cases out.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The I/O error.
        source: io::Error,
    },
}

/// Every embedded file: its path relative to `conformance/` (with `/`) and its bytes.
pub fn files() -> impl Iterator<Item = (&'static str, &'static [u8])> {
    FILES.iter().copied()
}

/// The bytes of one embedded file, by its path relative to `conformance/`.
pub fn file(path: &str) -> Option<&'static [u8]> {
    FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, bytes)| *bytes)
}

fn json(path: &str) -> Result<Value, CasesError> {
    let bytes = file(path).ok_or_else(|| CasesError::Invalid {
        path: path.to_owned(),
        message: "missing".into(),
    })?;
    serde_json::from_slice(bytes).map_err(|e| CasesError::Invalid {
        path: path.to_owned(),
        message: format!("not JSON: {e}"),
    })
}

fn description(path: &str, value: &Value) -> Result<String, CasesError> {
    value["description"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| CasesError::Invalid {
            path: path.to_owned(),
            message: "no \"description\" string".into(),
        })
}

/// The manifest: every case, sorted by id.
pub fn manifest() -> Result<Vec<Entry>, CasesError> {
    let mut entries = Vec::new();
    for (path, _) in files() {
        if let Some(stem) = path
            .strip_prefix("logs/")
            .and_then(|p| p.strip_suffix(".jsonl"))
        {
            let verdict = format!("logs/{stem}.json");
            let value = json(&verdict)?;
            entries.push(Entry {
                id: format!("validate/{stem}"),
                kind: Kind::Validate,
                profile: value
                    .pointer("/options/profile")
                    .and_then(Value::as_str)
                    .unwrap_or("auto")
                    .to_owned(),
                description: description(&verdict, &value)?,
                files: vec![path.to_owned(), verdict],
            });
        } else if let Some(stem) = path
            .strip_prefix("scenarios/")
            .and_then(|p| p.strip_suffix(".json"))
        {
            let value = json(path)?;
            entries.push(Entry {
                id: format!("proxy/{stem}"),
                kind: Kind::Proxy,
                profile: value
                    .get("profile")
                    .and_then(Value::as_str)
                    .unwrap_or("v0")
                    .to_owned(),
                description: description(path, &value)?,
                files: vec![path.to_owned()],
            });
        } else if let Some(stem) = path
            .strip_prefix("seal/")
            .and_then(|p| p.strip_suffix(".json"))
        {
            let value = json(path)?;
            let mut files = vec![format!("seal/{stem}.jsonl"), path.to_owned()];
            let seal = format!("seal/{stem}.jsonl.seal");
            if file(&seal).is_some() {
                files.push(seal);
            }
            if let Some(key) = value.get("pubkey").and_then(Value::as_str) {
                files.push(format!("seal/{key}"));
            }
            entries.push(Entry {
                id: format!("seal/{stem}"),
                kind: Kind::Seal,
                profile: "any".into(),
                description: description(path, &value)?,
                files,
            });
        } else if let Some(stem) = path
            .strip_prefix("seal_ledger/")
            .and_then(|p| p.strip_suffix(".json"))
            .filter(|stem| !stem.contains('/'))
        {
            entries.push(seal_ledger_entry(path, stem)?);
        } else if path == "ledger/hash_vectors.json" {
            let value = json(path)?;
            entries.push(Entry {
                id: "ledger/hash_vectors".into(),
                kind: Kind::HashVectors,
                profile: "ledger".into(),
                description: description(path, &value)?,
                files: vec![path.to_owned()],
            });
        }
    }
    entries.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(entries)
}

/// The entry of the sealed-ledger case `seal_ledger/STEM.json`: the verdict, every file of
/// the ledger directory `seal_ledger/STEM/`, and the public key when the verdict names one.
fn seal_ledger_entry(path: &str, stem: &str) -> Result<Entry, CasesError> {
    let value = json(path)?;
    let prefix = format!("seal_ledger/{stem}/");
    let mut files = vec![path.to_owned()];
    files.extend(
        self::files()
            .map(|(p, _)| p)
            .filter(|p| p.starts_with(&prefix))
            .map(str::to_owned),
    );
    if let Some(key) = value.get("pubkey").and_then(Value::as_str) {
        files.push(format!("seal_ledger/{key}"));
    }
    Ok(Entry {
        id: format!("seal_ledger/{stem}"),
        kind: Kind::SealLedger,
        profile: "any".into(),
        description: description(path, &value)?,
        files,
    })
}

/// The manifest as `conformance/manifest.json` holds it (pretty JSON, newline at the end).
pub fn manifest_json() -> Result<String, CasesError> {
    let entries = manifest()?;
    let value = serde_json::json!({
        "description": "Every agentlog conformance case: a stable id, what it checks, its profile and its files (relative to this directory). Generated from the files; see README.md.",
        "cases": entries,
    });
    let mut text = serde_json::to_string_pretty(&value).map_err(|e| CasesError::Invalid {
        path: "manifest.json".into(),
        message: e.to_string(),
    })?;
    text.push('\n');
    Ok(text)
}

/// Writes every embedded file under `dir` (created when missing), with `manifest.json`
/// regenerated; returns the number of files written.
pub fn export(dir: &Path) -> Result<usize, CasesError> {
    let io_error = |path: &Path| {
        let path = path.display().to_string();
        move |source| CasesError::Io { path, source }
    };
    let manifest = manifest_json()?;
    let mut written = 0;
    for (relative, bytes) in files().filter(|(p, _)| *p != "manifest.json") {
        let target = dir.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        std::fs::write(&target, bytes).map_err(io_error(&target))?;
        written += 1;
    }
    let target = dir.join("manifest.json");
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    std::fs::write(&target, manifest).map_err(io_error(&target))?;
    Ok(written + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_log_has_its_verdict_and_every_case_a_description() {
        let entries = manifest().unwrap();
        let count = |kind| entries.iter().filter(|e| e.kind == kind).count();
        let logs = files()
            .filter(|(p, _)| p.starts_with("logs/") && p.ends_with(".jsonl"))
            .count();
        assert_eq!(count(Kind::Validate), logs);
        assert!(count(Kind::Proxy) >= 13, "{entries:#?}");
        assert_eq!(count(Kind::HashVectors), 1);
        assert!(entries.iter().all(|e| !e.description.is_empty()));
        let verdicts = files()
            .filter(|(p, _)| p.starts_with("logs/") && p.ends_with(".json"))
            .count();
        assert_eq!(verdicts, logs, "a verdict without its log");
    }

    /// `conformance/manifest.json` is what ports read: it must list exactly the embedded
    /// cases. `UPDATE_MANIFEST=1 cargo test -p agentlog-conformance` rewrites it (this
    /// crate's copy, and the repository's when there is one).
    #[test]
    fn checked_in_manifest_is_current() {
        let generated = manifest_json().unwrap();
        let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let path = crate_dir.join("conformance/manifest.json");
        if std::env::var_os("UPDATE_MANIFEST").is_some() {
            std::fs::write(&path, &generated).unwrap();
            let repository = crate_dir.join("../../conformance");
            if repository.is_dir() {
                std::fs::write(repository.join("manifest.json"), &generated).unwrap();
            }
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == generated,
            "conformance/manifest.json is stale: run UPDATE_MANIFEST=1 cargo test -p agentlog-conformance"
        );
    }

    #[test]
    fn export_writes_every_file_and_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let written = export(dir.path()).unwrap();
        let embedded = files().filter(|(p, _)| *p != "manifest.json").count();
        assert_eq!(written, embedded + 1);
        for (relative, bytes) in files().filter(|(p, _)| *p != "manifest.json") {
            assert_eq!(
                std::fs::read(dir.path().join(relative)).unwrap(),
                bytes,
                "{relative}"
            );
        }
        let manifest = std::fs::read_to_string(dir.path().join("manifest.json")).unwrap();
        assert_eq!(manifest, manifest_json().unwrap());
    }
}
