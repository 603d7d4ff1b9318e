//! Terminal rendering of an analysis: per file and flow the endpoints, client
//! id, packets and findings with frame numbers; the summary last.

use std::fmt::Write;

use super::model::{Analysis, FlowKind};

/// Render the analysis.
pub fn render(a: &Analysis, color: bool) -> String {
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    for f in &a.files {
        let findings: usize = f.flows.iter().map(|x| x.findings.len()).sum();
        let _ = writeln!(
            out,
            "{}: {} frames, {} MQTT flows, {} MQTT packets, {} findings",
            f.file,
            f.frames,
            f.flows.iter().filter(|x| x.kind == FlowKind::Mqtt).count(),
            f.mqtt_packets,
            findings
        );
        if let Some(e) = &f.error {
            let _ = writeln!(out, "  {}", paint("31", &format!("error: {e}")));
        }
        for n in &f.notices {
            match n.frame {
                Some(fr) => {
                    let _ = writeln!(out, "  notice (frame {fr}): {}", n.message);
                }
                None => {
                    let _ = writeln!(out, "  notice: {}", n.message);
                }
            }
        }
        for fl in &f.flows {
            // Written piece by piece, without the formatting machinery: a
            // capture can hold tens of thousands of flows.
            let mut n = itoa::Buffer::new();
            out.push_str("  flow ");
            out.push_str(n.format(fl.flow));
            for (s, e) in [(" ", &fl.client), (" → ", &fl.server)] {
                out.push_str(s);
                out.push_str(e);
            }
            out.push_str("  ");
            match fl.kind {
                FlowKind::Mqtt => {
                    out.push_str("MQTT ");
                    out.push_str(fl.version.unwrap_or("?"));
                    if fl.version_guessed {
                        out.push_str(" (guessed)");
                    }
                }
                FlowKind::Tls => out.push_str("TLS"),
            }
            out.push_str("  frames ");
            out.push_str(n.format(fl.first_frame));
            out.push('-');
            out.push_str(n.format(fl.last_frame));
            out.push_str("  ");
            push_secs(&mut out, fl.start);
            out.push('-');
            push_secs(&mut out, fl.end);
            out.push_str(" s\n");
            out.push_str("    ");
            let facts_start = out.len();
            // Two spaces before every fact but the first.
            let fact = |out: &mut String, name: &str| {
                if out.len() > facts_start {
                    out.push_str("  ");
                }
                out.push_str(name);
            };
            if let Some(id) = &fl.client_id {
                fact(&mut out, "client_id=");
                push_debug_str(&mut out, id);
            }
            if let Some(k) = fl.keep_alive {
                fact(&mut out, "keep_alive=");
                out.push_str(n.format(k));
            }
            if let Some(c) = fl.clean_session {
                fact(&mut out, if c { "clean=true" } else { "clean=false" });
            }
            if let Some(c) = fl.connack_code {
                fact(&mut out, "connack=0x");
                const HEX: &[u8; 16] = b"0123456789abcdef";
                for d in [c >> 4, c & 0x0f] {
                    out.push(char::from(HEX[usize::from(d)]));
                }
            }
            match fl.close_frame {
                Some(fr) if fl.closed_by == "unknown" => {
                    // A close whose sender may be missing from the capture.
                    fact(&mut out, "closed at frame ");
                    out.push_str(n.format(fr));
                    out.push_str(" (by whom is unknown)");
                }
                Some(fr) => {
                    fact(&mut out, "closed by ");
                    out.push_str(fl.closed_by);
                    out.push_str(" at frame ");
                    out.push_str(n.format(fr));
                }
                None => fact(&mut out, "still open at end of capture"),
            }
            if !fl.handshake_seen {
                fact(&mut out, "started mid-stream (roles by ");
                out.push_str(fl.roles_from);
                out.push(')');
            }
            out.push('\n');
            if !fl.packets.is_empty() {
                out.push_str("    packets: ");
                for (i, (k, v)) in fl.packets.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(k);
                    out.push(' ');
                    out.push_str(n.format(*v));
                }
                out.push('\n');
            }
            if let Some(t) = &fl.tls {
                let _ = writeln!(
                    out,
                    "    tls: offered [{}]{}, chosen {}, client certificate requested: {}, sent: {}",
                    t.client_versions.join(", "),
                    t.sni.as_ref().map(|s| format!(", SNI {s}")).unwrap_or_default(),
                    t.server_version.as_deref().unwrap_or("-"),
                    if t.certificate_requested { "yes" } else { "no/not visible" },
                    t.client_certificate
                );
                for a in &t.alerts {
                    let _ = writeln!(
                        out,
                        "    tls alert: {} {} from the {}",
                        a.level, a.name, a.from
                    );
                }
                let _ = writeln!(
                    out,
                    "    tls: {} (application data: {} records from the client, {} from the server)",
                    t.diagnosis, t.app_data_records[0], t.app_data_records[1]
                );
            }
            if let Some(w) = &fl.websocket {
                let _ = write!(
                    out,
                    "    websocket: {}, offered [{}]; {}, chosen [{}]",
                    w.request,
                    w.offered.join(", "),
                    w.response.as_deref().unwrap_or("no response seen"),
                    w.chosen.join(", ")
                );
                for (by, code) in &w.closes {
                    let _ = match code {
                        Some(c) => write!(out, "; close {c} from the {by}"),
                        None => write!(out, "; close from the {by}"),
                    };
                }
                out.push('\n');
            }
            for p in &fl.problems {
                let _ = writeln!(
                    out,
                    "    problem (frame {}): {}",
                    p.frame.unwrap_or(0),
                    p.message
                );
            }
            for x in &fl.findings {
                let who = format!("{:?}", x.actor).to_lowercase();
                let _ = write!(out, "    {} frame {} (", paint("31;1", "FINDING"), x.frame);
                push_secs(&mut out, x.time);
                let _ = writeln!(out, " s) [{}] {who}: {}", x.rule, x.message);
            }
        }
    }
    let _ = writeln!(
        out,
        "{} statements checked on every flow; {} need an active probe and do not apply to captures (see `mqttspec coverage`)",
        a.statements.checked.len(),
        a.statements.not_applicable.len()
    );
    let s = &a.summary;
    let _ = writeln!(
        out,
        "{} files ({} unreadable), {} frames, {} MQTT flows, {} TLS flows, {} MQTT packets, {} findings",
        s.files, s.unreadable, s.frames, s.mqtt_flows, s.tls_flows, s.mqtt_packets, s.findings
    );
    out
}

