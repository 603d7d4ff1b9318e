//! Wire primitives (varints, strings, binary data) and the per-type packet
//! body decoders and encoders.

use bytes::Bytes;

use super::decode::Decoded;
use super::encode::Overrides;
use super::packet::{Packet, Version};

pub(crate) fn decode_packet(_raw: Bytes, _version: Version) -> Decoded {
    todo!("codec: decode_packet")
}

pub(crate) fn encode_packet(_p: &Packet, _v: Version, _o: &Overrides) -> Vec<u8> {
    todo!("codec: encode_packet")
}
