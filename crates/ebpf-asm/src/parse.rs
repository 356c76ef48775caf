//! The text assembler: reads the syntax [`Display`](std::fmt::Display) writes (the
//! `llvm-objdump -d` syntax for BPF) back into instructions.
//!
//! One instruction a line. Immediates are decimal or hex (`0x`), signed. Also accepted:
//! `label:` lines (the label becomes the next instruction's symbol), `goto label`,
//! `if r1 > 0 goto label`, `gotol label`, `may_goto label`, `call name` (a helper by its
//! C name, else a BPF-to-BPF call), comments after `;`, `//` or `#`, a leading slot offset
//! `12:` and a trailing `<annotation>` as `llvm-objdump` prints them, the `w`-register
//! spellings of loads, stores and atomics that `llvm-objdump --mattr=+alu32` prints, and the
//! raw form `raw(op=0xbf, dst=r0, src=r15, off=0x0, imm=0x0)` that `Display` writes for
//! encodings that are not valid instructions. Every other line must be a valid instruction
//! (registers `r0`-`r10`, reserved fields zero).
//! Jumps to labels defined in the text are resolved; other references are kept for
//! [`Instructions::marshal`](crate::Instructions::marshal) or the loader.
//!
//! ```
//! let prog = ebpf_asm::parse("start:\n  r0 = 0\n  if r1 == 0x0 goto out\n  r0 += 1\nout:\n  exit")?;
//! assert_eq!(prog[1].offset, 1);
//! assert_eq!(prog[3].symbol(), Some("out"));
//! # Ok::<(), ebpf_asm::Error>(())
//! ```

use crate::{
    AluOp, AtomicOp, ByteSwap, Class, Error, Helper, Instruction, Instructions, JumpOp, OpCode,
    OpSource, PseudoLoad, Register, Result, Size,
};

use cursor::{Cursor, P};

mod cursor;

fn imm32(v: i128) -> P<i32> {
    if (i128::from(i32::MIN)..=i128::from(u32::MAX)).contains(&v) {
        Ok(v as i64 as i32)
    } else {
        Err(format!("immediate {v} does not fit 32 bits"))
    }
}

fn imm64(v: i128) -> P<i64> {
    if (i128::from(i64::MIN)..=i128::from(u64::MAX)).contains(&v) {
        Ok(v as i64)
    } else {
        Err(format!("immediate {v} does not fit 64 bits"))
    }
}

enum Target {
    Offset(i128),
    Label(String),
}

fn target(c: &mut Cursor<'_>) -> P<Target> {
    if let Some(n) = c.num() {
        return Ok(Target::Offset(n));
    }
    c.ident()
        .map(|s| Target::Label(s.to_string()))
        .ok_or_else(|| "expected a jump target".to_string())
}

/// Sets the 16-bit offset or the reference of a jump.
fn with_target(mut ins: Instruction, t: Target) -> P<Instruction> {
    match t {
        Target::Offset(n) => {
            ins.offset = i16::try_from(n).map_err(|_| format!("jump offset {n} out of range"))?;
            Ok(ins)
        }
        Target::Label(l) => {
            ins.offset = -1;
            Ok(ins.with_reference(l))
        }
    }
}

fn alu_op(c: &mut Cursor<'_>) -> Option<(AluOp, bool)> {
    const OPS: [(&str, AluOp, bool); 13] = [
        ("s>>=", AluOp::Arsh, false),
        ("<<=", AluOp::Lsh, false),
        (">>=", AluOp::Rsh, false),
        ("s/=", AluOp::Div, true),
        ("s%=", AluOp::Mod, true),
        ("+=", AluOp::Add, false),
        ("-=", AluOp::Sub, false),
        ("*=", AluOp::Mul, false),
        ("/=", AluOp::Div, false),
        ("|=", AluOp::Or, false),
        ("&=", AluOp::And, false),
        ("%=", AluOp::Mod, false),
        ("^=", AluOp::Xor, false),
    ];
    OPS.iter()
        .find(|(t, _, _)| c.eat(t))
        .map(|&(_, op, s)| (op, s))
}

