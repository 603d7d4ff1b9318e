//! A fault-injecting MQTT client of our own, for `mqttspec serve --watch`:
//! one conversation (subscribe, receive QoS 1 and 2 messages from a second
//! client, publish at QoS 1 and 2, ping, unsubscribe, disconnect) that is
//! conformant unless a [`Fault`] is switched on, in which case the client
//! breaks one client rule at that point of the conversation and hangs up.
//! Every wait is on the watch broker's answer, bounded by a socket read
//! timeout.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bytes::Bytes;
use mqttspec::codec::{
    decode, encode, encode_with, Ack, Connect, Decoded, Disconnect, Framed, Framer, Overrides,
    Packet, PacketType, Publish, Subscribe, Text, Unsubscribe, Version, Will,
};
use serde_json::Value;

/// How long any single wait for the broker may take.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// One way for the client to break the protocol (or none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    // Connection start.
    PublishBeforeConnect,
    SecondConnect,
    SilentPastKeepAlive,
    // CONNECT flags and payload.
    WillQosWithoutWill,
    WillRetainWithoutWill,
    WillQos3,
    WillFieldsMissing,
    UserNameMissing,
    PasswordMissing,
    PasswordWithoutUserName,
    UserNameWithoutFlag,
    EmptyIdPersistent,
    ReservedConnectFlag,
    ProtocolName,
    // Subscribing.
    SubscribeFlags,
    SubscribeWithoutFilters,
    InvalidTopicFilter,
    // Receiving the server's QoS 1 and 2 messages.
    PubacksOutOfOrder,
    PubrecsOutOfOrder,
    PubackForQos2,
    PubrecForQos1,
    // Publishing.
    DupOnQos0,
    WildcardInTopicName,
    Qos3,
    ZeroPacketId,
    InvalidUtf8Topic,
    NullInTopic,
    PublishIdInUse,
    SubscribeIdInUse,
    ResendWithoutDup,
    ResendUnderNewId,
    ResendAfterPubrel,
    PubrelFlags,
    PubrelsOutOfOrder,
    // Ping, unsubscribe, disconnect.
    PingreqFlags,
    UnsubscribeFlags,
    UnsubscribeWithoutFilters,
    PacketAfterDisconnect,
    OpenAfterDisconnect,
}

/// A watch running as a child process (`Watch::watch()`).
pub use crate::common::serve::Served as Watch;

/// Every finding of the report: (statement, check, actor).
pub fn findings(report: &Value) -> Vec<(String, String, String)> {
    let field = |f: &Value, k: &str| f[k].as_str().unwrap_or_default().to_string();
    report["connections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["findings"].as_array().unwrap().clone())
        .map(|f| (field(&f, "rule"), field(&f, "check"), field(&f, "actor")))
        .collect()
}

/// One raw MQTT connection to the watch.
pub struct Client {
    s: TcpStream,
    version: Version,
    framer: Framer,
}

impl Client {
    pub fn open(w: &Watch, version: Version) -> Client {
        let s = TcpStream::connect(("127.0.0.1", w.port)).unwrap();
        s.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        Client {
            s,
            version,
            framer: Framer::default(),
        }
    }

    /// Send a packet (true, so a fault's arm can end with it).
    pub fn send(&mut self, p: &Packet) -> bool {
        let bytes = encode(p, self.version);
        self.send_raw(&bytes);
        true
    }

    /// Send a packet encoded with `o`.
    pub fn send_with(&mut self, p: &Packet, o: Overrides) -> bool {
        let bytes = encode_with(p, self.version, &o);
        self.send_raw(&bytes);
        true
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).unwrap();
    }

    /// The next packet from the broker (panics after the read timeout).
    pub fn next(&mut self) -> Decoded {
        let mut buf = [0u8; 4096];
        loop {
            match self.framer.next_frame() {
                Some(Framed::Packet { bytes, .. }) => return decode(bytes, self.version),
                Some(Framed::Malformed { error, .. }) => {
                    panic!("broker sent unframeable bytes: {error}")
                }
                None => {}
            }
            let n = self
                .s
                .read(&mut buf)
                .expect("no answer from the watch broker");
            assert!(n > 0, "the watch broker closed the connection");
            self.framer.push(&buf[..n]);
        }
    }

    /// The next packet, which must be of type `t`.
    pub fn expect(&mut self, t: PacketType) -> Packet {
        let d = self.next();
        assert_eq!(d.packet.packet_type(), t, "{:?}", d.packet);
        d.packet
    }

    /// Close our side (FIN), then wait for the broker to close its own: by
    /// then it has judged everything we sent.
    pub fn hang_up(self) {
        let _ = self.s.shutdown(std::net::Shutdown::Write);
        self.until_closed();
    }

    /// Read until the broker closes (panics after the read timeout).
    pub fn until_closed(self) {
        self.read_until_closed();
    }

    /// Every byte the broker sends until it closes (panics after the read
    /// timeout).
    pub fn read_until_closed(mut self) -> Vec<u8> {
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            match self.s.read(&mut buf) {
                Ok(0) => return got,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return got,
                Err(e) => panic!("the watch broker did not close: {e}"),
            }
        }
    }

    /// CONNECT, then the CONNACK, which must accept.
    pub fn connect(&mut self, c: Connect) {
        self.send(&Packet::Connect(Box::new(c)));
        match self.expect(PacketType::Connack) {
            Packet::Connack(a) => assert_eq!(a.code, 0, "CONNECT refused"),
            _ => unreachable!(),
        }
    }
}

