//! Well-formedness: maps the decoder's wire-level [`Violation`]s of each
//! packet to the normative statements they break, judging the packet's
//! sender (one rule per side, sharing the mapping). CONNECT flag and payload
//! consistency (will flags, fields missing or unflagged) is judged in
//! `s3_1_connect_payload`.

use super::common::{packet, pick, sending, version_of, ALL};
use super::interest::Condition;
use super::{Finding, Interest, Rule, RuleMeta};
use crate::codec::{PacketType, Version, ViolationKind};
use crate::event::{Event, Side};
use crate::session::Session;

const STATEMENTS: &[&str] = &[
    "MQTT-2.2.2-1",
    "MQTT-2.1.3-1",
    "MQTT-3.6.1-1",
    "MQTT-3.8.1-1",
    "MQTT-3.10.1-1",
    "MQTT-3.3.1-4",
    "MQTT-1.5.3-1",
    "MQTT-1.5.3-2",
    "MQTT-1.5.4-1",
    "MQTT-1.5.4-2",
    "MQTT-2.3.1-1",
    "MQTT-2.2.1-3",
    "MQTT-2.2.1-4",
    "MQTT-3.8.3-3",
    "MQTT-3.8.3-2",
    "MQTT-3.10.3-2",
    "MQTT-3.2.2-1",
    "MQTT-3.1.2-3",
    "MQTT-3.1.2-22",
    "MQTT-3-8.3-4",
    "MQTT-3.8.3-5",
    "MQTT-1.5.5-1",
];

/// Statements of [`STATEMENTS`] cited for one version family only.
const ONLY: &[(&str, Version)] = &[
    ("MQTT-2.2.2-1", Version::V311),
    ("MQTT-2.1.3-1", Version::V5),
    ("MQTT-1.5.3-1", Version::V311),
    ("MQTT-1.5.4-1", Version::V5),
    ("MQTT-1.5.3-2", Version::V311),
    ("MQTT-1.5.4-2", Version::V5),
    ("MQTT-2.3.1-1", Version::V311),
    ("MQTT-2.2.1-3", Version::V5),
    ("MQTT-2.2.1-4", Version::V5),
    ("MQTT-3.8.3-3", Version::V311),
    ("MQTT-3.8.3-2", Version::V5),
    ("MQTT-3.2.2-1", Version::V5),
    ("MQTT-3.1.2-22", Version::V311),
    ("MQTT-3-8.3-4", Version::V311),
    ("MQTT-3.8.3-5", Version::V5),
    ("MQTT-1.5.5-1", Version::V5),
];

static CLIENT_META: RuleMeta = RuleMeta {
    name: "client-packets-well-formed",
    statements: STATEMENTS,
    actor: Side::Client,
    versions: ALL,
    only: ONLY,
    summary:
        "Packets the client sends have valid reserved flags, QoS, strings, packet ids and payloads.",
};

static SERVER_META: RuleMeta = RuleMeta {
    name: "server-packets-well-formed",
    statements: STATEMENTS,
    actor: Side::Server,
    versions: ALL,
    only: ONLY,
    summary:
        "Packets the server sends have valid reserved flags, QoS, strings, packet ids and payloads.",
};

/// Client packets are well-formed.
#[derive(Default)]
pub struct ClientPacketsWellFormed;

/// Server packets are well-formed.
#[derive(Default)]
pub struct ServerPacketsWellFormed;

impl Rule for ClientPacketsWellFormed {
    fn meta(&self) -> &'static RuleMeta {
        &CLIENT_META
    }
    fn interest(&self) -> Interest {
        // Only a packet with violations has anything to judge.
        Interest::all_packets(sending(CLIENT_META.actor)).only_while(Condition::Violations)
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        judge(&CLIENT_META, event, session, out);
    }
}

impl Rule for ServerPacketsWellFormed {
    fn meta(&self) -> &'static RuleMeta {
        &SERVER_META
    }
    fn interest(&self) -> Interest {
        Interest::all_packets(sending(SERVER_META.actor)).only_while(Condition::Violations)
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        judge(&SERVER_META, event, session, out);
    }
}

