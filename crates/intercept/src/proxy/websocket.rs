//! `Upgrade: websocket` relayed to the upstream (OpenAI's Realtime API, for one).
//!
//! The upgrade request goes through the same policy as any request (leaks refused,
//! placeholders injected into its headers, `key_injection` and, for an LLM host,
//! `llm_request` written). It is then sent on a fresh HTTP/1.1 connection to the upstream;
//! when the upstream answers `101 Switching Protocols` the two upgraded streams are joined
//! and relayed byte for byte. The `llm_response` (status 101, `body_bytes` = bytes relayed
//! from the upstream) is written when the relay ends; a relay cut at shutdown is tagged
//! `incomplete` and `cut_short`. Frames are not inspected. Upgrades inside h2 (RFC 8441
//! extended `CONNECT`) are not offered: the tunnel's h2 does not advertise them.

use std::sync::Arc;

use http::header::{self, HeaderMap, HeaderValue};
use http::request::Parts;
use http::{Request, Response, StatusCode, Version};
use http_body_util::{BodyExt, Empty};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

use super::super::BoxBody;
use super::State;
use super::observe::{End, ObservedBody, Pending};
use super::reply::{self, Local};
use super::target::{Destination, Target, strip_hop_by_hop};

/// Whether the request asks to switch to WebSocket (HTTP/1.1 `Connection: upgrade`).
pub(super) fn is_upgrade(parts: &Parts) -> bool {
    let has_token = |name: header::HeaderName, token: &str| {
        parts
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    parts.version == Version::HTTP_11
        && has_token(header::CONNECTION, "upgrade")
        && has_token(header::UPGRADE, "websocket")
}

/// Sends the upgrade upstream and, on 101, relays the two streams.
pub(super) async fn relay(
    state: Arc<State>,
    mut parts: Parts,
    target: Arc<Target>,
    destination: Destination,
    mut pending: Option<Pending>,
) -> Response<BoxBody> {
    let Some(client_side) = parts.extensions.remove::<OnUpgrade>() else {
        let resp = reply::text(StatusCode::BAD_REQUEST, "upgrade not possible here\n");
        return finish(pending, resp, &target.host);
    };
    let upgrade = parts.headers.get(header::UPGRADE).cloned();
    let Some(uri) = destination.uri(&parts.uri) else {
        let resp = reply::text(StatusCode::BAD_REQUEST, "bad request target\n");
        return finish(pending, resp, &target.host);
    };
    strip_hop_by_hop(&mut parts.headers);
    restore_upgrade(&mut parts.headers, upgrade);
    parts.headers.remove(header::HOST);
    if let Ok(host) = HeaderValue::from_str(destination.authority()) {
        parts.headers.insert(header::HOST, host);
    }
    parts.uri = uri.clone();
    let mut upstream_resp = match open_upstream(&state, uri, parts, &mut pending).await {
        Ok(resp) => resp,
        Err(message) => {
            tracing::warn!(host = %target.host, error = %message, "websocket upgrade failed");
            let resp = reply::local(&target.host, Local::UpstreamFailed, &message);
            return finish(pending, resp, &target.host);
        }
    };
    if upstream_resp.status() != StatusCode::SWITCHING_PROTOCOLS {
        // Not upgraded: relay the answer as an ordinary response.
        let (mut rparts, body) = upstream_resp.into_parts();
        strip_hop_by_hop(&mut rparts.headers);
        if let Some(p) = pending.as_mut() {
            p.answered(rparts.status.as_u16());
        }
        let observed = ObservedBody::new(&state, body, pending);
        return Response::from_parts(rparts, observed.boxed_unsync());
    }
    let upstream_side = hyper::upgrade::on(&mut upstream_resp);
    let (rparts, _) = upstream_resp.into_parts();
    let state2 = state.clone();
    state
        .lifecycle
        .spawn(join(state2, client_side, upstream_side, pending));
    Response::from_parts(
        rparts,
        Empty::new().map_err(|never| match never {}).boxed_unsync(),
    )
}

fn restore_upgrade(headers: &mut HeaderMap, upgrade: Option<HeaderValue>) {
    if let Some(upgrade) = upgrade {
        headers.insert(header::UPGRADE, upgrade);
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    }
}

/// Sends the upgrade request on a new HTTP/1.1 connection; `pending` learns whether it left
/// (a failed connect means it never did).
async fn open_upstream(
    state: &State,
    uri: http::Uri,
    parts: Parts,
    pending: &mut Option<Pending>,
) -> Result<Response<hyper::body::Incoming>, String> {
    let io = state
        .connector
        .connect_http1(uri)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    if let Some(p) = pending.as_mut() {
        p.sending();
    }
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(async move {
        if let Err(error) = conn.with_upgrades().await {
            tracing::debug!(%error, "websocket upstream connection ended with an error");
        }
    });
    let request = Request::from_parts(parts, Empty::<bytes::Bytes>::new());
    tokio::time::timeout(state.timeouts.response_head, sender.send_request(request))
        .await
        .map_err(|_| "no response to the upgrade in time".to_owned())?
        .map_err(|e| format!("upgrade request: {e}"))
}

/// Relays between the upgraded client and upstream streams until either side closes.
async fn join(
    state: Arc<State>,
    client_side: OnUpgrade,
    upstream_side: OnUpgrade,
    mut pending: Option<Pending>,
) {
    if let Some(p) = pending.as_mut() {
        p.answered(StatusCode::SWITCHING_PROTOCOLS.as_u16());
    }
    let (client, upstream) = match tokio::try_join!(client_side, upstream_side) {
        Ok(both) => both,
        Err(error) => {
            tracing::warn!(%error, "websocket upgrade not completed");
            if let Some(p) = pending {
                let _ = p.finish(0, End::Incomplete);
            }
            return;
        }
    };
    let (mut client, mut upstream) = (TokioIo::new(client), TokioIo::new(upstream));
    let copied = tokio::select! {
        copied = tokio::io::copy_bidirectional(&mut client, &mut upstream) => Some(copied),
        () = state.lifecycle.cut().cancelled() => None,
    };
    let Some(p) = pending else { return };
    // The relay is over: nothing is left to refuse, and `emit` reports a failed write.
    let _ = match copied {
        Some(Ok((_, down))) => p.finish(down, End::Complete),
        Some(Err(error)) => {
            tracing::debug!(%error, "websocket relay ended with an error");
            p.finish(0, End::Incomplete)
        }
        None => p.finish(0, End::CutShort),
    };
}

fn finish(pending: Option<Pending>, resp: Response<BoxBody>, host: &str) -> Response<BoxBody> {
    if let Some(mut p) = pending {
        p.status(resp.status().as_u16());
        let len = reply::body_len(&resp);
        if p.finish(len, End::Complete).is_err() {
            return reply::log_unavailable(host);
        }
    }
    resp
}
