//! The list of all passive rules.

use super::{
    s2_packet_ids as ids, s3_10_unsubscribe as unsub, s3_12_ping as ping, s3_14_disconnect as disc,
    s3_1_connect as connect, s3_1_connect_payload as connect_payload, s3_2_connack as connack,
    s3_2_connack_limits as limits, s3_3_publish as publish, s3_8_subscribe as sub,
    s4_6_ordering as ordering, s4_7_topics as topics, s4_8_errors as errors, s4_qos_flows as qos,
    s6_websocket as ws, wellformed, Finding, Rule, RuleMeta,
};
use crate::event::Event;
use crate::session::Session;

/// The registry: every passive rule, in a fixed order (a rule's index is
/// its bit in the monitor's dispatch tables). One list makes both the
/// [`RuleSet`] a connection holds and the boxed list of [`all_rules`].
macro_rules! registry {
    ($($field:ident: $ty:ty = $make:expr,)*) => {
        /// A fresh instance of every rule, held by value: a connection's
        /// rules sit together, inside the connection, and are called
        /// without a pointer per rule.
        pub(crate) struct RuleSet {
            $($field: $ty,)*
        }

        impl RuleSet {
            pub(crate) fn new() -> RuleSet {
                RuleSet { $($field: $make,)* }
            }
        }

        /// Rule `i`'s [`Rule::observe`], by index.
        pub(crate) const OBSERVE: &[fn(&mut RuleSet, &Event, &Session, &mut Vec<Finding>)] =
            &[$(|r, e, s, out| r.$field.observe(e, s, out),)*];

        /// Rule `i`'s [`Rule::finish`], by index.
        pub(crate) const FINISH: &[fn(&mut RuleSet, &Session, &mut Vec<Finding>)] =
            &[$(|r, s, out| r.$field.finish(s, out),)*];

        /// A fresh instance of every rule, boxed, in registry order.
        pub fn all_rules() -> Vec<Box<dyn Rule>> {
            vec![$(Box::new($make),)*]
        }
    };
}

registry! {
    client_packets_well_formed: wellformed::ClientPacketsWellFormed = wellformed::ClientPacketsWellFormed,
    server_packets_well_formed: wellformed::ServerPacketsWellFormed = wellformed::ServerPacketsWellFormed,
    first_packet_is_connect: connect::FirstPacketIsConnect = connect::FirstPacketIsConnect,
    client_connects_once: connect::ClientConnectsOnce = connect::ClientConnectsOnce::default(),
    connect_payload_matches_flags: connect_payload::ConnectPayloadMatchesFlags = connect_payload::ConnectPayloadMatchesFlags,
    client_keeps_alive: connect::ClientKeepsAlive = connect::ClientKeepsAlive,
    server_stops_after_second_connect: connect::ServerStopsAfterSecondConnect = connect::ServerStopsAfterSecondConnect::default(),
    first_server_packet_is_connack: connack::FirstServerPacketIsConnack = connack::FirstServerPacketIsConnack,
    refused_connack_without_session: connack::RefusedConnackWithoutSession = connack::RefusedConnackWithoutSession,
    client_within_connack_limits: limits::ClientWithinConnackLimits = limits::ClientWithinConnackLimits::default(),
    qos0_publish_without_dup_client: publish::Qos0PublishWithoutDup = publish::Qos0PublishWithoutDup::client(),
    qos0_publish_without_dup_server: publish::Qos0PublishWithoutDup = publish::Qos0PublishWithoutDup::server(),
    publish_topic_without_wildcards_client: publish::PublishTopicWithoutWildcards = publish::PublishTopicWithoutWildcards::client(),
    publish_topic_without_wildcards_server: publish::PublishTopicWithoutWildcards = publish::PublishTopicWithoutWildcards::server(),
    resent_publish_has_dup_client: publish::ResentPublishHasDup = publish::ResentPublishHasDup::client(),
    resent_publish_has_dup_server: publish::ResentPublishHasDup = publish::ResentPublishHasDup::server(),
    server_publish_matches_subscription: publish::ServerPublishMatchesSubscription = publish::ServerPublishMatchesSubscription,
    server_publish_qos_within_grant: publish::ServerPublishQosWithinGrant = publish::ServerPublishQosWithinGrant,
    ack_refers_to_inflight_client: ids::AckRefersToInflight = ids::AckRefersToInflight::client(),
    ack_refers_to_inflight_server: ids::AckRefersToInflight = ids::AckRefersToInflight::server(),
    publish_id_not_in_use_client: ids::PublishIdNotInUse = ids::PublishIdNotInUse::client(),
    publish_id_not_in_use_server: ids::PublishIdNotInUse = ids::PublishIdNotInUse::server(),
    client_subscribe_ids_not_in_use: ids::ClientSubscribeIdsNotInUse = ids::ClientSubscribeIdsNotInUse,
    client_resend_keeps_packet_id: ids::ClientResendKeepsPacketId = ids::ClientResendKeepsPacketId,
    suback_matches_subscribe: sub::SubackMatchesSubscribe = sub::SubackMatchesSubscribe,
    suback_codes_fit_subscribe: sub::SubackCodesFitSubscribe = sub::SubackCodesFitSubscribe,
    unsuback_matches_unsubscribe: unsub::UnsubackMatchesUnsubscribe = unsub::UnsubackMatchesUnsubscribe,
    pingreq_answered: ping::PingreqAnswered = ping::PingreqAnswered::default(),
    nothing_after_client_disconnect: disc::NothingAfterClientDisconnect = disc::NothingAfterClientDisconnect::default(),
    client_closes_after_disconnect: disc::ClientClosesAfterDisconnect = disc::ClientClosesAfterDisconnect::default(),
    ack_type_matches_qos_client: qos::AckTypeMatchesQos = qos::AckTypeMatchesQos::client(),
    ack_type_matches_qos_server: qos::AckTypeMatchesQos = qos::AckTypeMatchesQos::server(),
    client_qos2_sender_flow: qos::ClientQos2SenderFlow = qos::ClientQos2SenderFlow::default(),
    client_acks_in_order: ordering::ClientAcksInOrder = ordering::ClientAcksInOrder::default(),
    client_closes_on_server_violation: errors::ClientClosesOnServerViolation = errors::ClientClosesOnServerViolation::default(),
    dollar_topics_not_matched_by_wildcards: topics::DollarTopicsNotMatchedByWildcards = topics::DollarTopicsNotMatchedByWildcards,
    client_topic_filters_valid: topics::ClientTopicFiltersValid = topics::ClientTopicFiltersValid,
    binary_frames_only_client: ws::BinaryFramesOnly = ws::BinaryFramesOnly::client(),
    binary_frames_only_server: ws::BinaryFramesOnly = ws::BinaryFramesOnly::server(),
    subprotocol_client: ws::SubprotocolIsMqtt = ws::SubprotocolIsMqtt::client(),
    subprotocol_server: ws::SubprotocolIsMqtt = ws::SubprotocolIsMqtt::server(),
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