fn judge(meta: &'static RuleMeta, event: &Event, session: &Session, out: &mut Vec<Finding>) {
    let Some((dir, _, decoded)) = packet(event) else {
        return;
    };
    if decoded.violations.is_empty() || dir.sender() != meta.actor {
        return;
    }
    let version = version_of(session, &decoded.packet);
    let ptype = PacketType::from_nibble(decoded.first_byte >> 4);
    let mut seen: Vec<&'static str> = Vec::new();
    for v in &decoded.violations {
        let Some((statement, what)) = statement_for(version, ptype, meta.actor, &v.kind) else {
            continue;
        };
        if seen.contains(&statement) {
            continue;
        }
        seen.push(statement);
        out.push(Finding::with_statement(
            meta,
            statement,
            event,
            format!("{ptype}: {what} (at byte {})", v.offset),
        ));
    }
}

/// The statement a violation breaks and a description, or None when the
/// tables have no statement for it.
pub(crate) fn statement_for(
    version: Version,
    ptype: PacketType,
    side: Side,
    kind: &ViolationKind,
) -> Option<(&'static str, String)> {
    use ViolationKind as K;
    let v5 = version.is_v5();
    Some(match kind {
        K::ReservedFlags { expected, actual } => {
            let id = match ptype {
                PacketType::Pubrel => "MQTT-3.6.1-1",
                PacketType::Subscribe => "MQTT-3.8.1-1",
                PacketType::Unsubscribe => "MQTT-3.10.1-1",
                _ => pick(version, "MQTT-2.2.2-1", "MQTT-2.1.3-1"),
            };
            (
                id,
                format!("fixed-header flags are {actual:#06b}, expected {expected:#06b}"),
            )
        }
        K::Qos3 => ("MQTT-3.3.1-4", "QoS bits are 11 (QoS 3)".to_string()),
        K::InvalidUtf8 { field } => (
            pick(version, "MQTT-1.5.3-1", "MQTT-1.5.4-1"),
            format!("{field} is not well-formed UTF-8"),
        ),
        K::NullCharacter { field } => (
            pick(version, "MQTT-1.5.3-2", "MQTT-1.5.4-2"),
            format!("{field} contains U+0000"),
        ),
        K::ZeroPacketId => {
            let id = match (v5, side) {
                (false, _) => "MQTT-2.3.1-1",
                (true, Side::Client) => "MQTT-2.2.1-3",
                (true, Side::Server) => "MQTT-2.2.1-4",
            };
            (
                id,
                "packet identifier is 0, a non-zero one is required".to_string(),
            )
        }
        K::NoTopicFilter => match ptype {
            PacketType::Subscribe => (
                pick(version, "MQTT-3.8.3-3", "MQTT-3.8.3-2"),
                "payload holds no topic filter".to_string(),
            ),
            PacketType::Unsubscribe => {
                ("MQTT-3.10.3-2", "payload holds no topic filter".to_string())
            }
            _ => return None,
        },
        K::ConnackReservedFlags => (
            pick(version, "MQTT-2.2.2-1", "MQTT-3.2.2-1"),
            "acknowledge flags have reserved bits 7-1 set".to_string(),
        ),
        K::ConnectReservedFlag => (
            "MQTT-3.1.2-3",
            "connect flags have the reserved bit 0 set".to_string(),
        ),
        K::PasswordWithoutUsername if !v5 => (
            "MQTT-3.1.2-22",
            "password flag set without the user name flag".to_string(),
        ),
        K::InvalidSubscriptionOptions { options } => (
            pick(version, "MQTT-3-8.3-4", "MQTT-3.8.3-5"),
            format!("subscription options {options:#04x} have reserved bits set or QoS 3"),
        ),
        K::InvalidVarInt if v5 => (
            "MQTT-1.5.5-1",
            "variable byte integer longer than 4 bytes".to_string(),
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Packet, Subscribe, Subscription, Violation};
    use crate::rules::testkit::{ack, assert_one, client, server, Script};
    use rstest::rstest;

    fn viol(kind: ViolationKind) -> Vec<Violation> {
        vec![Violation { offset: 0, kind }]
    }

    #[test]
    fn clean_packets_pass() {
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Script::publish("a", 1, Some(1))));
        sc.push(server(Packet::Puback(ack(1))));
        assert!(sc.run_rule("client-packets-well-formed").is_empty());
        assert!(sc.run_rule("server-packets-well-formed").is_empty());
    }

    #[rstest]
    #[case(Version::V311, Packet::Pubrel(ack(1)), ViolationKind::ReservedFlags { expected: 2, actual: 0 }, "MQTT-3.6.1-1")]
    #[case(Version::V311, Packet::Puback(ack(1)), ViolationKind::ReservedFlags { expected: 0, actual: 1 }, "MQTT-2.2.2-1")]
    #[case(Version::V5, Packet::Puback(ack(1)), ViolationKind::ReservedFlags { expected: 0, actual: 1 }, "MQTT-2.1.3-1")]
    #[case(
        Version::V311,
        Script::publish("a", 3, Some(1)),
        ViolationKind::Qos3,
        "MQTT-3.3.1-4"
    )]
    #[case(Version::V311, Script::publish("a", 0, None), ViolationKind::InvalidUtf8 { field: "topic name" }, "MQTT-1.5.3-1")]
    #[case(Version::V5, Script::publish("a", 0, None), ViolationKind::NullCharacter { field: "topic name" }, "MQTT-1.5.4-2")]
    #[case(
        Version::V311,
        Script::publish("a", 1, Some(0)),
        ViolationKind::ZeroPacketId,
        "MQTT-2.3.1-1"
    )]
    #[case(
        Version::V5,
        Script::publish("a", 1, Some(0)),
        ViolationKind::ZeroPacketId,
        "MQTT-2.2.1-3"
    )]
    #[case(
        Version::V311,
        Packet::Subscribe(Subscribe::default()),
        ViolationKind::NoTopicFilter,
        "MQTT-3.8.3-3"
    )]
    #[case(
        Version::V311,
        Packet::Unsubscribe(Default::default()),
        ViolationKind::NoTopicFilter,
        "MQTT-3.10.3-2"
    )]
    #[case(Version::V311, Packet::Subscribe(Subscribe { packet_id: 1, filters: vec![Subscription { filter: "a".into(), options: 3 }], ..Subscribe::default() }), ViolationKind::InvalidSubscriptionOptions { options: 3 }, "MQTT-3-8.3-4")]
    fn client_violations_map_to_statements(
        #[case] version: Version,
        #[case] p: Packet,
        #[case] kind: ViolationKind,
        #[case] statement: &str,
    ) {
        let mut sc = Script::connected(version);
        let i = sc.push(client(p).violations(viol(kind)));
        assert_one(
            &sc.run_rule("client-packets-well-formed"),
            statement,
            Some(i),
        );
        assert!(sc.run_rule("server-packets-well-formed").is_empty());
    }

    #[test]
    fn server_violations_are_the_servers() {
        let mut sc = Script::new();
        sc.open();
        sc.push(client(Packet::Connect(Default::default())));
        let i = sc.push(
            server(Packet::Connack(Default::default()))
                .violations(viol(ViolationKind::ConnackReservedFlags)),
        );
        assert_one(
            &sc.run_rule("server-packets-well-formed"),
            "MQTT-2.2.2-1",
            Some(i),
        );
        assert!(sc.run_rule("client-packets-well-formed").is_empty());
    }

    #[test]
    fn unmapped_violations_are_not_reported() {
        let mut sc = Script::connected(Version::V311);
        sc.push(
            client(Packet::Pingreq).violations(viol(ViolationKind::TrailingBytes { count: 1 })),
        );
        assert!(sc.run_rule("client-packets-well-formed").is_empty());
    }
}
