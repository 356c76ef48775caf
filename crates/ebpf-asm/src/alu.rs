//! Arithmetic: the ALU operations and their builders.

use crate::{Class, Instruction, OpCode, OpSource, Register};

/// An ALU operation (bits 4-7 of the opcode in the ALU and ALU64 classes).
///
/// Signed division and modulo are `Div` and `Mod` with offset 1; sign-extending moves are
/// `Mov` with offset 8, 16 or 32; byte swaps are `End`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AluOp {
    /// `dst += src`
    Add = 0x00,
    /// `dst -= src`
    Sub = 0x10,
    /// `dst *= src`
    Mul = 0x20,
    /// `dst /= src` (unsigned; signed with offset 1)
    Div = 0x30,
    /// `dst |= src`
    Or = 0x40,
    /// `dst &= src`
    And = 0x50,
    /// `dst <<= src`
    Lsh = 0x60,
    /// `dst >>= src` (logical)
    Rsh = 0x70,
    /// `dst = -dst`
    Neg = 0x80,
    /// `dst %= src` (unsigned; signed with offset 1)
    Mod = 0x90,
    /// `dst ^= src`
    Xor = 0xa0,
    /// `dst = src` (sign-extending with offset 8, 16, 32)
    Mov = 0xb0,
    /// `dst s>>= src` (arithmetic)
    Arsh = 0xc0,
    /// Byte-order conversion.
    End = 0xd0,
}

impl AluOp {
    /// The operation in bits 4-7 of `opcode`, if defined.
    pub const fn from_bits(opcode: u8) -> Option<AluOp> {
        Some(match opcode & 0xf0 {
            0x00 => AluOp::Add,
            0x10 => AluOp::Sub,
            0x20 => AluOp::Mul,
            0x30 => AluOp::Div,
            0x40 => AluOp::Or,
            0x50 => AluOp::And,
            0x60 => AluOp::Lsh,
            0x70 => AluOp::Rsh,
            0x80 => AluOp::Neg,
            0x90 => AluOp::Mod,
            0xa0 => AluOp::Xor,
            0xb0 => AluOp::Mov,
            0xc0 => AluOp::Arsh,
            0xd0 => AluOp::End,
            _ => return None,
        })
    }

    const fn build(
        self,
        class: Class,
        source: OpSource,
        dst: Register,
        src: Register,
        offset: i16,
        imm: i32,
    ) -> Instruction {
        Instruction::new(
            OpCode::alu(class, self, source),
            dst,
            src,
            offset,
            imm as i64,
        )
    }

    /// 64-bit `dst op= imm`.
    pub const fn imm(self, dst: Register, imm: i32) -> Instruction {
        self.build(Class::Alu64, OpSource::Imm, dst, Register::R0, 0, imm)
    }

    /// 32-bit `dst op= imm`.
    pub const fn imm32(self, dst: Register, imm: i32) -> Instruction {
        self.build(Class::Alu, OpSource::Imm, dst, Register::R0, 0, imm)
    }

    /// 64-bit `dst op= src`.
    pub const fn reg(self, dst: Register, src: Register) -> Instruction {
        self.build(Class::Alu64, OpSource::Reg, dst, src, 0, 0)
    }

    /// 32-bit `dst op= src`.
    pub const fn reg32(self, dst: Register, src: Register) -> Instruction {
        self.build(Class::Alu, OpSource::Reg, dst, src, 0, 0)
    }

    /// 64-bit signed form (`s/=`, `s%=`; offset 1) with an immediate. Only for `Div` and `Mod`.
    pub const fn signed_imm(self, dst: Register, imm: i32) -> Instruction {
        self.build(Class::Alu64, OpSource::Imm, dst, Register::R0, 1, imm)
    }

    /// 32-bit signed form with an immediate. Only for `Div` and `Mod`.
    pub const fn signed_imm32(self, dst: Register, imm: i32) -> Instruction {
        self.build(Class::Alu, OpSource::Imm, dst, Register::R0, 1, imm)
    }

    /// 64-bit signed form with a register. Only for `Div` and `Mod`.
    pub const fn signed_reg(self, dst: Register, src: Register) -> Instruction {
        self.build(Class::Alu64, OpSource::Reg, dst, src, 1, 0)
    }

    /// 32-bit signed form with a register. Only for `Div` and `Mod`.
    pub const fn signed_reg32(self, dst: Register, src: Register) -> Instruction {
        self.build(Class::Alu, OpSource::Reg, dst, src, 1, 0)
    }
}

/// `dst = imm` (64-bit, sign-extended).
pub const fn mov64(dst: Register, imm: i32) -> Instruction {
    AluOp::Mov.imm(dst, imm)
}

/// `dst = src` (64-bit).
pub const fn mov64_reg(dst: Register, src: Register) -> Instruction {
    AluOp::Mov.reg(dst, src)
}

