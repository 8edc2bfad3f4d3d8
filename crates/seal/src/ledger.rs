//! A ledger directory's day files sealed as one chain: each day file is sealed when it
//! rotates, the first checkpoint of its seal naming the day file before it
//! ([`Link`]: its name and its seal's last digest then), and a day that retention moves to
//! `archive/` gets a retention record at the end of its seal, naming the archive part.
//! [`verify_ledger`](crate::verify_ledger) checks the whole chain.
//!
//! Nothing here locks: the ledger calls these under its directory lock (the CLI's
//! `agentlog ledger log --seal` and `agentlog ledger retain --seal` wire them in through
//! `agentlog-core`'s file hook), so each day file is sealed once, by one writer.

use std::path::Path;

use crate::checkpoint::{Checkpoint, Link, SealFile};
use crate::keys::SecretKey;
use crate::names;
use crate::seal::{SealError, Sealed, finish, seal_linked, timestamp};

/// Seals the ledger day file `log` (`DIR/events_YYYYMMDD.jsonl`) as [`crate::seal`] does; when
/// its seal is new, the first checkpoint links to the latest earlier day file sealed in
/// `DIR`. Nothing is written (append [`Sealed::added`] to [`Sealed::seal`]).
pub fn seal_day_file(
    log: &Path,
    key: Option<&SecretKey>,
    now: time::OffsetDateTime,
) -> Result<Sealed, SealError> {
    let day = day_of(log)?;
    let link = match SealFile::read(&crate::seal_path(log))? {
        Some(seal) if !seal.checkpoints.is_empty() => None,
        _ => previous_link(log, day)?,
    };
    seal_linked(log, key, now, link)
}

/// The checkpoints that record that retention moves the day file `log`'s records to the
/// archive part `archived_to` (relative to the ledger directory,
/// `archive/events_YYYYMMDD[-N].jsonl.gz`): the lines not sealed yet, then a retention
/// record. Call it before the file is moved. Nothing when the seal already ends with this
/// record (a retention run killed after writing it and run again).
pub fn record_retention(
    log: &Path,
    archived_to: &str,
    key: Option<&SecretKey>,
    now: time::OffsetDateTime,
) -> Result<Sealed, SealError> {
    let day = day_of(log)?;
    if names::day_of_archive_part(archived_to) != Some(day) {
        return Err(SealError::Ledger {
            path: log.to_owned(),
            what: "the archive part named is not one of this day's".to_owned(),
        });
    }
    let existing = SealFile::read(&crate::seal_path(log))?
        .unwrap_or_default()
        .checkpoints;
    if let Some(last) = existing.last()
        && last.retained.as_deref() == Some(archived_to)
    {
        return Ok(Sealed {
            log: log.to_owned(),
            seal: crate::seal_path(log),
            added: Vec::new(),
            lines: last.lines,
            partial: 0,
            earlier_not_signed: 0,
        });
    }
    let mut sealed = seal_day_file(log, key, now)?;
    let prev = sealed.added.last().or(existing.last()).map(|c| c.digest);
    // The last checkpoint of this file's segment (none when it has no line yet).
    let last = sealed
        .added
        .last()
        .or(existing.last().filter(|c| c.retained.is_none()));
    let link = match prev {
        Some(_) => None,
        None => previous_link(log, day)?,
    };
    let mut record = Checkpoint {
        lines: last.map_or(0, |c| c.lines),
        bytes: last.map_or(0, |c| c.bytes),
        chain: last.map_or([0; 32], |c| c.chain),
        prev: prev.unwrap_or([0; 32]),
        time: timestamp(now),
        line_hashes: Vec::new(),
        digest: [0; 32],
        signature: None,
        link,
        retained: Some(archived_to.to_owned()),
    };
    finish(&mut record, key);
    sealed.added.push(record);
    Ok(sealed)
}

/// The day of the day file `log`, from its name.
fn day_of(log: &Path) -> Result<u32, SealError> {
    log.file_name()
        .and_then(|name| name.to_str())
        .and_then(names::day_of_file)
        .ok_or_else(|| SealError::Ledger {
            path: log.to_owned(),
            what: "not a ledger day file (events_YYYYMMDD.jsonl)".to_owned(),
        })
}

