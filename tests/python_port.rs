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
    // The validator's own first profile is never declared away: every v0 case passes (the
    // validator's test then asks for every case).
    let v0: Vec<String> = cases::manifest()
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == Kind::Validate && kind == Kind::Validate && e.profile == "v0")
        .map(|e| e.id)
        .collect();
    let unsupported_v0: Vec<&String> = v0
        .iter()
        .filter(|id| !stdout.lines().any(|l| l == format!("PASS {id}")))
        .collect();
    assert!(
        unsupported_v0.is_empty()
            && passed * 3 >= total
            && (kind != Kind::Proxy || passed * 2 >= total),
        "the port should pass every v0 validator case, a third of the cases (half the proxy's): {passed} of {total}, \
         v0 not passed: {unsupported_v0:?}\n{stdout}"
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
    // The validator declares nothing: every case of every profile (v0, v1, the ledger, auto's
    // choice and mixed files, the decoding depth cap) passes, none is unsupported.
    let total = manifest_count(Kind::Validate);
    assert_eq!(count(&stdout, "UNSUPPORTED"), 0, "{stdout}");
    assert_eq!(count(&stdout, "PASS"), total, "{stdout}");
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with(&format!("{total} of {total} cases passed (0 unsupported) ")),
        "summary: {summary}"
    );
    let declared = agentlog_conformance::select::Unsupported::read_list(&list).unwrap();
    assert!(declared.globs().is_empty(), "{declared:?}");
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
    // The port declares nothing unsupported: the v1 profile (its gate and routes) and the
    // budget run like every other scenario.
    let total = manifest_count(Kind::Proxy);
    assert_eq!(count(&stdout, "UNSUPPORTED"), 0, "{stdout}");
    assert_eq!(count(&stdout, "PASS"), total, "{stdout}");
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with(&format!(
            "{total} of {total} scenarios passed (0 unsupported) "
        )),
        "summary: {summary}"
    );
}

/// The Python proxy prices requests with `prices.json`, a copy of the reference's built-in
/// price table (the port cannot reach into the crate: the mutation test runs a copy of the
/// port's directory), so the two gates reserve and charge the same amounts.
#[test]
fn python_proxy_prices_are_the_reference_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let reference = std::fs::read(root.join("crates/intercept/src/prices/builtin.json")).unwrap();
    let copy = std::fs::read(port_dir().join("prices.json")).unwrap();
    assert!(
        copy == reference,
        "examples/ports/python/prices.json differs from crates/intercept/src/prices/builtin.json: copy it again"
    );
}

/// The Python port's `seal_verify.py` (a ledger directory handed on to
/// `seal_ledger_verify.py`) passes every case of the seal harness, run exactly as
/// docs/conformance.md and the port's README give it, from the repository's root: the exit
/// code and every finding's rule, file and lines. No case is declared unsupported.
#[test]
fn python_verify_passes_the_seal_harness() {
    python();
    let template = "python3 examples/ports/python/seal_verify.py {flags} {path}";
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
            text.contains(&format!("--cmd '{template}'")),
            "{page}'s command changed"
        );
    }
    let (exit, stdout, stderr) = run_harness(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["seal", "--cmd", template],
    );
    let total = manifest_count(Kind::Seal) + manifest_count(Kind::SealLedger);
    assert!(total >= 51, "{total}");
    assert_eq!(exit, 0, "the Python port failed:\n{stdout}\n{stderr}");
    assert_eq!(count(&stdout, "PASS"), total, "{stdout}");
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with(&format!("{total} of {total} cases passed (0 unsupported) ")),
        "summary: {summary}"
    );
}

/// The small-order case catches a verifier that is not strict: the Python port with its
/// small-order check taken out fails `seal/small_order_key`, and no other case.
#[test]
fn python_verify_without_the_small_order_check_fails_its_case() {
    python();
    let port = tempfile::tempdir().unwrap();
    for name in ["seal_verify.py", "seal_ledger_verify.py"] {
        let text = std::fs::read_to_string(port_dir().join(name)).unwrap();
        let lax = text.replace(" or _small_order(a) or _small_order(r)", "");
        if name == "seal_verify.py" {
            assert_ne!(lax, text, "the small-order check moved");
        }
        std::fs::write(port.path().join(name), lax).unwrap();
    }
    let template = format!(
        "python3 {} {{flags}} {{path}}",
        port.path().join("seal_verify.py").display()
    );
    let (exit, stdout, _) = run_harness(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["seal", "--cmd", &template],
    );
    assert_eq!(exit, 1, "{stdout}");
    let failed: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL ")).collect();
    assert_eq!(failed.len(), 1, "{stdout}");
    assert!(
        failed[0].starts_with("FAIL seal/small_order_key: exit 0, expected 1 (failed); missing seal.bad_signature at seal line 1"),
        "{stdout}"
    );
}
