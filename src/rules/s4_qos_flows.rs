//! Section 4.3 QoS flows: a receiver answers a PUBLISH with the
//! acknowledgement its QoS calls for (PUBACK for 1, PUBREC for 2), judged for
//! both sides; the client as QoS 2 sender sends PUBREL only after PUBREC and
//! never re-sends a PUBLISH it has released. Missing acknowledgements are not
//! judged here.

use super::common::{packet, pick, sending, unreliable_for, ALL};
use super::{Finding, Interest, Rule, RuleMeta};
use crate::codec::{Packet, PacketType, Version};
use crate::event::{Direction, Event, Side};
use crate::session::{content_hash, other, Session, Stage};

static SERVER_META: RuleMeta = RuleMeta {
    name: "server-ack-type-matches-qos",
    statements: &["MQTT-4.3.3-2", "MQTT-3.3.4-1", "MQTT-4.3.3-8"],
    actor: Side::Server,
    versions: ALL,
    only: &[
        ("MQTT-4.3.3-2", Version::V311),
        ("MQTT-4.3.3-8", Version::V5),
    ],
    summary: "The server acknowledges a QoS 1 PUBLISH with PUBACK and a QoS 2 PUBLISH with PUBREC, not the other.",
};
static CLIENT_META: RuleMeta = RuleMeta {
    name: "client-ack-type-matches-qos",
    statements: &["MQTT-4.3.3-2", "MQTT-3.3.4-1", "MQTT-4.3.3-8"],
    actor: Side::Client,
    versions: ALL,
    only: &[
        ("MQTT-4.3.3-2", Version::V311),
        ("MQTT-4.3.3-8", Version::V5),
    ],
    summary: "The client acknowledges a QoS 1 PUBLISH with PUBACK and a QoS 2 PUBLISH with PUBREC, not the other.",
};

/// PUBACK answers QoS 1 and PUBREC answers QoS 2 (one instance per judged side).
pub struct AckTypeMatchesQos {
    meta: &'static RuleMeta,
}

impl AckTypeMatchesQos {
    pub fn client() -> Self {
        Self { meta: &CLIENT_META }
    }
    pub fn server() -> Self {
        Self { meta: &SERVER_META }
    }
}

impl Rule for AckTypeMatchesQos {
    fn meta(&self) -> &'static RuleMeta {
        self.meta
    }
    fn interest(&self) -> Interest {
        Interest::packets(
            sending(self.meta.actor),
            &[PacketType::Puback, PacketType::Pubrec],
        )
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let Some((dir, _, d)) = packet(event) else {
            return;
        };
        if dir.sender() != self.meta.actor || unreliable_for(self.meta.actor, session) {
            return;
        }
        let (id, expected_qos) = match &d.packet {
            Packet::Puback(a) => (a.packet_id, 1),
            Packet::Pubrec(a) => (a.packet_id, 2),
            _ => return,
        };
        let Some(f) = session.inflight(other(dir)).get(&id) else {
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
        let peer = match self.meta.actor {
            Side::Client => "server",
            Side::Server => "client",
        };
        out.push(Finding::with_statement(
            self.meta,
            statement,
            event,
            format!(
                "{} for packet id {id}, but the {peer}'s PUBLISH (packet {}) was QoS {}, which calls for {wanted}",
                d.packet.packet_type(),
                f.index,
                f.qos
            ),
        ));
    }
}

static SENDER_META: RuleMeta = RuleMeta {
    name: "client-qos2-sender-flow",
    statements: &["MQTT-4.3.3-1", "MQTT-4.3.3-3", "MQTT-4.3.3-6"],
    actor: Side::Client,
    versions: ALL,
    only: &[
        ("MQTT-4.3.3-1", Version::V311),
        ("MQTT-4.3.3-3", Version::V5),
        ("MQTT-4.3.3-6", Version::V5),
    ],
    summary: "As QoS 2 sender the client sends PUBREL only after the PUBREC, and never re-sends a PUBLISH once it has sent its PUBREL.",
};

/// The client's QoS 2 sender flow: PUBREL follows PUBREC, and a released
/// message is not re-sent (a DUP PUBLISH with the id and content of one the
/// client released on this connection, whether or not PUBCOMP came back).
#[derive(Default)]
pub struct ClientQos2SenderFlow {
    released: Released,
}

