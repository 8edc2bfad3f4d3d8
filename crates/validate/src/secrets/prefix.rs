//! The tables behind [`super::scan::SecretScanner`]: the case-folded prefixes of the fixed
//! forms, looked up at every offset of a text, and the set that keeps each form once.
//!
//! The scanner's prefixes are all [`PREFIX`] bytes long but for forms shorter than that
//! (the UTF-16 and base64 forms of some non-ASCII values are 6 or 7 bytes), so a match is a
//! table lookup of the text's bytes ending at each offset, one per prefix length held. This
//! finds exactly what an ASCII-case-insensitive Aho-Corasick automaton over the prefixes
//! finds with an overlapping search, in the same order (by end offset, longest first), and
//! builds in time linear in the number of forms: 10,000 secrets of 24 characters make
//! 150,000 distinct forms, whose prefixes an automaton took about 0.3 s to compile, and which
//! this table takes a few tens of milliseconds to fill.

use std::ops::ControlFlow;

/// Bytes of each form the prefix table holds: a match of a prefix is checked against the
/// whole form.
pub(super) const PREFIX: usize = 8;

/// Fibonacci hashing: the top bits of `key * HASH_MUL` index the tables.
pub(super) const HASH_MUL: u64 = 0x9E37_79B9_7F4A_7C15;

/// The first 8 bytes of `w` (little-endian), or 0 if it is shorter.
pub(super) fn load8(w: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(w.get(..8).unwrap_or(&[0; 8]));
    u64::from_le_bytes(b)
}

/// The first 4 bytes of `w` (little-endian), or 0 if it is shorter.
pub(super) fn load4(w: &[u8]) -> u64 {
    let mut b = [0u8; 4];
    b.copy_from_slice(w.get(..4).unwrap_or(&[0; 4]));
    u64::from(u32::from_le_bytes(b))
}

/// Up to 8 bytes of `w` (little-endian), zero-padded.
fn load_up_to8(w: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = w.len().min(8);
    if let (Some(to), Some(from)) = (b.get_mut(..n), w.get(..n)) {
        to.copy_from_slice(from);
    }
    u64::from_le_bytes(b)
}

/// Each byte of `x` ASCII lower-cased (`A`..=`Z` only, like the automaton's case folding).
fn lower8(x: u64) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let b = x & LOW7;
    // Per byte, no carry out: the high bit is set where b >= b'A', and where b > b'Z'.
    let from_a = b + 0x3F3F_3F3F_3F3F_3F3F;
    let past_z = b + 0x2525_2525_2525_2525;
    let upper = from_a & !past_z & !x & HIGH;
    x | (upper >> 2)
}

/// The hash of a folded prefix of `len` bytes.
fn prefix_hash(word: u64, len: usize) -> u64 {
    word.wrapping_add(len as u64).wrapping_mul(HASH_MUL)
}

/// A hash of any bytes, for [`Distinct`] (equal hashes are compared byte for byte).
pub(super) fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h = (bytes.len() as u64).wrapping_mul(HASH_MUL);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        h = (h ^ load8(chunk)).wrapping_mul(HASH_MUL).rotate_left(29);
    }
    (h ^ load_up_to8(chunks.remainder())).wrapping_mul(HASH_MUL)
}

/// One prefix: its folded bytes, its length and its number.
#[derive(Clone, Copy, Default)]
struct Slot {
    word: u64,
    /// `group << 4 | len` (`len` is 1 to 8); a length of 0: the slot is empty.
    tag: u64,
}

impl Slot {
    fn new(word: u64, len: usize, group: usize) -> Slot {
        Slot {
            word,
            tag: ((group as u64) << 4) | (len as u64 & 15),
        }
    }

    fn len(self) -> usize {
        (self.tag & 15) as usize
    }

    fn group(self) -> usize {
        (self.tag >> 4) as usize
    }

    fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// The distinct case-folded prefixes (1 to [`PREFIX`] bytes), each numbered in the order
/// first inserted. Open addressing, at most half full, behind a bitset that keeps most
/// lookups of absent prefixes to one memory access.
#[derive(Clone)]
pub(super) struct Prefixes {
    slots: Vec<Slot>,
    slot_shift: u32,
    groups: usize,
    /// Bit `n` set: some prefix is `n` bytes long.
    length_mask: u16,
    /// The lengths held, longest first (set by [`Prefixes::finish`]).
    lengths: Vec<usize>,
    bits: Vec<u64>,
    bit_shift: u32,
}

impl Prefixes {
    /// A table sized for `count` prefixes (it grows past them).
    pub(super) fn with_capacity(count: usize) -> Prefixes {
        let slots = count.saturating_mul(2).next_power_of_two().max(16);
        Prefixes {
            slots: vec![Slot::default(); slots],
            slot_shift: 64 - slots.trailing_zeros(),
            groups: 0,
            length_mask: 0,
            lengths: Vec::new(),
            bits: Vec::new(),
            bit_shift: 64,
        }
    }

