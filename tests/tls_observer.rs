//! The passive TLS observer on hand-built TLS 1.2 and 1.3 flights, split at
//! arbitrary points, and on arbitrary bytes.
#![allow(clippy::unwrap_used)]

use mqttspec::capture::tls::{alert_name, looks_like_tls, TlsObserver, TlsSummary};
use proptest::prelude::*;

const HRR_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

fn v8(b: &[u8]) -> Vec<u8> {
    [&[b.len() as u8][..], b].concat()
}
fn v16(b: &[u8]) -> Vec<u8> {
    [&(b.len() as u16).to_be_bytes()[..], b].concat()
}
fn v24(b: &[u8]) -> Vec<u8> {
    [&(b.len() as u32).to_be_bytes()[1..], b].concat()
}
fn record(ctype: u8, body: &[u8]) -> Vec<u8> {
    [&[ctype, 3, 3][..], &v16(body)].concat()
}
fn hs(kind: u8, body: &[u8]) -> Vec<u8> {
    [&[kind][..], &v24(body)].concat()
}
fn ext(kind: u16, body: &[u8]) -> Vec<u8> {
    [&kind.to_be_bytes()[..], &v16(body)].concat()
}

fn client_hello(sni: &str, alpn: &[&str], versions: &[u16]) -> Vec<u8> {
    let sni_ext = ext(0, &v16(&[&[0u8][..], &v16(sni.as_bytes())].concat()));
    let protos: Vec<u8> = alpn.iter().flat_map(|p| v8(p.as_bytes())).collect();
    let mut exts = [sni_ext, ext(16, &v16(&protos))].concat();
    if !versions.is_empty() {
        let list: Vec<u8> = versions.iter().flat_map(|v| v.to_be_bytes()).collect();
        exts.extend(ext(43, &v8(&list)));
    }
    let body = [
        &[3, 3][..],
        &[7; 32],
        &v8(&[1; 32]),
        &v16(&[0x13, 0x01, 0xC0, 0x2F]),
        &v8(&[0]),
        &v16(&exts),
    ]
    .concat();
    hs(1, &body)
}

fn server_hello(
    random: [u8; 32],
    cipher: u16,
    version: Option<u16>,
    alpn: Option<&str>,
) -> Vec<u8> {
    let mut exts = Vec::new();
    if let Some(v) = version {
        exts.extend(ext(43, &v.to_be_bytes()));
    }
    if let Some(p) = alpn {
        exts.extend(ext(16, &v16(&v8(p.as_bytes()))));
    }
    let body = [
        &[3, 3][..],
        &random,
        &v8(&[1; 32]),
        &cipher.to_be_bytes(),
        &[0],
        &v16(&exts),
    ]
    .concat();
    hs(2, &body)
}

fn certificate(sizes: &[usize]) -> Vec<u8> {
    let list: Vec<u8> = sizes.iter().flat_map(|n| v24(&vec![0x30; *n])).collect();
    hs(11, &v24(&list))
}

/// A TLS 1.2 mutual-auth flow where the client sends an empty Certificate;
/// returns (client bytes, server bytes).
fn tls12_flow() -> (Vec<u8>, Vec<u8>) {
    let cert_req = hs(13, &[&v8(&[1, 64])[..], &v16(&[4, 1]), &v16(&[])].concat());
    let server_flight = [
        server_hello([9; 32], 0xC02F, None, Some("mqtt")),
        certificate(&[700, 500]),
        cert_req,
        hs(14, &[]),
    ]
    .concat();
    let client = [
        record(
            22,
            &client_hello("broker.example", &["mqtt", "x-mqtt"], &[]),
        ),
        record(22, &[certificate(&[]), hs(16, &v8(&[5; 65]))].concat()),
        record(20, &[1]),
        record(22, &[0xAB; 40]), // encrypted Finished
        record(23, &[0xCD; 100]),
        record(21, &[0xEE; 26]), // encrypted close_notify
    ]
    .concat();
    let server = [
        record(22, &server_flight),
        record(20, &[1]),
        record(22, &[0xAB; 40]),
        record(23, &[0xCD; 30]),
        record(23, &[0xCD; 31]),
    ]
    .concat();
    (client, server)
}

fn observe(client: &[u8], server: &[u8], split: usize) -> TlsSummary {
    let mut o = TlsObserver::default();
    let split = split.max(1);
    let (mut c, mut s) = (client.chunks(split), server.chunks(split));
    loop {
        let (a, b) = (c.next(), s.next());
        if a.is_none() && b.is_none() {
            break;
        }
        if let Some(a) = a {
            o.data(true, a);
        }
        if let Some(b) = b {
            o.data(false, b);
        }
    }
    o.summary()
}

