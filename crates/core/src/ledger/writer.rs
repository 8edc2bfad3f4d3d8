//! [`Ledger`]: log tool calls into a ledger directory.
//!
//! A call is described with a [`ToolCallInput`] (the seed's `log_tool_call` parameters); the
//! ledger stamps `ts` from its [`Clock`], hashes the arguments in its [`HashForm`] (the
//! arguments are borrowed for that and never kept), pseudonymizes the session id when it has
//! a key, checks the record against the schema's rules and appends it as one line to the file
//! of its UTC day ([`rotate`](super::rotate) says how). One `Ledger` is shared by any number
//! of threads; any number of processes may write the same directory.

use std::fmt;
use std::fs::DirBuilder;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

use super::clock::{Clock, Day, SystemClock};
use super::error::LedgerError;
use super::hash::HashForm;
use super::hook::FileHook;
use super::lock::DirLock;
use super::pseudonym::PseudonymKey;
use super::record::{ArgsHash, RecordError, ResultStatus, RiskFlag, ToolCall};
use super::rotate::DayFiles;

/// How a [`Ledger`] writes: built with `LedgerConfig::default()` and the `with_*` methods.
///
/// ```
/// use agentlog_core::ledger::{HashForm, LedgerConfig};
/// let config = LedgerConfig::default().with_hash_form(HashForm::Python).with_session_id("abc-123");
/// assert_eq!(config.hash_form, HashForm::Python);
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct LedgerConfig {
    /// Which canonical form of the arguments is hashed (default: RFC 8785 JCS).
    pub hash_form: HashForm,
    /// When set, every `session_id` is written as its HMAC-SHA256 pseudonym under this key.
    pub pseudonym_key: Option<PseudonymKey>,
    /// The session id of calls that give none; a new one per [`Ledger`] when unset.
    pub session_id: Option<String>,
    /// Told of each day file this ledger rotates or appends a late record to, under the
    /// directory lock (see [`FileHook`]).
    pub file_hook: Option<FileHook>,
}

impl LedgerConfig {
    /// Sets the hash form.
    pub fn with_hash_form(mut self, form: HashForm) -> Self {
        self.hash_form = form;
        self
    }

    /// Sets the pseudonymization key.
    pub fn with_pseudonym_key(mut self, key: PseudonymKey) -> Self {
        self.pseudonym_key = Some(key);
        self
    }

    /// Sets the hook told of each day file rotated or late-appended.
    pub fn with_file_hook(mut self, hook: FileHook) -> Self {
        self.file_hook = Some(hook);
        self
    }

    /// Sets the default session id.
    pub fn with_session_id(mut self, id: impl Into<String>) -> Self {
        self.session_id = Some(id.into());
        self
    }
}

/// The arguments of a call: the JSON value to hash, or a hash computed elsewhere.
#[derive(Clone, Copy)]
pub enum Args<'a> {
    /// The arguments, hashed by the ledger in its [`HashForm`] and never stored.
    Json(&'a Value),
    /// A hash computed by the caller.
    Hash(ArgsHash),
}

impl fmt::Debug for Args<'_> {
    /// Never shows the arguments (they may hold secrets).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Args::Json(_) => f.write_str("Args::Json(..)"),
            Args::Hash(h) => write!(f, "Args::Hash({h})"),
        }
    }
}

/// One call to log: the parameters of the seed's `log_tool_call`.
///
/// ```
/// use agentlog_core::ledger::{Args, ResultStatus, RiskFlag, ToolCallInput};
/// let args = serde_json::json!({"cmd": "curl example.com"});
/// let call = ToolCallInput::new("dev_agent", "exec_shell", Args::Json(&args), ResultStatus::Denied)
///     .risk_flag(RiskFlag::NetworkDenied);
/// # let _ = call;
/// ```
#[derive(Clone, Debug)]
pub struct ToolCallInput<'a> {
    agent: String,
    tool: String,
    args: Args<'a>,
    result_status: ResultStatus,
    elapsed_ms: u64,
    error_class: Option<String>,
    risk_flags: Vec<RiskFlag>,
    artifacts: Vec<String>,
    session_id: Option<String>,
}

impl<'a> ToolCallInput<'a> {
    /// A call of `tool` by `agent` with `args` that ended with `result_status`; no elapsed
    /// time, error class, flags or artifacts.
    pub fn new(
        agent: impl Into<String>,
        tool: impl Into<String>,
        args: Args<'a>,
        result_status: ResultStatus,
    ) -> Self {
        ToolCallInput {
            agent: agent.into(),
            tool: tool.into(),
            args,
            result_status,
            elapsed_ms: 0,
            error_class: None,
            risk_flags: Vec::new(),
            artifacts: Vec::new(),
            session_id: None,
        }
    }

    /// How long the call took.
    pub fn elapsed_ms(mut self, elapsed_ms: u64) -> Self {
        self.elapsed_ms = elapsed_ms;
        self
    }

    /// The kind of error (for a call that did not succeed).
    pub fn error_class(mut self, class: impl Into<String>) -> Self {
        self.error_class = Some(class.into());
        self
    }

    /// Adds a risk flag; a flag already added is not added twice.
    pub fn risk_flag(mut self, flag: RiskFlag) -> Self {
        if !self.risk_flags.contains(&flag) {
            self.risk_flags.push(flag);
        }
        self
    }

