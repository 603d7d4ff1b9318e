//! The test PKI (`mqttspec::pki`): every generated certificate parsed back
//! (issuer signatures, validity windows, EKUs, SANs, matching keys), checked
//! by `openssl verify` when openssl is installed, and used for real mutual
//! TLS between mosquitto and mosquitto_pub.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mqttspec::pki::{generate, PkiOptions, FILES};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::*;

const DAY: i64 = 86_400;

/// A generated PKI in a temp dir, with each file's text by name.
struct Pki {
    dir: tempfile::TempDir,
    text: BTreeMap<String, String>,
}

impl Pki {
    fn new(opts: &PkiOptions) -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("nested/certs");
        let written = generate(&out, opts).unwrap();
        let want: Vec<PathBuf> = FILES.iter().map(|(n, _)| out.join(n)).collect();
        assert_eq!(written, want);
        let text = FILES
            .iter()
            .map(|(n, _)| (n.to_string(), std::fs::read_to_string(out.join(n)).unwrap()))
            .collect();
        Pki { dir, text }
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("nested/certs")
    }

    fn path(&self, name: &str) -> String {
        self.out().join(name).to_str().unwrap().to_string()
    }

    /// The DER of a certificate file.
    fn der(&self, name: &str) -> Vec<u8> {
        let (rest, pem) = x509_parser::pem::parse_x509_pem(self.text[name].as_bytes()).unwrap();
        assert!(
            rest.iter().all(u8::is_ascii_whitespace),
            "{name}: trailing data"
        );
        assert_eq!(pem.label, "CERTIFICATE", "{name}");
        pem.contents
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn parse(der: &[u8]) -> X509Certificate<'_> {
    let (rest, cert) = parse_x509_certificate(der).unwrap();
    assert!(rest.is_empty());
    cert
}

fn signed_by(leaf: &X509Certificate<'_>, ca: &X509Certificate<'_>) -> bool {
    leaf.issuer() == ca.subject() && leaf.verify_signature(Some(ca.public_key())).is_ok()
}

fn eku(cert: &X509Certificate<'_>) -> (bool, bool) {
    let e = cert
        .extended_key_usage()
        .unwrap()
        .expect("EKU present")
        .value;
    assert!(!e.any && e.other.is_empty());
    (e.server_auth, e.client_auth)
}

fn sans(cert: &X509Certificate<'_>) -> Vec<String> {
    match cert.subject_alternative_name().unwrap() {
        None => Vec::new(),
        Some(ext) => ext
            .value
            .general_names
            .iter()
            .map(|g| match g {
                GeneralName::DNSName(d) => format!("dns:{d}"),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => format!("ip:{}", IpAddr::from(<[u8; 4]>::try_from(*b).unwrap())),
                    16 => format!("ip:{}", IpAddr::from(<[u8; 16]>::try_from(*b).unwrap())),
                    _ => panic!("bad IP SAN {b:?}"),
                },
                other => panic!("unexpected SAN {other:?}"),
            })
            .collect(),
    }
}

fn cn(cert: &X509Certificate<'_>) -> String {
    cert.subject()
        .iter_common_name()
        .next()
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

fn is_ca(cert: &X509Certificate<'_>) -> bool {
    cert.basic_constraints()
        .unwrap()
        .map(|b| b.value.ca)
        .unwrap_or(false)
}

fn leaves() -> Vec<&'static str> {
    FILES
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| n.ends_with(".pem") && !n.ends_with("ca.pem"))
        .collect()
}

#[test]
fn every_file_is_pem_and_every_key_matches_its_certificate() {
    let pki = Pki::new(&PkiOptions::default());
    for (name, purpose) in FILES {
        assert!(!purpose.is_empty());
        let text = &pki.text[*name];
        if let Some(stem) = name.strip_suffix(".key") {
            assert!(text.starts_with("-----BEGIN PRIVATE KEY-----"), "{name}");
            let key = rcgen::KeyPair::from_pem(text).unwrap();
            let der = pki.der(&format!("{stem}.pem"));
            let cert = parse(&der);
            assert_eq!(
                key.public_key_raw(),
                &*cert.public_key().subject_public_key.data,
                "{name} does not match {stem}.pem"
            );
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(pki.out().join(name))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o077, 0, "{name} is readable by others");
            }
        } else {
            assert!(text.starts_with("-----BEGIN CERTIFICATE-----"), "{name}");
        }
    }
    // Nothing else (no temporary files) is left behind.
    let mut on_disk: Vec<String> = std::fs::read_dir(pki.out())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut want: Vec<String> = FILES.iter().map(|(n, _)| n.to_string()).collect();
    want.sort();
    assert_eq!(on_disk, want);
}