fn jump_op(c: &mut Cursor<'_>) -> Option<JumpOp> {
    const OPS: [(&str, JumpOp); 11] = [
        ("s>=", JumpOp::Sge),
        ("s<=", JumpOp::Sle),
        ("s>", JumpOp::Sgt),
        ("s<", JumpOp::Slt),
        ("==", JumpOp::Eq),
        ("!=", JumpOp::Ne),
        (">=", JumpOp::Ge),
        ("<=", JumpOp::Le),
        (">", JumpOp::Gt),
        ("<", JumpOp::Lt),
        ("&", JumpOp::Set),
    ];
    OPS.iter().find(|(t, _)| c.eat(t)).map(|&(_, op)| op)
}

fn check_width(want: bool, got: bool) -> P<()> {
    if want == got {
        Ok(())
    } else {
        Err("mixed 32-bit and 64-bit registers".to_string())
    }
}

/// `name=value` inside the raw form; `value` is what `read` returns.
fn raw_field<T>(
    c: &mut Cursor<'_>,
    name: &str,
    read: impl FnOnce(&mut Cursor<'_>) -> P<T>,
) -> P<T> {
    c.expect(name)?;
    c.expect("=")?;
    read(c)
}

/// The raw form `raw(op=0xbf, dst=r0, src=r15, off=0x0, imm=0x0)` after `raw`: any encoding,
/// not checked (register numbers up to 15).
fn raw_statement(c: &mut Cursor<'_>) -> P<Instruction> {
    let field_reg = |c: &mut Cursor<'_>| -> P<Register> {
        let id = c.ident().ok_or("expected a register")?;
        id.strip_prefix('r')
            .filter(|n| !(n.len() > 1 && n.starts_with('0')))
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|&n| n <= 15)
            .map(Register::from_bits)
            .ok_or_else(|| format!("bad register {id:?}"))
    };
    c.expect("(")?;
    let op = raw_field(c, "op", |c| {
        let n = c.expect_num()?;
        u8::try_from(n).map_err(|_| format!("opcode {n} does not fit 8 bits"))
    })?;
    c.expect(",")?;
    let dst = raw_field(c, "dst", field_reg)?;
    c.expect(",")?;
    let src = raw_field(c, "src", field_reg)?;
    c.expect(",")?;
    let off = raw_field(c, "off", |c| {
        let n = c.expect_num()?;
        i16::try_from(n).map_err(|_| format!("offset {n} does not fit 16 bits"))
    })?;
    c.expect(",")?;
    let op = OpCode(op);
    let imm = raw_field(c, "imm", |c| {
        let n = c.expect_num()?;
        if op.is_load_imm64() {
            imm64(n)
        } else {
            i32::try_from(n)
                .map(i64::from)
                .map_err(|_| format!("immediate {n} does not fit 32 bits"))
        }
    })?;
    c.expect(")")?;
    Ok(Instruction::new(op, dst, src, off, imm))
}

