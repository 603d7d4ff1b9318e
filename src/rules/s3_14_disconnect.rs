//! Section 3.14 DISCONNECT: the client sends nothing after its DISCONNECT.

use super::common::{packet, pick, ALL};
use super::{Finding, Interest, Rule, RuleMeta};
use crate::event::{Direction, Event, Side};
use crate::session::Session;

static META: RuleMeta = RuleMeta {
    name: "nothing-after-client-disconnect",
    statements: &["MQTT-3.14.4-2", "MQTT-3.14.4-1"],
    actor: Side::Client,
    versions: ALL,
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
        Interest::all_packets(Direction::ToServer)
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
