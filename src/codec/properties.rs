//! MQTT 5.0 properties: identifiers, value types and the ordered list a
//! packet carries (duplicates and unknown identifiers are kept as received).

use bytes::Bytes;
use serde::Serialize;

use super::text::Text;

/// A property value, by the data type the identifier defines.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Byte(u8),
    U16(u16),
    U32(u32),
    VarInt(u32),
    Str(Text),
    #[serde(serialize_with = "super::text::ser_bytes")]
    Binary(Bytes),
    Pair(Text, Text),
}

/// One property as on the wire.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Property {
    pub id: u8,
    pub value: Value,
}

/// The properties of a packet, in wire order.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[serde(transparent)]
pub struct Properties(pub Vec<Property>);

impl Properties {
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A copy whose strings and binary values have buffers of their own
    /// (see [`Text::detached`]).
    pub fn detached(&self) -> Properties {
        let value = |v: &Value| match v {
            Value::Str(t) => Value::Str(t.detached()),
            Value::Binary(b) => Value::Binary(Bytes::copy_from_slice(b)),
            Value::Pair(k, v) => Value::Pair(k.detached(), v.detached()),
            other => other.clone(),
        };
        Properties(
            self.0
                .iter()
                .map(|p| Property {
                    id: p.id,
                    value: value(&p.value),
                })
                .collect(),
        )
    }

    /// First property with this identifier.
    pub fn get(&self, id: u8) -> Option<&Value> {
        self.0.iter().find(|p| p.id == id).map(|p| &p.value)
    }
}

/// The data type a property identifier uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Byte,
    U16,
    U32,
    VarInt,
    Str,
    Binary,
    Pair,
}

/// Property identifiers of MQTT 5.0 (section 2.2.2.2).
pub mod id {
    pub const PAYLOAD_FORMAT_INDICATOR: u8 = 0x01;
    pub const MESSAGE_EXPIRY_INTERVAL: u8 = 0x02;
    pub const CONTENT_TYPE: u8 = 0x03;
    pub const RESPONSE_TOPIC: u8 = 0x08;
    pub const CORRELATION_DATA: u8 = 0x09;
    pub const SUBSCRIPTION_IDENTIFIER: u8 = 0x0B;
    pub const SESSION_EXPIRY_INTERVAL: u8 = 0x11;
    pub const ASSIGNED_CLIENT_IDENTIFIER: u8 = 0x12;
    pub const SERVER_KEEP_ALIVE: u8 = 0x13;
    pub const AUTHENTICATION_METHOD: u8 = 0x15;
    pub const AUTHENTICATION_DATA: u8 = 0x16;
    pub const REQUEST_PROBLEM_INFORMATION: u8 = 0x17;
    pub const WILL_DELAY_INTERVAL: u8 = 0x18;
    pub const REQUEST_RESPONSE_INFORMATION: u8 = 0x19;
    pub const RESPONSE_INFORMATION: u8 = 0x1A;
    pub const SERVER_REFERENCE: u8 = 0x1C;
    pub const REASON_STRING: u8 = 0x1F;
    pub const RECEIVE_MAXIMUM: u8 = 0x21;
    pub const TOPIC_ALIAS_MAXIMUM: u8 = 0x22;
    pub const TOPIC_ALIAS: u8 = 0x23;
    pub const MAXIMUM_QOS: u8 = 0x24;
    pub const RETAIN_AVAILABLE: u8 = 0x25;
    pub const USER_PROPERTY: u8 = 0x26;
    pub const MAXIMUM_PACKET_SIZE: u8 = 0x27;
    pub const WILDCARD_SUBSCRIPTION_AVAILABLE: u8 = 0x28;
    pub const SUBSCRIPTION_IDENTIFIER_AVAILABLE: u8 = 0x29;
    pub const SHARED_SUBSCRIPTION_AVAILABLE: u8 = 0x2A;
}

/// The data type and name of a property identifier, or None if undefined.
pub fn describe(pid: u8) -> Option<(Kind, &'static str)> {
    use Kind::*;
    Some(match pid {
        0x01 => (Byte, "Payload Format Indicator"),
        0x02 => (U32, "Message Expiry Interval"),
        0x03 => (Str, "Content Type"),
        0x08 => (Str, "Response Topic"),
        0x09 => (Binary, "Correlation Data"),
        0x0B => (VarInt, "Subscription Identifier"),
        0x11 => (U32, "Session Expiry Interval"),
        0x12 => (Str, "Assigned Client Identifier"),
        0x13 => (U16, "Server Keep Alive"),
        0x15 => (Str, "Authentication Method"),
        0x16 => (Binary, "Authentication Data"),
        0x17 => (Byte, "Request Problem Information"),
        0x18 => (U32, "Will Delay Interval"),
        0x19 => (Byte, "Request Response Information"),
        0x1A => (Str, "Response Information"),
        0x1C => (Str, "Server Reference"),
        0x1F => (Str, "Reason String"),
        0x21 => (U16, "Receive Maximum"),
        0x22 => (U16, "Topic Alias Maximum"),
        0x23 => (U16, "Topic Alias"),
        0x24 => (Byte, "Maximum QoS"),
        0x25 => (Byte, "Retain Available"),
        0x26 => (Pair, "User Property"),
        0x27 => (U32, "Maximum Packet Size"),
        0x28 => (Byte, "Wildcard Subscription Available"),
        0x29 => (Byte, "Subscription Identifier Available"),
        0x2A => (Byte, "Shared Subscription Available"),
        _ => return None,
    })
}
