//! Malformed packets: each vector must yield exactly the expected violation
//! (kind and byte offset inside the packet).
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use mqttspec::codec::text::parse_hex;
use mqttspec::codec::*;
use rstest::rstest;

use ViolationKind as K;

const V3: Version = Version::V311;
const V5: Version = Version::V5;

#[rstest]
#[case::empty("", V3, K::Truncated { field: "fixed header" }, 0)]
#[case::type_0("00 00", V3, K::ReservedPacketType, 0)]
#[case::type_15_in_311("f0 00", V3, K::ReservedPacketType, 0)]
#[case::pingreq_flags("c1 00", V3, K::ReservedFlags { expected: 0, actual: 1 }, 0)]
#[case::pubrel_flags("60 02 00 01", V3, K::ReservedFlags { expected: 2, actual: 0 }, 0)]
#[case::subscribe_flags("80 08 00 01 00 03 61 2f 62 01", V3, K::ReservedFlags { expected: 2, actual: 0 }, 0)]
#[case::publish_qos3("36 07 00 03 61 2f 62 00 01", V3, K::Qos3, 0)]
#[case::non_minimal_length("c0 80 00", V3, K::NonMinimalLength, 1)]
#[case::length_too_long("c0 80 80 80 80 00", V3, K::InvalidVarInt, 1)]
#[case::length_cut("c0 80", V3, K::Truncated { field: "remaining length" }, 2)]
#[case::ping_trailing("c0 01 00", V3, K::TrailingBytes { count: 1 }, 2)]
#[case::raw_past_length("c0 00 ff ff", V3, K::TrailingBytes { count: 2 }, 2)]
#[case::puback_trailing_311("40 03 00 01 00", V3, K::TrailingBytes { count: 1 }, 4)]
#[case::unsuback_codes_311("b0 03 00 01 00", V3, K::TrailingBytes { count: 1 }, 4)]
#[case::puback_cut("40 01 00", V3, K::Truncated { field: "packet identifier" }, 2)]
#[case::puback_short_raw("40 02 00", V3, K::Truncated { field: "packet identifier" }, 2)]
#[case::publish_short_payload("30 0a 00 03 61 2f 62", V3, K::Truncated { field: "body" }, 7)]
#[case::topic_cut("30 04 00 05 61 2f", V3, K::Truncated { field: "topic name" }, 2)]
#[case::topic_bad_utf8("30 04 00 02 c3 28", V3, K::InvalidUtf8 { field: "topic name" }, 4)]
#[case::topic_surrogate("30 06 00 04 61 ed a0 80", V3, K::InvalidUtf8 { field: "topic name" }, 5)]
#[case::topic_overlong("30 04 00 02 c0 af", V3, K::InvalidUtf8 { field: "topic name" }, 4)]
#[case::topic_null("30 05 00 03 61 00 62", V3, K::NullCharacter { field: "topic name" }, 5)]
#[case::publish_zero_id("32 07 00 03 61 2f 62 00 00", V3, K::ZeroPacketId, 7)]
#[case::puback_zero_id("40 02 00 00", V3, K::ZeroPacketId, 2)]
#[case::pubrel_zero_id_v5("62 02 00 00", V5, K::ZeroPacketId, 2)]
#[case::suback_zero_id("90 03 00 00 00", V3, K::ZeroPacketId, 2)]
#[case::unsuback_zero_id("b0 02 00 00", V3, K::ZeroPacketId, 2)]
#[case::subscribe_zero_id("82 08 00 00 00 03 61 2f 62 01", V3, K::ZeroPacketId, 2)]
#[case::unsubscribe_zero_id("a2 07 00 00 00 03 61 2f 62", V3, K::ZeroPacketId, 2)]
#[case::protocol_name(
    "10 0c 00 04 4d 51 54 58 04 02 00 3c 00 00",
    V3,
    K::UnknownProtocolName,
    2
)]
#[case::connect_reserved(
    "10 0c 00 04 4d 51 54 54 04 03 00 3c 00 00",
    V3,
    K::ConnectReservedFlag,
    9
)]
#[case::will_qos3(
    "10 10 00 04 4d 51 54 54 04 1e 00 3c 00 00 00 00 00 00",
    V3,
    K::InvalidWillFlags,
    9
)]
#[case::will_retain_no_will(
    "10 0c 00 04 4d 51 54 54 04 22 00 3c 00 00",
    V3,
    K::InvalidWillFlags,
    9
)]
#[case::will_qos_no_will(
    "10 0c 00 04 4d 51 54 54 04 0a 00 3c 00 00",
    V3,
    K::InvalidWillFlags,
    9
)]
#[case::password_no_user(
    "10 0e 00 04 4d 51 54 54 04 42 00 3c 00 00 00 00",
    V3,
    K::PasswordWithoutUsername,
    9
)]
#[case::client_id_null("10 0d 00 04 4d 51 54 54 04 02 00 3c 00 01 00", V3, K::NullCharacter { field: "client identifier" }, 14)]
#[case::will_topic_utf8("10 11 00 04 4d 51 54 54 04 06 00 3c 00 00 00 01 c0 00 00", V3, K::InvalidUtf8 { field: "will topic" }, 16)]
#[case::username_null("10 0f 00 04 4d 51 54 54 04 82 00 3c 00 00 00 01 00", V3, K::NullCharacter { field: "user name" }, 16)]
#[case::password_cut("10 0e 00 04 4d 51 54 54 04 c2 00 3c 00 00 00 00", V3, K::Truncated { field: "password" }, 16)]
#[case::connect_trailing("10 0d 00 04 4d 51 54 54 04 02 00 3c 00 00 ff", V3, K::TrailingBytes { count: 1 }, 14)]
#[case::subscribe_no_filter("82 02 00 01", V3, K::NoTopicFilter, 4)]
#[case::unsubscribe_no_filter("a2 02 00 01", V3, K::NoTopicFilter, 4)]
#[case::subscribe_no_filter_v5("82 03 00 01 00", V5, K::NoTopicFilter, 5)]
#[case::subscribe_filter_null("82 08 00 01 00 03 61 00 62 01", V3, K::NullCharacter { field: "topic filter" }, 7)]
#[case::unsubscribe_filter_utf8("a2 06 00 01 00 02 c3 28", V3, K::InvalidUtf8 { field: "topic filter" }, 6)]
#[case::sub_options_311("82 08 00 01 00 03 61 2f 62 04", V3, K::InvalidSubscriptionOptions { options: 4 }, 9)]
#[case::sub_qos3("82 08 00 01 00 03 61 2f 62 03", V3, K::InvalidSubscriptionOptions { options: 3 }, 9)]
#[case::sub_options_v5_reserved("82 09 00 01 00 00 03 61 2f 62 c0", V5, K::InvalidSubscriptionOptions { options: 0xc0 }, 10)]
#[case::sub_retain_handling_3("82 09 00 01 00 00 03 61 2f 62 30", V5, K::InvalidSubscriptionOptions { options: 0x30 }, 10)]
#[case::sub_options_cut("82 07 00 01 00 03 61 2f 62", V3, K::Truncated { field: "subscription options" }, 9)]
#[case::connack_flags("20 02 02 00", V3, K::ConnackReservedFlags, 2)]
#[case::connack_v5_no_props("20 02 00 00", V5, K::Truncated { field: "property length" }, 4)]
#[case::prop_not_allowed("30 0b 00 03 61 2f 62 05 11 00 00 00 0a", V5, K::InvalidProperty { id: 0x11 }, 8)]
#[case::prop_unknown("30 07 00 03 61 2f 62 01 7f", V5, K::InvalidProperty { id: 0x7f }, 8)]
#[case::prop_duplicate("30 0c 00 03 61 2f 62 06 23 00 01 23 00 02", V5, K::DuplicateProperty { id: 0x23 }, 11)]
#[case::sub_id_twice_in_subscribe(
    "82 0d 00 01 04 0b 01 0b 02 00 03 61 2f 62 00",
    V5,
    K::DuplicateProperty { id: 0x0b },
    7
)]
#[case::prop_str_utf8("30 0b 00 03 61 2f 62 05 03 00 02 c3 28", V5, K::InvalidUtf8 { field: "Content Type" }, 11)]
#[case::user_prop_null("30 0d 00 03 61 2f 62 07 26 00 01 00 00 01 61", V5, K::NullCharacter { field: "User Property" }, 11)]
#[case::user_prop_value_utf8("30 0d 00 03 61 2f 62 07 26 00 01 61 00 01 ff", V5, K::InvalidUtf8 { field: "User Property" }, 14)]
#[case::prop_value_cut("30 09 00 03 61 2f 62 03 02 00 00", V5, K::Truncated { field: "Message Expiry Interval" }, 9)]
#[case::prop_length_past_end("30 07 00 03 61 2f 62 09 01", V5, K::Truncated { field: "properties" }, 8)]
#[case::prop_length_varint("30 0a 00 03 61 2f 62 ff ff ff ff 7f", V5, K::InvalidVarInt, 7)]
#[case::reason_string_in_connect(
    "10 11 00 04 4d 51 54 54 05 02 00 3c 04 1f 00 01 78 00 00",
    V3,
    K::InvalidProperty { id: 0x1f },
    13
)]
#[case::will_delay_in_connect(
    "10 12 00 04 4d 51 54 54 05 02 00 3c 05 18 00 00 00 01 00 00",
    V5,
    K::InvalidProperty { id: 0x18 },
    13
)]
#[case::disconnect_311_code("e0 01 00", V3, K::TrailingBytes { count: 1 }, 2)]
#[case::auth_bad_prop("f0 04 00 02 01 00", V5, K::InvalidProperty { id: 0x01 }, 4)]
fn malformed(
    #[case] hex: &str,
    #[case] version: Version,
    #[case] kind: ViolationKind,
    #[case] offset: usize,
) {
    let bytes = parse_hex(hex).unwrap();
    let d = decode(Bytes::from(bytes.clone()), version);
    assert_eq!(
        d.violations,
        vec![Violation { offset, kind }],
        "{hex} → {:?}",
        d.packet
    );
    assert_eq!(d.raw.as_ref(), bytes.as_slice());
}

