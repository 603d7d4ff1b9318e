//! A small pcapng writer: section header, interface descriptions, enhanced
//! packet blocks with optional comments (shown by Wireshark as frame.comment).
//! Also a classic pcap writer ([`PcapWriter`]) in either byte order, mainly
//! to produce test inputs.
//!
//! Blocks are written in host-independent little-endian order (pcapng readers
//! detect the byte order from the section header's byte-order magic).

use std::io::{self, Write};
use std::time::Duration;

/// One capture interface of a pcapng section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interface {
    /// pcap LINKTYPE_* value (1 Ethernet, 101 raw IP, 113 SLL, 276 SLL2, 0 BSD loopback).
    pub linktype: u16,
    /// Maximum bytes kept per packet (0 = unlimited).
    pub snaplen: u32,
    /// Timestamps in nanoseconds (`if_tsresol` = 9) instead of microseconds.
    pub ts_resolution_nanos: bool,
}

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 0x0000_0001;
const EPB: u32 = 0x0000_0006;
const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const OPT_ENDOFOPT: u16 = 0;
const OPT_COMMENT: u16 = 1;
const IF_TSRESOL: u16 = 9;

/// Writes a pcapng stream: one section, the given interfaces, then packets.
#[derive(Debug)]
pub struct PcapngWriter<W: Write> {
    out: W,
    interfaces: Vec<Interface>,
    buf: Vec<u8>,
}

impl<W: Write> PcapngWriter<W> {
    /// Write the Section Header Block and one Interface Description Block per
    /// interface.
    pub fn new(mut out: W, interfaces: &[Interface]) -> io::Result<Self> {
        let mut body = Vec::with_capacity(16);
        body.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes()); // major
        body.extend_from_slice(&0u16.to_le_bytes()); // minor
        body.extend_from_slice(&(-1i64).to_le_bytes()); // section length unknown
        let mut buf = Vec::with_capacity(256);
        block(&mut buf, SHB, &body);
        for itf in interfaces {
            body.clear();
            body.extend_from_slice(&itf.linktype.to_le_bytes());
            body.extend_from_slice(&0u16.to_le_bytes()); // reserved
            body.extend_from_slice(&itf.snaplen.to_le_bytes());
            if itf.ts_resolution_nanos {
                option(&mut body, IF_TSRESOL, &[9]);
                option(&mut body, OPT_ENDOFOPT, &[]);
            }
            block(&mut buf, IDB, &body);
        }
        out.write_all(&buf)?;
        Ok(PcapngWriter {
            out,
            interfaces: interfaces.to_vec(),
            buf,
        })
    }

    /// Write one Enhanced Packet Block. `ts` is the time since the Unix epoch
    /// in the interface's resolution; each comment becomes an `opt_comment`.
    /// An unknown interface index is an `InvalidInput` error.
    pub fn packet(
        &mut self,
        interface: u32,
        ts: Duration,
        data: &[u8],
        orig_len: u32,
        comments: &[&str],
    ) -> io::Result<()> {
        let itf = usize::try_from(interface)
            .ok()
            .and_then(|i| self.interfaces.get(i))
            .ok_or_else(|| invalid("pcapng: unknown interface index"))?;
        let units: u64 = if itf.ts_resolution_nanos {
            u64::try_from(ts.as_nanos()).unwrap_or(u64::MAX)
        } else {
            u64::try_from(ts.as_micros()).unwrap_or(u64::MAX)
        };
        let caplen = u32::try_from(data.len()).map_err(|_| invalid("pcapng: packet too long"))?;
        let mut body = Vec::with_capacity(data.len() + 32);
        body.extend_from_slice(&interface.to_le_bytes());
        body.extend_from_slice(&((units >> 32) as u32).to_le_bytes());
        body.extend_from_slice(&(units as u32).to_le_bytes());
        body.extend_from_slice(&caplen.to_le_bytes());
        body.extend_from_slice(&orig_len.to_le_bytes());
        body.extend_from_slice(data);
        pad4(&mut body);
        if !comments.is_empty() {
            for c in comments {
                if c.len() > usize::from(u16::MAX) {
                    return Err(invalid("pcapng: comment longer than 65535 bytes"));
                }
                option(&mut body, OPT_COMMENT, c.as_bytes());
            }
            option(&mut body, OPT_ENDOFOPT, &[]);
        }
        self.buf.clear();
        block(&mut self.buf, EPB, &body);
        self.out.write_all(&self.buf)
    }

    /// Flush and return the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes a classic pcap stream (one link type) in either byte order, with
