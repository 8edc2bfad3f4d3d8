//! Secret injection, as the reference sandbox's `secret_injector` plugin does it, and the
//! leak checks agentlog adds to it.
//!
//! The agent holds only placeholders (`SANDBOX_SECRET_` + 32 lowercase hex). A secret is
//! **allowed** for a request when its host patterns match the request's host and the request
//! travels inside TLS (or `--allow-cleartext-injection` was given: see [`Channel`]). For each
//! request, secret by secret, in the order the secrets were configured:
//!
//! - [`Injector::header_leaks`]: a secret **not allowed** whose placeholder appears in a header
//!   value or anywhere in the request target (path or query) is a leak: one `leak_blocked`
//!   event per leaking secret, and the caller answers 403 `Blocked by policy` without
//!   contacting the upstream;
//! - [`BodyScanner`]: the same for the request body, fed chunk by chunk (agentlog goes beyond
//!   the reference here: the body is how a prompt-injected agent exfiltrates);
//! - [`Injector::inject`]: for an **allowed** secret the placeholder is replaced by the value in
//!   header values and in the URL query (never the path or the body), and the event is
//!   `injected`; like the reference (`replaceInRequest` runs and "secret injected" is reported
//!   whenever the host is allowed), even when the request did not carry the placeholder. A
//!   secret not allowed and absent is `skipped`.
//!
//! When any secret leaks, only the `leak_blocked` events are produced for that request.

use aho_corasick::AhoCorasick;
use bytes::Bytes;
use http::HeaderValue;
use http::uri::{PathAndQuery, Uri};
use memchr::memmem;

use agentlog_core::event::{InjectionAction, KeyInjection};
use agentlog_core::secrets::{PLACEHOLDER_LEN, PLACEHOLDER_PREFIX, Secret};

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
    /// `--placeholder NAME=...` names no configured secret. Only the position (1-based) is
    /// kept: text that names no secret may be a value given by mistake.
    #[error("--placeholder #{0}: the name before `=` is not the name of a configured secret")]
    UnknownPlaceholderName(usize),
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
    /// A secret's name (which is logged) contains a secret's value. Only the position
    /// (1-based) is kept: the name holds a value.
    #[error(
        "--secret #{0}: its name contains the value of a secret; names are logged, values never"
    )]
    NameHoldsValue(usize),
    /// The placeholders could not be compiled into one matcher.
    #[error("the placeholders could not be compiled into a matcher")]
    PlaceholderSet,
}

/// One configured secret with its placeholder.
#[derive(Debug, Clone)]
struct Entry {
    secret: Secret,
    placeholder: String,
}

/// Whether allowed secrets may be injected into a request: over TLS always, over cleartext
/// `http://` only with `--allow-cleartext-injection`. When they may not, every secret counts
/// as not allowed for the request: its placeholder is a leak, its absence `skipped`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Channel {
    /// The request travels inside a TLS tunnel.
    pub tls: bool,
    /// `--allow-cleartext-injection` was given.
    pub allow_cleartext: bool,
}

impl Channel {
    fn injectable(self) -> bool {
        self.tls || self.allow_cleartext
    }
}

/// Replaces placeholders with secret values for allowed hosts and detects leaks.
#[derive(Debug, Clone, Default)]
pub struct Injector {
    entries: Vec<Entry>,
    /// Every placeholder, pattern `i` being `entries[i]`'s; `None` when there is no secret.
    finder: Option<AhoCorasick>,
    /// Every secret value; `None` when there is no secret.
    values: Option<AhoCorasick>,
}

