//! JUnit XML rendering: one testcase per case, the failure type carries the
//! statement ID so CI dashboards group by rule.

use quick_junit::{NonSuccessKind, Report as JReport, TestCase, TestCaseStatus, TestSuite};

use super::Report;
use crate::verdict::Verdict;

/// Render the report as JUnit XML.
pub fn render(report: &Report) -> Result<String, String> {
    let mut suite = TestSuite::new("mqttspec");
    for c in &report.cases {
        let status = match c.verdict {
            Verdict::Pass => TestCaseStatus::success(),
            Verdict::NonStrict if !report.strict => TestCaseStatus::success(),
            Verdict::Skip | Verdict::Inconclusive => {
                let mut s = TestCaseStatus::skipped();
                if let TestCaseStatus::Skipped { message, .. } = &mut s {
                    *message = Some(
                        format!(
                            "{}: {}",
                            c.verdict.name(),
                            c.reason.clone().unwrap_or_default()
                        )
                        .into(),
                    );
                }
                s
            }
            Verdict::NonStrict | Verdict::Fail | Verdict::Error => {
                let kind = if c.verdict == Verdict::Error {
                    NonSuccessKind::Error
                } else {
                    NonSuccessKind::Failure
                };
                let mut s = TestCaseStatus::non_success(kind);
                if let TestCaseStatus::NonSuccess {
                    message,
                    ty,
                    description,
                    ..
                } = &mut s
                {
                    let rule = c
                        .failed_statement
                        .or_else(|| c.statements.first().copied())
                        .unwrap_or("");
                    *ty = Some(rule.to_string().into());
                    *message = Some(
                        c.reason
                            .clone()
                            .unwrap_or_else(|| format!("[{rule}] {}", c.verdict.name()))
                            .into(),
                    );
                    *description = Some(super::text::case_details(c).into());
                }
                s
            }
        };
        let mut tc = TestCase::new(c.id.clone(), status);
        tc.set_classname(format!("mqttspec.{}", c.version.replace('.', "_")));
        tc.set_time(std::time::Duration::from_millis(c.duration_ms));
        suite.add_test_case(tc);
    }
    let mut r = JReport::new("mqttspec");
    r.add_test_suite(suite);
    r.to_string().map_err(|e| e.to_string())
}
