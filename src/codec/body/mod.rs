//! Per-type packet bodies: dispatch on the fixed header's type nibble, the
//! fixed-header flag checks, and the small bodies (PINGREQ, PINGRESP and
//! reserved types). Each larger family has its own file.

mod ack;
mod connect;
mod publish;
mod subscribe;

use super::decode::ViolationKind;
use super::packet::{Packet, PacketType, Unknown, Version};
use super::wire::{header_flags, is_reserved_type, Reader};

/// Decode the body in `r` for a packet whose first byte is `first_byte`.
///
/// Reports reserved types and wrong fixed-header flags at offset 0, then
/// trailing bytes after the last field.
#[inline]
pub(crate) fn decode_body(first_byte: u8, version: Version, r: &mut Reader<'_>) -> Packet {
    let t = PacketType::from_nibble(first_byte >> 4);
    let flags = first_byte & 0x0f;
    if is_reserved_type(t, version) {
        r.violation(0, ViolationKind::ReservedPacketType);
        return Packet::Reserved(Unknown {
            first_byte,
            body: r.rest(),
        });
    }
    if let Some(expected) = t.required_flags() {
        if expected != flags {
            r.violation(
                0,
                ViolationKind::ReservedFlags {
                    expected,
                    actual: flags,
                },
            );
        }
    }
    let v5 = version.is_v5();
    let packet = match t {
        PacketType::Connect => Packet::Connect(Box::new(connect::decode_connect(r))),
        PacketType::Connack => Packet::Connack(connect::decode_connack(r, v5)),
        PacketType::Publish => Packet::Publish(publish::decode_publish(r, flags, v5)),
        PacketType::Puback => Packet::Puback(ack::decode_ack(r, v5)),
        PacketType::Pubrec => Packet::Pubrec(ack::decode_ack(r, v5)),
        PacketType::Pubrel => Packet::Pubrel(ack::decode_ack(r, v5)),
        PacketType::Pubcomp => Packet::Pubcomp(ack::decode_ack(r, v5)),
        PacketType::Subscribe => Packet::Subscribe(subscribe::decode_subscribe(r, v5)),
        PacketType::Suback => Packet::Suback(subscribe::decode_suback(r, v5)),
        PacketType::Unsubscribe => Packet::Unsubscribe(subscribe::decode_unsubscribe(r, v5)),
        PacketType::Unsuback => Packet::Unsuback(subscribe::decode_unsuback(r, v5)),
        PacketType::Pingreq => Packet::Pingreq,
        PacketType::Pingresp => Packet::Pingresp,
        PacketType::Disconnect => Packet::Disconnect(ack::decode_disconnect(r, v5)),
        PacketType::Auth => Packet::Auth(ack::decode_auth(r)),
        // Handled by is_reserved_type above; kept total all the same.
        PacketType::Reserved => Packet::Reserved(Unknown {
            first_byte,
            body: r.rest(),
        }),
    };
    r.finish();
    packet
}

/// Encode a packet's body; returns (fixed-header flags, body bytes).
///
/// Fields that are present are written; properties only in 5.0 (CONNECT: when
/// its `protocol_level` is 5, whatever `version` says).
pub(crate) fn encode_body(p: &Packet, version: Version) -> (u8, Vec<u8>) {
    let v5 = version.is_v5();
    let mut out = Vec::new();
    match p {
        Packet::Connect(c) => connect::encode_connect(&mut out, c),
        Packet::Connack(c) => connect::encode_connack(&mut out, c, v5),
        Packet::Publish(x) => publish::encode_publish(&mut out, x, v5),
        Packet::Puback(a) | Packet::Pubrec(a) | Packet::Pubrel(a) | Packet::Pubcomp(a) => {
            ack::encode_ack(&mut out, a, v5)
        }
        Packet::Subscribe(s) => subscribe::encode_subscribe(&mut out, s, v5),
        Packet::Suback(s) => subscribe::encode_suback(&mut out, s, v5),
        Packet::Unsubscribe(u) => subscribe::encode_unsubscribe(&mut out, u, v5),
        Packet::Unsuback(u) => subscribe::encode_unsuback(&mut out, u, v5),
        Packet::Pingreq | Packet::Pingresp => {}
        Packet::Disconnect(d) => ack::encode_reason(&mut out, d.reason_code, &d.properties, v5),
        Packet::Auth(a) => ack::encode_reason(&mut out, a.reason_code, &a.properties, v5),
        Packet::Reserved(u) => out.extend_from_slice(&u.body),
    }
    (header_flags(p), out)
}
