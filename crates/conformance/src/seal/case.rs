//! The seal cases as data: each `seal/NAME.json` and `seal_ledger/NAME.json` of the embedded
//! kit, with the files it names written out to a scratch directory for a verifier to read.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::judge::Finding;
use crate::cases::{self, Kind};

/// What a case hands the verifier: one log (checked against `LOG.seal`), or a ledger
/// directory checked whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `seal/NAME.jsonl` (`seal/` cases).
    Log,
    /// `seal_ledger/NAME/` (`seal_ledger/` cases).
    Ledger,
}

/// One seal case: what is verified, with which expectations, and the verdict expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealCase {
    /// Stable id: `seal/NAME` or `seal_ledger/NAME`.
    pub id: String,
    /// A log or a ledger directory.
    pub target: Target,
    /// `NAME`.
    pub name: String,
    /// One line on what the case pins.
    pub description: String,
    /// The public key file the verifier must require every signature of, relative to the
    /// case's directory (`seal/` or `seal_ledger/`).
    pub pubkey: Option<String>,
    /// A checkpoint digest (64 hex digits) the verifier must require (`--anchor`).
    pub anchor: Option<String>,
    /// Lines after the last checkpoint are a note, not a failure (`--allow-tail`).
    pub allow_tail: bool,
    /// Whether the verifier must pass it (exit 0) or fail it (exit 1).
    pub passed: bool,
    /// Every finding it must report, notes included.
    pub findings: BTreeSet<Finding>,
}

impl SealCase {
    /// The directory of the case's kind under the scratch directory the cases were written
    /// to ([`write_files`]).
    fn kind_dir(&self, root: &Path) -> PathBuf {
        match self.target {
            Target::Log => root.join("seal"),
            Target::Ledger => root.join("seal_ledger"),
        }
    }

    /// The path the verifier is given: the log, or the ledger directory.
    pub fn path(&self, root: &Path) -> PathBuf {
        match self.target {
            Target::Log => self.kind_dir(root).join(format!("{}.jsonl", self.name)),
            Target::Ledger => self.kind_dir(root).join(&self.name),
        }
    }

    /// The public key file, when the case has one.
    pub fn pubkey_path(&self, root: &Path) -> Option<PathBuf> {
        self.pubkey
            .as_ref()
            .map(|key| self.kind_dir(root).join(key))
    }

    /// The case's expectations as `agentlog verify` flags: `--pubkey FILE`, `--anchor
    /// DIGEST`, `--allow-tail`, each when the case has it.
    pub fn flags(&self, root: &Path) -> Vec<String> {
        let mut flags = Vec::new();
        if let Some(key) = self.pubkey_path(root) {
            flags.push("--pubkey".to_owned());
            flags.push(key.to_string_lossy().into_owned());
        }
        if let Some(anchor) = &self.anchor {
            flags.push("--anchor".to_owned());
            flags.push(anchor.clone());
        }
        if self.allow_tail {
            flags.push("--allow-tail".to_owned());
        }
        flags
    }
}

/// Every seal and sealed-ledger case of the embedded kit, sorted by id.
pub fn load_embedded() -> Result<Vec<SealCase>, cases::CasesError> {
    let mut out = Vec::new();
    for entry in cases::manifest()? {
        let (target, dir) = match entry.kind {
            Kind::Seal => (Target::Log, "seal"),
            Kind::SealLedger => (Target::Ledger, "seal_ledger"),
            _ => continue,
        };
        let Some(name) = entry.id.split_once('/').map(|(_, name)| name.to_owned()) else {
            continue;
        };
        let path = format!("{dir}/{name}.json");
        let invalid = |message: &str| cases::CasesError::Invalid {
            path: path.clone(),
            message: message.to_owned(),
        };
        let bytes = cases::file(&path).ok_or_else(|| invalid("missing"))?;
        let verdict: Value =
            serde_json::from_slice(bytes).map_err(|e| invalid(&format!("not JSON: {e}")))?;
        let findings = verdict
            .get("findings")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("no `findings` array"))?
            .iter()
            .map(|f| Finding::from_json(f, target == Target::Ledger))
            .collect::<Option<BTreeSet<_>>>()
            .ok_or_else(|| {
                invalid("a finding without its `rule`, `line`, `seal_line` (and `file`)")
            })?;
        out.push(SealCase {
            id: entry.id.clone(),
            target,
            name,
            description: entry.description,
            pubkey: verdict
                .get("pubkey")
                .and_then(Value::as_str)
                .map(str::to_owned),
            anchor: verdict
                .get("anchor")
                .and_then(Value::as_str)
                .map(str::to_owned),
            allow_tail: verdict
                .get("allow_tail")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            passed: verdict
                .get("passed")
                .and_then(Value::as_bool)
                .ok_or_else(|| invalid("no `passed` boolean"))?,
            findings,
        });
    }
    Ok(out)
}

/// Writes every embedded file of `seal/` and `seal_ledger/` under `root`, as the kit lays
/// them out; returns how many.
pub fn write_files(root: &Path) -> std::io::Result<usize> {
    let mut written = 0;
    for (relative, bytes) in cases::files() {
        if !(relative.starts_with("seal/") || relative.starts_with("seal_ledger/")) {
            continue;
        }
        let target = root.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, bytes)?;
        written += 1;
    }
    Ok(written)
}
