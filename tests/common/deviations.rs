//! The known deviations of a real broker or client (tests/known-deviations/)
//! and the check of a run's JSON report against them: listed cases fail on
//! their statement, cases listed as not applicable are skipped as such,
//! every other case that ran passes (or is non-strict; TLS cases may be
//! skipped on targets without TLS).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

#[derive(Deserialize)]
struct Deviations {
    #[serde(default)]
    deviation: Vec<Deviation>,
    #[serde(default)]
    not_applicable: Vec<NotApplicable>,
}

/// What a file of known deviations lists.
#[derive(Default)]
pub struct Known {
    pub deviations: BTreeMap<String, Deviation>,
    pub not_applicable: BTreeMap<String, NotApplicable>,
}

/// A case the peer cannot be made to play (e.g. a client program that
/// cannot reconnect): its driver says so and the case is skipped.
#[derive(Deserialize)]
pub struct NotApplicable {
    pub case: String,
    pub reason: String,
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

/// What tests/known-deviations/`file` lists (nothing if absent).
pub fn load(file: &str) -> Known {
    let path = super::root().join("tests/known-deviations").join(file);
    match std::fs::read_to_string(&path) {
        Ok(t) => {
            let d = toml::from_str::<Deviations>(&t).unwrap();
            Known {
                deviations: d
                    .deviation
                    .into_iter()
                    .map(|d| (d.case.clone(), d))
                    .collect(),
                not_applicable: d
                    .not_applicable
                    .into_iter()
                    .map(|n| (n.case.clone(), n))
                    .collect(),
            }
        }
        Err(_) => Known::default(),
    }
}

/// Every problem of `report` against `known` (`broker` names it in messages).
/// Deviations of cases that did not run (e.g. `ws` cases over TCP) are not
/// checked, but each must name an existing case.
pub fn check(report: &serde_json::Value, known: &Known, broker: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let cases = report["cases"].as_array().unwrap();
    for c in cases {
        let id = c["id"].as_str().unwrap();
        let verdict = c["verdict"].as_str().unwrap();
        if known.not_applicable.contains_key(id) {
            let reason = c["reason"].as_str().unwrap_or_default();
            if verdict != "skip" || !reason.starts_with("not applicable") {
                problems.push(format!(
                    "{id}: listed as not applicable to {broker} but {verdict}: {reason}"
                ));
            }
            continue;
        }
        match known.deviations.get(id) {
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
    for id in known.deviations.keys().chain(known.not_applicable.keys()) {
        if !all.contains(id) {
            problems.push(format!(
                "{id}: known deviation names a case that does not exist"
            ));
        }
    }
    problems
}
