//! TLS client side (rustls, ring provider): trust anchors, optional client
//! certificate, SNI, per-connection choices of a case (another client
//! certificate, trust anchor or server name from the fixtures directory),
//! and who refused a connection and why.

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

/// A case's choice for one connection; `None` fields keep the run's setting.
/// Names are fixture file stems in the `--certs` directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Choice {
    /// Client certificate to present instead of `--cert/--key`.
    pub client: Option<ClientCert>,
    /// Trust anchor for the broker's certificate instead of `--ca`
    /// (`NAME.pem`).
    pub ca: Option<String>,
    /// Name to check the broker's certificate against (and send as SNI)
    /// instead of the target's host.
    pub server_name: Option<String>,
}

/// Which client certificate a connection presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientCert {
    /// None at all (written `"none"`).
    None,
    /// `NAME.pem` with its key `NAME.key`.
    Fixture(String),
}

impl ClientCert {
    /// How reports name it, e.g. "an expired client certificate (client-expired.pem)".
    pub fn describe(&self) -> String {
        let name = match self {
            ClientCert::None => return "a connection without a client certificate".into(),
            ClientCert::Fixture(n) => n,
        };
        let what = match name.as_str() {
            "client" => "a valid client certificate",
            "client-expired" => "an expired client certificate",
            "client-notyet" => "a client certificate that is not yet valid",
            "client-foreign" => "a client certificate from an untrusted CA",
            "client-noclientauth" => "a certificate without the clientAuth usage",
            _ => "the client certificate",
        };
        format!("{what} ({name}.pem)")
    }
}

/// The run's TLS material: the files given on the command line and the
/// directory of test fixtures that cases name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Material {
    pub files: TlsFiles,
    pub fixtures: PathBuf,
}

impl Material {
    /// The run's settings with a case's choice applied.
    pub fn with_choice(&self, choice: &Choice) -> Result<super::Tls, TlsError> {
        let mut files = self.files.clone();
        if let Some(ca) = &choice.ca {
            files.ca = Some(self.fixtures.join(format!("{ca}.pem")));
        }
        match &choice.client {
            None => {}
            Some(ClientCert::None) => {
                files.cert = None;
                files.key = None;
            }
            Some(ClientCert::Fixture(n)) => {
                files.cert = Some(self.fixtures.join(format!("{n}.pem")));
                files.key = Some(self.fixtures.join(format!("{n}.key")));
            }
        }
        Ok(super::Tls {
            config: client_config(&files)?,
            server_name: choice.server_name.clone(),
        })
    }

    /// Whether the run presents a client certificate (`--cert/--key`).
    pub fn has_client_cert(&self) -> bool {
        self.files.cert.is_some()
    }
}

/// Which side ended a TLS connection that did not get going.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusedBy {
    /// The broker: it sent an alert, or closed or reset the connection.
    Broker,
    /// The suite: rustls rejected what the broker sent (its certificate).
    Suite,
}

/// Who refused a TLS connection and why, in one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub by: RefusedBy,
    pub reason: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl Refusal {
    /// Classify a failed handshake or read.
    pub fn of(e: &std::io::Error) -> Refusal {
        let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
        let (by, reason) = match inner {
            Some(rustls::Error::AlertReceived(a)) => (
                RefusedBy::Broker,
                format!("the broker sent TLS alert {}", alert_name(a)),
            ),
            Some(rustls::Error::InvalidCertificate(c)) => (
                RefusedBy::Suite,
                format!("the suite refused the broker's certificate: {c}"),
            ),
            Some(other) => (RefusedBy::Suite, format!("TLS error: {other}")),
            None if e.kind() == std::io::ErrorKind::UnexpectedEof => (
                RefusedBy::Broker,
                "the broker closed the connection without a TLS alert".into(),
            ),
            None => (RefusedBy::Broker, e.to_string()),
        };
        Refusal { by, reason }
    }
}

/// TLS set-up failures (harness errors).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {why}")]
    File { path: PathBuf, why: String },
    #[error("TLS: {0}")]
    Config(String),
    #[error("a TLS target (mqtts:// or wss://) needs the CA that signed the broker's certificate: give --ca FILE (or put ca.pem in the --certs directory)")]
    NoCa,
}

pub(crate) fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
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

/// A one-line reason for a failed TLS handshake or read from a broker.
pub fn reason(e: &std::io::Error) -> String {
    Refusal::of(e).reason
}

/// Like [`reason`], naming the peer `peer` ("the broker", "the device").
pub fn reason_from(e: &std::io::Error, peer: &str) -> String {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match inner {
        Some(rustls::Error::AlertReceived(a)) => {
            format!("{peer} sent TLS alert {}", alert_name(a))
        }
        None if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            format!("{peer} closed the connection without a TLS alert")
        }
        _ => Refusal::of(e).reason,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn io(e: rustls::Error) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }

    #[test]
    fn refusals_say_who_and_why() {
        let r = Refusal::of(&io(rustls::Error::AlertReceived(
            rustls::AlertDescription::CertificateRequired,
        )));
        assert_eq!(r.by, RefusedBy::Broker);
        assert_eq!(r.reason, "the broker sent TLS alert certificate_required");
        let r = Refusal::of(&io(rustls::Error::InvalidCertificate(
            rustls::CertificateError::UnknownIssuer,
        )));
        assert_eq!(r.by, RefusedBy::Suite);
        assert!(r
            .reason
            .starts_with("the suite refused the broker's certificate"));
        let eof = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
        assert_eq!(Refusal::of(&eof).by, RefusedBy::Broker);
        assert_eq!(
            reason_from(&eof, "the device"),
            "the device closed the connection without a TLS alert"
        );
        assert_eq!(reason(&eof), reason_from(&eof, "the broker"));
    }

    #[test]
    fn alert_names_are_snake_case() {
        assert_eq!(
            alert_name(&rustls::AlertDescription::UnknownCA),
            "unknown_ca"
        );
        assert_eq!(
            alert_name(&rustls::AlertDescription::CertificateExpired),
            "certificate_expired"
        );
    }

    #[test]
    fn client_certificates_are_described_for_reports() {
        assert_eq!(
            ClientCert::Fixture("client-expired".into()).describe(),
            "an expired client certificate (client-expired.pem)"
        );
        assert_eq!(
            ClientCert::None.describe(),
            "a connection without a client certificate"
        );
    }
}
