//! Golden tests of the sample captures in `captures/`: each file is
//! regenerated and compared byte for byte, analyzed, checked for exactly the
//! expected findings (rule, frame, actor), snapshotted as JSON, and its MQTT
//! message count compared with tshark's where tshark is installed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod capture_gen;

use std::path::{Path, PathBuf};
use std::process::Command;

use mqttspec::analyze::model::FileReport;
use mqttspec::analyze::{analyze_file, Config};

fn captures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("captures")
}

/// What tshark 4.0 counts for a capture.
#[derive(Debug, Clone, Copy)]
enum Tshark {
    /// The same number of MQTT messages as we do.
    Agrees,
    /// A known miscount: tshark's number with its default settings and with
    /// `-o tcp.reassemble_out_of_order:TRUE`.
    Miscounts { default: u64, out_of_order: u64 },
}

/// tshark 4.0 shows the WebSocket frames of MQTT over WebSocket but does not
/// decode the MQTT packets in them.
const NO_MQTT_IN_WEBSOCKET: Tshark = Tshark::Miscounts {
    default: 0,
    out_of_order: 0,
};

fn analyze(file: &str) -> FileReport {
    let report = analyze_file(&captures_dir().join(file), &Config::default());
    assert!(report.error.is_none(), "{file}: {:?}", report.error);
    report
}

