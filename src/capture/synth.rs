//! Synthetic captures for tests, sample files and benchmarks: one TCP
//! conversation at a time, framed for a chosen link type.
//!
//! [`TcpConversation`] keeps both sequence numbers and a clock; every call
//! returns the frames it produced so a test can reorder, duplicate, drop or
//! truncate them before writing them with [`write_pcapng`] / [`write_pcap`].
//! IP and TCP headers (with checksums), Ethernet and VLAN come from
//! etherparse's `PacketBuilder`; SLL, SLL2 and BSD loopback headers are
//! written by hand.

use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use etherparse::{PacketBuilder, PacketBuilderStep, TcpHeader, VlanId};

use super::pcapng::{Interface, PcapWriter, PcapngWriter};

/// Link layer of the synthetic frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Ethernet II.
    Ethernet,
    /// Ethernet II with one 802.1Q tag (VLAN id, low 12 bits used).
    EthernetVlan(u16),
    /// Linux cooked capture v1 (16-byte header).
    Sll,
    /// Linux cooked capture v2 (20-byte header).
    Sll2,
    /// BSD loopback: 4-byte address family in little-endian order (2 / 30).
    Null,
    /// No link header: the frame starts with the IP header.
    RawIp,
}

impl Link {
    /// The pcap LINKTYPE_* value.
    pub fn linktype(self) -> u16 {
        match self {
            Link::Ethernet | Link::EthernetVlan(_) => 1,
            Link::Sll => 113,
            Link::Sll2 => 276,
            Link::Null => 0,
            Link::RawIp => 101,
        }
    }
}

/// One frame of a synthetic capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthFrame {
    /// Time since the Unix epoch.
    pub ts: Duration,
    /// Captured bytes.
    pub data: Vec<u8>,
    /// Length on the wire (stays the full length after [`SynthFrame::truncate`]).
    pub orig_len: u32,
}

impl SynthFrame {
    /// Keep only the first `snaplen` bytes, as a capture with that snaplen would.
    pub fn truncate(&mut self, snaplen: usize) {
        self.data.truncate(snaplen);
    }
}

/// TCP flags of a hand-made segment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
    pub psh: bool,
}

const CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
/// Largest payload per segment (keeps IPv4 total length below 65535).
const MAX_SEGMENT: usize = 65_000;

/// One TCP flow between `client` and `server`, generated frame by frame.
///
/// Without [`TcpConversation::handshake`], data starts at the ISNs, as in a
/// capture that began mid-flow.
#[derive(Debug, Clone)]
pub struct TcpConversation {
    client: SocketAddr,
    server: SocketAddr,
    link: Link,
    now: Duration,
    step: Duration,
    mss: usize,
    window: u16,
    /// Next sequence number of the client and of the server.
    next: [u32; 2],
}

impl TcpConversation {
    /// A conversation over Ethernet starting at 2024-01-01T00:00:00Z, ISNs
    /// 1000 (client) and 5000 (server), MSS 1460, 1 ms per frame. When the
    /// address families differ, IPv4 addresses are mapped into IPv6.
    pub fn new(client: SocketAddr, server: SocketAddr) -> Self {
        TcpConversation {
            client,
            server,
            link: Link::Ethernet,
            now: Duration::from_secs(1_704_067_200),
            step: Duration::from_millis(1),
            mss: 1460,
            window: 65_535,
            next: [1000, 5000],
        }
    }

    /// Set the link layer.
    pub fn link(mut self, link: Link) -> Self {
        self.link = link;
        self
    }

    /// Set the time of the next frame.
    pub fn start(mut self, at: Duration) -> Self {
        self.now = at;
        self
    }

    /// Set how far the clock advances after each frame.
    pub fn step(mut self, step: Duration) -> Self {
        self.step = step;
        self
    }

    /// Set the initial sequence numbers (a value near `u32::MAX` exercises wrap-around).
    pub fn isn(mut self, client: u32, server: u32) -> Self {
        self.next = [client, server];
        self
    }

    /// Set the largest payload per segment (clamped to 1..=65000).
    pub fn mss(mut self, mss: usize) -> Self {
        self.mss = mss.clamp(1, MAX_SEGMENT);
        self
    }

    /// The time the next frame will carry.
    pub fn now(&self) -> Duration {
        self.now
    }

