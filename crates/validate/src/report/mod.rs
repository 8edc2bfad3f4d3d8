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

use crate::Report;

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
