//! Tests of the usage parser, its body parsers and its decoders (the SDK rules and the SSE
//! standard are in `sdk_tests.rs`).

use std::io::Write;

use super::*;

const CHAT_JSON: &str =
    r#"{"id":"c1","model":"gpt-4o-mini","usage":{"prompt_tokens":12,"completion_tokens":5}}"#;
const ANTHROPIC_SSE: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-x\",\"usage\":{\"input_tokens\":25,\"cache_read_input_tokens\":5,\"output_tokens\":1}}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":15}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
const SSE: &str = "text/event-stream; charset=utf-8";
const JSON: &str = "application/json";

fn triple(u: &Usage) -> (&str, Option<u64>, Option<u64>) {
    (u.model.as_str(), u.input_tokens, u.output_tokens)
}

fn sse(chunks: &[&str]) -> Usage {
    let mut p = UsageParser::for_response(SSE, None).unwrap();
    for c in chunks {
        p.feed(c.as_bytes());
    }
    p.finish()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn raw_deflate(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    ::zstd::stream::encode_all(bytes, 3).unwrap()
}

/// A zstd stream flushed after every SSE event, as a streaming server sends one: each event
/// ends a block, all in one frame.
fn zstd_per_event(body: &str) -> Vec<u8> {
    let mut e = ::zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    for event in body.split_inclusive("\n\n") {
        e.write_all(event.as_bytes()).unwrap();
        e.flush().unwrap();
    }
    e.finish().unwrap()
}

/// A zstd frame by hand: no checksum, no content size, a window of 2^`window_log` bytes, and
/// `content` in one raw block.
fn zstd_raw_frame(window_log: u8, content: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, (window_log - 10) << 3];
    let header = (u32::try_from(content.len()).unwrap() << 3) | 1;
    frame.extend_from_slice(&header.to_le_bytes()[..3]);
    frame.extend_from_slice(content);
    frame
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = ::brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(bytes).unwrap();
    }
    out
}

/// Feeds `body` in pieces of `size` bytes to a fresh parser.
fn parse(content_type: &str, encoding: Option<&str>, body: &[u8], size: usize) -> UsageParser {
    let mut p = UsageParser::for_response(content_type, encoding).unwrap();
    for piece in body.chunks(size) {
        p.feed(piece);
    }
    p
}

