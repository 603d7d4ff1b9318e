//! Section 3.2.2.3 CONNACK properties (5.0): limits the server sets in its
//! CONNACK bind the client for the rest of the connection — Maximum QoS,
//! Retain Available and Receive Maximum.

use super::common::{own_publish, packet};
use super::{Finding, Interest, Rule, RuleMeta};
use crate::codec::properties::{id as prop, Value};
use crate::codec::{Packet, PacketType, Version};
use crate::event::{Direction, Event, Side};
use crate::session::Session;

static META: RuleMeta = RuleMeta {
    name: "client-within-connack-limits",
    statements: &["MQTT-3.2.2-11", "MQTT-3.2.2-14", "MQTT-3.3.4-7"],
    actor: Side::Client,
    versions: &[Version::V5],
    only: &[],
    summary: "The client keeps to the limits of the server's CONNACK: no PUBLISH above Maximum QoS, none with RETAIN when Retain Available is 0, no more unacknowledged QoS 1/2 PUBLISHes than Receive Maximum.",
};

/// The limits a CONNACK set (the spec's defaults where it is silent).
#[derive(Debug, Clone, Copy)]
struct Limits {
    maximum_qos: u8,
    retain_available: bool,
    receive_maximum: u16,
}

/// The client keeps to the server's CONNACK limits.
#[derive(Default)]
pub struct ClientWithinConnackLimits {
    limits: Option<Limits>,
}

impl Rule for ClientWithinConnackLimits {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn interest(&self) -> Interest {
        Interest::packets(Direction::ToClient, &[PacketType::Connack])
            | Interest::packets(Direction::ToServer, &[PacketType::Publish])
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        if let Some((Direction::ToClient, _, d)) = packet(event) {
            if let (Packet::Connack(c), None) = (&d.packet, self.limits) {
                if c.code == 0 {
                    self.limits = Some(limits_of(&c.properties));
                }
            }
            return;
        }
        let (Some(limits), Some((_, p))) = (self.limits, own_publish(Side::Client, event, session))
        else {
            return;
        };
        if p.qos > limits.maximum_qos && p.qos <= 2 {
            out.push(Finding::with_statement(
                &META,
                "MQTT-3.2.2-11",
                event,
                format!(
                    "PUBLISH on \"{}\" at QoS {} though the server's CONNACK set Maximum QoS {}",
                    p.topic, p.qos, limits.maximum_qos
                ),
            ));
        }
        if p.retain && !limits.retain_available {
            out.push(Finding::with_statement(
                &META,
                "MQTT-3.2.2-14",
                event,
                format!(
                    "PUBLISH on \"{}\" with RETAIN = 1 though the server's CONNACK set Retain Available 0",
                    p.topic
                ),
            ));
        }
        let new = p.qos > 0
            && p.packet_id
                .is_some_and(|id| !session.client_inflight.contains_key(&id));
        let unacked = session.client_inflight.len();
        if new && unacked >= usize::from(limits.receive_maximum) {
            out.push(Finding::with_statement(
                &META,
                "MQTT-3.3.4-7",
                event,
                format!(
                    "QoS {} PUBLISH id {} sent while {unacked} QoS 1/2 PUBLISH{} unacknowledged; the server's Receive Maximum is {}",
                    p.qos,
                    p.packet_id.unwrap_or(0),
                    if unacked == 1 { " is" } else { "es are" },
                    limits.receive_maximum
                ),
            ));
        }
    }
}

