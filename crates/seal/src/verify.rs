//! Verification: the seal file's checkpoints checked as a chain (digests, links, signatures),
//! then the log read once and every covered line compared, naming the first that differs.

use std::path::{Path, PathBuf};

use crate::checkpoint::{Checkpoint, CheckpointError, SealFile};
use crate::keys::PublicKey;
use crate::lines::{self, Start};

/// What verification found wrong, or worth saying. Each names a line: of the log, or of the
/// seal file (`seal_line`). None quotes the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// The log has no seal file, or one without a checkpoint.
    SealMissing,
    /// A line of the seal file is not a well-formed checkpoint.
    Malformed {
        /// The seal file's line.
        seal_line: u64,
        /// What is wrong.
        what: String,
    },
    /// A checkpoint's digest is not the digest of its fields: it was edited.
    CheckpointEdited {
        /// The seal file's line.
        seal_line: u64,
    },
    /// A checkpoint does not name the one before it: one was removed, inserted or moved.
    CheckpointOrder {
        /// The seal file's line.
        seal_line: u64,
    },
    /// A checkpoint covers less than the one before it, or lists a wrong number of lines.
    CheckpointInconsistent {
        /// The seal file's line.
        seal_line: u64,
        /// How.
        what: String,
    },
    /// No checkpoint has the digest the verifier holds from an earlier seal (`--anchor`):
    /// the seal was rolled back to an earlier checkpoint, or belongs to another log.
    AnchorMissing,
    /// A public key was given and a checkpoint is not signed.
    Unsigned {
        /// The seal file's line.
        seal_line: u64,
    },
    /// A checkpoint is signed by another key than the one given.
    OtherKey {
        /// The seal file's line.
        seal_line: u64,
    },
    /// A checkpoint's signature does not verify against the given key.
    BadSignature {
        /// The seal file's line.
        seal_line: u64,
    },
    /// The log's line differs from the sealed one.
    LineChanged {
        /// The log's line.
        line: u64,
    },
    /// The sealed line is gone: the log's line here is the sealed line after it.
    LineDeleted {
        /// The log's line.
        line: u64,
    },
    /// The log's line was not sealed; the sealed line follows it.
    LineInserted {
        /// The log's line.
        line: u64,
    },
    /// Every line matches its short hash, yet the chain or the byte count at a checkpoint
    /// does not: the log was altered in a way the short hashes miss.
    ChainMismatch {
        /// The seal file's line.
        seal_line: u64,
        /// The log's line the checkpoint covers to.
        line: u64,
    },
    /// The log ends before the last checkpoint's lines.
    Truncated {
        /// Lines the seal covers.
        sealed: u64,
        /// Complete lines the log has.
        lines: u64,
    },
    /// The log goes on after the last checkpoint (accepted with `--allow-tail`).
    UnsealedTail {
        /// The first line not covered.
        from: u64,
        /// Complete lines not covered.
        lines: u64,
        /// Bytes after the last complete line.
        partial: u64,
    },
}

