//! The encoder writes exactly what the fields say (including values the spec
//! forbids) and applies `Overrides` for deliberately malformed bytes.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use mqttspec::codec::text::{hex, parse_hex};
use mqttspec::codec::*;
use rstest::rstest;

fn h(s: &str) -> Vec<u8> {
    parse_hex(s).unwrap()
}

fn publish(qos: u8, packet_id: Option<u16>) -> Packet {
    Packet::Publish(Publish {
        qos,
        topic: Text::from("t"),
        packet_id,
        ..Publish::default()
    })
}

#[test]
fn qos3_sets_both_bits() {
    assert_eq!(
        encode(&publish(3, Some(1)), Version::V311),
        h("36 05 00 01 74 00 01")
    );
}

#[test]
fn zero_packet_id_is_written() {
    assert_eq!(
        encode(&publish(1, Some(0)), Version::V311),
        h("32 05 00 01 74 00 00")
    );
    let ack = Packet::Puback(Ack {
        packet_id: 0,
        ..Ack::default()
    });
    assert_eq!(encode(&ack, Version::V5), h("40 02 00 00"));
}

#[test]
fn qos0_with_packet_id_writes_it() {
    assert_eq!(
        encode(&publish(0, Some(7)), Version::V311),
        h("30 05 00 01 74 00 07")
    );
}

#[test]
fn text_bytes_are_verbatim() {
    let p = Packet::Publish(Publish {
        topic: Text::from(vec![0xed, 0xa0, 0x80, 0x00]),
        ..Publish::default()
    });
    let bytes = encode(&p, Version::V311);
    assert_eq!(hex(&bytes), "30060004eda08000");
    let d = decode(Bytes::from(bytes), Version::V311);
    let kinds: Vec<_> = d
        .violations
        .iter()
        .map(|v| (v.offset, v.kind.clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (
                4,
                ViolationKind::InvalidUtf8 {
                    field: "topic name"
                }
            ),
            (
                7,
                ViolationKind::NullCharacter {
                    field: "topic name"
                }
            ),
        ]
    );
}

#[test]
fn connect_flags_or_raw_flags() {
    // flags = 1 sets the reserved bit on top of the computed clean-session bit.
    let c = Packet::Connect(Box::new(Connect {
        flags: 0x01,
        ..Connect::default()
    }));
    assert_eq!(
        encode(&c, Version::V311),
        h("10 0c 00 04 4d 51 54 54 04 03 00 3c 00 00")
    );
    // A will QoS without a will, through the raw flags.
    let c = Packet::Connect(Box::new(Connect {
        flags: 0x08,
        ..Connect::default()
    }));
    let d = decode(Bytes::from(encode(&c, Version::V311)), Version::V311);
    assert_eq!(
        d.violations,
        vec![Violation {
            offset: 9,
            kind: ViolationKind::InvalidWillFlags
        }]
    );
}

#[test]
fn v311_writes_present_reason_codes_but_no_properties() {
    let d = Packet::Disconnect(Disconnect {
        reason_code: Some(0x8e),
        properties: Properties(vec![Property {
            id: 0x1f,
            value: Value::Str(Text::from("x")),
        }]),
    });
    assert_eq!(encode(&d, Version::V311), h("e0 01 8e"));
    assert_eq!(encode(&d, Version::V5), h("e0 06 8e 04 1f 00 01 78"));
}

#[test]
fn wrong_value_type_is_written_as_given() {
    // Topic Alias (a two-byte integer) sent as a four-byte integer.
    let p = Packet::Publish(Publish {
        topic: Text::from("t"),
        properties: Properties(vec![Property {
            id: 0x23,
            value: Value::U32(1),
        }]),
        ..Publish::default()
    });
    assert_eq!(
        encode(&p, Version::V5),
        h("30 09 00 01 74 05 23 00 00 00 01")
    );
}

#[rstest]
#[case::flags(Overrides { flags: Some(0x0f), ..Overrides::default() }, "cf 00")]
#[case::type_nibble(Overrides { type_nibble: Some(0), ..Overrides::default() }, "00 00")]
#[case::remaining_length(Overrides { remaining_length: Some(5), ..Overrides::default() }, "c0 05")]
#[case::length_bytes_2(Overrides { length_bytes: Some(2), ..Overrides::default() }, "c0 80 00")]
#[case::length_bytes_5(Overrides { length_bytes: Some(5), ..Overrides::default() }, "c0 80 80 80 80 00")]
#[case::append(Overrides { append: vec![1, 2], ..Overrides::default() }, "c0 02 01 02")]
#[case::truncate_past_start(Overrides { truncate: Some(3), ..Overrides::default() }, "c0 00")]
fn pingreq_overrides(#[case] o: Overrides, #[case] want: &str) {
    assert_eq!(encode_with(&Packet::Pingreq, Version::V311, &o), h(want));
}

#[test]
fn truncate_then_append_with_large_padded_length() {
    let o = Overrides {
        truncate: Some(2),
        append: vec![0xff],
        length_bytes: Some(3),
        ..Overrides::default()
    };
    // PUBACK body 00 01 → dropped → ff; length 1 in three bytes.
    let ack = Packet::Puback(Ack {
        packet_id: 1,
        ..Ack::default()
    });
    assert_eq!(encode_with(&ack, Version::V311, &o), h("40 81 80 00 ff"));
    // A length that needs two bytes stays minimal-or-longer.
    let p = Packet::Publish(Publish {
        topic: Text::from("t"),
        payload: Bytes::from(vec![0u8; 200]),
        ..Publish::default()
    });
    let bytes = encode_with(
        &p,
        Version::V311,
        &Overrides {
            length_bytes: Some(1),
            ..Overrides::default()
        },
    );
    assert_eq!(&bytes[..3], &h("30 cb 01")[..]);
    let d = decode(Bytes::from(bytes), Version::V311);
    assert!(d.is_clean());
}

#[test]
fn override_results_decode_to_the_intended_violation() {
    let o = Overrides {
        length_bytes: Some(2),
        ..Overrides::default()
    };
    let d = decode(
        Bytes::from(encode_with(&Packet::Pingresp, Version::V5, &o)),
        Version::V5,
    );
    assert_eq!(
        d.violations,
        vec![Violation {
            offset: 1,
            kind: ViolationKind::NonMinimalLength
        }]
    );
    let o = Overrides {
        flags: Some(0),
        ..Overrides::default()
    };
    let rel = Packet::Pubrel(Ack {
        packet_id: 3,
        ..Ack::default()
    });
    let d = decode(
        Bytes::from(encode_with(&rel, Version::V311, &o)),
        Version::V311,
    );
    assert_eq!(
        d.violations,
        vec![Violation {
            offset: 0,
            kind: ViolationKind::ReservedFlags {
                expected: 2,
                actual: 0
            }
        }]
    );
}
