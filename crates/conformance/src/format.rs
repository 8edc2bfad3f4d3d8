//! [`HarnessFormat`]: the output formats of both harnesses, read with `FromStr` so that a
//! caller chooses one without a command-line parser.
//!
//! Each harness writes the same verdicts in each format: text (a line per case or scenario
//! and a summary), one JSON document, or JUnit XML. The validator's own report formats are
//! [`agentlog_validate::report::Format`], a larger set.

use std::fmt;

use agentlog_validate::gate::Style;

/// An output format of `agentlog conformance validate` and `agentlog conformance proxy`.
///
/// ```
/// use agentlog_conformance::HarnessFormat;
/// assert_eq!("junit".parse::<HarnessFormat>(), Ok(HarnessFormat::Junit));
/// assert_eq!(HarnessFormat::Json.to_string(), "json");
/// assert!("sarif".parse::<HarnessFormat>().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum HarnessFormat {
    /// One line per case or scenario (`PASS id`, `FAIL id: differences`, `UNSUPPORTED id`)
    /// and the summary.
    #[default]
    Text,
    /// One JSON document: `subject`, `summary` and the cases or scenarios.
    Json,
    /// JUnit XML: one test case per case or scenario, a `<failure>` with the differences,
    /// `<skipped>` for an unsupported one.
    Junit,
}

impl HarnessFormat {
    /// Every format, in the order help texts list them.
    pub const ALL: [HarnessFormat; 3] = [
        HarnessFormat::Text,
        HarnessFormat::Json,
        HarnessFormat::Junit,
    ];

    /// The format's name, as [`FromStr`](std::str::FromStr) reads it.
    pub fn name(self) -> &'static str {
        match self {
            HarnessFormat::Text => "text",
            HarnessFormat::Json => "json",
            HarnessFormat::Junit => "junit",
        }
    }

    /// How the output gate escapes this format: text, JSON, or markup for XML.
    pub fn gate_style(self) -> Style {
        match self {
            HarnessFormat::Text => Style::Text,
            HarnessFormat::Json => Style::Json,
            HarnessFormat::Junit => Style::Markup,
        }
    }
}

impl fmt::Display for HarnessFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is not one of [`HarnessFormat::ALL`]'s. The message lists the known
/// names.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown format `{0}`; known: text, json, junit")]
pub struct UnknownHarnessFormat(pub String);

impl std::str::FromStr for HarnessFormat {
    type Err = UnknownHarnessFormat;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        HarnessFormat::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| UnknownHarnessFormat(name.to_owned()))
    }
}
