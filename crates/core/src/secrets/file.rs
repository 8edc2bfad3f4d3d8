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
//! - after a closing quote only blanks and a `#` comment may follow;
//! - an unquoted value is also scanned for as other dotenv readers take it, under the same
//!   name: the text before a `#` (`a#b` reads `a` to some), without surrounding Unicode white
//!   space (a no-break space), and between backticks; a reading shorter than
//!   [`MIN_VALUE_LEN`] is left out.
//!
//! In both forms a name is `[A-Za-z_][A-Za-z0-9_]*` and a value must be at least
//! [`MIN_VALUE_LEN`] bytes long (the validator refuses to scan for shorter values: they would
//! match all over a log; refusing them here gives the line).
//!
//! Errors name the file, the line (for JSON: where the parser stood, and the entry's 1-based
//! position) and nothing else of a dotenv line: not a value, not the line's text and not even
//! the name before `=`, since a line that does not parse, or whose value is empty or short,
//! may be a value that lost its `NAME=` (`dG9rZW4xMjM=` reads as the name `dG9rZW4xMjM` with
//! an empty value). Only a JSON entry whose key is a valid name and whose value is not a
//! string names the secret. A file that cannot be read is not named at all (see
//! [`SecretsFileError::Read`]); a file that could be read is named by its path.
//!
//! ```
//! use agentlog_core::secrets::file::parse_secrets;
//! let text = "\u{feff}# API keys\nexport OPENAI_API_KEY = \"sk-abc\\\"def\" # rotated\nHOOK=a#b-hook-value\n";
//! let secrets = parse_secrets(text, "secrets.env").unwrap();
//! assert_eq!(secrets[0].name(), "OPENAI_API_KEY");
//! assert_eq!(secrets[0].expose(), "sk-abc\"def");
//! assert_eq!(secrets[1].expose(), "a#b-hook-value");
//! let err = parse_secrets("sk-forgot-the-name\n", "secrets.env").unwrap_err();
//! assert_eq!(err.to_string().contains("sk-forgot"), false);
//! // A base64 value without `NAME=`: its padding is taken for the `=`, and the would-be name
//! // (most of the value) is not shown.
//! let err = parse_secrets("dG9rZW4xMjM=\n", "secrets.env").unwrap_err();
//! assert_eq!(err.to_string(), "secrets file secrets.env line 1: the value is empty");
//! ```

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::path::Path;

use serde::de::{Deserializer as _, Error as _, MapAccess, Visitor};

use super::{Secret, SecretValue, is_valid_name};

/// The shortest value a secrets file may hold, in bytes: [`super::MIN_SECRET_LEN`], the one
/// rule. A shorter value would match all over a log; the validator refuses it too, but only
/// by the secret's name, which here may be part of a value, so the file refuses it first.
pub const MIN_VALUE_LEN: usize = super::MIN_SECRET_LEN;

