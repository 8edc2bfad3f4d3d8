//! The JSON document format.

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::{CheckedProfile, ChosenBy, Report};

/// `{"by":"option"}`, `{"by":"auto","line":3,"event_type":"http_request"}` or
/// `{"by":"auto"}` (no family type: the default), or `{"by":"auto","line":1,"record":"ledger"}`
/// (the first JSON object is a ledger record).
fn chosen(checked: CheckedProfile) -> Value {
    match checked.chosen_by {
        ChosenBy::EventType { line, event_type } => {
            json!({ "by": "auto", "line": line, "event_type": event_type })
        }
        ChosenBy::LedgerRecord { line } => {
            json!({ "by": "auto", "line": line, "record": "ledger" })
        }
        ChosenBy::Option => json!({ "by": "option" }),
        _ => json!({ "by": "auto" }),
    }
}

pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let files: Vec<_> = report
        .files
        .iter()
        .map(|f| {
            let mut file = serde_json::Map::new();
            file.insert("path".into(), json!(f.path));
            file.insert("lines".into(), json!(f.lines));
            file.insert("events".into(), json!(f.events));
            // Absent for an input that was not read (a skipped entry, an empty directory).
            if let Some(checked) = f.profile {
                file.insert("profile".into(), json!(checked.profile.name()));
                file.insert("profile_chosen".into(), chosen(checked));
            }
            file.insert("findings".into(), json!(f.findings));
            // Only present when the per-file limit dropped findings from the list.
            let omitted = f.omitted_count();
            if omitted > 0 {
                file.insert("findings_omitted".into(), json!(omitted));
            }
            serde_json::Value::Object(file)
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
            "by_profile": s.by_profile,
        }
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
