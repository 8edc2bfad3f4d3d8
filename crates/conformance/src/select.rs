//! Which cases a port declares unsupported: the `--unsupported GLOB` and
//! `--unsupported-from FILE` flags shared by both harnesses.
//!
//! The model: a port that does not implement part of the specification (say, the v1 profile,
//! or HTTP/2 through its proxy) says so up front, as a list of **globs over case ids**. A case
//! whose id matches one of them is not run and is reported as *unsupported*, never as a pass;
//! every other case must pass. The list is plain data, so a port keeps it in its repository
//! next to the command it runs the harness with:
//!
//! ```text
//! # unsupported.txt: what our Python port does not do (yet)
//! validate/v1_*
//! validate/ledger_*
//! proxy/http2_*
//! ```
//!
//! A glob is matched against the **whole** id (`validate/NAME`, `proxy/NAME`,
//! `ledger/hash_vectors`). `*` matches any run of characters, including none and including
//! `/`; every other character matches itself (ids contain no other wildcard). So
//! `validate/v1_*` matches `validate/v1_data_type` but not `validate/auto_v1_go_writer`,
//! `*` matches every case, and `validate/line_torn` only that case. One list may name cases of
//! both harnesses: each harness only looks at the ids it runs.
//!
//! ```
//! use agentlog_conformance::select::Unsupported;
//!
//! let mut unsupported = Unsupported::from_globs(["validate/v1_*"]);
//! unsupported.extend(Unsupported::parse_list("# ledger is later\nvalidate/ledger_*\n\n"));
//! assert!(unsupported.matches("validate/v1_data_type"));
//! assert!(unsupported.matches("validate/ledger_valid"));
//! assert!(!unsupported.matches("validate/auto_v1_go_writer"));
//! ```

use std::path::{Path, PathBuf};

/// Whether `id` matches `glob` as a whole, `*` matching any run of characters (including
/// none and including `/`), every other character itself.
pub(crate) fn glob_match(glob: &str, id: &str) -> bool {
    let mut parts = glob.split('*');
    // `split` always yields at least one piece: the text before the first `*`.
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = id.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = parts.collect();
    let Some((last, middle)) = pieces.split_last() else {
        // No `*`: the glob is the id.
        return rest.is_empty();
    };
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    // The last piece anchors at the end; what is left before it is the last `*`'s.
    rest.len() >= last.len() && rest.ends_with(last)
}

/// The globs of the cases a port declares unsupported (see the module documentation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unsupported {
    globs: Vec<String>,
}

/// Why an `--unsupported-from` file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("read the unsupported list {path}: {source}")]
pub struct ListError {
    /// The file as given.
    pub path: String,
    /// The operating system's error.
    pub source: std::io::Error,
}

impl Unsupported {
    /// A list of the given globs (the repeatable `--unsupported GLOB`).
    pub fn from_globs<I, S>(globs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Unsupported {
            globs: globs.into_iter().map(Into::into).collect(),
        }
    }

    /// The globs of a list file's text: one glob per line, surrounding whitespace trimmed,
    /// blank lines and lines starting with `#` ignored.
    pub fn parse_list(text: &str) -> Self {
        Self::from_globs(
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with('#')),
        )
    }

    /// Reads a list file (`--unsupported-from FILE`), as [`Unsupported::parse_list`] parses it.
    pub fn read_list(path: &Path) -> Result<Self, ListError> {
        std::fs::read_to_string(path)
            .map(|text| Self::parse_list(&text))
            .map_err(|source| ListError {
                path: path.display().to_string(),
                source,
            })
    }

    /// The list a harness's command line declares: the `--unsupported GLOB` values, then the
    /// globs of each `--unsupported-from FILE` in order; the first unreadable file is the
    /// error.
    pub fn from_flags(globs: &[String], files: &[PathBuf]) -> Result<Self, ListError> {
        let mut list = Self::from_globs(globs.iter().cloned());
        for path in files {
            list.extend(Self::read_list(path)?);
        }
        Ok(list)
    }

    /// Adds the globs of `other` (e.g. a file's to the command line's).
    pub fn extend(&mut self, other: Unsupported) {
        self.globs.extend(other.globs);
    }

    /// Whether the case `id` is declared unsupported: some glob matches it.
    pub fn matches(&self, id: &str) -> bool {
        self.globs.iter().any(|glob| glob_match(glob, id))
    }

    /// The globs, in the order given.
    pub fn globs(&self) -> &[String] {
        &self.globs
    }

    /// The globs that match none of `ids`: most likely a typo, worth a warning, since a glob
    /// that matches nothing declares nothing.
    pub fn unused<'a>(&'a self, ids: &[&str]) -> Vec<&'a str> {
        self.globs
            .iter()
            .filter(|glob| !ids.iter().any(|id| glob_match(glob, id)))
            .map(String::as_str)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_ids() {
        let cases = [
            ("validate/v1_*", "validate/v1_data_type", true),
            ("validate/v1_*", "validate/v1_", true),
            ("validate/v1_*", "validate/auto_v1_go_writer", false),
            ("*", "proxy/anything", true),
            ("*", "", true),
            ("validate/*_empty", "validate/input_empty", true),
            ("validate/*_empty", "validate/input_empty_allowed", false),
            ("*empty*", "validate/input_empty_allowed", true),
            ("a*b*c", "abc", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "acb", false),
            // The last piece must not overlap the earlier ones.
            ("ab*ba", "aba", false),
            ("validate/line_torn", "validate/line_torn", true),
            ("validate/line", "validate/line_torn", false),
            ("validate/line_torn", "validate/line", false),
            ("**", "x", true),
            ("*_empty*", "validate/input_empty_allowed", true),
            ("validate/v1_*", "proxy/v1_basic", false),
        ];
        for (glob, id, want) in cases {
            assert_eq!(glob_match(glob, id), want, "{glob} vs {id}");
        }
    }

    #[test]
    fn list_files_skip_comments_and_blank_lines() {
        let list = Unsupported::parse_list(
            "# what we skip\n\n  validate/v1_*  \n\t\n# proxy/x\nproxy/h2_*\r\n",
        );
        assert_eq!(list.globs(), ["validate/v1_*", "proxy/h2_*"]);
        assert!(list.matches("proxy/h2_upgrade"));
        assert!(!list.matches("proxy/x"));
        assert_eq!(
            list.unused(&["validate/v1_data_type"]),
            vec!["proxy/h2_*"],
            "the proxy glob matched no id"
        );
    }

    #[test]
    fn flags_and_files_add_up() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("unsupported.txt");
        std::fs::write(&file, "# c\nvalidate/ledger_*\n").unwrap();
        let list = Unsupported::from_flags(&["validate/v1_*".to_owned()], &[file]).unwrap();
        assert_eq!(list.globs(), ["validate/v1_*", "validate/ledger_*"]);
        let missing = [dir.path().join("missing.txt")];
        assert!(Unsupported::from_flags(&[], &missing).is_err());
    }

    #[test]
    fn a_missing_list_file_is_an_error_naming_it() {
        let error = Unsupported::read_list(Path::new("/nonexistent/unsupported.txt")).unwrap_err();
        assert!(error.to_string().contains("/nonexistent/unsupported.txt"));
    }
}
