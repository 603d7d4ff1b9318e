//! TCP reassembly scenarios: order, retransmissions and overlaps (first copy
//! kept), sequence wrap-around, gaps (end of capture, ACK of unseen bytes,
//! pending cap, snaplen), orientation with and without SYN, FIN/RST
//! attribution, port reuse.
#![allow(clippy::unwrap_used)]

mod capture_support;

use std::net::SocketAddr;

use capture_support::tcp::*;
use capture_support::{at, Call};
use mqttspec::capture::tcp::Reassembler;
use mqttspec::capture::{Endpoint, Segment};

#[test]
fn in_order_both_directions_and_fin() {
    let mut run = Run::new();
    handshake(&mut run, ISN_C, ISN_S);
    run.feed(seg(
        client(),
        server(),
        ISN_C + 1,
        ISN_S + 1,
        ACK,
        b"hello ",
    ))
    .feed(seg(client(), server(), ISN_C + 7, ISN_S + 1, ACK, b"world"))
    .feed(seg(server(), client(), ISN_S + 1, ISN_C + 12, ACK, b"ok"))
    .feed(seg(client(), server(), ISN_C + 12, ISN_S + 3, FIN, b""))
    .feed(seg(server(), client(), ISN_S + 3, ISN_C + 13, FIN, b""))
    .feed(seg(client(), server(), ISN_C + 13, ISN_S + 4, ACK, b""));
    let s = &run.sink;
    assert_eq!(s.stream(0, Endpoint::A), b"hello world");
    assert_eq!(s.stream(0, Endpoint::B), b"ok");
    assert_eq!(
        s.events(),
        [
            Call::Opened {
                flow: 0,
                a: client(),
                b: server(),
                syn: true
            },
            Call::Closed {
                flow: 0,
                by: Some(Endpoint::A)
            },
        ]
    );
    assert_eq!(run.r.open_flows(), 0);
    run.finish();
    assert_eq!(run.sink.events().len(), 2, "nothing more at finish");
}

#[test]
fn reversed_order() {
    let mut run = Run::new();
    handshake(&mut run, ISN_C, ISN_S);
    let data = b"abcdefghijkl";
    for i in (0..4).rev() {
        let part = &data[i * 3..i * 3 + 3];
        run.feed(seg(
            client(),
            server(),
            ISN_C + 1 + 3 * i as u32,
            ISN_S + 1,
            ACK,
            part,
        ));
    }
    run.finish();
    assert_eq!(run.sink.stream(0, Endpoint::A), data);
    assert!(run.sink.gaps(0, Endpoint::A).is_empty());
    // All of it arrives with the segment that filled the hole (the 4th).
    assert!(run
        .sink
        .calls
        .iter()
        .any(|c| matches!(c, Call::Data { .. })));
}

#[test]
fn overlaps_keep_the_first_copy() {
    let mut run = Run::new();
    handshake(&mut run, ISN_C, ISN_S);
    // Buffered first: bytes 5..10 = "XXXXX".
    run.feed(seg(client(), server(), ISN_C + 6, ISN_S + 1, ACK, b"XXXXX"));
    // Covers 0..12 with other bytes: only 0..5 and 10..12 are new.
    run.feed(seg(
        client(),
        server(),
        ISN_C + 1,
        ISN_S + 1,
        ACK,
        b"abcdefghijkl",
    ));
    // Delivered already: 3..8 is ignored, 12..14 is new.
    run.feed(seg(
        client(),
        server(),
        ISN_C + 4,
        ISN_S + 1,
        ACK,
        b"ZZZZZZZZZZZ",
    ));
    run.finish();
    assert_eq!(run.sink.stream(0, Endpoint::A), b"abcdeXXXXXklZZ");
    assert!(run.sink.gaps(0, Endpoint::A).is_empty());
}

#[test]
fn wrap_around_2_pow_32() {
    let isn = u32::MAX - 3;
    let mut run = Run::new();
    handshake(&mut run, isn, ISN_S);
    let s1 = isn.wrapping_add(1);
    // Second half first, across the wrap.
    run.feed(seg(
        client(),
        server(),
        s1.wrapping_add(5),
        ISN_S + 1,
        ACK,
        b"FGHIJ",
    ));
    run.feed(seg(client(), server(), s1, ISN_S + 1, ACK, b"ABCDE"));
    run.feed(seg(
        client(),
        server(),
        s1.wrapping_add(10),
        ISN_S + 1,
        ACK,
        b"KL",
    ));
    run.finish();
    assert_eq!(run.sink.stream(0, Endpoint::A), b"ABCDEFGHIJKL");
    assert!(run.sink.gaps(0, Endpoint::A).is_empty());
}

