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
            // Written piece by piece: a capture can hold tens of thousands of flows.
            let _ = write!(out, "  flow {} {} → {}  ", fl.flow, fl.client, fl.server);
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
            let _ = write!(out, "  frames {}-{}  ", fl.first_frame, fl.last_frame);
            push_secs(&mut out, fl.start);
            out.push('-');
            push_secs(&mut out, fl.end);
            out.push_str(" s\n");
            out.push_str("    ");
            let facts_start = out.len();
            let fact = |out: &mut String, args: std::fmt::Arguments<'_>| {
                if out.len() > facts_start {
                    out.push_str("  ");
                }
                let _ = out.write_fmt(args);
            };
            if let Some(id) = &fl.client_id {
                fact(&mut out, format_args!("client_id={id:?}"));
            }
            if let Some(k) = fl.keep_alive {
                fact(&mut out, format_args!("keep_alive={k}"));
            }
            if let Some(c) = fl.clean_session {
                fact(&mut out, format_args!("clean={c}"));
            }
            if let Some(c) = fl.connack_code {
                fact(&mut out, format_args!("connack=0x{c:02x}"));
            }
            match fl.close_frame {
                Some(fr) => fact(
                    &mut out,
                    format_args!("closed by {} at frame {fr}", fl.closed_by),
                ),
                None => fact(&mut out, format_args!("still open at end of capture")),
            }
            if !fl.handshake_seen {
                fact(
                    &mut out,
                    format_args!("started mid-stream (roles by {})", fl.roles_from),
                );
            }
            out.push('\n');
            if !fl.packets.is_empty() {
                out.push_str("    packets: ");
                for (i, (k, v)) in fl.packets.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    let _ = write!(out, "{sep}{k} {v}");
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
        fn three_decimals_like_std(nanos in 0u64..10_000_000_000_000, bits in any::<u64>(), k in 0u32..60, j in 0u64..1 << 20) {
            // Capture times, arbitrary doubles, and dyadic ties.
            for x in [nanos as f64 / 1e9, f64::from_bits(bits), (2 * j + 1) as f64 / f64::from(2u32.pow(k % 31)) / 2.0] {
                prop_assert_eq!(ours(x), format!("{x:.3}"), "{:e}", x);
            }
        }
    }
}
