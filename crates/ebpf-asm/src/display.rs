//! Disassembly in the syntax of `llvm-objdump -d` for BPF.
//!
//! `{}` prints the instruction exactly as `llvm-objdump-19 -d` does (hex immediates, `r`
//! registers for loads and stores), except where LLVM 19 loses information, where a form
//! that the assembler reads back is used instead:
//!
//! | instruction | llvm-objdump-19 | here |
//! | --- | --- | --- |
//! | BPF-to-BPF call | `call -0x1` | `call pc-0x1` |
//! | kfunc call | `call 0x5` | `call kfunc 0x5` (`call kfunc 0x5, 0x1` with a module index) |
//! | 32-bit atomics but `lock +=` | lossy or `<unknown>` | `lock *(u32 *)(r1 + 0x10) &= r2`; fetch forms as `-mattr=+alu32` prints them, e.g. `w1 = xchg32_32(r10 - 0x8, w1)` |
//! | load-acquire, store-release | `<unknown>` | LLVM 21 syntax, `w1 = load_acquire((u8 *)(r2 + 0x0))` |
//! | `ld_imm64` pseudo with a high half | only the low half | `ld_pseudo\tr1, 0x2, 0x800000005` |
//! | `LD_IND` with an immediate | immediate dropped | `r0 = *(u32 *)skb[r1 + 0x4]` |
//!
//! An encoding that is not a valid instruction (an undefined opcode, a reserved field that is
//! not zero, a register number above 10; see [`Instruction::validate`]) is shown in a raw
//! form after the kernel's `BPF_RAW_INSN`, which [`crate::parse`] also reads:
//! `raw(op=0xbf, dst=r0, src=r15, off=0x0, imm=0x0)` where `llvm-objdump` prints `r0 = r15`
//! or `<unknown>`.
//!
//! `{:#}` adds ` <reference>` after instructions that carry one and ` <helper name>` after
//! helper calls. [`crate::Instructions`] prints one instruction a line with its slot offset;
//! its `{:#}` also prints `symbol:` lines and `; source` comments.

use std::fmt::{self, Write as _};

use crate::helpers::Helper;
use crate::kind::{Kind, Operand, validate};
use crate::{AluOp, AtomicOp, ByteSwap, Instruction, Instructions, PseudoCall, Register, Size};

/// A signed hex number as LLVM prints it: `0x1f`, `-0x1`.
pub(crate) fn hex(v: i64) -> String {
    if v < 0 {
        format!("-{:#x}", v.unsigned_abs())
    } else {
        format!("{v:#x}")
    }
}

/// A jump distance: `+0x3`, `-0x3`.
fn rel(v: i64) -> String {
    if v < 0 {
        format!("-{:#x}", v.unsigned_abs())
    } else {
        format!("+{v:#x}")
    }
}

fn mem(base: Register, off: i16) -> String {
    if off < 0 {
        format!("({base} - {:#x})", off.unsigned_abs())
    } else {
        format!("({base} + {off:#x})")
    }
}

fn reg(r: Register, wide: bool) -> String {
    if wide {
        format!("r{}", r.number())
    } else {
        format!("w{}", r.number())
    }
}

fn width(size: Size) -> usize {
    size.bytes() * 8
}

pub(crate) fn alu_operator(op: AluOp, signed: bool) -> &'static str {
    match (op, signed) {
        (AluOp::Add, _) => "+=",
        (AluOp::Sub, _) => "-=",
        (AluOp::Mul, _) => "*=",
        (AluOp::Div, false) => "/=",
        (AluOp::Div, true) => "s/=",
        (AluOp::Or, _) => "|=",
        (AluOp::And, _) => "&=",
        (AluOp::Lsh, _) => "<<=",
        (AluOp::Rsh, _) => ">>=",
        (AluOp::Mod, false) => "%=",
        (AluOp::Mod, true) => "s%=",
        (AluOp::Xor, _) => "^=",
        (AluOp::Arsh, _) => "s>>=",
        (AluOp::Mov | AluOp::Neg | AluOp::End, _) => "=",
    }
}

fn operand(o: Operand, wide: bool) -> String {
    match o {
        Operand::Reg(r) => reg(r, wide),
        Operand::Imm(i) => hex(i64::from(i)),
    }
}

