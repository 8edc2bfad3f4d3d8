//! Generated attacks: secret values of realistic shapes, every encoding the scanner documents
//! (and a few control-character splits a terminal re-assembles), and the places of a sandbox
//! event log, a tool-call ledger and a file system they are put in.
//!
//! The encoders here are the suite's own, written from the scanner's module documentation
//! (`crates/validate/src/secrets/scan.rs`, `decode.rs`), not from its code.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::Value;

const BASE62: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Characters of a "mixed" supplied secret: letters, digits and the punctuation encoders and
/// specs treat specially, minus `@` (the spec's host separator), `"`, `\`, `%`, `#` and space
/// (dotenv quoting), which the encodings below exercise instead.
const MIXED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=~_.-";

/// The shape of a secret value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Random letters, digits and `+/=~_.-`, 12 to 28 characters.
    Mixed,
    /// 8 to 16 digits, no leading zero: a card number, a long PIN.
    Digits,
    /// `sk-proj-` + 40 base62.
    OpenAi,
    /// `ghp_` + 36 base62.
    Github,
    /// `AKIA` + 16 uppercase letters and digits.
    Aws,
}

pub const KINDS: [Kind; 5] = [
    Kind::Mixed,
    Kind::Digits,
    Kind::OpenAi,
    Kind::Github,
    Kind::Aws,
];

#[derive(Clone, Debug)]
pub struct Secret {
    pub name: String,
    pub value: String,
    pub kind: Kind,
}

fn pick(rng: &mut StdRng, alphabet: &[u8], n: usize) -> String {
    (0..n)
        .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
        .collect()
}

pub fn secret(rng: &mut StdRng, kind: Kind, name: String) -> Secret {
    let value = match kind {
        Kind::Mixed => {
            let n = rng.random_range(12..=28);
            // Starts and ends with a letter or digit, so trimming never changes it.
            let mut v = pick(rng, &BASE62[..62], 1);
            v += &pick(rng, MIXED, n - 2);
            v += &pick(rng, &BASE62[..62], 1);
            v
        }
        Kind::Digits => {
            let n = rng.random_range(8..=16);
            let mut v = pick(rng, b"123456789", 1);
            v += &pick(rng, b"0123456789", n - 1);
            v
        }
        Kind::OpenAi => format!("sk-proj-{}", pick(rng, BASE62, 40)),
        Kind::Github => format!("ghp_{}", pick(rng, BASE62, 36)),
        Kind::Aws => format!("AKIA{}", pick(rng, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)),
    };
    Secret { name, value, kind }
}

/// One way of writing a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enc {
    Raw,
    Hex,
    HexUpper,
    Base64,
    Base64Url,
    /// base64 of `user:` + value + tail, after `Basic ` (the value at a byte offset).
    Base64Blob,
    Utf16LeHex,
    Utf16BeHex,
    Utf16LeBase64,
    /// UTF-16LE written as a JSON string (`s\u00003\u0000...`).
    Utf16Json,
    /// Some characters as JSON `\u00XX`.
    JsonEscSome,
    /// A JSON string inside a JSON string: `\\u00XX` for some characters.
    JsonNested,
    PercentSome,
    PercentAll,
    /// base64 with `+`, `/`, `=` percent-encoded.
    PercentBase64,
    /// Every byte percent-encoded, five to seven times over (as deep as fits in one
    /// argument): deeper than the scanner decodes, so only failing closed keeps it out.
    PercentDeep,
    HtmlEntities,
    /// `\xHH` for every byte (`\\xHH` in JSON source).
    HexEscaped,
    HexColon,
    HexSpace,
    HexDash,
    /// base64 broken every 16 characters by `\r\n`.
    Base64Wrapped,
    /// `ab` + `Z\b` + `cd`: a terminal shows `abcd`.
    SplitBackspace,
    /// spaces + tail + `\r` + head: a terminal shows the value.
    SplitCr,
    SplitNewline,
    /// An ANSI SGR sequence inside the value.
    SplitAnsi,
    /// A bidi isolate pair inside, or RLO + the value reversed + PDF.
    SplitBidi,
    /// A JSON number (digit secrets in numeric fields only).
    Number,
}

