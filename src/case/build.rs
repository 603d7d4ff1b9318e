//! Turning case packet specs into packets to send, and matching received
//! packets against case patterns (with `{t}` / `{client:x}` templates and
//! `$name` variables bound on first match).

use std::collections::BTreeMap;

use bytes::Bytes;

use super::raw::{RawFilter, RawNum, RawPacket, RawProperty, RawText, RawWill};
use crate::codec::properties::{describe, Kind};
use crate::codec::{
    Ack, Auth, Connect, Decoded, Disconnect, Packet, PacketType, Properties, Property, Publish,
    Suback, Subscribe, Subscription, Text, Unsuback, Unsubscribe, Value, Version, Will,
};

/// Per-case substitution state.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Replaces `{t}`: a topic prefix unique to the run and case.
    pub topic_prefix: String,
    /// Replaces `{client:NAME}`: client ids by connection name.
    pub client_ids: BTreeMap<String, String>,
    /// `$name` variables bound by expectations.
    pub vars: BTreeMap<String, i64>,
}

impl Context {
    /// Substitute templates in a string.
    pub fn expand(&self, s: &str) -> String {
        let mut out = s.replace("{t}", &self.topic_prefix);
        while let Some(start) = out.find("{client:") {
            let Some(len) = out[start..].find('}') else {
                break;
            };
            let name = out[start + 8..start + len].to_string();
            let id = self.client_ids.get(&name).cloned().unwrap_or_default();
            out.replace_range(start..start + len + 1, &id);
        }
        out
    }

    fn text(&self, t: &RawText) -> Result<Text, String> {
        match t {
            RawText::Text(s) => Ok(Text::from(self.expand(s))),
            RawText::Hex { hex } => crate::codec::text::parse_hex(hex).map(Text::from),
        }
    }

    fn num(&self, n: &RawNum, field: &str) -> Result<i64, String> {
        match n {
            RawNum::Num(v) => Ok(*v),
            RawNum::Var(name) => self
                .vars
                .get(name)
                .copied()
                .ok_or_else(|| format!("{field}: variable `{name}` is not bound yet")),
        }
    }
}

fn u16_of(v: i64, field: &str) -> Result<u16, String> {
    u16::try_from(v).map_err(|_| format!("{field} = {v} does not fit in 16 bits"))
}

/// Build the packet a `send` step describes.
pub fn build_packet(p: &RawPacket, ctx: &Context, version: Version) -> Result<Packet, String> {
    let kind = PacketType::from_name(&p.kind)
        .ok_or_else(|| format!("unknown packet type `{}`", p.kind))?;
    let pid = |default: u16| -> Result<u16, String> {
        match &p.packet_id {
            Some(n) => u16_of(ctx.num(n, "packet_id")?, "packet_id"),
            None => Ok(default),
        }
    };
    let props = properties(p.properties.as_deref(), ctx)?;
    let v5 = version.is_v5();
    let ack = || -> Result<Ack, String> {
        Ok(Ack {
            packet_id: pid(1)?,
            reason_code: p.reason_code,
            properties: props.clone(),
        })
    };
    Ok(match kind {
        PacketType::Connect => Packet::Connect(Box::new(connect(p, ctx, version, props.clone())?)),
        PacketType::Connack => Packet::Connack(crate::codec::Connack {
            flags: u8::from(p.session_present.unwrap_or(false)),
            code: p.code.unwrap_or(0),
            properties: props,
        }),
        PacketType::Publish => {
            let qos = p.qos.unwrap_or(0);
            Packet::Publish(Publish {
                dup: p.dup.unwrap_or(false),
                qos,
                retain: p.retain.unwrap_or(false),
                topic: match &p.topic {
                    Some(t) => ctx.text(t)?,
                    None => return Err("publish needs `topic`".into()),
                },
                packet_id: match &p.packet_id {
                    Some(n) => Some(u16_of(ctx.num(n, "packet_id")?, "packet_id")?),
                    None if qos > 0 => Some(1),
                    None => None,
                },
                properties: props,
                payload: match &p.payload {
                    Some(t) => ctx.text(t)?.0,
                    None => Bytes::new(),
                },
            })
        }
        PacketType::Puback => Packet::Puback(ack()?),
        PacketType::Pubrec => Packet::Pubrec(ack()?),
        PacketType::Pubrel => Packet::Pubrel(ack()?),
        PacketType::Pubcomp => Packet::Pubcomp(ack()?),
        PacketType::Subscribe => Packet::Subscribe(Subscribe {
            packet_id: pid(1)?,
            properties: props,
            filters: p
                .filters
                .iter()
                .flatten()
                .map(|f| match f {
                    RawFilter::Plain(t) => Ok(Subscription {
                        filter: ctx.text(t)?,
                        options: 0,
                    }),
                    RawFilter::Full {
                        filter,
                        qos,
                        options,
                    } => Ok(Subscription {
                        filter: ctx.text(filter)?,
                        options: options.unwrap_or(*qos),
                    }),
                })
                .collect::<Result<_, String>>()?,
        }),
        PacketType::Suback => Packet::Suback(Suback {
            packet_id: pid(1)?,
            properties: props,
            codes: p.codes.clone().unwrap_or_default(),
        }),
        PacketType::Unsubscribe => Packet::Unsubscribe(Unsubscribe {
            packet_id: pid(1)?,
            properties: props,
            filters: p
                .filters
                .iter()
                .flatten()
                .map(|f| match f {
                    RawFilter::Plain(t) | RawFilter::Full { filter: t, .. } => ctx.text(t),
                })
                .collect::<Result<_, String>>()?,
        }),
        PacketType::Unsuback => Packet::Unsuback(Unsuback {
            packet_id: pid(1)?,
            properties: props,
            codes: p.codes.clone().unwrap_or_default(),
        }),
        PacketType::Pingreq => Packet::Pingreq,
        PacketType::Pingresp => Packet::Pingresp,
        PacketType::Disconnect => Packet::Disconnect(Disconnect {
            reason_code: p.reason_code.or(if v5 && !props.is_empty() {
                Some(0)
            } else {
                None
            }),
            properties: props,
        }),
        PacketType::Auth => Packet::Auth(Auth {
            reason_code: p.reason_code,
            properties: props,
        }),
        PacketType::Reserved => {
            return Err("cannot build a packet of the reserved type; use `hex`".into())
        }
    })
}

