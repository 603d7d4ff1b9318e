//! The reader's window on the capture: the bytes read but not yet consumed,
//! in one shared [`Bytes`] buffer, parsed block by block with pcap-parser's
//! pcap and pcapng parsers.
//!
//! It behaves as pcap-parser's own readers do (same errors at the same
//! points: `Incomplete`, `BufferTooSmall`, `UnexpectedEof`, `Eof`), but
//! owns its buffer as [`Bytes`], so a frame can hand its bytes on without
//! copying them: a packet framed inside one frame is a slice of the window
//! (a reference count, not a copy). The buffer is reused in place when
//! nothing refers to it any more, which is the rule: whatever outlives its
//! packet (a session's in-flight messages, subscriptions) keeps a copy.

use std::io::Read;

use bytes::{Bytes, BytesMut};
use pcap_parser::nom::{self, Needed};
use pcap_parser::pcap::{
    parse_pcap_frame, parse_pcap_frame_be, parse_pcap_frame_modified, parse_pcap_header,
};
use pcap_parser::pcapng::{parse_block_be, parse_block_le, parse_sectionheaderblock, Block};
use pcap_parser::{LegacyPcapBlock, PcapBlockOwned, PcapError, PcapHeader};

/// A legacy pcap record parser (byte order and format chosen by the header).
type FrameParser =
    for<'a> fn(&'a [u8]) -> nom::IResult<&'a [u8], LegacyPcapBlock<'a>, PcapError<&'a [u8]>>;

/// What the window holds.
enum Format {
    /// pcapng, in the byte order of the current section.
    Ng { big_endian: bool },
    /// pcap: its header (handed out first) and the record parser.
    Legacy {
        header: PcapHeader,
        parse: FrameParser,
    },
}

/// The unconsumed bytes of a capture file and the parser for them.
pub(super) struct Window<R> {
    input: R,
    /// The buffer, all of it initialized: bytes `pos..end` are unread, and
    /// `pos <= end <= chunk.len()` always (the slicing below relies on it).
    chunk: Bytes,
    pos: usize,
    end: usize,
    /// Bytes consumed since the start of the file.
    consumed: usize,
    exhausted: bool,
    format: Format,
}

impl<R: Read> Window<R> {
    /// A window of `capacity` bytes on `input`, filled once; the start must
    /// be a pcapng section header (`pcapng`) or a pcap file header.
    pub(super) fn new(
        capacity: usize,
        mut input: R,
        pcapng: bool,
    ) -> Result<Window<R>, PcapError<&'static [u8]>> {
        let mut buf = BytesMut::zeroed(capacity);
        let end = input.read(&mut buf).map_err(|_| PcapError::ReadError)?;
        let data = buf.get(..end).unwrap_or_default();
        let format = if pcapng {
            match parse_sectionheaderblock(data) {
                Ok(_) => Format::Ng { big_endian: false },
                Err(e) => return Err(owned(e)),
            }
        } else {
            match parse_pcap_header(data) {
                Ok((_, header)) => {
                    let parse: FrameParser = if header.is_modified_format() {
                        parse_pcap_frame_modified
                    } else if header.is_bigendian() {
                        parse_pcap_frame_be
                    } else {
                        parse_pcap_frame
                    };
                    Format::Legacy { header, parse }
                }
                Err(e) => return Err(owned(e)),
            }
        };
        Ok(Window {
            input,
            chunk: buf.freeze(),
            pos: 0,
            end,
            consumed: 0,
            exhausted: false,
            format,
        })
    }

    /// The unread bytes.
    pub(super) fn data(&self) -> &[u8] {
        self.chunk.get(self.pos..self.end).unwrap_or_default()
    }

    /// The shared buffer [`Window::data`] lies in.
    pub(super) fn chunk(&self) -> &Bytes {
        &self.chunk
    }

    /// Whether the input has ended.
    pub(super) fn exhausted(&self) -> bool {
        self.exhausted
    }

    /// The next block and its length (the pcap file header first, for pcap).
    pub(super) fn next(&mut self) -> Result<(usize, PcapBlockOwned<'_>), PcapError<&[u8]>> {
        if let Format::Legacy { header, .. } = &self.format {
            if self.consumed == 0 {
                return Ok((header.size(), PcapBlockOwned::from(header.clone())));
            }
        }
        if self.end == self.pos && self.pos == 0 && self.exhausted {
            return Err(PcapError::Eof);
        }
        let capacity = self.chunk.len();
        let (available, exhausted) = (self.end - self.pos, self.exhausted);
        let data = self.chunk.get(self.pos..self.end).unwrap_or_default();
        let parsed = match &mut self.format {
            Format::Ng { big_endian } => {
                let parse = if *big_endian {
                    parse_block_be
                } else {
                    parse_block_le
                };
                parse(data).map(|(rest, block)| {
                    if let Block::SectionHeader(shb) = &block {
                        *big_endian = shb.big_endian();
                    }
                    (rest, PcapBlockOwned::from(block))
                })
            }
            Format::Legacy { parse, .. } => {
                parse(data).map(|(rest, block)| (rest, PcapBlockOwned::from(block)))
            }
        };
        match parsed {
            Ok((rest, block)) => Ok((data.len() - rest.len(), block)),
            Err(nom::Err::Error(e)) | Err(nom::Err::Failure(e)) => Err(e),
            Err(nom::Err::Incomplete(_)) if exhausted => Err(PcapError::UnexpectedEof),
            Err(nom::Err::Incomplete(Needed::Size(n))) => {
                if available + usize::from(n) >= capacity {
                    Err(PcapError::BufferTooSmall)
                } else {
                    Err(PcapError::Incomplete(n.into()))
                }
            }
            Err(nom::Err::Incomplete(Needed::Unknown)) => Err(PcapError::Incomplete(0)),
        }
    }

    /// Mark `n` bytes read (they stay in place until the next refill).
    pub(super) fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.pos);
        self.pos += n;
        self.consumed += n;
    }

    /// Move the unread bytes to the start and read more after them. The
    /// buffer is reused in place when nothing else refers to it, else
    /// copied into a fresh one (whoever still holds the old one keeps it).
    pub(super) fn refill(&mut self) -> Result<(), PcapError<&[u8]>> {
        let capacity = self.chunk.len();
        let (pos, end) = (self.pos, self.end);
        let mut buf = match std::mem::take(&mut self.chunk).try_into_mut() {
            Ok(mut own) => {
                own.copy_within(pos..end, 0);
                own
            }
            Err(shared) => {
                #[cfg(test)]
                REPLACED.with(|n| n.set(n.get() + 1));
                let mut fresh = BytesMut::zeroed(capacity);
                fresh[..end - pos].copy_from_slice(&shared[pos..end]);
                fresh
            }
        };
        self.pos = 0;
        self.end = end - pos;
        // A full buffer reads nothing, which is not the end of the input.
        let read = (self.end < capacity).then(|| self.input.read(&mut buf[self.end..]));
        self.chunk = buf.freeze();
        match read {
            None => Ok(()),
            Some(Ok(n)) => {
                self.exhausted = n == 0;
                self.end = (self.end + n).min(capacity);
                Ok(())
            }
            Some(Err(_)) => Err(PcapError::ReadError),
        }
    }

    /// Enlarge the buffer to `size` bytes (false if it is that large already).
    pub(super) fn grow(&mut self, size: usize) -> bool {
        if self.chunk.len() >= size {
            return false;
        }
        let mut bigger = BytesMut::zeroed(size);
        bigger[..self.end].copy_from_slice(&self.chunk[..self.end]);
        self.chunk = bigger.freeze();
        true
    }
}

