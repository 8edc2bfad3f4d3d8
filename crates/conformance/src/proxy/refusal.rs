//! Unsupported means refused.
//!
//! A port declares unsupported the scenarios it does not implement (`--unsupported`), and
//! is then started on each of them exactly as it would be to run it: it must see from its
//! input (a flag, a profile) that it is asked for what it does not do, and refuse it, with
//! exit status 2 and a message on stderr, before it listens. A port that starts instead
//! would run the scenario as something else (v1 as v0, with no budget), which is what a user
//! who passed the same flags would get: the scenario fails. A refusal is reported
//! unsupported, never as a pass.

use std::net::SocketAddr;
use std::time::Duration;

use agentlog_validate::secrets::redact::Redactor;

use super::launch::{LaunchError, Output, Port};
use super::report::Verdict;
use crate::secrets;

/// The exit status of a refusal (a usage error).
const REFUSED: i32 = 2;

/// Waits up to `timeout` for `port` to refuse its scenario: [`Verdict::Unsupported`] when it
/// exited 2 with a message and no secret in its output, else a failure saying why.
pub(super) async fn judge(
    mut port: Port,
    listen: SocketAddr,
    timeout: Duration,
    command: &str,
    redactor: &Redactor,
) -> Verdict {
    let waited = port.wait_ready(listen, timeout).await;
    let (output, _) = port.stop(Duration::from_secs(2)).await;
    let problem = match waited {
        Ok(()) => Some(format!(
            "declared unsupported, but the port started (it listens on {listen}): a port must \
             refuse what it does not support, with exit status {REFUSED} and a message, rather \
             than run it as something else"
        )),
        Err(LaunchError::Exited {
            code: Some(REFUSED),
            ..
        }) if output.stderr.trim_ascii().is_empty() => Some(format!(
            "declared unsupported: the port exited {REFUSED} but wrote no message on stderr \
             (it must say what it does not support)"
        )),
        Err(LaunchError::Exited {
            code: Some(REFUSED),
            ..
        }) => None,
        Err(why) => Some(format!(
            "declared unsupported: the port {why} (expected to refuse it: exit status \
             {REFUSED} and a message on stderr)"
        )),
    };
    match problem {
        Some(problem) => Verdict::Fail(not_started(&problem, &output, command, redactor)),
        None => {
            let leaks = leaks(&output, redactor);
            if leaks.is_empty() {
                Verdict::Unsupported
            } else {
                Verdict::Fail(leaks)
            }
        }
    }
}

/// The differences of a port that did not run its scenario: `problem`, the tail of its
/// output and the command line, redacted, then every secret its output carries.
pub(super) fn not_started(
    problem: &str,
    output: &Output,
    command: &str,
    redactor: &Redactor,
) -> Vec<String> {
    let tail = output
        .tail(|text| secrets::redact(redactor, text))
        .replace('\n', " | ");
    let mut diffs: Vec<String> = [
        problem.to_owned(),
        format!("output: {tail}"),
        format!("command: {command}"),
    ]
    .iter()
    .map(|d| secrets::redact(redactor, d))
    .collect();
    diffs.extend(leaks(output, redactor));
    diffs
}

/// A difference per secret whose value the port's stdout or stderr carries.
fn leaks(output: &Output, redactor: &Redactor) -> Vec<String> {
    let mut names = secrets::leaked(redactor, &output.stdout);
    names.extend(secrets::leaked(redactor, &output.stderr));
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|name| format!("secrets: the port's output contains the value of secret {name}"))
        .collect()
}
