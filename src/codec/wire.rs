//! Wire primitives: a bounds-checked [`Reader`] over one packet that records
//! violations instead of failing, the matching write helpers (u16, variable
//! byte integers, strings, binary data), and the two entry points that handle
//! the fixed header and hand the body to [`super::body`].
//!
//! Offsets in violations are byte offsets inside the whole packet (0 = first
//! byte of the fixed header). A truncated field is reported at the offset
//! where the field starts; an invalid UTF-8 sequence or U+0000 at the offset
//! of the offending byte.

use bytes::Bytes;

use super::body;
use super::decode::{Decoded, Violation, ViolationKind};
use super::encode::Overrides;
use super::packet::{Packet, PacketType, Unknown, Version};
use super::text::Text;

/// Bounds-checked reader over `raw[pos..end]` of one packet.
///
/// After the first truncation it is "exhausted": later reads return `None`
/// without recording more violations, so one short packet yields one
/// `Truncated` violation instead of a cascade.
pub(crate) struct Reader<'a> {
    raw: &'a Bytes,
    pos: usize,
    end: usize,
    exhausted: bool,
    pub(crate) violations: Vec<Violation>,
}

impl<'a> Reader<'a> {
    /// A reader over `raw[pos..end]` (`end` is clamped to the buffer).
    pub(crate) fn new(raw: &'a Bytes, pos: usize, end: usize) -> Reader<'a> {
        let end = end.min(raw.len());
        Reader {
            raw,
            pos: pos.min(end),
            end,
            exhausted: false,
            violations: Vec::new(),
        }
    }

    /// A fresh reader over `raw[start..end]` of the same packet.
    pub(crate) fn sub(&self, start: usize, end: usize) -> Reader<'a> {
        Reader::new(self.raw, start, end)
    }

    /// Current offset inside the packet.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left before the end of the body.
    pub(crate) fn remaining(&self) -> usize {
        self.end - self.pos
    }

    /// Record a violation at `offset`.
    pub(crate) fn violation(&mut self, offset: usize, kind: ViolationKind) {
        self.violations.push(Violation { offset, kind });
    }

    fn truncated(&mut self, offset: usize, field: &'static str) {
        if !self.exhausted {
            self.exhausted = true;
            self.violation(offset, ViolationKind::Truncated { field });
        }
        self.pos = self.end;
    }

    /// The next `n` bytes, or None (and a `Truncated` violation) if fewer remain.
    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Option<Bytes> {
        if self.exhausted {
            return None;
        }
        if n > self.remaining() {
            let at = self.pos;
            self.truncated(at, field);
            return None;
        }
        let out = self.raw.slice(self.pos..self.pos + n);
        self.pos += n;
        Some(out)
    }

    /// Everything up to the end of the body.
    pub(crate) fn rest(&mut self) -> Bytes {
        let out = self.raw.slice(self.pos..self.end);
        self.pos = self.end;
        out
    }

