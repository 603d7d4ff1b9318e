//! `mqttspec analyze`: every MQTT flow of a pcap/pcapng file judged by the
//! same rules as live runs. Frames → [`crate::capture`] slicing and TCP
//! reassembly → [`flow::MqttFlow`] (framing, events, rules) → [`model`].

pub mod annotate;
pub mod flow;
pub mod junit;
pub mod model;
pub mod resync;
#[cfg(test)]
mod tests;
pub mod text;
mod tls_flow;
pub mod tls_report;
pub mod ws;

use rustc_hash::FxHashMap as HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use crate::capture::net::{slice, Sliced};
use crate::capture::read::read;
use crate::capture::tcp::Reassembler;
use crate::capture::{At, Endpoint, FlowId, StreamSink};
use crate::codec::Version;

use flow::{MqttFlow, Roles};
use model::{FileReport, FlowKind, FlowReport, NoticeReport};
use tls_flow::TlsFlow;

/// Analysis settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// TCP ports whose flows are MQTT (plus any flow that starts with CONNECT).
    pub ports: Vec<u16>,
    /// Ports where TLS is expected.
    pub tls_ports: Vec<u16>,
    /// Version of flows seen without CONNECT (None: guess, reported as such).
    pub version: Option<Version>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            ports: vec![1883, 8883],
            tls_ports: vec![8883],
            version: None,
        }
    }
}

/// Most notices of one kind listed per file (the rest are counted).
const NOTICE_CAP: usize = 20;

/// The file name that stands for standard input.
pub const STDIN: &str = "-";

/// Analyze one capture file (`-`: standard input).
pub fn analyze_file(path: &Path, cfg: &Config) -> FileReport {
    let stdin = path == Path::new(STDIN);
    let mut report = FileReport {
        file: if stdin {
            "(standard input)".to_string()
        } else {
            path.display().to_string()
        },
        error: None,
        frames: 0,
        bytes: 0,
        notices: Vec::new(),
        flows: Vec::new(),
        other_tcp_flows: 0,
        mqtt_packets: 0,
    };
    let opened = if stdin {
        Ok(Box::new(std::io::stdin().lock()) as Box<dyn std::io::Read>)
    } else {
        std::fs::File::open(path).map(|f| Box::new(f) as Box<dyn std::io::Read>)
    };
    let file = match opened {
        Ok(f) => f,
        Err(e) => {
            report.error = Some(format!("cannot open: {e}"));
            return report;
        }
    };
    let mut sink = Sink::new(cfg);
    let mut tcp = Reassembler::new(&cfg.ports);
    let mut last = At {
        frame: 0,
        ts: Duration::ZERO,
    };
    let result = read(file, &mut |frame| {
        let at = At {
            frame: frame.number,
            ts: frame.ts,
        };
        if sink.origin.is_none() {
            sink.origin = Some(frame.ts);
        }
        last = at;
        match slice(frame) {
            Sliced::Tcp(seg) => tcp.segment(&seg, at, &mut sink),
            Sliced::Other => {}
            Sliced::Fragment { src, dst } => sink.notice(
                "fragment",
                Some(frame.number),
                format!("IP fragment {src} → {dst} not reassembled"),
            ),
            Sliced::UnsupportedLink(lt) => sink.notice(
                "link",
                Some(frame.number),
                format!("link type {lt} is not supported; frame skipped"),
            ),
            Sliced::Malformed(why) => sink.notice(
                "malformed",
                Some(frame.number),
                format!("cannot slice frame: {why}"),
            ),
        }
    });
    tcp.finish(last, &mut sink);
    match result {
        Ok(stats) => {
            report.frames = stats.frames;
            report.bytes = stats.bytes;
            for n in stats.notices {
                report.notices.push(NoticeReport {
                    frame: n.frame,
                    message: n.message,
                });
            }
        }
        Err(e) => report.error = Some(e.to_string()),
    }
    for (kind, extra) in &sink.suppressed {
        if *extra > 0 {
            report.notices.push(NoticeReport {
                frame: None,
                message: format!("{extra} more `{kind}` notices not listed"),
            });
        }
    }
    report.notices.extend(sink.notices);
    report.other_tcp_flows = sink.other_flows;
    let mut flows = sink.done;
    flows.sort_by_key(|f| f.flow);
    report.mqtt_packets = flows
        .iter()
        .map(|f| f.packets_to_server + f.packets_to_client)
        .sum();
    report.flows = flows;
    report
}

