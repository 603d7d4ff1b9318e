//! JUnit XML of an analysis: one testcase per flow, failing when the flow has
//! findings (type = first statement ID, message lists them with frames).

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::model::Analysis;

/// Render as JUnit XML.
pub fn render(a: &Analysis) -> Result<String, String> {
    let mut report = Report::new("mqttspec-analyze");
    for f in &a.files {
        let mut suite = TestSuite::new(f.file.clone());
        if let Some(e) = &f.error {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            if let TestCaseStatus::NonSuccess { message, .. } = &mut s {
                *message = Some(e.clone().into());
            }
            suite.add_test_case(TestCase::new("read", s));
        }
        for fl in &f.flows {
            let name = format!("flow {} {} -> {}", fl.flow, fl.client, fl.server);
            let status = match fl.findings.first() {
                None => TestCaseStatus::success(),
                Some(first) => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    if let TestCaseStatus::NonSuccess {
                        message,
                        ty,
                        description,
                        ..
                    } = &mut s
                    {
                        *ty = Some(first.rule.to_string().into());
                        *message = Some(
                            format!("[{}] frame {}: {}", first.rule, first.frame, first.message)
                                .into(),
                        );
                        let all: Vec<String> = fl
                            .findings
                            .iter()
                            .map(|x| {
                                format!(
                                    "frame {} [{}] {:?}: {}",
                                    x.frame, x.rule, x.actor, x.message
                                )
                            })
                            .collect();
                        *description = Some(all.join("\n").into());
                    }
                    s
                }
            };
            let mut tc = TestCase::new(name, status);
            tc.set_classname(format!("mqttspec.capture.{}", fl.kind_name()));
            suite.add_test_case(tc);
        }
        report.add_test_suite(suite);
    }
    report.to_string().map_err(|e| e.to_string())
}
