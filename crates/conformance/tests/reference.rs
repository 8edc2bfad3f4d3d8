// A test crate: a failed unwrap or index fails the test, cases are long tables, and helpers
// are `pub` for the test files that share them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::too_many_lines,
    unreachable_pub,
    missing_docs
)]
//! The reference validator (agentlog-validate, as a library) against every validator case of
//! the manifest: adding a case file to `conformance/logs/` adds it here. Each case runs with
//! one and two workers and with tiny chunks, so every line boundary is also a chunk boundary.

use agentlog_conformance::cases::{self, Kind};
use agentlog_conformance::validator::{self, Observed, Status};
use agentlog_validate::{FileReport, Options, Rule, Validator};

/// A reader that hands out at most `.1` bytes per read, so small chunk sizes really cut the
/// input into small chunks (a slice reader hands out everything at once).
struct Trickle<'a>(&'a [u8], usize);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.1.max(1)).min(self.0.len());
        let (head, tail) = self.0.split_at(n);
        buf[..n].copy_from_slice(head);
        self.0 = tail;
        Ok(n)
    }
}

fn validate(options: Options, bytes: &[u8]) -> FileReport {
    let chunk_size = options.chunk_size;
    Validator::new(options)
        .expect("validator")
        .validate_reader("log.jsonl", Trickle(bytes, chunk_size))
}

#[test]
fn every_manifest_validate_case_passes_the_reference() {
    let manifest: Vec<String> = cases::manifest()
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == Kind::Validate)
        .map(|e| e.id)
        .collect();
    let loaded = validator::load_embedded().unwrap();
    let ids: Vec<&str> = loaded.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids, manifest,
        "the harness loads exactly the manifest's cases"
    );
    let mut failures = Vec::new();
    for case in &loaded {
        for threads in [1, 2] {
            for chunk_size in [1 << 20, 7] {
                let mut options = case.options.to_validate_options();
                options.threads = threads;
                options.chunk_size = chunk_size;
                let report = validate(options, &case.log);
                let outcome = validator::judge(case, Ok(Observed::from_report(&report)));
                if outcome.status() != Status::Pass {
                    failures.push(format!("{outcome} (threads {threads}, chunk {chunk_size})"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_rule_is_exercised_by_a_case() {
    let verdicts: String = cases::files()
        .filter(|(path, _)| path.starts_with("logs/") && path.ends_with(".json"))
        .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
        .collect();
    for rule in agentlog_validate::RULES {
        if matches!(
            rule.rule,
            Rule::LineTooLong | Rule::InputRead | Rule::InputSkipped
        ) {
            continue; // covered by agentlog-validate's `over_long_lines_are_skipped` and the CLI tests
        }
        assert!(
            verdicts.contains(&format!("\"{}\"", rule.id)),
            "no case expects {}",
            rule.id
        );
    }
}

/// The encoder cases (`conformance/encoders/generate.sh`) keep the traits they exist for:
/// regenerating them with another tool, or hand-editing them, would quietly drop what they
/// pin, so the bytes are checked here as well as the verdicts above.
#[test]
fn encoder_cases_are_written_the_way_their_encoders_write() {
    let text = |name: &str| {
        let bytes = cases::file(&format!("logs/{name}.jsonl")).expect(name);
        String::from_utf8(bytes.to_vec()).expect("UTF-8")
    };
    for profile in ["v0", "v1"] {
        let go = text(&format!("encoder_go_{profile}"));
        assert!(go.contains(r"\u003e") && go.contains(r"\u0026"), "{go}");
        assert!(go.contains(r#"{"ts":""#) && !go.contains("+00:00"), "{go}");
        assert!(go.contains(r#"Z","run_id":"#), "{go}");
        let python = text(&format!("encoder_python_{profile}"));
        assert!(
            python.contains(r#"{"ts": ""#) && python.contains(r#"", ""#),
            "{python}"
        );
        assert!(
            python.contains("+00:00\"") && python.contains(r"\u2014"),
            "{python}"
        );
        assert!(
            python.is_ascii(),
            "ensure_ascii escapes every non-ASCII character"
        );
        let js = text(&format!("encoder_js_{profile}"));
        assert!(!js.contains(r"\u00") && !js.contains(r#"", ""#), "{js}");
        assert!(js.contains(".000Z\""), "{js}");
        assert!(
            js.lines().all(|l| l
                .get(7..31)
                .is_some_and(|ts| ts.ends_with('Z') && ts.as_bytes()[19] == b'.')),
            "{js}"
        );
    }
    let go_v0 = text("encoder_go_v0");
    assert!(
        go_v0.contains(r"\u003c") && go_v0.contains(r"\u2028"),
        "{go_v0}"
    );
    assert!(
        text("encoder_js_v0").contains('\u{2028}'),
        "JSON.stringify keeps U+2028 raw"
    );
}
