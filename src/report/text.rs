//! Terminal rendering: one line per case, details (expected vs actual,
//! findings, wire log) under every case that did not pass, the summary last.

use std::fmt::Write;

use super::{CaseReport, Report, WireWhat};
use crate::verdict::Verdict;

/// Rendering options.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
    /// Show details for passing cases too.
    pub verbose: bool,
}

fn paint(style: Style, code: &str, s: &str) -> String {
    if style.color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

fn verdict_label(style: Style, v: Verdict) -> String {
    let (code, label) = match v {
        Verdict::Pass => ("32", "PASS"),
        Verdict::NonStrict => ("33", "NON-STRICT"),
        Verdict::Skip => ("2", "SKIP"),
        Verdict::Inconclusive => ("35", "INCONCLUSIVE"),
        Verdict::Fail => ("31;1", "FAIL"),
        Verdict::Error => ("31", "ERROR"),
    };
    paint(style, code, &format!("{label:<12}"))
}

/// The one line of a case.
pub fn case_line(c: &CaseReport, style: Style) -> String {
    format!(
        "{} {}  [{}]  {} ms{}",
        verdict_label(style, c.verdict),
        c.id,
        c.statements.join(" "),
        c.duration_ms,
        c.port.map(|p| format!("  port {p}")).unwrap_or_default()
    )
}

/// Indented details of a case: why, steps, findings, wire log.
pub fn case_details(c: &CaseReport) -> String {
    let mut out = String::new();
    if let Some(r) = &c.reason {
        let _ = writeln!(out, "    why: {r}");
    }
    let _ = writeln!(out, "    case: {} ({})", c.title, c.file);
    for s in &c.steps {
        // A passing step is shown only when it says something (e.g. the
        // reason a connection was refused as expected).
        let quiet = s.result == Verdict::Pass && s.message.is_none();
        if quiet || s.result == Verdict::Skip {
            continue;
        }
        let _ = writeln!(
            out,
            "    step {} ({} {}, line {}): {}",
            s.step,
            s.action,
            s.conn,
            s.line,
            s.result.name()
        );
        if let Some(e) = &s.expected {
            let _ = writeln!(out, "      expected: {e}");
        }
        for a in &s.actual {
            let _ = writeln!(out, "      actual:   {a}");
        }
        if let Some(m) = &s.message {
            let _ = writeln!(out, "      {m}");
        }
    }
    for f in &c.findings {
        let _ = writeln!(
            out,
            "    finding [{}] conn {} packet {}: {}",
            f.rule,
            f.connection,
            f.packet
                .map(|p| p.to_string())
                .unwrap_or_else(|| "-".into()),
            f.message
        );
    }
    if !c.wire.is_empty() {
        let _ = writeln!(out, "    wire:");
        for w in &c.wire {
            let name = c
                .connections
                .iter()
                .find(|k| k.id == w.conn)
                .map(|k| k.name.as_str())
                .unwrap_or("?");
            let line = match &w.what {
                WireWhat::Opened => "opened".to_string(),
                WireWhat::Packet {
                    dir,
                    index,
                    packet,
                    hex,
                } => {
                    let mut s = format!("{} #{index} {}", dir.arrow(), summary(packet));
                    if !packet.violations.is_empty() {
                        let _ = write!(s, "  hex {hex}");
                    }
                    s
                }
                WireWhat::Malformed { dir, hex, error } => {
                    format!("{} malformed ({error}): {hex}", dir.arrow())
                }
                WireWhat::Closed { by, reason } => {
                    let mut s = format!("closed by {}", by.name());
                    if let Some(r) = reason {
                        s.push_str(&format!(" ({r})"));
                    }
                    s
                }
            };
            let _ = writeln!(out, "      {:>8.1} ms {name:>4} {line}", w.at_ms);
        }
    }
    out
}

/// A compact one-line description of a decoded packet.
pub fn summary(d: &crate::codec::Decoded) -> String {
    use crate::codec::Packet;
    let mut s = match &d.packet {
        Packet::Connect(c) => format!(
            "CONNECT level={} client_id={} clean={} keep_alive={}{}",
            c.protocol_level,
            c.client_id,
            c.clean_session,
            c.keep_alive,
            c.will
                .as_ref()
                .map(|w| format!(
                    " will={}@{}{}",
                    w.topic,
                    w.qos,
                    if w.retain { " retain" } else { "" }
                ))
                .unwrap_or_default()
        ),
        Packet::Connack(c) => format!(
            "CONNACK code=0x{:02x} session_present={}",
            c.code,
            c.session_present()
        ),
        Packet::Publish(p) => format!(
            "PUBLISH topic={} qos={} dup={} retain={}{} payload={}B",
            p.topic,
            p.qos,
            u8::from(p.dup),
            u8::from(p.retain),
            p.packet_id.map(|i| format!(" id={i}")).unwrap_or_default(),
            p.payload.len()
        ),
        Packet::Puback(a) | Packet::Pubrec(a) | Packet::Pubrel(a) | Packet::Pubcomp(a) => format!(
            "{} id={}{}",
            d.packet.packet_type(),
            a.packet_id,
            a.reason_code
                .map(|r| format!(" rc=0x{r:02x}"))
                .unwrap_or_default()
        ),
        Packet::Subscribe(s) => {
            let f: Vec<String> = s
                .filters
                .iter()
                .map(|f| format!("{}@{}", f.filter, f.options))
                .collect();
            format!("SUBSCRIBE id={} [{}]", s.packet_id, f.join(", "))
        }
        Packet::Suback(s) => {
            let c: Vec<String> = s.codes.iter().map(|c| format!("0x{c:02x}")).collect();
            format!("SUBACK id={} [{}]", s.packet_id, c.join(", "))
        }
        Packet::Unsubscribe(u) => {
            let f: Vec<String> = u.filters.iter().map(|f| f.to_string()).collect();
            format!("UNSUBSCRIBE id={} [{}]", u.packet_id, f.join(", "))
        }
        Packet::Unsuback(u) => format!("UNSUBACK id={}", u.packet_id),
        other => other.packet_type().to_string(),
    };
    let required = d.packet.packet_type().required_flags();
    if required.is_some_and(|r| r != d.flags()) {
        let _ = write!(s, " flags=0x{:x}", d.flags());
    }
    for v in &d.violations {
        let _ = write!(s, " !{:?}@{}", v.kind, v.offset);
    }
    s
}

/// The closing summary line.
pub fn summary_line(r: &Report, style: Style) -> String {
    let s = &r.summary;
    let verdict = if r.conformant() && s.inconclusive > 0 {
        paint(style, "33;1", "NO FAILURE (NOT ALL CONCLUSIVE)")
    } else if r.conformant() {
        paint(style, "32;1", "CONFORMANT")
    } else {
        paint(style, "31;1", "NOT CONFORMANT")
    };
    format!(
        "{verdict}: {} cases: {} passed, {} non-strict, {} failed, {} inconclusive, {} skipped, {} errors in {:.2} s ({})",
        s.total,
        s.pass,
        s.non_strict,
        s.fail,
        s.inconclusive,
        s.skip,
        s.error,
        r.duration_ms as f64 / 1000.0,
        r.target
    )
}

/// The whole report as terminal text.
pub fn render(r: &Report, style: Style) -> String {
    let mut out = String::new();
    for c in &r.cases {
        let _ = writeln!(out, "{}", case_line(c, style));
        if style.verbose || !matches!(c.verdict, Verdict::Pass | Verdict::Skip) {
            out.push_str(&case_details(c));
        } else if let (Verdict::Skip, Some(why)) = (c.verdict, &c.reason) {
            let _ = writeln!(out, "    why: {why}");
        }
    }
    let _ = writeln!(out, "{}", summary_line(r, style));
    out
}
