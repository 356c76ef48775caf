//! Jumps, calls and exit: the jump operations and their builders.

use crate::helpers::Helper;
use crate::{Class, Instruction, OpCode, OpSource, PseudoCall, Register};

/// A jump operation (bits 4-7 of the opcode in the JMP and JMP32 classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JumpOp {
    /// `goto` (JMP, by offset) or `gotol` (JMP32, by 32-bit immediate).
    Ja = 0x00,
    /// `==`
    Eq = 0x10,
    /// `>` unsigned
    Gt = 0x20,
    /// `>=` unsigned
    Ge = 0x30,
    /// `&` (jump if any bit is set)
    Set = 0x40,
    /// `!=`
    Ne = 0x50,
    /// `s>`
    Sgt = 0x60,
    /// `s>=`
    Sge = 0x70,
    /// Function call.
    Call = 0x80,
    /// Return.
    Exit = 0x90,
    /// `<` unsigned
    Lt = 0xa0,
    /// `<=` unsigned
    Le = 0xb0,
    /// `s<`
    Slt = 0xc0,
    /// `s<=`
    Sle = 0xd0,
    /// Conditional pseudo jump: `may_goto` (ISA v4).
    Cond = 0xe0,
}

impl JumpOp {
    /// The operation in bits 4-7 of `opcode`, if defined.
    pub const fn from_bits(opcode: u8) -> Option<JumpOp> {
        Some(match opcode & 0xf0 {
            0x00 => JumpOp::Ja,
            0x10 => JumpOp::Eq,
            0x20 => JumpOp::Gt,
            0x30 => JumpOp::Ge,
            0x40 => JumpOp::Set,
            0x50 => JumpOp::Ne,
            0x60 => JumpOp::Sgt,
            0x70 => JumpOp::Sge,
            0x80 => JumpOp::Call,
            0x90 => JumpOp::Exit,
            0xa0 => JumpOp::Lt,
            0xb0 => JumpOp::Le,
            0xc0 => JumpOp::Slt,
            0xd0 => JumpOp::Sle,
            0xe0 => JumpOp::Cond,
            _ => return None,
        })
    }

    /// Whether this is a conditional comparison (`Eq` ... `Sle`, not `Ja`, `Call`, `Exit`, `Cond`).
    pub const fn is_conditional(self) -> bool {
        !matches!(
            self,
            JumpOp::Ja | JumpOp::Call | JumpOp::Exit | JumpOp::Cond
        )
    }

    /// The comparison operator as the disassembly writes it.
    pub const fn operator(self) -> &'static str {
        match self {
            JumpOp::Eq => "==",
            JumpOp::Gt => ">",
            JumpOp::Ge => ">=",
            JumpOp::Set => "&",
            JumpOp::Ne => "!=",
            JumpOp::Sgt => "s>",
            JumpOp::Sge => "s>=",
            JumpOp::Lt => "<",
            JumpOp::Le => "<=",
            JumpOp::Slt => "s<",
            JumpOp::Sle => "s<=",
            JumpOp::Ja => "goto",
            JumpOp::Call => "call",
            JumpOp::Exit => "exit",
            JumpOp::Cond => "may_goto",
        }
    }

    fn build(
        self,
        class: Class,
        source: OpSource,
        dst: Register,
        src: Register,
        imm: i32,
        label: &str,
    ) -> Instruction {
        Instruction::new(
            OpCode::jump(class, self, source),
            dst,
            src,
            -1,
            i64::from(imm),
        )
        .with_reference(label)
    }

    /// `if dst op imm goto label` (64-bit compare).
    pub fn imm(self, dst: Register, imm: i32, label: impl AsRef<str>) -> Instruction {
        self.build(
            Class::Jmp,
            OpSource::Imm,
            dst,
            Register::R0,
            imm,
            label.as_ref(),
        )
    }

    /// `if wdst op imm goto label` (32-bit compare).
    pub fn imm32(self, dst: Register, imm: i32, label: impl AsRef<str>) -> Instruction {
        self.build(
            Class::Jmp32,
            OpSource::Imm,
            dst,
            Register::R0,
            imm,
            label.as_ref(),
        )
    }

    /// `if dst op src goto label` (64-bit compare).
    pub fn reg(self, dst: Register, src: Register, label: impl AsRef<str>) -> Instruction {
        self.build(Class::Jmp, OpSource::Reg, dst, src, 0, label.as_ref())
    }

    /// `if wdst op wsrc goto label` (32-bit compare).
    pub fn reg32(self, dst: Register, src: Register, label: impl AsRef<str>) -> Instruction {
        self.build(Class::Jmp32, OpSource::Reg, dst, src, 0, label.as_ref())
    }

    /// `if dst op imm goto +offset` with a raw offset in slots.
    pub const fn imm_offset(self, dst: Register, imm: i32, offset: i16) -> Instruction {
        Instruction::new(
            OpCode::jump(Class::Jmp, self, OpSource::Imm),
            dst,
            Register::R0,
            offset,
            imm as i64,
        )
    }

    /// `if dst op src goto +offset` with a raw offset in slots.
    pub const fn reg_offset(self, dst: Register, src: Register, offset: i16) -> Instruction {
        Instruction::new(
            OpCode::jump(Class::Jmp, self, OpSource::Reg),
            dst,
            src,
            offset,
            0,
        )
    }

    /// `goto label` (for `JumpOp::Ja`; other operations compare `r0` with 0).
    pub fn label(self, label: impl AsRef<str>) -> Instruction {
        self.imm(Register::R0, 0, label)
    }
}

