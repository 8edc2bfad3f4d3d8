//! Where to send and how: the endpoint, the protocol and the headers, from the command
//! line or the OpenTelemetry environment variables.
//!
//! As the OTLP exporter specification says: `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `--otlp-endpoint`) is a base URL to which `/v1/logs` and `/v1/traces` are appended;
//! `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` and `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` are used as
//! they are. `OTEL_EXPORTER_OTLP_HEADERS` (and `_LOGS_`/`_TRACES_` variants) is a
//! comma-separated list of `key=value`, values percent-decoded. `OTEL_EXPORTER_OTLP_PROTOCOL`
//! is `http/protobuf` (the default) or `http/json`.

/// The body encoding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Protocol {
    /// `application/x-protobuf`.
    #[default]
    Protobuf,
    /// `application/json` (OTLP's JSON mapping: hex ids, camelCase names).
    Json,
}

impl std::str::FromStr for Protocol {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s.trim() {
            "http/protobuf" | "protobuf" => Ok(Protocol::Protobuf),
            "http/json" | "json" => Ok(Protocol::Json),
            "grpc" => Err(ConfigError::Grpc),
            _ => Err(ConfigError::Protocol),
        }
    }
}

impl Protocol {
    /// The content type of a body.
    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::Protobuf => "application/x-protobuf",
            Protocol::Json => "application/json",
        }
    }
}

/// A configuration that cannot be used. The messages never repeat a header value (it is
/// usually a credential).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// No endpoint given.
    #[error(
        "no OTLP endpoint: give --otlp-endpoint URL or set OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://127.0.0.1:4318)"
    )]
    NoEndpoint,
    /// An endpoint that is not an http(s) URL.
    #[error("{0}: the OTLP endpoint must be an http:// or https:// URL")]
    Url(&'static str),
    /// A header that is not `key=value`.
    #[error("{source_name}: header #{index} is not key=value")]
    Header {
        /// The flag or variable it came from.
        source_name: &'static str,
        /// Its position, from 1.
        index: usize,
    },
    /// gRPC asked for.
    #[error("OTLP over gRPC is not supported; use http/protobuf (port 4318 on most collectors)")]
    Grpc,
    /// An unknown protocol.
    #[error("the OTLP protocol must be http/protobuf or http/json")]
    Protocol,
}

/// Where each signal goes, how, and with which headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The URL logs are posted to.
    pub logs: String,
    /// The URL spans are posted to.
    pub traces: String,
    /// The body encoding.
    pub protocol: Protocol,
    /// Headers sent with every request (authentication, mostly).
    pub headers: Vec<(String, String)>,
}

impl Endpoint {
    /// The collector as it may be shown: scheme, host and port of the logs URL, never its
    /// user information, path or query.
    pub fn shown(&self) -> String {
        match reqwest::Url::parse(&self.logs) {
            Ok(url) => {
                let host = url.host_str().unwrap_or_default();
                match url.port() {
                    Some(port) => format!("{}://{host}:{port}", url.scheme()),
                    None => format!("{}://{host}", url.scheme()),
                }
            }
            Err(_) => "(the collector)".to_owned(),
        }
    }

    /// The values that authenticate: header values, the URLs' user names and passwords and
    /// query values. Nothing the command prints may show them.
    pub fn credentials(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (_, value) in &self.headers {
            out.push(value.clone());
            // `Bearer TOKEN`, `Basic B64`, `Api-Key KEY`: the credential alone is a value too,
            // and Basic's user and password, decoded.
            if let Some((scheme, credential)) = value.trim().split_once(char::is_whitespace) {
                let credential = credential.trim();
                out.push(credential.to_owned());
                if scheme.eq_ignore_ascii_case("basic") {
                    out.extend(basic_parts(credential));
                }
            }
        }
        for url in [&self.logs, &self.traces] {
            if let Ok(url) = reqwest::Url::parse(url) {
                out.push(url.username().to_owned());
                out.extend(url.password().map(str::to_owned));
                out.extend(url.query_pairs().map(|(_, v)| v.into_owned()));
            }
        }
        out.retain(|v| !v.is_empty());
        out
    }

