//! Classification of an instruction into what it does, with the kernel's reserved-field rules.

use crate::{
    AluOp, AtomicOp, Class, Instruction, InvalidReason, JumpOp, Mode, OpSource, PseudoCall,
    Register, Size,
};

/// The second operand of an ALU or conditional jump instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operand {
    Reg(Register),
    Imm(i32),
}

/// What an instruction does, once checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Two-operand arithmetic, including `mov` (not `neg`, `end`, `movsx`).
    Alu {
        wide: bool,
        op: AluOp,
        signed: bool,
        operand: Operand,
    },
    MovSx {
        wide: bool,
        bits: i16,
    },
    AddrSpaceCast {
        dst_as: u16,
        src_as: u16,
    },
    Neg {
        wide: bool,
    },
    Endian {
        swap: crate::ByteSwap,
        bits: i64,
    },
    LoadImm64 {
        pseudo: u8,
    },
    LoadAbs {
        size: Size,
    },
    LoadInd {
        size: Size,
    },
    Load {
        size: Size,
        signed: bool,
    },
    StoreImm {
        size: Size,
    },
    Store {
        size: Size,
    },
    Atomic {
        size: Size,
        op: AtomicOp,
    },
    Ja,
    Gotol,
    MayGoto,
    CondJump {
        wide: bool,
        op: JumpOp,
        operand: Operand,
    },
    Call(PseudoCall),
    Callx,
    Exit,
}

fn reserved(field: &'static str, value: i64, want: i64) -> Result<(), InvalidReason> {
    if value == want {
        Ok(())
    } else {
        Err(InvalidReason::ReservedField { field, value, want })
    }
}

fn check(
    ins: &Instruction,
    dst: bool,
    src: bool,
    off: bool,
    imm: bool,
) -> Result<(), InvalidReason> {
    if !dst {
        reserved("dst", i64::from(ins.dst.number()), 0)?;
    }
    if !src {
        reserved("src", i64::from(ins.src.number()), 0)?;
    }
    if !off {
        reserved("offset", i64::from(ins.offset), 0)?;
    }
    if !imm {
        reserved("imm", ins.constant, 0)?;
    }
    Ok(())
}

fn imm32(ins: &Instruction) -> Result<i32, InvalidReason> {
    i32::try_from(ins.constant).map_err(|_| InvalidReason::InvalidField {
        field: "imm",
        value: ins.constant,
    })
}

/// Classifies `ins` and checks that its register fields name registers: what the kernel
/// accepts as an instruction (before it looks at the program).
pub(crate) fn validate(ins: &Instruction) -> Result<Kind, InvalidReason> {
    let kind = classify(ins)?;
    // Every field `classify` lets through either names a register or holds a pseudo source
    // (at most 6, see there); unused fields are zero. So both fields must be defined.
    for (field, r) in [("dst", ins.dst), ("src", ins.src)] {
        if !r.is_defined() {
            return Err(InvalidReason::Register {
                field,
                register: r.number(),
            });
        }
    }
    Ok(kind)
}

/// Classifies `ins` by its opcode and fields, rejecting undefined opcodes and non-zero
/// reserved fields. Register numbers are not checked (see [`validate`]), so that an
/// instruction keeps its kind (a branch stays a branch) whatever its registers hold.
pub(crate) fn classify(ins: &Instruction) -> Result<Kind, InvalidReason> {
    let op = ins.op;
    let unknown = || InvalidReason::UnknownOpcode { opcode: op.raw() };
    if !ins.is_load_imm64() {
        imm32(ins)?;
    }
    match op.class() {
        Class::Alu | Class::Alu64 => classify_alu(ins),
        Class::Jmp | Class::Jmp32 => classify_jump(ins),
        Class::Ld => {
            let size = op.size();
            match op.mode() {
                Some(Mode::Imm) if size == Size::DW => {
                    check(ins, true, true, false, true)?;
                    if ins.src.number() > 6 {
                        return Err(InvalidReason::InvalidField {
                            field: "src",
                            value: i64::from(ins.src.number()),
                        });
                    }
                    Ok(Kind::LoadImm64 {
                        pseudo: ins.src.number(),
                    })
                }
                Some(Mode::Abs) if size != Size::DW => {
                    check(ins, false, false, false, true)?;
                    Ok(Kind::LoadAbs { size })
                }
                Some(Mode::Ind) if size != Size::DW => {
                    check(ins, false, true, false, true)?;
                    Ok(Kind::LoadInd { size })
                }
                _ => Err(unknown()),
            }
        }
        Class::Ldx => {
            let size = op.size();
            let signed = match op.mode() {
                Some(Mode::Mem) => false,
                Some(Mode::MemSx) if size != Size::DW => true,
                _ => return Err(unknown()),
            };
            check(ins, true, true, true, false)?;
            Ok(Kind::Load { size, signed })
        }
        Class::St => {
            if op.mode() != Some(Mode::Mem) {
                return Err(unknown());
            }
            check(ins, true, false, true, true)?;
            Ok(Kind::StoreImm { size: op.size() })
        }
        Class::Stx => {
            let size = op.size();
            match op.mode() {
                Some(Mode::Mem) => {
                    check(ins, true, true, true, false)?;
                    Ok(Kind::Store { size })
                }
                Some(Mode::Atomic) => {
                    let aop =
                        AtomicOp::from_imm(ins.constant).ok_or(InvalidReason::InvalidField {
                            field: "atomic imm",
                            value: ins.constant,
                        })?;
                    if !aop.allows_narrow() && !matches!(size, Size::W | Size::DW) {
                        return Err(InvalidReason::InvalidField {
                            field: "atomic size",
                            value: size.bytes() as i64,
                        });
                    }
                    Ok(Kind::Atomic { size, op: aop })
                }
                _ => Err(unknown()),
            }
        }
    }
}

