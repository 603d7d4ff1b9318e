//! The pcap / pcapng reader: both byte orders, µs and ns, several sections
//! and interfaces, timestamp resolutions and offsets, frame numbering,
//! notices for damaged files, and no panic on any input.
#![allow(clippy::unwrap_used)]

mod capture_support;

use std::io::Read;
use std::time::Duration;

use capture_support::{pcap, Ng};
use mqttspec::capture::read::{read, CaptureError, ReadStats};
use proptest::prelude::*;
use rstest::rstest;

/// What the callback saw of one frame.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    number: u64,
    ts: Duration,
    linktype: u16,
    interface: u32,
    data: Vec<u8>,
    orig_len: u32,
}

fn read_all(bytes: &[u8]) -> (Vec<Seen>, ReadStats) {
    let mut seen = Vec::new();
    let stats = read(bytes, &mut |f| {
        seen.push(Seen {
            number: f.number,
            ts: f.ts,
            linktype: f.linktype,
            interface: f.interface,
            data: f.data.to_vec(),
            orig_len: f.orig_len,
        })
    })
    .unwrap();
    (seen, stats)
}

fn ts(secs: u64, nanos: u32) -> Duration {
    Duration::new(secs, nanos)
}

#[rstest]
#[case::le_micro(false, false, 1_000)]
#[case::be_micro(true, false, 1_000)]
#[case::le_nano(false, true, 1)]
#[case::be_nano(true, true, 1)]
fn pcap_frames(#[case] be: bool, #[case] nanos: bool, #[case] unit: u32) {
    let file = pcap(
        be,
        nanos,
        1,
        65535,
        &[(10, 250, b"abc", 3), (11, 999, b"defg", 60)],
    );
    let (seen, stats) = read_all(&file);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].number, 1);
    assert_eq!(seen[1].number, 2);
    assert_eq!(seen[0].ts, ts(10, 250 * unit));
    assert_eq!(seen[1].ts, ts(11, 999 * unit));
    assert_eq!(seen[0].linktype, 1);
    assert_eq!(seen[1].data, b"defg");
    assert_eq!(seen[1].orig_len, 60);
    assert_eq!(stats.frames, 2);
    assert_eq!(stats.bytes, 7);
    assert!(stats.notices.is_empty(), "{:?}", stats.notices);
}

#[test]
fn pcap_link_type_from_header() {
    let file = pcap(false, false, 113, 65535, &[(1, 0, b"x", 1)]);
    assert_eq!(read_all(&file).0[0].linktype, 113);
}

#[rstest]
#[case::le(false)]
#[case::be(true)]
fn pcapng_interfaces_and_resolutions(#[case] be: bool) {
    let mut ng = Ng::default();
    ng.section(be)
        .interface(1, 0, None, None)
        .interface(113, 0, Some(9), None)
        .interface(0, 0, Some(0x80 | 10), Some(100))
        .epb(0, 1_500_000, b"one", 3)
        .epb(1, 2_000_000_007, b"two", 3)
        .epb(2, 3 * 1024 + 512, b"three", 5)
        .spb(b"four", 4);
    let (seen, stats) = read_all(&ng.bytes());
    assert!(stats.notices.is_empty(), "{:?}", stats.notices);
    let numbers: Vec<u64> = seen.iter().map(|s| s.number).collect();
    assert_eq!(numbers, [1, 2, 3, 4]);
    assert_eq!(seen[0].ts, ts(1, 500_000_000));
    assert_eq!((seen[0].linktype, seen[0].interface), (1, 0));
    assert_eq!(seen[1].ts, ts(2, 7));
    assert_eq!((seen[1].linktype, seen[1].interface), (113, 1));
    // 2^-10 s units and a 100 s offset.
    assert_eq!(seen[2].ts, ts(103, 500_000_000));
    assert_eq!((seen[2].linktype, seen[2].interface), (0, 2));
    assert_eq!(seen[2].data, b"three");
    // SPB: interface 0, no timestamp.
    assert_eq!(
        (seen[3].linktype, seen[3].data.as_slice()),
        (1, &b"four"[..])
    );
}