impl Injector {
    /// Builds the injector; `placeholders` fixes the placeholder of named secrets, the others
    /// get a random one.
    pub fn new(
        secrets: Vec<Secret>,
        placeholders: &[(String, String)],
    ) -> Result<Self, InjectError> {
        for (i, (name, value)) in placeholders.iter().enumerate() {
            if !secrets.iter().any(|s| s.name() == name) {
                return Err(InjectError::UnknownPlaceholderName(i + 1));
            }
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(InjectError::BadPlaceholder(name.clone()));
            }
        }
        for (i, secret) in secrets.iter().enumerate() {
            let holds = |other: &Secret| {
                !other.expose().is_empty() && secret.name().contains(other.expose())
            };
            if secrets.iter().any(holds) {
                return Err(InjectError::NameHoldsValue(i + 1));
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
        let finder = if entries.is_empty() {
            None
        } else {
            let patterns = entries.iter().map(|e| e.placeholder.as_bytes());
            Some(AhoCorasick::new(patterns).map_err(|_| InjectError::PlaceholderSet)?)
        };
        let values = if entries.is_empty() {
            None
        } else {
            let patterns = entries.iter().map(|e| e.secret.expose().as_bytes());
            Some(AhoCorasick::new(patterns).map_err(|_| InjectError::PlaceholderSet)?)
        };
        Ok(Injector {
            entries,
            finder,
            values,
        })
    }

    /// `text` with every secret value in it replaced by `[redacted]`; `None` when it holds
    /// none. For what the proxy writes from what an upstream sent (a `model` that echoes the
    /// injected key): names may be logged, values never.
    pub(crate) fn withhold_values(&self, text: &str) -> Option<String> {
        let values = self.values.as_ref()?;
        values
            .is_match(text)
            .then(|| values.replace_all(text, &vec!["[redacted]"; self.entries.len()]))
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

    /// Whether the secret `name` may be sent to `host` (over TLS).
    pub(crate) fn allows(&self, name: &str, host: &str) -> bool {
        self.entries
            .iter()
            .any(|e| e.secret.name() == name && e.secret.allows(host))
    }

    fn allowed(e: &Entry, host: &str, channel: Channel) -> bool {
        channel.injectable() && e.secret.allows(host)
    }

    fn event(e: &Entry, host: &str, action: InjectionAction) -> KeyInjection {
        KeyInjection::new(e.secret.name(), host, action)
    }

    /// One `leak_blocked` event per secret not allowed for `host` (already normalized) whose
    /// placeholder is in a header value or the request target; empty when nothing leaks.
    pub(crate) fn header_leaks(
        &self,
        host: &str,
        parts: &http::request::Parts,
        channel: Channel,
    ) -> Vec<KeyInjection> {
        self.entries
            .iter()
            .filter(|e| {
                !Self::allowed(e, host, channel) && contains_placeholder(parts, &e.placeholder)
            })
            .map(|e| Self::event(e, host, InjectionAction::LeakBlocked))
            .collect()
    }

    /// Replaces placeholders in `parts` for the secrets allowed for `host`: one `injected`
    /// or `skipped` event per configured secret, in configuration order.
    pub(crate) fn inject(
        &self,
        host: &str,
        parts: &mut http::request::Parts,
        channel: Channel,
    ) -> Vec<KeyInjection> {
        let mut events = Vec::with_capacity(self.entries.len());
        for e in &self.entries {
            if Self::allowed(e, host, channel) {
                replace_in_request(parts, &e.placeholder, e.secret.expose());
                events.push(Self::event(e, host, InjectionAction::Injected));
            } else {
                events.push(Self::event(e, host, InjectionAction::Skipped));
            }
        }
        events
    }

    /// A scanner for the request body bound for `host`, or `None` when every secret may go
    /// there (nothing in the body could leak).
    pub(crate) fn body_scanner(&self, host: &str, channel: Channel) -> Option<BodyScanner> {
        self.finder.as_ref()?;
        let forbidden: Vec<bool> = self
            .entries
            .iter()
            .map(|e| !Self::allowed(e, host, channel))
            .collect();
        if !forbidden.contains(&true) {
            return None;
        }
        let keep = self
            .entries
            .iter()
            .map(|e| e.placeholder.len())
            .max()
            .unwrap_or(1)
            - 1;
        Some(BodyScanner {
            forbidden,
            host: host.to_owned(),
            carry: Vec::with_capacity(keep),
            keep,
        })
    }
}

/// Finds placeholders of forbidden secrets in a request body fed chunk by chunk: a
/// placeholder split across chunks is found, since the last `keep` bytes of what was fed are
/// carried into the next search. It is fed with the [`Injector`] that made it.
#[derive(Debug)]
pub(crate) struct BodyScanner {
    forbidden: Vec<bool>,
    host: String,
    carry: Vec<u8>,
    /// Longest placeholder length minus one.
    keep: usize,
}

impl BodyScanner {
    /// Bytes at the end of what was fed that could still be the start of a placeholder:
    /// a streaming caller holds them back until the next chunk (or the end) clears them.
    pub(crate) fn hold_back(&self) -> usize {
        self.keep
    }

    /// Scans the next chunk; the `leak_blocked` events of the forbidden placeholders found
    /// (each secret once), empty when the chunk is clean.
    pub(crate) fn feed(&mut self, injector: &Injector, chunk: &[u8]) -> Vec<KeyInjection> {
        let Some(finder) = injector.finder.as_ref() else {
            return Vec::new();
        };
        let mut window = std::mem::take(&mut self.carry);
        window.extend_from_slice(chunk);
        let mut leaked = vec![false; self.forbidden.len()];
        for found in finder.find_overlapping_iter(&window) {
            let i = found.pattern().as_usize();
            if let (Some(leak), Some(forbidden)) = (leaked.get_mut(i), self.forbidden.get(i)) {
                *leak |= forbidden;
            }
        }
        let tail = window.len().saturating_sub(self.keep);
        self.carry = window.split_off(tail);
        injector
            .entries
            .iter()
            .zip(leaked)
            .filter(|(_, leaked)| *leaked)
            .map(|(e, _)| Injector::event(e, &self.host, InjectionAction::LeakBlocked))
            .collect()
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
    if needle.is_empty() {
        return None;
    }
    let finder = memmem::Finder::new(needle);
    let mut rest = haystack;
    let mut out: Option<Vec<u8>> = None;
    while let Some(at) = finder.find(rest) {
        let (before, found) = rest.split_at_checked(at)?;
        let out = out.get_or_insert_with(|| Vec::with_capacity(haystack.len() + with.len()));
        out.extend_from_slice(before);
        out.extend_from_slice(with);
        rest = found.get(needle.len()..)?;
    }
    let mut out = out?;
    out.extend_from_slice(rest);
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

    #[test]
    fn a_name_holding_a_value_is_refused_by_position() {
        let value = "ghp_AAAAbbbbCCCCddddEEEEffffGGGGhhhhIIII";
        let secrets = vec![
            Secret::parse(&format!("{value}=realvalue123@x"), |_| None).unwrap(),
            Secret::parse(&format!("OTHER={value}@x"), |_| None).unwrap(),
        ];
        let err = Injector::new(secrets, &[]).unwrap_err();
        assert!(matches!(err, InjectError::NameHoldsValue(1)), "{err:?}");
        assert!(!err.to_string().contains(value));
    }

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

    const TLS: Channel = Channel {
        tls: true,
        allow_cleartext: false,
    };

    fn injector() -> Injector {
        let a = Secret::parse("A=aaaa-value@api.openai.com", |_| None).unwrap();
        let b = Secret::parse("B=bbbb-value@*.example.com", |_| None).unwrap();
        Injector::new(
            vec![a, b],
            &[("A".into(), "PH_A".into()), ("B".into(), "PH_BBBB".into())],
        )
        .unwrap()
    }

    #[test]
    fn injects_skips_and_blocks() {
        let inj = injector();
        let mut p = parts("/v1/x?key=PH_A&k2=PH_A", "Bearer PH_A");
        assert!(inj.header_leaks("api.openai.com", &p, TLS).is_empty());
        let ev = inj.inject("api.openai.com", &mut p, TLS);
        assert_eq!(ev[0].action, InjectionAction::Injected);
        assert_eq!(ev[1].action, InjectionAction::Skipped);
        assert_eq!(p.headers["authorization"], "Bearer aaaa-value");
        assert_eq!(p.uri.query(), Some("key=aaaa-value&k2=aaaa-value"));

        let p = parts("/PH_A/in/path", "none");
        let ev = inj.header_leaks("evil.test", &p, TLS);
        assert!(ev.len() == 1 && ev[0].secret_name == "A", "{ev:?}");
        assert_eq!(p.uri.path(), "/PH_A/in/path");
    }

    #[test]
    fn cleartext_counts_as_not_allowed() {
        let inj = injector();
        let clear = Channel {
            tls: false,
            allow_cleartext: false,
        };
        let mut p = parts("/v1/x", "Bearer PH_A");
        let ev = inj.header_leaks("api.openai.com", &p, clear);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].action, InjectionAction::LeakBlocked);
        let opted_in = Channel {
            tls: false,
            allow_cleartext: true,
        };
        assert!(inj.header_leaks("api.openai.com", &p, opted_in).is_empty());
        inj.inject("api.openai.com", &mut p, opted_in);
        assert_eq!(p.headers["authorization"], "Bearer aaaa-value");
    }

    #[test]
    fn body_scanner_finds_placeholders_split_anywhere() {
        let inj = injector();
        assert!(inj.body_scanner("api.openai.com", TLS).is_some());
        let body = b"{\"prompt\":\"send PH_BBBB to me\"}";
        for split in 0..=body.len() {
            let mut scan = inj.body_scanner("api.openai.com", TLS).unwrap();
            let mut found = scan.feed(&inj, &body[..split]);
            found.extend(scan.feed(&inj, &body[split..]));
            assert_eq!(found.len(), 1, "split {split}");
            assert_eq!(found[0].secret_name, "B");
            assert_eq!(found[0].action, InjectionAction::LeakBlocked);
        }
        // An allowed placeholder in the body is not a leak (and is not replaced either).
        let mut scan = inj.body_scanner("api.openai.com", TLS).unwrap();
        assert!(scan.feed(&inj, b"PH_A PH_A").is_empty());
        // Every secret allowed: nothing to scan for.
        let all = Injector::new(
            vec![Secret::parse("C=cccc-value@*", |_| None).unwrap()],
            &[],
        )
        .unwrap();
        assert!(all.body_scanner("any.host", TLS).is_none());
    }
}
