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
#![allow(clippy::disallowed_macros)] // a test prints for its runner, not through the CLI's output gate.
//! The Go port of the seed's `pkg/logging` (`examples/ports/go/`, standard library only):
//! its own tests (`go test ./...`, `gofmt`, `go vet`), its golden files against agentlog's
//! (`testdata/golden/`, byte for byte), and its validator through the validator harness and
//! against the reference validator's findings, pointers and exit codes on every case.
//!
//! Go is needed (Debian's `golang-go`, 1.19). Without it these tests say so and pass
//! locally, but fail when `CI` or `AGENTLOG_REQUIRE_GO` is set (`.ci/run` sets the latter
//! and installs Go when missing), so CI can never report the port as checked without Go.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Instant;

use agentlog_conformance::select::Unsupported;
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn port_dir() -> PathBuf {
    root().join("examples/ports/go")
}

/// Whether Go must be there: on CI, or when asked.
fn go_required() -> bool {
    ["CI", "AGENTLOG_REQUIRE_GO"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

/// `go`, configured offline with its caches under the target directory; `None` (skip) when
/// Go is missing and not required.
fn go() -> Option<Command> {
    let found = Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            !go_required(),
            "go is required (CI or AGENTLOG_REQUIRE_GO is set) but not on PATH: install golang-go"
        );
        eprintln!("go not installed: the Go port's checks are skipped");
        return None;
    }
    let mut cmd = Command::new("go");
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    cmd.current_dir(port_dir())
        .env("GOCACHE", tmp.join("go-build-cache"))
        .env("GOPATH", tmp.join("gopath"))
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-mod=mod")
        .env("GO111MODULE", "on");
    Some(cmd)
}

fn run_ok(mut cmd: Command, what: &str) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The port's validator, built once per test run.
fn validator() -> Option<&'static Path> {
    static BUILT: OnceLock<Option<PathBuf>> = OnceLock::new();
    built("validate", &BUILT)
}

/// The port's writer command (`cmd/emit`), built once per test run.
fn emitter() -> Option<&'static Path> {
    static BUILT: OnceLock<Option<PathBuf>> = OnceLock::new();
    built("emit", &BUILT)
}

/// The port's command `./cmd/NAME`, built into the test's scratch directory the first time
/// it is asked for (`once` keeps it); `None` when Go is missing and not required.
fn built(name: &str, once: &'static OnceLock<Option<PathBuf>>) -> Option<&'static Path> {
    // One `go build` at a time: they share the module's caches.
    static LOCK: Mutex<()> = Mutex::new(());
    let _one = LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    once.get_or_init(|| {
        let mut cmd = go()?;
        let bin = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("go-port-{name}"));
        cmd.args(["build", "-o"])
            .arg(&bin)
            .arg(format!("./cmd/{name}"));
        run_ok(cmd, &format!("go build ./cmd/{name}"));
        Some(bin)
    })
    .as_deref()
}

#[test]
fn go_port_unit_tests_vet_and_gofmt() {
    let Some(mut test) = go() else { return };
    test.args(["test", "-count=1", "./..."]);
    run_ok(test, "go test ./...");
    let mut vet = go().unwrap();
    vet.args(["vet", "./..."]);
    run_ok(vet, "go vet ./...");
    let unformatted = Command::new("gofmt")
        .arg("-l")
        .arg(port_dir())
        .output()
        .unwrap();
    assert!(unformatted.status.success());
    assert_eq!(
        String::from_utf8_lossy(&unformatted.stdout),
        "",
        "gofmt -l lists files"
    );
}

/// The body of an insta snapshot: what follows its header's closing `---` line.
fn snapshot_body(text: &str) -> &str {
    let after_open = text.strip_prefix("---\n").expect("snapshot header");
    let end = after_open.find("\n---\n").expect("header end");
    &after_open[end + 5..]
}

