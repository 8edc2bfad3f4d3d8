// A test crate: a failed unwrap or index fails the test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::too_many_lines,
    unreachable_pub,
    missing_docs
)]
#![allow(clippy::disallowed_macros)] // the mutation table is the test's report, on stderr.
//! The kit's own mutation test: a conformance kit is only as good as the wrong
//! implementations it rejects.
//!
//! `conformance/mutants/NAME.json` are one-bug patches of the Python port
//! (`examples/ports/python/`): `{"id", "harness": "validate" | "proxy", "file", "find",
//! "replace", "description"}`, `find` occurring exactly once in `file`. For each, the port is
//! copied to a temporary directory, the patch applied, and the harness run on it exactly as a
//! port author runs it (the built `agentlog`, the port's own unsupported list); the mutant must
//! be rejected (exit 1, a failed case), and the case that caught it is named. README.md states
//! the score, which a test holds to the number of mutants.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use serde::Deserialize;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn port_dir() -> PathBuf {
    root().join("examples/ports/python")
}

/// One one-bug patch of the Python port.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Mutant {
    id: String,
    harness: String,
    file: String,
    find: String,
    replace: String,
    description: String,
}

/// Every mutant, sorted by id; a file that does not parse, or whose id is not its name,
/// fails naming it.
fn mutants() -> Vec<Mutant> {
    let dir = root().join("conformance/mutants");
    let mut out: Vec<Mutant> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let mutant: Mutant = serde_json::from_slice(&std::fs::read(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let stem = path.file_stem().unwrap().to_string_lossy();
            assert_eq!(
                mutant.id,
                stem,
                "{}: id is not the file's name",
                path.display()
            );
            assert!(
                !mutant.description.is_empty(),
                "mutant {}: no description",
                mutant.id
            );
            mutant
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// A copy of the port with the mutant's patch applied.
fn apply(mutant: &Mutant) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(port_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let target = dir.path().join(&mutant.file);
    let text = std::fs::read_to_string(&target)
        .unwrap_or_else(|e| panic!("mutant {}: {}: {e}", mutant.id, mutant.file));
    let found = text.matches(&mutant.find).count();
    assert_eq!(
        found, 1,
        "mutant {}: `find` occurs {found} times in {}, not once",
        mutant.id, mutant.file
    );
    std::fs::write(&target, text.replacen(&mutant.find, &mutant.replace, 1)).unwrap();
    dir
}

/// The interceptor harness hands its port a free loopback port: two runs at once could
/// hand out the same one.
static ONE_PROXY_RUN_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs the mutant's harness on the patched port in `dir`: (exit code, stdout).
fn run_harness(mutant: &Mutant, dir: &Path) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_agentlog"));
    command.current_dir(root()).arg("conformance");
    let _turn;
    match mutant.harness.as_str() {
        "validate" => {
            let template = format!(
                "python3 {} {{flags}} {{log}}",
                dir.join("validate.py").display()
            );
            command.args(["validate", "--fail-fast", "--quiet", "--cmd", &template]);
            command
                .arg("--unsupported-from")
                .arg(dir.join("unsupported-validate.txt"));
        }
        "proxy" => {
            _turn = ONE_PROXY_RUN_AT_A_TIME
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let template = format!(
                "python3 {} --listen {{listen}} --event-log {{log}} --leaf-cert {{leaf_cert}} \
                 --leaf-key {{leaf_key}} --upstream-ca {{upstream_ca}} --connect-to {{connect_to}} \
                 {{secrets}} {{scenario_flags}} --quiet",
                dir.join("proxy.py").display()
            );
            command.args(["proxy", "--cmd", &template]);
            command
                .arg("--unsupported-from")
                .arg(dir.join("unsupported-proxy.txt"));
        }
        other => panic!("mutant {}: unknown harness {other:?}", mutant.id),
    }
    let output = command.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// The id of the first failed case in a harness's text report.
fn first_failure(stdout: &str) -> Option<String> {
    stdout.lines().find_map(|line| {
        let rest = line.strip_prefix("FAIL ")?;
        Some(rest.split(':').next().unwrap_or(rest).to_owned())
    })
}

/// Workers at once: the port's runs are processes, and CI machines have two cores.
const WORKERS: usize = 3;

#[test]
fn every_mutant_is_rejected_by_a_named_case() {
    let python = Command::new("python3").arg("--version").output();
    assert!(
        python.is_ok_and(|o| o.status.success()),
        "python3 is required for the mutation test"
    );
    let mutants = mutants();
    assert!(mutants.len() >= 20, "only {} mutants", mutants.len());
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(String, Result<String, String>)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                while let Some(mutant) = mutants.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let dir = apply(mutant);
                    let (exit, stdout) = run_harness(mutant, dir.path());
                    let verdict = match (exit, first_failure(&stdout)) {
                        (1, Some(case)) => Ok(case),
                        (exit, _) => Err(format!(
                            "survived ({}): harness exit {exit}\n{stdout}",
                            mutant.description
                        )),
                    };
                    let mut results = results.lock().unwrap_or_else(PoisonError::into_inner);
                    results.push((mutant.id.clone(), verdict));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(PoisonError::into_inner);
    results.sort();
    let mut survived = Vec::new();
    for (id, verdict) in &results {
        match verdict {
            Ok(case) => eprintln!("rejected {id}: caught by {case}"),
            Err(why) => survived.push(format!("{id}: {why}")),
        }
    }
    eprintln!(
        "mutation score: {} of {} mutants rejected",
        results.len() - survived.len(),
        results.len()
    );
    assert!(survived.is_empty(), "{}", survived.join("\n"));
}

#[test]
fn readme_states_the_mutation_score() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let n = mutants().len();
    let sentence = format!("{n} of {n} mutants rejected, 0 survived");
    assert!(
        readme.contains(&sentence),
        "README.md should state the mutation score: {sentence:?}"
    );
}

#[test]
fn a_find_that_does_not_occur_once_fails_naming_the_mutant() {
    let mutant = Mutant {
        id: "nowhere".into(),
        harness: "validate".into(),
        file: "validate.py".into(),
        find: "this text is in no file of the port".into(),
        replace: String::new(),
        description: "d".into(),
    };
    let panic = std::panic::catch_unwind(|| apply(&mutant)).unwrap_err();
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("mutant nowhere: `find` occurs 0 times"),
        "{message}"
    );
}
