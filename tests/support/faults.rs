//! The fault switches of the test broker: each one, when set, breaks exactly
//! one behavior the MQTT 3.1.1 specification requires of a server.

macro_rules! faults {
    ($($(#[doc = $doc:literal])* $name:ident,)*) => {
        /// Deliberate deviations; all off by default (a conformant broker).
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct Faults {
            $($(#[doc = $doc])* pub $name: bool,)*
        }

        impl Faults {
            /// Every switch name.
            pub const NAMES: &'static [&'static str] = &[$(stringify!($name)),*];

            /// A broker with only the named fault; panics on an unknown name.
            pub fn only(name: &str) -> Faults {
                let mut f = Faults::default();
                match name {
                    $(stringify!($name) => f.$name = true,)*
                    other => panic!("unknown fault `{other}`"),
                }
                f
            }
        }
    };
}

faults! {
    /// SUBACK carries a packet id other than the SUBSCRIBE's.
    suback_wrong_packet_id,
    /// SUBACK return codes in reverse order.
    suback_codes_reversed,
    /// SUBACK lacks the last return code.
    suback_missing_code,
    /// UNSUBACK carries a packet id other than the UNSUBSCRIBE's.
    unsuback_wrong_packet_id,
    /// No UNSUBACK when no subscription was deleted.
    no_unsuback_when_nothing_deleted,
    /// A second CONNECT is answered instead of closing.
    accept_second_connect,
    /// A first packet other than CONNECT is ignored instead of closing.
    accept_non_connect_first,
    /// A protocol name other than "MQTT" is accepted.
    accept_wrong_protocol_name,
    /// An unsupported protocol level is accepted (CONNACK 0x00).
    accept_bad_protocol_level,
    /// The CONNECT reserved flag is ignored.
    accept_reserved_connect_flag,
    /// An empty client id with clean session 0 is accepted.
    accept_empty_id_persistent,
    /// Session present is always 0.
    session_present_always_0,
    /// Session present is 1 even with clean session 1.
    session_present_on_clean,
    /// Clean session 1 keeps the stored session.
    keep_session_on_clean,
    /// A second connection with the same client id leaves the first open.
    no_takeover,
    /// The will is never published.
    no_will,
    /// The will is published after DISCONNECT too.
    will_after_disconnect,
    /// The will is published with RETAIN 0 and not stored.
    will_not_retained,
    /// Keep alive is not enforced.
    ignore_keep_alive,
    /// PINGREQ is not answered.
    no_pingresp,
    /// SUBSCRIBE with wrong fixed-header flags is accepted.
    accept_bad_subscribe_flags,
    /// SUBSCRIBE without filters is accepted.
    accept_empty_subscribe,
    /// SUBSCRIBE requesting QoS 3 is accepted.
    accept_subscribe_qos3,
    /// Invalid topic filters are granted.
    accept_invalid_filters,
    /// A repeated filter adds a second subscription instead of replacing.
    subscribe_duplicates_instead_of_replace,
    /// Messages are delivered at the published QoS, ignoring the granted QoS.
    no_qos_downgrade,
    /// Messages are delivered at the granted QoS, even above the published one.
    qos_upgrade_to_granted,
    /// Overlapping subscriptions deliver at the lowest granted QoS.
    overlapping_min_qos,
    /// UNSUBSCRIBE with wrong fixed-header flags is accepted.
    accept_bad_unsubscribe_flags,
    /// UNSUBSCRIBE is answered but deletes nothing.
    unsubscribe_ignored,
    /// UNSUBSCRIBE without filters is accepted.
    accept_empty_unsubscribe,
    /// PUBREL with wrong fixed-header flags is accepted.
    accept_bad_pubrel_flags,
    /// Retained messages are not stored.
    no_retain_store,
    /// A retained message is never replaced by a newer one.
    retain_keep_first,
    /// An empty retained message does not clear the stored one.
    retain_empty_not_cleared,
    /// Live forwards keep the publisher's RETAIN flag.
    retain_flag_on_live_forward,
    /// A RETAIN 0 message replaces the retained one.
    retain_0_replaces,
    /// PUBLISH with a wildcard in its topic is accepted.
    accept_wildcard_publish,
    /// PUBLISH with QoS 3 is accepted (as QoS 2).
    accept_qos3_publish,
    /// QoS 0 messages are sent with DUP 1.
    dup_on_qos0,
    /// The publisher's DUP flag is copied to subscribers.
    propagate_inbound_dup,
    /// PUBACK carries a packet id other than the PUBLISH's.
    puback_wrong_id,
    /// QoS 2 PUBLISH is answered with PUBACK.
    qos2_puback_instead_of_pubrec,
    /// PUBREC from a subscriber is not followed by PUBREL.
    no_pubrel,
    /// Re-sent messages on session resume have DUP 0.
    no_dup_on_resend,
    /// Messages for offline persistent sessions are dropped.
    no_offline_queue,
    /// Filters starting with a wildcard match `$` topics.
    dollar_topics_to_wildcards,
    /// Messages clients publish on `$` topics are acknowledged but routed
    /// to no one (allowed: a server SHOULD keep clients from using them).
    dollar_topics_not_routed,
    /// A SUBSCRIBE to a filter starting with `$` closes the connection.
    close_on_dollar_subscribe,
    /// Filters starting with `$` are refused (0x80), as a server may.
    refuse_dollar_subscribe,
    /// No `$SYS/broker/version` retained message.
    no_sys_tree,
    /// Topic strings with ill-formed UTF-8 are accepted.
    accept_invalid_utf8,
    /// Topic strings with U+0000 are accepted.
    accept_null_char,
    /// Packet identifier 0 is accepted.
    accept_packet_id_zero,
    /// Client ids longer than 22 bytes are refused (0x02).
    reject_23_byte_client_id,
    /// UNSUBSCRIBE removes every subscription its filter matches.
    unsubscribe_by_matching,
    /// A re-sent QoS 2 PUBLISH (same id) is delivered again.
    qos2_deliver_duplicates,
    /// An empty retained message is stored in place of the old one.
    retain_empty_stored,
}
