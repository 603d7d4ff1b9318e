//! The sample captures of `captures/`: every file is built here from fixed
//! addresses, ports, sequence numbers and timestamps, so that regenerating
//! them gives the same bytes.
//!
//! Regenerate with `cargo run --example gen_captures` (writes into
//! `captures/`); `tests/captures.rs` checks that the committed files equal
//! what this module produces.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

mod packets;
mod tls;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use mqttspec::capture::pcapng::{Interface, PcapngWriter};
use mqttspec::capture::synth::{write_pcap, Link, SynthFrame, TcpConversation};

use packets::*;

/// One sample capture: its file name and bytes.
pub struct Sample {
    pub file: &'static str,
    pub bytes: Vec<u8>,
}

/// Every sample capture, in a fixed order.
pub fn samples() -> Vec<Sample> {
    vec![
        sample("clean-multi-client.pcapng", clean_multi_client()),
        sample("one-way-to-server.pcapng", one_way(true)),
        sample("one-way-to-client.pcapng", one_way(false)),
        sample("segmented.pcapng", segmented()),
        sample("coalesced.pcapng", coalesced()),
        sample("out-of-order.pcapng", out_of_order()),
        sample("retransmission.pcapng", retransmission()),
        sample("gap.pcapng", gap(b"~~~~~~~~~~", Dropped::Middle)),
        sample(
            "gap-misleading-payload.pcapng",
            gap(b"0123456789", Dropped::First),
        ),
        sample("varint-split.pcapng", varint_split()),
        sample("snaplen.pcapng", snaplen()),
        sample("ipv6.pcapng", ipv6()),
        sample("linux-sll.pcap", linux_sll()),
        sample("linux-sll2.pcapng", linux_sll2()),
        sample("two-interfaces.pcapng", two_interfaces()),
        sample("mqtt5-properties.pcapng", mqtt5_properties()),
        sample("tls-mutual-auth-ok.pcapng", tls_mutual_auth(true)),
        sample("tls-mutual-auth-fail.pcapng", tls_mutual_auth(false)),
        sample("one-way-tls-to-client.pcapng", one_way_tls_to_client()),
        sample("violation-first-not-connect.pcapng", first_not_connect()),
        sample("violation-second-connect.pcapng", second_connect()),
        sample("violation-subscribe-flags.pcapng", subscribe_flags()),
        sample("violation-dup-qos0.pcapng", dup_qos0()),
        sample(
            "violation-dollar-topic-to-hash.pcapng",
            dollar_topic_to_hash(),
        ),
        sample(
            "violation-redelivery-without-dup.pcapng",
            redelivery_without_dup(),
        ),
        sample("violation-qos3.pcapng", qos3()),
        sample("websocket.pcapng", websocket()),
        sample(
            "violation-websocket-text-frame.pcapng",
            websocket_text_frame(),
        ),
        sample(
            "violation-websocket-subprotocol.pcapng",
            websocket_subprotocol(),
        ),
    ]
}

/// Write every sample into `dir`; returns the paths written.
pub fn write_all(dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut out = Vec::new();
    for s in samples() {
        let path = dir.join(s.file);
        std::fs::write(&path, &s.bytes)?;
        out.push(path);
    }
    Ok(out)
}

fn sample(file: &'static str, bytes: io::Result<Vec<u8>>) -> Sample {
    Sample {
        file,
        bytes: bytes.expect("writing to a Vec cannot fail"),
    }
}

const BROKER_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const START: Duration = Duration::from_secs(1_704_067_200);

fn v4(last: u8, port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)), port)
}

fn broker(port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(BROKER_V4), port)
}

/// One frame as it will be written, with its interface and comments.
struct Out {
    interface: u32,
    frame: SynthFrame,
    comments: Vec<String>,
}

/// Several TCP conversations sharing one clock; frames are kept in the
/// order they were produced, each with its interface and optional comments.
struct Script {
    convs: Vec<Option<TcpConversation>>,
    interfaces: Vec<u32>,
    out: Vec<Out>,
    now: Duration,
    /// Snapshot length the interfaces declare.
    snaplen: u32,
}

impl Script {
    fn new() -> Script {
        Script {
            convs: Vec::new(),
            interfaces: Vec::new(),
            out: Vec::new(),
            now: START,
            snaplen: 65_535,
        }
    }

