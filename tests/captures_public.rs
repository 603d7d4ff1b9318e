//! Golden tests of the public captures in `../shared/captures-public`
//! (origins in its SOURCES.md): our MQTT message counts equal tshark's
//! recorded there, findings are exactly the expected ones, and each
//! analysis is snapshotted. Skipped when the folder is missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use mqttspec::analyze::model::FileReport;
use mqttspec::analyze::{analyze_file, Config};

fn public_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/captures-public");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("{} missing: public captures skipped", dir.display());
        None
    }
}

/// Analyze `file` with `extra_ports` added to the MQTT ports; assert the
/// MQTT message count (tshark's, from SOURCES.md), the findings as
/// (rule, frame, actor), and the snapshot.
fn check(
    file: &str,
    extra_ports: &[u16],
    tshark_messages: u64,
    expected: &[(&str, u64, &str)],
) -> Option<FileReport> {
    let dir = public_dir()?;
    let mut cfg = Config::default();
    cfg.ports.extend_from_slice(extra_ports);
    let report = analyze_file(&dir.join(file), &cfg);
    assert!(report.error.is_none(), "{file}: {:?}", report.error);
    let got: Vec<(String, u64, String)> = report
        .flows
        .iter()
        .flat_map(|f| &f.findings)
        .map(|x| {
            let actor = serde_json::to_value(x.actor).unwrap();
            (
                x.rule.to_string(),
                x.frame,
                actor.as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, u64, String)> = expected
        .iter()
        .map(|(r, f, a)| (r.to_string(), *f, a.to_string()))
        .collect();
    assert_eq!(got, want, "{file}: findings");
    assert_eq!(
        report.mqtt_packets, tshark_messages,
        "{file}: MQTT messages"
    );
    let mut snap = report.clone();
    snap.file = format!("captures-public/{file}");
    let name = file.trim_end_matches(".pcap");
    insta::assert_json_snapshot!(name, snap);
    Some(report)
}

/// Stream problems of the file as (frame, message).
fn problems(r: &FileReport) -> Vec<(Option<u64>, String)> {
    r.flows
        .iter()
        .flat_map(|f| &f.problems)
        .map(|p| (p.frame, p.message.clone()))
        .collect()
}

/// Stream 1: CONNECT (frame 8), PUBLISH + DISCONNECT + FIN (frame 9), then the
/// server's CONNACK (frame 10) after the client's FIN; tshark counts 20.
#[test]
fn zeek_mqtt() {
    check("zeek-mqtt.pcap", &[], 20, &[]);
}

#[test]
fn ndpi_mqtt() {
    let Some(r) = check("ndpi-mqtt.pcap", &[], 8, &[]) else {
        return;
    };
    assert_eq!(r.flows.len(), 2);
}

#[test]
fn ndpi_coap_mqtt_on_port_17501() {
    let Some(r) = check("ndpi-coap_mqtt.pcap", &[17_501], 153, &[]) else {
        return;
    };
    assert_eq!(r.flows.len(), 4);
    // Three flows start mid-connection: their version is guessed.
    assert_eq!(r.flows.iter().filter(|f| f.version_guessed).count(), 3);
}

#[test]
fn suricata_mqtt311_pub_qos2() {
    check("suricata-verify-mqtt311-pub-qos2.pcap", &[], 7, &[]);
}

#[test]
fn suricata_mqtt5_pub_mosquittoprops() {
    check("suricata-verify-mqtt5-pub-mosquittoprops.pcap", &[], 5, &[]);
}

#[test]
fn suricata_mqtt5_pub_jpeg() {
    check("suricata-verify-mqtt5_pub_jpeg.pcap", &[], 4, &[]);
}

/// The client's 16-byte CONNECT was never captured (tshark: "ACKed unseen
/// segment" at frame 15): a gap, not a missing-CONNECT finding.
#[test]
fn suricata_missing_connect() {
    let Some(r) = check(
        "suricata-verify-mqtt-events-missing-connect.pcap",
        &[],
        21,
        &[],
    ) else {
        return;
    };
    let p = problems(&r);
    assert_eq!(p[0].0, Some(15));
    assert!(p[0].1.contains("first 16 bytes are missing"), "{p:?}");
}

/// PUBLISH with QoS bits 11 at frame 8; the server's 4-byte reply was not
/// captured (tshark: "ACKed unseen segment" at frame 9).
#[test]
fn suricata_invalid_qos() {
    let Some(r) = check(
        "suricata-verify-mqtt-events-invalid-qos.pcap",
        &[],
        4,
        &[("MQTT-3.3.1-4", 8, "client")],
    ) else {
        return;
    };
    let p = problems(&r);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].0, Some(9));
    assert!(p[0].1.contains("4 bytes missing"), "{p:?}");
}

/// A packet of the reserved type 0 from the client: reported as a malformed
/// packet (a flow problem), not as a rule finding.
#[test]
fn suricata_unassigned_msgtype() {
    let Some(r) = check(
        "suricata-verify-mqtt-events-unassigned-msgtype.pcap",
        &[],
        4,
        &[],
    ) else {
        return;
    };
    let p = problems(&r);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].0, Some(8));
    assert!(p[0].1.contains("RESERVED"), "{p:?}");
}

#[test]
fn suricata_midstream_split() {
    let Some(r) = check("suricata-verify-mqtt-midstream-split.pcap", &[], 3, &[]) else {
        return;
    };
    assert_eq!(r.flows[0].roles_from, "connack");
}
