//! The mapper's memory of the redactor's decisions on short texts.
//!
//! Judging a text is the costliest step of a mapping, and most texts repeat: hosts, models,
//! names and methods on every line. [`Decisions`] remembers them without letting the one-off
//! texts (times, ids) crowd them out.

/// Decisions remembered per generation.
const REMEMBERED: usize = 32_768;

/// The redactor's decisions on short texts, in two generations: when the newer is full it
/// becomes the older one, and a text found only in the older is carried over. Texts that
/// repeat (hosts, models, methods, common numbers) stay; one-off texts (times, ids) pass
/// through without evicting them, and are kept only once seen twice: a table of hashes of
/// texts seen once, written over as it goes, saves a copy of each time and id. The last few
/// one-off texts are kept a little while: a line's summary is judged again as its record's
/// body.
pub(super) struct Decisions {
    newer: hashbrown::HashMap<String, bool>,
    older: hashbrown::HashMap<String, bool>,
    seen_once: Box<[u64]>,
    hasher: hashbrown::DefaultHashBuilder,
    recent: [(String, bool); RECENT],
    next_recent: usize,
}

/// One-off texts whose decisions are kept until as many newer ones are judged.
const RECENT: usize = 4;

/// Slots of the table of texts seen once (a power of two).
const SEEN_ONCE: usize = 1 << 14;

impl Default for Decisions {
    fn default() -> Self {
        Decisions {
            newer: hashbrown::HashMap::default(),
            older: hashbrown::HashMap::default(),
            seen_once: vec![0; SEEN_ONCE].into_boxed_slice(),
            hasher: hashbrown::DefaultHashBuilder::default(),
            recent: Default::default(),
            next_recent: 0,
        }
    }
}

impl Decisions {
    pub(super) fn get(&mut self, text: &str) -> Option<bool> {
        if let Some(&decision) = self.newer.get(text) {
            return Some(decision);
        }
        if let Some((_, decision)) = self.recent.iter().find(|(kept, _)| kept == text) {
            return Some(*decision);
        }
        let decision = self.older.remove(text)?;
        self.keep(text, decision);
        Some(decision)
    }

    /// Remembers `decision` on `text` when the text was seen before (a hash match: a rare
    /// false match only keeps one text more).
    pub(super) fn insert(&mut self, text: &str, decision: bool) {
        use std::hash::BuildHasher as _;
        let hash = self.hasher.hash_one(text) | 1;
        let slot = self.seen_once.get_mut(hash as usize & (SEEN_ONCE - 1));
        match slot {
            Some(slot) if *slot == hash => self.keep(text, decision),
            Some(slot) => *slot = hash,
            None => {}
        }
        if let Some((kept, kept_decision)) = self.recent.get_mut(self.next_recent % RECENT) {
            kept.clear();
            kept.push_str(text);
            *kept_decision = decision;
        }
        self.next_recent = self.next_recent.wrapping_add(1);
    }

    fn keep(&mut self, text: &str, decision: bool) {
        if self.newer.len() >= REMEMBERED {
            self.older = std::mem::take(&mut self.newer);
        }
        self.newer.insert(text.to_owned(), decision);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_seen_once_is_remembered_while_newer_ones_are_few() {
        let mut decided = Decisions::default();
        decided.insert("POST api.example.com -> 200 (12ms)", true);
        assert_eq!(
            decided.get("POST api.example.com -> 200 (12ms)"),
            Some(true)
        );
        for n in 0..RECENT {
            decided.insert(&format!("one-off text {n}"), false);
        }
        // Pushed out of the recent ones, and seen once only: not kept.
        assert_eq!(decided.get("POST api.example.com -> 200 (12ms)"), None);
        assert_eq!(
            decided.get(&format!("one-off text {}", RECENT - 1)),
            Some(false)
        );
    }

    #[test]
    fn a_text_seen_twice_is_kept_past_the_recent_ones() {
        let mut decided = Decisions::default();
        decided.insert("api.example.com", false);
        decided.insert("api.example.com", false);
        for n in 0..2 * RECENT {
            decided.insert(&format!("one-off text {n}"), true);
        }
        assert_eq!(decided.get("api.example.com"), Some(false));
        assert_eq!(decided.get("never judged"), None);
    }
}
