//! One TCP flow of a capture as an MQTT connection: takes each direction's
//! bytes (out of WebSocket frames when the flow upgraded to WebSocket),
//! frames them (going on after gaps), turns packets into the same events
//! live runs produce and feeds them to a [`Monitor`], locating each finding
//! at the frame where its packet ended.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;

use crate::capture::{At, Endpoint};
use crate::codec::{self, FrameError, Framed, Framer, Packet, Version};
use crate::event::{ClosedBy, Direction, Event, EventKind};
use crate::rules::Monitor;

use super::model::{FlowFinding, FlowKind, FlowReport, NoticeReport, WsReport};
use super::resync::find_boundary;
use super::ws;

/// Largest packet framed in a capture; larger claims are reported as unframeable.
pub const MAX_PACKET: u32 = 16 * 1024 * 1024;
/// Bytes kept while looking for a packet boundary after a gap.
const RESYNC_LIMIT: usize = 64 * 1024;

/// Per-direction framing state.
#[derive(Debug)]
struct Half {
    framer: Framer,
    /// Some while resynchronizing after a gap: bytes not yet framed.
    resync: Option<Vec<u8>>,
    /// Bytes still to drop before framing goes on: the rest of a packet
    /// of known length that a gap cut into.
    skip: u64,
    /// MQTT over WebSocket: the WebSocket layer under the MQTT bytes.
    ws: Option<Box<ws::Decoder>>,
    /// Some byte of this direction was captured.
    captured: bool,
    /// Bytes missing before the first captured one (the peer acknowledged
    /// them), and where the first went missing: reported as one problem.
    unseen: Option<(u64, At)>,
}

impl Half {
    fn new() -> Half {
        Half {
            framer: Framer::new(MAX_PACKET),
            resync: None,
            skip: 0,
            ws: None,
            captured: false,
            unseen: None,
        }
    }
}

/// An MQTT connection being analyzed.
pub struct MqttFlow {
    pub number: u32,
    client: SocketAddr,
    server: SocketAddr,
    /// Which TCP endpoint is the MQTT client.
    client_end: Endpoint,
    roles_from: &'static str,
    syn_seen: bool,
    monitor: Monitor,
    version: Version,
    version_known: bool,
    halves: [Half; 2],
    index: u32,
    seen_findings: usize,
    findings: Vec<FlowFinding>,
    problems: Vec<NoticeReport>,
    /// Packets per type, by fixed-header nibble.
    counts: [u64; 16],
    to_server: u64,
    to_client: u64,
    client_id: Option<String>,
    keep_alive: Option<u16>,
    clean_session: Option<bool>,
    connack_code: Option<u8>,
    first: At,
    last: At,
    origin: Duration,
    closed_by: &'static str,
    close_frame: Option<u64>,
    websocket: Option<WsReport>,
}

/// How a flow was recognized.
pub struct Roles {
    pub client_end: Endpoint,
    pub from: &'static str,
}