fn atomic(ins: &Instruction, size: Size, op: AtomicOp) -> String {
    let wide = size == Size::DW;
    let bits = width(size);
    let (d, s, off) = (ins.dst, ins.src, ins.offset);
    let at = mem(d, off);
    match op {
        AtomicOp::Add | AtomicOp::Or | AtomicOp::And | AtomicOp::Xor => {
            let o = match op {
                AtomicOp::Add => "+=",
                AtomicOp::Or => "|=",
                AtomicOp::And => "&=",
                _ => "^=",
            };
            format!("lock *(u{bits} *){at} {o} {s}")
        }
        AtomicOp::FetchAdd | AtomicOp::FetchOr | AtomicOp::FetchAnd | AtomicOp::FetchXor => {
            let name = match op {
                AtomicOp::FetchAdd => "add",
                AtomicOp::FetchOr => "or",
                AtomicOp::FetchAnd => "and",
                _ => "xor",
            };
            let s = reg(s, wide);
            format!("{s} = atomic_fetch_{name}((u{bits} *){at}, {s})")
        }
        AtomicOp::Xchg => {
            let name = if wide { "xchg_64" } else { "xchg32_32" };
            let s = reg(s, wide);
            format!("{s} = {name}{}, {s})", &at[..at.len() - 1])
        }
        AtomicOp::CmpXchg => {
            let name = if wide { "cmpxchg_64" } else { "cmpxchg32_32" };
            let r0 = reg(Register::R0, wide);
            format!(
                "{r0} = {name}{}, {r0}, {})",
                &at[..at.len() - 1],
                reg(s, wide)
            )
        }
        AtomicOp::LoadAcquire => {
            format!(
                "{} = load_acquire((u{bits} *){})",
                reg(d, wide),
                mem(s, off)
            )
        }
        AtomicOp::StoreRelease => format!("store_release((u{bits} *){at}, {})", reg(s, wide)),
    }
}

/// The raw form of any encoding, after the kernel's `BPF_RAW_INSN(code, dst, src, off, imm)`:
/// `raw(op=0xbf, dst=r0, src=r15, off=0x0, imm=0x0)`; `imm` is the 64-bit constant of an
/// `ld_imm64`.
pub(crate) fn raw(ins: &Instruction) -> String {
    format!(
        "raw(op={:#04x}, dst={}, src={}, off={}, imm={})",
        ins.op.raw(),
        ins.dst,
        ins.src,
        hex(i64::from(ins.offset)),
        hex(ins.constant)
    )
}

/// The canonical text of `ins`, or `None` if it is not a valid instruction.
pub(crate) fn render(ins: &Instruction) -> Option<String> {
    let kind = validate(ins).ok()?;
    let (d, s) = (ins.dst, ins.src);
    Some(match kind {
        Kind::Alu {
            wide,
            op,
            signed,
            operand: o,
        } => {
            format!(
                "{} {} {}",
                reg(d, wide),
                alu_operator(op, signed),
                operand(o, wide)
            )
        }
        Kind::MovSx { wide, bits } => format!("{} = (s{bits}){}", reg(d, wide), reg(s, wide)),
        Kind::AddrSpaceCast { dst_as, src_as } => {
            format!(
                "{d} = addr_space_cast({s}, {}, {})",
                hex(i64::from(dst_as)),
                hex(i64::from(src_as))
            )
        }
        Kind::Neg { wide } => format!("{} = -{}", reg(d, wide), reg(d, wide)),
        Kind::Endian { swap, bits } => {
            let name = match swap {
                ByteSwap::ToLe => "le",
                ByteSwap::ToBe => "be",
                ByteSwap::Bswap => "bswap",
            };
            format!("{d} = {name}{bits} {d}")
        }
        Kind::LoadImm64 { pseudo: 0 } => format!("{d} = {} ll", hex(ins.constant)),
        Kind::LoadImm64 { pseudo } => {
            format!(
                "ld_pseudo\t{d}, {}, {:#x}",
                hex(i64::from(pseudo)),
                ins.constant as u64
            )
        }
        Kind::LoadAbs { size } => format!("r0 = *(u{} *)skb[{}]", width(size), hex(ins.constant)),
        Kind::LoadInd { size } => match ins.constant {
            0 => format!("r0 = *(u{} *)skb[{s}]", width(size)),
            c if c < 0 => format!(
                "r0 = *(u{} *)skb[{s} - {:#x}]",
                width(size),
                c.unsigned_abs()
            ),
            c => format!("r0 = *(u{} *)skb[{s} + {c:#x}]", width(size)),
        },
        Kind::Load { size, signed } => {
            format!(
                "{d} = *({}{} *){}",
                if signed { "s" } else { "u" },
                width(size),
                mem(s, ins.offset)
            )
        }
        Kind::StoreImm { size } => format!(
            "*(u{} *){} = {}",
            width(size),
            mem(d, ins.offset),
            hex(ins.constant)
        ),
        Kind::Store { size } => format!("*(u{} *){} = {s}", width(size), mem(d, ins.offset)),
        Kind::Atomic { size, op } => atomic(ins, size, op),
        Kind::Ja => format!("goto {}", rel(i64::from(ins.offset))),
        Kind::Gotol => format!("gotol {}", rel(ins.constant)),
        Kind::MayGoto => format!("may_goto {}", rel(i64::from(ins.offset))),
        Kind::CondJump {
            wide,
            op,
            operand: o,
        } => format!(
            "if {} {} {} goto {}",
            reg(d, wide),
            op.operator(),
            operand(o, wide),
            rel(i64::from(ins.offset))
        ),
        Kind::Call(PseudoCall::Helper) => format!("call {}", hex(ins.constant)),
        Kind::Call(PseudoCall::Call) => format!("call pc{}", rel(ins.constant)),
        Kind::Call(PseudoCall::Kfunc) if ins.offset == 0 => {
            format!("call kfunc {}", hex(ins.constant))
        }
        Kind::Call(PseudoCall::Kfunc) => {
            format!(
                "call kfunc {}, {}",
                hex(ins.constant),
                hex(i64::from(ins.offset))
            )
        }
        Kind::Callx => format!("callx {d}"),
        Kind::Exit => "exit".to_string(),
    })
}

