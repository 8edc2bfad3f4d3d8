//! The kit's core promise, as a property: a secret placed anywhere in a log (a value, a key, the
//! run id, the summary, a tag, the event type, an envelope key, the file name), in any encoding
//! the validator supports, is reported, and no output format, no stderr line and no message
//! contains the secret or the encoded text.
//!
//! The encoders here are the test's own, written independently of the scanner's.

use std::fmt::Write as _;

use agentlog_validate::report::{self, Format};
use agentlog_validate::secrets::{Secret, SecretValue};
use agentlog_validate::{Options, Report, Rule, Validator};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use proptest::prelude::*;

const FORMATS: [Format; 5] = [
    Format::Text,
    Format::Json,
    Format::Sarif,
    Format::Junit,
    Format::Github,
];

/// Where in a log the secret is put.
#[derive(Clone, Copy, Debug)]
enum Place {
    Value,
    Key,
    RunId,
    Summary,
    Tag,
    EventType,
    EnvelopeKey,
    FileName,
}

const PLACES: [Place; 8] = [
    Place::Value,
    Place::Key,
    Place::RunId,
    Place::Summary,
    Place::Tag,
    Place::EventType,
    Place::EnvelopeKey,
    Place::FileName,
];

impl Place {
    /// The pointer the `secret.value` finding must carry (`None`: no finding expected).
    fn pointer(self) -> Option<&'static str> {
        match self {
            Place::Value => Some("/data/authorization"),
            Place::Key => Some("/data"),
            Place::RunId => Some("/run_id"),
            Place::Summary => Some("/summary"),
            Place::Tag => Some("/tags/0"),
            Place::EventType => Some("/event_type"),
            Place::EnvelopeKey => Some(""),
            Place::FileName => None,
        }
    }
}

/// The encodings, each written by the test itself. Returns the text as it appears in the
/// decoded JSON string (or the file name) and whether it is already JSON source (escapes that
/// must reach the line as they are).
fn encode(secret: &str, pick: usize, offset: usize) -> (String, bool) {
    let bytes = secret.as_bytes();
    let mut blob = vec![b'u'; offset];
    blob.extend_from_slice(bytes);
    blob.extend_from_slice(b"!tail");
    let hex = |upper: bool, sep: &str| {
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
    };
    match pick {
        0 => (secret.to_owned(), false),
        // JSON \u escapes of every character, in the line's source.
        1 => (bytes.iter().map(|b| format!("\\u{b:04x}")).collect(), true),
        2 => (format!("Basic {}", STANDARD.encode(&blob)), false),
        3 => (URL_SAFE_NO_PAD.encode(&blob), false),
        4 => (bytes.iter().map(|b| format!("%{b:02X}")).collect(), false),
        5 => (hex(false, ""), false),
        6 => (hex(true, ""), false),
        // Percent-encoding of every other byte only (a partial encoder).
        7 => {
            let mut out = String::new();
            for (i, b) in bytes.iter().enumerate() {
                if i % 2 == 0 {
                    let _ = write!(out, "%{b:02x}");
                } else {
                    out.push(char::from(*b));
                }
            }
            (out, false)
        }
        // Nested JSON: an inner encoder wrote `\u00XX`, the outer escaped its backslash.
        8 => (
            bytes.iter().map(|b| format!("\\\\u{b:04x}")).collect(),
            true,
        ),
        9 => (bytes.iter().map(|b| format!("&#{b};")).collect(), false),
        10 => {
            let mixed: String = hex(true, ":")
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if i % 2 == 0 {
                        c.to_ascii_lowercase()
                    } else {
                        c
                    }
                })
                .collect();
            (mixed, false)
        }
        // base64 whose `+/=` were then percent-encoded.
        11 => {
            let b64 = STANDARD.encode(&blob);
            let out = b64
                .replace('+', "%2B")
                .replace('/', "%2F")
                .replace('=', "%3D");
            (out, false)
        }
        // UTF-16LE, in hex.
        12 => (bytes.iter().map(|b| format!("{b:02x}00")).collect(), false),
        // MIME base64, wrapped far shorter than MIME's 76 columns: a break every 16.
        13 => {
            let b64 = STANDARD.encode(&blob);
            let lines: Vec<String> = b64
                .as_bytes()
                .chunks(16)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            (lines.join("\r\n"), false)
        }
        _ => (bytes.iter().map(|b| format!("&#x{b:x};")).collect(), false),
    }
}

const ENCODINGS: usize = 15;

/// JSON source for `text`: as is when it already is source, else a JSON string's inside.
fn source(text: &str, is_source: bool) -> String {
    if is_source {
        text.to_owned()
    } else {
        let quoted = serde_json::to_string(text).expect("string");
        quoted[1..quoted.len() - 1].to_owned()
    }
}

fn line(run_id: &str, event_type: &str, summary: &str, tag: &str, extra: &str) -> String {
    format!(
        r#"{{"ts":"2026-02-24T23:03:15Z","run_id":"{run_id}","agent_system":"agent","event_type":"{event_type}","summary":"{summary}","tags":["{tag}"],"data":{{"method":"post","host":"api","path":"/v","routed":false{extra}}}{{ENV}}}}"#
    )
}

