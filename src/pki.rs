//! Test PKI: generates the CA, server and client certificates (good and
//! deliberately broken ones) that brokers and modules use for mutual TLS on
//! port 8883 in conformance runs. The `mqttspec certs` command writes them.
//!
//! Every file is PEM: certificates as `CERTIFICATE`, keys as PKCS#8
//! `PRIVATE KEY` (ECDSA P-256). The keys are for tests only.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

/// Default validity of the CA and the good leaves, in days.
pub const DEFAULT_DAYS: u32 = 3650;

/// Names always in the server certificate's subject alternative names.
pub const DEFAULT_HOSTS: &[&str] = &["localhost", "127.0.0.1", "::1"];

/// The only name in `server-wronghost.pem`.
pub const WRONG_HOST: &str = "wrong.invalid";

/// Every file [`generate`] writes, in order, with a one-line purpose.
pub const FILES: &[(&str, &str)] = &[
    ("ca.pem", "test CA certificate: the trust anchor for brokers and clients"),
    ("ca.key", "test CA private key, to sign more certificates for this PKI"),
    (
        "server.pem",
        "broker certificate signed by the CA: SANs localhost, 127.0.0.1, ::1 and any --host; EKU serverAuth",
    ),
    ("server.key", "private key of server.pem"),
    (
        "client.pem",
        "good client certificate signed by the CA: CN mqttspec-client; EKU clientAuth",
    ),
    ("client.key", "private key of client.pem"),
    (
        "foreign-ca.pem",
        "a second, unrelated CA: nothing trusts it",
    ),
    ("foreign-ca.key", "private key of foreign-ca.pem"),
    (
        "client-foreign.pem",
        "client certificate signed by the foreign CA: MUST be rejected (unknown CA)",
    ),
    ("client-foreign.key", "private key of client-foreign.pem"),
    (
        "client-expired.pem",
        "client certificate valid from two years ago to one year ago: MUST be rejected (expired)",
    ),
    ("client-expired.key", "private key of client-expired.pem"),
    (
        "client-notyet.pem",
        "client certificate valid only from one year after generation: MUST be rejected (not yet valid)",
    ),
    ("client-notyet.key", "private key of client-notyet.pem"),
    (
        "client-noclientauth.pem",
        "client certificate whose only EKU is serverAuth: MUST be rejected as a client",
    ),
    ("client-noclientauth.key", "private key of client-noclientauth.pem"),
    (
        "server-wronghost.pem",
        "broker certificate signed by the CA for wrong.invalid only: MUST fail host name checks",
    ),
    ("server-wronghost.key", "private key of server-wronghost.pem"),
];

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkiOptions {
    /// Extra server names (DNS names or IP addresses) besides [`DEFAULT_HOSTS`].
    pub hosts: Vec<String>,
    /// Validity of the CA and the good leaves, in days from now.
    pub days: u32,
}

impl Default for PkiOptions {
    fn default() -> Self {
        PkiOptions {
            hosts: Vec::new(),
            days: DEFAULT_DAYS,
        }
    }
}

/// Why the PKI could not be generated or written.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("cannot create directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot generate {path}: {source}")]
    Generate { path: PathBuf, source: rcgen::Error },
    #[error("invalid host name {host:?} for {path}: {source}")]
    Host {
        host: String,
        path: PathBuf,
        source: rcgen::Error,
    },
    #[error("invalid host name {host:?} for {path}: empty or contains whitespace")]
    BlankHost { host: String, path: PathBuf },
    #[error("invalid validity for {path}: {days} days (must be 1 to {max})", max = MAX_DAYS)]
    Days { days: u32, path: PathBuf },
}

/// The longest validity accepted: keeps every date well inside year 9999.
pub const MAX_DAYS: u32 = 365 * 1000;

/// Generate the whole test PKI into `out` (created if missing), replacing
/// any files of the same names. Each file is written under a temporary name
/// and then renamed. Returns the written paths in [`FILES`] order.
pub fn generate(out: &Path, opts: &PkiOptions) -> Result<Vec<PathBuf>, PkiError> {
    let files = build(out, opts)?;
    fs::create_dir_all(out).map_err(|source| PkiError::CreateDir {
        path: out.to_path_buf(),
        source,
    })?;
    let mut written = Vec::with_capacity(files.len());
    for (name, contents) in files {
        let path = out.join(name);
        write_atomic(&path, contents.as_bytes(), name.ends_with(".key"))?;
        written.push(path);
    }
    Ok(written)
}

