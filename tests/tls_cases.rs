//! The TLS cases (cases/v3.1.1/5-security) proven both ways with a fresh
//! test PKI: they pass against mosquitto requiring client certificates; every
//! client-certificate refusal case fails against a lax TLS broker of our own
//! that asks for no client certificate; the cases where the suite refuses the
//! broker's certificate fail when that certificate does match; fixtures the
//! broker does not trust make them inconclusive, never a pass; and they are
//! skipped where they do not apply.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use mqttspec::pki::{generate, PkiOptions};
use serde_json::Value;

/// The client-certificate cases that expect the broker to refuse, with the
/// requirement each one cites.
const REFUSALS: &[(&str, &str)] = &[
    ("mtls-no-client-cert-refused", "RFC8446-4.4.2.4"),
    ("mtls-foreign-ca-client-cert-refused", "RFC5280-6.1"),
    ("mtls-expired-client-cert-refused", "RFC5280-6.1.3"),
    ("mtls-notyet-client-cert-refused", "RFC5280-6.1.3"),
    ("mtls-no-clientauth-eku-refused", "RFC5280-4.2.1.12"),
];
/// The cases where the suite refuses the broker's certificate.
const SUITE_REFUSALS: &[(&str, &str)] = &[
    ("tls-wrong-server-name-refused", "RFC6125-6"),
    ("tls-unknown-ca-broker-refused", "RFC5280-6.1"),
];
const ACCEPTED: &str = "mtls-valid-client-cert-accepted";

fn pki(hosts: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let opts = PkiOptions {
        hosts: hosts.iter().map(|h| h.to_string()).collect(),
        ..PkiOptions::default()
    };
    generate(dir.path(), &opts).unwrap();
    dir
}

/// Run the tls/mtls cases against `url` with the PKI in `certs`; with
/// `client_cert` the run presents client.pem. Returns the cases by id, the
/// exit status and the terminal output.
fn run(url: &str, certs: &Path, client_cert: bool) -> (BTreeMap<String, Value>, i32, String) {
    run_with_fixtures(url, certs, certs, client_cert)
}

/// As [`run`], with the fixtures cases name taken from `fixtures`.
fn run_with_fixtures(
    url: &str,
    certs: &Path,
    fixtures: &Path,
    client_cert: bool,
) -> (BTreeMap<String, Value>, i32, String) {
    let d = certs.to_str().unwrap();
    let f = fixtures.to_str().unwrap();
    let json = certs.join(format!("report-{}.json", common::free_port()));
    let (ca, cert, key) = (
        format!("{d}/ca.pem"),
        format!("{d}/client.pem"),
        format!("{d}/client.key"),
    );
    let mut args = vec![
        "run",
        "--target",
        url,
        "--ca",
        &ca,
        "--certs",
        f,
        "--tag",
        "tls",
        "--tag",
        "mtls",
        "--json",
        json.to_str().unwrap(),
    ];
    if client_cert {
        args.extend(["--cert", &cert, "--key", &key]);
    }
    let o = common::mqttspec(&args);
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| panic!("{e}\n{out}"));
    let report: Value = serde_json::from_str(&text).unwrap();
    let cases = report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_string(), c.clone()))
        .collect();
    (cases, o.status.code().unwrap(), out)
}

fn verdict(cases: &BTreeMap<String, Value>, id: &str) -> String {
    cases[id]["verdict"].as_str().unwrap().to_string()
}

