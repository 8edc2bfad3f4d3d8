//! Duplicate object keys.
//!
//! RFC 8259 only says names "SHOULD be unique"; parsers then disagree on which value wins
//! (serde_json and Go keep the last, others the first or refuse). A log line with
//! `"run_id":"","run_id":"a"` means one thing to the validator and another to a consumer:
//! a parser differential, which a conformance tool must report rather than resolve. This
//! module walks a line once with a serde visitor that remembers the keys of each object and
//! returns the JSON pointers of the repeated members.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// At most this many duplicates are reported per line.
const MAX_REPORTED: usize = 8;

/// Objects with more keys than this switch from a linear search to a hash set.
const LINEAR_KEYS: usize = 16;

/// The pointers of the members whose key repeats an earlier key of the same object, in
/// document order (at most [`MAX_REPORTED`]). Text that is not JSON gives whatever was found
/// before the syntax error.
pub(crate) fn duplicates(text: &str) -> Vec<String> {
    walk(text, true, MAX_REPORTED)
}

/// Whether `text`, known to be valid JSON, holds any duplicate key (the fast path's
/// question). A byte scan compares the keys as written; only when a key holds an escape (so
/// equal keys may be written differently) does the serde walk decide.
pub(crate) fn has_duplicates(text: &str) -> bool {
    match scan_raw(text.as_bytes()) {
        Some(found) => found,
        None => !walk(text, false, 1).is_empty(),
    }
}

/// The byte scan behind [`has_duplicates`]: `None` when a key holds a backslash escape or
/// the text is larger than its fixed tables (then the walk decides). No allocation: the keys of
/// the open objects live in one array, each open container remembers where its keys start.
fn scan_raw(text: &[u8]) -> Option<bool> {
    const ARRAY: usize = usize::MAX;
    let mut keys: [&[u8]; 64] = [&[]; 64];
    let mut nkeys = 0;
    let mut frames = [0usize; 32];
    let mut depth = 0;
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        match b {
            b'{' | b'[' => {
                *frames.get_mut(depth)? = if b == b'{' { nkeys } else { ARRAY };
                depth += 1;
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                let start = *frames.get(depth)?;
                if start != ARRAY {
                    nkeys = start;
                }
            }
            b'"' => {
                let (end, escaped) = string_end(text, i + 1)?;
                let open = depth.checked_sub(1).and_then(|d| frames.get(d)).copied();
                let in_object = open.is_some_and(|start| start != ARRAY);
                let is_key = in_object
                    && text
                        .get(end + 1..)
                        .and_then(|rest| rest.iter().find(|c| !c.is_ascii_whitespace()))
                        == Some(&b':');
                if is_key {
                    if escaped {
                        return None;
                    }
                    let key = text.get(i + 1..end)?;
                    if keys.get(open?..nkeys)?.contains(&key) {
                        return Some(true);
                    }
                    *keys.get_mut(nkeys)? = key;
                    nkeys += 1;
                }
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    Some(false)
}

/// The index of the quote closing the string whose content starts at `from`, and whether the
/// string holds an escape.
fn string_end(text: &[u8], from: usize) -> Option<(usize, bool)> {
    let mut at = from;
    let mut escaped = false;
    loop {
        let i = at + memchr::memchr2(b'"', b'\\', text.get(at..)?)?;
        if *text.get(i)? == b'"' {
            return Some((i, escaped));
        }
        escaped = true;
        at = i + 2;
    }
}

fn walk(text: &str, track: bool, limit: usize) -> Vec<String> {
    let mut walk = Walk {
        track,
        limit,
        path: String::new(),
        found: Vec::new(),
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let _ = (&mut walk).deserialize(&mut de);
    walk.found
}

/// An object key, borrowed from the input when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

struct Walk {
    /// Whether to build pointers (only needed to report them).
    track: bool,
    limit: usize,
    path: String,
    found: Vec<String>,
}

impl Walk {
    fn full(&self) -> bool {
        self.found.len() >= self.limit
    }

    fn push_token(&mut self, token: &str) -> usize {
        let len = self.path.len();
        if !self.track {
            return len;
        }
        self.path.push('/');
        for c in token.chars() {
            match c {
                '~' => self.path.push_str("~0"),
                '/' => self.path.push_str("~1"),
                c => self.path.push(c),
            }
        }
        len
    }
}

impl<'de> DeserializeSeed<'de> for &mut Walk {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &mut Walk {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        loop {
            if self.full() {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                return Ok(());
            }
            let len = self.push_token(itoa::Buffer::new().format(index));
            let more = seq.next_element_seed(&mut *self)?.is_some();
            self.path.truncate(len);
            if !more {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys: Vec<Key<'de>> = Vec::new();
        let mut set: Option<HashSet<Cow<'de, str>>> = None;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if self.full() {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let repeated = match &mut set {
                Some(set) => !set.insert(key.0.clone()),
                None => keys.iter().any(|k| k.0 == key.0),
            };
            let len = self.push_token(&key.0);
            if repeated {
                self.found.push(self.path.clone());
            }
            map.next_value_seed(&mut *self)?;
            self.path.truncate(len);
            if set.is_none() {
                keys.push(key);
                if keys.len() > LINEAR_KEYS {
                    set = Some(keys.drain(..).map(|k| k.0).collect());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_repeated_keys_with_pointers() {
        assert_eq!(duplicates(r#"{"run_id":"","run_id":"a"}"#), vec!["/run_id"]);
        assert_eq!(
            duplicates(r#"{"data":{"x":[{"a/b":1,"a/b":2}]},"data":{}}"#),
            vec!["/data/x/0/a~1b", "/data"]
        );
        assert_eq!(duplicates(r#"{"a":"\u0062","b":1,"\u0061":2}"#), vec!["/a"]);
        assert!(duplicates(r#"{"a":{"a":{"a":1}},"b":[1,1]}"#).is_empty());
    }

    #[test]
    fn many_keys_and_many_duplicates_stay_bounded() {
        let keys: Vec<String> = (0..5000).map(|i| format!("\"k{i}\":{i}")).collect();
        let text = format!("{{{},\"k4999\":0}}", keys.join(","));
        assert_eq!(duplicates(&text), vec!["/k4999"]);
        let text = format!("{{{}}}", vec!["\"a\":1"; 1000].join(","));
        assert_eq!(duplicates(&text).len(), MAX_REPORTED);
    }

    #[test]
    fn byte_scan_agrees_with_the_walk() {
        for text in [
            r#"{"a":1,"b":{"a":2},"c":[{"a":1,"a":2}]}"#,
            r#"{"a":1,"b":"a","a" : 3}"#,
            r#"{"a":"x\"y","b":":","c":{}}"#,
            r#"{"a":1,"\u0061":2}"#,
            r#"{"k":[1,{"k":1}],"k2":{"k":{"k":1}}}"#,
            r#"[{"a":1},{"a":1}]"#,
        ] {
            assert_eq!(has_duplicates(text), !duplicates(text).is_empty(), "{text}");
        }
        assert_eq!(scan_raw(br#"{"a":1,"\u0061":2}"#), None);
        assert_eq!(scan_raw(br#"{"a":1,"b":{"a":2}}"#), Some(false));
        assert_eq!(scan_raw(br#"{"a":1,"b":2,"a":3}"#), Some(true));
    }

    #[test]
    fn not_json_gives_what_came_before() {
        assert_eq!(duplicates(r#"{"a":1,"a":2,"#), vec!["/a"]);
        assert!(duplicates("nope").is_empty());
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(duplicates(&deep).is_empty());
    }
}
