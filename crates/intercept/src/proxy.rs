//! The proxy itself: accept loop, `CONNECT` tunnels, forwarding and event emission.
//!
//! For every request (inside a TLS tunnel, tag `tls`; or a plain `http://` proxy request, tag
//! `http`) the order is fixed:
//!
//! 1. the [`Injector`] decides; its `key_injection` events are written; a leak is answered
//!    403 `Blocked by policy` and nothing is sent upstream;
//! 2. for an LLM host, the request body is buffered (capped) to read `model`, and
//!    `llm_request` is written;
//! 3. the request is forwarded; the response is streamed back frame by frame through an
//!    observing body that counts bytes, feeds the usage parser, and writes `llm_response`
//!    exactly once: at the end of the body, on an upstream error or idle timeout (tag
//!    `incomplete` added), or when the client goes away (also `incomplete`);
//! 4. upstream failures before a response (connect refused, TLS failure, timeout) are
//!    answered 502 (504 for timeouts) with an empty body, and `llm_response` records that
//!    status with `body_bytes` 0.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode, Uri, Version};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, Empty, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::CertificateDer;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Sleep;
use tokio_rustls::TlsAcceptor;

use super::ca::{CaError, CertAuthority};
use super::inject::{Decision, Injector};
use super::upstream::{self, BoxError, ConnectTo, UpstreamClient, UpstreamConnector};
use super::usage::{UsageParser, request_model};
use super::{BUILTIN_LLM_HOSTS, BoxBody};
use agentlog_core::emitter::{Emitter, Record};
use agentlog_core::event::{LlmRequest, LlmResponse};
use agentlog_core::secrets::HostPattern;

/// Time limits applied to upstreams.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Timeouts {
    /// TCP connect plus TLS handshake.
    pub connect: Duration,
    /// From sending the request to the response head.
    pub response_head: Duration,
    /// Longest pause between two response body frames.
    pub body_idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            response_head: Duration::from_secs(300),
            body_idle: Duration::from_secs(300),
        }
    }
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
    /// Upstream time limits.
    pub timeouts: Timeouts,
    /// Largest LLM request body buffered (larger ones get 413).
    pub max_request_body: usize,
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
    /// Binding the listener failed.
    #[error("listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The operating system's error.
        source: std::io::Error,
    },
}

struct State {
    emitter: Emitter,
    injector: Injector,
    ca: Arc<CertAuthority>,
    llm_hosts: Vec<HostPattern>,
    timeouts: Timeouts,
    max_request_body: usize,
    client: UpstreamClient,
    tls_configs: Mutex<HashMap<String, Arc<rustls::ServerConfig>>>,
}

impl State {
    fn is_llm(&self, host: &str) -> bool {
        BUILTIN_LLM_HOSTS.contains(&host) || self.llm_hosts.iter().any(|p| p.matches(host))
    }

