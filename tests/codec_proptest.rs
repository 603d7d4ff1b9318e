//! Property tests: generated valid packets of every type round-trip through
//! encode → decode for 3.1.1 and 5.0; the decoder never panics on arbitrary
//! bytes; the framer never panics and reassembles any split of a stream.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use mqttspec::codec::properties::{describe, Kind};
use mqttspec::codec::*;
use proptest::prelude::*;

fn text() -> impl Strategy<Value = Text> {
    "[a-z0-9/+#é€]{0,12}".prop_map(Text::from)
}

fn binary() -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..24).prop_map(Bytes::from)
}

fn value(kind: Kind) -> BoxedStrategy<Value> {
    match kind {
        Kind::Byte => any::<u8>().prop_map(Value::Byte).boxed(),
        Kind::U16 => any::<u16>().prop_map(Value::U16).boxed(),
        Kind::U32 => any::<u32>().prop_map(Value::U32).boxed(),
        Kind::VarInt => (0u32..=268_435_455).prop_map(Value::VarInt).boxed(),
        Kind::Str => text().prop_map(Value::Str).boxed(),
        Kind::Binary => binary().prop_map(Value::Binary).boxed(),
        Kind::Pair => (text(), text())
            .prop_map(|(k, v)| Value::Pair(k, v))
            .boxed(),
    }
}

/// Properties drawn from `ids` (those allowed in the packet); only the User
/// Property and `multi` may repeat.
fn props(ids: &'static [u8], multi: Option<u8>) -> BoxedStrategy<Properties> {
    prop::collection::vec(prop::sample::select(ids), 0..4)
        .prop_map(move |picked| {
            let mut out: Vec<u8> = Vec::new();
            for id in picked {
                if id == 0x26 || Some(id) == multi || !out.contains(&id) {
                    out.push(id);
                }
            }
            out
        })
        .prop_flat_map(|ids| {
            ids.into_iter()
                .map(|id| {
                    let (kind, _) = describe(id).unwrap();
                    value(kind).prop_map(move |value| Property { id, value })
                })
                .collect::<Vec<_>>()
        })
        .prop_map(Properties)
        .boxed()
}

const CONNECT_IDS: &[u8] = &[0x11, 0x15, 0x16, 0x17, 0x19, 0x21, 0x22, 0x27, 0x26];
const WILL_IDS: &[u8] = &[0x01, 0x02, 0x03, 0x08, 0x09, 0x18, 0x26];
const CONNACK_IDS: &[u8] = &[
    0x11, 0x12, 0x13, 0x15, 0x16, 0x1a, 0x1c, 0x1f, 0x21, 0x22, 0x24, 0x25, 0x27, 0x28, 0x29, 0x2a,
    0x26,
];
const PUBLISH_IDS: &[u8] = &[0x01, 0x02, 0x03, 0x08, 0x09, 0x0b, 0x23, 0x26];
const ACK_IDS: &[u8] = &[0x1f, 0x26];
const SUBSCRIBE_IDS: &[u8] = &[0x0b, 0x26];
const UNSUBSCRIBE_IDS: &[u8] = &[0x26];
const DISCONNECT_IDS: &[u8] = &[0x11, 0x1c, 0x1f, 0x26];
const AUTH_IDS: &[u8] = &[0x15, 0x16, 0x1f, 0x26];

/// Properties in 5.0, none before.
fn props_for(v5: bool, ids: &'static [u8], multi: Option<u8>) -> BoxedStrategy<Properties> {
    if v5 {
        props(ids, multi)
    } else {
        Just(Properties::default()).boxed()
    }
}

fn connect(v5: bool) -> impl Strategy<Value = Packet> {
    let will = (
        props_for(v5, WILL_IDS, None),
        text(),
        binary(),
        0u8..=2,
        any::<bool>(),
    )
        .prop_map(|(properties, topic, payload, qos, retain)| Will {
            properties,
            topic,
            payload,
            qos,
            retain,
        });
    (
        any::<bool>(),
        any::<u16>(),
        props_for(v5, CONNECT_IDS, None),
        text(),
        prop::option::of(will),
        prop::option::of(text()),
        prop::option::of(binary()),
    )
        .prop_map(
            move |(clean_session, keep_alive, properties, client_id, will, username, password)| {
                // 3.1.1 forbids a password without a user name.
                let password = if v5 || username.is_some() {
                    password
                } else {
                    None
                };
                let mut c = Connect {
                    protocol_name: Text::from("MQTT"),
                    protocol_level: if v5 { 5 } else { 4 },
                    flags: 0,
                    clean_session,
                    keep_alive,
                    properties,
                    client_id,
                    will,
                    username,
                    password,
                };
                c.flags = c.computed_flags();
                Packet::Connect(Box::new(c))
            },
        )
}