/// Why a secrets file was refused. Messages name the file (unless it could not be read), a
/// line, at most a JSON entry's position or (valid) name; never a value, never a line's text,
/// never the name of a dotenv line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretsFileError {
    /// The file could not be opened or read. The path is not part of the error: the text
    /// given as a path may be a secret typed where the path belongs (`--secrets-file
    /// KEY=value`), so the caller names the file by its position on its command line.
    #[error("cannot read the secrets file: {source}")]
    Read {
        /// The I/O error (it never contains the path).
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
    /// A quoted value has no closing quote on its line (dotenv).
    #[error("secrets file {file} line {line}: the value has no closing quote")]
    UnterminatedQuote {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
    },
    /// Something other than a `#` comment follows a closing quote (dotenv).
    #[error(
        "secrets file {file} line {line}: only a `#` comment may follow the closing quote of the value"
    )]
    TrailingText {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
    },
    /// The value is empty. A dotenv line is not named: `dG9rZW4xMjM=` (a base64 value whose
    /// `NAME=` was forgotten) reads as an empty value whose "name" is most of the value.
    #[error("secrets file {file} line {line}: {entry}the value is empty")]
    EmptyValue {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// `entry N: ` for JSON, empty for dotenv.
        entry: EntryLabel,
    },
    /// A dotenv value of nothing but `=`: a base64 value given without `NAME=`, whose padding
    /// was taken for the separator (`dG9rZW4xMg==`).
    #[error(
        "secrets file {file} line {line}: the value after `=` is only `=` characters; this looks like a base64 value given without NAME="
    )]
    PaddingOnly {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
    },
    /// The value is shorter than [`MIN_VALUE_LEN`] bytes.
    #[error(
        "secrets file {file} line {line}: {entry}the value is shorter than {MIN_VALUE_LEN} bytes and would match all over a log"
    )]
    TooShort {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// `entry N: ` for JSON, empty for dotenv.
        entry: EntryLabel,
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
///
/// A file that cannot be opened or read gives [`SecretsFileError::Read`], which does not name
/// it; every other error names it by `path`.
pub fn read_secrets_file(path: &Path) -> Result<Vec<Secret>, SecretsFileError> {
    let bytes = std::fs::read(path).map_err(|source| SecretsFileError::Read { source })?;
    let file = path.display().to_string();
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = e
            .as_bytes()
            .get(..e.utf8_error().valid_up_to())
            .unwrap_or_default();
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
    NotAString { entry: usize },
    Empty { entry: usize },
    TooShort { entry: usize },
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
                serde_json::Value::String(value) if valid && value.len() >= MIN_VALUE_LEN => {
                    out.push(Secret::new(name, SecretValue::new(value), vec![]));
                    continue;
                }
                serde_json::Value::String(value) if valid && value.is_empty() => {
                    EntryProblem::Empty { entry }
                }
                serde_json::Value::String(_) if valid => EntryProblem::TooShort { entry },
                serde_json::Value::String(_) => EntryProblem::BadName { entry },
                _ => EntryProblem::NotAString { entry },
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
            Some(EntryProblem::NotAString { entry }) => SecretsFileError::NotAString {
                file,
                line,
                // Named by position, never by name: a name may be another secret's value
                // (the error is printed before the output gate knows the secrets).
                what: format!("entry {entry}"),
            },
            Some(EntryProblem::Empty { entry }) => SecretsFileError::EmptyValue {
                file,
                line,
                entry: EntryLabel(Some(entry)),
            },
            Some(EntryProblem::TooShort { entry }) => SecretsFileError::TooShort {
                file,
                line,
                entry: EntryLabel(Some(entry)),
            },
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
        // From here on the name is valid, but it is still not shown: the line may be a value
        // that lost its `NAME=` and holds a `=` of its own.
        let (file, line) = (origin.to_owned(), line_no);
        let problem = match dotenv_value(rest) {
            Err(ValueError::Unterminated) => SecretsFileError::UnterminatedQuote { file, line },
            Err(ValueError::Trailing) => SecretsFileError::TrailingText { file, line },
            Ok(value) if value.is_empty() => SecretsFileError::EmptyValue {
                file,
                line,
                entry: EntryLabel(None),
            },
            Ok(value) if value.bytes().all(|b| b == b'=') => {
                SecretsFileError::PaddingOnly { file, line }
            }
            Ok(value) if value.len() < MIN_VALUE_LEN => SecretsFileError::TooShort {
                file,
                line,
                entry: EntryLabel(None),
            },
            Ok(value) => {
                let quoted = rest.trim_start_matches(is_blank).starts_with(['\'', '"']);
                let readings = other_readings(&value, quoted);
                out.push(Secret::new(name, SecretValue::new(value), vec![]));
                for reading in readings {
                    out.push(Secret::new(name, SecretValue::new(reading), vec![]));
                }
                continue;
            }
        };
        return Err(problem);
    }
    Ok(out)
}

