//! TCP reassembly per flow and direction: out-of-order segments,
//! retransmissions and overlaps, gaps, flows that start mid-way, SYN/FIN/RST,
//! sequence-number wrap-around.
//!
//! The flow table is keyed by the 4-tuple (both directions share an entry).
//! A flow is reported `opened` once, before any data, and `closed` once: when
//! the first FIN is reached in stream order, at the first RST, or at
//! [`Reassembler::finish`]. After both sides finished (or a RST) its state is
//! dropped; a short list of recently closed 4-tuples makes late
//! retransmissions and final ACKs harmless. A SYN on a closed 4-tuple, or a
//! SYN with a new ISN on an open one, starts a new flow.

use std::collections::VecDeque;

use rustc_hash::FxHashMap as HashMap;
use std::collections::hash_map::Entry;
use std::net::SocketAddr;

use super::{At, Endpoint, FlowId, Segment, StreamSink};

mod half;

use half::{Half, Out};

/// Buffered out-of-order bytes per direction before the first hole is declared a gap.
pub const DEFAULT_PENDING_CAP: u64 = 4 << 20;
/// Recently closed 4-tuples remembered.
const CLOSED_MEMORY: usize = 4096;

/// One end of a 4-tuple in a form that hashes and compares in a few
/// instructions: the address as 128 bits (IPv4 in the low 32) and the port,
/// with bit 16 set for IPv6 so that an IPv4 address never equals the IPv6
/// address with the same bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct End {
    ip: u128,
    port: u32,
}

impl From<SocketAddr> for End {
    fn from(a: SocketAddr) -> End {
        match a {
            SocketAddr::V4(s) => End {
                ip: u128::from(u32::from(*s.ip())),
                port: u32::from(s.port()),
            },
            SocketAddr::V6(s) => End {
                ip: u128::from(*s.ip()),
                port: u32::from(s.port()) | 1 << 16,
            },
        }
    }
}

/// Both ends of a flow, the lower first (both directions share the key).
type Key = (End, End);

/// The flow table.
#[derive(Debug)]
pub struct Reassembler {
    server_ports: Vec<u16>,
    pending_cap: u64,
    next_id: FlowId,
    flows: HashMap<Key, Flow>,
    closed: HashMap<Key, u64>,
    closed_order: VecDeque<(Key, u64)>,
    closed_count: u64,
}

#[derive(Debug)]
struct Flow {
    id: FlowId,
    a: SocketAddr,
    b: SocketAddr,
    /// Index 0 = A's bytes, 1 = B's bytes.
    halves: [Half; 2],
    /// A's SYN was seen (its ISN tells a new connection from a retransmission).
    syn_a: bool,
    closed: bool,
}

impl Flow {
    /// A new flow for `seg`'s 4-tuple: A is the SYN's sender, else the
    /// guessed client.
    fn start(next_id: &mut FlowId, server_ports: &[u16], cap: u64, seg: &Segment<'_>) -> Flow {
        let a_is_src = if seg.flags.syn {
            !seg.flags.ack
        } else {
            guess_client(seg.src, seg.dst, server_ports)
        };
        let (a, b) = if a_is_src {
            (seg.src, seg.dst)
        } else {
            (seg.dst, seg.src)
        };
        let id = *next_id;
        *next_id = next_id.wrapping_add(1);
        Flow {
            id,
            a,
            b,
            halves: [Half::new(cap), Half::new(cap)],
            syn_a: false,
            closed: false,
        }
    }

    /// A SYN on this 4-tuple that does not belong to the connection held.
    fn reused_by(&self, seg: &Segment<'_>) -> bool {
        if seg.src == self.a {
            let a = &self.halves[0];
            a.started() && (!self.syn_a || a.base() != seg.seq.wrapping_add(1))
        } else {
            self.halves[1].started()
        }
    }
}

impl Default for Reassembler {
    fn default() -> Reassembler {
        Reassembler::new(&[])
    }
}

