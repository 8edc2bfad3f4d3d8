//! The oracle, independent of the product's scanner: every encoded form of every secret is
//! computed here and searched for in the output bytes, and again in the output decoded
//! (JSON-unescaped, percent-decoded, HTML-unescaped, `\x`-decoded, separated hex joined,
//! line breaks removed for base64, JSON-pointer-unescaped, digit groups joined, and as a
//! terminal would show it: backspaces, carriage returns, ANSI sequences and bidi overrides
//! applied). Rust's own `\u{...}` escapes are NOT decoded: they are how an output shows a
//! control character without printing it.
//!
//! Also the checks of form: no raw control or bidi character in a text output, JSON parses,
//! JUnit parses, SARIF validates against the official 2.1.0 schema, every GitHub line is a
//! workflow command.

use std::collections::HashSet;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

/// A form of a secret that must not appear.
struct Form {
    secret: usize,
    encoding: &'static str,
    text: String,
    /// Matched in any ASCII case (hex).
    any_case: bool,
    /// Only searched where base64 is (the view without line breaks).
    base64: bool,
}

pub struct Oracle {
    values: Vec<String>,
    forms: Vec<Form>,
}

/// The base64 characters fully determined by `bytes` when they start `offset` bytes into a
/// blob, in both alphabets.
fn base64_cores(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for offset in 0..3 {
        let mut blob = vec![0u8; offset];
        blob.extend_from_slice(bytes);
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            let text = engine.encode(&blob);
            let start = (offset * 8).div_ceil(6);
            let end = (blob.len() * 8) / 6;
            if end > start + 8 {
                out.push(text[start..end].to_owned());
            }
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Oracle {
    /// For a command that cannot know the values (no `--secret` option): built-in credential
    /// formats only, which the product recognises in text and its decoded views, never
    /// through the fixed forms (hex, base64, UTF-16) that only a supplied value defines.
    pub fn raw_only(values: &[String]) -> Self {
        let mut oracle = Oracle::new(values);
        oracle.forms.retain(|f| f.encoding == "raw");
        oracle
    }

    pub fn new(values: &[String]) -> Self {
        let mut forms = Vec::new();
        for (i, value) in values.iter().enumerate() {
            let bytes = value.as_bytes();
            let le: Vec<u8> = value.encode_utf16().flat_map(u16::to_le_bytes).collect();
            let be: Vec<u8> = value.encode_utf16().flat_map(u16::to_be_bytes).collect();
            let mut add = |encoding, text: String, any_case, base64| {
                forms.push(Form {
                    secret: i,
                    encoding,
                    text,
                    any_case,
                    base64,
                });
            };
            add("raw", value.clone(), false, false);
            add("hex", hex(bytes), true, false);
            add("utf-16le-hex", hex(&le), true, false);
            add("utf-16be-hex", hex(&be), true, false);
            add(
                "utf-16le",
                String::from_utf8_lossy(&le).into_owned(),
                false,
                false,
            );
            for core in base64_cores(bytes) {
                add("base64", core, false, true);
            }
            for core in base64_cores(&le).into_iter().chain(base64_cores(&be)) {
                add("utf-16-base64", core, false, true);
            }
        }
        Oracle {
            values: values.to_vec(),
            forms,
        }
    }

    /// The first leak in `output`: which secret, in which form, seen through which view.
    pub fn leak(&self, output: &[u8]) -> Option<String> {
        let raw = String::from_utf8_lossy(output).into_owned();
        let mut views: Vec<(String, String)> = vec![("raw".into(), raw.clone())];
        let mut seen: HashSet<String> = HashSet::from([raw.clone()]);
        // Two layers of the decoders, breadth first.
        let mut frontier = vec![("raw".to_owned(), raw.clone())];
        for _ in 0..2 {
            let mut next = Vec::new();
            for (name, text) in &frontier {
                for (decoder, decode) in DECODERS {
                    let decoded = decode(text);
                    if decoded != *text && seen.insert(decoded.clone()) {
                        next.push((format!("{name}>{decoder}"), decoded));
                    }
                }
            }
            views.extend(next.iter().cloned());
            frontier = next;
        }
        // As a terminal shows the output, and as it shows what a JSON consumer (`jq -r`)
        // prints of it; and percent-decoded as often as it takes (a value encoded deeper
        // than any scanner's layers).
        let json = json_unescape(&raw);
        let mut unquoted = raw.clone();
        for _ in 0..8 {
            unquoted = percent_decode(&unquoted);
        }
        for (name, text) in [
            ("percent*8", unquoted),
            ("terminal", terminal(&raw)),
            ("json>terminal", terminal(&json)),
            ("digits", digits(&raw)),
        ] {
            if seen.insert(text.clone()) {
                views.push((name.into(), text));
            }
        }
        for (name, text) in &views {
            let lower = text.to_ascii_lowercase();
            let unwrapped = unwrap_lines(text);
            for form in &self.forms {
                let hit = if form.any_case {
                    lower.contains(&form.text.to_ascii_lowercase())
                } else if form.base64 {
                    text.contains(&form.text) || unwrapped.contains(&form.text)
                } else {
                    text.contains(&form.text)
                };
                if hit {
                    let at = if form.any_case {
                        lower.find(&form.text.to_ascii_lowercase())
                    } else {
                        text.find(&form.text)
                    };
                    let context = at.map_or_else(String::new, |at| {
                        let start = floor_char(text, at.saturating_sub(60));
                        let end = floor_char(text, (at + form.text.len() + 60).min(text.len()));
                        format!(": ...{:?}...", &text[start..end])
                    });
                    return Some(format!(
                        "secret #{} ({:?}) as {} in view {name}{context}",
                        form.secret, self.values[form.secret], form.encoding
                    ));
                }
            }
        }
        None
    }
}

fn floor_char(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

type Decoder = fn(&str) -> String;

const DECODERS: [(&str, Decoder); 6] = [
    ("json", json_unescape),
    ("percent", percent_decode),
    ("html", html_unescape),
    ("hex-escape", hex_escape_decode),
    ("hex-separated", hex_join),
    ("pointer", |t| t.replace("~1", "/").replace("~0", "~")),
];

/// JSON string escapes over the whole text, leniently (no quotes needed).
fn json_unescape(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let hex4 = |i: usize| -> Option<u32> {
        let s: String = chars.get(i..i + 4)?.iter().collect();
        u32::from_str_radix(&s, 16).ok()
    };
    while i < chars.len() {
        if chars[i] == '\\' && i + 1 < chars.len() {
            let simple = match chars[i + 1] {
                '"' => Some('"'),
                '\\' => Some('\\'),
                '/' => Some('/'),
                'b' => Some('\u{8}'),
                'f' => Some('\u{c}'),
                'n' => Some('\n'),
                'r' => Some('\r'),
                't' => Some('\t'),
                _ => None,
            };
            if let Some(c) = simple {
                out.push(c);
                i += 2;
                continue;
            }
            if chars[i + 1] == 'u'
                && let Some(u) = hex4(i + 2)
            {
                if (0xD800..0xDC00).contains(&u)
                    && chars.get(i + 6) == Some(&'\\')
                    && chars.get(i + 7) == Some(&'u')
                    && let Some(lo) = hex4(i + 8)
                    && (0xDC00..0xE000).contains(&lo)
                {
                    let c = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                    out.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                    i += 12;
                    continue;
                }
                out.push(char::from_u32(u).unwrap_or('\u{fffd}'));
                i += 6;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn bytes_to_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn percent_decode(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex_val(b[i + 1]), hex_val(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    bytes_to_string(out)
}

fn hex_escape_decode(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && (b[i + 1] == b'x' || b[i + 1] == b'X')
            && let (Some(h), Some(l)) = (hex_val(b[i + 2]), hex_val(b[i + 3]))
        {
            out.push(h * 16 + l);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    bytes_to_string(out)
}

/// `:`, `-` and spaces between hex digits removed (separated hex joined into plain hex).
fn hex_join(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    for (i, &c) in b.iter().enumerate() {
        if matches!(c, b':' | b'-' | b' ')
            && i > 0
            && i + 1 < b.len()
            && b[i - 1].is_ascii_hexdigit()
            && b[i + 1].is_ascii_hexdigit()
        {
            continue;
        }
        out.push(c);
    }
    bytes_to_string(out)
}

/// Named references of ASCII punctuation, and numeric references.
const NAMED: [(&str, char); 32] = [
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("sol", '/'),
    ("plus", '+'),
    ("equals", '='),
    ("colon", ':'),
    ("period", '.'),
    ("lowbar", '_'),
    ("hyphen", '-'),
    ("dash", '-'),
    ("num", '#'),
    ("commat", '@'),
    ("percnt", '%'),
    ("excl", '!'),
    ("quest", '?'),
    ("lpar", '('),
    ("rpar", ')'),
    ("comma", ','),
    ("semi", ';'),
    ("tilde", '~'),
    ("bsol", '\\'),
    ("ast", '*'),
    ("dollar", '$'),
    ("Hat", '^'),
    ("grave", '`'),
    ("lsqb", '['),
    ("rsqb", ']'),
    ("lcub", '{'),
    ("rcub", '}'),
];

fn html_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .unwrap_or(after.len());
        let entity = &after[..end];
        let decoded = if let Some(num) = entity.strip_prefix('#') {
            let n = match num.strip_prefix(['x', 'X']) {
                Some(h) => u32::from_str_radix(h, 16).ok(),
                None => num.parse().ok(),
            };
            n.and_then(char::from_u32)
        } else {
            NAMED.iter().find(|(n, _)| *n == entity).map(|(_, c)| *c)
        };
        match decoded {
            Some(c) => {
                out.push(c);
                let skip = if after[end..].starts_with(';') {
                    end + 1
                } else {
                    end
                };
                rest = &after[skip..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Line breaks (raw and JSON-escaped) removed: where wrapped base64 joins.
fn unwrap_lines(text: &str) -> String {
    text.replace("\\r", "")
        .replace("\\n", "")
        .replace(['\r', '\n'], "")
}

/// Digit groups joined (`1,234,567` as `1234567`).
fn digits(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if matches!(c, ',' | '_' | '\'' | ' ' | '\u{a0}' | '\u{202f}')
            && i > 0
            && i + 1 < chars.len()
            && chars[i - 1].is_ascii_digit()
            && chars[i + 1].is_ascii_digit()
        {
            continue;
        }
        out.push(c);
    }
    out
}

/// What a terminal shows, line by line: `\b` moves back, `\r` returns to the start, ANSI
/// escape sequences and other controls are invisible, bidi isolates and marks are
/// invisible, and an RLO ... PDF run is shown reversed.
pub fn terminal(text: &str) -> String {
    let mut shown = String::new();
    for line in text.split('\n') {
        let mut cells: Vec<char> = Vec::new();
        let mut cursor = 0usize;
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        let put = |cells: &mut Vec<char>, cursor: &mut usize, c: char| {
            if *cursor < cells.len() {
                cells[*cursor] = c;
            } else {
                cells.push(c);
            }
            *cursor += 1;
        };
        while i < chars.len() {
            let c = chars[i];
            match c {
                '\u{8}' => cursor = cursor.saturating_sub(1),
                '\r' => cursor = 0,
                '\u{1b}' => {
                    // CSI: ESC [ params final (0x40-0x7E); OSC: ESC ] ... BEL or ESC \.
                    match chars.get(i + 1) {
                        Some('[') => {
                            i += 2;
                            while i < chars.len() && !('\u{40}'..='\u{7e}').contains(&chars[i]) {
                                i += 1;
                            }
                        }
                        Some(']') => {
                            i += 2;
                            while i < chars.len() && chars[i] != '\u{7}' && chars[i] != '\u{1b}' {
                                i += 1;
                            }
                        }
                        _ => i += 1,
                    }
                }
                '\u{202e}' | '\u{202d}' => {
                    // The run up to PDF (or the line's end), reversed when RLO.
                    let end = chars[i + 1..]
                        .iter()
                        .position(|&c| c == '\u{202c}')
                        .map_or(chars.len(), |p| i + 1 + p);
                    let mut run: Vec<char> = chars[i + 1..end]
                        .iter()
                        .copied()
                        .filter(|c| !is_invisible(*c))
                        .collect();
                    if c == '\u{202e}' {
                        run.reverse();
                    }
                    for r in run {
                        put(&mut cells, &mut cursor, r);
                    }
                    i = end;
                }
                c if is_invisible(c) => {}
                c => put(&mut cells, &mut cursor, c),
            }
            i += 1;
        }
        shown.extend(cells);
        shown.push('\n');
    }
    shown
}

fn is_invisible(c: char) -> bool {
    c.is_control() || is_bidi(c) || matches!(c, '\u{200b}'..='\u{200d}' | '\u{feff}')
}

fn is_bidi(c: char) -> bool {
    matches!(
        c,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}'
    )
}

/// The first raw control character (other than `\n`), bidi control or line/paragraph
/// separator in a text output.
pub fn control(output: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(output);
    for (line_no, line) in text.split('\n').enumerate() {
        if let Some(c) = line
            .chars()
            .find(|&c| c.is_control() || is_bidi(c) || matches!(c, '\u{2028}' | '\u{2029}'))
        {
            let at = line.find(c).unwrap_or(0);
            let start = floor_char(line, at.saturating_sub(40));
            let end = floor_char(line, (at + 40).min(line.len()));
            return Some(format!(
                "U+{:04X} on line {}: {:?}",
                u32::from(c),
                line_no + 1,
                &line[start..end]
            ));
        }
    }
    None
}

pub fn json(output: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(output)
        .err()
        .map(|e| format!("not JSON: {e}"))
}

/// Every non-empty line is one JSON value.
pub fn json_lines(output: &[u8]) -> Option<String> {
    output
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .find_map(json)
}

pub fn junit(output: &[u8]) -> Option<String> {
    let text = match std::str::from_utf8(output) {
        Ok(t) => t,
        Err(e) => return Some(format!("JUnit not UTF-8: {e}")),
    };
    quick_junit::Report::deserialize_from_str(text)
        .err()
        .map(|e| format!("JUnit does not parse: {e}"))
}

fn sarif_schema() -> &'static jsonschema::Validator {
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        // The official schema's `run.language` pattern has a stray `]` the Rust regex engine
        // refuses (see tests/validate_cli.rs); replaced by its evident intent.
        let text = include_str!("../../testdata/validate/sarif-2.1.0-rtm.5.json").replace(
            r"^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$",
            r"^[a-zA-Z]{2}(-[a-zA-Z]{2})?$",
        );
        let schema: serde_json::Value = serde_json::from_str(&text).expect("schema");
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .build(&schema)
            .expect("schema compiles")
    })
}

pub fn sarif(output: &[u8]) -> Option<String> {
    let doc: serde_json::Value = match serde_json::from_slice(output) {
        Ok(doc) => doc,
        Err(e) => return Some(format!("SARIF is not JSON: {e}")),
    };
    let errors: Vec<String> = sarif_schema()
        .iter_errors(&doc)
        .take(3)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    (!errors.is_empty()).then(|| format!("SARIF fails the 2.1.0 schema: {errors:?}"))
}

/// Every line is a workflow command.
pub fn github(output: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(output);
    let text = text.strip_suffix('\n').unwrap_or(&text);
    if text.is_empty() {
        return None;
    }
    text.split('\n')
        .enumerate()
        .find(|(_, l)| !l.starts_with("::"))
        .map(|(i, l)| format!("line {} is not a workflow command: {:?}", i + 1, l))
}
