//! `--follow`: tail growing logs across rotation, with a checkpoint so a restart neither
//! duplicates nor skips.
//!
//! - Files are known by their identity (device and inode), not their name: a file renamed by
//!   rotation (the ledger's `events.jsonl` -> `events_YYYYMMDD.jsonl`, logrotate's
//!   `events.jsonl` -> `events.jsonl.1`) keeps its place and is read to its end under its new
//!   name, and the new file at the old name is read from its start.
//! - Each round lists the paths again (directories are walked as in a one-shot export),
//!   reads every known file from its offset to its last complete line, sends, and then
//!   writes the checkpoint: the offset and line count of each file, after the last line
//!   delivered. A batch that fails is read again next round (at least once; record uids come
//!   from the lines, so a collector that keys on them drops a resend).
//! - The checkpoint is written beside its path and renamed into place, so a crash leaves the
//!   previous one whole.
//! - Compressed files (`.gz`) are read once, whole, when first seen.
//! - Each followed file is held open, so one renamed to a name the walk does not list
//!   (logrotate's `events.jsonl.1`) is still read to its end through the open file; it is let
//!   go once it no longer grows. At most [`MAX_OPEN`] files are held (those that grew least
//!   recently are let go first, and read by name again when listed); a file renamed out of
//!   the listing while agentlog was stopped is not found again.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use opentelemetry_proto::tonic::common::v1::KeyValue;
use serde_json::{Value, json};

use crate::batch::{Batch, Wire};
use crate::client::Client;
use crate::map::{Mapper, Source};

/// Where each file was left.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Mark {
    offset: u64,
    line: u64,
}

/// A file's identity: device and inode.
type Identity = (u64, u64);

/// Files held open at most.
pub const MAX_OPEN: usize = 256;

/// A followed file held open, and the last round it grew in.
struct Held {
    file: std::fs::File,
    grew: u64,
}

/// A follower of `paths`.
pub struct Follower {
    paths: Vec<PathBuf>,
    checkpoint: Option<PathBuf>,
    /// Delivered up to here (what the checkpoint holds).
    delivered: HashMap<Identity, Mark>,
    /// The last name each file was seen under.
    names: HashMap<Identity, PathBuf>,
    /// Files held open (see the module's notes).
    open: HashMap<Identity, Held>,
    /// Rounds so far.
    rounds: u64,
}

/// What one round did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Round {
    /// Log records delivered.
    pub records: u64,
    /// Spans delivered.
    pub spans: u64,
    /// Why a batch was not delivered (it is read again next round).
    pub error: Option<String>,
}

impl Follower {
    /// A follower of `paths`, resuming from `checkpoint` when that file exists.
    pub fn new(paths: Vec<PathBuf>, checkpoint: Option<PathBuf>) -> std::io::Result<Self> {
        let mut follower = Follower {
            paths,
            checkpoint,
            delivered: HashMap::new(),
            names: HashMap::new(),
            open: HashMap::new(),
            rounds: 0,
        };
        if let Some(path) = &follower.checkpoint
            && path.exists()
        {
            follower.load(&std::fs::read_to_string(path)?)?;
        }
        Ok(follower)
    }

