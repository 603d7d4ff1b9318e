//! A set of packet identifiers that may grow to all 65,536 of them (ids a
//! peer used once and has not reused yet): a bitmap in blocks of 1,024 ids,
//! a block allocated when an id in it is first inserted. Ids in use cluster
//! (they are mostly handed out in turn), so a connection's set is usually
//! one or two blocks of 128 bytes, and never more than 64.

/// Ids per block: 16 words of 64 bits.
const BLOCK_IDS: usize = 1024;
const WORDS: usize = BLOCK_IDS / 64;

/// A set of packet identifiers.
#[derive(Default)]
pub struct IdSet {
    /// Blocks in order of their number (id / `BLOCK_IDS`).
    blocks: Vec<(u8, [u64; WORDS])>,
    len: usize,
}

/// Block number, word and bit of `id`.
fn place(id: u16) -> (u8, usize, u64) {
    let id = usize::from(id);
    // id / 1024 < 64 for every u16, so the cast cannot truncate.
    (
        (id / BLOCK_IDS) as u8,
        (id % BLOCK_IDS) / 64,
        1 << (id % 64),
    )
}

impl IdSet {
    /// An empty set.
    pub fn new() -> IdSet {
        IdSet::default()
    }

    /// Where block `number` is in `blocks`, or where it would go.
    #[inline]
    fn find(&self, number: u8) -> Result<usize, usize> {
        self.blocks.binary_search_by_key(&number, |(n, _)| *n)
    }

    #[inline]
    pub fn contains(&self, id: u16) -> bool {
        let (b, w, bit) = place(id);
        self.find(b).is_ok_and(|i| self.blocks[i].1[w] & bit != 0)
    }

    /// Add `id`; whether it was new.
    pub fn insert(&mut self, id: u16) -> bool {
        let (b, w, bit) = place(id);
        let i = self.find(b).unwrap_or_else(|i| {
            self.blocks.insert(i, (b, [0; WORDS]));
            i
        });
        let word = &mut self.blocks[i].1[w];
        let new = *word & bit == 0;
        *word |= bit;
        self.len += usize::from(new);
        new
    }

    /// Remove `id`; whether it was there.
    pub fn remove(&mut self, id: u16) -> bool {
        let (b, w, bit) = place(id);
        let Ok(i) = self.find(b) else {
            return false;
        };
        let word = &mut self.blocks[i].1[w];
        let had = *word & bit != 0;
        *word &= !bit;
        self.len -= usize::from(had);
        had
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
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
