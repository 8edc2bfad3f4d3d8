//! What a ledger directory holds, by day: one scan of the directory, `archive/` and
//! `archive/.staging/`, from which retention decides what to do.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::ledger::clock::Day;
use crate::ledger::error::LedgerError;
use crate::ledger::layout;

/// The files of a ledger directory that retention manages. Names it does not know are left
/// alone.
#[derive(Debug, Default)]
pub(super) struct Inventory {
    /// `events_YYYYMMDD.jsonl`.
    pub(super) day_files: BTreeMap<Day, PathBuf>,
    /// `archive/.staging/events_YYYYMMDD[-N].jsonl`, by day and part.
    pub(super) staged: BTreeMap<Day, BTreeMap<u32, PathBuf>>,
    /// `archive/events_YYYYMMDD[-N].jsonl.gz`, by day and part.
    pub(super) parts: BTreeMap<Day, BTreeMap<u32, PathBuf>>,
    /// `stats_YYYYMMDD.json`.
    pub(super) stats: BTreeMap<Day, PathBuf>,
    /// `*.tmp` in the directory and in `archive/`: files whose writing never finished.
    pub(super) temps: Vec<PathBuf>,
}

impl Inventory {
    /// Scans the ledger directory `dir`.
    pub(super) fn scan(dir: &Path) -> Result<Self, LedgerError> {
        let mut inv = Inventory::default();
        let archive = dir.join(layout::ARCHIVE);
        let staging = archive.join(layout::STAGING);
        for (name, path) in list(dir)? {
            if let Some(day) = layout::parse_day_file(&name) {
                inv.day_files.insert(day, path);
            } else if let Some(day) = layout::parse_stats_file(&name) {
                inv.stats.insert(day, path);
            } else if name.ends_with(layout::TMP_SUFFIX) {
                inv.temps.push(path);
            }
        }
        for (name, path) in list(&archive)? {
            if let Some((day, part)) = stem(&name, ".jsonl.gz") {
                inv.parts.entry(day).or_default().insert(part, path);
            } else if name.ends_with(layout::TMP_SUFFIX) {
                inv.temps.push(path);
            }
        }
        for (name, path) in list(&staging)? {
            if let Some((day, part)) = stem(&name, ".jsonl") {
                inv.staged.entry(day).or_default().insert(part, path);
            }
        }
        Ok(inv)
    }

    /// Every day any managed file belongs to, oldest first.
    pub(super) fn days(&self) -> BTreeSet<Day> {
        self.day_files
            .keys()
            .chain(self.staged.keys())
            .chain(self.parts.keys())
            .chain(self.stats.keys())
            .copied()
            .collect()
    }

    /// The number the next archive part of `day` gets: one more than any part or staged
    /// file of that day, 0 for the first.
    pub(super) fn next_part(&self, day: Day) -> u32 {
        let used = |m: &BTreeMap<Day, BTreeMap<u32, PathBuf>>| {
            m.get(&day)
                .and_then(|parts| parts.keys().next_back().copied())
        };
        match used(&self.parts).max(used(&self.staged)) {
            Some(last) => last.saturating_add(1),
            None => 0,
        }
    }
}

/// The day and part of `name` if it is a part stem followed by `suffix`.
fn stem(name: &str, suffix: &str) -> Option<(Day, u32)> {
    layout::parse_part_stem(name.strip_suffix(suffix)?)
}

/// The regular files of `dir` with their names; none when `dir` does not exist. Names that
/// are not UTF-8 are not the ledger's, and are skipped.
fn list(dir: &Path) -> Result<Vec<(String, PathBuf)>, LedgerError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(LedgerError::io("list", dir, source)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| LedgerError::io("list", dir, source))?;
        let is_file = entry
            .file_type()
            .map_err(|source| LedgerError::io("inspect", &entry.path(), source))?
            .is_file();
        if let (true, Ok(name)) = (is_file, entry.file_name().into_string()) {
            out.push((name, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}
