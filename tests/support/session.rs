//! Broker-wide state shared by all connections: sessions (subscriptions,
//! in-flight and queued messages), retained messages, and routing of
//! published messages to subscribers.

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;
use mqttspec::codec::{encode, Ack, Packet, Publish, Text, Version};
use tokio::sync::mpsc::UnboundedSender;

use super::faults::Faults;
use super::topics;

/// What a connection task is told to do by others.
#[derive(Debug)]
pub enum Out {
    /// Write these bytes.
    Bytes(Vec<u8>),
    /// Close the connection (taken over by a newer one).
    Close,
}

/// A message as stored or routed.
#[derive(Debug, Clone)]
pub struct Message {
    pub topic: String,
    pub payload: Bytes,
    pub qos: u8,
    pub retain: bool,
    pub dup: bool,
}

/// An outgoing QoS 1/2 message not yet acknowledged.
#[derive(Debug, Clone)]
pub enum Inflight {
    /// Sent PUBLISH, waiting for PUBACK or PUBREC.
    Publish(Message),
    /// Sent PUBREL, waiting for PUBCOMP.
    Pubrel,
}

/// The state of one client id.
#[derive(Debug, Default)]
pub struct Session {
    /// Filter and granted QoS, in subscription order.
    pub subs: Vec<(String, u8)>,
    /// The connection holding this session: its number and outbox.
    pub online: Option<(u64, UnboundedSender<Out>)>,
    pub clean: bool,
    next_id: u16,
    pub inflight: BTreeMap<u16, Inflight>,
    pub queue: VecDeque<Message>,
    /// QoS 2 ids received and answered with PUBREC, waiting for PUBREL.
    pub inbound: Vec<u16>,
}

/// The whole broker state.
#[derive(Debug, Default)]
pub struct State {
    pub faults: Faults,
    pub sessions: BTreeMap<String, Session>,
    pub retained: BTreeMap<String, Message>,
    pub next_conn: u64,
}

/// A PUBLISH packet's bytes for a message (packet id for QoS > 0).
pub fn publish_bytes(m: &Message, id: Option<u16>) -> Vec<u8> {
    let p = Publish {
        dup: m.dup,
        qos: m.qos,
        retain: m.retain,
        topic: Text::from(m.topic.as_str()),
        packet_id: id,
        payload: m.payload.clone(),
        ..Publish::default()
    };
    encode(&Packet::Publish(p), Version::V311)
}

/// An acknowledgement packet's bytes.
pub fn ack_bytes(make: fn(Ack) -> Packet, id: u16) -> Vec<u8> {
    encode(
        &make(Ack {
            packet_id: id,
            ..Ack::default()
        }),
        Version::V311,
    )
}

impl Session {
    fn alloc_id(&mut self) -> u16 {
        loop {
            self.next_id = self.next_id.wrapping_add(1);
            if self.next_id != 0 && !self.inflight.contains_key(&self.next_id) {
                return self.next_id;
            }
        }
    }

    /// Send a message now (assigning an id for QoS > 0) or queue it offline.
    pub fn deliver(&mut self, m: Message, faults: &Faults) {
        match self.online.clone() {
            Some((_, tx)) => {
                let id = (m.qos > 0).then(|| self.alloc_id());
                let bytes = publish_bytes(&m, id);
                if let Some(id) = id {
                    self.inflight.insert(id, Inflight::Publish(m));
                }
                let _ = tx.send(Out::Bytes(bytes));
            }
            None if m.qos > 0 && !self.clean && !faults.no_offline_queue => self.queue.push_back(m),
            None => {}
        }
    }

    /// On resume: re-send in-flight messages (DUP 1, same id), then the queue.
    pub fn resume(&mut self, faults: &Faults) {
        let Some((_, tx)) = self.online.clone() else {
            return;
        };
        for (id, f) in &self.inflight {
            let bytes = match f {
                Inflight::Publish(m) => {
                    let mut m = m.clone();
                    m.dup = !faults.no_dup_on_resend;
                    publish_bytes(&m, Some(*id))
                }
                Inflight::Pubrel => ack_bytes(Packet::Pubrel, *id),
            };
            let _ = tx.send(Out::Bytes(bytes));
        }
        while let Some(m) = self.queue.pop_front() {
            self.deliver(m, faults);
        }
    }
}

impl State {
    /// A fresh state; the `$SYS` tree unless switched off.
    pub fn new(faults: Faults) -> State {
        let mut s = State {
            faults,
            ..State::default()
        };
        if !faults.no_sys_tree {
            let topic = "$SYS/broker/version".to_string();
            let m = Message {
                topic: topic.clone(),
                payload: Bytes::from_static(b"mqttspec-test-broker 1.0"),
                qos: 0,
                retain: true,
                dup: false,
            };
            s.retained.insert(topic, m);
        }
        s
    }

    /// Handle a message published by a client (or a will).
    pub fn publish(&mut self, m: Message) {
        let f = self.faults;
        if f.dollar_topics_not_routed && m.topic.starts_with('$') {
            return;
        }
        if m.retain || f.retain_0_replaces {
            self.store_retained(&m);
        }
        for s in self.sessions.values_mut() {
            let granted: Vec<u8> = s
                .subs
                .iter()
                .filter(|(flt, _)| topics::matches(flt, &m.topic, !f.dollar_topics_to_wildcards))
                .map(|(_, q)| *q)
                .collect();
            if granted.is_empty() {
                continue;
            }
            let copies: Vec<u8> = if f.subscribe_duplicates_instead_of_replace {
                // Newest subscription first.
                granted.into_iter().rev().collect()
            } else if f.overlapping_min_qos {
                granted.iter().min().copied().into_iter().collect()
            } else {
                granted.iter().max().copied().into_iter().collect()
            };
            for g in copies {
                let qos = if f.no_qos_downgrade {
                    m.qos
                } else if f.qos_upgrade_to_granted {
                    g
                } else {
                    m.qos.min(g)
                };
                let out = Message {
                    qos,
                    retain: f.retain_flag_on_live_forward && m.retain,
                    dup: (f.propagate_inbound_dup && m.dup) || (f.dup_on_qos0 && qos == 0),
                    ..m.clone()
                };
                s.deliver(out, &f);
            }
        }
    }

    fn store_retained(&mut self, m: &Message) {
        let f = self.faults;
        if f.no_retain_store {
            return;
        }
        if m.payload.is_empty() && !f.retain_empty_stored {
            if !f.retain_empty_not_cleared {
                self.retained.remove(&m.topic);
            }
            return;
        }
        if f.retain_keep_first && self.retained.contains_key(&m.topic) {
            return;
        }
        let mut kept = m.clone();
        kept.dup = false;
        kept.retain = true;
        self.retained.insert(m.topic.clone(), kept);
    }

    /// Retained messages matching `filter`, to send on subscribe at most `qos`.
    pub fn retained_for(&self, filter: &str, qos: u8) -> Vec<Message> {
        let dollar = !self.faults.dollar_topics_to_wildcards;
        self.retained
            .values()
            .filter(|m| topics::matches(filter, &m.topic, dollar))
            .map(|m| Message {
                qos: m.qos.min(qos),
                retain: true,
                dup: false,
                ..m.clone()
            })
            .collect()
    }
}
