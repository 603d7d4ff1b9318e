//! SUBSCRIBE, SUBACK, UNSUBSCRIBE and UNSUBACK bodies: packet identifier,
//! properties in 5.0, then a list (filters with options, filters, or codes).

use super::super::decode::ViolationKind;
use super::super::packet::{Suback, Subscribe, Subscription, Unsuback, Unsubscribe};
use super::super::properties::Properties;
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

/// The packet identifier, then the properties in 5.0; None when the body
/// ends before the identifier.
fn decode_head(r: &mut Reader<'_>, v5: bool, place: Place) -> Option<(u16, Properties)> {
    let id = packet_id(r)?;
    let properties = if v5 {
        decode_properties(r, place)
    } else {
        Properties::default()
    };
    Some((id, properties))
}

/// SUBSCRIBE and UNSUBSCRIBE must carry at least one topic filter.
fn require_filter(r: &mut Reader<'_>) {
    if r.remaining() == 0 {
        let at = r.pos();
        r.violation(at, ViolationKind::NoTopicFilter);
    }
}

pub(crate) fn decode_subscribe(r: &mut Reader<'_>, v5: bool) -> Subscribe {
    let Some((packet_id, properties)) = decode_head(r, v5, Place::Subscribe) else {
        return Subscribe::default();
    };
    let mut s = Subscribe {
        packet_id,
        properties,
        filters: Vec::new(),
    };
    require_filter(r);
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
    let Some((packet_id, properties)) = decode_head(r, v5, Place::Suback) else {
        return Suback::default();
    };
    Suback {
        packet_id,
        properties,
        codes: r.rest().to_vec(),
    }
}

pub(crate) fn decode_unsubscribe(r: &mut Reader<'_>, v5: bool) -> Unsubscribe {
    let Some((packet_id, properties)) = decode_head(r, v5, Place::Unsubscribe) else {
        return Unsubscribe::default();
    };
    let mut u = Unsubscribe {
        packet_id,
        properties,
        filters: Vec::new(),
    };
    require_filter(r);
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
    let Some((packet_id, properties)) = decode_head(r, v5, Place::Unsuback) else {
        return Unsuback::default();
    };
    Unsuback {
        packet_id,
        properties,
        codes: if v5 { r.rest().to_vec() } else { Vec::new() },
    }
}

/// The packet identifier, then the properties in 5.0.
fn encode_head(out: &mut Vec<u8>, packet_id: u16, properties: &Properties, v5: bool) {
    put_u16(out, packet_id);
    if v5 {
        encode_properties(out, properties);
    }
}

pub(crate) fn encode_subscribe(out: &mut Vec<u8>, s: &Subscribe, v5: bool) {
    encode_head(out, s.packet_id, &s.properties, v5);
    for f in &s.filters {
        put_text(out, &f.filter);
        out.push(f.options);
    }
}

pub(crate) fn encode_suback(out: &mut Vec<u8>, s: &Suback, v5: bool) {
    encode_head(out, s.packet_id, &s.properties, v5);
    out.extend_from_slice(&s.codes);
}

pub(crate) fn encode_unsubscribe(out: &mut Vec<u8>, u: &Unsubscribe, v5: bool) {
    encode_head(out, u.packet_id, &u.properties, v5);
    for f in &u.filters {
        put_text(out, f);
    }
}

/// UNSUBACK codes are written when present, in 3.1.1 too (a deliberate violation there).
pub(crate) fn encode_unsuback(out: &mut Vec<u8>, u: &Unsuback, v5: bool) {
    encode_head(out, u.packet_id, &u.properties, v5);
    out.extend_from_slice(&u.codes);
}
