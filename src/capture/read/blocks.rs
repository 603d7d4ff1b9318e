//! Turns pcap / pcapng blocks into [`Frame`]s: interface table per pcapng
//! section, timestamp resolution and offset, frame numbering, notices.

use std::time::Duration;

use bytes::Bytes;
use pcap_parser::pcapng::{Block, OptionCode};
use pcap_parser::{PcapBlockOwned, PcapHeader};

use super::time::{ng_time, resolution};
use super::{Notice, ReadStats, MAX_BUFFER, MAX_NOTICES};
use crate::capture::Frame;

const EPB: u32 = 6;
const SPB: u32 = 3;
const OBSOLETE_PACKET: u32 = 2;
/// Largest legacy pcap record accepted beyond the snaplen.
const LEGACY_MAX_RECORD: u32 = 256 * 1024;

/// A pcapng packet block's fields, as read from the block.
struct NgPacket<'a> {
    if_id: u32,
    /// Timestamp, high and low 32 bits, in the interface's units.
    ts: (u32, u32),
    /// Captured bytes (padding removed).
    data: &'a [u8],
    caplen: u32,
    origlen: u32,
}

/// A packet of any block type, ready to become a frame.
struct Packet<'a> {
    interface: u32,
    ts: Duration,
    /// Captured bytes, inside `shared`.
    data: &'a [u8],
    shared: &'a Bytes,
    caplen: u32,
    origlen: u32,
}

/// One pcapng interface (or the pcap file's single one).
#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: u16,
    snaplen: u32,
    /// Timestamp units per second.
    units: u64,
    /// Seconds added to every timestamp.
    offset: i64,
}

#[derive(Debug, Default)]
pub(super) struct State {
    stats: ReadStats,
    suppressed: u64,
    interfaces: Vec<Interface>,
    big_endian: bool,
}