#[cfg(test)]
thread_local! {
    /// Buffers this thread's windows could not reuse (something still held
    /// them): what the tests of buffer sharing count.
    pub(crate) static REPLACED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// A parse error of the file header, owned.
fn owned(e: nom::Err<PcapError<&[u8]>>) -> PcapError<&'static [u8]> {
    match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => e.to_owned_vec(),
        nom::Err::Incomplete(Needed::Size(n)) => PcapError::Incomplete(n.into()),
        nom::Err::Incomplete(Needed::Unknown) => PcapError::Incomplete(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::read::read;
    use crate::capture::synth::{write_pcapng, Link, TcpConversation};

    /// A capture of about 3 MiB: one flow of 1000-byte segments.
    fn big_capture() -> Vec<u8> {
        let mut c = TcpConversation::new(
            "10.0.0.1:40000".parse().expect("address"),
            "10.0.0.2:1883".parse().expect("address"),
        );
        let mut frames = c.handshake();
        for _ in 0..3000 {
            frames.extend(c.send(true, &[0x30; 1000]));
        }
        write_pcapng(Link::Ethernet, &frames).expect("capture")
    }

    fn replaced() -> u64 {
        REPLACED.with(|n| n.get())
    }

    /// Frames dropped when delivered leave the buffer free: it is reused
    /// at every refill.
    #[test]
    fn an_unshared_buffer_is_reused() {
        let file = big_capture();
        let before = replaced();
        let stats = read(&file[..], &mut |f| assert!(f.shared.is_some())).expect("read");
        assert_eq!(stats.frames, 3003);
        assert_eq!(replaced(), before);
    }

    /// A frame's buffer kept past its delivery is left to its holder: the
    /// window reads on in a new buffer, and the kept bytes stay intact.
    #[test]
    fn a_kept_buffer_is_left_to_its_holder() {
        let file = big_capture();
        let before = replaced();
        let mut kept: Option<(Bytes, Vec<u8>)> = None;
        read(&file[..], &mut |f| {
            if f.number == 10 {
                let shared = f.shared.expect("shared").clone();
                kept = Some((shared.slice_ref(f.data), f.data.to_vec()));
            }
        })
        .expect("read");
        assert!(replaced() > before);
        let (slice, copy) = kept.expect("frame 10");
        assert_eq!(slice, copy);
    }
}
