//! The proxy itself: configuration, the accept loop, and the shutdown that loses no event.
//!
//! The parts, one file each:
//!
//! - `conn`: one client connection: the plain HTTP/1.1 proxy leg, `CONNECT` tunnels
//!   terminated with TLS (HTTP/1.1 or h2 by ALPN), client-side time limits;
//! - `forward`: what happens to one request (policy, events, forwarding), in a fixed order;
//! - `observe`: the relayed response body that writes `llm_response` exactly once;
//! - `scan`: the relayed request body that stops a placeholder leaking through it;
//! - `events`: the events of an exchange as the chosen [`Profile`] (v0 or v1) defines them;
//! - `reply`: responses the proxy makes itself (refusals, upstream failures);
//! - `target`: where a request goes (host normalization, hop-by-hop headers);
//! - `websocket`: `Upgrade: websocket` relayed to the upstream;
//! - `lifecycle`: in-flight tracking, draining and cutting at shutdown.
//!
//! **Shutdown.** [`RunningProxy::shutdown_with_grace`] stops accepting, asks every
//! connection to finish what it has in flight (HTTP/1.1 closes after the current exchange,
//! h2 sends GOAWAY), waits up to the grace period, then cuts what is left: every exchange cut
//! that way still writes its `llm_response`, tagged `incomplete` and `cut_short`. When it
//! returns, no task of the proxy can write another event, so the caller may close the log.
//!
//! **Event log failures.** With [`LogErrorPolicy::Block`] (the default) a request whose
//! `key_injection` or `llm_request` event cannot be written is refused with 503 and never
//! forwarded (its budget reservation released); with [`LogErrorPolicy::Continue`] it goes on.
//! Either way each failure is reported (tracing, target `agentlog::event_log`) and counted
//! ([`RunningProxy::log_failures`]). A file-size limit fails a write only if `SIGXFSZ` does
//! not kill the process first: see [`ignore_write_signals`](crate::ignore_write_signals).

mod client_io;
mod conn;
mod events;
mod exchange_id;
mod forward;
mod lifecycle;
mod observe;
mod reply;
mod scan;
mod target;
mod websocket;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls_pki_types::CertificateDer;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use super::budget::Budget;
use super::ca::{CaError, CertAuthority};
use super::gate::HostGate;
use super::inject::Injector;
use super::prices::PriceTable;
use super::route::Routes;
use super::upstream::{self, ConnectTo, UpstreamClient, UpstreamConnector};
use super::{BUILTIN_LLM_HOST_PATTERNS, BUILTIN_LLM_HOSTS};
use agentlog_core::emitter::{Emitter, Record};
use agentlog_core::event::EventData;
use agentlog_core::secrets::HostPattern;
use lifecycle::Lifecycle;

pub use agentlog_core::schema::Profile;
pub use lifecycle::ShutdownReport;

/// Time limits on both sides of the proxy.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Timeouts {
    /// Upstream: TCP connect plus TLS handshake (`--connect-timeout`).
    pub connect: Duration,
    /// Upstream: from sending the request to the response head (`--response-timeout`).
    pub response_head: Duration,
    /// Upstream: longest pause between two response body frames (`--idle-timeout`).
    pub body_idle: Duration,
    /// Client: the TLS handshake inside a `CONNECT` tunnel (`--handshake-timeout`).
    pub client_handshake: Duration,
    /// Client: receiving a whole request head (`--header-timeout`).
    pub client_header: Duration,
    /// Client: a connection with no request in flight and no bytes moving is closed after
    /// this long (`--client-idle-timeout`).
    pub client_idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            response_head: Duration::from_secs(300),
            body_idle: Duration::from_secs(300),
            client_handshake: Duration::from_secs(10),
            client_header: Duration::from_secs(30),
            client_idle: Duration::from_secs(90),
        }
    }
}

impl Timeouts {
    /// Sets [`Timeouts::connect`].
    #[must_use]
    pub fn with_connect(mut self, d: Duration) -> Self {
        self.connect = d;
        self
    }
    /// Sets [`Timeouts::response_head`].
    #[must_use]
    pub fn with_response_head(mut self, d: Duration) -> Self {
        self.response_head = d;
        self
    }
    /// Sets [`Timeouts::body_idle`].
    #[must_use]
    pub fn with_body_idle(mut self, d: Duration) -> Self {
        self.body_idle = d;
        self
    }
    /// Sets [`Timeouts::client_handshake`].
    #[must_use]
    pub fn with_client_handshake(mut self, d: Duration) -> Self {
        self.client_handshake = d;
        self
    }
    /// Sets [`Timeouts::client_header`].
    #[must_use]
    pub fn with_client_header(mut self, d: Duration) -> Self {
        self.client_header = d;
        self
    }
    /// Sets [`Timeouts::client_idle`].
    #[must_use]
    pub fn with_client_idle(mut self, d: Duration) -> Self {
        self.client_idle = d;
        self
    }
}