#[test]
fn openai_chat_json() {
    let mut p = UsageParser::for_response(JSON, None).unwrap();
    p.feed(br#"{"model":"gpt-4o-mini","usage":{"prompt_tokens":12,"#);
    assert!(!p.saw_terminal_event());
    p.feed(br#""completion_tokens":5}}"#);
    assert!(p.saw_terminal_event());
    assert_eq!(triple(&p.finish()), ("gpt-4o-mini", Some(12), Some(5)));
}

#[test]
fn anthropic_stream_split_anywhere() {
    for split in 0..ANTHROPIC_SSE.len() {
        let u = sse(&[&ANTHROPIC_SSE[..split], &ANTHROPIC_SSE[split..]]);
        assert_eq!(
            triple(&u),
            ("claude-x", Some(30), Some(15)),
            "split {split}"
        );
    }
}

#[test]
fn openai_responses_stream() {
    let u = sse(&[
        "data: {\"type\":\"response.completed\",\"response\":{\"model\":\"gpt-5\",\"usage\":{\"input_tokens\":3,\"output_tokens\":4}}}\r\n\r\ndata: [DONE]\n\n",
    ]);
    assert_eq!(triple(&u), ("gpt-5", Some(3), Some(4)));
}

#[test]
fn which_responses_get_a_parser() {
    let cases = [
        (JSON, None, true),
        (JSON, Some("identity"), true),
        (SSE, Some(" GZip "), true),
        (JSON, Some("x-gzip"), true),
        (JSON, Some("deflate"), true),
        ("application/problem+json", Some("br"), true),
        (JSON, Some("gzip, identity"), true),
        (JSON, Some("zstd"), true),
        (SSE, Some(" ZSTD"), true),
        (JSON, Some("gzip, zstd"), false),
        (JSON, Some("compress"), false),
        (JSON, Some("gzip, br"), false),
        (JSON, Some("br, br"), false),
        ("text/html", Some("gzip"), false),
        ("text/html", None, false),
    ];
    for (ct, encoding, expected) in cases {
        let got = UsageParser::for_response(ct, encoding).is_some();
        assert_eq!(got, expected, "{ct} / {encoding:?}");
    }
}

#[test]
fn compressed_json_bodies_give_usage() {
    let plain = CHAT_JSON.as_bytes();
    let bodies = [
        ("gzip", gzip(plain)),
        ("x-gzip", gzip(plain)),
        ("deflate", zlib(plain)),
        ("deflate", raw_deflate(plain)),
        ("br", brotli(plain)),
        ("zstd", zstd(plain)),
    ];
    for (encoding, body) in &bodies {
        for size in [1, 2, 3, 7, 4096] {
            let p = parse(JSON, Some(encoding), body, size);
            assert!(p.saw_terminal_event(), "{encoding} in {size}-byte pieces");
            let u = p.finish();
            assert_eq!(triple(&u), ("gpt-4o-mini", Some(12), Some(5)), "{encoding}");
        }
    }
}

#[test]
fn two_gzip_members_decode_as_one_body() {
    let (a, b) = CHAT_JSON.split_at(20);
    let mut body = gzip(a.as_bytes());
    body.extend(gzip(b.as_bytes()));
    let u = parse(JSON, Some("gzip"), &body, 5).finish();
    assert_eq!(triple(&u), ("gpt-4o-mini", Some(12), Some(5)));
}

#[test]
fn gzip_sse_split_at_every_byte() {
    let body = gzip(ANTHROPIC_SSE.as_bytes());
    for split in 0..=body.len() {
        let mut p = UsageParser::for_response(SSE, Some("gzip")).unwrap();
        p.feed(&body[..split]);
        p.feed(&body[split..]);
        assert!(p.saw_terminal_event(), "split {split}");
        assert_eq!(
            triple(&p.finish()),
            ("claude-x", Some(30), Some(15)),
            "split {split}"
        );
    }
    let p = parse(SSE, Some("gzip"), &body, 1);
    assert!(p.saw_terminal_event(), "byte by byte");
    assert_eq!(triple(&p.finish()), ("claude-x", Some(30), Some(15)));
}

#[test]
fn terminal_event_table() {
    let cases: &[(&str, &str, bool)] = &[
        (SSE, "data: {\"choices\":[]}\n\ndata: [DONE]\n\n", true),
        (SSE, "data: [DONE]\r\n\r\n", true),
        (SSE, "data: {\"choices\":[]}\n\n", false),
        (SSE, "data: [DONE]\n", false),
        (SSE, "data: \"[DONE]\"\n\n", false),
        (SSE, ": [DONE]\n\n", false),
        (
            SSE,
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
            true,
        ),
        (SSE, "event:message_stop\n\n", true),
        (SSE, "data: {\"type\":\"message_stop\"}\n\n", true),
        (
            SSE,
            "event: message_delta\ndata: {\"type\":\"message_delta\"}\n\n",
            false,
        ),
        (
            SSE,
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n",
            false,
        ),
        (
            SSE,
            "data: {\"type\":\"response.completed\",\"response\":{}}\n\n",
            true,
        ),
        (SSE, "data: {\"type\":\"response.failed\"}\n\n", true),
        (SSE, "data: {\"type\":\"response.incomplete\"}\n\n", true),
        (
            SSE,
            "data: {\"type\":\"response.output_text.delta\"}\n\n",
            false,
        ),
        (SSE, "data: {\"type\":\"response.completed\"\n\n", false),
        (JSON, CHAT_JSON, true),
        (JSON, "{\"a\":[1,{\"b\":2}]}\n", true),
        (JSON, "{\"a\":\"}\\\"{\"}", true),
        (JSON, "{\"a\":\"}\\\"{\"", false),
        (JSON, "{\"a\":1", false),
        (JSON, "{\"a\":1} x", false),
        (JSON, "{\"a\":1}{}", false),
        (JSON, "{\"a\":}", false),
        (JSON, "}", false),
        (JSON, "", false),
    ];
    for &(ct, body, expected) in cases {
        for split in 0..=body.len() {
            let mut p = UsageParser::for_response(ct, None).unwrap();
            p.feed(&body.as_bytes()[..split]);
            p.feed(&body.as_bytes()[split..]);
            assert_eq!(p.saw_terminal_event(), expected, "{body:?} split {split}");
        }
        let p = parse(ct, None, body.as_bytes(), 1);
        assert_eq!(p.saw_terminal_event(), expected, "{body:?} byte by byte");
        let p = parse(ct, Some("gzip"), &gzip(body.as_bytes()), 1);
        assert_eq!(
            p.saw_terminal_event(),
            expected,
            "{body:?} gzip byte by byte"
        );
    }
}

#[test]
fn terminal_once_the_last_event_is_complete() {
    let body = ANTHROPIC_SSE.as_bytes();
    let mut p = UsageParser::for_response(SSE, None).unwrap();
    for (i, byte) in body.iter().enumerate() {
        assert!(!p.saw_terminal_event(), "before byte {i}");
        p.feed(std::slice::from_ref(byte));
    }
    assert!(p.saw_terminal_event());
}

#[test]
fn trailing_garbage_spoils_a_json_body() {
    let body = format!("{CHAT_JSON}\n  trailing");
    let u = parse(JSON, None, body.as_bytes(), 3).finish();
    assert_eq!(u, Usage::default());
    let with_space = format!("{CHAT_JSON}\r\n ");
    let u = parse(JSON, None, with_space.as_bytes(), 3).finish();
    assert_eq!(triple(&u), ("gpt-4o-mini", Some(12), Some(5)));
}

#[test]
fn oversized_event_is_skipped_whole() {
    let big = "A".repeat(MAX_SSE_EVENT + 10);
    let body =
        format!("data: {big}\ndata: {{\"model\":\"wrong\"}}\n\ndata: {{\"model\":\"right\"}}\n\n");
    let u = parse(SSE, None, body.as_bytes(), 64 << 10).finish();
    assert_eq!(u.model, "right");
}

#[test]
fn corrupt_streams_yield_no_usage() {
    let json = CHAT_JSON.as_bytes();
    let gz = gzip(json);
    let mut garbage_after_header = gz[..10].to_vec();
    garbage_after_header.extend_from_slice(b"\xff\xfe this is not deflate data at all");
    let cases = [
        ("gzip", garbage_after_header),
        ("gzip", gz[..gz.len() / 2].to_vec()),
        ("gzip", json.to_vec()),
        ("deflate", b"\x78\x9c garbage that is not deflate".to_vec()),
        ("br", b"definitely not brotli data, no".to_vec()),
        ("br", brotli(json)[..8].to_vec()),
        ("zstd", b"definitely not zstd data either".to_vec()),
        ("zstd", zstd(json)[..6].to_vec()),
        ("zstd", zstd(json)[..zstd(json).len() - 1].to_vec()),
    ];
    for (encoding, body) in &cases {
        let p = parse(JSON, Some(encoding), body, 4);
        assert!(!p.saw_terminal_event(), "{encoding} {body:?}");
        assert_eq!(p.finish(), Usage::default(), "{encoding} {body:?}");
    }
}

#[test]
fn flipped_bytes_never_panic() {
    let plain = ANTHROPIC_SSE.as_bytes();
    let bodies = [
        ("gzip", gzip(plain)),
        ("deflate", zlib(plain)),
        ("deflate", raw_deflate(plain)),
        ("br", brotli(plain)),
        ("zstd", zstd(plain)),
        ("zstd", zstd_per_event(ANTHROPIC_SSE)),
    ];
    for (encoding, body) in &bodies {
        for i in 0..body.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut corrupt = body.clone();
                corrupt[i] ^= flip;
                let p = parse(SSE, Some(encoding), &corrupt, 5);
                let _ = p.saw_terminal_event();
                let _ = p.finish();
            }
        }
    }
}

