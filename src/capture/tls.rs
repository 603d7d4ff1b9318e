//! What a TLS flow shows in clear: versions offered and chosen, SNI, ALPN,
//! whether the server asked for a client certificate and whether one was sent
//! (TLS 1.2), alerts, who closed; encrypted records are counted, not guessed at.
//!
//! [`TlsObserver`] is fed each direction's bytes in order (any split). Memory
//! is bounded: only clear handshake messages (up to [`MAX_HANDSHAKE`] bytes;
//! larger ones are skipped) and alert records are buffered; application data
//! is counted from record headers and never stored. Garbage never panics: a
//! record header that is not TLS stops the parsing of that direction.
//!
//! Arrays of two are indexed 0 = client, 1 = server.

use std::mem;

/// Largest handshake message parsed; larger ones (huge certificate chains)
/// are skipped.
pub const MAX_HANDSHAKE: usize = 64 * 1024;
/// Largest record accepted (2^14 + 2048, the TLSCiphertext limit).
const MAX_RECORD: usize = 18_432;
/// Alerts kept in the summary.
const MAX_ALERTS: usize = 64;
/// ServerHello.random of a HelloRetryRequest (RFC 8446 §4.1.3).
const HRR_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];
const TLS13: u16 = 0x0304;

/// A TLS alert read in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub from_client: bool,
    /// 1 warning, 2 fatal.
    pub level: u8,
    pub description: u8,
    /// RFC 8446 §6 name, or "unknown".
    pub name: &'static str,
}

/// What was seen of one TLS flow so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSummary {
    /// ClientHello legacy_version, then the supported_versions entries (GREASE dropped).
    pub client_versions: Vec<u16>,
    pub sni: Option<String>,
    /// Protocols offered by the client (ALPN).
    pub alpn: Vec<String>,
    /// Protocol chosen by the server, when visible (ServerHello, TLS 1.2).
    pub alpn_selected: Option<String>,
    /// ServerHello supported_versions, else its legacy_version.
    pub server_version: Option<u16>,
    pub cipher_suite: Option<u16>,
    /// A CertificateRequest was seen (only visible in TLS 1.2).
    pub certificate_requested: bool,
    /// TLS 1.2: a client Certificate message was seen; `Some(false)` when empty.
    pub client_certificate: Option<bool>,
    /// Certificates in the server's Certificate message (TLS 1.2).
    pub server_certificates: usize,
    /// Alerts read in clear (at most 64 kept).
    pub alerts: Vec<Alert>,
    /// Alert records sent after encryption started (TLS 1.2; unreadable).
    pub encrypted_alerts: [u32; 2],
    /// Application-data records and their bytes per direction. Under TLS 1.3
    /// this includes the encrypted handshake records.
    pub app_data: [(u64, u64); 2],
    /// Both sides appear to have finished the handshake (TLS 1.2: both sent
    /// ChangeCipherSpec and a record after it; TLS 1.3: both sent an
    /// encrypted record after a 1.3 ServerHello).
    pub handshake_complete_hint: bool,
    /// A HelloRetryRequest was seen.
    pub hello_retry: bool,
    /// Bytes in that direction stopped looking like TLS records.
    pub undecodable: [bool; 2],
    /// Bytes of that direction missing from the capture across a record
    /// boundary: its later records are not read (their boundaries are lost).
    pub lost: [bool; 2],
}

/// Passive per-flow TLS observer.
#[derive(Debug, Clone, Default)]
pub struct TlsObserver {
    dirs: [Dir; 2],
    s: TlsSummary,
}

#[derive(Debug, Clone, Default)]
struct Dir {
    header: Vec<u8>,
    /// The record being read: content type, bytes left, sent in clear.
    cur: Option<(u8, usize, bool)>,
    alert_buf: Vec<u8>,
    hs_buf: Vec<u8>,
    hs_skip: usize,
    encrypted: bool,
    /// Encrypt from the next record that does not continue a handshake
    /// message (client side after a TLS 1.3 ServerHello).
    encrypt_next: bool,
    /// Records after encryption started.
    after_encryption: u32,
    /// Bytes of a handshake record went missing: handshake message
    /// boundaries are lost, so no later handshake message is parsed.
    handshake_lost: bool,
    broken: bool,
}

