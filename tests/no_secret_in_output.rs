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

/// One wrong invocation of the binary that carries a secret value.
struct Case {
    /// What is wrong with it.
    what: &'static str,
    /// The secret value it carries (ASCII).
    value: &'static str,
    /// The arguments, subcommand (or what was typed in its place) first. `{V}` stands for the
    /// value, `{LOG}` for a clean log, `{FILE}` for [`Case::file`] written to disk, `{DIR}` for
    /// the case's own directory. `proxy` cases get [`PROXY_GUARD`] appended.
    args: &'static [&'static str],
    /// The content of `{FILE}`, `{V}` expanded and `{FF}` written as the byte 0xFF.
    file: Option<&'static str>,
    /// stderr must contain one of these: the refusal is the one the case means, not another.
    refusal: &'static [&'static str],
}

/// Appended to every `proxy` case: listen on a free port, keep the CA in the case's
/// directory, and name an upstream CA file that does not exist, which the proxy reads after
/// the secrets and placeholders and before it creates its CA or binds. So a spec that parses
/// still fails before serving (with `--upstream-ca` in stderr, which no case but the empty
/// host list accepts as its refusal), and the run cannot hang.
const PROXY_GUARD: [&str; 6] = [
    "--listen",
    "127.0.0.1:0",
    "--ca-dir",
    "{DIR}/ca",
    "--upstream-ca",
    "{DIR}/absent.pem",
];

/// A value with the characters specs and encodings treat specially (`/`, `~`, `+`, `=`).
const MIXED: &str = "Zq9/~XyW+s3cr3T=k";
/// A provider-style key.
const SK: &str = "sk-proj-T3stV4lue0123456789";
/// base64 of `sk-test-key`: one `=` of padding, taken for the separator.
const B64: &str = "c2stdGVzdC1rZXk=";
/// base64 of `sk-test-ke`: `==` padding.
const B64_PAD2: &str = "c2stdGVzdC1rZQ==";
/// A value that is also a valid variable name.
const NAME_LIKE: &str = "ZqXyWs3cr3Tk9";
/// A value whose part before its `=` is a valid name, and whose part after it is short.
const SHORT_AFTER_EQ: &str = "ZqXyWs3cr3Tk9=Zq";