#[test]
fn zstd_sse_split_at_every_byte() {
    for body in [
        zstd(ANTHROPIC_SSE.as_bytes()),
        zstd_per_event(ANTHROPIC_SSE),
    ] {
        for split in 0..=body.len() {
            let mut p = UsageParser::for_response(SSE, Some("zstd")).unwrap();
            p.feed(&body[..split]);
            p.feed(&body[split..]);
            assert!(p.saw_terminal_event(), "split {split}");
            assert_eq!(
                triple(&p.finish()),
                ("claude-x", Some(30), Some(15)),
                "split {split}"
            );
        }
    }
}

#[test]
fn a_flushed_zstd_stream_reaches_the_parser_event_by_event() {
    // Each event is decoded as soon as its block arrives, before the frame ends: the
    // terminal event is seen with the frame's last block still to come.
    let body = zstd_per_event(ANTHROPIC_SSE);
    let stop = ANTHROPIC_SSE.find("event: message_stop").unwrap();
    let upto_stop = zstd_per_event(&ANTHROPIC_SSE[..stop]);
    // The two frames agree up to the last flush before message_stop, their last (empty)
    // block aside.
    let flushed = upto_stop.len() - 3;
    assert_eq!(body[..flushed], upto_stop[..flushed]);
    let mut p = UsageParser::for_response(SSE, Some("zstd")).unwrap();
    p.feed(&body[..flushed]);
    assert!(!p.saw_terminal_event());
    assert!(body.len() > flushed + 3);
    p.feed(&body[flushed..body.len() - 3]);
    assert!(p.saw_terminal_event(), "before the frame's last block");
    assert_eq!(triple(&p.finish()), ("claude-x", Some(30), Some(15)));
}