    /// Keep the first `snaplen` bytes of every frame, as a capture with
    /// that snapshot length does.
    fn cut(&mut self, snaplen: u32) {
        self.snaplen = snaplen;
        for o in &mut self.out {
            o.frame.truncate(snaplen as usize);
        }
    }

    /// Add a conversation written on interface 0.
    fn conv(&mut self, c: TcpConversation) -> usize {
        self.conv_on(c, 0)
    }

    fn conv_on(&mut self, c: TcpConversation, interface: u32) -> usize {
        self.convs.push(Some(c));
        self.interfaces.push(interface);
        self.convs.len() - 1
    }

    /// Run one step of conversation `i` at the script's clock.
    fn run(&mut self, i: usize, f: impl FnOnce(&mut TcpConversation) -> Vec<SynthFrame>) {
        let mut c = self.convs[i]
            .take()
            .expect("conversation in use")
            .start(self.now);
        let frames = f(&mut c);
        self.now = c.now();
        self.convs[i] = Some(c);
        let interface = self.interfaces[i];
        self.out.extend(frames.into_iter().map(|frame| Out {
            interface,
            frame,
            comments: Vec::new(),
        }));
    }

    fn handshake(&mut self, i: usize) {
        self.run(i, |c| c.handshake());
    }

    /// Bytes from the client of conversation `i`.
    fn c2s(&mut self, i: usize, bytes: &[u8]) {
        self.run(i, |c| c.send(true, bytes));
    }

    /// Bytes from the server of conversation `i`.
    fn s2c(&mut self, i: usize, bytes: &[u8]) {
        self.run(i, |c| c.send(false, bytes));
    }

    /// The client closes (FIN, FIN, ACK).
    fn close(&mut self, i: usize) {
        self.run(i, |c| {
            let mut f = c.fin(true);
            f.extend(c.fin(false));
            f.extend(c.ack(true));
            f
        });
    }

    /// Comment the last frame written.
    fn note(&mut self, text: &str) {
        if let Some(o) = self.out.last_mut() {
            o.comments.push(text.to_string());
        }
    }

    /// Exchange the contents of two frames (1-based numbers); timestamps,
    /// interfaces and comments stay in place, so the capture order differs
    /// from the sending order.
    fn swap(&mut self, a: usize, b: usize) {
        let (a, b) = (a - 1, b - 1);
        let fa = self.out[a].frame.clone();
        let fb = std::mem::replace(&mut self.out[b].frame, fa.clone());
        self.out[b].frame.ts = fb.ts;
        self.out[a].frame = SynthFrame { ts: fa.ts, ..fb };
    }

    fn pcapng(&self, links: &[Link]) -> io::Result<Vec<u8>> {
        let itfs: Vec<Interface> = links
            .iter()
            .map(|l| Interface {
                linktype: l.linktype(),
                snaplen: self.snaplen,
                ts_resolution_nanos: true,
            })
            .collect();
        let mut w = PcapngWriter::new(Vec::new(), &itfs)?;
        for o in &self.out {
            let comments: Vec<&str> = o.comments.iter().map(String::as_str).collect();
            w.packet(
                o.interface,
                o.frame.ts,
                &o.frame.data,
                o.frame.orig_len,
                &comments,
            )?;
        }
        w.finish()
    }

    /// Keep only the (Ethernet) frames sent to `port` (`to_server`), or
    /// only the others, as a capture filter on one direction does.
    fn one_way(&mut self, port: u16, to_server: bool) {
        self.out.retain(|o| {
            let dst = match etherparse::SlicedPacket::from_ethernet(&o.frame.data) {
                Ok(etherparse::SlicedPacket {
                    transport: Some(etherparse::TransportSlice::Tcp(t)),
                    ..
                }) => t.destination_port(),
                _ => 0,
            };
            (dst == port) == to_server
        });
    }

    fn frames(&self) -> Vec<SynthFrame> {
        self.out.iter().map(|o| o.frame.clone()).collect()
    }
}

/// CONNECT / CONNACK over a fresh TCP connection.
fn open(s: &mut Script, i: usize, client_id: &str) {
    s.handshake(i);
    s.c2s(i, &connect(client_id));
    s.s2c(i, &connack());
}

/// DISCONNECT and the TCP close.
fn disconnect(s: &mut Script, i: usize) {
    s.c2s(i, &disconnect_packet());
    s.close(i);
}

