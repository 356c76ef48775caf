//! Applying a [`Fixup`] to an instruction (libbpf's `bpf_core_patch_insn`).
//!
//! Patched instruction kinds: ALU/ALU64 with an immediate (`imm`), LDX/ST/STX (`off`, and
//! the access size when the field's size changed and that is safe: unsigned ints and
//! pointers), and `ld_imm64` (the 64-bit immediate). The instruction must hold the value
//! computed from the local type unless the fixup is unchecked (bitfields, type ids).

use std::fmt;

use ebpf_asm::{Instruction, OpCode, Register, Size};

// Opcode classes (`BPF_CLASS`), read from the raw byte so this stays independent of how
// the asm crate names its typed views.
const LD: u8 = 0x00;
const LDX: u8 = 0x01;
const ST: u8 = 0x02;
const STX: u8 = 0x03;
const ALU: u8 = 0x04;
const ALU64: u8 = 0x07;
/// `BPF_X`: register source.
const SRC_X: u8 = 0x08;

use super::error::{CoreError, CoreErrorKind};
use super::{Fixup, poison};

/// What [`Fixup::apply`] changed, worded like libbpf's debug log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Patch {
    /// ALU/ALU64 immediate: `(ALU/ALU64) imm old -> new`.
    Imm {
        /// Previous immediate (sign-extended, as libbpf prints it).
        old: u64,
        /// New value (truncated to 32 bits in the instruction).
        new: u64,
    },
    /// LDX/ST/STX offset: `(LDX/ST/STX) off old -> new`, and maybe `mem_sz a -> b`.
    Offset {
        /// Previous offset (sign-extended).
        old: u64,
        /// New offset.
        new: u64,
        /// Access size change in bytes, if any.
        mem_size: Option<(u32, u32)>,
    },
    /// `ld_imm64`: `(LDIMM64) imm64 old -> new`.
    Imm64 {
        /// Previous value.
        old: u64,
        /// New value.
        new: u64,
    },
    /// The instruction was replaced by an invalid one.
    Poisoned,
}

impl fmt::Display for Patch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Imm { old, new } => write!(f, "(ALU/ALU64) imm {old} -> {new}"),
            Self::Offset { old, new, mem_size } => {
                write!(f, "(LDX/ST/STX) off {old} -> {new}")?;
                if let Some((a, b)) = mem_size {
                    write!(f, ", mem_sz {a} -> {b}")?;
                }
                Ok(())
            }
            Self::Imm64 { old, new } => write!(f, "(LDIMM64) imm64 {old} -> {new}"),
            Self::Poisoned => write!(f, "invalid insn"),
        }
    }
}

impl Fixup {
    /// Applies the fixup to `ins`, checking first that it holds the expected local value.
    ///
    /// # Errors
    /// The instruction is of a kind CO-RE does not patch, holds an unexpected value or
    /// access size, or the new value does not fit.
    pub fn apply(&self, ins: &mut Instruction) -> Result<Patch, CoreError> {
        if self.poisoned {
            poison(ins);
            return Ok(Patch::Poisoned);
        }
        let (orig, new) = (self.local_value, self.target_value);
        let bad = |reason: &'static str, ins: &Instruction| {
            self.error(CoreErrorKind::BadInstruction {
                insn: ins.to_string(),
                reason,
            })
        };
        match ins.op.raw() & 0x07 {
            ALU | ALU64 => {
                if ins.op.raw() & SRC_X != 0 {
                    return Err(bad("ALU with a register source", ins));
                }
                let imm = ins.constant as i32;
                let got = i64::from(imm) as u64;
                if self.validate && got != orig {
                    return Err(self.error(CoreErrorKind::UnexpectedValue {
                        what: "imm",
                        got,
                        expected: orig,
                        new,
                    }));
                }
                ins.constant = i64::from(new as u32 as i32);
                Ok(Patch::Imm { old: got, new })
            }
            LDX | ST | STX => {
                let got = i64::from(ins.offset) as u64;
                if self.validate && got != orig {
                    return Err(self.error(CoreErrorKind::UnexpectedValue {
                        what: "off",
                        got,
                        expected: orig,
                        new,
                    }));
                }
                if new > i16::MAX as u64 {
                    return Err(self.error(CoreErrorKind::OffsetTooBig(new)));
                }
                if self.size_change_forbidden {
                    poison(ins);
                    return Ok(Patch::Poisoned);
                }
                let mut mem_size = None;
                if self.local_size != self.target_size {
                    let have = Size::from_opcode(ins.op.raw()).bytes() as u32;
                    if have != self.local_size {
                        return Err(self.error(CoreErrorKind::UnexpectedMemSize {
                            got: have,
                            expected: self.local_size,
                        }));
                    }
                    let Some(size) = Size::from_bytes(self.target_size as usize) else {
                        return Err(self.error(CoreErrorKind::InvalidMemSize(self.target_size)));
                    };
                    ins.op = OpCode((ins.op.raw() & !0x18) | size as u8);
                    mem_size = Some((self.local_size, self.target_size));
                }
                ins.offset = new as i16;
                Ok(Patch::Offset {
                    old: got,
                    new,
                    mem_size,
                })
            }
            LD => {
                if !ins.is_load_imm64() || ins.src != Register::R0 || ins.offset != 0 {
                    return Err(bad("ld_imm64 of unexpected form", ins));
                }
                let got = ins.constant as u64;
                if self.validate && got != orig {
                    return Err(self.error(CoreErrorKind::UnexpectedValue {
                        what: "imm64",
                        got,
                        expected: orig,
                        new,
                    }));
                }
                ins.constant = new as i64;
                Ok(Patch::Imm64 { old: got, new })
            }
            _ => Err(bad("not an ALU, load/store or ld_imm64 instruction", ins)),
        }
    }
}
