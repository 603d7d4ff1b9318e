//! Section 3.3 PUBLISH: DUP flag use, wildcard-free topic names, and what the
//! server may deliver given the connection's subscriptions.

use super::common::{own_publish, packet, pick, sending, sent_publish, ALL};
use super::{Finding, Interest, Rule, RuleMeta};
use crate::codec::{Packet, PacketType, Version};
use crate::event::{Direction, Event, Side};
use crate::session::{Reuse, Session};
use crate::topic;

static NODUP_CLIENT: RuleMeta = RuleMeta {
    name: "client-qos0-publish-without-dup",
    statements: &["MQTT-3.3.1-2"],
    actor: Side::Client,
    versions: ALL,
    only: &[],
    summary: "A QoS 0 PUBLISH from the client has DUP = 0.",
};
static NODUP_SERVER: RuleMeta = RuleMeta {
    name: "server-qos0-publish-without-dup",
    statements: &["MQTT-3.3.1-2"],
    actor: Side::Server,
    versions: ALL,
    only: &[],
    summary: "A QoS 0 PUBLISH from the server has DUP = 0.",
};

/// QoS 0 PUBLISH has DUP 0 (one instance per judged side).
pub struct Qos0PublishWithoutDup {
    meta: &'static RuleMeta,
}

impl Qos0PublishWithoutDup {
    pub fn client() -> Self {
        Self {
            meta: &NODUP_CLIENT,
        }
    }
    pub fn server() -> Self {
        Self {
            meta: &NODUP_SERVER,
        }
    }
}

impl Rule for Qos0PublishWithoutDup {
    fn meta(&self) -> &'static RuleMeta {
        self.meta
    }
    fn interest(&self) -> Interest {
        Interest::packets(sending(self.meta.actor), &[PacketType::Publish])
    }
    fn observe(&mut self, event: &Event, _session: &Session, out: &mut Vec<Finding>) {
        let Some((_, p)) = sent_publish(self.meta.actor, event) else {
            return;
        };
        if p.qos == 0 && p.dup {
            out.push(Finding::new(
                self.meta,
                event,
                format!("QoS 0 PUBLISH on \"{}\" has DUP = 1, expected 0", p.topic),
            ));
        }
    }
}

static WILD_CLIENT: RuleMeta = RuleMeta {
    name: "client-publish-topic-without-wildcards",
    statements: &["MQTT-3.3.2-2", "MQTT-4.7.1-1"],
    actor: Side::Client,
    versions: ALL,
    only: &[],
    summary: "The topic name of a client PUBLISH contains no '#' or '+'.",
};
static WILD_SERVER: RuleMeta = RuleMeta {
    name: "server-publish-topic-without-wildcards",
    statements: &["MQTT-3.3.2-2", "MQTT-4.7.1-1"],
    actor: Side::Server,
    versions: ALL,
    only: &[],
    summary: "The topic name of a server PUBLISH contains no '#' or '+'.",
};

/// PUBLISH topic names carry no wildcard (one instance per judged side).
pub struct PublishTopicWithoutWildcards {
    meta: &'static RuleMeta,
}

impl PublishTopicWithoutWildcards {
    pub fn client() -> Self {
        Self { meta: &WILD_CLIENT }
    }
    pub fn server() -> Self {
        Self { meta: &WILD_SERVER }
    }
}

impl Rule for PublishTopicWithoutWildcards {
    fn meta(&self) -> &'static RuleMeta {
        self.meta
    }
    fn interest(&self) -> Interest {
        Interest::packets(sending(self.meta.actor), &[PacketType::Publish])
    }
    fn observe(&mut self, event: &Event, _session: &Session, out: &mut Vec<Finding>) {
        let Some((_, p)) = sent_publish(self.meta.actor, event) else {
            return;
        };
        if topic::has_wildcard(p.topic.as_bytes()) {
            out.push(Finding::new(
                self.meta,
                event,
                format!(
                    "PUBLISH topic name \"{}\" contains a wildcard character",
                    p.topic
                ),
            ));
        }
    }
}

static RESEND_CLIENT: RuleMeta = RuleMeta {
    name: "client-resent-publish-has-dup",
    statements: &["MQTT-3.3.1-1"],
    actor: Side::Client,
    versions: ALL,
    only: &[],
    summary: "A PUBLISH the client re-sends while its packet id is in flight has DUP = 1.",
};
static RESEND_SERVER: RuleMeta = RuleMeta {
    name: "server-resent-publish-has-dup",
    statements: &["MQTT-3.3.1-1"],
    actor: Side::Server,
    versions: ALL,
    only: &[],
    summary: "A PUBLISH the server re-sends while its packet id is in flight has DUP = 1.",
};

/// A re-sent PUBLISH (same id, QoS, topic and payload, still in flight) has DUP 1.
pub struct ResentPublishHasDup {
    meta: &'static RuleMeta,
}

impl ResentPublishHasDup {
    pub fn client() -> Self {
        Self {
            meta: &RESEND_CLIENT,
        }
    }
    pub fn server() -> Self {
        Self {
            meta: &RESEND_SERVER,
        }
    }
}

