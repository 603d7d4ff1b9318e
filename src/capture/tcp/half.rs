//! One direction of a TCP connection: unwraps sequence numbers into 64-bit
//! stream offsets, delivers bytes in order, buffers out-of-order segments,
//! trims retransmissions and overlaps (the first copy wins) and declares gaps.

use std::collections::BTreeMap;

use bytes::Bytes;

use crate::capture::{At, Endpoint, FlowId, Segment, StreamSink};

/// Where a half's output goes.
pub(super) struct Out<'s> {
    pub sink: &'s mut dyn StreamSink,
    pub flow: FlowId,
    pub from: Endpoint,
    pub at: At,
}

impl Out<'_> {
    fn data(&mut self, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.sink.data(self.flow, self.from, bytes, self.at);
        }
    }

    /// Bytes that lie in `shared`, when they do.
    fn data_in(&mut self, bytes: &[u8], shared: Option<&Bytes>) {
        match shared {
            Some(shared) if !bytes.is_empty() => self
                .sink
                .shared_data(self.flow, self.from, bytes, shared, self.at),
            _ => self.data(bytes),
        }
    }

    fn gap(&mut self, len: u64) {
        if len > 0 {
            self.sink.gap(self.flow, self.from, len, self.at);
        }
    }

    fn snapped(&mut self, len: u64) {
        if len > 0 {
            self.sink.snapped(self.flow, self.from, len, self.at);
        }
    }
}

/// A buffered stretch of the stream.
#[derive(Debug)]
enum Chunk {
    Data(Vec<u8>),
    /// Bytes the segment carried but the capture cut off (snaplen).
    Lost(u64),
}

impl Chunk {
    fn len(&self) -> u64 {
        match self {
            Chunk::Data(d) => d.len() as u64,
            Chunk::Lost(n) => *n,
        }
    }
}

/// Acknowledgements further ahead than this are ignored as bogus.
const MAX_ACK_JUMP: u64 = 1 << 30;

#[derive(Debug, Default)]
pub(super) struct Half {
    started: bool,
    /// Sequence number of stream offset 0.
    base: u32,
    /// Next offset to deliver.
    next: u64,
    /// Offset of the FIN, once seen.
    fin_at: Option<u64>,
    pending: BTreeMap<u64, Chunk>,
    pending_bytes: u64,
    /// Pending bytes beyond which the first hole becomes a gap.
    pub cap: u64,
}

impl Half {
    pub(super) fn new(cap: u64) -> Half {
        Half {
            cap,
            ..Half::default()
        }
    }

    pub(super) fn started(&self) -> bool {
        self.started
    }

    /// Sequence number of offset 0 (for telling a new SYN from a retransmitted one).
    pub(super) fn base(&self) -> u32 {
        self.base
    }

    /// The FIN has been seen and every byte before it delivered (or declared a gap).
    pub(super) fn complete(&self) -> bool {
        self.fin_at.is_some_and(|f| self.next >= f)
    }

    /// Fix offset 0 from the first segment seen (a SYN occupies one number).
    pub(super) fn start(&mut self, seq: u32, syn: bool) {
        if !self.started {
            self.started = true;
            self.base = seq.wrapping_add(u32::from(syn));
        }
    }

    /// Stream offset of a sequence number, unwrapped near the delivery point
    /// (negative: before the stream start).
    fn offset(&self, seq: u32) -> i128 {
        let rel = seq.wrapping_sub(self.base);
        let diff = rel.wrapping_sub(self.next as u32) as i32;
        i128::from(self.next) + i128::from(diff)
    }