#[test]
fn chains_validity_ekus_and_sans() {
    let opts = PkiOptions {
        hosts: vec!["broker.test".into(), "10.1.2.3".into(), "localhost".into()],
        days: 30,
    };
    let pki = Pki::new(&opts);
    let (ca_der, foreign_der) = (pki.der("ca.pem"), pki.der("foreign-ca.pem"));
    let (ca, foreign) = (parse(&ca_der), parse(&foreign_der));
    let now = now();

    for c in [&ca, &foreign] {
        assert!(is_ca(c));
        assert!(signed_by(c, c), "CA is self-signed");
        let ku = c.key_usage().unwrap().unwrap().value;
        assert!(ku.key_cert_sign() && ku.crl_sign() && !ku.digital_signature());
    }
    assert_ne!(ca.subject(), foreign.subject());
    assert_ne!(ca.public_key().raw, foreign.public_key().raw);

    let ders: BTreeMap<&str, Vec<u8>> = leaves().into_iter().map(|n| (n, pki.der(n))).collect();
    let mut serials = vec![ca.raw_serial().to_vec(), foreign.raw_serial().to_vec()];
    for (name, der) in &ders {
        let cert = parse(der);
        assert!(!is_ca(&cert), "{name}");
        let ku = cert.key_usage().unwrap().unwrap().value;
        assert!(ku.digital_signature() && !ku.key_cert_sign(), "{name}");
        let foreign_leaf = *name == "client-foreign.pem";
        assert_eq!(signed_by(&cert, &ca), !foreign_leaf, "{name} vs ca.pem");
        assert_eq!(
            signed_by(&cert, &foreign),
            foreign_leaf,
            "{name} vs foreign-ca.pem"
        );
        // Every leaf lies within its issuer's window.
        let v = cert.validity();
        assert!(v.not_before >= ca.validity().not_before, "{name}");
        assert!(v.not_after <= ca.validity().not_after, "{name}");
        serials.push(cert.raw_serial().to_vec());

        let (nb, na) = (v.not_before.timestamp(), v.not_after.timestamp());
        match *name {
            "client-expired.pem" => {
                assert!((nb - (now - 730 * DAY)).abs() < 600, "{name} from");
                assert!((na - (now - 365 * DAY)).abs() < 600, "{name} to");
            }
            "client-notyet.pem" => {
                assert!((nb - (now + 365 * DAY)).abs() < 600, "{name} from");
                assert!((na - (nb + 30 * DAY)).abs() < 600, "{name} to");
            }
            _ => {
                assert!(nb <= now && nb > now - 2 * 3600, "{name} from");
                assert!((na - (now + 30 * DAY)).abs() < 600, "{name} to");
                assert!(cert.validity().is_valid(), "{name}");
            }
        }

        let (server_auth, client_auth) = eku(&cert);
        let want = if name.starts_with("server") || *name == "client-noclientauth.pem" {
            (true, false)
        } else {
            (false, true)
        };
        assert_eq!((server_auth, client_auth), want, "{name} EKU");

        let want_sans: Vec<&str> = match *name {
            "server.pem" => vec![
                "dns:localhost",
                "ip:127.0.0.1",
                "ip:::1",
                "dns:broker.test",
                "ip:10.1.2.3",
            ],
            "server-wronghost.pem" => vec!["dns:wrong.invalid"],
            _ => vec![],
        };
        assert_eq!(sans(&cert), want_sans, "{name} SANs");
    }
    let ca_ok = parse(&ca_der);
    assert!(ca_ok.validity().not_after.timestamp() >= now + 30 * DAY);
    assert_eq!(cn(&parse(&ders["client.pem"])), "mqttspec-client");
    assert_eq!(cn(&parse(&ders["server.pem"])), "mqttspec-server");
    let n = serials.len();
    serials.sort();
    serials.dedup();
    assert_eq!(serials.len(), n, "serial numbers are unique");
}

