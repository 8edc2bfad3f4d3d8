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

/// `agentlog conformance ARGS`, run from `cwd`.
fn run_harness(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let output = Command::new(env!("CARGO_BIN_EXE_agentlog"))
        .current_dir(cwd)
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
    // From a directory without the cases: they are embedded.
    let cwd = tempfile::tempdir().unwrap();
    let (exit, stdout, stderr) = run_harness(
        cwd.path(),
        &[
            "validate",
            "--cmd",
            &template,
            "--unsupported-from",
            list.to_str().unwrap(),
        ],
    );
    assert_port_passes(Kind::Validate, exit, &stdout, &stderr);
}

/// Exactly the command docs/conformance.md and the port's README give, run from the
/// repository's root as they say (a relative path to the port). (tests/docs.rs runs the
/// page's block too; this test keeps the port's own pass count in one place.)
#[test]
fn python_proxy_passes_the_interceptor_harness() {
    python();
    let template = "python3 examples/ports/python/proxy.py --listen {listen} --event-log {log} \
        --leaf-cert {leaf_cert} --leaf-key {leaf_key} --upstream-ca {upstream_ca} \
        --connect-to {connect_to} {secrets} {scenario_flags} --quiet";
    let documented = template.split_whitespace().collect::<Vec<_>>().join(" ");
    for (page, text) in [
        (
            "docs/conformance.md",
            include_str!("../docs/conformance.md"),
        ),
        (
            "examples/ports/python/README.md",
            include_str!("../examples/ports/python/README.md"),
        ),
    ] {
        assert!(
            text.contains(&format!("--cmd '{documented}'")),
            "{page}'s command changed"
        );
    }
    let (exit, stdout, stderr) = run_harness(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &[
            "proxy",
            "--cmd",
            &documented,
            "--unsupported-from",
            "examples/ports/python/unsupported-proxy.txt",
        ],
    );
    assert_port_passes(Kind::Proxy, exit, &stdout, &stderr);
}

/// The Python port's `seal_verify.py` gives every seal case's expected verdict: passed or
/// not, and each finding's rule and lines, with the exit code that goes with it.
#[test]
fn python_verify_gives_every_seal_case_its_verdict() {
    let python = python();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance");
    let entries: Vec<_> = cases::manifest()
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == Kind::Seal)
        .collect();
    assert!(entries.len() >= 20, "{entries:#?}");
    for entry in entries {
        let stem = entry.id.trim_start_matches("seal/");
        let expected: serde_json::Value =
            serde_json::from_slice(&std::fs::read(root.join(format!("seal/{stem}.json"))).unwrap())
                .unwrap();
        let mut command = Command::new(python);
        command.arg(port_dir().join("seal_verify.py"));
        if let Some(key) = expected["pubkey"].as_str() {
            command.arg("--pubkey").arg(root.join("seal").join(key));
        }
        if let Some(anchor) = expected["anchor"].as_str() {
            command.arg("--anchor").arg(anchor);
        }
        if expected["allow_tail"] == true {
            command.arg("--allow-tail");
        }
        let output = command
            .arg(root.join(format!("seal/{stem}.jsonl")))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let got: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "{stem}: not JSON ({e}): {stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        assert_eq!(got["passed"], expected["passed"], "{stem}: {got}");
        assert_eq!(got["findings"], expected["findings"], "{stem}: {got}");
        let code = if expected["passed"] == true { 0 } else { 1 };
        assert_eq!(output.status.code(), Some(code), "{stem}");
    }
}

/// The Python port's `seal_ledger_verify.py` gives every sealed-ledger case its expected
/// verdict: passed or not, each finding's rule, file and lines, and the exit code.
#[test]
fn python_verify_gives_every_seal_ledger_case_its_verdict() {
    let python = python();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/seal_ledger");
    let entries: Vec<_> = cases::manifest()
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == Kind::SealLedger)
        .collect();
    assert!(entries.len() >= 10, "{entries:#?}");
    for entry in entries {
        let stem = entry.id.trim_start_matches("seal_ledger/");
        let expected: serde_json::Value =
            serde_json::from_slice(&std::fs::read(root.join(format!("{stem}.json"))).unwrap())
                .unwrap();
        let mut command = Command::new(python);
        command.arg(port_dir().join("seal_ledger_verify.py"));
        if let Some(key) = expected["pubkey"].as_str() {
            command.arg("--pubkey").arg(root.join(key));
        }
        let output = command.arg(root.join(stem)).output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let got: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "{stem}: not JSON ({e}): {stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
        assert_eq!(got["passed"], expected["passed"], "{stem}: {got}");
        assert_eq!(got["findings"], expected["findings"], "{stem}: {got}");
        let code = if expected["passed"] == true { 0 } else { 1 };
        assert_eq!(output.status.code(), Some(code), "{stem}");
    }
}
