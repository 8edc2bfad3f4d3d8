//! The host gate (`--allow-host`): which hosts requests may go to at all.
//!
//! With no pattern the gate is open: every host is allowed and nothing is decided, so no
//! `gate_decision` is written. With patterns, a request whose host matches one of them is
//! allowed (the event names the pattern); any other is blocked with the reference's reason,
//! [`NOT_IN_ALLOWLIST`], and answered 403 without contacting its upstream. Patterns are the
//! same globs as a secret's hosts (`*.example.com`, `example.*`, `*`).

use agentlog_core::event::GateDecision;
use agentlog_core::secrets::HostPattern;

/// The reason of a blocked `gate_decision`, as the reference's `host_filter` writes it.
pub const NOT_IN_ALLOWLIST: &str = "host not in allowlist";

/// An allowlist of host globs.
#[derive(Clone, Debug, Default)]
pub struct HostGate {
    patterns: Vec<HostPattern>,
}

impl HostGate {
    /// A gate allowing the hosts that match any of `patterns` (none: an open gate).
    pub fn new(patterns: Vec<HostPattern>) -> Self {
        HostGate { patterns }
    }

    /// A gate allowing the hosts matching any of `globs` (`--allow-host` values).
    pub fn from_globs<S: AsRef<str>>(globs: &[S]) -> Self {
        HostGate::new(globs.iter().map(|g| HostPattern::new(g.as_ref())).collect())
    }

    /// Whether the gate decides anything (some pattern was given).
    pub fn is_active(&self) -> bool {
        !self.patterns.is_empty()
    }

    /// The decision for `host` (normalized: lower case, no port); `None` for an open gate.
    ///
    /// ```
    /// use agentlog_core::secrets::HostPattern;
    /// use agentlog_intercept::HostGate;
    /// let gate = HostGate::new(vec![HostPattern::new("*.openai.com")]);
    /// let allowed = gate.decide("api.openai.com").unwrap();
    /// assert!(allowed.allowed);
    /// assert_eq!(allowed.pattern, "*.openai.com");
    /// let blocked = gate.decide("evil.example").unwrap();
    /// assert_eq!((blocked.allowed, blocked.reason.as_str()), (false, "host not in allowlist"));
    /// assert!(HostGate::default().decide("evil.example").is_none());
    /// ```
    pub fn decide(&self, host: &str) -> Option<GateDecision> {
        if !self.is_active() {
            return None;
        }
        let decision = match self.patterns.iter().find(|p| p.matches(host)) {
            Some(pattern) => GateDecision {
                host: host.to_owned(),
                allowed: true,
                pattern: pattern.as_str().to_owned(),
                ..Default::default()
            },
            None => GateDecision {
                host: host.to_owned(),
                allowed: false,
                reason: NOT_IN_ALLOWLIST.to_owned(),
                ..Default::default()
            },
        };
        Some(decision)
    }
}