#[test]
fn zstd_keeps_what_was_decoded_before_a_cut_or_corruption() {
    let stop = ANTHROPIC_SSE.find("event: message_stop").unwrap();
    let whole = zstd_per_event(ANTHROPIC_SSE);
    let flushed = zstd_per_event(&ANTHROPIC_SSE[..stop]).len() - 3;
    // Cut after the message_delta's block: its events count, the stream is not complete.
    let cut = parse(SSE, Some("zstd"), &whole[..flushed], 5);
    assert!(!cut.saw_terminal_event());
    assert_eq!(triple(&cut.finish()), ("claude-x", Some(30), Some(15)));
    // Garbage there instead: decoding stops at it, what came before still counts.
    let mut corrupt = whole[..flushed].to_vec();
    corrupt.extend_from_slice(&[0xff; 64]);
    corrupt.extend_from_slice(&whole[flushed..]);
    let p = parse(SSE, Some("zstd"), &corrupt, 7);
    assert!(decoded_bytes(&p).1, "stopped");
    assert!(!p.saw_terminal_event());
    assert_eq!(triple(&p.finish()), ("claude-x", Some(30), Some(15)));
    // Garbage after a whole frame: the frame counts.
    let mut trailing = whole.clone();
    trailing.extend_from_slice(b"garbage after the frame");
    let p = parse(SSE, Some("zstd"), &trailing, 3);
    assert!(p.saw_terminal_event());
    assert_eq!(triple(&p.finish()), ("claude-x", Some(30), Some(15)));
}