/// Bytes a pending flow holds at most before it is classified on what it has.
const MAX_HELD: usize = 64 * 1024;

/// A flow not yet classified: its first bytes are held until they tell.
struct Pending {
    number: u32,
    a: SocketAddr,
    b: SocketAddr,
    syn_seen: bool,
    first: At,
    held: Vec<(Endpoint, Held, At)>,
}

/// What a pending flow holds, in stream order.
enum Held {
    Data(Vec<u8>),
    /// Bytes never captured (`snapped`: cut off a recorded segment).
    Lost {
        len: u64,
        snapped: bool,
    },
}

impl Held {
    /// The captured bytes, if these are.
    fn data(&self) -> Option<&[u8]> {
        match self {
            Held::Data(b) => Some(b),
            Held::Lost { .. } => None,
        }
    }
}

impl Pending {
    /// The bytes `from` sent before anything of it went missing.
    fn intact(&self, from: Endpoint) -> impl Iterator<Item = &[u8]> {
        self.held
            .iter()
            .filter(move |(e, _, _)| *e == from)
            .map_while(|(_, h, _)| h.data())
    }

    /// The endpoint whose bytes came first.
    fn first_speaker(&self) -> Option<Endpoint> {
        self.held
            .iter()
            .find(|(_, h, _)| h.data().is_some())
            .map(|(e, _, _)| *e)
    }

    /// Whether any byte was captured.
    fn carried_data(&self) -> bool {
        self.first_speaker().is_some()
    }
}

/// Small (16 bytes), so that the table of flows stays in cache: it is
/// looked up for every segment.
enum State {
    Pending(Box<Pending>),
    Mqtt(Box<MqttFlow>),
    Tls(Box<TlsFlow>),
    Other,
}

struct Sink<'c> {
    cfg: &'c Config,
    flows: HashMap<FlowId, State>,
    /// Flows whose close was seen, waiting for the rest of their data.
    closing: HashMap<FlowId, (Option<Endpoint>, At)>,
    next_number: u32,
    origin: Option<Duration>,
    done: Vec<FlowReport>,
    other_flows: u64,
    notices: Vec<NoticeReport>,
    /// Per notice kind: how many were not listed.
    suppressed: Vec<(&'static str, usize)>,
    /// Per notice kind (same order): how many were listed.
    listed: Vec<usize>,
}

/// Bytes of a client's first packet that identify a CONNECT.
fn looks_like_connect(b: &[u8]) -> bool {
    if b.first() != Some(&0x10) {
        return false;
    }
    let crate::codec::Length::Known { header_len, .. } = crate::codec::peek_length(b) else {
        return false;
    };
    let rest = b.get(header_len..).unwrap_or(&[]);
    rest.starts_with(b"\x00\x04MQTT") || rest.starts_with(b"\x00\x06MQIsdp")
}

/// What a flow that starts with `GET ` is.
enum Request {
    /// The request header is not complete yet.
    Wait,
    /// An upgrade to WebSocket that offers MQTT, or any WebSocket upgrade
    /// on an MQTT port.
    Mqtt,
    /// Something else.
    Other,
}

/// Read the HTTP request `from` sent first.
fn websocket_request(p: &Pending, from: Endpoint, mqtt_port: bool) -> Request {
    let mut request = Vec::new();
    for bytes in p.intact(from) {
        request.extend_from_slice(bytes);
        if request.len() > ws::MAX_HEADER {
            break;
        }
    }
    match ws::header_end(&request) {
        Some(end) => {
            let u = ws::Upgrade::parse(&request[..end - 4]);
            if u.websocket && (u.offers_mqtt() || mqtt_port) {
                Request::Mqtt
            } else {
                Request::Other
            }
        }
        None if request.len() <= ws::MAX_HEADER => Request::Wait,
        None => Request::Other,
    }
}