    /// An endpoint with the base URL `base` (`/v1/logs` and `/v1/traces` appended).
    pub fn new(base: &str, protocol: Protocol) -> Result<Self, ConfigError> {
        let base = checked_url(base, "--otlp-endpoint")?;
        Ok(Endpoint {
            logs: signal_url(base, "/v1/logs"),
            traces: signal_url(base, "/v1/traces"),
            protocol,
            headers: Vec::new(),
        })
    }

    /// The endpoint from `flag` (a base URL), else from the environment that `env` reads;
    /// the protocol from `protocol`, else `OTEL_EXPORTER_OTLP_PROTOCOL`; `headers`
    /// (`key=value`) after those of `OTEL_EXPORTER_OTLP_HEADERS`.
    pub fn resolve(
        flag: Option<&str>,
        protocol: Option<Protocol>,
        headers: &[String],
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let protocol = match protocol {
            Some(p) => p,
            None => env("OTEL_EXPORTER_OTLP_PROTOCOL")
                .map(|p| p.parse())
                .transpose()?
                .unwrap_or_default(),
        };
        let base = match flag {
            Some(flag) => Some(checked_url(flag, "--otlp-endpoint")?.to_owned()),
            None => env("OTEL_EXPORTER_OTLP_ENDPOINT")
                .map(|url| checked_url(&url, "OTEL_EXPORTER_OTLP_ENDPOINT").map(str::to_owned))
                .transpose()?,
        };
        let signal = |name: &'static str, path: &str| -> Result<Option<String>, ConfigError> {
            match env(name) {
                Some(url) if flag.is_none() => Ok(Some(checked_url(&url, name)?.to_owned())),
                _ => Ok(base.as_ref().map(|b| signal_url(b, path))),
            }
        };
        let (Some(logs), Some(traces)) = (
            signal("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "/v1/logs")?,
            signal("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "/v1/traces")?,
        ) else {
            return Err(ConfigError::NoEndpoint);
        };
        checked_url(&logs, "the logs endpoint")?;
        checked_url(&traces, "the traces endpoint")?;
        let mut all = match env("OTEL_EXPORTER_OTLP_HEADERS") {
            Some(list) => parse_headers(&list, "OTEL_EXPORTER_OTLP_HEADERS")?,
            None => Vec::new(),
        };
        for (i, header) in headers.iter().enumerate() {
            let Some((key, value)) = header.split_once('=') else {
                return Err(ConfigError::Header {
                    source_name: "--otlp-header",
                    index: i + 1,
                });
            };
            all.push((key.trim().to_owned(), value.trim().to_owned()));
        }
        Ok(Endpoint {
            logs,
            traces,
            protocol,
            headers: all,
        })
    }
}

fn checked_url<'a>(url: &'a str, source_name: &'static str) -> Result<&'a str, ConfigError> {
    let url = url.trim();
    match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => Ok(url),
        _ => Err(ConfigError::Url(source_name)),
    }
}

/// `base` with `signal` (`/v1/logs`) appended to its path, its query kept after it.
fn signal_url(base: &str, signal: &str) -> String {
    match reqwest::Url::parse(base) {
        Ok(mut url) => {
            let path = format!("{}{signal}", url.path().trim_end_matches('/'));
            url.set_path(&path);
            url.to_string()
        }
        Err(_) => format!("{}{signal}", base.trim_end_matches('/')),
    }
}