    /// Adds an affected file or resource.
    pub fn artifact(mut self, artifact: impl Into<String>) -> Self {
        self.artifacts.push(artifact.into());
        self
    }

    /// The session of this call, instead of the ledger's.
    pub fn session_id(mut self, id: impl Into<String>) -> Self {
        self.session_id = Some(id.into());
        self
    }
}

/// A tool-call ledger directory, open for writing.
///
/// ```
/// use agentlog_core::ledger::{Args, Ledger, LedgerConfig, ResultStatus, ToolCallInput};
/// # let dir = tempfile::tempdir()?;
/// let ledger = Ledger::open(dir.path(), LedgerConfig::default().with_session_id("abc-123"))?;
/// let args = serde_json::json!({"path": "src/app.py", "content": "print(1)"});
/// let record = ledger.log_tool_call(
///     ToolCallInput::new("dev_agent", "file_editor", Args::Json(&args), ResultStatus::Success)
///         .elapsed_ms(150)
///         .artifact("src/app.py"),
/// )?;
/// let text = std::fs::read_to_string(dir.path().join("events.jsonl"))?;
/// assert!(text.contains(&record.args_hash.to_string()) && !text.contains("print(1)"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Ledger {
    dir: PathBuf,
    hash_form: HashForm,
    pseudonym_key: Option<PseudonymKey>,
    session_id: String,
    clock: Box<dyn Clock>,
    lock: DirLock,
    files: Mutex<DayFiles>,
}

impl fmt::Debug for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ledger")
            .field("dir", &self.dir)
            .field("hash_form", &self.hash_form)
            .field("pseudonymized", &self.pseudonym_key.is_some())
            .finish_non_exhaustive()
    }
}

impl Ledger {
    /// Opens the ledger directory `dir`, creating it (mode 0700) and its lock file as needed.
    /// Records are stamped by the system clock.
    pub fn open(dir: impl AsRef<Path>, config: LedgerConfig) -> Result<Ledger, LedgerError> {
        let dir = dir.as_ref().to_path_buf();
        create_dir(&dir)?;
        let session_id = match config.session_id {
            Some(id) if id.is_empty() => return Err(RecordError::EmptyField("session_id").into()),
            Some(id) => id,
            None => new_session_id(),
        };
        Ok(Ledger {
            lock: DirLock::open(&dir)?,
            files: Mutex::new(DayFiles::new(&dir).with_hook(config.file_hook)),
            dir,
            hash_form: config.hash_form,
            pseudonym_key: config.pseudonym_key,
            session_id,
            clock: Box::new(SystemClock),
        })
    }

    /// Stamps records with `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// The ledger directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The session id of calls that give none (before pseudonymization).
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// The form arguments are hashed in.
    pub fn hash_form(&self) -> HashForm {
        self.hash_form
    }

    /// The pseudonym of a user identifier under this ledger's key; `None` without a key.
    pub fn pseudonymize(&self, id: &str) -> Option<String> {
        self.pseudonym_key.as_ref().map(|key| key.pseudonymize(id))
    }

    /// Logs one call: builds its record (time from the clock, arguments hashed, session id
    /// pseudonymized when there is a key), checks it and appends it to its day's file.
    /// Returns the record as written.
    pub fn log_tool_call(&self, call: ToolCallInput<'_>) -> Result<ToolCall, LedgerError> {
        let record = self.build(call);
        self.append(&record)?;
        Ok(record)
    }

    /// The record [`log_tool_call`](Self::log_tool_call) would write for `call` now, without
    /// writing it (not checked yet).
    pub fn build(&self, call: ToolCallInput<'_>) -> ToolCall {
        let args_hash = match call.args {
            Args::Json(value) => ArgsHash::of(value, self.hash_form),
            Args::Hash(hash) => hash,
        };
        let session = call.session_id.unwrap_or_else(|| self.session_id.clone());
        let session_id = self.pseudonymize(&session).unwrap_or(session);
        ToolCall {
            ts: self.clock.now().unix_timestamp(),
            session_id,
            agent: call.agent,
            tool: call.tool,
            args_hash,
            result_status: call.result_status,
            elapsed_ms: call.elapsed_ms,
            error_class: call.error_class,
            risk_flags: call.risk_flags,
            artifacts: call.artifacts,
        }
    }

    /// Checks `record` and appends it, as it is, to the file of its day.
    pub fn append(&self, record: &ToolCall) -> Result<(), LedgerError> {
        record.check()?;
        let day = Day::of_ts(record.ts).ok_or(RecordError::TsOutOfRange)?;
        let mut line = Vec::with_capacity(320);
        record
            .write_line(&mut line)
            .map_err(|source| LedgerError::Serialize {
                what: "tool call record",
                source,
            })?;
        let mut files = self.files();
        let locked = self.lock.lock()?;
        files.append(day, &line, &locked)
    }

    fn files(&self) -> MutexGuard<'_, DayFiles> {
        // A panic while holding the lock leaves nothing half-done in `DayFiles` that the next
        // append does not check again (it re-reads the file's identity and day).
        self.files.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Creates the ledger directory (and its parents), mode 0700.
pub(crate) fn create_dir(dir: &Path) -> Result<(), LedgerError> {
    let mut builder = DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|source| LedgerError::io("create the ledger directory", dir, source))
}

/// A session id unique to this process and moment: process id and nanoseconds, in hex.
fn new_session_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}-{:x}", std::process::id(), nanos)
}