/// What to do with a request whose event cannot be written (`--on-log-error`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogErrorPolicy {
    /// Refuse the request (503) and forward nothing: no exchange goes unlogged.
    #[default]
    Block,
    /// Forward anyway; the failure is still reported and counted.
    Continue,
}

/// Everything the proxy needs.
#[derive(Debug)]
#[non_exhaustive]
pub struct ProxyConfig {
    /// Where events go.
    pub emitter: Emitter,
    /// The secret policy.
    pub injector: Injector,
    /// The interception CA.
    pub ca: Arc<CertAuthority>,
    /// LLM host globs in addition to [`BUILTIN_LLM_HOSTS`].
    pub llm_hosts: Vec<HostPattern>,
    /// Extra CAs trusted for upstreams (besides the webpki roots).
    pub upstream_roots: Vec<CertificateDer<'static>>,
    /// `host:port` -> address overrides.
    pub connect_to: ConnectTo,
    /// Time limits.
    pub timeouts: Timeouts,
    /// Largest LLM request body buffered (larger ones get 413).
    pub max_request_body: usize,
    /// Client connections served at once; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// What a failed event write does to its request.
    pub on_log_error: LogErrorPolicy,
    /// Inject secrets into cleartext `http://` requests too (off: only inside TLS).
    pub allow_cleartext_injection: bool,
    /// Which event types are written (`--profile`): an event-log profile, v0 or v1
    /// ([`Profile::EVENT_LOGS`]); [`Proxy::new`] refuses any other.
    pub profile: Profile,
    /// The host allowlist (`--allow-host`; v1 only).
    pub gate: HostGate,
    /// Hosts sent to another upstream (`--route`; v1 only).
    pub routes: Routes,
    /// Prices that turn token counts into `cost_usd` (default: the built-in table).
    pub prices: Arc<PriceTable>,
    /// The spend limit (`--budget-usd`); none: no gate.
    pub budget: Option<Arc<Budget>>,
    /// How text the proxy copies from an upstream into its log is judged besides the
    /// configured values as written (see [`TextJudge`]); none: those values only.
    pub judge: Option<TextJudge>,
}

/// A judge of text the proxy copies from an upstream into its log (a response's `model`,
/// the summaries built from it): `true` when the text shows a secret in any form (encoded,
/// reversed, split), and the whole field is then written as `[redacted]`. The command line
/// gives it the output gate's judgement; the proxy alone knows only the values as written.
#[derive(Clone)]
pub struct TextJudge(Arc<dyn Fn(&str) -> bool + Send + Sync>);

impl TextJudge {
    /// A judge that calls `shows`.
    pub fn new(shows: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        TextJudge(Arc::new(shows))
    }
}

impl std::fmt::Debug for TextJudge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TextJudge(..)")
    }
}

impl ProxyConfig {
    /// A configuration with default limits, no secrets, no extra hosts and no overrides.
    pub fn new(emitter: Emitter, ca: Arc<CertAuthority>) -> Self {
        ProxyConfig {
            emitter,
            injector: Injector::default(),
            ca,
            llm_hosts: Vec::new(),
            upstream_roots: Vec::new(),
            connect_to: ConnectTo::new(),
            timeouts: Timeouts::default(),
            max_request_body: 32 << 20,
            max_connections: 4096,
            on_log_error: LogErrorPolicy::Block,
            allow_cleartext_injection: false,
            profile: Profile::V0,
            gate: HostGate::default(),
            routes: Routes::default(),
            prices: Arc::new(PriceTable::builtin()),
            budget: None,
            judge: None,
        }
    }
}

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The upstream TLS configuration was refused.
    #[error("upstream TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// The profile is not an event-log profile (the ledger): the proxy writes events, v0's
    /// or v1's.
    #[error("profile {0} is not an event log: the proxy writes the events of v0 or v1")]
    NotAnEventLog(Profile),
    /// A host gate or routes were given with the v0 profile, which has no event for them.
    #[error(
        "--allow-host and --route need --profile v1 (v0 has no gate_decision or route_decision event)"
    )]
    NeedsV1,
    /// Binding the listener failed.
    #[error("listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// The event could not be written and the policy says the request must not go on.
