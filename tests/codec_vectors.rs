//! Known-good byte vectors for every packet type in 3.1.1 and 5.0: each one
//! decodes cleanly to the expected packet and re-encodes to the same bytes.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use mqttspec::codec::text::parse_hex;
use mqttspec::codec::*;
use rstest::rstest;

fn connect(level: u8) -> Packet {
    Packet::Connect(Box::new(Connect {
        protocol_level: level,
        flags: 0x02,
        ..Connect::default()
    }))
}

fn publish(qos: u8, id: Option<u16>, props: Vec<Property>) -> Packet {
    Packet::Publish(Publish {
        qos,
        topic: Text::from("a/b"),
        packet_id: id,
        properties: Properties(props),
        payload: Bytes::from_static(b"hi"),
        ..Publish::default()
    })
}

fn ack(code: Option<u8>, props: Vec<Property>) -> Ack {
    Ack {
        packet_id: 1,
        reason_code: code,
        properties: Properties(props),
    }
}

fn sub(options: u8) -> Packet {
    Packet::Subscribe(Subscribe {
        packet_id: 1,
        properties: Properties::default(),
        filters: vec![Subscription {
            filter: Text::from("a/b"),
            options,
        }],
    })
}

fn unsub() -> Packet {
    Packet::Unsubscribe(Unsubscribe {
        packet_id: 1,
        properties: Properties::default(),
        filters: vec![Text::from("a/b")],
    })
}

fn prop(id: u8, value: Value) -> Property {
    Property { id, value }
}

#[rstest]
// MQTT 3.1.1
#[case::connect("10 0c 00 04 4d 51 54 54 04 02 00 3c 00 00", Version::V311, connect(4))]
#[case::connect_31(
    "10 0e 00 06 4d 51 49 73 64 70 03 02 00 3c 00 00",
    Version::V31,
    Packet::Connect(Box::new(Connect { protocol_name: Text::from("MQIsdp"), protocol_level: 3, flags: 2, ..Connect::default() }))
)]
#[case::connack("20 02 01 00", Version::V311, Packet::Connack(Connack { flags: 1, code: 0, ..Connack::default() }))]
#[case::publish_qos0("30 07 00 03 61 2f 62 68 69", Version::V311, publish(0, None, vec![]))]
#[case::publish_qos1("32 09 00 03 61 2f 62 00 01 68 69", Version::V311, publish(1, Some(1), vec![]))]
#[case::puback("40 02 00 01", Version::V311, Packet::Puback(ack(None, vec![])))]
#[case::pubrec("50 02 00 01", Version::V311, Packet::Pubrec(ack(None, vec![])))]
#[case::pubrel("62 02 00 01", Version::V311, Packet::Pubrel(ack(None, vec![])))]
#[case::pubcomp("70 02 00 01", Version::V311, Packet::Pubcomp(ack(None, vec![])))]
#[case::subscribe("82 08 00 01 00 03 61 2f 62 01", Version::V311, sub(1))]
#[case::suback("90 03 00 01 80", Version::V311, Packet::Suback(Suback { packet_id: 1, codes: vec![0x80], ..Suback::default() }))]
#[case::unsubscribe("a2 07 00 01 00 03 61 2f 62", Version::V311, unsub())]
#[case::unsuback("b0 02 00 01", Version::V311, Packet::Unsuback(Unsuback { packet_id: 1, ..Unsuback::default() }))]
#[case::pingreq("c0 00", Version::V311, Packet::Pingreq)]
#[case::pingresp("d0 00", Version::V311, Packet::Pingresp)]
#[case::disconnect("e0 00", Version::V311, Packet::Disconnect(Disconnect::default()))]
// MQTT 5.0
#[case::connect_v5(
    "10 0d 00 04 4d 51 54 54 05 02 00 3c 00 00 00",
    Version::V5,
    connect(5)
)]
#[case::connack_v5(
    "20 06 00 00 03 21 00 0a",
    Version::V5,
    Packet::Connack(Connack { flags: 0, code: 0, properties: Properties(vec![prop(0x21, Value::U16(10))]) })
)]
#[case::publish_v5("32 0a 00 03 61 2f 62 00 01 00 68 69", Version::V5, publish(1, Some(1), vec![]))]
#[case::publish_v5_alias(
    "30 0b 00 03 61 2f 62 03 23 00 05 68 69",
    Version::V5,
    publish(0, None, vec![prop(0x23, Value::U16(5))])
)]
#[case::puback_v5_short("40 02 00 01", Version::V5, Packet::Puback(ack(None, vec![])))]
#[case::puback_v5_code("40 03 00 01 10", Version::V5, Packet::Puback(ack(Some(0x10), vec![])))]
#[case::pubrec_v5_props(
    "50 08 00 01 80 04 1f 00 01 78",
    Version::V5,
    Packet::Pubrec(ack(Some(0x80), vec![prop(0x1f, Value::Str(Text::from("x")))]))
)]
#[case::pubrel_v5("62 03 00 01 92", Version::V5, Packet::Pubrel(ack(Some(0x92), vec![])))]
#[case::pubcomp_v5("70 02 00 01", Version::V5, Packet::Pubcomp(ack(None, vec![])))]
#[case::subscribe_v5("82 09 00 01 00 00 03 61 2f 62 2e", Version::V5, sub(0x2e))]
#[case::suback_v5(
    "90 04 00 01 00 02",
    Version::V5,
    Packet::Suback(Suback { packet_id: 1, codes: vec![2], ..Suback::default() })
)]
#[case::unsubscribe_v5("a2 08 00 01 00 00 03 61 2f 62", Version::V5, unsub())]
#[case::unsuback_v5(
    "b0 04 00 01 00 11",
    Version::V5,
    Packet::Unsuback(Unsuback { packet_id: 1, codes: vec![0x11], ..Unsuback::default() })
)]
#[case::pingreq_v5("c0 00", Version::V5, Packet::Pingreq)]
#[case::disconnect_v5_empty("e0 00", Version::V5, Packet::Disconnect(Disconnect::default()))]
#[case::disconnect_v5_code(
    "e0 01 8e",
    Version::V5,
    Packet::Disconnect(Disconnect { reason_code: Some(0x8e), ..Disconnect::default() })
)]
#[case::disconnect_v5_props(
    "e0 07 00 05 11 00 00 00 00",
    Version::V5,
    Packet::Disconnect(Disconnect { reason_code: Some(0), properties: Properties(vec![prop(0x11, Value::U32(0))]) })
)]
#[case::auth_v5(
    "f0 08 18 06 15 00 03 61 62 63",
    Version::V5,
    Packet::Auth(Auth { reason_code: Some(0x18), properties: Properties(vec![prop(0x15, Value::Str(Text::from("abc")))]) })
)]
fn vector(#[case] hex: &str, #[case] version: Version, #[case] packet: Packet) {
    let bytes = parse_hex(hex).unwrap();
    let d = decode(Bytes::from(bytes.clone()), version);
    assert_eq!(d.violations, vec![], "violations for {hex}");
    assert_eq!(d.packet, packet);
    assert_eq!(d.raw.as_ref(), bytes.as_slice());
    assert_eq!(d.remaining_length as usize, bytes.len() - 2);
    assert_eq!(encode(&packet, version), bytes, "encoding of {packet:?}");
}

