//! Per-connection protocol state that rules consult: where the connection is
//! in its life (awaiting CONNECT, connected, refused, disconnecting, closed),
//! the negotiated version, in-flight packet identifiers in each direction,
//! subscriptions, keep alive and timing.
//!
//! The session is updated by [`Session::apply`] after the rules have seen an
//! event, so a rule always sees the state *before* the packet it judges.

mod content;
mod id_map;
mod id_set;

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;

use crate::codec::properties::id as prop;
use crate::codec::{Connect, Packet, Publish, Text, Value, Version};
use crate::event::{ClosedBy, Direction, Event, EventKind};

pub use content::content_hash;
pub use id_map::IdMap;
pub use id_set::IdSet;

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

/// Where a QoS 1/2 message stands, seen from its sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// QoS 1 PUBLISH sent, PUBACK awaited.
    AwaitPuback,
    /// QoS 2 PUBLISH sent, PUBREC awaited.
    AwaitPubrec,
    /// PUBREC received, PUBREL not yet sent.
    AwaitPubrel,
    /// PUBREL sent, PUBCOMP awaited.
    AwaitPubcomp,
}

/// A QoS 1/2 PUBLISH not yet fully acknowledged.
#[derive(Debug, Clone, PartialEq)]
pub struct InFlight {
    pub qos: u8,
    pub stage: Stage,
    /// [`content_hash`] of its topic (an alias resolved) and payload.
    pub content: u64,
    /// Packet index of the PUBLISH.
    pub index: u32,
    /// How many times it was sent (re-sends each deserve an answer).
    pub copies: u32,
}

/// A PUBLISH whose packet id is still in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// Same QoS, topic and payload: a re-sent PUBLISH.
    Resend,
    /// A different message under an id still in use.
    NewMessage { previous_index: u32 },
}

/// A SUBSCRIBE awaiting its SUBACK.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingSubscribe {
    /// Filters with the requested QoS, in order.
    pub filters: Vec<(Text, u8)>,
    /// Whether the SUBSCRIBE decoded without violations (and its id was not
    /// reused while pending, which would make the answer ambiguous).
    pub clean: bool,
    /// SUBSCRIBEs sent under this id and not yet answered.
    pub copies: u32,
}

/// An UNSUBSCRIBE awaiting its UNSUBACK.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingUnsubscribe {
    pub filters: Vec<Text>,
    /// UNSUBSCRIBEs sent under this id and not yet answered.
    pub copies: u32,
}

/// Per-direction counters and timing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Traffic {
    pub packets: u32,
    pub last_at: Option<Duration>,
}

/// State of one connection.
#[derive(Debug, Clone)]
pub struct Session {
    pub version: Version,
    pub phase: Phase,
    pub connect: Option<Connect>,
    /// CONNACK code and Session Present, once seen.
    pub connack: Option<(u8, bool)>,
    /// Server Keep Alive from a 5.0 CONNACK.
    pub server_keep_alive: Option<u16>,
    /// Packets seen on the connection (both directions).
    pub packets: u32,
    pub opened_at: Option<Duration>,
    /// Client → server traffic.
    pub from_client: Traffic,
    /// Server → client traffic.
    pub from_server: Traffic,
    /// QoS 1/2 PUBLISHes sent by the client, by packet id.
    pub client_inflight: IdMap<InFlight>,
    /// QoS 1/2 PUBLISHes sent by the server, by packet id.
    pub server_inflight: IdMap<InFlight>,
    /// SUBSCRIBEs awaiting SUBACK, by packet id.
    pub pending_subscribes: IdMap<PendingSubscribe>,
    /// UNSUBSCRIBEs awaiting UNSUBACK, by packet id.
    pub pending_unsubscribes: IdMap<PendingUnsubscribe>,
    /// Granted subscriptions: filter bytes → granted QoS.
    pub subscriptions: BTreeMap<Bytes, u8>,
    /// Every filter the client asked for on this connection (kept after
    /// UNSUBSCRIBE: messages already queued may still arrive), with the
    /// highest QoS granted for it on this connection (None until granted).
    pub ever_subscribed: BTreeMap<Bytes, Option<u8>>,
    /// Whether the client sent CONNECT again after its first one.
    pub connect_repeated: bool,
    /// Packet index of the client's DISCONNECT.
    pub client_disconnect: Option<u32>,
    /// Whether the server sent a packet after the client's DISCONNECT.
    pub server_sent_after_disconnect: bool,
    /// Bytes were lost or could not be framed: sequence-based judgments are unsafe.
    pub lossy: bool,
    /// The client sent a packet with wire-level violations.
    pub client_malformed: bool,
    /// PUBRELs sent by the client and not yet answered by PUBCOMP: id → count.
    pub client_pubrels: IdMap<u32>,
    /// PUBRELs sent by the server and not yet answered by PUBCOMP: id → count.
    pub server_pubrels: IdMap<u32>,
    /// PUBACKs still due for re-sent QoS 1 PUBLISHes already acknowledged once,
    /// per acknowledging direction (to server, to client): id → count.
    spare_pubacks: [IdMap<u32>; 2],
    pub closed_by: Option<ClosedBy>,
    pub closed_at: Option<Duration>,
    /// Topic aliases (5.0) per direction: to server, to client.
    aliases: [BTreeMap<u16, Text>; 2],
}

