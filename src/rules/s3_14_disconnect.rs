//! Section 3.14 DISCONNECT: the client sends nothing after its DISCONNECT,
//! and closes the network connection itself.

use std::time::Duration;

use super::common::{packet, pick, ALL};
use super::interest::Condition;
use super::{Finding, Interest, Rule, RuleMeta};
use crate::codec::{Packet, PacketType, Version};
use crate::event::{ClosedBy, Direction, Event, EventKind, Side};
use crate::session::Session;

static META: RuleMeta = RuleMeta {
    name: "nothing-after-client-disconnect",
    statements: &["MQTT-3.14.4-2", "MQTT-3.14.4-1"],
    actor: Side::Client,
    versions: ALL,
    only: &[
        ("MQTT-3.14.4-2", Version::V311),
        ("MQTT-3.14.4-1", Version::V5),
    ],
    summary: "After sending DISCONNECT the client sends no further packets.",
};

/// No client packet follows the client's DISCONNECT.
#[derive(Default)]
pub struct NothingAfterClientDisconnect {
    reported: bool,
}

impl Rule for NothingAfterClientDisconnect {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn interest(&self) -> Interest {
        Interest::all_packets(Direction::ToServer).only_while(Condition::ClientDisconnected)
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let Some((Direction::ToServer, _, d)) = packet(event) else {
            return;
        };
        let Some(at) = session.client_disconnect else {
            return;
        };
        if self.reported {
            return;
        }
        self.reported = true;
        out.push(Finding::with_statement(
            &META,
            pick(session.version, "MQTT-3.14.4-2", "MQTT-3.14.4-1"),
            event,
            format!(
                "client sent {} after its DISCONNECT (packet {at})",
                d.packet.packet_type()
            ),
        ));
    }
}

static CLOSE_META: RuleMeta = RuleMeta {
    name: "client-closes-after-disconnect",
    statements: &["MQTT-3.14.4-1", "MQTT-3.14.4-2"],
    actor: Side::Client,
    versions: ALL,
    only: &[
        ("MQTT-3.14.4-1", Version::V311),
        ("MQTT-3.14.4-2", Version::V5),
    ],
    summary: "After sending DISCONNECT the client closes the network connection (judged when the server has to close it a second or more later).",
};

/// How long a client may keep the connection open after its DISCONNECT
/// before a server's close shows it never closed (the watch broker closes
/// after the same grace).
pub const CLOSE_AFTER_DISCONNECT: Duration = Duration::from_secs(1);

/// The client closes the connection after its DISCONNECT: a close by the
/// server [`CLOSE_AFTER_DISCONNECT`] or more after it shows the client kept
/// it open. (A server closing right away, as many do, is not judged.)
#[derive(Default)]
pub struct ClientClosesAfterDisconnect {
    disconnect_at: Option<Duration>,
}

impl Rule for ClientClosesAfterDisconnect {
    fn meta(&self) -> &'static RuleMeta {
        &CLOSE_META
    }
    fn interest(&self) -> Interest {
        Interest::packets(Direction::ToServer, &[PacketType::Disconnect]) | Interest::CLOSED
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        match &event.kind {
            EventKind::Packet {
                dir: Direction::ToServer,
                packet,
                ..
            } if matches!(packet.packet, Packet::Disconnect(_)) && self.disconnect_at.is_none() => {
                self.disconnect_at = Some(event.at);
            }
            EventKind::Closed {
                by: ClosedBy::Server,
            } => {
                let Some(at) = self.disconnect_at else {
                    return;
                };
                let open = event.at.saturating_sub(at);
                if open >= CLOSE_AFTER_DISCONNECT {
                    out.push(Finding::with_statement(
                        &CLOSE_META,
                        pick(session.version, "MQTT-3.14.4-1", "MQTT-3.14.4-2"),
                        event,
                        format!(
                            "client kept the connection open {:.1} s after its DISCONNECT (packet {}) until the server closed it",
                            open.as_secs_f64(),
                            session.client_disconnect.unwrap_or_default()
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
    use crate::event::ClosedBy;
    use crate::rules::testkit::{assert_one, client, Script};

    #[test]
    fn disconnect_then_close_passes() {
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Packet::Disconnect(Default::default())));
        sc.close(ClosedBy::Client);
        assert!(sc.run().is_empty());
    }

    #[test]
    fn server_closing_long_after_disconnect_is_reported() {
        for (version, statement) in [
            (Version::V311, "MQTT-3.14.4-1"),
            (Version::V5, "MQTT-3.14.4-2"),
        ] {
            let mut sc = Script::connected(version);
            sc.at(1.0);
            sc.push(client(Packet::Disconnect(Default::default())));
            sc.at(2.5);
            sc.close(ClosedBy::Server);
            assert_one(
                &sc.run_rule("client-closes-after-disconnect"),
                statement,
                None,
            );
        }
    }

    #[test]
    fn server_closing_at_once_after_disconnect_passes() {
        let mut sc = Script::connected(Version::V311);
        sc.at(1.0);
        sc.push(client(Packet::Disconnect(Default::default())));
        sc.at(1.01);
        sc.close(ClosedBy::Server);
        assert!(sc.run().is_empty());
        // Without a DISCONNECT a server close is not the client's.
        let mut sc = Script::connected(Version::V311);
        sc.at(30.0);
        sc.close(ClosedBy::Server);
        assert!(sc.run_rule("client-closes-after-disconnect").is_empty());
    }

    #[test]
    fn packet_after_disconnect_is_reported_once() {
        let mut sc = Script::connected(Version::V5);
        sc.push(client(Packet::Disconnect(Default::default())));
        let i = sc.push(client(Packet::Pingreq));
        sc.push(client(Packet::Pingreq));
        assert_one(
            &sc.run_rule("nothing-after-client-disconnect"),
            "MQTT-3.14.4-1",
            Some(i),
        );
    }
}