/// The values other dotenv readers take from an unquoted `value` (this reader's value
/// stays the first secret; these are scanned for too, under the same name): the text before
/// a `#` (a comment to readers that need no blank before it), the value without surrounding
/// Unicode white space (a no-break space), and the text between backticks (a quote to
/// some). Readings shorter than [`MIN_VALUE_LEN`] are left out.
fn other_readings(value: &str, quoted: bool) -> Vec<String> {
    if quoted {
        return Vec::new();
    }
    let mut readings: Vec<String> = Vec::new();
    let before_hash = value.split('#').next().unwrap_or(value);
    let candidates = [
        before_hash.trim(),
        value.trim(),
        value
            .strip_prefix('`')
            .and_then(|v| v.strip_suffix('`'))
            .unwrap_or(value),
    ];
    for reading in candidates {
        if reading != value
            && reading.len() >= MIN_VALUE_LEN
            && !readings.iter().any(|r| r == reading)
        {
            readings.push(reading.to_owned());
        }
    }
    readings
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
            ("exported=x-value-1", &[("exported", "x-value-1")]),
            ("export=x-value-1", &[("export", "x-value-1")]),
            ("  A  =  spaced value  ", &[("A", "spaced value")]),
            ("_a1=v-value-1", &[("_a1", "v-value-1")]),
            // Quotes.
            (
                "A='lit \\n \"q\" # not a comment'",
                &[("A", "lit \\n \"q\" # not a comment")],
            ),
            ("A=\"xxxx\\nyyyy\"", &[("A", "xxxx\nyyyy")]),
            (
                "A=\"say \\\"hi\\\" \\\\ \\t\"",
                &[("A", "say \"hi\" \\ \\t")],
            ),
            ("A=\"with # hash\"", &[("A", "with # hash")]),
            // Inline comments.
            ("A=the-value # rotated 2026-05", &[("A", "the-value")]),
            ("A=the-value\t# tab comment", &[("A", "the-value")]),
            ("A=a#b-value", &[("A", "a#b-value")]),
            ("A=#leading", &[("A", "#leading")]),
            ("A=a#b-value #c", &[("A", "a#b-value")]),
            // Comment after a closing quote.
            ("A='quoted-value' # c", &[("A", "quoted-value")]),
            ("A=\"quoted-value\"# c", &[("A", "quoted-value")]),
            ("A=\"quoted-value\"   ", &[("A", "quoted-value")]),
            // CRLF.
            (
                "# c\r\nA=alpha-value\r\nB='beta-value'\r\n\r\nC=\"c-value-1\" # x\r\n",
                &[
                    ("A", "alpha-value"),
                    ("B", "beta-value"),
                    ("C", "c-value-1"),
                ],
            ),
            ("A = v = w = x", &[("A", "v = w = x")]),
        ];
        for (text, expected) in cases {
            let expected: Vec<(String, String)> = expected
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect();
            assert_eq!(pairs(text), expected, "{text:?}");
        }
    }

    #[allow(clippy::too_many_lines)] // one table of cases, read row by row
    #[test]
    fn errors_name_file_line_and_name_never_the_value() {
        const V: &str = "sk-THEVALUE123";
        // (text, expected fragments, text the message must not contain besides the value)
        let cases: &[(String, &[&str], &[&str])] = &[
            // A line that is neither a comment nor NAME=VALUE (a value that lost its name).
            (
                format!("# c\nA=ok-value\n{V}\n"),
                &["s.env line 3", "expected NAME=VALUE"],
                &[],
            ),
            // A bad name: the part before `=` may be a value.
            (
                format!("{V}=x\n"),
                &["s.env line 1", "not a valid name"],
                &[],
            ),
            (
                format!("\nexport 1{V} = x\n"),
                &["s.env line 2", "not a valid name"],
                &[],
            ),
            (
                format!("MY KEY={V}\n"),
                &["s.env line 1", "not a valid name"],
                &["MY"],
            ),
            // Quotes: the line is not well-formed, so even a valid name is not shown.
            (
                format!("A=ok-value\nKEY='{V}\n"),
                &["s.env line 2: the value has no closing quote"],
                &["KEY"],
            ),
            (
                format!("KEY=\"{V}\\\"\n"),
                &["s.env line 1: the value has no closing quote"],
                &["KEY"],
            ),
            (
                format!("KEY='{V}' {V}\n"),
                &["s.env line 1: only a `#` comment may follow the closing quote"],
                &["KEY"],
            ),
            // Empty and short values: the name may be part of a value.
            (
                "A=ok-value\n\nKEY= # nothing\n".to_owned(),
                &["s.env line 3: the value is empty"],
                &["KEY"],
            ),
            (
                "KEY=''".to_owned(),
                &["s.env line 1: the value is empty"],
                &["KEY"],
            ),
            // base64 values without NAME=: `=` padding reads as NAME= and an empty value,
            // `==` as NAME= and the value `=`.
            (
                "dG9rZW4xMjM=\n".to_owned(),
                &["s.env line 1: the value is empty"],
                &["dG9rZW4", "W4xMjM"],
            ),
            (
                "# c\ndG9rZW4xMg==\n".to_owned(),
                &[
                    "s.env line 2: the value after `=` is only `=` characters",
                    "base64 value given without NAME=",
                ],
                &["dG9rZW4", "W4xMg"],
            ),
            (
                "A=ok-value\nSHORT=1234567\n".to_owned(),
                &["s.env line 2: the value is shorter than 8 bytes"],
                &["SHORT", "1234567"],
            ),
            (
                "THEVALUE12=x\n".to_owned(),
                &["s.env line 1: the value is shorter than 8 bytes"],
                &[],
            ),
            // JSON: a non-string value names its entry by position, never by name (a name
            // may be another secret's value).
            (
                format!("{{\"A\": \"{V}\",\n \"KEY\": [\"{V}\"]}}"),
                &["s.env line 2", "entry 2", "not a string"],
                &["KEY"],
            ),
            (
                format!("{{\"A\": \"x-value-1\",\n\n \"{V}\": 12}}"),
                &["s.env line 3", "entry 2", "not a string"],
                &[],
            ),
            (
                format!("\u{feff}{{\"{V}\": \"x-value-1\"}}"),
                &["s.env line 1", "entry 1", "not a valid name"],
                &[],
            ),
            // JSON: empty and short values give the entry, not the name.
            (
                "{\"KEY\": \"\"}".to_owned(),
                &["s.env line 1: entry 1: the value is empty"],
                &["KEY"],
            ),
            (
                "{\"A\": \"x-value-1\",\n \"KEY\": \"tiny-1\"}".to_owned(),
                &["s.env line 2: entry 2: the value is shorter than 8 bytes"],
                &["KEY", "tiny"],
            ),
            (
                format!("{{\"KEY\": \"{V}\"\n \"B\": 1}}"),
                &["s.env line 2", "not a JSON object"],
                &[],
            ),
            (
                format!("{{\"KEY\": \"{V}\"}} {V}"),
                &["s.env line 1", "not a JSON object"],
                &[],
            ),
            (
                format!("{{\"KEY\": \"{V}"),
                &["s.env line 1", "not a JSON object"],
                &[],
            ),
        ];
        for (text, fragments, absent) in cases {
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
            for text_of_line in absent.iter().chain(&["THEVALUE"]) {
                assert!(
                    !err.contains(text_of_line),
                    "{text:?}: {err:?} shows {text_of_line:?}"
                );
            }
        }
    }

    #[test]
    fn other_readers_readings_of_an_unquoted_value_are_secrets_too() {
        let values = |text: &str| -> Vec<String> {
            parse_secrets(text, "s.env")
                .unwrap()
                .iter()
                .map(|s| s.expose().to_owned())
                .collect()
        };
        assert_eq!(
            values("K=abcdefgh1234#comment-ish\n"),
            ["abcdefgh1234#comment-ish", "abcdefgh1234"]
        );
        assert_eq!(
            values("K=Zq7vK2pX9mW4\u{a0}\n"),
            ["Zq7vK2pX9mW4\u{a0}", "Zq7vK2pX9mW4"]
        );
        assert_eq!(
            values("K=`Zq7vK2pX9mW4`\n"),
            ["`Zq7vK2pX9mW4`", "Zq7vK2pX9mW4"]
        );
        // Quoted values are read one way only; short readings are left out.
        assert_eq!(values("K='abcdefgh1234#x'\n"), ["abcdefgh1234#x"]);
        assert_eq!(values("K=abc#defghijkl\n"), ["abc#defghijkl"]);
    }

    #[test]
    fn values_of_eight_bytes_are_the_shortest_accepted() {
        assert_eq!(MIN_VALUE_LEN, 8);
        assert_eq!(
            pairs("A=12345678"),
            [("A".to_owned(), "12345678".to_owned())]
        );
        assert_eq!(
            pairs("{\"A\": \"12345678\"}"),
            [("A".to_owned(), "12345678".to_owned())]
        );
        for text in ["A=1234567", "A='1234567'", "{\"A\": \"1234567\"}"] {
            let err = parse_secrets(text, "s.env").unwrap_err();
            assert!(
                matches!(err, SecretsFileError::TooShort { line: 1, .. }),
                "{text}: {err}"
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
        std::fs::write(&path, b"A=ok-value\nB=\xff\xfe\n").unwrap();
        let err = read_secrets_file(&path).unwrap_err().to_string();
        // A file that exists is named by its path.
        assert!(
            err.contains(&path.display().to_string())
                && err.contains("line 2")
                && err.contains("UTF-8"),
            "{err}"
        );
        // One that cannot be read is not: the path given may be a secret.
        let missing = dir.path().join("KEY=sk-THEVALUE123");
        let err = read_secrets_file(&missing).unwrap_err();
        assert!(matches!(err, SecretsFileError::Read { .. }), "{err}");
        let err = err.to_string();
        assert!(err.starts_with("cannot read the secrets file: "), "{err}");
        assert!(!err.contains("THEVALUE") && !err.contains("KEY"), "{err}");
    }
}
