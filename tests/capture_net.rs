//! Link-layer strip and IP/TCP slicing: every supported link type, VLAN
//! tags, IPv6 extension headers, padding, snaplen truncation, fragments,
//! non-TCP and broken frames.
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use etherparse::{PacketBuilder, VlanId};
use mqttspec::capture::net::{slice, Sliced};
use mqttspec::capture::{Frame, Segment};
use proptest::prelude::*;
use rstest::rstest;

const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 1];
const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 2];
const V4_A: [u8; 4] = [10, 0, 0, 1];
const V4_B: [u8; 4] = [10, 0, 0, 2];
const V6_A: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const V6_B: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

fn frame(linktype: u16, data: &[u8]) -> Frame<'_> {
    Frame {
        number: 1,
        ts: Duration::ZERO,
        linktype,
        interface: 0,
        data,
        shared: None,
        orig_len: data.len() as u32,
    }
}

fn tcp_of(linktype: u16, data: &[u8]) -> Segment<'_> {
    match slice(&frame(linktype, data)) {
        Sliced::Tcp(s) => s,
        other => panic!("expected TCP, got {other:?}"),
    }
}

/// IPv4 + TCP (no link layer), PSH|ACK.
fn ipv4_tcp(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4(V4_A, V4_B, 64)
        .tcp(50000, 1883, 1000, 8192)
        .ack(77)
        .psh()
        .write_to_vec(&mut out, payload)
        .unwrap();
    out
}

/// IPv6 + TCP (no link layer), SYN.
fn ipv6_tcp(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv6(V6_A, V6_B, 64)
        .tcp(50001, 8883, 5, 8192)
        .syn()
        .write_to_vec(&mut out, payload)
        .unwrap();
    out
}

/// Insert an 8-byte IPv6 extension header of type `kind` after the fixed header.
fn with_ipv6_ext(mut ip: Vec<u8>, kind: u8, ext: [u8; 6]) -> Vec<u8> {
    let next = ip[6];
    ip[6] = kind;
    let len = u16::from_be_bytes([ip[4], ip[5]]) + 8;
    ip[4..6].copy_from_slice(&len.to_be_bytes());
    let mut header = vec![next, 0];
    header.extend_from_slice(&ext);
    ip.splice(40..40, header);
    ip
}

fn assert_v4(s: &Segment<'_>, payload: &[u8]) {
    assert_eq!(s.src, SocketAddr::from((V4_A, 50000)));
    assert_eq!(s.dst, SocketAddr::from((V4_B, 1883)));
    assert_eq!((s.seq, s.ack), (1000, 77));
    assert!(s.flags.ack && !s.flags.syn && !s.flags.fin && !s.flags.rst);
    assert_eq!(s.payload, payload);
    assert_eq!(s.missing, 0);
}

#[test]
fn ethernet_ipv4() {
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4(V4_A, V4_B, 64)
        .tcp(50000, 1883, 1000, 8192)
        .ack(77)
        .write_to_vec(&mut out, b"hello")
        .unwrap();
    assert_v4(&tcp_of(1, &out), b"hello");
}

#[test]
fn ethernet_padding_is_dropped() {
    let mut out = Vec::new();
    PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4(V4_A, V4_B, 64)
        .tcp(50000, 1883, 1000, 8192)
        .ack(77)
        .write_to_vec(&mut out, b"hi")
        .unwrap();
    out.resize(60, 0);
    assert_v4(&tcp_of(1, &out), b"hi");
}

#[rstest]
#[case::single(false)]
#[case::double(true)]
fn ethernet_vlan(#[case] double: bool) {
    let mut out = Vec::new();
    let b = PacketBuilder::ethernet2(MAC_A, MAC_B);
    let b = if double {
        b.double_vlan(VlanId::try_new(10).unwrap(), VlanId::try_new(20).unwrap())
    } else {
        b.single_vlan(VlanId::try_new(10).unwrap())
    };
    b.ipv4(V4_A, V4_B, 64)
        .tcp(50000, 1883, 1000, 8192)
        .ack(77)
        .write_to_vec(&mut out, b"vlan")
        .unwrap();
    assert_v4(&tcp_of(1, &out), b"vlan");
}

#[test]
fn ethernet_ipv6_with_extension_header() {
    let ip = with_ipv6_ext(ipv6_tcp(b"six"), 0, [1, 4, 0, 0, 0, 0]);
    let mut out = vec![0u8; 12];
    out.extend_from_slice(&[0x86, 0xdd]);
    out.extend_from_slice(&ip);
    let s = tcp_of(1, &out);
    assert_eq!(s.src, SocketAddr::from((V6_A, 50001)));
    assert_eq!(s.dst, SocketAddr::from((V6_B, 8883)));
    assert!(s.flags.syn && !s.flags.ack);
    assert_eq!(s.payload, b"six");
}

fn sll(proto: u16, ip: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
    out.extend_from_slice(&proto.to_be_bytes());
    out.extend_from_slice(ip);
    out
}

