//! Which events a rule looks at. The monitor calls a rule only for the
//! events it declared, so the many rules that judge one packet type in one
//! direction cost nothing on the rest of the traffic.

use crate::codec::PacketType;
use crate::event::{Direction, EventKind};

/// A set of event classes: each packet type per direction, plus opened,
/// malformed bytes, gaps and closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interest(u64);

impl std::ops::BitOr for Interest {
    type Output = Interest;
    fn bitor(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }
}

/// Number of event classes (bits of an [`Interest`] in use).
pub const CLASSES: usize = 37;

const OPENED: u32 = 32;
const MALFORMED: u32 = 33;
const GAP: u32 = 34;
const CLOSED: u32 = 35;
const UPGRADE: u32 = 36;

impl Interest {
    /// Every event (the default for a rule that declares nothing).
    pub const ALL: Interest = Interest((1 << CLASSES) - 1);

    /// Unframeable bytes (either direction).
    pub const MALFORMED: Interest = Interest(1 << MALFORMED);

    /// The end of the connection.
    pub const CLOSED: Interest = Interest(1 << CLOSED);

    /// The WebSocket upgrade (either direction).
    pub const UPGRADE: Interest = Interest(1 << UPGRADE);

    /// Packets of `types` travelling in `dir`.
    pub fn packets(dir: Direction, types: &[PacketType]) -> Interest {
        Interest(types.iter().fold(0, |m, t| m | 1 << packet_class(dir, *t)))
    }

    /// Packets of any type travelling in `dir`.
    pub fn all_packets(dir: Direction) -> Interest {
        Interest(0xffff << packet_class(dir, PacketType::Reserved))
    }

    /// Whether events of `class` (from [`class_of`]) are wanted.
    #[cfg(test)]
    pub fn wants(self, class: usize) -> bool {
        self.0 >> class & 1 == 1
    }

    /// The classes wanted, in increasing order.
    pub fn classes(self) -> impl Iterator<Item = usize> {
        set_bits(self.0)
    }
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
        assert_eq!(Interest(seen), Interest::ALL);
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
        let both = to_server | Interest::CLOSED;
        assert!(both.wants(CLOSED as usize));
        assert!(both.wants(packet_class(Direction::ToServer, PacketType::Pingreq) as usize));
        assert!(!both.wants(OPENED as usize));
    }
}
