//! Reading what a port wrote (its report, log or output) up to a limit: a runaway port fails
//! its case, it never exhausts the harness's memory.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// At most `max` bytes of `path`, and whether the file holds more.
pub(crate) fn read(path: &Path, max: u64) -> io::Result<(Vec<u8>, bool)> {
    let mut bytes = Vec::new();
    File::open(path)?
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)?;
    let more = bytes.len() as u64 > max;
    bytes.truncate(usize::try_from(max).unwrap_or(usize::MAX));
    Ok((bytes, more))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stop_at_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, "abcdef").unwrap();
        assert_eq!(read(&path, 4).unwrap(), (b"abcd".to_vec(), true));
        assert_eq!(read(&path, 6).unwrap(), (b"abcdef".to_vec(), false));
    }
}
