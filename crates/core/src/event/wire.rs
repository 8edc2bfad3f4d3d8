//! The hot path of the writer: an event to one JSON line, without serde.
//!
//! The derived `Serialize` impls define the format (field names, order, omissions); this
//! module writes the same bytes directly for the envelope and every typed payload, which is
//! what the writer does per event, with Go's number text ([`write_float`]) for the floats of
//! `budget_action`. Untyped data goes through serde_json with Go's number text
//! ([`GoFormatter`]) and Go's escapes. A property test checks the two paths agree byte for
//! byte on generated events (serde_json with the same number text and escapes).
// The writer's hot path indexes fixed tables by a byte (`ESCAPE[b]`, `HEX[nibble]`) and the
// string it escapes by positions its loop has just bounded; no index comes from a length in
// the input, and `.get()` here measurably slows every event written.
#![allow(clippy::indexing_slicing)]

use super::go_json::{GoFormatter, NonFiniteFloat, escape_like_go, write_float};
use super::timestamp::MAX_LEN;
use super::{
    BudgetAction, Event, EventData, GateDecision, HttpRequest, HttpResponse, KeyInjection,
    LlmRequest, LlmResponse, RouteDecision,
};

/// Bytes a JSON string needs escaped in: 1 for `"`, `\` and control characters (JSON), 2 for
/// `<`, `>`, `&` (Go's HTML-safe escaping), 3 for 0xE2 (maybe U+2028/U+2029, Go again).
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = 1;
        i += 1;
    }
    table[b'"' as usize] = 1;
    table[b'\\' as usize] = 1;
    table[b'<' as usize] = 2;
    table[b'>' as usize] = 2;
    table[b'&' as usize] = 2;
    table[0xE2] = 3;
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes `s` as a JSON string with serde_json's escapes plus Go's.
fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let class = ESCAPE[b as usize];
        if class == 0 {
            i += 1;
            continue;
        }
        let mut width = 1;
        let mut unicode = [b'\\', b'u', b'0', b'0', b'0', b'0'];
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0C => b"\\f",
            b'<' => b"\\u003c",
            b'>' => b"\\u003e",
            b'&' => b"\\u0026",
            0xE2 => match bytes.get(i + 1..i + 3) {
                Some([0x80, 0xA8]) => {
                    width = 3;
                    b"\\u2028"
                }
                Some([0x80, 0xA9]) => {
                    width = 3;
                    b"\\u2029"
                }
                _ => {
                    i += 1;
                    continue;
                }
            },
            _ => {
                unicode[4] = HEX[(b >> 4) as usize];
                unicode[5] = HEX[(b & 0xF) as usize];
                &unicode
            }
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escape);
        i += width;
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

fn key_string(out: &mut Vec<u8>, key: &[u8], value: &str) {
    out.extend_from_slice(key);
    string(out, value);
}

