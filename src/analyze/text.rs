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
            let _ = writeln!(
                out,
                "  frames {}-{}  {:.3}-{:.3} s",
                fl.first_frame, fl.last_frame, fl.start, fl.end
            );
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
                let _ = writeln!(
                    out,
                    "    {} frame {} ({:.3} s) [{}] {who}: {}",
                    paint("31;1", "FINDING"),
                    x.frame,
                    x.time,
                    x.rule,
                    x.message
                );
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
