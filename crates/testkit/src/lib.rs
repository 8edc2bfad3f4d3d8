//! # agentlog-testkit
//!
//! Test-only helpers, a dev-dependency and never shipped: an in-process proxy wired to the
//! mock upstream's [`TlsFixture`] ([`start_proxy`]), its events kept in memory and waited
//! for ([`TestProxy::wait_events`]). The intercept crate's tests and its latency benchmark
//! use it.
//!
//! ```text
//!  reqwest ──HTTPS_PROXY──▶ TestProxy ──TLS (fixture CA)──▶ TlsFixture ──http──▶ wiremock
//!         (TestProxy::client)  (in-process; connect_to and upstream CA from the fixture)
//! ```
//!
//! The fixture and the mocks are `agentlog-mock-upstream`, which ships (`agentlog demo` and
//! the interceptor harness run them); a test imports them from there.
//!
//! Everything listens on loopback; no real network is used.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// The examples of `docs/library.md`, run as doctests so the page cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/library.md")]
pub struct LibraryPage;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use agentlog_core::emitter::Emitter;
use agentlog_core::event::{CheckedEvent, Event};
use agentlog_core::secrets::{HostPattern, Secret};
use agentlog_core::sink::{JsonlWriter, MemorySink, Sink, SinkError};
use agentlog_intercept::{
    Budget, CertAuthority, DEFAULT_SHUTDOWN_GRACE, HostGate, Injector, LogErrorPolicy, PriceTable,
    Profile, Proxy, ProxyConfig, Routes, RunningProxy, ShutdownReport, Timeouts,
    install_default_provider,
};
use agentlog_mock_upstream::TlsFixture;

/// Why the test kit could not start something.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestkitError {
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
}

/// `: a, b` (or nothing for no events), for [`TestkitError::TooFewEvents`].
fn type_list(types: &[String]) -> String {
    if types.is_empty() {
        String::new()
    } else {
        format!(": {}", types.join(", "))
    }
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
    /// How text copied from an upstream into the log is judged ([`ProxyConfig::judge`]).
    pub judge: Option<agentlog_intercept::TextJudge>,
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

    /// Sets [`ProxyOptions::judge`].
    #[must_use]
    pub fn with_judge(mut self, judge: agentlog_intercept::TextJudge) -> Self {
        self.judge = Some(judge);
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
    config.judge = options.judge.clone();
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
