//! `mqttspec serve --watch`: real clients (mosquitto_pub / mosquitto_sub)
//! pass through the watch broker without findings; a faulty client of our
//! own is judged by the client rules with the right statements; the report
//! is written on SIGTERM, with connections still open listed as open.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use mqttspec::codec::{encode, encode_with, Connect, Overrides, Packet, Publish, Text, Version};
use serde_json::Value;

use common::serve::Served as Watch;

/// A client connection to the watch, with a read timeout.
fn connect_to(w: &Watch) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", w.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

fn connect_packet(id: &str, keep_alive: u16) -> Vec<u8> {
    encode(
        &Packet::Connect(Box::new(Connect {
            client_id: Text::from(id),
            keep_alive,
            ..Connect::default()
        })),
        Version::V311,
    )
}

fn publish(topic: &str, qos: u8, dup: bool) -> Packet {
    Packet::Publish(Publish {
        dup,
        qos,
        topic: Text::from(topic),
        packet_id: (qos > 0).then_some(1),
        payload: Bytes::from_static(b"x"),
        ..Publish::default()
    })
}

/// Read until the server closes; panics after the socket's read timeout.
fn read_to_close(s: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return all,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return all,
            Err(e) => panic!("server did not close: {e}"),
        }
    }
}

/// Read exactly `n` bytes.
fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    s.read_exact(&mut buf).unwrap();
    buf
}

fn findings(report: &Value) -> Vec<(String, String)> {
    report["connections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["findings"].as_array().unwrap().clone())
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["actor"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn mosquitto_clients_pass_through_the_watch_without_findings() {
    let w = Watch::watch();
    let port = w.port.to_string();
    let mut sub = Command::new("mosquitto_sub")
        .args(["-h", "127.0.0.1", "-p", &port, "-t", "w/#", "-q", "2"])
        .args(["-C", "3", "-W", "10", "-v", "-i", "watch-sub"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // The subscriber is ready once its SUBSCRIBE was answered: retained
    // messages published before would be missed otherwise, so publish a
    // retained one first and let the subscriber get it at subscription.
    let pub_ = |topic: &str, msg: &str, qos: &str, retain: bool| {
        let mut cmd = Command::new("mosquitto_pub");
        cmd.args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-t",
            topic,
            "-m",
            msg,
            "-q",
            qos,
        ]);
        if retain {
            cmd.arg("-r");
        }
        assert!(cmd.status().unwrap().success());
    };
    pub_("w/retained", "r", "1", true);
    let mut stdout = BufReader::new(sub.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert_eq!(first.trim(), "w/retained r");
    pub_("w/q1", "one", "1", false);
    pub_("w/q2", "two", "2", false);
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(sub.wait().unwrap().success());
    assert_eq!(rest, "w/q1 one\nw/q2 two\n");
    let (code, text, report) = w.stop();
    assert_eq!(findings(&report), vec![], "{text}");
    assert_eq!(code, 0, "{text}");
    assert_eq!(report["stopped_by"], "terminated");
    let conns = report["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 4, "{text}");
    let sub = conns
        .iter()
        .find(|c| c["client_id"] == "watch-sub")
        .unwrap();
    assert_eq!(sub["packets_to_client"]["PUBLISH"], 3);
    assert_eq!(sub["packets_from_client"]["PUBREC"], 1);
    assert_eq!(sub["packets_from_client"]["PUBCOMP"], 1);
    assert_eq!(sub["closed_by"], "client");
}

#[test]
fn faulty_client_is_judged_by_the_client_rules() {
    let w = Watch::watch();
    // A PUBLISH before CONNECT: the broker closes, MQTT-3.1.0-1.
    let mut a = connect_to(&w);
    a.write_all(&encode(&publish("t", 0, false), Version::V311))
        .unwrap();
    assert!(read_to_close(&mut a).is_empty());
    // DUP on QoS 0 (MQTT-3.3.1-2) and a wildcard in a topic name (MQTT-3.3.2-2).
    let mut b = connect_to(&w);
    b.write_all(&connect_packet("faulty", 60)).unwrap();
    assert_eq!(read_n(&mut b, 4), [0x20, 0x02, 0x00, 0x00]);
    b.write_all(&encode(&publish("t", 0, true), Version::V311))
        .unwrap();
    b.write_all(&encode(&publish("a/+", 0, false), Version::V311))
        .unwrap();
    // Reserved fixed-header flags on PINGREQ (MQTT-2.2.2-1).
    b.write_all(&encode_with(
        &Packet::Pingreq,
        Version::V311,
        &Overrides {
            flags: Some(0x01),
            ..Overrides::default()
        },
    ))
    .unwrap();
    drop(b);
    drop(a);
    let (code, text, report) = w.stop();
    let found = findings(&report);
    for rule in [
        "MQTT-3.1.0-1",
        "MQTT-3.3.1-2",
        "MQTT-3.3.2-2",
        "MQTT-2.2.2-1",
    ] {
        assert!(
            found.contains(&(rule.to_string(), "client".to_string())),
            "{rule} missing: {found:?}\n{text}"
        );
    }
    assert!(
        found.iter().all(|(_, actor)| actor == "client"),
        "{found:?}"
    );
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("[MQTT-3.3.1-2] client:"), "{text}");
}

#[test]
fn keep_alive_expiry_closes_and_open_connections_stay_in_the_report() {
    // The broker's keep-alive close shows the client's silence (MQTT-3.1.2-23);
    // a connection still open when the watch ends is not judged for it.
    let w = Watch::watch();
    let mut quiet = connect_to(&w);
    quiet.write_all(&connect_packet("quiet", 1)).unwrap();
    assert_eq!(read_n(&mut quiet, 4), [0x20, 0x02, 0x00, 0x00]);
    // Keep alive 1 s: the broker closes after 1.5 s of silence.
    read_to_close(&mut quiet);
    let mut open = connect_to(&w);
    open.write_all(&connect_packet("open", 0)).unwrap();
    assert_eq!(read_n(&mut open, 4), [0x20, 0x02, 0x00, 0x00]);
    let (code, text, report) = w.stop();
    let conns = report["connections"].as_array().unwrap();
    let by = |id: &str| {
        conns
            .iter()
            .find(|c| c["client_id"] == id)
            .unwrap_or_else(|| panic!("{id} missing\n{text}"))["closed_by"]
            .clone()
    };
    assert_eq!(by("quiet"), "server");
    assert_eq!(by("open"), "open");
    assert_eq!(
        findings(&report),
        vec![("MQTT-3.1.2-23".to_string(), "client".to_string())],
        "{text}"
    );
    assert_eq!(code, 1);
    drop(open);
}