#[test]
fn connect_uses_its_own_protocol_level() {
    // Level 5 CONNECT decoded on a connection assumed to be 3.1.1: properties are read.
    let bytes = parse_hex("10 10 00 04 4d 51 54 54 05 02 00 3c 03 21 00 05 00 00").unwrap();
    let d = decode(Bytes::from(bytes), Version::V311);
    assert!(d.is_clean(), "{:?}", d.violations);
    let Packet::Connect(c) = d.packet else {
        panic!("not a CONNECT")
    };
    assert_eq!(c.properties.get(0x21), Some(&Value::U16(5)));
    // And a level 4 CONNECT on a 5.0 connection has none.
    let bytes = parse_hex("10 0c 00 04 4d 51 54 54 04 02 00 3c 00 00").unwrap();
    assert!(decode(Bytes::from(bytes), Version::V5).is_clean());
}

#[test]
fn connect_flags_are_raw_and_booleans_derived() {
    // will (QoS 1, retain), user name and password, clean session off.
    let bytes = parse_hex(
        "10 1a 00 04 4d 51 54 54 04 ec 00 0a 00 01 63 00 01 74 00 01 6d 00 01 75 00 02 70 77",
    )
    .unwrap();
    let d = decode(Bytes::from(bytes.clone()), Version::V311);
    assert!(d.is_clean(), "{:?}", d.violations);
    let Packet::Connect(c) = &d.packet else {
        panic!("not a CONNECT")
    };
    assert_eq!(c.flags, 0xec);
    assert!(!c.clean_session);
    let will = c.will.as_ref().unwrap();
    assert_eq!((will.qos, will.retain), (1, true));
    assert_eq!(will.topic, Text::from("t"));
    assert_eq!(will.payload.as_ref(), b"m");
    assert_eq!(c.username, Some(Text::from("u")));
    assert_eq!(c.password.as_deref(), Some(&b"pw"[..]));
    assert_eq!(c.computed_flags(), 0xec);
    assert_eq!(encode(&d.packet, Version::V311), bytes);
}
