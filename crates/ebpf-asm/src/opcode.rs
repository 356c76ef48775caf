//! The opcode byte and its typed parts: class, size, mode, ALU/jump operation and source.

use std::fmt;

use crate::{AluOp, JumpOp};

/// The instruction class: the low three bits of the opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// Non-standard loads: `ld_imm64` and the legacy packet loads.
    Ld = 0x00,
    /// Loads from memory into a register.
    Ldx = 0x01,
    /// Stores of an immediate into memory.
    St = 0x02,
    /// Stores of a register into memory, and atomics.
    Stx = 0x03,
    /// 32-bit arithmetic.
    Alu = 0x04,
    /// 64-bit jumps, calls and exit.
    Jmp = 0x05,
    /// 32-bit jumps (and `gotol`).
    Jmp32 = 0x06,
    /// 64-bit arithmetic.
    Alu64 = 0x07,
}

impl Class {
    /// The class encoded in the low three bits of `opcode`.
    pub const fn from_opcode(opcode: u8) -> Class {
        match opcode & 0x07 {
            0x00 => Class::Ld,
            0x01 => Class::Ldx,
            0x02 => Class::St,
            0x03 => Class::Stx,
            0x04 => Class::Alu,
            0x05 => Class::Jmp,
            0x06 => Class::Jmp32,
            _ => Class::Alu64,
        }
    }

    /// Whether this is a load or store class (the opcode holds mode and size).
    pub const fn is_load_store(self) -> bool {
        matches!(self, Class::Ld | Class::Ldx | Class::St | Class::Stx)
    }

    /// Whether this is an arithmetic class.
    pub const fn is_alu(self) -> bool {
        matches!(self, Class::Alu | Class::Alu64)
    }

    /// Whether this is a jump class.
    pub const fn is_jump(self) -> bool {
        matches!(self, Class::Jmp | Class::Jmp32)
    }
}

/// The access size of a load or store (bits 3-4 of the opcode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Size {
    /// Four bytes (`u32`).
    W = 0x00,
    /// Two bytes (`u16`).
    H = 0x08,
    /// One byte (`u8`).
    B = 0x10,
    /// Eight bytes (`u64`).
    DW = 0x18,
}

impl Size {
    /// The size encoded in `opcode`.
    pub const fn from_opcode(opcode: u8) -> Size {
        match opcode & 0x18 {
            0x00 => Size::W,
            0x08 => Size::H,
            0x10 => Size::B,
            _ => Size::DW,
        }
    }

    /// The number of bytes accessed.
    pub const fn bytes(self) -> usize {
        match self {
            Size::B => 1,
            Size::H => 2,
            Size::W => 4,
            Size::DW => 8,
        }
    }

    /// The size with `bytes` bytes, if there is one.
    pub const fn from_bytes(bytes: usize) -> Option<Size> {
        match bytes {
            1 => Some(Size::B),
            2 => Some(Size::H),
            4 => Some(Size::W),
            8 => Some(Size::DW),
            _ => None,
        }
    }
}

/// The mode of a load or store (bits 5-7 of the opcode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    /// 64-bit immediate (`ld_imm64`).
    Imm = 0x00,
    /// Legacy packet access, absolute offset.
    Abs = 0x20,
    /// Legacy packet access, indirect offset.
    Ind = 0x40,
    /// Regular memory access.
    Mem = 0x60,
    /// Sign-extending load (ISA v4).
    MemSx = 0x80,
    /// Atomic operation.
    Atomic = 0xc0,
}

impl Mode {
    /// The mode encoded in `opcode`, if it is a defined one.
    pub const fn from_opcode(opcode: u8) -> Option<Mode> {
        match opcode & 0xe0 {
            0x00 => Some(Mode::Imm),
            0x20 => Some(Mode::Abs),
            0x40 => Some(Mode::Ind),
            0x60 => Some(Mode::Mem),
            0x80 => Some(Mode::MemSx),
            0xc0 => Some(Mode::Atomic),
            _ => None,
        }
    }
}

