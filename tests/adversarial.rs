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
#![allow(clippy::disallowed_macros)] // the suite prints its seed for its runner, not through the CLI's output gate.
//! An attacker's test suite of our own (issue 19, item 5): generated attacks on every command
//! and every format, against the promise that no secret value is printed.
//!
//! From a seeded RNG, secret values of realistic shapes (random text, all-digit card numbers
//! and PINs, OpenAI, GitHub and AWS keys) are written raw, in every encoding the scanner
//! documents, as JSON numbers, and split by control characters a terminal re-assembles. They
//! are put in every field and key of a sandbox event log (v0 and v1) and of a tool-call
//! ledger, in file and directory names (with `\`, `%`, `::stop-commands::`, newlines), in the
//! secrets file and in command-line arguments. The real binary runs: `validate` (5 formats,
//! and `--output`), `analyze` (text, JSON, HTML, and `--output`), `ledger log` and `ledger
//! retain`, `conformance` against a fake port that echoes secrets, `emit`, `schema`, the proxy
//! with hostile secret names at `-vv`, and `demo`. The secrets are always given through the
//! documented flags. For every run: no stdout, stderr or written file holds a secret value in
//! any encoding (the oracle in `adversarial/oracle.rs`, independent of the product's scanner),
//! no text output holds a raw control character, JSON parses, JUnit parses, SARIF validates
//! against the official 2.1.0 schema, and every line of the GitHub format is a workflow
//! command.
//!
//! Each test collects every failure and panics once at its end with the failures grouped by
//! class, each with its attacks and a command line to repeat one.
//!
//! Size: `AGENTLOG_ADVERSARIAL_CASES` cases per test (default 100: about a minute of debug build
//! in CI on 2 cores); `AGENTLOG_ADVERSARIAL_SEED` repeats a run (the seed is printed). Long
//! mode for a release check:
//!
//! ```text
//! AGENTLOG_ADVERSARIAL_CASES=2000 cargo test --release --test adversarial -- --nocapture
//! ```

#[path = "adversarial/gen.rs"]
mod gen_;
#[path = "adversarial/oracle.rs"]
mod oracle;
#[path = "adversarial/run.rs"]
mod run;

use std::ffi::OsString;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use gen_::{Enc, Encoded, Kind, Secret, Slot};
use oracle::Oracle;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom as _;
use rand::{Rng, SeedableRng};
use run::{Case, Failures, Kind as Out, agentlog, command_line};

