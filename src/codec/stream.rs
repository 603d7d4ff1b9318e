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
    /// Bytes that came in a WebSocket text frame: not MQTT traffic, which
    /// travels in binary frames only (MQTT-6.0.0-1). Never framed.
    #[error("sent in a WebSocket text frame, not a binary one")]
    TextFrame,
}

/// The fixed header's remaining length, read from a buffer that starts at a
/// packet's first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// The remaining length and the size of the fixed header.
    Known { value: u32, header_len: usize },
    /// The buffer ends inside the fixed header.
    NeedMore,
    /// The length has a fifth byte: the stream cannot be framed.
    TooLong,
}

/// Read the remaining length of the packet starting at `buf[0]`.
pub fn peek_length(buf: &[u8]) -> Length {
    let mut value: u32 = 0;
    for i in 1..=4 {
        let Some(&b) = buf.get(i) else {
            return Length::NeedMore;
        };
        value |= u32::from(b & 0x7f) << (7 * (i - 1));
        if b & 0x80 == 0 {
            return Length::Known {
                value,
                header_len: i + 1,
            };
        }
    }
    Length::TooLong
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
        if self.buf.is_empty() && !data.is_empty() {
            // Start again at the front of the buffer (still in cache) once
            // no packet framed from it is alive: asking for more than is
            // left makes `try_reclaim` look, and it never allocates.
            let _ = self.buf.try_reclaim(self.buf.capacity() + 1);
        }
        self.buf.extend_from_slice(data);
    }

    /// With nothing buffered, the length of the whole packet `data` starts
    /// with, taken as framed (the caller keeps the bytes); None when `data`
    /// does not start with a whole, framable packet, which `push` then takes.
    pub fn whole(&mut self, data: &[u8]) -> Option<usize> {
        if !self.buf.is_empty() || self.broken {
            return None;
        }
        let Length::Known { value, header_len } = peek_length(data) else {
            return None;
        };
        let total = header_len as u64 + u64::from(value);
        if total > u64::from(self.max_packet) || total > data.len() as u64 {
            return None;
        }
        self.offset += total;
        // total <= data.len() here, so the cast cannot truncate.
        Some(total as usize)
    }

    /// Bytes buffered but not yet framed.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// The first byte and the whole length of the packet begun by the
    /// pending bytes, once its fixed header is complete.
    pub fn partial(&self) -> Option<(u8, u64)> {
        let first = *self.buf.first()?;
        match (self.broken, peek_length(&self.buf)) {
            (false, Length::Known { value, header_len }) => {
                Some((first, header_len as u64 + u64::from(value)))
            }
            _ => None,
        }
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
            return Some(self.take_all(FrameError::AfterError));
        }
        let total = match peek_length(&self.buf) {
            Length::NeedMore => return None,
            Length::TooLong => {
                self.broken = true;
                return Some(self.take_all(FrameError::LengthTooLong));
            }
            Length::Known { value, header_len } => header_len as u64 + u64::from(value),
        };
        if total > u64::from(self.max_packet) {
            self.broken = true;
            return Some(self.take_all(FrameError::TooLarge(self.max_packet)));
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
        let error = if self.broken {
            FrameError::AfterError
        } else {
            FrameError::Truncated
        };
        Some(self.take_all(error))
    }

    /// Everything buffered, as unframeable bytes.
    fn take_all(&mut self, error: FrameError) -> Framed {
        let bytes = self.buf.split().freeze();
        let offset = self.offset;
        self.offset += bytes.len() as u64;
        Framed::Malformed {
            offset,
            bytes,
            error,
        }
    }
}
