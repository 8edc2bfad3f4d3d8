//! Reporters: each turns a finished [`Report`] into one output format and does nothing else.
//!
//! Adding a format touches one file here and the [`Format`] enum.

mod format;
mod github;
mod json;
mod junit;
mod printable;
mod sarif;
mod text;

use std::io::{self, Write};

use crate::{FileReport, Report};

pub use format::{Format, UnknownFormat};

/// Writes `report` in `format` to `out`.
pub fn write(report: &Report, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => text::write(report, out, true),
        Format::Json => json::write(report, out),
        Format::Sarif => sarif::write(report, out),
        Format::Junit => junit::write(report, out),
        Format::Github => github::write(report, out),
    }
}

/// Every text a reporter may print for `text` (a file label, a pointer, a message): as it
/// is, escaped for a line, as a SARIF URI, as a GitHub property and message, as XML and as a
/// JSON string. A value that any of them would show is withheld before any reporter runs, so
/// no transformation after the decision can rebuild one (a name with `\` that becomes a
/// secret once SARIF writes `/`, a `%` that GitHub's escaping turns into one).
pub fn renderings(text: &str) -> [String; 7] {
    [
        text.to_owned(),
        printable::printable(text).into_owned(),
        sarif::uri(text),
        github::property(text),
        github::message(text),
        junit::xml(&printable::printable(text)),
        serde_json::Value::String(text.to_owned()).to_string(),
    ]
}

/// Writes only the summary line of the text format (for `--quiet`).
pub fn write_summary(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    text::write(report, out, false)
}

/// The one-line summary every text-like format ends with.
pub fn summary_line(report: &Report) -> String {
    let s = report.summary();
    let verdict = if s.errors > 0 { "FAILED" } else { "ok" };
    format!(
        "{verdict}: {} file(s), {} line(s), {} event(s) checked; {} error(s), {} warning(s)",
        s.files, s.lines, s.events, s.errors, s.warnings
    )
}

/// What the text-like formats print for one input: `checked under profile v1 (auto: line 3
/// is http_request, a v1-only type)`; `None` for an input that was not read.
fn checked_under(file: &FileReport) -> Option<String> {
    file.profile
        .map(|checked| format!("checked under {checked}"))
}

/// The profiles of a whole run in a few words, for summaries: one input's
/// [`checked_under`], or `checked under v0: 2 file(s), v1: 1 file(s)`.
fn profiles_phrase(report: &Report) -> Option<String> {
    let mut checked = report.files.iter().filter(|f| f.profile.is_some());
    match (checked.next(), checked.next()) {
        (None, _) => None,
        (Some(file), None) => checked_under(file),
        _ => {
            let counts: Vec<String> = report
                .summary()
                .by_profile
                .iter()
                .map(|(profile, n)| format!("{profile}: {n} file(s)"))
                .collect();
            Some(format!("checked under {}", counts.join(", ")))
        }
    }
}