pub const STRING_ENCS: [Enc; 27] = [
    Enc::Raw,
    Enc::Hex,
    Enc::HexUpper,
    Enc::Base64,
    Enc::Base64Url,
    Enc::Base64Blob,
    Enc::Utf16LeHex,
    Enc::Utf16BeHex,
    Enc::Utf16LeBase64,
    Enc::Utf16Json,
    Enc::JsonEscSome,
    Enc::JsonNested,
    Enc::PercentSome,
    Enc::PercentAll,
    Enc::PercentBase64,
    Enc::PercentDeep,
    Enc::HtmlEntities,
    Enc::HexEscaped,
    Enc::HexColon,
    Enc::HexSpace,
    Enc::HexDash,
    Enc::Base64Wrapped,
    Enc::SplitBackspace,
    Enc::SplitCr,
    Enc::SplitNewline,
    Enc::SplitAnsi,
    Enc::SplitBidi,
];

/// A value written in some encoding.
#[derive(Clone, Debug)]
pub struct Encoded {
    /// The inside of a JSON string (or a bare number for [`Enc::Number`]).
    pub source: String,
    /// The text itself: what a file name or an argument carries. For the JSON-escape
    /// encodings it is the escaped text, since a name has no JSON layer to undo.
    pub text: String,
}

fn json_inner(text: &str) -> String {
    let quoted = serde_json::to_string(text).expect("string");
    quoted[1..quoted.len() - 1].to_owned()
}

fn hex(bytes: &[u8], upper: bool, sep: &str) -> String {
    bytes
        .iter()
        .map(|b| {
            if upper {
                format!("{b:02X}")
            } else {
                format!("{b:02x}")
            }
        })
        .collect::<Vec<_>>()
        .join(sep)
}

fn utf16(value: &str, le: bool) -> Vec<u8> {
    value
        .encode_utf16()
        .flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() })
        .collect()
}

pub fn encode(rng: &mut StdRng, value: &str, enc: Enc) -> Encoded {
    let bytes = value.as_bytes();
    let plain = |text: String| Encoded {
        source: json_inner(&text),
        text,
    };
    let escaped = |source: String| Encoded {
        text: source.clone(),
        source,
    };
    // A split point strictly inside the value.
    let k = rng.random_range(1..value.len());
    let (head, tail) = value.split_at(k);
    match enc {
        Enc::Raw => plain(value.to_owned()),
        Enc::Hex => plain(hex(bytes, false, "")),
        Enc::HexUpper => plain(hex(bytes, true, "")),
        Enc::Base64 => plain(STANDARD.encode(bytes)),
        Enc::Base64Url => plain(URL_SAFE_NO_PAD.encode(bytes)),
        Enc::Base64Blob => {
            let mut blob = b"user:".to_vec();
            blob.extend_from_slice(bytes);
            blob.extend_from_slice(b"!tail");
            plain(format!("Basic {}", STANDARD.encode(blob)))
        }
        Enc::Utf16LeHex => plain(hex(&utf16(value, true), false, "")),
        Enc::Utf16BeHex => plain(hex(&utf16(value, false), false, "")),
        Enc::Utf16LeBase64 => plain(STANDARD.encode(utf16(value, true))),
        Enc::Utf16Json => escaped(value.chars().map(|c| format!("{c}\\u0000")).collect()),
        Enc::JsonEscSome | Enc::JsonNested => {
            let slash = if enc == Enc::JsonNested { "\\\\" } else { "\\" };
            let mut out = String::new();
            for (i, c) in value.chars().enumerate() {
                if i == k || rng.random_bool(0.3) {
                    let _ = write!(out, "{slash}u{:04x}", u32::from(c));
                } else {
                    out.push(c);
                }
            }
            escaped(out)
        }
        Enc::PercentSome | Enc::PercentAll => {
            let mut out = String::new();
            for (i, b) in bytes.iter().enumerate() {
                if enc == Enc::PercentAll || i == k || !b.is_ascii_alphanumeric() {
                    let _ = write!(out, "%{b:02X}");
                } else {
                    out.push(char::from(*b));
                }
            }
            plain(out)
        }
        Enc::PercentDeep => {
            // Past the scanner's four layers, but short enough to pass as one argument
            // (Linux takes at most 128 KiB per argument, and one argument may hold several values;
            // each layer triples the length).
            let fits = |layers: u32| value.len().saturating_mul(3usize.pow(layers)) <= 12_000;
            // A value too long for even five layers gets one (still a documented form).
            let layers = match (5..=7).rev().find(|&l| fits(l)) {
                Some(deepest) => rng.random_range(5..=deepest),
                None => 1,
            };
            let all =
                |text: &str| -> String { text.bytes().map(|b| format!("%{b:02X}")).collect() };
            plain((0..layers).fold(value.to_owned(), |text, _| all(&text)))
        }
        Enc::PercentBase64 => plain(
            STANDARD
                .encode(bytes)
                .replace('+', "%2B")
                .replace('/', "%2F")
                .replace('=', "%3D"),
        ),
        Enc::HtmlEntities => {
            let mut out = String::new();
            for (i, b) in bytes.iter().enumerate() {
                match (i == k, i % 3) {
                    (true, _) | (_, 0) => {
                        let _ = write!(out, "&#{b};");
                    }
                    (_, 1) => {
                        let _ = write!(out, "&#x{b:x};");
                    }
                    _ => out.push(char::from(*b)),
                }
            }
            plain(out)
        }
        Enc::HexEscaped => plain(bytes.iter().map(|b| format!("\\x{b:02x}")).collect()),
        Enc::HexColon => plain(hex(bytes, false, ":")),
        Enc::HexSpace => plain(hex(bytes, true, " ")),
        Enc::HexDash => plain(hex(bytes, false, "-")),
        Enc::Base64Wrapped => {
            let b64 = STANDARD.encode(bytes);
            let lines: Vec<&str> = b64
                .as_bytes()
                .chunks(16)
                .map(|c| std::str::from_utf8(c).expect("ascii"))
                .collect();
            plain(lines.join("\r\n"))
        }
        Enc::SplitBackspace => plain(format!("{head}Z\u{8}{tail}")),
        Enc::SplitCr => plain(format!("{}{tail}\r{head}", " ".repeat(head.len()))),
        Enc::SplitNewline => plain(format!("{head}\n{tail}")),
        Enc::SplitAnsi => plain(format!("{head}\u{1b}[0m{tail}")),
        Enc::SplitBidi => {
            if rng.random_bool(0.5) {
                plain(format!("{head}\u{2066}\u{2069}{tail}"))
            } else {
                let reversed: String = value.chars().rev().collect();
                plain(format!("\u{202e}{reversed}\u{202c}"))
            }
        }
        Enc::Number => Encoded {
            source: value.to_owned(),
            text: value.to_owned(),
        },
    }
}

