//! `mqttspec serve` over TLS (`mqtts://`, client certificates required) and
//! WebSocket (`ws://`, `wss://`), with a test PKI generated for each test:
//! real clients (mosquitto_pub / mosquitto_sub, the Paho Python client)
//! pass the device cases and go through the watch without findings; a
//! client without a certificate, with an expired one or one from a foreign
//! CA is refused at the handshake and the report says why; faulty clients
//! over TLS and WebSocket (a packet before CONNECT, a text frame, no `mqtt`
//! subprotocol) are still judged; bad certificate files stop serve with
//! exit 2.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use mqttspec::pki::{generate, PkiOptions};
use mqttspec::transport::tls::{client_config, TlsFiles};
use mqttspec::transport::{Chunk, Framing, Target, Tls};
use rstest::rstest;
use serde_json::Value;

use common::serve::{assert_passes_but_deviations, Client, Served};

fn pki() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), &PkiOptions::default()).unwrap();
    dir
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_string()
}

/// `serve --listen mqtts://127.0.0.1:0` with the PKI in `certs`, client
/// certificates required, and `args`.
fn serve_tls(certs: &Path, args: &[&str]) -> Served {
    let dir = path(certs, "");
    let mut all = vec!["--certs", dir.as_str(), "--require-client-cert"];
    all.extend_from_slice(args);
    Served::start_on("mqtts://127.0.0.1:0", &all)
}

/// Driver TLS options presenting the client certificate `client` (a
/// fixture stem; None: no certificate), trusting ca.pem.
fn tls_options(certs: &Path, client: Option<&str>) -> Vec<String> {
    trusting(certs, "ca", client)
}

/// Driver TLS options trusting the CA `ca` (a fixture stem), presenting
/// the client certificate `client`.
fn trusting(certs: &Path, ca: &str, client: Option<&str>) -> Vec<String> {
    let mut o = vec!["--cafile".to_string(), path(certs, &format!("{ca}.pem"))];
    if let Some(c) = client {
        o.extend([
            "--cert".into(),
            path(certs, &format!("{c}.pem")),
            "--key".into(),
            path(certs, &format!("{c}.key")),
        ]);
    }
    o
}

/// Every device case with `client` presenting client.pem over mutual TLS
/// passes but the client's known deviations.
fn device_cases_pass_over_mutual_tls(client: Client) {
    let certs = pki();
    let options = tls_options(certs.path(), Some("client")).join(" ");
    let serve = serve_tls(certs.path(), &["--exec", &client.exec(&options)]);
    assert!(
        serve.announced.contains("client certificates required"),
        "{}",
        serve.announced
    );
    let finished = serve.finish();
    assert!(finished.2["target"]
        .as_str()
        .unwrap()
        .starts_with("mqtts://"));
    assert_passes_but_deviations(finished, client);
}

#[test]
fn mosquitto_clients_pass_device_cases_over_mutual_tls() {
    device_cases_pass_over_mutual_tls(Client::MosquittoClients);
}

#[test]
fn paho_python_client_passes_device_cases_over_mutual_tls() {
    device_cases_pass_over_mutual_tls(Client::Paho);
}

/// The case `case_id` with mosquitto_pub presenting `client` ends as an
/// error whose reason contains `expect`.
#[rstest]
#[case::no_certificate(None, "certificate_required")]
#[case::expired(Some("client-expired"), "certificate_expired")]
#[case::foreign_ca(Some("client-foreign"), "unknown_ca")]
fn a_device_refused_at_the_handshake_ends_its_case_as_an_error(
    #[case] client: Option<&str>,
    #[case] expect: &str,
) {
    let certs = pki();
    let exec = format!(
        "sh tests/device/mosquitto-clients.sh {} {{host}} {{port}} {{client_id}} {{topic}} {{trigger}}",
        tls_options(certs.path(), client).join(" ")
    );
    let serve = serve_tls(
        certs.path(),
        &["--case", "device-publish-qos1", "--exec", &exec],
    );
    let (code, out, report) = serve.finish();
    let c = &report["cases"][0];
    assert_eq!(c["verdict"], "error", "{out}");
    let reason = c["reason"].as_str().unwrap();
    assert!(reason.contains("the device's handshake failed"), "{reason}");
    assert!(reason.contains(expect), "{reason}");
    assert_eq!(code, 1, "{out}");
}