    /// The next `N` bytes as an array (like [`Reader::take`], without
    /// slicing the shared buffer).
    fn array<const N: usize>(&mut self, field: &'static str) -> Option<[u8; N]> {
        if self.exhausted {
            return None;
        }
        let out = self
            .raw
            .get(self.pos..self.end)
            .and_then(|rest| rest.first_chunk::<N>());
        match out {
            Some(a) => {
                self.pos += N;
                Some(*a)
            }
            None => {
                let at = self.pos;
                self.truncated(at, field);
                None
            }
        }
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Option<u8> {
        self.array::<1>(field).map(|[b]| b)
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Option<u16> {
        self.array(field).map(u16::from_be_bytes)
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Option<u32> {
        self.array(field).map(u32::from_be_bytes)
    }

    /// A variable byte integer; more than 4 bytes is `InvalidVarInt` (None).
    pub(crate) fn varint(&mut self, field: &'static str) -> Option<u32> {
        let start = self.pos;
        let mut value: u32 = 0;
        for i in 0..4 {
            let b = self.u8(field)?;
            value |= u32::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        self.violation(start, ViolationKind::InvalidVarInt);
        None
    }

    /// Two-byte length then that many bytes.
    pub(crate) fn binary(&mut self, field: &'static str) -> Option<Bytes> {
        let start = self.pos;
        let len = self.u16(field)?;
        let data = self.take(usize::from(len), field);
        if data.is_none() {
            // Report the field at its length prefix, not at its data.
            if let Some(v) = self.violations.last_mut() {
                v.offset = start;
            }
        }
        data
    }

    /// A UTF-8 string field, checked for ill-formed UTF-8 and U+0000.
    pub(crate) fn text(&mut self, field: &'static str) -> Option<Text> {
        let data_at = self.pos + 2;
        let data = self.binary(field)?;
        check_text(&data, data_at, field, &mut self.violations);
        Some(Text(data))
    }

    /// Report trailing bytes, if any are left.
    pub(crate) fn finish(&mut self) {
        if !self.exhausted && self.remaining() > 0 {
            let count = self.remaining();
            let at = self.pos;
            self.violation(at, ViolationKind::TrailingBytes { count });
            self.pos = self.end;
        }
    }
}

/// Check a string's bytes (found at packet offset `at`): the first ill-formed
/// sequence (std's UTF-8 check rejects overlongs and encoded surrogates) and
/// the first U+0000 are reported.
pub(crate) fn check_text(data: &[u8], at: usize, field: &'static str, out: &mut Vec<Violation>) {
    // ASCII without U+0000 (nearly every topic and client id) is well
    // formed: one pass instead of two.
    if plain_ascii(data) {
        return;
    }
    if let Err(e) = std::str::from_utf8(data) {
        out.push(Violation {
            offset: at + e.valid_up_to(),
            kind: ViolationKind::InvalidUtf8 { field },
        });
    }
    if let Some(i) = data.iter().position(|&b| b == 0) {
        out.push(Violation {
            offset: at + i,
            kind: ViolationKind::NullCharacter { field },
        });
    }
}

/// Whether every byte is in 1..=127, eight bytes at a time: a byte is out of
/// range exactly when it or it minus one has its high bit set (no byte of a
/// word in range borrows from the next, and a word with a zero byte is out
/// of range whatever the borrow does above it).
fn plain_ascii(data: &[u8]) -> bool {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let bad = |w: u64| (w.wrapping_sub(ONES) | w) & HIGHS != 0;
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let mut a = [0; 8];
        a.copy_from_slice(w);
        if bad(u64::from_le_bytes(a)) {
            return false;
        }
    }
    // The tail, padded with 0x01 (in range).
    let tail = words.remainder();
    let mut a = [0x01; 8];
    a[..tail.len()].copy_from_slice(tail);
    !bad(u64::from_le_bytes(a))
}

/// Append a big-endian u16.
pub(crate) fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Append a variable byte integer (values above 268,435,455 take 5 bytes,
/// which is deliberately invalid).
pub(crate) fn put_varint(out: &mut Vec<u8>, v: u32) {
    put_varint_min(out, v, 1);
}

/// Append a variable byte integer using at least `min_bytes` bytes (padding
/// with zero-valued continuation groups, i.e. a non-minimal encoding).
pub(crate) fn put_varint_min(out: &mut Vec<u8>, v: u32, min_bytes: u8) {
    let mut digits = Vec::with_capacity(5);
    let mut x = v;
    loop {
        digits.push((x & 0x7f) as u8);
        x >>= 7;
        if x == 0 {
            break;
        }
    }
    while digits.len() < usize::from(min_bytes.min(5)) {
        digits.push(0);
    }
    let last = digits.len() - 1;
    for (i, d) in digits.iter().enumerate() {
        out.push(if i < last { d | 0x80 } else { *d });
    }
}

/// Append two-byte length-prefixed data. Data longer than 65,535 bytes is cut
/// to 65,535 (the most the prefix can describe).
pub(crate) fn put_binary(out: &mut Vec<u8>, data: &[u8]) {
    let data = &data[..data.len().min(usize::from(u16::MAX))];
    // Length fits: cut to u16::MAX just above.
    put_u16(out, data.len() as u16);
    out.extend_from_slice(data);
}

/// Append a string field verbatim (its bytes need not be valid UTF-8).
pub(crate) fn put_text(out: &mut Vec<u8>, t: &Text) {
    put_binary(out, t.as_bytes());
}

/// Decode one whole packet: fixed header here, body in [`super::body`].
pub(crate) fn decode_packet(raw: Bytes, version: Version) -> Decoded {
    let mut r = Reader::new(&raw, 0, raw.len());
    let Some(first_byte) = r.u8("fixed header") else {
        let violations = std::mem::take(&mut r.violations);
        return finish(raw, 0, 0, Packet::Reserved(Unknown::default()), violations);
    };
    let (remaining_length, header_len, length_ok) = remaining_length(&mut r);
    let declared_end = if length_ok {
        header_len.saturating_add(remaining_length as usize)
    } else {
        raw.len()
    };
    if raw.len() > declared_end {
        r.violation(
            declared_end,
            ViolationKind::TrailingBytes {
                count: raw.len() - declared_end,
            },
        );
    }
    let mut violations = std::mem::take(&mut r.violations);
    let mut body = Reader::new(&raw, header_len, declared_end);
    // Without a usable length the body's bounds are unknown: parse nothing.
    body.exhausted = r.exhausted || !length_ok;
    let packet = body::decode_body(first_byte, version, &mut body);
    let field_truncated = body
        .violations
        .iter()
        .any(|v| matches!(v.kind, ViolationKind::Truncated { .. }));
    if raw.len() < declared_end && !r.exhausted && !field_truncated {
        // The declared body does not fit but every field did (e.g. a short payload).
        violations.push(Violation {
            offset: raw.len(),
            kind: ViolationKind::Truncated { field: "body" },
        });
    }
    violations.append(&mut body.violations);
    finish(raw, first_byte, remaining_length, packet, violations)
}

fn finish(
    raw: Bytes,
    first_byte: u8,
    remaining_length: u32,
    packet: Packet,
    mut violations: Vec<Violation>,
) -> Decoded {
    violations.sort_by_key(|v| v.offset);
    Decoded {
        first_byte,
        remaining_length,
        raw,
        packet,
        violations,
    }
}

/// Read the remaining length at offset 1; returns (value, header length,
/// whether the length is usable: false when it has a fifth byte).
fn remaining_length(r: &mut Reader<'_>) -> (u32, usize, bool) {
    let mut value: u32 = 0;
    let mut n = 0usize;
    while n < 4 {
        let Some(b) = r.u8("remaining length") else {
            return (value, r.pos(), true);
        };
        value |= u32::from(b & 0x7f) << (7 * n);
        n += 1;
        if b & 0x80 == 0 {
            if n > minimal_len(value) {
                r.violation(1, ViolationKind::NonMinimalLength);
            }
            return (value, 1 + n, true);
        }
    }
    // A fifth length byte: unframeable; the rest is left undecoded.
    r.violation(1, ViolationKind::InvalidVarInt);
    (value, 1 + n, false)
}

/// Bytes a minimal variable byte integer encoding of `v` takes.
fn minimal_len(v: u32) -> usize {
    match v {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// Encode a packet's body, then the fixed header, applying `o`.
///
/// Order: the body is encoded from the fields, `truncate` drops bytes from its
/// end, `append` adds bytes, then the remaining length (true length unless
/// overridden, padded to `length_bytes`) and the first byte (type and flags
/// nibbles unless overridden) are written in front.
pub(crate) fn encode_packet(p: &Packet, v: Version, o: &Overrides) -> Vec<u8> {
    let (flags, mut body) = body::encode_body(p, v);
    if let Some(n) = o.truncate {
        body.truncate(body.len().saturating_sub(n));
    }
    body.extend_from_slice(&o.append);
    let type_nibble = o.type_nibble.unwrap_or(p.packet_type().nibble()) & 0x0f;
    let flags = o.flags.unwrap_or(flags) & 0x0f;
    let len = o
        .remaining_length
        .unwrap_or(u32::try_from(body.len()).unwrap_or(u32::MAX));
    let mut out = Vec::with_capacity(body.len() + 6);
    out.push(type_nibble << 4 | flags);
    put_varint_min(&mut out, len, o.length_bytes.unwrap_or(1));
    out.extend_from_slice(&body);
    out
}

/// The fixed-header flags a packet's fields call for.
pub(crate) fn header_flags(p: &Packet) -> u8 {
    match p {
        Packet::Publish(x) => u8::from(x.dup) << 3 | (x.qos & 0x03) << 1 | u8::from(x.retain),
        Packet::Reserved(u) => u.first_byte & 0x0f,
        other => other.packet_type().required_flags().unwrap_or(0),
    }
}

/// Whether this type nibble denotes a reserved type for `version`.
pub(crate) fn is_reserved_type(t: PacketType, version: Version) -> bool {
    t == PacketType::Reserved || (t == PacketType::Auth && !version.is_v5())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn varint_padding_and_minimal_lengths() {
        let enc = |v, n| {
            let mut out = Vec::new();
            put_varint_min(&mut out, v, n);
            out
        };
        assert_eq!(enc(0, 1), vec![0x00]);
        assert_eq!(enc(127, 1), vec![0x7f]);
        assert_eq!(enc(128, 1), vec![0x80, 0x01]);
        assert_eq!(enc(268_435_455, 1), vec![0xff, 0xff, 0xff, 0x7f]);
        assert_eq!(enc(u32::MAX, 1).len(), 5);
        assert_eq!(enc(5, 3), vec![0x85, 0x80, 0x00]);
        assert_eq!(enc(5, 9).len(), 5);
        for v in [
            0,
            127,
            128,
            16_383,
            16_384,
            2_097_151,
            2_097_152,
            268_435_455,
        ] {
            assert_eq!(enc(v, 1).len(), minimal_len(v), "{v}");
        }
    }

    #[test]
    fn reader_reports_one_truncation_and_stops() {
        let raw = Bytes::from_static(&[0x00, 0x05, b'a']);
        let mut r = Reader::new(&raw, 0, raw.len());
        assert_eq!(r.text("topic name"), None);
        assert_eq!(r.u16("packet identifier"), None);
        assert_eq!(
            r.violations,
            vec![Violation {
                offset: 0,
                kind: ViolationKind::Truncated {
                    field: "topic name"
                }
            }]
        );
        r.finish();
        assert_eq!(r.violations.len(), 1);
    }

    #[test]
    fn plain_ascii_is_bytes_1_to_127() {
        for len in 0..20 {
            for at in 0..len {
                for b in [0u8, 1, 0x7f, 0x80, 0xc3, 0xff] {
                    let mut v = vec![b'a'; len];
                    v[at] = b;
                    let want = v.iter().all(|&b| (1..=127).contains(&b));
                    assert_eq!(plain_ascii(&v), want, "{v:?}");
                }
            }
            assert!(plain_ascii(&vec![b'z'; len]));
        }
    }

    #[test]
    fn reader_varint_limits() {
        let raw = Bytes::from_static(&[0xff, 0xff, 0xff, 0x7f, 0x80, 0x80, 0x80, 0x80, 0x01]);
        let mut r = Reader::new(&raw, 0, raw.len());
        assert_eq!(r.varint("v"), Some(268_435_455));
        assert_eq!(r.varint("v"), None);
        assert_eq!(
            r.violations,
            vec![Violation {
                offset: 4,
                kind: ViolationKind::InvalidVarInt
            }]
        );
    }

    #[test]
    fn reader_end_is_clamped_to_the_buffer() {
        let raw = Bytes::from_static(&[1, 2]);
        let mut r = Reader::new(&raw, 5, 100);
        assert_eq!(r.remaining(), 0);
        assert_eq!(r.u8("x"), None);
        assert_eq!(r.rest().len(), 0);
    }
}
