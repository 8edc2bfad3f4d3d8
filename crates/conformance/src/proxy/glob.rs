//! Selecting scenarios by id: `--only GLOB` and `--unsupported GLOB`.
//!
//! A glob matches a whole id; `*` matches any run of characters (`/` included), every other
//! character itself: `proxy/v1_*`, `*leak*`, `proxy/inject_and_skip`. (A private matcher for
//! now; the validator harness has the same flags.)

/// Whether `glob` matches all of `id`.
pub fn matches(glob: &str, id: &str) -> bool {
    let mut parts = glob.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = id.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Whether any of `globs` matches `id`.
pub fn any(globs: &[String], id: &str) -> bool {
    globs.iter().any(|g| matches(g, id))
}

/// The globs of an `--unsupported-from` file: one per line; blank lines and `#` comments
/// are skipped.
pub fn parse_list(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_matches_any_run() {
        assert!(matches("proxy/v1_*", "proxy/v1_gate_blocked"));
        assert!(!matches("proxy/v1_*", "proxy/leak_blocked"));
        assert!(matches("*leak*", "proxy/v1_leak_blocked"));
        assert!(matches("proxy/x", "proxy/x"));
        assert!(!matches("proxy/x", "proxy/xy"));
        assert!(matches("*", ""));
        assert!(matches("a*b*b", "abb"));
        assert!(!matches("a*bb*b", "abb"));
    }

    #[test]
    fn list_skips_comments_and_blanks() {
        assert_eq!(
            parse_list("# c\nproxy/a  # why\n\n proxy/b*\n"),
            ["proxy/a", "proxy/b*"]
        );
    }
}
