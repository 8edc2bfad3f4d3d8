//! # agentlog-testkit
//!
//! Test kit: a TLS fixture in front of a mock LLM upstream, and an in-process proxy wired to
//! it. Public so the conformance harness, `agentlog demo`, benchmarks and ports reuse it.
//!
//! ```text
//!  reqwest ──HTTPS_PROXY──▶ agentlog proxy ──TLS (test CA)──▶ TlsFixture ──http──▶ wiremock
//!                          (--connect-to api.openai.com:443=127.0.0.1:N, --upstream-ca)
//! ```
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

use agentlog_core::emitter::Emitter;
use agentlog_core::event::{CheckedEvent, Event};
use agentlog_core::secrets::{HostPattern, Secret};
use agentlog_core::sink::{JsonlWriter, MemorySink, Sink, SinkError};
use agentlog_intercept::{
    BoxBody, BoxError, Budget, CertAuthority, DEFAULT_SHUTDOWN_GRACE, HostGate, Injector,
    LogErrorPolicy, PriceTable, Profile, Proxy, ProxyConfig, Routes, RunningProxy, ShutdownReport,
    Timeouts, install_default_provider,
};

/// Host names the fixture's certificate covers.
pub const FIXTURE_HOSTS: [&str; 4] = [
    "api.openai.com",
    "api.anthropic.com",
    "localhost",
    "127.0.0.1",
];

