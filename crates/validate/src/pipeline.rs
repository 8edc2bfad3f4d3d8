//! Reader thread -> worker threads -> merger, with bounded channels.
//!
//! The reader thread numbers the pieces of whole lines that [`LineReader`] cuts the input into
//! (about [`Options::chunk_size`] bytes each; an over-long line is a `TooLong` piece, never
//! buffered; see [`crate::lines`]). Workers check pieces in any order; the merger puts
//! the results back in sequence, turns relative line numbers into absolute ones, adds the
//! checks that cross piece boundaries (the pairing of requests and responses among them, see
//! [`crate::exchange`]), and spends the error budget.
//!
//! Under `--profile auto` the merger also chooses the file's profile: workers record the
//! facts whose verdict depends on it as pending, and the merger resolves them in line order,
//! holding the few that come before the deciding line (see `profile.rs`). Before that, the
//! reader decides whether the input is an event log or a ledger ([`Detect`]): each piece goes
//! to the workers with the family its lines are checked as.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Mutex, PoisonError};

use super::check::{Checker, ChunkResult, DISTINCT_CAP};
use super::exchange::Pairing;
use super::profile::{Family, FamilyOf, Pending, agent_system_empty, family_of_line};
use super::{
    CheckedProfile, ChosenBy, FileReport, Finding, Options, Profile, ProfileChoice, Rule, Severity,
};
use crate::event::Timestamp;
use crate::lines::{LineReader, Piece, split};
use crate::secrets::redact::Redactor;

/// A piece as the workers get it: with the family its lines are checked as (and under `auto`
/// the line that decided it) and, when the reader chose the ledger under `auto` in this
/// piece, that choice for the merger.
struct Tagged {
    piece: Piece,
    family: FamilyOf,
    chosen: Option<CheckedProfile>,
}

/// The reader's side of choosing the family under `auto`: it looks at the lines of each
/// piece, in order, until one parses as a JSON object ([`family_of_line`]). The lines before
/// it are not objects, so their findings do not depend on the family; nothing is buffered
/// beyond the piece at hand, and once decided no line is looked at again.
struct Detect {
    /// The family, once given or decided.
    family: Option<Family>,
    /// Under `auto`, the line that decided the family, once it has.
    decided_at: Option<u64>,
    /// Lines seen before the decision.
    lines: u64,
}

impl Detect {
    fn new(profile: ProfileChoice) -> Self {
        Detect {
            family: Family::given(profile),
            decided_at: None,
            lines: 0,
        }
    }

    fn tag(&mut self, piece: Piece) -> Tagged {
        let mut chosen = None;
        if self.family.is_none() {
            match &piece {
                Piece::Lines { buf, .. } => {
                    for line in split(buf) {
                        self.lines += 1;
                        if let Some(family) = family_of_line(line) {
                            self.family = Some(family);
                            self.decided_at = Some(self.lines);
                            if family == Family::Ledger {
                                chosen = Some(CheckedProfile {
                                    profile: Profile::Ledger,
                                    chosen_by: ChosenBy::LedgerRecord { line: self.lines },
                                });
                            }
                            break;
                        }
                    }
                }
                Piece::TooLong => self.lines += 1,
                Piece::ReadError(_) => {}
            }
        }
        Tagged {
            piece,
            family: FamilyOf {
                family: self.family.unwrap_or_default(),
                decided_at: self.decided_at,
            },
            chosen,
        }
    }
}

enum Done {
    /// Boxed: a chunk's result is large, and the channel holds `Done`s.
    Chunk(Box<ChunkResult>),
    TooLong,
    ReadError(String),
}

/// Findings counted but not kept, per rule and severity.
type Omitted = BTreeMap<(Rule, Severity), u64>;

/// One result of a piece, in line order, before the merger keeps or counts it.
enum Entry {
    /// A finding.
    Found(Finding),
    /// Under `Auto` before the file's profile is known: an empty `agent_system` on this
    /// line, whose finding (an error under v0, a warning under v1) is made once it is.
    Held(u64),
}

/// The merger's state for one input.
struct Merger<'a> {
    redactor: &'a Redactor,
    /// Findings the report may still keep; workers cap their chunks at it.
    room: &'a AtomicUsize,
    report: FileReport,
    base: u64,
    last_ts: Option<Timestamp>,
    run_ids: Vec<String>,
    budget: Option<u64>,
    errors: u64,
    keep: usize,
    /// The profile the file is checked under: given, or once `Auto` has decided.
    checked: Option<CheckedProfile>,
    /// Lines of [`Entry::Held`] findings; each holds a place in the kept list.
    held: Vec<u64>,
    /// Held findings past the kept list's limit, only counted.
    held_omitted: u64,
    /// The pairing of requests and responses by `data.exchange_id`.
    pairing: Pairing,
}