fn cases() -> usize {
    std::env::var("AGENTLOG_ADVERSARIAL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

fn seed() -> u64 {
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| {
        let seed = std::env::var("AGENTLOG_ADVERSARIAL_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| rand::rng().random());
        eprintln!("adversarial: AGENTLOG_ADVERSARIAL_SEED={seed}");
        seed
    })
}

/// The RNG of one test: the run's seed mixed with the test's name.
fn rng(test: &str) -> StdRng {
    let mix = test.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    StdRng::seed_from_u64(seed() ^ mix)
}

fn os(s: impl AsRef<std::ffi::OsStr>) -> OsString {
    s.as_ref().to_owned()
}

/// How the secrets reach the command.
#[derive(Clone, Copy, Debug)]
enum Delivery {
    Flag,
    Env,
    Dotenv,
    JsonFile,
}

/// The secret arguments (and environment) for `secrets`, files written under `dir`.
fn secret_args(
    rng: &mut StdRng,
    secrets: &[Secret],
    dir: &Path,
) -> (Vec<OsString>, Vec<(String, String)>, String) {
    let delivery = *[
        Delivery::Flag,
        Delivery::Env,
        Delivery::Dotenv,
        Delivery::JsonFile,
    ]
    .choose(rng)
    .expect("one");
    let mut args = Vec::new();
    let mut env = Vec::new();
    match delivery {
        Delivery::Flag => {
            for s in secrets {
                args.push(os("--secret"));
                args.push(os(format!("{}={}", s.name, s.value)));
            }
        }
        Delivery::Env => {
            for s in secrets {
                args.push(os("--secret-env"));
                args.push(os(&s.name));
                env.push((s.name.clone(), s.value.clone()));
            }
        }
        Delivery::Dotenv | Delivery::JsonFile => {
            let path = dir.join("secrets.env");
            let text = if matches!(delivery, Delivery::Dotenv) {
                secrets
                    .iter()
                    .map(|s| format!("export {}=\"{}\"\n", s.name, s.value))
                    .collect::<String>()
            } else {
                let map: serde_json::Map<String, serde_json::Value> = secrets
                    .iter()
                    .map(|s| (s.name.clone(), s.value.clone().into()))
                    .collect();
                serde_json::to_string(&map).expect("json")
            };
            std::fs::write(&path, text).expect("secrets file");
            args.push(os("--secrets-file"));
            args.push(os(&path));
        }
    }
    (args, env, format!("{delivery:?}"))
}

/// Ordinary neighbours that spend a decode budget: a URL with `%2F` and `&amp;`, a MAC
/// address, a base64 blob.
const NEIGHBOURS: &str = "https://x.example/a%2Fb?c=1&amp;d=2 00:1a:2b:3c:4d:5e aGVsbG8gd29ybGQgaGVsbG8gd29ybGQgaGVsbG8= ";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    V0,
    V1,
    Ledger,
}

/// A generated log case on disk.
struct LogCase {
    secrets: Vec<Secret>,
    /// `encoding @ placement`.
    attack: String,
    /// Paths given to the command.
    inputs: Vec<PathBuf>,
    /// The extra arguments carrying the secrets, and their environment.
    secret_args: Vec<OsString>,
    env: Vec<(String, String)>,
    /// A line for the repro: where the value went.
    shown: String,
    /// No secret given: only built-in formats, raw or under an escaping, count.
    detector_only: bool,
}

impl LogCase {
    fn oracle(&self) -> Oracle {
        let values = values(&self.secrets);
        if self.detector_only {
            Oracle::raw_only(&values)
        } else {
            Oracle::new(&values)
        }
    }
}

fn encode_target(rng: &mut StdRng, target: &Secret, slot_is_number: bool) -> (Enc, Encoded) {
    let enc = if slot_is_number {
        Enc::Number
    } else {
        *gen_::STRING_ENCS.choose(rng).expect("one")
    };
    (enc, gen_::encode(rng, &target.value, enc))
}

/// An encoding of `target` short enough for one file name (255 bytes with a prefix).
fn encode_for_name(rng: &mut StdRng, target: &Secret) -> (Enc, Encoded) {
    loop {
        let (enc, e) = encode_target(rng, target, false);
        if e.text.len() <= 200 {
            return (enc, e);
        }
    }
}

fn secrets_for(rng: &mut StdRng, target_kind: Kind) -> Vec<Secret> {
    let mut secrets = vec![gen_::secret(rng, target_kind, "AL_SECRET_0".into())];
    for i in 1..rng.random_range(1..=3) {
        let kind = *gen_::KINDS.choose(rng).expect("one");
        secrets.push(gen_::secret(rng, kind, format!("AL_SECRET_{i}")));
    }
    secrets
}

fn log_case(rng: &mut StdRng, dir: &Path, family: Family) -> LogCase {
    let templates: &[&str] = match family {
        Family::V0 => &gen_::V0_EVENTS,
        Family::V1 => &gen_::V1_EVENTS,
        Family::Ledger => &gen_::LEDGER_RECORDS,
    };
    // One case in five gives no secret at all: built-in formats only, found by the
    // detector alone (which must withhold what it finds as well as the scanner does).
    let detector_only = rng.random_bool(0.2);
    let kind = if detector_only {
        *[Kind::OpenAi, Kind::Github, Kind::Aws]
            .choose(rng)
            .expect("one")
    } else {
        *gen_::KINDS.choose(rng).expect("one")
    };
    let secrets = if detector_only {
        vec![gen_::secret(rng, kind, "AL_SECRET_0".into())]
    } else {
        secrets_for(rng, kind)
    };
    let target = &secrets[0];
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).expect("logs dir");
    let clean: String = templates.iter().map(|t| format!("{t}\n")).collect();
    let (mut secret_args, env, delivery) = if detector_only {
        (Vec::new(), Vec::new(), "none: detector only".to_owned())
    } else {
        secret_args(rng, &secrets, dir)
    };
    let roll: f64 = rng.random();
    let prefix = *gen_::HOSTILE_NAME_PREFIXES.choose(rng).expect("one");
    let (attack, inputs, shown) = if roll < 0.12 {
        // The log's file name.
        let (enc, e) = encode_for_name(rng, target);
        let name = format!("{}.jsonl", gen_::file_name(prefix, &e.text));
        let path = logs.join(&name);
        std::fs::write(&path, &clean).expect("log");
        let input = if rng.random_bool(0.5) {
            path
        } else {
            logs.clone()
        };
        (
            format!("{enc:?} @ file name (prefix {prefix:?})"),
            vec![input],
            format!("file {name:?}"),
        )
    } else if roll < 0.2 {
        // A directory's name.
        let (enc, e) = encode_for_name(rng, target);
        let name = gen_::file_name(prefix, &e.text);
        let sub = logs.join(&name);
        std::fs::create_dir_all(&sub).expect("dir");
        std::fs::write(sub.join("events.jsonl"), &clean).expect("log");
        (
            format!("{enc:?} @ directory name (prefix {prefix:?})"),
            vec![logs.clone()],
            format!("dir {name:?}"),
        )
    } else if roll < 0.25 {
        // A path argument that does not exist.
        let (enc, e) = encode_for_name(rng, target);
        let name = format!("{}.jsonl", gen_::file_name(prefix, &e.text));
        (
            format!("{enc:?} @ missing path argument (prefix {prefix:?})"),
            vec![logs.join(&name)],
            format!("missing {name:?}"),
        )
    } else if roll < 0.29 {
        // A secrets file with a line that is not NAME=VALUE, holding the value.
        let path = dir.join("bad-secrets.env");
        std::fs::write(&path, format!("GOOD_NAME=goodvalue123\n{}\n", target.value))
            .expect("secrets file");
        secret_args.push(os("--secrets-file"));
        secret_args.push(os(&path));
        let log = logs.join("events.jsonl");
        std::fs::write(&log, &clean).expect("log");
        (
            "Raw @ secrets file line without `=`".to_owned(),
            vec![log],
            "bad-secrets.env: the value alone on a line".to_owned(),
        )
    } else {
        // A field or key of a record.
        let t = rng.random_range(0..templates.len());
        let slots = gen_::slots(templates[t]);
        let numeric = target.kind == Kind::Digits && rng.random_bool(0.5);
        let candidates: Vec<&Slot> = slots
            .iter()
            .filter(|s| matches!(s, Slot::Num(_)) == numeric)
            .collect();
        let slot = (*candidates.choose(rng).expect("a slot")).clone();
        let (enc, mut e) = encode_target(rng, target, numeric);
        let mut attack = format!("{enc:?} @ {}", slot.describe());
        if !numeric && rng.random_bool(0.2) {
            let inner = serde_json::to_string(NEIGHBOURS).expect("json");
            e.source = format!("{}{}", &inner[1..inner.len() - 1], e.source);
            attack += " +neighbours";
        }
        let line = gen_::fill(templates[t], &slot, &e);
        let mut text = String::new();
        for (i, tpl) in templates.iter().enumerate() {
            if i == t {
                text += &line;
            } else {
                text += tpl;
            }
            text.push('\n');
        }
        let log = logs.join(if family == Family::Ledger {
            "ledger.jsonl"
        } else {
            "events.jsonl"
        });
        std::fs::write(&log, text).expect("log");
        (attack, vec![log], format!("line {}: {line}", t + 1))
    };
    let kinds: Vec<String> = secrets.iter().map(|s| format!("{:?}", s.kind)).collect();
    LogCase {
        attack: format!("{family:?} {attack} [{} via {delivery}]", kinds.join("+")),
        secrets,
        inputs,
        secret_args,
        env,
        shown,
        detector_only,
    }
}

