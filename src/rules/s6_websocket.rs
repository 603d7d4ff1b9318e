//! Section 6 WebSocket transport: MQTT bytes travel in binary frames only.
//! A live WebSocket link records a text frame's payload as unframeable bytes
//! with [`FrameError::TextFrame`]; this rule names the side that sent it.

use super::common::ALL;
use super::{Finding, Interest, Rule, RuleMeta};
use crate::codec::FrameError;
use crate::event::{Event, EventKind, Side};
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

#[cfg(test)]
mod tests {
    use crate::codec::{FrameError, Version};
    use crate::event::Direction;
    use crate::rules::testkit::{assert_one, Script};

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
    fn other_unframeable_bytes_are_not_text_frames() {
        let mut s = Script::connected(Version::V311);
        s.malformed(Direction::ToClient);
        assert!(s.run_rule("server-websocket-binary-frames-only").is_empty());
    }
}
