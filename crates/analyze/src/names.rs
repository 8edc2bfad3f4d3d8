//! Names read from logs, each stored once and known by a small number.
//!
//! A ledger of 250,000 distinct risk flags names each flag in several figures (its counts,
//! its denials, its timeline series). Kept as a `String` in every map that counts it, each
//! name would cost a heap allocation and a map slot of its own per figure. [`Names`] keeps
//! the text of every distinct name once, end to end in one buffer, and hands out a [`NameId`]
//! (four bytes) that the figures use as their key. Looking a name up hashes it once; no
//! allocation is made unless it is new.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

/// The number of a name in its [`Names`]: numbers are given in order of first use, from 0.
pub(crate) type NameId = u32;

/// The id every name past the `u32::MAX - 1`th shares (an input that large exhausts memory
/// first); its text is [`OVERFLOW_TEXT`], so its counts are kept under one name, not lost.
pub(crate) const OVERFLOW: NameId = NameId::MAX;
/// The text of [`OVERFLOW`].
pub(crate) const OVERFLOW_TEXT: &str = "(more distinct names than counted)";

/// Distinct names, each stored once.
#[derive(Debug, Default)]
pub(crate) struct Names {
    /// The text of every name, end to end.
    text: String,
    /// Where each name ends in `text` (it starts where the one before ends).
    ends: Vec<usize>,
    /// Ids, found by the hash of their text.
    index: HashTable<NameId>,
    hasher: DefaultHashBuilder,
}

impl Names {
    /// The id of `name`, stored on first use ([`OVERFLOW`] once the ids run out).
    pub(crate) fn id(&mut self, name: &str) -> NameId {
        let hash = self.hasher.hash_one(name);
        if let Some(&id) = self.index.find(hash, |&id| self.get(id) == name) {
            return id;
        }
        let id = match NameId::try_from(self.ends.len()) {
            Ok(id) if id != OVERFLOW => id,
            _ => return OVERFLOW,
        };
        self.text.push_str(name);
        self.ends.push(self.text.len());
        let (text, ends, hasher) = (&self.text, &self.ends, &self.hasher);
        self.index
            .insert_unique(hash, id, |&i| hasher.hash_one(slice(text, ends, i)));
        id
    }

    /// The text of `id` (empty for an id this set never gave).
    pub(crate) fn get(&self, id: NameId) -> &str {
        if id == OVERFLOW {
            return OVERFLOW_TEXT;
        }
        slice(&self.text, &self.ends, id)
    }

    /// How many names are stored.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Every name with its id, in id order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (NameId, &str)> {
        (0..self.ends.len()).filter_map(|i| {
            let id = NameId::try_from(i).ok()?;
            Some((id, self.get(id)))
        })
    }
}

fn slice<'t>(text: &'t str, ends: &[usize], id: NameId) -> &'t str {
    let i = id as usize;
    let start = match i.checked_sub(1) {
        Some(before) => ends.get(before).copied().unwrap_or(0),
        None => 0,
    };
    let end = ends.get(i).copied().unwrap_or(start);
    text.get(start..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_name_is_stored_once_and_found_again() {
        let mut names = Names::default();
        let a = names.id("injection_attempt");
        let b = names.id("");
        let c = names.id("injection_attempt");
        let d = names.id("é\u{0}x");
        assert_eq!((a, b, c, d), (0, 1, 0, 2));
        assert_eq!(names.get(OVERFLOW), OVERFLOW_TEXT);
        assert_eq!(names.len(), 3);
        assert_eq!(names.get(2), "é\u{0}x");
        assert_eq!(names.get(1), "");
        assert_eq!(names.id("é\u{0}x"), 2);
        assert_eq!(names.len(), 3);
        assert_eq!(names.get(7), "");
        let all: Vec<_> = names.iter().collect();
        assert_eq!(all, vec![(0, "injection_attempt"), (1, ""), (2, "é\u{0}x")]);
    }

    #[test]
    fn many_names_keep_their_ids() {
        let mut names = Names::default();
        for i in 0..10_000 {
            assert_eq!(names.id(&format!("flag_{i}")), i);
        }
        for i in (0..10_000).rev() {
            assert_eq!(names.id(&format!("flag_{i}")), i);
            assert_eq!(names.get(i), format!("flag_{i}"));
        }
    }
}
