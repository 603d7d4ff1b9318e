//! The three capture layers together: an in-memory pcapng with Ethernet and
//! Linux-cooked interfaces → reader → slicing → reassembly.
#![allow(clippy::unwrap_used)]

mod capture_support;

use std::net::SocketAddr;

use capture_support::{Call, Ng, Recorder};
use etherparse::PacketBuilder;
use mqttspec::capture::net::{slice, Sliced};
use mqttspec::capture::read::read;
use mqttspec::capture::tcp::Reassembler;
use mqttspec::capture::{At, Endpoint};

const C: [u8; 4] = [192, 168, 1, 10];
const S: [u8; 4] = [192, 168, 1, 1];

/// An Ethernet frame from (ip, port) to (ip, port).
fn eth(
    from: ([u8; 4], u16),
    to: ([u8; 4], u16),
    seq: u32,
    ack: Option<u32>,
    syn: bool,
    fin: bool,
    data: &[u8],
) -> Vec<u8> {
    let b = PacketBuilder::ethernet2([2; 6], [4; 6])
        .ipv4(from.0, to.0, 64)
        .tcp(from.1, to.1, seq, 65535);
    let b = if syn { b.syn() } else { b };
    let b = if fin { b.fin() } else { b };
    let b = match ack {
        Some(a) => b.ack(a),
        None => b,
    };
    let mut out = Vec::new();
    b.write_to_vec(&mut out, data).unwrap();
    out
}

#[test]
fn pcapng_to_streams() {
    let c = (C, 40000);
    let s = (S, 1883);
    let frames = [
        eth(c, s, 100, None, true, false, b""),
        eth(s, c, 900, Some(101), true, false, b""),
        eth(c, s, 101, Some(901), false, false, b""),
        // Second half of the client's bytes first.
        eth(c, s, 105, Some(901), false, false, b"\x00\x04MQTT"),
        eth(c, s, 101, Some(901), false, false, b"\x10\x0c\x00\x04"),
        eth(s, c, 901, Some(111), false, false, b"\x20\x02\x00\x00"),
        eth(c, s, 111, Some(905), false, true, b""),
        eth(s, c, 905, Some(112), false, true, b""),
    ];
    let mut ng = Ng::default();
    ng.section(false).interface(1, 65535, Some(9), None);
    for (i, f) in frames.iter().enumerate() {
        ng.epb(0, 1_000_000_000 * (i as u64 + 1), f, f.len() as u32);
    }
    // A UDP datagram on the same interface: counted, not TCP.
    let mut udp = Vec::new();
    PacketBuilder::ethernet2([2; 6], [4; 6])
        .ipv4(C, S, 64)
        .udp(5353, 5353)
        .write_to_vec(&mut udp, b"x")
        .unwrap();
    ng.epb(0, 20_000_000_000, &udp, udp.len() as u32);

    let mut r = Reassembler::new(&[1883]);
    let mut sink = Recorder::default();
    let mut other = 0;
    let mut last = At {
        frame: 0,
        ts: Default::default(),
    };
    let stats = read(ng.bytes().as_slice(), &mut |f| {
        let at = At {
            frame: f.number,
            ts: f.ts,
        };
        last = at;
        match slice(f) {
            Sliced::Tcp(seg) => r.segment(&seg, at, &mut sink),
            _ => other += 1,
        }
    })
    .unwrap();
    r.finish(last, &mut sink);

    assert_eq!(stats.frames, 9);
    assert_eq!(other, 1);
    let client: SocketAddr = (C, 40000).into();
    let server: SocketAddr = (S, 1883).into();
    assert_eq!(
        sink.calls[0],
        Call::Opened {
            flow: 0,
            a: client,
            b: server,
            syn: true
        }
    );
    assert_eq!(sink.stream(0, Endpoint::A), b"\x10\x0c\x00\x04\x00\x04MQTT");
    assert_eq!(sink.stream(0, Endpoint::B), b"\x20\x02\x00\x00");
    assert!(sink.gaps(0, Endpoint::A).is_empty());
    assert_eq!(
        sink.events().last(),
        Some(&Call::Closed {
            flow: 0,
            by: Some(Endpoint::A)
        })
    );
    // The client's bytes were completed by frame 5.
    let first_data = sink
        .calls
        .iter()
        .position(|c| matches!(c, Call::Data { .. }))
        .unwrap();
    assert_eq!(sink.frames[first_data], 5);
}

/// Whole-pipeline throughput on an in-memory capture (run with
/// `cargo test --release --test capture_pipeline -- --ignored --nocapture`).
#[test]
#[ignore]
fn throughput() {
    let c = (C, 40000);
    let s = (S, 1883);
    let payload = vec![0x30u8; 1400];
    let mut ng = Ng::default();
    ng.section(false).interface(1, 65535, None, None);
    let mut seq = 1u32;
    for i in 0..150_000u64 {
        let f = eth(c, s, seq, Some(1), false, false, &payload);
        ng.epb(0, i, &f, f.len() as u32);
        seq = seq.wrapping_add(payload.len() as u32);
    }
    let bytes = ng.bytes();
    let started = std::time::Instant::now();
    let mut r = Reassembler::new(&[1883]);
    let mut sink = Recorder::default();
    let mut delivered = 0usize;
    struct Count<'a>(&'a mut usize);
    impl mqttspec::capture::StreamSink for Count<'_> {
        fn opened(&mut self, _: u32, _: SocketAddr, _: SocketAddr, _: bool, _: At) {}
        fn data(&mut self, _: u32, _: Endpoint, b: &[u8], _: At) {
            *self.0 += b.len();
        }
        fn gap(&mut self, _: u32, _: Endpoint, _: u64, _: At) {}
        fn closed(&mut self, _: u32, _: Option<Endpoint>, _: At) {}
    }
    let mut count = Count(&mut delivered);
    read(bytes.as_slice(), &mut |f| {
        if let Sliced::Tcp(seg) = slice(f) {
            r.segment(
                &seg,
                At {
                    frame: f.number,
                    ts: f.ts,
                },
                &mut count,
            );
        }
    })
    .unwrap();
    let secs = started.elapsed().as_secs_f64();
    r.finish(
        At {
            frame: 0,
            ts: Default::default(),
        },
        &mut sink,
    );
    assert_eq!(delivered, 150_000 * 1400);
    let mb = bytes.len() as f64 / 1e6;
    println!(
        "{mb:.0} MB, 150000 frames in {secs:.3} s: {:.0} MB/s, {:.2} M frames/s",
        mb / secs,
        0.15 / secs
    );
}
