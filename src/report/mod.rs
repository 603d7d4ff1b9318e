//! The report model (serialized as the JSON report) and its renderers:
//! terminal text, JSON, JUnit XML.

pub mod junit;
pub mod text;

use std::sync::Arc;

use serde::Serialize;

use crate::codec::Decoded;
use crate::event::{ClosedBy, ConnId, Direction};
use crate::rules::Finding;
use crate::verdict::Verdict;

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tool: &'static str,
    pub tool_version: &'static str,
    pub target: String,
    /// Seconds since the Unix epoch when the run started.
    pub started: u64,
    pub duration_ms: u64,
    pub strict: bool,
    pub cases: Vec<CaseReport>,
    pub summary: Summary,
}

/// One case's outcome with its evidence.
#[derive(Debug, Clone, Serialize)]
pub struct CaseReport {
    pub id: String,
    pub title: String,
    pub description: String,
    pub statements: Vec<&'static str>,
    pub tags: Vec<String>,
    pub version: &'static str,
    pub file: String,
    pub verdict: Verdict,
    /// One line saying why, when not a plain pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The statement broken (fail) or read loosely (non-strict).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_statement: Option<&'static str>,
    pub duration_ms: u64,
    pub connections: Vec<ConnInfo>,
    pub steps: Vec<StepReport>,
    pub findings: Vec<Finding>,
    pub wire: Vec<WireEntry>,
    /// Device cases with `--port-per-case`: the port this case listened on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// A connection of a case.
#[derive(Debug, Clone, Serialize)]
pub struct ConnInfo {
    pub id: ConnId,
    pub name: String,
    pub client_id: String,
}

/// What one step did.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// 1-based step number.
    pub step: usize,
    /// Line of the step in the case file.
    pub line: usize,
    pub action: &'static str,
    pub conn: String,
    /// pass, non-strict, fail, inconclusive, error or skip (not reached).
    pub result: Verdict,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actual: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One entry of a case's wire log.
#[derive(Debug, Clone, Serialize)]
pub struct WireEntry {
    pub conn: ConnId,
    pub at_ms: f64,
    #[serde(flatten)]
    pub what: WireWhat,
}

/// What happened on the wire.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum WireWhat {
    Opened,
    Packet {
        dir: Direction,
        index: u32,
        hex: String,
        packet: Arc<Decoded>,
    },
    Malformed {
        dir: Direction,
        hex: String,
        error: String,
    },
    Closed {
        by: ClosedBy,
        /// Why, when the transport said (e.g. a TLS alert).
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

/// Counts per verdict.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub total: usize,
    pub pass: usize,
    pub non_strict: usize,
    pub fail: usize,
    pub inconclusive: usize,
    pub skip: usize,
    pub error: usize,
}

impl Summary {
    /// Count the verdicts of `cases`.
    pub fn of(cases: &[CaseReport]) -> Summary {
        let mut s = Summary {
            total: cases.len(),
            ..Summary::default()
        };
        for c in cases {
            match c.verdict {
                Verdict::Pass => s.pass += 1,
                Verdict::NonStrict => s.non_strict += 1,
                Verdict::Fail => s.fail += 1,
                Verdict::Inconclusive => s.inconclusive += 1,
                Verdict::Skip => s.skip += 1,
                Verdict::Error => s.error += 1,
            }
        }
        s
    }
}

impl Report {
    /// Whether the run counts as conformant (with `strict`, non-strict fails too).
    pub fn conformant(&self) -> bool {
        self.summary.fail == 0
            && self.summary.error == 0
            && (!self.strict || self.summary.non_strict == 0)
    }

    /// The JSON report.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}
