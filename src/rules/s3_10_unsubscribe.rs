//! Sections 3.10/3.11 UNSUBSCRIBE and UNSUBACK: an UNSUBACK answers an
//! outstanding UNSUBSCRIBE (5.0: with one reason code per filter).

use super::common::{id_list, packet, pick, ALL};
use super::{Finding, Interest, Rule, RuleMeta};
use crate::codec::{Packet, PacketType, Version};
use crate::event::{Direction, Event, Side};
use crate::session::Session;

static META: RuleMeta = RuleMeta {
    name: "unsuback-matches-unsubscribe",
    statements: &[
        "MQTT-3.10.4-4",
        "MQTT-2.3.1-7",
        "MQTT-3.10.4-5",
        "MQTT-2.2.1-6",
        "MQTT-3.11.3-1",
    ],
    actor: Side::Server,
    versions: ALL,
    only: &[
        ("MQTT-3.10.4-4", Version::V311),
        ("MQTT-3.10.4-5", Version::V5),
        ("MQTT-2.3.1-7", Version::V311),
        ("MQTT-2.2.1-6", Version::V5),
        ("MQTT-3.11.3-1", Version::V5),
    ],
    summary: "An UNSUBACK carries the packet id of an outstanding UNSUBSCRIBE (5.0: one code per filter).",
};

/// UNSUBACK ids match an outstanding UNSUBSCRIBE.
#[derive(Default)]
pub struct UnsubackMatchesUnsubscribe;

impl Rule for UnsubackMatchesUnsubscribe {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn interest(&self) -> Interest {
        Interest::packets(Direction::ToClient, &[PacketType::Unsuback])
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let Some((Direction::ToClient, _, d)) = packet(event) else {
            return;
        };
        let Packet::Unsuback(u) = &d.packet else {
            return;
        };
        if session.unreliable() {
            return;
        }
        let Some(pending) = session.pending_unsubscribes.get(&u.packet_id) else {
            out.push(Finding::with_statement(
                &META,
                pick(session.version, "MQTT-3.10.4-4", "MQTT-3.10.4-5"),
                event,
                format!(
                    "UNSUBACK packet id {} does not match any outstanding UNSUBSCRIBE (outstanding: {})",
                    u.packet_id,
                    id_list(session.pending_unsubscribes.keys())
                ),
            ));
            return;
        };
        let filters = &pending.filters;
        if session.version.is_v5() && u.codes.len() != filters.len() {
            out.push(Finding::with_statement(
                &META,
                "MQTT-3.11.3-1",
                event,
                format!(
                    "UNSUBACK packet id {} has {} reason codes, expected one per filter of the UNSUBSCRIBE ({})",
                    u.packet_id,
                    u.codes.len(),
                    filters.len()
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{Packet, Unsuback, Unsubscribe, Version};
    use crate::rules::testkit::{assert_one, client, server, Script};

    fn unsubscribe(version: Version) -> Script {
        let mut sc = Script::connected(version);
        sc.push(client(Packet::Unsubscribe(Unsubscribe {
            packet_id: 3,
            filters: vec!["a".into(), "b".into()],
            ..Unsubscribe::default()
        })));
        sc
    }

    #[test]
    fn matching_unsuback_passes() {
        let mut sc = unsubscribe(Version::V311);
        sc.push(server(Packet::Unsuback(Unsuback {
            packet_id: 3,
            ..Unsuback::default()
        })));
        let mut sc5 = unsubscribe(Version::V5);
        sc5.push(server(Packet::Unsuback(Unsuback {
            packet_id: 3,
            codes: vec![0, 0x11],
            ..Unsuback::default()
        })));
        assert!(sc.run().is_empty());
        assert!(sc5.run().is_empty());
    }

    #[test]
    fn wrong_id_is_reported() {
        let mut sc = unsubscribe(Version::V311);
        let i = sc.push(server(Packet::Unsuback(Unsuback {
            packet_id: 4,
            ..Unsuback::default()
        })));
        let f = sc.run_rule("unsuback-matches-unsubscribe");
        assert_one(&f, "MQTT-3.10.4-4", Some(i));
        assert!(f[0].message.contains("outstanding: 3"));
    }

    #[test]
    fn v5_code_count_is_checked() {
        let mut sc = unsubscribe(Version::V5);
        let i = sc.push(server(Packet::Unsuback(Unsuback {
            packet_id: 3,
            codes: vec![0],
            ..Unsuback::default()
        })));
        assert_one(
            &sc.run_rule("unsuback-matches-unsubscribe"),
            "MQTT-3.11.3-1",
            Some(i),
        );
    }
}
