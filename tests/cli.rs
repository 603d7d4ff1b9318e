//! The command line as a user runs it: exit codes, clear one-line errors for
//! invalid case files, unreachable and silent targets, and the reports.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{mqttspec, mqttspec_in, Silent};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn list_loads_every_case() {
    let o = mqttspec(&["list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let n: usize = out
        .lines()
        .last()
        .and_then(|l| l.strip_suffix(" cases"))
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(n >= 2, "{out}");
}

#[test]
fn invalid_case_file_is_exit_2_with_position() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "id = \"x\"\ntitle = \"t\"\ndescription = \"d\"\nstatements = [\"MQTT-3.1.0-2\"]\n\n[[step]]\nconnect = \"a\"\nqoss = 1\n",
    )
    .unwrap();
    let o = mqttspec_in(
        dir.path(),
        &["run", "--target", "mqtt://127.0.0.1:1", "bad.toml"],
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("bad.toml:8:1"), "{e}");
    assert!(e.contains("qoss"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
}

#[test]
fn unknown_statement_in_case_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "id = \"x\"\ntitle = \"t\"\ndescription = \"d\"\nstatements = [\"MQTT-3.1.0-99\"]\n\n[[step]]\nconnect = \"a\"\n",
    )
    .unwrap();
    let o = mqttspec_in(dir.path(), &["list", "bad.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad.toml:4:16: unknown statement `MQTT-3.1.0-99`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn unreachable_target_is_exit_2_with_one_line() {
    let port = common::free_port();
    let url = format!("mqtt://127.0.0.1:{port}");
    let o = mqttspec(&["run", "--target", &url]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("cannot connect to 127.0.0.1"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
}

#[test]
fn bad_flags_are_exit_2() {
    assert_eq!(mqttspec(&["run"]).status.code(), Some(2));
    assert_eq!(
        mqttspec(&["run", "--target", "http://x"]).status.code(),
        Some(2)
    );
    assert_eq!(
        mqttspec(&[
            "run",
            "--target",
            "mqtt://127.0.0.1:1",
            "--case",
            "no-such-case"
        ])
        .status
        .code(),
        Some(2)
    );
}

#[test]
fn silent_broker_gives_verdicts_not_a_hang() {
    let silent = Silent::start();
    let url = format!("mqtt://127.0.0.1:{}", silent.port);
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let junit = dir.path().join("r.xml");
    let o = mqttspec(&[
        "run",
        "--target",
        &url,
        "--case",
        "suback-packet-id",
        "--case",
        "second-connect-closes",
        "--json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let out = stdout(&o);
    // Nothing can be concluded when the broker never answers CONNECT.
    assert!(out.contains("INCONCLUSIVE suback-packet-id"), "{out}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["summary"]["total"], 2);
    assert_eq!(report["summary"]["inconclusive"], 2);
    let c = &report["cases"][0];
    for key in ["id", "title", "statements", "verdict", "findings", "wire"] {
        assert!(c.get(key).is_some(), "missing {key}: {c}");
    }
    // The wire log shows the CONNECT we sent.
    assert_eq!(c["wire"][1]["packet"]["type"], "CONNECT");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testcase name=\"second-connect-closes\""),
        "{xml}"
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "inconclusive is not a failure: {out}"
    );
}

#[test]
fn rules_and_coverage_print() {
    let o = mqttspec(&["rules"]);
    assert!(o.status.success());
    let o = mqttspec(&["coverage"]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(out.contains("3.1.1    broker"), "{out}");
    assert!(out.contains("5.0      capture"), "{out}");
}

#[test]
fn terminal_output_of_an_inconclusive_case() {
    let silent = Silent::start();
    let url = format!("mqtt://127.0.0.1:{}", silent.port);
    let o = mqttspec(&["run", "--target", &url, "--case", "pingreq-pingresp"]);
    let out = stdout(&o);
    insta::with_settings!({filters => vec![
        (r"\d+(\.\d+)? ms", "[ms]"),
        (r"in \d+\.\d+ s", "in [s]"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (r"client_id=ms\w+", "client_id=[id]"),
    ]}, {
        insta::assert_snapshot!(out);
    });
}

#[test]
fn spawn_starts_and_stops_the_broker() {
    let port = common::free_port();
    let url = format!("mqtt://127.0.0.1:{port}");
    let spawn = format!("mosquitto -p {port}");
    let o = mqttspec(&[
        "run",
        "--spawn",
        &spawn,
        "--target",
        &url,
        "--case",
        "suback-packet-id",
    ]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    assert!(out.contains("PASS         suback-packet-id"), "{out}");
    // The broker is gone afterwards.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn spawn_of_a_failing_command_is_exit_2() {
    let port = common::free_port();
    let url = format!("mqtt://127.0.0.1:{port}");
    let o = mqttspec(&["run", "--spawn", "false", "--target", &url]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("exited"), "{}", stderr(&o));
}

/// A peer that answers every connection with garbage and closes.
fn hostile() -> u16 {
    use std::io::Write;
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let _ = s.write_all(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02]);
        }
    });
    port
}

#[test]
fn hostile_broker_gives_verdicts_with_the_garbage_in_the_log() {
    let port = hostile();
    let url = format!("mqtt://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let o = mqttspec(&[
        "run",
        "--target",
        &url,
        "--case",
        "suback-*",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(
        matches!(o.status.code(), Some(0) | Some(1)),
        "{}",
        stderr(&o)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    for c in report["cases"].as_array().unwrap() {
        assert_ne!(c["verdict"], "pass", "{c}");
        let wire = c["wire"].as_array().unwrap();
        assert!(
            wire.iter().any(
                |w| w["event"] == "malformed" && w["hex"].as_str().unwrap().starts_with("ffff")
            ),
            "{c}"
        );
    }
}

#[test]
fn failure_shows_expected_and_actual_against_mosquitto() {
    let broker = common::Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let junit = dir.path().join("r.xml");
    // A known deviation of mosquitto 2.0.11 (see tests/known-deviations/).
    let o = mqttspec(&[
        "run",
        "--target",
        &broker.url(),
        "--case",
        "overlapping-subscriptions-max-qos",
        "--json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("FAIL         overlapping-subscriptions-max-qos"),
        "{out}"
    );
    assert!(out.contains("expected: PUBLISH topic=\"mqttspec/"), "{out}");
    assert!(out.contains("(qos is 0, expected 1)"), "{out}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let c = &report["cases"][0];
    assert_eq!(c["verdict"], "fail");
    assert_eq!(c["failed_statement"], "MQTT-3.3.5-1");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("type=\"MQTT-3.3.5-1\""), "{xml}");
    assert!(xml.contains("message=\"[MQTT-3.3.5-1]"), "{xml}");
}

#[test]
fn strict_turns_non_strict_into_exit_1() {
    // A broker-independent check: a case file whose only expectation is graded
    // non-strict, run against mosquitto.
    let broker = common::Mosquitto::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ns.toml"),
        r#"id = "ns"
title = "non-strict alternative"
description = "PINGREQ; PINGRESP is accepted as the non-strict alternative only."
statements = ["MQTT-3.12.4-1"]

[[step]]
connect = "a"

[[step]]
send = "a"
packet = { type = "pingreq" }

[[step]]
expect = "a"
one_of = [{ packet = { type = "pingresp" }, grade = "non-strict", note = "test" }]
"#,
    )
    .unwrap();
    let file = dir.path().join("ns.toml");
    let file = file.to_str().unwrap();
    let o = mqttspec(&["run", "--target", &broker.url(), file]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("NON-STRICT   ns"), "{}", stdout(&o));
    let o = mqttspec(&["run", "--target", &broker.url(), "--strict", file]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
}
