//! The report of a TLS flow: what the handshake showed in clear, and a
//! one-line diagnosis of mutual authentication where the bytes allow one.

use serde::Serialize;

use crate::capture::tls::TlsSummary;

/// A TLS flow as reported.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TlsReport {
    pub client_versions: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alpn: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher_suite: Option<String>,
    /// The server sent a CertificateRequest (visible in TLS 1.2 only).
    pub certificate_requested: bool,
    /// "sent", "empty" or "not seen" (TLS 1.3 hides it).
    pub client_certificate: &'static str,
    pub alerts: Vec<AlertReport>,
    /// Alert records sent encrypted (content unreadable): [client, server].
    pub encrypted_alerts: [u32; 2],
    /// Application-data records and bytes: client then server.
    pub app_data_records: [u64; 2],
    pub app_data_bytes: [u64; 2],
    pub handshake_complete: bool,
    /// What the handshake tells, in one line.
    pub diagnosis: String,
}

/// An alert read in clear.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AlertReport {
    pub from: &'static str,
    pub level: &'static str,
    pub name: &'static str,
}

/// A protocol version number as text.
pub fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        other => format!("0x{other:04x}"),
    }
}

impl TlsReport {
    /// Build the report from the observer's summary; `closed_by` is who ended the flow.
    pub fn from_summary(s: &TlsSummary, closed_by: &str) -> TlsReport {
        let alerts: Vec<AlertReport> = s
            .alerts
            .iter()
            .map(|a| AlertReport {
                from: if a.from_client { "client" } else { "server" },
                level: if a.level == 2 { "fatal" } else { "warning" },
                name: a.name,
            })
            .collect();
        let client_certificate = match s.client_certificate {
            Some(true) => "sent",
            Some(false) => "empty",
            None => "not seen",
        };
        let diagnosis = diagnose(s, &alerts, closed_by);
        TlsReport {
            client_versions: s.client_versions.iter().map(|v| version_name(*v)).collect(),
            sni: s.sni.clone(),
            alpn: s.alpn.clone(),
            server_version: s.server_version.map(version_name),
            cipher_suite: s.cipher_suite.map(|c| format!("0x{c:04x}")),
            certificate_requested: s.certificate_requested,
            client_certificate,
            alerts,
            encrypted_alerts: s.encrypted_alerts,
            app_data_records: [s.app_data[0].0, s.app_data[1].0],
            app_data_bytes: [s.app_data[0].1, s.app_data[1].1],
            handshake_complete: s.handshake_complete_hint,
            diagnosis,
        }
    }
}

fn diagnose(s: &TlsSummary, alerts: &[AlertReport], closed_by: &str) -> String {
    let fatal = alerts.iter().find(|a| a.level == "fatal");
    if let Some(a) = fatal {
        let cert_alert = matches!(
            a.name,
            "bad_certificate"
                | "unsupported_certificate"
                | "certificate_revoked"
                | "certificate_expired"
                | "certificate_unknown"
                | "unknown_ca"
                | "certificate_required"
                | "access_denied"
        );
        let about = if cert_alert && a.from == "server" {
            "the server rejected the client's certificate"
        } else if cert_alert {
            "the client rejected the server's certificate"
        } else if s.certificate_requested && s.client_certificate == Some(false) {
            "the server required a client certificate and the client sent none"
        } else {
            "the handshake failed"
        };
        return format!("{about}: fatal alert {} from the {}", a.name, a.from);
    }
    if s.certificate_requested && s.client_certificate == Some(false) {
        return "the server asked for a client certificate and the client sent none".into();
    }
    if !s.handshake_complete_hint {
        if let Some(i) = s.lost.iter().position(|lost| *lost) {
            let who = if i == 0 { "client" } else { "server" };
            return format!(
                "the {who}'s side is missing from the capture after a gap: the handshake \
                 cannot be judged (closed by {closed_by})"
            );
        }
    }
    if s.server_version == Some(0x0304) {
        let [c, sv] = s.app_data;
        if c.0 > 0 && sv.0 > 0 && s.handshake_complete_hint {
            return format!(
                "TLS 1.3: certificates are encrypted; both sides exchanged records ({} from the client, {} from the server), closed by {closed_by}",
                c.0, sv.0
            );
        }
        return format!(
            "TLS 1.3: certificates are encrypted; the flow ended early (closed by {closed_by})"
        );
    }
    if s.handshake_complete_hint {
        let cert = match s.client_certificate {
            Some(true) => "with a client certificate",
            _ if s.certificate_requested => "without a client certificate",
            _ => "no client certificate requested",
        };
        return format!("handshake completed ({cert})");
    }
    if s.server_version.is_none() {
        return format!("no ServerHello seen (closed by {closed_by})");
    }
    format!("handshake did not complete (closed by {closed_by})")
}