fn sll2(proto: u16, ip: &[u8]) -> Vec<u8> {
    let mut out = proto.to_be_bytes().to_vec();
    out.extend_from_slice(&[0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
    out.extend_from_slice(ip);
    out
}

#[rstest]
#[case::sll(113, sll(0x0800, &ipv4_tcp(b"payload")))]
#[case::sll2(276, sll2(0x0800, &ipv4_tcp(b"payload")))]
#[case::null_le(0, [&2u32.to_le_bytes()[..], &ipv4_tcp(b"payload")].concat())]
#[case::null_be(0, [&2u32.to_be_bytes()[..], &ipv4_tcp(b"payload")].concat())]
#[case::raw(101, ipv4_tcp(b"payload"))]
#[case::ipv4(228, ipv4_tcp(b"payload"))]
#[case::ppp(9, [&[0x00, 0x21][..], &ipv4_tcp(b"payload")].concat())]
#[case::ppp_compressed(9, [&[0x21][..], &ipv4_tcp(b"payload")].concat())]
#[case::ppp_hdlc(50, [&[0xff, 0x03, 0x00, 0x21][..], &ipv4_tcp(b"payload")].concat())]
#[case::ppp_with_dir(204, [&[0x01, 0xff, 0x03, 0x00, 0x21][..], &ipv4_tcp(b"payload")].concat())]
fn cooked_null_and_raw_ipv4(#[case] linktype: u16, #[case] data: Vec<u8>) {
    assert_v4(&tcp_of(linktype, &data), b"payload");
}

#[rstest]
#[case::sll(113, sll(0x86dd, &ipv6_tcp(b"v6")))]
#[case::sll2(276, sll2(0x86dd, &ipv6_tcp(b"v6")))]
#[case::loop_(108, [&24u32.to_be_bytes()[..], &ipv6_tcp(b"v6")].concat())]
#[case::ipv6(229, ipv6_tcp(b"v6"))]
#[case::ppp(9, [&[0xff, 0x03, 0x00, 0x57][..], &ipv6_tcp(b"v6")].concat())]
fn cooked_loop_and_raw_ipv6(#[case] linktype: u16, #[case] data: Vec<u8>) {
    let s = tcp_of(linktype, &data);
    assert_eq!(s.dst, SocketAddr::from((V6_B, 8883)));
    assert_eq!(s.payload, b"v6");
}

#[test]
fn snaplen_cut_counts_missing_bytes() {
    let ip = ipv4_tcp(&[7u8; 100]);
    let s = tcp_of(101, &ip[..46]);
    assert_eq!(s.payload, &[7u8; 6]);
    assert_eq!(s.missing, 94);
    let ip6 = ipv6_tcp(&[8u8; 50]);
    let s = tcp_of(229, &ip6[..70]);
    assert_eq!((s.payload.len(), s.missing), (10, 40));
}

#[test]
fn ipv4_fragment() {
    let mut ip = ipv4_tcp(b"frag");
    ip[6] |= 0x20; // more fragments
    match slice(&frame(101, &ip)) {
        Sliced::Fragment { src, dst } => {
            assert_eq!((src, dst), (IpAddr::from(V4_A), IpAddr::from(V4_B)));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn ipv6_fragment() {
    let ip = with_ipv6_ext(ipv6_tcp(b"frag"), 44, [0, 1, 0, 0, 0, 9]);
    assert!(matches!(slice(&frame(229, &ip)), Sliced::Fragment { .. }));
}

#[test]
fn udp_and_arp_are_other() {
    let mut udp = Vec::new();
    PacketBuilder::ipv4(V4_A, V4_B, 64)
        .udp(1, 2)
        .write_to_vec(&mut udp, b"x")
        .unwrap();
    assert!(matches!(slice(&frame(101, &udp)), Sliced::Other));
    let mut arp = vec![0u8; 12];
    arp.extend_from_slice(&[0x08, 0x06]);
    arp.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    arp.extend_from_slice(&[0u8; 20]);
    assert!(matches!(slice(&frame(1, &arp)), Sliced::Other));
}

#[test]
fn ppp_control_protocols_are_other() {
    // LCP (C0 21) and IPCP (80 21) negotiate the link; they carry no TCP.
    for proto in [[0xc0, 0x21], [0x80, 0x21]] {
        let data = [&[0xff, 0x03][..], &proto, &[1, 1, 0, 4]].concat();
        assert!(matches!(slice(&frame(9, &data)), Sliced::Other));
    }
}

#[test]
fn unsupported_link() {
    assert!(matches!(
        slice(&frame(105, b"whatever")),
        Sliced::UnsupportedLink(105)
    ));
}

#[rstest]
#[case::short_ethernet(1, vec![0u8; 5])]
#[case::short_null(0, vec![2, 0])]
#[case::short_sll(113, vec![0u8; 10])]
#[case::short_sll2(276, vec![0u8; 10])]
#[case::empty_raw(101, vec![])]
#[case::short_ppp(9, vec![0xff, 0x03, 0x00])]
#[case::ppp_cut_ip(9, [&[0x00, 0x21][..], &ipv4_tcp(b"x")[..12]].concat())]
#[case::garbage_raw(101, vec![0x12, 0x34, 0x56])]
#[case::cut_ip(101, ipv4_tcp(b"x")[..12].to_vec())]
#[case::cut_tcp(101, ipv4_tcp(b"x")[..30].to_vec())]
fn malformed(#[case] linktype: u16, #[case] data: Vec<u8>) {
    assert!(
        matches!(slice(&frame(linktype, &data)), Sliced::Malformed(_)),
        "{:?}",
        slice(&frame(linktype, &data))
    );
}

proptest! {
    #[test]
    fn arbitrary_frames_never_panic(
        linktype in prop::sample::select(vec![0u16, 1, 101, 108, 113, 228, 229, 276, 999]),
        data in prop::collection::vec(any::<u8>(), 0..128),
    ) {
        let _ = slice(&frame(linktype, &data));
    }

    #[test]
    fn mutated_frames_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut data = with_ipv6_ext(ipv6_tcp(b"abcdef"), 0, [1, 4, 0, 0, 0, 0]);
        for (at, v) in edits {
            let i = at.index(data.len());
            data[i] = v;
        }
        let len = data.len();
        data.truncate(cut.index(len + 1));
        let _ = slice(&frame(229, &data));
    }
}
