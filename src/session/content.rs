//! The identity of a message's content (topic and payload) as one 64-bit
//! hash: what a session keeps of a PUBLISH in flight, instead of its bytes.
//!
//! A session compares in-flight messages only with later PUBLISHes under
//! the same or another packet id (is this a re-send?), so equal hashes
//! stand for equal content; two different messages collide with a chance
//! of about 2^-64. Keeping the bytes instead would either copy every QoS 1
//! and 2 payload or hold on to the buffer it was read from until the
//! acknowledgement, which may never come.
//!
//! XXH3 hashes the payload, seeded with the topic's hash: this runs for
//! every QoS 1 and 2 PUBLISH.

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// The content hash of a message.
pub fn content_hash(topic: &[u8], payload: &[u8]) -> u64 {
    xxh3_64_with_seed(payload, xxh3_64(topic))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn equal_content_hashes_alike() {
        let payload: Vec<u8> = (0..=255).cycle().take(1000).collect();
        let copy = payload.clone();
        for len in [0, 1, 7, 8, 31, 32, 33, 100, 1000] {
            assert_eq!(
                content_hash(b"a/b", &payload[..len]),
                content_hash(b"a/b", &copy[..len])
            );
        }
    }

    /// Every one-byte change, and every split of the same bytes between
    /// topic and payload, gives another hash.
    #[test]
    fn different_content_hashes_apart() {
        let base: Vec<u8> = (0..100u8).collect();
        let mut seen = HashSet::new();
        assert!(seen.insert(content_hash(b"t", &base)));
        for i in 0..base.len() {
            for bit in 0..8 {
                let mut p = base.clone();
                p[i] ^= 1 << bit;
                assert!(seen.insert(content_hash(b"t", &p)), "byte {i} bit {bit}");
            }
        }
        for len in 0..base.len() {
            assert!(
                seen.insert(content_hash(b"t", &base[..len])),
                "length {len}"
            );
        }
        let joined = b"sensors/1/temperature=21.5";
        for cut in 0..joined.len() {
            let (topic, payload) = joined.split_at(cut);
            assert!(seen.insert(content_hash(topic, payload)), "cut {cut}");
        }
    }
}