#[test]
fn tls12_mutual_auth_with_empty_client_certificate() {
    let (c, s) = tls12_flow();
    let sum = observe(&c, &s, usize::MAX);
    assert_eq!(sum.client_versions, vec![0x0303]);
    assert_eq!(sum.sni.as_deref(), Some("broker.example"));
    assert_eq!(sum.alpn, ["mqtt", "x-mqtt"]);
    assert_eq!(sum.alpn_selected.as_deref(), Some("mqtt"));
    assert_eq!(sum.server_version, Some(0x0303));
    assert_eq!(sum.cipher_suite, Some(0xC02F));
    assert!(sum.certificate_requested);
    assert_eq!(sum.client_certificate, Some(false));
    assert_eq!(sum.server_certificates, 2);
    assert!(sum.alerts.is_empty());
    assert_eq!(sum.encrypted_alerts, [1, 0]);
    assert_eq!(sum.app_data, [(1, 100), (2, 61)]);
    assert!(sum.handshake_complete_hint);
    assert_eq!(sum.undecodable, [false, false]);
    for split in [1, 2, 3, 5, 7, 64, 1000] {
        assert_eq!(observe(&c, &s, split), sum, "split {split}");
    }
}

#[test]
fn tls12_client_certificate_sent_and_rejected_in_clear() {
    let client = [
        record(22, &client_hello("b", &[], &[])),
        record(22, &certificate(&[300])),
    ]
    .concat();
    let server = [
        record(
            22,
            &[
                server_hello([9; 32], 0xC02F, None, None),
                hs(13, &[0; 4]),
                hs(14, &[]),
            ]
            .concat(),
        ),
        record(21, &[2, 48]),
    ]
    .concat();
    let sum = observe(&client, &server, 4);
    assert_eq!(sum.client_certificate, Some(true));
    assert!(sum.certificate_requested);
    assert_eq!(sum.alerts.len(), 1);
    let a = &sum.alerts[0];
    assert_eq!(
        (a.from_client, a.level, a.description, a.name),
        (false, 2, 48, "unknown_ca")
    );
    assert!(!sum.handshake_complete_hint);
}

#[test]
fn tls13_handshake_is_opaque_after_server_hello() {
    let client = [
        record(
            22,
            &client_hello("mqtt.local", &["mqtt"], &[0x1A1A, 0x0304, 0x0303]),
        ),
        record(20, &[1]),
        record(23, &[1; 53]), // Finished
        record(23, &[1; 20]),
    ]
    .concat();
    let server = [
        record(22, &server_hello([3; 32], 0x1301, Some(0x0304), None)),
        record(20, &[1]),
        record(23, &[2; 1500]), // EncryptedExtensions..Finished
        record(23, &[2; 19]),   // alert, unreadable
    ]
    .concat();
    let sum = observe(&client, &server, 3);
    assert_eq!(sum.client_versions, vec![0x0303, 0x0304]);
    assert_eq!(sum.server_version, Some(0x0304));
    assert_eq!(sum.cipher_suite, Some(0x1301));
    assert!(!sum.certificate_requested);
    assert_eq!(sum.client_certificate, None);
    assert_eq!(sum.app_data, [(2, 73), (2, 1519)]);
    assert!(sum.handshake_complete_hint);
    assert!(!sum.hello_retry);
}

#[test]
fn hello_retry_request_keeps_second_client_hello_in_clear() {
    let client = [
        record(22, &client_hello("first", &[], &[0x0304])),
        record(20, &[1]),
        record(22, &client_hello("second", &[], &[0x0304])),
        record(21, &[1, 0]), // still in clear: no ServerHello yet
    ]
    .concat();
    let server = record(22, &server_hello(HRR_RANDOM, 0x1301, Some(0x0304), None));
    let sum = observe(&client, &server, 1);
    assert!(sum.hello_retry);
    // The middlebox ChangeCipherSpec does not hide the second ClientHello.
    assert_eq!(sum.sni.as_deref(), Some("second"));
    assert_eq!(sum.client_versions, vec![0x0303, 0x0304]);
    assert_eq!(sum.alerts.len(), 1);
    assert!(!sum.handshake_complete_hint);
}

