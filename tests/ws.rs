//! MQTT over WebSocket. The whole suite over ws:// against a real mosquitto
//! (Debian's 2.0.11, with a WebSocket listener next to its plain one; see
//! `common::Mosquitto::start_websockets`) passes except the deviations in
//! tests/known-deviations/; a few cases over wss:// with a client
//! certificate; the `ws` cases fail naming the right statement against
//! broken WebSocket fronts of our own (tests/ws_peer/); `ws` cases do not
//! run over TCP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod ws_peer;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use mqttspec::case::{load_paths, Case};
use mqttspec::report::CaseReport;
use mqttspec::run::{run, RunConfig};
use mqttspec::transport::Target;
use mqttspec::verdict::Verdict;
use rstest::rstest;
use ws_peer::{WsFault, WsFront};

fn report_of(json: &Path, out: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(json).unwrap())
        .unwrap_or_else(|e| panic!("{e}\n{out}"))
}

#[test]
fn whole_suite_over_websocket_against_mosquitto() {
    let broker = common::Mosquitto::start_websockets("");
    let url = format!("ws://127.0.0.1:{}", broker.ws_port.unwrap());
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let o = common::mqttspec(&[
        "run",
        "--target",
        &url,
        "--jobs",
        "8",
        "--json",
        json.to_str().unwrap(),
    ]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let report = report_of(&json, &out);
    // Every broker case runs over ws:// (device cases are `serve`'s).
    let all = load_paths(&[common::root().join("cases")]).unwrap();
    let broker_cases = all
        .iter()
        .filter(|c| c.role == mqttspec::case::Role::Broker)
        .count();
    assert_eq!(
        report["cases"].as_array().unwrap().len(),
        broker_cases,
        "every broker case runs over ws://\n{out}"
    );
    let version = common::mosquitto_version();
    let known = common::deviations::load(&format!("mosquitto-{version}.toml"));
    let problems =
        common::deviations::check(&report, &known, &format!("mosquitto {version} over ws://"));
    assert!(problems.is_empty(), "{}\n\n{out}", problems.join("\n"));
    let failed = report["summary"]["fail"].as_u64().unwrap();
    assert_eq!(
        o.status.code(),
        Some(if failed == 0 { 0 } else { 1 }),
        "{out}"
    );
}

#[test]
fn some_cases_over_wss_with_a_required_client_certificate() {
    let certs = tempfile::tempdir().unwrap();
    let d = certs.path();
    mqttspec::pki::generate(d, &mqttspec::pki::PkiOptions::default()).unwrap();
    let p = |name: &str| d.join(name).to_str().unwrap().to_string();
    let broker = common::Mosquitto::start_websockets(&format!(
        "cafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true\n",
        p("ca.pem"),
        p("server.pem"),
        p("server.key")
    ));
    // The certificate names localhost, 127.0.0.1 and ::1.
    let url = format!("wss://localhost:{}/mqtt", broker.ws_port.unwrap());
    let json = d.join("r.json");
    let o = common::mqttspec(&[
        "run",
        "--target",
        &url,
        "--ca",
        &p("ca.pem"),
        "--cert",
        &p("client.pem"),
        "--key",
        &p("client.key"),
        "--case",
        "ws-*",
        "--case",
        "pingreq-pingresp",
        "--case",
        "qos1-publish-puback",
        "--case",
        "will-published-on-abnormal-close",
        "--json",
        json.to_str().unwrap(),
    ]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let report = report_of(&json, &out);
    assert_eq!(report["cases"].as_array().unwrap().len(), 7, "{out}");
    let version = common::mosquitto_version();
    let known = common::deviations::load(&format!("mosquitto-{version}.toml"));
    let problems =
        common::deviations::check(&report, &known, &format!("mosquitto {version} over wss://"));
    assert!(problems.is_empty(), "{}\n\n{out}", problems.join("\n"));
    // Without a client certificate the broker refuses the TLS handshake,
    // and the reason reaches the one line on stderr.
    let o = common::mqttspec(&["run", "--target", &url, "--ca", &p("ca.pem")]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("certificate_required") || err.contains("handshake_failure"),
        "{err}"
    );
}

#[test]
fn ws_cases_need_a_websocket_target() {
    let o = common::mqttspec(&["list", "--tag", "ws"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("4 cases"));
    // Refused before connecting: nothing listens on port 9.
    let o = common::mqttspec(&["run", "--target", "mqtt://127.0.0.1:9", "--tag", "ws"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("need a ws:// or wss:// target"), "{err}");
}

fn ws_cases(id: &str) -> Vec<Case> {
    load_paths(&[common::root().join("cases")])
        .unwrap()
        .into_iter()
        .filter(|c| c.id == id)
        .collect()
}

/// Run one case through a WebSocket front with `fault` in front of a
/// mosquitto on TCP; every wait is bounded.
async fn through_front(fault: WsFault, case_id: &str) -> CaseReport {
    let broker = common::Mosquitto::start();
    let backend: SocketAddr = ([127, 0, 0, 1], broker.port).into();
    let front = WsFront::start(backend, fault).await.unwrap();
    let cases = ws_cases(case_id);
    assert_eq!(cases.len(), 1, "case `{case_id}` exists");
    let cfg = RunConfig {
        target: Target::parse(&front.url()).unwrap(),
        username: None,
        password: None,
        jobs: 1,
        strict: false,
        deadline: Duration::from_secs(30),
        connect_timeout: Duration::from_secs(2),
        tls: None,
        tls_material: None,
    };
    let report = tokio::time::timeout(Duration::from_secs(40), run(cases, &cfg, None))
        .await
        .expect("the run ends within its bound");
    report.cases.into_iter().next().unwrap()
}

fn explain(c: &CaseReport) -> String {
    format!(
        "{}: {:?} {:?} (failed_statement {:?}, findings {:?})\n{}",
        c.id,
        c.verdict,
        c.reason,
        c.failed_statement,
        c.findings
            .iter()
            .map(|f| format!("{}: {}", f.rule, f.message))
            .collect::<Vec<_>>(),
        serde_json::to_string_pretty(&c.steps).unwrap()
    )
}

#[rstest]
#[case("ws-subprotocol-mqtt")]
#[case("ws-connect-split-frames")]
#[case("ws-packets-in-one-frame")]
#[case("ws-text-frame-closes")]
#[case("pingreq-pingresp")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformant_front_passes(#[case] case_id: &str) {
    let c = through_front(WsFault::None, case_id).await;
    assert_eq!(c.verdict, Verdict::Pass, "{}", explain(&c));
}

/// One row per fault of the front: the case that must catch it and the
/// statement the failure must name.
#[rustfmt::skip]
#[rstest]
#[case(WsFault::NoSubprotocol,    "ws-subprotocol-mqtt",     "MQTT-6.0.0-4")]
#[case(WsFault::OtherSubprotocol, "ws-subprotocol-mqtt",     "MQTT-6.0.0-4")]
#[case(WsFault::NoSubprotocol,    "pingreq-pingresp",        "MQTT-6.0.0-4")]
#[case(WsFault::IgnoreText,       "ws-text-frame-closes",    "MQTT-6.0.0-1")]
#[case(WsFault::FrameAligned,     "ws-connect-split-frames", "MQTT-6.0.0-2")]
#[case(WsFault::FirstPacketOnly,  "ws-packets-in-one-frame", "MQTT-6.0.0-2")]
#[case(WsFault::TextReplies,      "ws-subprotocol-mqtt",     "MQTT-6.0.0-1")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_front_fails_naming_the_statement(
    #[case] fault: WsFault,
    #[case] case_id: &str,
    #[case] statement: &str,
) {
    let c = through_front(fault, case_id).await;
    assert_eq!(c.verdict, Verdict::Fail, "{}", explain(&c));
    assert_eq!(c.failed_statement, Some(statement), "{}", explain(&c));
}

/// The binary reports a server that selects no subprotocol as failed cases
/// (exit 1) citing MQTT-6.0.0-4, not as a harness error (exit 2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_subprotocol_is_a_verdict_not_an_error() {
    let broker = common::Mosquitto::start();
    let backend: SocketAddr = ([127, 0, 0, 1], broker.port).into();
    let front = WsFront::start(backend, WsFault::NoSubprotocol)
        .await
        .unwrap();
    let url = front.url();
    let o = tokio::task::spawn_blocking(move || {
        common::mqttspec(&["run", "--target", &url, "--case", "ws-subprotocol-mqtt"])
    })
    .await
    .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("[MQTT-6.0.0-4]"), "{out}");
    assert!(out.contains("selected no subprotocol"), "{out}");
}
