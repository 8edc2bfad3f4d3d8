//! # agentlog-mock-upstream
//!
//! The mock LLM upstream that `agentlog demo` and the interceptor harness
//! (`agentlog conformance proxy`) run a proxy against: canned OpenAI and Anthropic answers
//! on a wiremock [`MockServer`] ([`mocks`]), and the [`TlsFixture`], a TLS front that makes
//! that server answer as `https://api.openai.com` and `https://api.anthropic.com` on
//! loopback, under a CA of its own.
//!
//! ```text
//!  client ──HTTPS_PROXY──▶ proxy ──TLS (fixture CA)──▶ TlsFixture ──http──▶ wiremock (mocks)
//!           (--connect-to api.openai.com:443=127.0.0.1:N, --upstream-ca <fixture CA>)
//! ```
//!
//! It ships: the `agentlog` binary (for `demo`) and `agentlog-conformance` (for the
//! interceptor harness) depend on it, and with it on wiremock, which is the mock server.
//! Helpers only tests use (an in-process proxy wired to this fixture, waiting for its
//! events) are the dev-only crate `agentlog-testkit`.
//!
//! The [`TlsFixture`] presents one certificate for `api.openai.com`, `api.anthropic.com`,
//! `localhost` and `127.0.0.1`, signed by its own test CA ([`TlsFixture::ca_pem`]). It
//! forwards every request to a wiremock [`MockServer`] with the [`mocks`] mounted, except
//! requests carrying `x-testkit-stream`, which it answers itself with timed SSE chunks:
//!
//! - `gated`: first chunk at once, the last only after [`TlsFixture::release`];
//! - `slow`: five chunks, `x-testkit-delay-ms` apart (default 50);
//! - `truncated`: one chunk, then the connection is reset mid-body;
//! - `done-then-hold`: one chunk and the final chunk with `data: [DONE]` at once, then the
//!   body stays open until [`TlsFixture::release`] (a client may hang up after `[DONE]`);
//! - `head-held`: the request is read whole and counted ([`TlsFixture::wait_held`]: the
//!   upstream has it), then no response head is sent until [`TlsFixture::release`] (a slow
//!   model a client may give up on).
//!
//! The request headers that steer the mock (`x-testkit-stream`, `x-testkit-status`,
//! `x-testkit-encoding`, `x-testkit-delay-ms`) keep their names: conformance scenarios send
//! them.
//!
//! Everything listens on loopback; no real network is used.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod mocks;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::CertificateDer;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use wiremock::MockServer;

use agentlog_intercept::{BoxBody, BoxError, CertAuthority, install_default_provider};

/// Host names the fixture's certificate covers.
pub const FIXTURE_HOSTS: [&str; 4] = [
    "api.openai.com",
    "api.anthropic.com",
    "localhost",
    "127.0.0.1",
];

/// Why the fixture could not start, or a wait on it ran out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FixtureError {
    /// Socket I/O.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The fixture's CA.
    #[error(transparent)]
    Ca(#[from] agentlog_intercept::CaError),
    /// [`TlsFixture::wait_held`]: fewer `head-held` requests than expected reached the
    /// fixture before the deadline.
    #[error(
        "expected {expected} held request(s) at the upstream within {timeout:?}, got {arrived}"
    )]
    TooFewHeld {
        /// How many requests were waited for.
        expected: usize,
        /// How long.
        timeout: Duration,
        /// How many had arrived.
        arrived: usize,
    },
}

