//! One client connection: the HTTP/1.1 proxy leg and the TLS tunnels behind `CONNECT`.
//!
//! Client-side limits: a request head must arrive within `client_header`, the TLS handshake
//! inside a tunnel within `client_handshake`, and a connection that is silent with nothing in
//! flight is closed after `client_idle` ([`ClientIo`]). Every connection is served through
//! the [`Lifecycle`](super::lifecycle::Lifecycle), which drains and cuts it at shutdown.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::super::BoxBody;
use super::client_io::{Activity, ClientIo, Guarded};
use super::lifecycle::serve_draining;
use super::target::Target;
use super::{State, forward, reply};

/// Serves one accepted client until it closes, times out, or shutdown ends it.
pub(super) async fn serve_client(state: Arc<State>, tcp: TcpStream, peer: SocketAddr) {
    let activity = Activity::default();
    let io = ClientIo::new(tcp, state.timeouts.client_idle, activity.clone());
    let service = {
        let (state, activity) = (state.clone(), activity.clone());
        service_fn(move |req| {
            let (state, activity) = (state.clone(), activity.clone());
            async move { Ok::<_, Infallible>(proxy_leg(state, activity, req).await) }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(state.timeouts.client_header);
    let conn = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    if let Some(Err(error)) = serve_draining!(state.lifecycle, conn) {
        tracing::debug!(%peer, %error, "client connection ended with an error");
    }
}

/// A request to the proxy itself: `CONNECT host:port`, or an absolute-form `http://` URL.
async fn proxy_leg(
    state: Arc<State>,
    activity: Activity,
    req: Request<Incoming>,
) -> Response<BoxBody> {
    if req.method() == Method::CONNECT {
        let Some(target) = Target::of(req.uri(), true, "tls") else {
            return reply::text(StatusCode::BAD_REQUEST, "CONNECT needs host:port\n");
        };
        let state2 = state.clone();
        state.lifecycle.spawn(async move {
            match hyper::upgrade::on(req).await {
                Ok(upgraded) => tunnel(state2, activity, upgraded, target).await,
                Err(error) => tracing::debug!(%error, "CONNECT upgrade failed"),
            }
        });
        return reply::empty(StatusCode::OK);
    }
    if req.uri().scheme_str() == Some("http")
        && let Some(target) = Target::of(req.uri(), false, "http")
    {
        return guarded(&activity, forward::forward(state, req, Arc::new(target))).await;
    }
    reply::text(
        StatusCode::BAD_REQUEST,
        "agentlog proxy: send CONNECT or absolute-form http:// requests\n",
    )
}

/// Runs one exchange marked in flight until its response body is done.
async fn guarded(
    activity: &Activity,
    exchange: impl Future<Output = Response<BoxBody>>,
) -> Response<BoxBody> {
    let guard = activity.begin();
    let resp = exchange.await;
    resp.map(|body| Guarded::new(body, guard).boxed_unsync())
}

/// Terminates TLS for `target` inside a `CONNECT` tunnel and serves HTTP/1.1 or h2 in it.
async fn tunnel(
    state: Arc<State>,
    activity: Activity,
    upgraded: hyper::upgrade::Upgraded,
    target: Target,
) {
    let config = match state.tls_config(&target.host) {
        Ok(config) => config,
        Err(error) => {
            tracing::warn!(%error, host = %target.host, "no TLS configuration for the tunnel");
            return;
        }
    };
    let handshake = TlsAcceptor::from(config).accept(TokioIo::new(upgraded));
    let tls = tokio::select! {
        done = tokio::time::timeout(state.timeouts.client_handshake, handshake) => done,
        () = state.lifecycle.cut().cancelled() => return,
    };
    let tls = match tls {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => {
            tracing::info!(%error, host = %target.host, "client TLS handshake failed (does the client trust the agentlog CA?)");
            return;
        }
        Err(_) => {
            tracing::info!(host = %target.host, "client TLS handshake timed out");
            return;
        }
    };
    let target = Arc::new(target);
    let service = {
        let state = state.clone();
        service_fn(move |req| {
            let (state, target, activity) = (state.clone(), target.clone(), activity.clone());
            async move {
                let exchange = forward::forward(state, req, target);
                Ok::<_, Infallible>(guarded(&activity, exchange).await)
            }
        })
    };
    let mut builder = hyper_util::server::conn::auto::Builder::new(state.lifecycle.executor());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(state.timeouts.client_header);
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(tls), service);
    if let Some(Err(error)) = serve_draining!(state.lifecycle, conn) {
        tracing::debug!(%error, "tunnel connection ended with an error");
    }
}