#[test]
fn default_days_and_errors_name_the_path() {
    assert_eq!(PkiOptions::default().days, 3650);
    let pki = Pki::new(&PkiOptions::default());
    let der = pki.der("client.pem");
    let na = parse(&der).validity().not_after.timestamp();
    assert!((na - (now() + 3650 * DAY)).abs() < 600);

    // `out` exists as a file: the error names it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("taken");
    std::fs::write(&file, "x").unwrap();
    let e = generate(&file, &PkiOptions::default()).unwrap_err();
    assert!(e.to_string().contains(file.to_str().unwrap()), "{e}");

    let e = generate(
        dir.path(),
        &PkiOptions {
            hosts: vec!["caf\u{e9}.test".into()],
            ..PkiOptions::default()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("server.pem"), "{e}");
    assert!(e.to_string().contains("caf\u{e9}.test"), "{e}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "nothing written"
    );
}

#[test]
fn regenerating_replaces_every_file() {
    let pki = Pki::new(&PkiOptions::default());
    generate(&pki.out(), &PkiOptions::default()).unwrap();
    for (name, _) in FILES {
        let again = std::fs::read_to_string(pki.out().join(name)).unwrap();
        assert_ne!(again, pki.text[*name], "{name} was not replaced");
    }
}

/// `openssl verify` agrees with the intended outcome of each certificate.
#[test]
fn openssl_verify() {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("skipped: openssl is not installed");
        return;
    }
    let pki = Pki::new(&PkiOptions::default());
    let verify = |ca: &str, purpose: Option<&str>, leaf: &str| -> bool {
        let mut cmd = Command::new("openssl");
        cmd.args(["verify", "-CAfile", &pki.path(ca)]);
        if let Some(p) = purpose {
            cmd.args(["-purpose", p]);
        }
        let out = cmd.arg(pki.path(leaf)).output().unwrap();
        out.status.success()
    };
    assert!(verify("ca.pem", Some("sslclient"), "client.pem"));
    assert!(verify("ca.pem", None, "client.pem"));
    assert!(verify("ca.pem", Some("sslserver"), "server.pem"));
    assert!(verify("ca.pem", Some("sslserver"), "server-wronghost.pem"));
    assert!(verify(
        "foreign-ca.pem",
        Some("sslclient"),
        "client-foreign.pem"
    ));
    assert!(!verify("ca.pem", None, "client-foreign.pem"));
    assert!(!verify("ca.pem", None, "client-expired.pem"));
    assert!(!verify("ca.pem", None, "client-notyet.pem"));
    assert!(!verify(
        "ca.pem",
        Some("sslclient"),
        "client-noclientauth.pem"
    ));
    assert!(!verify("foreign-ca.pem", None, "client.pem"));
}

/// A mosquitto TLS listener on a free loopback port requiring a client
/// certificate; killed on drop. `user root` keeps a broker started by root
/// from dropping to the `mosquitto` user, which could not read the
/// owner-only keys (it is ignored when not started as root).
struct TlsBroker {
    child: Child,
    port: u16,
    log: PathBuf,
    _conf_dir: tempfile::TempDir,
}

impl TlsBroker {
    fn start(pki: &Pki, cert: &str) -> TlsBroker {
        let conf_dir = tempfile::tempdir().unwrap();
        let key = cert.replace(".pem", ".key");
        for _ in 0..5 {
            let port = common::free_port();
            let conf = conf_dir.path().join("mosquitto.conf");
            std::fs::write(
                &conf,
                format!(
                    "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n\
                     user root\ncafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true\n",
                    pki.path("ca.pem"),
                    pki.path(cert),
                    pki.path(&key),
                ),
            )
            .unwrap();
            let log = conf_dir.path().join("mosquitto.log");
            let mut child = Command::new("mosquitto")
                .arg("-c")
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .expect("mosquitto must be installed (apt-get install -y mosquitto)");
            if common::wait_port(port, Duration::from_secs(10)) {
                return TlsBroker {
                    child,
                    port,
                    log,
                    _conf_dir: conf_dir,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("mosquitto did not start with TLS");
    }

    /// Publish once with `client` (a .pem name) as the client certificate;
    /// true when mosquitto_pub reports success. Bounded by a deadline.
    fn publish(&self, pki: &Pki, client: &str) -> bool {
        let key = client.replace(".pem", ".key");
        let port = self.port.to_string();
        let mut child = Command::new("mosquitto_pub")
            .args(["--cafile", &pki.path("ca.pem")])
            .args(["--cert", &pki.path(client), "--key", &pki.path(&key)])
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-q",
                "1",
                "-t",
                "x",
                "-m",
                "y",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto_pub must be installed (apt-get install -y mosquitto-clients)");
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut delay = Duration::from_millis(5);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.success();
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("mosquitto_pub with {client} did not finish in 20 s");
            }
            std::thread::sleep(delay);
            delay = (delay * 2).min(Duration::from_millis(100));
        }
    }
}

impl TlsBroker {
    /// How many TLS handshakes the broker refused for a bad certificate.
    fn refusals(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .matches("certificate verify failed")
            .count()
    }

