//! Sending: one POST per batch and signal, retried with backoff on the answers the OTLP
//! specification calls retryable (429, 502, 503, 504, and no answer at all), at most
//! [`Retry::attempts`] times; any other answer fails the batch at once.

use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;

use crate::config::{Endpoint, Protocol};

/// How often and how long to try.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// Tries per batch, the first included (at least 1).
    pub attempts: u32,
    /// The wait before the second try; it doubles each time.
    pub first_backoff: Duration,
    /// The longest wait between tries (a `Retry-After` is capped to it too).
    pub max_backoff: Duration,
    /// The time one request may take.
    pub timeout: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 5,
            first_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Why a batch was not delivered. The messages name the endpoint's signal and the answer,
/// never a header.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The collector answered with a status that is not retried, or kept answering with one
    /// that is until the tries ran out.
    #[error("{signal}: the collector answered {status} ({tries} {})", if *tries == 1 { "try" } else { "tries" })]
    Status {
        /// `logs` or `traces`.
        signal: &'static str,
        /// The last HTTP status.
        status: u16,
        /// Tries made.
        tries: u32,
    },
    /// No answer (connection refused, a timeout, TLS) until the tries ran out.
    #[error("{signal}: no answer from the collector after {tries} {}: {reason}", if *tries == 1 { "try" } else { "tries" })]
    Unreachable {
        /// `logs` or `traces`.
        signal: &'static str,
        /// What the last try met.
        reason: String,
        /// Tries made.
        tries: u32,
    },
    /// The HTTP client could not be built.
    #[error("the HTTP client: {0}")]
    Client(String),
}

/// What the collector said of a delivered batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Accepted {
    /// Items the collector said it rejected (OTLP's partial success).
    pub rejected: u64,
}

/// A client of one collector.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    endpoint: Endpoint,
    retry: Retry,
}

impl Client {
    /// A client of `endpoint`; HTTPS trusts the platform's roots.
    pub fn new(endpoint: Endpoint, retry: Retry) -> Result<Self, SendError> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        // A collector never redirects; following one would carry the headers (credentials)
        // and the URL to another host. A 3xx fails the batch like any other answer.
        let http = reqwest::Client::builder()
            .timeout(retry.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SendError::Client(e.to_string()))?;
        Ok(Client {
            http,
            endpoint,
            retry,
        })
    }

    /// The endpoint it sends to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Sends log records.
    pub async fn send_logs(
        &self,
        request: &ExportLogsServiceRequest,
    ) -> Result<Accepted, SendError> {
        let answer = self
            .post("logs", &self.endpoint.logs, self.encode(request)?)
            .await?;
        let protobuf = |a: &[u8]| {
            ExportLogsServiceResponse::decode(a)
                .ok()
                .and_then(|r| r.partial_success)
                .map(|p| p.rejected_log_records)
        };
        Ok(self.accepted(&answer, protobuf, "rejectedLogRecords"))
    }

    /// Sends spans.
    pub async fn send_spans(
        &self,
        request: &ExportTraceServiceRequest,
    ) -> Result<Accepted, SendError> {
        let answer = self
            .post("traces", &self.endpoint.traces, self.encode(request)?)
            .await?;
        let protobuf = |a: &[u8]| {
            ExportTraceServiceResponse::decode(a)
                .ok()
                .and_then(|r| r.partial_success)
                .map(|p| p.rejected_spans)
        };
        Ok(self.accepted(&answer, protobuf, "rejectedSpans"))
    }

    /// What a collector's answer says it rejected: `protobuf` reads a protobuf answer,
    /// `json_field` names the count in an OTLP/JSON one.
    fn accepted(
        &self,
        answer: &[u8],
        protobuf: impl Fn(&[u8]) -> Option<i64>,
        json_field: &str,
    ) -> Accepted {
        let rejected = match self.endpoint.protocol {
            Protocol::Protobuf => protobuf(answer),
            Protocol::Json => json_rejected(answer, json_field),
        };
        Accepted {
            rejected: rejected.map_or(0, |n| u64::try_from(n).unwrap_or(0)),
        }
    }

    fn encode<M: Message + serde::Serialize>(&self, message: &M) -> Result<Vec<u8>, SendError> {
        match self.endpoint.protocol {
            Protocol::Protobuf => Ok(message.encode_to_vec()),
            Protocol::Json => {
                serde_json::to_vec(message).map_err(|e| SendError::Client(e.to_string()))
            }
        }
    }

    /// POSTs `body`, retrying as the module says; the answer's body on success.
    async fn post(
        &self,
        signal: &'static str,
        url: &str,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, SendError> {
        let attempts = self.retry.attempts.max(1);
        let mut backoff = self.retry.first_backoff;
        let mut tries = 0;
        loop {
            tries += 1;
            let mut request = self
                .http
                .post(url)
                .header("content-type", self.endpoint.protocol.content_type())
                .body(body.clone());
            for (key, value) in &self.endpoint.headers {
                request = request.header(key.as_str(), value.as_str());
            }
            let failure = match request.send().await {
                Ok(response) if response.status().is_success() => {
                    return Ok(answer_of(response).await);
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    let wait = retry_after(&response);
                    if !matches!(status, 429 | 502 | 503 | 504) || tries >= attempts {
                        return Err(SendError::Status {
                            signal,
                            status,
                            tries,
                        });
                    }
                    wait
                }
                Err(e) if tries >= attempts => {
                    return Err(SendError::Unreachable {
                        signal,
                        reason: reason(&e),
                        tries,
                    });
                }
                Err(_) => None,
            };
            let wait = failure.unwrap_or(backoff).min(self.retry.max_backoff);
            tokio::time::sleep(wait).await;
            backoff = backoff.saturating_mul(2).min(self.retry.max_backoff);
        }
    }
}

