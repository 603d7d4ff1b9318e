//! The whole suite against a real mosquitto (Debian package) started on a
//! free loopback port: every case passes (or is non-strict) except the real
//! deviations of that mosquitto version, which are listed with their evidence
//! in tests/known-deviations/ and asserted to fail. Cases tagged `tls` or
//! `mtls` are skipped on this plain-TCP target (tests/tls_cases.rs runs them).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[test]
fn whole_suite_against_mosquitto() {
    let broker = common::Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let o = common::mqttspec(&[
        "run",
        "--target",
        &broker.url(),
        "--jobs",
        "8",
        "--json",
        json.to_str().unwrap(),
    ]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap())
        .unwrap_or_else(|e| panic!("{e}\n{out}"));
    let version = common::mosquitto_version();
    let known = common::deviations::load(&format!("mosquitto-{version}.toml"));
    let problems = common::deviations::check(&report, &known, &format!("mosquitto {version}"));
    assert!(problems.is_empty(), "{}\n\n{out}", problems.join("\n"));
    let failed = report["summary"]["fail"].as_u64().unwrap();
    let expected_code = if failed == 0 { 0 } else { 1 };
    assert_eq!(o.status.code(), Some(expected_code), "{out}");
}
