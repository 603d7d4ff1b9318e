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
            let kind = match fl.kind {
                FlowKind::Mqtt => format!(
                    "MQTT {}{}",
                    fl.version.unwrap_or("?"),
                    if fl.version_guessed { " (guessed)" } else { "" }
                ),
                FlowKind::Tls => "TLS".to_string(),
            };
            let _ = writeln!(
                out,
                "  flow {} {} → {}  {}  frames {}-{}  {:.3}-{:.3} s",
                fl.flow,
                fl.client,
                fl.server,
                kind,
                fl.first_frame,
                fl.last_frame,
                fl.start,
                fl.end
            );
            let mut facts = Vec::new();
            if let Some(id) = &fl.client_id {
                facts.push(format!("client_id={id:?}"));
            }
            if let Some(k) = fl.keep_alive {
                facts.push(format!("keep_alive={k}"));
            }
            if let Some(c) = fl.clean_session {
                facts.push(format!("clean={c}"));
            }
            if let Some(c) = fl.connack_code {
                facts.push(format!("connack=0x{c:02x}"));
            }
            facts.push(match fl.close_frame {
                Some(fr) => format!("closed by {} at frame {fr}", fl.closed_by),
                None => "still open at end of capture".to_string(),
            });
            if !fl.handshake_seen {
                facts.push(format!("started mid-stream (roles by {})", fl.roles_from));
            }
            let _ = writeln!(out, "    {}", facts.join("  "));
            if !fl.packets.is_empty() {
                let p: Vec<String> = fl.packets.iter().map(|(k, v)| format!("{k} {v}")).collect();
                let _ = writeln!(out, "    packets: {}", p.join(", "));
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
