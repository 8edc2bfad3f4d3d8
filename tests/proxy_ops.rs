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
//! `agentlog proxy` as operators run it, as a real process: signals, a full disk, the
//! open-file limit, secret scopes and the CA directory checks. The upstream is the mock
//! upstream's TLS fixture (`agentlog_mock_upstream::TlsFixture`) in this process; the proxy
//! reaches it through `--connect-to`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use agentlog_mock_upstream::TlsFixture;
use serde_json::Value;

const OPENAI_KEY: &str = "sk-test-REAL-openai-0123456789";
const PLACEHOLDER: &str = "SANDBOX_SECRET_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/// A running `agentlog proxy` process.
struct ProxyProcess {
    /// Taken by [`ProxyProcess::wait`]; killed on drop if still here (a test that failed
    /// half-way must not leave its proxy running).
    child: Option<Child>,
    addr: String,
    ca_pem: PathBuf,
    stderr: Stderr,
}

/// The proxy's stderr, read line by line as it comes: kept whole, and each line sent on a
/// channel for [`ProxyProcess::wait_stderr`].
struct Stderr {
    text: Arc<Mutex<String>>,
    lines: mpsc::Receiver<String>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Stderr {
    fn read_from(pipe: std::process::ChildStderr) -> Stderr {
        let text = Arc::new(Mutex::new(String::new()));
        let (tx, lines) = mpsc::channel();
        let kept = text.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut all = kept.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
                drop(all);
                let _ = tx.send(line);
            }
        });
        Stderr {
            text,
            lines,
            reader: Some(reader),
        }
    }

    fn so_far(&self) -> String {
        self.text.lock().unwrap().clone()
    }
}

impl ProxyProcess {
    /// Starts the proxy in front of `fixture` and waits for its "listening on" line.
    fn start(fixture: &TlsFixture, dir: &Path, extra: &[&str]) -> ProxyProcess {
        Self::launch(fixture, dir, extra, &[], &[])
    }

    /// [`ProxyProcess::start`] with extra environment variables.
    fn start_with_env(
        fixture: &TlsFixture,
        dir: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> ProxyProcess {
        Self::launch(fixture, dir, extra, env, &[])
    }

    /// [`ProxyProcess::start`] with extra environment variables, run by `wrapper` (a
    /// command that execs the rest of its arguments, such as `prlimit --fsize=N --`).
    fn launch(
        fixture: &TlsFixture,
        dir: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
        wrapper: &[&str],
    ) -> ProxyProcess {
        let upstream_ca = dir.join("upstream-ca.pem");
        std::fs::write(&upstream_ca, fixture.ca_pem()).unwrap();
        let agentlog = env!("CARGO_BIN_EXE_agentlog");
        let mut command = match wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(agentlog);
                c
            }
            None => Command::new(agentlog),
        };
        command
            .args(["proxy", "--listen", "127.0.0.1:0", "--ca-dir"])
            .arg(dir.join("ca"))
            .arg("--upstream-ca")
            .arg(&upstream_ca)
            .args([
                "--secret",
                &format!("OPENAI_API_KEY={OPENAI_KEY}@api.openai.com"),
            ])
            .args(["--placeholder", &format!("OPENAI_API_KEY={PLACEHOLDER}")])
            .args(extra);
        for (from, to) in fixture.connect_to() {
            command.args(["--connect-to", &format!("{from}={to}")]);
        }
        let mut child = command
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Stderr::read_from(child.stderr.take().unwrap());
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Drain to the end even when nobody listens any more: the proxy must not meet
            // a closed pipe because of the test.
            for line in stdout.lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut addr = None;
        while addr.is_none() {
            let line = rx
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no 'listening on' line; stderr: {}", stderr.so_far()));
            addr = line
                .strip_prefix("agentlog proxy listening on ")
                .map(str::to_owned);
        }
        ProxyProcess {
            child: Some(child),
            addr: addr.unwrap(),
            ca_pem: dir.join("ca").join("ca.pem"),
            stderr,
        }
    }

    fn client(&self) -> reqwest::Client {
        let ca = reqwest::Certificate::from_pem(&std::fs::read(&self.ca_pem).unwrap()).unwrap();
        reqwest::Client::builder()
            .proxy(reqwest::Proxy::all(format!("http://{}", self.addr)).unwrap())
            .tls_certs_only([ca])
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap()
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for a stderr line containing `needle` (failing after `secs`); returns it.
    fn wait_stderr(&self, needle: &str, secs: u64) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.stderr.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!(
                    "no stderr line with {needle:?} within {secs}s; stderr: {}",
                    self.stderr.so_far()
                ),
            }
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Waits for the process to exit (failing after `secs`); its exit code and stderr.
    fn wait(mut self, secs: u64) -> (Option<i32>, String) {
        let (tx, rx) = mpsc::channel();
        let pid = self.pid();
        let mut child = self.child.take().unwrap();
        std::thread::spawn(move || {
            let _ = tx.send(child.wait().map(|s| s.code()));
        });
        let code = rx
            .recv_timeout(Duration::from_secs(secs))
            .unwrap_or_else(|_| panic!("proxy {pid} did not exit within {secs}s"))
            .unwrap();
        // The process is gone, so its stderr is at its end.
        if let Some(reader) = self.stderr.reader.take() {
            reader.join().unwrap();
        }
        (code, self.stderr.so_far())
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn events(log: &Path) -> Vec<Value> {
    let text = read(log);
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "the log ends in a torn line"
    );
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("torn line {l:?}: {e}")))
        .collect()
}

