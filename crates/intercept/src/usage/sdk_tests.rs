//! Tests of stream usage as the SDKs accumulate it and of SSE parsing to the standard: the
//! fixtures of `testdata/usage/sdk` replayed with every line end, a BOM and zstd, in random
//! chunks, then one rule at a time.

use std::io::Write;
use std::sync::OnceLock;

use proptest::prelude::*;
use serde_json::Value;

use super::*;

const SSE: &str = "text/event-stream";

/// What a parser reported, all of it: fixtures and rules are checked field by field.
#[derive(Clone, Debug, PartialEq)]
struct Seen {
    model: String,
    input: Option<u64>,
    output: Option<u64>,
    cached: Option<u64>,
    creation: Option<u64>,
    reasoning: Option<u64>,
    cost: Option<f64>,
    implausible: bool,
    complete: bool,
}

fn seen(p: UsageParser) -> Seen {
    let complete = p.saw_terminal_event();
    let u = p.finish();
    Seen {
        model: u.model,
        input: u.input_tokens,
        output: u.output_tokens,
        cached: u.cached_input_tokens,
        creation: u.cache_creation_input_tokens,
        reasoning: u.reasoning_tokens,
        cost: u.provider_cost_usd,
        implausible: u.implausible,
        complete,
    }
}

/// `body` fed in pieces whose sizes cycle through `sizes`.
fn feed(encoding: Option<&str>, body: &[u8], sizes: &[usize]) -> Seen {
    let mut p = UsageParser::for_response(SSE, encoding).unwrap();
    let mut rest = body;
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, tail) = rest.split_at((*size).clamp(1, rest.len()));
        p.feed(piece);
        rest = tail;
    }
    seen(p)
}

/// A plain SSE body fed whole.
fn sse(body: &str) -> Seen {
    feed(None, body.as_bytes(), &[usize::MAX])
}

fn fixture_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/usage/sdk")
}

/// The manifest's expectation for one fixture.
fn expected(expect: &Value) -> Seen {
    let count = |k: &str| expect.get(k).and_then(Value::as_u64);
    Seen {
        model: expect["model"].as_str().unwrap().to_owned(),
        input: count("input_tokens"),
        output: count("output_tokens"),
        cached: count("cached_input_tokens"),
        creation: count("cache_creation_input_tokens"),
        reasoning: count("reasoning_tokens"),
        cost: None,
        implausible: false,
        complete: expect["complete"].as_bool().unwrap(),
    }
}

/// How a fixture's lines end when it is replayed.
#[derive(Clone, Copy, Debug)]
enum Ends {
    Lf,
    CrLf,
    Cr,
    /// CRLF, CR and LF in turn.
    Mixed,
}

/// The line ends of [`Ends::Mixed`], and of random mixes.
const MIXED: [&[u8]; 3] = [b"\r\n", b"\r", b"\n"];

/// An LF-only body with its line ends rewritten, and a BOM first when `bom`.
fn rewrite(body: &[u8], ends: Ends, bom: bool) -> Vec<u8> {
    with_ends(body, bom, |i| match ends {
        Ends::Lf => b"\n",
        Ends::CrLf => b"\r\n",
        Ends::Cr => b"\r",
        Ends::Mixed => MIXED[i % 3],
    })
}

/// An LF-only body with line `i` ended by `end(i)`, and a BOM first when `bom`. An LF alone
/// right after a CR would join it into one CRLF, so a blank line after a CR ends with CR.
fn with_ends(body: &[u8], bom: bool, end: impl Fn(usize) -> &'static [u8]) -> Vec<u8> {
    assert!(!body.contains(&b'\r'), "fixtures are written with LF");
    let mut out = if bom {
        b"\xEF\xBB\xBF".to_vec()
    } else {
        Vec::new()
    };
    let mut last_end: &[u8] = b"";
    for (i, line) in body.split_inclusive(|&b| b == b'\n').enumerate() {
        let Some(line) = line.strip_suffix(b"\n") else {
            out.extend_from_slice(line);
            break;
        };
        out.extend_from_slice(line);
        let mut this_end = end(i);
        if line.is_empty() && last_end == b"\r" && this_end == b"\n" {
            this_end = b"\r";
        }
        out.extend_from_slice(this_end);
        last_end = this_end;
    }
    out
}

/// One zstd frame, as a whole-body compressor sends it.
fn zstd_frame(bytes: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(bytes, 3).unwrap()
}