impl Session {
    /// A fresh session assuming `version` until CONNECT says otherwise.
    pub fn new(version: Version) -> Session {
        Session {
            version,
            phase: Phase::AwaitConnect,
            connect: None,
            connack: None,
            server_keep_alive: None,
            packets: 0,
            opened_at: None,
            from_client: Traffic::default(),
            from_server: Traffic::default(),
            client_inflight: IdMap::new(),
            server_inflight: IdMap::new(),
            pending_subscribes: IdMap::new(),
            pending_unsubscribes: IdMap::new(),
            subscriptions: BTreeMap::new(),
            ever_subscribed: BTreeMap::new(),
            connect_repeated: false,
            client_disconnect: None,
            server_sent_after_disconnect: false,
            lossy: false,
            client_malformed: false,
            client_pubrels: Default::default(),
            server_pubrels: Default::default(),
            spare_pubacks: Default::default(),
            closed_by: None,
            closed_at: None,
            aliases: [BTreeMap::new(), BTreeMap::new()],
        }
    }

    /// Whether the session started clean (CleanSession / Clean Start = 1), so
    /// that no state from an earlier connection can explain what is seen.
    pub fn clean(&self) -> bool {
        self.connect.as_ref().is_some_and(|c| c.clean_session)
    }

    /// Traffic sent in `dir`.
    pub fn traffic(&self, dir: Direction) -> &Traffic {
        match dir {
            Direction::ToServer => &self.from_client,
            Direction::ToClient => &self.from_server,
        }
    }

    /// In-flight PUBLISHes of the sender in `dir`.
    pub fn inflight(&self, dir: Direction) -> &IdMap<InFlight> {
        match dir {
            Direction::ToServer => &self.client_inflight,
            Direction::ToClient => &self.server_inflight,
        }
    }

    /// Spare PUBACKs the side sending in `dir` may still send (see `spare_pubacks`).
    pub fn spare_pubacks(&self, dir: Direction) -> &IdMap<u32> {
        &self.spare_pubacks[dir_slot(dir)]
    }

    /// The highest QoS the server may use delivering through `filter`, whose
    /// highest QoS granted on this connection is `granted` (its
    /// `ever_subscribed` entry): that, raised to the requested QoS while a
    /// SUBSCRIBE for it awaits its SUBACK. None when it was never granted and
    /// is not pending.
    #[inline]
    pub fn delivery_bound(&self, filter: &[u8], granted: Option<u8>) -> Option<u8> {
        // Inline for the usual case, asked per PUBLISH and matching filter.
        if self.pending_subscribes.is_empty() {
            return granted;
        }
        self.delivery_bound_pending(filter, granted)
    }