fn ack(v5: bool) -> impl Strategy<Value = Ack> {
    (
        1u16..,
        prop::option::of(any::<u8>()),
        props_for(v5, ACK_IDS, None),
    )
        .prop_map(move |(packet_id, code, properties)| {
            if !v5 {
                return Ack {
                    packet_id,
                    reason_code: None,
                    properties: Properties::default(),
                };
            }
            // Properties can only follow a reason code.
            let properties = if code.is_some() {
                properties
            } else {
                Properties::default()
            };
            Ack {
                packet_id,
                reason_code: code,
                properties,
            }
        })
}

fn reason(v5: bool, ids: &'static [u8]) -> impl Strategy<Value = (Option<u8>, Properties)> {
    (prop::option::of(any::<u8>()), props_for(v5, ids, None)).prop_map(move |(code, props)| match (
        v5, code,
    ) {
        (false, _) => (None, Properties::default()),
        (true, None) => (None, Properties::default()),
        (true, Some(c)) => (Some(c), props),
    })
}

fn options(v5: bool) -> BoxedStrategy<u8> {
    if v5 {
        (0u8..=2, any::<bool>(), any::<bool>(), 0u8..=2)
            .prop_map(|(q, nl, rap, rh)| q | u8::from(nl) << 2 | u8::from(rap) << 3 | rh << 4)
            .boxed()
    } else {
        (0u8..=2).boxed()
    }
}

fn packet(v5: bool) -> BoxedStrategy<Packet> {
    let publish = (
        any::<bool>(),
        0u8..=2,
        any::<bool>(),
        text(),
        1u16..,
        props_for(v5, PUBLISH_IDS, Some(0x0b)),
        binary(),
    )
        .prop_map(|(dup, qos, retain, topic, id, properties, payload)| {
            Packet::Publish(Publish {
                dup,
                qos,
                retain,
                topic,
                packet_id: (qos > 0).then_some(id),
                properties,
                payload,
            })
        });
    let subscribe = (
        1u16..,
        props_for(v5, SUBSCRIBE_IDS, None),
        prop::collection::vec((text(), options(v5)), 1..4),
    )
        .prop_map(|(packet_id, properties, fs)| {
            let filters = fs
                .into_iter()
                .map(|(filter, options)| Subscription { filter, options })
                .collect();
            Packet::Subscribe(Subscribe {
                packet_id,
                properties,
                filters,
            })
        });
    let suback = (
        1u16..,
        props_for(v5, ACK_IDS, None),
        prop::collection::vec(any::<u8>(), 1..4),
    )
        .prop_map(|(packet_id, properties, codes)| {
            Packet::Suback(Suback {
                packet_id,
                properties,
                codes,
            })
        });
    let unsubscribe = (
        1u16..,
        props_for(v5, UNSUBSCRIBE_IDS, None),
        prop::collection::vec(text(), 1..4),
    )
        .prop_map(|(packet_id, properties, filters)| {
            Packet::Unsubscribe(Unsubscribe {
                packet_id,
                properties,
                filters,
            })
        });
    let unsuback = (
        1u16..,
        props_for(v5, ACK_IDS, None),
        prop::collection::vec(any::<u8>(), 1..4),
    )
        .prop_map(move |(packet_id, properties, codes)| {
            let codes = if v5 { codes } else { vec![] };
            Packet::Unsuback(Unsuback {
                packet_id,
                properties,
                codes,
            })
        });
    let connack = (0u8..=1, any::<u8>(), props_for(v5, CONNACK_IDS, None)).prop_map(
        |(flags, code, properties)| {
            Packet::Connack(Connack {
                flags,
                code,
                properties,
            })
        },
    );
    let disconnect = reason(v5, DISCONNECT_IDS).prop_map(|(reason_code, properties)| {
        Packet::Disconnect(Disconnect {
            reason_code,
            properties,
        })
    });
    let mut choices: Vec<BoxedStrategy<Packet>> = vec![
        connect(v5).boxed(),
        connack.boxed(),
        publish.boxed(),
        ack(v5).prop_map(Packet::Puback).boxed(),
        ack(v5).prop_map(Packet::Pubrec).boxed(),
        ack(v5).prop_map(Packet::Pubrel).boxed(),
        ack(v5).prop_map(Packet::Pubcomp).boxed(),
        subscribe.boxed(),
        suback.boxed(),
        unsubscribe.boxed(),
        unsuback.boxed(),
        Just(Packet::Pingreq).boxed(),
        Just(Packet::Pingresp).boxed(),
        disconnect.boxed(),
    ];
    if v5 {
        choices.push(
            reason(true, AUTH_IDS)
                .prop_map(|(reason_code, properties)| {
                    Packet::Auth(Auth {
                        reason_code,
                        properties,
                    })
                })
                .boxed(),
        );
    }
    prop::strategy::Union::new(choices).boxed()
}

