//! One checkpoint: what it says, its digest, its line in the seal file.
//!
//! A checkpoint is one line of the seal file, a JSON object with exactly these members, in
//! this order when agentlog writes it (a reader takes any order, and refuses any other
//! member):
//!
//! | member | value |
//! |---|---|
//! | `agentlog_seal` | `1`, the format's version |
//! | `lines` | complete lines covered, from the first line of the log |
//! | `bytes` | bytes covered: the lines and their `\n` |
//! | `chain` | `h_lines` of the line chain, 64 lowercase hex digits |
//! | `prev` | the previous checkpoint's `digest`; 64 zeros for the first |
//! | `time` | when it was made, RFC 3339 |
//! | `line_hashes` | for each line after the previous checkpoint's `lines`, the first 8 bytes of `SHA-256(line)`, as lowercase hex, concatenated |
//! | `digest` | SHA-256 of the digest text below, lowercase hex |
//! | `signature` | optional: Ed25519 signature of the 32 digest bytes, lowercase hex (128 digits) |
//! | `key` | with `signature`: the signer's public key, lowercase hex |
//!
//! A ledger's day files add two optional extensions (docs/seal.md, "A ledger directory"),
//! written after `line_hashes` and covered by the digest only when present, so a checkpoint
//! without them has the digest it always had:
//!
//! | member | value |
//! |---|---|
//! | `prev_file` | on the first checkpoint of a day file's seal: the previous day file's name |
//! | `prev_file_digest` | with `prev_file`: a checkpoint digest of that file's seal (its last when the link was made) |
//! | `retained` | a retention record: the archive part the day's records moved to, relative to the ledger directory |
//!
//! The digest text is UTF-8, each line ended by `\n`, numbers in decimal without leading
//! zeros:
//!
//! ```text
//! agentlog-seal/1
//! lines=<lines>
//! bytes=<bytes>
//! chain=<chain>
//! prev=<prev>
//! time=<time>
//! line_hashes=<line_hashes>
//! ```
//!
//! followed, when present, by `prev_file=<prev_file>\n`, `prev_file_digest=<hex>\n` and
//! `retained=<retained>\n`, in that order.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::hex;

/// Lines one checkpoint adds at most: a larger addition is sealed as several checkpoints,
/// so no line of a seal file grows past about a megabyte.
pub const MAX_LINES_PER_CHECKPOINT: u64 = 65_536;

/// The longest line a seal file may have: a checkpoint of [`MAX_LINES_PER_CHECKPOINT`]
/// lines is about 1 MiB.
pub const MAX_SEAL_LINE: usize = 2 << 20;

/// The format's version, `agentlog_seal` of every checkpoint.
const VERSION: u64 = 1;

/// One checkpoint, checked to be well formed (not yet that it is true of any log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Complete lines covered.
    pub lines: u64,
    /// Bytes covered.
    pub bytes: u64,
    /// The line chain after the last covered line.
    pub chain: [u8; 32],
    /// The previous checkpoint's digest (zeros for the first).
    pub prev: [u8; 32],
    /// When it was made (RFC 3339).
    pub time: String,
    /// The short hashes of the lines this checkpoint adds.
    pub line_hashes: Vec<[u8; 8]>,
    /// SHA-256 of the digest text.
    pub digest: [u8; 32],
    /// The Ed25519 signature of `digest` and the key that made it.
    pub signature: Option<([u8; 64], [u8; 32])>,
    /// In a ledger, on a day file's first checkpoint: the previous day file of the chain.
    pub link: Option<Link>,
    /// In a ledger: a retention record, naming the archive part the day's records moved to.
    pub retained: Option<String>,
}

/// The link from a day file's first checkpoint to the day file before it in a ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The previous day file's name (`events_YYYYMMDD.jsonl`).
    pub file: String,
    /// A checkpoint digest of its seal: its last when the link was made.
    pub digest: [u8; 32],
}

/// The JSON form, member for member.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    agentlog_seal: u64,
    lines: u64,
    bytes: u64,
    chain: String,
    prev: String,
    time: String,
    line_hashes: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prev_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prev_file_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retained: Option<String>,
    digest: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
}