const CASES: &[Case] = &[
    // analyze takes the same secret options, through the same code
    Case {
        what: "analyze --secret: value without NAME=",
        value: MIXED,
        args: &["analyze", "--secret", "{V}", "{LOG}"],
        file: None,
        refusal: &["--secret #1: expected NAME=VALUE@hosts"],
    },
    Case {
        what: "analyze --secret-env: a value instead of a name",
        value: MIXED,
        args: &["analyze", "--secret-env", "{V}", "{LOG}"],
        file: None,
        refusal: &["--secret-env #1: not a valid environment variable name"],
    },
    Case {
        what: "analyze --secrets-file given a spec instead of a file",
        value: MIXED,
        args: &["analyze", "--secrets-file", "KEY={V}", "{LOG}"],
        file: None,
        refusal: &["--secrets-file #1: cannot read the secrets file: "],
    },
    // validate --secret
    Case {
        what: "validate --secret: value without NAME=",
        value: MIXED,
        args: &["validate", "--secret", "{V}", "{LOG}"],
        file: None,
        refusal: &["--secret #1: expected NAME=VALUE@hosts"],
    },
    Case {
        what: "validate --secret: value and hosts without NAME=",
        value: SK,
        args: &["validate", "--secret", "{V}@api.openai.com", "{LOG}"],
        file: None,
        refusal: &["--secret #1: expected NAME=VALUE@hosts"],
    },
    Case {
        what: "validate --secret: name-shaped value without NAME= (no such variable)",
        value: NAME_LIKE,
        args: &["validate", "--secret", "{V}@api.openai.com", "{LOG}"],
        file: None,
        refusal: &["--secret #1: no `=` in the spec"],
    },
    Case {
        what: "validate --secret: name starts with a digit",
        value: MIXED,
        args: &["validate", "--secret", "1KEY={V}", "{LOG}"],
        file: None,
        refusal: &["--secret #1: expected NAME=VALUE@hosts"],
    },
    Case {
        what: "validate --secret: name with a dash",
        value: SK,
        args: &[
            "validate",
            "--secret",
            "OPENAI-KEY={V}@api.openai.com",
            "{LOG}",
        ],
        file: None,
        refusal: &["--secret #1: expected NAME=VALUE@hosts"],
    },
    Case {
        what: "validate --secret: empty name",
        value: MIXED,
        args: &["validate", "--secret", "={V}", "{LOG}"],
        file: None,
        refusal: &["--secret #1: expected NAME=VALUE@hosts"],
    },
    Case {
        what: "validate --secret: empty value, the value where the hosts go",
        value: SK,
        args: &["validate", "--secret", "KEY=@{V}", "{LOG}"],
        file: None,
        refusal: &["--secret #1: the value after `=` is empty"],
    },
    Case {
        what: "validate --secret: base64 value without NAME= (`=` padding)",
        value: B64,
        args: &["validate", "--secret", "{V}", "{LOG}"],
        file: None,
        refusal: &["--secret #1: the value after `=` is empty"],
    },
    Case {
        what: "validate --secret: base64 value without NAME= (`==` padding)",
        value: B64_PAD2,
        args: &["validate", "--secret", "{V}", "{LOG}"],
        file: None,
        refusal: &["--secret #1: the value after `=` is only `=`"],
    },
    Case {
        what: "validate --secret: the second spec is the bad one",
        value: MIXED,
        args: &[
            "validate",
            "--secret",
            "GOOD=good-value-0123456789",
            "--secret",
            "{V}",
            "{LOG}",
        ],
        file: None,
        refusal: &["--secret #2: expected NAME=VALUE@hosts"],
    },
    Case {
        what: "validate --secret: value starting with `-` (taken for a flag)",
        value: MIXED,
        args: &["validate", "--secret", "-{V}", "{LOG}"],
        file: None,
        refusal: &["unexpected argument"],
    },
    Case {
        what: "validate --secret-env: a value instead of a name",
        value: MIXED,
        args: &["validate", "--secret-env", "{V}", "{LOG}"],
        file: None,
        refusal: &["--secret-env #1: not a valid environment variable name"],
    },
    Case {
        what: "validate --secret-env: a name-shaped value (no such variable)",
        value: NAME_LIKE,
        args: &["validate", "--secret-env", "{V}", "{LOG}"],
        file: None,
        refusal: &["--secret-env #1: that environment variable is not set"],
    },
    Case {
        what: "validate --secrets-file given a spec instead of a file",
        value: MIXED,
        args: &["validate", "--secrets-file", "KEY={V}", "{LOG}"],
        file: None,
        refusal: &["--secrets-file #1: cannot read the secrets file: "],
    },
    Case {
        what: "validate --secrets-file given a spec with hosts, after a good file",
        value: SK,
        args: &[
            "validate",
            "--secrets-file",
            "{FILE}",
            "--secrets-file",
            "KEY={V}@api.openai.com",
            "{LOG}",
        ],
        file: Some("GOOD=good-value-0123456789\n"),
        refusal: &["--secrets-file #2: cannot read the secrets file: "],
    },
    // validate --secrets-file, dotenv
    Case {
        what: "secrets file (dotenv): value without NAME=",
        value: MIXED,
        args: &["validate", "--secrets-file", "{FILE}", "{LOG}"],
        file: Some("{V}\n"),
        refusal: &["line 1: the name is not a valid name"],
    },
    Case {
        what: "secrets file (dotenv): `export` and a value",
        value: SK,
        args: &["validate", "--secrets-file", "{FILE}", "{LOG}"],
        file: Some("# keys\nexport {V}\n"),
        refusal: &["line 2: "],
    },
    Case {
        what: "secrets file (dotenv): name starts with a digit",
        value: MIXED,
        args: &["validate", "--secrets-file", "{FILE}", "{LOG}"],
        file: Some("1KEY={V}\n"),
        refusal: &["line 1: the name is not a valid name"],
    },
    Case {
        what: "secrets file (dotenv): unterminated double quote",
        value: MIXED,
        args: &["validate", "--secrets-file", "{FILE}", "{LOG}"],
        file: Some("KEY=\"{V}\n"),
        refusal: &["line 1: the value has no closing quote"],
    },
    Case {
        what: "secrets file (dotenv): unterminated single quote",
        value: SK,
        args: &["validate", "--secrets-file", "{FILE}", "{LOG}"],
        file: Some("KEY='{V}\n"),
        refusal: &["line 1: the value has no closing quote"],
    },
    Case {
        what: "secrets file (dotenv): the value again after the closing quote",
        value: MIXED,
        args: &["validate", "--secrets-file", "{FILE}", "{LOG}"],
        file: Some("KEY='{V}' {V}\n"),
        refusal: &["line 1: only a `#` comment may follow the closing quote"],
    },
    Case {
        what: "secrets file (dotenv): empty value after a line holding the value",
        value: SK,
        args: &["validate", "--secrets-file", "{FILE}", "{LOG}"],
        file: Some("GOOD={V}\nEMPTY=\n"),
        refusal: &["line 2: the value is empty"],
    },
    Case {
        what: "secrets file (dotenv): not UTF-8 right after the value",
        value: MIXED,
        args: &["validate", "--secrets-file", "{FILE}", "{LOG}"],
        file: Some("KEY={V}{FF}\n"),
        refusal: &["line 1: not UTF-8 text"],
    },
    Case {
        what: "secrets file (dotenv): base64 value without NAME= (`=` padding)",
        value: B64,
        args: &["validate", "--secrets-file", "{FILE}", "{LOG}"],
        file: Some("{V}\n"),
        refusal: &["line 1: the value is empty"],
    },
    Case {
        what: "secrets file (dotenv): base64 value without NAME= (`==` padding)",
        value: B64_PAD2,
        args: &["validate", "--secrets-file", "{FILE}", "{LOG}"],
        file: Some("{V}\n"),
        refusal: &["line 1: the value after `=` is only `=` characters"],
    },
    Case {
        what: "secrets file (dotenv): short value after a `=` of the value",
        value: SHORT_AFTER_EQ,
        args: &["validate", "--secrets-file", "{FILE}", "{LOG}"],
        file: Some("# keys\n{V}\n"),
        refusal: &["line 2: the value is shorter than 8 bytes"],
    },
    // validate --secrets-file, JSON
    Case {
        what: "secrets file (JSON): unterminated object",
        value: MIXED,
        args: &["validate", "--secrets-file", "{FILE}", "{LOG}"],
        file: Some("{\"KEY\": \"{V}\"\n"),
        refusal: &["not a JSON object"],
    },
    Case {
        what: "secrets file (JSON): missing comma after the value",
        value: SK,
        args: &["validate", "--secrets-file", "{FILE}", "{LOG}"],
        file: Some("{\"KEY\": \"{V}\" \"J\": \"x\"}"),
        refusal: &["not a JSON object"],
    },
    Case {
        what: "secrets file (JSON): invalid escape inside the value",
        value: MIXED,
        args: &["validate", "--secrets-file", "{FILE}", "{LOG}"],
        file: Some("{\"KEY\": \"{V}\\q\"}"),
        refusal: &["not a JSON object"],
    },
    Case {
        what: "secrets file (JSON): the value again after the object",
        value: SK,
        args: &["validate", "--secrets-file", "{FILE}", "{LOG}"],
        file: Some("{\"KEY\": \"{V}\"} {V}"),
        refusal: &["not a JSON object"],
    },
    Case {
        what: "secrets file (JSON): the value inside an array",
        value: MIXED,
        args: &["validate", "--secrets-file", "{FILE}", "{LOG}"],
        file: Some("{\"KEY\": [\"{V}\"]}"),
        refusal: &["entry 1: the value is not a string"],
    },
    Case {
        what: "secrets file (JSON): the value as a key of a nested object",
        value: SK,
        args: &["validate", "--secrets-file", "{FILE}", "{LOG}"],
        file: Some("{\"KEY\": {\"{V}\": 1}}"),
        refusal: &["entry 1: the value is not a string"],
    },
    Case {
        what: "secrets file (JSON): the value as a key (not a name)",
        value: MIXED,
        args: &["validate", "--secrets-file", "{FILE}", "{LOG}"],
        file: Some("{\"{V}\": \"x\"}"),
        refusal: &["entry 1: the name is not a valid name"],
    },
    Case {
        what: "secrets file (JSON): a number after the entry holding the value",
        value: SK,
        args: &["validate", "--secrets-file", "{FILE}", "{LOG}"],
        file: Some("{\"KEY\": \"{V}\", \"N\": 5}"),
        refusal: &["entry 2: the value is not a string"],
    },
    Case {
        what: "secrets file (JSON): an empty value next to the value",
        value: MIXED,
        args: &["validate", "--secrets-file", "{FILE}", "{LOG}"],
        file: Some("{\"EMPTY\": \"\", \"KEY\": \"{V}\"}"),
        refusal: &["line 1: entry 1: the value is empty"],
    },
    // proxy --secret
    Case {
        what: "proxy --secret: value and hosts without NAME=",
        value: MIXED,
        args: &["proxy", "--secret", "{V}@api.openai.com"],
        file: None,
        refusal: &["--secret #1: expected NAME=VALUE@hosts"],
    },
    Case {
        what: "proxy --secret: name with a dash",
        value: SK,
        args: &["proxy", "--secret", "OPENAI-KEY={V}@api.openai.com"],
        file: None,
        refusal: &["--secret #1: expected NAME=VALUE@hosts"],
    },
    Case {
        what: "proxy --secret: name starts with a digit",
        value: MIXED,
        args: &["proxy", "--secret", "1KEY={V}@api.openai.com"],
        file: None,
        refusal: &["--secret #1: expected NAME=VALUE@hosts"],
    },
    Case {
        what: "proxy --secret: empty value, the value where the hosts go",
        value: SK,
        args: &["proxy", "--secret", "KEY=@{V}"],
        file: None,
        refusal: &["--secret #1: the value after `=` is empty"],
    },
    Case {
        what: "proxy --secret: base64 value without NAME= (`=` padding)",
        value: B64,
        args: &["proxy", "--secret", "{V}@api.openai.com"],
        file: None,
        refusal: &["--secret #1: the value after `=` is empty"],
    },
    Case {
        what: "proxy --secret: base64 value without NAME= (`==` padding)",
        value: B64_PAD2,
        args: &["proxy", "--secret", "{V}@api.openai.com"],
        file: None,
        refusal: &["--secret #1: the value after `=` is only `=`"],
    },
    Case {
        what: "proxy --secret: name-shaped value without NAME= (no such variable)",
        value: NAME_LIKE,
        args: &["proxy", "--secret", "{V}@api.openai.com"],
        file: None,
        refusal: &["--secret #1: no `=` in the spec"],
    },
    Case {
        what: "proxy --secret: the second spec is the bad one",
        value: SK,
        args: &[
            "proxy",
            "--secret",
            "GOOD=good-value-0123456789@api.openai.com",
            "--secret",
            "{V}@api.openai.com",
        ],
        file: None,
        refusal: &["--secret #2: expected NAME=VALUE@hosts"],
    },
    Case {
        // Accepted today (empty list: every host) and stopped by the guard; soon refused.
        what: "proxy --secret: explicitly empty host list (`NAME=VALUE@`)",
        value: MIXED,
        args: &["proxy", "--secret", "KEY={V}@"],
        file: None,
        refusal: &["--secret #1", "--upstream-ca"],
    },
    Case {
        what: "proxy --secret: the same name twice",
        value: SK,
        args: &[
            "proxy",
            "--secret",
            "KEY={V}@api.openai.com",
            "--secret",
            "KEY={V}@api.anthropic.com",
        ],
        file: None,
        refusal: &["secret KEY is given twice"],
    },
    // clap's own refusals quote the argument: every argument that could be a secret is
    // replaced by its position.
    Case {
        what: "proxy: the spec without --secret",
        value: SK,
        args: &["proxy", "KEY={V}@api.openai.com"],
        file: None,
        refusal: &["unexpected argument '<argument #2>' found"],
    },
    Case {
        what: "no subcommand: the spec where the subcommand goes",
        value: MIXED,
        args: &["KEY={V}@api.openai.com"],
        file: None,
        refusal: &["unrecognized subcommand '<argument #1>'"],
    },
    Case {
        what: "validate --max-errors: the value where the number goes",
        value: SK,
        args: &["validate", "--max-errors", "{V}", "{LOG}"],
        file: None,
        refusal: &["invalid value '<argument #3>' for '--max-errors <N>'"],
    },
    Case {
        what: "validate --max-errors=: the value where the number goes",
        value: MIXED,
        args: &["validate", "--max-errors={V}", "{LOG}"],
        file: None,
        refusal: &["invalid value '<argument #2>' for '--max-errors <N>'"],
    },
    Case {
        what: "validate --secret: a value starting with `--` and holding `=` (taken for a flag)",
        value: MIXED,
        args: &["validate", "--secret", "--{V}=x", "{LOG}"],
        file: None,
        refusal: &["unexpected argument '<argument #3>' found"],
    },
    Case {
        what: "validate --format: the value where the format goes",
        value: SK,
        args: &["validate", "--format", "{V}", "{LOG}"],
        file: None,
        refusal: &["invalid value '<argument #3>' for '--format <FORMAT>'"],
    },
    // proxy --placeholder
    Case {
        what: "proxy --placeholder: the value without NAME=",
        value: SK,
        args: &[
            "proxy",
            "--secret",
            "KEY={V}@api.openai.com",
            "--placeholder",
            "{V}",
        ],
        file: None,
        refusal: &["--placeholder must be NAME=PLACEHOLDER"],
    },
    Case {
        what: "proxy --placeholder: the value as the placeholder",
        value: MIXED,
        args: &[
            "proxy",
            "--secret",
            "KEY={V}@api.openai.com",
            "--placeholder",
            "KEY={V}",
        ],
        file: None,
        refusal: &["placeholder of KEY overlaps a secret value"],
    },
    Case {
        what: "proxy --placeholder: empty placeholder",
        value: SK,
        args: &[
            "proxy",
            "--secret",
            "KEY={V}@api.openai.com",
            "--placeholder",
            "KEY=",
        ],
        file: None,
        refusal: &["--placeholder must be NAME=PLACEHOLDER"],
    },
    Case {
        what: "proxy --placeholder: placeholder with a space and the value",
        value: MIXED,
        args: &[
            "proxy",
            "--secret",
            "KEY=other-value-0123456789@api.openai.com",
            "--placeholder",
            "KEY=SANDBOX {V}",
        ],
        file: None,
        refusal: &["--placeholder must be NAME=PLACEHOLDER"],
    },
    Case {
        what: "proxy --placeholder: the value as the placeholder of an unknown name",
        value: SK,
        args: &[
            "proxy",
            "--secret",
            "KEY=other-value-0123456789@api.openai.com",
            "--placeholder",
            "OTHER={V}",
        ],
        file: None,
        refusal: &["--placeholder #1: the name before `=` is not the name of a configured secret"],
    },
    Case {
        what: "proxy --placeholder: a value containing `=` without NAME=",
        value: MIXED,
        args: &[
            "proxy",
            "--secret",
            "KEY=other-value-0123456789@api.openai.com",
            "--placeholder",
            "{V}",
        ],
        file: None,
        refusal: &["--placeholder #1: the name before `=` is not the name of a configured secret"],
    },
    // emit: it takes no secret, but --data and --summary may carry one.
    Case {
        what: "emit --data: not JSON (unterminated), holding the value",
        value: MIXED,
        args: &[
            "emit",
            "--event-log",
            "{DIR}/events.jsonl",
            "--run-id",
            "vm-1",
            "--agent-system",
            "a",
            "--event-type",
            "llm_request",
            "--data",
            "{\"authorization\": \"{V}\"",
        ],
        file: None,
        refusal: &["--data is not JSON"],
    },
    Case {
        what: "emit --data: an array holding the value",
        value: SK,
        args: &[
            "emit",
            "--event-log",
            "{DIR}/events.jsonl",
            "--run-id",
            "vm-1",
            "--agent-system",
            "a",
            "--event-type",
            "llm_request",
            "--data",
            "[\"{V}\"]",
        ],
        file: None,
        refusal: &["--data must be a JSON object"],
    },
    Case {
        what: "emit --data: a required field missing, the value in an unknown one",
        value: MIXED,
        args: &[
            "emit",
            "--event-log",
            "{DIR}/events.jsonl",
            "--run-id",
            "vm-1",
            "--agent-system",
            "a",
            "--event-type",
            "budget_action",
            "--data",
            "{\"authorization\": \"{V}\"}",
        ],
        file: None,
        refusal: &[
            "--data does not fit the budget_action data shape: /data/action: required field `action` is missing",
        ],
    },
    Case {
        what: "emit: empty tag, the value in the summary",
        value: SK,
        args: &[
            "emit",
            "--event-log",
            "{DIR}/events.jsonl",
            "--run-id",
            "vm-1",
            "--agent-system",
            "a",
            "--event-type",
            "custom",
            "--summary",
            "{V}",
            "--tag",
            "",
        ],
        file: None,
        refusal: &["tag 0 is empty"],
    },
    Case {
        what: "emit: empty event type, the value in the summary",
        value: MIXED,
        args: &[
            "emit",
            "--event-log",
            "{DIR}/events.jsonl",
            "--run-id",
            "vm-1",
            "--agent-system",
            "a",
            "--event-type",
            "",
            "--summary",
            "{V}",
        ],
        file: None,
        refusal: &["`event_type` is empty"],
    },
    Case {
        what: "emit --data: the value where an enum belongs",
        value: SK,
        args: &[
            "emit",
            "--event-log",
            "{DIR}/events.jsonl",
            "--run-id",
            "vm-1",
            "--agent-system",
            "a",
            "--event-type",
            "key_injection",
            "--data",
            "{\"secret_name\": \"K\", \"host\": \"h\", \"action\": \"{V}\"}",
        ],
        file: None,
        refusal: &[
            "--data does not fit the key_injection data shape: /data/action: value is not one of \"injected\", \"skipped\" or \"leak_blocked\"",
        ],
    },
    Case {
        what: "emit --data: the value where a number belongs, other fields missing",
        value: MIXED,
        args: &[
            "emit",
            "--event-log",
            "{DIR}/events.jsonl",
            "--run-id",
            "vm-1",
            "--agent-system",
            "a",
            "--event-type",
            "llm_response",
            "--data",
            "{\"method\": \"POST\", \"host\": \"h\", \"path\": \"/\", \"status_code\": \"{V}\"}",
        ],
        file: None,
        refusal: &[
            "--data does not fit the llm_response data shape: /data/duration_ms: required field `duration_ms` is missing; /data/body_bytes: required field `body_bytes` is missing; /data/status_code: value is not of type \"integer\"",
        ],
    },
    Case {
        what: "emit --data: the value where a number belongs",
        value: SK,
        args: &[
            "emit",
            "--event-log",
            "{DIR}/events.jsonl",
            "--run-id",
            "vm-1",
            "--agent-system",
            "a",
            "--event-type",
            "llm_response",
            "--data",
            "{\"method\": \"POST\", \"host\": \"h\", \"path\": \"/\", \"status_code\": \"{V}\", \"duration_ms\": 1, \"body_bytes\": 2}",
        ],
        file: None,
        refusal: &[
            "--data does not fit the llm_response data shape: /data/status_code: value is not of type \"integer\"",
        ],
    },
    Case {
        what: "emit --data: the value where a boolean belongs, on the second line",
        value: MIXED,
        args: &[
            "emit",
            "--event-log",
            "{DIR}/events.jsonl",
            "--run-id",
            "vm-1",
            "--agent-system",
            "a",
            "--event-type",
            "llm_request",
            "--data",
            "{\"method\": \"POST\", \"host\": \"h\", \"path\": \"/\",\n\"routed\": \"{V}\"}",
        ],
        file: None,
        refusal: &[
            "--data does not fit the llm_request data shape: /data/routed: value is not of type \"boolean\"",
        ],
    },
    Case {
        what: "emit --data: a number too large for its field, next to the value",
        value: SK,
        args: &[
            "emit",
            "--event-log",
            "{DIR}/events.jsonl",
            "--run-id",
            "vm-1",
            "--agent-system",
            "a",
            "--event-type",
            "llm_response",
            "--data",
            "{\"method\": \"POST\", \"host\": \"h\", \"path\": \"/{V}\", \"status_code\": 1e30, \"duration_ms\": 1, \"body_bytes\": 2}",
        ],
        file: None,
        refusal: &[
            "--data does not fit the llm_response data shape (at column 91: a value has the wrong type or is not one of the allowed values, or a field is given twice)",
        ],
    },
];

