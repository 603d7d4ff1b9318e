//! Terminal report of a watch: one block per connection (client, id,
//! version, TLS, packets, who closed, findings; or why its handshake was
//! refused), a summary line last.

use std::fmt::Write;

use super::WatchReport;

/// The report as text.
pub fn render(r: &WatchReport) -> String {
    let mut out = String::new();
    for c in &r.connections {
        if let Some(why) = &c.refused {
            let _ = writeln!(
                out,
                "connection {} from {}: refused at the handshake, closed by {}{}",
                c.connection,
                c.client,
                c.closed_by,
                c.closed
                    .map(|t| format!(" at {t:.3} s"))
                    .unwrap_or_default(),
            );
            let _ = writeln!(out, "    why: {why}");
            for f in &c.findings {
                let _ = writeln!(out, "    [{}] client: {}", f.rule, f.message);
            }
            continue;
        }
        let _ = writeln!(
            out,
            "connection {} from {}: client id {}, MQTT {}, closed by {}{}",
            c.connection,
            c.client,
            c.client_id
                .as_deref()
                .map(|id| format!("\"{id}\""))
                .unwrap_or_else(|| "none (no CONNECT)".into()),
            c.version.unwrap_or("?"),
            c.closed_by,
            c.closed
                .map(|t| format!(" at {t:.3} s"))
                .unwrap_or_default(),
        );
        let counts = |m: &std::collections::BTreeMap<&str, u64>| {
            if m.is_empty() {
                "none".to_string()
            } else {
                m.iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        if let Some(tls) = &c.tls {
            let _ = writeln!(out, "    {tls}");
        }
        let _ = writeln!(out, "    from client: {}", counts(&c.packets_from_client));
        let _ = writeln!(out, "    to client:   {}", counts(&c.packets_to_client));
        for f in &c.findings {
            let packet = f
                .packet
                .map(|p| format!(" (packet {p})"))
                .unwrap_or_default();
            let who = format!("{:?}", f.actor).to_lowercase();
            let _ = writeln!(out, "    [{}] {who}: {}{packet}", f.rule, f.message);
        }
    }
    let _ = writeln!(
        out,
        "watched {} for {:.1} s (stopped: {}): {} connections{}, {} findings",
        r.listen,
        r.duration,
        r.stopped_by,
        r.connections.len(),
        match r.refused() {
            0 => String::new(),
            n => format!(" ({n} refused at the handshake)"),
        },
        r.findings()
    );
    out
}
