//! Loading case files: TOML → validated [`Case`]s. Every error names
//! `file:line:col` and what was expected; one invalid file stops the run.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::raw::{RawAlternative, RawCase, RawConnack, RawPacket, RawStep};
use super::{
    Action, Alternative, Case, Framing, Grade, Outcome, Role, Send, Step, TAG_MTLS, TAG_TLS,
};
use crate::codec::Version;
use crate::transport::tls::{Choice, ClientCert, RefusedBy};

/// A case file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{col}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
    #[error("{0}: no case files (*.toml) found")]
    Empty(PathBuf),
}

/// Load every `*.toml` under the given files/directories (recursively, sorted).
/// Case ids must be unique across all of them.
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Case>, LoadError> {
    let mut files = Vec::new();
    for p in paths {
        let before = files.len();
        collect(p, &mut files)?;
        if files.len() == before {
            return Err(LoadError::Empty(p.clone()));
        }
    }
    let mut cases = Vec::new();
    let mut seen = BTreeSet::new();
    for f in files {
        let c = load_file(&f)?;
        if !seen.insert(c.id.clone()) {
            return Err(LoadError::Invalid {
                path: f,
                line: 1,
                col: 1,
                message: format!("duplicate case id `{}`", c.id),
            });
        }
        cases.push(c);
    }
    Ok(cases)
}

fn collect(p: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let meta = std::fs::metadata(p).map_err(|e| LoadError::Io {
        path: p.to_path_buf(),
        source: e,
    })?;
    if meta.is_file() {
        out.push(p.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
        .map_err(|e| LoadError::Io {
            path: p.to_path_buf(),
            source: e,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            collect(&e, out)?;
        } else if e.extension().is_some_and(|x| x == "toml") {
            out.push(e);
        }
    }
    Ok(())
}

/// Load and validate one case file.
pub fn load_file(path: &Path) -> Result<Case, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|e| LoadError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    parse_case(path, &text)
}

/// Parse and validate case text (`path` is used for messages only).
pub fn parse_case(path: &Path, text: &str) -> Result<Case, LoadError> {
    let invalid = |offset: usize, message: String| {
        let (line, col) = line_col(text, offset);
        LoadError::Invalid {
            path: path.to_path_buf(),
            line,
            col,
            message,
        }
    };
    let raw: RawCase = toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        invalid(offset, e.message().trim().to_string())
    })?;
    let at_key = |key: &str| find_key(text, key);

    if raw.id.is_empty()
        || !raw
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        return Err(invalid(
            at_key("id"),
            format!(
                "case id `{}` must be a non-empty slug of letters, digits, `-`, `_`, `.`",
                raw.id
            ),
        ));
    }
    let version = match raw.version.as_deref() {
        None | Some("3.1.1") => Version::V311,
        Some("5.0") | Some("5") => Version::V5,
        Some(v) => {
            return Err(invalid(
                at_key("version"),
                format!("unknown MQTT version `{v}`: expected \"3.1.1\" or \"5.0\""),
            ))
        }
    };
    let role = match raw.role.as_deref() {
        None | Some("broker") => Role::Broker,
        Some("device") => Role::Device,
        Some(r) => {
            return Err(invalid(
                at_key("role"),
                format!("unknown role `{r}`: expected \"broker\" or \"device\""),
            ))
        }
    };
    if raw.trigger.is_some() && role != Role::Device {
        return Err(invalid(
            at_key("trigger"),
            "`trigger` applies to device cases (role = \"device\")".into(),
        ));
    }
    if raw.statements.is_empty() {
        return Err(invalid(
            at_key("statements"),
            "a case must cite at least one statement".into(),
        ));
    }
    let mut statements = Vec::new();
    for s in &raw.statements {
        match crate::spec::cite(version, s) {
            Some(st) => statements.push(st.id),
            None => {
                return Err(invalid(
                    find_str(text, s),
                    format!(
                        "unknown statement `{s}` for MQTT {}: see spec/ for the IDs (MQTT statements, or TLS requirements in spec/tls-requirements.tsv)",
                        version.name()
                    ),
                ))
            }
        }
    }
    if raw.steps.is_empty() {
        return Err(invalid(0, "a case needs at least one [[step]]".into()));
    }
    if !raw.tags.iter().any(|t| t == super::WS_TAG) {
        if let Some(s) = raw.steps.iter().chain(&raw.cleanup).find(|s| {
            let s = s.get_ref();
            s.ws_split.is_some() || s.ws_text.is_some() || s.ws_join_next.is_some()
        }) {
            return Err(invalid(
                s.span().start,
                format!(
                    "`ws_split`, `ws_text` and `ws_join_next` need the case to be tagged \"{}\" (it then runs over ws:// and wss:// only)",
                    super::WS_TAG
                ),
            ));
        }
    }
    let mut opened = BTreeSet::new();
    let steps = validate_steps(
        &raw.steps,
        &mut opened,
        &statements,
        version,
        role,
        &raw.tags,
        &invalid,
        text,
    )?;
    let cleanup = validate_steps(
        &raw.cleanup,
        &mut opened,
        &statements,
        version,
        role,
        &raw.tags,
        &invalid,
        text,
    )?;
    Ok(Case {
        id: raw.id,
        title: raw.title,
        description: raw.description,
        statements,
        tags: raw.tags,
        version,
        role,
        trigger: raw.trigger,
        deadline: raw
            .deadline_ms
            .map(Duration::from_millis)
            .unwrap_or(super::DEFAULT_DEADLINE),
        steps,
        cleanup,
        path: path.to_path_buf(),
    })
}

