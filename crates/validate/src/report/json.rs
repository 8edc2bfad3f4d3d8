//! The JSON document format.

use std::io::{self, Write};

use serde_json::json;

use crate::Report;

pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let files: Vec<_> = report
        .files
        .iter()
        .map(|f| {
            let mut file = json!({
                "path": f.path,
                "lines": f.lines,
                "events": f.events,
                "findings": f.findings,
            });
            // Only present when the per-file limit dropped findings from the list.
            let omitted = f.omitted_count();
            if omitted > 0 {
                file["findings_omitted"] = json!(omitted);
            }
            file
        })
        .collect();
    let s = report.summary();
    let doc = json!({
        "files": files,
        "summary": {
            "files": s.files,
            "lines": s.lines,
            "errors": s.errors,
            "warnings": s.warnings,
            "by_rule": s.by_rule,
            "by_event_type": s.by_event_type,
        }
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