/// mosquitto_pub at QoS 2 with `options` (TLS) and client id `id` to the
/// suite on `port`, given up after 10 s; whether it succeeded.
fn mosquitto_pub(port: u16, options: &[String], id: &str) -> bool {
    Command::new("timeout")
        .args(["10", "mosquitto_pub"])
        .args(options)
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-i", id])
        .args(["-t", "w/a", "-m", "x", "-q", "2"])
        .status()
        .unwrap()
        .success()
}

/// The watch's connections, found by a field's value.
fn conn<'a>(report: &'a Value, field: &str, value: &str) -> &'a Value {
    report["connections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c[field] == value)
        .unwrap_or_else(|| panic!("no connection with {field} = {value}: {report:#}"))
}

#[test]
fn the_watch_serves_clients_with_certificates_and_lists_the_refused() {
    let certs = pki();
    let d = certs.path();
    let w = serve_tls(d, &["--watch"]);
    let publish =
        |client: Option<&str>, id: &str| mosquitto_pub(w.port, &tls_options(d, client), id);
    assert!(publish(Some("client"), "good"));
    // mosquitto_pub sees the refusal as a TLS error or a lost connection.
    assert!(!publish(None, "nocert"));
    assert!(!publish(Some("client-expired"), "expired"));
    assert!(!publish(Some("client-foreign"), "foreign"));
    let (code, text, report) = w.stop();
    assert_eq!(code, 0, "{text}");
    let conns = report["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 4, "{text}");
    let good = conn(&report, "client_id", "good");
    assert_eq!(
        good["tls"], "TLS 1.3, client certificate verified",
        "{text}"
    );
    assert_eq!(good["packets_from_client"]["PUBLISH"], 1, "{text}");
    assert_eq!(good["packets_from_client"]["PUBREL"], 1, "{text}");
    assert_eq!(good["findings"], serde_json::json!([]), "{text}");
    // The refused ones, in the order they came, each with its reason.
    let refused: Vec<&str> = conns.iter().filter_map(|c| c["refused"].as_str()).collect();
    assert_eq!(refused.len(), 3, "{text}");
    assert!(refused[0].contains("presented no certificate"), "{text}");
    assert!(refused[0].contains("certificate_required"), "{text}");
    assert!(refused[1].contains("certificate expired"), "{text}");
    assert!(refused[1].contains("certificate_expired"), "{text}");
    assert!(refused[2].contains("not signed by the CA"), "{text}");
    assert!(refused[2].contains("unknown_ca"), "{text}");
    for c in conns.iter().filter(|c| c["refused"].is_string()) {
        assert_eq!(c["closed_by"], "server", "{text}");
        assert!(c["client_id"].is_null(), "{text}");
    }
    assert!(text.contains("refused at the handshake"), "{text}");
    assert!(
        text.contains("4 connections (3 refused at the handshake)"),
        "{text}"
    );
}

#[test]
fn a_client_that_does_not_trust_the_suite_is_listed_with_its_alert() {
    let certs = pki();
    let d = certs.path();
    let w = serve_tls(d, &["--watch"]);
    let options = trusting(d, "foreign-ca", Some("client"));
    assert!(!mosquitto_pub(w.port, &options, "distrustful"));
    let (_, text, report) = w.stop();
    let c = &report["connections"][0];
    assert_eq!(c["closed_by"], "client", "{text}");
    assert_eq!(
        c["refused"], "the client sent TLS alert unknown_ca (it refused the suite's certificate)",
        "{text}"
    );
}

#[test]
fn a_clear_text_client_on_the_tls_listener_is_refused_with_the_reason() {
    let certs = pki();
    let w = serve_tls(certs.path(), &["--watch"]);
    assert!(!mosquitto_pub(w.port, &[], "cleartext"));
    let (_, text, report) = w.stop();
    assert_eq!(
        report["connections"][0]["refused"],
        "the client sent MQTT in clear (a CONNECT) to a TLS listener",
        "{text}"
    );
}

/// A client of our own on `url` (mqtts:// or wss://) presenting client.pem:
/// sends `first` (binary), then `second` framed as `framing`, and waits for
/// the suite to close the connection.
async fn misbehave(url: &str, certs: &Path, first: &[u8], second: &[u8], framing: Framing) {
    let files = TlsFiles {
        ca: Some(certs.join("ca.pem")),
        cert: Some(certs.join("client.pem")),
        key: Some(certs.join("client.key")),
    };
    let tls = Tls {
        config: client_config(&files).unwrap(),
        server_name: None,
    };
    let target = Target::parse(url).unwrap();
    let link = target
        .connect(Duration::from_secs(5), Some(&tls))
        .await
        .unwrap();
    let (mut rd, mut wr) = link.split();
    wr.write(first, &Framing::Whole).await.unwrap();
    wr.write(second, &framing).await.unwrap();
    let end = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Chunk::End(_) = rd.next().await {
                return;
            }
        }
    })
    .await;
    assert!(end.is_ok(), "the suite did not close the connection");
}