    fn delivery_bound_pending(&self, filter: &[u8], granted: Option<u8>) -> Option<u8> {
        let pending = self
            .pending_subscribes
            .values()
            .flat_map(|p| &p.filters)
            .filter(|(f, _)| f.as_bytes() == filter)
            .map(|(_, q)| (*q).min(2))
            .max();
        match (granted, pending) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0).max(b.unwrap_or(0))),
        }
    }

    /// The effective keep alive in seconds (5.0 Server Keep Alive wins).
    pub fn keep_alive(&self) -> Option<u16> {
        self.server_keep_alive
            .or_else(|| self.connect.as_ref().map(|c| c.keep_alive))
    }

    /// The topic a PUBLISH sent in `dir` stands for, resolving 5.0 topic
    /// aliases; None when an alias is unknown.
    pub fn publish_topic<'a>(&'a self, dir: Direction, p: &'a Publish) -> Option<&'a Text> {
        if !p.topic.is_empty() {
            return Some(&p.topic);
        }
        match p.properties.get(prop::TOPIC_ALIAS) {
            Some(Value::U16(a)) => self.aliases[dir_slot(dir)].get(a),
            _ => Some(&p.topic),
        }
    }

    /// Whether sequence-based judgments of the server are unsafe: bytes were
    /// lost, or the client sent malformed packets (which the server may
    /// answer in any way that ends the connection).
    pub fn unreliable(&self) -> bool {
        self.lossy || self.client_malformed
    }

    /// How a QoS>0 PUBLISH sent in `dir` relates to the sender's in-flight
    /// messages: None when its packet id is free.
    pub fn reuse_of(&self, dir: Direction, p: &Publish) -> Option<Reuse> {
        let id = p.packet_id?;
        if !matches!(p.qos, 1 | 2) {
            return None;
        }
        let f = self.inflight(dir).get(&id)?;
        let topic = self.publish_topic(dir, p).unwrap_or(&p.topic);
        if f.qos == p.qos && f.content == content_hash(topic.as_bytes(), &p.payload) {
            Some(Reuse::Resend)
        } else {
            Some(Reuse::NewMessage {
                previous_index: f.index,
            })
        }
    }

    /// Apply an event (after the rules have observed it).
    pub fn apply(&mut self, event: &Event) {
        match &event.kind {
            EventKind::Opened => self.opened_at = Some(event.at),
            EventKind::Packet { dir, index, packet } => {
                self.packets += 1;
                let t = match dir {
                    Direction::ToServer => &mut self.from_client,
                    Direction::ToClient => &mut self.from_server,
                };
                t.packets += 1;
                t.last_at = Some(event.at);
                if *dir == Direction::ToClient && self.client_disconnect.is_some() {
                    self.server_sent_after_disconnect = true;
                }
                let clean = packet.is_clean();
                if !clean && *dir == Direction::ToServer {
                    self.client_malformed = true;
                }
                self.apply_packet(*dir, *index, &packet.packet, clean);
            }
            EventKind::Malformed { .. } | EventKind::Gap { .. } => self.lossy = true,
            // The WebSocket layer's subprotocols: nothing of the MQTT session.
            EventKind::Upgrade { .. } => {}
            EventKind::Closed { by } => {
                self.phase = Phase::Closed;
                self.closed_by = Some(*by);
                self.closed_at = Some(event.at);
            }
        }
    }

    fn apply_packet(&mut self, dir: Direction, index: u32, packet: &Packet, clean: bool) {
        use Direction::{ToClient, ToServer};
        match (dir, packet) {
            (ToServer, Packet::Connect(c)) if self.connect.is_none() => {
                if let Some(v) = Version::from_level(c.protocol_level) {
                    self.version = v;
                }
                self.connect = Some(c.detached());
                if self.phase == Phase::AwaitConnect {
                    self.phase = Phase::AwaitConnack;
                }
            }
            (ToServer, Packet::Connect(_)) => self.connect_repeated = true,
            (ToClient, Packet::Connack(c)) if self.connack.is_none() => {
                self.connack = Some((c.code, c.session_present()));
                if let Some(Value::U16(k)) = c.properties.get(prop::SERVER_KEEP_ALIVE) {
                    self.server_keep_alive = Some(*k);
                }
                if matches!(self.phase, Phase::AwaitConnect | Phase::AwaitConnack) {
                    self.phase = if c.code == 0 {
                        Phase::Connected
                    } else {
                        Phase::Refused
                    };
                }
            }
            (_, Packet::Publish(p)) => self.apply_publish(dir, index, p),
            (_, Packet::Puback(a)) => {
                let id = a.packet_id;
                let map = self.inflight_mut(other(dir));
                match map.get(&id) {
                    Some(f) if f.qos == 1 => {
                        let spare = f.copies.saturating_sub(1);
                        map.remove(&id);
                        if spare > 0 {
                            self.spare_pubacks[dir_slot(dir)].insert(id, spare);
                        }
                    }
                    Some(_) => {}
                    None => count_down(&mut self.spare_pubacks[dir_slot(dir)], id),
                }
            }
            (_, Packet::Pubrec(a)) => {
                let failed = a.reason_code.is_some_and(|c| c >= 0x80);
                let map = self.inflight_mut(other(dir));
                if let Some(f) = map.get_mut(&a.packet_id) {
                    if f.qos == 2 && f.stage == Stage::AwaitPubrec {
                        f.stage = Stage::AwaitPubrel;
                    }
                    if f.qos == 2 && failed {
                        map.remove(&a.packet_id);
                    }
                }
            }
            (_, Packet::Pubrel(a)) => {
                let pubrels = match dir {
                    ToServer => &mut self.client_pubrels,
                    ToClient => &mut self.server_pubrels,
                };
                *pubrels.get_or_insert_with(a.packet_id, || 0) += 1;
                if let Some(f) = self.inflight_mut(dir).get_mut(&a.packet_id) {
                    if f.qos == 2 {
                        f.stage = Stage::AwaitPubcomp;
                    }
                }
            }
            (_, Packet::Pubcomp(a)) => {
                match dir {
                    ToServer => count_down(&mut self.server_pubrels, a.packet_id),
                    ToClient => count_down(&mut self.client_pubrels, a.packet_id),
                }
                let map = self.inflight_mut(other(dir));
                // Not a message re-sent after its PUBREL, whose PUBREC is
                // still due (the PUBCOMP crossed it on the wire).
                if map
                    .get(&a.packet_id)
                    .is_some_and(|f| f.qos == 2 && f.stage != Stage::AwaitPubrec)
                {
                    map.remove(&a.packet_id);
                }
            }
            (ToServer, Packet::Subscribe(s)) => {
                let filters = s
                    .filters
                    .iter()
                    .map(|f| (f.filter.detached(), f.qos()))
                    .collect();
                let entry =
                    self.pending_subscribes
                        .get_or_insert_with(s.packet_id, || PendingSubscribe {
                            filters,
                            clean,
                            copies: 0,
                        });
                entry.copies += 1;
                if entry.copies > 1 {
                    entry.clean = false;
                }
                for f in &s.filters {
                    if !self.ever_subscribed.contains_key(f.filter.as_bytes()) {
                        self.ever_subscribed.insert(f.filter.detached().0, None);
                    }
                }
            }
            (ToClient, Packet::Suback(s)) => {
                if let Some(p) = self.pending_subscribes.get_mut(&s.packet_id) {
                    p.copies = p.copies.saturating_sub(1);
                    let p = if p.copies == 0 {
                        self.pending_subscribes.remove(&s.packet_id)
                    } else {
                        Some(p.clone())
                    };
                    let filters = p.map(|p| p.filters).unwrap_or_default();
                    for ((filter, _), code) in filters.iter().zip(&s.codes) {
                        if *code <= 2 {
                            self.subscriptions.insert(filter.0.clone(), *code);
                            let g = self.ever_subscribed.entry(filter.0.clone()).or_insert(None);
                            *g = Some(g.map_or(*code, |g| g.max(*code)));
                        }
                    }
                }
            }
            (ToServer, Packet::Unsubscribe(u)) => {
                self.pending_unsubscribes
                    .get_or_insert_with(u.packet_id, || PendingUnsubscribe {
                        filters: u.filters.iter().map(Text::detached).collect(),
                        copies: 0,
                    })
                    .copies += 1;
            }
            (ToClient, Packet::Unsuback(u)) => {
                if let Some(p) = self.pending_unsubscribes.get_mut(&u.packet_id) {
                    p.copies = p.copies.saturating_sub(1);
                    for f in &p.filters {
                        self.subscriptions.remove(&f.0);
                    }
                    if p.copies == 0 {
                        self.pending_unsubscribes.remove(&u.packet_id);
                    }
                }
            }
            (ToServer, Packet::Disconnect(_)) if self.client_disconnect.is_none() => {
                self.client_disconnect = Some(index);
                self.phase = Phase::Disconnected;
            }
            _ => {}
        }
    }

    fn apply_publish(&mut self, dir: Direction, index: u32, p: &Publish) {
        if let Some(Value::U16(a)) = p.properties.get(prop::TOPIC_ALIAS) {
            if !p.topic.is_empty() {
                self.aliases[dir_slot(dir)].insert(*a, p.topic.detached());
            }
        }
        let (Some(id), 1 | 2) = (p.packet_id, p.qos) else {
            return;
        };
        let stage = if p.qos == 1 {
            Stage::AwaitPuback
        } else {
            Stage::AwaitPubrec
        };
        let resend = self.reuse_of(dir, p) == Some(Reuse::Resend);
        let topic = self.publish_topic(dir, p).unwrap_or(&p.topic);
        let content = content_hash(topic.as_bytes(), &p.payload);
        // A new message under this id: earlier spare PUBACKs no longer apply.
        if !resend {
            self.spare_pubacks[dir_slot(other(dir))].remove(&id);
        }
        let map = self.inflight_mut(dir);
        // A re-sent PUBLISH keeps the flow's progress, except after its
        // PUBREL: the receiver then takes it for a new message (MQTT-4.3.3),
        // which awaits a PUBREC again.
        if resend {
            if let Some(f) = map.get_mut(&id) {
                f.copies += 1;
                if f.stage == Stage::AwaitPubcomp {
                    f.stage = Stage::AwaitPubrec;
                }
                return;
            }
        }
        map.insert(
            id,
            InFlight {
                qos: p.qos,
                stage,
                content,
                index,
                copies: 1,
            },
        );
    }

    fn inflight_mut(&mut self, dir: Direction) -> &mut IdMap<InFlight> {
        match dir {
            Direction::ToServer => &mut self.client_inflight,
            Direction::ToClient => &mut self.server_inflight,
        }
    }
}

