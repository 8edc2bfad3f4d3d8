//! `agentlog verify`: a thin shell over [`agentlog_seal::verify`]; verdicts in text or JSON,
//! through the output gate.

use std::path::PathBuf;

use agentlog_seal::{
    Expect, Finding, LedgerFinding, LedgerVerdict, PublicKey, Signatures, Verdict,
};
use agentlog_validate::gate::Style;

use super::{EXIT_FINDINGS, EXIT_OK, fail, output, print_stdout_as};

/// Output format of `agentlog verify`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum OutFormat {
    /// A line per finding, `PATH:LINE: rule: message`, and a verdict per log.
    #[default]
    Text,
    /// One JSON document: every log's verdict and findings, and every finding again in one
    /// flat `findings` list, each with the `file` it is on.
    Json,
}

/// Check that each log is complete and unchanged since it was sealed (`agentlog seal`).
///
/// A PATH that is a ledger directory (`agentlog ledger log --seal`) is checked whole: each
/// day file against its seal, each day retention archived in its archive part, and the
/// links from each day's seal to the day before. Inside it, a member that is not a regular
/// file or cannot be read, an archive file no retention record names (or any directory in
/// archive/), a file staged under a recorded part's name that is not that part's sealed
/// lines, events.jsonl's seal without it, and a file `agentlog analyze` would read that is
/// not part of the ledger are findings (exit 1).
///
/// Reads the log's seal file (`PATH.seal`), checks its checkpoints as a chain (each digest,
/// each link to the one before, with --pubkey each signature), then reads the log once and
/// names the first line that differs, was deleted or was inserted, a truncation, and lines
/// after the last checkpoint. No line of the log is ever quoted. Exit codes: 0 every log
/// verified, 1 a log failed, 2 usage or I/O error.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// Logs to verify (files; each is checked against `PATH.seal`), or ledger directories.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Require every checkpoint to be signed by this public key (the `.pub` file of
    /// `agentlog keygen`); without it, signatures are not checked.
    #[arg(long, value_name = "FILE")]
    pub pubkey: Option<PathBuf>,
    /// Require a checkpoint with this digest (64 hex digits, as `agentlog seal` prints it),
    /// recorded earlier somewhere the log's writer cannot rewrite: a seal file alone cannot
    /// show that its last checkpoints were removed with the lines they covered, or that it
    /// was swapped with another log's. Takes one PATH.
    #[arg(long, value_name = "DIGEST", value_parser = parse_digest)]
    pub anchor: Option<[u8; 32]>,
    /// Accept lines after the last checkpoint (a log still being written): they are
    /// reported as unsealed, not failed.
    #[arg(long)]
    pub allow_tail: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: OutFormat,
}

fn parse_digest(text: &str) -> Result<[u8; 32], String> {
    agentlog_seal::digest_from_hex(text)
        .ok_or_else(|| "a checkpoint digest is 64 lowercase hex digits".to_owned())
}

