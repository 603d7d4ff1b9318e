//! Section 2.3 packet identifiers: acknowledgements refer to a packet in
//! flight, a sender does not reuse an id still in use for a new message
//! (PUBLISH, and for the client SUBSCRIBE and UNSUBSCRIBE too, all sharing
//! one id space), and the client re-sends a PUBLISH under its original id.

use super::common::{id_list, own_publish, packet, pick, sending, ALL};
use super::{Finding, Interest, Rule, RuleMeta};
use crate::codec::{Packet, PacketType, Version};
use crate::event::{Direction, Event, Side};
use crate::session::{content_hash, other, Reuse, Session};

static ACK_CLIENT: RuleMeta = RuleMeta {
    name: "client-ack-refers-to-inflight",
    statements: &["MQTT-2.3.1-6", "MQTT-2.2.1-5"],
    actor: Side::Client,
    versions: ALL,
    only: &[
        ("MQTT-2.3.1-6", Version::V311),
        ("MQTT-2.2.1-5", Version::V5),
    ],
    summary: "On a clean session, the client's PUBACK/PUBREC/PUBREL/PUBCOMP carry the id of a packet in flight.",
};
static ACK_SERVER: RuleMeta = RuleMeta {
    name: "server-ack-refers-to-inflight",
    statements: &["MQTT-2.3.1-6", "MQTT-2.2.1-5"],
    actor: Side::Server,
    versions: ALL,
    only: &[
        ("MQTT-2.3.1-6", Version::V311),
        ("MQTT-2.2.1-5", Version::V5),
    ],
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
    only: &[
        ("MQTT-2.3.1-2", Version::V311),
        ("MQTT-2.2.1-3", Version::V5),
    ],
    summary: "The client does not give a new QoS>0 PUBLISH a packet id still in flight.",
};
static REUSE_SERVER: RuleMeta = RuleMeta {
    name: "server-publish-id-not-in-use",
    statements: &["MQTT-2.3.1-4", "MQTT-2.2.1-4"],
    actor: Side::Server,
    versions: ALL,
    only: &[
        ("MQTT-2.3.1-4", Version::V311),
        ("MQTT-2.2.1-4", Version::V5),
    ],
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

static SUB_IDS_META: RuleMeta = RuleMeta {
    name: "client-subscribe-ids-not-in-use",
    statements: &["MQTT-2.3.1-2", "MQTT-2.2.1-3"],
    actor: Side::Client,
    versions: ALL,
    only: &[
        ("MQTT-2.3.1-2", Version::V311),
        ("MQTT-2.2.1-3", Version::V5),
    ],
    summary: "A new SUBSCRIBE or UNSUBSCRIBE from the client does not use a packet id still in use, nor a new QoS>0 PUBLISH an id awaiting SUBACK or UNSUBACK.",
};

const SUBSCRIBE_PENDING: &str = "SUBSCRIBE awaiting its SUBACK";
const UNSUBSCRIBE_PENDING: &str = "UNSUBSCRIBE awaiting its UNSUBACK";

/// What holds the id of a new SUBSCRIBE or UNSUBSCRIBE: `resend` says
/// whether a pending one of its own kind (`own`) has the same filters (a
/// re-send holds nothing); `other` is the pending request of the other kind
/// under that id, if any; `publish` names a PUBLISH in flight under it.
fn holder(
    resend: Option<bool>,
    own: &str,
    other: Option<&str>,
    publish: impl FnOnce() -> Option<String>,
) -> Option<String> {
    match (resend, other) {
        (Some(true), _) => None,
        (Some(false), _) => Some(own.to_string()),
        (None, Some(other)) => Some(other.to_string()),
        (None, None) => publish(),
    }
}

/// SUBSCRIBE, UNSUBSCRIBE and QoS>0 PUBLISH share the client's id space: a
/// new one of them takes no id still awaiting its answer. (A SUBSCRIBE or
/// UNSUBSCRIBE re-sent with the same filters is a re-send; PUBLISH against
/// PUBLISH is judged by `client-publish-id-not-in-use`.)
#[derive(Default)]
pub struct ClientSubscribeIdsNotInUse;

impl Rule for ClientSubscribeIdsNotInUse {
    fn meta(&self) -> &'static RuleMeta {
        &SUB_IDS_META
    }
    fn interest(&self) -> Interest {
        Interest::packets(
            Direction::ToServer,
            &[
                PacketType::Publish,
                PacketType::Subscribe,
                PacketType::Unsubscribe,
            ],
        )
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let Some((Direction::ToServer, _, d)) = packet(event) else {
            return;
        };
        if session.lossy {
            return;
        }
        let publish_in_use = |id: u16| {
            session
                .client_inflight
                .get(&id)
                .map(|f| format!("QoS {} PUBLISH (packet {})", f.qos, f.index))
        };
        let (id, in_use) = match &d.packet {
            Packet::Publish(p) if p.qos > 0 => {
                let Some(id) = p.packet_id else {
                    return;
                };
                let what = if session.pending_subscribes.contains_key(&id) {
                    SUBSCRIBE_PENDING
                } else if session.pending_unsubscribes.contains_key(&id) {
                    UNSUBSCRIBE_PENDING
                } else {
                    return;
                };
                (id, what.to_string())
            }
            Packet::Subscribe(s) => {
                let resend = session.pending_subscribes.get(&s.packet_id).map(|p| {
                    p.filters.len() == s.filters.len()
                        && p.filters
                            .iter()
                            .zip(&s.filters)
                            .all(|((f, q), n)| *f == n.filter && *q == n.qos())
                });
                let other = session
                    .pending_unsubscribes
                    .contains_key(&s.packet_id)
                    .then_some(UNSUBSCRIBE_PENDING);
                let Some(what) = holder(resend, SUBSCRIBE_PENDING, other, || {
                    publish_in_use(s.packet_id)
                }) else {
                    return;
                };
                (s.packet_id, what)
            }
            Packet::Unsubscribe(u) => {
                let resend = session
                    .pending_unsubscribes
                    .get(&u.packet_id)
                    .map(|p| p.filters == u.filters);
                let other = session
                    .pending_subscribes
                    .contains_key(&u.packet_id)
                    .then_some(SUBSCRIBE_PENDING);
                let Some(what) = holder(resend, UNSUBSCRIBE_PENDING, other, || {
                    publish_in_use(u.packet_id)
                }) else {
                    return;
                };
                (u.packet_id, what)
            }
            _ => return,
        };
        out.push(Finding::with_statement(
            &SUB_IDS_META,
            pick(session.version, "MQTT-2.3.1-2", "MQTT-2.2.1-3"),
            event,
            format!(
                "new {} uses packet id {id}, still in use by a {in_use}",
                d.packet.packet_type()
            ),
        ));
    }
}