/// The link to the latest day file before `day` with a seal in `log`'s directory: its name
/// and its seal's last digest. `None` when there is none (the chain starts here).
fn previous_link(log: &Path, day: u32) -> Result<Option<Link>, SealError> {
    let dir = log.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let io = |source| SealError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut previous: Option<u32> = None;
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let name = entry.map_err(io)?.file_name();
        let earlier = name
            .to_str()
            .and_then(|n| n.strip_suffix(".seal"))
            .and_then(names::day_of_file)
            .filter(|&d| d < day);
        previous = previous.max(earlier);
    }
    let Some(previous) = previous else {
        return Ok(None);
    };
    let file = names::day_file(previous);
    let seal = SealFile::read(&crate::seal_path(&dir.join(&file)))?.unwrap_or_default();
    Ok(seal.checkpoints.last().map(|last| Link {
        file,
        digest: last.digest,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> time::OffsetDateTime {
        time::macros::datetime!(2026-12-06 23:00:00 UTC)
    }

    #[test]
    fn each_day_links_to_the_one_before_and_a_record_ends_a_seal() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("events_20261204.jsonl");
        let second = dir.path().join("events_20261206.jsonl");
        std::fs::write(&first, "{\"n\":1}\n").unwrap();
        std::fs::write(&second, "{\"n\":2}\n{\"n\":3}\n").unwrap();
        let sealed = seal_day_file(&first, None, now()).unwrap();
        assert_eq!(sealed.added[0].link, None);
        sealed.append().unwrap();
        let sealed = seal_day_file(&second, None, now()).unwrap();
        let link = sealed.added[0].link.clone().unwrap();
        assert_eq!(link.file, "events_20261204.jsonl");
        sealed.append().unwrap();
        let first_seal = SealFile::read(&crate::seal_path(&first)).unwrap().unwrap();
        assert_eq!(link.digest, first_seal.checkpoints[0].digest);
        // Sealed again: nothing new, no second link.
        assert!(
            seal_day_file(&second, None, now())
                .unwrap()
                .added
                .is_empty()
        );

        let part = "archive/events_20261204.jsonl.gz";
        let recorded = record_retention(&first, part, None, now()).unwrap();
        assert_eq!(recorded.added.len(), 1);
        assert_eq!(recorded.added[0].retained.as_deref(), Some(part));
        assert_eq!(recorded.added[0].lines, 1);
        recorded.append().unwrap();
        // Idempotent.
        let again = record_retention(&first, part, None, now()).unwrap();
        assert!(again.added.is_empty());
        let verdict = crate::verify(&first, None, false).unwrap();
        assert!(verdict.passed(), "{:?}", verdict.findings);
        // Late records after the day was archived: a new file, sealed from its first line as
        // a new segment, then archived as the next part.
        std::fs::write(&first, "{\"late\":1}\n").unwrap();
        let late = seal_day_file(&first, None, now()).unwrap();
        assert_eq!((late.added.len(), late.added[0].lines), (1, 1));
        assert_eq!(late.added[0].prev, recorded.added[0].digest);
        late.append().unwrap();
        let verdict = crate::verify(&first, None, false).unwrap();
        assert!(verdict.passed(), "{:?}", verdict.findings);
        let next = "archive/events_20261204-1.jsonl.gz";
        let recorded = record_retention(&first, next, None, now()).unwrap();
        assert_eq!(recorded.added.len(), 1);
        assert_eq!(recorded.added[0].lines, 1);
        recorded.append().unwrap();
        let verdict = crate::verify(&first, None, false).unwrap();
        assert!(verdict.passed(), "{:?}", verdict.findings);
        // Another day's part, or a file that is no day file, is refused.
        let other = "archive/events_20261205.jsonl.gz";
        assert!(record_retention(&second, other, None, now()).is_err());
        let current = dir.path().join("events.jsonl");
        std::fs::write(&current, "{}\n").unwrap();
        assert!(seal_day_file(&current, None, now()).is_err());
    }
}
