//! Per-connection protocol state that rules consult: where the connection is
//! in its life (awaiting CONNECT, connected, refused, disconnecting, closed),
//! the negotiated version, in-flight packet identifiers in each direction,
//! subscriptions, keep alive and timing.

use std::time::Duration;

use crate::codec::{Connect, Version};
use crate::event::{Event, EventKind};

/// Where the connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Opened; no CONNECT yet.
    AwaitConnect,
    /// CONNECT seen, no CONNACK yet.
    AwaitConnack,
    /// CONNACK with code 0.
    Connected,
    /// CONNACK with a non-zero code.
    Refused,
    /// The client sent DISCONNECT.
    Disconnected,
    /// The transport closed.
    Closed,
}

/// State of one connection.
#[derive(Debug, Clone)]
pub struct Session {
    pub version: Version,
    pub phase: Phase,
    pub connect: Option<Connect>,
    /// Packets seen on the connection (both directions).
    pub packets: u32,
    pub opened_at: Option<Duration>,
}

impl Session {
    /// A fresh session assuming `version` until CONNECT says otherwise.
    pub fn new(version: Version) -> Session {
        Session {
            version,
            phase: Phase::AwaitConnect,
            connect: None,
            packets: 0,
            opened_at: None,
        }
    }

    /// Apply an event (after the rules have observed it).
    pub fn apply(&mut self, event: &Event) {
        match &event.kind {
            EventKind::Opened => self.opened_at = Some(event.at),
            EventKind::Packet { .. } => self.packets += 1,
            EventKind::Closed { .. } => self.phase = Phase::Closed,
            _ => {}
        }
    }
}