/// The TLS front plus its mock upstream.
pub struct TlsFixture {
    mock: MockServer,
    addr: SocketAddr,
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    gate: Arc<Semaphore>,
    held: Arc<watch::Sender<usize>>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for TlsFixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsFixture")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for TlsFixture {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TlsFixture {
    /// Starts wiremock (with [`mocks::mount_defaults`]) and the TLS front on `127.0.0.1`.
    pub async fn start() -> Result<Self, FixtureError> {
        install_default_provider();
        let mock = MockServer::start().await;
        mocks::mount_defaults(&mock).await;

        // The same CA code the proxy uses (one home for certificate minting): a CA held in
        // memory, and a leaf per SNI name (IP literals without SNI get the fallback's IP SAN).
        let ca = Arc::new(CertAuthority::generate()?);
        for host in FIXTURE_HOSTS {
            ca.leaf(host)?;
        }
        let config = ca.server_config("127.0.0.1", &[b"h2", b"http/1.1"])?;
        let acceptor = TlsAcceptor::from(Arc::new(config));

        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let gate = Arc::new(Semaphore::new(0));
        let held = Arc::new(watch::Sender::new(0));
        let front = Front {
            mock_uri: mock.uri(),
            client: Client::builder(TokioExecutor::new()).build(mock_connector()),
            gate: gate.clone(),
            held: held.clone(),
        };
        let front = Arc::new(front);
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let _ = tcp.set_nodelay(true);
                let (acceptor, front) = (acceptor.clone(), front.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = service_fn(move |req| {
                        let front = front.clone();
                        async move { Ok::<_, Infallible>(front.handle(req).await) }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Ok(TlsFixture {
            mock,
            addr,
            ca_pem: ca.cert_pem().to_owned(),
            ca_der: ca.cert_der().clone(),
            gate,
            held,
            task,
        })
    }

    /// The wiremock server behind the front (mount more mocks, inspect received requests).
    pub fn mock(&self) -> &MockServer {
        &self.mock
    }

    /// The TLS front's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The fixture CA certificate in PEM (the proxy's `--upstream-ca`).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The fixture CA certificate in DER.
    pub fn ca_der(&self) -> &CertificateDer<'static> {
        &self.ca_der
    }

    /// `--connect-to` entries: port 443 of the fixture hosts to the TLS front, port 80 of the
    /// LLM hosts to wiremock directly (plain `http://`).
    pub fn connect_to(&self) -> HashMap<String, String> {
        let mut map = HashMap::new();
        let mock = self.mock.address().to_string();
        for host in ["api.openai.com", "api.anthropic.com"] {
            map.insert(format!("{host}:443"), self.addr.to_string());
            map.insert(format!("{host}:80"), mock.clone());
        }
        map
    }

    /// Lets one held `gated` stream send its last chunk (or one `head-held` request its
    /// response).
    pub fn release(&self) {
        self.gate.add_permits(1);
    }

    /// Waits until at least `n` `head-held` requests reached the fixture (read whole, their
    /// response head not sent); [`FixtureError::TooFewHeld`] after `timeout`. Event-driven:
    /// the front counts arrivals in a [`watch`] channel.
    pub async fn wait_held(&self, n: usize, timeout: Duration) -> Result<(), FixtureError> {
        let mut held = self.held.subscribe();
        let reached = tokio::time::timeout(timeout, held.wait_for(|&count| count >= n)).await;
        match reached {
            Ok(Ok(_)) => Ok(()),
            _ => Err(FixtureError::TooFewHeld {
                expected: n,
                timeout,
                arrived: *self.held.borrow(),
            }),
        }
    }
}

/// The front's connector to wiremock. `TCP_NODELAY` matters here: a request that arrives
/// over h2 (as it does from the proxy, whose upstream client negotiates h2) reaches this
/// HTTP/1.1 leg as a head and a body in separate writes, and with Nagle the body waited for
/// wiremock's delayed ACK (~40 ms) on about one request in six.
fn mock_connector() -> HttpConnector {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http
}

struct Front {
    mock_uri: String,
    client: Client<HttpConnector, Incoming>,
    gate: Arc<Semaphore>,
    /// `head-held` requests received so far.
    held: Arc<watch::Sender<usize>>,
}

fn sse_chunk(i: usize) -> Bytes {
    Bytes::from(format!(
        "data: {{\"object\":\"chat.completion.chunk\",\"model\":\"{}\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"part{i} \"}}}}]}}\n\n",
        mocks::OPENAI_MODEL
    ))
}

fn sse_final() -> Bytes {
    Bytes::from(format!(
        "data: {{\"object\":\"chat.completion.chunk\",\"model\":\"{}\",\"choices\":[],\"usage\":{{\"prompt_tokens\":4,\"completion_tokens\":6}}}}\n\ndata: [DONE]\n\n",
        mocks::OPENAI_MODEL
    ))
}

enum Step {
    Send(Bytes),
    Wait(Duration),
    Gate,
    Fail,
}

fn scripted(steps: Vec<Step>, gate: Arc<Semaphore>) -> Response<BoxBody> {
    let stream =
        futures_util::stream::unfold((steps.into_iter(), gate), |(mut steps, gate)| async move {
            loop {
                match steps.next()? {
                    Step::Send(bytes) => return Some((Ok(Frame::data(bytes)), (steps, gate))),
                    Step::Wait(d) => tokio::time::sleep(d).await,
                    Step::Gate => {
                        if let Ok(Ok(permit)) =
                            tokio::time::timeout(Duration::from_secs(30), gate.acquire()).await
                        {
                            permit.forget();
                        }
                    }
                    Step::Fail => {
                        let e: BoxError = "testkit: truncated stream".into();
                        return Some((Err(e), (steps, gate)));
                    }
                }
            }
        });
    let mut resp = Response::new(BodyExt::boxed_unsync(StreamBody::new(stream)));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/event-stream"),
    );
    resp
}

impl Front {
    async fn handle(&self, req: Request<Incoming>) -> Response<BoxBody> {
        let mode = req
            .headers()
            .get("x-testkit-stream")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if let Some(mode) = mode {
            let delay = req
                .headers()
                .get("x-testkit-delay-ms")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or(50);
            // Drain the request body first so the connection stays usable.
            let _ = req.into_body().collect().await;
            if mode == "head-held" {
                self.held.send_modify(|n| *n += 1);
                if let Ok(Ok(permit)) =
                    tokio::time::timeout(Duration::from_secs(30), self.gate.acquire()).await
                {
                    permit.forget();
                }
            }
            let steps = match mode.as_str() {
                "gated" => vec![
                    Step::Send(sse_chunk(0)),
                    Step::Gate,
                    Step::Send(sse_final()),
                ],
                "head-held" => vec![Step::Send(sse_chunk(0)), Step::Send(sse_final())],
                "done-then-hold" => vec![
                    Step::Send(sse_chunk(0)),
                    Step::Send(sse_final()),
                    Step::Gate,
                ],
                "truncated" => vec![
                    Step::Send(sse_chunk(0)),
                    Step::Wait(Duration::from_millis(20)),
                    Step::Fail,
                ],
                _ => {
                    let mut steps = Vec::new();
                    for i in 0..5 {
                        steps.push(Step::Send(sse_chunk(i)));
                        steps.push(Step::Wait(Duration::from_millis(delay)));
                    }
                    steps.push(Step::Send(sse_final()));
                    steps
                }
            };
            return scripted(steps, self.gate.clone());
        }
        let (mut parts, body) = req.into_parts();
        let pq = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
        let Ok(uri) = format!("{}{pq}", self.mock_uri).parse() else {
            return status(StatusCode::BAD_REQUEST);
        };
        parts.uri = uri;
        parts.version = http::Version::HTTP_11;
        parts.headers.remove(http::header::HOST);
        match self.client.request(Request::from_parts(parts, body)).await {
            Ok(resp) => resp.map(|b| b.map_err(BoxError::from).boxed_unsync()),
            Err(_) => status(StatusCode::BAD_GATEWAY),
        }
    }
}

fn status(code: StatusCode) -> Response<BoxBody> {
    let mut resp = Response::new(
        http_body_util::Empty::new()
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *resp.status_mut() = code;
    resp
}
