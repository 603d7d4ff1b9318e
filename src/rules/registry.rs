//! The list of all passive rules.

use super::{Rule, RuleMeta};

/// A fresh instance of every rule (one set per connection).
pub fn all_rules() -> Vec<Box<dyn Rule>> {
    Vec::new()
}

/// The static description of every rule, for `mqttspec rules` and coverage.
pub fn catalogue() -> Vec<&'static RuleMeta> {
    all_rules().iter().map(|r| r.meta()).collect()
}
