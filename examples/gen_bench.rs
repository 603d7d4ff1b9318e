//! Writes a large, realistic MQTT capture for throughput benchmarks: many
//! concurrent clients, QoS 0/1/2 in both directions with their acks, small
//! and medium payloads, pings, then clean disconnects.
//!
//! Usage: `gen_bench OUT.pcapng SIZE_MB [FLOWS] [MIX]`
//!
//! MIX `single` (default): every MQTT packet in a TCP segment of its own,
//! the worst case for a per-frame cost. MIX `burst`: a client or broker
//! under load pipelines 1-8 PUBLISHes of one QoS and writes them in one go,
//! and the peer's acks (and the QoS 2 PUBRELs and PUBCOMPs) likewise, so
//! segments hold several packets (split at the MSS) as in busy captures.

use std::io::BufWriter;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use mqttspec::capture::pcapng::{Interface, PcapngWriter};
use mqttspec::capture::synth::{Link, SynthFrame, TcpConversation};
use mqttspec::codec::{
    encode, Ack, Connack, Connect, Packet, Publish, Suback, Subscribe, Subscription, Text, Version,
};

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: gen_bench OUT.pcapng SIZE_MB [FLOWS] [single|burst]");
        std::process::exit(2);
    }
    let target = args[2].parse::<u64>().unwrap_or(300) * 1_000_000;
    let flows: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(200);
    let burst = match args.get(4).map(String::as_str) {
        None | Some("single") => false,
        Some("burst") => true,
        Some(other) => {
            eprintln!("unknown MIX `{other}` (single or burst)");
            std::process::exit(2);
        }
    };
    let out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&args[1])?);
    let mut w = PcapngWriter::new(
        out,
        &[Interface {
            linktype: Link::Ethernet.linktype(),
            snaplen: 262_144,
            ts_resolution_nanos: true,
        }],
    )?;
    let v = Version::V311;
    let server = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 1883);
    let mut rng = Lcg(7);
    let mut written = 0u64;
    // MQTT packets written, to check an analyzer's count against.
    let mut packets = 0u64;
    let emit = |w: &mut PcapngWriter<_>, frames: Vec<SynthFrame>| -> std::io::Result<u64> {
        let mut n = 0;
        for f in frames {
            n += f.data.len() as u64 + 32;
            w.packet(0, f.ts, &f.data, f.orig_len, &[])?;
        }
        Ok(n)
    };
    let mut convs: Vec<(TcpConversation, u16)> = Vec::new();
    for i in 0..flows {
        let client = SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(10, 1, (i / 250) as u8, (i % 250 + 2) as u8)),
            40_000 + i as u16,
        );
        let mut c = TcpConversation::new(client, server)
            .step(Duration::from_micros(5))
            .isn(rng.next() as u32, rng.next() as u32);
        written += emit(&mut w, c.handshake())?;
        packets += 4; // CONNECT, CONNACK, SUBSCRIBE, SUBACK
        let connect = Packet::Connect(Box::new(Connect {
            client_id: Text::from(format!("bench{i}")),
            keep_alive: 0,
            ..Connect::default()
        }));
        written += emit(&mut w, c.send(true, &encode(&connect, v)))?;
        written += emit(
            &mut w,
            c.send(false, &encode(&Packet::Connack(Connack::default()), v)),
        )?;
        let sub = Packet::Subscribe(Subscribe {
            packet_id: 1,
            filters: vec![Subscription {
                filter: Text::from(format!("bench/{i}/#")),
                options: 2,
            }],
            ..Subscribe::default()
        });
        written += emit(&mut w, c.send(true, &encode(&sub, v)))?;
        let suback = Packet::Suback(Suback {
            packet_id: 1,
            codes: vec![2],
            ..Suback::default()
        });
        written += emit(&mut w, c.send(false, &encode(&suback, v)))?;
        convs.push((c, 2));
    }
    let payload = Bytes::from(vec![b'x'; 4096]);
    while written < target {
        let i = (rng.next() as usize) % convs.len();
        let (c, next_id) = &mut convs[i];
        let qos = (rng.next() % 3) as u8;
        let from_client = rng.next() % 2 == 0;
        let count = if burst { 1 + rng.next() % 8 } else { 1 };
        // One write per direction and step of the QoS flow: the PUBLISHes,
        // then their PUBACKs or PUBRECs, then PUBRELs, then PUBCOMPs.
        let mut steps: [Vec<u8>; 4] = Default::default();
        for _ in 0..count {
            let size = if rng.next() % 10 < 7 {
                16 + (rng.next() % 240) as usize
            } else {
                512 + (rng.next() % 3584) as usize
            };
            let id = *next_id;
            *next_id = if *next_id == u16::MAX {
                2
            } else {
                *next_id + 1
            };
            let p = Packet::Publish(Publish {
                qos,
                topic: Text::from(format!("bench/{i}/t{}", id % 8)),
                packet_id: (qos > 0).then_some(id),
                payload: payload.slice(..size),
                ..Publish::default()
            });
            steps[0].extend_from_slice(&encode(&p, v));
            packets += [1, 2, 4][usize::from(qos)];
            match qos {
                1 => steps[1].extend_from_slice(&encode(&Packet::Puback(Ack::new(id)), v)),
                2 => {
                    steps[1].extend_from_slice(&encode(&Packet::Pubrec(Ack::new(id)), v));
                    steps[2].extend_from_slice(&encode(&Packet::Pubrel(Ack::new(id)), v));
                    steps[3].extend_from_slice(&encode(&Packet::Pubcomp(Ack::new(id)), v));
                }
                _ => {}
            }
            if !burst {
                // Each packet its own segment, in flow order.
                for (k, bytes) in steps.iter_mut().enumerate() {
                    if !bytes.is_empty() {
                        let sender = from_client == (k % 2 == 0);
                        written += emit(&mut w, c.send(sender, bytes))?;
                        bytes.clear();
                    }
                }
            }
        }
        for (k, bytes) in steps.iter().enumerate() {
            if !bytes.is_empty() {
                let sender = from_client == (k % 2 == 0);
                written += emit(&mut w, c.send(sender, bytes))?;
            }
        }
        if rng.next() % 200 == 0 {
            packets += 2;
            written += emit(&mut w, c.send(true, &encode(&Packet::Pingreq, v)))?;
            written += emit(&mut w, c.send(false, &encode(&Packet::Pingresp, v)))?;
        }
    }
    for (c, _) in convs.iter_mut() {
        let d = Packet::Disconnect(Default::default());
        packets += 1;
        written += emit(&mut w, c.send(true, &encode(&d, v)))?;
        written += emit(&mut w, c.fin(true))?;
        written += emit(&mut w, c.fin(false))?;
    }
    w.finish()?;
    eprintln!(
        "wrote {} ({} MB, {packets} MQTT packets)",
        args[1],
        written / 1_000_000
    );
    Ok(())
}
