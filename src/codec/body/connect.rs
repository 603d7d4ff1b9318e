//! CONNECT and CONNACK bodies. CONNECT is decoded by the protocol level it
//! carries (level 5 → properties), not by the connection's assumed version.
//!
//! Encoding: the connect-flags byte is `computed_flags()` OR'ed with the raw
//! `flags` field, so a case sets the reserved bit (or any other bit the named
//! fields cannot express) with `flags = 0x01`; a decoded CONNECT, whose
//! `flags` is the byte received, re-encodes to the same byte.

use super::super::decode::ViolationKind;
use super::super::packet::{Connack, Connect, Will};
use super::super::properties::Properties;
use super::super::property_wire::{decode_properties, encode_properties, Place};
use super::super::text::Text;
use super::super::wire::{put_binary, put_text, put_u16, Reader};

pub(crate) fn decode_connect(r: &mut Reader<'_>) -> Connect {
    let mut c = Connect {
        protocol_name: Text::default(),
        protocol_level: 0,
        flags: 0,
        clean_session: false,
        keep_alive: 0,
        properties: Properties::default(),
        client_id: Text::default(),
        will: None,
        username: None,
        password: None,
    };
    let name_at = r.pos();
    let Some(name) = r.text("protocol name") else {
        return c;
    };
    if name.as_bytes() != b"MQTT" && name.as_bytes() != b"MQIsdp" {
        r.violation(name_at, ViolationKind::UnknownProtocolName);
    }
    c.protocol_name = name;
    let Some(level) = r.u8("protocol level") else {
        return c;
    };
    c.protocol_level = level;
    let v5 = level == 5;
    let flags_at = r.pos();
    let Some(flags) = r.u8("connect flags") else {
        return c;
    };
    c.flags = flags;
    check_flags(r, flags_at, flags, v5);
    c.clean_session = flags & 0x02 != 0;
    let Some(keep_alive) = r.u16("keep alive") else {
        return c;
    };
    c.keep_alive = keep_alive;
    if v5 {
        c.properties = decode_properties(r, Place::Connect);
    }
    let Some(client_id) = r.text("client identifier") else {
        return c;
    };
    c.client_id = client_id;
    if flags & 0x04 != 0 {
        let mut will = Will {
            qos: (flags >> 3) & 0x03,
            retain: flags & 0x20 != 0,
            ..Will::default()
        };
        if v5 {
            will.properties = decode_properties(r, Place::Will);
        }
        let topic = r.text("will topic");
        let payload = r.binary("will payload");
        will.topic = topic.unwrap_or_default();
        will.payload = payload.unwrap_or_default();
        c.will = Some(will);
    }
    if flags & 0x80 != 0 {
        c.username = Some(r.text("user name").unwrap_or_default());
    }
    if flags & 0x40 != 0 {
        c.password = Some(r.binary("password").unwrap_or_default());
    }
    c
}

/// Reserved bit, will QoS/retain consistency, password without user name.
fn check_flags(r: &mut Reader<'_>, at: usize, flags: u8, v5: bool) {
    if flags & 0x01 != 0 {
        r.violation(at, ViolationKind::ConnectReservedFlag);
    }
    let will = flags & 0x04 != 0;
    let will_qos = (flags >> 3) & 0x03;
    let will_retain = flags & 0x20 != 0;
    if will_qos == 3 || (!will && (will_qos != 0 || will_retain)) {
        r.violation(at, ViolationKind::InvalidWillFlags);
    }
    if !v5 && flags & 0x40 != 0 && flags & 0x80 == 0 {
        r.violation(at, ViolationKind::PasswordWithoutUsername);
    }
}

pub(crate) fn encode_connect(out: &mut Vec<u8>, c: &Connect) {
    let v5 = c.protocol_level == 5;
    put_text(out, &c.protocol_name);
    out.push(c.protocol_level);
    out.push(c.computed_flags() | c.flags);
    put_u16(out, c.keep_alive);
    if v5 {
        encode_properties(out, &c.properties);
    }
    put_text(out, &c.client_id);
    if let Some(w) = &c.will {
        if v5 {
            encode_properties(out, &w.properties);
        }
        put_text(out, &w.topic);
        put_binary(out, &w.payload);
    }
    if let Some(u) = &c.username {
        put_text(out, u);
    }
    if let Some(p) = &c.password {
        put_binary(out, p);
    }
}

pub(crate) fn decode_connack(r: &mut Reader<'_>, v5: bool) -> Connack {
    let mut c = Connack::default();
    let at = r.pos();
    let Some(flags) = r.u8("acknowledge flags") else {
        return c;
    };
    if flags & 0xfe != 0 {
        r.violation(at, ViolationKind::ConnackReservedFlags);
    }
    c.flags = flags;
    let Some(code) = r.u8("return code") else {
        return c;
    };
    c.code = code;
    if v5 {
        c.properties = decode_properties(r, Place::Connack);
    }
    c
}

pub(crate) fn encode_connack(out: &mut Vec<u8>, c: &Connack, v5: bool) {
    out.push(c.flags);
    out.push(c.code);
    if v5 {
        encode_properties(out, &c.properties);
    }
}
