//! Secret injection, as the reference sandbox's `secret_injector` plugin does it.
//!
//! The agent holds only placeholders (`SANDBOX_SECRET_` + 32 lowercase hex). For each request
//! the [`Injector`] decides, secret by secret, in the order the secrets were configured:
//!
//! - the secret is **not allowed** for the request's host (port stripped) and its placeholder
//!   appears in a header value or anywhere in the request target (path or query): a leak.
//!   Nothing is replaced, one `leak_blocked` event is produced per leaking secret, and the
//!   caller must answer 403 `Blocked by policy` without contacting the upstream;
//! - the secret is **not allowed** and its placeholder is absent: `skipped`;
//! - the secret is **allowed**: the placeholder is replaced by the value in header values and
//!   in the URL query (never the path or the body), and the event is `injected`. Like the
//!   reference (`replaceInRequest` runs and "secret injected" is reported whenever the host
//!   is allowed), this is `injected` even when the request did not carry the placeholder.
//!
//! When any secret leaks, only the `leak_blocked` events are produced for that request.

use bytes::Bytes;
use http::HeaderValue;
use http::uri::{PathAndQuery, Uri};
use memchr::memmem;

use agentlog_core::event::{InjectionAction, KeyInjection};
use agentlog_core::secrets::{PLACEHOLDER_LEN, PLACEHOLDER_PREFIX, Secret, strip_port};

/// A new random placeholder: `SANDBOX_SECRET_` + 32 lowercase hex characters.
pub fn generate_placeholder() -> String {
    let bytes: [u8; 16] = rand::random();
    let mut out = String::with_capacity(PLACEHOLDER_LEN);
    out.push_str(PLACEHOLDER_PREFIX);
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Why the injector could not be built. Messages name secrets, never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InjectError {
    /// `--placeholder NAME=...` names no configured secret.
    #[error("--placeholder {0}: no secret of that name")]
    UnknownPlaceholderName(String),
    /// A placeholder override is malformed or empty.
    #[error(
        "--placeholder must be NAME=PLACEHOLDER (got a value for {0:?} that is empty or not printable ASCII)"
    )]
    BadPlaceholder(String),
    /// Two secrets share a name.
    #[error("secret {0} is given twice")]
    DuplicateName(String),
    /// A placeholder contains a secret's value or vice versa, which would defeat the log check.
    #[error("placeholder of {0} overlaps a secret value")]
    PlaceholderOverlapsValue(String),
}

/// One configured secret with its placeholder.
#[derive(Debug, Clone)]
struct Entry {
    secret: Secret,
    placeholder: String,
}

/// The result of [`Injector::apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Forward the (modified) request; one event per configured secret.
    Forward(Vec<KeyInjection>),
    /// Refuse with 403 and contact nobody; one `leak_blocked` event per leaking secret.
    Block(Vec<KeyInjection>),
}

/// Replaces placeholders with secret values for allowed hosts and detects leaks.
#[derive(Debug, Clone, Default)]
pub struct Injector {
    entries: Vec<Entry>,
}

impl Injector {
    /// Builds the injector; `placeholders` fixes the placeholder of named secrets, the others
    /// get a random one.
    pub fn new(
        secrets: Vec<Secret>,
        placeholders: &[(String, String)],
    ) -> Result<Self, InjectError> {
        for (name, value) in placeholders {
            if !secrets.iter().any(|s| s.name() == name) {
                return Err(InjectError::UnknownPlaceholderName(name.clone()));
            }
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(InjectError::BadPlaceholder(name.clone()));
            }
        }
        let mut entries: Vec<Entry> = Vec::with_capacity(secrets.len());
        for secret in secrets {
            if entries.iter().any(|e| e.secret.name() == secret.name()) {
                return Err(InjectError::DuplicateName(secret.name().to_owned()));
            }
            let placeholder = placeholders
                .iter()
                .rev()
                .find(|(n, _)| n == secret.name())
                .map(|(_, p)| p.clone())
                .unwrap_or_else(generate_placeholder);
            entries.push(Entry {
                secret,
                placeholder,
            });
        }
        for e in &entries {
            for other in &entries {
                let (p, v) = (e.placeholder.as_str(), other.secret.expose());
                if p.contains(v) || v.contains(p) {
                    return Err(InjectError::PlaceholderOverlapsValue(
                        e.secret.name().to_owned(),
                    ));
                }
            }
        }
        Ok(Injector { entries })
    }

    /// `(name, placeholder)` of every secret, in configuration order.
    pub fn placeholders(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|e| (e.secret.name(), e.placeholder.as_str()))
    }

    /// The configured secrets.
    pub fn secrets(&self) -> impl Iterator<Item = &Secret> {
        self.entries.iter().map(|e| &e.secret)
    }

    /// Whether no secret is configured.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Applies the policy to a request addressed to `host` (a `:port` is ignored): replaces
    /// placeholders in `parts` for allowed secrets, or reports a leak.
    pub(crate) fn apply(&self, host: &str, parts: &mut http::request::Parts) -> Decision {
        let host = strip_port(host).to_ascii_lowercase();
        let event = |e: &Entry, action| KeyInjection {
            secret_name: e.secret.name().to_owned(),
            host: host.clone(),
            action,
        };
        let leaks: Vec<KeyInjection> = self
            .entries
            .iter()
            .filter(|e| !e.secret.allows(&host) && contains_placeholder(parts, &e.placeholder))
            .map(|e| event(e, InjectionAction::LeakBlocked))
            .collect();
        if !leaks.is_empty() {
            return Decision::Block(leaks);
        }
        let mut events = Vec::with_capacity(self.entries.len());
        for e in &self.entries {
            if e.secret.allows(&host) {
                replace_in_request(parts, &e.placeholder, e.secret.expose());
                events.push(event(e, InjectionAction::Injected));
            } else {
                events.push(event(e, InjectionAction::Skipped));
            }
        }
        Decision::Forward(events)
    }
}

