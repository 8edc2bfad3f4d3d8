//! The pairing check: a request event and its response event share `data.exchange_id`.
//!
//! A writer that keeps exchange ids (agentlog's proxy does) writes one id on every event of
//! an exchange; its request event (`llm_request`, `http_request`) and its response event
//! (`llm_response`, `http_response`) are the pair this check looks at. The merger feeds it
//! each request and response that carries an id, in line order ([`Pairing::see`]), and ends
//! it at the end of the file ([`Pairing::finish`]):
//!
//! - `exchange.unanswered`: a request whose id no response carries by the end of the file;
//! - `exchange.orphan_response`: a response whose id no request awaiting a response carries
//!   before it (none came earlier, or an earlier response answered it); when a request with
//!   that id comes later, the finding names its line, and that request counts as answered.
//!
//! Both are warnings: a log copied while its proxy runs has requests in flight. Events
//! without an id are not checked, nor are the other types of an exchange.
//!
//! Ids are matched first in, first out: two requests with one id need two responses.
//! Memory is bounded: at most [`HELD_CAP`] requests awaiting a response and responses waiting
//! for a later request are held at once. Past that the check stops growing: a request is not
//! paired, a response whose request is not held is not reported, and the finding at the line
//! where the cap first stopped the check says so.

use std::collections::{HashMap, VecDeque};

use super::{Finding, Rule};
use crate::secrets::redact::Redactor;

/// Most requests and responses the check holds at once.
pub(crate) const HELD_CAP: usize = 65_536;

/// The event types the check pairs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    LlmRequest,
    HttpRequest,
    LlmResponse,
    HttpResponse,
}

impl Kind {
    /// The kind of an event type, `None` for a type that is neither a request nor a response.
    pub(crate) fn of(event_type: &str) -> Option<Kind> {
        Some(match event_type {
            "llm_request" => Kind::LlmRequest,
            "http_request" => Kind::HttpRequest,
            "llm_response" => Kind::LlmResponse,
            "http_response" => Kind::HttpResponse,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Kind::LlmRequest => "llm_request",
            Kind::HttpRequest => "http_request",
            Kind::LlmResponse => "llm_response",
            Kind::HttpResponse => "http_response",
        }
    }

    fn is_request(self) -> bool {
        matches!(self, Kind::LlmRequest | Kind::HttpRequest)
    }
}

/// One request or response event with an exchange id, at a line of the file (of its chunk,
/// until the merger makes it absolute).
#[derive(Debug)]
pub(crate) struct Seen {
    pub line: u64,
    pub kind: Kind,
    pub id: String,
}

/// The pairing check's state for one file; see the module documentation.
#[derive(Default)]
pub(crate) struct Pairing {
    /// Requests awaiting a response, by id, in line order.
    open: HashMap<String, VecDeque<(u64, Kind)>>,
    /// Responses no request before them matched, by id, waiting for a later request.
    orphans: HashMap<String, Vec<(u64, Kind)>>,
    /// Entries in `open` and `orphans`.
    held: usize,
    /// Whether the cap stopped the check.
    capped: bool,
}

impl Pairing {
    /// Takes the next request or response of the file, in line order; pushes the findings it
    /// settles (a response waiting for this request, or the cap).
    pub(crate) fn see(&mut self, seen: Seen, redactor: &Redactor, out: &mut Vec<Finding>) {
        if seen.kind.is_request() {
            self.request(seen, redactor, out);
        } else {
            self.response(seen, redactor, out);
        }
    }

    fn request(&mut self, seen: Seen, redactor: &Redactor, out: &mut Vec<Finding>) {
        if let Some(responses) = self.orphans.remove(&seen.id) {
            // Answered before it was asked: reported once, on the response.
            self.held -= responses.len();
            for (line, kind) in responses {
                let message = format!(
                    "{} with exchange_id {} answers no request before it: a request with \
                     that exchange_id comes later, at line {} ({})",
                    kind.name(),
                    redactor.quote(&seen.id),
                    seen.line,
                    seen.kind.name()
                );
                out.push(finding(line, Rule::ExchangeOrphanResponse, message));
            }
            return;
        }
        if self.full(&seen, redactor, out) {
            return;
        }
        self.held += 1;
        let Seen { line, kind, id } = seen;
        self.open.entry(id).or_default().push_back((line, kind));
    }

