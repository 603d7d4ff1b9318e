//! Selecting cases by id glob, cited statement (rule) and tag. Whether a
//! selected case applies to the target is decided when running
//! (`run/applies.rs`).

use globset::{Glob, GlobMatcher};

use super::Case;

/// Which cases to run. Empty lists select everything.
#[derive(Debug, Default)]
pub struct Selection {
    ids: Vec<GlobMatcher>,
    statements: Vec<GlobMatcher>,
    tags: Vec<String>,
}

impl Selection {
    /// Build from glob strings; a bad glob is an error naming it.
    pub fn new(
        ids: &[String],
        statements: &[String],
        tags: &[String],
    ) -> Result<Selection, String> {
        let glob = |g: &String| {
            Glob::new(g)
                .map(|g| g.compile_matcher())
                .map_err(|e| format!("bad glob `{g}`: {e}"))
        };
        Ok(Selection {
            ids: ids.iter().map(glob).collect::<Result<_, _>>()?,
            statements: statements
                .iter()
                .map(|s| {
                    // `3.8.4-2` is short for `MQTT-3.8.4-2`; TLS requirement
                    // IDs (`RFC5280-*`) are taken as written.
                    let s = if s.starts_with(|c: char| c.is_ascii_digit()) {
                        format!("MQTT-{s}")
                    } else {
                        s.clone()
                    };
                    glob(&s)
                })
                .collect::<Result<_, _>>()?,
            tags: tags.to_vec(),
        })
    }

    /// Whether a case is selected (all given criteria must hold).
    pub fn matches(&self, c: &Case) -> bool {
        (self.ids.is_empty() || self.ids.iter().any(|g| g.is_match(&c.id)))
            && (self.statements.is_empty()
                || c.statements
                    .iter()
                    .any(|s| self.statements.iter().any(|g| g.is_match(s))))
            && (self.tags.is_empty() || c.tags.iter().any(|t| self.tags.contains(t)))
    }
}
