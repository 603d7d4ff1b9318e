//! One client connection of the test broker: framing, keep alive, and the
//! handling of each received packet (with the checks a server must make).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use mqttspec::codec::{
    decode, encode, Connack, Connect, Decoded, Framed, Framer, Packet, PacketType, Publish,
    Version, ViolationKind,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};
use tokio::time::Instant;

use super::faults::Faults;
use super::session::{ack_bytes, Inflight, Message, Out, State};
use super::topics;

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    /// Network close, keep-alive expiry or protocol violation: will applies.
    Abnormal,
    /// DISCONNECT received.
    Disconnect,
    /// Closed because a newer connection took the client id.
    TakenOver,
}

pub(super) type Handled = Result<Vec<Vec<u8>>, (Vec<Vec<u8>>, End)>;

pub(super) fn close() -> Handled {
    Err((Vec::new(), End::Abnormal))
}

/// Serve one accepted connection until it ends.
pub async fn serve(stream: TcpStream, state: Arc<Mutex<State>>) {
    let (tx, mut rx) = unbounded_channel();
    let (faults, no) = {
        let mut st = lock(&state);
        st.next_conn += 1;
        (st.faults, st.next_conn)
    };
    let mut c = Conn {
        state,
        faults,
        no,
        tx,
        client_id: None,
        keep_alive: 0,
        will: None,
    };
    let (mut rd, mut wr) = stream.into_split();
    let mut framer = Framer::default();
    let mut buf = vec![0u8; 16 * 1024];
    let mut last = Instant::now();
    let end = 'conn: loop {
        let limit = c.keep_alive_limit().map(|d| last + d);
        let expiry = async move {
            match limit {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = rd.read(&mut buf) => {
                let n = match r {
                    Ok(0) | Err(_) => break 'conn End::Abnormal,
                    Ok(n) => n,
                };
                last = Instant::now();
                framer.push(&buf[..n]);
                while let Some(frame) = framer.next_frame() {
                    let Framed::Packet { bytes, .. } = frame else {
                        break 'conn End::Abnormal;
                    };
                    let (outs, stop) = match c.handle(decode(bytes, Version::V311)) {
                        Ok(outs) => (outs, None),
                        Err((outs, end)) => (outs, Some(end)),
                    };
                    for o in outs {
                        if wr.write_all(&o).await.is_err() {
                            break 'conn End::Abnormal;
                        }
                    }
                    if let Some(end) = stop {
                        break 'conn end;
                    }
                }
            }
            o = rx.recv() => match o {
                Some(Out::Bytes(b)) => {
                    if wr.write_all(&b).await.is_err() {
                        break 'conn End::Abnormal;
                    }
                }
                Some(Out::Close) | None => break 'conn End::TakenOver,
            },
            _ = expiry => break 'conn End::Abnormal,
        }
    };
    let _ = wr.shutdown().await;
    c.finish(end);
}

pub(super) fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

pub(super) struct Conn {
    pub(super) state: Arc<Mutex<State>>,
    pub(super) faults: Faults,
    pub(super) no: u64,
    pub(super) tx: UnboundedSender<Out>,
    pub(super) client_id: Option<String>,
    pub(super) keep_alive: u16,
    pub(super) will: Option<Message>,
}

fn connack(session_present: bool, code: u8) -> Vec<u8> {
    let p = Connack {
        flags: u8::from(session_present),
        code,
        ..Connack::default()
    };
    encode(&Packet::Connack(p), Version::V311)
}

pub(super) fn bump(id: u16, wrong: bool) -> u16 {
    if wrong {
        id.wrapping_add(1).max(1)
    } else {
        id
    }
}

pub(super) fn text_ok(t: &mqttspec::codec::Text, f: &Faults) -> bool {
    (t.as_str().is_some() || f.accept_invalid_utf8) && (!t.0.contains(&0) || f.accept_null_char)
}

impl Conn {
    fn keep_alive_limit(&self) -> Option<Duration> {
        (self.client_id.is_some() && self.keep_alive > 0 && !self.faults.ignore_keep_alive)
            .then(|| Duration::from_millis(u64::from(self.keep_alive) * 1500))
    }

