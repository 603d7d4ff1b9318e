//! The broker of watch mode, without I/O: sessions, subscriptions, retained
//! messages, QoS 0/1/2 in both directions, persistent sessions, wills and
//! takeover. Each call takes what one connection sent and returns what to
//! send where ([`Out`]); the connection tasks do the writing.
//!
//! It aims to be a small, conformant MQTT 3.1 / 3.1.1 / 5.0 server, so that
//! what the rules find is the client's doing.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use crate::codec::{
    Ack, Connack, Connect, Packet, Publish, Suback, Subscribe, Unsuback, Unsubscribe, Version, Will,
};
use crate::event::ConnId;
use crate::topic;

/// Messages kept for an offline persistent session.
const QUEUE_LIMIT: usize = 1000;

/// What to do after a call.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    /// Send this packet on that connection.
    Send(ConnId, Box<Packet>),
    /// Close that connection (the broker's decision).
    Close(ConnId),
}

/// A QoS 1/2 message sent to a client and not yet acknowledged.
#[derive(Debug, Clone)]
enum Outbound {
    /// Waiting for PUBACK (QoS 1) or PUBREC (QoS 2).
    Publish(Publish),
    /// PUBREC received, PUBREL sent: waiting for PUBCOMP.
    Pubrel,
}

#[derive(Debug)]
struct SessionState {
    conn: Option<ConnId>,
    version: Version,
    clean: bool,
    /// Filter → granted QoS.
    subs: BTreeMap<Vec<u8>, u8>,
    next_id: u16,
    outbound: BTreeMap<u16, Outbound>,
    queued: VecDeque<Publish>,
    /// QoS 2 packet ids received and answered with PUBREC, until PUBREL.
    inbound_qos2: BTreeSet<u16>,
}

impl SessionState {
    fn new(conn: ConnId, version: Version, clean: bool) -> SessionState {
        SessionState {
            conn: Some(conn),
            version,
            clean,
            subs: BTreeMap::new(),
            next_id: 1,
            outbound: BTreeMap::new(),
            queued: VecDeque::new(),
            inbound_qos2: BTreeSet::new(),
        }
    }

    /// A packet id not in flight (wraps at 65535, skips 0).
    fn take_id(&mut self) -> Option<u16> {
        for _ in 0..u16::MAX {
            let id = self.next_id;
            self.next_id = if id == u16::MAX { 1 } else { id + 1 };
            if !self.outbound.contains_key(&id) {
                return Some(id);
            }
        }
        None
    }
}

/// A connected client.
#[derive(Debug)]
struct Online {
    client_id: Vec<u8>,
    will: Option<Will>,
}

/// The broker state shared by every connection of a watch.
#[derive(Debug, Default)]
pub struct Broker {
    sessions: HashMap<Vec<u8>, SessionState>,
    online: HashMap<ConnId, Online>,
    retained: BTreeMap<Vec<u8>, Publish>,
    generated: u64,
}

impl Broker {
    /// A broker with no sessions.
    pub fn new() -> Broker {
        Broker::default()
    }

    /// The client id of a connected client.
    pub fn client_id(&self, conn: ConnId) -> Option<&[u8]> {
        self.online.get(&conn).map(|o| o.client_id.as_slice())
    }

