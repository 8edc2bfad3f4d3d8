//! The human text format.

use std::io::{self, Write};

use super::super::Report;
use super::summary_line;

pub(super) fn write(report: &Report, out: &mut dyn Write, findings: bool) -> io::Result<()> {
    if findings {
        for file in &report.files {
            for f in &file.findings {
                let pointer = match f.pointer.as_deref() {
                    Some("") => " (line)".to_owned(),
                    Some(p) => format!(" {p}"),
                    None => String::new(),
                };
                writeln!(
                    out,
                    "{}:{}: {}[{}]{}: {}",
                    file.path, f.line, f.severity, f.rule, pointer, f.message
                )?;
            }
            let omitted = file.omitted_count();
            if omitted > 0 {
                writeln!(
                    out,
                    "{}: {omitted} more finding(s) counted but not listed (limit {} per file)",
                    file.path,
                    file.findings.len()
                )?;
            }
            if file.truncated {
                writeln!(out, "{}: stopped early (error limit reached)", file.path)?;
            }
        }
    }
    writeln!(out, "{}", summary_line(report))
}