fn count_down(map: &mut IdMap<u32>, id: u16) {
    if let Some(n) = map.get_mut(&id) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            map.remove(&id);
        }
    }
}

/// The opposite direction.
pub fn other(dir: Direction) -> Direction {
    match dir {
        Direction::ToServer => Direction::ToClient,
        Direction::ToClient => Direction::ToServer,
    }
}

fn dir_slot(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Connack, Suback, Subscribe, Subscription, Unsuback, Unsubscribe};
    use crate::rules::testkit::{ack, client, server, Script};

    fn session_after(script: &Script) -> Session {
        let mut s = Session::new(Version::V311);
        for e in &script.events() {
            s.apply(e);
        }
        s
    }

    #[test]
    fn connect_and_connack_set_phase_and_version() {
        let mut sc = Script::connected(Version::V5);
        assert_eq!(session_after(&sc).version, Version::V5);
        assert_eq!(session_after(&sc).phase, Phase::Connected);
        sc.close(ClosedBy::Client);
        assert_eq!(session_after(&sc).phase, Phase::Closed);
        let mut refused = Script::new();
        refused.push(client(Packet::Connect(Box::default())));
        refused.push(server(Packet::Connack(Connack {
            code: 5,
            ..Connack::default()
        })));
        let s = session_after(&refused);
        assert_eq!(s.phase, Phase::Refused);
        assert_eq!(s.connack, Some((5, false)));
    }

    #[test]
    fn qos2_flow_is_tracked_to_completion() {
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Script::publish("a", 2, Some(7))));
        assert_eq!(
            session_after(&sc).client_inflight[&7].stage,
            Stage::AwaitPubrec
        );
        sc.push(server(Packet::Pubrec(ack(7))));
        assert_eq!(
            session_after(&sc).client_inflight[&7].stage,
            Stage::AwaitPubrel
        );
        sc.push(client(Packet::Pubrel(ack(7))));
        assert_eq!(
            session_after(&sc).client_inflight[&7].stage,
            Stage::AwaitPubcomp
        );
        sc.push(server(Packet::Pubcomp(ack(7))));
        assert!(session_after(&sc).client_inflight.is_empty());
    }

    #[test]
    fn subscriptions_follow_suback_and_unsuback() {
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Packet::Subscribe(Subscribe {
            packet_id: 1,
            filters: vec![
                Subscription {
                    filter: "a/#".into(),
                    options: 2,
                },
                Subscription {
                    filter: "b".into(),
                    options: 1,
                },
            ],
            ..Subscribe::default()
        })));
        assert_eq!(session_after(&sc).pending_subscribes.len(), 1);
        sc.push(server(Packet::Suback(Suback {
            packet_id: 1,
            codes: vec![1, 0x80],
            ..Suback::default()
        })));
        let s = session_after(&sc);
        assert_eq!(s.subscriptions.get(&Bytes::from("a/#")), Some(&1));
        assert!(!s.subscriptions.contains_key(&Bytes::from("b")));
        sc.push(client(Packet::Unsubscribe(Unsubscribe {
            packet_id: 2,
            filters: vec!["a/#".into()],
            ..Unsubscribe::default()
        })));
        sc.push(server(Packet::Unsuback(Unsuback {
            packet_id: 2,
            ..Unsuback::default()
        })));
        let s = session_after(&sc);
        assert!(s.subscriptions.is_empty());
        assert!(s.ever_subscribed.contains_key(&Bytes::from("a/#")));
    }

    #[test]
    fn disconnect_and_later_server_packets_are_recorded() {
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Packet::Disconnect(Default::default())));
        sc.push(server(Packet::Pingresp));
        let s = session_after(&sc);
        assert_eq!(s.phase, Phase::Disconnected);
        assert_eq!(s.client_disconnect, Some(2));
        assert!(s.server_sent_after_disconnect);
        assert_eq!(s.from_client.packets, 2);
        assert_eq!(s.from_server.packets, 2);
    }
}
