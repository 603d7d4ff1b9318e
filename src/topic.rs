//! Topic names and filters: matching (with and without the `$` rule of
//! 4.7.2) and validity checks (4.7.1, 4.7.3). Works on raw bytes so that
//! ill-formed strings received on the wire can still be judged.

/// Whether `filter` matches `name` under section 4.7, including the rule that
/// filters starting with `#` or `+` do not match names starting with `$`.
/// A 5.0 shared-subscription filter (`$share/group/f`) matches like `f`.
pub fn matches(filter: &[u8], name: &[u8]) -> bool {
    let filter = unshared(filter);
    if name.first() == Some(&b'$') && matches!(filter.first(), Some(b'#') | Some(b'+')) {
        return false;
    }
    matches_raw(filter, name)
}

/// Level-by-level matching without the `$` rule (and without unsharing).
#[inline]
pub fn matches_raw(filter: &[u8], name: &[u8]) -> bool {
    // Most filters are a literal topic or a literal prefix ending in `/#`:
    // those are one comparison, inline where a rule matches each PUBLISH.
    match wildcard_at(filter) {
        None => filter == name,
        Some(0) if filter == b"#" => true,
        Some(k) if k + 1 == filter.len() && filter[k] == b'#' && filter[k - 1] == b'/' => {
            // "a/b/#" matches "a/b" and everything under "a/b/".
            name.starts_with(&filter[..k]) || name == &filter[..k - 1]
        }
        Some(_) => matches_levels(filter, name),
    }
}

/// [`matches_raw`] for the other filters, level by level (out of line: the
/// inline part stays small).
#[inline(never)]
fn matches_levels(filter: &[u8], name: &[u8]) -> bool {
    let is_hash_level = |rest: &[u8]| rest == b"#" || rest.starts_with(b"#/");
    let (mut f, mut n) = (filter, name);
    loop {
        let f_end = f.iter().position(|b| *b == b'/');
        let level = &f[..f_end.unwrap_or(f.len())];
        if level == b"#" {
            return true;
        }
        let n_end = n.iter().position(|b| *b == b'/');
        if level != b"+" && level != &n[..n_end.unwrap_or(n.len())] {
            return false;
        }
        match (f_end, n_end) {
            (Some(a), Some(b)) => {
                f = &f[a + 1..];
                n = &n[b + 1..];
            }
            (None, None) => return true,
            // The name has no more levels: only a `#` level may follow.
            (Some(a), None) => return is_hash_level(&f[a + 1..]),
            (None, Some(_)) => return false,
        }
    }
}

/// The filter of a 5.0 shared subscription (`$share/group/filter` → `filter`);
/// other filters unchanged.
pub fn unshared(filter: &[u8]) -> &[u8] {
    if let Some(rest) = filter.strip_prefix(b"$share/") {
        if let Some(pos) = rest.iter().position(|b| *b == b'/') {
            return &rest[pos + 1..];
        }
    }
    filter
}

/// Whether a filter starts with a wildcard (`#` or `+`), after unsharing.
pub fn starts_with_wildcard(filter: &[u8]) -> bool {
    matches!(unshared(filter).first(), Some(b'#') | Some(b'+'))
}

/// Whether `t` contains a wildcard character (`#` or `+`).
pub fn has_wildcard(t: &[u8]) -> bool {
    wildcard_at(t).is_some()
}

/// The position of the first wildcard character (`#` or `+`) in `t`. Eight
/// bytes at a time: the two differ only in bit 3, so setting that bit turns
/// both into `+`, and a byte is `+` exactly when its XOR with `+` is zero.
/// The usual zero-byte test flags that byte; it may also flag bytes above a
/// zero byte (a borrow), never below, so the lowest flag is the first one.
fn wildcard_at(t: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    const BIT3: u64 = u64::from_le_bytes([0x08; 8]);
    const PLUS: u64 = u64::from_le_bytes([b'+'; 8]);
    let first = |word: [u8; 8]| {
        let v = (u64::from_le_bytes(word) | BIT3) ^ PLUS;
        let flags = v.wrapping_sub(ONES) & !v & HIGHS;
        (flags != 0).then(|| (flags.trailing_zeros() / 8) as usize)
    };
    let mut words = t.chunks_exact(8);
    let mut at = 0;
    for w in &mut words {
        let mut a = [0; 8];
        a.copy_from_slice(w);
        if let Some(i) = first(a) {
            return Some(at + i);
        }
        at += 8;
    }
    // The tail, padded with zero bytes (not wildcards).
    let tail = words.remainder();
    let mut a = [0; 8];
    a[..tail.len()].copy_from_slice(tail);
    first(a).map(|i| at + i)
}

/// What is wrong with a topic name or filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// Zero length (4.7.3-1).
    Empty,
    /// Contains U+0000 (4.7.3-2).
    NullCharacter,
    /// Longer than 65535 bytes (4.7.3-3).
    TooLong,
    /// A topic name containing `#` or `+` (4.7.1-1).
    WildcardInName,
    /// `#` not alone in the last level (4.7.1-2).
    MisplacedMultiLevel,
    /// `+` not alone in its level (4.7.1-3).
    MisplacedSingleLevel,
}

fn common(t: &[u8]) -> Option<Invalid> {
    if t.is_empty() {
        Some(Invalid::Empty)
    } else if t.contains(&0) {
        Some(Invalid::NullCharacter)
    } else if t.len() > 65535 {
        Some(Invalid::TooLong)
    } else {
        None
    }
}

/// The first problem of a topic name, if any.
pub fn check_name(name: &[u8]) -> Option<Invalid> {
    common(name).or_else(|| has_wildcard(name).then_some(Invalid::WildcardInName))
}

