//! A set of small integers (string table offsets), one bit each.

/// A set of integers below the length it was made for, one bit each; integers past it
/// are never in the set and are ignored when inserted.
pub(crate) struct Bits(Vec<u64>);

impl Bits {
    /// An empty set for the integers below `len`.
    pub(crate) fn new(len: usize) -> Self {
        Bits(vec![0; len.div_ceil(64)])
    }

    /// Whether `i` is in the set.
    #[inline(always)]
    pub(crate) fn contains(&self, i: u32) -> bool {
        self.0
            .get(i as usize / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Adds `i` (nothing if it is past the set's length).
    pub(crate) fn insert(&mut self, i: u32) {
        if let Some(w) = self.0.get_mut(i as usize / 64) {
            *w |= 1 << (i % 64);
        }
    }
}