fn clean_multi_client() -> io::Result<Vec<u8>> {
    clean_multi_client_script().pcapng(&[Link::Ethernet])
}

/// The clean multi-client session as a capture that holds one direction
/// only (e.g. `tcpdump dst port 1883`): every frame to the broker, or every
/// frame from it.
fn one_way(to_server: bool) -> io::Result<Vec<u8>> {
    let mut s = clean_multi_client_script();
    s.one_way(1883, to_server);
    s.pcapng(&[Link::Ethernet])
}

/// The failed mutual-authentication handshake with the broker's side only.
fn one_way_tls_to_client() -> io::Result<Vec<u8>> {
    let mut s = tls_mutual_auth_script(false);
    s.one_way(8883, false);
    s.pcapng(&[Link::Ethernet])
}

fn clean_multi_client_script() -> Script {
    let mut s = Script::new();
    let a = s.conv(TcpConversation::new(v4(10, 50_001), broker(1883)));
    let b = s.conv(TcpConversation::new(v4(11, 50_002), broker(1883)).isn(20_000, 90_000));
    open(&mut s, a, "sensor-a");
    open(&mut s, b, "panel-b");
    // A publishes a retained status before anyone subscribes.
    s.c2s(
        a,
        &publish("site/status", b"online", 1, Some(1), true, false),
    );
    s.s2c(a, &puback(1));
    s.c2s(a, &subscribe(1, &[("cmd/a/#", 2)]));
    s.s2c(a, &suback(1, &[2]));
    s.c2s(b, &subscribe(1, &[("site/#", 2)]));
    s.s2c(b, &suback(1, &[2]));
    // The retained message reaches B on subscription.
    s.s2c(
        b,
        &publish("site/status", b"online", 1, Some(1), true, false),
    );
    s.c2s(b, &puback(1));
    // A → B at QoS 0, 1, 2.
    s.c2s(a, &publish("site/temp", b"21.5", 0, None, false, false));
    s.s2c(b, &publish("site/temp", b"21.5", 0, None, false, false));
    s.c2s(a, &publish("site/temp", b"21.6", 1, Some(2), false, false));
    s.s2c(a, &puback(2));
    s.s2c(b, &publish("site/temp", b"21.6", 1, Some(2), false, false));
    s.c2s(b, &puback(2));
    s.c2s(a, &publish("site/temp", b"21.7", 2, Some(3), false, false));
    s.s2c(a, &pubrec(3));
    s.c2s(a, &pubrel(3));
    s.s2c(a, &pubcomp(3));
    s.s2c(b, &publish("site/temp", b"21.7", 2, Some(3), false, false));
    s.c2s(b, &pubrec(3));
    s.s2c(b, &pubrel(3));
    s.c2s(b, &pubcomp(3));
    // B → A at QoS 0, 1, 2.
    s.c2s(b, &publish("cmd/a/led", b"on", 0, None, false, false));
    s.s2c(a, &publish("cmd/a/led", b"on", 0, None, false, false));
    s.c2s(b, &publish("cmd/a/led", b"off", 1, Some(4), false, false));
    s.s2c(b, &puback(4));
    s.s2c(a, &publish("cmd/a/led", b"off", 1, Some(1), false, false));
    s.c2s(a, &puback(1));
    s.c2s(b, &publish("cmd/a/fw", b"v2", 2, Some(5), false, false));
    s.s2c(b, &pubrec(5));
    s.c2s(b, &pubrel(5));
    s.s2c(b, &pubcomp(5));
    s.s2c(a, &publish("cmd/a/fw", b"v2", 2, Some(2), false, false));
    s.c2s(a, &pubrec(2));
    s.s2c(a, &pubrel(2));
    s.c2s(a, &pubcomp(2));
    // Keep-alive, then both leave.
    s.c2s(a, &pingreq());
    s.s2c(a, &pingresp());
    s.c2s(b, &pingreq());
    s.s2c(b, &pingresp());
    disconnect(&mut s, a);
    disconnect(&mut s, b);
    s
}

fn segmented() -> io::Result<Vec<u8>> {
    let mut s = Script::new();
    let a = s.conv(TcpConversation::new(v4(10, 50_010), broker(1883)).mss(24));
    open(&mut s, a, "seg");
    // 10 (header+topic) + 50 payload = 60 bytes → 3 segments of at most 24.
    let p = publish(
        "seg/t",
        b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN",
        0,
        None,
        false,
        false,
    );
    s.c2s(a, &p);
    s.note("one PUBLISH in three segments (MSS 24)");
    disconnect(&mut s, a);
    s.pcapng(&[Link::Ethernet])
}

