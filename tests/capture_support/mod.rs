//! Test helpers for the capture layers: tiny pcap / pcapng writers (both
//! byte orders), link-layer headers, and a stream sink that records calls.
#![allow(dead_code, clippy::unwrap_used)]

pub mod tcp;

use std::net::SocketAddr;
use std::time::Duration;

use mqttspec::capture::{At, Endpoint, FlowId, StreamSink};

/// Writes integers in one byte order.
#[derive(Debug, Clone, Copy)]
pub struct Order {
    pub be: bool,
}

impl Order {
    pub fn u16(self, out: &mut Vec<u8>, v: u16) {
        out.extend(if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }
    pub fn u32(self, out: &mut Vec<u8>, v: u32) {
        out.extend(if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }
    pub fn u64(self, out: &mut Vec<u8>, v: u64) {
        out.extend(if self.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }
}

/// One legacy pcap record: seconds, fraction (µs or ns), captured bytes, original length.
pub type Record<'a> = (u32, u32, &'a [u8], u32);

/// A legacy pcap file.
pub fn pcap(be: bool, nanos: bool, linktype: u32, snaplen: u32, records: &[Record<'_>]) -> Vec<u8> {
    let o = Order { be };
    let mut out = Vec::new();
    o.u32(&mut out, if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 });
    o.u16(&mut out, 2);
    o.u16(&mut out, 4);
    o.u32(&mut out, 0);
    o.u32(&mut out, 0);
    o.u32(&mut out, snaplen);
    o.u32(&mut out, linktype);
    for &(sec, frac, data, orig) in records {
        o.u32(&mut out, sec);
        o.u32(&mut out, frac);
        o.u32(&mut out, data.len() as u32);
        o.u32(&mut out, orig);
        out.extend_from_slice(data);
    }
    out
}

/// A pcapng writer, one section after another, each in its own byte order.
#[derive(Debug, Default)]
pub struct Ng {
    pub out: Vec<u8>,
    o: Option<Order>,
}

fn pad(v: &mut Vec<u8>) {
    while v.len() % 4 != 0 {
        v.push(0);
    }
}

impl Ng {
    fn order(&self) -> Order {
        self.o.unwrap_or(Order { be: false })
    }

    pub fn block(&mut self, kind: u32, mut body: Vec<u8>) -> &mut Ng {
        let o = self.order();
        pad(&mut body);
        let len = body.len() as u32 + 12;
        o.u32(&mut self.out, kind);
        o.u32(&mut self.out, len);
        self.out.extend(body);
        o.u32(&mut self.out, len);
        self
    }

    fn options(&self, body: &mut Vec<u8>, options: &[(u16, &[u8])]) {
        if options.is_empty() {
            return;
        }
        let o = self.order();
        for (code, value) in options {
            o.u16(body, *code);
            o.u16(body, value.len() as u16);
            body.extend_from_slice(value);
            pad(body);
        }
        o.u32(body, 0);
    }

    pub fn section(&mut self, be: bool) -> &mut Ng {
        self.o = Some(Order { be });
        let o = self.order();
        let mut body = Vec::new();
        o.u32(&mut body, 0x1a2b_3c4d);
        o.u16(&mut body, 1);
        o.u16(&mut body, 0);
        o.u64(&mut body, u64::MAX);
        self.block(0x0a0d_0d0a, body)
    }

    /// Interface: link type, snaplen, if_tsresol (None = default µs), if_tsoffset.
    pub fn interface(
        &mut self,
        linktype: u16,
        snaplen: u32,
        tsresol: Option<u8>,
        tsoffset: Option<i64>,
    ) -> &mut Ng {
        let o = self.order();
        let mut body = Vec::new();
        o.u16(&mut body, linktype);
        o.u16(&mut body, 0);
        o.u32(&mut body, snaplen);
        let r = tsresol.map(|r| [r]);
        let off = tsoffset.map(|v| {
            if o.be {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        });
        let mut opts: Vec<(u16, &[u8])> = Vec::new();
        if let Some(r) = &r {
            opts.push((9, r));
        }
        if let Some(off) = &off {
            opts.push((14, off));
        }
        self.options(&mut body, &opts);
        self.block(1, body)
    }

    pub fn epb(&mut self, iface: u32, ts: u64, data: &[u8], orig: u32) -> &mut Ng {
        let o = self.order();
        let mut body = Vec::new();
        o.u32(&mut body, iface);
        o.u32(&mut body, (ts >> 32) as u32);
        o.u32(&mut body, ts as u32);
        o.u32(&mut body, data.len() as u32);
        o.u32(&mut body, orig);
        body.extend_from_slice(data);
        self.block(6, body)
    }

    pub fn spb(&mut self, data: &[u8], orig: u32) -> &mut Ng {
        let o = self.order();
        let mut body = Vec::new();
        o.u32(&mut body, orig);
        body.extend_from_slice(data);
        self.block(3, body)
    }

    pub fn bytes(&self) -> Vec<u8> {
        self.out.clone()
    }
}

/// One recorded sink call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Opened {
        flow: FlowId,
        a: SocketAddr,
        b: SocketAddr,
        syn: bool,
    },
    Data {
        flow: FlowId,
        from: Endpoint,
        bytes: Vec<u8>,
    },
    Gap {
        flow: FlowId,
        from: Endpoint,
        len: u64,
        /// Cut off a recorded segment (snaplen) rather than never seen.
        snapped: bool,
    },
    Closed {
        flow: FlowId,
        by: Option<Endpoint>,
    },
}

/// A sink that records every call (adjacent data calls are kept apart).
#[derive(Debug, Default)]
pub struct Recorder {
    pub calls: Vec<Call>,
    pub frames: Vec<u64>,
}

impl Recorder {
    /// All bytes delivered from one endpoint of one flow (gaps are listed
    /// by [`Recorder::gaps`]).
    pub fn stream(&self, flow: FlowId, from: Endpoint) -> Vec<u8> {
        let mut out = Vec::new();
        for c in &self.calls {
            if let Call::Data {
                flow: f,
                from: e,
                bytes,
            } = c
            {
                if *f == flow && *e == from {
                    out.extend_from_slice(bytes);
                }
            }
        }
        out
    }