/// `goto +offset` with a raw offset in slots.
pub const fn ja(offset: i16) -> Instruction {
    JumpOp::Ja.imm_offset(Register::R0, 0, offset)
}

/// `gotol label`: an unconditional jump with a 32-bit distance (ISA v4).
pub fn gotol(label: impl AsRef<str>) -> Instruction {
    Instruction::new(
        OpCode::jump(Class::Jmp32, JumpOp::Ja, OpSource::Imm),
        Register::R0,
        Register::R0,
        0,
        -1,
    )
    .with_reference(label.as_ref())
}

/// `gotol +offset` with a raw 32-bit offset in slots.
pub const fn gotol_offset(offset: i32) -> Instruction {
    Instruction::new(
        OpCode::jump(Class::Jmp32, JumpOp::Ja, OpSource::Imm),
        Register::R0,
        Register::R0,
        0,
        offset as i64,
    )
}

/// `may_goto label` (ISA v4 `BPF_JCOND`).
pub fn may_goto(label: impl AsRef<str>) -> Instruction {
    Instruction::new(
        OpCode::jump(Class::Jmp, JumpOp::Cond, OpSource::Imm),
        Register::R0,
        Register::R0,
        -1,
        0,
    )
    .with_reference(label.as_ref())
}

/// `may_goto +offset` with a raw offset in slots.
pub const fn may_goto_offset(offset: i16) -> Instruction {
    Instruction::new(
        OpCode::jump(Class::Jmp, JumpOp::Cond, OpSource::Imm),
        Register::R0,
        Register::R0,
        offset,
        0,
    )
}

/// `call helper`.
pub const fn call(helper: Helper) -> Instruction {
    call_helper_id(helper.id() as i32)
}

/// `call id`: a helper call by number.
pub const fn call_helper_id(id: i32) -> Instruction {
    Instruction::new(
        OpCode(0x85),
        Register::R0,
        PseudoCall::Helper.register(),
        0,
        id as i64,
    )
}

/// A BPF-to-BPF call to the function `callee`, resolved when marshalled.
pub fn call_func(callee: impl AsRef<str>) -> Instruction {
    Instruction::new(
        OpCode(0x85),
        Register::R0,
        PseudoCall::Call.register(),
        0,
        -1,
    )
    .with_reference(callee.as_ref())
}

/// A BPF-to-BPF call with a raw distance in slots.
pub const fn call_func_offset(offset: i32) -> Instruction {
    Instruction::new(
        OpCode(0x85),
        Register::R0,
        PseudoCall::Call.register(),
        0,
        offset as i64,
    )
}

/// A kfunc call by BTF id; `module` is the `fd_array` index of the module BTF (0 for vmlinux).
pub const fn call_kfunc(btf_id: i32, module: i16) -> Instruction {
    Instruction::new(
        OpCode(0x85),
        Register::R0,
        PseudoCall::Kfunc.register(),
        module,
        btf_id as i64,
    )
}

/// `callx reg`: an indirect call (LLVM encoding, the register is in `dst`).
pub const fn callx(reg: Register) -> Instruction {
    Instruction::new(OpCode(0x8d), reg, Register::R0, 0, 0)
}

/// `exit`.
pub const fn exit() -> Instruction {
    Instruction::new(OpCode(0x95), Register::R0, Register::R0, 0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_are_valid() {
        for i in [
            JumpOp::Eq.imm(Register::R0, 0, "x"),
            JumpOp::Ne.reg32(Register::R0, Register::R1, "x"),
            JumpOp::Ja.label("out"),
            ja(1),
            gotol("x"),
            gotol_offset(3),
            may_goto("x"),
            may_goto_offset(2),
            call_helper_id(1),
            call_func("f"),
            call_func_offset(2),
            call_kfunc(5, 1),
            callx(Register::R1),
            exit(),
            JumpOp::Sle.imm32(Register::R2, -1, "l"),
            JumpOp::Set.reg(Register::R1, Register::R2, "l"),
            JumpOp::Gt.reg_offset(Register::R1, Register::R2, 2),
        ] {
            assert_eq!(i.validate(), Ok(()), "{i:?}");
        }
        assert_eq!(JumpOp::Ja.label("out").reference(), Some("out"));
        assert!(JumpOp::Eq.is_conditional() && !JumpOp::Call.is_conditional());
        assert_eq!(JumpOp::from_bits(0xf5), None);
    }
}
