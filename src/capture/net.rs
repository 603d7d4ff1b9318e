//! Link-layer strip and lax IP/TCP slicing of one frame (etherparse).
//!
//! Link types: Ethernet (1, with 802.1Q / QinQ VLAN tags), BSD null (0) and
//! OpenBSD loop (108), raw IP (101, 228, 229), Linux SLL (113) and SLL2
//! (276), PPP (9, 50 in HDLC framing, 204 with a direction byte). The TCP
//! payload is bounded by the IP length (Ethernet padding dropped); bytes the
//! snaplen cut off are counted in [`Segment::missing`].
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
    pub const PPP: u16 = 9;
    pub const PPP_HDLC: u16 = 50;
    pub const RAW: u16 = 101;
    pub const LOOP: u16 = 108;
    pub const LINUX_SLL: u16 = 113;
    pub const IPV4: u16 = 228;
    pub const IPV6: u16 = 229;
    pub const PPP_WITH_DIR: u16 = 204;
    pub const LINUX_SLL2: u16 = 276;
}

/// Slice one frame.
pub fn slice<'a>(frame: &Frame<'a>) -> Sliced<'a> {
    match by_link(frame) {
        // The payload lies in the frame's bytes, so in their buffer.
        Sliced::Tcp(seg) => Sliced::Tcp(Segment {
            shared: frame.shared,
            ..seg
        }),
        other => other,
    }
}

/// Slice one frame by its link type.
fn by_link<'a>(frame: &Frame<'a>) -> Sliced<'a> {
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
        linktype::PPP | linktype::PPP_HDLC => from_ppp(d),
        linktype::PPP_WITH_DIR => from_ppp(d.get(1..).unwrap_or_default()),
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

/// A PPP frame: address and control bytes (FF 03) if not compressed away,
/// then the protocol in two bytes or, compressed, one (RFC 1661).
fn from_ppp(d: &[u8]) -> Sliced<'_> {
    let d = d.strip_prefix(&[0xff, 0x03]).unwrap_or(d);
    match d {
        [0x00, 0x21 | 0x57, ip @ ..] | [0x21 | 0x57, ip @ ..] => from_ip(ip),
        [] | [0x00] => Sliced::Malformed("PPP header cut short"),
        _ => Sliced::Other,
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
    let ip: &[u8; 20] = d.get(..20)?.try_into().ok()?;
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let fragmented = u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0;
    if ip[0] >> 4 != 4 || ihl < 20 || ip[9] != 6 || fragmented || total > d.len() {
        return None;
    }
    let t = d.get(ihl..total)?;
    let th: &[u8; 20] = t.get(..20)?.try_into().ok()?;
    let header_len = usize::from(th[12] >> 4) * 4;
    if header_len < 20 || header_len > t.len() {
        return None;
    }
    let flags = th[13];
    Some(Segment {
        src: v4_endpoint([ip[12], ip[13], ip[14], ip[15]], [th[0], th[1]]),
        dst: v4_endpoint([ip[16], ip[17], ip[18], ip[19]], [th[2], th[3]]),
        seq: u32::from_be_bytes([th[4], th[5], th[6], th[7]]),
        ack: u32::from_be_bytes([th[8], th[9], th[10], th[11]]),
        flags: TcpFlags {
            syn: flags & 0x02 != 0,
            ack: flags & 0x10 != 0,
            fin: flags & 0x01 != 0,
            rst: flags & 0x04 != 0,
        },
        payload: &t[header_len..],
        missing: 0,
        shared: None,
    })
}

#[inline]
fn v4_endpoint(addr: [u8; 4], port: [u8; 2]) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(addr.into()), u16::from_be_bytes(port))
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
        shared: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An IPv4 packet carrying TCP, with every length field chosen freely.
    fn ipv4_tcp(ihl: u8, total: u16, frag: u16, proto: u8, offset: u8, rest: &[u8]) -> Vec<u8> {
        let mut d = vec![0x40 | ihl, 0];
        d.extend_from_slice(&total.to_be_bytes());
        d.extend_from_slice(&[0, 1]);
        d.extend_from_slice(&frag.to_be_bytes());
        d.extend_from_slice(&[64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        d.resize(usize::from(ihl) * 4, 0);
        let tcp_start = d.len();
        d.extend_from_slice(&[0x9c, 0x40, 0x07, 0x5b, 0, 0, 0, 7, 0, 0, 0, 9]);
        d.extend_from_slice(&[offset << 4, 0x18, 0xff, 0xff, 0, 0, 0, 0]);
        d.resize(tcp_start + 20, 0);
        d.extend_from_slice(rest);
        d
    }

    proptest! {
        /// The direct IPv4/TCP path gives what etherparse's lax slicing
        /// gives whenever it takes a packet, and takes every plain one.
        #[test]
        fn plain_ipv4_tcp_agrees_with_etherparse(
            ihl in 0u8..16,
            total in 0u16..200,
            frag in prop::sample::select(vec![0u16, 0x4000, 0x2000, 0x0001, 0x4001]),
            proto in prop::sample::select(vec![6u8, 17]),
            offset in 0u8..16,
            rest in prop::collection::vec(any::<u8>(), 0..120),
        ) {
            let d = ipv4_tcp(ihl.max(1), total, frag, proto, offset, &rest);
            let direct = plain_ipv4_tcp(&d);
            let lax = match LaxIpSlice::from_slice(&d) {
                Ok((ip, _)) => tcp(ip),
                Err(_) => Sliced::Malformed("IP header cut short or invalid"),
            };
            if let Some(seg) = direct {
                prop_assert_eq!(format!("{:?}", Sliced::Tcp(seg)), format!("{lax:?}"));
            }
            let header = usize::from(ihl.max(1)) * 4;
            let plain = ihl >= 5
                && offset >= 5
                && proto == 6
                && frag & 0x3fff == 0
                && usize::from(total) <= d.len()
                && usize::from(total) >= header + usize::from(offset) * 4;
            prop_assert_eq!(direct.is_some(), plain);
        }
    }
}