pub fn connect_packet(version: Version, id: &str) -> Connect {
    Connect {
        protocol_level: version.level(),
        client_id: Text::from(id),
        keep_alive: 60,
        ..Connect::default()
    }
}

pub fn publish(topic: &str, qos: u8, id: Option<u16>, payload: &str) -> Packet {
    Packet::Publish(Publish {
        qos,
        topic: Text::from(topic),
        packet_id: id,
        payload: Bytes::from(payload.to_string()),
        ..Publish::default()
    })
}

fn dup(p: &Packet) -> Packet {
    match p {
        Packet::Publish(p) => Packet::Publish(Publish {
            dup: true,
            ..p.clone()
        }),
        p => p.clone(),
    }
}

fn unsubscribe(id: u16, filters: &[&str]) -> Packet {
    Packet::Unsubscribe(Unsubscribe {
        packet_id: id,
        filters: filters.iter().map(|f| Text::from(*f)).collect(),
        ..Unsubscribe::default()
    })
}

fn flags(f: u8) -> Overrides {
    Overrides {
        flags: Some(f),
        ..Overrides::default()
    }
}

fn id_of(p: &Packet) -> u16 {
    p.packet_id().expect("a packet id")
}

/// Whether `fault` lies in the CONNECT itself.
fn in_connect(fault: Fault) -> bool {
    use Fault::*;
    matches!(
        fault,
        WillQosWithoutWill
            | WillRetainWithoutWill
            | WillQos3
            | WillFieldsMissing
            | UserNameMissing
            | PasswordMissing
            | PasswordWithoutUserName
            | UserNameWithoutFlag
            | EmptyIdPersistent
            | ReservedConnectFlag
            | ProtocolName
    )
}

/// The CONNECT for `fault` (the conformant one for faults elsewhere).
fn connect_for(fault: Fault, version: Version) -> Connect {
    let mut c = connect_packet(version, "faulty");
    match fault {
        Fault::SilentPastKeepAlive => c.keep_alive = 1,
        Fault::WillQosWithoutWill => c.flags = 0x08,
        Fault::WillRetainWithoutWill => c.flags = 0x20,
        Fault::WillQos3 => {
            c.will = Some(Will {
                topic: Text::from("w"),
                qos: 3,
                ..Will::default()
            })
        }
        // The flags announce fields the payload lacks.
        Fault::WillFieldsMissing => c.flags = 0x04,
        Fault::UserNameMissing => c.flags = 0x80,
        Fault::PasswordMissing => {
            c.username = Some(Text::from("u"));
            c.flags = 0x40;
        }
        Fault::PasswordWithoutUserName => c.password = Some(Bytes::from_static(b"p")),
        Fault::EmptyIdPersistent => {
            c.client_id = Text::from("");
            c.clean_session = false;
        }
        Fault::ReservedConnectFlag => c.flags = 0x01,
        Fault::ProtocolName => c.protocol_name = Text::from("MQTS"),
        _ => {}
    }
    c
}

