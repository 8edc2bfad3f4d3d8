//! Profiles: which published schema set a log is checked against, and how `auto` chooses one
//! per file.
//!
//! The families and how `auto` chooses are documented on [`ProfileChoice`]; the profiles
//! themselves are agentlog-core's [`Profile`].
//!
//! **Log family first.** Under `auto` the reader decides, before any line is checked, whether
//! the input is a sandbox event log or a tool-call ledger: from the input's first line that
//! parses as a JSON object ([`family_of_line`]). Every line before it is not an object, and
//! a non-object line gets the same findings in both families, so nothing is buffered for
//! this: the reader looks at the lines of the pieces it has already cut, and only until the
//! first object line. An event log then chooses v0 or v1 as below. The reader hands each
//! piece to the workers with the family and the line that decided it, so a worker reports a
//! later line of the other family as `profile.mixed` itself ([`other_family`]).
//!
//! **Streaming.** The validator never buffers a file to choose. Workers check chunks before
//! the file's profile is known: the only verdicts that depend on it are the empty
//! `agent_system` and a line's membership in the other family, so a worker records those as
//! [`Pending`] facts (everything else is the same under both profiles: shared types have
//! identical schemas, and a family's own types are checked with that family's envelope).
//! The merger, which sees chunks in line order, decides the profile at the first family
//! line and turns pending facts into findings; the few that come before the decision are held
//! (at most the per-file finding limit of them, the rest counted) until it is made, or until
//! the end of the input.

use std::fmt;
use std::str::FromStr;

use agentlog_core::event::EventType;
use agentlog_core::schema::Profile;

use crate::{Finding, Rule, Severity};

/// The profile to validate against: one given ([`Given`](ProfileChoice::Given), an event-log
/// profile v0 or v1 or the tool-call ledger: agentlog-core's [`Profile`], the one type of the
/// published schema sets), or chosen per file ([`Auto`](ProfileChoice::Auto), the default).
///
/// **Event log or ledger.** Under `auto`, the input's first line that parses as a JSON
/// object decides the log family: a ledger when it has none of the event envelope's
/// `run_id`, `agent_system` and has one of the ledger's own keys (`tool`, `result_status`,
/// `args_hash` of a tool call; `context_hash` of the public implementation's risk-event
/// records; `payload_hash`, `chain_hash` of its telemetry-provenance records); otherwise an
/// event log. A ledger file is checked under [`Profile::Ledger`] whole; an event log chooses
/// v0 or v1 by the rule below. A later line of the other log family is `profile.mixed`, one
/// finding naming the file's family and its deciding line, and is not checked further: in an
/// event log, an object that would have made the file a ledger had it come first; in a
/// ledger, an object with `run_id` or `agent_system` and none of the ledger's keys (so the
/// public implementation's risk-event and telemetry records stay `ledger.record_kind`). A
/// given profile keeps its own rules: under `v0`/`v1` a ledger record gets the envelope
/// findings, under `ledger` an event is `ledger.record_kind`.
///
/// The two event-log profiles share the envelope and two event types; each has types of its own:
///
/// | family | event types |
/// |---|---|
/// | v0 only | `llm_request`, `llm_response` |
/// | v1 only | `http_request`, `http_response`, `gate_decision`, `route_decision`, `request_transform`, `response_transform` |
/// | shared | `budget_action`, `key_injection` (identical data schemas) |
///
/// **The `auto` rule.** A file is checked under the family of the *first* line whose
/// `event_type` belongs to one family only. A file with no such line (only shared types,
/// unknown types, or no events) is checked under v0, the seed's profile. Every line of a
/// file is judged under that one profile, the lines before the deciding line included: an
/// `agent_system` of `""` is `envelope.empty` (an error) under v0 and
/// `envelope.agent_system_unknown` (a warning) under v1, wherever it occurs in the file.
/// A later line whose type belongs to the other family is `profile.mixed` (an error, not
/// `event_type.unknown`), and its data is still checked against its own family's schema. A
/// type neither profile defines stays `event_type.unknown` (`--unknown-types` sets its
/// severity).
///
/// ```
/// use agentlog_validate::{Profile, ProfileChoice};
/// assert_eq!("auto".parse::<ProfileChoice>(), Ok(ProfileChoice::Auto));
/// assert_eq!(ProfileChoice::default(), ProfileChoice::Auto);
/// assert_eq!("v1".parse::<ProfileChoice>(), Ok(ProfileChoice::Given(Profile::V1)));
/// assert_eq!(ProfileChoice::from(Profile::V1).name(), "v1");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProfileChoice {
    /// Every file is checked under this profile.
    Given(Profile),
    /// Chosen per file from the event types it holds (the default): a ledger when its first
    /// JSON object is a ledger record, else the family of the first v0-only or v1-only type,
    /// else v0 (the rules above). A report never says a file was checked under `Auto`: it
    /// names the profile chosen.
    #[default]
    Auto,
}

