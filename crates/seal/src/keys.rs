//! Ed25519 key files: one line each, a label that says which kind of key it holds, then the
//! 32 key bytes as lowercase hex:
//!
//! ```text
//! agentlog-seal-secret-key ed25519 <64 hex digits: the private seed>
//! agentlog-seal-public-key ed25519 <64 hex digits: the public key>
//! ```
//!
//! The label makes a public key given where the secret one belongs (or the reverse) a clear
//! error instead of a signature that never verifies.
//!
//! A secret key file is read only when it is private, as OpenSSH reads a private key: on
//! unix, a file that its group or others may read or write (any of mode `0o077`) is refused
//! with [`KeyError::NotPrivate`] (after the label check: a public key given in its place is
//! named as that mistake), and its key is never decoded. [`SecretKey::read`] is the one
//! way a secret key is loaded (`agentlog seal --key`, `proxy --seal-key`, `ledger log
//! --seal-key`), so every path passes the check; `agentlog keygen` writes the file `0600`.

use std::path::{Path, PathBuf};

use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};

use crate::hex;

const SECRET_LABEL: &str = "agentlog-seal-secret-key ed25519 ";
const PUBLIC_LABEL: &str = "agentlog-seal-public-key ed25519 ";

/// A key file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// It could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It holds the other kind of key, or none.
    #[error("{path}: {what}")]
    Invalid {
        /// The key file.
        path: PathBuf,
        /// What is wrong (never the key's bytes).
        what: String,
    },
    /// A secret key file its group or others may read or write (unix): refused, as OpenSSH
    /// refuses such a private key.
    #[error(
        "{path}: a secret key file must be private, but its mode {mode:04o} lets its group or others read or write it; run `chmod 600` on it"
    )]
    NotPrivate {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A key file is already there; keygen never replaces one.
    #[error("{0}: a key file is already there; not replaced")]
    Exists(PathBuf),
    /// The operating system gave no randomness.
    #[error("no randomness from the operating system: {0}")]
    Random(String),
}

/// The key checkpoints are signed with. Its `Debug` shows the public half only.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SecretKey").field(&self.public()).finish()
    }
}

/// The key signatures are checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl SecretKey {
    /// Reads a secret key file.
    pub fn read(path: &Path) -> Result<SecretKey, KeyError> {
        let seed = read_key(path, SECRET_LABEL, PUBLIC_LABEL, "secret", true)?;
        Ok(SecretKey(SigningKey::from_bytes(&seed)))
    }

    /// Its public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// The signature of `digest`.
    pub fn sign(&self, digest: &[u8; 32]) -> [u8; 64] {
        self.0.sign(digest).to_bytes()
    }
}

impl PublicKey {
    /// Reads a public key file.
    pub fn read(path: &Path) -> Result<PublicKey, KeyError> {
        let bytes = read_key(path, PUBLIC_LABEL, SECRET_LABEL, "public", false)?;
        VerifyingKey::from_bytes(&bytes)
            .map(PublicKey)
            .map_err(|_| KeyError::Invalid {
                path: path.to_owned(),
                what: "not an Ed25519 public key (not a point of the curve)".to_owned(),
            })
    }

    /// Its 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Whether `signature` is this key's signature of `digest` (strict: no malleable
    /// signature or weak key passes).
    pub fn verifies(&self, digest: &[u8; 32], signature: &[u8; 64]) -> bool {
        let signature = ed25519_dalek::Signature::from_bytes(signature);
        self.0.verify_strict(digest, &signature).is_ok()
            && self.0.verify(digest, &signature).is_ok()
    }
}

/// The key bytes of the file at `path`; with `private`, refused unless the file is private
/// (the mode of the file opened, so a path swapped after a check cannot slip through).
fn read_key(
    path: &Path,
    label: &str,
    other: &str,
    kind: &str,
    private: bool,
) -> Result<[u8; 32], KeyError> {
    let invalid = |what: String| KeyError::Invalid {
        path: path.to_owned(),
        what,
    };
    let io = |source| KeyError::Io {
        path: path.to_owned(),
        source,
    };
    let file = crate::files::open_regular(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    let bytes = crate::files::read_small_from(file, 4096).map_err(io)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| invalid(format!("not an agentlog {kind} key file (not UTF-8)")))?;
    let text = text.trim_end_matches(['\n', '\r']);
    if text.starts_with(other) {
        let given = if kind == "secret" { "public" } else { "secret" };
        return Err(invalid(format!(
            "holds a {given} key where a {kind} key belongs (the {kind} key of `agentlog keygen` is the .{} file)",
            if kind == "secret" { "key" } else { "pub" }
        )));
    }
    // After the kind (a public key given for the secret one is that mistake, whatever its
    // mode), before the key is decoded.
    if private {
        check_private(path, &meta)?;
    }
    let Some(digits) = text.strip_prefix(label) else {
        return Err(invalid(format!(
            "not an agentlog {kind} key file (its first line should start `{}`)",
            label.trim_end()
        )));
    };
    hex::decode_array(digits)
        .ok_or_else(|| invalid("the key is not 64 lowercase hex digits".to_owned()))
}

