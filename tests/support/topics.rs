//! Topic names and filters: validity and matching, with the `$` rule
//! (filters starting with a wildcard do not match topics starting with `$`).

/// Whether a topic filter is valid: `#` only last and alone in its level,
/// `+` alone in its level, non-empty.
pub fn valid_filter(f: &str) -> bool {
    if f.is_empty() {
        return false;
    }
    let levels: Vec<&str> = f.split('/').collect();
    let last = levels.len() - 1;
    levels.iter().enumerate().all(|(i, l)| {
        if l.contains('#') {
            *l == "#" && i == last
        } else if l.contains('+') {
            *l == "+"
        } else {
            true
        }
    })
}

/// Whether a topic name may be published to (non-empty, no wildcards).
pub fn valid_topic(t: &str) -> bool {
    !t.is_empty() && !t.contains(['#', '+'])
}

/// Whether `filter` matches `topic`; `dollar_rule` applies the `$` exclusion.
pub fn matches(filter: &str, topic: &str, dollar_rule: bool) -> bool {
    if dollar_rule && topic.starts_with('$') && filter.starts_with(['#', '+']) {
        return false;
    }
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching() {
        assert!(matches("a/#", "a", true));
        assert!(matches("a/+/c", "a/b/c", true));
        assert!(!matches("a/+", "a/b/c", true));
        assert!(!matches("#", "$SYS/x", true));
        assert!(matches("#", "$SYS/x", false));
        assert!(matches("$SYS/#", "$SYS/broker/version", true));
        assert!(!valid_filter("a/#/b"));
        assert!(!valid_filter("a/b#"));
        assert!(!valid_filter("a+/b"));
        assert!(valid_filter("+/+/#"));
    }
}
