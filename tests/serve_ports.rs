//! `mqttspec serve --port-per-case BASE`: each device case listens on
//! BASE+i and the cases run at once — a device for a later case is served
//! while an earlier case still waits for its own; `{port}` in `--exec` is
//! the case's port (over mutual TLS here); the report lists the cases in
//! order with their ports; SIGTERM ends the cases under way as errors and
//! keeps the finished ones; a port already in use stops serve naming it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::TcpListener;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use common::serve::Served;

/// A base port with `n` free consecutive ports after it, below the
/// kernel's ephemeral range so that ports picked for other tests do not
/// land in it.
fn free_ports(n: u16) -> u16 {
    held_ports(n).0
}

/// Like [`free_ports`], with the ports still bound: the caller chooses
/// which to let go. Tests of this file run at once: each call starts its
/// search elsewhere, so two of them do not pick overlapping ranges.
fn held_ports(n: u16) -> (u16, Vec<TcpListener>) {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
        ^ std::process::id();
    let seed = seed.wrapping_add(call.wrapping_mul(3001));
    for attempt in 0..200u32 {
        let base = 20000 + ((seed.wrapping_add(attempt * 7919)) % 12000) as u16;
        let held: Vec<_> = (0..n)
            .map_while(|i| TcpListener::bind(("127.0.0.1", base + i)).ok())
            .collect();
        if held.len() == usize::from(n) {
            return (base, held);
        }
    }
    panic!("no {n} consecutive free ports");
}

/// The ids of the selected device cases in run order.
fn run_order(select: &[&str]) -> Vec<String> {
    let mut args = vec!["list", "cases/device"];
    args.extend_from_slice(select);
    let out = common::mqttspec(&args);
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("device-"))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

/// mosquitto_pub at `qos` to `port` (the device of a publish case), given
/// up after 10 s (when nothing serves its case).
fn publish(port: u16, qos: &str) -> bool {
    Command::new("timeout")
        .args([
            "10",
            "mosquitto_pub",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .args(["-t", "a", "-m", "x", "-q", qos])
        .status()
        .unwrap()
        .success()
}

const TWO: [&str; 4] = [
    "--case",
    "device-publish-qos1",
    "--case",
    "device-publish-qos2",
];

/// The QoS the device of a publish case uses.
fn qos_of(case: &str) -> &'static str {
    if case.ends_with("qos2") {
        "2"
    } else {
        "1"
    }
}

#[test]
fn cases_run_at_once_each_on_its_port() {
    let order = run_order(&TWO);
    assert_eq!(order.len(), 2);
    let base = free_ports(2);
    let b = base.to_string();
    let mut args = vec!["--port-per-case", b.as_str()];
    args.extend_from_slice(&TWO);
    let serve = Served::start(&args);
    assert_eq!(serve.port, base, "{}", serve.announced);
    assert!(
        serve.announced.contains("all at once"),
        "{}",
        serve.announced
    );
    // The second case's device first: it is served (its QoS flow completes
    // and the case passes) while the first case still waits for its own.
    assert!(publish(base + 1, qos_of(&order[1])));
    let line = serve.stderr_line(&order[1], Duration::from_secs(10));
    assert!(line.contains("pass"), "{line}");
    assert!(publish(base, qos_of(&order[0])));
    let (code, out, report) = serve.finish();
    assert_eq!(code, 0, "{out}");
    let cases = report["cases"].as_array().unwrap();
    let listed: Vec<(String, u64)> = cases
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["port"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![
            (order[0].clone(), u64::from(base)),
            (order[1].clone(), u64::from(base) + 1)
        ]
    );
    assert!(cases.iter().all(|c| c["verdict"] == "pass"), "{out}");
    assert!(out.contains(&format!("port {}", base + 1)), "{out}");
    assert_eq!(
        report["target"],
        format!("mqtt://127.0.0.1:{base}-{}", base + 1)
    );
}

#[test]
fn exec_gets_each_case_its_port_over_mutual_tls() {
    let certs = tempfile::tempdir().unwrap();
    mqttspec::pki::generate(certs.path(), &Default::default()).unwrap();
    let d = certs.path().to_str().unwrap();
    let select = [
        "--case",
        "device-publish-qos1",
        "--case",
        "device-receives-qos1",
        "--case",
        "device-receives-qos2",
        "--case",
        "device-subscribe-well-formed",
    ];
    let base = free_ports(select.len() as u16 / 2);
    let b = base.to_string();
    let exec = format!(
        "sh tests/device/mosquitto-clients.sh --cafile {d}/ca.pem --cert {d}/client.pem --key {d}/client.key {{host}} {{port}} {{client_id}} {{topic}} {{trigger}}"
    );
    let mut args = vec![
        "--port-per-case",
        b.as_str(),
        "--certs",
        d,
        "--require-client-cert",
        "--exec",
        &exec,
    ];
    args.extend_from_slice(&select);
    let serve = Served::start_on("mqtts://127.0.0.1:0", &args);
    let (code, out, report) = serve.finish();
    assert_eq!(code, 0, "{out}");
    let cases = report["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4, "{out}");
    for (i, c) in cases.iter().enumerate() {
        assert_eq!(c["verdict"], "pass", "{out}");
        assert_eq!(c["port"], u64::from(base) + i as u64, "{out}");
    }
}

#[test]
fn sigterm_ends_the_cases_under_way_and_keeps_the_finished() {
    let order = run_order(&TWO);
    let base = free_ports(2);
    let b = base.to_string();
    let mut args = vec!["--port-per-case", b.as_str()];
    args.extend_from_slice(&TWO);
    let serve = Served::start(&args);
    assert!(publish(base + 1, qos_of(&order[1])));
    serve.stderr_line(&order[1], Duration::from_secs(10));
    let (code, out, report) = serve.stop();
    let cases = report["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2, "{out}");
    assert_eq!(cases[0]["verdict"], "error", "{out}");
    assert!(
        cases[0]["reason"]
            .as_str()
            .unwrap()
            .contains("stopped (terminated)"),
        "{out}"
    );
    assert_eq!(cases[0]["port"], u64::from(base), "{out}");
    assert_eq!(cases[1]["verdict"], "pass", "{out}");
    assert_eq!(code, 1, "{out}");
}

#[test]
fn a_port_in_use_is_named() {
    // The second port stays bound (never free between the search and serve).
    let (base, mut held) = held_ports(2);
    let _taken = held.pop().unwrap();
    drop(held);
    let b = base.to_string();
    let mut args = vec!["serve", "--port-per-case", b.as_str()];
    args.extend_from_slice(&TWO);
    let out = common::mqttspec(&args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("port {} for case 1", base + 1)),
        "{err}"
    );
    assert!(err.contains("in use"), "{err}");
}

#[test]
fn port_per_case_is_checked() {
    let err = |args: &[&str]| {
        let out = common::mqttspec(args);
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = err(&["serve", "--watch", "--port-per-case", "20000"]);
    assert!(e.contains("not --watch"), "{e}");
    let e = err(&[
        "serve",
        "--port-per-case",
        "65535",
        "--case",
        "device-publish-*",
    ]);
    assert!(e.contains("within 1-65535"), "{e}");
    let e = err(&["serve", "--port-per-case", "0"]);
    assert!(e.contains("within 1-65535"), "{e}");
}
