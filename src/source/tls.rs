//! TLS client configuration for mail servers: system roots (or the bundled webpki roots when the
//! system has none), plus the account's own CA file. Verification is always on; there is
//! deliberately no way to turn it off.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

/// Why a TLS configuration could not be built. Names the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read CA file {path}: {source}")]
    CaRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("CA file {path} is not valid PEM: {source}")]
    CaPem { path: PathBuf, source: pem::Error },
    #[error("CA file {path} holds no certificate")]
    CaEmpty { path: PathBuf },
    #[error("CA certificate in {path} is not usable: {source}")]
    CaInvalid {
        path: PathBuf,
        source: rustls::Error,
    },
    #[error("TLS setup failed: {0}")]
    Setup(rustls::Error),
}

/// A rustls client configuration (ring provider) trusting the system roots and, if given, the
/// certificates in `ca_file` (PEM).
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = system_roots().clone();
    if let Some(path) = ca_file {
        for cert in read_ca_file(path)? {
            roots.add(cert).map_err(|source| TlsError::CaInvalid {
                path: path.to_path_buf(),
                source,
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Setup)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A connector for [`client_config`].
pub fn connector(ca_file: Option<&Path>) -> Result<TlsConnector, TlsError> {
    Ok(TlsConnector::from(client_config(ca_file)?))
}

fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let map_err = |e: pem::Error| match e {
        pem::Error::Io(source) => TlsError::CaRead {
            path: path.to_path_buf(),
            source,
        },
        source => TlsError::CaPem {
            path: path.to_path_buf(),
            source,
        },
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(map_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(map_err)?;
    if certs.is_empty() {
        return Err(TlsError::CaEmpty {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

/// The system roots, loaded once per process; the bundled webpki roots if none load.
fn system_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        let loaded = rustls_native_certs::load_native_certs();
        for e in &loaded.errors {
            tracing::debug!("system certificate store: {e}");
        }
        let (added, ignored) = roots.add_parsable_certificates(loaded.certs);
        tracing::debug!(added, ignored, "loaded system root certificates");
        if roots.is_empty() {
            tracing::warn!("no system root certificates found; using the bundled webpki roots");
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        roots
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_ca_file_is_named() {
        let err = client_config(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(matches!(err, TlsError::CaRead { .. }), "{err:?}");
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
    }

    #[test]
    fn file_without_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate\n").unwrap();
        let err = client_config(Some(&path)).unwrap_err();
        assert!(matches!(err, TlsError::CaEmpty { .. }), "{err:?}");
        assert!(err.to_string().contains("ca.pem"), "{err}");
    }

    #[test]
    fn garbage_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(
            &path,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let err = client_config(Some(&path)).unwrap_err();
        assert!(matches!(err, TlsError::CaInvalid { .. }), "{err:?}");
    }

    #[test]
    fn system_roots_only_builds() {
        assert!(client_config(None).is_ok());
    }
}
