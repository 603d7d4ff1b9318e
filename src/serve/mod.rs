//! Serve mode: the suite plays the broker and judges the clients that
//! connect to it with the same rules (the client-side ones matter here).
//!
//! Watch mode ([`watch`]) runs no scripted case: a small conformant broker
//! ([`broker`]) serves any number of clients while every connection is
//! judged passively ([`judge`]); the report is made when the watch stops.

pub mod broker;
pub mod judge;
pub mod text;
pub mod watch;

pub use watch::{watch, WatchReport};