impl Checkpoint {
    /// The digest text of these fields (see the module docs).
    pub fn digest_text(
        lines: u64,
        bytes: u64,
        chain: &[u8; 32],
        prev: &[u8; 32],
        time: &str,
        line_hashes: &[[u8; 8]],
    ) -> String {
        let mut text = format!(
            "agentlog-seal/{VERSION}\nlines={lines}\nbytes={bytes}\nchain={}\nprev={}\ntime={time}\nline_hashes=",
            hex::encode(chain),
            hex::encode(prev)
        );
        for hash in line_hashes {
            hex::push(&mut text, hash);
        }
        text.push('\n');
        text
    }

    /// The digest these fields should have: of the digest text, then the lines of the
    /// ledger extensions that are present.
    pub fn expected_digest(&self) -> [u8; 32] {
        let mut text = Self::digest_text(
            self.lines,
            self.bytes,
            &self.chain,
            &self.prev,
            &self.time,
            &self.line_hashes,
        );
        if let Some(link) = &self.link {
            text.push_str(&format!(
                "prev_file={}\nprev_file_digest={}\n",
                link.file,
                hex::encode(&link.digest)
            ));
        }
        if let Some(retained) = &self.retained {
            text.push_str(&format!("retained={retained}\n"));
        }
        Sha256::digest(text.as_bytes()).into()
    }

    /// Its line in a seal file (no newline).
    pub fn to_line(&self) -> String {
        let mut line_hashes = String::with_capacity(self.line_hashes.len() * 16);
        for hash in &self.line_hashes {
            hex::push(&mut line_hashes, hash);
        }
        let wire = Wire {
            agentlog_seal: VERSION,
            lines: self.lines,
            bytes: self.bytes,
            chain: hex::encode(&self.chain),
            prev: hex::encode(&self.prev),
            time: self.time.clone(),
            line_hashes,
            prev_file: self.link.as_ref().map(|l| l.file.clone()),
            prev_file_digest: self.link.as_ref().map(|l| hex::encode(&l.digest)),
            retained: self.retained.clone(),
            digest: hex::encode(&self.digest),
            signature: self.signature.map(|(s, _)| hex::encode(&s)),
            key: self.signature.map(|(_, k)| hex::encode(&k)),
        };
        // Strings and integers only: serializing cannot fail.
        serde_json::to_string(&wire).unwrap_or_default()
    }

    /// Parses one line of a seal file.
    pub fn parse(line: &str) -> Result<Checkpoint, String> {
        let wire: Wire = serde_json::from_str(line).map_err(|e| {
            // Never serde_json's message as it is: it may quote the line (an unknown member's
            // name), and a seal file is input like any other. A missing member is named by
            // this format, so that message is safe.
            let column = e.column();
            match e.classify() {
                serde_json::error::Category::Data if e.to_string().starts_with("missing field") => {
                    let member = e.to_string();
                    let member = member.split('`').nth(1).unwrap_or_default().to_owned();
                    format!("the member `{member}` is missing")
                }
                serde_json::error::Category::Data => {
                    format!("a member is unknown or of the wrong type (column {column})")
                }
                _ => format!("not a JSON object (column {column})"),
            }
        })?;
        if wire.agentlog_seal != VERSION {
            return Err(format!(
                "unknown format version {} (this agentlog reads {VERSION})",
                wire.agentlog_seal
            ));
        }
        let field = |name: &str| format!("`{name}` is not lowercase hex of the right length");
        let chain = hex::decode_array(&wire.chain).ok_or_else(|| field("chain"))?;
        let prev = hex::decode_array(&wire.prev).ok_or_else(|| field("prev"))?;
        let digest = hex::decode_array(&wire.digest).ok_or_else(|| field("digest"))?;
        let hashes = hex::decode(&wire.line_hashes).ok_or_else(|| field("line_hashes"))?;
        if !hashes.len().is_multiple_of(8) {
            return Err(field("line_hashes"));
        }
        let line_hashes = hashes
            .chunks_exact(8)
            .map(|c| c.try_into().unwrap_or([0; 8]))
            .collect();
        // RFC 3339's `T` (or `t`) between date and time: the parser would take any character.
        let separator = wire.time.as_bytes().get(10).copied();
        if !matches!(separator, Some(b'T' | b't'))
            || time::OffsetDateTime::parse(
                &wire.time,
                &time::format_description::well_known::Rfc3339,
            )
            .is_err()
        {
            return Err("`time` is not an RFC 3339 time".to_owned());
        }
        let signature = match (wire.signature, wire.key) {
            (None, None) => None,
            (Some(signature), Some(key)) => Some((
                hex::decode_array(&signature).ok_or_else(|| field("signature"))?,
                hex::decode_array(&key).ok_or_else(|| field("key"))?,
            )),
            _ => return Err("`signature` and `key` come together".to_owned()),
        };
        let link = match (wire.prev_file, wire.prev_file_digest) {
            (None, None) => None,
            (Some(file), Some(digest)) => Some(Link {
                file: name(file, "prev_file")?,
                digest: hex::decode_array(&digest).ok_or_else(|| field("prev_file_digest"))?,
            }),
            _ => return Err("`prev_file` and `prev_file_digest` come together".to_owned()),
        };
        let retained = wire.retained.map(|r| name(r, "retained")).transpose()?;
        Ok(Checkpoint {
            lines: wire.lines,
            bytes: wire.bytes,
            chain,
            prev,
            time: wire.time,
            line_hashes,
            digest,
            signature,
            link,
            retained,
        })
    }
}