fn of_type<'a>(events: &'a [Value], t: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event_type"] == t).collect()
}

fn tags(event: &Value) -> Vec<&str> {
    event["tags"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn stream_request(client: &reqwest::Client) -> reqwest::RequestBuilder {
    client
        .post("https://api.openai.com/v1/chat/completions")
        .header("authorization", format!("Bearer {PLACEHOLDER}"))
        .header("x-testkit-stream", "gated")
        .body(r#"{"model":"gpt-4o-mini","stream":true}"#)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_forty_streams_in_flight_logs_forty_responses() {
    let fixture = TlsFixture::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    let log_arg = log.to_str().unwrap().to_owned();
    let proxy = ProxyProcess::start(
        &fixture,
        dir.path(),
        &["--event-log", &log_arg, "--shutdown-grace", "2s"],
    );
    let client = proxy.client();
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..40 {
        let mut resp = stream_request(&client).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        // The first chunk is through: this stream is in flight.
        resp.chunk().await.unwrap().expect("a first chunk");
        let done = done_tx.clone();
        tokio::spawn(async move {
            let mut ok = true;
            loop {
                match resp.chunk().await {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(_) => {
                        ok = false;
                        break;
                    }
                }
            }
            let _ = done.send(ok);
        });
    }
    for _ in 0..20 {
        fixture.release();
    }
    for _ in 0..20 {
        let ok = tokio::time::timeout(Duration::from_secs(30), done_rx.recv())
            .await
            .expect("20 released streams end")
            .unwrap();
        assert!(ok, "a released stream failed");
    }
    proxy.signal("TERM");
    let (code, stderr) = tokio::task::spawn_blocking(move || proxy.wait(60))
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("SIGTERM received"), "{stderr}");
    assert!(stderr.contains("20 exchange(s) cut short"), "{stderr}");
    assert!(stderr.contains("synced and closed"), "{stderr}");
    let events = events(&log);
    assert_eq!(of_type(&events, "llm_request").len(), 40);
    let responses = of_type(&events, "llm_response");
    assert_eq!(responses.len(), 40, "every request has its response event");
    let complete = responses.iter().filter(|e| tags(e) == ["tls"]).count();
    let cut = responses
        .iter()
        .filter(|e| tags(e) == ["tls", "incomplete", "cut_short"])
        .count();
    assert_eq!((complete, cut), (20, 20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_lets_streams_in_flight_finish() {
    let fixture = TlsFixture::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    let log_arg = log.to_str().unwrap().to_owned();
    let proxy = ProxyProcess::start(&fixture, dir.path(), &["--event-log", &log_arg]);
    let client = proxy.client();
    let mut streams = Vec::new();
    for _ in 0..5 {
        let mut resp = stream_request(&client).send().await.unwrap();
        resp.chunk().await.unwrap().expect("a first chunk");
        streams.push(tokio::spawn(async move { resp.bytes().await.is_ok() }));
    }
    proxy.signal("INT");
    // Released after the signal: the proxy must still relay them to the end.
    for _ in 0..5 {
        fixture.release();
    }
    for s in streams {
        assert!(s.await.unwrap(), "a stream in flight was cut by SIGINT");
    }
    let (code, stderr) = tokio::task::spawn_blocking(move || proxy.wait(60))
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("every exchange finished"), "{stderr}");
    let events = events(&log);
    let responses = of_type(&events, "llm_response");
    assert_eq!(responses.len(), 5);
    assert!(responses.iter().all(|e| tags(e) == ["tls"]));
}

/// A small tmpfs, unmounted on drop. Mounting needs root, as `.ci/run` has.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "this test needs to mount a tmpfs (run as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_disk_refuses_requests_and_never_tears_a_line() {
    let fixture = TlsFixture::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let disk = Tmpfs::mount(&dir.path().join("disk"), "256k");
    let log = disk.0.join("events.jsonl");
    // Leave about 40 KiB for the log: room for some requests, not for 300.
    let filler = disk.0.join("filler");
    std::fs::write(&filler, vec![0u8; 216 << 10]).unwrap();
    let log_arg = log.to_str().unwrap().to_owned();
    let proxy = ProxyProcess::start(&fixture, dir.path(), &["--event-log", &log_arg]);
    let client = proxy.client();
    let mut tasks = tokio::task::JoinSet::new();
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(30));
    for i in 0..300 {
        let (client, gate) = (client.clone(), gate.clone());
        tasks.spawn(async move {
            let _permit = gate.acquire().await.unwrap();
            let resp = client
                .post("https://api.openai.com/v1/chat/completions")
                .header("authorization", format!("Bearer {PLACEHOLDER}"))
                .body(format!(r#"{{"model":"gpt-4o-mini","n":{i}}}"#))
                .send()
                .await;
            match resp {
                Ok(r) => {
                    let status = r.status().as_u16();
                    (status, r.bytes().await.is_ok())
                }
                Err(_) => (0, false),
            }
        });
    }
    let mut served = 0;
    let mut refused = 0;
    while let Some(res) = tasks.join_next().await {
        match res.unwrap() {
            (200, true) => served += 1,
            (503, _) | (200, false) | (0, _) => refused += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert!(
        refused > 0,
        "the disk never filled up: the test proves nothing"
    );
    let events_full = events(&log);
    let responses_ok = of_type(&events_full, "llm_response")
        .into_iter()
        .filter(|e| e["data"]["status_code"] == 200)
        .count();
    assert_eq!(
        responses_ok, served,
        "every request answered 200 in full has its llm_response"
    );
    // Space returns: the next request is served and logged.
    std::fs::remove_file(&filler).unwrap();
    let resp = client
        .post("https://api.openai.com/v1/chat/completions")
        .header("authorization", format!("Bearer {PLACEHOLDER}"))
        .body(r#"{"model":"gpt-4o-mini"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.bytes().await.unwrap();
    proxy.signal("TERM");
    let (_, stderr) = tokio::task::spawn_blocking(move || proxy.wait(60))
        .await
        .unwrap();
    assert!(stderr.contains("event not written"), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(!stderr.contains(OPENAI_KEY));
    let after = events(&log);
    // key_injection, llm_request, llm_response.
    assert_eq!(
        after.len(),
        events_full.len() + 3,
        "resumed writing once space returned"
    );
    drop(disk);
}

#[test]
fn start_up_raises_the_open_file_limit_and_shows_each_scope() {
    let dir = tempfile::tempdir().unwrap();
    let ca_dir = dir.path().join("ca");
    let script = format!(
        "ulimit -Sn 256 && exec {} -v proxy --listen 127.0.0.1:0 --ca-dir {} --secret 'K=v4lue-xyz@api.example.com,*.corp.test' --secret 'W=wide-v4lue@*' --shutdown-grace 1s",
        env!("CARGO_BIN_EXE_agentlog"),
        ca_dir.display()
    );
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for line in stdout.lines().map_while(Result::ok) {
        let last = line.contains("secret W is injected for");
        lines.push(line);
        if last {
            break;
        }
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    let stdout = lines.join("\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("secret K is injected for: api.example.com, *.corp.test"),
        "{stdout}"
    );
    assert!(
        stdout.contains("secret W is injected for: EVERY host (*)"),
        "{stdout}"
    );
    assert!(!stdout.contains("v4lue") && !stderr.contains("v4lue"));
    assert!(stderr.contains("before=256"), "{stderr}");
    assert!(
        !stderr.contains("after=256"),
        "the limit was not raised: {stderr}"
    );
}

/// Runs a proxy that must refuse to start: exit code 2 within 30 s; its stderr. One that
/// starts instead is killed and the test fails.
fn proxy_fails(args: &[&str], dir: &Path) -> String {
    let child = Command::new(env!("CARGO_BIN_EXE_agentlog"))
        .args(["proxy", "--listen", "127.0.0.1:0", "--ca-dir"])
        .arg(dir)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let Ok(out) = rx.recv_timeout(Duration::from_secs(30)) else {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
        panic!("the proxy {args:?} started instead of refusing to");
    };
    let out = out.unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn an_empty_host_list_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // What `--secret "K=$VAL@$HOSTS"` gives with HOSTS unset.
    let stderr = proxy_fails(&["--secret", "K=s3cret-v4lue@"], &dir.path().join("ca"));
    assert!(stderr.contains("--secret #1"), "{stderr}");
    assert!(stderr.contains("@*"), "{stderr}");
    assert!(!stderr.contains("s3cret-v4lue"), "{stderr}");
}

#[test]
fn a_short_value_is_refused_as_the_validator_refuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = proxy_fails(
        &["--secret", "K=sh0rt-value-1@a.com", "--secret", "T=5byt@*"],
        &dir.path().join("ca"),
    );
    // The same words as `agentlog validate --secret` (agentlog-core's one rule).
    let rule = agentlog_core::secrets::TooShort.to_string();
    assert!(stderr.contains(&format!("--secret #2: {rule}")), "{stderr}");
    let validate = Command::new(env!("CARGO_BIN_EXE_agentlog"))
        .args(["validate", "--secret", "T=5byt@*", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(validate.status.code(), Some(2));
    let validate = String::from_utf8_lossy(&validate.stderr);
    assert!(
        validate.contains(&format!("--secret #1: {rule}")),
        "{validate}"
    );
    assert!(!stderr.contains("5byt") && !validate.contains("5byt"));
}

#[test]
fn a_value_with_an_at_sign_needs_its_host_list() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = proxy_fails(&["--secret", "K=us3r@pa/ss+w0rd"], &dir.path().join("ca"));
    assert!(stderr.contains("--secret #1"), "{stderr}");
    assert!(stderr.contains("not a list of host globs"), "{stderr}");
    assert!(
        !stderr.contains("us3r") && !stderr.contains("pa/ss"),
        "{stderr}"
    );
}

#[test]
fn a_partial_or_mismatched_ca_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    let other = dir.path().join("other");
    // Let the proxy generate two CAs (it refuses to start on the bad secret after the CA? No:
    // generate them through the library instead).
    agentlog_intercept::CertAuthority::load_or_create(&good).unwrap();
    agentlog_intercept::CertAuthority::load_or_create(&other).unwrap();

    let partial = dir.path().join("partial");
    std::fs::create_dir(&partial).unwrap();
    std::fs::copy(good.join("ca.pem"), partial.join("ca.pem")).unwrap();
    let stderr = proxy_fails(&[], &partial);
    assert!(stderr.contains("ca-key.pem"), "{stderr}");
    assert!(!partial.join("ca-key.pem").exists(), "a new key was minted");

    let mixed = dir.path().join("mixed");
    std::fs::create_dir(&mixed).unwrap();
    std::fs::copy(good.join("ca.pem"), mixed.join("ca.pem")).unwrap();
    std::fs::copy(other.join("ca-key.pem"), mixed.join("ca-key.pem")).unwrap();
    let stderr = proxy_fails(&[], &mixed);
    assert!(
        stderr.contains("match") || stderr.contains("belong"),
        "{stderr}"
    );
    assert!(!stderr.contains("PRIVATE KEY"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_log_turns_on_diagnostics_that_name_the_failure() {
    let fixture = TlsFixture::start().await.unwrap();
    for (env, shown) in [(None, false), (Some("agentlog_intercept=debug"), true)] {
        let dir = tempfile::tempdir().unwrap();
        let vars: Vec<(&str, &str)> = env.map(|v| ("RUST_LOG", v)).into_iter().collect();
        let proxy = ProxyProcess::start_with_env(&fixture, dir.path(), &[], &vars);
        // A client that does not trust the proxy's CA: its TLS handshake fails.
        let untrusting = reqwest::Client::builder()
            .proxy(reqwest::Proxy::all(format!("http://{}", proxy.addr)).unwrap())
            .tls_certs_only([reqwest::Certificate::from_pem(fixture.ca_pem().as_bytes()).unwrap()])
            .build()
            .unwrap();
        assert!(
            untrusting
                .get("https://api.openai.com/v1/models")
                .send()
                .await
                .is_err()
        );
        proxy.signal("TERM");
        let (code, stderr) = tokio::task::spawn_blocking(move || proxy.wait(60))
            .await
            .unwrap();
        assert_eq!(code, Some(0), "{stderr}");
        assert_eq!(
            stderr.contains("client TLS handshake failed") && stderr.contains("api.openai.com"),
            shown,
            "RUST_LOG={env:?}: {stderr}"
        );
    }
}

#[test]
fn a_gate_or_route_without_profile_v1_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    let stderr = proxy_fails(&["--allow-host", "api.openai.com"], &ca);
    assert!(stderr.contains("need --profile v1"), "{stderr}");
    let stderr = proxy_fails(&["--route", "a.example=127.0.0.1:1"], &ca);
    assert!(stderr.contains("need --profile v1"), "{stderr}");
    let stderr = proxy_fails(&["--profile", "v1", "--route", "a.example=127.0.0.1"], &ca);
    assert!(
        stderr.contains("--route \"a.example=127.0.0.1\": the target needs a port"),
        "{stderr}"
    );
}

/// The real binary with `--profile v1`, a gate and a route: the blocked host is never
/// contacted, the routed request reaches the route target only, and the log validates
/// under `agentlog validate --profile v1`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_v1_gates_routes_and_writes_a_valid_v1_log() {
    let fixture = TlsFixture::start().await.unwrap();
    let local = agentlog_mock_upstream::mocks::plain_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    let route = format!("api.anthropic.com={}", local.address());
    let log_arg = log.to_string_lossy().into_owned();
    let proxy = ProxyProcess::start(
        &fixture,
        dir.path(),
        &[
            "--event-log",
            &log_arg,
            "--profile",
            "v1",
            "--allow-host",
            "api.openai.com",
            "--allow-host",
            "api.anthropic.com",
            "--route",
            &route,
        ],
    );
    let client = proxy.client();
    let chat = client
        .post("https://api.openai.com/v1/chat/completions")
        .header("authorization", format!("Bearer {PLACEHOLDER}"))
        .body(r#"{"model":"gpt-4o-mini","messages":[]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(chat.status(), 200);
    chat.bytes().await.unwrap();
    let routed = client
        .post("https://api.anthropic.com/v1/messages")
        .body(r#"{"model":"claude-sonnet-4","max_tokens":8}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(routed.status(), 200);
    routed.bytes().await.unwrap();
    let blocked = client.get("https://localhost/").send().await.unwrap();
    assert_eq!(blocked.status(), 403);

    let upstream: Vec<String> = fixture
        .mock()
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(
        upstream,
        ["/v1/chat/completions"],
        "only the allowed, unrouted request reaches the upstream"
    );
    let at_route: Vec<String> = local
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(at_route, ["/v1/messages"]);

    proxy.signal("TERM");
    let (code, stderr) = tokio::task::spawn_blocking(move || proxy.wait(60))
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    let events = events(&log);
    let types: Vec<&str> = events
        .iter()
        .filter_map(|e| e["event_type"].as_str())
        .collect();
    assert_eq!(
        types,
        [
            "gate_decision",
            "route_decision",
            "request_transform",
            "http_request",
            "response_transform",
            "http_response",
            "gate_decision",
            "route_decision",
            "request_transform",
            "http_request",
            "response_transform",
            "http_response",
            "gate_decision",
        ]
    );
    let routed_request = &of_type(&events, "http_request")[1]["data"];
    assert_eq!(routed_request["routed"], true);
    assert_eq!(routed_request["routed_to"], local.address().to_string());
    let last = events.last().unwrap();
    assert_eq!(
        (
            last["data"]["host"].as_str(),
            last["data"]["allowed"].as_bool()
        ),
        (Some("localhost"), Some(false))
    );
    assert!(!read(&log).contains(OPENAI_KEY));

    let out = Command::new(env!("CARGO_BIN_EXE_agentlog"))
        .args(["validate", "--profile", "v1"])
        .arg(&log)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("13 event(s) checked; 0 error(s), 0 warning(s)"),
        "{stdout}"
    );
}

/// Restarting with the same event log keeps the budget: the spend already in the log is
/// shown at start-up, and a line that is not JSON is reported and skipped, not fatal.
#[test]
fn budget_spend_is_restored_from_the_log_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    let lines = [
        r#"{"ts":"2026-11-23T10:00:00Z","run_id":"vm-1","agent_system":"a","event_type":"llm_response","summary":"s","data":{"method":"POST","host":"api.openai.com","path":"/v1/chat/completions","status_code":200,"duration_ms":1,"body_bytes":1,"input_tokens":30,"output_tokens":12,"cost_usd":0.25,"cost_source":"price_table"}}"#,
        "{corrupt",
        r#"{"ts":"2026-11-23T10:00:01Z","run_id":"vm-1","agent_system":"a","event_type":"llm_response","summary":"s","data":{"method":"POST","host":"api.openai.com","path":"/v1/chat/completions","status_code":200,"duration_ms":1,"body_bytes":1,"cost_usd":0.5,"cost_source":"reservation","usage":"unknown"}}"#,
    ];
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_agentlog"))
        .args([
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--budget-usd",
            "2",
            "--ca-dir",
        ])
        .arg(dir.path().join("ca"))
        .arg("--event-log")
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let budget_line = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("no budget line at start-up");
        if line.starts_with("budget:") {
            break line;
        }
    };
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        budget_line,
        "budget: $0.75 of $2 spent so far (42 tokens); warning at 80%"
    );
    assert!(
        stderr.contains("events.jsonl:2: not a JSON event; not counted in the budget"),
        "{stderr}"
    );
}

/// A chat completion through the proxy, read to its end.
async fn complete_chat(client: &reqwest::Client) {
    let resp = client
        .post("https://api.openai.com/v1/chat/completions")
        .header("authorization", format!("Bearer {PLACEHOLDER}"))
        .body(r#"{"model":"gpt-4o-mini"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.bytes().await.unwrap();
}

/// How many events of each type `events` holds: `(key_injection, llm_request, llm_response)`.
fn counts(events: &[Value]) -> (usize, usize, usize) {
    (
        of_type(events, "key_injection").len(),
        of_type(events, "llm_request").len(),
        of_type(events, "llm_response").len(),
    )
}

/// The signals process `pid` catches or ignores (bit `n - 1` for signal `n`), from
/// `/proc/PID/status`.
fn handled_signals(pid: u32) -> u64 {
    let status = read(Path::new(&format!("/proc/{pid}/status")));
    let mask = |field: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .map(|hex| u64::from_str_radix(hex.trim(), 16).unwrap())
            .unwrap_or_else(|| panic!("no {field} in {status}"))
    };
    mask("SigIgn:") | mask("SigCgt:")
}

/// SIGHUP (what logrotate sends after renaming the log) reopens the log: streams in flight
/// keep going, and every event is in the renamed file or the new one, exactly once. A SIGHUP
/// with the log not renamed keeps writing the same file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reopens_the_log_with_streams_in_flight() {
    let fixture = TlsFixture::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    let rotated = dir.path().join("events.jsonl.1");
    let log_arg = log.to_str().unwrap().to_owned();
    let proxy = ProxyProcess::start(&fixture, dir.path(), &["--event-log", &log_arg]);
    #[cfg(target_os = "linux")]
    {
        let handled = handled_signals(proxy.pid());
        for (name, number) in [("SIGHUP", 1), ("SIGPIPE", 13), ("SIGXFSZ", 25)] {
            assert_ne!(
                handled & (1 << (number - 1)),
                0,
                "{name} has its default action"
            );
        }
    }
    let client = proxy.client();
    for _ in 0..2 {
        complete_chat(&client).await;
    }
    let mut streams = Vec::new();
    for _ in 0..5 {
        let mut resp = stream_request(&client).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        resp.chunk().await.unwrap().expect("a first chunk");
        streams.push(tokio::spawn(async move { resp.bytes().await.is_ok() }));
    }
    std::fs::rename(&log, &rotated).unwrap();
    proxy.signal("HUP");
    let line = proxy.wait_stderr("SIGHUP received", 30);
    assert!(line.contains("reopened"), "{line}");
    for _ in 0..2 {
        complete_chat(&client).await;
    }
    // Released after the reopen: their responses go to the new file.
    for _ in 0..5 {
        fixture.release();
    }
    for s in streams {
        assert!(s.await.unwrap(), "a stream in flight failed across SIGHUP");
    }
    proxy.signal("HUP");
    let line = proxy.wait_stderr("SIGHUP received", 30);
    assert!(line.contains("was not rotated"), "{line}");
    complete_chat(&client).await;
    proxy.signal("TERM");
    let (code, stderr) = tokio::task::spawn_blocking(move || proxy.wait(60))
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("synced and closed"), "{stderr}");
    let (old, new) = (events(&rotated), events(&log));
    // Before the rename: two whole exchanges and the request events of the five streams.
    assert_eq!(counts(&old), (7, 7, 2), "{old:#?}");
    // After it: the five streams' responses and three whole exchanges.
    assert_eq!(counts(&new), (3, 3, 8), "{new:#?}");
    assert_eq!(old.len() + new.len(), 30, "no other event, none twice");
    let streamed = of_type(&new, "llm_response")
        .into_iter()
        .filter(|e| e["data"]["output_tokens"] == 6)
        .count();
    assert_eq!(
        streamed, 5,
        "the streams' responses, complete, in the new file"
    );
    assert!(
        of_type(&new, "llm_response")
            .iter()
            .all(|e| tags(e) == ["tls"])
    );
}

/// Under a file-size limit (`ulimit -f`, systemd's `LimitFSIZE=`) the write that crosses it
/// fails with EFBIG instead of SIGXFSZ killing the proxy: requests get the documented 503,
/// the proxy keeps answering, and it exits 2 reporting the lost events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_size_limit_refuses_requests_instead_of_killing_the_proxy() {
    const LIMIT: u64 = 4096;
    let fixture = TlsFixture::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    let log_arg = log.to_str().unwrap().to_owned();
    let fsize = format!("--fsize={LIMIT}");
    let proxy = ProxyProcess::launch(
        &fixture,
        dir.path(),
        &["--event-log", &log_arg],
        &[],
        &["prlimit", &fsize, "--"],
    );
    let client = proxy.client();
    let mut refused = None;
    let mut outcomes = Vec::new();
    for _ in 0..100 {
        let sent = client
            .post("https://api.openai.com/v1/chat/completions")
            .header("authorization", format!("Bearer {PLACEHOLDER}"))
            .body(r#"{"model":"gpt-4o-mini"}"#)
            .send()
            .await;
        // A response whose llm_response did not fit is withheld (its stream reset), so an
        // error is no proof of death; only a 503 after the limit proves the proxy lived.
        let Ok(resp) = sent else {
            outcomes.push(0);
            continue;
        };
        let status = resp.status().as_u16();
        outcomes.push(status);
        let body = resp.bytes().await;
        if status == 503 {
            refused = Some(body.unwrap());
            break;
        }
        assert_eq!(status, 200, "{outcomes:?}");
    }
    let body = refused.unwrap_or_else(|| {
        panic!(
            "no 503 (the proxy died at the limit, or never reached it): {outcomes:?}; stderr: {}",
            proxy.stderr.so_far()
        )
    });
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "event_log_unavailable", "{body}");
    // Still alive, still refusing what it cannot log.
    let again = client
        .post("https://api.openai.com/v1/chat/completions")
        .header("authorization", format!("Bearer {PLACEHOLDER}"))
        .body(r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"a request whose events cannot fit"}]}"#)
        .send()
        .await
        .expect("the proxy answers after the limit was hit");
    assert_eq!(again.status(), 503);
    proxy.signal("TERM");
    let (code, stderr) = tokio::task::spawn_blocking(move || proxy.wait(60))
        .await
        .unwrap();
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("event not written"), "{stderr}");
    assert!(stderr.contains("File too large"), "{stderr}");
    assert!(stderr.contains("could not be written"), "{stderr}");
    assert!(std::fs::metadata(&log).unwrap().len() <= LIMIT);
    // No torn line: `events` fails on one.
    assert!(!events(&log).is_empty());
}

/// One budget gate per log: a second proxy on a log another proxy is writing refuses to
/// start (exit 2) naming the log; once the first stops, the log is free again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_proxy_on_the_same_log_refuses_to_start() {
    let fixture = TlsFixture::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.jsonl");
    let log_arg = log.to_str().unwrap().to_owned();
    let first = ProxyProcess::start(&fixture, dir.path(), &["--event-log", &log_arg]);
    let second = dir.path().join("second");
    std::fs::create_dir(&second).unwrap();
    let stderr = proxy_fails(
        &["--event-log", &log_arg, "--budget-usd", "5"],
        &second.join("ca"),
    );
    assert!(
        stderr.contains(&format!(
            "event log {log_arg} is in use by another agentlog proxy"
        )),
        "{stderr}"
    );
    complete_chat(&first.client()).await;
    first.signal("TERM");
    let (code, stderr) = tokio::task::spawn_blocking(move || first.wait(60))
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    let third = ProxyProcess::start(&fixture, &second, &["--event-log", &log_arg]);
    third.signal("TERM");
    let (code, stderr) = tokio::task::spawn_blocking(move || third.wait(60))
        .await
        .unwrap();
    assert_eq!(
        code,
        Some(0),
        "the lock went with the first proxy: {stderr}"
    );
    assert_eq!(counts(&events(&log)), (1, 1, 1));
}

