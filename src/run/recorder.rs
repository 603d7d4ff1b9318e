//! The case recorder: everything a live case sees or sends becomes an
//! [`Event`], fed to the [`Monitor`] and kept in the wire log, in order.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::codec::{self, text::hex, Decoded, Framed, Framer, Version};
use crate::event::{ClosedBy, ConnId, Direction, Event, EventKind, Side};
use crate::report::{WireEntry, WireWhat};
use crate::rules::{Finding, Monitor};
use crate::session::other;

/// Shared, lock-protected recorder of one case.
#[derive(Clone)]
pub struct Recorder {
    inner: Arc<Mutex<Inner>>,
    /// The side the suite plays (Client in broker mode, Server in device mode).
    us: Side,
}

struct Inner {
    start: Instant,
    version: Version,
    monitor: Monitor,
    wire: Vec<WireEntry>,
    /// Packet counter and outbound framer per connection.
    conns: BTreeMap<ConnId, ConnState>,
}

struct ConnState {
    packets: u32,
    outbound: Framer,
    closed: bool,
}

const HEX_LIMIT: usize = 512;

impl Recorder {
    /// A recorder for a case speaking `version`, the suite playing `us`.
    pub fn new(version: Version, us: Side) -> Recorder {
        Recorder {
            inner: Arc::new(Mutex::new(Inner {
                start: Instant::now(),
                version,
                monitor: Monitor::new(version),
                wire: Vec::new(),
                conns: BTreeMap::new(),
            })),
            us,
        }
    }

    /// The direction of what the peer sends us.
    pub fn incoming(&self) -> Direction {
        match self.us {
            Side::Client => Direction::ToClient,
            Side::Server => Direction::ToServer,
        }
    }

    /// The direction of what we send.
    pub fn outgoing(&self) -> Direction {
        other(self.incoming())
    }

    /// "The peer closed the connection" in MQTT roles.
    pub fn peer_closed(&self) -> ClosedBy {
        match self.us {
            Side::Client => ClosedBy::Server,
            Side::Server => ClosedBy::Client,
        }
    }

