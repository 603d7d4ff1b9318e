//! Section 2.3 packet identifiers: acknowledgements refer to a packet in
//! flight, and a sender does not reuse an id still in use for a new message.

use super::common::{id_list, own_publish, packet, pick, sending, ALL};
use super::{Finding, Interest, Rule, RuleMeta};
use crate::codec::{Packet, PacketType};
use crate::event::{Direction, Event, Side};
use crate::session::{other, Reuse, Session};

static ACK_CLIENT: RuleMeta = RuleMeta {
    name: "client-ack-refers-to-inflight",
    statements: &["MQTT-2.3.1-6", "MQTT-2.2.1-5"],
    actor: Side::Client,
    versions: ALL,
    summary: "On a clean session, the client's PUBACK/PUBREC/PUBREL/PUBCOMP carry the id of a packet in flight.",
};
static ACK_SERVER: RuleMeta = RuleMeta {
    name: "server-ack-refers-to-inflight",
    statements: &["MQTT-2.3.1-6", "MQTT-2.2.1-5"],
    actor: Side::Server,
    versions: ALL,
    summary: "On a clean session, the server's PUBACK/PUBREC/PUBREL/PUBCOMP carry the id of a packet in flight.",
};

/// Acknowledgement ids refer to a packet in flight (one instance per judged side).
pub struct AckRefersToInflight {
    meta: &'static RuleMeta,
}

impl AckRefersToInflight {
    pub fn client() -> Self {
        Self { meta: &ACK_CLIENT }
    }
    pub fn server() -> Self {
        Self { meta: &ACK_SERVER }
    }
}

impl Rule for AckRefersToInflight {
    fn meta(&self) -> &'static RuleMeta {
        self.meta
    }
    fn interest(&self) -> Interest {
        Interest::packets(
            sending(self.meta.actor),
            &[
                PacketType::Puback,
                PacketType::Pubrec,
                PacketType::Pubrel,
                PacketType::Pubcomp,
            ],
        )
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let Some((dir, _, d)) = packet(event) else {
            return;
        };
        if dir.sender() != self.meta.actor || !session.clean() || session.unreliable() {
            return;
        }
        let peer = other(dir);
        // The list of ids in flight is only written out for a finding.
        let candidates = match &d.packet {
            // PUBACK/PUBREC answer the peer's PUBLISH.
            Packet::Puback(a) | Packet::Pubrec(a) => {
                let m = session.inflight(peer);
                let spare = matches!(d.packet, Packet::Puback(_))
                    && session.spare_pubacks(dir).contains_key(&a.packet_id);
                if m.contains_key(&a.packet_id) || spare {
                    return;
                }
                id_list(m.keys())
            }
            // PUBREL follows our own QoS 2 PUBLISH.
            Packet::Pubrel(a) => {
                let m = session.inflight(dir);
                if m.get(&a.packet_id).is_some_and(|f| f.qos == 2) {
                    return;
                }
                id_list(m.iter().filter(|(_, f)| f.qos == 2).map(|(id, _)| id))
            }
            // PUBCOMP answers the peer's PUBREL.
            Packet::Pubcomp(a) => {
                let s = match peer {
                    Direction::ToServer => &session.client_pubrels,
                    Direction::ToClient => &session.server_pubrels,
                };
                if s.contains_key(&a.packet_id) {
                    return;
                }
                id_list(s.keys())
            }
            _ => return,
        };
        let id = d.packet.packet_id().unwrap_or_default();
        let t = d.packet.packet_type();
        out.push(Finding::with_statement(
            self.meta,
            pick(session.version, "MQTT-2.3.1-6", "MQTT-2.2.1-5"),
            event,
            format!(
                "{t} packet id {id} does not match any packet in flight (in flight: {candidates})"
            ),
        ));
    }
}

static REUSE_CLIENT: RuleMeta = RuleMeta {
    name: "client-publish-id-not-in-use",
    statements: &["MQTT-2.3.1-2", "MQTT-2.2.1-3"],
    actor: Side::Client,
    versions: ALL,
    summary: "The client does not give a new QoS>0 PUBLISH a packet id still in flight.",
};
static REUSE_SERVER: RuleMeta = RuleMeta {
    name: "server-publish-id-not-in-use",
    statements: &["MQTT-2.3.1-4", "MQTT-2.2.1-4"],
    actor: Side::Server,
    versions: ALL,
    summary: "The server does not give a new QoS>0 PUBLISH a packet id still in flight.",
};

/// A new PUBLISH does not reuse an id in flight (one instance per judged side).
pub struct PublishIdNotInUse {
    meta: &'static RuleMeta,
}

impl PublishIdNotInUse {
    pub fn client() -> Self {
        Self {
            meta: &REUSE_CLIENT,
        }
    }
    pub fn server() -> Self {
        Self {
            meta: &REUSE_SERVER,
        }
    }
}