impl Rule for ResentPublishHasDup {
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
        if p.dup {
            return;
        }
        if let Some(Reuse::Resend) = session.reuse_of(dir, p) {
            let id = p.packet_id.unwrap_or_default();
            let first = session.inflight(dir).get(&id).map_or(0, |f| f.index);
            out.push(Finding::new(
                self.meta,
                event,
                format!(
                    "PUBLISH packet id {id} on \"{}\" re-sends packet {first} (still unacknowledged) with DUP = 0, expected 1",
                    p.topic
                ),
            ));
        }
    }
}

static MATCH_META: RuleMeta = RuleMeta {
    name: "server-publish-matches-subscription",
    statements: &["MQTT-3.3.2-3"],
    actor: Side::Server,
    versions: ALL,
    only: &[],
    summary: "On a clean session, every PUBLISH the server sends matches a filter the client subscribed to.",
};

/// Server PUBLISH topics match the connection's subscriptions.
#[derive(Default)]
pub struct ServerPublishMatchesSubscription;

impl Rule for ServerPublishMatchesSubscription {
    fn meta(&self) -> &'static RuleMeta {
        &MATCH_META
    }
    fn interest(&self) -> Interest {
        Interest::packets(Direction::ToClient, &[PacketType::Publish])
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let Some((Direction::ToClient, _, d)) = packet(event) else {
            return;
        };
        let Packet::Publish(p) = &d.packet else {
            return;
        };
        if !session.clean() || session.lossy || session.ever_subscribed.is_empty() {
            return;
        }
        let Some(name) = session.publish_topic(Direction::ToClient, p) else {
            return;
        };
        if name.is_empty() {
            return;
        }
        // Raw matching: `$` topics reaching wildcard filters are judged by 4.7.2-1.
        let any = session
            .ever_subscribed
            .keys()
            .any(|f| topic::matches_raw(topic::unshared(f), name.as_bytes()));
        if !any {
            let filters: Vec<String> = session
                .ever_subscribed
                .keys()
                .map(|f| format!("\"{}\"", String::from_utf8_lossy(f)))
                .collect();
            out.push(Finding::new(
                &MATCH_META,
                event,
                format!(
                    "server sent PUBLISH on \"{name}\", which matches none of the connection's filters ({})",
                    filters.join(", ")
                ),
            ));
        }
    }
}

static QOS_META: RuleMeta = RuleMeta {
    name: "server-publish-qos-within-grant",
    statements: &["MQTT-3.8.4-6", "MQTT-3.8.4-8"],
    actor: Side::Server,
    versions: ALL,
    only: &[
        ("MQTT-3.8.4-6", Version::V311),
        ("MQTT-3.8.4-8", Version::V5),
    ],
    summary: "On a clean session, the server delivers at no higher QoS than the best matching subscription was granted (or requested, before its SUBACK).",
};

/// Delivered QoS does not exceed the granted (or requested) QoS of matching subscriptions.
#[derive(Default)]
pub struct ServerPublishQosWithinGrant;

