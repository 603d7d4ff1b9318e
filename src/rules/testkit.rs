//! Test support: build event sequences of one connection by hand (the codec
//! is not needed) and run them through a [`Monitor`].

use std::time::Duration;

use bytes::Bytes;

use super::{Finding, Monitor};
use crate::codec::{Ack, Connack, Connect, Decoded, Packet, Publish, Version, Violation};
use crate::event::{ClosedBy, Direction, Event, EventKind};

/// One packet to add to a script.
pub struct Step {
    dir: Direction,
    packet: Packet,
    violations: Vec<Violation>,
}

impl Step {
    /// Attach decoder violations.
    pub fn violations(mut self, v: Vec<Violation>) -> Step {
        self.violations = v;
        self
    }
}

/// A packet from the client.
pub fn client(packet: Packet) -> Step {
    Step {
        dir: Direction::ToServer,
        packet,
        violations: Vec::new(),
    }
}

/// A packet from the server.
pub fn server(packet: Packet) -> Step {
    Step {
        dir: Direction::ToClient,
        packet,
        violations: Vec::new(),
    }
}

/// An acknowledgement body with this packet id (short for the scripts).
pub fn ack(id: u16) -> Ack {
    Ack::new(id)
}

/// An event as the script keeps it (owning its packet).
enum Stored {
    Packet {
        dir: Direction,
        index: u32,
        packet: Decoded,
    },
    Other(EventKind<'static>),
}

/// Events of connection 0, with time advancing 100 ms per step unless set.
#[derive(Default)]
pub struct Script {
    events: Vec<(Duration, Stored)>,
    index: u32,
    at: Duration,
}

impl Script {
    /// An empty script (not even Opened).
    pub fn new() -> Script {
        Script::default()
    }

    /// Opened, CONNECT (clean, keep alive 60) of `version`, CONNACK 0.
    pub fn connected(version: Version) -> Script {
        Script::connected_with(Connect {
            protocol_level: version.level(),
            ..Connect::default()
        })
    }

    /// Opened, this CONNECT, CONNACK 0.
    pub fn connected_with(connect: Connect) -> Script {
        let mut s = Script::new();
        s.open();
        s.push(client(Packet::Connect(Box::new(connect))));
        s.push(server(Packet::Connack(Connack::default())));
        s
    }

    /// A PUBLISH with empty payload.
    pub fn publish(topic: &str, qos: u8, id: Option<u16>) -> Packet {
        Packet::Publish(Publish {
            qos,
            topic: topic.into(),
            packet_id: id,
            ..Publish::default()
        })
    }

    /// Set the time of the next event (seconds since start).
    pub fn at(&mut self, secs: f64) -> &mut Script {
        self.at = Duration::from_secs_f64(secs);
        self
    }

    /// Add an Opened event.
    pub fn open(&mut self) -> &mut Script {
        self.add_kind(EventKind::Opened);
        self
    }

    /// Add a packet; returns its index.
    pub fn push(&mut self, step: Step) -> u32 {
        let index = self.index;
        self.index += 1;
        let first_byte = default_first_byte(&step.packet);
        let decoded = Decoded {
            first_byte,
            remaining_length: 0,
            raw: Bytes::new(),
            packet: step.packet,
            violations: step.violations,
        };
        self.add(Stored::Packet {
            dir: step.dir,
            index,
            packet: decoded,
        });
        index
    }

    /// Add a Closed event.
    pub fn close(&mut self, by: ClosedBy) -> &mut Script {
        self.add_kind(EventKind::Closed { by });
        self
    }

    /// Add a Malformed event (unframeable bytes) in `dir`.
    pub fn malformed(&mut self, dir: Direction) -> &mut Script {
        self.malformed_as(dir, crate::codec::FrameError::LengthTooLong)
    }

    /// Add a Malformed event in `dir` with this error.
    pub fn malformed_as(&mut self, dir: Direction, error: crate::codec::FrameError) -> &mut Script {
        self.add_kind(EventKind::Malformed {
            dir,
            offset: 0,
            len: 5,
            error,
        });
        self
    }

    /// Add a Gap event.
    pub fn gap(&mut self, dir: Direction) -> &mut Script {
        self.add_kind(EventKind::Gap { dir, len: 10 });
        self
    }

    /// The WebSocket upgrade of one side, with its subprotocols.
    pub fn upgrade(&mut self, dir: Direction, protocols: &[&str]) -> &mut Script {
        let owned: Vec<String> = protocols.iter().map(|p| p.to_string()).collect();
        let protocols: &'static [String] = Box::leak(owned.into_boxed_slice());
        self.add_kind(EventKind::Upgrade { dir, protocols });
        self
    }

    fn add_kind(&mut self, kind: EventKind<'static>) {
        self.add(Stored::Other(kind));
    }

    fn add(&mut self, event: Stored) {
        self.events.push((self.at, event));
        self.at += Duration::from_millis(100);
    }

    /// The events so far.
    pub fn events(&self) -> Vec<Event<'_>> {
        self.events
            .iter()
            .map(|(at, stored)| Event {
                at: *at,
                conn: 0,
                kind: match stored {
                    Stored::Packet { dir, index, packet } => EventKind::Packet {
                        dir: *dir,
                        index: *index,
                        packet,
                    },
                    Stored::Other(kind) => kind.clone(),
                },
            })
            .collect()
    }

    /// Every finding of every rule (connections finished). Also checks that
    /// the rules' declared interests lose nothing: calling every rule for
    /// every event must find the same.
    pub fn run(&self) -> Vec<Finding> {
        let mut m = Monitor::new(Version::V311);
        let mut all = Monitor::every_event(Version::V311);
        for e in &self.events() {
            m.feed(e);
            all.feed(e);
        }
        let found = m.finish();
        assert_eq!(
            found,
            all.finish(),
            "a rule's interest misses events it judges"
        );
        found
    }

    /// Findings of the rule named `check`.
    pub fn run_rule(&self, check: &str) -> Vec<Finding> {
        self.run()
            .into_iter()
            .filter(|f| f.check == check)
            .collect()
    }
}

fn default_first_byte(p: &Packet) -> u8 {
    let t = p.packet_type();
    let flags = match p {
        Packet::Publish(p) => (u8::from(p.dup) << 3) | ((p.qos & 3) << 1) | u8::from(p.retain),
        _ => t.required_flags().unwrap_or(0),
    };
    (t.nibble() << 4) | flags
}

/// Assert exactly one finding, with this statement and packet index.
pub fn assert_one(findings: &[Finding], statement: &str, packet: Option<u32>) {
    assert_eq!(findings.len(), 1, "expected one finding, got {findings:#?}");
    assert_eq!(findings[0].rule, statement, "{findings:#?}");
    assert_eq!(findings[0].packet, packet, "{findings:#?}");
    assert!(
        crate::spec::is_known(statement),
        "unknown statement {statement}"
    );
}
