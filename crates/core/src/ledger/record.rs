//! [`ToolCall`]: one line of the ledger, and the closed vocabularies it is made of
//! ([`ResultStatus`], [`RiskFlag`], [`ArgsHash`]).
//!
//! The record has exactly the fields of `schema/ledger/v1/tool_call.schema.json`, in its order,
//! and deserializing refuses any other field (the schema's `additionalProperties: false`). The
//! values a type cannot rule out on its own (empty names, a repeated flag, an error class on a
//! success, a `ts` the day files cannot name) are refused by [`ToolCall::check`], which the
//! ledger runs before it writes anything.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The largest `ts` a record may hold: 9999-12-31T23:59:59Z, the last second a day file name
/// (`events_YYYYMMDD.jsonl`, four-digit year) can name.
pub const MAX_TS: i64 = 253_402_300_799;

/// The largest `elapsed_ms`: 2^53 - 1, so every JSON implementation reads it exactly.
pub const MAX_ELAPSED_MS: u64 = (1 << 53) - 1;

/// One tool call as the ledger stores it: one line of `events.jsonl`.
///
/// Build one with [`Ledger::log_tool_call`](super::Ledger::log_tool_call), which stamps `ts`,
/// hashes the arguments and checks the record; a record read back from a file deserializes
/// into this type (and fails on a field the schema does not declare).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolCall {
    /// When the call was logged, in whole seconds since the Unix epoch (UTC).
    pub ts: i64,
    /// The session the call belongs to (pseudonymized when the ledger has a key).
    pub session_id: String,
    /// The agent that made the call.
    pub agent: String,
    /// The tool that was called.
    pub tool: String,
    /// SHA-256 of the arguments in canonical form; the arguments themselves are never stored.
    pub args_hash: ArgsHash,
    /// How the call ended.
    pub result_status: ResultStatus,
    /// How long the call took, in milliseconds.
    pub elapsed_ms: u64,
    /// The kind of error when the call did not succeed; `None` (written `null`) otherwise.
    pub error_class: Option<String>,
    /// Risk indicators, each at most once.
    pub risk_flags: Vec<RiskFlag>,
    /// Files or resources the call affected.
    pub artifacts: Vec<String>,
}

/// Why a [`ToolCall`] cannot be written as a conformant line. The messages name the field,
/// never its value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// A required string (`session_id`, `agent`, `tool`, `error_class`) is empty.
    #[error("`{0}` is empty")]
    EmptyField(&'static str),
    /// `ts` is negative or after 9999-12-31T23:59:59Z ([`MAX_TS`]).
    #[error("`ts` is outside 0..={MAX_TS} (1970-01-01 to 9999-12-31, UTC)")]
    TsOutOfRange,
    /// `elapsed_ms` is above 2^53 - 1 ([`MAX_ELAPSED_MS`]).
    #[error("`elapsed_ms` is above 2^53 - 1")]
    ElapsedOutOfRange,
    /// A risk flag is listed twice.
    #[error("risk flag `{0}` is listed twice")]
    DuplicateRiskFlag(RiskFlag),
    /// `error_class` is set on a call whose `result_status` is `success`.
    #[error("`error_class` must be null when `result_status` is success")]
    ErrorClassOnSuccess,
    /// An artifact is the empty string.
    #[error("artifact #{0} is empty")]
    EmptyArtifact(usize),
}

