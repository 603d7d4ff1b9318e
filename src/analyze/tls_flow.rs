//! A TLS flow on an MQTT port: its bytes go to the passive
//! [`TlsObserver`](crate::capture::tls::TlsObserver), which reads what is in
//! clear; the bytes the capture lacks become problems of the flow, as they
//! do for MQTT flows.

use std::net::SocketAddr;
use std::time::Duration;

use crate::capture::tls::TlsObserver;
use crate::capture::{At, Endpoint};

use super::flow::{self, secs};
use super::model::{self, FlowKind, FlowReport, NoticeReport};
use super::tls_report::TlsReport;

/// A TLS flow being read.
pub(super) struct TlsFlow {
    number: u32,
    client: SocketAddr,
    server: SocketAddr,
    client_end: Endpoint,
    syn_seen: bool,
    first: At,
    last: At,
    /// Bytes captured: client then server.
    bytes: [u64; 2],
    /// Bytes missing from the capture, and where they were first missed:
    /// client then server.
    lost: [Option<(u64, At)>; 2],
    tls: TlsObserver,
}

impl TlsFlow {
    /// A flow with nothing read yet.
    pub fn new(
        number: u32,
        (client, server): (SocketAddr, SocketAddr),
        client_end: Endpoint,
        syn_seen: bool,
        first: At,
    ) -> TlsFlow {
        TlsFlow {
            number,
            client,
            server,
            client_end,
            syn_seen,
            first,
            last: first,
            bytes: [0, 0],
            lost: [None, None],
            tls: TlsObserver::default(),
        }
    }

    /// Captured bytes of `from`.
    pub fn data(&mut self, from: Endpoint, bytes: &[u8], at: At) {
        self.last = at;
        let from_client = from == self.client_end;
        self.bytes[usize::from(!from_client)] += bytes.len() as u64;
        self.tls.data(from_client, bytes);
    }

    /// `len` bytes of `from` missing from the capture.
    pub fn gap(&mut self, from: Endpoint, len: u64, at: At) {
        self.last = at;
        let from_client = from == self.client_end;
        let lost = &mut self.lost[usize::from(!from_client)];
        lost.get_or_insert((0, at)).0 += len;
        self.tls.gap(from_client, len);
    }

    /// The flow ended: `by` closed it at `close_at`; its last bytes came by `at`.
    pub fn close(self, by: Option<Endpoint>, close_at: At, at: At, origin: Duration) -> FlowReport {
        let mut problems = Vec::new();
        let close_frame = by.map(|_| close_at.frame);
        let mut by = by;
        let summary = self.tls.summary();
        for (i, side) in ["client→server", "server→client"].into_iter().enumerate() {
            let Some((len, first)) = self.lost[i] else {
                continue;
            };
            let message = if self.bytes[i] == 0 {
                // Its FIN may have come first, unseen: who closed is not known.
                by = None;
                format!(
                    "{side}: nothing of this direction is in the capture, though the peer \
                     acknowledged {len} bytes of it (a FIN counts as one): a one-way capture? \
                     What this side sent is not known"
                )
            } else if summary.lost[i] {
                format!(
                    "{side}: {len} bytes missing from the capture; the TLS records after \
                     them are not read (their boundaries are lost)"
                )
            } else {
                format!(
                    "{side}: {len} bytes missing from the capture, inside TLS records that \
                     are skipped"
                )
            };
            problems.push(NoticeReport {
                frame: Some(first.frame),
                message,
            });
        }
        let closed_by = flow::closed_by(by, self.client_end).name();
        FlowReport {
            flow: self.number,
            kind: FlowKind::Tls,
            client: model::endpoint_text(self.client),
            server: model::endpoint_text(self.server),
            roles_from: if self.syn_seen { "syn" } else { "guess" },
            handshake_seen: self.syn_seen,
            version: None,
            version_guessed: false,
            client_id: None,
            keep_alive: None,
            clean_session: None,
            connack_code: None,
            first_frame: self.first.frame,
            last_frame: at.frame.max(self.last.frame),
            start: secs(self.first.ts.saturating_sub(origin)),
            end: secs(at.ts.saturating_sub(origin)),
            closed_by,
            close_frame,
            packets: Default::default(),
            packets_to_server: 0,
            packets_to_client: 0,
            problems,
            findings: Vec::new(),
            websocket: None,
            tls: Some(TlsReport::from_summary(&summary, closed_by)),
        }
    }
}