/// Slots of [`Released`].
const RELEASED_SLOTS: usize = 64;

/// The messages the client released, by packet id → [`content_hash`] of
/// topic and payload: one slot per id modulo [`RELEASED_SLOTS`], so that
/// memory stays at 1 KiB however many ids a long connection goes through,
/// and every update touches one slot. A release is forgotten when a later
/// one takes its slot (64 ids further on, with ids given in turn): a
/// re-send that late is not judged.
#[derive(Default)]
struct Released(Option<Box<[(u32, u64); RELEASED_SLOTS]>>);

impl Released {
    const EMPTY: (u32, u64) = (u32::MAX, 0);

    fn insert(&mut self, id: u16, hash: u64) {
        let slots = self
            .0
            .get_or_insert_with(|| Box::new([Self::EMPTY; RELEASED_SLOTS]));
        slots[usize::from(id) % RELEASED_SLOTS] = (u32::from(id), hash);
    }

    fn get(&self, id: u16) -> Option<u64> {
        let (held, hash) = self.0.as_ref()?[usize::from(id) % RELEASED_SLOTS];
        (held == u32::from(id)).then_some(hash)
    }

    fn remove(&mut self, id: u16) {
        if let Some(slots) = self.0.as_mut() {
            let slot = &mut slots[usize::from(id) % RELEASED_SLOTS];
            if slot.0 == u32::from(id) {
                *slot = Self::EMPTY;
            }
        }
    }

    fn clear(&mut self) {
        self.0 = None;
    }
}