fn values(secrets: &[Secret]) -> Vec<String> {
    secrets.iter().map(|s| s.value.clone()).collect()
}

const FAMILIES: [Family; 3] = [Family::V0, Family::V1, Family::Ledger];

#[test]
fn validate_every_format_never_prints_a_secret() {
    let mut rng = rng("validate");
    let failures = Failures::default();
    for n in 0..cases() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let family = FAMILIES[n % FAMILIES.len()];
        let case = log_case(&mut rng, tmp.path(), family);
        let oracle = case.oracle();
        let out_file = tmp.path().join("report.out");
        let mut runs: Vec<(String, Vec<OsString>, Option<&str>)> =
            ["text", "json", "sarif", "junit", "github"]
                .iter()
                .map(|f| (f.to_string(), vec![os("--format"), os(f)], None))
                .collect();
        let f = *["text", "json", "sarif", "junit", "github"]
            .choose(&mut rng)
            .expect("one");
        runs.push((
            format!("{f} --output"),
            vec![os("--format"), os(f), os("--output"), os(&out_file)],
            Some(f),
        ));
        for (label, format_args, to_file) in runs {
            let mut args = vec![os("validate")];
            args.extend(format_args);
            args.extend(case.secret_args.iter().cloned());
            args.extend(case.inputs.iter().map(os));
            let c = Case {
                attack: case.attack.clone(),
                repro: format!(
                    "D=$(mktemp -d); # {} ; {}",
                    case.shown,
                    command_line(&args, &case.env, tmp.path())
                ),
                oracle: &oracle,
            };
            let out = agentlog(&args, &case.env);
            let format = to_file.unwrap_or(&label);
            let command = format!("validate --format {label}");
            match to_file {
                None => failures.check_run(&c, &command, &out, Out::of_validate(format)),
                Some(f) => {
                    failures.check_run(&c, &command, &out, Out::Text);
                    if let Ok(bytes) = std::fs::read(&out_file) {
                        failures.check(&c, &format!("{command} file"), Out::of_validate(f), &bytes);
                    }
                    let _ = std::fs::remove_file(&out_file);
                }
            }
        }
    }
    failures.finish("validate", seed());
}

