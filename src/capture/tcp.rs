//! TCP reassembly per flow and direction: out-of-order segments,
//! retransmissions and overlaps, gaps, flows that start mid-way, SYN/FIN/RST,
//! sequence-number wrap-around.

use super::{At, Segment, StreamSink};

/// The flow table.
#[derive(Debug, Default)]
pub struct Reassembler {}

impl Reassembler {
    /// A reassembler; `server_ports` help guess the client of flows seen without SYN.
    pub fn new(_server_ports: &[u16]) -> Reassembler {
        Reassembler {}
    }

    /// Feed one segment.
    pub fn segment(&mut self, _seg: &Segment<'_>, _at: At, _sink: &mut dyn StreamSink) {}

    /// End of capture: flush pending data, report gaps, close open flows.
    pub fn finish(&mut self, _at: At, _sink: &mut dyn StreamSink) {}
}
