//! TLS client side (rustls, ring provider): trust anchors, optional client
//! certificate, SNI, and readable reasons when a handshake is refused.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};

/// Where the suite's TLS material comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// CA certificate(s) that must have signed the broker's certificate.
    pub ca: Option<PathBuf>,
    /// Client certificate chain presented to the broker.
    pub cert: Option<PathBuf>,
    /// Private key of the client certificate.
    pub key: Option<PathBuf>,
}

/// TLS set-up failures (harness errors).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {why}")]
    File { path: PathBuf, why: String },
    #[error("TLS: {0}")]
    Config(String),
    #[error("mqtts:// needs the CA that signed the broker's certificate: give --ca FILE (or put ca.pem in the --certs directory)")]
    NoCa,
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let file = |why: String| TlsError::File {
        path: path.to_path_buf(),
        why,
    };
    let all: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| file(e.to_string()))?
        .collect();
    let all = all.map_err(|e| file(e.to_string()))?;
    if all.is_empty() {
        return Err(file("no PEM certificate in the file".into()));
    }
    Ok(all)
}

/// Build a client configuration from PEM files.
pub fn client_config(files: &TlsFiles) -> Result<Arc<ClientConfig>, TlsError> {
    let ca = files.ca.as_ref().ok_or(TlsError::NoCa)?;
    let mut roots = RootCertStore::empty();
    for c in certs(ca)? {
        roots.add(c).map_err(|e| TlsError::File {
            path: ca.clone(),
            why: format!("not a usable CA certificate: {e}"),
        })?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_root_certificates(roots);
    let config = match (&files.cert, &files.key) {
        (Some(cert), Some(key)) => {
            let chain = certs(cert)?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::File {
                path: key.clone(),
                why: format!("no usable private key: {e}"),
            })?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                TlsError::Config(format!("client certificate and key do not fit: {e}"))
            })?
        }
        (None, None) => builder.with_no_client_auth(),
        _ => return Err(TlsError::Config("--cert and --key go together".into())),
    };
    Ok(Arc::new(config))
}

/// The name the suite checks the broker's certificate against (and sends as SNI).
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(host.to_string())
        .map_err(|e| TlsError::Config(format!("bad server name `{host}`: {e}")))
}

/// A one-line reason for a failed TLS handshake or read.
pub fn reason(e: &std::io::Error) -> String {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match inner {
        Some(rustls::Error::AlertReceived(a)) => {
            format!("the broker sent TLS alert {}", alert_name(a))
        }
        Some(rustls::Error::InvalidCertificate(c)) => {
            format!("the suite refused the broker's certificate: {c:?}")
        }
        Some(other) => format!("TLS error: {other}"),
        None => e.to_string(),
    }
}

/// Snake-case name of a TLS alert, as in RFC 8446.
pub fn alert_name(a: &rustls::AlertDescription) -> String {
    let dbg = format!("{a:?}");
    let mut out = String::new();
    for (i, ch) in dbg.chars().enumerate() {
        if ch.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(ch.to_ascii_lowercase());
    }
    out.replace("unknown_c_a", "unknown_ca")
}
