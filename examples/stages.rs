//! Cost of each stage of capture analysis on one file: the pipeline of
//! `mqttspec analyze` cut after reading, link/IP/TCP slicing, TCP
//! reassembly, MQTT framing and decoding, then the whole analysis (rules,
//! sessions, report). Each stage includes the ones before it; the time is
//! the best of ROUNDS runs in this process, so the file is in the page
//! cache after the first.
//!
//! Usage: `cargo run --release --example stages FILE [ROUNDS] [STAGE]`
//! (default 5 rounds, every stage; STAGE 1-6 runs that one only, e.g. under
//! `valgrind --tool=callgrind` to count its instructions).

use bytes::Bytes;
use rustc_hash::FxHashMap as HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use mqttspec::analyze::text::render;
use mqttspec::analyze::{analyze_files, Config};
use mqttspec::capture::net::{slice, Sliced};
use mqttspec::capture::read::read;
use mqttspec::capture::tcp::Reassembler;
use mqttspec::capture::{At, Endpoint, FlowId, StreamSink};
use mqttspec::codec::{decode, Framed, Framer, Version};

#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Stage {
    Read,
    Slice,
    Reassemble,
    Frame,
    Decode,
}

/// Frames (and decodes) every flow's bytes, or only counts them.
struct Counter {
    stage: Stage,
    framers: HashMap<(FlowId, bool), Framer>,
    bytes: u64,
    packets: u64,
    /// Something of every decoded packet, so that decoding is not optimized away.
    check: u64,
}

impl Counter {
    /// Frame (and decode) bytes as `analyze` does: whole packets inside one
    /// segment are slices of the reader's buffer (`shared`), the rest is
    /// copied through the framer.
    fn take(&mut self, flow: FlowId, from: Endpoint, bytes: &[u8], shared: Option<&Bytes>) {
        self.bytes += bytes.len() as u64;
        if self.stage < Stage::Frame {
            return;
        }
        let Counter {
            stage,
            framers,
            packets,
            check,
            ..
        } = self;
        let mut count = |bytes: Bytes| {
            *packets += 1;
            if *stage == Stage::Decode {
                let d = decode(bytes, Version::V311);
                *check += u64::from(d.first_byte) + d.violations.len() as u64;
            }
        };
        let framer = framers
            .entry((flow, from == Endpoint::A))
            .or_insert_with(|| Framer::new(16 << 20));
        let mut rest = bytes;
        if let Some(shared) = shared {
            while let Some(n) = framer.whole(rest) {
                let (packet, after) = rest.split_at(n);
                rest = after;
                count(shared.slice_ref(packet));
            }
        }
        framer.push(rest);
        while let Some(f) = framer.next_frame() {
            if let Framed::Packet { bytes, .. } = f {
                count(bytes);
            }
        }
    }
}

impl StreamSink for Counter {
    fn opened(&mut self, _: FlowId, _: SocketAddr, _: SocketAddr, _: bool, _: At) {}

    fn data(&mut self, flow: FlowId, from: Endpoint, bytes: &[u8], _: At) {
        self.take(flow, from, bytes, None);
    }

    fn shared_data(&mut self, flow: FlowId, from: Endpoint, bytes: &[u8], shared: &Bytes, _: At) {
        self.take(flow, from, bytes, Some(shared));
    }

    fn gap(&mut self, flow: FlowId, from: Endpoint, _: u64, _: At) {
        self.framers.remove(&(flow, from == Endpoint::A));
    }

    fn closed(&mut self, _: FlowId, _: Option<Endpoint>, _: At) {}

    fn finished(&mut self, flow: FlowId, _: At) {
        self.framers.remove(&(flow, true));
        self.framers.remove(&(flow, false));
    }
}

/// Run the pipeline up to `stage`; returns what it counted.
fn run(path: &Path, stage: Stage) -> u64 {
    let Ok(file) = std::fs::File::open(path) else {
        eprintln!("cannot open {}", path.display());
        std::process::exit(2);
    };
    let mut sink = Counter {
        stage,
        framers: HashMap::default(),
        bytes: 0,
        packets: 0,
        check: 0,
    };
    let mut tcp = Reassembler::new(&[1883, 8883]);
    let mut frames = 0u64;
    let mut sliced = 0u64;
    let mut last = At {
        frame: 0,
        ts: Duration::ZERO,
    };
    let result = read(file, &mut |frame| {
        frames += 1;
        if stage == Stage::Read {
            return;
        }
        last = At {
            frame: frame.number,
            ts: frame.ts,
        };
        if let Sliced::Tcp(seg) = slice(frame) {
            sliced += seg.payload.len() as u64;
            if stage >= Stage::Reassemble {
                tcp.segment(&seg, last, &mut sink);
            }
        }
    });
    if let Err(e) = result {
        eprintln!("{}: {e}", path.display());
        std::process::exit(2);
    }
    tcp.finish(last, &mut sink);
    match stage {
        Stage::Read => frames,
        Stage::Slice => sliced,
        Stage::Reassemble => sink.bytes,
        Stage::Frame => sink.packets,
        Stage::Decode => sink.packets + sink.check,
    }
}

fn best<F: FnMut() -> u64>(rounds: usize, mut f: F) -> (Duration, u64) {
    let mut best = Duration::MAX;
    let mut out = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        out = std::hint::black_box(f());
        best = best.min(t.elapsed());
    }
    (best, out)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1).map(Path::new) else {
        eprintln!("usage: stages FILE [ROUNDS] [STAGE]");
        std::process::exit(2);
    };
    let rounds = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(5);
    let only: Option<usize> = args.get(3).and_then(|s| s.parse().ok());
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) as f64;
    let stages = [
        ("read frames", Some(Stage::Read)),
        ("+ slice link/IP/TCP", Some(Stage::Slice)),
        ("+ TCP reassembly", Some(Stage::Reassemble)),
        ("+ MQTT framing", Some(Stage::Frame)),
        ("+ decoding", Some(Stage::Decode)),
        ("analyze (all rules, report)", None),
    ];
    println!(
        "{} ({:.1} MB), best of {rounds}",
        path.display(),
        size / 1e6
    );
    for (i, (name, stage)) in stages.into_iter().enumerate() {
        if only.is_some_and(|o| o != i + 1) {
            continue;
        }
        let (t, n) = best(rounds, || match stage {
            Some(s) => run(path, s),
            None => {
                let a = analyze_files(&[path.to_path_buf()], &Config::default(), 1);
                render(&a, false).len() as u64
            }
        });
        let s = t.as_secs_f64();
        println!(
            "{name:<28} {:>7.3} s {:>8.0} MB/s  ({n})",
            s,
            size / 1e6 / s
        );
    }
}
