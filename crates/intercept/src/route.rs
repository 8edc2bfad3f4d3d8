//! Routes (`--route HOST=ADDR:PORT`): requests for a host sent to another upstream, such as a
//! local inference server, as the reference's `local_model_router` does.
//!
//! A route is chosen by the request's host (a glob, as for secrets), first match wins. The
//! target is `ADDR:PORT`, spoken to over plain HTTP (local inference servers listen so), or
//! `https://ADDR:PORT` for TLS (verified against the upstream trust, `--upstream-ca`).
//!
//! With no route nothing is decided and no `route_decision` is written; with routes, every
//! request gets one: `redirected` with `routed_to`, or `passthrough` with the reference's
//! reason (`no route entry for host H`).
//!
//! **Secrets and routes.** Whether a placeholder *leaks* is judged by the host the agent
//! addressed (it is the agent's intent that policy guards), but secrets are *injected* for
//! the host the request really goes to: a key allowed for `openrouter.ai` is never sent to a
//! local server that `openrouter.ai` is routed to, and over plain HTTP nothing is injected
//! (unless `--allow-cleartext-injection`). The placeholder then stays in the request, which
//! reveals nothing: that is the reference's `skipped`.

use agentlog_core::event::RouteDecision;
use agentlog_core::secrets::HostPattern;

/// Where a routed request goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteTarget {
    /// Speak TLS to it (`https://ADDR:PORT`).
    pub https: bool,
    /// Host name or IP address, lower case, IPv6 without brackets.
    pub host: String,
    /// Port.
    pub port: u16,
}

impl RouteTarget {
    /// `host:port` (IPv6 in brackets): the `routed_to` of the events.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// One `--route`.
#[derive(Clone, Debug)]
pub struct Route {
    /// Hosts it applies to.
    pub from: HostPattern,
    /// Where they go.
    pub to: RouteTarget,
}

/// Why a `--route` was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("--route {spec:?}: {problem} (expected HOST=ADDR:PORT or HOST=https://ADDR:PORT)")]
pub struct RouteError {
    spec: String,
    problem: &'static str,
}

impl std::str::FromStr for Route {
    type Err = RouteError;

    /// Parses `HOST=ADDR:PORT`, `HOST=http://ADDR:PORT` or `HOST=https://ADDR:PORT`.
    ///
    /// ```
    /// use agentlog_intercept::Route;
    /// let route: Route = "openrouter.ai=127.0.0.1:11434".parse().unwrap();
    /// assert_eq!(route.to.authority(), "127.0.0.1:11434");
    /// assert!(!route.to.https);
    /// assert!("openrouter.ai=127.0.0.1".parse::<Route>().is_err());
    /// ```
    fn from_str(spec: &str) -> Result<Self, RouteError> {
        let fail = |problem| RouteError {
            spec: spec.to_owned(),
            problem,
        };
        let (from, to) = spec.split_once('=').ok_or_else(|| fail("no `=`"))?;
        if from.is_empty() || from.contains(['/', ':', '=']) {
            return Err(fail("the host before `=` must be a host name or glob"));
        }
        let (https, authority) = match to.split_once("://") {
            Some(("https", rest)) => (true, rest),
            Some(("http", rest)) => (false, rest),
            Some(_) => return Err(fail("the scheme must be http or https")),
            None => (false, to),
        };
        let (host, port) = authority
            .rsplit_once(':')
            .ok_or_else(|| fail("the target needs a port"))?;
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| fail("the port must be a number from 1 to 65535"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains(['/', '@', '?', '#']) {
            return Err(fail("the target needs a host"));
        }
        Ok(Route {
            from: HostPattern::new(from),
            to: RouteTarget {
                https,
                host: host.to_ascii_lowercase(),
                port,
            },
        })
    }
}

/// The configured routes, first match wins.
#[derive(Clone, Debug, Default)]
pub struct Routes {
    routes: Vec<Route>,
}

/// What the router decided for one request.
#[derive(Clone, Debug)]
pub struct Routing {
    /// The event to write.
    pub decision: RouteDecision,
    /// Where the request goes instead of its host; `None` for `passthrough`.
    pub target: Option<RouteTarget>,
}

impl Routes {
    /// The routes, in the order they are tried.
    pub fn new(routes: Vec<Route>) -> Self {
        Routes { routes }
    }

