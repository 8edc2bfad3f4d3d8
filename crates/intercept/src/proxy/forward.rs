//! What happens to one request, in a fixed order.
//!
//! For every request (inside a TLS tunnel, tag `tls`; or a plain `http://` proxy request, tag
//! `http`):
//!
//! 1. **Header and target leaks.** A placeholder in a header or the request target bound for
//!    a host its secret is not allowed for (or over cleartext, unless
//!    `--allow-cleartext-injection`) is refused: `key_injection` `leak_blocked` per leaking
//!    secret, 403 `Blocked by policy`, nothing sent upstream. The request body is drained
//!    first (bounded), so an h2 client receives the 403 rather than a stream reset.
//! 2. **The body.** For an LLM host it is buffered (up to `max_request_body`; larger is
//!    answered 413 with `llm_request` and `llm_response` 413 written) to read `model`; for
//!    other hosts it is streamed. In both it is scanned for placeholders that must not go to
//!    this host ([`scan`](super::scan)): a leak there is refused like a header leak.
//! 3. **Injection.** Placeholders are replaced for allowed secrets; one `key_injection` per
//!    secret (`injected` or `skipped`); for an LLM host `llm_request`. If one of these cannot
//!    be written and the policy is `block`, the request is answered 503 and not forwarded.
//! 4. **The exchange.** The request is forwarded; the response is relayed through the
//!    [`ObservedBody`], which writes `llm_response` exactly once. Upstream failures before a
//!    response are answered 502 (504 for timeouts) with a JSON body in the provider's error
//!    shape, and `llm_response` records that status.
//!
//! **The exchange id.** Every request gets its id before anything is decided, so that each
//! event written for it (the v1 gate and route decisions first, leaks, injections, the
//! budget's refusal, the request and response events, the usage transform, the budget's
//! warning) carries the same `data.exchange_id`. A request that writes no event (in v0, one
//! to a host that is not an LLM host, with no secret to inject) leaves its number unused.
//!
//! **The reservation.** From step 2 on, a budgeted request holds its reservation. Every return
//! before the request is handed to the upstream releases it (a [`Held`] reservation dropped
//! unsettled is released; the 503 of step 3 and the rest say so explicitly). From the moment
//! it is handed over, the [`Pending`] response settles it: released only if the upstream
//! connect or TLS handshake failed (the request never left), otherwise charged its
//! reservation or its usage, client gone or not (see the `budget` module's table).
//!
//! [`Held`]: super::super::budget::Held

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{Request, Response, Version};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;

use super::super::BoxBody;
use super::super::budget::{RequestFacts, Standing};
use super::super::inject::Channel;
use super::super::prices::ServiceTier;
use super::super::upstream::{self, BoxError};
use super::super::usage::UsageParser;
use super::observe::{End, ObservedBody, Pending};
use super::reply::{self, Local};
use super::scan::ScanBody;
use super::target::{Destination, Target, strip_hop_by_hop};
use super::{LogUnavailable, Profile, State, websocket};
use agentlog_core::event::{HttpRequest, KeyInjection, LlmResponse};

/// Most of a refused request's body read before answering, and the longest wait for it.
const DRAIN_BYTES: usize = 1 << 20;
const DRAIN_WAIT: Duration = Duration::from_secs(2);