#[allow(clippy::too_many_arguments)]
fn validate_steps(
    raw: &[toml::Spanned<RawStep>],
    opened: &mut BTreeSet<String>,
    statements: &[&'static str],
    version: Version,
    role: Role,
    tags: &[String],
    invalid: &dyn Fn(usize, String) -> LoadError,
    text: &str,
) -> Result<Vec<Step>, LoadError> {
    let mut steps = Vec::new();
    for spanned in raw {
        let offset = spanned.span().start;
        let line = line_col(text, offset).0;
        let raw_step = spanned.get_ref();
        let step = validate_step(raw_step, opened, role, tags).map_err(|m| invalid(offset, m))?;
        let statement = match &raw_step.statement {
            None => statements[0],
            Some(s) => match crate::spec::cite(version, s) {
                Some(st) if statements.contains(&st.id) => st.id,
                Some(_) => {
                    return Err(invalid(
                        offset,
                        format!("step statement `{s}` is not among the case's `statements`"),
                    ))
                }
                None => return Err(invalid(offset, format!("unknown statement `{s}`"))),
            },
        };
        steps.push(Step {
            line,
            action: step,
            note: raw_step.note.clone(),
            statement,
        });
    }
    Ok(steps)
}

const ACTIONS: &str = "open, connect, send, expect, expect_none, expect_close, drop, disconnect";
const DEVICE_ACTIONS: &str = "accept, send, expect, expect_none, expect_close, drop";

fn validate_step(
    s: &RawStep,
    opened: &mut BTreeSet<String>,
    role: Role,
    tags: &[String],
) -> Result<Action, String> {
    let actions: Vec<(&str, &String)> = [
        ("accept", &s.accept),
        ("open", &s.open),
        ("connect", &s.connect),
        ("send", &s.send),
        ("expect", &s.expect),
        ("expect_none", &s.expect_none),
        ("expect_close", &s.expect_close),
        ("drop", &s.drop),
        ("disconnect", &s.disconnect),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
    .collect();
    let expected = match role {
        Role::Broker => ACTIONS,
        Role::Device => DEVICE_ACTIONS,
    };
    let (key, conn) = match actions.as_slice() {
        [one] => *one,
        [] => return Err(format!("step has no action: expected one of {expected}")),
        many => {
            let keys: Vec<&str> = many.iter().map(|(k, _)| *k).collect();
            return Err(format!(
                "step has several actions ({}): write one per [[step]]",
                keys.join(", ")
            ));
        }
    };
    if conn.is_empty() || !conn.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "connection name `{conn}` must be short and alphanumeric (e.g. \"a\", \"sub\")"
        ));
    }
    let conn = conn.clone();
    if !expected.split(", ").any(|a| a == key) {
        return Err(match role {
            Role::Broker => format!(
                "`{key}` applies to device cases (role = \"device\"): expected one of {expected}"
            ),
            Role::Device => format!(
                "`{key}` does not apply to a device case (the suite is the broker): expected one of {expected}"
            ),
        });
    }
    let needs_open = !matches!(key, "open" | "connect" | "accept");
    if needs_open && !opened.contains(&conn) {
        let how = match role {
            Role::Broker => "`connect` or `open`",
            Role::Device => "`accept`",
        };
        return Err(format!(
            "`{key}` on connection `{conn}` before any {how} of it"
        ));
    }
    // Every option a step may carry, and the actions it applies to.
    let options = [
        ("packet", s.packet.is_some()),
        ("hex", s.hex.is_some()),
        ("override", s.overrides.is_some()),
        ("one_of", s.one_of.is_some()),
        ("within_ms", s.within_ms.is_some()),
        ("keep", s.keep.is_some()),
        ("ws_split", s.ws_split.is_some()),
        ("ws_text", s.ws_text.is_some()),
        ("ws_join_next", s.ws_join_next.is_some()),
        ("client_id", s.client_id.is_some()),
        ("same_client_as", s.same_client_as.is_some()),
        ("clean_session", s.clean_session.is_some()),
        ("keep_alive", s.keep_alive.is_some()),
        ("will", s.will.is_some()),
        ("username", s.username.is_some()),
        ("password", s.password.is_some()),
        ("anonymous", s.anonymous.is_some()),
        ("protocol_name", s.protocol_name.is_some()),
        ("protocol_level", s.protocol_level.is_some()),
        ("connect_flags", s.connect_flags.is_some()),
        ("connack", s.connack.is_some()),
        ("properties", s.properties.is_some()),
        ("tls_client", s.tls_client.is_some()),
        ("tls_ca", s.tls_ca.is_some()),
        ("tls_server_name", s.tls_server_name.is_some()),
        ("refused_by", s.refused_by.is_some()),
    ];
    let applies = |name: &str| -> bool {
        match key {
            "send" => matches!(
                name,
                "packet" | "hex" | "override" | "ws_split" | "ws_text" | "ws_join_next"
            ),
            "expect" => matches!(name, "packet" | "one_of" | "within_ms" | "keep"),
            "expect_none" => matches!(name, "packet" | "within_ms"),
            "expect_close" | "accept" => name == "within_ms",
            "connect" => !matches!(name, "packet" | "hex" | "override" | "one_of"),
            "open" => name.starts_with("tls_"),
            _ => false,
        }
    };
    if let Some((name, _)) = options
        .iter()
        .find(|(name, present)| *present && !applies(name))
    {
        return Err(format!("`{name}` does not apply to a `{key}` step"));
    }
    let within = |default| s.within_ms.map(Duration::from_millis).unwrap_or(default);
    let framing = framing(s)?;
    let tls = tls_choice(s, tags)?;
    if tls.is_some() && key == "connect" && opened.contains(&conn) {
        return Err(format!(
            "TLS options apply where a connection is opened: put them on the first `open` or `connect` of `{conn}`"
        ));
    }
    let refused_by = match s.refused_by.as_deref() {
        None => None,
        Some("broker") => Some(RefusedBy::Broker),
        Some("suite") => Some(RefusedBy::Suite),
        Some(other) => {
            return Err(format!(
                "unknown refused_by `{other}`: expected \"broker\" or \"suite\""
            ))
        }
    };
    if let Some(by) = refused_by {
        if s.connack.is_some() {
            return Err("give either `connack` or `refused_by`, not both".into());
        }
        let needed = match by {
            RefusedBy::Broker => TAG_MTLS,
            RefusedBy::Suite => TAG_TLS,
        };
        if !tags.iter().any(|t| t == needed || t == TAG_MTLS) {
            return Err(format!(
                "`refused_by` needs the case tagged \"{needed}\" (so it runs on TLS targets only)"
            ));
        }
    }
    let action = match key {
        "open" => Action::Open {
            conn: conn.clone(),
            tls,
        },
        "drop" => Action::Drop { conn: conn.clone() },
        "disconnect" => Action::Disconnect { conn: conn.clone() },
        "connect" => {
            let spec = RawPacket {
                kind: "connect".into(),
                client_id: s.client_id.clone(),
                clean_session: s.clean_session,
                keep_alive: s.keep_alive,
                protocol_name: s.protocol_name.clone(),
                protocol_level: s.protocol_level,
                connect_flags: s.connect_flags,
                username: s.username.clone(),
                password: s.password.clone(),
                will: s.will.clone(),
                properties: s.properties.clone(),
                ..RawPacket::default()
            };
            let connack = match &s.connack {
                None | Some(RawConnack::Wait(true)) => Some(Box::new(RawPacket {
                    kind: "connack".into(),
                    code: Some(0),
                    ..RawPacket::default()
                })),
                Some(RawConnack::Wait(false)) => None,
                Some(RawConnack::Pattern(p)) => {
                    check_kind(&p.kind)?;
                    Some(p.clone())
                }
            };
            if let Some(other) = &s.same_client_as {
                if !opened.contains(other) {
                    return Err(format!(
                        "same_client_as = \"{other}\" names a connection not opened before"
                    ));
                }
            }
            Action::Connect {
                conn: conn.clone(),
                tls,
                refused_by,
                spec: Box::new(spec),
                framing,
                connack,
                connack_explicit: matches!(s.connack, Some(RawConnack::Pattern(_))),
                anonymous: s.anonymous.unwrap_or(false),
                same_client_as: s.same_client_as.clone(),
            }
        }
        "send" => match (&s.packet, &s.hex) {
            (Some(p), None) => {
                check_kind(&p.kind)?;
                let overrides = s.overrides.clone().unwrap_or_default();
                overrides
                    .to_overrides()
                    .map_err(|e| format!("override: {e}"))?;
                Action::Send {
                    conn: conn.clone(),
                    what: Send::Packet {
                        packet: Box::new(p.clone()),
                        overrides,
                    },
                    framing,
                }
            }
            (None, Some(h)) => {
                if s.overrides.is_some() {
                    return Err("`override` applies to `packet`, not to `hex`".into());
                }
                let bytes = crate::codec::text::parse_hex(h).map_err(|e| format!("hex: {e}"))?;
                Action::Send {
                    conn: conn.clone(),
                    what: Send::Hex(bytes),
                    framing,
                }
            }
            (Some(_), Some(_)) => return Err("give either `packet` or `hex`, not both".into()),
            (None, None) => {
                return Err("`send` needs `packet = { type = … }` or `hex = \"…\"`".into())
            }
        },
        "expect" => {
            let alternatives =
                match (&s.packet, &s.one_of) {
                    (Some(p), None) => {
                        check_kind(&p.kind)?;
                        vec![Alternative {
                            outcome: Outcome::Packet(Box::new(p.clone())),
                            grade: Grade::Pass,
                            note: None,
                        }]
                    }
                    (None, Some(alts)) if !alts.is_empty() => alts
                        .iter()
                        .map(validate_alternative)
                        .collect::<Result<_, _>>()?,
                    (Some(_), Some(_)) => {
                        return Err("give either `packet` or `one_of`, not both".into())
                    }
                    _ => return Err(
                        "`expect` needs `packet = { type = … }` or a non-empty `one_of = [ … ]`"
                            .into(),
                    ),
                };
            Action::Expect {
                conn: conn.clone(),
                alternatives,
                within: within(super::DEFAULT_WITHIN),
                keep: s.keep == Some(true),
            }
        }
        "expect_none" => {
            if let Some(p) = &s.packet {
                check_kind(&p.kind)?;
            }
            Action::ExpectNone {
                conn: conn.clone(),
                pattern: s.packet.clone().map(Box::new),
                within: within(super::DEFAULT_NONE_WINDOW),
            }
        }
        "expect_close" => Action::ExpectClose {
            conn: conn.clone(),
            within: within(super::DEFAULT_WITHIN),
        },
        "accept" => Action::Accept {
            conn: conn.clone(),
            within: within(super::DEFAULT_ACCEPT),
        },
        _ => {
            return Err(format!(
                "unknown action `{key}`: expected one of {expected}"
            ))
        }
    };
    match &action {
        Action::Open { conn, .. } | Action::Connect { conn, .. } | Action::Accept { conn, .. } => {
            opened.insert(conn.clone());
        }
        _ => {}
    }
    Ok(action)
}