#[derive(Debug)]
struct LogUnavailable;

struct State {
    emitter: Emitter,
    injector: Injector,
    ca: Arc<CertAuthority>,
    /// `--llm-host` globs and [`BUILTIN_LLM_HOST_PATTERNS`].
    llm_hosts: Vec<HostPattern>,
    timeouts: Timeouts,
    max_request_body: usize,
    on_log_error: LogErrorPolicy,
    allow_cleartext_injection: bool,
    profile: Profile,
    gate: HostGate,
    routes: Routes,
    prices: Arc<PriceTable>,
    budget: Option<Arc<Budget>>,
    client: UpstreamClient,
    connector: UpstreamConnector,
    tls_configs: Mutex<HashMap<String, Arc<rustls::ServerConfig>>>,
    lifecycle: Lifecycle,
    log_failures: AtomicU64,
    exchange_ids: exchange_id::ExchangeIds,
    judge: Option<TextJudge>,
}

impl State {
    /// The one check every event passes before it is written: a secret value in a field
    /// the proxy copies from what an upstream sent (the response's `model`, the response
    /// transform's reason that names it, the summaries built from them) is replaced by
    /// `[redacted]`, the event kept. Names may be logged, values never.
    fn withhold_values(&self, mut record: Record) -> Record {
        // The judge (a full search) only reads what an upstream wrote: the other events'
        // texts come from the agent's request and the configuration, and the writer's path
        // stays as cheap as it was for them.
        let from_upstream = matches!(
            record.data,
            Some(
                EventData::LlmResponse(_)
                    | EventData::HttpResponse(_)
                    | EventData::ResponseTransform(_)
            )
        );
        let withhold = |text: &mut String| {
            if let Some(withheld) = self.injector.withhold_values(text) {
                *text = withheld;
            }
            if from_upstream && self.judge.as_ref().is_some_and(|judge| (judge.0)(text)) {
                "[redacted]".clone_into(text);
            }
        };
        withhold(&mut record.summary);
        match &mut record.data {
            Some(EventData::LlmResponse(r)) => withhold(&mut r.model),
            Some(EventData::HttpResponse(r)) => withhold(&mut r.model),
            Some(EventData::ResponseTransform(t)) => withhold(&mut t.reason),
            _ => {}
        }
        record
    }

    fn is_llm(&self, host: &str) -> bool {
        BUILTIN_LLM_HOSTS.contains(&host)
            || host.ends_with("-aiplatform.googleapis.com")
            || self.llm_hosts.iter().any(|p| p.matches(host))
    }

    /// Writes an event; a failure is reported and counted, and under
    /// [`LogErrorPolicy::Block`] returned so the caller refuses the request.
    fn emit(&self, record: Record) -> Result<(), LogUnavailable> {
        let record = self.withhold_values(record);
        let event_type = record.event_type.clone();
        match self.emitter.emit(record) {
            Ok(()) => Ok(()),
            Err(error) => {
                let n = self.log_failures.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::error!(
                    target: "agentlog::event_log",
                    %error,
                    event_type = %event_type,
                    failures = n,
                    "event not written"
                );
                match self.on_log_error {
                    LogErrorPolicy::Block => Err(LogUnavailable),
                    LogErrorPolicy::Continue => Ok(()),
                }
            }
        }
    }

    fn tls_config(&self, host: &str) -> Result<Arc<rustls::ServerConfig>, CaError> {
        let mut cache = self.tls_configs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = cache.get(host) {
            return Ok(found.clone());
        }
        let config = Arc::new(self.ca.server_config(host, &[b"h2", b"http/1.1"])?);
        if cache.len() >= 4096 {
            cache.clear();
        }
        cache.insert(host.to_owned(), config.clone());
        Ok(config)
    }
}

/// A configured proxy, ready to listen.
pub struct Proxy {
    state: Arc<State>,
    max_connections: usize,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy").finish_non_exhaustive()
    }
}