impl MqttFlow {
    /// Start an MQTT flow. `origin` is the capture's first timestamp.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        number: u32,
        a: SocketAddr,
        b: SocketAddr,
        syn_seen: bool,
        roles: Roles,
        version: Option<Version>,
        first: At,
        origin: Duration,
    ) -> MqttFlow {
        let (client, server) = match roles.client_end {
            Endpoint::A => (a, b),
            Endpoint::B => (b, a),
        };
        let v = version.unwrap_or(Version::V311);
        let mut f = MqttFlow {
            number,
            client,
            server,
            client_end: roles.client_end,
            roles_from: roles.from,
            syn_seen,
            monitor: Monitor::new(v),
            version: v,
            version_known: false,
            halves: [Half::new(), Half::new()],
            index: 0,
            seen_findings: 0,
            findings: Vec::new(),
            problems: Vec::new(),
            counts: [0; 16],
            to_server: 0,
            to_client: 0,
            client_id: None,
            keep_alive: None,
            clean_session: None,
            connack_code: None,
            first,
            last: first,
            origin,
            closed_by: "unknown",
            close_frame: None,
            websocket: None,
        };
        if syn_seen {
            // Only a captured handshake shows the start of the connection;
            // rules about the first packet need it.
            f.feed(EventKind::Opened, first);
        }
        f
    }

    fn dir(&self, from: Endpoint) -> Direction {
        if from == self.client_end {
            Direction::ToServer
        } else {
            Direction::ToClient
        }
    }

    fn rel(&self, at: At) -> Duration {
        at.ts.saturating_sub(self.origin)
    }

    fn feed(&mut self, kind: EventKind<'_>, at: At) {
        let ev = Event {
            at: self.rel(at),
            conn: self.number,
            kind,
        };
        self.monitor.feed(&ev);
        self.collect(at);
    }

    fn collect(&mut self, at: At) {
        let all = self.monitor.findings();
        for f in &all[self.seen_findings..] {
            let located = FlowFinding::at(f.clone(), at.frame, secs(self.rel(at)));
            self.findings.push(located);
        }
        self.seen_findings = all.len();
    }

    /// MQTT over WebSocket: each direction starts with its side of the
    /// HTTP upgrade, then WebSocket frames carry the MQTT bytes.
    pub fn over_websocket(&mut self) {
        for h in &mut self.halves {
            h.ws = Some(Box::default());
        }
        self.websocket = Some(WsReport::default());
    }

    /// In-order bytes from one endpoint.
    pub fn data(&mut self, from: Endpoint, bytes: &[u8], at: At) {
        self.shared_data(from, bytes, None, at);
    }

    /// In-order bytes from one endpoint that lie in `shared` (the reader's
    /// buffer), if given: whole packets among them are decoded from slices
    /// of it rather than from copies.
    pub fn shared_data(&mut self, from: Endpoint, bytes: &[u8], shared: Option<&Bytes>, at: At) {
        self.last = at;
        let dir = self.dir(from);
        let h = dir_index(dir);
        if !self.halves[h].captured {
            self.first_captured(dir);
        }
        if self.halves[h].ws.is_none() {
            return self.stream(dir, bytes, shared, at);
        }
        self.websocket_data(dir, bytes, at);
    }

    /// The first captured bytes of `dir`: the bytes missing before them, if
    /// any, become one problem.
    #[cold]
    fn first_captured(&mut self, dir: Direction) {
        let half = &mut self.halves[dir_index(dir)];
        half.captured = true;
        if let Some((len, first)) = half.unseen.take() {
            self.problem(
                first,
                format!(
                    "{}: the first {len} bytes are missing from the capture (the peer \
                     acknowledged them); framing resumes at the next plausible packet",
                    side(dir)
                ),
            );
        }
    }

    /// Bytes of `dir` through its WebSocket layer.
    fn websocket_data(&mut self, dir: Direction, bytes: &[u8], at: At) {
        let h = dir_index(dir);
        if let Some(mut ws) = self.halves[h].ws.take() {
            ws.push(bytes, &mut |piece| self.websocket_piece(dir, piece, at));
            self.halves[h].ws = Some(ws);
        }
    }

    /// What the WebSocket layer of `dir` found.
    fn websocket_piece(&mut self, dir: Direction, piece: ws::Piece<'_>, at: At) {
        match piece {
            ws::Piece::Mqtt(bytes) => self.stream(dir, bytes, None, at),
            ws::Piece::Text(len) => {
                // MQTT bytes travel in binary frames only (MQTT-6.0.0-1).
                let offset = self.halves[dir_index(dir)].framer.offset();
                let len = usize::try_from(len).unwrap_or(usize::MAX);
                let error = FrameError::TextFrame;
                self.feed(
                    EventKind::Malformed {
                        dir,
                        offset,
                        len,
                        error,
                    },
                    at,
                );
            }
            ws::Piece::Upgrade(u) => {
                if u.websocket {
                    let protocols = &u.protocols;
                    self.feed(EventKind::Upgrade { dir, protocols }, at);
                }
                let report = self.websocket.get_or_insert_with(WsReport::default);
                match dir {
                    Direction::ToServer => {
                        report.request = u.first_line;
                        report.offered = u.protocols;
                    }
                    Direction::ToClient => {
                        report.response = Some(u.first_line);
                        report.chosen = u.protocols;
                    }
                }
            }
            ws::Piece::Close(code) => {
                let by = match dir {
                    Direction::ToServer => "client",
                    Direction::ToClient => "server",
                };
                let report = self.websocket.get_or_insert_with(WsReport::default);
                report.closes.push((by, code));
            }
            ws::Piece::Broken(why) => self.problem(
                at,
                format!(
                    "{}: {why}; the rest of this direction is not analyzed",
                    side(dir)
                ),
            ),
        }
    }

    /// In-order MQTT bytes from one direction (inlined into both callers:
    /// plain flows call it for every segment).
    #[inline(always)]
    fn stream(&mut self, dir: Direction, bytes: &[u8], shared: Option<&Bytes>, at: At) {
        let h = dir_index(dir);
        let mut bytes = bytes;
        if self.halves[h].skip > 0 {
            // The rest of a packet cut short by a gap.
            let n =
                usize::try_from(self.halves[h].skip).map_or(bytes.len(), |s| s.min(bytes.len()));
            self.halves[h].skip -= n as u64;
            bytes = bytes.get(n..).unwrap_or_default();
            if bytes.is_empty() {
                return;
            }
        }
        if let Some(buf) = self.halves[h].resync.as_mut() {
            buf.extend_from_slice(bytes);
            match find_boundary(buf, MAX_PACKET as usize) {
                Ok(off) => {
                    let rest = buf.split_off(off);
                    self.halves[h].resync = None;
                    self.halves[h].framer = Framer::new(MAX_PACKET);
                    self.halves[h].framer.push(&rest);
                    self.problem(at, format!("{}: framing resumed after the gap", side(dir)));
                }
                Err(drop) => {
                    if drop > 0 {
                        buf.drain(..drop);
                    }
                    if buf.len() > RESYNC_LIMIT {
                        // Cannot confirm a boundary: take the first plausible one.
                        let rest = std::mem::take(buf);
                        self.halves[h].resync = None;
                        self.halves[h].framer = Framer::new(MAX_PACKET);
                        self.halves[h].framer.push(&rest);
                    } else {
                        return;
                    }
                }
            }
        } else {
            let mut rest = bytes;
            if let Some(shared) = shared {
                // Whole packets are taken in place: a slice of the buffer
                // each; only a packet cut by the end of `bytes` is copied.
                while let Some(n) = self.halves[h].framer.whole(rest) {
                    let (packet, after) = rest.split_at(n);
                    rest = after;
                    self.packet(dir, slice_of(shared, packet), at);
                }
            }
            self.halves[h].framer.push(rest);
        }
        while let Some(frame) = self.halves[h].framer.next_frame() {
            match frame {
                Framed::Packet { bytes, .. } => self.packet(dir, bytes, at),
                Framed::Malformed {
                    offset,
                    bytes,
                    error,
                } => {
                    self.problem(
                        at,
                        format!(
                            "{}: {} unframeable bytes at stream offset {offset}: {error}",
                            side(dir),
                            bytes.len()
                        ),
                    );
                    self.feed(
                        EventKind::Malformed {
                            dir,
                            offset,
                            len: bytes.len(),
                            error,
                        },
                        at,
                    );
                    // Look for the next plausible packet instead of giving up.
                    self.halves[h].framer = Framer::new(MAX_PACKET);
                    self.halves[h].resync =
                        Some(bytes.get(1..).map(<[u8]>::to_vec).unwrap_or_default());
                }
            }
        }
    }

    fn packet(&mut self, dir: Direction, bytes: bytes::Bytes, at: At) {
        // A CONNECT tells the version (the decoder reads its own level).
        let mut d = codec::decode(bytes, self.version);
        if let Packet::Connect(c) = &d.packet {
            if let Some(v) = Version::from_level(c.protocol_level) {
                if !self.version_known || v != self.version {
                    self.version = v;
                    self.version_known = true;
                }
            }
            self.client_id
                .get_or_insert_with(|| c.client_id.to_string());
            self.keep_alive.get_or_insert(c.keep_alive);
            self.clean_session.get_or_insert(c.clean_session);
        } else if !self.version_known && self.version == Version::V311 && !d.violations.is_empty() {
            // No CONNECT seen: if 5.0 explains the bytes better, use it.
            let alt = codec::decode(d.raw.clone(), Version::V5);
            if alt.violations.is_empty() {
                self.version = Version::V5;
                d = alt;
            }
        }
        if let Packet::Connack(c) = &d.packet {
            self.connack_code.get_or_insert(c.code);
        }
        let t = d.packet.packet_type();
        for v in &d.violations {
            if let Some(what) = without_statement(&v.kind) {
                self.problem(
                    at,
                    format!(
                        "{}: malformed {} ({what}, byte {} of the packet)",
                        side(dir),
                        t.name(),
                        v.offset
                    ),
                );
            }
        }
        let index = self.count(t, dir);
        self.feed(
            EventKind::Packet {
                dir,
                index,
                packet: &d,
            },
            at,
        );
    }

    /// At the end of the flow, bytes still held while looking for a packet
    /// boundary are framed from the first boundary that fits in them.
    fn final_resync(&mut self, at: At) {
        for dir in [Direction::ToServer, Direction::ToClient] {
            let h = dir_index(dir);
            let Some(buf) = self.halves[h].resync.take() else {
                continue;
            };
            if let Some(off) = super::resync::find_final_boundary(&buf, MAX_PACKET as usize) {
                self.halves[h].framer = Framer::new(MAX_PACKET);
                self.halves[h].framer.push(&buf[off..]);
                self.problem(at, format!("{}: framing resumed after the gap", side(dir)));
                while let Some(Framed::Packet { bytes, .. }) = self.halves[h].framer.next_frame() {
                    self.packet(dir, bytes, at);
                }
            } else if !buf.is_empty() {
                self.halves[h].resync = Some(buf);
            }
        }
    }

    /// Bytes never captured; `snapped` when the capture cut them off a
    /// segment it recorded (its snapshot length).
    ///
    /// When the gap falls inside a packet whose fixed header was captured,
    /// the packet's length tells where the next one starts: framing goes
    /// on there, with nothing to guess. A packet cut by the snapshot length
    /// is counted (as Wireshark does) though its content is not judged.
    pub fn gap(&mut self, from: Endpoint, len: u64, snapped: bool, at: At) {
        self.last = at;
        let dir = self.dir(from);
        let h = dir_index(dir);
        if let Some(ws) = self.halves[h].ws.as_mut() {
            match ws.skip(len) {
                Some(ws::Skipped::Mqtt) => {}
                Some(skipped @ (ws::Skipped::Other | ws::Skipped::TextEnd(_))) => {
                    self.problem(
                        at,
                        format!(
                            "{}: {len} bytes missing from the capture inside a WebSocket control or text frame",
                            side(dir)
                        ),
                    );
                    if let ws::Skipped::TextEnd(whole) = skipped {
                        self.websocket_piece(dir, ws::Piece::Text(whole), at);
                    }
                    return;
                }
                None => {
                    self.problem(
                        at,
                        format!(
                            "{}: {len} bytes missing from the capture, and WebSocket frame \
                             boundaries with them; the rest of this direction is not analyzed",
                            side(dir)
                        ),
                    );
                    self.feed(EventKind::Gap { dir, len }, at);
                    return;
                }
            }
        }
        if !self.halves[h].captured {
            // Nothing of this direction captured yet (a one-way capture, or
            // one that starts mid-flow): one problem for all of it, made
            // when its first byte comes or at the end.
            let unseen = self.halves[h].unseen.get_or_insert((0, at));
            unseen.0 += len;
            self.halves[h].resync.get_or_insert_with(Vec::new);
        } else if self.halves[h].skip >= len {
            // Still inside the packet cut short before.
            self.halves[h].skip -= len;
        } else {
            let message = self.lose(dir, len, snapped);
            self.problem(at, message);
        }
        self.feed(EventKind::Gap { dir, len }, at);
    }

    /// Drop what a gap of `len` bytes leaves unframeable and decide where
    /// framing goes on; returns the problem to report.
    fn lose(&mut self, dir: Direction, len: u64, snapped: bool) -> String {
        let half = &mut self.halves[dir_index(dir)];
        let beyond_cut = std::mem::take(&mut half.skip) > 0;
        let cut = if half.resync.is_none() && !beyond_cut {
            half.framer.partial()
        } else {
            None
        };
        let pending = half.framer.pending();
        half.framer = Framer::new(MAX_PACKET);
        let lost = format!("{}: {len} bytes missing from the capture", side(dir));
        let Some((first_byte, total)) = cut else {
            half.resync = Some(Vec::new());
            let dropped = if pending > 0 {
                format!(" ({pending} bytes of a partial packet dropped)")
            } else {
                String::new()
            };
            return format!("{lost}{dropped}; framing resumes at the next plausible packet");
        };
        let t = codec::PacketType::from_nibble(first_byte >> 4);
        let message = match total.checked_sub(pending as u64 + len) {
            Some(rest) => {
                half.skip = rest;
                format!(
                    "{lost} inside a {} of {total} bytes; framing goes on after it",
                    t.name()
                )
            }
            None => {
                half.resync = Some(Vec::new());
                format!(
                    "{lost}, among them the end of a {} of {total} bytes; \
                     framing resumes at the next plausible packet",
                    t.name()
                )
            }
        };
        if snapped {
            self.count(t, dir);
        }
        message
    }

    /// The flow ended: `by` closed it at `close_at`; its last bytes came by
    /// `at`. Returns its report.
    pub fn close(mut self, by: Option<Endpoint>, close_at: At, at: At) -> FlowReport {
        self.last = at;
        self.final_resync(at);
        // A close was seen (its frame is reported even when who closed
        // turns out to be unknown).
        let close_seen = by.is_some();
        let mut by = by;
        for dir in [Direction::ToServer, Direction::ToClient] {
            if let Some((len, first)) = self.halves[dir_index(dir)].unseen.take() {
                // Its FIN may have come first, unseen: who closed is not known.
                by = None;
                self.problem(
                    first,
                    format!(
                        "{}: nothing of this direction is in the capture, though the peer \
                         acknowledged {len} bytes of it (a FIN counts as one): a one-way \
                         capture? What needs both directions is not judged",
                        side(dir)
                    ),
                );
            }
        }
        for dir in [Direction::ToServer, Direction::ToClient] {
            let h = dir_index(dir);
            let pending = self.halves[h].framer.pending()
                + self.halves[h].resync.as_ref().map(Vec::len).unwrap_or(0);
            if pending > 0 {
                self.problem(
                    at,
                    format!(
                        "{}: flow ended inside a packet ({pending} bytes unframed)",
                        side(dir)
                    ),
                );
            }
        }
        let closed = closed_by(by, self.client_end);
        self.closed_by = closed.name();
        if close_seen {
            self.close_frame = Some(close_at.frame);
        }
        self.feed(EventKind::Closed { by: closed }, at);
        let monitor = std::mem::replace(&mut self.monitor, Monitor::new(self.version));
        let all = monitor.finish();
        for f in all.into_iter().skip(self.seen_findings) {
            let located = FlowFinding::at(f, at.frame, secs(self.rel(at)));
            self.findings.push(located);
        }
        let start = secs(self.rel(self.first));
        let end = secs(self.rel(self.last));
        FlowReport {
            flow: self.number,
            kind: FlowKind::Mqtt,
            client: super::model::endpoint_text(self.client),
            server: super::model::endpoint_text(self.server),
            roles_from: self.roles_from,
            handshake_seen: self.syn_seen,
            version: Some(self.version.name()),
            version_guessed: !self.version_known,
            client_id: self.client_id,
            keep_alive: self.keep_alive,
            clean_session: self.clean_session,
            connack_code: self.connack_code,
            first_frame: self.first.frame,
            last_frame: self.last.frame,
            start,
            end,
            closed_by: self.closed_by,
            close_frame: self.close_frame,
            packets: (0..16u8)
                .filter(|n| self.counts[usize::from(*n)] > 0)
                .map(|n| {
                    let t = codec::PacketType::from_nibble(n);
                    (t.name(), self.counts[usize::from(n)])
                })
                .collect(),
            packets_to_server: self.to_server,
            packets_to_client: self.to_client,
            problems: self.problems,
            findings: self.findings,
            tls: None,
            websocket: self.websocket,
        }
    }

    /// Count a packet; returns its index in the flow.
    fn count(&mut self, t: codec::PacketType, dir: Direction) -> u32 {
        self.counts[usize::from(t.nibble())] += 1;
        match dir {
            Direction::ToServer => self.to_server += 1,
            Direction::ToClient => self.to_client += 1,
        }
        let index = self.index;
        self.index += 1;
        index
    }

    fn problem(&mut self, at: At, message: String) {
        self.problems.push(NoticeReport {
            frame: Some(at.frame),
            message,
        });
    }
}

