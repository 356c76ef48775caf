//! USDT argument strings: `SIZE@LOCATION` each, in the assembler syntax of
//! the binary's architecture, turned into where `usdt.bpf.h` finds the value.
//!
//! | kind | x86-64 | arm64 |
//! |---|---|---|
//! | constant | `-4@$-9` | `-4@-9` |
//! | register | `8@%rdx`, `-2@%cx` | `-8@x4`, `4@w1` |
//! | memory at register + offset | `-4@-1204(%rbp)`, `8@(%rsp)` | `-4@[sp, 96]`, `8@[x2]` |
//! | memory at base + index × scale + offset | `-1@-96(%rbp,%rax,8)` | — |
//!
//! A negative size is a signed argument; sizes are 1, 2, 4 or 8 bytes.
//! Registers are named by their offset in the `struct pt_regs` the program
//! gets (x86-64: `r15` at 0 ... `ss` at 160; arm64: `regs[0..31]`, `sp`, `pc`).

use std::fmt;

/// The architecture of a binary's USDT argument strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UsdtArch {
    /// x86-64 (AT&T syntax).
    X86_64,
    /// arm64.
    Aarch64,
    /// Any other `e_machine`: the probes are listed, their arguments not parsed.
    Other(u16),
}

impl UsdtArch {
    /// The architecture of ELF machine `e_machine`.
    pub fn from_machine(e_machine: u16) -> UsdtArch {
        match e_machine {
            goblin::elf::header::EM_X86_64 => UsdtArch::X86_64,
            goblin::elf::header::EM_AARCH64 => UsdtArch::Aarch64,
            m => UsdtArch::Other(m),
        }
    }

    /// The architecture this program runs on, if its arguments can be parsed.
    pub fn host() -> Option<UsdtArch> {
        if cfg!(target_arch = "x86_64") {
            Some(UsdtArch::X86_64)
        } else if cfg!(target_arch = "aarch64") {
            Some(UsdtArch::Aarch64)
        } else {
            None
        }
    }
}

impl fmt::Display for UsdtArch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsdtArch::X86_64 => f.write_str("x86-64"),
            UsdtArch::Aarch64 => f.write_str("arm64"),
            UsdtArch::Other(m) => write!(f, "ELF machine {m}"),
        }
    }
}

/// A register, by name and offset in `struct pt_regs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsdtRegister {
    /// The name as written (`rdi`, `ax`, `x4`, `sp`).
    pub name: String,
    /// The offset of its full register in `struct pt_regs`.
    pub pt_regs_offset: u16,
}

/// Where a USDT argument's value is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UsdtArgLocation {
    /// A constant.
    Constant(i64),
    /// In a register.
    Register(UsdtRegister),
    /// In memory, at a register's value plus an offset.
    Memory {
        /// The register holding the address.
        base: UsdtRegister,
        /// The offset added to it.
        offset: i64,
    },
    /// In memory, at base + index × scale + offset (x86-64 SIB; needs
    /// `usdt.bpf.h` from libbpf 1.7 or later to be read).
    Indexed {
        /// The base register.
        base: UsdtRegister,
        /// The index register.
        index: UsdtRegister,
        /// 1, 2, 4 or 8.
        scale: u8,
        /// The offset.
        offset: i64,
    },
}

/// One argument of a USDT call site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsdtArg {
    /// Its size in bytes: 1, 2, 4 or 8.
    pub size: u8,
    /// Whether it is signed (sign-extended to 64 bits when read).
    pub signed: bool,
    /// Where it is.
    pub location: UsdtArgLocation,
}

impl fmt::Display for UsdtArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}",
            if self.signed { 's' } else { 'u' },
            self.size * 8
        )?;
        match &self.location {
            UsdtArgLocation::Constant(c) => write!(f, " = {c}"),
            UsdtArgLocation::Register(r) => write!(f, " in {}", r.name),
            UsdtArgLocation::Memory { base, offset } => {
                write!(f, " at [{}{offset:+}]", base.name)
            }
            UsdtArgLocation::Indexed {
                base,
                index,
                scale,
                offset,
            } => write!(f, " at [{} + {}*{scale}{offset:+}]", base.name, index.name),
        }
    }
}

