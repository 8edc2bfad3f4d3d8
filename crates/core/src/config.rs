//! Logging configuration: [`LoggingConfig`] mirrors the reference sandbox's, and [`RunId`]
//! guarantees a run id is safe to use as one directory name.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::emitter::Emitter;
use crate::sink::{JsonlWriter, Sink, SinkError};

/// Longest run id accepted, in bytes.
pub const MAX_RUN_ID_BYTES: usize = 128;

/// A run identifier that is one safe path segment: non-empty, at most 128 bytes, not `.` or
/// `..`, without `/`, `\`, NUL or control characters. It is the directory of the default log
/// path, so this is what keeps a run id from escaping the log directory.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(String);

/// Why a run id was refused. The messages quote nothing of the input but its length, so a
/// run id that happens to hold a secret is not echoed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RunIdError {
    /// Empty string.
    #[error("run id is empty")]
    Empty,
    /// Longer than [`MAX_RUN_ID_BYTES`].
    #[error("run id is {0} bytes long; at most 128 are allowed")]
    TooLong(usize),
    /// `.` or `..`.
    #[error("run id must not be `.` or `..`")]
    DotSegment,
    /// Contains a path separator.
    #[error("run id must not contain `/` or `\\` (it names one directory)")]
    Separator,
    /// Contains NUL or another control character.
    #[error("run id must not contain NUL or control characters")]
    Control,
}

impl RunId {
    /// Checks and wraps a run id.
    ///
    /// ```
    /// use agentlog_core::config::RunId;
    /// assert!(RunId::new("vm-503ad4d1").is_ok());
    /// assert!(RunId::new("../etc").is_err());
    /// ```
    pub fn new(id: impl Into<String>) -> Result<Self, RunIdError> {
        let id = id.into();
        if id.is_empty() {
            return Err(RunIdError::Empty);
        }
        if id.len() > MAX_RUN_ID_BYTES {
            return Err(RunIdError::TooLong(id.len()));
        }
        if id == "." || id == ".." {
            return Err(RunIdError::DotSegment);
        }
        if id.contains(['/', '\\']) {
            return Err(RunIdError::Separator);
        }
        if id.chars().any(char::is_control) {
            return Err(RunIdError::Control);
        }
        Ok(RunId(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for RunId {
    type Err = RunIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunId::new(s)
    }
}

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No data directory: neither `XDG_DATA_HOME` (absolute) nor `HOME` is set.
    #[error("no data directory: set XDG_DATA_HOME or HOME, or give --event-log PATH")]
    NoDataDir,
    /// Logging is enabled but `agent_system` is missing or empty.
    #[error("agent_system must not be empty when event logging is enabled")]
    EmptyAgentSystem,
    /// The log file could not be opened.
    #[error(transparent)]
    Sink(#[from] SinkError),
}

/// The user's data directory per the XDG base directory spec: `$XDG_DATA_HOME` when it is an
/// absolute path, else `$HOME/.local/share`.
pub fn data_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    xdg.or_else(|| {
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| Path::new(&h).join(".local").join("share"))
    })
}

/// The default log path of a run: `<data dir>/agentlog/logs/<run_id>/events.jsonl`.
pub fn default_log_path(run_id: &RunId) -> Result<PathBuf, ConfigError> {
    let base = data_dir().ok_or(ConfigError::NoDataDir)?;
    Ok(default_log_path_in(&base, run_id))
}

/// The default log path of a run under an explicit data directory.
pub fn default_log_path_in(data_dir: &Path, run_id: &RunId) -> PathBuf {
    data_dir
        .join("agentlog")
        .join("logs")
        .join(run_id.as_str())
        .join("events.jsonl")
}

/// Event-logging settings, as the reference sandbox's `LoggingConfig`: off, or on with a
/// non-empty agent system. Every event carries `agent_system`, so a configuration that would
/// write events without one cannot be built.
///
/// ```
/// use agentlog_core::config::{ConfigError, LoggingConfig, RunId};
/// let run = RunId::new("vm-1").unwrap();
/// // An agent system alone enables logging (to the default path); a run id alone does not.
/// assert!(LoggingConfig::from_flags(None, run.clone(), Some("aider".into())).unwrap().is_enabled());
/// assert!(!LoggingConfig::from_flags(None, run.clone(), None).unwrap().is_enabled());
/// // A log path enables logging too, which then needs an agent system.
/// let err = LoggingConfig::from_flags(Some("/tmp/x".into()), run, None).unwrap_err();
/// assert!(matches!(err, ConfigError::EmptyAgentSystem));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggingConfig {
    run_id: RunId,
    enabled: Option<Enabled>,
}

/// What an enabled configuration holds.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Enabled {
    event_log_path: Option<PathBuf>,
    agent_system: String,
}

impl LoggingConfig {
    /// Logging off.
    pub fn disabled(run_id: RunId) -> Self {
        LoggingConfig {
            run_id,
            enabled: None,
        }
    }

    /// Logging on, to `event_log_path` or (`None`) the [`default_log_path`]; `agent_system`
    /// must not be empty.
    pub fn enabled(
        run_id: RunId,
        agent_system: impl Into<String>,
        event_log_path: Option<PathBuf>,
    ) -> Result<Self, ConfigError> {
        let agent_system = agent_system.into();
        if agent_system.is_empty() {
            return Err(ConfigError::EmptyAgentSystem);
        }
        Ok(LoggingConfig {
            run_id,
            enabled: Some(Enabled {
                event_log_path,
                agent_system,
            }),
        })
    }