#[test]
fn pcapng_sections_in_both_orders_reset_interfaces() {
    let mut ng = Ng::default();
    ng.section(false)
        .interface(1, 0, None, None)
        .epb(0, 1, b"a", 1);
    ng.section(true)
        .interface(101, 0, Some(3), None)
        .epb(0, 2_500, b"b", 1);
    ng.section(false)
        .interface(276, 0, None, None)
        .epb(1, 3, b"c", 1)
        .epb(0, 4, b"d", 1);
    let (seen, stats) = read_all(&ng.bytes());
    let got: Vec<(u64, u16, Duration)> =
        seen.iter().map(|s| (s.number, s.linktype, s.ts)).collect();
    assert_eq!(
        got,
        [
            (1, 1, ts(0, 1_000)),
            (2, 101, ts(2, 500_000_000)),
            (4, 276, ts(0, 4_000))
        ]
    );
    assert_eq!(stats.frames, 4);
    assert_eq!(stats.notices.len(), 1);
    assert_eq!(stats.notices[0].frame, Some(3));
    assert!(
        stats.notices[0].message.contains("interface 1"),
        "{:?}",
        stats.notices
    );
}

#[test]
fn unknown_block_is_a_notice() {
    let mut ng = Ng::default();
    ng.section(false)
        .interface(1, 0, None, None)
        .epb(0, 1, b"a", 1);
    ng.block(0x0bad_0001, vec![1, 2, 3, 4]);
    ng.epb(0, 2, b"b", 1);
    let (seen, stats) = read_all(&ng.bytes());
    assert_eq!(seen.iter().map(|s| s.number).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(stats.notices.len(), 1);
    assert!(
        stats.notices[0].message.contains("unknown type"),
        "{:?}",
        stats.notices
    );
    assert!(
        stats.notices[0].message.contains("after frame 1"),
        "{:?}",
        stats.notices
    );
}

#[test]
fn truncated_pcap_keeps_complete_frames() {
    let file = pcap(
        false,
        false,
        1,
        65535,
        &[(1, 0, b"first", 5), (2, 0, b"second", 6)],
    );
    let cut = &file[..file.len() - 3];
    let (seen, stats) = read_all(cut);
    assert_eq!(seen.len(), 1);
    assert_eq!(stats.frames, 2);
    assert_eq!(stats.notices.len(), 1);
    assert_eq!(stats.notices[0].frame, Some(2));
    assert!(stats.notices[0].message.contains("truncated"));
}

#[test]
fn truncated_pcapng_names_the_frame() {
    let mut ng = Ng::default();
    ng.section(true)
        .interface(1, 0, None, None)
        .epb(0, 1, b"a", 1)
        .epb(0, 2, b"bbbb", 4);
    let bytes = ng.bytes();
    let (seen, stats) = read_all(&bytes[..bytes.len() - 6]);
    assert_eq!(seen.len(), 1);
    assert_eq!(stats.notices[0].frame, Some(2));
}

#[test]
fn captured_length_over_snaplen_is_a_notice() {
    let file = pcap(false, false, 1, 4, &[(1, 0, b"toolong", 7)]);
    let (seen, stats) = read_all(&file);
    assert_eq!(seen.len(), 1);
    assert_eq!(stats.notices[0].frame, Some(1));
    assert!(stats.notices[0].message.contains("snaplen"));
}

#[test]
fn absurd_record_length_stops_with_a_notice() {
    let mut file = pcap(false, false, 1, 65535, &[(1, 0, b"ok", 2)]);
    file.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0]);
    file.extend_from_slice(&[0u8; 64]);
    let (seen, stats) = read_all(&file);
    assert_eq!(seen.len(), 1);
    assert_eq!(stats.notices.last().unwrap().frame, Some(2));
}

#[test]
fn block_larger_than_the_first_buffer() {
    let big = vec![0x5a; 3 << 20];
    let mut ng = Ng::default();
    ng.section(false)
        .interface(1, 0, None, None)
        .epb(0, 1, &big, big.len() as u32)
        .epb(0, 2, b"x", 1);
    let (seen, stats) = read_all(&ng.bytes());
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].data.len(), big.len());
    assert!(stats.notices.is_empty());
}

/// Returns the input one byte per read call.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((b, rest)), Some(slot)) => {
                *slot = *b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[test]
