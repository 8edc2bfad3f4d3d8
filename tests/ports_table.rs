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
//! The table of implementations in docs/ports.md is what the harnesses say: every harness
//! (validator, interceptor, seal) is run against every implementation that has one (the Rust
//! reference in process or `--self`, the Go port through `--cmd`, the Python port through
//! the commands its README and docs/conformance.md give), and the test fails when the table
//! differs, printing the table it computed. `AGENTLOG_UPDATE_PORTS_TABLE=1` writes it into
//! the page instead.
//!
//! Go and Python are needed. Without Go the table cannot be computed: the test says so and
//! passes locally, but fails when `CI` or `AGENTLOG_REQUIRE_GO` is set (as tests/go_port.rs).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

const BEGIN: &str = "<!-- ports-table:begin (tests/ports_table.rs writes it) -->";
const END: &str = "<!-- ports-table:end -->";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn required(vars: &[&str]) -> bool {
    vars.iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

/// The Go port's validator, built with the machine's Go (offline, caches under the target
/// directory); `None` when Go is missing and not required.
fn go_validator() -> Option<PathBuf> {
    let found = Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            !required(&["CI", "AGENTLOG_REQUIRE_GO"]),
            "go is required (CI or AGENTLOG_REQUIRE_GO is set) but not on PATH: install golang-go"
        );
        return None;
    }
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let bin = tmp.join("ports-table-go-validate");
    let out = Command::new("go")
        .current_dir(root().join("examples/ports/go"))
        .env("GOCACHE", tmp.join("go-build-cache"))
        .env("GOPATH", tmp.join("gopath"))
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOFLAGS", "-mod=mod")
        .env("GO111MODULE", "on")
        .args(["build", "-o"])
        .arg(&bin)
        .arg("./cmd/validate")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "go build ./cmd/validate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(bin)
}

/// The counts of one harness run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    passed: u64,
    failed: u64,
    unsupported: u64,
    total: u64,
}

/// `agentlog conformance ARGS --format json` from the repository's root, and `--unsupported-from
/// LIST` when the list exists; the counts of its report, and the wall time.
fn harness(args: &[&str], list: Option<&str>) -> (Counts, Duration) {
    let started = Instant::now();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_agentlog"));
    cmd.current_dir(root())
        .arg("conformance")
        .args(args)
        .args(["--format", "json"]);
    if let Some(list) = list.filter(|l| root().join(l).exists()) {
        cmd.args(["--unsupported-from", list]);
    }
    let out = cmd.output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "conformance {args:?}: no JSON report ({e}), exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    // The validator and seal reports hold the counts in `summary`, the proxy's at the top.
    let counts = report.get("summary").unwrap_or(&report);
    let n = |k: &str| {
        counts[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{args:?}: no {k}"))
    };
    let counts = Counts {
        passed: n("passed"),
        failed: n("failed"),
        unsupported: n("unsupported"),
        total: n("total"),
    };
    assert_eq!(
        counts.passed + counts.failed + counts.unsupported,
        counts.total,
        "{args:?}: {counts:?}"
    );
    (counts, started.elapsed())
}

const PYTHON_PROXY: &str = "python3 examples/ports/python/proxy.py --listen {listen} \
    --event-log {log} --leaf-cert {leaf_cert} --leaf-key {leaf_key} --upstream-ca {upstream_ca} \
    --connect-to {connect_to} {secrets} {scenario_flags} --quiet";

/// One row: implementation, harness, and its counts (`None`: it has no such part).
type Row = (&'static str, &'static str, Option<Counts>);

fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| implementation | harness | passed | failed | unsupported | total |\n\
         |---|---|---:|---:|---:|---:|\n",
    );
    for (implementation, harness, counts) in rows {
        match counts {
            Some(c) => out.push_str(&format!(
                "| {implementation} | {harness} | {} | {} | {} | {} |\n",
                c.passed, c.failed, c.unsupported, c.total
            )),
            None => out.push_str(&format!(
                "| {implementation} | {harness} | — | — | — | — |\n"
            )),
        }
    }
    out
}

