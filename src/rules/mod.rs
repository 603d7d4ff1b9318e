//! The rule engine: passive rules observe [`Event`]s with the per-connection
//! [`Session`] and report [`Finding`]s. Rules do no I/O and cannot tell a live
//! run from a capture.
//!
//! Order per event: every rule observes the event with the session state as
//! it was *before* the event, then the session applies the event.

mod common;
pub mod interest;
mod registry;
pub mod s2_packet_ids;
pub mod s3_10_unsubscribe;
pub mod s3_12_ping;
pub mod s3_14_disconnect;
pub mod s3_1_connect;
pub mod s3_1_connect_payload;
pub mod s3_2_connack;
pub mod s3_2_connack_limits;
pub mod s3_3_publish;
pub mod s3_8_subscribe;
pub mod s4_6_ordering;
pub mod s4_7_topics;
pub mod s4_8_errors;
pub mod s4_qos_flows;
pub mod s6_websocket;
#[cfg(test)]
mod scenarios;
#[cfg(test)]
pub(crate) mod testkit;
pub mod wellformed;

use std::time::Duration;

use serde::Serialize;

use crate::codec::Version;
use crate::event::{ConnId, Event, EventKind, Side};
use crate::session::Session;

pub use interest::Interest;

use registry::RuleSet;
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
    /// Statements cited for one version family only (3.x or 5.0), because
    /// the same number means something else in the other. Statements not
    /// listed are cited in every version of `versions`.
    pub only: &'static [(&'static str, Version)],
    /// One-line meaning.
    pub summary: &'static str,
}

impl RuleMeta {
    /// The statements this rule checks on a `version` connection.
    pub fn statements_in(&self, version: Version) -> impl Iterator<Item = &'static str> + '_ {
        let applies = self.versions.contains(&version);
        self.statements.iter().copied().filter(move |s| {
            let mut listed = self.only.iter().filter(|(id, _)| id == s).peekable();
            applies
                && (listed.peek().is_none() || listed.any(|(_, v)| v.is_v5() == version.is_v5()))
        })
    }
}

/// A passive rule. One instance per connection.
pub trait Rule: Send {
    /// What the rule is.
    fn meta(&self) -> &'static RuleMeta;
    /// The events [`Rule::observe`] looks at (all by default). A rule that
    /// returns early for every other event declares it here, so the monitor
    /// skips the call. It must not change over a rule's life: the monitor
    /// asks each rule of the registry once per version.
    fn interest(&self) -> Interest {
        Interest::ALL
    }
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

/// One connection's state and rules, with the rules to call per event class.
struct Conn {
    id: ConnId,
    session: Session,
    /// By value: a separate allocation per connection cost more memory
    /// (about 1 KB per open flow on a 20,000-flow capture).
    rules: RuleSet,
    /// The dispatch tables of the session's version (or the tables that call
    /// every rule, for tests that compare both ways). Kept here rather than
    /// looked up per event; renewed when a CONNECT may change the version.
    tables: &'static Tables,
    /// Ignore the rules' declared interests (tests compare both ways).
    every_event: bool,
}

impl Conn {
    fn new(id: ConnId, version: Version, every_event: bool) -> Conn {
        Conn {
            id,
            session: Session::new(version),
            rules: RuleSet::new(),
            tables: Tables::of(version, every_event),
            every_event,
        }
    }

    fn finish(mut self, out: &mut Vec<Finding>) {
        for i in interest::set_bits(self.tables.applies) {
            if let Some(finish) = registry::FINISH.get(i) {
                finish(&mut self.rules, &self.session, out);
            }
        }
    }
}

/// Which rules of the registry to call on a connection of one version: a bit
/// per rule, by registry index (the registry holds at most 64 rules, tested).
struct Tables {
    /// The rules that apply to the version.
    applies: u64,
    /// Per event class: the rules that apply and declare interest in it.
    dispatch: [u64; interest::CLASSES],
    /// Per event class and condition: the rules that apply and want the
    /// class while the condition holds.
    when: [[u64; interest::CONDITIONS]; interest::CLASSES],
}

impl Tables {
    /// The tables for `version`, built once: a rule's versions and
    /// interests are fixed, so every connection shares them. With
    /// `every_event`, each class calls every rule that applies.
    fn of(version: Version, every_event: bool) -> &'static Tables {
        // Indexed [every_event][version].
        static TABLES: std::sync::OnceLock<[[Tables; 3]; 2]> = std::sync::OnceLock::new();
        let tables = TABLES.get_or_init(|| {
            let rules = all_rules();
            let declared =
                [Version::V31, Version::V311, Version::V5].map(|v| Tables::build(&rules, v));
            let every = declared.each_ref().map(|t| Tables {
                applies: t.applies,
                dispatch: [t.applies; interest::CLASSES],
                when: [[0; interest::CONDITIONS]; interest::CLASSES],
            });
            [declared, every]
        });
        let at = match version {
            Version::V31 => 0,
            Version::V311 => 1,
            Version::V5 => 2,
        };
        &tables[usize::from(every_event)][at]
    }

