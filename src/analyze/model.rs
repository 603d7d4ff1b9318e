//! The analysis report model (serialized as `analyze --json`): files → flows
//! → findings with frame numbers and times.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::Serialize;

use crate::event::Side;

/// An endpoint as the report writes it (`192.0.2.1:1883`, `[2001:db8::1]:1883`),
/// as `SocketAddr`'s `Display` does; IPv4 without the formatting machinery,
/// since every flow of a capture names two.
pub fn endpoint_text(a: SocketAddr) -> String {
    let SocketAddr::V4(v4) = a else {
        return a.to_string();
    };
    let mut out = String::with_capacity(21);
    let mut digits = itoa::Buffer::new();
    for (i, octet) in v4.ip().octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(digits.format(octet));
    }
    out.push(':');
    out.push_str(digits.format(v4.port()));
    out
}

/// The analysis of several files.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub tool: &'static str,
    pub tool_version: &'static str,
    pub files: Vec<FileReport>,
    pub summary: AnalysisSummary,
    pub statements: StatementScope,
}

/// Which statements a capture can and cannot show.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct StatementScope {
    /// Checked passively by a rule on every flow (3.1.1 and 5.0 IDs).
    pub checked: Vec<&'static str>,
    /// Need an active probe (a case against a live peer): not applicable to
    /// captures — neither passed nor failed here.
    pub not_applicable: Vec<&'static str>,
}

/// Totals over all files.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct AnalysisSummary {
    pub files: usize,
    pub unreadable: usize,
    pub frames: u64,
    pub mqtt_flows: usize,
    pub tls_flows: usize,
    pub mqtt_packets: u64,
    pub findings: usize,
}

/// One capture file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub file: String,
    /// Why nothing could be read, when so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub frames: u64,
    pub bytes: u64,
    /// Odd things that did not stop the analysis, with frame numbers.
    pub notices: Vec<NoticeReport>,
    pub flows: Vec<FlowReport>,
    /// TCP flows that were neither MQTT nor TLS on an MQTT port.
    pub other_tcp_flows: u64,
    pub mqtt_packets: u64,
}

/// A notice about the file.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NoticeReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame: Option<u64>,
    pub message: String,
}

/// What a flow carried.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FlowKind {
    Mqtt,
    Tls,
}

/// One TCP flow that carried MQTT (or TLS on an MQTT port).
#[derive(Debug, Clone, Serialize)]
pub struct FlowReport {
    /// Flow number in the file, from 1 in order of appearance.
    pub flow: u32,
    pub kind: FlowKind,
    /// Client endpoint `ip:port`.
    pub client: String,
    /// Server endpoint `ip:port`.
    pub server: String,
    /// How the roles were decided: "syn", "connect", "connack", "websocket" (the
    /// HTTP upgrade), "port" or "guess".
    pub roles_from: &'static str,
    pub handshake_seen: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<&'static str>,
    /// The version was not seen in a CONNECT but assumed or guessed.
    pub version_guessed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clean_session: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connack_code: Option<u8>,
    pub first_frame: u64,
    pub last_frame: u64,
    /// Seconds from the start of the capture.
    pub start: f64,
    pub end: f64,
    /// "client", "server", or "unknown" (capture ended first).
    pub closed_by: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_frame: Option<u64>,
    /// MQTT packets by type, both directions.
    pub packets: BTreeMap<&'static str, u64>,
    pub packets_to_server: u64,
    pub packets_to_client: u64,
    /// Stream problems: gaps, unframeable bytes.
    pub problems: Vec<NoticeReport>,
    pub findings: Vec<FlowFinding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<super::tls_report::TlsReport>,
    /// MQTT over WebSocket: the HTTP upgrade.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub websocket: Option<WsReport>,
}

/// The HTTP upgrade of an MQTT-over-WebSocket flow.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct WsReport {
    /// The client's request line.
    pub request: String,
    /// Subprotocols the client offered.
    pub offered: Vec<String>,
    /// The server's status line, once seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// Subprotocols the server chose (one, when it follows RFC 6455).
    pub chosen: Vec<String>,
    /// WebSocket close frames: (sent by "client" or "server", status code).
    pub closes: Vec<(&'static str, Option<u16>)>,
}

/// A rule finding located in the capture.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FlowFinding {
    /// Statement ID broken.
    pub rule: &'static str,
    pub check: &'static str,
    /// Who broke it.
    pub actor: Side,
    pub message: String,
    /// Frame where the offending packet ended (Wireshark numbering).
    pub frame: u64,
    /// Seconds from the start of the capture.
    pub time: f64,
    /// Packet index in the flow (both directions, from 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packet: Option<u32>,
}

impl FlowReport {
    /// "mqtt" or "tls".
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            FlowKind::Mqtt => "mqtt",
            FlowKind::Tls => "tls",
        }
    }
}

impl FlowFinding {
    /// A rule finding located at a frame and time of the capture.
    pub fn at(f: crate::rules::Finding, frame: u64, time: f64) -> FlowFinding {
        FlowFinding {
            rule: f.rule,
            check: f.check,
            actor: f.actor,
            message: f.message,
            frame,
            time,
            packet: f.packet,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::endpoint_text;
    use proptest::prelude::*;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

    proptest! {
        #[test]
        fn endpoints_read_as_display_writes_them(ip in any::<u32>(), ip6 in any::<u128>(), port in any::<u16>()) {
            for a in [
                SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), port),
                SocketAddr::new(IpAddr::V6(Ipv6Addr::from(ip6)), port),
            ] {
                prop_assert_eq!(endpoint_text(a), a.to_string());
            }
        }
    }
}
