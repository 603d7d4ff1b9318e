//! Small helpers shared by the rules: pulling the packet out of an event and
//! choosing a statement ID by version.

use crate::codec::{Decoded, Packet, Version};
use crate::event::{Direction, Event, EventKind, Side};
use crate::session::Session;

/// 3.1, 3.1.1 and 5.0.
pub const ALL: &[Version] = &[Version::V31, Version::V311, Version::V5];

/// The direction, index and decoded packet of a packet event.
pub fn packet<'a>(event: &Event<'a>) -> Option<(Direction, u32, &'a Decoded)> {
    match &event.kind {
        EventKind::Packet { dir, index, packet } => Some((*dir, *index, *packet)),
        _ => None,
    }
}

/// The 3.x statement or the 5.0 one, by version.
pub fn pick(version: Version, v3: &'static str, v5: &'static str) -> &'static str {
    if version.is_v5() {
        v5
    } else {
        v3
    }
}

/// The version a packet is judged by: a CONNECT's own level, else the session's.
pub fn version_of(session: &Session, packet: &Packet) -> Version {
    match packet {
        Packet::Connect(c) if session.connect.is_none() => {
            Version::from_level(c.protocol_level).unwrap_or(session.version)
        }
        _ => session.version,
    }
}

/// Comma-separated packet ids, or "none".
pub fn id_list<'a>(ids: impl Iterator<Item = &'a u16>) -> String {
    let v: Vec<String> = ids.map(u16::to_string).collect();
    if v.is_empty() {
        "none".to_string()
    } else {
        v.join(", ")
    }
}

/// The direction `actor` sends in.
pub fn sending(actor: Side) -> Direction {
    match actor {
        Side::Client => Direction::ToServer,
        Side::Server => Direction::ToClient,
    }
}

/// A PUBLISH sent by `actor`.
pub fn sent_publish<'a>(
    actor: Side,
    event: &Event<'a>,
) -> Option<(Direction, &'a crate::codec::Publish)> {
    let (dir, _, d) = packet(event)?;
    match &d.packet {
        Packet::Publish(p) if dir.sender() == actor => Some((dir, p)),
        _ => None,
    }
}

/// A PUBLISH sent by `actor`, when its sequence state can be trusted.
pub fn own_publish<'a>(
    actor: Side,
    event: &Event<'a>,
    session: &Session,
) -> Option<(Direction, &'a crate::codec::Publish)> {
    if unreliable_for(actor, session) {
        return None;
    }
    sent_publish(actor, event)
}

/// Whether judging `actor` on sequence state is unsafe: bytes were lost, or
/// (judging the server) the client sent malformed packets.
pub fn unreliable_for(actor: Side, session: &Session) -> bool {
    match actor {
        Side::Server => session.unreliable(),
        Side::Client => session.lossy,
    }
}