    fn response(&mut self, seen: Seen, redactor: &Redactor, out: &mut Vec<Finding>) {
        if let Some(requests) = self.open.get_mut(&seen.id) {
            requests.pop_front();
            if requests.is_empty() {
                self.open.remove(&seen.id);
            }
            self.held -= 1;
            return;
        }
        // Its request may be one the cap left out.
        if self.capped || self.full(&seen, redactor, out) {
            return;
        }
        self.held += 1;
        let Seen { line, kind, id } = seen;
        self.orphans.entry(id).or_default().push((line, kind));
    }

    /// Whether the check holds all it may; the first time, the finding that says so.
    fn full(&mut self, seen: &Seen, redactor: &Redactor, out: &mut Vec<Finding>) -> bool {
        if self.held < HELD_CAP {
            return false;
        }
        if !std::mem::replace(&mut self.capped, true) {
            let rule = if seen.kind.is_request() {
                Rule::ExchangeUnanswered
            } else {
                Rule::ExchangeOrphanResponse
            };
            let message = format!(
                "{} with exchange_id {} is not paired: the pairing check holds at most \
                 {HELD_CAP} requests awaiting a response and responses awaiting a request, \
                 and holds that many here; from this line on, requests past the cap are not \
                 paired and responses without a held request are not reported",
                seen.kind.name(),
                redactor.quote(&seen.id)
            );
            out.push(finding(seen.line, rule, message));
        }
        true
    }