    /// A segment of this direction: its payload (and the bytes it carried
    /// that were not captured), and its FIN.
    pub(super) fn segment(&mut self, seg: &Segment<'_>, out: &mut Out<'_>) {
        let (seq, syn, fin) = (seg.seq, seg.flags.syn, seg.flags.fin);
        let (payload, missing) = (seg.payload, seg.missing);
        let start = self.offset(seq) + i128::from(syn);
        let len = payload.len() as u64 + u64::from(missing);
        if fin && self.fin_at.is_none() {
            if let Ok(f) = u64::try_from(start + i128::from(len)) {
                self.fin_at = Some(f);
            }
        }
        if len == 0 {
            return;
        }
        let end = start + i128::from(len);
        let next = i128::from(self.next);
        if end <= next {
            return; // retransmission
        }
        let skip = usize::try_from((next - start).max(0)).unwrap_or(usize::MAX);
        let start = start.max(next) as u64;
        if start == self.next && self.pending.is_empty() {
            // Fast path: in order, nothing buffered.
            let data = payload.get(skip..).unwrap_or_default();
            out.data_in(data, seg.shared);
            self.next += data.len() as u64;
            let lost = (end as u64).saturating_sub(self.next);
            if lost > 0 {
                out.snapped(lost);
                self.next += lost;
            }
            return;
        }
        let data = payload.get(skip..).unwrap_or_default();
        self.insert(start, Chunk::Data(data.to_vec()));
        if missing > 0 {
            let lost_start = (start + data.len() as u64).max(start);
            let lost = (end as u64).saturating_sub(lost_start);
            if lost > 0 {
                self.insert(lost_start, Chunk::Lost(lost));
            }
        }
        self.drain(out);
        while self.pending_bytes > self.cap {
            self.skip_hole(out);
        }
    }

    /// The other side acknowledged up to `ack`: bytes before it that were
    /// never seen are a gap.
    pub(super) fn acked(&mut self, ack: u32, out: &mut Out<'_>) {
        if !self.started {
            return;
        }
        let Ok(mut upto) = u64::try_from(self.offset(ack)) else {
            return;
        };
        if let Some(f) = self.fin_at {
            upto = upto.min(f);
        }
        if upto <= self.next || upto - self.next > MAX_ACK_JUMP {
            return;
        }
        while self.next < upto {
            match self.pending.first_key_value() {
                Some((&k, _)) if k < upto => self.skip_hole(out),
                _ => {
                    out.gap(upto - self.next);
                    self.next = upto;
                }
            }
        }
    }

    /// FIN, RST or end of capture: everything buffered is delivered, holes
    /// (and a hole before the FIN) become gaps.
    pub(super) fn flush(&mut self, out: &mut Out<'_>) {
        while !self.pending.is_empty() {
            self.skip_hole(out);
        }
        if let Some(f) = self.fin_at {
            if f > self.next {
                out.gap(f - self.next);
                self.next = f;
            }
        }
    }

    /// Declare the hole before the first buffered chunk a gap and deliver.
    fn skip_hole(&mut self, out: &mut Out<'_>) {
        if let Some((&k, _)) = self.pending.first_key_value() {
            if k > self.next {
                out.gap(k - self.next);
                self.next = k;
            }
        }
        self.drain(out);
    }

    /// Deliver the buffered chunks that continue the stream.
    fn drain(&mut self, out: &mut Out<'_>) {
        while let Some(entry) = self.pending.first_entry() {
            let k = *entry.key();
            if k > self.next {
                break;
            }
            let chunk = entry.remove();
            self.pending_bytes -= chunk.len();
            let skip = self.next - k;
            match chunk {
                Chunk::Data(d) => {
                    let rest = d
                        .get(usize::try_from(skip).unwrap_or(usize::MAX)..)
                        .unwrap_or_default();
                    out.data(rest);
                    self.next += rest.len() as u64;
                }
                Chunk::Lost(n) => {
                    out.snapped(n.saturating_sub(skip));
                    self.next += n.saturating_sub(skip);
                }
            }
        }
    }

    /// Buffer a chunk, keeping only the parts no buffered chunk covers yet.
    fn insert(&mut self, start: u64, chunk: Chunk) {
        let end = start + chunk.len();
        let mut cur = start;
        let mut pieces = Vec::new();
        let before = self
            .pending
            .range(..start)
            .next_back()
            .map(|(&k, c)| k + c.len());
        if let Some(e) = before {
            cur = cur.max(e);
        }
        for (&k, c) in self.pending.range(start..end) {
            if k > cur {
                pieces.push((cur, k));
            }
            cur = cur.max(k + c.len());
        }
        if cur < end {
            pieces.push((cur, end));
        }
        for (s, e) in pieces {
            let piece = match &chunk {
                Chunk::Data(d) => {
                    let from = usize::try_from(s - start).unwrap_or(usize::MAX);
                    let to = usize::try_from(e - start).unwrap_or(usize::MAX);
                    Chunk::Data(d.get(from..to).unwrap_or_default().to_vec())
                }
                Chunk::Lost(_) => Chunk::Lost(e - s),
            };
            self.pending_bytes += piece.len();
            self.pending.insert(s, piece);
        }
    }
}
