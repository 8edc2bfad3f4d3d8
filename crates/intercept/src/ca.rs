//! The interception certificate authority.
//!
//! A CA key pair and certificate are generated once into a directory (`ca.pem`, `ca-key.pem`;
//! the key file is mode 0600, the directory 0700) and reused on later runs, so an agent only
//! has to trust one file. For every host a client tunnels to, a leaf certificate is minted on
//! the fly with its own fresh key pair and cached: an IP literal gets an IP SAN, a name a DNS
//! SAN. [`LeafResolver`] plugs this into rustls, keyed on the TLS SNI name and falling back to
//! the `CONNECT` host when the client sends no SNI (clients never send SNI for IP literals).

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
        /// `certificate` or `private key`.
        what: &'static str,
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

impl CertAuthority {
    /// A fresh CA held in memory only (tests, `agentlog demo`).
    pub fn generate() -> Result<Self, CaError> {
        let (pem, key) = Self::new_ca()?;
        Self::from_parts(&pem, key, None)
    }

    /// Loads the CA from `dir`, or generates it there when `ca.pem` or `ca-key.pem` is
    /// missing. The directory is created with mode 0700, the key file with mode 0600.
    pub fn load_or_create(dir: &Path) -> Result<Self, CaError> {
        let cert_path = dir.join(CA_CERT_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        if cert_path.exists() && key_path.exists() {
            let pem = fs::read_to_string(&cert_path).map_err(io_err(&cert_path))?;
            let key_pem = fs::read_to_string(&key_path).map_err(io_err(&key_path))?;
            let key = KeyPair::from_pem(&key_pem).map_err(|_| CaError::BadPem {
                path: key_path.clone(),
                what: "private key",
            })?;
            return Self::from_parts(&pem, key, Some(cert_path));
        }
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(io_err(dir))?;
        let (pem, key) = Self::new_ca()?;
        write_private(&key_path, key.serialize_pem().as_bytes())?;
        fs::write(&cert_path, pem.as_bytes()).map_err(io_err(&cert_path))?;
        Self::from_parts(&pem, key, Some(cert_path))
    }

    fn new_ca() -> Result<(String, KeyPair), CaError> {
        let key = KeyPair::generate()?;
        let mut params = ca_params();
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(3650);
        let cert = params.self_signed(&key)?;
        Ok((cert.pem(), key))
    }

    fn from_parts(pem: &str, key: KeyPair, cert_path: Option<PathBuf>) -> Result<Self, CaError> {
        let bad = || CaError::BadPem {
            path: cert_path.clone().unwrap_or_default(),
            what: "certificate",
        };
        let ca_der = CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|_| bad())?;
        // The issuer only needs the subject name, key usages and key-id method, which
        // `ca_params` reproduces exactly for a CA this module generated.
        let issuer = Issuer::new(ca_params(), key);
        Ok(CertAuthority {
            issuer,
            ca_der,
            ca_pem: pem.to_owned(),
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

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CaError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io_err(path))?;
    file.write_all(bytes).map_err(io_err(path))?;
    file.sync_all().map_err(io_err(path))
}

/// rustls certificate resolver: the leaf for the SNI name, or for the `CONNECT` host when
/// the client sent no SNI.
#[derive(Debug)]
pub struct LeafResolver {
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