    /// A CONNECT on `conn` (the first packet of the connection).
    pub fn connect(&mut self, conn: ConnId, c: &Connect) -> Vec<Out> {
        let mut out = Vec::new();
        let Some(version) = Version::from_level(c.protocol_level) else {
            // 3.1.1 "unacceptable protocol version"; a 5.0 client reads 0x01 as refused too.
            out.push(Out::Send(conn, Box::new(connack(0, 0x01))));
            out.push(Out::Close(conn));
            return out;
        };
        let mut client_id = c.client_id.as_bytes().to_vec();
        if client_id.is_empty() {
            if !c.clean_session && !version.is_v5() {
                // MQTT-3.1.3-8: identifier rejected.
                out.push(Out::Send(conn, Box::new(connack(0, 0x02))));
                out.push(Out::Close(conn));
                return out;
            }
            self.generated += 1;
            client_id = format!("mqttspec-auto-{}", self.generated).into_bytes();
        }
        // Takeover: the older connection of the same client is closed.
        if let Some(old) = self.sessions.get(&client_id).and_then(|s| s.conn) {
            if old != conn {
                out.extend(self.closed(old, false));
                out.push(Out::Close(old));
            }
        }
        let present = match self.sessions.get_mut(&client_id) {
            Some(s) if !c.clean_session && !s.clean => {
                s.conn = Some(conn);
                s.version = version;
                true
            }
            _ => {
                self.sessions.insert(
                    client_id.clone(),
                    SessionState::new(conn, version, c.clean_session),
                );
                false
            }
        };
        self.online.insert(
            conn,
            Online {
                client_id: client_id.clone(),
                will: c.will.clone(),
            },
        );
        out.push(Out::Send(conn, Box::new(connack(u8::from(present), 0))));
        if let Some(s) = self.sessions.get_mut(&client_id) {
            // Unacknowledged messages are sent again (PUBLISH with DUP), then
            // what was queued while the client was away.
            for (id, o) in &s.outbound {
                let p = match o {
                    Outbound::Publish(p) => Packet::Publish(Publish {
                        dup: true,
                        ..p.clone()
                    }),
                    Outbound::Pubrel => Packet::Pubrel(Ack::new(*id)),
                };
                out.push(Out::Send(conn, Box::new(p)));
            }
            while let Some(p) = s.queued.pop_front() {
                if let Some(p) = deliver(s, p) {
                    out.push(Out::Send(conn, Box::new(p)));
                }
            }
        }
        out
    }

    /// A packet after CONNECT.
    pub fn packet(&mut self, conn: ConnId, p: &Packet) -> Vec<Out> {
        let Some(client_id) = self.online.get(&conn).map(|o| o.client_id.clone()) else {
            return vec![Out::Close(conn)];
        };
        let mut out = Vec::new();
        match p {
            Packet::Publish(p) => self.publish(conn, &client_id, p, &mut out),
            Packet::Puback(a) | Packet::Pubcomp(a) => {
                if let Some(s) = self.sessions.get_mut(&client_id) {
                    s.outbound.remove(&a.packet_id);
                }
            }
            Packet::Pubrec(a) => {
                let Some(s) = self.sessions.get_mut(&client_id) else {
                    return out;
                };
                match s.outbound.get(&a.packet_id) {
                    // A PUBREC for a QoS 1 message: a protocol violation.
                    Some(Outbound::Publish(p)) if p.qos != 2 => out.push(Out::Close(conn)),
                    Some(_) => {
                        s.outbound.insert(a.packet_id, Outbound::Pubrel);
                        out.push(Out::Send(
                            conn,
                            Box::new(Packet::Pubrel(Ack::new(a.packet_id))),
                        ));
                    }
                    // Nothing of ours to release under an unknown id.
                    None => {}
                }
            }
            Packet::Pubrel(a) => {
                if let Some(s) = self.sessions.get_mut(&client_id) {
                    s.inbound_qos2.remove(&a.packet_id);
                }
                out.push(Out::Send(
                    conn,
                    Box::new(Packet::Pubcomp(Ack::new(a.packet_id))),
                ));
            }
            Packet::Subscribe(s) => self.subscribe(conn, &client_id, s, &mut out),
            Packet::Unsubscribe(u) => self.unsubscribe(conn, &client_id, u, &mut out),
            Packet::Pingreq => out.push(Out::Send(conn, Box::new(Packet::Pingresp))),
            Packet::Disconnect(_) => {
                // A normal DISCONNECT discards the will (MQTT-3.14.4-3); the
                // client closes the connection (the I/O side closes it after
                // a grace period otherwise).
                if let Some(o) = self.online.get_mut(&conn) {
                    o.will = None;
                }
            }
            // A second CONNECT, or a packet only a server sends: a protocol
            // violation, the connection is closed (MQTT-3.1.0-2, 4.8.0-1).
            _ => out.push(Out::Close(conn)),
        }
        out
    }