fn short_reads_are_fine() {
    let mut ng = Ng::default();
    ng.section(false)
        .interface(1, 0, None, None)
        .epb(0, 1, b"abc", 3)
        .epb(0, 2, b"de", 2);
    let bytes = ng.bytes();
    let mut n = 0;
    let stats = read(Trickle(&bytes), &mut |_| n += 1).unwrap();
    assert_eq!((n, stats.frames), (2, 2));
}

#[rstest]
#[case::empty(b"", "empty")]
#[case::text(b"GET / HTTP/1.1\r\n", "47 45 54 20")]
#[case::short(b"\xd4\xc3", "d4 c3")]
fn not_a_capture(#[case] bytes: &[u8], #[case] expected: &str) {
    match read(bytes, &mut |_| {}) {
        Err(CaptureError::NotACapture(msg)) => assert!(msg.contains(expected), "{msg}"),
        other => panic!("expected NotACapture, got {other:?}"),
    }
}

#[test]
fn cut_header_is_not_a_capture() {
    let file = pcap(false, false, 1, 65535, &[]);
    assert!(matches!(
        read(&file[..10], &mut |_| {}),
        Err(CaptureError::NotACapture(_))
    ));
}

fn sample() -> Vec<u8> {
    let mut ng = Ng::default();
    ng.section(false)
        .interface(1, 64, Some(9), Some(-5))
        .epb(0, 1, b"abcdef", 6)
        .spb(b"xyz", 3);
    ng.block(0x1234, vec![9; 8]);
    ng.section(true)
        .interface(0, 0, Some(0x83), None)
        .epb(0, 77, b"ghij", 4);
    ng.bytes()
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = read(bytes.as_slice(), &mut |_| {});
    }

    #[test]
    fn arbitrary_after_a_valid_start_never_panics(
        pcapng in any::<bool>(),
        tail in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let mut bytes = if pcapng { sample() } else { pcap(false, true, 1, 65535, &[]) };
        bytes.truncate(if pcapng { 28 } else { 24 });
        bytes.extend(tail);
        let _ = read(bytes.as_slice(), &mut |_| {});
    }

    #[test]
    fn mutated_captures_never_panic(
        pcapng in any::<bool>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = if pcapng {
            sample()
        } else {
            pcap(true, false, 1, 65535, &[(1, 2, b"abcd", 4), (3, 4, b"efgh", 4)])
        };
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let len = bytes.len();
        bytes.truncate(cut.index(len + 1).max(1));
        let _ = read(bytes.as_slice(), &mut |_| {});
    }
}

#[test]
fn damaged_packet_block_is_skipped() {
    let mut ng = Ng::default();
    ng.section(false)
        .interface(1, 0, None, None)
        .epb(0, 1, b"a", 1);
    let at = ng.out.len();
    ng.epb(0, 2, b"bbbb", 4).epb(0, 3, b"c", 1);
    // Captured length 1000 in a 36-byte block.
    ng.out[at + 20..at + 24].copy_from_slice(&1000u32.to_le_bytes());
    let (seen, stats) = read_all(&ng.bytes());
    assert_eq!(seen.iter().map(|s| s.number).collect::<Vec<_>>(), [1, 3]);
    assert_eq!(stats.notices.len(), 1, "{:?}", stats.notices);
    assert_eq!(stats.notices[0].frame, Some(2));
}

#[rstest]
#[case::little_endian(false)]
#[case::big_endian(true)]
fn obsolete_packet_block_is_a_frame(#[case] be: bool) {
    let o = capture_support::Order { be };
    let mut body = Vec::new();
    o.u16(&mut body, 0); // interface
    o.u16(&mut body, 0); // drops
    o.u32(&mut body, 0); // timestamp, high 32 bits (µs)
    o.u32(&mut body, 2_500_000);
    o.u32(&mut body, 3); // captured length
    o.u32(&mut body, 9); // original length
    body.extend_from_slice(b"xyz");
    let mut ng = Ng::default();
    ng.section(be)
        .interface(1, 0, None, None)
        .epb(0, 1_000_000, b"a", 1);
    ng.block(2, body);
    let (seen, stats) = read_all(&ng.bytes());
    assert!(stats.notices.is_empty(), "{:?}", stats.notices);
    assert_eq!(
        seen[1],
        Seen {
            number: 2,
            ts: ts(2, 500_000_000),
            linktype: 1,
            interface: 0,
            data: b"xyz".to_vec(),
            orig_len: 9,
        }
    );
}
