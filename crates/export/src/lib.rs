//! # agentlog-export
//!
//! Puts agentlog's logs into the telemetry pipeline a fleet already runs: every line of a
//! sandbox event log or a tool-call ledger becomes an OTLP log record, every LLM exchange a
//! CLIENT span with the GenAI attributes, every tool call an `execute_tool` span in its
//! session's trace, sent to any OpenTelemetry collector over OTLP/HTTP (protobuf or JSON).
//!
//! ```text
//!  paths ─▶ walk ─▶ lines (offsets) ─▶ map::Mapper ─▶ batch::Batch ─▶ client::Client ─▶ collector
//!                                       (redactor,      (2048 records,   (POST /v1/logs,
//!                                        semconv,        3 MiB)           /v1/traces; retry)
//!                                        ids)
//! ```
//!
//! - [`map`]: the mapping, one line at a time; the names are in [`semconv`], the ids
//!   (stable: the same log exported twice sends the same ids) in [`ids`].
//! - Secret-safe by construction: every value is judged by the validator's redactor before
//!   it is mapped, and each record and span again as it will be sent; every batch of every
//!   path passes [`map::Pieces`] (a secret cut over neighbouring fields) on its way out.
//! - [`config`]: the endpoint, protocol and headers, from flags or `OTEL_EXPORTER_OTLP_*`.
//! - [`client`]: one POST per batch and signal, retried on the answers OTLP calls
//!   retryable, a bounded number of times.
//! - [`run`]: a whole export of paths, with a summary of what was and was not delivered;
//!   the batches are sent on a thread of their own while the next is mapped.

pub mod batch;
pub mod client;
pub mod config;
pub mod follow;
pub mod ids;
pub mod live;
pub mod map;
pub mod run;
pub mod semconv;
mod ship;

pub use client::{Client, Retry, SendError};
pub use config::{ConfigError, Endpoint, Protocol};
pub use live::{ExportingSink, LiveExport, LiveSummary};
pub use map::{Mapped, Mapper, Skip, Source};
pub use run::{ExportError, FileSummary, Summary, export_paths};

use agentlog_validate::secrets::redact::Redactor;
/// An OTLP attribute (the resource is a list of them).
pub use opentelemetry_proto::tonic::common::v1::KeyValue;

/// The resource every batch is sent under: `service.name` from `OTEL_SERVICE_NAME`, else
/// `agentlog`, plus the `key=value` pairs of `OTEL_RESOURCE_ATTRIBUTES` (read by `env`). A
/// pair whose key or value carries a secret (`redactor` judges) is left out.
pub fn resource(env: &dyn Fn(&str) -> Option<String>, redactor: &Redactor) -> Vec<KeyValue> {
    // Judged as any value shown whole: also with visible separators taken out
    // (`team=AKIAZQ7V/K2PX9MW4NR8T` reads as the key).
    let shown = |text: &str| {
        !agentlog_validate::secrets::redact::drives_a_terminal(text) && !redactor.shows_value(text)
    };
    let mut attributes: Vec<KeyValue> = env("OTEL_RESOURCE_ATTRIBUTES")
        .map(|list| {
            list.split(',')
                .filter_map(|item| item.split_once('='))
                // Each part, and the pair as a collector may show it (`k=v`).
                .filter(|(k, v)| shown(k) && shown(v) && shown(&format!("{k}={v}")))
                .map(|(k, v)| map::kv_str(k.trim(), v.trim()))
                .collect()
        })
        .unwrap_or_default();
    // OTEL_SERVICE_NAME wins over a service.name in OTEL_RESOURCE_ATTRIBUTES, which wins
    // over the default, as the SDK specification orders them.
    if let Some(service) = env("OTEL_SERVICE_NAME").filter(|name| shown(name)) {
        attributes.retain(|kv| kv.key != semconv::SERVICE_NAME);
        attributes.insert(0, map::kv_str(semconv::SERVICE_NAME, &service));
    } else if !attributes.iter().any(|kv| kv.key == semconv::SERVICE_NAME) {
        attributes.insert(0, map::kv_str(semconv::SERVICE_NAME, "agentlog"));
    }
    // A value cut into pieces over the pairs (`service.name=AKIAZQ7VK2`, `a=PX9MW4NR8T`):
    // none of them is sent.
    let probe = opentelemetry_proto::tonic::logs::v1::LogRecord {
        attributes: attributes.clone(),
        ..Default::default()
    };
    if map::Pieces::new(redactor.clone()).show(&probe, None) {
        attributes = vec![map::kv_str(semconv::SERVICE_NAME, "agentlog")];
    }
    attributes
}

#[cfg(test)]
mod tests {
    use super::*;
    use agentlog_validate::secrets::{Secret, SecretValue};

    #[test]
    fn a_resource_pair_that_shows_a_secret_as_k_equals_v_is_left_out() {
        let redactor = agentlog_validate::Options::default()
            .with_secrets(vec![Secret::new(
                "S",
                SecretValue::new("team=Zq7vK2pX9mW4nR8t"),
                vec![],
            )])
            .redactor()
            .unwrap();
        let env = |name: &str| {
            (name == "OTEL_RESOURCE_ATTRIBUTES")
                .then(|| "team=Zq7vK2pX9mW4nR8t,region=eu".to_owned())
        };
        let attributes = resource(&env, &redactor);
        let keys: Vec<&str> = attributes.iter().map(|kv| kv.key.as_str()).collect();
        assert_eq!(keys, ["service.name", "region"]);
    }

    #[test]
    fn resource_values_that_are_pieces_of_a_key_are_all_left_out() {
        let redactor = agentlog_validate::Options::default().redactor().unwrap();
        let env = |name: &str| match name {
            "OTEL_SERVICE_NAME" => Some("AKIAZQ7VK2".to_owned()),
            "OTEL_RESOURCE_ATTRIBUTES" => Some("a=PX9MW4NR8T,region=eu".to_owned()),
            _ => None,
        };
        let attributes = resource(&env, &redactor);
        let sent = serde_json::to_string(&attributes).unwrap();
        assert!(!sent.contains("PX9MW4NR8T"), "{sent}");
        assert!(sent.contains("agentlog"), "{sent}");
    }

    #[test]
    fn a_resource_value_that_is_a_key_split_by_a_slash_is_left_out() {
        let redactor = agentlog_validate::Options::default().redactor().unwrap();
        let env = |name: &str| {
            (name == "OTEL_RESOURCE_ATTRIBUTES")
                .then(|| "team=AKIAZQ7V/K2PX9MW4NR8T,region=eu-west/1".to_owned())
        };
        let attributes = resource(&env, &redactor);
        let keys: Vec<&str> = attributes.iter().map(|kv| kv.key.as_str()).collect();
        assert_eq!(keys, ["service.name", "region"]);
    }
}