#[test]
fn the_ports_table_is_what_the_harnesses_say() {
    let Some(go) = go_validator() else {
        eprintln!("go not installed: the ports table is not checked");
        return;
    };
    let go_template = format!("{} {{flags}} {{log}}", go.display());
    let started = Instant::now();
    // The validator and seal harnesses run beside the interceptor harness (which runs one
    // at a time: it hands its port a loopback port it found free).
    let (validators, proxies) = std::thread::scope(|s| {
        let validators = s.spawn(|| {
            [
                harness(&["validate"], None),
                harness(&["seal"], None),
                harness(
                    &["validate", "--cmd", &go_template],
                    Some("examples/ports/go/unsupported-validate.txt"),
                ),
                harness(
                    &[
                        "validate",
                        "--cmd",
                        "python3 examples/ports/python/validate.py {flags} {log}",
                    ],
                    Some("examples/ports/python/unsupported-validate.txt"),
                ),
                harness(
                    &[
                        "seal",
                        "--cmd",
                        "python3 examples/ports/python/seal_verify.py {flags} {path}",
                    ],
                    Some("examples/ports/python/unsupported-seal.txt"),
                ),
            ]
        });
        let proxies = s.spawn(|| {
            [
                harness(&["proxy", "--self"], None),
                harness(
                    &["proxy", "--cmd", PYTHON_PROXY],
                    Some("examples/ports/python/unsupported-proxy.txt"),
                ),
            ]
        });
        (validators.join().unwrap(), proxies.join().unwrap())
    });
    let [ref_validate, ref_seal, go_validate, py_validate, py_seal] = validators;
    let [ref_proxy, py_proxy] = proxies;
    for (what, (_, wall)) in [
        ("reference validator", ref_validate),
        ("reference proxy --self", ref_proxy),
        ("reference seal", ref_seal),
        ("Go validator", go_validate),
        ("Python validator", py_validate),
        ("Python proxy", py_proxy),
        ("Python seal", py_seal),
    ] {
        eprintln!("{what}: {wall:.2?}");
    }
    eprintln!("all harnesses: {:.2?}", started.elapsed());
    let reference = "Rust reference (`agentlog`)";
    let go = "Go (`examples/ports/go`)";
    let python = "Python (`examples/ports/python`)";
    let rows: [Row; 9] = [
        (reference, "validator", Some(ref_validate.0)),
        (reference, "interceptor", Some(ref_proxy.0)),
        (reference, "seal", Some(ref_seal.0)),
        (go, "validator", Some(go_validate.0)),
        (go, "interceptor", None),
        (go, "seal", None),
        (python, "validator", Some(py_validate.0)),
        (python, "interceptor", Some(py_proxy.0)),
        (python, "seal", Some(py_seal.0)),
    ];
    // The reference passes everything it is given.
    for (_, _, counts) in &rows[..3] {
        let c = counts.unwrap();
        assert_eq!((c.passed, c.total), (c.total, c.total), "{c:?}");
    }
    let expected = table(&rows);
    let page_path = root().join("docs/ports.md");
    let page = std::fs::read_to_string(&page_path).unwrap();
    let begin = page
        .find(BEGIN)
        .expect("docs/ports.md: no table begin marker")
        + BEGIN.len();
    let end = page.find(END).expect("docs/ports.md: no table end marker");
    let current = page[begin..end].trim_matches('\n');
    if current == expected.trim_end() {
        return;
    }
    if required(&["AGENTLOG_UPDATE_PORTS_TABLE"]) {
        let updated = format!("{}\n{expected}{}", &page[..begin], &page[end..]);
        std::fs::write(&page_path, updated).unwrap();
        eprintln!("docs/ports.md: table rewritten");
        return;
    }
    panic!(
        "docs/ports.md's table differs from what the harnesses say \
         (AGENTLOG_UPDATE_PORTS_TABLE=1 rewrites it); expected:\n{expected}"
    );
}
