//! Diagnostics on stderr: a `tracing` subscriber for every subcommand.
//!
//! `RUST_LOG` (the `tracing-subscriber` env-filter syntax, e.g. `agentlog=debug` or
//! `agentlog_intercept=trace`) wins when set; otherwise `-q` shows errors only, the default
//! shows warnings, `-v` adds information (TLS handshake failures, start-up details) and `-vv`
//! debug detail. Messages name hosts, secrets by name and files, never secret values, and pass
//! the output gate ([`super::output`]) like everything else the CLI prints.

use tracing_subscriber::EnvFilter;

/// Installs the subscriber; `verbose` is the number of `-v`, `quiet` whether `-q` was given.
pub(super) fn init(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Through the output gate, like every other byte the CLI prints; the gate escapes
        // control characters, so no ANSI colours.
        .with_writer(super::output::tracing_writer)
        .with_ansi(false)
        .try_init();
}