/// Why the test kit could not start something.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestkitError {
    /// Socket or file I/O.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The proxy's CA.
    #[error(transparent)]
    Ca(#[from] agentlog_intercept::CaError),
    /// The proxy.
    #[error(transparent)]
    Proxy(#[from] agentlog_intercept::ProxyError),
    /// A secret spec or placeholder.
    #[error("secret: {0}")]
    Secret(String),
    /// A `--route` spec.
    #[error("{0}")]
    Route(String),
    /// The HTTP client.
    #[error("client: {0}")]
    Client(#[from] reqwest::Error),
    /// Sink or emitter.
    #[error("event log: {0}")]
    Log(String),
    /// [`TestProxy::wait_events`]: fewer events than expected were written before the
    /// deadline. The message names the types of the events that did arrive, never their data.
    #[error(
        "expected at least {expected} events within {timeout:?}, got {}{}",
        arrived.len(),
        type_list(arrived)
    )]
    TooFewEvents {
        /// How many events were waited for.
        expected: usize,
        /// How long.
        timeout: Duration,
        /// The `event_type` of each event written by then, in order.
        arrived: Vec<String>,
    },
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

/// `: a, b` (or nothing for no events), for [`TestkitError::TooFewEvents`].
fn type_list(types: &[String]) -> String {
    if types.is_empty() {
        String::new()
    } else {
        format!(": {}", types.join(", "))
    }
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
    pub async fn start() -> Result<Self, TestkitError> {
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
    /// response head not sent); [`TestkitError::TooFewHeld`] after `timeout`. Event-driven:
    /// the front counts arrivals in a [`watch`] channel.
    pub async fn wait_held(&self, n: usize, timeout: Duration) -> Result<(), TestkitError> {
        let mut held = self.held.subscribe();
        let reached = tokio::time::timeout(timeout, held.wait_for(|&count| count >= n)).await;
        match reached {
            Ok(Ok(_)) => Ok(()),
            _ => Err(TestkitError::TooFewHeld {
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

/// How [`start_proxy`] configures the proxy: `ProxyOptions::default()` and the `with_*`
/// methods (the struct grows, so it is `#[non_exhaustive]`).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ProxyOptions {
    /// Secret specs, `NAME=VALUE@hosts`.
    pub secrets: Vec<String>,
    /// Fixed placeholders, `(NAME, PLACEHOLDER)`.
    pub placeholders: Vec<(String, String)>,
    /// Extra LLM host globs.
    pub llm_hosts: Vec<String>,
    /// Time limits (defaults when `None`).
    pub timeouts: Option<Timeouts>,
    /// Also write events to this JSONL file.
    pub event_log: Option<std::path::PathBuf>,
    /// Extra `--connect-to` entries (override the fixture's).
    pub connect_to: Vec<(String, String)>,
    /// Run id (default `vm-7e57c0de`).
    pub run_id: Option<String>,
    /// Inject secrets into cleartext `http://` requests too.
    pub allow_cleartext_injection: bool,
    /// Largest LLM request body (default: the proxy's).
    pub max_request_body: Option<usize>,
    /// What a failed event write does (default: block).
    pub on_log_error: LogErrorPolicy,
    /// Event profile (default v0).
    pub profile: Profile,
    /// `--allow-host` globs (v1).
    pub allow_hosts: Vec<String>,
    /// `--route` specs, `HOST=ADDR:PORT` (v1).
    pub routes: Vec<String>,
    /// The price table (default: the built-in one).
    pub prices: Option<Arc<PriceTable>>,
    /// The budget gate (default: none).
    pub budget: Option<Arc<Budget>>,
    /// Sinks the proxy writes to besides its own memory and [`ProxyOptions::event_log`]
    /// (a sink that fails on purpose, say), after the file and before memory.
    pub sinks: Vec<ExtraSink>,
}

/// A sink given to [`start_proxy`] besides its own ([`ProxyOptions::with_sink`]).
#[derive(Clone)]
pub struct ExtraSink(pub Arc<dyn Sink>);

impl std::fmt::Debug for ExtraSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExtraSink(..)")
    }
}

impl ProxyOptions {
    /// Sets [`ProxyOptions::secrets`].
    #[must_use]
    pub fn with_secrets(mut self, secrets: Vec<String>) -> Self {
        self.secrets = secrets;
        self
    }

    /// Sets [`ProxyOptions::placeholders`].
    #[must_use]
    pub fn with_placeholders(mut self, placeholders: Vec<(String, String)>) -> Self {
        self.placeholders = placeholders;
        self
    }

    /// Sets [`ProxyOptions::llm_hosts`].
    #[must_use]
    pub fn with_llm_hosts(mut self, llm_hosts: Vec<String>) -> Self {
        self.llm_hosts = llm_hosts;
        self
    }

    /// Sets [`ProxyOptions::timeouts`].
    #[must_use]
    pub fn with_timeouts(mut self, timeouts: Option<Timeouts>) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Sets [`ProxyOptions::event_log`].
    #[must_use]
    pub fn with_event_log(mut self, event_log: Option<std::path::PathBuf>) -> Self {
        self.event_log = event_log;
        self
    }

    /// Sets [`ProxyOptions::connect_to`].
    #[must_use]
    pub fn with_connect_to(mut self, connect_to: Vec<(String, String)>) -> Self {
        self.connect_to = connect_to;
        self
    }

    /// Sets [`ProxyOptions::allow_cleartext_injection`].
    #[must_use]
    pub fn with_allow_cleartext_injection(mut self, allow: bool) -> Self {
        self.allow_cleartext_injection = allow;
        self
    }

    /// Sets [`ProxyOptions::on_log_error`].
    #[must_use]
    pub fn with_on_log_error(mut self, policy: LogErrorPolicy) -> Self {
        self.on_log_error = policy;
        self
    }

    /// Sets [`ProxyOptions::max_request_body`].
    #[must_use]
    pub fn with_max_request_body(mut self, bytes: usize) -> Self {
        self.max_request_body = Some(bytes);
        self
    }

    /// Sets [`ProxyOptions::profile`].
    #[must_use]
    pub fn with_profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// Sets [`ProxyOptions::allow_hosts`].
    #[must_use]
    pub fn with_allow_hosts(mut self, globs: Vec<String>) -> Self {
        self.allow_hosts = globs;
        self
    }

    /// Sets [`ProxyOptions::routes`].
    #[must_use]
    pub fn with_routes(mut self, routes: Vec<String>) -> Self {
        self.routes = routes;
        self
    }

    /// Sets [`ProxyOptions::prices`].
    #[must_use]
    pub fn with_prices(mut self, prices: Arc<PriceTable>) -> Self {
        self.prices = Some(prices);
        self
    }

    /// Sets [`ProxyOptions::budget`].
    #[must_use]
    pub fn with_budget(mut self, budget: Option<Arc<Budget>>) -> Self {
        self.budget = budget;
        self
    }

    /// Sets [`ProxyOptions::run_id`].
    #[must_use]
    pub fn with_run_id(mut self, run_id: Option<String>) -> Self {
        self.run_id = run_id;
        self
    }

    /// Adds a sink to [`ProxyOptions::sinks`].
    #[must_use]
    pub fn with_sink(mut self, sink: Arc<dyn Sink>) -> Self {
        self.sinks.push(ExtraSink(sink));
        self
    }
}

/// How long [`TestProxy::wait_events`] waits.
pub const WAIT_EVENTS_TIMEOUT: Duration = Duration::from_secs(5);

/// The proxy's in-memory sink: a [`MemorySink`] that also counts the events it stored, so
/// [`TestProxy::wait_events`] wakes on each write instead of polling.
#[derive(Debug)]
struct CountingSink {
    memory: MemorySink,
    /// Events stored so far; bumped after the event is in `memory`.
    written: watch::Sender<usize>,
}

impl CountingSink {
    fn new() -> Self {
        CountingSink {
            memory: MemorySink::new(),
            written: watch::Sender::new(0),
        }
    }
}

impl Sink for CountingSink {
    fn write(&self, event: CheckedEvent<'_>) -> Result<(), SinkError> {
        self.memory.write(event)?;
        self.written.send_modify(|n| *n += 1);
        Ok(())
    }

    fn close(&self) -> Result<(), SinkError> {
        self.memory.close()
    }
}

/// A proxy running in-process, wired to a [`TlsFixture`].
#[derive(Debug)]
pub struct TestProxy {
    running: RunningProxy,
    ca: Arc<CertAuthority>,
    memory: Arc<CountingSink>,
    writer: Option<Arc<JsonlWriter>>,
    emitter: Emitter,
    placeholders: Vec<(String, String)>,
}

/// Starts a proxy on `127.0.0.1:0` trusting the fixture CA and resolving the fixture hosts
/// to it. Events go to memory (and to `options.event_log` when set).
pub async fn start_proxy(
    fixture: &TlsFixture,
    options: ProxyOptions,
) -> Result<TestProxy, TestkitError> {
    install_default_provider();
    let secrets = options
        .secrets
        .iter()
        .map(|s| Secret::parse(s, |n| std::env::var(n).ok()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TestkitError::Secret(e.to_string()))?;
    let injector = Injector::new(secrets, &options.placeholders)
        .map_err(|e| TestkitError::Secret(e.to_string()))?;
    let placeholders = injector
        .placeholders()
        .map(|(n, p)| (n.to_owned(), p.to_owned()))
        .collect();
    let memory = Arc::new(CountingSink::new());
    // The file first: the emitter writes sinks in order, so once `wait_events` sees an
    // event in memory, the file holds it too.
    let mut sinks: Vec<Arc<dyn Sink>> = Vec::new();
    let writer = match &options.event_log {
        Some(path) => {
            let w =
                Arc::new(JsonlWriter::open(path).map_err(|e| TestkitError::Log(e.to_string()))?);
            sinks.push(w.clone());
            Some(w)
        }
        None => None,
    };
    sinks.extend(options.sinks.iter().map(|s| s.0.clone()));
    sinks.push(memory.clone());
    let run_id = options
        .run_id
        .clone()
        .unwrap_or_else(|| "vm-7e57c0de".into());
    let emitter =
        Emitter::new(run_id, "testkit", sinks).map_err(|e| TestkitError::Log(e.to_string()))?;
    let ca = Arc::new(CertAuthority::generate()?);
    let mut config = ProxyConfig::new(emitter.clone(), ca.clone());
    config.injector = injector;
    config.llm_hosts = options.llm_hosts.iter().map(HostPattern::new).collect();
    config.upstream_roots = vec![fixture.ca_der().clone()];
    config.connect_to = fixture.connect_to();
    config.connect_to.extend(options.connect_to.iter().cloned());
    if let Some(t) = options.timeouts {
        config.timeouts = t;
    }
    if let Some(bytes) = options.max_request_body {
        config.max_request_body = bytes;
    }
    config.allow_cleartext_injection = options.allow_cleartext_injection;
    config.on_log_error = options.on_log_error;
    config.profile = options.profile;
    config.gate = HostGate::from_globs(&options.allow_hosts);
    config.routes =
        Routes::parse(&options.routes).map_err(|e| TestkitError::Route(e.to_string()))?;
    if let Some(prices) = &options.prices {
        config.prices = prices.clone();
    }
    config.budget = options.budget.clone();
    let running = Proxy::new(config)?.bind(([127, 0, 0, 1], 0).into()).await?;
    Ok(TestProxy {
        running,
        ca,
        memory,
        writer,
        emitter,
        placeholders,
    })
}

impl TestProxy {
    /// The proxy's address.
    pub fn addr(&self) -> SocketAddr {
        self.running.local_addr()
    }

    /// The proxy URL for `HTTPS_PROXY`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// The proxy's interception CA.
    pub fn ca(&self) -> &Arc<CertAuthority> {
        &self.ca
    }

    /// The placeholder of secret `name`.
    pub fn placeholder(&self, name: &str) -> Option<&str> {
        self.placeholders
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.as_str())
    }

    /// The emitter the proxy writes with.
    pub fn emitter(&self) -> &Emitter {
        &self.emitter
    }

    /// A reqwest client that goes through the proxy and trusts only its CA.
    pub fn client(&self) -> Result<reqwest::Client, TestkitError> {
        let ca = reqwest::Certificate::from_pem(self.ca.cert_pem().as_bytes())?;
        Ok(reqwest::Client::builder()
            .proxy(reqwest::Proxy::all(self.url())?)
            .tls_certs_only([ca])
            .timeout(Duration::from_secs(30))
            .build()?)
    }

    /// Events written so far.
    pub fn events(&self) -> Vec<Event> {
        self.memory.memory.events()
    }

    /// Waits until at least `n` events were written and returns all written by then; fails
    /// with [`TestkitError::TooFewEvents`] after [`WAIT_EVENTS_TIMEOUT`] (5 s).
    ///
    /// Only proves that *at least* `n` arrived: to prove that no further event comes, finish
    /// the exchanges, then count what [`TestProxy::shutdown`] returns.
    pub async fn wait_events(&self, n: usize) -> Result<Vec<Event>, TestkitError> {
        self.wait_events_within(n, WAIT_EVENTS_TIMEOUT).await
    }

    /// [`TestProxy::wait_events`] with another deadline.
    ///
    /// Event-driven: the proxy's memory sink counts its writes in a [`watch`] channel, and
    /// this waits on that count (no polling, no sleep).
    pub async fn wait_events_within(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<Event>, TestkitError> {
        let mut written = self.memory.written.subscribe();
        // `wait_for` checks the current count first; the sender lives as long as `self`.
        let reached = tokio::time::timeout(timeout, written.wait_for(|&count| count >= n)).await;
        let events = self.events();
        match reached {
            Ok(Ok(_)) if events.len() >= n => Ok(events),
            _ => Err(TestkitError::TooFewEvents {
                expected: n,
                timeout,
                arrived: events
                    .iter()
                    .map(|e| e.event_type.as_str().to_owned())
                    .collect(),
            }),
        }
    }

    /// Shuts the proxy down (in-flight exchanges get [`DEFAULT_SHUTDOWN_GRACE`]), closes the
    /// event log (fsync) and returns every event written.
    ///
    /// When it returns, no task of the proxy can write another event: the count it returns
    /// is final, and asserting on it proves that no extra event was written.
    pub async fn shutdown(self) -> Result<Vec<Event>, TestkitError> {
        self.shutdown_with_grace(DEFAULT_SHUTDOWN_GRACE)
            .await
            .map(|(_, events)| events)
    }

    /// [`TestProxy::shutdown`] with another grace period; also returns what the shutdown did.
    pub async fn shutdown_with_grace(
        self,
        grace: Duration,
    ) -> Result<(ShutdownReport, Vec<Event>), TestkitError> {
        let report = self.running.shutdown_with_grace(grace).await;
        if let Some(w) = &self.writer {
            w.close().map_err(|e| TestkitError::Log(e.to_string()))?;
        }
        Ok((report, self.memory.memory.events()))
    }
}
