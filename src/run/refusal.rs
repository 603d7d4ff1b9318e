//! Judging the `refused_by` expectation of a `connect` step: a refusal by
//! the broker (a TLS alert, a close before CONNACK, or a CONNACK refusing
//! the client) or by the suite (the broker's certificate does not verify).
//!
//! Under TLS 1.3 the client's handshake completes before the broker has
//! judged the client certificate, so a broker's refusal may only show on the
//! first read: after CONNECT the step waits for CONNACK or the close (with
//! its alert) before concluding anything.

use std::time::Duration;

use tokio::time::{timeout_at, Instant};

use super::conn::{Conn, Incoming};
use super::recorder::Recorder;
use crate::codec::Packet;
use crate::transport::tls::{Refusal, RefusedBy};
use crate::verdict::Verdict;

/// The outcome of a refusal expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    pub result: Verdict,
    pub actual: Vec<String>,
    pub message: String,
}

impl Judged {
    fn new(result: Verdict, actual: Option<String>, message: String) -> Judged {
        Judged {
            result,
            actual: actual.into_iter().collect(),
            message,
        }
    }
}

/// What the step expects, for the report. `what` names what is refused.
pub fn expected(by: RefusedBy, what: &str, within: Duration) -> String {
    match by {
        RefusedBy::Broker => format!(
            "the broker refuses {what}: a TLS alert, a close before CONNACK or a refusing CONNACK within {} ms",
            within.as_millis()
        ),
        RefusedBy::Suite => format!("the suite refuses {what} during the TLS handshake"),
    }
}

/// The handshake failed: was it the refusal expected?
pub fn handshake_failed(expected: RefusedBy, refusal: &Refusal, what: &str) -> Judged {
    let actual = Some(refusal.reason.clone());
    match (expected, refusal.by) {
        (RefusedBy::Broker, RefusedBy::Broker) => Judged::new(
            Verdict::Pass,
            actual,
            format!("refused during the TLS handshake: {}", refusal.reason),
        ),
        (RefusedBy::Suite, RefusedBy::Suite) => {
            Judged::new(Verdict::Pass, actual, refusal.reason.clone())
        }
        (RefusedBy::Broker, RefusedBy::Suite) => Judged::new(
            Verdict::Inconclusive,
            actual,
            format!(
                "{}: the handshake ended before the broker judged {what}",
                refusal.reason
            ),
        ),
        (RefusedBy::Suite, RefusedBy::Broker) => Judged::new(
            Verdict::Inconclusive,
            actual,
            format!(
                "{}: the handshake ended before the suite judged {what}",
                refusal.reason
            ),
        ),
    }
}

/// The handshake completed although the suite should have refused.
pub fn suite_accepted(what: &str) -> Judged {
    Judged::new(
        Verdict::Fail,
        Some("TLS handshake completed".into()),
        format!("the suite accepted {what}: the TLS handshake completed"),
    )
}

/// CONNECT was sent (or could not be): wait for the broker's refusal within
/// `within`. Packets other than CONNACK stay in the backlog for later steps.
pub async fn await_broker(
    conn: &mut Conn,
    recorder: &Recorder,
    what: &str,
    within: Duration,
) -> Judged {
    let deadline = Instant::now() + within;
    let mut earlier = std::mem::take(&mut conn.backlog);
    let mut actual = Vec::new();
    let judged = loop {
        let got = if let Some(d) = earlier.pop_front() {
            Some(Incoming::Packet(d))
        } else if conn.server_closed {
            Some(Incoming::Closed)
        } else {
            match timeout_at(deadline, conn.inbox.recv()).await {
                Ok(Some(i)) => Some(i),
                Ok(None) => Some(Incoming::Closed),
                Err(_) => None,
            }
        };
        match got {
            Some(Incoming::Packet(d)) => {
                let summary = crate::report::text::summary(&d);
                if let Packet::Connack(c) = &d.packet {
                    actual.push(summary);
                    break if c.code == 0 {
                        (
                            Verdict::Fail,
                            format!("the broker accepted {what}: CONNACK 0x00"),
                        )
                    } else {
                        (
                            Verdict::Pass,
                            format!(
                                "refused after the TLS handshake by CONNACK 0x{:02x}",
                                c.code
                            ),
                        )
                    };
                }
                actual.push(summary);
                conn.backlog.push_back(d);
            }
            Some(Incoming::Malformed(e)) => actual.push(format!("unframeable bytes: {e}")),
            Some(Incoming::Closed) => {
                conn.server_closed = true;
                let why = recorder
                    .close_reason(conn.id)
                    .unwrap_or_else(|| "the broker closed the connection".into());
                actual.push(format!("closed: {why}"));
                break (Verdict::Pass, format!("refused before CONNACK: {why}"));
            }
            None => {
                break (
                    Verdict::Fail,
                    format!(
                        "no refusal within {} ms: the broker kept the connection open without a CONNACK",
                        within.as_millis()
                    ),
                )
            }
        }
    };
    conn.backlog.extend(earlier);
    Judged {
        result: judged.0,
        actual,
        message: judged.1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(by: RefusedBy) -> Refusal {
        Refusal {
            by,
            reason: "the broker sent TLS alert certificate_required".into(),
        }
    }

    #[test]
    fn the_expected_side_refusing_passes_the_other_is_inconclusive() {
        let j = handshake_failed(RefusedBy::Broker, &refusal(RefusedBy::Broker), "x");
        assert_eq!(j.result, Verdict::Pass);
        assert!(j.message.contains("certificate_required"), "{}", j.message);
        let j = handshake_failed(RefusedBy::Suite, &refusal(RefusedBy::Suite), "x");
        assert_eq!(j.result, Verdict::Pass);
        let j = handshake_failed(RefusedBy::Broker, &refusal(RefusedBy::Suite), "x");
        assert_eq!(j.result, Verdict::Inconclusive);
        let j = handshake_failed(RefusedBy::Suite, &refusal(RefusedBy::Broker), "x");
        assert_eq!(j.result, Verdict::Inconclusive);
    }

    #[test]
    fn a_completed_handshake_fails_a_suite_refusal() {
        let j = suite_accepted("the broker's certificate");
        assert_eq!(j.result, Verdict::Fail);
        assert!(j.message.starts_with("the suite accepted"), "{}", j.message);
    }
}
