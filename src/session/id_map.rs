//! A map keyed by packet identifier, for the few identifiers a connection
//! has in use at a time: a sorted vector while small (no allocation per
//! insert or removal once it has grown), a B-tree beyond that, so that a
//! connection with very many identifiers in use stays cheap. It iterates in
//! identifier order either way. Its operations are small and asked per
//! packet by the session and several rules: they are inline.

use std::collections::BTreeMap;
use std::fmt;

/// Entries kept in the sorted vector before moving to a B-tree.
const SMALL: usize = 32;

/// Packet identifier → `V`, in identifier order.
#[derive(Clone)]
pub struct IdMap<V>(Repr<V>);

#[derive(Clone)]
enum Repr<V> {
    Small(Vec<(u16, V)>),
    Large(BTreeMap<u16, V>),
}

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        IdMap(Repr::Small(Vec::new()))
    }
}

impl<V> IdMap<V> {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    #[inline]
    pub fn get(&self, id: &u16) -> Option<&V> {
        match &self.0 {
            Repr::Small(v) => v
                .binary_search_by_key(id, |(k, _)| *k)
                .ok()
                .map(|i| &v[i].1),
            Repr::Large(m) => m.get(id),
        }
    }

    #[inline]
    pub fn get_mut(&mut self, id: &u16) -> Option<&mut V> {
        match &mut self.0 {
            Repr::Small(v) => match v.binary_search_by_key(id, |(k, _)| *k) {
                Ok(i) => Some(&mut v[i].1),
                Err(_) => None,
            },
            Repr::Large(m) => m.get_mut(id),
        }
    }

    #[inline]
    pub fn contains_key(&self, id: &u16) -> bool {
        self.get(id).is_some()
    }

    /// Move to a B-tree before a new identifier would overfill the vector.
    #[inline]
    fn make_room(&mut self, id: u16) {
        if let Repr::Small(v) = &mut self.0 {
            if v.len() >= SMALL && v.binary_search_by_key(&id, |(k, _)| *k).is_err() {
                self.0 = Repr::Large(std::mem::take(v).into_iter().collect());
            }
        }
    }

    /// Set `id` to `value`; the previous value, if any.
    #[inline]
    pub fn insert(&mut self, id: u16, value: V) -> Option<V> {
        self.make_room(id);
        match &mut self.0 {
            Repr::Small(v) => match v.binary_search_by_key(&id, |(k, _)| *k) {
                Ok(i) => Some(std::mem::replace(&mut v[i].1, value)),
                Err(i) => {
                    v.insert(i, (id, value));
                    None
                }
            },
            Repr::Large(m) => m.insert(id, value),
        }
    }

    /// The value of `id`, inserting `make()` first if there is none.
    #[inline]
    pub fn get_or_insert_with(&mut self, id: u16, make: impl FnOnce() -> V) -> &mut V {
        self.make_room(id);
        match &mut self.0 {
            Repr::Small(v) => {
                let i = match v.binary_search_by_key(&id, |(k, _)| *k) {
                    Ok(i) => i,
                    Err(i) => {
                        v.insert(i, (id, make()));
                        i
                    }
                };
                &mut v[i].1
            }
            Repr::Large(m) => m.entry(id).or_insert_with(make),
        }
    }

    /// Remove `id`; its value, if it was there.
    #[inline]
    pub fn remove(&mut self, id: &u16) -> Option<V> {
        match &mut self.0 {
            // Often asked of an empty map (a flow's spare acknowledgements).
            Repr::Small(v) if v.is_empty() => None,
            Repr::Small(v) => v
                .binary_search_by_key(id, |(k, _)| *k)
                .ok()
                .map(|i| v.remove(i).1),
            Repr::Large(m) => {
                let out = m.remove(id);
                if m.is_empty() {
                    self.0 = Repr::Small(Vec::new());
                }
                out
            }
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Small(v) => v.len(),
            Repr::Large(m) => m.len(),
        }
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries in identifier order.
    pub fn iter(&self) -> impl Iterator<Item = (&u16, &V)> {
        let (small, large) = match &self.0 {
            Repr::Small(v) => (Some(v), None),
            Repr::Large(m) => (None, Some(m)),
        };
        small
            .into_iter()
            .flat_map(|v| v.iter().map(|(k, x)| (k, x)))
            .chain(large.into_iter().flatten())
    }

    /// Identifiers in order.
    pub fn keys(&self) -> impl Iterator<Item = &u16> {
        self.iter().map(|(k, _)| k)
    }

    /// Values in identifier order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.iter().map(|(_, v)| v)
    }
}

/// For tests, which index by ids they know are there.
#[cfg(test)]
impl<V> std::ops::Index<&u16> for IdMap<V> {
    type Output = V;
    /// Panics when `id` is absent, like a `BTreeMap`.
    fn index(&self, id: &u16) -> &V {
        match self.get(id) {
            Some(v) => v,
            None => panic!("packet id {id} not in the map"),
        }
    }
}

impl<V: fmt::Debug> fmt::Debug for IdMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The map behaves like a `BTreeMap` through the move to a B-tree and back.
    #[test]
    fn behaves_like_a_btree_map_small_and_large() {
        let mut ours = IdMap::new();
        let mut model = BTreeMap::new();
        // A fixed pseudo-random walk over a few hundred identifiers.
        let mut x: u32 = 12345;
        for step in 0..5000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let id = ((x >> 16) % 300) as u16;
            // Phases that grow past SMALL and shrink back to empty.
            let growing = (step / 500) % 2 == 0;
            if growing || x % 7 == 0 {
                assert_eq!(ours.insert(id, step), model.insert(id, step));
            } else {
                assert_eq!(ours.remove(&id), model.remove(&id));
            }
            if step % 3 == 0 {
                *ours.get_or_insert_with(id, || 0) += 1;
                *model.entry(id).or_insert(0) += 1;
            }
            assert_eq!(ours.len(), model.len());
            assert_eq!(ours.get(&id), model.get(&id));
            assert_eq!(ours.contains_key(&(id + 1)), model.contains_key(&(id + 1)));
            if step % 50 == 0 {
                let a: Vec<_> = ours.iter().collect();
                let b: Vec<_> = model.iter().collect();
                assert_eq!(a, b);
            }
        }
        for id in model.keys().copied().collect::<Vec<_>>() {
            assert_eq!(ours.remove(&id), model.remove(&id));
        }
        assert!(ours.is_empty());
        assert!(matches!(ours.0, Repr::Small(_)));
    }

    #[test]
    fn indexes_and_prints_like_a_map() {
        let mut m = IdMap::new();
        m.insert(9, "b");
        m.insert(2, "a");
        assert_eq!(m[&2], "a");
        assert_eq!(format!("{m:?}"), r#"{2: "a", 9: "b"}"#);
        assert_eq!(m.keys().copied().collect::<Vec<_>>(), [2, 9]);
        assert_eq!(m.values().copied().collect::<Vec<_>>(), ["a", "b"]);
    }
}
