//! The MQTT packet model shared by 3.1.1 and 5.0: one owned struct per packet
//! type, able to hold any value the wire can carry (QoS 3, packet id 0,
//! reserved flags, invalid UTF-8), so that the encoder can build malformed
//! packets and the lenient decoder can describe what it received.

use bytes::Bytes;
use serde::Serialize;

use super::properties::Properties;
use super::text::Text;

/// Protocol version, from the CONNECT protocol level byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
pub enum Version {
    /// MQTT 3.1 (protocol name "MQIsdp", level 3) — decoded like 3.1.1.
    #[serde(rename = "3.1")]
    V31,
    /// MQTT 3.1.1 (level 4).
    #[default]
    #[serde(rename = "3.1.1")]
    V311,
    /// MQTT 5.0 (level 5).
    #[serde(rename = "5.0")]
    V5,
}

impl Version {
    /// The protocol level byte carried in CONNECT.
    pub fn level(self) -> u8 {
        match self {
            Version::V31 => 3,
            Version::V311 => 4,
            Version::V5 => 5,
        }
    }

    /// The version for a protocol level byte, if it is one we know.
    pub fn from_level(level: u8) -> Option<Version> {
        match level {
            3 => Some(Version::V31),
            4 => Some(Version::V311),
            5 => Some(Version::V5),
            _ => None,
        }
    }

    /// Whether packets of this version carry properties and reason codes.
    pub fn is_v5(self) -> bool {
        self == Version::V5
    }

    /// The usual name ("3.1.1", "5.0").
    pub fn name(self) -> &'static str {
        match self {
            Version::V31 => "3.1",
            Version::V311 => "3.1.1",
            Version::V5 => "5.0",
        }
    }
}

/// Packet type: the high nibble of the first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "UPPERCASE")]
pub enum PacketType {
    Reserved,
    Connect,
    Connack,
    Publish,
    Puback,
    Pubrec,
    Pubrel,
    Pubcomp,
    Subscribe,
    Suback,
    Unsubscribe,
    Unsuback,
    Pingreq,
    Pingresp,
    Disconnect,
    Auth,
}

impl PacketType {
    /// Type from the high nibble of a first byte (0 and 15-in-3.1.1 map to their own values).
    pub fn from_nibble(n: u8) -> PacketType {
        use PacketType::*;
        match n & 0x0f {
            1 => Connect,
            2 => Connack,
            3 => Publish,
            4 => Puback,
            5 => Pubrec,
            6 => Pubrel,
            7 => Pubcomp,
            8 => Subscribe,
            9 => Suback,
            10 => Unsubscribe,
            11 => Unsuback,
            12 => Pingreq,
            13 => Pingresp,
            14 => Disconnect,
            15 => Auth,
            _ => Reserved,
        }
    }

    /// The type's nibble value (0..=15).
    pub fn nibble(self) -> u8 {
        self as u8
    }

    /// Fixed-header flags the spec requires for this type, or None for PUBLISH
    /// (whose flags carry DUP/QoS/RETAIN).
    pub fn required_flags(self) -> Option<u8> {
        use PacketType::*;
        match self {
            Publish => None,
            Pubrel | Subscribe | Unsubscribe => Some(0b0010),
            _ => Some(0),
        }
    }

    /// Upper-case name as used in the spec ("SUBACK").
    pub fn name(self) -> &'static str {
        use PacketType::*;
        match self {
            Reserved => "RESERVED",
            Connect => "CONNECT",
            Connack => "CONNACK",
            Publish => "PUBLISH",
            Puback => "PUBACK",
            Pubrec => "PUBREC",
            Pubrel => "PUBREL",
            Pubcomp => "PUBCOMP",
            Subscribe => "SUBSCRIBE",
            Suback => "SUBACK",
            Unsubscribe => "UNSUBSCRIBE",
            Unsuback => "UNSUBACK",
            Pingreq => "PINGREQ",
            Pingresp => "PINGRESP",
            Disconnect => "DISCONNECT",
            Auth => "AUTH",
        }
    }

    /// Parse a name case-insensitively ("suback", "SUBACK").
    pub fn from_name(s: &str) -> Option<PacketType> {
        (0u8..16)
            .map(PacketType::from_nibble)
            .find(|t| t.name().eq_ignore_ascii_case(s))
    }
}

