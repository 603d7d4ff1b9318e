//! The whole suite against a real mosquitto (Debian package) started on a
//! free loopback port: every case passes (or is non-strict) except the real
//! deviations of that mosquitto version, which are listed with their evidence
//! in tests/known-deviations/ and asserted to fail. Cases tagged `tls` or
//! `mtls` are skipped on this plain-TCP target (tests/tls_cases.rs runs them).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Deserialize)]
struct Deviations {
    deviation: Vec<Deviation>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Deviation {
    case: String,
    statement: String,
    evidence: String,
    reason: String,
    /// Fails in some runs only (timing): a pass is tolerated too.
    #[serde(default)]
    intermittent: bool,
}

fn known_deviations(version: &str) -> BTreeMap<String, Deviation> {
    let path = common::root().join(format!("tests/known-deviations/mosquitto-{version}.toml"));
    match std::fs::read_to_string(&path) {
        Ok(t) => toml::from_str::<Deviations>(&t)
            .unwrap()
            .deviation
            .into_iter()
            .map(|d| (d.case.clone(), d))
            .collect(),
        Err(_) => BTreeMap::new(),
    }
}

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
    let known = known_deviations(&version);
    let mut problems = Vec::new();
    for c in report["cases"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        let verdict = c["verdict"].as_str().unwrap();
        match known.get(id) {
            Some(d) => {
                if verdict == "pass" && d.intermittent {
                    continue;
                }
                if verdict != "fail" {
                    problems.push(format!(
                        "{id}: listed as a known deviation of mosquitto {version} but {verdict}"
                    ));
                } else if c["failed_statement"].as_str() != Some(d.statement.as_str()) {
                    problems.push(format!(
                        "{id}: known deviation of {} but failed on {}",
                        d.statement, c["failed_statement"]
                    ));
                }
            }
            None => {
                // TLS cases do not apply to this plain-TCP target.
                let tls_case = c["tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|t| t == "tls" || t == "mtls");
                if tls_case && verdict == "skip" {
                    continue;
                }
                if verdict != "pass" && verdict != "non-strict" {
                    problems.push(format!("{id}: {verdict}: {}", c["reason"]));
                }
            }
        }
    }
    for id in known.keys() {
        if !report["cases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == id.as_str())
        {
            problems.push(format!(
                "{id}: known deviation names a case that does not exist"
            ));
        }
    }
    assert!(problems.is_empty(), "{}\n\n{out}", problems.join("\n"));
    let failed = report["summary"]["fail"].as_u64().unwrap();
    let expected_code = if failed == 0 { 0 } else { 1 };
    assert_eq!(o.status.code(), Some(expected_code), "{out}");
}