fn connect(
    p: &RawPacket,
    ctx: &Context,
    version: Version,
    props: Properties,
) -> Result<Connect, String> {
    let will = match &p.will {
        Some(w) => Some(will(w, ctx)?),
        None => None,
    };
    let level = p.protocol_level.unwrap_or(version.level());
    Ok(Connect {
        protocol_name: match &p.protocol_name {
            Some(t) => ctx.text(t)?,
            None if level == 3 => Text::from("MQIsdp"),
            None => Text::from("MQTT"),
        },
        protocol_level: level,
        flags: p.connect_flags.unwrap_or(0),
        clean_session: p.clean_session.unwrap_or(true),
        keep_alive: p.keep_alive.unwrap_or(60),
        properties: props,
        client_id: match &p.client_id {
            Some(t) => ctx.text(t)?,
            None => Text::from(""),
        },
        will,
        username: p.username.as_ref().map(|t| ctx.text(t)).transpose()?,
        password: p
            .password
            .as_ref()
            .map(|t| ctx.text(t).map(|t| t.0))
            .transpose()?,
    })
}

fn will(w: &RawWill, ctx: &Context) -> Result<Will, String> {
    Ok(Will {
        properties: Properties::default(),
        topic: ctx.text(&w.topic)?,
        payload: match &w.payload {
            Some(t) => ctx.text(t)?.0,
            None => Bytes::new(),
        },
        qos: w.qos,
        retain: w.retain,
    })
}

fn properties(raw: Option<&[RawProperty]>, ctx: &Context) -> Result<Properties, String> {
    let mut out = Vec::new();
    for rp in raw.unwrap_or(&[]) {
        let (kind, name) =
            describe(rp.id).ok_or_else(|| format!("unknown property id 0x{:02x}", rp.id))?;
        let int = || {
            rp.value
                .as_integer()
                .ok_or_else(|| format!("property {name} needs an integer value"))
        };
        let text = |v: &toml::Value| {
            v.as_str()
                .map(|s| Text::from(ctx.expand(s)))
                .ok_or_else(|| format!("property {name} needs a string value"))
        };
        let value = match kind {
            Kind::Byte => Value::Byte(int()? as u8),
            Kind::U16 => Value::U16(int()? as u16),
            Kind::U32 => Value::U32(int()? as u32),
            Kind::VarInt => Value::VarInt(int()? as u32),
            Kind::Str => Value::Str(text(&rp.value)?),
            Kind::Binary => Value::Binary(text(&rp.value)?.0),
            Kind::Pair => match rp.value.as_array().map(|a| a.as_slice()) {
                Some([k, v]) => Value::Pair(text(k)?, text(v)?),
                _ => return Err(format!("property {name} needs [\"key\", \"value\"]")),
            },
        };
        out.push(Property { id: rp.id, value });
    }
    Ok(Properties(out))
}