/// Append `s` quoted and escaped as `{:?}` writes it; printable ASCII other
/// than `"` and `\\` (nearly every client id) is copied as it is.
fn push_debug_str(out: &mut String, s: &str) {
    if s.bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
    {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        let _ = write!(out, "{s:?}");
    }
}

/// Append `x` seconds with three decimals, exactly as `{:.3}` would (the
/// decimal nearest to the binary value, ties to even), with integer
/// arithmetic: a capture can have tens of thousands of flows, and float
/// formatting was most of the cost of each one's line.
fn push_secs(out: &mut String, x: f64) {
    // Below 2^52 a positive double is m * 2^e with e < 0.
    if !(x.is_finite() && (0.0..4_503_599_627_370_496.0).contains(&x)) {
        let _ = write!(out, "{x:.3}");
        return;
    }
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1 << 52) - 1);
    let (m, e) = if exp == 0 {
        (frac, -1074)
    } else {
        (frac | 1 << 52, exp - 1075)
    };
    // x * 1000 = n * 2^-shift exactly; round to an integer, ties to even.
    let n = u128::from(m) * 1000;
    let shift = e.unsigned_abs();
    let thousandths = if shift >= 128 {
        0 // n < 2^63: below half of 2^-shift's unit
    } else {
        let q = n >> shift;
        let r = n & ((1 << shift) - 1);
        let half = 1u128 << (shift - 1);
        if r > half || (r == half && q & 1 == 1) {
            q + 1
        } else {
            q
        }
    };
    let mut digits = itoa::Buffer::new();
    out.push_str(digits.format(thousandths / 1000));
    out.push('.');
    let rest = (thousandths % 1000) as u16;
    for d in [rest / 100, rest / 10 % 10, rest % 10] {
        out.push(char::from(b'0' + d as u8));
    }
}

#[cfg(test)]
mod tests {
    use super::push_secs;
    use proptest::prelude::*;

    fn ours(x: f64) -> String {
        let mut s = String::new();
        push_secs(&mut s, x);
        s
    }

