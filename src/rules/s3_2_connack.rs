//! Section 3.2 CONNACK: it is the server's first packet, and a refusal never
//! claims a session is present.

use super::common::{packet, pick, ALL};
use super::interest::Condition;
use super::{Finding, Interest, Rule, RuleMeta};
use crate::codec::{Packet, PacketType, Version};
use crate::event::{Direction, Event, Side};
use crate::session::Session;

static FIRST_META: RuleMeta = RuleMeta {
    name: "first-server-packet-is-connack",
    statements: &["MQTT-3.2.0-1"],
    actor: Side::Server,
    versions: ALL,
    only: &[],
    summary: "The first packet the server sends is CONNACK (5.0: or AUTH).",
};

/// The server's first packet is CONNACK.
#[derive(Default)]
pub struct FirstServerPacketIsConnack;

impl Rule for FirstServerPacketIsConnack {
    fn meta(&self) -> &'static RuleMeta {
        &FIRST_META
    }
    fn interest(&self) -> Interest {
        Interest::all_packets(Direction::ToClient).only_while(Condition::FirstFromServer)
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let Some((Direction::ToClient, _, d)) = packet(event) else {
            return;
        };
        if session.opened_at.is_none() || session.lossy || session.from_server.packets > 0 {
            return;
        }
        let ok = match d.packet {
            Packet::Connack(_) => true,
            Packet::Auth(_) => session.version.is_v5(),
            _ => false,
        };
        if !ok {
            out.push(Finding::new(
                &FIRST_META,
                event,
                format!(
                    "first packet from the server is {}, expected CONNACK",
                    d.packet.packet_type()
                ),
            ));
        }
    }
}

static REFUSED_META: RuleMeta = RuleMeta {
    name: "refused-connack-without-session",
    statements: &["MQTT-3.2.2-4", "MQTT-3.2.2-6"],
    actor: Side::Server,
    versions: ALL,
    only: &[
        ("MQTT-3.2.2-4", Version::V311),
        ("MQTT-3.2.2-6", Version::V5),
    ],
    summary: "A CONNACK with a non-zero code has Session Present = 0.",
};

/// A refusing CONNACK has Session Present 0.
#[derive(Default)]
pub struct RefusedConnackWithoutSession;

impl Rule for RefusedConnackWithoutSession {
    fn meta(&self) -> &'static RuleMeta {
        &REFUSED_META
    }
    fn interest(&self) -> Interest {
        Interest::packets(Direction::ToClient, &[PacketType::Connack])
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let Some((Direction::ToClient, _, d)) = packet(event) else {
            return;
        };
        let Packet::Connack(c) = &d.packet else {
            return;
        };
        if c.code != 0 && c.session_present() {
            out.push(Finding::with_statement(
                &REFUSED_META,
                pick(session.version, "MQTT-3.2.2-4", "MQTT-3.2.2-6"),
                event,
                format!(
                    "CONNACK has code {:#04x} (refused) with Session Present = 1, expected 0",
                    c.code
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{Connack, Packet, Version};
    use crate::rules::testkit::{assert_one, client, server, Script};

    #[test]
    fn connack_first_passes() {
        assert!(Script::connected(Version::V5).run().is_empty());
    }

    #[test]
    fn publish_before_connack_is_reported() {
        let mut sc = Script::new();
        sc.open();
        sc.push(client(Packet::Connect(Box::default())));
        let i = sc.push(server(Script::publish("a", 0, None)));
        assert_one(
            &sc.run_rule("first-server-packet-is-connack"),
            "MQTT-3.2.0-1",
            Some(i),
        );
    }

    #[test]
    fn refused_with_session_present_is_reported() {
        let mut sc = Script::new();
        sc.open();
        sc.push(client(Packet::Connect(Box::default())));
        let i = sc.push(server(Packet::Connack(Connack {
            flags: 1,
            code: 5,
            ..Connack::default()
        })));
        assert_one(
            &sc.run_rule("refused-connack-without-session"),
            "MQTT-3.2.2-4",
            Some(i),
        );
    }

    #[test]
    fn refused_without_session_passes() {
        let mut sc = Script::new();
        sc.open();
        sc.push(client(Packet::Connect(Box::default())));
        sc.push(server(Packet::Connack(Connack {
            code: 5,
            ..Connack::default()
        })));
        assert!(sc.run().is_empty());
    }
}
