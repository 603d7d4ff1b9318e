//! Section 4.6 message ordering, the client's acknowledgements: PUBACKs in
//! the order the QoS 1 PUBLISHes were received, PUBRECs in the order the
//! QoS 2 PUBLISHes were received, PUBRELs in the order the PUBRECs were
//! received. (Re-sending order, MQTT-4.6.0-1, concerns re-sends after a
//! reconnect, whose original order lies on an earlier connection.)

use super::common::{packet, ALL};
use super::{Finding, Interest, Rule, RuleMeta};
use crate::codec::{Packet, PacketType};
use crate::event::{Direction, Event, Side};
use crate::session::{IdSet, Session, Stage};

static META: RuleMeta = RuleMeta {
    name: "client-acks-in-order",
    statements: &["MQTT-4.6.0-2", "MQTT-4.6.0-3", "MQTT-4.6.0-4"],
    actor: Side::Client,
    versions: ALL,
    only: &[],
    summary: "The client sends PUBACKs and PUBRECs in the order the server's QoS 1 and QoS 2 PUBLISHes arrived, and PUBRELs in the order the PUBRECs arrived.",
};

/// One packet from the server still awaiting the client's answer.
struct Awaited {
    id: u16,
    /// Packet index of the server's packet.
    index: u32,
    /// Already named in a finding (each overtaken packet is reported once).
    overtaken: bool,
}

/// A queue of server packets in arrival order, each to be answered in turn.
#[derive(Default)]
struct Queue(Vec<Awaited>);

impl Queue {
    fn push(&mut self, id: u16, index: u32) {
        if !self.0.iter().any(|a| a.id == id) {
            self.0.push(Awaited {
                id,
                index,
                overtaken: false,
            });
        }
    }

    /// The answer for `id` went out: the earlier packets it overtook and
    /// that were not reported yet (their ids and indexes).
    fn answer(&mut self, id: u16) -> Vec<(u16, u32)> {
        let Some(at) = self.0.iter().position(|a| a.id == id) else {
            return Vec::new();
        };
        let mut overtaken = Vec::new();
        for a in self.0[..at].iter_mut().filter(|a| !a.overtaken) {
            a.overtaken = true;
            overtaken.push((a.id, a.index));
        }
        self.0.remove(at);
        overtaken
    }
}

/// The client's acknowledgements follow the order of what they answer.
#[derive(Default)]
pub struct ClientAcksInOrder {
    /// QoS 1 PUBLISHes awaiting PUBACK.
    pubacks: Queue,
    /// QoS 2 PUBLISHes awaiting PUBREC.
    pubrecs: Queue,
    /// PUBRECs awaiting PUBREL.
    pubrels: Queue,
    /// Ids of PUBLISHes the client already answered: a DUP copy of one of
    /// them is a duplicate, not a new message to answer in turn.
    answered: IdSet,
}

