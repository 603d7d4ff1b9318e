//! Device cases (`mqttspec serve CASES…`, the suite playing the broker):
//! mosquitto_pub / mosquitto_sub and the Paho Python client driven through
//! `--exec` pass every case but their real deviations and the cases their
//! driver declares not applicable (skipped, with the reason); a faulty
//! device of our own (this test, on a raw socket) fails each case naming
//! the statement it breaks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bytes::Bytes;
use mqttspec::codec::{
    encode, encode_with, Ack, Connect, Overrides, Packet, Publish, Subscribe, Text, Unsubscribe,
    Version,
};
use rstest::rstest;

use common::serve::{assert_passes_but_deviations, Client, Served as Serve};

/// The faulty device's connection to the suite, speaking `version`.
fn device(serve: &Serve, version: Version) -> Device {
    let s = TcpStream::connect(("127.0.0.1", serve.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    Device(s, version)
}

/// A device of our own on a raw socket.
struct Device(TcpStream, Version);

impl Device {
    fn send(&mut self, p: &Packet) {
        self.0.write_all(&encode(p, self.1)).unwrap();
    }

    /// `p` with these fixed-header flags instead of its own.
    fn send_with_flags(&mut self, p: &Packet, flags: u8) {
        let o = Overrides {
            flags: Some(flags),
            ..Overrides::default()
        };
        self.0.write_all(&encode_with(p, self.1, &o)).unwrap();
    }

    /// The next packet from the suite (fixed header + body).
    fn recv(&mut self) -> Vec<u8> {
        let mut head = [0u8; 2];
        self.0.read_exact(&mut head).unwrap();
        assert!(head[1] < 0x80, "short packets only in these tests");
        let mut body = vec![0u8; usize::from(head[1])];
        self.0.read_exact(&mut body).unwrap();
        [head.to_vec(), body].concat()
    }

    fn connect(&mut self, keep_alive: u16) {
        assert_eq!(self.connect_as(true, keep_alive), [0x20, 0x02, 0x00, 0x00]);
    }

    /// CONNECT at the device's version; the CONNACK.
    fn connect_as(&mut self, clean_session: bool, keep_alive: u16) -> Vec<u8> {
        self.send(&Packet::Connect(Box::new(Connect {
            protocol_level: self.1.level(),
            client_id: Text::from("faulty"),
            clean_session,
            keep_alive,
            ..Connect::default()
        })));
        let connack = self.recv();
        assert_eq!(connack[0], 0x20, "CONNACK");
        connack
    }

    /// CONNECT with CleanSession 0; whether the CONNACK says Session Present.
    fn connect_persistent(&mut self) -> bool {
        self.connect_as(false, 60)[2] & 1 == 1
    }

    fn subscribe(&mut self, qos: u8) {
        self.send(&Packet::Subscribe(Subscribe::new(1, &[("#", qos)])));
        assert_eq!(self.recv()[0], 0x90, "SUBACK");
    }

    /// Wait until the suite closes the connection (the case ended).
    fn until_closed(mut self) {
        self.wait_closed();
    }

    /// Read (and forget) whatever comes until the suite closes.
    fn wait_closed(&mut self) {
        let mut buf = [0u8; 256];
        while let Ok(n) = self.0.read(&mut buf) {
            if n == 0 {
                return;
            }
        }
    }
}

fn publish(qos: u8, dup: bool, id: u16) -> Packet {
    Packet::Publish(Publish {
        dup,
        qos,
        topic: Text::from("t"),
        packet_id: (qos > 0).then_some(id),
        payload: Bytes::from_static(b"x"),
        ..Publish::default()
    })
}

#[test]
fn mosquitto_clients_pass_every_device_case() {
    let client = Client::MosquittoClients;
    let serve = Serve::start(&["--exec", &client.exec("")]);
    assert_passes_but_deviations(serve.finish(), client);
}

#[test]
fn paho_python_client_passes_every_device_case() {
    let client = Client::Paho;
    let serve = Serve::start(&["--exec", &client.exec("")]);
    assert_passes_but_deviations(serve.finish(), client);
}

/// What the faulty device does in one case.
#[derive(Debug, Clone, Copy)]
enum Fault {
    PublishBeforeConnect,
    DupOnFirstQos1,
    NoPubrelAfterPubrec,
    NoPuback,
    PubcompInsteadOfPubrec,
    SilentPastKeepAlive,
    /// Keeps pinging in time but never closes, though no PINGRESP comes.
    PingsButStays,
    StaysAfterDisconnect,
    IgnoresUnrequested,
    /// Subscribes, then reads on whatever comes and never closes.
    KeepsConnection,
    AcksOnlyOnce,
    PubrecOnlyOnce,
    SubscribeWithBadFlags,
    WildcardTopic,
    ConnectUserNameFlagWithoutName,
    PubrelBeforePubrec,
    PingreqAfterDisconnect,
    AcksQos0,
    IgnoresReusedQos2Id,
    PubacksReversed,
    PubrecsReversed,
    PubrecForQos1,
    UnsubscribeWithBadFlags,
    EmptyUnsubscribe,
    /// UNSUBSCRIBE under the id of the SUBSCRIBE still awaiting SUBACK.
    UnsubscribeReusesSubscribeId,
    /// Publishes at this QoS on a persistent session; after the suite's
    /// drop it reconnects and re-sends the PUBLISH with DUP = 0.
    ResendsWithoutDup(u8),
    /// ... and publishes the message anew under another packet id.
    PublishesAnewAfterReconnect,
    /// QoS 2 up to PUBREL; after the drop it reconnects and sends nothing.
    NoPubrelAfterReconnect,
    /// ... and re-sends the released PUBLISH along with the PUBREL.
    ResendsPublishAfterPubrel,
    /// MQTT 5.0 from here on.
    V5PublishBeforeConnect,
    V5DupOnFirstQos1,
    /// QoS 2 PUBLISH under Maximum QoS 1, then it closes.
    PublishesAboveMaximumQos,
    ExceedsReceiveMaximum,
    /// Retained PUBLISH under Retain Available 0, then it closes.
    RetainsAnyway,
    /// Keeps to its own Keep Alive (60 s), not the server's.
    IgnoresServerKeepAlive,
    /// Goes on publishing after a refusing CONNACK.
    PublishesAfterRefusal,
}

impl Fault {
    fn version(self) -> Version {
        use Fault::*;
        match self {
            V5PublishBeforeConnect
            | V5DupOnFirstQos1
            | PublishesAboveMaximumQos
            | ExceedsReceiveMaximum
            | RetainsAnyway
            | IgnoresServerKeepAlive
            | PublishesAfterRefusal => Version::V5,
            _ => Version::V311,
        }
    }
}

/// A PUBLISH id 1 at `qos` on a persistent session, left unacknowledged
/// (the suite drops the connection), then the reconnection.
fn publish_then_reconnect(mut d: Device, serve: &Serve, qos: u8) -> Device {
    assert!(!d.connect_persistent(), "no session yet");
    d.send(&publish(qos, false, 1));
    reconnect(d, serve)
}

/// A QoS 2 flow cut after the device's PUBREL, then the reconnection.
fn pubrel_then_reconnect(mut d: Device, serve: &Serve) -> Device {
    assert!(!d.connect_persistent(), "no session yet");
    d.send(&publish(2, false, 1));
    assert_eq!(d.recv(), [0x50, 0x02, 0x00, 0x01], "PUBREC 1");
    d.send(&Packet::Pubrel(Ack::new(1)));
    reconnect(d, serve)
}

/// Once the suite has dropped `d`, connect again on the persistent session.
fn reconnect(mut d: Device, serve: &Serve) -> Device {
    d.wait_closed();
    let mut again = device(serve, Version::V311);
    assert!(again.connect_persistent(), "session present");
    again
}

fn misbehave(fault: Fault, serve: &Serve) {
    let mut d = device(serve, fault.version());
    match fault {
        Fault::PublishBeforeConnect => d.send(&publish(0, false, 0)),
        Fault::DupOnFirstQos1 => {
            d.connect(60);
            d.send(&publish(1, true, 5));
        }
        Fault::NoPubrelAfterPubrec => {
            d.connect(60);
            d.send(&publish(2, false, 5));
            assert_eq!(d.recv(), [0x50, 0x02, 0x00, 0x05], "PUBREC 5");
            // ... and no PUBREL.
        }
        Fault::NoPuback => {
            d.connect(60);
            d.subscribe(1);
            assert_eq!(d.recv()[0] & 0xf0, 0x30, "PUBLISH");
            // ... and no PUBACK.
        }
        Fault::PubcompInsteadOfPubrec => {
            d.connect(60);
            d.subscribe(2);
            assert_eq!(d.recv()[0] & 0xf0, 0x30, "PUBLISH");
            d.send(&Packet::Pubcomp(Ack::new(9)));
        }
        Fault::SilentPastKeepAlive => {
            d.connect(5);
            d.subscribe(0);
            // ... and nothing more, not even PINGREQ.
        }
        Fault::PingsButStays => {
            d.connect(5);
            d.subscribe(0);
            // A PINGREQ whenever 4 s pass without a byte from the suite
            // (within Keep Alive 5 s), until the suite closes.
            d.0.set_read_timeout(Some(Duration::from_secs(4))).unwrap();
            let mut buf = [0u8; 256];
            loop {
                match d.0.read(&mut buf) {
                    Ok(0) => return,
                    Ok(_) => {}
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                        d.send(&Packet::Pingreq)
                    }
                    Err(_) => return,
                }
            }
        }
        Fault::StaysAfterDisconnect => {
            d.connect(60);
            d.send(&Packet::Disconnect(Default::default()));
            // ... and the connection stays open.
        }
        Fault::IgnoresUnrequested => {
            d.connect(60);
            d.subscribe(1);
            assert_eq!(d.recv()[0] & 0xf0, 0x30, "PUBLISH");
            // ... not ours: no PUBACK.
        }
        Fault::KeepsConnection => {
            d.connect(60);
            d.subscribe(0);
        }
        Fault::AcksOnlyOnce => {
            d.connect(60);
            d.subscribe(1);
            assert_eq!(d.recv()[0] & 0xf0, 0x30, "PUBLISH");
            d.send(&Packet::Puback(Ack::new(5)));
            assert_eq!(d.recv()[0] & 0xf0, 0x30, "PUBLISH again");
            // ... taken for a duplicate: no PUBACK.
        }
        Fault::PubrecOnlyOnce => {
            d.connect(60);
            d.subscribe(2);
            assert_eq!(d.recv()[0] & 0xf0, 0x30, "PUBLISH");
            d.send(&Packet::Pubrec(Ack::new(9)));
            assert_eq!(d.recv()[0] & 0xf0, 0x30, "PUBLISH re-sent");
            // ... no second PUBREC.
        }
        Fault::SubscribeWithBadFlags => {
            d.connect(60);
            d.send_with_flags(&Packet::Subscribe(Subscribe::new(1, &[("#", 1)])), 0);
        }
        Fault::ConnectUserNameFlagWithoutName => {
            // CONNECT: clean session and user name flag, client id "id",
            // and no user name after it.
            d.0.write_all(&[
                0x10, 0x0e, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x82, 0x00, 0x3c, 0x00, 0x02,
                b'i', b'd',
            ])
            .unwrap();
            // The suite's CONNECT step finds no user name "device" here.
        }
        Fault::PubrelBeforePubrec => {
            d.connect(60);
            d.send(&publish(2, false, 5));
            d.send(&Packet::Pubrel(Ack::new(5)));
        }
        Fault::PingreqAfterDisconnect => {
            d.connect(60);
            d.send(&publish(0, false, 0));
            d.send(&Packet::Disconnect(Default::default()));
            d.send(&Packet::Pingreq);
            drop(d);
            return;
        }
        Fault::AcksQos0 => {
            d.connect(60);
            d.subscribe(1);
            assert_eq!(d.recv()[0], 0x30, "QoS 0 PUBLISH");
            d.send(&Packet::Puback(Ack::new(1)));
        }
        Fault::IgnoresReusedQos2Id => {
            d.connect(60);
            d.subscribe(2);
            assert_eq!(d.recv()[0] & 0xf0, 0x30, "PUBLISH");
            d.send(&Packet::Pubrec(Ack::new(9)));
            assert_eq!(d.recv(), [0x62, 0x02, 0x00, 0x09], "PUBREL 9");
            d.send(&Packet::Pubcomp(Ack::new(9)));
            assert_eq!(d.recv()[0] & 0xf0, 0x30, "PUBLISH with id 9 again");
            // ... taken for the completed one: no PUBREC.
        }
        Fault::PubacksReversed => {
            d.connect(60);
            d.subscribe(1);
            d.recv();
            d.recv();
            d.send(&Packet::Puback(Ack::new(2)));
            d.send(&Packet::Puback(Ack::new(1)));
        }
        Fault::PubrecsReversed => {
            d.connect(60);
            d.subscribe(2);
            d.recv();
            d.recv();
            d.send(&Packet::Pubrec(Ack::new(2)));
            d.send(&Packet::Pubrec(Ack::new(1)));
            // The rest of the flow as it should be: only the order is wrong.
            assert_eq!(d.recv(), [0x62, 0x02, 0x00, 0x01], "PUBREL 1");
            assert_eq!(d.recv(), [0x62, 0x02, 0x00, 0x02], "PUBREL 2");
            d.send(&Packet::Pubcomp(Ack::new(1)));
            d.send(&Packet::Pubcomp(Ack::new(2)));
        }
        Fault::PubrecForQos1 => {
            d.connect(60);
            d.subscribe(2);
            assert_eq!(d.recv()[0] & 0xf0, 0x30, "PUBLISH");
            // ... answered as if it were QoS 2, the QoS asked for.
            d.send(&Packet::Pubrec(Ack::new(6)));
        }
        Fault::WildcardTopic => {
            d.connect(60);
            d.send(&Packet::Publish(Publish {
                topic: Text::from("a/+"),
                payload: Bytes::from_static(b"x"),
                ..Publish::default()
            }));
        }
        Fault::UnsubscribeWithBadFlags => {
            d.connect(60);
            d.subscribe(1);
            let unsub = Packet::Unsubscribe(Unsubscribe {
                packet_id: 2,
                filters: vec![Text::from("#")],
                ..Unsubscribe::default()
            });
            d.send_with_flags(&unsub, 0);
        }
        Fault::EmptyUnsubscribe => {
            d.connect(60);
            d.subscribe(1);
            d.send(&Packet::Unsubscribe(Unsubscribe {
                packet_id: 2,
                ..Unsubscribe::default()
            }));
        }
        Fault::UnsubscribeReusesSubscribeId => {
            d.connect(60);
            d.send(&Packet::Subscribe(Subscribe::new(1, &[("#", 1)])));
            d.send(&Packet::Unsubscribe(Unsubscribe {
                packet_id: 1,
                filters: vec![Text::from("#")],
                ..Unsubscribe::default()
            }));
        }
        Fault::ResendsWithoutDup(qos) => {
            d = publish_then_reconnect(d, serve, qos);
            d.send(&publish(qos, false, 1));
        }
        Fault::PublishesAnewAfterReconnect => {
            d = publish_then_reconnect(d, serve, 1);
            d.send(&publish(1, false, 2));
        }
        Fault::NoPubrelAfterReconnect => d = pubrel_then_reconnect(d, serve),
        Fault::ResendsPublishAfterPubrel => {
            d = pubrel_then_reconnect(d, serve);
            d.send(&publish(2, true, 1));
            d.send(&Packet::Pubrel(Ack::new(1)));
        }
        Fault::V5PublishBeforeConnect => d.send(&publish(0, false, 0)),
        Fault::V5DupOnFirstQos1 => {
            d.connect_as(true, 60);
            d.send(&publish(1, true, 5));
        }
        Fault::PublishesAboveMaximumQos => {
            d.connect_as(true, 60);
            d.send(&publish(2, false, 1));
            return;
        }
        Fault::ExceedsReceiveMaximum => {
            d.connect_as(true, 60);
            d.send(&publish(1, false, 1));
            d.send(&publish(1, false, 2));
        }
        Fault::RetainsAnyway => {
            d.connect_as(true, 60);
            d.send(&Packet::Publish(Publish {
                retain: true,
                topic: Text::from("t"),
                payload: Bytes::from_static(b"x"),
                ..Publish::default()
            }));
            return;
        }
        Fault::IgnoresServerKeepAlive => {
            d.connect_as(true, 60);
            d.subscribe(0);
        }
        Fault::PublishesAfterRefusal => {
            assert_eq!(d.connect_as(true, 60)[3], 0x87, "refused");
            d.send(&publish(0, false, 0));
        }
    }
    d.until_closed();
}

#[rstest]
#[case::connect_first(Fault::PublishBeforeConnect, "device-connect-first", "MQTT-3.1.0-1")]
#[case::dup_on_first_send(Fault::DupOnFirstQos1, "device-publish-qos1", "MQTT-4.3.2-1")]
#[case::no_pubrel(Fault::NoPubrelAfterPubrec, "device-publish-qos2", "MQTT-4.3.3-1")]
#[case::no_puback(Fault::NoPuback, "device-receives-qos1", "MQTT-4.3.2-2")]
#[case::pubcomp_not_pubrec(Fault::PubcompInsteadOfPubrec, "device-receives-qos2", "MQTT-4.3.3-2")]
#[case::silent(
    Fault::SilentPastKeepAlive,
    "device-pingreq-within-keep-alive",
    "MQTT-3.1.2-23"
)]
#[case::silent_without_pingresp(
    Fault::SilentPastKeepAlive,
    "device-closes-without-pingresp",
    "MQTT-3.1.2-23"
)]
#[case::stays_after_disconnect(
    Fault::StaysAfterDisconnect,
    "device-closes-after-disconnect",
    "MQTT-3.14.4-1"
)]
#[case::ignores_unrequested(
    Fault::IgnoresUnrequested,
    "device-acks-unrequested-qos1",
    "MQTT-4.5.0-2"
)]
#[case::keeps_bad_flags(Fault::KeepsConnection, "device-invalid-flags-closes", "MQTT-2.2.2-2")]
#[case::keeps_bad_length(
    Fault::KeepsConnection,
    "device-malformed-length-closes",
    "MQTT-4.8.0-1"
)]
#[case::acks_only_once(
    Fault::AcksOnlyOnce,
    "device-receives-qos1-same-id-again",
    "MQTT-4.3.2-2"
)]
#[case::pubrec_only_once(
    Fault::PubrecOnlyOnce,
    "device-receives-qos2-resent-publish",
    "MQTT-4.3.3-2"
)]
#[case::retained_not_acked(Fault::NoPuback, "device-receives-retained-qos1", "MQTT-3.3.4-1")]
#[case::bad_subscribe_flags(
    Fault::SubscribeWithBadFlags,
    "device-subscribe-well-formed",
    "MQTT-3.8.1-1"
)]
#[case::wildcard_topic(
    Fault::WildcardTopic,
    "device-publish-topic-without-wildcards",
    "MQTT-3.3.2-2"
)]
#[case::user_name_flag_without_name(
    Fault::ConnectUserNameFlagWithoutName,
    "device-connect-with-credentials",
    "MQTT-3.1.2-19"
)]
#[case::pubrel_before_pubrec(
    Fault::PubrelBeforePubrec,
    "device-pubrel-waits-for-pubrec",
    "MQTT-4.3.3-1"
)]
#[case::pingreq_after_disconnect(
    Fault::PingreqAfterDisconnect,
    "device-nothing-after-disconnect",
    "MQTT-3.14.4-2"
)]
#[case::acks_qos0(Fault::AcksQos0, "device-qos0-delivery-not-acked", "MQTT-3.3.4-1")]
#[case::ignores_reused_qos2_id(
    Fault::IgnoresReusedQos2Id,
    "device-receives-qos2-same-id-after-pubcomp",
    "MQTT-4.3.3-2"
)]
#[case::pubacks_reversed(Fault::PubacksReversed, "device-pubacks-in-order", "MQTT-4.6.0-2")]
#[case::pubrecs_reversed(Fault::PubrecsReversed, "device-pubrecs-in-order", "MQTT-4.6.0-3")]
#[case::dup_not_acked(Fault::NoPuback, "device-receives-qos1-dup", "MQTT-4.3.2-2")]
#[case::qos2_flow_for_granted_qos1(
    Fault::PubrecForQos1,
    "device-granted-lower-qos",
    "MQTT-4.3.2-2"
)]
#[case::unsubscribe_bad_flags(
    Fault::UnsubscribeWithBadFlags,
    "device-unsubscribe-well-formed",
    "MQTT-3.10.1-1"
)]
#[case::empty_unsubscribe(
    Fault::EmptyUnsubscribe,
    "device-unsubscribe-well-formed",
    "MQTT-3.10.3-2"
)]
#[case::unsubscribe_id_in_use(
    Fault::UnsubscribeReusesSubscribeId,
    "device-unsubscribe-new-packet-id",
    "MQTT-2.3.1-2"
)]
#[case::qos1_resent_without_dup(
    Fault::ResendsWithoutDup(1),
    "device-resends-qos1-after-reconnect",
    "MQTT-3.3.1-1"
)]
#[case::qos1_not_resent(
    Fault::PublishesAnewAfterReconnect,
    "device-resends-qos1-after-reconnect",
    "MQTT-4.4.0-1"
)]
#[case::qos2_resent_without_dup(
    Fault::ResendsWithoutDup(2),
    "device-resends-qos2-publish-after-reconnect",
    "MQTT-3.3.1-1"
)]
#[case::pubrel_not_resent(
    Fault::NoPubrelAfterReconnect,
    "device-resends-pubrel-after-reconnect",
    "MQTT-4.4.0-1"
)]
#[case::publish_resent_after_pubrel(
    Fault::ResendsPublishAfterPubrel,
    "device-resends-pubrel-after-reconnect",
    "MQTT-4.3.3-1"
)]
#[case::keeps_qos3(Fault::KeepsConnection, "device-qos3-publish-closes", "MQTT-3.3.1-4")]
#[case::keeps_invalid_utf8(
    Fault::KeepsConnection,
    "device-invalid-utf8-topic-closes",
    "MQTT-1.5.3-1"
)]
#[case::keeps_null_character(
    Fault::KeepsConnection,
    "device-null-character-topic-closes",
    "MQTT-1.5.3-2"
)]
#[case::v5_connect_first(
    Fault::V5PublishBeforeConnect,
    "device-v5-connect-first",
    "MQTT-3.1.0-1"
)]
#[case::v5_dup_on_first_send(Fault::V5DupOnFirstQos1, "device-v5-connect-first", "MQTT-4.3.2-2")]
#[case::above_maximum_qos(
    Fault::PublishesAboveMaximumQos,
    "device-v5-maximum-qos",
    "MQTT-3.2.2-11"
)]
#[case::beyond_receive_maximum(
    Fault::ExceedsReceiveMaximum,
    "device-v5-receive-maximum",
    "MQTT-3.3.4-7"
)]
#[case::retain_not_available(
    Fault::RetainsAnyway,
    "device-v5-retain-not-available",
    "MQTT-3.2.2-14"
)]
#[case::own_keep_alive(
    Fault::IgnoresServerKeepAlive,
    "device-v5-server-keep-alive",
    "MQTT-3.1.2-21"
)]
#[case::publishes_after_refusal(
    Fault::PublishesAfterRefusal,
    "device-v5-refused-connack-closes",
    "MQTT-4.13.2-1"
)]
fn faulty_device_fails_the_case_naming_the_statement(
    #[case] fault: Fault,
    #[case] case_id: &str,
    #[case] statement: &str,
) {
    let serve = Serve::start(&["--case", case_id]);
    misbehave(fault, &serve);
    let (code, out, report) = serve.finish();
    let c = &report["cases"][0];
    assert_eq!(c["id"], case_id);
    assert_eq!(c["verdict"], "fail", "{fault:?}\n{out}");
    assert_eq!(c["failed_statement"], statement, "{fault:?}\n{out}");
    assert_eq!(code, 1);
}