impl Reassembler {
    /// A reassembler; `server_ports` help guess the client of flows seen without SYN.
    pub fn new(server_ports: &[u16]) -> Reassembler {
        Reassembler {
            server_ports: server_ports.to_vec(),
            pending_cap: DEFAULT_PENDING_CAP,
            next_id: 0,
            flows: HashMap::default(),
            closed: HashMap::default(),
            closed_order: VecDeque::new(),
            closed_count: 0,
        }
    }

    /// Change the per-direction pending-bytes cap (default [`DEFAULT_PENDING_CAP`]).
    pub fn with_pending_cap(mut self, cap: u64) -> Reassembler {
        self.pending_cap = cap.max(1);
        self
    }

    /// Flows currently held in memory.
    pub fn open_flows(&self) -> usize {
        self.flows.len()
    }

    /// Feed one segment.
    pub fn segment(&mut self, seg: &Segment<'_>, at: At, sink: &mut dyn StreamSink) {
        let key = key(seg.src, seg.dst);
        let syn_only = seg.flags.syn && !seg.flags.ack;
        let cap = self.pending_cap;
        // One lookup per segment: the flow table is the hot path.
        let flow = match self.flows.entry(key) {
            Entry::Occupied(e) => {
                let flow = e.into_mut();
                if syn_only && flow.reused_by(seg) {
                    // The port pair is reused: the old connection ended unseen.
                    let fresh = Flow::start(&mut self.next_id, &self.server_ports, cap, seg);
                    let old = std::mem::replace(flow, fresh);
                    Self::end(old, None, at, sink);
                    sink.opened(flow.id, flow.a, flow.b, seg.flags.syn, at);
                }
                flow
            }
            Entry::Vacant(e) => {
                if self.closed.contains_key(&key) {
                    if !syn_only {
                        return; // late retransmission, final ACK
                    }
                    self.closed.remove(&key);
                }
                let flow = Flow::start(&mut self.next_id, &self.server_ports, cap, seg);
                sink.opened(flow.id, flow.a, flow.b, seg.flags.syn, at);
                e.insert(flow)
            }
        };
        let (side, other, from) = if seg.src == flow.a {
            (0, 1, Endpoint::A)
        } else {
            (1, 0, Endpoint::B)
        };
        if syn_only && side == 0 && !flow.halves[0].started() {
            flow.syn_a = true;
        }
        let id = flow.id;
        // The ACK speaks of what the sender had received before this
        // segment: settle the other direction (gaps, held data) first, so the
        // streams keep their real order.
        if seg.flags.ack && !seg.flags.rst {
            let to = if from == Endpoint::A {
                Endpoint::B
            } else {
                Endpoint::A
            };
            let mut out = Out {
                sink: &mut *sink,
                flow: id,
                from: to,
                at,
            };
            // A direction not seen yet starts where this ACK says it is, so
            // that bytes it sends and the capture lacks (a one-way capture,
            // a lost SYN-ACK) are gaps, not silence.
            if !syn_only {
                flow.halves[other].start(seg.ack, false);
            }
            flow.halves[other].acked(seg.ack, &mut out);
        }
        let half = &mut flow.halves[side];
        // Without a SYN, offset 0 comes from the first segment that carries
        // sequence space: a bare ACK or keep-alive probe (seq = next - 1)
        // would misplace it by one.
        if seg.flags.syn || seg.flags.fin || !seg.payload.is_empty() || seg.missing > 0 {
            half.start(seg.seq, seg.flags.syn);
        }
        let mut out = Out {
            sink: &mut *sink,
            flow: id,
            from,
            at,
        };
        half.segment(seg, &mut out);
        if seg.flags.rst {
            if let Some(flow) = self.flows.remove(&key) {
                Self::end(flow, Some(from), at, sink);
            }
            self.remember_closed(key);
            return;
        }
        if !flow.closed {
            for (i, who) in [(side, from), (other, opposite(from))] {
                if flow.halves[i].complete() {
                    flow.closed = true;
                    sink.closed(id, Some(who), at);
                    break;
                }
            }
        }
        if flow.halves.iter().all(Half::complete) {
            self.flows.remove(&key);
            self.remember_closed(key);
            sink.finished(id, at);
        }
    }

