//! # agentlog-conformance
//!
//! The conformance kit ports are checked against, in four parts:
//!
//! - [`cases`]: every case as data. The files of the repository's `conformance/` directory
//!   are embedded in the binary at build time, listed by a manifest with a stable id, a
//!   one-line description and the profile of each case, and can be written out with
//!   [`cases::export`] for a port to vendor.
//! - [`validator`]: the harness that runs the log cases against the reference validator or
//!   any other implementation driven through a command template.
//! - `proxy`: the harness that starts a mock upstream behind TLS, launches an interceptor
//!   (ours or a port) through a command template, replays every scenario through it with a
//!   real HTTPS client and compares what the upstream received and the events written.
//! - [`select`]: the cases a port declares unsupported (`--unsupported GLOB`,
//!   `--unsupported-from FILE`), shared by both harnesses.
//! - [`secrets`]: how both harnesses show (`<secret NAME>`) and look for the secret values
//!   they hand a port, with the validator's redactor.
//!
//! Both harnesses write their reports in the formats of [`HarnessFormat`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod capped;
pub mod cases;
mod format;
mod junit;
pub mod proxy;
pub mod secrets;
pub mod select;
pub mod validator;

pub use format::{HarnessFormat, UnknownHarnessFormat};
