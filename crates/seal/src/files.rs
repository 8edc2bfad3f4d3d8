//! Opening what seal and verify read: regular files only. A FIFO, a device or a directory
//! in a log's, a seal's or a key's place would block, never end, or mean nothing. A seal
//! file is written only where it is itself: never through a symlink.

use std::fs::File;
use std::io;
use std::path::Path;

/// An error unless `path` is a regular file (a symlink to one is followed).
pub(crate) fn regular(path: &Path) -> io::Result<()> {
    let meta = std::fs::metadata(path)?;
    if meta.is_file() {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        if meta.is_dir() {
            "a directory, not a file"
        } else {
            "not a regular file (a FIFO, a device or a socket)"
        },
    ))
}

/// Opens `path` for reading when it is a regular file (a symlink to one is followed).
pub(crate) fn open_regular(path: &Path) -> io::Result<File> {
    // Checked before opening: opening a FIFO for reading waits for a writer.
    regular(path)?;
    let file = File::open(path)?;
    // And after: the path may have been replaced in between.
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(file)
}

/// The first `limit` bytes of `file`; an error when it is longer.
pub(crate) fn read_small_from(file: File, limit: u64) -> io::Result<Vec<u8>> {
    use io::Read as _;
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("longer than {limit} bytes: not a key file"),
        ));
    }
    Ok(bytes)
}

/// Opens the seal file at `path` to append to it, creating it when absent. A symlink in its
/// place, dangling or not, is refused rather than followed: whoever can write the log's
/// directory could otherwise point the seal at any file the sealer may write.
pub fn open_seal_for_append(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    if path
        .symlink_metadata()
        .is_ok_and(|meta| meta.file_type().is_symlink())
    {
        return Err(symlink_refused());
    }
    let opened = options.open(path);
    // O_NOFOLLOW's answer for a symlink that appeared in between.
    #[cfg(unix)]
    let opened = opened.map_err(|e| {
        if e.raw_os_error() == Some(libc::ELOOP) {
            symlink_refused()
        } else {
            e
        }
    });
    let file = opened?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(file)
}

fn symlink_refused() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "a symlink: a seal file is written only where it is",
    )
}