    fn load(&mut self, text: &str) -> std::io::Result<()> {
        let bad = || {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "not an agentlog export checkpoint",
            )
        };
        let value: Value = serde_json::from_str(text).map_err(|_| bad())?;
        let files = value
            .get("files")
            .and_then(Value::as_array)
            .ok_or_else(bad)?;
        for file in files {
            let number = |key: &str| file.get(key).and_then(Value::as_u64).ok_or_else(bad);
            let identity = (number("dev")?, number("ino")?);
            self.delivered.insert(
                identity,
                Mark {
                    offset: number("offset")?,
                    line: number("line")?,
                },
            );
        }
        Ok(())
    }

    fn save(&self) -> std::io::Result<()> {
        let Some(path) = &self.checkpoint else {
            return Ok(());
        };
        let files: Vec<Value> = self
            .delivered
            .iter()
            .map(|((dev, ino), mark)| json!({"dev": dev, "ino": ino, "offset": mark.offset, "line": mark.line}))
            .collect();
        let temporary = path.with_extension("tmp");
        std::fs::write(
            &temporary,
            json!({"format": "agentlog-export-checkpoint/1", "files": files}).to_string(),
        )?;
        std::fs::rename(&temporary, path)
    }

    /// One round: list, read what is new, send, checkpoint.
    pub async fn round(
        &mut self,
        mapper: &mut Mapper,
        client: &Client,
        resource: &[KeyValue],
    ) -> std::io::Result<Round> {
        let listed = self.list();
        self.rounds += 1;
        let mut round = Round::default();
        let mut batch = Batch::default();
        let mut wire = Wire {
            client,
            resource,
            pieces: mapper.pieces(),
        };
        let mut pending: HashMap<Identity, Mark> = HashMap::new();
        let names: Vec<(Identity, PathBuf)> =
            self.names.iter().map(|(i, p)| (*i, p.clone())).collect();
        for (identity, path) in names {
            let from = self.delivered.get(&identity).copied().unwrap_or_default();
            let mark = match self.open.get_mut(&identity) {
                Some(held) => read_new(&mut held.file, &path, from, mapper, &mut batch),
                None if listed.contains(&identity) => {
                    std::fs::File::open(&path).and_then(|mut file| {
                        same_file(&file, identity)?;
                        read_new(&mut file, &path, from, mapper, &mut batch)
                    })
                }
                None => Ok(from),
            };
            let Ok(mark) = mark else { continue };
            if mark != from {
                pending.insert(identity, mark);
                if let Some(held) = self.open.get_mut(&identity) {
                    held.grew = self.rounds;
                }
            } else if !listed.contains(&identity) {
                // Renamed out of the listing and read to its end: let it go.
                self.open.remove(&identity);
                self.names.remove(&identity);
            }
            if batch.is_full() {
                self.send(&mut batch, &mut pending, &mut wire, &mut round)
                    .await?;
                if round.error.is_some() {
                    return Ok(round);
                }
            }
        }
        self.send(&mut batch, &mut pending, &mut wire, &mut round)
            .await?;
        Ok(round)
    }

    /// Sends the batch; on success the files it came from advance and the checkpoint is
    /// written.
    async fn send(
        &mut self,
        batch: &mut Batch,
        pending: &mut HashMap<Identity, Mark>,
        wire: &mut Wire<'_>,
        round: &mut Round,
    ) -> std::io::Result<()> {
        let delivery = wire.deliver(batch).await;
        round.records += delivery.records;
        round.spans += delivery.spans;
        if let Some(error) = delivery.error {
            round.error = Some(error);
            pending.clear();
            return Ok(());
        }
        if pending.is_empty() {
            return Ok(());
        }
        self.delivered.extend(pending.drain());
        self.save()
    }

    /// Learns the files the paths lead to now, under their current names, and holds them
    /// open; returns their identities.
    fn list(&mut self) -> std::collections::HashSet<Identity> {
        let mut listed = std::collections::HashSet::new();
        let Ok(inputs) = agentlog_validate::walk::expand(&self.paths) else {
            return listed;
        };
        for input in inputs {
            let agentlog_validate::walk::Input::File(path) = input else {
                continue;
            };
            let Ok(file) = std::fs::File::open(&path) else {
                continue;
            };
            let Ok(meta) = file.metadata() else { continue };
            use std::os::unix::fs::MetadataExt;
            let identity = (meta.dev(), meta.ino());
            listed.insert(identity);
            self.names.insert(identity, path);
            self.open.entry(identity).or_insert(Held {
                file,
                grew: self.rounds,
            });
        }
        self.let_go_of_the_quietest();
        listed
    }

    /// Closes the files that grew least recently, past [`MAX_OPEN`].
    fn let_go_of_the_quietest(&mut self) {
        if self.open.len() <= MAX_OPEN {
            return;
        }
        let mut by_growth: Vec<(u64, Identity)> = self
            .open
            .iter()
            .map(|(id, held)| (held.grew, *id))
            .collect();
        by_growth.sort_unstable();
        let excess = self.open.len() - MAX_OPEN;
        for (_, identity) in by_growth.into_iter().take(excess) {
            self.open.remove(&identity);
        }
    }
}

/// Fails unless `file` is the file `identity` names (a name may now be another file's).
fn same_file(file: &std::fs::File, identity: Identity) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata()?;
    if (meta.dev(), meta.ino()) == identity {
        Ok(())
    } else {
        Err(std::io::Error::other("another file under this name now"))
    }
}

/// Reads `file` (last seen as `path`) from `from` to its last complete line (a `.gz` whole,
/// once), mapping each line into `batch`; where it stopped.
fn read_new(
    file: &mut std::fs::File,
    path: &Path,
    from: Mark,
    mapper: &mut Mapper,
    batch: &mut Batch,
) -> std::io::Result<Mark> {
    let label = agentlog_validate::walk::label(path);
    let name = path
        .file_name()
        .map_or_else(|| label.clone(), |n| n.to_string_lossy().into_owned());
    let gz = path.extension().is_some_and(|e| e == "gz");
    let mut bytes = Vec::new();
    if gz {
        if from.offset > 0 {
            return Ok(from);
        }
        file.seek(SeekFrom::Start(0))?;
        agentlog_validate::input_reader(path, file.try_clone()?)?.read_to_end(&mut bytes)?;
    } else {
        file.seek(SeekFrom::Start(from.offset))?;
        file.take(crate::run::MAX_LINE_LEN as u64 * 4)
            .read_to_end(&mut bytes)?;
    }
    let complete = match bytes.iter().rposition(|b| *b == b'\n') {
        Some(end) => end + 1,
        None => return Ok(from),
    };
    let mut mark = from;
    // Every line here ends in a newline: the one line splitter, each line's place after it.
    for line in agentlog_validate::lines::split(bytes.get(..complete).unwrap_or_default()) {
        mark.line += 1;
        let text = line.strip_suffix(b"\r").unwrap_or(line);
        let source = Source {
            file_name: &name,
            line: mark.line,
            offset: mark.offset,
        };
        mark.offset += line.len() as u64 + 1;
        if let Ok(mapped) = mapper.map_line(text, source) {
            batch.push(mapped.log, mapped.span, &label, mark.line);
        }
    }
    if gz {
        // A compressed file is done once read: its offset stands for "read".
        mark.offset = mark.offset.max(1);
    }
    Ok(mark)
}