/// Whether a stream's first bytes look like a TLS handshake record (content
/// type 22, version 3.x; with six bytes or more, a ClientHello or ServerHello).
/// Fewer than three bytes are judged on what is there.
pub fn looks_like_tls(first_bytes: &[u8]) -> bool {
    match first_bytes {
        [] => false,
        [t] => *t == 22,
        [t, major] => *t == 22 && *major == 3,
        [t, major, minor, rest @ ..] => {
            *t == 22 && *major == 3 && *minor <= 4 && rest.get(2).is_none_or(|h| matches!(h, 1 | 2))
        }
    }
}

impl TlsObserver {
    /// Feed the next bytes of one direction.
    pub fn data(&mut self, from_client: bool, mut bytes: &[u8]) {
        let side = usize::from(!from_client);
        while !bytes.is_empty() && !self.dirs[side].broken {
            let d = &mut self.dirs[side];
            let Some((ctype, left, clear)) = d.cur else {
                let take = (5 - d.header.len()).min(bytes.len());
                d.header.extend_from_slice(&bytes[..take]);
                bytes = &bytes[take..];
                if d.header.len() == 5 {
                    self.record_start(side);
                }
                continue;
            };
            let take = left.min(bytes.len());
            let (chunk, rest) = bytes.split_at(take);
            bytes = rest;
            let left = left - take;
            d.cur = (left > 0).then_some((ctype, left, clear));
            if clear {
                self.record_bytes(side, ctype, chunk, left == 0);
            }
        }
    }

    /// `len` bytes of one direction are missing from the capture. Inside a
    /// record, the rest of that record is skipped (and, in a handshake
    /// record, every later handshake message of that direction, whose
    /// boundaries went with it); across a record boundary the direction is
    /// read no further, as nothing tells where the next record starts.
    pub fn gap(&mut self, from_client: bool, len: u64) {
        let side = usize::from(!from_client);
        let d = &mut self.dirs[side];
        if d.broken || len == 0 {
            return;
        }
        match d.cur {
            Some((ctype, left, clear)) if len <= left as u64 => {
                // len <= left here, so the cast cannot truncate.
                let left = left - len as usize;
                d.cur = (left > 0).then_some((ctype, left, false));
                d.alert_buf.clear();
                if clear && ctype == 22 {
                    d.handshake_lost = true;
                    d.hs_buf.clear();
                    d.hs_skip = 0;
                }
            }
            _ => {
                d.broken = true;
                self.s.lost[side] = true;
            }
        }
    }

    /// What was seen so far.
    pub fn summary(&self) -> TlsSummary {
        self.s.clone()
    }

    fn record_start(&mut self, side: usize) {
        let d = &mut self.dirs[side];
        let h = mem::take(&mut d.header);
        let (ctype, major) = (h[0], h[1]);
        let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
        if !(20..=24).contains(&ctype) || major != 3 || len > MAX_RECORD {
            d.broken = true;
            self.s.undecodable[side] = true;
            return;
        }
        if d.encrypt_next && d.hs_buf.is_empty() && d.hs_skip == 0 {
            d.encrypted = true;
        }
        if d.encrypted {
            d.after_encryption = d.after_encryption.saturating_add(1);
        }
        let clear = !d.encrypted || ctype == 20;
        match ctype {
            // Under TLS 1.3 ChangeCipherSpec is only for middleboxes (it may
            // even precede a second ClientHello after a HelloRetryRequest).
            20 if self.s.server_version != Some(TLS13) => d.encrypted = true,
            21 if !clear => {
                self.s.encrypted_alerts[side] = self.s.encrypted_alerts[side].saturating_add(1)
            }
            23 => {
                let a = &mut self.s.app_data[side];
                a.0 += 1;
                a.1 += len as u64;
            }
            _ => {}
        }
        d.cur = (len > 0).then_some((ctype, len, clear));
        d.header = h;
        d.header.clear();
        self.update_hint();
    }

