//! `Text`: an MQTT UTF-8 string field kept as raw bytes, so ill-formed UTF-8
//! and U+0000 can be sent on purpose and reported when received; plus serde
//! helpers that render bytes readably in reports.

use bytes::Bytes;
use serde::{Serialize, Serializer};

/// The bytes of an MQTT string field (not guaranteed to be valid UTF-8).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Text(pub Bytes);

impl Text {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The string if the bytes are valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// A lossy rendering (invalid sequences become U+FFFD).
    pub fn lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    /// A copy in a buffer of its own: what outlives its packet keeps this,
    /// so that it does not hold on to the buffer the packet was read from.
    pub fn detached(&self) -> Text {
        Text(Bytes::copy_from_slice(&self.0))
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(Bytes::from(s.into_bytes()))
    }
}

impl From<Vec<u8>> for Text {
    fn from(v: Vec<u8>) -> Self {
        Text(Bytes::from(v))
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.as_str() {
            Some(s) => write!(f, "{s:?}"),
            None => write!(f, "hex:{}", hex(&self.0)),
        }
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.as_str() {
            Some(s) => f.write_str(s),
            None => write!(f, "hex:{}", hex(&self.0)),
        }
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ser_bytes(&self.0, s)
    }
}

/// Lower-case hex without separators.
pub fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(out, "{x:02x}");
    }
    out
}

/// Parse hex, ignoring ASCII whitespace, ':' and '_' separators.
pub fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = s
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b':' && *c != b'_')
        .collect();
    if digits.len() % 2 != 0 {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    digits
        .chunks(2)
        .map(|p| {
            let hi = (p[0] as char).to_digit(16);
            let lo = (p[1] as char).to_digit(16);
            match (hi, lo) {
                (Some(h), Some(l)) => Ok((h * 16 + l) as u8),
                _ => Err(format!(
                    "not a hex digit pair: {:?}",
                    String::from_utf8_lossy(p)
                )),
            }
        })
        .collect()
}

/// Serialize bytes as a string when valid UTF-8 without control characters,
/// else as `"hex:…"`.
pub fn ser_bytes<S: Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
    match std::str::from_utf8(b) {
        Ok(t) if !t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => s.serialize_str(t),
        _ => s.serialize_str(&format!("hex:{}", hex(b))),
    }
}

/// `ser_bytes` for an optional field.
pub fn ser_bytes_opt<S: Serializer>(b: &Option<Bytes>, s: S) -> Result<S::Ok, S::Error> {
    match b {
        Some(b) => ser_bytes(b, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        assert_eq!(parse_hex("c3 28:00_ff").unwrap(), vec![0xc3, 0x28, 0, 0xff]);
        assert_eq!(hex(&[0xc3, 0x28]), "c328");
        assert!(parse_hex("abc").is_err());
        assert!(parse_hex("zz").is_err());
    }

    #[test]
    fn invalid_utf8_renders_as_hex() {
        let t = Text::from(vec![0xc3, 0x28]);
        assert_eq!(t.to_string(), "hex:c328");
        assert!(t.as_str().is_none());
    }
}
