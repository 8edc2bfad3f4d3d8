//! The interception certificate authority.
//!
//! A CA key pair and certificate are generated once into a directory (`ca.pem`, `ca-key.pem`;
//! the key file is mode 0600, the directory 0700) and reused on later runs, so an agent only
//! has to trust one file. For every host a client tunnels to, a leaf certificate is minted on
//! the fly with its own fresh key pair and cached: an IP literal gets an IP SAN, a name a DNS
//! SAN. [`LeafResolver`] plugs this into rustls, keyed on the TLS SNI name and falling back to
//! the `CONNECT` host when the client sends no SNI (clients never send SNI for IP literals).
//!
//! An existing directory is checked rather than trusted, because every mistake in it would
//! otherwise surface only later, as handshakes failing inside the agent:
//!
//! - both files or neither: one file alone is an error naming the missing one, never a reason
//!   to mint a new CA (clients trust the old certificate);
//! - on unix the key must not be readable by group or others: whoever reads it can
//!   impersonate every site the agent talks to;
//! - the certificate must be a CA certificate (basicConstraints CA:TRUE, keyCertSign when it
//!   has a keyUsage) that is valid now;
//! - the key must be the certificate's key.
//!
//! The issuer (subject name, key identifier) is read from the stored certificate, so a CA made
//! by another tool (mitmproxy's, an operator's own) works as well. Errors name files, never
//! key material.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};
use x509_parser::certificate::X509Certificate;

/// File name of the CA certificate inside the CA directory.
pub const CA_CERT_FILE: &str = "ca.pem";
/// File name of the CA private key inside the CA directory.
pub const CA_KEY_FILE: &str = "ca-key.pem";
/// Leaf certificates cached before the cache is flushed.
const MAX_CACHED_LEAVES: usize = 4096;

/// Why the CA could not be loaded, created or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaError {
    /// Reading or writing a CA file failed.
    #[error("CA file {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A CA file exists but does not hold what it should.
    #[error("CA file {path} is not a valid PEM {what}")]
    BadPem {
        /// The file.
        path: PathBuf,
        /// `certificate`, `X.509 certificate` or `private key`.
        what: &'static str,
    },
    /// Only one of `ca.pem` and `ca-key.pem` exists in the CA directory.
    #[error(
        "CA directory {dir} is incomplete: {missing} is missing but {present} exists. Restore \
         {missing}, or move {dir} away to have a new CA generated there; every client must \
         then trust the new certificate"
    )]
    Partial {
        /// The CA directory.
        dir: PathBuf,
        /// The file that is missing.
        missing: PathBuf,
        /// The file that exists.
        present: PathBuf,
    },
    /// The private key is not the key of the certificate.
    #[error(
        "CA key {key} and certificate {cert} do not belong together (their public keys \
         differ), so no client would accept the certificates signed with it. Put back the key \
         the certificate was made with, or move both files away to have a new CA generated; \
         every client must then trust the new certificate"
    )]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// The private key file is readable by users other than its owner.
    #[error(
        "CA key {path} is readable by group or others (mode {mode:04o}), and whoever reads it \
         can impersonate any site to the agent; restrict it with `chmod 600 {path}`"
    )]
    KeyPermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The certificate cannot sign other certificates.
    #[error(
        "certificate {path} is not a CA certificate: {reason}. Use a CA certificate \
         (basicConstraints CA:TRUE and, if it has a keyUsage, keyCertSign), or move the CA \
         directory away to have one generated"
    )]
    NotCa {
        /// The certificate file.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The certificate has expired or is not valid yet.
    #[error(
        "CA certificate {path} is valid only from {not_before} to {not_after}, not now. \
         Replace it, or move the CA directory away to have a new CA generated; every client \
         must then trust the new certificate"
    )]
    OutsideValidity {
        /// The certificate file.
        path: PathBuf,
        /// Start of its validity.
        not_before: String,
        /// End of its validity.
        not_after: String,
    },
    /// Certificate generation failed.
    #[error("certificate generation: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// rustls refused a generated key.
    #[error("TLS key: {0}")]
    Tls(#[from] rustls::Error),
}

/// The CA that signs leaf certificates, with a per-host leaf cache.
pub struct CertAuthority {
    issuer: Issuer<'static, KeyPair>,
    ca_der: CertificateDer<'static>,
    ca_pem: String,
    cert_path: Option<PathBuf>,
    provider: Arc<CryptoProvider>,
    leaves: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

impl std::fmt::Debug for CertAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertAuthority")
            .field("cert_path", &self.cert_path)
            .finish_non_exhaustive()
    }
}

