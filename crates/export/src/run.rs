//! An export run: inputs read line by line, mapped, batched and sent; a summary of what was
//! sent, skipped, withheld and not delivered.

use std::io::Read;
use std::path::{Path, PathBuf};

use agentlog_validate::lines::{LineReader, Piece, split};
use agentlog_validate::walk::{self, Input};
use opentelemetry_proto::tonic::common::v1::KeyValue;

use crate::batch::Batch;
use crate::client::Client;
use crate::map::{Mapper, Skip, Source};
use crate::ship::Shipper;

/// The label of an input whose path shows a secret, in what was not delivered.
const WITHHELD_LABEL: &str = "(path withheld: it contains a secret)";

/// Lines longer than this are skipped: the validator's default limit.
pub const MAX_LINE_LEN: usize = agentlog_validate::DEFAULT_MAX_LINE_LEN;

/// What one input gave.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileSummary {
    /// The input's label (withheld by the caller when it carries a secret).
    pub label: String,
    /// Lines read.
    pub lines: u64,
    /// Records mapped (a log record each).
    pub records: u64,
    /// Spans mapped.
    pub spans: u64,
    /// Lines skipped, by reason, with their numbers (the first 100 of each reason).
    pub skipped: Vec<(&'static str, Vec<u64>)>,
    /// Skipped lines, all reasons.
    pub skipped_count: u64,
    /// Why the input could not be read to its end.
    pub error: Option<String>,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Summary {
    /// Each input, in the order read.
    pub files: Vec<FileSummary>,
    /// Log records the collector accepted.
    pub delivered_records: u64,
    /// Spans the collector accepted.
    pub delivered_spans: u64,
    /// Items the collector said it rejected (partial success).
    pub rejected: u64,
    /// Records replaced because they showed a secret value as mapped.
    pub withheld: u64,
    /// What was not delivered: the batch's lines and why.
    pub failures: Vec<String>,
}

impl Summary {
    /// Every record read was delivered and none rejected.
    pub fn complete(&self) -> bool {
        self.failures.is_empty()
            && self.rejected == 0
            && self.files.iter().all(|f| f.error.is_none())
    }
}

/// Exports every log `paths` lead to (files, directories of `*.jsonl[.gz]`, `-`, `.gz`):
/// this thread reads and maps while a thread of its own sends the batches. Errors only for
/// paths that do not exist, or when that thread cannot start; everything else is in the
/// summary.
pub fn export_paths(
    paths: &[PathBuf],
    mapper: &mut Mapper,
    client: &Client,
    resource: &[KeyValue],
) -> Result<Summary, ExportError> {
    let inputs = walk::expand(paths)?;
    let mut run = Run {
        summary: Summary::default(),
        batch: Batch::default(),
        shipper: Shipper::start(client.clone(), resource.to_vec(), mapper.pieces())
            .map_err(ExportError::Thread)?,
    };
    for input in inputs {
        match input {
            Input::Stdin => run.file("-", Ok(Box::new(std::io::stdin())), mapper),
            Input::File(path) => {
                let reader = std::fs::File::open(&path)
                    .and_then(|file| agentlog_validate::input_reader(&path, file));
                run.file(&walk::label(&path), reader, mapper);
            }
            Input::EmptyDir(_) | Input::Skipped { .. } => {}
        }
    }
    let Run {
        mut summary,
        mut batch,
        mut shipper,
    } = run;
    shipper.ship(&mut batch);
    let shipped = shipper.finish();
    summary.delivered_records = shipped.records;
    summary.delivered_spans = shipped.spans;
    summary.rejected = shipped.rejected;
    summary.withheld += shipped.withheld;
    summary.failures = shipped.failures;
    Ok(summary)
}

/// Why an export could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A path does not exist or cannot be listed.
    #[error(transparent)]
    Walk(#[from] walk::WalkError),
    /// The sending thread could not start.
    #[error("start the export's sending thread: {0}")]
    Thread(std::io::Error),
}

struct Run {
    summary: Summary,
    batch: Batch,
    shipper: Shipper,
}

impl Run {
    fn file(
        &mut self,
        label: &str,
        reader: std::io::Result<Box<dyn Read + Send + '_>>,
        mapper: &mut Mapper,
    ) {
        let mut file = FileSummary {
            label: label.to_owned(),
            ..FileSummary::default()
        };
        let reader = match reader {
            Ok(reader) => reader,
            Err(e) => {
                file.error = Some(e.to_string());
                self.summary.files.push(file);
                return;
            }
        };
        let name = Path::new(label)
            .file_name()
            .map_or_else(|| label.to_owned(), |n| n.to_string_lossy().into_owned());
        // The label names the lines of a batch not delivered, in a message of the command's.
        let label = if mapper.name_shows_value(label) {
            WITHHELD_LABEL
        } else {
            label
        };
        let mut pieces = LineReader::new(reader, 1 << 20, MAX_LINE_LEN);
        while let Some(piece) = pieces.next() {
            match piece {
                Piece::Lines { buf, .. } => {
                    let mut offset = pieces.piece_start();
                    for line in split(&buf) {
                        file.lines += 1;
                        let source = Source {
                            file_name: &name,
                            line: file.lines,
                            offset,
                        };
                        offset += line.len() as u64 + 1;
                        self.line(line, source, label, mapper, &mut file);
                    }
                }
                Piece::TooLong => {
                    file.lines += 1;
                    skip(&mut file, "too_long");
                }
                Piece::ReadError(e) => file.error = Some(e.to_string()),
            }
        }
        self.summary.files.push(file);
    }

    fn line(
        &mut self,
        line: &[u8],
        source: Source<'_>,
        label: &str,
        mapper: &mut Mapper,
        file: &mut FileSummary,
    ) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match mapper.map_line(line, source) {
            Ok(mapped) => {
                file.records += 1;
                file.spans += u64::from(mapped.span.is_some());
                self.summary.withheld += u64::from(mapped.withheld);
                self.batch.push(mapped.log, mapped.span, label, source.line);
                if self.batch.is_full() {
                    self.shipper.ship(&mut self.batch);
                }
            }
            Err(Skip::Blank) => skip(file, "blank"),
            Err(Skip::NotJson) => skip(file, "not_json"),
            Err(Skip::Unrecognised) => skip(file, "unrecognised"),
        }
    }
}

fn skip(file: &mut FileSummary, reason: &'static str) {
    file.skipped_count += 1;
    let line = file.lines;
    match file.skipped.iter_mut().find(|(r, _)| *r == reason) {
        Some((_, lines)) if lines.len() < 100 => lines.push(line),
        Some(_) => {}
        None => file.skipped.push((reason, vec![line])),
    }
}
