//! Synthetic frames round-trip through the pcap / pcapng writers, pcap-parser
//! and etherparse back to the same TCP payloads.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use etherparse::{LaxSlicedPacket, TransportSlice};
use mqttspec::capture::pcapng::{Interface, PcapngWriter};
use mqttspec::capture::synth::{write_pcap, write_pcapng, Link, SynthFrame, TcpConversation};
use pcap_parser::data::{get_packetdata, PacketData};
use pcap_parser::{create_reader, Block, Linktype, PcapBlockOwned, PcapError};
use rstest::rstest;

/// One frame as read back.
#[derive(Debug, PartialEq)]
struct Read {
    linktype: i32,
    ts: Duration,
    data: Vec<u8>,
    orig_len: u32,
    comments: Vec<String>,
}

fn read_all(bytes: &[u8]) -> Vec<Read> {
    let mut reader = create_reader(1 << 16, bytes).unwrap();
    let mut out = Vec::new();
    let mut linktypes = Vec::new();
    let mut resol = Vec::new();
    let mut legacy = (0, false);
    loop {
        match reader.next() {
            Ok((n, block)) => {
                match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        legacy = (h.network.0, h.is_nanosecond_precision())
                    }
                    PcapBlockOwned::Legacy(b) => {
                        let frac = if legacy.1 {
                            b.ts_usec
                        } else {
                            b.ts_usec * 1000
                        };
                        out.push(Read {
                            linktype: legacy.0,
                            ts: Duration::new(u64::from(b.ts_sec), frac),
                            data: b.data.to_vec(),
                            orig_len: b.origlen,
                            comments: vec![],
                        });
                    }
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        linktypes.push(idb.linktype.0);
                        resol.push(idb.ts_resolution().unwrap());
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        let i = epb.if_id as usize;
                        let units = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                        let ts = Duration::from_nanos(units * (1_000_000_000 / resol[i]));
                        out.push(Read {
                            linktype: linktypes[i],
                            ts,
                            data: epb.data[..epb.caplen as usize].to_vec(),
                            orig_len: epb.origlen,
                            comments: epb
                                .options
                                .iter()
                                .filter(|o| o.code.0 == 1)
                                .map(|o| o.as_str().unwrap().to_string())
                                .collect(),
                        });
                    }
                    PcapBlockOwned::NG(_) => {}
                }
                reader.consume(n);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => reader.refill().unwrap(),
            Err(e) => panic!("read error: {e:?}"),
        }
    }
    out
}

/// (from_client, seq, payload) of a frame, via pcap-parser's link strip and etherparse.
fn tcp_of(linktype: i32, data: &[u8], client_port: u16) -> (bool, u32, Vec<u8>, bool) {
    let sliced = match get_packetdata(data, Linktype(linktype), data.len()).unwrap() {
        PacketData::L2(eth) => LaxSlicedPacket::from_ethernet(eth).unwrap(),
        PacketData::L3(_, ip) => LaxSlicedPacket::from_ip(ip).unwrap(),
        _ => panic!("unexpected packet data"),
    };
    match sliced.transport {
        Some(TransportSlice::Tcp(t)) => (
            t.source_port() == client_port,
            t.sequence_number(),
            t.payload().to_vec(),
            t.syn(),
        ),
        other => panic!("not TCP: {other:?}"),
    }
}

const CONNECT: &[u8] = &[
    0x10, 0x10, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x04, b't', b'e',
    b's', b't',
];
const CONNACK: &[u8] = &[0x20, 0x02, 0x00, 0x00];
const PINGREQ: &[u8] = &[0xc0, 0x00];

fn conversation(link: Link, v6: bool) -> (TcpConversation, Vec<SynthFrame>) {
    conversation_with_isn(link, v6, (u32::MAX - 3, u32::MAX))
}

fn conversation_with_isn(
    link: Link,
    v6: bool,
    isn: (u32, u32),
) -> (TcpConversation, Vec<SynthFrame>) {
    let (c, s): (SocketAddr, SocketAddr) = if v6 {
        (
            "[2001:db8::1]:50000".parse().unwrap(),
            "[2001:db8::2]:1883".parse().unwrap(),
        )
    } else {
        (
            "10.0.0.1:50000".parse().unwrap(),
            "10.0.0.2:1883".parse().unwrap(),
        )
    };
    let mut conv = TcpConversation::new(c, s)
        .link(link)
        .isn(isn.0, isn.1)
        .mss(7)
        .step(Duration::from_micros(1500));
    let mut frames = conv.handshake();
    // CONNECT spans three segments; CONNACK and PINGREQ share ones.
    frames.extend(conv.send(true, CONNECT));
    frames.extend(conv.ack(false));
    let mut two = CONNACK.to_vec();
    two.extend_from_slice(PINGREQ);
    frames.extend(conv.send(false, &two));
    frames.extend(conv.fin(true));
    frames.extend(conv.fin(false));
    frames.extend(conv.ack(true));
    (conv, frames)
}