/// Closing without PINGRESP is a SHOULD: a device that stays is graded,
/// never failed.
#[test]
fn device_staying_without_pingresp_is_non_strict() {
    let case_id = "device-closes-without-pingresp";
    let serve = Serve::start(&["--case", case_id]);
    misbehave(Fault::PingsButStays, &serve);
    let (code, out, report) = serve.finish();
    let c = &report["cases"][0];
    assert_eq!(c["id"], case_id);
    assert_eq!(c["verdict"], "non-strict", "{out}");
    assert_eq!(code, 0, "{out}");
}

#[test]
fn broker_runs_leave_device_cases_to_serve() {
    let out = common::mqttspec(&["run", "--target", "mqtt://127.0.0.1:1", "cases/device"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mqttspec serve"), "{err}");
}

#[test]
fn sigterm_ends_a_device_run_with_its_report() {
    // No device comes: the first case waits in `accept` when SIGTERM arrives.
    let serve = Serve::start(&[
        "--case",
        "device-connect-first",
        "--case",
        "device-publish-qos1",
    ]);
    let (code, out, report) = serve.stop();
    let cases = report["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2, "{out}");
    assert_eq!(cases[0]["verdict"], "error", "{out}");
    assert!(
        cases[0]["reason"]
            .as_str()
            .unwrap()
            .contains("stopped (terminated)"),
        "{out}"
    );
    assert_eq!(cases[1]["verdict"], "skip", "{out}");
    assert_eq!(code, 1, "{out}");
}