impl Finding {
    /// Its rule name, stable for machines.
    pub fn rule(&self) -> &'static str {
        match self {
            Finding::SealMissing => "seal.missing",
            Finding::Malformed { .. } => "seal.malformed",
            Finding::CheckpointEdited { .. } => "seal.checkpoint_edited",
            Finding::CheckpointOrder { .. } => "seal.checkpoint_order",
            Finding::CheckpointInconsistent { .. } => "seal.checkpoint_inconsistent",
            Finding::AnchorMissing => "seal.anchor_missing",
            Finding::Unsigned { .. } => "seal.unsigned",
            Finding::OtherKey { .. } => "seal.other_key",
            Finding::BadSignature { .. } => "seal.bad_signature",
            Finding::LineChanged { .. } => "seal.line_changed",
            Finding::LineDeleted { .. } => "seal.line_deleted",
            Finding::LineInserted { .. } => "seal.line_inserted",
            Finding::ChainMismatch { .. } => "seal.chain_mismatch",
            Finding::Truncated { .. } => "seal.truncated",
            Finding::UnsealedTail { .. } => "seal.unsealed_tail",
        }
    }

    /// The log's line it is about, if any.
    pub fn line(&self) -> Option<u64> {
        match self {
            Finding::LineChanged { line }
            | Finding::LineDeleted { line }
            | Finding::LineInserted { line }
            | Finding::ChainMismatch { line, .. } => Some(*line),
            Finding::Truncated { lines, .. } => Some(lines + 1),
            Finding::UnsealedTail { from, .. } => Some(*from),
            _ => None,
        }
    }

    /// The seal file's line it is about, if any.
    pub fn seal_line(&self) -> Option<u64> {
        match self {
            Finding::Malformed { seal_line, .. }
            | Finding::CheckpointEdited { seal_line }
            | Finding::CheckpointOrder { seal_line }
            | Finding::CheckpointInconsistent { seal_line, .. }
            | Finding::Unsigned { seal_line }
            | Finding::OtherKey { seal_line }
            | Finding::BadSignature { seal_line }
            | Finding::ChainMismatch { seal_line, .. } => Some(*seal_line),
            _ => None,
        }
    }

    /// Whether it fails verification: all do but an unsealed tail that is allowed.
    pub fn is_error(&self, allow_tail: bool) -> bool {
        !(allow_tail && matches!(self, Finding::UnsealedTail { .. }))
    }

    /// What it means, in a sentence.
    pub fn message(&self) -> String {
        match self {
            Finding::SealMissing => "no checkpoint: the log is not sealed".to_owned(),
            Finding::Malformed { what, .. } => format!("not a checkpoint: {what}"),
            Finding::CheckpointEdited { .. } => {
                "the checkpoint was edited: its digest is not that of its fields".to_owned()
            }
            Finding::CheckpointOrder { .. } => {
                "the checkpoint does not name the one before it: a checkpoint was removed, inserted or moved".to_owned()
            }
            Finding::CheckpointInconsistent { what, .. } => format!("the checkpoint {what}"),
            Finding::AnchorMissing => "no checkpoint has the anchor's digest: the seal was rolled back to an earlier checkpoint, or is another log's".to_owned(),
            Finding::Unsigned { .. } => "the checkpoint is not signed".to_owned(),
            Finding::OtherKey { .. } => {
                "the checkpoint is signed by another key than the one given".to_owned()
            }
            Finding::BadSignature { .. } => {
                "the checkpoint's signature does not verify against the given public key".to_owned()
            }
            Finding::LineChanged { line } => format!("line {line} differs from the sealed line"),
            Finding::LineDeleted { line } => format!(
                "the sealed line {line} was deleted (the log's line {line} is the sealed line {})",
                line + 1
            ),
            Finding::LineInserted { line } => format!(
                "line {line} was inserted (the sealed line {line} follows it)"
            ),
            Finding::ChainMismatch { line, .. } => format!(
                "the chain of lines 1-{line} does not match the checkpoint"
            ),
            Finding::Truncated { sealed, lines } => format!(
                "the log was truncated: the seal covers {sealed} lines, the log has {lines} complete lines"
            ),
            Finding::UnsealedTail {
                from,
                lines,
                partial,
            } => {
                let mut text = format!("{lines} line(s) from line {from} are not sealed");
                if *partial > 0 {
                    text.push_str(&format!(", and {partial} byte(s) of a line not ended"));
                }
                text
            }
        }
    }
}

/// Whether signatures were checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signatures {
    /// No checkpoint is signed.
    None,
    /// Checkpoints are signed; no public key was given to check them.
    NotChecked,
    /// Every checkpoint's signature verified against the given key.
    Verified,
    /// A public key was given and some checkpoint failed it (see the findings).
    Failed,
}

/// What verifying one log found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The log.
    pub log: PathBuf,
    /// Its seal file.
    pub seal: PathBuf,
    /// Checkpoints read.
    pub checkpoints: usize,
    /// Lines the last checkpoint covers.
    pub sealed_lines: u64,
    /// Complete lines of the log read (reading stops at the first difference).
    pub lines_read: u64,
    /// Signatures.
    pub signatures: Signatures,
    /// What was found, in order.
    pub findings: Vec<Finding>,
    /// An unsealed tail is accepted.
    pub allow_tail: bool,
}

impl Verdict {
    /// Every covered line matches and nothing fails verification.
    pub fn passed(&self) -> bool {
        !self.findings.iter().any(|f| f.is_error(self.allow_tail))
    }

