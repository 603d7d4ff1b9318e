//! Events: the one currency shared by live runs and capture analysis. Every
//! source reduces its traffic to these, per connection, and the rule engine
//! consumes nothing else.

use std::time::Duration;

use serde::Serialize;

use crate::codec::{Decoded, FrameError};

/// Which way bytes travel, seen from the MQTT roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Client → server.
    ToServer,
    /// Server → client.
    ToClient,
}

impl Direction {
    /// The side that sends in this direction.
    pub fn sender(self) -> Side {
        match self {
            Direction::ToServer => Side::Client,
            Direction::ToClient => Side::Server,
        }
    }

    /// Arrow for logs ("->" to the server, "<-" to the client).
    pub fn arrow(self) -> &'static str {
        match self {
            Direction::ToServer => "->",
            Direction::ToClient => "<-",
        }
    }
}

/// An MQTT role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Client,
    Server,
}

/// Who ended a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosedBy {
    Client,
    Server,
    /// Seen as ended without knowing by whom (end of capture, timeout).
    Unknown,
}

impl ClosedBy {
    /// "client", "server" or "unknown", as in reports.
    pub fn name(self) -> &'static str {
        match self {
            ClosedBy::Client => "client",
            ClosedBy::Server => "server",
            ClosedBy::Unknown => "unknown",
        }
    }
}

/// Connection number within a run, case or capture.
pub type ConnId = u32;

/// One observation. It borrows the packet it carries: the rules look at
/// it while it is fed, and keep what they need.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// Time since the start of the run or capture.
    pub at: Duration,
    pub conn: ConnId,
    pub kind: EventKind<'a>,
}

/// What was observed.
#[derive(Debug, Clone)]
pub enum EventKind<'a> {
    /// The transport connection opened.
    Opened,
    /// A whole packet; `index` counts packets of the connection (both directions) from 0.
    Packet {
        dir: Direction,
        index: u32,
        packet: &'a Decoded,
    },
    /// Bytes that could not be framed as a packet.
    Malformed {
        dir: Direction,
        offset: u64,
        len: usize,
        error: FrameError,
    },
    /// Bytes missing from a capture (TCP gap).
    Gap { dir: Direction, len: u64 },
    /// The WebSocket upgrade under MQTT over WebSocket: the subprotocols
    /// the client offered (to the server) or the server chose (to the client).
    Upgrade {
        dir: Direction,
        protocols: &'a [String],
    },
    /// The connection ended.
    Closed { by: ClosedBy },
}
