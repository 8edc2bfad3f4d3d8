//! `verify` of a whole ledger directory: every day file against its seal, every archived
//! day's archive part against the seal it left behind, and the links between the seals.
//!
//! A day file's seal stays in the directory when retention archives the day: its last
//! checkpoint is then a retention record naming the archive part, so the day file's absence
//! is expected and recorded, and the part is read (decompressed) and checked instead. A day
//! file gone without such a record, a seal whose link names a day file that has no seal, an
//! archive part named by a record that is not there, a file in `archive/` no record names (or
//! staged under a recorded part's name but not that part's sealed lines), a seal of
//! `events.jsonl` without it, a file `analyze` would read that is no ledger file, a member
//! that is not a regular file: each is a finding, and one never stops the others being
//! checked. Nothing here quotes a line of any file: names are file names, numbers and hashes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufReader;
use std::path::{Path, PathBuf};

use crate::checkpoint::{Checkpoint, CheckpointError, SealFile};
use crate::names;
use crate::verify::{Expect, Finding, Signatures, Verdict, VerifyError, check_chain, verify_read};

/// What verifying a ledger directory found beyond each file's own verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LedgerFinding {
    /// A day file has no seal, or lines after its seal's last retention record (late
    /// records of a day already archived) are not sealed.
    Unsealed {
        /// The day file.
        log: PathBuf,
    },
    /// A day file is gone, and its seal records no retention: it was removed. Or
    /// `events.jsonl` is gone while its seal is there (it is never archived).
    FileMissing {
        /// The day file.
        log: PathBuf,
    },
    /// A seal links to a day file that has no seal in the directory: that day file was
    /// removed together with its seal.
    LinkedFileMissing {
        /// The seal whose first checkpoint links.
        seal: PathBuf,
        /// The day file it names.
        file: String,
    },
    /// A seal links to a checkpoint that the named day file's seal does not have (or to a
    /// later day): the previous seal was replaced.
    LinkBroken {
        /// The seal whose first checkpoint links.
        seal: PathBuf,
        /// The day file it names.
        file: String,
    },
    /// A seal other than the oldest does not link to a previous day file.
    LinkMissing {
        /// The seal.
        seal: PathBuf,
    },
    /// A retention record names an archive part that is not there.
    ArchiveMissing {
        /// The seal.
        seal: PathBuf,
        /// The record's line in it.
        seal_line: u64,
        /// The archive part, relative to the directory.
        part: String,
    },
    /// A retention record names an archive part of another day.
    ArchiveOfAnotherDay {
        /// The seal.
        seal: PathBuf,
        /// The record's line in it.
        seal_line: u64,
    },
    /// An archive part cannot be decompressed.
    ArchiveUnreadable {
        /// The part.
        part: PathBuf,
    },
    /// A file in `archive/` (or `archive/.staging/`) that no retention record of any seal
    /// names: records added to the archive, or archived by a retention without `--seal`. Or
    /// a directory there (`.staging` aside), whatever its name: retention writes none.
    ArchiveUnrecorded {
        /// The file.
        part: PathBuf,
    },
    /// A member of the ledger (a day file, a seal, an archive part, `events.jsonl`,
    /// `archive/`) is not a regular file (a directory, a FIFO) or cannot be read.
    Unreadable {
        /// The member.
        path: PathBuf,
        /// Why, as the system says it (never a line of the file).
        what: String,
    },
    /// A file in the directory that `agentlog analyze DIR` would read records from (a name
    /// ending in `.jsonl` or `.jsonl.gz`, or a subdirectory other than `archive/`) but that
    /// is not a file of the ledger: `events.jsonl`, or `events_YYYYMMDD.jsonl` of a real date.
    Unknown {
        /// The file or subdirectory.
        path: PathBuf,
    },
    /// `events.jsonl`'s seal has a link or a retention record, which only a rotated day
    /// file's seal has: a day file and its seal copied to `events.jsonl`.
    CurrentLinked {
        /// `DIR/events.jsonl.seal`.
        seal: PathBuf,
        /// The line of the first such checkpoint.
        seal_line: u64,
    },
    /// `events.jsonl`, the current day, is not sealed yet (it is when it rotates): a note.
    CurrentUnsealed {
        /// `DIR/events.jsonl`.
        log: PathBuf,
    },
}

