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
//! CI integration (issue 22, item 3): the GitHub Action's script (`.github/action/run.sh`,
//! called by `action.yml`) run with a fake `GITHUB_*` environment, and the pre-commit hooks
//! (`.pre-commit-hooks.yaml`) run by `pre-commit try-repo` against a sample repository.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_agentlog");
const GOOD: &str = "conformance/logs/valid_v0_all_types.jsonl";
const BAD: &str = "testdata/validate/crafted-bad.jsonl";
const WARNING_ONLY: &str = "conformance/logs/ts_backwards_warning.jsonl";

fn root(rel: &str) -> String {
    Path::new(ROOT).join(rel).display().to_string()
}

/// The files a run of the action leaves: the runner's temp dir, `$GITHUB_OUTPUT` and
/// `$GITHUB_STEP_SUMMARY`.
struct Runner {
    dir: tempfile::TempDir,
}

impl Runner {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs the action's step as action.yml does: inputs as `INPUT_*` variables.
    fn run(&self, inputs: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new("bash");
        cmd.arg(root(".github/action/run.sh"))
            .current_dir(ROOT)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_ACTION_PATH", ROOT)
            .env("GITHUB_WORKSPACE", ROOT)
            .env("GITHUB_OUTPUT", self.path("github_output"))
            .env("GITHUB_STEP_SUMMARY", self.path("step_summary"))
            .env("RUNNER_TEMP", self.dir.path())
            .env("RUNNER_OS", "Linux")
            .env("AGENTLOG_BIN", BIN);
        for (k, v) in inputs {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    fn outputs(&self) -> String {
        std::fs::read_to_string(self.path("github_output")).unwrap_or_default()
    }

    fn summary(&self) -> String {
        std::fs::read_to_string(self.path("step_summary")).unwrap_or_default()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn action_good_log_passes_and_writes_valid_sarif() {
    let r = Runner::new();
    let out = r.run(&[("INPUT_PATHS", &format!("{}\n\n", root(GOOD)))]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("::notice title=agentlog validate::ok:"),
        "{stdout}"
    );
    assert!(!stdout.contains("::error"), "{stdout}");

    let sarif_path = r.path("agentlog.sarif");
    let outputs = r.outputs();
    assert!(
        outputs.contains(&format!("sarif={}\n", sarif_path.display())),
        "{outputs}"
    );
    assert!(outputs.contains("exit-code=0\n"), "{outputs}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif_path).unwrap()).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    assert!(!doc["runs"].as_array().unwrap().is_empty(), "{doc}");

    let schema_text = include_str!("../testdata/validate/sarif-2.1.0-rtm.5.json").replace(
        r"^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$",
        r"^[a-zA-Z]{2}(-[a-zA-Z]{2})?$",
    );
    let schema: serde_json::Value = serde_json::from_str(&schema_text).unwrap();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");

    let summary = r.summary();
    assert!(
        summary.contains(":white_check_mark: ok: 1 file(s)"),
        "{summary}"
    );
}

#[test]
fn action_bad_log_fails_with_error_annotations() {
    let r = Runner::new();
    let out = r.run(&[("INPUT_PATHS", &root(BAD))]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    let file_errors = stdout
        .lines()
        .filter(|l| l.starts_with(&format!("::error file={},line=", root(BAD))))
        .count();
    assert!(file_errors >= 5, "{stdout}");
    assert!(
        stdout.contains("::error title=agentlog validate::FAILED:"),
        "{stdout}"
    );
    // The validator's redaction holds in the annotations too.
    assert!(stdout.contains("value redacted"), "{stdout}");
    // The SARIF report is still written, for the upload step.
    assert!(r.path("agentlog.sarif").is_file());
    assert!(r.outputs().contains("exit-code=1\n"));
    assert!(r.summary().contains(":x: FAILED:"), "{}", r.summary());
}

#[test]
fn action_fail_levels_and_formats() {
    // fail-level none: findings never fail the step.
    let r = Runner::new();
    let out = r.run(&[("INPUT_PATHS", &root(BAD)), ("INPUT_FAIL_LEVEL", "none")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("::error file="));

    // A log with warnings only passes at `error` and fails at `warning`.
    let r = Runner::new();
    let out = r.run(&[("INPUT_PATHS", &root(WARNING_ONLY))]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("::warning file="));
    let out = r.run(&[
        ("INPUT_PATHS", &root(WARNING_ONLY)),
        ("INPUT_FAIL_LEVEL", "warning"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("1 warning(s) and fail-level is warning"),
        "{}",
        text(&out.stdout)
    );

    // A JUnit report instead of SARIF, under an explicit profile and a secrets file.
    let r = Runner::new();
    let secrets = r.path("secrets.env");
    std::fs::write(&secrets, "OPENAI_API_KEY=not-in-the-log-1234\n").unwrap();
    let out = r.run(&[
        ("INPUT_PATHS", &root(GOOD)),
        ("INPUT_FORMAT", "junit"),
        ("INPUT_PROFILE", "v0"),
        ("INPUT_SECRETS_FILE", secrets.to_str().unwrap()),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = r.path("agentlog.xml");
    let xml = std::fs::read_to_string(&report).unwrap();
    assert!(xml.contains("<testsuites"), "{xml}");
    let outputs = r.outputs();
    assert!(
        outputs.contains(&format!("report={}\n", report.display())),
        "{outputs}"
    );
    assert!(!outputs.contains("sarif="), "{outputs}");

    // Bad inputs of the action itself.
    let r = Runner::new();
    let out = r.run(&[("INPUT_PATHS", &root(GOOD)), ("INPUT_FAIL_LEVEL", "loud")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stdout).contains("fail-level must be error, warning or none"));
    let out = r.run(&[("INPUT_PATHS", " \n")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stdout).contains("the paths input is empty"));
}

#[test]
fn action_missing_path_fails_with_the_validators_message() {
    let r = Runner::new();
    let missing = r.path("no-such-dir/events.jsonl");
    let out = r.run(&[(
        "INPUT_PATHS",
        &format!("{}\n{}", root(GOOD), missing.display()),
    )]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    // Exactly what `agentlog validate` says on its own, on stderr and as an annotation.
    let direct = Command::new(BIN)
        .args(["validate", "--format", "github"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(direct.status.code(), Some(2));
    let message = text(&direct.stderr);
    let message = message.trim_end();
    assert!(message.contains("No such file or directory"), "{message}");
    assert!(stderr.contains(message), "{stderr}");
    assert!(
        stdout.contains(&format!("::error title=agentlog validate::{message}")),
        "{stdout}"
    );
    // Even at fail-level none.
    let out = r.run(&[
        ("INPUT_PATHS", missing.to_str().unwrap()),
        ("INPUT_FAIL_LEVEL", "none"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!r.outputs().contains("sarif="));
    assert!(r.summary().contains("did not run"), "{}", r.summary());
}

/// A cache hit: `$AGENTLOG_ROOT/bin/agentlog` is there, so neither `install` nor the
/// validation step builds (cargo is off PATH: the system directories only).
#[cfg(unix)]
#[test]
fn action_uses_the_cached_binary_without_cargo() {
    let r = Runner::new();
    let cache = r.path("agentlog-action");
    std::fs::create_dir_all(cache.join("bin")).unwrap();
    std::os::unix::fs::symlink(BIN, cache.join("bin/agentlog")).unwrap();
    for args in [&["install"][..], &[][..]] {
        let out = Command::new("bash")
            .arg(root(".github/action/run.sh"))
            .args(args)
            .current_dir(ROOT)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("GITHUB_ACTION_PATH", ROOT)
            .env("GITHUB_OUTPUT", r.path("github_output"))
            .env("RUNNER_TEMP", r.dir.path())
            .env("AGENTLOG_ROOT", &cache)
            .env("INPUT_PATHS", root(GOOD))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert!(!text(&out.stdout).contains("cargo install"));
    }
    assert!(r.outputs().contains("exit-code=0\n"), "{}", r.outputs());
}

#[test]
fn action_cache_key_follows_the_sources() {
    let r = Runner::new();
    let out = Command::new("bash")
        .arg(root(".github/action/run.sh"))
        .arg("key")
        .env("GITHUB_ACTION_PATH", ROOT)
        .env("GITHUB_OUTPUT", r.path("github_output"))
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let outputs = r.outputs();
    let key = outputs.trim_end().strip_prefix("key=").unwrap();
    assert!(key.starts_with("agentlog-Linux-X64-"), "{key}");
    assert_eq!(key.len(), "agentlog-Linux-X64-".len() + 16, "{key}");
}

/// `pre-commit` from `$AGENTLOG_PRE_COMMIT` or PATH (`.ci/run` installs it).
fn pre_commit() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("AGENTLOG_PRE_COMMIT") {
        return Some(PathBuf::from(p));
    }
    let ok = Command::new("pre-commit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then(|| PathBuf::from("pre-commit"))
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
}

/// A sample repository: a good log, a gzipped good log, and a file the hook must not pick.
fn sample_repo() -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    git(dir, &["init", "-q"]);
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    std::fs::copy(root(GOOD), dir.join("logs/events.jsonl")).unwrap();
    let gz = std::fs::File::create(dir.join("logs/old.jsonl.gz")).unwrap();
    let mut enc = flate2::write::GzEncoder::new(gz, flate2::Compression::default());
    std::io::Write::write_all(&mut enc, &std::fs::read(root(GOOD)).unwrap()).unwrap();
    enc.finish().unwrap();
    std::fs::write(dir.join("notes.json"), "not a log {\n").unwrap();
    git(dir, &["add", "."]);
    repo
}

fn try_repo(pre_commit: &Path, repo: &Path, home: &Path, hook: &str, path: &str) -> Output {
    Command::new(pre_commit)
        .args(["try-repo", ROOT, hook, "--all-files", "--verbose"])
        .current_dir(repo)
        .env("PATH", path)
        .env("PRE_COMMIT_HOME", home)
        .env("PRE_COMMIT_COLOR", "never")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .unwrap()
}

/// The hook runs on the repository's `*.jsonl` and `*.jsonl.gz` files, passes good logs and
/// fails on a bad one with the validator's findings.
fn check_hook(hook: &str, path: &str, home: &Path) {
    let Some(pre_commit) = pre_commit() else {
        eprintln!(
            "\n\n*** SKIPPED {hook}: pre-commit is not installed (pip install pre-commit, or set \
             AGENTLOG_PRE_COMMIT); .ci/run installs it ***\n\n"
        );
        return;
    };
    let in_git = Command::new("git")
        .args(["rev-parse", "--git-dir"])
        .current_dir(ROOT)
        .output()
        .is_ok_and(|o| o.status.success());
    if !in_git {
        eprintln!(
            "\n\n*** SKIPPED {hook}: {ROOT} is not a git checkout, and pre-commit try-repo \
             clones it ***\n\n"
        );
        return;
    }
    let repo = sample_repo();
    let out = try_repo(&pre_commit, repo.path(), home, hook, path);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{all}");
    assert!(all.contains("Passed"), "{all}");
    assert!(all.contains("2 file(s)"), "{all}");
    assert!(!all.contains("notes.json"), "{all}");

    std::fs::copy(root(BAD), repo.path().join("logs/bad.jsonl")).unwrap();
    git(repo.path(), &["add", "."]);
    let out = try_repo(&pre_commit, repo.path(), home, hook, path);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("Failed"), "{all}");
    assert!(
        all.contains("logs/bad.jsonl:1: error[envelope.missing]"),
        "{all}"
    );
}

/// The `language: system` hook with the built binary on PATH: no build, no network.
#[test]
fn pre_commit_try_repo_system_hook() {
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    check_hook(
        "agentlog-validate-system",
        path.to_str().unwrap(),
        home.path(),
    );
}

/// The `language: rust` hook: pre-commit runs `cargo install --path` of this repository into
/// its cache, a release build of the whole tool (minutes, and crates.io unless vendored).
#[test]
#[ignore = "pre-commit builds agentlog in release mode with cargo install, twice (17 min on 2 shared cores)"]
fn pre_commit_try_repo_rust_hook() {
    let home = tempfile::tempdir().unwrap();
    let path = std::env::var("PATH").unwrap_or_default();
    check_hook("agentlog-validate", &path, home.path());
}