/// Serves one request bound for `target`.
pub(super) async fn forward(
    state: Arc<State>,
    req: Request<Incoming>,
    target: Arc<Target>,
) -> Response<BoxBody> {
    let (parts, body) = req.into_parts();
    let id = state.exchange_ids.next();
    let destination = match decide(&state, &target, &id) {
        Ok(destination) => destination,
        Err(stop) => {
            drain(body).await;
            return match stop {
                Stop::Blocked => reply::blocked(),
                Stop::LogUnavailable => reply::log_unavailable(&target.host),
            };
        }
    };
    let channel = Channel {
        tls: target.https,
        allow_cleartext: state.allow_cleartext_injection,
    };
    let leaks = state.injector.header_leaks(&target.host, &parts, channel);
    if !leaks.is_empty() {
        drain(body).await;
        return refuse_leak(&state, leaks, &target, channel, &id);
    }
    let llm = state.is_llm(&target.host);
    let exchange = Exchange::new(&parts, &target, &destination, (state.profile, llm), &id);
    let body = match read_body(&state, body, (llm, &id), &target, channel, &parts).await {
        Ok(body) => body,
        Err(Refusal::Leak(leaks)) => return refuse_leak(&state, leaks, &target, channel, &id),
        Err(Refusal::Local(local, model)) => {
            return exchange.answer_locally(&state, local, &model);
        }
    };
    let reservation = match state.reserve(&body, billable(&parts)) {
        Ok(reservation) => reservation,
        Err(standing) => return refuse_over_budget(&state, &target, standing, &id),
    };
    let mut parts = parts;
    // Secrets go where the request really goes: a routed request gets those allowed for the
    // route's target (see the `route` module).
    let delivery = Channel {
        tls: destination.https(),
        ..channel
    };
    let injected = state
        .injector
        .inject(&destination.host, &mut parts, delivery);
    if state
        .write_injections(injected, &destination.host, (target.tag, &id))
        .is_err()
    {
        state.release(reservation);
        return reply::log_unavailable(&target.host);
    }
    let pending = if state.records_exchange(llm) {
        let reserved = reservation.as_ref().map(crate::budget::Held::amount);
        let tier = body.facts().map(RequestFacts::requested_tier);
        match exchange.write_request(&state, body.model().to_owned(), reserved, tier) {
            Ok(mut pending) => {
                pending.hold(reservation);
                Some(pending)
            }
            Err(LogUnavailable) => {
                state.release(reservation);
                return reply::log_unavailable(&target.host);
            }
        }
    } else {
        state.release(reservation);
        None
    };
    if websocket::is_upgrade(&parts) {
        return websocket::relay(state, parts, target, destination, pending).await;
    }
    send(state, parts, body, &target, &destination, pending).await
}

/// Whether a request to an LLM host can cost anything: every method that sends work (`POST`,
/// `PUT`, `PATCH`, any other), and a WebSocket upgrade (a Realtime session); not a `GET`,
/// `HEAD`, `OPTIONS`, `DELETE` or `TRACE` that does not upgrade (listing models, reading a
/// file or a batch's results) and carries no method override header.
fn billable(parts: &hyper::http::request::Parts) -> bool {
    use hyper::Method;
    // A method override (Google's APIs honour `X-HTTP-Method-Override`) makes a read a
    // write to the provider.
    let overridden = [
        "x-http-method-override",
        "x-http-method",
        "x-method-override",
    ]
    .iter()
    .any(|h| parts.headers.contains_key(*h));
    let reads = [
        Method::GET,
        Method::HEAD,
        Method::OPTIONS,
        Method::DELETE,
        Method::TRACE,
    ];
    overridden || !reads.contains(&parts.method) || websocket::is_upgrade(parts)
}

/// Why a request stops at the gate or the route.
enum Stop {
    /// The host is not in the allowlist (403).
    Blocked,
    /// The decision could not be written and the policy blocks (503).
    LogUnavailable,
}

/// The decisions taken before anything else (v1): the host gate, then the route, events of
/// the exchange `id`.
fn decide(state: &State, target: &Target, id: &str) -> Result<Destination, Stop> {
    if let Some(gate) = state.gate.decide(&target.host) {
        let allowed = gate.allowed;
        let written = state.write_gate(gate, id);
        if !allowed {
            tracing::info!(host = %target.host, "host not in the allowlist: refused (403)");
            return Err(Stop::Blocked);
        }
        written.map_err(|LogUnavailable| Stop::LogUnavailable)?;
    }
    let Some(routing) = state.routes.decide(&target.host) else {
        return Ok(Destination::of(target));
    };
    state
        .write_route(routing.decision, id)
        .map_err(|LogUnavailable| Stop::LogUnavailable)?;
    Ok(match routing.target {
        Some(to) => Destination::routed(&to),
        None => Destination::of(target),
    })
}

