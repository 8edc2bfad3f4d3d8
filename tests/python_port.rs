//! The proof that the conformance kit works for a port in another language: the Python port
//! in `examples/ports/python/` (standard library only) passes both harnesses, run as a port
//! author runs them, with what it does not support declared in its own lists.
//!
//! Python 3 is required (`.ci/run` installs it when missing); without it these tests fail
//! rather than skip, so CI can never report the proof as done without running it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, PoisonError};

use agentlog_conformance::cases::{self, Kind};

fn port_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ports/python")
}

fn python() -> &'static str {
    let found = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "python3 is required for the Python port's conformance run"
    );
    "python3"
}

/// One harness run at a time: the interceptor harness hands its port a loopback port it
/// found free, and two runs in parallel could hand out the same one.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// `agentlog conformance ARGS`, from a temporary directory (the cases are embedded).
fn run_harness(args: &[&str]) -> (i32, String, String) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let cwd = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_agentlog"))
        .current_dir(cwd.path())
        .arg("conformance")
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The verdict word of each line that starts with one (`PASS id`, `FAIL id: ...`).
fn count(stdout: &str, verdict: &str) -> usize {
    stdout
        .lines()
        .filter(|l| l.split_whitespace().next() == Some(verdict))
        .count()
}

fn manifest_count(kind: Kind) -> usize {
    cases::manifest()
        .unwrap()
        .iter()
        .filter(|e| e.kind == kind)
        .count()
}

/// Checks one harness run of the port: exit 0, every case either passed or declared
/// unsupported (none failed), and the port supports a real share of the cases.
fn assert_port_passes(kind: Kind, exit: i32, stdout: &str, stderr: &str) {
    let total = manifest_count(kind);
    let (passed, failed, unsupported) = (
        count(stdout, "PASS"),
        count(stdout, "FAIL"),
        count(stdout, "UNSUPPORTED"),
    );
    assert_eq!(exit, 0, "the Python port failed:\n{stdout}\n{stderr}");
    assert_eq!(failed, 0, "{stdout}");
    assert_eq!(passed + unsupported, total, "{stdout}");
    assert!(
        passed * 2 >= total,
        "the port should support at least half the cases: {passed} of {total}\n{stdout}"
    );
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with(&format!("{passed} of {total} ")),
        "summary: {summary}"
    );
}

#[test]
fn python_validator_passes_the_validator_harness() {
    let dir = port_dir();
    let template = format!(
        "{} {} {{flags}} {{log}}",
        python(),
        dir.join("validate.py").display()
    );
    let list = dir.join("unsupported-validate.txt");
    let (exit, stdout, stderr) = run_harness(&[
        "validate",
        "--cmd",
        &template,
        "--unsupported-from",
        list.to_str().unwrap(),
    ]);
    assert_port_passes(Kind::Validate, exit, &stdout, &stderr);
}

#[test]
fn python_proxy_passes_the_interceptor_harness() {
    let dir = port_dir();
    let template = format!(
        "{} {} --listen {{listen}} --event-log {{log}} --leaf-cert {{leaf_cert}} \
         --leaf-key {{leaf_key}} --upstream-ca {{upstream_ca}} --connect-to {{connect_to}} \
         {{secrets}} {{scenario_flags}} --quiet",
        python(),
        dir.join("proxy.py").display()
    );
    let list = dir.join("unsupported-proxy.txt");
    let (exit, stdout, stderr) = run_harness(&[
        "proxy",
        "--cmd",
        &template,
        "--unsupported-from",
        list.to_str().unwrap(),
    ]);
    assert_port_passes(Kind::Proxy, exit, &stdout, &stderr);
}
