//! [`Slots`]: where the instructions of a code section start. A section without `ld_imm64`
//! (the only instruction two slots wide) has an instruction at every slot, and no table.

use ebpf_asm::SLOT_SIZE;

/// One word of [`Slots::halves`]: 64 slots' second-half bits, and the number of second
/// halves in the slots before them.
#[derive(Debug, Clone, Copy, Default)]
struct Word {
    bits: u64,
    before: u32,
}

/// Where the instructions of a code section start: one per 8-byte slot, except the second
/// slot of each `ld_imm64`.
///
/// Kept with the section's bytes for as long as the programs made from it: a bit per slot
/// (and a count per 64 slots), not an index per slot, so that a big section's table is a
/// sixteenth of its code rather than half of it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Slots {
    /// The number of slots.
    len: u32,
    /// The number of `ld_imm64`s.
    wide: u32,
    /// Which slots are second halves, 64 to a word; empty when there is no `ld_imm64`
    /// (the index is the slot).
    halves: Vec<Word>,
}

impl Slots {
    /// `len` slots with `ld_imm64`s at `wide` (sorted, each followed by its second slot).
    pub fn new(len: u32, wide: &[u32]) -> Slots {
        let mut halves = Vec::new();
        if !wide.is_empty() {
            halves.resize(len.div_ceil(64) as usize, Word::default());
            for &w in wide {
                let second = w as usize + 1;
                if let Some(word) = halves.get_mut(second / 64) {
                    word.bits |= 1 << (second % 64);
                }
            }
            let mut before = 0;
            for word in &mut halves {
                word.before = before;
                before += word.bits.count_ones();
            }
        }
        Slots {
            len,
            // Fewer `ld_imm64`s than slots.
            wide: u32::try_from(wide.len()).unwrap_or(len),
            halves,
        }
    }

    /// The size of the section in bytes.
    pub fn byte_len(&self) -> u64 {
        u64::from(self.len) * SLOT_SIZE as u64
    }

    /// The number of instructions.
    pub fn instructions(&self) -> usize {
        self.len.saturating_sub(self.wide) as usize
    }

    /// The index of the instruction starting at slot `slot`.
    pub fn index_of_slot(&self, slot: u64) -> Option<usize> {
        let slot = usize::try_from(slot)
            .ok()
            .filter(|&s| s < self.len as usize)?;
        if self.wide == 0 {
            return Some(slot);
        }
        let word = self.halves.get(slot / 64)?;
        let bit = 1u64 << (slot % 64);
        if word.bits & bit != 0 {
            return None;
        }
        let halves_before = word.before + (word.bits & (bit - 1)).count_ones();
        Some(slot - halves_before as usize)
    }

    /// Whether an instruction starts at byte `offset` (what [`Slots::index_at`] finds,
    /// without counting the instructions before it).
    pub fn starts_at(&self, offset: u64) -> bool {
        let Some(slot) = usize::try_from(offset / SLOT_SIZE as u64)
            .ok()
            .filter(|&s| offset % SLOT_SIZE as u64 == 0 && s < self.len as usize)
        else {
            return false;
        };
        self.halves
            .get(slot / 64)
            .is_none_or(|w| w.bits & (1 << (slot % 64)) == 0)
    }

    /// The index of the instruction starting at byte `offset`.
    pub fn index_at(&self, offset: u64) -> Option<usize> {
        if offset % SLOT_SIZE as u64 != 0 {
            return None;
        }
        self.index_of_slot(offset / SLOT_SIZE as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_skip_second_halves() {
        // Slots: 0 insn 0, 1-2 ld_imm64 (insn 1), 3 insn 2, 4-5 ld_imm64 (insn 3), 6-7
        // ld_imm64 (insn 4), 8 insn 5.
        let s = Slots::new(9, &[1, 4, 6]);
        let got: Vec<_> = (0..10).map(|slot| s.index_of_slot(slot)).collect();
        assert_eq!(
            got,
            [
                Some(0),
                Some(1),
                None,
                Some(2),
                Some(3),
                None,
                Some(4),
                None,
                Some(5),
                None
            ]
        );
        assert_eq!(s.instructions(), 6);
        assert_eq!(s.byte_len(), 72);
        assert_eq!(s.index_at(24), Some(2));
        assert_eq!(s.index_at(25), None);
        // `starts_at` agrees with `index_at` at every byte, in and past the section.
        for table in [&s, &Slots::new(3, &[]), &Slots::new(130, &[0, 62, 64, 127])] {
            for off in 0..(table.byte_len() + 24) {
                assert_eq!(table.starts_at(off), table.index_at(off).is_some(), "{off}");
            }
        }
        // Across words: slot 130 - 2 is the last; 64 and 128 are second halves.
        let long = Slots::new(130, &[0, 63, 127]);
        assert_eq!(long.index_of_slot(1), None);
        assert_eq!(long.index_of_slot(64), None);
        assert_eq!(long.index_of_slot(65), Some(63));
        assert_eq!(long.index_of_slot(128), None);
        assert_eq!(long.index_of_slot(129), Some(126));
        assert_eq!(long.index_of_slot(130), None);
        assert_eq!(long.instructions(), 127);
        let plain = Slots::new(3, &[]);
        assert_eq!(plain.index_at(16), Some(2));
        assert_eq!(plain.index_at(24), None);
        assert_eq!(plain.instructions(), 3);
        let last = Slots::new(3, &[1]);
        assert_eq!(
            (0..4).map(|s| last.index_of_slot(s)).collect::<Vec<_>>(),
            [Some(0), Some(1), None, None]
        );
    }
}
