//! Normative statement tables of MQTT 3.1.1 and 5.0 (from `spec/*.tsv`,
//! embedded at build time): id, section, actor, level, where it is testable.

use std::sync::OnceLock;

use serde::Serialize;

use crate::codec::Version;

/// One normative statement.
#[derive(Debug, Clone, Serialize)]
pub struct Statement {
    pub id: &'static str,
    pub section: &'static str,
    pub actor: &'static str,
    pub level: &'static str,
    /// Which testers can observe it: subset of broker, client, capture.
    pub testable: Vec<&'static str>,
    pub summary: &'static str,
}

static V311_TSV: &str = include_str!("../../spec/mqtt-3.1.1-rules.tsv");
static V5_TSV: &str = include_str!("../../spec/mqtt-5.0-rules.tsv");

fn parse(tsv: &'static str) -> Vec<Statement> {
    tsv.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let mut c = l.split('\t');
            let id = c.next()?;
            let section = c.next()?;
            let actor = c.next()?;
            let level = c.next()?;
            let testable = c.next()?;
            let summary = c.next().unwrap_or("");
            Some(Statement {
                id,
                section,
                actor,
                level,
                testable: testable
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty() && *s != "none")
                    .collect(),
                summary,
            })
        })
        .collect()
}

/// All statements of a version's table, in spec order (3.1 uses 3.1.1's).
pub fn statements(version: Version) -> &'static [Statement] {
    static V311: OnceLock<Vec<Statement>> = OnceLock::new();
    static V5: OnceLock<Vec<Statement>> = OnceLock::new();
    match version {
        Version::V5 => V5.get_or_init(|| parse(V5_TSV)),
        _ => V311.get_or_init(|| parse(V311_TSV)),
    }
}

/// Normalize an ID as written in code or cases to the table's form:
/// accepts `MQTT-3.8.3-4` for 3.1.1's misprinted `MQTT-3-8.3-4`, and 5.0's
/// `MQTT-4.2-1` for `MQTT-4.2.0-1`. Returns None when unknown.
pub fn lookup(version: Version, id: &str) -> Option<&'static Statement> {
    let table = statements(version);
    if let Some(s) = table.iter().find(|s| s.id == id) {
        return Some(s);
    }
    let alt = canonical_variants(id);
    table.iter().find(|s| alt.iter().any(|a| a == s.id))
}

fn canonical_variants(id: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(rest) = id.strip_prefix("MQTT-") {
        // "3.8.3-4" <-> "3-8.3-4"
        if let Some((head, tail)) = rest.split_once('-') {
            let parts: Vec<&str> = head.split('.').collect();
            if parts.len() == 3 {
                out.push(format!(
                    "MQTT-{}-{}.{}-{}",
                    parts[0], parts[1], parts[2], tail
                ));
            }
            if parts.len() == 2 {
                out.push(format!("MQTT-{}.{}.0-{}", parts[0], parts[1], tail));
            }
        }
        if let Some((a, b)) = rest.split_once('-') {
            if let Some((b1, b2)) = b.split_once('-') {
                // "3-8.3-4" -> "3.8.3-4"
                out.push(format!("MQTT-{a}.{b1}-{b2}"));
            }
        }
    }
    out
}

/// Whether an ID is known in either table.
pub fn is_known(id: &str) -> bool {
    lookup(Version::V311, id).is_some() || lookup(Version::V5, id).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_the_documented_sizes() {
        assert_eq!(statements(Version::V311).len(), 141);
        assert_eq!(statements(Version::V5).len(), 251);
    }

    #[test]
    fn misprinted_and_short_ids_are_accepted() {
        assert_eq!(
            lookup(Version::V311, "MQTT-3.8.3-4").map(|s| s.id),
            Some("MQTT-3-8.3-4")
        );
        assert!(lookup(Version::V5, "MQTT-4.2-1").is_some());
        assert!(lookup(Version::V311, "MQTT-9.9.9-9").is_none());
    }
}
