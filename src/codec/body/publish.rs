//! PUBLISH body: topic name, packet identifier when QoS > 0 (QoS 3 included),
//! properties in 5.0, then the payload (the rest of the body).
//!
//! The encoder writes `packet_id` whenever it is `Some`, even at QoS 0.

use super::super::decode::ViolationKind;
use super::super::packet::Publish;
use super::super::property_wire::{decode_properties, encode_properties, Place};
use super::super::wire::{put_text, put_u16, Reader};
use super::ack::packet_id;

/// Inline in the body dispatch: the PUBLISH is then built where the packet
/// goes instead of being moved there.
#[inline]
pub(crate) fn decode_publish(r: &mut Reader<'_>, flags: u8, v5: bool) -> Publish {
    let mut p = Publish {
        dup: flags & 0x08 != 0,
        qos: (flags >> 1) & 0x03,
        retain: flags & 0x01 != 0,
        ..Publish::default()
    };
    if p.qos == 3 {
        r.violation(0, ViolationKind::Qos3);
    }
    let Some(topic) = r.text("topic name") else {
        return p;
    };
    p.topic = topic;
    if p.qos > 0 {
        p.packet_id = packet_id(r);
        if p.packet_id.is_none() {
            return p;
        }
    }
    if v5 {
        p.properties = decode_properties(r, Place::Publish);
    }
    p.payload = r.rest();
    p
}

pub(crate) fn encode_publish(out: &mut Vec<u8>, p: &Publish, v5: bool) {
    put_text(out, &p.topic);
    if let Some(id) = p.packet_id {
        put_u16(out, id);
    }
    if v5 {
        encode_properties(out, &p.properties);
    }
    out.extend_from_slice(&p.payload);
}