#[test]
fn analyze_every_format_never_prints_a_secret() {
    let mut rng = rng("analyze");
    let failures = Failures::default();
    for n in 0..cases() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let family = FAMILIES[n % FAMILIES.len()];
        let case = log_case(&mut rng, tmp.path(), family);
        let oracle = case.oracle();
        let html = tmp.path().join("page.html");
        let out_file = tmp.path().join("report.json");
        let runs: [(&str, Vec<OsString>); 3] = [
            (
                "text --html",
                vec![os("--format"), os("text"), os("--html"), os(&html)],
            ),
            ("json", vec![os("--format"), os("json")]),
            (
                "json --output",
                vec![os("--format"), os("json"), os("--output"), os(&out_file)],
            ),
        ];
        for (label, format_args) in runs {
            let mut args = vec![os("analyze")];
            args.extend(format_args);
            args.extend(case.secret_args.iter().cloned());
            args.extend(case.inputs.iter().map(os));
            let c = Case {
                attack: case.attack.clone(),
                repro: format!(
                    "D=$(mktemp -d); # {} ; {}",
                    case.shown,
                    command_line(&args, &case.env, tmp.path())
                ),
                oracle: &oracle,
            };
            let out = agentlog(&args, &case.env);
            let command = format!("analyze --format {label}");
            let stdout_kind = match label {
                "text --html" => Out::Text,
                "json" => Out::Json,
                _ => Out::Text,
            };
            failures.check_run(&c, &command, &out, stdout_kind);
            if label == "text --html"
                && let Ok(bytes) = std::fs::read(&html)
            {
                failures.check(&c, "analyze --html page", Out::Html, &bytes);
                let _ = std::fs::remove_file(&html);
            }
            if label == "json --output"
                && let Ok(bytes) = std::fs::read(&out_file)
            {
                failures.check(&c, "analyze --format json --output file", Out::Json, &bytes);
                let _ = std::fs::remove_file(&out_file);
            }
        }
    }
    failures.finish("analyze", seed());
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A secret in a built-in format (the only kind a command without `--secret` can know).
fn builtin(rng: &mut StdRng, name: &str) -> Secret {
    let kind = *[Kind::OpenAi, Kind::Github, Kind::Aws]
        .choose(rng)
        .expect("one");
    gen_::secret(rng, kind, name.into())
}

