//! JUnit XML: one test suite, one test case per input, one failure per input with errors.

use std::io::{self, Write};

use super::printable::{printable, xml_allowed};
use crate::{Report, Severity};

pub(super) fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if !xml_allowed(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let failures = report.files.iter().filter(|f| f.errors() > 0).count();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="agentlog validate" tests="{}" failures="{failures}" errors="0">"#,
        report.files.len()
    )?;
    writeln!(
        out,
        r#"  <testsuite name="agentlog validate" tests="{}" failures="{failures}" errors="0" skipped="0">"#,
        report.files.len()
    )?;
    for file in &report.files {
        writeln!(
            out,
            r#"    <testcase classname="agentlog.validate" name="{}">"#,
            xml(&printable(&file.path))
        )?;
        if let Some(checked) = file.profile {
            writeln!(out, "      <properties>")?;
            writeln!(
                out,
                r#"        <property name="profile" value="{}"/>"#,
                checked.profile
            )?;
            writeln!(
                out,
                r#"        <property name="profile_chosen" value="{}"/>"#,
                xml(&checked.to_string())
            )?;
            writeln!(out, "      </properties>")?;
        }
        let lines: Vec<String> = file
            .findings
            .iter()
            .map(|f| {
                let pointer = f
                    .pointer
                    .as_deref()
                    .map(|p| format!(" {}", printable(p)))
                    .unwrap_or_default();
                format!(
                    "{}:{}: {}[{}]{}: {}",
                    printable(&file.path),
                    f.line,
                    f.severity,
                    f.rule,
                    pointer,
                    printable(&f.message)
                )
            })
            .collect();
        if file.errors() > 0 {
            let first = file.findings.iter().find(|f| f.severity == Severity::Error);
            let kind = first.map_or("error", |f| f.rule.id());
            writeln!(
                out,
                r#"      <failure message="{} error(s), {} warning(s)" type="{}">{}</failure>"#,
                file.errors(),
                file.warnings(),
                xml(kind),
                xml(&lines.join("\n"))
            )?;
        } else if !lines.is_empty() {
            writeln!(
                out,
                "      <system-out>{}</system-out>",
                xml(&lines.join("\n"))
            )?;
        }
        writeln!(out, "    </testcase>")?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}
