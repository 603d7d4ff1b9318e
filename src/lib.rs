//! mqttspec: an MQTT 3.1.1 / 5.0 conformance test suite.
//!
//! Every source of traffic (live broker-mode runs, capture files) becomes
//! [`event::Event`]s (serve mode, where the suite plays the broker, too); the [`rules`] engine turns them into findings; cases add
//! active expectations; verdicts and reports come last.

pub mod analyze;
pub mod capture;
pub mod case;
pub mod cli;
pub mod codec;
pub mod coverage;
pub mod event;
pub mod pki;
pub mod report;
pub mod rules;
pub mod run;
pub mod serve;
pub mod session;
pub mod spec;
pub mod sync;
pub mod topic;
pub mod transport;
pub mod verdict;
