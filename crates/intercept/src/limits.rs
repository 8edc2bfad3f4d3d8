//! Process limits the proxy needs raised, and signals it must not die of.

/// Raises the soft limit on open files to the hard limit, so that a burst of clients (each
/// needing a socket to the client and one to the upstream) is not refused at the common
/// default of 1,024. Returns `(before, after)`; `None` where the platform has no such limit
/// or it could not be read. A failure to raise it is not an error: the proxy still runs,
/// with fewer connections possible.
pub fn raise_fd_limit() -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        let (before, _) = rlimit::Resource::NOFILE.get().ok()?;
        let after = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(before);
        Some((before, after))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Keeps `SIGXFSZ` and `SIGPIPE` from killing the process: a write past a file-size limit
/// (`ulimit -f`, systemd's `LimitFSIZE=`) or into a closed pipe then fails with an error
/// (`EFBIG`, `EPIPE`) that the writer handles, so a full event log takes the documented
/// fail-closed path (503, the failure reported and counted) instead of ending the proxy
/// with exchanges in flight and unlogged.
///
/// Done with tokio's signal handling, no `unsafe`: registering a listener installs a handler
/// that replaces the default action for the rest of the process's life (tokio never restores
/// it, even once the listener is dropped), and a signal that arrives is only recorded. Must
/// be called inside a tokio runtime with its signal driver (`enable_all`). Does nothing where
/// there are no such signals.
pub fn ignore_write_signals() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use rustix::process::Signal;
        use tokio::signal::unix::{SignalKind, signal};
        for raw in [Signal::XFSZ.as_raw(), Signal::PIPE.as_raw()] {
            drop(signal(SignalKind::from_raw(raw))?);
        }
    }
    Ok(())
}