/// Refuses a secret key file its group or others may read or write.
#[cfg(unix)]
fn check_private(path: &Path, meta: &std::fs::Metadata) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(KeyError::NotPrivate {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

/// Elsewhere a file's mode says nothing of who may read it: no check.
#[cfg(not(unix))]
fn check_private(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), KeyError> {
    Ok(())
}

/// The two files `agentlog keygen DIR` writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPaths {
    /// The secret key (mode 0600).
    pub secret: PathBuf,
    /// The public key.
    pub public: PathBuf,
}

/// Writes a new key pair into `dir` (created with mode 0700 when missing): `seal.key` (the
/// secret key, created with mode 0600) and `seal.pub`. Refuses to replace either.
pub fn generate_key_pair(dir: &Path) -> Result<KeyPaths, KeyError> {
    use rand::TryRngCore as _;
    use std::os::unix::fs::DirBuilderExt as _;
    if dir.symlink_metadata().is_err() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| KeyError::Io {
                path: dir.to_owned(),
                source,
            })?;
    }
    let paths = KeyPaths {
        secret: dir.join("seal.key"),
        public: dir.join("seal.pub"),
    };
    for path in [&paths.secret, &paths.public] {
        // A symlink counts, dangling or not: nothing is written through one.
        if path.symlink_metadata().is_ok() {
            return Err(KeyError::Exists(path.clone()));
        }
    }
    let mut seed = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut seed)
        .map_err(|e| KeyError::Random(e.to_string()))?;
    let key = SigningKey::from_bytes(&seed);
    let public = hex::encode(key.verifying_key().as_bytes());
    write_new(
        &paths.secret,
        &format!("{SECRET_LABEL}{}\n", hex::encode(&seed)),
        0o600,
    )?;
    write_new(&paths.public, &format!("{PUBLIC_LABEL}{public}\n"), 0o644)?;
    Ok(paths)
}

/// Creates `path` (never replacing a file) with `mode` from the start, and `text` in it.
fn write_new(path: &Path, text: &str, mode: u32) -> Result<(), KeyError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let io = |source| KeyError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_pair_signs_and_verifies_and_the_secret_file_is_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let paths = generate_key_pair(dir.path()).unwrap();
        let mode = std::fs::metadata(&paths.secret)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let secret = SecretKey::read(&paths.secret).unwrap();
        let public = PublicKey::read(&paths.public).unwrap();
        assert_eq!(secret.public(), public);
        let digest = [9u8; 32];
        let signature = secret.sign(&digest);
        assert!(public.verifies(&digest, &signature));
        assert!(!public.verifies(&[8u8; 32], &signature));
        // Never replaced.
        assert!(matches!(
            generate_key_pair(dir.path()),
            Err(KeyError::Exists(_))
        ));
    }

    #[test]
    fn a_secret_key_others_may_read_or_write_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let paths = generate_key_pair(dir.path()).unwrap();
        for mode in [0o640, 0o604, 0o620, 0o602, 0o644, 0o666] {
            std::fs::set_permissions(&paths.secret, std::fs::Permissions::from_mode(mode)).unwrap();
            let error = SecretKey::read(&paths.secret).unwrap_err();
            assert!(matches!(error, KeyError::NotPrivate { .. }), "{mode:o}");
            let text = error.to_string();
            assert!(
                text.contains(&format!("mode {mode:04o}")) && text.contains("chmod 600"),
                "{text}"
            );
        }
        for mode in [0o600, 0o400] {
            std::fs::set_permissions(&paths.secret, std::fs::Permissions::from_mode(mode)).unwrap();
            assert!(SecretKey::read(&paths.secret).is_ok(), "{mode:o}");
        }
        // A public key is public: any mode.
        std::fs::set_permissions(&paths.public, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(PublicKey::read(&paths.public).is_ok());
    }

    #[test]
    fn the_wrong_kind_of_key_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let paths = generate_key_pair(dir.path()).unwrap();
        let error = SecretKey::read(&paths.public).unwrap_err().to_string();
        assert!(
            error.contains("holds a public key where a secret key belongs"),
            "{error}"
        );
        let error = PublicKey::read(&paths.secret).unwrap_err().to_string();
        assert!(
            error.contains("holds a secret key where a public key belongs"),
            "{error}"
        );
        let junk = dir.path().join("junk");
        std::fs::write(&junk, "ssh-ed25519 AAAA").unwrap();
        let error = PublicKey::read(&junk).unwrap_err().to_string();
        assert!(error.contains("not an agentlog public key file"), "{error}");
        // The secret key's digits never appear in an error.
        let seed = std::fs::read_to_string(&paths.secret).unwrap();
        let digits = seed.trim().rsplit(' ').next().unwrap().to_owned();
        assert!(!error.contains(&digits));
    }
}
