//! TCP reassembly properties: any permutation/duplication of a segmented
//! stream reassembles to the original bytes; one missing range is one gap;
//! arbitrary segments keep the sink contract.
#![allow(clippy::unwrap_used)]

mod capture_support;

use std::net::SocketAddr;

use capture_support::tcp::*;
use capture_support::Call;
use mqttspec::capture::tcp::Reassembler;
use mqttspec::capture::{Endpoint, TcpFlags};
use proptest::prelude::*;

proptest! {
    /// Any permutation and duplication (re-segmented) of a stream reassembles
    /// to the original bytes without gaps.
    #[test]
    fn permutations_reassemble(
        data in prop::collection::vec(any::<u8>(), 1..400),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        dups in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 0..8),
        order in any::<prop::sample::Index>(),
        isn in any::<u32>(),
    ) {
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(data.len())).collect();
        points.push(0);
        points.push(data.len());
        points.sort_unstable();
        points.dedup();
        let mut ranges: Vec<(usize, usize)> = points.windows(2).map(|w| (w[0], w[1])).collect();
        for (x, y) in dups {
            let (s, e) = (x.index(data.len()), y.index(data.len() + 1));
            if s < e {
                ranges.push((s, e));
            }
        }
        // A deterministic shuffle from `order`.
        let mut shuffled = Vec::new();
        let mut seed = order.index(usize::MAX);
        while !ranges.is_empty() {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.push(ranges.swap_remove((seed >> 33) % ranges.len()));
        }
        let mut run = Run::new();
        run.feed(seg(client(), server(), isn, 0, SYN, b""));
        for (s, e) in shuffled {
            let seq = isn.wrapping_add(1).wrapping_add(s as u32);
            run.feed(seg(client(), server(), seq, 0, PLAIN, &data[s..e]));
        }
        run.finish();
        prop_assert_eq!(run.sink.stream(0, Endpoint::A), data);
        prop_assert!(run.sink.gaps(0, Endpoint::A).is_empty());
    }

    /// A dropped range gives exactly one gap of its length; the rest arrives.
    #[test]
    fn one_missing_range_is_one_gap(
        data in prop::collection::vec(any::<u8>(), 3..300),
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
        isn in any::<u32>(),
    ) {
        let (x, y) = (a.index(data.len() - 1) + 1, b.index(data.len() - 1) + 1);
        let (hole_s, hole_e) = (x.min(y), x.max(y).max(x.min(y) + 1).min(data.len()));
        prop_assume!(hole_s < hole_e && hole_e < data.len());
        let mut run = Run::new();
        run.feed(seg(client(), server(), isn, 0, SYN, b""));
        let s1 = isn.wrapping_add(1);
        run.feed(seg(client(), server(), s1.wrapping_add(hole_e as u32), 0, PLAIN, &data[hole_e..]));
        run.feed(seg(client(), server(), s1, 0, PLAIN, &data[..hole_s]));
        run.finish();
        prop_assert_eq!(run.sink.gaps(0, Endpoint::A), vec![(hole_e - hole_s) as u64]);
        let mut expected = data[..hole_s].to_vec();
        expected.extend_from_slice(&data[hole_e..]);
        prop_assert_eq!(run.sink.stream(0, Endpoint::A), expected);
    }
}

fn flags() -> impl Strategy<Value = TcpFlags> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::bool::weighted(0.05),
    )
        .prop_map(|(syn, ack, fin, rst)| TcpFlags { syn, ack, fin, rst })
}

proptest! {
    /// Arbitrary segments between a few endpoints: no panic, every flow is
    /// opened once before its data and closed at most once, ids in order.
    #[test]
    fn arbitrary_segments_keep_the_sink_contract(
        segs in prop::collection::vec(
            (0usize..3, 0usize..3, 0u32..64, any::<u32>(), flags(),
             prop::collection::vec(any::<u8>(), 0..16), prop::bool::weighted(0.1)),
            1..60),
        base in any::<u32>(),
        cap in 1u64..64,
    ) {
        let ends: [SocketAddr; 3] = [client(), server(), "10.0.0.3:1883".parse().unwrap()];
        let mut run = Run::new();
        run.r = Reassembler::new(&[1883]).with_pending_cap(cap);
        for (x, y, off, ack, f, payload, cut) in &segs {
            if x == y {
                continue;
            }
            let mut s = seg(ends[*x], ends[*y], base.wrapping_add(off * 7), *ack, *f, payload);
            if *cut {
                s.missing = 1 + off * 3;
            }
            run.feed(s);
        }
        run.finish();
        let mut opened = Vec::new();
        let mut closed = Vec::new();
        for c in &run.sink.calls {
            match c {
                Call::Opened { flow, .. } => {
                    prop_assert_eq!(*flow as usize, opened.len());
                    opened.push(*flow);
                }
                Call::Data { flow, .. } | Call::Gap { flow, .. } => {
                    prop_assert!(opened.contains(flow));
                }
                Call::Closed { flow, .. } => {
                    prop_assert!(opened.contains(flow));
                    prop_assert!(!closed.contains(flow), "closed twice");
                    closed.push(*flow);
                }
            }
        }
        prop_assert_eq!(closed.len(), opened.len(), "every flow closed by the end");
        prop_assert_eq!(run.r.open_flows(), 0);
    }
}
