//! The upstream side: a pooled hyper client whose connector resolves through the
//! `--connect-to` map and speaks TLS with rustls (webpki roots plus `--upstream-ca`).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::BoxBody;

/// Boxed error type used across the proxy.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// `--connect-to` overrides: `host:port` (lower case) to the address actually dialled.
pub type ConnectTo = HashMap<String, String>;

/// Parses `HOST:PORT=ADDR:PORT`.
pub fn parse_connect_to(spec: &str) -> Result<(String, String), String> {
    let (from, to) = spec
        .split_once('=')
        .ok_or_else(|| format!("--connect-to {spec:?}: expected HOST:PORT=ADDR:PORT"))?;
    let has_port = |s: &str| {
        s.rsplit_once(':')
            .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
    };
    if !has_port(from) || !has_port(to) {
        return Err(format!(
            "--connect-to {spec:?}: expected HOST:PORT=ADDR:PORT"
        ));
    }
    Ok((from.to_ascii_lowercase(), to.to_owned()))
}

/// A TCP or TLS connection to an upstream.
#[derive(Debug)]
pub(crate) enum UpstreamStream {
    /// Plain TCP (`http://`).
    Plain(TcpStream),
    /// TLS over TCP (`https://`).
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for UpstreamStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpstreamStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            UpstreamStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for UpstreamStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            UpstreamStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            UpstreamStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpstreamStream::Plain(s) => Pin::new(s).poll_flush(cx),
            UpstreamStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            UpstreamStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            UpstreamStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

impl Connection for UpstreamStream {
    fn connected(&self) -> Connected {
        match self {
            UpstreamStream::Plain(_) => Connected::new(),
            UpstreamStream::Tls(s) => {
                if s.get_ref().1.alpn_protocol() == Some(b"h2") {
                    Connected::new().negotiated_h2()
                } else {
                    Connected::new()
                }
            }
        }
    }
}

/// Dials upstreams: `--connect-to` overrides first, then DNS; TLS for `https`.
#[derive(Clone)]
pub(crate) struct UpstreamConnector {
    tls: TlsConnector,
    /// The same trust, offering only HTTP/1.1 (an `Upgrade` needs it).
    tls_http1: TlsConnector,
    connect_to: Arc<ConnectTo>,
    connect_timeout: Duration,
}

impl std::fmt::Debug for UpstreamConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamConnector")
            .field("connect_to", &self.connect_to)
            .finish_non_exhaustive()
    }
}

impl UpstreamConnector {
    /// A connector trusting the webpki roots plus `extra_roots`.
    pub(crate) fn new(
        extra_roots: &[CertificateDer<'static>],
        connect_to: ConnectTo,
        connect_timeout: Duration,
    ) -> Result<Self, rustls::Error> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for cert in extra_roots {
            roots.add(cert.clone())?;
        }
        let mut config = rustls::ClientConfig::builder_with_provider(super::ca::provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http1 = config.clone();
        http1.alpn_protocols = vec![b"http/1.1".to_vec()];
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(UpstreamConnector {
            tls: TlsConnector::from(Arc::new(config)),
            tls_http1: TlsConnector::from(Arc::new(http1)),
            connect_to: Arc::new(connect_to),
            connect_timeout,
        })
    }

    /// A fresh connection to `uri`'s upstream that speaks HTTP/1.1 (for `Upgrade`).
    pub(crate) async fn connect_http1(
        &self,
        uri: Uri,
    ) -> Result<TokioIo<UpstreamStream>, BoxError> {
        let tls = self.tls_http1.clone();
        self.clone().connect_with(uri, tls).await
    }

    async fn connect(self, uri: Uri) -> Result<TokioIo<UpstreamStream>, BoxError> {
        let tls = self.tls.clone();
        self.connect_with(uri, tls).await
    }

    async fn connect_with(
        self,
        uri: Uri,
        tls: TlsConnector,
    ) -> Result<TokioIo<UpstreamStream>, BoxError> {
        let https = uri.scheme_str() == Some("https");
        let host = uri.host().ok_or("upstream URI has no host")?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let key = format!("{}:{port}", host.to_ascii_lowercase());
        let key_bracketed = format!("[{}]:{port}", host.to_ascii_lowercase());
        let target = self
            .connect_to
            .get(&key)
            .or_else(|| self.connect_to.get(&key_bracketed))
            .cloned();
        let dial = async {
            match target {
                Some(addr) => TcpStream::connect(addr.as_str()).await,
                None => match host.parse::<std::net::IpAddr>() {
                    Ok(ip) => TcpStream::connect(SocketAddr::new(ip, port)).await,
                    Err(_) => TcpStream::connect((host.as_str(), port)).await,
                },
            }
        };
        let tcp = tokio::time::timeout(self.connect_timeout, dial)
            .await
            .map_err(|_| UpstreamTimeout)??;
        let _ = tcp.set_nodelay(true);
        if !https {
            return Ok(TokioIo::new(UpstreamStream::Plain(tcp)));
        }
        let name = ServerName::try_from(host.clone())?;
        let tls = tokio::time::timeout(self.connect_timeout, tls.connect(name, tcp))
            .await
            .map_err(|_| UpstreamTimeout)??;
        Ok(TokioIo::new(UpstreamStream::Tls(Box::new(tls))))
    }
}

/// The upstream did not answer in time.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("upstream timed out")]
pub(crate) struct UpstreamTimeout;

impl tower_service::Service<Uri> for UpstreamConnector {
    type Response = TokioIo<UpstreamStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        Box::pin(self.clone().connect(uri))
    }
}

/// The pooled upstream client.
pub(crate) type UpstreamClient = Client<UpstreamConnector, BoxBody>;

/// Builds the pooled client (HTTP/1.1 and HTTP/2 by ALPN).
pub(crate) fn client(connector: UpstreamConnector) -> UpstreamClient {
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .build(connector)
}

/// Whether `error` (or a cause of it) is a timeout.
pub(crate) fn is_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cur {
        if e.is::<UpstreamTimeout>() || e.is::<tokio::time::error::Elapsed>() {
            return true;
        }
        if let Some(io) = e.downcast_ref::<io::Error>()
            && io.kind() == io::ErrorKind::TimedOut
        {
            return true;
        }
        cur = e.source();
    }
    false
}