    /// Whether the decoder's violations are all tolerated by the faults.
    fn tolerated(&self, d: &Decoded) -> bool {
        let f = &self.faults;
        let t = d.packet.packet_type();
        let flags_ok = match t {
            PacketType::Subscribe => f.accept_bad_subscribe_flags,
            PacketType::Unsubscribe => f.accept_bad_unsubscribe_flags,
            PacketType::Pubrel => f.accept_bad_pubrel_flags,
            _ => false,
        };
        if t.required_flags().is_some_and(|r| r != d.flags()) && !flags_ok {
            return false;
        }
        d.violations.iter().all(|v| match &v.kind {
            ViolationKind::ReservedFlags { .. } => flags_ok,
            ViolationKind::Qos3 => f.accept_qos3_publish,
            ViolationKind::InvalidUtf8 { .. } => f.accept_invalid_utf8,
            ViolationKind::NullCharacter { .. } => f.accept_null_char,
            ViolationKind::ZeroPacketId => f.accept_packet_id_zero,
            ViolationKind::UnknownProtocolName => f.accept_wrong_protocol_name,
            ViolationKind::ConnectReservedFlag => f.accept_reserved_connect_flag,
            ViolationKind::NoTopicFilter if t == PacketType::Subscribe => f.accept_empty_subscribe,
            ViolationKind::NoTopicFilter => f.accept_empty_unsubscribe,
            ViolationKind::InvalidSubscriptionOptions { .. } => f.accept_subscribe_qos3,
            _ => false,
        })
    }

    fn handle(&mut self, d: Decoded) -> Handled {
        let f = self.faults;
        if !self.tolerated(&d) {
            return close();
        }
        if self.client_id.is_none() {
            return match d.packet {
                Packet::Connect(c) => self.connect(*c),
                _ if f.accept_non_connect_first => Ok(Vec::new()),
                _ => close(),
            };
        }
        let mut st = lock(&self.state);
        let Some(sess) = self
            .client_id
            .as_ref()
            .and_then(|id| st.sessions.get_mut(id))
        else {
            return close();
        };
        match d.packet {
            Packet::Connect(_) if f.accept_second_connect => Ok(vec![connack(false, 0)]),
            Packet::Publish(p) => {
                drop(st);
                self.publish(p)
            }
            Packet::Puback(a) | Packet::Pubcomp(a) => {
                sess.inflight.remove(&a.packet_id);
                Ok(Vec::new())
            }
            Packet::Pubrec(a) => {
                sess.inflight.insert(a.packet_id, Inflight::Pubrel);
                if f.no_pubrel {
                    return Ok(Vec::new());
                }
                Ok(vec![ack_bytes(Packet::Pubrel, a.packet_id)])
            }
            Packet::Pubrel(a) => {
                sess.inbound.retain(|i| *i != a.packet_id);
                Ok(vec![ack_bytes(Packet::Pubcomp, a.packet_id)])
            }
            Packet::Subscribe(s) => {
                drop(st);
                self.subscribe(s)
            }
            Packet::Unsubscribe(u) => {
                drop(st);
                self.unsubscribe(u)
            }
            Packet::Pingreq if f.no_pingresp => Ok(Vec::new()),
            Packet::Pingreq => Ok(vec![encode(&Packet::Pingresp, Version::V311)]),
            Packet::Disconnect(_) => Err((Vec::new(), End::Disconnect)),
            _ => close(),
        }
    }