/// File and directory name prefixes that attack text and GitHub output.
pub const HOSTILE_NAME_PREFIXES: [&str; 9] = [
    "",
    "::stop-commands::tok",
    "::error file=x::forged ",
    "a\\b\\",
    "100%25%",
    "line\nFindings (0)\n",
    "\u{1b}[2K\r",
    "\u{202e}gpj.",
    "x\u{8}\u{8}",
];

/// A file name for `text` (never `/` or NUL; `/` is written `%2F`).
pub fn file_name(prefix: &str, text: &str) -> String {
    format!("{prefix}{}", text.replace('/', "%2F").replace('\0', "%00"))
}

/// Real event shapes (from `testdata/golden`), v0 then v1.
pub const V0_EVENTS: [&str; 4] = [
    r#"{"ts":"2026-02-24T23:03:15.060999Z","run_id":"vm-503ad4d1","agent_system":"openclaw","event_type":"llm_request","summary":"POST openrouter.ai/v1/chat/completions","tags":["tls"],"data":{"method":"POST","host":"openrouter.ai","path":"/v1/chat/completions","model":"google/gemini-2.0-flash-001","routed":true,"routed_to":"192.168.86.246:11434"}}"#,
    r#"{"ts":"2026-02-24T23:03:16.5Z","run_id":"vm-503ad4d1","agent_system":"openclaw","event_type":"llm_response","summary":"POST api.anthropic.com/v1/messages -> 200 (1432ms)","tags":["tls"],"data":{"method":"POST","host":"api.anthropic.com","path":"/v1/messages","status_code":200,"duration_ms":1432,"body_bytes":2817,"model":"claude-sonnet-4-5","input_tokens":42,"output_tokens":311,"cached_input_tokens":8,"cache_creation_input_tokens":4,"reasoning_tokens":100,"cost_usd":0.004821,"cost_source":"price_table","usage":"partial"}}"#,
    r#"{"ts":"2026-02-24T23:04:00.000001Z","run_id":"vm-503ad4d1","agent_system":"openclaw","event_type":"budget_action","summary":"budget warn","plugin":"budget","data":{"action":"warn","tokens_used":12000,"cost_usd":0.42,"remaining":9.58}}"#,
    r#"{"ts":"2026-02-24T23:03:15.06098Z","run_id":"vm-503ad4d1","agent_system":"openclaw","event_type":"key_injection","summary":"secret \"ANTHROPIC_API_KEY\" leak blocked for api.anthropic.com","plugin":"secret_injector","tags":["tls"],"data":{"secret_name":"ANTHROPIC_API_KEY","host":"api.anthropic.com","action":"leak_blocked"}}"#,
];

