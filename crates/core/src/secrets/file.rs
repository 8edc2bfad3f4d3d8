//! Secrets files: the `--secrets-file` of `agentlog validate`.
//!
//! A secrets file is either a JSON object or dotenv lines. Which one is decided by the first
//! character that is not whitespace (after an optional UTF-8 byte order mark): `{` means JSON,
//! anything else dotenv.
//!
//! **JSON**: one object of `"NAME": "value"` entries. Every value must be a string. A key
//! given twice yields two secrets (both values are scanned for).
//!
//! **dotenv**, one entry per line (LF or CR LF line ends):
//!
//! - blank lines and lines whose first non-blank character is `#` are ignored;
//! - `NAME=value` or `export NAME=value`; spaces and tabs around `=` are ignored;
//! - `NAME='value'`: single quotes keep the text between them literally;
//! - `NAME="value"`: double quotes understand `\n` (newline), `\"` and `\\`; any other
//!   backslash is kept as it is;
//! - after an unquoted value, ` # comment` (a `#` preceded by a space or tab) ends the value,
//!   and trailing blanks are dropped; a `#` not preceded by a blank (`a#b`) is part of the
//!   value;
//! - after a closing quote only blanks and a `#` comment may follow.
//!
//! In both forms a name is `[A-Za-z_][A-Za-z0-9_]*` and a value must not be empty.
//!
//! Errors name the file, the line (for JSON: where the parser stood, and the entry's 1-based
//! position) and, once it is known to be a valid name, the secret's name. They never quote a
//! value or a line: a line that does not parse may be a value that lost its `NAME=`.
//!
//! ```
//! use agentlog_core::secrets::file::parse_secrets;
//! let text = "\u{feff}# API keys\nexport OPENAI_API_KEY = \"sk-abc\\\"def\" # rotated\nHOOK=a#b\n";
//! let secrets = parse_secrets(text, "secrets.env").unwrap();
//! assert_eq!(secrets[0].name(), "OPENAI_API_KEY");
//! assert_eq!(secrets[0].expose(), "sk-abc\"def");
//! assert_eq!(secrets[1].expose(), "a#b");
//! let err = parse_secrets("sk-forgot-the-name\n", "secrets.env").unwrap_err();
//! assert_eq!(err.to_string().contains("sk-forgot"), false);
//! ```

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::path::Path;

use serde::de::{Deserializer as _, Error as _, MapAccess, Visitor};

use super::{Secret, SecretValue, is_valid_name};

/// Why a secrets file was refused. Messages name the file, a line and at most a secret's
/// (valid) name; never a value, never a line's text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretsFileError {
    /// The file could not be read.
    #[error("cannot read secrets file {file}: {source}")]
    Read {
        /// The file.
        file: String,
        /// The I/O error.
        source: io::Error,
    },
    /// The file is not UTF-8 text.
    #[error("secrets file {file} line {line}: not UTF-8 text")]
    NotUtf8 {
        /// The file.
        file: String,
        /// The line of the first invalid byte.
        line: usize,
    },
    /// A dotenv line that is neither blank, a comment, nor `NAME=VALUE`.
    #[error(
        "secrets file {file} line {line}: expected NAME=VALUE, `export NAME=VALUE`, a `#` comment or a blank line (the line is not shown: it may hold a value)"
    )]
    NotAnAssignment {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
    },
    /// The part before `=` (dotenv) or a JSON key is not a valid name.
    #[error(
        "secrets file {file} line {line}: {entry}the name is not a valid name (letters, digits and `_`, not starting with a digit; not shown: it may be a value)"
    )]
    BadName {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// `entry N: ` for JSON, empty for dotenv.
        entry: EntryLabel,
    },
    /// A quoted value has no closing quote on its line.
    #[error("secrets file {file} line {line}: secret {name}: the value has no closing quote")]
    UnterminatedQuote {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// The secret's name.
        name: String,
    },
    /// Something other than a `#` comment follows a closing quote.
    #[error(
        "secrets file {file} line {line}: secret {name}: only a `#` comment may follow the closing quote"
    )]
    TrailingText {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// The secret's name.
        name: String,
    },
    /// The value is empty.
    #[error("secrets file {file} line {line}: secret {name}: the value is empty")]
    EmptyValue {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// The secret's name.
        name: String,
    },
    /// The file starts with `{` but is not a JSON object.
    #[error(
        "secrets file {file} line {line}: not a JSON object of \"NAME\": \"value\" entries (syntax error at column {column})"
    )]
    Json {
        /// The file.
        file: String,
        /// 1-based line of the syntax error.
        line: usize,
        /// 1-based column of the syntax error.
        column: usize,
    },
    /// A JSON value is not a string.
    #[error("secrets file {file} line {line}: {what}: the value is not a string")]
    NotAString {
        /// The file.
        file: String,
        /// 1-based line where the value ends.
        line: usize,
        /// `secret NAME` when the key is a valid name, else `entry N`.
        what: String,
    },
}