/// Decoder violations that no normative statement names: reported as
/// problems of the flow rather than rule findings.
fn without_statement(kind: &codec::ViolationKind) -> Option<String> {
    use codec::ViolationKind as K;
    Some(match kind {
        K::ReservedPacketType => "reserved packet type".into(),
        K::Truncated { field } => format!("ends inside {field}"),
        K::TrailingBytes { count } => format!("{count} bytes after the last field"),
        K::NonMinimalLength => "remaining length not minimally encoded".into(),
        K::UnknownProtocolName => "unknown protocol name".into(),
        _ => return None,
    })
}

/// `part` (which lies in `shared`) as a slice of `shared`, or a copy if it
/// does not lie there after all.
fn slice_of(shared: &Bytes, part: &[u8]) -> Bytes {
    let start = (part.as_ptr() as usize).wrapping_sub(shared.as_ptr() as usize);
    match start.checked_add(part.len()) {
        Some(end) if end <= shared.len() => shared.slice(start..end),
        _ => Bytes::copy_from_slice(part),
    }
}

/// Who closed, in MQTT roles, from the TCP endpoint that did.
pub fn closed_by(by: Option<Endpoint>, client_end: Endpoint) -> ClosedBy {
    match by {
        Some(e) if e == client_end => ClosedBy::Client,
        Some(_) => ClosedBy::Server,
        None => ClosedBy::Unknown,
    }
}

