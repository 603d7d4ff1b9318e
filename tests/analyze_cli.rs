//! `mqttspec analyze` as a user runs it: exit codes, bad input (garbage,
//! truncated, missing files), JSON/JUnit output and `--annotate`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::path::Path;

use mqttspec::capture::synth::{write_pcapng, Link, SynthFrame, TcpConversation};
use mqttspec::codec::{encode, Connack, Connect, Packet, Publish, Text, Version};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A session whose client publishes QoS 0 with DUP=1 (MQTT-3.3.1-2) when `faulty`.
fn session(faulty: bool) -> Vec<u8> {
    let client: SocketAddr = "10.0.0.2:50000".parse().unwrap();
    let server: SocketAddr = "10.0.0.1:1883".parse().unwrap();
    let mut c = TcpConversation::new(client, server);
    let v = Version::V311;
    let mut frames: Vec<SynthFrame> = c.handshake();
    let connect = Packet::Connect(Box::new(Connect {
        client_id: Text::from("dev1"),
        ..Connect::default()
    }));
    frames.extend(c.send(true, &encode(&connect, v)));
    frames.extend(c.send(false, &encode(&Packet::Connack(Connack::default()), v)));
    let publish = Packet::Publish(Publish {
        dup: faulty,
        topic: Text::from("a/b"),
        payload: bytes::Bytes::from_static(b"hi"),
        ..Publish::default()
    });
    frames.extend(c.send(true, &encode(&publish, v)));
    frames.extend(c.fin(true));
    frames.extend(c.fin(false));
    write_pcapng(Link::Ethernet, &frames).unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn clean_capture_is_exit_0() {
    let d = tempfile::tempdir().unwrap();
    let f = write(d.path(), "clean.pcapng", &session(false));
    let o = common::mqttspec(&["analyze", &f]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("client_id=\"dev1\""), "{}", stdout(&o));
    assert!(stdout(&o).contains("closed by client"), "{}", stdout(&o));
}

#[test]
fn violation_is_exit_1_with_rule_and_frame() {
    let d = tempfile::tempdir().unwrap();
    let f = write(d.path(), "dup.pcapng", &session(true));
    let json = d.path().join("a.json");
    let junit = d.path().join("a.xml");
    let o = common::mqttspec(&[
        "analyze",
        &f,
        "--json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    // Frames: 1-3 handshake, 4 CONNECT, 5 CONNACK, 6 PUBLISH.
    assert!(
        out.contains("frame 6") && out.contains("[MQTT-3.3.1-2] client"),
        "{out}"
    );
    let a: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let flow = &a["files"][0]["flows"][0];
    assert_eq!(flow["client"], "10.0.0.2:50000");
    assert_eq!(flow["server"], "10.0.0.1:1883");
    assert_eq!(flow["client_id"], "dev1");
    assert_eq!(flow["version"], "3.1.1");
    assert_eq!(flow["packets"]["PUBLISH"], 1);
    assert_eq!(flow["findings"][0]["rule"], "MQTT-3.3.1-2");
    assert_eq!(flow["findings"][0]["frame"], 6);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("type=\"MQTT-3.3.1-2\""), "{xml}");
}

#[test]
fn garbage_is_exit_2_with_a_reason() {
    let d = tempfile::tempdir().unwrap();
    let f = write(
        d.path(),
        "garbage.pcap",
        b"this is not a capture at all, just text\n",
    );
    let o = common::mqttspec(&["analyze", &f]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("not a pcap or pcapng"),
        "{}",
        stderr(&o)
    );
    let o = common::mqttspec(&["analyze", "/nonexistent/file.pcapng"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot open"), "{}", stderr(&o));
}

#[test]
fn truncated_capture_is_analyzed_up_to_the_cut() {
    let d = tempfile::tempdir().unwrap();
    let full = session(true);
    for cut in [full.len() - 7, full.len() / 2, 40] {
        let f = write(d.path(), "cut.pcapng", &full[..cut]);
        let o = common::mqttspec(&["analyze", &f]);
        let out = stdout(&o);
        assert!(
            matches!(o.status.code(), Some(0) | Some(1)),
            "cut {cut}: {out}{}",
            stderr(&o)
        );
        assert!(out.contains("truncated"), "cut {cut}: {out}");
    }
}

#[test]
fn annotate_writes_a_comment_on_the_offending_frame() {
    let d = tempfile::tempdir().unwrap();
    let f = write(d.path(), "dup.pcapng", &session(true));
    let out = d.path().join("annotated.pcapng");
    let o = common::mqttspec(&["analyze", &f, "--annotate", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // The copy has the same frames, and analyzing it gives the same findings.
    let o2 = common::mqttspec(&["analyze", out.to_str().unwrap()]);
    assert_eq!(o2.status.code(), Some(1));
    let bytes = std::fs::read(&out).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("[MQTT-3.3.1-2]"), "comment missing");
    if let Ok(t) = std::process::Command::new("tshark")
        .args([
            "-r",
            out.to_str().unwrap(),
            "-Y",
            "frame.comment",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "frame.comment",
        ])
        .output()
    {
        if t.status.success() {
            let s = String::from_utf8_lossy(&t.stdout);
            assert!(s.starts_with("6\t[MQTT-3.3.1-2]"), "{s}");
        }
    }
}

/// `gzip FILE` (the real tool) of `bytes`, written as `name.gz` in `dir`.
fn gzipped(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let plain = write(dir, name, bytes);
    let o = std::process::Command::new("gzip")
        .args(["-f", &plain])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    format!("{plain}.gz")
}

/// The JSON analysis of `file`, without the file name.
fn analysis(file: &str) -> (Option<i32>, serde_json::Value) {
    let d = tempfile::tempdir().unwrap();
    let json = d.path().join("a.json");
    let o = common::mqttspec(&["analyze", file, "--json", json.to_str().unwrap()]);
    let mut a: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    a["files"][0]["file"] = serde_json::Value::Null;
    (o.status.code(), a)
}

/// A gzip-compressed capture (as Wireshark reads and writes them) gives
/// the analysis of the plain file, findings and frames included, and
/// `--annotate` reads it too.
#[test]
fn gzip_capture_reads_as_the_plain_one() {
    let d = tempfile::tempdir().unwrap();
    let root = common::root().join("captures");
    for sample in [
        "clean-multi-client.pcapng",
        "violation-dup-qos0.pcapng",
        "linux-sll.pcap",
        "tls-mutual-auth-fail.pcapng",
    ] {
        let path = root.join(sample);
        let Ok(bytes) = std::fs::read(&path) else {
            panic!("sample {} missing", path.display());
        };
        let gz = gzipped(d.path(), sample, &bytes);
        let plain = analysis(path.to_str().unwrap());
        let packed = analysis(&gz);
        assert_eq!(plain, packed, "{sample}");
        assert!(
            packed.1["summary"]["frames"].as_u64().unwrap() > 0,
            "{sample}"
        );
    }
    let gz = gzipped(d.path(), "dup.pcapng", &session(true));
    let out = d.path().join("annotated.pcapng");
    let o = common::mqttspec(&["analyze", &gz, "--annotate", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&std::fs::read(&out).unwrap()).into_owned();
    assert!(text.contains("[MQTT-3.3.1-2]"), "comment missing");
}

/// A gzip file cut short (a copy of a capture still being written) is
/// analyzed up to the damage, with a notice saying so; a cut inside the
/// gzip header is "nothing readable", with the reason.
#[test]
fn cut_gzip_is_analyzed_up_to_the_damage() {
    let d = tempfile::tempdir().unwrap();
    let gz = std::fs::read(gzipped(d.path(), "dup.pcapng", &session(true))).unwrap();
    // Without the 8-byte trailer every frame is there, the finding too.
    let f = write(d.path(), "no-trailer.pcapng.gz", &gz[..gz.len() - 8]);
    let o = common::mqttspec(&["analyze", &f]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(
        out.contains("[MQTT-3.3.1-2]") && out.contains("frame 6"),
        "{out}"
    );
    assert!(out.contains("gzip stream is damaged"), "{out}");
    for cut in [gz.len() / 2, gz.len() / 3, 30] {
        let f = write(d.path(), "cut.pcapng.gz", &gz[..cut]);
        let o = common::mqttspec(&["analyze", &f]);
        let out = stdout(&o);
        assert!(
            matches!(o.status.code(), Some(0..=2)),
            "cut {cut}: {out}{}",
            stderr(&o)
        );
        assert!(
            out.contains("gzip stream is damaged") || stderr(&o).contains("damaged gzip"),
            "cut {cut}: {out}{}",
            stderr(&o)
        );
    }
    let f = write(d.path(), "head.gz", &gz[..5]);
    let o = common::mqttspec(&["analyze", &f]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("damaged gzip stream"), "{}", stderr(&o));
}

/// Compressors Wireshark 4.0 does not read either are named, with the
/// command that decompresses them.
#[test]
fn other_compressors_are_named() {
    let d = tempfile::tempdir().unwrap();
    let f = write(
        d.path(),
        "c.pcapng.zst",
        &[0x28, 0xb5, 0x2f, 0xfd, 0x24, 0, 0, 0],
    );
    let o = common::mqttspec(&["analyze", &f]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("zstd -d"), "{}", stderr(&o));
}

/// `-` reads the capture from standard input, e.g. from `tcpdump -w -`.
#[test]
fn dash_reads_standard_input() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_mqttspec"))
        .args(["analyze", "-"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let capture = session(true);
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // In pieces, as a pipe delivers them.
        for piece in capture.chunks(100) {
            stdin.write_all(piece).unwrap();
        }
    });
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(out.contains("(standard input)"), "{out}");
    assert!(
        out.contains("frame 6") && out.contains("[MQTT-3.3.1-2]"),
        "{out}"
    );

    let o = common::mqttspec(&["analyze", "-", "--annotate", "/tmp/never-written.pcapng"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not standard input"), "{}", stderr(&o));
    let o = common::mqttspec(&["analyze", "-", "-"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("only once"), "{}", stderr(&o));
}