/// What the request and response events say about the exchange.
struct Exchange {
    method: String,
    path: String,
    host: String,
    tag: &'static str,
    /// `host:port` of the route's target; empty when not routed.
    routed_to: String,
    llm: bool,
    /// The exchange id, on every event of the exchange.
    id: String,
}

impl Exchange {
    fn new(
        parts: &Parts,
        target: &Target,
        destination: &Destination,
        (profile, llm): (Profile, bool),
        id: &str,
    ) -> Self {
        let path = match profile {
            // Go's `URL.Path`, which the reference writes, is percent-decoded.
            Profile::V1 => percent_encoding::percent_decode_str(parts.uri.path())
                .decode_utf8_lossy()
                .into_owned(),
            // v0 (the only other profile `Proxy::new` accepts).
            _ => match parts.uri.path() {
                "" => "/".to_owned(),
                p => p.to_owned(),
            },
        };
        let routed_to = if destination.host == target.host && destination.https() == target.https {
            String::new()
        } else {
            destination.authority().to_owned()
        };
        Exchange {
            method: parts.method.to_string(),
            path,
            host: target.host.clone(),
            tag: target.tag,
            routed_to,
            llm,
            id: id.to_owned(),
        }
    }

    /// Writes the request event, with the exchange's id and the reservation held for it (in
    /// USD); the response event to finish is returned, with the same id.
    fn write_request(
        &self,
        state: &Arc<State>,
        model: String,
        reserved_usd: Option<f64>,
        tier: Option<ServiceTier>,
    ) -> Result<Pending, LogUnavailable> {
        let request = HttpRequest {
            method: self.method.clone(),
            host: self.host.clone(),
            path: self.path.clone(),
            model,
            routed: !self.routed_to.is_empty(),
            routed_to: self.routed_to.clone(),
            exchange_id: self.id.clone(),
            reserved_usd,
        };
        state.write_request(request, self.tag)?;
        let meta = LlmResponse {
            method: self.method.clone(),
            host: self.host.clone(),
            path: self.path.clone(),
            exchange_id: self.id.clone(),
            // The tier asked for, until the response's own tier replaces it (`account`).
            service_tier: tier.map(|t| t.name().to_owned()).unwrap_or_default(),
            ..Default::default()
        };
        Ok(Pending::new(state.clone(), meta, self.tag, self.llm))
    }

    /// A local answer to an LLM request refused before injection (413, 400): its request
    /// and response events are still written, so the refusal is on record.
    fn answer_locally(&self, state: &Arc<State>, local: Local, model: &str) -> Response<BoxBody> {
        let (message, end) = match local {
            Local::TooLarge => (
                format!("request body larger than {} bytes", state.max_request_body),
                End::Complete,
            ),
            Local::ShuttingDown => ("the proxy is shutting down".to_owned(), End::CutShort),
            _ => ("request body could not be read".to_owned(), End::Complete),
        };
        let resp = reply::local(&self.host, local, &message);
        match self.write_request(state, model.to_owned(), None, None) {
            Ok(pending) => finish_local(Some(pending), resp, end, &self.host),
            Err(LogUnavailable) => resp,
        }
    }
}

/// Why the request is answered by the proxy while its body is read.
enum Refusal {
    Leak(Vec<KeyInjection>),
    /// Answered locally; the model read so far (empty when unknown).
    Local(Local, String),
}

/// The request body as it will be sent upstream.
pub(super) enum RequestBody {
    /// Read whole (LLM hosts): the bytes and what the budget needs from them.
    Buffered { bytes: Bytes, facts: RequestFacts },
    /// Relayed while scanned for placeholders.
    Scanned(Box<ScanBody>),
    /// Relayed untouched (nothing in it could leak).
    Streamed(Incoming),
}

impl RequestBody {
    /// What was read from a buffered body.
    pub(super) fn facts(&self) -> Option<&RequestFacts> {
        match self {
            RequestBody::Buffered { facts, .. } => Some(facts),
            _ => None,
        }
    }

    /// The model the body names (read only from buffered bodies); empty when unknown.
    fn model(&self) -> &str {
        self.facts().map_or("", |f| f.model.as_str())
    }
}