/// Every golden file of the port equals agentlog's snapshot of the same name byte for byte,
/// and every v0 snapshot has its Go golden file. Needs no Go: the files are compared.
#[test]
fn go_golden_files_equal_agentlogs() {
    let golden_dir = port_dir().join("pkg/logging/testdata");
    let mut compared = Vec::new();
    for entry in std::fs::read_dir(&golden_dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        assert_eq!(path.extension().unwrap(), "golden", "{}", path.display());
        let snap = root().join(format!("testdata/golden/{name}.snap"));
        let snap = std::fs::read_to_string(&snap)
            .unwrap_or_else(|e| panic!("{name}: no agentlog snapshot: {e}"));
        let go = std::fs::read_to_string(&path).unwrap();
        assert_eq!(go, snapshot_body(&snap), "{name} differs from agentlog's");
        compared.push(name);
    }
    let v0: Vec<String> = std::fs::read_dir(root().join("testdata/golden"))
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            p.file_stem().unwrap().to_str().unwrap().to_owned()
        })
        .filter(|n| {
            ["llm_", "budget_", "key_", "go_reference"]
                .iter()
                .any(|p| n.starts_with(p))
        })
        .collect();
    for name in &v0 {
        assert!(compared.contains(name), "no Go golden file for {name}");
    }
    assert_eq!(compared.len(), 12, "{compared:?}");
}

/// `agentlog conformance validate --cmd ...` against the Go validator: every case passes
/// but the declared ones.
#[test]
fn go_validator_passes_the_validator_harness() {
    let Some(bin) = validator() else { return };
    let template = format!("{} {{flags}} {{log}}", bin.display());
    let list = port_dir().join("unsupported-validate.txt");
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_agentlog"))
        .args([
            "conformance",
            "validate",
            "--cmd",
            &template,
            "--unsupported-from",
        ])
        .arg(&list)
        .output()
        .unwrap();
    let wall = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let count = |verdict: &str| {
        stdout
            .lines()
            .filter(|l| l.split_whitespace().next() == Some(verdict))
            .count()
    };
    let total = agentlog_conformance::cases::manifest()
        .unwrap()
        .iter()
        .filter(|e| e.kind == agentlog_conformance::cases::Kind::Validate)
        .count();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(count("FAIL"), 0, "{stdout}");
    assert_eq!(count("PASS") + count("UNSUPPORTED"), total, "{stdout}");
    assert!(count("PASS") >= 35, "{stdout}");
    eprintln!(
        "{} (harness wall time {:.2?})",
        stdout.lines().last().unwrap_or_default(),
        wall
    );
}

/// `agentlog validate` flags for a case's options, as the harness writes them.
fn flags(options: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p) = options.get("profile").and_then(Value::as_str) {
        out.extend(["--profile".to_owned(), p.to_owned()]);
    }
    if options.get("unknown_types").and_then(Value::as_str) == Some("warn") {
        out.extend(["--unknown-types".to_owned(), "warn".to_owned()]);
    }
    if options.get("allow_empty") == Some(&Value::Bool(true)) {
        out.push("--allow-empty".to_owned());
    }
    if options.get("builtin_detectors") == Some(&Value::Bool(false)) {
        out.push("--no-builtin-detectors".to_owned());
    }
    if let Some(Value::Object(secrets)) = options.get("secrets") {
        for (name, value) in secrets {
            out.push("--secret".to_owned());
            out.push(format!("{name}={}", value.as_str().unwrap()));
        }
    }
    out
}

type Findings = Vec<(u64, String, String, Option<String>)>;

/// Exit code, stdout+stderr, and the findings of a JSON report (`None` if there is none).
fn findings(cmd: &mut Command) -> (i32, String, Option<(u64, Findings)>) {
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let report = serde_json::from_slice::<Value>(&out.stdout).ok().map(|r| {
        let mut lines = 0;
        let mut found: Findings = Vec::new();
        for file in r["files"].as_array().unwrap() {
            lines += file["lines"].as_u64().unwrap();
            for f in file["findings"].as_array().unwrap() {
                found.push((
                    f["line"].as_u64().unwrap(),
                    f["rule"].as_str().unwrap().to_owned(),
                    f["severity"].as_str().unwrap().to_owned(),
                    f.get("pointer").and_then(Value::as_str).map(str::to_owned),
                ));
            }
        }
        found.sort();
        (lines, found)
    });
    (out.status.code().unwrap_or(-1), text, report)
}