/// One zstd frame flushed every 61 bytes, as a streaming server sends it: many blocks.
fn zstd_flushed(bytes: &[u8]) -> Vec<u8> {
    let mut e = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    for piece in bytes.chunks(61) {
        e.write_all(piece).unwrap();
        e.flush().unwrap();
    }
    e.finish().unwrap()
}

/// A skippable zstd frame (magic 0x184D2A5?, then the length of what follows).
fn skippable_frame(payload: &[u8]) -> Vec<u8> {
    let mut frame = 0x184D_2A53u32.to_le_bytes().to_vec();
    frame.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_le_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// Frames of 200 bytes each, a skippable frame between the first two.
fn zstd_frames(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, piece) in bytes.chunks(200).enumerate() {
        out.extend(zstd_frame(piece));
        if i == 0 {
            out.extend(skippable_frame(b"not part of the body"));
        }
    }
    out
}

/// One replay of a fixture: what it is, its coding, its bytes and what it must report.
struct Replay {
    what: String,
    encoding: Option<&'static str>,
    bytes: Vec<u8>,
    expect: Seen,
}

/// Every fixture in every way it is replayed (made once).
fn replays() -> &'static [Replay] {
    static REPLAYS: OnceLock<Vec<Replay>> = OnceLock::new();
    REPLAYS.get_or_init(|| {
        let manifest = std::fs::read_to_string(fixture_dir().join("cases.json")).unwrap();
        let manifest: Value = serde_json::from_str(&manifest).unwrap();
        let mut out = Vec::new();
        for case in manifest["cases"].as_array().unwrap() {
            let file = case["file"].as_str().unwrap();
            let body = std::fs::read(fixture_dir().join(file)).unwrap();
            let expect = expected(&case["expect"]);
            if case.get("encoding").is_some() {
                // A body compressed by another tool: replayed as it is.
                let what = format!("{file} as stored");
                let (bytes, encoding) = (body, Some("zstd"));
                out.push(Replay {
                    what,
                    encoding,
                    bytes,
                    expect,
                });
                continue;
            }
            out.extend(variants(file, &body, &expect));
        }
        out
    })
}