/// Reads (LLM hosts) or prepares to relay the body of a request of the exchange `id`.
async fn read_body(
    state: &Arc<State>,
    body: Incoming,
    (llm, id): (bool, &str),
    target: &Target,
    channel: Channel,
    parts: &Parts,
) -> Result<RequestBody, Refusal> {
    let scanner = state.injector.body_scanner(&target.host, channel);
    if llm {
        let collected = tokio::select! {
            c = Limited::new(body, state.max_request_body).collect() => c,
            () = state.lifecycle.cut().cancelled() => {
                return Err(Refusal::Local(Local::ShuttingDown, String::new()));
            }
        };
        let bytes = match collected {
            Ok(c) => c.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return Err(Refusal::Local(Local::TooLarge, String::new()));
            }
            Err(_) => return Err(Refusal::Local(Local::BadBody, String::new())),
        };
        if let Some(mut scanner) = scanner {
            let leaks = scanner.feed(&state.injector, &bytes);
            if !leaks.is_empty() {
                return Err(Refusal::Leak(leaks));
            }
        }
        // A compressed body is priced decoded; `with_path` names a model the path holds.
        // Every `Content-Encoding` line counts (`identity` then `gzip` is gzip to a provider
        // that reads them all): several make a list of stacked codings.
        let encodings: Vec<&str> = (parts.headers.get_all(header::CONTENT_ENCODING).iter())
            .map(|v| v.to_str().unwrap_or("unreadable"))
            .collect();
        let encoding = (!encodings.is_empty()).then(|| encodings.join(", "));
        let mut facts = RequestFacts::of_encoded(
            parts.uri.path(),
            encoding.as_deref(),
            &bytes,
            state.max_request_body,
        );
        // A Realtime session bills every turn over frames the proxy does not price.
        facts.unbounded |= websocket::is_upgrade(parts);
        return Ok(RequestBody::Buffered { bytes, facts });
    }
    let Some(scanner) = scanner else {
        return Ok(RequestBody::Streamed(body));
    };
    let mut scan = ScanBody::new(state.clone(), (target.tag, id), body, scanner);
    scan.prefetch().await.map_err(Refusal::Leak)?;
    Ok(RequestBody::Scanned(Box::new(scan)))
}

fn refuse_leak(
    state: &State,
    leaks: Vec<KeyInjection>,
    target: &Target,
    channel: Channel,
    id: &str,
) -> Response<BoxBody> {
    let cleartext_only = !target.https
        && !channel.allow_cleartext
        && leaks
            .iter()
            .all(|l| state.injector.allows(&l.secret_name, &target.host));
    for event in &leaks {
        tracing::warn!(secret = %event.secret_name, host = %event.host, "placeholder leak blocked");
    }
    state.write_leaks(leaks, target.tag, id);
    if cleartext_only {
        reply::blocked_cleartext()
    } else {
        reply::blocked()
    }
}

/// The 429 of a request that could take spend past the budget, with its events (of the
/// exchange `id`).
fn refuse_over_budget(
    state: &State,
    target: &Target,
    standing: Standing,
    id: &str,
) -> Response<BoxBody> {
    tracing::warn!(host = %target.host, spent = standing.spent, "budget exhausted: request refused (429)");
    state.write_budget_refusal(&target.host, standing, id);
    let message = format!(
        "budget exhausted: ${} of ${} spent, this request could cost more than the ${} left (--budget-usd)",
        standing.spent,
        standing.spent + standing.remaining,
        standing.remaining
    );
    reply::local(&target.host, Local::BudgetExceeded, &message)
}

/// Reads (and drops) what the client is still sending, so that a refusal over h2 is not
/// followed by a stream reset before the client read it.
async fn drain(body: Incoming) {
    let _ = tokio::time::timeout(DRAIN_WAIT, Limited::new(body, DRAIN_BYTES).collect()).await;
}