fn classify_alu(ins: &Instruction) -> Result<Kind, InvalidReason> {
    let op = ins.op;
    let wide = op.class() == Class::Alu64;
    let alu = op
        .alu_op()
        .ok_or(InvalidReason::UnknownOpcode { opcode: op.raw() })?;
    let source = op.source();
    match alu {
        AluOp::Neg => {
            if source == OpSource::Reg {
                return Err(InvalidReason::UnknownOpcode { opcode: op.raw() });
            }
            check(ins, true, false, false, false)?;
            Ok(Kind::Neg { wide })
        }
        AluOp::End => {
            let swap = match (wide, source) {
                (false, OpSource::Imm) => crate::ByteSwap::ToLe,
                (false, OpSource::Reg) => crate::ByteSwap::ToBe,
                (true, OpSource::Imm) => crate::ByteSwap::Bswap,
                (true, OpSource::Reg) => {
                    return Err(InvalidReason::UnknownOpcode { opcode: op.raw() });
                }
            };
            check(ins, true, false, false, true)?;
            if !matches!(ins.constant, 16 | 32 | 64) {
                return Err(InvalidReason::InvalidField {
                    field: "imm",
                    value: ins.constant,
                });
            }
            Ok(Kind::Endian {
                swap,
                bits: ins.constant,
            })
        }
        _ => {
            let operand = match source {
                OpSource::Imm => {
                    check(ins, true, false, true, true)?;
                    Operand::Imm(imm32(ins)?)
                }
                OpSource::Reg => Operand::Reg(ins.src),
            };
            let signed = match (alu, ins.offset) {
                (_, 0) => false,
                (AluOp::Div | AluOp::Mod, 1) => true,
                (AluOp::Mov, 8 | 16) if source == OpSource::Reg => {
                    check(ins, true, true, true, false)?;
                    return Ok(Kind::MovSx {
                        wide,
                        bits: ins.offset,
                    });
                }
                (AluOp::Mov, 32) if source == OpSource::Reg && wide => {
                    check(ins, true, true, true, false)?;
                    return Ok(Kind::MovSx { wide, bits: 32 });
                }
                (AluOp::Mov, 1) if source == OpSource::Reg && wide => {
                    let imm = ins.constant as u32;
                    return Ok(Kind::AddrSpaceCast {
                        dst_as: (imm >> 16) as u16,
                        src_as: imm as u16,
                    });
                }
                (_, value) => {
                    return Err(InvalidReason::InvalidField {
                        field: "offset",
                        value: i64::from(value),
                    });
                }
            };
            if source == OpSource::Reg {
                check(ins, true, true, true, false)?;
            }
            Ok(Kind::Alu {
                wide,
                op: alu,
                signed,
                operand,
            })
        }
    }
}

fn classify_jump(ins: &Instruction) -> Result<Kind, InvalidReason> {
    let op = ins.op;
    let wide = op.class() == Class::Jmp;
    let unknown = || InvalidReason::UnknownOpcode { opcode: op.raw() };
    let jop = op.jump_op().ok_or_else(unknown)?;
    let source = op.source();
    match jop {
        JumpOp::Ja if source == OpSource::Imm => {
            if wide {
                check(ins, false, false, true, false)?;
                Ok(Kind::Ja)
            } else {
                check(ins, false, false, false, true)?;
                Ok(Kind::Gotol)
            }
        }
        JumpOp::Call if wide && source == OpSource::Imm => {
            let pc = PseudoCall::from_u8(ins.src.number()).ok_or(InvalidReason::InvalidField {
                field: "src",
                value: i64::from(ins.src.number()),
            })?;
            check(ins, false, true, pc == PseudoCall::Kfunc, true)?;
            Ok(Kind::Call(pc))
        }
        JumpOp::Call if wide => {
            check(ins, true, false, false, false)?;
            Ok(Kind::Callx)
        }
        JumpOp::Exit if wide && source == OpSource::Imm => {
            check(ins, false, false, false, false)?;
            Ok(Kind::Exit)
        }
        JumpOp::Cond if wide && source == OpSource::Imm => {
            check(ins, false, false, true, false)?;
            Ok(Kind::MayGoto)
        }
        j if j.is_conditional() => {
            let operand = match source {
                OpSource::Imm => {
                    check(ins, true, false, true, true)?;
                    Operand::Imm(imm32(ins)?)
                }
                OpSource::Reg => {
                    check(ins, true, true, true, false)?;
                    Operand::Reg(ins.src)
                }
            };
            Ok(Kind::CondJump {
                wide,
                op: j,
                operand,
            })
        }
        _ => Err(unknown()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Endianness, OpCode};

    /// Every opcode byte either classifies for some field values or is unknown; nothing panics.
    #[test]
    fn every_opcode_byte() {
        let mut valid = 0;
        for code in 0..=255u8 {
            for (src, off, imm) in [
                (0u8, 0i16, 0i64),
                (1, 0, 0),
                (0, 1, 0),
                (0, 0, 16),
                (1, 8, 0),
                (0, 0, 1),
                (0, 0, 0x100),
            ] {
                let src = Register::from_u8(src).unwrap_or_default();
                let ins = Instruction::new(OpCode(code), Register::R1, src, off, imm);
                if classify(&ins).is_ok() {
                    valid += 1;
                    let bytes = ins.encode(Endianness::Little).unwrap_or_default();
                    let mut padded = bytes.clone();
                    padded.resize(16, 0);
                    let (back, _) =
                        Instruction::decode(&padded, Endianness::Little).unwrap_or_default();
                    assert_eq!(back, ins);
                }
            }
        }
        assert!(valid > 100, "{valid}");
    }
}
