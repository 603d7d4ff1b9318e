//! One engine for live and offline judging: the faulty client of
//! `faulty_client/` talks to `mqttspec serve --watch` while dumpcap records
//! the loopback traffic; `mqttspec analyze` of that capture must name the
//! same client findings (statement, check) as the watch did.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod faulty_client;

use faulty_client::{converse, findings, Fault, Watch};
use mqttspec::codec::Version;

#[test]
fn analyze_of_a_watched_device_finds_what_the_watch_found() {
    let w = Watch::watch();
    let port = w.port.to_string();
    let dir = tempfile::tempdir().unwrap();
    let recording = common::dumpcap::Recording::start(dir.path(), "device.pcapng", &[w.port]);
    for fault in [
        Fault::DupOnQos0,
        Fault::WildcardInTopicName,
        Fault::PubacksOutOfOrder,
    ] {
        converse(&w, fault, Version::V311);
    }
    let (_, text, report) = w.stop();
    let live: Vec<(String, String)> = findings(&report)
        .into_iter()
        .map(|(rule, check, _)| (rule, check))
        .collect();
    assert_eq!(live.len(), 3, "{text}");

    let pcap = recording.stop();

    let json = dir.path().join("analysis.json");
    let out = common::mqttspec(&[
        "analyze",
        "--port",
        &port,
        pcap.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let analysis: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let mut offline: Vec<(String, String)> = analysis["files"][0]["flows"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["findings"].as_array().unwrap().clone())
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["check"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut live = live;
    live.sort();
    offline.sort();
    assert_eq!(
        offline,
        live,
        "{}\n{text}",
        String::from_utf8_lossy(&out.stdout)
    );
}
