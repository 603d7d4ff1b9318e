//! The case file schema as written by people (TOML), before validation.
//! Every table denies unknown keys so typos are reported with their position.

use serde::Deserialize;

use crate::codec::Overrides;

/// A case file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCase {
    pub id: String,
    pub title: String,
    /// What is sent and what MUST happen.
    pub description: String,
    pub statements: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// "3.1.1" (default) or "5.0".
    #[serde(default)]
    pub version: Option<String>,
    /// "broker" (default): the suite plays clients against a broker;
    /// "device": the suite plays the broker (`mqttspec serve`).
    #[serde(default)]
    pub role: Option<String>,
    /// Device cases: what the device must be made to do, e.g.
    /// "connect", "publish qos=1" (for the operator and `--exec` programs).
    #[serde(default)]
    pub trigger: Option<String>,
    /// Longest the whole case may take, in ms (default 20000).
    #[serde(default)]
    pub deadline_ms: Option<u64>,
    #[serde(rename = "step")]
    pub steps: Vec<toml::Spanned<RawStep>>,
    /// Steps run after the case whatever its outcome (e.g. clearing retained
    /// messages); their results do not change the verdict.
    #[serde(default)]
    pub cleanup: Vec<toml::Spanned<RawStep>>,
}

/// One step: exactly one action key (`connect`, `send`, `expect`, …) naming
/// the connection it acts on, plus that action's options.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    // --- actions (exactly one) ---
    /// Device cases: wait for the device to connect.
    pub accept: Option<String>,
    /// Open the TCP connection only (no CONNECT).
    pub open: Option<String>,
    /// Open (unless open) and send CONNECT; by default expect CONNACK 0.
    pub connect: Option<String>,
    /// Send a packet (`packet`) or raw bytes (`hex`).
    pub send: Option<String>,
    /// Expect a packet matching `packet`, or one of `one_of`.
    pub expect: Option<String>,
    /// Expect no packet (matching `packet`, if given) within `within_ms`.
    pub expect_none: Option<String>,
    /// Expect the server to close the connection within `within_ms`.
    pub expect_close: Option<String>,
    /// Close the TCP connection abruptly (no DISCONNECT).
    pub drop: Option<String>,
    /// Send DISCONNECT, then close.
    pub disconnect: Option<String>,

    // --- options ---
    pub packet: Option<RawPacket>,
    pub hex: Option<String>,
    #[serde(rename = "override")]
    pub overrides: Option<RawOverrides>,
    pub one_of: Option<Vec<RawAlternative>>,
    pub within_ms: Option<u64>,
    /// `expect` only: the matched packet stays for the following steps, so
    /// that each of its properties can be checked in a step of its own
    /// (and a failure names that step's statement).
    pub keep: Option<bool>,
    /// WebSocket only (`send`, `connect`): cut the bytes into binary frames
    /// of these sizes, the rest in one last frame.
    pub ws_split: Option<Vec<usize>>,
    /// WebSocket only (`send`, `connect`): send the bytes in a text frame.
    pub ws_text: Option<bool>,
    /// WebSocket only (`send`, `connect`): hold the bytes and send them in
    /// the same frame as the next `send` or `connect` on the connection.
    pub ws_join_next: Option<bool>,
    /// Why the step exists (shown in reports).
    pub note: Option<String>,
    /// The statement this step checks (default: the case's first).
    pub statement: Option<String>,

    // connect options
    pub client_id: Option<RawText>,
    /// Reuse the client id of another connection name (reconnect / takeover).
    pub same_client_as: Option<String>,
    pub clean_session: Option<bool>,
    pub keep_alive: Option<u16>,
    pub will: Option<RawWill>,
    pub username: Option<RawText>,
    pub password: Option<RawText>,
    /// No user name / password even if the run has credentials.
    pub anonymous: Option<bool>,
    pub protocol_name: Option<RawText>,
    pub protocol_level: Option<u8>,
    /// Bits OR'ed into the computed connect flags (e.g. 1 = reserved bit).
    pub connect_flags: Option<u8>,
    /// CONNACK expected after CONNECT (default: code 0); `false` = don't wait.
    pub connack: Option<RawConnack>,
    pub properties: Option<Vec<RawProperty>>,

    // TLS options of `open` / `connect` (mqtts:// targets; fixture names are
    // file stems in the `--certs` directory)
    /// Client certificate `NAME.pem`/`NAME.key` instead of `--cert`, or "none".
    pub tls_client: Option<String>,
    /// Trust `NAME.pem` for the broker's certificate instead of `--ca`.
    pub tls_ca: Option<String>,
    /// Check the broker's certificate against this name (and send it as SNI).
    pub tls_server_name: Option<String>,
    /// `connect` only: expect the connection to be refused, by "broker" (TLS
    /// alert, close before CONNACK, or a refusing CONNACK) or by "suite"
    /// (the broker's certificate does not verify).
    pub refused_by: Option<String>,
}

