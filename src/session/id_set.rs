//! A set of packet identifiers that may grow to all 65,535 of them (ids a
//! peer used once and has not reused yet): a two-level bitmap whose 1,024-id
//! blocks are allocated on first use, so a few ids cost a few hundred bytes,
//! every id costs 8.5 KB, and each operation is constant time.

/// Ids per block: 16 words of 64 bits.
const BLOCK_IDS: usize = 1024;
const WORDS: usize = BLOCK_IDS / 64;
const BLOCKS: usize = 65536 / BLOCK_IDS;

type Block = [u64; WORDS];

/// A set of packet identifiers.
#[derive(Default)]
pub struct IdSet {
    /// `BLOCKS` slots once anything was inserted.
    blocks: Vec<Option<Box<Block>>>,
    len: usize,
}

/// Block, word and bit of `id`.
fn place(id: u16) -> (usize, usize, u64) {
    let id = usize::from(id);
    (id / BLOCK_IDS, (id % BLOCK_IDS) / 64, 1 << (id % 64))
}

impl IdSet {
    /// An empty set.
    pub fn new() -> IdSet {
        IdSet::default()
    }

    pub fn contains(&self, id: u16) -> bool {
        let (b, w, bit) = place(id);
        match self.blocks.get(b) {
            Some(Some(block)) => block[w] & bit != 0,
            _ => false,
        }
    }

    /// Add `id`; whether it was new.
    pub fn insert(&mut self, id: u16) -> bool {
        let (b, w, bit) = place(id);
        if self.blocks.is_empty() {
            self.blocks.resize_with(BLOCKS, || None);
        }
        let Some(slot) = self.blocks.get_mut(b) else {
            // `place` yields b < BLOCKS and the vector has BLOCKS slots.
            return false;
        };
        let block = slot.get_or_insert_with(|| Box::new([0; WORDS]));
        let new = block[w] & bit == 0;
        block[w] |= bit;
        self.len += usize::from(new);
        new
    }

    /// Remove `id`; whether it was there.
    pub fn remove(&mut self, id: u16) -> bool {
        let (b, w, bit) = place(id);
        let Some(Some(block)) = self.blocks.get_mut(b) else {
            return false;
        };
        let had = block[w] & bit != 0;
        block[w] &= !bit;
        self.len -= usize::from(had);
        had
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    proptest! {
        /// Any sequence of inserts and removals leaves the set and a
        /// `BTreeSet` agreeing on every answer.
        #[test]
        fn behaves_like_a_btree_set(ops in prop::collection::vec((any::<bool>(), any::<u16>()), 0..400)) {
            let mut ours = IdSet::new();
            let mut model = BTreeSet::new();
            for (add, id) in ops {
                if add {
                    prop_assert_eq!(ours.insert(id), model.insert(id));
                } else {
                    prop_assert_eq!(ours.remove(id), model.remove(&id));
                }
                prop_assert_eq!(ours.len(), model.len());
                prop_assert_eq!(ours.contains(id), model.contains(&id));
                prop_assert_eq!(ours.contains(id ^ 1), model.contains(&(id ^ 1)));
            }
        }
    }

    #[test]
    fn holds_every_id_including_the_extremes() {
        let mut s = IdSet::new();
        assert!(!s.contains(0) && !s.remove(65535));
        for id in 0..=u16::MAX {
            assert!(s.insert(id));
        }
        assert_eq!(s.len(), 65536);
        assert!(!s.insert(65535));
        assert!(s.contains(0) && s.contains(1023) && s.contains(1024) && s.contains(65535));
        assert!(s.remove(1024));
        assert!(!s.contains(1024) && s.contains(1023) && s.contains(1025));
        assert_eq!(s.len(), 65535);
    }
}