/// The WebSocket framing a `send` or `connect` step asks for.
fn framing(s: &RawStep) -> Result<Framing, String> {
    let text = s.ws_text == Some(true);
    let join = s.ws_join_next == Some(true);
    let given = [s.ws_split.is_some(), text, join];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err("give only one of `ws_split`, `ws_text` and `ws_join_next`".into());
    }
    if let Some(sizes) = &s.ws_split {
        if sizes.is_empty() || sizes.contains(&0) {
            return Err(
                "`ws_split` needs frame sizes of at least 1 byte, e.g. ws_split = [1, 2]".into(),
            );
        }
        return Ok(Framing::Split(sizes.clone()));
    }
    Ok(if text {
        Framing::Text
    } else if join {
        Framing::JoinNext
    } else {
        Framing::Whole
    })
}

/// The TLS options of an `open`/`connect` step, checked: fixture names are
/// plain file stems, the server name is valid, and the case's tags make it
/// run on TLS targets only (`tls`; `mtls` for a client certificate choice).
fn tls_choice(s: &RawStep, tags: &[String]) -> Result<Option<Choice>, String> {
    if s.tls_client.is_none() && s.tls_ca.is_none() && s.tls_server_name.is_none() {
        return Ok(None);
    }
    let stem = |key: &str, v: &str| -> Result<String, String> {
        let ok = !v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(v.to_string())
        } else {
            Err(format!(
                "{key} = \"{v}\": give a fixture's file stem from the --certs directory (e.g. \"client-expired\" for client-expired.pem)"
            ))
        }
    };
    let client = match s.tls_client.as_deref() {
        None => None,
        Some("none") => Some(ClientCert::None),
        Some(v) => Some(ClientCert::Fixture(stem("tls_client", v)?)),
    };
    let ca = s.tls_ca.as_deref().map(|v| stem("tls_ca", v)).transpose()?;
    if let Some(n) = &s.tls_server_name {
        crate::transport::tls::server_name(n).map_err(|e| format!("tls_server_name: {e}"))?;
    }
    let has = |t: &str| tags.iter().any(|x| x == t);
    if client.is_some() && !has(TAG_MTLS) {
        return Err(
            "`tls_client` needs the case tagged \"mtls\" (it runs only when the run presents a client certificate)"
                .into(),
        );
    }
    if !has(TAG_TLS) && !has(TAG_MTLS) {
        return Err(
            "TLS options need the case tagged \"tls\" or \"mtls\" (so it runs on TLS targets only)"
                .into(),
        );
    }
    Ok(Some(Choice {
        client,
        ca,
        server_name: s.tls_server_name.clone(),
    }))
}