async fn send(
    state: Arc<State>,
    mut parts: Parts,
    body: RequestBody,
    target: &Target,
    destination: &Destination,
    mut pending: Option<Pending>,
) -> Response<BoxBody> {
    let Some(uri) = destination.uri(&parts.uri) else {
        let resp = reply::text(http::StatusCode::BAD_REQUEST, "bad request target\n");
        return finish_local(pending, resp, End::Complete, &target.host);
    };
    parts.uri = uri;
    parts.version = Version::HTTP_11;
    strip_hop_by_hop(&mut parts.headers);
    parts.headers.remove(header::HOST);
    let mut leak_flag = None;
    let body: BoxBody = match body {
        RequestBody::Buffered { bytes, .. } => Full::new(bytes)
            .map_err(|never| match never {})
            .boxed_unsync(),
        RequestBody::Scanned(scan) => {
            leak_flag = Some(scan.leak_flag());
            scan.boxed_unsync()
        }
        RequestBody::Streamed(body) => body.map_err(BoxError::from).boxed_unsync(),
    };
    if let Some(p) = pending.as_mut() {
        p.sending();
    }
    let request = state.client.request(Request::from_parts(parts, body));
    let sent = tokio::select! {
        sent = tokio::time::timeout(state.timeouts.response_head, request) => sent,
        () = state.lifecycle.cut().cancelled() => {
            let resp = reply::local(&target.host, Local::ShuttingDown, "the proxy is shutting down");
            return finish_local(pending, resp, End::CutShort, &target.host);
        }
    };
    let response = match sent {
        Ok(Ok(response)) => response,
        Ok(Err(_)) if leak_flag.is_some_and(|f| f.load(Ordering::Acquire)) => {
            return reply::blocked();
        }
        Ok(Err(error)) => return upstream_failed(pending, &error, target, destination),
        Err(_) => {
            let limit = state.timeouts.response_head;
            tracing::warn!(host = %target.host, ?limit, "upstream response timed out");
            let message = format!(
                "upstream {} sent no response head within {limit:?}",
                destination.authority()
            );
            let resp = reply::local(&target.host, Local::UpstreamTimeout, &message);
            return finish_local(pending, resp, End::Complete, &target.host);
        }
    };
    let (mut rparts, rbody) = response.into_parts();
    strip_hop_by_hop(&mut rparts.headers);
    if let Some(p) = pending.as_mut() {
        p.answered(rparts.status.as_u16());
        p.parse_with(|| usage_parser(&rparts.headers));
    }
    let observed = ObservedBody::new(&state, rbody, pending);
    Response::from_parts(rparts, observed.boxed_unsync())
}

/// The answer to a request the upstream client failed on before a response head: 502, or 504
/// for a timeout, in the provider's error shape. A failed connect (or upstream TLS handshake)
/// means not a byte of the request left, so its reservation is released; after that it may
/// have been processed, and is charged.
fn upstream_failed(
    mut pending: Option<Pending>,
    error: &hyper_util::client::legacy::Error,
    target: &Target,
    destination: &Destination,
) -> Response<BoxBody> {
    if error.is_connect()
        && let Some(p) = pending.as_mut()
    {
        p.never_left();
    }
    let timeout = upstream::is_timeout(error);
    let chain = error_chain(error);
    tracing::warn!(host = %target.host, error = %chain, "upstream failed");
    let local = if timeout {
        Local::UpstreamTimeout
    } else {
        Local::UpstreamFailed
    };
    let message = format!("upstream {} failed: {chain}", destination.authority());
    let resp = reply::local(&target.host, local, &message);
    finish_local(pending, resp, End::Complete, &target.host)
}

fn usage_parser(headers: &http::HeaderMap) -> Option<UsageParser> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    UsageParser::for_response(text(header::CONTENT_TYPE)?, text(header::CONTENT_ENCODING))
}

/// Writes the pending `llm_response` (if any) for a response the proxy made; when it cannot
/// be written and the policy blocks, the answer becomes the 503 that says so.
fn finish_local(
    pending: Option<Pending>,
    resp: Response<BoxBody>,
    end: End,
    host: &str,
) -> Response<BoxBody> {
    if let Some(mut p) = pending {
        p.status(resp.status().as_u16());
        if p.finish(reply::body_len(&resp), end).is_err() {
            return reply::log_unavailable(host);
        }
    }
    resp
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