fn coalesced() -> io::Result<Vec<u8>> {
    let mut s = Script::new();
    let a = s.conv(TcpConversation::new(v4(10, 50_011), broker(1883)));
    s.handshake(a);
    // CONNECT, SUBSCRIBE and a QoS 1 PUBLISH in one segment.
    let mut first = connect("coal");
    first.extend(subscribe(1, &[("coal/#", 1)]));
    first.extend(publish("coal/x", b"1", 1, Some(2), false, false));
    s.c2s(a, &first);
    s.note("CONNECT + SUBSCRIBE + PUBLISH in one segment");
    let mut reply = connack();
    reply.extend(suback(1, &[1]));
    reply.extend(puback(2));
    reply.extend(publish("coal/x", b"1", 1, Some(1), false, false));
    s.s2c(a, &reply);
    s.note("CONNACK + SUBACK + PUBACK + PUBLISH in one segment");
    let mut last = puback(1);
    last.extend(pingreq());
    last.extend(disconnect_packet());
    s.c2s(a, &last);
    s.note("PUBACK + PINGREQ + DISCONNECT in one segment");
    s.s2c(a, &pingresp());
    s.close(a);
    s.pcapng(&[Link::Ethernet])
}

fn out_of_order() -> io::Result<Vec<u8>> {
    let mut s = Script::new();
    let a = s.conv(TcpConversation::new(v4(10, 50_012), broker(1883)).mss(20));
    open(&mut s, a, "ooo"); // frames 1-5
    let p = publish(
        "ooo/t",
        b"abcdefghijklmnopqrstuvwxyz",
        0,
        None,
        false,
        false,
    );
    s.c2s(a, &p); // frames 6, 7 (37 bytes in 20 + 17)
    s.swap(6, 7);
    s.note("first half of the PUBLISH, sent before frame 6 but captured after it");
    s.c2s(a, &pingreq());
    s.s2c(a, &pingresp());
    disconnect(&mut s, a);
    s.pcapng(&[Link::Ethernet])
}

fn retransmission() -> io::Result<Vec<u8>> {
    let mut s = Script::new();
    let a = s.conv(TcpConversation::new(v4(10, 50_013), broker(1883)));
    open(&mut s, a, "retx"); // frames 1-5
    s.c2s(a, &publish("retx/t", b"hello", 1, Some(1), false, false)); // 6
    let again = s.out[5].frame.clone();
    s.run(a, |c| {
        // The same segment again, a little later.
        let mut f = again.clone();
        f.ts = c.now();
        c.wait(Duration::from_millis(1));
        vec![f]
    });
    s.note("TCP retransmission of frame 6");
    s.s2c(a, &puback(1)); // 8
                          // A segment that overlaps the previous one: PINGREQ re-sent with the
                          // DISCONNECT that follows it.
    s.c2s(a, &pingreq()); // 9
    let seq = s.convs[a].as_ref().unwrap().next_seq(true).wrapping_sub(2);
    let mut both = pingreq();
    both.extend(disconnect_packet());
    s.run(a, |c| {
        let flags = mqttspec::capture::synth::Flags {
            ack: true,
            psh: true,
            ..Default::default()
        };
        vec![c.segment(true, seq, flags, &both)]
    });
    s.note("retransmits the PINGREQ of frame 9 and adds a DISCONNECT");
    s.s2c(a, &pingresp()); // 11
                           // The conversation's sequence number did not move past the DISCONNECT;
                           // close from the server side instead.
    s.run(a, |c| c.rst(false));
    s.pcapng(&[Link::Ethernet])
}

/// Which segment of the PUBLISH in [`gap`] was not captured.
#[derive(Clone, Copy, PartialEq)]
enum Dropped {
    /// The first: its fixed header is lost, and with it where the next
    /// packet starts.
    First,
    /// The middle one: the fixed header tells where the next packet starts.
    Middle,
}

