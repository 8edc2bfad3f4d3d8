//! Pseudonymizing user identifiers: HMAC-SHA256 under a key only the operator holds.
//!
//! The same identifier always gives the same pseudonym under one key, so records of one user
//! or session can still be grouped and counted; without the key the identifier cannot be
//! recovered or confirmed by guessing (a plain hash of a short identifier could be, by
//! trying candidates). A pseudonym is written `hmac-sha256:` + 64 lowercase hex digits.

use std::fmt;
use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The shortest key accepted, in bytes (HMAC-SHA256's security needs at least this much; 32
/// random bytes are recommended).
pub const MIN_KEY_BYTES: usize = 16;

/// The prefix of every pseudonym.
pub const PSEUDONYM_PREFIX: &str = "hmac-sha256:";

/// A pseudonymization key. It has no `Display`, and its `Debug` shows only its length, so it
/// cannot end up in a log or an error message.
#[derive(Clone)]
pub struct PseudonymKey(Vec<u8>);

/// Why a key was refused. No variant holds key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key is shorter than [`MIN_KEY_BYTES`].
    #[error(
        "pseudonymization key is {0} bytes long; at least 16 are needed (32 random bytes recommended)"
    )]
    TooShort(usize),
    /// The key file could not be read.
    #[error("read pseudonymization key file {path}: {source}")]
    Read {
        /// The key file.
        path: std::path::PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

impl PseudonymKey {
    /// Wraps key bytes; at least [`MIN_KEY_BYTES`] of them.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, KeyError> {
        let bytes = bytes.into();
        if bytes.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort(bytes.len()));
        }
        Ok(PseudonymKey(bytes))
    }

    /// Reads a key file: its bytes are the key, one trailing `\n` (or `\r\n`) excepted, so a
    /// key written with `echo` or an editor works as well as raw random bytes.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let mut bytes = std::fs::read(path).map_err(|source| KeyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        Self::new(bytes)
    }

    /// The pseudonym of `id`: `hmac-sha256:` + hex of HMAC-SHA256(key, id).
    ///
    /// ```
    /// use agentlog_core::ledger::PseudonymKey;
    /// let key = PseudonymKey::new(*b"0123456789abcdef0123456789abcdef")?;
    /// let p = key.pseudonymize("alice@example.com");
    /// assert!(p.starts_with("hmac-sha256:") && p.len() == 12 + 64);
    /// assert_eq!(p, key.pseudonymize("alice@example.com"));
    /// assert_ne!(p, key.pseudonymize("bob@example.com"));
    /// # Ok::<(), agentlog_core::ledger::KeyError>(())
    /// ```
    pub fn pseudonymize(&self, id: &str) -> String {
        // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
        let digest = match <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0) {
            Ok(mut mac) => {
                mac.update(id.as_bytes());
                mac.finalize().into_bytes()
            }
            Err(_) => Default::default(),
        };
        let mut out = String::with_capacity(PSEUDONYM_PREFIX.len() + 64);
        out.push_str(PSEUDONYM_PREFIX);
        for byte in digest.iter() {
            out.push_str(&format!("{byte:02x}"));
        }
        out
    }
}

impl fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PseudonymKey({} bytes)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_rfc_4231_test_case_2_style_hmac() {
        // RFC 4231 test case 1: key 0x0b x 20, data "Hi There".
        let key = PseudonymKey::new(vec![0x0b; 20]).unwrap();
        assert_eq!(
            key.pseudonymize("Hi There"),
            "hmac-sha256:b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
    }

    #[test]
    fn short_keys_are_refused_and_debug_hides_the_key() {
        assert!(matches!(
            PseudonymKey::new(*b"short"),
            Err(KeyError::TooShort(5))
        ));
        let key = PseudonymKey::new(*b"super-secret-key-material").unwrap();
        assert_eq!(format!("{key:?}"), "PseudonymKey(25 bytes)");
    }

    #[test]
    fn key_file_drops_one_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, b"0123456789abcdef\r\n").unwrap();
        let from_file = PseudonymKey::from_file(&path).unwrap();
        let direct = PseudonymKey::new(*b"0123456789abcdef").unwrap();
        assert_eq!(from_file.pseudonymize("x"), direct.pseudonymize("x"));
        let missing = PseudonymKey::from_file(dir.path().join("nope")).unwrap_err();
        assert!(missing.to_string().contains("nope"), "{missing}");
    }
}
