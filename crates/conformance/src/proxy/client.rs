//! Sending a scenario's requests through the port.
//!
//! A real HTTPS client (reqwest on rustls) configured with the port as its proxy for every
//! URL: an `https://` URL goes through `CONNECT` and a TLS handshake with the port, which
//! must present a certificate chaining to the port CA (the only root the client trusts); an
//! `http://` URL is sent in absolute form. The harness sends requests one after the other,
//! in the scenario's order, each read to its end; a request that fails (refused, reset, TLS
//! error, timeout) is recorded as such and the next one is still sent. [`Sent`] is a request
//! as it leaves the client, what an upstream must receive of it.

use std::net::SocketAddr;
use std::time::Duration;

use super::expand::Expander;
use super::scenario::RequestSpec;

/// Longest a single request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Why the harness could not build its HTTPS client (a harness failure, not the port's).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The port CA's PEM is not a certificate reqwest accepts.
    #[error("port CA for the client: {0}")]
    Ca(#[source] reqwest::Error),
    /// The port's address is not a proxy URL.
    #[error("proxy URL: {0}")]
    ProxyUrl(#[source] reqwest::Error),
    /// The client could not be built.
    #[error("HTTP client: {0}")]
    Build(#[source] reqwest::Error),
}

/// Why one request got no response: the scenario fails with this message (redacted).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RequestError {
    /// The scenario's method is not an HTTP method.
    #[error("invalid method {0:?}")]
    Method(String),
    /// Sending or reading failed (refused, reset, TLS error, timeout): reqwest's error with
    /// its causes, since its own message alone says little ("error sending request").
    #[error("{0}")]
    Send(String),
}

/// What the client got for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Response {
    /// The status code.
    pub(crate) status: u16,
    /// The body, lossily decoded.
    pub(crate) body: String,
}

/// A client that goes through the proxy at `listen` and trusts only `ca_pem`.
pub(crate) fn client(listen: SocketAddr, ca_pem: &str) -> Result<reqwest::Client, ClientError> {
    agentlog_intercept::install_default_provider();
    let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).map_err(ClientError::Ca)?;
    let proxy = reqwest::Proxy::all(format!("http://{listen}")).map_err(ClientError::ProxyUrl)?;
    reqwest::Client::builder()
        .proxy(proxy)
        .tls_certs_only([ca])
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(ClientError::Build)
}

/// A request as the client sends it: what an upstream must receive of it, but for the
/// headers the port is meant to change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sent {
    /// The URL, `${NAME}` expanded.
    pub(crate) url: String,
    /// Every end-to-end header the client sends, names lowercase, values expanded: the
    /// scenario's, `content-type` with a body, and reqwest's own `accept: */*`.
    pub(crate) headers: Vec<(String, String)>,
    /// The body's exact bytes (empty without one).
    pub(crate) body: String,
}

impl Sent {
    /// `request` with `${NAME}` expanded.
    pub(crate) fn new(request: &RequestSpec, expander: &Expander) -> Sent {
        let mut headers: Vec<(String, String)> = request
            .headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), expander.text(v)))
            .collect();
        let mut add = |name: &str, value: &str| {
            if !headers.iter().any(|(n, _)| n == name) {
                headers.push((name.to_owned(), value.to_owned()));
            }
        };
        if request.body.is_some() {
            add("content-type", "application/json");
        }
        add("accept", "*/*");
        Sent {
            url: expander.text(&request.url),
            headers,
            body: request
                .body
                .as_ref()
                .map(|b| expander.value(b).to_string())
                .unwrap_or_default(),
        }
    }
}

/// Sends one request and reads its response to the end.
pub(crate) async fn send(
    client: &reqwest::Client,
    request: &RequestSpec,
    expander: &Expander,
) -> Result<Response, RequestError> {
    let method = reqwest::Method::from_bytes(request.method.as_bytes())
        .map_err(|_| RequestError::Method(request.method.clone()))?;
    let sent = Sent::new(request, expander);
    let mut builder = client.request(method, sent.url);
    for (name, value) in sent.headers {
        builder = builder.header(name, value);
    }
    if request.body.is_some() {
        builder = builder.body(sent.body);
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
fn describe(error: reqwest::Error) -> RequestError {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    RequestError::Send(text)
}