/// `entry N: ` for a JSON entry, nothing for a dotenv line (part of an error message).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EntryLabel(pub Option<usize>);

impl fmt::Display for EntryLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(n) => write!(f, "entry {n}: "),
            None => Ok(()),
        }
    }
}

/// Reads and parses a secrets file (see the [module documentation](self) for the forms).
pub fn read_secrets_file(path: &Path) -> Result<Vec<Secret>, SecretsFileError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| SecretsFileError::Read {
        file: file.clone(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        SecretsFileError::NotUtf8 {
            file: file.clone(),
            line: 1 + valid.iter().filter(|&&b| b == b'\n').count(),
        }
    })?;
    parse_secrets(&text, &file)
}

/// Parses the text of a secrets file; `origin` names the file in errors.
pub fn parse_secrets(text: &str, origin: &str) -> Result<Vec<Secret>, SecretsFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('{') {
        parse_json(text, origin)
    } else {
        parse_dotenv(text, origin)
    }
}

/// What went wrong with one JSON entry (the serde error only carries the position).
enum EntryProblem {
    BadName { entry: usize },
    NotAString { entry: usize, name: Option<String> },
    Empty { name: String },
}

struct EntriesVisitor<'a> {
    problem: &'a RefCell<Option<EntryProblem>>,
}

impl<'de> Visitor<'de> for EntriesVisitor<'_> {
    type Value = Vec<Secret>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of names to string values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        let mut entry = 0;
        while let Some(name) = map.next_key::<String>()? {
            entry += 1;
            let value: serde_json::Value = map.next_value()?;
            let valid = is_valid_name(&name);
            let problem = match value {
                serde_json::Value::String(value) if valid && !value.is_empty() => {
                    out.push(Secret::new(name, SecretValue::new(value), vec![]));
                    continue;
                }
                serde_json::Value::String(_) if valid => EntryProblem::Empty { name },
                serde_json::Value::String(_) => EntryProblem::BadName { entry },
                _ => EntryProblem::NotAString {
                    entry,
                    name: valid.then_some(name),
                },
            };
            *self.problem.borrow_mut() = Some(problem);
            return Err(A::Error::custom("bad entry"));
        }
        Ok(out)
    }
}

fn parse_json(text: &str, origin: &str) -> Result<Vec<Secret>, SecretsFileError> {
    let problem = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let result = de
        .deserialize_map(EntriesVisitor { problem: &problem })
        .and_then(|secrets| de.end().map(|()| secrets));
    result.map_err(|e| {
        let (file, line) = (origin.to_owned(), e.line());
        // The serde error's text is never used: it may quote the input.
        match problem.into_inner() {
            Some(EntryProblem::BadName { entry }) => SecretsFileError::BadName {
                file,
                line,
                entry: EntryLabel(Some(entry)),
            },
            Some(EntryProblem::NotAString { entry, name }) => SecretsFileError::NotAString {
                file,
                line,
                what: match name {
                    Some(name) => format!("secret {name}"),
                    None => format!("entry {entry}"),
                },
            },
            Some(EntryProblem::Empty { name }) => SecretsFileError::EmptyValue { file, line, name },
            None => SecretsFileError::Json {
                file,
                line,
                column: e.column(),
            },
        }
    })
}

fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn parse_dotenv(text: &str, origin: &str) -> Result<Vec<Secret>, SecretsFileError> {
    let mut out = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line_no = index + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let line = raw.trim_matches(is_blank);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = match line.strip_prefix("export") {
            Some(rest) if rest.starts_with(is_blank) => rest.trim_start_matches(is_blank),
            _ => line,
        };
        let Some((name, rest)) = line.split_once('=') else {
            return Err(SecretsFileError::NotAnAssignment {
                file: origin.to_owned(),
                line: line_no,
            });
        };
        let name = name.trim_end_matches(is_blank);
        if !is_valid_name(name) {
            return Err(SecretsFileError::BadName {
                file: origin.to_owned(),
                line: line_no,
                entry: EntryLabel(None),
            });
        }
        let err = |make: fn(String, usize, String) -> SecretsFileError| {
            make(origin.to_owned(), line_no, name.to_owned())
        };
        let value = dotenv_value(rest).map_err(|e| match e {
            ValueError::Unterminated => {
                err(|file, line, name| SecretsFileError::UnterminatedQuote { file, line, name })
            }
            ValueError::Trailing => {
                err(|file, line, name| SecretsFileError::TrailingText { file, line, name })
            }
        })?;
        if value.is_empty() {
            return Err(err(|file, line, name| SecretsFileError::EmptyValue {
                file,
                line,
                name,
            }));
        }
        out.push(Secret::new(name, SecretValue::new(value), vec![]));
    }
    Ok(out)
}

enum ValueError {
    Unterminated,
    Trailing,
}