/// The crypto provider agentlog uses everywhere (aws-lc-rs).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Installs aws-lc-rs as the process-wide rustls provider (needed by reqwest built with
/// `rustls-no-provider`); a provider already installed is kept.
pub fn install_default_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "agentlog interception CA");
    dn.push(DnType::OrganizationName, "agentlog");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> CaError + '_ {
    move |source| CaError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn bad_pem(path: &Path, what: &'static str) -> CaError {
    CaError::BadPem {
        path: path.to_path_buf(),
        what,
    }
}

/// Whether `path` exists, counting a dangling symlink as existing (so that it is reported
/// when read rather than silently replaced).
fn present(path: &Path) -> Result<bool, CaError> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// The certificate in PEM, alone: a file holding more (mitmproxy's `mitmproxy-ca.pem` also
/// holds the key) must never be handed to clients as it is.
fn encode_cert_pem(der: &CertificateDer<'_>) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new("CERTIFICATE", der.to_vec()), config)
}

impl CertAuthority {
    /// A fresh CA held in memory only (tests, `agentlog demo`).
    pub fn generate() -> Result<Self, CaError> {
        let (der, key) = new_ca()?;
        Self::from_parts(der, key, None)
    }

    /// Loads the CA from `dir`, or generates it there when neither `ca.pem` nor `ca-key.pem`
    /// exists (the directory is created with mode 0700, the key file with mode 0600).
    ///
    /// An existing CA is checked as the module documentation describes; exactly one of the
    /// two files present is [`CaError::Partial`], and no new CA is generated over it.
    pub fn load_or_create(dir: &Path) -> Result<Self, CaError> {
        let cert_path = dir.join(CA_CERT_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        match (present(&cert_path)?, present(&key_path)?) {
            (true, true) => Self::load(cert_path, &key_path),
            (false, false) => Self::create(dir, cert_path, &key_path),
            (true, false) => Err(CaError::Partial {
                dir: dir.to_path_buf(),
                missing: key_path,
                present: cert_path,
            }),
            (false, true) => Err(CaError::Partial {
                dir: dir.to_path_buf(),
                missing: cert_path,
                present: key_path,
            }),
        }
    }

    /// Loads and checks an existing CA; the key's permissions are checked before it is read.
    fn load(cert_path: PathBuf, key_path: &Path) -> Result<Self, CaError> {
        check_key_private(key_path)?;
        let cert_bytes = fs::read(&cert_path).map_err(io_err(&cert_path))?;
        // The first certificate in the file is the CA's; other sections are ignored.
        let der = CertificateDer::from_pem_slice(&cert_bytes)
            .map_err(|_| bad_pem(&cert_path, "certificate"))?;
        let key_bytes = fs::read(key_path).map_err(io_err(key_path))?;
        // PKCS#8, PKCS#1 (RSA) and SEC1 (EC) keys are accepted, wherever they are in the file.
        let key = PrivateKeyDer::from_pem_slice(&key_bytes)
            .ok()
            .and_then(|der| KeyPair::try_from(&der).ok())
            .ok_or_else(|| bad_pem(key_path, "private key"))?;
        check_pair(&der, &key, &cert_path, key_path)?;
        Self::from_parts(der, key, Some(cert_path))
    }

    /// Generates a CA into `dir`; neither file exists yet.
    fn create(dir: &Path, cert_path: PathBuf, key_path: &Path) -> Result<Self, CaError> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(io_err(dir))?;
        let (der, key) = new_ca()?;
        write_new(key_path, key.serialize_pem().as_bytes(), 0o600)?;
        write_new(&cert_path, encode_cert_pem(&der).as_bytes(), 0o644)?;
        Self::from_parts(der, key, Some(cert_path))
    }

    /// The CA from a certificate already checked against its key.
    fn from_parts(
        ca_der: CertificateDer<'static>,
        key: KeyPair,
        cert_path: Option<PathBuf>,
    ) -> Result<Self, CaError> {
        // The issuer's subject name and key identifier come from the certificate itself, so
        // that leaves name exactly the issuer clients trust, whoever made it.
        let issuer = Issuer::from_ca_cert_der(&ca_der, key).map_err(|_| {
            bad_pem(
                cert_path.as_deref().unwrap_or(Path::new("")),
                "X.509 certificate",
            )
        })?;
        Ok(CertAuthority {
            issuer,
            ca_pem: encode_cert_pem(&ca_der),
            ca_der,
            cert_path,
            provider: provider(),
            leaves: Mutex::new(HashMap::new()),
        })
    }

