//! Sections 3.1.2 and 3.1.3, CONNECT flags and payload: the Will, User Name
//! and Password flags agree with the fields present, the Client Identifier is
//! there (and empty only with CleanSession = 1 before 5.0), and a 5.0 CONNECT
//! names the protocol "MQTT". Judged from the decoded CONNECT and the
//! decoder's violations (a field the flags announce but the packet lacks is a
//! truncation; a field present without its flag is left over as trailing
//! bytes).

use super::common::{packet, pick, ALL};
use super::{Finding, Interest, Rule, RuleMeta};
use crate::codec::{Connect, Decoded, Packet, PacketType, Version, ViolationKind};
use crate::event::{Direction, Event, Side};
use crate::session::Session;

static META: RuleMeta = RuleMeta {
    name: "connect-payload-matches-flags",
    statements: &[
        "MQTT-3.1.2-9",
        "MQTT-3.1.2-11",
        "MQTT-3.1.2-12",
        "MQTT-3.1.2-13",
        "MQTT-3.1.2-14",
        "MQTT-3.1.2-16",
        "MQTT-3.1.2-17",
        "MQTT-3.1.2-18",
        "MQTT-3.1.2-19",
        "MQTT-3.1.2-20",
        "MQTT-3.1.2-21",
        "MQTT-3.1.3-3",
        "MQTT-3.1.3-7",
        "MQTT-3.1.2-1",
    ],
    actor: Side::Client,
    versions: ALL,
    only: &[
        ("MQTT-3.1.2-13", Version::V5),
        ("MQTT-3.1.2-14", Version::V311),
        ("MQTT-3.1.2-12", Version::V5),
        ("MQTT-3.1.2-19", Version::V311),
        ("MQTT-3.1.2-17", Version::V5),
        ("MQTT-3.1.2-21", Version::V311),
        ("MQTT-3.1.2-19", Version::V5),
        ("MQTT-3.1.2-20", Version::V311),
        ("MQTT-3.1.2-18", Version::V5),
        ("MQTT-3.1.2-18", Version::V311),
        ("MQTT-3.1.2-16", Version::V5),
        ("MQTT-3.1.2-1", Version::V5),
        ("MQTT-3.1.3-7", Version::V311),
    ],
    summary: "CONNECT flags agree with its payload (Will, User Name, Password), the Client Identifier is present (empty only with CleanSession = 1 before 5.0), and a 5.0 CONNECT says \"MQTT\".",
};

/// The client's CONNECT is consistent: flags, fields, client identifier.
#[derive(Default)]
pub struct ConnectPayloadMatchesFlags;

impl Rule for ConnectPayloadMatchesFlags {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
    fn interest(&self) -> Interest {
        Interest::packets(Direction::ToServer, &[PacketType::Connect])
    }
    fn observe(&mut self, event: &Event, session: &Session, out: &mut Vec<Finding>) {
        let Some((Direction::ToServer, _, d)) = packet(event) else {
            return;
        };
        let Packet::Connect(c) = &d.packet else {
            return;
        };
        // A second CONNECT is judged by client-connects-once.
        if session.connect.is_some() {
            return;
        }
        let version = Version::from_level(c.protocol_level).unwrap_or(session.version);
        let mut seen: Vec<&'static str> = Vec::new();
        for (statement, message) in problems(version, c, d) {
            if seen.contains(&statement) {
                continue;
            }
            seen.push(statement);
            out.push(Finding::with_statement(&META, statement, event, message));
        }
    }
}