impl Rule for PublishIdNotInUse {
    fn meta(&self) -> &'static RuleMeta {
        self.meta
    }
    fn interest(&self) -> Interest {
        Interest::packets(sending(self.meta.actor), &[PacketType::Publish])
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let Some((dir, p)) = own_publish(self.meta.actor, event, session) else {
            return;
        };
        if let Some(Reuse::NewMessage { previous_index }) = session.reuse_of(dir, p) {
            let statement = match self.meta.actor {
                Side::Client => pick(session.version, "MQTT-2.3.1-2", "MQTT-2.2.1-3"),
                Side::Server => pick(session.version, "MQTT-2.3.1-4", "MQTT-2.2.1-4"),
            };
            out.push(Finding::with_statement(
                self.meta,
                statement,
                event,
                format!(
                    "new PUBLISH on \"{}\" uses packet id {}, still in flight for packet {previous_index}",
                    p.topic,
                    p.packet_id.unwrap_or_default()
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{Connect, Packet, Version};
    use crate::rules::testkit::{ack, assert_one, client, server, Script};

    #[test]
    fn complete_flows_pass() {
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Script::publish("a", 1, Some(1))));
        sc.push(server(Packet::Puback(ack(1))));
        sc.push(client(Script::publish("a", 2, Some(2))));
        sc.push(server(Packet::Pubrec(ack(2))));
        sc.push(client(Packet::Pubrel(ack(2))));
        sc.push(server(Packet::Pubcomp(ack(2))));
        sc.push(server(Script::publish("a", 2, Some(1))));
        sc.push(client(Packet::Pubrec(ack(1))));
        sc.push(server(Packet::Pubrel(ack(1))));
        sc.push(client(Packet::Pubcomp(ack(1))));
        // Ids are free again.
        sc.push(client(Script::publish("b", 1, Some(1))));
        sc.push(server(Packet::Puback(ack(1))));
        assert!(sc.run().is_empty(), "{:#?}", sc.run());
    }

    #[test]
    fn unknown_ack_ids_are_reported() {
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Script::publish("a", 1, Some(5))));
        let i = sc.push(server(Packet::Puback(ack(7))));
        let f = sc.run_rule("server-ack-refers-to-inflight");
        assert_one(&f, "MQTT-2.3.1-6", Some(i));
        assert!(f[0].message.contains("in flight: 5"), "{}", f[0].message);
        let mut sc = Script::connected(Version::V5);
        let i = sc.push(client(Packet::Pubcomp(ack(9))));
        assert_one(
            &sc.run_rule("client-ack-refers-to-inflight"),
            "MQTT-2.2.1-5",
            Some(i),
        );
    }

    #[test]
    fn pubcomp_answers_any_pubrel() {
        // The server must answer a PUBREL even for an id it does not know.
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Packet::Pubrel(ack(4))));
        sc.push(server(Packet::Pubcomp(ack(4))));
        assert!(sc.run_rule("server-ack-refers-to-inflight").is_empty());
    }

    #[test]
    fn every_copy_of_a_resent_message_may_be_answered() {
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Script::publish("a", 1, Some(1))));
        sc.push(client(Packet::Publish(crate::codec::Publish {
            dup: true,
            qos: 1,
            topic: "a".into(),
            packet_id: Some(1),
            ..Default::default()
        })));
        sc.push(server(Packet::Puback(ack(1))));
        sc.push(server(Packet::Puback(ack(1))));
        sc.push(client(Packet::Pubrel(ack(2))));
        sc.push(client(Packet::Pubrel(ack(2))));
        sc.push(server(Packet::Pubcomp(ack(2))));
        sc.push(server(Packet::Pubcomp(ack(2))));
        // (The client's PUBRELs for an unknown id are its own problem.)
        assert!(sc.run_rule("server-ack-refers-to-inflight").is_empty());
        let i = sc.push(server(Packet::Puback(ack(1))));
        assert_one(
            &sc.run_rule("server-ack-refers-to-inflight"),
            "MQTT-2.3.1-6",
            Some(i),
        );
    }

    #[test]
    fn lost_bytes_suspend_judgment() {
        let mut sc = Script::connected(Version::V311);
        sc.gap(crate::event::Direction::ToServer);
        sc.push(server(Packet::Puback(ack(7))));
        assert!(sc.run().is_empty());
    }

    #[test]
    fn resumed_sessions_are_not_judged() {
        let mut sc = Script::connected_with(Connect {
            clean_session: false,
            client_id: "c".into(),
            ..Connect::default()
        });
        sc.push(server(Packet::Pubrel(ack(3))));
        assert!(sc.run().is_empty());
    }

    #[test]
    fn reused_ids_are_reported() {
        let mut sc = Script::connected(Version::V311);
        sc.push(server(Script::publish("a", 1, Some(1))));
        let i = sc.push(server(Script::publish("b", 1, Some(1))));
        assert_one(
            &sc.run_rule("server-publish-id-not-in-use"),
            "MQTT-2.3.1-4",
            Some(i),
        );
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Script::publish("a", 2, Some(1))));
        let i = sc.push(client(Script::publish("b", 1, Some(1))));
        assert_one(
            &sc.run_rule("client-publish-id-not-in-use"),
            "MQTT-2.3.1-2",
            Some(i),
        );
    }
}