/// A profile name other than `v0`, `v1`, `ledger` or `auto`. The message does not repeat the
/// input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile; known: v0, v1, ledger, auto")]
pub struct UnknownProfileName;

impl ProfileChoice {
    /// Every profile name `--profile` takes, in help order.
    pub const ALL: [ProfileChoice; 4] = [
        ProfileChoice::Given(Profile::V0),
        ProfileChoice::Given(Profile::V1),
        ProfileChoice::Given(Profile::Ledger),
        ProfileChoice::Auto,
    ];

    /// The name used in messages and on the command line: a given profile's
    /// ([`Profile::name`]: `v0`, `v1`, `ledger`) or `auto`.
    pub fn name(self) -> &'static str {
        match self {
            ProfileChoice::Given(profile) => profile.name(),
            ProfileChoice::Auto => "auto",
        }
    }

    /// Whether the profile defines `event_type` (for [`Auto`](Self::Auto): whether either
    /// event-log profile does; the ledger defines none).
    pub fn defines(self, event_type: &EventType) -> bool {
        match self {
            ProfileChoice::Given(profile) => profile.defines_type(event_type),
            ProfileChoice::Auto => Profile::EVENT_LOGS
                .iter()
                .any(|p| p.defines_type(event_type)),
        }
    }
}

impl From<Profile> for ProfileChoice {
    fn from(profile: Profile) -> Self {
        ProfileChoice::Given(profile)
    }
}

/// A choice equals a profile when it gives that profile.
impl PartialEq<Profile> for ProfileChoice {
    fn eq(&self, profile: &Profile) -> bool {
        *self == ProfileChoice::Given(*profile)
    }
}

impl fmt::Display for ProfileChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ProfileChoice {
    type Err = UnknownProfileName;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        ProfileChoice::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or(UnknownProfileName)
    }
}

/// How the profile a file was checked under was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChosenBy {
    /// Given in [`Options::profile`](crate::Options::profile) (`--profile v0|v1|ledger`).
    Option,
    /// `auto`: the first line whose type belongs to one family only.
    EventType {
        /// 1-based line number of that line.
        line: u64,
        /// Its event type.
        event_type: &'static str,
    },
    /// `auto`: no line had a v0-only or v1-only type (before the end of the input, or before
    /// validation stopped early), so the seed's profile v0.
    Default,
    /// `auto`: the input's first JSON-object line is a ledger record (see [`Profile`]).
    LedgerRecord {
        /// 1-based line number of that line.
        line: u64,
    },
}

/// The profile a file was checked under, and how it was chosen.
///
/// ```
/// use agentlog_validate::{CheckedProfile, ChosenBy, Profile};
/// let checked = CheckedProfile {
///     profile: Profile::V1,
///     chosen_by: ChosenBy::EventType { line: 3, event_type: "http_request" },
/// };
/// assert_eq!(
///     checked.to_string(),
///     "profile v1 (auto: line 3 is http_request, a v1-only type)"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckedProfile {
    /// The profile itself (`Auto` has chosen one by then).
    pub profile: Profile,
    /// Why.
    pub chosen_by: ChosenBy,
}