/// A string value: plain text, or `{ hex = "…" }` for bytes that are not UTF-8.
#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
pub enum RawText {
    Text(String),
    Hex { hex: String },
}

/// A number, or a variable name starting with `$` (bound on first match).
#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
pub enum RawNum {
    Num(i64),
    Var(String),
}

/// The Will of a CONNECT.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawWill {
    pub topic: RawText,
    #[serde(default)]
    pub payload: Option<RawText>,
    #[serde(default)]
    pub qos: u8,
    #[serde(default)]
    pub retain: bool,
}

/// Expected CONNACK after a `connect` step.
#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
pub enum RawConnack {
    Wait(bool),
    Pattern(Box<RawPacket>),
}

/// A 5.0 property: `{ id = 0x11, value = 60 }` or a pair.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawProperty {
    pub id: u8,
    pub value: toml::Value,
}

/// Wire overrides (see `codec::Overrides`), hex for `append`.
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct RawOverrides {
    pub flags: Option<u8>,
    pub type_nibble: Option<u8>,
    pub remaining_length: Option<u32>,
    pub length_bytes: Option<u8>,
    pub append_hex: Option<String>,
    pub truncate: Option<usize>,
}

impl RawOverrides {
    pub fn to_overrides(&self) -> Result<Overrides, String> {
        Ok(Overrides {
            flags: self.flags,
            type_nibble: self.type_nibble,
            remaining_length: self.remaining_length,
            length_bytes: self.length_bytes,
            append: match &self.append_hex {
                Some(h) => crate::codec::text::parse_hex(h)?,
                None => Vec::new(),
            },
            truncate: self.truncate,
        })
    }
}

/// One alternative of an expectation.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawAlternative {
    /// A packet matching this pattern arrives.
    pub packet: Option<RawPacket>,
    /// The server closes the connection.
    #[serde(default)]
    pub close: bool,
    /// Nothing (matching `packet`, if given) arrives within the window.
    #[serde(default)]
    pub nothing: bool,
    /// The connection is still open when the window ends, whatever arrived.
    #[serde(default)]
    pub open: bool,
    /// "pass" (default) or "non-strict".
    pub grade: Option<String>,
    /// Why this alternative is graded so.
    pub note: Option<String>,
}

/// A packet to send (all fields meaningful) or a pattern to match (only the
/// given fields are compared).
#[derive(Debug, Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct RawPacket {
    #[serde(rename = "type")]
    pub kind: String,
    // common
    pub packet_id: Option<RawNum>,
    pub reason_code: Option<u8>,
    pub properties: Option<Vec<RawProperty>>,
    // publish
    pub topic: Option<RawText>,
    /// Pattern only: topic starts with this.
    pub topic_prefix: Option<RawText>,
    pub payload: Option<RawText>,
    pub qos: Option<u8>,
    pub retain: Option<bool>,
    pub dup: Option<bool>,
    // subscribe / unsubscribe
    pub filters: Option<Vec<RawFilter>>,
    // connack / suback / unsuback
    pub code: Option<u8>,
    pub codes: Option<Vec<u8>>,
    pub session_present: Option<bool>,
    // connect (for `send` of a raw-structured CONNECT)
    pub client_id: Option<RawText>,
    pub clean_session: Option<bool>,
    pub keep_alive: Option<u16>,
    pub protocol_name: Option<RawText>,
    pub protocol_level: Option<u8>,
    pub connect_flags: Option<u8>,
    pub username: Option<RawText>,
    pub password: Option<RawText>,
    pub will: Option<RawWill>,
}

/// A topic filter entry: `"a/b"` or `{ filter = "a/b", qos = 1 }`.
#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
pub enum RawFilter {
    Plain(RawText),
    Full {
        filter: RawText,
        #[serde(default)]
        qos: u8,
        /// Whole options byte (overrides qos), e.g. to set reserved bits.
        #[serde(default)]
        options: Option<u8>,
    },
}
