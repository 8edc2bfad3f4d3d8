//! The human text format.

use std::io::{self, Write};

use super::printable::printable;
use super::{checked_under, summary_line};
use crate::Report;

pub(super) fn write(report: &Report, out: &mut dyn Write, findings: bool) -> io::Result<()> {
    if findings {
        for file in &report.files {
            let path = printable(&file.path);
            if let Some(checked) = checked_under(file) {
                writeln!(out, "{path}: {checked}")?;
            }
            for f in &file.findings {
                let pointer = match f.pointer.as_deref() {
                    Some("") => " (line)".to_owned(),
                    Some(p) => format!(" {}", printable(p)),
                    None => String::new(),
                };
                writeln!(
                    out,
                    "{path}:{}: {}[{}]{pointer}: {}",
                    f.line,
                    f.severity,
                    f.rule,
                    printable(&f.message)
                )?;
            }
            let omitted = file.omitted_count();
            if omitted > 0 {
                writeln!(
                    out,
                    "{path}: {omitted} more finding(s) counted but not listed (limit {} per file)",
                    file.findings.len()
                )?;
            }
            if file.truncated {
                writeln!(out, "{path}: stopped early (error limit reached)")?;
            }
        }
    }
    writeln!(out, "{}", summary_line(report))
}
