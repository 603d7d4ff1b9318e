//! Which events a rule looks at. The monitor calls a rule only for the
//! events it declared, so the many rules that judge one packet type in one
//! direction cost nothing on the rest of the traffic. A rule may also ask
//! for some events only while a [`Condition`] holds (the first packet of a
//! side, a packet with violations, ...), which the monitor evaluates once per
//! event for all rules: a rule that judges every client packet, but only
//! until the first one, costs nothing after it.

use crate::codec::PacketType;
use crate::event::{Direction, EventKind};
use crate::session::Session;

/// A set of event classes: each packet type per direction, plus opened,
/// malformed bytes, gaps and closed; each class wanted always or only while
/// a condition holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interest {
    /// Classes wanted whatever the state.
    always: u64,
    /// Per [`Condition`]: classes wanted while it holds.
    when: [u64; CONDITIONS],
}

impl std::ops::BitOr for Interest {
    type Output = Interest;
    fn bitor(self, other: Interest) -> Interest {
        let mut when = self.when;
        for (w, o) in when.iter_mut().zip(other.when) {
            *w |= o;
        }
        Interest {
            always: self.always | other.always,
            when,
        }
    }
}

/// Number of event classes (bits of an [`Interest`] in use).
pub const CLASSES: usize = 37;

const OPENED: u32 = 32;
const MALFORMED: u32 = 33;
const GAP: u32 = 34;
const CLOSED: u32 = 35;
const UPGRADE: u32 = 36;

/// What must hold, before an event, for a rule to want it: a rule that has
/// nothing to judge otherwise says so, and is not called. Each is a
/// necessary condition the rule checks again, so calling it anyway (as a
/// monitor of every event does) changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// The event is a packet with wire-level violations.
    Violations,
    /// The client has sent no packet yet.
    FirstFromClient,
    /// The server has sent no packet yet.
    FirstFromServer,
    /// The client has sent DISCONNECT.
    ClientDisconnected,
    /// The client has sent a second CONNECT.
    ConnectRepeated,
}

/// Number of [`Condition`]s.
pub const CONDITIONS: usize = 5;

impl Interest {
    /// Every event (the default for a rule that declares nothing).
    pub const ALL: Interest = Interest::always((1 << CLASSES) - 1);

    /// Unframeable bytes (either direction).
    pub const MALFORMED: Interest = Interest::always(1 << MALFORMED);

    /// The end of the connection.
    pub const CLOSED: Interest = Interest::always(1 << CLOSED);

    /// The WebSocket upgrade (either direction).
    pub const UPGRADE: Interest = Interest::always(1 << UPGRADE);

    const fn always(classes: u64) -> Interest {
        Interest {
            always: classes,
            when: [0; CONDITIONS],
        }
    }

    /// Packets of `types` travelling in `dir`.
    pub fn packets(dir: Direction, types: &[PacketType]) -> Interest {
        Interest::always(types.iter().fold(0, |m, t| m | 1 << packet_class(dir, *t)))
    }

    /// Packets of any type travelling in `dir`.
    pub fn all_packets(dir: Direction) -> Interest {
        Interest::always(0xffff << packet_class(dir, PacketType::Reserved))
    }

    /// The same events, but only while `c` holds (a part already
    /// conditional moves to `c`: wanting more is always safe).
    pub fn only_while(self, c: Condition) -> Interest {
        let mut when = [0; CONDITIONS];
        when[c as usize] = self.when.iter().fold(self.always, |m, w| m | w);
        Interest { always: 0, when }
    }

    /// Whether events of `class` (from [`class_of`]) are wanted whatever
    /// the state.
    #[cfg(test)]
    pub fn wants(self, class: usize) -> bool {
        self.always >> class & 1 == 1
    }

    /// The classes wanted whatever the state, in increasing order.
    pub fn classes(self) -> impl Iterator<Item = usize> {
        set_bits(self.always)
    }

    /// The classes wanted while `c` holds (besides [`Interest::classes`]).
    pub fn classes_while(self, c: Condition) -> impl Iterator<Item = usize> {
        set_bits(self.when[c as usize])
    }
}

/// Every condition, by its index.
pub const ALL_CONDITIONS: [Condition; CONDITIONS] = [
    Condition::Violations,
    Condition::FirstFromClient,
    Condition::FirstFromServer,
    Condition::ClientDisconnected,
    Condition::ConnectRepeated,
];