#[test]
fn a_zstd_window_over_8_mib_is_refused() {
    let body = CHAT_JSON.as_bytes();
    let p = parse(JSON, Some("zstd"), &zstd_raw_frame(23, body), 4);
    assert_eq!(
        triple(&p.finish()),
        ("gpt-4o-mini", Some(12), Some(5)),
        "8 MiB"
    );
    let p = parse(JSON, Some("zstd"), &zstd_raw_frame(24, body), 4);
    assert!(decoded_bytes(&p).1, "16 MiB: stopped");
    assert_eq!(p.finish(), Usage::default(), "16 MiB");
}

/// A gzip stream of `mib` MiB of zeros, about a thousandth of that in size.
fn gzip_bomb(mib: usize) -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for _ in 0..mib {
        e.write_all(&zeros).unwrap();
    }
    e.finish().unwrap()
}

fn decoded_bytes(p: &UsageParser) -> (u64, bool) {
    match &p.stage {
        Stage::Decoding(d) => {
            let (decoded, stopped, _) = d.progress();
            (decoded, stopped)
        }
        Stage::Plain(_) => (0, false),
    }
}

#[test]
fn decompression_bomb_stops_early() {
    let bomb = gzip_bomb(200);
    assert!(bomb.len() < 1 << 20, "the bomb is small: {}", bomb.len());
    // A JSON body stops being decoded once it outgrew what the parser keeps.
    let p = parse(JSON, Some("gzip"), &bomb, 16 << 10);
    let (decoded, stopped) = decoded_bytes(&p);
    assert!(stopped);
    assert!(decoded <= MAX_JSON_BODY as u64 + (1 << 20), "{decoded}");
    assert_eq!(p.finish(), Usage::default());
    // An SSE body is decoded up to the cap, and not a byte further.
    let p = parse(SSE, Some("gzip"), &bomb, 16 << 10);
    let (decoded, stopped) = decoded_bytes(&p);
    assert!(stopped);
    assert!(decoded <= MAX_DECODED_BODY, "{decoded}");
    assert!(decoded > MAX_DECODED_BODY - (1 << 20), "{decoded}");
    assert_eq!(p.finish(), Usage::default());
}

#[test]
fn zstd_bomb_stops_at_the_cap() {
    let mut e = ::zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..200 {
        e.write_all(&zeros).unwrap();
    }
    let bomb = e.finish().unwrap();
    assert!(bomb.len() < 1 << 20, "the bomb is small: {}", bomb.len());
    let p = parse(SSE, Some("zstd"), &bomb, 16 << 10);
    let (decoded, stopped) = decoded_bytes(&p);
    assert!(stopped);
    assert!(decoded <= MAX_DECODED_BODY, "{decoded}");
    assert!(decoded > MAX_DECODED_BODY - (1 << 20), "{decoded}");
    assert_eq!(p.finish(), Usage::default());
}

#[test]
fn endless_gzip_header_is_cut_off() {
    // FLG.FNAME set, then a file name that never ends.
    let mut body = vec![0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 3];
    body.resize(1 << 20, b'a');
    let p = parse(JSON, Some("gzip"), &body, 4096);
    let (_, stopped) = decoded_bytes(&p);
    assert!(stopped);
    match &p.stage {
        Stage::Decoding(d) => assert!(d.progress().2 <= MAX_GZIP_HEADER + 4096),
        Stage::Plain(_) => panic!("not decoding"),
    }
}