    /// "We closed the connection" in MQTT roles.
    pub fn we_closed(&self) -> ClosedBy {
        match self.us {
            Side::Client => ClosedBy::Client,
            Side::Server => ClosedBy::Server,
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        f(&mut crate::sync::lock(&self.inner))
    }

    /// A connection opened.
    pub fn opened(&self, conn: ConnId) {
        self.with(|i| {
            i.conns.insert(
                conn,
                ConnState {
                    packets: 0,
                    outbound: Framer::default(),
                    closed: false,
                },
            );
            i.event(conn, EventKind::Opened);
        });
    }

    /// A packet received from the server; returns it decoded with its index.
    pub fn received(&self, conn: ConnId, bytes: bytes::Bytes) -> Arc<Decoded> {
        let incoming = self.incoming();
        self.with(|i| {
            let d = Arc::new(codec::decode(bytes, i.version));
            i.packet(conn, incoming, d.clone());
            d
        })
    }

    /// Unframeable bytes received from the server.
    pub fn malformed(
        &self,
        conn: ConnId,
        dir: Direction,
        offset: u64,
        bytes: &[u8],
        error: codec::FrameError,
    ) {
        self.with(|i| i.malformed(conn, dir, offset, bytes, error));
    }

    /// Bytes we sent: framed and decoded so the log shows what went out.
    pub fn sent(&self, conn: ConnId, bytes: &[u8]) {
        let outgoing = self.outgoing();
        self.with(|i| {
            let version = i.version;
            let mut frames = Vec::new();
            if let Some(c) = i.conns.get_mut(&conn) {
                c.outbound.push(bytes);
                while let Some(f) = c.outbound.next_frame() {
                    frames.push(f);
                }
            }
            for f in frames {
                match f {
                    Framed::Packet { bytes, .. } => {
                        let d = Arc::new(codec::decode(bytes, version));
                        i.packet(conn, outgoing, d);
                    }
                    Framed::Malformed {
                        offset,
                        bytes,
                        error,
                    } => i.malformed(conn, outgoing, offset, &bytes, error),
                }
            }
        });
    }

    /// Bytes we sent in a WebSocket text frame: recorded as not MQTT
    /// traffic (MQTT-6.0.0-1), so the session does not take them as packets.
    pub fn sent_text(&self, conn: ConnId, bytes: &[u8]) {
        let outgoing = self.outgoing();
        self.with(|i| {
            let offset = i.conns.get(&conn).map_or(0, |c| c.outbound.offset());
            i.malformed(conn, outgoing, offset, bytes, codec::FrameError::TextFrame);
        });
    }

    /// The connection ended (first report wins).
    pub fn closed(&self, conn: ConnId, by: ClosedBy) {
        self.closed_because(conn, by, None)
    }

    /// The connection ended, with the transport's reason.
    pub fn closed_because(&self, conn: ConnId, by: ClosedBy, reason: Option<String>) {
        self.with(|i| {
            let first = match i.conns.get_mut(&conn) {
                Some(c) if !c.closed => {
                    c.closed = true;
                    true
                }
                _ => false,
            };
            if first {
                i.event(conn, EventKind::Closed { by });
                if let Some(r) = reason {
                    if let Some(WireEntry {
                        what: WireWhat::Closed { reason, .. },
                        ..
                    }) = i.wire.last_mut()
                    {
                        *reason = Some(r);
                    }
                }
            }
        });
    }

    /// The transport's reason for the close of `conn`, if it gave one.
    pub fn close_reason(&self, conn: ConnId) -> Option<String> {
        self.with(|i| {
            i.wire.iter().rev().find_map(|w| match &w.what {
                WireWhat::Closed { reason, .. } if w.conn == conn => reason.clone(),
                _ => None,
            })
        })
    }

    /// Whether the connection has been recorded as closed.
    pub fn is_closed(&self, conn: ConnId) -> bool {
        self.with(|i| i.conns.get(&conn).is_none_or(|c| c.closed))
    }

    /// End of case: findings and wire log.
    pub fn finish(self) -> (Vec<Finding>, Vec<WireEntry>) {
        let inner = match Arc::try_unwrap(self.inner) {
            Ok(m) => match m.into_inner() {
                Ok(i) => i,
                Err(p) => p.into_inner(),
            },
            Err(shared) => {
                // Reader tasks may still hold a clone: take a snapshot.
                let mut g = crate::sync::lock(&shared);
                let version = g.version;
                let monitor = std::mem::replace(&mut g.monitor, Monitor::new(version));
                return (monitor.finish(), std::mem::take(&mut g.wire));
            }
        };
        (inner.monitor.finish(), inner.wire)
    }
}

impl Inner {
    fn malformed(
        &mut self,
        conn: ConnId,
        dir: Direction,
        offset: u64,
        bytes: &[u8],
        error: codec::FrameError,
    ) {
        let at = self.start.elapsed();
        self.wire.push(WireEntry {
            conn,
            at_ms: ms(at),
            what: WireWhat::Malformed {
                dir,
                hex: short_hex(bytes),
                error: error.to_string(),
            },
        });
        self.monitor.feed(&Event {
            at,
            conn,
            kind: EventKind::Malformed {
                dir,
                offset,
                len: bytes.len(),
                error,
            },
        });
    }

    fn event(&mut self, conn: ConnId, kind: EventKind<'_>) {
        let at = self.start.elapsed();
        let what = match &kind {
            EventKind::Opened => Some(WireWhat::Opened),
            EventKind::Closed { by } => Some(WireWhat::Closed {
                by: *by,
                reason: None,
            }),
            _ => None,
        };
        if let Some(what) = what {
            self.wire.push(WireEntry {
                conn,
                at_ms: ms(at),
                what,
            });
        }
        self.monitor.feed(&Event { at, conn, kind });
    }

    fn packet(&mut self, conn: ConnId, dir: Direction, d: Arc<Decoded>) {
        let index = match self.conns.get_mut(&conn) {
            Some(c) => {
                c.packets += 1;
                c.packets - 1
            }
            None => 0,
        };
        let at = self.start.elapsed();
        self.wire.push(WireEntry {
            conn,
            at_ms: ms(at),
            what: WireWhat::Packet {
                dir,
                index,
                hex: short_hex(&d.raw),
                packet: d.clone(),
            },
        });
        self.monitor.feed(&Event {
            at,
            conn,
            kind: EventKind::Packet {
                dir,
                index,
                packet: &d,
            },
        });
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

fn short_hex(b: &[u8]) -> String {
    if b.len() > HEX_LIMIT {
        format!("{}…(+{} bytes)", hex(&b[..HEX_LIMIT]), b.len() - HEX_LIMIT)
    } else {
        hex(b)
    }
}
