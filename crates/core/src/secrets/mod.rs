//! Secrets: the `NAME=VALUE@hosts` specification shared by the interceptor (which injects
//! values) and the validator (which proves values never reach a log).
//!
//! A [`Secret`] never shows its value: it has no `Display`, its `Debug` redacts the value, and
//! errors about a spec never quote text that may be a value. Code that needs the bytes asks for them with
//! [`Secret::expose`], which makes every use easy to find.

pub mod file;

use std::fmt;

/// What every placeholder starts with. The agent holds a placeholder in place of each secret,
/// [`PLACEHOLDER_PREFIX`] + [`PLACEHOLDER_HEX_LEN`] lowercase hex digits; the interceptor
/// swaps the value in at the edge, and the validator never reports a placeholder.
pub const PLACEHOLDER_PREFIX: &str = "SANDBOX_SECRET_";

/// Number of lowercase hex digits after [`PLACEHOLDER_PREFIX`].
pub const PLACEHOLDER_HEX_LEN: usize = 32;

/// Length of a whole placeholder.
pub const PLACEHOLDER_LEN: usize = PLACEHOLDER_PREFIX.len() + PLACEHOLDER_HEX_LEN;

/// Whether `text` is exactly a placeholder: [`PLACEHOLDER_PREFIX`] and
/// [`PLACEHOLDER_HEX_LEN`] lowercase hex digits.
///
/// ```
/// use agentlog_core::secrets::is_placeholder;
/// assert!(is_placeholder("SANDBOX_SECRET_0123456789abcdef0123456789abcdef"));
/// assert!(!is_placeholder("SANDBOX_SECRET_0123456789ABCDEF0123456789ABCDEF"));
/// assert!(!is_placeholder("SANDBOX_SECRET_0123"));
/// ```
pub fn is_placeholder(text: &str) -> bool {
    text.strip_prefix(PLACEHOLDER_PREFIX).is_some_and(|hex| {
        hex.len() == PLACEHOLDER_HEX_LEN
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// A secret's value. `Debug` prints `[redacted]`; there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        SecretValue(value.into())
    }

    /// The value itself. Never log or print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A host glob, naming the hosts a secret may be sent to.
///
/// Matching rules:
///
/// - Hosts and patterns are compared without regard to ASCII case. A host's `:port` suffix,
///   the brackets of an IPv6 literal (`[::1]:443`) and one trailing dot of the host or the
///   pattern (`api.openai.com.`) are ignored (see [`normalize_host`]). A pattern that
///   contains a port matches nothing: ports are not part of matching.
/// - `*` alone matches every host.
/// - A leading `*.` matches one or more whole labels: `*.example.com` matches
///   `a.example.com` and `a.b.example.com`, but not `example.com` nor `evilexample.com`.
/// - Any other `*` matches within one label only (any run of characters, never a dot), and
///   never an empty label: `example.*` matches `example.com` and `example.org`, but not
///   `example.evil.test` nor `example.co.uk`; `api-*.example.com` matches
///   `api-eu.example.com` but not `api-a.b.example.com`.
/// - Without `*`, a pattern matches exactly its own host.
///
/// Labels are what the dots separate, so an IPv6 literal (no dots) is one label: `fe80::1`
/// matches itself and `*`, and `192.168.86.*` matches the addresses of that /24.
///
/// ```
/// use agentlog_core::secrets::HostPattern;
/// let any_sub = HostPattern::new("*.example.com");
/// assert!(any_sub.matches("api.example.com:443"));
/// assert!(any_sub.matches("a.b.Example.COM."));
/// assert!(!any_sub.matches("example.com"));
/// assert!(!any_sub.matches("evilexample.com"));
///
/// let any_tld = HostPattern::new("example.*");
/// assert!(any_tld.matches("example.org"));
/// assert!(!any_tld.matches("example.evil.test"));
/// assert!(!any_tld.matches("example.co.uk"));
///
/// let regional = HostPattern::new("api-*.example.com");
/// assert!(regional.matches("api-eu.example.com"));
/// assert!(!regional.matches("api-a.b.example.com"));
///
/// assert!(HostPattern::new("*").matches("[::1]:8080"));
/// assert!(HostPattern::new("[::1]").matches("[::1]:8080"));
/// assert!(HostPattern::new("api.openai.com.").matches("API.OpenAI.com:443"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPattern(String);

impl HostPattern {
    /// A pattern from its text, stored lower-cased, without the brackets of an IPv6 literal
    /// and without one trailing dot.
    pub fn new(pattern: impl Into<String>) -> Self {
        let mut pattern = pattern.into().to_ascii_lowercase();
        if let Some(inner) = pattern.strip_prefix('[').and_then(|p| p.strip_suffix(']')) {
            pattern = inner.to_owned();
        }
        if pattern.ends_with('.') {
            pattern.pop();
        }
        HostPattern(pattern)
    }

    /// The pattern text (as stored: lower-cased, no brackets, no trailing dot).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `host` (optionally with a `:port`) matches; see the [type's
    /// documentation](HostPattern) for the rules.
    pub fn matches(&self, host: &str) -> bool {
        self.matches_normalized(&normalize_host(host))
    }

    /// [`matches`](Self::matches) for a host already passed through [`normalize_host`].
    fn matches_normalized(&self, host: &str) -> bool {
        let pattern = self.0.as_str();
        if pattern == "*" {
            return true;
        }
        match pattern.strip_prefix("*.") {
            Some(suffix) => subdomain_matches(suffix, host),
            None => labels_match(pattern, host),
        }
    }
}

/// `host` as host patterns compare it: without a `:port` suffix, without the brackets of an
/// IPv6 literal, without one trailing dot, in ASCII lower case.
///
/// ```
/// use agentlog_core::secrets::normalize_host;
/// assert_eq!(normalize_host("API.OpenAI.com.:443"), "api.openai.com");
/// assert_eq!(normalize_host("[::1]:8080"), "::1");
/// assert_eq!(normalize_host("fe80::1"), "fe80::1");
/// assert_eq!(normalize_host("192.168.86.246:11434"), "192.168.86.246");
/// ```
pub fn normalize_host(host: &str) -> String {
    let host = strip_port(host);
    let host = host.strip_suffix('.').unwrap_or(host);
    host.to_ascii_lowercase()
}

/// Whether `host` is one or more whole labels followed by `.` and a host matching `suffix`
/// label by label: the leading `*.` of a pattern.
fn subdomain_matches(suffix: &str, host: &str) -> bool {
    let suffix_labels = suffix.split('.').count();
    // The dot before the last `suffix_labels` labels of the host.
    let Some((dot, _)) = host.rmatch_indices('.').nth(suffix_labels - 1) else {
        return false;
    };
    let (head, tail) = (&host[..dot], &host[dot + 1..]);
    head.split('.').all(|label| !label.is_empty()) && labels_match(suffix, tail)
}

/// Whether `host` has as many labels as `pattern` and each matches its pattern label.
fn labels_match(pattern: &str, host: &str) -> bool {
    let (mut patterns, mut labels) = (pattern.split('.'), host.split('.'));
    loop {
        match (patterns.next(), labels.next()) {
            (None, None) => return true,
            (Some(p), Some(label)) if label_matches(p, label) => {}
            _ => return false,
        }
    }
}

/// Whether one label matches one pattern label, in which `*` matches any run of characters
/// (labels hold no dots, so it cannot cross one) but never an empty label.
fn label_matches(pattern: &str, label: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == label;
    }
    !label.is_empty() && glob_match(pattern.as_bytes(), label.as_bytes())
}

/// `host` without a trailing `:port` (IPv6 literals in brackets keep their colons).
pub fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port))
            if !name.contains(':')
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            name
        }
        _ => host,
    }
}

fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    // Iterative wildcard matching with one backtrack point: linear in practice, no recursion.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&byte) = text.get(t) {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&wanted) if wanted == byte => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern.iter().skip(p).all(|&b| b == b'*')
}

/// The shortest secret value accepted anywhere, in bytes: by the proxy (`--secret`), the
/// validator's scanner and secrets files. A shorter value would match all over a log, and the
/// output gate could not watch for it.
pub const MIN_SECRET_LEN: usize = 8;

/// A secret value shorter than [`MIN_SECRET_LEN`] bytes. The message names neither the secret
/// nor the value; callers put where it came from in front (`--secret #2: ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the value is shorter than {MIN_SECRET_LEN} bytes and would match all over a log; refusing it"
)]
pub struct TooShort;

/// [`TooShort`] when `value` is shorter than [`MIN_SECRET_LEN`] bytes: the one length rule
/// of the proxy and the validator.
///
/// ```
/// use agentlog_core::secrets::{MIN_SECRET_LEN, check_value_len};
/// assert!(check_value_len("12345").is_err());
/// assert!(check_value_len(&"x".repeat(MIN_SECRET_LEN)).is_ok());
/// ```
pub fn check_value_len(value: &str) -> Result<(), TooShort> {
    if value.len() < MIN_SECRET_LEN {
        Err(TooShort)
    } else {
        Ok(())
    }
}