impl fmt::Display for Instruction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match render(self) {
            Some(text) => f.write_str(&text)?,
            None => f.write_str(&raw(self))?,
        }
        if f.alternate() {
            if let Some(r) = self.reference() {
                write!(f, " <{r}>")?;
            } else if self.pseudo_call() == Some(PseudoCall::Helper) {
                if let Some(h) = u32::try_from(self.constant).ok().and_then(Helper::from_id) {
                    write!(f, " <{}>", h.name())?;
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for Instructions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let options = Disassembly {
            insns: self,
            annotated: f.alternate(),
            raw_bytes: None,
        };
        fmt::Display::fmt(&options, f)
    }
}

/// A configurable listing of [`Instructions`], for tools such as `ebpf-tool disasm`.
///
/// ```
/// use ebpf_asm::{Endianness, Instructions, Register::R0, exit, mov64};
///
/// let prog = Instructions::from(vec![mov64(R0, 0).with_symbol("main"), exit()]);
/// let text = prog.disassembly().annotated(true).raw_bytes(Some(Endianness::Little)).to_string();
/// assert_eq!(text, "main:\n       0:\tb7 00 00 00 00 00 00 00\tr0 = 0x0\n       1:\t95 00 00 00 00 00 00 00\texit\n");
/// assert_eq!(ebpf_asm::parse(&text)?, prog);
/// # Ok::<(), ebpf_asm::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Disassembly<'a> {
    insns: &'a Instructions,
    annotated: bool,
    raw_bytes: Option<crate::Endianness>,
}

impl Disassembly<'_> {
    /// Adds `symbol:` lines, `; source` comments and `<reference>` annotations (like `{:#}`).
    #[must_use]
    pub fn annotated(mut self, on: bool) -> Self {
        self.annotated = on;
        self
    }

    /// Shows each instruction's bytes in byte order `order`, as `llvm-objdump` does.
    #[must_use]
    pub fn raw_bytes(mut self, order: Option<crate::Endianness>) -> Self {
        self.raw_bytes = order;
        self
    }
}

impl Instructions {
    /// A listing of these instructions; see [`Disassembly`].
    pub fn disassembly(&self) -> Disassembly<'_> {
        Disassembly {
            insns: self,
            annotated: false,
            raw_bytes: None,
        }
    }
}

