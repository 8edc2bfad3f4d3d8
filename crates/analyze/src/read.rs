//! The line loop of one input, on [`Options::threads`](crate::Options::threads) threads.
//!
//! Lines come from the validator's line reader ([`agentlog_validate::lines`]), the same one
//! `agentlog validate` uses: it cuts the input into pieces of whole lines of about
//! [`BATCH_BYTES`], and an over-long line into a `TooLong` piece without buffering it. Each
//! piece is a batch: the calling thread reads and sends batches through a bounded channel;
//! worker threads split them into lines, parse and classify each line and gather the batch
//! into aggregates of its own, which the calling thread merges into the analyzer's in batch
//! order as they come back (so memory holds one set of figures, plus those of the batches in
//! flight, and names are numbered in order of first use whatever the threads). Every figure is a
//! count, a sum, a minimum, a maximum or a histogram, so the merged result does not depend on
//! which worker saw which batch. Per batch, a worker also returns the tally of its lines (how
//! many, records per family, the first family seen, skipped lines with their numbers within
//! the batch), and those are put back in batch order, which makes the line numbers absolute:
//! a file's family is that of its first record, and line numbers stay ascending.
//!
//! A line longer than [`Options::max_line_len`](crate::Options::max_line_len) is counted as
//! `too_long` and never parsed (nor held in memory when it is longer than what the reader
//! has at once). Until the first full batch shows the input is larger than one, batches are
//! processed on the calling thread alone.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::mpsc::{Receiver, Sender, channel, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};

use agentlog_validate::lines::{LineReader, Piece, split};
use agentlog_validate::secrets::redact::Redactor;

use crate::ledger::LedgerAgg;
use crate::record::{self, Bad, Family, Kind};
use crate::sandbox::SandboxAgg;
use crate::{FileSummary, LINE_NUMBERS_KEPT, LineList, Options};

/// Bytes of whole lines per batch.
pub(crate) const BATCH_BYTES: usize = 1 << 18;

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

/// One piece of the input, numbered in reading order.
#[derive(Debug)]
struct Batch {
    seq: usize,
    /// Whole lines, or `None` for one line skipped by the reader for its length.
    data: Option<Vec<u8>>,
}

impl Batch {
    /// The batch of `piece`; a read error is returned as the error it is.
    fn new(seq: usize, piece: Piece) -> io::Result<Batch> {
        let data = match piece {
            Piece::Lines { buf, .. } => Some(buf),
            Piece::TooLong => None,
            Piece::ReadError(e) => return Err(e),
        };
        Ok(Batch { seq, data })
    }

    /// Large enough to show the input does not fit in one batch.
    fn full(&self) -> bool {
        self.data.as_ref().is_some_and(|d| d.len() >= BATCH_BYTES)
    }
}

/// What the lines of one batch were.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    seq: usize,
    /// Lines in the batch (in the input, once tallies are added up).
    lines: u64,
    by_family: BTreeMap<Family, u64>,
    first_family: Option<Family>,
    skipped: BTreeMap<&'static str, LineList>,
    /// Records with a number that carries a secret.
    secret_numbers: LineList,
}

impl Tally {
    fn skip(&mut self, kind: &'static str, line: u64) {
        let list = self.skipped.entry(kind).or_default();
        list.count += 1;
        if list.lines.len() < LINE_NUMBERS_KEPT {
            list.lines.push(line);
        }
    }

    /// Adds the next batch's tally; its line numbers, counted from its first line, become
    /// numbers after this tally's lines.
    fn then(&mut self, later: Tally) {
        let offset = self.lines;
        self.lines += later.lines;
        for (family, n) in later.by_family {
            *self.by_family.entry(family).or_default() += n;
        }
        self.first_family = self.first_family.or(later.first_family);
        self.secret_numbers.count += later.secret_numbers.count;
        let room = LINE_NUMBERS_KEPT.saturating_sub(self.secret_numbers.lines.len());
        let numbers = later.secret_numbers.lines.into_iter().take(room);
        self.secret_numbers
            .lines
            .extend(numbers.map(|n| n + offset));
        for (kind, list) in later.skipped {
            let mine = self.skipped.entry(kind).or_default();
            mine.count += list.count;
            let room = LINE_NUMBERS_KEPT.saturating_sub(mine.lines.len());
            let numbers = list.lines.into_iter().take(room).map(|n| n + offset);
            mine.lines.extend(numbers);
        }
    }
}