/// Every finding of the file as (rule, frame, actor).
fn findings(r: &FileReport) -> Vec<(String, u64, String)> {
    r.flows
        .iter()
        .flat_map(|f| &f.findings)
        .map(|x| {
            let actor = serde_json::to_value(x.actor).unwrap();
            (
                x.rule.to_string(),
                x.frame,
                actor.as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Stream problems of the file (gaps, unframeable bytes) as (frame, message).
fn problems(r: &FileReport) -> Vec<(Option<u64>, String)> {
    r.flows
        .iter()
        .flat_map(|f| &f.problems)
        .map(|p| (p.frame, p.message.clone()))
        .collect()
}

/// MQTT messages tshark decodes (`mqtt.msgtype` values, comma-separated per
/// frame), or None when tshark is not installed.
fn tshark_count(path: &Path, out_of_order: bool) -> Option<u64> {
    let mut cmd = Command::new("tshark");
    if out_of_order {
        cmd.args(["-o", "tcp.reassemble_out_of_order:TRUE"]);
    }
    cmd.arg("-r")
        .arg(path)
        .args(["-Y", "mqtt", "-T", "fields", "-e", "mqtt.msgtype"]);
    let out = cmd.output().ok()?;
    assert!(out.status.success(), "tshark failed on {}", path.display());
    let text = String::from_utf8_lossy(&out.stdout);
    Some(
        text.lines()
            .flat_map(|l| l.split(','))
            .filter(|t| !t.trim().is_empty())
            .count() as u64,
    )
}

/// Analyze `file`, assert its findings are exactly `expected`, its MQTT
/// packet count, its snapshot and tshark's count.
fn check(file: &str, packets: u64, expected: &[(&str, u64, &str)], tshark: Tshark) -> FileReport {
    let report = analyze(file);
    let want: Vec<(String, u64, String)> = expected
        .iter()
        .map(|(r, f, a)| (r.to_string(), *f, a.to_string()))
        .collect();
    assert_eq!(findings(&report), want, "{file}: findings");
    assert_eq!(report.mqtt_packets, packets, "{file}: MQTT packets");
    let mut snap = report.clone();
    snap.file = format!("captures/{file}");
    let name = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
    insta::assert_json_snapshot!(name, snap);
    let path = captures_dir().join(file);
    match (tshark_count(&path, false), tshark) {
        (None, _) => eprintln!("tshark not installed: count of {file} not compared"),
        (Some(n), Tshark::Agrees) => assert_eq!(n, packets, "{file}: tshark's count"),
        (
            Some(n),
            Tshark::Miscounts {
                default,
                out_of_order,
            },
        ) => {
            assert_eq!(n, default, "{file}: tshark's (wrong) count");
            assert_eq!(
                tshark_count(&path, true),
                Some(out_of_order),
                "{file}: tshark's count with out-of-order reassembly"
            );
            assert!(
                n != packets || out_of_order != packets,
                "{file}: tshark no longer miscounts"
            );
        }
    }
    report
}

#[test]
fn committed_captures_match_the_generator() {
    let tmp = tempfile::tempdir().unwrap();
    let written = capture_gen::write_all(tmp.path()).unwrap();
    for path in &written {
        let name = path.file_name().unwrap();
        let committed = std::fs::read(captures_dir().join(name))
            .unwrap_or_else(|e| panic!("{}: {e}", name.to_string_lossy()));
        let fresh = std::fs::read(path).unwrap();
        assert!(
            committed == fresh,
            "captures/{} differs from the generator: run `cargo run --example gen_captures`",
            name.to_string_lossy()
        );
        assert!(
            fresh.len() < 8 * 1024,
            "{} is not small",
            name.to_string_lossy()
        );
    }
    // Nothing in captures/ that the generator does not make.
    let mut names: Vec<String> = std::fs::read_dir(captures_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "README.md")
        .collect();
    names.sort();
    let mut made: Vec<String> = capture_gen::samples()
        .into_iter()
        .map(|s| s.file.to_string())
        .collect();
    made.sort();
    assert_eq!(names, made);
}

/// The clean session captured in one direction only (`tcpdump dst port
/// 1883`, or its opposite): the packets of the side captured are counted
/// and judged alone, the missing side is one problem per flow, and nothing
/// that needs both sides (acks, packet ids in flight, who closed) is
/// concluded: no finding.
#[rstest::rstest]
#[case("one-way-to-server.pcapng", 24, "server→client", [81, 106])]
#[case("one-way-to-client.pcapng", 22, "client→server", [135, 108])]
fn one_way(
    #[case] file: &str,
    #[case] packets: u64,
    #[case] missing: &str,
    #[case] acked: [u64; 2],
) {
    let r = check(file, packets, &[], Tshark::Agrees);
    assert_eq!(r.flows.len(), 2);
    for (f, n) in r.flows.iter().zip(acked) {
        let p: Vec<&str> = f.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with(&format!(
                "{missing}: nothing of this direction is in the capture, though the peer acknowledged {n} bytes"
            )),
            "{p:?}"
        );
        assert_eq!(f.closed_by, "unknown");
        // The close was seen; only who sent it is unknown.
        assert!(f.close_frame.is_some());
    }
}

#[test]
fn clean_multi_client() {
    let r = check("clean-multi-client.pcapng", 46, &[], Tshark::Agrees);
    assert_eq!(r.flows.len(), 2);
    assert!(problems(&r).is_empty());
    for f in &r.flows {
        assert_eq!(f.packets["PUBLISH"], 7);
        assert_eq!(f.closed_by, "client");
    }
}

#[test]
fn segmented() {
    let r = check("segmented.pcapng", 4, &[], Tshark::Agrees);
    assert!(problems(&r).is_empty());
    assert_eq!(r.flows[0].packets["PUBLISH"], 1);
}

#[test]
fn coalesced() {
    let r = check("coalesced.pcapng", 11, &[], Tshark::Agrees);
    assert!(problems(&r).is_empty());
}

#[test]
fn out_of_order() {
    let r = check(
        "out-of-order.pcapng",
        6,
        &[],
        Tshark::Miscounts {
            default: 3,
            out_of_order: 6,
        },
    );
    assert!(problems(&r).is_empty());
    assert_eq!(r.flows[0].packets["PUBLISH"], 1);
}

#[test]
fn retransmission() {
    let r = check(
        "retransmission.pcapng",
        7,
        &[],
        Tshark::Miscounts {
            default: 6,
            out_of_order: 7,
        },
    );
    assert!(problems(&r).is_empty());
    assert_eq!(r.flows[0].packets["PUBLISH"], 1);
    assert_eq!(r.flows[0].packets["DISCONNECT"], 1);
}

/// The segment dropped lies inside a PUBLISH whose fixed header was
/// captured: framing goes on right after that PUBLISH, with nothing to
/// guess (and the PUBLISH, never seen whole, is not counted).
#[test]
fn gap() {
    let r = check("gap.pcapng", 7, &[], Tshark::Agrees);
    let p = problems(&r);
    assert_eq!(
        p,
        [(
            Some(9),
            "client→server: 40 bytes missing from the capture inside a PUBLISH of 109 bytes; \
             framing goes on after it"
                .to_string()
        )]
    );
}

/// The dropped segment held the PUBLISH's fixed header, and the rest of it
/// is payload digits that look like PUBLISH headers: framing resumes at the
/// next real packet, and none is invented.
#[test]
fn gap_misleading_payload() {
    let r = check(
        "gap-misleading-payload.pcapng",
        7,
        &[],
        Tshark::Miscounts {
            default: 5,
            out_of_order: 4,
        },
    );
    let p = problems(&r);
    assert!(p[0].1.contains("40 bytes missing"), "{p:?}");
    assert!(p[1].1.contains("framing resumed after the gap"), "{p:?}");
    assert_eq!(p.len(), 2, "{p:?}");
}

/// A snapshot length of 80 bytes: each cut packet is counted (as tshark
/// does) and framing goes on after it; a packet whose start was cut off
/// with the end of the one before it is lost, and framing resumes at the
/// next one.
#[test]
fn snaplen() {
    let r = check("snaplen.pcapng", 8, &[], Tshark::Agrees);
    assert_eq!(r.flows[0].packets["PUBLISH"], 3);
    assert!(!r.flows[0].packets.contains_key("PINGREQ"));
    let p = problems(&r);
    let frames: Vec<Option<u64>> = p.iter().map(|(f, _)| *f).collect();
    assert_eq!(frames, [Some(6), Some(8), Some(9), Some(11)], "{p:?}");
    assert!(
        p[0].1
            .contains("inside a PUBLISH of 213 bytes; framing goes on"),
        "{p:?}"
    );
    assert!(
        p[2].1
            .contains("among them the end of a PUBLISH of 110 bytes"),
        "{p:?}"
    );
}

#[test]
fn varint_split() {
    let r = check(
        "varint-split.pcapng",
        6,
        &[],
        Tshark::Miscounts {
            default: 5,
            out_of_order: 5,
        },
    );
    assert!(problems(&r).is_empty());
    assert_eq!(r.flows[0].packets["PUBLISH"], 1);
}

#[test]
fn ipv6() {
    let r = check("ipv6.pcapng", 9, &[], Tshark::Agrees);
    assert_eq!(r.flows[0].client, "[2001:db8::10]:50020");
}

#[test]
fn linux_sll() {
    check("linux-sll.pcap", 9, &[], Tshark::Agrees);
}

#[test]
fn linux_sll2() {
    check("linux-sll2.pcapng", 9, &[], Tshark::Agrees);
}

#[test]
fn two_interfaces() {
    let r = check("two-interfaces.pcapng", 8, &[], Tshark::Agrees);
    assert_eq!(r.flows.len(), 2);
    assert!(r.notices.is_empty(), "{:?}", r.notices);
}

#[test]
fn mqtt5_properties() {
    let r = check("mqtt5-properties.pcapng", 11, &[], Tshark::Agrees);
    assert_eq!(r.flows[0].version, Some("5.0"));
    assert_eq!(r.flows[0].packets["PUBLISH"], 4);
}

#[test]
fn tls_mutual_auth_ok() {
    let r = check("tls-mutual-auth-ok.pcapng", 0, &[], Tshark::Agrees);
    let tls = r.flows[0].tls.as_ref().unwrap();
    assert!(tls.certificate_requested);
    assert_eq!(tls.client_certificate, "sent");
    assert!(tls.handshake_complete);
    assert_eq!(
        tls.diagnosis,
        "handshake completed (with a client certificate)"
    );
}

/// The failed handshake with only the broker's frames: still a TLS flow
/// (its ServerHello tells), not bytes decoded as MQTT, the diagnosis comes
/// from what the broker sent, and the missing side is one problem.
#[test]
fn one_way_tls_to_client() {
    let r = check("one-way-tls-to-client.pcapng", 0, &[], Tshark::Agrees);
    assert_eq!(r.flows.len(), 1);
    let p: Vec<&str> = r.flows[0]
        .problems
        .iter()
        .map(|p| p.message.as_str())
        .collect();
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with(
            "client→server: nothing of this direction is in the capture, though the peer acknowledged 186 bytes"
        ),
        "{p:?}"
    );
    assert_eq!(r.flows[0].closed_by, "unknown");
    assert!(r.flows[0].close_frame.is_some());
    let tls = r.flows[0].tls.as_ref().unwrap();
    assert!(tls.certificate_requested);
    assert!(!tls.handshake_complete);
    assert!(
        tls.diagnosis
            .contains("fatal alert handshake_failure from the server"),
        "{}",
        tls.diagnosis
    );
}

#[test]
fn tls_mutual_auth_fail() {
    let r = check("tls-mutual-auth-fail.pcapng", 0, &[], Tshark::Agrees);
    let tls = r.flows[0].tls.as_ref().unwrap();
    assert!(tls.certificate_requested);
    assert_eq!(tls.client_certificate, "empty");
    assert!(!tls.handshake_complete);
    assert_eq!(
        tls.diagnosis,
        "the server required a client certificate and the client sent none: fatal alert handshake_failure from the server"
    );
}

#[test]
fn violation_first_not_connect() {
    check(
        "violation-first-not-connect.pcapng",
        1,
        &[("MQTT-3.1.0-1", 4, "client")],
        Tshark::Agrees,
    );
}

#[test]
fn violation_second_connect() {
    check(
        "violation-second-connect.pcapng",
        6,
        &[("MQTT-3.1.0-2", 6, "client"), ("MQTT-3.1.0-2", 8, "server")],
        Tshark::Agrees,
    );
}

#[test]
fn violation_subscribe_flags() {
    check(
        "violation-subscribe-flags.pcapng",
        3,
        &[("MQTT-3.8.1-1", 6, "client")],
        Tshark::Agrees,
    );
}

#[test]
fn violation_dup_qos0() {
    check(
        "violation-dup-qos0.pcapng",
        4,
        &[("MQTT-3.3.1-2", 6, "client")],
        Tshark::Agrees,
    );
}

#[test]
fn violation_dollar_topic_to_hash() {
    check(
        "violation-dollar-topic-to-hash.pcapng",
        7,
        &[("MQTT-4.7.2-1", 8, "server")],
        Tshark::Agrees,
    );
}

#[test]
fn violation_redelivery_without_dup() {
    check(
        "violation-redelivery-without-dup.pcapng",
        6,
        &[("MQTT-3.3.1-1", 7, "client")],
        Tshark::Agrees,
    );
}

#[test]
fn violation_qos3() {
    check(
        "violation-qos3.pcapng",
        3,
        &[("MQTT-3.3.1-4", 6, "client")],
        Tshark::Agrees,
    );
}

/// Found by its HTTP upgrade on port 8080; packets coalesced in one frame
/// and split over a frame and its continuation, with a ping between them.
#[test]
fn websocket() {
    let r = check("websocket.pcapng", 10, &[], NO_MQTT_IN_WEBSOCKET);
    let f = &r.flows[0];
    assert_eq!(f.roles_from, "websocket");
    assert_eq!(f.packets["PUBLISH"], 2);
    assert!(f.problems.is_empty(), "{:?}", f.problems);
    let ws = f.websocket.as_ref().unwrap();
    assert_eq!(
        (ws.offered.clone(), ws.chosen.clone()),
        (vec!["mqtt".to_string()], vec!["mqtt".to_string()])
    );
    assert_eq!(ws.closes, [("client", Some(1000)), ("server", Some(1000))]);
}

#[test]
fn violation_websocket_text_frame() {
    check(
        "violation-websocket-text-frame.pcapng",
        2,
        &[("MQTT-6.0.0-1", 8, "client")],
        NO_MQTT_IN_WEBSOCKET,
    );
}

#[test]
fn violation_websocket_subprotocol() {
    check(
        "violation-websocket-subprotocol.pcapng",
        6,
        &[
            ("MQTT-6.0.0-4", 5, "server"),
            ("MQTT-6.0.0-3", 17, "client"),
        ],
        NO_MQTT_IN_WEBSOCKET,
    );
}