#[test]
fn reserved_type_keeps_body() {
    let d = decode(Bytes::from_static(&[0xf3, 0x02, 0xab, 0xcd]), V3);
    assert_eq!(
        d.packet,
        Packet::Reserved(Unknown {
            first_byte: 0xf3,
            body: Bytes::from_static(&[0xab, 0xcd])
        })
    );
    // Type 15 in 5.0 is AUTH.
    let d = decode(Bytes::from_static(&[0xf0, 0x00]), V5);
    assert_eq!(d.packet, Packet::Auth(Auth::default()));
    assert!(d.is_clean());
}

#[test]
fn several_violations_in_offset_order() {
    // Reserved bit, will QoS 3 without will flag, null in client id.
    let bytes = parse_hex("10 0d 00 04 4d 51 54 54 04 19 00 3c 00 01 00").unwrap();
    let d = decode(Bytes::from(bytes), V3);
    let got: Vec<_> = d
        .violations
        .iter()
        .map(|v| (v.offset, v.kind.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (9, K::ConnectReservedFlag),
            (9, K::InvalidWillFlags),
            (
                14,
                K::NullCharacter {
                    field: "client identifier"
                }
            ),
        ]
    );
}

#[test]
fn truncated_packet_keeps_what_was_read() {
    let bytes = parse_hex("10 0c 00 04 4d 51 54 54 04 02 00").unwrap();
    let d = decode(Bytes::from(bytes), V3);
    let Packet::Connect(c) = &d.packet else {
        panic!("not a CONNECT")
    };
    assert_eq!(
        (c.protocol_name.as_str(), c.protocol_level, c.flags),
        (Some("MQTT"), 4, 2)
    );
    assert_eq!(
        d.violations,
        vec![Violation {
            offset: 10,
            kind: K::Truncated {
                field: "keep alive"
            }
        }]
    );
}

#[test]
fn protocol_name_invalid_utf8_is_also_unknown() {
    let bytes = parse_hex("10 0c 00 04 4d 51 54 ff 04 02 00 3c 00 00").unwrap();
    let d = decode(Bytes::from(bytes), V3);
    assert_eq!(
        d.violations,
        vec![
            Violation {
                offset: 2,
                kind: K::UnknownProtocolName
            },
            Violation {
                offset: 7,
                kind: K::InvalidUtf8 {
                    field: "protocol name"
                }
            },
        ]
    );
}
