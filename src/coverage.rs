//! Coverage: which normative statements are checked by a passive rule or a
//! case, per MQTT version and role (broker, client, capture). The TLS/PKI
//! requirements some cases cite are listed apart and never counted as MQTT
//! statements.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::case::{Case, Role};
use crate::codec::Version;
use crate::event::Side;
use crate::rules::catalogue;
use crate::spec::{lookup, statements, tls_requirements, Statement};

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
                // In broker mode the peer is a server; in client mode a client;
                // captures judge both.
                let applies = match role {
                    "broker" => r.actor == Side::Server,
                    "client" => r.actor == Side::Client,
                    _ => true,
                };
                if applies {
                    checked.extend(
                        r.statements_in(version)
                            .filter_map(|s| lookup(version, s).map(|s| s.id)),
                    );
                }
            }
            // Broker cases test a broker; device cases test a client.
            let case_role = match role {
                "broker" => Some(Role::Broker),
                "client" => Some(Role::Device),
                _ => None,
            };
            for c in cases
                .iter()
                .filter(|c| c.version == version && Some(c.role) == case_role)
            {
                checked.extend(c.statements.iter().copied());
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

/// Each TLS/PKI requirement (not an MQTT statement) with the ids of the
/// cases that cite it.
pub fn related(cases: &[Case]) -> Vec<(&'static Statement, Vec<&str>)> {
    tls_requirements()
        .iter()
        .map(|r| {
            let citing = cases
                .iter()
                .filter(|c| c.statements.contains(&r.id))
                .map(|c| c.id.as_str())
                .collect();
            (r, citing)
        })
        .collect()
}

/// Render [`related`] as text.
pub fn render_related(rows: &[(&'static Statement, Vec<&str>)], verbose: bool) -> String {
    let mut s = String::from(
        "\nTLS/PKI requirements cited by cases (not MQTT normative statements: MQTT's\nsecurity section 5 is non-normative; not counted above; spec/tls-requirements.tsv):\n",
    );
    for (r, citing) in rows {
        let _ = writeln!(
            s,
            "  {:<18} {:>2} case{}  supports MQTT {}",
            r.id,
            citing.len(),
            if citing.len() == 1 { " " } else { "s" },
            r.related_to.unwrap_or("-")
        );
        if verbose && !citing.is_empty() {
            let _ = writeln!(s, "    {}", citing.join(" "));
        }
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tls_requirements_are_listed_apart_and_never_counted_as_mqtt() {
        let text = "id = \"c\"\ntitle = \"t\"\ndescription = \"d\"\nstatements = [\"RFC5280-6.1.3\", \"MQTT-3.1.4-4\"]\ntags = [\"mtls\"]\n\n[[step]]\nconnect = \"a\"\n";
        let case = crate::case::parse_case(std::path::Path::new("c.toml"), text).unwrap();
        let cases = [case];
        let cells = compute(&cases);
        for cell in &cells {
            assert!(cell.checked.iter().all(|s| s.starts_with("MQTT-")));
            assert!(cell.testable.iter().all(|s| s.starts_with("MQTT-")));
        }
        let rows = related(&cases);
        let (_, citing) = rows.iter().find(|(r, _)| r.id == "RFC5280-6.1.3").unwrap();
        assert_eq!(citing, &vec!["c"]);
        let text = render_related(&rows, false);
        assert!(text.contains("not MQTT normative statements"), "{text}");
    }
}