    /// The file `finding` is on: the seal file when it names a seal line, else the log.
    pub fn file_of(&self, finding: &Finding) -> &Path {
        if finding.seal_line().is_some() {
            &self.seal
        } else {
            &self.log
        }
    }
}

/// Why a log could not be verified at all (usage or I/O, not tampering).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The log or its seal file could not be read.
    #[error("read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// What a verification requires beyond the seal file itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct Expect<'a> {
    /// Every checkpoint signed by this key.
    pub key: Option<&'a PublicKey>,
    /// A checkpoint with this digest, recorded from an earlier seal somewhere the log's
    /// writer cannot rewrite: a seal file alone cannot show that its last checkpoints were
    /// removed (with the lines they covered), or that it was swapped with another log's.
    pub anchor: Option<[u8; 32]>,
    /// Lines after the last checkpoint are reported, not failed.
    pub allow_tail: bool,
}

/// Verifies `log` against its seal file (`log.seal`). With `key`, every checkpoint must be
/// signed by it; with `allow_tail`, lines after the last checkpoint are reported, not failed.
pub fn verify(
    log: &Path,
    key: Option<&PublicKey>,
    allow_tail: bool,
) -> Result<Verdict, VerifyError> {
    verify_expecting(
        log,
        &Expect {
            key,
            anchor: None,
            allow_tail,
        },
    )
}

/// [`verify`] with everything [`Expect`] can require.
pub fn verify_expecting(log: &Path, expect: &Expect<'_>) -> Result<Verdict, VerifyError> {
    // A log that cannot be read is an I/O error, whatever its seal says.
    let file = crate::files::open_regular(log).map_err(|source| VerifyError::Io {
        path: log.to_owned(),
        source,
    })?;
    verify_read(log, &crate::seal_path(log), file, expect, None)
}

/// The segments of a seal: the checkpoints up to and including each retention record, then
/// those after the last one (when there are any). A seal without retention records is one
/// segment. Each segment covers a file of its own from its first line: a day's file that
/// was archived, then the file that late records of that day started again.
pub(crate) fn segments(checkpoints: &[Checkpoint]) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    for (index, checkpoint) in checkpoints.iter().enumerate() {
        if checkpoint.retained.is_some() {
            ranges.push(start..index + 1);
            start = index + 1;
        }
    }
    if start < checkpoints.len() {
        ranges.push(start..checkpoints.len());
    }
    ranges
}

/// Verifies the lines `file` reads (named `log` in the verdict) against the seal file
/// `seal`: against its last segment ([`segments`]), or with `part`, against the segment its
/// retention record naming `part` closes (a ledger's archive part, read through its
/// decompression).
pub(crate) fn verify_read(
    log: &Path,
    seal: &Path,
    file: impl std::io::Read,
    expect: &Expect<'_>,
    part: Option<&str>,
) -> Result<Verdict, VerifyError> {
    let (key, allow_tail) = (expect.key, expect.allow_tail);
    let seal = seal.to_owned();
    let mut verdict = Verdict {
        log: log.to_owned(),
        seal: seal.clone(),
        checkpoints: 0,
        sealed_lines: 0,
        lines_read: 0,
        signatures: Signatures::None,
        findings: Vec::new(),
        allow_tail,
    };
    let checkpoints = match SealFile::read(&seal) {
        Ok(Some(file)) if !file.checkpoints.is_empty() => file.checkpoints,
        Ok(_) => {
            verdict.findings.push(Finding::SealMissing);
            return Ok(verdict);
        }
        Err(CheckpointError::Malformed { line, what, .. }) => {
            verdict.findings.push(Finding::Malformed {
                seal_line: line,
                what,
            });
            return Ok(verdict);
        }
        Err(CheckpointError::Io { path, source }) => return Err(VerifyError::Io { path, source }),
    };
    let (mut findings, signatures) = check_chain(&checkpoints, key);
    let range = segments(&checkpoints)
        .into_iter()
        .rfind(|range| {
            let closing = range.end.checked_sub(1).and_then(|i| checkpoints.get(i));
            part.is_none() || closing.and_then(|c| c.retained.as_deref()) == part
        })
        .unwrap_or(0..checkpoints.len());
    let first_line = range.start as u64;
    let checkpoints = checkpoints.get(range).unwrap_or_default();
    verdict.checkpoints = checkpoints.len();
    verdict.sealed_lines = checkpoints.last().map_or(0, |c| c.lines);
    verdict.signatures = signatures;
    if let Some(anchor) = expect.anchor
        && !checkpoints.iter().any(|c| c.digest == anchor)
    {
        findings.push(Finding::AnchorMissing);
    }
    if !findings.is_empty() {
        verdict.findings = findings;
        verdict.sealed_lines = 0;
        return Ok(verdict);
    }
    let (findings, lines_read) =
        compare_lines(file, checkpoints, first_line).map_err(|source| VerifyError::Io {
            path: log.to_owned(),
            source,
        })?;
    verdict.findings = findings;
    verdict.lines_read = lines_read;
    Ok(verdict)
}