/// The most of an answer's body that is read: a partial-success message is small, and a
/// collector that answers with an endless body must not fill the memory of the proxy behind
/// the export.
const MAX_ANSWER: usize = 64 << 10;

/// The first [`MAX_ANSWER`] bytes of an answer's body (the rest is not read).
async fn answer_of(mut response: reqwest::Response) -> Vec<u8> {
    let mut answer = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = MAX_ANSWER.saturating_sub(answer.len());
        answer.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
        if answer.len() >= MAX_ANSWER {
            break;
        }
    }
    answer
}

/// `partialSuccess.<field>` of an OTLP/JSON answer, written as a number or, as the JSON
/// mapping writes 64-bit integers, a string.
fn json_rejected(answer: &[u8], field: &str) -> Option<i64> {
    let value: serde_json::Value = serde_json::from_slice(answer).ok()?;
    match value.get("partialSuccess")?.get(field)? {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A `Retry-After` of whole seconds.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get("retry-after")?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// What a failed request met, without the URL (it may carry credentials).
fn reason(e: &reqwest::Error) -> String {
    let kind = if e.is_connect() {
        "could not connect"
    } else if e.is_timeout() {
        "timed out"
    } else {
        "the request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut deepest = None;
    while let Some(s) = source {
        deepest = Some(s.to_string());
        source = s.source();
    }
    match deepest {
        Some(cause) => format!("{kind} ({cause})"),
        None => kind.to_owned(),
    }
}

/// A client of a loopback port nothing listens on: every send fails after its tries. For
/// the tests of what a failed delivery reports.
#[cfg(test)]
pub(crate) fn client_to_nobody(retry: Retry) -> Client {
    use crate::config::Protocol;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9);
    let endpoint = Endpoint::new(&format!("http://127.0.0.1:{port}"), Protocol::Protobuf);
    #[allow(clippy::expect_used)] // a test helper: a failure here is a failed test
    Client::new(endpoint.expect("a loopback endpoint"), retry).expect("a client")
}