/// A 109-byte PUBLISH in three segments of which one was not captured,
/// then more packets. The payload repeats `pattern`: "~" (0x7E) can never
/// start a packet, while digits look like PUBLISH headers ("1" = 0x31,
/// remaining length "2" = 50), which a decoder resynchronizing after the gap
/// must not take for packets.
fn gap(pattern: &[u8; 10], dropped: Dropped) -> io::Result<Vec<u8>> {
    let port = if pattern[0] == b'~' { 50_014 } else { 50_016 };
    let mut s = Script::new();
    let a = s.conv(TcpConversation::new(v4(10, port), broker(1883)).mss(40));
    open(&mut s, a, "gap"); // frames 1-5
    let payload: Vec<u8> = pattern.repeat(10);
    s.c2s(a, &publish("gap/t", &payload, 0, None, false, false)); // 6, 7, 8
    match dropped {
        Dropped::First => {
            s.out.remove(5); // old frame 6
            s.out[5].comments.push(
                "the PUBLISH's first segment (40 bytes, with its fixed header) was not captured"
                    .to_string(),
            );
        }
        Dropped::Middle => {
            s.out.remove(6); // old frame 7
            s.note("the previous segment (40 bytes of the PUBLISH) was not captured");
        }
    }
    s.c2s(a, &publish("gap/t", b"after", 1, Some(1), false, false)); // 8
    s.s2c(a, &puback(1)); // 9
    s.c2s(a, &pingreq()); // 10
    s.s2c(a, &pingresp()); // 11
    disconnect(&mut s, a);
    s.pcapng(&[Link::Ethernet])
}

/// Recorded with a snapshot length of 80 bytes, which leaves 26 bytes of
/// MQTT per segment: longer packets are cut, and each one's fixed header
/// tells where the next packet starts. In frame 9 a PINGREQ follows a cut
/// PUBLISH in the same segment and is lost with the PUBLISH's end.
fn snaplen() -> io::Result<Vec<u8>> {
    let mut s = Script::new();
    let a = s.conv(TcpConversation::new(v4(10, 50_017), broker(1883)));
    open(&mut s, a, "snap"); // frames 1-5
    s.c2s(
        a,
        &publish("snap/t", &[b'p'; 200], 1, Some(1), false, false),
    ); // 6
    s.note("PUBLISH of 213 bytes, cut after 26 by the snapshot length");
    s.s2c(a, &puback(1)); // 7
    s.s2c(a, &publish("snap/t", &[b'q'; 300], 0, None, false, false)); // 8
    s.note("PUBLISH of 311 bytes, cut after 26");
    let mut two = publish("snap/u", &[b'r'; 100], 0, None, false, false);
    two.extend(pingreq());
    s.c2s(a, &two); // 9
    s.note("PUBLISH of 110 bytes and a PINGREQ, cut after 26");
    s.s2c(a, &pingresp()); // 10
    disconnect(&mut s, a);
    s.cut(80);
    s.pcapng(&[Link::Ethernet])
}

fn varint_split() -> io::Result<Vec<u8>> {
    let mut s = Script::new();
    let a = s.conv(TcpConversation::new(v4(10, 50_015), broker(1883)));
    open(&mut s, a, "varint"); // 1-5
                               // Remaining length 200 = 0xC8 0x01: the segment ends after 0xC8.
    let p = publish("v/t", &[b'x'; 195], 0, None, false, false);
    assert_eq!(&p[..3], &[0x30, 0xC8, 0x01]);
    s.c2s(a, &p[..2]);
    s.note("PUBLISH fixed header: type byte and the first remaining-length byte");
    s.c2s(a, &p[2..]);
    s.note("second remaining-length byte, then the rest of the PUBLISH");
    s.c2s(a, &pingreq());
    s.s2c(a, &pingresp());
    disconnect(&mut s, a);
    s.pcapng(&[Link::Ethernet])
}

fn small_session(s: &mut Script, i: usize, id: &str) {
    open(s, i, id);
    s.c2s(i, &subscribe(1, &[("t/#", 1)]));
    s.s2c(i, &suback(1, &[1]));
    s.c2s(i, &publish("t/1", b"x", 1, Some(2), false, false));
    s.s2c(i, &puback(2));
    s.s2c(i, &publish("t/1", b"x", 1, Some(1), false, false));
    s.c2s(i, &puback(1));
    disconnect(s, i);
}

fn ipv6() -> io::Result<Vec<u8>> {
    let client = SocketAddr::new(
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10)),
        50_020,
    );
    let server = SocketAddr::new(
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        1883,
    );
    let mut s = Script::new();
    let a = s.conv(TcpConversation::new(client, server));
    small_session(&mut s, a, "v6");
    s.pcapng(&[Link::Ethernet])
}