/// microsecond or nanosecond timestamps.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    nanos: bool,
    big_endian: bool,
}

impl<W: Write> PcapWriter<W> {
    /// Write the global header.
    pub fn new(
        mut out: W,
        linktype: u16,
        snaplen: u32,
        nanos: bool,
        big_endian: bool,
    ) -> io::Result<Self> {
        let magic: u32 = if nanos { 0xA1B2_3C4D } else { 0xA1B2_C3D4 };
        let mut hdr = Vec::with_capacity(24);
        hdr.extend_from_slice(&u32_in(magic, big_endian));
        hdr.extend_from_slice(&u16_in(2, big_endian));
        hdr.extend_from_slice(&u16_in(4, big_endian));
        hdr.extend_from_slice(&u32_in(0, big_endian)); // thiszone
        hdr.extend_from_slice(&u32_in(0, big_endian)); // sigfigs
        hdr.extend_from_slice(&u32_in(snaplen, big_endian));
        hdr.extend_from_slice(&u32_in(u32::from(linktype), big_endian));
        out.write_all(&hdr)?;
        Ok(PcapWriter {
            out,
            nanos,
            big_endian,
        })
    }

    /// Write one record; `ts` is the time since the Unix epoch.
    pub fn packet(&mut self, ts: Duration, data: &[u8], orig_len: u32) -> io::Result<()> {
        let caplen = u32::try_from(data.len()).map_err(|_| invalid("pcap: packet too long"))?;
        let secs = u32::try_from(ts.as_secs()).map_err(|_| invalid("pcap: time after 2106"))?;
        let frac = if self.nanos {
            ts.subsec_nanos()
        } else {
            ts.subsec_micros()
        };
        let mut hdr = [0u8; 16];
        hdr[0..4].copy_from_slice(&self.u32(secs));
        hdr[4..8].copy_from_slice(&self.u32(frac));
        hdr[8..12].copy_from_slice(&self.u32(caplen));
        hdr[12..16].copy_from_slice(&self.u32(orig_len));
        self.out.write_all(&hdr)?;
        self.out.write_all(data)
    }

    /// Flush and return the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }

    fn u32(&self, v: u32) -> [u8; 4] {
        u32_in(v, self.big_endian)
    }
}

fn u32_in(v: u32, big_endian: bool) -> [u8; 4] {
    if big_endian {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

fn u16_in(v: u16, big_endian: bool) -> [u8; 2] {
    if big_endian {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

fn invalid(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// Append a block: type, total length, body (already padded), total length.
fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
    let total = (body.len() + 12) as u32;
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(&total.to_le_bytes());
}

/// Append an option (code, length, value padded to 32 bits). Callers keep
/// `value` within u16 lengths.
fn option(out: &mut Vec<u8>, code: u16, value: &[u8]) {
    out.extend_from_slice(&code.to_le_bytes());
    out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    out.extend_from_slice(value);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    while out.len() % 4 != 0 {
        out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epb_lengths_and_padding() {
        let itf = Interface {
            linktype: 101,
            snaplen: 65535,
            ts_resolution_nanos: true,
        };
        let mut w = PcapngWriter::new(Vec::new(), &[itf]).unwrap();
        w.packet(0, Duration::new(1, 5), &[1, 2, 3], 3, &["hi"])
            .unwrap();
        let out = w.finish().unwrap();
        // SHB 28 + IDB (20 + 8 tsresol + 4 endofopt) 32
        let epb = &out[60..];
        assert_eq!(&epb[0..4], &6u32.to_le_bytes());
        let total = u32::from_le_bytes(epb[4..8].try_into().unwrap()) as usize;
        assert_eq!(total, epb.len());
        assert_eq!(total % 4, 0);
        assert_eq!(&epb[total - 4..], &epb[4..8]);
        // 12 + 20 + 4 (data padded) + 8 (comment) + 4 (end)
        assert_eq!(total, 48);
        assert!(w_bad_interface());
    }

    fn w_bad_interface() -> bool {
        let mut w = PcapngWriter::new(Vec::new(), &[]).unwrap();
        w.packet(0, Duration::ZERO, &[], 0, &[]).is_err()
    }
}
