//! Link-layer strip and lax IP/TCP slicing of one frame (etherparse).
//!
//! Link types: Ethernet (1, with 802.1Q / QinQ VLAN tags), BSD null (0) and
//! OpenBSD loop (108), raw IP (101, 228, 229), Linux SLL (113) and SLL2
//! (276). The TCP payload is bounded by the IP length (Ethernet padding
//! dropped); bytes the snaplen cut off are counted in [`Segment::missing`].
//! Nothing is allocated per frame.

use std::net::{IpAddr, SocketAddr};

use etherparse::{EtherType, IpNumber, LaxIpSlice, LaxNetSlice, LaxSlicedPacket, TcpHeaderSlice};

use super::{Frame, Segment, TcpFlags};

/// What a frame holds, as far as TCP analysis cares.
#[derive(Debug, Clone, Copy)]
pub enum Sliced<'a> {
    Tcp(Segment<'a>),
    /// Not TCP (UDP, ARP, ICMP, …).
    Other,
    /// An IPv4/IPv6 fragment (not reassembled).
    Fragment {
        src: IpAddr,
        dst: IpAddr,
    },
    /// A link type this reader does not decode.
    UnsupportedLink(u16),
    /// Too short or inconsistent to slice.
    Malformed(&'static str),
}

/// Link types decoded by [`slice`].
pub mod linktype {
    pub const NULL: u16 = 0;
    pub const ETHERNET: u16 = 1;
    pub const RAW: u16 = 101;
    pub const LOOP: u16 = 108;
    pub const LINUX_SLL: u16 = 113;
    pub const IPV4: u16 = 228;
    pub const IPV6: u16 = 229;
    pub const LINUX_SLL2: u16 = 276;
}

/// Slice one frame.
pub fn slice<'a>(frame: &Frame<'a>) -> Sliced<'a> {
    let d = frame.data;
    match frame.linktype {
        linktype::ETHERNET => match (d.get(12..14), d.get(14..)) {
            (Some(t), Some(rest)) if is_ip(t) => from_ip_after_link(rest),
            _ => match LaxSlicedPacket::from_ethernet(d) {
                Ok(p) => from_packet(&p),
                Err(_) => Sliced::Malformed("Ethernet header cut short"),
            },
        },
        linktype::NULL | linktype::LOOP => match d.get(4..) {
            Some(rest) => from_ip(rest),
            None => Sliced::Malformed("loopback header cut short"),
        },
        linktype::RAW | linktype::IPV4 | linktype::IPV6 => from_ip(d),
        linktype::LINUX_SLL => match (d.get(14..16), d.get(16..)) {
            (Some(t), Some(rest)) => from_ether_type(t, rest),
            _ => Sliced::Malformed("Linux cooked (SLL) header cut short"),
        },
        linktype::LINUX_SLL2 => match (d.get(0..2), d.get(20..)) {
            (Some(t), Some(rest)) => from_ether_type(t, rest),
            _ => Sliced::Malformed("Linux cooked (SLL2) header cut short"),
        },
        other => Sliced::UnsupportedLink(other),
    }
}

/// Whether a (big-endian) EtherType names IPv4 or IPv6.
fn is_ip(t: &[u8]) -> bool {
    matches!(t, [0x08, 0x00] | [0x86, 0xdd])
}

/// The payload of a link header whose protocol field is the EtherType `t`.
/// IP right after the link header (the common case) is sliced directly;
/// VLAN tags, ARP and the rest go through etherparse's full packet slicer.
fn from_ether_type<'a>(t: &[u8], rest: &'a [u8]) -> Sliced<'a> {
    if is_ip(t) {
        return from_ip_after_link(rest);
    }
    let ether_type = EtherType(u16::from_be_bytes([t[0], t[1]]));
    from_packet(&LaxSlicedPacket::from_ether_type(ether_type, rest))
}

fn from_packet<'a>(packet: &LaxSlicedPacket<'a>) -> Sliced<'a> {
    match &packet.net {
        Some(LaxNetSlice::Ipv4(ip)) => tcp(LaxIpSlice::Ipv4(ip.clone())),
        Some(LaxNetSlice::Ipv6(ip)) => tcp(LaxIpSlice::Ipv6(ip.clone())),
        Some(LaxNetSlice::Arp(_)) => Sliced::Other,
        None => match packet.stop_err {
            Some(_) => Sliced::Malformed("IP header cut short or invalid"),
            None => Sliced::Other,
        },
    }
}

