//! Section 3.1 CONNECT: the client's first packet is CONNECT and it sends
//! CONNECT only once, the server stops after a second CONNECT, and the client
//! keeps within its Keep Alive. (The CONNECT flags and payload are judged in
//! `s3_1_connect_payload`.)

use super::common::{packet, pick, ALL};
use super::interest::Condition;
use super::{Finding, Interest, Rule, RuleMeta};
use crate::codec::{Packet, PacketType, Version};
use crate::event::{ClosedBy, Direction, Event, EventKind, Side};
use crate::session::{Phase, Session};

static FIRST_META: RuleMeta = RuleMeta {
    name: "first-packet-is-connect",
    statements: &["MQTT-3.1.0-1"],
    actor: Side::Client,
    versions: ALL,
    only: &[],
    summary: "The first packet a client sends on a new connection is CONNECT.",
};

/// The client's first packet is CONNECT.
#[derive(Default)]
pub struct FirstPacketIsConnect;

impl Rule for FirstPacketIsConnect {
    fn meta(&self) -> &'static RuleMeta {
        &FIRST_META
    }
    fn interest(&self) -> Interest {
        Interest::all_packets(Direction::ToServer).only_while(Condition::FirstFromClient)
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let Some((Direction::ToServer, _, d)) = packet(event) else {
            return;
        };
        // Without the connection's start (capture begun mid-flow) we cannot know.
        if session.opened_at.is_none() || session.lossy || session.from_client.packets > 0 {
            return;
        }
        if !matches!(d.packet, Packet::Connect(_)) {
            out.push(Finding::new(
                &FIRST_META,
                event,
                format!(
                    "first packet from the client is {}, expected CONNECT",
                    d.packet.packet_type()
                ),
            ));
        }
    }
}

static ONCE_META: RuleMeta = RuleMeta {
    name: "client-connects-once",
    statements: &["MQTT-3.1.0-2"],
    actor: Side::Client,
    versions: ALL,
    only: &[],
    summary: "The client sends CONNECT only once per connection (a second CONNECT is a protocol violation).",
};

/// A second CONNECT on the same connection is the client's protocol
/// violation (the server's duty to close for it is judged apart).
#[derive(Default)]
pub struct ClientConnectsOnce {
    reported: bool,
}

impl Rule for ClientConnectsOnce {
    fn meta(&self) -> &'static RuleMeta {
        &ONCE_META
    }
    fn interest(&self) -> Interest {
        Interest::packets(Direction::ToServer, &[PacketType::Connect])
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let Some((Direction::ToServer, _, d)) = packet(event) else {
            return;
        };
        if self.reported || !matches!(d.packet, Packet::Connect(_)) || session.connect.is_none() {
            return;
        }
        self.reported = true;
        out.push(Finding::new(
            &ONCE_META,
            event,
            "client sent a second CONNECT on the same connection (a protocol violation)",
        ));
    }
}

static SECOND_CONNECT_META: RuleMeta = RuleMeta {
    name: "server-stops-after-second-connect",
    statements: &["MQTT-3.1.0-2"],
    actor: Side::Server,
    versions: ALL,
    only: &[],
    summary: "After a second CONNECT the server closes the connection: it answers nothing sent from then on.",
};

/// A second CONNECT is a protocol violation the server must end the
/// connection for: a CONNACK to it, or an answer to anything the client sent
/// after it, shows the server went on.
#[derive(Default)]
pub struct ServerStopsAfterSecondConnect {
    second: bool,
    pingreq_after: bool,
    ids_after: Vec<u16>,
    reported: bool,
}