impl fmt::Display for Disassembly<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Show jumps and calls to labels with their resolved distances.
        let mut resolved = None;
        if self.insns.iter().any(Instructions::resolvable) {
            let mut copy = self.insns.clone();
            if copy.resolve_references().is_ok() {
                resolved = Some(copy);
            }
        }
        for (offset, ins) in resolved.as_ref().unwrap_or(self.insns).iter_offsets() {
            if self.annotated {
                if let Some(sym) = ins.symbol() {
                    if offset != 0 {
                        f.write_char('\n')?;
                    }
                    writeln!(f, "{sym}:")?;
                }
                if let Some(src) = ins.source() {
                    writeln!(f, "; {src}")?;
                }
            }
            write!(f, "{offset:>8}:\t")?;
            if let Some(order) = self.raw_bytes {
                match ins.encode(order) {
                    Ok(bytes) => {
                        let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
                        write!(f, "{}\t", hex.join(" "))?;
                    }
                    Err(_) => f.write_str("??\t")?,
                }
            }
            if self.annotated {
                writeln!(f, "{ins:#}")?;
            } else {
                writeln!(f, "{ins}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::*;

    #[test]
    fn examples() {
        use Register::*;
        let cases: Vec<(Instruction, &str)> = vec![
            (load_mem(R1, R1, 4, Size::W), "r1 = *(u32 *)(r1 + 0x4)"),
            (JumpOp::Eq.imm_offset(R0, 0, 3), "if r0 == 0x0 goto +0x3"),
            (call(Helper::MapLookupElem), "call 0x1"),
            (load_imm64(R0, 0), "r0 = 0x0 ll"),
            (AluOp::Add.reg32(R1, R2), "w1 += w2"),
            (
                AtomicOp::Add.mem(R10, R1, -8, Size::DW),
                "lock *(u64 *)(r10 - 0x8) += r1",
            ),
            (ByteSwap::ToBe.build(R1, 16), "r1 = be16 r1"),
            (ByteSwap::Bswap.build(R1, 64), "r1 = bswap64 r1"),
            (movsx64(R1, R2, 8), "r1 = (s8)r2"),
            (load_mem_sx(R1, R2, 4, Size::W), "r1 = *(s32 *)(r2 + 0x4)"),
            (may_goto_offset(1), "may_goto +0x1"),
            (gotol_offset(16), "gotol +0x10"),
            (exit(), "exit"),
            (mov64(R1, -1), "r1 = -0x1"),
            (
                AtomicOp::CmpXchg.mem(R10, R1, -8, Size::W),
                "w0 = cmpxchg32_32(r10 - 0x8, w0, w1)",
            ),
            (
                load_acquire(R1, R2, 0, Size::B),
                "w1 = load_acquire((u8 *)(r2 + 0x0))",
            ),
            (
                store_release(R1, 0, R2, Size::DW),
                "store_release((u64 *)(r1 + 0x0), r2)",
            ),
            (call_func_offset(-1), "call pc-0x1"),
        ];
        for (ins, want) in cases {
            assert_eq!(ins.to_string(), want);
        }
        assert_eq!(
            format!("{:#}", call(Helper::MapLookupElem)),
            "call 0x1 <bpf_map_lookup_elem>"
        );
        assert_eq!(format!("{:#}", JumpOp::Ja.label("out")), "goto -0x1 <out>");
        assert_eq!(
            Instruction::new(OpCode(0xff), R0, R0, 0, 0).to_string(),
            "raw(op=0xff, dst=r0, src=r0, off=0x0, imm=0x0)"
        );
        assert_eq!(
            Instruction::new(OpCode(0xbf), R0, R15, -1, 0).to_string(),
            "raw(op=0xbf, dst=r0, src=r15, off=-0x1, imm=0x0)"
        );
        assert_eq!(
            Instruction::new(OpCode::LOAD_IMM64, R1, R7, 0, 1 << 40).to_string(),
            "raw(op=0x18, dst=r1, src=r7, off=0x0, imm=0x10000000000)"
        );
        assert_eq!(hex(i64::MIN), "-0x8000000000000000");
        let prog = Instructions::from(vec![
            mov64(R0, 0).with_symbol("main"),
            JumpOp::Eq
                .imm(R1, 0, "out")
                .with_source(Source::text("if (!x)")),
            call(Helper::KtimeGetNs),
            exit().with_symbol("out"),
        ]);
        let want = "main:\n       0:\tr0 = 0x0\n; if (!x)\n       1:\tif r1 == 0x0 goto +0x1 <out>\n       \
                    2:\tcall 0x5 <bpf_ktime_get_ns>\n\nout:\n       3:\texit\n";
        assert_eq!(format!("{prog:#}"), want);
        let mut resolved = prog.clone();
        assert!(resolved.resolve_references().is_ok());
        let back = crate::parse(&format!("{prog:#}")).unwrap_or_default();
        assert_eq!(back, resolved);
        assert_eq!(back[1].reference(), Some("out"));
        assert_eq!(crate::parse(&prog.to_string()).ok(), Some(resolved));
    }
}
