//! SARIF 2.1.0 (checked against the official schema in `tests/validate_cli.rs`).

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::{RULES, Report, Severity};

pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "shortDescription": { "text": r.description },
                "defaultConfiguration": { "level": r.severity.as_str() },
            })
        })
        .collect();
    let mut results = Vec::new();
    let mut artifacts = Vec::new();
    for file in &report.files {
        let properties = file.profile.map(|checked| {
            json!({
                "profile": checked.profile.name(),
                "profileChosen": checked.to_string(),
            })
        });
        let artifact = json!({ "location": { "uri": uri(&file.path) } });
        artifacts.push(with_field(artifact, "properties", properties));
        for f in &file.findings {
            let index = RULES.iter().position(|r| r.rule == f.rule).unwrap_or(0);
            let physical = with_field(
                json!({ "artifactLocation": { "uri": uri(&file.path) } }),
                "region",
                (f.line > 0).then(|| json!({ "startLine": f.line })),
            );
            let location = with_field(
                json!({ "physicalLocation": physical }),
                "logicalLocations",
                f.pointer
                    .as_deref()
                    .map(|p| json!([{ "fullyQualifiedName": p, "kind": "member" }])),
            );
            results.push(json!({
                "ruleId": f.rule.id(),
                "ruleIndex": index,
                "level": match f.severity { Severity::Error => "error", Severity::Warning => "warning" },
                "message": { "text": f.message },
                "locations": [location],
            }));
        }
    }
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "agentlog",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://agentlog.dev/",
                "rules": rules,
            }},
            "artifacts": artifacts,
            "results": results,
            "properties": { "profiles": report.summary().by_profile },
        }]
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// `object` with `key` added last when there is a `field`.
fn with_field(
    mut object: serde_json::Value,
    key: &str,
    field: Option<serde_json::Value>,
) -> serde_json::Value {
    if let (Some(map), Some(field)) = (object.as_object_mut(), field) {
        map.insert(key.to_owned(), field);
    }
    object
}

/// A relative URI reference for a path (`-` becomes `stdin`).
pub(super) fn uri(path: &str) -> String {
    if path == "-" {
        return "stdin".into();
    }
    let mut out = String::new();
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