/// Runs the subcommand. Every log is verified and reported; a PATH that cannot be read is
/// an error (exit 2) that does not hide the others' verdicts.
pub(super) fn run(args: Args) -> u8 {
    if args.anchor.is_some() && args.paths.len() != 1 {
        return fail("--anchor names a checkpoint of one log: give one PATH");
    }
    let key = match args.pubkey.as_deref().map(PublicKey::read).transpose() {
        Ok(key) => key,
        Err(e) => {
            let key_path = args.pubkey.as_deref().unwrap_or(std::path::Path::new(""));
            return fail(output::paths_shown(&e.to_string(), &[key_path]));
        }
    };
    let expect = Expect {
        key: key.as_ref(),
        anchor: args.anchor,
        allow_tail: args.allow_tail,
    };
    let mut verdicts = Vec::new();
    let mut ledgers = Vec::new();
    let mut errors = Vec::new();
    for path in &args.paths {
        if path.is_dir() {
            if args.anchor.is_some() {
                return fail("--anchor names a checkpoint of one log, not of a ledger directory");
            }
            match agentlog_seal::verify_ledger(path, &expect) {
                Ok(ledger) => ledgers.push(ledger),
                Err(e) => errors.push((path.clone(), output::paths_shown(&e.to_string(), &[path]))),
            }
            continue;
        }
        // The library refuses what is not a regular file (a directory too), naming it.
        let verdict = agentlog_seal::verify_expecting(path, &expect).map_err(|e| {
            let seal_path = agentlog_seal::seal_path(path);
            output::paths_shown(&e.to_string(), &[path.as_path(), &seal_path])
        });
        match verdict {
            Ok(verdict) => verdicts.push(verdict),
            Err(e) => errors.push((path.clone(), e)),
        }
    }
    let printed = match args.format {
        OutFormat::Text => {
            let mut out = text(&verdicts);
            out.extend(ledgers.iter().map(ledger_text));
            print_stdout_as(&out, Style::Text)
        }
        OutFormat::Json => print_stdout_as(&json(&verdicts, &ledgers, &errors), Style::Json),
    };
    let passed = verdicts.iter().all(Verdict::passed) && ledgers.iter().all(LedgerVerdict::passed);
    let mut code = match printed {
        Err(e) => fail(e),
        Ok(()) if passed => EXIT_OK,
        Ok(()) => EXIT_FINDINGS,
    };
    for (_, error) in errors {
        code = fail(error);
    }
    code
}

/// Where a finding points: the log's line, or the seal file's.
fn place(verdict: &Verdict, finding: &Finding) -> String {
    match (finding.seal_line(), finding.line()) {
        (Some(seal_line), _) => format!("{}:{seal_line}", output::path(&verdict.seal)),
        (None, Some(line)) => format!("{}:{line}", output::path(&verdict.log)),
        (None, None) => output::path(&verdict.seal),
    }
}

fn signatures(verdict: &Verdict) -> &'static str {
    match verdict.signatures {
        Signatures::None => "not signed",
        Signatures::NotChecked => "signed, signatures not checked (no --pubkey)",
        Signatures::Verified => "signatures verified",
        Signatures::Failed => "signatures FAILED",
    }
}

fn text(verdicts: &[Verdict]) -> String {
    let mut out = String::new();
    for verdict in verdicts {
        for finding in &verdict.findings {
            let level = if finding.is_error(verdict.allow_tail) {
                "error"
            } else {
                "note"
            };
            out.push_str(&format!(
                "{}: {level}: {}: {}\n",
                place(verdict, finding),
                finding.rule(),
                finding.message()
            ));
        }
        let outcome = if verdict.passed() { "ok" } else { "FAILED" };
        out.push_str(&format!(
            "{}: {outcome}: {} line(s) sealed by {} checkpoint(s), {}\n",
            output::path(&verdict.log),
            verdict.sealed_lines,
            verdict.checkpoints,
            signatures(verdict)
        ));
    }
    out
}

/// A ledger directory's verdict: each file's, then what was found across files, then the
/// directory's.
fn ledger_text(ledger: &LedgerVerdict) -> String {
    let mut out = text(&ledger.verdicts);
    for finding in &ledger.findings {
        let level = if finding.is_error() { "error" } else { "note" };
        out.push_str(&format!(
            "{}: {level}: {}: {}\n",
            ledger_place(finding),
            finding.rule(),
            finding.message()
        ));
    }
    let outcome = if ledger.passed() { "ok" } else { "FAILED" };
    out.push_str(&format!(
        "{}: {outcome}: ledger of {} day file(s) and {} archive part(s)\n",
        output::path(&ledger.dir),
        ledger.days,
        ledger.archived
    ));
    out
}

/// Where a ledger finding points: a file, and a seal's line when there is one.
fn ledger_place(finding: &LedgerFinding) -> String {
    match finding.place() {
        (path, Some(line)) => format!("{}:{line}", output::path(path)),
        (path, None) => output::path(path),
    }
}

