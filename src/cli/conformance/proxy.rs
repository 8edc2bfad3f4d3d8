//! `agentlog conformance proxy`: the interceptor harness (agentlog-conformance's `proxy`).

use agentlog_core::secrets::{Secret, SecretValue};
use std::path::PathBuf;
use std::time::Duration;

use agentlog_conformance::HarnessFormat;
use agentlog_conformance::proxy::{self, Harness, Report, Template};
use agentlog_conformance::select::Unsupported;

use crate::cli::{EXIT_FINDINGS, EXIT_OK, fail, print_stdout, print_stdout_as};

/// Run the interceptor scenarios against our own proxy (--self) or a port (--cmd).
///
/// For each `proxy/*` scenario the harness starts a mock LLM upstream behind TLS and a
/// plain-HTTP route target, writes a CA for the port (and a ready leaf certificate), picks a
/// free loopback port, runs TEMPLATE with `sh -c` in its own process group, waits until it
/// accepts TCP connections on {listen}, sends the scenario's requests through it as an HTTP
/// proxy with a real HTTPS client trusting only that CA, stops it with SIGTERM (10 s to
/// exit), then compares the statuses, what the upstreams received and the events it wrote.
///
/// Placeholders, each one shell-quoted word unless marked "words":
///
///   {listen}            127.0.0.1:PORT to listen on (HTTP proxy: CONNECT and absolute-form)
///   {log}               the JSON Lines event log to write (does not exist yet)
///   {ca_cert} {ca_key}  PEM CA certificate and PKCS#8 key to mint leaf certificates with
///   {ca_dir}            the same CA as ca.pem and ca-key.pem (agentlog's --ca-dir layout)
///   {leaf_cert} {leaf_key}  a ready leaf + key signed by that CA, for every scenario host
///   {upstream_ca}       PEM of the CA of the mock upstream's certificate
///   {connect_to}        HOST:PORT=ADDR:PORT,... where to dial instead of HOST:PORT
///   {connect_to_flags}  words: --connect-to HOST:PORT=ADDR:PORT per entry
///   {secrets}           words: --secret NAME=VALUE@HOSTS --placeholder NAME=PLACEHOLDER
///   {scenario_flags}    words: --profile, --llm-host, --allow-host, --route, --budget-usd
///   {scenario}          the scenario JSON; {scenario_id} e.g. proxy/inject_and_skip
///
/// The full contract (readiness, stop, what is compared) is in conformance/scenarios/README.md.
/// --self runs this binary as:
///
///   agentlog proxy --listen {listen} --event-log {log} --ca-dir {ca_dir} --upstream-ca
///   {upstream_ca} {connect_to_flags} {secrets} {scenario_flags} --quiet
///
/// Exit codes: 0 no scenario failed (unsupported ones are not failures), 1 a scenario
/// failed, 2 usage or I/O error.
#[derive(Debug, clap::Args)]
#[command(long_about, verbatim_doc_comment)]
#[command(group(clap::ArgGroup::new("subject").required(true).args(["cmd", "self_"])))]
pub(super) struct Args {
    /// Command template launching the port, e.g. 'python3 myproxy.py --listen {listen}
    /// --log {log} --cert {leaf_cert} --key {leaf_key} {secrets}'.
    #[arg(long, value_name = "TEMPLATE")]
    cmd: Option<String>,
    /// Run against this agentlog binary's own proxy.
    #[arg(long = "self", id = "self_")]
    self_: bool,
    /// Scenario ids the port does not support (`*` wildcard, e.g. 'proxy/v1_*'): the port is
    /// launched on each and must refuse it (exit 2 and a message on stderr), then it is
    /// reported UNSUPPORTED, never a pass; a port that starts instead fails it. Repeatable.
    #[arg(long, value_name = "GLOB")]
    unsupported: Vec<String>,
    /// A file of --unsupported globs, one per line (`#` comments, blank lines ignored).
    /// Repeatable.
    #[arg(long, value_name = "FILE")]
    unsupported_from: Vec<PathBuf>,
    /// Only run the scenarios matching GLOB. Repeatable.
    #[arg(long, value_name = "GLOB")]
    only: Vec<String>,
    /// Output: a line per scenario and a summary, a JSON report, or JUnit XML.
    #[arg(long, default_value_t = HarnessFormat::Text, value_parser = super::format_parser(|_| None))]
    format: HarnessFormat,
    /// Seconds the port has to start listening.
    #[arg(long, value_name = "SECS", default_value_t = 20.0, value_parser = seconds)]
    startup_timeout: f64,
}

fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 3600.0 => Ok(v),
        _ => Err("expected a number of seconds, e.g. 20 or 0.5".to_owned()),
    }
}

pub(super) fn run(args: Args) -> u8 {
    let harness = match harness(&args) {
        Ok(h) => h,
        Err(message) => return fail(message),
    };
    let scenarios = match proxy::scenarios() {
        Ok(all) => harness.select(all),
        Err(e) => return fail(e),
    };
    if scenarios.is_empty() {
        return fail("no scenario matches --only");
    }
    // A port under test may print a scenario's secret in any encoding: the gate watches for
    // all of them.
    let secrets: Vec<Secret> = scenarios
        .iter()
        .flat_map(|s| &s.secrets)
        .map(|s| Secret::new(s.name.clone(), SecretValue::new(s.value.clone()), vec![]))
        .collect();
    crate::cli::output::install_secrets(&secrets);
    let format = args.format;
    crate::cli::block_on(async move {
        // A failed write of one line is reported once the run ends, with the summary's.
        let mut print_error = None;
        let printed = |outcome: &proxy::Outcome| {
            if format == HarnessFormat::Text && print_error.is_none() {
                print_error = print_stdout(&format!("{}\n", outcome.line())).err();
            }
        };
        let report = harness.run(&scenarios, printed).await.map(shown_report);
        match (report, print_error) {
            (Err(e), _) => fail(e),
            (Ok(_), Some(e)) => fail(e),
            (Ok(report), None) => finish(&report, format),
        }
    })
}

/// The report with every difference shown as a value (withheld or escaped): a difference
/// quotes what a port wrote.
fn shown_report(mut report: proxy::Report) -> proxy::Report {
    report.subject = crate::cli::output::shown(&report.subject);
    for outcome in &mut report.outcomes {
        if let proxy::Verdict::Fail(diffs) = &mut outcome.verdict {
            for diff in diffs {
                *diff = crate::cli::output::shown(diff);
            }
        }
    }
    report
}

/// The harness the arguments describe; `Err`: a usage error.
fn harness(args: &Args) -> Result<Harness, String> {
    let (text, subject) = match (&args.cmd, args.self_) {
        (Some(cmd), false) => (cmd.clone(), cmd.clone()),
        (None, true) => {
            let exe = std::env::current_exe().map_err(|e| format!("this binary's path: {e}"))?;
            (
                proxy::self_template(&exe),
                "agentlog proxy, --self".to_owned(),
            )
        }
        _ => return Err("give exactly one of --cmd and --self".to_owned()),
    };
    let template = Template::parse(&text).map_err(|e| e.to_string())?;
    let mut harness = Harness::new(template, subject);
    harness.unsupported = Unsupported::from_flags(&args.unsupported, &args.unsupported_from)
        .map_err(|e| e.to_string())?;
    harness.only = args.only.clone();
    harness.startup_timeout = Duration::from_secs_f64(args.startup_timeout);
    Ok(harness)
}

/// Prints the report in `format` (text: the summary; the lines were printed as they came)
/// and returns the exit code.
fn finish(report: &Report, format: HarnessFormat) -> u8 {
    let text = match format {
        HarnessFormat::Text => format!("{}\n", report.summary()),
        HarnessFormat::Json => match serde_json::to_string_pretty(&report.json()) {
            Ok(text) => text + "\n",
            Err(e) => return fail(e),
        },
        HarnessFormat::Junit => report.junit(),
    };
    if let Err(e) = print_stdout_as(&text, format.gate_style()) {
        return fail(e);
    }
    if report.failed() == 0 {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    }
}