/// The checkpoints as a chain: each digest true to its fields, each naming the one before,
/// none covering less than the one before, each listing one short hash per line it adds,
/// and with `key`, each signed by it.
pub(crate) fn check_chain(
    checkpoints: &[Checkpoint],
    key: Option<&PublicKey>,
) -> (Vec<Finding>, Signatures) {
    let mut findings = Vec::new();
    let mut signed = false;
    let mut previous: Option<&Checkpoint> = None;
    for (index, checkpoint) in checkpoints.iter().enumerate() {
        let seal_line = index as u64 + 1;
        if checkpoint.expected_digest() != checkpoint.digest {
            findings.push(Finding::CheckpointEdited { seal_line });
            break;
        }
        // After a retention record a new segment starts, from the first line of its file.
        let (prev, lines, bytes) = previous.map_or(([0; 32], 0, 0), |p| match p.retained {
            Some(_) => (p.digest, 0, 0),
            None => (p.digest, p.lines, p.bytes),
        });
        if checkpoint.prev != prev {
            findings.push(Finding::CheckpointOrder { seal_line });
            break;
        }
        // Each line takes at least its newline; none covers no bytes and no chain.
        let empty_but_not =
            checkpoint.lines == 0 && (checkpoint.bytes != 0 || checkpoint.chain != [0; 32]);
        if checkpoint.bytes < checkpoint.lines || empty_but_not {
            findings.push(Finding::CheckpointInconsistent {
                seal_line,
                what: "covers fewer bytes than lines, or no line but some bytes".to_owned(),
            });
            break;
        }
        let added = checkpoint.lines.checked_sub(lines);
        if added.is_none() || checkpoint.bytes < bytes {
            findings.push(Finding::CheckpointInconsistent {
                seal_line,
                what: "covers less than the one before it".to_owned(),
            });
            break;
        }
        if added.is_some_and(|added| added > crate::MAX_LINES_PER_CHECKPOINT) {
            findings.push(Finding::CheckpointInconsistent {
                seal_line,
                what: format!("adds more than {} lines", crate::MAX_LINES_PER_CHECKPOINT),
            });
            break;
        }
        if added != Some(checkpoint.line_hashes.len() as u64) {
            findings.push(Finding::CheckpointInconsistent {
                seal_line,
                what: format!(
                    "lists {} line hash(es) for {} line(s) added",
                    checkpoint.line_hashes.len(),
                    added.unwrap_or_default()
                ),
            });
            break;
        }
        if let Some(what) = extension_problem(seal_line, checkpoint, previous) {
            findings.push(Finding::CheckpointInconsistent { seal_line, what });
            break;
        }
        signed |= checkpoint.signature.is_some();
        if let Some(key) = key {
            match checkpoint.signature {
                None => findings.push(Finding::Unsigned { seal_line }),
                Some((_, signer)) if signer != key.to_bytes() => {
                    findings.push(Finding::OtherKey { seal_line });
                }
                Some((signature, _)) if !key.verifies(&checkpoint.digest, &signature) => {
                    findings.push(Finding::BadSignature { seal_line });
                }
                Some(_) => {}
            }
        }
        previous = Some(checkpoint);
    }
    let signatures = match (key, signed) {
        (Some(_), _) if findings.iter().any(|f| f.seal_line().is_some()) => Signatures::Failed,
        (Some(_), _) => Signatures::Verified,
        (None, true) => Signatures::NotChecked,
        (None, false) => Signatures::None,
    };
    (findings, signatures)
}