/// A named secret with the hosts it may be sent to (no patterns: every host).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secret {
    name: String,
    value: SecretValue,
    hosts: Vec<HostPattern>,
}

/// Whether `name` is a secret name: `[A-Za-z_][A-Za-z0-9_]*`, like an environment variable.
pub fn is_valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Why a secret spec was refused.
///
/// No variant carries text of the spec that could be a value: a spec whose `NAME=` was
/// forgotten (`sk-abc@host`) puts the value where the name belongs, so neither a bad name nor
/// the name looked up in the `NAME@hosts` form is repeated. Callers add the argument's
/// position (`--secret #2: ...`), never its text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretSpecError {
    /// The part before `=` (or before `@` without `=`) is not a valid name
    /// ([`is_valid_name`]).
    #[error(
        "expected NAME=VALUE@hosts or NAME@hosts; the part before `=`/`@` is not a valid name (letters, digits and `_`, not starting with a digit)"
    )]
    BadName,
    /// `NAME@hosts` form (no `=`), but no environment variable of that name is set. The name
    /// is not repeated: it may be a value given without `NAME=`.
    #[error(
        "no `=` in the spec, so it is the NAME@hosts form, but no environment variable of that name is set (expected NAME=VALUE@hosts or NAME@hosts)"
    )]
    MissingEnv,
    /// The value is empty. The name is not repeated: `TOKEN=@host` may be a base64 value
    /// whose padding was taken for the `=`.
    #[error("the value after `=` is empty (expected NAME=VALUE@hosts)")]
    EmptyValue,
    /// The value is nothing but `=`: a base64 value given without `NAME=`, whose padding was
    /// taken for the separator. The "name" would be the value's first part, so it is not shown.
    #[error(
        "the value after `=` is only `=` characters; this looks like a base64 value given without NAME= (expected NAME=VALUE@hosts)"
    )]
    PaddingOnly,
    /// There is an `@` but no host after it (`K=v@`, what `--secret "K=$VAL@$HOSTS"` gives
    /// when `$HOSTS` is unset). Refused rather than read as "every host": the hosts were
    /// meant to be restricted.
    #[error(
        "the host list after the last `@` is empty; write `@*` to allow every host (expected NAME=VALUE@hosts)"
    )]
    EmptyHosts,
    /// What follows the last `@` is not a list of host globs ([`is_host_list`]): most likely
    /// the value holds an `@` and no host list was given (`K=user@pa/ss`). Refused rather than
    /// cut silently; nothing of the spec is repeated.
    #[error(
        "the text after the last `@` is not a list of host globs (letters, digits, `-`, `_`, `.`, `*`, `:`, `[`, `]`, separated by commas); a value that contains `@` needs the host list after it: write `@*` at the end to allow every host (expected NAME=VALUE@hosts)"
    )]
    NotHosts,
}

/// Whether `text`, what follows the last `@` of a secret spec, reads as a host list: entries
/// separated by commas (blanks around them ignored, empty ones skipped), each made of letters,
/// digits, `-`, `_`, `.`, `*`, `:`, `[` and `]` (a host, a glob, an IPv6 literal, a port).
pub fn is_host_list(text: &str) -> bool {
    text.split(',').map(str::trim).all(|entry| {
        entry
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.*:[]".contains(&b))
    })
}

