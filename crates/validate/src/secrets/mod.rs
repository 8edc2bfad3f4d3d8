//! Finding secrets in text: the validator's side of the secret rule *names may be logged,
//! values never*.
//!
//! The secret specification itself ([`Secret`], [`SecretValue`], host globs, secrets files)
//! lives in `agentlog_core::secrets`, shared with the interceptor; this module holds what only
//! a reader of logs needs:
//!
//! - [`scan`]: every encoded form of every supplied secret, one table of their prefixes;
//! - [`decode`]: the decoded views (JSON, percent, HTML, hex escapes, ...) the scanner and
//!   the detector search besides the text itself;
//! - [`detect`]: the built-in detector of well-known credential formats;
//! - [`redact`]: the one redactor every piece of text leaving the validator passes through.

pub mod decode;
pub mod detect;
mod escapes;
mod prefix;
pub mod redact;
pub mod scan;
mod terminal;

pub use agentlog_core::secrets::{Secret, SecretValue};