/// `testdata/usage/cases.json`: every provider fixture, whole and split at every byte, plain
/// and gzip-compressed, reports exactly the expected counts (absent ones absent).
#[test]
fn provider_fixtures_report_every_count() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/usage");
    let cases: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    let prices = crate::prices::PriceTable::builtin();
    for case in cases["cases"].as_array().unwrap() {
        let file = case["file"].as_str().unwrap();
        let body = std::fs::read(dir.join(file)).unwrap();
        let ct = case["content_type"].as_str().unwrap();
        let expect = &case["expect"];
        let count = |k: &str| expect.get(k).and_then(Value::as_u64);
        let codings = [
            (None, body.clone()),
            (Some("gzip"), gzip(&body)),
            (Some("zstd"), zstd(&body)),
        ];
        for (encoding, bytes) in codings {
            for split in [bytes.len(), 1, 7] {
                let p = parse(ct, encoding, &bytes, split);
                assert_eq!(
                    p.saw_terminal_event(),
                    expect["complete"].as_bool().unwrap(),
                    "{file} {encoding:?} complete"
                );
                let u = p.finish();
                let what = format!("{file} {encoding:?} split {split}");
                assert_eq!(u.model, expect["model"].as_str().unwrap(), "{what}");
                assert_eq!(u.input_tokens, count("input_tokens"), "{what}");
                assert_eq!(u.output_tokens, count("output_tokens"), "{what}");
                assert_eq!(
                    u.cached_input_tokens,
                    count("cached_input_tokens"),
                    "{what}"
                );
                assert_eq!(
                    u.cache_creation_input_tokens,
                    count("cache_creation_input_tokens"),
                    "{what}"
                );
                assert_eq!(u.reasoning_tokens, count("reasoning_tokens"), "{what}");
                assert_eq!(
                    u.provider_cost_usd,
                    expect.get("provider_cost_usd").and_then(Value::as_f64),
                    "{what}"
                );
                let cost = u.provider_cost_usd.or_else(|| {
                    let tokens = crate::prices::Tokens {
                        input: u.input_tokens.unwrap_or(0),
                        cached_read: u.cached_input_tokens.unwrap_or(0),
                        cache_creation: u.cache_creation_input_tokens.unwrap_or(0),
                        cache_creation_1h: 0,
                        output: u.output_tokens.unwrap_or(0),
                    };
                    prices.cost(&u.model, &tokens).map(|c| c.usd)
                });
                let want = expect["cost_usd"].as_f64().unwrap();
                assert!(
                    (cost.unwrap() - want).abs() < 1e-12,
                    "{what}: {cost:?} != {want}"
                );
            }
        }
    }
}

/// Values no count can honestly have.
fn lies() -> Vec<serde_json::Value> {
    use serde_json::json;
    vec![
        json!(-3),
        json!(-0.5),
        json!(1.5),
        json!(1e308),
        json!(u64::MAX),
        json!(MAX_PLAUSIBLE_TOKENS + 1),
        json!("12"),
        json!(true),
        json!({"n": 1}),
        json!([1]),
    ]
}

/// A chat usage block of 10 in / 5 out with `value` at `path` (`outer.inner` nests).
fn usage_with(path: &str, value: serde_json::Value) -> serde_json::Value {
    let mut usage = serde_json::json!({"prompt_tokens": 10, "completion_tokens": 5});
    let (outer, inner) = path.split_once('.').unwrap_or((path, ""));
    usage[outer] = if inner.is_empty() {
        value
    } else {
        serde_json::json!({ inner: value })
    };
    serde_json::json!({"model": "gpt-4o-mini", "usage": usage})
}

#[test]
fn a_lying_count_in_any_field_makes_usage_unknown() {
    for path in COUNT_FIELDS {
        for lie in lies() {
            let mut u = Usage::default();
            u.absorb(&usage_with(path, lie.clone()));
            assert!(!u.is_known(), "{path} = {lie}");
            assert!(u.implausible, "{path} = {lie}");
            assert_eq!(triple(&u), ("gpt-4o-mini", None, None), "{path} = {lie}");
            // Nothing later restores it.
            u.absorb(&usage_with("prompt_tokens", serde_json::json!(7)));
            assert!(!u.is_known() && u.input_tokens.is_none(), "{path} = {lie}");
        }
    }
}

#[test]
fn plausible_counts_are_taken_up_to_the_bound() {
    let mut u = Usage::default();
    u.absorb(&usage_with(
        "prompt_tokens_details.cached_tokens",
        serde_json::json!(null),
    ));
    assert_eq!(triple(&u), ("gpt-4o-mini", Some(10), Some(5)));
    assert_eq!(u.cached_input_tokens, None, "null is absent");
    u.absorb(&usage_with("completion_tokens", serde_json::json!(12.0)));
    assert_eq!(u.output_tokens, Some(12), "an integral float");
    u.absorb(&usage_with(
        "completion_tokens",
        serde_json::json!(MAX_PLAUSIBLE_TOKENS),
    ));
    assert_eq!(u.output_tokens, Some(MAX_PLAUSIBLE_TOKENS));
    assert!(u.is_known() && !u.implausible);
}