impl std::fmt::Display for PacketType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A decoded or to-be-encoded packet.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "UPPERCASE")]
pub enum Packet {
    /// Boxed: a CONNECT is more than twice the size of any other packet,
    /// and every packet is moved from the decoder into its event.
    Connect(Box<Connect>),
    Connack(Connack),
    Publish(Publish),
    Puback(Ack),
    Pubrec(Ack),
    Pubrel(Ack),
    Pubcomp(Ack),
    Subscribe(Subscribe),
    Suback(Suback),
    Unsubscribe(Unsubscribe),
    Unsuback(Unsuback),
    Pingreq,
    Pingresp,
    Disconnect(Disconnect),
    Auth(Auth),
    /// A packet of the reserved type 0 (or a type the version does not define);
    /// the body is kept as is.
    Reserved(Unknown),
}

impl Packet {
    /// The packet's type.
    pub fn packet_type(&self) -> PacketType {
        use PacketType as T;
        match self {
            Packet::Connect(_) => T::Connect,
            Packet::Connack(_) => T::Connack,
            Packet::Publish(_) => T::Publish,
            Packet::Puback(_) => T::Puback,
            Packet::Pubrec(_) => T::Pubrec,
            Packet::Pubrel(_) => T::Pubrel,
            Packet::Pubcomp(_) => T::Pubcomp,
            Packet::Subscribe(_) => T::Subscribe,
            Packet::Suback(_) => T::Suback,
            Packet::Unsubscribe(_) => T::Unsubscribe,
            Packet::Unsuback(_) => T::Unsuback,
            Packet::Pingreq => T::Pingreq,
            Packet::Pingresp => T::Pingresp,
            Packet::Disconnect(_) => T::Disconnect,
            Packet::Auth(_) => T::Auth,
            Packet::Reserved(u) => PacketType::from_nibble(u.first_byte >> 4),
        }
    }

    /// The packet identifier, for the types that carry one (PUBLISH only when QoS > 0).
    pub fn packet_id(&self) -> Option<u16> {
        match self {
            Packet::Publish(p) => p.packet_id,
            Packet::Puback(a) | Packet::Pubrec(a) | Packet::Pubrel(a) | Packet::Pubcomp(a) => {
                Some(a.packet_id)
            }
            Packet::Subscribe(s) => Some(s.packet_id),
            Packet::Suback(s) => Some(s.packet_id),
            Packet::Unsubscribe(u) => Some(u.packet_id),
            Packet::Unsuback(u) => Some(u.packet_id),
            _ => None,
        }
    }
}

/// CONNECT. `flags` is the raw connect-flags byte; the named booleans are
/// derived from it by the decoder. The encoder writes `computed_flags()` OR'ed
/// with `flags`, so `flags = 0x01` sets the reserved bit on purpose and a
/// decoded CONNECT re-encodes to the byte it carried.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Connect {
    pub protocol_name: Text,
    pub protocol_level: u8,
    /// Raw connect flags byte as decoded (or as encoded when overridden).
    pub flags: u8,
    pub clean_session: bool,
    pub keep_alive: u16,
    pub properties: Properties,
    pub client_id: Text,
    pub will: Option<Will>,
    pub username: Option<Text>,
    #[serde(serialize_with = "super::text::ser_bytes_opt")]
    pub password: Option<Bytes>,
}

impl Default for Connect {
    fn default() -> Self {
        Connect {
            protocol_name: Text::from("MQTT"),
            protocol_level: 4,
            flags: 0,
            clean_session: true,
            keep_alive: 60,
            properties: Properties::default(),
            client_id: Text::from(""),
            will: None,
            username: None,
            password: None,
        }
    }
}

impl Connect {
    /// A copy whose byte fields have buffers of their own (see
    /// [`Text::detached`]): a session keeps its CONNECT for the whole
    /// connection.
    pub fn detached(&self) -> Connect {
        Connect {
            protocol_name: self.protocol_name.detached(),
            protocol_level: self.protocol_level,
            flags: self.flags,
            clean_session: self.clean_session,
            keep_alive: self.keep_alive,
            properties: self.properties.detached(),
            client_id: self.client_id.detached(),
            will: self.will.as_ref().map(|w| Will {
                properties: w.properties.detached(),
                topic: w.topic.detached(),
                payload: Bytes::copy_from_slice(&w.payload),
                qos: w.qos,
                retain: w.retain,
            }),
            username: self.username.as_ref().map(Text::detached),
            password: self.password.as_deref().map(Bytes::copy_from_slice),
        }
    }