    /// The connection ended; `graceful` after a DISCONNECT. Publishes the will otherwise.
    pub fn closed(&mut self, conn: ConnId, graceful: bool) -> Vec<Out> {
        let Some(online) = self.online.remove(&conn) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if let Some(s) = self.sessions.get_mut(&online.client_id) {
            if s.conn == Some(conn) {
                s.conn = None;
                if s.clean {
                    self.sessions.remove(&online.client_id);
                }
            }
        }
        if let (false, Some(w)) = (graceful, online.will) {
            let p = Publish {
                qos: w.qos.min(2),
                retain: w.retain,
                topic: w.topic,
                payload: w.payload,
                ..Publish::default()
            };
            self.route(&p, &mut out);
        }
        out
    }

    fn publish(&mut self, conn: ConnId, client_id: &[u8], p: &Publish, out: &mut Vec<Out>) {
        let id = p.packet_id.unwrap_or_default();
        let fresh = match p.qos {
            1 => {
                out.push(Out::Send(conn, Box::new(Packet::Puback(Ack::new(id)))));
                true
            }
            2 => {
                out.push(Out::Send(conn, Box::new(Packet::Pubrec(Ack::new(id)))));
                // A re-sent QoS 2 PUBLISH (same id, before PUBREL) is not delivered twice.
                self.sessions
                    .get_mut(client_id)
                    .is_some_and(|s| s.inbound_qos2.insert(id))
            }
            0 => true,
            _ => {
                out.push(Out::Close(conn));
                return;
            }
        };
        if !fresh {
            return;
        }
        if p.retain {
            let name = p.topic.as_bytes().to_vec();
            if p.payload.is_empty() {
                self.retained.remove(&name);
            } else {
                self.retained.insert(name, p.clone());
            }
        }
        self.route(p, out);
    }

    /// Deliver a message to every matching subscription (one copy per
    /// session, at the highest granted QoS that matches, capped by the
    /// message's QoS).
    fn route(&mut self, p: &Publish, out: &mut Vec<Out>) {
        let name = p.topic.as_bytes();
        for s in self.sessions.values_mut() {
            let Some(granted) = s
                .subs
                .iter()
                .filter(|(f, _)| topic::matches(f, name))
                .map(|(_, q)| *q)
                .max()
            else {
                continue;
            };
            let copy = Publish {
                dup: false,
                qos: p.qos.min(granted),
                retain: false,
                packet_id: None,
                properties: Default::default(),
                ..p.clone()
            };
            match s.conn {
                Some(conn) => {
                    if let Some(packet) = deliver(s, copy) {
                        out.push(Out::Send(conn, Box::new(packet)));
                    }
                }
                None if copy.qos > 0 && s.queued.len() < QUEUE_LIMIT => s.queued.push_back(copy),
                None => {}
            }
        }
    }

    fn subscribe(&mut self, conn: ConnId, client_id: &[u8], sub: &Subscribe, out: &mut Vec<Out>) {
        let Some(s) = self.sessions.get_mut(client_id) else {
            return;
        };
        let v5 = s.version.is_v5();
        let mut codes = Vec::new();
        let mut new_filters = Vec::new();
        for f in &sub.filters {
            let filter = f.filter.as_bytes();
            let qos = f.qos();
            if topic::check_filter(filter).is_some() || qos > 2 {
                codes.push(if v5 { 0x8f } else { 0x80 });
                continue;
            }
            s.subs.insert(filter.to_vec(), qos);
            new_filters.push((filter.to_vec(), qos));
            codes.push(qos);
        }
        out.push(Out::Send(
            conn,
            Box::new(Packet::Suback(Suback {
                packet_id: sub.packet_id,
                codes,
                ..Suback::default()
            })),
        ));
        // Retained messages matching a new subscription are sent with RETAIN = 1.
        for (filter, granted) in new_filters {
            for r in self.retained.values() {
                if !topic::matches(&filter, r.topic.as_bytes()) {
                    continue;
                }
                let copy = Publish {
                    dup: false,
                    qos: r.qos.min(granted),
                    retain: true,
                    packet_id: None,
                    ..r.clone()
                };
                if let Some(packet) = deliver(s, copy) {
                    out.push(Out::Send(conn, Box::new(packet)));
                }
            }
        }
    }