/// Every inconsistency of one CONNECT, with its statement.
fn problems(version: Version, c: &Connect, d: &Decoded) -> Vec<(&'static str, String)> {
    let v5 = version.is_v5();
    let flags = c.flags | c.computed_flags();
    let will = flags & 0x04 != 0;
    let will_qos = (flags >> 3) & 0x03;
    let will_retain = flags & 0x20 != 0;
    let user_flag = flags & 0x80 != 0;
    let password_flag = flags & 0x40 != 0;
    let mut out = Vec::new();

    if !will && will_qos != 0 {
        out.push((
            "MQTT-3.1.2-11",
            format!("Will QoS is {will_qos} with the Will Flag 0, expected 0"),
        ));
    }
    if !will && will_retain {
        out.push((
            pick(version, "MQTT-3.1.2-11", "MQTT-3.1.2-13"),
            "Will Retain is 1 with the Will Flag 0, expected 0".to_string(),
        ));
    }
    if will && will_qos == 3 {
        out.push((
            pick(version, "MQTT-3.1.2-14", "MQTT-3.1.2-12"),
            "Will QoS is 3".to_string(),
        ));
    }

    for v in &d.violations {
        match &v.kind {
            ViolationKind::Truncated { field } => {
                let missing = match *field {
                    "client identifier" => Some((
                        "MQTT-3.1.3-3",
                        "the Client Identifier is missing from the payload",
                    )),
                    "will topic" | "will payload" => Some((
                        "MQTT-3.1.2-9",
                        "the Will Flag is 1 but the Will Topic or Will Message is missing",
                    )),
                    // 5.0: the will properties are the first will field.
                    "property length" if v5 && c.will.is_some() => Some((
                        "MQTT-3.1.2-9",
                        "the Will Flag is 1 but the Will Properties are missing",
                    )),
                    "user name" => Some((
                        pick(version, "MQTT-3.1.2-19", "MQTT-3.1.2-17"),
                        "the User Name Flag is 1 but the User Name is missing",
                    )),
                    "password" => Some((
                        pick(version, "MQTT-3.1.2-21", "MQTT-3.1.2-19"),
                        "the Password Flag is 1 but the Password is missing",
                    )),
                    _ => None,
                };
                if let Some((statement, what)) = missing {
                    out.push((statement, format!("{what} (at byte {})", v.offset)));
                }
            }
            // Bytes after the last field the flags announce: a user name or
            // password sent without its flag.
            ViolationKind::TrailingBytes { count } if !(user_flag && password_flag) => {
                let (statement, what) = if user_flag {
                    (
                        pick(version, "MQTT-3.1.2-20", "MQTT-3.1.2-18"),
                        "the Password Flag is 0",
                    )
                } else {
                    (
                        pick(version, "MQTT-3.1.2-18", "MQTT-3.1.2-16"),
                        "the User Name Flag is 0",
                    )
                };
                out.push((
                    statement,
                    format!(
                        "{count} bytes follow the last field the flags announce, but {what} (at byte {})",
                        v.offset
                    ),
                ));
            }
            ViolationKind::UnknownProtocolName if v5 => out.push((
                "MQTT-3.1.2-1",
                format!(
                    "protocol name is \"{}\", expected \"MQTT\"",
                    c.protocol_name
                ),
            )),
            _ => {}
        }
    }

    // A CONNECT cut short is judged by what is missing, not by the fields
    // left at their defaults.
    let whole = !d
        .violations
        .iter()
        .any(|v| matches!(v.kind, ViolationKind::Truncated { .. }));
    if !v5 && whole && c.client_id.is_empty() && !c.clean_session {
        out.push((
            "MQTT-3.1.3-7",
            "zero-byte Client Identifier with CleanSession = 0".to_string(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Violation, Will};
    use crate::rules::testkit::{assert_one, client, Script};
    use rstest::rstest;

    const RULE: &str = "connect-payload-matches-flags";

    fn run(c: Connect, violations: Vec<ViolationKind>) -> (Vec<Finding>, u32) {
        let mut sc = Script::new();
        sc.open();
        let v = violations
            .into_iter()
            .map(|kind| Violation { offset: 12, kind })
            .collect();
        let i = sc.push(client(Packet::Connect(Box::new(c))).violations(v));
        (sc.run_rule(RULE), i)
    }

    fn connect(level: u8) -> Connect {
        Connect {
            protocol_level: level,
            client_id: "c".into(),
            ..Connect::default()
        }
    }

    #[rstest]
    #[case(4)]
    #[case(5)]
    fn consistent_connects_pass(#[case] level: u8) {
        let full = Connect {
            will: Some(Will {
                topic: "w".into(),
                qos: 1,
                retain: true,
                ..Will::default()
            }),
            username: Some("u".into()),
            password: Some("p".into()),
            ..connect(level)
        };
        assert!(run(full, vec![]).0.is_empty());
        let empty_clean = Connect {
            client_id: "".into(),
            ..connect(level)
        };
        assert!(run(empty_clean, vec![]).0.is_empty());
    }

    #[rstest]
    #[case(4, 0x08, "MQTT-3.1.2-11")]
    #[case(5, 0x08, "MQTT-3.1.2-11")]
    #[case(4, 0x20, "MQTT-3.1.2-11")]
    #[case(5, 0x20, "MQTT-3.1.2-13")]
    #[case(4, 0x28, "MQTT-3.1.2-11")]
    fn will_qos_or_retain_without_will_flag(
        #[case] level: u8,
        #[case] flags: u8,
        #[case] statement: &str,
    ) {
        let (f, i) = run(
            Connect {
                flags,
                ..connect(level)
            },
            vec![],
        );
        assert_one(&f, statement, Some(i));
    }

    #[rstest]
    #[case(4, "MQTT-3.1.2-14")]
    #[case(5, "MQTT-3.1.2-12")]
    fn will_qos_3(#[case] level: u8, #[case] statement: &str) {
        let c = Connect {
            will: Some(Will {
                topic: "w".into(),
                qos: 3,
                ..Will::default()
            }),
            ..connect(level)
        };
        let (f, i) = run(c, vec![]);
        assert_one(&f, statement, Some(i));
    }

    #[rstest]
    #[case(4, "will topic", "MQTT-3.1.2-9")]
    #[case(5, "will payload", "MQTT-3.1.2-9")]
    #[case(5, "property length", "MQTT-3.1.2-9")]
    #[case(4, "user name", "MQTT-3.1.2-19")]
    #[case(5, "user name", "MQTT-3.1.2-17")]
    #[case(4, "password", "MQTT-3.1.2-21")]
    #[case(5, "password", "MQTT-3.1.2-19")]
    fn announced_field_missing(
        #[case] level: u8,
        #[case] field: &'static str,
        #[case] statement: &str,
    ) {
        let c = Connect {
            will: Some(Will::default()),
            username: Some("".into()),
            password: Some("".into()),
            ..connect(level)
        };
        let (f, i) = run(c, vec![ViolationKind::Truncated { field }]);
        assert_one(&f, statement, Some(i));
    }

    #[test]
    fn missing_client_identifier() {
        let c = Connect {
            client_id: "".into(),
            clean_session: false,
            ..connect(4)
        };
        let (f, i) = run(
            c,
            vec![ViolationKind::Truncated {
                field: "client identifier",
            }],
        );
        assert_one(&f, "MQTT-3.1.3-3", Some(i));
    }

    #[rstest]
    #[case(4, None, "MQTT-3.1.2-18")]
    #[case(5, None, "MQTT-3.1.2-16")]
    #[case(4, Some("u"), "MQTT-3.1.2-20")]
    #[case(5, Some("u"), "MQTT-3.1.2-18")]
    fn field_without_its_flag(
        #[case] level: u8,
        #[case] user: Option<&str>,
        #[case] statement: &str,
    ) {
        let c = Connect {
            username: user.map(Into::into),
            ..connect(level)
        };
        let (f, i) = run(c, vec![ViolationKind::TrailingBytes { count: 3 }]);
        assert_one(&f, statement, Some(i));
    }

    #[test]
    fn empty_client_id_needs_clean_session_before_5() {
        let persistent = |level| Connect {
            client_id: "".into(),
            clean_session: false,
            ..connect(level)
        };
        let (f, i) = run(persistent(4), vec![]);
        assert_one(&f, "MQTT-3.1.3-7", Some(i));
        // 5.0 lets the server decide.
        assert!(run(persistent(5), vec![]).0.is_empty());
    }

    #[test]
    fn protocol_name_is_judged_for_5_only() {
        let (f, i) = run(connect(5), vec![ViolationKind::UnknownProtocolName]);
        assert_one(&f, "MQTT-3.1.2-1", Some(i));
        assert!(run(connect(4), vec![ViolationKind::UnknownProtocolName])
            .0
            .is_empty());
    }

    #[test]
    fn a_second_connect_is_left_to_its_own_rule() {
        let mut sc = Script::connected(Version::V311);
        sc.push(client(Packet::Connect(Box::new(Connect {
            flags: 0x20,
            ..Connect::default()
        }))));
        assert!(sc.run_rule(RULE).is_empty());
    }
}