    /// Lengths of the gaps of one direction, whatever their cause.
    pub fn gaps(&self, flow: FlowId, from: Endpoint) -> Vec<u64> {
        self.gaps_where(flow, from, |_| true)
    }

    /// Lengths of the gaps the snapshot length cut off recorded segments.
    pub fn snapped(&self, flow: FlowId, from: Endpoint) -> Vec<u64> {
        self.gaps_where(flow, from, |snapped| snapped)
    }

    fn gaps_where(&self, flow: FlowId, from: Endpoint, keep: fn(bool) -> bool) -> Vec<u64> {
        self.calls
            .iter()
            .filter_map(|c| match c {
                Call::Gap {
                    flow: f,
                    from: e,
                    len,
                    snapped,
                } if *f == flow && *e == from && keep(*snapped) => Some(*len),
                _ => None,
            })
            .collect()
    }

    /// Calls other than data, in order.
    pub fn events(&self) -> Vec<Call> {
        self.calls
            .iter()
            .filter(|c| !matches!(c, Call::Data { .. }))
            .cloned()
            .collect()
    }
}

impl StreamSink for Recorder {
    fn opened(&mut self, flow: FlowId, a: SocketAddr, b: SocketAddr, syn: bool, at: At) {
        self.frames.push(at.frame);
        self.calls.push(Call::Opened { flow, a, b, syn });
    }
    fn data(&mut self, flow: FlowId, from: Endpoint, bytes: &[u8], at: At) {
        self.frames.push(at.frame);
        self.calls.push(Call::Data {
            flow,
            from,
            bytes: bytes.to_vec(),
        });
    }
    fn gap(&mut self, flow: FlowId, from: Endpoint, len: u64, at: At) {
        self.frames.push(at.frame);
        self.calls.push(Call::Gap {
            flow,
            from,
            len,
            snapped: false,
        });
    }
    fn snapped(&mut self, flow: FlowId, from: Endpoint, len: u64, at: At) {
        self.frames.push(at.frame);
        self.calls.push(Call::Gap {
            flow,
            from,
            len,
            snapped: true,
        });
    }
    fn closed(&mut self, flow: FlowId, by: Option<Endpoint>, at: At) {
        self.frames.push(at.frame);
        self.calls.push(Call::Closed { flow, by });
    }
}

pub fn at(frame: u64) -> At {
    At {
        frame,
        ts: Duration::from_secs(frame),
    }
}
