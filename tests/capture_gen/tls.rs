//! TLS 1.2 records built by hand for the mutual-authentication samples:
//! the handshake messages a passive observer reads in clear, with fixed
//! stand-in bytes where keys, signatures and certificates would be.

const TLS12: [u8; 2] = [0x03, 0x03];
const HANDSHAKE: u8 = 22;
const CHANGE_CIPHER_SPEC: u8 = 20;
const ALERT: u8 = 21;
const APPLICATION_DATA: u8 = 23;
/// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256.
const SUITE: [u8; 2] = [0xC0, 0x2F];

fn filler(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            seed.wrapping_mul(31)
                .wrapping_add((i as u8).wrapping_mul(7))
        })
        .collect()
}

fn u16be(n: usize) -> [u8; 2] {
    (n as u16).to_be_bytes()
}

fn u24be(n: usize) -> [u8; 3] {
    let b = (n as u32).to_be_bytes();
    [b[1], b[2], b[3]]
}

fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![content_type, TLS12[0], TLS12[1]];
    r.extend(u16be(body.len()));
    r.extend_from_slice(body);
    r
}

fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut h = vec![msg_type];
    h.extend(u24be(body.len()));
    h.extend_from_slice(body);
    h
}

/// A certificate list of `certs` stand-in DER blobs.
fn certificate(certs: &[Vec<u8>]) -> Vec<u8> {
    let mut list = Vec::new();
    for c in certs {
        list.extend(u24be(c.len()));
        list.extend_from_slice(c);
    }
    let mut body = u24be(list.len()).to_vec();
    body.extend(list);
    handshake(11, &body)
}

fn stand_in_cert(seed: u8) -> Vec<u8> {
    let mut c = vec![0x30, 0x81, 0x7D];
    c.extend(filler(seed, 125));
    c
}

fn extension(id: u16, data: &[u8]) -> Vec<u8> {
    let mut e = id.to_be_bytes().to_vec();
    e.extend(u16be(data.len()));
    e.extend_from_slice(data);
    e
}

/// ClientHello for TLS 1.2 with SNI "broker.example" and ALPN "mqtt".
pub fn client_hello() -> Vec<u8> {
    let mut b = TLS12.to_vec();
    b.extend(filler(1, 32)); // random
    b.push(0); // session id
    b.extend(u16be(2));
    b.extend(SUITE);
    b.extend([1, 0]); // compression: null
    let name = b"broker.example";
    let mut sni = u16be(name.len() + 3).to_vec();
    sni.push(0);
    sni.extend(u16be(name.len()));
    sni.extend_from_slice(name);
    let alpn = [0, 5, 4, b'm', b'q', b't', b't'];
    let mut exts = extension(0x0000, &sni);
    exts.extend(extension(0x0010, &alpn));
    b.extend(u16be(exts.len()));
    b.extend(exts);
    record(HANDSHAKE, &handshake(1, &b))
}

/// ServerHello, Certificate, ServerKeyExchange, CertificateRequest,
/// ServerHelloDone in one record.
pub fn server_flight() -> Vec<u8> {
    let mut hello = TLS12.to_vec();
    hello.extend(filler(2, 32));
    hello.push(0);
    hello.extend(SUITE);
    hello.push(0);
    let exts = extension(0x0010, &[0, 5, 4, b'm', b'q', b't', b't']);
    hello.extend(u16be(exts.len()));
    hello.extend(exts);
    let mut ske = vec![3, 0x00, 0x1D, 32]; // named curve x25519
    ske.extend(filler(3, 32));
    ske.extend([0x08, 0x04]); // rsa_pss_rsae_sha256
    ske.extend(u16be(64));
    ske.extend(filler(4, 64));
    let mut cr = vec![1, 1]; // certificate types: rsa_sign
    cr.extend(u16be(2));
    cr.extend([0x08, 0x04]);
    cr.extend(u16be(0)); // no CA names
    let mut msgs = handshake(2, &hello);
    msgs.extend(certificate(&[stand_in_cert(5), stand_in_cert(6)]));
    msgs.extend(handshake(12, &ske));
    msgs.extend(handshake(13, &cr));
    msgs.extend(handshake(14, &[]));
    record(HANDSHAKE, &msgs)
}

/// Certificate (one, or empty), ClientKeyExchange, CertificateVerify (only
/// with a certificate), ChangeCipherSpec, then the encrypted Finished.
pub fn client_flight(with_cert: bool) -> Vec<u8> {
    let certs = if with_cert {
        vec![stand_in_cert(7)]
    } else {
        Vec::new()
    };
    let mut msgs = certificate(&certs);
    let mut cke = vec![32];
    cke.extend(filler(8, 32));
    msgs.extend(handshake(16, &cke));
    if with_cert {
        let mut cv = vec![0x08, 0x04];
        cv.extend(u16be(64));
        cv.extend(filler(9, 64));
        msgs.extend(handshake(15, &cv));
    }
    let mut out = record(HANDSHAKE, &msgs);
    out.extend(record(CHANGE_CIPHER_SPEC, &[1]));
    out.extend(record(HANDSHAKE, &filler(10, 40)));
    out
}

/// The server's ChangeCipherSpec and encrypted Finished.
pub fn server_finished() -> Vec<u8> {
    let mut out = record(CHANGE_CIPHER_SPEC, &[1]);
    out.extend(record(HANDSHAKE, &filler(11, 40)));
    out
}

/// One application-data record carrying `len` bytes of (stand-in) MQTT.
pub fn app_data(seed: u8, len: usize) -> Vec<u8> {
    record(APPLICATION_DATA, &filler(seed, len + 24))
}

/// An encrypted close_notify.
pub fn encrypted_alert(seed: u8) -> Vec<u8> {
    record(ALERT, &filler(seed, 26))
}

/// A fatal alert in clear (sent before the sender's ChangeCipherSpec).
pub fn fatal_alert(description: u8) -> Vec<u8> {
    record(ALERT, &[2, description])
}
