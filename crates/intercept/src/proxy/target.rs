//! Where a request goes and how it arrived, and the headers that stop at the proxy.

use http::Uri;

use super::super::route::RouteTarget;
use http::header::{self, HeaderMap, HeaderName};

/// Where a request is going and how it arrived.
#[derive(Clone, Debug)]
pub(super) struct Target {
    /// `https` upstream (the request came through a TLS tunnel).
    pub https: bool,
    /// Normalized: lower case, no port, no brackets, no trailing dot.
    pub host: String,
    pub port: u16,
    /// `tls` or `http`: the tag every event of this request carries.
    pub tag: &'static str,
}

impl Target {
    /// The authority to put in the upstream URI (`host` or `host:port`, IPv6 in brackets).
    pub(super) fn authority(&self) -> String {
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

    /// Parses the target of a `CONNECT` (`https`) or of an absolute-form `http://` request.
    /// `api.openai.com.` and `api.openai.com` are the same host (a trailing dot only makes
    /// a name fully qualified), so policy and events see the name without it.
    pub(super) fn of(uri: &Uri, https: bool, tag: &'static str) -> Option<Target> {
        let authority = uri.authority()?;
        let raw = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let raw = raw.strip_suffix('.').unwrap_or(raw);
        if raw.is_empty() || raw.ends_with('.') {
            return None;
        }
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
        Some(Target {
            https,
            host: raw.to_ascii_lowercase(),
            port,
            tag,
        })
    }
}

/// Where a request is really sent: its own host, or the target of a route.
#[derive(Clone, Debug)]
pub(super) struct Destination {
    https: bool,
    /// `host`, `host:port` or `[v6]:port`, as the upstream URI and `Host` header have it.
    authority: String,
    /// The host, normalized (the one secrets are injected for).
    pub host: String,
}

impl Destination {
    /// The request's own host.
    pub(super) fn of(target: &Target) -> Self {
        Destination {
            https: target.https,
            authority: target.authority(),
            host: target.host.clone(),
        }
    }

    /// A route's target.
    pub(super) fn routed(to: &RouteTarget) -> Self {
        Destination {
            https: to.https,
            authority: to.authority(),
            host: to.host.clone(),
        }
    }

    /// Whether it is spoken to over TLS.
    pub(super) fn https(&self) -> bool {
        self.https
    }

    /// The authority of the upstream URI and `Host` header.
    pub(super) fn authority(&self) -> &str {
        &self.authority
    }

    /// The absolute URI of the request `uri` (origin form or absolute) at this destination.
    pub(super) fn uri(&self, uri: &Uri) -> Option<Uri> {
        let pq = uri.path_and_query().map_or("/", |pq| pq.as_str());
        let scheme = if self.https { "https" } else { "http" };
        Uri::try_from(format!("{scheme}://{}{pq}", self.authority)).ok()
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

/// Removes the headers that concern one hop only (RFC 9110 section 7.6.1), including those the
/// `Connection` header lists.
pub(super) fn strip_hop_by_hop(headers: &mut HeaderMap) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_dot_and_case_are_normalized() {
        let uri: Uri = "api.OpenAI.com.:443".parse().unwrap();
        let t = Target::of(&uri, true, "tls").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("api.openai.com", 443));
        assert_eq!(t.authority(), "api.openai.com");
        let uri: Uri = "[::1]:8443".parse().unwrap();
        let t = Target::of(&uri, true, "tls").unwrap();
        assert_eq!(t.authority(), "[::1]:8443");
        for bad in ["http://./x", "http://a../x"] {
            let uri: Uri = bad.parse().unwrap();
            assert!(Target::of(&uri, false, "http").is_none(), "{bad}");
        }
    }
}
