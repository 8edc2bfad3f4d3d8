//! Tamper evidence for append-only logs: a seal file of chained, optionally signed
//! checkpoints beside each log, and its verification.
//!
//! # The model
//!
//! A log is a sequence of lines, each ended by `\n`. Sealing `events.jsonl` appends a
//! *checkpoint* to `events.jsonl.seal`, one JSON object a line. A checkpoint covers every
//! complete line from the start of the log to its `lines` (`bytes` bytes, newlines included)
//! and holds:
//!
//! - `chain`: a SHA-256 chain over the exact bytes of every covered line (without its `\n`):
//!   `h_0` is 32 zero bytes and `h_i = SHA-256(h_{i-1} || line_i)`;
//! - `line_hashes`: for each line the checkpoint adds (after the previous checkpoint's), the
//!   first 8 bytes of `SHA-256(line_i)`, so a verifier can name the first line that differs,
//!   was deleted or was inserted;
//! - `prev`: the previous checkpoint's digest (zeros for the first): checkpoints form a chain
//!   of their own, and removing or reordering one breaks it;
//! - `time`, then `digest`: SHA-256 over a fixed text of all of the above ([`Checkpoint`]
//!   documents it byte for byte), and with a key, `signature` (Ed25519 over the digest) and
//!   `key` (the public key).
//!
//! Sealing again after more lines were written extends both chains from the last
//! checkpoint: it reads only the new lines. [`verify()`] reads the whole log once and says
//! whether every line is covered and unchanged, naming what is not ([`Finding`]).
//!
//! A ledger directory (`agentlog-core`'s tool-call ledger) is sealed as one chain: each day
//! file when it rotates ([`seal_day_file`]: its seal's first checkpoint links to the day file
//! before it), a retention record before retention archives a day ([`record_retention`]),
//! and [`verify_ledger`] over the directory and its `archive/` parts. This crate does not
//! depend on `agentlog-core`: the CLI wires these to the ledger's file hook.
//!
//! The format is data: docs/seal.md describes it for ports, and `conformance/seal/` holds
//! logs, their seals, tampered variants and the verdicts expected of them.
//!
//! Nothing here prints: the CLI writes checkpoints and verdicts through its output gate. A
//! verdict never quotes a line of the log, only numbers and hashes.

mod checkpoint;
mod files;
mod hex;
mod keys;
mod ledger;
mod ledger_verify;
mod lines;
mod names;
mod seal;
mod sealer;
mod verify;

pub use checkpoint::{
    Checkpoint, CheckpointError, Link, MAX_LINES_PER_CHECKPOINT, MAX_SEAL_LINE, SealFile,
};
pub use files::open_seal_for_append;
pub use keys::{KeyError, KeyPaths, PublicKey, SecretKey, generate_key_pair};
pub use ledger::{record_retention, seal_day_file};
pub use ledger_verify::{LedgerFinding, LedgerVerdict, verify_ledger};
pub use names::{CURRENT, day_of_archive_part, day_of_file};
pub use seal::{SealError, Sealed, seal};
pub use sealer::{OnSealed, Sealer};
pub use verify::{Expect, Finding, Signatures, Verdict, VerifyError, verify, verify_expecting};

/// A digest (or any bytes) as the format writes it: lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// A digest written as the format writes it (64 lowercase hex digits); `None` for anything
/// else.
pub fn digest_from_hex(text: &str) -> Option<[u8; 32]> {
    hex::decode_array(text)
}

/// The seal file of a log: its path with `.seal` appended.
pub fn seal_path(log: &std::path::Path) -> std::path::PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".seal");
    std::path::PathBuf::from(name)
}
