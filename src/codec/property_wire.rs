//! MQTT 5.0 property lists on the wire: decoding with validation of which
//! identifiers each packet may carry (`InvalidProperty`) and which may appear
//! only once (`DuplicateProperty`), and encoding exactly as listed (values are
//! written by their `Value` variant, so a wrong type can be sent on purpose).

use super::decode::ViolationKind;
use super::properties::{describe, id, Kind, Properties, Property, Value};
use super::wire::{put_binary, put_text, put_u16, put_varint, Reader};

/// Where a property list sits (section 2.2.2.2 allows each identifier only in
/// some of these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    Connect,
    Will,
    Connack,
    Publish,
    /// PUBACK, PUBREC, PUBREL and PUBCOMP.
    Ack,
    Subscribe,
    Suback,
    Unsubscribe,
    Unsuback,
    Disconnect,
    Auth,
}

/// Whether identifier `pid` may appear in a property list at `place`.
pub(crate) fn allowed(pid: u8, place: Place) -> bool {
    use Place::*;
    match pid {
        id::PAYLOAD_FORMAT_INDICATOR
        | id::MESSAGE_EXPIRY_INTERVAL
        | id::CONTENT_TYPE
        | id::RESPONSE_TOPIC
        | id::CORRELATION_DATA => matches!(place, Publish | Will),
        id::SUBSCRIPTION_IDENTIFIER => matches!(place, Publish | Subscribe),
        id::SESSION_EXPIRY_INTERVAL => matches!(place, Connect | Connack | Disconnect),
        id::ASSIGNED_CLIENT_IDENTIFIER
        | id::SERVER_KEEP_ALIVE
        | id::RESPONSE_INFORMATION
        | id::MAXIMUM_QOS
        | id::RETAIN_AVAILABLE
        | id::WILDCARD_SUBSCRIPTION_AVAILABLE
        | id::SUBSCRIPTION_IDENTIFIER_AVAILABLE
        | id::SHARED_SUBSCRIPTION_AVAILABLE => place == Connack,
        id::AUTHENTICATION_METHOD | id::AUTHENTICATION_DATA => {
            matches!(place, Connect | Connack | Auth)
        }
        id::REQUEST_PROBLEM_INFORMATION | id::REQUEST_RESPONSE_INFORMATION => place == Connect,
        id::WILL_DELAY_INTERVAL => place == Will,
        id::SERVER_REFERENCE => matches!(place, Connack | Disconnect),
        id::REASON_STRING => !matches!(place, Connect | Will | Publish | Subscribe | Unsubscribe),
        id::RECEIVE_MAXIMUM | id::TOPIC_ALIAS_MAXIMUM | id::MAXIMUM_PACKET_SIZE => {
            matches!(place, Connect | Connack)
        }
        id::TOPIC_ALIAS => place == Publish,
        id::USER_PROPERTY => true,
        _ => false,
    }
}

/// Whether `pid` may appear more than once at `place`.
pub(crate) fn repeatable(pid: u8, place: Place) -> bool {
    pid == id::USER_PROPERTY || (pid == id::SUBSCRIPTION_IDENTIFIER && place == Place::Publish)
}

/// Read a property length and the properties it covers.
///
/// An undefined identifier ends the list (its value's length is unknown) and
/// the rest of the list is skipped; a list longer than the packet is
/// `Truncated { field: "properties" }`.
pub(crate) fn decode_properties(r: &mut Reader<'_>, place: Place) -> Properties {
    let mut props = Vec::new();
    let Some(len) = r.varint("property length") else {
        return Properties(props);
    };
    let start = r.pos();
    if r.take(len as usize, "properties").is_none() {
        return Properties(props);
    }
    // Parse the section with its own reader so nothing reads past it.
    let mut sub = r.sub(start, start + len as usize);
    let mut seen: Vec<u8> = Vec::new();
    while sub.remaining() > 0 {
        let at = sub.pos();
        let Some(pid) = sub.varint("property identifier") else {
            break;
        };
        let described = u8::try_from(pid)
            .ok()
            .and_then(|p| describe(p).map(|(k, n)| (p, k, n)));
        let Some((pid, kind, name)) = described else {
            let pid = u8::try_from(pid).unwrap_or(u8::MAX);
            sub.violation(at, ViolationKind::InvalidProperty { id: pid });
            let _ = sub.rest();
            break;
        };
        if !allowed(pid, place) {
            sub.violation(at, ViolationKind::InvalidProperty { id: pid });
        } else if seen.contains(&pid) && !repeatable(pid, place) {
            sub.violation(at, ViolationKind::DuplicateProperty { id: pid });
        }
        seen.push(pid);
        let Some(value) = read_value(&mut sub, kind, name) else {
            break;
        };
        props.push(Property { id: pid, value });
    }
    r.violations.append(&mut sub.violations);
    Properties(props)
}

fn read_value(r: &mut Reader<'_>, kind: Kind, name: &'static str) -> Option<Value> {
    Some(match kind {
        Kind::Byte => Value::Byte(r.u8(name)?),
        Kind::U16 => Value::U16(r.u16(name)?),
        Kind::U32 => Value::U32(r.u32(name)?),
        Kind::VarInt => Value::VarInt(r.varint(name)?),
        Kind::Str => Value::Str(r.text(name)?),
        Kind::Binary => Value::Binary(r.binary(name)?),
        Kind::Pair => {
            let k = r.text(name)?;
            Value::Pair(k, r.text(name)?)
        }
    })
}

/// Append a property length and the properties, in order.
pub(crate) fn encode_properties(out: &mut Vec<u8>, props: &Properties) {
    let mut body = Vec::new();
    for p in &props.0 {
        body.push(p.id);
        match &p.value {
            Value::Byte(b) => body.push(*b),
            Value::U16(v) => put_u16(&mut body, *v),
            Value::U32(v) => body.extend_from_slice(&v.to_be_bytes()),
            Value::VarInt(v) => put_varint(&mut body, *v),
            Value::Str(t) => put_text(&mut body, t),
            Value::Binary(b) => put_binary(&mut body, b),
            Value::Pair(k, v) => {
                put_text(&mut body, k);
                put_text(&mut body, v);
            }
        }
    }
    put_varint(out, u32::try_from(body.len()).unwrap_or(u32::MAX));
    out.extend_from_slice(&body);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_defined_identifier_is_allowed_somewhere() {
        use Place::*;
        let places = [
            Connect,
            Will,
            Connack,
            Publish,
            Ack,
            Subscribe,
            Suback,
            Unsubscribe,
            Unsuback,
            Disconnect,
            Auth,
        ];
        for pid in 0u8..=0x7f {
            let somewhere = places.iter().any(|p| allowed(pid, *p));
            assert_eq!(somewhere, describe(pid).is_some(), "id {pid:#04x}");
        }
    }

    #[test]
    fn allow_list_samples() {
        assert!(allowed(id::WILL_DELAY_INTERVAL, Place::Will));
        assert!(!allowed(id::WILL_DELAY_INTERVAL, Place::Connect));
        assert!(allowed(id::REASON_STRING, Place::Ack));
        assert!(!allowed(id::REASON_STRING, Place::Publish));
        assert!(allowed(id::USER_PROPERTY, Place::Unsubscribe));
        assert!(repeatable(id::SUBSCRIPTION_IDENTIFIER, Place::Publish));
        assert!(!repeatable(id::SUBSCRIPTION_IDENTIFIER, Place::Subscribe));
        assert!(!repeatable(id::TOPIC_ALIAS, Place::Publish));
    }
}
