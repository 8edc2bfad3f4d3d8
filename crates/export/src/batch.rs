//! Records and spans gathered until a batch is full, then wrapped in one resource and scope.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

use crate::map::Pieces;
use crate::semconv::{SCHEMA_URL, SCOPE_NAME};

/// Records per batch, at most.
pub const MAX_RECORDS: usize = 2048;
/// Encoded bytes per batch and signal, about (collectors often refuse bodies over 4 MiB).
pub const MAX_BYTES: usize = 3 << 20;

/// The records and spans of one batch, and the lines they came from.
#[derive(Debug, Default)]
pub struct Batch {
    logs: Vec<LogRecord>,
    spans: Vec<Span>,
    /// Whether each record has a span (in `spans`, in order).
    with_span: Vec<bool>,
    bytes: usize,
    /// The first and last source of the batch, for a report of what was not delivered.
    pub lines: Option<(String, u64, u64)>,
}

impl Batch {
    /// Adds a record and its span; `label`/`line` name where it came from.
    pub fn push(&mut self, log: LogRecord, span: Option<Span>, label: &str, line: u64) {
        self.bytes += log.encoded_len() + span.as_ref().map_or(0, Message::encoded_len);
        self.logs.push(log);
        self.with_span.push(span.is_some());
        self.spans.extend(span);
        match &mut self.lines {
            Some((first_label, _, last)) if first_label == label => *last = line,
            Some(_) => {}
            None => self.lines = Some((label.to_owned(), line, line)),
        }
    }

    /// Replaces each record (and drops its span) that shows a secret cut into pieces
    /// ([`Pieces::judge`]); returns how many.
    pub fn judge(&mut self, pieces: &mut Pieces) -> u64 {
        let mut spans = std::mem::take(&mut self.spans).into_iter();
        let mut withheld = 0;
        for (log, with_span) in self.logs.iter_mut().zip(self.with_span.iter_mut()) {
            let mut span = if *with_span { spans.next() } else { None };
            withheld += u64::from(pieces.judge(log, &mut span));
            *with_span = span.is_some();
            self.spans.extend(span);
        }
        withheld
    }

    /// Full: send it before adding more.
    pub fn is_full(&self) -> bool {
        self.logs.len() >= MAX_RECORDS || self.bytes >= MAX_BYTES
    }

    /// Nothing in it.
    pub fn is_empty(&self) -> bool {
        self.logs.is_empty()
    }

    /// Records in it.
    pub fn records(&self) -> usize {
        self.logs.len()
    }

    /// Spans in it.
    pub fn spans(&self) -> usize {
        self.spans.len()
    }

    /// Where its lines came from: `file:line` or `file:first-last` (empty when empty).
    pub fn place(&self) -> String {
        match &self.lines {
            Some((label, first, last)) if first == last => format!("{label}:{first}"),
            Some((label, first, last)) => format!("{label}:{first}-{last}"),
            None => String::new(),
        }
    }

    /// The batch as one logs request and one traces request (none when it has no span),
    /// under `resource`; the batch is left empty.
    pub fn take(
        &mut self,
        resource: &[KeyValue],
    ) -> (ExportLogsServiceRequest, Option<ExportTraceServiceRequest>) {
        let batch = std::mem::take(self);
        let resource = Resource {
            attributes: resource.to_vec(),
            ..Resource::default()
        };
        let scope = InstrumentationScope {
            name: SCOPE_NAME.to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            ..InstrumentationScope::default()
        };
        let logs = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(resource.clone()),
                scope_logs: vec![ScopeLogs {
                    scope: Some(scope.clone()),
                    log_records: batch.logs,
                    schema_url: SCHEMA_URL.to_owned(),
                }],
                schema_url: SCHEMA_URL.to_owned(),
            }],
        };
        let spans = (!batch.spans.is_empty()).then(|| ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(resource),
                scope_spans: vec![ScopeSpans {
                    scope: Some(scope),
                    spans: batch.spans,
                    schema_url: SCHEMA_URL.to_owned(),
                }],
                schema_url: SCHEMA_URL.to_owned(),
            }],
        });
        (logs, spans)
    }
}

/// What sending one batch did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Delivery {
    /// Log records the collector accepted.
    pub(crate) records: u64,
    /// Spans the collector accepted.
    pub(crate) spans: u64,
    /// Records and spans not delivered (or rejected).
    pub(crate) failed: u64,
    /// Records replaced because they showed a secret cut into pieces ([`Pieces`]).
    pub(crate) withheld: u64,
    /// Items the collector said it rejected (partial success), of `failed`.
    pub(crate) rejected: u64,
    /// Why, for the last signal that failed.
    pub(crate) error: Option<String>,
    /// Each signal that failed: what (`log records`, `spans`), how many, why.
    pub(crate) failures: Vec<(&'static str, u64, String)>,
}

/// The requests of a batch once sent. Dropping them frees every record and span; a caller
/// that maps on another thread hands them back to it, where freeing is cheapest (the
/// allocator reuses the memory on the thread that allocated it).
pub(crate) struct Spent {
    _logs: ExportLogsServiceRequest,
    _traces: Option<ExportTraceServiceRequest>,
}

