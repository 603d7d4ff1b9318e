//! The judge of one client connection in serve mode: what the client sent
//! and what the suite answered become [`Event`]s in wire order, fed to a
//! [`Monitor`] (the client rules are the ones that matter here), with
//! per-type packet counts for the report. A connection refused at its TLS
//! or WebSocket handshake is reported with the reason and judged no
//! further (unless the refusal is itself about a client statement).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::codec::{self, Decoded, FrameError, Packet, Version};
use crate::event::{ClosedBy, ConnId, Direction, Event, EventKind};
use crate::rules::{Finding, Monitor};

/// A connection's report.
#[derive(Debug, Clone, Serialize)]
pub struct ConnReport {
    pub connection: ConnId,
    /// The client's address.
    pub client: String,
    pub client_id: Option<String>,
    /// Protocol version from the CONNECT ("3.1", "3.1.1", "5.0").
    pub version: Option<&'static str>,
    /// Seconds since the watch started.
    pub opened: f64,
    pub closed: Option<f64>,
    /// "client", "server", or "open" when the watch ended first.
    pub closed_by: &'static str,
    /// TLS connections: what the handshake settled on ("TLS 1.3, client
    /// certificate verified").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<String>,
    /// Why the TLS or WebSocket handshake failed, when it did (no MQTT
    /// was exchanged then).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    pub packets_from_client: BTreeMap<&'static str, u64>,
    pub packets_to_client: BTreeMap<&'static str, u64>,
    pub findings: Vec<Finding>,
}

struct State {
    monitor: Monitor,
    version: Version,
    index: u32,
    report: ConnReport,
    done: bool,
    /// When the server's close was sent, until the reader records it.
    server_closing: Option<Duration>,
    /// The finding of a refusal about a client statement.
    refused_finding: Option<Finding>,
}

/// Shared judge of one connection (reader and writer tasks both feed it).
#[derive(Clone)]
pub struct Judge {
    id: ConnId,
    start: Instant,
    state: Arc<Mutex<State>>,
}