/// Run the conversation with `fault` switched on. It returns once the watch
/// broker has closed the connection, so every packet has been judged.
pub fn converse(w: &Watch, fault: Fault, version: Version) {
    let mut c = Client::open(w, version);
    let connect = connect_for(fault, version);
    match fault {
        Fault::PublishBeforeConnect => {
            // The broker closes at once (MQTT-3.1.0-1).
            c.send(&publish("o/0", 0, None, "early"));
            return c.until_closed();
        }
        Fault::UserNameWithoutFlag => {
            // A user name after the client id, its flag left at 0.
            let o = Overrides {
                append: vec![0, 1, b'u'],
                ..Overrides::default()
            };
            c.send_with(&Packet::Connect(Box::new(connect)), o);
            c.expect(PacketType::Connack);
        }
        Fault::EmptyIdPersistent => {
            // Refused with 0x02 (3.1.1), then closed.
            c.send(&Packet::Connect(Box::new(connect)));
            c.expect(PacketType::Connack);
            return c.until_closed();
        }
        Fault::SilentPastKeepAlive => {
            c.connect(connect);
            // Keep Alive 1 s and nothing sent: the broker closes after 1.5 s.
            return c.until_closed();
        }
        _ => c.connect(connect),
    }
    if in_connect(fault) || !conversation(w, &mut c, fault, version) {
        return c.hang_up();
    }
    // Disconnect and close.
    c.send(&Packet::Disconnect(Disconnect::default()));
    match fault {
        Fault::PacketAfterDisconnect => {
            c.send(&Packet::Pingreq);
            c.hang_up()
        }
        // Keep the connection open: the broker closes it after its grace.
        Fault::OpenAfterDisconnect => c.until_closed(),
        _ => c.hang_up(),
    }
}

