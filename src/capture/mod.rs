//! Offline capture analysis: pcap/pcapng frames → link/IP/TCP slicing → TCP
//! reassembly per flow → the same framer, events and rules as live runs.
//!
//! Layers, each usable alone and free of I/O except `read`:
//! - [`read`]: streaming pcap / pcapng reader yielding borrowed [`Frame`]s.
//! - [`net`]: link-layer strip and lax IP/TCP slicing of one frame → [`Segment`].
//! - [`tcp`]: per-flow reassembly (order, retransmissions, overlaps, gaps, close)
//!   → calls on a [`StreamSink`].
//! - [`tls`]: what a TLS flow shows in clear.
//! - [`pcapng`]: a small pcapng writer (annotated copies, synthetic captures).
//! - [`synth`]: synthetic TCP conversations for tests and benchmarks.

pub mod net;
pub mod pcapng;
pub mod read;
pub mod synth;
pub mod tcp;
pub mod tls;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;

/// One captured frame, borrowed from the reader's buffer.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// 1-based frame number, as Wireshark counts.
    pub number: u64,
    /// Capture timestamp since the Unix epoch.
    pub ts: Duration,
    /// Link type (pcap LINKTYPE_* value) of the frame's interface.
    pub linktype: u16,
    /// Interface index (pcapng); 0 for pcap.
    pub interface: u32,
    /// The captured bytes (possibly shorter than `orig_len`).
    pub data: &'a [u8],
    /// The reader's buffer that holds `data`, when it can be shared: bytes
    /// taken from the frame are then a slice of it, not a copy.
    pub shared: Option<&'a Bytes>,
    /// Length on the wire.
    pub orig_len: u32,
}

/// TCP header flags of interest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpFlags {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
}

/// One TCP segment sliced out of a frame.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    /// TCP payload, bounded by the IP length (padding dropped); may be
    /// shorter than the segment when the frame was truncated by the snaplen.
    pub payload: &'a [u8],
    /// Payload bytes the segment carried but the capture did not keep.
    pub missing: u32,
    /// The reader's buffer that holds `payload`, if it can be shared.
    pub shared: Option<&'a Bytes>,
}

/// Where a frame's bytes come from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    pub frame: u64,
    pub ts: Duration,
}

/// Identifies a TCP flow (connection) within one capture.
pub type FlowId = u32;

/// Which endpoint of a flow sent bytes: the one that opened it (SYN) or,
/// without a SYN, the one [`tcp`] guessed to be the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// Initiator (client side as far as TCP can tell).
    A,
    /// Responder.
    B,
}

/// Receives the reassembled byte streams of every TCP flow.
pub trait StreamSink {
    /// A new flow: `a` is the initiator (or the guessed client), `b` the
    /// responder; `syn_seen` says whether the handshake was captured.
    fn opened(&mut self, flow: FlowId, a: SocketAddr, b: SocketAddr, syn_seen: bool, at: At);
    /// In-order bytes from `from`.
    fn data(&mut self, flow: FlowId, from: Endpoint, bytes: &[u8], at: At);
    /// In-order bytes from `from` that lie in `shared` (the reader's
    /// buffer): a sink may keep slices of `shared` instead of copies.
    fn shared_data(&mut self, flow: FlowId, from: Endpoint, bytes: &[u8], shared: &Bytes, at: At) {
        let _ = shared;
        self.data(flow, from, bytes, at);
    }
    /// `len` bytes from `from` are missing (never captured); the stream
    /// continues after them.
    fn gap(&mut self, flow: FlowId, from: Endpoint, len: u64, at: At);
    /// `len` bytes from `from` that a recorded segment carried were cut off
    /// by the capture (its snapshot length): a gap whose bytes were on the
    /// wire right after the ones delivered last.
    fn snapped(&mut self, flow: FlowId, from: Endpoint, len: u64, at: At) {
        self.gap(flow, from, len, at);
    }
    /// The flow ended: `by` sent the first FIN or a RST (None = end of capture).
    /// After a FIN the other side may still send data (half-close).
    fn closed(&mut self, flow: FlowId, by: Option<Endpoint>, at: At);
    /// Nothing more will come for this flow (both FINs, RST, or end of
    /// capture); always after `closed`.
    fn finished(&mut self, _flow: FlowId, _at: At) {}
}