    /// The configuration the reference's flags give: logging is enabled by an explicit path
    /// or by an agent system alone (then the default path is used); a run id alone does not
    /// enable it. Enabled logging needs a non-empty agent system
    /// ([`ConfigError::EmptyAgentSystem`] otherwise).
    pub fn from_flags(
        event_log_path: Option<PathBuf>,
        run_id: RunId,
        agent_system: Option<String>,
    ) -> Result<Self, ConfigError> {
        match (event_log_path, agent_system) {
            (None, None) => Ok(Self::disabled(run_id)),
            (path, agent_system) => Self::enabled(run_id, agent_system.unwrap_or_default(), path),
        }
    }

    /// Whether event logging is on (it is opt-in).
    pub fn is_enabled(&self) -> bool {
        self.enabled.is_some()
    }

    /// The run id stamped on events.
    pub fn run_id(&self) -> &RunId {
        &self.run_id
    }

    /// The agent system stamped on events, when logging is on (never empty).
    pub fn agent_system(&self) -> Option<&str> {
        self.enabled.as_ref().map(|e| e.agent_system.as_str())
    }

    /// The explicit log path, when one was given; `None` also when logging is off.
    pub fn event_log_path(&self) -> Option<&Path> {
        self.enabled.as_ref()?.event_log_path.as_deref()
    }

    /// The file events go to when logging is on: the explicit path, else the
    /// [`default_log_path`] of the run.
    pub fn resolved_path(&self) -> Result<PathBuf, ConfigError> {
        match self.event_log_path() {
            Some(path) => Ok(path.to_path_buf()),
            None => default_log_path(&self.run_id),
        }
    }

    /// An emitter writing to the resolved path, or `None` when logging is disabled.
    pub fn emitter(&self) -> Result<Option<(Emitter, Arc<JsonlWriter>)>, ConfigError> {
        self.emitter_with(JsonlWriter::open)
    }

    /// [`emitter`](Self::emitter) whose writer holds the log's lock
    /// ([`JsonlWriter::open_locked`]): fails with [`SinkError::Locked`] (inside
    /// [`ConfigError::Sink`]) when another writer holds it. For a writer that must be the
    /// log's only one (the proxy, whose budget is the spend in its log).
    pub fn emitter_locked(&self) -> Result<Option<(Emitter, Arc<JsonlWriter>)>, ConfigError> {
        self.emitter_with(JsonlWriter::open_locked)
    }

    fn emitter_with(
        &self,
        open: fn(PathBuf) -> Result<JsonlWriter, SinkError>,
    ) -> Result<Option<(Emitter, Arc<JsonlWriter>)>, ConfigError> {
        let Some(enabled) = &self.enabled else {
            return Ok(None);
        };
        let writer = Arc::new(open(self.resolved_path()?)?);
        let sinks: Vec<Arc<dyn Sink>> = vec![writer.clone()];
        let emitter = Emitter::new(self.run_id.as_str(), enabled.agent_system.as_str(), sinks)
            .map_err(|_| ConfigError::EmptyAgentSystem)?;
        Ok(Some((emitter, writer)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_id_path_safety() {
        let long = "a".repeat(129);
        let cases: &[(&str, Option<RunIdError>)] = &[
            ("vm-503ad4d1", None),
            ("run.2026-11-23", None),
            ("a..b", None),
            (&long[..128], None),
            ("", Some(RunIdError::Empty)),
            (&long, Some(RunIdError::TooLong(129))),
            (".", Some(RunIdError::DotSegment)),
            ("..", Some(RunIdError::DotSegment)),
            ("../etc", Some(RunIdError::Separator)),
            ("a/b", Some(RunIdError::Separator)),
            ("/abs", Some(RunIdError::Separator)),
            ("a\\b", Some(RunIdError::Separator)),
            ("a\0b", Some(RunIdError::Control)),
            ("a\nb", Some(RunIdError::Control)),
            ("a\u{7f}b", Some(RunIdError::Control)),
            ("tab\there", Some(RunIdError::Control)),
        ];
        for (input, expected) in cases {
            assert_eq!(RunId::new(*input).err(), *expected, "{input:?}");
        }
    }

    #[test]
    fn default_path_stays_under_data_dir() {
        let run = RunId::new("vm-1").unwrap();
        let path = default_log_path_in(Path::new("/data"), &run);
        assert_eq!(path, Path::new("/data/agentlog/logs/vm-1/events.jsonl"));
    }

    #[test]
    fn flags_enable_like_the_reference() {
        let run = RunId::new("vm-1").unwrap();
        let flags = |path: Option<&str>, agent: Option<&str>| {
            LoggingConfig::from_flags(path.map(PathBuf::from), run.clone(), agent.map(Into::into))
        };
        assert!(!flags(None, None).unwrap().is_enabled());
        assert!(flags(None, Some("aider")).unwrap().is_enabled());
        // A path enables logging as in the reference; enabled logging needs an agent system.
        let with_path = flags(Some("/tmp/x"), Some("aider")).unwrap();
        assert!(with_path.is_enabled());
        assert_eq!(with_path.event_log_path(), Some(Path::new("/tmp/x")));
        assert!(matches!(
            flags(Some("/tmp/x"), None),
            Err(ConfigError::EmptyAgentSystem)
        ));
        assert!(matches!(
            flags(None, Some("")),
            Err(ConfigError::EmptyAgentSystem)
        ));
    }
}