static RESEND_ID_META: RuleMeta = RuleMeta {
    name: "client-resend-keeps-packet-id",
    statements: &["MQTT-2.3.1-3"],
    actor: Side::Client,
    versions: &[Version::V31, Version::V311],
    only: &[],
    summary: "The client re-sends a PUBLISH under its original packet id, not a new one.",
};

/// A re-sent PUBLISH (DUP = 1) carries the id of the message it repeats: a
/// DUP PUBLISH under a free id, with the QoS, topic and payload of a message
/// still in flight under another id, re-sends that message under a new id.
#[derive(Default)]
pub struct ClientResendKeepsPacketId;

impl Rule for ClientResendKeepsPacketId {
    fn meta(&self) -> &'static RuleMeta {
        &RESEND_ID_META
    }
    fn interest(&self) -> Interest {
        Interest::packets(Direction::ToServer, &[PacketType::Publish])
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let Some((dir, p)) = own_publish(Side::Client, event, session) else {
            return;
        };
        let Some(id) = p.packet_id else {
            return;
        };
        if !p.dup || p.qos == 0 || session.inflight(dir).contains_key(&id) {
            return;
        }
        let topic = session.publish_topic(dir, p).unwrap_or(&p.topic);
        let content = content_hash(topic.as_bytes(), &p.payload);
        let original = session
            .inflight(dir)
            .iter()
            .find(|(_, f)| f.qos == p.qos && f.content == content);
        if let Some((first_id, f)) = original {
            out.push(Finding::new(
                &RESEND_ID_META,
                event,
                format!(
                    "DUP PUBLISH on \"{topic}\" re-sends packet {} (id {first_id}, still unacknowledged) under a new packet id {id}",
                    f.index
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{Connect, Packet, Publish, Subscribe, Subscription, Unsubscribe, Version};
    use crate::rules::testkit::{ack, assert_one, client, server, Script};
    use rstest::rstest;

    fn subscribe(id: u16, filter: &str) -> Packet {
        Packet::Subscribe(Subscribe {
            packet_id: id,
            filters: vec![Subscription {
                filter: filter.into(),
                options: 1,
            }],
            ..Subscribe::default()
        })
    }

    fn unsubscribe(id: u16, filter: &str) -> Packet {
        Packet::Unsubscribe(Unsubscribe {
            packet_id: id,
            filters: vec![filter.into()],
            ..Unsubscribe::default()
        })
    }

    fn dup(topic: &str, qos: u8, id: u16) -> Packet {
        Packet::Publish(Publish {
            dup: true,
            qos,
            topic: topic.into(),
            packet_id: Some(id),
            ..Publish::default()
        })
    }

    #[rstest]
    #[case(Version::V311)]
    #[case(Version::V5)]
    fn distinct_ids_and_resends_pass(#[case] version: Version) {
        let mut sc = Script::connected(version);
        sc.push(client(subscribe(1, "a")));
        sc.push(client(subscribe(1, "a")));
        sc.push(client(unsubscribe(2, "a")));
        sc.push(client(Script::publish("a", 1, Some(3))));
        sc.push(server(Packet::Suback(crate::codec::Suback {
            packet_id: 1,
            codes: vec![1],
            ..Default::default()
        })));
        sc.push(server(Packet::Suback(crate::codec::Suback {
            packet_id: 1,
            codes: vec![1],
            ..Default::default()
        })));
        // Answered: id 1 is free again.
        sc.push(client(Script::publish("a", 1, Some(1))));
        assert!(sc.run_rule("client-subscribe-ids-not-in-use").is_empty());
    }

    #[rstest]
    #[case(Version::V311, "MQTT-2.3.1-2")]
    #[case(Version::V5, "MQTT-2.2.1-3")]
    fn ids_in_use_across_types_are_reported(#[case] version: Version, #[case] statement: &str) {
        let rule = "client-subscribe-ids-not-in-use";
        // SUBSCRIBE under the id of a QoS 2 PUBLISH not completed.
        let mut sc = Script::connected(version);
        sc.push(client(Script::publish("a", 2, Some(1))));
        sc.push(server(Packet::Pubrec(ack(1))));
        let i = sc.push(client(subscribe(1, "a")));
        assert_one(&sc.run_rule(rule), statement, Some(i));
        // PUBLISH under the id of a pending SUBSCRIBE.
        let mut sc = Script::connected(version);
        sc.push(client(subscribe(4, "a")));
        let i = sc.push(client(Script::publish("a", 1, Some(4))));
        assert_one(&sc.run_rule(rule), statement, Some(i));
        // UNSUBSCRIBE under the id of a pending SUBSCRIBE, SUBSCRIBE with other filters.
        let mut sc = Script::connected(version);
        sc.push(client(subscribe(4, "a")));
        let i = sc.push(client(unsubscribe(4, "a")));
        let j = sc.push(client(subscribe(4, "b")));
        let f = sc.run_rule(rule);
        assert_eq!(f.len(), 2, "{f:#?}");
        assert_eq!((f[0].packet, f[1].packet), (Some(i), Some(j)));
    }

    #[test]
    fn resend_under_the_original_id_passes() {
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Script::publish("a", 1, Some(1))));
        sc.push(client(dup("a", 1, 1)));
        // Two messages with the same content are fine, each re-sent under its id.
        sc.push(client(Script::publish("a", 1, Some(2))));
        sc.push(client(dup("a", 1, 2)));
        // A re-send that crossed the PUBACK: its id is free, no other copy in flight.
        sc.push(client(Script::publish("c", 1, Some(5))));
        sc.push(server(Packet::Puback(ack(5))));
        sc.push(client(dup("c", 1, 5)));
        assert!(sc.run_rule("client-resend-keeps-packet-id").is_empty());
    }

    #[test]
    fn resend_under_a_new_id_is_reported() {
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Script::publish("a", 2, Some(1))));
        sc.push(server(Packet::Pubrec(ack(1))));
        let i = sc.push(client(dup("a", 2, 9)));
        assert_one(
            &sc.run_rule("client-resend-keeps-packet-id"),
            "MQTT-2.3.1-3",
            Some(i),
        );
        // Not a 5.0 statement.
        let mut sc = Script::connected(Version::V5);
        sc.push(client(Script::publish("a", 2, Some(1))));
        sc.push(client(dup("a", 2, 9)));
        assert!(sc.run_rule("client-resend-keeps-packet-id").is_empty());
    }

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