fn versioned() -> impl Strategy<Value = (Version, Packet)> {
    prop_oneof![
        packet(false).prop_map(|p| (Version::V311, p)),
        packet(true).prop_map(|p| (Version::V5, p)),
    ]
}

fn any_version() -> impl Strategy<Value = Version> {
    prop_oneof![Just(Version::V31), Just(Version::V311), Just(Version::V5)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn round_trip((version, packet) in versioned()) {
        let bytes = encode(&packet, version);
        let d = decode(Bytes::from(bytes.clone()), version);
        prop_assert_eq!(&d.violations, &vec![]);
        prop_assert_eq!(&d.packet, &packet);
        prop_assert_eq!(d.raw.as_ref(), bytes.as_slice());
        // And re-encoding the decoded packet gives the same bytes.
        prop_assert_eq!(encode(&d.packet, version), bytes);
    }

    #[test]
    fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64), version in any_version()) {
        let d = decode(Bytes::from(bytes.clone()), version);
        prop_assert_eq!(d.raw.as_ref(), bytes.as_slice());
        prop_assert!(d.violations.windows(2).all(|w| w[0].offset <= w[1].offset));
        prop_assert!(d.violations.iter().all(|v| v.offset <= bytes.len()));
    }

    #[test]
    fn decode_never_panics_on_framed_bytes(
        first in any::<u8>(),
        body in prop::collection::vec(any::<u8>(), 0..64),
        version in any_version(),
    ) {
        // A consistent fixed header makes the body decoders do the work.
        let mut bytes = vec![first, body.len() as u8];
        bytes.extend_from_slice(&body);
        let _ = decode(Bytes::from(bytes), version);
    }

    #[test]
    fn mutated_packets_never_panic(
        (version, packet) in versioned(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = encode(&packet, version);
        for (i, b) in flips {
            let i = i.index(bytes.len());
            bytes[i] = b;
        }
        let n = cut.index(bytes.len() + 1);
        let _ = decode(Bytes::from(bytes[..n].to_vec()), version);
    }

    #[test]
    fn framer_never_panics(chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..32), 0..8)) {
        let mut f = Framer::default();
        for c in &chunks {
            f.push(c);
            while f.next_frame().is_some() {}
        }
        let _ = f.finish();
        prop_assert_eq!(f.pending(), 0);
        prop_assert_eq!(f.offset(), chunks.iter().map(|c| c.len() as u64).sum::<u64>());
    }

    #[test]
    fn framer_reassembles_any_split(
        packets in prop::collection::vec(versioned(), 1..6),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let encoded: Vec<Vec<u8>> = packets.iter().map(|(v, p)| encode(p, *v)).collect();
        let stream: Vec<u8> = encoded.concat();
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        points.sort_unstable();
        let mut f = Framer::default();
        let mut got = Vec::new();
        let mut prev = 0;
        for p in points.into_iter().chain([stream.len()]) {
            f.push(&stream[prev..p]);
            prev = p;
            while let Some(frame) = f.next_frame() {
                got.push(frame);
            }
        }
        prop_assert_eq!(f.finish(), None);
        let mut offset = 0u64;
        prop_assert_eq!(got.len(), encoded.len());
        for (frame, want) in got.iter().zip(&encoded) {
            prop_assert_eq!(frame, &Framed::Packet { offset, bytes: Bytes::from(want.clone()) });
            offset += want.len() as u64;
        }
    }
}