/// Build every file in memory, in [`FILES`] order.
fn build(out: &Path, opts: &PkiOptions) -> Result<Vec<(&'static str, String)>, PkiError> {
    let at = |name: &str| out.join(name);
    if opts.days == 0 || opts.days > MAX_DAYS {
        return Err(PkiError::Days {
            days: opts.days,
            path: at("ca.pem"),
        });
    }
    let now = OffsetDateTime::now_utc();
    let year = Duration::days(365);
    // Good leaves start an hour back, to tolerate clock skew.
    let start = now - Duration::hours(1);
    let end = now + Duration::days(i64::from(opts.days));
    let notyet_from = now + year;
    let notyet_to = notyet_from + Duration::days(i64::from(opts.days));
    // The CA covers every leaf window, so only the leaf's own dates fail.
    let ca_window = (now - year * 2 - Duration::days(1), notyet_to);

    let ca = new_ca("mqttspec test CA", ca_window, &at("ca.pem"))?;
    let foreign = new_ca("mqttspec foreign test CA", ca_window, &at("foreign-ca.pem"))?;

    let mut server_names: Vec<String> = DEFAULT_HOSTS.iter().map(|h| h.to_string()).collect();
    for h in &opts.hosts {
        if h.is_empty() || h.contains(char::is_whitespace) {
            return Err(PkiError::BlankHost {
                host: h.clone(),
                path: at("server.pem"),
            });
        }
        if !server_names.contains(h) {
            server_names.push(h.clone());
        }
    }
    let server = Leaf {
        cn: "mqttspec-server",
        sans: &server_names,
        eku: ExtendedKeyUsagePurpose::ServerAuth,
        window: (start, end),
    };
    let client = Leaf {
        cn: "mqttspec-client",
        sans: &[],
        eku: ExtendedKeyUsagePurpose::ClientAuth,
        window: (start, end),
    };
    let wrong = [WRONG_HOST.to_string()];

    let mut files = Vec::with_capacity(FILES.len());
    files.push(("ca.pem", ca.pem()));
    files.push(("ca.key", ca.key().serialize_pem()));
    let (c, k) = server.sign(&ca, &at("server.pem"))?;
    files.extend([("server.pem", c), ("server.key", k)]);
    let (c, k) = client.sign(&ca, &at("client.pem"))?;
    files.extend([("client.pem", c), ("client.key", k)]);
    files.push(("foreign-ca.pem", foreign.pem()));
    files.push(("foreign-ca.key", foreign.key().serialize_pem()));
    let (c, k) = Leaf {
        cn: "mqttspec-client-foreign",
        ..client.clone()
    }
    .sign(&foreign, &at("client-foreign.pem"))?;
    files.extend([("client-foreign.pem", c), ("client-foreign.key", k)]);
    let (c, k) = Leaf {
        cn: "mqttspec-client-expired",
        window: (now - year * 2, now - year),
        ..client.clone()
    }
    .sign(&ca, &at("client-expired.pem"))?;
    files.extend([("client-expired.pem", c), ("client-expired.key", k)]);
    let (c, k) = Leaf {
        cn: "mqttspec-client-notyet",
        window: (notyet_from, notyet_to),
        ..client.clone()
    }
    .sign(&ca, &at("client-notyet.pem"))?;
    files.extend([("client-notyet.pem", c), ("client-notyet.key", k)]);
    let (c, k) = Leaf {
        cn: "mqttspec-client-noclientauth",
        eku: ExtendedKeyUsagePurpose::ServerAuth,
        ..client.clone()
    }
    .sign(&ca, &at("client-noclientauth.pem"))?;
    files.extend([
        ("client-noclientauth.pem", c),
        ("client-noclientauth.key", k),
    ]);
    let (c, k) = Leaf {
        cn: "mqttspec-server-wronghost",
        sans: &wrong,
        ..server.clone()
    }
    .sign(&ca, &at("server-wronghost.pem"))?;
    files.extend([("server-wronghost.pem", c), ("server-wronghost.key", k)]);

    debug_assert_eq!(
        files.iter().map(|f| f.0).collect::<Vec<_>>(),
        FILES.iter().map(|f| f.0).collect::<Vec<_>>()
    );
    Ok(files)
}