#[test]
fn ledger_commands_never_print_a_secret() {
    let mut rng = rng("ledger");
    let failures = Failures::default();
    for _ in 0..cases() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("ledger");
        let mut base: Vec<(&str, String)> = vec![
            ("--agent", "dev_agent".into()),
            ("--tool", "web_fetch".into()),
            ("--args-json", r#"{"url":"https://example.com"}"#.into()),
            ("--status", "error".into()),
            ("--error-class", "ConnectionError".into()),
            ("--risk-flag", "network_denied".into()),
            ("--artifact", "src/a.py".into()),
            ("--session-id", "s1".into()),
            ("--now", "2026-11-23T12:00:00Z".into()),
            ("--elapsed-ms", "5".into()),
        ];
        // Where the value goes: a record field, an argument the command refuses, the
        // directory (built-in formats: the command has no --secret, so only a value it can
        // recognise counts, raw or under an escaping), or the hashed arguments (any value in
        // any encoding: they are never stored nor printed).
        const FIELDS: [&str; 5] = [
            "--agent",
            "--tool",
            "--error-class",
            "--artifact",
            "--session-id",
        ];
        const REFUSED: [&str; 6] = [
            "--status",
            "--risk-flag",
            "--args-hash",
            "--hash-form",
            "--now",
            "--elapsed-ms",
        ];
        let roll = rng.random_range(0..4);
        let (secret, flag) = match roll {
            0 => (
                builtin(&mut rng, "FIELD"),
                *FIELDS.choose(&mut rng).expect("one"),
            ),
            1 => {
                let kind = *gen_::KINDS.choose(&mut rng).expect("one");
                (gen_::secret(&mut rng, kind, "ARGS".into()), "--args-json")
            }
            2 => (
                builtin(&mut rng, "REFUSED"),
                *REFUSED.choose(&mut rng).expect("one"),
            ),
            _ => (builtin(&mut rng, "DIR"), "--dir"),
        };
        let (enc, e) = encode_target(&mut rng, &secret, false);
        let mut dir_arg = dir.clone();
        match flag {
            "--args-json" => {
                let json = if rng.random_bool(0.2) {
                    // Not JSON: the parser's message must not quote it.
                    format!("{{\"k\": {}", e.text)
                } else {
                    format!(
                        r#"{{"api_key":"{}","{}":[1,"{}"]}}"#,
                        e.source, e.source, e.source
                    )
                };
                base.retain(|(f, _)| *f != "--args-json");
                base.push(("--args-json", json));
            }
            "--dir" => {
                let prefix = *gen_::HOSTILE_NAME_PREFIXES.choose(&mut rng).expect("one");
                dir_arg = tmp.path().join(gen_::file_name(prefix, &e.text));
            }
            "--args-hash" => {
                base.retain(|(f, _)| *f != "--args-json");
                base.push(("--args-hash", format!("sha256:{}", e.text)));
            }
            _ => {
                base.retain(|(f, _)| *f != flag);
                base.push((flag, e.text.clone()));
            }
        }
        let oracle = if flag == "--args-json" {
            Oracle::new(std::slice::from_ref(&secret.value))
        } else {
            Oracle::raw_only(std::slice::from_ref(&secret.value))
        };
        let mut args = vec![os("ledger"), os("log"), os("--dir"), os(&dir_arg)];
        for (f, v) in &base {
            args.push(os(f));
            args.push(os(v));
        }
        let c = Case {
            attack: format!("{enc:?} @ ledger log {flag} [{:?}]", secret.kind),
            repro: format!("D=$(mktemp -d); {}", command_line(&args, &[], tmp.path())),
            oracle: &oracle,
        };
        let out = agentlog(&args, &[]);
        failures.check_run(&c, "ledger log", &out, Out::JsonLines);
        // The ledger's own files: the arguments are never stored, and a refused call
        // writes nothing.
        if flag == "--args-json" || roll == 2 {
            for file in files_under(tmp.path()) {
                if let Ok(bytes) = std::fs::read(&file) {
                    failures.check(&c, "ledger log written file", Out::Data, &bytes);
                }
            }
        }

        // Retention over an old day that holds the value in a record and in a broken line,
        // under a hostile directory name.
        let prefix = *gen_::HOSTILE_NAME_PREFIXES.choose(&mut rng).expect("one");
        let key = builtin(&mut rng, "RETAIN");
        let (enc, e) = encode_for_name(&mut rng, &key);
        let rdir = tmp
            .path()
            .join(gen_::file_name(prefix, &format!("r{}", e.text)));
        std::fs::create_dir_all(&rdir).expect("dir");
        let slots = gen_::slots(gen_::LEDGER_RECORDS[0]);
        let slot = slots
            .iter()
            .filter(|s| matches!(s, Slot::Str(_) | Slot::Key(_)))
            .collect::<Vec<_>>()
            .choose(&mut rng)
            .map(|s| (*s).clone())
            .expect("slot");
        let line =
            gen_::fill(gen_::LEDGER_RECORDS[0], &slot, &e).replace("1800000010", "1767225600");
        std::fs::write(
            rdir.join("events_20260101.jsonl"),
            format!("{line}\n{{\"broken\": \"{}\n", e.source),
        )
        .expect("day");
        let oracle = Oracle::raw_only(std::slice::from_ref(&key.value));
        for dry in [true, false] {
            let mut args = vec![
                os("ledger"),
                os("retain"),
                os(&rdir),
                os("--now"),
                os("2026-03-01T00:00:00Z"),
            ];
            if dry {
                args.push(os("--dry-run"));
            }
            let c = Case {
                attack: format!(
                    "{enc:?} @ ledger retain: {} and a broken line, dir prefix {prefix:?} [{:?}]",
                    slot.describe(),
                    key.kind
                ),
                repro: format!(
                    "D=$(mktemp -d); # {line} ; {}",
                    command_line(&args, &[], tmp.path())
                ),
                oracle: &oracle,
            };
            let out = agentlog(&args, &[]);
            failures.check_run(
                &c,
                if dry {
                    "ledger retain --dry-run"
                } else {
                    "ledger retain"
                },
                &out,
                Out::Text,
            );
        }
    }
    failures.finish("ledger", seed());
}