/// CONNECT, client id "bad", keep alive 60.
const CONNECT: [u8; 15] = [
    0x10, 0x0d, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x01, b'b',
];

#[test]
fn a_faulty_client_over_tls_is_judged() {
    let certs = pki();
    let w = serve_tls(certs.path(), &["--watch"]);
    let url = format!("mqtts://127.0.0.1:{}", w.port);
    let rt = tokio::runtime::Runtime::new().unwrap();
    // A PUBLISH (QoS 0, "t", "x") before any CONNECT: the suite closes.
    let publish = [0x30, 0x04, 0x00, 0x01, b't', b'x'];
    rt.block_on(misbehave(&url, certs.path(), &publish, &[], Framing::Whole));
    let (code, text, report) = w.stop();
    let c = &report["connections"][0];
    assert_eq!(c["tls"], "TLS 1.3, client certificate verified", "{text}");
    assert_eq!(c["findings"][0]["rule"], "MQTT-3.1.0-1", "{text}");
    assert_eq!(c["findings"][0]["actor"], "client", "{text}");
    assert_eq!(code, 1, "{text}");
}

#[test]
fn a_text_frame_over_wss_is_judged() {
    let certs = pki();
    let d = path(certs.path(), "");
    let w = Served::start_on(
        "wss://127.0.0.1:0",
        &["--watch", "--certs", &d, "--require-client-cert"],
    );
    let url = format!("wss://127.0.0.1:{}/mqtt", w.port);
    let rt = tokio::runtime::Runtime::new().unwrap();
    // CONNECT, then a PUBLISH (QoS 0, "t", "x": valid UTF-8) in a WebSocket
    // text frame: the suite closes.
    let publish = [0x30, 0x04, 0x00, 0x01, b't', b'x'];
    rt.block_on(misbehave(
        &url,
        certs.path(),
        &CONNECT,
        &publish,
        Framing::Text,
    ));
    let (code, text, report) = w.stop();
    let c = &report["connections"][0];
    assert_eq!(c["tls"], "TLS 1.3, client certificate verified", "{text}");
    assert_eq!(c["packets_from_client"]["CONNECT"], 1, "{text}");
    assert_eq!(c["closed_by"], "server", "{text}");
    assert_eq!(c["findings"][0]["rule"], "MQTT-6.0.0-1", "{text}");
    let message = c["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("6 bytes"), "{text}");
    assert_eq!(c["findings"][0]["actor"], "client", "{text}");
    assert_eq!(code, 1, "{text}");
}

/// `mqttspec serve ARGS` that must not start: its stderr.
fn refused_to_start(args: &[&str]) -> String {
    let out = common::mqttspec(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

#[test]
fn bad_certificate_files_are_clear_errors() {
    let certs = pki();
    let d = certs.path();
    let tls = |extra: &[&str]| {
        let mut a = vec!["serve", "--watch", "--listen", "mqtts://127.0.0.1:0"];
        a.extend_from_slice(extra);
        refused_to_start(&a)
    };
    let missing = path(d, "nope.pem");
    let key = path(d, "server.key");
    let err = tls(&["--cert", &missing, "--key", &key]);
    assert!(
        err.contains(&missing) && err.contains("server certificate"),
        "{err}"
    );
    let cert = path(d, "server.pem");
    let err = tls(&["--cert", &cert, "--key", &path(d, "nope.key")]);
    assert!(
        err.contains("nope.key") && err.contains("private key"),
        "{err}"
    );
    let err = tls(&["--cert", &cert, "--key", &path(d, "client.key")]);
    assert!(err.contains("do not fit together"), "{err}");
    let err = tls(&["--cert", &cert, "--key", &cert]);
    assert!(err.contains("private key"), "{err}");
    let empty = tempfile::tempdir().unwrap();
    let empty = path(empty.path(), "");
    let err = tls(&["--certs", &empty]);
    assert!(
        err.contains("server.pem") && err.contains("--cert FILE"),
        "{err}"
    );
    let err = tls(&[
        "--cert",
        &cert,
        "--key",
        &key,
        "--certs",
        &empty,
        "--require-client-cert",
    ]);
    assert!(err.contains("--require-client-cert needs"), "{err}");
    let err = tls(&["--certs", &path(d, ""), "--ca", &key]);
    assert!(err.contains("server.key"), "{err}");
    let err = refused_to_start(&[
        "serve",
        "--watch",
        "--listen",
        "mqtt://127.0.0.1:0",
        "--require-client-cert",
    ]);
    assert!(err.contains("mqtts://"), "{err}");
}

#[test]
fn paho_python_client_passes_device_cases_over_websocket() {
    let client = Client::Paho;
    let serve = Served::start_on(
        "ws://127.0.0.1:0",
        &["--exec", &client.exec("--websockets")],
    );
    let finished = serve.finish();
    assert!(finished.2["target"].as_str().unwrap().starts_with("ws://"));
    assert_passes_but_deviations(finished, client);
}

#[test]
fn paho_goes_through_the_watch_over_websocket() {
    let version = common::paho_version();
    let w = Served::start_on("ws://127.0.0.1:0", &["--watch"]);
    assert!(w.announced.contains("ws://127.0.0.1:"), "{}", w.announced);
    let ok = Command::new("/usr/bin/python3")
        .args(["tests/device/paho-client.py", "--websockets", "127.0.0.1"])
        .args([&w.port.to_string(), "pahows", "w", "publish", "qos=2"])
        .current_dir(common::root())
        .status()
        .unwrap();
    assert!(ok.success(), "paho-mqtt {version} over WebSocket");
    let (code, text, report) = w.stop();
    let c = conn(&report, "client_id", "pahows");
    assert_eq!(c["packets_from_client"]["PUBREL"], 1, "{text}");
    assert_eq!(c["closed_by"], "client", "{text}");
    assert_eq!(c["findings"], serde_json::json!([]), "{text}");
    assert_eq!(code, 0, "{text}");
}

/// An HTTP upgrade to WebSocket that offers no subprotocol; the status
/// line of the answer.
fn upgrade_without_subprotocol(port: u16) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(
        b"GET /mqtt HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

#[test]
fn a_websocket_client_without_the_mqtt_subprotocol_is_refused_and_judged() {
    let w = Served::start_on("ws://127.0.0.1:0", &["--watch"]);
    let status = upgrade_without_subprotocol(w.port);
    assert!(status.contains(" 400 "), "{status}");
    let (code, text, report) = w.stop();
    let c = &report["connections"][0];
    assert!(
        c["refused"]
            .as_str()
            .unwrap()
            .contains("did not offer the WebSocket subprotocol `mqtt`"),
        "{text}"
    );
    assert_eq!(c["findings"][0]["rule"], "MQTT-6.0.0-3", "{text}");
    // The check of the same name as in capture analysis.
    assert_eq!(
        c["findings"][0]["check"], "client-websocket-offers-mqtt",
        "{text}"
    );
    assert_eq!(code, 1, "{text}");
}

#[test]
fn a_device_without_the_mqtt_subprotocol_fails_its_case() {
    let serve = Served::start_on("ws://127.0.0.1:0", &["--case", "device-publish-qos1"]);
    let status = upgrade_without_subprotocol(serve.port);
    assert!(status.contains(" 400 "), "{status}");
    let (code, out, report) = serve.finish();
    let c = &report["cases"][0];
    assert_eq!(c["verdict"], "fail", "{out}");
    assert_eq!(c["failed_statement"], "MQTT-6.0.0-3", "{out}");
    assert_eq!(code, 1, "{out}");
}