impl Secret {
    /// A secret from its parts.
    pub fn new(name: impl Into<String>, value: SecretValue, hosts: Vec<HostPattern>) -> Self {
        Secret {
            name: name.into(),
            value,
            hosts,
        }
    }

    /// Parses the sandbox's syntax, `NAME=VALUE@host1,host2` or `NAME@hosts` (value from the
    /// environment variable NAME, looked up with `env`). The host list is split at the LAST
    /// `@`, so values may contain `@`; its entries are [`HostPattern`]s separated by commas
    /// (blanks around them ignored). Without any `@` the secret is allowed for every host, as
    /// in the reference; an `@` followed by no host at all is refused
    /// ([`SecretSpecError::EmptyHosts`]), and `@*` allows every host explicitly.
    ///
    /// A value that contains `@` must be followed by its host list (`K=user@pass@*`): without
    /// one, what follows the value's own `@` would be taken for hosts. When that text is not a
    /// host list ([`is_host_list`], `K=user@pa/ss`) the spec is refused
    /// ([`SecretSpecError::NotHosts`]); when it happens to read as one (`K=user@pass`), it is
    /// a host, so write the host list.
    ///
    /// ```
    /// use agentlog_core::secrets::Secret;
    /// let s = Secret::parse("OPENAI_API_KEY=sk-abc@def@api.openai.com", |_| None).unwrap();
    /// assert_eq!(s.name(), "OPENAI_API_KEY");
    /// assert_eq!(s.expose(), "sk-abc@def");
    /// assert!(s.allows("api.openai.com:443"));
    /// assert!(!format!("{s:?}").contains("sk-abc"));
    /// assert!(Secret::parse("K=v@*", |_| None).unwrap().allows("any.host"));
    /// assert!(Secret::parse("K=v@", |_| None).is_err());
    /// assert!(Secret::parse("K=p@ss/w0rd+x", |_| None).is_err());
    /// assert_eq!(Secret::parse("K=p@ss/w0rd+x@*", |_| None).unwrap().expose(), "p@ss/w0rd+x");
    /// ```
    pub fn parse(
        spec: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SecretSpecError> {
        let (head, host_text) = match spec.rfind('@') {
            Some(at) => (&spec[..at], &spec[at + 1..]),
            None => (spec, ""),
        };
        let (name, value) = match head.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (head, None),
        };
        if !is_valid_name(name) {
            // Not even a name is quoted: the part before `=`/`@` may be a value.
            return Err(SecretSpecError::BadName);
        }
        let hosts: Vec<HostPattern> = host_text
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(HostPattern::new)
            .collect();
        if hosts.is_empty() && spec.contains('@') {
            return Err(SecretSpecError::EmptyHosts);
        }
        if !is_host_list(host_text) {
            return Err(SecretSpecError::NotHosts);
        }
        let value = match value {
            Some(v) => v,
            None => env(name).ok_or(SecretSpecError::MissingEnv)?,
        };
        if value.is_empty() {
            return Err(SecretSpecError::EmptyValue);
        }
        if value.bytes().all(|b| b == b'=') {
            return Err(SecretSpecError::PaddingOnly);
        }
        Ok(Secret::new(name, SecretValue::new(value), hosts))
    }

    /// The secret's name (safe to log).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The secret's value. Never log or print it.
    pub fn expose(&self) -> &str {
        self.value.expose()
    }

    /// The hosts this secret may be sent to; empty means every host.
    pub fn hosts(&self) -> &[HostPattern] {
        &self.hosts
    }