/// Everything between CONNACK and DISCONNECT; false when the fault was
/// committed and the client should hang up.
fn conversation(w: &Watch, c: &mut Client, fault: Fault, version: Version) -> bool {
    // Subscribe.
    let committed = match fault {
        Fault::SubscribeFlags => c.send_with(&subscribe_packet(1, &[("f/#", 2)]), flags(0)),
        Fault::SubscribeWithoutFilters => c.send(&subscribe_packet(1, &[])),
        Fault::InvalidTopicFilter => c.send(&subscribe_packet(1, &[("f/#/x", 2)])),
        _ => false,
    };
    if committed {
        return false;
    }
    c.send(&subscribe_packet(1, &[("f/#", 2)]));
    c.expect(PacketType::Suback);

    // A second client publishes two QoS 1 and two QoS 2 messages to us.
    let mut p = Client::open(w, version);
    p.connect(connect_packet(version, "feeder"));
    for (i, qos) in [1u8, 1, 2, 2].into_iter().enumerate() {
        let id = i as u16 + 1;
        p.send(&publish("f/in", qos, Some(id), &format!("in{id}")));
        if qos == 1 {
            p.expect(PacketType::Puback);
        } else {
            p.expect(PacketType::Pubrec);
            p.send(&Packet::Pubrel(Ack::new(id)));
            p.expect(PacketType::Pubcomp);
        }
    }
    p.send(&Packet::Disconnect(Disconnect::default()));
    p.hang_up();
    let got: Vec<Packet> = (0..4).map(|_| c.expect(PacketType::Publish)).collect();
    let ids: Vec<u16> = got.iter().map(id_of).collect();
    let committed = match fault {
        Fault::PubacksOutOfOrder => c.send(&Packet::Puback(Ack::new(ids[1]))),
        Fault::PubrecsOutOfOrder => c.send(&Packet::Pubrec(Ack::new(ids[3]))),
        Fault::PubackForQos2 => c.send(&Packet::Puback(Ack::new(ids[2]))),
        Fault::PubrecForQos1 => c.send(&Packet::Pubrec(Ack::new(ids[0]))),
        _ => false,
    };
    if committed {
        return false;
    }
    c.send(&Packet::Puback(Ack::new(ids[0])));
    c.send(&Packet::Puback(Ack::new(ids[1])));
    for id in &ids[2..] {
        c.send(&Packet::Pubrec(Ack::new(*id)));
        c.expect(PacketType::Pubrel);
        c.send(&Packet::Pubcomp(Ack::new(*id)));
    }

    // Publish at QoS 0, 1 and 2.
    let committed = match fault {
        Fault::DupOnQos0 => c.send(&dup(&publish("o/0", 0, None, "m"))),
        Fault::WildcardInTopicName => c.send(&publish("o/+", 0, None, "m")),
        Fault::Qos3 => c.send_with(&publish("o/3", 1, Some(9), "m"), flags(0b0110)),
        Fault::ZeroPacketId => c.send(&publish("o/1", 1, Some(0), "m")),
        Fault::InvalidUtf8Topic => c.send(&Packet::Publish(Publish {
            topic: Text(Bytes::from_static(b"o/\xff")),
            ..Publish::default()
        })),
        Fault::NullInTopic => c.send(&publish("o/\0", 0, None, "m")),
        _ => false,
    };
    if committed {
        return false;
    }
    c.send(&publish("o/0", 0, None, "m0"));
    c.send(&publish("o/1", 1, Some(10), "m10"));
    c.expect(PacketType::Puback);
    let first = publish("o/2", 2, Some(11), "m11");
    c.send(&first);
    c.expect(PacketType::Pubrec);
    c.send(&publish("o/2", 2, Some(12), "m12"));
    c.expect(PacketType::Pubrec);
    // Messages 11 and 12 await our PUBRELs.
    let committed = match fault {
        Fault::PublishIdInUse => c.send(&publish("o/x", 1, Some(11), "other")),
        Fault::SubscribeIdInUse => c.send(&subscribe_packet(11, &[("g", 0)])),
        Fault::ResendWithoutDup => c.send(&first),
        Fault::ResendUnderNewId => c.send(&dup(&publish("o/2", 2, Some(13), "m11"))),
        Fault::ResendAfterPubrel => {
            c.send(&Packet::Pubrel(Ack::new(11)));
            c.send(&dup(&first))
        }
        Fault::PubrelFlags => c.send_with(&Packet::Pubrel(Ack::new(11)), flags(0)),
        Fault::PubrelsOutOfOrder => c.send(&Packet::Pubrel(Ack::new(12))),
        _ => false,
    };
    if committed {
        return false;
    }
    for id in [11, 12] {
        c.send(&Packet::Pubrel(Ack::new(id)));
        c.expect(PacketType::Pubcomp);
    }

    // Ping, a second CONNECT, unsubscribe.
    let committed = match fault {
        Fault::PingreqFlags => c.send_with(&Packet::Pingreq, flags(1)),
        Fault::SecondConnect => c.send(&Packet::Connect(Box::new(connect_packet(
            version, "faulty",
        )))),
        _ => false,
    };
    if committed {
        return false;
    }
    c.send(&Packet::Pingreq);
    c.expect(PacketType::Pingresp);
    let committed = match fault {
        Fault::UnsubscribeFlags => c.send_with(&unsubscribe(20, &["f/#"]), flags(0)),
        Fault::UnsubscribeWithoutFilters => c.send(&unsubscribe(20, &[])),
        _ => false,
    };
    if committed {
        return false;
    }
    c.send(&unsubscribe(20, &["f/#"]));
    c.expect(PacketType::Unsuback);
    true
}

fn subscribe_packet(id: u16, filters: &[(&str, u8)]) -> Packet {
    Packet::Subscribe(Subscribe::new(id, filters))
}
