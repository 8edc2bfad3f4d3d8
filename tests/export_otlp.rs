// A test crate: a failed unwrap or index fails the test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::too_many_lines,
    missing_docs
)]
#![allow(clippy::disallowed_macros)] // a test prints for its runner, not through the CLI's output gate.
//! `agentlog export` against a real OpenTelemetry collector: rotel (from PyPI; `.ci/run`
//! installs it and says where in `AGENTLOG_ROTEL`) on loopback, with `tests/otlp/dump.py` as
//! its logs and trace processor, which writes every record and span it receives as a JSON
//! line. The tests read that file: what arrived, with which attributes and ids, and that no
//! secret value did.

use std::io::{BufRead, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const WAIT: Duration = Duration::from_secs(30);

/// The rotel binary: `AGENTLOG_ROTEL` (then it must exist), else the venv `.ci/run` makes.
fn rotel() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("AGENTLOG_ROTEL") {
        let path = PathBuf::from(path);
        assert!(
            path.exists(),
            "AGENTLOG_ROTEL={} does not exist",
            path.display()
        );
        return Some(path);
    }
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv/lib");
    let found = std::fs::read_dir(lib)
        .into_iter()
        .flatten()
        .flatten()
        .find_map(|python| {
            let agent = python.path().join("site-packages/rotel/rotel-agent");
            agent.exists().then_some(agent)
        });
    if found.is_some() {
        return found;
    }
    eprintln!(
        "skipped: rotel is not installed (`.ci/run` installs it: pip install rotel==0.0.1a15)"
    );
    None
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A rotel process on loopback; killed when dropped.
struct Collector {
    child: Child,
    port: u16,
    dump: PathBuf,
    _dir: tempfile::TempDir,
}

impl Collector {
    fn start(binary: &Path) -> Collector {
        let dir = tempfile::tempdir().unwrap();
        let dump = dir.path().join("dump.jsonl");
        std::fs::write(&dump, "").unwrap();
        let processor = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/otlp/dump.py");
        let (port, grpc) = (free_port(), free_port());
        let child = Command::new(binary)
            .args(["start", "--log-format", "json", "--exporter", "blackhole"])
            .arg("--otlp-http-endpoint")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--otlp-grpc-endpoint")
            .arg(format!("127.0.0.1:{grpc}"))
            .arg("--otlp-with-logs-processor")
            .arg(&processor)
            .arg("--otlp-with-trace-processor")
            .arg(&processor)
            .env("OTLP_DUMP_FILE", &dump)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut collector = Collector {
            child,
            port,
            dump,
            _dir: dir,
        };
        let deadline = Instant::now() + WAIT;
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            if let Ok(Some(status)) = collector.child.try_wait() {
                panic!("rotel exited before it listened: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "rotel did not listen on {port} within {WAIT:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        collector
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The dump's lines once it holds `logs` records and `spans` spans (more fail the
    /// test later, where counts are compared); fails after [`WAIT`].
    fn wait_for(&self, logs: usize, spans: usize) -> Vec<Value> {
        let deadline = Instant::now() + WAIT;
        loop {
            let lines = self.lines();
            let count = |signal: &str| lines.iter().filter(|l| l["signal"] == signal).count();
            assert!(
                lines.iter().all(|l| l["signal"] != "error"),
                "the processor failed: {lines:?}"
            );
            if count("log") >= logs && count("span") >= spans {
                return lines;
            }
            assert!(
                Instant::now() < deadline,
                "the collector got {} log records and {} spans of {logs} and {spans} within {WAIT:?}",
                count("log"),
                count("span")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn lines(&self) -> Vec<Value> {
        let file = std::fs::File::open(&self.dump).unwrap();
        std::io::BufReader::new(file)
            .lines()
            .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
            .collect()
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads one HTTP/1.1 request (head and `content-length` body) from `stream`.
fn read_request(stream: &TcpStream) {
    let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    let _ = std::io::Read::read_exact(&mut reader, &mut body);
}

fn agentlog() -> Command {
    Command::new(env!("CARGO_BIN_EXE_agentlog"))
}

/// Runs `agentlog ARGS`; its exit code and stderr.
fn run(args: &[&str]) -> (i32, String) {
    let out = agentlog().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn attr<'a>(item: &'a Value, key: &str) -> &'a Value {
    let value = &item["attributes"][key];
    value
        .as_object()
        .and_then(|o| o.values().next())
        .unwrap_or(&Value::Null)
}

fn testdata(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/real-logs")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn a_demo_session_arrives_as_records_and_genai_spans() {
    let Some(binary) = rotel() else { return };
    let collector = Collector::start(&binary);
    let out = tempfile::tempdir().unwrap();
    let demo = agentlog()
        .args(["demo", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let log = out.path().join("events.jsonl");
    let lines = std::fs::read_to_string(&log).unwrap().lines().count();
    let (code, stderr) = run(&[
        "export",
        "--otlp-endpoint",
        &collector.endpoint(),
        log.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("{lines} log record(s) and 4 span(s) delivered")),
        "{stderr}"
    );
    let dump = collector.wait_for(lines, 4);
    let logs: Vec<&Value> = dump.iter().filter(|l| l["signal"] == "log").collect();
    let spans: Vec<&Value> = dump.iter().filter(|l| l["signal"] == "span").collect();
    assert_eq!((logs.len(), spans.len()), (lines, 4));
    // Every record: the event type as its event name, the summary as its body, a uid.
    for log in &logs {
        assert_eq!(log["event_name"], attr(log, "agentlog.event_type").clone());
        assert!(
            log["body"]["string"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
        );
        assert_eq!(attr(log, "log.record.uid").as_str().unwrap().len(), 32);
        assert_eq!(log["scope"]["name"], "agentlog");
        assert_eq!(log["resource"]["service.name"]["string"], "agentlog");
    }
    // The chat spans: GenAI attributes, and the exchange's records share the span's ids.
    let chat: Vec<&&Value> = spans
        .iter()
        .filter(|s| {
            attr(s, "gen_ai.provider.name") == "openai"
                && attr(s, "gen_ai.usage.input_tokens").is_i64()
        })
        .collect();
    assert!(!chat.is_empty(), "{spans:?}");
    for span in &chat {
        assert_eq!(span["kind"], 3, "CLIENT");
        assert_eq!(attr(span, "gen_ai.operation.name"), "chat");
        assert_eq!(attr(span, "server.address"), "api.openai.com");
        assert_eq!(attr(span, "http.response.status_code"), 200);
        assert!(
            span["name"]
                .as_str()
                .unwrap()
                .starts_with("chat gpt-4o-mini"),
            "{span}"
        );
        assert!(attr(span, "gen_ai.response.model").as_str().is_some());
        assert!(
            attr(span, "agentlog.cost_usd").is_f64() || attr(span, "agentlog.cost_usd").is_i64()
        );
        let exchange = attr(span, "agentlog.exchange_id").as_str().unwrap();
        let same: Vec<&&Value> = logs
            .iter()
            .filter(|l| attr(l, "agentlog.data.exchange_id") == exchange)
            .collect();
        assert!(same.len() >= 2, "request and response of {exchange}");
        for log in same {
            assert_eq!(log["trace_id"], span["trace_id"]);
            assert_eq!(log["span_id"], span["span_id"]);
        }
    }
    let anthropic = spans
        .iter()
        .find(|s| attr(s, "gen_ai.provider.name") == "anthropic");
    assert!(anthropic.is_some(), "{spans:?}");
}

/// Runs `agentlog demo --otlp-endpoint URL`, which must succeed; what it printed and how
/// many lines its log holds.
fn demo_exporting_to(url: &str) -> (String, usize) {
    let out = tempfile::tempdir().unwrap();
    let demo = agentlog()
        .args(["demo", "--otlp-endpoint", url, "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    let printed =
        String::from_utf8_lossy(&demo.stdout).into_owned() + &String::from_utf8_lossy(&demo.stderr);
    assert!(demo.status.success(), "{printed}");
    let log = std::fs::read_to_string(out.path().join("events.jsonl")).unwrap();
    (printed, log.lines().count())
}

#[test]
fn the_demo_exports_live_every_event_its_log_accepts() {
    let Some(binary) = rotel() else { return };
    let collector = Collector::start(&binary);
    let (printed, lines) = demo_exporting_to(&collector.endpoint());
    assert!(
        printed.contains(&format!(
            "OTLP export: {lines} log record(s) and 4 span(s) delivered"
        )),
        "{printed}"
    );
    let dump = collector.wait_for(lines, 4);
    let logs = dump.iter().filter(|l| l["signal"] == "log").count();
    assert_eq!(logs, lines, "every line of the log, once");
}

#[test]
fn the_live_export_treats_its_credentials_as_secrets() {
    let Some(binary) = rotel() else { return };
    let collector = Collector::start(&binary);
    let out = tempfile::tempdir().unwrap();
    let demo = agentlog()
        .args(["demo", "--otlp-endpoint", &collector.endpoint(), "--out"])
        .arg(out.path())
        .env("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=HdrS3cretValue99")
        .env("OTEL_RESOURCE_ATTRIBUTES", "team=HdrS3cretValue99,env=demo")
        .output()
        .unwrap();
    assert!(demo.status.success());
    let dump = collector.wait_for(17, 4);
    let text = std::fs::read_to_string(&collector.dump).unwrap();
    assert!(
        !text.contains("HdrS3cretValue99"),
        "a credential reached the collector"
    );
    assert_eq!(dump[0]["resource"]["env"]["string"], "demo");
}

#[test]
fn a_collector_answering_an_endless_body_does_not_hold_the_export() {
    // 200 with a body that never ends: the export reads a bounded part of an answer.
    let collector = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = collector.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in collector.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                read_request(&stream);
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 100000000000\r\n\r\n";
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let chunk = vec![0u8; 1 << 16];
                while stream.write_all(&chunk).is_ok() {}
            });
        }
    });
    let mut child = agentlog()
        .args([
            "export",
            "--otlp-endpoint",
            &format!("http://127.0.0.1:{port}"),
        ])
        .arg(testdata("matchlock-go-writer-events.jsonl"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("the export kept reading an endless answer for {WAIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_dead_collector_never_stops_the_demo_nor_its_log() {
    let (printed, lines) = demo_exporting_to(&format!("http://127.0.0.1:{}", free_port()));
    assert_eq!(lines, 17, "{printed}");
    assert!(
        printed.contains("OTLP export: 0 log record(s) and 0 span(s) delivered"),
        "{printed}"
    );
    assert!(printed.contains("not delivered"), "{printed}");
}

fn event_line(n: usize) -> String {
    format!(
        r#"{{"ts":"2026-11-23T16:52:{:02}Z","run_id":"r","agent_system":"a","event_type":"key_injection","summary":"event {n}","data":{{"secret_name":"K","host":"api.openai.com","action":"injected"}}}}"#,
        n % 60
    ) + "\n"
}

fn append(path: &Path, lines: std::ops::Range<usize>) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for n in lines {
        file.write_all(event_line(n).as_bytes()).unwrap();
    }
}

/// The summaries that arrived, each once (a repeat fails).
fn arrived_once(collector: &Collector, count: usize) -> Vec<String> {
    let dump = collector.wait_for(count, 0);
    let mut bodies: Vec<String> = dump
        .iter()
        .filter(|l| l["signal"] == "log")
        .map(|l| l["body"]["string"].as_str().unwrap().to_owned())
        .collect();
    let total = bodies.len();
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), total, "a line arrived twice: {bodies:?}");
    bodies
}

#[test]
fn follow_tails_across_rotation_and_a_restart_neither_repeats_nor_skips() {
    let Some(binary) = rotel() else { return };
    let collector = Collector::start(&binary);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    let checkpoint = dir.path().join("checkpoint.json");
    append(&log, 0..3);
    let start = || {
        agentlog()
            .args([
                "export",
                "--follow",
                "--poll-interval",
                "20ms",
                "--otlp-endpoint",
                &collector.endpoint(),
                "--checkpoint",
            ])
            .arg(&checkpoint)
            .arg(dir.path())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let stop = |child: Child| {
        // SIGTERM, as a service manager stops it; it says what it delivered.
        let pid = i32::try_from(child.id()).unwrap();
        Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.contains("agentlog export: stopped;"), "{stderr}");
    };
    let follower = start();
    assert_eq!(arrived_once(&collector, 3).len(), 3);
    append(&log, 3..5);
    assert_eq!(arrived_once(&collector, 5).len(), 5);
    // The ledger's rotation: the day file keeps its lines, a new file takes the old name.
    append(&log, 5..6);
    std::fs::rename(&log, dir.path().join("events_20261123.jsonl")).unwrap();
    append(&log, 6..8);
    assert_eq!(arrived_once(&collector, 8).len(), 8);
    stop(follower);
    // Lines written while it was stopped arrive after a restart, and nothing twice.
    append(&log, 8..10);
    let follower = start();
    let bodies = arrived_once(&collector, 10);
    stop(follower);
    let expected: Vec<String> = {
        let mut all: Vec<String> = (0..10).map(|n| format!("event {n}")).collect();
        all.sort();
        all
    };
    assert_eq!(bodies, expected);
}

#[test]
fn follow_reads_a_file_renamed_out_of_the_listing_to_its_end() {
    // logrotate's rename: `events.jsonl` becomes `events.jsonl.1`, a name the walk does not
    // list, with lines written since the last round; a new `events.jsonl` follows.
    let Some(binary) = rotel() else { return };
    let collector = Collector::start(&binary);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    append(&log, 0..2);
    let mut follower = agentlog()
        .args([
            "export",
            "--follow",
            // Long enough that the appends and the rename below fall between two rounds.
            "--poll-interval",
            "2s",
            "--otlp-endpoint",
            &collector.endpoint(),
        ])
        .arg(dir.path())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert_eq!(arrived_once(&collector, 2).len(), 2);
    append(&log, 2..4);
    std::fs::rename(&log, dir.path().join("events.jsonl.1")).unwrap();
    append(&log, 4..5);
    let bodies = arrived_once(&collector, 5);
    let _ = follower.kill();
    let _ = follower.wait();
    let expected: Vec<String> = (0..5).map(|n| format!("event {n}")).collect();
    assert_eq!(bodies, expected);
}

#[test]
fn ledger_tool_calls_become_execute_tool_spans_and_a_resend_sends_the_same_ids() {
    let Some(binary) = rotel() else { return };
    let collector = Collector::start(&binary);
    let ledger = testdata("myca-ledger-writer-events.jsonl");
    for _ in 0..2 {
        let (code, stderr) = run(&[
            "export",
            "--otlp-endpoint",
            &collector.endpoint(),
            "--otlp-protocol",
            "http/json",
            &ledger,
        ]);
        assert_eq!(code, 0, "{stderr}");
    }
    let dump = collector.wait_for(14, 12);
    let spans: Vec<&Value> = dump.iter().filter(|l| l["signal"] == "span").collect();
    assert_eq!(spans.len(), 12);
    let (first, second) = spans.split_at(6);
    for (a, b) in first.iter().zip(second) {
        assert_eq!(
            (&a["trace_id"], &a["span_id"]),
            (&b["trace_id"], &b["span_id"])
        );
    }
    for span in first {
        assert_eq!(attr(span, "gen_ai.operation.name"), "execute_tool");
        let tool = attr(span, "gen_ai.tool.name").as_str().unwrap();
        assert_eq!(span["name"], format!("execute_tool {tool}"));
        assert!(
            attr(span, "gen_ai.agent.name")
                .as_str()
                .is_some_and(|a| a.ends_with("_agent"))
        );
        assert!(attr(span, "gen_ai.conversation.id").is_string());
    }
    let denied = first
        .iter()
        .find(|s| attr(s, "agentlog.ledger.result_status") == "denied")
        .unwrap();
    assert_eq!(attr(denied, "error.type"), "denied");
    assert_eq!(denied["status"]["code"], 2, "ERROR");
    // One session's calls share a trace.
    let logs: Vec<&Value> = dump.iter().filter(|l| l["signal"] == "log").collect();
    let risk = logs.iter().find(|l| l["event_name"] == "injection_attempt");
    assert!(
        risk.is_some(),
        "the risk event arrives as a record: {logs:?}"
    );
}

#[test]
fn a_collector_that_is_down_fails_the_export_naming_what_was_not_delivered() {
    let port = free_port();
    let log = testdata("matchlock-go-writer-events.jsonl");
    let (code, stderr) = run(&[
        "export",
        "--otlp-endpoint",
        &format!("http://127.0.0.1:{port}"),
        "--tries",
        "2",
        &log,
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("18 log records of"), "{stderr}");
    assert!(
        stderr.contains("matchlock-go-writer-events.jsonl:1-18 not delivered"),
        "{stderr}"
    );
    assert!(
        stderr.contains("no answer from the collector after 2 tries"),
        "{stderr}"
    );
    assert!(stderr.contains("INCOMPLETE: 0 log record(s)"), "{stderr}");
}

#[test]
fn a_redirect_is_not_followed_and_credentials_are_never_printed() {
    // The "collector" answers every request with a redirect to another listener, which must
    // never be contacted: it would get the headers.
    let other = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    other.set_nonblocking(true).unwrap();
    let target = format!(
        "http://127.0.0.1:{}/v1/logs",
        other.local_addr().unwrap().port()
    );
    let collector = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = collector.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in collector.incoming().flatten() {
            let mut stream = stream;
            read_request(&stream);
            let answer = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    let log = testdata("matchlock-go-writer-events.jsonl");
    let out = agentlog()
        .args([
            "export",
            "--tries",
            "1",
            "--otlp-header",
            "api-key=HdrS3cretValue99",
        ])
        .arg("--otlp-endpoint")
        .arg(format!(
            "http://collector-user:Pa55w0rd-XYZ@127.0.0.1:{port}/?api_key=QueryKey12345"
        ))
        .arg(&log)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("the collector answered 307"), "{stderr}");
    assert!(
        stderr.contains(&format!("delivered to http://127.0.0.1:{port}")),
        "{stderr}"
    );
    for secret in [
        "HdrS3cretValue99",
        "Pa55w0rd-XYZ",
        "QueryKey12345",
        "collector-user",
    ] {
        assert!(!stderr.contains(secret), "{secret} printed: {stderr}");
    }
    assert!(
        other.accept().is_err(),
        "the redirect was followed: the other host was contacted"
    );
}

#[test]
fn usage_errors_exit_2_and_never_show_a_header_value() {
    let (code, stderr) = run(&["export", "--otlp-endpoint", "localhost:4318", "x.jsonl"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("must be an http:// or https:// URL"),
        "{stderr}"
    );
    let out = agentlog()
        .args([
            "export",
            "--otlp-endpoint",
            "http://127.0.0.1:9",
            "missing.jsonl",
        ])
        .env(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "authorization-token-no-equals-sign-s3cr3t",
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("s3cr3t"), "{stderr}");
    let (code, stderr) = run(&["export", "--otlp-protocol", "grpc", "x.jsonl"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("gRPC is not supported"), "{stderr}");
    // A missing input whose path is a key split over a space or directories.
    for path in [
        "missing/AKIAZQ7V K2PX9MW4NR8T",
        "missing/AKIAZQ7V/K2PX9MW4NR8T.jsonl",
    ] {
        let (code, stderr) = run(&["export", "--otlp-endpoint", "http://127.0.0.1:9", path]);
        assert_eq!(code, 2, "{stderr}");
        assert!(!stderr.contains("K2PX9MW4NR8T"), "{stderr}");
        assert!(stderr.contains("error"), "{stderr}");
    }
}

#[test]
fn no_secret_value_reaches_the_collector() {
    let Some(binary) = rotel() else { return };
    let collector = Collector::start(&binary);
    let dir = tempfile::tempdir().unwrap();
    let secret = "Zq7vK2pX9mW4nR8t";
    let openai = "sk-proj-T3BlbkFJq8Zr2Lm9Xv4Nw7Ks1Hd6Gf0Pa";
    // In the file's name too, and in the resource the environment describes.
    let log = dir.path().join(format!("events-{secret}.jsonl"));
    let mut file = std::fs::File::create(&log).unwrap();
    // The secret (raw, base64, percent-encoded) and a key of a well-known format in every
    // field: envelope, data, keys, numbers, a ledger record's fields.
    let b64 = "WnE3dksycFg5bVc0blI4dA==";
    for value in [secret, b64, "Zq7vK2pX9mW4nR8t%0A", openai] {
        writeln!(
            file,
            r#"{{"ts":"2026-11-23T16:52:00Z","run_id":"run-{value}","agent_system":"{value}","event_type":"llm_response","summary":"got {value}","plugin":"{value}","tags":["{value}"],"data":{{"method":"POST","host":"api.openai.com","path":"/v1/{value}","status_code":200,"duration_ms":5,"body_bytes":1,"model":"{value}","exchange_id":"{value}","{value}":"x"}}}}"#
        )
        .unwrap();
        writeln!(
            file,
            r#"{{"ts":1795478398,"session_id":"{value}","agent":"{value}","tool":"{value}","args_hash":"sha256:0000000000000000000000000000000000000000000000000000000000000000","result_status":"error","elapsed_ms":1,"error_class":"{value}","risk_flags":[],"artifacts":["{value}"]}}"#
        )
        .unwrap();
    }
    drop(file);
    let out = agentlog()
        .args([
            "export",
            "--otlp-endpoint",
            &collector.endpoint(),
            "--secret",
        ])
        .arg(format!("PIN={secret}"))
        .arg(&log)
        .env("OTEL_SERVICE_NAME", format!("svc-{secret}"))
        .env(
            "OTEL_RESOURCE_ATTRIBUTES",
            format!("team=a,key={openai},{secret}=b"),
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let dump = collector.wait_for(8, 8);
    assert_eq!(dump[0]["resource"]["team"]["string"], "a", "{:?}", dump[0]);
    let text = std::fs::read_to_string(&collector.dump).unwrap();
    for needle in [secret, b64, openai, "WnE3dksycFg5bVc0blI4dA", "5a71377"] {
        assert!(!text.contains(needle), "{needle} reached the collector");
        assert!(!stderr.contains(needle), "{needle} printed: {stderr}");
    }
    let redactor = agentlog_validate::Options::default()
        .with_secrets(vec![agentlog_validate::secrets::Secret::new(
            "PIN",
            agentlog_validate::secrets::SecretValue::new(secret),
            vec![],
        )])
        .redactor()
        .unwrap();
    for line in &dump {
        assert!(!redactor.leaks(&line.to_string()), "a value in {line}");
    }
    // What carries no secret still arrives: the host of every response, the ledger's hash.
    let hosts = dump
        .iter()
        .filter(|l| attr(l, "server.address") == "api.openai.com")
        .count();
    assert_eq!(hosts, 4, "{dump:?}");
    assert!(text.contains("sha256:0000"), "{text}");
}

#[test]
fn a_live_export_gives_each_record_the_uid_an_export_of_the_file_gives_it() {
    use agentlog_core::event::{InjectionAction, KeyInjection, Timestamp};
    use agentlog_core::sink::{JsonlWriter, Sink};
    use agentlog_export::{Client, Endpoint, ExportingSink, LiveExport, Mapper, Retry};
    use agentlog_validate::secrets::redact::Redactor;
    use std::sync::Arc;

    let Some(binary) = rotel() else { return };
    let collector = Collector::start(&binary);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    // The log already holds lines: a live export that counted from its own first line would
    // give every record another uid than the file's export.
    append(&log, 0..3);
    let env = |_: &str| None;
    let endpoint = Endpoint::resolve(Some(&collector.endpoint()), None, &[], &env).unwrap();
    let client = Client::new(endpoint, Retry::default()).unwrap();
    let export = LiveExport::start(client, Mapper::new(Redactor::none()), Vec::new()).unwrap();
    let file: Arc<dyn Sink> = Arc::new(JsonlWriter::open(&log).unwrap());
    let sink = ExportingSink::new(file, export.clone());
    for n in 0..4 {
        let event = agentlog_core::Event::new(
            Timestamp::parse(&format!("2026-11-23T16:53:0{n}Z")).unwrap(),
            "r",
            "a",
            KeyInjection::new("K", "api.openai.com", InjectionAction::Injected),
        );
        sink.write(event.checked().unwrap()).unwrap();
    }
    sink.close().unwrap();
    let summary = export.finish(WAIT);
    assert_eq!(summary.delivered_records, 4, "{summary:?}");
    let uids = |dump: &[Value]| -> Vec<String> {
        dump.iter()
            .filter(|l| l["signal"] == "log")
            .map(|l| attr(l, "log.record.uid").as_str().unwrap().to_owned())
            .collect()
    };
    let live = uids(&collector.wait_for(4, 0));
    let (code, stderr) = run(&[
        "export",
        "--otlp-endpoint",
        &collector.endpoint(),
        log.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let all = uids(&collector.wait_for(4 + 7, 0));
    let from_file = &all[4..];
    for uid in &live {
        assert!(
            from_file.contains(uid),
            "{uid} is not a uid of the file's export: {all:?}"
        );
    }
}
