//! Section 4.7 topics: `$` topics are not delivered through filters starting
//! with a wildcard, and the client's topic filters are well-formed.

use super::common::{packet, ALL};
use super::{Finding, Interest, Rule, RuleMeta};
use crate::codec::{Packet, PacketType, Version};
use crate::event::{Direction, Event, Side};
use crate::session::Session;
use crate::topic::{self, Invalid};

static DOLLAR_META: RuleMeta = RuleMeta {
    name: "dollar-topics-not-matched-by-wildcards",
    statements: &["MQTT-4.7.2-1"],
    actor: Side::Server,
    versions: ALL,
    only: &[],
    summary: "On a clean session, the server does not deliver a '$' topic only through filters starting with '#' or '+'.",
};

/// `$` topics are not matched by filters starting with a wildcard.
#[derive(Default)]
pub struct DollarTopicsNotMatchedByWildcards;

impl Rule for DollarTopicsNotMatchedByWildcards {
    fn meta(&self) -> &'static RuleMeta {
        &DOLLAR_META
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
        if !session.clean() || session.lossy {
            return;
        }
        let Some(name) = session.publish_topic(Direction::ToClient, p) else {
            return;
        };
        if name.as_bytes().first() != Some(&b'$') {
            return;
        }
        let raw: Vec<_> = session
            .ever_subscribed
            .keys()
            .filter(|f| topic::matches_raw(topic::unshared(f), name.as_bytes()))
            .collect();
        let proper = session
            .ever_subscribed
            .keys()
            .any(|f| topic::matches(f, name.as_bytes()));
        if raw.is_empty() || proper || !raw.iter().all(|f| topic::starts_with_wildcard(f)) {
            return;
        }
        let list: Vec<String> = raw
            .iter()
            .map(|f| format!("\"{}\"", String::from_utf8_lossy(f)))
            .collect();
        out.push(Finding::new(
            &DOLLAR_META,
            event,
            format!(
                "server delivered \"{name}\", which starts with '$', though only wildcard-first filters match it ({})",
                list.join(", ")
            ),
        ));
    }
}

static FILTER_META: RuleMeta = RuleMeta {
    name: "client-topic-filters-valid",
    statements: &["MQTT-4.7.1-2", "MQTT-4.7.1-3", "MQTT-4.7.3-1", "MQTT-4.7.1-1"],
    actor: Side::Client,
    versions: ALL,
    only: &[
        ("MQTT-4.7.1-1", Version::V5),
        ("MQTT-4.7.1-2", Version::V311),
        ("MQTT-4.7.1-2", Version::V5),
        ("MQTT-4.7.1-3", Version::V311),
    ],
    summary: "Topic filters in SUBSCRIBE and UNSUBSCRIBE are non-empty and use '#' and '+' only as whole levels ('#' last).",
};

/// SUBSCRIBE/UNSUBSCRIBE topic filters are well-formed.
#[derive(Default)]
pub struct ClientTopicFiltersValid;

impl Rule for ClientTopicFiltersValid {
    fn meta(&self) -> &'static RuleMeta {
        &FILTER_META
    }
    fn interest(&self) -> Interest {
        Interest::packets(
            Direction::ToServer,
            &[PacketType::Subscribe, PacketType::Unsubscribe],
        )
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let Some((Direction::ToServer, _, d)) = packet(event) else {
            return;
        };
        let filters: Vec<&crate::codec::Text> = match &d.packet {
            Packet::Subscribe(s) => s.filters.iter().map(|f| &f.filter).collect(),
            Packet::Unsubscribe(u) => u.filters.iter().collect(),
            _ => return,
        };
        let v5 = session.version.is_v5();
        for f in filters {
            let (statement, why) = match topic::check_filter(f.as_bytes()) {
                Some(Invalid::Empty) => ("MQTT-4.7.3-1", "is empty"),
                Some(Invalid::MisplacedMultiLevel) => (
                    if v5 { "MQTT-4.7.1-1" } else { "MQTT-4.7.1-2" },
                    "uses '#' other than as the whole last level",
                ),
                Some(Invalid::MisplacedSingleLevel) => (
                    if v5 { "MQTT-4.7.1-2" } else { "MQTT-4.7.1-3" },
                    "uses '+' other than as a whole level",
                ),
                // U+0000 is reported by the well-formedness rule; length cannot exceed the wire's.
                _ => continue,
            };
            out.push(Finding::with_statement(
                &FILTER_META,
                statement,
                event,
                format!("{} topic filter \"{f}\" {why}", d.packet.packet_type()),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{Packet, Suback, Subscribe, Subscription, Unsubscribe, Version};
    use crate::rules::testkit::{assert_one, client, server, Script};

    fn subscribed(filters: &[&str]) -> Script {
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Packet::Subscribe(Subscribe {
            packet_id: 1,
            filters: filters
                .iter()
                .map(|f| Subscription {
                    filter: (*f).into(),
                    options: 0,
                })
                .collect(),
            ..Subscribe::default()
        })));
        sc.push(server(Packet::Suback(Suback {
            packet_id: 1,
            codes: vec![0; filters.len()],
            ..Suback::default()
        })));
        sc
    }

    #[test]
    fn dollar_topic_through_dollar_filter_passes() {
        let mut sc = subscribed(&["#", "$SYS/#"]);
        sc.push(server(Script::publish("$SYS/uptime", 0, None)));
        sc.push(server(Script::publish("a/b", 0, None)));
        assert!(sc.run().is_empty(), "{:#?}", sc.run());
    }

    #[test]
    fn dollar_topic_through_hash_is_reported() {
        let mut sc = subscribed(&["#"]);
        let i = sc.push(server(Script::publish("$SYS/uptime", 0, None)));
        assert_one(&sc.run(), "MQTT-4.7.2-1", Some(i));
    }

    #[test]
    fn valid_filters_pass() {
        let sc = subscribed(&["a/+/c", "#", "a/#", "+"]);
        assert!(sc.run().is_empty());
    }

    #[test]
    fn invalid_filters_are_reported() {
        let mut sc = Script::connected(Version::V311);
        let i = sc.push(client(Packet::Unsubscribe(Unsubscribe {
            packet_id: 1,
            filters: vec!["a/b#".into()],
            ..Unsubscribe::default()
        })));
        assert_one(
            &sc.run_rule("client-topic-filters-valid"),
            "MQTT-4.7.1-2",
            Some(i),
        );
        let mut sc = Script::connected(Version::V5);
        let i = sc.push(client(Packet::Subscribe(Subscribe {
            packet_id: 1,
            filters: vec![Subscription {
                filter: "a+".into(),
                options: 0,
            }],
            ..Subscribe::default()
        })));
        let f = sc.run_rule("client-topic-filters-valid");
        assert_one(&f, "MQTT-4.7.1-2", Some(i));
        assert!(f[0].message.contains("'+'"), "{}", f[0].message);
    }
}