    /// Let time pass without frames.
    pub fn wait(&mut self, d: Duration) {
        self.now += d;
    }

    /// The next sequence number of one side.
    pub fn next_seq(&self, from_client: bool) -> u32 {
        self.next[side(from_client)]
    }

    /// SYN, SYN-ACK, ACK.
    pub fn handshake(&mut self) -> Vec<SynthFrame> {
        let syn = Flags {
            syn: true,
            ..Flags::default()
        };
        let syn_ack = Flags { ack: true, ..syn };
        let mut out = vec![self.advance(true, syn, &[], 1)];
        out.push(self.advance(false, syn_ack, &[], 1));
        out.extend(self.ack(true));
        out
    }

    /// Send `bytes` from one side, split into segments of at most MSS bytes
    /// (PSH+ACK, acknowledging everything the peer sent).
    pub fn send(&mut self, from_client: bool, bytes: &[u8]) -> Vec<SynthFrame> {
        let flags = Flags {
            ack: true,
            psh: true,
            ..Flags::default()
        };
        bytes
            .chunks(self.mss)
            .map(|chunk| self.advance(from_client, flags, chunk, chunk.len() as u32))
            .collect()
    }

    /// One pure ACK from one side.
    pub fn ack(&mut self, from_client: bool) -> Vec<SynthFrame> {
        let flags = Flags {
            ack: true,
            ..Flags::default()
        };
        vec![self.advance(from_client, flags, &[], 0)]
    }

    /// FIN+ACK from one side (consumes one sequence number).
    pub fn fin(&mut self, from_client: bool) -> Vec<SynthFrame> {
        let flags = Flags {
            fin: true,
            ack: true,
            ..Flags::default()
        };
        vec![self.advance(from_client, flags, &[], 1)]
    }

    /// RST+ACK from one side.
    pub fn rst(&mut self, from_client: bool) -> Vec<SynthFrame> {
        let flags = Flags {
            rst: true,
            ack: true,
            ..Flags::default()
        };
        vec![self.advance(from_client, flags, &[], 0)]
    }

    /// A hand-made segment with any sequence number and flags; the
    /// conversation's sequence numbers do not move, the clock does.
    /// The payload is cut at 65000 bytes.
    pub fn segment(
        &mut self,
        from_client: bool,
        seq: u32,
        flags: Flags,
        payload: &[u8],
    ) -> SynthFrame {
        let payload = &payload[..payload.len().min(MAX_SEGMENT)];
        let ack = self.next[side(!from_client)];
        let frame = self.frame(from_client, seq, ack, flags, payload);
        self.now += self.step;
        frame
    }

    fn advance(&mut self, from_client: bool, flags: Flags, payload: &[u8], len: u32) -> SynthFrame {
        let seq = self.next[side(from_client)];
        let frame = self.segment(from_client, seq, flags, payload);
        self.next[side(from_client)] = seq.wrapping_add(len);
        frame
    }

