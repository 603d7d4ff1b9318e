//! Sections 3.8/3.9 SUBSCRIBE and SUBACK: a SUBACK answers an outstanding
//! SUBSCRIBE, with one valid code per filter, never granting more than asked.

use super::common::{id_list, packet, pick, ALL};
use super::{Finding, Interest, Rule, RuleMeta};
use crate::codec::{Packet, PacketType, Version};
use crate::event::{Direction, Event, Side};
use crate::session::Session;

static ID_META: RuleMeta = RuleMeta {
    name: "suback-matches-subscribe",
    statements: &["MQTT-3.8.4-2", "MQTT-2.3.1-7", "MQTT-2.2.1-6"],
    actor: Side::Server,
    versions: ALL,
    only: &[
        ("MQTT-2.3.1-7", Version::V311),
        ("MQTT-2.2.1-6", Version::V5),
    ],
    summary: "A SUBACK carries the packet id of an outstanding SUBSCRIBE.",
};

/// SUBACK ids match an outstanding SUBSCRIBE.
#[derive(Default)]
pub struct SubackMatchesSubscribe;

impl Rule for SubackMatchesSubscribe {
    fn meta(&self) -> &'static RuleMeta {
        &ID_META
    }
    fn interest(&self) -> Interest {
        Interest::packets(Direction::ToClient, &[PacketType::Suback])
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let Some((Direction::ToClient, _, d)) = packet(event) else {
            return;
        };
        let Packet::Suback(s) = &d.packet else {
            return;
        };
        if session.unreliable() || session.pending_subscribes.contains_key(&s.packet_id) {
            return;
        }
        out.push(Finding::new(
            &ID_META,
            event,
            format!(
                "SUBACK packet id {} does not match any outstanding SUBSCRIBE (outstanding: {})",
                s.packet_id,
                id_list(session.pending_subscribes.keys())
            ),
        ));
    }
}

static CODES_META: RuleMeta = RuleMeta {
    name: "suback-codes-fit-subscribe",
    statements: &[
        "MQTT-3.8.4-5",
        "MQTT-3.9.3-1",
        "MQTT-3.9.3-2",
        "MQTT-3.8.4-6",
        "MQTT-3.8.4-7",
    ],
    actor: Side::Server,
    versions: ALL,
    only: &[
        ("MQTT-3.8.4-5", Version::V311),
        ("MQTT-3.8.4-6", Version::V5),
        ("MQTT-3.8.4-7", Version::V5),
    ],
    summary: "A SUBACK has one defined code per filter of its SUBSCRIBE, granting no more than the requested QoS.",
};

/// SUBACK codes: one per filter, defined values, granted QoS ≤ requested.
#[derive(Default)]
pub struct SubackCodesFitSubscribe;

/// 5.0 Subscribe reason codes (3.9.3).
const V5_CODES: &[u8] = &[
    0, 1, 2, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2,
];