    /// Whether the secret may be sent to `host`: it has no host patterns, or one of them
    /// [matches](HostPattern::matches) (so a `:port` suffix, case and a trailing dot are
    /// ignored).
    pub fn allows(&self, host: &str) -> bool {
        if self.hosts.is_empty() {
            return true;
        }
        let host = normalize_host(host);
        self.hosts.iter().any(|p| p.matches_normalized(&host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let cases = [
            // `*` alone: every host.
            ("*", "anything.example", true),
            ("*", "localhost", true),
            ("*", "[::1]:8080", true),
            // Leading `*.`: one or more whole labels.
            ("*.example.com", "a.example.com", true),
            ("*.example.com", "a.b.example.com", true),
            ("*.example.com", "A.Example.COM:443", true),
            ("*.example.com", "a.example.com.", true),
            ("*.example.com", "example.com", false),
            ("*.example.com", "evilexample.com", false),
            ("*.example.com", ".example.com", false),
            ("*.example.com", "a..example.com", false),
            ("*.example.com", "a.example.com.evil", false),
            ("*.api-*.example.com", "x.api-eu.example.com", true),
            ("*.api-*.example.com", "x.api-eu.b.example.com", false),
            // Any other `*`: within one label only.
            ("example.*", "example.com", true),
            ("example.*", "example.org", true),
            ("example.*", "example.com:443", true),
            ("example.*", "example", false),
            ("example.*", "example.", false),
            ("example.*", "example.evil.test", false),
            ("example.*", "example.co.uk", false),
            ("api-*.example.com", "api-eu.example.com", true),
            ("api-*.example.com", "api-.example.com", true),
            ("api-*.example.com", "api-a.b.example.com", false),
            ("api-*.example.com", "api.example.com", false),
            ("a*b.example.com", "ab.example.com", true),
            ("a*b.example.com", "a.b.example.com", false),
            ("*x.example.com", "x.example.com", true),
            ("*x.example.com", "a.x.example.com", false),
            ("*.*", "a.b", true),
            ("*.*", "a", false),
            // No `*`: exactly the host, whatever the case, port or trailing dot.
            ("api.openai.com", "API.OpenAI.com:443", true),
            ("api.openai.com", "api.openai.com.", true),
            ("api.openai.com.", "api.openai.com", true),
            ("API.OPENAI.COM", "api.openai.com", true),
            ("api.openai.com", "api.openai.com.evil", false),
            ("api.openai.com", "xapi.openai.com", false),
            ("api.openai.com", "openai.com", false),
            // IP addresses.
            ("192.168.86.246", "192.168.86.246:11434", true),
            ("192.168.86.246", "192.168.86.24", false),
            ("192.168.86.*", "192.168.86.246", true),
            ("192.168.86.*", "192.168.86.246:443", true),
            ("192.168.*", "192.168.86.246", false),
            ("192.168.86.2*", "192.168.86.246", true),
            ("192.168.86.2*", "192.168.86.146", false),
            ("::1", "[::1]:8080", true),
            ("::1", "::1", true),
            ("[::1]", "::1", true),
            ("[::1]", "[::1]", true),
            ("::1", "::2", false),
            ("fe80::*", "[FE80::1]:443", true),
            ("fe80::*", "fe81::1", false),
            ("2001:db8::1", "[2001:DB8::1]", true),
            // A port in a pattern is never matched: ports are not part of matching.
            ("example.com:8080", "example.com:8080", false),
        ];
        for (pattern, host, expected) in cases {
            assert_eq!(
                HostPattern::new(pattern).matches(host),
                expected,
                "{pattern} {host}"
            );
        }
    }

    #[test]
    fn normalized_hosts() {
        for (host, normalized) in [
            ("API.OpenAI.com", "api.openai.com"),
            ("api.openai.com.", "api.openai.com"),
            ("api.openai.com.:443", "api.openai.com"),
            ("api.openai.com..", "api.openai.com."),
            ("[::1]:443", "::1"),
            ("[::1]", "::1"),
            ("::1", "::1"),
            ("FE80::A", "fe80::a"),
            ("10.0.0.1:80", "10.0.0.1"),
            ("host:", "host:"),
            ("host:http", "host:http"),
            ("", ""),
        ] {
            assert_eq!(normalize_host(host), normalized, "{host}");
        }
    }

    #[test]
    fn allows_follows_the_patterns() {
        let s = Secret::parse("K=v@*.example.com, API.openai.com.", |_| None).unwrap();
        assert_eq!(s.hosts()[1].as_str(), "api.openai.com");
        assert!(s.allows("a.b.example.com:443"));
        assert!(s.allows("Api.OpenAI.com."));
        assert!(!s.allows("example.com"));
        assert!(!s.allows("api.openai.com.evil"));
        let all = Secret::parse("K=v@*", |_| None).unwrap();
        assert!(all.allows("anything.at.all") && all.allows("[::1]:1"));
    }

    #[test]
    fn spec_forms() {
        let env = |n: &str| (n == "FROM_ENV").then(|| "env-value-123".to_string());
        let s = Secret::parse("FROM_ENV@a.com,b.com", env).unwrap();
        assert_eq!(s.expose(), "env-value-123");
        assert_eq!(s.hosts().len(), 2);
        let s = Secret::parse("K=v@l@ue", env).unwrap();
        assert_eq!((s.expose(), s.hosts()[0].as_str()), ("v@l", "ue"));
        let s = Secret::parse("K=value", env).unwrap();
        assert!(s.allows("any.host"));
        assert_eq!(
            Secret::parse("MISSING@h", env),
            Err(SecretSpecError::MissingEnv)
        );
        for spec in [
            "bad name=x@h",
            "1A=x",
            "=x@h",
            "@h",
            "",
            "sk-THEVALUE123@host",
        ] {
            assert_eq!(
                Secret::parse(spec, env),
                Err(SecretSpecError::BadName),
                "{spec}"
            );
        }
        assert!(is_valid_name("_A1") && is_valid_name("a") && !is_valid_name("1a"));
        assert_eq!(Secret::parse("K=@h", env), Err(SecretSpecError::EmptyValue));
        // An `@` with no host after it: `--secret "K=$VAL@$HOSTS"` with `$HOSTS` unset.
        for spec in [
            "K=v@",
            "K=v@ ",
            "K=v@,",
            "K=v@ , ,\t",
            "K=v@l@",
            "FROM_ENV@",
            "MISSING@",
        ] {
            assert_eq!(
                Secret::parse(spec, env),
                Err(SecretSpecError::EmptyHosts),
                "{spec}"
            );
        }
        let err = SecretSpecError::EmptyHosts.to_string();
        assert!(err.contains("after the last `@` is empty"), "{err}");
        assert!(err.contains("`@*`"), "{err}");
        let s = Secret::parse("K=v@*", env).unwrap();
        assert_eq!(s.hosts().len(), 1);
        assert!(s.allows("any.host:443"));
        for spec in ["dG9rZW4xMjM=@host", "dG9rZW4xMg==@host"] {
            let err = Secret::parse(spec, env).unwrap_err();
            assert!(!err.to_string().contains("dG9rZW4"), "{err}");
        }
    }

    #[test]
    fn a_value_with_an_at_sign_is_never_cut_silently() {
        let env = |_: &str| None;
        // What follows the value's `@` is no host list: refused, nothing of it repeated.
        for spec in [
            "K=us3r@pa/ss+w0rd",
            "K=us3r@pa ss",
            "K=tok@en==",
            "K=a@b!c",
            "K=v@a.com,b/c",
        ] {
            assert_eq!(
                Secret::parse(spec, env),
                Err(SecretSpecError::NotHosts),
                "{spec}"
            );
            let err = SecretSpecError::NotHosts.to_string();
            assert!(!err.contains("us3r") && !err.contains("pa/ss"), "{err}");
            assert!(err.contains("`@*`"), "{err}");
        }
        // With its host list, the whole value stays.
        let s = Secret::parse("K=us3r@pa/ss+w0rd@*", env).unwrap();
        assert_eq!(s.expose(), "us3r@pa/ss+w0rd");
        let s = Secret::parse("K=tok@en==@api.example.com, [::1]:8443,*.x-y_z.io", env).unwrap();
        assert_eq!((s.expose(), s.hosts().len()), ("tok@en==", 3));
        assert!(is_host_list("") && is_host_list(" a.b , *.c:443 ,"));
        assert!(!is_host_list("a/b") && !is_host_list("a b"));
    }

    #[test]
    fn spec_errors_never_quote_the_spec() {
        // A value whose `NAME=` was forgotten sits where the name belongs.
        let env = |_: &str| None;
        for spec in [
            "sk-THEVALUE123@host",
            "THEVALUE123@host",
            "THEVALUE123",
            "x y=THEVALUE123",
            "K=THEVALUE123@",
            "K=THEVALUE123@ , ",
            "THEVALUE123@",
            "K=@",
        ] {
            let err = Secret::parse(spec, env).unwrap_err().to_string();
            assert!(!err.contains("THEVALUE"), "{spec}: {err}");
            assert!(err.contains("NAME=VALUE@hosts"), "{spec}: {err}");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn label() -> impl Strategy<Value = String> {
            "[a-z0-9][a-z0-9-]{0,6}"
        }

        fn host() -> impl Strategy<Value = String> {
            prop::collection::vec(label(), 1..5).prop_map(|labels| labels.join("."))
        }

        /// `host` as a client may write it: any case, maybe a port, maybe a trailing dot.
        fn spelled(host: &str, upper: &[bool], port: Option<u16>, dot: bool) -> String {
            let mut out: String = host
                .chars()
                .zip(upper.iter().cycle())
                .map(|(c, &up)| if up { c.to_ascii_uppercase() } else { c })
                .collect();
            if dot {
                out.push('.');
            }
            if let Some(port) = port {
                out.push_str(&format!(":{port}"));
            }
            out
        }

        /// A pattern label holding at least one `*`.
        fn wild_label() -> impl Strategy<Value = String> {
            ("[a-z0-9-]{0,3}", "[a-z0-9-]{0,3}").prop_map(|(a, b)| format!("{a}*{b}"))
        }

        proptest! {
            #[test]
            fn a_pattern_without_star_matches_only_its_host(
                pattern in host(),
                other in host(),
                upper in prop::collection::vec(any::<bool>(), 1..8),
                port in prop::option::of(any::<u16>()),
                dot in any::<bool>(),
            ) {
                let p = HostPattern::new(&pattern);
                prop_assert!(p.matches(&spelled(&pattern, &upper, port, dot)));
                prop_assert!(HostPattern::new(spelled(&pattern, &upper, None, dot)).matches(&pattern));
                prop_assert_eq!(p.matches(&spelled(&other, &upper, port, dot)), other == pattern);
            }

            #[test]
            fn an_inner_star_never_matches_another_number_of_labels(
                labels in prop::collection::vec(prop_oneof![label(), wild_label()], 1..4),
                first in prop_oneof![label(), wild_label()],
                host_labels in prop::collection::vec(label(), 0..8),
            ) {
                // `first` is never exactly `*`, so no pattern starts with `*.`; any `*` is
                // inside one label.
                prop_assume!(first != "*");
                let pattern = std::iter::once(first).chain(labels).collect::<Vec<_>>().join(".");
                let pattern_labels = pattern.split('.').count();
                prop_assume!(host_labels.len() != pattern_labels);
                let host = host_labels.join(".");
                prop_assert!(!HostPattern::new(&pattern).matches(&host), "{} {}", pattern, host);
            }

            #[test]
            fn a_leading_star_dot_matches_exactly_the_subdomains(
                suffix in host(),
                prefix in prop::collection::vec(label(), 0..4),
            ) {
                let pattern = HostPattern::new(format!("*.{suffix}"));
                let mut labels = prefix.clone();
                labels.push(suffix.clone());
                let host = labels.join(".");
                prop_assert_eq!(pattern.matches(&host), !prefix.is_empty());
            }

            #[test]
            fn normalizing_twice_changes_nothing_more(
                host in host(),
                upper in prop::collection::vec(any::<bool>(), 1..8),
                port in prop::option::of(any::<u16>()),
                dot in any::<bool>(),
            ) {
                let once = normalize_host(&spelled(&host, &upper, port, dot));
                prop_assert_eq!(&once, &host);
                prop_assert_eq!(normalize_host(&once), once);
            }
        }
    }
}