impl fmt::Display for CheckedProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let profile = self.profile;
        match self.chosen_by {
            ChosenBy::Option => write!(f, "profile {profile} (given)"),
            ChosenBy::EventType { line, event_type } => write!(
                f,
                "profile {profile} (auto: line {line} is {event_type}, a {profile}-only type)"
            ),
            ChosenBy::LedgerRecord { line } => write!(
                f,
                "profile {profile} (auto: line {line}, the first JSON object, is a ledger record)"
            ),
            ChosenBy::Default => write!(
                f,
                "profile {profile} (auto: no v0-only or v1-only event type, so the default)"
            ),
        }
    }
}

/// The log family a line is checked as: decided per input before its lines are checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Family {
    /// A sandbox event log (v0 or v1).
    #[default]
    EventLog,
    /// A tool-call ledger.
    Ledger,
}

impl Family {
    /// The family every line is checked as under `profile`; `None` for `Auto`, which decides
    /// per input with [`family_of_line`].
    pub(crate) fn given(profile: ProfileChoice) -> Option<Family> {
        match profile {
            ProfileChoice::Auto => None,
            ProfileChoice::Given(Profile::Ledger) => Some(Family::Ledger),
            ProfileChoice::Given(_) => Some(Family::EventLog),
        }
    }
}

/// The family a piece's lines are checked as and, under `auto`, the line that decided it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct FamilyOf {
    /// The family.
    pub family: Family,
    /// Under `auto`, the 1-based line (the input's first JSON object) that decided `family`;
    /// `None` when the profile was given, or before any JSON object line.
    pub decided_at: Option<u64>,
}

/// Keys only ledger records have (tool calls, the public implementation's risk events and
/// telemetry-provenance records).
const LEDGER_KEYS: [&str; 6] = [
    "tool",
    "result_status",
    "args_hash",
    "context_hash",
    "payload_hash",
    "chain_hash",
];

/// Keys of the event envelope that no ledger record has.
const ENVELOPE_KEYS: [&str; 2] = ["run_id", "agent_system"];

/// The keys of a JSON object that say which family it belongs to: the first envelope key
/// and the first ledger key it has.
#[derive(Clone, Copy, Debug)]
struct Signals {
    envelope: Option<&'static str>,
    ledger: Option<&'static str>,
}

impl Signals {
    /// The signals of the object whose keys `has` tells.
    fn of(has: impl Fn(&str) -> bool) -> Self {
        Signals {
            envelope: ENVELOPE_KEYS.into_iter().find(|k| has(k)),
            ledger: LEDGER_KEYS.into_iter().find(|k| has(k)),
        }
    }
}

/// The family a line decides, when it is a JSON object (after a CR and a byte order mark are
/// set aside, as the checker does): a ledger when it has no `run_id` and no `agent_system`
/// and has one of the ledger's own keys, else an event log. `None` for any other line.
pub(crate) fn family_of_line(line: &[u8]) -> Option<Family> {
    use serde::de::IgnoredAny;
    use std::borrow::Cow;
    use std::collections::BTreeMap;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    let object: BTreeMap<Cow<'_, str>, IgnoredAny> = serde_json::from_slice(line).ok()?;
    match Signals::of(|k| object.contains_key(k)) {
        Signals {
            envelope: None,
            ledger: Some(_),
        } => Some(Family::Ledger),
        _ => Some(Family::EventLog),
    }
}

