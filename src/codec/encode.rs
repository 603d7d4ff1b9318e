//! Encoding of packets, with overrides that produce deliberately malformed
//! bytes (flags, remaining length, trailing garbage).

use serde::Deserialize;

use super::packet::{Packet, Version};

/// Deliberate changes applied to an encoded packet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// Replace the fixed-header flags nibble (low 4 bits of the first byte).
    pub flags: Option<u8>,
    /// Replace the packet type nibble.
    pub type_nibble: Option<u8>,
    /// Write this remaining length instead of the true one (body unchanged).
    pub remaining_length: Option<u32>,
    /// Encode the remaining length with at least this many bytes (1-5; >4 is invalid).
    pub length_bytes: Option<u8>,
    /// Append these bytes to the body (counted in the remaining length).
    #[serde(default)]
    pub append: Vec<u8>,
    /// Drop this many bytes from the end of the body (remaining length adjusted).
    pub truncate: Option<usize>,
}

/// Encode a packet for `version` exactly as described by its fields.
pub fn encode(packet: &Packet, version: Version) -> Vec<u8> {
    encode_with(packet, version, &Overrides::default())
}

/// Encode a packet, then apply `overrides`.
pub fn encode_with(packet: &Packet, version: Version, overrides: &Overrides) -> Vec<u8> {
    super::wire::encode_packet(packet, version, overrides)
}
