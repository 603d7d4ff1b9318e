//! Encoded MQTT packets for the sample captures (3.1.1 unless in [`v5`]).

use bytes::Bytes;
use mqttspec::codec::{
    encode, Ack, Connack, Connect, Disconnect, Packet, Properties, Property, Publish, Suback,
    Subscribe, Subscription, Text, Value, Version,
};

const V: Version = Version::V311;

pub fn connect(client_id: &str) -> Vec<u8> {
    encode(
        &Packet::Connect(Box::new(Connect {
            client_id: Text::from(client_id),
            keep_alive: 30,
            ..Connect::default()
        })),
        V,
    )
}

pub fn connack() -> Vec<u8> {
    encode(&Packet::Connack(Connack::default()), V)
}

pub fn publish(
    topic: &str,
    payload: &[u8],
    qos: u8,
    packet_id: Option<u16>,
    retain: bool,
    dup: bool,
) -> Vec<u8> {
    encode(
        &Packet::Publish(Publish {
            dup,
            qos,
            retain,
            topic: Text::from(topic),
            packet_id,
            properties: Properties::default(),
            payload: Bytes::copy_from_slice(payload),
        }),
        V,
    )
}

pub fn puback(id: u16) -> Vec<u8> {
    encode(&Packet::Puback(Ack::new(id)), V)
}

pub fn pubrec(id: u16) -> Vec<u8> {
    encode(&Packet::Pubrec(Ack::new(id)), V)
}

pub fn pubrel(id: u16) -> Vec<u8> {
    encode(&Packet::Pubrel(Ack::new(id)), V)
}

pub fn pubcomp(id: u16) -> Vec<u8> {
    encode(&Packet::Pubcomp(Ack::new(id)), V)
}

pub fn subscribe(packet_id: u16, filters: &[(&str, u8)]) -> Vec<u8> {
    encode(&Packet::Subscribe(Subscribe::new(packet_id, filters)), V)
}

pub fn suback(packet_id: u16, codes: &[u8]) -> Vec<u8> {
    encode(
        &Packet::Suback(Suback {
            packet_id,
            properties: Properties::default(),
            codes: codes.to_vec(),
        }),
        V,
    )
}

pub fn pingreq() -> Vec<u8> {
    encode(&Packet::Pingreq, V)
}

pub fn pingresp() -> Vec<u8> {
    encode(&Packet::Pingresp, V)
}

pub fn disconnect_packet() -> Vec<u8> {
    encode(&Packet::Disconnect(Disconnect::default()), V)
}

/// MQTT 5.0 packets with properties.
pub mod v5 {
    use super::*;

    const V: Version = Version::V5;

    fn prop(id: u8, value: Value) -> Property {
        Property { id, value }
    }

    fn text(s: &str) -> Value {
        Value::Str(Text::from(s))
    }

    fn user(k: &str, v: &str) -> Property {
        prop(0x26, Value::Pair(Text::from(k), Text::from(v)))
    }

    pub fn connect(client_id: &str) -> Vec<u8> {
        encode(
            &Packet::Connect(Box::new(Connect {
                protocol_level: 5,
                client_id: Text::from(client_id),
                keep_alive: 30,
                properties: Properties(vec![
                    prop(0x11, Value::U32(300)), // Session Expiry Interval
                    prop(0x21, Value::U16(10)),  // Receive Maximum
                    prop(0x22, Value::U16(5)),   // Topic Alias Maximum
                    user("site", "lab"),
                ]),
                ..Connect::default()
            })),
            V,
        )
    }

    pub fn connack() -> Vec<u8> {
        encode(
            &Packet::Connack(Connack {
                flags: 0,
                code: 0,
                properties: Properties(vec![
                    prop(0x21, Value::U16(20)),  // Receive Maximum
                    prop(0x22, Value::U16(10)),  // Topic Alias Maximum
                    prop(0x1F, text("welcome")), // Reason String
                ]),
            }),
            V,
        )
    }

    pub fn subscribe(packet_id: u16, filter: &str, qos: u8) -> Vec<u8> {
        encode(
            &Packet::Subscribe(Subscribe {
                packet_id,
                properties: Properties(vec![prop(0x0B, Value::VarInt(7))]), // Subscription Identifier
                filters: vec![Subscription {
                    filter: Text::from(filter),
                    options: qos | 0x10, // Retain Handling 1
                }],
            }),
            V,
        )
    }

    pub fn suback(packet_id: u16, code: u8) -> Vec<u8> {
        encode(
            &Packet::Suback(Suback {
                packet_id,
                properties: Properties::default(),
                codes: vec![code],
            }),
            V,
        )
    }

    /// A PUBLISH to the client carries a subscription identifier; one from
    /// the client (`sub_id` None) uses topic alias 1.
    pub fn publish(topic: &str, qos: u8, packet_id: Option<u16>, sub_id: Option<u32>) -> Vec<u8> {
        let mut props = vec![
            prop(0x01, Value::Byte(1)),           // Payload Format Indicator
            prop(0x02, Value::U32(60)),           // Message Expiry Interval
            prop(0x03, text("application/json")), // Content Type
            prop(0x08, text("p/reply")),          // Response Topic
            prop(0x09, Value::Binary(Bytes::from_static(b"c1"))), // Correlation Data
            user("trace", "abc"),
        ];
        match sub_id {
            Some(id) => props.push(prop(0x0B, Value::VarInt(id))), // Subscription Identifier
            None => props.push(prop(0x23, Value::U16(1))),         // Topic Alias
        }
        encode(
            &Packet::Publish(Publish {
                dup: false,
                qos,
                retain: false,
                topic: Text::from(topic),
                packet_id,
                properties: Properties(props),
                payload: Bytes::from_static(b"{\"t\":21.5}"),
            }),
            V,
        )
    }

    pub fn puback(packet_id: u16) -> Vec<u8> {
        encode(
            &Packet::Puback(Ack {
                packet_id,
                reason_code: Some(0),
                properties: Properties(vec![user("stored", "yes")]),
            }),
            V,
        )
    }

    pub fn disconnect() -> Vec<u8> {
        encode(
            &Packet::Disconnect(Disconnect {
                reason_code: Some(0),
                properties: Properties(vec![prop(0x11, Value::U32(0))]),
            }),
            V,
        )
    }
}
