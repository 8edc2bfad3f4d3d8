//! The tool-call ledger: an append-only record of every tool call an agent makes, one JSON
//! line per call, in files rotated by UTC day (the MYCA event ledger's model). Behind this
//! crate's `ledger` feature.
//!
//! Data flows one way, as for events: a caller describes a call with a [`ToolCallInput`]
//! (agent, tool, arguments, outcome); the [`Ledger`] turns it into a [`ToolCall`] record (time
//! from its [`Clock`], the arguments replaced by their [`ArgsHash`], the session id
//! pseudonymized with a [`PseudonymKey`] when one is configured), checks it
//! ([`ToolCall::check`]: every rule of `schema/ledger/v1/tool_call.schema.json`), and appends
//! it to the file of its UTC day through the crate's [`JsonlWriter`](crate::sink::JsonlWriter).
//! [`retain()`] later applies the retention policy to the directory.
//!
//! - [`record`]: [`ToolCall`] and its closed vocabularies ([`ResultStatus`], [`RiskFlag`],
//!   [`ArgsHash`]).
//! - [`hash`]: [`HashForm`], the canonical text that is hashed: [`jcs`] (RFC 8785, the
//!   default) or [`pyjson`] (the public implementation's `json.dumps(sort_keys=True)`).
//! - [`pseudonym`]: HMAC-SHA256 pseudonyms of user identifiers.
//! - [`clock`]: the injectable [`Clock`] and the UTC [`Day`].
//! - [`layout`]: the names of the files in a ledger directory.
//! - `rotate` and `lock` (internal): daily rotation under an OS file lock shared by every
//!   thread and process writing the directory.
//! - [`retain`](mod@retain): retention (full days, [`DayStats`], `archive/`), crash-safe.
//! - [`FileHook`]: told of each day file rotated, late-appended or about to be archived,
//!   under the directory lock (the CLI seals day files with it; this crate does not seal).
//!
//! ```
//! use agentlog_core::ledger::{Args, Ledger, LedgerConfig, ResultStatus, RiskFlag, ToolCallInput};
//! # let dir = tempfile::tempdir()?;
//! let ledger = Ledger::open(dir.path(), LedgerConfig::default())?;
//! let args = serde_json::json!({"cmd": "cat /etc/shadow"});
//! ledger.log_tool_call(
//!     ToolCallInput::new("dev_agent", "exec_shell", Args::Json(&args), ResultStatus::Denied)
//!         .risk_flag(RiskFlag::PathDenied),
//! )?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

/// `Display` and `FromStr` for a closed vocabulary: a type with an `ALL` array and a method
/// naming each value. The error for an unknown name lists the known ones, taken from `ALL`.
macro_rules! closed_vocabulary {
    ($ty:ident, $what:literal, $name:ident) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.$name())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::ledger::record::UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .into_iter()
                    .find(|v| v.$name() == s)
                    .ok_or_else(|| {
                        $crate::ledger::record::UnknownName::new(
                            $what,
                            Self::ALL.map(Self::$name).join(", "),
                        )
                    })
            }
        }
    };
}

pub mod clock;
mod error;
pub mod hash;
mod hook;
pub mod jcs;
pub mod layout;
mod lock;
pub mod pseudonym;
pub mod pyjson;
pub mod record;
pub mod retain;
mod rotate;
mod text_form;
mod writer;

pub use clock::{Clock, Day, FixedClock, SystemClock};
pub use error::LedgerError;
pub use hash::HashForm;
pub use hook::{FileEvent, FileHook};
pub use pseudonym::{KeyError, PseudonymKey};
pub use record::{
    ArgsHash, ArgsHashError, RecordError, ResultStatus, RiskFlag, ToolCall, UnknownName,
};
pub use retain::{
    Action, DayStats, RetainOptions, RetainReport, RetentionPolicy, Step, StepKind, retain,
};
pub use writer::{Args, Ledger, LedgerConfig, ToolCallInput};
