//! Streaming framer: accepts bytes as they arrive (any split, many packets per
//! read) and yields whole packets with their stream offsets, or the bytes it
//! cannot frame.

use bytes::{Bytes, BytesMut};

/// Output of the framer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framed {
    /// A whole packet: `offset` is the stream offset of its first byte.
    Packet { offset: u64, bytes: Bytes },
    /// Bytes that cannot be framed (after this the stream is unframeable).
    Malformed {
        offset: u64,
        bytes: Bytes,
        error: FrameError,
    },
}

/// Why bytes could not be framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("remaining length uses more than 4 bytes")]
    LengthTooLong,
    #[error("packet larger than the {0}-byte limit")]
    TooLarge(u32),
    #[error("stream ended inside a packet")]
    Truncated,
    #[error("unframeable bytes after an earlier framing error")]
    AfterError,
}

/// Incremental packet framer for one direction of one connection.
#[derive(Debug)]
pub struct Framer {
    buf: BytesMut,
    /// Stream offset of `buf[0]`.
    offset: u64,
    max_packet: u32,
    broken: bool,
}

impl Default for Framer {
    fn default() -> Self {
        Framer::new(268_435_460)
    }
}

impl Framer {
    /// A framer that rejects packets larger than `max_packet` bytes.
    pub fn new(max_packet: u32) -> Framer {
        Framer {
            buf: BytesMut::new(),
            offset: 0,
            max_packet,
            broken: false,
        }
    }

    /// Add bytes received.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Bytes buffered but not yet framed.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Stream offset of the next unframed byte.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Next whole packet, a malformed remainder, or None if more bytes are needed.
    pub fn next_frame(&mut self) -> Option<Framed> {
        if self.buf.is_empty() {
            return None;
        }
        if self.broken {
            let bytes = self.buf.split().freeze();
            let offset = self.offset;
            self.offset += bytes.len() as u64;
            return Some(Framed::Malformed {
                offset,
                bytes,
                error: FrameError::AfterError,
            });
        }
        // Remaining length: up to 4 bytes after the first.
        let mut len: u64 = 0;
        let mut mult: u64 = 1;
        let mut i = 1usize;
        loop {
            if i > 4 {
                self.broken = true;
                let bytes = self.buf.split().freeze();
                let offset = self.offset;
                self.offset += bytes.len() as u64;
                return Some(Framed::Malformed {
                    offset,
                    bytes,
                    error: FrameError::LengthTooLong,
                });
            }
            let b = *self.buf.get(i)?;
            len += u64::from(b & 0x7f) * mult;
            mult *= 128;
            i += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
        let total = i as u64 + len;
        if total > u64::from(self.max_packet) {
            self.broken = true;
            let bytes = self.buf.split().freeze();
            let offset = self.offset;
            self.offset += bytes.len() as u64;
            return Some(Framed::Malformed {
                offset,
                bytes,
                error: FrameError::TooLarge(self.max_packet),
            });
        }
        if (self.buf.len() as u64) < total {
            return None;
        }
        // total <= buf.len() here, so the cast cannot truncate.
        let bytes = self.buf.split_to(total as usize).freeze();
        let offset = self.offset;
        self.offset += total;
        Some(Framed::Packet { offset, bytes })
    }

    /// At end of stream: the incomplete remainder, if any.
    pub fn finish(&mut self) -> Option<Framed> {
        if self.buf.is_empty() {
            return None;
        }
        let bytes = self.buf.split().freeze();
        let offset = self.offset;
        self.offset += bytes.len() as u64;
        Some(Framed::Malformed {
            offset,
            bytes,
            error: if self.broken {
                FrameError::AfterError
            } else {
                FrameError::Truncated
            },
        })
    }
}
