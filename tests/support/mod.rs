//! A fault-injecting MQTT 3.1.1 broker for testing the suite itself.

pub mod broker;
pub mod conn;
pub mod faults;
pub mod session;
pub mod subscribe;
pub mod topics;

pub use broker::Broker;
pub use faults::Faults;