impl LedgerFinding {
    /// Its rule name, stable for machines.
    pub fn rule(&self) -> &'static str {
        match self {
            LedgerFinding::Unsealed { .. } => "seal.file_unsealed",
            LedgerFinding::FileMissing { .. } => "seal.file_missing",
            LedgerFinding::LinkedFileMissing { .. } => "seal.linked_file_missing",
            LedgerFinding::LinkBroken { .. } => "seal.link_broken",
            LedgerFinding::LinkMissing { .. } => "seal.link_missing",
            LedgerFinding::ArchiveMissing { .. } => "seal.archive_missing",
            LedgerFinding::ArchiveOfAnotherDay { .. } => "seal.archive_other_day",
            LedgerFinding::ArchiveUnreadable { .. } => "seal.archive_unreadable",
            LedgerFinding::ArchiveUnrecorded { .. } => "seal.archive_unrecorded",
            LedgerFinding::Unreadable { .. } => "seal.file_unreadable",
            LedgerFinding::Unknown { .. } => "seal.file_unknown",
            LedgerFinding::CurrentLinked { .. } => "seal.current_linked",
            LedgerFinding::CurrentUnsealed { .. } => "seal.current_unsealed",
        }
    }

    /// Whether it fails verification: all do but the current day not sealed yet.
    pub fn is_error(&self) -> bool {
        !matches!(self, LedgerFinding::CurrentUnsealed { .. })
    }

    /// The file it is about, and the line of it (a seal's line) when there is one.
    pub fn place(&self) -> (&Path, Option<u64>) {
        match self {
            LedgerFinding::Unsealed { log }
            | LedgerFinding::FileMissing { log }
            | LedgerFinding::CurrentUnsealed { log } => (log, None),
            LedgerFinding::LinkedFileMissing { seal, .. }
            | LedgerFinding::LinkBroken { seal, .. }
            | LedgerFinding::LinkMissing { seal } => (seal, Some(1)),
            LedgerFinding::ArchiveMissing {
                seal, seal_line, ..
            }
            | LedgerFinding::ArchiveOfAnotherDay { seal, seal_line } => (seal, Some(*seal_line)),
            LedgerFinding::ArchiveUnreadable { part }
            | LedgerFinding::ArchiveUnrecorded { part } => (part, None),
            LedgerFinding::Unreadable { path, .. } | LedgerFinding::Unknown { path } => {
                (path, None)
            }
            LedgerFinding::CurrentLinked { seal, seal_line } => (seal, Some(*seal_line)),
        }
    }

    /// What it means, in a sentence.
    pub fn message(&self) -> String {
        match self {
            LedgerFinding::Unsealed { .. } => {
                "the day file is not sealed (no seal, or late lines after its archived part)"
                    .to_owned()
            }
            LedgerFinding::FileMissing { .. } => {
                "the day file is gone, and its seal records no retention: it was removed".to_owned()
            }
            LedgerFinding::LinkedFileMissing { file, .. } => format!(
                "the previous day file named here, {file}, has no seal in the directory: it was removed with its seal"
            ),
            LedgerFinding::LinkBroken { file, .. } => format!(
                "the link to the previous day file {file} names a checkpoint its seal does not have: that seal was replaced"
            ),
            LedgerFinding::LinkMissing { .. } => {
                "the seal does not link to a previous day file, and it is not the oldest".to_owned()
            }
            LedgerFinding::ArchiveMissing { part, .. } => format!(
                "the retention record names {part}, which is not there: the archived records were removed"
            ),
            LedgerFinding::ArchiveOfAnotherDay { .. } => {
                "the retention record names another day's archive part".to_owned()
            }
            LedgerFinding::ArchiveUnreadable { .. } => {
                "the archive part cannot be decompressed".to_owned()
            }
            LedgerFinding::ArchiveUnrecorded { .. } => {
                "no retention record of any seal names this file in the archive: it was added there (or archived without --seal)"
                    .to_owned()
            }
            LedgerFinding::Unreadable { what, .. } => {
                format!("a ledger file that cannot be read ({what}): it was replaced")
            }
            LedgerFinding::Unknown { .. } => {
                "not a file of the ledger, yet `agentlog analyze` of the directory would read records from it"
                    .to_owned()
            }
            LedgerFinding::CurrentLinked { .. } => {
                "the current day's seal links to a day file or records a retention, as only a rotated day's seal does: a day file and its seal were copied here"
                    .to_owned()
            }
            LedgerFinding::CurrentUnsealed { .. } => {
                "the current day's file is sealed when it rotates; not yet".to_owned()
            }
        }
    }
}

/// What verifying a ledger directory found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerVerdict {
    /// The directory.
    pub dir: PathBuf,
    /// Each file checked against its seal: day files, archive parts (named as such, their
    /// lines counted decompressed), files staged in `archive/.staging/` under a recorded
    /// part's name, and `events.jsonl` when it has a seal (its unsealed tail allowed).
    pub verdicts: Vec<Verdict>,
    /// What was found across files, in order.
    pub findings: Vec<LedgerFinding>,
    /// Day files checked in the directory.
    pub days: u64,
    /// Archive parts checked in `archive/`.
    pub archived: u64,
}

impl LedgerVerdict {
    /// Every file verified and nothing across them fails.
    pub fn passed(&self) -> bool {
        self.verdicts.iter().all(Verdict::passed) && !self.findings.iter().any(|f| f.is_error())
    }
}

/// The day files and seals of a ledger directory, by day.
#[derive(Default)]
struct Listing {
    logs: BTreeSet<u32>,
    seals: BTreeSet<u32>,
    /// What analyze would read that is no file of the ledger, sorted.
    unknown: Vec<PathBuf>,
}

impl Listing {
    fn scan(dir: &Path) -> Result<Listing, VerifyError> {
        let io = |source| VerifyError::Io {
            path: dir.to_owned(),
            source,
        };
        let mut listing = Listing::default();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if let Some(day) = names::day_of_file(&name) {
                listing.logs.insert(day);
            } else if let Some(day) = name.strip_suffix(".seal").and_then(names::day_of_file) {
                listing.seals.insert(day);
            } else if is_unknown(&name, &entry.path()) {
                listing.unknown.push(entry.path());
            }
        }
        listing.unknown.sort();
        Ok(listing)
    }
}

/// Whether the entry `name` at `path` of a ledger directory (not a day file) is something
/// `agentlog analyze DIR` reads records from: a `*.jsonl` or `*.jsonl.gz` file other than
/// `events.jsonl`, or a subdirectory other than `archive/` (a symlink followed).
fn is_unknown(name: &str, path: &Path) -> bool {
    if name == names::CURRENT || name == ARCHIVE {
        return false;
    }
    name.ends_with(".jsonl") || name.ends_with(".jsonl.gz") || path.is_dir()
}