pub const V1_EVENTS: [&str; 8] = [
    r#"{"ts":"2026-02-24T23:03:15.060999Z","run_id":"vm-503ad4d1","agent_system":"openclaw","event_type":"http_request","summary":"POST openrouter.ai/v1/chat/completions","tags":["tls"],"data":{"method":"POST","host":"openrouter.ai","path":"/v1/chat/completions","model":"google/gemini-2.0-flash-001","routed":true,"routed_to":"192.168.86.246:11434"}}"#,
    r#"{"ts":"2026-02-24T23:03:16.5Z","run_id":"vm-503ad4d1","agent_system":"openclaw","event_type":"http_response","summary":"POST api.openai.com/v1/chat/completions -> 200 (1432ms)","tags":["tls"],"data":{"method":"POST","host":"api.openai.com","path":"/v1/chat/completions","status_code":200,"duration_ms":1432,"body_bytes":2817,"model":"gpt-4o-2024-08-06","input_tokens":1200,"output_tokens":80,"cached_input_tokens":1024,"reasoning_tokens":0,"cost_usd":0.0012,"cost_source":"provider"}}"#,
    r#"{"ts":"2026-02-24T23:03:15.5Z","run_id":"vm-503ad4d1","agent_system":"openclaw","event_type":"gate_decision","summary":"gate blocked openrouter.ai by budget_gate: budget exceeded: $10.0012 spent of $10 limit","plugin":"budget_gate","data":{"host":"openrouter.ai","allowed":false,"reason":"budget exceeded: $10.0012 spent of $10 limit"}}"#,
    r#"{"ts":"2026-02-24T23:03:15.060934Z","run_id":"vm-503ad4d1","agent_system":"openclaw","event_type":"route_decision","summary":"route redirected openrouter.ai -> 127.0.0.1:11434 by local_model_router","plugin":"local_model_router","data":{"host":"openrouter.ai","action":"redirected","routed_to":"127.0.0.1:11434","reason":"matched model <any> -> llama3 at 127.0.0.1:11434"}}"#,
    r#"{"ts":"2026-02-24T23:03:15.06098Z","run_id":"vm-503ad4d1","agent_system":"openclaw","event_type":"request_transform","summary":"secret_injector: injected for api.openai.com","plugin":"secret_injector","data":{"host":"api.openai.com","action":"injected","reason":"1 secret(s) injected for api.openai.com"}}"#,
    r#"{"ts":"2026-02-24T23:03:17Z","run_id":"r","agent_system":"a","event_type":"response_transform","summary":"usage_logger: no_op for h","plugin":"usage_logger","data":{"host":"h","action":"no_op"}}"#,
    r#"{"ts":"2026-02-24T23:04:00.000001Z","run_id":"vm-503ad4d1","agent_system":"openclaw","event_type":"budget_action","summary":"budget warn","plugin":"budget","data":{"action":"warn","tokens_used":12000,"cost_usd":0.42,"remaining":9.58}}"#,
    r#"{"ts":"2026-02-24T23:03:15.06098Z","run_id":"vm-503ad4d1","agent_system":"openclaw","event_type":"key_injection","summary":"secret \"ANTHROPIC_API_KEY\" leak blocked for api.anthropic.com","plugin":"secret_injector","tags":["tls"],"data":{"secret_name":"ANTHROPIC_API_KEY","host":"api.anthropic.com","action":"leak_blocked"}}"#,
];