    /// Parses `--route` specs, in order; the first bad one is the error.
    pub fn parse<S: AsRef<str>>(specs: &[S]) -> Result<Self, RouteError> {
        let routes = specs
            .iter()
            .map(|spec| spec.as_ref().parse::<Route>())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Routes::new(routes))
    }

    /// Whether any route is configured.
    pub fn is_active(&self) -> bool {
        !self.routes.is_empty()
    }

    /// The decision for `host` (normalized); `None` when no route is configured.
    ///
    /// ```
    /// use agentlog_intercept::{Route, Routes};
    /// let routes = Routes::new(vec!["openrouter.ai=127.0.0.1:11434".parse::<Route>().unwrap()]);
    /// let routed = routes.decide("openrouter.ai").unwrap();
    /// assert_eq!(routed.decision.action, "redirected");
    /// assert_eq!(routed.decision.routed_to, "127.0.0.1:11434");
    /// let passed = routes.decide("api.openai.com").unwrap();
    /// assert_eq!(passed.decision.reason, "no route entry for host api.openai.com");
    /// assert!(passed.target.is_none());
    /// ```
    pub fn decide(&self, host: &str) -> Option<Routing> {
        if !self.is_active() {
            return None;
        }
        let routing = match self.routes.iter().find(|r| r.from.matches(host)) {
            Some(route) => Routing {
                decision: RouteDecision {
                    host: host.to_owned(),
                    action: RouteDecision::REDIRECTED.to_owned(),
                    routed_to: route.to.authority(),
                    reason: format!(
                        "matched route {} -> {}",
                        route.from.as_str(),
                        route.to.authority()
                    ),
                    ..Default::default()
                },
                target: Some(route.to.clone()),
            },
            None => Routing {
                decision: RouteDecision {
                    host: host.to_owned(),
                    action: RouteDecision::PASSTHROUGH.to_owned(),
                    reason: format!("no route entry for host {host}"),
                    ..Default::default()
                },
                target: None,
            },
        };
        Some(routing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_schemes_ipv6_and_refuses_what_is_not_a_route() {
        let r: Route = "*.example.com=https://[::1]:8443".parse().unwrap();
        assert!(r.to.https);
        assert_eq!(r.to.authority(), "[::1]:8443");
        let r: Route = "a.example=http://Local.Host:80".parse().unwrap();
        assert_eq!((r.to.https, r.to.host.as_str()), (false, "local.host"));
        for bad in [
            "no-equals",
            "=127.0.0.1:1",
            "a:443=127.0.0.1:1",
            "a=127.0.0.1",
            "a=127.0.0.1:0",
            "a=127.0.0.1:99999",
            "a=ftp://h:1",
            "a=:1",
        ] {
            let error = bad.parse::<Route>().unwrap_err();
            assert!(
                error.to_string().contains("expected HOST=ADDR:PORT"),
                "{bad}"
            );
        }
    }

    #[test]
    fn first_matching_route_wins() {
        let routes = Routes::new(vec![
            "api.openai.com=127.0.0.1:1".parse().unwrap(),
            "*.openai.com=127.0.0.1:2".parse().unwrap(),
        ]);
        let routed_to = |h| routes.decide(h).unwrap().decision.routed_to;
        assert_eq!(routed_to("api.openai.com"), "127.0.0.1:1");
        assert_eq!(routed_to("x.openai.com"), "127.0.0.1:2");
        assert!(Routes::default().decide("api.openai.com").is_none());
    }
}