    fn connect(&mut self, c: Connect) -> Handled {
        let f = self.faults;
        if c.protocol_name.as_bytes() != b"MQTT" && !f.accept_wrong_protocol_name {
            return close();
        }
        if c.flags & 1 == 1 && !f.accept_reserved_connect_flag {
            return close();
        }
        if c.protocol_level != 4 && !f.accept_bad_protocol_level {
            return Err((vec![connack(false, 0x01)], End::Abnormal));
        }
        if !text_ok(&c.client_id, &f) {
            return close();
        }
        let mut id = c.client_id.lossy().into_owned();
        if id.is_empty() {
            if !c.clean_session && !f.accept_empty_id_persistent {
                return Err((vec![connack(false, 0x02)], End::Abnormal));
            }
            id = format!("auto-{}", self.no);
        }
        if id.len() > 22 && f.reject_23_byte_client_id {
            return Err((vec![connack(false, 0x02)], End::Abnormal));
        }
        let mut st = lock(&self.state);
        if let Some(old) = st.sessions.get_mut(&id).and_then(|s| s.online.take()) {
            if !f.no_takeover {
                let _ = old.1.send(Out::Close);
            }
        }
        // A clean session is never reused (MQTT-3.1.2-6), even when its
        // connection is taken over before its end was handled.
        let was_clean = st.sessions.get(&id).is_some_and(|s| s.clean);
        if c.clean_session && !f.keep_session_on_clean || was_clean {
            st.sessions.remove(&id);
        }
        let existed = st.sessions.contains_key(&id);
        let present = if c.clean_session {
            f.session_present_on_clean
        } else {
            existed && !f.session_present_always_0
        };
        let sess = st.sessions.entry(id.clone()).or_default();
        sess.clean = c.clean_session && !f.keep_session_on_clean;
        sess.online = Some((self.no, self.tx.clone()));
        sess.resume(&f);
        drop(st);
        self.client_id = Some(id);
        self.keep_alive = c.keep_alive;
        self.will = c.will.map(|w| Message {
            topic: w.topic.lossy().into_owned(),
            payload: w.payload,
            qos: w.qos.min(2),
            retain: w.retain && !f.will_not_retained,
            dup: false,
        });
        Ok(vec![connack(present, 0)])
    }

    fn publish(&mut self, p: Publish) -> Handled {
        let f = self.faults;
        if !text_ok(&p.topic, &f) {
            return close();
        }
        let topic = p.topic.lossy().into_owned();
        let wildcard_ok = f.accept_wildcard_publish && !topic.is_empty();
        if !topics::valid_topic(&topic) && !wildcard_ok {
            return close();
        }
        if p.qos == 3 && !f.accept_qos3_publish {
            return close();
        }
        let qos = p.qos.min(2);
        let id = p.packet_id.unwrap_or(0);
        if qos > 0 && id == 0 && !f.accept_packet_id_zero {
            return close();
        }
        let m = Message {
            topic,
            payload: p.payload,
            qos,
            retain: p.retain,
            dup: p.dup,
        };
        let mut st = lock(&self.state);
        match qos {
            0 => {
                st.publish(m);
                Ok(Vec::new())
            }
            1 => {
                st.publish(m);
                let id = bump(id, f.puback_wrong_id);
                Ok(vec![ack_bytes(Packet::Puback, id)])
            }
            _ => {
                let fresh = self
                    .client_id
                    .as_ref()
                    .and_then(|c| st.sessions.get_mut(c))
                    .is_some_and(|s| {
                        let fresh = !s.inbound.contains(&id);
                        if fresh {
                            s.inbound.push(id);
                        }
                        fresh || f.qos2_deliver_duplicates
                    });
                if fresh {
                    st.publish(m);
                }
                if f.qos2_puback_instead_of_pubrec {
                    return Ok(vec![ack_bytes(Packet::Puback, id)]);
                }
                Ok(vec![ack_bytes(Packet::Pubrec, id)])
            }
        }
    }

    /// Publish the will if due, and release or drop the session.
    fn finish(&mut self, end: End) {
        let Some(id) = self.client_id.take() else {
            return;
        };
        let f = self.faults;
        let mut st = lock(&self.state);
        let will_due = match end {
            End::Abnormal => true,
            End::Disconnect => f.will_after_disconnect,
            End::TakenOver => false,
        };
        if let Some(w) = self.will.take().filter(|_| will_due && !f.no_will) {
            st.publish(w);
        }
        let owns = st
            .sessions
            .get(&id)
            .and_then(|s| s.online.as_ref())
            .is_some_and(|(n, _)| *n == self.no);
        if owns {
            let clean = st.sessions.get(&id).is_some_and(|s| s.clean);
            if clean {
                st.sessions.remove(&id);
            } else if let Some(s) = st.sessions.get_mut(&id) {
                s.online = None;
            }
        }
    }
}
