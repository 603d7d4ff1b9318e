//! MQTT over WebSocket in a capture (RFC 6455; MQTT section 6). Each
//! direction starts with its side of the HTTP upgrade, then carries
//! WebSocket frames. [`Decoder`] turns one direction's bytes into pieces:
//! the upgrade header, MQTT bytes from binary frames (unmasked, in order,
//! whatever the frame boundaries), text frames and close frames. Payloads
//! are never buffered: a frame split across segments comes out in pieces.

/// Largest HTTP upgrade header accepted.
pub const MAX_HEADER: usize = 16 * 1024;

/// What one direction's bytes held.
#[derive(Debug, PartialEq)]
pub enum Piece<'a> {
    /// This side's HTTP upgrade header, complete.
    Upgrade(Upgrade),
    /// MQTT bytes from a binary frame (or its continuation).
    Mqtt(&'a [u8]),
    /// A whole text frame (or continuation of one) of this many bytes.
    Text(u64),
    /// A close frame, with its status code if it has one.
    Close(Option<u16>),
    /// Bytes that end WebSocket decoding of this direction.
    Broken(String),
}

/// One side of the HTTP upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    /// Request line or status line.
    pub first_line: String,
    /// `Sec-WebSocket-Protocol` tokens: offered (request) or chosen (response).
    pub protocols: Vec<String>,
    /// Whether the header asks for (or grants) the WebSocket upgrade.
    pub websocket: bool,
}

impl Upgrade {
    /// Parse an HTTP header block (up to, without, the blank line).
    pub fn parse(header: &[u8]) -> Upgrade {
        let text = String::from_utf8_lossy(header);
        let mut lines = text.split("\r\n");
        let first_line = lines.next().unwrap_or_default().trim().to_string();
        let mut protocols = Vec::new();
        let mut upgrade = false;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let name = name.trim();
            if name.eq_ignore_ascii_case("sec-websocket-protocol") {
                protocols.extend(
                    value
                        .split(',')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(str::to_string),
                );
            } else if name.eq_ignore_ascii_case("upgrade") {
                upgrade |= value
                    .split(',')
                    .any(|v| v.trim().eq_ignore_ascii_case("websocket"));
            }
        }
        let status_101 =
            first_line.starts_with("HTTP/") && first_line.split(' ').nth(1) == Some("101");
        Upgrade {
            websocket: upgrade && (first_line.starts_with("GET ") || status_101),
            first_line,
            protocols,
        }
    }

    /// Whether a request offers MQTT (`mqtt`, or `mqttv3.1` of MQTT 3.1).
    pub fn offers_mqtt(&self) -> bool {
        self.protocols
            .iter()
            .any(|p| p.eq_ignore_ascii_case("mqtt") || p.eq_ignore_ascii_case("mqttv3.1"))
    }
}

/// Where `header` ends: the offset just past its blank line.
pub fn header_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
}

/// What bytes skipped inside a frame's payload belonged to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    /// A binary frame: the MQTT stream has the gap.
    Mqtt,
    /// A text or control frame: the MQTT stream has lost nothing.
    Other,
    /// The rest of a text frame of this many bytes, which ends there: the
    /// MQTT stream has lost nothing, and the frame is reported as if whole.
    TextEnd(u64),
}

/// What a data frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Binary,
    Text,
    Close,
    /// Ping, pong: skipped.
    Other,
}

#[derive(Debug)]
enum State {
    /// Collecting the HTTP header.
    Http,
    /// Collecting a frame header (in `held`).
    FrameHeader,
    /// Inside a frame's payload.
    Payload {
        left: u64,
        mask: Option<[u8; 4]>,
        /// Payload bytes seen so far (the masking key's position).
        done: u64,
        kind: Kind,
    },
    /// Nothing more is decoded.
    Broken,
}

/// One direction of a WebSocket connection.
#[derive(Debug)]
pub struct Decoder {
    state: State,
    /// HTTP header or frame header bytes so far; a close frame's payload.
    held: Vec<u8>,
    /// Unmasked payload bytes handed out.
    scratch: Vec<u8>,
    /// What continuation frames continue.
    message: Kind,
}

impl Default for Decoder {
    fn default() -> Decoder {
        Decoder {
            state: State::Http,
            held: Vec::new(),
            scratch: Vec::new(),
            message: Kind::Binary,
        }
    }
}

