//! # agentlog-intercept
//!
//! The reference interceptor: a MITM HTTPS proxy that injects secrets at the edge and writes
//! the events of the seed's v0 profile (`llm_request`, `llm_response`, `key_injection`) or,
//! with [`Profile::V1`], those the reference sandbox writes (`http_request`, `http_response`,
//! `request_transform`, `response_transform`, `gate_decision`, `route_decision`).
//!
//! Data flows in one direction through these parts, each a private module; what a caller
//! needs is re-exported here:
//!
//! - `ca`: the interception CA ([`CertAuthority`]: generated once into a directory and
//!   reused, or held in memory) and per-host leaf certificates, each with its own key pair,
//!   IP literals as IP SANs;
//! - `inject`: the secret policy ([`Injector`]: placeholder replacement,
//!   `injected`/`skipped`/`leak_blocked`, in headers, the request target and the body);
//! - `budget`: the spend limit ([`Budget`], `--budget-usd`): reserve a request's worst case,
//!   settle its real cost, restore spend from the log at start-up;
//! - `gate`: the host allowlist ([`HostGate`], `--allow-host`);
//! - `route`: hosts sent to another upstream ([`Routes`], `--route`);
//! - `proxy`: the accept loop ([`Proxy`]), `CONNECT` tunnels terminated with TLS (HTTP/1.1
//!   with keep-alive, h2 by ALPN), plain `http://` forwarding, WebSocket upgrades, the
//!   streaming response body that writes `llm_response` exactly once however the exchange
//!   ends, and the shutdown that drains and then cuts ([`RunningProxy::shutdown_with_grace`]);
//! - `upstream`: the pooled upstream client (rustls with webpki roots plus extra CAs, and the
//!   `--connect-to` override map, [`ConnectTo`]);
//! - `usage`: model and token usage from JSON and SSE bodies (gzip, deflate, br decoded),
//!   parsed from the tee'd stream;
//! - `limits`: the open-file limit raised at start-up ([`raise_fd_limit`]), and the signals
//!   a failed write raises kept from killing the process ([`ignore_write_signals`]).
//!
//! It is built on hyper directly rather than on a MITM framework because it needs a key pair
//! per leaf, IP SANs for IP-literal hosts, and full control over streaming bodies and over
//! the moment the `llm_response` event is written.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod budget;
mod ca;
mod gate;
mod inject;
mod limits;
mod prices;
mod proxy;
mod route;
mod upstream;
mod usage;

use bytes::Bytes;

pub use budget::{
    Budget, DEFAULT_MAX_OUTPUT_TOKENS, Restored, SkippedLine, restore_from_log, rotated_siblings,
};
pub use ca::{
    CA_CERT_FILE, CA_KEY_FILE, CaError, CertAuthority, install_default_provider, provider,
};
pub use gate::{HostGate, NOT_IN_ALLOWLIST};
pub use inject::{InjectError, Injector, generate_placeholder};
pub use limits::{ignore_write_signals, raise_fd_limit};
pub use prices::{Cost, ModelPrice, PriceError, PriceMatch, PriceTable, ServiceTier, Tokens};
pub use proxy::{
    DEFAULT_SHUTDOWN_GRACE, LogErrorPolicy, Profile, Proxy, ProxyConfig, ProxyError, RunningProxy,
    ShutdownReport, TextJudge, Timeouts,
};
pub use route::{Route, RouteError, RouteTarget, Routes, Routing};
pub use upstream::{BoxError, ConnectTo, parse_connect_to};

/// The body type the proxy sends and receives.
pub type BoxBody = http_body_util::combinators::UnsyncBoxBody<Bytes, upstream::BoxError>;

/// Hosts whose traffic produces `llm_request`/`llm_response` events without any `--llm-host`.
pub const BUILTIN_LLM_HOSTS: &[&str] = &[
    "api.openai.com",
    "api.anthropic.com",
    "generativelanguage.googleapis.com",
    "openrouter.ai",
    "api.mistral.ai",
    "api.groq.com",
    "api.together.xyz",
    "api.deepseek.com",
];

/// Host patterns that count as LLM API hosts too: the providers' other API hosts (regional
/// endpoints such as `eu.api.openai.com`, Azure OpenAI resources, Vertex AI's regional
/// `{region}-aiplatform.googleapis.com`, which is matched by its suffix). A key injected there
/// bills like one sent to the main host, so the budget gates it and the log records it.
pub const BUILTIN_LLM_HOST_PATTERNS: &[&str] = &[
    "*.openai.com",
    "*.anthropic.com",
    "*.openai.azure.com",
    "*.cognitiveservices.azure.com",
    "*.services.ai.azure.com",
    "bedrock-runtime.*.amazonaws.com",
    "bedrock-runtime-fips.*.amazonaws.com",
    "bedrock.*.amazonaws.com",
    "bedrock-fips.*.amazonaws.com",
    "aiplatform.googleapis.com",
    "*.aiplatform.googleapis.com",
    "*.mistral.ai",
    "*.groq.com",
    "*.together.xyz",
    "api.together.ai",
    "*.together.ai",
    "*.deepseek.com",
    "*.openrouter.ai",
];