type Window = (OffsetDateTime, OffsetDateTime);

/// A self-signed CA that may sign certificates (and CRLs) only.
fn new_ca(
    cn: &str,
    window: Window,
    path: &Path,
) -> Result<CertifiedIssuer<'static, KeyPair>, PkiError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = dn(cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    (params.not_before, params.not_after) = window;
    let key = KeyPair::generate().map_err(gen_err(path.to_path_buf()))?;
    CertifiedIssuer::self_signed(params, key).map_err(gen_err(path.to_path_buf()))
}

/// An end-entity certificate to sign.
#[derive(Clone)]
struct Leaf<'a> {
    cn: &'a str,
    sans: &'a [String],
    eku: ExtendedKeyUsagePurpose,
    window: Window,
}

impl Leaf<'_> {
    /// Sign with a fresh key; returns (certificate PEM, PKCS#8 key PEM).
    fn sign(
        &self,
        issuer: &Issuer<'_, KeyPair>,
        path: &Path,
    ) -> Result<(String, String), PkiError> {
        let mut params =
            CertificateParams::new(self.sans.to_vec()).map_err(|source| PkiError::Host {
                host: first_bad_host(self.sans),
                path: path.to_path_buf(),
                source,
            })?;
        params.distinguished_name = dn(self.cn);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![self.eku.clone()];
        params.use_authority_key_identifier_extension = true;
        (params.not_before, params.not_after) = self.window;
        let key = KeyPair::generate().map_err(gen_err(path.to_path_buf()))?;
        let cert = params
            .signed_by(&key, issuer)
            .map_err(gen_err(path.to_path_buf()))?;
        Ok((cert.pem(), key.serialize_pem()))
    }
}

fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "mqttspec (test only)");
    dn.push(DnType::CommonName, cn);
    dn
}

fn gen_err(path: PathBuf) -> impl FnOnce(rcgen::Error) -> PkiError {
    move |source| PkiError::Generate { path, source }
}

/// The first name rcgen refuses (for the error message).
fn first_bad_host(sans: &[String]) -> String {
    sans.iter()
        .find(|h| CertificateParams::new(vec![h.to_string()]).is_err())
        .cloned()
        .unwrap_or_default()
}

/// Write `bytes` to a temporary file beside `path`, then rename it over
/// `path`. Private keys are readable by the owner only (on Unix).
fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<(), PkiError> {
    let err = |source| PkiError::Write {
        path: path.to_path_buf(),
        source,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp{}", std::process::id()));
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let result = opts
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_unique_and_paired() {
        let names: Vec<&str> = FILES.iter().map(|f| f.0).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
        for n in &names {
            if let Some(stem) = n.strip_suffix(".pem") {
                assert!(names.contains(&format!("{stem}.key").as_str()), "{n}");
            }
        }
    }

    #[test]
    fn rejects_zero_days_and_bad_hosts() {
        let out = Path::new("/nonexistent/pki");
        let zero = PkiOptions {
            days: 0,
            ..PkiOptions::default()
        };
        assert!(matches!(build(out, &zero), Err(PkiError::Days { .. })));
        for blank in ["", "a b"] {
            let opts = PkiOptions {
                hosts: vec![blank.into()],
                ..PkiOptions::default()
            };
            assert!(matches!(build(out, &opts), Err(PkiError::BlankHost { .. })));
        }
        let bad = PkiOptions {
            hosts: vec!["bad\u{e9}".into()],
            ..PkiOptions::default()
        };
        let e = build(out, &bad).err();
        assert!(
            matches!(&e, Some(PkiError::Host { host, .. }) if host == "bad\u{e9}"),
            "{e:?}"
        );
        let msg = e.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("/nonexistent/pki/server.pem"), "{msg}");
    }

    #[test]
    fn builds_every_file_in_order() {
        let files = build(Path::new("x"), &PkiOptions::default()).unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.0).collect();
        let want: Vec<&str> = FILES.iter().map(|f| f.0).collect();
        assert_eq!(names, want);
        for (name, text) in &files {
            let tag = if name.ends_with(".key") {
                "-----BEGIN PRIVATE KEY-----"
            } else {
                "-----BEGIN CERTIFICATE-----"
            };
            assert!(text.starts_with(tag), "{name}");
        }
    }
}
