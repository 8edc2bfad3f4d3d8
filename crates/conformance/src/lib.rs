//! # agentlog-conformance
//!
//! The conformance kit ports are checked against. The model: a **case** is data (a log and
//! its expected verdict, or an interceptor scenario) with a stable id; a **harness** runs the
//! cases against a **subject** (the reference, or a port launched through a command template),
//! skips those the port declares **unsupported**, and **judges** each other one pass or fail
//! with its differences; a **report** writes the verdicts. A port that misbehaves fails its
//! cases; only the harness itself failing is an error. The parts:
//!
//! - [`cases`]: every case as data. The files of this crate's `conformance/` directory (the
//!   repository's top-level `conformance/` is a byte-for-byte copy of it) are embedded in the
//!   binary at build time, listed by a manifest with a stable id, a
//!   one-line description and the profile of each case, and can be written out with
//!   [`cases::export`] for a port to vendor.
//! - [`validator`]: the harness that runs the log cases against the reference validator or
//!   any other implementation driven through a command template.
//! - [`proxy`]: the harness that starts a mock upstream behind TLS, launches an interceptor
//!   (ours or a port) through a command template, replays every scenario through it with a
//!   real HTTPS client and compares what the upstream received and the events written.
//! - [`seal`]: the harness that runs the sealed-log and sealed-ledger cases against the
//!   reference verifier or any other `verify` driven through a command template, judging
//!   its exit code and the findings it names.
//! - [`report`]: what the validator and seal harnesses share in writing their verdicts: a
//!   case's [`report::Status`], the [`report::Summary`] counts and the three formats.
//! - [`select`]: the cases a port declares unsupported (`--unsupported GLOB`,
//!   `--unsupported-from FILE`), shared by every harness.
//!
//! Both harnesses hand a port real secret values and show and look for them only through the
//! validator's redactor: every message they write that could quote a port's output shows a
//! value as `<secret NAME>`. Both write their reports in the formats of [`HarnessFormat`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod capped;
pub mod cases;
mod format;
mod junit;
pub mod proxy;
pub mod report;
pub mod seal;
mod secrets;
pub mod select;
pub mod validator;

pub use format::{HarnessFormat, UnknownHarnessFormat};