/// A ledger extension's file name, checked against its one form (so printing it never
/// prints anything else a seal file could hold): `prev_file` is `events_YYYYMMDD.jsonl`,
/// `retained` is `archive/events_YYYYMMDD.jsonl.gz` or `archive/events_YYYYMMDD-N.jsonl.gz`.
/// The error never quotes it.
fn name(text: String, member: &str) -> Result<String, String> {
    let ok = match member {
        "prev_file" => crate::names::day_of_file(&text).is_some(),
        _ => crate::names::day_of_archive_part(&text).is_some(),
    };
    if ok {
        Ok(text)
    } else {
        Err(format!("`{member}` is not a ledger file name"))
    }
}

/// A seal file read: its checkpoints in order.
#[derive(Clone, Debug, Default)]
pub struct SealFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its checkpoints, the first line first.
    pub checkpoints: Vec<Checkpoint>,
}

/// A seal file that cannot be read as one.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// It could not be read.
    #[error("read {path}: {source}")]
    Io {
        /// The seal file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line of it is not a well-formed checkpoint.
    #[error("{path}:{line}: {what}")]
    Malformed {
        /// The seal file.
        path: PathBuf,
        /// The line, from 1.
        line: u64,
        /// What is wrong (never a value from the line).
        what: String,
    },
}