/// The limits in CONNACK properties; absent ones take the spec's defaults
/// (QoS 2, retain available, Receive Maximum 65535).
fn limits_of(props: &crate::codec::Properties) -> Limits {
    Limits {
        maximum_qos: match props.get(prop::MAXIMUM_QOS) {
            Some(Value::Byte(q)) => *q,
            _ => 2,
        },
        retain_available: !matches!(props.get(prop::RETAIN_AVAILABLE), Some(Value::Byte(0))),
        receive_maximum: match props.get(prop::RECEIVE_MAXIMUM) {
            Some(Value::U16(r)) if *r > 0 => *r,
            _ => u16::MAX,
        },
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use crate::codec::properties::{id as prop, Property, Value};
    use crate::codec::{Ack, Connack, Connect, Packet, Properties, Publish, Version};
    use crate::rules::testkit::{assert_one, client, server, Script};

    const RULE: &str = "client-within-connack-limits";

    /// A 5.0 connection whose CONNACK carries these properties.
    fn limited(props: &[(u8, Value)]) -> Script {
        limited_at(Version::V5, props)
    }

    fn limited_at(version: Version, props: &[(u8, Value)]) -> Script {
        let mut sc = Script::new();
        sc.open();
        sc.push(client(Packet::Connect(Box::new(Connect {
            protocol_level: version.level(),
            ..Connect::default()
        }))));
        sc.push(server(Packet::Connack(Connack {
            properties: Properties(
                props
                    .iter()
                    .map(|(id, value)| Property {
                        id: *id,
                        value: value.clone(),
                    })
                    .collect(),
            ),
            ..Connack::default()
        })));
        sc
    }

    fn publish(qos: u8, id: u16, retain: bool) -> Packet {
        Packet::Publish(Publish {
            qos,
            retain,
            topic: "t".into(),
            packet_id: (qos > 0).then_some(id),
            payload: Bytes::from_static(b"x"),
            ..Publish::default()
        })
    }

    #[test]
    fn publish_above_maximum_qos_is_reported() {
        let mut sc = limited(&[(prop::MAXIMUM_QOS, Value::Byte(1))]);
        sc.push(client(publish(1, 1, false)));
        let i = sc.push(client(publish(2, 2, false)));
        assert_one(&sc.run_rule(RULE), "MQTT-3.2.2-11", Some(i));
    }

    #[test]
    fn retain_when_not_available_is_reported() {
        let mut sc = limited(&[(prop::RETAIN_AVAILABLE, Value::Byte(0))]);
        sc.push(client(publish(0, 0, false)));
        let i = sc.push(client(publish(0, 0, true)));
        assert_one(&sc.run_rule(RULE), "MQTT-3.2.2-14", Some(i));
    }

    #[test]
    fn publish_beyond_receive_maximum_is_reported() {
        let mut sc = limited(&[(prop::RECEIVE_MAXIMUM, Value::U16(1))]);
        sc.push(client(publish(1, 1, false)));
        let i = sc.push(client(publish(1, 2, false)));
        let f = sc.run_rule(RULE);
        assert_one(&f, "MQTT-3.3.4-7", Some(i));
        assert!(f[0].message.contains("Receive Maximum is 1"), "{f:?}");
    }

    #[test]
    fn acknowledged_publishes_free_the_quota_and_resends_use_none() {
        let mut sc = limited(&[(prop::RECEIVE_MAXIMUM, Value::U16(1))]);
        sc.push(client(publish(1, 1, false)));
        // A re-send of the message in flight is not a new one.
        sc.push(client(Packet::Publish(Publish {
            dup: true,
            ..match publish(1, 1, false) {
                Packet::Publish(p) => p,
                _ => unreachable!(),
            }
        })));
        sc.push(server(Packet::Puback(Ack::new(1))));
        sc.push(client(publish(2, 2, false)));
        sc.push(server(Packet::Pubrec(Ack::new(2))));
        sc.push(client(Packet::Pubrel(Ack::new(2))));
        sc.push(server(Packet::Pubcomp(Ack::new(2))));
        sc.push(client(publish(1, 3, false)));
        assert!(sc.run_rule(RULE).is_empty());
    }

    #[test]
    fn without_limits_anything_within_the_protocol_passes() {
        let mut sc = limited(&[]);
        for id in 1..=3 {
            sc.push(client(publish(2, id, true)));
        }
        assert!(sc.run_rule(RULE).is_empty());
    }

    #[test]
    fn a_311_connection_is_not_judged() {
        let mut sc = limited_at(Version::V311, &[(prop::MAXIMUM_QOS, Value::Byte(1))]);
        sc.push(client(publish(2, 1, true)));
        assert!(sc.run_rule(RULE).is_empty());
    }
}
