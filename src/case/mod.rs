//! Declarative cases: the validated model of a case file (what is sent over
//! which named connection, what MUST happen, which statements it checks).

mod build;
mod load;
mod raw;
mod select;

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::codec::Version;
use crate::transport::tls::{Choice, RefusedBy};
pub use crate::transport::Framing;

pub use build::{build_packet, match_packet, Context};
pub use load::{load_file, load_paths, parse_case, LoadError};
pub use raw::{RawOverrides, RawPacket};
pub use select::Selection;

/// Tag of cases that need a TLS target (`mqtts://`); skipped on plain TCP.
pub const TAG_TLS: &str = "tls";
/// Tag of cases about client certificates: they also need the run to present
/// one (`--cert/--key`, i.e. a broker that requires client certificates).
pub const TAG_MTLS: &str = "mtls";

/// Who the case tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The suite plays clients against a broker (`mqttspec run`).
    Broker,
    /// The suite plays the broker for a device or client program
    /// (`mqttspec serve`).
    Device,
}

/// Default wait for a device to connect in an `accept` step.
pub const DEFAULT_ACCEPT: Duration = Duration::from_secs(15);

/// A loaded, validated case.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    pub id: String,
    pub title: String,
    pub description: String,
    /// Cited statements in table form.
    pub statements: Vec<&'static str>,
    pub tags: Vec<String>,
    pub version: Version,
    pub role: Role,
    /// Device cases: what the device must be made to do (shown to the
    /// operator; `--exec` programs get it as `{trigger}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    #[serde(skip)]
    pub deadline: Duration,
    #[serde(skip)]
    pub steps: Vec<Step>,
    /// Run after the steps whatever happened; never changes the verdict.
    #[serde(skip)]
    pub cleanup: Vec<Step>,
    #[serde(skip)]
    pub path: PathBuf,
}

/// The tag of cases that only run over WebSocket (`ws://`, `wss://`).
pub const WS_TAG: &str = "ws";

impl Case {
    /// Whether the case only applies to WebSocket targets (tagged `ws`).
    pub fn needs_websocket(&self) -> bool {
        self.tags.iter().any(|t| t == WS_TAG)
    }
}

/// One step and where it is written.
#[derive(Debug, Clone)]
pub struct Step {
    /// 1-based line of the `[[step]]` in the file.
    pub line: usize,
    pub action: Action,
    pub note: Option<String>,
    /// The statement a failure of this step breaks.
    pub statement: &'static str,
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum Action {
    /// Device cases: wait for the device to connect (after the trigger).
    Accept {
        conn: String,
        within: Duration,
    },
    Open {
        conn: String,
        /// TLS choices for this connection (None: the run's settings).
        tls: Option<Choice>,
    },
    Connect {
        conn: String,
        /// TLS choices if this step opens the connection.
        tls: Option<Choice>,
        /// Expect the connection to be refused instead of a CONNACK.
        refused_by: Option<RefusedBy>,
        spec: Box<RawPacket>,
        /// How the CONNECT goes into WebSocket frames.
        framing: Framing,
        connack: Option<Box<RawPacket>>,
        /// The CONNACK pattern was written in the case (a mismatch fails the
        /// case instead of making it inconclusive).
        connack_explicit: bool,
        anonymous: bool,
        same_client_as: Option<String>,
    },
    Send {
        conn: String,
        what: Send,
        /// How the bytes go into WebSocket frames.
        framing: Framing,
    },
    Expect {
        conn: String,
        alternatives: Vec<Alternative>,
        within: Duration,
        /// The matched packet stays for later steps (one packet checked
        /// against several statements, a step each).
        keep: bool,
    },
    ExpectNone {
        conn: String,
        pattern: Option<Box<RawPacket>>,
        within: Duration,
    },
    ExpectClose {
        conn: String,
        within: Duration,
    },
    Drop {
        conn: String,
    },
    Disconnect {
        conn: String,
    },
}

impl Action {
    /// The connection name the step acts on.
    pub fn conn(&self) -> &str {
        match self {
            Action::Accept { conn, .. }
            | Action::Open { conn, .. }
            | Action::Connect { conn, .. }
            | Action::Send { conn, .. }
            | Action::Expect { conn, .. }
            | Action::ExpectNone { conn, .. }
            | Action::ExpectClose { conn, .. }
            | Action::Drop { conn }
            | Action::Disconnect { conn } => conn,
        }
    }

    /// The action's key as written in case files.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Accept { .. } => "accept",
            Action::Open { .. } => "open",
            Action::Connect { .. } => "connect",
            Action::Send { .. } => "send",
            Action::Expect { .. } => "expect",
            Action::ExpectNone { .. } => "expect_none",
            Action::ExpectClose { .. } => "expect_close",
            Action::Drop { .. } => "drop",
            Action::Disconnect { .. } => "disconnect",
        }
    }
}

/// What a `send` step sends.
#[derive(Debug, Clone)]
pub enum Send {
    Packet {
        packet: Box<RawPacket>,
        overrides: RawOverrides,
    },
    Hex(Vec<u8>),
}

/// How an acceptable outcome is graded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grade {
    Pass,
    NonStrict,
    /// The outcome says the case's premise does not hold (e.g. the device
    /// did not ask for what the trigger asked of it): nothing is concluded.
    Inconclusive,
}

/// One acceptable outcome of an `expect` step.
#[derive(Debug, Clone)]
pub struct Alternative {
    pub outcome: Outcome,
    pub grade: Grade,
    pub note: Option<String>,
}

/// An observable outcome.
#[derive(Debug, Clone)]
pub enum Outcome {
    Packet(Box<RawPacket>),
    Close,
    Nothing(Option<Box<RawPacket>>),
    /// The connection is still open at the end of the window (whatever
    /// arrived meanwhile).
    Open,
}

/// Default wait of an `expect` step.
pub const DEFAULT_WITHIN: Duration = Duration::from_millis(3000);
/// Default window of `expect_none`.
pub const DEFAULT_NONE_WINDOW: Duration = Duration::from_millis(300);
/// Default whole-case deadline.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(20);

/// A plain text value for a case field.
pub fn raw_text(s: &str) -> raw::RawText {
    raw::RawText::Text(s.to_string())
}

/// A number-or-variable as written.
pub fn num_text(n: &raw::RawNum) -> String {
    match n {
        raw::RawNum::Num(v) => v.to_string(),
        raw::RawNum::Var(s) => s.clone(),
    }
}

/// A text-or-hex value as written.
pub fn text_text(t: &raw::RawText) -> String {
    match t {
        raw::RawText::Text(s) => format!("{s:?}"),
        raw::RawText::Hex { hex } => format!("hex:{hex}"),
    }
}
