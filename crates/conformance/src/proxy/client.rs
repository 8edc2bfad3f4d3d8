//! Sending a scenario's requests through the port.
//!
//! A real HTTPS client (reqwest on rustls) configured with the port as its proxy for every
//! URL: an `https://` URL goes through `CONNECT` and a TLS handshake with the port, which
//! must present a certificate chaining to the port CA (the only root the client trusts); an
//! `http://` URL is sent in absolute form. Requests go one after the other, in the
//! scenario's order, each read to its end; a request that fails (refused, reset, TLS error,
//! timeout) is recorded as such and the next one is still sent.

use std::net::SocketAddr;
use std::time::Duration;

use super::expand::Expander;
use super::scenario::RequestSpec;

/// Longest a single request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// What the client got for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body, lossily decoded.
    pub body: String,
}

/// A client that goes through the proxy at `listen` and trusts only `ca_pem`.
pub fn client(listen: SocketAddr, ca_pem: &str) -> Result<reqwest::Client, String> {
    agentlog_intercept::install_default_provider();
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes())
        .map_err(|e| format!("port CA for the client: {e}"))?;
    let proxy =
        reqwest::Proxy::all(format!("http://{listen}")).map_err(|e| format!("proxy URL: {e}"))?;
    reqwest::Client::builder()
        .proxy(proxy)
        .tls_certs_only([ca])
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| format!("HTTP client: {e}"))
}

/// Sends every request in order; one result per request.
pub async fn send_all(
    client: &reqwest::Client,
    requests: &[RequestSpec],
    expander: &Expander,
) -> Vec<Result<Response, String>> {
    let mut results = Vec::with_capacity(requests.len());
    for request in requests {
        results.push(send(client, request, expander).await);
    }
    results
}

async fn send(
    client: &reqwest::Client,
    request: &RequestSpec,
    expander: &Expander,
) -> Result<Response, String> {
    let method = reqwest::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| format!("invalid method {:?}", request.method))?;
    let mut builder = client.request(method, expander.text(&request.url));
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), expander.text(value));
    }
    if let Some(body) = &request.body {
        builder = builder
            .header("content-type", "application/json")
            .body(expander.value(body).to_string());
    }
    let response = builder.send().await.map_err(describe)?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(describe)?;
    Ok(Response {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// The error with its causes (reqwest's own message alone says little: "error sending
/// request").
fn describe(error: reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