fn looks_like_connack(b: &[u8]) -> bool {
    b.first() == Some(&0x20) && b.get(1).is_some_and(|l| *l >= 2)
}

impl<'c> Sink<'c> {
    fn new(cfg: &'c Config) -> Sink<'c> {
        Sink {
            cfg,
            flows: HashMap::default(),
            closing: HashMap::default(),
            next_number: 1,
            origin: None,
            done: Vec::new(),
            other_flows: 0,
            notices: Vec::new(),
            suppressed: Vec::new(),
            listed: Vec::new(),
        }
    }

    fn notice(&mut self, kind: &'static str, frame: Option<u64>, message: String) {
        let i = match self.suppressed.iter().position(|(k, _)| *k == kind) {
            Some(i) => i,
            None => {
                self.suppressed.push((kind, 0));
                self.listed.push(0);
                self.suppressed.len() - 1
            }
        };
        if self.listed[i] >= NOTICE_CAP {
            self.suppressed[i].1 += 1;
            return;
        }
        self.listed[i] += 1;
        self.notices.push(NoticeReport { frame, message });
    }

    fn origin(&self) -> Duration {
        self.origin.unwrap_or(Duration::ZERO)
    }

    /// Decide what a pending flow is, once its first bytes (or an event) tell.
    fn classify(&mut self, p: Box<Pending>, force: bool) -> Result<State, Box<Pending>> {
        let first_from = p.first_speaker();
        let first_bytes: Vec<u8> = first_from
            .map(|from| p.intact(from).flatten().copied().take(16).collect())
            .unwrap_or_default();
        let other_spoke = p
            .held
            .iter()
            .any(|(e, h, _)| Some(*e) != first_from && h.data().is_some());
        let held: usize = p
            .held
            .iter()
            .filter_map(|(_, h, _)| h.data())
            .map(<[u8]>::len)
            .sum();
        if !force && !other_spoke && first_bytes.len() < 12 && held < MAX_HELD {
            return Err(p); // wait for more bytes
        }
        let on_port = |port: u16| self.cfg.ports.contains(&port);
        let mqtt_port = on_port(p.a.port()) || on_port(p.b.port());
        let tls_port =
            self.cfg.tls_ports.contains(&p.a.port()) || self.cfg.tls_ports.contains(&p.b.port());
        let other = |e: Endpoint| {
            if e == Endpoint::A {
                Endpoint::B
            } else {
                Endpoint::A
            }
        };
        let number = p.number;
        if let Some(from) = first_from.filter(|_| first_bytes.starts_with(b"GET ")) {
            match websocket_request(&p, from, mqtt_port) {
                Request::Wait if !force && held < MAX_HELD => return Err(p),
                Request::Mqtt => {
                    let roles = Roles {
                        client_end: from,
                        from: "websocket",
                    };
                    return Ok(self.mqtt_flow(*p, roles, true));
                }
                _ => {}
            }
        }
        let roles = if let Some(from) = first_from.filter(|_| looks_like_connect(&first_bytes)) {
            Some(Roles {
                client_end: from,
                from: "connect",
            })
        } else if !mqtt_port {
            None
        } else if p.syn_seen {
            Some(Roles {
                client_end: Endpoint::A,
                from: "syn",
            })
        } else if let Some(from) = first_from.filter(|_| looks_like_connack(&first_bytes)) {
            Some(Roles {
                client_end: other(from),
                from: "connack",
            })
        } else if on_port(p.b.port()) && !on_port(p.a.port()) {
            Some(Roles {
                client_end: Endpoint::A,
                from: "port",
            })
        } else if on_port(p.a.port()) && !on_port(p.b.port()) {
            Some(Roles {
                client_end: Endpoint::B,
                from: "port",
            })
        } else {
            Some(Roles {
                client_end: Endpoint::A,
                from: "guess",
            })
        };
        if (tls_port || mqtt_port) && crate::capture::tls::looks_like_tls(&first_bytes) {
            let client_end = if p.syn_seen {
                Endpoint::A
            } else {
                first_from.unwrap_or(Endpoint::A)
            };
            let (client, server) = if client_end == Endpoint::A {
                (p.a, p.b)
            } else {
                (p.b, p.a)
            };
            let mut t = TlsFlow::new(number, (client, server), client_end, p.syn_seen, p.first);
            for (from, held, at) in p.held {
                match held {
                    Held::Data(bytes) => t.data(from, &bytes, at),
                    Held::Lost { len, .. } => t.gap(from, len, at),
                }
            }
            return Ok(State::Tls(Box::new(t)));
        }
        let Some(roles) = roles else {
            self.other_flows += 1;
            return Ok(State::Other);
        };
        Ok(self.mqtt_flow(*p, roles, false))
    }

    /// An MQTT flow (over WebSocket when `websocket`) from a pending one.
    fn mqtt_flow(&self, p: Pending, roles: Roles, websocket: bool) -> State {
        let mut m = MqttFlow::new(
            p.number,
            p.a,
            p.b,
            p.syn_seen,
            roles,
            self.cfg.version,
            p.first,
            self.origin(),
        );
        if websocket {
            m.over_websocket();
        }
        for (from, held, at) in p.held {
            match held {
                Held::Data(bytes) => m.data(from, &bytes, at),
                Held::Lost { len, snapped } => m.gap(from, len, snapped, at),
            }
        }
        State::Mqtt(Box::new(m))
    }

    /// In-order bytes of a flow, lying in `shared` (the reader's buffer)
    /// when given.
    fn bytes(
        &mut self,
        flow: FlowId,
        from: Endpoint,
        bytes: &[u8],
        shared: Option<&bytes::Bytes>,
        at: At,
    ) {
        self.with_flow(flow, |s| match s {
            State::Pending(p) => p.held.push((from, Held::Data(bytes.to_vec()), at)),
            State::Mqtt(m) => m.shared_data(from, bytes, shared, at),
            State::Tls(t) => t.data(from, bytes, at),
            State::Other => {}
        });
    }

    /// Bytes of a flow never captured (`snapped`: cut off a recorded segment).
    fn lost(&mut self, flow: FlowId, from: Endpoint, len: u64, snapped: bool, at: At) {
        self.with_flow(flow, |s| match s {
            State::Pending(p) => match p.held.last_mut() {
                // Runs of missing bytes (one side never captured) stay one entry.
                Some((e, Held::Lost { len: l, snapped: s }, _)) if *e == from && *s == snapped => {
                    *l += len;
                }
                _ => p.held.push((from, Held::Lost { len, snapped }, at)),
            },
            State::Mqtt(m) => m.gap(from, len, snapped, at),
            State::Tls(t) => t.gap(from, len, at),
            State::Other => {}
        });
    }

    fn with_flow(&mut self, flow: FlowId, f: impl FnOnce(&mut State)) {
        // Fast path: a classified flow is used in place.
        match self.flows.get_mut(&flow) {
            None => return,
            Some(State::Pending(_)) => {}
            Some(s) => return f(s),
        }
        let Some(mut state) = self.flows.remove(&flow) else {
            return;
        };
        f(&mut state);
        if let State::Pending(p) = state {
            state = match self.classify(p, false) {
                Ok(s) => s,
                Err(p) => State::Pending(p),
            };
        }
        self.flows.insert(flow, state);
    }
}

impl StreamSink for Sink<'_> {
    fn opened(&mut self, flow: FlowId, a: SocketAddr, b: SocketAddr, syn_seen: bool, at: At) {
        let number = self.next_number;
        self.next_number += 1;
        self.flows.insert(
            flow,
            State::Pending(Box::new(Pending {
                number,
                a,
                b,
                syn_seen,
                first: at,
                held: Vec::new(),
            })),
        );
    }

