//! Whole-connection scenarios run through every rule: conformant traffic of
//! each version yields no finding, and a client that misbehaves on purpose
//! gets findings against the client only, never against a server that
//! reacts by closing.

use rstest::rstest;

use super::testkit::{ack, client, server, Script};
use crate::codec::properties::id as prop;
use crate::codec::{
    Packet, Properties, Property, Publish, Suback, Subscribe, Subscription, Unsuback, Unsubscribe,
    Value, Version, Violation, ViolationKind,
};
use crate::event::{ClosedBy, Direction, Side};
use crate::spec::lookup;

fn conformant(version: Version) -> Script {
    let v5 = version.is_v5();
    let mut sc = Script::connected(version);
    sc.push(client(Packet::Subscribe(Subscribe {
        packet_id: 1,
        filters: vec![
            Subscription {
                filter: "a/+".into(),
                options: 2,
            },
            Subscription {
                filter: "$SYS/#".into(),
                options: 0,
            },
            Subscription {
                filter: "#".into(),
                options: 0,
            },
        ],
        ..Subscribe::default()
    })));
    sc.push(server(Packet::Suback(Suback {
        packet_id: 1,
        codes: vec![2, 0, 0],
        ..Suback::default()
    })));
    // Client publishes at each QoS.
    sc.push(client(Script::publish("a/b", 0, None)));
    sc.push(client(Script::publish("a/b", 1, Some(2))));
    sc.push(client(Script::publish("a/b", 2, Some(3))));
    sc.push(server(Packet::Puback(ack(2))));
    sc.push(server(Packet::Pubrec(ack(3))));
    sc.push(client(Packet::Pubrel(ack(3))));
    sc.push(server(Packet::Pubcomp(ack(3))));
    // Server delivers them back, and a $SYS message.
    sc.push(server(Script::publish("a/b", 0, None)));
    sc.push(server(Script::publish("a/b", 1, Some(1))));
    sc.push(server(Script::publish("$SYS/uptime", 0, None)));
    sc.push(client(Packet::Puback(ack(1))));
    let props = |alias: u16| {
        if v5 {
            Properties(vec![Property {
                id: prop::TOPIC_ALIAS,
                value: Value::U16(alias),
            }])
        } else {
            Properties::default()
        }
    };
    sc.push(server(Packet::Publish(Publish {
        qos: 2,
        topic: "a/b".into(),
        packet_id: Some(1),
        properties: props(1),
        ..Publish::default()
    })));
    sc.push(client(Packet::Pubrec(ack(1))));
    sc.push(server(Packet::Pubrel(ack(1))));
    sc.push(client(Packet::Pubcomp(ack(1))));
    if v5 {
        // Aliased topic: empty name, alias 1 = "a/b".
        sc.push(server(Packet::Publish(Publish {
            topic: "".into(),
            properties: props(1),
            ..Publish::default()
        })));
    }
    sc.at(30.0);
    sc.push(client(Packet::Pingreq));
    sc.push(server(Packet::Pingresp));
    sc.push(client(Packet::Unsubscribe(Unsubscribe {
        packet_id: 4,
        filters: vec!["a/+".into()],
        ..Unsubscribe::default()
    })));
    sc.push(server(Packet::Unsuback(Unsuback {
        packet_id: 4,
        codes: if v5 { vec![0] } else { vec![] },
        ..Unsuback::default()
    })));
    sc.push(client(Packet::Disconnect(Default::default())));
    sc.close(ClosedBy::Client);
    sc
}

#[rstest]
#[case(Version::V31)]
#[case(Version::V311)]
#[case(Version::V5)]
fn conformant_traffic_has_no_findings(#[case] version: Version) {
    let f = conformant(version).run();
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn server_closing_on_client_garbage_is_not_judged() {
    let mut sc = Script::connected(Version::V311);
    sc.push(client(Packet::Pingreq));
    sc.malformed(Direction::ToServer);
    sc.at(60.0).close(ClosedBy::Server);
    assert!(sc.run().is_empty());
}

#[test]
fn malformed_client_packets_blame_only_the_client() {
    let mut sc = Script::connected(Version::V311);
    sc.push(
        client(Script::publish("a", 3, Some(1))).violations(vec![Violation {
            offset: 0,
            kind: ViolationKind::Qos3,
        }]),
    );
    sc.push(
        client(Packet::Subscribe(Subscribe {
            packet_id: 0,
            ..Subscribe::default()
        }))
        .violations(vec![
            Violation {
                offset: 2,
                kind: ViolationKind::ZeroPacketId,
            },
            Violation {
                offset: 4,
                kind: ViolationKind::NoTopicFilter,
            },
        ]),
    );
    // A lenient server answers anyway: not what the rules judge.
    sc.push(server(Packet::Suback(Suback {
        packet_id: 0,
        codes: vec![0x80],
        ..Suback::default()
    })));
    sc.push(server(Packet::Puback(ack(1))));
    sc.close(ClosedBy::Server);
    let f = sc.run();
    assert!(f.iter().all(|f| f.actor == Side::Client), "{f:#?}");
    let ids: Vec<&str> = f.iter().map(|f| f.rule).collect();
    assert_eq!(ids, ["MQTT-3.3.1-4", "MQTT-2.3.1-1", "MQTT-3.8.3-3"]);
}

#[test]
fn client_silence_ended_by_the_server_is_judged_past_the_keep_alive() {
    // Keep Alive 60: a server close at 80 s of silence is within 1.5 x.
    let mut sc = Script::connected(Version::V311);
    sc.at(80.0).close(ClosedBy::Server);
    assert!(sc.run().is_empty());
    // At 100 s the server closed a client that stayed silent too long.
    let mut sc = Script::connected(Version::V311);
    sc.at(100.0).close(ClosedBy::Server);
    let f = sc.run();
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!((f[0].rule, f[0].actor), ("MQTT-3.1.2-23", Side::Client));
}

#[test]
fn every_finding_cites_a_statement_of_its_version() {
    // Violations of several rules in each version; each statement must be in
    // that version's table.
    for version in [Version::V311, Version::V5] {
        let mut sc = Script::connected(version);
        sc.push(client(Script::publish("a/#", 1, Some(1))));
        sc.push(server(Packet::Pubrec(ack(1))));
        sc.push(server(Packet::Suback(Suback {
            packet_id: 9,
            codes: vec![0],
            ..Suback::default()
        })));
        sc.push(server(Packet::Unsuback(Unsuback {
            packet_id: 9,
            ..Unsuback::default()
        })));
        sc.push(server(Packet::Pubrel(ack(8))));
        sc.push(client(Packet::Disconnect(Default::default())));
        sc.push(client(Packet::Pingreq));
        let f = sc.run();
        assert!(f.len() >= 6, "{f:#?}");
        for finding in f {
            assert!(
                lookup(version, finding.rule).is_some(),
                "{} not in {version:?}: {finding:#?}",
                finding.rule
            );
        }
    }
}