impl<'a> Merger<'a> {
    /// The merger of one input validated with `options` and `budget` errors left.
    fn new(
        redactor: &'a Redactor,
        room: &'a AtomicUsize,
        options: &Options,
        budget: Option<u64>,
    ) -> Self {
        Merger {
            redactor,
            room,
            report: FileReport::default(),
            base: 0,
            last_ts: None,
            run_ids: Vec::new(),
            budget,
            errors: 0,
            keep: options.max_findings_per_file,
            checked: match options.profile {
                ProfileChoice::Given(profile) => Some(CheckedProfile {
                    profile,
                    chosen_by: ChosenBy::Option,
                }),
                ProfileChoice::Auto => None,
            },
            held: Vec::new(),
            held_omitted: 0,
            pairing: Pairing::default(),
        }
    }

    /// Adds one piece's result; returns false when the error budget is spent.
    fn merge(&mut self, done: Done) -> bool {
        let (entries, omitted) = match done {
            Done::TooLong => {
                self.report.lines += 1;
                self.base += 1;
                let finding = Finding {
                    line: self.base,
                    rule: Rule::LineTooLong,
                    severity: Severity::Error,
                    pointer: None,
                    message: "line is longer than the limit; skipped".into(),
                };
                (vec![Entry::Found(finding)], BTreeMap::new())
            }
            Done::ReadError(kind) => {
                let finding = Finding {
                    line: self.base + 1,
                    rule: Rule::InputRead,
                    severity: Severity::Error,
                    pointer: None,
                    message: format!("reading stopped: {kind}"),
                };
                (vec![Entry::Found(finding)], BTreeMap::new())
            }
            Done::Chunk(chunk) => match self.chunk_entries(*chunk) {
                Some(entries) => entries,
                None => return false,
            },
        };
        for entry in entries {
            let f = match entry {
                Entry::Found(f) => f,
                Entry::Held(line) => {
                    if self.kept() < self.keep {
                        self.held.push(line);
                    } else {
                        self.held_omitted += 1;
                    }
                    continue;
                }
            };
            if self.spend(f.severity, 1) == 0 {
                return false;
            }
            if self.kept() < self.keep {
                self.report.findings.push(f);
            } else {
                *self.report.omitted.entry((f.rule, f.severity)).or_default() += 1;
            }
        }
        if !self.count_omitted(omitted) {
            return false;
        }
        self.room
            .store(self.keep.saturating_sub(self.kept()), Ordering::Relaxed);
        if self.budget.is_some_and(|b| self.errors >= b) {
            self.report.truncated = true;
            return false;
        }
        true
    }

    /// Places taken in the kept list: kept findings and held ones.
    fn kept(&self) -> usize {
        self.report.findings.len() + self.held.len()
    }

    /// A chunk's findings with absolute line numbers, the checks that cross chunks added and
    /// its pending facts resolved (or held), in line order; `None` when findings held from
    /// earlier chunks spent the error budget.
    fn chunk_entries(&mut self, mut chunk: ChunkResult) -> Option<(Vec<Entry>, Omitted)> {
        let base = self.base;
        if let (Some(prev), Some((line, ts))) = (self.last_ts, chunk.first_ts)
            && ts < prev
        {
            chunk.findings.push(crate::rules::ts_backwards(line));
        }
        if self.checked.is_none() {
            self.checked = chunk.chosen;
        }
        self.run_ids(&mut chunk);
        let paired = self.pair(&mut chunk);
        let held = self.resolve_pending(&mut chunk)?;
        chunk.findings.sort_by_key(|f| (f.line, f.rule));
        let mut entries: Vec<Entry> = chunk
            .findings
            .into_iter()
            .map(|mut f| {
                f.line += base;
                Entry::Found(f)
            })
            .chain(paired.into_iter().map(Entry::Found))
            .collect();
        if !held.is_empty() {
            entries.extend(held.into_iter().map(|rel| Entry::Held(base + rel)));
            // `envelope.agent_system_unknown` directly follows `envelope.empty` in the rule
            // order, so a held finding takes the same place whichever it becomes.
            entries.sort_by_key(|e| match e {
                Entry::Found(f) => (f.line, f.rule),
                Entry::Held(line) => (*line, Rule::EnvelopeEmpty),
            });
        }
        self.last_ts = chunk.last_ts.or(self.last_ts);
        self.base += chunk.lines;
        self.report.lines += chunk.lines;
        self.report.events += chunk.events;
        for (t, n) in chunk.by_event_type {
            *self.report.by_event_type.entry(t).or_default() += n;
        }
        Some((entries, chunk.omitted))
    }