fn contains_placeholder(parts: &http::request::Parts, placeholder: &str) -> bool {
    let needle = placeholder.as_bytes();
    parts
        .headers
        .values()
        .any(|v| memmem::find(v.as_bytes(), needle).is_some())
        || memmem::find(parts.uri.to_string().as_bytes(), needle).is_some()
}

fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8]) -> Option<Vec<u8>> {
    let finder = memmem::Finder::new(needle);
    let mut found = finder.find_iter(haystack).peekable();
    found.peek()?;
    let mut out = Vec::with_capacity(haystack.len() + with.len());
    let mut last = 0;
    for at in found {
        out.extend_from_slice(&haystack[last..at]);
        out.extend_from_slice(with);
        last = at + needle.len();
    }
    out.extend_from_slice(&haystack[last..]);
    Some(out)
}

fn replace_in_request(parts: &mut http::request::Parts, placeholder: &str, value: &str) {
    let (needle, with) = (placeholder.as_bytes(), value.as_bytes());
    for header in parts.headers.values_mut() {
        if let Some(replaced) = replace_bytes(header.as_bytes(), needle, with) {
            // A value that cannot be a header value (control characters) is not injected.
            if let Ok(mut new) = HeaderValue::from_maybe_shared(Bytes::from(replaced)) {
                new.set_sensitive(true);
                *header = new;
            }
        }
    }
    let Some(query) = parts.uri.query() else {
        return;
    };
    let Some(replaced) = replace_bytes(query.as_bytes(), needle, with) else {
        return;
    };
    let mut pq = Vec::with_capacity(parts.uri.path().len() + 1 + replaced.len());
    pq.extend_from_slice(parts.uri.path().as_bytes());
    pq.push(b'?');
    pq.extend_from_slice(&replaced);
    let Ok(pq) = PathAndQuery::from_maybe_shared(Bytes::from(pq)) else {
        return;
    };
    let mut uri_parts = parts.uri.clone().into_parts();
    uri_parts.path_and_query = Some(pq);
    if let Ok(uri) = Uri::from_parts(uri_parts) {
        parts.uri = uri;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str, auth: &str) -> http::request::Parts {
        let (parts, ()) = http::Request::builder()
            .uri(uri)
            .header("authorization", auth)
            .body(())
            .unwrap()
            .into_parts();
        parts
    }

    #[test]
    fn placeholder_shape() {
        let p = generate_placeholder();
        assert_eq!(p.len(), PLACEHOLDER_PREFIX.len() + 32);
        assert!(agentlog_core::secrets::is_placeholder(&p), "{p}");
        assert!(
            p[PLACEHOLDER_PREFIX.len()..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }

    #[test]
    fn injects_skips_and_blocks() {
        let a = Secret::parse("A=aaaa-value@api.openai.com", |_| None).unwrap();
        let b = Secret::parse("B=bbbb-value@*.example.com", |_| None).unwrap();
        let inj = Injector::new(vec![a, b], &[("A".into(), "PH_A".into())]).unwrap();
        let mut p = parts("/v1/x?key=PH_A&k2=PH_A", "Bearer PH_A");
        let d = inj.apply("api.openai.com:443", &mut p);
        let Decision::Forward(ev) = d else {
            panic!("blocked")
        };
        assert_eq!(ev[0].action, InjectionAction::Injected);
        assert_eq!(ev[1].action, InjectionAction::Skipped);
        assert_eq!(p.headers["authorization"], "Bearer aaaa-value");
        assert_eq!(p.uri.query(), Some("key=aaaa-value&k2=aaaa-value"));

        let mut p = parts("/PH_A/in/path", "none");
        let d = inj.apply("evil.test", &mut p);
        assert!(matches!(d, Decision::Block(ref ev) if ev.len() == 1 && ev[0].secret_name == "A"));
        assert_eq!(p.uri.path(), "/PH_A/in/path");
    }
}