/// Classifies one line and adds it to `aggs`.
fn one_line(aggs: &mut Aggs, tally: &mut Tally, number: u64, line: &[u8], redactor: &Redactor) {
    if line.iter().all(u8::is_ascii_whitespace) {
        return tally.skip("blank", number);
    }
    let mut raw = match record::parse(line) {
        Ok(raw) => raw,
        Err(Bad::NotJson) => return tally.skip("not_json", number),
        Err(Bad::Malformed) => return tally.skip("malformed", number),
    };
    // A number that is a secret is not a measurement: left out of every figure, so no
    // mean, sum or bucket can give it back.
    if raw.withhold_secret_numbers(redactor) {
        tally.secret_numbers.count += 1;
        if tally.secret_numbers.lines.len() < LINE_NUMBERS_KEPT {
            tally.secret_numbers.lines.push(number);
        }
    }
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

/// Every line of `batch`, numbered from 1; lines longer than `max` are only counted.
fn process(aggs: &mut Aggs, batch: &Batch, options: &Options) -> Tally {
    let max = options.max_line_len;
    let mut tally = Tally {
        seq: batch.seq,
        ..Tally::default()
    };
    let Some(data) = &batch.data else {
        tally.lines = 1;
        tally.skip("too_long", 1);
        return tally;
    };
    for line in split(data) {
        tally.lines += 1;
        let number = tally.lines;
        if line.len() > max {
            tally.skip("too_long", number);
        } else {
            one_line(aggs, &mut tally, number, line, &options.redactor);
        }
    }
    tally
}

/// Reads one input into `aggs` and returns its summary (`path` left empty).
pub(crate) fn read(
    aggs: &mut Aggs,
    options: &Options,
    reader: impl Read,
) -> io::Result<FileSummary> {
    let mut pieces = LineReader::new(reader, BATCH_BYTES, options.max_line_len);
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    let mut tallies = Vec::new();
    let mut seq = 0usize;
    // Here, until a full batch shows the input is larger than one batch.
    while let Some(piece) = pieces.next() {
        let batch = Batch::new(seq, piece)?;
        seq += 1;
        if threads > 1 && batch.full() {
            let mut rest = parallel(aggs, options, &mut pieces, batch, threads)?;
            tallies.append(&mut rest);
            break;
        }
        tallies.push(process(aggs, &batch, options));
    }
    tallies.sort_by_key(|t| t.seq);
    let mut total = Tally::default();
    for t in tallies {
        total.then(t);
    }
    Ok(FileSummary {
        family: total.first_family,
        bytes: pieces.bytes_read(),
        lines: total.lines,
        records: total.by_family.values().sum(),
        records_by_family: total.by_family,
        skipped: total.skipped,
        secret_numbers: total.secret_numbers,
        ..FileSummary::default()
    })
}

/// Reads on this thread while `threads` workers process the batches, from `first` on.
///
/// A worker gathers each batch into figures of its own and sends them back; this thread
/// adds them to `aggs` as they come. So only one set of figures grows with the input's
/// distinct names: a worker holds the figures of one batch at a time, not of its share of the
/// input (a ledger of 250,000 distinct flags would otherwise be counted twice over before the
/// halves were merged).
fn parallel<R: Read>(
    aggs: &mut Aggs,
    options: &Options,
    pieces: &mut LineReader<R>,
    first: Batch,
    threads: usize,
) -> io::Result<Vec<Tally>> {
    let (send, receive) = sync_channel::<Batch>(threads);
    let (done, results) = channel::<(Tally, Aggs)>();
    let receive = Arc::new(Mutex::new(receive));
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (receive, done) = (Arc::clone(&receive), done.clone());
                scope.spawn(move || work(&receive, &done, options))
            })
            .collect();
        drop(done);
        let mut tallies = Vec::new();
        // Merged in batch order: names are numbered in order of first use in the input, so
        // the report does not depend on which worker finished first. At most the batches in
        // flight wait here.
        let mut waiting: BTreeMap<usize, (Tally, Aggs)> = BTreeMap::new();
        let mut next_seq = first.seq;
        let mut add = |(tally, partial): (Tally, Aggs)| {
            waiting.insert(tally.seq, (tally, partial));
            while let Some((tally, partial)) = waiting.remove(&next_seq) {
                aggs.merge(&partial);
                tallies.push(tally);
                next_seq += 1;
            }
        };
        let mut result = Ok(());
        let mut seq = first.seq;
        let mut batch = first;
        loop {
            if send.send(batch).is_err() {
                break;
            }
            results.try_iter().for_each(&mut add);
            seq += 1;
            batch = match pieces.next().map(|piece| Batch::new(seq, piece)) {
                None => break,
                Some(Ok(b)) => b,
                Some(Err(e)) => {
                    result = Err(e);
                    break;
                }
            };
        }
        drop(send);
        results.iter().for_each(&mut add);
        for worker in workers {
            // A worker that panicked lost a batch: report it as an I/O error, never as
            // figures with lines missing.
            worker
                .join()
                .map_err(|_| io::Error::other("an analysis thread failed"))?;
        }
        result.map(|()| tallies)
    })
}

/// A worker: gathers each batch into figures of its own and sends them back, until the
/// channel of batches closes.
fn work(receive: &Mutex<Receiver<Batch>>, done: &Sender<(Tally, Aggs)>, options: &Options) {
    loop {
        let next = receive
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv();
        let Ok(batch) = next else {
            return;
        };
        let mut aggs = Aggs::new(options);
        let tally = process(&mut aggs, &batch, options);
        if done.send((tally, aggs)).is_err() {
            return;
        }
    }
}
