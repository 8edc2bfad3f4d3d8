//! Delivery beside mapping: a thread of its own, with its own runtime, sends each batch
//! handed to it while the caller maps the next one.
//!
//! Mapping is CPU work and sending mostly waiting for the collector; one after the other, each
//! waits for the other. The [`Shipper`] holds at most one batch waiting besides the one being
//! sent, so memory stays bounded and a slow collector slows the mapping down to its pace
//! instead of piling batches up.

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use opentelemetry_proto::tonic::common::v1::KeyValue;

use crate::batch::{Batch, Delivery, Spent, Wire};
use crate::client::Client;
use crate::map::Pieces;

/// What the shipped batches came to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Shipped {
    /// Log records the collector accepted.
    pub(crate) records: u64,
    /// Spans the collector accepted.
    pub(crate) spans: u64,
    /// Records and spans not delivered or rejected.
    pub(crate) failed: u64,
    /// Records replaced as they were sent: they showed a secret cut into pieces.
    pub(crate) withheld: u64,
    /// Items the collector said it rejected (partial success), of `failed`.
    pub(crate) rejected: u64,
    /// What was not delivered: the batch's lines and why, a line each.
    pub(crate) failures: Vec<String>,
    /// Why the last batch that failed failed.
    pub(crate) last_error: Option<String>,
}

impl Shipped {
    fn add(&mut self, delivery: Delivery, place: &str) {
        self.records += delivery.records;
        self.spans += delivery.spans;
        self.failed += delivery.failed;
        self.withheld += delivery.withheld;
        self.rejected += delivery.rejected;
        for (what, count, error) in delivery.failures {
            self.failures
                .push(format!("{count} {what} of {place} not delivered: {error}"));
        }
        if delivery.error.is_some() {
            self.last_error = delivery.error;
        }
    }

    /// A batch that never reached the sender (its thread is gone).
    fn lost(&mut self, batch: &Batch, place: &str, why: &str) {
        let (records, spans) = (batch.records() as u64, batch.spans() as u64);
        self.failed += records + spans;
        self.failures.push(format!(
            "{records} log records of {place} not delivered: {why}"
        ));
        if spans > 0 {
            self.failures
                .push(format!("{spans} spans of {place} not delivered: {why}"));
        }
        self.last_error = Some(why.to_owned());
    }
}

/// A batch and where its lines came from (`file:first-last`).
struct Parcel {
    batch: Batch,
    place: String,
}

/// The sending thread.
pub(crate) struct Shipper {
    tx: Option<SyncSender<Parcel>>,
    worker: Option<JoinHandle<Shipped>>,
    /// Batches that could not be handed over.
    lost: Shipped,
    /// Sent batches, handed back to be freed here (see [`Spent`]).
    spent: Receiver<Spent>,
}

impl Shipper {
    /// Starts the thread that sends to `client`, every batch under `resource`.
    pub(crate) fn start(
        client: Client,
        resource: Vec<KeyValue>,
        pieces: Pieces,
    ) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::sync_channel::<Parcel>(1);
        let (give_back, spent) = mpsc::channel::<Spent>();
        let worker = std::thread::Builder::new()
            .name("agentlog-export-send".into())
            .spawn(move || {
                let mut shipped = Shipped::default();
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                let runtime = match runtime {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let why = format!("the export's runtime could not start: {e}");
                        for mut parcel in rx {
                            shipped.lost(&parcel.batch, &parcel.place, &why);
                            let _ = parcel.batch.take(&[]);
                        }
                        return shipped;
                    }
                };
                let mut wire = Wire {
                    client: &client,
                    resource: &resource,
                    pieces,
                };
                for mut parcel in rx {
                    let (delivery, sent) =
                        runtime.block_on(wire.deliver_keeping(&mut parcel.batch));
                    shipped.add(delivery, &parcel.place);
                    // Gone with the mapping thread: then freed here.
                    if let Some(sent) = sent {
                        let _ = give_back.send(sent);
                    }
                }
                shipped
            })?;
        Ok(Shipper {
            tx: Some(tx),
            worker: Some(worker),
            lost: Shipped::default(),
            spent,
        })
    }

    /// Hands `batch` over (waits while another one is already waiting) and leaves it empty.
    pub(crate) fn ship(&mut self, batch: &mut Batch) {
        if batch.is_empty() {
            return;
        }
        // At most a batch or two come back between two calls: the sender waits on this one.
        self.spent.try_iter().for_each(drop);
        let place = batch.place();
        let parcel = Parcel {
            batch: std::mem::take(batch),
            place,
        };
        let refused = match &self.tx {
            Some(tx) => tx.send(parcel).err().map(|e| e.0),
            None => Some(parcel),
        };
        if let Some(parcel) = refused {
            self.lost
                .lost(&parcel.batch, &parcel.place, "the export's sender stopped");
        }
    }

    /// Waits until every batch handed over was sent; what they came to.
    pub(crate) fn finish(mut self) -> Shipped {
        self.tx.take();
        let mut shipped = match self.worker.take().map(JoinHandle::join) {
            Some(Ok(shipped)) => shipped,
            _ => Shipped {
                last_error: Some("the export's sender stopped".to_owned()),
                ..Shipped::default()
            },
        };
        let lost = std::mem::take(&mut self.lost);
        shipped.failed += lost.failed;
        shipped.failures.extend(lost.failures);
        if lost.last_error.is_some() {
            shipped.last_error = lost.last_error;
        }
        shipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Retry;
    use opentelemetry_proto::tonic::logs::v1::LogRecord;

    #[test]
    fn every_batch_handed_over_is_accounted_for_with_its_lines() {
        // Nothing listens on the port: each batch fails after one try, and each failure
        // names the batch's lines, in the order the batches were handed over.
        let retry = Retry {
            attempts: 1,
            ..Retry::default()
        };
        let mut shipper = Shipper::start(
            crate::client::client_to_nobody(retry),
            Vec::new(),
            Pieces::new(agentlog_validate::secrets::redact::Redactor::none()),
        )
        .unwrap();
        for first in [1u64, 4, 7] {
            let mut batch = Batch::default();
            for line in first..first + 3 {
                batch.push(LogRecord::default(), None, "events.jsonl", line);
            }
            shipper.ship(&mut batch);
            assert!(batch.is_empty());
        }
        let shipped = shipper.finish();
        assert_eq!((shipped.records, shipped.failed), (0, 9));
        let places: Vec<&str> = shipped
            .failures
            .iter()
            .map(|f| f.split(" not delivered").next().unwrap_or_default())
            .collect();
        assert_eq!(
            places,
            [
                "3 log records of events.jsonl:1-3",
                "3 log records of events.jsonl:4-6",
                "3 log records of events.jsonl:7-9"
            ]
        );
        assert!(shipped.last_error.is_some());
    }
}
