//! Atomic memory operations (`BPF_STX | BPF_ATOMIC`), selected by the immediate.

use crate::{Class, Instruction, Mode, OpCode, Register, Size};

const FETCH: i32 = 0x01;

/// An atomic operation, as encoded in the immediate of `BPF_STX | BPF_ATOMIC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AtomicOp {
    /// `lock *(dst + off) += src`
    Add,
    /// `lock *(dst + off) |= src`
    Or,
    /// `lock *(dst + off) &= src`
    And,
    /// `lock *(dst + off) ^= src`
    Xor,
    /// `src = atomic_fetch_add(dst + off, src)`
    FetchAdd,
    /// `src = atomic_fetch_or(dst + off, src)`
    FetchOr,
    /// `src = atomic_fetch_and(dst + off, src)`
    FetchAnd,
    /// `src = atomic_fetch_xor(dst + off, src)`
    FetchXor,
    /// `src = xchg(dst + off, src)`
    Xchg,
    /// `r0 = cmpxchg(dst + off, r0, src)`
    CmpXchg,
    /// `dst = load_acquire(src + off)`: note the register roles of a load.
    LoadAcquire,
    /// `store_release(dst + off, src)`
    StoreRelease,
}

impl AtomicOp {
    /// Every atomic operation.
    pub const ALL: [AtomicOp; 12] = [
        AtomicOp::Add,
        AtomicOp::Or,
        AtomicOp::And,
        AtomicOp::Xor,
        AtomicOp::FetchAdd,
        AtomicOp::FetchOr,
        AtomicOp::FetchAnd,
        AtomicOp::FetchXor,
        AtomicOp::Xchg,
        AtomicOp::CmpXchg,
        AtomicOp::LoadAcquire,
        AtomicOp::StoreRelease,
    ];

    /// The immediate that selects this operation.
    pub const fn imm(self) -> i32 {
        match self {
            AtomicOp::Add => 0x00,
            AtomicOp::Or => 0x40,
            AtomicOp::And => 0x50,
            AtomicOp::Xor => 0xa0,
            AtomicOp::FetchAdd => FETCH,
            AtomicOp::FetchOr => 0x40 | FETCH,
            AtomicOp::FetchAnd => 0x50 | FETCH,
            AtomicOp::FetchXor => 0xa0 | FETCH,
            AtomicOp::Xchg => 0xe0 | FETCH,
            AtomicOp::CmpXchg => 0xf0 | FETCH,
            AtomicOp::LoadAcquire => 0x100,
            AtomicOp::StoreRelease => 0x110,
        }
    }

    /// The operation selected by `imm`, if defined.
    pub const fn from_imm(imm: i64) -> Option<AtomicOp> {
        let mut i = 0;
        while i < AtomicOp::ALL.len() {
            if AtomicOp::ALL[i].imm() as i64 == imm {
                return Some(AtomicOp::ALL[i]);
            }
            i += 1;
        }
        None
    }

    /// Whether the old value is returned (`FETCH` forms, `xchg`, `cmpxchg`).
    pub const fn fetches(self) -> bool {
        self.imm() & FETCH != 0 && !matches!(self, AtomicOp::LoadAcquire | AtomicOp::StoreRelease)
    }

    /// Whether the operation allows 8- and 16-bit sizes (load-acquire and store-release do).
    pub const fn allows_narrow(self) -> bool {
        matches!(self, AtomicOp::LoadAcquire | AtomicOp::StoreRelease)
    }

    /// The instruction `op` on `size` bytes at `dst + offset` with operand `src`.
    ///
    /// For [`AtomicOp::LoadAcquire`], `dst` is the register loaded and `src` the base.
    pub const fn mem(self, dst: Register, src: Register, offset: i16, size: Size) -> Instruction {
        Instruction::new(
            OpCode::load_store(Class::Stx, Mode::Atomic, size),
            dst,
            src,
            offset,
            self.imm() as i64,
        )
    }
}

/// `dst = load_acquire(src + offset)` of `size` bytes.
pub const fn load_acquire(dst: Register, src: Register, offset: i16, size: Size) -> Instruction {
    AtomicOp::LoadAcquire.mem(dst, src, offset, size)
}

/// `store_release(dst + offset, src)` of `size` bytes.
pub const fn store_release(dst: Register, offset: i16, src: Register, size: Size) -> Instruction {
    AtomicOp::StoreRelease.mem(dst, src, offset, size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imm_round_trip() {
        for op in AtomicOp::ALL {
            assert_eq!(AtomicOp::from_imm(i64::from(op.imm())), Some(op));
        }
        assert_eq!(AtomicOp::from_imm(2), None);
        assert!(
            AtomicOp::Xchg.fetches()
                && !AtomicOp::Add.fetches()
                && !AtomicOp::LoadAcquire.fetches()
        );
        assert_eq!(
            load_acquire(Register::R1, Register::R2, 0, Size::B).validate(),
            Ok(())
        );
        assert_eq!(
            store_release(Register::R1, 0, Register::R2, Size::H).validate(),
            Ok(())
        );
        assert!(
            AtomicOp::Add
                .mem(Register::R1, Register::R2, 0, Size::B)
                .validate()
                .is_err()
        );
    }
}