    fn data(&mut self, flow: FlowId, from: Endpoint, bytes: &[u8], at: At) {
        self.bytes(flow, from, bytes, None, at);
    }

    fn shared_data(
        &mut self,
        flow: FlowId,
        from: Endpoint,
        bytes: &[u8],
        shared: &bytes::Bytes,
        at: At,
    ) {
        self.bytes(flow, from, bytes, Some(shared), at);
    }

    fn gap(&mut self, flow: FlowId, from: Endpoint, len: u64, at: At) {
        self.lost(flow, from, len, false, at);
    }

    fn snapped(&mut self, flow: FlowId, from: Endpoint, len: u64, at: At) {
        self.lost(flow, from, len, true, at);
    }

    fn closed(&mut self, flow: FlowId, by: Option<Endpoint>, at: At) {
        // Remember who closed; the other side may still send (half-close):
        // the flow is reported when `finished` comes.
        self.closing.insert(flow, (by, at));
    }

    fn finished(&mut self, flow: FlowId, at: At) {
        let (by, close_at) = self.closing.remove(&flow).unwrap_or((None, at));
        let Some(mut state) = self.flows.remove(&flow) else {
            return;
        };
        if let State::Pending(p) = state {
            if !p.carried_data() {
                // A flow that never carried a byte: MQTT only if on an MQTT port.
                let on =
                    self.cfg.ports.contains(&p.a.port()) || self.cfg.ports.contains(&p.b.port());
                if !on {
                    self.other_flows += 1;
                    return;
                }
            }
            state = self.classify(p, true).unwrap_or_else(State::Pending);
        }
        let origin = self.origin();
        match state {
            State::Mqtt(m) => self.done.push(m.close(by, close_at, at)),
            State::Tls(t) => self.done.push(t.close(by, close_at, at, origin)),
            _ => {}
        }
    }
}