/// Verifies the ledger directory `dir`: each day file against its seal, each day archived by
/// retention (a retention record ends its seal) in its archive part, the links between the
/// seals, and `events.jsonl` against its seal if it has one. `expect.anchor` is not used.
pub fn verify_ledger(dir: &Path, expect: &Expect<'_>) -> Result<LedgerVerdict, VerifyError> {
    let meta = std::fs::metadata(dir).map_err(|source| VerifyError::Io {
        path: dir.to_owned(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(VerifyError::Io {
            path: dir.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a directory"),
        });
    }
    let listing = Listing::scan(dir)?;
    let current = dir.join(names::CURRENT);
    if listing.logs.is_empty()
        && listing.seals.is_empty()
        && std::fs::symlink_metadata(&current).is_err()
        && std::fs::symlink_metadata(crate::seal_path(&current)).is_err()
    {
        return Err(VerifyError::Io {
            path: dir.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "a directory, but not a ledger directory (no events.jsonl, no events_YYYYMMDD.jsonl, no seal of one)",
            ),
        });
    }
    let findings = listing
        .unknown
        .iter()
        .map(|path| LedgerFinding::Unknown { path: path.clone() })
        .collect();
    let mut run = Run {
        dir,
        expect,
        verdict: LedgerVerdict {
            dir: dir.to_owned(),
            verdicts: Vec::new(),
            findings,
            days: 0,
            archived: 0,
        },
        seals: BTreeMap::new(),
        recorded: BTreeSet::new(),
    };
    for &day in listing.logs.union(&listing.seals) {
        run.day(
            day,
            listing.logs.contains(&day),
            listing.seals.contains(&day),
        )?;
    }
    run.links();
    run.unrecorded();
    run.current()?;
    Ok(run.verdict)
}

/// One verification of a directory.
struct Run<'a, 'k> {
    dir: &'a Path,
    expect: &'a Expect<'k>,
    verdict: LedgerVerdict,
    /// The checkpoints of every seal read, by day; `None` for one that is malformed.
    seals: BTreeMap<u32, Option<Vec<Checkpoint>>>,
    /// The archive parts every retention record read names.
    recorded: BTreeSet<String>,
}

impl Run<'_, '_> {
    /// One day: its file against its seal, or its archive part when a retention record
    /// says it moved there.
    fn day(&mut self, day: u32, has_log: bool, has_seal: bool) -> Result<(), VerifyError> {
        let log = self.dir.join(names::day_file(day));
        let seal = crate::seal_path(&log);
        if !has_seal {
            self.verdict.findings.push(LedgerFinding::Unsealed { log });
            return Ok(());
        }
        let checkpoints = match SealFile::read(&seal) {
            Ok(file) => file.unwrap_or_default().checkpoints,
            Err(CheckpointError::Malformed { line, what, .. }) => {
                self.seals.insert(day, None);
                let finding = Finding::Malformed {
                    seal_line: line,
                    what,
                };
                let verdict = failed(&log, &seal, vec![finding], Signatures::None);
                self.verdict.verdicts.push(verdict);
                return Ok(());
            }
            Err(CheckpointError::Io { path, source }) => {
                self.seals.insert(day, None);
                self.unreadable(path, &source);
                return Ok(());
            }
        };
        // The seal is checked alone first: a retention record is believed only from a seal
        // whose chain (and with a key, every signature) holds.
        let (findings, signatures) = check_chain(&checkpoints, self.expect.key);
        let records = retention_records(&checkpoints);
        self.recorded
            .extend(records.iter().map(|(_, part)| part.clone()));
        let open = checkpoints.last().is_some_and(|c| c.retained.is_none());
        self.seals.insert(day, Some(checkpoints));
        // A day file beside a seal that ends with a retention record whose part is written:
        // late records of an archived day, not sealed yet.
        let last_part = records.last().map(|(_, part)| self.dir.join(part));
        let part_written = last_part.is_some_and(|p| std::fs::symlink_metadata(p).is_ok());
        if has_log && !open && part_written {
            self.verdict.findings.push(LedgerFinding::Unsealed { log });
            return self.parts(day, &seal, records);
        }
        if has_log {
            // Against the open segment, or (killed between the record and the move) the
            // segment the last record closes: that part is read as the day file.
            match crate::verify_expecting(&log, self.expect) {
                Ok(verdict) => {
                    self.verdict.days += 1;
                    self.verdict.verdicts.push(verdict);
                }
                Err(VerifyError::Io { path, source }) => self.unreadable(path, &source),
            }
        } else if !findings.is_empty() {
            let verdict = failed(&log, &seal, findings, signatures);
            self.verdict.verdicts.push(verdict);
            return Ok(());
        } else if open {
            self.verdict
                .findings
                .push(LedgerFinding::FileMissing { log });
        }
        let mut records = records;
        if has_log && !open {
            records.pop();
        }
        self.parts(day, &seal, records)
    }

    /// The archive parts that `records` (the retention records of `day`'s seal) name, each
    /// against its segment of the seal.
    fn parts(
        &mut self,
        day: u32,
        seal: &Path,
        records: Vec<(u64, String)>,
    ) -> Result<(), VerifyError> {
        for (seal_line, part) in records {
            if names::day_of_archive_part(&part) == Some(day) {
                self.archived(seal, seal_line, part)?;
            } else {
                let seal = seal.to_owned();
                let finding = LedgerFinding::ArchiveOfAnotherDay { seal, seal_line };
                self.verdict.findings.push(finding);
            }
        }
        Ok(())
    }

    /// An archived day: its archive part, decompressed, against the seal.
    fn archived(&mut self, seal: &Path, seal_line: u64, part: String) -> Result<(), VerifyError> {
        let path = self.dir.join(&part);
        let file = match crate::files::open_regular(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let seal = seal.to_owned();
                let finding = LedgerFinding::ArchiveMissing {
                    seal,
                    seal_line,
                    part,
                };
                self.verdict.findings.push(finding);
                return Ok(());
            }
            Err(source) => {
                self.unreadable(path, &source);
                return Ok(());
            }
        };
        let reader = flate2::read::MultiGzDecoder::new(BufReader::new(file));
        match verify_read(&path, seal, reader, self.expect, Some(&part)) {
            Ok(verdict) => {
                self.verdict.archived += 1;
                self.verdict.verdicts.push(verdict);
            }
            // Not gzip, or cut short: the part was damaged or replaced.
            Err(VerifyError::Io { source, .. })
                if matches!(
                    source.kind(),
                    std::io::ErrorKind::InvalidData
                        | std::io::ErrorKind::InvalidInput
                        | std::io::ErrorKind::UnexpectedEof
                ) =>
            {
                let finding = LedgerFinding::ArchiveUnreadable { part: path };
                self.verdict.findings.push(finding);
            }
            Err(VerifyError::Io { path, source }) => self.unreadable(path, &source),
        }
        Ok(())
    }

    /// Each seal's first checkpoint links to a checkpoint of an earlier day file's seal in
    /// the directory; the oldest seal alone links to none.
    fn links(&mut self) {
        let oldest = self.seals.keys().next().copied();
        for (&day, checkpoints) in &self.seals {
            let Some(first) = checkpoints.as_ref().and_then(|c| c.first()) else {
                continue;
            };
            let seal = crate::seal_path(&self.dir.join(names::day_file(day)));
            let Some(link) = &first.link else {
                if Some(day) != oldest {
                    self.verdict
                        .findings
                        .push(LedgerFinding::LinkMissing { seal });
                }
                continue;
            };
            let file = link.file.clone();
            let target = names::day_of_file(&link.file).filter(|&t| t < day);
            let finding = match target.map(|t| self.seals.get(&t)) {
                None => Some(LedgerFinding::LinkBroken { seal, file }),
                Some(None) => Some(LedgerFinding::LinkedFileMissing { seal, file }),
                // A malformed seal: its own verdict fails already.
                Some(Some(None)) => None,
                Some(Some(Some(target))) if !target.iter().any(|c| c.digest == link.digest) => {
                    Some(LedgerFinding::LinkBroken { seal, file })
                }
                Some(Some(Some(_))) => None,
            };
            self.verdict.findings.extend(finding);
        }
    }

    /// `events.jsonl`: checked against its seal when it has one (lines after it allowed),
    /// noted as not sealed yet otherwise.
    fn current(&mut self) -> Result<(), VerifyError> {
        let log = self.dir.join(names::CURRENT);
        if std::fs::symlink_metadata(&log).is_err() {
            self.current_missing(log);
            return Ok(());
        }
        if let Err(source) = crate::files::regular(&log) {
            self.unreadable(log, &source);
            return Ok(());
        }
        let seal = crate::seal_path(&log);
        if std::fs::symlink_metadata(&seal).is_err() {
            let finding = LedgerFinding::CurrentUnsealed { log };
            self.verdict.findings.push(finding);
            return Ok(());
        }
        // A seal of the ledger's own never links or records a retention for events.jsonl
        // (a malformed or unreadable seal fails when the file is verified, below).
        let checkpoints = SealFile::read(&seal)
            .ok()
            .flatten()
            .map(|file| file.checkpoints)
            .unwrap_or_default();
        self.current_linked(seal, &checkpoints);
        let expect = Expect {
            allow_tail: true,
            ..*self.expect
        };
        match crate::verify_expecting(&log, &expect) {
            Ok(verdict) => self.verdict.verdicts.push(verdict),
            Err(VerifyError::Io { path, source }) => self.unreadable(path, &source),
        }
        Ok(())
    }

    /// A link or retention record in `events.jsonl`'s seal: a finding at the first.
    fn current_linked(&mut self, seal: PathBuf, checkpoints: &[Checkpoint]) {
        let linked = checkpoints
            .iter()
            .position(|c| c.link.is_some() || c.retained.is_some());
        if let Some(i) = linked {
            let seal_line = i as u64 + 1;
            let finding = LedgerFinding::CurrentLinked { seal, seal_line };
            self.verdict.findings.push(finding);
        }
    }

    /// `events.jsonl` absent: nothing, unless its seal is there. Then the file was removed
    /// (`events.jsonl` is never archived), and the seal is read and judged as any: malformed,
    /// unreadable, linked, or its chain broken.
    fn current_missing(&mut self, log: PathBuf) {
        let seal = crate::seal_path(&log);
        if std::fs::symlink_metadata(&seal).is_err() {
            return;
        }
        match SealFile::read(&seal) {
            Ok(file) => {
                let checkpoints = file.unwrap_or_default().checkpoints;
                self.current_linked(seal.clone(), &checkpoints);
                let (findings, signatures) = check_chain(&checkpoints, self.expect.key);
                if !findings.is_empty() {
                    let verdict = failed(&log, &seal, findings, signatures);
                    self.verdict.verdicts.push(verdict);
                }
            }
            Err(CheckpointError::Malformed { line, what, .. }) => {
                let finding = Finding::Malformed {
                    seal_line: line,
                    what,
                };
                let verdict = failed(&log, &seal, vec![finding], Signatures::None);
                self.verdict.verdicts.push(verdict);
            }
            Err(CheckpointError::Io { path, source }) => self.unreadable(path, &source),
        }
        self.verdict
            .findings
            .push(LedgerFinding::FileMissing { log });
    }

    /// A member of the ledger that is not a regular file, or cannot be read: a finding of
    /// that file, and the others are still checked.
    fn unreadable(&mut self, path: PathBuf, source: &std::io::Error) {
        let what = source.to_string();
        self.verdict
            .findings
            .push(LedgerFinding::Unreadable { path, what });
    }

    /// Every entry in `archive/` and `archive/.staging/` that no retention record names (a
    /// part of a day whose seal is malformed or unreadable aside: that seal fails already).
    /// Retention's temporary files (`*.tmp` regular files, which analyze does not read) are
    /// left to it. A regular file staged under the name of a recorded part is a retention
    /// interrupted: the day file moved there whole, so it is checked against the segment
    /// that part's record closes. A directory is no file retention writes (analyze would
    /// read the records under it), whatever its name: `.staging` itself aside, it is named.
    fn unrecorded(&mut self) {
        let archive = self.dir.join(ARCHIVE);
        for (name, path) in self.list(&archive) {
            if name == STAGING {
                continue;
            }
            if !self.is_recorded(&format!("{ARCHIVE}/{name}")) {
                self.verdict
                    .findings
                    .push(LedgerFinding::ArchiveUnrecorded { part: path });
            }
        }
        for (name, path) in self.list(&archive.join(STAGING)) {
            let part = name
                .strip_suffix(".jsonl")
                .map(|stem| format!("{ARCHIVE}/{stem}.jsonl.gz"))
                .filter(|part| self.is_recorded(part) && !is_dir(&path));
            match part {
                Some(part) => self.staged(&path, &part),
                None => self
                    .verdict
                    .findings
                    .push(LedgerFinding::ArchiveUnrecorded { part: path }),
            }
        }
    }

    /// The file `staged` under the name of the recorded part `part`, against the segment of
    /// its day's seal that the record naming `part` closes (not when that seal is malformed
    /// or unreadable: it fails already).
    fn staged(&mut self, staged: &Path, part: &str) {
        let Some(day) = names::day_of_archive_part(part) else {
            return;
        };
        if matches!(self.seals.get(&day), Some(None)) {
            return;
        }
        let seal = crate::seal_path(&self.dir.join(names::day_file(day)));
        let read = crate::files::open_regular(staged).map_err(|source| VerifyError::Io {
            path: staged.to_owned(),
            source,
        });
        let read = read.and_then(|file| {
            verify_read(staged, &seal, BufReader::new(file), self.expect, Some(part))
        });
        match read {
            Ok(verdict) => self.verdict.verdicts.push(verdict),
            Err(VerifyError::Io { path, source }) => self.unreadable(path, &source),
        }
    }

    /// Whether `part` (relative to the directory) is named by a retention record, or is
    /// of a day whose seal could not be read.
    fn is_recorded(&self, part: &str) -> bool {
        self.recorded.contains(part)
            || names::day_of_archive_part(part)
                .is_some_and(|day| matches!(self.seals.get(&day), Some(None)))
    }

    /// The entries of `dir` but `*.tmp` that are no directories, by name (a name that is not UTF-8 shown lossily),
    /// sorted; none when it is absent (a symlink to a directory is followed, as parts are read
    /// through it). One that is not a directory or cannot be listed is a finding.
    fn list(&mut self, dir: &Path) -> Vec<(String, PathBuf)> {
        let mut entries = Vec::new();
        let read = match std::fs::metadata(dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return entries,
            Err(e) => Err(e),
            Ok(meta) if !meta.is_dir() => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a directory",
            )),
            Ok(_) => std::fs::read_dir(dir).and_then(|read| read.collect::<Result<Vec<_>, _>>()),
        };
        match read {
            Ok(read) => {
                for entry in read {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let path = entry.path();
                    if !name.ends_with(TMP_SUFFIX) || is_dir(&path) {
                        entries.push((name, path));
                    }
                }
            }
            Err(source) => self.unreadable(dir.to_owned(), &source),
        }
        entries.sort();
        entries
    }
}