    fn record_bytes(&mut self, side: usize, ctype: u8, chunk: &[u8], last: bool) {
        let d = &mut self.dirs[side];
        match ctype {
            21 => {
                d.alert_buf.extend_from_slice(chunk);
                if last {
                    let buf = mem::take(&mut d.alert_buf);
                    for pair in buf.chunks_exact(2) {
                        self.alert(side, pair[0], pair[1]);
                    }
                    self.dirs[side].alert_buf = buf;
                    self.dirs[side].alert_buf.clear();
                }
            }
            22 => self.handshake_bytes(side, chunk),
            _ => {}
        }
    }

    fn alert(&mut self, side: usize, level: u8, description: u8) {
        if self.s.alerts.len() < MAX_ALERTS {
            self.s.alerts.push(Alert {
                from_client: side == 0,
                level,
                description,
                name: alert_name(description),
            });
        }
    }

    fn handshake_bytes(&mut self, side: usize, mut bytes: &[u8]) {
        if self.dirs[side].handshake_lost {
            return;
        }
        loop {
            let d = &mut self.dirs[side];
            if d.hs_skip > 0 {
                let n = d.hs_skip.min(bytes.len());
                d.hs_skip -= n;
                bytes = &bytes[n..];
                if d.hs_skip > 0 {
                    return;
                }
            }
            let take = 4usize.saturating_sub(d.hs_buf.len()).min(bytes.len());
            d.hs_buf.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if d.hs_buf.len() < 4 {
                return;
            }
            let len = u24(&d.hs_buf[1..4]);
            if len > MAX_HANDSHAKE {
                d.hs_buf.clear();
                d.hs_skip = len;
                continue;
            }
            let take = (4 + len - d.hs_buf.len()).min(bytes.len());
            d.hs_buf.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if d.hs_buf.len() < 4 + len {
                return;
            }
            let msg = mem::take(&mut d.hs_buf);
            // Malformed messages are ignored: the summary keeps what parsed.
            let _ = self.message(side, msg[0], &msg[4..]);
            self.dirs[side].hs_buf = msg;
            self.dirs[side].hs_buf.clear();
        }
    }

    fn message(&mut self, side: usize, kind: u8, body: &[u8]) -> Option<()> {
        let mut r = Cur(body);
        match (side, kind) {
            (0, 1) => self.client_hello(&mut r),
            (1, 2) => self.server_hello(&mut r),
            (1, 13) => {
                self.s.certificate_requested = true;
                Some(())
            }
            (_, 11) => {
                let mut list = Cur(r.vec24()?);
                let mut n = 0;
                while !list.0.is_empty() {
                    list.vec24()?;
                    n += 1;
                }
                if side == 0 {
                    self.s.client_certificate = Some(n > 0);
                } else {
                    self.s.server_certificates = n;
                }
                Some(())
            }
            _ => Some(()),
        }
    }

    fn client_hello(&mut self, r: &mut Cur<'_>) -> Option<()> {
        let legacy = r.u16()?;
        // A later ClientHello (after a HelloRetryRequest) replaces the first.
        self.s.client_versions = vec![legacy];
        self.s.sni = None;
        self.s.alpn.clear();
        r.take(32)?;
        r.vec8()?;
        r.vec16()?;
        r.vec8()?;
        let mut exts = Cur(r.vec16()?);
        while !exts.0.is_empty() {
            let kind = exts.u16()?;
            let mut e = Cur(exts.vec16()?);
            match kind {
                0 => {
                    let mut list = Cur(e.vec16()?);
                    while !list.0.is_empty() {
                        let name_type = list.u8()?;
                        let name = list.vec16()?;
                        if name_type == 0 && self.s.sni.is_none() {
                            self.s.sni = Some(String::from_utf8_lossy(name).into_owned());
                        }
                    }
                }
                16 => {
                    let mut list = Cur(e.vec16()?);
                    while !list.0.is_empty() {
                        let p = list.vec8()?;
                        self.s.alpn.push(String::from_utf8_lossy(p).into_owned());
                    }
                }
                43 => {
                    let mut list = Cur(e.vec8()?);
                    while !list.0.is_empty() {
                        let v = list.u16()?;
                        if !is_grease(v) && !self.s.client_versions.contains(&v) {
                            self.s.client_versions.push(v);
                        }
                    }
                }
                _ => {}
            }
        }
        Some(())
    }

