//! Proves the broker-mode cases against a fault-injecting broker: with no
//! fault every case passes (or passes non-strictly); with one fault the case
//! written for that behavior fails and names the broken statement.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::PathBuf;
use std::time::Duration;

use mqttspec::case::{load_paths, Case};
use mqttspec::report::{CaseReport, Report};
use mqttspec::run::{run, RunConfig};
use mqttspec::transport::Target;
use mqttspec::verdict::Verdict;
use rstest::rstest;
use support::{Broker, Faults};

fn all_cases() -> Vec<Case> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("cases");
    load_paths(&[dir]).expect("cases load")
}

/// Run `cases` against a fresh broker with `faults`; every wait is bounded.
async fn run_against(faults: Faults, cases: Vec<Case>) -> Report {
    let broker = Broker::start(faults).await.expect("broker starts");
    let cfg = RunConfig {
        target: Target::parse(&broker.url()).expect("target"),
        username: None,
        password: None,
        jobs: 8,
        strict: false,
        deadline: Duration::from_secs(90),
        connect_timeout: Duration::from_secs(2),
        tls: None,
        tls_material: None,
    };
    tokio::time::timeout(Duration::from_secs(120), run(cases, &cfg, None))
        .await
        .expect("the run ends within its bound")
}

/// Run one case against a broker with one fault.
async fn run_one(fault: &str, case_id: &str) -> CaseReport {
    let cases: Vec<Case> = all_cases()
        .into_iter()
        .filter(|c| c.id == case_id)
        .collect();
    assert_eq!(cases.len(), 1, "case `{case_id}` exists");
    let report = run_against(Faults::only(fault), cases).await;
    report.cases.into_iter().next().expect("one report")
}