/// At most this many arguments (`BPF_USDT_MAX_ARG_CNT`).
pub const MAX_ARGS: usize = 12;

/// Parses argument string `s` of architecture `arch`.
pub(crate) fn parse_args(arch: UsdtArch, s: &str) -> Result<Vec<UsdtArg>, String> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while !rest.is_empty() {
        let (one, tail) = split_arg(rest);
        if out.len() == MAX_ARGS {
            return Err(format!("more than {MAX_ARGS} arguments"));
        }
        let arg =
            parse_arg(arch, one).map_err(|e| format!("argument {} '{one}': {e}", out.len()))?;
        out.push(arg);
        rest = tail.trim_start();
    }
    Ok(out)
}

/// Splits the first argument off `s`: up to white space outside brackets.
fn split_arg(s: &str) -> (&str, &str) {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            c if c.is_whitespace() && depth <= 0 => return (&s[..i], &s[i..]),
            _ => {}
        }
    }
    (s, "")
}

/// A decimal or `0x` hexadecimal integer, optionally negative.
fn number(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16).ok()? as i64,
        None if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            digits.parse::<u64>().ok()? as i64
        }
        None => return None,
    };
    Some(if neg { v.wrapping_neg() } else { v })
}

fn parse_arg(arch: UsdtArch, s: &str) -> Result<UsdtArg, String> {
    let (size, loc) = s.split_once('@').ok_or("no '@'")?;
    let size = size.trim();
    if size.ends_with('f') {
        return Err("floating-point arguments are not supported".into());
    }
    let size: i32 = size.parse().map_err(|_| format!("bad size '{size}'"))?;
    if !matches!(size.unsigned_abs(), 1 | 2 | 4 | 8) {
        return Err(format!("size {size} is not 1, 2, 4 or 8 bytes"));
    }
    let location = match arch {
        UsdtArch::X86_64 => x86::location(loc.trim())?,
        UsdtArch::Aarch64 => arm64::location(loc.trim())?,
        UsdtArch::Other(_) => {
            return Err(format!("arguments of {arch} binaries are not supported"));
        }
    };
    Ok(UsdtArg {
        size: size.unsigned_abs() as u8,
        signed: size < 0,
        location,
    })
}

mod x86 {
    use super::{UsdtArgLocation, UsdtRegister, number};

    /// Every name of each register (64, 32, 16, 8 bits) and its offset in
    /// the x86-64 `struct pt_regs`.
    const REGISTERS: [([&str; 4], u16); 17] = [
        (["rip", "eip", "", ""], 128),
        (["rax", "eax", "ax", "al"], 80),
        (["rbx", "ebx", "bx", "bl"], 40),
        (["rcx", "ecx", "cx", "cl"], 88),
        (["rdx", "edx", "dx", "dl"], 96),
        (["rsi", "esi", "si", "sil"], 104),
        (["rdi", "edi", "di", "dil"], 112),
        (["rbp", "ebp", "bp", "bpl"], 32),
        (["rsp", "esp", "sp", "spl"], 152),
        (["r8", "r8d", "r8w", "r8b"], 72),
        (["r9", "r9d", "r9w", "r9b"], 64),
        (["r10", "r10d", "r10w", "r10b"], 56),
        (["r11", "r11d", "r11w", "r11b"], 48),
        (["r12", "r12d", "r12w", "r12b"], 24),
        (["r13", "r13d", "r13w", "r13b"], 16),
        (["r14", "r14d", "r14w", "r14b"], 8),
        (["r15", "r15d", "r15w", "r15b"], 0),
    ];

