//! Every kind of tampering the seal exists to show, each on an otherwise intact log: the
//! verdict and the line it names.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

use agentlog_seal::{Finding, PublicKey, SecretKey, Signatures, generate_key_pair, seal, verify};

fn now() -> time::OffsetDateTime {
    time::macros::datetime!(2026-12-06 23:00:00 UTC)
}

fn lines(n: usize) -> Vec<String> {
    (1..=n)
        .map(|i| {
            format!(
                r#"{{"ts":"2026-12-06T23:00:{:02}Z","event_type":"e","n":{i}}}"#,
                i % 60
            )
        })
        .collect()
}

fn write_log(path: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(path, text).unwrap();
}

/// Seals `log` as `agentlog seal` does: the new checkpoints appended to its seal file.
fn seal_now(log: &Path, key: Option<&SecretKey>) -> usize {
    let sealed = seal(log, key, now()).unwrap();
    sealed.append().unwrap();
    sealed.added.len()
}

fn sealed_log(dir: &Path, n: usize) -> (PathBuf, Vec<String>) {
    let log = dir.join("events.jsonl");
    let lines = lines(n);
    write_log(&log, &lines);
    assert_eq!(seal_now(&log, None), 1);
    (log, lines)
}

fn findings(log: &Path) -> Vec<Finding> {
    let verdict = verify(log, None, false).unwrap();
    assert_eq!(verdict.passed(), verdict.findings.is_empty());
    verdict.findings
}

#[test]
fn an_intact_log_passes_and_every_line_edit_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (log, original) = sealed_log(dir.path(), 10);
    assert_eq!(findings(&log), []);

    let mut edited = original.clone();
    edited[2] = edited[2].replace("\"n\":3", "\"n\":4");
    write_log(&log, &edited);
    assert_eq!(findings(&log), [Finding::LineChanged { line: 3 }]);

    let mut deleted = original.clone();
    deleted.remove(2);
    write_log(&log, &deleted);
    assert_eq!(findings(&log), [Finding::LineDeleted { line: 3 }]);

    let mut inserted = original.clone();
    inserted.insert(2, r#"{"event_type":"forged"}"#.to_owned());
    write_log(&log, &inserted);
    assert_eq!(findings(&log), [Finding::LineInserted { line: 3 }]);

    // The last line changed, with nothing after it.
    let mut last = original.clone();
    last[9].push(' ');
    write_log(&log, &last);
    assert_eq!(findings(&log), [Finding::LineChanged { line: 10 }]);
}

#[test]
fn truncation_and_an_unsealed_tail_are_named_and_a_tail_may_be_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let (log, original) = sealed_log(dir.path(), 5);
    write_log(&log, &original[..3]);
    assert_eq!(
        findings(&log),
        [Finding::Truncated {
            sealed: 5,
            lines: 3
        }]
    );
    // Cut inside the last line: it is no longer a complete line.
    let mut text = original.join("\n");
    text.push('\n');
    std::fs::write(&log, &text[..text.len() - 4]).unwrap();
    assert_eq!(
        findings(&log),
        [Finding::Truncated {
            sealed: 5,
            lines: 4
        }]
    );
    // Lines after the seal: a failure, unless allowed.
    let mut more = original.clone();
    more.extend(lines(7).into_iter().skip(5));
    write_log(&log, &more);
    let tail = Finding::UnsealedTail {
        from: 6,
        lines: 2,
        partial: 0,
    };
    assert_eq!(findings(&log), std::slice::from_ref(&tail));
    let allowed = verify(&log, None, true).unwrap();
    assert!(allowed.passed());
    assert_eq!(allowed.findings, [tail]);
}