    fn frame(
        &self,
        from_client: bool,
        seq: u32,
        ack: u32,
        flags: Flags,
        payload: &[u8],
    ) -> SynthFrame {
        let (src, dst) = if from_client {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        let (src_mac, dst_mac) = if from_client {
            (CLIENT_MAC, SERVER_MAC)
        } else {
            (SERVER_MAC, CLIENT_MAC)
        };
        let ips = ip_pair(src.ip(), dst.ip());
        let v6 = matches!(ips, Ips::V6(..));
        let ip_step = match (self.link, ips) {
            (Link::Ethernet, Ips::V4(s, d)) => {
                PacketBuilder::ethernet2(src_mac, dst_mac).ipv4(s, d, 64)
            }
            (Link::Ethernet, Ips::V6(s, d)) => {
                PacketBuilder::ethernet2(src_mac, dst_mac).ipv6(s, d, 64)
            }
            (Link::EthernetVlan(id), ips) => {
                let vlan = PacketBuilder::ethernet2(src_mac, dst_mac).single_vlan(vlan_id(id));
                match ips {
                    Ips::V4(s, d) => vlan.ipv4(s, d, 64),
                    Ips::V6(s, d) => vlan.ipv6(s, d, 64),
                }
            }
            (_, Ips::V4(s, d)) => PacketBuilder::ipv4(s, d, 64),
            (_, Ips::V6(s, d)) => PacketBuilder::ipv6(s, d, 64),
        };
        let tcp = with_flags(
            ip_step.tcp(src.port(), dst.port(), seq, self.window),
            flags,
            ack,
        );
        let mut data = link_header(self.link, from_client, v6, &src_mac);
        // Cannot fail: the payload is at most MAX_SEGMENT bytes, so every
        // length field fits; on failure the frame is left with the link header.
        let _ = tcp.write(&mut data, payload);
        SynthFrame {
            ts: self.now,
            orig_len: u32::try_from(data.len()).unwrap_or(u32::MAX),
            data,
        }
    }
}

/// Write frames as a pcapng file with one interface of `link`'s type
/// (nanosecond timestamps, snaplen 65535).
pub fn write_pcapng(link: Link, frames: &[SynthFrame]) -> io::Result<Vec<u8>> {
    let itf = Interface {
        linktype: link.linktype(),
        snaplen: 65_535,
        ts_resolution_nanos: true,
    };
    let mut w = PcapngWriter::new(Vec::new(), &[itf])?;
    for f in frames {
        w.packet(0, f.ts, &f.data, f.orig_len, &[])?;
    }
    w.finish()
}

/// Write frames as a classic pcap file.
pub fn write_pcap(
    link: Link,
    frames: &[SynthFrame],
    nanos: bool,
    big_endian: bool,
) -> io::Result<Vec<u8>> {
    let mut w = PcapWriter::new(Vec::new(), link.linktype(), 65_535, nanos, big_endian)?;
    for f in frames {
        w.packet(f.ts, &f.data, f.orig_len)?;
    }
    w.finish()
}

fn side(from_client: bool) -> usize {
    usize::from(!from_client)
}

enum Ips {
    V4([u8; 4], [u8; 4]),
    V6([u8; 16], [u8; 16]),
}

fn ip_pair(src: IpAddr, dst: IpAddr) -> Ips {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => Ips::V4(s.octets(), d.octets()),
        (s, d) => Ips::V6(to_v6(s).octets(), to_v6(d).octets()),
    }
}

fn to_v6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped(),
        IpAddr::V6(a) => a,
    }
}

fn vlan_id(id: u16) -> VlanId {
    VlanId::try_new(id & 0x0FFF).unwrap_or(VlanId::ZERO)
}

fn with_flags(
    mut b: PacketBuilderStep<TcpHeader>,
    f: Flags,
    ack: u32,
) -> PacketBuilderStep<TcpHeader> {
    if f.syn {
        b = b.syn();
    }
    if f.ack {
        b = b.ack(ack);
    }
    if f.fin {
        b = b.fin();
    }
    if f.rst {
        b = b.rst();
    }
    if f.psh {
        b = b.psh();
    }
    b
}

/// The hand-written link header (empty for links built by etherparse).
/// Seen from the server: client frames arrive (packet type 0), server frames
/// leave (4).
fn link_header(link: Link, from_client: bool, v6: bool, src_mac: &[u8; 6]) -> Vec<u8> {
    let proto: u16 = if v6 { 0x86DD } else { 0x0800 };
    let pkt_type: u8 = if from_client { 0 } else { 4 };
    let mut addr = [0u8; 8];
    addr[..6].copy_from_slice(src_mac);
    let mut h = Vec::with_capacity(1600);
    match link {
        Link::Sll => {
            h.extend_from_slice(&u16::from(pkt_type).to_be_bytes());
            h.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
            h.extend_from_slice(&6u16.to_be_bytes());
            h.extend_from_slice(&addr);
            h.extend_from_slice(&proto.to_be_bytes());
        }
        Link::Sll2 => {
            h.extend_from_slice(&proto.to_be_bytes());
            h.extend_from_slice(&0u16.to_be_bytes()); // reserved
            h.extend_from_slice(&1u32.to_be_bytes()); // interface index
            h.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
            h.push(pkt_type);
            h.push(6);
            h.extend_from_slice(&addr);
        }
        Link::Null => {
            let af: u32 = if v6 { 30 } else { 2 };
            h.extend_from_slice(&af.to_le_bytes());
        }
        Link::Ethernet | Link::EthernetVlan(_) | Link::RawIp => {}
    }
    h
}