/// Check a received packet against a pattern; binds unbound `$vars`.
/// Returns a description of the first mismatch.
pub fn match_packet(p: &RawPacket, got: &Decoded, ctx: &mut Context) -> Result<(), String> {
    let want = PacketType::from_name(&p.kind).unwrap_or(PacketType::Reserved);
    let have = got.packet.packet_type();
    if want != have {
        return Err(format!("type is {have}, expected {want}"));
    }
    let mut binds: Vec<(String, i64)> = Vec::new();
    if let Some(n) = &p.packet_id {
        let have = got.packet.packet_id().map(i64::from);
        match n {
            RawNum::Num(v) => {
                if have != Some(*v) {
                    return Err(format!("packet_id is {}, expected {v}", opt(have)));
                }
            }
            RawNum::Var(name) => match (ctx.vars.get(name), have) {
                (Some(v), h) if h != Some(*v) => {
                    return Err(format!("packet_id is {}, expected {name} = {v}", opt(h)))
                }
                (None, Some(h)) => binds.push((name.clone(), h)),
                (None, None) => return Err("packet has no packet_id to bind".into()),
                _ => {}
            },
        }
    }
    match &got.packet {
        Packet::Publish(pb) => {
            if let Some(t) = &p.topic {
                let want = ctx.text(t)?;
                if want != pb.topic {
                    return Err(format!("topic is {:?}, expected {:?}", pb.topic, want));
                }
            }
            if let Some(t) = &p.topic_prefix {
                let want = ctx.text(t)?;
                if !pb.topic.as_bytes().starts_with(want.as_bytes()) {
                    return Err(format!(
                        "topic {:?} does not start with {:?}",
                        pb.topic, want
                    ));
                }
            }
            if let Some(t) = &p.payload {
                let want = ctx.text(t)?;
                if want.as_bytes() != &pb.payload[..] {
                    return Err(format!(
                        "payload is {:?}, expected {:?}",
                        Text(pb.payload.clone()),
                        want
                    ));
                }
            }
            cmp("qos", p.qos, pb.qos)?;
            cmp("retain", p.retain, pb.retain)?;
            cmp("dup", p.dup, pb.dup)?;
        }
        Packet::Connect(c) => {
            if let Some(t) = &p.protocol_name {
                let want = ctx.text(t)?;
                if want != c.protocol_name {
                    return Err(format!(
                        "protocol_name is {:?}, expected {:?}",
                        c.protocol_name, want
                    ));
                }
            }
            cmp("protocol_level", p.protocol_level, c.protocol_level)?;
            cmp("clean_session", p.clean_session, c.clean_session)?;
            cmp("keep_alive", p.keep_alive, c.keep_alive)?;
            if let Some(t) = &p.username {
                let want = ctx.text(t)?;
                if Some(&want) != c.username.as_ref() {
                    return Err(format!("username is {:?}, expected {:?}", c.username, want));
                }
            }
        }
        Packet::Connack(c) => {
            cmp("code", p.code, c.code)?;
            cmp("session_present", p.session_present, c.session_present())?;
        }
        Packet::Suback(s) => {
            if let Some(codes) = &p.codes {
                if codes != &s.codes {
                    return Err(format!(
                        "codes are {}, expected {}",
                        hexlist(&s.codes),
                        hexlist(codes)
                    ));
                }
            }
        }
        Packet::Unsuback(s) => {
            if let Some(codes) = &p.codes {
                if codes != &s.codes {
                    return Err(format!(
                        "codes are {}, expected {}",
                        hexlist(&s.codes),
                        hexlist(codes)
                    ));
                }
            }
        }
        Packet::Puback(a) | Packet::Pubrec(a) | Packet::Pubrel(a) | Packet::Pubcomp(a) => {
            cmp("reason_code", p.reason_code, a.reason_code.unwrap_or(0))?;
        }
        Packet::Disconnect(d) => cmp("reason_code", p.reason_code, d.reason_code.unwrap_or(0))?,
        _ => {}
    }
    for (k, v) in binds {
        ctx.vars.insert(k, v);
    }
    Ok(())
}

fn cmp<T: PartialEq + std::fmt::Debug>(
    field: &str,
    want: Option<T>,
    have: T,
) -> Result<(), String> {
    match want {
        Some(w) if w != have => Err(format!("{field} is {have:?}, expected {w:?}")),
        _ => Ok(()),
    }
}

fn opt(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "absent".into())
}

fn hexlist(v: &[u8]) -> String {
    let items: Vec<String> = v.iter().map(|c| format!("0x{c:02x}")).collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::codec::{decode, encode};

    fn pattern(toml_text: &str) -> RawPacket {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn connect_patterns_compare_what_they_name() {
        let got = decode(
            encode(
                &Packet::Connect(Box::new(Connect {
                    protocol_level: 5,
                    clean_session: false,
                    keep_alive: 5,
                    username: Some(Text::from("device")),
                    client_id: Text::from("c"),
                    ..Connect::default()
                })),
                Version::V5,
            )
            .into(),
            Version::V5,
        );
        let mut ctx = Context::default();
        let ok = "type = \"connect\"\nprotocol_level = 5\nclean_session = false\nkeep_alive = 5\nusername = \"device\"\nprotocol_name = \"MQTT\"";
        assert_eq!(match_packet(&pattern(ok), &got, &mut ctx), Ok(()));
        for (field, want) in [
            ("protocol_level", "protocol_level = 4"),
            ("clean_session", "clean_session = true"),
            ("keep_alive", "keep_alive = 60"),
            ("username", "username = \"other\""),
            ("protocol_name", "protocol_name = \"MQIsdp\""),
        ] {
            let p = pattern(&format!("type = \"connect\"\n{want}"));
            let e = match_packet(&p, &got, &mut ctx).unwrap_err();
            assert!(e.starts_with(field), "{want}: {e}");
        }
    }
}
