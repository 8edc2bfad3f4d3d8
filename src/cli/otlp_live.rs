//! `--otlp-endpoint` of `proxy` and `demo`: the live export of every event the log accepts.

use std::sync::Arc;
use std::time::Duration;

use agentlog_core::secrets::{Secret, SecretValue};
use agentlog_core::sink::Sink;
use agentlog_export::{Client, Endpoint, ExportingSink, LiveExport, LiveSummary, Mapper, Retry};

use super::output;

/// A started live export and where it sends.
#[derive(Clone)]
pub(super) struct Live {
    pub(super) export: Arc<LiveExport>,
    shown: String,
}

/// Starts the export to `url` (a base URL; headers and protocol from the `OTEL_EXPORTER_OTLP_*`
/// variables). Values are judged by the gate's redactor, which knows the command's secrets.
pub(super) fn start(url: &str) -> Result<Live, String> {
    let env = |name: &str| std::env::var(name).ok();
    let endpoint = Endpoint::resolve(Some(url), None, &[], &env).map_err(|e| e.to_string())?;
    let shown = endpoint.shown();
    let endpoint_for_client = endpoint.clone();
    // A live export retries less than `agentlog export`: the queue behind it keeps filling.
    let retry = Retry {
        attempts: 3,
        ..Retry::default()
    };
    let client = Client::new(endpoint_for_client, retry).map_err(|e| e.to_string())?;
    // The gate knows the command's own secrets; the export's credentials join them, for the
    // records as for everything printed.
    let credentials = credential_secrets(&endpoint);
    if !credentials.is_empty() {
        output::add_secrets(&credentials);
    }
    let redactor = output::gate().redactor().clone();
    let resource = agentlog_export::resource(&env, &redactor);
    let export = LiveExport::start(client, Mapper::new(redactor), resource)
        .map_err(|e| format!("start the OTLP export: {e}"))?;
    Ok(Live { export, shown })
}

/// Header values, and the user information and query values of the URLs, as secrets (those
/// long enough to be watched for): nothing the command prints or exports may show them.
pub(super) fn credential_secrets(endpoint: &Endpoint) -> Vec<Secret> {
    endpoint
        .credentials()
        .into_iter()
        .filter(|value| value.len() >= agentlog_core::secrets::MIN_SECRET_LEN)
        .enumerate()
        .map(|(i, value)| {
            Secret::new(
                format!("OTLP credential #{}", i + 1),
                SecretValue::new(value),
                vec![],
            )
        })
        .collect()
}

impl Live {
    /// `file` with the export behind it: an event goes to the export once the file has it.
    pub(super) fn sink(&self, file: Arc<dyn Sink>) -> Arc<dyn Sink> {
        Arc::new(ExportingSink::new(file, self.export.clone()))
    }

    /// The line start-up prints.
    pub(super) fn describe(&self) -> String {
        format!(
            "OTLP export: every event the log accepts, to {} (a queue of {}; never blocks the log)",
            output::shown(&self.shown),
            LiveExport::CAPACITY
        )
    }

    /// Sends what is queued (at most `grace`) and prints what the export did.
    pub(super) fn finish(&self, prefix: &str, grace: Duration) -> LiveSummary {
        let summary = self.export.finish(grace);
        let mut line = format!(
            "{prefix}: OTLP export: {} log record(s) and {} span(s) delivered to {}",
            summary.delivered_records,
            summary.delivered_spans,
            output::shown(&self.shown)
        );
        if summary.dropped > 0 {
            line.push_str(&format!(
                "; {} event(s) dropped (queue full)",
                summary.dropped
            ));
        }
        if summary.failed > 0 {
            line.push_str(&format!("; {} not delivered", summary.failed));
            if let Some(error) = &summary.last_error {
                line.push_str(&format!(" ({error})"));
            }
        }
        if summary.abandoned {
            line.push_str("; the grace period ended before the queue was sent");
        }
        output::errln!("{line}");
        summary
    }
}