impl Proxy {
    /// Builds the proxy (and its upstream client) from `config`.
    pub fn new(config: ProxyConfig) -> Result<Self, ProxyError> {
        if !config.profile.is_event_log() {
            return Err(ProxyError::NotAnEventLog(config.profile));
        }
        if config.profile == Profile::V0 && (config.gate.is_active() || config.routes.is_active()) {
            return Err(ProxyError::NeedsV1);
        }
        let connector = UpstreamConnector::new(
            &config.upstream_roots,
            config.connect_to,
            config.timeouts.connect,
        )?;
        Ok(Proxy {
            max_connections: config.max_connections.max(1),
            state: Arc::new(State {
                emitter: config.emitter,
                injector: config.injector,
                ca: config.ca,
                // The built-in patterns are parsed once here, not per request.
                llm_hosts: (config.llm_hosts.into_iter())
                    .chain(
                        BUILTIN_LLM_HOST_PATTERNS
                            .iter()
                            .map(|p| HostPattern::new(*p)),
                    )
                    .collect(),
                timeouts: config.timeouts,
                max_request_body: config.max_request_body,
                on_log_error: config.on_log_error,
                allow_cleartext_injection: config.allow_cleartext_injection,
                profile: config.profile,
                gate: config.gate,
                routes: config.routes,
                prices: config.prices,
                budget: config.budget,
                client: upstream::client(connector.clone()),
                connector,
                tls_configs: Mutex::new(HashMap::new()),
                lifecycle: Lifecycle::new(),
                log_failures: AtomicU64::new(0),
                exchange_ids: exchange_id::ExchangeIds::new(),
                judge: config.judge,
            }),
        })
    }

    /// Binds `addr` and starts serving in the background.
    pub async fn bind(self, addr: SocketAddr) -> Result<RunningProxy, ProxyError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ProxyError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| ProxyError::Bind { addr, source })?;
        let permits = Arc::new(Semaphore::new(self.max_connections));
        let task = tokio::spawn(accept_loop(
            self.state.clone(),
            listener,
            permits,
            self.max_connections,
        ));
        Ok(RunningProxy {
            local_addr,
            state: self.state,
            task,
        })
    }
}

/// A proxy serving in the background.
pub struct RunningProxy {
    local_addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for RunningProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningProxy")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

/// Grace period of [`RunningProxy::shutdown`].
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

impl RunningProxy {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Event writes that failed so far.
    pub fn log_failures(&self) -> u64 {
        self.state.log_failures.load(Ordering::Relaxed)
    }

    /// Client connections open now (tunnels and their streams included).
    pub fn connections(&self) -> usize {
        self.state.lifecycle.in_flight()
    }

    /// [`RunningProxy::shutdown_with_grace`] with [`DEFAULT_SHUTDOWN_GRACE`].
    pub async fn shutdown(self) -> ShutdownReport {
        self.shutdown_with_grace(DEFAULT_SHUTDOWN_GRACE).await
    }

    /// Stops accepting, lets exchanges in flight finish for up to `grace`, then cuts the
    /// rest (their `llm_response` is still written, tagged `incomplete` and `cut_short`).
    /// When this returns no event of this proxy is still to be written.
    pub async fn shutdown_with_grace(self, grace: Duration) -> ShutdownReport {
        self.task.abort();
        let _ = self.task.await;
        self.state.lifecycle.shut_down(grace).await
    }
}

/// Accepts clients while fewer than `limit` are served; each runs on the lifecycle's tracker.
async fn accept_loop(
    state: Arc<State>,
    listener: TcpListener,
    permits: Arc<Semaphore>,
    limit: usize,
) {
    let mut warned_full = false;
    loop {
        let permit = match permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if !warned_full {
                    tracing::warn!(
                        limit,
                        "connection limit reached; new clients wait until one closes (--max-connections)"
                    );
                    warned_full = true;
                }
                match permits.clone().acquire_owned().await {
                    Ok(p) => p,
                    Err(_) => return,
                }
            }
        };
        match listener.accept().await {
            Ok((tcp, peer)) => {
                let _ = tcp.set_nodelay(true);
                let state2 = state.clone();
                state.lifecycle.spawn(async move {
                    conn::serve_client(state2, tcp, peer).await;
                    drop(permit);
                });
            }
            Err(error) => {
                // EMFILE and friends: wait a little rather than spin.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The proxy writes an event log: the one profile type admits the ledger too, and the
    /// proxy refuses it before anything starts.
    #[test]
    fn a_profile_that_is_not_an_event_log_is_refused() {
        let emitter = Emitter::new("vm-1", "test", Vec::new()).expect("emitter");
        let ca = Arc::new(CertAuthority::generate().expect("ca"));
        let mut config = ProxyConfig::new(emitter, ca);
        config.profile = Profile::Ledger;
        let err = Proxy::new(config).err();
        assert!(
            matches!(err, Some(ProxyError::NotAnEventLog(Profile::Ledger))),
            "{err:?}"
        );
    }
}
