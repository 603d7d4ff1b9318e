//! Snapshots of decoded packets as they appear in reports (JSON) and in
//! debug output.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use mqttspec::codec::text::parse_hex;
use mqttspec::codec::*;

fn decoded(hex: &str, version: Version) -> Decoded {
    decode(Bytes::from(parse_hex(hex).unwrap()), version)
}

fn v5_connect_with_will() -> Packet {
    let prop = |id, value| Property { id, value };
    Packet::Connect(Box::new(Connect {
        protocol_level: 5,
        keep_alive: 30,
        properties: Properties(vec![
            prop(0x11, Value::U32(3600)),
            prop(0x21, Value::U16(20)),
            prop(0x26, Value::Pair(Text::from("site"), Text::from("lab"))),
        ]),
        client_id: Text::from("dev-1"),
        will: Some(Will {
            properties: Properties(vec![
                prop(0x18, Value::U32(10)),
                prop(0x01, Value::Byte(1)),
                prop(0x09, Value::Binary(Bytes::from_static(&[0, 1, 2]))),
            ]),
            topic: Text::from("dev/1/status"),
            payload: Bytes::from_static(b"offline"),
            qos: 1,
            retain: true,
        }),
        username: Some(Text::from("user")),
        password: Some(Bytes::from_static(b"secret")),
        ..Connect::default()
    }))
}

#[test]
fn v5_connect_with_will_and_properties() {
    let bytes = encode(&v5_connect_with_will(), Version::V5);
    let d = decode(Bytes::from(bytes), Version::V5);
    assert!(d.is_clean());
    insta::assert_json_snapshot!(d);
}

#[test]
fn malformed_v5_publish() {
    // QoS 3, zero packet id, duplicate topic alias, invalid UTF-8 in content type.
    let d = decoded(
        "36 15 00 03 61 2f 62 00 00 0b 23 00 01 23 00 02 03 00 02 c3 28 68 69",
        Version::V5,
    );
    insta::assert_json_snapshot!(d);
}

#[test]
fn v5_subscribe_debug() {
    let d = decoded(
        "82 12 00 0a 02 0b 05 00 03 61 2f 62 2e 00 04 24 73 2f 23 c0",
        Version::V5,
    );
    insta::assert_debug_snapshot!(d);
}