#[test]
fn conformance_harness_never_prints_what_a_port_echoes() {
    let mut rng = rng("conformance");
    let failures = Failures::default();
    let case_log = include_str!("../conformance/logs/auto_shared_only.jsonl");
    let case_json = include_str!("../conformance/logs/auto_shared_only.json");
    for n in 0..cases().div_ceil(2) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let secret = builtin(&mut rng, "PORT");
        let (enc, e) = encode_target(&mut rng, &secret, false);
        let other = builtin(&mut rng, "NAME");
        let (name_enc, name_e) = encode_for_name(&mut rng, &other);
        let prefix = *gen_::HOSTILE_NAME_PREFIXES.choose(&mut rng).expect("one");
        let cases_dir = tmp.path().join("cases");
        std::fs::create_dir_all(&cases_dir).expect("dir");
        let stem = gen_::file_name(prefix, &name_e.text);
        std::fs::write(cases_dir.join(format!("{stem}.jsonl")), case_log).expect("log");
        std::fs::write(cases_dir.join(format!("{stem}.json")), case_json).expect("json");
        // The fake port: a report that is wrong and names the value, and the value on stderr.
        let report = format!(
            r#"{{"files":[{{"path":"{0}","findings":[{{"line":2,"rule":"{0}","severity":"error","message":"{0}","pointer":"/{0}"}}]}}],"summary":{{"{0}":1}}}}"#,
            e.source
        );
        let port = tmp.path().join("port.sh");
        let stdout_text = match n % 3 {
            0 => report,
            1 => format!("not json {}", e.text),
            _ => format!("{{\"files\": \"{}\"}}", e.source),
        };
        std::fs::write(tmp.path().join("stdout.txt"), &stdout_text).expect("stdout");
        std::fs::write(
            tmp.path().join("stderr.txt"),
            format!("error: key {} rejected\n", e.text),
        )
        .expect("stderr");
        std::fs::write(
            &port,
            format!(
                "cat {}\ncat {} >&2\nexit {}\n",
                run::quote(&tmp.path().join("stdout.txt").to_string_lossy()),
                run::quote(&tmp.path().join("stderr.txt").to_string_lossy()),
                n % 2
            ),
        )
        .expect("port");
        let oracle = Oracle::raw_only(&[secret.value.clone(), other.value.clone()]);
        for format in ["text", "json", "junit"] {
            let args = vec![
                os("conformance"),
                os("--cases"),
                os(&cases_dir),
                os("--cmd"),
                os(format!(
                    "sh {} {{log}}",
                    run::quote(&port.to_string_lossy())
                )),
                os("--format"),
                os(format),
            ];
            let c = Case {
                attack: format!(
                    "port echoes {enc:?} [{:?}]; case named {name_enc:?} (prefix {prefix:?})",
                    secret.kind
                ),
                repro: format!(
                    "D=$(mktemp -d); # port stdout {stdout_text:?}; stderr {:?}; {}",
                    e.text,
                    command_line(&args, &[], tmp.path())
                ),
                oracle: &oracle,
            };
            let out = agentlog(&args, &[]);
            let kind = match format {
                "text" => Out::Text,
                "json" => Out::Json,
                _ => Out::Junit,
            };
            failures.check_run(&c, &format!("conformance --format {format}"), &out, kind);
        }
    }
    failures.finish("conformance", seed());
}

