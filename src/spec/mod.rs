//! Normative statement tables of MQTT 3.1.1 and 5.0 (from `spec/*.tsv`,
//! embedded at build time): id, section, actor, level, where it is testable.
//! A third, separate table lists the TLS and PKI requirements (RFC 5280,
//! 8446, 6125) that TLS cases cite: MQTT's security section is
//! non-normative, so those cases have no `MQTT-…` statement to name. They
//! are never counted as MQTT statements (see [`Statement::related_to`]).

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
    /// None for MQTT normative statements. For the TLS/PKI requirements
    /// table: the MQTT (non-normative) sections whose advice the requirement
    /// supports, e.g. `3.1.1 5.4.1; 5.0 5.4.1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related_to: Option<&'static str>,
}

impl Statement {
    /// Whether this is a normative statement of an MQTT specification.
    pub fn is_mqtt(&self) -> bool {
        self.related_to.is_none()
    }
}

static V311_TSV: &str = include_str!("../../spec/mqtt-3.1.1-rules.tsv");
static V5_TSV: &str = include_str!("../../spec/mqtt-5.0-rules.tsv");
static TLS_TSV: &str = include_str!("../../spec/tls-requirements.tsv");

/// Parse a table; `related` tables carry an extra `mqtt_sections` column
/// before the summary.
fn parse(tsv: &'static str, related: bool) -> Vec<Statement> {
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
            let related_to = if related { Some(c.next()?) } else { None };
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
                related_to,
            })
        })
        .collect()
}

/// All statements of a version's table, in spec order (3.1 uses 3.1.1's).
pub fn statements(version: Version) -> &'static [Statement] {
    static V311: OnceLock<Vec<Statement>> = OnceLock::new();
    static V5: OnceLock<Vec<Statement>> = OnceLock::new();
    match version {
        Version::V5 => V5.get_or_init(|| parse(V5_TSV, false)),
        _ => V311.get_or_init(|| parse(V311_TSV, false)),
    }
}

/// The TLS/PKI requirements cases may cite besides MQTT statements (the
/// same for every MQTT version). Not MQTT normative statements.
pub fn tls_requirements() -> &'static [Statement] {
    static TLS: OnceLock<Vec<Statement>> = OnceLock::new();
    TLS.get_or_init(|| parse(TLS_TSV, true))
}

/// What a case may cite: an MQTT statement of its version (as [`lookup`])
/// or a TLS/PKI requirement by its exact ID (`RFC5280-6.1.3`).
pub fn cite(version: Version, id: &str) -> Option<&'static Statement> {
    lookup(version, id).or_else(|| tls_requirements().iter().find(|s| s.id == id))
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
        assert_eq!(tls_requirements().len(), 5);
    }

    #[test]
    fn tls_requirements_are_citable_but_not_mqtt_statements() {
        let s = cite(Version::V311, "RFC5280-6.1.3").unwrap();
        assert!(!s.is_mqtt());
        assert!(s.related_to.unwrap().contains("5.4.1"));
        assert!(lookup(Version::V311, "RFC5280-6.1.3").is_none());
        assert!(!is_known("RFC5280-6.1.3"));
        assert!(cite(Version::V311, "MQTT-3.1.4-4").unwrap().is_mqtt());
        assert!(cite(Version::V5, "RFC9999-1").is_none());
        for r in tls_requirements() {
            assert!(!r.id.starts_with("MQTT-"), "{}", r.id);
            assert!(!r.summary.is_empty() && !r.testable.is_empty(), "{}", r.id);
        }
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