impl ToolCall {
    /// Checks what the types cannot: every rule of the schema holds for this record when this
    /// returns `Ok`.
    ///
    /// ```
    /// use agentlog_core::ledger::{ArgsHash, HashForm, RecordError, ResultStatus, ToolCall};
    /// let mut call = ToolCall {
    ///     ts: 1708200000,
    ///     session_id: "abc-123".into(),
    ///     agent: "dev_agent".into(),
    ///     tool: "file_editor".into(),
    ///     args_hash: ArgsHash::of(&serde_json::json!({"path": "a.py"}), HashForm::Jcs),
    ///     result_status: ResultStatus::Success,
    ///     elapsed_ms: 150,
    ///     error_class: None,
    ///     risk_flags: vec![],
    ///     artifacts: vec!["a.py".into()],
    /// };
    /// assert_eq!(call.check(), Ok(()));
    /// call.error_class = Some("OSError".into());
    /// assert_eq!(call.check(), Err(RecordError::ErrorClassOnSuccess));
    /// ```
    pub fn check(&self) -> Result<(), RecordError> {
        for (name, value) in [
            ("session_id", &self.session_id),
            ("agent", &self.agent),
            ("tool", &self.tool),
        ] {
            if value.is_empty() {
                return Err(RecordError::EmptyField(name));
            }
        }
        if !(0..=MAX_TS).contains(&self.ts) {
            return Err(RecordError::TsOutOfRange);
        }
        if self.elapsed_ms > MAX_ELAPSED_MS {
            return Err(RecordError::ElapsedOutOfRange);
        }
        match (&self.error_class, self.result_status) {
            (Some(class), _) if class.is_empty() => {
                return Err(RecordError::EmptyField("error_class"));
            }
            (Some(_), ResultStatus::Success) => return Err(RecordError::ErrorClassOnSuccess),
            _ => {}
        }
        for (i, flag) in self.risk_flags.iter().enumerate() {
            if self.risk_flags.iter().take(i).any(|seen| seen == flag) {
                return Err(RecordError::DuplicateRiskFlag(*flag));
            }
        }
        if let Some(i) = self.artifacts.iter().position(String::is_empty) {
            return Err(RecordError::EmptyArtifact(i));
        }
        Ok(())
    }

    /// The record as one JSON line, `'\n'`-terminated, appended to `out`: compact, fields in
    /// schema order, non-ASCII written as UTF-8.
    pub fn write_line(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        serde_json::to_writer(&mut *out, self)?;
        out.push(b'\n');
        Ok(())
    }
}

/// How a tool call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultStatus {
    /// The tool ran and succeeded.
    Success,
    /// The tool ran and failed.
    Error,
    /// A policy refused the call before it ran.
    Denied,
    /// The call exceeded its time limit.
    Timeout,
}

/// A name that is none of a closed vocabulary's values. The message lists the known ones
/// and does not repeat the input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what}; known: {known}")]
pub struct UnknownName {
    what: &'static str,
    known: String,
}

impl UnknownName {
    pub(super) fn new(what: &'static str, known: String) -> Self {
        UnknownName { what, known }
    }
}

impl ResultStatus {
    /// Every status, in the schema's order.
    pub const ALL: [ResultStatus; 4] = [
        ResultStatus::Success,
        ResultStatus::Error,
        ResultStatus::Denied,
        ResultStatus::Timeout,
    ];

    /// The name written in the record.
    pub fn as_str(self) -> &'static str {
        match self {
            ResultStatus::Success => "success",
            ResultStatus::Error => "error",
            ResultStatus::Denied => "denied",
            ResultStatus::Timeout => "timeout",
        }
    }
}

closed_vocabulary!(ResultStatus, "result status", as_str);

/// A risk indicator: the seven flags the ledger defines, and no others.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskFlag {
    /// External content tried to override instructions.
    InjectionAttempt,
    /// Attempted to access or output secrets.
    SecretAttempt,
    /// Tried to access a forbidden path.
    PathDenied,
    /// Tried network access without permission.
    NetworkDenied,
    /// Code tried to escape the sandbox.
    SandboxViolation,
    /// The operation exceeded its time limit.
    Timeout,
    /// A high-risk action was explicitly approved.
    HighRiskApproved,
}

impl RiskFlag {
    /// Every flag, in the schema's order.
    pub const ALL: [RiskFlag; 7] = [
        RiskFlag::InjectionAttempt,
        RiskFlag::SecretAttempt,
        RiskFlag::PathDenied,
        RiskFlag::NetworkDenied,
        RiskFlag::SandboxViolation,
        RiskFlag::Timeout,
        RiskFlag::HighRiskApproved,
    ];

    /// The name written in the record.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskFlag::InjectionAttempt => "injection_attempt",
            RiskFlag::SecretAttempt => "secret_attempt",
            RiskFlag::PathDenied => "path_denied",
            RiskFlag::NetworkDenied => "network_denied",
            RiskFlag::SandboxViolation => "sandbox_violation",
            RiskFlag::Timeout => "timeout",
            RiskFlag::HighRiskApproved => "high_risk_approved",
        }
    }

    /// What the flag means, in one line (the seed's table).
    pub fn description(self) -> &'static str {
        match self {
            RiskFlag::InjectionAttempt => "external content tried to override instructions",
            RiskFlag::SecretAttempt => "attempted to access or output secrets",
            RiskFlag::PathDenied => "tried to access a forbidden path",
            RiskFlag::NetworkDenied => "tried network access without permission",
            RiskFlag::SandboxViolation => "code tried to escape the sandbox",
            RiskFlag::Timeout => "operation exceeded its time limit",
            RiskFlag::HighRiskApproved => "a high-risk action was explicitly approved",
        }
    }
}