impl Rule for ClientQos2SenderFlow {
    fn meta(&self) -> &'static RuleMeta {
        &SENDER_META
    }
    fn interest(&self) -> Interest {
        Interest::packets(
            Direction::ToServer,
            &[PacketType::Publish, PacketType::Pubrel],
        )
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let Some((Direction::ToServer, _, d)) = packet(event) else {
            return;
        };
        if session.lossy {
            self.released.clear();
            return;
        }
        match &d.packet {
            Packet::Pubrel(a) => {
                let Some(f) = session.client_inflight.get(&a.packet_id) else {
                    return;
                };
                if f.qos != 2 {
                    return;
                }
                self.released.insert(a.packet_id, f.content);
                if f.stage == Stage::AwaitPubrec {
                    out.push(Finding::with_statement(
                        &SENDER_META,
                        pick(session.version, "MQTT-4.3.3-1", "MQTT-4.3.3-3"),
                        event,
                        format!(
                            "PUBREL for packet id {} before the server's PUBREC for the QoS 2 PUBLISH (packet {})",
                            a.packet_id, f.index
                        ),
                    ));
                }
            }
            Packet::Publish(p) => {
                let Some(id) = p.packet_id else {
                    return;
                };
                if !p.dup {
                    // A new message under this id.
                    self.released.remove(id);
                    return;
                }
                let topic = session
                    .publish_topic(Direction::ToServer, p)
                    .unwrap_or(&p.topic);
                if p.qos == 2
                    && self.released.get(id) == Some(content_hash(topic.as_bytes(), &p.payload))
                {
                    out.push(Finding::with_statement(
                        &SENDER_META,
                        pick(session.version, "MQTT-4.3.3-1", "MQTT-4.3.3-6"),
                        event,
                        format!(
                            "QoS 2 PUBLISH packet id {id} on \"{topic}\" re-sent after the client's PUBREL for it"
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{Packet, Version};
    use crate::rules::testkit::{ack, assert_one, client, server, Script};
    use rstest::rstest;

    /// A release is remembered until its id is used again or a release
    /// 64 ids further on takes its slot.
    #[test]
    fn released_messages_by_slot() {
        let mut r = super::Released::default();
        assert_eq!(r.get(1), None);
        r.insert(1, 11);
        r.insert(2, 22);
        assert_eq!((r.get(1), r.get(2), r.get(65)), (Some(11), Some(22), None));
        r.remove(65);
        assert_eq!(r.get(1), Some(11));
        r.remove(1);
        assert_eq!(r.get(1), None);
        r.insert(66, 33);
        assert_eq!((r.get(2), r.get(66)), (None, Some(33)));
        r.insert(0, 44);
        assert_eq!(r.get(0), Some(44));
        r.clear();
        assert_eq!(r.get(66), None);
    }

    fn dup(p: Packet) -> Packet {
        match p {
            Packet::Publish(p) => Packet::Publish(crate::codec::Publish { dup: true, ..p }),
            p => p,
        }
    }

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
    fn client_acks_are_judged_too() {
        let mut sc = Script::connected(Version::V311);
        sc.push(server(Script::publish("a", 1, Some(1))));
        sc.push(server(Script::publish("a", 2, Some(2))));
        sc.push(client(Packet::Puback(ack(1))));
        sc.push(client(Packet::Pubrec(ack(2))));
        assert!(sc.run().is_empty(), "{:#?}", sc.run());
        for (version, statement) in [
            (Version::V311, "MQTT-4.3.3-2"),
            (Version::V5, "MQTT-4.3.3-8"),
        ] {
            let mut sc = Script::connected(version);
            sc.push(server(Script::publish("a", 2, Some(2))));
            let i = sc.push(client(Packet::Puback(ack(2))));
            assert_one(
                &sc.run_rule("client-ack-type-matches-qos"),
                statement,
                Some(i),
            );
            assert!(sc.run_rule("server-ack-type-matches-qos").is_empty());
        }
        let mut sc = Script::connected(Version::V311);
        sc.push(server(Script::publish("a", 1, Some(3))));
        let i = sc.push(client(Packet::Pubrec(ack(3))));
        assert_one(
            &sc.run_rule("client-ack-type-matches-qos"),
            "MQTT-3.3.4-1",
            Some(i),
        );
    }

    #[test]
    fn qos2_sender_flow_in_order_passes() {
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Script::publish("a", 2, Some(1))));
        sc.push(server(Packet::Pubrec(ack(1))));
        sc.push(client(Packet::Pubrel(ack(1))));
        sc.push(server(Packet::Pubcomp(ack(1))));
        // The id is free again: a new message (DUP 0), and its re-send.
        sc.push(client(Script::publish("a", 2, Some(1))));
        sc.push(client(dup(Script::publish("a", 2, Some(1)))));
        assert!(sc.run().is_empty(), "{:#?}", sc.run());
    }

    #[rstest]
    #[case(Version::V311, "MQTT-4.3.3-1")]
    #[case(Version::V5, "MQTT-4.3.3-3")]
    fn pubrel_before_pubrec_is_reported(#[case] version: Version, #[case] statement: &str) {
        let mut sc = Script::connected(version);
        sc.push(client(Script::publish("a", 2, Some(1))));
        let i = sc.push(client(Packet::Pubrel(ack(1))));
        assert_one(&sc.run_rule("client-qos2-sender-flow"), statement, Some(i));
    }

    /// The re-send is the client's fault alone, in either order of the
    /// crossing packets: the server's PUBCOMP completes the released flow,
    /// and its PUBREC answers the re-send as the new message it must take
    /// it for (MQTT-4.3.3).
    #[rstest]
    #[case(Version::V311, "MQTT-4.3.3-1", true)]
    #[case(Version::V5, "MQTT-4.3.3-6", true)]
    #[case(Version::V311, "MQTT-4.3.3-1", false)]
    #[case(Version::V5, "MQTT-4.3.3-6", false)]
    fn publish_resent_after_pubrel_is_reported(
        #[case] version: Version,
        #[case] statement: &str,
        #[case] pubcomp_first: bool,
    ) {
        let mut sc = Script::connected(version);
        sc.push(client(Script::publish("a", 2, Some(1))));
        sc.push(server(Packet::Pubrec(ack(1))));
        sc.push(client(Packet::Pubrel(ack(1))));
        if pubcomp_first {
            sc.push(server(Packet::Pubcomp(ack(1))));
        }
        let i = sc.push(client(dup(Script::publish("a", 2, Some(1)))));
        assert_one(&sc.run_rule("client-qos2-sender-flow"), statement, Some(i));
        if !pubcomp_first {
            sc.push(server(Packet::Pubcomp(ack(1))));
        }
        sc.push(server(Packet::Pubrec(ack(1))));
        let found = sc.run();
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_one(&found, statement, Some(i));
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