/// Every form of `value` an error message must not contain, with a label: the value, its
/// base64 (standard and URL-safe, padding optional), hex (both cases), percent-encoding
/// (every byte, or only the bytes outside the unreserved set; both cases), its Rust/JSON
/// escaped form, and every 8-byte piece of it (a message quoting the text before a `=` or
/// `@` leaks most of a value).
fn forms(value: &str) -> Vec<(String, String)> {
    use base64::engine::general_purpose::STANDARD_NO_PAD;
    assert!(value.is_ascii(), "case values are ASCII");
    let bytes = value.as_bytes();
    let percent = |all: bool, upper: bool| {
        let mut out = String::new();
        for &b in bytes {
            let unreserved = b.is_ascii_alphanumeric() || b"-._~".contains(&b);
            if unreserved && !all {
                out.push(char::from(b));
            } else if upper {
                let _ = write!(out, "%{b:02X}");
            } else {
                let _ = write!(out, "%{b:02x}");
            }
        }
        out
    };
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let debug = format!("{value:?}");
    let mut out = vec![
        ("value".to_owned(), value.to_owned()),
        ("base64".to_owned(), STANDARD_NO_PAD.encode(bytes)),
        ("base64url".to_owned(), URL_SAFE_NO_PAD.encode(bytes)),
        ("hex".to_owned(), hex.clone()),
        ("HEX".to_owned(), hex.to_ascii_uppercase()),
        ("percent (every byte)".to_owned(), percent(true, true)),
        (
            "percent (every byte, lower)".to_owned(),
            percent(true, false),
        ),
        ("percent".to_owned(), percent(false, true)),
        ("percent (lower)".to_owned(), percent(false, false)),
        ("escaped".to_owned(), debug[1..debug.len() - 1].to_owned()),
    ];
    for (i, piece) in bytes.windows(8).enumerate() {
        let piece = std::str::from_utf8(piece).expect("ASCII");
        out.push((format!("bytes {i}..{}", i + 8), piece.to_owned()));
    }
    out
}

