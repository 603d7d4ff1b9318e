//! Coverage: which normative statements are checked by a passive rule or a
//! case, per MQTT version and role (broker, client, capture).

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::case::{Case, Role};
use crate::codec::Version;
use crate::event::Side;
use crate::rules::catalogue;
use crate::spec::{lookup, statements};

/// Coverage of one version and role.
#[derive(Debug, Clone)]
pub struct Cell {
    pub version: Version,
    pub role: &'static str,
    /// Statements testable in this role.
    pub testable: Vec<&'static str>,
    pub checked: Vec<&'static str>,
}

/// Compute coverage from the rule catalogue and the loaded cases.
pub fn compute(cases: &[Case]) -> Vec<Cell> {
    let mut out = Vec::new();
    for version in [Version::V311, Version::V5] {
        for role in ["broker", "client", "capture"] {
            let mut checked: BTreeSet<&'static str> = BTreeSet::new();
            for r in catalogue() {
                if !r.versions.contains(&version) {
                    continue;
                }
                // In broker mode the peer is a server; in client mode a client;
                // captures judge both.
                let applies = match role {
                    "broker" => r.actor == Side::Server,
                    "client" => r.actor == Side::Client,
                    _ => true,
                };
                if applies {
                    checked.extend(
                        r.statements
                            .iter()
                            .filter_map(|s| lookup(version, s).map(|s| s.id)),
                    );
                }
            }
            if role == "broker" {
                for c in cases
                    .iter()
                    .filter(|c| c.version == version && c.role == Role::Broker)
                {
                    checked.extend(c.statements.iter().copied());
                }
            }
            let testable: Vec<&'static str> = statements(version)
                .iter()
                .filter(|s| s.testable.contains(&role))
                .map(|s| s.id)
                .collect();
            let checked = testable
                .iter()
                .copied()
                .filter(|s| checked.contains(s))
                .collect();
            out.push(Cell {
                version,
                role,
                testable,
                checked,
            });
        }
    }
    out
}

/// Render coverage as text.
pub fn render(cells: &[Cell], verbose: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<8} {:<8} {:>8} {:>9} {:>6}",
        "version", "role", "checked", "testable", "%"
    );
    for c in cells {
        let pct = if c.testable.is_empty() {
            0.0
        } else {
            100.0 * c.checked.len() as f64 / c.testable.len() as f64
        };
        let _ = writeln!(
            s,
            "{:<8} {:<8} {:>8} {:>9} {:>5.0}%",
            c.version.name(),
            c.role,
            c.checked.len(),
            c.testable.len(),
            pct
        );
    }
    for c in cells {
        let not: Vec<&str> = c
            .testable
            .iter()
            .copied()
            .filter(|t| !c.checked.contains(t))
            .collect();
        let _ = writeln!(s, "\n{} {}:", c.version.name(), c.role);
        if verbose {
            let _ = writeln!(s, "  checked:     {}", c.checked.join(" "));
        }
        let _ = writeln!(
            s,
            "  not checked: {}",
            if not.is_empty() {
                "-".into()
            } else {
                not.join(" ")
            }
        );
    }
    s
}