impl Rule for ServerPublishQosWithinGrant {
    fn meta(&self) -> &'static RuleMeta {
        &QOS_META
    }
    fn interest(&self) -> Interest {
        Interest::packets(Direction::ToClient, &[PacketType::Publish])
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let Some((Direction::ToClient, _, d)) = packet(event) else {
            return;
        };
        let Packet::Publish(p) = &d.packet else {
            return;
        };
        if !session.clean() || session.lossy || p.qos > 2 {
            return;
        }
        let Some(name) = session.publish_topic(Direction::ToClient, p) else {
            return;
        };
        let mut best: Option<(u8, &[u8])> = None;
        for (f, granted) in &session.ever_subscribed {
            if !topic::matches(f, name.as_bytes()) {
                continue;
            }
            // A matching filter without a known bound: cannot judge.
            let Some(q) = session.delivery_bound(f, *granted) else {
                return;
            };
            if best.is_none_or(|(b, _)| q > b) {
                best = Some((q, f));
            }
        }
        if let Some((q, f)) = best {
            if p.qos > q {
                out.push(Finding::with_statement(
                    &QOS_META,
                    pick(session.version, "MQTT-3.8.4-6", "MQTT-3.8.4-8"),
                    event,
                    format!(
                        "PUBLISH on \"{name}\" delivered at QoS {}, but the best matching subscription \"{}\" allows at most QoS {q}",
                        p.qos,
                        String::from_utf8_lossy(f)
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{Packet, Publish, Suback, Subscribe, Subscription, Version};
    use crate::rules::testkit::{ack, assert_one, client, server, Script};

    fn subscribed(filter: &str, qos: u8, granted: u8) -> Script {
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Packet::Subscribe(Subscribe {
            packet_id: 1,
            filters: vec![Subscription {
                filter: filter.into(),
                options: qos,
            }],
            ..Subscribe::default()
        })));
        sc.push(server(Packet::Suback(Suback {
            packet_id: 1,
            codes: vec![granted],
            ..Suback::default()
        })));
        sc
    }

    fn dup_publish(topic: &str, qos: u8, id: Option<u16>) -> Packet {
        Packet::Publish(Publish {
            dup: true,
            qos,
            topic: topic.into(),
            packet_id: id,
            ..Publish::default()
        })
    }

    #[test]
    fn conformant_delivery_passes() {
        let mut sc = subscribed("a/+", 1, 1);
        sc.push(server(Script::publish("a/b", 1, Some(1))));
        sc.push(client(Packet::Puback(ack(1))));
        sc.push(server(Script::publish("a/c", 0, None)));
        assert!(sc.run().is_empty(), "{:#?}", sc.run());
    }

    #[test]
    fn dup_on_qos0_is_reported_for_each_side() {
        let mut sc = Script::connected(Version::V311);
        let c = sc.push(client(dup_publish("a", 0, None)));
        let s = sc.push(server(dup_publish("a", 0, None)));
        assert_one(
            &sc.run_rule("client-qos0-publish-without-dup"),
            "MQTT-3.3.1-2",
            Some(c),
        );
        assert_one(
            &sc.run_rule("server-qos0-publish-without-dup"),
            "MQTT-3.3.1-2",
            Some(s),
        );
    }

    #[test]
    fn wildcard_topic_is_reported() {
        let mut sc = Script::connected(Version::V311);
        let c = sc.push(client(Script::publish("a/#", 0, None)));
        assert_one(
            &sc.run_rule("client-publish-topic-without-wildcards"),
            "MQTT-3.3.2-2",
            Some(c),
        );
        assert!(sc
            .run_rule("server-publish-topic-without-wildcards")
            .is_empty());
    }

    #[test]
    fn resend_without_dup_is_reported_and_with_dup_passes() {
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Script::publish("a", 1, Some(3))));
        sc.push(client(dup_publish("a", 1, Some(3))));
        assert!(sc.run().is_empty());
        let i = sc.push(client(Script::publish("a", 1, Some(3))));
        assert_one(
            &sc.run_rule("client-resent-publish-has-dup"),
            "MQTT-3.3.1-1",
            Some(i),
        );
        let mut sc = Script::connected(Version::V311);
        sc.push(server(Script::publish("a", 2, Some(3))));
        let i = sc.push(server(Script::publish("a", 2, Some(3))));
        assert_one(
            &sc.run_rule("server-resent-publish-has-dup"),
            "MQTT-3.3.1-1",
            Some(i),
        );
    }

    #[test]
    fn unmatched_delivery_is_reported() {
        let mut sc = subscribed("a/+", 1, 1);
        let i = sc.push(server(Script::publish("b/c", 0, None)));
        assert_one(
            &sc.run_rule("server-publish-matches-subscription"),
            "MQTT-3.3.2-3",
            Some(i),
        );
    }

    #[test]
    fn unmatched_delivery_on_resumed_session_is_not_judged() {
        let mut sc = Script::connected_with(crate::codec::Connect {
            clean_session: false,
            client_id: "c".into(),
            ..Default::default()
        });
        sc.push(client(Packet::Subscribe(Subscribe {
            packet_id: 1,
            filters: vec![Subscription {
                filter: "a".into(),
                options: 0,
            }],
            ..Subscribe::default()
        })));
        sc.push(server(Script::publish("old/topic", 0, None)));
        assert!(sc.run().is_empty());
    }

    #[test]
    fn qos_above_grant_is_reported() {
        let mut sc = subscribed("a/#", 2, 0);
        sc.push(server(Script::publish("a/b", 0, None)));
        assert!(sc.run().is_empty());
        let i = sc.push(server(Script::publish("a/b", 1, Some(1))));
        let f = sc.run_rule("server-publish-qos-within-grant");
        assert_one(&f, "MQTT-3.8.4-6", Some(i));
        assert!(
            f[0].message.contains("\"a/#\" allows at most QoS 0"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn requested_qos_bounds_delivery_before_the_suback() {
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Packet::Subscribe(Subscribe {
            packet_id: 1,
            filters: vec![Subscription {
                filter: "a/#".into(),
                options: 2,
            }],
            ..Subscribe::default()
        })));
        sc.push(server(Script::publish("a/b", 2, Some(1))));
        sc.push(server(Packet::Suback(Suback {
            packet_id: 1,
            codes: vec![1],
            ..Suback::default()
        })));
        assert!(sc.run().is_empty(), "{:#?}", sc.run());
    }

    #[test]
    fn overlapping_subscriptions_use_the_best_grant() {
        let mut sc = subscribed("a/#", 0, 0);
        sc.push(client(Packet::Subscribe(Subscribe {
            packet_id: 2,
            filters: vec![Subscription {
                filter: "a/+".into(),
                options: 1,
            }],
            ..Subscribe::default()
        })));
        sc.push(server(Packet::Suback(Suback {
            packet_id: 2,
            codes: vec![1],
            ..Suback::default()
        })));
        sc.push(server(Script::publish("a/b", 1, Some(1))));
        assert!(sc.run().is_empty(), "{:#?}", sc.run());
    }
}