/// Where the second operand of an ALU or jump instruction comes from (bit 3 of the opcode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpSource {
    /// The 32-bit immediate (`BPF_K`); for byte swaps: to little endian.
    Imm = 0x00,
    /// The source register (`BPF_X`); for byte swaps: to big endian.
    Reg = 0x08,
}

impl OpSource {
    /// The source encoded in `opcode`.
    pub const fn from_opcode(opcode: u8) -> OpSource {
        if opcode & 0x08 == 0 {
            OpSource::Imm
        } else {
            OpSource::Reg
        }
    }
}

/// The opcode byte of an instruction, with typed views of its parts.
///
/// Any byte value can be held; [`crate::Instruction::validate`] tells whether the whole
/// instruction is a defined one.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct OpCode(pub u8);

impl OpCode {
    /// The opcode of the first half of `ld_imm64` (`BPF_LD | BPF_IMM | BPF_DW`).
    pub const LOAD_IMM64: OpCode = OpCode(0x18);

    /// An ALU or jump opcode from its parts (`op` is the 4-bit operation, pre-shifted).
    pub const fn from_parts(class: Class, op: u8, source: OpSource) -> OpCode {
        OpCode((op & 0xf0) | source as u8 | class as u8)
    }

    /// An ALU opcode.
    pub const fn alu(class: Class, op: AluOp, source: OpSource) -> OpCode {
        OpCode::from_parts(class, op as u8, source)
    }

    /// A jump opcode.
    pub const fn jump(class: Class, op: JumpOp, source: OpSource) -> OpCode {
        OpCode::from_parts(class, op as u8, source)
    }

    /// A load or store opcode.
    pub const fn load_store(class: Class, mode: Mode, size: Size) -> OpCode {
        OpCode(mode as u8 | size as u8 | class as u8)
    }

    /// The raw byte.
    pub const fn raw(self) -> u8 {
        self.0
    }

    /// The class.
    pub const fn class(self) -> Class {
        Class::from_opcode(self.0)
    }

    /// The access size (meaningful for load and store classes).
    pub const fn size(self) -> Size {
        Size::from_opcode(self.0)
    }

    /// The mode (meaningful for load and store classes).
    pub const fn mode(self) -> Option<Mode> {
        Mode::from_opcode(self.0)
    }

    /// The source bit (meaningful for ALU and jump classes).
    pub const fn source(self) -> OpSource {
        OpSource::from_opcode(self.0)
    }

    /// The ALU operation, for ALU classes.
    pub const fn alu_op(self) -> Option<AluOp> {
        if self.class().is_alu() {
            AluOp::from_bits(self.0)
        } else {
            None
        }
    }

    /// The jump operation, for jump classes.
    pub const fn jump_op(self) -> Option<JumpOp> {
        if self.class().is_jump() {
            JumpOp::from_bits(self.0)
        } else {
            None
        }
    }

    /// Whether this is the first half of `ld_imm64`, which takes two slots.
    pub const fn is_load_imm64(self) -> bool {
        self.0 == OpCode::LOAD_IMM64.0
    }
}

impl fmt::Debug for OpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OpCode({:#04x}: {:?}", self.0, self.class())?;
        if self.class().is_load_store() {
            write!(f, ", {:?}, {:?})", self.mode(), self.size())
        } else if let Some(op) = self.alu_op() {
            write!(f, ", {op:?}, {:?})", self.source())
        } else if let Some(op) = self.jump_op() {
            write!(f, ", {op:?}, {:?})", self.source())
        } else {
            write!(f, ")")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_round_trip() {
        for raw in 0..=255u8 {
            let op = OpCode(raw);
            if op.class().is_load_store() {
                if let Some(mode) = op.mode() {
                    assert_eq!(OpCode::load_store(op.class(), mode, op.size()), op);
                }
            } else if let Some(alu) = op.alu_op() {
                assert_eq!(OpCode::alu(op.class(), alu, op.source()), op);
            } else if let Some(j) = op.jump_op() {
                assert_eq!(OpCode::jump(op.class(), j, op.source()), op);
            }
        }
        assert_eq!(Size::from_bytes(8), Some(Size::DW));
        assert_eq!(Size::DW.bytes(), 8);
        assert!(format!("{:?}", OpCode(0x61)).contains("Ldx"));
    }
}