    /// `run_id.multiple` for the chunk's run ids this file has not seen yet.
    fn run_ids(&mut self, chunk: &mut ChunkResult) {
        for (line, id) in std::mem::take(&mut chunk.run_ids) {
            if self.run_ids.contains(&id) {
                continue;
            }
            if let Some(first) = self.run_ids.first()
                && self.run_ids.len() < DISTINCT_CAP
            {
                chunk.findings.push(Finding {
                    line,
                    rule: Rule::RunIdMultiple,
                    severity: Severity::Warning,
                    pointer: Some("/run_id".into()),
                    message: format!(
                        "run_id {} differs from this file's first run_id {}",
                        self.redactor.quote(&id),
                        self.redactor.quote(first)
                    ),
                });
            }
            if self.run_ids.len() < DISTINCT_CAP {
                self.run_ids.push(id);
            }
        }
    }

    /// Feeds the chunk's requests and responses to the pairing check, with absolute lines;
    /// returns the findings that settled (absolute lines too, maybe of earlier chunks).
    fn pair(&mut self, chunk: &mut ChunkResult) -> Vec<Finding> {
        let mut found = Vec::new();
        for mut seen in std::mem::take(&mut chunk.exchanges) {
            seen.line += self.base;
            self.pairing.see(seen, self.redactor, &mut found);
        }
        found
    }

    /// Decides the file's profile at the first family line (`Auto`), releases what was held
    /// for that, and turns the chunk's pending facts into findings (relative line numbers).
    /// Returns the relative lines still held (no decision yet), or `None` when releasing held
    /// findings spent the error budget.
    fn resolve_pending(&mut self, chunk: &mut ChunkResult) -> Option<Vec<u64>> {
        let mut held = Vec::new();
        for (rel, pending) in std::mem::take(&mut chunk.pending) {
            if self.checked.is_none()
                && let Pending::Family(profile, event_type) = pending
            {
                let line = self.base + rel;
                let chosen_by = ChosenBy::EventType { line, event_type };
                let checked = CheckedProfile { profile, chosen_by };
                self.checked = Some(checked);
                if !self.release_held(checked) {
                    return None;
                }
                // Held earlier in this chunk: resolved with the chunk's own findings.
                for rel in held.drain(..) {
                    chunk.findings.push(agent_system_empty(profile, rel));
                }
            }
            match self.checked {
                Some(checked) => chunk.findings.extend(pending.resolve(rel, checked)),
                None => held.push(rel),
            }
        }
        Some(held)
    }

    /// Turns the held findings into findings under `checked` (they already hold their places
    /// in the kept list); returns false when they spent the error budget.
    fn release_held(&mut self, checked: CheckedProfile) -> bool {
        for line in std::mem::take(&mut self.held) {
            let finding = agent_system_empty(checked.profile, line);
            if self.spend(finding.severity, 1) == 0 {
                return false;
            }
            self.report.findings.push(finding);
        }
        let n = std::mem::take(&mut self.held_omitted);
        if n == 0 {
            return true;
        }
        let finding = agent_system_empty(checked.profile, 0);
        self.count_omitted(BTreeMap::from([((finding.rule, finding.severity), n)]))
    }

    /// Counts findings that were not kept; returns false when they spent the error budget.
    fn count_omitted(&mut self, omitted: Omitted) -> bool {
        for ((rule, severity), n) in omitted {
            let counted = self.spend(severity, n);
            *self.report.omitted.entry((rule, severity)).or_default() += counted;
            if counted < n {
                return false;
            }
        }
        true
    }

    /// Ends the input: a file `Auto` found no family line in is checked under v0, and what
    /// was held is released under it; the requests and responses still unpaired by
    /// `data.exchange_id` are reported; findings end in line order.
    fn finish(mut self) -> FileReport {
        let checked = self.checked.unwrap_or(CheckedProfile {
            profile: Profile::V0,
            chosen_by: ChosenBy::Default,
        });
        self.release_held(checked);
        // A file not read to its end (the error budget stopped it) has no end to pair by.
        if !self.report.truncated {
            let pairing = std::mem::take(&mut self.pairing);
            for f in pairing.finish(self.base, self.redactor) {
                if self.kept() < self.keep {
                    self.report.findings.push(f);
                } else {
                    *self.report.omitted.entry((f.rule, f.severity)).or_default() += 1;
                }
            }
        }
        self.report.profile = Some(checked);
        // Held findings are released after later lines' findings were kept.
        self.report.findings.sort_by_key(|f| (f.line, f.rule));
        self.report
    }