impl Rule for SubackCodesFitSubscribe {
    fn meta(&self) -> &'static RuleMeta {
        &CODES_META
    }
    fn interest(&self) -> Interest {
        Interest::packets(Direction::ToClient, &[PacketType::Suback])
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let Some((Direction::ToClient, _, d)) = packet(event) else {
            return;
        };
        let Packet::Suback(s) = &d.packet else {
            return;
        };
        let v = session.version;
        let defined: &[u8] = if v.is_v5() {
            V5_CODES
        } else {
            &[0, 1, 2, 0x80]
        };
        for (i, code) in s.codes.iter().enumerate() {
            if !defined.contains(code) {
                out.push(Finding::with_statement(
                    &CODES_META,
                    "MQTT-3.9.3-2",
                    event,
                    format!(
                        "SUBACK packet id {} has undefined code {code:#04x} at position {}",
                        s.packet_id,
                        i + 1
                    ),
                ));
            }
        }
        if session.unreliable() {
            return;
        }
        let Some(req) = session.pending_subscribes.get(&s.packet_id) else {
            return;
        };
        if !req.clean {
            return;
        }
        if s.codes.len() != req.filters.len() {
            out.push(Finding::with_statement(
                &CODES_META,
                pick(v, "MQTT-3.8.4-5", "MQTT-3.8.4-6"),
                event,
                format!(
                    "SUBACK packet id {} has {} codes, expected one per filter of the SUBSCRIBE ({})",
                    s.packet_id,
                    s.codes.len(),
                    req.filters.len()
                ),
            ));
            return;
        }
        for ((filter, asked), code) in req.filters.iter().zip(&s.codes) {
            if *code <= 2 && code > asked {
                out.push(Finding::with_statement(
                    &CODES_META,
                    pick(v, "MQTT-3.8.4-5", "MQTT-3.8.4-7"),
                    event,
                    format!(
                        "SUBACK packet id {} grants QoS {code} for \"{filter}\", above the requested QoS {asked}",
                        s.packet_id
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{Packet, Suback, Subscribe, Subscription, Version};
    use crate::rules::testkit::{assert_one, client, server, Script};

    fn subscribe(version: Version, id: u16, qos: &[u8]) -> Script {
        let mut sc = Script::connected(version);
        sc.push(client(Packet::Subscribe(Subscribe {
            packet_id: id,
            filters: qos
                .iter()
                .enumerate()
                .map(|(i, q)| Subscription {
                    filter: format!("t/{i}").into(),
                    options: *q,
                })
                .collect(),
            ..Subscribe::default()
        })));
        sc
    }

    fn suback(id: u16, codes: &[u8]) -> Packet {
        Packet::Suback(Suback {
            packet_id: id,
            codes: codes.to_vec(),
            ..Suback::default()
        })
    }

    #[test]
    fn matching_suback_passes() {
        let mut sc = subscribe(Version::V311, 5, &[2, 1, 0]);
        sc.push(server(suback(5, &[1, 0x80, 0])));
        assert!(sc.run().is_empty(), "{:#?}", sc.run());
    }

    #[test]
    fn a_subscribe_id_sent_twice_may_be_answered_twice() {
        let mut sc = subscribe(Version::V311, 5, &[0]);
        sc.push(client(Packet::Subscribe(Subscribe {
            packet_id: 5,
            filters: vec![
                Subscription {
                    filter: "x".into(),
                    options: 0,
                },
                Subscription {
                    filter: "y".into(),
                    options: 0,
                },
            ],
            ..Subscribe::default()
        })));
        sc.push(server(suback(5, &[0])));
        sc.push(server(suback(5, &[0, 0])));
        // Only the client is at fault: a new SUBSCRIBE under an id in use.
        let f = sc.run();
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].check, "client-subscribe-ids-not-in-use");
    }

    #[test]
    fn wrong_id_is_reported() {
        let mut sc = subscribe(Version::V311, 5, &[0]);
        let i = sc.push(server(suback(7, &[0])));
        let f = sc.run_rule("suback-matches-subscribe");
        assert_one(&f, "MQTT-3.8.4-2", Some(i));
        assert_eq!(
            f[0].message,
            "SUBACK packet id 7 does not match any outstanding SUBSCRIBE (outstanding: 5)"
        );
    }

    #[test]
    fn wrong_count_is_reported() {
        let mut sc = subscribe(Version::V311, 5, &[0, 1]);
        let i = sc.push(server(suback(5, &[0])));
        assert_one(
            &sc.run_rule("suback-codes-fit-subscribe"),
            "MQTT-3.8.4-5",
            Some(i),
        );
    }

    #[test]
    fn undefined_code_is_reported() {
        let mut sc = subscribe(Version::V311, 5, &[0]);
        let i = sc.push(server(suback(5, &[0x87])));
        assert_one(
            &sc.run_rule("suback-codes-fit-subscribe"),
            "MQTT-3.9.3-2",
            Some(i),
        );
        let mut sc = subscribe(Version::V5, 5, &[0]);
        sc.push(server(suback(5, &[0x87])));
        assert!(sc.run().is_empty());
    }

    #[test]
    fn over_grant_is_reported() {
        let mut sc = subscribe(Version::V5, 5, &[0]);
        let i = sc.push(server(suback(5, &[1])));
        assert_one(
            &sc.run_rule("suback-codes-fit-subscribe"),
            "MQTT-3.8.4-7",
            Some(i),
        );
    }
}