/// The conditions that hold for an event of `kind` on `session` (as it is
/// before the event), one bit per [`Condition`].
pub(crate) fn conditions(kind: &EventKind, session: &Session) -> u32 {
    let violations = matches!(kind, EventKind::Packet { packet, .. } if !packet.is_clean());
    u32::from(violations) << Condition::Violations as u32
        | u32::from(session.from_client.packets == 0) << Condition::FirstFromClient as u32
        | u32::from(session.from_server.packets == 0) << Condition::FirstFromServer as u32
        | u32::from(session.client_disconnect.is_some()) << Condition::ClientDisconnected as u32
        | u32::from(session.connect_repeated) << Condition::ConnectRepeated as u32
}

/// The positions of the bits set in `mask`, lowest first.
pub(crate) fn set_bits(mask: u64) -> impl Iterator<Item = usize> {
    let mut rest = mask;
    std::iter::from_fn(move || {
        (rest != 0).then(|| {
            let bit = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            bit
        })
    })
}

/// The class of a CONNECT sent to the server.
pub(crate) const CONNECT_TO_SERVER: usize = PacketType::Connect as usize;

fn packet_class(dir: Direction, t: PacketType) -> u32 {
    let base = match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 16,
    };
    base + u32::from(t.nibble())
}

/// The class of an event.
pub fn class_of(kind: &EventKind) -> usize {
    (match kind {
        EventKind::Packet { dir, packet, .. } => packet_class(*dir, packet.packet.packet_type()),
        EventKind::Opened => OPENED,
        EventKind::Malformed { .. } => MALFORMED,
        EventKind::Gap { .. } => GAP,
        EventKind::Closed { .. } => CLOSED,
        EventKind::Upgrade { .. } => UPGRADE,
    }) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_distinct_and_all_covers_them() {
        let mut seen = 0u64;
        for dir in [Direction::ToServer, Direction::ToClient] {
            for n in 0..16 {
                let c = packet_class(dir, PacketType::from_nibble(n));
                assert_eq!(seen >> c & 1, 0, "class {c} twice");
                seen |= 1 << c;
            }
        }
        for c in [OPENED, MALFORMED, GAP, CLOSED, UPGRADE] {
            seen |= 1 << c;
        }
        assert_eq!(Interest::always(seen), Interest::ALL);
        let pubs = Interest::packets(Direction::ToClient, &[PacketType::Publish]);
        assert!(pubs.wants(packet_class(Direction::ToClient, PacketType::Publish) as usize));
        assert!(!pubs.wants(packet_class(Direction::ToServer, PacketType::Publish) as usize));
        assert!(!pubs.wants(CLOSED as usize));
        let to_server = Interest::all_packets(Direction::ToServer);
        assert!(to_server.wants(packet_class(Direction::ToServer, PacketType::Auth) as usize));
        assert!(!to_server.wants(packet_class(Direction::ToClient, PacketType::Connect) as usize));
        assert_eq!(
            pubs.classes().collect::<Vec<_>>(),
            vec![packet_class(Direction::ToClient, PacketType::Publish) as usize]
        );
        assert_eq!(Interest::ALL.classes().count(), CLASSES);
        assert_eq!(
            CONNECT_TO_SERVER as u32,
            packet_class(Direction::ToServer, PacketType::Connect)
        );
        let both = to_server | Interest::CLOSED;
        assert!(both.wants(CLOSED as usize));
        assert!(both.wants(packet_class(Direction::ToServer, PacketType::Pingreq) as usize));
        assert!(!both.wants(OPENED as usize));
    }

    #[test]
    fn conditional_classes_are_kept_apart() {
        let first =
            Interest::all_packets(Direction::ToServer).only_while(Condition::FirstFromClient);
        let i = first | Interest::CLOSED;
        assert_eq!(i.classes().collect::<Vec<_>>(), vec![CLOSED as usize]);
        assert_eq!(i.classes_while(Condition::FirstFromClient).count(), 16);
        assert_eq!(i.classes_while(Condition::Violations).count(), 0);
        // Narrowing a conditional part again moves it, whole, to the new condition.
        let moved = i.only_while(Condition::Violations);
        assert_eq!(moved.classes().count(), 0);
        assert_eq!(moved.classes_while(Condition::Violations).count(), 17);
        for (n, c) in ALL_CONDITIONS.iter().enumerate() {
            assert_eq!(*c as usize, n);
        }
    }
}
