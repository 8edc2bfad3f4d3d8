//! GitHub Actions workflow commands.
//!
//! Every line printed is a workflow command (`::notice`, `::error`, `::warning`), so nothing a
//! log or a file name contributes can start a line: a file named `::stop-commands::x` is a
//! property value here, escaped, never a command of its own.

use std::io::{self, Write};

use super::printable::printable;
use super::{checked_under, profiles_phrase, summary_line};
use crate::{Report, Severity};

/// Escapes a workflow-command property value.
pub(super) fn property(s: &str) -> String {
    printable(s)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
        .replace(':', "%3A")
        .replace(',', "%2C")
}

/// Escapes a workflow-command message.
pub(super) fn message(s: &str) -> String {
    printable(s)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for file in &report.files {
        if let Some(checked) = checked_under(file) {
            writeln!(
                out,
                "::notice file={},title=agentlog profile::{}",
                property(&file.path),
                message(&checked)
            )?;
        }
        for f in &file.findings {
            let level = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let line = if f.line > 0 {
                format!(",line={}", f.line)
            } else {
                String::new()
            };
            let at = f.pointer.as_deref().filter(|p| !p.is_empty());
            let text = match at {
                Some(p) => format!("{p}: {}", f.message),
                None => f.message.clone(),
            };
            writeln!(
                out,
                "::{level} file={}{line},title={}::{}",
                property(&file.path),
                property(f.rule.id()),
                message(&text)
            )?;
        }
    }
    let summary = summary_line(report);
    let level = if report.has_errors() {
        "error"
    } else {
        "notice"
    };
    let notice = match profiles_phrase(report) {
        Some(profiles) => format!("{summary}; {profiles}"),
        None => summary.clone(),
    };
    writeln!(
        out,
        "::{level} title=agentlog validate::{}",
        message(&notice)
    )
}
