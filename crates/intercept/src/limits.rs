//! Process limits the proxy needs raised.

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