fn statement(c: &mut Cursor<'_>) -> P<Instruction> {
    if c.word("exit") {
        return Ok(crate::exit());
    }
    if c.word("goto") {
        return with_target(crate::ja(0), target(c)?);
    }
    if c.word("gotol") {
        return match target(c)? {
            Target::Offset(n) => Ok(crate::gotol_offset(
                i32::try_from(n).map_err(|_| format!("offset {n} out of range"))?,
            )),
            Target::Label(l) => Ok(crate::gotol(l)),
        };
    }
    if c.word("may_goto") {
        return with_target(crate::may_goto_offset(0), target(c)?);
    }
    if c.word("callx") {
        return Ok(crate::callx(c.expect_reg()?.0));
    }
    if c.word("call") {
        return call(c);
    }
    if c.word("if") {
        let (dst, wide) = c.expect_reg()?;
        let op = jump_op(c).ok_or("expected a comparison")?;
        let class = if wide { Class::Jmp } else { Class::Jmp32 };
        let ins = if let Some((src, w)) = c.reg() {
            check_width(wide, w)?;
            Instruction::new(OpCode::jump(class, op, OpSource::Reg), dst, src, 0, 0)
        } else {
            let imm = imm32(c.expect_num()?)?;
            Instruction::new(
                OpCode::jump(class, op, OpSource::Imm),
                dst,
                Register::R0,
                0,
                i64::from(imm),
            )
        };
        c.expect("goto")?;
        return with_target(ins, target(c)?);
    }
    if c.word("lock") {
        c.expect("*")?;
        let (_, size) = c.ptr_type()?;
        let (dst, off) = c.mem()?;
        let op = if c.eat("+=") {
            AtomicOp::Add
        } else if c.eat("|=") {
            AtomicOp::Or
        } else if c.eat("&=") {
            AtomicOp::And
        } else if c.eat("^=") {
            AtomicOp::Xor
        } else {
            return Err("expected an atomic operator".to_string());
        };
        let (src, _) = c.expect_reg()?;
        return Ok(op.mem(dst, src, off, size));
    }
    if c.word("store_release") {
        c.expect("(")?;
        let (_, size) = c.ptr_type()?;
        let (dst, off) = c.mem()?;
        c.expect(",")?;
        let (src, _) = c.expect_reg()?;
        c.expect(")")?;
        return Ok(crate::store_release(dst, off, src, size));
    }
    if c.word("ld_pseudo") {
        let (dst, _) = c.expect_reg()?;
        c.expect(",")?;
        let pseudo = c.expect_num()?;
        let pseudo = u8::try_from(pseudo)
            .ok()
            .and_then(PseudoLoad::from_u8)
            .ok_or(format!("bad pseudo source {pseudo}"))?;
        c.expect(",")?;
        let value = imm64(c.expect_num()?)?;
        return Ok(crate::load_imm64_pseudo(dst, pseudo, value));
    }
    if c.eat("*") {
        let (_, size) = c.ptr_type()?;
        let (dst, off) = c.mem()?;
        c.expect("=")?;
        if let Some((src, _)) = c.reg() {
            return Ok(crate::store_mem(dst, off, src, size));
        }
        return Ok(crate::store_imm(dst, off, imm32(c.expect_num()?)?, size));
    }
    let (dst, wide) = c.expect_reg()?;
    if let Some((op, signed)) = alu_op(c) {
        let class = if wide { Class::Alu64 } else { Class::Alu };
        let off = i16::from(signed);
        return Ok(if let Some((src, w)) = c.reg() {
            check_width(wide, w)?;
            Instruction::new(OpCode::alu(class, op, OpSource::Reg), dst, src, off, 0)
        } else {
            let imm = imm32(c.expect_num()?)?;
            Instruction::new(
                OpCode::alu(class, op, OpSource::Imm),
                dst,
                Register::R0,
                off,
                i64::from(imm),
            )
        });
    }
    c.expect("=")?;
    assignment(c, dst, wide)
}

fn call(c: &mut Cursor<'_>) -> P<Instruction> {
    if c.word("pc") {
        let n = c.expect_num()?;
        return Ok(crate::call_func_offset(
            i32::try_from(n).map_err(|_| format!("call offset {n} out of range"))?,
        ));
    }
    if c.word("kfunc") {
        let id = imm32(c.expect_num()?)?;
        let module = if c.eat(",") { c.expect_num()? } else { 0 };
        let module =
            i16::try_from(module).map_err(|_| format!("module index {module} out of range"))?;
        return Ok(crate::call_kfunc(id, module));
    }
    if let Some(n) = c.num() {
        return Ok(crate::call_helper_id(imm32(n)?));
    }
    let name = c.ident().ok_or("expected a call target")?;
    Ok(
        match Helper::from_name(name).filter(|_| name.starts_with("bpf_")) {
            Some(h) => crate::call(h),
            None => crate::call_func(name),
        },
    )
}

