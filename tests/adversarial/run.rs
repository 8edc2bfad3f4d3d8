//! Running the real binary with a timeout, checking every stream and written file with the
//! oracle, and collecting failures by class so that one run shows every kind of hole.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::oracle::{self, Oracle};

/// Longest a single command may take.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// What a stream or file holds, for the checks of form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Text for a person: no raw control characters.
    Text,
    /// GitHub workflow commands: text, and every line starts with `::`.
    Github,
    Json,
    JsonLines,
    Sarif,
    Junit,
    /// HTML page: only leaks are checked.
    Html,
    /// Data the command was asked to write (a ledger, an event log): only leaks.
    Data,
}

impl Kind {
    pub fn of_validate(format: &str) -> Kind {
        match format {
            "text" => Kind::Text,
            "github" => Kind::Github,
            "json" => Kind::Json,
            "sarif" => Kind::Sarif,
            "junit" => Kind::Junit,
            other => panic!("format {other}"),
        }
    }
}

pub struct Output {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub timed_out: bool,
}

/// Runs `agentlog args` with `env`, failing loudly after [`TIMEOUT`].
pub fn agentlog(args: &[OsString], env: &[(String, String)]) -> Output {
    let start = Instant::now();
    let out = assert_cmd::Command::cargo_bin("agentlog")
        .expect("binary")
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env_remove("AGENTLOG_SESSION_ID")
        .env_remove("AGENTLOG_LEDGER_KEY_FILE")
        .env("NO_COLOR", "1")
        .timeout(TIMEOUT)
        .output()
        .expect("run agentlog");
    Output {
        code: out.status.code(),
        timed_out: out.status.code().is_none() && start.elapsed() >= TIMEOUT,
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

/// Shell-quoted.
pub fn quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@+".contains(&b))
    {
        arg.to_owned()
    } else if arg.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        format!("'{}'", arg.replace('\'', r"'\''"))
    } else {
        // Bash's $'...' with escapes, so a control character stays visible.
        let mut out = String::from("$'");
        for c in arg.chars() {
            match c {
                '\'' => out.push_str("\\'"),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() || !c.is_ascii() => {
                    for b in c.to_string().bytes() {
                        out.push_str(&format!("\\x{b:02x}"));
                    }
                }
                c => out.push(c),
            }
        }
        out.push('\'');
        out
    }
}

/// A command line for the report, paths under `root` shortened to `$D`.
pub fn command_line(args: &[OsString], env: &[(String, String)], root: &Path) -> String {
    let root = root.to_string_lossy();
    let mut parts: Vec<String> = env
        .iter()
        .map(|(k, v)| format!("{k}={}", quote(v)))
        .collect();
    parts.push("agentlog".into());
    for arg in args {
        let arg = arg.to_string_lossy();
        match arg.strip_prefix(&*root) {
            Some(rest) => parts.push(format!("\"$D\"{}", quote(rest))),
            None => parts.push(quote(&arg)),
        }
    }
    parts.join(" ")
}

/// One failed check.
struct Failure {
    /// Where it happened: used as the class key.
    class: String,
    attack: String,
    detail: String,
    repro: String,
}

/// The failures of one test, grouped by class at the end.
#[derive(Default)]
pub struct Failures {
    list: Mutex<Vec<Failure>>,
    runs: Mutex<usize>,
}

/// What a case did: the attack, for grouping (`encoding @ placement`), and how to repeat it.
pub struct Case<'a> {
    pub attack: String,
    pub repro: String,
    pub oracle: &'a Oracle,
}

impl Failures {
    pub fn add(&self, class: String, case: &Case, detail: String) {
        self.list.lock().expect("lock").push(Failure {
            class,
            attack: case.attack.clone(),
            detail,
            repro: case.repro.clone(),
        });
    }

    /// Checks one stream or file: no leak; no control character in text; well-formed.
    pub fn check(&self, case: &Case, what: &str, kind: Kind, bytes: &[u8]) {
        if let Some(leak) = case.oracle.leak(bytes) {
            self.add(format!("{what}: secret value printed"), case, leak);
        }
        if matches!(kind, Kind::Text | Kind::Github)
            && let Some(c) = oracle::control(bytes)
        {
            self.add(format!("{what}: raw control character"), case, c);
        }
        let form = match kind {
            Kind::Github => oracle::github(bytes),
            Kind::Json => oracle::json(bytes),
            Kind::JsonLines => oracle::json_lines(bytes),
            Kind::Sarif => oracle::sarif(bytes),
            Kind::Junit => oracle::junit(bytes),
            Kind::Text | Kind::Html | Kind::Data => None,
        };
        if let Some(problem) = form {
            self.add(format!("{what}: malformed"), case, problem);
        }
    }

    /// Checks a run: stdout as `kind`, stderr as text, and that it did not time out or crash.
    pub fn check_run(&self, case: &Case, command: &str, out: &Output, kind: Kind) {
        *self.runs.lock().expect("lock") += 1;
        if out.timed_out {
            self.add(
                format!("{command}: TIMED OUT after {TIMEOUT:?}"),
                case,
                String::new(),
            );
        } else if out.code.is_none() || out.code == Some(101) {
            self.add(
                format!("{command}: crashed (signal or panic)"),
                case,
                String::from_utf8_lossy(&out.stderr)
                    .chars()
                    .take(300)
                    .collect(),
            );
        }
        // A usage or I/O error (exit 2) may leave stdout empty: no report is not a
        // malformed one.
        let kind = if out.code == Some(2) && out.stdout.is_empty() {
            Kind::Data
        } else {
            kind
        };
        self.check(case, &format!("{command} stdout"), kind, &out.stdout);
        self.check(case, &format!("{command} stderr"), Kind::Text, &out.stderr);
    }

    /// Panics with every class of failure: how often, which attacks, and the first examples.
    pub fn finish(self, test: &str, seed: u64) {
        let runs = *self.runs.lock().expect("lock");
        let list = self.list.into_inner().expect("lock");
        eprintln!("{test}: {runs} runs of the binary checked (seed {seed})");
        if list.is_empty() {
            return;
        }
        let mut classes: BTreeMap<&str, Vec<&Failure>> = BTreeMap::new();
        for f in &list {
            classes.entry(&f.class).or_default().push(f);
        }
        let mut report = format!(
            "{test}: {} failures in {} classes (seed {seed}; rerun with AGENTLOG_ADVERSARIAL_SEED={seed})\n",
            list.len(),
            classes.len()
        );
        for (class, failures) in &classes {
            let attacks: BTreeSet<&str> = failures.iter().map(|f| f.attack.as_str()).collect();
            let attacks: Vec<&str> = attacks.into_iter().collect();
            report += &format!(
                "\n=== {class}: {} failure(s)\n    attacks: {}{}\n",
                failures.len(),
                attacks[..attacks.len().min(12)].join(" | "),
                if attacks.len() > 12 { " | ..." } else { "" }
            );
            for f in failures.iter().take(2) {
                report += &format!(
                    "    - [{}] {}\n      repro: {}\n",
                    f.attack, f.detail, f.repro
                );
            }
        }
        panic!("{report}");
    }
}