fn linux_sll() -> io::Result<Vec<u8>> {
    let mut s = Script::new();
    let a = s.conv(TcpConversation::new(v4(10, 50_021), broker(1883)).link(Link::Sll));
    small_session(&mut s, a, "sll");
    write_pcap(Link::Sll, &s.frames(), false, false)
}

fn linux_sll2() -> io::Result<Vec<u8>> {
    let mut s = Script::new();
    let a = s.conv(TcpConversation::new(v4(10, 50_022), broker(1883)).link(Link::Sll2));
    small_session(&mut s, a, "sll2");
    s.pcapng(&[Link::Sll2])
}

fn two_interfaces() -> io::Result<Vec<u8>> {
    let mut s = Script::new();
    let a = s.conv_on(TcpConversation::new(v4(10, 50_023), broker(1883)), 0);
    let b = s.conv_on(
        TcpConversation::new(v4(11, 50_024), broker(1883))
            .link(Link::RawIp)
            .isn(7000, 9000),
        1,
    );
    open(&mut s, a, "eth");
    open(&mut s, b, "rawip");
    s.c2s(a, &publish("x/eth", b"1", 0, None, false, false));
    s.c2s(b, &publish("x/raw", b"2", 0, None, false, false));
    disconnect(&mut s, a);
    disconnect(&mut s, b);
    s.pcapng(&[Link::Ethernet, Link::RawIp])
}

fn mqtt5_properties() -> io::Result<Vec<u8>> {
    let mut s = Script::new();
    let a = s.conv(TcpConversation::new(v4(10, 50_025), broker(1883)));
    s.handshake(a);
    s.c2s(a, &v5::connect("props-5"));
    s.s2c(a, &v5::connack());
    s.c2s(a, &v5::subscribe(1, "p/#", 1));
    s.s2c(a, &v5::suback(1, 1));
    s.c2s(a, &v5::publish("p/a", 1, Some(2), None));
    s.s2c(a, &v5::puback(2));
    s.s2c(a, &v5::publish("p/a", 1, Some(1), Some(7)));
    s.c2s(a, &v5::puback(1));
    // Later messages use the topic alias (empty topic name).
    s.c2s(a, &v5::publish("", 0, None, None));
    s.s2c(a, &v5::publish("p/a", 0, None, Some(7)));
    s.c2s(a, &v5::disconnect());
    s.close(a);
    s.pcapng(&[Link::Ethernet])
}

fn tls_mutual_auth(ok: bool) -> io::Result<Vec<u8>> {
    tls_mutual_auth_script(ok).pcapng(&[Link::Ethernet])
}

fn tls_mutual_auth_script(ok: bool) -> Script {
    let mut s = Script::new();
    let port = if ok { 50_030 } else { 50_031 };
    let a = s.conv(TcpConversation::new(v4(10, port), broker(8883)));
    s.handshake(a);
    s.c2s(a, &tls::client_hello());
    s.s2c(a, &tls::server_flight());
    if ok {
        s.c2s(a, &tls::client_flight(true));
        s.s2c(a, &tls::server_finished());
        // CONNECT, CONNACK, DISCONNECT as application data.
        s.c2s(a, &tls::app_data(0x51, 30));
        s.s2c(a, &tls::app_data(0x52, 4));
        s.c2s(a, &tls::app_data(0x53, 2));
        s.c2s(a, &tls::encrypted_alert(0x54));
        s.close(a);
    } else {
        s.c2s(a, &tls::client_flight(false));
        s.note("empty client Certificate");
        s.s2c(a, &tls::fatal_alert(40));
        s.note("fatal alert handshake_failure");
        s.run(a, |c| {
            let mut f = c.fin(false);
            f.extend(c.rst(true));
            f
        });
    }
    s
}

/// A connection that opens with CONNECT / CONNACK, then runs `body`.
fn violation(port: u16, id: &str, body: impl FnOnce(&mut Script, usize)) -> io::Result<Vec<u8>> {
    let mut s = Script::new();
    let a = s.conv(TcpConversation::new(v4(10, port), broker(1883)));
    open(&mut s, a, id);
    body(&mut s, a);
    s.pcapng(&[Link::Ethernet])
}