/// The first form of `value` that `text` contains.
fn leak(text: &str, value: &str) -> Option<String> {
    forms(value)
        .into_iter()
        .find(|(_, form)| text.contains(form.as_str()))
        .map(|(label, _)| label)
}

/// Runs one case in `dir` (a fresh directory) and returns what is wrong, if anything.
fn run_case(case: &Case, dir: &std::path::Path, log: &std::path::Path) -> Option<String> {
    let file = dir.join("secrets.env");
    let expand = |s: &str| {
        s.replace("{V}", case.value)
            .replace("{LOG}", &log.display().to_string())
            .replace("{FILE}", &file.display().to_string())
            .replace("{DIR}", &dir.display().to_string())
    };
    if let Some(content) = case.file {
        let mut bytes = Vec::new();
        for (i, part) in content.split("{FF}").enumerate() {
            if i > 0 {
                bytes.push(0xFF);
            }
            bytes.extend_from_slice(expand(part).as_bytes());
        }
        std::fs::write(&file, bytes).expect("write secrets file");
    }
    let mut args: Vec<String> = case.args.iter().map(|a| expand(a)).collect();
    if case.args[0] == "proxy" {
        args.extend(PROXY_GUARD.iter().map(|a| expand(a)));
    }
    let out = assert_cmd::Command::cargo_bin("agentlog")
        .expect("binary")
        .args(&args)
        .env_clear()
        // Killed (and then reported below: no exit code) if it ever starts serving.
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() != Some(2) {
        return Some(format!(
            "exit status {} (expected 2, a usage error)",
            out.status
        ));
    }
    for (stream, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        if let Some(form) = leak(text, case.value) {
            return Some(format!("{stream} contains the secret ({form}): {text}"));
        }
    }
    if !case.refusal.iter().any(|r| stderr.contains(r)) {
        return Some(format!(
            "stderr names none of {:?} (refused for another reason?): {stderr}",
            case.refusal
        ));
    }
    None
}