impl Decoder {
    /// Decode the next bytes of this direction.
    pub fn push(&mut self, data: &[u8], out: &mut dyn FnMut(Piece<'_>)) {
        let mut data = data;
        while !data.is_empty() {
            data = match self.state {
                State::Broken => return,
                State::Http => self.http(data, out),
                State::FrameHeader => self.frame_header(data, out),
                State::Payload { .. } => self.payload(data, out),
            };
        }
    }

    /// `len` bytes of this direction were never captured. Inside a frame's
    /// payload they are skipped, and what they belonged to is returned;
    /// anywhere else the frame boundaries are lost and decoding stops (None).
    pub fn skip(&mut self, len: u64) -> Option<Skipped> {
        match &mut self.state {
            State::Payload {
                left, done, kind, ..
            } if len <= *left && *kind != Kind::Close => {
                *left -= len;
                *done += len;
                let (k, total, ended) = (*kind, *done, *left == 0);
                if ended {
                    self.state = State::FrameHeader;
                    self.held.clear();
                }
                Some(match k {
                    Kind::Binary => Skipped::Mqtt,
                    Kind::Text if ended => Skipped::TextEnd(total),
                    _ => Skipped::Other,
                })
            }
            _ => {
                self.state = State::Broken;
                None
            }
        }
    }

    fn broken<'d>(&mut self, why: String, out: &mut dyn FnMut(Piece<'_>)) -> &'d [u8] {
        self.state = State::Broken;
        out(Piece::Broken(why));
        &[]
    }

    fn http<'d>(&mut self, data: &'d [u8], out: &mut dyn FnMut(Piece<'_>)) -> &'d [u8] {
        // The blank line may straddle two calls: search from 3 bytes back.
        let from = self.held.len().saturating_sub(3);
        self.held.extend_from_slice(data);
        let Some(end) = header_end(&self.held[from..]).map(|e| e + from) else {
            if self.held.len() > MAX_HEADER {
                return self.broken(
                    format!("no end of the HTTP header in {MAX_HEADER} bytes"),
                    out,
                );
            }
            return &[];
        };
        let upgrade = Upgrade::parse(&self.held[..end - 4]);
        // The bytes after the header came in `data` (the blank line ends
        // in `data`: it was not in the bytes held before).
        let tail = self.held.len() - end;
        let rest = data
            .get(data.len().saturating_sub(tail)..)
            .unwrap_or_default();
        self.held.clear();
        let websocket = upgrade.websocket;
        let first_line = upgrade.first_line.clone();
        out(Piece::Upgrade(upgrade));
        if !websocket {
            return self.broken(format!("no WebSocket upgrade ({first_line})"), out);
        }
        self.state = State::FrameHeader;
        rest
    }

    fn frame_header<'d>(&mut self, data: &'d [u8], out: &mut dyn FnMut(Piece<'_>)) -> &'d [u8] {
        let mut data = data;
        // The header's size is known from its first two bytes.
        while self.held.len() < 2 {
            let Some((&b, rest)) = data.split_first() else {
                return data;
            };
            self.held.push(b);
            data = rest;
        }
        let (b0, b1) = (self.held[0], self.held[1]);
        let masked = b1 & 0x80 != 0;
        let ext = match b1 & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let size = 2 + ext + if masked { 4 } else { 0 };
        let take = (size - self.held.len()).min(data.len());
        self.held.extend_from_slice(&data[..take]);
        let data = &data[take..];
        if self.held.len() < size {
            return data;
        }
        let len = match ext {
            2 => u64::from(u16::from_be_bytes([self.held[2], self.held[3]])),
            8 => self.held[2..10]
                .iter()
                .fold(0u64, |v, &b| v << 8 | u64::from(b)),
            _ => u64::from(b1 & 0x7f),
        };
        let mask = masked.then(|| {
            let m = &self.held[size - 4..size];
            [m[0], m[1], m[2], m[3]]
        });
        if b0 & 0x70 != 0 {
            // RSV1 is permessage-deflate: compressed payloads are not inflated.
            return self.broken(
                format!("WebSocket frame with reserved bits {:#04x} (a compression extension?): not decoded", b0 & 0x70),
                out,
            );
        }
        let kind = match b0 & 0x0f {
            0 => self.message,
            1 => Kind::Text,
            2 => Kind::Binary,
            8 => Kind::Close,
            9 | 10 => Kind::Other,
            op => return self.broken(format!("WebSocket frame with unknown opcode {op}"), out),
        };
        if matches!(b0 & 0x0f, 1 | 2) {
            self.message = kind;
        }
        if kind == Kind::Close && len > 125 {
            return self.broken(format!("WebSocket close frame of {len} bytes"), out);
        }
        self.held.clear();
        self.state = State::Payload {
            left: len,
            mask,
            done: 0,
            kind,
        };
        if len == 0 {
            self.end_frame(kind, 0, out);
        }
        data
    }

    fn payload<'d>(&mut self, data: &'d [u8], out: &mut dyn FnMut(Piece<'_>)) -> &'d [u8] {
        let State::Payload {
            left,
            mask,
            done,
            kind,
        } = &mut self.state
        else {
            return data;
        };
        let n = usize::try_from(*left).map_or(data.len(), |l| l.min(data.len()));
        let (chunk, rest) = data.split_at(n);
        let start = *done;
        *left -= n as u64;
        *done += n as u64;
        let (kind, mask, finished, total) = (*kind, *mask, *left == 0, *done);
        let bytes: &[u8] = match mask {
            Some(m) if matches!(kind, Kind::Binary | Kind::Close) => {
                self.scratch.clear();
                self.scratch.extend(
                    chunk
                        .iter()
                        .zip(start..)
                        .map(|(b, i)| b ^ m[(i % 4) as usize]),
                );
                &self.scratch
            }
            _ => chunk,
        };
        match kind {
            Kind::Binary => out(Piece::Mqtt(bytes)),
            Kind::Close => self.held.extend_from_slice(bytes),
            Kind::Text | Kind::Other => {}
        }
        if finished {
            self.end_frame(kind, total, out);
        }
        rest
    }

    fn end_frame(&mut self, kind: Kind, len: u64, out: &mut dyn FnMut(Piece<'_>)) {
        match kind {
            Kind::Text => out(Piece::Text(len)),
            Kind::Close => {
                let code = match self.held[..] {
                    [a, b, ..] => Some(u16::from_be_bytes([a, b])),
                    _ => None,
                };
                out(Piece::Close(code));
            }
            Kind::Binary | Kind::Other => {}
        }
        self.held.clear();
        self.state = State::FrameHeader;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame with FIN set; masked with `mask` when given.
    fn frame(opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
        let mut f = vec![0x80 | opcode];
        let m = if mask.is_some() { 0x80 } else { 0 };
        match payload.len() {
            n if n < 126 => f.push(m | n as u8),
            n if n < 65_536 => {
                f.push(m | 126);
                f.extend((n as u16).to_be_bytes());
            }
            n => {
                f.push(m | 127);
                f.extend((n as u64).to_be_bytes());
            }
        }
        match mask {
            Some(k) => {
                f.extend(k);
                f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
            }
            None => f.extend_from_slice(payload),
        }
        f
    }

    /// Decode `input` fed in pieces of `step` bytes; MQTT bytes are joined.
    fn decode(input: &[u8], step: usize) -> (Vec<u8>, Vec<String>) {
        let mut d = Decoder::default();
        let mut mqtt = Vec::new();
        let mut other = Vec::new();
        for chunk in input.chunks(step) {
            d.push(chunk, &mut |p| match p {
                Piece::Mqtt(b) => mqtt.extend_from_slice(b),
                Piece::Upgrade(u) => {
                    other.push(format!("upgrade {} {:?}", u.first_line, u.protocols))
                }
                p => other.push(format!("{p:?}")),
            });
        }
        (mqtt, other)
    }

    const REQUEST: &[u8] = b"GET /mqtt HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Protocol: mqtt, mqttv3.1\r\n\r\n";

    #[test]
    fn masked_frames_in_any_split_give_the_mqtt_bytes() {
        let key = Some([1, 2, 3, 4]);
        let mut input = REQUEST.to_vec();
        input.extend(frame(2, b"\x10\x0c\x00\x04MQTT", key));
        // A continuation frame, a ping in between, then the rest.
        input[REQUEST.len()] &= 0x7f; // no FIN on the first frame
        input.extend(frame(9, b"hi", key));
        input.extend(frame(0, b"\x04\x02\x00\x3c\x00\x00", key));
        input.extend(frame(8, b"\x03\xe8", key));
        for step in [1, 2, 3, 7, 1000] {
            let (mqtt, other) = decode(&input, step);
            assert_eq!(
                mqtt, b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00",
                "step {step}"
            );
            assert_eq!(
                other,
                [
                    "upgrade GET /mqtt HTTP/1.1 [\"mqtt\", \"mqttv3.1\"]".to_string(),
                    "Close(Some(1000))".to_string()
                ],
                "step {step}"
            );
        }
    }

    #[test]
    fn long_lengths_and_text_frames() {
        let mut input = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
            Sec-WebSocket-Protocol: mqtt\r\n\r\n"
            .to_vec();
        let big = vec![0x30; 70_000];
        input.extend(frame(2, &big, None));
        input.extend(frame(1, &[b'x'; 300], None));
        let (mqtt, other) = decode(&input, 999);
        assert_eq!(mqtt.len(), 70_000);
        assert_eq!(other[1], "Text(300)");
    }

    #[test]
    fn a_refused_upgrade_and_bad_frames_stop_decoding() {
        let (_, other) = decode(b"HTTP/1.1 404 Not Found\r\n\r\n\x82\x00", 5);
        assert_eq!(
            other[1],
            "Broken(\"no WebSocket upgrade (HTTP/1.1 404 Not Found)\")"
        );
        let mut input = REQUEST.to_vec();
        input.extend([0xc2, 0x00]); // RSV1: compressed
        input.extend(frame(2, b"x", None));
        let (mqtt, other) = decode(&input, 4);
        assert!(mqtt.is_empty());
        assert!(other[1].contains("reserved bits 0x40"), "{other:?}");
    }

    #[test]
    fn a_gap_inside_a_payload_is_skipped() {
        let mut d = Decoder::default();
        d.push(REQUEST, &mut |_| {});
        let f = frame(2, &[7u8; 100], Some([9, 9, 9, 9]));
        let mut got = Vec::new();
        d.push(&f[..20], &mut |p| {
            if let Piece::Mqtt(b) = p {
                got.extend_from_slice(b)
            }
        });
        assert_eq!(d.skip(50), Some(Skipped::Mqtt));
        d.push(&f[70..], &mut |p| {
            if let Piece::Mqtt(b) = p {
                got.extend_from_slice(b)
            }
        });
        // 14 + 36 bytes around the gap, unmasked at their true positions.
        assert_eq!(got, vec![7u8; 50]);
        // Past the frame's end the boundaries are lost.
        d.push(&frame(2, b"ab", None)[..1], &mut |_| {});
        assert_eq!(d.skip(5), None);
    }

    /// A text frame whose end was never captured is still a text frame.
    #[test]
    fn a_gap_that_ends_a_text_frame_names_it() {
        let mut d = Decoder::default();
        d.push(b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", &mut |_| {});
        let f = frame(1, &[b'x'; 40], Some([1, 2, 3, 4]));
        let mut texts = Vec::new();
        d.push(&f[..20], &mut |p| texts.push(format!("{p:?}")));
        assert_eq!(d.skip(10), Some(Skipped::Other));
        assert_eq!(d.skip(f.len() as u64 - 30), Some(Skipped::TextEnd(40)));
        assert!(texts.is_empty(), "{texts:?}");
        // The next frame is decoded as usual.
        d.push(&frame(2, b"ab", None), &mut |p| {
            texts.push(format!("{p:?}"))
        });
        assert_eq!(texts, vec![format!("{:?}", Piece::Mqtt(b"ab"))]);
    }

    /// Everything a decoder says about `input` fed in pieces cut at `cuts`.
    fn pieces(input: &[u8], cuts: &[usize]) -> (Vec<u8>, Vec<String>) {
        let mut d = Decoder::default();
        let (mut mqtt, mut other) = (Vec::new(), Vec::new());
        let mut at = 0;
        let mut ends: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
        ends.sort_unstable();
        ends.push(input.len());
        for end in ends {
            d.push(&input[at..end.max(at)], &mut |p| match p {
                Piece::Mqtt(b) => mqtt.extend_from_slice(b),
                p => other.push(format!("{p:?}")),
            });
            at = end.max(at);
        }
        (mqtt, other)
    }

    proptest::proptest! {
        /// Any bytes after an upgrade, cut anywhere: no panic, and the same
        /// pieces whatever the cuts.
        #[test]
        fn any_bytes_in_any_split_decode_alike(
            frames in proptest::collection::vec(
                (0u8..16, proptest::collection::vec(proptest::num::u8::ANY, 0..300), proptest::bool::ANY),
                0..6,
            ),
            noise in proptest::collection::vec(proptest::num::u8::ANY, 0..40),
            cuts in proptest::collection::vec(0usize..4000, 0..12),
        ) {
            let mut input = REQUEST.to_vec();
            for (op, payload, masked) in &frames {
                input.extend(frame(*op, payload, masked.then_some([7, 1, 2, 9])));
            }
            input.extend(&noise);
            let whole = pieces(&input, &[]);
            proptest::prop_assert_eq!(pieces(&input, &cuts), whole);
        }
    }

    #[test]
    fn parse_reads_protocols_and_upgrade_case_insensitively() {
        let u =
            Upgrade::parse(b"GET / HTTP/1.1\r\nUPGRADE: WebSocket\r\nsec-websocket-protocol: MQTT");
        assert!(u.websocket && u.offers_mqtt());
        let u = Upgrade::parse(b"GET / HTTP/1.1\r\nSec-WebSocket-Protocol: chat");
        assert!(!u.websocket && !u.offers_mqtt());
    }
}