fn first_not_connect() -> io::Result<Vec<u8>> {
    let mut s = Script::new();
    let a = s.conv(TcpConversation::new(v4(10, 50_040), broker(1883)));
    s.handshake(a);
    s.c2s(a, &pingreq()); // 4
    s.note("violation: the first packet is PINGREQ, not CONNECT");
    s.run(a, |c| c.fin(false));
    s.run(a, |c| {
        let mut f = c.fin(true);
        f.extend(c.ack(false));
        f
    });
    s.pcapng(&[Link::Ethernet])
}

fn second_connect() -> io::Result<Vec<u8>> {
    violation(50_041, "twice", |s, a| {
        s.c2s(a, &connect("twice")); // 6
        s.note("a second CONNECT on the same connection");
        // The server does not disconnect the client.
        s.c2s(a, &pingreq()); // 7
        s.s2c(a, &pingresp()); // 8
        s.note("violation: the server still serves the client after a second CONNECT");
        disconnect(s, a);
    })
}

fn subscribe_flags() -> io::Result<Vec<u8>> {
    violation(50_042, "flags", |s, a| {
        let mut p = subscribe(1, &[("f/#", 0)]);
        p[0] = 0x80; // flags 0000 instead of 0010
        s.c2s(a, &p); // 6
        s.note("violation: SUBSCRIBE with fixed-header flags 0000");
        s.run(a, |c| {
            let mut f = c.fin(false);
            f.extend(c.fin(true));
            f.extend(c.ack(false));
            f
        });
    })
}

fn dup_qos0() -> io::Result<Vec<u8>> {
    violation(50_043, "dup0", |s, a| {
        s.c2s(a, &publish("d/t", b"x", 0, None, false, true)); // 6
        s.note("violation: PUBLISH QoS 0 with DUP=1");
        disconnect(s, a);
    })
}

fn dollar_topic_to_hash() -> io::Result<Vec<u8>> {
    violation(50_044, "all", |s, a| {
        s.c2s(a, &subscribe(1, &[("#", 0)])); // 6
        s.s2c(a, &suback(1, &[0])); // 7
        s.s2c(
            a,
            &publish("$SYS/broker/uptime", b"42", 0, None, false, false),
        ); // 8
        s.note("violation: a $SYS topic delivered to a `#` subscription");
        s.s2c(a, &publish("normal/t", b"ok", 0, None, false, false)); // 9
        disconnect(s, a);
    })
}

fn redelivery_without_dup() -> io::Result<Vec<u8>> {
    violation(50_045, "redeliver", |s, a| {
        s.c2s(a, &publish("r/t", b"once", 1, Some(7), false, false)); // 6
        s.c2s(a, &publish("r/t", b"once", 1, Some(7), false, false)); // 7
        s.note("violation: packet id 7 re-sent before its PUBACK with DUP=0");
        s.s2c(a, &puback(7)); // 8
        disconnect(s, a);
    })
}

fn qos3() -> io::Result<Vec<u8>> {
    violation(50_046, "qos3", |s, a| {
        s.c2s(a, &publish("q/t", b"x", 3, Some(1), false, false)); // 6
        s.note("violation: PUBLISH with QoS bits 11");
        s.run(a, |c| {
            let mut f = c.fin(false);
            f.extend(c.fin(true));
            f.extend(c.ack(false));
            f
        });
    })
}

/// A WebSocket frame (RFC 6455): `fin`, `opcode`, masked with a fixed key
/// when `masked` (every client frame is).
fn ws_frame(fin: bool, opcode: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut f = vec![u8::from(fin) << 7 | opcode];
    let m = if masked { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => f.push(m | n as u8),
        n => {
            f.push(m | 126);
            f.extend((n as u16).to_be_bytes());
        }
    }
    let key = [0x12, 0x34, 0x56, 0x78];
    if masked {
        f.extend(key);
        f.extend(payload.iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k));
    } else {
        f.extend_from_slice(payload);
    }
    f
}

/// A whole binary frame from the client (masked) or the server.
fn ws_binary(from_client: bool, payload: &[u8]) -> Vec<u8> {
    ws_frame(true, 2, payload, from_client)
}

/// The HTTP upgrade of an MQTT-over-WebSocket connection on port 8080
/// offering "mqtt" and choosing it, then CONNECT and CONNACK.
fn ws_open(s: &mut Script, i: usize, client_id: &str) {
    ws_open_with(s, i, client_id, "mqtt", Some("mqtt"));
}