/// `--seal --seal-key`: the log is sealed while the proxy runs (each sealing waited for on
/// the seal file) and once more after it closed the log; `agentlog verify --pubkey` passes on
/// it, and fails once a line is changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_log_is_sealed_while_running_and_at_shutdown() {
    let fixture = TlsFixture::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let agentlog = env!("CARGO_BIN_EXE_agentlog");
    let keygen = Command::new(agentlog)
        .arg("keygen")
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(keygen.success());
    let log = dir.path().join("events.jsonl");
    let seal = dir.path().join("events.jsonl.seal");
    let (log_arg, key_arg) = (
        log.to_str().unwrap().to_owned(),
        dir.path().join("seal.key").to_str().unwrap().to_owned(),
    );
    let proxy = ProxyProcess::start(
        &fixture,
        dir.path(),
        &[
            "--event-log",
            &log_arg,
            "--seal-key",
            &key_arg,
            "--seal-every",
            "50ms",
        ],
    );
    let client = proxy.client();
    let post = |n: u32| {
        client
            .post("https://api.openai.com/v1/chat/completions")
            .header("authorization", format!("Bearer {PLACEHOLDER}"))
            .body(format!(r#"{{"model":"gpt-4o-mini","n":{n}}}"#))
            .send()
    };
    let resp = post(1).await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.bytes().await.unwrap();
    // While running: a checkpoint appears (waited for, failing loudly after 30 s).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::fs::metadata(&seal).map_or(0, |m| m.len()) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint while running"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let resp = post(2).await.unwrap();
    resp.bytes().await.unwrap();
    proxy.signal("TERM");
    let (code, stderr) = tokio::task::spawn_blocking(move || proxy.wait(60))
        .await
        .unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    let lines = std::fs::read_to_string(&log).unwrap().lines().count();
    assert!(
        stderr.contains(&format!("event log sealed: {lines} line(s); last digest ")),
        "{stderr}"
    );
    let verify = |extra: &[&str]| {
        Command::new(agentlog)
            .arg("verify")
            .arg("--pubkey")
            .arg(dir.path().join("seal.pub"))
            .args(extra)
            .arg(&log)
            .output()
            .unwrap()
    };
    let out = verify(&[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.replacen("gpt-4o-mini", "gpt-4o-maxi", 1)).unwrap();
    let out = verify(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("seal.line_changed"));
}
