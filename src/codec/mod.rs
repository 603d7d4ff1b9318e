//! The MQTT codec: packet model, lenient total decoder, encoder with
//! deliberate-malformation overrides, and a streaming framer.
//!
//! Data flows bytes → [`Framer`] (splits a byte stream into whole packets, or
//! reports an unframeable remainder) → [`decode`] (one packet's bytes → a
//! [`Decoded`] holding what could be parsed plus every wire-level
//! [`Violation`] with its byte offset). Nothing here does I/O or panics.

mod body;
pub mod decode;
pub mod encode;
pub mod packet;
pub mod properties;
mod property_wire;
pub mod stream;
pub mod text;
pub mod wire;

pub use decode::{decode, Decoded, Violation, ViolationKind};
pub use encode::{encode, encode_with, Overrides};
pub use packet::*;
pub use properties::{Properties, Property, Value};
pub use stream::{peek_length, FrameError, Framed, Framer, Length};
pub use text::Text;
