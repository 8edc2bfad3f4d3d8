//! Sending a scenario's requests through the port, reading its log as each response ends.
//!
//! A port must write an exchange's events before the last byte of its response reaches the
//! client (a client can act on an answer the log does not show yet, and the next request
//! races with the late write). The requests go one after another, so the log read as soon
//! as a response has been read to its end holds exactly the events of the exchanges so far:
//! the judge compares that count with what the scenario's requests write.

use std::path::Path;

use super::client::{self, RequestError, Response};
use super::expand::Expander;
use super::launch::MAX_READ;
use super::scenario::RequestSpec;

/// What the client saw of one request, and the log when its response had ended.
#[derive(Clone, Debug)]
pub(crate) struct Exchanged {
    /// The response, or why there was none.
    pub(crate) response: Result<Response, RequestError>,
    /// Complete event lines in the log at that moment (`None`: no log file yet).
    pub(crate) logged: Option<usize>,
}

/// Sends every request in order through `client`; the log at `log` is read after each.
pub(crate) async fn exercise(
    client: &reqwest::Client,
    requests: &[RequestSpec],
    expander: &Expander,
    log: &Path,
) -> Vec<Exchanged> {
    let mut out = Vec::with_capacity(requests.len());
    for request in requests {
        let response = client::send(client, request, expander).await;
        out.push(Exchanged {
            response,
            logged: complete_lines(log),
        });
    }
    out
}

/// The non-blank lines of the file at `path` that end in a newline (a line being written
/// is not an event yet).
fn complete_lines(path: &Path) -> Option<usize> {
    let (bytes, _) = crate::capped::read(path, MAX_READ).ok()?;
    let end = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let lines = bytes
        .get(..end)
        .unwrap_or_default()
        .split(|b| *b == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .count();
    Some(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_complete_non_blank_lines_count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        assert_eq!(complete_lines(&path), None);
        for (text, n) in [("", 0), ("{}\n\n  \n{}\n{\"par", 2), ("{}", 0), ("{}\n", 1)] {
            std::fs::write(&path, text).unwrap();
            assert_eq!(complete_lines(&path), Some(n), "{text:?}");
        }
    }
}