/// Under `auto`, the `profile.mixed` finding for a JSON object (`has` tells its keys) at
/// `line` that belongs to the other family than the file's, if it does. In an event log that
/// is an object that would have made the file a ledger had it come first (no `run_id`, no
/// `agent_system`, one of the ledger's keys); in a ledger, an object with `run_id` or
/// `agent_system` and none of the ledger's keys (so the public implementation's risk-event
/// and telemetry records stay `ledger.record_kind`). `None` when the family was given.
pub(crate) fn other_family(
    line: u64,
    family: FamilyOf,
    has: impl Fn(&str) -> bool,
) -> Option<Finding> {
    let at = family.decided_at?;
    let kind = |key: &str| match key {
        "tool" | "result_status" | "args_hash" => "tool-call ledger record",
        _ => "ledger record",
    };
    let message = match (family.family, Signals::of(has)) {
        (
            Family::EventLog,
            Signals {
                envelope: None,
                ledger: Some(key),
            },
        ) => format!(
            "a {} (no run_id or agent_system, and has `{key}`), but this \
             file is a sandbox event log (auto: line {at}, its first JSON object, is an \
             event); one file holds one log family (event log or ledger), so this line is \
             not checked further",
            kind(key)
        ),
        (
            Family::Ledger,
            Signals {
                envelope: Some(key),
                ledger: None,
            },
        ) => format!(
            "a sandbox event-log event (has `{key}` and none of the ledger's keys), but this \
             file is a tool-call ledger (auto: line {at}, its first JSON object, is a ledger \
             record); one file holds one log family (event log or ledger), so this line is \
             not checked further"
        ),
        _ => return None,
    };
    Some(Finding {
        line,
        rule: Rule::ProfileMixed,
        severity: Rule::ProfileMixed.info().severity,
        pointer: Some(String::new()),
        message,
    })
}

/// A profile-dependent fact about one line, recorded by a worker under [`ProfileChoice::Auto`]
/// and turned into a finding (or nothing) once the file's profile is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pending {
    /// `agent_system` is `""`.
    AgentSystemEmpty,
    /// The line's event type belongs to this family alone.
    Family(Profile, &'static str),
}

impl Pending {
    /// The finding `self` at `line` makes in a file checked under `checked`, if any.
    pub(crate) fn resolve(self, line: u64, checked: CheckedProfile) -> Option<Finding> {
        match self {
            Pending::AgentSystemEmpty => Some(agent_system_empty(checked.profile, line)),
            Pending::Family(family, _) if family == checked.profile => None,
            Pending::Family(family, name) => Some(mixed(line, family, name, checked)),
        }
    }
}

/// The finding for `agent_system: ""` under `profile` (`V0` or `V1`): `envelope.empty`
/// under v0, which requires a name; `envelope.agent_system_unknown` (a warning) under v1,
/// whose schema accepts what the reference writes without `--agent-system`.
pub(crate) fn agent_system_empty(profile: Profile, line: u64) -> Finding {
    let (rule, message) = if profile == Profile::V1 {
        (
            Rule::AgentSystemUnknown,
            "agent_system is empty: the reference writes \"\" when started without \
             --agent-system, so this log cannot say which agent system wrote it",
        )
    } else {
        (
            Rule::EnvelopeEmpty,
            "must not be empty (omit optional fields instead); v0 requires the agent \
             system's name",
        )
    };
    Finding {
        line,
        rule,
        severity: rule.info().severity,
        pointer: Some("/agent_system".into()),
        message: message.to_owned(),
    }
}

/// `profile.mixed`: `name`, a `family`-only type, in a file checked under `checked`.
fn mixed(line: u64, family: Profile, name: &str, checked: CheckedProfile) -> Finding {
    let profile = checked.profile;
    let why = match checked.chosen_by {
        ChosenBy::EventType {
            line: at,
            event_type,
        } => format!("decided at line {at} by {event_type}"),
        _ => "decided earlier".to_owned(),
    };
    Finding {
        line,
        rule: Rule::ProfileMixed,
        severity: Severity::Error,
        pointer: Some("/event_type".into()),
        message: format!(
            "event_type `{name}` is a {family}-only type, but this file holds {profile}-only \
             types and is checked under {profile} ({why}); one log holds one family (v0 or v1)"
        ),
    }
}