/// A plain fixture with each line end, with and without a BOM, plain and zstd-compressed.
fn variants(file: &str, body: &[u8], expect: &Seen) -> Vec<Replay> {
    let mut out = Vec::new();
    for ends in [Ends::Lf, Ends::CrLf, Ends::Cr, Ends::Mixed] {
        for bom in [false, true] {
            let plain = rewrite(body, ends, bom);
            let codings: [(&str, Option<&'static str>, Vec<u8>); 4] = [
                ("plain", None, plain.clone()),
                ("one zstd frame", Some("zstd"), zstd_frame(&plain)),
                ("flushed zstd", Some("zstd"), zstd_flushed(&plain)),
                ("zstd frames", Some("zstd"), zstd_frames(&plain)),
            ];
            for (how, encoding, bytes) in codings {
                out.push(Replay {
                    what: format!("{file} {ends:?} bom={bom} {how}"),
                    encoding,
                    bytes,
                    expect: expect.clone(),
                });
            }
        }
    }
    out
}

#[test]
fn every_fixture_is_replayed() {
    // 6 plain fixtures in 32 ways, and one compressed by the zstd tool.
    assert_eq!(replays().len(), 6 * 32 + 1);
}

#[test]
fn fixtures_whole_and_byte_by_byte() {
    for r in replays() {
        for sizes in [&[usize::MAX][..], &[1], &[2, 3, 5, 7]] {
            let got = feed(r.encoding, &r.bytes, sizes);
            assert_eq!(got, r.expect, "{} in pieces of {sizes:?}", r.what);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Every replay of every fixture, fed in random chunk sizes, reports exactly its usage.
    #[test]
    fn fixtures_in_random_chunks(sizes in proptest::collection::vec(1usize..=97, 1..40)) {
        for r in replays() {
            let got = feed(r.encoding, &r.bytes, &sizes);
            prop_assert_eq!(&got, &r.expect, "{}", r.what);
        }
    }

    /// A stream with any mix of line ends and any chunking reads the same as with LF.
    #[test]
    fn line_ends_and_chunks_do_not_matter(
        ends in proptest::collection::vec(0usize..3, 1..64),
        sizes in proptest::collection::vec(1usize..=13, 1..16),
        bom in any::<bool>(),
    ) {
        let body = std::fs::read(fixture_dir().join("anthropic_thinking.sse")).unwrap();
        let mixed = with_ends(&body, bom, |i| MIXED[ends[i % ends.len()]]);
        let want = feed(None, &body, &[usize::MAX]);
        prop_assert!(want.input == Some(2534) && want.complete);
        prop_assert_eq!(feed(None, &mixed, &sizes), want);
    }
}

proptest! {
    /// Any bytes, plain or taken for zstd, in any chunks: no panic, and a stream of them
    /// says nothing it cannot.
    #[test]
    fn any_bytes_never_panic(
        body in proptest::collection::vec(
            prop_oneof![
                Just(b'\r'), Just(b'\n'), Just(b':'), Just(b' '), Just(0xEF), Just(0xBB), Just(0xBF),
                any::<u8>(),
            ],
            0..512,
        ),
        sizes in proptest::collection::vec(1usize..=64, 1..8),
    ) {
        let plain = feed(None, &body, &sizes);
        prop_assert!(!plain.implausible && plain.input.is_none() && plain.output.is_none());
        let _ = feed(Some("zstd"), &body, &sizes);
        let mut framed = zstd_frame(b"data: [DONE]\n\n");
        framed.extend_from_slice(&body);
        let _ = feed(Some("zstd"), &framed, &sizes);
    }
}

/// Two `data:` lines that are JSON only when joined with LF.
const SPLIT_DATA: [&str; 2] = [
    r#"data: {"model":"m","usage":"#,
    r#"data: {"prompt_tokens":3,"completion_tokens":4}}"#,
];

fn known(model: &str, input: u64, output: u64) -> Seen {
    Seen {
        input: Some(input),
        output: Some(output),
        ..Seen::default_for(model)
    }
}

#[test]
fn a_crlf_split_across_chunks_is_one_line_end() {
    let [first, second] = SPLIT_DATA;
    for end in ["\r\n", "\r", "\n"] {
        let body = format!("{first}{end}{second}{end}{end}");
        let want = known("m", 3, 4);
        for split in 0..=body.len() {
            let (a, b) = body.as_bytes().split_at(split);
            let mut p = UsageParser::for_response(SSE, None).unwrap();
            p.feed(a);
            p.feed(b"");
            p.feed(b);
            assert_eq!(seen(p), want, "{end:?} split at {split}");
        }
        assert_eq!(feed(None, body.as_bytes(), &[1]), want, "{end:?} bytewise");
    }
}

#[test]
fn cr_alone_ends_lines() {
    let body = "event: message_start\rdata: {\"type\":\"message_start\",\"message\":{\"model\":\"c\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\r\revent: message_delta\rdata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":9}}\r\revent: message_stop\rdata: {\"type\":\"message_stop\"}\r\r";
    let want = Seen {
        complete: true,
        ..known("c", 5, 9)
    };
    assert_eq!(sse(body), want);
    assert_eq!(feed(None, body.as_bytes(), &[1]), want);
    // Were CR not a line end, the whole body would be one line of an unknown field.
    assert_eq!(sse(&body.replace('\r', "\n")), want);
}

#[test]
fn a_leading_bom_is_skipped_once() {
    let [first, second] = SPLIT_DATA;
    let body = format!("{first}\n{second}\n\n");
    let bom = "\u{feff}";
    let want = known("m", 3, 4);
    for split in 0..=3 + body.len() {
        let with_bom = format!("{bom}{body}");
        let (a, b) = with_bom.as_bytes().split_at(split);
        let mut p = UsageParser::for_response(SSE, None).unwrap();
        p.feed(a);
        p.feed(b);
        assert_eq!(seen(p), want, "split at {split}");
    }
    // A second BOM is content: the first field's name is then "\u{feff}data", unknown.
    let twice = format!("{bom}{bom}{body}");
    assert_eq!(sse(&twice), Seen::default_for(""));
    assert_eq!(feed(None, twice.as_bytes(), &[1]), Seen::default_for(""));
    // So is a BOM anywhere but first.
    assert_eq!(sse(&format!("\n{bom}{body}")), Seen::default_for(""));
    // Bytes that start like a BOM but are not one stay in the line.
    let mut almost = b"\xEF\xBB".to_vec();
    almost.extend_from_slice(body.as_bytes());
    assert_eq!(feed(None, &almost, &[1]), Seen::default_for(""));
}

impl Seen {
    /// Nothing learned, `model` aside.
    fn default_for(model: &str) -> Seen {
        Seen {
            model: model.to_owned(),
            input: None,
            output: None,
            cached: None,
            creation: None,
            reasoning: None,
            cost: None,
            implausible: false,
            complete: false,
        }
    }
}

#[test]
fn a_partial_bom_alone_is_no_event() {
    for body in [
        &b"\xEF"[..],
        b"\xEF\xBB",
        b"\xEF\xBB\xBF",
        b"\xEF\xBB\xBF\n\n",
    ] {
        assert_eq!(feed(None, body, &[1]), Seen::default_for(""), "{body:?}");
    }
}

#[test]
fn field_lines_follow_the_standard() {
    let cases: &[(&str, bool)] = &[
        // One space after the colon is dropped, and only one.
        ("data: [DONE]\n\n", true),
        ("data:[DONE]\n\n", true),
        ("data:  [DONE]\n\n", false),
        // A field name alone has an empty value: its data line comes first.
        ("data\ndata: [DONE]\n\n", false),
        // A comment changes nothing, even between data lines.
        (": [DONE]\n\n", false),
        (":\ndata: [DONE]\n: keep-alive\n\n", true),
        // Unknown fields and id/retry change nothing.
        ("id: 1\nretry: 10\nfoo: bar\ndata: [DONE]\n\n", true),
        // An `event` line without a colon names the event "" (no longer message_stop).
        ("event: message_stop\nevent\n\n", false),
        ("event\nevent: message_stop\n\n", true),
        // The name is the field's whole name: not a prefix.
        ("events: message_stop\n\n", false),
        ("event : message_stop\n\n", false),
        // An event is only dispatched on a blank line.
        ("data: [DONE]\n", false),
        ("data: [DONE]", false),
    ];
    for &(body, terminal) in cases {
        for sizes in [&[usize::MAX][..], &[1]] {
            let mut p = UsageParser::for_response(SSE, None).unwrap();
            let mut rest = body.as_bytes();
            for size in sizes.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (piece, tail) = rest.split_at((*size).min(rest.len()));
                p.feed(piece);
                rest = tail;
            }
            assert_eq!(p.saw_terminal_event(), terminal, "{body:?} {sizes:?}");
        }
    }
}

#[test]
fn data_lines_are_joined_with_lf_and_comments_skipped() {
    let [first, second] = SPLIT_DATA;
    let body = format!("{first}\n: a comment between\nid: 4\n{second}\n\n");
    assert_eq!(sse(&body), known("m", 3, 4));
    // A blank line between them makes two events, neither JSON.
    let apart = format!("{first}\n\n{second}\n\n");
    assert_eq!(sse(&apart), Seen::default_for(""));
    // The event name of one event does not carry over to the next.
    let named = "event: message_delta\ndata: {}\n\ndata: {\"usage\":{\"output_tokens\":5}}\n\n";
    assert_eq!(
        sse(named).output,
        Some(5),
        "a chat chunk: no event name left"
    );
}

#[test]
fn invalid_utf8_in_data_reads_as_replacement_characters() {
    let body =
        b"data: {\"model\":\"m\xff\",\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}\n\n";
    let got = feed(None, body, &[usize::MAX]);
    assert_eq!(got, known("m\u{fffd}", 1, 2));
}

/// An Anthropic stream: `message_start` with `usage`, then the given events, then
/// `message_stop` when `stop`.
fn anthropic(start_usage: &str, events: &[&str], stop: bool) -> String {
    let mut body = format!(
        "event: message_start\ndata: {{\"type\":\"message_start\",\"message\":{{\"model\":\"claude-x\",\"usage\":{start_usage}}}}}\n\n"
    );
    for event in events {
        body.push_str(event);
    }
    if stop {
        body.push_str("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    }
    body
}

fn delta(usage: &str) -> String {
    format!(
        "event: message_delta\ndata: {{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"end_turn\"}},\"usage\":{usage}}}\n\n"
    )
}

/// Input, output, cached input and cache creation tokens.
type Counts = (Option<u64>, Option<u64>, Option<u64>, Option<u64>);

#[test]
fn anthropic_deltas_override_what_they_carry() {
    let start = r#"{"input_tokens":10,"cache_read_input_tokens":4,"cache_creation_input_tokens":2,"output_tokens":1}"#;
    let cases: &[(&str, Counts)] = &[
        // output_tokens only: input and cache counts stay message_start's.
        (
            r#"{"output_tokens":30}"#,
            (Some(16), Some(30), Some(4), Some(2)),
        ),
        // input_tokens alone: the cache counts still add in.
        (
            r#"{"input_tokens":100,"output_tokens":30}"#,
            (Some(106), Some(30), Some(4), Some(2)),
        ),
        // Every count present overrides; null is absent.
        (
            r#"{"input_tokens":100,"cache_read_input_tokens":50,"cache_creation_input_tokens":null,"output_tokens":30}"#,
            (Some(152), Some(30), Some(50), Some(2)),
        ),
    ];
    for (usage, (input, output, cached, creation)) in cases {
        let got = sse(&anthropic(start, &[&delta(usage)], true));
        let counts = (got.input, got.output, got.cached, got.creation);
        assert_eq!(counts, (*input, *output, *cached, *creation), "{usage}");
        assert!(got.complete);
    }
}

#[test]
fn anthropic_thinking_tokens_are_reasoning_tokens() {
    let start =
        r#"{"input_tokens":10,"output_tokens":1,"output_tokens_details":{"thinking_tokens":0}}"#;
    let got = sse(&anthropic(start, &[], false));
    assert_eq!(got.reasoning, Some(0));
    let d = delta(r#"{"output_tokens":90,"output_tokens_details":{"thinking_tokens":70}}"#);
    let got = sse(&anthropic(start, &[&d], true));
    assert_eq!((got.output, got.reasoning), (Some(90), Some(70)));
    // Not reported: unknown, not zero.
    let got = sse(&anthropic(
        r#"{"input_tokens":10,"output_tokens":1}"#,
        &[],
        true,
    ));
    assert_eq!(got.reasoning, None);
}

#[test]
fn anthropic_usage_comes_only_from_message_start_and_message_delta() {
    let start = r#"{"input_tokens":10,"output_tokens":1}"#;
    let d = delta(r#"{"output_tokens":20}"#);
    let want = (Some(10), Some(20));
    let ignored = [
        // Another type carrying usage.
        "event: ping\ndata: {\"type\":\"ping\",\"usage\":{\"output_tokens\":999}}\n\n".to_owned(),
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"usage\":{\"output_tokens\":999}}\n\n".to_owned(),
        "event: future_event\ndata: {\"type\":\"future_event\",\"message\":{\"usage\":{\"input_tokens\":999}}}\n\n".to_owned(),
        "event: error\ndata: {\"type\":\"error\",\"usage\":{\"output_tokens\":999}}\n\n".to_owned(),
        // A second message_start.
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"other\",\"usage\":{\"input_tokens\":999,\"output_tokens\":999}}}\n\n".to_owned(),
    ];
    for event in &ignored {
        let got = sse(&anthropic(start, &[event, &d], true));
        assert_eq!((got.input, got.output), want, "{event}");
        assert_eq!(got.model, "claude-x", "{event}");
    }
    // After message_stop, nothing counts, a lie included.
    let after = [
        d.clone(),
        delta(r#"{"output_tokens":999}"#),
        delta(r#"{"output_tokens":-1}"#),
    ];
    let mut body = anthropic(start, &[&d], true);
    body.extend(after.iter().map(String::as_str));
    let got = sse(&body);
    assert_eq!(
        (got.input, got.output, got.implausible),
        (Some(10), Some(20), false)
    );
    // A message_delta before message_start does not count (the SDK refuses it).
    let early = format!(
        "{}{}",
        delta(r#"{"output_tokens":999}"#),
        anthropic(start, &[], false)
    );
    assert_eq!(sse(&early).output, Some(1));
}

#[test]
fn anthropic_data_without_type_takes_its_event_name() {
    let body = "event: message_start\ndata: {\"message\":{\"model\":\"c\",\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\nevent: message_delta\ndata: {\"usage\":{\"output_tokens\":8}}\n\nevent: message_stop\ndata: {}\n\n";
    let want = Seen {
        complete: true,
        ..known("c", 3, 8)
    };
    assert_eq!(sse(body), want);
}

fn chunk(usage: &str) -> String {
    format!(
        "data: {{\"object\":\"chat.completion.chunk\",\"model\":\"gpt-x\",\"choices\":[],\"usage\":{usage}}}\n\n"
    )
}

#[test]
fn openai_chat_usage_is_the_last_usage_chunk_whole() {
    let first = chunk(
        r#"{"prompt_tokens":5,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":4}}"#,
    );
    let last = chunk(r#"{"prompt_tokens":5,"completion_tokens":9}"#);
    let got = sse(&format!("{first}{}{last}data: [DONE]\n\n", chunk("null")));
    assert_eq!(
        got,
        Seen {
            complete: true,
            ..known("gpt-x", 5, 9)
        },
        "the last object replaces the first whole: no cached count left"
    );
    // Without include_usage there is none: unknown, not zero.
    let got = sse(&format!("{}data: [DONE]\n\n", chunk("null")));
    assert_eq!(
        got,
        Seen {
            complete: true,
            ..Seen::default_for("gpt-x")
        }
    );
    // Nothing after [DONE] counts; data starting with [DONE] ends the stream too.
    let after = format!(
        "{last}data: [DONE] \n\n{}",
        chunk(r#"{"prompt_tokens":1,"completion_tokens":1}"#)
    );
    assert_eq!(sse(&after).output, Some(9));
}

#[test]
fn openai_chat_cost_comes_with_its_usage_object() {
    let got = sse(&format!(
        "{}{}",
        chunk(r#"{"prompt_tokens":1,"completion_tokens":1,"cost":0.5}"#),
        chunk(r#"{"prompt_tokens":2,"completion_tokens":2}"#)
    ));
    assert_eq!((got.input, got.cost), (Some(2), None));
    let got = sse(&chunk(
        r#"{"prompt_tokens":2,"completion_tokens":2,"cost":0.25}"#,
    ));
    assert_eq!(got.cost, Some(0.25));
}

fn responses_event(kind: &str, usage: &str) -> String {
    format!(
        "event: {kind}\ndata: {{\"type\":\"{kind}\",\"response\":{{\"model\":\"gpt-r\",\"usage\":{usage}}}}}\n\n"
    )
}

#[test]
fn openai_responses_usage_comes_from_the_final_event() {
    let usage =
        r#"{"input_tokens":7,"output_tokens":11,"output_tokens_details":{"reasoning_tokens":3}}"#;
    for last in [
        "response.completed",
        "response.incomplete",
        "response.failed",
    ] {
        let body = format!(
            "{}{}{}",
            responses_event("response.created", "null"),
            responses_event(
                "response.in_progress",
                r#"{"input_tokens":999,"output_tokens":999}"#
            ),
            responses_event(last, usage),
        );
        let got = sse(&body);
        assert_eq!(
            (got.input, got.output, got.reasoning, got.complete),
            (Some(7), Some(11), Some(3), true),
            "{last}"
        );
        assert_eq!(got.model, "gpt-r");
    }
    // Cut before the final event: no usage (an in-progress one does not count), the model
    // known.
    let body = format!(
        "{}{}",
        responses_event("response.created", "null"),
        responses_event(
            "response.in_progress",
            r#"{"input_tokens":9,"output_tokens":9}"#
        ),
    );
    assert_eq!(sse(&body), Seen::default_for("gpt-r"));
}

#[test]
fn a_lie_in_an_event_that_counts_makes_usage_unknown_for_good() {
    let start = r#"{"input_tokens":10,"output_tokens":1}"#;
    let lying = delta(r#"{"output_tokens":1.5}"#);
    let honest = delta(r#"{"output_tokens":20}"#);
    let got = sse(&anthropic(start, &[&lying, &honest], true));
    assert!(got.implausible && got.complete);
    assert_eq!((got.input, got.output), (None, None));
    // A lie in an event that is ignored changes nothing.
    let ignored = "event: ping\ndata: {\"type\":\"ping\",\"usage\":{\"output_tokens\":-1}}\n\n";
    let got = sse(&anthropic(start, &[ignored, &honest], true));
    assert_eq!((got.output, got.implausible), (Some(20), false));
    // In a chat stream, a later honest chunk does not restore it.
    let got = sse(&format!(
        "{}{}",
        chunk(r#"{"prompt_tokens":"5","completion_tokens":1}"#),
        chunk(r#"{"prompt_tokens":5,"completion_tokens":1}"#)
    ));
    assert!(got.implausible);
    assert_eq!(got.input, None);
}
