//! Helpers for TCP reassembly tests: endpoints, flag sets, segments and a
//! runner that numbers frames.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;

use mqttspec::capture::tcp::Reassembler;
use mqttspec::capture::{Segment, TcpFlags};

use super::{at, Recorder};

pub fn client() -> SocketAddr {
    "10.0.0.1:50000".parse().unwrap()
}

pub fn server() -> SocketAddr {
    "10.0.0.2:1883".parse().unwrap()
}

pub const SYN: TcpFlags = TcpFlags {
    syn: true,
    ack: false,
    fin: false,
    rst: false,
};
pub const SYN_ACK: TcpFlags = TcpFlags {
    syn: true,
    ack: true,
    fin: false,
    rst: false,
};
pub const ACK: TcpFlags = TcpFlags {
    syn: false,
    ack: true,
    fin: false,
    rst: false,
};
pub const FIN: TcpFlags = TcpFlags {
    syn: false,
    ack: true,
    fin: true,
    rst: false,
};
pub const RST: TcpFlags = TcpFlags {
    syn: false,
    ack: false,
    fin: false,
    rst: true,
};
pub const PLAIN: TcpFlags = TcpFlags {
    syn: false,
    ack: false,
    fin: false,
    rst: false,
};

pub fn seg<'a>(
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    payload: &'a [u8],
) -> Segment<'a> {
    Segment {
        src,
        dst,
        seq,
        ack,
        flags,
        payload,
        missing: 0,
        shared: None,
    }
}

/// Feeds segments with frame numbers 1, 2, …, then finishes.
pub struct Run {
    pub r: Reassembler,
    pub sink: Recorder,
    pub frame: u64,
}

impl Run {
    pub fn new() -> Run {
        Run {
            r: Reassembler::new(&[1883, 8883]),
            sink: Recorder::default(),
            frame: 0,
        }
    }
    pub fn feed(&mut self, s: Segment<'_>) -> &mut Run {
        self.frame += 1;
        self.r.segment(&s, at(self.frame), &mut self.sink);
        self
    }
    pub fn finish(&mut self) -> &mut Run {
        self.frame += 1;
        self.r.finish(at(self.frame), &mut self.sink);
        self
    }
}

pub const ISN_C: u32 = 1000;
pub const ISN_S: u32 = 5000;

/// SYN, SYN-ACK, ACK between client and server.
pub fn handshake(run: &mut Run, isn_c: u32, isn_s: u32) {
    run.feed(seg(client(), server(), isn_c, 0, SYN, b""));
    run.feed(seg(
        server(),
        client(),
        isn_s,
        isn_c.wrapping_add(1),
        SYN_ACK,
        b"",
    ));
    run.feed(seg(
        client(),
        server(),
        isn_c.wrapping_add(1),
        isn_s.wrapping_add(1),
        ACK,
        b"",
    ));
}