    fn emit(&self, record: Record) {
        if let Err(error) = self.emitter.emit(record) {
            tracing::warn!(%error, "event not written");
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
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy").finish_non_exhaustive()
    }
}

impl Proxy {
    /// Builds the proxy (and its upstream client) from `config`.
    pub fn new(config: ProxyConfig) -> Result<Self, ProxyError> {
        let connector = UpstreamConnector::new(
            &config.upstream_roots,
            config.connect_to,
            config.timeouts.connect,
        )?;
        Ok(Proxy {
            state: Arc::new(State {
                emitter: config.emitter,
                injector: config.injector,
                ca: config.ca,
                llm_hosts: config.llm_hosts,
                timeouts: config.timeouts,
                max_request_body: config.max_request_body,
                client: upstream::client(connector),
                tls_configs: Mutex::new(HashMap::new()),
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
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(accept_loop(self.state, listener, rx));
        Ok(RunningProxy {
            local_addr,
            shutdown: Some(tx),
            task,
        })
    }
}

/// A proxy serving in the background.
#[derive(Debug)]
pub struct RunningProxy {
    local_addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RunningProxy {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting connections and waits for the accept loop to end. Connections in
    /// flight continue until they finish (their events are still written).
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

async fn accept_loop(state: Arc<State>, listener: TcpListener, mut stop: oneshot::Receiver<()>) {
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((tcp, _)) => {
                let _ = tcp.set_nodelay(true);
                tokio::spawn(serve_client(state.clone(), tcp));
            }
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

async fn serve_client(state: Arc<State>, tcp: TcpStream) {
    let service = service_fn(move |req| {
        let state = state.clone();
        async move { Ok::<_, Infallible>(outer(state, req).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(tcp), service)
        .with_upgrades();
    if let Err(error) = conn.await {
        tracing::debug!(%error, "client connection ended with an error");
    }
}

/// Where a request is going and how it arrived.
#[derive(Clone, Debug)]
struct Target {
    https: bool,
    /// Lower case, no port, no brackets.
    host: String,
    port: u16,
    tag: &'static str,
}

impl Target {
    fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default = if self.https { 443 } else { 80 };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<BoxBody> {
    let mut resp = Response::new(
        Full::new(Bytes::from_static(body.as_bytes()))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

fn empty(status: StatusCode) -> Response<BoxBody> {
    let mut resp = Response::new(Empty::new().map_err(|never| match never {}).boxed_unsync());
    *resp.status_mut() = status;
    resp
}

fn target_of(uri: &Uri, https: bool, tag: &'static str) -> Option<Target> {
    let authority = uri.authority()?;
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
    Some(Target {
        https,
        host,
        port,
        tag,
    })
}

async fn outer(state: Arc<State>, req: Request<Incoming>) -> Response<BoxBody> {
    if req.method() == Method::CONNECT {
        let Some(target) = target_of(req.uri(), true, "tls") else {
            return text(StatusCode::BAD_REQUEST, "CONNECT needs host:port");
        };
        tokio::spawn(async move {
            match hyper::upgrade::on(req).await {
                Ok(upgraded) => tunnel(state, upgraded, target).await,
                Err(error) => tracing::debug!(%error, "CONNECT upgrade failed"),
            }
        });
        return empty(StatusCode::OK);
    }
    if req.uri().scheme_str() == Some("http")
        && let Some(target) = target_of(req.uri(), false, "http")
    {
        return forward(&state, req, &target).await;
    }
    text(
        StatusCode::BAD_REQUEST,
        "agentlog proxy: send CONNECT or absolute-form http:// requests\n",
    )
}

async fn tunnel(state: Arc<State>, upgraded: hyper::upgrade::Upgraded, target: Target) {
    let config = match state.tls_config(&target.host) {
        Ok(config) => config,
        Err(error) => {
            tracing::warn!(%error, host = %target.host, "no TLS configuration");
            return;
        }
    };
    let tls = match TlsAcceptor::from(config)
        .accept(TokioIo::new(upgraded))
        .await
    {
        Ok(tls) => tls,
        Err(error) => {
            tracing::debug!(%error, host = %target.host, "client TLS handshake failed");
            return;
        }
    };
    let target = Arc::new(target);
    let service = service_fn(move |req| {
        let (state, target) = (state.clone(), target.clone());
        async move { Ok::<_, Infallible>(forward(&state, req, &target).await) }
    });
    let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    if let Err(error) = builder.serve_connection(TokioIo::new(tls), service).await {
        tracing::debug!(%error, "tunnel connection ended with an error");
    }
}

const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "proxy-connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let listed: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in listed {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

async fn forward(state: &State, req: Request<Incoming>, target: &Target) -> Response<BoxBody> {
    let (mut parts, body) = req.into_parts();
    match state.injector.apply(&target.host, &mut parts) {
        Decision::Block(events) => {
            for event in events {
                state.emit(Record::new(event).plugin("secret_injector").tag(target.tag));
            }
            return text(StatusCode::FORBIDDEN, "Blocked by policy");
        }
        Decision::Forward(events) => {
            for event in events {
                state.emit(Record::new(event).plugin("secret_injector").tag(target.tag));
            }
        }
    }
    let llm = state.is_llm(&target.host);
    let method = parts.method.to_string();
    let path = match parts.uri.path() {
        "" => "/".to_owned(),
        p => p.to_owned(),
    };
    let body: BoxBody = if llm {
        match Limited::new(body, state.max_request_body).collect().await {
            Ok(collected) => {
                let bytes = collected.to_bytes();
                let model = request_model(&bytes);
                state.emit(
                    Record::new(LlmRequest {
                        method: method.clone(),
                        host: target.host.clone(),
                        path: path.clone(),
                        model,
                        routed: false,
                        routed_to: String::new(),
                    })
                    .tag(target.tag),
                );
                Full::new(bytes)
                    .map_err(|never| match never {})
                    .boxed_unsync()
            }
            Err(error) => {
                if error.is::<http_body_util::LengthLimitError>() {
                    return text(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
                }
                return text(StatusCode::BAD_REQUEST, "request body could not be read");
            }
        }
    } else {
        body.map_err(BoxError::from).boxed_unsync()
    };

    let pq = parts
        .uri
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned();
    let scheme = if target.https { "https" } else { "http" };
    let uri = match Uri::try_from(format!("{scheme}://{}{pq}", target.authority())) {
        Ok(uri) => uri,
        Err(_) => return text(StatusCode::BAD_REQUEST, "bad request target"),
    };
    parts.uri = uri;
    parts.version = Version::HTTP_11;
    strip_hop_by_hop(&mut parts.headers);
    parts.headers.remove(header::HOST);

    let mut meta = LlmResponse {
        method,
        host: target.host.clone(),
        path,
        ..Default::default()
    };
    let started = Instant::now();
    let sent = tokio::time::timeout(
        state.timeouts.response_head,
        state.client.request(Request::from_parts(parts, body)),
    )
    .await;
    let failed = |status: StatusCode, reason: &'static str| {
        let mut resp = empty(status);
        resp.headers_mut()
            .insert("x-agentlog-error", HeaderValue::from_static(reason));
        resp
    };
    let response = match sent {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => {
            let timeout = upstream::is_timeout(&error);
            tracing::warn!(host = %target.host, error = %error_chain(&error), "upstream failed");
            let (status, reason) = if timeout {
                (StatusCode::GATEWAY_TIMEOUT, "upstream timeout")
            } else {
                (StatusCode::BAD_GATEWAY, "upstream failed")
            };
            if llm {
                meta.status_code = u64::from(status.as_u16());
                meta.duration_ms = elapsed_ms(started);
                state.emit(Record::new(meta).tag(target.tag));
            }
            return failed(status, reason);
        }
        Err(_) => {
            tracing::warn!(host = %target.host, "upstream response timed out");
            if llm {
                meta.status_code = 504;
                meta.duration_ms = elapsed_ms(started);
                state.emit(Record::new(meta).tag(target.tag));
            }
            return failed(StatusCode::GATEWAY_TIMEOUT, "upstream timeout");
        }
    };
    let (mut rparts, rbody) = response.into_parts();
    strip_hop_by_hop(&mut rparts.headers);
    if !llm {
        return Response::from_parts(rparts, rbody.map_err(BoxError::from).boxed_unsync());
    }
    meta.status_code = u64::from(rparts.status.as_u16());
    let identity = rparts
        .headers
        .get(header::CONTENT_ENCODING)
        .is_none_or(|v| v.as_bytes().eq_ignore_ascii_case(b"identity"));
    let parser = rparts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| identity)
        .and_then(UsageParser::for_content_type);
    let observed = ObservedBody {
        inner: rbody,
        bytes: 0,
        idle: state.timeouts.body_idle,
        sleep: Box::pin(tokio::time::sleep(state.timeouts.body_idle)),
        pending: Some(Pending {
            emitter: state.emitter.clone(),
            meta,
            tag: target.tag,
            started,
            parser,
        }),
    };
    Response::from_parts(rparts, observed.boxed_unsync())
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut cur = error.source();
    while let Some(e) = cur {
        out.push_str(": ");
        out.push_str(&e.to_string());
        cur = e.source();
    }
    out
}

/// The `llm_response` still to be written.
struct Pending {
    emitter: Emitter,
    meta: LlmResponse,
    tag: &'static str,
    started: Instant,
    parser: Option<UsageParser>,
}

impl Pending {
    fn finish(mut self, body_bytes: u64, incomplete: bool) {
        self.meta.duration_ms = elapsed_ms(self.started);
        self.meta.body_bytes = body_bytes;
        if let Some(parser) = self.parser {
            let usage = parser.finish();
            self.meta.model = usage.model;
            self.meta.input_tokens = usage.input_tokens;
            self.meta.output_tokens = usage.output_tokens;
        }
        let mut record = Record::new(self.meta).tag(self.tag);
        if incomplete {
            record = record.tag("incomplete");
        }
        if let Err(error) = self.emitter.emit(record) {
            tracing::warn!(%error, "llm_response not written");
        }
    }
}

/// Relays the upstream body frame by frame, and writes `llm_response` exactly once.
struct ObservedBody {
    inner: Incoming,
    bytes: u64,
    idle: Duration,
    sleep: Pin<Box<Sleep>>,
    pending: Option<Pending>,
}

impl ObservedBody {
    fn finish(&mut self, incomplete: bool) {
        if let Some(pending) = self.pending.take() {
            pending.finish(self.bytes, incomplete);
        }
    }
}

impl Body for ObservedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.bytes += data.len() as u64;
                    if let Some(parser) = this.pending.as_mut().and_then(|p| p.parser.as_mut()) {
                        parser.feed(data);
                    }
                }
                let deadline = tokio::time::Instant::now() + this.idle;
                this.sleep.as_mut().reset(deadline);
                if this.inner.is_end_stream() {
                    this.finish(false);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(error))) => {
                this.finish(true);
                Poll::Ready(Some(Err(error.into())))
            }
            Poll::Ready(None) => {
                this.finish(false);
                Poll::Ready(None)
            }
            Poll::Pending => {
                if this.sleep.as_mut().poll(cx).is_ready() {
                    this.finish(true);
                    return Poll::Ready(Some(Err(upstream::UpstreamTimeout.into())));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for ObservedBody {
    fn drop(&mut self) {
        let complete = self.inner.is_end_stream();
        self.finish(!complete);
    }
}