fn streams(read: &[Read]) -> [Vec<u8>; 2] {
    let mut out = [Vec::new(), Vec::new()];
    for r in read {
        let (from_client, _, payload, _) = tcp_of(r.linktype, &r.data, 50000);
        out[usize::from(!from_client)].extend_from_slice(&payload);
    }
    out
}

#[rstest]
fn pcapng_round_trip(
    #[values(
        Link::Ethernet,
        Link::EthernetVlan(42),
        Link::Sll,
        Link::Sll2,
        Link::Null,
        Link::RawIp
    )]
    link: Link,
    #[values(false, true)] v6: bool,
) {
    let (_, frames) = conversation(link, v6);
    let file = write_pcapng(link, &frames).unwrap();
    let read = read_all(&file);
    assert_eq!(read.len(), frames.len());
    for (r, f) in read.iter().zip(&frames) {
        assert_eq!(r.linktype, i32::from(link.linktype()));
        assert_eq!(r.data, f.data);
        assert_eq!(r.ts, f.ts);
        assert_eq!(r.orig_len, f.orig_len);
    }
    let [c, s] = streams(&read);
    assert_eq!(c, CONNECT);
    assert_eq!(s, [CONNACK, PINGREQ].concat());
}

#[rstest]
fn pcap_round_trip_both_byte_orders(
    #[values(false, true)] nanos: bool,
    #[values(false, true)] big_endian: bool,
) {
    let (_, frames) = conversation(Link::Ethernet, false);
    let file = write_pcap(Link::Ethernet, &frames, nanos, big_endian).unwrap();
    let read = read_all(&file);
    assert_eq!(read.len(), frames.len());
    for (r, f) in read.iter().zip(&frames) {
        assert_eq!(r.data, f.data);
        assert_eq!(r.ts, f.ts); // 1.5 ms steps are exact in µs
    }
    assert_eq!(streams(&read)[0], CONNECT);
}

#[test]
fn sequence_numbers_wrap() {
    let (conv, frames) = conversation(Link::RawIp, false);
    let seqs: Vec<(bool, u32, bool)> = frames
        .iter()
        .map(|f| {
            let (c, seq, _, syn) = tcp_of(101, &f.data, 50000);
            (c, seq, syn)
        })
        .collect();
    assert_eq!(seqs[0], (true, u32::MAX - 3, true));
    assert_eq!(seqs[1], (false, u32::MAX, true));
    // client data: ISN+1 .. then wraps through 0
    let client_data: Vec<u32> = seqs[3..6].iter().map(|s| s.1).collect();
    assert_eq!(client_data, vec![u32::MAX - 2, 4, 11]);
    assert_eq!(conv.next_seq(true), (u32::MAX - 2).wrapping_add(18 + 1));
    assert_eq!(conv.next_seq(false), 0u32.wrapping_add(6 + 1));
}

#[test]
fn truncated_frames_keep_their_length() {
    let (_, mut frames) = conversation(Link::Ethernet, false);
    for f in &mut frames {
        f.truncate(60);
    }
    let read = read_all(&write_pcapng(Link::Ethernet, &frames).unwrap());
    assert!(read.iter().all(|r| r.data.len() <= 60));
    assert!(read.iter().any(|r| r.orig_len > 60));
}

