//! # agentlog-core
//!
//! The event model and writer of agentlog, the specification and conformance kit for the JSON
//! Lines event logs that AI-agent sandboxes write (`llm_request`, `llm_response`,
//! `budget_action`, `key_injection`).
//!
//! - [`event`]: the event model, serialized byte-for-byte as the Go reference writes it.
//! - [`schema`]: the published JSON Schemas (draft 2020-12), embedded and compiled offline.
//! - [`sink`]: where events go ([`sink::JsonlWriter`], [`sink::MemorySink`]).
//! - [`emitter`]: stamps run metadata and time, fans out to sinks.
//! - [`config`]: [`config::LoggingConfig`] and the path-safe [`config::RunId`].
//! - [`secrets`]: named secrets and host globs, shared by the interceptor and the validator.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod emitter;
pub mod event;
pub mod schema;
pub mod secrets;
pub mod sink;

pub use emitter::{Emitter, Record};
pub use event::{Event, EventType};