    /// Every part of a flow's lines, pinned.
    #[test]
    fn flow_lines() {
        use crate::analyze::model::*;
        use std::collections::BTreeMap;
        let flow = |n: u32| FlowReport {
            flow: n,
            kind: FlowKind::Mqtt,
            client: "192.0.2.9:40000".into(),
            server: "[2001:db8::1]:1883".into(),
            roles_from: "port",
            handshake_seen: false,
            version: Some("3.1.1"),
            version_guessed: false,
            client_id: Some("dev \"7\"".into()),
            keep_alive: Some(60),
            clean_session: Some(true),
            connack_code: Some(0x0a),
            first_frame: 3,
            last_frame: 12,
            start: 0.0625,
            end: 1234.5,
            closed_by: "client",
            close_frame: Some(12),
            packets: BTreeMap::from([("CONNECT", 1), ("PUBLISH", 12)]),
            packets_to_server: 13,
            packets_to_client: 0,
            problems: vec![],
            findings: vec![FlowFinding {
                rule: "MQTT-3.3.1-2",
                check: "qos0-publish-without-dup",
                actor: crate::event::Side::Client,
                message: "DUP set".into(),
                frame: 7,
                time: 0.0015,
                packet: Some(3),
            }],
            tls: None,
            websocket: None,
        };
        let bare = FlowReport {
            handshake_seen: true,
            version_guessed: true,
            client_id: None,
            keep_alive: None,
            clean_session: None,
            connack_code: None,
            close_frame: None,
            packets: BTreeMap::new(),
            findings: vec![],
            ..flow(2)
        };
        let a = Analysis {
            tool: "mqttspec",
            tool_version: "0",
            files: vec![FileReport {
                file: "f.pcapng".into(),
                error: None,
                frames: 12,
                bytes: 0,
                notices: vec![],
                flows: vec![flow(1), bare],
                other_tcp_flows: 0,
                mqtt_packets: 13,
            }],
            summary: AnalysisSummary::default(),
            statements: StatementScope::default(),
        };
        let text = super::render(&a, false);
        let lines: Vec<&str> = text.lines().skip(1).take(6).collect();
        assert_eq!(
            lines,
            [
                "  flow 1 192.0.2.9:40000 → [2001:db8::1]:1883  MQTT 3.1.1  frames 3-12  0.062-1234.500 s",
                "    client_id=\"dev \\\"7\\\"\"  keep_alive=60  clean=true  connack=0x0a  closed by client at frame 12  started mid-stream (roles by port)",
                "    packets: CONNECT 1, PUBLISH 12",
                "    FINDING frame 7 (0.002 s) [MQTT-3.3.1-2] client: DUP set",
                "  flow 2 192.0.2.9:40000 → [2001:db8::1]:1883  MQTT 3.1.1 (guessed)  frames 3-12  0.062-1234.500 s",
                "    still open at end of capture",
            ]
        );
    }

    #[test]
    fn quoted_like_debug() {
        for s in [
            "bench1",
            "",
            "a b~",
            "say \"hi\"",
            "back\\slash",
            "tab\t",
            "nul\0",
            "é",
            "\u{7f}",
            "\u{200b}",
        ] {
            let mut ours = String::new();
            super::push_debug_str(&mut ours, s);
            assert_eq!(ours, format!("{s:?}"));
        }
    }

    #[test]
    fn three_decimals_like_std_on_ties_and_edges() {
        for x in [
            0.0,
            0.0005,
            0.0015,
            0.0625,
            0.1875,
            1.0625,
            0.999_5,
            0.999_49,
            9.999_5,
            1e-300,
            f64::MIN_POSITIVE,
            5e-324,
            123_456.789_5,
            4_503_599_627_370_495.5,
            1e300,
            -1.5,
        ] {
            assert_eq!(ours(x), format!("{x:.3}"), "{x:e}");
        }
    }

    proptest! {
        #[test]
        fn any_string_quoted_like_debug(s in "[ -~\t\n\u{0}é\u{200b}]{0,12}") {
            let mut ours = String::new();
            super::push_debug_str(&mut ours, &s);
            prop_assert_eq!(ours, format!("{s:?}"));
        }

        #[test]
        fn three_decimals_like_std(nanos in 0u64..10_000_000_000_000, bits in any::<u64>(), k in 0u32..60, j in 0u64..1 << 20) {
            // Capture times, arbitrary doubles, and dyadic ties.
            for x in [nanos as f64 / 1e9, f64::from_bits(bits), (2 * j + 1) as f64 / f64::from(2u32.pow(k % 31)) / 2.0] {
                prop_assert_eq!(ours(x), format!("{x:.3}"), "{:e}", x);
            }
        }
    }
}