fn dir_index(d: Direction) -> usize {
    match d {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

fn side(d: Direction) -> &'static str {
    match d {
        Direction::ToServer => "client→server",
        Direction::ToClient => "server→client",
    }
}

/// Seconds as f64, rounded to microseconds.
pub fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn at(frame: u64) -> At {
        At {
            frame,
            ts: Duration::from_millis(frame),
        }
    }

    fn flow() -> MqttFlow {
        let a: SocketAddr = "192.0.2.10:50000".parse().unwrap();
        let b: SocketAddr = "192.0.2.1:1883".parse().unwrap();
        let roles = Roles {
            client_end: Endpoint::A,
            from: "port",
        };
        MqttFlow::new(1, a, b, false, roles, None, at(1), Duration::ZERO)
    }

    /// PUBLISH QoS 0, topic "t", `payload` bytes of payload: 5 + payload bytes.
    fn publish(payload: usize) -> Vec<u8> {
        let mut p = vec![0x30];
        let mut len = 3 + payload;
        loop {
            let byte = (len % 128) as u8;
            len /= 128;
            p.push(if len > 0 { byte | 0x80 } else { byte });
            if len == 0 {
                break;
            }
        }
        p.extend([0, 1, b't']);
        p.extend(std::iter::repeat_n(b'x', payload));
        p
    }

    fn messages(r: &FlowReport) -> Vec<String> {
        r.problems.iter().map(|p| p.message.clone()).collect()
    }

    #[test]
    fn a_packet_cut_in_every_segment_is_skipped_to_its_end() {
        let mut f = flow();
        let p = publish(3000);
        assert_eq!(p.len(), 3006);
        // Three segments of 1 000, 1 000 and 1 006 bytes, each cut to 20.
        f.data(Endpoint::A, &p[..20], at(2));
        f.gap(Endpoint::A, 980, true, at(2));
        f.data(Endpoint::A, &p[1000..1020], at(3));
        f.gap(Endpoint::A, 980, true, at(3));
        f.data(Endpoint::A, &p[2000..2020], at(4));
        f.gap(Endpoint::A, 986, true, at(4));
        f.data(Endpoint::A, &[0xc0, 0x00], at(5)); // PINGREQ
        let r = f.close(None, at(5), at(5));
        assert_eq!(r.packets["PUBLISH"], 1);
        assert_eq!(r.packets["PINGREQ"], 1);
        assert_eq!(
            messages(&r),
            ["client→server: 980 bytes missing from the capture inside a PUBLISH of 3006 bytes; \
              framing goes on after it"]
        );
    }

    #[test]
    fn a_gap_past_the_end_of_a_cut_packet_resynchronizes() {
        let mut f = flow();
        let p = publish(100); // 105 bytes
        f.data(Endpoint::A, &p[..20], at(2));
        f.gap(Endpoint::A, 40, true, at(2)); // 45 bytes of the PUBLISH left
                                             // A lost segment: the PUBLISH's last 45 bytes and 10 more.
        f.gap(Endpoint::A, 55, false, at(3));
        let mut next = vec![b'x'; 8]; // the rest of something unknown
        next.extend([0xc0, 0x00, 0xc0, 0x00]); // two PINGREQs
        f.data(Endpoint::A, &next, at(4));
        let r = f.close(None, at(4), at(4));
        assert_eq!(r.packets["PUBLISH"], 1);
        assert_eq!(r.packets["PINGREQ"], 2);
        let m = messages(&r);
        assert_eq!(m.len(), 3, "{m:?}");
        assert!(m[1].starts_with("client→server: 55 bytes missing"), "{m:?}");
        assert!(m[2].contains("framing resumed after the gap"), "{m:?}");
    }

    #[test]
    fn a_segment_lost_inside_a_packet_does_not_count_it() {
        let mut f = flow();
        let p = publish(100);
        f.data(Endpoint::A, &p[..40], at(2));
        f.gap(Endpoint::A, 40, false, at(3));
        f.data(Endpoint::A, &p[80..], at(4));
        f.data(Endpoint::A, &[0xc0, 0x00], at(5));
        let r = f.close(None, at(5), at(5));
        assert!(!r.packets.contains_key("PUBLISH"));
        assert_eq!(r.packets["PINGREQ"], 1);
        assert_eq!(messages(&r).len(), 1);
    }

    /// An unmasked binary frame holding `payload` (under 64 KiB).
    fn ws_binary(payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0x82, 126];
        f.extend((payload.len() as u16).to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    fn websocket_flow() -> MqttFlow {
        let mut f = flow();
        f.over_websocket();
        let request =
            b"GET /mqtt HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n";
        f.data(Endpoint::A, request, at(2));
        let response = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
            Sec-WebSocket-Protocol: mqtt\r\n\r\n";
        f.data(Endpoint::B, response, at(3));
        f
    }

    #[test]
    fn a_gap_inside_a_websocket_binary_frame_is_a_gap_of_the_mqtt_stream() {
        let mut f = websocket_flow();
        let frame = ws_binary(&publish(100));
        f.data(Endpoint::A, &frame[..30], at(4));
        f.gap(Endpoint::A, frame.len() as u64 - 30, true, at(4));
        f.data(Endpoint::A, &ws_binary(&[0xc0, 0x00]), at(5));
        let r = f.close(None, at(5), at(5));
        assert_eq!(r.packets["PUBLISH"], 1);
        assert_eq!(r.packets["PINGREQ"], 1);
        assert_eq!(
            messages(&r),
            [
                "client→server: 79 bytes missing from the capture inside a PUBLISH of 105 bytes; \
              framing goes on after it"
            ]
        );
        assert_eq!(r.websocket.unwrap().chosen, ["mqtt"]);
    }

    #[test]
    fn a_gap_across_websocket_frames_ends_the_direction() {
        let mut f = websocket_flow();
        let frame = ws_binary(&publish(100));
        f.data(Endpoint::A, &frame[..30], at(4));
        f.gap(Endpoint::A, frame.len() as u64, false, at(5));
        f.data(Endpoint::A, &ws_binary(&[0xc0, 0x00]), at(6));
        let r = f.close(None, at(6), at(6));
        assert!(!r.packets.contains_key("PINGREQ"));
        let m = messages(&r);
        assert!(
            m[0].contains("WebSocket frame boundaries with them"),
            "{m:?}"
        );
    }

    /// A text frame whose end is missing from the capture is judged like a
    /// whole one (MQTT-6.0.0-1), at the frame where it ends.
    #[test]
    fn a_text_frame_cut_by_a_gap_is_still_judged() {
        let mut f = websocket_flow();
        let mut frame = ws_binary(&publish(100));
        frame[0] = 0x81; // text
        f.data(Endpoint::A, &frame[..30], at(4));
        f.gap(Endpoint::A, frame.len() as u64 - 30, false, at(5));
        f.data(Endpoint::A, &ws_binary(&[0xc0, 0x00]), at(6));
        let r = f.close(None, at(6), at(6));
        assert_eq!(r.packets["PINGREQ"], 1);
        let rules: Vec<(&str, u64)> = r.findings.iter().map(|x| (x.rule, x.frame)).collect();
        assert_eq!(rules, [("MQTT-6.0.0-1", 5)], "{:?}", r.findings);
        assert!(messages(&r)[0].contains("inside a WebSocket control or text frame"));
    }
}
