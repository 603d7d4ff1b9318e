//! The list of all passive rules.

use super::{
    s2_packet_ids as ids, s3_10_unsubscribe as unsub, s3_12_ping as ping, s3_14_disconnect as disc,
    s3_1_connect as connect, s3_1_connect_payload as connect_payload, s3_2_connack as connack,
    s3_2_connack_limits as limits, s3_3_publish as publish, s3_8_subscribe as sub,
    s4_6_ordering as ordering, s4_7_topics as topics, s4_8_errors as errors, s4_qos_flows as qos,
    s6_websocket as ws, wellformed, Rule, RuleMeta,
};

/// A fresh instance of every rule (one set per connection).
pub fn all_rules() -> Vec<Box<dyn Rule>> {
    vec![
        Box::new(wellformed::ClientPacketsWellFormed),
        Box::new(wellformed::ServerPacketsWellFormed),
        Box::new(connect::FirstPacketIsConnect),
        Box::new(connect::ClientConnectsOnce::default()),
        Box::new(connect_payload::ConnectPayloadMatchesFlags),
        Box::new(connect::ClientKeepsAlive),
        Box::new(connect::ServerStopsAfterSecondConnect::default()),
        Box::new(connack::FirstServerPacketIsConnack),
        Box::new(connack::RefusedConnackWithoutSession),
        Box::new(limits::ClientWithinConnackLimits::default()),
        Box::new(publish::Qos0PublishWithoutDup::client()),
        Box::new(publish::Qos0PublishWithoutDup::server()),
        Box::new(publish::PublishTopicWithoutWildcards::client()),
        Box::new(publish::PublishTopicWithoutWildcards::server()),
        Box::new(publish::ResentPublishHasDup::client()),
        Box::new(publish::ResentPublishHasDup::server()),
        Box::new(publish::ServerPublishMatchesSubscription),
        Box::new(publish::ServerPublishQosWithinGrant),
        Box::new(ids::AckRefersToInflight::client()),
        Box::new(ids::AckRefersToInflight::server()),
        Box::new(ids::PublishIdNotInUse::client()),
        Box::new(ids::PublishIdNotInUse::server()),
        Box::new(ids::ClientSubscribeIdsNotInUse),
        Box::new(ids::ClientResendKeepsPacketId),
        Box::new(sub::SubackMatchesSubscribe),
        Box::new(sub::SubackCodesFitSubscribe),
        Box::new(unsub::UnsubackMatchesUnsubscribe),
        Box::new(ping::PingreqAnswered::default()),
        Box::new(disc::NothingAfterClientDisconnect::default()),
        Box::new(disc::ClientClosesAfterDisconnect::default()),
        Box::new(qos::AckTypeMatchesQos::client()),
        Box::new(qos::AckTypeMatchesQos::server()),
        Box::new(qos::ClientQos2SenderFlow::default()),
        Box::new(ordering::ClientAcksInOrder::default()),
        Box::new(errors::ClientClosesOnServerViolation::default()),
        Box::new(topics::DollarTopicsNotMatchedByWildcards),
        Box::new(topics::ClientTopicFiltersValid),
        Box::new(ws::BinaryFramesOnly::client()),
        Box::new(ws::BinaryFramesOnly::server()),
    ]
}

/// The static description of every rule, for `mqttspec rules` and coverage.
pub fn catalogue() -> Vec<&'static RuleMeta> {
    all_rules().iter().map(|r| r.meta()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Version;
    use crate::spec::lookup;
    use std::collections::BTreeSet;

    #[test]
    fn rule_indices_fit_the_dispatch_table() {
        // One bit per rule in the monitor's dispatch table.
        assert!(all_rules().len() <= 64);
    }

    #[test]
    fn names_are_unique_and_kebab_case() {
        let cat = catalogue();
        let names: BTreeSet<_> = cat.iter().map(|m| m.name).collect();
        assert_eq!(names.len(), cat.len());
        for n in names {
            assert!(
                n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{n}"
            );
        }
    }

    #[test]
    fn every_cited_statement_exists_in_a_listed_version() {
        for m in catalogue() {
            assert!(!m.statements.is_empty(), "{}", m.name);
            assert!(!m.versions.is_empty(), "{}", m.name);
            for s in m.statements {
                assert!(
                    m.versions.iter().any(|v| lookup(*v, s).is_some()),
                    "{} cites unknown {s}",
                    m.name
                );
            }
        }
    }

    #[test]
    fn version_specific_statements_are_cited_statements_of_that_version() {
        for m in catalogue() {
            for (id, v) in m.only {
                assert!(
                    m.statements.contains(id),
                    "{}: {id} not in statements",
                    m.name
                );
                assert!(
                    m.versions.iter().any(|x| x.is_v5() == v.is_v5()),
                    "{}: {id} for a version it does not apply to",
                    m.name
                );
                assert!(
                    lookup(*v, id).is_some(),
                    "{}: {id} not in {}",
                    m.name,
                    v.name()
                );
            }
        }
    }

    #[test]
    fn a_renumbered_statement_counts_only_in_its_version() {
        let keep_alive = catalogue()
            .into_iter()
            .find(|m| m.name == "client-keeps-alive")
            .expect("rule exists");
        let v3: Vec<_> = keep_alive.statements_in(Version::V311).collect();
        let v5: Vec<_> = keep_alive.statements_in(Version::V5).collect();
        assert_eq!(v3, ["MQTT-3.1.2-23"]);
        assert_eq!(v5, ["MQTT-3.1.2-20"]);
    }
}