impl Rule for ClientAcksInOrder {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn interest(&self) -> Interest {
        Interest::packets(
            Direction::ToClient,
            &[PacketType::Publish, PacketType::Pubrec],
        ) | Interest::packets(
            Direction::ToServer,
            &[PacketType::Puback, PacketType::Pubrec, PacketType::Pubrel],
        )
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let Some((dir, index, d)) = packet(event) else {
            return;
        };
        if session.lossy {
            return;
        }
        let (statement, what, id, overtaken) = match (dir, &d.packet) {
            (Direction::ToClient, Packet::Publish(p)) => {
                let Some(id) = p.packet_id else {
                    return;
                };
                if p.dup && self.answered.contains(id) {
                    return;
                }
                self.answered.remove(id);
                match p.qos {
                    1 => self.pubacks.push(id, index),
                    2 => self.pubrecs.push(id, index),
                    _ => {}
                }
                return;
            }
            (Direction::ToClient, Packet::Pubrec(a)) => {
                let awaits_pubrel = session
                    .client_inflight
                    .get(&a.packet_id)
                    .is_some_and(|f| f.qos == 2 && f.stage == Stage::AwaitPubrec);
                if awaits_pubrel && a.reason_code.is_none_or(|c| c < 0x80) {
                    self.pubrels.push(a.packet_id, index);
                }
                return;
            }
            (Direction::ToServer, Packet::Puback(a)) => {
                self.answered.insert(a.packet_id);
                (
                    "MQTT-4.6.0-2",
                    "QoS 1 PUBLISH",
                    a.packet_id,
                    self.pubacks.answer(a.packet_id),
                )
            }
            (Direction::ToServer, Packet::Pubrec(a)) => {
                self.answered.insert(a.packet_id);
                (
                    "MQTT-4.6.0-3",
                    "QoS 2 PUBLISH",
                    a.packet_id,
                    self.pubrecs.answer(a.packet_id),
                )
            }
            (Direction::ToServer, Packet::Pubrel(a)) => (
                "MQTT-4.6.0-4",
                "PUBREC",
                a.packet_id,
                self.pubrels.answer(a.packet_id),
            ),
            _ => return,
        };
        if overtaken.is_empty() {
            return;
        }
        let earlier: Vec<String> = overtaken
            .iter()
            .map(|(id, i)| format!("id {id} (packet {i})"))
            .collect();
        out.push(Finding::with_statement(
            &META,
            statement,
            event,
            format!(
                "{} for packet id {id} sent before answering the earlier {what} {}",
                d.packet.packet_type(),
                earlier.join(", ")
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{Packet, Publish, Version};
    use crate::rules::testkit::{ack, assert_one, client, server, Script};
    use rstest::rstest;

    const RULE: &str = "client-acks-in-order";

    #[rstest]
    #[case(Version::V311)]
    #[case(Version::V5)]
    fn acks_in_order_pass(#[case] version: Version) {
        let mut sc = Script::connected(version);
        sc.push(server(Script::publish("a", 1, Some(1))));
        sc.push(server(Script::publish("a", 2, Some(2))));
        sc.push(server(Script::publish("a", 1, Some(3))));
        // PUBACKs and PUBRECs are ordered apart.
        sc.push(client(Packet::Pubrec(ack(2))));
        sc.push(client(Packet::Puback(ack(1))));
        sc.push(client(Packet::Puback(ack(3))));
        sc.push(client(Script::publish("b", 2, Some(7))));
        sc.push(client(Script::publish("b", 2, Some(8))));
        sc.push(server(Packet::Pubrec(ack(7))));
        sc.push(server(Packet::Pubrec(ack(8))));
        sc.push(client(Packet::Pubrel(ack(7))));
        sc.push(client(Packet::Pubrel(ack(8))));
        assert!(sc.run().is_empty(), "{:#?}", sc.run());
    }

    #[rstest]
    #[case(Version::V311, 1, "MQTT-4.6.0-2")]
    #[case(Version::V5, 1, "MQTT-4.6.0-2")]
    #[case(Version::V311, 2, "MQTT-4.6.0-3")]
    #[case(Version::V5, 2, "MQTT-4.6.0-3")]
    fn acks_out_of_order_are_reported(
        #[case] version: Version,
        #[case] qos: u8,
        #[case] statement: &str,
    ) {
        let ack_of = |id| {
            if qos == 1 {
                Packet::Puback(ack(id))
            } else {
                Packet::Pubrec(ack(id))
            }
        };
        let mut sc = Script::connected(version);
        sc.push(server(Script::publish("a", qos, Some(1))));
        sc.push(server(Script::publish("a", qos, Some(2))));
        sc.push(server(Script::publish("a", qos, Some(3))));
        let i = sc.push(client(ack_of(3)));
        // Later answers to the overtaken ones are not reported again.
        sc.push(client(ack_of(2)));
        sc.push(client(ack_of(1)));
        let f = sc.run_rule(RULE);
        assert_one(&f, statement, Some(i));
        assert!(
            f[0].message.contains("id 1 (packet 2), id 2 (packet 3)"),
            "{}",
            f[0].message
        );
    }

    #[rstest]
    #[case(Version::V311)]
    #[case(Version::V5)]
    fn pubrels_out_of_order_are_reported(#[case] version: Version) {
        let mut sc = Script::connected(version);
        sc.push(client(Script::publish("b", 2, Some(7))));
        sc.push(client(Script::publish("b", 2, Some(8))));
        sc.push(server(Packet::Pubrec(ack(7))));
        sc.push(server(Packet::Pubrec(ack(8))));
        let i = sc.push(client(Packet::Pubrel(ack(8))));
        sc.push(client(Packet::Pubrel(ack(7))));
        assert_one(&sc.run_rule(RULE), "MQTT-4.6.0-4", Some(i));
    }

    #[test]
    fn duplicates_of_answered_messages_are_not_queued() {
        let mut sc = Script::connected(Version::V311);
        sc.push(server(Script::publish("a", 1, Some(1))));
        sc.push(client(Packet::Puback(ack(1))));
        // The server re-sent it while the PUBACK was on its way.
        sc.push(server(Packet::Publish(Publish {
            dup: true,
            qos: 1,
            topic: "a".into(),
            packet_id: Some(1),
            ..Publish::default()
        })));
        sc.push(server(Script::publish("a", 1, Some(2))));
        sc.push(client(Packet::Puback(ack(2))));
        sc.push(client(Packet::Puback(ack(1))));
        assert!(sc.run_rule(RULE).is_empty());
    }

    #[test]
    fn lost_bytes_suspend_judgment() {
        let mut sc = Script::connected(Version::V311);
        sc.push(server(Script::publish("a", 1, Some(1))));
        sc.push(server(Script::publish("a", 1, Some(2))));
        sc.gap(crate::event::Direction::ToServer);
        sc.push(client(Packet::Puback(ack(2))));
        assert!(sc.run_rule(RULE).is_empty());
    }
}
