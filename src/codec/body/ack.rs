//! PUBACK, PUBREC, PUBREL, PUBCOMP, DISCONNECT and AUTH: a packet id and/or
//! an optional reason code and properties (5.0 lets them be omitted when the
//! remaining length is short).

use super::super::decode::ViolationKind;
use super::super::packet::{Ack, Auth, Disconnect};
use super::super::properties::Properties;
use super::super::property_wire::{decode_properties, encode_properties, Place};
use super::super::wire::{put_u16, Reader};

/// Read a non-zero packet identifier (zero is reported, still returned).
pub(crate) fn packet_id(r: &mut Reader<'_>) -> Option<u16> {
    let at = r.pos();
    let id = r.u16("packet identifier")?;
    if id == 0 {
        r.violation(at, ViolationKind::ZeroPacketId);
    }
    Some(id)
}

/// An optional reason code then optional properties (5.0): each is absent
/// when the body ends before it.
fn reason_and_properties(r: &mut Reader<'_>, place: Place) -> (Option<u8>, Properties) {
    if r.remaining() == 0 {
        return (None, Properties::default());
    }
    let code = r.u8("reason code");
    if r.remaining() == 0 {
        return (code, Properties::default());
    }
    (code, decode_properties(r, place))
}

/// Inline in the body dispatch, as `decode_publish`: the common
/// acknowledgements are built in place.
#[inline]
pub(crate) fn decode_ack(r: &mut Reader<'_>, v5: bool) -> Ack {
    let packet_id = packet_id(r).unwrap_or(0);
    let (reason_code, properties) = if v5 {
        reason_and_properties(r, Place::Ack)
    } else {
        (None, Properties::default())
    };
    Ack {
        packet_id,
        reason_code,
        properties,
    }
}

pub(crate) fn decode_disconnect(r: &mut Reader<'_>, v5: bool) -> Disconnect {
    let (reason_code, properties) = if v5 {
        reason_and_properties(r, Place::Disconnect)
    } else {
        (None, Properties::default())
    };
    Disconnect {
        reason_code,
        properties,
    }
}

/// AUTH exists only in 5.0 (type 15 is reserved before), so always 5.0 layout.
pub(crate) fn decode_auth(r: &mut Reader<'_>) -> Auth {
    let (reason_code, properties) = reason_and_properties(r, Place::Auth);
    Auth {
        reason_code,
        properties,
    }
}

pub(crate) fn encode_ack(out: &mut Vec<u8>, a: &Ack, v5: bool) {
    put_u16(out, a.packet_id);
    encode_reason(out, a.reason_code, &a.properties, v5);
}

/// Reason code if present (properties force it, as 0x00, in 5.0), then the
/// properties when there are any (5.0 only).
pub(crate) fn encode_reason(out: &mut Vec<u8>, code: Option<u8>, props: &Properties, v5: bool) {
    let with_props = v5 && !props.is_empty();
    match code {
        Some(c) => out.push(c),
        None if with_props => out.push(0),
        None => {}
    }
    if with_props {
        encode_properties(out, props);
    }
}
