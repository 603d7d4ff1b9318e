//! Section 6 WebSocket transport: MQTT bytes travel in binary frames only,
//! and the subprotocol offered and chosen is "mqtt". A WebSocket link (live
//! or in a capture) records a text frame's payload as unframeable bytes
//! with [`FrameError::TextFrame`], and the upgrade's subprotocols as an
//! [`EventKind::Upgrade`] of each side.

use super::common::ALL;
use super::{Finding, Interest, Rule, RuleMeta};
use crate::codec::{FrameError, Packet, PacketType};
use crate::event::{Direction, Event, EventKind, Side};
use crate::session::Session;

static BINARY_CLIENT: RuleMeta = RuleMeta {
    name: "client-websocket-binary-frames-only",
    statements: &["MQTT-6.0.0-1"],
    actor: Side::Client,
    versions: ALL,
    only: &[],
    summary: "Over WebSocket, the client sends MQTT bytes in binary frames, never in text frames.",
};
static BINARY_SERVER: RuleMeta = RuleMeta {
    name: "server-websocket-binary-frames-only",
    statements: &["MQTT-6.0.0-1"],
    actor: Side::Server,
    versions: ALL,
    only: &[],
    summary: "Over WebSocket, the server sends MQTT bytes in binary frames, never in text frames.",
};

/// No WebSocket text frames (one instance per judged side).
pub struct BinaryFramesOnly {
    meta: &'static RuleMeta,
}

impl BinaryFramesOnly {
    pub fn client() -> Self {
        Self {
            meta: &BINARY_CLIENT,
        }
    }
    pub fn server() -> Self {
        Self {
            meta: &BINARY_SERVER,
        }
    }
}

impl Rule for BinaryFramesOnly {
    fn meta(&self) -> &'static RuleMeta {
        self.meta
    }
    fn interest(&self) -> Interest {
        Interest::MALFORMED
    }
    fn observe(&mut self, event: &Event, _session: &Session, out: &mut Vec<Finding>) {
        if let EventKind::Malformed {
            dir,
            len,
            error: FrameError::TextFrame,
            ..
        } = &event.kind
        {
            if dir.sender() == self.meta.actor {
                out.push(Finding::new(
                    self.meta,
                    event,
                    format!(
                        "sent a WebSocket text frame ({len} bytes of payload); MQTT data goes in binary frames"
                    ),
                ));
            }
        }
    }
}

static OFFERS_MQTT: RuleMeta = RuleMeta {
    name: "client-websocket-offers-mqtt",
    statements: &["MQTT-6.0.0-3"],
    actor: Side::Client,
    versions: ALL,
    only: &[],
    summary: "Over WebSocket, the client offers the \"mqtt\" subprotocol.",
};
static SELECTS_MQTT: RuleMeta = RuleMeta {
    name: "server-websocket-selects-mqtt",
    statements: &["MQTT-6.0.0-4"],
    actor: Side::Server,
    versions: ALL,
    only: &[],
    summary: "Over WebSocket, the server selects the \"mqtt\" subprotocol the client offered.",
};

/// The subprotocol of one side's upgrade is "mqtt" (one instance per side).
///
/// MQTT 3.1 predates the WebSocket section and its clients use
/// "mqttv3.1": that name is accepted when the CONNECT that follows is of
/// MQTT 3.1 (protocol level 3), and judged at that CONNECT. The server is
/// judged only when the client offered "mqtt", the one it must choose.
pub struct SubprotocolIsMqtt {
    meta: &'static RuleMeta,
    /// The client offered "mqtt".
    offered: bool,
    /// "mqttv3.1" instead of "mqtt": the verdict waits for the CONNECT.
    pending: Option<String>,
}

impl SubprotocolIsMqtt {
    pub fn client() -> Self {
        Self {
            meta: &OFFERS_MQTT,
            offered: false,
            pending: None,
        }
    }
    pub fn server() -> Self {
        Self {
            meta: &SELECTS_MQTT,
            offered: false,
            pending: None,
        }
    }

    fn message(&self, protocols: &[String]) -> String {
        let list = if protocols.is_empty() {
            "none".to_string()
        } else {
            protocols.join(", ")
        };
        match self.meta.actor {
            Side::Client => {
                format!("offered the WebSocket subprotocols [{list}], without \"mqtt\"")
            }
            Side::Server => format!("chose the WebSocket subprotocols [{list}], not \"mqtt\""),
        }
    }
}