    /// Ends the file at line `last`: every request still awaiting its response, and every
    /// response no request answered, as findings in line order.
    pub(crate) fn finish(self, last: u64, redactor: &Redactor) -> Vec<Finding> {
        let mut out = Vec::with_capacity(self.held);
        for (id, requests) in self.open {
            for (line, kind) in requests {
                let message = format!(
                    "{} at line {line} with exchange_id {} has no response with that \
                     exchange_id: the log ends at line {last} (a request still in flight, or \
                     a writer stopped mid-exchange)",
                    kind.name(),
                    redactor.quote(&id)
                );
                out.push(finding(line, Rule::ExchangeUnanswered, message));
            }
        }
        for (id, responses) in self.orphans {
            for (line, kind) in responses {
                let message = format!(
                    "{} with exchange_id {} answers no request before it (none awaits a \
                     response with that exchange_id), and none comes later: the log ends at \
                     line {last}",
                    kind.name(),
                    redactor.quote(&id)
                );
                out.push(finding(line, Rule::ExchangeOrphanResponse, message));
            }
        }
        out.sort_by_key(|f| (f.line, f.rule));
        out
    }
}

fn finding(line: u64, rule: Rule, message: String) -> Finding {
    Finding {
        line,
        rule,
        severity: rule.info().severity,
        pointer: Some("/data/exchange_id".into()),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor() -> Redactor {
        Redactor::none()
    }

    /// Runs the check over `(line, event type, id)` and returns `(line, rule id)` of every
    /// finding, with the messages.
    fn run(events: &[(u64, &str, &str)], last: u64) -> Vec<(u64, &'static str, String)> {
        let redactor = redactor();
        let mut pairing = Pairing::default();
        let mut out = Vec::new();
        for (line, event_type, id) in events {
            let kind = Kind::of(event_type).unwrap();
            let seen = Seen {
                line: *line,
                kind,
                id: (*id).to_owned(),
            };
            pairing.see(seen, &redactor, &mut out);
        }
        out.extend(pairing.finish(last, &redactor));
        out.sort_by_key(|f| f.line);
        out.into_iter()
            .map(|f| (f.line, f.rule.id(), f.message))
            .collect()
    }

    fn rules(found: &[(u64, &'static str, String)]) -> Vec<(u64, &'static str)> {
        found.iter().map(|(l, r, _)| (*l, *r)).collect()
    }

    #[test]
    fn pairs_are_silent_in_any_interleaving() {
        let found = run(
            &[
                (1, "llm_request", "a-1"),
                (2, "llm_request", "a-2"),
                (3, "llm_response", "a-2"),
                (4, "http_request", "a-3"),
                (5, "llm_response", "a-1"),
                (6, "http_response", "a-3"),
            ],
            6,
        );
        assert_eq!(found, vec![]);
    }

    #[test]
    fn an_unanswered_request_names_its_line_and_the_end() {
        let found = run(
            &[
                (1, "llm_request", "a-1"),
                (2, "llm_request", "a-2"),
                (3, "llm_response", "a-1"),
            ],
            9,
        );
        assert_eq!(rules(&found), [(2, "exchange.unanswered")]);
        let message = &found[0].2;
        assert!(message.contains("llm_request at line 2"), "{message}");
        assert!(message.contains("`a-2`"), "{message}");
        assert!(message.contains("the log ends at line 9"), "{message}");
    }

    #[test]
    fn an_orphan_names_the_later_request_which_is_then_answered() {
        let found = run(
            &[
                (1, "http_response", "b-1"),
                (2, "http_request", "b-1"),
                (3, "http_response", "b-9"),
            ],
            3,
        );
        assert_eq!(
            rules(&found),
            [
                (1, "exchange.orphan_response"),
                (3, "exchange.orphan_response")
            ]
        );
        assert!(
            found[0].2.contains("comes later, at line 2"),
            "{}",
            found[0].2
        );
        assert!(found[1].2.contains("none comes later"), "{}", found[1].2);
    }

    #[test]
    fn a_second_response_is_an_orphan_and_ids_pair_first_in_first_out() {
        let found = run(
            &[
                (1, "llm_request", "c-1"),
                (2, "llm_request", "c-1"),
                (3, "llm_response", "c-1"),
                (4, "llm_response", "c-1"),
                (5, "llm_response", "c-1"),
            ],
            5,
        );
        assert_eq!(rules(&found), [(5, "exchange.orphan_response")]);
        let found = run(
            &[
                (1, "llm_request", "c-1"),
                (2, "llm_request", "c-1"),
                (3, "llm_response", "c-1"),
            ],
            3,
        );
        assert_eq!(rules(&found), [(2, "exchange.unanswered")]);
    }

    #[test]
    fn the_cap_stops_the_check_and_says_so_once() {
        let redactor = redactor();
        let mut pairing = Pairing::default();
        let mut out = Vec::new();
        let n = HELD_CAP as u64;
        for line in 1..=n + 2 {
            let seen = Seen {
                line,
                kind: Kind::LlmRequest,
                id: format!("d-{line}"),
            };
            pairing.see(seen, &redactor, &mut out);
        }
        // A response to a request the cap left out is not an orphan; one to a held request
        // still pairs.
        for (line, id) in [(n + 3, format!("d-{}", n + 1)), (n + 4, "d-1".to_owned())] {
            let seen = Seen {
                line,
                kind: Kind::LlmResponse,
                id,
            };
            pairing.see(seen, &redactor, &mut out);
        }
        assert_eq!(out.len(), 1, "one finding for the cap");
        assert_eq!(
            (out[0].line, out[0].rule),
            (n + 1, Rule::ExchangeUnanswered)
        );
        assert!(out[0].message.contains("65536"), "{}", out[0].message);
        let rest = pairing.finish(n + 4, &redactor);
        assert_eq!(rest.len(), HELD_CAP - 1, "the held requests but d-1");
        assert_eq!(rest.first().map(|f| f.line), Some(2));
    }

    #[test]
    fn ids_that_carry_a_secret_are_not_shown() {
        use crate::secrets::scan::SecretScanner;
        use crate::secrets::{Secret, SecretValue};
        let value = SecretValue::new("sk-live-0123456789abcdef".to_owned());
        let scanner = SecretScanner::new(&[Secret::new("KEY", value, vec![])]).unwrap();
        let redactor = Redactor::new(scanner, None);
        let mut pairing = Pairing::default();
        let mut out = Vec::new();
        let seen = Seen {
            line: 1,
            kind: Kind::HttpRequest,
            id: "sk-live-0123456789abcdef".into(),
        };
        pairing.see(seen, &redactor, &mut out);
        let found = pairing.finish(1, &redactor);
        assert!(
            !found[0].message.contains("sk-live"),
            "{}",
            found[0].message
        );
        assert!(
            found[0].message.contains("(not shown)"),
            "{}",
            found[0].message
        );
    }
}