#[test]
fn long_stream_over_several_wraps() {
    let mut run = Run::new();
    handshake(&mut run, u32::MAX - 100, ISN_S);
    let chunk = vec![0xab; 60_000];
    let mut seq = (u32::MAX - 100).wrapping_add(1);
    let mut total = 0u64;
    // 10^5 segments of 60 kB = 6 GB of sequence space (more than one wrap).
    for _ in 0..100_000 {
        run.r.segment(
            &seg(client(), server(), seq, ISN_S + 1, ACK, &chunk),
            at(9),
            &mut Discard,
        );
        seq = seq.wrapping_add(chunk.len() as u32);
        total += chunk.len() as u64;
    }
    run.feed(seg(client(), server(), seq, ISN_S + 1, ACK, b"end"));
    run.finish();
    assert!(run.sink.gaps(0, Endpoint::A).is_empty());
    assert_eq!(run.sink.stream(0, Endpoint::A), b"end");
    assert!(total > 1 << 32);
}

/// Only counts; for the long stream.
struct Discard;

impl mqttspec::capture::StreamSink for Discard {
    fn opened(&mut self, _: u32, _: SocketAddr, _: SocketAddr, _: bool, _: mqttspec::capture::At) {}
    fn data(&mut self, _: u32, _: Endpoint, _: &[u8], _: mqttspec::capture::At) {}
    fn gap(&mut self, _: u32, _: Endpoint, len: u64, _: mqttspec::capture::At) {
        panic!("gap of {len}");
    }
    fn closed(&mut self, _: u32, _: Option<Endpoint>, _: mqttspec::capture::At) {}
}

#[test]
fn missing_segment_is_one_gap_at_finish() {
    let mut run = Run::new();
    handshake(&mut run, ISN_C, ISN_S);
    run.feed(seg(client(), server(), ISN_C + 1, ISN_S + 1, ACK, b"aaaa"));
    // 4..10 never captured.
    run.feed(seg(client(), server(), ISN_C + 11, ISN_S + 1, ACK, b"cccc"));
    run.feed(seg(client(), server(), ISN_C + 15, ISN_S + 1, ACK, b"dd"));
    assert_eq!(run.sink.stream(0, Endpoint::A), b"aaaa");
    run.finish();
    assert_eq!(run.sink.gaps(0, Endpoint::A), [6]);
    assert_eq!(run.sink.stream(0, Endpoint::A), b"aaaaccccdd");
    let tail: Vec<Call> = run.sink.calls[run.sink.calls.len() - 4..].to_vec();
    assert_eq!(
        tail[0],
        Call::Gap {
            flow: 0,
            from: Endpoint::A,
            len: 6,
            snapped: false
        }
    );
    assert_eq!(tail[3], Call::Closed { flow: 0, by: None });
}

#[test]
fn ack_of_unseen_bytes_is_a_gap() {
    let mut run = Run::new();
    handshake(&mut run, ISN_C, ISN_S);
    run.feed(seg(client(), server(), ISN_C + 1, ISN_S + 1, ACK, b"aaaa"));
    run.feed(seg(client(), server(), ISN_C + 11, ISN_S + 1, ACK, b"cc"));
    // The server acknowledged 20 bytes; 4..10 and 12..20 were never seen.
    run.feed(seg(server(), client(), ISN_S + 1, ISN_C + 21, ACK, b""));
    assert_eq!(run.sink.gaps(0, Endpoint::A), [6, 8]);
    assert_eq!(run.sink.stream(0, Endpoint::A), b"aaaacc");
    // Later bytes continue after the gap.
    run.feed(seg(client(), server(), ISN_C + 21, ISN_S + 1, ACK, b"zz"));
    assert_eq!(run.sink.stream(0, Endpoint::A), b"aaaacczz");
}

#[test]
fn pending_cap_declares_the_hole() {
    let mut run = Run::new();
    run.r = Reassembler::new(&[1883]).with_pending_cap(10);
    handshake(&mut run, ISN_C, ISN_S);
    run.feed(seg(
        client(),
        server(),
        ISN_C + 3,
        ISN_S + 1,
        ACK,
        b"xxxxxx",
    ));
    assert!(run.sink.gaps(0, Endpoint::A).is_empty());
    run.feed(seg(
        client(),
        server(),
        ISN_C + 9,
        ISN_S + 1,
        ACK,
        b"yyyyyy",
    ));
    assert_eq!(run.sink.gaps(0, Endpoint::A), [2]);
    assert_eq!(run.sink.stream(0, Endpoint::A), b"xxxxxxyyyyyy");
}

/// The client's first 100 bytes, cut to 4 by the snapshot length.
fn cut_head() -> Segment<'static> {
    let mut s = seg(client(), server(), ISN_C + 1, ISN_S + 1, ACK, b"head");
    s.missing = 96;
    s
}