impl Rule for ServerStopsAfterSecondConnect {
    fn meta(&self) -> &'static RuleMeta {
        &SECOND_CONNECT_META
    }
    fn interest(&self) -> Interest {
        // Nothing is judged before a second CONNECT.
        Interest::packets(Direction::ToServer, &[PacketType::Connect])
            | (Interest::all_packets(Direction::ToServer)
                | Interest::all_packets(Direction::ToClient))
            .only_while(Condition::ConnectRepeated)
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let Some((dir, _, d)) = packet(event) else {
            return;
        };
        match dir {
            Direction::ToServer => {
                if let Packet::Connect(_) = &d.packet {
                    if session.connect.is_some() {
                        self.second = true;
                    }
                } else if self.second {
                    match &d.packet {
                        Packet::Pingreq => self.pingreq_after = true,
                        Packet::Publish(p) if p.qos > 0 => {
                            self.ids_after.extend(p.packet_id);
                        }
                        Packet::Subscribe(_) | Packet::Unsubscribe(_) | Packet::Pubrel(_) => {
                            self.ids_after.extend(d.packet.packet_id());
                        }
                        _ => {}
                    }
                }
            }
            Direction::ToClient => {
                if !self.second || self.reported {
                    return;
                }
                let what = match &d.packet {
                    Packet::Connack(_) => {
                        Some("answered the second CONNECT with a CONNACK".to_string())
                    }
                    Packet::Pingresp if self.pingreq_after => {
                        Some("answered a PINGREQ sent after the second CONNECT".to_string())
                    }
                    Packet::Puback(_)
                    | Packet::Pubrec(_)
                    | Packet::Pubcomp(_)
                    | Packet::Suback(_)
                    | Packet::Unsuback(_) => d
                        .packet
                        .packet_id()
                        .filter(|id| self.ids_after.contains(id))
                        .map(|id| {
                            format!(
                                "sent {} id={id} for a packet sent after the second CONNECT",
                                d.packet.packet_type()
                            )
                        }),
                    _ => None,
                };
                if let Some(w) = what {
                    self.reported = true;
                    out.push(Finding::new(
                        &SECOND_CONNECT_META,
                        event,
                        format!("the server went on after a second CONNECT instead of closing the connection: it {w}"),
                    ));
                }
            }
        }
    }
}

static KEEP_ALIVE_META: RuleMeta = RuleMeta {
    name: "client-keeps-alive",
    statements: &["MQTT-3.1.2-23", "MQTT-3.1.2-20"],
    actor: Side::Client,
    versions: ALL,
    only: &[
        ("MQTT-3.1.2-23", Version::V311),
        ("MQTT-3.1.2-20", Version::V5),
    ],
    summary: "The client never stays silent longer than its Keep Alive (judged at 1.5x, at its next packet or when the server closes).",
};

/// Gaps between client packets stay within the Keep Alive. A silence is
/// judged when the client's next packet arrives, or when the server closes
/// the connection (a server drops a silent client after 1.5 x Keep Alive).
#[derive(Default)]
pub struct ClientKeepsAlive;