    /// End of capture: flush pending data, report gaps, close open flows.
    pub fn finish(&mut self, at: At, sink: &mut dyn StreamSink) {
        let mut flows: Vec<Flow> = self.flows.drain().map(|(_, f)| f).collect();
        flows.sort_by_key(|f| f.id);
        for flow in flows {
            Self::end(flow, None, at, sink);
        }
        self.closed.clear();
        self.closed_order.clear();
    }

    /// Flush both halves and report the close (if not reported yet).
    /// `by` is the RST sender, or None at end of capture / port reuse.
    fn end(mut flow: Flow, by: Option<Endpoint>, at: At, sink: &mut dyn StreamSink) {
        for (i, from) in [(0, Endpoint::A), (1, Endpoint::B)] {
            let mut out = Out {
                sink: &mut *sink,
                flow: flow.id,
                from,
                at,
            };
            flow.halves[i].flush(&mut out);
        }
        if flow.closed {
            sink.finished(flow.id, at);
            return;
        }
        // A FIN reached only by the flush still names its sender.
        let by = by.or_else(|| {
            [(0, Endpoint::A), (1, Endpoint::B)]
                .into_iter()
                .find(|(i, _)| flow.halves[*i].complete())
                .map(|(_, e)| e)
        });
        sink.closed(flow.id, by, at);
        sink.finished(flow.id, at);
    }

    fn remember_closed(&mut self, key: Key) {
        self.closed_count += 1;
        self.closed.insert(key, self.closed_count);
        self.closed_order.push_back((key, self.closed_count));
        while self.closed_order.len() > CLOSED_MEMORY {
            if let Some((k, n)) = self.closed_order.pop_front() {
                if self.closed.get(&k) == Some(&n) {
                    self.closed.remove(&k);
                }
            }
        }
    }
}

fn key(x: SocketAddr, y: SocketAddr) -> Key {
    let (x, y) = (End::from(x), End::from(y));
    if x <= y {
        (x, y)
    } else {
        (y, x)
    }
}

fn opposite(e: Endpoint) -> Endpoint {
    match e {
        Endpoint::A => Endpoint::B,
        Endpoint::B => Endpoint::A,
    }
}

/// Without a SYN: the client is the side whose port is not a server port;
/// if that does not decide, the higher port (ephemeral ports are high).
fn guess_client(src: SocketAddr, dst: SocketAddr, server_ports: &[u16]) -> bool {
    let src_server = server_ports.contains(&src.port());
    let dst_server = server_ports.contains(&dst.port());
    match (src_server, dst_server) {
        (false, true) => true,
        (true, false) => false,
        _ => src.port() > dst.port() || (src.port() == dst.port() && src > dst),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    fn at(ip: IpAddr, port: u16) -> SocketAddr {
        SocketAddr::new(ip, port)
    }

    /// Both directions share a key; an IPv4 flow and an IPv6 flow whose
    /// addresses have the same bits (::1.2.3.4) do not; nor do flows that
    /// differ only in a port.
    #[test]
    fn keys_tell_flows_apart() {
        let v4 = |d: u8| IpAddr::V4(Ipv4Addr::new(1, 2, 3, d));
        let v6 = |d: u8| IpAddr::V6(Ipv6Addr::from(0x0102_0300 | u128::from(d)));
        let (c4, s4) = (at(v4(4), 40000), at(v4(5), 1883));
        let (c6, s6) = (at(v6(4), 40000), at(v6(5), 1883));
        assert_eq!(key(c4, s4), key(s4, c4));
        assert_eq!(key(c6, s6), key(s6, c6));
        assert_ne!(key(c4, s4), key(c6, s6));
        assert_eq!(End::from(c4).ip, End::from(c6).ip);
        assert_ne!(key(c4, s4), key(at(v4(4), 40001), s4));
    }
}