fn explain(c: &CaseReport) -> String {
    let steps: Vec<String> = c
        .steps
        .iter()
        .map(|s| {
            format!(
                "  {} {} {}: {:?} expected {:?} actual {:?} {:?}",
                s.step, s.action, s.conn, s.result, s.expected, s.actual, s.message
            )
        })
        .collect();
    format!(
        "{}: {:?} {:?} (failed_statement {:?}, findings {:?})\n{}",
        c.id,
        c.verdict,
        c.reason,
        c.failed_statement,
        c.findings
            .iter()
            .map(|f| format!("{}: {}", f.rule, f.message))
            .collect::<Vec<_>>(),
        steps.join("\n")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformant_broker_passes_every_case() {
    let cases = all_cases();
    assert!(!cases.is_empty());
    let report = run_against(Faults::default(), cases).await;
    eprintln!("summary: {:?}", report.summary);
    for c in report
        .cases
        .iter()
        .filter(|c| c.verdict == Verdict::NonStrict)
    {
        eprintln!("non-strict: {} {:?}", c.id, c.reason);
    }
    let bad: Vec<String> = report
        .cases
        .iter()
        .filter(|c| !matches!(c.verdict, Verdict::Pass | Verdict::NonStrict))
        // TLS cases do not apply to the plain-TCP test broker.
        .filter(|c| {
            !(c.verdict == Verdict::Skip && c.tags.iter().any(|t| t == "tls" || t == "mtls"))
        })
        .map(explain)
        .collect();
    assert!(bad.is_empty(), "cases not passing:\n{}", bad.join("\n"));
}

/// One row per fault: the fault, the case written for that behavior, and
/// the statement the failure must name.
#[rustfmt::skip]
#[rstest]
#[case("accept_non_connect_first",                "first-packet-not-connect-closes",        "MQTT-4.8.0-1")]
#[case("accept_second_connect",                   "second-connect-closes",                  "MQTT-3.1.0-2")]
#[case("accept_wrong_protocol_name",              "protocol-name-wrong-closes",             "MQTT-3.1.2-1")]
#[case("accept_bad_protocol_level",               "protocol-level-unsupported",             "MQTT-3.1.2-2")]
#[case("accept_reserved_connect_flag",            "connect-reserved-flag-closes",           "MQTT-3.1.2-3")]
#[case("reject_23_byte_client_id",                "client-id-23-alnum-accepted",            "MQTT-3.1.3-5")]
#[case("accept_empty_id_persistent",              "client-id-empty-persistent-rejected",    "MQTT-3.1.3-8")]
#[case("session_present_on_clean",                "session-present-clean",                  "MQTT-3.2.2-1")]
#[case("session_present_always_0",                "session-present-resumed",                "MQTT-3.2.2-2")]
#[case("keep_session_on_clean",                   "session-discarded-on-clean",             "MQTT-3.1.2-6")]
#[case("no_takeover",                             "client-id-takeover",                     "MQTT-3.1.4-2")]
#[case("no_will",                                 "will-published-on-abnormal-close",       "MQTT-3.1.2-8")]
#[case("will_after_disconnect",                   "will-not-published-after-disconnect",    "MQTT-3.14.4-3")]
#[case("will_not_retained",                       "will-retained",                          "MQTT-3.1.2-17")]
#[case("ignore_keep_alive",                       "keep-alive-timeout-closes",              "MQTT-3.1.2-24")]
#[case("no_pingresp",                             "pingreq-pingresp",                       "MQTT-3.12.4-1")]
#[case("suback_wrong_packet_id",                  "suback-packet-id",                       "MQTT-3.8.4-2")]
#[case("suback_codes_reversed",                   "suback-codes-order",                     "MQTT-3.9.3-1")]
#[case("suback_missing_code",                     "suback-codes-order",                     "MQTT-3.8.4-5")]
#[case("accept_bad_subscribe_flags",              "subscribe-reserved-flags-closes",        "MQTT-3.8.1-1")]
#[case("accept_empty_subscribe",                  "subscribe-empty-payload-closes",         "MQTT-3.8.3-3")]
#[case("accept_subscribe_qos3",                   "subscribe-qos3-closes",                  "MQTT-3-8.3-4")]
#[case("accept_subscribe_qos3",                   "subscribe-reserved-option-bits-closes",  "MQTT-3-8.3-4")]
#[case("accept_invalid_filters",                  "subscribe-invalid-hash-filter",          "MQTT-4.7.1-2")]
#[case("accept_invalid_filters",                  "subscribe-invalid-plus-filter",          "MQTT-4.7.1-3")]
#[case("subscribe_duplicates_instead_of_replace", "subscribe-replaces-existing",            "MQTT-3.8.4-3")]
#[case("no_qos_downgrade",                        "qos-downgrade-on-delivery",              "MQTT-3.8.4-6")]
#[case("overlapping_min_qos",                     "overlapping-subscriptions-max-qos",      "MQTT-3.3.5-1")]
#[case("accept_bad_unsubscribe_flags",            "unsubscribe-reserved-flags-closes",      "MQTT-3.10.1-1")]
#[case("unsuback_wrong_packet_id",                "unsuback-packet-id",                     "MQTT-3.10.4-4")]
#[case("no_unsuback_when_nothing_deleted",        "unsuback-when-nothing-deleted",          "MQTT-3.10.4-5")]
#[case("unsubscribe_ignored",                     "unsubscribe-stops-delivery",             "MQTT-3.10.4-2")]
#[case("unsubscribe_by_matching",                 "unsubscribe-wildcard-literal",           "MQTT-3.10.4-1")]
#[case("accept_empty_unsubscribe",                "unsubscribe-empty-payload-closes",       "MQTT-3.10.3-2")]
#[case("accept_bad_pubrel_flags",                 "pubrel-reserved-flags-closes",           "MQTT-3.6.1-1")]
#[case("no_retain_store",                         "retained-delivered-on-subscribe",        "MQTT-3.3.1-6")]
#[case("retain_keep_first",                       "retained-replaced",                      "MQTT-3.3.1-7")]
#[case("retain_empty_not_cleared",                "retained-cleared-by-empty-payload",      "MQTT-3.3.1-10")]
#[case("retain_empty_stored",                     "retained-cleared-by-empty-payload",      "MQTT-3.3.1-11")]
#[case("retain_flag_on_live_forward",             "retained-live-forward-retain-0",         "MQTT-3.3.1-9")]
#[case("retain_0_replaces",                       "retain-0-does-not-replace",              "MQTT-3.3.1-12")]
#[case("accept_wildcard_publish",                 "publish-wildcard-topic-closes",          "MQTT-3.3.2-2")]
#[case("accept_wildcard_publish",                 "publish-hash-topic-closes",              "MQTT-3.3.2-2")]
#[case("accept_qos3_publish",                     "publish-qos3-closes",                    "MQTT-3.3.1-4")]
#[case("dup_on_qos0",                             "dup-zero-for-qos0",                      "MQTT-3.3.1-2")]
#[case("qos_upgrade_to_granted",                  "dup-zero-for-qos0",                      "MQTT-3.8.4-6")]
#[case("propagate_inbound_dup",                   "inbound-dup-not-propagated",             "MQTT-3.3.1-3")]
#[case("puback_wrong_id",                         "qos1-publish-puback",                    "MQTT-2.3.1-6")]
#[case("qos2_puback_instead_of_pubrec",           "qos2-publish-flow",                      "MQTT-3.3.4-1")]
#[case("qos2_deliver_duplicates",                 "qos2-no-duplicate-delivery",             "MQTT-4.3.3-2")]
#[case("no_pubrel",                               "qos2-delivery-to-subscriber",            "MQTT-4.3.3-1")]
#[case("no_dup_on_resend",                        "redelivery-on-resume-with-dup",          "MQTT-3.3.1-1")]
#[case("no_offline_queue",                        "qos1-stored-while-offline",              "MQTT-3.1.2-5")]
#[case("dollar_topics_to_wildcards",              "dollar-topics-not-matched-by-wildcards", "MQTT-4.7.2-1")]
#[case("close_on_dollar_subscribe",               "dollar-topics-not-matched-by-wildcards", "MQTT-3.8.4-1")]
#[case("close_on_dollar_subscribe",               "dollar-sys-filter-matches",              "MQTT-3.8.4-1")]
#[case("accept_invalid_utf8",                     "invalid-utf8-topic-closes",              "MQTT-1.5.3-1")]
#[case("accept_invalid_utf8",                     "surrogate-topic-closes",                 "MQTT-1.5.3-1")]
#[case("accept_null_char",                        "null-char-topic-closes",                 "MQTT-1.5.3-2")]
#[case("accept_packet_id_zero",                   "publish-packet-id-zero",                 "MQTT-4.8.0-1")]
#[case("accept_packet_id_zero",                   "subscribe-packet-id-zero",               "MQTT-4.8.0-1")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_fails_its_case(
    #[case] fault: &str,
    #[case] case_id: &str,
    #[case] statement: &str,
) {
    let c = run_one(fault, case_id).await;
    eprintln!(
        "{fault} -> {case_id}: {:?}, failed_statement {:?}, findings {:?}",
        c.verdict,
        c.failed_statement,
        c.findings.iter().map(|f| f.rule).collect::<Vec<_>>()
    );
    assert_eq!(c.verdict, Verdict::Fail, "{}", explain(&c));
    let named = c.failed_statement == Some(statement)
        || c.findings.iter().any(|f| f.rule == statement);
    assert!(named, "expected {statement}: {}", explain(&c));
}

/// Faults whose case grades the deviation as a loose reading (non-strict).
#[rustfmt::skip]
#[rstest]
#[case("no_sys_tree", "dollar-sys-filter-matches", "MQTT-4.7.2-1")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_is_graded_non_strict(
    #[case] fault: &str,
    #[case] case_id: &str,
    #[case] statement: &str,
) {
    let c = run_one(fault, case_id).await;
    assert_eq!(c.verdict, Verdict::NonStrict, "{}", explain(&c));
    assert_eq!(c.failed_statement, Some(statement), "{}", explain(&c));
}

/// Allowed behaviors that keep a case from observing what it checks: the
/// case is inconclusive, never failed.
#[rustfmt::skip]
#[rstest]
#[case("dollar_topics_not_routed", "dollar-topics-not-matched-by-wildcards", "MQTT-4.7.2-1")]
#[case("refuse_dollar_subscribe",  "dollar-topics-not-matched-by-wildcards", "MQTT-3.8.4-1")]
#[case("refuse_dollar_subscribe",  "dollar-sys-filter-matches",              "MQTT-3.8.4-1")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_behavior_is_inconclusive(
    #[case] fault: &str,
    #[case] case_id: &str,
    #[case] statement: &str,
) {
    let c = run_one(fault, case_id).await;
    assert_eq!(c.verdict, Verdict::Inconclusive, "{}", explain(&c));
    let reason = c.reason.clone().unwrap_or_default();
    assert!(reason.starts_with(&format!("[{statement}]")), "{}", explain(&c));
}

#[test]
fn every_fault_name_is_known() {
    for name in Faults::NAMES {
        assert_ne!(Faults::only(name), Faults::default(), "{name}");
    }
}