/// Where batches go: a collector, under a resource, every record past the judge of pieces
/// ([`Pieces`]) on its way: no batch reaches the wire without it.
pub(crate) struct Wire<'a> {
    /// The collector.
    pub(crate) client: &'a crate::client::Client,
    /// The resource every batch is sent under.
    pub(crate) resource: &'a [KeyValue],
    /// The last judge of every record.
    pub(crate) pieces: Pieces,
}

impl Wire<'_> {
    /// Sends `batch` (logs, then spans) and empties it.
    pub(crate) async fn deliver(&mut self, batch: &mut Batch) -> Delivery {
        self.deliver_keeping(batch).await.0
    }

    /// [`Wire::deliver`], handing back the requests sent (none for an empty batch).
    pub(crate) async fn deliver_keeping(&mut self, batch: &mut Batch) -> (Delivery, Option<Spent>) {
        deliver_judged(self.client, batch, self.resource, &mut self.pieces).await
    }
}

/// Judges `batch` with `pieces`, sends it under `resource` and empties it.
async fn deliver_judged(
    client: &crate::client::Client,
    batch: &mut Batch,
    resource: &[KeyValue],
    pieces: &mut Pieces,
) -> (Delivery, Option<Spent>) {
    let mut delivery = Delivery::default();
    if batch.is_empty() {
        return (delivery, None);
    }
    delivery.withheld = batch.judge(pieces);
    let (records, spans) = (batch.records() as u64, batch.spans() as u64);
    let (logs, traces) = batch.take(resource);
    match client.send_logs(&logs).await {
        Ok(accepted) => {
            delivery.records = records.saturating_sub(accepted.rejected);
            delivery.failed += accepted.rejected;
            delivery.rejected += accepted.rejected;
        }
        Err(e) => {
            delivery.failed += records;
            delivery
                .failures
                .push(("log records", records, e.to_string()));
            delivery.error = Some(e.to_string());
        }
    }
    if let Some(traces) = &traces {
        match client.send_spans(traces).await {
            Ok(accepted) => {
                delivery.spans = spans.saturating_sub(accepted.rejected);
                delivery.failed += accepted.rejected;
                delivery.rejected += accepted.rejected;
            }
            Err(e) => {
                delivery.failed += spans;
                delivery.failures.push(("spans", spans, e.to_string()));
                delivery.error = Some(e.to_string());
            }
        }
    }
    let spent = Spent {
        _logs: logs,
        _traces: traces,
    };
    (delivery, Some(spent))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map::kv_str;
    use agentlog_validate::secrets::redact::Redactor;

    fn record(values: &[(&str, &str)]) -> LogRecord {
        LogRecord {
            attributes: values.iter().map(|(k, v)| kv_str(k, v)).collect(),
            ..LogRecord::default()
        }
    }

    fn span(name: &str) -> Span {
        Span {
            name: name.to_owned(),
            ..Span::default()
        }
    }

    #[test]
    fn a_record_of_pieces_is_replaced_and_the_other_spans_kept_in_place() {
        let mut batch = Batch::default();
        batch.push(
            record(&[("agentlog.data.a", "x")]),
            Some(span("first")),
            "f",
            1,
        );
        let split = [
            ("agentlog.data.a", "AKIAZQ7VK2"),
            ("agentlog.data.b", "PX9MW4NR8T"),
        ];
        batch.push(record(&split), Some(span("second")), "f", 2);
        batch.push(record(&[("agentlog.data.a", "y")]), None, "f", 3);
        batch.push(
            record(&[("agentlog.data.a", "z")]),
            Some(span("fourth")),
            "f",
            4,
        );
        let detector = agentlog_validate::Options::default().redactor().unwrap();
        assert_eq!(batch.judge(&mut Pieces::new(detector)), 1);
        let names: Vec<&str> = batch.spans.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["first", "fourth"]);
        assert_eq!(batch.with_span, [true, false, false, true]);
        let sent = serde_json::to_string(&batch.logs).unwrap();
        assert!(!sent.contains("PX9MW4NR8T"), "{sent}");
        // Judged again: nothing more to replace, nothing lost.
        assert_eq!(batch.judge(&mut Pieces::new(Redactor::none())), 0);
        assert_eq!((batch.records(), batch.spans()), (4, 2));
    }

    #[test]
    fn pieces_joined_by_an_escape_cut_over_two_fields_are_read_whole() {
        let detector = agentlog_validate::Options::default().redactor().unwrap();
        let mut pieces = Pieces::new(detector);
        for (head, tail) in [
            ("AKIAZQ7VK&sh", "y;2PX9MW4NR8T"),
            ("AKIAZQ7VK%u20", "0B2PX9MW4NR8T"),
            ("AKIAZQ7VK\\N{ZERO WIDTH", " SPACE}2PX9MW4NR8T"),
            ("AKIAZQ7VK&shy;", "2PX9MW4NR8T"),
        ] {
            let split = [("agentlog.data.a", head), ("agentlog.data.b", tail)];
            assert!(pieces.show(&record(&split), None), "{head} {tail}");
        }
        let apart = [
            ("agentlog.data.a", "AKIAZQ7VK&shy;"),
            ("agentlog.data.b", "x"),
        ];
        assert!(!pieces.show(&record(&apart), None));
    }
}
