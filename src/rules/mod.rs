//! The rule engine: passive rules observe [`Event`]s with the per-connection
//! [`Session`] and report [`Finding`]s. Rules do no I/O and cannot tell a live
//! run from a capture.
//!
//! Order per event: every rule observes the event with the session state as
//! it was *before* the event, then the session applies the event.

mod common;
mod registry;
pub mod s2_packet_ids;
pub mod s3_10_unsubscribe;
pub mod s3_12_ping;
pub mod s3_14_disconnect;
pub mod s3_1_connect;
pub mod s3_2_connack;
pub mod s3_3_publish;
pub mod s3_8_subscribe;
pub mod s4_7_topics;
pub mod s4_qos_flows;
pub mod s6_websocket;
#[cfg(test)]
mod scenarios;
#[cfg(test)]
pub(crate) mod testkit;
pub mod wellformed;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::codec::Version;
use crate::event::{ConnId, Event, EventKind, Side};
use crate::session::Session;

pub use registry::{all_rules, catalogue};

/// Static description of a rule.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RuleMeta {
    /// Stable name, named after what it checks (e.g. "first-packet-is-connect").
    pub name: &'static str,
    /// Normative statements it checks (table form, e.g. "MQTT-3.1.0-1").
    pub statements: &'static [&'static str],
    /// Whose behavior it judges.
    pub actor: Side,
    /// Versions it applies to.
    pub versions: &'static [Version],
    /// One-line meaning.
    pub summary: &'static str,
}

/// A passive rule. One instance per connection.
pub trait Rule: Send {
    /// What the rule is.
    fn meta(&self) -> &'static RuleMeta;
    /// Look at one event; `session` is the state before the event.
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>);
    /// The connection is over (closed or end of input): report what is still pending.
    fn finish(&mut self, _session: &Session, _out: &mut Vec<Finding>) {}
}

/// A violation observed: which statement, by whom, where.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Normative statement ID broken (e.g. "MQTT-3.8.4-2").
    pub rule: &'static str,
    /// Name of the rule that saw it.
    pub check: &'static str,
    /// The side that broke it.
    pub actor: Side,
    pub message: String,
    /// Connection number.
    pub connection: ConnId,
    /// Packet index on the connection (both directions, from 0), if one packet is at fault.
    pub packet: Option<u32>,
    /// Time of the event that revealed it.
    #[serde(serialize_with = "ser_ms")]
    pub at: Duration,
}

fn ser_ms<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

impl Finding {
    /// A finding for `meta`'s first statement at `event`.
    pub fn new(meta: &'static RuleMeta, event: &Event, message: impl Into<String>) -> Finding {
        Finding::with_statement(
            meta,
            meta.statements.first().copied().unwrap_or(""),
            event,
            message,
        )
    }

    /// A finding naming a specific statement of the rule.
    pub fn with_statement(
        meta: &'static RuleMeta,
        statement: &'static str,
        event: &Event,
        message: impl Into<String>,
    ) -> Finding {
        let packet = match &event.kind {
            EventKind::Packet { index, .. } => Some(*index),
            _ => None,
        };
        Finding {
            rule: statement,
            check: meta.name,
            actor: meta.actor,
            message: message.into(),
            connection: event.conn,
            packet,
            at: event.at,
        }
    }
}

fn applicable(rules: &[Box<dyn Rule>], version: Version) -> Vec<bool> {
    rules
        .iter()
        .map(|r| r.meta().versions.contains(&version))
        .collect()
}

/// Feeds events to a session and a fresh rule set per connection.
pub struct Monitor {
    conns: BTreeMap<ConnId, (Session, Vec<Box<dyn Rule>>)>,
    /// Per connection: which rules apply to the session's current version.
    active: BTreeMap<ConnId, (Version, Vec<bool>)>,
    default_version: Version,
    findings: Vec<Finding>,
}

impl Monitor {
    /// A monitor whose connections start at `version` until a CONNECT says otherwise.
    pub fn new(default_version: Version) -> Monitor {
        Monitor {
            conns: BTreeMap::new(),
            active: BTreeMap::new(),
            default_version,
            findings: Vec::new(),
        }
    }

    /// Observe one event.
    pub fn feed(&mut self, event: &Event) {
        let version = self.default_version;
        let (session, rules) = self
            .conns
            .entry(event.conn)
            .or_insert_with(|| (Session::new(version), all_rules()));
        let (active_version, active) = self
            .active
            .entry(event.conn)
            .or_insert_with(|| (session.version, applicable(rules, session.version)));
        if *active_version != session.version {
            *active_version = session.version;
            *active = applicable(rules, session.version);
        }
        for (r, on) in rules.iter_mut().zip(active.iter()) {
            if *on {
                r.observe(event, session, &mut self.findings);
            }
        }
        session.apply(event);
        if let EventKind::Closed { .. } = event.kind {
            self.active.remove(&event.conn);
            if let Some((session, mut rules)) = self.conns.remove(&event.conn) {
                for r in rules.iter_mut() {
                    if r.meta().versions.contains(&session.version) {
                        r.finish(&session, &mut self.findings);
                    }
                }
            }
        }
    }

    /// The session of an open connection.
    pub fn session(&self, conn: ConnId) -> Option<&Session> {
        self.conns.get(&conn).map(|(s, _)| s)
    }

    /// Findings so far (without finishing open connections).
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Finish every open connection and return all findings.
    pub fn finish(mut self) -> Vec<Finding> {
        for (_, (session, mut rules)) in std::mem::take(&mut self.conns) {
            for r in rules.iter_mut() {
                if r.meta().versions.contains(&session.version) {
                    r.finish(&session, &mut self.findings);
                }
            }
        }
        self.findings
    }
}
