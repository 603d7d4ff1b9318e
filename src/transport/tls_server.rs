//! TLS server side of `mqttspec serve` (rustls, ring provider): the suite's
//! certificate and key, the CA client certificates are verified against
//! (optional or required), and why a client's handshake failed — who
//! ended it and with which error or alert — for the reports.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::PrivateKeyDer;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

use super::tls::{alert_name, certs, TlsError};
use crate::event::ClosedBy;

/// Where the suite's server-side TLS material comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFiles {
    /// The suite's certificate chain (PEM, leaf first).
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
    /// CA certificate(s) that client certificates must be signed by. A
    /// client presenting a certificate is refused unless it verifies.
    pub ca: Option<PathBuf>,
    /// Refuse clients that present no certificate (needs `ca`).
    pub require_client_cert: bool,
}

/// Build the server configuration, checking that every file is readable,
/// holds what it should, and that the key belongs to the certificate.
pub fn server_config(files: &ServerFiles) -> Result<Arc<ServerConfig>, TlsError> {
    if files.require_client_cert && files.ca.is_none() {
        return Err(TlsError::Config(
            "--require-client-cert needs the CA that signs client certificates: give --ca FILE (or put ca.pem in the --certs directory)".into(),
        ));
    }
    let file = |path: &PathBuf, why: String| TlsError::File {
        path: path.clone(),
        why,
    };
    let chain = certs(&files.cert).map_err(|e| match e {
        TlsError::File { path, why } => file(&path, format!("server certificate: {why}")),
        other => other,
    })?;
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| {
        let why = match e {
            rustls::pki_types::pem::Error::NoItemsFound => "no private key in the file".into(),
            e => format!("no usable private key: {e}"),
        };
        file(&files.key, why)
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = match &files.ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            let anchors = certs(ca).map_err(|e| match e {
                TlsError::File { path, why } => file(&path, format!("CA certificate: {why}")),
                other => other,
            })?;
            for c in anchors {
                roots
                    .add(c)
                    .map_err(|e| file(ca, format!("not a usable CA certificate: {e}")))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if files.require_client_cert {
                verifier
            } else {
                verifier.allow_unauthenticated()
            };
            let verifier = verifier.build().map_err(|e| {
                file(
                    ca,
                    format!("cannot verify client certificates with it: {e}"),
                )
            })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder.with_single_cert(chain, key).map_err(|e| {
        let why = match e {
            rustls::Error::InconsistentKeys(_) => {
                "the private key does not belong to the certificate".to_string()
            }
            e => e.to_string(),
        };
        TlsError::Config(format!(
            "{} and {} do not fit together: {why}",
            files.cert.display(),
            files.key.display()
        ))
    })?;
    Ok(Arc::new(config))
}

/// Why a client's TLS handshake failed, and which side ended it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub by: ClosedBy,
    pub reason: String,
}

impl Failure {
    /// Classify the error of a failed server-side handshake.
    pub fn of(e: &std::io::Error) -> Failure {
        let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
        let (by, reason) = match inner {
            Some(rustls::Error::AlertReceived(a)) => {
                let name = alert_name(a);
                let hint = match name.as_str() {
                    "unknown_ca" | "bad_certificate" | "certificate_unknown"
                    | "certificate_expired" | "access_denied" => {
                        " (it refused the suite's certificate)"
                    }
                    _ => "",
                };
                (
                    ClosedBy::Client,
                    format!("the client sent TLS alert {name}{hint}"),
                )
            }
            Some(rustls::Error::NoCertificatesPresented) => (
                ClosedBy::Server,
                "the client presented no certificate and one is required (the suite sent TLS alert certificate_required)".into(),
            ),
            Some(rustls::Error::InvalidCertificate(c)) => (
                ClosedBy::Server,
                format!(
                    "the suite refused the client certificate: {} (it sent TLS alert {})",
                    certificate_problem(c),
                    alert_name(&rustls::AlertDescription::from(c.clone()))
                ),
            ),
            Some(other) => (ClosedBy::Server, format!("TLS error: {other}")),
            None if e.kind() == std::io::ErrorKind::UnexpectedEof => (
                ClosedBy::Client,
                "the client closed the connection during the TLS handshake".into(),
            ),
            None => (ClosedBy::Client, format!("TLS handshake failed: {e}")),
        };
        Failure { by, reason }
    }

    /// A client that sent something other than a TLS ClientHello first
    /// (`first` is its first byte), if it is recognizable.
    pub fn not_tls(first: u8) -> Option<Failure> {
        let what = match first {
            // A TLS handshake record starts with content type 22.
            0x16 => return None,
            0x10 => "MQTT in clear (a CONNECT)",
            b'G' => "an HTTP request (WebSocket without TLS?)",
            _ => return None,
        };
        Some(Failure {
            by: ClosedBy::Server,
            reason: format!("the client sent {what} to a TLS listener"),
        })
    }
}

/// A refused client certificate's problem in words.
fn certificate_problem(c: &rustls::CertificateError) -> String {
    use rustls::CertificateError as E;
    match c {
        E::UnknownIssuer => "it is not signed by the CA the suite trusts (unknown issuer)".into(),
        E::InvalidPurpose | E::InvalidPurposeContext { .. } => {
            "it is not meant for client authentication (extended key usage)".into()
        }
        E::Expired => "certificate expired".into(),
        E::NotValidYet => "certificate not valid yet".into(),
        other => other.to_string(),
    }
}

/// "TLS 1.3, client certificate verified": what a handshake settled on.
pub fn describe(conn: &rustls::ServerConnection) -> String {
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3".to_string(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2".to_string(),
        Some(v) => format!("{v:?}"),
        None => "TLS".to_string(),
    };
    let cert = match conn.peer_certificates() {
        Some(c) if !c.is_empty() => "client certificate verified",
        _ => "no client certificate",
    };
    format!("{version}, {cert}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(e: rustls::Error) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }

    #[test]
    fn failures_say_who_and_why() {
        let f = Failure::of(&io(rustls::Error::NoCertificatesPresented));
        assert_eq!(f.by, ClosedBy::Server);
        assert!(f.reason.contains("certificate_required"), "{}", f.reason);
        let f = Failure::of(&io(rustls::Error::InvalidCertificate(
            rustls::CertificateError::UnknownIssuer,
        )));
        assert_eq!(f.by, ClosedBy::Server);
        assert!(
            f.reason.ends_with("(it sent TLS alert unknown_ca)"),
            "{}",
            f.reason
        );
        let f = Failure::of(&io(rustls::Error::AlertReceived(
            rustls::AlertDescription::UnknownCA,
        )));
        assert_eq!(f.by, ClosedBy::Client);
        assert_eq!(
            f.reason,
            "the client sent TLS alert unknown_ca (it refused the suite's certificate)"
        );
        let eof = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        assert_eq!(Failure::of(&eof).by, ClosedBy::Client);
    }

    #[test]
    fn clear_text_clients_are_recognized() {
        assert!(Failure::not_tls(0x16).is_none());
        assert!(Failure::not_tls(0x10).unwrap().reason.contains("CONNECT"));
        assert!(Failure::not_tls(b'G').unwrap().reason.contains("HTTP"));
    }

    #[test]
    fn require_client_cert_needs_a_ca() {
        let files = ServerFiles {
            cert: PathBuf::from("/nonexistent/server.pem"),
            key: PathBuf::from("/nonexistent/server.key"),
            ca: None,
            require_client_cert: true,
        };
        let e = server_config(&files).unwrap_err().to_string();
        assert!(e.contains("--require-client-cert needs"), "{e}");
        let e = server_config(&ServerFiles {
            require_client_cert: false,
            ..files
        })
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("/nonexistent/server.pem: server certificate"),
            "{e}"
        );
    }
}