impl Rule for SubprotocolIsMqtt {
    fn meta(&self) -> &'static RuleMeta {
        self.meta
    }
    fn interest(&self) -> Interest {
        Interest::UPGRADE | Interest::packets(Direction::ToServer, &[PacketType::Connect])
    }
    fn observe(&mut self, event: &Event, _session: &Session, out: &mut Vec<Finding>) {
        match &event.kind {
            EventKind::Upgrade { dir, protocols } => {
                let has = |name: &str| protocols.iter().any(|p| p == name);
                if *dir == Direction::ToServer {
                    self.offered = has("mqtt");
                }
                if dir.sender() != self.meta.actor
                    || has("mqtt")
                    || (self.meta.actor == Side::Server && !self.offered)
                {
                    return;
                }
                if has("mqttv3.1") {
                    self.pending = Some(self.message(protocols));
                } else {
                    out.push(Finding::new(self.meta, event, self.message(protocols)));
                }
            }
            EventKind::Packet { packet, .. } => {
                let Packet::Connect(c) = &packet.packet else {
                    return;
                };
                if let Some(message) = self.pending.take() {
                    if c.protocol_level != 3 {
                        let message = format!("{message} (\"mqttv3.1\" names MQTT 3.1; this CONNECT is of protocol level {})", c.protocol_level);
                        out.push(Finding::new(self.meta, event, message));
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::codec::{Connect, FrameError, Packet, Version};
    use crate::event::Direction;
    use crate::rules::testkit::{assert_one, client, Script};

    #[test]
    fn text_frame_from_the_server_is_a_finding_against_it() {
        let mut s = Script::connected(Version::V311);
        s.malformed_as(Direction::ToClient, FrameError::TextFrame);
        let f = s.run_rule("server-websocket-binary-frames-only");
        assert_one(&f, "MQTT-6.0.0-1", None);
        assert!(s.run_rule("client-websocket-binary-frames-only").is_empty());
    }

    #[test]
    fn text_frame_from_the_client_is_judged_on_the_client() {
        let mut s = Script::connected(Version::V311);
        s.malformed_as(Direction::ToServer, FrameError::TextFrame);
        assert_one(
            &s.run_rule("client-websocket-binary-frames-only"),
            "MQTT-6.0.0-1",
            None,
        );
        assert!(s.run_rule("server-websocket-binary-frames-only").is_empty());
    }

    #[test]
    fn a_client_without_mqtt_in_its_offer_is_a_finding() {
        let mut s = Script::new();
        s.open();
        s.upgrade(Direction::ToServer, &["chat"]);
        assert_one(
            &s.run_rule("client-websocket-offers-mqtt"),
            "MQTT-6.0.0-3",
            None,
        );
        let mut s = Script::new();
        s.upgrade(Direction::ToServer, &["chat", "mqtt"]);
        assert!(s.run_rule("client-websocket-offers-mqtt").is_empty());
    }

    #[test]
    fn mqttv3_1_is_accepted_for_mqtt_3_1_only() {
        for (version, findings) in [(Version::V31, 0), (Version::V311, 1), (Version::V5, 1)] {
            let mut s = Script::new();
            s.upgrade(Direction::ToServer, &["mqttv3.1"]);
            s.upgrade(Direction::ToClient, &["mqttv3.1"]);
            s.push(client(Packet::Connect(Box::new(Connect {
                protocol_level: version.level(),
                ..Connect::default()
            }))));
            let f = s.run_rule("client-websocket-offers-mqtt");
            assert_eq!(f.len(), findings, "{version:?}");
            // The server chose what was offered: not its fault.
            assert!(s.run_rule("server-websocket-selects-mqtt").is_empty());
        }
    }

    #[test]
    fn a_server_that_does_not_choose_mqtt_is_a_finding() {
        for chosen in [&[][..], &["chat"][..]] {
            let mut s = Script::new();
            s.upgrade(Direction::ToServer, &["mqtt"]);
            s.upgrade(Direction::ToClient, chosen);
            assert_one(
                &s.run_rule("server-websocket-selects-mqtt"),
                "MQTT-6.0.0-4",
                None,
            );
            assert!(s.run_rule("client-websocket-offers-mqtt").is_empty());
        }
        let mut s = Script::new();
        s.upgrade(Direction::ToServer, &["mqtt"]);
        s.upgrade(Direction::ToClient, &["mqtt"]);
        assert!(s.run_rule("server-websocket-selects-mqtt").is_empty());
    }

    #[test]
    fn other_unframeable_bytes_are_not_text_frames() {
        let mut s = Script::connected(Version::V311);
        s.malformed(Direction::ToClient);
        assert!(s.run_rule("server-websocket-binary-frames-only").is_empty());
    }
}
