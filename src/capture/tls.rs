//! What a TLS flow shows in clear: versions offered and chosen, SNI, whether
//! the server asked for a client certificate and whether one was sent (TLS
//! 1.2), alerts, who closed; encrypted records are counted, not guessed at.

use serde::Serialize;

/// Passive observer of one TLS flow.
#[derive(Debug, Default)]
pub struct TlsObserver {}

/// What was seen.
#[derive(Debug, Default, Serialize)]
pub struct TlsSummary {}

impl TlsObserver {
    /// Bytes of one direction, in order.
    pub fn data(&mut self, _from_client: bool, _bytes: &[u8]) {}

    /// The summary so far.
    pub fn summary(&self) -> TlsSummary {
        TlsSummary {}
    }
}
