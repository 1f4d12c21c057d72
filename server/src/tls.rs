//! TLS served by the server itself (issue 17, item 4): `serve --tls-cert FILE --tls-key FILE`
//! (PEM; the chain in the certificate file). The files are looked at again every few seconds
//! and a changed pair is loaded for the next connections, so a renewed certificate (certbot, the
//! district's own CA) needs no restart; a pair that does not load is logged and the one in use
//! stays. The alternative, a reverse proxy holding the certificate, is in docs/install.md.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls::crypto::ring;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio_rustls::TlsAcceptor;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{0}: {1}")]
    Pem(PathBuf, rustls::pki_types::pem::Error),
    #[error("{0} holds no certificate")]
    NoCertificate(PathBuf),
    #[error("the key cannot sign: {0}")]
    Key(rustls::Error),
    #[error("TLS: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The certificate in use, swapped when its files change.
#[derive(Debug)]
struct Reloading {
    current: RwLock<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for Reloading {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().map(|c| c.clone())
    }
}

/// An acceptor for the pair of files, and a task that reloads them every `recheck` when their
/// modification times change. Fails if the pair does not load now.
pub fn acceptor(cert: &Path, key: &Path, recheck: Duration) -> Result<TlsAcceptor, TlsError> {
    let resolver = Arc::new(Reloading {
        current: RwLock::new(Arc::new(load(cert, key)?)),
    });
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(resolver.clone());
    let mut config = config;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let (cert, key) = (cert.to_path_buf(), key.to_path_buf());
    tokio::spawn(async move {
        let mut seen = stamps(&cert, &key);
        let mut every = tokio::time::interval(recheck);
        loop {
            every.tick().await;
            let now = stamps(&cert, &key);
            if now == seen {
                continue;
            }
            match load(&cert, &key) {
                Ok(loaded) => {
                    if let Ok(mut current) = resolver.current.write() {
                        *current = Arc::new(loaded);
                        seen = now;
                        tracing::info!(cert = %cert.display(), "TLS certificate reloaded");
                    }
                }
                // Half written, or a key that does not match yet: tried again at the next turn.
                Err(e) => {
                    tracing::warn!(error = %e, "TLS certificate not reloaded; the old one stays")
                }
            }
        }
    });
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn stamps(cert: &Path, key: &Path) -> (Option<SystemTime>, Option<SystemTime>) {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    (modified(cert), modified(key))
}

fn load(cert: &Path, key: &Path) -> Result<CertifiedKey, TlsError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::Pem(cert.to_path_buf(), e))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(cert.to_path_buf()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Pem(key.to_path_buf(), e))?;
    let signer = ring::sign::any_supported_type(&key).map_err(TlsError::Key)?;
    let certified = CertifiedKey::new(chain, signer);
    // A certificate and a key of different pairs: refused here, not at every handshake.
    certified.keys_match().map_err(TlsError::Key)?;
    Ok(certified)
}