/// Analyze several files on up to `jobs` threads; reports keep the given order.
pub fn analyze_files(paths: &[std::path::PathBuf], cfg: &Config, jobs: usize) -> model::Analysis {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<FileReport>>> = Mutex::new(vec![None; paths.len()]);
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, paths.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(p) = paths.get(i) else { break };
                let r = analyze_file(p, cfg);
                if let Ok(mut g) = results.lock() {
                    g[i] = Some(r);
                }
            });
        }
    });
    let files: Vec<FileReport> = results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect();
    let mut summary = model::AnalysisSummary {
        files: files.len(),
        ..Default::default()
    };
    for f in &files {
        if f.error.is_some() && f.frames == 0 {
            summary.unreadable += 1;
        }
        summary.frames += f.frames;
        summary.mqtt_packets += f.mqtt_packets;
        for fl in &f.flows {
            match fl.kind {
                FlowKind::Mqtt => summary.mqtt_flows += 1,
                FlowKind::Tls => summary.tls_flows += 1,
            }
            summary.findings += fl.findings.len();
        }
    }
    model::Analysis {
        tool: "mqttspec",
        tool_version: env!("CARGO_PKG_VERSION"),
        files,
        summary,
        statements: scope(),
    }
}

/// Statements checked passively, and those only an active probe can test.
fn scope() -> model::StatementScope {
    let mut out = model::StatementScope::default();
    for version in [Version::V311, Version::V5] {
        let checked: Vec<&'static str> = crate::rules::catalogue()
            .iter()
            .filter(|r| r.versions.contains(&version))
            .flat_map(|r| r.statements.iter())
            .filter_map(|s| crate::spec::lookup(version, s).map(|s| s.id))
            .collect();
        for st in crate::spec::statements(version) {
            if checked.contains(&st.id) {
                if !out.checked.contains(&st.id) {
                    out.checked.push(st.id);
                }
            } else if !st.testable.contains(&"capture") && !out.not_applicable.contains(&st.id) {
                out.not_applicable.push(st.id);
            }
        }
    }
    out
}