    /// Number of distinct prefixes.
    pub(super) fn len(&self) -> usize {
        self.groups
    }

    /// The number of the prefix `head` (its first [`PREFIX`] bytes, case folded), a new
    /// one if it is not held yet.
    pub(super) fn insert(&mut self, head: &[u8]) -> usize {
        let head = head.get(..PREFIX).unwrap_or(head);
        let (word, len) = (lower8(load_up_to8(head)), head.len());
        if (self.groups + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let (at, found) = self.probe(word, len);
        if let Some(group) = found {
            return group;
        }
        let group = self.groups;
        if let Some(slot) = self.slots.get_mut(at) {
            *slot = Slot::new(word, len, group);
            self.groups += 1;
            self.length_mask |= 1 << len.min(15);
        }
        group
    }

    /// Where `(word, len)` is, or the empty slot where it would go.
    fn probe(&self, word: u64, len: usize) -> (usize, Option<usize>) {
        let mask = self.slots.len() - 1;
        let mut at = (prefix_hash(word, len) >> self.slot_shift) as usize;
        for _ in 0..self.slots.len() {
            match self.slots.get(at) {
                Some(s) if s.is_empty() => return (at, None),
                Some(s) if s.word == word && s.len() == len => return (at, Some(s.group())),
                _ => at = (at + 1) & mask,
            }
        }
        (at, None)
    }

    fn grow(&mut self) {
        let count = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); count]);
        self.slot_shift = 64 - count.trailing_zeros();
        for slot in old.into_iter().filter(|s| !s.is_empty()) {
            let (at, _) = self.probe(slot.word, slot.len());
            if let Some(s) = self.slots.get_mut(at) {
                *s = slot;
            }
        }
    }

    /// Readies the table for lookups, once every prefix is in.
    pub(super) fn finish(&mut self) {
        self.lengths = (1..=PREFIX)
            .rev()
            .filter(|&n| self.length_mask & (1 << n) != 0)
            .collect();
        let bit_count = (self.groups * 16)
            .next_power_of_two()
            .clamp(1 << 9, 1 << 23);
        self.bits = vec![0; bit_count / 64];
        self.bit_shift = 64 - bit_count.trailing_zeros();
        for slot in self.slots.iter().filter(|s| !s.is_empty()) {
            let bit = (prefix_hash(slot.word, slot.len()) >> self.bit_shift) as usize;
            if let Some(w) = self.bits.get_mut(bit / 64) {
                *w |= 1 << (bit % 64);
            }
        }
    }

    #[inline]
    fn get(&self, word: u64, len: usize) -> Option<usize> {
        let bit = (prefix_hash(word, len) >> self.bit_shift) as usize;
        if self
            .bits
            .get(bit / 64)
            .is_none_or(|w| w & (1 << (bit % 64)) == 0)
        {
            return None;
        }
        self.probe(word, len).1
    }

    /// Hands `each` the start and number of every prefix occurring in `text` (ASCII case
    /// ignored), ordered by end offset, longest first: an overlapping automaton search.
    pub(super) fn each_match(
        &self,
        text: &[u8],
        each: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let Some(&shortest) = self.lengths.last() else {
            return ControlFlow::Continue(());
        };
        for end in shortest..=text.len() {
            for &len in &self.lengths {
                let Some(window) = end.checked_sub(len).and_then(|s| text.get(s..end)) else {
                    continue;
                };
                let word = if len == 8 {
                    load8(window)
                } else {
                    load_up_to8(window)
                };
                if let Some(group) = self.get(lower8(word), len) {
                    each(end - len, group)?;
                }
            }
        }
        ControlFlow::Continue(())
    }

    /// Whether every prefix is [`PREFIX`] bytes long (then a match starting anywhere can be
    /// looked up by its start).
    pub(super) fn uniform(&self) -> bool {
        self.lengths == [PREFIX]
    }

    /// [`each_match`](Self::each_match) for the matches starting in `starts` only, when
    /// [`uniform`](Self::uniform).
    pub(super) fn each_match_at(
        &self,
        text: &[u8],
        starts: std::ops::Range<usize>,
        each: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        for start in starts {
            let Some(window) = text.get(start..start + PREFIX) else {
                break;
            };
            if let Some(group) = self.get(lower8(load8(window)), PREFIX) {
                each(start, group)?;
            }
        }
        ControlFlow::Continue(())
    }
}