#[test]
fn emit_and_schema_errors_never_print_a_secret() {
    let mut rng = rng("emit");
    let failures = Failures::default();
    for _ in 0..cases() {
        let tmp = tempfile::tempdir().expect("tempdir");
        // `--data` is never quoted (src/cli/emit.rs), so any value in any encoding counts
        // there; a path, a run id or a schema name can only be recognised as a built-in
        // credential format (emit and schema have no --secret).
        let which = rng.random_range(0..6);
        let data = matches!(which, 1 | 2 | 4 | 5);
        let kind = if data {
            *gen_::KINDS.choose(&mut rng).expect("one")
        } else {
            *[Kind::OpenAi, Kind::Github, Kind::Aws]
                .choose(&mut rng)
                .expect("one")
        };
        let secret = gen_::secret(&mut rng, kind, "S".into());
        let (enc, e) = if which == 3 {
            encode_for_name(&mut rng, &secret)
        } else {
            encode_target(&mut rng, &secret, false)
        };
        let log = tmp.path().join("events.jsonl");
        let good = |log: &Path| -> Vec<(String, OsString)> {
            vec![
                ("--event-log".into(), os(log)),
                ("--run-id".into(), os("vm-1")),
                ("--agent-system".into(), os("agent")),
                ("--event-type".into(), os("llm_request")),
                (
                    "--data".into(),
                    os(
                        r#"{"method":"POST","host":"api.openai.com","path":"/v1/chat/completions","routed":false}"#,
                    ),
                ),
            ]
        };
        let mut args_list = good(&log);
        let what = match which {
            0 => {
                // A run id that is not a safe path segment.
                args_list[1].1 = os(format!("../{}/x", e.text));
                "--run-id not a path segment"
            }
            1 => {
                // --data of the wrong type for a known event type.
                args_list[4].1 = os(format!(
                    r#"{{"method":{{"{0}":1}},"host":["{0}"],"path":"{0}","routed":"{0}"}}"#,
                    e.source
                ));
                "--data wrong types"
            }
            2 => {
                args_list[4].1 = os(format!(r#"{{"method":"POST","host":"{}"#, e.source));
                "--data not JSON"
            }
            3 => {
                args_list[0].1 = {
                    // A directory where the log file should be.
                    let d = tmp.path().join(gen_::file_name("", &e.text));
                    std::fs::create_dir_all(&d).expect("dir");
                    os(d)
                };
                "--event-log is a directory named by the value"
            }
            4 => {
                args_list[4].1 = os(format!(
                    r#"{{"method":"POST","host":"h","path":"/","routed":false,"{}":1}}"#,
                    e.source
                ));
                "--data unknown key"
            }
            _ => {
                args_list[3].1 = os("budget_action");
                args_list[4].1 = os(format!(r#"{{"action":"{}","tokens_used":1}}"#, e.source));
                "--data bad enum value"
            }
        };
        let mut args = vec![os("emit")];
        for (f, v) in args_list {
            args.push(os(f));
            args.push(v);
        }
        let oracle = if data {
            Oracle::new(std::slice::from_ref(&secret.value))
        } else {
            Oracle::raw_only(std::slice::from_ref(&secret.value))
        };
        let c = Case {
            attack: format!("{enc:?} @ emit {what} [{kind:?}]"),
            repro: format!("D=$(mktemp -d); {}", command_line(&args, &[], tmp.path())),
            oracle: &oracle,
        };
        let out = agentlog(&args, &[]);
        failures.check_run(&c, "emit", &out, Out::Text);

        let key = builtin(&mut rng, "S");
        let (enc, e) = encode_target(&mut rng, &key, false);
        let kind = key.kind;
        let oracle = Oracle::raw_only(std::slice::from_ref(&key.value));
        let schema_args: Vec<OsString> = match rng.random_range(0..3) {
            0 => vec![os("schema"), os(&e.text)],
            1 => vec![os("schema"), os("--profile"), os(&e.text)],
            _ => vec![
                os("schema"),
                os("--bundle"),
                os("--profile"),
                os("v1"),
                os(&e.text),
            ],
        };
        let c = Case {
            attack: format!(
                "{enc:?} @ {} [{kind:?}]",
                schema_args[1].to_string_lossy().replace(&e.text, "<V>")
            ),
            repro: command_line(&schema_args, &[], tmp.path()),
            oracle: &oracle,
        };
        let out = agentlog(&schema_args, &[]);
        failures.check_run(&c, "schema", &out, Out::Text);
    }
    failures.finish("emit and schema", seed());
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Names a proxy secret may be given that attack its output.
const HOSTILE_SECRET_NAMES: [&str; 8] = [
    "NAME\nagentlog: forged line",
    "::stop-commands::x",
    "RED\u{1b}[31mNAME",
    "BIDI\u{202e}EMAN",
    "BS\u{8}\u{8}X",
    "TAB\tNAME",
    "CR\rNAME",
    "OK_NAME",
];

#[test]
fn proxy_with_hostile_names_at_vv_never_prints_a_secret() {
    let mut rng = rng("proxy");
    let failures = Failures::default();
    for n in 0..cases().div_ceil(4) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let kind = *gen_::KINDS.choose(&mut rng).expect("one");
        let secret = gen_::secret(&mut rng, kind, "".into());
        let other = builtin(&mut rng, "");
        // The name: hostile text, or another secret's value.
        let name = if n % 3 == 2 {
            other.value.clone()
        } else {
            HOSTILE_SECRET_NAMES[n % HOSTILE_SECRET_NAMES.len()].to_owned()
        };
        let placeholder = format!("SANDBOX_SECRET_{:032x}", rng.random::<u128>());
        let port = free_port();
        let dead = free_port();
        let log = tmp.path().join("events.jsonl");
        let args = vec![
            os("-vv"),
            os("proxy"),
            os("--listen"),
            os(format!("127.0.0.1:{port}")),
            os("--event-log"),
            os(&log),
            os("--ca-dir"),
            os(tmp.path().join("ca")),
            os("--secret"),
            os(format!("{name}={}@127.0.0.1", secret.value)),
            os("--placeholder"),
            os(format!("{name}={placeholder}")),
            os("--secret"),
            os(format!("OTHER_KEY={}@api.example.com", other.value)),
            os("--allow-cleartext-injection"),
            os("--shutdown-grace"),
            os("1s"),
        ];
        let oracle = Oracle::new(&[secret.value.clone(), other.value.clone()]);
        let c = Case {
            attack: format!(
                "secret name {:?} [{:?}], requests carry the placeholder and the raw values",
                if n % 3 == 2 {
                    "<another secret's value>"
                } else {
                    name.as_str()
                },
                secret.kind
            ),
            repro: format!("D=$(mktemp -d); {}", command_line(&args, &[], tmp.path())),
            oracle: &oracle,
        };
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("agentlog"))
            .args(&args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn proxy");
        let mut stdout = child.stdout.take().expect("stdout");
        let mut stderr = child.stderr.take().expect("stderr");
        let out_t = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = stdout.read_to_end(&mut v);
            v
        });
        let err_t = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = stderr.read_to_end(&mut v);
            v
        });
        let start = Instant::now();
        let mut listening = false;
        while start.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                listening = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if listening {
            let b64 =
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &secret.value);
            let pct: String = secret.value.bytes().map(|b| format!("%{b:02X}")).collect();
            for request in [
                format!(
                    "POST http://127.0.0.1:{dead}/v1/x?k={} HTTP/1.1\r\nHost: 127.0.0.1:{dead}\r\nAuthorization: Bearer {placeholder}\r\nX-Raw: {}\r\nX-B64: {b64}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                    pct,
                    secret.value,
                    secret.value.len(),
                    secret.value
                ),
                format!(
                    "GET http://api.example.com:{dead}/{}?{b64} HTTP/1.1\r\nHost: api.example.com:{dead}\r\nX-Key: {}\r\nConnection: close\r\n\r\n",
                    secret.value, other.value
                ),
            ] {
                if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(15)));
                    let _ = s.write_all(request.as_bytes());
                    let mut response = Vec::new();
                    let _ = s.read_to_end(&mut response);
                    failures.check(&c, "proxy response to the client", Out::Data, &response);
                }
            }
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Ok(Some(status)) = child.try_wait() {
                break Some(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let out = run::Output {
            code: status.and_then(|s| s.code()),
            timed_out: status.is_none(),
            stdout: out_t.join().expect("stdout"),
            stderr: err_t.join().expect("stderr"),
        };
        // Killed by SIGTERM is not a crash: the proxy stops on it.
        let out = run::Output {
            code: out.code.or(Some(0)),
            ..out
        };
        failures.check_run(&c, "proxy -vv", &out, Out::Text);
        if let Ok(bytes) = std::fs::read(&log) {
            failures.check(&c, "proxy event log", Out::JsonLines, &bytes);
        }
    }
    failures.finish("proxy", seed());
}