#[test]
fn handshake_message_across_records_and_oversized_messages() {
    let cert = certificate(&[9000, 9000]);
    let (a, b) = cert.split_at(16_000);
    let big = hs(11, &vec![0; 70_000]); // over the parse limit: skipped
    let big_records: Vec<u8> = big.chunks(16_384).flat_map(|c| record(22, c)).collect();
    let server = [
        record(22, &server_hello([9; 32], 0xC02F, None, None)),
        big_records,
        record(22, a),
        record(22, b),
        record(21, &[1, 0, 2, 40]),
    ]
    .concat();
    let sum = observe(&[], &server, 777);
    assert_eq!(sum.server_certificates, 2);
    let names: Vec<&str> = sum.alerts.iter().map(|a| a.name).collect();
    assert_eq!(names, ["close_notify", "handshake_failure"]);
}

#[test]
fn garbage_and_detection() {
    let mut o = TlsObserver::default();
    o.data(true, b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c");
    let sum = o.summary();
    assert_eq!(sum.undecodable, [true, false]);
    assert!(looks_like_tls(&record(22, &client_hello("x", &[], &[]))));
    assert!(looks_like_tls(&[22, 3]));
    assert!(!looks_like_tls(&[]));
    assert!(!looks_like_tls(b"\x10\x0c\x00\x04MQTT"));
    assert!(!looks_like_tls(&[22, 3, 1, 0, 5, 99]));
    assert!(!looks_like_tls(&[23, 3, 3, 0, 5]));
    assert_eq!(alert_name(116), "certificate_required");
    assert_eq!(alert_name(120), "no_application_protocol");
    assert_eq!(alert_name(255), "unknown");
    let rfc8446 = [
        (0, "close_notify"),
        (10, "unexpected_message"),
        (20, "bad_record_mac"),
        (40, "handshake_failure"),
        (42, "bad_certificate"),
        (43, "unsupported_certificate"),
        (44, "certificate_revoked"),
        (45, "certificate_expired"),
        (46, "certificate_unknown"),
        (47, "illegal_parameter"),
        (48, "unknown_ca"),
        (49, "access_denied"),
        (50, "decode_error"),
        (51, "decrypt_error"),
        (70, "protocol_version"),
        (71, "insufficient_security"),
        (80, "internal_error"),
        (86, "inappropriate_fallback"),
        (90, "user_canceled"),
        (109, "missing_extension"),
        (110, "unsupported_extension"),
        (112, "unrecognized_name"),
        (113, "bad_certificate_status_response"),
        (115, "unknown_psk_identity"),
        (116, "certificate_required"),
        (120, "no_application_protocol"),
    ];
    for (code, name) in rfc8446 {
        assert_eq!(alert_name(code), name);
    }
}

#[test]
fn application_data_is_counted_not_buffered() {
    let mut o = TlsObserver::default();
    let rec = record(23, &[0u8; 16_384]);
    for _ in 0..1000 {
        o.data(false, &rec);
    }
    assert_eq!(o.summary().app_data[1], (1000, 16_384_000));
}

/// The flow of `tls12_flow` with bytes `cut` of the server's side missing.
fn observe_with_server_gap(cut: std::ops::Range<usize>) -> TlsSummary {
    let (c, s) = tls12_flow();
    let mut o = TlsObserver::default();
    o.data(true, &c);
    o.data(false, &s[..cut.start]);
    o.gap(false, (cut.end - cut.start) as u64);
    o.data(false, &s[cut.end..]);
    o.summary()
}

/// Offsets in the server's side of `tls12_flow`: (start of its second
/// record, the ChangeCipherSpec; start of its first application-data record).
fn server_offsets() -> (usize, usize) {
    let (_, s) = tls12_flow();
    let first = 5 + usize::from(u16::from_be_bytes([s[3], s[4]]));
    let ccs = first;
    let finished = ccs + 6;
    let app = finished + 5 + 40;
    assert_eq!(&s[app..app + 3], &[23, 3, 3]);
    (ccs, app)
}

#[test]
fn a_gap_inside_an_application_data_record_loses_nothing_readable() {
    let (c, s) = tls12_flow();
    let whole = observe(&c, &s, usize::MAX);
    let (_, app) = server_offsets();
    let sum = observe_with_server_gap(app + 7..app + 20);
    assert_eq!(sum, whole);
    assert_eq!(sum.lost, [false, false]);
}

#[test]
fn a_gap_inside_a_handshake_record_stops_reading_handshake_messages_only() {
    let (c, s) = tls12_flow();
    let whole = observe(&c, &s, usize::MAX);
    // Inside the first certificate of the server's flight: the
    // CertificateRequest after it is not read, nor guessed at.
    let sum = observe_with_server_gap(120..300);
    assert_eq!(sum.server_version, Some(0x0303));
    assert_eq!(sum.server_certificates, 0);
    assert!(!sum.certificate_requested);
    // Records after the gap are still read: ChangeCipherSpec, application data.
    assert_eq!(sum.app_data, whole.app_data);
    assert!(sum.handshake_complete_hint);
    assert_eq!(sum.lost, [false, false]);
    assert_eq!(sum.undecodable, [false, false]);
}

#[test]
fn a_gap_across_a_record_boundary_stops_reading_that_direction() {
    let (c, s) = tls12_flow();
    let whole = observe(&c, &s, usize::MAX);
    let (ccs, app) = server_offsets();
    // From inside the flight to inside the ChangeCipherSpec record.
    let sum = observe_with_server_gap(ccs - 10..ccs + 3);
    assert_eq!(sum.lost, [false, true]);
    assert_eq!(sum.undecodable, [false, false]);
    assert_eq!(sum.app_data, [whole.app_data[0], (0, 0)]);
    assert!(!sum.handshake_complete_hint);
    // A gap that begins exactly at a record's start: nothing tells that it
    // ends at one too.
    let sum = observe_with_server_gap(app..app + 35);
    assert_eq!(sum.lost, [false, true]);
    assert_eq!(sum.app_data[1], (0, 0));
}

#[test]
fn a_gap_inside_an_alert_record_drops_that_alert() {
    let client = record(22, &client_hello("b", &[], &[]));
    let alert = record(21, &[2, 48]);
    let server = [
        record(22, &server_hello([9; 32], 0xC02F, None, None)),
        alert.clone(),
        alert,
    ]
    .concat();
    let second = server.len() - 7;
    let mut o = TlsObserver::default();
    o.data(true, &client);
    // The first alert's level is missing: its description is not read as one.
    o.data(false, &server[..second - 2]);
    o.gap(false, 1);
    o.data(false, &server[second - 1..]);
    let sum = o.summary();
    assert_eq!(sum.alerts.len(), 1, "{:?}", sum.alerts);
    assert_eq!(sum.alerts[0].name, "unknown_ca");
    assert_eq!(sum.lost, [false, false]);
}

#[test]
fn a_direction_never_captured_is_lost_from_its_start() {
    let (c, s) = tls12_flow();
    let mut o = TlsObserver::default();
    o.gap(true, c.len() as u64);
    o.data(false, &s);
    let sum = o.summary();
    assert_eq!(sum.lost, [true, false]);
    assert!(sum.client_versions.is_empty());
    assert!(sum.certificate_requested);
    assert_eq!(sum.server_certificates, 2);
    assert!(!sum.handshake_complete_hint);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(
        chunks in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..300)), 0..20)
    ) {
        let mut o = TlsObserver::default();
        for (dir, bytes) in &chunks {
            o.data(*dir, bytes);
        }
        let _ = o.summary();
    }

    #[test]
    fn tls_shaped_garbage_never_panics(
        bodies in proptest::collection::vec((20u8..=24, proptest::collection::vec(any::<u8>(), 0..200)), 0..20),
        split in 1usize..50,
    ) {
        let bytes: Vec<u8> = bodies.iter().flat_map(|(t, b)| record(*t, b)).collect();
        let _ = observe(&bytes, &bytes, split);
    }

    #[test]
    fn gaps_anywhere_never_panic(
        steps in proptest::collection::vec((any::<bool>(), any::<bool>(), 0usize..400), 0..30),
    ) {
        let (c, s) = tls12_flow();
        let mut o = TlsObserver::default();
        let mut at = [0usize, 0];
        for (from_client, lose, n) in steps {
            let side = usize::from(!from_client);
            let bytes = if from_client { &c } else { &s };
            let end = (at[side] + n).min(bytes.len());
            if lose {
                o.gap(from_client, (end - at[side]) as u64);
            } else {
                o.data(from_client, &bytes[at[side]..end]);
            }
            at[side] = end;
        }
        let _ = o.summary();
    }

    #[test]
    fn splits_do_not_change_the_summary(split in 1usize..300) {
        let (c, s) = tls12_flow();
        prop_assert_eq!(observe(&c, &s, split), observe(&c, &s, usize::MAX));
    }
}
