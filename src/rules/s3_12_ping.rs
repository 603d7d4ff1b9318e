//! Section 3.12 PINGREQ: the server answers each PINGREQ with a PINGRESP.
//! Judged only when the connection stayed open at least 5 s after an
//! unanswered PINGREQ and was not closed by the server.

use std::time::Duration;

use super::common::{packet, ALL};
use super::interest::Condition;
use super::{Finding, Interest, Rule, RuleMeta};
use crate::codec::{Packet, PacketType};
use crate::event::{ClosedBy, ConnId, Direction, Event, Side};
use crate::session::{Phase, Session};

/// How long a PINGREQ may stay unanswered before the rule judges it.
const PATIENCE: Duration = Duration::from_secs(5);

static META: RuleMeta = RuleMeta {
    name: "pingreq-answered",
    statements: &["MQTT-3.12.4-1"],
    actor: Side::Server,
    versions: ALL,
    only: &[],
    summary: "The server answers each PINGREQ with a PINGRESP.",
};

/// PINGREQ gets a PINGRESP.
#[derive(Default)]
pub struct PingreqAnswered {
    /// Oldest unanswered PINGREQ: time and packet index.
    pending: Option<(Duration, u32)>,
    /// The client sent something after the PINGREQ that may end the conversation.
    excused: bool,
    /// The connection, noted with the PINGREQ (finish reports without an event).
    conn: ConnId,
}

impl Rule for PingreqAnswered {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn interest(&self) -> Interest {
        // PINGREQ, the answer, and what excuses a missing answer: a
        // DISCONNECT or a malformed packet.
        Interest::packets(
            Direction::ToServer,
            &[PacketType::Pingreq, PacketType::Disconnect],
        ) | Interest::all_packets(Direction::ToServer).only_while(Condition::Violations)
            | Interest::packets(Direction::ToClient, &[PacketType::Pingresp])
    }
    fn observe(&mut self, event: &Event, session: &Session, _out: &mut Vec<Finding>) {
        let Some((dir, index, d)) = packet(event) else {
            return;
        };
        match (dir, &d.packet) {
            (Direction::ToServer, Packet::Pingreq)
                if self.pending.is_none() && session.phase == Phase::Connected && d.is_clean() =>
            {
                self.pending = Some((event.at, index));
                self.conn = event.conn;
            }
            (Direction::ToClient, Packet::Pingresp) => self.pending = None,
            (Direction::ToServer, Packet::Disconnect(_)) => self.excused = true,
            (Direction::ToServer, _) if !d.is_clean() => self.excused = true,
            _ => {}
        }
    }
    fn finish(&mut self, session: &Session, out: &mut Vec<Finding>) {
        let Some((asked, index)) = self.pending else {
            return;
        };
        let (Some(by), Some(closed)) = (session.closed_by, session.closed_at) else {
            return;
        };
        if self.excused || session.lossy || by == ClosedBy::Server {
            return;
        }
        let waited = closed.saturating_sub(asked);
        if waited < PATIENCE {
            return;
        }
        out.push(Finding {
            rule: "MQTT-3.12.4-1",
            check: META.name,
            actor: META.actor,
            message: format!(
                "PINGREQ (packet {index}) got no PINGRESP in the {:.1} s the connection stayed open",
                waited.as_secs_f64()
            ),
            connection: self.conn,
            packet: Some(index),
            at: closed,
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{Packet, Version};
    use crate::event::ClosedBy;
    use crate::rules::testkit::{assert_one, client, server, Script};

    #[test]
    fn answered_ping_passes() {
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Packet::Pingreq));
        sc.push(server(Packet::Pingresp));
        sc.at(20.0).close(ClosedBy::Client);
        assert!(sc.run().is_empty());
    }

    #[test]
    fn unanswered_ping_is_reported() {
        let mut sc = Script::connected(Version::V311);
        let i = sc.push(client(Packet::Pingreq));
        sc.at(10.0).close(ClosedBy::Unknown);
        assert_one(&sc.run_rule("pingreq-answered"), "MQTT-3.12.4-1", Some(i));
    }

    #[test]
    fn short_or_server_closed_waits_are_not_judged() {
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Packet::Pingreq));
        sc.at(2.0).close(ClosedBy::Client);
        assert!(sc.run_rule("pingreq-answered").is_empty());
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Packet::Pingreq));
        sc.at(20.0).close(ClosedBy::Server);
        assert!(sc.run_rule("pingreq-answered").is_empty());
    }
}