impl Rule for ClientKeepsAlive {
    fn meta(&self) -> &'static RuleMeta {
        &KEEP_ALIVE_META
    }
    fn interest(&self) -> Interest {
        Interest::all_packets(Direction::ToServer) | Interest::CLOSED
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let what = match &event.kind {
            EventKind::Packet {
                dir: Direction::ToServer,
                ..
            } => "client was silent",
            EventKind::Closed {
                by: ClosedBy::Server,
            } => "the server closed the connection after the client was silent",
            _ => return,
        };
        if session.lossy || !matches!(session.phase, Phase::AwaitConnack | Phase::Connected) {
            return;
        }
        let (Some(ka), Some(last)) = (session.keep_alive(), session.from_client.last_at) else {
            return;
        };
        if ka == 0 {
            return;
        }
        let gap = event.at.saturating_sub(last);
        if gap.as_secs_f64() > 1.5 * f64::from(ka) {
            out.push(Finding::with_statement(
                &KEEP_ALIVE_META,
                pick(session.version, "MQTT-3.1.2-23", "MQTT-3.1.2-20"),
                event,
                format!(
                    "{what} for {:.1} s with Keep Alive {ka} s (limit judged at {:.1} s)",
                    gap.as_secs_f64(),
                    1.5 * f64::from(ka)
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Connect, Version};
    use crate::event::ClosedBy;
    use crate::rules::testkit::{assert_one, client, server, Script};

    #[test]
    fn connect_first_passes() {
        let sc = Script::connected(Version::V311);
        assert!(sc.run().is_empty(), "{:#?}", sc.run());
    }

    #[test]
    fn publish_first_is_reported() {
        let mut sc = Script::new();
        sc.open();
        let i = sc.push(client(Script::publish("a", 0, None)));
        assert_one(
            &sc.run_rule("first-packet-is-connect"),
            "MQTT-3.1.0-1",
            Some(i),
        );
    }

    #[test]
    fn mid_flow_capture_is_not_judged() {
        let mut sc = Script::new();
        sc.push(client(Script::publish("a", 0, None)));
        assert!(sc.run_rule("first-packet-is-connect").is_empty());
    }

    #[test]
    fn server_closing_after_second_connect_passes() {
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Packet::Connect(Box::default())));
        sc.push(client(Packet::Pingreq));
        sc.close(ClosedBy::Server);
        assert!(sc.run_rule("server-stops-after-second-connect").is_empty());
    }

    #[test]
    fn server_answering_after_second_connect_is_reported() {
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Packet::Pingreq));
        sc.push(server(Packet::Pingresp));
        sc.push(client(Packet::Connect(Box::default())));
        sc.push(client(Packet::Pingreq));
        let i = sc.push(server(Packet::Pingresp));
        assert_one(
            &sc.run_rule("server-stops-after-second-connect"),
            "MQTT-3.1.0-2",
            Some(i),
        );
    }

    #[test]
    fn connack_to_second_connect_is_reported() {
        let mut sc = Script::connected(Version::V5);
        sc.push(client(Packet::Connect(Box::new(Connect {
            protocol_level: 5,
            ..Connect::default()
        }))));
        let i = sc.push(server(Packet::Connack(Default::default())));
        assert_one(
            &sc.run_rule("server-stops-after-second-connect"),
            "MQTT-3.1.0-2",
            Some(i),
        );
    }

    fn with_keep_alive(ka: u16) -> Script {
        Script::connected_with(Connect {
            keep_alive: ka,
            ..Connect::default()
        })
    }

    #[test]
    fn pings_within_keep_alive_pass() {
        let mut sc = with_keep_alive(10);
        sc.at(14.0);
        sc.push(client(Packet::Pingreq));
        sc.at(28.0);
        sc.push(client(Packet::Pingreq));
        assert!(sc.run_rule("client-keeps-alive").is_empty());
    }

    #[test]
    fn long_silence_is_reported() {
        let mut sc = with_keep_alive(10);
        sc.at(16.0);
        let i = sc.push(client(Packet::Pingreq));
        assert_one(&sc.run_rule("client-keeps-alive"), "MQTT-3.1.2-23", Some(i));
    }

    #[test]
    fn server_closing_a_silent_client_reveals_the_silence() {
        for (version, statement) in [
            (Version::V311, "MQTT-3.1.2-23"),
            (Version::V5, "MQTT-3.1.2-20"),
        ] {
            let mut sc = Script::connected_with(Connect {
                protocol_level: version.level(),
                keep_alive: 10,
                ..Connect::default()
            });
            sc.at(15.2);
            sc.close(ClosedBy::Server);
            assert_one(&sc.run_rule("client-keeps-alive"), statement, None);
        }
    }

    #[test]
    fn closes_within_keep_alive_or_by_the_client_pass() {
        let mut sc = with_keep_alive(10);
        sc.at(9.0);
        sc.close(ClosedBy::Server);
        assert!(sc.run_rule("client-keeps-alive").is_empty());
        let mut sc = with_keep_alive(10);
        sc.at(100.0);
        sc.close(ClosedBy::Client);
        assert!(sc.run_rule("client-keeps-alive").is_empty());
        let mut sc = with_keep_alive(10);
        sc.push(client(Packet::Disconnect(Default::default())));
        sc.at(100.0);
        sc.close(ClosedBy::Server);
        assert!(sc.run_rule("client-keeps-alive").is_empty());
    }

    #[test]
    fn second_connect_is_the_clients_violation() {
        for version in [Version::V311, Version::V5] {
            let mut sc = Script::connected(version);
            let i = sc.push(client(Packet::Connect(Box::new(Connect {
                protocol_level: version.level(),
                ..Connect::default()
            }))));
            sc.push(client(Packet::Connect(Box::default())));
            assert_one(
                &sc.run_rule("client-connects-once"),
                "MQTT-3.1.0-2",
                Some(i),
            );
        }
        assert!(Script::connected(Version::V311)
            .run_rule("client-connects-once")
            .is_empty());
    }

    #[test]
    fn zero_keep_alive_is_not_judged() {
        let mut sc = with_keep_alive(0);
        sc.at(1000.0);
        sc.push(client(Packet::Pingreq));
        assert!(sc.run_rule("client-keeps-alive").is_empty());
    }
}