/// The value of a dotenv line from the text after `=`.
fn dotenv_value(rest: &str) -> Result<String, ValueError> {
    let trimmed = rest.trim_start_matches(is_blank);
    let (value, after) = if let Some(body) = trimmed.strip_prefix('\'') {
        let end = body.find('\'').ok_or(ValueError::Unterminated)?;
        (body[..end].to_owned(), &body[end + 1..])
    } else if let Some(body) = trimmed.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = body.char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    end = Some(i);
                    break;
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, other)) => {
                        value.push('\\');
                        value.push(other);
                    }
                    None => return Err(ValueError::Unterminated),
                },
                c => value.push(c),
            }
        }
        let end = end.ok_or(ValueError::Unterminated)?;
        (value, &body[end + 1..])
    } else {
        // An unquoted value ends at a `#` that follows a blank: ` # comment`.
        let mut end = rest.len();
        let mut prev_blank = false;
        for (i, c) in rest.char_indices() {
            if c == '#' && prev_blank {
                end = i;
                break;
            }
            prev_blank = is_blank(c);
        }
        return Ok(rest[..end].trim_matches(is_blank).to_owned());
    };
    let after = after.trim_start_matches(is_blank);
    if after.is_empty() || after.starts_with('#') {
        Ok(value)
    } else {
        Err(ValueError::Trailing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse_secrets(text, "s.env")
            .unwrap_or_else(|e| panic!("{text:?}: {e}"))
            .iter()
            .map(|s| (s.name().to_owned(), s.expose().to_owned()))
            .collect()
    }

    #[test]
    fn forms() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            // JSON, with and without a BOM; duplicate keys are both kept.
            (
                "{\"A_KEY\": \"alpha-value\", \"B\": \"beta-value\"}",
                &[("A_KEY", "alpha-value"), ("B", "beta-value")],
            ),
            (
                "\u{feff}{\"A\": \"alpha-value\",\n \"B\": \"beta-value\"}\n",
                &[("A", "alpha-value"), ("B", "beta-value")],
            ),
            (
                "\u{feff}  \n{\"K\": \"one-value\", \"K\": \"two-value\"}",
                &[("K", "one-value"), ("K", "two-value")],
            ),
            ("{}", &[]),
            // dotenv with a BOM, blank and comment lines.
            (
                "\u{feff}# c\n\n  # indented comment\nA=alpha-value\n",
                &[("A", "alpha-value")],
            ),
            ("export A=alpha-value", &[("A", "alpha-value")]),
            ("export\tA = alpha-value", &[("A", "alpha-value")]),
            ("exported=x-value", &[("exported", "x-value")]),
            ("export=x-value", &[("export", "x-value")]),
            ("  A  =  spaced value  ", &[("A", "spaced value")]),
            ("_a1=v", &[("_a1", "v")]),
            // Quotes.
            (
                "A='lit \\n \"q\" # not a comment'",
                &[("A", "lit \\n \"q\" # not a comment")],
            ),
            ("A=\"x\\ny\"", &[("A", "x\ny")]),
            (
                "A=\"say \\\"hi\\\" \\\\ \\t\"",
                &[("A", "say \"hi\" \\ \\t")],
            ),
            ("A=\"with # hash\"", &[("A", "with # hash")]),
            // Inline comments.
            ("A=value # rotated 2026-05", &[("A", "value")]),
            ("A=value\t# tab comment", &[("A", "value")]),
            ("A=a#b", &[("A", "a#b")]),
            ("A=#leading", &[("A", "#leading")]),
            ("A=a#b #c", &[("A", "a#b")]),
            // Comment after a closing quote.
            ("A='quoted' # c", &[("A", "quoted")]),
            ("A=\"quoted\"# c", &[("A", "quoted")]),
            ("A=\"quoted\"   ", &[("A", "quoted")]),
            // CRLF.
            (
                "# c\r\nA=alpha-value\r\nB='beta-value'\r\n\r\nC=\"c\" # x\r\n",
                &[("A", "alpha-value"), ("B", "beta-value"), ("C", "c")],
            ),
            ("A = v = w", &[("A", "v = w")]),
        ];
        for (text, expected) in cases {
            let expected: Vec<(String, String)> = expected
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            assert_eq!(pairs(text), expected, "{text:?}");
        }
    }

    #[test]
    fn errors_name_file_line_and_name_never_the_value() {
        const V: &str = "sk-THEVALUE123";
        // (text, expected fragments, whether the text must not appear)
        let cases: &[(String, &[&str])] = &[
            // A line that is neither a comment nor NAME=VALUE (a value that lost its name).
            (
                format!("# c\nA=ok-value\n{V}\n"),
                &["s.env line 3", "expected NAME=VALUE"],
            ),
            // A bad name: the part before `=` may be a value.
            (format!("{V}=x\n"), &["s.env line 1", "not a valid name"]),
            (
                format!("\nexport 1{V} = x\n"),
                &["s.env line 2", "not a valid name"],
            ),
            (
                format!("MY KEY={V}\n"),
                &["s.env line 1", "not a valid name"],
            ),
            // Quotes.
            (
                format!("A=ok\nKEY='{V}\n"),
                &["line 2", "secret KEY", "closing quote"],
            ),
            (
                format!("KEY=\"{V}\\\"\n"),
                &["line 1", "secret KEY", "closing quote"],
            ),
            (
                format!("KEY='{V}' {V}\n"),
                &["line 1", "secret KEY", "only a `#` comment"],
            ),
            // Empty value.
            (
                "A=ok\n\nKEY= # nothing\n".to_owned(),
                &["line 3", "secret KEY", "empty"],
            ),
            ("KEY=''".to_owned(), &["line 1", "secret KEY", "empty"]),
            // JSON: a non-string value names a valid key, else the entry.
            (
                format!("{{\"A\": \"{V}\",\n \"KEY\": [\"{V}\"]}}"),
                &["s.env line 2", "secret KEY", "not a string"],
            ),
            (
                format!("{{\"A\": \"x-value\",\n\n \"{V}\": 12}}"),
                &["s.env line 3", "entry 2", "not a string"],
            ),
            (
                format!("\u{feff}{{\"{V}\": \"x-value\"}}"),
                &["s.env line 1", "entry 1", "not a valid name"],
            ),
            (
                "{\"KEY\": \"\"}".to_owned(),
                &["s.env line 1", "secret KEY", "empty"],
            ),
            (
                format!("{{\"KEY\": \"{V}\"\n \"B\": 1}}"),
                &["s.env line 2", "not a JSON object"],
            ),
            (
                format!("{{\"KEY\": \"{V}\"}} {V}"),
                &["s.env line 1", "not a JSON object"],
            ),
            (
                format!("{{\"KEY\": \"{V}"),
                &["s.env line 1", "not a JSON object"],
            ),
        ];
        for (text, fragments) in cases {
            let err = parse_secrets(text, "s.env")
                .err()
                .unwrap_or_else(|| panic!("{text:?} parsed"))
                .to_string();
            for fragment in *fragments {
                assert!(
                    err.contains(fragment),
                    "{text:?}: {err:?} lacks {fragment:?}"
                );
            }
            assert!(
                !err.contains("THEVALUE"),
                "{text:?}: {err:?} leaks the value"
            );
        }
    }

    #[test]
    fn reads_files_and_refuses_non_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        std::fs::write(&path, "\u{feff}{\"TOKEN\": \"tok-value-1\"}").unwrap();
        let secrets = read_secrets_file(&path).unwrap();
        assert_eq!(
            (secrets[0].name(), secrets[0].expose()),
            ("TOKEN", "tok-value-1")
        );
        std::fs::write(&path, b"A=ok\nB=\xff\xfe\n").unwrap();
        let err = read_secrets_file(&path).unwrap_err().to_string();
        assert!(err.contains("line 2") && err.contains("UTF-8"), "{err}");
        let err = read_secrets_file(&dir.path().join("missing")).unwrap_err();
        assert!(matches!(err, SecretsFileError::Read { .. }), "{err}");
    }
}