    /// Wait (bounded) until the broker has logged `n` refusals.
    fn wait_refusals(&self, n: usize) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut delay = Duration::from_millis(5);
        while self.refusals() < n {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(delay);
            delay = (delay * 2).min(Duration::from_millis(100));
        }
        true
    }
}

impl Drop for TlsBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Real mutual TLS: mosquitto accepts the good client and rejects every
/// broken one; a client refuses a server certificate for the wrong host.
#[test]
fn mosquitto_mutual_tls() {
    let pki = Pki::new(&PkiOptions::default());
    let broker = TlsBroker::start(&pki, "server.pem");
    assert!(
        broker.publish(&pki, "client.pem"),
        "good client rejected; broker log:\n{}",
        std::fs::read_to_string(&broker.log).unwrap_or_default()
    );
    for (i, bad) in [
        "client-expired.pem",
        "client-foreign.pem",
        "client-notyet.pem",
        "client-noclientauth.pem",
    ]
    .into_iter()
    .enumerate()
    {
        assert!(!broker.publish(&pki, bad), "{bad} was accepted");
        // Refused by the broker's certificate check, not for another reason.
        assert!(
            broker.wait_refusals(i + 1),
            "{bad}: no certificate refusal in the broker log:\n{}",
            std::fs::read_to_string(&broker.log).unwrap_or_default()
        );
    }
    // The broker still serves good clients after the rejections.
    assert!(
        broker.publish(&pki, "client.pem"),
        "good client rejected after the bad ones; broker log:\n{}",
        std::fs::read_to_string(&broker.log).unwrap_or_default()
    );
    drop(broker);

    let wrong = TlsBroker::start(&pki, "server-wronghost.pem");
    assert!(
        !wrong.publish(&pki, "client.pem"),
        "server-wronghost.pem passed the host name check"
    );
    assert_eq!(wrong.refusals(), 0, "the client, not the broker, refused");
}

/// The committed fixtures in certs/: exactly the files of `FILES` plus the
/// README, whose table gives each file's purpose; the good certificates
/// chain to the committed CA (dates are not checked: they age).
#[test]
fn committed_fixtures_match_files() {
    let certs = common::root().join("certs");
    let mut on_disk: Vec<String> = std::fs::read_dir(&certs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut want: Vec<String> = FILES.iter().map(|(n, _)| n.to_string()).collect();
    want.push("README.md".into());
    want.sort();
    assert_eq!(on_disk, want);

    let readme = std::fs::read_to_string(certs.join("README.md")).unwrap();
    assert!(readme.contains("Never use them in production"));
    assert!(readme.contains("mqttspec certs --out certs/"));
    for (name, purpose) in FILES {
        let row = format!("| `{name}` | {purpose} |");
        assert!(readme.contains(&row), "README.md lacks the row {row}");
    }

    let der = |name: &str| {
        let text = std::fs::read(certs.join(name)).unwrap();
        x509_parser::pem::parse_x509_pem(&text).unwrap().1.contents
    };
    let (ca, foreign) = (der("ca.pem"), der("foreign-ca.pem"));
    let (ca, foreign) = (parse(&ca), parse(&foreign));
    for name in leaves() {
        let d = der(name);
        let cert = parse(&d);
        let (issuer, other) = if name == "client-foreign.pem" {
            (&foreign, &ca)
        } else {
            (&ca, &foreign)
        };
        assert!(signed_by(&cert, issuer), "{name}");
        assert!(!signed_by(&cert, other), "{name}");
    }
}
