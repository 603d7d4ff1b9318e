//! Finding the next plausible MQTT packet boundary in a byte stream after a
//! gap, so framing can resume without inventing packets.

use crate::codec::{peek_length, Length, PacketType};

/// Whether a plausible packet starts at `buf[0]`: a defined type, the
/// fixed-header flags that type requires (PUBLISH: QoS 0-2), a remaining
/// length of at most 4 bytes that fits the type and `max_len`, and, for
/// PUBLISH and CONNECT, a first field that fits: a topic name (and packet
/// identifier) within the packet, a protocol name of 4 or 6 bytes.
pub fn header(buf: &[u8], max_len: usize) -> Header {
    let Some(&first) = buf.first() else {
        return Header::NeedMore;
    };
    let kind = PacketType::from_nibble(first >> 4);
    let flags = first & 0x0f;
    let flags_ok = match kind.required_flags() {
        Some(required) => flags == required,
        None => flags & 0x06 != 0x06,
    };
    if kind == PacketType::Reserved || !flags_ok {
        return Header::Implausible;
    }
    let (len, header_len) = match peek_length(buf) {
        Length::Known { value, header_len } => (value as usize, header_len),
        Length::NeedMore => return Header::NeedMore,
        Length::TooLong => return Header::Implausible,
    };
    // Packets of a fixed size must have it: acks 2 bytes or more (5.0 adds
    // a reason code and properties), PINGREQ/PINGRESP none.
    let size_ok = match kind {
        PacketType::Connack
        | PacketType::Puback
        | PacketType::Pubrec
        | PacketType::Pubrel
        | PacketType::Pubcomp
        | PacketType::Unsuback => len >= 2,
        PacketType::Pingreq | PacketType::Pingresp => len == 0,
        _ => true,
    };
    let total = header_len + len;
    if !size_ok || total > max_len {
        return Header::Implausible;
    }
    if matches!(kind, PacketType::Publish | PacketType::Connect) {
        // The first field's length: two bytes after the fixed header.
        let Some(&[hi, lo]) = buf.get(header_len..header_len + 2) else {
            return Header::NeedMore;
        };
        let field = usize::from(u16::from_be_bytes([hi, lo]));
        let fits = match kind {
            PacketType::Connect => field == 4 || field == 6,
            // Topic name, then a packet identifier above QoS 0.
            _ => 2 + field + if flags & 0x06 != 0 { 2 } else { 0 } <= len,
        };
        if !fits {
            return Header::Implausible;
        }
    }
    Header::Packet(total)
}

/// What [`header`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    Packet(usize),
    NeedMore,
    Implausible,
}

/// Offset of the first position in `buf` where a plausible packet starts and
/// is followed by another plausible header or the end of the buffer
/// (`Ok(offset)`), or the number of bytes that can be dropped because no
/// boundary can start in them (`Err(drop)`).
pub fn find_boundary(buf: &[u8], max_len: usize) -> Result<usize, usize> {
    for start in 0..buf.len() {
        match header(&buf[start..], max_len) {
            Header::Packet(total) => {
                let next = start + total;
                if next == buf.len() {
                    return Ok(start);
                }
                if next > buf.len() {
                    // Not enough bytes to confirm; keep from here.
                    return Err(start);
                }
                match header(&buf[next..], max_len) {
                    Header::Packet(_) | Header::NeedMore => return Ok(start),
                    Header::Implausible => {}
                }
            }
            Header::NeedMore => return Err(start),
            Header::Implausible => {}
        }
    }
    Err(buf.len())
}

/// At the end of a stream: the first offset from which the rest of `buf`
/// frames as a sequence of plausible packets that ends exactly at the end.
pub fn find_final_boundary(buf: &[u8], max_len: usize) -> Option<usize> {
    (0..buf.len()).find(|&start| {
        let mut at = start;
        while at < buf.len() {
            match header(&buf[at..], max_len) {
                Header::Packet(total) if at + total <= buf.len() => at += total,
                _ => return false,
            }
        }
        true
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_boundary_after_garbage() {
        // garbage, then PINGREQ, then PUBLISH QoS 0 "a" payload "x".
        let buf = [
            0x00, 0xff, 0x07, 0xc0, 0x00, 0x30, 0x04, 0x00, 0x01, b'a', b'x',
        ];
        assert_eq!(find_boundary(&buf, 1 << 20), Ok(3));
    }

    #[test]
    fn partial_header_waits() {
        assert_eq!(find_boundary(&[0x00, 0x30], 1 << 20), Err(1));
    }

    #[test]
    fn final_boundary_skips_a_start_that_runs_past_the_end() {
        // "12" would be a PUBLISH of 50 bytes; then PINGREQ, DISCONNECT.
        let buf = [b'1', b'2', b'3', 0xc0, 0x00, 0xe0, 0x00];
        assert_eq!(find_final_boundary(&buf, 1 << 20), Some(3));
        assert_eq!(find_final_boundary(b"12", 1 << 20), None);
    }

    #[test]
    fn a_publish_whose_topic_does_not_fit_is_no_boundary() {
        // "12" = PUBLISH of 50 bytes, but its topic length "34" is 13 108.
        assert_eq!(header(b"1234", 1 << 20), Header::Implausible);
        // The topic length is still to come.
        assert_eq!(header(b"12", 1 << 20), Header::NeedMore);
        // QoS 0, topic "a": 3 bytes of the remaining 3; QoS 1 needs 2 more.
        assert_eq!(header(&[0x30, 3, 0, 1, b'a'], 1 << 20), Header::Packet(5));
        assert_eq!(header(&[0x32, 3, 0, 1, b'a'], 1 << 20), Header::Implausible);
        assert_eq!(
            header(&[0x32, 5, 0, 1, b'a', 0, 1], 1 << 20),
            Header::Packet(7)
        );
        // Digits after a gap, then a real PUBLISH and PINGREQ.
        let mut buf = b"1234567890123456789".to_vec();
        buf.extend([0x30, 3, 0, 1, b'a', 0xc0, 0]);
        assert_eq!(find_boundary(&buf, 1 << 20), Ok(19));
    }

    #[test]
    fn a_connect_names_its_protocol_in_4_or_6_bytes() {
        assert_eq!(header(&[0x10, 12, 0, 4], 1 << 20), Header::Packet(14));
        assert_eq!(header(&[0x10, 14, 0, 6], 1 << 20), Header::Packet(16));
        assert_eq!(header(&[0x10, 12, 0, 5], 1 << 20), Header::Implausible);
    }

    #[test]
    fn nothing_plausible_drops_everything() {
        assert_eq!(find_boundary(&[0x00, 0x00, 0xf7], 1 << 20), Err(3));
    }
}