#[test]
fn comments_and_interfaces() {
    let itfs = [
        Interface {
            linktype: 1,
            snaplen: 0,
            ts_resolution_nanos: false,
        },
        Interface {
            linktype: 101,
            snaplen: 96,
            ts_resolution_nanos: true,
        },
    ];
    let mut w = PcapngWriter::new(Vec::new(), &itfs).unwrap();
    let (_, eth) = conversation(Link::Ethernet, false);
    let (_, raw) = conversation(Link::RawIp, true);
    w.packet(
        0,
        eth[0].ts,
        &eth[0].data,
        eth[0].orig_len,
        &["first", "odd length!"],
    )
    .unwrap();
    w.packet(
        1,
        raw[0].ts + Duration::from_nanos(7),
        &raw[0].data,
        1000,
        &[],
    )
    .unwrap();
    assert!(w.packet(2, Duration::ZERO, &[], 0, &[]).is_err());
    let read = read_all(&w.finish().unwrap());
    assert_eq!(read.len(), 2);
    assert_eq!(read[0].comments, ["first", "odd length!"]);
    assert_eq!((read[0].linktype, read[1].linktype), (1, 101));
    assert_eq!(read[1].ts, raw[0].ts + Duration::from_nanos(7));
    assert_eq!(read[1].orig_len, 1000);
}

/// Wireshark agrees with the block layout (skipped when tshark is missing).
#[test]
fn tshark_reads_comments() {
    let Ok(out) = std::process::Command::new("tshark")
        .arg("--version")
        .output()
    else {
        eprintln!("tshark not installed; skipped");
        return;
    };
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.pcapng");
    // (An ACK number of exactly 0 after wrap-around looks like a duplicate
    // ACK to Wireshark's analysis, so no wrap here.)
    let (_, frames) = conversation_with_isn(Link::Sll2, true, (1000, 5000));
    let itf = Interface {
        linktype: Link::Sll2.linktype(),
        snaplen: 65535,
        ts_resolution_nanos: true,
    };
    let mut w = PcapngWriter::new(Vec::new(), &[itf]).unwrap();
    for (i, f) in frames.iter().enumerate() {
        let c = format!("frame {i}");
        w.packet(0, f.ts, &f.data, f.orig_len, &[&c]).unwrap();
    }
    std::fs::write(&path, w.finish().unwrap()).unwrap();
    let out = std::process::Command::new("tshark")
        .args(["-r"])
        .arg(&path)
        .args([
            "-T",
            "fields",
            "-e",
            "frame.comment",
            "-e",
            "tcp.len",
            "-e",
            "tcp.analysis.flags",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), frames.len());
    for (i, l) in lines.iter().enumerate() {
        let cols: Vec<&str> = l.split('\t').collect();
        assert_eq!(cols[0], format!("frame {i}"));
        assert_eq!(
            cols.get(2).copied().unwrap_or(""),
            "",
            "tshark flags frame {i}: {l}"
        );
    }
}

/// Wireshark dissects every link type down to TCP, in pcapng and in classic
/// pcap of either byte order (skipped when tshark is missing).
#[test]
fn tshark_dissects_every_link() {
    if std::process::Command::new("tshark")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("tshark not installed; skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let links = [
        Link::Ethernet,
        Link::EthernetVlan(7),
        Link::Sll,
        Link::Sll2,
        Link::Null,
        Link::RawIp,
    ];
    for (n, link) in links.into_iter().enumerate() {
        for v6 in [false, true] {
            let (_, frames) = conversation_with_isn(link, v6, (1000, 5000));
            // pcapng, and classic pcap alternating byte order and resolution.
            let files = [
                write_pcapng(link, &frames).unwrap(),
                write_pcap(link, &frames, n % 2 == 0, n % 2 == 1).unwrap(),
            ];
            for (i, bytes) in files.iter().enumerate() {
                let path = dir.path().join(format!("{n}-{v6}-{i}.cap"));
                std::fs::write(&path, bytes).unwrap();
                let out = std::process::Command::new("tshark")
                    .arg("-r")
                    .arg(&path)
                    .args([
                        "-T",
                        "fields",
                        "-e",
                        "tcp.srcport",
                        "-e",
                        "tcp.len",
                        "-e",
                        "_ws.malformed",
                    ])
                    .output()
                    .unwrap();
                let text = String::from_utf8(out.stdout).unwrap();
                let lens: Vec<&str> = text
                    .lines()
                    .map(|l| l.split('\t').nth(1).unwrap_or("?"))
                    .collect();
                let want: Vec<String> = frames
                    .iter()
                    .map(|f| {
                        tcp_of(i32::from(link.linktype()), &f.data, 50000)
                            .2
                            .len()
                            .to_string()
                    })
                    .collect();
                assert_eq!(lens, want, "{link:?} v6={v6} file {i}: {text}");
                assert!(
                    text.lines()
                        .all(|l| l.split('\t').nth(2).unwrap_or("").is_empty()),
                    "{text}"
                );
            }
        }
    }
}
