//! Section 4.3 QoS flows: the server answers a client PUBLISH with the
//! acknowledgement its QoS calls for (PUBACK for 1, PUBREC for 2). Missing
//! acknowledgements are not judged here.

use super::common::{packet, pick, ALL};
use super::{Finding, Interest, Rule, RuleMeta};
use crate::codec::{Packet, PacketType};
use crate::event::{Direction, Event, Side};
use crate::session::Session;

static META: RuleMeta = RuleMeta {
    name: "server-ack-type-matches-qos",
    statements: &["MQTT-4.3.3-2", "MQTT-3.3.4-1", "MQTT-4.3.3-8"],
    actor: Side::Server,
    versions: ALL,
    summary: "The server acknowledges a QoS 1 PUBLISH with PUBACK and a QoS 2 PUBLISH with PUBREC, not the other.",
};

/// PUBACK answers QoS 1 and PUBREC answers QoS 2.
#[derive(Default)]
pub struct ServerAckTypeMatchesQos;

impl Rule for ServerAckTypeMatchesQos {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn interest(&self) -> Interest {
        Interest::packets(
            Direction::ToClient,
            &[PacketType::Puback, PacketType::Pubrec],
        )
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let Some((Direction::ToClient, _, d)) = packet(event) else {
            return;
        };
        if session.unreliable() {
            return;
        }
        let (id, expected_qos) = match &d.packet {
            Packet::Puback(a) => (a.packet_id, 1),
            Packet::Pubrec(a) => (a.packet_id, 2),
            _ => return,
        };
        let Some(f) = session.client_inflight.get(&id) else {
            return;
        };
        if f.qos == expected_qos {
            return;
        }
        let statement = if f.qos == 2 {
            pick(session.version, "MQTT-4.3.3-2", "MQTT-4.3.3-8")
        } else {
            "MQTT-3.3.4-1"
        };
        let wanted = if f.qos == 2 { "PUBREC" } else { "PUBACK" };
        out.push(Finding::with_statement(
            &META,
            statement,
            event,
            format!(
                "{} for packet id {id}, but the client's PUBLISH (packet {}) was QoS {}, which calls for {wanted}",
                d.packet.packet_type(),
                f.index,
                f.qos
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{Packet, Version};
    use crate::rules::testkit::{ack, assert_one, client, server, Script};

    #[test]
    fn right_acks_pass() {
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Script::publish("a", 1, Some(1))));
        sc.push(client(Script::publish("a", 2, Some(2))));
        sc.push(server(Packet::Puback(ack(1))));
        sc.push(server(Packet::Pubrec(ack(2))));
        assert!(sc.run().is_empty());
    }

    #[test]
    fn puback_for_qos2_is_reported() {
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Script::publish("a", 2, Some(2))));
        let i = sc.push(server(Packet::Puback(ack(2))));
        assert_one(
            &sc.run_rule("server-ack-type-matches-qos"),
            "MQTT-4.3.3-2",
            Some(i),
        );
    }

    #[test]
    fn pubrec_for_qos1_is_reported() {
        let mut sc = Script::connected(Version::V5);
        sc.push(client(Script::publish("a", 1, Some(2))));
        let i = sc.push(server(Packet::Pubrec(ack(2))));
        assert_one(
            &sc.run_rule("server-ack-type-matches-qos"),
            "MQTT-3.3.4-1",
            Some(i),
        );
    }
}