/// The same with the subprotocols `offered` and `chosen` (None: the
/// response names none).
fn ws_open_with(s: &mut Script, i: usize, client_id: &str, offered: &str, chosen: Option<&str>) {
    s.handshake(i);
    let request = format!(
        "GET /mqtt HTTP/1.1\r\nHost: 192.0.2.1:8080\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {offered}\r\n\r\n"
    );
    s.c2s(i, request.as_bytes());
    let protocol = chosen
        .map(|c| format!("Sec-WebSocket-Protocol: {c}\r\n"))
        .unwrap_or_default();
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n{protocol}\r\n"
    );
    s.s2c(i, response.as_bytes());
    s.c2s(i, &ws_binary(true, &connect(client_id)));
    s.s2c(i, &ws_binary(false, &connack()));
}

/// MQTT over WebSocket on port 8080 (not an MQTT port: the HTTP upgrade
/// offering `mqtt` tells). Two packets in one frame, a PUBLISH split over
/// two frames with a ping between them, close frames at the end.
fn websocket() -> io::Result<Vec<u8>> {
    let mut s = Script::new();
    let a = s.conv(TcpConversation::new(v4(10, 50_030), broker(8080)));
    ws_open(&mut s, a, "ws"); // frames 1-7
    let mut two = subscribe(1, &[("ws/#", 1)]);
    two.extend(publish("other/x", b"1", 1, Some(2), false, false));
    s.c2s(a, &ws_binary(true, &two)); // 8
    s.note("SUBSCRIBE + PUBLISH in one WebSocket frame");
    let mut acks = suback(1, &[1]);
    acks.extend(puback(2));
    s.s2c(a, &ws_binary(false, &acks)); // 9
    let p = publish("other/y", &[b'w'; 40], 0, None, false, false);
    let mut split = ws_frame(false, 2, &p[..10], true);
    split.extend(ws_frame(true, 9, b"ping", true));
    split.extend(ws_frame(true, 0, &p[10..], true));
    s.c2s(a, &split); // 10
    s.note("a PUBLISH in a binary frame and its continuation, a ping between them");
    s.s2c(a, &ws_frame(true, 10, b"ping", false)); // 11: pong
    s.c2s(a, &ws_binary(true, &pingreq())); // 12
    s.s2c(a, &ws_binary(false, &pingresp())); // 13
    s.c2s(a, &ws_binary(true, &disconnect_packet())); // 14
    s.c2s(a, &ws_frame(true, 8, &1000u16.to_be_bytes(), true)); // 15
    s.s2c(a, &ws_frame(true, 8, &1000u16.to_be_bytes(), false)); // 16
    s.close(a);
    s.pcapng(&[Link::Ethernet])
}

/// MQTT over WebSocket: the client sends a text frame (MQTT-6.0.0-1), and
/// the server closes the connection.
fn websocket_text_frame() -> io::Result<Vec<u8>> {
    let mut s = Script::new();
    let a = s.conv(TcpConversation::new(v4(10, 50_031), broker(8080)));
    ws_open(&mut s, a, "wstext"); // frames 1-7
    s.c2s(a, &ws_frame(true, 1, b"hello", true)); // 8
    s.note("a text frame");
    s.run(a, |c| {
        let mut f = c.fin(false);
        f.extend(c.fin(true));
        f.extend(c.ack(false));
        f
    });
    s.pcapng(&[Link::Ethernet])
}

/// MQTT over WebSocket, twice: the server's upgrade response names no
/// subprotocol though the client offered "mqtt" (MQTT-6.0.0-4); a client
/// offers only "mqttv3.1", the name of MQTT 3.1, then connects with MQTT
/// 3.1.1 (MQTT-6.0.0-3).
fn websocket_subprotocol() -> io::Result<Vec<u8>> {
    let mut s = Script::new();
    let a = s.conv(TcpConversation::new(v4(10, 50_032), broker(8080)));
    ws_open_with(&mut s, a, "wsnone", "mqtt", None); // frames 1-7
    s.c2s(a, &ws_binary(true, &disconnect_packet())); // 8
    s.close(a); // 9-11
    let b = s.conv(TcpConversation::new(v4(11, 50_033), broker(8080)));
    ws_open_with(&mut s, b, "wsold", "mqttv3.1", Some("mqttv3.1")); // 12-18
    s.c2s(b, &ws_binary(true, &disconnect_packet())); // 19
    s.close(b);
    s.pcapng(&[Link::Ethernet])
}
