//! Sealing: the checkpoints that extend a log's seal over the lines written since its last
//! checkpoint. Only the new lines are read; the chain goes on from the last checkpoint, so a
//! change made before it is still found by [`crate::verify()`], never blessed.

use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};

use crate::checkpoint::{Checkpoint, CheckpointError, Link, MAX_LINES_PER_CHECKPOINT, SealFile};
use crate::keys::SecretKey;
use crate::lines::{self, Start};
use crate::verify::check_chain;

/// What sealing a log made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// The log.
    pub log: PathBuf,
    /// Its seal file (the caller appends [`added`](Self::added) to it, a line each).
    pub seal: PathBuf,
    /// The new checkpoints, in order; none when no line was added since the last one.
    pub added: Vec<Checkpoint>,
    /// Lines covered once they are written.
    pub lines: u64,
    /// Bytes after the last complete line, left for a later seal.
    pub partial: u64,
    /// Earlier checkpoints that the key given did not sign (unsigned, or signed by another
    /// key): `verify --pubkey` with this key's public half fails on them. 0 without a key.
    pub earlier_not_signed: u64,
}

impl Sealed {
    /// Writes the new checkpoints to `out`, a line each (the CLI's output gate, a file).
    pub fn write_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        for checkpoint in &self.added {
            out.write_all(checkpoint.to_line().as_bytes())?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Appends the new checkpoints to the seal file and syncs it (a library user's way; the
    /// CLI writes through its output gate with [`write_to`](Self::write_to)).
    pub fn append(&self) -> std::io::Result<()> {
        if self.added.is_empty() {
            return Ok(());
        }
        let mut file = crate::files::open_seal_for_append(&self.seal)?;
        let mut out = std::io::BufWriter::new(&mut file);
        self.write_to(&mut out)?;
        std::io::Write::flush(&mut out)?;
        drop(out);
        file.sync_all()
    }
}

/// Why a log cannot be sealed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The log could not be read.
    #[error("read {path}: {source}")]
    Io {
        /// The log.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Its seal file cannot be read as one.
    #[error(transparent)]
    Seal(#[from] CheckpointError),
    /// Its seal is broken, or the log no longer ends a line where its last checkpoint says:
    /// extending it would hide that. `agentlog verify` says more.
    #[error("{seal}:{seal_line}: {what}; not extended (run `agentlog verify`)")]
    Broken {
        /// The seal file.
        seal: PathBuf,
        /// The checkpoint's line in it.
        seal_line: u64,
        /// What is wrong.
        what: String,
    },
    /// A ledger's sealing was asked of a file it does not apply to (not a day file, or a
    /// retention record naming another day's archive part).
    #[error("{path}: {what}")]
    Ledger {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
}

/// The checkpoints that seal `log`'s lines written since its last checkpoint, made at `now`
/// and signed with `key` when given. Nothing is written.
pub fn seal(
    log: &Path,
    key: Option<&SecretKey>,
    now: time::OffsetDateTime,
) -> Result<Sealed, SealError> {
    seal_linked(log, key, now, None)
}

/// [`seal`], with `link` on the first checkpoint when the seal file has none yet (a ledger's
/// day file, naming the day file before it). After a retention record, the log is sealed
/// from its first line, as a new segment of the chain.
pub(crate) fn seal_linked(
    log: &Path,
    key: Option<&SecretKey>,
    now: time::OffsetDateTime,
    link: Option<Link>,
) -> Result<Sealed, SealError> {
    let seal = crate::seal_path(log);
    let existing = SealFile::read(&seal)?.unwrap_or_default().checkpoints;
    let broken = |seal_line: u64, what: String| SealError::Broken {
        seal: seal.clone(),
        seal_line,
        what,
    };
    if let Some(finding) = check_chain(&existing, None).0.first() {
        return Err(broken(finding.seal_line().unwrap_or(0), finding.message()));
    }
    // After a retention record (a ledger day that was archived), the file is a new one,
    // started by late records of that day: a new segment, sealed from its first line.
    let start = existing
        .last()
        .filter(|last| last.retained.is_none())
        .map_or_else(Start::default, |last| Start {
            lines: last.lines,
            offset: last.bytes,
            chain: last.chain,
        });
    let io = |source| SealError::Io {
        path: log.to_owned(),
        source,
    };
    let mut file = crate::files::open_regular(log).map_err(io)?;
    if start.offset > 0 && !ends_a_line(&mut file, start.offset) {
        return Err(broken(
            existing.len() as u64,
            format!(
                "the log no longer ends a line at byte {} where the last checkpoint ends (truncated or rewritten)",
                start.offset
            ),
        ));
    }
    let mut added_lines = Vec::new();
    let end = lines::scan(&mut file, start, |line| {
        added_lines.push(line);
        true
    })
    .map_err(io)?;
    let prev = existing.last().map_or([0; 32], |c| c.digest);
    let link = link.filter(|_| existing.is_empty());
    let added = checkpoints(&added_lines, prev, &timestamp(now), key, link);
    Ok(Sealed {
        log: log.to_owned(),
        seal,
        added,
        lines: end.lines,
        partial: end.partial,
        earlier_not_signed: not_signed_by(key, &existing),
    })
}

/// Whether the byte before `offset` is a newline (the last checkpoint ends a line there).
fn ends_a_line(file: &mut std::fs::File, offset: u64) -> bool {
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(offset - 1)).is_ok()
        && file.read_exact(&mut last).is_ok()
        && last == [b'\n']
}

/// `now` as checkpoints write it: UTC, whole seconds, RFC 3339.
pub(crate) fn timestamp(now: time::OffsetDateTime) -> String {
    now.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The checkpoints covering `added_lines` after the checkpoint `prev`, at most
/// [`MAX_LINES_PER_CHECKPOINT`] lines each; `link` goes on the first.
fn checkpoints(
    added_lines: &[crate::lines::Line],
    mut prev: [u8; 32],
    time: &str,
    key: Option<&SecretKey>,
    mut link: Option<Link>,
) -> Vec<Checkpoint> {
    let mut added = Vec::new();
    for group in added_lines.chunks(MAX_LINES_PER_CHECKPOINT as usize) {
        let Some(last) = group.last() else { continue };
        let mut checkpoint = Checkpoint {
            lines: last.number,
            bytes: last.end,
            chain: last.chain,
            prev,
            time: time.to_owned(),
            line_hashes: group.iter().map(|line| line.short).collect(),
            digest: [0; 32],
            signature: None,
            link: link.take(),
            retained: None,
        };
        finish(&mut checkpoint, key);
        prev = checkpoint.digest;
        added.push(checkpoint);
    }
    added
}

/// Sets a checkpoint's digest from its fields, and signs it with `key` when given.
pub(crate) fn finish(checkpoint: &mut Checkpoint, key: Option<&SecretKey>) {
    checkpoint.digest = checkpoint.expected_digest();
    if let Some(key) = key {
        checkpoint.signature = Some((key.sign(&checkpoint.digest), key.public().to_bytes()));
    }
}

/// How many of `checkpoints` `key` did not sign (0 without a key).
fn not_signed_by(key: Option<&SecretKey>, checkpoints: &[Checkpoint]) -> u64 {
    key.map_or(0, |key| {
        let public = key.public().to_bytes();
        checkpoints
            .iter()
            .filter(|c| c.signature.map(|(_, by)| by) != Some(public))
            .count() as u64
    })
}
