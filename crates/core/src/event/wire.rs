//! The hot path of the writer: an event to one JSON line, without serde.
//!
//! The derived `Serialize` impls define the format; this module writes the same bytes
//! directly for the envelope and the interceptor's payloads (`llm_request`, `llm_response`,
//! `key_injection`), which is what the writer does per event. `budget_action` (floats, whose
//! text form is serde_json's) and untyped data go through serde_json. A property test checks
//! the two paths agree byte for byte on generated events.

use super::go_json::escape_like_go;
use super::timestamp::MAX_LEN;
use super::{Event, EventData, KeyInjection, LlmRequest, LlmResponse};

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

fn llm_request(out: &mut Vec<u8>, d: &LlmRequest) {
    key_string(out, b"{\"method\":", &d.method);
    key_string(out, b",\"host\":", &d.host);
    key_string(out, b",\"path\":", &d.path);
    if !d.model.is_empty() {
        key_string(out, b",\"model\":", &d.model);
    }
    out.extend_from_slice(if d.routed {
        b",\"routed\":true"
    } else {
        b",\"routed\":false"
    });
    if !d.routed_to.is_empty() {
        key_string(out, b",\"routed_to\":", &d.routed_to);
    }
    out.push(b'}');
}

fn llm_response(out: &mut Vec<u8>, d: &LlmResponse) {
    key_string(out, b"{\"method\":", &d.method);
    key_string(out, b",\"host\":", &d.host);
    key_string(out, b",\"path\":", &d.path);
    key_u64(out, b",\"status_code\":", d.status_code);
    key_u64(out, b",\"duration_ms\":", d.duration_ms);
    key_u64(out, b",\"body_bytes\":", d.body_bytes);
    if !d.model.is_empty() {
        key_string(out, b",\"model\":", &d.model);
    }
    if let Some(n) = d.input_tokens {
        key_u64(out, b",\"input_tokens\":", n);
    }
    if let Some(n) = d.output_tokens {
        key_u64(out, b",\"output_tokens\":", n);
    }
    out.push(b'}');
}

fn key_injection(out: &mut Vec<u8>, d: &KeyInjection) {
    key_string(out, b"{\"secret_name\":", &d.secret_name);
    key_string(out, b",\"host\":", &d.host);
    key_string(out, b",\"action\":", d.action.as_str());
    out.push(b'}');
}

/// Appends `event` as JSON (no newline) in the reference's byte format.
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
            EventData::LlmRequest(d) => llm_request(out, d),
            EventData::LlmResponse(d) => llm_response(out, d),
            EventData::KeyInjection(d) => key_injection(out, d),
            EventData::BudgetAction(_) | EventData::Other(_) => {
                let start = out.len();
                serde_json::to_writer(&mut *out, data)?;
                escape_like_go(out, start);
            }
        }
    }
    out.push(b'}');
    Ok(())
}