/// A tool-call ledger record (`testdata/analyze/ledger.jsonl`).
pub const LEDGER_RECORDS: [&str; 3] = [
    r#"{"ts":1800000010,"session_id":"s1","agent":"research_agent","tool":"web_fetch","args_hash":"sha256:0000000000000000000000000000000000000000000000000000000000000000","result_status":"error","elapsed_ms":5,"error_class":"ConnectionError","risk_flags":["network_denied"],"artifacts":[]}"#,
    r#"{"ts":1800000060,"session_id":"s1","agent":"dev_agent","tool":"file_editor","args_hash":"sha256:0000000000000000000000000000000000000000000000000000000000000000","result_status":"success","elapsed_ms":10,"error_class":null,"risk_flags":[],"artifacts":["src/a.py"]}"#,
    r#"{"ts":1800000120,"session_id":"s2","agent":"ops_agent","tool":"deploy","args_hash":"sha256:0000000000000000000000000000000000000000000000000000000000000000","result_status":"denied","elapsed_ms":0,"error_class":"PermissionError","risk_flags":["path_denied"],"artifacts":["k8s/deploy.yaml"]}"#,
];

/// Where in a JSON record a value goes.
#[derive(Clone, Debug)]
pub enum Slot {
    /// A string leaf (JSON pointer), replaced by a string.
    Str(String),
    /// A numeric leaf, replaced by a bare number.
    Num(String),
    /// A new key in the object at this pointer.
    Key(String),
}

impl Slot {
    pub fn describe(&self) -> String {
        match self {
            Slot::Str(p) => format!("string {p}"),
            Slot::Num(p) => format!("number {p}"),
            Slot::Key(p) => format!("key in {}", if p.is_empty() { "/" } else { p }),
        }
    }
}

fn walk(value: &Value, pointer: &str, out: &mut Vec<Slot>) {
    match value {
        Value::String(_) => out.push(Slot::Str(pointer.to_owned())),
        Value::Number(_) => out.push(Slot::Num(pointer.to_owned())),
        // A null or an empty array can carry a string too (error_class, artifacts).
        Value::Null => out.push(Slot::Str(pointer.to_owned())),
        Value::Array(items) if items.is_empty() => out.push(Slot::Str(format!("{pointer}/0"))),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{pointer}/{i}"), out);
            }
        }
        Value::Object(map) => {
            out.push(Slot::Key(pointer.to_owned()));
            for (k, v) in map {
                walk(v, &format!("{pointer}/{k}"), out);
            }
        }
        Value::Bool(_) => out.push(Slot::Str(pointer.to_owned())),
    }
}

/// Every slot of a record.
pub fn slots(record: &str) -> Vec<Slot> {
    let value: Value = serde_json::from_str(record).expect("template");
    let mut out = Vec::new();
    walk(&value, "", &mut out);
    // `ts` of a sandbox event is a string, but a producer may write a number there.
    if matches!(value.get("ts"), Some(Value::String(_))) {
        out.push(Slot::Num("/ts".to_owned()));
    }
    out
}

const MARK: &str = "@@ADVERSARIAL_SLOT@@";

/// `record` with `encoded` in `slot`, as one JSON line.
pub fn fill(record: &str, slot: &Slot, encoded: &Encoded) -> String {
    let mut value: Value = serde_json::from_str(record).expect("template");
    let (pointer, replacement) = match slot {
        Slot::Str(p) => (p, format!("\"{}\"", encoded.source)),
        Slot::Num(p) => (p, encoded.source.clone()),
        Slot::Key(p) => {
            let object = value
                .pointer_mut(p)
                .and_then(Value::as_object_mut)
                .expect("object");
            object.insert(MARK.to_owned(), Value::from("v"));
            let line = serde_json::to_string(&value).expect("line");
            return line.replace(&format!("\"{MARK}\""), &format!("\"{}\"", encoded.source));
        }
    };
    set(&mut value, pointer, Value::from(MARK));
    serde_json::to_string(&value)
        .expect("line")
        .replace(&format!("\"{MARK}\""), &replacement)
}

fn set(value: &mut Value, pointer: &str, new: Value) {
    if let Some(slot) = value.pointer_mut(pointer) {
        *slot = new;
        return;
    }
    // `/artifacts/0` of an empty array.
    let (parent, _) = pointer.rsplit_once('/').expect("pointer");
    if let Some(Value::Array(items)) = value.pointer_mut(parent) {
        items.push(new);
    }
}