closed_vocabulary!(RiskFlag, "risk flag", as_str);

/// `sha256:` and 64 lowercase hex digits: the hash of a call's arguments.
///
/// Made by hashing ([`ArgsHash::of`]) or by parsing exactly that form; nothing else can be
/// held, so a record never carries a malformed hash (or, by mistake, the arguments).
///
/// ```
/// use agentlog_core::ledger::ArgsHash;
/// let h: ArgsHash = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a".parse()?;
/// assert_eq!(h.to_string().len(), 71);
/// assert!("sha256:ABC".parse::<ArgsHash>().is_err());
/// # Ok::<(), agentlog_core::ledger::ArgsHashError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArgsHash([u8; 32]);

/// A string that is not `sha256:` and 64 lowercase hex digits. The message does not repeat
/// the input (it may be arguments given by mistake).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("an args hash is `sha256:` followed by 64 lowercase hex digits")]
pub struct ArgsHashError;

impl ArgsHash {
    /// The prefix every hash is written with.
    pub const PREFIX: &'static str = "sha256:";

    /// Wraps a SHA-256 digest.
    pub fn from_digest(digest: [u8; 32]) -> Self {
        ArgsHash(digest)
    }

    /// The 32 bytes of the digest.
    pub fn digest(&self) -> &[u8; 32] {
        &self.0
    }
}

/// The lowercase ASCII hex digit of the low four bits.
fn hex_char(nibble: u8) -> u8 {
    b"0123456789abcdef"
        .get(usize::from(nibble & 0xf))
        .copied()
        .unwrap_or(b'0')
}

impl fmt::Display for ArgsHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut hex = [0u8; 64];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(self.0) {
            pair.copy_from_slice(&[hex_char(byte >> 4), hex_char(byte)]);
        }
        f.write_str(Self::PREFIX)?;
        // Hex digits are ASCII.
        f.write_str(std::str::from_utf8(&hex).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for ArgsHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ArgsHash({self})")
    }
}

impl FromStr for ArgsHash {
    type Err = ArgsHashError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = s.strip_prefix(Self::PREFIX).ok_or(ArgsHashError)?;
        if hex.len() != 64 {
            return Err(ArgsHashError);
        }
        let mut digest = [0u8; 32];
        for (byte, pair) in digest.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
            let [high, low] = *pair else {
                return Err(ArgsHashError);
            };
            *byte = (hex_digit(high)? << 4) | hex_digit(low)?;
        }
        Ok(ArgsHash(digest))
    }
}

/// The value of one lowercase hex digit.
fn hex_digit(c: u8) -> Result<u8, ArgsHashError> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err(ArgsHashError),
    }
}

impl Serialize for ArgsHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ArgsHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_hash_round_trips_and_refuses_other_forms() {
        let text = format!("sha256:{}", "0123456789abcdef".repeat(4));
        let hash: ArgsHash = text.parse().unwrap();
        assert_eq!(hash.to_string(), text);
        for bad in [
            "",
            "sha256:",
            "sha256:abc123...",
            &text.to_uppercase(),
            &format!("sha256:{}", "0123456789ABCDEF".repeat(4)),
            &format!("sha1:{}", "0".repeat(64)),
            &format!("{text}0"),
            &format!("sha256:{}g", "0".repeat(63)),
            &format!("sha256:{}é", "0".repeat(62)),
        ] {
            assert_eq!(bad.parse::<ArgsHash>(), Err(ArgsHashError), "{bad}");
        }
    }

    #[test]
    fn names_parse_back() {
        for s in ResultStatus::ALL {
            assert_eq!(s.as_str().parse(), Ok(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
        }
        for f in RiskFlag::ALL {
            assert_eq!(f.as_str().parse(), Ok(f));
            assert_eq!(serde_json::to_string(&f).unwrap(), format!("\"{f}\""));
        }
        let err = "denial:network"
            .parse::<RiskFlag>()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("path_denied") && !err.contains("denial"),
            "{err}"
        );
    }
}