fn validate_alternative(a: &RawAlternative) -> Result<Alternative, String> {
    let grade = match a.grade.as_deref() {
        None | Some("pass") => Grade::Pass,
        Some("non-strict") => Grade::NonStrict,
        Some("inconclusive") => Grade::Inconclusive,
        Some(g) => {
            return Err(format!(
                "unknown grade `{g}`: expected \"pass\", \"non-strict\" or \"inconclusive\""
            ))
        }
    };
    let outcome = match (&a.packet, a.close, a.nothing, a.open) {
        (Some(p), false, false, false) => {
            check_kind(&p.kind)?;
            Outcome::Packet(Box::new(p.clone()))
        }
        (None, true, false, false) => Outcome::Close,
        (p, false, true, false) => {
            if let Some(p) = p {
                check_kind(&p.kind)?;
            }
            Outcome::Nothing(p.clone().map(Box::new))
        }
        (None, false, false, true) => Outcome::Open,
        _ => {
            return Err(
                "each `one_of` entry needs exactly one of `packet = {…}`, `close = true`, `nothing = true`, `open = true`"
                    .into(),
            )
        }
    };
    Ok(Alternative {
        outcome,
        grade,
        note: a.note.clone(),
    })
}

fn check_kind(kind: &str) -> Result<(), String> {
    match crate::codec::PacketType::from_name(kind) {
        Some(t) if t != crate::codec::PacketType::Reserved => Ok(()),
        _ => Err(format!(
            "unknown packet type `{kind}`: expected connect, connack, publish, puback, pubrec, pubrel, pubcomp, subscribe, suback, unsubscribe, unsuback, pingreq, pingresp, disconnect or auth"
        )),
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
    (line, col)
}

fn find_key(text: &str, key: &str) -> usize {
    let mut pos = 0;
    for l in text.split_inclusive('\n') {
        let t = l.trim_start();
        if t.starts_with(key) && t[key.len()..].trim_start().starts_with('=') {
            return pos + (l.len() - t.len());
        }
        pos += l.len();
    }
    0
}

fn find_str(text: &str, s: &str) -> usize {
    text.find(&format!("\"{s}\"")).map(|p| p + 1).unwrap_or(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = "demo"
title = "Demo"
description = "d"
statements = ["MQTT-3.8.4-2"]

[[step]]
connect = "a"

[[step]]
send = "a"
packet = { type = "subscribe", packet_id = 7, filters = [{ filter = "{t}/x", qos = 1 }] }

[[step]]
expect = "a"
packet = { type = "suback", packet_id = 7 }
"#;

    fn err(text: &str) -> String {
        parse_case(Path::new("c.toml"), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn good_case_loads() {
        let c = parse_case(Path::new("c.toml"), GOOD).unwrap();
        assert_eq!(c.steps.len(), 3);
        assert_eq!(c.steps[1].line, 10);
        assert_eq!(c.statements, vec!["MQTT-3.8.4-2"]);
    }

    #[test]
    fn unknown_statement_is_an_error_with_position() {
        let e = err(&GOOD.replace("MQTT-3.8.4-2", "MQTT-9.9.9-9"));
        assert!(
            e.starts_with("c.toml:5:16: unknown statement `MQTT-9.9.9-9`"),
            "{e}"
        );
    }

    #[test]
    fn unknown_key_is_reported_with_line() {
        let e = err(&GOOD.replace("packet_id = 7 }\n", "packet_idd = 7 }\n"));
        assert!(e.starts_with("c.toml:16:29:"), "{e}");
        assert!(e.contains("packet_idd"), "{e}");
    }

    #[test]
    fn step_on_unopened_connection_is_an_error() {
        let e = err(&GOOD.replace("send = \"a\"", "send = \"b\""));
        assert!(e.starts_with("c.toml:10:1:"), "{e}");
        assert!(e.contains("before any `connect`"), "{e}");
    }

    const DEVICE: &str = r#"id = "d"
title = "t"
description = "d"
role = "device"
trigger = "publish qos=1"
statements = ["MQTT-4.3.2-1"]

[[step]]
accept = "dev"
within_ms = 5000

[[step]]
expect = "dev"
packet = { type = "connect" }

[[step]]
send = "dev"
packet = { type = "connack", code = 0 }
"#;

    #[test]
    fn device_cases_load_and_only_take_device_actions() {
        let c = parse_case(Path::new("c.toml"), DEVICE).unwrap();
        assert_eq!(c.role, Role::Device);
        assert_eq!(c.trigger.as_deref(), Some("publish qos=1"));
        assert!(matches!(
            &c.steps[0].action,
            Action::Accept { within, .. } if *within == Duration::from_millis(5000)
        ));
        let e = err(&DEVICE.replace("accept = \"dev\"", "connect = \"dev\""));
        assert!(e.starts_with("c.toml:8:1:"), "{e}");
        assert!(e.contains("does not apply to a device case"), "{e}");
        let e = err(&DEVICE.replace("accept = \"dev\"\nwithin_ms = 5000", "open = \"x\""));
        assert!(e.contains("`open` does not apply to a device case"), "{e}");
        let e = err(&DEVICE.replace("[[step]]\naccept = \"dev\"\nwithin_ms = 5000\n\n", ""));
        assert!(e.contains("before any `accept`"), "{e}");
        let e = err(&GOOD.replace("connect = \"a\"", "accept = \"a\""));
        assert!(e.contains("`accept` applies to device cases"), "{e}");
        let e = err(&DEVICE.replace("role = \"device\"\n", ""));
        assert!(e.contains("`trigger` applies to device cases"), "{e}");
    }

    #[test]
    fn keep_applies_to_expect_steps_only() {
        let c = parse_case(
            Path::new("c.toml"),
            &GOOD.replace(
                "suback\", packet_id = 7 }",
                "suback\", packet_id = 7 }\nkeep = true",
            ),
        )
        .unwrap();
        assert!(matches!(
            c.steps[2].action,
            Action::Expect { keep: true, .. }
        ));
        let c = parse_case(Path::new("c.toml"), GOOD).unwrap();
        assert!(matches!(
            c.steps[2].action,
            Action::Expect { keep: false, .. }
        ));
        let e = err(&GOOD.replace("send = \"a\"\n", "send = \"a\"\nkeep = true\n"));
        assert!(e.starts_with("c.toml:10:1:"), "{e}");
        assert!(e.contains("`keep` does not apply to a `send` step"), "{e}");
    }

    #[test]
    fn alternatives_may_be_graded_inconclusive() {
        let text = GOOD.replace(
            "packet = { type = \"suback\", packet_id = 7 }",
            "one_of = [{ packet = { type = \"suback\", packet_id = 7 } }, { close = true, grade = \"inconclusive\", note = \"n\" }]",
        );
        let c = parse_case(Path::new("c.toml"), &text).unwrap();
        let Action::Expect { alternatives, .. } = &c.steps[2].action else {
            panic!("{:?}", c.steps[2].action)
        };
        assert_eq!(alternatives[1].grade, Grade::Inconclusive);
        let e = err(&text.replace("\"inconclusive\"", "\"maybe\""));
        assert!(e.starts_with("c.toml:14:1: unknown grade `maybe`"), "{e}");
        assert!(e.contains("\"inconclusive\""), "{e}");
    }

    #[test]
    fn two_actions_in_one_step_is_an_error() {
        let e = err(&GOOD.replace("connect = \"a\"", "connect = \"a\"\ndrop = \"a\""));
        assert!(e.contains("several actions"), "{e}");
    }

    #[test]
    fn open_alternative_loads_alone_and_not_with_a_packet() {
        let one_of = "one_of = [{ close = true }, { open = true, grade = \"non-strict\" }]";
        let text = GOOD.replace("packet = { type = \"suback\", packet_id = 7 }", one_of);
        let c = parse_case(Path::new("c.toml"), &text).unwrap();
        let Action::Expect {
            alternatives: alts, ..
        } = &c.steps[2].action
        else {
            panic!("an expect step");
        };
        assert!(matches!(alts[1].outcome, Outcome::Open));
        let both = "one_of = [{ open = true, packet = { type = \"puback\" } }]";
        let e = err(&GOOD.replace("packet = { type = \"suback\", packet_id = 7 }", both));
        assert!(e.contains("exactly one of"), "{e}");
    }

    #[test]
    fn unknown_packet_type_is_an_error() {
        let e = err(&GOOD.replace("\"suback\"", "\"subak\""));
        assert!(e.contains("unknown packet type `subak`"), "{e}");
    }

    const TLS: &str = r#"
id = "tls"
title = "T"
description = "d"
statements = ["RFC5280-6.1.3"]
tags = ["mtls"]

[[step]]
connect = "bad"
tls_client = "client-expired"
refused_by = "broker"
"#;

    #[test]
    fn tls_options_load_into_the_step() {
        let c = parse_case(Path::new("c.toml"), TLS).unwrap();
        assert_eq!(c.statements, vec!["RFC5280-6.1.3"]);
        let Action::Connect {
            tls, refused_by, ..
        } = &c.steps[0].action
        else {
            panic!("{:?}", c.steps[0].action)
        };
        let tls = tls.as_ref().unwrap();
        assert_eq!(
            tls.client,
            Some(ClientCert::Fixture("client-expired".into()))
        );
        assert_eq!(*refused_by, Some(RefusedBy::Broker));
        let c = parse_case(
            Path::new("c.toml"),
            &TLS.replace("\"client-expired\"", "\"none\""),
        )
        .unwrap();
        let Action::Connect { tls, .. } = &c.steps[0].action else {
            panic!()
        };
        assert_eq!(tls.as_ref().unwrap().client, Some(ClientCert::None));
    }

    #[test]
    fn tls_option_errors_name_the_step() {
        let e = err(&TLS.replace("\"broker\"", "\"server\""));
        assert!(
            e.starts_with("c.toml:8:1: unknown refused_by `server`"),
            "{e}"
        );
        let e = err(&TLS.replace("client-expired\"", "certs/client-expired.pem\""));
        assert!(e.contains("give a fixture's file stem"), "{e}");
        let e = err(&TLS.replace("tags = [\"mtls\"]", "tags = [\"tls\"]"));
        assert!(e.contains("needs the case tagged \"mtls\""), "{e}");
        let e = err(&TLS.replace("tags = [\"mtls\"]", "tags = []"));
        assert!(e.contains("tagged"), "{e}");
        let e = err(&TLS.replace(
            "refused_by = \"broker\"",
            "refused_by = \"broker\"\nconnack = false",
        ));
        assert!(e.contains("either `connack` or `refused_by`"), "{e}");
        let e = err(&TLS.replace(
            "tls_client = \"client-expired\"",
            "tls_server_name = \"a b\"",
        ));
        assert!(e.contains("tls_server_name"), "{e}");
        let e = err(&TLS.replace(
            "[[step]]\nconnect",
            "[[step]]\nopen = \"bad\"\n\n[[step]]\nconnect",
        ));
        assert!(e.contains("first `open` or `connect`"), "{e}");
        let e = err(&TLS.replace("connect = \"bad\"", "expect = \"bad\""));
        assert!(e.contains("before any"), "{e}");
        let e = err(&TLS.replace("RFC5280-6.1.3", "MQTT-5.4.1-1"));
        assert!(e.contains("unknown statement `MQTT-5.4.1-1`"), "{e}");
    }

    #[test]
    fn websocket_framing_options_load_on_ws_cases() {
        let text = GOOD
            .replace("statements = [", "tags = [\"ws\"]\nstatements = [")
            .replace("send = \"a\"\n", "send = \"a\"\nws_split = [1, 2]\n")
            .replace("connect = \"a\"\n", "connect = \"a\"\nws_text = true\n");
        let c = parse_case(Path::new("c.toml"), &text).unwrap();
        assert!(c.needs_websocket());
        assert!(matches!(
            &c.steps[0].action,
            Action::Connect {
                framing: Framing::Text,
                ..
            }
        ));
        assert!(matches!(
            &c.steps[1].action,
            Action::Send { framing: Framing::Split(v), .. } if v == &[1, 2]
        ));
    }

    #[test]
    fn websocket_framing_needs_the_ws_tag() {
        let e = err(&GOOD.replace("send = \"a\"\n", "send = \"a\"\nws_split = [2]\n"));
        assert!(e.starts_with("c.toml:10:1:"), "{e}");
        assert!(e.contains("tagged \"ws\""), "{e}");
    }

    #[test]
    fn bad_websocket_framing_is_an_error_with_position() {
        let ws = GOOD.replace("statements = [", "tags = [\"ws\"]\nstatements = [");
        let e = err(&ws.replace("send = \"a\"\n", "send = \"a\"\nws_split = [0]\n"));
        assert!(
            e.starts_with("c.toml:11:1:") && e.contains("at least 1 byte"),
            "{e}"
        );
        let e = err(&ws.replace(
            "send = \"a\"\n",
            "send = \"a\"\nws_split = [1]\nws_text = true\n",
        ));
        assert!(e.contains("only one of"), "{e}");
        let e = err(&ws.replace("expect = \"a\"\n", "expect = \"a\"\nws_text = true\n"));
        assert!(
            e.contains("`ws_text` does not apply to a `expect` step"),
            "{e}"
        );
        let e = err(&ws.replace("send = \"a\"\n", "send = \"a\"\nws_split = [-1]\n"));
        assert!(e.starts_with("c.toml:13:13:"), "{e}");
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 0), (1, 1));
    }
}