    /// Connect flags computed from the named fields (bit 0, reserved, is 0).
    pub fn computed_flags(&self) -> u8 {
        let mut f = 0u8;
        if self.clean_session {
            f |= 0x02;
        }
        if let Some(w) = &self.will {
            f |= 0x04 | ((w.qos & 0x03) << 3);
            if w.retain {
                f |= 0x20;
            }
        }
        if self.password.is_some() {
            f |= 0x40;
        }
        if self.username.is_some() {
            f |= 0x80;
        }
        f
    }
}

/// The Will carried by CONNECT.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Will {
    pub properties: Properties,
    pub topic: Text,
    #[serde(serialize_with = "super::text::ser_bytes")]
    pub payload: Bytes,
    pub qos: u8,
    pub retain: bool,
}

/// CONNACK. `flags` is the acknowledge-flags byte (bit 0 = session present).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Connack {
    pub flags: u8,
    /// Return code (3.1.1) or reason code (5.0).
    pub code: u8,
    pub properties: Properties,
}

impl Connack {
    /// Session Present bit.
    pub fn session_present(&self) -> bool {
        self.flags & 1 == 1
    }
}

/// PUBLISH. `qos` may be 3 (the wire allows the bits).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Publish {
    pub dup: bool,
    pub qos: u8,
    pub retain: bool,
    pub topic: Text,
    pub packet_id: Option<u16>,
    pub properties: Properties,
    #[serde(serialize_with = "super::text::ser_bytes")]
    pub payload: Bytes,
}

/// PUBACK, PUBREC, PUBREL, PUBCOMP. `reason_code` and `properties` only in 5.0
/// (absent reason code means 0x00 Success).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Ack {
    pub packet_id: u16,
    pub reason_code: Option<u8>,
    pub properties: Properties,
}

impl Ack {
    /// A plain acknowledgement of `packet_id` (success, no properties).
    pub fn new(packet_id: u16) -> Ack {
        Ack {
            packet_id,
            ..Ack::default()
        }
    }
}

/// One SUBSCRIBE entry: a filter and its options byte (QoS in bits 0-1; 5.0
/// adds No Local, Retain As Published, Retain Handling; bits 6-7 reserved).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Subscription {
    pub filter: Text,
    pub options: u8,
}

impl Subscription {
    /// Requested maximum QoS (bits 0-1, may be 3).
    pub fn qos(&self) -> u8 {
        self.options & 0x03
    }
}

/// SUBSCRIBE.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Subscribe {
    pub packet_id: u16,
    pub properties: Properties,
    pub filters: Vec<Subscription>,
}

impl Subscribe {
    /// A SUBSCRIBE of `filters` (filter, options byte), no properties.
    pub fn new(packet_id: u16, filters: &[(&str, u8)]) -> Subscribe {
        Subscribe {
            packet_id,
            properties: Properties::default(),
            filters: filters
                .iter()
                .map(|(f, options)| Subscription {
                    filter: Text::from(*f),
                    options: *options,
                })
                .collect(),
        }
    }
}

/// SUBACK: one return (3.1.1) or reason (5.0) code per filter.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Suback {
    pub packet_id: u16,
    pub properties: Properties,
    pub codes: Vec<u8>,
}

/// UNSUBSCRIBE.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Unsubscribe {
    pub packet_id: u16,
    pub properties: Properties,
    pub filters: Vec<Text>,
}

/// UNSUBACK: reason codes only in 5.0 (empty in 3.1.1).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Unsuback {
    pub packet_id: u16,
    pub properties: Properties,
    pub codes: Vec<u8>,
}

/// DISCONNECT (reason code and properties only in 5.0).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Disconnect {
    pub reason_code: Option<u8>,
    pub properties: Properties,
}

/// AUTH (5.0 only).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Auth {
    pub reason_code: Option<u8>,
    pub properties: Properties,
}

/// A packet whose type the decoder cannot interpret; body kept verbatim.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Unknown {
    pub first_byte: u8,
    #[serde(serialize_with = "super::text::ser_bytes")]
    pub body: Bytes,
}
