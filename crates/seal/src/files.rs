//! Opening what seal and verify read: regular files only. A FIFO, a device or a directory
//! in a log's, a seal's or a key's place would block, never end, or mean nothing.

use std::fs::File;
use std::io;
use std::path::Path;

/// Opens `path` for reading when it is a regular file (a symlink to one is followed).
pub(crate) fn open_regular(path: &Path) -> io::Result<File> {
    // Checked before opening: opening a FIFO for reading waits for a writer.
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            if meta.is_dir() {
                "a directory, not a file"
            } else {
                "not a regular file (a FIFO, a device or a socket)"
            },
        ));
    }
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

/// The first `limit` bytes of the regular file at `path`; an error when it is longer.
pub(crate) fn read_small(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    use io::Read as _;
    let mut bytes = Vec::new();
    open_regular(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("longer than {limit} bytes: not a key file"),
        ));
    }
    Ok(bytes)
}