/// `key1=value1,key2=value2`, values percent-decoded (W3C Baggage's format, as the
/// specification says).
fn parse_headers(
    list: &str,
    source_name: &'static str,
) -> Result<Vec<(String, String)>, ConfigError> {
    let mut out = Vec::new();
    for (i, item) in list
        .split(',')
        .enumerate()
        .filter(|(_, s)| !s.trim().is_empty())
    {
        let Some((key, value)) = item.split_once('=') else {
            return Err(ConfigError::Header {
                source_name,
                index: i + 1,
            });
        };
        out.push((key.trim().to_owned(), percent_decode(value.trim())));
    }
    Ok(out)
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// The `user:password` of a Basic credential (base64), and each part: the values it hides.
fn basic_parts(credential: &str) -> Vec<String> {
    use base64::Engine as _;
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(credential) else {
        return Vec::new();
    };
    let Ok(pair) = String::from_utf8(decoded) else {
        return Vec::new();
    };
    let mut parts = vec![pair.clone()];
    if let Some((user, password)) = pair.split_once(':') {
        parts.extend([user.to_owned(), password.to_owned()]);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_flag_is_a_base_and_signal_variables_are_used_as_they_are() {
        let e = Endpoint::resolve(Some("http://127.0.0.1:4318/"), None, &[], &env(&[])).unwrap();
        assert_eq!(e.logs, "http://127.0.0.1:4318/v1/logs");
        assert_eq!(e.traces, "http://127.0.0.1:4318/v1/traces");
        let vars = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://otel.example:4318"),
            (
                "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
                "https://logs.example/ingest",
            ),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=a%20b,x-team = t1"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ];
        let e = Endpoint::resolve(None, None, &["x-more=1".into()], &env(&vars)).unwrap();
        assert_eq!(e.logs, "https://logs.example/ingest");
        assert_eq!(e.traces, "https://otel.example:4318/v1/traces");
        assert_eq!(e.protocol, Protocol::Json);
        assert_eq!(
            e.headers,
            [
                ("x-api-key".into(), "a b".into()),
                ("x-team".into(), "t1".into()),
                ("x-more".into(), "1".into())
            ]
        );
    }

    #[test]
    fn signal_paths_go_before_the_query_and_credentials_are_known() {
        let e = Endpoint::new(
            "https://u:pa55word-x@otel.example/ingest/?api_key=QueryKey12345",
            Protocol::Protobuf,
        )
        .unwrap();
        assert_eq!(
            e.logs,
            "https://u:pa55word-x@otel.example/ingest/v1/logs?api_key=QueryKey12345"
        );
        assert_eq!(e.shown(), "https://otel.example");
        let credentials = e.credentials();
        for value in ["u", "pa55word-x", "QueryKey12345"] {
            assert!(credentials.iter().any(|c| c == value), "{value}");
        }
        let mut e = e;
        e.headers = vec![
            ("authorization".into(), "Bearer Hd7qLm2xPz9w".into()),
            // user:Qm3rTx9vLk2w
            (
                "proxy-authorization".into(),
                "Basic dXNlcjpRbTNyVHg5dkxrMnc=".into(),
            ),
        ];
        let credentials = e.credentials();
        for value in ["Bearer Hd7qLm2xPz9w", "Hd7qLm2xPz9w", "Qm3rTx9vLk2w"] {
            assert!(credentials.iter().any(|c| c == value), "{value}");
        }
    }

    #[test]
    fn bad_configurations_say_what_without_values() {
        assert_eq!(
            Endpoint::resolve(None, None, &[], &env(&[])),
            Err(ConfigError::NoEndpoint)
        );
        assert_eq!(
            Endpoint::resolve(Some("127.0.0.1:4318"), None, &[], &env(&[])),
            Err(ConfigError::Url("--otlp-endpoint"))
        );
        let vars = [("OTEL_EXPORTER_OTLP_HEADERS", "token-without-equals-sign")];
        let err = Endpoint::resolve(Some("http://h"), None, &[], &env(&vars)).unwrap_err();
        assert!(!err.to_string().contains("token-without"), "{err}");
        assert_eq!("grpc".parse::<Protocol>(), Err(ConfigError::Grpc));
    }
}