/// A ledger directory's verdict in the JSON document.
fn ledger_json(ledger: &LedgerVerdict) -> serde_json::Value {
    let findings: Vec<serde_json::Value> = ledger
        .findings
        .iter()
        .map(|f| {
            let (path, seal_line) = f.place();
            serde_json::json!({
                "rule": f.rule(),
                "error": f.is_error(),
                "file": output::path(path),
                "seal_line": seal_line,
                "message": f.message(),
            })
        })
        .collect();
    serde_json::json!({
        "dir": output::path(&ledger.dir),
        "passed": ledger.passed(),
        "days": ledger.days,
        "archived": ledger.archived,
        "files": ledger.verdicts.iter().map(verdict_json).collect::<Vec<_>>(),
        "findings": findings,
    })
}

fn json(verdicts: &[Verdict], ledgers: &[LedgerVerdict], errors: &[(PathBuf, String)]) -> String {
    let files: Vec<serde_json::Value> = verdicts.iter().map(verdict_json).collect();
    // A log that could not be verified is in the document too, and never passes.
    let unread = errors.iter().map(|(path, error)| {
        serde_json::json!({
            "log": output::path(path),
            "passed": false,
            "error": output::shown(error),
        })
    });
    let files: Vec<serde_json::Value> = files.into_iter().chain(unread).collect();
    let findings: Vec<serde_json::Value> = verdicts
        .iter()
        .chain(ledgers.iter().flat_map(|l| &l.verdicts))
        .flat_map(placed_findings)
        .chain(
            ledgers
                .iter()
                .flat_map(|l| l.findings.iter().map(placed_ledger_finding)),
        )
        .collect();
    let mut document = serde_json::json!({
        "passed": errors.is_empty()
            && verdicts.iter().all(Verdict::passed)
            && ledgers.iter().all(LedgerVerdict::passed),
        "files": files,
        "findings": findings,
    });
    if let Some(document) = document.as_object_mut().filter(|_| !ledgers.is_empty()) {
        let ledgers = ledgers.iter().map(ledger_json).collect();
        document.insert("ledgers".to_owned(), ledgers);
    }
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

/// A log's findings for the document's flat `findings` (the conformance seal harness reads
/// them): each with the file it is on, its seal file when it names a seal line, else the
/// log.
fn placed_findings(verdict: &Verdict) -> Vec<serde_json::Value> {
    verdict
        .findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "rule": f.rule(),
                "error": f.is_error(verdict.allow_tail),
                "file": output::path(verdict.file_of(f)),
                "line": f.line(),
                "seal_line": f.seal_line(),
                "message": f.message(),
            })
        })
        .collect()
}

/// A finding across a ledger's files for the flat `findings`.
fn placed_ledger_finding(finding: &LedgerFinding) -> serde_json::Value {
    let (path, seal_line) = finding.place();
    serde_json::json!({
        "rule": finding.rule(),
        "error": finding.is_error(),
        "file": output::path(path),
        "line": null,
        "seal_line": seal_line,
        "message": finding.message(),
    })
}

/// One log's verdict in the JSON document.
fn verdict_json(verdict: &Verdict) -> serde_json::Value {
    let findings: Vec<serde_json::Value> = verdict
        .findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "rule": f.rule(),
                "error": f.is_error(verdict.allow_tail),
                "line": f.line(),
                "seal_line": f.seal_line(),
                "message": f.message(),
            })
        })
        .collect();
    serde_json::json!({
        "log": output::path(&verdict.log),
        "seal": output::path(&verdict.seal),
        "passed": verdict.passed(),
        "checkpoints": verdict.checkpoints,
        "sealed_lines": verdict.sealed_lines,
        "lines_read": verdict.lines_read,
        "signatures": match verdict.signatures {
            Signatures::None => "none",
            Signatures::NotChecked => "not_checked",
            Signatures::Verified => "verified",
            Signatures::Failed => "failed",
        },
        "findings": findings,
    })
}
