//! Responses the proxy makes itself.
//!
//! A policy refusal answers `403 Blocked by policy` in plain text, as the reference does.
//! Every other local answer (upstream unreachable or too slow, request too large, event log
//! unavailable, shutting down) is JSON in the error shape of the provider the request was
//! for, so an SDK shows the reason instead of a bare status: Anthropic's
//! `{"type":"error","error":{"type":..,"message":..}}` for `*.anthropic.com`, OpenAI's
//! `{"error":{"message":..,"type":..,"code":..}}` (which most other APIs imitate) for the rest.
//! Each also carries `x-agentlog-error` with a short reason.

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Full};

use super::super::BoxBody;

/// Why the proxy answered a request itself (other than a policy refusal).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Local {
    /// The upstream could not be reached or failed before a response (502).
    UpstreamFailed,
    /// The upstream did not answer in time (504).
    UpstreamTimeout,
    /// The request body is larger than the proxy buffers (413).
    TooLarge,
    /// The request body could not be read (400).
    BadBody,
    /// An event of the request could not be written (503).
    LogUnavailable,
    /// The proxy is shutting down (503).
    ShuttingDown,
    /// The request could take spend past `--budget-usd` (429).
    BudgetExceeded,
}

impl Local {
    pub(super) fn status(self) -> StatusCode {
        match self {
            Local::UpstreamFailed => StatusCode::BAD_GATEWAY,
            Local::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
            Local::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Local::BadBody => StatusCode::BAD_REQUEST,
            Local::LogUnavailable | Local::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            Local::BudgetExceeded => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// The `x-agentlog-error` value and the error `code`.
    fn code(self) -> &'static str {
        match self {
            Local::UpstreamFailed => "upstream_failed",
            Local::UpstreamTimeout => "upstream_timeout",
            Local::TooLarge => "request_too_large",
            Local::BadBody => "request_body_unreadable",
            Local::LogUnavailable => "event_log_unavailable",
            Local::ShuttingDown => "proxy_shutting_down",
            Local::BudgetExceeded => "budget_exceeded",
        }
    }

    /// Anthropic's error `type` for this status.
    fn anthropic_type(self) -> &'static str {
        match self {
            Local::TooLarge => "request_too_large",
            Local::BadBody => "invalid_request_error",
            Local::UpstreamTimeout => "timeout_error",
            Local::LogUnavailable | Local::ShuttingDown => "overloaded_error",
            Local::UpstreamFailed => "api_error",
            Local::BudgetExceeded => "rate_limit_error",
        }
    }
}

/// The JSON error body for `local` on a request to `host`, `message` explaining it.
pub(super) fn local(host: &str, local: Local, message: &str) -> Response<BoxBody> {
    let message = format!("agentlog proxy: {message}");
    let body = if is_anthropic(host) {
        serde_json::json!({
            "type": "error",
            "error": { "type": local.anthropic_type(), "message": message },
        })
    } else {
        serde_json::json!({
            "error": {
                "message": message,
                "type": "agentlog_proxy_error",
                "param": null,
                "code": local.code(),
            }
        })
    };
    let mut resp = with_body(local.status(), Bytes::from(body.to_string()));
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("x-agentlog-error", HeaderValue::from_static(local.code()));
    resp
}

/// The 503 of a request refused because its event could not be written.
pub(super) fn log_unavailable(host: &str) -> Response<BoxBody> {
    local(
        host,
        Local::LogUnavailable,
        "the event log cannot be written, so the request was not forwarded (--on-log-error block)",
    )
}

fn is_anthropic(host: &str) -> bool {
    host == "anthropic.com" || host.ends_with(".anthropic.com")
}

/// A plain-text response.
pub(super) fn text(status: StatusCode, body: &'static str) -> Response<BoxBody> {
    let mut resp = with_body(status, Bytes::from_static(body.as_bytes()));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// The reference's refusal: 403 `Blocked by policy`.
pub(super) fn blocked() -> Response<BoxBody> {
    text(StatusCode::FORBIDDEN, "Blocked by policy")
}

/// The refusal of a placeholder sent over cleartext: still 403 `Blocked by policy`, with
/// the reason after it.
pub(super) fn blocked_cleartext() -> Response<BoxBody> {
    text(
        StatusCode::FORBIDDEN,
        "Blocked by policy: secrets are injected only inside TLS; use https:// (or start the proxy with --allow-cleartext-injection)",
    )
}

/// A response without a body (the `200` that opens a `CONNECT` tunnel).
pub(super) fn empty(status: StatusCode) -> Response<BoxBody> {
    with_body(status, Bytes::new())
}

fn with_body(status: StatusCode, body: Bytes) -> Response<BoxBody> {
    let mut resp = Response::new(
        Full::new(body)
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *resp.status_mut() = status;
    resp
}

/// Byte length of a response the proxy made (what `body_bytes` records).
pub(super) fn body_len(resp: &Response<BoxBody>) -> u64 {
    http_body::Body::size_hint(resp.body()).exact().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn json(resp: Response<BoxBody>) -> serde_json::Value {
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn provider_shapes() {
        let r = local(
            "api.anthropic.com",
            Local::UpstreamFailed,
            "connect refused",
        );
        assert_eq!(r.status(), 502);
        let v = json(r).await;
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"]["type"], "api_error");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("connect refused")
        );

        let r = local(
            "api.openai.com",
            Local::UpstreamTimeout,
            "no answer in 300s",
        );
        assert_eq!(r.status(), 504);
        assert_eq!(r.headers()["x-agentlog-error"], "upstream_timeout");
        let v = json(r).await;
        assert_eq!(v["error"]["code"], "upstream_timeout");
        assert!(v["error"]["message"].as_str().unwrap().contains("300s"));
    }
}