/// On every validator case, the Go validator gives the reference's exit code, line count
/// and findings with their pointers, or refuses the case (exit 2, a message on stderr) when
/// its list declares it unsupported. No secret value of a case appears in its output.
#[test]
fn go_validator_agrees_with_the_reference_on_every_case() {
    let Some(bin) = validator() else { return };
    let unsupported = Unsupported::read_list(&port_dir().join("unsupported-validate.txt")).unwrap();
    let logs = root().join("conformance/logs");
    let mut verdicts: BTreeMap<String, Value> = BTreeMap::new();
    for entry in std::fs::read_dir(&logs).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
            verdicts.insert(
                name,
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap(),
            );
        }
    }
    assert!(verdicts.len() >= 62);
    let (mut same, mut refused, mut differ) = (0, 0, Vec::new());
    for (name, verdict) in &verdicts {
        let options = verdict.get("options").cloned().unwrap_or(Value::Null);
        let args = flags(&options);
        let log = logs.join(format!("{name}.jsonl"));
        let reference = findings(
            Command::new(env!("CARGO_BIN_EXE_agentlog"))
                .args(["validate", "--format", "json"])
                .args(&args)
                .arg(&log),
        );
        let go = findings(Command::new(bin).args(&args).arg(&log));
        if let Some(Value::Object(secrets)) = options.get("secrets") {
            for value in secrets.values() {
                assert!(
                    !go.1.contains(value.as_str().unwrap()),
                    "{name}: the Go validator printed a secret value"
                );
            }
        }
        let id = format!("validate/{name}");
        if unsupported.matches(&id) {
            assert_eq!(
                go.0, 2,
                "{id} is declared unsupported but not refused: {}",
                go.1
            );
            assert!(go.2.is_none() && !go.1.trim().is_empty(), "{id}: {}", go.1);
            refused += 1;
            continue;
        }
        if (reference.0, &reference.2) == (go.0, &go.2) {
            same += 1;
        } else {
            differ.push(format!(
                "{id}:\n  reference exit {} {:?}\n  go        exit {} {:?}",
                reference.0, reference.2, go.0, go.2
            ));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    assert_eq!(same + refused, verdicts.len());
    assert!(same >= 35, "{same} agree, {refused} refused");
}

/// The Go encoder cases are what Go writes: `conformance/encoders/go_writer.go`, run with
/// this machine's Go, reproduces `encoder_go_v0.jsonl` and `encoder_go_v1.jsonl` byte for
/// byte (the other writers' cases are regenerated by `generate.sh` only).
#[test]
fn go_encoder_cases_are_what_go_writes() {
    let Some(mut probe) = go() else { return };
    probe.arg("version");
    run_ok(probe, "go version");
    let encoders = root().join("conformance/encoders");
    for profile in ["v0", "v1"] {
        let mut cmd = go().unwrap();
        cmd.current_dir(&encoders).env_remove("GOFLAGS").args([
            "run",
            "go_writer.go",
            "events.json",
            profile,
        ]);
        let written = run_ok(cmd, "go run go_writer.go");
        let case = std::fs::read_to_string(
            root().join(format!("conformance/logs/encoder_go_{profile}.jsonl")),
        )
        .unwrap();
        assert_eq!(
            written, case,
            "encoder_go_{profile}.jsonl is not what Go writes"
        );
    }
}

/// Whether `observed` holds `expected` as the interceptor harness compares `data`: objects
/// as subsets (recursively), arrays exactly, numbers by value; `duration_ms` and
/// `exchange_id` are never compared.
fn subset(expected: &Value, observed: &Value) -> bool {
    match (expected, observed) {
        (Value::Object(e), Value::Object(o)) => e.iter().all(|(k, v)| {
            ["duration_ms", "exchange_id"].contains(&k.as_str())
                || o.get(k).is_some_and(|got| subset(v, got))
        }),
        (Value::Number(e), Value::Number(o)) => e.as_f64() == o.as_f64(),
        (e, o) => e == o,
    }
}

/// The same events written by agentlog (`agentlog emit`, which encodes `data` anew in the
/// reference's field order and makes the reference summary), from each event's run id,
/// agent system, type, plugin, tags and data: the lines of `log`.
fn reference_lines(events: &[Value], log: &Path) -> Vec<String> {
    for event in events {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_agentlog"));
        cmd.arg("emit").arg("--event-log").arg(log).arg("-q");
        for key in ["run_id", "agent_system", "event_type", "plugin"] {
            if let Some(v) = event.get(key).and_then(Value::as_str) {
                cmd.arg(format!("--{}", key.replace('_', "-"))).arg(v);
            }
        }
        for tag in event
            .get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            cmd.arg("--tag").arg(tag.as_str().unwrap());
        }
        cmd.arg("--data").arg(event["data"].to_string());
        run_ok(cmd, "agentlog emit");
    }
    std::fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A line with its `ts` value (the first member, the only one that differs) blanked.
fn without_ts(line: &str) -> String {
    let rest = line.strip_prefix(r#"{"ts":""#).expect("ts first");
    let end = rest.find('"').unwrap();
    format!(r#"{{"ts":""{}"#, &rest[end + 1..])
}

/// The writer half of the port: `cmd/emit` writes every v0 interceptor scenario's expected
/// events through `Emitter` and `JSONLWriter`, and the log is what the interceptor harness
/// would accept from a proxy: valid under `agentlog validate --profile v0` without a
/// finding, as many events as expected, each with the expected type, every other key the
/// scenario gives (summary, plugin, tags: made by the package, never copied) equal, and
/// `data` holding the expected data; one exchange id per request, in runs; and each line
/// byte for byte the one agentlog writes for the same event (but its `ts`). Every v1
/// scenario is refused (exit 2, a message on stderr), as the harness's unsupported rule asks.
#[test]
fn go_writer_writes_every_v0_scenarios_events() {
    let Some(bin) = emitter() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (mut written, mut refused) = (0, 0);
    let started = Instant::now();
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(root().join("conformance/scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    scenarios.sort();
    for path in &scenarios {
        let name = path.file_stem().unwrap().to_str().unwrap();
        let scenario: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let log = dir.path().join(format!("{name}.jsonl"));
        let out = Command::new(bin).arg(path).arg(&log).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if scenario.get("profile").and_then(Value::as_str) == Some("v1") {
            assert_eq!(
                out.status.code(),
                Some(2),
                "{name}: a v1 scenario not refused"
            );
            assert!(stderr.contains("v0 profile only"), "{name}: {stderr}");
            assert!(!log.exists(), "{name}: a refused scenario wrote a log");
            refused += 1;
            continue;
        }
        assert!(out.status.success(), "{name}: emit failed: {stderr}");
        let report = Command::new(env!("CARGO_BIN_EXE_agentlog"))
            .args(["validate", "--profile", "v0", "--format", "json"])
            .arg(&log)
            .output()
            .unwrap();
        let report_json: Value = serde_json::from_slice(&report.stdout).unwrap();
        assert_eq!(report.status.code(), Some(0), "{name}: {report_json}");
        assert_eq!(
            report_json["files"][0]["findings"],
            Value::Array(Vec::new()),
            "{name}: findings on the written log"
        );
        let text = std::fs::read_to_string(&log).unwrap();
        let events: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let expected = scenario["expect_events"].as_array().unwrap();
        assert_eq!(events.len(), expected.len(), "{name}: event count\n{text}");
        let mut ids: Vec<&str> = Vec::new();
        for (i, (want, got)) in expected.iter().zip(&events).enumerate() {
            for (key, value) in want.as_object().unwrap() {
                if ["ts", "run_id", "agent_system"].contains(&key.as_str()) {
                    continue;
                }
                assert!(
                    got.get(key).is_some_and(|g| subset(value, g)),
                    "{name}: event {i}: {key} expected {value}, written {}",
                    got.get(key).unwrap_or(&Value::Null)
                );
            }
            let id = got["data"]["exchange_id"].as_str().unwrap();
            if ids.last() != Some(&id) {
                assert!(!ids.contains(&id), "{name}: exchange id {id} seen again");
                ids.push(id);
            }
        }
        assert!(
            ids.len() <= scenario["requests"].as_array().unwrap().len(),
            "{name}: more exchange ids than requests"
        );
        let reference = reference_lines(&events, &dir.path().join(format!("{name}.ref.jsonl")));
        for (go_line, reference_line) in text.lines().zip(&reference) {
            assert_eq!(
                without_ts(go_line),
                without_ts(reference_line),
                "{name}: the Go line differs from agentlog's for the same event"
            );
        }
        written += 1;
    }
    assert!(
        written >= 11 && refused >= 5,
        "{written} written, {refused} refused"
    );
    eprintln!(
        "go emit: {written} v0 scenarios written and checked, {refused} v1 refused ({:.2?})",
        started.elapsed()
    );
}