impl Judge {
    /// A new connection from `peer`, `start` being the watch's start.
    pub fn opened(id: ConnId, peer: SocketAddr, start: Instant) -> Judge {
        let j = Judge {
            id,
            start,
            state: Arc::new(Mutex::new(State {
                monitor: Monitor::new(Version::V311),
                version: Version::V311,
                index: 0,
                report: ConnReport {
                    connection: id,
                    client: peer.to_string(),
                    client_id: None,
                    version: None,
                    opened: secs(start.elapsed()),
                    closed: None,
                    closed_by: "open",
                    tls: None,
                    refused: None,
                    packets_from_client: BTreeMap::new(),
                    packets_to_client: BTreeMap::new(),
                    findings: Vec::new(),
                },
                done: false,
                server_closing: None,
                refused_finding: None,
            })),
        };
        j.event(EventKind::Opened);
        j
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut crate::sync::lock(&self.state))
    }

    fn event(&self, kind: EventKind<'_>) {
        let at = self.start.elapsed();
        let conn = self.id;
        self.with(|s| {
            if !s.done {
                s.monitor.feed(&Event { at, conn, kind });
            }
        });
    }

    /// The version packets of this connection are decoded with.
    pub fn version(&self) -> Version {
        self.with(|s| s.version)
    }

    /// Whole packet bytes in `dir`; returns the decoded packet.
    pub fn packet(&self, dir: Direction, bytes: bytes::Bytes) -> Arc<Decoded> {
        let at = self.start.elapsed();
        let conn = self.id;
        self.with(|s| {
            let d = Arc::new(codec::decode(bytes, s.version));
            if let (Direction::ToServer, Packet::Connect(c)) = (dir, &d.packet) {
                if s.report.client_id.is_none() {
                    if let Some(v) = Version::from_level(c.protocol_level) {
                        s.version = v;
                        s.report.version = Some(v.name());
                    }
                    s.report.client_id = Some(c.client_id.to_string());
                }
            }
            let name = d.packet.packet_type().name();
            let counts = match dir {
                Direction::ToServer => &mut s.report.packets_from_client,
                Direction::ToClient => &mut s.report.packets_to_client,
            };
            *counts.entry(name).or_insert(0) += 1;
            let index = s.index;
            s.index += 1;
            if !s.done {
                let kind = EventKind::Packet {
                    dir,
                    index,
                    packet: &d,
                };
                s.monitor.feed(&Event { at, conn, kind });
            }
            d
        })
    }

    /// Bytes that cannot be framed.
    pub fn malformed(&self, dir: Direction, offset: u64, len: usize, error: FrameError) {
        self.event(EventKind::Malformed {
            dir,
            offset,
            len,
            error,
        });
    }

    /// The connection ended (the first call counts).
    pub fn closed(&self, by: ClosedBy) {
        self.closed_at(by, self.start.elapsed());
    }

    /// The server is closing the connection (its FIN is about to leave):
    /// noted before the client can see it, so that a watch that ends
    /// before the reader records the close still reports it
    /// ([`Judge::settle`]).
    pub fn server_closing(&self) {
        let at = self.start.elapsed();
        self.with(|s| {
            s.server_closing.get_or_insert(at);
        });
    }

    /// The watch ended: a server close sent but not recorded yet (its
    /// reader was stopped first) counts, at the time it was sent.
    pub fn settle(&self) {
        if let Some(at) = self.with(|s| s.server_closing) {
            self.closed_at(ClosedBy::Server, at);
        }
    }

    fn closed_at(&self, by: ClosedBy, at: Duration) {
        let conn = self.id;
        self.with(|s| {
            if s.done {
                return;
            }
            s.monitor.feed(&Event {
                at,
                conn,
                kind: EventKind::Closed { by },
            });
            s.done = true;
            s.report.closed = Some(secs(at));
            s.report.closed_by = by.name();
        });
    }

    /// What the TLS handshake settled on.
    pub fn tls(&self, what: String) {
        self.with(|s| s.report.tls = Some(what));
    }

    /// The handshake failed: the connection ends without MQTT. A refusal
    /// about a client statement (MQTT-6.0.0-3) is a finding.
    pub fn refused(&self, r: crate::transport::Refused) {
        let at = self.start.elapsed();
        let connection = self.id;
        self.with(|s| {
            if s.done {
                return;
            }
            s.done = true;
            s.report.closed = Some(secs(at));
            s.report.closed_by = r.by.name();
            if let Some(rule) = r.statement {
                s.refused_finding = Some(Finding {
                    rule,
                    // The capture rule of the same statement: one name for one check.
                    check: {
                        use crate::rules::Rule;
                        crate::rules::s6_websocket::SubprotocolIsMqtt::client()
                            .meta()
                            .name
                    },
                    actor: crate::event::Side::Client,
                    message: r.reason.clone(),
                    connection,
                    packet: None,
                    at,
                });
            }
            s.report.refused = Some(r.reason);
        });
    }

    /// The report so far; an open connection's rules are finished as at
    /// the end of a capture (no close event is invented).
    pub fn report(&self) -> ConnReport {
        self.with(|s| {
            let monitor = std::mem::replace(&mut s.monitor, Monitor::new(s.version));
            let findings = monitor.finish();
            s.report.findings = match (&s.report.refused, s.refused_finding.take()) {
                // Nothing MQTT happened: only the refusal can be a finding.
                (Some(_), f) => f.into_iter().collect(),
                (None, _) => findings,
            };
            s.done = true;
            s.report.clone()
        })
    }
}

/// Seconds rounded to milliseconds.
fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge() -> Judge {
        let peer = "127.0.0.1:40000".parse().expect("address");
        Judge::opened(0, peer, Instant::now())
    }

    /// A close the server sent counts when the watch ends before the
    /// reader records it; one the reader recorded is kept as it is.
    #[test]
    fn a_server_close_sent_counts_at_the_end() {
        let j = judge();
        j.settle();
        assert_eq!(j.report().closed_by, "open");

        let j = judge();
        j.server_closing();
        j.settle();
        let r = j.report();
        assert_eq!(r.closed_by, "server");
        assert!(r.closed.is_some());

        let j = judge();
        j.closed(ClosedBy::Client);
        j.server_closing();
        j.settle();
        assert_eq!(j.report().closed_by, "client");
    }
}