#[test]
fn sealing_again_extends_the_chain_and_earlier_edits_still_show() {
    let dir = tempfile::tempdir().unwrap();
    let (log, mut all) = sealed_log(dir.path(), 4);
    all.extend(lines(9).into_iter().skip(4));
    write_log(&log, &all);
    assert_eq!(seal_now(&log, None), 1);
    assert_eq!(seal_now(&log, None), 0, "nothing new: no checkpoint");
    let verdict = verify(&log, None, false).unwrap();
    assert!(verdict.passed(), "{:?}", verdict.findings);
    assert_eq!((verdict.checkpoints, verdict.sealed_lines), (2, 9));
    // Edit a line the first checkpoint covers (its length kept, so the checkpoint still
    // ends a line), then seal again: the seal still shows it.
    all[1] = all[1].replace("\"n\":2", "\"n\":7");
    write_log(&log, &all);
    all.push(r#"{"event_type":"later"}"#.to_owned());
    write_log(&log, &all);
    assert_eq!(seal_now(&log, None), 1);
    assert_eq!(findings(&log), [Finding::LineChanged { line: 2 }]);
}

#[test]
fn a_log_shorter_than_its_seal_is_not_sealed_again() {
    let dir = tempfile::tempdir().unwrap();
    let (log, original) = sealed_log(dir.path(), 5);
    write_log(&log, &original[..2]);
    let error = seal(&log, None, now()).unwrap_err().to_string();
    assert!(error.contains("no longer ends a line"), "{error}");
    assert!(error.contains("events.jsonl.seal:1"), "{error}");
}

fn seal_lines(log: &Path) -> Vec<String> {
    std::fs::read_to_string(agentlog_seal::seal_path(log))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_seal(log: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(agentlog_seal::seal_path(log), text).unwrap();
}

#[test]
fn an_edited_removed_or_moved_checkpoint_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (log, mut all) = sealed_log(dir.path(), 3);
    all.extend(lines(6).into_iter().skip(3));
    write_log(&log, &all);
    seal_now(&log, None);
    let seal = seal_lines(&log);
    assert_eq!(seal.len(), 2);

    // Claims fewer lines: the digest no longer fits.
    write_seal(
        &log,
        &[
            seal[0].clone(),
            seal[1].replace("\"lines\":6", "\"lines\":5"),
        ],
    );
    assert_eq!(findings(&log), [Finding::CheckpointEdited { seal_line: 2 }]);
    // The first removed: the second names a checkpoint that is not there.
    write_seal(&log, &[seal[1].clone()]);
    assert_eq!(findings(&log), [Finding::CheckpointOrder { seal_line: 1 }]);
    // Swapped.
    write_seal(&log, &[seal[1].clone(), seal[0].clone()]);
    assert_eq!(findings(&log), [Finding::CheckpointOrder { seal_line: 1 }]);
    // Not JSON.
    write_seal(&log, &[seal[0].clone(), "{not json".to_owned()]);
    let found = findings(&log);
    assert!(
        matches!(&found[..], [Finding::Malformed { seal_line: 2, .. }]),
        "{found:?}"
    );
    // No seal at all.
    std::fs::remove_file(agentlog_seal::seal_path(&log)).unwrap();
    assert_eq!(findings(&log), [Finding::SealMissing]);
}

#[test]
fn signatures_verify_against_the_given_key_only() {
    let dir = tempfile::tempdir().unwrap();
    let keys = generate_key_pair(dir.path()).unwrap();
    let secret = SecretKey::read(&keys.secret).unwrap();
    let public = PublicKey::read(&keys.public).unwrap();
    let log = dir.path().join("ledger.jsonl");
    let original = lines(4);
    write_log(&log, &original);
    seal_now(&log, Some(&secret));

    let verdict = verify(&log, Some(&public), false).unwrap();
    assert!(verdict.passed(), "{:?}", verdict.findings);
    assert_eq!(verdict.signatures, Signatures::Verified);
    let unchecked = verify(&log, None, false).unwrap();
    assert_eq!(unchecked.signatures, Signatures::NotChecked);

    // A forged signature.
    let seal = seal_lines(&log);
    let at = seal[0].find("\"signature\":\"").unwrap() + 13;
    let mut forged = seal[0].clone();
    let flipped = if &forged[at..=at] == "0" { "1" } else { "0" };
    forged.replace_range(at..=at, flipped);
    write_seal(&log, &[forged]);
    let verdict = verify(&log, Some(&public), false).unwrap();
    assert_eq!(verdict.findings, [Finding::BadSignature { seal_line: 1 }]);
    assert_eq!(verdict.signatures, Signatures::Failed);

    // An attacker edits a line and seals the log anew: unsigned, or with a key of theirs.
    let mut edited = original.clone();
    edited[0].push(' ');
    write_log(&log, &edited);
    std::fs::remove_file(agentlog_seal::seal_path(&log)).unwrap();
    seal_now(&log, None);
    let verdict = verify(&log, Some(&public), false).unwrap();
    assert_eq!(verdict.findings, [Finding::Unsigned { seal_line: 1 }]);
    let other_dir = tempfile::tempdir().unwrap();
    let other = SecretKey::read(&generate_key_pair(other_dir.path()).unwrap().secret).unwrap();
    std::fs::remove_file(agentlog_seal::seal_path(&log)).unwrap();
    seal_now(&log, Some(&other));
    let verdict = verify(&log, Some(&public), false).unwrap();
    assert_eq!(verdict.findings, [Finding::OtherKey { seal_line: 1 }]);
}

#[test]
fn a_large_log_is_sealed_in_checkpoints_of_at_most_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("big.jsonl");
    let n = agentlog_seal::MAX_LINES_PER_CHECKPOINT as usize + 10;
    let text: String = (0..n).map(|i| format!("{i}\n")).collect();
    std::fs::write(&log, text).unwrap();
    assert_eq!(seal_now(&log, None), 2);
    assert!(verify(&log, None, false).unwrap().passed());
}
