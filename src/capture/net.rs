//! Link-layer strip and lax IP/TCP slicing of one frame (etherparse).

use std::net::IpAddr;

use super::{Frame, Segment};

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

/// Slice one frame.
pub fn slice<'a>(_frame: &Frame<'a>) -> Sliced<'a> {
    Sliced::Other
}
