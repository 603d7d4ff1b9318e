//! Every client rule, proven against `mqttspec serve --watch`: our own
//! fault-injecting client (`faulty_client/`) breaks one rule per run, and the
//! watch's report must name that statement, by that check, against the
//! client, and nothing against the server. The same conversation without a
//! fault yields no finding at all.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod faulty_client;

use faulty_client::{connect_packet, converse, findings, publish, Client, Fault, Watch};
use mqttspec::codec::Version;
use rstest::rstest;

const V3: Version = Version::V311;
const V5: Version = Version::V5;

#[rstest]
#[case(V3)]
#[case(V5)]
fn the_conformant_conversation_has_no_finding(#[case] version: Version) {
    let w = Watch::watch();
    converse(&w, Fault::None, version);
    let (code, text, report) = w.stop();
    assert_eq!(findings(&report), vec![], "{text}");
    assert_eq!(code, 0, "{text}");
    // The subscriber and the client feeding it, both closed by the client.
    let conns = report["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 2, "{text}");
    assert!(conns.iter().all(|c| c["closed_by"] == "client"), "{text}");
}

#[rstest]
#[case::publish_before_connect(
    Fault::PublishBeforeConnect,
    V3,
    "MQTT-3.1.0-1",
    "first-packet-is-connect"
)]
#[case::second_connect(Fault::SecondConnect, V3, "MQTT-3.1.0-2", "client-connects-once")]
#[case::second_connect_5(Fault::SecondConnect, V5, "MQTT-3.1.0-2", "client-connects-once")]
#[case::silent_past_keep_alive(
    Fault::SilentPastKeepAlive,
    V3,
    "MQTT-3.1.2-23",
    "client-keeps-alive"
)]
#[case::silent_past_keep_alive_5(
    Fault::SilentPastKeepAlive,
    V5,
    "MQTT-3.1.2-20",
    "client-keeps-alive"
)]
#[case::will_qos_without_will(
    Fault::WillQosWithoutWill,
    V3,
    "MQTT-3.1.2-11",
    "connect-payload-matches-flags"
)]
#[case::will_retain_without_will(
    Fault::WillRetainWithoutWill,
    V3,
    "MQTT-3.1.2-11",
    "connect-payload-matches-flags"
)]
#[case::will_retain_without_will_5(
    Fault::WillRetainWithoutWill,
    V5,
    "MQTT-3.1.2-13",
    "connect-payload-matches-flags"
)]
#[case::will_qos_3(Fault::WillQos3, V3, "MQTT-3.1.2-14", "connect-payload-matches-flags")]
#[case::will_qos_3_5(Fault::WillQos3, V5, "MQTT-3.1.2-12", "connect-payload-matches-flags")]
#[case::will_fields_missing(
    Fault::WillFieldsMissing,
    V3,
    "MQTT-3.1.2-9",
    "connect-payload-matches-flags"
)]
#[case::will_fields_missing_5(
    Fault::WillFieldsMissing,
    V5,
    "MQTT-3.1.2-9",
    "connect-payload-matches-flags"
)]
#[case::user_name_missing(
    Fault::UserNameMissing,
    V3,
    "MQTT-3.1.2-19",
    "connect-payload-matches-flags"
)]
#[case::user_name_missing_5(
    Fault::UserNameMissing,
    V5,
    "MQTT-3.1.2-17",
    "connect-payload-matches-flags"
)]
#[case::password_missing(
    Fault::PasswordMissing,
    V3,
    "MQTT-3.1.2-21",
    "connect-payload-matches-flags"
)]
#[case::password_missing_5(
    Fault::PasswordMissing,
    V5,
    "MQTT-3.1.2-19",
    "connect-payload-matches-flags"
)]
#[case::user_name_without_flag(
    Fault::UserNameWithoutFlag,
    V3,
    "MQTT-3.1.2-18",
    "connect-payload-matches-flags"
)]
#[case::user_name_without_flag_5(
    Fault::UserNameWithoutFlag,
    V5,
    "MQTT-3.1.2-16",
    "connect-payload-matches-flags"
)]
#[case::password_without_user_name(
    Fault::PasswordWithoutUserName,
    V3,
    "MQTT-3.1.2-22",
    "client-packets-well-formed"
)]
#[case::empty_id_persistent(
    Fault::EmptyIdPersistent,
    V3,
    "MQTT-3.1.3-7",
    "connect-payload-matches-flags"
)]
#[case::protocol_name_5(
    Fault::ProtocolName,
    V5,
    "MQTT-3.1.2-1",
    "connect-payload-matches-flags"
)]
#[case::subscribe_flags(
    Fault::SubscribeFlags,
    V3,
    "MQTT-3.8.1-1",
    "client-packets-well-formed"
)]
#[case::subscribe_without_filters(
    Fault::SubscribeWithoutFilters,
    V3,
    "MQTT-3.8.3-3",
    "client-packets-well-formed"
)]
#[case::subscribe_without_filters_5(
    Fault::SubscribeWithoutFilters,
    V5,
    "MQTT-3.8.3-2",
    "client-packets-well-formed"
)]
#[case::invalid_topic_filter(
    Fault::InvalidTopicFilter,
    V3,
    "MQTT-4.7.1-2",
    "client-topic-filters-valid"
)]
#[case::pubacks_out_of_order(Fault::PubacksOutOfOrder, V3, "MQTT-4.6.0-2", "client-acks-in-order")]
#[case::pubacks_out_of_order_5(
    Fault::PubacksOutOfOrder,
    V5,
    "MQTT-4.6.0-2",
    "client-acks-in-order"
)]
#[case::pubrecs_out_of_order(Fault::PubrecsOutOfOrder, V3, "MQTT-4.6.0-3", "client-acks-in-order")]
#[case::puback_for_qos2(
    Fault::PubackForQos2,
    V3,
    "MQTT-4.3.3-2",
    "client-ack-type-matches-qos"
)]
#[case::puback_for_qos2_5(
    Fault::PubackForQos2,
    V5,
    "MQTT-4.3.3-8",
    "client-ack-type-matches-qos"
)]
#[case::pubrec_for_qos1(
    Fault::PubrecForQos1,
    V3,
    "MQTT-3.3.4-1",
    "client-ack-type-matches-qos"
)]
#[case::dup_on_qos0(
    Fault::DupOnQos0,
    V3,
    "MQTT-3.3.1-2",
    "client-qos0-publish-without-dup"
)]
#[case::wildcard_in_topic_name(
    Fault::WildcardInTopicName,
    V3,
    "MQTT-3.3.2-2",
    "client-publish-topic-without-wildcards"
)]
#[case::qos3(Fault::Qos3, V3, "MQTT-3.3.1-4", "client-packets-well-formed")]
#[case::zero_packet_id(Fault::ZeroPacketId, V3, "MQTT-2.3.1-1", "client-packets-well-formed")]
#[case::zero_packet_id_5(Fault::ZeroPacketId, V5, "MQTT-2.2.1-3", "client-packets-well-formed")]
#[case::invalid_utf8_topic(
    Fault::InvalidUtf8Topic,
    V3,
    "MQTT-1.5.3-1",
    "client-packets-well-formed"
)]
#[case::invalid_utf8_topic_5(
    Fault::InvalidUtf8Topic,
    V5,
    "MQTT-1.5.4-1",
    "client-packets-well-formed"
)]
#[case::null_in_topic(Fault::NullInTopic, V3, "MQTT-1.5.3-2", "client-packets-well-formed")]
#[case::publish_id_in_use(
    Fault::PublishIdInUse,
    V3,
    "MQTT-2.3.1-2",
    "client-publish-id-not-in-use"
)]
#[case::subscribe_id_in_use(
    Fault::SubscribeIdInUse,
    V3,
    "MQTT-2.3.1-2",
    "client-subscribe-ids-not-in-use"
)]
#[case::subscribe_id_in_use_5(
    Fault::SubscribeIdInUse,
    V5,
    "MQTT-2.2.1-3",
    "client-subscribe-ids-not-in-use"
)]
#[case::resend_without_dup(
    Fault::ResendWithoutDup,
    V3,
    "MQTT-3.3.1-1",
    "client-resent-publish-has-dup"
)]
#[case::resend_under_new_id(
    Fault::ResendUnderNewId,
    V3,
    "MQTT-2.3.1-3",
    "client-resend-keeps-packet-id"
)]
#[case::resend_after_pubrel(
    Fault::ResendAfterPubrel,
    V3,
    "MQTT-4.3.3-1",
    "client-qos2-sender-flow"
)]
#[case::resend_after_pubrel_5(
    Fault::ResendAfterPubrel,
    V5,
    "MQTT-4.3.3-6",
    "client-qos2-sender-flow"
)]
#[case::pubrel_flags(Fault::PubrelFlags, V3, "MQTT-3.6.1-1", "client-packets-well-formed")]
#[case::pubrels_out_of_order(Fault::PubrelsOutOfOrder, V3, "MQTT-4.6.0-4", "client-acks-in-order")]
#[case::pingreq_flags(Fault::PingreqFlags, V3, "MQTT-2.2.2-1", "client-packets-well-formed")]
#[case::pingreq_flags_5(Fault::PingreqFlags, V5, "MQTT-2.1.3-1", "client-packets-well-formed")]
#[case::unsubscribe_flags(
    Fault::UnsubscribeFlags,
    V3,
    "MQTT-3.10.1-1",
    "client-packets-well-formed"
)]
#[case::unsubscribe_without_filters(
    Fault::UnsubscribeWithoutFilters,
    V3,
    "MQTT-3.10.3-2",
    "client-packets-well-formed"
)]
#[case::packet_after_disconnect(
    Fault::PacketAfterDisconnect,
    V3,
    "MQTT-3.14.4-2",
    "nothing-after-client-disconnect"
)]
#[case::packet_after_disconnect_5(
    Fault::PacketAfterDisconnect,
    V5,
    "MQTT-3.14.4-1",
    "nothing-after-client-disconnect"
)]
#[case::open_after_disconnect(
    Fault::OpenAfterDisconnect,
    V3,
    "MQTT-3.14.4-1",
    "client-closes-after-disconnect"
)]
#[case::open_after_disconnect_5(
    Fault::OpenAfterDisconnect,
    V5,
    "MQTT-3.14.4-2",
    "client-closes-after-disconnect"
)]
fn each_fault_is_found_with_its_statement(
    #[case] fault: Fault,
    #[case] version: Version,
    #[case] statement: &str,
    #[case] check: &str,
) {
    let w = Watch::watch();
    converse(&w, fault, version);
    let (code, text, report) = w.stop();
    let found = findings(&report);
    let want = (
        statement.to_string(),
        check.to_string(),
        "client".to_string(),
    );
    assert_eq!(found, vec![want], "{fault:?}\n{text}");
    assert_eq!(code, 1, "{text}");
    assert!(text.contains(&format!("[{statement}] client:")), "{text}");
}

/// A malformed packet is not answered: the broker closes the connection
/// (MQTT-4.8.0-1, MQTT-4.13.1-1). Answering a QoS 1 PUBLISH with packet
/// id 0 would put the client's fault into the server's PUBACK.
#[rstest]
#[case(V3)]
#[case(V5)]
fn a_malformed_packet_is_closed_not_answered(#[case] version: Version) {
    let w = Watch::watch();
    let mut c = Client::open(&w, version);
    c.connect(connect_packet(version, "faulty"));
    c.send(&publish("o/1", 1, Some(0), "m"));
    // Our side stays open: only the broker can end the connection.
    let answered = c.read_until_closed();
    let (_, text, report) = w.stop();
    assert_eq!(answered, Vec::<u8>::new(), "{text}");
    assert_eq!(report["connections"][0]["closed_by"], "server", "{text}");
    let zero_id = ["MQTT-2.3.1-1", "MQTT-2.2.1-3"][usize::from(version == V5)];
    let want = (
        zero_id.to_string(),
        "client-packets-well-formed".to_string(),
        "client".to_string(),
    );
    assert_eq!(findings(&report), vec![want], "{text}");
}