/// Runs every case; panics listing every failing one.
fn run_table(cases: &[Case]) {
    let root = tempfile::tempdir().expect("tempdir");
    let log = root.path().join("clean.jsonl");
    std::fs::write(
        &log,
        r#"{"ts":"2026-02-24T23:03:15Z","run_id":"vm-abc","agent_system":"a","event_type":"llm_request","summary":"s","data":{"method":"POST","host":"h","path":"/","routed":false}}
"#,
    )
    .expect("write log");
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let dir = root.path().join(format!("case-{i}"));
        std::fs::create_dir(&dir).expect("case dir");
        if let Some(problem) = run_case(case, &dir, &log) {
            failures.push(format!("{}: {problem}", case.what));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// No error message of any subcommand that takes secrets (or text that may be one) contains
/// the secret value it was given, in any encoding, and every such invocation fails with a
/// usage error for the reason the case means.
#[test]
fn error_messages_never_contain_the_secret() {
    run_table(CASES);
}

/// The leak check itself finds each form, and nothing in an unrelated message.
#[test]
fn leak_check_finds_every_form() {
    let value = "Zq9/~XyW+s3cr3T=k";
    for (label, form) in forms(value) {
        let message = format!("agentlog: error: --secret #1: near {form}: bad");
        assert!(leak(&message, value).is_some(), "{label} not found");
    }
    assert_eq!(
        leak("--placeholder Zq9/~XyW+s3cr3T: no secret", value).as_deref(),
        Some("bytes 0..8")
    );
    assert_eq!(
        leak("Zq9%2F~XyW%2Bs3cr3T%3Dk", value).as_deref(),
        Some("percent")
    );
    assert_eq!(
        leak(
            "agentlog: error: --secret #1: expected NAME=VALUE@hosts or NAME@hosts",
            value
        ),
        None
    );
}

/// `agentlog analyze` prints names it copies from logs. A credential-shaped value (the
/// built-in detector) and a value supplied with `--secret` (raw, and percent-encoded once),
/// put in a ledger's tool, error class, agent and risk flag, in a sandbox log's host, model
/// and secret name, and in a file name, appear in no output (text, JSON, the HTML page,
/// stderr), in no encoding; the ordinary names next to them do.
#[test]
fn analyze_never_prints_a_secret() {
    let key = "sk-proj-Q7fL2mZx9RkT4vWb8NcY1hJd6GsPq3Ue5AoXi0Kr";
    let supplied = "Zq9~XyW+s3cr3T=k";
    let percent = "Zq9~XyW%2Bs3cr3T%3Dk";
    let dir = tempfile::tempdir().expect("tempdir");
    let ledger_line = |agent: &str, tool: &str, status: &str, class: &str, flag: &str| {
        format!(
            "{{\"ts\":1800000010,\"session_id\":\"s1\",\"agent\":\"{agent}\",\"tool\":\"{tool}\",\
             \"args_hash\":\"sha256:{}\",\"result_status\":\"{status}\",\"elapsed_ms\":5,\
             \"error_class\":\"{class}\",\"risk_flags\":[\"{flag}\"],\"artifacts\":[]}}\n",
            "0".repeat(64)
        )
    };
    let ledger = [
        ledger_line(
            "dev_agent",
            "web_fetch",
            "error",
            "ConnectionError",
            "path_denied",
        ),
        ledger_line("dev_agent", key, "error", &format!("E {key}"), supplied),
        ledger_line(supplied, percent, "denied", supplied, key),
        ledger_line(
            "ops_agent",
            "deploy",
            "denied",
            "PermissionError",
            "network_denied",
        ),
    ]
    .concat();
    let event = |event_type: &str, data: String| {
        format!(
            "{{\"ts\":\"2027-01-15T08:00:00.5Z\",\"run_id\":\"vm-1\",\"agent_system\":\"a\",\
             \"event_type\":\"{event_type}\",\"summary\":\"s\",\"data\":{data}}}\n"
        )
    };
    let mut sandbox = String::new();
    for (host, model, name) in [
        ("api.openai.com", "gpt-4o-mini", "OPENAI_API_KEY"),
        (key, percent, supplied),
        (supplied, key, key),
    ] {
        sandbox += &event(
            "llm_response",
            format!(
                "{{\"method\":\"POST\",\"host\":\"{host}\",\"path\":\"/v1\",\"status_code\":500,\
                 \"duration_ms\":100,\"body_bytes\":10,\"model\":\"{model}\",\
                 \"input_tokens\":10,\"output_tokens\":5}}"
            ),
        );
        sandbox += &event(
            "key_injection",
            format!(
                "{{\"secret_name\":\"{name}\",\"host\":\"{host}\",\"action\":\"leak_blocked\"}}"
            ),
        );
    }
    std::fs::write(dir.path().join("ledger.jsonl"), ledger).expect("write ledger");
    std::fs::write(dir.path().join(format!("{supplied}.jsonl")), sandbox).expect("write log");
    let html = dir.path().join("page.html");
    let mut outputs = Vec::new();
    for format in ["text", "json"] {
        let out = assert_cmd::Command::cargo_bin("agentlog")
            .expect("binary")
            .args(["analyze", "--format", format, "--html"])
            .arg(&html)
            .arg("--secret")
            .arg(format!("TOKEN={supplied}"))
            .arg(dir.path())
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0), "{format}: {out:?}");
        outputs.push((format, String::from_utf8_lossy(&out.stdout).into_owned()));
        outputs.push(("stderr", String::from_utf8_lossy(&out.stderr).into_owned()));
        let page = std::fs::read_to_string(&html).expect("page written");
        outputs.push(("html", page));
    }
    for (name, text) in &outputs {
        for value in [key, supplied] {
            assert_eq!(leak(text, value), None, "{name} output leaks a secret");
        }
        assert!(
            !text.contains(percent),
            "{name} output leaks the encoded secret"
        );
    }
    for (name, text) in outputs.iter().filter(|(name, _)| *name != "stderr") {
        assert!(text.contains("[redacted]"), "{name}: nothing withheld?");
        for ordinary in [
            "web_fetch",
            "ConnectionError",
            "ops_agent",
            "deploy",
            "api.openai.com",
            "gpt-4o-mini",
            "OPENAI_API_KEY",
            "ledger.jsonl",
        ] {
            assert!(text.contains(ordinary), "{name} output lost {ordinary}");
        }
    }
}