fn assignment(c: &mut Cursor<'_>, dst: Register, wide: bool) -> P<Instruction> {
    if c.eat("*") {
        let (signed, size) = c.ptr_type()?;
        if c.word("skb") {
            c.expect("[")?;
            let ins = if let Some((src, _)) = c.reg() {
                let off = if c.eat("+") {
                    c.expect_num()?
                } else if c.eat("-") {
                    -c.expect_num()?
                } else {
                    0
                };
                crate::load_ind(size, src, imm32(off)?)
            } else {
                crate::load_abs(size, imm32(c.expect_num()?)?)
            };
            c.expect("]")?;
            return Ok(ins);
        }
        let (src, off) = c.mem()?;
        return Ok(if signed {
            crate::load_mem_sx(dst, src, off, size)
        } else {
            crate::load_mem(dst, src, off, size)
        });
    }
    if c.eat("(") {
        let bits = match c.ident() {
            Some("s8") => 8,
            Some("s16") => 16,
            Some("s32") => 32,
            _ => return Err("expected s8, s16 or s32".to_string()),
        };
        c.expect(")")?;
        let (src, w) = c.expect_reg()?;
        check_width(wide, w)?;
        return Ok(if wide {
            crate::movsx64(dst, src, bits)
        } else {
            crate::movsx32(dst, src, bits)
        });
    }
    let save = c.pos;
    if c.eat("-") {
        if let Some((r, w)) = c.reg() {
            check_width(wide, w)?;
            if r != dst {
                return Err("neg needs the same register on both sides".to_string());
            }
            return Ok(if wide {
                crate::neg64(dst)
            } else {
                crate::neg32(dst)
            });
        }
        c.pos = save;
    }
    if let Some(id) = c.peek_ident().filter(|id| c.reg_name(id).is_none()) {
        c.ident();
        return named(c, id, dst, wide);
    }
    if let Some((src, w)) = c.reg() {
        check_width(wide, w)?;
        return Ok(if wide {
            crate::mov64_reg(dst, src)
        } else {
            crate::mov32_reg(dst, src)
        });
    }
    let n = c.expect_num()?;
    if c.word("ll") {
        return Ok(crate::load_imm64(dst, imm64(n)?));
    }
    let imm = imm32(n)?;
    Ok(if wide {
        crate::mov64(dst, imm)
    } else {
        crate::mov32(dst, imm)
    })
}

fn named(c: &mut Cursor<'_>, id: &str, dst: Register, wide: bool) -> P<Instruction> {
    for (prefix, swap) in [
        ("bswap", ByteSwap::Bswap),
        ("be", ByteSwap::ToBe),
        ("le", ByteSwap::ToLe),
    ] {
        if let Some(bits) = id.strip_prefix(prefix).and_then(|b| b.parse::<i32>().ok()) {
            let (r, _) = c.expect_reg()?;
            if r != dst {
                return Err("byte swap needs the same register on both sides".to_string());
            }
            return Ok(swap.build(dst, bits));
        }
    }
    if let Some(name) = id.strip_prefix("atomic_fetch_") {
        let op = match name {
            "add" => AtomicOp::FetchAdd,
            "or" => AtomicOp::FetchOr,
            "and" => AtomicOp::FetchAnd,
            "xor" => AtomicOp::FetchXor,
            _ => return Err(format!("unknown atomic {id:?}")),
        };
        c.expect("(")?;
        let (_, size) = c.ptr_type()?;
        let (base, off) = c.mem()?;
        c.expect(",")?;
        let (src, _) = c.expect_reg()?;
        c.expect(")")?;
        if src != dst {
            return Err("atomic fetch needs the same register on both sides".to_string());
        }
        return Ok(op.mem(base, src, off, size));
    }
    let size = if wide { Size::DW } else { Size::W };
    match id {
        "xchg_64" | "xchg32_32" => {
            c.expect("(")?;
            let (base, off) = c.base_offset()?;
            c.expect(",")?;
            let (src, _) = c.expect_reg()?;
            c.expect(")")?;
            if src != dst {
                return Err("xchg needs the same register on both sides".to_string());
            }
            Ok(AtomicOp::Xchg.mem(
                base,
                src,
                off,
                if id == "xchg_64" { Size::DW } else { Size::W },
            ))
        }
        "cmpxchg_64" | "cmpxchg32_32" => {
            c.expect("(")?;
            let (base, off) = c.base_offset()?;
            c.expect(",")?;
            let (r0, _) = c.expect_reg()?;
            c.expect(",")?;
            let (src, _) = c.expect_reg()?;
            c.expect(")")?;
            if r0 != Register::R0 || dst != Register::R0 {
                return Err("cmpxchg compares with r0".to_string());
            }
            Ok(AtomicOp::CmpXchg.mem(
                base,
                src,
                off,
                if id == "cmpxchg_64" {
                    Size::DW
                } else {
                    Size::W
                },
            ))
        }
        "load_acquire" => {
            c.expect("(")?;
            let (_, size) = c.ptr_type()?;
            let (base, off) = c.mem()?;
            c.expect(")")?;
            Ok(crate::load_acquire(dst, base, off, size))
        }
        "addr_space_cast" => {
            c.expect("(")?;
            let (src, _) = c.expect_reg()?;
            c.expect(",")?;
            let d = c.expect_num()?;
            c.expect(",")?;
            let s = c.expect_num()?;
            c.expect(")")?;
            let d = u16::try_from(d).map_err(|_| format!("address space {d} out of range"))?;
            let s = u16::try_from(s).map_err(|_| format!("address space {s} out of range"))?;
            Ok(crate::addr_space_cast(dst, src, d, s))
        }
        _ => {
            let _ = size;
            Err(format!("unknown operation {id:?}"))
        }
    }
}