    /// The CA certificate in PEM (what clients must trust).
    pub fn cert_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The CA certificate in DER.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.ca_der
    }

    /// Where `ca.pem` lives, when the CA is backed by a directory.
    pub fn cert_path(&self) -> Option<&Path> {
        self.cert_path.as_deref()
    }

    /// The leaf certificate and key for `host` (a DNS name or an IP literal, without port),
    /// minted with its own key pair on first use and cached afterwards.
    pub fn leaf(&self, host: &str) -> Result<Arc<CertifiedKey>, CaError> {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if let Some(found) = self.lock().get(&host) {
            return Ok(found.clone());
        }
        let minted = Arc::new(self.mint(&host)?);
        let mut cache = self.lock();
        if cache.len() >= MAX_CACHED_LEAVES {
            cache.clear();
        }
        // Another task may have minted the same host meanwhile: keep the first one.
        Ok(cache.entry(host).or_insert(minted).clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<CertifiedKey>>> {
        self.leaves.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn mint(&self, host: &str) -> Result<CertifiedKey, CaError> {
        let key = KeyPair::generate()?;
        // `CertificateParams::new` puts an IP literal into an IP SAN, a name into a DNS SAN.
        let mut params = CertificateParams::new(vec![host.to_owned()])?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, host);
        params.distinguished_name = dn;
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(30);
        let cert = params.signed_by(&key, &self.issuer)?;
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let chain = vec![cert.der().clone(), self.ca_der.clone()];
        Ok(CertifiedKey::from_der(chain, key_der, &self.provider)?)
    }

    /// A rustls server configuration presenting leaves of this CA, offering `alpn`
    /// protocols; `fallback_host` is used when the client sends no SNI.
    pub fn server_config(
        self: &Arc<Self>,
        fallback_host: &str,
        alpn: &[&[u8]],
    ) -> Result<rustls::ServerConfig, CaError> {
        let mut config = rustls::ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(LeafResolver {
                ca: self.clone(),
                fallback_host: fallback_host.to_owned(),
            }));
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(config)
    }
}

/// A new self-signed CA certificate (DER) and its key.
fn new_ca() -> Result<(CertificateDer<'static>, KeyPair), CaError> {
    let key = KeyPair::generate()?;
    let mut params = ca_params();
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(3650);
    let cert = params.self_signed(&key)?;
    Ok((cert.der().clone(), key))
}

/// Refuses a key file that users other than its owner can read (unix only: elsewhere file
/// permissions are not mode bits).
#[cfg(unix)]
fn check_key_private(path: &Path) -> Result<(), CaError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)
        .map_err(io_err(path))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(CaError::KeyPermissions {
            path: path.to_path_buf(),
            mode: mode & 0o7777,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_key_private(_path: &Path) -> Result<(), CaError> {
    Ok(())
}

/// Checks that `der` is a CA certificate valid now and that `key` is its key.
fn check_pair(
    der: &CertificateDer<'_>,
    key: &KeyPair,
    cert_path: &Path,
    key_path: &Path,
) -> Result<(), CaError> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|_| bad_pem(cert_path, "X.509 certificate"))?;
    check_can_sign(&cert, cert_path)?;
    // Both sides are the raw public key (the BIT STRING of the SubjectPublicKeyInfo), which
    // sidesteps encoding differences in the algorithm parameters.
    if cert.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
        return Err(CaError::KeyMismatch {
            cert: cert_path.to_path_buf(),
            key: key_path.to_path_buf(),
        });
    }
    Ok(())
}

/// Checks that `cert` may sign leaf certificates now.
fn check_can_sign(cert: &X509Certificate<'_>, path: &Path) -> Result<(), CaError> {
    let not_ca = |reason| CaError::NotCa {
        path: path.to_path_buf(),
        reason,
    };
    match cert.basic_constraints() {
        Ok(Some(bc)) if bc.value.ca => {}
        Ok(Some(_)) => return Err(not_ca("its basicConstraints say CA:FALSE")),
        Ok(None) => return Err(not_ca("it has no basicConstraints extension")),
        Err(_) => return Err(not_ca("its basicConstraints extension is invalid")),
    }
    match cert.key_usage() {
        Ok(Some(ku)) if !ku.value.key_cert_sign() => {
            return Err(not_ca("its keyUsage does not allow keyCertSign"));
        }
        Err(_) => return Err(not_ca("its keyUsage extension is invalid")),
        _ => {}
    }
    let validity = cert.validity();
    if !validity.is_valid() {
        return Err(CaError::OutsideValidity {
            path: path.to_path_buf(),
            not_before: validity.not_before.to_string(),
            not_after: validity.not_after.to_string(),
        });
    }
    Ok(())
}