/// What is wrong with a checkpoint's ledger extensions: a link anywhere but on the first
/// checkpoint, a retention record that adds lines.
fn extension_problem(
    seal_line: u64,
    checkpoint: &Checkpoint,
    previous: Option<&Checkpoint>,
) -> Option<String> {
    if checkpoint.link.is_some() && seal_line != 1 {
        return Some("links to a previous file but is not the seal's first".to_owned());
    }
    let lines_before = previous
        .filter(|p| p.retained.is_none())
        .map_or(0, |p| p.lines);
    if checkpoint.retained.is_some() && checkpoint.lines != lines_before {
        return Some("is a retention record but adds lines".to_owned());
    }
    None
}

/// How the log's line `first` (short hash `short`), the first that differs, came to differ,
/// from the line after it (`next`, none at the end of the log) and the sealed short hashes
/// (`sealed(n)`): inserted when the next line is the sealed line `first` (and this one is not
/// the sealed line after it); deleted when this line is the sealed line after `first` (and
/// the next is not the sealed line `first`, which would make it two lines swapped); else
/// changed.
fn classify(
    first: u64,
    short: [u8; 8],
    next: Option<[u8; 8]>,
    sealed: &dyn Fn(u64) -> Option<[u8; 8]>,
) -> Finding {
    let next_is_sealed_here = next.is_some() && next == sealed(first);
    let here_is_sealed_next = sealed(first + 1) == Some(short);
    match (next_is_sealed_here, here_is_sealed_next) {
        (true, false) => Finding::LineInserted { line: first },
        (false, true) => Finding::LineDeleted { line: first },
        _ => Finding::LineChanged { line: first },
    }
}

/// Reads the log once, comparing each covered line's short hash (the checkpoints of one
/// segment, the first of them on the seal's line `first_seal_line + 1`), and the chain and byte
/// count at each checkpoint. Stops at the first difference, once it is classified.
fn compare_lines(
    log: impl std::io::Read,
    checkpoints: &[Checkpoint],
    first_seal_line: u64,
) -> std::io::Result<(Vec<Finding>, u64)> {
    let expected: Vec<[u8; 8]> = checkpoints
        .iter()
        .flat_map(|c| c.line_hashes.iter().copied())
        .collect();
    let sealed = expected.len() as u64;
    let mut at_checkpoint = checkpoints.iter().enumerate().peekable();
    let mut findings = Vec::new();
    // The first differing line and its short hash, until the line after it says how.
    let mut differs: Option<(u64, [u8; 8])> = None;
    let hash_at = |line: u64| {
        expected
            .get(usize::try_from(line).ok()?.checked_sub(1)?)
            .copied()
    };
    let end = lines::scan(log, Start::default(), |line| {
        if let Some((first, short)) = differs {
            // The line after the first difference says how the sealed lines moved.
            findings.push(classify(first, short, Some(line.short), &hash_at));
            return false;
        }
        if line.number > sealed {
            return true;
        }
        if hash_at(line.number) != Some(line.short) {
            differs = Some((line.number, line.short));
            return true;
        }
        while let Some((index, checkpoint)) = at_checkpoint.peek() {
            if checkpoint.lines > line.number {
                break;
            }
            if checkpoint.lines == line.number
                && (checkpoint.chain != line.chain || checkpoint.bytes != line.end)
            {
                findings.push(Finding::ChainMismatch {
                    seal_line: first_seal_line + *index as u64 + 1,
                    line: line.number,
                });
                return false;
            }
            at_checkpoint.next();
        }
        true
    })?;
    if let Some((first, short)) = differs
        && findings.is_empty()
    {
        findings.push(classify(first, short, None, &hash_at));
    }
    if findings.is_empty() {
        if end.lines < sealed {
            findings.push(Finding::Truncated {
                sealed,
                lines: end.lines,
            });
        } else if end.lines > sealed || end.partial > 0 {
            findings.push(Finding::UnsealedTail {
                from: sealed + 1,
                lines: end.lines - sealed,
                partial: end.partial,
            });
        }
    }
    Ok((findings, end.lines))
}
