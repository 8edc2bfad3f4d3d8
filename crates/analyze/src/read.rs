//! The line loop of one input, on [`Options::threads`](crate::Options::threads) threads.
//!
//! Lines come from the standard library's `BufRead::read_until` (agentlog-validate exposes how
//! inputs are opened, not its chunked line reader): the calling thread appends whole lines to
//! a batch of about [`BATCH_BYTES`] and sends it through a bounded channel; worker threads
//! parse and classify each line and add it to their own aggregates, which are merged into the
//! analyzer's when the input ends. Every figure is a count, a sum, a minimum, a maximum or a
//! histogram, so the merged result does not depend on which worker saw which batch. Per batch,
//! a worker also returns the tally of its lines (records per family, the first family seen,
//! skipped lines with their numbers), and those are put back in batch order: a file's family
//! is that of its first record, and line numbers stay ascending.
//!
//! A line longer than the cap is never held in memory: the reader stops at the cap, skips to
//! the next newline and marks the line `too_long`. An input smaller than one batch is read on
//! the calling thread alone.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};

use crate::ledger::LedgerAgg;
use crate::record::{self, Bad, Family, Kind};
use crate::sandbox::SandboxAgg;
use crate::{FileSummary, LINE_NUMBERS_KEPT, LineList, Options};

/// Bytes of whole lines per batch.
pub(crate) const BATCH_BYTES: usize = 1 << 20;

/// The aggregates of both families.
#[derive(Debug)]
pub(crate) struct Aggs {
    pub(crate) ledger: LedgerAgg,
    pub(crate) sandbox: SandboxAgg,
}

impl Aggs {
    pub(crate) fn new(options: &Options) -> Self {
        Aggs {
            ledger: LedgerAgg::new(options.bucket_seconds),
            sandbox: SandboxAgg::new(options.bucket_seconds),
        }
    }

    fn merge(&mut self, other: &Aggs) {
        self.ledger.merge(&other.ledger);
        self.sandbox.merge(&other.sandbox);
    }
}

/// One line of a batch: its byte range in the batch, or a line skipped for its length.
#[derive(Clone, Copy, Debug)]
enum Line {
    Text(usize, usize),
    TooLong,
}

/// Whole lines read in a row.
#[derive(Debug, Default)]
struct Batch {
    seq: usize,
    /// Number of the first line.
    first_line: u64,
    data: Vec<u8>,
    lines: Vec<Line>,
}

/// What the lines of one batch were.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    seq: usize,
    by_family: BTreeMap<Family, u64>,
    first_family: Option<Family>,
    skipped: BTreeMap<&'static str, LineList>,
}

impl Tally {
    fn skip(&mut self, kind: &'static str, line: u64) {
        let list = self.skipped.entry(kind).or_default();
        list.count += 1;
        if list.lines.len() < LINE_NUMBERS_KEPT {
            list.lines.push(line);
        }
    }

    /// Adds a later batch's tally.
    fn then(&mut self, later: Tally) {
        for (family, n) in later.by_family {
            *self.by_family.entry(family).or_default() += n;
        }
        self.first_family = self.first_family.or(later.first_family);
        for (kind, list) in later.skipped {
            let mine = self.skipped.entry(kind).or_default();
            mine.count += list.count;
            let room = LINE_NUMBERS_KEPT.saturating_sub(mine.lines.len());
            mine.lines.extend(list.lines.into_iter().take(room));
        }
    }
}

/// Classifies one line and adds it to `aggs`.
fn one_line(aggs: &mut Aggs, tally: &mut Tally, number: u64, line: &[u8]) {
    if line.iter().all(u8::is_ascii_whitespace) {
        return tally.skip("blank", number);
    }
    let raw = match record::parse(line) {
        Ok(raw) => raw,
        Err(Bad::NotJson) => return tally.skip("not_json", number),
        Err(Bad::Malformed) => return tally.skip("malformed", number),
    };
    let kind = raw.kind();
    let Some(family) = kind.family() else {
        return tally.skip("unrecognised", number);
    };
    tally.first_family.get_or_insert(family);
    *tally.by_family.entry(family).or_default() += 1;
    match kind {
        Kind::Sandbox => aggs.sandbox.add(&raw),
        _ => aggs.ledger.add(&raw, kind),
    }
}

/// Every line of `batch`.
fn process(aggs: &mut Aggs, batch: &Batch) -> Tally {
    let mut tally = Tally {
        seq: batch.seq,
        ..Tally::default()
    };
    for (i, line) in batch.lines.iter().enumerate() {
        let number = batch.first_line + i as u64;
        match *line {
            Line::TooLong => tally.skip("too_long", number),
            Line::Text(start, end) => one_line(
                aggs,
                &mut tally,
                number,
                batch.data.get(start..end).unwrap_or_default(),
            ),
        }
    }
    tally
}