    fn register(s: &str) -> Result<UsdtRegister, String> {
        let name = s
            .trim()
            .strip_prefix('%')
            .ok_or_else(|| format!("'{s}' is not a register"))?;
        REGISTERS
            .iter()
            .find(|(names, _)| !name.is_empty() && names.contains(&name))
            .map(|&(_, off)| UsdtRegister {
                name: name.to_owned(),
                pt_regs_offset: off,
            })
            .ok_or_else(|| format!("unknown register '%{name}'"))
    }

    pub(super) fn location(s: &str) -> Result<UsdtArgLocation, String> {
        if let Some(c) = s.strip_prefix('$') {
            return number(c)
                .map(UsdtArgLocation::Constant)
                .ok_or_else(|| format!("bad constant '{c}'"));
        }
        if s.starts_with('%') {
            return register(s).map(UsdtArgLocation::Register);
        }
        // [OFFSET](%BASE[,%INDEX[,SCALE]])
        let open = s
            .find('(')
            .ok_or("neither a constant, a register nor memory")?;
        let inner = s[open + 1..].strip_suffix(')').ok_or("no ')' at the end")?;
        let offset = match s[..open].trim() {
            "" => 0,
            o => number(o).ok_or_else(|| format!("offset '{o}' is not a number"))?,
        };
        let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
        match parts.as_slice() {
            [base] => Ok(UsdtArgLocation::Memory {
                base: register(base)?,
                offset,
            }),
            [base, index, scale @ ..] if scale.len() <= 1 => {
                let scale = match scale.first() {
                    None => 1,
                    Some(s) => match s.parse::<u8>() {
                        Ok(v @ (1 | 2 | 4 | 8)) => v,
                        _ => return Err(format!("scale '{s}' is not 1, 2, 4 or 8")),
                    },
                };
                Ok(UsdtArgLocation::Indexed {
                    base: register(base)?,
                    index: register(index)?,
                    scale,
                    offset,
                })
            }
            _ => Err(format!("bad memory operand '({inner})'")),
        }
    }
}

mod arm64 {
    use super::{UsdtArgLocation, UsdtRegister, number};

