//! Link-layer strip and lax IP/TCP slicing of one frame (etherparse).
//!
//! Link types: Ethernet (1, with 802.1Q / QinQ VLAN tags), BSD null (0) and
//! OpenBSD loop (108), raw IP (101, 228, 229), Linux SLL (113) and SLL2
//! (276). The TCP payload is bounded by the IP length (Ethernet padding
//! dropped); bytes the snaplen cut off are counted in [`Segment::missing`].
//! Nothing is allocated per frame.

use std::net::{IpAddr, SocketAddr};

use etherparse::{EtherType, IpNumber, LaxNetSlice, LaxSlicedPacket, TcpHeaderSlice};

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
    let packet = match frame.linktype {
        linktype::ETHERNET => match LaxSlicedPacket::from_ethernet(d) {
            Ok(p) => p,
            Err(_) => return Sliced::Malformed("Ethernet header cut short"),
        },
        linktype::NULL | linktype::LOOP => match d.get(4..) {
            Some(rest) => return from_ip(rest),
            None => return Sliced::Malformed("loopback header cut short"),
        },
        linktype::RAW | linktype::IPV4 | linktype::IPV6 => return from_ip(d),
        linktype::LINUX_SLL => match (d.get(14..16), d.get(16..)) {
            (Some(p), Some(rest)) => {
                LaxSlicedPacket::from_ether_type(EtherType(u16::from_be_bytes([p[0], p[1]])), rest)
            }
            _ => return Sliced::Malformed("Linux cooked (SLL) header cut short"),
        },
        linktype::LINUX_SLL2 => match (d.get(0..2), d.get(20..)) {
            (Some(p), Some(rest)) => {
                LaxSlicedPacket::from_ether_type(EtherType(u16::from_be_bytes([p[0], p[1]])), rest)
            }
            _ => return Sliced::Malformed("Linux cooked (SLL2) header cut short"),
        },
        other => return Sliced::UnsupportedLink(other),
    };
    tcp(&packet)
}

fn from_ip(d: &[u8]) -> Sliced<'_> {
    if d.is_empty() {
        return Sliced::Malformed("no IP header");
    }
    match LaxSlicedPacket::from_ip(d) {
        Ok(p) => tcp(&p),
        Err(etherparse::err::ip::LaxHeaderSliceError::Len(_)) => {
            Sliced::Malformed("IP header cut short")
        }
        Err(etherparse::err::ip::LaxHeaderSliceError::Content(_)) => {
            Sliced::Malformed("not a valid IP header")
        }
    }
}

fn tcp<'a>(packet: &LaxSlicedPacket<'a>) -> Sliced<'a> {
    let (src, dst, payload, declared) = match &packet.net {
        Some(LaxNetSlice::Ipv4(ip)) => {
            let h = ip.header();
            let (src, dst) = (
                IpAddr::V4(h.source_addr()),
                IpAddr::V4(h.destination_addr()),
            );
            if ip.is_payload_fragmented() {
                return Sliced::Fragment { src, dst };
            }
            let declared = usize::from(h.total_len()).checked_sub(usize::from(h.ihl()) * 4);
            (src, dst, ip.payload(), declared)
        }
        Some(LaxNetSlice::Ipv6(ip)) => {
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
            (src, dst, ip.payload(), declared)
        }
        Some(LaxNetSlice::Arp(_)) => return Sliced::Other,
        None => {
            return match packet.stop_err {
                Some(_) => Sliced::Malformed("IP header cut short or invalid"),
                None => Sliced::Other,
            }
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
