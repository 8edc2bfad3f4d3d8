//! `agentlog seal`: a thin shell over [`agentlog_seal::seal`]; the checkpoints it makes are
//! appended to each log's seal file through the output gate.

use std::path::{Path, PathBuf};

use agentlog_seal::{CheckpointError, SealError, Sealed, SecretKey};
use agentlog_validate::gate::Style;

use super::{EXIT_FINDINGS, EXIT_OK, fail, output};

/// Append a checkpoint to each log's seal file (`PATH.seal`): a SHA-256 chain over every
/// line, so `agentlog verify` can later prove the log complete and unchanged.
///
/// Sealing again after more lines were written extends the chain; only the new lines are
/// read. Lines not ended by a newline yet are left for a later seal. With --key, each
/// checkpoint is signed (Ed25519; `agentlog keygen` makes the key pair). A seal that is
/// broken, or a log that no longer ends a line where its last checkpoint does, is never
/// extended. Each sealing prints the last checkpoint's digest: record it somewhere the
/// log's writer cannot rewrite, and `agentlog verify --anchor DIGEST` will notice a seal
/// rolled back past it. Exit codes: 0 sealed (or nothing new), 1 a seal refused (broken or
/// malformed), 2 usage or I/O error.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// Logs to seal (files).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Sign each checkpoint with this secret key (the `.key` file of `agentlog keygen`).
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
}

/// Runs the subcommand.
pub(super) fn run(args: Args) -> u8 {
    let key = match args.key.as_deref().map(SecretKey::read).transpose() {
        Ok(key) => key,
        Err(e) => {
            let key_path = args.key.as_deref().unwrap_or(Path::new(""));
            return fail(output::paths_shown(&e.to_string(), &[key_path]));
        }
    };
    let now = time::OffsetDateTime::now_utc();
    let mut code = EXIT_OK;
    for path in &args.paths {
        let seal_path = agentlog_seal::seal_path(path);
        let shown = |e: &dyn std::fmt::Display| {
            output::paths_shown(&e.to_string(), &[path.as_path(), &seal_path])
        };
        let outcome = match agentlog_seal::seal(path, key.as_ref(), now) {
            Ok(sealed) => append(&sealed).map(|()| {
                warn_earlier_not_signed(path, &sealed);
                summary(&sealed, key.is_some())
            }),
            Err(
                e @ (SealError::Broken { .. } | SealError::Seal(CheckpointError::Malformed { .. })),
            ) => {
                output::errln!("agentlog: error: {}", shown(&e));
                code = code.max(EXIT_FINDINGS);
                continue;
            }
            Err(e) => Err(shown(&e)),
        };
        match outcome {
            Ok(line) => output::errln!("{}: {line}", output::path(path)),
            Err(e) => code = fail(e),
        }
    }
    code
}

/// Says so when a key extends a chain whose earlier checkpoints it did not sign: the seal
/// is kept (the chain still holds), but a verifier with this key's public half will find
/// them `seal.unsigned` or `seal.other_key`.
pub(super) fn warn_earlier_not_signed(path: &Path, sealed: &Sealed) {
    if sealed.earlier_not_signed > 0 && !sealed.added.is_empty() {
        output::errln!(
            "agentlog: warning: {}: {} earlier checkpoint(s) are not signed by this key; `agentlog verify --pubkey` with it will fail on them",
            output::path(path),
            sealed.earlier_not_signed
        );
    }
}

/// What sealing did, in a line.
fn summary(sealed: &Sealed, signed: bool) -> String {
    let mut line = match (sealed.added.first(), sealed.added.last()) {
        (Some(first), Some(last)) => format!(
            "sealed lines {}-{} ({} checkpoint(s){}); last digest {}",
            first.lines + 1 - first.line_hashes.len() as u64,
            last.lines,
            sealed.added.len(),
            if signed { ", signed" } else { "" },
            agentlog_seal::to_hex(&last.digest)
        ),
        _ => format!("nothing new to seal ({} line(s) sealed)", sealed.lines),
    };
    if sealed.partial > 0 {
        line.push_str(&format!(
            "; {} byte(s) of a line not ended yet are left for a later seal",
            sealed.partial
        ));
    }
    line
}

/// Appends the new checkpoints to the seal file, through the gate. A checkpoint the gate
/// would withhold (it never shows a secret: hex and numbers) would damage the seal: the
/// file is then cut back to where it was, and that is an error.
pub(super) fn append(sealed: &Sealed) -> Result<(), String> {
    if sealed.added.is_empty() {
        return Ok(());
    }
    let path = &sealed.seal;
    let shown = || output::path(path);
    let io = |e: std::io::Error| format!("write {}: {e}", shown());
    let file = agentlog_seal::open_seal_for_append(path).map_err(io)?;
    let before = file.metadata().map_err(io)?.len();
    let withheld = output::withheld();
    let mut out = output::gate().writer(std::io::BufWriter::new(file), Style::Json);
    sealed.write_to(&mut out).map_err(io)?;
    let file = out
        .into_inner()
        .map_err(io)?
        .into_inner()
        .map_err(|e| io(e.into_error()))?;
    if output::withheld() > withheld {
        file.set_len(before).map_err(io)?;
        return Err(format!(
            "{}: the output gate withheld a checkpoint; the seal file was left as it was",
            shown()
        ));
    }
    file.sync_all().map_err(io)
}