    fn unsubscribe(&mut self, conn: ConnId, client_id: &[u8], u: &Unsubscribe, out: &mut Vec<Out>) {
        let Some(s) = self.sessions.get_mut(client_id) else {
            return;
        };
        let codes = u
            .filters
            .iter()
            .map(|f| match s.subs.remove(f.as_bytes()) {
                Some(_) => 0x00,
                None => 0x11, // 5.0 "no subscription existed"
            })
            .collect();
        out.push(Out::Send(
            conn,
            Box::new(Packet::Unsuback(Unsuback {
                packet_id: u.packet_id,
                // 3.x UNSUBACK has no payload; the encoder writes codes for 5.0 only.
                codes: if s.version.is_v5() { codes } else { Vec::new() },
                ..Unsuback::default()
            })),
        ));
    }
}

/// Give a message to an online session: QoS > 0 gets a packet id and is
/// kept until acknowledged. None if every packet id is in flight.
fn deliver(s: &mut SessionState, mut p: Publish) -> Option<Packet> {
    if p.qos > 0 {
        let id = s.take_id()?;
        p.packet_id = Some(id);
        s.outbound.insert(id, Outbound::Publish(p.clone()));
    }
    Some(Packet::Publish(p))
}

fn connack(flags: u8, code: u8) -> Packet {
    Packet::Connack(Connack {
        flags,
        code,
        ..Connack::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Text;
    use bytes::Bytes;

    fn message(topic: &str, payload: &'static [u8], qos: u8, retain: bool) -> Publish {
        Publish {
            qos,
            retain,
            topic: Text::from(topic),
            packet_id: (qos > 0).then_some(1),
            payload: Bytes::from_static(payload),
            ..Publish::default()
        }
    }

    fn connect(id: &str, clean: bool) -> Connect {
        Connect {
            client_id: Text::from(id),
            clean_session: clean,
            ..Connect::default()
        }
    }

    fn subscribe(filter: &str, qos: u8) -> Packet {
        Packet::Subscribe(Subscribe::new(1, &[(filter, qos)]))
    }

    fn sent(out: &[Out], conn: ConnId) -> Vec<&Packet> {
        out.iter()
            .filter_map(|o| match o {
                Out::Send(c, p) if *c == conn => Some(p.as_ref()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn pubrec_is_released_only_for_a_qos2_message() {
        let mut b = Broker::new();
        b.connect(1, &connect("sub", true));
        b.connect(2, &connect("pub", true));
        b.packet(1, &subscribe("a", 2));
        let out = b.packet(2, &Packet::Publish(message("a", b"x", 2, false)));
        let id = sent(&out, 1)[0].packet_id().unwrap();
        let rec = |id| Packet::Pubrec(Ack::new(id));
        assert!(
            matches!(sent(&b.packet(1, &rec(id)), 1)[..], [Packet::Pubrel(a)] if a.packet_id == id)
        );
        // An unknown id gets no PUBREL; a PUBREC for a QoS 1 message closes.
        assert!(b.packet(1, &rec(999)).is_empty());
        let out = b.packet(2, &Packet::Publish(message("a", b"y", 1, false)));
        let id = sent(&out, 1)[0].packet_id().unwrap();
        assert_eq!(b.packet(1, &rec(id)), vec![Out::Close(1)]);
    }

    #[test]
    fn routes_at_the_lower_qos_and_acks_the_sender() {
        let mut b = Broker::new();
        b.connect(1, &connect("sub", true));
        b.connect(2, &connect("pub", true));
        let out = b.packet(1, &subscribe("a/+", 1));
        assert!(matches!(sent(&out, 1)[..], [Packet::Suback(s)] if s.codes == [1]));
        let out = b.packet(2, &Packet::Publish(message("a/b", b"x", 2, false)));
        assert!(matches!(sent(&out, 2)[..], [Packet::Pubrec(a)] if a.packet_id == 1));
        match sent(&out, 1)[..] {
            [Packet::Publish(p)] => assert_eq!((p.qos, p.packet_id, p.retain), (1, Some(1), false)),
            ref other => panic!("{other:?}"),
        }
        // The same QoS 2 message again before PUBREL is not delivered twice.
        let out = b.packet(2, &Packet::Publish(message("a/b", b"x", 2, false)));
        assert!(sent(&out, 1).is_empty());
        let out = b.packet(2, &Packet::Pubrel(Ack::new(1)));
        assert!(matches!(sent(&out, 2)[..], [Packet::Pubcomp(_)]));
    }

    #[test]
    fn dollar_topics_are_not_matched_by_wildcards() {
        let mut b = Broker::new();
        b.connect(1, &connect("sub", true));
        b.packet(1, &subscribe("#", 0));
        let out = b.packet(1, &Packet::Publish(message("$SYS/x", b"x", 0, false)));
        assert!(sent(&out, 1).is_empty());
    }

    #[test]
    fn retained_messages_go_to_new_subscribers_with_retain_set() {
        let mut b = Broker::new();
        b.connect(1, &connect("pub", true));
        b.packet(1, &Packet::Publish(message("r/1", b"kept", 1, true)));
        b.connect(2, &connect("sub", true));
        let out = b.packet(2, &subscribe("r/#", 0));
        match sent(&out, 2)[..] {
            [Packet::Suback(_), Packet::Publish(p)] => assert!(p.retain && p.qos == 0),
            ref other => panic!("{other:?}"),
        }
        // An empty retained message clears it.
        b.packet(1, &Packet::Publish(message("r/1", b"", 0, true)));
        let out = b.packet(2, &subscribe("r/#", 0));
        assert_eq!(sent(&out, 2).len(), 1);
    }

    #[test]
    fn persistent_sessions_keep_subscriptions_and_queue_messages() {
        let mut b = Broker::new();
        b.connect(1, &connect("p", false));
        b.packet(1, &subscribe("q", 1));
        b.closed(1, true);
        b.connect(2, &connect("other", true));
        b.packet(2, &Packet::Publish(message("q", b"while away", 1, false)));
        let out = b.connect(3, &connect("p", false));
        match sent(&out, 3)[..] {
            [Packet::Connack(c), Packet::Publish(p)] => {
                assert!(c.session_present());
                assert_eq!(p.payload.as_ref(), b"while away");
            }
            ref other => panic!("{other:?}"),
        }
        // Unacknowledged, it is sent again with DUP after a reconnect.
        b.closed(3, false);
        let out = b.connect(4, &connect("p", false));
        assert!(matches!(sent(&out, 4)[..], [Packet::Connack(_), Packet::Publish(p)] if p.dup));
        // A clean session starts empty.
        b.closed(4, true);
        let out = b.connect(5, &connect("p", true));
        assert!(matches!(sent(&out, 5)[..], [Packet::Connack(c)] if !c.session_present()));
    }

    #[test]
    fn will_is_published_on_abnormal_close_only() {
        let mut b = Broker::new();
        b.connect(1, &connect("watcher", true));
        b.packet(1, &subscribe("will/#", 0));
        let with_will = Connect {
            will: Some(Will {
                topic: Text::from("will/x"),
                payload: Bytes::from_static(b"gone"),
                ..Will::default()
            }),
            ..connect("w", true)
        };
        b.connect(2, &with_will);
        assert_eq!(sent(&b.closed(2, false), 1).len(), 1);
        b.connect(3, &with_will);
        b.packet(3, &Packet::Disconnect(Default::default()));
        assert!(sent(&b.closed(3, true), 1).is_empty());
    }

    #[test]
    fn takeover_closes_the_older_connection() {
        let mut b = Broker::new();
        b.connect(1, &connect("same", true));
        let out = b.connect(2, &connect("same", true));
        assert!(out.contains(&Out::Close(1)));
        assert_eq!(b.client_id(2), Some(&b"same"[..]));
    }

    #[test]
    fn refuses_empty_id_without_clean_session_and_unknown_levels() {
        let mut b = Broker::new();
        let out = b.connect(1, &connect("", false));
        assert!(matches!(sent(&out, 1)[..], [Packet::Connack(c)] if c.code == 0x02));
        let out = b.connect(
            2,
            &Connect {
                protocol_level: 9,
                ..connect("x", true)
            },
        );
        assert!(matches!(sent(&out, 2)[..], [Packet::Connack(c)] if c.code == 0x01));
        assert!(out.contains(&Out::Close(2)));
    }
}