    fn server_hello(&mut self, r: &mut Cur<'_>) -> Option<()> {
        let legacy = r.u16()?;
        let random = r.take(32)?;
        let hrr = random == HRR_RANDOM;
        self.s.hello_retry |= hrr;
        self.s.server_version = Some(legacy);
        r.vec8()?;
        self.s.cipher_suite = Some(r.u16()?);
        r.u8()?;
        let mut exts = Cur(r.vec16().unwrap_or_default());
        while !exts.0.is_empty() {
            let kind = exts.u16()?;
            let mut e = Cur(exts.vec16()?);
            match kind {
                43 => self.s.server_version = Some(e.u16()?),
                16 => {
                    let mut list = Cur(e.vec16()?);
                    let p = list.vec8()?;
                    self.s.alpn_selected = Some(String::from_utf8_lossy(p).into_owned());
                }
                _ => {}
            }
        }
        if self.s.server_version == Some(TLS13) && !hrr {
            // Everything after a 1.3 ServerHello is encrypted, both ways
            // (ChangeCipherSpec records aside).
            self.dirs[1].encrypted = true;
            self.dirs[0].encrypt_next = true;
        }
        Some(())
    }

    fn update_hint(&mut self) {
        let [c, s] = &self.dirs;
        self.s.handshake_complete_hint = if self.s.server_version == Some(TLS13) {
            self.s.app_data[0].0 > 0 && self.s.app_data[1].0 > 0
        } else {
            c.after_encryption > 0 && s.after_encryption > 0
        };
    }
}

/// RFC 8446 §6 alert name (and reserved 1.2 names), or "unknown".
#[rustfmt::skip]
pub fn alert_name(description: u8) -> &'static str {
    match description {
        0 => "close_notify", 10 => "unexpected_message", 20 => "bad_record_mac",
        21 => "decryption_failed", 22 => "record_overflow", 30 => "decompression_failure",
        40 => "handshake_failure", 41 => "no_certificate", 42 => "bad_certificate",
        43 => "unsupported_certificate", 44 => "certificate_revoked",
        45 => "certificate_expired", 46 => "certificate_unknown", 47 => "illegal_parameter",
        48 => "unknown_ca", 49 => "access_denied", 50 => "decode_error", 51 => "decrypt_error",
        60 => "export_restriction", 70 => "protocol_version", 71 => "insufficient_security",
        80 => "internal_error", 86 => "inappropriate_fallback", 90 => "user_canceled",
        100 => "no_renegotiation", 109 => "missing_extension", 110 => "unsupported_extension",
        111 => "certificate_unobtainable", 112 => "unrecognized_name",
        113 => "bad_certificate_status_response", 114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity", 116 => "certificate_required",
        120 => "no_application_protocol",
        _ => "unknown",
    }
}

fn is_grease(v: u16) -> bool {
    v & 0x0F0F == 0x0A0A && (v >> 8) == (v & 0xFF)
}

fn u24(b: &[u8]) -> usize {
    b.iter()
        .take(3)
        .fold(0, |acc, x| (acc << 8) | usize::from(*x))
}

/// A bounds-checked reader over a message body.
struct Cur<'a>(&'a [u8]);

impl<'a> Cur<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
    fn vec24(&mut self) -> Option<&'a [u8]> {
        let n = u24(self.take(3)?);
        self.take(n)
    }
}
