//! MQTT over WebSocket in captures: a real client (Eclipse Paho, Python)
//! publishes through a real mosquitto's WebSocket listener while dumpcap
//! records; `mqttspec analyze` finds the flow by its HTTP upgrade (on a port
//! that is not an MQTT port), decodes every packet from the WebSocket
//! frames and finds nothing to report. The sample captures
//! `websocket.pcapng` and `violation-websocket-text-frame.pcapng`
//! (tests/captures.rs) cover split and coalesced frames and a text frame.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use rstest::rstest;
use serde_json::Value;

#[rstest]
#[case::v311(&[][..])]
#[case::v5(&["v5"][..])]
fn a_real_websocket_session_is_decoded_without_findings(#[case] extra: &[&str]) {
    let broker = common::Mosquitto::start_websockets("");
    let ws_port = broker.ws_port.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let recording = common::dumpcap::Recording::start(dir.path(), "ws.pcapng", &[ws_port]);
    let mut trigger = vec!["publish", "qos=2", "count=3"];
    trigger.extend(extra);
    let status = Command::new("/usr/bin/python3")
        .arg("tests/device/paho-client.py")
        .args(["--websockets", "127.0.0.1", &ws_port.to_string()])
        .args(["wsclient", "ws/t"])
        .args(&trigger)
        .status()
        .expect("python3 with paho-mqtt is installed");
    assert!(status.success());
    let pcap = recording.stop();

    let json = dir.path().join("analysis.json");
    let out = common::mqttspec(&[
        "analyze",
        pcap.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let analysis: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let flows = analysis["files"][0]["flows"].as_array().unwrap();
    assert_eq!(flows.len(), 1, "{text}");
    let f = &flows[0];
    assert_eq!(f["client_id"], "wsclient", "{text}");
    assert_eq!(f["roles_from"], "websocket", "{text}");
    assert_eq!(f["websocket"]["request"], "GET /mqtt HTTP/1.1", "{text}");
    assert_eq!(f["websocket"]["chosen"][0], "mqtt", "{text}");
    assert_eq!(f["findings"].as_array().unwrap().len(), 0, "{text}");
    assert_eq!(f["problems"].as_array().unwrap().len(), 0, "{text}");
    let p = &f["packets"];
    for (t, n) in [
        ("CONNECT", 1),
        ("CONNACK", 1),
        ("PUBLISH", 3),
        ("PUBREC", 3),
        ("PUBREL", 3),
        ("PUBCOMP", 3),
        ("DISCONNECT", 1),
    ] {
        assert_eq!(p[t], n, "{t}: {text}");
    }
    let version = if extra.is_empty() { "3.1.1" } else { "5.0" };
    assert_eq!(f["version"], version, "{text}");
}
