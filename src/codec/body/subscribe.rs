//! SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK bodies: packet identifier,
//! properties in 5.0, then a list (filters with options, filters, or codes).

use super::super::decode::ViolationKind;
use super::super::packet::{Suback, Subscribe, Subscription, Unsuback, Unsubscribe};
use super::super::property_wire::{decode_properties, encode_properties, Place};
use super::super::wire::{put_text, put_u16, Reader};
use super::ack::packet_id;

/// Whether a subscription options byte is invalid: QoS 3, reserved bits set
/// (3.1.1: bits 2-7; 5.0: bits 6-7), or Retain Handling 3 (5.0).
pub(crate) fn invalid_options(options: u8, v5: bool) -> bool {
    let qos3 = options & 0x03 == 3;
    if v5 {
        qos3 || options & 0xc0 != 0 || (options >> 4) & 0x03 == 3
    } else {
        qos3 || options & 0xfc != 0
    }
}

pub(crate) fn decode_subscribe(r: &mut Reader<'_>, v5: bool) -> Subscribe {
    let mut s = Subscribe::default();
    let Some(id) = packet_id(r) else {
        return s;
    };
    s.packet_id = id;
    if v5 {
        s.properties = decode_properties(r, Place::Subscribe);
    }
    if r.remaining() == 0 {
        let at = r.pos();
        r.violation(at, ViolationKind::NoTopicFilter);
    }
    while r.remaining() > 0 {
        let Some(filter) = r.text("topic filter") else {
            break;
        };
        let at = r.pos();
        let Some(options) = r.u8("subscription options") else {
            break;
        };
        if invalid_options(options, v5) {
            r.violation(at, ViolationKind::InvalidSubscriptionOptions { options });
        }
        s.filters.push(Subscription { filter, options });
    }
    s
}

pub(crate) fn decode_suback(r: &mut Reader<'_>, v5: bool) -> Suback {
    let mut s = Suback::default();
    let Some(id) = packet_id(r) else {
        return s;
    };
    s.packet_id = id;
    if v5 {
        s.properties = decode_properties(r, Place::Suback);
    }
    s.codes = r.rest().to_vec();
    s
}

pub(crate) fn decode_unsubscribe(r: &mut Reader<'_>, v5: bool) -> Unsubscribe {
    let mut u = Unsubscribe::default();
    let Some(id) = packet_id(r) else {
        return u;
    };
    u.packet_id = id;
    if v5 {
        u.properties = decode_properties(r, Place::Unsubscribe);
    }
    if r.remaining() == 0 {
        let at = r.pos();
        r.violation(at, ViolationKind::NoTopicFilter);
    }
    while r.remaining() > 0 {
        let Some(filter) = r.text("topic filter") else {
            break;
        };
        u.filters.push(filter);
    }
    u
}

/// UNSUBACK: in 3.1.1 only the packet id (anything more is trailing bytes).
pub(crate) fn decode_unsuback(r: &mut Reader<'_>, v5: bool) -> Unsuback {
    let mut u = Unsuback::default();
    let Some(id) = packet_id(r) else {
        return u;
    };
    u.packet_id = id;
    if v5 {
        u.properties = decode_properties(r, Place::Unsuback);
        u.codes = r.rest().to_vec();
    }
    u
}

pub(crate) fn encode_subscribe(out: &mut Vec<u8>, s: &Subscribe, v5: bool) {
    put_u16(out, s.packet_id);
    if v5 {
        encode_properties(out, &s.properties);
    }
    for f in &s.filters {
        put_text(out, &f.filter);
        out.push(f.options);
    }
}

pub(crate) fn encode_suback(out: &mut Vec<u8>, s: &Suback, v5: bool) {
    put_u16(out, s.packet_id);
    if v5 {
        encode_properties(out, &s.properties);
    }
    out.extend_from_slice(&s.codes);
}

pub(crate) fn encode_unsubscribe(out: &mut Vec<u8>, u: &Unsubscribe, v5: bool) {
    put_u16(out, u.packet_id);
    if v5 {
        encode_properties(out, &u.properties);
    }
    for f in &u.filters {
        put_text(out, f);
    }
}

/// UNSUBACK codes are written when present, in 3.1.1 too (a deliberate violation there).
pub(crate) fn encode_unsuback(out: &mut Vec<u8>, u: &Unsuback, v5: bool) {
    put_u16(out, u.packet_id);
    if v5 {
        encode_properties(out, &u.properties);
    }
    out.extend_from_slice(&u.codes);
}