/// A set of items known by index, each with its hash, equal items told apart by the caller:
/// keeps the first of each distinct form in one pass. At most half full.
pub(super) struct Distinct {
    /// `(hash, index + 1)`; 0: empty.
    slots: Vec<(u64, usize)>,
    count: usize,
}

impl Distinct {
    /// A set sized for `count` items (it grows past them).
    pub(super) fn with_capacity(count: usize) -> Distinct {
        let slots = count.saturating_mul(2).next_power_of_two().max(16);
        Distinct {
            slots: vec![(0, 0); slots],
            count: 0,
        }
    }

    /// Adds item `index` of hash `hash` unless an item `same` as it is in: whether it
    /// was added.
    pub(super) fn insert(&mut self, hash: u64, index: usize, same: impl Fn(usize) -> bool) -> bool {
        if (self.count + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut at = self.start(hash);
        for _ in 0..self.slots.len() {
            match self.slots.get_mut(at) {
                Some(slot) if slot.1 == 0 => {
                    *slot = (hash, index + 1);
                    self.count += 1;
                    return true;
                }
                Some(&mut (h, i)) if h == hash && same(i - 1) => return false,
                _ => at = (at + 1) & mask,
            }
        }
        true
    }

    fn start(&self, hash: u64) -> usize {
        let shift = 64 - self.slots.len().trailing_zeros();
        (hash.wrapping_mul(HASH_MUL) >> shift) as usize
    }

    fn grow(&mut self) {
        let count = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, vec![(0, 0); count]);
        let mask = count - 1;
        for (hash, index) in old.into_iter().filter(|s| s.1 != 0) {
            let mut at = self.start(hash);
            while self.slots.get(at).is_some_and(|s| s.1 != 0) {
                at = (at + 1) & mask;
            }
            if let Some(slot) = self.slots.get_mut(at) {
                *slot = (hash, index);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::{AhoCorasickBuilder, MatchKind};
    use proptest::prelude::*;

    #[test]
    fn lower8_folds_ascii_letters_only() {
        for b in 0..=255u8 {
            let word = u64::from_le_bytes([b, b'Q', b, 0xC3, b, b'@', b'[', b]);
            let mut want = word.to_le_bytes();
            want.make_ascii_lowercase();
            assert_eq!(lower8(word), u64::from_le_bytes(want), "{b:#x}");
        }
    }

    #[test]
    fn distinct_keeps_the_first_of_each() {
        let items: Vec<u32> = (0..10_000).map(|i| i % 3_000).collect();
        let mut set = Distinct::with_capacity(0);
        let kept: Vec<usize> = (0..items.len())
            .filter(|&i| {
                let hash = u64::from(items[i] % 7); // many equal hashes
                set.insert(hash, i, |j| items[j] == items[i])
            })
            .collect();
        assert_eq!(kept, (0..3_000).collect::<Vec<_>>());
    }

    /// The automaton the table replaced, over the same prefixes.
    fn automaton_matches(prefixes: &[Vec<u8>], text: &[u8]) -> Vec<(usize, usize)> {
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(true)
            .build(prefixes)
            .unwrap();
        ac.find_overlapping_iter(text)
            .map(|m| (m.start(), m.pattern().as_usize()))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Same matches, same order as an ASCII-case-insensitive overlapping automaton
        /// search, with prefixes of mixed lengths and bytes that fold.
        #[test]
        fn finds_what_the_automaton_finds(
            heads in prop::collection::vec(prop::collection::vec(
                prop::sample::select(b"aAbB@`[{\xc3\xa9Zz0".to_vec()), 5..12), 1..12),
            text in prop::collection::vec(
                prop::sample::select(b"aAbB@`[{\xc3\xa9Zz0".to_vec()), 0..80),
        ) {
            let mut table = Prefixes::with_capacity(0);
            let mut distinct: Vec<Vec<u8>> = Vec::new();
            for head in &heads {
                let group = table.insert(head);
                if group == distinct.len() {
                    let cut = head.get(..PREFIX).unwrap_or(head);
                    distinct.push(cut.to_ascii_lowercase());
                }
            }
            table.finish();
            let mut got = Vec::new();
            let _ = table.each_match(&text, &mut |start, group| {
                got.push((start, group));
                ControlFlow::Continue(())
            });
            if table.uniform() {
                let mut at = Vec::new();
                let _ = table.each_match_at(&text, 0..text.len(), &mut |start, group| {
                    at.push((start, group));
                    ControlFlow::Continue(())
                });
                prop_assert_eq!(&at, &got);
            }
            prop_assert_eq!(got, automaton_matches(&distinct, &text));
        }
    }
}