/// Removes comments, a leading slot offset and a trailing `<annotation>`, which it returns.
fn clean(line: &str) -> (&str, Option<&str>) {
    let mut line = line;
    for marker in [";", "//", "#"] {
        if let Some(i) = line.find(marker) {
            line = line.get(..i).unwrap_or("");
        }
    }
    let mut line = line.trim();
    if let Some(i) = line.find(':') {
        let head = line.get(..i).unwrap_or("");
        if !head.is_empty() && head.bytes().all(|b| b.is_ascii_digit()) {
            line = line.get(i + 1..).unwrap_or("").trim();
        }
    }
    // Raw bytes after the offset, as `llvm-objdump` prints them without --no-show-raw-insn.
    if let Some((bytes, rest)) = line.split_once('\t') {
        let pairs: Vec<&str> = bytes.split(' ').collect();
        if (pairs.len() == 8 || pairs.len() == 16)
            && pairs
                .iter()
                .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            line = rest.trim();
        }
    }
    let mut annotation = None;
    if line.ends_with('>') {
        if let Some(i) = line.rfind(" <") {
            let inner = line.get(i + 2..line.len() - 1).unwrap_or("");
            if !inner.is_empty() && !inner.contains(char::is_whitespace) {
                line = line.get(..i).unwrap_or("").trim_end();
                annotation = Some(inner);
            }
        }
    }
    (line, annotation)
}

/// A label line: `name:`, or `0000000000000000 <name>:` as `llvm-objdump` prints it.
fn label(line: &str) -> Option<(&str, &str)> {
    let i = line.find(':')?;
    let (head, rest) = (line.get(..i)?.trim(), line.get(i + 1..)?.trim());
    if let Some((addr, name)) = head.split_once(' ') {
        let name = name.trim().strip_prefix('<')?.strip_suffix('>')?;
        if addr.bytes().all(|b| b.is_ascii_hexdigit()) && !name.is_empty() {
            return Some((name, rest));
        }
        return None;
    }
    // Any symbol name without whitespace or syntax characters (ELF symbols may hold `-`).
    let first = head.chars().next()?;
    if !first.is_ascii_digit()
        && head
            .chars()
            .all(|c| !c.is_whitespace() && !"<>()*=[],;+".contains(c))
    {
        Some((head, rest))
    } else {
        None
    }
}