#[test]
fn demo_never_prints_its_keys() {
    let failures = Failures::default();
    // The demo's own fake keys (src/cli/demo.rs), which it hands the proxy as secrets.
    let oracle = Oracle::new(&[
        "sk-demo-openai-not-a-real-key-4f1d".to_owned(),
        "sk-ant-demo-not-a-real-key-93c2".to_owned(),
    ]);
    for (profile, verbose) in [("v0", false), ("v1", true)] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut args = Vec::new();
        if verbose {
            args.push(os("-vv"));
        }
        args.extend([
            os("demo"),
            os("--out"),
            os(tmp.path()),
            os("--profile"),
            os(profile),
        ]);
        let c = Case {
            attack: format!(
                "demo --profile {profile}{}",
                if verbose { " -vv" } else { "" }
            ),
            repro: command_line(&args, &[], tmp.path()),
            oracle: &oracle,
        };
        let out = agentlog(&args, &[]);
        failures.check_run(&c, "demo", &out, Out::Text);
        for file in files_under(tmp.path()) {
            if let Ok(bytes) = std::fs::read(&file) {
                failures.check(&c, "demo written file", Out::Data, &bytes);
            }
        }
    }
    failures.finish("demo", seed());
}

/// The oracle finds what it must, so a pass means something.
#[test]
fn oracle_finds_every_form_and_control() {
    let mut rng = rng("oracle");
    for _ in 0..50 {
        let kind = *gen_::KINDS.choose(&mut rng).expect("one");
        let s = gen_::secret(&mut rng, kind, "X".into());
        let oracle = Oracle::new(std::slice::from_ref(&s.value));
        for enc in gen_::STRING_ENCS {
            let e = gen_::encode(&mut rng, &s.value, enc);
            if matches!(enc, Enc::SplitNewline) {
                continue;
            }
            // A carriage return re-assembles the value only at a line's start.
            let quoted = format!("\"{}\"", e.source);
            let texts = if enc == Enc::SplitCr {
                vec![&e.text]
            } else {
                vec![&e.text, &quoted]
            };
            for text in texts {
                assert!(
                    oracle.leak(text.as_bytes()).is_some(),
                    "{enc:?} of {:?} missed in {text:?}",
                    s.value
                );
            }
        }
        assert!(
            oracle
                .leak(b"nothing to see, 1,234 and 0xdeadbeef")
                .is_none()
        );
    }
    assert!(oracle::control(b"a\x08b").is_some());
    assert!(oracle::control("a\u{202e}b".as_bytes()).is_some());
    assert!(oracle::control(b"a\nb\n").is_none());
    assert!(oracle::github(b"::error::x\nplain\n").is_some());
    assert!(oracle::github(b"::error::x\n::notice::y\n").is_none());
    assert!(oracle::sarif(br#"{"version":"2.1.0"}"#).is_some());
    assert!(oracle::junit(b"<testsuites><oops").is_some());
}
