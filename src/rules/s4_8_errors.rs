//! Section 4.8 handling errors, the client's side: on a protocol violation by
//! the server the client closes the connection. Passively this shows when
//! the client acknowledges the very packet that broke a statement (a PUBACK
//! or PUBREC to a malformed PUBLISH, a PUBREL to a malformed PUBREC, a
//! PUBCOMP to a malformed PUBREL) instead of closing: anything else the
//! client sends may have crossed the bad packet on the wire.

use super::common::packet;
use super::interest::Condition;
use super::wellformed::statement_for;
use super::{Finding, Interest, Rule, RuleMeta};
use crate::codec::{Packet, PacketType, Version};
use crate::event::{Direction, Event, Side};
use crate::session::Session;

static META: RuleMeta = RuleMeta {
    name: "client-closes-on-server-violation",
    statements: &["MQTT-4.8.0-1"],
    actor: Side::Client,
    versions: &[Version::V31, Version::V311],
    only: &[],
    summary: "The client closes the connection on a malformed packet from the server rather than acknowledging it.",
};

/// A server packet that broke a statement, awaiting nothing but a close.
struct Bad {
    /// The acknowledgements that would answer it.
    answers: &'static [PacketType],
    id: u16,
    index: u32,
    statement: &'static str,
}

/// The client does not acknowledge a server packet that broke a statement.
#[derive(Default)]
pub struct ClientClosesOnServerViolation {
    bad: Vec<Bad>,
}

impl Rule for ClientClosesOnServerViolation {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn interest(&self) -> Interest {
        // A server packet matters only when it broke a statement.
        Interest::packets(
            Direction::ToClient,
            &[PacketType::Publish, PacketType::Pubrec, PacketType::Pubrel],
        )
        .only_while(Condition::Violations)
            | Interest::packets(
                Direction::ToServer,
                &[
                    PacketType::Puback,
                    PacketType::Pubrec,
                    PacketType::Pubrel,
                    PacketType::Pubcomp,
                ],
            )
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let Some((dir, index, d)) = packet(event) else {
            return;
        };
        if session.lossy {
            return;
        }
        match dir {
            Direction::ToClient => {
                let ptype = PacketType::from_nibble(d.first_byte >> 4);
                let Some(statement) = d.violations.iter().find_map(|v| {
                    statement_for(session.version, ptype, Side::Server, &v.kind).map(|(s, _)| s)
                }) else {
                    return;
                };
                let (answers, id): (&'static [PacketType], _) = match &d.packet {
                    Packet::Publish(p) => match p.qos {
                        1 => (&[PacketType::Puback], p.packet_id),
                        2 => (&[PacketType::Pubrec], p.packet_id),
                        // QoS 3 calls for neither answer: either one counts.
                        3 => (&[PacketType::Puback, PacketType::Pubrec], p.packet_id),
                        _ => return,
                    },
                    Packet::Pubrec(a) => (&[PacketType::Pubrel], Some(a.packet_id)),
                    Packet::Pubrel(a) => (&[PacketType::Pubcomp], Some(a.packet_id)),
                    _ => return,
                };
                if let Some(id) = id {
                    self.bad.push(Bad {
                        answers,
                        id,
                        index,
                        statement,
                    });
                }
            }
            Direction::ToServer => {
                let t = d.packet.packet_type();
                let Some(id) = d.packet.packet_id() else {
                    return;
                };
                let Some(at) = self
                    .bad
                    .iter()
                    .position(|b| b.id == id && b.answers.contains(&t))
                else {
                    return;
                };
                let b = self.bad.remove(at);
                out.push(Finding::new(
                    &META,
                    event,
                    format!(
                        "client answered packet {} (which broke [{}]) with {t} id={id} instead of closing the connection",
                        b.index, b.statement
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{Packet, Version, Violation, ViolationKind};
    use crate::event::ClosedBy;
    use crate::rules::testkit::{ack, assert_one, client, server, Script};

    const RULE: &str = "client-closes-on-server-violation";

    fn qos3() -> Vec<Violation> {
        vec![Violation {
            offset: 0,
            kind: ViolationKind::Qos3,
        }]
    }

    #[test]
    fn closing_on_a_malformed_publish_passes() {
        let mut sc = Script::connected(Version::V311);
        sc.push(server(Script::publish("a", 3, Some(1))).violations(qos3()));
        sc.close(ClosedBy::Client);
        assert!(sc.run_rule(RULE).is_empty());
        // Well-formed packets are answered as usual.
        let mut sc = Script::connected(Version::V311);
        sc.push(server(Script::publish("a", 1, Some(1))));
        sc.push(client(Packet::Puback(ack(1))));
        assert!(sc.run_rule(RULE).is_empty());
    }

    #[test]
    fn acknowledging_a_malformed_packet_is_reported() {
        let mut sc = Script::connected(Version::V311);
        let bad = sc.push(server(Script::publish("a", 3, Some(1))).violations(qos3()));
        let i = sc.push(client(Packet::Puback(ack(1))));
        let f = sc.run_rule(RULE);
        assert_one(&f, "MQTT-4.8.0-1", Some(i));
        assert!(
            f[0].message.contains(&format!("packet {bad}")),
            "{}",
            f[0].message
        );
        // A PUBREL with reserved flags answered by PUBCOMP.
        let mut sc = Script::connected(Version::V311);
        sc.push(server(Packet::Pubrel(ack(4))).violations(vec![Violation {
            offset: 0,
            kind: ViolationKind::ReservedFlags {
                expected: 2,
                actual: 0,
            },
        }]));
        let i = sc.push(client(Packet::Pubcomp(ack(4))));
        assert_one(&sc.run_rule(RULE), "MQTT-4.8.0-1", Some(i));
    }

    #[test]
    fn not_judged_for_5() {
        let mut sc = Script::connected(Version::V5);
        sc.push(server(Script::publish("a", 3, Some(1))).violations(qos3()));
        sc.push(client(Packet::Puback(ack(1))));
        assert!(sc.run_rule(RULE).is_empty());
    }
}
