//! [`Format`]: the names of the output formats, read with `FromStr` so that neither the
//! library nor its callers need a command-line parser to choose one.

use std::fmt;

/// An output format of `agentlog validate`.
///
/// Parsed from and displayed as its [name](Format::name) (`text`, `json`, `sarif`, `junit`,
/// `github`), so a command line or a configuration file needs no extra machinery.
///
/// ```
/// use agentlog_validate::report::Format;
/// assert_eq!("sarif".parse::<Format>(), Ok(Format::Sarif));
/// assert_eq!(Format::Github.to_string(), "github");
/// assert!("xml".parse::<Format>().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// `path:line: severity[rule] pointer: message` lines and a summary line.
    #[default]
    Text,
    /// One JSON document: `{"files":[...],"summary":{...}}`.
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// JUnit XML, one test case per input.
    Junit,
    /// GitHub Actions workflow commands (`::error file=...,line=...::...`) and a summary.
    Github,
}

impl Format {
    /// How the output gate escapes this format: text for the line formats, JSON for the
    /// JSON documents, markup for XML.
    pub fn gate_style(self) -> crate::gate::Style {
        use crate::gate::Style;
        match self {
            Format::Text => Style::Text,
            Format::Github => Style::Workflow,
            Format::Json | Format::Sarif => Style::Json,
            Format::Junit => Style::Markup,
        }
    }

    /// Every format, in the order help texts list them.
    pub const ALL: [Format; 5] = [
        Format::Text,
        Format::Json,
        Format::Sarif,
        Format::Junit,
        Format::Github,
    ];

    /// The format's name, as [`FromStr`](std::str::FromStr) reads it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Github => "github",
        }
    }

    /// One line for help texts (no trailing period).
    pub fn description(self) -> &'static str {
        match self {
            Format::Text => "`path:line: severity[rule] pointer: message` lines and a summary line",
            Format::Json => r#"One JSON document: `{"files":[...],"summary":{...}}`"#,
            Format::Sarif => "SARIF 2.1.0, for code-scanning dashboards",
            Format::Junit => "JUnit XML, one test case per input",
            Format::Github => {
                "GitHub Actions workflow commands (`::error file=...,line=...::...`) and a summary"
            }
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is not one of [`Format::ALL`]'s. The message lists the known names.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown format `{0}`; known: text, json, sarif, junit, github")]
pub struct UnknownFormat(pub String);

impl std::str::FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| UnknownFormat(name.to_owned()))
    }
}
