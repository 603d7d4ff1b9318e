//! One engine for live and offline judging: the faulty client of
//! `faulty_client/` talks to `mqttspec serve --watch` while dumpcap records
//! the loopback traffic; `mqttspec analyze` of that capture must name the
//! same client findings (statement, check) as the watch did.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod faulty_client;

use std::io::Read;
use std::process::{ChildStderr, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use faulty_client::{converse, findings, Fault, Watch};
use mqttspec::codec::Version;

#[test]
fn analyze_of_a_watched_device_finds_what_the_watch_found() {
    let w = Watch::watch();
    let port = w.port.to_string();
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("device.pcapng");
    // dumpcap also records a probe port nothing listens on: a connection
    // attempt there is two packets (SYN, RST), and dumpcap's running count
    // on stderr says when it has seen them.
    let probe_port = common::free_port();
    let mut dumpcap = Command::new("dumpcap")
        .args(["-i", "lo", "-f"])
        .arg(format!("tcp port {} or tcp port {probe_port}", w.port))
        .arg("-w")
        .arg(&pcap)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dumpcap (tshark's capture tool) is installed");
    let counts = packet_counts(dumpcap.stderr.take().unwrap());
    // The capture runs once a probe is counted.
    let seen = probe_until_counted(probe_port, &counts, 0);
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

    // Everything before a last probe is captured once the probe is counted;
    // then SIGINT: dumpcap writes what it captured and exits.
    let latest = counts.try_iter().last().unwrap_or(seen);
    probe_until_counted(probe_port, &counts, latest);
    assert!(Command::new("kill")
        .args(["-INT", &dumpcap.id().to_string()])
        .status()
        .unwrap()
        .success());
    assert!(dumpcap.wait().unwrap().success());

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

/// dumpcap's running packet counts ("Packets: N" on stderr), as they come.
fn packet_counts(mut stderr: ChildStderr) -> Receiver<u64> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let mut buf = [0u8; 256];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                return;
            }
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
            while let Some(at) = text.find("Packets: ") {
                let rest = &text[at + 9..];
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                if digits.len() == rest.len() {
                    break; // the number may go on in the next read
                }
                if let Ok(count) = digits.parse() {
                    let _ = tx.send(count);
                }
                text = rest[digits.len()..].to_string();
            }
        }
    });
    rx
}

/// Knock on the probe port until dumpcap's count reaches `after + 2`;
/// returns the count seen. Bounded: 20 attempts of up to 2 s each.
fn probe_until_counted(port: u16, counts: &Receiver<u64>, after: u64) -> u64 {
    for _ in 0..20 {
        let _ = std::net::TcpStream::connect(("127.0.0.1", port));
        while let Ok(count) = counts.recv_timeout(Duration::from_secs(2)) {
            if count >= after + 2 {
                return count;
            }
        }
    }
    panic!("dumpcap did not count the probe");
}