/// The client's bytes after those 100.
fn after_cut() -> Segment<'static> {
    seg(client(), server(), ISN_C + 101, ISN_S + 1, ACK, b"next")
}

#[test]
fn snaplen_truncation_is_data_then_gap() {
    let mut run = Run::new();
    handshake(&mut run, ISN_C, ISN_S);
    run.feed(cut_head()).feed(after_cut());
    assert_eq!(run.sink.stream(0, Endpoint::A), b"headnext");
    assert_eq!(run.sink.gaps(0, Endpoint::A), [96]);
    assert_eq!(run.sink.snapped(0, Endpoint::A), [96]);
}

#[test]
fn snaplen_truncation_out_of_order_is_snapped_too() {
    let mut run = Run::new();
    handshake(&mut run, ISN_C, ISN_S);
    run.feed(after_cut()).feed(cut_head());
    assert_eq!(run.sink.stream(0, Endpoint::A), b"headnext");
    assert_eq!(run.sink.snapped(0, Endpoint::A), [96]);
}

#[test]
fn a_segment_never_captured_is_not_snapped() {
    let mut run = Run::new();
    handshake(&mut run, ISN_C, ISN_S);
    run.feed(seg(client(), server(), ISN_C + 1, ISN_S + 1, ACK, b"aaaa"));
    run.feed(seg(client(), server(), ISN_C + 11, ISN_S + 1, ACK, b"cc"));
    run.finish();
    assert_eq!(run.sink.gaps(0, Endpoint::A), [6]);
    assert!(run.sink.snapped(0, Endpoint::A).is_empty());
}

#[test]
fn mid_stream_orientation_by_server_port() {
    let mut run = Run::new();
    run.feed(seg(server(), client(), 9000, 100, ACK, b"from server"));
    run.feed(seg(client(), server(), 100, 9011, ACK, b"from client"));
    run.finish();
    assert_eq!(
        run.sink.calls[0],
        Call::Opened {
            flow: 0,
            a: client(),
            b: server(),
            syn: false
        }
    );
    assert_eq!(run.sink.stream(0, Endpoint::B), b"from server");
    assert_eq!(run.sink.stream(0, Endpoint::A), b"from client");
    assert_eq!(
        run.sink.events().last(),
        Some(&Call::Closed { flow: 0, by: None })
    );
}

#[test]
fn mid_stream_orientation_by_higher_port() {
    let low: SocketAddr = "10.0.0.3:4000".parse().unwrap();
    let high: SocketAddr = "10.0.0.4:40000".parse().unwrap();
    let mut run = Run::new();
    run.feed(seg(low, high, 1, 1, ACK, b"x"));
    assert_eq!(
        run.sink.calls[0],
        Call::Opened {
            flow: 0,
            a: high,
            b: low,
            syn: false
        }
    );
}

#[test]
fn syn_ack_first_makes_its_sender_b() {
    let mut run = Run::new();
    run.feed(seg(server(), client(), ISN_S, ISN_C + 1, SYN_ACK, b""));
    run.feed(seg(client(), server(), ISN_C + 1, ISN_S + 1, ACK, b"hi"));
    assert_eq!(
        run.sink.calls[0],
        Call::Opened {
            flow: 0,
            a: client(),
            b: server(),
            syn: true
        }
    );
    assert_eq!(run.sink.stream(0, Endpoint::A), b"hi");
}

#[test]
fn fin_by_server_and_data_after_it() {
    let mut run = Run::new();
    handshake(&mut run, ISN_C, ISN_S);
    run.feed(seg(server(), client(), ISN_S + 1, ISN_C + 1, FIN, b"bye"));
    run.feed(seg(client(), server(), ISN_C + 1, ISN_S + 5, ACK, b"late"));
    assert_eq!(
        run.sink.events()[1],
        Call::Closed {
            flow: 0,
            by: Some(Endpoint::B)
        }
    );
    assert_eq!(run.sink.stream(0, Endpoint::A), b"late");
    run.finish();
    assert_eq!(run.sink.events().len(), 2, "closed only once");
}

#[test]
fn fin_before_last_data_waits_for_it() {
    let mut run = Run::new();
    handshake(&mut run, ISN_C, ISN_S);
    run.feed(seg(client(), server(), ISN_C + 4, ISN_S + 1, FIN, b"def"));
    assert_eq!(run.sink.events().len(), 1, "not closed before the data");
    run.feed(seg(client(), server(), ISN_C + 1, ISN_S + 1, ACK, b"abc"));
    assert_eq!(run.sink.stream(0, Endpoint::A), b"abcdef");
    assert_eq!(
        run.sink.events()[1],
        Call::Closed {
            flow: 0,
            by: Some(Endpoint::A)
        }
    );
}