/// Reads lines into batches.
struct Batcher<R> {
    reader: BufReader<R>,
    max: usize,
    limit: u64,
    bytes: u64,
    lines: u64,
    seq: usize,
}

impl<R: Read> Batcher<R> {
    /// The next batch; an empty one at the end of the input.
    fn next(&mut self) -> io::Result<Batch> {
        let mut batch = Batch {
            seq: self.seq,
            first_line: self.lines + 1,
            data: Vec::with_capacity(BATCH_BYTES + 4096),
            lines: Vec::new(),
        };
        self.seq += 1;
        while batch.data.len() < BATCH_BYTES {
            let start = batch.data.len();
            let n = (&mut self.reader)
                .take(self.limit)
                .read_until(b'\n', &mut batch.data)?;
            if n == 0 {
                break;
            }
            self.bytes += n as u64;
            self.lines += 1;
            if batch.data.last() == Some(&b'\n') {
                batch.lines.push(Line::Text(start, batch.data.len() - 1));
            } else if batch.data.len() - start > self.max {
                // Over the cap: drop what was read of it, skip the rest unread.
                batch.data.truncate(start);
                self.bytes += skip_line(&mut self.reader)?;
                batch.lines.push(Line::TooLong);
            } else {
                batch.lines.push(Line::Text(start, batch.data.len()));
            }
        }
        Ok(batch)
    }
}

/// Skips to just past the next newline; returns the bytes skipped.
fn skip_line(reader: &mut impl BufRead) -> io::Result<u64> {
    let mut skipped = 0u64;
    loop {
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return Ok(skipped);
        }
        let (used, done) = match memchr::memchr(b'\n', buf) {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        reader.consume(used);
        skipped += used as u64;
        if done {
            return Ok(skipped);
        }
    }
}

/// Reads one input into `aggs` and returns its summary (`path` left empty).
pub(crate) fn read(
    aggs: &mut Aggs,
    options: &Options,
    reader: impl Read,
) -> io::Result<FileSummary> {
    let max = options.max_line_len;
    let mut batcher = Batcher {
        reader: BufReader::with_capacity(256 << 10, reader),
        max,
        limit: u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1),
        bytes: 0,
        lines: 0,
        seq: 0,
    };
    let first = batcher.next()?;
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    let mut tallies = if threads <= 1 || first.data.len() < BATCH_BYTES {
        // Small input or one thread: here.
        let mut tallies = vec![process(aggs, &first)];
        loop {
            let batch = batcher.next()?;
            if batch.lines.is_empty() {
                break;
            }
            tallies.push(process(aggs, &batch));
        }
        tallies
    } else {
        parallel(aggs, options, &mut batcher, first, threads)?
    };
    tallies.sort_by_key(|t| t.seq);
    let mut total = Tally::default();
    for t in tallies {
        total.then(t);
    }
    Ok(FileSummary {
        family: total.first_family,
        bytes: batcher.bytes,
        lines: batcher.lines,
        records: total.by_family.values().sum(),
        records_by_family: total.by_family,
        skipped: total.skipped,
        ..FileSummary::default()
    })
}

/// Reads on this thread while `threads` workers process the batches.
fn parallel<R: Read>(
    aggs: &mut Aggs,
    options: &Options,
    batcher: &mut Batcher<R>,
    first: Batch,
    threads: usize,
) -> io::Result<Vec<Tally>> {
    let (send, receive) = sync_channel::<Batch>(threads * 2);
    let receive = Arc::new(Mutex::new(receive));
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let receive = Arc::clone(&receive);
                scope.spawn(move || work(&receive, Aggs::new(options)))
            })
            .collect();
        let mut result = Ok(());
        let mut batch = first;
        while !batch.lines.is_empty() {
            if send.send(batch).is_err() {
                break;
            }
            batch = match batcher.next() {
                Ok(b) => b,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            };
        }
        drop(send);
        let mut tallies = Vec::new();
        for worker in workers {
            // A worker that panicked lost its batches: report it as an I/O error, never
            // as figures with lines missing.
            let (partial, mut t) = worker
                .join()
                .map_err(|_| io::Error::other("an analysis thread failed"))?;
            aggs.merge(&partial);
            tallies.append(&mut t);
        }
        result.map(|()| tallies)
    })
}

/// A worker: processes batches until the channel closes.
fn work(receive: &Mutex<Receiver<Batch>>, mut aggs: Aggs) -> (Aggs, Vec<Tally>) {
    let mut tallies = Vec::new();
    loop {
        let next = receive
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv();
        match next {
            Ok(batch) => tallies.push(process(&mut aggs, &batch)),
            Err(_) => return (aggs, tallies),
        }
    }
}