    fn build(rules: &[Box<dyn Rule>], version: Version) -> Tables {
        let mut t = Tables {
            applies: 0,
            dispatch: [0; interest::CLASSES],
            when: [[0; interest::CONDITIONS]; interest::CLASSES],
        };
        for (i, r) in rules.iter().enumerate().take(64) {
            if !r.meta().versions.contains(&version) {
                continue;
            }
            t.applies |= 1 << i;
            let wants = r.interest();
            for class in wants.classes() {
                if let Some(bits) = t.dispatch.get_mut(class) {
                    *bits |= 1 << i;
                }
            }
            for c in interest::ALL_CONDITIONS {
                for class in wants.classes_while(c) {
                    if let Some(bits) = t.when.get_mut(class).and_then(|w| w.get_mut(c as usize)) {
                        *bits |= 1 << i;
                    }
                }
            }
        }
        t
    }

    /// The rules to call for an event of `class` when `conditions` (from
    /// [`interest::conditions`]) hold, in registry order.
    fn wanting(&self, class: usize, mut conditions: u32) -> u64 {
        let mut bits = self.dispatch.get(class).copied().unwrap_or(0);
        if conditions != 0 {
            if let Some(when) = self.when.get(class) {
                while conditions != 0 {
                    let c = conditions.trailing_zeros() as usize;
                    conditions &= conditions - 1;
                    bits |= when.get(c).copied().unwrap_or(0);
                }
            }
        }
        bits
    }
}

/// Feeds events to a session and a fresh rule set per connection.
pub struct Monitor {
    /// Open connections (few per monitor: one per captured flow, a handful per case).
    conns: Vec<Conn>,
    default_version: Version,
    findings: Vec<Finding>,
    every_event: bool,
}

impl Monitor {
    /// A monitor whose connections start at `version` until a CONNECT says otherwise.
    pub fn new(default_version: Version) -> Monitor {
        Monitor {
            conns: Vec::new(),
            default_version,
            findings: Vec::new(),
            every_event: false,
        }
    }

    /// A monitor that calls every rule for every event, whatever the rules
    /// declare (to check that declared interests lose nothing).
    #[cfg(test)]
    pub fn every_event(default_version: Version) -> Monitor {
        Monitor {
            every_event: true,
            ..Monitor::new(default_version)
        }
    }

    /// Observe one event.
    pub fn feed(&mut self, event: &Event) {
        let at = match self.conns.iter().position(|c| c.id == event.conn) {
            Some(i) => i,
            None => {
                self.conns.push(Conn::new(
                    event.conn,
                    self.default_version,
                    self.every_event,
                ));
                self.conns.len() - 1
            }
        };
        let Some(conn) = self.conns.get_mut(at) else {
            return;
        };
        let class = interest::class_of(&event.kind);
        let mut wanting = conn
            .tables
            .wanting(class, interest::conditions(&event.kind, &conn.session));
        while wanting != 0 {
            let i = wanting.trailing_zeros() as usize;
            wanting &= wanting - 1;
            if let Some(observe) = registry::OBSERVE.get(i) {
                observe(&mut conn.rules, event, &conn.session, &mut self.findings);
            }
        }
        conn.session.apply(event);
        match event.kind {
            // Only a CONNECT changes the session's version.
            EventKind::Packet { .. } if class == interest::CONNECT_TO_SERVER => {
                conn.tables = Tables::of(conn.session.version, conn.every_event);
            }
            EventKind::Closed { .. } => self.conns.remove(at).finish(&mut self.findings),
            _ => {}
        }
    }

    /// The session of an open connection.
    pub fn session(&self, conn: ConnId) -> Option<&Session> {
        self.conns.iter().find(|c| c.id == conn).map(|c| &c.session)
    }

    /// Findings so far (without finishing open connections).
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Finish every open connection and return all findings.
    pub fn finish(mut self) -> Vec<Finding> {
        let mut conns = std::mem::take(&mut self.conns);
        conns.sort_by_key(|c| c.id);
        for c in conns {
            c.finish(&mut self.findings);
        }
        self.findings
    }
}