/// Assembles `text`, one instruction a line, into instructions.
pub fn parse(text: &str) -> Result<Instructions> {
    let mut out = Instructions::new();
    let mut pending: Option<String> = None;
    let err = |line: usize, message: String, text: &str| Error::Parse {
        line,
        message,
        text: text.to_string(),
    };
    let mut annotations: Vec<Option<&str>> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let (mut line, annotation) = clean(raw);
        if line.is_empty()
            || line.starts_with("Disassembly of section")
            || line.ends_with("file format elf64-bpf")
        {
            continue;
        }
        if let Some((name, rest)) = label(line) {
            if let Some(prev) = pending.replace(name.to_string()) {
                return Err(err(
                    n + 1,
                    format!("two labels for one instruction: {prev:?} and {name:?}"),
                    raw,
                ));
            }
            line = rest;
            if line.is_empty() {
                continue;
            }
        }
        let mut c = Cursor { s: line, pos: 0 };
        let is_raw = c.word("raw");
        let mut ins = if is_raw {
            raw_statement(&mut c)
        } else {
            statement(&mut c)
        }
        .map_err(|m| err(n + 1, m, raw))?;
        if !c.at_end() {
            return Err(err(n + 1, format!("unexpected {:?}", c.rest()), raw));
        }
        if !is_raw {
            ins.validate()
                .map_err(|reason| err(n + 1, format!("invalid instruction: {reason}"), raw))?;
        }
        if let Some(name) = pending.take() {
            ins = ins.with_symbol(name);
        }
        out.push(ins);
        annotations.push(annotation);
    }
    // `goto +0x1 <out>` where `out` is a label here: keep the reference.
    let labels: std::collections::BTreeSet<String> = out
        .iter()
        .filter_map(|i| i.symbol().map(str::to_string))
        .collect();
    for (ins, annotation) in out.iter_mut().zip(annotations) {
        if let Some(name) = annotation.filter(|a| labels.contains(*a)) {
            let mut with = ins.clone().with_reference(name);
            if Instructions::resolvable(&with) {
                std::mem::swap(ins, &mut with);
            }
        }
    }
    if let Some(name) = pending {
        return Err(err(
            text.lines().count(),
            format!("label {name:?} labels no instruction"),
            "",
        ));
    }
    out.resolve_references()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basics() {
        let p = parse("r0 = 0\nexit").unwrap_or_default();
        assert_eq!(*p, vec![crate::mov64(Register::R0, 0), crate::exit()]);
        let p = parse("  12:\tr1 = *(u32 *)(r1 + 0x4)\n  goto +0x3 <LBB0_2>\n").unwrap_or_default();
        assert_eq!(
            p[0],
            crate::load_mem(Register::R1, Register::R1, 4, Size::W)
        );
        assert_eq!(p[1], crate::ja(3));
        let p = parse("0000000000000000 <prog>:\n w1 = *(u8 *)(r2 + 4) ; hi\n call bpf_map_lookup_elem\n call foo").unwrap_or_default();
        assert_eq!(p[0].symbol(), Some("prog"));
        assert_eq!(p[1], crate::call(Helper::MapLookupElem));
        assert_eq!(p[2].reference(), Some("foo"));
        let p = parse("raw(op=0xbf, dst=r0, src=r15, off=-0x1, imm=0x0)\nraw(op=0x18, dst=r1, src=r7, off=0x0, imm=-0x1)").unwrap_or_default();
        assert_eq!(
            *p,
            vec![
                Instruction::new(OpCode(0xbf), Register::R0, Register::R15, -1, 0),
                Instruction::new(OpCode::LOAD_IMM64, Register::R1, Register::R7, 0, -1),
            ]
        );
    }

    #[test]
    fn errors() {
        for bad in [
            "r11 = 0",
            "r1 = r2 r3",
            "w1 += r2",
            "r1 = 0x100000000",
            "goto",
            "a:\nb:\nexit",
            "a:",
            "<unknown>",
            "r1 = *(u128 *)(r1 + 0)",
            "if r1 ~ 0 goto +1",
            "r1 = bswap16 r2",
            "r1 = *(u8 *)(r1 + 0x8000)",
            "x:\nx:exit",
            "r1 = be17 r1",
            "w1 = (s32)w2",
            "lock *(u8 *)(r1 + 0) += r2",
            "raw(op=0x100, dst=r0, src=r0, off=0x0, imm=0x0)",
            "raw(op=0xbf, dst=r16, src=r0, off=0x0, imm=0x0)",
            "raw(op=0xbf, dst=r0, src=r0, off=0x8000, imm=0x0)",
            "raw(op=0xbf, dst=r0, src=r0, off=0x0, imm=0x100000000)",
            "raw(op=0xbf, dst=r0, src=r0, off=0x0)",
            "raw(op=0xbf, src=r0, dst=r0, off=0x0, imm=0x0)",
        ] {
            assert!(matches!(parse(bad), Err(Error::Parse { .. })), "{bad}");
        }
        assert!(matches!(
            parse("x: exit\nx: exit"),
            Err(Error::DuplicateSymbol { .. })
        ));
    }
}