fn key_u64(out: &mut Vec<u8>, key: &[u8], value: u64) {
    out.extend_from_slice(key);
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// `,"key":` then `value` unless it is empty (Go's `omitempty` on a string).
fn key_nonempty(out: &mut Vec<u8>, key: &[u8], value: &str) {
    if !value.is_empty() {
        key_string(out, key, value);
    }
}

fn key_bool(out: &mut Vec<u8>, key: &[u8], value: bool) {
    out.extend_from_slice(key);
    out.extend_from_slice(if value { b"true" } else { b"false" });
}

/// `,"key":` then `value` as Go writes a float64, unless it is zero (Go's `omitempty`).
fn key_float_nonzero(out: &mut Vec<u8>, key: &[u8], value: f64) -> Result<(), NonFiniteFloat> {
    if value != 0.0 {
        out.extend_from_slice(key);
        write_float(value, out)?;
    }
    Ok(())
}

/// The body of `llm_request` and `http_request`: the two types have the same fields, in the
/// same order, with the same omission rules.
macro_rules! request {
    ($out:expr, $d:expr) => {{
        let (out, d) = ($out, $d);
        key_string(out, b"{\"method\":", &d.method);
        key_string(out, b",\"host\":", &d.host);
        key_string(out, b",\"path\":", &d.path);
        key_nonempty(out, b",\"model\":", &d.model);
        key_bool(out, b",\"routed\":", d.routed);
        key_nonempty(out, b",\"routed_to\":", &d.routed_to);
        key_nonempty(out, b",\"exchange_id\":", &d.exchange_id);
        key_float_some(out, b",\"reserved_usd\":", d.reserved_usd)?;
        out.push(b'}');
        Ok(())
    }};
}

fn llm_request(out: &mut Vec<u8>, d: &LlmRequest) -> Result<(), NonFiniteFloat> {
    request!(out, d)
}

fn http_request(out: &mut Vec<u8>, d: &HttpRequest) -> Result<(), NonFiniteFloat> {
    request!(out, d)
}

/// `,"key":` then `value` as Go writes a float64, when present.
fn key_float_some(out: &mut Vec<u8>, key: &[u8], value: Option<f64>) -> Result<(), NonFiniteFloat> {
    if let Some(value) = value {
        out.extend_from_slice(key);
        write_float(value, out)?;
    }
    Ok(())
}

fn key_u64_some(out: &mut Vec<u8>, key: &[u8], value: Option<u64>) {
    if let Some(n) = value {
        key_u64(out, key, n);
    }
}

/// The token counts `llm_response` and `http_response` share, in this order, each omitted when
/// unknown.
fn tokens(out: &mut Vec<u8>, counts: [Option<u64>; 5]) {
    const KEYS: [&[u8]; 5] = [
        b",\"input_tokens\":",
        b",\"output_tokens\":",
        b",\"cached_input_tokens\":",
        b",\"cache_creation_input_tokens\":",
        b",\"reasoning_tokens\":",
    ];
    for (key, n) in KEYS.into_iter().zip(counts) {
        key_u64_some(out, key, n);
    }
}

/// The cost extension `llm_response` and `http_response` share (the cost, its source and
/// its service tier), the exchange id, and the closing brace.
fn cost(
    out: &mut Vec<u8>,
    usd: Option<f64>,
    (source, service_tier): (&str, &str),
    usage: &str,
    exchange_id: &str,
) -> Result<(), NonFiniteFloat> {
    key_float_some(out, b",\"cost_usd\":", usd)?;
    key_nonempty(out, b",\"cost_source\":", source);
    key_nonempty(out, b",\"service_tier\":", service_tier);
    key_nonempty(out, b",\"usage\":", usage);
    key_nonempty(out, b",\"exchange_id\":", exchange_id);
    out.push(b'}');
    Ok(())
}

/// The body of `llm_response` and `http_response`: the two types have the same fields, in
/// the same order, with the same omission rules.
macro_rules! response {
    ($out:expr, $d:expr) => {{
        let (out, d) = ($out, $d);
        key_string(out, b"{\"method\":", &d.method);
        key_string(out, b",\"host\":", &d.host);
        key_string(out, b",\"path\":", &d.path);
        key_u64(out, b",\"status_code\":", d.status_code);
        key_u64(out, b",\"duration_ms\":", d.duration_ms);
        key_u64(out, b",\"body_bytes\":", d.body_bytes);
        key_nonempty(out, b",\"model\":", &d.model);
        tokens(
            out,
            [
                d.input_tokens,
                d.output_tokens,
                d.cached_input_tokens,
                d.cache_creation_input_tokens,
                d.reasoning_tokens,
            ],
        );
        cost(
            out,
            d.cost_usd,
            (&d.cost_source, &d.service_tier),
            &d.usage,
            &d.exchange_id,
        )
    }};
}

fn llm_response(out: &mut Vec<u8>, d: &LlmResponse) -> Result<(), NonFiniteFloat> {
    response!(out, d)
}

fn key_injection(out: &mut Vec<u8>, d: &KeyInjection) {
    key_string(out, b"{\"secret_name\":", &d.secret_name);
    key_string(out, b",\"host\":", &d.host);
    key_string(out, b",\"action\":", d.action.as_str());
    key_nonempty(out, b",\"exchange_id\":", &d.exchange_id);
    out.push(b'}');
}

fn http_response(out: &mut Vec<u8>, d: &HttpResponse) -> Result<(), NonFiniteFloat> {
    response!(out, d)
}

fn budget_action(out: &mut Vec<u8>, d: &BudgetAction) -> Result<(), NonFiniteFloat> {
    key_string(out, b"{\"action\":", &d.action);
    if d.tokens_used != 0 {
        key_u64(out, b",\"tokens_used\":", d.tokens_used);
    }
    key_float_nonzero(out, b",\"cost_usd\":", d.cost_usd)?;
    key_float_nonzero(out, b",\"remaining\":", d.remaining)?;
    key_nonempty(out, b",\"exchange_id\":", &d.exchange_id);
    out.push(b'}');
    Ok(())
}

fn gate_decision(out: &mut Vec<u8>, d: &GateDecision) {
    key_string(out, b"{\"host\":", &d.host);
    key_bool(out, b",\"allowed\":", d.allowed);
    key_nonempty(out, b",\"reason\":", &d.reason);
    key_nonempty(out, b",\"pattern\":", &d.pattern);
    key_nonempty(out, b",\"exchange_id\":", &d.exchange_id);
    out.push(b'}');
}

fn route_decision(out: &mut Vec<u8>, d: &RouteDecision) {
    key_string(out, b"{\"host\":", &d.host);
    key_string(out, b",\"action\":", &d.action);
    key_nonempty(out, b",\"routed_to\":", &d.routed_to);
    key_nonempty(out, b",\"reason\":", &d.reason);
    key_nonempty(out, b",\"exchange_id\":", &d.exchange_id);
    out.push(b'}');
}

/// The shape `request_transform` and `response_transform` share: `[host, action, reason,
/// exchange_id]`.
fn transform(out: &mut Vec<u8>, [host, action, reason, exchange_id]: [&str; 4]) {
    key_string(out, b"{\"host\":", host);
    key_string(out, b",\"action\":", action);
    key_nonempty(out, b",\"reason\":", reason);
    key_nonempty(out, b",\"exchange_id\":", exchange_id);
    out.push(b'}');
}

/// Appends `event` as JSON (no newline) in the reference's byte format.
fn non_finite(what: &str) -> serde_json::Error {
    <serde_json::Error as serde::ser::Error>::custom(format!("{what} must be finite numbers"))
}

pub(super) fn write_event(out: &mut Vec<u8>, event: &Event) -> Result<(), serde_json::Error> {
    let mut ts = [0u8; MAX_LEN];
    out.extend_from_slice(b"{\"ts\":\"");
    out.extend_from_slice(event.ts.write_to(&mut ts).as_bytes());
    out.push(b'"');
    key_string(out, b",\"run_id\":", &event.run_id);
    key_string(out, b",\"agent_system\":", &event.agent_system);
    key_string(out, b",\"event_type\":", event.event_type.as_str());
    key_string(out, b",\"summary\":", &event.summary);
    if !event.plugin.is_empty() {
        key_string(out, b",\"plugin\":", &event.plugin);
    }
    if let Some((first, rest)) = event.tags.split_first() {
        key_string(out, b",\"tags\":[", first);
        for tag in rest {
            out.push(b',');
            string(out, tag);
        }
        out.push(b']');
    }
    if let Some(data) = &event.data {
        out.extend_from_slice(b",\"data\":");
        match data {
            EventData::LlmRequest(d) => {
                llm_request(out, d).map_err(|_| non_finite("reserved_usd"))?;
            }
            EventData::LlmResponse(d) => llm_response(out, d).map_err(|_| non_finite("cost"))?,
            EventData::KeyInjection(d) => key_injection(out, d),
            EventData::BudgetAction(d) => {
                budget_action(out, d).map_err(|_| non_finite("budget amounts"))?;
            }
            EventData::HttpRequest(d) => {
                http_request(out, d).map_err(|_| non_finite("reserved_usd"))?;
            }
            EventData::HttpResponse(d) => {
                http_response(out, d).map_err(|_| non_finite("cost"))?;
            }
            EventData::GateDecision(d) => gate_decision(out, d),
            EventData::RouteDecision(d) => route_decision(out, d),
            EventData::RequestTransform(d) => {
                transform(out, [&d.host, &d.action, &d.reason, &d.exchange_id]);
            }
            EventData::ResponseTransform(d) => {
                transform(out, [&d.host, &d.action, &d.reason, &d.exchange_id]);
            }
            EventData::Other(map) => {
                let start = out.len();
                serde::Serialize::serialize(
                    map,
                    &mut serde_json::Serializer::with_formatter(&mut *out, GoFormatter),
                )?;
                escape_like_go(out, start);
            }
        }
    }
    out.push(b'}');
    Ok(())
}
