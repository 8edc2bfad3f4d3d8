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

/// A host glob: `*` matches any run of characters, so `*.example.com` matches subdomains
/// (not the bare domain) and `example.*` any suffix. Matching ignores ASCII case and a
/// `:port` suffix of the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPattern(String);

impl HostPattern {
    /// A pattern from its text (lower-cased).
    pub fn new(pattern: impl Into<String>) -> Self {
        HostPattern(pattern.into().to_ascii_lowercase())
    }

    /// The pattern text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `host` (optionally with a `:port`) matches.
    ///
    /// ```
    /// use agentlog_core::secrets::HostPattern;
    /// assert!(HostPattern::new("*.example.com").matches("api.example.com:443"));
    /// assert!(!HostPattern::new("*.example.com").matches("example.com"));
    /// assert!(HostPattern::new("example.*").matches("example.org"));
    /// ```
    pub fn matches(&self, host: &str) -> bool {
        let host = strip_port(host).to_ascii_lowercase();
        glob_match(self.0.as_bytes(), host.as_bytes())
    }
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
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

/// A named secret with the hosts it may be sent to (empty: every host).
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
    /// `@`, so values may contain `@`; without any `@` the secret is allowed for every host.
    ///
    /// ```
    /// use agentlog_core::secrets::Secret;
    /// let s = Secret::parse("OPENAI_API_KEY=sk-abc@def@api.openai.com", |_| None).unwrap();
    /// assert_eq!(s.name(), "OPENAI_API_KEY");
    /// assert_eq!(s.expose(), "sk-abc@def");
    /// assert!(s.allows("api.openai.com:443"));
    /// assert!(!format!("{s:?}").contains("sk-abc"));
    /// ```
    pub fn parse(
        spec: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SecretSpecError> {
        let (head, hosts) = match spec.rfind('@') {
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
        let hosts = hosts
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(HostPattern::new)
            .collect();
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

    /// Whether the secret may be sent to `host` (a `:port` suffix is ignored).
    pub fn allows(&self, host: &str) -> bool {
        self.hosts.is_empty() || self.hosts.iter().any(|p| p.matches(host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let cases = [
            ("*", "anything.example", true),
            ("*.example.com", "a.example.com", true),
            ("*.example.com", "a.b.example.com", true),
            ("*.example.com", "example.com", false),
            ("*.example.com", "evilexample.com", false),
            ("example.*", "example.com", true),
            ("example.*", "example", false),
            ("api.openai.com", "API.OpenAI.com:443", true),
            ("api.openai.com", "api.openai.com.evil", false),
            ("192.168.86.246", "192.168.86.246:11434", true),
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
        for spec in ["dG9rZW4xMjM=@host", "dG9rZW4xMg==@host"] {
            let err = Secret::parse(spec, env).unwrap_err();
            assert!(!err.to_string().contains("dG9rZW4"), "{err}");
        }
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
        ] {
            let err = Secret::parse(spec, env).unwrap_err().to_string();
            assert!(!err.contains("THEVALUE"), "{spec}: {err}");
            assert!(err.contains("NAME=VALUE@hosts"), "{spec}: {err}");
        }
    }
}