impl SealFile {
    /// Reads the seal file at `path`; `Ok(None)` when there is none. It must be a regular
    /// file; each line at most [`MAX_SEAL_LINE`] bytes and ended by a newline.
    pub fn read(path: &Path) -> Result<Option<SealFile>, CheckpointError> {
        use std::io::{BufRead as _, Read as _};
        let io = |source| CheckpointError::Io {
            path: path.to_owned(),
            source,
        };
        let file = match crate::files::open_regular(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(io(source)),
        };
        let malformed = |line: u64, what: String| CheckpointError::Malformed {
            path: path.to_owned(),
            line,
            what,
        };
        let mut reader = std::io::BufReader::new(file);
        let mut checkpoints = Vec::new();
        let mut buf = Vec::new();
        for line in 1u64.. {
            buf.clear();
            let read = (&mut reader)
                .take(MAX_SEAL_LINE as u64 + 1)
                .read_until(b'\n', &mut buf)
                .map_err(io)?;
            if read == 0 {
                break;
            }
            let Some(body) = buf.strip_suffix(b"\n") else {
                let what = if buf.len() > MAX_SEAL_LINE {
                    format!("longer than {MAX_SEAL_LINE} bytes")
                } else {
                    "no newline at its end: the checkpoint was cut short".to_owned()
                };
                return Err(malformed(line, what));
            };
            let body =
                std::str::from_utf8(body).map_err(|_| malformed(line, "not UTF-8".to_owned()))?;
            checkpoints.push(Checkpoint::parse(body).map_err(|what| malformed(line, what))?);
        }
        Ok(Some(SealFile {
            path: path.to_owned(),
            checkpoints,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        let mut checkpoint = Checkpoint {
            lines: 2,
            bytes: 10,
            chain: [7; 32],
            prev: [0; 32],
            time: "2026-12-06T23:00:00Z".to_owned(),
            line_hashes: vec![[1; 8], [2; 8]],
            digest: [0; 32],
            signature: None,
            link: None,
            retained: None,
        };
        checkpoint.digest = checkpoint.expected_digest();
        checkpoint
    }

    #[test]
    fn ledger_extensions_round_trip_and_are_covered_by_the_digest() {
        let plain = sample();
        let mut linked = sample();
        linked.link = Some(Link {
            file: "events_20261205.jsonl".to_owned(),
            digest: [9; 32],
        });
        linked.retained = Some("archive/events_20261206.jsonl.gz".to_owned());
        linked.digest = linked.expected_digest();
        assert_ne!(linked.digest, plain.digest);
        let line = linked.to_line();
        assert!(line.contains(r#""prev_file":"events_20261205.jsonl","prev_file_digest":"0909"#));
        assert_eq!(Checkpoint::parse(&line), Ok(linked.clone()));
        // Without the extensions, the line and the digest are those of format 1 as it was.
        assert!(!plain.to_line().contains("prev_file"));
        let mut renamed = linked.clone();
        renamed.link = Some(Link {
            file: "events_20261204.jsonl".to_owned(),
            digest: [9; 32],
        });
        assert_ne!(renamed.expected_digest(), linked.digest);
        for bad in [
            "a b",
            "",
            "x\\ny",
            "events_2026120.jsonl",
            "events_20261205.jsonl.seal",
        ] {
            let line = linked.to_line().replace("events_20261205.jsonl", bad);
            assert!(Checkpoint::parse(&line).is_err(), "{bad}");
        }
        let half = linked
            .to_line()
            .replace(r#""prev_file":"events_20261205.jsonl","#, "");
        assert!(
            Checkpoint::parse(&half)
                .unwrap_err()
                .contains("come together")
        );
    }

    #[test]
    fn a_checkpoint_round_trips_through_its_line() {
        let checkpoint = sample();
        let line = checkpoint.to_line();
        assert!(line.starts_with(r#"{"agentlog_seal":1,"lines":2,"bytes":10,"chain":"0707"#));
        assert_eq!(Checkpoint::parse(&line), Ok(checkpoint));
    }

    #[test]
    fn the_digest_text_is_the_documented_one() {
        let text = Checkpoint::digest_text(1, 4, &[0xab; 32], &[0; 32], "T", &[[0xcd; 8]]);
        let expected = format!(
            "agentlog-seal/1\nlines=1\nbytes=4\nchain={}\nprev={}\ntime=T\nline_hashes=cdcdcdcdcdcdcdcd\n",
            "ab".repeat(32),
            "0".repeat(64)
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn malformed_lines_are_refused_with_what_is_wrong() {
        let good = sample().to_line();
        let cases = [
            ("not json", "not a JSON object"),
            (
                &good.replace("\"lines\":2", "\"lines\":2,\"AKIA\\nZQ7V\":1"),
                "unknown or of the wrong type",
            ),
            (
                &good.replace("\"lines\":2,", ""),
                "the member `lines` is missing",
            ),
            (
                &good.replace("\"agentlog_seal\":1", "\"agentlog_seal\":2"),
                "version",
            ),
            (&good.replace("\"chain\":\"07", "\"chain\":\"0G"), "chain"),
            (&good.replace("2026-12-06T23:00:00Z", "yesterday"), "time"),
            (
                &good.replace("\"line_hashes\":\"01", "\"line_hashes\":\"1"),
                "line_hashes",
            ),
        ];
        for (line, what) in cases {
            let error = Checkpoint::parse(line).expect_err(line);
            assert!(error.contains(what), "{error} should say {what}");
            // Nothing of the line is quoted: the unknown member's name least of all.
            assert!(
                !error.contains("AKIA") && !error.contains("ZQ7V"),
                "{error}"
            );
        }
    }
}