    /// `x0`-`x30` (or their `w` halves), `sp`: offsets in `struct user_pt_regs`.
    fn register(s: &str) -> Result<UsdtRegister, String> {
        let name = s.trim();
        let off = match name {
            "sp" => Some(31 * 8),
            _ => name
                .strip_prefix('x')
                .or_else(|| name.strip_prefix('w'))
                .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|n| n.parse::<u16>().ok())
                .filter(|&n| n < 31)
                .map(|n| n * 8),
        };
        off.map(|pt_regs_offset| UsdtRegister {
            name: name.to_owned(),
            pt_regs_offset,
        })
        .ok_or_else(|| format!("unknown register '{name}'"))
    }

    pub(super) fn location(s: &str) -> Result<UsdtArgLocation, String> {
        if let Some(inner) = s.strip_prefix('[') {
            // [REG] or [REG, OFFSET] (the offset may be written #OFFSET)
            let inner = inner.strip_suffix(']').ok_or("no ']' at the end")?;
            let (base, offset) = match inner.split_once(',') {
                Some((b, o)) => {
                    let o = o.trim();
                    let o = o.strip_prefix('#').unwrap_or(o);
                    (
                        b,
                        number(o).ok_or_else(|| format!("offset '{o}' is not a number"))?,
                    )
                }
                None => (inner, 0),
            };
            return Ok(UsdtArgLocation::Memory {
                base: register(base)?,
                offset,
            });
        }
        let c = s.strip_prefix('#').unwrap_or(s);
        if let Some(c) = number(c) {
            return Ok(UsdtArgLocation::Constant(c));
        }
        register(s).map(UsdtArgLocation::Register)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(name: &str, pt_regs_offset: u16) -> UsdtRegister {
        UsdtRegister {
            name: name.into(),
            pt_regs_offset,
        }
    }

    #[test]
    fn x86_arguments() {
        // libbpf's own example (usdt.c), all twelve.
        let args = parse_args(
            UsdtArch::X86_64,
            "-4@-1204(%rbp) -4@%edi -8@-1216(%rbp) -8@%r8 -4@$5 -8@%r9 8@%rdx 8@%r10 -4@$-9 -2@%cx -2@%ax -1@%sil",
        )
        .unwrap();
        assert_eq!(args.len(), 12);
        assert_eq!(
            args[0],
            UsdtArg {
                size: 4,
                signed: true,
                location: UsdtArgLocation::Memory {
                    base: reg("rbp", 32),
                    offset: -1204
                }
            }
        );
        assert_eq!(args[1].location, UsdtArgLocation::Register(reg("edi", 112)));
        assert_eq!(args[4].location, UsdtArgLocation::Constant(5));
        assert_eq!(args[8].location, UsdtArgLocation::Constant(-9));
        assert_eq!((args[6].size, args[6].signed), (8, false));
        assert_eq!(
            args[11].location,
            UsdtArgLocation::Register(reg("sil", 104))
        );
        assert_eq!(args[0].to_string(), "s32 at [rbp-1204]");
        assert_eq!(args[9].to_string(), "s16 in cx");
    }

    #[test]
    fn x86_memory_forms() {
        let one = |s: &str| parse_args(UsdtArch::X86_64, s).map(|mut v| v.remove(0));
        assert_eq!(
            one("8@(%rsp)").unwrap().location,
            UsdtArgLocation::Memory {
                base: reg("rsp", 152),
                offset: 0
            }
        );
        assert_eq!(
            one("-1@-96(%rbp,%rax,8)").unwrap().location,
            UsdtArgLocation::Indexed {
                base: reg("rbp", 32),
                index: reg("rax", 80),
                scale: 8,
                offset: -96
            }
        );
        assert_eq!(
            one("1@(%rbp,%rax)").unwrap().location,
            UsdtArgLocation::Indexed {
                base: reg("rbp", 32),
                index: reg("rax", 80),
                scale: 1,
                offset: 0
            }
        );
        assert!(one("4@(%rbp,%rax,3)").is_err());
        assert!(one("4@%ah").unwrap_err().contains("unknown register '%ah'"));
        assert!(one("8@sym(%rip)").unwrap_err().contains("offset 'sym'"));
        assert!(one("8f@%xmm0").unwrap_err().contains("floating-point"));
        assert!(one("3@%rax").unwrap_err().contains("size 3"));
        assert!(one("4%rax").unwrap_err().contains("no '@'"));
        let thirteen = "4@$1 ".repeat(13);
        assert!(
            parse_args(UsdtArch::X86_64, &thirteen)
                .unwrap_err()
                .contains("more than 12")
        );
        assert_eq!(parse_args(UsdtArch::X86_64, "  ").unwrap(), []);
    }

    #[test]
    fn arm64_arguments() {
        let args = parse_args(
            UsdtArch::Aarch64,
            "-4@[sp, 96] -8@x4 4@5 -2@[x2] 4@w1 -4@[x29, #-12] 8@-3",
        )
        .unwrap();
        assert_eq!(
            args[0].location,
            UsdtArgLocation::Memory {
                base: reg("sp", 248),
                offset: 96
            }
        );
        assert_eq!(args[1].location, UsdtArgLocation::Register(reg("x4", 32)));
        assert_eq!(args[2].location, UsdtArgLocation::Constant(5));
        assert_eq!(
            args[3].location,
            UsdtArgLocation::Memory {
                base: reg("x2", 16),
                offset: 0
            }
        );
        assert_eq!(args[4].location, UsdtArgLocation::Register(reg("w1", 8)));
        assert_eq!(
            args[5].location,
            UsdtArgLocation::Memory {
                base: reg("x29", 232),
                offset: -12
            }
        );
        assert_eq!(args[6].location, UsdtArgLocation::Constant(-3));
        assert!(parse_args(UsdtArch::Aarch64, "8@x31").is_err());
        assert!(parse_args(UsdtArch::Other(3), "8@x1").is_err());
    }
}
