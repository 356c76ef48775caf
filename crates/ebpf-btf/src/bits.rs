//! A set of small integers (string table offsets), one bit each.

/// A set of integers below the length it was made for, one bit each; integers past it
/// are never in the set and are ignored when inserted. Its words are allocated on the first
/// insertion: a set that stays empty (the usual case for some checks) costs nothing.
pub(crate) struct Bits {
    words: Vec<u64>,
    len: usize,
}

impl Bits {
    /// An empty set for the integers below `len`.
    pub(crate) fn new(len: usize) -> Self {
        Bits {
            words: Vec::new(),
            len,
        }
    }

    /// Whether `i` is in the set.
    #[inline(always)]
    pub(crate) fn contains(&self, i: u32) -> bool {
        self.words
            .get(i as usize / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Adds `i` (nothing if it is past the set's length).
    #[inline]
    pub(crate) fn insert(&mut self, i: u32) {
        if i as usize >= self.len {
            return;
        }
        if self.words.is_empty() {
            self.words = vec![0; self.len.div_ceil(64)];
        }
        if let Some(w) = self.words.get_mut(i as usize / 64) {
            *w |= 1 << (i % 64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Bits;

    #[test]
    fn allocates_on_first_insert_and_ignores_past_len() {
        let mut b = Bits::new(100);
        assert!(!b.contains(5));
        assert!(b.words.is_empty());
        b.insert(100);
        assert!(b.words.is_empty(), "past the length: ignored");
        assert!(!b.contains(100));
        b.insert(5);
        b.insert(99);
        assert!(b.contains(5) && b.contains(99));
        assert!(!b.contains(6) && !b.contains(98));
    }
}