/// `wdst = imm` (32-bit, zero-extended).
pub const fn mov32(dst: Register, imm: i32) -> Instruction {
    AluOp::Mov.imm32(dst, imm)
}

/// `wdst = wsrc` (32-bit, zero-extended).
pub const fn mov32_reg(dst: Register, src: Register) -> Instruction {
    AluOp::Mov.reg32(dst, src)
}

/// `dst = (sN)src`: 64-bit sign-extending move from the low `bits` (8, 16 or 32) bits.
pub const fn movsx64(dst: Register, src: Register, bits: i16) -> Instruction {
    Instruction::new(
        OpCode::alu(Class::Alu64, AluOp::Mov, OpSource::Reg),
        dst,
        src,
        bits,
        0,
    )
}

/// `wdst = (sN)wsrc`: 32-bit sign-extending move from the low `bits` (8 or 16) bits.
pub const fn movsx32(dst: Register, src: Register, bits: i16) -> Instruction {
    Instruction::new(
        OpCode::alu(Class::Alu, AluOp::Mov, OpSource::Reg),
        dst,
        src,
        bits,
        0,
    )
}

/// `dst = -dst` (64-bit).
pub const fn neg64(dst: Register) -> Instruction {
    AluOp::Neg.imm(dst, 0)
}

/// `wdst = -wdst` (32-bit).
pub const fn neg32(dst: Register) -> Instruction {
    AluOp::Neg.imm32(dst, 0)
}

/// `dst = addr_space_cast(src, dst_as, src_as)` (arena pointers).
pub const fn addr_space_cast(
    dst: Register,
    src: Register,
    dst_as: u16,
    src_as: u16,
) -> Instruction {
    let imm = ((dst_as as u32) << 16 | src_as as u32) as i32;
    Instruction::new(
        OpCode::alu(Class::Alu64, AluOp::Mov, OpSource::Reg),
        dst,
        src,
        1,
        imm as i64,
    )
}

/// A byte-order conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteSwap {
    /// `dst = leN dst`: convert between host and little endian (ALU class, `BPF_K`).
    ToLe,
    /// `dst = beN dst`: convert between host and big endian (ALU class, `BPF_X`).
    ToBe,
    /// `dst = bswapN dst`: unconditional swap (ALU64 class, ISA v4).
    Bswap,
}

impl ByteSwap {
    /// The conversion of `dst` over `bits` (16, 32 or 64) bits.
    pub const fn build(self, dst: Register, bits: i32) -> Instruction {
        let (class, source) = match self {
            ByteSwap::ToLe => (Class::Alu, OpSource::Imm),
            ByteSwap::ToBe => (Class::Alu, OpSource::Reg),
            ByteSwap::Bswap => (Class::Alu64, OpSource::Imm),
        };
        Instruction::new(
            OpCode::alu(class, AluOp::End, source),
            dst,
            Register::R0,
            0,
            bits as i64,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Endianness;

    #[test]
    fn encodings() {
        let le = |i: Instruction| i.encode(Endianness::Little).ok();
        assert_eq!(
            le(AluOp::Add.imm(Register::R1, 22)),
            Some(vec![0x07, 0x01, 0, 0, 22, 0, 0, 0])
        );
        assert_eq!(
            le(AluOp::Add.reg32(Register::R1, Register::R2)),
            Some(vec![0x0c, 0x21, 0, 0, 0, 0, 0, 0])
        );
        assert_eq!(
            le(AluOp::Div.signed_reg(Register::R1, Register::R2)),
            Some(vec![0x3f, 0x21, 1, 0, 0, 0, 0, 0])
        );
        assert_eq!(
            le(movsx64(Register::R1, Register::R2, 8)),
            Some(vec![0xbf, 0x21, 8, 0, 0, 0, 0, 0])
        );
        assert_eq!(
            le(ByteSwap::Bswap.build(Register::R1, 64)),
            Some(vec![0xd7, 0x01, 0, 0, 64, 0, 0, 0])
        );
        assert_eq!(AluOp::from_bits(0xe0), None);
        for i in [
            mov64(Register::R0, 1),
            mov64_reg(Register::R0, Register::R1),
            mov32(Register::R0, 1),
            mov32_reg(Register::R0, Register::R1),
            movsx32(Register::R0, Register::R1, 16),
            neg64(Register::R1),
            neg32(Register::R1),
            addr_space_cast(Register::R1, Register::R2, 1, 0),
            AluOp::Mod.signed_imm(Register::R1, 3),
            AluOp::Mod.signed_imm32(Register::R1, 3),
            AluOp::Div.signed_reg32(Register::R1, Register::R2),
            ByteSwap::ToLe.build(Register::R1, 16),
            ByteSwap::ToBe.build(Register::R1, 32),
            AluOp::Sub.imm32(Register::R1, 1),
            AluOp::Xor.reg(Register::R1, Register::R2),
        ] {
            assert_eq!(i.validate(), Ok(()), "{i:?}");
        }
    }
}
