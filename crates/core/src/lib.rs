//! # agentlog-core
//!
//! The event model and writer of agentlog, the specification and conformance kit for the JSON
//! Lines event logs that AI-agent sandboxes write: the seed's v0 types (`llm_request`,
//! `llm_response`, `budget_action`, `key_injection`) and the v1 types the reference's Go
//! writer really emits (`http_request`, `http_response`, `gate_decision`, `route_decision`,
//! `request_transform`, `response_transform`). This is the crate a producer of logs depends on: it
//! pulls in no async runtime, no HTTP or TLS stack and no C build (serde, serde_json, time,
//! thiserror, itoa, memchr).
//!
//! Data flows one way: a producer describes what happened with a [`Record`], the [`Emitter`]
//! stamps time and run metadata on it and checks the resulting [`Event`] once, and every
//! [`Sink`](sink::Sink) receives the checked event ([`event::CheckedEvent`]); the
//! [`JsonlWriter`](sink::JsonlWriter) appends it as one line.
//!
//! ```
//! use std::sync::Arc;
//! use agentlog_core::{Emitter, Record};
//! use agentlog_core::event::{InjectionAction, KeyInjection};
//! use agentlog_core::sink::{JsonlWriter, Sink};
//!
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("run-1/events.jsonl");
//! let writer = Arc::new(JsonlWriter::open(&path)?); // dir 0700, file 0600
//! let emitter = Emitter::new("vm-503ad4d1", "openclaw", vec![writer as Arc<dyn Sink>])?;
//! emitter.emit(
//!     Record::new(KeyInjection::new(
//!         "OPENAI_API_KEY",
//!         "api.openai.com",
//!         InjectionAction::Injected,
//!     ))
//!     .plugin("secret_injector")
//!     .tag("tls"),
//! )?; // summary `secret "OPENAI_API_KEY" injected for api.openai.com`, ts stamped now (UTC)
//! emitter.close()?; // fsync; idempotent
//! # assert_eq!(std::fs::read_to_string(&path)?.lines().count(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! - [`event`]: the event model, serialized byte-for-byte as the Go reference writes it.
//! - [`schema`]: the published JSON Schemas (draft 2020-12), embedded; compiled offline with
//!   the `compile` feature (which adds jsonschema).
//! - [`sink`]: where events go ([`sink::JsonlWriter`], [`sink::MemorySink`]).
//! - [`emitter`]: stamps run metadata and time, fans out to sinks.
//! - [`config`]: [`config::LoggingConfig`] and the path-safe [`config::RunId`].
//! - [`secrets`]: the secret specification (named secrets, host globs, placeholders, secrets
//!   files), shared by the interceptor and the validator.
//! - `ledger` (feature `ledger`): the tool-call ledger, one layer up from the sandbox log: the
//!   `tool_call` record, argument hashing (RFC 8785 JCS and the public implementation's Python
//!   form), HMAC pseudonyms, a writer that rotates by UTC day across threads and processes,
//!   and crash-safe retention. The feature adds sha2, hmac, ryu-js, fs4 and flate2.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod emitter;
pub mod event;
#[cfg(feature = "ledger")]
pub mod ledger;
pub mod schema;
pub mod secrets;
pub mod sink;

pub use emitter::{Emitter, Record};
pub use event::{Event, EventType};
