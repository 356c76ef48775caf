//! [`Slots`]: where the instructions of a code section start. A section without `ld_imm64`
//! (the only instruction two slots wide) has an instruction at every slot, and no table.

use ebpf_asm::SLOT_SIZE;

/// Marks a slot where no instruction starts.
const NONE: u32 = u32::MAX;

/// Where the instructions of a code section start: one per 8-byte slot, except the second
/// slot of each `ld_imm64`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Slots {
    /// The number of slots.
    len: u32,
    /// The number of `ld_imm64`s.
    wide: u32,
    /// The index of the instruction at each slot ([`NONE`] for a second half); empty when
    /// there is no `ld_imm64` (the index is the slot).
    table: Vec<u32>,
}

impl Slots {
    /// `len` slots with `ld_imm64`s at `wide` (sorted, each followed by its second slot).
    pub fn new(len: u32, wide: &[u32]) -> Slots {
        let mut table = Vec::new();
        if !wide.is_empty() {
            table.reserve(len as usize);
            let (mut slot, mut index) = (0, 0);
            for &w in wide {
                let run = w.saturating_sub(slot);
                table.extend(index..index + run);
                table.extend([index + run, NONE]);
                index += run + 1;
                slot = w + 2;
            }
            table.extend(index..index + len.saturating_sub(slot));
        }
        Slots {
            len,
            // Fewer `ld_imm64`s than slots.
            wide: u32::try_from(wide.len()).unwrap_or(len),
            table,
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
        let slot = usize::try_from(slot).ok()?;
        if self.wide == 0 {
            return (slot < self.len as usize).then_some(slot);
        }
        match self.table.get(slot) {
            Some(&i) if i != NONE => Some(i as usize),
            _ => None,
        }
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
