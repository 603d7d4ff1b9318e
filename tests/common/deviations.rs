//! The known deviations of a real broker (tests/known-deviations/) and the
//! check of a run's JSON report against them: listed cases fail on their
//! statement, every other case that ran passes (or is non-strict; TLS cases
//! may be skipped on targets without TLS).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

#[derive(Deserialize)]
struct Deviations {
    deviation: Vec<Deviation>,
}

/// One real deviation of a broker, with its evidence.
#[derive(Deserialize)]
pub struct Deviation {
    pub case: String,
    pub statement: String,
    pub evidence: String,
    pub reason: String,
    /// Fails in some runs only (timing): a pass is tolerated too.
    #[serde(default)]
    pub intermittent: bool,
}

/// The deviations listed in tests/known-deviations/`file` (none if absent).
pub fn load(file: &str) -> BTreeMap<String, Deviation> {
    let path = super::root().join("tests/known-deviations").join(file);
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

/// Every problem of `report` against `known` (`broker` names it in messages).
/// Deviations of cases that did not run (e.g. `ws` cases over TCP) are not
/// checked, but each must name an existing case.
pub fn check(
    report: &serde_json::Value,
    known: &BTreeMap<String, Deviation>,
    broker: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    let cases = report["cases"].as_array().unwrap();
    for c in cases {
        let id = c["id"].as_str().unwrap();
        let verdict = c["verdict"].as_str().unwrap();
        match known.get(id) {
            Some(d) => {
                if verdict == "pass" && d.intermittent {
                    continue;
                }
                if verdict != "fail" {
                    problems.push(format!(
                        "{id}: listed as a known deviation of {broker} but {verdict}"
                    ));
                } else if c["failed_statement"].as_str() != Some(d.statement.as_str()) {
                    problems.push(format!(
                        "{id}: known deviation of {} but failed on {}",
                        d.statement, c["failed_statement"]
                    ));
                }
            }
            None => {
                // TLS cases do not apply to a plain-TCP or WebSocket target.
                let tls_case = c["tags"]
                    .as_array()
                    .is_some_and(|tags| tags.iter().any(|t| t == "tls" || t == "mtls"));
                if tls_case && verdict == "skip" {
                    continue;
                }
                if verdict != "pass" && verdict != "non-strict" {
                    problems.push(format!("{id}: {verdict}: {}", c["reason"]));
                }
            }
        }
    }
    let all: BTreeSet<String> = mqttspec::case::load_paths(&[super::root().join("cases")])
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    for id in known.keys() {
        if !all.contains(id) {
            problems.push(format!(
                "{id}: known deviation names a case that does not exist"
            ));
        }
    }
    problems
}
