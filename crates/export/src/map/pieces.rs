//! The last judge of every record: a secret cut into pieces over neighbouring fields.
//!
//! Each value was judged on its own as it was mapped ([`super::Mapper`]); a secret split
//! over two or more fields (`{"a":"AKIAZQ7VK2","b":"PX9MW4NR8T"}`, a ledger's agent and tool,
//! a request's model and its response's) passes every such judgement and still reads whole
//! to whoever looks at the record. [`Pieces`] reads the record as a viewer lists it, joined,
//! and a record that shows a value that way is replaced like one that shows it whole.
//!
//! It runs where records are sent ([`crate::batch::Wire`]), on every batch of every path
//! (a whole export, `--follow`, a live export): the sending thread has the CPU the mapping
//! thread lacks, and no record reaches the wire without it.

use std::borrow::Cow;

use agentlog_validate::secrets::redact::{Redactor, readings, without_separators};
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::Span;

use super::attrs;
use crate::semconv::{AGENTLOG_LINE, LOG_RECORD_UID};

/// Judges records for secrets cut into pieces over their fields.
#[derive(Clone)]
pub struct Pieces {
    redactor: Redactor,
    /// The joined text of the last record (kept to save an allocation a record).
    joined: String,
    /// The attributes' names of the last record sorted, and their order: the records of one
    /// log have the same names, and sorting them is a third of this judge's work.
    sorted: SortedNames,
}

/// A sequence of names and the order that sorts it.
#[derive(Clone, Default)]
struct SortedNames {
    names: Vec<String>,
    order: Vec<usize>,
}

impl SortedNames {
    /// The order that sorts `names` (stable), worked out again only when they are not those
    /// of the last call.
    fn order<'a>(&mut self, names: impl ExactSizeIterator<Item = &'a str> + Clone) -> &[usize] {
        let same = self.names.len() == names.len()
            && self
                .names
                .iter()
                .zip(names.clone())
                .all(|(kept, name)| kept == name);
        if !same {
            self.names.clear();
            self.names.extend(names.map(str::to_owned));
            self.order.clear();
            self.order.extend(0..self.names.len());
            let names = &self.names;
            self.order.sort_by(|&a, &b| names.get(a).cmp(&names.get(b)));
        }
        &self.order
    }
}

impl std::fmt::Debug for Pieces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pieces").finish_non_exhaustive()
    }
}

impl Pieces {
    /// A judge that withholds what `redactor` says carries a secret.
    pub fn new(redactor: Redactor) -> Self {
        Pieces {
            redactor,
            joined: String::new(),
            sorted: SortedNames::default(),
        }
    }

    /// Replaces `log` by a record that says it was withheld, and drops `span`, when the
    /// two show a secret cut into pieces ([`Pieces::show`]); returns whether it did.
    pub fn judge(&mut self, log: &mut LogRecord, span: &mut Option<Span>) -> bool {
        if !self.show(log, span.as_ref()) {
            return false;
        }
        *log = super::withheld_record(log);
        *span = None;
        true
    }

    /// Whether a secret cut into pieces over neighbouring values shows once they are read
    /// together: the body, the span's name and the values of the record's and the span's
    /// attributes, run together in the order sent and in the order of the attributes' names
    /// (how many viewers list them), and the names' last parts (the line's keys) in the
    /// order sent, judged with their separators taken out
    /// ([`without_separators`]). Of a long value only its ends take part (a piece of a value cut
    /// over two lies at one end of each); pieces that stand apart in both orders are not
    /// joined.
    pub fn show(&mut self, log: &LogRecord, span: Option<&Span>) -> bool {
        let mut pieces: Vec<(&str, Cow<'_, str>)> = Vec::with_capacity(32);
        pieces.extend(text_of(log.body.as_ref().and_then(|b| b.value.as_ref())).map(|t| ("", t)));
        pieces.extend(span.map(|s| ("", Cow::Borrowed(s.name.as_str()))));
        let attributes = log
            .attributes
            .iter()
            .chain(span.into_iter().flat_map(|s| s.attributes.iter()));
        // The uid and line number are the mapping's own; the file's name is not (it sorts
        // next to `agentlog.run_id` and `agentlog.tags`).
        let own = |key: &str| matches!(key, LOG_RECORD_UID | AGENTLOG_LINE);
        for attribute in attributes.filter(|a| !own(&a.key)) {
            let value = attribute.value.as_ref().and_then(|v| v.value.as_ref());
            if let Some(text) = text_of(value) {
                pieces.push((attribute.key.as_str(), text));
            }
        }
        let mut text = std::mem::take(&mut self.joined);
        text.clear();
        pieces
            .iter()
            .for_each(|(_, value)| push_ends(&mut text, value));
        // A control character keeps the orders apart: no view takes it out.
        text.push('\u{1}');
        // The names (their last part: the line's keys) in the order sent.
        text.push('\u{1}');
        for (name, _) in &pieces {
            text.push_str(last_segment(name));
        }
        text.push('\u{1}');
        for &index in self.sorted.order(pieces.iter().map(|(name, _)| *name)) {
            if let Some((_, value)) = pieces.get(index) {
                push_ends(&mut text, value);
            }
        }
        let redactor = &self.redactor;
        // As run together (a token cut at its own `_`, `-` or `.` keeps them), and with the
        // separators taken out (each value was judged with its own taken out as it was
        // mapped).
        let judged = |text: &str| {
            redactor.leaks_as_is(text)
                || without_separators(text).is_some_and(|joined| redactor.leaks_as_is(&joined))
        };
        // An escape cut over two fields (`...&sh` and `y;...`) or a hidden character at a join
        // is read too, in each order on its own.
        let shows = judged(&text)
            || text
                .split('\u{1}')
                .flat_map(readings)
                .any(|reading| judged(&reading));
        self.joined = text;
        shows
    }
}

/// The text a viewer shows of a value: a string, an integer's digits, an array's JSON.
fn text_of(value: Option<&Any>) -> Option<Cow<'_, str>> {
    match value {
        Some(Any::StringValue(text)) => Some(Cow::Borrowed(text.as_str())),
        Some(Any::IntValue(n)) => Some(Cow::Owned(itoa::Buffer::new().format(*n).to_owned())),
        Some(Any::ArrayValue(array)) => Some(Cow::Owned(attrs::array_text(array))),
        _ => None,
    }
}

/// The part of a dotted attribute name after its last dot (the line's own key).
fn last_segment(name: &str) -> &str {
    // Names are short: a byte loop beats `rsplit`'s memrchr set-up.
    match name.bytes().rposition(|b| b == b'.') {
        Some(dot) => name.get(dot + 1..).unwrap_or(name),
        None => name,
    }
}

/// Bytes of each end of a long value that [`Pieces::show`] joins with its neighbours.
const PIECE_END: usize = 128;

/// Appends `value` to `text`, or only its first and last [`PIECE_END`] bytes (a control
/// character between them) when it is longer.
fn push_ends(text: &mut String, value: &str) {
    if value.len() <= 2 * PIECE_END + 1 {
        text.push_str(value);
        return;
    }
    let mut head = PIECE_END;
    while !value.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = value.len() - PIECE_END;
    while !value.is_char_boundary(tail) {
        tail += 1;
    }
    text.push_str(value.get(..head).unwrap_or_default());
    text.push('\u{1}');
    text.push_str(value.get(tail..).unwrap_or_default());
}