/// The archive directory, and where retention stages a day file inside it (names of
/// `agentlog-core`'s `ledger::layout`).
const ARCHIVE: &str = "archive";
const STAGING: &str = ".staging";
/// The suffix of a file retention is writing (and removes if it was killed).
const TMP_SUFFIX: &str = ".tmp";

/// Whether `path` is a directory, or a symlink to one (analyze follows it).
fn is_dir(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| meta.is_dir())
}

/// The retention records of a seal: each one's line and the archive part it names.
fn retention_records(checkpoints: &[Checkpoint]) -> Vec<(u64, String)> {
    checkpoints
        .iter()
        .enumerate()
        .filter_map(|(i, c)| Some((i as u64 + 1, c.retained.clone()?)))
        .collect()
}

/// The verdict of a file whose seal is malformed, or fails on its own.
fn failed(log: &Path, seal: &Path, findings: Vec<Finding>, signatures: Signatures) -> Verdict {
    Verdict {
        log: log.to_owned(),
        seal: seal.to_owned(),
        checkpoints: 0,
        sealed_lines: 0,
        lines_read: 0,
        signatures,
        findings,
        allow_tail: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn now() -> time::OffsetDateTime {
        time::macros::datetime!(2026-12-06 23:00:00 UTC)
    }

    /// A ledger of three sealed days, 20261201 to 20261203.
    fn ledger() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for day in 1..=3 {
            let log = dir.path().join(format!("events_2026120{day}.jsonl"));
            std::fs::write(&log, format!("{{\"day\":{day}}}\n{{\"n\":2}}\n")).unwrap();
            crate::seal_day_file(&log, None, now())
                .unwrap()
                .append()
                .unwrap();
        }
        dir
    }

    fn rules(dir: &Path) -> Vec<&'static str> {
        let verdict = verify_ledger(dir, &Expect::default()).unwrap();
        let mut rules: Vec<_> = verdict.findings.iter().map(LedgerFinding::rule).collect();
        for file in &verdict.verdicts {
            rules.extend(file.findings.iter().map(Finding::rule));
        }
        rules
    }

    /// Archives day `day` as retention does: the record first, then the part, then the
    /// day file removed.
    fn archive(dir: &Path, day: u32) {
        archive_part(dir, day, "");
    }

    /// [`archive`] into the part named with `suffix` (`""`, `"-1"`, ...).
    fn archive_part(dir: &Path, day: u32, suffix: &str) {
        let log = dir.join(format!("events_{day}.jsonl"));
        let part = format!("archive/events_{day}{suffix}.jsonl.gz");
        crate::record_retention(&log, &part, None, now())
            .unwrap()
            .append()
            .unwrap();
        std::fs::create_dir_all(dir.join("archive")).unwrap();
        let out = std::fs::File::create(dir.join(&part)).unwrap();
        let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
        gz.write_all(&std::fs::read(&log).unwrap()).unwrap();
        gz.finish().unwrap();
        std::fs::remove_file(&log).unwrap();
    }

    #[test]
    fn a_sealed_ledger_verifies_and_a_removed_day_is_named() {
        let dir = ledger();
        let d = dir.path();
        assert_eq!(rules(d), Vec::<&str>::new());
        std::fs::write(d.join("events.jsonl"), "{}\n").unwrap();
        assert_eq!(rules(d), ["seal.current_unsealed"]);
        assert!(verify_ledger(d, &Expect::default()).unwrap().passed());
        // The middle day's file alone, then with its seal.
        std::fs::remove_file(d.join("events_20261202.jsonl")).unwrap();
        let verdict = verify_ledger(d, &Expect::default()).unwrap();
        assert!(!verdict.passed());
        assert!(verdict.findings.contains(&LedgerFinding::FileMissing {
            log: d.join("events_20261202.jsonl")
        }));
        std::fs::remove_file(d.join("events_20261202.jsonl.seal")).unwrap();
        let verdict = verify_ledger(d, &Expect::default()).unwrap();
        assert!(
            verdict
                .findings
                .contains(&LedgerFinding::LinkedFileMissing {
                    seal: d.join("events_20261203.jsonl.seal"),
                    file: "events_20261202.jsonl".to_owned()
                })
        );
    }

    #[test]
    fn an_archived_day_is_a_recorded_gap_and_its_part_is_checked() {
        let dir = ledger();
        let d = dir.path();
        archive(d, 20_261_201);
        let verdict = verify_ledger(d, &Expect::default()).unwrap();
        assert!(verdict.passed(), "{verdict:?}");
        assert_eq!((verdict.days, verdict.archived), (2, 1));
        // The part edited: its line is named, in the part.
        let part = d.join("archive/events_20261201.jsonl.gz");
        let out = std::fs::File::create(&part).unwrap();
        let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
        gz.write_all(b"{\"day\":1}\n{\"n\":3}\n").unwrap();
        gz.finish().unwrap();
        assert_eq!(rules(d), ["seal.line_changed"]);
        std::fs::write(&part, b"not gzip").unwrap();
        assert_eq!(rules(d), ["seal.archive_unreadable"]);
        std::fs::remove_file(&part).unwrap();
        assert_eq!(rules(d), ["seal.archive_missing"]);
    }

    #[test]
    fn late_records_of_an_archived_day_are_a_new_segment_and_a_new_part() {
        let dir = ledger();
        let d = dir.path();
        archive(d, 20_261_201);
        let log = d.join("events_20261201.jsonl");
        std::fs::write(&log, "{\"late\":1}\n").unwrap();
        assert_eq!(rules(d), ["seal.file_unsealed"]);
        crate::seal_day_file(&log, None, now())
            .unwrap()
            .append()
            .unwrap();
        let verdict = verify_ledger(d, &Expect::default()).unwrap();
        assert!(verdict.passed(), "{verdict:?}");
        assert_eq!((verdict.days, verdict.archived), (3, 1));
        archive_part(d, 20_261_201, "-1");
        let verdict = verify_ledger(d, &Expect::default()).unwrap();
        assert!(verdict.passed(), "{verdict:?}");
        assert_eq!((verdict.days, verdict.archived), (2, 2));
        std::fs::remove_file(d.join("archive/events_20261201-1.jsonl.gz")).unwrap();
        let verdict = verify_ledger(d, &Expect::default()).unwrap();
        assert_eq!(
            verdict.findings,
            [LedgerFinding::ArchiveMissing {
                seal: d.join("events_20261201.jsonl.seal"),
                seal_line: 4,
                part: "archive/events_20261201-1.jsonl.gz".to_owned(),
            }]
        );
    }

    #[test]
    fn a_file_in_the_archive_no_retention_record_names_is_named() {
        let dir = ledger();
        let d = dir.path();
        archive(d, 20_261_201);
        let a = d.join("archive");
        // A copy of a recorded part under a later part's name, a made-up day, anything.
        std::fs::copy(
            a.join("events_20261201.jsonl.gz"),
            a.join("events_20261201-1.jsonl.gz"),
        )
        .unwrap();
        std::fs::write(a.join("events_20261120.jsonl.gz"), b"x").unwrap();
        std::fs::write(a.join("other.jsonl"), b"{}\n").unwrap();
        // Retention's temporary files are its own; a staged file of a recorded part is a
        // retention interrupted, one of no recorded part is not.
        std::fs::write(a.join("events_20261202.jsonl.gz.tmp"), b"x").unwrap();
        std::fs::create_dir(a.join(".staging")).unwrap();
        std::fs::write(a.join(".staging/events_20261201.jsonl"), b"{}\n").unwrap();
        std::fs::write(a.join(".staging/events_20261203.jsonl"), b"{}\n").unwrap();
        let verdict = verify_ledger(d, &Expect::default()).unwrap();
        assert!(!verdict.passed());
        let unrecorded = |part: &str| LedgerFinding::ArchiveUnrecorded { part: a.join(part) };
        assert_eq!(
            verdict.findings,
            [
                unrecorded("events_20261120.jsonl.gz"),
                unrecorded("events_20261201-1.jsonl.gz"),
                unrecorded("other.jsonl"),
                unrecorded(".staging/events_20261203.jsonl"),
            ]
        );
        assert_eq!(verdict.findings[0].rule(), "seal.archive_unrecorded");
    }

    #[test]
    fn a_member_that_is_not_a_regular_file_is_named_and_hides_nothing() {
        let dir = ledger();
        let d = dir.path();
        let seal = d.join("events_20261202.jsonl.seal");
        std::fs::remove_file(&seal).unwrap();
        std::fs::create_dir(&seal).unwrap();
        std::fs::write(d.join("events_20261201.jsonl"), "{\"day\":1}\n{\"n\":3}\n").unwrap();
        std::fs::remove_file(d.join("events_20261203.jsonl")).unwrap();
        std::fs::create_dir(d.join("events.jsonl")).unwrap();
        let verdict = verify_ledger(d, &Expect::default()).unwrap();
        assert!(!verdict.passed());
        let not_a_file = |path: PathBuf| LedgerFinding::Unreadable {
            path,
            what: "a directory, not a file".to_owned(),
        };
        assert_eq!(
            verdict.findings,
            [
                not_a_file(seal),
                LedgerFinding::FileMissing {
                    log: d.join("events_20261203.jsonl")
                },
                not_a_file(d.join("events.jsonl")),
            ]
        );
        assert_eq!(verdict.findings[0].rule(), "seal.file_unreadable");
        assert_eq!(rules(d)[3..], ["seal.line_changed"]);
        // A day file, an archive part or archive/ itself: the same.
        let dir = ledger();
        let d = dir.path();
        archive(d, 20_261_203);
        let part = d.join("archive/events_20261203.jsonl.gz");
        std::fs::remove_file(&part).unwrap();
        std::fs::create_dir(&part).unwrap();
        std::fs::remove_file(d.join("events_20261201.jsonl")).unwrap();
        std::fs::create_dir(d.join("events_20261201.jsonl")).unwrap();
        let verdict = verify_ledger(d, &Expect::default()).unwrap();
        assert_eq!(
            verdict.findings,
            [
                not_a_file(d.join("events_20261201.jsonl")),
                not_a_file(part),
            ]
        );
        std::fs::remove_dir_all(d.join("archive")).unwrap();
        std::fs::write(d.join("archive"), "").unwrap();
        let verdict = verify_ledger(d, &Expect::default()).unwrap();
        assert!(verdict.findings.contains(&LedgerFinding::Unreadable {
            path: d.join("archive"),
            what: "not a directory".to_owned()
        }));
    }

    #[test]
    fn a_file_analyze_would_read_that_is_no_ledger_file_is_named() {
        let dir = ledger();
        let d = dir.path();
        std::fs::write(d.join("events_20261232.jsonl"), "{}\n").unwrap();
        std::fs::write(d.join("other.jsonl"), "{}\n").unwrap();
        std::fs::write(d.join("events_20261201.jsonl.gz"), "x").unwrap();
        std::fs::create_dir(d.join("sub")).unwrap();
        // Not records: the ledger's own other files.
        std::fs::write(d.join("stats_20261120.json"), "{}").unwrap();
        std::fs::write(d.join(".lock"), "").unwrap();
        std::fs::write(d.join("events.jsonl.tmp"), "").unwrap();
        let verdict = verify_ledger(d, &Expect::default()).unwrap();
        let found: Vec<_> = verdict
            .findings
            .iter()
            .map(|f| (f.rule(), f.place().0.to_owned()))
            .collect();
        let unknown = |name: &str| ("seal.file_unknown", d.join(name));
        assert_eq!(
            found,
            [
                unknown("events_20261201.jsonl.gz"),
                unknown("events_20261232.jsonl"),
                unknown("other.jsonl"),
                unknown("sub"),
            ]
        );
        assert!(!verdict.passed());
    }

    #[test]
    fn a_file_staged_under_a_recorded_part_is_checked_against_its_segment() {
        let dir = ledger();
        let d = dir.path();
        let text = std::fs::read(d.join("events_20261201.jsonl")).unwrap();
        archive(d, 20_261_201);
        let staging = d.join("archive/.staging");
        std::fs::create_dir(&staging).unwrap();
        let staged = staging.join("events_20261201.jsonl");
        // A retention run stopped after moving the day file: the segment's lines, all of them.
        std::fs::write(&staged, &text).unwrap();
        let verdict = verify_ledger(d, &Expect::default()).unwrap();
        assert!(verdict.passed(), "{verdict:?}");
        // Forged records under that name: checked, and named in the staged file.
        std::fs::write(&staged, "{\"day\":1}\n{\"n\":3}\n").unwrap();
        let verdict = verify_ledger(d, &Expect::default()).unwrap();
        assert!(!verdict.passed());
        let found: Vec<_> = (verdict.verdicts.iter())
            .flat_map(|v| {
                v.findings
                    .iter()
                    .map(|f| (v.log.clone(), f.rule(), f.line()))
            })
            .collect();
        assert_eq!(found, [(staged.clone(), "seal.line_changed", Some(2))]);
        std::fs::write(&staged, "{\"day\":1}\n").unwrap();
        assert_eq!(rules(d), ["seal.truncated"]);
    }

    #[test]
    fn a_directory_in_the_archive_is_named_whatever_its_name() {
        let dir = ledger();
        let d = dir.path();
        archive(d, 20_261_201);
        let a = d.join("archive");
        for sub in [
            "x.tmp",
            "events_20261201.jsonl.gz.tmp",
            ".staging/x.tmp",
            ".staging/events_20261201.jsonl",
        ] {
            std::fs::create_dir_all(a.join(sub)).unwrap();
            std::fs::write(a.join(sub).join("e.jsonl"), "{}\n").unwrap();
        }
        std::fs::write(a.join("x.tmp/e.jsonl.gz"), "x").unwrap();
        // Retention's temporary files, which analyze does not read, stay its own.
        std::fs::write(a.join("events_20261202.jsonl.gz.tmp"), "x").unwrap();
        std::fs::write(a.join(".staging/y.tmp"), "x").unwrap();
        let verdict = verify_ledger(d, &Expect::default()).unwrap();
        let unrecorded = |part: &str| LedgerFinding::ArchiveUnrecorded { part: a.join(part) };
        assert_eq!(
            verdict.findings,
            [
                unrecorded("events_20261201.jsonl.gz.tmp"),
                unrecorded("x.tmp"),
                unrecorded(".staging/events_20261201.jsonl"),
                unrecorded(".staging/x.tmp"),
            ]
        );
        assert!(!verdict.passed());
    }

    #[test]
    fn a_current_seal_without_events_jsonl_is_read_and_named() {
        let dir = ledger();
        let d = dir.path();
        let current = d.join("events.jsonl");
        std::fs::write(&current, "{}\n").unwrap();
        crate::seal(&current, None, now())
            .unwrap()
            .append()
            .unwrap();
        assert!(verify_ledger(d, &Expect::default()).unwrap().passed());
        std::fs::remove_file(&current).unwrap();
        let verdict = verify_ledger(d, &Expect::default()).unwrap();
        assert_eq!(
            verdict.findings,
            [LedgerFinding::FileMissing {
                log: current.clone()
            }]
        );
        assert!(!verdict.passed());
        // A seal that is no seal, and a day's seal copied there: read, and judged.
        let seal = d.join("events.jsonl.seal");
        std::fs::write(&seal, "not a seal\n").unwrap();
        assert_eq!(rules(d), ["seal.file_missing", "seal.malformed"]);
        std::fs::copy(d.join("events_20261203.jsonl.seal"), &seal).unwrap();
        assert_eq!(rules(d), ["seal.current_linked", "seal.file_missing"]);
        // Alone in a directory, it still makes one a ledger.
        let alone = tempfile::tempdir().unwrap();
        std::fs::copy(&seal, alone.path().join("events.jsonl.seal")).unwrap();
        assert!(
            !verify_ledger(alone.path(), &Expect::default())
                .unwrap()
                .passed()
        );
    }

    #[test]
    fn a_day_file_and_its_seal_copied_to_events_jsonl_is_named() {
        let dir = ledger();
        let d = dir.path();
        std::fs::copy(d.join("events_20261203.jsonl"), d.join("events.jsonl")).unwrap();
        std::fs::copy(
            d.join("events_20261203.jsonl.seal"),
            d.join("events.jsonl.seal"),
        )
        .unwrap();
        let verdict = verify_ledger(d, &Expect::default()).unwrap();
        let found: Vec<_> = verdict
            .findings
            .iter()
            .map(|f| (f.rule(), f.place().0.to_owned(), f.place().1))
            .collect();
        let seal = d.join("events.jsonl.seal");
        assert_eq!(found, [("seal.current_linked", seal, Some(1))]);
        assert!(!verdict.passed());
    }
}
