//! Case verdicts and how step outcomes and findings combine into one.

use serde::Serialize;

/// The verdict of one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every expectation met in its preferred form; no finding.
    Pass,
    /// Met, but through an alternative the spec allows and a stricter reading would not.
    NonStrict,
    /// Skipped (not selected for this target, or not applicable).
    Skip,
    /// Could not decide (setup failed, e.g. the broker refused to connect us).
    Inconclusive,
    /// A MUST was broken.
    Fail,
    /// The harness failed (I/O, deadline).
    Error,
}

impl Verdict {
    /// Lower-case name as in reports.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::NonStrict => "non-strict",
            Verdict::Skip => "skip",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
        }
    }

    /// Combine: the worse of two (fail > error > inconclusive > skip > non-strict > pass).
    pub fn worst(self, other: Verdict) -> Verdict {
        fn rank(v: Verdict) -> u8 {
            match v {
                Verdict::Pass => 0,
                Verdict::NonStrict => 1,
                Verdict::Skip => 2,
                Verdict::Inconclusive => 3,
                Verdict::Error => 4,
                Verdict::Fail => 5,
            }
        }
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}