impl State {
    /// One block parsed out of `shared` (the reader's buffer).
    pub(super) fn block(
        &mut self,
        block: &PcapBlockOwned<'_>,
        shared: &Bytes,
        on_frame: &mut dyn FnMut(&Frame<'_>),
    ) {
        match block {
            PcapBlockOwned::LegacyHeader(h) => self.legacy_header(h),
            PcapBlockOwned::Legacy(b) => {
                let number = self.next_number();
                let Some(&iface) = self.interfaces.first() else {
                    return;
                };
                let ts = Duration::from_secs(u64::from(b.ts_sec))
                    + Duration::from_nanos(u64::from(b.ts_usec) * (1_000_000_000 / iface.units));
                let data = b.data;
                let packet = Packet {
                    interface: 0,
                    ts,
                    data,
                    shared,
                    caplen: b.caplen,
                    origlen: b.origlen,
                };
                self.deliver(number, iface, packet, on_frame);
            }
            PcapBlockOwned::NG(block) => self.ng_block(block, shared, on_frame),
        }
    }

    fn legacy_header(&mut self, h: &PcapHeader) {
        let units = if h.is_nanosecond_precision() {
            1_000_000_000
        } else {
            1_000_000
        };
        self.interfaces = vec![Interface {
            linktype: linktype(h.network.0),
            snaplen: h.snaplen,
            units,
            // The time zone field is always 0 in practice; Wireshark ignores it too.
            offset: 0,
        }];
        self.big_endian = h.is_bigendian();
    }

    fn ng_block(
        &mut self,
        block: &Block<'_>,
        shared: &Bytes,
        on_frame: &mut dyn FnMut(&Frame<'_>),
    ) {
        match block {
            Block::SectionHeader(shb) => {
                self.interfaces.clear();
                self.big_endian = shb.big_endian();
            }
            Block::InterfaceDescription(idb) => {
                let units = match resolution(idb.if_tsresol) {
                    Some(u) => u,
                    None => {
                        let msg = format!(
                            "interface {} has an invalid timestamp resolution (if_tsresol {:#04x}); \
                             microseconds assumed",
                            self.interfaces.len(),
                            idb.if_tsresol
                        );
                        self.notice(None, msg);
                        1_000_000
                    }
                };
                let offset = idb
                    .options
                    .iter()
                    .find(|o| o.code == OptionCode::IfTsoffset)
                    .and_then(|o| o.value.get(..8))
                    .map(|v| {
                        let b = [v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]];
                        if self.big_endian {
                            i64::from_be_bytes(b)
                        } else {
                            i64::from_le_bytes(b)
                        }
                    })
                    .unwrap_or(0);
                self.interfaces.push(Interface {
                    linktype: linktype(idb.linktype.0),
                    snaplen: idb.snaplen,
                    units,
                    offset,
                });
            }
            Block::EnhancedPacket(epb) => {
                let number = self.next_number();
                let packet = NgPacket {
                    if_id: epb.if_id,
                    ts: (epb.ts_high, epb.ts_low),
                    data: &epb.data[..epb.data.len().min(epb.caplen as usize)],
                    caplen: epb.caplen,
                    origlen: epb.origlen,
                };
                self.ng_packet(number, packet, shared, on_frame);
            }
            Block::SimplePacket(spb) => {
                let number = self.next_number();
                let Some(iface) = self.interface(0, number) else {
                    return;
                };
                let mut len = spb.data.len().min(spb.origlen as usize);
                if iface.snaplen != 0 {
                    len = len.min(iface.snaplen as usize);
                }
                let packet = Packet {
                    interface: 0,
                    ts: Duration::ZERO,
                    data: &spb.data[..len],
                    shared,
                    caplen: u32::try_from(len).unwrap_or(u32::MAX),
                    origlen: spb.origlen,
                };
                self.deliver(number, iface, packet, on_frame);
            }
            Block::Unknown(u) => {
                let kind = if self.big_endian {
                    u.block_type.swap_bytes()
                } else {
                    u.block_type
                };
                if kind == OBSOLETE_PACKET {
                    self.obsolete_packet(u.data, shared, on_frame);
                } else {
                    let after = self.stats.frames;
                    self.notice(
                        None,
                        format!("block of unknown type {kind:#010x} skipped (after frame {after})"),
                    );
                }
            }
            _ => {}
        }
    }

    /// An enhanced packet block without options, whole in `rest`, read
    /// directly: the same frame pcap-parser's path gives, for a fraction of
    /// the work. Returns the block's length, or None to leave the block
    /// (another type, options, an inconsistency, not all there, an unknown
    /// interface, lengths that deserve a notice) to pcap-parser, whose path
    /// reports them.
    pub(super) fn plain_epb(
        &mut self,
        rest: &[u8],
        shared: &Bytes,
        on_frame: &mut dyn FnMut(&Frame<'_>),
    ) -> Option<usize> {
        let h: &[u8; 28] = rest.get(..28)?.try_into().ok()?;
        // The section's byte order, decided once for the seven fields.
        let fields = if self.big_endian {
            epb_fields(h, u32::from_be_bytes)
        } else {
            epb_fields(h, u32::from_le_bytes)
        };
        let [kind, len, if_id, high, low, caplen, origlen] = fields;
        let len = len as usize;
        let padded = usize::try_from(caplen.checked_add(3)? & !3).ok()?;
        if kind != EPB
            || len != 32 + padded
            || len > rest.len()
            || self.u32_at(rest, len - 4)? as usize != len
        {
            return None;
        }
        let data = rest.get(28..28 + caplen as usize)?;
        let iface = *self.interfaces.get(if_id as usize)?;
        if (iface.snaplen != 0 && caplen > iface.snaplen) || caplen > origlen {
            return None;
        }
        // What `ng_packet` and `deliver` do, without their checks (made
        // above) and calls: this runs once per frame.
        let number = self.next_number();
        self.stats.bytes += data.len() as u64;
        on_frame(&Frame {
            number,
            ts: ng_time((high, low), iface.units, iface.offset),
            linktype: iface.linktype,
            interface: if_id,
            data,
            shared: Some(shared),
            orig_len: origlen,
        });
        Some(len)
    }

    /// The pre-EPB packet block: interface u16, drops u16, ts high, ts low, caplen, len, data.
    fn obsolete_packet(
        &mut self,
        body: &[u8],
        shared: &Bytes,
        on_frame: &mut dyn FnMut(&Frame<'_>),
    ) {
        let number = self.next_number();
        let be = self.big_endian;
        let u16_at = |i: usize| {
            body.get(i..i + 2).map(|b| {
                if be {
                    u16::from_be_bytes([b[0], b[1]])
                } else {
                    u16::from_le_bytes([b[0], b[1]])
                }
            })
        };
        let u32_at = |i: usize| self.u32_at(body, i);
        let (Some(if_id), Some(high), Some(low), Some(caplen), Some(origlen)) =
            (u16_at(0), u32_at(4), u32_at(8), u32_at(12), u32_at(16))
        else {
            self.notice(Some(number), "packet block too short; skipped".into());
            return;
        };
        let rest = body.get(20..).unwrap_or_default();
        let packet = NgPacket {
            if_id: u32::from(if_id),
            ts: (high, low),
            data: &rest[..rest.len().min(caplen as usize)],
            caplen,
            origlen,
        };
        self.ng_packet(number, packet, shared, on_frame);
    }

    /// A pcapng packet (EPB or its obsolete predecessor): timed by its
    /// interface's resolution and delivered, or skipped with a notice when
    /// the interface is unknown.
    fn ng_packet(
        &mut self,
        number: u64,
        p: NgPacket<'_>,
        shared: &Bytes,
        on_frame: &mut dyn FnMut(&Frame<'_>),
    ) {
        let Some(iface) = self.interface(p.if_id, number) else {
            return;
        };
        let packet = Packet {
            interface: p.if_id,
            ts: ng_time(p.ts, iface.units, iface.offset),
            data: p.data,
            shared,
            caplen: p.caplen,
            origlen: p.origlen,
        };
        self.deliver(number, iface, packet, on_frame);
    }

    /// A packet's frame, after the notices its lengths deserve.
    fn deliver(
        &mut self,
        number: u64,
        iface: Interface,
        p: Packet<'_>,
        on_frame: &mut dyn FnMut(&Frame<'_>),
    ) {
        let (caplen, orig_len) = (p.caplen, p.origlen);
        if iface.snaplen != 0 && caplen > iface.snaplen {
            let snap = iface.snaplen;
            self.notice(
                Some(number),
                format!("captured length {caplen} exceeds the snaplen {snap}"),
            );
        }
        if caplen > orig_len {
            self.notice(
                Some(number),
                format!("captured length {caplen} exceeds the original length {orig_len}"),
            );
        }
        self.stats.bytes += p.data.len() as u64;
        on_frame(&Frame {
            number,
            ts: p.ts,
            linktype: iface.linktype,
            interface: p.interface,
            data: p.data,
            shared: Some(p.shared),
            orig_len,
        });
    }

    fn interface(&mut self, id: u32, number: u64) -> Option<Interface> {
        let found = self.interfaces.get(id as usize).copied();
        if found.is_none() {
            let known = self.interfaces.len();
            self.notice(
                Some(number),
                format!(
                    "packet refers to interface {id}, but its section describes {known}; skipped"
                ),
            );
        }
        found
    }

    fn next_number(&mut self) -> u64 {
        self.stats.frames += 1;
        self.stats.frames
    }

    fn notice(&mut self, frame: Option<u64>, message: String) {
        if self.stats.notices.len() < MAX_NOTICES {
            self.stats.notices.push(Notice { frame, message });
        } else {
            self.suppressed += 1;
        }
    }

    /// The input ended inside a block.
    pub(super) fn truncated(&mut self, pcapng: bool, rest: &[u8], left: usize) {
        let packet = !pcapng || matches!(self.block_type(rest), Some(EPB | SPB | OBSOLETE_PACKET));
        if packet {
            let n = self.next_number();
            self.notice(
                Some(n),
                format!("the file is truncated: this frame is incomplete ({left} bytes); ignored"),
            );
        } else {
            let after = self.stats.frames;
            self.notice(None, format!("the file is truncated inside a block after frame {after} ({left} bytes); ignored"));
        }
    }

    /// A block the parser rejects: skip it when its length is plausible.
    /// Returns the bytes to skip, or None to stop.
    pub(super) fn damaged(&mut self, pcapng: bool, rest: &[u8]) -> Option<usize> {
        let kind = self.block_type(rest);
        let len = self.u32_at(rest, 4).map(|l| l as usize);
        let packet = !pcapng || matches!(kind, Some(EPB | SPB | OBSOLETE_PACKET));
        let frame = packet.then(|| self.next_number());
        let after = self.stats.frames;
        match len {
            Some(len) if pcapng && len >= 12 && len % 4 == 0 && len <= rest.len() => {
                let kind = kind.unwrap_or_default();
                self.notice(
                    frame,
                    format!(
                        "damaged block (type {kind:#x}, {len} bytes) skipped, after frame {after}"
                    ),
                );
                Some(len)
            }
            _ => {
                let what = if pcapng {
                    "block"
                } else {
                    "record (absurd lengths?)"
                };
                self.notice(
                    frame,
                    format!("damaged {what} after frame {after}; reading stopped"),
                );
                None
            }
        }
    }

    /// The next pcapng block is entirely in `rest`, by its declared length.
    pub(super) fn block_present(&self, pcapng: bool, rest: &[u8]) -> bool {
        pcapng
            && self
                .needed(true, rest)
                .is_some_and(|len| len >= 12 && len <= rest.len())
    }

    /// Bytes the next block needs, from its header (None if unknown).
    pub(super) fn needed(&self, pcapng: bool, rest: &[u8]) -> Option<usize> {
        if pcapng {
            self.u32_at(rest, 4).map(|l| l as usize)
        } else {
            let caplen = self.u32_at(rest, 8)?;
            let snaplen = self.interfaces.first().map_or(0, |i| i.snaplen);
            // Like Wireshark, a record larger than both the snaplen and 256 KiB is damage.
            if caplen > snaplen.max(LEGACY_MAX_RECORD) {
                return Some(usize::MAX);
            }
            Some(16 + caplen as usize)
        }
    }

    /// A block too large to read (or an absurd length): reading stops.
    pub(super) fn too_large(&mut self, pcapng: bool, rest: &[u8]) {
        let after = self.stats.frames;
        let mib = MAX_BUFFER >> 20;
        if pcapng {
            let len = self.u32_at(rest, 4).unwrap_or_default();
            self.notice(None, format!("a block after frame {after} claims {len} bytes (limit {mib} MiB); reading stopped"));
        } else {
            let n = self.next_number();
            let caplen = self.u32_at(rest, 8).unwrap_or_default();
            self.notice(
                Some(n),
                format!("absurd captured length {caplen}; reading stopped"),
            );
        }
    }

    fn block_type(&self, rest: &[u8]) -> Option<u32> {
        self.u32_at(rest, 0)
    }

    fn u32_at(&self, rest: &[u8], at: usize) -> Option<u32> {
        let b = rest.get(at..at + 4)?;
        let b = [b[0], b[1], b[2], b[3]];
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    pub(super) fn finish(mut self) -> ReadStats {
        if self.suppressed > 0 {
            let n = self.suppressed;
            self.stats.notices.push(Notice {
                frame: None,
                message: format!("{n} more notices not shown"),
            });
        }
        self.stats
    }
}

/// An EPB header's fields: type, length, interface, timestamp high and
/// low, captured and original length.
#[inline]
fn epb_fields(h: &[u8; 28], read: fn([u8; 4]) -> u32) -> [u32; 7] {
    let at = |i: usize| read([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    [at(0), at(4), at(8), at(12), at(16), at(20), at(24)]
}

fn linktype(raw: i32) -> u16 {
    u16::try_from(raw).unwrap_or(u16::MAX)
}