/// The first problem of a topic filter, if any.
pub fn check_filter(filter: &[u8]) -> Option<Invalid> {
    if let Some(e) = common(filter) {
        return Some(e);
    }
    let levels: Vec<&[u8]> = filter.split(|b| *b == b'/').collect();
    let last = levels.len() - 1;
    for (i, level) in levels.iter().enumerate() {
        if level.contains(&b'#') && (*level != b"#" || i != last) {
            return Some(Invalid::MisplacedMultiLevel);
        }
        if level.contains(&b'+') && *level != b"+" {
            return Some(Invalid::MisplacedSingleLevel);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("sport/tennis/player1/#", "sport/tennis/player1", true)]
    #[case("sport/tennis/player1/#", "sport/tennis/player1/ranking", true)]
    #[case("sport/#", "sport", true)]
    #[case("#", "a/b/c", true)]
    #[case("sport/tennis/+", "sport/tennis/player1", true)]
    #[case("sport/tennis/+", "sport/tennis/player1/ranking", false)]
    #[case("sport/+", "sport", false)]
    #[case("sport/+", "sport/", true)]
    #[case("+/+", "/finance", true)]
    #[case("/+", "/finance", true)]
    #[case("+", "/finance", false)]
    #[case("a/b", "a/b", true)]
    #[case("a/b", "a/B", false)]
    #[case("a/b", "a/b/c", false)]
    #[case("#", "$SYS/x", false)]
    #[case("+/monitor/Clients", "$SYS/monitor/Clients", false)]
    #[case("$SYS/#", "$SYS/monitor/Clients", true)]
    #[case("$SYS/monitor/+", "$SYS/monitor/Clients", true)]
    #[case("$share/g/a/+", "a/b", true)]
    fn matching(#[case] filter: &str, #[case] name: &str, #[case] expected: bool) {
        assert_eq!(matches(filter.as_bytes(), name.as_bytes()), expected);
    }

    /// Level-by-level matching as the specification words it.
    fn matches_by_levels(filter: &[u8], name: &[u8]) -> bool {
        let mut f = filter.split(|b| *b == b'/');
        let mut n = name.split(|b| *b == b'/');
        loop {
            match (f.next(), n.next()) {
                (Some(b"#"), _) => return true,
                (Some(b"+"), Some(_)) => {}
                (Some(fl), Some(nl)) if fl == nl => {}
                (None, None) => return true,
                _ => return false,
            }
        }
    }

    /// `matches_raw` gives what level-by-level matching gives.
    fn agree(filter: &str, name: &str) -> Result<(), proptest::test_runner::TestCaseError> {
        proptest::prop_assert_eq!(
            matches_raw(filter.as_bytes(), name.as_bytes()),
            matches_by_levels(filter.as_bytes(), name.as_bytes()),
            "filter {:?} name {:?}",
            filter,
            name
        );
        Ok(())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        #[test]
        fn matching_agrees_with_level_matching(
            filter in "[ab/+#]{0,8}",
            name in "[ab/+#]{0,8}",
        ) {
            agree(&filter, &name)?;
        }

        /// Literal filters and literal prefixes ending in `/#` (the short cuts).
        #[test]
        fn common_filters_agree_with_level_matching(
            prefix in "[ab/]{0,6}",
            hash in proptest::bool::ANY,
            name in "[ab/]{0,8}",
        ) {
            let filter = if hash { format!("{prefix}/#") } else { prefix };
            agree(&filter, &name)?;
        }

        /// The word-at-a-time scan finds exactly the bytes `#` and `+`, at
        /// any position, among bytes that differ from them in one bit.
        #[test]
        fn wildcard_scan_agrees_with_a_byte_scan(
            t in proptest::collection::vec(
                proptest::sample::select(vec![b'#', b'+', b'a', b'/', 0x03, 0x0b, 0xa3, 0xab, 0x2a, 0x22, 0x00, 0xff]),
                0..40,
            ),
        ) {
            proptest::prop_assert_eq!(
                has_wildcard(&t),
                t.iter().any(|b| *b == b'#' || *b == b'+'),
                "{:?}", t
            );
            proptest::prop_assert_eq!(
                wildcard_at(&t),
                t.iter().position(|b| *b == b'#' || *b == b'+'),
                "{:?}", t
            );
        }
    }

    #[test]
    fn raw_matching_ignores_the_dollar_rule() {
        assert!(matches_raw(b"#", b"$SYS/x"));
        assert!(matches_raw(b"+/x", b"$SYS/x"));
    }

    #[rstest]
    #[case("a/b", None)]
    #[case("", Some(Invalid::Empty))]
    #[case("a/+", Some(Invalid::WildcardInName))]
    #[case("a/#", Some(Invalid::WildcardInName))]
    #[case("a\0b", Some(Invalid::NullCharacter))]
    fn names(#[case] name: &str, #[case] expected: Option<Invalid>) {
        assert_eq!(check_name(name.as_bytes()), expected);
    }

    #[rstest]
    #[case("#", None)]
    #[case("a/#", None)]
    #[case("+/a/+", None)]
    #[case("/", None)]
    #[case("a#", Some(Invalid::MisplacedMultiLevel))]
    #[case("a/#/b", Some(Invalid::MisplacedMultiLevel))]
    #[case("a+", Some(Invalid::MisplacedSingleLevel))]
    #[case("a/+b", Some(Invalid::MisplacedSingleLevel))]
    #[case("", Some(Invalid::Empty))]
    fn filters(#[case] filter: &str, #[case] expected: Option<Invalid>) {
        assert_eq!(check_filter(filter.as_bytes()), expected);
    }

    #[test]
    fn overlong_is_invalid() {
        assert_eq!(check_name(&vec![b'a'; 65536]), Some(Invalid::TooLong));
    }
}