/// IP after a link header that named it.
fn from_ip_after_link(d: &[u8]) -> Sliced<'_> {
    if let Some(seg) = plain_ipv4_tcp(d) {
        return Sliced::Tcp(seg);
    }
    match LaxIpSlice::from_slice(d) {
        Ok((ip, _)) => tcp(ip),
        Err(_) => Sliced::Malformed("IP header cut short or invalid"),
    }
}

fn from_ip(d: &[u8]) -> Sliced<'_> {
    if d.is_empty() {
        return Sliced::Malformed("no IP header");
    }
    if let Some(seg) = plain_ipv4_tcp(d) {
        return Sliced::Tcp(seg);
    }
    match LaxIpSlice::from_slice(d) {
        Ok((ip, _)) => tcp(ip),
        Err(etherparse::err::ip::LaxHeaderSliceError::Len(_)) => {
            Sliced::Malformed("IP header cut short")
        }
        Err(etherparse::err::ip::LaxHeaderSliceError::Content(_)) => {
            Sliced::Malformed("not a valid IP header")
        }
    }
}

/// A whole, unfragmented IPv4 packet carrying a TCP segment, read directly
/// (the bulk of most captures). None for anything else (options are fine;
/// fragments, truncation and odd lengths are not), which etherparse then
/// slices, so both paths give the same result.
fn plain_ipv4_tcp(d: &[u8]) -> Option<Segment<'_>> {
    let ip = d.get(..20)?;
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let fragmented = u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0;
    if ip[0] >> 4 != 4 || ihl < 20 || ip[9] != 6 || fragmented || total > d.len() {
        return None;
    }
    let t = d.get(ihl..total)?;
    let th = t.get(..20)?;
    let header_len = usize::from(th[12] >> 4) * 4;
    if header_len < 20 || header_len > t.len() {
        return None;
    }
    let addr = |at: usize, port: usize| {
        let a = std::net::Ipv4Addr::new(ip[at], ip[at + 1], ip[at + 2], ip[at + 3]);
        SocketAddr::new(IpAddr::V4(a), u16::from_be_bytes([th[port], th[port + 1]]))
    };
    let be32 = |at: usize| u32::from_be_bytes([th[at], th[at + 1], th[at + 2], th[at + 3]]);
    let flags = th[13];
    Some(Segment {
        src: addr(12, 0),
        dst: addr(16, 2),
        seq: be32(4),
        ack: be32(8),
        flags: TcpFlags {
            syn: flags & 0x02 != 0,
            ack: flags & 0x10 != 0,
            fin: flags & 0x01 != 0,
            rst: flags & 0x04 != 0,
        },
        payload: &t[header_len..],
        missing: 0,
    })
}

fn tcp(ip: LaxIpSlice<'_>) -> Sliced<'_> {
    let (src, dst, payload, declared) = match ip {
        LaxIpSlice::Ipv4(ip) => {
            let h = ip.header();
            let (src, dst) = (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
            );
            if ip.is_payload_fragmented() {
                return Sliced::Fragment { src, dst };
            }
            let declared = usize::from(h.total_len()).checked_sub(usize::from(h.ihl()) * 4);
            (src, dst, ip.payload().clone(), declared)
        }
        LaxIpSlice::Ipv6(ip) => {
            let h = ip.header();
            let (src, dst) = (
                IpAddr::V6(h.source_addr()),
                IpAddr::V6(h.destination_addr()),
            );
            if ip.is_payload_fragmented() {
                return Sliced::Fragment { src, dst };
            }
            let exts = ip.extensions().slice().len();
            let declared = match h.payload_length() {
                0 => None,
                n => usize::from(n).checked_sub(exts),
            };
            (src, dst, ip.payload().clone(), declared)
        }
    };
    if payload.ip_number != IpNumber::TCP {
        return Sliced::Other;
    }
    let Ok(th) = TcpHeaderSlice::from_slice(payload.payload) else {
        return Sliced::Malformed("TCP header cut short or invalid");
    };
    let header_len = th.slice().len();
    let data = payload.payload.get(header_len..).unwrap_or_default();
    let missing = match (payload.incomplete, declared) {
        (true, Some(declared)) => declared
            .saturating_sub(header_len)
            .saturating_sub(data.len()),
        _ => 0,
    };
    Sliced::Tcp(Segment {
        src: SocketAddr::new(src, th.source_port()),
        dst: SocketAddr::new(dst, th.destination_port()),
        seq: th.sequence_number(),
        ack: th.acknowledgment_number(),
        flags: TcpFlags {
            syn: th.syn(),
            ack: th.ack(),
            fin: th.fin(),
            rst: th.rst(),
        },
        payload: data,
        missing: u32::try_from(missing).unwrap_or(u32::MAX),
    })
}