    /// Counts up to `n` findings of `severity` against the error budget and returns how many
    /// fit (warnings always do); when some do not, the report is marked truncated.
    fn spend(&mut self, severity: Severity, n: u64) -> u64 {
        if severity != Severity::Error {
            return n;
        }
        let fit = self
            .budget
            .map_or(n, |b| n.min(b.saturating_sub(self.errors)));
        self.errors += fit;
        if fit < n {
            self.report.truncated = true;
        }
        fit
    }
}

/// Validates `reader` with `options.threads` workers (0: one per core).
pub(crate) fn run(
    checker: &Checker,
    options: &Options,
    budget: Option<u64>,
    reader: impl Read + Send,
) -> FileReport {
    let workers = match options.threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get().min(8)),
        n => n,
    };
    let stop = AtomicBool::new(false);
    let room = AtomicUsize::new(options.max_findings_per_file);
    let mut merger = Merger::new(&checker.redactor, &room, options, budget);
    if budget == Some(0) {
        merger.report.truncated = true;
        return merger.report;
    }
    let mut bytes = 0u64;
    // At most `window` pieces exist between the reader and the merger (queued, being checked
    // or waiting for an earlier one): one slow piece cannot let the others pile up.
    let window = workers + 2;
    let (token_tx, token_rx) = sync_channel::<()>(window);
    for _ in 0..window {
        let _ = token_tx.send(());
    }
    let mut token_tx = Some(token_tx);
    let (piece_tx, piece_rx) = sync_channel::<(u64, Tagged)>(window);
    let (done_tx, done_rx) = sync_channel::<(u64, Done)>(window);
    let piece_rx = Mutex::new(piece_rx);
    std::thread::scope(|scope| {
        let stop = &stop;
        let bytes = &mut bytes;
        scope.spawn(move || {
            let mut seq = 0u64;
            let mut detect = Detect::new(options.profile);
            let mut pieces = LineReader::new(reader, options.chunk_size, options.max_line_len);
            while !stop.load(Ordering::Relaxed) {
                let Some(piece) = pieces.next() else { break };
                let piece = detect.tag(piece);
                if token_rx.recv().is_err() || piece_tx.send((seq, piece)).is_err() {
                    break;
                }
                seq += 1;
            }
            *bytes = pieces.bytes_read();
        });
        for _ in 0..workers {
            let done_tx: SyncSender<(u64, Done)> = done_tx.clone();
            let (piece_rx, room) = (&piece_rx, &room);
            scope.spawn(move || worker(checker, piece_rx, &done_tx, stop, room));
        }
        drop(done_tx);
        let mut pending: BTreeMap<u64, Done> = BTreeMap::new();
        let mut next = 0u64;
        for (seq, done) in done_rx {
            if stop.load(Ordering::Relaxed) {
                continue;
            }
            pending.insert(seq, done);
            while let Some(done) = pending.remove(&next) {
                next += 1;
                if !merger.merge(done) {
                    stop.store(true, Ordering::Relaxed);
                    // Wakes a reader waiting for a token.
                    token_tx.take();
                    pending.clear();
                    break;
                }
                if let Some(tx) = &token_tx {
                    let _ = tx.send(());
                }
            }
        }
    });
    merger.report.bytes = bytes;
    merger.finish()
}

fn worker(
    checker: &Checker,
    pieces: &Mutex<Receiver<(u64, Tagged)>>,
    done: &SyncSender<(u64, Done)>,
    stop: &AtomicBool,
    room: &AtomicUsize,
) {
    loop {
        let next = pieces.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok((seq, tagged)) = next else { return };
        if stop.load(Ordering::Relaxed) {
            continue;
        }
        let result = match tagged.piece {
            Piece::Lines { buf, torn } => {
                let cap = room.load(Ordering::Relaxed);
                let mut chunk = checker.check_chunk(&buf, torn, cap, tagged.family);
                chunk.chosen = tagged.chosen;
                Done::Chunk(Box::new(chunk))
            }
            Piece::TooLong => Done::TooLong,
            Piece::ReadError(e) => Done::ReadError(e.kind().to_string()),
        };
        if done.send((seq, result)).is_err() {
            return;
        }
    }
}
