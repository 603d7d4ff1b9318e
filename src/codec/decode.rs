//! Lenient, total decoding of one framed packet: returns what could be parsed
//! and each violation found, with its byte offset inside the packet.

use bytes::Bytes;
use serde::Serialize;

use super::packet::{Packet, Version};

/// The result of decoding one packet's bytes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decoded {
    /// First byte of the fixed header (type nibble + flags nibble).
    pub first_byte: u8,
    /// Remaining length as encoded in the fixed header.
    pub remaining_length: u32,
    /// The whole packet as on the wire (fixed header included).
    #[serde(skip)]
    pub raw: Bytes,
    /// What could be parsed. Fields that could not be read keep defaults.
    #[serde(flatten)]
    pub packet: Packet,
    /// Wire-level violations found, in offset order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<Violation>,
}

impl Decoded {
    /// The fixed-header flags nibble.
    pub fn flags(&self) -> u8 {
        self.first_byte & 0x0f
    }

    /// Whether any violation was found.
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }
}

/// One wire-level problem in a packet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// Byte offset inside the packet (0 = first byte of fixed header).
    pub offset: usize,
    pub kind: ViolationKind,
}

/// What is wrong. Mapped to normative statements by `rules::wellformed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ViolationKind {
    /// Packet type 0 (or 15 before 5.0).
    ReservedPacketType,
    /// Fixed-header flags differ from the required value.
    ReservedFlags { expected: u8, actual: u8 },
    /// PUBLISH with both QoS bits set.
    Qos3,
    /// A field ends past the end of the packet.
    Truncated { field: &'static str },
    /// Bytes left after the last field.
    TrailingBytes { count: usize },
    /// Remaining length encoded with more bytes than needed.
    NonMinimalLength,
    /// A string field is not well-formed UTF-8 (or encodes a surrogate).
    InvalidUtf8 { field: &'static str },
    /// A string field contains U+0000.
    NullCharacter { field: &'static str },
    /// Packet identifier 0 where a non-zero one is required.
    ZeroPacketId,
    /// CONNECT protocol name is neither "MQTT" nor "MQIsdp".
    UnknownProtocolName,
    /// CONNECT reserved flag (bit 0) set.
    ConnectReservedFlag,
    /// CONNECT will QoS 3, or will QoS/retain set without the will flag.
    InvalidWillFlags,
    /// CONNECT password flag set without the user name flag (3.1.1).
    PasswordWithoutUsername,
    /// SUBSCRIBE or UNSUBSCRIBE without any topic filter.
    NoTopicFilter,
    /// SUBSCRIBE options with reserved bits set or requested QoS 3.
    InvalidSubscriptionOptions { options: u8 },
    /// CONNACK acknowledge flags with reserved bits 7-1 set.
    ConnackReservedFlags,
    /// 5.0: a property identifier not defined, or not allowed in this packet.
    InvalidProperty { id: u8 },
    /// 5.0: a property that may appear once appears again.
    DuplicateProperty { id: u8 },
    /// 5.0: a variable byte integer longer than 4 bytes.
    InvalidVarInt,
}

/// Decode one whole packet (as returned by the framer) for `version`.
///
/// Never panics; every byte is either parsed or reported.
#[inline]
pub fn decode(raw: Bytes, version: Version) -> Decoded {
    super::wire::decode_packet(raw, version)
}
