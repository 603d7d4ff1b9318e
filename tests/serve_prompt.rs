//! `mqttspec serve --prompt`: a hand-driven device. On a terminal (a pty
//! from util-linux `script`) each case asks the operator to make the device
//! act and waits for Enter; the device here is mosquitto_pub, started by the
//! test as an operator would. Without a terminal the cases are skipped and
//! reported as such.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

const PUBLISH_QOS1: &str = "cases/device/qos/publish-qos1-acked.toml";
const PUBLISH_QOS2: &str = "cases/device/qos/publish-qos2-flow.toml";

/// Everything the terminal showed so far, waiting until it contains `text`.
fn wait_for(screen: &Receiver<Vec<u8>>, seen: &mut String, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !seen.contains(text) {
        let left = deadline.saturating_duration_since(Instant::now());
        match screen.recv_timeout(left) {
            Ok(bytes) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            Err(_) => panic!("{text:?} never shown; the terminal showed:\n{seen}"),
        }
    }
}

fn report(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn the_operator_is_asked_per_case_and_the_answers_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let serve = format!(
        "{} serve --prompt --listen mqtt://127.0.0.1:0 --json {} {PUBLISH_QOS1} {PUBLISH_QOS2}",
        env!("CARGO_BIN_EXE_mqttspec"),
        json.display()
    );
    // `script` gives mqttspec a pty for stdin and stderr and copies what
    // the terminal shows to its stdout.
    let mut term = Command::new("script")
        .args(["-qefc", &serve, "/dev/null"])
        .current_dir(common::root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script (util-linux) runs");
    let mut out = term.stdout.take().unwrap();
    let (tx, screen) = channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();
    wait_for(&screen, &mut seen, "Press Enter when done");
    let asked = "[device-publish-qos1] Make the device connect to mqtt://127.0.0.1:";
    assert!(seen.contains(asked), "{seen}");
    assert!(
        seen.contains("publish a message at QoS 1 to any topic"),
        "{seen}"
    );
    let port: u16 = seen
        .split(asked)
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {seen}"));
    // The operator makes the device act, then answers: the device's
    // connection waits in the listen queue until the case accepts it.
    let mut device = Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1"])
        .args(["-t", "by-hand/a", "-m", "x"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut keys = term.stdin.take().unwrap();
    keys.write_all(b"\n").unwrap();
    keys.flush().unwrap();
    // The second case is skipped at its question.
    wait_for(&screen, &mut seen, "[device-publish-qos2] Make the device");
    keys.write_all(b"s\n").unwrap();
    keys.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = term.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "serve did not end:\n{seen}");
        // Event-driven: wake on terminal output or within 100 ms.
        if let Ok(bytes) = screen.recv_timeout(Duration::from_millis(100)) {
            seen.push_str(&String::from_utf8_lossy(&bytes));
        }
    };
    let _ = device.kill();
    let _ = device.wait();
    assert!(status.success(), "{seen}");
    let r = report(&json);
    let cases = r["cases"].as_array().unwrap();
    assert_eq!(cases[0]["id"], "device-publish-qos1");
    assert_eq!(cases[0]["verdict"], "pass", "{:#}", cases[0]);
    assert_eq!(cases[1]["id"], "device-publish-qos2");
    assert_eq!(cases[1]["verdict"], "skip", "{:#}", cases[1]);
    assert!(
        cases[1]["reason"]
            .as_str()
            .unwrap()
            .contains("skipped at the prompt"),
        "{:#}",
        cases[1]
    );
}

#[test]
fn without_a_terminal_prompted_cases_are_skipped_and_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_mqttspec"))
        .args([
            "serve",
            "--prompt",
            "--listen",
            "mqtt://127.0.0.1:0",
            "--json",
        ])
        .arg(&json)
        .arg(PUBLISH_QOS1)
        .current_dir(common::root())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let r = report(&json);
    let case = &r["cases"][0];
    assert_eq!(case["verdict"], "skip", "{case:#}");
    assert!(
        case["reason"]
            .as_str()
            .unwrap()
            .contains("needs a terminal"),
        "{case:#}"
    );
}

#[test]
fn prompt_and_exec_cannot_be_combined() {
    let out = Command::new(env!("CARGO_BIN_EXE_mqttspec"))
        .args(["serve", "--prompt", "--exec", "true", PUBLISH_QOS1])
        .current_dir(common::root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--exec"), "{err}");
}