#[test]
fn rst_flushes_and_closes() {
    let mut run = Run::new();
    handshake(&mut run, ISN_C, ISN_S);
    run.feed(seg(client(), server(), ISN_C + 5, ISN_S + 1, ACK, b"tail"));
    run.feed(seg(server(), client(), ISN_S + 1, 0, RST, b""));
    assert_eq!(run.sink.gaps(0, Endpoint::A), [4]);
    assert_eq!(
        run.sink.events().last(),
        Some(&Call::Closed {
            flow: 0,
            by: Some(Endpoint::B)
        })
    );
    assert_eq!(run.r.open_flows(), 0);
    // A late retransmission does not revive the flow.
    run.feed(seg(client(), server(), ISN_C + 5, ISN_S + 1, ACK, b"tail"));
    run.finish();
    assert_eq!(run.sink.events().len(), 3);
}

#[test]
fn syn_on_a_closed_port_pair_is_a_new_flow() {
    let mut run = Run::new();
    handshake(&mut run, ISN_C, ISN_S);
    run.feed(seg(client(), server(), ISN_C + 1, ISN_S + 1, RST, b""));
    handshake(&mut run, 777_777, 888_888);
    run.feed(seg(client(), server(), 777_778, 888_889, ACK, b"again"));
    run.finish();
    let opened: Vec<u32> = run
        .sink
        .events()
        .iter()
        .filter_map(|c| {
            if let Call::Opened { flow, .. } = c {
                Some(*flow)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(opened, [0, 1]);
    assert_eq!(run.sink.stream(1, Endpoint::A), b"again");
}

#[test]
fn syn_with_new_isn_on_an_open_flow_is_a_new_flow() {
    let mut run = Run::new();
    handshake(&mut run, ISN_C, ISN_S);
    run.feed(seg(client(), server(), ISN_C + 1, ISN_S + 1, ACK, b"one"));
    // Retransmitted SYN: same flow.
    run.feed(seg(client(), server(), ISN_C, 0, SYN, b""));
    assert_eq!(run.sink.events().len(), 1);
    handshake(&mut run, 42, 4242);
    run.feed(seg(client(), server(), 43, 4243, ACK, b"two"));
    assert_eq!(
        run.sink.events(),
        [
            Call::Opened {
                flow: 0,
                a: client(),
                b: server(),
                syn: true
            },
            Call::Closed { flow: 0, by: None },
            Call::Opened {
                flow: 1,
                a: client(),
                b: server(),
                syn: true
            },
        ]
    );
    assert_eq!(run.sink.stream(1, Endpoint::A), b"two");
}

#[test]
fn opened_comes_before_data_and_ids_follow_appearance() {
    let other: SocketAddr = "10.0.0.9:51000".parse().unwrap();
    let mut run = Run::new();
    run.feed(seg(client(), server(), 1, 1, PLAIN, b"a"));
    run.feed(seg(other, server(), 1, 1, PLAIN, b"b"));
    run.feed(seg(client(), server(), 2, 1, PLAIN, b"c"));
    assert!(matches!(run.sink.calls[0], Call::Opened { flow: 0, .. }));
    assert!(matches!(run.sink.calls[1], Call::Data { flow: 0, .. }));
    assert!(matches!(run.sink.calls[2], Call::Opened { flow: 1, .. }));
    assert_eq!(run.sink.stream(0, Endpoint::A), b"ac");
}

#[test]
fn mid_stream_keepalive_does_not_fix_the_start() {
    let mut run = Run::new();
    // Idle connection: keep-alive probe (seq = next - 1, no data), its ACK.
    run.feed(seg(client(), server(), 699, 300, ACK, b""));
    run.feed(seg(server(), client(), 300, 700, ACK, b""));
    run.feed(seg(client(), server(), 700, 300, ACK, b"data"));
    run.feed(seg(server(), client(), 300, 704, ACK, b""));
    run.finish();
    assert!(run.sink.gaps(0, Endpoint::A).is_empty());
    assert_eq!(run.sink.stream(0, Endpoint::A), b"data");
}

#[test]
fn default_reassembler_buffers_out_of_order_bytes() {
    let mut run = Run::new();
    run.r = Reassembler::default();
    handshake(&mut run, ISN_C, ISN_S);
    run.feed(seg(client(), server(), ISN_C + 3, ISN_S + 1, ACK, b"cd"));
    run.feed(seg(client(), server(), ISN_C + 1, ISN_S + 1, ACK, b"ab"));
    assert_eq!(run.sink.stream(0, Endpoint::A), b"abcd");
    assert!(run.sink.gaps(0, Endpoint::A).is_empty());
}