/// Writes a file that must not exist yet (a CA file is never overwritten), with `mode` on
/// unix.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), CaError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(io_err(path))?;
    file.write_all(bytes).map_err(io_err(path))?;
    file.sync_all().map_err(io_err(path))
}

/// rustls certificate resolver: the leaf for the SNI name, or for the `CONNECT` host when
/// the client sent no SNI.
#[derive(Debug)]
pub(crate) struct LeafResolver {
    ca: Arc<CertAuthority>,
    fallback_host: String,
}

impl ResolvesServerCert for LeafResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let host = hello.server_name().unwrap_or(&self.fallback_host);
        match self.ca.leaf(host) {
            Ok(leaf) => Some(leaf),
            Err(error) => {
                tracing::warn!(%host, %error, "could not mint leaf certificate");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::ServerName;
    use x509_parser::extensions::ParsedExtension;

    /// Gives `path` mode `mode` (unix only).
    fn set_mode(path: &Path, mode: u32) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
        }
        #[cfg(not(unix))]
        let _ = (path, mode);
    }

    /// A CA directory holding `params` self-signed with `key`, the key file private.
    fn write_ca(dir: &Path, params: &CertificateParams, key: &KeyPair) {
        fs::create_dir_all(dir).unwrap();
        let cert = params.self_signed(key).unwrap();
        fs::write(dir.join(CA_CERT_FILE), cert.pem()).unwrap();
        let key_path = dir.join(CA_KEY_FILE);
        fs::write(&key_path, key.serialize_pem()).unwrap();
        set_mode(&key_path, 0o600);
    }

    fn io(e: std::io::Error) -> rustls::Error {
        rustls::Error::General(e.to_string())
    }

    /// Moves every pending TLS record from `from` to `to`.
    fn pump(
        from: &mut rustls::Connection,
        to: &mut rustls::Connection,
    ) -> Result<(), rustls::Error> {
        let mut wire = Vec::new();
        while from.wants_write() {
            from.write_tls(&mut wire).map_err(io)?;
        }
        let mut rest = &wire[..];
        while !rest.is_empty() {
            to.read_tls(&mut rest).map_err(io)?;
            to.process_new_packets()?;
        }
        Ok(())
    }

    /// An in-memory TLS handshake for `host` between `ca`'s server configuration and a client
    /// that trusts `trusted` only.
    fn handshake(
        ca: &Arc<CertAuthority>,
        trusted: &CertificateDer<'static>,
        host: &str,
    ) -> Result<(), rustls::Error> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(trusted.clone())?;
        let config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| rustls::Error::General(e.to_string()))?;
        let server_config = ca
            .server_config(host, &[])
            .map_err(|e| rustls::Error::General(e.to_string()))?;
        let mut client: rustls::Connection =
            rustls::ClientConnection::new(Arc::new(config), name)?.into();
        let mut server: rustls::Connection =
            rustls::ServerConnection::new(Arc::new(server_config))?.into();
        for _ in 0..8 {
            if !client.is_handshaking() && !server.is_handshaking() {
                return Ok(());
            }
            pump(&mut client, &mut server)?;
            pump(&mut server, &mut client)?;
        }
        Err(rustls::Error::General("handshake did not finish".into()))
    }

    /// The CA certificate as a client would read it from `ca.pem`.
    fn trusted_from_disk(dir: &Path) -> CertificateDer<'static> {
        CertificateDer::from_pem_file(dir.join(CA_CERT_FILE)).unwrap()
    }

    /// Checks that `leaf` names `ca` as its issuer, by name and by key identifier.
    fn assert_issued_by(leaf: &CertificateDer<'_>, ca: &CertificateDer<'_>) {
        let (_, leaf) = x509_parser::parse_x509_certificate(leaf).unwrap();
        let (_, ca) = x509_parser::parse_x509_certificate(ca).unwrap();
        assert_eq!(leaf.issuer().as_raw(), ca.subject().as_raw());
        let ski = ca
            .iter_extensions()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
                _ => None,
            });
        let aki = leaf
            .iter_extensions()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::AuthorityKeyIdentifier(aki) => {
                    aki.key_identifier.as_ref().map(|id| id.0.to_vec())
                }
                _ => None,
            });
        assert!(ski.is_some(), "the CA has a subject key identifier");
        assert_eq!(aki, ski);
    }

    #[test]
    fn generated_dir_reloads_and_its_leaves_verify() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("nested").join("ca");
        let first = CertAuthority::load_or_create(&dir).unwrap();
        let second = Arc::new(CertAuthority::load_or_create(&dir).unwrap());
        assert_eq!(first.cert_der(), second.cert_der());
        assert_eq!(
            first.cert_pem(),
            fs::read_to_string(dir.join(CA_CERT_FILE)).unwrap()
        );
        let trusted = trusted_from_disk(&dir);
        handshake(&second, &trusted, "api.openai.com").unwrap();
        handshake(&second, &trusted, "127.0.0.1").unwrap();
        let leaf = second.leaf("api.openai.com").unwrap();
        assert_issued_by(&leaf.cert[0], &trusted);
        // The handshake check can fail: a client trusting another CA refuses the leaf.
        let other = CertAuthority::generate().unwrap();
        let refused = handshake(&second, other.cert_der(), "api.openai.com");
        assert!(
            matches!(refused, Err(rustls::Error::InvalidCertificate(_))),
            "{refused:?}"
        );
    }

    #[test]
    fn ca_of_another_tool_loads_and_signs_leaves_that_chain_to_it() {
        let tmp = tempfile::tempdir().unwrap();
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, "DE");
        dn.push(DnType::OrganizationName, "Example Operator GmbH");
        dn.push(DnType::CommonName, "Operator Root CA 7");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        write_ca(tmp.path(), &params, &key);
        let ca = Arc::new(CertAuthority::load_or_create(tmp.path()).unwrap());
        let trusted = trusted_from_disk(tmp.path());
        handshake(&ca, &trusted, "api.anthropic.com").unwrap();
        assert_issued_by(&ca.leaf("api.anthropic.com").unwrap().cert[0], &trusted);
    }

    #[test]
    fn cert_file_holding_the_key_too_is_never_handed_out_whole() {
        // mitmproxy's `mitmproxy-ca.pem` holds the key and then the certificate.
        let tmp = tempfile::tempdir().unwrap();
        let key = KeyPair::generate().unwrap();
        write_ca(tmp.path(), &ca_params(), &key);
        let cert_path = tmp.path().join(CA_CERT_FILE);
        let combined = key.serialize_pem() + &fs::read_to_string(&cert_path).unwrap();
        fs::write(&cert_path, combined).unwrap();
        let ca = Arc::new(CertAuthority::load_or_create(tmp.path()).unwrap());
        assert!(!ca.cert_pem().contains("PRIVATE KEY"));
        assert_eq!(
            CertificateDer::from_pem_slice(ca.cert_pem().as_bytes()).unwrap(),
            *ca.cert_der()
        );
        handshake(&ca, ca.cert_der(), "example.com").unwrap();
    }

    #[test]
    fn missing_key_is_refused_without_touching_the_certificate() {
        let tmp = tempfile::tempdir().unwrap();
        CertAuthority::load_or_create(tmp.path()).unwrap();
        let cert_path = tmp.path().join(CA_CERT_FILE);
        let key_path = tmp.path().join(CA_KEY_FILE);
        let cert_before = fs::read(&cert_path).unwrap();
        fs::remove_file(&key_path).unwrap();
        let err = CertAuthority::load_or_create(tmp.path()).unwrap_err();
        let CaError::Partial {
            missing, present, ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!((missing, present), (&key_path, &cert_path));
        let message = err.to_string();
        assert!(
            message.contains(&key_path.display().to_string()),
            "{message}"
        );
        assert!(message.contains("move"), "{message}");
        assert_eq!(fs::read(&cert_path).unwrap(), cert_before);
        assert!(!key_path.exists(), "no key was generated");
    }

    #[test]
    fn missing_certificate_is_refused_without_touching_the_key() {
        let tmp = tempfile::tempdir().unwrap();
        CertAuthority::load_or_create(tmp.path()).unwrap();
        let cert_path = tmp.path().join(CA_CERT_FILE);
        let key_path = tmp.path().join(CA_KEY_FILE);
        let key_before = fs::read(&key_path).unwrap();
        fs::remove_file(&cert_path).unwrap();
        let err = CertAuthority::load_or_create(tmp.path()).unwrap_err();
        let CaError::Partial {
            missing, present, ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!((missing, present), (&cert_path, &key_path));
        assert!(err.to_string().contains(&cert_path.display().to_string()));
        assert_eq!(fs::read(&key_path).unwrap(), key_before);
        assert!(!cert_path.exists(), "no certificate was generated");
    }

    #[test]
    fn key_of_another_ca_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        CertAuthority::load_or_create(&a).unwrap();
        CertAuthority::load_or_create(&b).unwrap();
        let key_path = a.join(CA_KEY_FILE);
        let other_key = fs::read(b.join(CA_KEY_FILE)).unwrap();
        fs::write(&key_path, &other_key).unwrap();
        let err = CertAuthority::load_or_create(&a).unwrap_err();
        let CaError::KeyMismatch { cert, key } = &err else {
            panic!("{err:?}");
        };
        assert_eq!((cert, key), (&a.join(CA_CERT_FILE), &key_path));
        let message = err.to_string();
        assert!(message.contains("do not belong together"), "{message}");
        let key_text = String::from_utf8(other_key).unwrap();
        let key_body = key_text.lines().nth(1).unwrap();
        assert!(!message.contains(key_body) && !format!("{err:?}").contains(key_body));
    }

    #[cfg(unix)]
    #[test]
    fn key_readable_by_others_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        CertAuthority::load_or_create(tmp.path()).unwrap();
        let key_path = tmp.path().join(CA_KEY_FILE);
        for mode in [0o644, 0o640, 0o604] {
            set_mode(&key_path, mode);
            let err = CertAuthority::load_or_create(tmp.path()).unwrap_err();
            assert!(
                matches!(&err, CaError::KeyPermissions { path, mode: m } if path == &key_path && *m == mode),
                "{err:?}"
            );
            let fix = format!("chmod 600 {}", key_path.display());
            assert!(err.to_string().contains(&fix), "{err}");
        }
        set_mode(&key_path, 0o400);
        CertAuthority::load_or_create(tmp.path()).unwrap();
    }

    #[test]
    fn certificate_that_is_not_a_ca_is_refused() {
        for is_ca in [IsCa::ExplicitNoCa, IsCa::NoCa] {
            let tmp = tempfile::tempdir().unwrap();
            let key = KeyPair::generate().unwrap();
            let mut params = CertificateParams::new(vec!["example.com".to_owned()]).unwrap();
            params.is_ca = is_ca;
            write_ca(tmp.path(), &params, &key);
            let err = CertAuthority::load_or_create(tmp.path()).unwrap_err();
            assert!(matches!(err, CaError::NotCa { .. }), "{err:?}");
            assert!(err.to_string().contains("not a CA certificate"), "{err}");
        }
        let tmp = tempfile::tempdir().unwrap();
        let key = KeyPair::generate().unwrap();
        let mut params = ca_params();
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        write_ca(tmp.path(), &params, &key);
        let err = CertAuthority::load_or_create(tmp.path()).unwrap_err();
        assert!(matches!(err, CaError::NotCa { .. }), "{err:?}");
    }

    #[test]
    fn expired_ca_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let key = KeyPair::generate().unwrap();
        let mut params = ca_params();
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(400);
        params.not_after = now - Duration::days(35);
        write_ca(tmp.path(), &params, &key);
        let err = CertAuthority::load_or_create(tmp.path()).unwrap_err();
        assert!(matches!(err, CaError::OutsideValidity { .. }), "{err:?}");
    }

    #[test]
    fn unreadable_pem_names_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        CertAuthority::load_or_create(tmp.path()).unwrap();
        let cert_path = tmp.path().join(CA_CERT_FILE);
        fs::write(&cert_path, "not a certificate").unwrap();
        let err = CertAuthority::load_or_create(tmp.path()).unwrap_err();
        assert!(
            matches!(&err, CaError::BadPem { path, .. } if path == &cert_path),
            "{err:?}"
        );
        let key_path = tmp.path().join(CA_KEY_FILE);
        fs::write(
            &key_path,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let err = CertAuthority::load_or_create(tmp.path()).unwrap_err();
        assert!(matches!(&err, CaError::BadPem { .. }), "{err:?}");
    }

    #[test]
    fn empty_existing_dir_gets_a_new_ca() {
        let tmp = tempfile::tempdir().unwrap();
        let ca = Arc::new(CertAuthority::load_or_create(tmp.path()).unwrap());
        assert_eq!(
            ca.cert_path(),
            Some(tmp.path().join(CA_CERT_FILE).as_path())
        );
        handshake(&ca, &trusted_from_disk(tmp.path()), "example.org").unwrap();
    }
}