/// The log (and its file name) with `text` at `place`.
fn log_with(place: Place, text: &str) -> (String, String) {
    let plain = |extra: &str| line("vm-abc", "llm_request", "s", "t", extra);
    let mut lines = vec![plain("").replace("{ENV}", "")];
    let mut name = "logs/events.jsonl".to_owned();
    let l = match place {
        Place::Value => plain(&format!(r#","authorization":"{text}""#)),
        Place::Key => plain(&format!(r#","{text}":"v""#)),
        Place::RunId => line(text, "llm_request", "s", "t", ""),
        Place::Summary => line("vm-abc", "llm_request", text, "t", ""),
        Place::Tag => line("vm-abc", "llm_request", "s", text, ""),
        Place::EventType => line("vm-abc", text, "s", "t", ""),
        Place::EnvelopeKey => {
            return (
                format!(
                    "{}\n{}\n",
                    lines[0],
                    plain("").replace("{ENV}", &format!(r#","{text}":1"#))
                ),
                name,
            );
        }
        Place::FileName => {
            name = format!("logs/{text}.jsonl");
            plain("")
        }
    };
    lines.push(l.replace("{ENV}", ""));
    (format!("{}\n", lines.join("\n")), name)
}

fn render(report: &Report) -> Vec<(Format, String)> {
    FORMATS
        .iter()
        .map(|&format| {
            let mut out = Vec::new();
            report::write(report, format, &mut out).expect("write");
            (format, String::from_utf8(out).expect("utf-8 output"))
        })
        .collect()
}

/// Every form of the secret an output must not contain.
fn forbidden(secret: &str, encoded: &str) -> Vec<String> {
    let mut out = vec![secret.to_owned()];
    if encoded.len() >= 8 {
        out.push(encoded.to_owned());
        if let Ok(quoted) = serde_json::to_string(encoded) {
            out.push(quoted[1..quoted.len() - 1].to_owned());
        }
    }
    let escaped_pointer = secret.replace('~', "~0").replace('/', "~1");
    out.push(escaped_pointer);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn secret_anywhere_in_any_encoding_is_found_and_never_printed(
        secret in "[A-Z0-9+/=?&~:]{8,24}",
        place in 0usize..PLACES.len(),
        pick in 0usize..ENCODINGS,
        offset in 0usize..3,
    ) {
        let place = PLACES[place];
        let (encoded, is_source) = encode(&secret, pick, offset);
        let text = if matches!(place, Place::FileName) {
            encoded.clone()
        } else {
            source(&encoded, is_source)
        };
        let (log, name) = log_with(place, &text);
        let validator = Validator::new(Options::default().with_secrets(vec![Secret::new("PROP_SECRET", SecretValue::new(secret.clone()), vec![])]).with_builtin_detectors(false)).expect("validator");
        let file = validator.validate_reader(&name, log.as_bytes());
        let hits: Vec<_> = file.findings.iter().filter(|f| f.rule == Rule::SecretValue).collect();
        match place.pointer() {
            Some(pointer) => {
                prop_assert_eq!(hits.len(), 1, "{:?} encoding {}: {:?}", place, pick, file.findings);
                prop_assert_eq!(hits[0].pointer.as_deref(), Some(pointer));
            }
            None => prop_assert!(hits.is_empty()),
        }
        let report = Report { files: vec![file] };
        for (format, output) in render(&report) {
            for form in forbidden(&secret, &encoded) {
                prop_assert!(
                    !output.contains(&form),
                    "{:?} output leaks the secret ({:?}, encoding {})", format, place, pick
                );
            }
        }
    }
}

/// The same promise through the binary: stdout and stderr of every format, for every place,
/// raw and percent-encoded, with the secret supplied on the command line.
#[test]
fn cli_never_prints_a_secret_in_any_format() {
    let secret = "Zq9/~XyW+s3cr3T=k";
    let dir = tempfile::tempdir().expect("tempdir");
    for place in PLACES {
        for pick in [0, 4] {
            let (encoded, is_source) = encode(secret, pick, 0);
            let text = if matches!(place, Place::FileName) {
                encoded.replace('/', "%2F")
            } else {
                source(&encoded, is_source)
            };
            let (log, name) = log_with(place, &text);
            let path = dir.path().join(name.trim_start_matches("logs/"));
            std::fs::write(&path, &log).expect("write log");
            for format in ["text", "json", "sarif", "junit", "github"] {
                let out = assert_cmd::Command::cargo_bin("agentlog")
                    .expect("binary")
                    .args(["validate", "--format", format, "--secret"])
                    .arg(format!("PROP_SECRET={secret}"))
                    .arg(&path)
                    .output()
                    .expect("run");
                let all = format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
                for form in forbidden(secret, &encoded) {
                    assert!(
                        !all.contains(&form),
                        "{format} output leaks the secret ({place:?}, encoding {pick})"
                    );
                }
                if place.pointer().is_some() {
                    assert!(all.contains("secret.value"), "{place:?} {pick} {format}");
                }
            }
            std::fs::remove_file(&path).expect("remove log");
        }
    }
}