#[test]
fn a_lying_count_in_an_sse_stream_makes_usage_unknown_for_good() {
    let lying = "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":18446744073709551615}}\n\n";
    let honest_after = "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":15}}\n\n";
    let (start, rest) = ANTHROPIC_SSE.split_at(ANTHROPIC_SSE.find("event: message_delta").unwrap());
    let u = sse(&[start, lying, honest_after, rest]);
    assert!(!u.is_known() && u.implausible);
    assert_eq!(triple(&u), ("claude-x", None, None));
    for lie in ["-1", "1e308", "\"15\"", "1000000001"] {
        let event = format!(
            "data: {{\"type\":\"message_delta\",\"usage\":{{\"output_tokens\":{lie}}}}}\n\n"
        );
        let u = sse(&[start, &event]);
        assert!(!u.is_known(), "{lie}");
    }
}

#[test]
fn a_lying_count_in_a_json_body_makes_usage_unknown() {
    let body = br#"{"model":"gpt-4o-mini","usage":{"prompt_tokens":18446744073709551615,"completion_tokens":5,"cost":0.01}}"#;
    for size in [1, 7, body.len()] {
        let u = parse(JSON, None, body, size).finish();
        assert!(!u.is_known() && u.implausible, "size {size}");
        assert_eq!(
            u.provider_cost_usd, None,
            "a lying block's cost is dropped too"
        );
        assert_eq!(triple(&u), ("gpt-4o-mini", None, None));
    }
    let gz = gzip(br#"{"model":"m","usage":{"input_tokens":-1,"output_tokens":2}}"#);
    let u = parse(JSON, Some("gzip"), &gz, 5).finish();
    assert!(!u.is_known());
}

#[test]
fn a_provider_cost_is_believed_only_when_finite_and_plausible() {
    for (cost, believed) in [
        (serde_json::json!(0.25), Some(0.25)),
        (serde_json::json!(0), Some(0.0)),
        (
            serde_json::json!(MAX_PLAUSIBLE_COST_USD),
            Some(MAX_PLAUSIBLE_COST_USD),
        ),
        (serde_json::json!(-0.01), None),
        (serde_json::json!(1e308), None),
        (serde_json::json!(MAX_PLAUSIBLE_COST_USD * 2.0), None),
        (serde_json::json!("0.1"), None),
        (serde_json::json!(null), None),
    ] {
        let mut u = Usage::default();
        u.absorb(&usage_with("cost", cost.clone()));
        assert_eq!(u.provider_cost_usd, believed, "cost {cost}");
        assert_eq!(
            triple(&u),
            ("gpt-4o-mini", Some(10), Some(5)),
            "counts stay"
        );
    }
}

#[test]
fn the_bound_keeps_a_computed_cost_within_what_counts_could_be() {
    // The largest counts a usage block can carry, priced at the dearest built-in entry, is
    // the most any response's counts can cost: finite, and far below f64::MAX.
    let mut u = Usage::default();
    let most = MAX_PLAUSIBLE_TOKENS;
    u.absorb(&serde_json::json!({"usage": {
        "input_tokens": most, "cache_read_input_tokens": most,
        "cache_creation_input_tokens": most, "output_tokens": most
    }}));
    assert!(u.is_known());
    assert_eq!(u.input_tokens, Some(3 * most));
    let tokens = crate::prices::Tokens {
        input: u.input_tokens.unwrap_or(0),
        cached_read: u.cached_input_tokens.unwrap_or(0),
        cache_creation: u.cache_creation_input_tokens.unwrap_or(0),
        cache_creation_1h: 0,
        output: u.output_tokens.unwrap_or(0),
    };
    let cost = crate::prices::PriceTable::builtin().highest_cost(&tokens);
    assert!(cost.is_finite() && cost > 0.0 && cost < 1e7, "{cost}");
}

#[test]
fn service_tiers_and_one_hour_cache_writes_are_read() {
    use crate::prices::ServiceTier;
    // Anthropic JSON: the tier in usage, the writes split by lifetime.
    let body = br#"{"model":"claude-sonnet-4-5","usage":{"input_tokens":10,"output_tokens":5,
        "cache_read_input_tokens":0,"cache_creation_input_tokens":300,
        "cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":200},
        "service_tier":"batch"}}"#;
    let usage = parse(JSON, None, body, body.len()).finish();
    assert_eq!(usage.service_tier, Some(ServiceTier::Batch));
    assert_eq!(usage.cache_creation_input_tokens, Some(300));
    assert_eq!(usage.cache_creation_1h_input_tokens, Some(200));
    assert_eq!(usage.input_tokens, Some(310));
    // A breakdown larger than the total counts whole: no write is priced as plain input.
    let body = br#"{"usage":{"input_tokens":10,"output_tokens":5,"cache_creation_input_tokens":50,
        "cache_creation":{"ephemeral_5m_input_tokens":100,"ephemeral_1h_input_tokens":200}}}"#;
    let usage = parse(JSON, None, body, 7).finish();
    assert_eq!(usage.cache_creation_input_tokens, Some(300));
    assert_eq!(usage.input_tokens, Some(310));
    assert_eq!(usage.service_tier, None);
    // A lying breakdown is a lying usage block.
    let body = br#"{"usage":{"input_tokens":10,"output_tokens":5,
        "cache_creation":{"ephemeral_1h_input_tokens":-1}}}"#;
    assert!(parse(JSON, None, body, 9).finish().implausible);
    // OpenAI: chat chunks and the Responses API's response name the tier.
    let chat = sse(&[
        "data: {\"model\":\"gpt-5\",\"service_tier\":\"default\",\"choices\":[]}\n\n",
        "data: {\"model\":\"gpt-5\",\"service_tier\":\"flex\",\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\n",
        "data: [DONE]\n\n",
    ]);
    assert_eq!(chat.service_tier, Some(ServiceTier::Flex));
    let responses = sse(&[
        "data: {\"type\":\"response.completed\",\"response\":{\"model\":\"o3\",\"service_tier\":\"priority\",\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n",
    ]);
    assert_eq!(responses.service_tier, Some(ServiceTier::Priority));
    // Anthropic's stream: the tier and the one-hour writes of message_start.
    let anthropic = sse(&[
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-haiku-4-5\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1,\"cache_creation_input_tokens\":40,\"cache_creation\":{\"ephemeral_5m_input_tokens\":0,\"ephemeral_1h_input_tokens\":40},\"service_tier\":\"standard\"}}}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":9}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    ]);
    assert_eq!(anthropic.service_tier, Some(ServiceTier::Standard));
    assert_eq!(anthropic.cache_creation_1h_input_tokens, Some(40));
    assert_eq!(triple(&anthropic), ("claude-haiku-4-5", Some(45), Some(9)));
}

#[test]
fn where_the_request_ran_is_read_from_the_usage() {
    let body = br#"{"model":"claude-sonnet-4-6","usage":{"input_tokens":5,"output_tokens":2,"inference_geo":"us"}}"#;
    let usage = parse(JSON, None, body, 9).finish();
    assert_eq!(usage.inference_geo.as_deref(), Some("us"));
    let stream = concat!(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-sonnet-4-6\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1,\"inference_geo\":\"us\"}}}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":7}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    );
    let usage = sse(&[stream]);
    assert_eq!(usage.inference_geo.as_deref(), Some("us"));
    assert_eq!(usage.output_tokens, Some(7));
}
