//! `agentlog ledger log --seal` and `agentlog ledger retain --seal`: the ledger's file hook
//! (`agentlog_core::ledger::FileHook`, called under the directory lock) wired to
//! `agentlog_seal`. Each day file is sealed when it rotates (its seal's first checkpoint
//! linking to the day file before it), again when a late record is appended to it, and gets
//! a retention record before retention moves it to `archive/`. The checkpoints go to the
//! seal file through the output gate, as `agentlog seal` writes them.

use std::path::{Path, PathBuf};

use agentlog_core::ledger::{FileEvent, FileHook};
use agentlog_seal::{Sealed, SecretKey};

use super::output;

/// Sealing options of `ledger log` and `ledger retain`.
#[derive(Debug, Clone, clap::Args)]
pub(super) struct SealArgs {
    /// Seal each day file when it rotates (DIR/events_YYYYMMDD.jsonl.seal, its first
    /// checkpoint naming the day file before it), and record in the seal what retention
    /// archives; `agentlog verify DIR` checks the whole chain.
    #[arg(long)]
    seal: bool,
    /// Sign the checkpoints with this secret key (the `.key` file of `agentlog keygen`).
    #[arg(long, value_name = "FILE", requires = "seal")]
    seal_key: Option<PathBuf>,
}

impl SealArgs {
    /// The hook that seals, made at `now`; `None` without `--seal`. The key is read here,
    /// once: an error names its file.
    pub(super) fn hook(&self, now: time::OffsetDateTime) -> Result<Option<FileHook>, String> {
        if !self.seal {
            return Ok(None);
        }
        let key = match self.seal_key.as_deref().map(SecretKey::read).transpose() {
            Ok(key) => key,
            Err(e) => {
                let path = self.seal_key.as_deref().unwrap_or(Path::new(""));
                return Err(output::paths_shown(&e.to_string(), &[path]));
            }
        };
        Ok(Some(FileHook::new(move |event: &FileEvent<'_>| {
            seal_event(event, key.as_ref(), now)
        })))
    }
}

/// Seals what `event` says: a rotated or late-appended day file, or the retention record of
/// one about to be archived. Says on stderr what it sealed, and warns as `agentlog seal` does
/// when the key extends a seal whose earlier checkpoints it did not sign.
fn seal_event(
    event: &FileEvent<'_>,
    key: Option<&SecretKey>,
    now: time::OffsetDateTime,
) -> Result<(), String> {
    let path = event.path();
    let seal_path = agentlog_seal::seal_path(path);
    let shown =
        |e: &dyn std::fmt::Display| output::paths_shown(&e.to_string(), &[path, &seal_path]);
    let sealed = match event {
        FileEvent::Archiving { to, .. } => {
            let to = to.to_str().ok_or("the archive part's name is not UTF-8")?;
            agentlog_seal::record_retention(path, to, key, now)
        }
        _ => agentlog_seal::seal_day_file(path, key, now),
    }
    .map_err(|e| shown(&e))?;
    super::seal::append(&sealed)?;
    super::seal::warn_earlier_not_signed(path, &sealed);
    if let Some(line) = summary(&sealed) {
        output::errln!("agentlog: {}: {line}", output::path(path));
    }
    Ok(())
}

/// What a sealing added, in a line; `None` when nothing.
fn summary(sealed: &Sealed) -> Option<String> {
    let last = sealed.added.last()?;
    let what = match &last.retained {
        Some(part) => format!("retention recorded ({part})"),
        None => format!("sealed {} line(s)", last.lines),
    };
    Some(format!(
        "{what}; last digest {}",
        agentlog_seal::to_hex(&last.digest)
    ))
}