/// The message of the case's last step (the refusal step).
fn last_message(c: &Value) -> String {
    let steps = c["steps"].as_array().unwrap();
    steps.last().unwrap()["message"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn tls_cases_pass_against_mosquitto_requiring_client_certificates() {
    let certs = pki(&[]);
    let b = common::Mosquitto::start_tls(certs.path());
    let url = format!("mqtts://127.0.0.1:{}", b.port);
    let (cases, code, out) = run(&url, certs.path(), true);
    assert_eq!(
        cases.len(),
        REFUSALS.len() + SUITE_REFUSALS.len() + 1,
        "{out}"
    );
    for (id, c) in &cases {
        assert_eq!(c["verdict"], "pass", "{id}: {}\n{out}", c["reason"]);
    }
    assert_eq!(code, 0, "{out}");
    // The reason of each refusal is in the report: the broker's alert, or
    // what rustls said about the broker's certificate.
    let reasons: &[(&str, &[&str])] = &[
        (
            "mtls-no-client-cert-refused",
            &["certificate_required", "handshake_failure"],
        ),
        (
            "mtls-foreign-ca-client-cert-refused",
            &["unknown_ca", "bad_certificate"],
        ),
        ("mtls-expired-client-cert-refused", &["certificate_expired"]),
        (
            "mtls-notyet-client-cert-refused",
            &["bad_certificate", "certificate_expired"],
        ),
        (
            "mtls-no-clientauth-eku-refused",
            &["unsupported_certificate", "bad_certificate"],
        ),
        (
            "tls-wrong-server-name-refused",
            &["not valid for name \"wrong.invalid\""],
        ),
        ("tls-unknown-ca-broker-refused", &["UnknownIssuer"]),
    ];
    for (id, want) in reasons {
        let m = last_message(&cases[*id]);
        assert!(want.iter().any(|w| m.contains(w)), "{id}: {m}\n{out}");
    }
}

#[test]
fn client_certificate_refusal_cases_fail_against_a_lax_broker() {
    let certs = pki(&[]);
    let plain = common::Mosquitto::start();
    let d = certs.path();
    let lax =
        common::lax_tls::LaxTls::start(&d.join("server.pem"), &d.join("server.key"), plain.port);
    let (cases, code, out) = run(&lax.url(), d, true);
    for (id, statement) in REFUSALS {
        let c = &cases[*id];
        assert_eq!(c["verdict"], "fail", "{id}\n{out}");
        assert_eq!(c["failed_statement"], *statement, "{id}\n{out}");
        let reason = c["reason"].as_str().unwrap();
        assert!(
            reason.contains("the broker accepted") && reason.contains("CONNACK 0x00"),
            "{id}: {reason}"
        );
    }
    let expired = cases["mtls-expired-client-cert-refused"]["reason"]
        .as_str()
        .unwrap();
    assert!(
        expired.contains(
            "the broker accepted an expired client certificate (client-expired.pem): CONNACK 0x00"
        ),
        "{expired}"
    );
    // The terminal report says it too, under the failing case.
    assert!(
        out.contains("why: [RFC5280-6.1.3] step 3 (connect bad, line 24): the broker accepted an expired client certificate"),
        "{out}"
    );
    // What the lax broker does right still passes.
    assert_eq!(verdict(&cases, ACCEPTED), "pass", "{out}");
    for (id, _) in SUITE_REFUSALS {
        assert_eq!(verdict(&cases, id), "pass", "{id}\n{out}");
    }
    assert_eq!(code, 1, "{out}");
}

#[test]
fn suite_refusal_cases_fail_when_the_broker_certificate_matches() {
    // The broker's certificate also names wrong.invalid, and the "foreign"
    // CA is in fact the broker's CA: the suite must accept, so both fail.
    let certs = pki(&[mqttspec::pki::WRONG_HOST]);
    let d = certs.path();
    std::fs::copy(d.join("ca.pem"), d.join("foreign-ca.pem")).unwrap();
    let b = common::Mosquitto::start_tls(d);
    let url = format!("mqtts://127.0.0.1:{}", b.port);
    let (cases, code, out) = run(&url, d, true);
    for (id, statement) in SUITE_REFUSALS {
        let c = &cases[*id];
        assert_eq!(c["verdict"], "fail", "{id}\n{out}");
        assert_eq!(c["failed_statement"], *statement, "{id}\n{out}");
        let reason = c["reason"].as_str().unwrap();
        assert!(
            reason.contains("the suite accepted the broker's certificate"),
            "{id}: {reason}"
        );
    }
    assert!(
        cases["tls-wrong-server-name-refused"]["reason"]
            .as_str()
            .unwrap()
            .contains("for wrong.invalid"),
        "{out}"
    );
    for (id, _) in REFUSALS {
        assert_eq!(verdict(&cases, id), "pass", "{id}\n{out}");
    }
    assert_eq!(code, 1, "{out}");
}

#[test]
fn fixtures_of_another_pki_make_the_client_certificate_cases_inconclusive() {
    // The broker trusts only its own CA: every fixture client certificate
    // is refused, for a reason the cases cannot attribute to the broker.
    let certs = pki(&[]);
    let other = pki(&[]);
    let b = common::Mosquitto::start_tls(certs.path());
    let url = format!("mqtts://127.0.0.1:{}", b.port);
    let (cases, code, out) = run_with_fixtures(&url, certs.path(), other.path(), true);
    for (id, _) in REFUSALS {
        assert_eq!(verdict(&cases, id), "inconclusive", "{id}\n{out}");
    }
    assert_eq!(verdict(&cases, ACCEPTED), "inconclusive", "{out}");
    let why = cases[ACCEPTED]["reason"].as_str().unwrap();
    assert!(
        why.contains("unknown_ca") || why.contains("closed"),
        "{why}"
    );
    for (id, _) in SUITE_REFUSALS {
        assert_eq!(verdict(&cases, id), "pass", "{id}\n{out}");
    }
    assert_eq!(code, 0, "{out}");
}

#[test]
fn tls_cases_are_skipped_on_a_plain_target() {
    let certs = pki(&[]);
    let b = common::Mosquitto::start();
    let (cases, code, out) = run(&b.url(), certs.path(), false);
    assert_eq!(
        cases.len(),
        REFUSALS.len() + SUITE_REFUSALS.len() + 1,
        "{out}"
    );
    for (id, c) in &cases {
        assert_eq!(c["verdict"], "skip", "{id}\n{out}");
        assert!(
            c["reason"].as_str().unwrap().starts_with("not applicable"),
            "{id}"
        );
    }
    assert_eq!(code, 0, "{out}");
}

#[test]
fn client_certificate_cases_are_skipped_without_a_client_certificate() {
    let certs = pki(&[]);
    let plain = common::Mosquitto::start();
    let d = certs.path();
    let lax =
        common::lax_tls::LaxTls::start(&d.join("server.pem"), &d.join("server.key"), plain.port);
    let (cases, code, out) = run(&lax.url(), d, false);
    for (id, _) in REFUSALS {
        assert_eq!(verdict(&cases, id), "skip", "{id}\n{out}");
        assert!(
            cases[*id]["reason"].as_str().unwrap().contains("--cert"),
            "{id}"
        );
    }
    assert_eq!(verdict(&cases, ACCEPTED), "skip", "{out}");
    for (id, _) in SUITE_REFUSALS {
        assert_eq!(verdict(&cases, id), "pass", "{id}\n{out}");
    }
    assert_eq!(code, 0, "{out}");
}
