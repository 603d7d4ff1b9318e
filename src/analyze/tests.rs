//! Tests of a whole analysis: what it keeps of the capture while it reads.
//!
//! Packets are decoded from slices of the reader's buffer, so anything the
//! analysis keeps beyond its packet (a session's CONNECT, subscriptions,
//! topic aliases, unacknowledged messages) must be a copy, or the reader
//! could never reuse its buffer and memory would grow with the file.

use std::io::Write;

use bytes::Bytes;

use super::{analyze_file, Config};
use crate::capture::read::window::REPLACED;
use crate::capture::synth::{write_pcapng, Link, SynthFrame, TcpConversation};
use crate::codec::properties::id as prop;
use crate::codec::{
    encode, Ack, Connack, Connect, Packet, Properties, Property, Publish, Subscribe, Text,
    Unsubscribe, Value, Version, Will,
};

fn v5(p: Packet) -> Vec<u8> {
    encode(&p, Version::V5)
}

fn publish(topic: &str, qos: u8, id: Option<u16>, alias: Option<u16>) -> Packet {
    let properties = Properties(
        alias
            .map(|a| Property {
                id: prop::TOPIC_ALIAS,
                value: Value::U16(a),
            })
            .into_iter()
            .collect(),
    );
    Packet::Publish(Publish {
        qos,
        topic: Text::from(topic),
        packet_id: id,
        properties,
        payload: Bytes::from_static(b"payload kept until acknowledged"),
        ..Publish::default()
    })
}

/// A 5.0 client whose session keeps all it can: a CONNECT with a will and
/// properties, subscriptions, a pending UNSUBSCRIBE, topic aliases, QoS 1
/// and 2 messages never acknowledged. Then, on a second flow, 4 MB of
/// traffic, so the reader refills its buffer while all that is held.
fn holding_capture() -> Vec<SynthFrame> {
    let mut a = TcpConversation::new(
        "10.0.0.1:40000".parse().expect("address"),
        "10.0.0.2:1883".parse().expect("address"),
    );
    let mut frames = a.handshake();
    let user = Property {
        id: prop::USER_PROPERTY,
        value: Value::Pair(Text::from("k"), Text::from("v")),
    };
    let connect = Connect {
        protocol_level: 5,
        client_id: Text::from("holder"),
        properties: Properties(vec![user.clone()]),
        will: Some(Will {
            properties: Properties(vec![user]),
            topic: Text::from("will/topic"),
            payload: Bytes::from_static(b"gone"),
            qos: 1,
            retain: false,
        }),
        username: Some(Text::from("user")),
        password: Some(Bytes::from_static(b"secret")),
        ..Connect::default()
    };
    frames.extend(a.send(true, &v5(Packet::Connect(Box::new(connect)))));
    frames.extend(a.send(false, &v5(Packet::Connack(Connack::default()))));
    let sub = Subscribe::new(1, &[("held/#", 2), ("other/+", 1)]);
    frames.extend(a.send(true, &v5(Packet::Subscribe(sub))));
    let unsub = Unsubscribe {
        packet_id: 2,
        filters: vec![Text::from("other/+")],
        ..Unsubscribe::default()
    };
    frames.extend(a.send(true, &v5(Packet::Unsubscribe(unsub))));
    frames.extend(a.send(true, &v5(publish("held/a", 1, Some(3), Some(7)))));
    frames.extend(a.send(false, &v5(Packet::Puback(Ack::new(3)))));
    frames.extend(a.send(true, &v5(publish("", 1, Some(4), Some(7)))));
    frames.extend(a.send(true, &v5(publish("held/b", 2, Some(5), None))));
    frames.extend(a.send(false, &v5(Packet::Pubrec(Ack::new(5)))));
    frames.extend(a.send(true, &v5(Packet::Pubrel(Ack::new(5)))));
    frames.extend(a.send(false, &v5(publish("held/c", 1, Some(9), None))));
    let mut b = TcpConversation::new(
        "10.0.0.3:40001".parse().expect("address"),
        "10.0.0.2:1883".parse().expect("address"),
    )
    .start(a.now());
    frames.extend(b.handshake());
    let filler = encode(&publish("fill", 0, None, None), Version::V311);
    for _ in 0..4000 {
        frames.extend(b.send(true, &filler.repeat(30)));
    }
    frames
}

#[test]
fn analysis_keeps_no_slice_of_the_read_buffer() {
    let capture = write_pcapng(Link::Ethernet, &holding_capture()).expect("capture");
    assert!(capture.len() > 4 << 20, "{} bytes", capture.len());
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(&capture).expect("write");
    let before = REPLACED.with(|n| n.get());
    let report = analyze_file(file.path(), &Config::default());
    assert_eq!(REPLACED.with(|n| n.get()), before, "a buffer was kept");
    // The held state was built: the flow saw every packet above.
    let holder = &report.flows[0];
    assert_eq!(holder.client_id.as_deref(), Some("holder"));
    assert_eq!(holder.packets_to_server + holder.packets_to_client, 11);
}
